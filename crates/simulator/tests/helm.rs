//! The real Helm engine (helm-python-sdk: Helm v4's Go SDK, installed by `scripts/setup`) installs a
//! chart with `wait` into the embedded control plane; the install returns once the simulator has made
//! its Deployment and StatefulSet ready, and times out when nothing runs them.

mod common;

use std::process::Command;

use common::Env;
use serde_json::Value;

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
          ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: db:1
"#;

fn chart(dir: &std::path::Path) -> std::path::PathBuf {
    let c = dir.join("chart");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: waited\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(c.join("templates/all.yaml"), DEPLOY).unwrap();
    c
}

fn install(env: &Env, cluster: &str, release: &str, wait: &str, timeout: u32) -> Value {
    common::require("python3");
    let out = Command::new("python3")
        .arg("tests/helm_wait.py")
        .arg(env.kubeconfig(cluster))
        .arg(chart(env.dir.path()))
        .args([release, "apps", wait, &timeout.to_string()])
        .env("HOME", env.dir.path())
        .output()
        .expect("run python3 (scripts/setup installs helm-python-sdk)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !stdout.trim().is_empty(),
        "helm-python-sdk failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_with_wait_returns_once_the_workloads_are_ready() {
    let env = Env::start(false, "work", &[], 1).await;
    let r = install(&env, "work", "site", "watcher", 120);
    assert_eq!(r["status"], "deployed", "{r}");
    // No polling here: the install itself waited.
    let d: Value = serde_json::from_str(&env.kubectl_on(
        "work",
        &["get", "deploy", "site-web", "-n", "apps", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(d["status"]["availableReplicas"], 2, "{d}");
    let s: Value = serde_json::from_str(&env.kubectl_on(
        "work",
        &["get", "sts", "site-db", "-n", "apps", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(s["status"]["readyReplicas"], 2, "{s}");

    // The global cluster runs no simulator in this test: the same install with wait times out.
    let r = install(&env, "global", "site", "watcher", 5);
    assert!(
        r["error"].as_str().is_some_and(|e| !e.is_empty()),
        "without the simulator the wait must fail: {r}"
    );
    env.shutdown().await;
}
