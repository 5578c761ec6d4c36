//! Shared helpers of the oci integration tests: a real `docker-registry` per test, `skopeo` as the
//! peer, and generated images (random layer content, OCI layouts, multi-arch indexes).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use oci::localregistry::{self, LocalRegistry};
use oci::manifest::media;
use oci::{BlobRef, Digest, Layout, RawManifest};
use rand::RngCore;
use serde_json::json;

/// Fails the test loudly when a tool the acceptance tests need is missing.
pub fn require(tool: &str) -> PathBuf {
    localregistry::which(tool).unwrap_or_else(|| panic!("{tool} is not installed: run scripts/setup (it installs docker-registry, skopeo and apache2-utils)"))
}

pub async fn registry(dir: &Path) -> LocalRegistry {
    require(localregistry::BINARY);
    let cfg = localregistry::Config {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .expect("docker-registry starts")
}

/// Runs skopeo with `args` (insecure policy: the test images are unsigned), panicking with its
/// stderr on failure; returns stdout.
pub fn skopeo(args: &[&str]) -> String {
    require("skopeo");
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The manifest digest skopeo sees at `location` (sha256 of `skopeo inspect --raw`).
pub fn skopeo_digest(location: &str) -> Digest {
    require("skopeo");
    let out = Command::new("skopeo")
        .args([
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
            location,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {location}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Digest::of(&out.stdout)
}

pub fn random_bytes(n: usize, seed_rng: &mut impl RngCore) -> Vec<u8> {
    let mut v = vec![0u8; n];
    seed_rng.fill_bytes(&mut v);
    v
}

/// A gzip-compressed tar holding `files`; returns (compressed bytes, diff id).
pub fn layer(files: &[(&str, &[u8])]) -> (Vec<u8>, Digest) {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let diff_id = Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

fn put_blob(l: &Layout, data: &[u8], media_type: &str) -> BlobRef {
    let b = BlobRef {
        digest: Digest::of(data),
        size: data.len() as u64,
        media_type: media_type.into(),
    };
    let p = l.blob_path(&b.digest);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
    b
}

fn desc(b: &BlobRef) -> serde_json::Value {
    json!({"mediaType": b.media_type, "digest": b.digest.to_string(), "size": b.size})
}

/// Writes an OCI image (config + gzip layers) into `l` and returns its manifest descriptor.
pub fn write_image(l: &Layout, arch: &str, layers: &[(Vec<u8>, Digest)]) -> BlobRef {
    let config = json!({
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|(_, d)| d.to_string()).collect::<Vec<_>>()},
    });
    let config = put_blob(l, &serde_json::to_vec(&config).unwrap(), media::OCI_CONFIG);
    let layer_descs: Vec<BlobRef> = layers
        .iter()
        .map(|(data, _)| put_blob(l, data, media::OCI_LAYER_GZIP))
        .collect();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": desc(&config),
        "layers": layer_descs.iter().map(desc).collect::<Vec<_>>(),
    });
    put_blob(
        l,
        &serde_json::to_vec(&manifest).unwrap(),
        media::OCI_MANIFEST,
    )
}

/// A single-platform image tagged `tag` in a new layout at `dir`, with `n` random layers of `size`.
pub fn make_image(dir: &Path, tag: &str, n: usize, size: usize, rng: &mut impl RngCore) -> Digest {
    let l = Layout::create(dir).unwrap();
    let layers: Vec<_> = (0..n)
        .map(|i| layer(&[(&format!("data/file{i}"), &random_bytes(size, rng))]))
        .collect();
    let m = write_image(&l, "amd64", &layers);
    l.set_ref(Some(tag), &m).unwrap();
    m.digest
}

/// A two-platform index (amd64, arm64) tagged `tag`, sharing a base layer.
pub fn make_index(dir: &Path, tag: &str, rng: &mut impl RngCore) -> Digest {
    let l = Layout::create(dir).unwrap();
    let base = layer(&[("etc/os-release", b"ID=test\n")]);
    let mut entries = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let own = layer(&[(&format!("bin/{arch}"), &random_bytes(4096, rng))]);
        let m = write_image(&l, arch, &[base.clone(), own]);
        let mut d = desc(&m);
        d["platform"] = json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            d["platform"]["variant"] = json!(v);
        }
        entries.push(d);
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": entries});
    let i = put_blob(&l, &serde_json::to_vec(&index).unwrap(), media::OCI_INDEX);
    l.set_ref(Some(tag), &i).unwrap();
    i.digest
}

/// Every blob file name in a layout (the set of digests it holds).
pub fn layout_digests(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

pub fn read_top(dir: &Path, tag: &str) -> RawManifest {
    let l = Layout::open(dir).unwrap();
    l.read_manifest(&l.resolve(Some(tag)).unwrap()).unwrap()
}

/// Plain-HTTP options for a loopback registry (as skopeo's --tls-verify=false).
pub fn insecure() -> oci::Options {
    oci::Options {
        tls_verify: false,
        ..Default::default()
    }
}

/// Counts requests in the registry's log by method and a path fragment.
pub fn count_requests(log: &Path, method: &str, path_part: &str) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.contains("response completed")
                && l.contains(&format!("http.request.method={method}"))
                && l.contains(path_part)
        })
        .count()
}
