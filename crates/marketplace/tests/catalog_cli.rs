//! `marketplace catalog render|upgrade|resolve` run as a catalog author runs them, on the shared
//! OLM fixtures (`../shared/fixtures/olm`, or under `$MARKETPLACE_SHARED`) and on catalog and
//! bundle images built here and pushed to a real docker-registry.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

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

fn olm() -> PathBuf {
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
        dir.join("fbc").is_dir(),
        "the shared OLM fixtures are missing at {}; set MARKETPLACE_SHARED to the shared/ directory",
        dir.display()
    );
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A JSON stream (`opm render`'s output) as values.
fn stream(s: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(s)
        .into_iter::<Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// Blobs keyed by schema and name, for order-independent comparison.
fn keyed(blobs: Vec<Value>) -> std::collections::BTreeMap<String, Value> {
    blobs
        .into_iter()
        .map(|b| {
            (
                format!(
                    "{} {}",
                    b["schema"].as_str().unwrap(),
                    b["name"].as_str().unwrap_or("")
                ),
                b,
            )
        })
        .collect()
}

/// Rendering an official file-based catalog prints exactly its blobs.
#[test]
fn render_fbc_directory_reprints_its_blobs() {
    let dir = olm().join("fbc/v4.22/rabbitmq-messaging-topology-operator");
    let out = stream(&ok(&["catalog", "render", p(&dir)]));
    assert_eq!(out.len(), 14, "1 package, 1 channel, 12 bundles");
    assert_eq!(out[0]["schema"], "olm.package");
    let text = std::fs::read_to_string(dir.join("catalog.yaml")).unwrap();
    let original: Vec<Value> = text
        .split("\n---\n")
        .filter(|d| !d.trim().trim_start_matches("---").trim().is_empty())
        .map(|d| serde_yaml::from_str::<Value>(d).unwrap())
        .collect();
    assert_eq!(keyed(out), keyed(original));
}

/// A community-operators package directory is published with its channel graph: clickhouse's
/// newest bundle heads `latest`, replacing 0.26.0 and skipping the versions between.
#[test]
fn render_community_package_directory() {
    let dir = olm().join("bundles/clickhouse");
    let out = stream(&ok(&["catalog", "render", p(&dir)]));
    let pkg = &out[0];
    assert_eq!(pkg["name"], "clickhouse");
    assert_eq!(pkg["defaultChannel"], "latest");
    let ch = out.iter().find(|b| b["schema"] == "olm.channel").unwrap();
    let head = ch["entries"].as_array().unwrap().last().unwrap();
    assert_eq!(head["name"], "clickhouse-operator.v0.27.2");
    assert_eq!(head["replaces"], "clickhouse-operator.v0.26.0");
    let bundles: Vec<&Value> = out.iter().filter(|b| b["schema"] == "olm.bundle").collect();
    assert_eq!(bundles.len(), 7);
    for b in bundles {
        let types: Vec<&str> = b["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"olm.package")
                && types.contains(&"olm.gvk")
                && types.contains(&"olm.csv.metadata"),
            "{types:?}"
        );
    }
    // YAML output is the same content.
    let yaml = ok(&["catalog", "render", p(&dir), "-o", "yaml"]);
    assert_eq!(
        yaml.matches("\nschema: olm.bundle").count()
            + usize::from(yaml.starts_with("schema: olm.bundle")),
        7
    );
}

#[test]
fn upgrade_answers_what_olm_would_pick() {
    let dir = olm().join("bundles/clickhouse");
    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "upgrade",
        "--package",
        "clickhouse",
        "--channel",
        "latest",
        "--from",
        "clickhouse-operator.v0.26.1",
        p(&dir),
        "--output",
        "json",
    ]))
    .unwrap();
    assert_eq!(out["to"], "clickhouse-operator.v0.27.2");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("skips clickhouse-operator.v0.26.1"),
        "{out}"
    );
    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "upgrade",
        "--package",
        "clickhouse",
        "--channel",
        "latest",
        "--from",
        "clickhouse-operator.v0.27.2",
        p(&dir),
    ]))
    .unwrap();
    assert_eq!(out["to"], Value::Null);
    assert!(out["reason"].as_str().unwrap().contains("newest"), "{out}");
    // An unknown channel is explained rather than failing the command.
    let fbc = olm().join("fbc/v4.22/infinispan");
    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "upgrade",
        "--package",
        "infinispan",
        "--channel",
        "nope",
        "--from",
        "x",
        p(&fbc),
    ]))
    .unwrap();
    assert_eq!(out["to"], Value::Null);
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("has no channel \"nope\""),
        "{out}"
    );
}

