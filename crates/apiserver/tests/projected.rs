//! Projected resources (`ControlPlane::register_projection`) through the in-process kube-rs
//! client: a test projection shows a ConfigMap annotated `copy-to` (empty: every namespace) in
//! those namespaces, labelled `copied-from`. Lists (namespaced, `-A`, selectors, pages, Table),
//! get, watch events and refused writes; nothing is stored for the copies.

use std::sync::Arc;
use std::time::Duration;

use computed::{Projection, Targets};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::ResourceExt;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::{Value, json};

struct CopyTo;

impl Projection for CopyTo {
    fn targets(&self, obj: &Value) -> Targets {
        match obj["metadata"]["annotations"]["copy-to"].as_str() {
            None => Targets::None,
            Some("") => Targets::All,
            Some(list) => Targets::Some(list.split(',').map(str::to_string).collect()),
        }
    }

    fn prototype(&self, obj: &Value) -> Value {
        let mut c = obj.clone();
        let m = c["metadata"].as_object_mut().unwrap();
        m.remove("uid");
        m.remove("managedFields");
        let from = obj["metadata"]["namespace"].clone();
        c["metadata"]["labels"]["copied-from"] = from;
        c
    }
}

async fn start() -> (apiserver::ControlPlane, tempfile::TempDir, kube::Client) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    cp.register_projection("global", "", "configmaps", Arc::new(CopyTo))
        .unwrap();
    let client = cp.client("global").unwrap();
    let nss: Api<Namespace> = Api::all(client.clone());
    for ns in ["ops", "a", "b", "c"] {
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .unwrap();
    }
    (cp, dir, client)
}

fn cm(name: &str, ns: &str, copy_to: Option<&str>, data: &str) -> ConfigMap {
    let mut v = json!({"metadata": {"name": name, "namespace": ns}, "data": {"v": data}});
    if let Some(t) = copy_to {
        v["metadata"]["annotations"] = json!({"copy-to": t});
    }
    serde_json::from_value(v).unwrap()
}

