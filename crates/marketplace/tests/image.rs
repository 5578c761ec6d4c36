//! `marketplace image copy|inspect`, `marketplace chart push` and `chart template oci://` driven as
//! a user would, against a real docker-registry; and `marketplace serve` starting its own registry.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn marketplace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(args)
        .output()
        .expect("run marketplace")
}

fn ok(args: &[&str]) -> String {
    let out = marketplace(args);
    assert!(
        out.status.success(),
        "marketplace {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn chart_tgz(dir: &Path) -> std::path::PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    let files: [(&str, &[u8]); 3] = [
        ("demo/Chart.yaml", b"apiVersion: v2\nname: demo\nversion: 0.1.0+g1\ndescription: a demo\n"),
        ("demo/values.yaml", b"greeting: hello\n"),
        ("demo/templates/cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\ndata:\n  greeting: {{ .Values.greeting | quote }}\n"),
    ];
    for (p, d) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, d).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    let p = dir.join("demo-0.1.0+g1.tgz");
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_pushed_to_a_registry_renders_like_its_archive_and_images_copy_and_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let tgz = chart_tgz(tmp.path());

    let pushed = ok(&[
        "chart",
        "push",
        tgz.to_str().unwrap(),
        &format!("oci://{host}/charts"),
        "--plain-http",
    ]);
    assert!(
        pushed.contains(&format!("Pushed: {host}/charts/demo:0.1.0_g1")),
        "{pushed}"
    );
    let from_registry = ok(&[
        "chart",
        "template",
        &format!("oci://{host}/charts/demo"),
        "--version",
        "0.1.0+g1",
        "--plain-http",
        "--set",
        "greeting=hi",
    ]);
    let from_file = ok(&[
        "chart",
        "template",
        tgz.to_str().unwrap(),
        "--set",
        "greeting=hi",
    ]);
    assert_eq!(from_registry, from_file);
    assert!(from_file.contains("greeting: \"hi\""), "{from_file}");

    // A chart directory is packaged as `helm package` does and pushed under its own name.
    let dir = tmp.path().join("chart-dir");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: fromdir\nversion: 1.2.3\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-fromdir\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    let pushed = ok(&[
        "chart",
        "push",
        dir.to_str().unwrap(),
        &format!("oci://{host}/charts"),
        "--plain-http",
    ]);
    assert!(
        pushed.contains(&format!("Pushed: {host}/charts/fromdir:1.2.3")),
        "{pushed}"
    );
    let from_registry = ok(&[
        "chart",
        "template",
        &format!("oci://{host}/charts/fromdir"),
        "--version",
        "1.2.3",
        "--plain-http",
    ]);
    assert_eq!(
        from_registry,
        ok(&["chart", "template", dir.to_str().unwrap()])
    );

    // The manifest has Helm's media types.
    let inspect = ok(&[
        "image",
        "inspect",
        &format!("docker://{host}/charts/demo:0.1.0_g1"),
        "--tls-verify=false",
    ]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(
        v["Layers"][0]["MediaType"],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    );
    assert_eq!(v["Tags"], serde_json::json!(["0.1.0_g1"]));
    let raw = marketplace(&[
        "image",
        "inspect",
        "--raw",
        &format!("{host}/charts/demo:0.1.0_g1"),
        "--tls-verify=false",
    ])
    .stdout;
    assert!(String::from_utf8_lossy(&raw).contains("application/vnd.cncf.helm.config.v1+json"));
    let digest = v["Digest"].as_str().unwrap().to_string();
    assert_eq!(oci::Digest::of(&raw).to_string(), digest);

    // registry → layout → another repository, same digest.
    let layout = tmp.path().join("layout");
    let out = ok(&[
        "image",
        "copy",
        "--quiet",
        &format!("docker://{host}/charts/demo:0.1.0_g1"),
        &format!("oci:{}:c", layout.display()),
        "--src-tls-verify=false",
    ]);
    assert_eq!(out.trim(), digest);
    let out = ok(&[
        "image",
        "copy",
        &format!("oci:{}:c", layout.display()),
        &format!("docker://{host}/copy/demo:1"),
        "--dest-tls-verify=false",
    ]);
    assert_eq!(out.trim(), digest);

    // Refusals name what is wrong.
    let bad = marketplace(&["image", "copy", "dir:/x", "oci:/y"]);
    assert!(
        !bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("expected oci:DIR")
    );
    let bad = marketplace(&[
        "chart",
        "template",
        &format!("oci://{host}/charts/demo"),
        "--plain-http",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--version is required"));
    let bad = marketplace(&[
        "chart",
        "template",
        &format!("oci://{host}/charts/demo"),
        "--version",
        "9.9.9",
        "--plain-http",
    ]);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not found in registry"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn serve_without_registry_flag_runs_a_supervised_registry_and_stops_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args([
            "serve",
            "--data-dir",
            tmp.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stderr(std::fs::File::create(tmp.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let host = loop {
        let log = std::fs::read_to_string(tmp.path().join("serve.log")).unwrap_or_default();
        // "serving on" comes after the registry and the control plane are both up.
        if let Some(line) = log
            .lines()
            .find(|l| l.starts_with("registry on "))
            .filter(|_| log.contains("serving on "))
        {
            break line["registry on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
        }
        assert!(child.try_wait().unwrap().is_none(), "serve exited: {log}");
        assert!(Instant::now() < deadline, "no registry line: {log}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let v2 = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{host}/v2/"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&v2.stdout), "200");
    assert!(
        tmp.path().join("registry/config.yml").exists(),
        "data under <data-dir>/registry"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let v2 = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{host}/v2/"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v2.stdout),
        "000",
        "the registry stopped with serve"
    );
}
