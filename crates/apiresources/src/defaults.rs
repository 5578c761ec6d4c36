//! Defaults kube-apiserver sets on built-in objects at create time.
//!
//! (Implementation in progress: see the crate's commit log.)

use serde_json::Value;

use crate::catalogue::Gvk;

/// Fill in the defaults of a built-in kind (fields already set are kept). Unknown kinds are
/// left alone.
pub fn apply_defaults(gvk: &Gvk, obj: &mut Value) {
    let _ = (gvk, obj);
}
