//! The web console's speed in a real browser (Debian chromium through playwright-core,
//! `crates/webconsole/web/e2e/bench.mjs`) against the real `marketplace serve`:
//! - OperatorHub with 500 packages, from a real catalog through the real OLM controllers: a
//!   file-based catalog image of 500 generated registry+v1 bundles pushed to a real
//!   `docker-registry`, the `platform` CatalogSource pointed at it, serve's controllers loading it
//!   and serving the PackageManifests the page lists and watches;
//! - Cluster Plugins with 50 plugins installed on 5 clusters (250 ModuleInfos, stored objects);
//!
//! each as first contentful paint, the moment all the data (every tile / every plugin row and
//! installation) is painted, time-to-interactive (the first idle period after that) and the
//! cumulative layout shift (PerformanceObserver `layout-shift`, as web-vitals sums it), medians of
//! fresh page loads; plus the size of the embedded bundle, raw and gzip (what the server sends to a
//! browser that accepts gzip).
//!
//! `cargo bench -p marketplace --bench console` (needs `scripts/setup`: node, chromium, the built
//! console, docker-registry). Prints its figures; asserts nothing about them.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/operator_support/mod.rs"]
mod operator_support;
#[path = "../tests/plugin_support/mod.rs"]
mod plugin_support;
#[path = "../tests/upload_support/mod.rs"]
mod upload_support;

use std::fmt::Write as _;
use std::process::Command;

const PLUGINS: usize = 50;
const PACKAGES: usize = 500;
const WORKLOAD_CLUSTERS: [&str; 4] = ["b1", "b2", "b3", "b4"];

fn fixtures() -> String {
    let mut y = String::new();
    let clusters: Vec<&str> = std::iter::once("global").chain(WORKLOAD_CLUSTERS).collect();
    for i in 0..PLUGINS {
        let _ = write!(
            y,
            "---\napiVersion: cluster.alauda.io/v1alpha1\nkind: ModulePlugin\nmetadata: {{name: plugin-{i:02}}}\nspec: {{displayName: Plugin {i:02}, description: benchmark plugin {i}}}\n\
             ---\napiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleConfig\nmetadata: {{name: plugin-{i:02}-v1.0.0, labels: {{cpaas.io/module-name: plugin-{i:02}}}}}\n\
             spec: {{version: v1.0.0, config: {{enabled: true, replicas: 1}}, chart: {{ref: \"127.0.0.1:5000/charts/plugin-{i:02}:v1.0.0\"}}}}\n"
        );
        for c in &clusters {
            let _ = write!(
                y,
                "---\napiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleInfo\nmetadata: {{name: {c}-plugin-{i:02}, labels: {{cpaas.io/cluster-name: {c}, cpaas.io/module-name: plugin-{i:02}, cpaas.io/module-type: plugin}}}}\n\
                 spec: {{version: v1.0.0, config: {{}}}}\n"
            );
        }
    }
    y
}

fn bundle_sizes() {
    let (mut raw, mut sent, mut code_raw, mut code_gz) = (0usize, 0usize, 0usize, 0usize);
    for a in webconsole::assets() {
        raw += a.bytes.len();
        let wire = a.gzip.map_or(a.bytes.len(), <[u8]>::len);
        sent += wire;
        if a.path.ends_with(".js") || a.path.ends_with(".css") || a.path.ends_with(".html") {
            code_raw += a.bytes.len();
            code_gz += wire;
        }
    }
    println!(
        "console bundle: {} KiB raw, {} KiB sent with gzip; JS+CSS+HTML {} KiB raw, {} KiB gzip (fonts and images are the rest)",
        raw / 1024,
        sent / 1024,
        code_raw / 1024,
        code_gz / 1024
    );
}

