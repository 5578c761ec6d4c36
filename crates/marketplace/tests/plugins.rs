//! Cluster plugins end to end (issue 13): the real `marketplace serve` with a real docker-registry
//! holding the plugins' charts (pushed with `marketplace chart push`) and images, driven with the
//! real kubectl and the YAML of the two documented walkthroughs (web-cli v4.0.4 on global,
//! gpu-device-plugin v4.0.15 on business), plus the refusals, upgrade with NEW_VERSION and pruning,
//! drift repair, uninstall, and a restart of serve in the middle of an install.

mod common;
mod plugin_support;

use std::time::Duration;

use common::{Server, poll, tail};
use serde_json::{Value, json};

const CHARTS: &str = "tests/plugin_charts";

/// A registry, a server using it, and a scratch dir.
struct Env {
    server: Server,
    registry: String,
    scratch: tempfile::TempDir,
    _reg: oci::localregistry::LocalRegistry,
    _rt: tokio::runtime::Runtime,
}

fn start(clusters: &[&str]) -> Env {
    let scratch = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reg = rt.block_on(common::registry(&scratch.path().join("registry")));
    let registry = reg.host();
    let server = Server::start_with(clusters, &["--registry", &registry], &[]);
    Env {
        server,
        registry,
        scratch,
        _reg: reg,
        _rt: rt,
    }
}

impl Env {
    /// `marketplace chart push tests/plugin_charts/<dir> oci://REG/charts`; returns the chart ref.
    fn push_chart(&self, dir: &str) -> String {
        plugin_support::push_chart(&self.registry, &format!("{CHARTS}/{dir}"))
    }

    /// Pushes a one-file image as `REG/<repo_tag>` with `marketplace image copy`.
    fn push_image(&self, repo_tag: &str) {
        let layout = self.scratch.path().join(repo_tag.replace([':', '/'], "_"));
        plugin_support::push_image(&self.registry, repo_tag, &layout);
    }

    fn apply(&self, yaml: &str) -> String {
        self.server.ok_stdin(&["apply", "-f", "-"], yaml)
    }

    fn create(&self, yaml: &str) -> String {
        self.server.ok_stdin(&["create", "-f", "-"], yaml)
    }

