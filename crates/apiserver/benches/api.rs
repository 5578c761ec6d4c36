//! API benchmark (harness = false): starts the control plane in this process on a loopback port with
//! TLS and measures, through kube-rs clients over loopback TLS with the admin token:
//! start-up time, durable creates/s and updates/s with 1 and 16 concurrent clients, list latency at
//! N objects (with and without a label selector), a paged list (limit 500) with writes between its
//! pages (served from the first page's snapshot), watch delivery latency p50/p99, and the process
//! RSS (server and client share this process, so RSS is an upper bound for the server).
//!
//! `cargo bench -p apiserver --bench api` (env `BENCH_OBJECTS`, default 10000).

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn cm(name: &str, i: usize) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"bench": "yes", "parity": if i.is_multiple_of(2) { "even" } else { "odd" }}},
        "data": {"i": i.to_string(), "payload": "x".repeat(200)},
    }))
    .unwrap()
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn client(cp: &apiserver::ControlPlane) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(cp.kubeconfig_path("global")).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

async fn creates(cp: &apiserver::ControlPlane, ns: &str, total: usize, conc: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let api: Api<ConfigMap> = Api::namespaced(client(cp).await, ns);
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(conc) {
                api.create(&PostParams::default(), &cm(&format!("cm-{i}"), i))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn updates(cp: &apiserver::ControlPlane, ns: &str, total: usize, conc: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let api: Api<ConfigMap> = Api::namespaced(client(cp).await, ns);
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(conc) {
                let name = format!("cm-{i}");
                let mut o = api.get(&name).await.unwrap();
                o.data
                    .get_or_insert_default()
                    .insert("u".into(), "1".into());
                api.replace(&name, &PostParams::default(), &o)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_OBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let t0 = Instant::now();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let startup = t0.elapsed();
    let idle_rss = rss_mb();
    let c = client(&cp).await;
    for ns in ["b1", "b16"] {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c.clone());
        api.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .unwrap();
    }
    let small = (n / 10).clamp(100, 1000);
    let c1 = creates(&cp, "b1", small, 1).await;
    let c16 = creates(&cp, "b16", n, 16).await;
    let u1 = updates(&cp, "b1", small, 1).await;
    let u16 = updates(&cp, "b16", small.min(n), 16).await;

    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "b16");
    let mut all = Vec::new();
    let mut sel = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let l = api.list(&ListParams::default()).await.unwrap();
        all.push(t.elapsed());
        assert_eq!(l.items.len(), n);
        let t = Instant::now();
        let l = api
            .list(&ListParams::default().labels("parity=even"))
            .await
            .unwrap();
        sel.push(t.elapsed());
        assert_eq!(l.items.len(), n.div_ceil(2));
    }

    // Paged list (limit 500, as kubectl pages) with a create between pages: later pages are read at
    // the first page's revision, so the list is one snapshot of exactly n objects.
    let mut paged = Vec::new();
    let mut extra = 0;
    for _ in 0..3 {
        // Objects created during one paged list show up only in the next one.
        let expected = n + extra;
        let t = Instant::now();
        let mut lp = ListParams::default().limit(500);
        let mut seen = 0;
        loop {
            let page = api.list(&lp).await.unwrap();
            seen += page.items.len();
            api.create(&PostParams::default(), &cm(&format!("late-{extra}"), extra))
                .await
                .unwrap();
            extra += 1;
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = ListParams::default().limit(500).continue_token(&c),
                None => break,
            }
        }
        paged.push(t.elapsed());
        assert_eq!(seen, expected, "one snapshot per paged list");
    }

    // Watch delivery latency: time from issuing a create to receiving its ADDED event.
    let wapi: Api<ConfigMap> = Api::namespaced(c.clone(), "b1");
    let rv = wapi
        .list(&ListParams::default().limit(1))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = wapi
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut lat = Vec::new();
    for i in 0..200 {
        let t = Instant::now();
        wapi.create(&PostParams::default(), &cm(&format!("w-{i}"), i))
            .await
            .unwrap();
        loop {
            match stream.next().await {
                Some(Ok(WatchEvent::Added(o)))
                    if o.metadata.name.as_deref() == Some(&format!("w-{i}")) =>
                {
                    break;
                }
                Some(Ok(_)) => continue,
                other => panic!("watch ended: {other:?}"),
            }
        }
        lat.push(t.elapsed());
    }
    let loaded_rss = rss_mb();
    println!(
        "marketplace apiserver benchmark (loopback TLS, kube-rs clients, durable SQLite store)"
    );
    println!(
        "  start-up                     {:>10.1} ms",
        startup.as_secs_f64() * 1e3
    );
    println!("  idle RSS (whole process)     {:>10.1} MB", idle_rss);
    println!(
        "  creates/s, 1 client          {:>10.0}   ({small} objects)",
        c1
    );
    println!(
        "  creates/s, 16 clients        {:>10.0}   ({n} objects)",
        c16
    );
    println!(
        "  updates/s, 1 client          {:>10.0}   (get + replace)",
        u1
    );
    println!(
        "  updates/s, 16 clients        {:>10.0}   (get + replace)",
        u16
    );
    println!(
        "  list {n} objects, p50        {:>10.1} ms",
        pct(&mut all, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "  list with label selector p50 {:>10.1} ms   ({} matches)",
        pct(&mut sel, 0.5).as_secs_f64() * 1e3,
        n.div_ceil(2)
    );
    println!(
        "  paged list (limit 500, create between pages) p50 {:>8.1} ms",
        pct(&mut paged, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "  watch create->event p50      {:>10.2} ms",
        pct(&mut lat, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "  watch create->event p99      {:>10.2} ms",
        pct(&mut lat, 0.99).as_secs_f64() * 1e3
    );
    println!("  RSS after load               {:>10.1} MB", loaded_rss);
    cp.shutdown().await;
}
