//! The crate's error type.

use thiserror::Error;

/// What went wrong while interpreting an object or a request body.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// A CustomResourceDefinition lacks what a `ResourceInfo` needs.
    #[error("CustomResourceDefinition {name:?} is unusable: {reason}; fix the CRD and re-apply it")]
    InvalidCrd { name: String, reason: String },
    /// A protobuf body could not be decoded.
    #[error("cannot decode protobuf body: {0}")]
    Protobuf(String),
    /// A protobuf body carries a kind this server cannot decode from protobuf.
    #[error(
        "protobuf decoding of {api_version}/{kind} is not supported; send the object as JSON (application/json)"
    )]
    UnsupportedProtobufKind { api_version: String, kind: String },
}