    fn moduleinfos(&self, plugin: &str) -> Vec<Value> {
        let out = self.server.ok(&[
            "get",
            "moduleinfo",
            "-l",
            &format!("cpaas.io/module-name={plugin}"),
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"].as_array().cloned().unwrap_or_default()
    }

    fn moduleinfo(&self, name: &str) -> Option<Value> {
        let out = self
            .server
            .kubectl(&["get", "moduleinfo", name, "-o", "json"]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// Waits for the ModuleInfo `name` to reach `phase`; returns it.
    fn wait_phase(&self, name: &str, phase: &str) -> Value {
        let mut last = Value::Null;
        let found = poll_long(&format!("ModuleInfo {name} {phase}"), || {
            let mi = self.moduleinfo(name)?;
            last = mi.clone();
            (mi["status"]["phase"] == phase).then_some(mi)
        });
        found.unwrap_or_else(|| {
            panic!(
                "ModuleInfo {name} never reached {phase}; last: {last:#}\nserver log: {}",
                tail(&self.server.log(), 4000)
            )
        })
    }

    /// Waits for the only ModuleInfo of `plugin` whose name is not `temporary`; returns its name.
    fn wait_renamed(&self, plugin: &str, temporary: &str) -> String {
        poll_long(&format!("the {plugin} ModuleInfo renamed"), || {
            let items = self.moduleinfos(plugin);
            let names: Vec<String> = items
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
                .collect();
            (names.len() == 1 && names[0] != temporary).then(|| names[0].clone())
        })
        .unwrap_or_else(|| {
            panic!(
                "{plugin} was not renamed: {:#?}\n{}",
                self.moduleinfos(plugin),
                tail(&self.server.log(), 4000)
            )
        })
    }

    /// Deletes a ModuleInfo and polls until it is gone (its finalizer has run).
    fn delete_moduleinfo(&self, name: &str) {
        self.server
            .ok(&["delete", "moduleinfo", name, "--wait=false"]);
        poll_long(&format!("ModuleInfo {name} deleted"), || {
            self.moduleinfo(name).is_none().then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "ModuleInfo {name} not deleted: {:#}\n{}",
                self.moduleinfo(name).unwrap_or_default(),
                tail(&self.server.log(), 3000)
            )
        });
    }

    fn get_on(&self, cluster: &str, args: &[&str]) -> Option<Value> {
        let mut full = vec!["get"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-o", "json"]);
        let out = self.server.kubectl_on(cluster, &full);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    fn names_on(&self, cluster: &str, resource: &str, namespace: &str) -> Vec<String> {
        let v = self
            .get_on(cluster, &[resource, "-n", namespace])
            .unwrap_or(json!({"items": []}));
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Like `common::poll` with a longer deadline (installs wait for the simulated kubelet); `None`
/// when time ran out so the caller can say what it saw.
fn poll_long<T>(_what: &str, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn condition<'a>(mi: &'a Value, type_: &str) -> &'a Value {
    mi["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

fn module_plugin(name: &str) -> String {
    format!(
        "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModulePlugin\nmetadata:\n  name: {name}\n"
    )
}

/// The documented web-cli ModuleConfig, plus where its chart is.
fn web_cli_config(chart: &str) -> String {
    format!(
        r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleConfig
metadata:
  name: web-cli-v4.0.4
spec:
  affinity:
    clusterAffinity:
      matchLabels:
        is-global: "true"
  version: v4.0.4
  config: {{}}
  chart:
    ref: {chart}
"#
    )
}

/// The documented web-cli ModuleInfo (the label block as the documentation means it).
const WEB_CLI_INFO: &str = r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleInfo
metadata:
  labels:
    cpaas.io/cluster-name: global
    cpaas.io/module-name: web-cli
    cpaas.io/module-type: plugin
  name: global-temporary-name
spec:
  config: {}
  version: v4.0.4
"#;

fn gpu_config(chart: &str) -> String {
    format!(
        r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleConfig
metadata:
  name: gpu-device-plugin-v4.0.15
spec:
  affinity:
    clusterAffinity:
      matchExpressions:
      - key: cpaas.io/os-linux
        operator: Exists
      matchLabels:
        cpaas.io/arch-amd64: "true"
  config:
    custom:
      mps_enable: false
      pgpu_enable: false
      vgpu_enable: false
  version: v4.0.15
  chart:
    ref: {chart}
"#
    )
}

fn gpu_info(name: &str, config: &str) -> String {
    format!(
        r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleInfo
metadata:
  labels:
    cpaas.io/cluster-name: business
    cpaas.io/module-name: gpu-device-plugin
    cpaas.io/module-type: plugin
  name: {name}
spec:
  config:
    custom:
{config}
  version: v4.0.15
"#
    )
}

fn is_installation_name(name: &str, cluster: &str) -> bool {
    name.strip_prefix(&format!("{cluster}-"))
        .is_some_and(|h| h.len() == 32 && h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
}

/// Asserts a refused ModuleInfo: phase Failed, `Validated=False` with `reason`, message naming `mentions`.
fn assert_refused(env: &Env, name: &str, reason: &str, mentions: &str) {
    let mi = env.wait_phase(name, "Failed");
    let c = condition(&mi, "Validated");
    assert_eq!(c["status"], "False", "{mi:#}");
    assert_eq!(c["reason"], reason, "{mi:#}");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains(mentions),
        "{reason}: {msg:?} should name {mentions}"
    );
}

#[test]
fn documented_walkthroughs_refusals_and_uninstall() {
    let env = start(&["business"]);
    for image in [
        "acp/web-cli:v4.0.4",
        "acp/pgpu-device-plugin:v4.0.15",
        "acp/vgpu-device-plugin:v4.0.15",
        "acp/mps-device-plugin:v4.0.15",
    ] {
        env.push_image(image);
    }
    let web_chart = env.push_chart("web-cli");
    assert_eq!(web_chart, format!("{}/charts/web-cli:4.0.4", env.registry));
    let gpu_chart = env.push_chart("gpu-device-plugin");

    // The cluster registry lists both clusters with their labels.
    let business = poll("Cluster business", || {
        env.get_on("global", &["cluster.cluster.alauda.io", "business"])
    });
    assert_eq!(business["metadata"]["labels"]["cpaas.io/os-linux"], "true");
    assert_eq!(
        business["metadata"]["labels"]["cpaas.io/arch-amd64"],
        "true"
    );
    assert!(business["metadata"]["labels"].get("is-global").is_none());
    let global = env
        .get_on("global", &["cluster.cluster.alauda.io", "global"])
        .unwrap();
    assert_eq!(global["metadata"]["labels"]["is-global"], "true");

    // Walkthrough 1: web-cli v4.0.4 on global.
    env.apply(&module_plugin("web-cli"));
    env.apply(&web_cli_config(&web_chart));
    env.create(WEB_CLI_INFO);
    let name = env.wait_renamed("web-cli", "global-temporary-name");
    assert!(is_installation_name(&name, "global"), "{name}");
    assert!(
        env.moduleinfo("global-temporary-name").is_none(),
        "the temporary name remains"
    );
    let mi = env.wait_phase(&name, "Running");
    assert_eq!(mi["status"]["currentVersion"], "v4.0.4");
    let table = env
        .server
        .ok(&["get", "moduleinfo", "-l", "cpaas.io/module-name=web-cli"]);
    let mut lines = table.lines();
    let header: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "CLUSTER",
            "MODULE",
            "DISPLAY_NAME",
            "STATUS",
            "TARGET_VERSION",
            "CURRENT_VERSION",
            "NEW_VERSION"
        ]
    );
    let row: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    // NEW_VERSION is empty (no newer version): how an absent cell prints is the server's table code.
    assert_eq!(
        row[..7],
        [
            name.as_str(),
            "global",
            "web-cli",
            "web-cli",
            "Running",
            "v4.0.4",
            "v4.0.4"
        ],
        "{table}"
    );
    let deploy = env
        .get_on("global", &["deployment", "web-cli", "-n", "cpaas-system"])
        .unwrap();
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("{}/acp/web-cli:v4.0.4", env.registry),
        "the platform's registry address reaches the chart"
    );
    assert!(
        env.names_on("global", "secrets", "cpaas-system")
            .iter()
            .any(|s| s == "sh.helm.release.v1.web-cli.v1"),
        "a Helm release record exists"
    );

    // Refusals.
    env.create(&WEB_CLI_INFO.replace("global-temporary-name", "global-second"));
    assert_refused(&env, "global-second", "AlreadyInstalled", &name);
    let events = poll("a Warning Event for the refused second install", || {
        let out = env.server.ok(&[
            "get",
            "events",
            "-A",
            "--field-selector",
            "involvedObject.name=global-second",
            "-o",
            "jsonpath={range .items[*]}{.type} {.reason}{\"\\n\"}{end}",
        ]);
        out.contains("Warning AlreadyInstalled").then_some(out)
    });
    assert!(events.contains("AlreadyInstalled"), "{events}");
    let no_type = WEB_CLI_INFO
        .replace("    cpaas.io/module-type: plugin\n", "")
        .replace("global-temporary-name", "global-no-type");
    env.create(&no_type);
    assert_refused(
        &env,
        "global-no-type",
        "MissingModuleType",
        "cpaas.io/module-type",
    );
    env.create(
        &WEB_CLI_INFO
            .replace("version: v4.0.4", "version: v9.9.9")
            .replace("global-temporary-name", "global-unknown-version"),
    );
    assert_refused(&env, "global-unknown-version", "UnknownVersion", "v9.9.9");
    env.create(
        &WEB_CLI_INFO
            .replace("cluster-name: global", "cluster-name: business")
            .replace("global-temporary-name", "business-web-cli"),
    );
    assert_refused(
        &env,
        "business-web-cli",
        "ClusterOutsideAffinity",
        "business",
    );
    assert!(
        env.get_on("business", &["deployment", "web-cli", "-n", "cpaas-system"])
            .is_none()
    );

    // Walkthrough 2: gpu-device-plugin v4.0.15 on business with pgpu and vgpu.
    env.apply(&module_plugin("gpu-device-plugin"));
    env.apply(&gpu_config(&gpu_chart));
    env.create(&gpu_info(
        "business-bad-type",
        "      mps_enable: false\n      pgpu_enable: \"yes\"\n      vgpu_enable: true",
    ));
    assert_refused(
        &env,
        "business-bad-type",
        "InvalidConfig",
        "custom.pgpu_enable",
    );
    env.create(&gpu_info("business-bad-key", "      tpu_enable: true"));
    assert_refused(
        &env,
        "business-bad-key",
        "InvalidConfig",
        "custom.tpu_enable",
    );
    for bad in ["business-bad-type", "business-bad-key"] {
        env.delete_moduleinfo(bad);
    }
    env.create(&gpu_info(
        "business-temporary-name",
        "      mps_enable: false\n      pgpu_enable: true\n      vgpu_enable: true",
    ));
    let gpu = env.wait_renamed("gpu-device-plugin", "business-temporary-name");
    assert!(is_installation_name(&gpu, "business"), "{gpu}");
    env.wait_phase(&gpu, "Running");
    let mut drivers = env.names_on("business", "daemonsets", "cpaas-system");
    drivers.sort();
    assert_eq!(drivers, ["pgpu-device-plugin", "vgpu-device-plugin"]);
    assert!(
        env.names_on("global", "daemonsets", "cpaas-system")
            .is_empty(),
        "nothing of it in global"
    );

    // Uninstall leaves nothing behind in the target cluster.
    env.delete_moduleinfo(&gpu);
    poll("the gpu release gone from business", || {
        let left = [
            env.names_on("business", "daemonsets", "cpaas-system"),
            env.names_on("business", "secrets", "cpaas-system")
                .into_iter()
                .filter(|s| s.starts_with("sh.helm.release"))
                .collect(),
        ];
        left.iter().all(Vec::is_empty).then_some(())
    });

    // A cluster registered by hand and reached through a kubeconfig Secret (here: business's
    // kubeconfig, as a real cluster would be): the plugin lands where that kubeconfig points.
    let kubeconfig = env.server.kubeconfig("business");
    env.server.ok(&[
        "create",
        "secret",
        "generic",
        "remote-kubeconfig",
        "-n",
        "default",
        &format!("--from-file=kubeconfig={}", kubeconfig.display()),
    ]);
    env.apply(
        r#"{"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "remote", "labels": {"cpaas.io/os-linux": "true", "cpaas.io/arch-amd64": "true"}},
            "spec": {"kubeconfigSecret": {"namespace": "default", "name": "remote-kubeconfig"}}}"#,
    );
    env.create(
        &gpu_info("remote-temporary-name", "      mps_enable: true")
            .replace("cluster-name: business", "cluster-name: remote"),
    );
    let remote = env.wait_renamed("gpu-device-plugin", "remote-temporary-name");
    assert!(is_installation_name(&remote, "remote"), "{remote}");
    env.wait_phase(&remote, "Running");
    assert_eq!(
        env.names_on("business", "daemonsets", "cpaas-system"),
        ["mps-device-plugin"]
    );
    env.delete_moduleinfo(&remote);
    assert!(
        env.names_on("business", "daemonsets", "cpaas-system")
            .is_empty()
    );

    env.delete_moduleinfo(&name);
    poll("web-cli gone from global", || {
        env.get_on("global", &["deployment", "web-cli", "-n", "cpaas-system"])
            .is_none()
            .then_some(())
    });
}

fn demo_config(version: &str, chart: &str) -> String {
    format!(
        r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleConfig
metadata:
  name: demo-{version}
spec:
  version: {version}
  affinity:
    clusterAffinity:
      matchLabels:
        cpaas.io/arch-amd64: "true"
  config: {{}}
  chart:
    ref: {chart}
"#
    )
}

const DEMO_INFO: &str = r#"apiVersion: cluster.alauda.io/v1alpha1
kind: ModuleInfo
metadata:
  name: business-demo
  labels:
    cpaas.io/cluster-name: business
    cpaas.io/module-name: demo
    cpaas.io/module-type: plugin
spec:
  version: v1.0.0
"#;

#[test]
fn upgrade_shows_new_version_and_prunes_drift_is_repaired_and_a_restart_finishes_an_install() {
    let mut env = start(&["business"]);
    env.push_image("acp/demo:v1.0.0");
    env.push_image("acp/demo:v2.0.0");
    let v1 = env.push_chart("demo-v1");
    let v2 = env.push_chart("demo-v2");
    env.apply(&module_plugin("demo"));
    env.apply(&demo_config("v1.0.0", &v1));

    // Restart serve in the middle of an install: without the kubelet stand-in in business the
    // release is applied but its Deployment never becomes available, so the installation is held
    // in Processing; after a restart (with the stand-in) it finishes.
    env.server.restart_with_args(&[
        "--registry",
        &env.registry.clone(),
        "--no-simulator=business",
    ]);
    env.create(DEMO_INFO);
    let name = env.wait_renamed("demo", "business-demo");
    let mi = poll_long("the install applied and waiting for its workloads", || {
        let mi = env.moduleinfo(&name)?;
        (condition(&mi, "Installed")["status"] == "True").then_some(mi)
    })
    .unwrap_or_else(|| panic!("{:#}", env.moduleinfo(&name).unwrap()));
    assert_eq!(mi["status"]["phase"], "Processing", "{mi:#}");
    assert!(mi["status"].get("currentVersion").is_none(), "{mi:#}");
    env.server
        .restart_with_args(&["--registry", &env.registry.clone()]);
    let mi = env.wait_phase(&name, "Running");
    assert_eq!(mi["status"]["currentVersion"], "v1.0.0");
    assert!(mi["status"].get("newVersion").is_none(), "{mi:#}");

    // A newer version published: NEW_VERSION and the preview, before any upgrade.
    env.apply(&demo_config("v2.0.0", &v2));
    let mi = poll_long("NEW_VERSION v2.0.0 with its preview", || {
        let mi = env.moduleinfo(&name)?;
        (mi["status"]["newVersion"] == "v2.0.0"
            && mi["status"]["upgradePreview"]["toVersion"] == "v2.0.0")
            .then_some(mi)
    })
    .unwrap_or_else(|| panic!("{:#}", env.moduleinfo(&name).unwrap()));
    let preview = &mi["status"]["upgradePreview"];
    assert_eq!(
        preview["added"],
        json!(["ConfigMap cpaas-system/demo-v2-only"]),
        "{preview:#}"
    );
    assert_eq!(
        preview["removed"],
        json!(["ConfigMap cpaas-system/demo-v1-only"]),
        "{preview:#}"
    );
    let table = env.server.ok(&["get", "moduleinfo", &name, "--no-headers"]);
    assert!(
        table.split_whitespace().eq([
            &*name, "business", "demo", "demo", "Running", "v1.0.0", "v1.0.0", "v2.0.0"
        ]),
        "{table}"
    );
    assert!(
        env.get_on(
            "business",
            &["configmap", "demo-v1-only", "-n", "cpaas-system"]
        )
        .is_some()
    );

    // Drift: the Deployment deleted by hand is put back and recorded.
    env.server.kubectl_on(
        "business",
        &["delete", "deployment", "demo", "-n", "cpaas-system"],
    );
    let mi = poll_long("the drift repaired", || {
        let mi = env.moduleinfo(&name)?;
        let recorded = mi["status"]["drift"].as_array().is_some_and(|d| {
            d.iter()
                .any(|r| r["object"] == "Deployment cpaas-system/demo" && r["change"] == "Deleted")
        });
        (recorded
            && env
                .get_on("business", &["deployment", "demo", "-n", "cpaas-system"])
                .is_some())
        .then_some(mi)
    });
    assert!(
        mi.is_some(),
        "drift not repaired: {:#}\n{}",
        env.moduleinfo(&name).unwrap(),
        tail(&env.server.log(), 3000)
    );

    // Upgrade: v2 applied, the object v2 no longer has pruned.
    env.server.ok(&[
        "patch",
        "moduleinfo",
        &name,
        "--type=merge",
        "-p",
        r#"{"spec":{"version":"v2.0.0"}}"#,
    ]);
    let mi = poll_long("upgraded to v2.0.0", || {
        let mi = env.moduleinfo(&name)?;
        (mi["status"]["phase"] == "Running" && mi["status"]["currentVersion"] == "v2.0.0")
            .then_some(mi)
    })
    .unwrap_or_else(|| {
        panic!(
            "{:#}\n{}",
            env.moduleinfo(&name).unwrap(),
            tail(&env.server.log(), 3000)
        )
    });
    assert!(mi["status"].get("newVersion").is_none(), "{mi:#}");
    assert!(
        env.get_on(
            "business",
            &["configmap", "demo-v1-only", "-n", "cpaas-system"]
        )
        .is_none(),
        "not pruned"
    );
    assert!(
        env.get_on(
            "business",
            &["configmap", "demo-v2-only", "-n", "cpaas-system"]
        )
        .is_some()
    );
    let image = env
        .get_on("business", &["deployment", "demo", "-n", "cpaas-system"])
        .unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
        .clone();
    assert_eq!(image, format!("{}/acp/demo:v2.0.0", env.registry));

    // Uninstall leaves nothing behind.
    env.delete_moduleinfo(&name);
    for (resource, n) in [("deployment", "demo"), ("configmap", "demo-v2-only")] {
        assert!(
            env.get_on("business", &[resource, n, "-n", "cpaas-system"])
                .is_none(),
            "{resource} {n} left behind"
        );
    }
    let records: Vec<_> = env
        .names_on("business", "secrets", "cpaas-system")
        .into_iter()
        .filter(|s| s.starts_with("sh.helm.release"))
        .collect();
    assert!(records.is_empty(), "{records:?}");
}

/// A one-ConfigMap chart `retag` 1.0.0 whose ConfigMap says `content` and the `note` value.
fn write_retag_chart(dir: &std::path::Path, content: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: retag\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "note: none\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: retag\ndata:\n  content: {content}\n  note: {{{{ .Values.note | quote }}}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_chart_pushed_again_under_the_same_tag_is_read_again_when_the_release_is_rendered_next() {
    let env = start(&[]);
    let push = |content: &str| {
        let dir = env.scratch.path().join(format!("retag-{content}"));
        write_retag_chart(&dir, content);
        plugin_support::push_chart(&env.registry, dir.to_str().unwrap())
    };
    let chart = push("chart-a");
    assert_eq!(chart, format!("{}/charts/retag:1.0.0", env.registry));
    env.apply(&module_plugin("retag"));
    env.apply(&format!(
        "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleConfig\nmetadata:\n  name: retag-v1.0.0\nspec:\n  version: v1.0.0\n  config:\n    note: first\n  chart:\n    ref: {chart}\n"
    ));
    env.create(
        "apiVersion: cluster.alauda.io/v1alpha1\nkind: ModuleInfo\nmetadata:\n  name: global-retag\n  labels:\n    cpaas.io/cluster-name: global\n    cpaas.io/module-name: retag\n    cpaas.io/module-type: plugin\nspec:\n  version: v1.0.0\n",
    );
    let name = env.wait_renamed("retag", "global-retag");
    env.wait_phase(&name, "Running");
    let data = |env: &Env| {
        env.get_on("global", &["configmap", "retag", "-n", "cpaas-system"])
            .map(|cm| cm["data"].clone())
    };
    assert_eq!(
        data(&env).unwrap(),
        json!({"content": "chart-a", "note": "first"})
    );

    // The same tag now holds chart B; a config change renders the release again, from B.
    assert_eq!(push("chart-b"), chart);
    env.server.ok(&[
        "patch",
        "moduleinfo",
        &name,
        "--type=merge",
        "-p",
        r#"{"spec":{"config":{"note":"second"}}}"#,
    ]);
    let seen = poll_long("the ConfigMap rendered from chart B", || {
        data(&env).filter(|d| d["note"] == "second")
    })
    .unwrap_or_else(|| {
        panic!(
            "not rendered again: {:#}\n{}",
            env.moduleinfo(&name).unwrap(),
            tail(&env.server.log(), 3000)
        )
    });
    assert_eq!(seen, json!({"content": "chart-b", "note": "second"}));
}
