//! Shared harness of the simulator's integration tests: the control plane started as a library on
//! a free loopback port, the simulator running against it through `ControlPlane::client`, the real
//! kubectl (fresh discovery cache per test), a real Debian `docker-registry`, and `skopeo` pushing
//! images built here as OCI layouts. Every wait polls; missing tools fail loudly.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oci::localregistry::{self, LocalRegistry};
use oci::manifest::media;
use oci::{Digest, Layout};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// How long convergence may take on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(90);

pub struct Env {
    pub cp: Option<apiserver::ControlPlane>,
    pub dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    pub registry: Option<LocalRegistry>,
    pub stop: CancellationToken,
    pub sim: Option<tokio::task::JoinHandle<Result<(), simulator::Error>>>,
    /// The embedded cluster's own controllers (garbage collection, namespaces), which deleting a
    /// workload relies on, as `marketplace serve` runs them.
    host: Option<controllers::RunningHost>,
    cx: simulator::ClusterContext,
}

/// Fails the test loudly when a tool it needs is missing.
pub fn require(tool: &str) -> PathBuf {
    localregistry::which(tool)
        .unwrap_or_else(|| panic!("{tool} is not installed: run scripts/setup (it installs kubectl, docker-registry and skopeo)"))
}

impl Env {
    /// A control plane (cluster `global` plus `extra` clusters), a registry when `with_registry`,
    /// and the simulator on `cluster` with `nodes` Nodes.
    pub async fn start(
        with_registry: bool,
        cluster: &str,
        labels: &[(&str, &str)],
        nodes: u32,
    ) -> Env {
        require("kubectl");
        let dir = tempfile::tempdir().unwrap();
        let registry = if with_registry {
            require(localregistry::BINARY);
            let cfg = localregistry::Config {
                dir: dir.path().join("registry"),
                ..Default::default()
            };
            Some(
                LocalRegistry::start(cfg, Duration::from_secs(30))
                    .await
                    .expect("docker-registry starts"),
            )
        } else {
            None
        };
        let mut cfg = apiserver::Config::new(dir.path().join("data"));
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        if cluster != apiserver::GLOBAL {
            let spec = format!(
                "{cluster}={}",
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            cfg.clusters
                .push(apiserver::ClusterSpec::parse(spec.trim_end_matches('=')).unwrap());
        }
        let cp = apiserver::ControlPlane::start(cfg)
            .await
            .expect("control plane starts");
        let stop = CancellationToken::new();
        let cx = simulator::ClusterContext {
            name: cluster.to_string(),
            client: cp.client(cluster).expect("cluster exists"),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            global: cluster == apiserver::GLOBAL,
            registry: registry.as_ref().map(|r| r.host()),
            shutdown: stop.clone(),
            settings: simulator::Settings {
                enabled: true,
                nodes,
            },
        };
        let sim = tokio::spawn(simulator::run(cx.clone()));
        let host = controllers::Host::new(controllers::embedded_sets()).start(vec![
            controllers::ClusterTarget {
                name: cx.name.clone(),
                client: cx.client.clone(),
                labels: cx.labels.clone(),
                global: cx.global,
                registry: cx.registry.clone(),
            },
        ]);
        Env {
            host: Some(host),
            cp: Some(cp),
            dir,
            cache: tempfile::tempdir().unwrap(),
            registry,
            stop,
            sim: Some(sim),
            cx,
        }
    }

    /// Stops the simulator (it must stop cleanly) and starts a fresh one, with no memory of the
    /// first, on the same cluster.
    pub async fn restart_simulator(&mut self) {
        self.stop.cancel();
        let s = self.sim.take().unwrap();
        let r = tokio::time::timeout(Duration::from_secs(30), s).await;
        assert!(
            matches!(r, Ok(Ok(Ok(())))),
            "the simulator stops cleanly on shutdown: {r:?}"
        );
        self.stop = CancellationToken::new();
        self.cx.shutdown = self.stop.clone();
        self.sim = Some(tokio::spawn(simulator::run(self.cx.clone())));
    }

    pub fn reg(&self) -> String {
        self.registry
            .as_ref()
            .expect("started with a registry")
            .host()
    }

    pub fn kubeconfig(&self, cluster: &str) -> PathBuf {
        self.cp.as_ref().unwrap().kubeconfig_path(cluster)
    }

    pub fn client(&self, cluster: &str) -> kube::Client {
        self.cp.as_ref().unwrap().client(cluster).unwrap()
    }

    /// Runs kubectl against `cluster`; (success, stdout, stderr).
    pub fn kubectl_in(&self, cluster: &str, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.kubeconfig(cluster))
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(args)
            .output()
            .expect("run kubectl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// kubectl against `cluster` that must succeed; its stdout.
    pub fn kubectl_on(&self, cluster: &str, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl_in(cluster, args);
        assert!(ok, "kubectl {args:?} failed:\nstdout: {out}\nstderr: {err}");
        out
    }

    /// kubectl against `global` that must succeed.
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.kubectl_on(apiserver::GLOBAL, args)
    }

    /// Polls `check` (every 100 ms) until it returns Some, failing after [`DEADLINE`] with `what` and
    /// the last value seen.
    pub async fn eventually<T>(
        &self,
        what: &str,
        mut check: impl FnMut() -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        loop {
            match check() {
                Ok(v) => return v,
                Err(last) if start.elapsed() > DEADLINE => {
                    panic!("timed out waiting for {what}; last seen: {last}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(s) = self.sim.take() {
            let r = tokio::time::timeout(Duration::from_secs(30), s).await;
            assert!(
                matches!(r, Ok(Ok(Ok(())))),
                "the simulator stops cleanly on shutdown: {r:?}"
            );
        }
        if let Some(h) = self.host.take() {
            h.stop().await;
        }
        if let Some(cp) = self.cp.take() {
            cp.shutdown().await;
        }
        if let Some(r) = self.registry.take() {
            r.stop().await;
        }
    }
}

fn put_blob(l: &Layout, data: &[u8]) -> (Digest, usize) {
    let d = Digest::of(data);
    let p = l.blob_path(&d);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
    (d, data.len())
}

/// A one-layer OCI image (the layer an uncompressed tar holding `/hello` with `content`) tagged `tag`
/// in a new layout at `dir`.
pub fn make_image(dir: &Path, tag: &str, content: &str) {
    let l = Layout::create(dir).unwrap();
    let layer = tar_with(content.as_bytes());
    let (ld, ls) = put_blob(&l, &layer);
    let config = json!({"architecture": simulator::nodes::go_arch(), "os": "linux",
        "config": {"Cmd": ["/hello"]}, "rootfs": {"type": "layers", "diff_ids": [ld.to_string()]}});
    let (cd, cs) = put_blob(&l, &serde_json::to_vec(&config).unwrap());
    let manifest = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld.to_string(), "size": ls}]});
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let (md, ms) = put_blob(&l, &bytes);
    let blob = oci::BlobRef {
        digest: md,
        size: ms as u64,
        media_type: media::OCI_MANIFEST.into(),
    };
    l.set_ref(Some(tag), &blob).unwrap();
}

/// A ustar archive holding one file `hello`.
fn tar_with(content: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..5].copy_from_slice(b"hello");
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

/// Pushes a fresh image to `docker://REG/repo:tag` with skopeo.
pub fn push(reg: &str, repo_tag: &str, scratch: &Path) {
    require("skopeo");
    let layout = scratch.join(repo_tag.replace([':', '/'], "_"));
    make_image(&layout, "t", repo_tag);
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:t", layout.display()))
        .arg(format!("docker://{reg}/{repo_tag}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
