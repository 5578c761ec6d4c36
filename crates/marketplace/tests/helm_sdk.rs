//! The real Helm engine (helm-python-sdk: Helm v4's Go SDK, installed by `scripts/setup`) installs
//! real charts of the public corpus into `marketplace serve` through a kubeconfig, then upgrades,
//! lists and uninstalls them (`tests/helm_sdk/install_cycle.py` drives it).

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn charts() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let dir = base.join("fixtures/helm/charts");
    assert!(
        dir.is_dir(),
        "the shared Helm chart corpus is missing at {}; set MARKETPLACE_SHARED to the shared/ folder",
        dir.display()
    );
    dir
}

/// Runs the install/upgrade/list/uninstall cycle and returns its steps by name.
fn cycle(
    s: &common::Server,
    chart: &str,
    release: &str,
    ns: &str,
    values: &str,
) -> Vec<(String, Value)> {
    let out = Command::new("python3")
        .arg("tests/helm_sdk/install_cycle.py")
        .arg(s.kubeconfig("global"))
        .arg(charts().join(chart))
        .args([release, ns, values])
        .env("HOME", s.data_dir())
        .output()
        .expect("run python3 (scripts/setup installs helm-python-sdk)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "helm-python-sdk failed on {chart}:\nstdout: {stdout}\nstderr: {}\nserver log tail: {}",
        common::tail(&String::from_utf8_lossy(&out.stderr), 4000),
        common::tail(&s.log(), 2000)
    );
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            (v["step"].as_str().unwrap_or_default().to_string(), v)
        })
        .collect()
}

/// Checks the cycle's steps; `created` are objects kubectl must have seen after the install.
fn check_cycle(steps: &[(String, Value)], release: &str, ns: &str, created: &[&str]) {
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["install", "upgrade", "list", "history", "uninstall"]
    );
    assert_eq!(steps[0].1["status"], "deployed", "{:?}", steps[0].1);
    for obj in created {
        assert!(
            steps[0].1["created"]
                .as_array()
                .unwrap()
                .contains(&Value::from(*obj)),
            "{obj} not created: {:?}",
            steps[0].1
        );
    }
    assert_eq!(steps[1].1["revision"], 2, "{:?}", steps[1].1);
    assert_eq!(steps[1].1["status"], "deployed");
    assert!(
        steps[2].1["releases"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!([release, ns, 2, "deployed"])),
        "{:?}",
        steps[2].1
    );
    assert_eq!(steps[3].1["revisions"], serde_json::json!([1, 2]));
    assert!(
        !steps[4].1["remaining"]
            .as_array()
            .unwrap()
            .contains(&Value::from(release)),
        "{:?}",
        steps[4].1
    );
}

#[test]
fn helm_installs_upgrades_lists_and_uninstalls_bitnami_nginx() {
    let s = common::Server::start(&[]);
    let steps = cycle(&s, "bitnami/nginx", "web", "web", "{}");
    check_cycle(
        &steps,
        "web",
        "web",
        &["deployment.apps/web-nginx", "service/web-nginx"],
    );
    // uninstall removed what install created, and Helm's release Secrets with it
    let left = s.ok(&["get", "deploy,svc,secrets", "-n", "web", "-o", "name"]);
    assert!(left.trim().is_empty(), "left behind: {left}");
}

/// kube-prometheus-stack's CRDs (its `crds` subchart), ~100 objects with webhooks, RBAC and
/// ServiceMonitors. Its admission-webhook certificate Jobs are Helm hooks that Helm waits on
/// until they complete; with no kubelet to run them (the kubelet stand-in is the platform
/// issue's), they are turned off here with the chart's own switch.
#[test]
fn helm_installs_upgrades_lists_and_uninstalls_kube_prometheus_stack() {
    let s = common::Server::start(&[]);
    let values = r#"{"prometheusOperator":{"admissionWebhooks":{"patch":{"enabled":false}}}}"#;
    let steps = cycle(
        &s,
        "prometheus-community/kube-prometheus-stack",
        "kps",
        "monitoring",
        values,
    );
    check_cycle(
        &steps,
        "kps",
        "monitoring",
        &[
            "deployment.apps/kps-kube-prometheus-stack-operator",
            "deployment.apps/kps-grafana",
            "daemonset.apps/kps-prometheus-node-exporter",
        ],
    );
    let crds = s.ok(&["get", "crd", "-o", "name"]);
    assert!(
        crds.contains("prometheuses.monitoring.coreos.com"),
        "{crds}"
    );
    let left = s.ok(&[
        "get",
        "deploy,svc,servicemonitors",
        "-n",
        "monitoring",
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "left behind: {left}");
}

/// A chart directory we push to a registry (`marketplace chart push DIR oci://...`) is pulled by
/// real Helm from there (`helm install oci://... --version`), so our artifact is Helm's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_helm_pulls_and_installs_a_chart_we_pushed_to_a_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("reg")).await;
    let host = reg.host().to_string();
    let push = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(["chart", "push"])
        .arg(charts().join("bitnami/nginx"))
        .args([&format!("oci://{host}/charts"), "--plain-http"])
        .output()
        .unwrap();
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    let s = common::Server::start(&[]);
    let script = format!(
        r#"
from helm_python import Config
with Config(kubeconfig_path={kc:?}, namespace="default") as cfg:
    r = cfg.install("oci://{host}/charts/nginx", "fromoci", chart_version="22.1.1", plain_http=True)
    print(r["status"], r["chart_name"], r["chart_version"])
"#,
        kc = s.kubeconfig("global").display().to_string(),
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .env("HOME", s.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deployed nginx 22.1.1"
    );
    assert!(
        s.ok(&["get", "deployment", "fromoci-nginx", "-o", "name"])
            .contains("fromoci-nginx")
    );
}
