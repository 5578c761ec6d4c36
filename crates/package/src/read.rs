//! Reading a package from hostile input. The archive is streamed (never held in memory) into a
//! fresh directory, and every entry is checked before a byte of it is written: only regular files
//! and directories, relative paths of plain components (no `..`, no absolute paths, no links, no
//! devices), no duplicates, only the names the format has (`package.yaml` first, then
//! `images/<dir>/{oci-layout,index.json,blobs/sha256/<hex>}` for the layouts it lists), bounded
//! total size and compression ratio (decompression bombs). Blobs are hashed while they are written
//! and must match their names; afterwards each layout's single `index.json` entry must be the
//! digest `package.yaml` pins, and every manifest, index, config and layer reachable from it must
//! be present with its size. Only then is the package handed to anyone.
//!
//! One pass, two threads: this thread inflates and parses the archive and checks every entry; a
//! second one hashes and writes the blobs' bytes (handed over in 1 MiB buffers that are reused), so
//! inflating and hashing overlap. A blob whose content does not match its name fails the unpack
//! like before; nothing is handed to anyone until both threads are done.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;

use oci::manifest::MAX_MANIFEST_BYTES;
use oci::{BlobRef, Digest, Layout, RawManifest};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::metadata::{self, MAX_METADATA_BYTES, METADATA_FILE, Metadata};

/// Bounds on what a package may expand to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Total bytes of all entries.
    pub max_total_bytes: u64,
    /// Expanded bytes per compressed byte, checked once `ratio_floor` bytes are out.
    pub max_ratio: u64,
    pub ratio_floor: u64,
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_total_bytes: 64 << 30,
            // Image layers are already compressed, so a real package hardly shrinks at all.
            max_ratio: 100,
            ratio_floor: 16 << 20,
            max_entries: 100_000,
        }
    }
}

/// A verified package, unpacked.
#[derive(Debug)]
pub struct Unpacked {
    /// Where it was unpacked (removed when this value is dropped if it owns a temporary dir).
    pub root: PathBuf,
    pub metadata: Metadata,
    /// Total bytes of blobs (what a push may have to send).
    pub blob_bytes: u64,
    _tmp: Option<tempfile::TempDir>,
}

impl Unpacked {
    /// The OCI layout of one of the package's images.
    pub fn layout(&self, image: &metadata::Image) -> Result<Layout> {
        Ok(Layout::open(&self.root.join(&image.layout))?)
    }
}

/// Unpacks and verifies `package` into a new temporary directory under `work_dir` (the system
/// temporary directory when None).
pub fn unpack(package: &Path, work_dir: Option<&Path>, limits: &Limits) -> Result<Unpacked> {
    let tmp = match work_dir {
        Some(d) => tempfile::Builder::new().prefix("violet-").tempdir_in(d),
        None => tempfile::Builder::new().prefix("violet-").tempdir(),
    }
    .map_err(|e| Error::io("temporary directory", e))?;
    let mut u = unpack_into(package, tmp.path(), limits)?;
    u._tmp = Some(tmp);
    Ok(u)
}

/// Unpacks and verifies `package` into the existing empty directory `dest`.
pub fn unpack_into(package: &Path, dest: &Path, limits: &Limits) -> Result<Unpacked> {
    let name = package.display().to_string();
    let file = std::fs::File::open(package).map_err(|e| Error::io(&name, e))?;
    let compressed = Counter::new(file);
    let read_so_far = compressed.count.clone();
    // The bufread decoder inflates straight out of this one buffer (the read one adds its own).
    let gz =
        flate2::bufread::GzDecoder::new(std::io::BufReader::with_capacity(256 << 10, compressed));
    let mut extractor = Extractor {
        package: name.clone(),
        dest: dest.to_path_buf(),
        limits: *limits,
        compressed: read_so_far,
        total: 0,
        seen: HashSet::new(),
        metadata: None,
        layouts: HashMap::new(),
        blob_bytes: 0,
        blobs: HashMap::new(),
        writer: BlobWriter::start(&name)?,
    };
    let mut archive = tar::Archive::new(gz);
    let read = (|| -> Result<()> {
        let entries = archive.entries().map_err(|e| corrupt(&name, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| corrupt(&name, e))?;
            extractor.entry(entry)?;
        }
        Ok(())
    })();
    // Every blob is written and checked before anything else is looked at; a reading error comes
    // first (the writer may only have stopped because the reader did).
    let written = extractor.writer.finish();
    read?;
    written?;
    let metadata = extractor.metadata.take().ok_or_else(|| Error::Corrupt {
        package: name.clone(),
        reason: format!("no {METADATA_FILE} (an empty or foreign archive)"),
    })?;
    for img in metadata.images() {
        verify_image(&name, dest, img)?;
    }
    Ok(Unpacked {
        root: dest.to_path_buf(),
        metadata,
        blob_bytes: extractor.blob_bytes,
        _tmp: None,
    })
}

