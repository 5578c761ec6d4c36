//! Why a catalog or bundle was refused: always the file and the field at fault.

/// A catalog, bundle or range that cannot be used. `Display` reads `FILE: FIELD: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The content of `file` is wrong at `field`.
    #[error("{file}: {field}: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
    /// `file` could not be read.
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

impl Error {
    pub(crate) fn invalid(
        file: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            file: file.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(file: impl Into<String>, err: impl std::fmt::Display) -> Error {
        Error::Io {
            file: file.into(),
            message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
