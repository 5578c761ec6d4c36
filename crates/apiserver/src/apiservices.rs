//! kube-apiserver's APIService autoregistration for the groups this server serves itself: every
//! served group/version has its `APIService` (`kubectl get apiservices` lists them `Local` and
//! available), kept in line with the catalogue as CRDs and computed resources come and go. Which
//! objects, with which priorities, is [`apiresources::apiservices`]; this module only writes them.
//!
//! Only objects carrying the automanaged label are changed or removed: an APIService someone else
//! made (an aggregated server's) is left alone.

use std::collections::HashSet;
use std::sync::Arc;

use apiresources::apiservices::{AUTOMANAGED_LABEL, local_api_services, local_status};
use serde_json::Value;
use store::{Key, StoreError};

use crate::cluster::{ClusterState, blocking, ensure_object};

/// The store resource of APIServices.
const RESOURCE: &str = "apiregistration.k8s.io/apiservices";

/// Registers the cluster's groups at start, then again after each change of its catalogue, until
/// shutdown.
pub async fn autoregister(cluster: Arc<ClusterState>) {
    loop {
        let c = cluster.clone();
        if let Err(e) = blocking(move || sync(&c)).await {
            tracing::warn!(cluster = %cluster.name, error = %e, "cannot register the served API groups as APIServices; will retry on the next catalogue change");
        }
        tokio::select! {
            _ = cluster.catalogue_changed() => {}
            _ = cluster.shutdown.cancelled() => return,
        }
    }
}

/// Brings the stored APIServices in line with the catalogue's: ours made or updated (their spec
/// and labels; `ensure_object` writes only what differs, and a write that changes nothing commits
/// nothing), ours no longer served deleted, others' left alone.
fn sync(cluster: &ClusterState) -> Result<(), StoreError> {
    let want = local_api_services(cluster.catalogue().resources());
    let (have, _) = cluster.list_all(RESOURCE, None)?;
    let name = |o: &Value| {
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let managed = |o: &Value| o["metadata"]["labels"].get(AUTOMANAGED_LABEL).is_some();
    let others: HashSet<String> = have.iter().filter(|h| !managed(h)).map(name).collect();
    let wanted: HashSet<String> = want.iter().map(name).collect();
    let now = apimachinery::meta::now_rfc3339();
    cluster.store.write(|t| {
        for w in want.iter().filter(|w| !others.contains(&name(w))) {
            let mut obj = w.clone();
            obj["status"] = local_status(&now);
            let key = Key::cluster(RESOURCE, name(w));
            ensure_object(t, &key, &obj, &["/spec", "/metadata/labels"], &now)?;
        }
        for h in have
            .iter()
            .filter(|h| managed(h) && !wanted.contains(&name(h)))
        {
            match t.delete(&Key::cluster(RESOURCE, name(h)), None) {
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })?;
    Ok(())
}