/// Reads only `package.yaml` (the first entry), with the same checks, without unpacking the
/// images: enough to see whether a push has anything left to send.
pub fn read_metadata(package: &Path) -> Result<Metadata> {
    let name = package.display().to_string();
    let file = std::fs::File::open(package).map_err(|e| Error::io(&name, e))?;
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut entries = archive.entries().map_err(|e| corrupt(&name, e))?;
    let first = entries
        .next()
        .ok_or_else(|| Error::Corrupt {
            package: name.clone(),
            reason: "an empty archive".into(),
        })?
        .map_err(|e| corrupt(&name, e))?;
    let raw = String::from_utf8_lossy(&first.path_bytes()).into_owned();
    let ok = first.header().entry_type().is_file()
        && plain_components(&raw).is_ok_and(|p| p == [METADATA_FILE]);
    if !ok {
        return Err(Error::Entry {
            package: name,
            entry: raw,
            reason: format!("{METADATA_FILE} must be the archive's first entry"),
        });
    }
    let mut text = String::new();
    first
        .take(MAX_METADATA_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(&name, e))?;
    if text.len() as u64 > MAX_METADATA_BYTES {
        return Err(Error::Entry {
            package: name,
            entry: raw,
            reason: "too large".into(),
        });
    }
    Metadata::parse(&text)
}

fn corrupt(package: &str, e: std::io::Error) -> Error {
    Error::Corrupt {
        package: package.to_string(),
        reason: e.to_string(),
    }
}

/// Counts the bytes read through it (the compressed side of the archive).
struct Counter<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R> Counter<R> {
    fn new(inner: R) -> Counter<R> {
        Counter {
            inner,
            count: Default::default(),
        }
    }
}

impl<R: Read> Read for Counter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// What an accepted entry name is.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    Dir,
    Metadata,
    LayoutMarker,
    Index,
    Blob(Digest),
}

/// Classifies an entry path (already split into plain components), or says why it is refused.
fn classify(
    parts: &[&str],
    is_dir: bool,
    listed: &HashSet<String>,
) -> std::result::Result<Slot, String> {
    let not_listed = |d: &str| format!("images/{d} is not a layout package.yaml lists");
    match (parts, is_dir) {
        ([METADATA_FILE], false) => Ok(Slot::Metadata),
        (["images"], true) => Ok(Slot::Dir),
        (["images", d, ..], _) if !listed.contains(*d) => Err(not_listed(d)),
        (["images", _], true) | (["images", _, "blobs"], true) | (["images", _, "blobs", "sha256"], true) => Ok(Slot::Dir),
        (["images", _, "oci-layout"], false) => Ok(Slot::LayoutMarker),
        (["images", _, "index.json"], false) => Ok(Slot::Index),
        (["images", _, "blobs", "sha256", hex], false) => Digest::parse(&format!("sha256:{hex}"))
            .map(Slot::Blob)
            .map_err(|e| format!("not a blob name: {e}")),
        _ => Err("not a name the package format has (package.yaml, images/<dir>/oci-layout, index.json, blobs/sha256/<hex>)".into()),
    }
}

