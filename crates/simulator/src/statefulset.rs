//! The StatefulSet controller: Pods `<name>-0..N-1` (created in order under `OrderedReady`, all at
//! once under `Parallel`; scaling down removes the highest ordinals), labelled with
//! `controller-revision-hash`, `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`;
//! a new template rolls out from the highest ordinal down, one Pod at a time once all are ready,
//! respecting `partition`; status with the revisions and counts `kubectl rollout status` reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use crate::{Ctx, Error, names, util, workload};

pub const MANAGER: &str = "marketplace-statefulset-controller";
pub const REVISION_LABEL: &str = "controller-revision-hash";

fn ordinal(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

fn pod_revision(p: &Pod) -> Option<&str> {
    p.labels().get(REVISION_LABEL).map(String::as_str)
}

/// What the StatefulSet needs done next.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub create: Vec<i32>,
    pub delete: Vec<i32>,
}

/// Pure planning over (ordinal, revision, ready) of the existing active Pods.
pub fn plan(
    replicas: i32,
    parallel: bool,
    partition: i32,
    update_revision: &str,
    pods: &[(i32, String, bool)],
) -> Plan {
    let mut delete: Vec<i32> = pods
        .iter()
        .filter(|p| p.0 >= replicas)
        .map(|p| p.0)
        .collect();
    let mut create = Vec::new();
    for i in 0..replicas {
        if pods.iter().any(|p| p.0 == i) {
            continue;
        }
        let earlier_ready = pods.iter().filter(|p| p.0 < i && p.2).count() as i32 == i;
        if parallel || earlier_ready {
            create.push(i);
        }
        if !parallel {
            break;
        }
    }
    let complete = create.is_empty() && (0..replicas).all(|i| pods.iter().any(|p| p.0 == i && p.2));
    if complete && delete.is_empty() {
        let outdated = pods
            .iter()
            .filter(|p| p.0 >= partition && p.0 < replicas && p.1 != update_revision)
            .map(|p| p.0)
            .max();
        delete.extend(outdated);
    }
    Plan { create, delete }
}

pub async fn reconcile(sts: Arc<StatefulSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if sts.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        sts.namespace().unwrap_or_default(),
        sts.name_any(),
        sts.uid().unwrap_or_default(),
    );
    let spec = sts.spec.clone();
    let replicas = spec.replicas.unwrap_or(1);
    let update_revision = format!(
        "{name}-{}",
        names::revision_hash(&serde_json::to_value(&spec.template).unwrap_or_default())
    );
    let on_delete = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        == Some("OnDelete");
    let partition = spec
        .update_strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let pods: Vec<Arc<Pod>> = ctx
        .pods_of(&ns, &uid)
        .into_iter()
        .filter(|p| util::pod_active(p))
        .collect();
    let observed: Vec<(i32, String, bool)> = pods
        .iter()
        .filter_map(|p| {
            Some((
                ordinal(&name, &p.name_any())?,
                pod_revision(p).unwrap_or("").to_string(),
                util::pod_ready(p),
            ))
        })
        .collect();
    let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
    let plan = plan(
        replicas,
        parallel,
        if on_delete { i32::MAX } else { partition },
        &update_revision,
        &observed,
    );
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    for i in &plan.delete {
        workload::delete_pod(&ctx, &api, &format!("{name}-{i}"), sts.as_ref()).await?;
    }
    let owner = util::controller_ref(sts.as_ref());
    for i in &plan.create {
        let pod_name = format!("{name}-{i}");
        let labels = BTreeMap::from([
            (REVISION_LABEL.to_string(), update_revision.clone()),
            (
                "statefulset.kubernetes.io/pod-name".to_string(),
                pod_name.clone(),
            ),
            ("apps.kubernetes.io/pod-index".to_string(), i.to_string()),
        ]);
        let mut body = workload::pod_from_template(
            &ctx,
            &spec.template,
            &pod_name,
            owner.clone(),
            &labels,
            None,
        );
        body["spec"]["hostname"] = json!(pod_name);
        if !spec.service_name.clone().unwrap_or_default().is_empty() {
            body["spec"]["subdomain"] = json!(spec.service_name);
        }
        workload::create_pod(&ctx, &api, MANAGER, &body, sts.as_ref()).await?;
    }
    let status = status(&sts, &observed, replicas, &update_revision);
    let current = serde_json::to_value(&sts.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "status": status});
        util::apply_status(&api, MANAGER, &name, &body).await?;
    }
    Ok(Action::await_change())
}

fn status(
    sts: &StatefulSet,
    pods: &[(i32, String, bool)],
    replicas: i32,
    update_revision: &str,
) -> Value {
    let in_range: Vec<&(i32, String, bool)> = pods.iter().filter(|p| p.0 < replicas).collect();
    let ready = in_range.iter().filter(|p| p.2).count();
    let updated = in_range.iter().filter(|p| p.1 == update_revision).count();
    let previous = sts.status.as_ref().and_then(|s| s.current_revision.clone());
    let current_revision = match previous {
        Some(p) if (updated as i32) < replicas || ready < updated => p,
        _ => update_revision.to_string(),
    };
    let current = in_range.iter().filter(|p| p.1 == current_revision).count();
    json!({
        "observedGeneration": sts.metadata.generation.unwrap_or(0),
        "replicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
        "currentReplicas": current, "updatedReplicas": updated,
        "currentRevision": current_revision, "updateRevision": update_revision,
        "collisionCount": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: i32, rev: &str, ready: bool) -> (i32, String, bool) {
        (i, rev.to_string(), ready)
    }

    #[test]
    fn ordered_ready_creates_one_pod_after_the_previous_is_ready() {
        assert_eq!(plan(3, false, 0, "r1", &[]).create, vec![0]);
        assert_eq!(
            plan(3, false, 0, "r1", &[p(0, "r1", false)]).create,
            Vec::<i32>::new()
        );
        assert_eq!(plan(3, false, 0, "r1", &[p(0, "r1", true)]).create, vec![1]);
        assert_eq!(plan(3, true, 0, "r1", &[]).create, vec![0, 1, 2]);
    }

    #[test]
    fn scaling_down_removes_the_highest_ordinals() {
        let pods = [p(0, "r1", true), p(1, "r1", true), p(2, "r1", true)];
        assert_eq!(plan(1, false, 0, "r1", &pods).delete, vec![1, 2]);
    }

    #[test]
    fn a_new_revision_replaces_the_highest_outdated_pod_at_or_above_the_partition() {
        let pods = [p(0, "r1", true), p(1, "r1", true), p(2, "r1", true)];
        assert_eq!(plan(3, false, 0, "r2", &pods).delete, vec![2]);
        let pods = [p(0, "r1", true), p(1, "r1", true), p(2, "r2", true)];
        assert_eq!(plan(3, false, 0, "r2", &pods).delete, vec![1]);
        assert!(
            plan(3, false, 2, "r2", &pods).delete.is_empty(),
            "partition 2 keeps 0 and 1"
        );
        let not_ready = [p(0, "r1", true), p(1, "r1", false), p(2, "r2", true)];
        assert!(plan(3, false, 0, "r2", &not_ready).delete.is_empty());
    }

    #[test]
    fn ordinals_come_from_the_pod_name() {
        assert_eq!(ordinal("db", "db-3"), Some(3));
        assert_eq!(ordinal("db", "db-x"), None);
        assert_eq!(ordinal("db", "dbx-1"), None);
    }
}
