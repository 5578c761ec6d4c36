//! Rendering benchmark over the whole Helm fixture corpus, beside real Helm in the same run.
//!
//! For every accepted case of `shared/fixtures/helm/cases.json`: our time for `chart::load` +
//! `helm::template` (median of at least 5 runs), and real Helm v4's time for `Chart.load` + the
//! client-only install dry run that `helm template` performs (median of 5, timed inside the
//! oracle process around the native calls), then a table and a summary (median, max, cases
//! where we are faster, peak RSS from getrusage/VmHWM). All of ours run first, then all of
//! Helm's, so neither shares the cores with the other.
//!
//! Beside the corpus, *holdout* cases: charts the corpus does not have (this repository's own test
//! charts: the cluster plugins' charts and the engine's test charts), rendered with their default
//! values by both sides, so the ratios are not only those of the charts the engine was tuned on.
//!
//! Run: `cargo bench -p helm --bench render` (release). `HELM_BENCH_FILTER=<substr>` narrows the
//! cases; `HELM_BENCH_NO_HELM=1` skips the oracle.

/// The marketplace binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/oracle.rs"]
mod oracle;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("MARKETPLACE_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from("../../../shared")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Peak resident set size of this process in KiB (getrusage's ru_maxrss, read from /proc).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Case {
    id: String,
    chart: PathBuf,
    values: Value,
    user: helm::values::Values,
    opts: helm::TemplateOptions,
    name: String,
    kube: String,
    api: Vec<String>,
}

fn load_cases(root: &Path) -> Vec<Case> {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases.json")).unwrap()).unwrap();
    let filter = std::env::var("HELM_BENCH_FILTER").unwrap_or_default();
    let mut out = Vec::new();
    for c in cases["cases"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap().to_string();
        if c["expect"] != "ok" || !id.contains(&filter) {
            continue;
        }
        let (values, user) = if let Some(uv) = c.get("user_values") {
            let v = oracle::as_go_json(uv);
            (v.clone(), v.as_object().cloned().unwrap_or_default())
        } else if let Some(f) = c["values_file"].as_str() {
            let u = helm::read_values_file(&root.join(f)).unwrap();
            (Value::Object(u.clone()), u)
        } else {
            (Value::Null, helm::values::Values::new())
        };
        let api: Vec<String> = c["api_versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        let kube = c["kube_version"].as_str().unwrap().to_string();
        let opts = helm::TemplateOptions {
            render: helm::RenderOptions {
                release: helm::ReleaseOptions {
                    name: c["release_name"].as_str().unwrap().into(),
                    namespace: c["namespace"].as_str().unwrap().into(),
                    ..Default::default()
                },
                capabilities: helm::Capabilities::with(Some(&kube), &api).unwrap(),
                skip_schema_validation: false,
                lookup: None,
            },
            ..Default::default()
        };
        out.push(Case {
            id,
            chart: root.join(c["chart"].as_str().unwrap()),
            values,
            user,
            opts,
            name: c["release_name"].as_str().unwrap().into(),
            kube,
            api,
        });
    }
    out.extend(holdout_cases(&filter));
    out
}

/// Charts of this repository that are not in the corpus, with their default values.
const HOLDOUT: &[&str] = &[
    "../marketplace/tests/plugin_charts/gpu-device-plugin",
    "../marketplace/tests/plugin_charts/web-cli",
    "../marketplace/tests/plugin_charts/demo-v1",
    "../marketplace/tests/plugin_charts/demo-v2",
    "tests/charts/builtins",
    "tests/charts/umbrella",
];

fn holdout_cases(filter: &str) -> Vec<Case> {
    let kube = "v1.31.0".to_string();
    let here = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    );
    HOLDOUT
        .iter()
        .map(|rel| {
            let chart = here.join(rel);
            assert!(
                chart.join("Chart.yaml").is_file(),
                "holdout chart {} is missing",
                chart.display()
            );
            let id = format!("holdout:{}", chart.file_name().unwrap().to_string_lossy());
            let opts = helm::TemplateOptions {
                render: helm::RenderOptions {
                    release: helm::ReleaseOptions {
                        name: "holdout".into(),
                        namespace: "default".into(),
                        ..Default::default()
                    },
                    capabilities: helm::Capabilities::with(Some(&kube), &[]).unwrap(),
                    skip_schema_validation: false,
                    lookup: None,
                },
                ..Default::default()
            };
            Case {
                id,
                chart,
                values: Value::Null,
                user: helm::values::Values::new(),
                opts,
                name: "holdout".into(),
                kube: kube.clone(),
                api: Vec::new(),
            }
        })
        .filter(|c| c.id.contains(filter))
        .collect()
}

/// Runs per case on each side (median taken).
const RUNS: usize = 5;

fn ours_once(c: &Case) -> (f64, bool) {
    let t = Instant::now();
    let ok = helm::chart::load(&c.chart)
        .map_err(|e| e.to_string())
        .and_then(|chart| helm::template(&chart, &c.user, &c.opts).map_err(|e| e.to_string()))
        .is_ok();
    (t.elapsed().as_secs_f64() * 1e3, ok)
}