struct Extractor {
    package: String,
    dest: PathBuf,
    limits: Limits,
    compressed: std::rc::Rc<std::cell::Cell<u64>>,
    total: u64,
    seen: HashSet<String>,
    metadata: Option<Metadata>,
    /// Layout dir name → its image (from package.yaml).
    layouts: HashMap<String, String>,
    blob_bytes: u64,
    /// Each blob's first path (relative to `dest`), for hard links between copies.
    blobs: HashMap<Digest, String>,
    writer: BlobWriter,
}

impl Extractor {
    fn refuse(&self, entry: &str, reason: impl Into<String>) -> Error {
        Error::Entry {
            package: self.package.clone(),
            entry: entry.to_string(),
            reason: reason.into(),
        }
    }

    fn entry<R: Read>(&mut self, mut e: tar::Entry<'_, R>) -> Result<()> {
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        if self.seen.len() >= self.limits.max_entries {
            return Err(self.refuse(
                &raw,
                format!("more than {} entries", self.limits.max_entries),
            ));
        }
        let kind = e.header().entry_type();
        let is_dir = kind.is_dir();
        let is_link = kind == tar::EntryType::Link;
        if !(kind.is_file() || is_dir || is_link) {
            let what = match kind {
                tar::EntryType::Symlink => "a symbolic link",
                tar::EntryType::Link => "a hard link",
                tar::EntryType::Char | tar::EntryType::Block => "a device file",
                tar::EntryType::Fifo => "a FIFO",
                _ => "not a regular file or directory",
            };
            return Err(self.refuse(
                &raw,
                format!("{what}; packages hold only regular files and directories"),
            ));
        }
        let parts = plain_components(&raw).map_err(|r| self.refuse(&raw, r))?;
        let key = parts.join("/");
        if !self.seen.insert(key.clone()) {
            return Err(self.refuse(&raw, "appears twice in the archive"));
        }
        if self.metadata.is_none() && (is_dir || parts != [METADATA_FILE]) {
            return Err(self.refuse(
                &raw,
                format!("{METADATA_FILE} must be the archive's first entry"),
            ));
        }
        let listed: HashSet<String> = self.layouts.keys().cloned().collect();
        let slot = classify(&parts, is_dir, &listed).map_err(|r| self.refuse(&raw, r))?;
        let path = self.dest.join(&key);
        if is_link {
            return self.link_blob(&raw, &e, &slot, &path);
        }
        match slot {
            Slot::Dir => {
                std::fs::create_dir_all(&path).map_err(|err| Error::io(path.display(), err))
            }
            Slot::Metadata => self.read_metadata(&raw, &mut e),
            Slot::LayoutMarker | Slot::Index => {
                let bytes = self.read_small(&raw, &mut e, MAX_MANIFEST_BYTES as u64)?;
                write_file(&path, &bytes)
            }
            Slot::Blob(d) => self.write_blob(&raw, &mut e, &path, &d),
        }
    }

