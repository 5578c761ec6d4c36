//! Catalog benchmark (prints its figures; `cargo bench -p catalog`).
//!
//! * load every registry+v1 bundle of the shared OLM fixtures (554 bundles) and the official
//!   file-based catalogs;
//! * a generated file-based catalog of 10,000 bundles in 500 packages (20 versions each, with
//!   `olm.gvk`, `olm.package.required`/`olm.gvk.required` dependencies and a 2 KiB
//!   `olm.csv.metadata` per bundle, as real catalogs carry): load time from disk and peak RSS
//!   (targets: < 2 s, < 300 MB);
//! * resolution latency p50/p99 on that catalog: a fresh install with dependencies and an
//!   upgrade of an installed CSV (target p99 < 20 ms), wall clock and time on CPU.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use catalog::Catalog;
use catalog::resolve::{self, Installed, Source, SubscriptionRequest};
use serde_json::{Value, json};

const PACKAGES: usize = 500;
const VERSIONS: usize = 20;

fn main() {
    fixture_bundles();
    let dir = tempdir();
    let bytes = generate(&dir);
    let (cat, load) = load_generated(&dir, bytes);
    resolution(&cat);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        load < Duration::from_secs(2),
        "10,000-bundle catalog loaded in {load:?} (target < 2 s)"
    );
}

fn shared() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(
                &std::env::var("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../../shared")
        });
    let dir = base.join("fixtures/olm");
    assert!(
        dir.join("bundles").is_dir(),
        "the shared OLM fixtures are missing at {}; set MARKETPLACE_SHARED",
        dir.display()
    );
    dir
}

