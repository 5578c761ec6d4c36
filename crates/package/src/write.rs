//! Writing a package: `package.yaml` first, then each image's layout, files in sorted order with
//! fixed modes and times (the same input gives the same archive), streamed through gzip with stored
//! (uncompressed) deflate blocks: the layers inside are compressed already.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::metadata::{METADATA_FILE, Metadata};

/// Writes `out` from `metadata` and the image layouts under `staging` (`staging/<image.layout>`).
/// The archive is written to a temporary name beside `out` and renamed when complete.
pub fn write_package(out: &Path, metadata: &Metadata, staging: &Path) -> Result<()> {
    metadata.validate()?;
    let tmp = out.with_extension("tgz.partial");
    let result = write_to(&tmp, metadata, staging);
    match result {
        Ok(()) => std::fs::rename(&tmp, out).map_err(|e| Error::io(out.display(), e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_to(path: &Path, metadata: &Metadata, staging: &Path) -> Result<()> {
    let f = std::fs::File::create(path).map_err(|e| Error::io(path.display(), e))?;
    let gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::with_capacity(256 << 10, f),
        // Layers are compressed already: deflating them again gains nothing, and the pure-Rust
        // encoder codes such data as Huffman literals rather than stored blocks, so inflating
        // them again cost most of the verification before a push (1.5 of 2.3 s for 500 MB).
        // Stored blocks inflate at memcpy speed; only metadata and manifests would shrink.
        flate2::Compression::none(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    let yaml = metadata.to_yaml()?;
    append_bytes(&mut tar, METADATA_FILE, yaml.as_bytes())?;
    append_dir(&mut tar, "images")?;
    let mut first: std::collections::HashMap<String, String> = Default::default();
    for img in metadata.images() {
        let root = staging.join(&img.layout);
        append_dir(&mut tar, &img.layout)?;
        for name in ["oci-layout", "index.json"] {
            append_file(
                &mut tar,
                &root.join(name),
                &format!("{}/{name}", img.layout),
            )?;
        }
        append_dir(&mut tar, &format!("{}/blobs", img.layout))?;
        append_dir(&mut tar, &format!("{}/blobs/sha256", img.layout))?;
        let blobs = root.join("blobs/sha256");
        let mut names: Vec<String> = std::fs::read_dir(&blobs)
            .map_err(|e| Error::io(blobs.display(), e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            let name = format!("{}/blobs/sha256/{n}", img.layout);
            // A blob several images share is stored once; later layouts hard-link to it.
            match first.get(&n) {
                Some(earlier) => append_link(&mut tar, &name, earlier)?,
                None => {
                    append_file(&mut tar, &blobs.join(&n), &name)?;
                    first.insert(n.clone(), name);
                }
            }
        }
    }
    let gz = tar.into_inner().map_err(|e| Error::io(path.display(), e))?;
    let mut w = gz.finish().map_err(|e| Error::io(path.display(), e))?;
    w.flush().map_err(|e| Error::io(path.display(), e))?;
    w.get_ref()
        .sync_all()
        .map_err(|e| Error::io(path.display(), e))
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<()> {
    let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
    tar.append_data(&mut h, name, data)
        .map_err(|e| Error::io(name, e))
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, name: &str) -> Result<()> {
    let mut h = header(tar::EntryType::Directory, 0, 0o755);
    tar.append_data(&mut h, format!("{name}/"), std::io::empty())
        .map_err(|e| Error::io(name, e))
}

fn append_link<W: Write>(tar: &mut tar::Builder<W>, name: &str, target: &str) -> Result<()> {
    let mut h = header(tar::EntryType::Link, 0, 0o644);
    tar.append_link(&mut h, name, target)
        .map_err(|e| Error::io(name, e))
}

fn append_file<W: Write>(tar: &mut tar::Builder<W>, src: &Path, name: &str) -> Result<()> {
    let f = std::fs::File::open(src).map_err(|e| Error::io(src.display(), e))?;
    let len = f.metadata().map_err(|e| Error::io(src.display(), e))?.len();
    let mut h = header(tar::EntryType::Regular, len, 0o644);
    tar.append_data(
        &mut h,
        name,
        std::io::BufReader::with_capacity(256 << 10, f),
    )
    .map_err(|e| Error::io(src.display(), e))
}
