//! `docker save` archives (read only), as skopeo's `docker-archive:FILE[:name:tag]` reads them: the
//! tar's `manifest.json` names each image's config and layer files; the image is presented as a
//! Docker v2 schema 2 manifest whose layers are the (uncompressed) layer tars. Nothing is
//! extracted: blobs are read in place at their offsets inside the archive.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::layout::FileBlob;
use crate::manifest::{BlobRef, RawManifest, media};

/// One image of a `docker save` archive.
#[derive(Debug)]
pub struct DockerArchive {
    path: PathBuf,
    manifest: RawManifest,
    blobs: HashMap<Digest, FileBlob>,
    pub repo_tags: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A member of the tar: where its data starts and how long it is (symlinks already followed).
#[derive(Clone, Copy, Debug)]
struct Member {
    start: u64,
    size: u64,
}

impl DockerArchive {
    /// Opens `path`; `name` picks an image by one of its `RepoTags` when the archive holds several.
    pub fn open(path: &Path, name: Option<&str>) -> Result<DockerArchive> {
        let err = |reason: String| Error::Archive {
            path: path.display().to_string(),
            reason,
        };
        let members = index_members(path)?;
        let manifest_json = read_member(path, &members, "manifest.json")?;
        let entries: Vec<SaveEntry> = serde_json::from_slice(&manifest_json)
            .map_err(|e| err(format!("manifest.json: {e}")))?;
        let entry = pick_entry(entries, name).map_err(err)?;
        let member = |n: &str| {
            members
                .get(clean(n).as_str())
                .copied()
                .ok_or_else(|| Error::Archive {
                    path: path.display().to_string(),
                    reason: format!(
                        "manifest.json names {n:?}, which the archive does not contain"
                    ),
                })
        };
        let mut blobs = HashMap::new();
        let mut describe = |n: &str, media_type: &str| -> Result<BlobRef> {
            let m = member(n)?;
            let digest = hash_range(path, m)?;
            blobs.insert(
                digest.clone(),
                FileBlob {
                    path: path.to_path_buf(),
                    start: m.start,
                    len: Some(m.size),
                },
            );
            Ok(BlobRef {
                digest,
                size: m.size,
                media_type: media_type.to_string(),
            })
        };
        let config = describe(&entry.config, media::DOCKER_CONFIG)?;
        let layers = entry
            .layers
            .iter()
            .map(|l| describe(l, media::DOCKER_LAYER))
            .collect::<Result<Vec<_>>>()?;
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": media::DOCKER_MANIFEST,
            "config": descriptor(&config),
            "layers": layers.iter().map(descriptor).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| err(e.to_string()))?;
        let manifest = RawManifest::parse(bytes, None)?;
        Ok(DockerArchive {
            path: path.to_path_buf(),
            manifest,
            blobs,
            repo_tags: entry.repo_tags.unwrap_or_default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The image as a Docker v2 schema 2 manifest.
    pub fn manifest(&self) -> &RawManifest {
        &self.manifest
    }
    /// Where a blob's bytes are inside the archive.
    pub fn blob(&self, d: &Digest) -> Result<FileBlob> {
        self.blobs.get(d).cloned().ok_or_else(|| Error::Archive {
            path: self.path.display().to_string(),
            reason: format!("no blob {d}"),
        })
    }
}

fn descriptor(b: &BlobRef) -> serde_json::Value {
    json!({"mediaType": b.media_type, "size": b.size, "digest": b.digest.to_string()})
}

fn pick_entry(entries: Vec<SaveEntry>, name: Option<&str>) -> Result<SaveEntry, String> {
    match name {
        None if entries.len() == 1 => {
            Ok(entries.into_iter().next().unwrap_or_else(|| unreachable!()))
        }
        None => Err(format!(
            "holds {} images; name one as docker-archive:FILE:NAME:TAG",
            entries.len()
        )),
        Some(n) => {
            let all: Vec<String> = entries
                .iter()
                .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
                .collect();
            entries
                .into_iter()
                .find(|e| {
                    e.repo_tags
                        .as_ref()
                        .is_some_and(|t| t.iter().any(|t| t == n))
                })
                .ok_or_else(|| format!("no image named {n:?} (names: {})", all.join(", ")))
        }
    }
}

fn clean(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Lists the archive's regular files with their data offsets; symlinks (the legacy format links
/// duplicate layers) are resolved inside the archive, never outside it.
fn index_members(path: &Path) -> Result<HashMap<String, Member>> {
    let err = |reason: String| Error::Archive {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let mut magic = [0u8; 4];
    (&file).read_exact(&mut magic).ok();
    if magic[..2] == [0x1f, 0x8b] || magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Err(err(
            "the archive is compressed; decompress it first (docker save writes a plain tar)"
                .into(),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let mut tar = tar::Archive::new(file);
    let mut files = HashMap::new();
    let mut links = Vec::new();
    for entry in tar.entries().map_err(|e| err(e.to_string()))? {
        let entry = entry.map_err(|e| err(format!("not a tar archive: {e}")))?;
        let name = clean(&String::from_utf8_lossy(&entry.path_bytes()));
        let kind = entry.header().entry_type();
        if kind.is_file() {
            files.insert(
                name,
                Member {
                    start: entry.raw_file_position(),
                    size: entry.size(),
                },
            );
        } else if kind.is_symlink()
            && let Some(target) = entry.link_name_bytes()
        {
            let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            links.push((
                name.clone(),
                clean(&format!("{dir}/{}", String::from_utf8_lossy(&target))),
            ));
        }
    }
    for (name, target) in links {
        if let Some(m) = files.get(&target).copied() {
            files.insert(name, m);
        }
    }
    Ok(files)
}

fn read_member(path: &Path, members: &HashMap<String, Member>, name: &str) -> Result<Vec<u8>> {
    let m = members.get(name).ok_or_else(|| Error::Archive {
        path: path.display().to_string(),
        reason: format!("no {name}: not a docker save archive"),
    })?;
    if m.size > 16 << 20 {
        return Err(Error::TooLarge {
            what: format!("{name} in {}", path.display()),
            limit: 16 << 20,
            hint: "not a docker save archive".into(),
        });
    }
    let mut buf = Vec::new();
    range_reader(path, *m)?
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path.display(), e))?;
    Ok(buf)
}

fn range_reader(path: &Path, m: Member) -> Result<impl Read> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    f.seek(SeekFrom::Start(m.start))
        .map_err(|e| Error::io(path.display(), e))?;
    Ok(std::io::BufReader::with_capacity(256 << 10, f).take(m.size))
}

fn hash_range(path: &Path, m: Member) -> Result<Digest> {
    let mut r = range_reader(path, m)?;
    let mut h = Hasher::new(crate::digest::Algorithm::Sha256);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = r.read(&mut buf).map_err(|e| Error::io(path.display(), e))?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }

    #[test]
    fn docker_save_becomes_a_v2s2_manifest_with_in_place_blobs_and_linked_layers() {
        let mut b = tar::Builder::new(Vec::new());
        add(&mut b, "abc/layer.tar", b"layer-one");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_cksum();
        b.append_link(&mut h, "def/layer.tar", "../abc/layer.tar")
            .unwrap();
        add(
            &mut b,
            "cfg.json",
            br#"{"architecture":"amd64","os":"linux"}"#,
        );
        add(&mut b, "manifest.json", br#"[{"Config":"cfg.json","RepoTags":["x/y:1"],"Layers":["abc/layer.tar","def/layer.tar"]}]"#);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("img.tar");
        std::fs::write(&p, b.into_inner().unwrap()).unwrap();

        let a = DockerArchive::open(&p, None).unwrap();
        let blobs = a.manifest().blob_refs().unwrap();
        assert_eq!(blobs.len(), 3);
        assert_eq!(blobs[1].digest, Digest::of(b"layer-one"));
        assert_eq!(
            blobs[2].digest, blobs[1].digest,
            "the symlinked layer is the same blob"
        );
        assert_eq!(a.repo_tags, vec!["x/y:1"]);
        let fb = a.blob(&blobs[0].digest).unwrap();
        let all = std::fs::read(&p).unwrap();
        assert_eq!(
            &all[fb.start as usize..fb.start as usize + blobs[0].size as usize],
            br#"{"architecture":"amd64","os":"linux"}"#
        );
        let e = DockerArchive::open(&p, Some("nope:1"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no image named \"nope:1\" (names: x/y:1)"),
            "{e}"
        );
    }
}
