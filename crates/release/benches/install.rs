//! Install and upgrade of kube-prometheus-stack (the fixture chart: ~100 objects, CRDs from its
//! `crds` subchart) into a fresh embedded cluster, ours (`release::Installer`) beside the real
//! Helm engine (helm-python-sdk, Helm v4, `benches/kps_helm.py`), each against its own fresh
//! `apiserver::ControlPlane` over HTTPS through the kubeconfig the control plane wrote. Prints
//! both timings and the ratio. Chart loading is outside the clock on both sides.
//!
//!     cargo bench -p release --bench install
//!
//! `MARKETPLACE_SHARED` overrides where the shared fixtures are (default `../../../shared`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RELEASE: &str = "kps";
const NAMESPACE: &str = "monitoring";

fn chart_dir() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let dir = base.join("fixtures/helm/charts/prometheus-community/kube-prometheus-stack");
    assert!(
        dir.is_dir(),
        "the fixture chart is missing at {}; set MARKETPLACE_SHARED to the shared/ folder",
        dir.display()
    );
    dir
}

/// The admission-webhook certificate Jobs are hooks that need a real image; turned off with the
/// chart's own switch on both sides.
fn values() -> Value {
    json!({"prometheusOperator": {"admissionWebhooks": {"patch": {"enabled": false}}}})
}

fn upgrade_values() -> Value {
    let mut v = values();
    v["commonLabels"] = json!({"upgraded": "yes"});
    v
}

async fn control_plane(dir: &Path) -> apiserver::ControlPlane {
    let mut cfg = apiserver::Config::new(dir);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    apiserver::ControlPlane::start(cfg)
        .await
        .expect("control plane starts")
}

async fn client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("usable kubeconfig");
    kube::Client::try_from(cfg).expect("client")
}

fn ours(rt: &tokio::runtime::Runtime) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let chart = helm::chart::load(&chart_dir()).expect("chart loads");
    rt.block_on(async {
        let cp = control_plane(dir.path()).await;
        let inst = release::Installer::new(client(&cp.kubeconfig_path("global")).await);
        let mut o = release::InstallOptions::new(RELEASE, NAMESPACE, chart);
        o.values = values();
        o.create_namespace = true;
        let t0 = Instant::now();
        let r = inst.install(&o).await.expect("our install");
        let install = t0.elapsed();
        assert_eq!(r.info.status, release::Status::Deployed);
        o.values = upgrade_values();
        let t1 = Instant::now();
        let r = inst.upgrade(&o).await.expect("our upgrade");
        let upgrade = t1.elapsed();
        assert_eq!((r.info.status, r.version), (release::Status::Deployed, 2));
        (install, upgrade)
    })
}

fn theirs(rt: &tokio::runtime::Runtime) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let cp = rt.block_on(control_plane(dir.path()));
    // The control plane keeps serving on the runtime's workers while Helm runs.
    let out = Command::new("python3")
        .arg("benches/kps_helm.py")
        .arg(cp.kubeconfig_path("global"))
        .arg(chart_dir())
        .args([RELEASE, NAMESPACE])
        .arg(values().to_string())
        .arg(upgrade_values().to_string())
        .env("HOME", dir.path())
        .output()
        .expect("python3 with helm-python-sdk (scripts/setup installs it)");
    assert!(
        out.status.success(),
        "helm-python-sdk failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let secs = |k: &str| Duration::from_secs_f64(v[k].as_f64().expect("seconds"));
    drop(cp);
    (secs("install"), secs("upgrade"))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (oi, ou) = ours(&rt);
    let (hi, hu) = theirs(&rt);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("kube-prometheus-stack into a fresh embedded cluster (no --wait):");
    println!(
        "{:<10} {:>12} {:>12} {:>8}",
        "step", "ours (ms)", "helm (ms)", "helm/ours"
    );
    for (step, o, h) in [
        ("install", oi, hi),
        ("upgrade", ou, hu),
        ("total", oi + ou, hi + hu),
    ] {
        println!(
            "{step:<10} {:>12.1} {:>12.1} {:>7.2}x",
            ms(o),
            ms(h),
            h.as_secs_f64() / o.as_secs_f64()
        );
    }
}
