//! `violet verify --key`: OpenPGP detached signatures made by the real GnuPG 2 (`gpg`, in a
//! temporary GNUPGHOME per test) over packages built with the real `violet pack`, checked by the
//! real `violet` binary. A missing gpg fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A throwaway GnuPG home; its agent is stopped when dropped.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        require("gpg");
        let home = tempfile::Builder::new().prefix("gpg").tempdir().unwrap();
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Gpg { home }
    }

    /// Runs gpg in batch mode and panics with its stderr unless it succeeds; returns stdout.
    fn run(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args([
                "--batch",
                "--yes",
                "--passphrase",
                "",
                "--pinentry-mode",
                "loopback",
            ])
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Generates a key for `uid` (`algo` as gpg's --quick-gen-key takes it); returns its
    /// fingerprint.
    fn key(&self, uid: &str, algo: &str) -> String {
        self.run(&["--quick-gen-key", uid, algo, "sign", "never"]);
        self.fingerprint(uid)
    }

    /// The fingerprints of `uid`'s key: the primary first, then its subkeys.
    fn fingerprints(&self, uid: &str) -> Vec<String> {
        let out = self.run(&["--with-colons", "--list-keys", uid]);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .map(|l| l.split(':').nth(9).unwrap().to_string())
            .collect()
    }

    fn fingerprint(&self, uid: &str) -> String {
        self.fingerprints(uid)[0].clone()
    }

    /// Exports `uid`'s public key to `out`, armored or binary.
    fn export(&self, uid: &str, armor: bool, out: &Path) -> PathBuf {
        let mut args = vec!["--output", out.to_str().unwrap()];
        if armor {
            args.push("--armor");
        }
        args.extend(["--export", uid]);
        self.run(&args);
        out.to_path_buf()
    }

    /// `gpg [--armor] --detach-sign` of `file` by `uid`, where gpg writes it by default
    /// (`<file>.sig`, or `<file>.asc` when armored).
    fn sign(&self, uid: &str, file: &Path, armor: bool) -> PathBuf {
        let mut args = vec!["--local-user", uid];
        if armor {
            args.push("--armor");
        }
        args.extend(["--detach-sign", file.to_str().unwrap()]);
        self.run(&args);
        let sig = PathBuf::from(format!(
            "{}.{}",
            file.display(),
            if armor { "asc" } else { "sig" }
        ));
        assert!(sig.exists(), "gpg wrote no {}", sig.display());
        sig
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

const PUBLISHER: &str = "Publisher <p@example.com>";

/// A package in a fresh directory and a GnuPG home holding the publisher's ed25519 key, whose
/// public key is exported armored to `pub.asc`.
fn setup(seed: u64) -> (tempfile::TempDir, PathBuf, Gpg, String, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), seed);
    let gpg = Gpg::new();
    let fp = gpg.key(PUBLISHER, "ed25519");
    let key = gpg.export(PUBLISHER, true, &tmp.path().join("pub.asc"));
    (tmp, pkg, gpg, fp, key)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_binary_signature_by_the_given_ed25519_key_verifies_and_names_the_signer() {
    let (_tmp, pkg, gpg, fp, key) = setup(101);
    gpg.sign(PUBLISHER, &pkg, false);
    let out = violet_ok(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(out.contains("good signature"), "{out}");
    assert!(out.contains(PUBLISHER), "{out}");
    assert!(out.contains(&fp), "{out}");
    assert!(out.contains("every digest verified"), "{out}");
}

#[test]
fn an_armored_signature_by_an_rsa_key_verifies_as_asc_and_as_sig_with_a_binary_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 102);
    let gpg = Gpg::new();
    let uid = "RSA Publisher <rsa@example.com>";
    let fp = gpg.key(uid, "rsa2048");
    let key = gpg.export(uid, false, &tmp.path().join("pub.gpg"));
    let asc = gpg.sign(uid, &pkg, true);
    assert!(
        std::fs::read_to_string(&asc)
            .unwrap()
            .contains("BEGIN PGP SIGNATURE")
    );
    let out = violet_ok(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(out.contains(uid) && out.contains(&fp), "{out}");
    // The same armored signature named .sig (as some publishers ship it).
    std::fs::rename(&asc, format!("{}.sig", pkg.display())).unwrap();
    let out = violet_ok(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(out.contains(".sig") && out.contains(&fp), "{out}");
}

#[test]
fn a_signature_by_a_signing_subkey_verifies_and_names_the_subkey() {
    let (_tmp, pkg, gpg, fp, key) = setup(103);
    gpg.run(&["--quick-add-key", &fp, "ed25519", "sign", "never"]);
    let sub = gpg.fingerprints(PUBLISHER)[1].clone();
    let key = gpg.export(PUBLISHER, true, &key);
    gpg.sign(PUBLISHER, &pkg, false);
    let out = violet_ok(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(
        out.contains(&fp) && out.contains(&format!("signing subkey {sub}")),
        "{out}"
    );
}

#[test]
fn a_signature_by_another_key_is_refused_naming_that_key() {
    let (tmp, pkg, gpg, fp, key) = setup(104);
    let other = gpg.key("Someone Else <x@example.com>", "ed25519");
    gpg.sign("x@example.com", &pkg, false);
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(
        e.contains(&format!(
            "signed by key {other}, not by the key in {}",
            key.display()
        )),
        "{e}"
    );
    assert!(e.contains(&fp), "{e}");
    drop(tmp);
}

#[test]
fn a_package_altered_after_signing_is_refused_as_a_bad_signature() {
    let (_tmp, pkg, gpg, _fp, key) = setup(105);
    gpg.sign(PUBLISHER, &pkg, false);
    let mut bytes = std::fs::read(&pkg).unwrap();
    bytes.push(0);
    std::fs::write(&pkg, bytes).unwrap();
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(e.contains("bad signature") && e.contains(s(&pkg)), "{e}");
    assert!(
        e.contains("invalid signed hash value") && !e.contains("left:"),
        "{e}"
    );
}

#[test]
fn a_signature_beside_the_package_without_key_is_refused_not_skipped() {
    let (_tmp, pkg, gpg, _fp, _key) = setup(106);
    let sig = gpg.sign(PUBLISHER, &pkg, false);
    let e = violet_err(&["verify", s(&pkg)]);
    assert!(e.contains(s(&sig)) && e.contains("pass --key"), "{e}");
    assert!(e.contains("remove the signature file"), "{e}");
}

#[test]
fn a_key_without_a_signature_beside_the_package_is_refused() {
    let (_tmp, pkg, _gpg, _fp, key) = setup(107);
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(
        e.contains("no signature beside it") && e.contains(&format!("{}.sig", pkg.display())),
        "{e}"
    );
}

#[test]
fn a_malformed_key_file_or_signature_file_is_refused_by_name() {
    let (tmp, pkg, gpg, _fp, key) = setup(108);
    let sig = gpg.sign(PUBLISHER, &pkg, false);
    let junk = tmp.path().join("junk.asc");
    std::fs::write(&junk, "not a key\n").unwrap();
    let e = violet_err(&["verify", s(&pkg), "--key", s(&junk)]);
    assert!(
        e.contains(&format!(
            "{} is not a readable OpenPGP public key",
            junk.display()
        )),
        "{e}"
    );
    std::fs::write(&sig, b"\x00garbage").unwrap();
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(
        e.contains(&format!(
            "{} is not a readable OpenPGP detached signature",
            sig.display()
        )),
        "{e}"
    );
}

#[test]
fn a_key_that_has_expired_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 109);
    let gpg = Gpg::new();
    let uid = "Old Publisher <old@example.com>";
    // Made in 2020 to expire a day later; the signature is made while it was valid.
    gpg.run(&[
        "--faked-system-time",
        "20200101T000000",
        "--quick-gen-key",
        uid,
        "ed25519",
        "sign",
        "1d",
    ]);
    gpg.run(&[
        "--faked-system-time",
        "20200101T120000",
        "--local-user",
        uid,
        "--detach-sign",
        s(&pkg),
    ]);
    let key = gpg.export(uid, true, &tmp.path().join("old.asc"));
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(e.contains("expired on 2020-01-02"), "{e}");
}

#[test]
fn a_key_revoked_by_its_owner_is_refused() {
    let (tmp, pkg, gpg, fp, key) = setup(110);
    gpg.sign(PUBLISHER, &pkg, false);
    // The revocation certificate gpg stored at key generation, with its guard colon removed.
    let rev = std::fs::read_to_string(gpg.home.path().join(format!("openpgp-revocs.d/{fp}.rev")))
        .unwrap()
        .replace(":-----BEGIN", "-----BEGIN");
    let r = tmp.path().join("rev.asc");
    std::fs::write(&r, rev).unwrap();
    gpg.run(&["--import", s(&r)]);
    let key = gpg.export(PUBLISHER, true, &key);
    let e = violet_err(&["verify", s(&pkg), "--key", s(&key)]);
    assert!(
        e.contains(&format!("key {fp}")) && e.contains("revoked"),
        "{e}"
    );
}

#[tokio::test]
async fn push_with_key_refuses_a_badly_signed_package_before_pushing_and_pushes_a_good_one() {
    let (tmp, pkg, gpg, fp, key) = setup(111);
    gpg.key("Someone Else <x@example.com>", "ed25519");
    let sig = gpg.sign("x@example.com", &pkg, false);
    let reg = registry(tmp.path(), None).await;
    let host = reg.host();
    let args = [
        "push",
        s(&pkg),
        "--dest-repo",
        &host,
        "--no-auth",
        "--plain",
        "--skip-crs",
        "--key",
        s(&key),
    ];
    let e = violet_err(&args);
    assert!(
        e.contains("nothing was pushed") && e.contains("not by the key in"),
        "{e}"
    );
    assert!(repositories(&reg).is_empty(), "{:?}", repositories(&reg));
    std::fs::remove_file(&sig).unwrap();
    gpg.sign(PUBLISHER, &pkg, false);
    let out = violet_ok(&args);
    assert!(out.contains("good signature") && out.contains(&fp), "{out}");
    assert_eq!(repositories(&reg).len(), 4, "{out}");
}
