//! Copying images between transports named as skopeo names them — `oci:DIR[:TAG]`,
//! `docker-archive:FILE[:NAME:TAG]`, `docker://REF` — preserving every digest: manifests and
//! indexes are copied as the bytes they are, blobs are streamed and verified, at most
//! `parallel` blobs at a time. Blobs go first, then each image manifest by digest, and only then
//! the tag (the index's or the image's), so an interrupted copy never leaves a tag on a
//! half-copied image.

use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::io::AsyncRead;
use tokio_util::io::StreamReader;

use crate::archive::DockerArchive;
use crate::client::Registry;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::manifest::{BlobRef, Platform, RawManifest};
use crate::progress::{Event, Sink, Transfer};
use crate::reference::Reference;
use crate::upload::{self, BlobSource, BoxRead};

/// Where an image is, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Layout {
        dir: std::path::PathBuf,
        tag: Option<String>,
    },
    Archive {
        file: std::path::PathBuf,
        name: Option<String>,
    },
    Registry(Reference),
}

impl Location {
    /// Parses `oci:DIR[:TAG]`, `docker-archive:FILE[:NAME:TAG]` or `docker://REF`.
    pub fn parse(s: &str) -> Result<Location> {
        let bad = |reason: &str| Error::Config(format!("image location {s:?}: {reason}"));
        if let Some(rest) = s.strip_prefix("docker://") {
            return Ok(Location::Registry(Reference::parse(rest)?));
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, tag) = match rest.split_once(':') {
                Some((d, t)) => (d, Some(t.to_string()).filter(|t| !t.is_empty())),
                None => (rest, None),
            };
            if dir.is_empty() {
                return Err(bad("oci: needs a directory, e.g. oci:./image:latest"));
            }
            return Ok(Location::Layout {
                dir: dir.into(),
                tag,
            });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            let (file, name) = match rest.split_once(':') {
                Some((f, n)) => (f, Some(n.to_string()).filter(|n| !n.is_empty())),
                None => (rest, None),
            };
            if file.is_empty() {
                return Err(bad("docker-archive: needs a file"));
            }
            return Ok(Location::Archive {
                file: file.into(),
                name,
            });
        }
        Err(bad(
            "expected oci:DIR[:TAG], docker-archive:FILE[:NAME:TAG] or docker://REF",
        ))
    }
}

impl Source {
    /// Opens a location for reading (connecting to its registry with `opts`).
    pub async fn open(loc: &Location, opts: &crate::Options) -> Result<Source> {
        Ok(match loc {
            Location::Layout { dir, tag } => Source::Layout {
                layout: Layout::open(dir)?,
                tag: tag.clone(),
            },
            Location::Archive { file, name } => {
                Source::Archive(Box::new(DockerArchive::open(file, name.as_deref())?))
            }
            Location::Registry(r) => Source::Registry {
                registry: Arc::new(Registry::connect(r.api_host(), opts.clone()).await?),
                reference: r.clone(),
            },
        })
    }
}

impl Dest {
    /// Opens a location for writing; a layout is created if absent. Archives are read-only.
    pub async fn open(loc: &Location, opts: &crate::Options) -> Result<Dest> {
        Ok(match loc {
            Location::Layout { dir, tag } => Dest::Layout {
                layout: Layout::create(dir)?,
                tag: tag.clone(),
            },
            Location::Archive { file, .. } => {
                return Err(Error::Config(format!(
                    "docker-archive:{} can only be read from",
                    file.display()
                )));
            }
            Location::Registry(r) => Dest::Registry {
                registry: Arc::new(Registry::connect(r.api_host(), opts.clone()).await?),
                reference: r.clone(),
            },
        })
    }
}

/// An opened place to copy from.
pub enum Source {
    Layout {
        layout: Layout,
        tag: Option<String>,
    },
    Archive(Box<DockerArchive>),
    Registry {
        registry: Arc<Registry>,
        reference: Reference,
    },
}

/// An opened place to copy to.
pub enum Dest {
    Layout {
        layout: Layout,
        tag: Option<String>,
    },
    Registry {
        registry: Arc<Registry>,
        reference: Reference,
    },
}

impl Source {
    /// The manifest or index the location names.
    pub async fn top(&self) -> Result<RawManifest> {
        match self {
            Source::Layout { layout, tag } => {
                let d = layout.resolve(tag.as_deref())?;
                layout.read_manifest(&d)
            }
            Source::Archive(a) => Ok(a.manifest().clone()),
            Source::Registry {
                registry,
                reference,
            } => {
                let m = registry
                    .get_manifest(reference.repository(), &reference.manifest_reference())
                    .await?;
                if let Some(d) = reference.digest()
                    && &m.digest != d
                {
                    return Err(Error::DigestMismatch {
                        expected: d.clone(),
                        actual: m.digest,
                    });
                }
                Ok(m)
            }
        }
    }

