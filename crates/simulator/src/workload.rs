//! What the workload controllers share: a Pod from a Pod template, and counting Pods.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::Resource;
use kube::api::Api;
use serde_json::{Value, json};

use crate::events::controller_of;
use crate::{Ctx, util};

/// The Pod `name` made from `template` for an owner, with `labels` added to the template's and a
/// Node chosen among those matching the template's `nodeSelector` (left unscheduled when none does).
pub fn pod_from_template(
    ctx: &Ctx,
    template: &PodTemplateSpec,
    name: &str,
    owner: Value,
    labels: &BTreeMap<String, String>,
    node: Option<&str>,
) -> Value {
    let t = serde_json::to_value(template).unwrap_or_default();
    let mut meta = t.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut all: BTreeMap<String, String> = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    all.extend(labels.clone());
    meta["name"] = json!(name);
    meta["labels"] = json!(all);
    meta["ownerReferences"] = json!([owner]);
    if let Some(m) = meta.as_object_mut() {
        m.remove("namespace");
        m.remove("generateName");
    }
    let mut spec = t.get("spec").cloned().unwrap_or_else(|| json!({}));
    let selector = template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.clone())
        .unwrap_or_default();
    let node = node
        .map(str::to_string)
        .or_else(|| ctx.pick_node(&selector, name));
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
}

/// Creates the Pod unless it already exists (an existing Pod is left as it is). A created Pod is
/// recorded as `owner`'s controller records it (`SuccessfulCreate`, see [`pod_note`]) and, as it
/// is made bound to a Node, as the scheduler's `Scheduled`.
pub async fn create_pod<K: Resource<DynamicType = ()>>(
    ctx: &Ctx,
    api: &Api<Pod>,
    manager: &str,
    body: &Value,
    owner: &K,
) -> Result<(), kube::Error> {
    let pp = kube::api::PostParams {
        field_manager: Some(manager.to_string()),
        ..Default::default()
    };
    let pod: Pod = serde_json::from_value(body.clone()).map_err(kube::Error::SerdeError)?;
    match api.create(&pp, &pod).await {
        Ok(created) => {
            let name = created.metadata.name.clone().unwrap_or_default();
            let note = pod_note(owner, "create", &name);
            ctx.events
                .normal(controller_of::<K>(), owner, "SuccessfulCreate", note);
            if let Some(node) = created.spec.as_ref().and_then(|s| s.node_name.clone()) {
                crate::kubelet::scheduled_event(&created, &node, ctx);
            }
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => {
            // As kube-controller-manager records it: `kubectl describe` of the owner says why it
            // has no Pods (say, a ServiceAccount that does not exist); the reconcile retries.
            let reason = match &e {
                kube::Error::Api(s) => s.message.clone(),
                other => other.to_string(),
            };
            ctx.events.warning(
                controller_of::<K>(),
                owner,
                "FailedCreate",
                format!("Error creating: {reason}"),
            );
            Err(e)
        }
    }
}

/// Deletes the Pod `name` (gone already is fine), recorded as `owner`'s controller records it
/// (`SuccessfulDelete`, see [`pod_note`]).
pub async fn delete_pod<K: Resource<DynamicType = ()>>(
    ctx: &Ctx,
    api: &Api<Pod>,
    name: &str,
    owner: &K,
) -> Result<(), kube::Error> {
    if util::delete_ignoring_missing(api, name).await? {
        let note = pod_note(owner, "delete", name);
        ctx.events
            .normal(controller_of::<K>(), owner, "SuccessfulDelete", note);
    }
    Ok(())
}

/// How `owner`'s controller words creating or deleting (`verb`) its Pod `pod`: the StatefulSet
/// controller `create Pod web-0 in StatefulSet web successful`, the others `Created pod: NAME`.
fn pod_note<K: Resource<DynamicType = ()>>(owner: &K, verb: &str, pod: &str) -> String {
    let kind = K::kind(&());
    match (kind.as_ref(), verb) {
        ("StatefulSet", _) => format!(
            "{verb} Pod {pod} in StatefulSet {} successful",
            owner.meta().name.as_deref().unwrap_or_default()
        ),
        (_, "create") => format!("Created pod: {pod}"),
        _ => format!("Deleted pod: {pod}"),
    }
}

/// Counts of a set of Pods: (active, ready).
pub fn counts(pods: &[Arc<Pod>]) -> (i32, i32) {
    let active = pods.iter().filter(|p| util::pod_active(p)).count() as i32;
    let ready = pods
        .iter()
        .filter(|p| util::pod_active(p) && util::pod_ready(p))
        .count() as i32;
    (active, ready)
}