#[test]
fn resolve_lists_bundles_or_says_why_not() {
    let fbc = olm().join("fbc/v4.22");
    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "resolve",
        "--package",
        "rabbitmq-messaging-topology-operator",
        p(&fbc),
        "--output",
        "json",
    ]))
    .unwrap();
    assert_eq!(out["bundles"], json!([]));
    let why = out["error"].as_str().unwrap();
    assert!(
        why.contains("requires package \"rabbitmq-cluster-operator\" in version range \">2.0.0\""),
        "{why}"
    );

    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "resolve",
        "--package",
        "infinispan",
        "--channel",
        "2.3.x",
        p(&fbc),
    ]))
    .unwrap();
    assert_eq!(out["error"], Value::Null);
    let b = &out["bundles"][0];
    assert_eq!(b["package"], "infinispan");
    assert_eq!(b["channel"], "2.3.x");
    assert_eq!(b["reason"], "head of channel 2.3.x");

    // A dependency found in a second catalog: a test catalog offering rabbitmq-cluster-operator.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.json"), json_stream(&[
        json!({"schema": "olm.package", "name": "rabbitmq-cluster-operator", "defaultChannel": "stable"}),
        json!({"schema": "olm.channel", "name": "stable", "package": "rabbitmq-cluster-operator", "entries": [{"name": "rabbitmq-cluster-operator.v2.1.0"}]}),
        json!({"schema": "olm.bundle", "name": "rabbitmq-cluster-operator.v2.1.0", "package": "rabbitmq-cluster-operator", "image": "example/rco:2.1.0",
               "properties": [{"type": "olm.package", "value": {"packageName": "rabbitmq-cluster-operator", "version": "2.1.0"}},
                              {"type": "olm.gvk", "value": {"group": "rabbitmq.com", "kind": "RabbitmqCluster", "version": "v1beta1"}}]}),
    ])).unwrap();
    let out: Value = serde_json::from_str(&ok(&[
        "catalog",
        "resolve",
        "--package",
        "rabbitmq-messaging-topology-operator",
        "--bundle",
        "rabbitmq-messaging-topology-operator.v1.15.0",
        p(&fbc),
        p(tmp.path()),
    ]))
    .unwrap();
    assert_eq!(out["error"], Value::Null, "{out}");
    let csvs: Vec<&str> = out["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["csv"].as_str().unwrap())
        .collect();
    assert_eq!(
        csvs,
        [
            "rabbitmq-cluster-operator.v2.1.0",
            "rabbitmq-messaging-topology-operator.v1.15.0"
        ]
    );
}

fn json_stream(blobs: &[Value]) -> String {
    blobs.iter().map(|b| b.to_string() + "\n").collect()
}

/// A broken catalog is refused, the message naming the file and the field.
#[test]
fn invalid_catalog_is_refused_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("index.yaml");
    std::fs::write(&f, "schema: olm.package\nname: p\ndefaultChannel: stable\n---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1\n").unwrap();
    let out = marketplace(&["catalog", "render", p(tmp.path())]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: olm.channel \"stable\" entries[0].name: bundle \"p.v1\" is not an olm.bundle",
            f.display()
        )),
        "{err}"
    );
}

