//! The web console in a real browser: Debian's chromium driven by playwright-core
//! (`crates/webconsole/web/e2e/console.mjs`) against the real `marketplace serve` binary, logging in,
//! installing a cluster plugin through its generated form on the one cluster its affinity admits,
//! seeing an invalid value's error beside its field, following status changes live through
//! watches (a plugin Failed → Running, an upload Absent → Ready), hiding upload actions from a
//! non-admin, approving an operator's pending InstallPlan (its components and another operator's
//! failure reason on the page) and batch-upgrading two Alauda operators from Features (the test
//! writes the OLM objects OLM would, as this branch runs no OLM controllers), with an axe
//! accessibility check and a screenshot of every page (`<target>/console-screenshots/`).
//!
//! Needs `node`, `/usr/bin/chromium` and the built console (`scripts/setup` installs and builds
//! them); fails loudly when any is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Server;
use kube::CustomResourceExt;

const BUSINESS: &str = "business=cpaas.io/os-linux=true,cpaas.io/arch-amd64=true";
const REGION1: &str = "region1=cpaas.io/os-linux=true,cpaas.io/arch-arm64=true";

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../webconsole/web")
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("console-screenshots")
}

/// Fails loudly when a tool the test drives is missing.
fn require_tools() {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing: run scripts/setup (nodejs >= 20.19)"
    );
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing: run scripts/setup (apt package chromium)"
    );
    assert!(
        web_dir().join("node_modules/playwright-core").is_dir(),
        "crates/webconsole/web/node_modules is missing: run scripts/setup (npm ci)"
    );
}

/// The CRD unless the server already serves it (it does once the owning crate's set is wired).
fn ensure_crd(
    s: &Server,
    crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) {
    let name = crd.metadata.name.clone().expect("CRD name");
    if s.kubectl(&["get", "crd", &name]).status.success() {
        return;
    }
    s.ok_stdin(
        &["create", "-f", "-"],
        &serde_yaml::to_string(&crd).expect("CRD YAML"),
    );
    s.ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        &format!("crd/{name}"),
    ]);
}

const FIXTURES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: cpaas-system}
---
apiVersion: cluster.alauda.io/v1alpha1
kind: ModulePlugin
metadata: {name: gpu-device-plugin}
spec: {displayName: GPU device plugin, description: NVIDIA GPU drivers for workload clusters, provider: Alauda}
---
apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleConfig
metadata:
  name: gpu-device-plugin-v4.0.15
  labels: {cpaas.io/module-name: gpu-device-plugin}
spec:
  version: v4.0.15
  affinity:
    clusterAffinity:
      matchLabels: {cpaas.io/os-linux: "true", cpaas.io/arch-amd64: "true"}
  config:
    custom: {mps_enable: false, pgpu_enable: false, vgpu_enable: false}
  chart: {ref: "127.0.0.1:5000/charts/gpu-device-plugin:v4.0.15"}
---
apiVersion: cluster.alauda.io/v1alpha1
kind: ModulePlugin
metadata: {name: log-agent}
spec: {displayName: Log agent}
---
apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleConfig
metadata:
  name: log-agent-v1.0.0
  labels: {cpaas.io/module-name: log-agent}
spec:
  version: v1.0.0
  config: {replicas: 1}
  configSchema:
    type: object
    properties:
      replicas: {type: integer, minimum: 1, title: replicas}
  chart: {ref: "127.0.0.1:5000/charts/log-agent:v1.0.0"}
---
apiVersion: app.alauda.io/v1alpha1
kind: ArtifactVersion
metadata:
  name: topolvm-operator.v2.3.0
  namespace: cpaas-system
  labels: {cpaas.io/artifact: topolvm-operator, cpaas.io/artifact-type: bundle}
spec:
  artifact: topolvm-operator
  version: v2.3.0
  type: bundle
  image: "127.0.0.1:5000/alauda/topolvm-operator-bundle@sha256:0000000000000000000000000000000000000000000000000000000000000001"
  tag: v2.3.0
  arch: [amd64]
  catalogSource: platform
---
apiVersion: app.alauda.io/v1alpha1
kind: ArtifactVersion
metadata:
  name: gpu-device-plugin.v4.0.15
  namespace: cpaas-system
  labels: {cpaas.io/artifact: gpu-device-plugin, cpaas.io/artifact-type: plugin}
