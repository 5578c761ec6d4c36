//! The InstallPlan controller: once `spec.approved` is true, applies the plan's steps (CRDs and
//! the CSV with its OperatorGroup annotations in order, then ServiceAccounts and RBAC together,
//! then other objects in order) by server-side apply; namespaced objects get an ownerReference to their CSV (so deleting the CSV
//! removes them), cluster-scoped ones OLM's `olm.owner` labels (removed by the CSV's finalizer).
//! Phases `RequiresApproval` → `Installing` → `Complete`, or `Failed` with the step, the object
//! and the API's answer. A step that fails transiently — its API not served yet (a CRD just
//! created), an API server error, throttling, a conflict, a timeout or a broken connection — is
//! retried with backoff while the plan stays `Installing` with condition `Installed=False`,
//! reason `StepRetrying`, saying which step is retried and why; after [`RETRY_WINDOW`] of
//! failures it fails like a permanent error. Steps already `Created` are not applied again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apis::operators::{
    InstallPlan, InstallPlanStatus, OLM_OPERATOR_GROUP, OLM_OWNER, OLM_OWNER_KIND,
    OLM_OWNER_NAMESPACE, OLM_TARGET_NAMESPACES, OperatorGroup,
};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::util::{ApplyError, ApplyFailure, KindCache, apply_json};

/// How long a plan keeps retrying transient step failures before it is marked `Failed`.
pub const RETRY_WINDOW: Duration = Duration::from_secs(120);

pub const NAME: &str = "olm-installplan";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("InstallPlan {0}: {1}")]
    Api(String, #[source] kube::Error),
}

pub struct Ctx {
    pub client: kube::Client,
    /// Plans (by uid) retrying a transient failure: when the first failure happened and how
    /// many attempts failed. Lost on restart, which only restarts the backoff.
    retries: Mutex<HashMap<String, (Instant, u32)>>,
    /// Discovery answers, so a step does not ask the API for its kind again.
    kinds: KindCache,
}

/// The backoff after `attempt` failed attempts (1-based): 200 ms doubling up to 10 s; an API not
/// served yet is polled every 300 ms (it appears within a second of its CRD).
pub fn backoff(failure: ApplyFailure, attempt: u32) -> Duration {
    match failure {
        ApplyFailure::WaitingForApi => Duration::from_millis(300),
        _ => Duration::from_millis(200)
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(6))
            .min(Duration::from_secs(10)),
    }
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        retries: Mutex::new(HashMap::new()),
        kinds: KindCache::default(),
    });
    let api: Api<InstallPlan> = Api::all(cx.client.clone());
    crate::util::wait_listable(&cx, &api).await;
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
    let group = operator_group(&ctx.client, &ns).await.map_err(err)?;
    let resolved = group.as_ref().map(crate::operatorgroup::targets);
    let waiting = group
        .as_ref()
        .zip(resolved.as_ref())
        .and_then(|(og, t)| t.waiting(&og.name_any()));
    if let Some(message) = waiting {
        // Its RBAC depends on the namespaces the selector matches: the plan waits for them.
        if status.message.as_deref() != Some(message.as_str()) {
            crate::util::set_condition(
                &mut status.conditions,
                "Installed",
                false,
                "OperatorGroupUnresolved",
                &message,
            );
            status.message = Some(message);
            write_status(&ctx.client, &ip, &status).await.map_err(err)?;
        }
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let targets = group
        .zip(resolved)
        .map(|(og, t)| (og.name_any(), t.list().map(<[String]>::to_vec)));
    let uid = ip.uid().unwrap_or_default();
    let outcome = execute(&ctx, &ns, &mut status, targets.as_ref()).await;
    let retry = match &outcome {
        Err(failed) if failed.error.failure != ApplyFailure::Permanent => {
            let mut retries = ctx.retries.lock().expect("retries lock");
            let entry = retries.entry(uid.clone()).or_insert((Instant::now(), 0));
            entry.1 += 1;
            (entry.0.elapsed() < RETRY_WINDOW)
                .then(|| (entry.1, backoff(failed.error.failure, entry.1)))
        }
        _ => None,
    };
    if retry.is_none() {
        ctx.retries.lock().expect("retries lock").remove(&uid);
    }
    // (phase, Installed condition's status and reason, message, what next)
    let (phase, installed, reason, message, next) = match (outcome, retry) {
        (Ok(()), _) => (
            "Complete",
            true,
            "AllStepsCreated",
            "every step of the plan was applied".to_string(),
            Action::await_change(),
        ),
        (Err(failed), Some((attempt, delay))) => (
            "Installing",
            false,
            "StepRetrying",
            format!(
                "retrying {} after a transient error (attempt {attempt}, next in {} ms; the plan fails if this lasts {} s): {}",
                failed.step,
                delay.as_millis(),
                RETRY_WINDOW.as_secs(),
                failed.error
            ),
            Action::requeue(delay),
        ),
        (Err(failed), None) => (
            "Failed",
            false,
            "InstallComponentFailed",
            match failed.error.failure {
                ApplyFailure::Permanent => {
                    format!("{} was refused: {}", failed.step, failed.error)
                }
                _ => format!(
                    "{} kept failing for {} s: {}",
                    failed.step,
                    RETRY_WINDOW.as_secs(),
                    failed.error
                ),
            },
            Action::await_change(),
        ),
    };
    status.phase = phase.into();
    crate::util::set_condition(
        &mut status.conditions,
        "Installed",
        installed,
        reason,
        &message,
    );
    status.message = (!installed).then_some(message);
    write_status(&ctx.client, &ip, &status).await.map_err(err)?;
    Ok(next)
}