    /// The manifest the location names and, for an index, the `platform` image it lists (else
    /// the same manifest again): `(top, image)`.
    pub async fn image(&self, platform: &crate::Platform) -> Result<(RawManifest, RawManifest)> {
        let top = self.top().await?;
        let image = if top.is_index() {
            self.child(&top.select_platform(platform)?).await?
        } else {
            top.clone()
        };
        Ok((top, image))
    }

    /// A manifest an index lists, verified against its descriptor.
    pub async fn child(&self, d: &BlobRef) -> Result<RawManifest> {
        let m = match self {
            Source::Layout { layout, .. } => layout.read_manifest(d)?,
            Source::Archive(a) => {
                return Err(Error::Archive {
                    path: a.path().display().to_string(),
                    reason: "archives hold no indexes".into(),
                });
            }
            Source::Registry {
                registry,
                reference,
            } => {
                registry
                    .get_manifest(reference.repository(), &d.digest.to_string())
                    .await?
            }
        };
        if m.digest != d.digest {
            return Err(Error::DigestMismatch {
                expected: d.digest.clone(),
                actual: m.digest,
            });
        }
        Ok(m)
    }

    /// Reads a blob from any offset.
    pub fn blob(&self, b: &BlobRef) -> Result<Box<dyn BlobSource>> {
        Ok(match self {
            Source::Layout { layout, .. } => Box::new(layout.blob_source(b)),
            Source::Archive(a) => Box::new(a.blob(&b.digest)?),
            Source::Registry {
                registry,
                reference,
            } => Box::new(RegistryBlob {
                registry: registry.clone(),
                repo: reference.repository().to_string(),
                digest: b.digest.clone(),
            }),
        })
    }

    /// The repository blobs can be mounted from when the destination is the same registry.
    fn mount_from(&self, dst: &Dest) -> Option<String> {
        match (self, dst) {
            (
                Source::Registry {
                    registry: s,
                    reference: sr,
                },
                Dest::Registry { registry: d, .. },
            ) if s.base_url() == d.base_url() => Some(sr.repository().to_string()),
            _ => None,
        }
    }
}

/// A blob in a registry as a [`BlobSource`] (ranged GETs for resuming).
pub struct RegistryBlob {
    pub registry: Arc<Registry>,
    pub repo: String,
    pub digest: Digest,
}

impl BlobSource for RegistryBlob {
    fn open(&self, offset: u64) -> BoxFuture<'_, Result<BoxRead>> {
        Box::pin(async move {
            let resp = self
                .registry
                .get_blob(&self.repo, &self.digest, offset)
                .await?;
            let stream = resp
                .bytes_stream()
                .map(|r| r.map_err(std::io::Error::other));
            Ok(Box::pin(StreamReader::new(stream)) as Pin<Box<dyn AsyncRead + Send>>)
        })
    }
}

use std::pin::Pin;

impl Dest {
    async fn put_blob(
        &self,
        b: &BlobRef,
        src: &dyn BlobSource,
        mount_from: Option<&str>,
        progress: &Sink,
    ) -> Result<Transfer> {
        match self {
            Dest::Layout { layout, .. } => {
                if layout.has_blob(b) {
                    return Ok(Transfer::Existing);
                }
                progress(&Event::BlobStart {
                    digest: b.digest.clone(),
                    size: b.size,
                });
                layout.write_blob(b, src, progress, 5).await?;
                Ok(Transfer::Sent { resumed_at: 0 })
            }
            Dest::Registry {
                registry,
                reference,
            } => {
                upload::push_blob(
                    registry,
                    reference.repository(),
                    b,
                    src,
                    mount_from,
                    progress,
                )
                .await
            }
        }
    }

    /// Stores a manifest by digest (`tag` None) or under the destination's tag.
    async fn put_manifest(&self, m: &RawManifest, tagged: bool) -> Result<String> {
        match self {
            Dest::Layout { layout, tag } => {
                let d = layout.write_manifest(m)?;
                if tagged {
                    layout.set_ref(tag.as_deref(), &d)?;
                }
                Ok(tag
                    .clone()
                    .filter(|_| tagged)
                    .unwrap_or_else(|| m.digest.to_string()))
            }
            Dest::Registry {
                registry,
                reference,
            } => {
                let r = if tagged {
                    reference
                        .tag()
                        .map(str::to_string)
                        .unwrap_or_else(|| m.digest.to_string())
                } else {
                    m.digest.to_string()
                };
                if tagged
                    && let Some(d) = reference.digest()
                    && d != &m.digest
                {
                    return Err(Error::Config(format!(
                        "destination {reference} pins digest {d} but the image is {}",
                        m.digest
                    )));
                }
                registry.put_manifest(reference.repository(), &r, m).await?;
                Ok(r)
            }
        }
    }
}

