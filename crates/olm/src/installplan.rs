//! The InstallPlan controller: once `spec.approved` is true, applies the plan's steps in order
//! (CRDs, the CSV with its OperatorGroup annotations, ServiceAccounts, RBAC, other objects) by
//! server-side apply; namespaced objects get an ownerReference to their CSV (so deleting the CSV
//! removes them), cluster-scoped ones OLM's `olm.owner` labels (removed by the CSV's finalizer).
//! Phases `RequiresApproval` → `Installing` → `Complete`, or `Failed` with the object and the
//! API's answer; a step whose API is not served yet (a CRD just created) is retried.

use std::sync::Arc;
use std::time::Duration;

use apis::operators::{
    InstallPlan, InstallPlanStatus, OLM_OPERATOR_GROUP, OLM_OWNER, OLM_OWNER_KIND,
    OLM_OWNER_NAMESPACE, OLM_TARGET_NAMESPACES, OperatorGroup,
};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::util::apply_json;

pub const NAME: &str = "olm-installplan";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("InstallPlan {0}: {1}")]
    Api(String, #[source] kube::Error),
}

pub struct Ctx {
    pub client: kube::Client,
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
    });
    let api: Api<InstallPlan> = Api::all(cx.client.clone());
    crate::util::wait_listable(&api).await;
    let controller = Controller::new(api, watcher::Config::default());
    controllers::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    Ok(())
}

async fn reconcile(ip: Arc<InstallPlan>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = ip.namespace().unwrap_or_default();
    let err = |e| Error::Api(format!("{ns}/{}", ip.name_any()), e);
    let Some(mut status) = ip.status.clone() else {
        // The Subscription controller writes the steps right after creating the plan.
        return Ok(Action::await_change());
    };
    if matches!(status.phase.as_str(), "Complete" | "Failed") {
        return Ok(Action::await_change());
    }
    if !ip.spec.approved {
        if status.phase != "RequiresApproval" {
            status.phase = "RequiresApproval".into();
            write_status(&ctx.client, &ip, &status).await.map_err(err)?;
        }
        return Ok(Action::await_change());
    }
    let targets = operator_group(&ctx.client, &ns).await.map_err(err)?;
    let outcome = execute(&ctx.client, &ns, &mut status, targets.as_ref()).await;
    let next = match outcome {
        Ok(()) => {
            status.phase = "Complete".into();
            status.message = None;
            crate::util::set_condition(
                &mut status.conditions,
                "Installed",
                true,
                "AllStepsCreated",
                "every step of the plan was applied",
            );
            Action::await_change()
        }
        Err(msg) if msg.starts_with("WaitingForAPI") => {
            status.phase = "Installing".into();
            status.message = Some(msg);
            Action::requeue(Duration::from_millis(300))
        }
        Err(msg) => {
            status.phase = "Failed".into();
            crate::util::set_condition(
                &mut status.conditions,
                "Installed",
                false,
                "InstallComponentFailed",
                &msg,
            );
            status.message = Some(msg);
            Action::await_change()
        }
    };
    write_status(&ctx.client, &ip, &status).await.map_err(err)?;
    Ok(next)
}

/// The namespace's OperatorGroup: (name, target namespaces).
async fn operator_group(
    client: &kube::Client,
    ns: &str,
) -> Result<Option<(String, Option<Vec<String>>)>, kube::Error> {
    let api: Api<OperatorGroup> = Api::namespaced(client.clone(), ns);
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .first()
        .map(|og| (og.name_any(), og.spec.target_namespaces.clone())))
}

