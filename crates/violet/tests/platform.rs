//! `violet push`, `list` and `gc` end to end against the platform as `marketplace serve` assembles
//! it — the embedded control plane (global, region1, region2) with PLAT's `/platform/v1` login
//! endpoints and admin binding mounted, the Artifact CRDs, and a real `docker-registry` as the
//! platform registry (discovered through `/platform/v1/info`, so no `--dest-repo`).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use violet::records;

struct Platform {
    cp: apiserver::ControlPlane,
    dir: PathBuf,
    admin_password: String,
}

impl Platform {
    async fn start(dir: &Path, registry: &str) -> Platform {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let users = platform::Users::new(&data);
        users.bootstrap_admin(0).unwrap();
        let mut db = platform::UserDb::load(users.path()).unwrap();
        db.add(
            "dev",
            platform::RoleType::Custom,
            "developer",
            "dev-password-1",
            0,
        )
        .unwrap();
        db.add(
            "auditor",
            platform::RoleType::System,
            "platform-auditor",
            "auditor-password-1",
            0,
        )
        .unwrap();
        db.save(users.path()).unwrap();
        let mut cfg = apiserver::Config::new(&data);
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        cfg.registry = Some(registry.to_string());
        for c in ["region1", "region2"] {
            cfg.clusters.push(apiserver::ClusterSpec::parse(c).unwrap());
        }
        cfg.mounts
            .push(platform::Platform::mount(platform::Settings::default()));
        cfg.extra_cluster_role_bindings
            .push(serde_json::to_value(platform::rbac::admin_binding()).unwrap());
        let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
        for c in ["global", "region1", "region2"] {
            install_artifact_api(cp.client(c).unwrap()).await;
        }
        let admin_password = std::fs::read_to_string(data.join("admin-password"))
            .unwrap()
            .trim()
            .to_string();
        Platform {
            cp,
            dir: data,
            admin_password,
        }
    }

    fn login_args(&self) -> Vec<String> {
        vec![
            "--platform-address".into(),
            self.cp.base_url(),
            "--platform-ca".into(),
            self.dir.join("pki/ca.crt").display().to_string(),
            "--platform-username".into(),
            "admin".into(),
            "--platform-password".into(),
            self.admin_password.clone(),
        ]
    }

    async fn versions(&self, cluster: &str) -> Vec<DynamicObject> {
        records::list_versions(self.cp.client(cluster).unwrap(), cluster)
            .await
            .unwrap()
    }
}

