//! Helpers shared by the apiserver integration tests (each test file that needs one declares
//! `mod support;`).

use kube::api::{Api, ListParams};

/// The collection's current resourceVersion, from a list: where a watch of only later changes
/// starts.
pub async fn list_revision<K>(api: &Api<K>) -> String
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}
