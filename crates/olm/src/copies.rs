//! Copied CSVs, computed on read: OLM shows a ClusterServiceVersion in every target namespace of
//! its OperatorGroup (every namespace for AllNamespaces) as a copy labelled `olm.copiedFrom:
//! <operator namespace>`, with the original's status and `status.reason: Copied`. OLM stores
//! those copies (10 GB at 10,000 namespaces); here they are a `computed::Projection` the API
//! server applies when it reads CSVs, so nothing is stored per namespace.
//!
//! The targets come from the CSV alone: the `olm.targetNamespaces` annotation the CSV controller
//! keeps equal to its OperatorGroup's (empty = all namespaces; absent = not yet in a group, no
//! copies). The copy keeps what recent OLM keeps (`csvCopyPrototype`): name, labels but OLM's
//! `operators.coreos.com/` component labels, annotations but `olm.targetNamespaces` and
//! `kubectl.kubernetes.io/last-applied-configuration`, the whole spec and status; no
//! finalizers, owner references or managed fields.

use computed::{Projection, Targets};
use serde_json::{Map, Value, json};

use apis::operators::OLM_TARGET_NAMESPACES;

/// OLM's label on a copied CSV: the namespace of the original.
pub const COPIED_FROM: &str = "olm.copiedFrom";
/// OLM's `status.reason` of a copied CSV.
pub const REASON_COPIED: &str = "Copied";
/// The API group and resource the projection is registered for.
pub const GROUP: &str = "operators.coreos.com";
pub const RESOURCE: &str = "clusterserviceversions";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// OLM's operator component labels (`operators.coreos.com/<package>.<namespace>`) are not copied.
const COMPONENT_LABEL_PREFIX: &str = "operators.coreos.com/";

/// The copied-CSV projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct CopiedCsvs;

/// The projection to register for `clusterserviceversions.operators.coreos.com`.
pub fn projection() -> std::sync::Arc<dyn Projection> {
    std::sync::Arc::new(CopiedCsvs)
}

/// Whether a CSV is a copy (OLM's `IsCopied`): labelled `olm.copiedFrom`.
pub fn is_copy(csv: &Value) -> bool {
    csv["metadata"]["labels"].get(COPIED_FROM).is_some()
}

/// The label selector that leaves copies out: what the controllers read, since a copy is not
/// installed in the namespace it is shown in (OLM's resolver skips copied CSVs too).
pub fn originals_selector() -> String {
    format!("!{COPIED_FROM}")
}

/// The namespaces of an `olm.targetNamespaces` value: empty means all namespaces.
pub fn parse_targets(annotation: &str) -> Targets {
    if annotation.trim().is_empty() {
        return Targets::All;
    }
    Targets::Some(
        annotation
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

impl Projection for CopiedCsvs {
    fn copy_label(&self) -> Option<&str> {
        Some(COPIED_FROM)
    }

    fn targets(&self, csv: &Value) -> Targets {
        if is_copy(csv) {
            return Targets::None;
        }
        match csv["metadata"]["annotations"]
            .get(OLM_TARGET_NAMESPACES)
            .and_then(Value::as_str)
        {
            Some(t) => parse_targets(t),
            None => Targets::None,
        }
    }

    fn prototype(&self, csv: &Value) -> Value {
        let meta = &csv["metadata"];
        let from = meta["namespace"].as_str().unwrap_or_default();
        let mut labels: Map<String, Value> = meta["labels"]
            .as_object()
            .map(|l| {
                l.iter()
                    .filter(|(k, _)| !k.starts_with(COMPONENT_LABEL_PREFIX))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        labels.insert(COPIED_FROM.into(), json!(from));
        let annotations: Map<String, Value> = meta["annotations"]
            .as_object()
            .map(|a| {
                a.iter()
                    .filter(|(k, _)| *k != OLM_TARGET_NAMESPACES && *k != LAST_APPLIED)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut m = Map::new();
        for k in ["name", "creationTimestamp", "resourceVersion", "generation"] {
            if let Some(v) = meta.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        m.insert("labels".into(), Value::Object(labels));
        m.insert("annotations".into(), Value::Object(annotations));
        let mut status = match &csv["status"] {
            Value::Object(s) => s.clone(),
            _ => Map::new(),
        };
        status.insert("reason".into(), json!(REASON_COPIED));
        status.insert(
            "message".into(),
            json!(format!(
                "The operator is running in {from} but is managing this namespace"
            )),
        );
        json!({
            "apiVersion": csv["apiVersion"],
            "kind": csv["kind"],
            "metadata": m,
            "spec": csv["spec"],
            "status": status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(targets: Option<&str>) -> Value {
        let mut c = json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": "op.v1", "namespace": "operators", "uid": "u1",
                "resourceVersion": "42", "finalizers": ["operators.coreos.com/csv-cleanup"],
                "labels": {"app": "op", "operators.coreos.com/op.operators": ""},
                "annotations": {"olm.operatorGroup": "og", "olm.operatorNamespace": "operators",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"displayName": "Op", "version": "1.0.0"},
            "status": {"phase": "Succeeded", "reason": "InstallSucceeded", "message": "done"}
        });
        if let Some(t) = targets {
            c["metadata"]["annotations"]["olm.targetNamespaces"] = json!(t);
        }
        c
    }

    #[test]
    fn targets_come_from_the_target_namespaces_annotation() {
        let p = CopiedCsvs;
        assert_eq!(p.targets(&csv(Some(""))), Targets::All);
        assert_eq!(
            p.targets(&csv(Some("a, b"))),
            Targets::Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(p.targets(&csv(None)), Targets::None);
        let own = p.targets(&csv(Some("operators")));
        assert!(!own.contains("operators", "operators") && !own.contains("operators", "other"));
    }

    #[test]
    fn a_copy_is_never_copied_again() {
        let mut c = csv(Some(""));
        c["metadata"]["labels"][COPIED_FROM] = json!("elsewhere");
        assert_eq!(CopiedCsvs.targets(&c), Targets::None);
    }

    #[test]
    fn the_copy_mirrors_the_status_and_says_where_the_operator_runs() {
        let c = CopiedCsvs.prototype(&csv(Some("")));
        assert_eq!(c["metadata"]["labels"][COPIED_FROM], "operators");
        assert_eq!(c["metadata"]["labels"]["app"], "op");
        assert!(
            c["metadata"]["labels"]
                .get("operators.coreos.com/op.operators")
                .is_none()
        );
        assert_eq!(c["metadata"]["annotations"]["olm.operatorGroup"], "og");
        assert!(
            c["metadata"]["annotations"]
                .get(OLM_TARGET_NAMESPACES)
                .is_none()
        );
        assert!(c["metadata"]["annotations"].get(LAST_APPLIED).is_none());
        assert!(c["metadata"].get("finalizers").is_none());
        assert!(c["metadata"].get("uid").is_none());
        assert_eq!(c["metadata"]["resourceVersion"], "42");
        assert_eq!(c["spec"]["displayName"], "Op");
        assert_eq!(c["status"]["phase"], "Succeeded");
        assert_eq!(c["status"]["reason"], "Copied");
        assert_eq!(
            c["status"]["message"],
            "The operator is running in operators but is managing this namespace"
        );
    }
}
