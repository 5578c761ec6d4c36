//! Helm charts as OCI artifacts, in the layout `helm push` writes: an OCI image manifest whose
//! config is the chart's `Chart.yaml` as JSON (`application/vnd.cncf.helm.config.v1+json`) and
//! whose one layer is the packaged chart (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`),
//! tagged with the chart version (`+` becomes `_`), in repository `<path>/<chart name>`.

use std::io::Read;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use crate::client::Registry;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{BlobRef, RawManifest, media};
use crate::upload::{self, BlobSource, BoxRead};

/// Packaged charts larger than this are refused (Helm's own limit for chart archives is 20 MiB
/// of decompressed files; packaged charts are far smaller).
pub const MAX_CHART_BYTES: u64 = 64 << 20;

/// Helm's `Chart.yaml` field order (its Go `Metadata` struct), used for the config JSON.
const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];

/// A packaged chart ready to push.
#[derive(Debug, Clone)]
pub struct ChartArtifact {
    pub name: String,
    pub version: String,
    pub config: Vec<u8>,
    pub tgz: Vec<u8>,
}

impl ChartArtifact {
    /// Reads `<chart>/Chart.yaml` out of a packaged chart (`helm package` output).
    pub fn from_tgz(tgz: Vec<u8>) -> Result<ChartArtifact> {
        let bad = |reason: String| Error::Config(format!("chart archive: {reason}"));
        if tgz.len() as u64 > MAX_CHART_BYTES {
            return Err(Error::TooLarge {
                what: "chart archive".into(),
                limit: MAX_CHART_BYTES,
                hint: "not a Helm chart".into(),
            });
        }
        let gz = flate2::read::GzDecoder::new(&tgz[..]).take(MAX_CHART_BYTES * 4);
        let mut tar = tar::Archive::new(gz);
        let mut chart_yaml = None;
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(format!("not a gzip tar: {e}")))?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let parts: Vec<&str> = path.trim_start_matches("./").split('/').collect();
            if parts.len() == 2 && parts[1] == "Chart.yaml" {
                let mut s = String::new();
                entry
                    .by_ref()
                    .take(1 << 20)
                    .read_to_string(&mut s)
                    .map_err(|e| bad(e.to_string()))?;
                chart_yaml = Some(s);
                break;
            }
        }
        let text = chart_yaml.ok_or_else(|| bad("no <chart>/Chart.yaml inside".into()))?;
        let meta: Value =
            serde_yaml::from_str(&text).map_err(|e| bad(format!("Chart.yaml: {e}")))?;
        let field = |k: &str| {
            meta.get(k)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        let name = field("name").ok_or_else(|| bad("Chart.yaml has no name".into()))?;
        let version = field("version").ok_or_else(|| bad("Chart.yaml has no version".into()))?;
        Ok(ChartArtifact {
            config: config_json(&meta),
            name,
            version,
            tgz,
        })
    }

    /// The tag Helm uses for the version (OCI tags cannot hold `+`).
    pub fn tag(&self) -> String {
        self.version.replace('+', "_")
    }

    /// The OCI manifest `helm push` would write for these blobs.
    pub fn manifest(&self) -> Result<RawManifest> {
        let (config, layer) = self.blobs();
        let mut annotations = Map::new();
        annotations.insert("org.opencontainers.image.title".into(), json!(self.name));
        annotations.insert(
            "org.opencontainers.image.version".into(),
            json!(self.version),
        );
        let doc = json!({
            "schemaVersion": 2,
            "config": {"mediaType": config.media_type, "digest": config.digest.to_string(), "size": config.size},
            "layers": [{"mediaType": layer.media_type, "digest": layer.digest.to_string(), "size": layer.size}],
            "annotations": annotations,
        });
        RawManifest::parse(
            serde_json::to_vec(&doc).map_err(|e| Error::Config(e.to_string()))?,
            Some(media::OCI_MANIFEST),
        )
    }

    fn blobs(&self) -> (BlobRef, BlobRef) {
        (
            BlobRef {
                digest: Digest::of(&self.config),
                size: self.config.len() as u64,
                media_type: media::HELM_CONFIG.into(),
            },
            BlobRef {
                digest: Digest::of(&self.tgz),
                size: self.tgz.len() as u64,
                media_type: media::HELM_CHART.into(),
            },
        )
    }
}

/// `Chart.yaml` as the JSON Helm stores in the config blob: known fields in Helm's order, empty
/// ones left out.
fn config_json(meta: &Value) -> Vec<u8> {
    let mut out = Map::new();
    for f in METADATA_FIELDS {
        match meta.get(*f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Bool(false)) => {}
            Some(v) => {
                out.insert((*f).to_string(), v.clone());
            }
        }
    }
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

struct Memory(bytes::Bytes);

impl BlobSource for Memory {
    fn open(&self, offset: u64) -> BoxFuture<'_, Result<BoxRead>> {
        let data = self.0.slice(offset as usize..);
        Box::pin(async move { Ok(Box::pin(std::io::Cursor::new(data)) as BoxRead) })
    }
}