async fn install_artifact_api(client: kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [
        apis::artifacts::Artifact::crd(),
        apis::artifacts::ArtifactVersion::crd(),
    ] {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let ns: Api<Namespace> = Api::all(client.clone());
    let mut n = Namespace::default();
    n.metadata.name = Some(records::NAMESPACE.into());
    ns.create(&PostParams::default(), &n).await.unwrap();
    let start = Instant::now();
    while records::list_versions(client.clone(), "-").await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Artifact CRDs never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn run(args: &[&str], login: &[String]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(login.iter().map(String::as_str));
    violet(&all)
}

fn ok(args: &[&str], login: &[String]) -> String {
    let out = run(args, login);
    assert!(
        out.status.success(),
        "violet {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A cluster plugin package: chart directory + descriptor, packed with `violet pack plugin`.
fn plugin_package(dir: &Path, version: &str) -> PathBuf {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: web-cli\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-cli\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plugin.yaml"),
        format!("name: web-cli\ndisplayName: Web CLI\nversion: v{version}\nchart: ./chart\nmodulePlugin:\n  apiVersion: cluster.alauda.io/v1alpha1\n  kind: ModulePlugin\n  metadata:\n    name: web-cli\nmoduleConfig:\n  apiVersion: cluster.alauda.io/v1alpha1\n  kind: ModuleConfig\n  metadata:\n    name: web-cli-v{version}\n  spec:\n    version: v{version}\n"),
    )
    .unwrap();
    let out = dir.join(format!("web-cli.v{version}.tgz"));
    violet_ok(&[
        "pack",
        "plugin",
        dir.join("plugin.yaml").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admins_and_wrong_passwords_are_refused_before_anything_is_pushed() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path(), None).await;
    let p = Platform::start(tmp.path(), &reg.host()).await;
    let pkg = topolvm_package(&tmp.path().join("pkg"), 21);
    let base = p.cp.base_url();
    let ca = p.dir.join("pki/ca.crt").display().to_string();
    for (user, pass, expect) in [
        ("dev", "dev-password-1", "System role platform-admin-system"),
        (
            "auditor",
            "auditor-password-1",
            "System role platform-admin-system",
        ),
        ("admin", "not-the-password", "wrong username or password"),
    ] {
        let out = violet(&[
            "push",
            pkg.to_str().unwrap(),
            "--plain",
            "--platform-address",
            &base,
            "--platform-ca",
            &ca,
            "--platform-username",
            user,
            "--platform-password",
            pass,
        ]);
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && e.contains(expect), "{user}: {e}");
        assert!(
            !e.contains(pass) || pass == "dev-password-1" && !e.contains("dev-password-1"),
            "password printed: {e}"
        );
    }
    let out = violet(&[
        "push",
        pkg.to_str().unwrap(),
        "--plain",
        "--platform-address",
        "https://127.0.0.1:1",
        "--platform-username",
        "admin",
        "--platform-password",
        "x",
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("cannot reach the platform") && e.contains("Nothing was pushed"),
        "{e}"
    );
    let out = violet(&[
        "push",
        pkg.to_str().unwrap(),
        "--plain",
        "--platform-address",
        &base,
        "--platform-username",
        "admin",
        "--platform-password",
        &p.admin_password,
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("--platform-ca"),
        "an untrusted certificate says what to do: {e}"
    );
    assert!(repositories(&reg).is_empty(), "nothing pushed");
    for c in ["global", "region1", "region2"] {
        assert!(p.versions(c).await.is_empty(), "no records in {c}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_plugins_and_charts_reach_their_clusters_and_gc_collects_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(tmp.path(), None).await;
    let p = Platform::start(tmp.path(), &reg.host()).await;
    let login = p.login_args();
    let pkgs = tmp.path().join("packages");
    std::fs::create_dir_all(&pkgs).unwrap();
    let op = topolvm_package(&tmp.path().join("op"), 31);
    std::fs::copy(&op, pkgs.join("topolvm-operator.v2.3.0.tgz")).unwrap();
    let d = pkgs.to_str().unwrap();

    // A directory: images only, then records only.
    let out = ok(&["push", d, "--plain", "--skip-crs"], &login);
    assert!(
        out.contains("logged in") && out.contains("--skip-crs"),
        "{out}"
    );
    for c in ["global", "region1", "region2"] {
        assert!(p.versions(c).await.is_empty());
    }
    let out = ok(
        &[
            "push",
            d,
            "--plain",
            "--skip-push",
            "--clusters",
            "region1,region2",
        ],
        &login,
    );
    assert!(
        !out.contains("summary:"),
        "--skip-push sends nothing: {out}"
    );
    for c in ["region1", "region2"] {
        let v = p.versions(c).await;
        assert_eq!(v.len(), 1, "{c}");
        assert_eq!(
            v[0].metadata.name.as_deref(),
            Some("topolvm-operator.v2.3.0")
        );
        let image = v[0].data["spec"]["image"].as_str().unwrap();
        assert!(
            image.starts_with(&format!(
                "{}/acp/topolvm-operator-bundle@sha256:",
                reg.host()
            )),
            "{image}"
        );
    }
    assert!(
        p.versions("global").await.is_empty(),
        "operators go only to --clusters"
    );

    // A re-push of the same package is a no-op.
    let out = ok(
        &[
            "push",
            op.to_str().unwrap(),
            "--plain",
            "--clusters",
            "region1,region2",
        ],
        &login,
    );
    assert!(
        out.contains("unchanged: Artifact topolvm-operator"),
        "{out}"
    );
    assert!(out.contains("summary: 0 blobs sent"), "{out}");

    // A plugin: global only, --clusters ignored with a notice.
    let plugin = plugin_package(&tmp.path().join("plugin"), "4.0.4");
    let out = ok(
        &[
            "push",
            plugin.to_str().unwrap(),
            "--plain",
            "--clusters",
            "region1",
        ],
        &login,
    );
    assert!(
        out.contains("notice: --clusters is ignored for cluster plugins"),
        "{out}"
    );
    let v: Vec<_> = p.versions("global").await;
    let pv = v
        .iter()
        .find(|v| v.metadata.name.as_deref() == Some("web-cli.v4.0.4"))
        .expect("plugin version in global");
    assert_eq!(pv.data["spec"]["modulePlugin"]["kind"], "ModulePlugin");
    assert_eq!(pv.data["spec"]["moduleConfig"]["spec"]["version"], "v4.0.4");
    assert_eq!(pv.data["spec"]["chart"]["name"], "web-cli");
    assert_eq!(
        p.versions("region1").await.len(),
        1,
        "nothing extra in region1"
    );

    // A chart: global, in public-charts.
    let chart_dir = tmp.path().join("mychart");
    std::fs::create_dir_all(chart_dir.join("templates")).unwrap();
    std::fs::write(
        chart_dir.join("Chart.yaml"),
        "apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
    )
    .unwrap();
    let chart = tmp.path().join("mychart-0.1.0.tgz");
    violet_ok(&[
        "pack",
        "chart",
        chart_dir.to_str().unwrap(),
        "-o",
        chart.to_str().unwrap(),
    ]);
    ok(&["push", chart.to_str().unwrap(), "--plain"], &login);
    let cv = p
        .versions("global")
        .await
        .into_iter()
        .find(|v| v.data["spec"]["type"] == "chart")
        .expect("chart version");
    assert!(
        cv.data["spec"]["image"]
            .as_str()
            .unwrap()
            .contains("/public-charts/mychart@sha256:")
    );

    // list: one app per package version with its clusters.
    let y = ok(&["list", "--output", "yaml"], &login);
    let apps: serde_json::Value = serde_yaml::from_str(&y).unwrap();
    let apps = apps["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 3, "{y}");
    let op_app = apps
        .iter()
        .find(|a| a["name"] == "topolvm-operator")
        .unwrap();
    assert_eq!(
        op_app["clusters"],
        serde_json::json!(["region1", "region2"])
    );

    // gc: nothing at first; an ArtifactVersion whose Artifact is gone is collected.
    let out = ok(&["gc", "--dry-run", "--plain"], &login);
    assert!(out.contains("nothing to collect"), "{out}");
    let arts: Api<DynamicObject> = Api::namespaced_with(
        p.cp.client("region1").unwrap(),
        records::NAMESPACE,
        &records::artifact_resource(),
    );
    arts.delete("topolvm-operator", &DeleteParams::default())
        .await
        .unwrap();
    let out = ok(
        &["gc", "--dry-run", "--plain", "--clusters", "region1"],
        &login,
    );
    assert!(
        out.contains("would remove ArtifactVersion topolvm-operator.v2.3.0 in cluster region1"),
        "{out}"
    );
    assert_eq!(
        p.versions("region1").await.len(),
        1,
        "--dry-run removes nothing"
    );
    let record = tmp.path().join("gc.log");
    let out = ok(
        &[
            "gc",
            "--plain",
            "--clusters",
            "region1",
            "--record",
            record.to_str().unwrap(),
        ],
        &login,
    );
    assert!(out.contains("removed 1 items"), "{out}");
    assert!(p.versions("region1").await.is_empty());
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("topolvm-operator.v2.3.0")
    );
}