    /// A hard link is accepted only as a blob naming an earlier blob entry of the same digest
    /// (a blob several images share is stored once); anything else is refused.
    fn link_blob<R: Read>(
        &mut self,
        raw: &str,
        e: &tar::Entry<'_, R>,
        slot: &Slot,
        path: &Path,
    ) -> Result<()> {
        let refuse = |why: &str| {
            self.refuse(raw, format!("a hard link {why}; packages hold only regular files and directories, and hard links only between copies of one blob"))
        };
        let Slot::Blob(d) = slot else {
            return Err(refuse("that is not a blob"));
        };
        let target = e
            .link_name_bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| refuse("without a target"))?;
        let earlier = self
            .blobs
            .get(d)
            .filter(|p| plain_components(&target).map(|t| t.join("/")).as_deref() == Ok(p.as_str()))
            .ok_or_else(|| {
                refuse(&format!(
                    "to {target:?}, which is not an earlier copy of {d}"
                ))
            })?;
        let src = self.dest.join(earlier);
        // Through the writer, which has the earlier copy (in order, after it is written).
        self.writer.send(Job::Link {
            src,
            dst: path.to_path_buf(),
        })
    }

    fn read_metadata<R: Read>(&mut self, raw: &str, e: &mut R) -> Result<()> {
        let bytes = self.read_small(raw, e, MAX_METADATA_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|_| self.refuse(raw, "not UTF-8"))?;
        let m = Metadata::parse(&text)?;
        for img in m.images() {
            if let Some(dir) = metadata::layout_dir_name(&img.layout) {
                self.layouts.insert(dir.to_string(), img.reference.clone());
            }
        }
        self.metadata = Some(m);
        Ok(())
    }

    fn read_small<R: Read>(&mut self, raw: &str, e: &mut R, limit: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.copy(raw, e, &mut out, Some(limit))?;
        Ok(out)
    }

    /// Hands a blob's bytes to the writer thread, which hashes and stores them and fails the
    /// unpack when they do not match the name.
    fn write_blob<R: Read>(&mut self, raw: &str, e: &mut R, path: &Path, d: &Digest) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| Error::io(dir.display(), err))?;
        }
        self.writer.send(Job::Open {
            path: path.to_path_buf(),
            entry: raw.to_string(),
            digest: d.clone(),
        })?;
        let mut n = 0u64;
        loop {
            let mut buf = self.writer.buffer();
            let mut filled = 0;
            while filled < buf.len() {
                let k = e
                    .read(&mut buf[filled..])
                    .map_err(|err| corrupt(&self.package, err))?;
                if k == 0 {
                    break;
                }
                filled += k;
                self.total += k as u64;
                self.check_bounds(raw)?;
            }
            n += filled as u64;
            let last = filled < buf.len();
            if filled > 0 {
                self.writer.send(Job::Data(buf, filled))?;
            }
            if last {
                break;
            }
        }
        self.writer.send(Job::Close)?;
        self.blob_bytes += n;
        let rel = path
            .strip_prefix(&self.dest)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        self.blobs.entry(d.clone()).or_insert(rel);
        Ok(())
    }

    /// Copies an entry's bytes, enforcing the per-entry limit, the total and the ratio bounds.
    fn copy<R: Read>(
        &mut self,
        raw: &str,
        e: &mut R,
        out: &mut dyn Write,
        limit: Option<u64>,
    ) -> Result<u64> {
        let mut buf = vec![0u8; 128 << 10];
        let mut n = 0u64;
        loop {
            let k = e
                .read(&mut buf)
                .map_err(|err| corrupt(&self.package, err))?;
            if k == 0 {
                return Ok(n);
            }
            n += k as u64;
            self.total += k as u64;
            if let Some(l) = limit
                && n > l
            {
                return Err(self.refuse(
                    raw,
                    format!("larger than the {l} bytes such a file may have"),
                ));
            }
            self.check_bounds(raw)?;
            out.write_all(&buf[..k])
                .map_err(|err| Error::io(raw, err))?;
        }
    }

    fn check_bounds(&self, raw: &str) -> Result<()> {
        let too_large = |reason: String| Error::TooLarge {
            package: self.package.clone(),
            entry: raw.to_string(),
            reason,
        };
        if self.total > self.limits.max_total_bytes {
            return Err(too_large(format!(
                "expands beyond {} bytes in total",
                self.limits.max_total_bytes
            )));
        }
        let packed = self.compressed.get().max(1);
        if self.total > self.limits.ratio_floor && self.total / packed > self.limits.max_ratio {
            return Err(too_large(format!(
                "expands {}x ({} bytes from {packed} compressed), beyond the {}x a package of images can reach: a decompression bomb",
                self.total / packed,
                self.total,
                self.limits.max_ratio
            )));
        }
        Ok(())
    }
}

/// Bytes per buffer handed to the blob writer.
const CHUNK: usize = 1 << 20;

/// What the blob writer is asked to do, in archive order.
enum Job {
    /// Start a blob: create `path` (new) and hash what follows against `digest`.
    Open {
        path: PathBuf,
        entry: String,
        digest: Digest,
    },
    /// The next bytes of the open blob: the buffer's first `usize` bytes.
    Data(Vec<u8>, usize),
    /// The open blob is complete: check its digest.
    Close,
    /// A later copy of an earlier blob.
    Link { src: PathBuf, dst: PathBuf },
}

