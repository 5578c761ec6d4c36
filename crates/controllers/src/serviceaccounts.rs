//! What kube-controller-manager's serviceaccount controller and root CA publisher keep in every
//! namespace that is not being deleted: the ServiceAccount `default` (Pods run as it unless they
//! name another; `kubectl create token default` asks for its token) and the ConfigMap
//! `kube-root-ca.crt` holding the cluster's CA (`ca.crt`), which clients inside the cluster use
//! to verify the API server. Either one deleted comes back; a changed CA is written over.
//!
//! Owns only those two objects. A namespace being deleted is left alone (its contents are the
//! namespace controller's to remove).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::host::{ClusterContext, ControllerSet};

pub const NAME: &str = "serviceaccount-controller";

/// The ServiceAccount every namespace has.
pub const DEFAULT_ACCOUNT: &str = "default";
/// The ConfigMap with the cluster's CA every namespace has.
pub const ROOT_CA: &str = "kube-root-ca.crt";

const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

#[derive(Debug, thiserror::Error)]
#[error("keeping the {what} of namespace {namespace}: {source}")]
pub struct AccountsError {
    what: &'static str,
    namespace: String,
    #[source]
    source: kube::Error,
}

/// The set; `ca_pem` is the CA of the API server (`None` when it serves plain HTTP: no
/// `kube-root-ca.crt` then).
pub fn set(ca_pem: Option<String>) -> ControllerSet {
    ControllerSet::new(NAME, move |cx: ClusterContext| run(cx, ca_pem.clone()))
}

struct Ctx {
    client: kube::Client,
    ca_pem: Option<String>,
}

pub async fn run(cx: ClusterContext, ca_pem: Option<String>) -> Result<(), AccountsError> {
    let client = cx.client.clone();
    let controller = Controller::new(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    .watches(
        Api::<ServiceAccount>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={DEFAULT_ACCOUNT}")),
        |sa| namespace_of(&sa),
    )
    .watches(
        Api::<ConfigMap>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={ROOT_CA}")),
        |cm| namespace_of(&cm),
    );
    let ctx = Arc::new(Ctx { client, ca_pem });
    crate::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    Ok(())
}

/// The namespace an object lives in, as the reference its reconcile is triggered by.
fn namespace_of<K: Resource>(obj: &K) -> Option<ObjectRef<Namespace>> {
    obj.meta().namespace.as_deref().map(ObjectRef::new)
}

/// The `kube-root-ca.crt` ConfigMap of a namespace.
pub fn root_ca_configmap(ca_pem: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": ROOT_CA, "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
        "data": {"ca.crt": ca_pem},
    }))
    .expect("a valid ConfigMap")
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action, AccountsError> {
    let terminating = ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    if terminating {
        return Ok(Action::await_change());
    }
    let namespace = ns.name_any();
    let err = |what| {
        let namespace = namespace.clone();
        move |source| AccountsError {
            what,
            namespace,
            source,
        }
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &namespace);
    if accounts
        .get_opt(DEFAULT_ACCOUNT)
        .await
        .map_err(err("ServiceAccount default"))?
        .is_none()
    {
        let sa: ServiceAccount =
            serde_json::from_value(json!({"metadata": {"name": DEFAULT_ACCOUNT}}))
                .expect("a valid ServiceAccount");
        create_unless_present(&accounts, &sa)
            .await
            .map_err(err("ServiceAccount default"))?;
    }
    let Some(ca) = ctx.ca_pem.as_deref() else {
        return Ok(Action::await_change());
    };
    let maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let want = root_ca_configmap(ca);
    match maps
        .get_opt(ROOT_CA)
        .await
        .map_err(err("ConfigMap kube-root-ca.crt"))?
    {
        None => create_unless_present(&maps, &want)
            .await
            .map_err(err("ConfigMap kube-root-ca.crt"))?,
        Some(cur) if cur.data != want.data => {
            let mut next = cur.clone();
            next.data = want.data;
            maps.replace(ROOT_CA, &PostParams::default(), &next)
                .await
                .map_err(err("ConfigMap kube-root-ca.crt"))?;
        }
        Some(_) => {}
    }
    Ok(Action::await_change())
}

/// Creates `obj`; one made meanwhile by someone else is as good.
async fn create_unless_present<K>(api: &Api<K>, obj: &K) -> Result<(), kube::Error>
where
    K: Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}
