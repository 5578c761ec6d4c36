//! Real kubectl against `marketplace serve`, once with every kubectl release from 1.27 to 1.33 (the
//! `kubectl.1.NN` binaries the machine's kubectl dispatcher ships; each release is its own test
//! module, `kubectl_1_27::...`, and a missing binary fails the test): namespaces, built-in objects
//! created/applied/listed/patched/deleted, a CRD with printer columns and a status subresource,
//! custom objects listed/patched/applied/deleted, wait, watch, explain of built-ins and CRDs (v3
//! and, with `--output=plaintext-openapiv2`, the gnostic protobuf `/openapi/v2`), validation, auth,
//! and a workload cluster's kubeconfig. One server per test (fresh data dir, fresh discovery
//! cache); readiness and outcomes are polled, never slept for.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Server, kubectl_binary, poll};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Mode, type: string, jsonPath: .spec.mode, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a thing made of parts.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size: {type: integer, minimum: 1, description: How many parts the widget has.}
              mode: {type: string, enum: [fast, slow], default: slow}
          status:
            type: object
            properties:
              phase: {type: string}
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
"#;

fn widget(name: &str, size: i64, labels: &str) -> String {
    format!(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: default\n  labels: {{{labels}}}\nspec:\n  size: {size}\n"
    )
}

fn with_crd(v: &str) -> Server {
    let s = start(v, &[]);
    s.ok_stdin(&["apply", "-f", "-"], CRD);
    s.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=60s",
    ]);
    s
}

/// A server whose kubectl helpers run `kubectl.<v>`.
fn start(v: &str, clusters: &[&str]) -> Server {
    Server::start_with_kubectl(clusters, kubectl_binary(v))
}

fn err_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn namespaces_created_with_protobuf_listed_and_deleted(v: &str) {
    let s = start(v, &[]);
    let out = s.ok(&["get", "ns"]);
    assert!(
        out.contains("default") && out.contains("kube-system"),
        "{out}"
    );
    // `kubectl create namespace` sends a protobuf body.
    assert!(
        s.ok(&["create", "namespace", "team-a"])
            .contains("namespace/team-a created")
    );
    let out = s.ok(&["get", "ns", "team-a"]);
    assert!(out.contains("team-a") && out.contains("Active"), "{out}");
    s.ok(&[
        "create",
        "configmap",
        "cfg",
        "-n",
        "team-a",
        "--from-literal=a=b",
    ]);
    assert!(
        s.ok(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.a}"
        ])
        .contains('b')
    );
    s.ok(&["delete", "ns", "team-a", "--timeout=60s"]);
    let out = s.kubectl(&["get", "ns", "team-a"]);
    assert!(!out.status.success());
    assert!(err_text(&out).contains("NotFound"), "{}", err_text(&out));
}