fn main() {
    let root = shared_dir().join("fixtures/helm");
    let cases = load_cases(&root);
    // Two passes: ours for every case, then real Helm for every case. Interleaving them per case
    // made ours ~40% slower: the Go runtime in the oracle process keeps background threads (GC,
    // spinning schedulers) busy for a while after each call, on the same two cores.
    let mut ours_times = Vec::new();
    for c in &cases {
        // Warm up once, then at least RUNS runs (more, up to 15, while under 300 ms): charts
        // that generate keys take a random time, so both sides get the same minimum sample.
        let (_, ok) = ours_once(c);
        let mut times = Vec::new();
        let start = Instant::now();
        while times.len() < RUNS || (times.len() < 15 && start.elapsed().as_millis() < 300) {
            times.push(ours_once(c).0);
        }
        ours_times.push((median(&mut times), ok));
    }
    let mut helm_oracle = if std::env::var("HELM_BENCH_NO_HELM").is_ok() {
        None
    } else {
        Some(oracle::Oracle::start())
    };
    println!(
        "{:<78} {:>10} {:>10} {:>8}",
        "case", "ours ms", "helm ms", "speedup"
    );
    let mut ours_all = Vec::new();
    let mut rows = Vec::new();
    for (c, &(ours, ok)) in cases.iter().zip(&ours_times) {
        let theirs = helm_oracle.as_mut().map(|o| {
            let mut t = Vec::new();
            for _ in 0..RUNS {
                let a = o.call(&json!({
                    "chart": c.chart, "values": c.values, "name": c.name,
                    "kube_version": c.kube, "api_versions": c.api, "mode": "template",
                }));
                if let Some(s) = a["seconds"].as_f64() {
                    t.push(s * 1e3);
                }
            }
            median(&mut t)
        });
        let speedup = theirs.map(|h| h / ours).unwrap_or(f64::NAN);
        println!(
            "{:<78} {:>10.3} {:>10.3} {:>7.1}x{}",
            c.id,
            ours,
            theirs.unwrap_or(f64::NAN),
            speedup,
            if ok {
                ""
            } else {
                "  (ours refused: engine known failure)"
            }
        );
        ours_all.push(ours);
        rows.push((c.id.clone(), ours, theirs, ok));
    }
    let n = ours_all.len();
    let max = ours_all.iter().cloned().fold(0.0, f64::max);
    let med = median(&mut ours_all.clone());
    let mut helm_times: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.2)
        .filter(|t| t.is_finite())
        .collect();
    let slower: Vec<&(String, f64, Option<f64>, bool)> = rows
        .iter()
        .filter(|r| r.2.is_some_and(|h| h <= r.1))
        .collect();
    println!("\n== render benchmark: {n} accepted fixture cases ==");
    println!("ours  (load + template): median {med:.3} ms, max {max:.3} ms");
    if !helm_times.is_empty() {
        let hmax = helm_times.iter().cloned().fold(0.0, f64::max);
        println!(
            "helm  (load + install dry run): median {:.3} ms, max {hmax:.3} ms",
            median(&mut helm_times)
        );
        println!("faster than Helm on {}/{n} cases", n - slower.len());
        for r in &slower {
            println!(
                "  not faster: {} ours {:.3} ms vs helm {:.3} ms",
                r.0,
                r.1,
                r.2.unwrap()
            );
        }
    }
    // Where the time goes in the ten slowest cases: loading, values (dependencies, coalescing,
    // schema), the template engine, and splitting/sorting.
    let mut slowest: Vec<&(String, f64, Option<f64>, bool)> = rows.iter().filter(|r| r.3).collect();
    slowest.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    println!("\nphases of the 10 slowest cases (ms): load / values+schema / engine / sort");
    for r in slowest.iter().take(10) {
        let c = cases.iter().find(|c| c.id == r.0).unwrap();
        let t = Instant::now();
        let chart = helm::chart::load(&c.chart).unwrap();
        let t_load = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let (prepared, vals) = helm::render::prepare(&chart, &c.user, &c.opts.render).unwrap();
        let t_vals = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let rendered = helm::render::render_prepared(&prepared, &vals, &c.opts.render).unwrap();
        let t_engine = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let _ = helm::manifest::sort_manifests(&rendered);
        let t_sort = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "  {:<70} {t_load:>8.2} {t_vals:>8.2} {t_engine:>8.2} {t_sort:>8.2}",
            c.id
        );
    }
    println!(
        "peak RSS (VmHWM, includes the whole corpus run): {} KiB",
        peak_rss_kib().map_or("?".into(), |k| k.to_string())
    );
    // The targets: median < 1.5 ms, max < 200 ms, every case (holdout included) at least
    // 2x faster than Helm, peak RSS < 100 MB.
    let below_2x: Vec<&(String, f64, Option<f64>, bool)> = rows
        .iter()
        .filter(|r| r.2.is_some_and(|h| h < 2.0 * r.1))
        .collect();
    let holdout: Vec<&(String, f64, Option<f64>, bool)> = rows
        .iter()
        .filter(|r| r.0.starts_with("holdout:"))
        .collect();
    if helm_oracle.is_some() {
        println!("\nholdout cases (charts the corpus does not have):");
        for r in &holdout {
            println!(
                "  {:<40} ours {:>8.3} ms  helm {:>8.3} ms  {:>5.1}x",
                r.0,
                r.1,
                r.2.unwrap_or(f64::NAN),
                r.2.map_or(f64::NAN, |h| h / r.1)
            );
        }
        println!("cases below 2x: {} of {n}", below_2x.len());
        for r in &below_2x {
            println!(
                "  {} ours {:.3} ms vs helm {:.3} ms ({:.2}x)",
                r.0,
                r.1,
                r.2.unwrap(),
                r.2.unwrap() / r.1
            );
        }
    }
    let rss_mb = peak_rss_kib().map_or(f64::NAN, |k| k as f64 / 1024.0);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("targets: median < 1.5 ms: {}", verdict(med < 1.5));
    println!("         max < 200 ms: {}", verdict(max < 200.0));
    println!("         peak RSS < 100 MB: {}", verdict(rss_mb < 100.0));
    if helm_oracle.is_some() {
        println!(
            "         every case >= 2x faster than Helm: {}",
            verdict(below_2x.is_empty())
        );
    }
}
