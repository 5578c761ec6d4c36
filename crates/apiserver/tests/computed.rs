//! Computed resources served by a test provider (a PackageManifest-like resource) through the real
//! kubectl 1.33 and 1.27 and kube-rs: get, `-o wide`, jsonpath, `-l`, describe, explain, `-w`
//! seeing a change when the provider's data changes, 405 on writes; and the same provider served
//! by the standalone aggregated API server.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use computed::{ChangeFeed, PrinterColumn, Provider, ProviderError, ResourceDescription, Scope};
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A PackageManifest-like provider whose objects the test sets.
struct Packages {
    objects: Mutex<Vec<Value>>,
    /// When set, the provider's data is unavailable with this message.
    down: Mutex<Option<String>>,
    feed: ChangeFeed,
}

impl Packages {
    fn new(objects: Vec<Value>) -> Arc<Packages> {
        Arc::new(Packages {
            objects: Mutex::new(objects),
            down: Mutex::new(None),
            feed: ChangeFeed::new(),
        })
    }

    fn set(&self, objects: Vec<Value>) {
        *self.objects.lock().unwrap() = objects;
        self.feed.notify();
    }
}

impl Provider for Packages {
    fn describe(&self) -> ResourceDescription {
        ResourceDescription {
            group: "packages.operators.coreos.com".into(),
            version: "v1".into(),
            kind: "PackageManifest".into(),
            plural: "packagemanifests".into(),
            singular: "packagemanifest".into(),
            short_names: vec!["pkgm".into()],
            categories: vec!["olm".into()],
            scope: Scope::Namespaced,
            schema: json!({
                "type": "object",
                "description": "PackageManifest holds information about a package.",
                "properties": {
                    "spec": {"type": "object"},
                    "status": {"type": "object", "properties": {
                        "catalogSource": {"type": "string", "description": "The CatalogSource the package comes from."},
                        "defaultChannel": {"type": "string", "description": "The channel installed by default."},
                    }},
                },
            }),
            printer_columns: vec![
                PrinterColumn::new("Catalog", "string", ".status.catalogSource", "The catalog"),
                PrinterColumn::new(
                    "Channel",
                    "string",
                    ".status.defaultChannel",
                    "Default channel",
                )
                .wide(),
            ],
            global_namespaces: vec![],
        }
    }

    fn list(&self) -> Result<Vec<Value>, ProviderError> {
        if let Some(why) = self.down.lock().unwrap().clone() {
            return Err(ProviderError::Unavailable(why));
        }
        Ok(self.objects.lock().unwrap().clone())
    }

    fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.subscribe()
    }
}

fn pkg(name: &str, catalog: &str, channel: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default", "labels": {"catalog": catalog}},
        "spec": {},
        "status": {"catalogSource": catalog, "defaultChannel": channel},
    })
}

fn initial() -> Vec<Value> {
    vec![
        pkg("etcd", "community", "stable"),
        pkg("prometheus", "certified", "beta"),
    ]
}

/// The real `kubectl.<version>` (beside the file `/usr/bin/kubectl` links to); fails loudly.
fn kubectl_binary(version: &str) -> PathBuf {
    let name = format!("kubectl.{version}");
    let direct = Path::new("/usr/bin").join(&name);
    if direct.is_file() {
        return direct;
    }
    let dispatcher = std::fs::canonicalize("/usr/bin/kubectl")
        .unwrap_or_else(|e| panic!("/usr/bin/kubectl is missing ({e}); run scripts/setup"));
    let beside = dispatcher.with_file_name(&name);
    assert!(
        beside.is_file(),
        "{name} is missing beside {}; run scripts/setup",
        dispatcher.display()
    );
    beside
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.bin);
        c.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        c.kill_on_drop(true);
        c
    }

    /// Runs kubectl; `(success, stdout, stderr)`.
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.command(args).output().await.expect("kubectl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }
}

