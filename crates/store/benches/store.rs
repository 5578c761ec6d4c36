//! Store benchmark (`cargo bench -p store`): durable write rates (1 and 16 writers, single and
//! batched transactions), get and list latency at 10,000 objects, watch fan-out delivery latency,
//! and reopen time. Prints its figures; no pass/fail.
//!
//! `STORE_BENCH_SCALE` (default 1.0) scales the operation counts, e.g. 0.2 for a quick run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::{Key, ListQuery, Store, StoreOptions};

fn scale(n: usize) -> usize {
    let f: f64 = std::env::var("STORE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64 * f) as usize).max(1)
}

/// A ConfigMap-sized object (~600 bytes of JSON), like what the API server stores.
fn object(ns: &str, name: &str, n: u64) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {
            "name": name, "namespace": ns, "uid": "3f2a6c1e-8b7d-4e0a-9c5b-2d1e0f9a8b7c",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "bench", "tier": if n.is_multiple_of(2) { "even" } else { "odd" }},
            "annotations": {"marketplace.io/note": "x".repeat(200)}
        },
        "data": {"n": n.to_string(), "payload": "y".repeat(200)}
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn fmt_d(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn open(dir: &std::path::Path, name: &str) -> Store {
    Store::open(&dir.join(name), StoreOptions::default()).expect("open store")
}

/// `clients` threads each doing `per_client` single-object creates. Returns writes/s.
fn creates(store: &Store, clients: usize, per_client: usize, tag: &str) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let s = store.clone();
            let tag = tag.to_string();
            std::thread::spawn(move || {
                for i in 0..per_client {
                    let name = format!("{tag}-{c}-{i}");
                    let k = Key::new("configmaps", "bench", &name);
                    s.write(|t| t.create(&k, object("bench", &name, i as u64)))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (clients * per_client) as f64 / start.elapsed().as_secs_f64()
}

/// `clients` threads each updating its own object `per_client` times with a precondition.
fn updates(store: &Store, clients: usize, per_client: usize) -> f64 {
    let keys: Vec<Key> = (0..clients)
        .map(|c| {
            let name = format!("upd-{clients}-{c}");
            let k = Key::new("configmaps", "bench", &name);
            store
                .write(|t| t.create(&k, object("bench", &name, 0)))
                .unwrap();
            k
        })
        .collect();
    let start = Instant::now();
    let handles: Vec<_> = keys
        .into_iter()
        .map(|k| {
            let s = store.clone();
            std::thread::spawn(move || {
                for i in 1..=per_client {
                    let cur = s.get(&k).unwrap().unwrap();
                    let v = object(&k.namespace, &k.name, i as u64);
                    s.write(|t| t.update(&k, v, Some(cur.revision))).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (clients * per_client) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let dir = tempfile::tempdir().expect("temp dir");
    println!("store benchmark (data in {})", dir.path().display());
    println!("{:-<72}", "");

    // Durable writes.
    for clients in [1usize, 16] {
        let s = open(dir.path(), &format!("creates-{clients}.db"));
        let per = scale(if clients == 1 { 1000 } else { 250 });
        let rate = creates(&s, clients, per, "c");
        println!(
            "durable creates, {clients:>2} client(s):  {rate:>9.0} writes/s  ({} writes)",
            clients * per
        );
        let per = scale(if clients == 1 { 1000 } else { 250 });
        let rate = updates(&s, clients, per);
        println!(
            "durable updates, {clients:>2} client(s):  {rate:>9.0} writes/s  ({} writes, with precondition)",
            clients * per
        );
    }
    {
        let s = open(dir.path(), "batched.db");
        let batches = scale(100);
        let start = Instant::now();
        for b in 0..batches {
            s.write(|t| {
                for i in 0..100 {
                    let name = format!("b-{b}-{i}");
                    t.create(
                        &Key::new("configmaps", "bench", &name),
                        object("bench", &name, i),
                    )?;
                }
                Ok(())
            })
            .unwrap();
        }
        let el = start.elapsed().as_secs_f64();
        println!(
            "batched creates (100/txn):     {:>9.0} objects/s ({:.0} txn/s)",
            (batches * 100) as f64 / el,
            batches as f64 / el
        );
    }
    println!("{:-<72}", "");

    // Reads at 10,000 objects.
    let s = open(dir.path(), "reads.db");
    let n = scale(10_000);
    for chunk in 0..n.div_ceil(500) {
        s.write(|t| {
            for i in chunk * 500..((chunk + 1) * 500).min(n) {
                let name = format!("obj-{i:05}");
                t.create(
                    &Key::new("configmaps", "bench", &name),
                    object("bench", &name, i as u64),
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    let mut lat = Vec::new();
    for i in 0..scale(20_000) {
        let k = Key::new("configmaps", "bench", format!("obj-{:05}", (i * 7919) % n));
        let t = Instant::now();
        let got = s.get(&k).unwrap();
        lat.push(t.elapsed());
        assert!(got.is_some());
    }
    lat.sort();
    println!(
        "get ({n} objects):             p50 {}  p99 {}",
        fmt_d(percentile(&lat, 0.5)),
        fmt_d(percentile(&lat, 0.99))
    );
    for (label, limit) in [("full list", None), ("page of 500", Some(500))] {
        let mut lat = Vec::new();
        for _ in 0..20 {
            let q = ListQuery {
                limit,
                ..ListQuery::in_namespace("configmaps", "bench")
            };
            let t = Instant::now();
            let page = s.list(&q).unwrap();
            lat.push(t.elapsed());
            assert_eq!(page.items.len(), limit.unwrap_or(n).min(n));
        }
        lat.sort();
        println!(
            "list {label:<12} of {n}:     p50 {}  p99 {}",
            fmt_d(percentile(&lat, 0.5)),
            fmt_d(percentile(&lat, 0.99))
        );
    }
    // The later pages of a paged list whose first page was read before 1,000 more writes: read at
    // the first page's revision (the writes undone from the history).
    let q500 = ListQuery {
        limit: Some(500),
        ..ListQuery::in_namespace("configmaps", "bench")
    };
    let first = s.list(&q500).unwrap();
    for i in 0..1000 {
        let key = Key::new("configmaps", "bench", format!("obj-{:05}", (i * 7) % n));
        let cur = s.get(&key).unwrap().unwrap();
        let mut v = cur.value.clone();
        v["data"]["x"] = json!(i.to_string());
        s.write(|t| t.update(&key, v, Some(cur.revision))).unwrap();
    }
    let mut lat = Vec::new();
    for _ in 0..20 {
        let q = ListQuery {
            start_after: first.next_start(),
            ..q500.clone()
        };
        let t = Instant::now();
        let page = s.list_matching_at(&q, first.revision, |_| true).unwrap();
        lat.push(t.elapsed());
        assert_eq!(page.items.len(), n.saturating_sub(500).min(500));
        assert!(page.items.iter().all(|i| i.revision <= first.revision));
    }
    lat.sort();
    println!(
        "page of 500 at a past revision (1,000 writes since): p50 {}  p99 {}",
        fmt_d(percentile(&lat, 0.5)),
        fmt_d(percentile(&lat, 0.99))
    );
    drop(s);
    let t = Instant::now();
    let s = open(dir.path(), "reads.db");
    println!("reopen with {n} objects:      {}", fmt_d(t.elapsed()));
    drop(s);
    println!("{:-<72}", "");

    // Watch fan-out: W watchers, E events written one per transaction. Two latencies per delivery:
    // from just before the write (includes the ~fsync commit) and from the write's acknowledgement
    // (the fan-out itself; 0 if the watcher saw it before the writer returned).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for watchers in [1usize, 100] {
        let s = open(dir.path(), &format!("watch-{watchers}.db"));
        let events = scale(500);
        let base = Instant::now();
        let tasks: Vec<_> = (0..watchers)
            .map(|_| {
                let mut w = s.watch("configmaps", 0).unwrap();
                rt.spawn(async move {
                    let mut got = Vec::with_capacity(events);
                    while got.len() < events {
                        let ev = w.next().await.unwrap().unwrap();
                        let i = ev.object["i"].as_u64().unwrap() as usize;
                        got.push((i, base.elapsed()));
                    }
                    got
                })
            })
            .collect();
        let mut sent = Vec::with_capacity(events);
        let mut acked = Vec::with_capacity(events);
        let start = Instant::now();
        for i in 0..events {
            let name = format!("w-{i}");
            let k = Key::new("configmaps", "bench", &name);
            let mut v = object("bench", &name, i as u64);
            v["i"] = json!(i);
            sent.push(base.elapsed());
            s.write(|t| t.create(&k, v)).unwrap();
            acked.push(base.elapsed());
        }
        let got: Vec<(usize, Duration)> = rt.block_on(async {
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all
        });
        let el = start.elapsed();
        let mut from_write: Vec<Duration> = got
            .iter()
            .map(|(i, r)| r.saturating_sub(sent[*i]))
            .collect();
        let mut from_ack: Vec<Duration> = got
            .iter()
            .map(|(i, r)| r.saturating_sub(acked[*i]))
            .collect();
        from_write.sort();
        from_ack.sort();
        println!(
            "watch fan-out {watchers:>3} watcher(s): {} deliveries in {}",
            got.len(),
            fmt_d(el)
        );
        println!(
            "  latency from write start: p50 {}  p99 {};  from acknowledgement: p50 {}  p99 {}",
            fmt_d(percentile(&from_write, 0.5)),
            fmt_d(percentile(&from_write, 0.99)),
            fmt_d(percentile(&from_ack, 0.5)),
            fmt_d(percentile(&from_ack, 0.99))
        );
    }
}
