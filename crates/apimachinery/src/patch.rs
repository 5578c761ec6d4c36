//! Patches: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and Kubernetes' strategic
//! merge patch for the built-in kinds the server serves.
//!
//! Strategic merge needs, per list, its patch strategy (`merge` by a key, `replace`, or a
//! set of primitives). Those come from a hand-built table of the built-in types
//! ([`list_strategy`]), mirroring the `patchStrategy`/`patchMergeKey` tags of the Go types.
//! Directives handled: `$patch: replace|delete|merge`, `$setElementOrder/<list>`,
//! `$retainKeys`, `$deleteFromPrimitiveList/<list>`, and `null` deleting a key.

use crate::status::ApiError;
use serde_json::Value;

/// The four PATCH content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply, see [`crate::apply`])
    Apply,
}

impl PatchType {
    /// Recognise a `Content-Type` (parameters such as `; charset=utf-8` ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match base.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
    /// The media type string.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// The patch types kube-apiserver accepts for custom resources (no strategic merge); use
/// with [`ApiError::unsupported_patch_type`].
pub const CUSTOM_RESOURCE_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// A patch that could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (400).
    #[error("{0}")]
    BadPatch(String),
    /// The patch is well-formed but cannot be applied to this object, e.g. a failed `test`
    /// or a path that does not exist (422).
    #[error("{0}")]
    Unprocessable(String),
}

impl PatchError {
    /// The Status error kube-apiserver answers with.
    pub fn to_api_error(&self) -> ApiError {
        let _ = self;
        todo!()
    }
}

/// How a list field merges in a strategic merge patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStrategy {
    /// Replace the whole list (the default for lists without a strategy).
    Replace,
    /// Merge elements by the value of this key (`patchStrategy:"merge" patchMergeKey:"name"`).
    MergeByKey(&'static str),
    /// A list of primitives merged as a set (`patchStrategy:"merge"` on `[]string`, e.g.
    /// finalizers).
    MergePrimitives,
}

/// The list strategy of the field at `path` (field names only, list indices omitted) of a
/// built-in `kind`, e.g. `("Deployment", ["spec","template","spec","containers"])` →
/// `MergeByKey("name")`. Unknown kinds/paths → `Replace`.
pub fn list_strategy(kind: &str, path: &[&str]) -> ListStrategy {
    let _ = (kind, path);
    todo!()
}

/// Whether a map field at `path` of `kind` carries `patchStrategy:"retainKeys"`
/// (e.g. `spec.strategy` of a Deployment, `spec.volumes[*]` of a Pod).
pub fn retains_keys(kind: &str, path: &[&str]) -> bool {
    let _ = (kind, path);
    todo!()
}

/// Apply an RFC 6902 JSON Patch.
pub fn apply_json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let _ = (doc, patch);
    todo!()
}

/// Apply an RFC 7386 JSON Merge Patch (`null` deletes, objects merge, the rest replaces).
pub fn apply_merge_patch(doc: &Value, patch: &Value) -> Value {
    let _ = (doc, patch);
    todo!()
}

/// The RFC 7386 merge patch that turns `original` into `modified`.
pub fn create_merge_patch(original: &Value, modified: &Value) -> Value {
    let _ = (original, modified);
    todo!()
}

/// Apply a strategic merge patch to an object of built-in `kind` (`Deployment`, ...).
pub fn apply_strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    kind: &str,
) -> Result<Value, PatchError> {
    let _ = (doc, patch, kind);
    todo!()
}
