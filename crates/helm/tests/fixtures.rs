//! Runs every case of the Helm differential corpus (`shared/fixtures/helm/cases.json`) through
//! `helm::template` and compares with what real Helm v4.2.3 produced.
//!
//! A render case passes when
//! - our release manifest (install order, hooks apart) has the same documents, in the same order, with
//!   the same `# Source:` paths, as Helm's `<id>.manifest.yaml`, each document compared after YAML
//!   parsing, and
//! - our path-ordered stream (hooks included) equals `<id>.yaml` document by document,
//!
//! with templates listed in `nondeterministic_templates` compared by presence only. Byte equality of
//! the manifest and of the raw engine render (`<id>.render.json`) is counted separately. A refused case
//! passes when we refuse it too; whether our message equals Helm's is counted separately.
//!
//! `tests/known-failures.txt` lists case ids (with a reason) that may fail; any other failure fails the
//! test, and a listed case that now passes is reported so it can be removed from the list.
//! Set `HELM_FIXTURE_FILTER=<substring>` to run a subset and `HELM_FIXTURE_VERBOSE=1` for diffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

#[path = "support/oracle.rs"]
mod oracle;
use oracle::as_go_json;

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("MARKETPLACE_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from("../../../shared")
}

fn read_maybe_gz(path: &Path) -> String {
    let data =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&data[..])
            .read_to_string(&mut s)
            .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
        s
    } else {
        String::from_utf8_lossy(&data).into_owned()
    }
}

/// Splits a `---\n# Source: p\n...` stream into (path, document) pairs.
fn split_stream(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in s.split("---\n# Source: ").skip(1) {
        let (path, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
        out.push((path.to_string(), rest.to_string()));
    }
    out
}

fn parse_doc(doc: &str) -> Result<Value, String> {
    helm::yaml::to_json(doc).map_err(|e| e.to_string())
}

/// Compares two document streams; `Err` describes the first difference.
fn compare_streams(
    ours: &[(String, String)],
    theirs: &[(String, String)],
    nondeterministic: &BTreeSet<String>,
    what: &str,
) -> Result<(), String> {
    if ours.len() != theirs.len() {
        let op: Vec<&str> = ours.iter().map(|d| d.0.as_str()).collect();
        let tp: Vec<&str> = theirs.iter().map(|d| d.0.as_str()).collect();
        let missing: Vec<&&str> = tp.iter().filter(|p| !op.contains(p)).take(3).collect();
        let extra: Vec<&&str> = op.iter().filter(|p| !tp.contains(p)).take(3).collect();
        return Err(format!(
            "{what}: {} documents, Helm has {} (missing from ours: {missing:?}, extra: {extra:?})",
            ours.len(),
            theirs.len()
        ));
    }
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        if o.0 != t.0 {
            return Err(format!(
                "{what}: document {i} comes from {}, Helm's from {}",
                o.0, t.0
            ));
        }
        if nondeterministic.contains(&o.0) {
            continue;
        }
        let ov = parse_doc(&o.1);
        let tv = parse_doc(&t.1);
        if ov != tv {
            return Err(format!(
                "{what}: document {i} of {} differs{}",
                o.0,
                first_diff(&o.1, &t.1)
            ));
        }
    }
    Ok(())
}

fn first_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!(
                " at line {}: ours {:?} vs Helm {:?}",
                i + 1,
                trunc(x),
                trunc(y)
            );
        }
    }
    format!(
        " (line counts {} vs {})",
        a.lines().count(),
        b.lines().count()
    )
}

fn trunc(s: &str) -> String {
    s.chars().take(120).collect()
}

#[derive(Default)]
struct Outcome {
    pass: bool,
    manifest_bytes_equal: bool,
    render_bytes_equal: bool,
    error_text_equal: bool,
    refused: bool,
    millis: u128,
    failure: Option<String>,
}

