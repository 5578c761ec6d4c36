//! Acceptance (issue 9): the controller host, with the real `marketplace` binary, the real kubectl
//! and kube-rs.
//! - The sample `ConfigMapGenerator` controller reconciles in `global` and in a workload cluster
//!   on `marketplace serve`'s host; `kill -9` of the server mid-reconcile and a restart converge
//!   with exactly one child per generator; deleting a generator collects its child.
//! - The same out of process: `serve --no-controllers`, `marketplace crds | kubectl apply -f -`,
//!   `marketplace controllers --kubeconfig ... --cluster b=...`, itself killed mid-reconcile,
//!   then stopped by SIGTERM with every set stopping when asked (none aborted after the grace).
//! - Garbage collection (background, foreground, orphan) and namespace deletion through kubectl.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};

use common::{Server, poll, poll_async};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use kube::discovery::ApiResource;

const CRD: &str = "configmapgenerators.samples.marketplace.dev";
const LABEL: &str = "samples.marketplace.dev/generator";

fn generators_yaml(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: samples.marketplace.dev/v1alpha1\nkind: ConfigMapGenerator\nmetadata:\n  name: {prefix}-{i}\n  namespace: default\nspec:\n  data:\n    index: \"{i}\"\n"
            )
        })
        .collect()
}

fn generator_resource() -> ApiResource {
    ApiResource {
        group: "samples.marketplace.dev".into(),
        version: "v1alpha1".into(),
        api_version: "samples.marketplace.dev/v1alpha1".into(),
        kind: "ConfigMapGenerator".into(),
        plural: "configmapgenerators".into(),
    }
}

/// Whether every generator is Ready for its generation with exactly one child that it owns and
/// that holds its data; the number of generators counted.
async fn converged(client: &kube::Client, expected: usize) -> Option<usize> {
    let gens: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &generator_resource());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let gens = gens.list(&ListParams::default()).await.ok()?.items;
    let children = cms
        .list(&ListParams::default().labels(LABEL))
        .await
        .ok()?
        .items;
    if gens.len() != expected || children.len() != expected {
        return None;
    }
    let mut by_owner: BTreeMap<String, Vec<&ConfigMap>> = BTreeMap::new();
    for c in &children {
        let refs = c.metadata.owner_references.as_deref().unwrap_or_default();
        assert_eq!(refs.len(), 1, "a child has one owner: {c:?}");
        by_owner.entry(refs[0].uid.clone()).or_default().push(c);
    }
    for g in &gens {
        let uid = g.metadata.uid.clone().unwrap_or_default();
        let name = g.metadata.name.clone().unwrap_or_default();
        let mine = by_owner.get(&uid)?;
        assert_eq!(mine.len(), 1, "exactly one child of {name}: {mine:?}");
        assert_eq!(
            mine[0].metadata.name.as_deref(),
            Some(format!("{name}-generated").as_str())
        );
        if mine[0].data.as_ref()
            != serde_json::from_value(g.data["spec"]["data"].clone())
                .ok()
                .as_ref()
        {
            return None;
        }
        let status = &g.data["status"];
        let ready = status["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        if !ready || status["observedGeneration"] != serde_json::json!(g.metadata.generation) {
            return None;
        }
    }
    Some(gens.len())
}

