//! Least-privilege identities: a set that declares rules runs as ServiceAccount
//! `cpaas-system/marketplace-<set>` bound to exactly those rules, so the API refuses it (403, with
//! kube-apiserver's message naming the account) outside them and serves it inside them; a set
//! without rules keeps the admin client.

mod common;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::api::{Api, ListParams};
use tokio::sync::mpsc;

/// What a set saw: (listing configmaps, listing secrets) as Ok or the error text.
type Seen = (Result<usize, String>, Result<usize, String>);

fn probe_set(
    name: &str,
    rules: Option<Vec<PolicyRule>>,
    tx: mpsc::UnboundedSender<Seen>,
) -> controllers::ControllerSet {
    let set = controllers::ControllerSet::new(name, move |cx: controllers::ClusterContext| {
        let tx = tx.clone();
        async move {
            let cms: Api<ConfigMap> = Api::all(cx.client.clone());
            let secrets: Api<Secret> = Api::all(cx.client.clone());
            let a = cms
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len())
                .map_err(|e| e.to_string());
            let b = secrets
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len())
                .map_err(|e| e.to_string());
            let _ = tx.send((a, b));
            cx.shutdown.cancelled().await;
            Ok::<(), kube::Error>(())
        }
    });
    match rules {
        Some(r) => set.with_rules(r),
        None => set,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_with_narrow_rules_is_refused_outside_them_and_served_inside_them() {
    let (tx, mut narrow_rx) = mpsc::unbounded_channel();
    let (tx2, mut admin_rx) = mpsc::unbounded_channel();
    let rules = vec![PolicyRule {
        api_groups: Some(vec!["".into()]),
        resources: Some(vec!["configmaps".into()]),
        verbs: vec!["list".into()],
        ..Default::default()
    }];
    let sets = vec![
        probe_set("narrow", Some(rules), tx),
        probe_set("broad", None, tx2),
    ];
    let running = common::start_with_identities(sets, &[]).await;
    let (cms, secrets) = tokio::time::timeout(Duration::from_secs(60), narrow_rx.recv())
        .await
        .expect("the narrow set ran")
        .unwrap();
    assert!(cms.is_ok(), "inside its rules: {cms:?}");
    let err = secrets.expect_err("outside its rules");
    assert!(
        err.contains("User \"system:serviceaccount:cpaas-system:marketplace-narrow\" cannot list resource \"secrets\""),
        "{err}"
    );
    let (cms, secrets) = tokio::time::timeout(Duration::from_secs(60), admin_rx.recv())
        .await
        .expect("the broad set ran")
        .unwrap();
    assert!(
        cms.is_ok() && secrets.is_ok(),
        "a set without rules keeps the admin client"
    );
    let client = running.cp.client("global").unwrap();
    let role: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(client);
    let r = role.get("marketplace-narrow").await.unwrap();
    assert_eq!(
        r.rules.unwrap()[0].resources.as_deref(),
        Some(&["configmaps".to_string()][..])
    );
    running.stop().await;
}

/// The same through a kubeconfig, as `marketplace controllers` runs against real clusters: the
/// set's client carries a TokenRequest token (file-based, renewed), not the kubeconfig's admin token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_real_clusters_a_set_runs_with_a_token_request_token_of_its_account() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let kc = kube::config::Kubeconfig::read_from(cp.kubeconfig_path("global")).unwrap();
    let kcfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let admin = kube::Client::try_from(kcfg.clone()).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rules = vec![PolicyRule {
        api_groups: Some(vec!["".into()]),
        resources: Some(vec!["configmaps".into()]),
        verbs: vec!["list".into()],
        ..Default::default()
    }];
    let tokens = dir.path().join("tokens");
    let factory = controllers::identity::token_request_factory(
        [("global".to_string(), (kcfg, admin.clone()))].into(),
        tokens.clone(),
    );
    let host = controllers::Host::new(vec![probe_set("narrow", Some(rules), tx)])
        .with_identities(factory)
        .start(vec![controllers::ClusterTarget {
            client: admin,
            labels: Default::default(),
            global: true,
            registry: None,
            name: "global".into(),
        }]);
    let (cms, secrets) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the narrow set ran")
        .unwrap();
    assert!(cms.is_ok(), "inside its rules: {cms:?}");
    let err = secrets.expect_err("outside its rules");
    assert!(
        err.contains("system:serviceaccount:cpaas-system:marketplace-narrow"),
        "{err}"
    );
    let file = tokens.join("global_cpaas-system_marketplace-narrow.token");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    host.stop().await;
    cp.shutdown().await;
}