/// An OCI image layout holding `files` in one gzip layer, with `labels`, tagged `tag`.
fn image_layout(dir: &Path, tag: &str, files: &[(String, Vec<u8>)], labels: Value) {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let layer = gz.finish().unwrap();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [oci::Digest::of(&tar).to_string()]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": oci::Digest::of(&config).to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": oci::Digest::of(&layer).to_string(), "size": layer.len()}],
    }))
    .unwrap();
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for b in [&layer, &config, &manifest] {
        std::fs::write(blobs.join(oci::Digest::of(b).hex()), b).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": oci::Digest::of(&manifest).to_string(), "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    })).unwrap()).unwrap();
}

/// Every file under `root/sub` as (`prefix/relative path`, contents).
fn files_under(root: &Path, sub: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(sub)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                let rel = rel.replacen(sub, prefix, 1);
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// A catalog image (FBC under a directory its `configs` label names) and a bundle image are
/// pushed to a real docker-registry and rendered by reference, giving what their directories
/// give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_and_bundle_images_render_by_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("reg")).await;
    let host = reg.host();

    let fbc = olm().join("fbc/v4.22");
    let catalog_files = files_under(&fbc, "kairos-operator", "catalog/kairos-operator");
    let layout = tmp.path().join("catalog-layout");
    image_layout(
        &layout,
        "v1",
        &catalog_files,
        json!({"operators.operatorframework.io.index.configs.v1": "/catalog"}),
    );
    let catalog_ref = format!("{host}/test/catalog:v1");
    ok(&[
        "image",
        "copy",
        &format!("oci:{}:v1", p(&layout)),
        &format!("docker://{catalog_ref}"),
        "--dest-tls-verify=false",
        "-q",
    ]);

    let by_ref = keyed(stream(&ok(&[
        "catalog",
        "render",
        &catalog_ref,
        "--tls-verify=false",
    ])));
    let by_dir = keyed(stream(&ok(&[
        "catalog",
        "render",
        p(&fbc.join("kairos-operator")),
    ])));
    assert_eq!(by_ref.len(), 6);
    assert_eq!(by_ref, by_dir);

    let bundle_dir = olm().join("bundles/clickhouse/0.27.2");
    let mut bundle_files = files_under(&bundle_dir, "manifests", "manifests");
    bundle_files.extend(files_under(&bundle_dir, "metadata", "metadata"));
    let blayout = tmp.path().join("bundle-layout");
    image_layout(
        &blayout,
        "0.27.2",
        &bundle_files,
        json!({"operators.operatorframework.io.bundle.mediatype.v1": "registry+v1"}),
    );
    let bundle_ref = format!("{host}/test/clickhouse-bundle:0.27.2");
    ok(&[
        "image",
        "copy",
        &format!("oci:{}:0.27.2", p(&blayout)),
        &format!("docker://{bundle_ref}"),
        "--dest-tls-verify=false",
        "-q",
    ]);
    let out = stream(&ok(&[
        "catalog",
        "render",
        &bundle_ref,
        "--tls-verify=false",
    ]));
    assert_eq!(
        out.len(),
        1,
        "a bundle image renders as its olm.bundle blob"
    );
    let b = &out[0];
    assert_eq!(b["name"], "clickhouse-operator.v0.27.2");
    assert_eq!(b["image"], bundle_ref.as_str());
    assert!(
        b["relatedImages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["image"] == bundle_ref.as_str())
    );
    let from_dir = stream(&ok(&["catalog", "render", p(&bundle_dir)]));
    assert_eq!(b["properties"], from_dir[0]["properties"]);

    // An image that is neither is refused, saying what was looked for.
    let elayout = tmp.path().join("empty-layout");
    image_layout(
        &elayout,
        "x",
        &[("etc/motd".to_string(), b"hi".to_vec())],
        json!({}),
    );
    let empty_ref = format!("{host}/test/empty:x");
    ok(&[
        "image",
        "copy",
        &format!("oci:{}:x", p(&elayout)),
        &format!("docker://{empty_ref}"),
        "--dest-tls-verify=false",
        "-q",
    ]);
    let out = marketplace(&["catalog", "render", &empty_ref, "--tls-verify=false"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neither a catalog (no /configs directory") && err.contains("nor a bundle"),
        "{err}"
    );
    reg.stop().await;
}