spec:
  artifact: gpu-device-plugin
  version: v4.0.15
  type: plugin
  image: "127.0.0.1:5000/charts/gpu-device-plugin@sha256:0000000000000000000000000000000000000000000000000000000000000002"
  tag: v4.0.15
  arch: [amd64]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: console-viewer, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: console-viewer}
rules:
- apiGroups: [cluster.alauda.io, app.alauda.io, packages.operators.coreos.com, operators.coreos.com]
  resources: ["*"]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: console-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: console-viewer}
subjects:
- {kind: ServiceAccount, name: console-viewer, namespace: default}
"#;

#[test]
fn console_pages_work_in_a_real_browser() {
    require_tools();
    // No controller host: the test writes the statuses the operator, plugin and artifact
    // controllers would (so it can show Failed, then Running, on cue), and no controller may race it.
    let s = Server::start_with(&[BUSINESS, REGION1], &["--no-controllers"], &[]);

    let index = Command::new("curl")
        .args(["-sf", "--cacert"])
        .arg(s.ca_path())
        .arg(format!("{}/console/", s.base))
        .output()
        .expect("run curl");
    let body = String::from_utf8_lossy(&index.stdout);
    assert!(
        index.status.success() && body.contains(r#"<div id="root">"#),
        "serve does not embed the built console (run scripts/setup, then rebuild): {body}"
    );

    ensure_crd(&s, apis::cluster::ModulePlugin::crd());
    ensure_crd(&s, apis::cluster::ModuleConfig::crd());
    ensure_crd(&s, apis::cluster::ModuleInfo::crd());
    ensure_crd(&s, apis::cluster::Cluster::crd());
    ensure_crd(&s, apis::artifacts::Artifact::crd());
    ensure_crd(&s, apis::artifacts::ArtifactVersion::crd());
    // OLM's kinds: the test plays OLM's part for Installed Operators and Features (pending
    // upgrade InstallPlans), since this branch does not run the OLM controllers.
    ensure_crd(&s, apis::operators::Subscription::crd());
    ensure_crd(&s, apis::operators::InstallPlan::crd());
    ensure_crd(&s, apis::operators::ClusterServiceVersion::crd());
    s.ok_stdin(&["apply", "-f", "-"], FIXTURES);
    s.ok(&[
        "-n",
        "cpaas-system",
        "patch",
        "artifactversion",
        "topolvm-operator.v2.3.0",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ready"}}"#,
    ]);
    let viewer = s.ok(&["-n", "default", "create", "token", "console-viewer"]);

    // The platform's bootstrap admin logs in through the login form (contract #2).
    let password = std::fs::read_to_string(s.data_dir().join("admin-password"))
        .expect("serve bootstraps the platform admin's password in <data-dir>/admin-password");

    let shots = screenshots_dir();
    let out = Command::new("node")
        .arg("e2e/console.mjs")
        .current_dir(web_dir())
        .env("BASE_URL", &s.base)
        .env("ADMIN_TOKEN", s.token())
        .env("ADMIN_USER", "admin")
        .env("ADMIN_PASSWORD", password.trim())
        .env("VIEWER_TOKEN", viewer.trim())
        .env("SCREENSHOTS", &shots)
        .env("NODE_EXTRA_CA_CERTS", s.ca_path())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed (screenshots in {}):\n{stdout}\n{}\nserve log tail:\n{}",
        shots.display(),
        String::from_utf8_lossy(&out.stderr),
        common::tail(&s.log(), 3000)
    );

    // What the browser did is what kubectl sees.
    let row = s.ok(&[
        "get", "moduleinfo", "-l", "cpaas.io/module-name=gpu-device-plugin",
        "-o", "jsonpath={.items[0].metadata.labels.cpaas\\.io/cluster-name} {.items[0].spec.config.custom.pgpu_enable} {.items[0].spec.config.custom.vgpu_enable} {.items[0].spec.config.custom.mps_enable}",
    ]);
    assert_eq!(row.trim(), "business true true false");
    for page in [
        "login",
        "operatorhub",
        "installed-operators",
        "cluster-plugins",
        "upload-packages-operator",
        "features",
    ] {
        assert!(
            shots.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }
}
