//! An image's filesystem read from its layers in memory — no root filesystem is written to disk.
//! Layers may be tar, tar+gzip or tar+zstd (detected by magic bytes); OCI whiteouts (`.wh.NAME`,
//! opaque `.wh..wh..opq`) hide lower layers; paths escaping the root (`../`) and links pointing
//! outside it are refused, as are layers that decompress past a size limit (decompression bombs).
//! Only files under the requested prefixes keep their contents (e.g. a catalog's `/configs`, a
//! bundle's `/manifests`); everything else is listed with its metadata only.

use std::collections::BTreeMap;
use std::io::Read;

use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};

/// Bounds on what reading layers may cost.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes one layer may decompress to.
    pub max_layer_bytes: u64,
    /// Bytes of file contents kept in memory over all layers.
    pub max_kept_bytes: u64,
    /// Entries over all layers.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_layer_bytes: 8 << 30,
            max_kept_bytes: 512 << 20,
            max_entries: 1_000_000,
        }
    }
}

/// What a path is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// A regular file; `data` is None when it is outside the kept prefixes.
    File {
        size: u64,
        mode: u32,
        data: Option<Vec<u8>>,
    },
    Symlink(String),
}

/// One entry of [`ImageFs::read_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
}

/// The merged filesystem of an image's layers.
#[derive(Debug, Default)]
pub struct ImageFs {
    nodes: BTreeMap<String, Node>,
    keep: Vec<String>,
    kept_bytes: u64,
    entries: usize,
    limits: Limits,
}

/// A layer that was read: what it adds and what it hides.
struct LayerChanges {
    nodes: Vec<(String, Node)>,
    whiteouts: Vec<String>,
    opaque: Vec<String>,
}

impl ImageFs {
    /// An empty filesystem that will keep the contents of files under `keep` (e.g. `["/configs"]`;
    /// empty keeps everything).
    pub fn new(keep: &[&str], limits: Limits) -> ImageFs {
        ImageFs {
            keep: keep.iter().map(|k| clean_abs(k)).collect(),
            limits,
            ..Default::default()
        }
    }

    /// Applies the next layer (bottom to top). `name` is used in errors (e.g. the digest).
    pub fn apply_layer(&mut self, name: &str, data: impl Read) -> Result<()> {
        let changes = self.read_layer(name, data)?;
        for dir in &changes.opaque {
            self.remove_children(dir);
        }
        for w in &changes.whiteouts {
            self.nodes.remove(w);
            self.remove_children(w);
        }
        for (path, node) in changes.nodes {
            if let (Some(Node::Dir), Node::Dir) = (self.nodes.get(&path), &node) {
                continue;
            }
            if !matches!(node, Node::Dir) {
                self.remove_children(&path);
            }
            self.nodes.insert(path, node);
        }
        Ok(())
    }

    /// Applies a layer blob, checking it against its digest once read to the end.
    pub fn apply_layer_verified(&mut self, digest: &Digest, data: impl Read) -> Result<()> {
        let mut r = HashingReader {
            inner: data,
            hasher: Hasher::new(digest.algorithm()),
        };
        self.apply_layer(&digest.to_string(), &mut r)?;
        std::io::copy(&mut r, &mut std::io::sink())
            .map_err(|e| Error::io(format!("layer {digest}"), e))?;
        r.hasher.finish_verify(digest)
    }

    fn remove_children(&mut self, dir: &str) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    fn keeps(&self, path: &str) -> bool {
        self.keep.is_empty()
            || self
                .keep
                .iter()
                .any(|k| k.is_empty() || path == k || path.starts_with(&format!("{k}/")))
    }