async fn children_count(client: &kube::Client) -> usize {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.list(&ListParams::default().labels(LABEL))
        .await
        .map(|l| l.items.len())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_controller_on_the_host_converges_after_a_kill_9_mid_reconcile() {
    const N: usize = 150;
    let mut s = Server::start_with(&["b=env=test"], &["--enable-sample"], &[]);
    for cluster in ["global", "b"] {
        poll(&format!("the sample CRD installed in {cluster}"), || {
            s.kubectl_on(cluster, &["get", "crd", CRD])
                .status
                .success()
                .then_some(())
        });
    }
    let global = s.client("global").await;
    let out = s.kubectl_with_stdin("b", &["apply", "-f", "-"], Some(&generators_yaml("w", N)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kill while kubectl is still creating generators in global and the host reconciles them.
    let applying = {
        let (kubectl, kubeconfig) = (s.kubectl_path().to_path_buf(), s.kubeconfig("global"));
        std::thread::spawn(move || {
            use std::io::Write;
            let mut p = Command::new(kubectl)
                .args(["apply", "-f", "-"])
                .env("KUBECONFIG", kubeconfig)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let _ = p
                .stdin
                .take()
                .unwrap()
                .write_all(generators_yaml("g", N).as_bytes());
            let _ = p.wait();
        })
    };
    poll_async("the first children in global", || {
        let global = global.clone();
        async move { (children_count(&global).await > 0).then_some(()) }
    })
    .await;
    let mut child = s.child.take().expect("server process");
    child.kill().expect("kill -9 the server");
    child.wait().unwrap();
    applying.join().unwrap();
    s.restart();
    // kubectl apply is idempotent: the generators the kill cut off are created now.
    s.ok_stdin(&["apply", "-f", "-"], &generators_yaml("g", N));
    let global = s.client("global").await;
    let b = s.client("b").await;
    for (name, c) in [("global", &global), ("b", &b)] {
        let n = poll_async(&format!("{name} converged after the restart"), || {
            let c = c.clone();
            async move { converged(&c, N).await }
        })
        .await;
        assert_eq!(n, N);
    }
    let ready = s.ok(&[
        "get",
        "configmapgenerators",
        "g-7",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    ]);
    assert_eq!(ready, "True");
    // A spec change reaches the child; deleting the generator collects it.
    s.ok(&[
        "patch",
        "cmg",
        "g-7",
        "--type=merge",
        "-p",
        r#"{"spec":{"data":{"index":"changed"}}}"#,
    ]);
    poll("the child of g-7 updated", || {
        (s.ok(&["get", "cm", "g-7-generated", "-o", "jsonpath={.data.index}"]) == "changed")
            .then_some(())
    });
    s.ok(&["delete", "cmg", "g-7"]);
    poll("the child of g-7 collected", || {
        (!s.kubectl(&["get", "cm", "g-7-generated"]).status.success()).then_some(())
    });
    let metrics = global
        .request_text(http::Request::get("/metrics").body(Vec::new()).unwrap())
        .await
        .unwrap();
    for cluster in ["global", "b"] {
        let series = format!(
            r#"marketplace_controller_reconciles_total{{controller="sample",cluster="{cluster}",result="success"}}"#
        );
        assert!(metrics.contains(&series), "{series} missing from /metrics");
    }
    let events = s.ok(&[
        "get",
        "events.events.k8s.io",
        "-o",
        "jsonpath={.items[*].reason}",
    ]);
    assert!(
        events.contains("Generated"),
        "the controller records Events: {events}"
    );
}

/// `marketplace controllers` as a child process (its log in the data dir).
fn spawn_controllers(s: &Server) -> Child {
    let log = std::fs::File::create(s.data_dir().join("controllers.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .arg("controllers")
        .arg("--kubeconfig")
        .arg(s.kubeconfig("global"))
        .arg("--cluster")
        .arg(format!("b={}", s.kubeconfig("b").display()))
        .arg("--enable-sample")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn marketplace controllers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_controller_runs_out_of_process_against_kubeconfigs() {
    const N: usize = 100;
    let s = Server::start_with(&["b"], &["--no-controllers"], &[]);
    let crds = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(["crds", "--enable-sample"])
        .output()
        .unwrap();
    assert!(crds.status.success());
    let crds = String::from_utf8(crds.stdout).unwrap();
    assert!(crds.contains(CRD), "{crds}");
    for cluster in ["global", "b"] {
        let out = s.kubectl_with_stdin(cluster, &["apply", "-f", "-"], Some(&crds));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (global, b) = (s.client("global").await, s.client("b").await);
    s.ok_stdin(&["apply", "-f", "-"], &generators_yaml("g", N));
    let out = s.kubectl_with_stdin("b", &["apply", "-f", "-"], Some(&generators_yaml("w", N)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kill on the first child's watch event, not on a poll: the controllers create all 200
    // children within one 50 ms poll interval when the machine is idle.
    let cms: Api<ConfigMap> = Api::namespaced(b.clone(), "default");
    let from = cms
        .list(&ListParams::default().labels(LABEL))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut events = cms
        .watch(&WatchParams::default().labels(LABEL), &from)
        .await
        .unwrap()
        .boxed();
    let mut controllers = spawn_controllers(&s);
    loop {
        let event = tokio::time::timeout(common::DEADLINE, events.next())
            .await
            .expect("the first child in b within the deadline")
            .expect("the watch stays open")
            .expect("a watch event");
        if matches!(event, WatchEvent::Added(_)) {
            break;
        }
    }
    controllers.kill().expect("kill -9 marketplace controllers");
    controllers.wait().unwrap();
    let at_kill = (children_count(&global).await, children_count(&b).await);
    eprintln!(
        "children when the controllers were killed: global {}, b {}",
        at_kill.0, at_kill.1
    );
    assert!(
        at_kill.0 + at_kill.1 < 2 * N,
        "the kill came before the controllers finished: {at_kill:?}"
    );
    let mut controllers = spawn_controllers(&s);
    for (name, c) in [("global", &global), ("b", &b)] {
        let n = poll_async(&format!("{name} converged out of process"), || {
            let c = c.clone();
            async move { converged(&c, N).await }
        })
        .await;
        assert_eq!(n, N);
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(controllers.id().to_string())
        .status();
    let status = controllers.wait().unwrap();
    let log = std::fs::read_to_string(s.data_dir().join("controllers.log")).unwrap_or_default();
    assert!(
        status.success(),
        "SIGTERM stops the controllers cleanly: {status}\n{log}"
    );
    assert!(
        !log.contains("ignored shutdown"),
        "every controller set stops when asked, none is aborted after the grace period:\n{log}"
    );
}

#[test]
fn owners_and_namespaces_are_deleted_through_kubectl_with_the_host_collecting() {
    let s = Server::start(&[]);
    let uid = |name: &str| s.ok(&["get", "cm", name, "-o", "jsonpath={.metadata.uid}"]);
    let owned = |name: &str, owner: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: {owner}\n    uid: {}\n    blockOwnerDeletion: true\n",
            uid(owner)
        )
    };
    for o in ["bg", "fg", "or"] {
        s.ok(&["create", "cm", o, "--from-literal=k=v"]);
        s.ok_stdin(&["apply", "-f", "-"], &owned(&format!("{o}-dep"), o));
    }
    s.ok_stdin(&["apply", "-f", "-"], &owned("fg-dep2", "fg-dep"));

    s.ok(&["delete", "cm", "bg"]);
    poll("the background dependent collected", || {
        (!s.kubectl(&["get", "cm", "bg-dep"]).status.success()).then_some(())
    });
    // kubectl waits for the owner to go; foreground means its dependents went first.
    s.ok(&[
        "delete",
        "cm",
        "fg",
        "--cascade=foreground",
        "--timeout=60s",
    ]);
    for gone in ["fg", "fg-dep", "fg-dep2"] {
        assert!(
            !s.kubectl(&["get", "cm", gone]).status.success(),
            "{gone} deleted"
        );
    }
    s.ok(&["delete", "cm", "or", "--cascade=orphan", "--timeout=60s"]);
    let refs = s.ok(&[
        "get",
        "cm",
        "or-dep",
        "-o",
        "jsonpath={.metadata.ownerReferences}",
    ]);
    assert_eq!(refs, "", "the orphaned dependent keeps no reference");

    s.ok(&["create", "namespace", "team"]);
    s.ok(&["-n", "team", "create", "cm", "x", "--from-literal=k=v"]);
    s.ok(&[
        "-n",
        "team",
        "create",
        "secret",
        "generic",
        "y",
        "--from-literal=k=v",
    ]);
    s.ok(&["delete", "namespace", "team", "--timeout=60s"]);
    let out = s.kubectl(&["get", "namespace", "team"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NotFound"));
}
