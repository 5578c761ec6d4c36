//! The `public-charts` Helm repository the platform serves, computed from the chart
//! ArtifactVersions of the global cluster:
//!
//! - `GET /charts/public-charts/index.yaml`: a Helm repository index (apiVersion v1) with one entry
//!   per `Ready` chart ArtifactVersion in `cpaas-system`: the chart's `Chart.yaml` metadata (read
//!   from the chart artifact's Helm config blob in the registry, cached by manifest digest — it is
//!   immutable), `urls: [<name>-<version>.tgz]` (relative to the repository URL, as Helm resolves
//!   them), `digest` (the chart layer's sha256, which is the `.tgz`'s) and `created`.
//! - `GET /charts/public-charts/<name>-<version>.tgz`: the packaged chart, pulled from the registry
//!   (digests verified by the oci crate).
//!
//! Nothing is copied: the registry holds the charts, the ArtifactVersions say which are published,
//! so a pushed chart appears as soon as its ArtifactVersion is Ready. Reading needs no token
//! (public charts; `helm repo add` sends none), writing is `violet push`'s.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use apis::artifacts::{ArtifactType, ArtifactVersion, NAMESPACE, Phase, TYPE_LABEL};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::images::{Images, lookup};

/// The repository's name.
pub const REPO: &str = "public-charts";
/// Where it is served.
pub const PREFIX: &str = "/charts/public-charts/";

/// What the index needs of one published chart artifact.
#[derive(Clone, Debug)]
struct ChartMeta {
    metadata: Value,
    layer_digest: String,
}

/// Fetches the chart artifact's Chart.yaml metadata and chart layer digest.
async fn read_meta(images: &Images, image: &str) -> Result<ChartMeta, String> {
    let reg = images
        .connect()
        .await?
        .ok_or("no platform registry to read charts from")?;
    let (repo, key) = lookup(image)?;
    let m = reg
        .get_manifest(&repo, &key)
        .await
        .map_err(|e| format!("chart {image}: {e}"))?;
    let oci::Manifest::Image(img) = &m.parsed else {
        return Err(format!("chart {image}: an index, not a Helm chart"));
    };
    let config = img.config();
    if config.media_type().to_string() != oci::media::HELM_CONFIG {
        return Err(format!(
            "chart {image}: config media type {} is not a Helm chart's ({})",
            config.media_type(),
            oci::media::HELM_CONFIG
        ));
    }
    let layer = m
        .blob_refs()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|b| b.media_type == oci::media::HELM_CHART)
        .ok_or_else(|| format!("chart {image}: no {} layer", oci::media::HELM_CHART))?;
    let config_digest = oci::Digest::parse(config.digest().as_ref()).map_err(|e| e.to_string())?;
    let resp = reg
        .get_blob(&repo, &config_digest, 0)
        .await
        .map_err(|e| format!("chart {image}: config: {e}"))?;
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("chart {image}: config: {e}"))?;
    config_digest
        .verify(&bytes)
        .map_err(|e| format!("chart {image}: config: {e}"))?;
    let metadata: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("chart {image}: config is not Chart.yaml JSON: {e}"))?;
    Ok(ChartMeta {
        metadata,
        layer_digest: layer.digest.to_string(),
    })
}

/// Checks `image` is a Helm chart artifact (the controller's chart check).
pub async fn check_chart(images: &Images, image: &str) -> Result<(), String> {
    read_meta(images, image).await.map(|_| ())
}

/// The `.tgz` file name of a chart version in the index.
pub fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.tgz")
}

/// One index entry: the chart's metadata plus where and what to download.
pub fn index_entry(metadata: &Value, layer_digest: &str, created: Option<&str>) -> Value {
    let mut e = metadata.clone();
    let name = e["name"].as_str().unwrap_or_default().to_string();
    let version = e["version"].as_str().unwrap_or_default().to_string();
    e["urls"] = json!([file_name(&name, &version)]);
    e["digest"] = layer_digest.trim_start_matches("sha256:").into();
    if let Some(c) = created {
        e["created"] = c.into();
    }
    e
}

/// A Helm repository index of `entries` (each from [`index_entry`]), sorted by name then newest
/// first as Helm writes them (by the order given; versions are not re-sorted here).
pub fn index(entries: Vec<Value>, generated: &str) -> Value {
    let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in entries {
        let name = e["name"].as_str().unwrap_or_default().to_string();
        by_name.entry(name).or_default().push(e);
    }
    json!({"apiVersion": "v1", "entries": by_name, "generated": generated})
}

/// The repository server.
pub struct ChartRepo {
    client: kube::Client,
    images: Images,
    meta: Mutex<HashMap<String, ChartMeta>>,
}

