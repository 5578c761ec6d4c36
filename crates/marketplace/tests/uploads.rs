//! Upload → install end to end (issue 14, SPEC §4 with §2.5 and §3): the real `marketplace serve`
//! (controllers olm, plugins, artifacts and the simulator) over a real Debian `docker-registry`,
//! the real `violet` binary (packing and pushing; it logs in at `/platform/v1/login` and finds the
//! registry through `/platform/v1/info`) and the real kubectl.
//!
//! How an operator is "known but Absent" before its upload: the way the product has it, the
//! platform's `platform` catalog lists the operator (its catalog image ships with the platform and
//! names the bundle and operator images at the platform registry) while none of those images is
//! in the registry yet, so OperatorHub shows it Absent. `violet push` puts the images there and
//! records the ArtifactVersion naming the `platform` catalog, which re-reads that catalog: the
//! package turns Ready without any catalog poll (the CatalogSource keeps its default 10-minute
//! poll interval, so only the upload can have done it). A first ArtifactVersion record without
//! images was not chosen: an uploaded bundle whose image cannot be pulled never joins a catalog,
//! so the package would not be listed at all rather than Absent.

mod common;
mod plugin_support;
mod upload_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, tail};
use serde_json::Value;
use upload_support as up;

/// A registry, a server using it as the platform registry, and a scratch dir.
struct Env {
    server: Server,
    registry: String,
    scratch: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    _reg: oci::localregistry::LocalRegistry,
}

fn start() -> Env {
    let scratch = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reg = rt.block_on(common::registry(&scratch.path().join("registry")));
    let registry = reg.host();
    let server = Server::start_with(&[], &["--registry", &registry], &[]);
    Env {
        server,
        registry,
        scratch,
        rt,
        _reg: reg,
    }
}

impl Env {
    fn dir(&self) -> &Path {
        self.scratch.path()
    }

    fn cache(&self) -> std::path::PathBuf {
        self.dir().join("violet-cache")
    }

