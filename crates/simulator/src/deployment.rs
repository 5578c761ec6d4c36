//! The Deployment controller: one ReplicaSet per Pod template (`<deployment>-<pod-template-hash>`,
//! the hash also a label of its selector and Pods), `deployment.kubernetes.io/revision` annotations,
//! rollouts one [`rollout::step`] per reconcile (rolling update or recreate), old ReplicaSets beyond
//! `revisionHistoryLimit` removed, and the status kubectl reads (`observedGeneration`, replica counts,
//! `Available` and `Progressing`; a Pod that cannot pull its image is named in `Progressing`).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use crate::events::controller_of;
use crate::rollout::{self, RsCounts, Strategy};
use crate::{Ctx, Error, kubelet, names, util};

pub const MANAGER: &str = "marketplace-deployment-controller";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const HASH_LABEL: &str = "pod-template-hash";

fn revision(rs: &ReplicaSet) -> i64 {
    rs.annotations()
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn counts(rs: &ReplicaSet) -> RsCounts {
    let s = rs.status.clone().unwrap_or_default();
    RsCounts {
        spec: rs.spec.replicas.unwrap_or(1),
        actual: s.replicas,
        ready: s.ready_replicas.unwrap_or(0),
        available: s.available_replicas.unwrap_or(0),
    }
}

/// The new ReplicaSet for the Deployment's current template.
pub fn new_replica_set(
    d: &Deployment,
    hash: &str,
    replicas: i32,
    revision: i64,
    max_surge: i32,
) -> Value {
    let spec = serde_json::to_value(d.spec.clone()).unwrap_or_default();
    let mut template = spec["template"].clone();
    template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = spec["selector"].clone();
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let desired = d.spec.replicas.unwrap_or(1);
    let mut rs_spec = json!({"replicas": replicas, "selector": selector, "template": template});
    if let Some(m) = spec.get("minReadySeconds") {
        rs_spec["minReadySeconds"] = m.clone();
    }
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", d.name_any()),
            "labels": template["metadata"]["labels"],
            "annotations": {
                REVISION: revision.to_string(),
                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + max_surge).to_string(),
            },
            "ownerReferences": [util::controller_ref(d)],
        },
        "spec": rs_spec,
    })
}

pub async fn reconcile(d: Arc<Deployment>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if d.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        d.namespace().unwrap_or_default(),
        d.name_any(),
        d.uid().unwrap_or_default(),
    );
    let spec = d.spec.clone();
    let desired = spec.replicas.unwrap_or(1);
    let collision = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = names::template_hash(
        &serde_json::to_value(&spec.template).unwrap_or_default(),
        collision,
    );
    let new_name = format!("{name}-{hash}");
    let mut owned: Vec<Arc<ReplicaSet>> = ctx
        .replica_sets
        .state()
        .into_iter()
        .filter(|r| r.namespace().as_deref() == Some(&ns) && util::controlled_by(r.as_ref(), &uid))
        .collect();
    owned.sort_by_key(|r| revision(r));
    let new = owned.iter().find(|r| r.name_any() == new_name).cloned();
    let olds: Vec<Arc<ReplicaSet>> = owned
        .iter()
        .filter(|r| r.name_any() != new_name)
        .cloned()
        .collect();
    let strategy = rollout::strategy(&serde_json::to_value(&spec).unwrap_or_default(), desired);
    let rs_api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);

    if !spec.paused.unwrap_or(false) {
        let new_counts = new.as_deref().map(counts).unwrap_or_default();
        let old_counts: Vec<RsCounts> = olds.iter().map(|r| counts(r)).collect();
        let (new_target, old_targets) = rollout::step(desired, strategy, new_counts, &old_counts);
        // As kube-controller-manager: the new ReplicaSet has the highest revision; one that
        // becomes new again (a rollback to its template) gets the next one.
        let old_max = olds.iter().map(|r| revision(r)).max().unwrap_or(0);
        let rev = new
            .as_deref()
            .map(revision)
            .filter(|r| *r > old_max)
            .unwrap_or(old_max + 1);
        let surge = match strategy {
            Strategy::RollingUpdate { max_surge, .. } => max_surge,
            Strategy::Recreate => 0,
        };
        let body = new_replica_set(&d, &hash, new_target, rev, surge);
        let current = new
            .as_deref()
            .map(|r| serde_json::to_value(r).unwrap_or_default());
        let stale = current.as_ref().is_none_or(|c| {
            c["spec"]["replicas"] != body["spec"]["replicas"]
                || !util::unchanged(
                    &c["metadata"]["annotations"],
                    &body["metadata"]["annotations"],
                )
        });
        if d.annotations().get(REVISION) != Some(&rev.to_string()) {
            // The Deployment shows its current revision, as the real controller writes it:
            // through /status, so its generation stays (`kubectl rollout undo` patches the
            // annotations it finds there).
            let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
            let patch = json!({"metadata": {"annotations": {REVISION: rev.to_string()}}});
            let pp = PatchParams {
                field_manager: Some(MANAGER.into()),
                ..Default::default()
            };
            api.patch_status(&name, &pp, &Patch::Merge(&patch)).await?;
        }
        if stale {
            util::apply_object(&rs_api, MANAGER, &new_name, &body).await?;
            let from = new.as_deref().map_or(0, |r| counts(r).spec);
            scaled_event(&ctx, &d, &new_name, from, new_target);
        }
        for (old, target) in olds.iter().zip(old_targets) {
            if counts(old).spec != target {
                let patch = json!({"spec": {"replicas": target}});
                rs_api
                    .patch(
                        &old.name_any(),
                        &PatchParams {
                            field_manager: Some(MANAGER.into()),
                            ..Default::default()
                        },
                        &Patch::Merge(&patch),
                    )
                    .await?;
                scaled_event(&ctx, &d, &old.name_any(), counts(old).spec, target);
            }
        }
        cleanup(&rs_api, &olds, spec.revision_history_limit.unwrap_or(10)).await?;
    }
    let status = status(
        &d,
        &ctx,
        new.as_deref(),
        &owned,
        &new_name,
        strategy.max_unavailable(desired),
    );
    let current = serde_json::to_value(&d.status).unwrap_or_default();
    let done = status["conditions"][1]["reason"] == "NewReplicaSetAvailable";
    if !util::unchanged(&current, &status) {
        let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "status": status});
        util::apply_status(&api, MANAGER, &name, &body).await?;
    }
    Ok(if done {
        Action::await_change()
    } else {
        Action::requeue(Duration::from_secs(5))
    })
}

