//! `violet verify`: the package's own digests (every blob, manifest and pinned image, via a full
//! unpack), a `<package>.sha256` file beside it (`sha256sum` format) when present, and an OpenPGP
//! detached signature beside it (`<package>.sig` or `.asc`, binary or armored) checked against
//! the publisher's public key given with `--key` (rpgp, pure Rust). `push --key` uses the same
//! check before anything is sent.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey, SignedPublicSubKey};
use pgp::packet::{Signature, SignatureType};
use pgp::types::{KeyDetails, Tag, Timestamp};
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

/// Who made a good signature: the key's primary user id and fingerprint, and the signing subkey
/// when it was not the primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The signature file that was checked.
    pub signature_file: PathBuf,
    /// The primary user id (`Name <email>`), when the key has a self-signed one.
    pub user_id: Option<String>,
    /// The primary key's fingerprint (upper-case hex, as `gpg --fingerprint` shows it without spaces).
    pub fingerprint: String,
    /// The signing subkey's fingerprint, when a subkey made the signature.
    pub subkey: Option<String>,
    /// When the signature says it was made.
    pub created: Option<SystemTime>,
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "good signature {} by {} (key {}",
            self.signature_file.display(),
            self.user_id.as_deref().unwrap_or("<no user id>"),
            self.fingerprint
        )?;
        if let Some(s) = &self.subkey {
            write!(f, ", signing subkey {s}")?;
        }
        write!(f, ")")?;
        if let Some(t) = self.created {
            write!(f, ", made {}", date(t))?;
        }
        Ok(())
    }
}

/// The detached signatures beside a package that exist: `<package>.sig` (binary or armored, as
/// `gpg --detach-sign` writes) and `<package>.asc` (as `gpg --armor --detach-sign` writes).
pub fn signatures_beside(package: &Path) -> Vec<PathBuf> {
    [".sig", ".asc"]
        .iter()
        .map(|e| beside(package, e))
        .filter(|p| p.exists())
        .collect()
}

/// The signature rule of `verify` and `push --key`: with `key`, a signature must be beside the
/// package and every one there must be good; without `key`, a signature beside the package is
/// refused (it would otherwise be silently unchecked). Ok(empty) when there is neither.
pub fn check_signatures(package: &Path, key: Option<&Path>) -> Result<Vec<Signer>> {
    let sigs = signatures_beside(package);
    match (key, sigs.is_empty()) {
        (None, true) => Ok(vec![]),
        (None, false) => bail!(
            "{} is signed ({}) but no key was given to check it with: pass --key with the publisher's \
             public key (gpg --armor --export PUBLISHER > pub.asc), or remove the signature file to \
             check digests only",
            package.display(),
            names(&sigs)
        ),
        (Some(k), true) => bail!(
            "--key {} was given but {} has no signature beside it ({} or {}): get the signature file \
             from the publisher (gpg --detach-sign {} makes one), or drop --key to check digests only",
            k.display(),
            package.display(),
            beside(package, ".sig").display(),
            beside(package, ".asc").display(),
            package.display()
        ),
        (Some(k), false) => {
            let keys = read_keys(k)?;
            sigs.iter()
                .map(|s| check_signature(package, s, &keys, k))
                .collect()
        }
    }
}

fn names(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the public key(s) in an OpenPGP key file, armored (`gpg --armor --export`) or binary
/// (`gpg --export`).
pub fn read_keys(file: &Path) -> Result<Vec<SignedPublicKey>> {
    let what = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "{} is not a readable OpenPGP public key ({e}); export the publisher's key with \
             `gpg --armor --export PUBLISHER > pub.asc` and pass that file to --key",
            file.display()
        )
    };
    let f = std::fs::File::open(file)
        .with_context(|| format!("opening the key file {}", file.display()))?;
    let keys = SignedPublicKey::from_reader_many(BufReader::new(f))
        .map_err(|e| what(&e))?
        .0
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| what(&e))?;
    if keys.is_empty() {
        return Err(what(&"no public key in it"));
    }
    Ok(keys)
}

fn read_signatures(file: &Path) -> Result<Vec<Signature>> {
    let what = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "{} is not a readable OpenPGP detached signature ({e}); get it again from the \
             publisher (it is made with `gpg --detach-sign PACKAGE`)",
            file.display()
        )
    };
    let f = std::fs::File::open(file)
        .with_context(|| format!("opening the signature file {}", file.display()))?;
    let sigs = DetachedSignature::from_reader_many(BufReader::new(f))
        .map_err(|e| what(&e))?
        .0
        .map(|s| s.map(|d| d.signature))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| what(&e))?;
    if sigs.is_empty() {
        return Err(what(&"no signature in it"));
    }
    for s in &sigs {
        if !matches!(s.typ(), Some(SignatureType::Binary | SignatureType::Text)) {
            return Err(what(&format_args!(
                "it holds a {:?} signature, not a signature over a file",
                s.typ()
            )));
        }
    }
    Ok(sigs)
}

fn upper(fp: &pgp::types::Fingerprint) -> String {
    format!("{fp:X}")
}

