//! Shared helpers of violet's integration tests: image layouts made here (random layers, so
//! digests are unique per test), an operator bundle directory shaped like topolvm-operator 2.3.0,
//! packages built with the real `violet pack`, a real Debian `docker-registry` (optionally with
//! htpasswd), and hand-made hostile archives. Missing tools fail loudly.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use oci::localregistry::{self, LocalRegistry};
use oci::manifest::media;
use oci::{Digest, Layout, RawManifest};
use serde_json::json;

pub fn require(tool: &str) -> PathBuf {
    localregistry::which(tool).unwrap_or_else(|| {
        panic!(
            "{tool} is not installed: run scripts/setup (docker-registry, skopeo, apache2-utils)"
        )
    })
}

/// Runs the violet binary; returns its output (not asserting success).
pub fn violet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_violet"))
        .args(args)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("violet-test-cache"),
        )
        .output()
        .expect("run violet")
}

/// Runs violet and panics with its output unless it succeeds; returns stdout.
pub fn violet_ok(args: &[&str]) -> String {
    let out = violet(args);
    assert!(
        out.status.success(),
        "violet {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs violet expecting failure; returns stderr.
pub fn violet_err(args: &[&str]) -> String {
    let out = violet(args);
    assert!(
        !out.status.success(),
        "violet {args:?} should have failed:\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn seeded(n: usize, seed: u64) -> Vec<u8> {
    // xorshift: cheap pseudo-random bytes so layers do not compress and differ per seed.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// A gzip'd tar with one file of `n` pseudo-random bytes; returns (blob, diff id).
pub fn layer(n: usize, seed: u64) -> (Vec<u8>, Digest) {
    let data = seeded(n, seed);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, format!("data-{seed}"), &data[..])
        .unwrap();
    let raw = b.into_inner().unwrap();
    let diff = Digest::of(&raw);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    (gz.finish().unwrap(), diff)
}

/// Writes an image with the given layers (shared ones by passing the same seed) into a new OCI
/// layout at `dir`, tagged `tag`; returns the manifest digest.
pub fn image_layout(dir: &Path, tag: &str, layers: &[(usize, u64)], arch: &str) -> Digest {
    let l = Layout::create(dir).unwrap();
    let mut descs = vec![];
    let mut diffs = vec![];
    for &(n, seed) in layers {
        let (blob, diff) = layer(n, seed);
        std::fs::write(l.blob_path(&Digest::of(&blob)), &blob).unwrap();
        descs.push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": Digest::of(&blob).to_string(), "size": blob.len()}));
        diffs.push(diff.to_string());
    }
    let config = serde_json::to_vec(&json!({"architecture": arch, "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diffs}})).unwrap();
    std::fs::write(l.blob_path(&Digest::of(&config)), &config).unwrap();
    let m = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": Digest::of(&config).to_string(), "size": config.len()},
        "layers": descs});
    let raw = RawManifest::parse(serde_json::to_vec(&m).unwrap(), None).unwrap();
    let d = l.write_manifest(&raw).unwrap();
    l.set_ref(Some(tag), &d).unwrap();
    raw.digest
}

pub const OPERATOR_IMAGE: &str = "harbor.demo.io/acp/topolvm-operator:v3.11.0";
pub const TOPOLVM_IMAGE: &str = "harbor.demo.io/acp/topolvm:v3.11.0";
pub const PROVISIONER_IMAGE: &str = "harbor.demo.io/3rdparty/k8scsi/csi-provisioner:v3.00";
pub const BUNDLE_IMAGE: &str = "harbor.demo.io/acp/topolvm-operator-bundle:v3.11.0";

/// A registry+v1 bundle directory like topolvm-operator 2.3.0 (display name NativeStor).
pub fn bundle_dir(dir: &Path) -> PathBuf {
    let b = dir.join("bundle");
    std::fs::create_dir_all(b.join("manifests")).unwrap();
    std::fs::create_dir_all(b.join("metadata")).unwrap();
    std::fs::write(
        b.join("metadata/annotations.yaml"),
        "annotations:\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: topolvm-operator\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n",
    )
    .unwrap();
    std::fs::write(
        b.join("manifests/topolvm-operator.clusterserviceversion.yaml"),
        format!(
            "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: topolvm-operator.v2.3.0\nspec:\n  displayName: NativeStor\n  version: 2.3.0\n  provider:\n    name: Alauda\n  relatedImages:\n  - name: operator\n    image: {OPERATOR_IMAGE}\n  - name: topolvm\n    image: {TOPOLVM_IMAGE}\n  - name: provisioner\n    image: {PROVISIONER_IMAGE}\n  install:\n    strategy: deployment\n    spec:\n      deployments: []\n"
        ),
    )
    .unwrap();
    b
}

/// Builds `topolvm-operator.v2.3.0.tgz` in `dir` with `violet pack` (three small related images,
/// two sharing a base layer); `seed` makes its blobs unique.
pub fn topolvm_package(dir: &Path, seed: u64) -> PathBuf {
    let bundle = bundle_dir(dir);
    let mut args: Vec<String> = vec![
        "pack".into(),
        "bundle".into(),
        bundle.display().to_string(),
        "-o".into(),
        dir.join("topolvm-operator.v2.3.0.tgz")
            .display()
            .to_string(),
        "--artifact".into(),
        BUNDLE_IMAGE.into(),
        "--source-type".into(),
        "alauda".into(),
    ];
    for (i, r) in [OPERATOR_IMAGE, TOPOLVM_IMAGE, PROVISIONER_IMAGE]
        .iter()
        .enumerate()
    {
        let l = dir.join(format!("layout-{i}"));
        image_layout(
            &l,
            "v1",
            &[(40_000, seed), (20_000 + i, seed + 1 + i as u64)],
            "amd64",
        );
        args.push("--image".into());
        args.push(format!("{r}={}:v1", l.display()));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    violet_ok(&a);
    dir.join("topolvm-operator.v2.3.0.tgz")
}

pub async fn registry(dir: &Path, htpasswd: Option<(&str, &str)>) -> LocalRegistry {
    require(localregistry::BINARY);
    let pw = htpasswd.map(|(u, p)| {
        require("htpasswd");
        let f = dir.join("htpasswd");
        let out = Command::new("htpasswd")
            .args(["-Bbc", f.to_str().unwrap(), u, p])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        f
    });
    let cfg = localregistry::Config {
        dir: dir.join("registry"),
        htpasswd: pw,
        ..Default::default()
    };
    LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .expect("docker-registry starts")
}

/// Repositories in a registry's storage (empty when nothing was ever pushed).
pub fn repositories(reg: &LocalRegistry) -> Vec<String> {
    let root = reg
        .config()
        .dir
        .join("data/docker/registry/v2/repositories");
    let mut out = vec![];
    walk_repos(&root, &root, &mut out);
    out.sort();
    out
}

fn walk_repos(root: &Path, d: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(d) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.join("_manifests").exists() {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        } else if p.is_dir() {
            walk_repos(root, &p, out);
        }
    }
}

/// One entry of a hand-made archive.
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
    pub link: Option<String>,
}

impl Entry {
    pub fn file(path: &str, data: Vec<u8>) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            data,
            link: None,
        }
    }
}

/// Reads every entry of a (valid) package.
pub fn entries_of(pkg: &Path) -> Vec<Entry> {
    let f = std::fs::File::open(pkg).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut v = vec![];
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = vec![];
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        v.push(Entry {
            path: e.path_bytes().to_vec(),
            kind: e.header().entry_type(),
            data,
            link: None,
        });
    }
    v
}

/// Writes entries as a gzip'd tar, paths written raw into the header (so `..` and absolute
/// paths get through, as a hostile archive would have them).
pub fn write_archive(out: &Path, entries: &[Entry]) {
    let f = std::fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let text = String::from_utf8_lossy(&e.path).into_owned();
        let hostile = text.starts_with('/') || text.split('/').any(|c| c == "..");
        if !hostile && e.link.is_none() {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(e.kind);
            h.set_size(e.data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, &text, &e.data[..]).unwrap();
            continue;
        }
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..e.path.len()].copy_from_slice(&e.path);
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = &e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        b.append(&h, &e.data[..]).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}