/// How to copy.
#[derive(Clone)]
pub struct CopyOptions {
    /// Blobs transferred at the same time.
    pub parallel: usize,
    /// Copy only this platform's image out of an index (default: the whole index).
    pub platform: Option<Platform>,
    pub progress: Sink,
}

impl Default for CopyOptions {
    fn default() -> CopyOptions {
        CopyOptions {
            parallel: 4,
            platform: None,
            progress: crate::progress::none(),
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// The digest of what was tagged at the destination (index or image manifest).
    pub digest: Digest,
    pub media_type: String,
    pub images: usize,
    pub blobs: usize,
}

/// Copies the image or index at `src` to `dst`.
pub async fn copy(src: &Source, dst: &Dest, opts: &CopyOptions) -> Result<CopyReport> {
    let top = src.top().await?;
    let mount = src.mount_from(dst);
    let mut report = CopyReport {
        digest: top.digest.clone(),
        media_type: top.media_type.clone(),
        images: 0,
        blobs: 0,
    };
    if !top.is_index() {
        report.blobs += copy_image(src, dst, &top, mount.as_deref(), opts).await?;
        report.images = 1;
        dst.put_manifest(&top, true).await?;
        (opts.progress)(&Event::ManifestDone {
            digest: top.digest.clone(),
            reference: "tag".into(),
        });
        return Ok(report);
    }
    let children = match &opts.platform {
        Some(p) => vec![top.select_platform(p)?],
        None => top.children()?,
    };
    for c in &children {
        let m = src.child(c).await?;
        if m.is_index() {
            return Err(Error::InvalidManifest {
                what: m.digest.to_string(),
                reason: "nested indexes are not supported".into(),
            });
        }
        report.blobs += copy_image(src, dst, &m, mount.as_deref(), opts).await?;
        report.images += 1;
        if opts.platform.is_some() {
            dst.put_manifest(&m, true).await?;
            report.digest = m.digest.clone();
            report.media_type = m.media_type.clone();
            return Ok(report);
        }
        dst.put_manifest(&m, false).await?;
        (opts.progress)(&Event::ManifestDone {
            digest: m.digest.clone(),
            reference: m.digest.to_string(),
        });
    }
    dst.put_manifest(&top, true).await?;
    (opts.progress)(&Event::ManifestDone {
        digest: top.digest.clone(),
        reference: "tag".into(),
    });
    Ok(report)
}

/// Copies an image's config and layers, `opts.parallel` at a time; the first failure stops it.
async fn copy_image(
    src: &Source,
    dst: &Dest,
    m: &RawManifest,
    mount: Option<&str>,
    opts: &CopyOptions,
) -> Result<usize> {
    // In manifest order (config, then layers bottom-up), each digest once.
    let mut seen = std::collections::HashSet::new();
    let blobs: Vec<BlobRef> = m
        .blob_refs()?
        .into_iter()
        .filter(|b| seen.insert(b.digest.clone()))
        .collect();
    let n = blobs.len();
    let mut tasks = futures::stream::iter(blobs.into_iter().map(|b| async move {
        let source = src.blob(&b)?;
        let how = dst
            .put_blob(&b, source.as_ref(), mount, &opts.progress)
            .await?;
        (opts.progress)(&Event::BlobDone {
            digest: b.digest.clone(),
            size: b.size,
            transfer: how,
        });
        Ok::<_, Error>(())
    }))
    .buffer_unordered(opts.parallel.max(1));
    while let Some(r) = tasks.next().await {
        r?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_as_skopeo_names_them() {
        assert_eq!(
            Location::parse("oci:/tmp/x:v1").unwrap(),
            Location::Layout {
                dir: "/tmp/x".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            Location::parse("oci:rel").unwrap(),
            Location::Layout {
                dir: "rel".into(),
                tag: None
            }
        );
        assert_eq!(
            Location::parse("docker-archive:a.tar:x/y:1").unwrap(),
            Location::Archive {
                file: "a.tar".into(),
                name: Some("x/y:1".into())
            }
        );
        let Location::Registry(r) = Location::parse("docker://localhost:5000/a:b").unwrap() else {
            panic!()
        };
        assert_eq!(r.to_string(), "localhost:5000/a:b");
        let e = Location::parse("dir:/x").unwrap_err().to_string();
        assert!(e.contains("expected oci:DIR"), "{e}");
    }
}
