//! Control-plane configuration: the clusters it serves, their labels, where data lives, and how the
//! cluster list is persisted in the data dir.
//!
//! `--cluster NAME[=key=value,...]` is parsed here ([`ClusterSpec::parse`]). The cluster list is kept
//! in `<data-dir>/clusters.json` so a restart without `--cluster` flags resumes with the same clusters
//! and labels; flags given on a later start add clusters or replace the labels of a named one.
//! `global` always exists and always carries `is-global: "true"`.
//!
//! Labels reach later controllers through the API, not through this file: every cluster's store holds
//! a `ConfigMap` `kube-public/cluster-info` whose `data` has `name` and `labels` (JSON object), and
//! the global cluster holds one `ConfigMap` per cluster in `kube-public` named `cluster-<name>` with
//! the same data (see `crate::bootstrap`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the cluster that always exists and is also served at `/`.
pub const GLOBAL: &str = "global";

/// Errors while reading or validating the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "malformed --cluster {spec:?}: {reason}; expected NAME or NAME=key=value,key2=value2 (values may be empty)"
    )]
    MalformedCluster { spec: String, reason: String },
    #[error(
        "cannot use data dir {path}: {source}; check it exists or can be created and is writable"
    )]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cluster list {path} is corrupt: {source}; fix or remove it (clusters are then taken from --cluster)"
    )]
    CorruptClusterList {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// One cluster as named on the command line: its name and labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl ClusterSpec {
    /// Parses `NAME[=key=value,...]`. The name must be a DNS-1123 label; each label is `key=value`
    /// with a possibly empty value (`cpaas.io/os-linux=`).
    pub fn parse(spec: &str) -> Result<ClusterSpec, ConfigError> {
        let bad = |reason: &str| ConfigError::MalformedCluster {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (name, rest) = match spec.split_once('=') {
            Some((n, r)) => (n, Some(r)),
            None => (spec, None),
        };
        if !is_dns1123_label(name) {
            return Err(bad(&format!(
                "cluster name {name:?} must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)"
            )));
        }
        let mut labels = BTreeMap::new();
        if let Some(rest) = rest {
            for pair in rest.split(',') {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(bad(&format!("label {pair:?} has no '='")));
                };
                if k.is_empty() {
                    return Err(bad(&format!("label {pair:?} has an empty key")));
                }
                if !is_label_key(k) {
                    return Err(bad(&format!("label key {k:?} is not a valid label key")));
                }
                if !is_label_value(v) {
                    return Err(bad(&format!(
                        "label value {v:?} of {k:?} is not a valid label value"
                    )));
                }
                labels.insert(k.to_string(), v.to_string());
            }
        }
        let mut c = ClusterSpec {
            name: name.to_string(),
            labels,
        };
        if c.name == GLOBAL {
            c.labels.insert("is-global".into(), "true".into());
        }
        Ok(c)
    }
}

fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

fn is_label_key(k: &str) -> bool {
    match k.split_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(is_dns1123_label)
                && is_label_name(name)
        }
        None => is_label_name(k),
    }
}

fn is_label_value(v: &str) -> bool {
    v.is_empty() || is_label_name(v)
}

/// Everything `ControlPlane::start` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Address to bind; port 0 picks a free port (the bound address is written to
    /// `<data-dir>/serve.addr` and into the kubeconfigs).
    pub listen: SocketAddr,
    /// Clusters named on the command line (merged with the persisted list).
    pub clusters: Vec<ClusterSpec>,
    /// The platform's image registry, `HOST:PORT` (kept for later controllers).
    pub registry: Option<String>,
    /// Serve plain HTTP instead of TLS (local debugging only).
    pub plain_http: bool,
    /// Events kept per cluster for watches before older ones are compacted (passed to the store).
    pub watch_history: Option<u64>,
    /// How long an Event lives after its last write (kube-apiserver's `--event-ttl`, 1 h).
    pub event_ttl: std::time::Duration,
    /// kube-apiserver's ServiceAccount admission refuses a Pod whose ServiceAccount does not exist
    /// (and waits briefly for a namespace's `default` one). Set it when a controller keeps every
    /// namespace's `default` account (`serve` with its controllers); without one, every Pod
    /// would be refused.
    pub require_service_accounts: bool,
    /// Routers served beside the Kubernetes API, mounted before the listener is announced
    /// (`serve.addr`), so they answer as soon as the server is ready.
    pub mounts: Vec<Mount>,
    /// ClusterRoleBindings created in every cluster when absent, with the bootstrap policy (an
    /// edited one is left alone), e.g. the platform's admin role binding.
    pub extra_cluster_role_bindings: Vec<serde_json::Value>,
}

