//! `violet verify`: the package's own digests (every blob, manifest and pinned image, via a full
//! unpack) and, when present, a `<package>.sha256` file beside it (`sha256sum` format).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::cli::VerifyArgs;

/// The expected hex digest in a `sha256sum` line (`<hex>  <name>` or just `<hex>`).
pub fn parse_sha256_file(text: &str) -> Result<String> {
    let first = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first.len() != 64 || !first.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("not a sha256sum file (expected 64 hex digits first)");
    }
    Ok(first)
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn beside(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Checks the `.sha256` file beside a package, when there is one; Ok(false) when absent.
pub fn check_sha256(package: &Path) -> Result<bool> {
    let sums = beside(package, ".sha256");
    if !sums.exists() {
        return Ok(false);
    }
    let text = std::fs::read_to_string(&sums).with_context(|| sums.display().to_string())?;
    let expected = parse_sha256_file(&text).with_context(|| sums.display().to_string())?;
    let actual = sha256_file(package)?;
    if actual != expected {
        bail!(
            "{} has sha256 {actual} but {} says {expected}: the file was altered or damaged; download it again",
            package.display(),
            sums.display()
        );
    }
    Ok(true)
}

pub async fn run(a: VerifyArgs) -> Result<()> {
    if check_sha256(&a.package)? {
        println!(
            "{}: matches {}.sha256",
            a.package.display(),
            a.package.display()
        );
    }
    let sig = beside(&a.package, ".sig");
    if a.key.is_some() || sig.exists() {
        bail!(
            "OpenPGP signatures ({}) are not checked by this violet yet; refusing to report the package as verified by signature",
            sig.display()
        );
    }
    let files = vec![a.package.clone()];
    let u = crate::push::unpack_all(&files, a.unpack.workdir.clone()).await?;
    let m = &u[0].1.metadata;
    println!(
        "{}: OK — package.yaml valid, {} images, {} bytes of blobs, every digest verified",
        a.package.display(),
        m.images().count(),
        u[0].1.blob_bytes
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_lines_parse() {
        let h = "a".repeat(64);
        assert_eq!(parse_sha256_file(&format!("{h}  pkg.tgz\n")).unwrap(), h);
        assert!(parse_sha256_file("xyz pkg.tgz").is_err());
    }
}