fn run_case(root: &Path, case: &Value) -> Outcome {
    let mut out = Outcome::default();
    let s = |k: &str| {
        case.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let chart_path = root.join(s("chart"));
    let expect_ok = s("expect") == "ok";
    let nondeterministic: BTreeSet<String> = case
        .get("nondeterministic_templates")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();

    let result = (|| -> Result<helm::TemplateOutput, String> {
        let chart = helm::chart::load(&chart_path).map_err(|e| e.to_string())?;
        let user: helm::values::Values = if let Some(uv) = case.get("user_values") {
            // --set cases: check our --set parser agrees with the values Helm was given.
            if let Some(sets) = case.get("set").and_then(Value::as_array) {
                let mut ours = helm::values::Values::new();
                for e in sets.iter().filter_map(Value::as_str) {
                    helm::values::parse_set(e, &mut ours).map_err(|e| format!("--set: {e}"))?;
                }
                if as_go_json(&Value::Object(ours)) != as_go_json(uv) {
                    return Err(format!("--set parse differs from Helm's values {uv}"));
                }
            }
            as_go_json(uv).as_object().cloned().unwrap_or_default()
        } else if let Some(f) = case.get("values_file").and_then(Value::as_str) {
            helm::read_values_file(&root.join(f))?
        } else {
            helm::values::Values::new()
        };
        let api: Vec<String> = case
            .get("api_versions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let kv = s("kube_version");
        let caps = helm::Capabilities::with((!kv.is_empty()).then_some(kv.as_str()), &api)?;
        let opts = helm::TemplateOptions {
            render: helm::RenderOptions {
                release: helm::ReleaseOptions {
                    name: s("release_name"),
                    namespace: s("namespace"),
                    ..Default::default()
                },
                capabilities: caps,
                skip_schema_validation: false,
                lookup: None,
            },
            ..Default::default()
        };
        helm::template(&chart, &user, &opts).map_err(|e| e.to_string())
    })();

    match (expect_ok, result) {
        (false, Err(msg)) => {
            out.pass = true;
            out.refused = true;
            let err = case.get("error").cloned().unwrap_or_default();
            out.error_text_equal = ["render", "install", "cli"].iter().any(|k| {
                err.get(k)
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .is_some_and(|m| !m.is_empty() && m == msg)
            });
        }
        (false, Ok(_)) => {
            let err = case.get("error").cloned().unwrap_or_default();
            let msg = ["install", "render", "cli"]
                .iter()
                .filter_map(|k| err.get(k)?.get("message")?.as_str())
                .find(|m| !m.is_empty())
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            out.failure = Some(format!("accepted, Helm refuses: {}", trunc(&msg)));
        }
        (true, Err(msg)) => {
            out.failure = Some(format!("refused: {}", msg.lines().next().unwrap_or("")));
        }
        (true, Ok(ours)) => {
            let mut problems = Vec::new();
            if let Some(m) = case.get("expected_manifest").and_then(Value::as_str) {
                let theirs = read_maybe_gz(&root.join(m));
                out.manifest_bytes_equal = theirs == ours.manifest;
                if let Err(e) = compare_streams(
                    &split_stream(&ours.manifest),
                    &split_stream(&theirs),
                    &nondeterministic,
                    "manifest",
                ) {
                    problems.push(e);
                }
            }
            if let Some(p) = case.get("expected_output").and_then(Value::as_str) {
                let theirs = read_maybe_gz(&root.join(p));
                let mut stream = Vec::new();
                for (path, text) in &ours.rendered {
                    let base = path.rsplit('/').next().unwrap_or(path);
                    if path.ends_with("NOTES.txt") || base.starts_with('_') {
                        continue;
                    }
                    for d in helm::manifest::split_manifests(text) {
                        stream.push((path.clone(), d));
                    }
                }
                if let Err(e) =
                    compare_streams(&stream, &split_stream(&theirs), &nondeterministic, "stream")
                {
                    problems.push(e);
                }
            }
            if let Some(p) = case.get("expected_render").and_then(Value::as_str) {
                let theirs: BTreeMap<String, String> =
                    serde_json::from_str(&read_maybe_gz(&root.join(p))).unwrap_or_default();
                out.render_bytes_equal = theirs == ours.rendered;
            }
            if problems.is_empty() {
                out.pass = true;
            } else {
                out.failure = Some(problems.remove(0));
            }
        }
    }
    out
}

/// The one test this harness-less binary holds, named for `cargo nextest`'s listing.
const TEST_NAME: &str = "fixture_corpus";

fn main() {
    // Speak the libtest listing protocol that `cargo nextest` uses (`--list --format terse`), so the
    // corpus runs once as one named test instead of during discovery.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("{TEST_NAME}: test");
        }
        return;
    }
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-'))
        && !TEST_NAME.contains(filter.as_str())
    {
        return;
    }
    let root = shared_dir().join("fixtures/helm");
    let cases_path = root.join("cases.json");
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(&cases_path).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}); set MARKETPLACE_SHARED to the shared/ folder",
                cases_path.display()
            )
        }))
        .expect("cases.json is JSON");
    let mut cases: Vec<Value> = cases["cases"].as_array().cloned().unwrap_or_default();
    if let Ok(f) = std::env::var("HELM_FIXTURE_FILTER") {
        cases.retain(|c| c["id"].as_str().unwrap_or("").contains(&f));
    }
    let known_path = PathBuf::from("tests/known-failures.txt");
    let known: HashMap<String, String> = std::fs::read_to_string(&known_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (id.to_string(), why.trim().to_string())
        })
        .collect();

    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let id = case["id"].as_str().unwrap_or("?").to_string();
                    let t0 = std::time::Instant::now();
                    let mut o = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_case(&root, case)
                    })) {
                        Ok(o) => o,
                        Err(p) => Outcome {
                            failure: Some(format!(
                                "panic: {}",
                                p.downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default()
                            )),
                            ..Default::default()
                        },
                    };
                    o.millis = t0.elapsed().as_millis();
                    results.lock().unwrap().push((id, o));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let total = results.len();
    let passed = results.iter().filter(|r| r.1.pass).count();
    let manifest_bytes = results.iter().filter(|r| r.1.manifest_bytes_equal).count();
    let render_bytes = results.iter().filter(|r| r.1.render_bytes_equal).count();
    let refused_ok = results.iter().filter(|r| r.1.pass && r.1.refused).count();
    let err_text = results.iter().filter(|r| r.1.error_text_equal).count();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut now_passing = Vec::new();
    for (id, o) in &results {
        match &o.failure {
            Some(f) => {
                let key: String = f
                    .split(" at line ")
                    .next()
                    .unwrap_or(f)
                    .chars()
                    .take(110)
                    .collect();
                groups.entry(key).or_default().push(id.clone());
                if !known.contains_key(id) {
                    unexpected.push(format!("{id}: {f}"));
                }
                if std::env::var("HELM_FIXTURE_VERBOSE").is_ok() {
                    println!("FAIL {id}: {f}");
                }
            }
            None => {
                if known.contains_key(id) {
                    now_passing.push(id.clone());
                }
            }
        }
    }
    println!(
        "\n== Helm fixture corpus: {total} cases in {:.1}s ==",
        started.elapsed().as_secs_f64()
    );
    println!("passed:                     {passed}/{total}");
    println!("manifest byte-equal:        {manifest_bytes}");
    println!("engine render byte-equal:   {render_bytes}");
    println!("refusals with Helm's text:  {err_text} (of {refused_ok} refusals matched)");
    println!("known failures listed:      {}", known.len());
    let mut slow: Vec<(&String, u128)> = results.iter().map(|r| (&r.0, r.1.millis)).collect();
    slow.sort_by_key(|s| std::cmp::Reverse(s.1));
    println!(
        "slowest cases (debug build): {}",
        slow.iter()
            .take(5)
            .map(|(id, ms)| format!("{id} {ms} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !groups.is_empty() {
        println!("\nfailures by first error line:");
        let mut g: Vec<_> = groups.into_iter().collect();
        g.sort_by_key(|e| std::cmp::Reverse(e.1.len()));
        for (k, ids) in g {
            println!("  [{}] {k}", ids.len());
            for id in ids.iter().take(3) {
                println!("        {id}");
            }
        }
    }
    if !now_passing.is_empty() {
        println!(
            "\nthese listed known failures now pass; remove them from tests/known-failures.txt:\n  {}",
            now_passing.join("\n  ")
        );
    }
    if !unexpected.is_empty() {
        println!("\nunexpected failures (not in tests/known-failures.txt):");
        for u in &unexpected {
            println!("  {u}");
        }
        println!(
            "\nfixture corpus: FAILED ({} unexpected failures)",
            unexpected.len()
        );
        std::process::exit(1);
    }
    println!(
        "\nfixture corpus: ok ({passed}/{total} cases match Helm, the rest are listed known failures)"
    );
}
