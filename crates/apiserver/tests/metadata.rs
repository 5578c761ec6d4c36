//! `PartialObjectMetadata` as kube-apiserver serves it, against a real server over HTTPS: kube-rs
//! `get_metadata` / `list_metadata` / `patch_metadata` and a metadata watcher (`watcher` over
//! `Api<PartialObjectMeta<K>>`, what kube-rs 5 runs for `metadata_watcher`) on a built-in and a
//! custom resource; and the raw answers with curl: content types, the v1beta1 group version,
//! `items: null` for an empty list, watch events and bookmarks as `PartialObjectMetadata`, and
//! 406 for what kube-apiserver refuses. (Multi-threaded runtimes: curl blocks its thread while the
//! server answers on another.) (No kubectl command asks for PartialObjectMetadata:
//! kubectl 1.27–1.33 do not link client-go's metadata client.)

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{GroupVersionKind, PartialObjectMeta};
use kube::runtime::watcher;
use serde_json::{Value, json};

struct Server {
    cp: apiserver::ControlPlane,
    dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    Server { cp, dir }
}

impl Server {
    /// A kube-rs client over HTTPS from the server's kubeconfig (not the in-process one).
    async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(self.cp.kubeconfig_path("global")).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(cfg).unwrap()
    }

    fn ca_file(&self) -> PathBuf {
        let p = self.dir.path().join("test-ca.pem");
        std::fs::write(&p, self.cp.ca_pem().expect("serves HTTPS")).unwrap();
        p
    }

    /// `GET path` with curl and `Accept: accept`: (status, Content-Type, body).
    fn curl(&self, path: &str, accept: &str) -> (u16, String, String) {
        let body = self.dir.path().join("curl-body");
        let out = Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(self.ca_file())
            .args(["-H", &format!("Authorization: Bearer {}", self.cp.token())])
            .args(["-H", &format!("Accept: {accept}")])
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code} %{content_type}"])
            .arg(format!("{}{path}", self.cp.base_url()))
            .output()
            .expect("curl must be installed (Debian package curl)");
        assert!(out.status.success(), "curl {path}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let (code, ct) = text.split_once(' ').unwrap();
        (
            code.parse().unwrap(),
            ct.to_string(),
            std::fs::read_to_string(body).unwrap_or_default(),
        )
    }
}

const META: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const META_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "x"}, "finalizers": ["example.com/keep"],
                     "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                          "uid": "0b6a3b1c-98c1-4c8e-9a39-1d2f1e4c7a10"}]},
        "data": {"big": "x".repeat(1000)},
    }))
    .unwrap()
}