fn custom_objects_listed_with_printer_columns_selectors_and_formats(v: &str) {
    let s = with_crd(v);
    s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a, tier: web"));
    s.ok_stdin(&["apply", "-f", "-"], &widget("w2", 5, "app: b"));
    let out = s.ok(&["get", "widgets"]);
    let header = out.lines().next().unwrap();
    assert!(
        header.contains("NAME")
            && header.contains("SIZE")
            && header.contains("PHASE")
            && header.contains("AGE"),
        "{out}"
    );
    assert!(
        !header.contains("MODE"),
        "priority-1 column only with -o wide: {out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("w1") && l.contains('3')),
        "{out}"
    );
    let wide = s.ok(&["get", "widgets", "-o", "wide"]);
    assert!(wide.lines().next().unwrap().contains("MODE"), "{wide}");
    assert!(wide.contains("slow"), "defaulted mode shows: {wide}");
    let sel = s.ok(&["get", "wd", "-l", "app=a"]);
    assert!(sel.contains("w1") && !sel.contains("w2"), "{sel}");
    let sel = s.ok(&["get", "widgets", "-l", "app in (a,b),!missing"]);
    assert!(sel.contains("w1") && sel.contains("w2"), "{sel}");
    let yaml = s.ok(&["get", "widget", "w1", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Widget") && yaml.contains("size: 3") && yaml.contains("uid:"),
        "{yaml}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "widgets", "-o", "json"])).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 2);
    let jp = s.ok(&["get", "widgets", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert_eq!(jp.trim(), "w1 w2");
    let all = s.ok(&["get", "widgets", "-A"]);
    assert!(
        all.lines().next().unwrap().starts_with("NAMESPACE"),
        "{all}"
    );
    assert!(all.contains("default"), "{all}");
    let labels = s.ok(&["get", "widgets", "--show-labels"]);
    assert!(labels.contains("app=a,tier=web"), "{labels}");
    let cc = s.ok(&[
        "get",
        "widgets",
        "-o",
        "custom-columns=N:.metadata.name,S:.spec.size",
    ]);
    assert!(cc.contains("w2") && cc.contains('5'), "{cc}");
}

fn custom_objects_patched_json_merge_and_strategic_rejected(v: &str) {
    let s = with_crd(v);
    s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a"));
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/size","value":7}]"#,
    ]);
    assert_eq!(
        s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"])
            .trim(),
        "7"
    );
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=merge",
        "-p",
        r#"{"spec":{"mode":"fast"}}"#,
    ]);
    assert_eq!(
        s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.mode}"])
            .trim(),
        "fast"
    );
    let gen_ = s.ok(&[
        "get",
        "widget",
        "w1",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    assert_eq!(gen_.trim(), "3", "two spec changes bump generation twice");
    // kubectl's default patch type is strategic merge, which custom resources do not support.
    let out = s.kubectl(&["patch", "widget", "w1", "-p", r#"{"spec":{"size":8}}"#]);
    assert!(!out.status.success());
    assert!(
        err_text(&out).contains("UnsupportedMediaType")
            || err_text(&out).contains("unknown format"),
        "{}",
        err_text(&out)
    );
    // Status subresource patch.
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ready"}}"#,
    ]);
    let out = s.ok(&["get", "widget", "w1"]);
    assert!(out.contains("Ready"), "{out}");
}

fn apply_twice_is_idempotent_then_changes_client_and_server_side(v: &str) {
    let s = with_crd(v);
    let out = s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a"));
    assert!(out.contains("created"), "{out}");
    let out = s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a"));
    assert!(out.contains("unchanged"), "{out}");
    let out = s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 4, "app: a"));
    assert!(out.contains("configured"), "{out}");
    assert_eq!(
        s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"])
            .trim(),
        "4"
    );
    // Built-in kinds go through strategic merge patch.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: default\ndata:\n  a: \"1\"\n";
    s.ok_stdin(&["apply", "-f", "-"], cm);
    assert!(s.ok_stdin(&["apply", "-f", "-"], cm).contains("unchanged"));
    s.ok_stdin(&["apply", "-f", "-"], &cm.replace("\"1\"", "\"2\""));
    assert_eq!(
        s.ok(&["get", "cm", "c1", "-o", "jsonpath={.data.a}"])
            .trim(),
        "2"
    );
    // Server-side apply.
    let out = s.ok_stdin(
        &["apply", "--server-side", "-f", "-"],
        &widget("w2", 2, "app: b"),
    );
    assert!(out.contains("serverside-applied"), "{out}");
    s.ok_stdin(
        &["apply", "--server-side", "-f", "-"],
        &widget("w2", 2, "app: b"),
    );
    s.ok_stdin(
        &["apply", "--server-side", "-f", "-"],
        &widget("w2", 9, "app: b"),
    );
    assert_eq!(
        s.ok(&["get", "widget", "w2", "-o", "jsonpath={.spec.size}"])
            .trim(),
        "9"
    );
    let mf = s.ok(&[
        "get",
        "widget",
        "w2",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(mf.contains("kubectl"), "{mf}");
}

fn delete_with_finalizer_waits_for_the_finalizer(v: &str) {
    let s = with_crd(v);
    let w = widget("w1", 3, "app: a").replace(
        "  namespace: default\n",
        "  namespace: default\n  finalizers: [example.com/cleanup]\n",
    );
    s.ok_stdin(&["apply", "-f", "-"], &w);
    s.ok(&["delete", "widget", "w1", "--wait=false"]);
    let ts = s.ok(&[
        "get",
        "widget",
        "w1",
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
    ]);
    assert!(
        !ts.trim().is_empty(),
        "deletionTimestamp set while the finalizer is there"
    );
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    poll("widget w1 to be gone", || {
        (!s.kubectl(&["get", "widget", "w1"]).status.success()).then_some(())
    });
}

fn wait_for_condition_and_jsonpath(v: &str) {
    let s = with_crd(v);
    s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a"));
    let spawn = |args: &[&str]| {
        Command::new(s.kubectl_path())
            .args(args)
            .env("KUBECONFIG", s.kubeconfig("global"))
            .env("KUBECACHEDIR", s.data_dir().join("wait-cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let cond = spawn(&[
        "wait",
        "--for=condition=Ready",
        "widget/w1",
        "--timeout=60s",
    ]);
    let jp = spawn(&[
        "wait",
        "--for=jsonpath={.status.phase}=Done",
        "widget/w1",
        "--timeout=60s",
    ]);
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Done","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
    for child in [cond, jp] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kubectl wait failed: {}",
            err_text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("condition met"),
            "{}",
            err_text(&out)
        );
    }
}

