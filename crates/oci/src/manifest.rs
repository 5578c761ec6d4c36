//! Manifests and indexes (OCI and Docker v2 schema 2, incl. manifest lists) kept as the exact bytes
//! they were read as — so digests are preserved on copy — together with their parsed `oci-spec`
//! form; media types (incl. Helm's chart artifact); platform selection in an index.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::digest::Digest;
use crate::error::{Error, Result};

pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
    pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    pub const HELM_PROVENANCE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";

    /// The `Accept` header for manifest requests: every kind this crate understands.
    pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
        application/vnd.oci.image.manifest.v1+json, \
        application/vnd.docker.distribution.manifest.list.v2+json, \
        application/vnd.docker.distribution.manifest.v2+json";

    pub fn is_index(mt: &str) -> bool {
        mt == OCI_INDEX || mt == DOCKER_LIST
    }
    pub fn is_manifest(mt: &str) -> bool {
        mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
    }
}

/// Upper bound on a manifest's size (the distribution spec lets registries refuse above 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// A manifest or index exactly as stored, with its digest and parsed form.
#[derive(Clone, Debug)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
    pub parsed: Manifest,
}

#[derive(Clone, Debug)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

impl RawManifest {
    /// Parses `bytes`; the media type comes from the document's `mediaType`, else from
    /// `content_type` (e.g. the HTTP header or the referring descriptor), else from its shape.
    pub fn parse(bytes: Vec<u8>, content_type: Option<&str>) -> Result<RawManifest> {
        let digest = Digest::of(&bytes);
        let what = digest.to_string();
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                what: format!("manifest {what}"),
                limit: MAX_MANIFEST_BYTES as u64,
                hint: "not an image manifest".into(),
            });
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::InvalidManifest {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        let media_type =
            media_type_of(&value, content_type).ok_or_else(|| Error::InvalidManifest {
                what: what.clone(),
                reason: "cannot tell whether it is a manifest or an index (no mediaType)".into(),
            })?;
        let invalid = |e: serde_json::Error| Error::InvalidManifest {
            what: what.clone(),
            reason: e.to_string(),
        };
        let parsed = if media::is_index(&media_type) {
            Manifest::Index(serde_json::from_value(value).map_err(invalid)?)
        } else if media::is_manifest(&media_type) {
            Manifest::Image(serde_json::from_value(value).map_err(invalid)?)
        } else {
            return Err(Error::UnsupportedMediaType(media_type));
        };
        Ok(RawManifest {
            bytes,
            media_type,
            digest,
            parsed,
        })
    }

    /// Parses and checks the bytes against the digest they were asked for.
    pub fn parse_verified(
        bytes: Vec<u8>,
        content_type: Option<&str>,
        expected: &Digest,
    ) -> Result<RawManifest> {
        expected.verify(&bytes)?;
        RawManifest::parse(bytes, content_type)
    }

    pub fn is_index(&self) -> bool {
        matches!(self.parsed, Manifest::Index(_))
    }

    /// Every blob an image manifest refers to (config first, then layers; empty for an index); a
    /// descriptor with a malformed digest is an error.
    pub fn blob_refs(&self) -> Result<Vec<BlobRef>> {
        match &self.parsed {
            Manifest::Image(m) => std::iter::once(m.config())
                .chain(m.layers().iter())
                .map(BlobRef::from_descriptor)
                .collect(),
            Manifest::Index(_) => Ok(Vec::new()),
        }
    }

    /// The manifests an index lists (empty for an image manifest).
    pub fn children(&self) -> Result<Vec<BlobRef>> {
        match &self.parsed {
            Manifest::Index(i) => i.manifests().iter().map(BlobRef::from_descriptor).collect(),
            Manifest::Image(_) => Ok(Vec::new()),
        }
    }

    /// The image manifest for `platform` in an index.
    pub fn select_platform(&self, platform: &Platform) -> Result<BlobRef> {
        let Manifest::Index(index) = &self.parsed else {
            return Err(Error::InvalidManifest {
                what: self.digest.to_string(),
                reason: "not an index".into(),
            });
        };
        let entries: Vec<(Platform, &Descriptor)> = index
            .manifests()
            .iter()
            .filter_map(|d| d.platform().as_ref().map(|p| (Platform::from_spec(p), d)))
            .collect();
        let chosen = platform.choose(entries.iter().map(|(p, _)| p));
        match chosen {
            Some(i) => BlobRef::from_descriptor(entries[i].1),
            None => Err(Error::NoMatchingPlatform {
                index: self.digest.to_string(),
                platform: platform.to_string(),
                available: entries
                    .iter()
                    .map(|(p, _)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

fn media_type_of(value: &serde_json::Value, content_type: Option<&str>) -> Option<String> {
    if let Some(mt) = value.get("mediaType").and_then(|v| v.as_str()) {
        return Some(mt.to_string());
    }
    if value.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Some(media::DOCKER_SCHEMA1_SIGNED.to_string());
    }
    if let Some(ct) = content_type.map(|c| c.split(';').next().unwrap_or("").trim())
        && (media::is_index(ct) || media::is_manifest(ct))
    {
        return Some(ct.to_string());
    }
    if value.get("manifests").is_some() {
        Some(media::OCI_INDEX.to_string())
    } else if value.get("layers").is_some() || value.get("config").is_some() {
        Some(media::OCI_MANIFEST.to_string())
    } else {
        None
    }
}

/// A blob or manifest as a descriptor names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

impl BlobRef {
    pub fn from_descriptor(d: &Descriptor) -> Result<BlobRef> {
        Ok(BlobRef {
            digest: Digest::parse(d.digest().as_ref())?,
            size: d.size(),
            media_type: d.media_type().to_string(),
        })
    }
}

/// `os/architecture[/variant]` as in `--platform linux/arm64/v8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            Error::Config(format!(
                "invalid platform {s:?}: expected OS/ARCH[/VARIANT], e.g. linux/amd64"
            ))
        };
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        Ok(Platform {
            os: parts[0].to_string(),
            architecture: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }

    /// The platform this program runs on, named as images name it.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn from_spec(p: &oci_spec::image::Platform) -> Platform {
        Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone(),
        }
    }

    /// containerd's default variants: arm64 is v8 and 32-bit arm is v7 unless said otherwise.
    fn normalized_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", None) => Some("v8"),
            ("arm", None) => Some("v7"),
            (_, v) => v,
        }
    }

    /// Index of the best candidate: same OS and architecture, and the same (normalised) variant.
    pub fn choose<'a>(&self, candidates: impl Iterator<Item = &'a Platform>) -> Option<usize> {
        candidates
            .enumerate()
            .find(|(_, c)| {
                c.os == self.os
                    && c.architecture == self.architecture
                    && c.normalized_variant() == self.normalized_variant()
            })
            .map(|(i, _)| i)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn docker_manifest() -> Vec<u8> {
        format!(r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":10,"digest":"{D1}"}},"layers":[{{"mediaType":"{}","size":20,"digest":"{D2}"}}]}}"#,
            media::DOCKER_MANIFEST, media::DOCKER_CONFIG, media::DOCKER_LAYER_GZIP).into_bytes()
    }

    fn index() -> Vec<u8> {
        format!(r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
            {{"mediaType":"{m}","size":1,"digest":"{D1}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"{m}","size":2,"digest":"{D2}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#,
            media::OCI_INDEX, m = media::OCI_MANIFEST).into_bytes()
    }

    #[test]
    fn docker_v2s2_manifest_keeps_its_bytes_and_lists_config_then_layers() {
        let bytes = docker_manifest();
        let m = RawManifest::parse(bytes.clone(), None).unwrap();
        assert_eq!(m.media_type, media::DOCKER_MANIFEST);
        assert_eq!(m.bytes, bytes);
        assert_eq!(m.digest, Digest::of(&bytes));
        let blobs = m.blob_refs().unwrap();
        assert_eq!(
            blobs
                .iter()
                .map(|b| (b.digest.to_string(), b.size))
                .collect::<Vec<_>>(),
            vec![(D1.to_string(), 10), (D2.to_string(), 20)]
        );
        assert_eq!(blobs[1].media_type, media::DOCKER_LAYER_GZIP);
    }

    #[test]
    fn platform_selection_normalises_arm64_variant_and_lists_what_exists() {
        let m = RawManifest::parse(index(), None).unwrap();
        assert!(m.is_index());
        assert_eq!(
            m.select_platform(&Platform::parse("linux/arm64").unwrap())
                .unwrap()
                .digest
                .to_string(),
            D2
        );
        assert_eq!(
            m.select_platform(&Platform::parse("linux/amd64").unwrap())
                .unwrap()
                .size,
            1
        );
        let e = m
            .select_platform(&Platform::parse("linux/s390x").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("linux/s390x") && e.contains("linux/arm64/v8"),
            "{e}"
        );
    }

    #[test]
    fn media_type_comes_from_header_when_document_has_none() {
        let bytes = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let m = RawManifest::parse(
            bytes,
            Some("application/vnd.docker.distribution.manifest.list.v2+json"),
        )
        .unwrap();
        assert_eq!(m.media_type, media::DOCKER_LIST);
    }

    #[test]
    fn schema1_and_wrong_digest_are_refused() {
        let e =
            RawManifest::parse(br#"{"schemaVersion":1,"name":"x"}"#.to_vec(), None).unwrap_err();
        assert!(
            e.to_string().contains("unsupported manifest media type"),
            "{e}"
        );
        let e = RawManifest::parse_verified(docker_manifest(), None, &Digest::parse(D1).unwrap())
            .unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }));
    }
}
