//! Push-to-installable time (issue 14's benchmark): how long after `violet push` ends (the
//! process exits) a package can be installed. The real platform's documentation asks users to
//! wait 10–15 minutes; the target is < 2 s.
//!
//! A release `marketplace serve` (controllers olm, plugins, artifacts, simulator) over a real
//! docker-registry, and the release `violet` beside it. Measured, one push at a time:
//! - operators: ROUNDS packages the `platform` catalog lists while their images are absent
//!   (`cpaas.io/package-status: Absent`); per package, from the end of its `violet push` to its
//!   PackageManifest labelled `Ready`;
//! - plugins: ROUNDS successive versions of one plugin; per version, from the end of its
//!   `violet push` to its ModulePlugin and its ModuleConfig `bench-v1.0.<i>` both present.
//!
//! Polled through kube-rs every 5 ms. Prints p50 / max, the push's own time, and the target.
//!
//! Run: `cargo build --release -p violet && cargo bench -p marketplace --bench uploads` (same
//! target dir; needs docker-registry: scripts/setup).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/plugin_support/mod.rs"]
mod plugin_support;
#[path = "../tests/upload_support/mod.rs"]
mod upload_support;

use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use upload_support as up;

const ROUNDS: usize = 8;
const TARGET: Duration = Duration::from_secs(2);

/// Prints p50 / max, and whether the max is within [`TARGET`] when `against_target`.
fn report(what: &str, mut d: Vec<Duration>, against_target: bool) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    let max = *d.last().unwrap();
    let verdict = match (against_target, max < TARGET) {
        (false, _) => String::new(),
        (true, met) => format!(
            " (target < {} ms: {})",
            TARGET.as_millis(),
            if met { "met" } else { "NOT met" }
        ),
    };
    println!(
        "{what}: n={} p50={:.0} ms max={:.0} ms{verdict}",
        d.len(),
        ms(d[(d.len() - 1) / 2]),
        ms(max),
    );
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// Polls (every 5 ms) until `done`; returns the time since `t0`.
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    t0: Instant,
    mut done: impl FnMut() -> F,
) -> Duration {
    loop {
        if done().await {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{what}: not done after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn package_status(api: &Api<DynamicObject>, package: &str) -> Option<String> {
    let pm = api.get_opt(package).await.ok()??;
    pm.metadata.labels?.get("cpaas.io/package-status").cloned()
}

/// A one-ConfigMap chart `bench` at `version`.
fn write_chart(dir: &std::path::Path, version: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: bench\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  version: \"{version}\"\n"
        ),
    )
    .unwrap();
}

fn main() {
    up::violet_binary();
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("violet-cache");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reg = rt.block_on(common::registry(&scratch.path().join("registry")));
    let host = reg.host();
    let server = common::Server::start_with(&[], &["--registry", &host], &[]);

    // Operators: every package listed by the platform catalog, none of their images present.
    let ops: Vec<up::OperatorPackage> = (0..ROUNDS)
        .map(|i| {
            up::operator_package(
                scratch.path(),
                &host,
                &format!("bench-operator-{i}"),
                "1.0.0",
                &format!("bench {i}"),
                &cache,
            )
        })
        .collect();
    let image = rt.block_on(up::push_catalog(
        &host,
        "acp/platform-catalog",
        "bench",
        ops.iter().map(|o| o.bundle.clone()).collect(),
    ));
    let client = rt.block_on(server.client("global"));
    let pms: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "cpaas-system",
        &resource(
            "packages.operators.coreos.com",
            "v1",
            "PackageManifest",
            "packagemanifests",
        ),
    );
    up::point_catalog_source(&server, "platform", &image);
    rt.block_on(async {
        for o in &ops {
            until(
                &format!("{} listed Absent", o.package),
                Instant::now(),
                || async { package_status(&pms, &o.package).await.as_deref() == Some("Absent") },
            )
            .await;
        }
    });
    let mut push_times = Vec::new();
    let mut ready = Vec::new();
    for o in &ops {
        let t = Instant::now();
        up::push(&server, &o.tgz, &cache);
        let end = Instant::now();
        push_times.push(end - t);
        ready.push(
            rt.block_on(until(&format!("{} Ready", o.package), end, || async {
                package_status(&pms, &o.package).await.as_deref() == Some("Ready")
            })),
        );
    }
    report("operator: violet push itself", push_times, false);
    report(
        "operator: end of violet push -> PackageManifest Ready",
        ready,
        true,
    );

    // Plugins: successive versions of one plugin.
    let plugins: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &resource(
            "cluster.alauda.io",
            "v1alpha1",
            "ModulePlugin",
            "moduleplugins",
        ),
    );
    let configs: Api<DynamicObject> = Api::all_with(
        client,
        &resource(
            "cluster.alauda.io",
            "v1alpha1",
            "ModuleConfig",
            "moduleconfigs",
        ),
    );
    let mut push_times = Vec::new();
    let mut present = Vec::new();
    for i in 0..ROUNDS {
        let chart = scratch.path().join(format!("chart-1.0.{i}"));
        write_chart(&chart, &format!("1.0.{i}"));
        let pkg = up::plugin_package(
            scratch.path(),
            "bench",
            &format!("v1.0.{i}"),
            &chart,
            &cache,
        );
        let t = Instant::now();
        up::push(&server, &pkg, &cache);
        let end = Instant::now();
        push_times.push(end - t);
        let config = format!("bench-v1.0.{i}");
        present.push(
            rt.block_on(until(&format!("ModuleConfig {config}"), end, || async {
                matches!(plugins.get_opt("bench").await, Ok(Some(_)))
                    && matches!(configs.get_opt(&config).await, Ok(Some(_)))
            })),
        );
    }
    report("plugin: violet push itself", push_times, false);
    report(
        "plugin: end of violet push -> ModulePlugin + new ModuleConfig present",
        present,
        true,
    );
    drop(server);
    rt.block_on(reg.stop());
}
