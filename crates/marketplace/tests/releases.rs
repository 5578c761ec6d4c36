//! Helm releases against a real `marketplace serve`, checked both ways with the real Helm engine
//! (helm-python-sdk, Helm v4; `tests/releases/helm.py` runs one action) and the real kubectl:
//! Helm's releases are ours to list/upgrade/rollback/uninstall and ours are Helm's to read.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// Writes a small chart: a ConfigMap `<release>-cm` with `msg`, optional extra templates.
fn chart(dir: &Path, name: &str, extra: &[(&str, &str)]) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n"),
    )
    .unwrap();
    std::fs::write(root.join("values.yaml"), "msg: hello\n").unwrap();
    std::fs::write(
        root.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  msg: {{ .Values.msg | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("templates/NOTES.txt"),
        "Thanks {{ .Release.Name }}\n",
    )
    .unwrap();
    for (file, text) in extra {
        std::fs::write(root.join("templates").join(file), text).unwrap();
    }
    root
}

/// A post-upgrade (or post-install) Job hook whose image is in no registry: it never completes.
const STUCK_JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-job\n  annotations:\n    helm.sh/hook: post-upgrade\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: x\n        image: nosuch.example/none:1\n";

/// Runs `marketplace chart ARGS --cluster global` against the server; (status ok, stdout, stderr).
fn ours(s: &common::Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .arg("chart")
        .args(args)
        .args(["--cluster", "global", "--data-dir"])
        .arg(s.data_dir())
        .output()
        .expect("run marketplace");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ours_ok(s: &common::Server, args: &[&str]) -> String {
    let (ok, stdout, stderr) = ours(s, args);
    assert!(
        ok,
        "marketplace chart {args:?} failed:\n{stderr}\nserver log tail: {}",
        common::tail(&s.log(), 2000)
    );
    stdout
}

/// The Python interpreter under the name `helm`: Helm v4 applies with its program name as the
/// server-side-apply field manager, so run this way the SDK manages fields exactly as the `helm`
/// CLI does (as `python3` it would be a different manager and conflict with the CLI's fields).
fn helm_program(s: &common::Server) -> PathBuf {
    let link = s.data_dir().join("bin/helm");
    if !link.exists() {
        let out = Command::new("python3")
            .args([
                "-c",
                "import os, sys; print(os.path.realpath(sys.executable))",
            ])
            .output()
            .expect("python3 is required (scripts/setup installs helm-python-sdk)");
        let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(python, &link).unwrap();
    }
    link
}

/// One action of the real Helm engine; `Ok(result)` or `Err(Helm's message)`.
fn helm(s: &common::Server, ns: &str, action: &str, args: Value) -> Result<Value, String> {
    let out = Command::new(helm_program(s))
        .arg("tests/releases/helm.py")
        .arg(s.kubeconfig("global"))
        .args([ns, action, &args.to_string()])
        .env("HOME", s.data_dir())
        .output()
        .expect("run python3 (scripts/setup installs helm-python-sdk)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "helm.py {action} crashed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{stdout}: {e}"));
    match v.get("error") {
        Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
        None => Ok(v["ok"].clone()),
    }
}

fn cm_msg(s: &common::Server, ns: &str, name: &str) -> Option<String> {
    s.ok_or_none(&["get", "cm", name, "-n", ns, "-o", "jsonpath={.data.msg}"])
}

/// `(revision, status)` of each revision, from our `chart history -o json`.
fn history(s: &common::Server, ns: &str, name: &str) -> Vec<(i64, String)> {
    let out = ours_ok(s, &["history", name, "-n", ns, "-o", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn helm_installs_and_we_list_upgrade_rollback_and_uninstall_its_release() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(tmp.path(), "demo", &[]);
    let c = c.to_str().unwrap();
    let r = helm(
        &s,
        "apps",
        "install",
        json!({"chart": c, "name": "web", "values": {"msg": "one"}}),
    )
    .unwrap();
    assert_eq!(r["status"], "deployed");

    let list = ours_ok(&s, &["list", "-n", "apps"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("APP VERSION"),
        "{list}"
    );
    let row: Vec<&str> = lines[1].split('\t').map(str::trim).collect();
    assert_eq!(
        (row[0], row[1], row[2], row[4], row[5], row[6]),
        ("web", "apps", "1", "deployed", "demo-0.1.0", "1.0"),
        "{list}"
    );

    let up = ours_ok(&s, &["upgrade", "web", c, "-n", "apps", "--set", "msg=two"]);
    assert!(
        up.starts_with("Release \"web\" has been upgraded. Happy Helming!\nNAME: web\n"),
        "{up}"
    );
    assert_eq!(cm_msg(&s, "apps", "web-cm").as_deref(), Some("two"));
    assert_eq!(
        history(&s, "apps", "web"),
        [(1, "superseded".into()), (2, "deployed".into())]
    );

    ours_ok(&s, &["rollback", "web", "1", "-n", "apps"]);
    assert_eq!(cm_msg(&s, "apps", "web-cm").as_deref(), Some("one"));
    // Helm reads what we wrote: revision 3, deployed, the values of revision 1.
    let h = helm(&s, "apps", "history", json!({"name": "web"})).unwrap();
    let revs: Vec<(i64, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        revs,
        [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    );
    assert_eq!(
        helm(&s, "apps", "values", json!({"name": "web"})).unwrap(),
        json!({"msg": "one"})
    );

    let un = ours_ok(&s, &["uninstall", "web", "-n", "apps"]);
    assert_eq!(un, "release \"web\" uninstalled\n");
    assert_eq!(cm_msg(&s, "apps", "web-cm"), None);
    let left = s.ok(&[
        "get",
        "secrets",
        "-n",
        "apps",
        "-l",
        "owner=helm",
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "release secrets left: {left}");
    let remaining = helm(&s, "apps", "list", json!({})).unwrap();
    assert!(
        remaining.as_array().is_none_or(|a| a.is_empty()),
        "{remaining}"
    );
}

#[test]
fn we_install_and_helm_reads_lists_and_upgrades_it_identically() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let hook = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-5\"\ndata:\n  x: \"1\"\n";
    let c = chart(tmp.path(), "demo", &[("hook.yaml", hook)]);
    let c = c.to_str().unwrap();
    let out = ours_ok(
        &s,
        &[
            "install",
            "db",
            c,
            "-n",
            "data",
            "--create-namespace",
            "--set",
            "msg=ours",
            "--set",
            "n=3",
        ],
    );
    assert!(out.starts_with("NAME: db\nLAST DEPLOYED: "), "{out}");
    assert!(
        out.contains("STATUS: deployed\nREVISION: 1\nTEST SUITE: None\nNOTES:\nThanks db\n"),
        "{out}"
    );
    assert_eq!(
        s.ok(&["get", "cm", "db-hook", "-n", "data", "-o", "name"])
            .trim(),
        "configmap/db-hook"
    );

    let st = helm(&s, "data", "status", json!({"name": "db"})).unwrap();
    assert_eq!(
        (st["status"].as_str(), st["revision"].as_i64()),
        (Some("deployed"), Some(1))
    );
    assert_eq!(
        (st["chart_name"].as_str(), st["app_version"].as_str()),
        (Some("demo"), Some("1.0"))
    );
    assert_eq!(st["notes"], "Thanks db\n");
    let manifest = ours_ok(&s, &["get", "manifest", "db", "-n", "data"]);
    assert_eq!(format!("{}\n", st["manifest"].as_str().unwrap()), manifest);
    assert!(
        manifest.contains("# Source: demo/templates/cm.yaml\n"),
        "{manifest}"
    );
    assert_eq!(
        helm(&s, "data", "values", json!({"name": "db"})).unwrap(),
        json!({"msg": "ours", "n": 3})
    );
    let values = ours_ok(&s, &["get", "values", "db", "-n", "data"]);
    assert_eq!(values, "USER-SUPPLIED VALUES:\nmsg: ours\nn: 3\n");
    let list = helm(&s, "data", "list", json!({})).unwrap();
    assert_eq!(list[0]["name"], "db");
    assert_eq!(list[0]["labels"]["owner"], "helm");

    // Helm takes over our release: its upgrade is revision 2 and supersedes ours.
    let up = helm(
        &s,
        "data",
        "upgrade",
        json!({"chart": c, "name": "db", "values": {"msg": "helm"}}),
    )
    .unwrap();
    assert_eq!(up["revision"], 2);
    assert_eq!(cm_msg(&s, "data", "db-cm").as_deref(), Some("helm"));
    assert_eq!(
        history(&s, "data", "db"),
        [(1, "superseded".into()), (2, "deployed".into())]
    );
}

#[test]
fn an_upgrade_prunes_what_it_no_longer_renders_but_keeps_resource_policy_keep() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let extra = "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-kept\n  annotations:\n    helm.sh/resource-policy: keep\ndata: {}\n{{- end }}\n";
    let c = chart(tmp.path(), "demo", &[("extra.yaml", extra)]);
    let c = c.to_str().unwrap();
    ours_ok(
        &s,
        &["install", "p", c, "-n", "default", "--set", "extra=true"],
    );
    let names = s.ok(&["get", "cm", "-n", "default", "-o", "name"]);
    assert!(
        names.contains("configmap/p-extra") && names.contains("configmap/p-kept"),
        "{names}"
    );

    // diff names what the upgrade will do, object by object.
    let diff = ours_ok(&s, &["diff", "p", c, "-n", "default", "--set", "msg=new"]);
    assert!(diff.contains("update: ConfigMap default/p-cm\n"), "{diff}");
    assert!(diff.contains("-  msg: hello\n+  msg: new\n"), "{diff}");
    assert!(
        diff.contains("delete: ConfigMap default/p-extra\n"),
        "{diff}"
    );
    assert!(
        !diff.contains("p-kept"),
        "a kept object is never deleted: {diff}"
    );
    // --dry-run=server changes nothing.
    ours_ok(
        &s,
        &[
            "upgrade",
            "p",
            c,
            "-n",
            "default",
            "--set",
            "msg=new",
            "--dry-run=server",
        ],
    );
    assert_eq!(cm_msg(&s, "default", "p-cm").as_deref(), Some("hello"));
    assert_eq!(history(&s, "default", "p").len(), 1);

    ours_ok(
        &s,
        &["upgrade", "p", c, "-n", "default", "--set", "msg=new"],
    );
    let names = s.ok(&["get", "cm", "-n", "default", "-o", "name"]);
    assert!(
        !names.contains("configmap/p-extra"),
        "pruned object still there: {names}"
    );
    assert!(
        names.contains("configmap/p-kept"),
        "kept object was deleted: {names}"
    );
    assert_eq!(cm_msg(&s, "default", "p-cm").as_deref(), Some("new"));
    ours_ok(&s, &["uninstall", "p", "-n", "default"]);
    assert!(
        cm_msg(&s, "default", "p-kept").is_some(),
        "keep survives uninstall too"
    );
}

#[test]
fn a_failing_hook_fails_the_release_with_helms_message() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}_BAD\n  annotations:\n    helm.sh/hook: pre-install\ndata:\n  x: \"1\"\n";
    let c = chart(tmp.path(), "badhook", &[("hook.yaml", bad)]);
    let c = c.to_str().unwrap();
    let theirs = helm(&s, "h", "install", json!({"chart": c, "name": "b"})).unwrap_err();
    s.ok(&["create", "namespace", "o"]);
    let (ok, _, stderr) = ours(&s, &["install", "b", c, "-n", "o"]);
    assert!(!ok);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "Error: INSTALLATION FAILED: {}",
            theirs.replace("object h/b_BAD", "object o/b_BAD")
        )
    );
    assert!(stderr.contains("failed pre-install: warning: Hook pre-install badhook/templates/hook.yaml failed: server-side apply failed for object o/b_BAD /v1, Kind=ConfigMap: "), "{stderr}");
    let st: Value =
        serde_json::from_str(&ours_ok(&s, &["status", "b", "-n", "o", "-o", "json"])).unwrap();
    assert_eq!(st["info"]["status"], "failed");
    assert!(
        st["info"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Release \"b\" failed: failed pre-install: "),
        "{st}"
    );
    assert_eq!(st["hooks"][0]["last_run"]["phase"], "Failed");
}

#[test]
fn atomic_restores_the_previous_revision_and_an_atomic_install_leaves_nothing() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let c1 = chart(tmp.path(), "demo", &[]);
    let c2 = chart(&tmp.path().join("v2"), "demo", &[("job.yaml", STUCK_JOB)]);
    let (c1, c2) = (c1.to_str().unwrap(), c2.to_str().unwrap());
    ours_ok(
        &s,
        &["install", "a", c1, "-n", "default", "--set", "msg=one"],
    );
    let (ok, _, stderr) = ours(
        &s,
        &[
            "upgrade",
            "a",
            c2,
            "-n",
            "default",
            "--set",
            "msg=two",
            "--atomic",
            "--timeout",
            "3s",
        ],
    );
    assert!(!ok);
    assert_eq!(
        stderr.trim_end(),
        "Error: UPGRADE FAILED: release a failed, and has been rolled back due to rollback-on-failure being set: post-upgrade hooks failed: resource Job/default/a-job not ready. status: InProgress, message: Job in progress\ncontext deadline exceeded"
    );
    assert_eq!(cm_msg(&s, "default", "a-cm").as_deref(), Some("one"));
    assert_eq!(
        history(&s, "default", "a"),
        [
            (1, "superseded".into()),
            (2, "failed".into()),
            (3, "deployed".into())
        ]
    );
    let st: Value = serde_json::from_str(&ours_ok(
        &s,
        &["status", "a", "-n", "default", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(st["info"]["description"], "Rollback to 1");

    // An atomic install whose post-install hook fails is uninstalled: no objects, no records.
    let c3 = chart(
        &tmp.path().join("v3"),
        "demo",
        &[(
            "job.yaml",
            &STUCK_JOB.replace("post-upgrade", "post-install"),
        )],
    );
    let (ok, _, stderr) = ours(
        &s,
        &[
            "install",
            "z",
            c3.to_str().unwrap(),
            "-n",
            "default",
            "--atomic",
            "--timeout",
            "2s",
        ],
    );
    assert!(!ok);
    assert!(
        stderr.contains("release z failed, and has been uninstalled due to rollback-on-failure being set: failed post-install: resource Job/default/z-job not ready"),
        "{stderr}"
    );
    assert_eq!(cm_msg(&s, "default", "z-cm"), None);
    let left = s.ok(&[
        "get",
        "secrets",
        "-n",
        "default",
        "-l",
        "owner=helm,name=z",
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "{left}");
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";

const WORKLOAD: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}-widget\nspec:\n  size: 3\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: wait/demo:0.1.0\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";

/// The address of `serve`'s own registry (from the config it wrote for docker-registry).
fn registry_addr(s: &common::Server) -> String {
    let cfg = std::fs::read_to_string(s.data_dir().join("registry/config.yml"))
        .expect("serve runs a registry when --registry is absent");
    cfg.lines()
        .find_map(|l| l.trim().strip_prefix("addr: "))
        .expect("registry config names its address")
        .to_string()
}

#[test]
fn crds_install_first_and_wait_blocks_until_workloads_are_ready() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(tmp.path(), "demo", &[("workload.yaml", WORKLOAD)]);
    std::fs::create_dir_all(c.join("crds")).unwrap();
    std::fs::write(c.join("crds/widget.yaml"), CRD).unwrap();
    let c = c.to_str().unwrap();

    // The image is not in the platform registry yet: the Pods cannot start and --wait times out.
    let (ok, _, stderr) = ours(
        &s,
        &[
            "install",
            "w",
            c,
            "-n",
            "default",
            "--wait",
            "--timeout",
            "4s",
        ],
    );
    assert!(!ok);
    assert!(
        stderr.contains("resource Deployment/default/w-web not ready. status: InProgress, message: Available: 0/2\ncontext deadline exceeded"),
        "{stderr}"
    );
    // The CRD came first, so the Widget in the same release was created.
    assert_eq!(
        s.ok(&["get", "widgets", "-n", "default", "-o", "name"])
            .trim(),
        "widget.example.com/w-widget"
    );
    assert_eq!(history(&s, "default", "w"), [(1, "failed".into())]);

    // Once the image exists (the kubelet stand-in only checks that its manifest is there; a
    // pushed chart is such a manifest), the upgrade's --wait returns with every replica available.
    let reg = registry_addr(&s);
    let push = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args([
            "chart",
            "push",
            c,
            &format!("oci://{reg}/wait"),
            "--plain-http",
        ])
        .output()
        .expect("run marketplace chart push");
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    let out = ours_ok(
        &s,
        &[
            "upgrade",
            "w",
            c,
            "-n",
            "default",
            "--wait",
            "--timeout",
            "120s",
        ],
    );
    assert!(out.contains("STATUS: deployed\nREVISION: 2\n"), "{out}");
    let available = s.ok(&[
        "get",
        "deploy",
        "w-web",
        "-n",
        "default",
        "-o",
        "jsonpath={.status.availableReplicas}",
    ]);
    assert_eq!(
        available, "2",
        "--wait returned before the Deployment was available"
    );
    assert_eq!(
        history(&s, "default", "w"),
        [(1, "failed".into()), (2, "deployed".into())]
    );
}

#[test]
fn missing_releases_and_bad_input_get_helms_errors_and_change_nothing() {
    let s = common::Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(tmp.path(), "demo", &[]);
    let c = c.to_str().unwrap();
    let (ok, _, err) = ours(&s, &["uninstall", "ghost", "-n", "default"]);
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "Error: uninstall: Release not loaded: ghost: release: not found"
    );
    let (ok, _, err) = ours(&s, &["upgrade", "ghost", c, "-n", "default"]);
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "Error: UPGRADE FAILED: \"ghost\" has no deployed releases"
    );
    let (ok, _, err) = ours(&s, &["install", "Bad_Name", c, "-n", "default"]);
    assert!(!ok);
    assert!(err.starts_with("Error: INSTALLATION FAILED: "), "{err}");
    // upgrade --install installs what does not exist yet; installing it again is refused.
    let out = ours_ok(&s, &["upgrade", "--install", "fresh", c, "-n", "default"]);
    assert!(
        out.starts_with("Release \"fresh\" does not exist. Installing it now.\n"),
        "{out}"
    );
    let (ok, _, err) = ours(&s, &["install", "fresh", c, "-n", "default"]);
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "Error: INSTALLATION FAILED: cannot re-use a name that is still in use"
    );
    // An object that belongs to no release is not taken over.
    s.ok(&["create", "configmap", "taken-cm", "-n", "default"]);
    let (ok, _, err) = ours(&s, &["install", "taken", c, "-n", "default"]);
    assert!(!ok);
    assert!(
        err.contains("Unable to continue with install: ConfigMap \"taken-cm\" in namespace \"default\" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\""),
        "{err}"
    );
    let left = s.ok(&[
        "get",
        "secrets",
        "-n",
        "default",
        "-l",
        "name=taken",
        "-o",
        "name",
    ]);
    assert!(
        left.trim().is_empty(),
        "a refused install stores no record: {left}"
    );
}

/// A real chart of the shared corpus (bitnami/nginx: subchart `common`, helpers, many kinds).
fn fixture_chart(path: &str) -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let dir = base.join("fixtures/helm/charts").join(path);
    assert!(
        dir.is_dir(),
        "the shared Helm chart corpus is missing at {}; set MARKETPLACE_SHARED to the shared/ folder",
        dir.display()
    );
    dir
}

