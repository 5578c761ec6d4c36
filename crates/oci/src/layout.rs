//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), read and written the
//! way skopeo's `oci:DIR[:tag]` does: a tag is the `org.opencontainers.image.ref.name` annotation
//! of an `index.json` entry. Blobs are written to a temporary file, verified, then renamed, so a
//! layout never holds a blob that does not match its name.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::manifest::{BlobRef, MAX_MANIFEST_BYTES, RawManifest};
use crate::progress::{Event, Sink};
use crate::upload::{BlobSource, BoxRead};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_VERSION: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// An OCI image layout directory.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Opens an existing layout; refuses a directory without `oci-layout`.
    pub fn open(root: &Path) -> Result<Layout> {
        let marker = root.join(LAYOUT_FILE);
        let text = std::fs::read_to_string(&marker).map_err(|e| Error::Layout {
            path: root.display().to_string(),
            reason: format!("not an OCI image layout (cannot read {LAYOUT_FILE}: {e})"),
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| Error::Layout {
            path: root.display().to_string(),
            reason: format!("{LAYOUT_FILE}: {e}"),
        })?;
        if v.get("imageLayoutVersion").and_then(|x| x.as_str()) != Some("1.0.0") {
            return Err(Error::Layout {
                path: root.display().to_string(),
                reason: "unsupported imageLayoutVersion (1.0.0 expected)".into(),
            });
        }
        Ok(Layout {
            root: root.to_path_buf(),
        })
    }

    /// Opens a layout, creating an empty one if the directory has none.
    pub fn create(root: &Path) -> Result<Layout> {
        if root.join(LAYOUT_FILE).exists() {
            return Layout::open(root);
        }
        std::fs::create_dir_all(root.join("blobs/sha256"))
            .map_err(|e| Error::io(root.display(), e))?;
        write_atomic(&root.join(LAYOUT_FILE), LAYOUT_VERSION.as_bytes())?;
        if !root.join("index.json").exists() {
            let index = json!({"schemaVersion": 2, "mediaType": crate::manifest::media::OCI_INDEX, "manifests": []});
            write_atomic(
                &root.join("index.json"),
                &serde_json::to_vec(&index).unwrap_or_default(),
            )?;
        }
        Ok(Layout {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(d.algorithm_name())
            .join(d.hex())
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Layout {
            path: self.root.display().to_string(),
            reason: reason.into(),
        }
    }

    fn read_index(&self) -> Result<Value> {
        let p = self.root.join("index.json");
        let bytes = std::fs::read(&p).map_err(|e| Error::io(p.display(), e))?;
        serde_json::from_slice(&bytes).map_err(|e| self.err(format!("index.json: {e}")))
    }

    /// The descriptor `tag` names, or the only entry when no tag is given (as skopeo requires).
    pub fn resolve(&self, tag: Option<&str>) -> Result<BlobRef> {
        let index = self.read_index()?;
        let entries = index
            .get("manifests")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default();
        let chosen: Vec<&Value> = match tag {
            Some(t) => entries.iter().filter(|e| ref_name(e) == Some(t)).collect(),
            None => entries.iter().collect(),
        };
        match (chosen.as_slice(), tag) {
            ([one], _) => descriptor_of(one).map_err(|e| self.err(format!("index.json: {e}"))),
            ([], Some(t)) => Err(self.err(format!(
                "no image tagged {t:?} in index.json (tags: {})",
                tags_of(&entries).join(", ")
            ))),
            ([], None) => Err(self.err("index.json lists no image")),
            (_, _) => Err(self.err(format!(
                "index.json lists {} images; name one as oci:DIR:TAG (tags: {})",
                chosen.len(),
                tags_of(&entries).join(", ")
            ))),
        }
    }

    /// Every tag in `index.json`.
    pub fn tags(&self) -> Result<Vec<String>> {
        let index = self.read_index()?;
        Ok(tags_of(
            index
                .get("manifests")
                .and_then(|m| m.as_array())
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ))
    }

    /// Reads and verifies a manifest blob.
    pub fn read_manifest(&self, d: &BlobRef) -> Result<RawManifest> {
        let p = self.blob_path(&d.digest);
        let meta = std::fs::metadata(&p).map_err(|e| Error::io(p.display(), e))?;
        if meta.len() > MAX_MANIFEST_BYTES as u64 {
            return Err(Error::TooLarge {
                what: format!("manifest {}", d.digest),
                limit: MAX_MANIFEST_BYTES as u64,
                hint: "manifests are small JSON documents".into(),
            });
        }
        let bytes = std::fs::read(&p).map_err(|e| Error::io(p.display(), e))?;
        RawManifest::parse_verified(bytes, Some(&d.media_type), &d.digest)
    }

    /// Whether a blob of that digest and size is present.
    pub fn has_blob(&self, b: &BlobRef) -> bool {
        std::fs::metadata(self.blob_path(&b.digest))
            .map(|m| m.is_file() && m.len() == b.size)
            .unwrap_or(false)
    }

    /// A reader for the blob from byte `offset`.
    pub fn blob_source(&self, b: &BlobRef) -> FileBlob {
        FileBlob {
            path: self.blob_path(&b.digest),
            start: 0,
            len: None,
        }
    }

    /// Copies a blob in from `src`, verifying size and digest before it gets its name; resumes
    /// from the bytes already written when the source fails part-way (a broken download).
    pub async fn write_blob(
        &self,
        b: &BlobRef,
        src: &dyn BlobSource,
        progress: &Sink,
        attempts: u32,
    ) -> Result<()> {
        let dir = self.root.join("blobs").join(b.digest.algorithm_name());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::io(dir.display(), e))?;
        let tmp = dir.join(format!(".tmp-{}-{}", b.digest.hex(), std::process::id()));
        let result = self.fill(&tmp, b, src, progress, attempts).await;
        match result {
            Ok(()) => tokio::fs::rename(&tmp, self.blob_path(&b.digest))
                .await
                .map_err(|e| Error::io(tmp.display(), e)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn fill(
        &self,
        tmp: &Path,
        b: &BlobRef,
        src: &dyn BlobSource,
        progress: &Sink,
        attempts: u32,
    ) -> Result<()> {
        let mut file = tokio::fs::File::create(tmp)
            .await
            .map_err(|e| Error::io(tmp.display(), e))?;
        let mut hasher = Hasher::new(b.digest.algorithm());
        let mut written = 0u64;
        let mut buf = vec![0u8; 256 << 10];
        let mut failures = 0;
        'open: loop {
            let mut r = src.open(written).await?;
            loop {
                let n = match r.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) if failures + 1 < attempts.max(1) => {
                        failures += 1;
                        tracing::info!(blob = %b.digest, error = %e, written, "download broke; resuming");
                        continue 'open;
                    }
                    Err(e) => return Err(Error::io(format!("reading blob {}", b.digest), e)),
                };
                if n == 0 {
                    break 'open;
                }
                written += n as u64;
                if written > b.size {
                    return Err(Error::SizeMismatch {
                        digest: b.digest.clone(),
                        expected: b.size,
                        actual: written,
                    });
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n])
                    .await
                    .map_err(|e| Error::io(tmp.display(), e))?;
                progress(&Event::BlobBytes {
                    digest: b.digest.clone(),
                    done: written,
                    size: b.size,
                });
            }
        }
        if written != b.size {
            return Err(Error::SizeMismatch {
                digest: b.digest.clone(),
                expected: b.size,
                actual: written,
            });
        }
        hasher.finish_verify(&b.digest)?;
        file.flush()
            .await
            .map_err(|e| Error::io(tmp.display(), e))?;
        Ok(())
    }

    /// Stores a manifest's bytes as a blob.
    pub fn write_manifest(&self, m: &RawManifest) -> Result<BlobRef> {
        let p = self.blob_path(&m.digest);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
        }
        write_atomic(&p, &m.bytes)?;
        Ok(BlobRef {
            digest: m.digest.clone(),
            size: m.bytes.len() as u64,
            media_type: m.media_type.clone(),
        })
    }

    /// Points `tag` (or, without a tag, an untagged entry) in `index.json` at `d`, replacing what the
    /// tag named before.
    pub fn set_ref(&self, tag: Option<&str>, d: &BlobRef) -> Result<()> {
        let mut index = self.read_index()?;
        let entries = index
            .get_mut("manifests")
            .and_then(|m| m.as_array_mut())
            .ok_or_else(|| self.err("index.json has no manifests list"))?;
        entries.retain(|e| match tag {
            Some(t) => ref_name(e) != Some(t),
            None => {
                !(ref_name(e).is_none()
                    && e.get("digest").and_then(|x| x.as_str()) == Some(&d.digest.to_string()))
            }
        });
        let mut desc =
            json!({"mediaType": d.media_type, "digest": d.digest.to_string(), "size": d.size});
        if let Some(t) = tag {
            desc["annotations"] = json!({ REF_NAME: t });
        }
        entries.push(desc);
        write_atomic(
            &self.root.join("index.json"),
            &serde_json::to_vec(&index).unwrap_or_default(),
        )
    }
}