fn get_watch_sees_a_change(v: &str) {
    let s = with_crd(v);
    s.ok_stdin(&["apply", "-f", "-"], &widget("w1", 3, "app: a"));
    let mut child = Command::new(s.kubectl_path())
        .args(["get", "widgets", "-w"])
        .env("KUBECONFIG", s.kubeconfig("global"))
        .env("KUBECACHEDIR", s.data_dir().join("watch-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The initial listing shows w1; then a change arrives as a new row.
    let first = rx.recv_timeout(common::DEADLINE).expect("header");
    assert!(first.contains("NAME"), "{first}");
    let row = rx.recv_timeout(common::DEADLINE).expect("w1 row");
    assert!(row.starts_with("w1"), "{row}");
    s.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Changed"}}"#,
    ]);
    let changed = rx.recv_timeout(common::DEADLINE).expect("watch event row");
    assert!(
        changed.starts_with("w1") && changed.contains("Changed"),
        "{changed}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn explain_describes_custom_resource_fields(v: &str) {
    let s = with_crd(v);
    // Default output reads /openapi/v3; plaintext-openapiv2 reads the gnostic protobuf /openapi/v2.
    for format in ["plaintext", "plaintext-openapiv2"] {
        let out = s.ok(&["explain", "widget.spec", &format!("--output={format}")]);
        assert!(out.contains("What the widget should be"), "{format}: {out}");
        assert!(
            out.contains("size") && out.contains("How many parts"),
            "{format}: {out}"
        );
        let out = s.ok(&["explain", "widgets", &format!("--output={format}")]);
        assert!(
            out.contains("A Widget is a thing made of parts"),
            "{format}: {out}"
        );
    }
}

fn explain_describes_builtin_kinds(v: &str) {
    let s = start(v, &[]);
    for format in ["plaintext", "plaintext-openapiv2"] {
        let out = s.ok(&["explain", "configmap", &format!("--output={format}")]);
        assert!(
            out.contains("ConfigMap holds configuration data"),
            "{format}: {out}"
        );
        let out = s.ok(&["explain", "configmap.data", &format!("--output={format}")]);
        assert!(
            out.contains("Data contains the configuration data"),
            "{format}: {out}"
        );
        let out = s.ok(&[
            "explain",
            "deployment.spec.replicas",
            &format!("--output={format}"),
        ]);
        assert!(
            out.contains("Number of desired pods") && out.contains("Deployment"),
            "{format}: {out}"
        );
        let out = s.ok(&[
            "explain",
            "deployment.spec.template.spec.containers.image",
            &format!("--output={format}"),
        ]);
        assert!(out.contains("Container image name"), "{format}: {out}");
    }
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: "nginx:1.27"
        ports: [{containerPort: 80}]
"#;

fn builtin_objects_created_applied_listed_patched_and_deleted(v: &str) {
    let s = start(v, &[]);
    let out = s.ok_stdin(&["create", "-f", "-"], DEPLOYMENT);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let wide = s.ok(&["get", "deployments", "-o", "wide"]);
    let header = wide.lines().next().unwrap_or_default();
    assert!(
        header.contains("NAME") && header.contains("IMAGES") && header.contains("SELECTOR"),
        "{wide}"
    );
    assert!(
        wide.lines()
            .any(|l| l.starts_with("web") && l.contains("nginx:1.27")),
        "{wide}"
    );
    // Client-side apply of an existing built-in: a strategic merge patch computed by kubectl.
    let changed = DEPLOYMENT
        .replace("replicas: 2", "replicas: 3")
        .replace("nginx:1.27", "nginx:1.28");
    let out = s.ok_stdin(&["apply", "-f", "-"], &changed);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    let got = s.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[*].image}",
    ]);
    assert_eq!(got.trim(), "3 nginx:1.28");
    // Applying the same manifest again changes nothing, and kubectl says so: the served schemas
    // carry kube-apiserver's `x-kubernetes-patch-merge-key` extensions (codegen/patch_markers.py),
    // so kubectl compares `containers` by name against the defaulted object.
    let out = s.ok_stdin(&["apply", "-f", "-"], &changed);
    assert!(out.contains("deployment.apps/web unchanged"), "{out}");
    let got = s.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[*].name} {.metadata.generation}",
    ]);
    assert_eq!(got.trim(), "3 nginx 2", "re-apply changed nothing");
    // kubectl's default patch type for built-ins is strategic merge.
    s.ok(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"replicas":1}}"#,
    ]);
    assert_eq!(
        s.ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas}"
        ])
        .trim(),
        "1"
    );
    let out = s.ok(&["delete", "deployment", "web", "--timeout=60s"]);
    assert!(out.contains("deleted"), "{out}");
    let out = s.kubectl(&["get", "deployment", "web"]);
    assert!(!out.status.success());
    assert!(err_text(&out).contains("NotFound"), "{}", err_text(&out));
}

