//! The cluster registry (`Cluster` objects of `cluster.alauda.io`) and how the plugin controller
//! reaches a target cluster.
//!
//! The plugin set runs in every cluster the controller host serves; each run records its cluster's
//! client and labels in the set's shared [`Directory`] (in `marketplace serve` the client is
//! `ControlPlane::client(name)`, with `marketplace controllers` the kubeconfig's). The run in the
//! global cluster applies one `Cluster` per directory entry (labels: [`default_labels`] + the
//! cluster's own; `spec.embedded: <name>`). A cluster the host does not run for is registered by
//! hand with `spec.kubeconfigSecret` and reached through that kubeconfig.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use apis::cluster::{Cluster, ClusterSpec};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use tokio::sync::watch;

/// Labels every registered cluster carries unless its own labels say otherwise.
pub fn default_labels(global: bool) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        ("cpaas.io/os-linux".to_string(), "true".to_string()),
        ("cpaas.io/arch-amd64".to_string(), "true".to_string()),
    ]);
    if global {
        l.insert("is-global".into(), "true".into());
    }
    l
}

/// One cluster the host runs for.
#[derive(Clone)]
pub struct Entry {
    pub client: kube::Client,
    pub labels: BTreeMap<String, String>,
    pub global: bool,
}

/// The clusters the host runs the set for, by name; the global run watches it for changes.
#[derive(Clone)]
pub struct Directory {
    entries: Arc<Mutex<BTreeMap<String, Entry>>>,
    changed: watch::Sender<u64>,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            entries: Arc::default(),
            changed: watch::channel(0).0,
        }
    }
}

impl Directory {
    pub fn register(&self, name: &str, entry: Entry) {
        self.entries
            .lock()
            .expect("directory lock")
            .insert(name.to_string(), entry);
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn client(&self, name: &str) -> Option<kube::Client> {
        let e = self.entries.lock().expect("directory lock");
        e.get(name).map(|e| e.client.clone())
    }

    pub fn snapshot(&self) -> BTreeMap<String, Entry> {
        self.entries.lock().expect("directory lock").clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The `Cluster` object for a directory entry.
pub fn registry_object(name: &str, entry: &Entry) -> Cluster {
    let mut labels = default_labels(entry.global);
    labels.extend(entry.labels.clone());
    Cluster {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: ClusterSpec {
            embedded: Some(name.to_string()),
            kubeconfig_secret: None,
        },
    }
}

/// Applies the registry objects of every directory entry to the global cluster.
pub async fn publish(
    global: &kube::Client,
    dir: &Directory,
    manager: &str,
) -> Result<(), kube::Error> {
    let api: Api<Cluster> = Api::all(global.clone());
    for (name, entry) in dir.snapshot() {
        let mut obj = registry_object(&name, &entry);
        obj.meta_mut().managed_fields = None;
        let mut body = serde_json::to_value(&obj).expect("a Cluster serializes");
        body["apiVersion"] = Cluster::api_version(&()).into();
        body["kind"] = Cluster::kind(&()).into();
        api.patch(
            &name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&body),
        )
        .await?;
    }
    Ok(())
}

/// Why a cluster cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    #[error(
        "Cluster {0} has neither spec.embedded naming a cluster the controllers run for nor spec.kubeconfigSecret; set one of them"
    )]
    NoWay(String),
    #[error(
        "Cluster {cluster}: the controllers do not run for embedded cluster {embedded}; start serve with --cluster {embedded}"
    )]
    NotEmbedded { cluster: String, embedded: String },
    #[error("Cluster {cluster}: kubeconfig Secret {namespace}/{name}: {reason}")]
    Secret {
        cluster: String,
        namespace: String,
        name: String,
        reason: String,
    },
}

/// A client for the cluster a registry object describes.
pub async fn client_for(
    global: &kube::Client,
    dir: &Directory,
    cluster: &Cluster,
) -> Result<kube::Client, ReachError> {
    let name = cluster.name_any();
    if let Some(embedded) = &cluster.spec.embedded {
        return dir.client(embedded).ok_or_else(|| ReachError::NotEmbedded {
            cluster: name.clone(),
            embedded: embedded.clone(),
        });
    }
    let Some(r) = &cluster.spec.kubeconfig_secret else {
        return Err(ReachError::NoWay(name));
    };
    let fail = |reason: String| ReachError::Secret {
        cluster: name.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
        reason,
    };
    let secrets: Api<Secret> = Api::namespaced(global.clone(), &r.namespace);
    let secret = secrets
        .get_opt(&r.name)
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("not found".into()))?;
    let key = r.key.as_deref().unwrap_or("kubeconfig");
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .ok_or_else(|| fail(format!("has no data key {key:?}")))?;
    let text = std::str::from_utf8(&bytes.0).map_err(|_| fail(format!("{key} is not UTF-8")))?;
    let kc = kube::config::Kubeconfig::from_yaml(text).map_err(|e| fail(e.to_string()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let client = kube::Client::try_from(cfg).map_err(|e| fail(e.to_string()))?;
    // A cluster that does not answer is reported, not waited for.
    match tokio::time::timeout(REACH_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(fail(format!("the cluster does not answer: {e}"))),
        Err(_) => Err(fail(format!(
            "the cluster did not answer within {REACH_TIMEOUT:?}"
        ))),
    }
}

/// How long a cluster reached by kubeconfig may take to answer `/version`.
const REACH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_linux_amd64_and_global_marks_itself() {
        let g = default_labels(true);
        assert_eq!(g.get("is-global").map(String::as_str), Some("true"));
        assert_eq!(g.get("cpaas.io/os-linux").map(String::as_str), Some("true"));
        assert_eq!(
            g.get("cpaas.io/arch-amd64").map(String::as_str),
            Some("true")
        );
        assert!(!default_labels(false).contains_key("is-global"));
    }
}
