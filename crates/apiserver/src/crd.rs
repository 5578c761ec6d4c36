//! CustomResourceDefinitions at run time: validation of the CRD itself, its `status` (accepted
//! names, `NamesAccepted` and `Established` conditions, stored versions), registration in the
//! cluster's catalogue as soon as it is stored (discovery and OpenAPI follow at once), and removal
//! of its objects when it is deleted.
//!
//! Simplification: a CRD is established synchronously (no separate controller), and deleting a CRD
//! removes its custom objects in the same transaction, without waiting for their finalizers.

use apimachinery::FieldError;
use serde_json::{Value, json};

use crate::cluster::ClusterState;

/// Field errors of a CRD object (beyond the generic name checks).
pub fn validate(crd: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let s = |p: &str| crd.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (group, plural, kind) = (
        s("/spec/group"),
        s("/spec/names/plural"),
        s("/spec/names/kind"),
    );
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid(
            "spec.group",
            json!(group),
            "should be a domain with at least one dot",
        ));
    }
    if plural.is_empty() {
        errs.push(FieldError::required("spec.names.plural", ""));
    }
    if kind.is_empty() {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    let name = s("/metadata/name");
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            json!(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if !matches!(s("/spec/scope"), "Namespaced" | "Cluster") {
        errs.push(FieldError::not_supported(
            "spec.scope",
            json!(s("/spec/scope")),
            &["Cluster".to_string(), "Namespaced".to_string()],
        ));
    }
    match crd.pointer("/spec/versions").and_then(Value::as_array) {
        None => errs.push(FieldError::required(
            "spec.versions",
            "must have exactly one version marked as storage version",
        )),
        Some(vs) => {
            let storage = vs
                .iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .count();
            if storage != 1 {
                errs.push(FieldError::invalid(
                    "spec.versions",
                    Value::Array(vs.clone()),
                    "must have exactly one version marked as storage version",
                ));
            }
            for (i, v) in vs.iter().enumerate() {
                if v.pointer("/schema/openAPIV3Schema").is_none() {
                    errs.push(FieldError::required(
                        format!("spec.versions[{i}].schema.openAPIV3Schema"),
                        "schemas are required",
                    ));
                }
            }
        }
    }
    if errs.is_empty()
        && let Err(e) = apiresources::ResourceInfo::from_crd(crd)
    {
        errs.push(FieldError::invalid("spec", json!(null), e.to_string()));
    }
    errs
}

/// The finalizer a deleted CRD carries until its custom resources are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// Sets the CRD's `Terminating` condition (kept by [`set_status`]).
pub fn set_terminating(crd: &mut Value, status: &str, reason: &str, message: &str) {
    let cond = json!({"type": "Terminating", "status": status, "reason": reason, "message": message,
                      "lastTransitionTime": apimachinery::meta::now_rfc3339()});
    if !crd.get("status").is_some_and(Value::is_object) {
        crd["status"] = json!({});
    }
    let conds = &mut crd["status"]["conditions"];
    if !conds.is_array() {
        *conds = json!([]);
    }
    let list = conds.as_array_mut().expect("conditions is an array");
    match list.iter_mut().find(|c| c["type"] == "Terminating") {
        Some(c) if c["status"] == status && c["reason"] == reason => {}
        Some(c) => *c = cond,
        None => list.push(cond),
    }
}

/// The first DELETE of a CRD, as kube-apiserver's CRD storage does it: the CRD gets the cleanup
/// finalizer and `Terminating: True (InstanceDeletionPending)`; garbage collection then deletes
/// its objects (honouring their finalizers) and removes the finalizer once they are gone.
pub fn mark_for_deletion(crd: &mut Value, finalizers: &mut Vec<Value>) {
    if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
        finalizers.push(json!(CLEANUP_FINALIZER));
    }
    set_terminating(
        crd,
        "True",
        "InstanceDeletionPending",
        "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
    );
}

/// Sets `status` as an established CRD has it.
pub fn set_status(crd: &mut Value) {
    let now = apimachinery::meta::now_rfc3339();
    let names = crd
        .pointer("/spec/names")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut stored = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for v in storage {
        if !stored.contains(&v) {
            stored.push(v);
        }
    }
    let old_time = |t: &str| -> String {
        crd.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == t))
            .and_then(|c| c["lastTransitionTime"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| now.clone())
    };
    let conditions = json!([
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found",
         "lastTransitionTime": old_time("NamesAccepted")},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted", "lastTransitionTime": old_time("Established")},
    ]);
    let mut conditions = conditions;
    if let Some(t) = crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Terminating"))
        .cloned()
        && let Some(list) = conditions.as_array_mut()
    {
        list.push(t);
    }
    crd["status"] =
        json!({"acceptedNames": names, "conditions": conditions, "storedVersions": stored});
}

/// Registers a stored CRD in the catalogue.
pub fn register(cluster: &ClusterState, crd: &Value) {
    if let Err(e) = cluster.upsert_crd(crd) {
        tracing::warn!(cluster = %cluster.name, error = %e, "stored CRD cannot be served");
    }
}

/// `widgets.example.com` → the store resource `example.com/widgets`.
pub fn resource_key_of_name(crd_name: &str) -> Option<String> {
    let (plural, group) = crd_name.split_once('.')?;
    Some(format!("{group}/{plural}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}]}
        })
    }

    #[test]
    fn valid_crd_passes_and_gets_established() {
        let mut c = crd();
        assert!(validate(&c).is_empty(), "{:?}", validate(&c));
        set_status(&mut c);
        assert_eq!(c["status"]["conditions"][1]["type"], "Established");
        assert_eq!(c["status"]["storedVersions"], json!(["v1"]));
    }

    #[test]
    fn crd_name_must_be_plural_dot_group_and_one_storage_version() {
        let mut c = crd();
        c["metadata"]["name"] = json!("foo.example.com");
        c["spec"]["versions"][0]["storage"] = json!(false);
        let errs = validate(&c);
        assert!(
            errs.iter().any(|e| e.to_string().contains("metadata.name")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.to_string().contains("storage version")),
            "{errs:?}"
        );
    }

    #[test]
    fn resource_keys_of_crd_names() {
        assert_eq!(
            resource_key_of_name("widgets.example.com").as_deref(),
            Some("example.com/widgets")
        );
    }
}