fn validation_rejects_object_breaking_its_schema_readably(v: &str) {
    let s = with_crd(v);
    let bad = widget("w1", 3, "app: a").replace("size: 3", "size: many");
    let out = s.kubectl_with_stdin("global", &["create", "-f", "-"], Some(&bad));
    assert!(!out.status.success());
    let text = err_text(&out);
    assert!(
        text.contains("spec.size") && text.contains("integer"),
        "{text}"
    );
    let missing = widget("w2", 3, "app: a").replace("  size: 3\n", "  mode: fast\n");
    let text = err_text(&s.kubectl_with_stdin("global", &["create", "-f", "-"], Some(&missing)));
    assert!(
        text.contains("spec.size") && text.contains("Required value"),
        "{text}"
    );
    let unknown = widget("w3", 3, "app: a").replace("  size: 3\n", "  size: 3\n  colour: red\n");
    let text = err_text(&s.kubectl_with_stdin("global", &["create", "-f", "-"], Some(&unknown)));
    assert!(
        text.contains("unknown field") && text.contains("colour"),
        "{text}"
    );
    assert!(
        !s.kubectl(&["get", "widget", "w1"]).status.success(),
        "nothing was stored"
    );
}

fn requests_without_a_valid_token_get_401(v: &str) {
    let s = start(v, &[]);
    let out = s.kubectl(&["get", "ns", "--token=wrong"]);
    assert!(!out.status.success());
    let text = err_text(&out);
    assert!(
        text.contains("Unauthorized") || text.contains("provide credentials"),
        "{text}"
    );
    // The same kubeconfig without any user credentials.
    let kc = std::fs::read_to_string(s.kubeconfig("global")).unwrap();
    let token = s.token();
    let stripped = s.data_dir().join("no-token.kubeconfig");
    std::fs::write(&stripped, kc.replace(&token, "")).unwrap();
    let out = Command::new(s.kubectl_path())
        .args(["get", "ns"])
        .env("KUBECONFIG", &stripped)
        .env("KUBECACHEDIR", s.data_dir().join("c401"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn workload_cluster_kubeconfig_reaches_its_own_cluster(v: &str) {
    let s = start(v, &["business=cpaas.io/os-linux=,cpaas.io/arch-amd64=true"]);
    let out = s.kubectl_on(
        "business",
        &["create", "configmap", "only-here", "--from-literal=x=y"],
    );
    assert!(out.status.success(), "{}", err_text(&out));
    let out = s.kubectl_on(
        "business",
        &["get", "cm", "only-here", "-o", "jsonpath={.data.x}"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "y");
    assert!(
        !s.kubectl(&["get", "cm", "only-here"]).status.success(),
        "global does not see it"
    );
    // Cluster descriptions with labels are readable in the API.
    let labels = s.ok(&[
        "get",
        "cm",
        "cluster-business",
        "-n",
        "kube-public",
        "-o",
        "jsonpath={.data.labels}",
    ]);
    assert!(
        labels.contains("cpaas.io/arch-amd64") && labels.contains("cpaas.io/os-linux"),
        "{labels}"
    );
    let info = s.kubectl_on(
        "business",
        &[
            "get",
            "cm",
            "cluster-info",
            "-n",
            "kube-public",
            "-o",
            "jsonpath={.data.name}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&info.stdout).trim(), "business");
}

/// The Helm chart corpus (`<repo>/../shared/fixtures/helm/charts`, or under `$MARKETPLACE_SHARED`).
fn chart_corpus() -> std::path::PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(
                &std::env::var("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../../shared")
        });
    let dir = base.join("fixtures/helm/charts");
    assert!(
        dir.is_dir(),
        "the shared Helm chart corpus is missing at {}; set MARKETPLACE_SHARED to the shared/ directory",
        dir.display()
    );
    dir
}

/// The `apiextensions.k8s.io/v1` CRDs in the corpus' untemplated files under `crds/` directories,
/// one per name.
fn corpus_crds(
    dir: &std::path::Path,
    out: &mut std::collections::BTreeMap<String, serde_json::Value>,
) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            corpus_crds(&path, out);
            continue;
        }
        let in_crds = path.components().any(|c| c.as_os_str() == "crds");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !in_crds || path.extension().is_none_or(|e| e != "yaml") || text.contains("{{") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let Ok(v) = <serde_json::Value as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            if v["kind"] == "CustomResourceDefinition"
                && v["apiVersion"] == "apiextensions.k8s.io/v1"
            {
                let name = v["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                out.entry(name).or_insert(v);
            }
        }
    }
}

/// kube-openapi (inside kubectl) rejects the whole `/openapi/v2` document when one definition is
/// malformed, so every real-world CRD of the chart corpus (argo-cd, traefik, opentelemetry,
/// external-dns, ...) is applied and then explained by kubectl 1.27 from the protobuf document.
#[test]
fn chart_corpus_crds_are_explained_by_kubectl_1_27_through_openapi_v2() {
    let mut crds = std::collections::BTreeMap::new();
    corpus_crds(&chart_corpus(), &mut crds);
    assert!(
        crds.len() >= 40,
        "only {} CRDs found in the corpus",
        crds.len()
    );
    let s = start("1.27", &[]);
    let dir = s.data_dir().join("corpus-crds");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, crd) in &crds {
        std::fs::write(dir.join(format!("{name}.json")), crd.to_string()).unwrap();
    }
    let dir = dir.to_str().unwrap();
    s.ok(&["apply", "--server-side", "-f", dir]);
    s.ok(&[
        "wait",
        "--for=condition=Established",
        "-f",
        dir,
        "--timeout=60s",
    ]);
    for crd in crds.values() {
        let spec = &crd["spec"];
        let resource = format!(
            "{}.{}",
            spec["names"]["plural"].as_str().unwrap(),
            spec["group"].as_str().unwrap()
        );
        let out = s.ok(&["explain", &resource, "--output=plaintext-openapiv2"]);
        let kind = spec["names"]["kind"].as_str().unwrap();
        assert!(
            out.contains(&format!("KIND:     {kind}")),
            "{resource}: {out}"
        );
    }
}

