//! Benchmark: 1,000 Deployments (1 replica each) created through the API of an embedded control
//! plane running the simulator → all `Available`. Prints the p50/p99/max latency from a
//! Deployment's create to its `Available=True`, and the total wall time.
//!
//! `cargo bench -p simulator --bench deployments` (release). `SIM_BENCH_N` overrides the count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

fn available(d: &Deployment) -> bool {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
            })
        })
        && d.status.as_ref().and_then(|s| s.available_replicas) == Some(1)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("SIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let client = cp.client("global").unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let sim = tokio::spawn(simulator::run(simulator::ClusterContext {
        name: "global".into(),
        client: client.clone(),
        labels: Default::default(),
        global: true,
        registry: None,
        shutdown: stop.clone(),
        settings: simulator::Settings::default(),
    }));

    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<HashMap<String, Duration>>> = Arc::default();
    let watch = {
        let (created, latencies) = (created.clone(), latencies.clone());
        let api = api.clone();
        tokio::spawn(async move {
            let mut s = watcher(api, watcher::Config::default())
                .applied_objects()
                .boxed();
            while let Ok(Some(d)) = s.try_next().await {
                let name = d.metadata.name.clone().unwrap_or_default();
                if available(&d) {
                    let at = created.lock().unwrap().get(&name).copied();
                    let mut l = latencies.lock().unwrap();
                    if let (Some(t), false) = (at, l.contains_key(&name)) {
                        l.insert(name, t.elapsed());
                        if l.len() == n {
                            return;
                        }
                    }
                }
            }
        })
    };
    let start = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(16, |i| {
            let (api, created) = (api.clone(), created.clone());
            async move {
                let name = format!("bench-{i}");
                let d: Deployment = serde_json::from_value(json!({
                    "metadata": {"name": name},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                             "template": {"metadata": {"labels": {"app": name}},
                                          "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}},
                }))
                .unwrap();
                created.lock().unwrap().insert(name.clone(), Instant::now());
                api.create(&PostParams::default(), &d).await.expect("create");
            }
        })
        .await;
    let created_in = start.elapsed();
    tokio::time::timeout(Duration::from_secs(1800), watch)
        .await
        .expect("all Available within 30 min")
        .unwrap();
    let total = start.elapsed();
    let mut l: Vec<Duration> = latencies.lock().unwrap().values().copied().collect();
    l.sort();
    println!(
        "simulator/deployments: {n} Deployments (1 replica) created in {:.2} s; all Available after {:.2} s",
        created_in.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "simulator/deployments: create → Available latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&l, 0.50).as_secs_f64() * 1e3,
        percentile(&l, 0.99).as_secs_f64() * 1e3,
        l.last().unwrap().as_secs_f64() * 1e3
    );
    stop.cancel();
    let _ = sim.await;
    cp.shutdown().await;
}
