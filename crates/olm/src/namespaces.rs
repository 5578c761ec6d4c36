//! Keeps the cluster's namespace names in [`ClusterCatalogs`](crate::state::ClusterCatalogs):
//! PackageManifests of global catalogs are served in every namespace.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use crate::state::ClusterCatalogs;

/// Mirrors the namespace list until the task is dropped.
pub async fn track(client: kube::Client, catalogs: Arc<ClusterCatalogs>) {
    let api: Api<Namespace> = Api::all(client);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut names = BTreeSet::new();
    let mut initial = BTreeSet::new();
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(Event::Init) => initial.clear(),
            Ok(Event::InitApply(ns)) => {
                initial.insert(ns.metadata.name.unwrap_or_default());
            }
            Ok(Event::InitDone) => {
                names = std::mem::take(&mut initial);
                catalogs.set_namespaces(names.clone());
            }
            Ok(Event::Apply(ns)) => {
                let name = ns.metadata.name.unwrap_or_default();
                if ns.metadata.deletion_timestamp.is_some() {
                    names.remove(&name);
                } else {
                    names.insert(name);
                }
                catalogs.set_namespaces(names.clone());
            }
            Ok(Event::Delete(ns)) => {
                names.remove(&ns.metadata.name.unwrap_or_default());
                catalogs.set_namespaces(names.clone());
            }
            Err(e) => tracing::warn!(error = %e, "namespace watch failed; retrying"),
        }
    }
    tracing::warn!("namespace watch ended");
}