/// Whether `key` is one `sig` names as its issuer (fingerprint or key id). A signature naming
/// no issuer matches every key (the cryptographic check decides).
fn issued_by(sig: &Signature, key: &impl KeyDetails) -> bool {
    let (ids, fps) = (sig.issuer_key_id(), sig.issuer_fingerprint());
    (ids.is_empty() && fps.is_empty())
        || ids.iter().any(|i| **i == key.legacy_key_id())
        || fps.iter().any(|f| **f == key.fingerprint())
}

fn issuer(sig: &Signature) -> String {
    if let Some(f) = sig.issuer_fingerprint().first() {
        upper(f)
    } else if let Some(i) = sig.issuer_key_id().first() {
        i.to_string().to_ascii_uppercase()
    } else {
        "<unnamed>".into()
    }
}

fn secs(t: Timestamp) -> u64 {
    u64::from(t.as_secs())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn date(t: SystemTime) -> String {
    let s = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    date_secs(s)
}

fn date_secs(s: u64) -> String {
    i64::try_from(s)
        .ok()
        .and_then(|s| k8s_openapi::jiff::Timestamp::from_second(s).ok())
        .map(|t| t.to_string())
        .unwrap_or_else(|| format!("{s} seconds after 1970"))
}

/// The newest of the given signatures (by creation time).
fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map(secs).unwrap_or_default())
}

/// The primary key's newest valid self-signature on a user id (the primary user id first), and
/// that user id. Third-party certifications are ignored.
fn primary_self_signature(k: &SignedPublicKey) -> Option<(&Signature, String)> {
    let mut users: Vec<_> = k.details.users.iter().collect();
    users.sort_by_key(|u| !u.is_primary());
    users.into_iter().find_map(|u| {
        let sig = newest(u.signatures.iter().filter(|s| {
            issued_by(s, &k.primary_key)
                && s.verify_certification(&k.primary_key, Tag::UserId, &u.id)
                    .is_ok()
        }))?;
        Some((sig, String::from_utf8_lossy(u.id.id()).into_owned()))
    })
}

/// The subkey's newest valid binding signature (with its back-signature when it may sign).
fn subkey_binding<'a>(k: &SignedPublicKey, sk: &'a SignedPublicSubKey) -> Option<&'a Signature> {
    newest(sk.signatures.iter().filter(|s| {
        s.typ() == Some(SignatureType::SubkeyBinding)
            && s.verify_subkey_binding(&k.primary_key, &sk.key).is_ok()
            && (!s.key_flags().sign()
                || s.embedded_signature().is_some_and(|b| {
                    b.verify_primary_key_binding(&sk.key, &k.primary_key)
                        .is_ok()
                }))
    }))
}

/// Refuses a key whose self-signature gives it an expiry that has passed.
fn check_expiry(
    what: &str,
    created: Timestamp,
    sig: Option<&Signature>,
    keyfile: &Path,
) -> Result<()> {
    let Some(exp) = sig.and_then(|s| s.key_expiration_time()) else {
        return Ok(());
    };
    if exp.as_secs() == 0 {
        return Ok(());
    }
    let until = secs(created) + u64::from(exp.as_secs());
    if until < now() {
        bail!(
            "{what} in {} expired on {}: ask the publisher for their current public key \
             (an expiry they extended needs a fresh `gpg --armor --export`)",
            keyfile.display(),
            date_secs(until)
        );
    }
    Ok(())
}