/// Applies every step not yet created; marks each `Created`.
async fn execute(
    client: &kube::Client,
    ns: &str,
    status: &mut InstallPlanStatus,
    og: Option<&(String, Option<Vec<String>>)>,
) -> Result<(), String> {
    let manager = controllers::runtime::field_manager(NAME);
    let mut csv_uids: std::collections::BTreeMap<String, String> = Default::default();
    for i in 0..status.plan.len() {
        let step = status.plan[i].clone();
        let mut obj: Value = serde_json::from_str(
            step.resource.manifest.as_deref().unwrap_or("{}"),
        )
        .map_err(|e| {
            format!(
                "step {} {}: manifest is not JSON: {e}",
                step.resource.kind, step.resource.name
            )
        })?;
        if step.resource.kind == "ClusterServiceVersion" {
            if let Some((name, targets)) = og {
                obj["metadata"]["annotations"][OLM_OPERATOR_GROUP] = json!(name);
                obj["metadata"]["annotations"][OLM_TARGET_NAMESPACES] =
                    json!(crate::steps::target_annotation(targets.as_deref()));
            }
            let stored = apply_json(client, &obj, ns, &manager).await?;
            csv_uids.insert(
                step.resolving.clone(),
                stored.metadata.uid.unwrap_or_default(),
            );
        } else {
            let owner_uid = match csv_uids.get(&step.resolving) {
                Some(u) => Some(u.clone()),
                None => csv_uid(client, ns, &step.resolving).await,
            };
            label_owner(&mut obj, &step.resolving, ns, owner_uid.as_deref());
            apply_json(client, &obj, ns, &manager).await?;
        }
        status.plan[i].status = "Created".into();
    }
    Ok(())
}

async fn csv_uid(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let api: Api<apis::operators::ClusterServiceVersion> = Api::namespaced(client.clone(), ns);
    api.get_opt(name).await.ok().flatten().and_then(|c| c.uid())
}

/// OLM's owner labels, plus an ownerReference to the CSV for namespaced objects (CRDs are
/// left unowned: they stay after an uninstall, as in OLM).
fn label_owner(obj: &mut Value, csv: &str, ns: &str, uid: Option<&str>) {
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    if kind == "CustomResourceDefinition" {
        return;
    }
    obj["metadata"]["labels"][OLM_OWNER] = json!(csv);
    obj["metadata"]["labels"][OLM_OWNER_NAMESPACE] = json!(ns);
    obj["metadata"]["labels"][OLM_OWNER_KIND] = json!("ClusterServiceVersion");
    let cluster_scoped = matches!(kind.as_str(), "ClusterRole" | "ClusterRoleBinding");
    if let (false, Some(uid)) = (cluster_scoped, uid) {
        obj["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "operators.coreos.com/v1alpha1",
            "kind": "ClusterServiceVersion",
            "name": csv,
            "uid": uid,
            "blockOwnerDeletion": false,
            "controller": false,
        }]);
    }
}

async fn write_status(
    client: &kube::Client,
    ip: &InstallPlan,
    status: &InstallPlanStatus,
) -> Result<(), kube::Error> {
    if ip.status.as_ref() == Some(status) {
        return Ok(());
    }
    let api: Api<InstallPlan> =
        Api::namespaced(client.clone(), &ip.namespace().unwrap_or_default());
    let body = json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "status": status});
    api.patch_status(
        &ip.name_any(),
        &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_objects_are_owned_by_their_csv_and_crds_by_nobody() {
        let mut role = json!({"kind": "Role", "metadata": {"name": "r"}});
        label_owner(&mut role, "op.v1", "ns", Some("u1"));
        assert_eq!(role["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(role["metadata"]["labels"][OLM_OWNER], "op.v1");
        let mut cr = json!({"kind": "ClusterRole", "metadata": {"name": "r"}});
        label_owner(&mut cr, "op.v1", "ns", Some("u1"));
        assert!(cr["metadata"]["ownerReferences"].is_null());
        assert_eq!(cr["metadata"]["labels"][OLM_OWNER_NAMESPACE], "ns");
        let mut crd = json!({"kind": "CustomResourceDefinition", "metadata": {"name": "x"}});
        label_owner(&mut crd, "op.v1", "ns", Some("u1"));
        assert!(crd["metadata"]["labels"].is_null());
    }
}