/// The namespace's OperatorGroup.
async fn operator_group(
    client: &kube::Client,
    ns: &str,
) -> Result<Option<OperatorGroup>, kube::Error> {
    let api: Api<OperatorGroup> = Api::namespaced(client.clone(), ns);
    let list = api.list(&ListParams::default()).await?;
    Ok(list.items.into_iter().next())
}

/// A step that failed: which one (`step 3 of 7, ConfigMap "x" of CSV op.v1`) and why.
#[derive(Debug)]
struct StepFailure {
    step: String,
    error: ApplyError,
}

/// Kinds whose steps do not depend on each other once the CRDs and CSVs are in: they are
/// applied together (a plan's ServiceAccounts and RBAC are most of its steps).
const INDEPENDENT_KINDS: &[&str] = &[
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
];

/// Applies every step not yet created; marks each `Created`. CRDs and CSVs go first, in order;
/// then the independent kinds ([`INDEPENDENT_KINDS`]) together; then the rest in order (custom
/// resources of the bundle's CRDs among them). A failure is the first failed step's.
async fn execute(
    ctx: &Ctx,
    ns: &str,
    status: &mut InstallPlanStatus,
    og: Option<&(String, Option<Vec<String>>)>,
) -> Result<(), StepFailure> {
    let total = status.plan.len();
    let pending: Vec<usize> = (0..total)
        .filter(|&i| status.plan[i].status != "Created")
        .collect();
    let kind = |i: &usize| status.plan[*i].resource.kind.clone();
    let (first, rest): (Vec<usize>, Vec<usize>) = pending.into_iter().partition(|i| {
        matches!(
            kind(i).as_str(),
            "CustomResourceDefinition" | "ClusterServiceVersion"
        )
    });
    let (together, last): (Vec<usize>, Vec<usize>) = rest
        .into_iter()
        .partition(|i| INDEPENDENT_KINDS.contains(&kind(i).as_str()));
    let mut csv_uids: std::collections::BTreeMap<String, String> = Default::default();
    for i in first {
        let uid = apply_step(ctx, ns, status, i, og, &csv_uids).await?;
        if let Some(uid) = uid {
            csv_uids.insert(status.plan[i].resolving.clone(), uid);
        }
        status.plan[i].status = "Created".into();
    }
    // CSVs created by an earlier attempt: their uids looked up once, not once per step.
    for &i in together.iter().chain(&last) {
        let csv = &status.plan[i].resolving;
        if !csv_uids.contains_key(csv)
            && let Some(uid) = csv_uid(&ctx.client, ns, csv).await
        {
            csv_uids.insert(csv.clone(), uid);
        }
    }
    let plan = &*status;
    let results = futures::future::join_all(
        together
            .iter()
            .map(|&i| apply_step(ctx, ns, plan, i, og, &csv_uids)),
    )
    .await;
    let mut failure = None;
    for (&i, r) in together.iter().zip(results) {
        match r {
            Ok(_) => status.plan[i].status = "Created".into(),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    for i in last {
        apply_step(ctx, ns, status, i, og, &csv_uids).await?;
        status.plan[i].status = "Created".into();
    }
    Ok(())
}

/// Applies step `i` of the plan; a CSV's step answers the stored CSV's uid.
async fn apply_step(
    ctx: &Ctx,
    ns: &str,
    status: &InstallPlanStatus,
    i: usize,
    og: Option<&(String, Option<Vec<String>>)>,
    csv_uids: &std::collections::BTreeMap<String, String>,
) -> Result<Option<String>, StepFailure> {
    let (client, kinds) = (&ctx.client, &ctx.kinds);
    let manager = controllers::runtime::field_manager(NAME);
    let step = &status.plan[i];
    let fail = |error: ApplyError| StepFailure {
        step: format!(
            "step {} of {} ({} {:?} of {})",
            i + 1,
            status.plan.len(),
            step.resource.kind,
            step.resource.name,
            step.resolving
        ),
        error,
    };
    let mut obj: Value = serde_json::from_str(step.resource.manifest.as_deref().unwrap_or("{}"))
        .map_err(|e| {
            fail(ApplyError {
                failure: ApplyFailure::Permanent,
                message: format!("the manifest is not JSON: {e}"),
            })
        })?;
    if step.resource.kind == "ClusterServiceVersion" {
        if let Some((name, targets)) = og {
            obj["metadata"]["annotations"][OLM_OPERATOR_GROUP] = json!(name);
            obj["metadata"]["annotations"][crate::csv::OLM_OPERATOR_NAMESPACE] = json!(ns);
            obj["metadata"]["annotations"][OLM_TARGET_NAMESPACES] =
                json!(crate::steps::target_annotation(targets.as_deref()));
        }
        // Created with the CSV controller's finalizer and its OperatorGroup annotations, so
        // the controller's first reconcile has nothing to patch before it installs.
        if let Some(meta) = obj["metadata"].as_object_mut() {
            let fins = meta.entry("finalizers").or_insert_with(|| json!([]));
            if let Some(list) = fins.as_array_mut()
                && !list.iter().any(|f| f == crate::csv::FINALIZER)
            {
                list.push(json!(crate::csv::FINALIZER));
            }
        }
        let stored = apply_json(client, kinds, &obj, ns, &manager)
            .await
            .map_err(fail)?;
        return Ok(Some(stored.metadata.uid.unwrap_or_default()));
    }
    let owner_uid = match csv_uids.get(&step.resolving) {
        Some(u) => Some(u.clone()),
        None => csv_uid(client, ns, &step.resolving).await,
    };
    label_owner(&mut obj, &step.resolving, ns, owner_uid.as_deref());
    apply_json(client, kinds, &obj, ns, &manager)
        .await
        .map_err(fail)?;
    Ok(None)
}

async fn csv_uid(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let api: Api<apis::operators::ClusterServiceVersion> = Api::namespaced(client.clone(), ns);
    // A copy shown here (the same operator installed for this namespace elsewhere) owns nothing.
    let csv = api.get_opt(name).await.ok().flatten()?;
    let copied = csv.labels().contains_key(crate::copies::COPIED_FROM);
    (!copied).then(|| csv.uid()).flatten()
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
    fn transient_failures_back_off_to_ten_seconds_and_missing_apis_are_polled() {
        let t = ApplyFailure::Transient;
        assert_eq!(backoff(t, 1), Duration::from_millis(200));
        assert_eq!(backoff(t, 2), Duration::from_millis(400));
        assert_eq!(backoff(t, 6), Duration::from_millis(6400));
        assert_eq!(backoff(t, 7), Duration::from_secs(10));
        assert_eq!(backoff(t, 40), Duration::from_secs(10));
        assert_eq!(
            backoff(ApplyFailure::WaitingForApi, 9),
            Duration::from_millis(300)
        );
    }

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
