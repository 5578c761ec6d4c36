//! CRD deletion through the API, as kube-apiserver's CRD finalizer: a deleted CRD (it carries
//! `customresourcecleanup.apiextensions.k8s.io`) has every object of its resource deleted (their
//! own finalizers honoured) with the condition `Terminating: True, InstanceDeletionInProgress`;
//! once none is left the condition becomes `False, InstanceDeletionCompleted` and the finalizer is
//! removed in the same write, after which the API server removes the CRD and its resources. While
//! objects remain the CRD is requeued; a CRD that is not being deleted costs nothing.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use serde_json::json;

use crate::host::{ClusterContext, ControllerSet};

pub const NAME: &str = "crd-cleanup";

/// The finalizer kube-apiserver gives a deleted CRD.
pub const FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

const RECHECK: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
#[error("cleaning up CustomResourceDefinition {crd}: {source}")]
pub struct CleanupError {
    crd: String,
    #[source]
    source: kube::Error,
}

pub fn set() -> ControllerSet {
    ControllerSet::new(NAME, run)
}

struct Ctx {
    client: kube::Client,
}

pub async fn run(cx: ClusterContext) -> Result<(), CleanupError> {
    let api: Api<CustomResourceDefinition> = Api::all(cx.client.clone());
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
    });
    crate::runtime::run(
        &cx,
        NAME,
        Controller::new(api, watcher::Config::default()),
        reconcile,
        ctx,
    )
    .await;
    Ok(())
}

/// The resource a CRD serves, at its storage version.
pub fn resource_of(crd: &CustomResourceDefinition) -> ApiResource {
    let s = &crd.spec;
    let version = s
        .versions
        .iter()
        .find(|v| v.storage)
        .or(s.versions.first())
        .map(|v| v.name.clone())
        .unwrap_or_default();
    ApiResource {
        group: s.group.clone(),
        version: version.clone(),
        api_version: format!("{}/{}", s.group, version),
        kind: s.names.kind.clone(),
        plural: s.names.plural.clone(),
    }
}

/// `conditions` with `Terminating` set to `status`/`reason`/`message` (its transition time kept
/// when the status and reason are unchanged).
pub fn with_terminating(
    conditions: &[CustomResourceDefinitionCondition],
    status: &str,
    reason: &str,
    message: &str,
) -> Vec<CustomResourceDefinitionCondition> {
    let mut out = conditions.to_vec();
    let cond = CustomResourceDefinitionCondition {
        type_: "Terminating".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(Time(k8s_openapi::jiff::Timestamp::now())),
        ..Default::default()
    };
    match out.iter_mut().find(|c| c.type_ == "Terminating") {
        Some(c) if c.status == status && c.reason.as_deref() == Some(reason) => {}
        Some(c) => *c = cond,
        None => out.push(cond),
    }
    out
}

async fn reconcile(
    crd: Arc<CustomResourceDefinition>,
    ctx: Arc<Ctx>,
) -> Result<Action, CleanupError> {
    let fins = crd.metadata.finalizers.as_deref().unwrap_or_default();
    if crd.metadata.deletion_timestamp.is_none() || !fins.iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let name = crd.metadata.name.clone().unwrap_or_default();
    let err = |source| CleanupError {
        crd: name.clone(),
        source,
    };
    let remaining = delete_instances(&ctx.client, &resource_of(&crd))
        .await
        .map_err(err)?;
    let conditions = crd
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let api: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    let patch = if remaining > 0 {
        let next = with_terminating(
            &conditions,
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        );
        if next == conditions {
            return Ok(Action::requeue(RECHECK));
        }
        json!({"metadata": {"resourceVersion": crd.metadata.resource_version},
               "status": {"conditions": next}})
    } else {
        let next = with_terminating(
            &conditions,
            "False",
            "InstanceDeletionCompleted",
            "removed all instances",
        );
        let kept: Vec<&String> = fins.iter().filter(|f| *f != FINALIZER).collect();
        json!({"metadata": {"resourceVersion": crd.metadata.resource_version, "finalizers": kept},
               "status": {"conditions": next}})
    };
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
        Err(e) => return Err(err(e)),
    }
    Ok(if remaining > 0 {
        Action::requeue(RECHECK)
    } else {
        Action::await_change()
    })
}

/// Deletes every object of the resource; returns how many remain (held by their finalizers).
async fn delete_instances(client: &kube::Client, ar: &ApiResource) -> Result<usize, kube::Error> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), ar);
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut remaining = 0;
    for o in list.items {
        remaining += 1;
        if o.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = o.metadata.name.as_deref().unwrap_or_default();
        let one: Api<DynamicObject> = match o.metadata.namespace.as_deref() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        };
        match one.delete(name, &DeleteParams::background()).await {
            Ok(either) if either.is_right() => remaining -= 1,
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => remaining -= 1,
            Err(e) => return Err(e),
        }
    }
    Ok(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminating_condition_is_replaced_only_when_it_changes() {
        let a = with_terminating(&[], "True", "InstanceDeletionInProgress", "m");
        assert_eq!(a.len(), 1);
        let b = with_terminating(&a, "True", "InstanceDeletionInProgress", "m");
        assert_eq!(a, b, "unchanged condition keeps its transition time");
        let c = with_terminating(&b, "False", "InstanceDeletionCompleted", "done");
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].status.as_str(), c[0].reason.as_deref()),
            ("False", Some("InstanceDeletionCompleted"))
        );
    }
}
