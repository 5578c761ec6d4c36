//! Helpers the operator end-to-end tests (`tests/operators.rs`) and the console's browser tests
//! (`tests/console_browser.rs`) share: a real `docker-registry` with a `marketplace serve` using it
//! as the platform registry (`Env`), registry+v1 bundles (harbor, the real clickhouse bundle, a
//! minimal one, one with upgrade edges) pushed as images with their operator images, and pointing
//! a CatalogSource at a catalog image.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, Server};

/// A started registry plus a server that uses it as the platform registry.
pub struct Env {
    pub reg: oci::localregistry::LocalRegistry,
    pub server: Server,
    _tmp: tempfile::TempDir,
}

pub async fn start() -> Env {
    start_on(&[]).await
}

/// `start` with workload clusters (`name=label=value,...` as `Server::start_with` takes them).
pub async fn start_on(clusters: &[&str]) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("registry")).await;
    let host = reg.host();
    let clusters: Vec<String> = clusters.iter().map(|c| c.to_string()).collect();
    let server = tokio::task::spawn_blocking(move || {
        let clusters: Vec<&str> = clusters.iter().map(String::as_str).collect();
        Server::start_with(&clusters, &["--registry", &host], &[])
    })
    .await
    .unwrap();
    Env {
        reg,
        server,
        _tmp: tmp,
    }
}

impl Env {
    pub fn host(&self) -> String {
        self.reg.host()
    }

    /// A scratch directory that lives as long as the environment (the registry's data is in it).
    pub fn scratch(&self) -> &Path {
        self._tmp.path()
    }

    /// Runs a documented shell command as written (kubectl from PATH, this server's kubeconfig).
    pub fn sh(&self, cmd: &str) -> (bool, String, String) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("KUBECONFIG", self.server.kubeconfig("global"))
            .output()
            .expect("run sh");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn sh_ok(&self, cmd: &str) -> String {
        let (ok, out, err) = self.sh(cmd);
        assert!(
            ok,
            "`{cmd}` failed:\n{out}\n{err}\nserver log: {}",
            common::tail(&self.server.log(), 4000)
        );
        out
    }