    fn read_layer(&mut self, name: &str, data: impl Read) -> Result<LayerChanges> {
        let unsafe_layer = |reason: String| Error::UnsafeLayer {
            layer: name.to_string(),
            reason,
        };
        let limited = Bounded {
            inner: decompress(name, data)?,
            left: self.limits.max_layer_bytes,
            limit: self.limits.max_layer_bytes,
        };
        let mut tar = tar::Archive::new(limited);
        let mut out = LayerChanges {
            nodes: Vec::new(),
            whiteouts: Vec::new(),
            opaque: Vec::new(),
        };
        let mut this_layer: BTreeMap<String, Node> = BTreeMap::new();
        let entries = tar.entries().map_err(|e| layer_io(name, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| layer_io(name, e))?;
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(Error::TooLarge {
                    what: format!("layer {name}: entry count"),
                    limit: self.limits.max_entries as u64,
                    hint: "too many files".into(),
                });
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = clean_rel(&raw)
                .ok_or_else(|| unsafe_layer(format!("entry {raw:?} escapes the image root")))?;
            if path.is_empty() {
                continue;
            }
            let (dir, base) = split(&path);
            if base == ".wh..wh..opq" {
                out.opaque.push(dir.to_string());
                continue;
            }
            if let Some(hidden) = base.strip_prefix(".wh.") {
                out.whiteouts.push(join(dir, hidden));
                continue;
            }
            let kind = entry.header().entry_type();
            let node = if kind.is_dir() {
                Node::Dir
            } else if kind.is_symlink() {
                let target = link_target(&entry)
                    .ok_or_else(|| unsafe_layer(format!("symlink {raw:?} has no target")))?;
                check_symlink(dir, &target)
                    .map_err(|why| unsafe_layer(format!("symlink {raw:?} -> {target:?} {why}")))?;
                Node::Symlink(target)
            } else if kind.is_hard_link() {
                let target = link_target(&entry)
                    .ok_or_else(|| unsafe_layer(format!("hard link {raw:?} has no target")))?;
                let t = clean_rel(&target).ok_or_else(|| {
                    unsafe_layer(format!(
                        "hard link {raw:?} -> {target:?} points outside the image root"
                    ))
                })?;
                this_layer
                    .get(&t)
                    .or_else(|| self.nodes.get(&t))
                    .cloned()
                    .unwrap_or(Node::File {
                        size: 0,
                        mode: 0o644,
                        data: None,
                    })
            } else if kind.is_file() {
                let size = entry.size();
                let mode = entry.header().mode().unwrap_or(0o644);
                let data = if self.keeps(&path) {
                    Some(self.read_contents(name, &raw, &mut entry, size)?)
                } else {
                    None
                };
                Node::File { size, mode, data }
            } else {
                continue; // devices, fifos: not readable content
            };
            this_layer.insert(path.clone(), node.clone());
            out.nodes.push((path, node));
        }
        Ok(out)
    }

    fn read_contents(
        &mut self,
        layer: &str,
        raw: &str,
        entry: &mut impl Read,
        size: u64,
    ) -> Result<Vec<u8>> {
        self.kept_bytes += size;
        if self.kept_bytes > self.limits.max_kept_bytes {
            return Err(Error::TooLarge {
                what: format!("file contents kept from layer {layer} (at {raw:?})"),
                limit: self.limits.max_kept_bytes,
                hint: "read fewer prefixes or raise Limits::max_kept_bytes".into(),
            });
        }
        let mut buf = Vec::with_capacity(size.min(1 << 20) as usize);
        entry
            .read_to_end(&mut buf)
            .map_err(|e| layer_io(layer, e))?;
        Ok(buf)
    }

    /// Resolves symlinks in `path` inside the image root (at most 40 hops).
    fn resolve(&self, path: &str) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        let mut todo: Vec<String> = clean_abs(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .rev()
            .map(str::to_string)
            .collect();
        let mut hops = 0;
        while let Some(p) = todo.pop() {
            if p == ".." {
                parts.pop();
                continue;
            }
            parts.push(p);
            let cur = parts.join("/");
            if let Some(Node::Symlink(t)) = self.nodes.get(&cur) {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                parts.pop();
                if t.starts_with('/') {
                    parts.clear();
                }
                todo.extend(
                    t.split('/')
                        .filter(|s| !s.is_empty() && *s != ".")
                        .rev()
                        .map(str::to_string),
                );
            }
        }
        Some(parts.join("/"))
    }

    /// The node at `path` (symlinks followed).
    pub fn stat(&self, path: &str) -> Option<Node> {
        let p = self.resolve(path)?;
        if p.is_empty() {
            return Some(Node::Dir);
        }
        self.nodes
            .get(&p)
            .cloned()
            .or_else(|| self.is_implicit_dir(&p).then_some(Node::Dir))
    }

