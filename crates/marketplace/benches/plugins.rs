//! Cluster plugin latency (issue 13's benchmark): `marketplace serve` with three clusters (global,
//! business, edge) and a real docker-registry; 20 plugins (one small chart each, a Deployment and a
//! ConfigMap named after the release) spread over the three clusters. Measures, per plugin, the
//! time from creating its ModuleInfo (all 20 created back to back) to the renamed ModuleInfo
//! reporting `Running`, then the time from patching `spec.version` v1.0.0 → v2.0.0 (all 20) to
//! `Running` with currentVersion v2.0.0. Prints p50 / p99 / max. Target: p50 < 1 s.
//!
//! Run: `cargo bench -p marketplace --bench plugins` (needs docker-registry: scripts/setup); with
//! `RUST_LOG=info,plugins=debug PLUGINS_BENCH_LOG=FILE` serve's log (per-step timings) is kept.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/plugin_support/mod.rs"]
mod plugin_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use apis::cluster::ModuleInfo;
use kube::api::{Api, Patch, PatchParams, PostParams};
use plugin_support::marketplace;

const PLUGINS: usize = 20;
const CLUSTERS: [&str; 3] = ["global", "business", "edge"];

/// A chart whose objects are named after the release, so every plugin can share it.
fn write_chart(dir: &std::path::Path, version: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: bench\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "global: {}\n").unwrap();
    std::fs::write(
        dir.join("templates/all.yaml"),
        format!(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ .Release.Name }}}}-config
data:
  version: "{version}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {{{{ .Release.Name }}}}}}
  template:
    metadata:
      labels: {{app: {{{{ .Release.Name }}}}}}
    spec:
      containers:
        - name: app
          image: busybox:{version}
"#
        ),
    )
    .unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn report(what: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{what}: n={} p50={:.0} ms p99={:.0} ms max={:.0} ms",
        d.len(),
        percentile(&d, 0.5).as_secs_f64() * 1e3,
        percentile(&d, 0.99).as_secs_f64() * 1e3,
        d.last().unwrap().as_secs_f64() * 1e3
    );
}

/// Polls until every plugin's installation satisfies `done`; returns when each first did.
async fn wait_all(
    api: &Api<ModuleInfo>,
    started: &BTreeMap<String, Instant>,
    done: impl Fn(&ModuleInfo) -> bool,
) -> Vec<Duration> {
    let mut finished: BTreeMap<String, Duration> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while finished.len() < started.len() {
        assert!(
            Instant::now() < deadline,
            "not all plugins finished: {finished:?}"
        );
        for mi in api.list(&Default::default()).await.unwrap().items {
            let Some(plugin) = mi
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("cpaas.io/module-name"))
            else {
                continue;
            };
            if let Some(t0) = started.get(plugin)
                && !finished.contains_key(plugin)
                && done(&mi)
            {
                finished.insert(plugin.clone(), t0.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    finished.into_values().collect()
}

/// Creates plugin `p<i>`'s ModuleInfo (cluster by `i`), recording when.
async fn create_info(api: &Api<ModuleInfo>, i: usize, started: &mut BTreeMap<String, Instant>) {
    let cluster = CLUSTERS[i % CLUSTERS.len()];
    let mi: ModuleInfo = serde_json::from_value(serde_json::json!({
        "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleInfo",
        "metadata": {"name": format!("{cluster}-tmp-p{i}"), "labels": {
            "cpaas.io/cluster-name": cluster, "cpaas.io/module-name": format!("p{i}"),
            "cpaas.io/module-type": "plugin"}},
        "spec": {"version": "v1.0.0"}
    }))
    .unwrap();
    started.insert(format!("p{i}"), Instant::now());
    api.create(&PostParams::default(), &mi).await.unwrap();
}

fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reg = rt.block_on(common::registry(&scratch.path().join("registry")));
    let host = reg.host();
    let server = common::Server::start_with(&["business", "edge"], &["--registry", &host], &[]);
    for v in ["1.0.0", "2.0.0"] {
        let layout = scratch.path().join(format!("image-{v}"));
        plugin_support::push_image(&host, &format!("library/busybox:{v}"), &layout);
    }
    let mut refs = BTreeMap::new();
    for v in ["1.0.0", "2.0.0"] {
        let dir = scratch.path().join(format!("chart-{v}"));
        write_chart(&dir, v);
        let out = marketplace(&[
            "chart",
            "push",
            dir.to_str().unwrap(),
            &format!("oci://{host}/charts"),
            "--plain-http",
        ]);
        let r = out
            .lines()
            .find_map(|l| l.strip_prefix("Pushed: "))
            .unwrap()
            .trim()
            .to_string();
        refs.insert(v, r);
    }
    let mut yaml = String::new();
    for i in 0..=PLUGINS {
        yaml.push_str(&format!(
            "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModulePlugin\nmetadata:\n  name: p{i}\n---\n"
        ));
        for v in ["1.0.0", "2.0.0"] {
            yaml.push_str(&format!(
                "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleConfig\nmetadata:\n  name: p{i}-v{v}\nspec:\n  version: v{v}\n  config: {{}}\n  chart:\n    ref: {}\n---\n",
                refs[v]
            ));
        }
    }
    server.ok_stdin(&["apply", "-f", "-"], &yaml);
    rt.block_on(async {
        let client = server.client("global").await;
        let api: Api<ModuleInfo> = Api::all(client);
        // One plugin alone first: the latency without contention.
        let mut started = BTreeMap::new();
        create_info(&api, PLUGINS, &mut started).await;
        let single = wait_all(&api, &started, |mi| {
            mi.status
                .as_ref()
                .is_some_and(|s| s.phase.as_deref() == Some("Running"))
        })
        .await;
        report(
            "install of one plugin alone (ModuleInfo created -> Running)",
            single,
        );
        let mut started = BTreeMap::new();
        for i in 0..PLUGINS {
            create_info(&api, i, &mut started).await;
        }
        let install = wait_all(&api, &started, |mi| {
            mi.status
                .as_ref()
                .is_some_and(|s| s.phase.as_deref() == Some("Running"))
        })
        .await;
        report(
            "install (ModuleInfo created -> Running), 20 plugins over 3 clusters",
            install,
        );

        let mut started = BTreeMap::new();
        let names: Vec<(String, String)> = api
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|mi| {
                mi.metadata.labels.as_ref().unwrap()["cpaas.io/module-name"]
                    != format!("p{PLUGINS}")
            })
            .map(|mi| {
                let plugin = mi.metadata.labels.as_ref().unwrap()["cpaas.io/module-name"].clone();
                (plugin, mi.metadata.name.unwrap())
            })
            .collect();
        for (plugin, name) in names {
            started.insert(plugin, Instant::now());
            let patch = serde_json::json!({"spec": {"version": "v2.0.0"}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
        let upgrade = wait_all(&api, &started, |mi| {
            mi.status.as_ref().is_some_and(|s| {
                s.phase.as_deref() == Some("Running")
                    && s.current_version.as_deref() == Some("v2.0.0")
            })
        })
        .await;
        report(
            "upgrade (spec.version patched -> Running at v2.0.0), 20 plugins",
            upgrade,
        );
    });
    // For finding where the time goes: run with RUST_LOG=info,plugins=debug and
    // PLUGINS_BENCH_LOG=FILE to keep serve's log (per-step timings of every reconcile).
    if let Ok(path) = std::env::var("PLUGINS_BENCH_LOG") {
        std::fs::write(&path, server.log()).unwrap();
        println!("serve's log: {path}");
    }
    drop(server);
    rt.block_on(reg.stop());
}
