//! Helpers the upload end-to-end test (`tests/uploads.rs`) and the push-to-installable benchmark
//! (`benches/uploads.rs`) share: the real `violet` binary (found beside `marketplace` in the same
//! target dir), violet's platform login for a running `serve`, one-layer image layouts, an operator
//! package (real registry+v1 bundle) and a plugin package (a real Helm chart) built with
//! `violet pack`, and the platform catalog image that lists an operator before it is uploaded.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

use crate::common::Server;

/// The `violet` binary of this build: beside `marketplace` in the same target dir (violet is
/// another package, so cargo gives no `CARGO_BIN_EXE_violet` here). Fails loudly when missing.
pub fn violet_binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_marketplace"))
        .with_file_name(format!("violet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p violet` (add --release for the benchmark) \
         into the same target dir; `cargo nextest run --workspace` builds it too",
        bin.display()
    );
    bin
}

/// Runs violet with its cache under `cache`; returns its output (not asserting success).
pub fn violet(args: &[&str], cache: &Path) -> Output {
    Command::new(violet_binary())
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run violet")
}

/// Runs violet and panics with its output unless it succeeds; returns stdout.
pub fn violet_ok(args: &[&str], cache: &Path) -> String {
    let out = violet(args, cache);
    assert!(
        out.status.success(),
        "violet {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--platform-*` flags logging violet in to `serve` as its bootstrap admin (a
/// `platform-admin-system` user), trusting serve's CA; the registry comes from `/platform/v1/info`.
pub fn login_args(s: &Server) -> Vec<String> {
    let pw = std::fs::read_to_string(s.data_dir().join("admin-password"))
        .expect("serve writes <data-dir>/admin-password");
    vec![
        "--platform-address".into(),
        s.base.clone(),
        "--platform-ca".into(),
        s.ca_path().display().to_string(),
        "--platform-username".into(),
        "admin".into(),
        "--platform-password".into(),
        pw.trim().to_string(),
    ]
}

/// `violet push PKG --plain` (the test registry speaks HTTP) as serve's admin; returns stdout.
pub fn push(s: &Server, pkg: &Path, cache: &Path) -> String {
    let mut args: Vec<String> = vec!["push".into(), pkg.display().to_string(), "--plain".into()];
    args.extend(login_args(s));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    violet_ok(&a, cache)
}

/// A one-layer OCI image layout at `dir`, tagged `t`: `/manager` saying `content`.
pub fn image_layout(dir: &Path, content: &str) {
    crate::plugin_support::one_file_image(dir, "manager", content);
}

/// `package.yaml` of a package file (its first entry), as JSON.
pub fn package_yaml(pkg: &Path) -> serde_json::Value {
    let f = std::fs::File::open(pkg).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut e = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(e.path().unwrap().to_str(), Some("package.yaml"));
    let mut text = String::new();
    e.read_to_string(&mut text).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// An operator package built with `violet pack bundle`, and what the platform catalog says of it.
pub struct OperatorPackage {
    pub tgz: PathBuf,
    pub package: String,
    pub csv: String,
    /// The operator's container image (in the platform registry once pushed).
    pub operator_image: String,
    /// The bundle as the platform catalog lists it: image pinned by the digest `violet pack` gave
    /// it, at the place `violet push` puts it.
    pub bundle: catalog::Bundle,
}

/// A real registry+v1 bundle of operator `package` `version` (Alauda source type, channel
/// `stable`, AllNamespaces, one owned CRD, one Deployment) whose images live in the platform
/// registry `host` — as the bundles of the platform catalog name them — packed with violet into
/// `dir`. `seed` makes the operator image unique.
pub fn operator_package(
    dir: &Path,
    host: &str,
    package: &str,
    version: &str,
    seed: &str,
    cache: &Path,
) -> OperatorPackage {
    let csv_name = format!("{package}.v{version}");
    let operator_image = format!("{host}/acp/{package}:v{version}");
    let bundle_dir = dir.join(format!("bundle-{package}-{version}"));
    let group = format!("{package}.demo.io");
    let crd_name = format!("widgets.{group}");
    let csv = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": csv_name, "annotations": {"cpaas.io/provider-type": "alauda", "capabilities": "Basic Install"}},
        "spec": {
            "displayName": "Uploaded Operator", "version": version,
            "provider": {"name": "Alauda"},
            "installModes": [
                {"type": "OwnNamespace", "supported": true},
                {"type": "SingleNamespace", "supported": true},
                {"type": "MultiNamespace", "supported": false},
                {"type": "AllNamespaces", "supported": true}
            ],
            "customresourcedefinitions": {"owned": [{"name": crd_name, "version": "v1", "kind": "Widget"}]},
            "relatedImages": [{"name": "manager", "image": operator_image}],
            "install": {"strategy": "deployment", "spec": {
                "clusterPermissions": [{"serviceAccountName": package, "rules": [{"apiGroups": [group], "resources": ["widgets"], "verbs": ["*"]}]}],
                "deployments": [{"name": package, "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": package}},
                    "template": {"metadata": {"labels": {"app": package}}, "spec": {
                        "serviceAccountName": package,
                        "containers": [{"name": "manager", "image": operator_image}]}}}}]}}
        }
    });
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let annotations = format!(
        "annotations:\n  operators.operatorframework.io.bundle.channel.default.v1: stable\n  operators.operatorframework.io.bundle.channels.v1: stable\n  operators.operatorframework.io.bundle.manifests.v1: manifests/\n  operators.operatorframework.io.bundle.mediatype.v1: registry+v1\n  operators.operatorframework.io.bundle.metadata.v1: metadata/\n  operators.operatorframework.io.bundle.package.v1: {package}\n"
    );
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("manifests/{package}.clusterserviceversion.yaml"),
            serde_yaml::to_string(&csv).unwrap().into_bytes(),
        ),
        (
            format!("manifests/{crd_name}.crd.yaml"),
            serde_yaml::to_string(&crd).unwrap().into_bytes(),
        ),
        ("metadata/annotations.yaml".into(), annotations.into_bytes()),
    ];
    for (p, b) in &files {
        let path = bundle_dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    }
    let layout = dir.join(format!("layout-{package}-{version}"));
    image_layout(
        &layout,
        &format!("#!/bin/true\n# {package} {version} {seed}\n"),
    );
    let tgz = dir.join(format!("{package}.v{version}.tgz"));
    let artifact = format!("{host}/acp/{package}-bundle:v{version}");
    violet_ok(
        &[
            "pack",
            "bundle",
            bundle_dir.to_str().unwrap(),
            "-o",
            tgz.to_str().unwrap(),
            "--artifact",
            &artifact,
            "--image",
            &format!("{operator_image}={}:t", layout.display()),
            "--source-type",
            "alauda",
            "--catalog-source",
            "platform",
        ],
        cache,
    );
    let meta = package_yaml(&tgz);
    let digest = meta["artifact"]["digest"]
        .as_str()
        .expect("package.yaml pins the bundle image's digest");
    let image = format!("{host}/acp/{package}-bundle@{digest}");
    let bundle = catalog::Bundle::from_registry_v1_files(&image, files, &image)
        .expect("the bundle loads as opm would read it");
    OperatorPackage {
        tgz,
        package: package.into(),
        csv: csv_name,
        operator_image,
        bundle,
    }
}

