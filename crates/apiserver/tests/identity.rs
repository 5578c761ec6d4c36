//! Identities through the library API: `ControlPlane::client_as` acts with its ServiceAccount's
//! RBAC (kube-apiserver's 403 elsewhere), platform user tokens survive a restart (checked with the
//! real kubectl and TokenReview), bootstrap roles exist, and the review APIs answer for the caller.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::authentication::v1::TokenReview;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, Role, RoleBinding};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

async fn start(dir: &Path) -> apiserver::ControlPlane {
    let mut cfg = apiserver::Config::new(dir);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    apiserver::ControlPlane::start(cfg).await.unwrap()
}

async fn create<K>(api: &Api<K>, v: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(&PostParams::default(), &serde_json::from_value(v).unwrap())
        .await
        .unwrap();
}

/// `team/reader` with a Role that lists pods in `team`.
async fn reader(admin: &kube::Client) {
    let ns: Api<Namespace> = Api::all(admin.clone());
    for n in ["team", "other"] {
        create(&ns, json!({"metadata": {"name": n}})).await;
    }
    let sa: Api<ServiceAccount> = Api::namespaced(admin.clone(), "team");
    create(&sa, json!({"metadata": {"name": "reader"}})).await;
    let roles: Api<Role> = Api::namespaced(admin.clone(), "team");
    create(
        &roles,
        json!({"metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]}),
    )
    .await;
    let rb: Api<RoleBinding> = Api::namespaced(admin.clone(), "team");
    create(
        &rb,
        json!({"metadata": {"name": "read-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "team"}]}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_as_acts_with_the_service_accounts_rbac() {
    let dir = tempfile::tempdir().unwrap();
    let cp = start(dir.path()).await;
    reader(&cp.client("global").unwrap()).await;
    let c = cp.client_as("global", "team", "reader").unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "team");
    assert!(
        pods.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let other: Api<Pod> = Api::namespaced(c.clone(), "other");
    match other.list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert_eq!(s.reason, "Forbidden");
            assert_eq!(
                s.message,
                r#"pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "other""#
            );
        }
        r => panic!("expected 403, got {r:?}"),
    }
    // a write it was not granted
    let create = pods
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})).unwrap())
        .await;
    assert!(
        matches!(create, Err(kube::Error::Api(ref s)) if s.code == 403),
        "{create:?}"
    );
    // an account that does not exist gets no client
    match cp.client_as("global", "team", "nobody") {
        Err(e) => assert_eq!(e.code(), 404, "{e}"),
        Ok(_) => panic!("a client for a ServiceAccount that does not exist"),
    }
    cp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_roles_exist_in_every_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let cp = start(dir.path()).await;
    let roles: Api<ClusterRole> = Api::all(cp.client("global").unwrap());
    for name in [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:discovery",
        "system:basic-user",
        "system:public-info-viewer",
    ] {
        let r = roles
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            r.metadata.labels.unwrap()["kubernetes.io/bootstrapping"],
            "rbac-defaults"
        );
    }
    let view = roles.get("view").await.unwrap();
    assert!(view.aggregation_rule.is_some());
    cp.shutdown().await;
}

fn kubectl(cp: &apiserver::ControlPlane, home: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("/usr/bin/kubectl")
        .args(args)
        .env("KUBECONFIG", cp.kubeconfig_path("global"))
        .env("HOME", home)
        .output()
        .expect("kubectl is required: install the kubectl package (scripts/setup)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tokens_survive_a_restart_and_are_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cp = start(dir.path()).await;
    let token = cp
        .issue_user_token("alice", &["devs".to_string()], None)
        .unwrap();
    let short = cp
        .issue_user_token("bob", &[], Some(std::time::Duration::from_secs(3600)))
        .unwrap();
    let stored = std::fs::read_to_string(dir.path().join("user-tokens.json")).unwrap();
    assert!(
        !stored.contains(&token) && !stored.contains(&short),
        "plain tokens on disk"
    );
    let flag = format!("--token={token}");
    let who = |cp: &apiserver::ControlPlane| {
        kubectl(
            cp,
            home.path(),
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
                &flag,
            ],
        )
    };
    let (ok, out, err) = who(&cp);
    assert!(ok, "{err}");
    assert_eq!(out, r#"alice ["devs","system:authenticated"]"#);
    // alice has no RBAC grants: reading pods is forbidden, with her name in the message
    let (ok, _, err) = kubectl(&cp, home.path(), &["get", "pods", &flag]);
    assert!(!ok);
    assert!(
        err.contains(
            r#"User "alice" cannot list resource "pods" in API group "" in the namespace "default""#
        ),
        "{err}"
    );
    cp.shutdown().await;

    let cp = start(dir.path()).await;
    let (ok, out, err) = who(&cp);
    assert!(ok, "after restart: {err}");
    assert!(out.starts_with("alice "), "{out}");
    let reviews: Api<TokenReview> = Api::all(cp.client("global").unwrap());
    let review =
        |t: &str| serde_json::from_value::<TokenReview>(json!({"spec": {"token": t}})).unwrap();
    let r = reviews
        .create(&PostParams::default(), &review(&short))
        .await
        .unwrap();
    let st = r.status.unwrap();
    assert_eq!(st.authenticated, Some(true));
    assert_eq!(st.user.unwrap().username.as_deref(), Some("bob"));
    let r = reviews
        .create(&PostParams::default(), &review("mpu_forged"))
        .await
        .unwrap();
    assert_eq!(r.status.unwrap().authenticated, Some(false));
    cp.shutdown().await;
}