    fn is_implicit_dir(&self, p: &str) -> bool {
        let prefix = format!("{p}/");
        self.nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The entries of a directory, sorted by name.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let p = self.resolve(path).ok_or_else(|| not_found(path))?;
        match self.stat(path) {
            Some(Node::Dir) => {}
            Some(_) => return Err(Error::Config(format!("{path}: not a directory"))),
            None => return Err(not_found(path)),
        }
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        };
        let mut out: BTreeMap<String, Kind> = BTreeMap::new();
        for (k, node) in self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            let rest = &k[prefix.len()..];
            match rest.split_once('/') {
                Some((child, _)) => {
                    out.entry(child.to_string()).or_insert(Kind::Dir);
                }
                None => {
                    let kind = match node {
                        Node::Dir => Kind::Dir,
                        Node::File { .. } => Kind::File,
                        Node::Symlink(_) => Kind::Symlink,
                    };
                    out.insert(rest.to_string(), kind);
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|(name, kind)| DirEntry { name, kind })
            .collect())
    }

    /// A file's contents (symlinks followed); refused for files outside the kept prefixes.
    pub fn read_file(&self, path: &str) -> Result<&[u8]> {
        let p = self.resolve(path).ok_or_else(|| not_found(path))?;
        match self.nodes.get(&p) {
            Some(Node::File { data: Some(d), .. }) => Ok(d),
            Some(Node::File { data: None, .. }) => Err(Error::Config(format!(
                "{path}: contents were not kept (open the image with this path among the kept prefixes)"
            ))),
            Some(_) => Err(Error::Config(format!("{path}: not a regular file"))),
            None => Err(not_found(path)),
        }
    }

    /// Every file path under `dir` (recursively), for walking e.g. `/configs`.
    pub fn walk_files(&self, dir: &str) -> Vec<String> {
        let Some(p) = self.resolve(dir) else {
            return Vec::new();
        };
        let prefix = if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, n)| matches!(n, Node::File { .. }))
            .map(|(k, _)| format!("/{k}"))
            .collect()
    }
}

fn not_found(path: &str) -> Error {
    Error::Config(format!("{path}: no such file or directory in the image"))
}

fn layer_io(layer: &str, e: std::io::Error) -> Error {
    // A Bounded reader's refusal travels through the tar reader as an io::Error; keep its words.
    Error::UnsafeLayer {
        layer: layer.to_string(),
        reason: e.to_string(),
    }
}

fn link_target<R: Read>(e: &tar::Entry<'_, R>) -> Option<String> {
    e.link_name_bytes()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(|t| !t.is_empty())
}

/// A relative symlink may not climb above the root from where it sits; absolute targets are
/// interpreted inside the image root.
fn check_symlink(dir: &str, target: &str) -> std::result::Result<(), &'static str> {
    if target.starts_with('/') {
        return clean_rel(target)
            .map(|_| ())
            .ok_or("points outside the image root");
    }
    clean_rel(&join(dir, target))
        .map(|_| ())
        .ok_or("points outside the image root")
}

/// Normalises a path inside the root: strips `/` and `.`, resolves `..`; None if it climbs out.
pub fn clean_rel(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn clean_abs(p: &str) -> String {
    clean_rel(p).unwrap_or_default()
}

fn split(p: &str) -> (&str, &str) {
    p.rsplit_once('/').unwrap_or(("", p))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// gzip, zstd or plain tar, by magic bytes.
fn decompress<'a>(name: &str, data: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
    let mut r = std::io::BufReader::with_capacity(64 << 10, data);
    let magic = std::io::BufRead::fill_buf(&mut r)
        .map_err(|e| layer_io(name, e))?
        .get(..4)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(r)))
    } else if magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let d = ruzstd::decoding::StreamingDecoder::new(r).map_err(|e| Error::UnsafeLayer {
            layer: name.into(),
            reason: format!("bad zstd stream: {e}"),
        })?;
        Ok(Box::new(d))
    } else {
        Ok(Box::new(r))
    }
}

