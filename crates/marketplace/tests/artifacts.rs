//! The Artifact controller against the real `marketplace serve` and its docker-registry: an
//! ArtifactVersion whose image is missing is `Failed` naming it, and turns `Ready` once the image is
//! pushed; a Ready chart version is published in `public-charts` (index.yaml and the .tgz, read
//! with the real curl; the .tgz's sha256 is the index's digest).

mod common;

use std::process::Command;

use common::{Server, poll};
use serde_json::Value;

fn curl(s: &Server, path: &str, token: Option<&str>, body: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sSf", "--cacert"])
        .arg(s.ca_path())
        .arg(format!("{}{}", s.base, path));
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd
        .output()
        .expect("curl must be installed (scripts/setup)");
    assert!(
        out.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The platform registry, as `/platform/v1/info` tells a logged-in admin.
fn registry(s: &Server) -> String {
    let pw = std::fs::read_to_string(s.data_dir().join("admin-password")).unwrap();
    let body = serde_json::json!({"username": "admin", "password": pw.trim()}).to_string();
    let login: Value =
        serde_json::from_slice(&curl(s, "/platform/v1/login", None, Some(&body))).unwrap();
    let token = login["token"].as_str().unwrap();
    let info: Value =
        serde_json::from_slice(&curl(s, "/platform/v1/info", Some(token), None)).unwrap();
    info["registry"]
        .as_str()
        .expect("serve runs a registry")
        .to_string()
}

/// Pushes a small chart with `marketplace chart push` to `<reg>/charts`; returns its manifest digest.
fn push_chart(dir: &std::path::Path, reg: &str, version: &str) -> String {
    push_chart_to(&chart_dir(dir, version), reg, "charts")
}

/// The chart packaged once (so two pushes of it have one digest).
fn package(dir: &std::path::Path, version: &str) -> std::path::PathBuf {
    let src = chart_dir(dir, version);
    let tgz = dir.join(format!("demo-{version}.tgz"));
    let staging = dir.join(format!("pkg-{version}"));
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::rename(&src, staging.join("demo")).unwrap();
    let out = Command::new("tar")
        .arg("czf")
        .arg(&tgz)
        .arg("-C")
        .arg(&staging)
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tgz
}

fn chart_dir(dir: &std::path::Path, version: &str) -> std::path::PathBuf {
    let chart = dir.join(format!("demo-{version}"));
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: demo\nversion: {version}\ndescription: a demo chart\n"),
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
    )
    .unwrap();
    chart
}

fn push_chart_to(chart: &std::path::Path, reg: &str, path: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(["chart", "push"])
        .arg(chart)
        .args([&format!("oci://{reg}/{path}"), "--plain-http"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .expect("chart push prints the digest")
        .trim()
        .to_string()
}

fn records(reg: &str, version: &str, digest: &str) -> String {
    let name = format!("demo.v{version}");
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata: {{name: cpaas-system}}
---
apiVersion: app.alauda.io/v1alpha1
kind: Artifact
metadata: {{name: demo, namespace: cpaas-system, labels: {{cpaas.io/artifact-type: chart}}}}
spec: {{type: chart, displayName: Demo}}
---
apiVersion: app.alauda.io/v1alpha1
kind: ArtifactVersion
metadata:
  name: {name}
  namespace: cpaas-system
  labels: {{cpaas.io/artifact: demo, cpaas.io/artifact-type: chart}}
spec:
  artifact: demo
  version: v{version}
  type: chart
  image: {reg}/charts/demo@{digest}
  tag: "{version}"
  arch: [amd64]
  relatedImages: []
  chart: {{name: demo, version: "{version}"}}
"#
    )
}

fn phase(s: &Server, name: &str) -> (String, String) {
    let out = s.kubectl(&[
        "get",
        "artifactversion",
        name,
        "-n",
        "cpaas-system",
        "-o",
        "jsonpath={.status.phase}|{.status.message}",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (p, m) = text.split_once('|').unwrap_or(("", ""));
    (p.to_string(), m.to_string())
}

#[test]
fn a_chart_version_is_failed_until_its_chart_is_pushed_heals_and_is_served_in_public_charts() {
    let s = Server::start_with(&[], &["--no-simulator"], &[]);
    let reg = registry(&s);
    let tmp = tempfile::tempdir().unwrap();
    // 1.0.0 is recorded before its chart is in the registry: Failed, naming what is missing.
    let missing = format!("sha256:{}", "0".repeat(64));
    s.ok_stdin(&["apply", "-f", "-"], &records(&reg, "1.0.0", &missing));
    let message = poll("ArtifactVersion demo.v1.0.0 Failed", || {
        let (p, m) = phase(&s, "demo.v1.0.0");
        (p == "Failed").then_some(m)
    });
    assert!(
        message.contains(&format!("{reg}/charts/demo@{missing}")),
        "{message}"
    );
    let printed = s.ok(&["get", "artifactversions", "-n", "cpaas-system"]);
    assert!(
        printed.starts_with("NAME") && printed.contains("ARTIFACT") && printed.contains("PHASE"),
        "{printed}"
    );
    assert!(printed.contains("Failed"), "{printed}");
    // The controller runs as its own least-privilege ServiceAccount.
    let sa = "system:serviceaccount:cpaas-system:marketplace-artifacts";
    let can = |args: &[&str]| {
        let mut a = vec!["auth", "can-i"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--as", sa]);
        String::from_utf8_lossy(&s.kubectl(&a).stdout)
            .trim()
            .to_string()
    };
    assert_eq!(
        can(&[
            "patch",
            "artifactversions.app.alauda.io",
            "--subresource=status",
            "-n",
            "cpaas-system"
        ]),
        "yes"
    );
    assert_eq!(can(&["list", "secrets", "-A"]), "no");

    // 1.2.0 is recorded with the digest it will have (pushed elsewhere first), then pushed to
    // where the record says: the version heals without anyone touching it.
    let tgz = package(tmp.path(), "1.2.0");
    let staged = push_chart_to(&tgz, &reg, "staging");
    s.ok_stdin(&["apply", "-f", "-"], &records(&reg, "1.2.0", &staged));
    poll("ArtifactVersion demo.v1.2.0 Failed", || {
        (phase(&s, "demo.v1.2.0").0 == "Failed").then_some(())
    });
    assert_eq!(push_chart_to(&tgz, &reg, "charts"), staged);
    poll("ArtifactVersion demo.v1.2.0 heals", || {
        (phase(&s, "demo.v1.2.0").0 == "Ready").then_some(())
    });

    // 1.1.0 is pushed first, then recorded: Ready at once, and published.
    let digest = push_chart(tmp.path(), &reg, "1.1.0");
    s.ok_stdin(&["apply", "-f", "-"], &records(&reg, "1.1.0", &digest));
    poll("ArtifactVersion demo.v1.1.0 Ready", || {
        (phase(&s, "demo.v1.1.0").0 == "Ready").then_some(())
    });
    let index: serde_yaml::Value =
        serde_yaml::from_slice(&curl(&s, "/charts/public-charts/index.yaml", None, None)).unwrap();
    let entries = index["entries"]["demo"]
        .as_sequence()
        .expect("demo is in the index");
    let mut versions: Vec<_> = entries
        .iter()
        .filter_map(|e| e["version"].as_str())
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        ["1.1.0", "1.2.0"],
        "only Ready versions are published: {index:?}"
    );
    let entries: Vec<_> = entries
        .iter()
        .filter(|e| e["version"].as_str() == Some("1.1.0"))
        .collect();
    assert_eq!(entries[0]["apiVersion"].as_str(), Some("v2"));
    let url = entries[0]["urls"][0].as_str().unwrap().to_string();
    assert_eq!(url, "demo-1.1.0.tgz");
    let tgz = curl(&s, &format!("/charts/public-charts/{url}"), None, None);
    let sha = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&tgz)?;
            c.wait_with_output()
        })
        .unwrap();
    let sha = String::from_utf8(sha.stdout).unwrap();
    assert_eq!(
        Some(sha.split_whitespace().next().unwrap()),
        entries[0]["digest"].as_str()
    );
}
