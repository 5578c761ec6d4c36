//! Helpers the plugin tests and the plugin benchmark share (the upload and console ones too): a
//! one-layer image layout, pushed to a registry with `marketplace image copy`, and a chart pushed
//! with `marketplace chart push`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::json;

/// A one-layer OCI image layout at `dir`, tagged `t`: one executable `/<file>` (the image's
/// command) saying `content`, so digests differ per content.
pub fn one_file_image(dir: &Path, file: &str, content: &str) {
    let l = oci::Layout::create(dir).unwrap();
    let put = |data: &[u8]| {
        let d = oci::Digest::of(data);
        let p = l.blob_path(&d);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
        (d, data.len())
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(content.len() as u64);
    h.set_mode(0o755);
    h.set_cksum();
    tar.append_data(&mut h, file, content.as_bytes()).unwrap();
    let layer = tar.into_inner().unwrap();
    let (ld, ls) = put(&layer);
    let config = json!({"architecture": "amd64", "os": "linux", "config": {"Cmd": [format!("/{file}")]},
        "rootfs": {"type": "layers", "diff_ids": [ld.to_string()]}});
    let (cd, cs) = put(&serde_json::to_vec(&config).unwrap());
    let manifest = json!({"schemaVersion": 2, "mediaType": oci::media::OCI_MANIFEST,
        "config": {"mediaType": oci::media::OCI_CONFIG, "digest": cd.to_string(), "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld.to_string(), "size": ls}]});
    let (md, ms) = put(&serde_json::to_vec(&manifest).unwrap());
    let blob = oci::BlobRef {
        digest: md,
        size: ms as u64,
        media_type: oci::media::OCI_MANIFEST.into(),
    };
    l.set_ref(Some("t"), &blob).unwrap();
}

/// Pushes a fresh one-file image as `REG/<repo_tag>` (layout written at `layout`).
pub fn push_image(registry: &str, repo_tag: &str, layout: &Path) {
    one_file_image(layout, "hello", repo_tag);
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(["image", "copy", "--quiet"])
        .arg(format!("oci:{}:t", layout.display()))
        .arg(format!("docker://{registry}/{repo_tag}"))
        .arg("--dest-tls-verify=false")
        .output()
        .expect("run marketplace image copy");
    assert!(
        out.status.success(),
        "marketplace image copy {repo_tag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the `marketplace` binary of this build; panics with its stderr unless it succeeds.
pub fn marketplace(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(args)
        .output()
        .expect("run marketplace");
    assert!(
        out.status.success(),
        "marketplace {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `marketplace chart push <chart_dir> oci://<registry>/charts --plain-http`; returns the pushed
/// chart's reference (`<registry>/charts/<name>:<version>`).
pub fn push_chart(registry: &str, chart_dir: &str) -> String {
    let out = marketplace(&[
        "chart",
        "push",
        chart_dir,
        &format!("oci://{registry}/charts"),
        "--plain-http",
    ]);
    let pushed = out
        .lines()
        .find_map(|l| l.strip_prefix("Pushed: "))
        .unwrap_or_else(|| panic!("no Pushed: line in {out}"));
    pushed.trim().to_string()
}
