//! `release`: Helm releases in a cluster, stored and applied exactly as Helm v4 does.
//!
//! **Owns**: the release record ([`model`]: Helm v4's `release.v1` JSON), its storage as Helm's
//! Secrets ([`storage`]: `sh.helm.release.v1.<name>.v<N>`, base64 + gzip + JSON, Helm's labels), and
//! the [`Installer`] over a `kube::Client`: install / upgrade / rollback / uninstall / list /
//! history / status / diff, rendering with the `helm` crate (capabilities from the cluster's
//! discovery, `lookup` answered from the cluster), server-side apply with Helm's field manager,
//! CRDs from `crds/` first, hooks with weights and delete policies, pruning, `--wait`, atomic
//! rollback, server dry runs ([`cluster`] holds the cluster I/O and the pure readiness rules,
//! [`hooks`] the hook rules, [`diff`] the per-object diff).
//!
//! **Does not own**: chart loading and rendering (the `helm` crate), command-line parsing (the
//! `marketplace` binary), or anything inside the API server (only `kube::Client`).

pub mod cluster;
pub mod diff;
pub mod hooks;
mod installer;
pub mod model;
pub mod storage;

use std::time::Duration;

pub use diff::{ChangeKind, ObjectChange};
pub use installer::Installer;
pub use model::{Hook, Info, Release, Status};

/// What to install or upgrade (the contract PLUG calls).
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// The loaded chart.
    pub chart: helm::Chart,
    /// User values (`-f`, `--set` merged); an object or null.
    pub values: serde_json::Value,
    /// Wait until the release's workloads are ready (`--wait`).
    pub wait: bool,
    /// Bound on hooks and waiting (`--timeout`, Helm's default 5m).
    pub timeout: Duration,
    /// Failed install → uninstall; failed upgrade → roll back (`--atomic`).
    pub atomic: bool,
    /// Create the namespace if missing (`--create-namespace`).
    pub create_namespace: bool,
}

impl InstallOptions {
    /// Options with Helm's defaults (no wait, 5 minutes, not atomic, no namespace creation).
    pub fn new(name: &str, namespace: &str, chart: helm::Chart) -> InstallOptions {
        InstallOptions {
            name: name.into(),
            namespace: namespace.into(),
            chart,
            values: serde_json::Value::Null,
            wait: false,
            timeout: Duration::from_secs(300),
            atomic: false,
            create_namespace: false,
        }
    }
}

/// A failed release operation. Display texts follow Helm's where Helm has one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Render(#[from] helm::RenderError),
    #[error("release: not found")]
    NotFound(String),
    #[error("cannot re-use a name that is still in use")]
    NameInUse(String),
    #[error("release {0}: already exists")]
    ReleaseExists(String),
    #[error("\"{0}\" has no deployed releases")]
    NoDeployed(String),
    #[error("another operation (install/upgrade/rollback) is in progress")]
    InProgress(String),
    /// Refused input (bad name, values, manifest), with what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {source}")]
    Kube {
        context: String,
        #[source]
        source: kube::Error,
    },
    /// A step of the operation failed; the text is Helm's for that step.
    #[error("{0}")]
    Failed(String),
    #[error("encode release: {0}")]
    Encode(String),
    #[error("decode release: {0}")]
    Decode(String),
}

impl Error {
    pub(crate) fn kube(context: &str, source: kube::Error) -> Error {
        Error::Kube {
            context: context.into(),
            source,
        }
    }
}