/// The thread that hashes and writes blobs, fed through a short queue of reused buffers.
struct BlobWriter {
    jobs: Option<mpsc::SyncSender<Job>>,
    free: mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl BlobWriter {
    fn start(package: &str) -> Result<BlobWriter> {
        let (jobs, rx) = mpsc::sync_channel(4);
        let (give_back, free) = mpsc::channel();
        let package = package.to_string();
        let thread = std::thread::Builder::new()
            .name("unpack-blobs".into())
            .spawn(move || write_blobs(&package, rx, give_back))
            .map_err(|e| Error::io("starting the blob writer thread", e))?;
        Ok(BlobWriter {
            jobs: Some(jobs),
            free,
            thread: Some(thread),
        })
    }

    /// A buffer to fill: one the writer is done with, or a new one.
    fn buffer(&self) -> Vec<u8> {
        self.free.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK])
    }

    /// Queues a job; when the writer has stopped (it failed), its error.
    fn send(&mut self, job: Job) -> Result<()> {
        let sent = self.jobs.as_ref().map(|j| j.send(job).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        match self.finish() {
            Err(e) => Err(e),
            Ok(()) => Err(Error::io(
                "blob writer",
                std::io::Error::other("stopped before the end of the archive"),
            )),
        }
    }

    /// Waits until everything queued is written and checked.
    fn finish(&mut self) -> Result<()> {
        self.jobs = None;
        match self.thread.take().map(|t| t.join()) {
            None => Ok(()),
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::io(
                "blob writer",
                std::io::Error::other("the blob writer thread panicked"),
            )),
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The writer thread: stops at the first failure (the reader then sees its queue closed).
fn write_blobs(
    package: &str,
    jobs: mpsc::Receiver<Job>,
    give_back: mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    struct Open {
        file: std::fs::File,
        path: PathBuf,
        entry: String,
        digest: Digest,
        hasher: Sha256,
    }
    let mut open: Option<Open> = None;
    let lost = || {
        Error::io(
            "blob writer",
            std::io::Error::other("blob bytes without an open blob"),
        )
    };
    for job in jobs {
        match job {
            Job::Open {
                path,
                entry,
                digest,
            } => {
                let file = std::fs::File::create_new(&path)
                    .map_err(|err| Error::io(path.display(), err))?;
                open = Some(Open {
                    file,
                    path,
                    entry,
                    digest,
                    hasher: Sha256::new(),
                });
            }
            Job::Data(buf, n) => {
                let o = open.as_mut().ok_or_else(lost)?;
                o.hasher.update(&buf[..n]);
                o.file
                    .write_all(&buf[..n])
                    .map_err(|err| Error::io(o.path.display(), err))?;
                let _ = give_back.send(buf);
            }
            Job::Close => {
                let o = open.take().ok_or_else(lost)?;
                let actual = format!("sha256:{}", hex::encode(o.hasher.finalize()));
                if actual != o.digest.to_string() {
                    return Err(Error::Digest {
                        package: package.to_string(),
                        what: format!("entry {:?}", o.entry),
                        expected: o.digest.to_string(),
                        actual,
                    });
                }
            }
            Job::Link { src, dst } => std::fs::hard_link(&src, &dst)
                .or_else(|_| std::fs::copy(&src, &dst).map(|_| ()))
                .map_err(|err| Error::io(dst.display(), err))?,
        }
    }
    Ok(())
}

/// Splits an entry path into its components, refusing absolute paths, `..`, and anything but
/// plain names (a leading `./` is allowed, as `tar -C dir .` writes it).
fn plain_components(raw: &str) -> std::result::Result<Vec<&str>, String> {
    if raw.starts_with('/') || raw.starts_with('\\') {
        return Err("an absolute path".into());
    }
    if raw.contains('\\') || raw.contains('\0') {
        return Err("a path with a backslash or NUL".into());
    }
    let mut parts = Vec::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().ok_or("a non-UTF-8 path")?),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err("a path with '..' (it would leave the package directory)".into());
            }
            Component::RootDir | Component::Prefix(_) => return Err("an absolute path".into()),
        }
    }
    if parts.is_empty() {
        return Err("an empty path".into());
    }
    Ok(parts)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    }
    let mut f = std::fs::File::create_new(path).map_err(|e| Error::io(path.display(), e))?;
    f.write_all(bytes).map_err(|e| Error::io(path.display(), e))
}

