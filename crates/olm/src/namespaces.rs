//! Keeps the cluster's namespace names in [`ClusterCatalogs`](crate::state::ClusterCatalogs):
//! PackageManifests of global catalogs are served in every namespace.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, reflector, watcher};

use crate::state::ClusterCatalogs;

/// Mirrors the namespace list until the task is dropped.
pub async fn track(client: kube::Client, catalogs: Arc<ClusterCatalogs>) {
    let api: Api<Namespace> = Api::all(client);
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .touched_objects();
    futures::pin_mut!(stream);
    while let Some(ev) = stream.next().await {
        if let Err(e) = ev {
            tracing::debug!(error = %e, "namespace watch error; retrying");
            continue;
        }
        let names: BTreeSet<String> = reader
            .state()
            .iter()
            .filter(|n| n.metadata.deletion_timestamp.is_none())
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        catalogs.set_namespaces(names);
    }
}