/// Runs `e2e/bench.mjs` on `page` (hash route) until `ready` holds (timing `first` on the way when
/// given); returns its JSON line.
fn measure(s: &common::Server, page: &str, first: Option<&str>, ready: &str) -> String {
    let web = std::path::Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../webconsole/web");
    let out = Command::new("node")
        .arg("e2e/bench.mjs")
        .current_dir(web)
        .env("BASE_URL", &s.base)
        .env("TOKEN", s.token())
        .env("PAGE", page)
        .env("READY", ready)
        .env("FIRST", first.unwrap_or_default())
        .env("RUNS", "5")
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "bench of {page} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// OperatorHub over `PACKAGES` packages of a generated catalog image loaded by the real OLM
/// controllers (their bundle images are not pushed, so every tile says Absent).
fn operatorhub() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = rt.block_on(operator_support::start());
    let host = env.host();
    let bundles: Vec<catalog::Bundle> = (0..PACKAGES)
        .map(|i| {
            let package = format!("bench-{i:03}");
            let image = format!("{host}/bench/{package}-bundle:v1.0.0");
            let files =
                operator_support::simple_bundle(&host, &package, "1.0.0", &["AllNamespaces"]);
            catalog::Bundle::from_registry_v1_files(&image, files, &image).expect("bundle loads")
        })
        .collect();
    let image = rt.block_on(upload_support::push_catalog(
        &host,
        "bench/operatorhub-catalog",
        "v1",
        bundles,
    ));
    let pointed = std::time::Instant::now();
    upload_support::point_catalog_source(&env.server, "platform", &image);
    env.wait(&format!("{PACKAGES} PackageManifests"), || {
        let names = env.server.ok(&["get", "packagemanifests", "-o", "name"]);
        (names.lines().filter(|l| l.contains("/bench-")).count() == PACKAGES).then_some(())
    });
    println!(
        "{PACKAGES}-package catalog image pointed at -> all PackageManifests listed: {:?}",
        pointed.elapsed()
    );
    let ready = format!(
        "document.querySelectorAll('[data-testid^=\"tile-bench-\"]').length === {PACKAGES}"
    );
    println!(
        "OperatorHub, {PACKAGES} packages from a catalog image through the OLM controllers, chromium 1280x800: {}",
        measure(
            &env.server,
            "operatorhub",
            Some("document.querySelector('[data-testid^=\"tile-bench-\"]') !== null"),
            &ready
        )
    );
}

fn main() {
    assert!(
        webconsole::built(),
        "the console is not built: run scripts/setup"
    );
    bundle_sizes();
    println!("load average before: {}", load_average());
    operatorhub();
    let clusters: Vec<String> = WORKLOAD_CLUSTERS.iter().map(|c| c.to_string()).collect();
    let refs: Vec<&str> = clusters.iter().map(String::as_str).collect();
    // No controller host: the page is measured over stored objects, not while controllers act on them.
    let s = common::Server::start_with(&refs, &["--no-controllers"], &[]);
    for crd in [
        serde_yaml::to_string(&<apis::cluster::ModulePlugin as kube::CustomResourceExt>::crd()),
        serde_yaml::to_string(&<apis::cluster::ModuleConfig as kube::CustomResourceExt>::crd()),
        serde_yaml::to_string(&<apis::cluster::ModuleInfo as kube::CustomResourceExt>::crd()),
    ] {
        let crd = crd.expect("CRD YAML");
        if !s
            .kubectl_with_stdin("global", &["create", "-f", "-"], Some(&crd))
            .status
            .success()
        {
            // Already served (the plugins set installs it once wired into serve).
        }
    }
    s.ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/moduleinfos.cluster.alauda.io",
    ]);
    s.ok_stdin(&["apply", "--server-side", "-f", "-"], &fixtures());
    let expected = PLUGINS * (WORKLOAD_CLUSTERS.len() + 1);
    let ready = format!(
        "document.querySelectorAll('[data-testid^=\"plugin-\"]').length === {PLUGINS} && document.querySelectorAll('[data-testid^=\"installation-\"]').length === {expected}"
    );
    println!(
        "Cluster Plugins, {PLUGINS} plugins x {} clusters ({expected} installations), chromium 1280x800: {}",
        WORKLOAD_CLUSTERS.len() + 1,
        measure(&s, "plugins", None, &ready)
    );
    println!("load average after: {}", load_average());
}

/// `/proc/loadavg`'s first three fields (the machine is shared; figures depend on it).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}