    fn get(&self, args: &[&str]) -> Option<Value> {
        let mut a = vec!["get"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "json"]);
        let out = self.server.kubectl(&a);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// Polls `f` (up to two minutes: installs wait for the simulated kubelet); on timeout fails
    /// with `state()` and the server log.
    fn wait<T>(
        &self,
        what: &str,
        state: impl Fn() -> String,
        mut f: impl FnMut() -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if start.elapsed() > Duration::from_secs(120) {
                panic!(
                    "timed out waiting for {what}\nstate: {}\nserver log: {}",
                    state(),
                    tail(&self.server.log(), 5000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn package_status(&self, package: &str) -> Option<String> {
        let pm = self.get(&["packagemanifests", package])?;
        pm["metadata"]["labels"]["cpaas.io/package-status"]
            .as_str()
            .map(str::to_string)
    }

    fn olm_state(&self) -> String {
        let out = self.server.kubectl(&[
            "get",
            "packagemanifests,catalogsources,artifactversions,subscriptions,installplans,csv,deployments",
            "-A",
            "-o",
            "wide",
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    fn plugin_state(&self) -> String {
        let wide = self.server.kubectl(&[
            "get",
            "moduleplugins,moduleconfigs,artifactversions",
            "-A",
            "-o",
            "wide",
        ]);
        let infos = self.server.kubectl(&["get", "moduleinfos", "-o", "yaml"]);
        format!(
            "{}{}\n{}",
            String::from_utf8_lossy(&wide.stdout),
            String::from_utf8_lossy(&wide.stderr),
            tail(&String::from_utf8_lossy(&infos.stdout), 4000)
        )
    }
}

#[test]
fn an_absent_operator_is_ready_after_violet_push_and_installs_through_a_subscription() {
    let env = start();
    let host = env.registry.clone();
    let cache = env.cache();
    let op = up::operator_package(
        env.dir(),
        &host,
        "uploaded-operator",
        "1.0.0",
        "e2e",
        &cache,
    );

    // The platform catalog lists the operator; nothing of it is in the registry yet.
    let image = env.rt.block_on(up::push_catalog(
        &host,
        "acp/platform-catalog",
        "v1",
        vec![op.bundle.clone()],
    ));
    up::point_catalog_source(&env.server, "platform", &image);
    let status = env.wait(
        "the operator listed by the platform catalog",
        || env.olm_state(),
        || env.package_status(&op.package),
    );
    assert_eq!(
        status, "Absent",
        "its bundle and operator images are not in the registry yet"
    );
    let pm = env.get(&["packagemanifests", &op.package]).unwrap();
    assert_eq!(pm["status"]["catalogSource"], "platform");
    assert_eq!(pm["status"]["channels"][0]["currentCSV"], op.csv.as_str());

    // violet push: images into the registry, then the records; the package turns Ready.
    let out = up::push(&env.server, &op.tgz, &cache);
    let pushed = Instant::now();
    assert!(out.contains("logged in"), "{out}");
    env.wait(
        "the package Ready after the push",
        || env.olm_state(),
        || (env.package_status(&op.package)? == "Ready").then_some(()),
    );
    eprintln!("push end -> PackageManifest Ready: {:?}", pushed.elapsed());
    let av = env
        .get(&[
            "-n",
            "cpaas-system",
            "artifactversion",
            &format!("{}.v1.0.0", op.package),
        ])
        .expect("violet recorded the ArtifactVersion in global");
    assert_eq!(av["spec"]["catalogSource"], "platform");
    assert_eq!(av["spec"]["type"], "bundle");

    // Install as the documentation's kubectl walkthrough does: a Manual Subscription with
    // startingCSV, its InstallPlan approved with a JSON patch, the CSV Succeeded.
    env.server.ok(&["create", "namespace", "uploaded"]);
    env.server.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n  annotations:\n    cpaas.io/target-namespaces: \"\"\n  name: uploaded-subs\n  namespace: uploaded\nspec:\n  channel: stable\n  installPlanApproval: Manual\n  name: {}\n  source: platform\n  sourceNamespace: cpaas-system\n  startingCSV: {}\n",
            op.package, op.csv
        ),
    );
    let plan = env.wait(
        "the InstallPlan awaiting approval",
        || env.olm_state(),
        || {
            let sub = env.get(&["-n", "uploaded", "subscription", "uploaded-subs"])?;
            (sub["status"]["state"] == "UpgradePending")
                .then(|| {
                    sub["status"]["installPlanRef"]["name"]
                        .as_str()
                        .map(str::to_string)
                })
                .flatten()
        },
    );
    let table = env
        .server
        .ok(&["-n", "uploaded", "get", "installplan", &plan]);
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row,
        [plan.as_str(), op.csv.as_str(), "Manual", "false"],
        "{table}"
    );
    env.server.ok(&[
        "-n",
        "uploaded",
        "patch",
        "installplan",
        &plan,
        "--type=json",
        "-p=[{\"op\": \"replace\", \"path\": \"/spec/approved\", \"value\": true}]",
    ]);
    env.wait(
        "the CSV Succeeded",
        || env.olm_state(),
        || {
            let csv = env.get(&["-n", "uploaded", "csv", &op.csv])?;
            (csv["status"]["phase"] == "Succeeded").then_some(())
        },
    );
    let dep = env
        .get(&["-n", "uploaded", "deployment", &op.package])
        .expect("the operator's Deployment");
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        op.operator_image.as_str()
    );
    assert_eq!(dep["status"]["availableReplicas"], 1, "{dep:#}");
}

/// The only ModuleInfo of `plugin`, once renamed from `temporary`.
fn renamed(env: &Env, plugin: &str, temporary: &str) -> Option<Value> {
    let list = env.get(&[
        "moduleinfo",
        "-l",
        &format!("cpaas.io/module-name={plugin}"),
    ])?;
    let items = list["items"].as_array()?;
    (items.len() == 1 && items[0]["metadata"]["name"] != temporary).then(|| items[0].clone())
}

#[test]
fn a_pushed_plugin_installs_to_running_and_a_newer_push_shows_new_version_then_upgrades() {
    let env = start();
    let cache = env.cache();
    let charts = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/plugin_charts");
    let v1 = up::plugin_package(env.dir(), "demo", "v1.0.0", &charts.join("demo-v1"), &cache);
    let v2 = up::plugin_package(env.dir(), "demo", "v2.0.0", &charts.join("demo-v2"), &cache);

    // violet push → ModulePlugin and ModuleConfig in global.
    up::push(&env.server, &v1, &cache);
    let config = env.wait(
        "ModulePlugin demo and ModuleConfig demo-v1.0.0",
        || env.plugin_state(),
        || {
            env.get(&["moduleplugin", "demo"])?;
            env.get(&["moduleconfig", "demo-v1.0.0"])
        },
    );
    assert_eq!(config["spec"]["version"], "v1.0.0");
    let chart = config["spec"]["chart"]["ref"].as_str().unwrap();
    assert!(
        chart.starts_with(&format!("{}/acp/chart-demo:1.0.0", env.registry)),
        "the chart is where violet pushed it: {chart}"
    );

    // A ModuleInfo (kubectl apply, SPEC §3) → renamed → Running.
    env.server.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleInfo\nmetadata:\n  name: global-demo\n  labels:\n    cpaas.io/cluster-name: global\n    cpaas.io/module-name: demo\n    cpaas.io/module-type: plugin\nspec:\n  config: {}\n  version: v1.0.0\n",
    );
    let mi = env.wait(
        "the demo ModuleInfo Running",
        || env.plugin_state(),
        || {
            let mi = renamed(&env, "demo", "global-demo")?;
            (mi["status"]["phase"] == "Running").then_some(mi)
        },
    );
    let name = mi["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(mi["status"]["currentVersion"], "v1.0.0");
    let dep = env
        .get(&["-n", "cpaas-system", "deployment", "demo"])
        .expect("the plugin's Deployment in global");
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("{}/acp/demo:v1.0.0", env.registry),
        "the image violet pushed"
    );

    // A newer version pushed: its ModuleConfig appears and the ModuleInfo shows NEW_VERSION.
    up::push(&env.server, &v2, &cache);
    let pushed = Instant::now();
    env.wait(
        "ModuleConfig demo-v2.0.0",
        || env.plugin_state(),
        || env.get(&["moduleconfig", "demo-v2.0.0"]),
    );
    eprintln!(
        "push end -> ModuleConfig demo-v2.0.0 present: {:?}",
        pushed.elapsed()
    );
    let row = env.wait(
        "NEW_VERSION v2.0.0 in `kubectl get moduleinfo`",
        || env.plugin_state(),
        || {
            let table = env
                .server
                .ok(&["get", "moduleinfo", "-l", "cpaas.io/module-name=demo"]);
            let mut lines = table.lines();
            let header: Vec<String> = lines
                .next()?
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let row: Vec<String> = lines
                .next()?
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let col = header.iter().position(|h| h == "NEW_VERSION")?;
            (row.get(col).map(String::as_str) == Some("v2.0.0")).then_some(row)
        },
    );
    assert_eq!(
        row,
        [
            name.as_str(),
            "global",
            "demo",
            "demo",
            "Running",
            "v1.0.0",
            "v1.0.0",
            "v2.0.0"
        ]
    );

    // Upgrade by patching spec.version → Running at v2.0.0.
    env.server.ok(&[
        "patch",
        "moduleinfo",
        &name,
        "--type=merge",
        "-p",
        r#"{"spec":{"version":"v2.0.0"}}"#,
    ]);
    env.wait(
        "the demo ModuleInfo Running at v2.0.0",
        || env.plugin_state(),
        || {
            let mi = env.get(&["moduleinfo", &name])?;
            (mi["status"]["phase"] == "Running" && mi["status"]["currentVersion"] == "v2.0.0")
                .then_some(())
        },
    );
    let dep = env
        .get(&["-n", "cpaas-system", "deployment", "demo"])
        .unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("{}/acp/demo:v2.0.0", env.registry)
    );
}
