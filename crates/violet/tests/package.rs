//! `violet pack`, `show` and `verify` on packages built here, and the refusals of hostile
//! archives (tampered digest, `../`, absolute path, symlink out of the tree, decompression bomb).

mod common;

use common::*;

#[test]
fn show_prints_the_documented_fields_of_a_topolvm_like_package() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 1);
    let p = pkg.to_str().unwrap();
    assert_eq!(
        violet_ok(&["show", p]),
        "Name: NativeStor\nType: bundle\nArch: [linux/amd64]\nVersion: 2.3.0\n"
    );
    assert_eq!(
        violet_ok(&["show", p, "--all"]),
        format!(
            "Name: NativeStor\nType: bundle\nArch: [linux/amd64]\nVersion: 2.3.0\nArtifact: {BUNDLE_IMAGE}\nRelateImages: [{OPERATOR_IMAGE} {TOPOLVM_IMAGE} {PROVISIONER_IMAGE}]\n"
        )
    );
    let j: serde_json::Value =
        serde_json::from_str(&violet_ok(&["show", p, "--all", "--output", "json"])).unwrap();
    assert_eq!(j["Name"], "NativeStor");
    assert_eq!(j["Type"], "bundle");
    assert_eq!(j["Arch"], serde_json::json!(["linux/amd64"]));
    assert_eq!(j["RelateImages"].as_array().unwrap().len(), 3);
}

#[test]
fn show_of_a_file_that_is_not_a_package_says_what_it_is_not_and_nothing_of_pushing() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("notes.tgz");
    std::fs::write(&f, "plain text, not gzip\n").unwrap();
    let e = violet_err(&["show", f.to_str().unwrap()]);
    assert!(
        e.contains("notes.tgz failed verification") && e.contains("not a readable gzip'd tar"),
        "{e}"
    );
    assert!(!e.contains("pushed"), "show pushes nothing: {e}");
}

#[test]
fn pack_refuses_a_bundle_whose_related_images_are_not_given() {
    let tmp = tempfile::tempdir().unwrap();
    let b = bundle_dir(tmp.path());
    let out = tmp.path().join("x.tgz");
    let e = violet_err(&[
        "pack",
        "bundle",
        b.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains(TOPOLVM_IMAGE) && e.contains("--image"), "{e}");
    assert!(!out.exists());
}

#[test]
fn verify_checks_digests_and_the_sha256_file_beside_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 2);
    let p = pkg.to_str().unwrap();
    let out = violet_ok(&["verify", p]);
    assert!(out.contains("every digest verified"), "{out}");
    let sum = violet::verify::sha256_file(&pkg).unwrap();
    std::fs::write(
        format!("{p}.sha256"),
        format!("{sum}  topolvm-operator.v2.3.0.tgz\n"),
    )
    .unwrap();
    assert!(violet_ok(&["verify", p]).contains("matches"));
    std::fs::write(format!("{p}.sha256"), format!("{}  x\n", "0".repeat(64))).unwrap();
    let e = violet_err(&["verify", p]);
    assert!(e.contains("altered or damaged"), "{e}");
}

/// Rewrites a valid package with `f` applied to its entries and checks `violet verify` refuses it
/// with a message containing `expect`.
fn refused(seed: u64, f: impl FnOnce(&mut Vec<Entry>), expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), seed);
    let mut entries = entries_of(&pkg);
    f(&mut entries);
    let bad = tmp.path().join("bad.tgz");
    write_archive(&bad, &entries);
    let e = violet_err(&["verify", bad.to_str().unwrap()]);
    for x in expect {
        assert!(e.contains(x), "expected {x:?} in: {e}");
    }
}

fn first_blob(entries: &[Entry]) -> usize {
    entries
        .iter()
        .position(|e| {
            String::from_utf8_lossy(&e.path).contains("/blobs/sha256/") && !e.data.is_empty()
        })
        .unwrap()
}

#[test]
fn a_tampered_blob_is_refused_naming_the_entry() {
    refused(
        3,
        |v| {
            let i = first_blob(v);
            let last = v[i].data.len() - 1;
            v[i].data[last] ^= 1;
        },
        &["does not match its digest", "blobs/sha256/"],
    );
}

#[test]
fn parent_directory_paths_are_refused() {
    refused(
        4,
        |v| v.insert(1, Entry::file("images/../../evil", b"x".to_vec())),
        &["../../evil", "'..'"],
    );
}

#[test]
fn absolute_paths_are_refused() {
    refused(
        5,
        |v| v.insert(1, Entry::file("/tmp/evil", b"x".to_vec())),
        &["/tmp/evil", "absolute"],
    );
}

#[test]
fn symlinks_out_of_the_tree_are_refused() {
    refused(
        6,
        |v| {
            let i = first_blob(v);
            v[i].kind = tar::EntryType::Symlink;
            v[i].link = Some("/etc/passwd".into());
            v[i].data.clear();
            // Short enough for an old-style header: the link is what is under test.
            v[i].path = b"images/x".to_vec();
        },
        &["images/x", "symbolic link"],
    );
}

#[test]
fn a_decompression_bomb_is_refused_before_it_fills_the_disk() {
    refused(
        7,
        |v| {
            let i = first_blob(v);
            // 200 MB of zeros compress to ~200 KB: far beyond any ratio a package of images has.
            v[i].data = vec![0u8; 200 << 20];
        },
        &["decompression bomb"],
    );
}

#[test]
fn completion_scripts_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let s = violet_ok(&["completion", shell]);
        assert!(s.contains("violet") && s.contains("push"), "{shell}: {s}");
    }
    let help = violet_ok(&["push", "--help"]);
    for flag in [
        "--platform-address",
        "--platform-token",
        "--clusters",
        "--dest-repo",
        "--no-auth",
        "--plain",
        "--skip-crs",
        "--skip-push",
        "--platform-ca",
        "--insecure-skip-tls-verify",
    ] {
        assert!(help.contains(flag), "push --help lacks {flag}");
    }
}

#[test]
fn hard_links_out_of_the_tree_are_refused() {
    refused(
        8,
        |v| {
            let i = v
                .iter()
                .position(|e| {
                    let p = String::from_utf8_lossy(&e.path).into_owned();
                    p.contains("/blobs/sha256/") && p.len() < 100 && !e.data.is_empty()
                })
                .unwrap();
            v[i].kind = tar::EntryType::Link;
            v[i].link = Some("/etc/passwd".into());
            v[i].data.clear();
        },
        &["hard link", "/etc/passwd"],
    );
}

#[test]
fn blobs_shared_by_images_are_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 9);
    // The three related images share their 40 kB base layer: one copy plus two links.
    let entries = entries_of(&pkg);
    let links = entries
        .iter()
        .filter(|e| e.kind == tar::EntryType::Link)
        .count();
    assert_eq!(
        links, 2,
        "two later copies of the shared base layer are links"
    );
    assert!(violet_ok(&["verify", pkg.to_str().unwrap()]).contains("every digest verified"));
}