fn fixture_bundles() {
    let root = shared();
    let t = Instant::now();
    let (mut ok, mut refused) = (0, 0);
    let mut pkgs: Vec<PathBuf> = std::fs::read_dir(root.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pkgs.sort();
    for pkg in &pkgs {
        for v in std::fs::read_dir(pkg)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
        {
            if let Some(d) = catalog::community::bundle_dir_of(&v) {
                match catalog::Bundle::from_registry_v1_dir(&d) {
                    Ok(_) => ok += 1,
                    Err(_) => refused += 1,
                }
            }
        }
    }
    let bundles = t.elapsed();
    let t = Instant::now();
    let mut published = 0;
    for pkg in &pkgs {
        if catalog::community::render_package_dir(pkg).is_ok() {
            published += 1;
        }
    }
    let publish = t.elapsed();
    let t = Instant::now();
    let fbc = Catalog::from_fbc_dir(&root.join("fbc/v4.22")).unwrap();
    let fbc_time = t.elapsed();
    println!(
        "fixture bundles: {ok} loaded, {refused} refused, in {:.0} ms",
        ms(bundles)
    );
    println!(
        "fixture packages published as catalogs (community rules): {published} in {:.0} ms",
        ms(publish)
    );
    println!(
        "fixture FBCs (fbc/v4.22): {} packages, {} bundles in {:.1} ms",
        fbc.packages.len(),
        fbc.bundle_count(),
        ms(fbc_time)
    );
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("catalog-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pkg_name(i: usize) -> String {
    format!("operator-{i:03}")
}

/// One JSON-stream file per package; returns the total size.
fn generate(dir: &Path) -> usize {
    let filler = "x".repeat(2048);
    let mut total = 0;
    for p in 0..PACKAGES {
        let name = pkg_name(p);
        let mut blobs =
            vec![json!({"schema": "olm.package", "name": name, "defaultChannel": "stable"})];
        let entries: Vec<Value> = (0..VERSIONS)
            .map(|v| {
                let mut e = json!({"name": format!("{name}.v1.{v}.0")});
                if v > 0 {
                    e["replaces"] = json!(format!("{name}.v1.{}.0", v - 1));
                    e["skipRange"] = json!(format!(">=1.0.0 <1.{v}.0"));
                }
                e
            })
            .collect();
        blobs.push(
            json!({"schema": "olm.channel", "name": "stable", "package": name, "entries": entries}),
        );
        for v in 0..VERSIONS {
            let mut props = vec![
                json!({"type": "olm.package", "value": {"packageName": name, "version": format!("1.{v}.0")}}),
                json!({"type": "olm.gvk", "value": {"group": format!("{name}.example.com"), "kind": "Widget", "version": "v1"}}),
                json!({"type": "olm.gvk", "value": {"group": format!("{name}.example.com"), "kind": "Gadget", "version": "v1"}}),
            ];
            // Every package needs the next one's API and the one after that in a range: chains
            // of dependencies, resolved transitively.
            if p + 1 < PACKAGES && p % 10 != 9 {
                props.push(json!({"type": "olm.gvk.required", "value": {"group": format!("{}.example.com", pkg_name(p + 1)), "kind": "Widget", "version": "v1"}}));
            }
            if p + 2 < PACKAGES && p % 10 < 8 {
                props.push(json!({"type": "olm.package.required", "value": {"packageName": pkg_name(p + 2), "versionRange": ">=1.5.0 <2.0.0"}}));
            }
            props.push(json!({"type": "olm.csv.metadata", "value": {"displayName": name, "description": filler, "provider": {"name": "bench"}}}));
            blobs.push(json!({"schema": "olm.bundle", "name": format!("{name}.v1.{v}.0"), "package": name,
                              "image": format!("registry.example.com/{name}-bundle@sha256:{:064x}", p * 100 + v), "properties": props,
                              "relatedImages": [{"name": "operator", "image": format!("registry.example.com/{name}:1.{v}.0")}]}));
        }
        let text: String = blobs.iter().map(|b| b.to_string() + "\n").collect();
        total += text.len();
        let d = dir.join(&name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("catalog.json"), text).unwrap();
    }
    total
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn load_generated(dir: &Path, bytes: usize) -> (Catalog, Duration) {
    // Reset the peak-RSS mark so it measures the load alone (Linux: clear_refs "5").
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:");
    let t = Instant::now();
    let cat = Catalog::from_fbc_dir(dir).unwrap();
    let load = t.elapsed();
    let peak = status_kib("VmHWM:");
    let after = status_kib("VmRSS:");
    assert_eq!(cat.bundle_count(), PACKAGES * VERSIONS);
    println!(
        "generated catalog: {} packages, {} bundles, {:.1} MB of JSON on disk: loaded in {:.0} ms; RSS {:.0} MB before, {:.0} MB after, peak {:.0} MB{}",
        cat.packages.len(),
        cat.bundle_count(),
        bytes as f64 / 1e6,
        ms(load),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        peak as f64 / 1024.0,
        if reset {
            ""
        } else {
            " (peak since process start: clear_refs unavailable)"
        }
    );
    (cat, load)
}

/// This thread's time on a CPU (`CLOCK_THREAD_CPUTIME_ID`): what the work cost without the
/// waits for a CPU that a loaded, shared machine adds to the wall clock.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times `f`: (wall clock, time on CPU, result).
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, Duration, T) {
    let c = cpu_time();
    let t = Instant::now();
    let out = f();
    (t.elapsed(), cpu_time().saturating_sub(c), out)
}

fn resolution(cat: &Catalog) {
    let srcs = [Source::new("bench", "olm", cat)];
    let (mut install, mut install_cpu) = (Vec::new(), Vec::new());
    let mut steps = 0;
    for i in 0..1000 {
        let req = SubscriptionRequest {
            name: "s".into(),
            package: pkg_name((i * 7) % PACKAGES),
            ..Default::default()
        };
        let (wall, cpu, n) = timed(|| resolve::resolve(&srcs, &[], &[req]).map(|r| r.steps.len()));
        install.push(wall);
        install_cpu.push(cpu);
        steps += n.unwrap_or(0);
    }
    let (mut upgrade, mut upgrade_cpu) = (Vec::new(), Vec::new());
    for i in 0..1000 {
        let p = pkg_name((i * 13) % PACKAGES);
        let from = format!("{p}.v1.{}.0", i % (VERSIONS - 1));
        let installed = [Installed {
            csv: from.clone(),
            package: Some(p.clone()),
            version: catalog::parse_version(&format!("1.{}.0", i % (VERSIONS - 1))).ok(),
            provides: vec![],
        }];
        let req = SubscriptionRequest {
            name: "s".into(),
            package: p,
            installed_csv: Some(from),
            ..Default::default()
        };
        let (wall, cpu, n) = timed(|| {
            resolve::resolve(&srcs, &installed, &[req])
                .expect("upgrade resolves")
                .steps
                .len()
        });
        upgrade.push(wall);
        upgrade_cpu.push(cpu);
        assert!(n > 0);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();
    let (p50, p99) = pct(&mut install);
    let (b50, b99) = pct(&mut install_cpu);
    println!(
        "resolve a fresh install (dependency chains, {:.1} bundles per answer): p50 {p50:.3} ms, p99 {p99:.3} ms; on CPU: p50 {b50:.3} ms, p99 {b99:.3} ms (load average {load})",
        steps as f64 / 1000.0
    );
    let (u50, u99) = pct(&mut upgrade);
    let (c50, c99) = pct(&mut upgrade_cpu);
    println!(
        "resolve an upgrade of an installed CSV (with its dependencies): p50 {u50:.3} ms, p99 {u99:.3} ms; on CPU: p50 {c50:.3} ms, p99 {c99:.3} ms"
    );
}

fn pct(v: &mut [Duration]) -> (f64, f64) {
    v.sort();
    (ms(v[v.len() / 2]), ms(v[v.len() * 99 / 100]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