impl ChartRepo {
    /// `client`: the global cluster (reads ArtifactVersions); `registry`: the platform registry.
    pub fn new(client: kube::Client, registry: Option<String>) -> Arc<ChartRepo> {
        Arc::new(ChartRepo {
            client,
            images: Images::new(registry),
            meta: Mutex::new(HashMap::new()),
        })
    }

    async fn published(&self) -> Result<Vec<ArtifactVersion>, String> {
        let api: Api<ArtifactVersion> = Api::namespaced(self.client.clone(), NAMESPACE);
        let lp = ListParams::default().labels(&format!("{TYPE_LABEL}={}", ArtifactType::Chart));
        let list = api.list(&lp).await.map_err(|e| e.to_string())?;
        Ok(list
            .items
            .into_iter()
            .filter(|v| v.spec.type_ == ArtifactType::Chart)
            .filter(|v| v.status.as_ref().is_some_and(|s| s.phase == Phase::Ready))
            .collect())
    }

    async fn meta_of(&self, image: &str) -> Result<ChartMeta, String> {
        if let Some(m) = self.meta.lock().expect("chart cache lock").get(image) {
            return Ok(m.clone());
        }
        let m = read_meta(&self.images, image).await?;
        // Only digest-pinned references are immutable enough to cache.
        if image.contains("@sha256:") {
            self.meta
                .lock()
                .expect("chart cache lock")
                .insert(image.to_string(), m.clone());
        }
        Ok(m)
    }

    async fn index_yaml(&self) -> Result<String, String> {
        let mut entries = Vec::new();
        for v in self.published().await? {
            match self.meta_of(&v.spec.image).await {
                Ok(m) => {
                    let created = v
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| t.0.to_string());
                    entries.push(index_entry(
                        &m.metadata,
                        &m.layer_digest,
                        created.as_deref(),
                    ))
                }
                Err(e) => {
                    tracing::warn!(version = %v.name_any(), error = %e, "chart left out of public-charts")
                }
            }
        }
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        serde_yaml::to_string(&index(entries, &now)).map_err(|e| e.to_string())
    }

    async fn tgz(&self, file: &str) -> Result<Option<Vec<u8>>, String> {
        for v in self.published().await? {
            let Some(chart) = &v.spec.chart else { continue };
            if file_name(&chart.name, &chart.version) != file {
                continue;
            }
            let reg = self.images.connect().await?.ok_or("no platform registry")?;
            let (repo, key) = lookup(&v.spec.image)?;
            return oci::chart::pull(&reg, &repo, &key)
                .await
                .map(Some)
                .map_err(|e| e.to_string());
        }
        Ok(None)
    }
}

fn failure(code: StatusCode, message: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}

async fn get_file(State(repo): State<Arc<ChartRepo>>, Path(file): Path<String>) -> Response {
    if file == "index.yaml" {
        return match repo.index_yaml().await {
            Ok(y) => ([(header::CONTENT_TYPE, "application/x-yaml")], y).into_response(),
            Err(e) => failure(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("public-charts index: {e}"),
            ),
        };
    }
    match repo.tgz(&file).await {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "application/gzip")], bytes).into_response(),
        Ok(None) => failure(
            StatusCode::NOT_FOUND,
            format!("{file}: no such chart in public-charts; see index.yaml"),
        ),
        Err(e) => failure(StatusCode::BAD_GATEWAY, format!("{file}: {e}")),
    }
}

/// The repository as a control plane mount (served from before the server is announced).
pub fn mount() -> apiserver::Mount {
    apiserver::Mount(Arc::new(|cx: &apiserver::MountContext| {
        let Some(global) = cx.admin_clients.get(apiserver::GLOBAL) else {
            return Vec::new();
        };
        let repo = ChartRepo::new(global.clone(), cx.registry.clone());
        vec![(PREFIX.to_string(), router(repo))]
    }))
}

/// The router serving [`PREFIX`] (mount it on the control plane with `ControlPlane::mount`).
pub fn router(repo: Arc<ChartRepo>) -> axum::Router {
    axum::Router::new()
        .route("/charts/public-charts/{file}", axum::routing::get(get_file))
        .with_state(repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_entry_is_the_chart_metadata_with_a_relative_url_and_the_tgz_digest() {
        let meta =
            json!({"apiVersion": "v2", "name": "demo", "version": "1.2.0", "description": "d"});
        let e = index_entry(&meta, "sha256:abcd", Some("2026-01-01T00:00:00Z"));
        assert_eq!(e["urls"], json!(["demo-1.2.0.tgz"]));
        assert_eq!(e["digest"], "abcd");
        assert_eq!(e["apiVersion"], "v2");
        let idx = index(
            vec![e.clone(), index_entry(&meta, "sha256:ef", None)],
            "now",
        );
        assert_eq!(idx["apiVersion"], "v1");
        assert_eq!(idx["entries"]["demo"].as_array().unwrap().len(), 2);
    }
}