async fn within<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_reads_and_watches_configmap_metadata_only() {
    let s = start().await;
    let client = s.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();

    let m = api.get_metadata("a").await.unwrap();
    let types = m.types.clone().expect("typed");
    assert_eq!(
        (types.kind.as_str(), types.api_version.as_str()),
        ("PartialObjectMetadata", "meta.k8s.io/v1")
    );
    assert_eq!(m.metadata.name.as_deref(), Some("a"));
    assert_eq!(m.metadata.labels.unwrap()["app"], "x");
    assert_eq!(m.metadata.owner_references.unwrap()[0].name, "owner");
    assert_eq!(
        m.metadata.finalizers.unwrap(),
        vec!["example.com/keep".to_string()]
    );

    let list = api.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("a"));
    let paged = api
        .list_metadata(&ListParams::default().limit(1))
        .await
        .unwrap();
    assert_eq!(paged.items.len(), 1);
    let empty = Api::<ConfigMap>::namespaced(client.clone(), "kube-system")
        .list_metadata(&ListParams::default().labels("app=none"))
        .await
        .unwrap();
    assert!(empty.items.is_empty());

    let patched = api
        .patch_metadata(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"patched": "yes"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.types.unwrap().kind, "PartialObjectMetadata");
    assert_eq!(patched.metadata.labels.unwrap()["patched"], "yes");

    // The metadata watcher: initial list, then a live create, as PartialObjectMetadata.
    let meta_api: Api<PartialObjectMeta<ConfigMap>> = Api::namespaced(client.clone(), "default");
    let mut events = watcher(meta_api, watcher::Config::default()).boxed();
    let mut seen_initial = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("watch event")
            .unwrap()
            .unwrap()
        {
            watcher::Event::InitApply(o) => {
                assert_eq!(o.metadata.name.as_deref(), Some("a"));
                seen_initial = true;
            }
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert!(seen_initial);
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("live watch event")
            .unwrap()
            .unwrap();
        if let watcher::Event::Apply(o) = ev {
            assert_eq!(o.metadata.name.as_deref(), Some("b"));
            assert_eq!(o.types.unwrap().kind, "PartialObjectMetadata");
            assert_eq!(o.metadata.labels.unwrap()["app"], "x");
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_reads_custom_resource_metadata() {
    let s = start().await;
    let client = s.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                   "x-kubernetes-preserve-unknown-fields": true}}}]},
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    within("the Widget resource to be served", || {
        let api = api.clone();
        async move { api.list(&ListParams::default()).await.ok() }
    })
    .await;
    let w: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "labels": {"tier": "gold"}}, "spec": {"size": 3},
    }))
    .unwrap();
    api.create(&PostParams::default(), &w).await.unwrap();
    let m = api.get_metadata("w1").await.unwrap();
    assert_eq!(m.types.unwrap().kind, "PartialObjectMetadata");
    assert_eq!(m.metadata.labels.unwrap()["tier"], "gold");
    let l = api.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(l.items.len(), 1);
    let (code, ct, body) = s.curl("/apis/example.com/v1/namespaces/default/widgets", META_LIST);
    assert_eq!((code, ct.as_str()), (200, "application/json"), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"][0]["kind"], "PartialObjectMetadata");
    assert!(v["items"][0].get("spec").is_none());
    let (code, _, body) = s.curl(
        "/apis/example.com/v1/namespaces/default/widgets/w1",
        META_LIST,
    );
    assert_eq!(code, 406);
    let st: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        st["message"],
        "you requested PartialObjectMetadataList, but the requested object is not a list (*unstructured.Unstructured)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_answers_match_kube_apiserver_content_types_versions_and_refusals() {
    let s = start().await;
    let api: Api<ConfigMap> = Api::namespaced(s.client().await, "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let base = "/api/v1/namespaces/default/configmaps";

    let (code, ct, body) = s.curl(&format!("{base}/a"), META);
    assert_eq!((code, ct.as_str()), (200, "application/json"), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "PartialObjectMetadata");
    assert_eq!(v["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(v["metadata"]["name"], "a");
    assert!(v.get("data").is_none(), "{v}");

    // client-go's metadata client: protobuf first (skipped: the server answers JSON), then JSON.
    let client_go = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    let (code, ct, body) = s.curl(base, client_go);
    assert_eq!((code, ct.as_str()), (200, "application/json"), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "PartialObjectMetadataList");
    assert_eq!(v["apiVersion"], "meta.k8s.io/v1");
    assert!(v["metadata"]["resourceVersion"].is_string());
    assert_eq!(v["items"][0]["kind"], "PartialObjectMetadata");
    assert_eq!(v["items"][0]["metadata"]["name"], "a");

    // v1beta1 is still taken; an empty list has `items: null`, as kube-apiserver's nil slice.
    let beta = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1";
    let (code, _, body) = s.curl("/api/v1/namespaces/kube-system/configmaps", beta);
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["apiVersion"], "meta.k8s.io/v1beta1");
    assert!(v["items"].is_null(), "{v}");
    let (_, _, body) = s.curl(
        &format!("{base}?limit=1&labelSelector=app%3Dnone"),
        META_LIST,
    );
    assert!(serde_json::from_str::<Value>(&body).unwrap()["items"].is_null());

    // What kube-apiserver refuses.
    for (path, accept, message) in [
        (
            base.to_string(),
            META,
            "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)",
        ),
        (
            format!("{base}/a"),
            META_LIST,
            "you requested PartialObjectMetadataList, but the requested object is not a list (*core.ConfigMap)",
        ),
        (
            format!("{base}/a"),
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2",
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ),
    ] {
        let (code, ct, body) = s.curl(&path, accept);
        assert_eq!(
            (code, ct.as_str()),
            (406, "application/json"),
            "{path} {accept}"
        );
        let st: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(st["reason"], "NotAcceptable");
        assert_eq!(st["message"], message);
    }

    // A watch: initial events and the initial-events-end bookmark as PartialObjectMetadata.
    let (code, ct, body) = s.curl(
        &format!("{base}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"),
        META,
    );
    assert_eq!((code, ct.as_str()), (200, "application/json"), "{body}");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "a");
    assert!(lines[0]["object"].get("data").is_none());
    let bookmark = lines
        .iter()
        .find(|l| l["type"] == "BOOKMARK")
        .expect("bookmark");
    assert_eq!(bookmark["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(bookmark["object"]["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Tables and plain reads are unchanged.
    let (code, _, body) = s.curl(
        base,
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    );
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["kind"],
        "Table"
    );
    let (_, _, body) = s.curl(base, "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["kind"],
        "ConfigMapList"
    );
}
