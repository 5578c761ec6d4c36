//! Catalog and bundle images through the `oci` crate: pulling an image's files (a catalog's
//! `/configs`, a bundle's `manifests/` + `metadata/`) with its config labels and digest, and
//! building a one-layer image from files in memory and pushing it (what `opm` and
//! `operator-sdk bundle` produce; used by tests, benches and uploads).

use std::collections::BTreeMap;

use oci::manifest::media;
use oci::{BlobRef, Digest, RawManifest, Reference, Registry};
use serde_json::{Value, json};

/// The label naming where a catalog image keeps its file-based catalog.
pub const CONFIGS_LABEL: &str = "operators.operatorframework.io.index.configs.v1";

/// Why an image could not be read or written; the message names the image and the registry's answer.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image {image:?}: {source}")]
    Oci {
        image: String,
        #[source]
        source: oci::Error,
    },
    #[error("image {image:?}: {reason}")]
    Invalid { image: String, reason: String },
}

/// An image's files (those under the kept prefixes), its config labels and manifest digest.
pub struct PulledImage {
    pub digest: Digest,
    pub labels: BTreeMap<String, String>,
    pub fs: oci::fs::ImageFs,
}

impl PulledImage {
    /// `(path, bytes)` of every kept file under `dir` (paths relative to `dir`).
    pub fn files_under(&self, dir: &str) -> Vec<(String, Vec<u8>)> {
        let dir = format!("/{}", dir.trim_matches('/'));
        self.fs
            .walk_files(&dir)
            .into_iter()
            .filter_map(|p| {
                let data = self.fs.read_file(&p).ok()?.to_vec();
                let rel = p.strip_prefix(&dir).unwrap_or(&p).trim_start_matches('/');
                Some((rel.to_string(), data))
            })
            .collect()
    }
}

/// Registry options for the platform registry (TLS when offered, unverified, else plain HTTP).
pub fn options() -> oci::Options {
    oci::Options {
        tls_verify: false,
        max_attempts: 2,
        ..Default::default()
    }
}

/// Pulls `image` (`host/repo:tag` or `@digest`) and keeps files under `keep`.
///
/// The registry connection is kept per host between pulls (a fresh one costs a TCP handshake and
/// a `/v2/` ping per pull); a pull that fails on a kept connection is tried once more on a new
/// one when the failure was the connection's (transport, or a token that expired), so a
/// restarted registry costs no failure.
pub async fn pull(image: &str, keep: &[&str]) -> Result<PulledImage, ImageError> {
    let err = |source| ImageError::Oci {
        image: image.to_string(),
        source,
    };
    let reference = Reference::parse(image).map_err(err)?;
    let host = reference.api_host().to_string();
    let (registry, kept) = match kept_registry(&host) {
        Some(r) => (r, true),
        None => (connect(&host).await.map_err(err)?, false),
    };
    match pull_from(image, registry, &reference, keep).await {
        Err(ImageError::Oci {
            source: oci::Error::Transport { .. } | oci::Error::Unauthorized { .. },
            ..
        }) if kept => {
            forget_registry(&host);
            let fresh = connect(&host).await.map_err(err)?;
            pull_from(image, fresh, &reference, keep).await
        }
        other => other,
    }
}

/// Registry connections kept between pulls, by API host.
static REGISTRIES: std::sync::LazyLock<
    std::sync::Mutex<BTreeMap<String, std::sync::Arc<Registry>>>,
> = std::sync::LazyLock::new(Default::default);

fn kept_registry(host: &str) -> Option<std::sync::Arc<Registry>> {
    REGISTRIES
        .lock()
        .expect("registries lock")
        .get(host)
        .cloned()
}

fn forget_registry(host: &str) {
    REGISTRIES.lock().expect("registries lock").remove(host);
}

async fn connect(host: &str) -> oci::Result<std::sync::Arc<Registry>> {
    let registry = std::sync::Arc::new(Registry::connect(host, options()).await?);
    REGISTRIES
        .lock()
        .expect("registries lock")
        .insert(host.to_string(), registry.clone());
    Ok(registry)
}

