//! kube-rs against `marketplace serve` over TLS with the kubeconfig it wrote: typed `Api` CRUD, a
//! `watcher` that survives a server restart (same data dir, same port), a small `Controller` that
//! reconciles a custom resource and writes its status, and server-side apply via `Patch::Apply`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Server, poll_async};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{CustomResource, ResourceExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Gadget",
    namespaced,
    status = "GadgetStatus",
    schema = "disabled"
)]
pub struct GadgetSpec {
    pub size: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct GadgetStatus {
    #[serde(rename = "observedSize")]
    pub observed_size: i64,
}

const GADGET_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "gadgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
        "status": {"type": "object", "properties": {"observedSize": {"type": "integer"}}}}}}}]}}"#;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "demo"}},
        "data": {"k": value},
    }))
    .unwrap()
}

#[tokio::test]
async fn typed_api_crud_with_conflicts() {
    let s = Server::start(&[]);
    let client = s.client("global").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = api
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let got = api.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "1");
    api.create(&PostParams::default(), &cm("b", "2"))
        .await
        .unwrap();
    let listed = api
        .list(&ListParams::default().labels("app=demo"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert!(listed.metadata.resource_version.is_some());
    // Replace with the current resourceVersion works, with a stale one it is a 409.
    let mut fresh = api.get("a").await.unwrap();
    fresh.data = Some([("k".to_string(), "3".to_string())].into());
    let replaced = api
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    let err = api
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(e) => assert_eq!((e.code, e.reason.as_str()), (409, "Conflict")),
        other => panic!("expected a 409, got {other:?}"),
    }
    assert_ne!(
        replaced.metadata.resource_version,
        fresh.metadata.resource_version
    );
    let err = api
        .create(&PostParams::default(), &cm("a", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 409 && e.reason == "AlreadyExists"),
        "{err:?}"
    );
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"m": "merged"}})),
    )
    .await
    .unwrap();
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["m"], "merged");
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let err = api.get("a").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 404),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_survives_a_server_restart() {
    let mut s = Server::start(&[]);
    let client = s.client("global").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &cm("before", "1"))
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            if let Ok(o) = item {
                let _ = tx.send(o.name_any());
            }
        }
    });
    let recv_name = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>, want: &str| {
        tokio::time::timeout(common::DEADLINE, async {
            while let Some(n) = rx.recv().await {
                if n == want {
                    return;
                }
            }
            panic!("watch stream ended");
        })
        .await
        .unwrap_or_else(|_| panic!("watcher never saw {want}"));
    };
    recv_name(&mut rx, "before").await;
    tokio::task::block_in_place(|| s.restart());
    // The same client (same URL, same CA and token) keeps working after the restart.
    poll_async("the API after restart", || {
        let api = api.clone();
        async move {
            api.create(&PostParams::default(), &cm("after", "2"))
                .await
                .ok()
        }
    })
    .await;
    recv_name(&mut rx, "after").await;
    task.abort();
}

async fn reconcile(g: Arc<Gadget>, api: Arc<Api<Gadget>>) -> Result<Action, kube::Error> {
    let want = g.spec.size;
    if g.status.as_ref().map(|s| s.observed_size) != Some(want) {
        api.patch_status(
            &g.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"observedSize": want}})),
        )
        .await?;
    }
    Ok(Action::requeue(Duration::from_secs(300)))
}

fn error_policy(_g: Arc<Gadget>, _e: &kube::Error, _api: Arc<Api<Gadget>>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_reconciles_a_custom_resource_and_writes_status() {
    let s = Server::start(&[]);
    let client = s.client("global").await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &serde_json::from_str(GADGET_CRD).unwrap(),
    )
    .await
    .unwrap();
    let api: Api<Gadget> = Api::namespaced(client.clone(), "default");
    let ctx = Arc::new(api.clone());
    let controller = tokio::spawn(
        Controller::new(api.clone(), watcher::Config::default())
            .run(reconcile, error_policy, ctx)
            .for_each(|_| async {}),
    );
    api.create(
        &PostParams::default(),
        &Gadget::new("g1", GadgetSpec { size: 3 }),
    )
    .await
    .unwrap();
    poll_async("status.observedSize = 3", || {
        let api = api.clone();
        async move {
            api.get("g1")
                .await
                .ok()
                .and_then(|g| g.status)
                .filter(|st| st.observed_size == 3)
        }
    })
    .await;
    api.patch(
        "g1",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 5}})),
    )
    .await
    .unwrap();
    let g = poll_async("status.observedSize = 5", || {
        let api = api.clone();
        async move {
            api.get("g1")
                .await
                .ok()
                .filter(|g| g.status.as_ref().map(|s| s.observed_size) == Some(5))
        }
    })
    .await;
    assert_eq!(
        g.metadata.generation,
        Some(2),
        "status writes do not bump generation"
    );
    controller.abort();
}

#[tokio::test]
async fn server_side_apply_with_field_managers_and_force() {
    let s = Server::start(&[]);
    let client = s.client("global").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"owned": "a"}});
    let created = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&cfg))
        .await
        .unwrap();
    assert_eq!(created.data.as_ref().unwrap()["owned"], "a");
    let managers: Vec<_> = created
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.contains(&"alice".to_string()), "{managers:?}");
    // Idempotent re-apply.
    let again = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&cfg))
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );
    // Another manager setting the same field differently conflicts unless forced.
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"owned": "b"}});
    let err = api
        .patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(&other))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 409),
        "{err:?}"
    );
    let forced = api
        .patch(
            "ssa",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&other),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.unwrap()["owned"], "b");
    // Fields alice stops applying are removed.
    let alice2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"extra": "x"}});
    api.patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&alice2))
        .await
        .unwrap();
    let alice3 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}});
    let after = api
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&alice3))
        .await
        .unwrap();
    let data = after.data.unwrap_or_default();
    assert!(
        !data.contains_key("extra") && data["owned"] == "b",
        "{data:?}"
    );
}