fn ref_name(e: &Value) -> Option<&str> {
    e.get("annotations")
        .and_then(|a| a.get(REF_NAME))
        .and_then(|n| n.as_str())
}

fn tags_of(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter_map(ref_name)
        .map(str::to_string)
        .collect()
}

fn descriptor_of(v: &Value) -> Result<BlobRef> {
    let d: oci_spec::image::Descriptor = serde_json::from_value(v.clone())
        .map_err(|e| Error::Config(format!("bad descriptor: {e}")))?;
    BlobRef::from_descriptor(&d)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(path.display(), e))
}

/// A blob in a file, optionally at an offset inside it (a member of a tar archive).
#[derive(Clone, Debug)]
pub struct FileBlob {
    pub path: PathBuf,
    pub start: u64,
    /// The blob's length when it ends before the file does.
    pub len: Option<u64>,
}

impl BlobSource for FileBlob {
    fn open(&self, offset: u64) -> BoxFuture<'_, Result<BoxRead>> {
        Box::pin(async move {
            let mut f = tokio::fs::File::open(&self.path)
                .await
                .map_err(|e| Error::io(self.path.display(), e))?;
            if self.start + offset > 0 {
                f.seek(std::io::SeekFrom::Start(self.start + offset))
                    .await
                    .map_err(|e| Error::io(self.path.display(), e))?;
            }
            let r = tokio::io::BufReader::with_capacity(256 << 10, f);
            Ok(match self.len {
                Some(len) => Box::pin(r.take(len.saturating_sub(offset))) as BoxRead,
                None => Box::pin(r) as BoxRead,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes(Vec<u8>);
    impl BlobSource for Bytes {
        fn open(&self, offset: u64) -> BoxFuture<'_, Result<BoxRead>> {
            let data = self.0[offset as usize..].to_vec();
            Box::pin(async move { Ok(Box::pin(std::io::Cursor::new(data)) as BoxRead) })
        }
    }

    #[tokio::test]
    async fn blobs_are_verified_before_they_get_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::create(dir.path()).unwrap();
        let good = BlobRef {
            digest: Digest::of(b"abc"),
            size: 3,
            media_type: "x".into(),
        };
        l.write_blob(&good, &Bytes(b"abc".to_vec()), &crate::progress::none(), 1)
            .await
            .unwrap();
        assert!(l.has_blob(&good));
        let bad = BlobRef {
            digest: Digest::of(b"xyz"),
            size: 3,
            media_type: "x".into(),
        };
        let e = l
            .write_blob(&bad, &Bytes(b"abc".to_vec()), &crate::progress::none(), 1)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("does not match its digest"), "{e}");
        assert!(!l.blob_path(&bad.digest).exists());
        assert_eq!(
            std::fs::read_dir(l.root().join("blobs/sha256"))
                .unwrap()
                .count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn tags_are_ref_name_annotations_and_untagged_needs_a_single_entry() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::create(dir.path()).unwrap();
        let a = BlobRef {
            digest: Digest::of(b"a"),
            size: 1,
            media_type: crate::manifest::media::OCI_MANIFEST.into(),
        };
        let b = BlobRef {
            digest: Digest::of(b"b"),
            size: 1,
            media_type: crate::manifest::media::OCI_MANIFEST.into(),
        };
        l.set_ref(Some("v1"), &a).unwrap();
        assert_eq!(l.resolve(None).unwrap(), a);
        l.set_ref(Some("v2"), &b).unwrap();
        l.set_ref(Some("v1"), &b).unwrap();
        assert_eq!(l.resolve(Some("v1")).unwrap(), b);
        assert_eq!(l.tags().unwrap(), vec!["v2", "v1"]);
        let e = l.resolve(None).unwrap_err().to_string();
        assert!(e.contains("name one as oci:DIR:TAG"), "{e}");
        let e = l.resolve(Some("v9")).unwrap_err().to_string();
        assert!(e.contains("no image tagged \"v9\""), "{e}");
    }

    #[test]
    fn a_directory_without_oci_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = Layout::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not an OCI image layout"), "{e}");
    }
}
