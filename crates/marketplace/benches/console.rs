//! The web console's speed in a real browser (Debian chromium through playwright-core,
//! `crates/webconsole/web/e2e/bench.mjs`) against the real `marketplace serve`: Cluster Plugins with 50
//! plugins installed on 5 clusters (250 ModuleInfos) — first contentful paint, the moment every
//! plugin row and installation is painted, and time-to-interactive (the first idle period after
//! that), medians of fresh page loads; plus the size of the embedded bundle, raw and gzip (what
//! the server sends to a browser that accepts gzip).
//!
//! `cargo bench -p marketplace --bench console` (needs `scripts/setup`: node, chromium, the built
//! console). Prints its figures; asserts nothing about them.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::process::Command;

const PLUGINS: usize = 50;
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

fn main() {
    assert!(
        webconsole::built(),
        "the console is not built: run scripts/setup"
    );
    bundle_sizes();
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
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../webconsole/web");
    let out = Command::new("node")
        .arg("e2e/bench.mjs")
        .current_dir(web)
        .env("BASE_URL", &s.base)
        .env("TOKEN", s.token())
        .env("PAGE", "plugins")
        .env("READY", ready)
        .env("RUNS", "5")
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "bench failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "Cluster Plugins, {PLUGINS} plugins x {} clusters ({expected} installations), chromium 1280x800: {}",
        WORKLOAD_CLUSTERS.len() + 1,
        String::from_utf8_lossy(&out.stdout).trim()
    );
}
