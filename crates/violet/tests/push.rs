//! `violet push` against a real Debian `docker-registry`: every image lands under its path with
//! its digest, a re-push sends nothing, credentials are required and checked (htpasswd), a
//! directory with one bad package pushes nothing at all, and a registry killed mid-push is
//! recovered from by re-running without re-uploading finished blobs.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn expected_images(pkg: &Path) -> Vec<(String, String)> {
    let u = package::unpack(pkg, None, &package::Limits::default()).unwrap();
    u.metadata
        .images()
        .map(|i| {
            let (repo, tag) = package::metadata::destination_path(&i.reference).unwrap();
            (format!("{repo}:{}", tag.unwrap()), i.digest.clone())
        })
        .collect()
}

async fn digest_at(host: &str, repo_tag: &str, creds: Option<(&str, &str)>) -> String {
    let opts = oci::Options {
        plain_http: true,
        credentials: creds.map(|(u, p)| oci::auth::Credentials {
            username: u.into(),
            password: p.into(),
        }),
        ..Default::default()
    };
    let reg = oci::Registry::connect(host, opts).await.unwrap();
    let (repo, tag) = repo_tag.rsplit_once(':').unwrap();
    reg.get_manifest(repo, tag)
        .await
        .unwrap()
        .digest
        .to_string()
}

/// The "N blobs sent" and "M already in the registry" figures of a push summary.
fn summary_counts(out: &str) -> (u64, u64) {
    let line = out
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let num = |after: &str| -> u64 {
        let i = line
            .find(after)
            .unwrap_or_else(|| panic!("{after:?} not in {line}"));
        line[..i]
            .trim_end()
            .rsplit([' ', ',', '('])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num(" blobs sent"), num(" already in the registry"))
}

#[tokio::test]
async fn skip_crs_pushes_every_image_with_its_digest_and_a_repush_sends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 11);
    let reg = registry(tmp.path(), None).await;
    let host = reg.host();
    let args = [
        "push",
        pkg.to_str().unwrap(),
        "--dest-repo",
        &host,
        "--no-auth",
        "--plain",
        "--skip-crs",
    ];
    let out = violet_ok(&args);
    assert!(
        out.contains("--skip-crs: no Artifact/ArtifactVersion created"),
        "{out}"
    );
    let (sent, _) = summary_counts(&out);
    assert!(sent >= 4, "{out}");
    assert_eq!(
        repositories(&reg),
        vec![
            "3rdparty/k8scsi/csi-provisioner",
            "acp/topolvm",
            "acp/topolvm-operator",
            "acp/topolvm-operator-bundle"
        ]
    );
    for (repo_tag, digest) in expected_images(&pkg) {
        assert_eq!(
            digest_at(&host, &repo_tag, None).await,
            digest,
            "{repo_tag}"
        );
    }
    let again = violet_ok(&args);
    let (sent, _) = summary_counts(&again);
    assert_eq!(sent, 0, "a re-push sends no blob: {again}");
    assert!(
        again.contains("every image is already in the registry at its digest; nothing to send"),
        "{again}"
    );
    assert!(
        !again.contains("verified"),
        "a complete package is not unpacked again: {again}"
    );
}

#[tokio::test]
async fn dest_repo_needs_credentials_and_an_htpasswd_registry_checks_them() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = topolvm_package(tmp.path(), 12);
    let p = pkg.to_str().unwrap();
    let reg = registry(tmp.path(), Some(("alice", "s3cret"))).await;
    let host = reg.host();
    let e = violet_err(&["push", p, "--dest-repo", &host, "--plain", "--skip-crs"]);
    assert!(e.contains("--username and --password, or --no-auth"), "{e}");
    let e = violet_err(&[
        "push",
        p,
        "--dest-repo",
        &host,
        "--plain",
        "--skip-crs",
        "--username",
        "alice",
        "--password",
        "Xy9-not-it",
    ]);
    assert!(
        e.contains("check --username/--password") && e.contains("Nothing was pushed"),
        "{e}"
    );
    assert!(
        !e.contains("Xy9-not-it"),
        "the password is never printed: {e}"
    );
    assert!(repositories(&reg).is_empty());
    violet_ok(&[
        "push",
        p,
        "--dest-repo",
        &host,
        "--plain",
        "--skip-crs",
        "--username",
        "alice",
        "--password",
        "s3cret",
    ]);
    for (repo_tag, digest) in expected_images(&pkg) {
        assert_eq!(
            digest_at(&host, &repo_tag, Some(("alice", "s3cret"))).await,
            digest
        );
    }
}

