//! Namespace deletion through the API, as kube-controller-manager's namespace controller: a
//! namespace being deleted (phase `Terminating`, `kubernetes` in `spec.finalizers`) has every
//! object in it deleted (their own finalizers honoured); once nothing is left the `kubernetes`
//! finalizer is removed through the namespace's `finalize` subresource and the namespace is
//! deleted again, which removes it. While objects remain the namespace is requeued (a namespace in
//! deletion is a change in progress); a namespace that is not terminating costs nothing.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams, Preconditions};
use kube::discovery::{ApiResource, Discovery, Scope};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::host::{ClusterContext, ControllerSet};

pub const NAME: &str = "namespace-controller";

/// The finalizer kube-apiserver puts in every namespace's `spec.finalizers`.
pub const FINALIZER: &str = "kubernetes";

/// How soon a namespace whose objects are still going is looked at again.
const RECHECK: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("deleting the contents of namespace {namespace}: {source}")]
    Contents {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("finalizing namespace {namespace}: {source}")]
    Finalize {
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

pub fn set() -> ControllerSet {
    ControllerSet::new(NAME, run)
}

struct Ctx {
    client: kube::Client,
}

pub async fn run(cx: ClusterContext) -> Result<(), NamespaceError> {
    let api: Api<Namespace> = Api::all(cx.client.clone());
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
    });
    let controller = Controller::new(api, watcher::Config::default());
    crate::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    Ok(())
}

/// The `spec.finalizers` left once ours is removed.
pub fn without_finalizer(finalizers: &[String]) -> Vec<String> {
    finalizers
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect()
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action, NamespaceError> {
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let name = ns.metadata.name.clone().unwrap_or_default();
    let spec_finalizers = ns
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.clone())
        .unwrap_or_default();
    if spec_finalizers.iter().any(|f| f == FINALIZER) {
        let remaining = delete_contents(&ctx.client, &name)
            .await
            .map_err(|source| NamespaceError::Contents {
                namespace: name.clone(),
                source,
            })?;
        if remaining > 0 {
            return Ok(Action::requeue(RECHECK));
        }
        finalize(&ctx.client, &ns, &spec_finalizers)
            .await
            .map_err(|source| NamespaceError::Finalize {
                namespace: name.clone(),
                source,
            })?;
    }
    let left = without_finalizer(&spec_finalizers);
    let meta_finalizers = ns.metadata.finalizers.as_deref().unwrap_or_default();
    if left.is_empty() && meta_finalizers.is_empty() {
        remove(&ctx.client, &ns)
            .await
            .map_err(|source| NamespaceError::Finalize {
                namespace: name,
                source,
            })?;
    }
    Ok(Action::await_change())
}

/// Deletes every object in the namespace; returns how many objects remain.
async fn delete_contents(client: &kube::Client, namespace: &str) -> Result<usize, kube::Error> {
    let mut remaining = 0;
    for ar in namespaced_resources(client).await? {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 405 => continue,
            Err(e) => return Err(e),
        };
        for o in &list.items {
            remaining += 1;
            if o.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let name = o.metadata.name.as_deref().unwrap_or_default();
            match api.delete(name, &DeleteParams::background()).await {
                Ok(either) => {
                    if either.is_right() {
                        remaining -= 1;
                    }
                }
                Err(kube::Error::Api(s)) if s.code == 404 => remaining -= 1,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(remaining)
}

/// Namespaced resources that can be listed and deleted (preferred version of each).
async fn namespaced_resources(client: &kube::Client) -> Result<Vec<ApiResource>, kube::Error> {
    let discovery = match Discovery::new(client.clone()).run_aggregated().await {
        Ok(d) => d,
        Err(_) => Discovery::new(client.clone()).run().await?,
    };
    Ok(discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .filter(|(_, caps)| {
            caps.scope == Scope::Namespaced
                && caps.supports_operation("list")
                && caps.supports_operation("delete")
        })
        .map(|(ar, _)| ar)
        .collect())
}

/// Removes our finalizer through the `finalize` subresource.
async fn finalize(
    client: &kube::Client,
    ns: &Namespace,
    spec_finalizers: &[String],
) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let name = ns.metadata.name.clone().unwrap_or_default();
    let mut body = ns.clone();
    body.metadata.managed_fields = None;
    body.spec.get_or_insert_with(Default::default).finalizers =
        Some(without_finalizer(spec_finalizers));
    match api
        .replace_subresource("finalize", &name, &PostParams::default(), &body)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes the finalized namespace again (same uid), which removes it.
async fn remove(client: &kube::Client, ns: &Namespace) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: ns.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::background()
    };
    match api
        .delete(ns.metadata.name.as_deref().unwrap_or_default(), &dp)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_finalizer_is_removed() {
        let f = vec!["kubernetes".to_string(), "example.com/x".to_string()];
        assert_eq!(without_finalizer(&f), vec!["example.com/x".to_string()]);
        assert!(without_finalizer(&["kubernetes".to_string()]).is_empty());
    }
}
