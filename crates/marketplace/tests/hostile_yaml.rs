//! YAML alias bombs ("billion laughs") are refused everywhere YAML is read, as go-yaml refuses them
//! ("document contains excessive aliasing"), before they expand: a values file given to
//! `marketplace chart template -f`, a `fromYaml` argument in a template, and a YAML request body
//! sent to `marketplace serve` by kube-rs. Each refusal is the assertion; the child's peak memory
//! (getrusage / VmHWM) and the time taken are checked loosely against the 100 MB / 1 s targets.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The refusals must stay far below the 4 GB an unbounded expansion reaches.
const MAX_PEAK_RSS_KB: u64 = 100 * 1024;
/// Loose bound: the refusal itself takes milliseconds; this allows for a loaded 2-core machine.
const MAX_TIME: Duration = Duration::from_secs(3);

/// Nine levels of anchors, each a list of nine aliases of the one before: 9^9 ≈ 387 million
/// scalars when expanded, about 400 bytes of text.
fn bomb() -> String {
    let mut s = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let items = vec![format!("*{}", w[0]); 9].join(",");
        s.push_str(&format!("{}: &{} [{items}]\n", w[1], w[1]));
    }
    assert!(s.len() < 500, "the bomb is small: {} bytes", s.len());
    s
}

/// Peak resident set of the largest child this test process has waited for, in KiB.
fn children_peak_rss_kb() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0, "getrusage failed");
    ru.ru_maxrss as u64
}

/// Peak resident set of a running process, in KiB (`VmHWM` of /proc/<pid>/status).
fn process_peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

fn write_chart(dir: &Path, template: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: laughs\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "x: 1\n").unwrap();
    std::fs::write(dir.join("templates/cm.yaml"), template).unwrap();
}

/// Runs `marketplace chart template` and returns (exit ok, stdout, stderr, elapsed).
fn chart_template(args: &[&str]) -> (bool, String, String, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .arg("chart")
        .arg("template")
        .args(args)
        .output()
        .expect("run marketplace chart template");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn alias_bomb_values_file_is_refused_quickly_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    write_chart(
        &chart,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  x: {{ .Values.x | quote }}\n",
    );
    let values = dir.path().join("bomb.yaml");
    std::fs::write(&values, bomb()).unwrap();
    let (ok, _, stderr, took) =
        chart_template(&[chart.to_str().unwrap(), "-f", values.to_str().unwrap()]);
    let peak = children_peak_rss_kb();
    eprintln!("values-file bomb refused in {took:?}, child peak RSS {peak} KiB");
    assert!(!ok, "the bomb must be refused");
    assert!(
        stderr.contains("yaml: document contains excessive aliasing")
            && stderr.contains("bomb.yaml"),
        "stderr names the file and go-yaml's reason: {stderr}"
    );
    assert!(peak < MAX_PEAK_RSS_KB, "peak RSS {peak} KiB");
    assert!(took < MAX_TIME, "took {took:?}");
}

#[test]
fn alias_bomb_in_from_yaml_is_refused_quickly_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    write_chart(
        &chart,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  parsed: {{ (.Files.Get \"bomb.yaml\" | fromYaml).Error | quote }}\n",
    );
    std::fs::write(chart.join("bomb.yaml"), bomb()).unwrap();
    let (ok, stdout, stderr, took) = chart_template(&[chart.to_str().unwrap()]);
    let peak = children_peak_rss_kb();
    eprintln!("fromYaml bomb refused in {took:?}, child peak RSS {peak} KiB");
    assert!(
        ok,
        "fromYaml reports its error in the map, as Helm does: {stderr}"
    );
    assert!(
        stdout.contains(
            "parsed: \"error converting YAML to JSON: yaml: document contains excessive aliasing\""
        ),
        "{stdout}"
    );
    assert!(peak < MAX_PEAK_RSS_KB, "peak RSS {peak} KiB");
    assert!(took < MAX_TIME, "took {took:?}");
}

#[tokio::test]
async fn alias_bomb_request_body_is_refused_quickly_and_small() {
    let server = common::Server::start(&[]);
    let pid = server.child.as_ref().unwrap().id();
    let client = server.client("global").await;
    let body = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\ndata:\n  x: y\nbomb:\n{}",
        bomb()
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let req = http::Request::post("/api/v1/namespaces/default/configmaps")
        .header("Content-Type", "application/yaml")
        .body(body.into_bytes())
        .unwrap();
    let start = Instant::now();
    let err = client
        .request_text(req)
        .await
        .expect_err("the bomb must be refused");
    let took = start.elapsed();
    let peak = process_peak_rss_kb(pid);
    eprintln!("request-body bomb refused in {took:?}, server peak RSS {peak} KiB");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 400, "{s:?}");
            assert!(
                s.message
                    .contains("not valid YAML: yaml: document contains excessive aliasing"),
                "{s:?}"
            );
        }
        other => panic!("expected a 400 Status, got {other:?}"),
    }
    assert!(peak < MAX_PEAK_RSS_KB, "server peak RSS {peak} KiB");
    assert!(took < MAX_TIME, "took {took:?}");
    // Nothing was half-created.
    let out = server.kubectl(&["get", "configmap", "laughs"]);
    assert!(!out.status.success());
}
