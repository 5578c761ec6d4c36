//! CRD structural schemas (`openAPIV3Schema`): validation with kube-apiserver's field-error
//! text, pruning of unknown fields (or reporting them for `fieldValidation=Strict`), and
//! defaulting.
//!
//! Schemas are plain `serde_json::Value`s, exactly as found in a CRD's
//! `spec.versions[].schema.openAPIV3Schema`. At the root, `apiVersion`, `kind` and
//! `metadata` are always kept and are not validated against the schema (kube-apiserver
//! validates metadata as ObjectMeta); the same holds inside
//! `x-kubernetes-embedded-resource` objects.

use crate::field::FieldError;
use crate::status::ApiError;
use serde_json::Value;

/// Validate a custom object against its schema; errors in kube-apiserver's wording, e.g.
/// `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
pub fn validate(schema: &Value, obj: &Value) -> Vec<FieldError> {
    let _ = (schema, obj);
    todo!()
}

/// Remove fields the schema does not know (unless `x-kubernetes-preserve-unknown-fields`);
/// returns the removed paths (`spec.foo`, `spec.items[0].bar`) in document order.
pub fn prune(schema: &Value, obj: &mut Value) -> Vec<String> {
    let _ = (schema, obj);
    todo!()
}

/// The unknown fields `prune` would remove, without changing the object.
pub fn unknown_fields(schema: &Value, obj: &Value) -> Vec<String> {
    let mut copy = obj.clone();
    prune(schema, &mut copy)
}

/// Apply `default`s from the schema to absent (or null, when not nullable) fields.
pub fn apply_defaults(schema: &Value, obj: &mut Value) {
    let _ = (schema, obj);
    todo!()
}

/// The 400 kube-apiserver answers under `fieldValidation=Strict` for unknown fields:
/// `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: unknown field "spec.foo", ...`.
pub fn strict_decoding_error(kind: &str, version: &str, unknown: &[String]) -> ApiError {
    let _ = (kind, version, unknown);
    todo!()
}

/// The warning texts kube-apiserver sends (`Warning` header) under `fieldValidation=Warn`:
/// `unknown field "spec.foo"`.
pub fn unknown_field_warnings(unknown: &[String]) -> Vec<String> {
    unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect()
}
