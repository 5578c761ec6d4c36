//! `marketplace chart template` reads values from standard input as Helm does: `-f -` (a values
//! document) and `--set-file key=-` (the raw text), and applies the value flags in Helm's order
//! (`-f`, `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`) whatever their order
//! on the command line. Runs the real binary.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn write_chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: flags\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "v: default\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  v: {{ .Values.v | quote }}\n  t: {{ typeOf .Values.v | quote }}\n",
    )
    .unwrap();
}

/// Runs `marketplace chart template <args>` with `stdin` fed; returns (ok, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .arg("chart")
        .arg("template")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run marketplace chart template");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn values_file_dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path());
    let chart = dir.path().to_str().unwrap();
    let (ok, out, err) = run(&[chart, "-f", "-"], "v: from-stdin\n");
    assert!(ok, "{err}");
    assert!(out.contains("v: \"from-stdin\""), "{out}");
    let (ok, _, err) = run(&[chart, "-f", "-"], "v: [unclosed\n");
    assert!(!ok);
    assert!(err.starts_with("Error: failed to parse -: "), "{err}");
}

#[test]
fn set_file_dash_reads_standard_input_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path());
    let chart = dir.path().to_str().unwrap();
    let (ok, out, err) = run(&[chart, "--set-file", "v=-"], "line1\n");
    assert!(ok, "{err}");
    assert!(out.contains("v: \"line1\\n\""), "{out}");
}

#[test]
fn value_flags_apply_in_helms_order_not_command_line_order() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(dir.path());
    let chart = dir.path().to_str().unwrap();
    // --set-literal is applied last, --set-json first, whatever the order given.
    let (ok, out, err) = run(
        &[
            chart,
            "--set-literal",
            "v=lit,eral",
            "--set",
            "v=1",
            "--set-json",
            "v=2",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("v: \"lit,eral\""), "{out}");
    let (ok, out, _) = run(&[chart, "--set", "v=1", "--set-json", "v=2.5"], "");
    assert!(ok);
    assert!(out.contains("v: \"1\""), "{out}");
    let (ok, _, err) = run(&[chart, "--set-json", "v=nope"], "");
    assert!(!ok);
    assert_eq!(err, "Error: failed parsing --set-json data v=nope\n");
    let (ok, _, err) = run(&[chart, "--set-file", "v=/nonexistent/x"], "");
    assert!(!ok);
    assert_eq!(
        err,
        "Error: failed parsing --set-file data: open /nonexistent/x: no such file or directory\n"
    );
}
