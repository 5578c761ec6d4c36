//! Small helpers the controllers share: time stamps, owner references, Pod readiness, node
//! selection, and the writes (server-side apply with one field manager per controller, deletes that
//! accept "already gone").

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

/// Now, as Kubernetes writes times (RFC 3339, seconds).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Whether `obj`'s controlling owner has `uid`.
pub fn controlled_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == uid)
}

/// An ownerReference to `owner` with `controller: true` (the garbage collector deletes the child
/// with its owner).
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> Value {
    json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "name": owner.meta().name,
        "uid": owner.meta().uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A Pod counts as ready when its `Ready` condition is `True`.
pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Terminal Pods (`Succeeded`, `Failed`) and Pods being deleted no longer count as replicas.
pub fn pod_active(p: &Pod) -> bool {
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
    p.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

pub fn pod_phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Whether `labels` satisfy a Pod's `nodeSelector` (every pair present).
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The names of Ready nodes matching `node_selector`, sorted.
pub fn eligible_nodes(
    nodes: &[std::sync::Arc<Node>],
    node_selector: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut v: Vec<String> = nodes
        .iter()
        .filter(|n| n.spec.as_ref().and_then(|s| s.unschedulable) != Some(true))
        .filter(|n| selector_matches(node_selector, n.labels()))
        .map(|n| n.name_any())
        .collect();
    v.sort();
    v
}

/// Server-side apply as `manager`, forcing (each controller is the only writer of what it applies).
pub fn apply(manager: &str) -> PatchParams {
    PatchParams::apply(manager).force()
}

/// Applies `body` (a full desired object or status) with server-side apply.
pub async fn apply_object<K>(
    api: &Api<K>,
    manager: &str,
    name: &str,
    body: &Value,
) -> Result<K, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &apply(manager), &Patch::Apply(body)).await
}

/// Applies a status through the `status` subresource.
pub async fn apply_status<K>(
    api: &Api<K>,
    manager: &str,
    name: &str,
    body: &Value,
) -> Result<K, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch_status(name, &apply(manager), &Patch::Apply(body))
        .await
}

/// Deletes `name`; an object already gone is fine (the controller acted on a slightly old view).
/// Whether this call deleted it.
pub async fn delete_ignoring_missing<K>(api: &Api<K>, name: &str) -> Result<bool, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether every field of `desired` already has that value in `current` (so a write would change
/// nothing and is skipped).
pub fn unchanged(current: &Value, desired: &Value) -> bool {
    match desired.as_object() {
        Some(d) => d.iter().all(|(k, v)| current.get(k) == Some(v)),
        None => current == desired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_selector_needs_every_pair() {
        let labels: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sel = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(selector_matches(&sel(&[]), &labels));
        assert!(selector_matches(&sel(&[("a", "1")]), &labels));
        assert!(!selector_matches(&sel(&[("a", "1"), ("c", "3")]), &labels));
        assert!(!selector_matches(&sel(&[("a", "2")]), &labels));
    }

    #[test]
    fn times_are_rfc3339_seconds() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z'));
    }
}