fn status(
    d: &Deployment,
    ctx: &Ctx,
    new: Option<&ReplicaSet>,
    owned: &[Arc<ReplicaSet>],
    new_name: &str,
    max_unavailable: i32,
) -> Value {
    let problem = new.and_then(|rs| {
        let pods = ctx.pods_of(
            &rs.namespace().unwrap_or_default(),
            &rs.uid().unwrap_or_default(),
        );
        pods.iter().find_map(|p| kubelet::pod_problem(p))
    });
    let all: Vec<RsCounts> = owned.iter().map(|r| counts(r)).collect();
    let observed = rollout::Observed {
        generation: d.metadata.generation.unwrap_or(0),
        desired: d.spec.replicas.unwrap_or(1),
        max_unavailable,
        new_rs: new_name,
        new: new.map(counts).unwrap_or_default(),
        all: &all,
        pod_problem: problem,
        collision_count: d.status.as_ref().and_then(|s| s.collision_count),
    };
    let previous = serde_json::to_value(&d.status).unwrap_or_default();
    rollout::deployment_status(&observed, &previous, &util::now())
}

/// The deployment controller's record of scaling ReplicaSet `rs` from `from` to `to` replicas.
fn scaled_event(ctx: &Ctx, d: &Deployment, rs: &str, from: i32, to: i32) {
    if from == to {
        return;
    }
    let way = if to > from { "up" } else { "down" };
    let note = format!("Scaled {way} replica set {rs} from {from} to {to}");
    ctx.events
        .normal(controller_of::<Deployment>(), d, "ScalingReplicaSet", note);
}

/// Deletes the oldest fully scaled-down ReplicaSets beyond `limit`.
async fn cleanup(api: &Api<ReplicaSet>, olds: &[Arc<ReplicaSet>], limit: i32) -> Result<(), Error> {
    let idle: Vec<&Arc<ReplicaSet>> = olds
        .iter()
        .filter(|r| counts(r).spec == 0 && counts(r).actual == 0)
        .collect();
    let excess = idle.len().saturating_sub(limit.max(0) as usize);
    for r in idle.into_iter().take(excess) {
        util::delete_ignoring_missing(api, &r.name_any()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_replica_set_carries_the_hash_in_name_selector_and_template_and_the_revision() {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}},
        })).unwrap();
        let rs = new_replica_set(&d, "abc12", 1, 2, 1);
        assert_eq!(rs["metadata"]["name"], "web-abc12");
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"],
            json!({"app": "web", HASH_LABEL: "abc12"})
        );
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"][HASH_LABEL],
            "abc12"
        );
        assert_eq!(rs["metadata"]["annotations"][REVISION], "2");
        assert_eq!(
            rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
            "4"
        );
        assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
        assert_eq!(rs["spec"]["replicas"], 1);
    }
}