/// What a [`Mount`] gets: the started control plane's identity services and facts.
pub struct MountContext {
    pub identity: std::sync::Arc<crate::auth::Identity>,
    pub registry: Option<String>,
    pub clusters: Vec<String>,
    pub data_dir: PathBuf,
    /// In-process admin clients per cluster (usable once the control plane serves).
    pub admin_clients: std::collections::BTreeMap<String, kube::Client>,
}

/// Routers by path prefix.
pub type Mounted = Vec<(String, axum::Router)>;

/// Builds routers (path prefix, router) to serve beside the Kubernetes API.
#[derive(Clone)]
pub struct Mount(pub std::sync::Arc<dyn Fn(&MountContext) -> Mounted + Send + Sync>);

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mount")
    }
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: "127.0.0.1:6443".parse().expect("valid default address"),
            clusters: Vec::new(),
            registry: None,
            plain_http: false,
            watch_history: None,
            event_ttl: crate::events::DEFAULT_TTL,
            require_service_accounts: false,
            mounts: Vec::new(),
            extra_cluster_role_bindings: Vec::new(),
        }
    }
}

/// The persisted form of the cluster list, `<data-dir>/clusters.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterList {
    pub clusters: Vec<ClusterSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

impl ClusterList {
    /// Merges persisted clusters with the ones named on the command line: flags win for a cluster
    /// they name, others are kept; `global` is always first and always labelled `is-global=true`.
    pub fn merge(
        persisted: ClusterList,
        flags: &[ClusterSpec],
        registry: Option<String>,
    ) -> ClusterList {
        let mut out: Vec<ClusterSpec> = persisted.clusters;
        for f in flags {
            match out.iter_mut().find(|c| c.name == f.name) {
                Some(existing) => existing.labels = f.labels.clone(),
                None => out.push(f.clone()),
            }
        }
        if !out.iter().any(|c| c.name == GLOBAL) {
            out.insert(
                0,
                ClusterSpec {
                    name: GLOBAL.into(),
                    labels: BTreeMap::new(),
                },
            );
        }
        out.sort_by_key(|c| c.name != GLOBAL);
        for c in out.iter_mut().filter(|c| c.name == GLOBAL) {
            c.labels.insert("is-global".into(), "true".into());
        }
        ClusterList {
            clusters: out,
            registry: registry.or(persisted.registry),
        }
    }

    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("clusters.json")
    }

    pub fn load(data_dir: &Path) -> Result<ClusterList, ConfigError> {
        let path = Self::path(data_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| ConfigError::CorruptClusterList { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClusterList::default()),
            Err(source) => Err(ConfigError::DataDir { path, source }),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<(), ConfigError> {
        let path = Self::path(data_dir);
        let bytes = serde_json::to_vec_pretty(self).expect("cluster list serializes");
        crate::fsutil::write_atomic(&path, &bytes, 0o644)
            .map_err(|source| ConfigError::DataDir { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_only() {
        let c = ClusterSpec::parse("business").unwrap();
        assert_eq!(c.name, "business");
        assert!(c.labels.is_empty());
    }

    #[test]
    fn parses_labels_with_empty_values() {
        let c = ClusterSpec::parse("business=cpaas.io/os-linux=,cpaas.io/arch-amd64=true").unwrap();
        assert_eq!(
            c.labels.get("cpaas.io/os-linux").map(String::as_str),
            Some("")
        );
        assert_eq!(
            c.labels.get("cpaas.io/arch-amd64").map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn rejects_bad_names_and_labels() {
        for bad in [
            "",
            "Business",
            "-x",
            "a=b",
            "a=k=v,",
            "a==v",
            "a=bad key=v",
            "a=k=not ok",
        ] {
            let err = ClusterSpec::parse(bad).unwrap_err().to_string();
            assert!(err.contains("malformed --cluster"), "{bad}: {err}");
        }
    }

    #[test]
    fn global_always_first_and_labelled() {
        let flags = vec![ClusterSpec::parse("b=x=1").unwrap()];
        let merged = ClusterList::merge(ClusterList::default(), &flags, None);
        assert_eq!(merged.clusters[0].name, GLOBAL);
        assert_eq!(merged.clusters[0].labels["is-global"], "true");
        assert_eq!(merged.clusters[1].labels["x"], "1");
    }

    #[test]
    fn restart_without_flags_keeps_clusters_and_flags_replace_labels() {
        let first = ClusterList::merge(
            ClusterList::default(),
            &[ClusterSpec::parse("b=x=1").unwrap()],
            None,
        );
        let again = ClusterList::merge(first.clone(), &[], None);
        assert_eq!(again, first);
        let relabelled = ClusterList::merge(first, &[ClusterSpec::parse("b=y=2").unwrap()], None);
        let b = relabelled.clusters.iter().find(|c| c.name == "b").unwrap();
        assert_eq!(b.labels.len(), 1);
        assert_eq!(b.labels["y"], "2");
    }
}