async fn start() -> (apiserver::ControlPlane, tempfile::TempDir, Arc<Packages>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let p = Packages::new(initial());
    cp.register_computed("global", p.clone()).unwrap();
    (cp, dir, p)
}

async fn kubectl_checks(version: &str) {
    let (cp, _dir, provider) = start().await;
    let k = Kubectl {
        bin: kubectl_binary(version),
        kubeconfig: cp.kubeconfig_path("global"),
    };
    // get: the provider's columns.
    let out = k.ok(&["get", "packagemanifests", "-n", "default"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("CATALOG"),
        "{out}"
    );
    assert!(!lines[0].contains("CHANNEL"), "wide column shown: {out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("etcd") && l.contains("community")),
        "{out}"
    );
    // Short name and -o wide.
    let wide = k.ok(&["get", "pkgm", "-n", "default", "-o", "wide"]).await;
    assert!(wide.lines().next().unwrap().contains("CHANNEL"), "{wide}");
    assert!(
        wide.lines()
            .any(|l| l.starts_with("prometheus") && l.contains("beta")),
        "{wide}"
    );
    // jsonpath over the list and one object.
    let names = k
        .ok(&[
            "get",
            "packagemanifests",
            "-n",
            "default",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .await;
    assert_eq!(names, "etcd prometheus");
    let ch = k
        .ok(&[
            "get",
            "packagemanifest",
            "etcd",
            "-n",
            "default",
            "-o",
            "jsonpath={.status.defaultChannel}",
        ])
        .await;
    assert_eq!(ch, "stable");
    // Label and field selectors.
    let sel = k
        .ok(&[
            "get",
            "packagemanifests",
            "-n",
            "default",
            "-l",
            "catalog=certified",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(
        sel.trim(),
        "packagemanifest.packages.operators.coreos.com/prometheus"
    );
    let by_field = k
        .ok(&[
            "get",
            "packagemanifests",
            "-A",
            "--field-selector",
            "metadata.name=etcd",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(
        by_field.trim(),
        "packagemanifest.packages.operators.coreos.com/etcd"
    );
    // Another namespace holds nothing; a missing object is a 404.
    let (ok, _, err) = k
        .run(&["get", "packagemanifest", "nope", "-n", "default"])
        .await;
    assert!(!ok && err.contains("not found"), "{err}");
    // describe and explain.
    let d = k
        .ok(&["describe", "packagemanifest", "etcd", "-n", "default"])
        .await;
    assert!(
        d.contains("Catalog Source:") && d.contains("community"),
        "{d}"
    );
    let e = k
        .ok(&["explain", "packagemanifests.status.catalogSource"])
        .await;
    assert!(
        e.contains("The CatalogSource the package comes from."),
        "{e}"
    );
    // Discovery lists the read verbs, short name and category; OpenAPI has no write operations.
    let ar = k
        .ok(&[
            "api-resources",
            "--api-group=packages.operators.coreos.com",
            "-o",
            "wide",
        ])
        .await;
    let row = ar
        .lines()
        .find(|l| l.starts_with("packagemanifests"))
        .unwrap_or_else(|| panic!("{ar}"));
    assert!(
        row.contains("pkgm")
            && (row.contains("[get list watch]") || row.contains("get,list,watch"))
            && row.contains("olm"),
        "{ar}"
    );
    let doc: Value = serde_json::from_str(
        &k.ok(&[
            "get",
            "--raw",
            "/openapi/v3/apis/packages.operators.coreos.com/v1",
        ])
        .await,
    )
    .unwrap();
    let coll = &doc["paths"]["/apis/packages.operators.coreos.com/v1/namespaces/{namespace}/packagemanifests"];
    assert!(
        coll.get("get").is_some() && coll.get("post").is_none(),
        "{coll}"
    );
    // Writes answer 405 MethodNotAllowed.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.json");
    std::fs::write(
        &f,
        json!({"apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
               "metadata": {"name": "new", "namespace": "default"}})
        .to_string(),
    )
    .unwrap();
    let (ok, _, err) = k.run(&["create", "-f", f.to_str().unwrap()]).await;
    assert!(!ok && err.contains("does not allow this method"), "{err}");
    let (ok, _, err) = k
        .run(&["delete", "packagemanifest", "etcd", "-n", "default"])
        .await;
    assert!(!ok && err.contains("does not allow this method"), "{err}");
    // -w sees the provider's change.
    let mut watch = k
        .command(&[
            "get",
            "packagemanifests",
            "-n",
            "default",
            "-w",
            "--output-watch-events",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut changed = false;
    loop {
        let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no watch line for the change; saw {seen:?}"))
            .unwrap()
            .expect("kubectl -w ended");
        seen.push(line.clone());
        // Both initial objects listed: change the provider's data.
        if !changed && seen.iter().filter(|l| l.contains("ADDED")).count() == 2 {
            provider.set(vec![
                pkg("etcd", "community", "stable"),
                pkg("jaeger", "community", "alpha"),
            ]);
            changed = true;
        }
        if line.contains("ADDED") && line.contains("jaeger") {
            break;
        }
    }
    let deleted = tokio::time::timeout_at(deadline.into(), lines.next_line())
        .await
        .expect("the DELETED line")
        .unwrap()
        .unwrap();
    assert!(
        deleted.contains("DELETED") && deleted.contains("prometheus"),
        "{deleted}"
    );
    let _ = watch.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_33_reads_a_computed_resource_like_a_stored_one() {
    kubectl_checks("1.33").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_27_reads_a_computed_resource_like_a_stored_one() {
    kubectl_checks("1.27").await;
}

fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("packages.operators.coreos.com", "v1", "PackageManifest"),
        "packagemanifests",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kube_rs_watcher_sees_the_providers_changes() {
    let (cp, _dir, provider) = start().await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cp.client("global").unwrap(), "default", &api_resource());
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 2);
    let mut events = kube::runtime::watcher(api.clone(), Default::default()).boxed();
    use kube::runtime::watcher::Event;
    // The initial list ends with InitDone.
    loop {
        match events.next().await.unwrap().unwrap() {
            Event::InitDone => break,
            _ => continue,
        }
    }
    provider.set(vec![pkg("etcd", "community", "candidate")]);
    let mut saw_modified = false;
    let mut saw_deleted = false;
    while !(saw_modified && saw_deleted) {
        let ev = tokio::time::timeout(Duration::from_secs(30), events.next())
            .await
            .expect("a change within 30 s")
            .unwrap()
            .unwrap();
        match ev {
            Event::Apply(o) if o.metadata.name.as_deref() == Some("etcd") => {
                assert_eq!(o.data["status"]["defaultChannel"], "candidate");
                saw_modified = true;
            }
            Event::Delete(o) => {
                assert_eq!(o.metadata.name.as_deref(), Some("prometheus"));
                saw_deleted = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A streaming list (sendInitialEvents, ended by the initial-events-end bookmark) sees the
    // current objects, then InitDone.
    let cfg = kube::runtime::watcher::Config::default().streaming_lists();
    let mut streaming = kube::runtime::watcher(api.clone(), cfg).boxed();
    let mut names = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), streaming.next())
            .await
            .expect("the streaming list ends")
            .unwrap()
            .unwrap()
        {
            Event::InitApply(o) => names.push(o.metadata.name.unwrap()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, ["etcd"]);
    // A watch from a list's resourceVersion gets exactly the later changes; one from before the
    // kept history gets 410 Expired.
    let rv = support::list_revision(&api).await;
    provider.set(vec![
        pkg("etcd", "community", "candidate"),
        pkg("vault", "community", "stable"),
    ]);
    let mut w = api.watch(&Default::default(), &rv).await.unwrap().boxed();
    match w.next().await.unwrap().unwrap() {
        kube::api::WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("vault")),
        other => panic!("expected vault ADDED, got {other:?}"),
    }
    let mut old = api.watch(&Default::default(), "1").await.unwrap().boxed();
    match old.next().await.unwrap().unwrap() {
        kube::api::WatchEvent::Error(e) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("expected 410, got {other:?}"),
    }
    // A write through kube-rs is refused with a 405 Status.
    let err = api
        .delete("etcd", &Default::default())
        .await
        .expect_err("delete refused");
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 405, "{s:?}"),
        e => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aggregated_server_answers_kubectl_with_the_same_resource() {
    let provider = Packages::new(initial());
    let tls = apiserver::tls::TlsMaterial::generate(None).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = apiserver::handlers::computed::serve_aggregated(
        vec![provider.clone()],
        "127.0.0.1:0".parse().unwrap(),
        Some(tls.server_config().unwrap()),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: agg\n  cluster:\n    server: https://{}\n    insecure-skip-tls-verify: true\n\
             users:\n- name: u\n  user: {{token: unused-the-server-does-not-authenticate}}\ncontexts:\n- name: agg\n  context: {{cluster: agg, user: u}}\ncurrent-context: agg\n",
            server.addr()
        ),
    )
    .unwrap();
    let k = Kubectl {
        bin: kubectl_binary("1.33"),
        kubeconfig,
    };
    let out = k
        .ok(&["get", "packagemanifests", "-n", "default", "-o", "wide"])
        .await;
    assert!(out.lines().next().unwrap().contains("CHANNEL"), "{out}");
    assert!(out.contains("etcd") && out.contains("prometheus"), "{out}");
    let e = k
        .ok(&["explain", "packagemanifests.status.defaultChannel"])
        .await;
    assert!(e.contains("The channel installed by default."), "{e}");
    provider.set(vec![pkg("jaeger", "community", "alpha")]);
    let names = k
        .ok(&[
            "get",
            "packagemanifests",
            "-A",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .await;
    assert_eq!(names, "jaeger");
    let (ok, _, err) = k
        .run(&["delete", "packagemanifest", "jaeger", "-n", "default"])
        .await;
    assert!(!ok && err.contains("does not allow this method"), "{err}");
    let health = k.ok(&["get", "--raw", "/healthz"]).await;
    assert_eq!(health, "ok");
    shutdown.cancel();
    server.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selector_watch_sees_an_object_leave_and_an_unavailable_provider_answers_503() {
    let (cp, _dir, provider) = start().await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cp.client("global").unwrap(), "default", &api_resource());
    let lp = ListParams::default().labels("catalog=community");
    let list = api.list(&lp).await.unwrap();
    let names: Vec<_> = list
        .items
        .iter()
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["etcd"]);
    let wp = kube::api::WatchParams::default().labels("catalog=community");
    let mut w = api
        .watch(&wp, list.metadata.resource_version.as_deref().unwrap())
        .await
        .unwrap()
        .boxed();
    // etcd moves to another catalog: it leaves the selector (DELETED); prometheus enters (ADDED).
    provider.set(vec![
        pkg("etcd", "certified", "stable"),
        pkg("prometheus", "community", "beta"),
    ]);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(30), w.next())
            .await
            .expect("two events within 30 s")
            .unwrap()
            .unwrap();
        match ev {
            kube::api::WatchEvent::Added(o) => {
                seen.push(format!("ADDED {}", o.metadata.name.unwrap()))
            }
            kube::api::WatchEvent::Deleted(o) => {
                seen.push(format!("DELETED {}", o.metadata.name.unwrap()))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["ADDED prometheus", "DELETED etcd"]);
    // The provider's data goes away: reads answer 503 with its message, then recover.
    *provider.down.lock().unwrap() = Some("catalog cache is syncing".into());
    provider.feed.notify();
    match api.list(&ListParams::default()).await.unwrap_err() {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 503, "{s:?}");
            assert!(s.message.contains("catalog cache is syncing"), "{s:?}");
        }
        e => panic!("{e}"),
    }
    *provider.down.lock().unwrap() = None;
    provider.feed.notify();
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
}