/// One test module per kubectl release, each running the whole suite with `kubectl.<release>`.
macro_rules! suite_for_each_kubectl {
    ($($module:ident => $version:literal),* $(,)?) => {$(
        mod $module {
            const V: &str = $version;
            suite_for_each_kubectl!(@tests
                namespaces_created_with_protobuf_listed_and_deleted,
                builtin_objects_created_applied_listed_patched_and_deleted,
                custom_objects_listed_with_printer_columns_selectors_and_formats,
                custom_objects_patched_json_merge_and_strategic_rejected,
                apply_twice_is_idempotent_then_changes_client_and_server_side,
                delete_with_finalizer_waits_for_the_finalizer,
                wait_for_condition_and_jsonpath,
                get_watch_sees_a_change,
                explain_describes_builtin_kinds,
                explain_describes_custom_resource_fields,
                validation_rejects_object_breaking_its_schema_readably,
                requests_without_a_valid_token_get_401,
                workload_cluster_kubeconfig_reaches_its_own_cluster,
            );
        }
    )*};
    (@tests $($test:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            super::$test(V)
        }
    )*};
}

suite_for_each_kubectl!(
    kubectl_1_27 => "1.27",
    kubectl_1_28 => "1.28",
    kubectl_1_29 => "1.29",
    kubectl_1_30 => "1.30",
    kubectl_1_31 => "1.31",
    kubectl_1_32 => "1.32",
    kubectl_1_33 => "1.33",
);