#[tokio::test]
async fn a_directory_with_one_tampered_package_pushes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("packages");
    std::fs::create_dir_all(&dir).unwrap();
    let good = topolvm_package(&tmp.path().join("a"), 13);
    std::fs::copy(&good, dir.join("a-good.tgz")).unwrap();
    let mut entries = entries_of(&good);
    let i = entries
        .iter()
        .rposition(|e| String::from_utf8_lossy(&e.path).contains("/blobs/sha256/"))
        .unwrap();
    entries[i].data[0] ^= 0xff;
    write_archive(&dir.join("b-tampered.tgz"), &entries);
    let reg = registry(tmp.path(), None).await;
    let e = violet_err(&[
        "push",
        dir.to_str().unwrap(),
        "--dest-repo",
        &reg.host(),
        "--no-auth",
        "--plain",
        "--skip-crs",
    ]);
    assert!(
        e.contains("b-tampered.tgz failed verification; nothing was pushed"),
        "{e}"
    );
    assert!(
        repositories(&reg).is_empty(),
        "nothing reached the registry"
    );
}

/// Blobs the registry has committed to a repository (their `_layers` link exists: a HEAD in
/// that repository finds them).
fn stored_blobs(root: &Path) -> usize {
    fn walk(d: &Path) -> usize {
        let Ok(rd) = std::fs::read_dir(d) else {
            return 0;
        };
        rd.flatten()
            .map(|e| {
                let p = e.path();
                if p.file_name().is_some_and(|n| n == "_layers") {
                    std::fs::read_dir(p.join("sha256"))
                        .into_iter()
                        .flatten()
                        .flatten()
                        .filter(|b| b.path().join("link").exists())
                        .count()
                } else if p.is_dir() {
                    walk(&p)
                } else {
                    0
                }
            })
            .sum()
    }
    walk(&root.join("data/docker/registry/v2/repositories"))
}

#[tokio::test]
async fn a_registry_killed_mid_push_is_resumed_without_resending_finished_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    // Six images of ~8 MB each, pushed one blob at a time so the kill lands mid-push.
    let bundle = bundle_dir(tmp.path());
    std::fs::write(
        bundle.join("manifests/topolvm-operator.clusterserviceversion.yaml"),
        "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: topolvm-operator.v2.3.0\nspec:\n  displayName: NativeStor\n  version: 2.3.0\n",
    )
    .unwrap();
    let pkg = tmp.path().join("big.tgz");
    let mut args: Vec<String> = [
        "pack",
        "bundle",
        bundle.to_str().unwrap(),
        "-o",
        pkg.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    for i in 0..6u64 {
        let l = tmp.path().join(format!("img{i}"));
        image_layout(
            &l,
            "v1",
            &[(4 << 20, 100 + 2 * i), (4 << 20, 101 + 2 * i)],
            "amd64",
        );
        args.push("--image".into());
        args.push(format!("harbor.demo.io/acp/big{i}:v1={}:v1", l.display()));
    }
    violet_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let reg = registry(tmp.path(), None).await;
    let host = reg.host();
    let root = reg.config().dir.clone();
    let push_args = [
        "push",
        pkg.to_str().unwrap(),
        "--dest-repo",
        &host,
        "--no-auth",
        "--plain",
        "--skip-crs",
        "--parallel",
        "1",
        "--parallel-images",
        "1",
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_violet"))
        .args(push_args)
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while stored_blobs(&root) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no blob stored in time"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "push finished before the kill; make the images larger"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reg_pid = reg.pid().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &reg_pid.to_string()])
        .status()
        .unwrap();
    let finished = stored_blobs(&root);
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the push fails while the registry is down"
    );
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("run the same command again to resume"), "{e}");
    let reg = reg
        .restart(Duration::from_secs(30))
        .await
        .expect("registry restarts");
    assert_eq!(reg.host(), host);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_violet"))
        .args(push_args)
        .env("XDG_CACHE_HOME", tmp.path().join("cache"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (sent, existing) = summary_counts(&text);
    // 20 blobs in all: the bundle's 2 and 3 per image.
    assert!(
        existing as usize >= finished,
        "the {finished} finished blobs are not sent again: {text}"
    );
    assert!(sent as usize <= 20 - finished, "{text}");
    assert!(finished < 20, "the kill landed mid-push");
    for (repo_tag, digest) in expected_images(&pkg) {
        assert_eq!(digest_at(&host, &repo_tag, None).await, digest);
    }
}
