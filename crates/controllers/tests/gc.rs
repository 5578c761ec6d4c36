//! The embedded control plane's cluster behaviour as controllers on the host, through the in-process
//! `kube::Client`: garbage collection (background, foreground, orphan), namespace deletion, CRD
//! cleanup, a failing set restarted with its failure logged and counted, and the host's counters
//! on `/metrics`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{eventually, start};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

fn cm(name: &str, owners: Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "ownerReferences": owners}, "data": {"a": "1"}}),
    )
    .unwrap()
}

/// A namespaced CRD of `group` with one served version and an open schema.
fn crd(group: &str, plural: &str, kind: &str, version: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
                 "versions": [{"name": version, "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap()
}

fn owner_ref(o: &ConfigMap) -> Value {
    json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": o.metadata.name, "uid": o.metadata.uid,
            "blockOwnerDeletion": true}])
}

#[tokio::test]
async fn garbage_collector_deletes_dependents_of_deleted_owners() {
    let t = start(controllers::embedded_sets()).await;
    let api: Api<ConfigMap> = Api::namespaced(t.cp.client("global").unwrap(), "default");
    let owner = api
        .create(&PostParams::default(), &cm("owner", json!(null)))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("dep", owner_ref(&owner)))
        .await
        .unwrap();
    let owner2 = api
        .create(&PostParams::default(), &cm("owner2", json!(null)))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("dep2", owner_ref(&owner2)))
        .await
        .unwrap();
    api.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    api.delete("owner2", &DeleteParams::orphan()).await.unwrap();
    eventually("dep collected", || {
        let api = api.clone();
        async move { api.get_opt("dep").await.unwrap().is_none().then_some(()) }
    })
    .await;
    let kept = eventually("dep2 orphaned", || {
        let api = api.clone();
        async move {
            api.get_opt("dep2")
                .await
                .unwrap()
                .filter(|d| d.metadata.owner_references.is_none())
        }
    })
    .await;
    assert_eq!(kept.metadata.name.as_deref(), Some("dep2"));
    eventually("owner2 gone once orphaning finished", || {
        let api = api.clone();
        async move { api.get_opt("owner2").await.unwrap().is_none().then_some(()) }
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn foreground_deletion_removes_dependents_before_the_owner() {
    let t = start(controllers::embedded_sets()).await;
    let api: Api<ConfigMap> = Api::namespaced(t.cp.client("global").unwrap(), "default");
    let owner = api
        .create(&PostParams::default(), &cm("fg-owner", json!(null)))
        .await
        .unwrap();
    let mid = api
        .create(&PostParams::default(), &cm("fg-mid", owner_ref(&owner)))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("fg-leaf", owner_ref(&mid)))
        .await
        .unwrap();
    // A dependent that holds its own finalizer keeps the owner waiting.
    let mut held = cm("fg-held", owner_ref(&owner));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();
    api.delete("fg-owner", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("the chain below the owner deleted", || {
        let api = api.clone();
        async move {
            let leaf = api.get_opt("fg-leaf").await.unwrap();
            let mid = api.get_opt("fg-mid").await.unwrap();
            (leaf.is_none() && mid.is_none()).then_some(())
        }
    })
    .await;
    let o = api.get("fg-owner").await.unwrap();
    assert!(o.metadata.deletion_timestamp.is_some());
    assert!(
        o.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string()),
        "the owner waits while a dependent remains"
    );
    let h = api.get("fg-held").await.unwrap();
    assert!(
        h.metadata.deletion_timestamp.is_some(),
        "the held dependent is being deleted"
    );
    api.patch(
        "fg-held",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    eventually("the owner goes once its last dependent went", || {
        let api = api.clone();
        async move {
            api.get_opt("fg-owner")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn namespace_deletion_removes_its_objects_then_itself() {
    let t = start(controllers::embedded_sets()).await;
    let c = t.cp.client("global").unwrap();
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
    )
    .await
    .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "doomed");
    api.create(&PostParams::default(), &cm("x", json!(null)))
        .await
        .unwrap();
    nss.delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let err = api
        .create(&PostParams::default(), &cm("y", json!(null)))
        .await;
    if let Err(kube::Error::Api(e)) = &err {
        assert_eq!(e.code, 403, "{e:?}");
    }
    eventually("namespace doomed removed", || {
        let nss = nss.clone();
        async move { nss.get_opt("doomed").await.unwrap().is_none().then_some(()) }
    })
    .await;
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let err = api
        .create(&PostParams::default(), &cm("z", json!(null)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 404),
        "{err:?}"
    );
    t.stop().await;
}

#[derive(Debug, thiserror::Error)]
#[error("deliberate failure number {0}")]
struct Deliberate(u32);

#[tokio::test]
async fn a_failing_or_panicking_set_is_restarted_and_counted() {
    let runs = Arc::new(AtomicU32::new(0));
    let r2 = runs.clone();
    let flaky = controllers::ControllerSet::new("flaky", move |cx: controllers::ClusterContext| {
        let n = r2.fetch_add(1, Ordering::SeqCst);
        async move {
            match n {
                0 => Err(Deliberate(n)),
                1 => panic!("deliberate panic"),
                _ => {
                    cx.shutdown.cancelled().await;
                    Ok(())
                }
            }
        }
    });
    let t = start(vec![flaky]).await;
    let m = t.host_metrics.clone();
    eventually("two restarts and a third run in global", || {
        let (m, runs) = (m.clone(), runs.clone());
        async move {
            (m.restarts("flaky", "global") >= 2 && runs.load(Ordering::SeqCst) >= 3).then_some(())
        }
    })
    .await;
    let text = metrics_text(&t).await;
    assert!(
        text.contains(
            r#"marketplace_controller_restarts_total{controller="flaky",cluster="global"} "#
        ),
        "{text}"
    );
    assert!(
        text.contains("apiserver_request_total"),
        "the control plane's own series stay"
    );
    assert_eq!(text.matches("# EOF").count(), 1, "one OpenMetrics document");
    t.stop().await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "the healthy third run stopped on shutdown"
    );
}

async fn metrics_text(t: &common::Running) -> String {
    let c = t.cp.client("global").unwrap();
    c.request_text(http::Request::get("/metrics").body(Vec::new()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_deleted_crd_loses_its_objects_then_goes() {
    let t = start(controllers::embedded_sets()).await;
    let c = t.cp.client("global").unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    let crd = crd("example.com", "gadgets", "Gadget", "v1");
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let ar = kube::discovery::ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Gadget".into(),
        plural: "gadgets".into(),
    };
    let gadgets: Api<kube::api::DynamicObject> = Api::namespaced_with(c.clone(), "default", &ar);
    let mut labels = BTreeMap::new();
    labels.insert("k".to_string(), "v".to_string());
    for n in ["g1", "g2"] {
        let o: kube::api::DynamicObject = serde_json::from_value(json!({
            "apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": n, "labels": labels}}))
        .unwrap();
        gadgets.create(&PostParams::default(), &o).await.unwrap();
    }
    // A ConfigMap owned by a custom object of a CRD created at run time (the collector
    // re-discovers and watches the new resource).
    let g1 = gadgets.get("g1").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let owned = json!([{"apiVersion": "example.com/v1", "kind": "Gadget", "name": "g1",
                        "uid": g1.metadata.uid}]);
    cms.create(&PostParams::default(), &cm("gadget-child", owned))
        .await
        .unwrap();
    crds.delete("gadgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the CRD removed", || {
        let crds = crds.clone();
        async move {
            crds.get_opt("gadgets.example.com")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    let err = gadgets.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 404),
        "{err:?}"
    );
    t.stop().await;
}

/// OLM's case: `operators.coreos.com` prefers v1 (OperatorGroup) while Subscriptions exist only in
/// v1alpha1. An owner reference naming a version that is not its group's preferred one must still
/// be resolved, so the dependents of a deleted owner are collected.
#[tokio::test]
async fn dependents_of_an_owner_in_a_non_preferred_version_are_collected() {
    let t = start(controllers::embedded_sets()).await;
    let c = t.cp.client("global").unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    crds.create(
        &PostParams::default(),
        &crd("mixed.example.com", "groups", "Group", "v1"),
    )
    .await
    .unwrap();
    crds.create(
        &PostParams::default(),
        &crd("mixed.example.com", "subs", "Sub", "v1alpha1"),
    )
    .await
    .unwrap();
    let ar = kube::discovery::ApiResource {
        group: "mixed.example.com".into(),
        version: "v1alpha1".into(),
        api_version: "mixed.example.com/v1alpha1".into(),
        kind: "Sub".into(),
        plural: "subs".into(),
    };
    let subs: Api<kube::api::DynamicObject> = Api::namespaced_with(c.clone(), "default", &ar);
    let sub = eventually("the Sub resource served", || {
        let subs = subs.clone();
        async move {
            let o: kube::api::DynamicObject = serde_json::from_value(json!({
                "apiVersion": "mixed.example.com/v1alpha1", "kind": "Sub", "metadata": {"name": "s1"}}))
            .unwrap();
            subs.create(&PostParams::default(), &o).await.ok()
        }
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let owned = json!([{"apiVersion": "mixed.example.com/v1alpha1", "kind": "Sub", "name": "s1",
                        "uid": sub.metadata.uid}]);
    cms.create(&PostParams::default(), &cm("sub-child", owned))
        .await
        .unwrap();
    subs.delete("s1", &DeleteParams::background())
        .await
        .unwrap();
    eventually("the Sub's ConfigMap collected", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("sub-child")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    t.stop().await;
}

/// A dependent checked while its owner's kind is not served yet is kept (never deleted on a
/// guess), and checked again once discovery changes: the owner's watch may begin after the owner
/// is already gone, so no watch event would ever bring the dependent back.
#[tokio::test]
async fn a_dependent_of_a_kind_served_later_is_collected_once_the_kind_appears() {
    let t = start(controllers::embedded_sets()).await;
    let c = t.cp.client("global").unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let owned = json!([{"apiVersion": "late.example.com/v1", "kind": "Late", "name": "gone",
                        "uid": "6a0e4d0c-0000-4000-8000-000000000001"}]);
    cms.create(&PostParams::default(), &cm("late-child", owned))
        .await
        .unwrap();
    // A live owner proves the collector has processed the ConfigMaps created so far.
    let owner = cms
        .create(&PostParams::default(), &cm("probe-owner", json!([])))
        .await
        .unwrap();
    cms.create(
        &PostParams::default(),
        &cm("probe-child", owner_ref(&owner)),
    )
    .await
    .unwrap();
    cms.delete("probe-owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually("the probe's child collected", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("probe-child")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    assert!(
        cms.get_opt("late-child").await.unwrap().is_some(),
        "a dependent of an unserved kind must be kept"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    crds.create(
        &PostParams::default(),
        &crd("late.example.com", "lates", "Late", "v1"),
    )
    .await
    .unwrap();
    eventually("the late kind's dependent collected", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("late-child")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    t.stop().await;
}
