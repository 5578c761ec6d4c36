//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
//!
//! (Implementation in progress: see the crate's commit log.)

use serde_json::Value;

use crate::Error;

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decode a protobuf body (the `k8s\0` magic + `runtime.Unknown` envelope) of a built-in kind into
/// the JSON object the JSON path would have produced (with `apiVersion` and `kind` set).
pub fn decode_protobuf(bytes: &[u8]) -> Result<Value, Error> {
    let _ = bytes;
    Err(Error::Protobuf("not implemented yet".into()))
}
