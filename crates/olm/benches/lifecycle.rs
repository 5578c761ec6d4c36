//! Subscription created → CSV `Succeeded` latency over 50 operators on the embedded control
//! plane (as a library, with the kubelet stand-in, a real `docker-registry`, and the OLM sets on
//! the controller host), plus catalog load and resolution figures; then a catalog of 500 packages
//! and the latency of listing its PackageManifests as `kubectl get packagemanifests` asks for them
//! (a Table), measured at the client (target < 5 ms). Prints p50/p99, and the API requests the 50
//! installs made by verb and resource.
//!
//! Run: `cargo bench -p olm --bench lifecycle` (needs docker-registry: scripts/setup).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The marketplace binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use apis::operators::{ClusterServiceVersion, Subscription};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

fn operators() -> usize {
    std::env::var("BENCH_OPERATORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn bundle_files(host: &str, package: &str) -> Vec<(String, Vec<u8>)> {
    let name = format!("{package}.v1.0.0");
    let csv = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": name},
        "spec": {"displayName": package, "version": "1.0.0",
            "installModes": [{"type": "AllNamespaces", "supported": true}, {"type": "OwnNamespace", "supported": true}],
            "install": {"strategy": "deployment", "spec": {
                "permissions": [{"serviceAccountName": package, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}],
                "deployments": [{"name": package, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": package}},
                "template": {"metadata": {"labels": {"app": package}}, "spec": {"serviceAccountName": package,
                    "containers": [{"name": "m", "image": format!("{host}/bench/operator:v1")}]}}}}]}}}
    });
    let ann = format!(
        "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: {package}\n"
    );
    vec![
        (
            format!("manifests/{name}.clusterserviceversion.yaml"),
            serde_json::to_vec(&csv).unwrap(),
        ),
        ("metadata/annotations.yaml".into(), ann.into_bytes()),
    ]
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn main() {
    // The product's runtime (`marketplace serve`): its bounded blocking pool, which this bench's
    // memory and latency figures depend on. `BENCH_MAX_BLOCKING=N` tries another bound.
    let max_blocking = std::env::var("BENCH_MAX_BLOCKING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(apiserver::cluster::blocking_threads);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(max_blocking)
        .build()
        .expect("the async runtime")
        .block_on(run())
}

async fn run() {
    assert!(
        oci::localregistry::which(oci::localregistry::BINARY).is_some(),
        "docker-registry is not installed: run scripts/setup"
    );
    let dir = tempfile::tempdir().unwrap();
    let reg = oci::localregistry::LocalRegistry::start(
        oci::localregistry::Config {
            dir: dir.path().join("registry"),
            ..Default::default()
        },
        Duration::from_secs(30),
    )
    .await
    .expect("docker-registry starts");
    let host = reg.host();
    let mut cfg = apiserver::Config::new(dir.path().join("data"));
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.registry = Some(host.clone());
    let cp = apiserver::ControlPlane::start(cfg)
        .await
        .expect("control plane");
    cp.register_computed("global", olm::packagemanifest::provider("global"))
        .unwrap();
    // Copied CSVs, as `marketplace serve` shows them (`BENCH_COPIES=0`: without, to compare).
    if std::env::var("BENCH_COPIES").as_deref() != Ok("0") {
        cp.register_projection(
            "global",
            olm::copies::GROUP,
            olm::copies::RESOURCE,
            olm::copies::projection(),
        )
        .unwrap();
    }
    // The embedded cluster's own controllers, as `marketplace serve` runs them.
    let mut sets = controllers::serving_sets(cp.ca_pem().map(str::to_string));
    sets.push(simulator::controller_set(|_| simulator::Settings {
        enabled: true,
        nodes: 1,
    }));
    sets.extend(olm::sets());
    let host_run =
        controllers::Host::new(sets)
            .install_crds(true)
            .start(vec![controllers::ClusterTarget {
                name: "global".into(),
                client: cp.client("global").unwrap(),
                labels: Default::default(),
                global: true,
                registry: Some(host.clone()),
            }]);
    let client = cp.client("global").unwrap();

    // Images and the catalog (50 packages).
    olm::image::push(
        &host,
        "bench/operator",
        "v1",
        &[("bin/op".into(), b"x".to_vec())],
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    let mut cat = catalog::Catalog::new();
    for i in 0..operators() {
        let package = format!("bench-op-{i}");
        let files = bundle_files(&host, &package);
        let image = olm::image::push(
            &host,
            &format!("bench/{package}-bundle"),
            "v1.0.0",
            &files,
            &BTreeMap::new(),
        )
        .await
        .unwrap();
        cat.add_bundle(catalog::Bundle::from_registry_v1_files(&image, files, &image).unwrap())
            .unwrap();
    }
    let stream = cat.to_stream();
    let t = Instant::now();
    let parsed =
        catalog::Catalog::from_fbc_files([("configs/catalog.json", stream.as_bytes())]).unwrap();
    println!(
        "catalog parse: {} bundles in {:?}",
        parsed.bundle_count(),
        t.elapsed()
    );
    let image = olm::image::push_catalog(&host, "bench/catalog", "v1", &cat)
        .await
        .unwrap();

    // Wait for the platform catalogs, then point `custom` at the catalog image.
    let cs: Api<apis::operators::CatalogSource> = Api::namespaced(client.clone(), "cpaas-system");
    let start = Instant::now();
    while cs.get_opt("custom").await.ok().flatten().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the custom CatalogSource never appeared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let patch = json!({"spec": {"image": image}});
    cs.patch(
        "custom",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .unwrap();
    let catalogs = olm::state::catalogs("global");
    let t = Instant::now();
    loop {
        let loaded = catalogs.get(&catalog::resolve::SourceKey {
            name: "custom".into(),
            namespace: "cpaas-system".into(),
        });
        if loaded.is_some_and(|l| l.catalog.packages.len() == operators()) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the catalog never loaded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "catalog image pulled and loaded: {:?} (from patch)",
        t.elapsed()
    );

    let before_metrics = request_counts(&client).await;
    // The Subscriptions, one namespace each, created together.
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    for i in 0..operators() {
        let ns =
            serde_json::from_value(json!({"metadata": {"name": format!("bench-{i}")}})).unwrap();
        nss.create(&PostParams::default(), &ns).await.unwrap();
    }
    let mut created = BTreeMap::new();
    for i in 0..operators() {
        let ns = format!("bench-{i}");
        let sub: Subscription = serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
            "metadata": {"name": "s", "namespace": ns, "annotations": {"cpaas.io/target-namespaces": ""}},
            "spec": {"name": format!("bench-op-{i}"), "channel": "stable", "source": "custom", "sourceNamespace": "cpaas-system", "installPlanApproval": "Automatic"}
        }))
        .unwrap();
        Api::<Subscription>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &sub)
            .await
            .unwrap();
        created.insert(ns, Instant::now());
    }
    let csvs: Api<ClusterServiceVersion> = Api::all(client.clone());
    let plans: Api<apis::operators::InstallPlan> = Api::all(client.clone());
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::all(client.clone());
    // When each stage was first seen per namespace (polled every 20 ms, so ±20 ms).
    let mut stages: BTreeMap<&str, BTreeMap<String, Duration>> = BTreeMap::new();
    let seen =
        |stage: &'static str, ns: &str, stages: &mut BTreeMap<&str, BTreeMap<String, Duration>>| {
            if let Some(c) = created.get(ns) {
                stages
                    .entry(stage)
                    .or_default()
                    .entry(ns.to_string())
                    .or_insert_with(|| c.elapsed());
            }
        };
    let mut done: BTreeMap<String, Duration> = BTreeMap::new();
    let t = Instant::now();
    while done.len() < operators() {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "only {} of {} CSVs succeeded",
            done.len(),
            operators()
        );
        for p in plans.list(&ListParams::default()).await.unwrap().items {
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            seen("1 InstallPlan created", &ns, &mut stages);
            if p.status.as_ref().is_some_and(|s| s.phase == "Complete") {
                seen("2 InstallPlan Complete", &ns, &mut stages);
            }
        }
        for d in deployments
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
        {
            let ns = d.metadata.namespace.clone().unwrap_or_default();
            seen("3 Deployment created", &ns, &mut stages);
            if d.status
                .as_ref()
                .is_some_and(|s| s.available_replicas.unwrap_or(0) > 0)
            {
                seen("4 Deployment available", &ns, &mut stages);
            }
        }
        // The originals (each operator's CSV is also shown, copied, in every namespace).
        let originals = ListParams::default().labels("!olm.copiedFrom");
        for c in csvs.list(&originals).await.unwrap().items {
            let ns = c.metadata.namespace.clone().unwrap_or_default();
            if c.status.as_ref().is_some_and(|s| s.phase == "Succeeded") && !done.contains_key(&ns)
            {
                done.insert(ns.clone(), created[&ns].elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after_metrics = request_counts(&client).await;
    let mut lat: Vec<Duration> = done.into_values().collect();
    lat.sort();
    println!(
        "Subscription created -> CSV Succeeded over {} operators (created together): p50 {:?}, p99 {:?}, max {:?}",
        operators(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    );
    for (stage, per_ns) in &stages {
        let mut l: Vec<Duration> = per_ns.values().copied().collect();
        l.sort();
        println!(
            "  {stage}: p50 {:?}, p99 {:?} after the Subscription",
            pct(&l, 0.50),
            pct(&l, 0.99)
        );
    }
    print_request_counts(&before_metrics, &after_metrics);
    many_namespaces(&client).await;
    packagemanifest_lists(&client, &cs, &host).await;
    host_run.stop().await;
    cp.shutdown().await;
    reg.stop().await;
}

/// The API server's request counts by verb and resource (from `/metrics`).
async fn request_counts(client: &kube::Client) -> BTreeMap<String, i64> {
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(req).await.unwrap();
    let mut out = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let (k, v) = l.rsplit_once(' ').unwrap();
        let keep: Vec<&str> = k
            .trim_start_matches("apiserver_request_total{")
            .trim_end_matches('}')
            .split(',')
            .filter(|p| {
                p.starts_with("verb") || p.starts_with("resource") || p.starts_with("subresource")
            })
            .collect();
        *out.entry(keep.join(",")).or_insert(0) += v.parse::<f64>().unwrap() as i64;
    }
    out
}

/// What the 50 installs cost the API server: requests between the two counts, most frequent first
/// (the bench's own polling every 20 ms included).
fn print_request_counts(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) {
    let mut diff: Vec<(i64, &String)> = after
        .iter()
        .map(|(k, v)| (v - before.get(k).copied().unwrap_or(0), k))
        .filter(|(d, _)| *d > 0)
        .collect();
    diff.sort_by(|a, b| b.cmp(a));
    let total: i64 = diff.iter().map(|d| d.0).sum();
    println!(
        "  API requests from the first Subscription to the last CSV Succeeded: {total} ({:.0} per operator); most frequent:",
        total as f64 / operators() as f64
    );
    for (d, k) in diff.iter().take(12) {
        println!("    {d:6} {k}");
    }
}

/// The resident set of this process (the whole product runs in it), in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// With the operators installed for all namespaces, creates `BENCH_NAMESPACES` (default 10,000)
/// namespaces and reports the process's memory once the controllers have seen them all
/// (target < 200 MB for the whole product). Nothing is copied per namespace: not CSVs (each shows
/// in every namespace as OLM's copied CSVs, computed on read by `olm::copies`) and not
/// PackageManifests (computed on read). Then lists the CSVs of the last namespace (the 50 copies)
/// and of all namespaces as kubectl does (pages of 500), with time and memory.
async fn many_namespaces(client: &kube::Client) {
    use futures::StreamExt;
    let n: usize = std::env::var("BENCH_NAMESPACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let before = rss_mb();
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let t = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let nss = nss.clone();
            async move {
                let ns =
                    serde_json::from_value(json!({"metadata": {"name": format!("tenant-{i}")}}))
                        .unwrap();
                nss.create(&PostParams::default(), &ns).await.unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let created = t.elapsed();
    // Settled: a PackageManifest of a global catalog is readable from the last namespace.
    let pms: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        &format!("tenant-{}", n - 1),
        &kube::discovery::ApiResource {
            group: "packages.operators.coreos.com".into(),
            version: "v1".into(),
            api_version: "packages.operators.coreos.com/v1".into(),
            kind: "PackageManifest".into(),
            plural: "packagemanifests".into(),
        },
    );
    let listed = pms.list(&ListParams::default()).await.unwrap().items.len();
    let mut samples = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        samples.push(rss_mb());
    }
    let max = samples.iter().copied().fold(0.0, f64::max);
    println!(
        "{n} namespaces created in {created:?}; {listed} PackageManifests visible in the last one; RSS {before:.1} MB before, {:.1} MB after (max {max:.1} MB over 5 s; target < 200 MB for the whole product)",
        samples[samples.len() - 1]
    );
    csv_lists(client, &format!("tenant-{}", n - 1)).await;
}

/// Lists CSVs in namespace `ns` and in all namespaces (pages of 500, as `kubectl get csv -A`),
/// reporting time, count and the process's RSS (the server computes the copies on read).
async fn csv_lists(client: &kube::Client, ns: &str) {
    let one: Api<ClusterServiceVersion> = Api::namespaced(client.clone(), ns);
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..20 {
        let t = Instant::now();
        count = one.list(&ListParams::default()).await.unwrap().items.len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "kubectl get csv -n {ns}: {count} CSVs (copies), p50 {:?}, p99 {:?}; RSS {:.1} MB",
        pct(&times, 0.50),
        pct(&times, 0.99),
        rss_mb()
    );
    let all: Api<ClusterServiceVersion> = Api::all(client.clone());
    let before = rss_mb();
    let mut max = before;
    let t = Instant::now();
    let (mut items, mut copies, mut pages) = (0usize, 0usize, 0usize);
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = all.list(&lp).await.unwrap();
        pages += 1;
        items += page.items.len();
        copies += page
            .items
            .iter()
            .filter(|c| {
                c.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key("olm.copiedFrom"))
            })
            .count();
        max = max.max(rss_mb());
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    println!(
        "kubectl get csv -A: {items} CSVs ({copies} copies) in {pages} pages of 500, {:?}; RSS {before:.1} MB before, max {max:.1} MB during, {:.1} MB after",
        t.elapsed(),
        rss_mb()
    );
}

/// How many packages the listing catalog has (`BENCH_PACKAGES`, default 500).
fn packages() -> usize {
    std::env::var("BENCH_PACKAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// Points the `system` catalog at an image of `packages()` packages (one bundle each; their
/// bundle images are not pushed, so they list as Absent) and times listing every
/// PackageManifest of `cpaas-system` as kubectl does: `Accept: ...;as=Table`, one GET.
async fn packagemanifest_lists(
    client: &kube::Client,
    cs: &Api<apis::operators::CatalogSource>,
    host: &str,
) {
    let n = packages();
    let mut cat = catalog::Catalog::new();
    for i in 0..n {
        let package = format!("listed-{i}");
        let image = format!("{host}/bench/{package}-bundle:v1.0.0");
        cat.add_bundle(
            catalog::Bundle::from_registry_v1_files(&image, bundle_files(host, &package), &image)
                .unwrap(),
        )
        .unwrap();
    }
    let image = olm::image::push_catalog(host, "bench/listing-catalog", "v1", &cat)
        .await
        .unwrap();
    while cs.get_opt("system").await.ok().flatten().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cs.patch(
        "system",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&json!({"spec": {"image": image}})),
    )
    .await
    .unwrap();
    let catalogs = olm::state::catalogs("global");
    let t = Instant::now();
    let key = catalog::resolve::SourceKey {
        name: "system".into(),
        namespace: "cpaas-system".into(),
    };
    while catalogs
        .get(&key)
        .is_none_or(|l| l.catalog.packages.len() != n)
    {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the {n}-package catalog never loaded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("{n}-package catalog pulled and loaded: {:?}", t.elapsed());
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    let list = || {
        http::Request::get(
            "/apis/packages.operators.coreos.com/v1/namespaces/cpaas-system/packagemanifests?limit=500",
        )
        .header(http::header::ACCEPT, table)
        .body(Vec::new())
        .unwrap()
    };
    let first = client.request_text(list()).await.unwrap();
    let rows = serde_json::from_str::<serde_json::Value>(&first).unwrap()["rows"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        rows >= n,
        "the Table lists {rows} rows, expected at least {n}"
    );
    let mut lat = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let body = client.request_text(list()).await.unwrap();
        lat.push(t.elapsed());
        assert!(!body.is_empty());
    }
    lat.sort();
    println!(
        "kubectl-style Table list of {rows} PackageManifests (200 lists, client-side): p50 {:?}, p99 {:?} (target < 5 ms)",
        pct(&lat, 0.50),
        pct(&lat, 0.99)
    );
    // For comparison: the same list as plain JSON, and one object's Table (the fixed cost).
    for (what, accept, query) in [
        ("JSON list", "application/json", ""),
        (
            "one-object Table",
            table,
            "&fieldSelector=metadata.name%3Dlisted-0",
        ),
    ] {
        let mut lat = Vec::new();
        for _ in 0..200 {
            let req = http::Request::get(format!(
                "/apis/packages.operators.coreos.com/v1/namespaces/cpaas-system/packagemanifests?limit=500{query}"
            ))
            .header(http::header::ACCEPT, accept)
            .body(Vec::new())
            .unwrap();
            let t = Instant::now();
            client.request_text(req).await.unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        println!(
            "  {what}: p50 {:?}, p99 {:?}",
            pct(&lat, 0.50),
            pct(&lat, 0.99)
        );
    }
}