    /// Polls `f`; on timeout fails with the catalogs', subscriptions' and plans' state and the log.
    pub fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let start = std::time::Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > common::DEADLINE {
                let pms = self.sh("kubectl get packagemanifests -A");
                eprintln!("packagemanifests: {pms:?}");
                let state = self.sh(r#"kubectl get catalogsources,subscriptions,installplans,csv,deployments -A -o wide; kubectl get clusterrolebindings -l olm.owner --show-labels; kubectl get installplan,csv -A -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase} {.status.message}{"\n"}{end}'"#);
                let log = self.server.log();
                let gc: Vec<&str> = log
                    .lines()
                    .filter(|l| l.contains("garbage") || l.contains("WARN") || l.contains("ERROR"))
                    .collect();
                panic!(
                    "timed out waiting for {what}\nstate: {}\nlog: {}\nwarnings: {}",
                    common::tail(&state.1, 6000),
                    common::tail(&log, 3000),
                    common::tail(&gc.join("\n"), 6000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn apply(&self, yaml: &str) {
        self.server.ok_stdin(&["apply", "-f", "-"], yaml);
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.server.ok(&a)).unwrap()
    }

    /// `json` for an object that may not exist yet (a wait's probe): `None` when kubectl fails.
    pub fn try_json(&self, args: &[&str]) -> Option<Value> {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.server.kubectl(&a);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }
}

/// Pushes a tiny image to `<host>/<repo>:<tag>` (an operator's container image for the kubelet
/// stand-in to find).
pub async fn push_dummy(host: &str, repo: &str, tag: &str) {
    olm::image::push(
        host,
        repo,
        tag,
        &[("bin/operator".into(), b"#!/bin/true\n".to_vec())],
        &BTreeMap::new(),
    )
    .await
    .expect("push operator image");
}

/// Pushes a registry+v1 bundle (files relative to the bundle root) and returns the model with
/// its pinned image.
/// The image labels of a registry+v1 bundle image.
pub fn bundle_labels() -> BTreeMap<String, String> {
    [
        ("mediatype", "registry+v1"),
        ("manifests", "manifests/"),
        ("metadata", "metadata/"),
    ]
    .into_iter()
    .map(|(k, v)| {
        (
            format!("operators.operatorframework.io.bundle.{k}.v1"),
            v.to_string(),
        )
    })
    .collect()
}

pub async fn push_bundle(
    host: &str,
    repo: &str,
    tag: &str,
    files: Vec<(String, Vec<u8>)>,
) -> catalog::Bundle {
    let image = olm::image::push(host, repo, tag, &files, &bundle_labels())
        .await
        .expect("push bundle");
    catalog::Bundle::from_registry_v1_files(&image, files, &image).expect("bundle loads")
}

/// A harbor-ce-operator bundle as Alauda ships it (source type Alauda), version `v`.
pub fn harbor_bundle(host: &str, v: &str, replaces: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let name = format!("harbor-ce-operator.v{v}");
    let mut spec = json!({
        "displayName": "Alauda Build of Harbor",
        "version": v,
        "provider": {"name": "Alauda"},
        "installModes": [
            {"type": "OwnNamespace", "supported": true},
            {"type": "SingleNamespace", "supported": true},
            {"type": "MultiNamespace", "supported": false},
            {"type": "AllNamespaces", "supported": true}
        ],
        "customresourcedefinitions": {"owned": [{"name": "harbors.operator.alauda.io", "version": "v1", "kind": "Harbor"}]},
        "install": {"strategy": "deployment", "spec": {
            "clusterPermissions": [{"serviceAccountName": "harbor-operator", "rules": [{"apiGroups": ["operator.alauda.io"], "resources": ["harbors"], "verbs": ["*"]}]}],
            "permissions": [{"serviceAccountName": "harbor-operator", "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}],
            "deployments": [{"name": "harbor-operator", "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "harbor-operator"}},
                "template": {"metadata": {"labels": {"app": "harbor-operator"}}, "spec": {
                    "serviceAccountName": "harbor-operator",
                    "containers": [{"name": "manager", "image": format!("{host}/acp/harbor-operator:v{v}")}]}}}}]}}
    });
    if let Some(r) = replaces {
        spec["replaces"] = json!(r);
    }
    let csv = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": name, "annotations": {"cpaas.io/provider-type": "alauda", "capabilities": "Full Lifecycle"}},
        "spec": spec,
    });
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "harbors.operator.alauda.io"},
        "spec": {"group": "operator.alauda.io", "scope": "Namespaced",
            "names": {"plural": "harbors", "singular": "harbor", "kind": "Harbor", "listKind": "HarborList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let annotations = "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n  operators.operatorframework.io.bundle.channels.v1: harbor-2,stable\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: harbor-ce-operator\n";
    vec![
        (
            format!("manifests/{name}.clusterserviceversion.yaml"),
            serde_json::to_vec_pretty(&csv).unwrap(),
        ),
        (
            "manifests/harbors.operator.alauda.io.crd.yaml".into(),
            serde_json::to_vec_pretty(&crd).unwrap(),
        ),
        (
            "metadata/annotations.yaml".into(),
            annotations.as_bytes().to_vec(),
        ),
    ]
}

/// Waits for CatalogSource `ns/name` to exist, then points it at `image`, polled every 2 s.
pub fn use_catalog_image(env: &Env, ns: &str, name: &str, image: &str) {
    crate::upload_support::patch_catalog_source(
        &env.server,
        ns,
        name,
        json!({"image": image, "updateStrategy": {"registryPoll": {"interval": "2s"}}}),
    );
}

pub fn fixtures() -> PathBuf {
    let base = std::env::var("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(
                &std::env::var("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../../shared")
        });
    let p = base.join("fixtures/olm/bundles");
    assert!(
        p.is_dir(),
        "OLM fixtures are missing at {} (set MARKETPLACE_SHARED)",
        p.display()
    );
    p
}

/// The real clickhouse bundle of `version` from the fixtures, republished under the identity the
/// documentation uses (package `clickhouse-operator`, channel `stable`, CSV
/// `clickhouse-operator.v<as_version>`, display name "ClickHouse Operator"); its CRDs, install
/// strategy, permissions and images are the real bundle's.
pub fn clickhouse_bundle(
    version: &str,
    as_version: &str,
    replaces: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    let dir = fixtures()
        .join("clickhouse")
        .join(version)
        .join("manifests");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&p).unwrap();
        if name.contains("clusterserviceversion") {
            let mut csv: Value = serde_yaml::from_str(&text).expect("real CSV parses");
            let csv_name = format!("clickhouse-operator.v{as_version}");
            csv["metadata"]["name"] = json!(csv_name);
            csv["spec"]["version"] = json!(as_version);
            csv["spec"]["displayName"] = json!("ClickHouse Operator");
            match replaces {
                Some(r) => csv["spec"]["replaces"] = json!(r),
                None => {
                    csv["spec"].as_object_mut().unwrap().remove("replaces");
                }
            }
            csv["spec"].as_object_mut().unwrap().remove("skips");
            files.push((
                format!("manifests/{csv_name}.clusterserviceversion.yaml"),
                serde_json::to_vec_pretty(&csv).unwrap(),
            ));
        } else {
            files.push((format!("manifests/{name}"), text.into_bytes()));
        }
    }
    let annotations = "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: clickhouse-operator\n";
    files.push((
        "metadata/annotations.yaml".into(),
        annotations.as_bytes().to_vec(),
    ));
    files
}

