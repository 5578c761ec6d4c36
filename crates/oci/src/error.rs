//! The crate's one error type: every variant names the object (registry, repository, blob, file)
//! and says what to do where there is something to do.

use crate::digest::Digest;

/// Errors of references, registries, layouts, archives and image content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid reference {input:?}: {reason}")]
    InvalidReference { input: String, reason: String },
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest { input: String, reason: String },
    #[error("blob {expected} does not match its digest (content hashes to {actual}); refusing it")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("blob {digest} has {actual} bytes but its descriptor says {expected}; refusing it")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("invalid manifest {what}: {reason}")]
    InvalidManifest { what: String, reason: String },
    #[error(
        "unsupported manifest media type {0:?} (expected an OCI or Docker v2 schema 2 manifest or index)"
    )]
    UnsupportedMediaType(String),
    #[error("no manifest in {index} matches platform {platform}; available: {available}")]
    NoMatchingPlatform {
        index: String,
        platform: String,
        available: String,
    },
    #[error("registry {registry} refused the credentials{user}: {reason}")]
    Unauthorized {
        registry: String,
        user: String,
        reason: String,
    },
    #[error("registry {registry} denied access to {what}: {reason}")]
    Denied {
        registry: String,
        what: String,
        reason: String,
    },
    #[error("{what} not found in registry {registry}")]
    NotFound { registry: String, what: String },
    #[error("registry {registry}: {method} {url} failed with HTTP {status}: {body}")]
    Http {
        registry: String,
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("registry {registry}: {what}: {source}")]
    Transport {
        registry: String,
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("registry {registry}: {reason}")]
    Protocol { registry: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("OCI layout {path}: {reason}")]
    Layout { path: String, reason: String },
    #[error("docker archive {path}: {reason}")]
    Archive { path: String, reason: String },
    #[error("layer {layer}: {reason}")]
    UnsafeLayer { layer: String, reason: String },
    #[error("{what} exceeds the limit of {limit} bytes ({hint})")]
    TooLarge {
        what: String,
        limit: u64,
        hint: String,
    },
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }

    /// Whether retrying the same operation later can succeed (5xx, connection failures).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Error::Transport { source, .. } => {
                source.is_connect()
                    || source.is_timeout()
                    || source.is_request()
                    || source.is_body()
            }
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