/// Checks one detached signature file over `package` with the keys of `keyfile`: the signature
/// must be made by one of those keys (primary key, or a subkey bound to it that may sign), the
/// package bytes must hash to what was signed (the package is streamed, not loaded), and the
/// key must be neither revoked nor expired.
pub fn check_signature(
    package: &Path,
    sig_file: &Path,
    keys: &[SignedPublicKey],
    keyfile: &Path,
) -> Result<Signer> {
    let sigs = read_signatures(sig_file)?;
    let mut refusals = vec![];
    for sig in &sigs {
        match check_one(package, sig_file, sig, keys, keyfile) {
            Ok(s) => return Ok(s),
            Err(e) => refusals.push(e),
        }
    }
    // One signature (the usual case) gives its own refusal; several are listed.
    if refusals.len() == 1 {
        return Err(refusals.remove(0));
    }
    bail!(
        "no signature in {} is good: {}",
        sig_file.display(),
        refusals
            .iter()
            .map(|e| format!("{e:#}"))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

fn check_one(
    package: &Path,
    sig_file: &Path,
    sig: &Signature,
    keys: &[SignedPublicKey],
    keyfile: &Path,
) -> Result<Signer> {
    let open = || -> Result<BufReader<std::fs::File>> {
        Ok(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(package).with_context(|| package.display().to_string())?,
        ))
    };
    let bad = |e: pgp::errors::Error| {
        // rpgp's hash mismatch is a multi-line assertion; its last clause says what failed.
        let e = e.to_string();
        let e = match e.contains('\n') {
            true => e.rsplit(": ").next().unwrap_or_default().trim().to_string(),
            false => e,
        };
        anyhow::anyhow!(
            "bad signature: {} does not match {} ({e}); the package was altered or damaged after \
             it was signed, or the signature belongs to another file: download both again",
            package.display(),
            sig_file.display()
        )
    };
    if let (Some(made), Some(valid)) = (sig.created(), sig.signature_expiration_time())
        && valid.as_secs() != 0
        && secs(made) + u64::from(valid.as_secs()) < now()
    {
        bail!(
            "the signature in {} expired on {}: ask the publisher for a fresh signature \
             (gpg --detach-sign {})",
            sig_file.display(),
            date_secs(secs(made) + u64::from(valid.as_secs())),
            package.display()
        );
    }
    for k in keys {
        let primary_fp = upper(&k.primary_key.fingerprint());
        let (self_sig, user_id) = primary_self_signature(k).unzip();
        // Which key of this certificate made the signature: the primary, or a signing subkey.
        let signed_by_primary = issued_by(sig, &k.primary_key);
        let subkey = k.public_subkeys.iter().find(|sk| issued_by(sig, &sk.key));
        if !signed_by_primary && subkey.is_none() {
            continue;
        }
        let revoked = k
            .details
            .revocation_signatures
            .iter()
            .any(|r| issued_by(r, &k.primary_key) && r.verify_key(&k.primary_key).is_ok());
        if revoked {
            bail!(
                "key {primary_fp} in {} is revoked by its owner; do not trust packages signed \
                 with it: ask the publisher for their new key",
                keyfile.display()
            );
        }
        if signed_by_primary {
            let flags = self_sig.map(|s| s.key_flags());
            if let Some(f) = &flags
                && (f.certify() || f.encrypt_comms() || f.encrypt_storage() || f.authentication())
                && !f.sign()
            {
                bail!(
                    "key {primary_fp} in {} may not make signatures (its key flags say so), yet \
                     {} claims it did; the signature is not trustworthy",
                    keyfile.display(),
                    sig_file.display()
                );
            }
            sig.verify(&k.primary_key, open()?).map_err(bad)?;
            check_expiry(
                &format!("key {primary_fp}"),
                k.primary_key.created_at(),
                self_sig,
                keyfile,
            )?;
            return Ok(signer(sig_file, sig, user_id, primary_fp, None));
        }
        let sk = subkey.expect("checked above");
        let sk_fp = upper(&sk.key.fingerprint());
        let Some(binding) = subkey_binding(k, sk) else {
            bail!(
                "subkey {sk_fp} that made {} is not validly bound to key {primary_fp} in {}; \
                 ask the publisher for their full public key (gpg --armor --export)",
                sig_file.display(),
                keyfile.display()
            );
        };
        if !binding.key_flags().sign() {
            bail!(
                "subkey {sk_fp} of key {primary_fp} in {} may not make signatures, yet {} \
                 claims it did; the signature is not trustworthy",
                keyfile.display(),
                sig_file.display()
            );
        }
        let sub_revoked = sk.signatures.iter().any(|r| {
            r.typ() == Some(SignatureType::SubkeyRevocation)
                && r.verify_subkey_binding(&k.primary_key, &sk.key).is_ok()
        });
        if sub_revoked {
            bail!(
                "subkey {sk_fp} of key {primary_fp} in {} is revoked by its owner; ask the \
                 publisher to sign with a current key",
                keyfile.display()
            );
        }
        sig.verify(&sk.key, open()?).map_err(bad)?;
        check_expiry(
            &format!("key {primary_fp}"),
            k.primary_key.created_at(),
            self_sig,
            keyfile,
        )?;
        check_expiry(
            &format!("subkey {sk_fp} of key {primary_fp}"),
            sk.key.created_at(),
            Some(binding),
            keyfile,
        )?;
        return Ok(signer(sig_file, sig, user_id, primary_fp, Some(sk_fp)));
    }
    let ours = keys
        .iter()
        .map(|k| upper(&k.primary_key.fingerprint()))
        .collect::<Vec<_>>()
        .join(", ");
    bail!(
        "{} is signed by key {}, not by the key in {} ({ours}): pass --key with the public key of \
         whoever signed it if you trust them, or get the package and signature from the publisher \
         whose key you have",
        sig_file.display(),
        issuer(sig),
        keyfile.display()
    )
}

fn signer(
    sig_file: &Path,
    sig: &Signature,
    user_id: Option<String>,
    fingerprint: String,
    subkey: Option<String>,
) -> Signer {
    Signer {
        signature_file: sig_file.to_path_buf(),
        user_id,
        fingerprint,
        subkey,
        created: sig.created().map(SystemTime::from),
    }
}

pub async fn run(a: VerifyArgs) -> Result<()> {
    if check_sha256(&a.package)? {
        println!(
            "{}: matches {}.sha256",
            a.package.display(),
            a.package.display()
        );
    }
    for s in check_signatures(&a.package, a.key.as_deref())? {
        println!("{}: {s}", a.package.display());
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
