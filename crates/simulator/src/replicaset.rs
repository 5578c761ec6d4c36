//! The ReplicaSet controller: keeps `spec.replicas` Pods of the template, named `<rs>-<5 chars>`
//! (slot 0..replicas-1; scaling down removes the highest slots), each controlled by the ReplicaSet;
//! status `replicas`, `fullyLabeledReplicas`, `readyReplicas`, `availableReplicas`,
//! `observedGeneration`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::json;

use crate::{Ctx, Error, names, util, workload};

pub const MANAGER: &str = "marketplace-replicaset-controller";

/// The names of the Pods the ReplicaSet should have.
pub fn wanted_pods(name: &str, uid: &str, replicas: i32) -> Vec<String> {
    (0..replicas.max(0) as u32)
        .map(|i| names::pod_name(name, uid, i))
        .collect()
}

pub async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if rs.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        rs.namespace().unwrap_or_default(),
        rs.name_any(),
        rs.uid().unwrap_or_default(),
    );
    let spec = rs.spec.clone();
    let desired = spec.replicas.unwrap_or(1);
    let pods = ctx.pods_of(&ns, &uid);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let wanted = wanted_pods(&name, &uid, desired);
    for p in &pods {
        let keep = wanted.contains(&p.name_any()) && util::pod_active(p);
        if !keep && p.metadata.deletion_timestamp.is_none() {
            workload::delete_pod(&ctx, &api, &p.name_any(), rs.as_ref()).await?;
        }
    }
    let template = spec.template.clone().unwrap_or_default();
    let owner = util::controller_ref(rs.as_ref());
    for w in wanted
        .iter()
        .filter(|w| !pods.iter().any(|p| &p.name_any() == *w))
    {
        let body =
            workload::pod_from_template(&ctx, &template, w, owner.clone(), &BTreeMap::new(), None);
        workload::create_pod(&ctx, &api, MANAGER, &body, rs.as_ref()).await?;
    }
    let live: Vec<Arc<Pod>> = pods
        .into_iter()
        .filter(|p| wanted.contains(&p.name_any()))
        .collect();
    let (active, ready) = workload::counts(&live);
    let status = json!({
        "replicas": active, "fullyLabeledReplicas": active, "readyReplicas": ready,
        "availableReplicas": ready, "observedGeneration": rs.metadata.generation.unwrap_or(0),
    });
    let current = serde_json::to_value(&rs.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name}, "status": status});
        util::apply_status(&api, MANAGER, &name, &body).await?;
    }
    // Level-triggered safety net while Pods are still coming up: the status is recounted from
    // the Pod cache even if a Pod's change was not delivered to this controller.
    Ok(if ready < desired {
        Action::requeue(RESYNC)
    } else {
        Action::await_change()
    })
}

/// How often a ReplicaSet with Pods not yet ready is recounted without an event.
const RESYNC: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_down_keeps_the_lowest_slots() {
        let three = wanted_pods("web-h", "u", 3);
        let one = wanted_pods("web-h", "u", 1);
        assert_eq!(three.len(), 3);
        assert_eq!(one, three[..1].to_vec());
        assert!(wanted_pods("web-h", "u", -1).is_empty());
    }
}
