//! Strict decoding of built-in objects (`fieldValidation=Strict|Warn`).
//!
//! (Implementation in progress: see the crate's commit log.)

use serde_json::Value;

use crate::catalogue::Gvk;

/// What a strict decode of a built-in object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeReport {
    /// Paths of fields the kind does not have, e.g. `spec.replicass`, `spec.template.spec.containers[0].imagee`.
    pub unknown_fields: Vec<String>,
    /// Type errors, each in Go's words, e.g.
    /// `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`.
    pub type_errors: Vec<String>,
}

/// Check a built-in object against its kind's schema. Unknown kinds give an empty report.
pub fn check(gvk: &Gvk, obj: &Value) -> DecodeReport {
    let _ = (gvk, obj);
    DecodeReport::default()
}

/// Paths of unknown fields of a built-in object (`spec.replicass`).
pub fn unknown_fields(gvk: &Gvk, obj: &Value) -> Vec<String> {
    check(gvk, obj).unknown_fields
}

/// kube-apiserver's message for unknown fields under `fieldValidation=Strict`:
/// `strict decoding error: unknown field "spec.replicass", unknown field "spec.foo"`.
pub fn strict_error_message(unknown_fields: &[String]) -> String {
    let parts: Vec<String> = unknown_fields
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    format!("strict decoding error: {}", parts.join(", "))
}