async fn names(api: &Api<ConfigMap>, lp: &ListParams) -> Vec<String> {
    api.list(lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.as_deref().unwrap_or(""),
                c.metadata.name.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// The test's ConfigMaps, without the system namespaces' own (kube-root-ca.crt and the like).
fn ours(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .filter(|n| ["ops/", "a/", "b/", "c/"].iter().any(|p| n.starts_with(p)))
        .collect()
}

#[tokio::test]
async fn copies_show_in_target_namespaces_in_lists_and_gets_but_are_not_stored() {
    let (_cp, _d, client) = start().await;
    let ops: Api<ConfigMap> = Api::namespaced(client.clone(), "ops");
    ops.create(&PostParams::default(), &cm("all", "ops", Some(""), "1"))
        .await
        .unwrap();
    ops.create(
        &PostParams::default(),
        &cm("some", "ops", Some("b,nowhere"), "2"),
    )
    .await
    .unwrap();
    ops.create(&PostParams::default(), &cm("own", "ops", Some("ops"), "3"))
        .await
        .unwrap();
    let b: Api<ConfigMap> = Api::namespaced(client.clone(), "b");
    // An object stored under a copy's name wins.
    b.create(&PostParams::default(), &cm("all", "b", None, "mine"))
        .await
        .unwrap();

    let a: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    assert_eq!(names(&a, &ListParams::default()).await, ["a/all"]);
    assert_eq!(names(&b, &ListParams::default()).await, ["b/all", "b/some"]);
    assert_eq!(
        names(&ops, &ListParams::default()).await,
        ["ops/all", "ops/own", "ops/some"]
    );
    let all: Api<ConfigMap> = Api::all(client.clone());
    assert_eq!(
        ours(names(&all, &ListParams::default()).await),
        [
            "a/all", "b/all", "b/some", "c/all", "ops/all", "ops/own", "ops/some"
        ]
    );

    // The copy: its own namespace and uid, the original's data and resourceVersion, the label.
    let copy = a.get("all").await.unwrap();
    let orig = ops.get("all").await.unwrap();
    assert_eq!(copy.metadata.namespace.as_deref(), Some("a"));
    assert_eq!(copy.labels()["copied-from"], "ops");
    assert_eq!(copy.data, orig.data);
    assert_eq!(
        copy.metadata.resource_version,
        orig.metadata.resource_version
    );
    assert_ne!(copy.metadata.uid, orig.metadata.uid);
    assert_eq!(b.get("all").await.unwrap().data.unwrap()["v"], "mine");
    assert!(a.get_opt("some").await.unwrap().is_none());

    // Selectors apply to copies; `!copied-from` (what controllers of originals watch) hides them.
    let lp = ListParams::default().labels("!copied-from");
    assert_eq!(
        ours(names(&all, &lp).await),
        ["b/all", "ops/all", "ops/own", "ops/some"]
    );
    let lp = ListParams::default().labels("copied-from=ops");
    assert_eq!(ours(names(&all, &lp).await), ["a/all", "b/some", "c/all"]);
    let lp = ListParams::default().fields("metadata.namespace=c");
    assert_eq!(ours(names(&all, &lp).await), ["c/all"]);

    // Pages of one: the same items, in order.
    let mut paged = Vec::new();
    let mut lp = ListParams::default().limit(1);
    loop {
        let page = all.list(&lp).await.unwrap();
        paged.extend(page.items.iter().map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.clone().unwrap_or_default(),
                c.metadata.name.clone().unwrap_or_default()
            )
        }));
        match page.metadata.continue_ {
            Some(t) if !t.is_empty() => lp = lp.continue_token(&t),
            _ => break,
        }
    }
    assert_eq!(ours(paged), ours(names(&all, &ListParams::default()).await));

    // A Table lists the copy as a row.
    let req = http::Request::get("/api/v1/namespaces/a/configmaps")
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
    let t: Value = client.request(req).await.unwrap();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["rows"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["rows"][0]["cells"][0], "all");

    // A namespace being deleted shows no copies (so its contents can all be deleted).
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.delete("c", &DeleteParams::default()).await.unwrap();
    let c: Api<ConfigMap> = Api::namespaced(client.clone(), "c");
    assert!(names(&c, &ListParams::default()).await.is_empty());
    assert!(c.get_opt("all").await.unwrap().is_none());
    assert!(!ours(names(&all, &ListParams::default()).await).contains(&"c/all".to_string()));
}

#[tokio::test]
async fn writes_to_a_copy_are_refused_naming_the_original() {
    let (_cp, _d, client) = start().await;
    let ops: Api<ConfigMap> = Api::namespaced(client.clone(), "ops");
    ops.create(&PostParams::default(), &cm("all", "ops", Some(""), "1"))
        .await
        .unwrap();
    let a: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    let refused = |e: kube::Error| match e {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 405, "{s:?}");
            assert!(
                s.message
                    .contains("is a copy of ConfigMap all in namespace ops")
                    && s.message.contains("change or delete the original"),
                "{}",
                s.message
            );
        }
        e => panic!("not a Status: {e}"),
    };
    refused(a.delete("all", &DeleteParams::default()).await.unwrap_err());
    refused(
        a.patch(
            "all",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "2"}})),
        )
        .await
        .unwrap_err(),
    );
    let mut copy = a.get("all").await.unwrap();
    copy.data = Some([("v".to_string(), "3".to_string())].into());
    refused(
        a.replace("all", &PostParams::default(), &copy)
            .await
            .unwrap_err(),
    );
    assert_eq!(ops.get("all").await.unwrap().data.unwrap()["v"], "1");
    // Creating an object of that name is allowed; it then wins, and is deleted normally.
    a.create(&PostParams::default(), &cm("all", "a", None, "own"))
        .await
        .unwrap();
    assert_eq!(a.get("all").await.unwrap().data.unwrap()["v"], "own");
    a.delete("all", &DeleteParams::default()).await.unwrap();
    assert_eq!(a.get("all").await.unwrap().data.unwrap()["v"], "1");
}