/// Renders `bundles` into a file-based catalog image at `<host>/<repo>:<tag>` (under `/configs`,
/// as opm would); returns its reference. The platform ships its `platform` catalog as
/// `acp/platform-catalog`.
pub async fn push_catalog(
    host: &str,
    repo: &str,
    tag: &str,
    bundles: Vec<catalog::Bundle>,
) -> String {
    let mut cat = catalog::Catalog::new();
    for b in bundles {
        cat.add_bundle(b).expect("bundle joins the catalog");
    }
    olm::image::push_catalog(host, repo, tag, &cat)
        .await
        .expect("push catalog");
    format!("{host}/{repo}:{tag}")
}

/// Points CatalogSource `cpaas-system/<name>` at catalog image `image`, once serve has created it.
pub fn point_catalog_source(server: &Server, name: &str, image: &str) {
    patch_catalog_source(server, "cpaas-system", name, json!({"image": image}));
}

/// Merges `spec` into CatalogSource `ns/name`, once it exists (serve creates its catalogs once
/// its controllers run).
pub fn patch_catalog_source(server: &Server, ns: &str, name: &str, spec: serde_json::Value) {
    crate::common::poll(&format!("CatalogSource {ns}/{name}"), || {
        server
            .kubectl(&["-n", ns, "get", "catalogsource", name])
            .status
            .success()
            .then_some(())
    });
    let patch = json!({ "spec": spec }).to_string();
    server.ok(&[
        "-n",
        ns,
        "patch",
        "catalogsource",
        name,
        "--type=merge",
        "-p",
        &patch,
    ]);
}

/// A cluster plugin package (`violet pack plugin`): plugin `name` at `version` (`vX.Y.Z`) with
/// the Helm chart at `chart` and one image `harbor.demo.io/acp/<name>:<version>` (a vendor's
/// registry: violet pushes it to the platform registry without that host). The ModuleConfig says
/// nothing of where its chart will be: the vendor cannot know the platform's registry.
pub fn plugin_package(
    dir: &Path,
    name: &str,
    version: &str,
    chart: &Path,
    cache: &Path,
) -> PathBuf {
    let work = dir.join(format!("plugin-{name}-{version}"));
    std::fs::create_dir_all(&work).unwrap();
    let layout = work.join("layout");
    image_layout(&layout, &format!("{name} {version}"));
    let descriptor = json!({
        "name": name,
        "displayName": name,
        "version": version,
        "chart": chart,
        "images": [format!("harbor.demo.io/acp/{name}:{version}=./layout:t")],
        "modulePlugin": {
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModulePlugin",
            "metadata": {"name": name},
            "spec": {"displayName": name},
        },
        "moduleConfig": {
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": format!("{name}-{version}"), "labels": {"cpaas.io/module-name": name}},
            "spec": {
                "version": version,
                "affinity": {"clusterAffinity": {"matchLabels": {"is-global": "true"}}},
                "config": {},
            },
        },
    });
    let d = work.join("plugin.yaml");
    std::fs::write(&d, serde_yaml::to_string(&descriptor).unwrap()).unwrap();
    let out = dir.join(format!("{name}.{version}.tgz"));
    violet_ok(
        &[
            "pack",
            "plugin",
            d.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        cache,
    );
    out
}
