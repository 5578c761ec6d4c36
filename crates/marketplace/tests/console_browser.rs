//! The web console in a real browser, over the REAL controllers: Debian's chromium driven by
//! playwright-core (`crates/webconsole/web/e2e/console.mjs`) against `marketplace serve` with its
//! controller host (OLM, cluster plugins, uploads) and a real Debian `docker-registry` holding every
//! bundle, catalog, chart and image. Every step is taken in the browser; kubectl only confirms.
//!
//! - `operators_…`: log in (a wrong password refused first), install harbor-ce-operator Manual
//!   from the `platform` catalog and approve its InstallPlan in Installed Operators (CSV Succeeded
//!   on the page), install topolvm-operator (another Alauda operator) the same way, install
//!   clickhouse-operator Automatic from `community-operators` (Succeeded); install the
//!   AllNamespaces-only allns-operator into a namespace whose OperatorGroup is SingleNamespace and
//!   see the real CSV's failure (`UnsupportedOperatorGroup`, OLM's message) on its row, not
//!   "Installing"; then — the platform catalog image updated with new versions of both Alauda
//!   operators, so each gets a pending upgrade plan — batch-upgrade both from Clusters > Features:
//!   their CSVs reach the new versions.
//! - `plugins_and_uploads_…`: install gpu-device-plugin on `business` (the one cluster its affinity
//!   admits) with two form switches on and see it Running; an invalid form value's error beside its
//!   field; log-agent installed while its chart is missing from the registry shows the plugins
//!   controller's failure (`ChartUnavailable`, its message), and once the chart is pushed turns
//!   Running on the page without a reload; a package pushed with `violet push` while OperatorHub
//!   is open goes Absent → Ready without a reload and shows Ready in Upload Packages; a non-admin
//!   sees no upload actions.
//!
//! Both run axe on each page and save a screenshot of each page into
//! `<target>/console-screenshots/`. Needs `node`, `/usr/bin/chromium`, the built console
//! (`scripts/setup` installs and builds them) and `violet` built into the same target dir; fails
//! loudly when any is missing.

mod common;
mod operator_support;
mod plugin_support;
mod upload_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Server;
use operator_support::*;
use serde_json::{Value, json};
use upload_support as up;

const BUSINESS: &str = "business=cpaas.io/os-linux=true,cpaas.io/arch-amd64=true";
/// An arm64 cluster: its own `arch-amd64=false` overrides the registry's default `true`.
const REGION1: &str =
    "region1=cpaas.io/os-linux=true,cpaas.io/arch-arm64=true,cpaas.io/arch-amd64=false";

fn web_dir() -> PathBuf {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../webconsole/web")
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(
                &std::env::var("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../target")
        });
    target.join("console-screenshots")
}

/// Fails loudly when a tool the test drives is missing, or serve does not embed the built console.
fn require_tools(s: &Server) {
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
}

