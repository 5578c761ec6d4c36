//! The DaemonSet controller: one Pod per Ready Node matching the template's `nodeSelector`
//! (`<name>-<5 chars>`, `nodeName` set), Pods on Nodes that no longer match removed, a new template
//! rolled out one Node at a time once every Pod is available; status with the counts
//! `kubectl rollout status` reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::json;

use crate::{Ctx, Error, names, util, workload};

pub const MANAGER: &str = "marketplace-daemonset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

/// What to do, from the eligible Nodes and the (name, node, revision, ready) of the active Pods.
#[derive(Debug, PartialEq, Eq, Default)]
pub struct Plan {
    pub create_on: Vec<String>,
    pub delete: Vec<String>,
}

pub fn plan(eligible: &[String], revision: &str, pods: &[(String, String, String, bool)]) -> Plan {
    let mut plan = Plan::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, node, _, _) in pods {
        if !eligible.contains(node) || seen.contains(&node.as_str()) {
            plan.delete.push(name.clone());
        } else {
            seen.push(node);
        }
    }
    plan.create_on = eligible
        .iter()
        .filter(|n| !seen.contains(&n.as_str()))
        .cloned()
        .collect();
    let all_ready = plan.create_on.is_empty() && pods.iter().all(|p| p.3);
    if all_ready && plan.delete.is_empty() {
        plan.delete
            .extend(pods.iter().find(|p| p.2 != revision).map(|p| p.0.clone()));
    }
    plan
}

pub async fn reconcile(ds: Arc<DaemonSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        ds.namespace().unwrap_or_default(),
        ds.name_any(),
        ds.uid().unwrap_or_default(),
    );
    let spec = ds.spec.clone();
    let selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.clone())
        .unwrap_or_default();
    let eligible = util::eligible_nodes(&ctx.nodes.state(), &selector);
    let revision = names::revision_hash(&serde_json::to_value(&spec.template).unwrap_or_default());
    let pods: Vec<Arc<Pod>> = ctx
        .pods_of(&ns, &uid)
        .into_iter()
        .filter(|p| util::pod_active(p))
        .collect();
    let observed: Vec<(String, String, String, bool)> = pods
        .iter()
        .map(|p| {
            let node = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let rev = p.labels().get(REVISION_LABEL).cloned().unwrap_or_default();
            (p.name_any(), node, rev, util::pod_ready(p))
        })
        .collect();
    let plan = plan(&eligible, &revision, &observed);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    for p in &plan.delete {
        workload::delete_pod(&ctx, &api, p, ds.as_ref()).await?;
    }
    let owner = util::controller_ref(ds.as_ref());
    let labels = BTreeMap::from([(REVISION_LABEL.to_string(), revision.clone())]);
    for node in &plan.create_on {
        let pod_name = names::pod_name(
            &name,
            &uid,
            names::fnv32a(format!("{node}/{revision}").as_bytes()),
        );
        let body = workload::pod_from_template(
            &ctx,
            &spec.template,
            &pod_name,
            owner.clone(),
            &labels,
            Some(node),
        );
        workload::create_pod(&ctx, &api, MANAGER, &body, ds.as_ref()).await?;
    }
    let on_eligible: Vec<&(String, String, String, bool)> = observed
        .iter()
        .filter(|p| eligible.contains(&p.1))
        .collect();
    let ready = on_eligible.iter().filter(|p| p.3).count();
    let status = json!({
        "observedGeneration": ds.metadata.generation.unwrap_or(0),
        "desiredNumberScheduled": eligible.len(),
        "currentNumberScheduled": on_eligible.len(),
        "numberMisscheduled": observed.len() - on_eligible.len(),
        "numberReady": ready, "numberAvailable": ready,
        "numberUnavailable": eligible.len().saturating_sub(ready),
        "updatedNumberScheduled": on_eligible.iter().filter(|p| p.2 == revision).count(),
    });
    let current = serde_json::to_value(&ds.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        let api: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name}, "status": status});
        util::apply_status(&api, MANAGER, &name, &body).await?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, node: &str, rev: &str, ready: bool) -> (String, String, String, bool) {
        (name.into(), node.into(), rev.into(), ready)
    }

    #[test]
    fn one_pod_per_eligible_node_and_none_elsewhere() {
        let eligible = vec!["n1".to_string(), "n2".to_string()];
        let p = plan(
            &eligible,
            "r",
            &[
                pod("a", "n1", "r", true),
                pod("b", "n3", "r", true),
                pod("c", "n1", "r", true),
            ],
        );
        assert_eq!(p.create_on, vec!["n2".to_string()]);
        assert_eq!(p.delete, vec!["b".to_string(), "c".to_string()]);
    }

    #[test]
    fn a_new_template_replaces_one_pod_at_a_time_when_all_are_ready() {
        let eligible = vec!["n1".to_string(), "n2".to_string()];
        let p = plan(
            &eligible,
            "r2",
            &[pod("a", "n1", "r1", true), pod("b", "n2", "r1", true)],
        );
        assert_eq!(p.delete, vec!["a".to_string()]);
        let p = plan(
            &eligible,
            "r2",
            &[pod("a", "n1", "r1", true), pod("b", "n2", "r1", false)],
        );
        assert!(p.delete.is_empty());
    }
}