/// As kube-apiserver: `kubectl delete crd` marks the CRD (cleanup finalizer, `Terminating`), its
/// objects are deleted honouring their own finalizers, new objects are refused, and the CRD goes
/// only when the last object is gone.
#[test]
fn deleting_a_crd_waits_for_its_objects_finalizers() {
    let s = with_crd("1.33");
    s.ok_stdin(&["apply", "-f", "-"], &widget("free", 1, ""));
    let held = widget("held", 2, "").replace(
        "  namespace: default\n",
        "  namespace: default\n  finalizers: [example.com/hold]\n",
    );
    s.ok_stdin(&["apply", "-f", "-"], &held);
    s.ok(&["delete", "crd", "widgets.example.com", "--wait=false"]);

    let crd: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "crd", "widgets.example.com", "-o", "json"])).unwrap();
    assert!(crd["metadata"]["deletionTimestamp"].is_string(), "{crd}");
    assert!(
        crd["metadata"]["finalizers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "customresourcecleanup.apiextensions.k8s.io"),
        "{crd}"
    );
    poll("the finalizer-free widget to be deleted", || {
        (!s.kubectl(&["get", "widget", "free"]).status.success()).then_some(())
    });
    let w: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "widget", "held", "-o", "json"])).unwrap();
    assert!(w["metadata"]["deletionTimestamp"].is_string(), "{w}");
    let terminating = s.ok(&[
        "get",
        "crd",
        "widgets.example.com",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Terminating\")].status}/{.status.conditions[?(@.type==\"Terminating\")].reason}",
    ]);
    assert_eq!(terminating, "True/InstanceDeletionInProgress");
    let out = s.kubectl_with_stdin(
        "global",
        &["create", "-f", "-"],
        Some(&widget("late", 1, "")),
    );
    assert!(!out.status.success());
    assert!(
        err_text(&out)
            .contains("create not allowed while custom resource definition is terminating"),
        "{}",
        err_text(&out)
    );

    s.ok(&[
        "patch",
        "widget",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    poll("the CRD to be removed", || {
        let out = s.kubectl(&["get", "crd", "widgets.example.com"]);
        (!out.status.success() && err_text(&out).contains("NotFound")).then_some(())
    });
    let out = s.kubectl(&["get", "widgets"]);
    assert!(!out.status.success(), "{}", err_text(&out));
}

/// As kube-controller-manager: every namespace gets the `default` ServiceAccount (whose token
/// `kubectl create token` asks for) and `kube-root-ca.crt` holding the server's CA; either one
/// deleted comes back.
#[test]
fn every_namespace_gets_the_default_service_account_and_the_root_ca() {
    let s = start("1.33", &[]);
    s.ok(&["create", "namespace", "team-b"]);
    let uid = |s: &Server| {
        s.ok_or_none(&[
            "get",
            "sa",
            "default",
            "-n",
            "team-b",
            "-o",
            "jsonpath={.metadata.uid}",
        ])
    };
    let first = poll("the default ServiceAccount of team-b", || uid(&s));
    let token = s.ok(&["create", "token", "default", "-n", "team-b"]);
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
    let ca = poll("kube-root-ca.crt in team-b", || {
        s.ok_or_none(&[
            "get",
            "configmap",
            "kube-root-ca.crt",
            "-n",
            "team-b",
            "-o",
            "jsonpath={.data.ca\\.crt}",
        ])
    });
    let want = std::fs::read_to_string(s.ca_path()).expect("the server's CA");
    assert_eq!(ca.trim(), want.trim());
    s.ok(&["delete", "sa", "default", "-n", "team-b"]);
    let second = poll("a new default ServiceAccount", || {
        uid(&s).filter(|u| *u != first)
    });
    assert!(!second.is_empty());
}

/// As kube-apiserver: the system PriorityClasses exist, a Pod takes its class's priority (0 and
/// the `default` ServiceAccount without one) and its API access volume, and a Pod naming a class
/// that does not exist is refused with the Priority admission's message.
#[test]
fn pods_get_their_priority_class_and_a_missing_class_is_refused() {
    let s = start("1.33", &[]);
    let classes = s.ok(&["get", "priorityclasses", "-o", "name"]);
    assert!(
        classes.contains("priorityclass.scheduling.k8s.io/system-cluster-critical")
            && classes.contains("priorityclass.scheduling.k8s.io/system-node-critical"),
        "{classes}"
    );
    // One field of a Pod, by JSONPath.
    let pod_field = |pod: &str, jsonpath: &str| {
        s.ok(&["get", "pod", pod, "-o", &format!("jsonpath={jsonpath}")])
    };
    let overrides = r#"{"spec":{"priorityClassName":"system-cluster-critical"}}"#;
    s.ok(&[
        "run",
        "critical",
        "--image=example/x:1",
        &format!("--overrides={overrides}"),
    ]);
    assert_eq!(
        pod_field("critical", "{.spec.priority} {.spec.preemptionPolicy}"),
        "2000000000 PreemptLowerPriority"
    );
    s.ok(&["run", "plain", "--image=example/x:1"]);
    assert_eq!(
        pod_field("plain", "{.spec.priority} {.spec.serviceAccountName}"),
        "0 default"
    );
    // The ServiceAccount admission's API access volume, mounted where clients look for it.
    let mount = pod_field(
        "plain",
        "{.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath}",
    );
    let (volume, path) = mount.split_once(' ').expect("volume and mount");
    assert!(
        volume.starts_with("kube-api-access-") && volume.len() == 21,
        "{mount}"
    );
    assert_eq!(path, "/var/run/secrets/kubernetes.io/serviceaccount");
    // DefaultTolerationSeconds: unready and unreachable Nodes are tolerated for 300 s.
    assert_eq!(
        pod_field(
            "plain",
            "{.spec.tolerations[*].key} {.spec.tolerations[*].tolerationSeconds}"
        ),
        "node.kubernetes.io/not-ready node.kubernetes.io/unreachable 300 300"
    );
    assert_refused(
        &s,
        &[
            "run",
            "orphan",
            "--image=example/x:1",
            r#"--overrides={"spec":{"priorityClassName":"nope"}}"#,
        ],
        r#"pods "orphan" is forbidden: no PriorityClass with name nope was found"#,
    );
}

/// Runs kubectl with `args`, which must fail saying `message`.
fn assert_refused(s: &Server, args: &[&str], message: &str) {
    let out = s.kubectl(args);
    let text = err_text(&out);
    assert!(
        !out.status.success() && text.contains(message),
        "kubectl {args:?} should fail saying {message:?}: {text}"
    );
}

/// As kube-apiserver's ServiceAccount admission: a Pod naming a ServiceAccount that does not
/// exist is refused with its message, a Pod gets its account's `imagePullSecrets`, and a
/// Deployment whose account is missing has a ReplicaSet that says why it has no Pods
/// (`FailedCreate`) until the account exists.
#[test]
fn a_pod_must_run_as_a_service_account_that_exists() {
    let s = start("1.33", &[]);
    assert_refused(
        &s,
        &[
            "run",
            "ghostly",
            "--image=example/x:1",
            r#"--overrides={"spec":{"serviceAccountName":"ghost"}}"#,
        ],
        r#"pods "ghostly" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found"#,
    );
    assert!(s.ok_or_none(&["get", "pod", "ghostly"]).is_none());

    // The account's pull secrets reach the Pods that run as it and name none of their own.
    s.ok(&["create", "serviceaccount", "puller"]);
    s.ok(&[
        "patch",
        "serviceaccount",
        "puller",
        "-p",
        r#"{"imagePullSecrets":[{"name":"regcred"}]}"#,
    ]);
    s.ok(&[
        "run",
        "pulled",
        "--image=example/x:1",
        r#"--overrides={"spec":{"serviceAccountName":"puller"}}"#,
    ]);
    assert_eq!(
        s.ok(&[
            "get",
            "pod",
            "pulled",
            "-o",
            "jsonpath={.spec.imagePullSecrets[*].name}"
        ]),
        "regcred"
    );

    s.ok(&["create", "deployment", "web", "--image=example/x:1"]);
    s.ok(&["set", "serviceaccount", "deployment", "web", "robot"]);
    let described = poll("FailedCreate on web's new ReplicaSet", || {
        let d = s.ok(&["describe", "replicaset", "-l", "app=web"]);
        d.contains("FailedCreate").then_some(d)
    });
    assert!(
        described.contains(
            r#"error looking up service account default/robot: serviceaccount "robot" not found"#
        ),
        "{described}"
    );
    s.ok(&["create", "serviceaccount", "robot"]);
    poll("a Pod of web running as robot", || {
        s.ok_or_none(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.serviceAccountName}",
        ])
        .filter(|names| names.split(' ').any(|n| n == "robot"))
    });
}