/// Checks one image's layout: a single `index.json` entry equal to the pinned digest, and every
/// manifest and blob reachable from it present (blob contents were verified when written).
fn verify_image(package: &str, root: &Path, img: &metadata::Image) -> Result<()> {
    let fail = |reason: String| Error::Image {
        package: package.to_string(),
        image: img.reference.clone(),
        reason,
    };
    let layout = Layout::open(&root.join(&img.layout)).map_err(|e| fail(e.to_string()))?;
    let top = layout.resolve(None).map_err(|e| fail(e.to_string()))?;
    if top.digest.to_string() != img.digest {
        return Err(Error::Digest {
            package: package.to_string(),
            what: format!("image {} (index.json of {})", img.reference, img.layout),
            expected: img.digest.clone(),
            actual: top.digest.to_string(),
        });
    }
    let m = read_manifest(&layout, &top).map_err(|e| fail(e.to_string()))?;
    let manifests = if m.is_index() {
        let mut v = Vec::new();
        for c in m.children()? {
            let child = read_manifest(&layout, &c).map_err(|e| fail(e.to_string()))?;
            if child.is_index() {
                return Err(fail("nested indexes are not supported".into()));
            }
            v.push(child);
        }
        v
    } else {
        vec![m]
    };
    for m in &manifests {
        for b in m.blob_refs()? {
            if !layout.has_blob(&b) {
                return Err(fail(format!(
                    "blob {} ({} bytes) of manifest {} is missing from the package",
                    b.digest, b.size, m.digest
                )));
            }
        }
    }
    Ok(())
}

fn read_manifest(layout: &Layout, d: &BlobRef) -> oci::Result<RawManifest> {
    layout.read_manifest(d)
}

/// The `os/arch` of an image in a layout (every platform of an index).
pub fn platforms(layout: &Layout, top: &BlobRef) -> Result<Vec<String>> {
    let m = layout.read_manifest(top)?;
    let mut out = Vec::new();
    if let oci::Manifest::Index(i) = &m.parsed {
        for d in i.manifests() {
            if let Some(p) = d.platform() {
                out.push(format!("{}/{}", p.os(), p.architecture()));
            }
        }
        return Ok(out);
    }
    if let Some(config) = m.blob_refs()?.first() {
        let bytes = std::fs::read(layout.blob_path(&config.digest))
            .map_err(|e| Error::io(layout.blob_path(&config.digest).display(), e))?;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let (Some(os), Some(arch)) = (v["os"].as_str(), v["architecture"].as_str())
        {
            out.push(format!("{os}/{arch}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_be_plain_and_relative() {
        assert_eq!(
            plain_components("./images/a/index.json").unwrap(),
            vec!["images", "a", "index.json"]
        );
        assert!(
            plain_components("/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(
            plain_components("images/../../x")
                .unwrap_err()
                .contains("..")
        );
        assert!(plain_components("a\\b").is_err());
        assert!(plain_components(".").is_err());
    }

    #[test]
    fn only_the_formats_names_are_accepted() {
        let listed: HashSet<String> = ["a".to_string()].into();
        let hex = "0".repeat(64);
        assert_eq!(
            classify(&["package.yaml"], false, &listed),
            Ok(Slot::Metadata)
        );
        assert_eq!(
            classify(&["images", "a", "index.json"], false, &listed),
            Ok(Slot::Index)
        );
        assert!(matches!(
            classify(&["images", "a", "blobs", "sha256", &hex], false, &listed),
            Ok(Slot::Blob(_))
        ));
        assert!(
            classify(&["images", "b", "index.json"], false, &listed)
                .unwrap_err()
                .contains("not a layout")
        );
        assert!(classify(&["images", "a", "blobs", "sha256", "xyz"], false, &listed).is_err());
        assert!(classify(&["images", "a", "extra"], false, &listed).is_err());
        assert!(classify(&["etc", "passwd"], false, &listed).is_err());
    }
}
