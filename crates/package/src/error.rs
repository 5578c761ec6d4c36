//! The crate's error type: each refusal names the archive entry, metadata field or image it is
//! about and, where there is one, the fix.

/// Errors reading, verifying or building a package.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An archive entry that is refused (unsafe path, link, device, duplicate, unexpected name).
    #[error("package {package}: entry {entry:?} refused: {reason}")]
    Entry {
        package: String,
        entry: String,
        reason: String,
    },
    /// The archive expands beyond the configured bounds (a decompression bomb or a corrupt file).
    #[error("package {package}: refused while reading entry {entry:?}: {reason}")]
    TooLarge {
        package: String,
        entry: String,
        reason: String,
    },
    /// The archive is not a gzip'd tar or is truncated.
    #[error(
        "package {package}: not a readable gzip'd tar ({reason}); was it downloaded completely?"
    )]
    Corrupt { package: String, reason: String },
    #[error("package.yaml: field {field}: {reason}")]
    Metadata { field: String, reason: String },
    /// Content that does not match the digest it is named or listed by.
    #[error(
        "package {package}: {what} does not match its digest: expected {expected}, content is {actual}; the package was altered or damaged — download it again"
    )]
    Digest {
        package: String,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("package {package}: image {image}: {reason}")]
    Image {
        package: String,
        image: String,
        reason: String,
    },
    #[error("pack: {0}")]
    Pack(String),
    #[error(transparent)]
    Oci(#[from] oci::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
    pub(crate) fn meta(field: &str, reason: impl Into<String>) -> Error {
        Error::Metadata {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}