async fn pull_from(
    image: &str,
    registry: std::sync::Arc<Registry>,
    reference: &Reference,
    keep: &[&str],
) -> Result<PulledImage, ImageError> {
    let err = |source| ImageError::Oci {
        image: image.to_string(),
        source,
    };
    let src = oci::copy::Source::Registry {
        registry,
        reference: reference.clone(),
    };
    let (top, manifest) = src.image(&oci::Platform::host()).await.map_err(err)?;
    let digest = top.digest;
    let config_ref = manifest
        .blob_refs()
        .map_err(err)?
        .into_iter()
        .next()
        .ok_or_else(|| ImageError::Invalid {
            image: image.to_string(),
            reason: "the manifest has no config".into(),
        })?;
    let labels = read_labels(&src, &config_ref).await.map_err(err)?;
    let fs = oci::fs::open_image(&src, &manifest, keep, oci::fs::Limits::default())
        .await
        .map_err(err)?;
    Ok(PulledImage { digest, labels, fs })
}

async fn read_labels(
    src: &oci::copy::Source,
    config: &BlobRef,
) -> oci::Result<BTreeMap<String, String>> {
    use tokio::io::AsyncReadExt;
    let mut r = src.blob(config)?.open(0).await?;
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .await
        .map_err(|e| oci::Error::Config(format!("reading the image config: {e}")))?;
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(v["config"]["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect())
}

/// A tar of `files` (paths relative to the image root).
pub fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mtime(0);
        // Paths were built by the caller; a bad one fails the write, which we surface as empty.
        if b.append_data(&mut h, path.trim_start_matches('/'), data.as_slice())
            .is_err()
        {
            continue;
        }
    }
    b.into_inner().unwrap_or_default()
}

/// Pushes `catalog` as a catalog image to `<host>/<repo>:<tag>`: its FBC stream in
/// `/configs/catalog.json`, the `/configs` location in the image's label, as `opm` builds one;
/// returns the pinned reference.
pub async fn push_catalog(
    host: &str,
    repo: &str,
    tag: &str,
    catalog: &catalog::Catalog,
) -> Result<String, ImageError> {
    let labels = BTreeMap::from([(CONFIGS_LABEL.to_string(), "/configs".to_string())]);
    let files = [(
        "configs/catalog.json".to_string(),
        catalog.to_stream().into_bytes(),
    )];
    push(host, repo, tag, &files, &labels).await
}

/// Builds a one-layer image of `files` with config `labels` and pushes it to
/// `<host>/<repo>:<tag>`; returns the pinned reference `<host>/<repo>@sha256:...`.
pub async fn push(
    host: &str,
    repo: &str,
    tag: &str,
    files: &[(String, Vec<u8>)],
    labels: &BTreeMap<String, String>,
) -> Result<String, ImageError> {
    let image = format!("{host}/{repo}:{tag}");
    let err = |source| ImageError::Oci {
        image: image.clone(),
        source,
    };
    let layer = tar_of(files);
    let layer_digest = Digest::of(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]},
    }))
    .unwrap_or_default();
    let reg = Registry::connect(host, options()).await.map_err(err)?;
    let blobs = [(media::OCI_CONFIG, config), (media::OCI_LAYER, layer)];
    let mut refs = Vec::new();
    for (mt, data) in blobs {
        let r = BlobRef {
            digest: Digest::of(&data),
            size: data.len() as u64,
            media_type: mt.to_string(),
        };
        oci::upload::push_blob(
            &reg,
            repo,
            &r,
            &Memory(data.into()),
            None,
            &oci::progress::none(),
        )
        .await
        .map_err(err)?;
        refs.push(r);
    }
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": refs[0].media_type, "digest": refs[0].digest.to_string(), "size": refs[0].size},
        "layers": [{"mediaType": refs[1].media_type, "digest": refs[1].digest.to_string(), "size": refs[1].size}],
    });
    let m = RawManifest::parse(
        serde_json::to_vec(&doc).unwrap_or_default(),
        Some(media::OCI_MANIFEST),
    )
    .map_err(err)?;
    let d = reg.put_manifest(repo, tag, &m).await.map_err(err)?;
    Ok(format!("{host}/{repo}@{d}"))
}

struct Memory(bytes::Bytes);

impl oci::upload::BlobSource for Memory {
    fn open(
        &self,
        offset: u64,
    ) -> futures::future::BoxFuture<'_, oci::Result<oci::upload::BoxRead>> {
        let data = self.0.slice(offset as usize..);
        Box::pin(async move { Ok(Box::pin(std::io::Cursor::new(data)) as oci::upload::BoxRead) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_holds_the_files_at_their_paths() {
        let t = tar_of(&[("configs/p/catalog.json".into(), b"{}".to_vec())]);
        let mut fs = oci::fs::ImageFs::new(&["/configs"], oci::fs::Limits::default());
        fs.apply_layer("l", t.as_slice()).unwrap();
        assert_eq!(fs.read_file("/configs/p/catalog.json").unwrap(), b"{}");
    }
}
