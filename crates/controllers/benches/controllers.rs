//! Figures of the controller host on the embedded control plane (run with
//! `cargo bench -p controllers --bench controllers`; `BENCH_OBJECTS` sets the object count,
//! default 20000). Prints:
//! - idle CPU of the whole process (control plane + host) over 10 s with `BENCH_OBJECTS`
//!   ConfigMaps stored, after the garbage collector synced, and the GC/namespace/CRD work items
//!   run meanwhile (must be 0: nothing runs when nothing changes), RSS before and after;
//! - garbage collection of 1000 dependents of one deleted owner: seconds until all are gone;
//! - the sample controller: 1000 ConfigMapGenerators created → all Ready, reconciles per second.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

const PARALLEL: usize = 16;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .expect("stat format")
        .1
        .split(' ')
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

async fn create_all(api: &Api<ConfigMap>, objs: Vec<ConfigMap>) {
    futures::stream::iter(objs)
        .for_each_concurrent(PARALLEL, |o| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &o)
                    .await
                    .expect("create");
            }
        })
        .await;
}

async fn until(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    let objects: usize = std::env::var("BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(objects));
}

async fn run(objects: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let mut sets = controllers::embedded_sets();
    sets.push(controllers::samples::set());
    let host = controllers::Host::new(sets).install_crds(true);
    let metrics = host.metrics();
    let client = cp.client("global").unwrap();
    let running = host.start(vec![controllers::ClusterTarget {
        name: "global".into(),
        client: client.clone(),
        labels: Default::default(),
        global: true,
        registry: None,
    }]);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let t = Instant::now();
    let batch: Vec<ConfigMap> = (0..objects)
        .map(|i| {
            serde_json::from_value(
                json!({"metadata": {"name": format!("obj-{i}")}, "data": {"i": i.to_string()}}),
            )
            .unwrap()
        })
        .collect();
    create_all(&cms, batch).await;
    println!(
        "created {objects} ConfigMaps in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // Settle: the collector has seen every object (one full list would show as work if any).
    let gc_work = || {
        ["garbage-collector", "namespace-controller", "crd-cleanup"]
            .iter()
            .map(|c| metrics.reconciles(c, "global", true) + metrics.reconciles(c, "global", false))
            .sum::<u64>()
    };
    let mut last = (gc_work(), cpu_seconds());
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = (gc_work(), cpu_seconds());
        if now.0 == last.0 && now.1 - last.1 < 0.1 {
            break;
        }
        last = now;
    }
    let rss0 = rss_mb();
    let (w0, c0) = (gc_work(), cpu_seconds());
    let idle = Duration::from_secs(10);
    tokio::time::sleep(idle).await;
    let (w1, c1) = (gc_work(), cpu_seconds());
    println!(
        "idle with {objects} objects: CPU {:.2}% of one core over {}s, controller work items {}, RSS {:.0} MB -> {:.0} MB",
        (c1 - c0) / idle.as_secs_f64() * 100.0,
        idle.as_secs(),
        w1 - w0,
        rss0,
        rss_mb()
    );

    // Garbage collection of 1000 dependents.
    let owner = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let deps: Vec<ConfigMap> = (0..1000)
        .map(|i| serde_json::from_value(json!({"metadata": {"name": format!("dep-{i}"), "labels": {"bench": "dep"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}]}})).unwrap())
        .collect();
    create_all(&cms, deps).await;
    let t = Instant::now();
    cms.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    until(
        "1000 dependents collected",
        Duration::from_secs(300),
        async || {
            cms.list(&ListParams::default().labels("bench=dep").limit(1))
                .await
                .map(|l| l.items.is_empty())
                .unwrap_or(false)
        },
    )
    .await;
    println!(
        "garbage collection: 1000 dependents of a deleted owner gone in {:.2}s",
        t.elapsed().as_secs_f64()
    );

    // The sample controller.
    let gens: Api<controllers::samples::ConfigMapGenerator> =
        Api::namespaced(client.clone(), "default");
    let r0 = metrics.reconciles("sample", "global", true);
    let t = Instant::now();
    futures::stream::iter(0..1000)
        .for_each_concurrent(PARALLEL, |i| {
            let gens = gens.clone();
            async move {
                let g = controllers::samples::ConfigMapGenerator::new(
                    &format!("gen-{i}"),
                    controllers::samples::ConfigMapGeneratorSpec {
                        data: [("i".to_string(), i.to_string())].into(),
                    },
                );
                gens.create(&PostParams::default(), &g)
                    .await
                    .expect("create generator");
            }
        })
        .await;
    until(
        "1000 generators Ready",
        Duration::from_secs(600),
        async || {
            gens.list(&ListParams::default())
                .await
                .map(|l| {
                    l.items
                        .iter()
                        .filter(|g| {
                            g.status
                                .as_ref()
                                .is_some_and(|s| s.conditions.iter().any(|c| c.status == "True"))
                        })
                        .count()
                        == 1000
                })
                .unwrap_or(false)
        },
    )
    .await;
    let secs = t.elapsed().as_secs_f64();
    let reconciles = metrics.reconciles("sample", "global", true) - r0;
    println!(
        "sample controller: 1000 generators created and Ready in {secs:.2}s; {reconciles} reconciles, {:.0} reconciles/s",
        reconciles as f64 / secs
    );
    running.stop().await;
    cp.shutdown().await;
}