/// Fails a read once more than `limit` decompressed bytes have come out.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "decompresses to more than the limit of {} bytes (a decompression bomb?); refusing it",
                self.limit
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Opens the filesystem of the image at `src` (for an index: the `platform` image), reading and
/// verifying each layer as it streams in, keeping the contents of files under `keep`.
pub async fn open(
    src: &crate::copy::Source,
    platform: &crate::Platform,
    keep: &[&str],
    limits: Limits,
) -> Result<ImageFs> {
    let (_, image) = src.image(platform).await?;
    open_image(src, &image, keep, limits).await
}

/// [`open`] for an image manifest the caller has already read from `src` (no second fetch).
pub async fn open_image(
    src: &crate::copy::Source,
    image: &crate::RawManifest,
    keep: &[&str],
    limits: Limits,
) -> Result<ImageFs> {
    let mut fs = ImageFs::new(keep, limits);
    for layer in image.blob_refs()?.into_iter().skip(1) {
        let reader = src.blob(&layer)?.open(0).await?;
        let handle = tokio::runtime::Handle::current();
        fs = tokio::task::spawn_blocking(move || {
            let r = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
            let mut fs = fs;
            fs.apply_layer_verified(&layer.digest, r).map(|()| fs)
        })
        .await
        .map_err(|e| Error::Config(format!("layer reader task failed: {e}")))??;
    }
    Ok(fs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    enum E<'a> {
        F(&'a str, &'a [u8]),
        D(&'a str),
        L(&'a str, &'a str),
        H(&'a str, &'a str),
    }

    fn tar_of(entries: &[E]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            match e {
                E::F(p, d) => {
                    h.set_size(d.len() as u64);
                    h.set_entry_type(tar::EntryType::Regular);
                    // Raw path bytes so that `../` survives (tar::Builder refuses it).
                    raw_path(&mut h, p);
                    h.set_cksum();
                    b.append(&h, *d).unwrap();
                }
                E::D(p) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    raw_path(&mut h, p);
                    h.set_cksum();
                    b.append(&h, &[][..]).unwrap();
                }
                E::L(p, t) | E::H(p, t) => {
                    h.set_entry_type(if matches!(e, E::L(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    h.set_size(0);
                    raw_path(&mut h, p);
                    h.as_old_mut().linkname[..t.len()].copy_from_slice(t.as_bytes());
                    h.set_cksum();
                    b.append(&h, &[][..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    fn raw_path(h: &mut tar::Header, p: &str) {
        let name = &mut h.as_old_mut().name;
        name.fill(0);
        name[..p.len()].copy_from_slice(p.as_bytes());
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn layers_merge_with_whiteouts_and_opaque_dirs() {
        let mut fs = ImageFs::new(&[], Limits::default());
        fs.apply_layer(
            "l1",
            &gz(&tar_of(&[
                E::D("configs"),
                E::F("configs/a/catalog.json", b"A"),
                E::F("configs/b.json", b"B"),
                E::F("etc/old", b"o"),
                E::F("keep/x", b"x"),
            ]))[..],
        )
        .unwrap();
        fs.apply_layer(
            "l2",
            &tar_of(&[
                E::F("configs/.wh.b.json", b""),
                E::F("etc/.wh..wh..opq", b""),
                E::F("etc/new", b"n"),
                E::L("link", "configs/a"),
            ])[..],
        )
        .unwrap();
        let names: Vec<_> = fs
            .read_dir("/configs")
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert_eq!(names, vec![("a".to_string(), Kind::Dir)]);
        assert_eq!(fs.read_file("/configs/a/catalog.json").unwrap(), b"A");
        assert_eq!(
            fs.read_file("/link/catalog.json").unwrap(),
            b"A",
            "symlinks are followed inside the image"
        );
        assert_eq!(
            fs.read_dir("/etc")
                .unwrap()
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            vec!["new"]
        );
        assert!(fs.read_file("/configs/b.json").is_err());
        assert_eq!(
            fs.walk_files("/"),
            vec!["/configs/a/catalog.json", "/etc/new", "/keep/x"]
        );
    }

    #[test]
    fn zstd_layers_are_read() {
        let tar = tar_of(&[E::F("manifests/csv.yaml", b"kind: ClusterServiceVersion")]);
        let z = zstd_frame(&tar);
        let mut fs = ImageFs::new(&["/manifests"], Limits::default());
        fs.apply_layer("z", &z[..]).unwrap();
        assert_eq!(
            fs.read_file("manifests/csv.yaml").unwrap(),
            b"kind: ClusterServiceVersion"
        );
    }

    /// A valid zstd frame holding `data` in raw (uncompressed) blocks.
    fn zstd_frame(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x28, 0xb5, 0x2f, 0xfd];
        // Frame header: single segment, 8-byte content size.
        out.push(0b1110_0000);
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        let chunks: Vec<&[u8]> = data.chunks(100_000).collect();
        for (i, c) in chunks.iter().enumerate() {
            let last = (i + 1 == chunks.len()) as u32;
            let header = last | ((c.len() as u32) << 3); // block type 0 = raw
            out.extend_from_slice(&header.to_le_bytes()[..3]);
            out.extend_from_slice(c);
        }
        out
    }

    #[test]
    fn traversal_and_escaping_links_are_refused() {
        for (entries, what) in [
            (vec![E::F("../evil", b"x")], "escapes the image root"),
            (vec![E::F("a/../../evil", b"x")], "escapes the image root"),
            (
                vec![E::L("a/link", "../../etc/passwd")],
                "points outside the image root",
            ),
            (
                vec![E::H("hard", "../outside")],
                "points outside the image root",
            ),
        ] {
            let mut fs = ImageFs::new(&[], Limits::default());
            let e = fs
                .apply_layer("bad", &tar_of(&entries)[..])
                .unwrap_err()
                .to_string();
            assert!(e.contains("layer bad") && e.contains(what), "{e}");
        }
        // Absolute symlinks stay inside the image and are fine.
        let mut fs = ImageFs::new(&[], Limits::default());
        fs.apply_layer(
            "ok",
            &tar_of(&[
                E::F("etc/os-release", b"ID=x"),
                E::L("usr/lib/os-release", "/etc/os-release"),
            ])[..],
        )
        .unwrap();
        assert_eq!(fs.read_file("/usr/lib/os-release").unwrap(), b"ID=x");
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let zeros = vec![0u8; 4 << 20];
        let bomb = gz(&tar_of(&[E::F("zeros", &zeros)]));
        assert!(
            bomb.len() < 64 << 10,
            "a small layer ({} bytes) ...",
            bomb.len()
        );
        let mut fs = ImageFs::new(
            &[],
            Limits {
                max_layer_bytes: 1 << 20,
                ..Limits::default()
            },
        );
        let e = fs.apply_layer("bomb", &bomb[..]).unwrap_err().to_string();
        assert!(
            e.contains("layer bomb") && e.contains("decompression bomb"),
            "{e}"
        );
        let mut fs = ImageFs::new(
            &[],
            Limits {
                max_kept_bytes: 1 << 20,
                ..Limits::default()
            },
        );
        let e = fs.apply_layer("big", &bomb[..]).unwrap_err().to_string();
        assert!(e.contains("exceeds the limit"), "{e}");
    }

    #[test]
    fn layer_digest_is_verified() {
        let tar = tar_of(&[E::F("a", b"1")]);
        let mut fs = ImageFs::new(&[], Limits::default());
        fs.apply_layer_verified(&Digest::of(&tar), &tar[..])
            .unwrap();
        let e = fs
            .apply_layer_verified(&Digest::of(b"other"), &tar[..])
            .unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }));
    }

    #[test]
    fn files_outside_kept_prefixes_are_listed_but_not_read() {
        let mut fs = ImageFs::new(&["/configs"], Limits::default());
        fs.apply_layer(
            "l",
            &tar_of(&[E::F("configs/x.json", b"{}"), E::F("bin/tool", b"ELF")])[..],
        )
        .unwrap();
        assert_eq!(
            fs.stat("/bin/tool"),
            Some(Node::File {
                size: 3,
                mode: 0o644,
                data: None
            })
        );
        assert!(
            fs.read_file("/bin/tool")
                .unwrap_err()
                .to_string()
                .contains("were not kept")
        );
        assert_eq!(fs.read_file("/configs/x.json").unwrap(), b"{}");
    }
}