/// Pushes a chart to `<path>/<chart name>:<version>` as `helm push CHART oci://REGISTRY/<path>`
/// does; returns the repository and the manifest digest. Blobs first, the tag last.
pub async fn push(reg: &Registry, path: &str, chart: &ChartArtifact) -> Result<(String, Digest)> {
    let repo = if path.is_empty() {
        chart.name.clone()
    } else {
        format!("{}/{}", path.trim_matches('/'), chart.name)
    };
    let (config, layer) = chart.blobs();
    let none = crate::progress::none();
    upload::push_blob(
        reg,
        &repo,
        &config,
        &Memory(chart.config.clone().into()),
        None,
        &none,
    )
    .await?;
    upload::push_blob(
        reg,
        &repo,
        &layer,
        &Memory(chart.tgz.clone().into()),
        None,
        &none,
    )
    .await?;
    let m = chart.manifest()?;
    let d = reg.put_manifest(&repo, &chart.tag(), &m).await?;
    Ok((repo, d))
}

/// Pulls the packaged chart `repo:version`, checking media types and digests.
pub async fn pull(reg: &Registry, repo: &str, version: &str) -> Result<Vec<u8>> {
    let tag = version.replace('+', "_");
    let m = reg.get_manifest(repo, &tag).await?;
    let crate::Manifest::Image(img) = &m.parsed else {
        return Err(Error::InvalidManifest {
            what: format!("{repo}:{tag}"),
            reason: "an index, not a Helm chart".into(),
        });
    };
    let config = img.config().media_type().to_string();
    if config != media::HELM_CONFIG {
        return Err(Error::InvalidManifest {
            what: format!("{repo}:{tag}"),
            reason: format!(
                "config media type is {config}, not a Helm chart ({})",
                media::HELM_CONFIG
            ),
        });
    }
    let layer = m
        .blob_refs()?
        .into_iter()
        .find(|b| b.media_type == media::HELM_CHART)
        .ok_or_else(|| Error::InvalidManifest {
            what: format!("{repo}:{tag}"),
            reason: format!("no {} layer", media::HELM_CHART),
        })?;
    if layer.size > MAX_CHART_BYTES {
        return Err(Error::TooLarge {
            what: format!("chart {repo}:{tag}"),
            limit: MAX_CHART_BYTES,
            hint: "not a Helm chart".into(),
        });
    }
    let resp = reg.get_blob(repo, &layer.digest, 0).await?;
    let mut out = Vec::with_capacity(layer.size as usize);
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| reg.transport("chart download", e))?;
        if (out.len() + chunk.len()) as u64 > layer.size {
            return Err(Error::SizeMismatch {
                digest: layer.digest.clone(),
                expected: layer.size,
                actual: (out.len() + chunk.len()) as u64,
            });
        }
        out.extend_from_slice(&chunk);
    }
    layer.digest.verify(&out)?;
    Ok(out)
}

/// Splits `oci://REGISTRY/path/chart` into registry host and repository.
pub fn parse_oci_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("oci://")
        .ok_or_else(|| Error::Config(format!("{url:?} is not an oci:// chart reference")))?;
    let (host, repo) = rest
        .split_once('/')
        .ok_or_else(|| Error::Config(format!("{url:?}: expected oci://REGISTRY/REPOSITORY")))?;
    let r = crate::Reference::new(host, repo, "latest")?;
    Ok((r.api_host().to_string(), r.repository().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn tgz(chart_yaml: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in [
            ("mychart/Chart.yaml", chart_yaml.as_bytes()),
            ("mychart/values.yaml", b"a: 1\n".as_slice()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, d).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&b.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn chart_manifest_has_helm_media_types_and_metadata_in_helm_order() {
        let a = ChartArtifact::from_tgz(tgz("apiVersion: v2\nname: mychart\nversion: 1.2.3+build.1\ndescription: demo\ntype: application\n")).unwrap();
        assert_eq!(
            (a.name.as_str(), a.tag().as_str()),
            ("mychart", "1.2.3_build.1")
        );
        assert_eq!(
            String::from_utf8(a.config.clone()).unwrap(),
            r#"{"name":"mychart","version":"1.2.3+build.1","description":"demo","apiVersion":"v2","type":"application"}"#
        );
        let m = a.manifest().unwrap();
        assert_eq!(m.media_type, media::OCI_MANIFEST);
        let blobs = m.blob_refs().unwrap();
        assert_eq!(
            (blobs[0].media_type.as_str(), blobs[1].media_type.as_str()),
            (media::HELM_CONFIG, media::HELM_CHART)
        );
        assert_eq!(blobs[1].digest, Digest::of(&a.tgz));
    }

    #[test]
    fn archives_without_chart_yaml_or_version_are_refused() {
        let e = ChartArtifact::from_tgz(tgz("apiVersion: v2\nname: x\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no version"), "{e}");
        let e = ChartArtifact::from_tgz(b"not gzip".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("chart archive"), "{e}");
    }

    #[test]
    fn oci_urls_split_into_registry_and_repository() {
        assert_eq!(
            parse_oci_url("oci://127.0.0.1:5000/charts/app").unwrap(),
            ("127.0.0.1:5000".into(), "charts/app".into())
        );
        assert!(parse_oci_url("https://x/y").is_err());
    }
}
