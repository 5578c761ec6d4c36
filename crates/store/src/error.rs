//! The store's error type. Each message names what failed, on which object, and what to do.

use std::path::PathBuf;

use crate::types::Key;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{key} not found")]
    NotFound { key: Key },

    #[error("{key} already exists")]
    AlreadyExists { key: Key },

    /// A precondition (`expected` resourceVersion) did not match: the object changed meanwhile.
    #[error(
        "conflict on {key}: the request expected resourceVersion {expected} but the object is at {current}; read it again and retry"
    )]
    Conflict {
        key: Key,
        expected: u64,
        current: u64,
    },

    /// A watch asked for events after `requested`, but history before `oldest` was compacted
    /// away (or the watcher fell further behind than the retained history): relist and watch
    /// again from the list's revision (Kubernetes: 410 Gone / reason Expired).
    #[error(
        "resourceVersion {requested} is too old: watch history is only kept after revision {oldest}; list again and watch from the list's resourceVersion"
    )]
    Expired { requested: u64, oldest: u64 },

    /// The value cannot be stored as given (not a JSON object, `metadata` not an object, ...).
    #[error("cannot store {key}: {reason}")]
    Invalid { key: Key, reason: String },

    /// Raised by a transaction body to abort it for a reason of its own (nothing is written).
    #[error("transaction aborted: {0}")]
    Aborted(String),

    /// Another `Store` (in this or another process) holds the file: open it once and clone it.
    #[error(
        "store {path} is already open (by this process or another one); open each store once and share clones of it"
    )]
    Locked { path: PathBuf },

    #[error("store {path}: {context}: {source}")]
    Io {
        path: PathBuf,
        context: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("store database error while {context}: {source}")]
    Db {
        context: String,
        #[source]
        source: rusqlite::Error,
    },

    /// Stored data that this version cannot read (newer schema, unparsable row).
    #[error(
        "store {what} is unreadable: {reason}; restore the data directory from a backup or use a newer binary"
    )]
    Corrupt { what: String, reason: String },

    /// A commit of a group this write belonged to failed; nothing of it was written.
    #[error("commit failed, nothing was written: {0}; retry the request")]
    CommitFailed(String),
}

impl StoreError {
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Db { context, source }
    }

    /// True for the errors a client caused and may fix (not found, exists, conflict, expired,
    /// invalid, aborted), false for storage failures.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound { .. }
                | StoreError::AlreadyExists { .. }
                | StoreError::Conflict { .. }
                | StoreError::Expired { .. }
                | StoreError::Invalid { .. }
                | StoreError::Aborted(_)
        )
    }
}