/// Pushes the container images a CSV's deployments name into the platform registry (as the
/// kubelet stand-in maps them: `docker.io/altinity/x:1` → `<registry>/altinity/x:1`).
pub async fn push_operator_images(host: &str, files: &[(String, Vec<u8>)]) {
    for (p, b) in files {
        if !p.contains("clusterserviceversion") {
            continue;
        }
        let csv: Value = serde_json::from_slice(b).unwrap();
        for d in csv["spec"]["install"]["spec"]["deployments"]
            .as_array()
            .unwrap()
        {
            for c in d["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
            {
                let r = oci::Reference::parse(c["image"].as_str().unwrap()).unwrap();
                push_dummy(host, r.repository(), r.tag().unwrap_or("latest")).await;
            }
        }
    }
}

/// A minimal operator bundle: package `package`, channel `stable`, supported install modes
/// `modes`, one deployment whose image is pushed by the caller.
pub fn simple_bundle(host: &str, package: &str, v: &str, modes: &[&str]) -> Vec<(String, Vec<u8>)> {
    let name = format!("{package}.v{v}");
    let all = [
        "OwnNamespace",
        "SingleNamespace",
        "MultiNamespace",
        "AllNamespaces",
    ];
    let csv = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": name},
        "spec": {
            "displayName": package, "version": v,
            "installModes": all.iter().map(|m| json!({"type": m, "supported": modes.contains(m)})).collect::<Vec<_>>(),
            "install": {"strategy": "deployment", "spec": {"deployments": [{"name": package, "spec": {
                "replicas": 1, "selector": {"matchLabels": {"app": package}},
                "template": {"metadata": {"labels": {"app": package}}, "spec": {
                    "containers": [{"name": "manager", "image": format!("{host}/demo/{package}:v{v}")}]}}}}]}}
        }
    });
    let annotations = format!(
        "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: {package}\n"
    );
    vec![
        (
            format!("manifests/{name}.clusterserviceversion.yaml"),
            serde_json::to_vec_pretty(&csv).unwrap(),
        ),
        ("metadata/annotations.yaml".into(), annotations.into_bytes()),
    ]
}

/// `simple_bundle` with the CSV's upgrade edges set: `replaces`, `skips` and the
/// `olm.skipRange` annotation.
pub fn bundle_with_edges(
    host: &str,
    package: &str,
    v: &str,
    replaces: Option<&str>,
    skips: &[&str],
    skip_range: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    let mut files = simple_bundle(host, package, v, &["AllNamespaces", "OwnNamespace"]);
    let (_, csv_bytes) = &mut files[0];
    let mut csv: Value = serde_json::from_slice(csv_bytes).unwrap();
    if let Some(r) = replaces {
        csv["spec"]["replaces"] = json!(r);
    }
    if !skips.is_empty() {
        csv["spec"]["skips"] = json!(skips);
    }
    if let Some(r) = skip_range {
        csv["metadata"]["annotations"] = json!({"olm.skipRange": r});
    }
    *csv_bytes = serde_json::to_vec_pretty(&csv).unwrap();
    files
}