/// Runs `e2e/console.mjs` for `scenario` as serve's bootstrap admin (through the login form) with
/// `extra` environment; panics with its output and serve's log unless every expectation held.
fn browser(s: &Server, scenario: &str, extra: &[(&str, String)]) {
    let password = std::fs::read_to_string(s.data_dir().join("admin-password"))
        .expect("serve bootstraps the platform admin's password in <data-dir>/admin-password");
    let shots = screenshots_dir();
    let mut cmd = Command::new("node");
    cmd.arg("e2e/console.mjs")
        .current_dir(web_dir())
        .env("SCENARIO", scenario)
        .env("BASE_URL", &s.base)
        .env("ADMIN_TOKEN", s.token())
        .env("ADMIN_USER", "admin")
        .env("ADMIN_PASSWORD", password.trim())
        .env("SCREENSHOTS", &shots)
        .env("NODE_EXTRA_CA_CERTS", s.ca_path());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::block_in_place(|| cmd.output().expect("run node"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test {scenario} failed (screenshots in {}):\n{stdout}\n{}\nserve log tail:\n{}",
        shots.display(),
        String::from_utf8_lossy(&out.stderr),
        common::tail(&s.log(), 4000)
    );
}

fn assert_screenshots(pages: &[&str]) {
    for page in pages {
        let shot = screenshots_dir().join(format!("{page}.png"));
        assert!(
            shot.is_file(),
            "no screenshot of {page} at {}",
            shot.display()
        );
    }
}

/// Marks a bundle's CSV as an Alauda operator's (`cpaas.io/provider-type: alauda`).
fn as_alauda(mut files: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    for (path, bytes) in &mut files {
        if path.contains("clusterserviceversion") {
            let mut csv: Value = serde_json::from_slice(bytes).unwrap();
            csv["metadata"]["annotations"]["cpaas.io/provider-type"] = json!("alauda");
            *bytes = serde_json::to_vec_pretty(&csv).unwrap();
        }
    }
    files
}

/// The phase of CSV `ns/name`, if it exists.
fn csv_phase(env: &Env, ns: &str, name: &str) -> Option<String> {
    env.server.ok_or_none(&[
        "-n",
        ns,
        "get",
        "csv",
        name,
        "-o",
        "jsonpath={.status.phase}",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_install_approve_and_batch_upgrade_through_the_console_with_the_real_olm_controllers()
 {
    let env = start().await;
    let host = env.host();
    require_tools(&env.server);

    // The platform catalog: v1 lists harbor-ce-operator 2.12.10 and topolvm-operator 1.0.0; v2 adds
    // 2.12.11 and 1.1.0, which replace them. Every bundle and operator image is in the registry.
    let (mut first, mut all) = (Vec::new(), Vec::new());
    for (i, (v, replaces)) in [
        ("2.12.10", None),
        ("2.12.11", Some("harbor-ce-operator.v2.12.10")),
    ]
    .into_iter()
    .enumerate()
    {
        push_dummy(&host, "acp/harbor-operator", &format!("v{v}")).await;
        let files = harbor_bundle(&host, v, replaces);
        let b = push_bundle(
            &host,
            "acp/harbor-ce-operator-bundle",
            &format!("v{v}"),
            files,
        )
        .await;
        if i == 0 {
            first.push(b.clone());
        }
        all.push(b);
    }
    for (i, (v, replaces)) in [("1.0.0", None), ("1.1.0", Some("topolvm-operator.v1.0.0"))]
        .into_iter()
        .enumerate()
    {
        push_dummy(&host, "demo/topolvm-operator", &format!("v{v}")).await;
        let files = as_alauda(bundle_with_edges(
            &host,
            "topolvm-operator",
            v,
            replaces,
            &[],
            None,
        ));
        let b = push_bundle(
            &host,
            "acp/topolvm-operator-bundle",
            &format!("v{v}"),
            files,
        )
        .await;
        if i == 0 {
            first.push(b.clone());
        }
        all.push(b);
    }
    let v1 = up::push_catalog(&host, "acp/platform-catalog", "v1", first).await;
    let v2 = up::push_catalog(&host, "acp/platform-catalog", "v2", all).await;
    use_catalog_image(&env, "cpaas-system", "platform", &v1);

    // The community catalog with the real clickhouse bundle, and allns-operator (AllNamespaces only).
    let ch = clickhouse_bundle("0.26.0", "0.18.2", None);
    push_operator_images(&host, &ch).await;
    let ch = push_bundle(&host, "community/clickhouse-operator-bundle", "v0.18.2", ch).await;
    push_dummy(&host, "demo/allns-operator", "v1.0.0").await;
    let allns = push_bundle(
        &host,
        "community/allns-operator-bundle",
        "v1.0.0",
        simple_bundle(&host, "allns-operator", "1.0.0", &["AllNamespaces"]),
    )
    .await;
    let community = up::push_catalog(&host, "community/catalog", "latest", vec![ch, allns]).await;
    // A namespace set up before (not by the console) for operators watching `default` only.
    env.apply(FAILING_NAMESPACE);
    env.server
        .ok(&["create", "namespace", "openshift-marketplace"]);
    let source = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
        "metadata": {"name": "community-operators", "namespace": "openshift-marketplace"},
        "spec": {"sourceType": "grpc", "image": community, "displayName": "Community Operators",
            "publisher": "Red Hat", "updateStrategy": {"registryPoll": {"interval": "2s"}}},
    });
    env.apply(&source.to_string());
    for pkg in [
        "harbor-ce-operator",
        "topolvm-operator",
        "clickhouse-operator",
        "allns-operator",
    ] {
        env.wait(&format!("{pkg} Ready in OperatorHub"), || {
            let (ok, out, _) = env.sh(&format!(
                "kubectl get packagemanifests {pkg} -o jsonpath='{{.metadata.labels.cpaas\\.io/package-status}}'"
            ));
            (ok && out == "Ready").then_some(())
        });
    }

    browser(
        &env.server,
        "operators",
        &[
            ("NEXT_PLATFORM_CATALOG", v2.clone()),
            ("FAILING_NAMESPACE", "single-ns".into()),
        ],
    );

    // What the browser did is what kubectl sees.
    for (ns, csv) in [
        ("harbor-ce-operator", "harbor-ce-operator.v2.12.11"),
        ("topolvm-operator", "topolvm-operator.v1.1.0"),
        ("clickhouse-operator", "clickhouse-operator.v0.18.2"),
    ] {
        assert_eq!(
            csv_phase(&env, ns, csv).as_deref(),
            Some("Succeeded"),
            "CSV {ns}/{csv}"
        );
    }
    // The failure the page showed is the CSV's own, and nothing of it runs.
    let csv = env.json(&["-n", "single-ns", "get", "csv", "allns-operator.v1.0.0"]);
    assert_eq!(csv["status"]["phase"], "Failed", "{csv:#}");
    assert_eq!(
        csv["status"]["reason"], "UnsupportedOperatorGroup",
        "{csv:#}"
    );
    assert!(
        !env.server
            .kubectl(&["-n", "single-ns", "get", "deployment", "allns-operator"])
            .status
            .success(),
        "allns-operator runs despite its failed CSV"
    );
    let subs = env.json(&["get", "subscriptions", "-A"]);
    let approvals: Vec<(String, String)> = subs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["spec"]["name"].as_str().unwrap().to_string(),
                s["spec"]["installPlanApproval"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    for (pkg, approval) in [
        ("harbor-ce-operator", "Manual"),
        ("topolvm-operator", "Manual"),
        ("clickhouse-operator", "Automatic"),
    ] {
        assert!(
            approvals.contains(&(pkg.to_string(), approval.to_string())),
            "{pkg} subscribed {approval}: {approvals:?}"
        );
    }
    assert_screenshots(&[
        "login",
        "operatorhub",
        "operatorhub-install-harbor-ce-operator",
        "installed-operators-pending",
        "installed-operators",
        "installed-operators-failed",
        "features",
        "features-upgraded",
    ]);
}

/// Namespace `single-ns` with an OperatorGroup watching only `default` (SingleNamespace).
const FAILING_NAMESPACE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: single-ns}
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: single-ns, namespace: single-ns}
spec: {targetNamespaces: [default]}
"#;

const PLUGIN_FIXTURES: &str = r#"
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
      matchExpressions: [{key: is-global, operator: DoesNotExist}]
  config:
    custom: {mps_enable: false, pgpu_enable: false, vgpu_enable: false}
  chart: {ref: "GPU_CHART"}
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
  # Not in the registry until the browser test pushes it (tests/plugin_charts/demo-v1).
  chart: {ref: "REGISTRY/charts/demo:1.0.0"}
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_and_uploads_install_to_running_and_turn_ready_live_in_the_console_with_the_real_controllers()
 {
    let env = start_on(&[BUSINESS, REGION1]).await;
    let host = env.host();
    require_tools(&env.server);
    let scratch = env.scratch();

    // gpu-device-plugin v4.0.15: its chart and driver images in the registry.
    for image in [
        "acp/pgpu-device-plugin:v4.0.15",
        "acp/vgpu-device-plugin:v4.0.15",
        "acp/mps-device-plugin:v4.0.15",
    ] {
        let layout = scratch.join(image.replace([':', '/'], "_"));
        plugin_support::push_image(&host, image, &layout);
    }
    let chart = plugin_support::push_chart(&host, "tests/plugin_charts/gpu-device-plugin");
    // log-agent's image is there, its chart is not (pushed by the browser test to heal it).
    plugin_support::push_image(&host, "acp/demo:v1.0.0", &scratch.join("demo"));
    let push_chart = [
        env!("CARGO_BIN_EXE_marketplace").to_string(),
        "chart".into(),
        "push".into(),
        Path::new(
            &std::env::var("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("tests/plugin_charts/demo-v1")
        .display()
        .to_string(),
        format!("oci://{host}/charts"),
        "--plain-http".into(),
    ];
    env.apply(
        &PLUGIN_FIXTURES
            .replace("GPU_CHART", &chart)
            .replace("REGISTRY", &host),
    );
    let viewer = env
        .server
        .ok(&["-n", "default", "create", "token", "console-viewer"]);

    // An operator the platform catalog lists before its upload (Absent), packed with violet.
    let cache = scratch.join("violet-cache");
    let op = up::operator_package(
        scratch,
        &host,
        "uploaded-operator",
        "1.0.0",
        "console",
        &cache,
    );
    let catalog =
        up::push_catalog(&host, "acp/platform-catalog", "v1", vec![op.bundle.clone()]).await;
    up::point_catalog_source(&env.server, "platform", &catalog);
    env.wait("uploaded-operator listed Absent", || {
        let (ok, out, _) = env.sh(
            "kubectl get packagemanifests uploaded-operator -o jsonpath='{.metadata.labels.cpaas\\.io/package-status}'",
        );
        (ok && out == "Absent").then_some(())
    });
    // What the browser runs to upload: `violet push` as serve's admin.
    let mut push = vec![
        up::violet_binary().display().to_string(),
        "push".into(),
        op.tgz.display().to_string(),
        "--plain".into(),
    ];
    push.extend(up::login_args(&env.server));

    browser(
        &env.server,
        "plugins-uploads",
        &[
            ("VIEWER_TOKEN", viewer.trim().to_string()),
            ("VIOLET_PUSH", serde_json::to_string(&push).unwrap()),
            (
                "PUSH_MISSING_CHART",
                serde_json::to_string(&push_chart).unwrap(),
            ),
            ("XDG_CACHE_HOME", cache.display().to_string()),
        ],
    );

    // What the browser did is what kubectl sees.
    let row = env.server.ok(&[
        "get", "moduleinfo", "-l", "cpaas.io/module-name=gpu-device-plugin",
        "-o", "jsonpath={.items[0].metadata.labels.cpaas\\.io/cluster-name} {.items[0].status.phase} {.items[0].spec.config.custom.pgpu_enable} {.items[0].spec.config.custom.vgpu_enable} {.items[0].spec.config.custom.mps_enable}",
    ]);
    assert_eq!(row.trim(), "business Running true true false");
    let agent = env.server.ok(&[
        "get",
        "moduleinfo",
        "-l",
        "cpaas.io/module-name=log-agent",
        "-o",
        "jsonpath={.items[0].metadata.labels.cpaas\\.io/cluster-name} {.items[0].status.phase}",
    ]);
    assert_eq!(
        agent.trim(),
        "business Running",
        "log-agent healed once its chart was pushed"
    );
    let drivers = env.server.kubectl_on(
        "business",
        &["-n", "cpaas-system", "get", "daemonsets", "-o", "name"],
    );
    let drivers = String::from_utf8_lossy(&drivers.stdout);
    assert!(
        drivers.contains("pgpu") && drivers.contains("vgpu") && !drivers.contains("mps"),
        "the switches chose the drivers on business: {drivers}"
    );
    let status = env.server.ok(&[
        "get",
        "packagemanifests",
        "uploaded-operator",
        "-o",
        "jsonpath={.metadata.labels.cpaas\\.io/package-status}",
    ]);
    assert_eq!(status, "Ready");
    env.server.ok(&[
        "-n",
        "cpaas-system",
        "get",
        "artifactversion",
        "uploaded-operator.v1.0.0",
    ]);
    assert_screenshots(&[
        "cluster-plugins",
        "cluster-plugins-install",
        "cluster-plugins-invalid-value",
        "cluster-plugins-failed",
        "cluster-plugins-healed",
        "operatorhub-absent",
        "upload-packages-operator",
        "upload-packages-non-admin",
    ]);
}