#[test]
fn a_corpus_chart_we_install_is_the_release_helm_renders_and_upgrades() {
    let s = common::Server::start(&[]);
    let nginx = fixture_chart("bitnami/nginx");
    let nginx = nginx.to_str().unwrap();
    ours_ok(
        &s,
        &["install", "web", nginx, "-n", "web", "--create-namespace"],
    );
    let ours_manifest = ours_ok(&s, &["get", "manifest", "web", "-n", "web"]);
    let st = helm(&s, "web", "status", json!({"name": "web"})).unwrap();
    assert_eq!(
        format!("{}\n", st["manifest"].as_str().unwrap()),
        ours_manifest
    );
    assert!(
        s.ok(&["get", "deploy,svc", "-n", "web", "-o", "name"])
            .contains("deployment.apps/web-nginx"),
        "the release's objects exist"
    );
    // Helm's own render of revision 2 applies cleanly over ours and reads the same history.
    let up = helm(
        &s,
        "web",
        "upgrade",
        json!({"chart": nginx, "name": "web", "values": {}}),
    )
    .unwrap();
    assert_eq!(
        (up["revision"].as_i64(), up["status"].as_str()),
        (Some(2), Some("deployed"))
    );
    assert_eq!(
        format!("{}\n", up["manifest"].as_str().unwrap()),
        ours_manifest,
        "Helm renders the same manifest for the same chart and values"
    );
    assert_eq!(
        history(&s, "web", "web"),
        [(1, "superseded".into()), (2, "deployed".into())]
    );
    ours_ok(&s, &["uninstall", "web", "-n", "web"]);
    let left = s.ok(&["get", "deploy,svc,secrets", "-n", "web", "-o", "name"]);
    assert!(
        !left.contains("web-nginx") && !left.contains("sh.helm.release"),
        "left behind: {left}"
    );
}
