//! Artifact/ArtifactVersion records (contract #1) applied into a real embedded control plane
//! (three clusters, the CRDs from `apis::artifacts`), through violet's own record code: the shape
//! and owner reference, one copy per target cluster, and a re-apply that changes nothing.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::{Api, DynamicObject, PostParams};
use package::{Kind, Metadata};
use violet::records::{self, Pushed};

async fn prepare(client: kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [
        apis::artifacts::Artifact::crd(),
        apis::artifacts::ArtifactVersion::crd(),
    ] {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let ns: Api<Namespace> = Api::all(client.clone());
    let mut n = Namespace::default();
    n.metadata.name = Some(records::NAMESPACE.into());
    ns.create(&PostParams::default(), &n).await.unwrap();
    // The CRDs are served once established: poll a list until it answers.
    let start = Instant::now();
    loop {
        if records::list_versions(client.clone(), "x").await.is_ok() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Artifact CRDs never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn topolvm() -> Metadata {
    Metadata::parse(
        "formatVersion: 1\nname: topolvm-operator\ndisplayName: NativeStor\ntype: bundle\nversion: 2.3.0\narchitectures: [linux/amd64]\nsourceType: alauda\ncatalogSource: platform\nartifact:\n  reference: harbor.demo.io/acp/topolvm-operator-bundle:v3.11.0\n  layout: images/0-bundle\n  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap()
}

#[tokio::test]
async fn operator_records_go_to_each_target_cluster_once_and_reapply_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path().join("data"));
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    for c in ["region1", "region2"] {
        cfg.clusters.push(apiserver::ClusterSpec::parse(c).unwrap());
    }
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let m = topolvm();
    assert_eq!(m.kind, Kind::Bundle);
    let pushed = Pushed {
        artifact: "127.0.0.1:5000/acp/topolvm-operator-bundle@sha256:aa".into(),
        tag: Some("v3.11.0".into()),
        related: vec!["127.0.0.1:5000/acp/topolvm@sha256:bb".into()],
    };
    let (targets, notice) = records::targets(m.kind, &["region1".into(), "region2".into()]);
    assert!(notice.is_none());
    for c in &targets {
        let client = cp.client(c).unwrap();
        prepare(client.clone()).await;
        assert!(
            records::apply(client.clone(), c, &m, &pushed)
                .await
                .unwrap(),
            "first apply creates"
        );
        assert!(
            !records::apply(client.clone(), c, &m, &pushed)
                .await
                .unwrap(),
            "re-apply changes nothing"
        );
        let vers: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            records::NAMESPACE,
            &records::version_resource(),
        );
        let v = vers.get("topolvm-operator.v2.3.0").await.unwrap();
        assert_eq!(v.data["spec"]["image"], pushed.artifact);
        assert_eq!(v.data["spec"]["catalogSource"], "platform");
        assert_eq!(v.data["spec"]["arch"], serde_json::json!(["amd64"]));
        assert_eq!(
            v.metadata.labels.as_ref().unwrap()[records::LABEL_ARTIFACT],
            "topolvm-operator"
        );
        let arts: Api<DynamicObject> =
            Api::namespaced_with(client, records::NAMESPACE, &records::artifact_resource());
        let a = arts.get("topolvm-operator").await.unwrap();
        assert_eq!(
            v.metadata.owner_references.as_ref().unwrap()[0].uid,
            a.metadata.uid.unwrap()
        );
        assert_eq!(a.data["spec"]["displayName"], "NativeStor");
    }
    let global: Api<DynamicObject> = Api::namespaced_with(
        cp.client("global").unwrap(),
        records::NAMESPACE,
        &records::version_resource(),
    );
    assert!(
        global.list(&Default::default()).await.is_err()
            || global
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty(),
        "nothing in global"
    );
}