/// The next event of a watch within 10 s, as `(type, namespace/name, data.v)`.
async fn next_event(
    w: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin),
) -> (String, String, String) {
    let ev = tokio::time::timeout(Duration::from_secs(10), w.try_next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .expect("the watch goes on");
    let (ty, o) = match ev {
        WatchEvent::Added(o) => ("ADDED", o),
        WatchEvent::Modified(o) => ("MODIFIED", o),
        WatchEvent::Deleted(o) => ("DELETED", o),
        other => panic!("unexpected {other:?}"),
    };
    let v = o
        .data
        .as_ref()
        .and_then(|d| d.get("v").cloned())
        .unwrap_or_default();
    (
        ty.into(),
        format!(
            "{}/{}",
            o.metadata.namespace.unwrap_or_default(),
            o.metadata.name.unwrap_or_default()
        ),
        v,
    )
}

fn ev(ty: &str, key: &str, v: &str) -> (String, String, String) {
    (ty.into(), key.into(), v.into())
}

#[tokio::test]
async fn watches_see_copies_added_modified_and_deleted() {
    let (_cp, _d, client) = start().await;
    let ops: Api<ConfigMap> = Api::namespaced(client.clone(), "ops");
    ops.create(&PostParams::default(), &cm("x", "ops", Some("a,b"), "1"))
        .await
        .unwrap();
    let a: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    let mut wa = a.watch(&WatchParams::default(), "0").await.unwrap().boxed();
    assert_eq!(next_event(&mut wa).await, ev("ADDED", "a/x", "1"));
    let all: Api<ConfigMap> = Api::all(client.clone());
    let mut wall = all
        .watch(&WatchParams::default().labels("copied-from"), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(next_event(&mut wall).await, ev("ADDED", "a/x", "1"));
    assert_eq!(next_event(&mut wall).await, ev("ADDED", "b/x", "1"));

    // A change to the original: MODIFIED of each copy.
    ops.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    assert_eq!(next_event(&mut wa).await, ev("MODIFIED", "a/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("MODIFIED", "a/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("MODIFIED", "b/x", "2"));

    // An object stored under the copy's name replaces it; deleted, the copy shows again.
    a.create(&PostParams::default(), &cm("x", "a", None, "own"))
        .await
        .unwrap();
    assert_eq!(next_event(&mut wa).await, ev("MODIFIED", "a/x", "own"));
    assert_eq!(next_event(&mut wall).await, ev("DELETED", "a/x", "2"));
    a.delete("x", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_event(&mut wa).await, ev("MODIFIED", "a/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("ADDED", "a/x", "2"));

    // Targets move from a,b to b,c: DELETED in a, MODIFIED in b, ADDED in c.
    ops.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"copy-to": "b,c"}}})),
    )
    .await
    .unwrap();
    assert_eq!(next_event(&mut wa).await, ev("DELETED", "a/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("DELETED", "a/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("MODIFIED", "b/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("ADDED", "c/x", "2"));

    // The original deleted: every copy DELETED.
    ops.delete("x", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_event(&mut wall).await, ev("DELETED", "b/x", "2"));
    assert_eq!(next_event(&mut wall).await, ev("DELETED", "c/x", "2"));
}

#[tokio::test]
async fn a_namespace_created_during_a_watch_shows_its_copies_and_loses_them_when_deleted() {
    let (_cp, _d, client) = start().await;
    let ops: Api<ConfigMap> = Api::namespaced(client.clone(), "ops");
    ops.create(&PostParams::default(), &cm("y", "ops", Some("d"), "1"))
        .await
        .unwrap();
    let d: Api<ConfigMap> = Api::namespaced(client.clone(), "d");
    let mut wd = d.watch(&WatchParams::default(), "0").await.unwrap().boxed();
    let all: Api<ConfigMap> = Api::all(client.clone());
    let mut wall = all
        .watch(&WatchParams::default().labels("copied-from"), "0")
        .await
        .unwrap()
        .boxed();
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "d"}})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(next_event(&mut wd).await, ev("ADDED", "d/y", "1"));
    assert_eq!(next_event(&mut wall).await, ev("ADDED", "d/y", "1"));
    nss.delete("d", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_event(&mut wd).await, ev("DELETED", "d/y", "1"));
    assert_eq!(next_event(&mut wall).await, ev("DELETED", "d/y", "1"));
}
