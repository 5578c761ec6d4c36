//! The disruption controller: keeps each PodDisruptionBudget's status (`expectedPods`,
//! `currentHealthy`, `desiredHealthy`, `disruptionsAllowed`, `disruptedPods`, the
//! `DisruptionAllowed` condition, `observedGeneration`) as kube-controller-manager's does, so
//! `kubectl get pdb` shows the disruptions allowed and the API server's eviction subresource, which
//! charges them, lets `kubectl drain` through.
//!
//! The arithmetic is [`budget_status`], pure; [`reconcile`] gathers the selected Pods (from the shared
//! Pod store) and, for a percentage or `maxUnavailable`, the scale of their controllers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, Patch, PatchParams};
use kube::core::{Selector, SelectorExt};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::{Ctx, Error, util};

pub const MANAGER: &str = "marketplace-disruption-controller";

/// How long a pod the eviction subresource recorded in `disruptedPods` is counted as going before
/// the controller assumes its deletion will not come (kube's `DeletionTimeout`).
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether the budget's expected pod count is its Pods' controllers' scale (a percentage of
/// `minAvailable`, or any `maxUnavailable`) rather than the number of Pods it selects.
pub fn needs_scale(pdb: &PodDisruptionBudget) -> bool {
    let spec = pdb.spec.as_ref();
    spec.is_some_and(|s| {
        s.max_unavailable.is_some() || matches!(s.min_available, Some(IntOrString::String(_)))
    })
}

/// `value` of `total`, a percentage rounded up, as kube's `GetScaledValueFromIntOrPercent`.
fn scaled(value: &IntOrString, total: i32) -> Result<i32, String> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let pct: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            Ok(((pct * i64::from(total) + 99) / 100) as i32)
        }
    }
}

/// The budget's status given the Pods its selector selects, the scale of their controllers (asked
/// only when [`needs_scale`]; an error names the Pod whose controller has none) and the time now;
/// and when to look again (the first `disruptedPods` entry to expire), if ever.
pub fn budget_status(
    pdb: &PodDisruptionBudget,
    pods: &[Arc<Pod>],
    scale: Option<Result<i32, String>>,
    now: jiff::Timestamp,
) -> (Value, Option<Duration>) {
    let generation = pdb.metadata.generation.unwrap_or(0);
    let status = pdb.status.clone().unwrap_or_default();
    let previous_condition = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "DisruptionAllowed");
    let condition = |allowed: bool, reason: &str, message: &str| {
        let status_word = if allowed { "True" } else { "False" };
        let since = previous_condition
            .filter(|c| c.status == status_word)
            .map(|c| json!(c.last_transition_time))
            .unwrap_or_else(|| json!(util::now()));
        json!([{
            "type": "DisruptionAllowed", "status": status_word, "reason": reason,
            "message": message, "observedGeneration": generation, "lastTransitionTime": since,
        }])
    };

    // Pods the eviction subresource is deleting: not healthy while they go, for a while.
    let mut disrupted = BTreeMap::new();
    let mut recheck: Option<Duration> = None;
    let recorded = status.disrupted_pods.clone().unwrap_or_default();
    for p in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let Some(at) = recorded.get(&p.name_any()) else {
            continue;
        };
        let when = at.0;
        // A Pod made after the eviction was recorded is its replacement: ReplicaSets name Pods by
        // slot here, so it has the evicted Pod's name. (Both times have whole seconds.)
        if p.metadata
            .creation_timestamp
            .as_ref()
            .is_some_and(|c| c.0 >= when)
        {
            continue;
        }
        let expires = when + jiff::SignedDuration::try_from(DELETION_TIMEOUT).unwrap_or_default();
        if expires > now {
            disrupted.insert(p.name_any(), json!(at));
            let left = Duration::try_from(expires.duration_since(now)).unwrap_or_default();
            recheck = Some(recheck.map_or(left, |r| r.min(left)));
        }
    }
    let healthy = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| !disrupted.contains_key(&p.name_any()))
        .filter(|p| util::pod_ready(p))
        .count() as i32;

    let spec = pdb.spec.clone().unwrap_or_default();
    let counts = match (&spec.max_unavailable, &spec.min_available) {
        (Some(max), _) => scale.unwrap_or(Ok(0)).and_then(|expected| {
            let unavailable = scaled(max, expected)?;
            Ok((expected, (expected - unavailable).max(0)))
        }),
        (None, Some(IntOrString::Int(min))) => Ok((pods.len() as i32, *min)),
        (None, Some(min)) => scale
            .unwrap_or(Ok(0))
            .and_then(|expected| Ok((expected, scaled(min, expected)?))),
        (None, None) => Ok((0, 0)),
    };
    let body = match counts {
        Ok((expected, desired)) => {
            let allowed = if expected <= 0 {
                0
            } else {
                (healthy - desired).max(0)
            };
            let (reason, ok) = if allowed > 0 {
                ("SufficientPods", true)
            } else {
                ("InsufficientPods", false)
            };
            json!({
                "observedGeneration": generation, "expectedPods": expected,
                "currentHealthy": healthy, "desiredHealthy": desired,
                "disruptionsAllowed": allowed, "disruptedPods": disrupted,
                "conditions": condition(ok, reason, ""),
            })
        }
        // kube-controller-manager's fail-safe: nothing may be disrupted while it cannot count.
        Err(why) => json!({
            "observedGeneration": generation, "currentHealthy": healthy,
            "disruptionsAllowed": 0, "disruptedPods": disrupted,
            "conditions": condition(false, "SyncFailed", &why),
        }),
    };
    (body, recheck)
}

/// The scale of the controllers of `pods` (each counted once): a ReplicaSet's Deployment, else
/// the ReplicaSet; a StatefulSet; a ReplicationController. Pods without a controller are not
/// counted; a Pod whose controller has no scale is an error, as in kube-controller-manager.
async fn expected_scale(ctx: &Ctx, ns: &str, pods: &[Arc<Pod>]) -> Result<i32, String> {
    let mut scales: HashMap<String, i32> = HashMap::new();
    for p in pods {
        let Some(owner) = p
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true))
        else {
            continue;
        };
        if !scales.contains_key(&owner.uid) {
            let (uid, replicas) = controller_scale(ctx, ns, owner)
                .await
                .map_err(|why| format!("found no controllers for pod {:?}{why}", p.name_any()))?;
            scales.insert(uid, replicas);
        }
    }
    Ok(scales.values().sum())
}

/// The uid and replicas of the controller that scales a Pod whose controller is `owner` (a
/// ReplicaSet's Deployment counts for it); the error completes "found no controllers for pod".
async fn controller_scale(
    ctx: &Ctx,
    ns: &str,
    owner: &OwnerReference,
) -> Result<(String, i32), String> {
    let lost = |e: kube::Error| format!(": {e}");
    match owner.kind.as_str() {
        "ReplicaSet" => {
            let rs = ctx
                .replica_sets
                .state()
                .into_iter()
                .find(|rs| rs.meta().uid.as_deref() == Some(owner.uid.as_str()))
                .ok_or_else(String::new)?;
            let deployment = rs
                .owner_references()
                .iter()
                .find(|o| o.controller == Some(true) && o.kind == "Deployment");
            let Some(d) = deployment else {
                return Ok((owner.uid.clone(), rs.spec.replicas.unwrap_or(1)));
            };
            let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
            let dep = api.get(&d.name).await.map_err(lost)?;
            Ok((d.uid.clone(), dep.spec.replicas.unwrap_or(1)))
        }
        "StatefulSet" => {
            let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
            let sts = api.get(&owner.name).await.map_err(lost)?;
            Ok((owner.uid.clone(), sts.spec.replicas.unwrap_or(1)))
        }
        "ReplicationController" => {
            let api: Api<ReplicationController> = Api::namespaced(ctx.client.clone(), ns);
            let rc = api.get(&owner.name).await.map_err(lost)?;
            let replicas = rc.spec.and_then(|s| s.replicas).unwrap_or(1);
            Ok((owner.uid.clone(), replicas))
        }
        kind => Err(format!(": a {kind} has no scale")),
    }
}

pub async fn reconcile(pdb: Arc<PodDisruptionBudget>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if pdb.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = pdb.namespace().unwrap_or_default();
    // policy/v1: no selector selects nothing, an empty one every Pod of the namespace.
    let selector: Option<Selector> = pdb
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .and_then(|s| s.try_into().ok());
    let pods: Vec<Arc<Pod>> = match &selector {
        None => Vec::new(),
        Some(sel) => ctx
            .pods
            .state()
            .into_iter()
            .filter(|p| p.namespace().as_deref() == Some(ns.as_str()))
            .filter(|p| sel.matches(p.labels()))
            .collect(),
    };
    let scale = if needs_scale(&pdb) {
        Some(expected_scale(&ctx, &ns, &pods).await)
    } else {
        None
    };
    let (mut status, recheck) = budget_status(&pdb, &pods, scale, jiff::Timestamp::now());
    let current = serde_json::to_value(&pdb.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        // A merge patch replaces what it names; entries of `disruptedPods` that went are nulled.
        if let (Some(old), Some(new)) = (
            current.get("disruptedPods").and_then(Value::as_object),
            status
                .get_mut("disruptedPods")
                .and_then(Value::as_object_mut),
        ) {
            for k in old.keys() {
                new.entry(k.clone()).or_insert(Value::Null);
            }
        }
        let api: Api<PodDisruptionBudget> = Api::namespaced(ctx.client.clone(), &ns);
        let params = PatchParams {
            field_manager: Some(MANAGER.into()),
            ..Default::default()
        };
        api.patch_status(
            &pdb.name_any(),
            &params,
            &Patch::Merge(json!({"status": status})),
        )
        .await?;
    }
    Ok(recheck.map_or_else(Action::await_change, Action::requeue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
                "status": {"phase": "Running",
                           "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
            }))
            .unwrap(),
        )
    }

    fn budget(spec: Value, status: Value) -> PodDisruptionBudget {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "generation": 2},
            "spec": spec, "status": status,
        }))
        .unwrap()
    }

    fn figures(v: &Value) -> (i64, i64, i64, i64, String) {
        let n = |k: &str| v[k].as_i64().unwrap_or(-1);
        (
            n("expectedPods"),
            n("currentHealthy"),
            n("desiredHealthy"),
            n("disruptionsAllowed"),
            v.pointer("/conditions/0/reason")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[test]
    fn min_available_counts_the_selected_pods_and_allows_the_healthy_surplus() {
        let pods = [pod("a", true), pod("b", true), pod("c", false)];
        let pdb = budget(json!({"minAvailable": 1}), json!({}));
        let (s, recheck) = budget_status(&pdb, &pods, None, jiff::Timestamp::now());
        assert_eq!(figures(&s), (3, 2, 1, 1, "SufficientPods".into()));
        assert_eq!(s["observedGeneration"], 2);
        assert_eq!(recheck, None);
        let tight = budget(json!({"minAvailable": 2}), json!({}));
        let (s, _) = budget_status(&tight, &pods, None, jiff::Timestamp::now());
        assert_eq!(figures(&s), (3, 2, 2, 0, "InsufficientPods".into()));
    }

    #[test]
    fn percentages_and_max_unavailable_scale_with_the_controllers_and_round_up() {
        let pods = [pod("a", true), pod("b", true), pod("c", true)];
        let pct = budget(json!({"minAvailable": "50%"}), json!({}));
        assert!(needs_scale(&pct));
        let (s, _) = budget_status(&pct, &pods, Some(Ok(3)), jiff::Timestamp::now());
        assert_eq!(figures(&s), (3, 3, 2, 1, "SufficientPods".into()));
        let max = budget(json!({"maxUnavailable": "34%"}), json!({}));
        let (s, _) = budget_status(&max, &pods, Some(Ok(3)), jiff::Timestamp::now());
        // 34% of 3 rounds up to 2 unavailable: 1 must stay healthy.
        assert_eq!(figures(&s), (3, 3, 1, 2, "SufficientPods".into()));
        let (s, _) = budget_status(
            &max,
            &pods,
            Some(Err("found no controllers for pod \"a\"".into())),
            jiff::Timestamp::now(),
        );
        assert_eq!(s["disruptionsAllowed"], 0);
        assert_eq!(s.pointer("/conditions/0/reason").unwrap(), "SyncFailed");
        assert!(
            s.pointer("/conditions/0/message")
                .unwrap()
                .as_str()
                .unwrap()
                .contains("no controllers")
        );
    }

    #[test]
    fn a_pod_being_evicted_is_not_healthy_until_its_entry_expires() {
        let pods = [pod("a", true), pod("b", true)];
        let now = jiff::Timestamp::now();
        let recent = (now - jiff::SignedDuration::from_secs(30))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let old = (now - jiff::SignedDuration::from_secs(600))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let pdb = budget(
            json!({"minAvailable": 1}),
            json!({"disruptedPods": {"a": recent, "gone": recent}}),
        );
        let (s, recheck) = budget_status(&pdb, &pods, None, now);
        assert_eq!(figures(&s), (2, 1, 1, 0, "InsufficientPods".into()));
        assert_eq!(
            s["disruptedPods"].as_object().unwrap().len(),
            1,
            "entries of gone pods drop"
        );
        let left = recheck.expect("looks again when the entry expires");
        assert!(
            left <= Duration::from_secs(91) && left >= Duration::from_secs(85),
            "{left:?}"
        );
        // The replacement of an evicted Pod, with its name but made after the eviction, is healthy.
        let mut again = (*pod("a", true)).clone();
        again.metadata.creation_timestamp = Some(serde_json::from_value(json!(recent)).unwrap());
        let (s, _) = budget_status(&pdb, &[Arc::new(again), pod("b", true)], None, now);
        assert_eq!(figures(&s), (2, 2, 1, 1, "SufficientPods".into()));
        let expired = budget(
            json!({"minAvailable": 1}),
            json!({"disruptedPods": {"a": old}}),
        );
        let (s, recheck) = budget_status(&expired, &pods, None, now);
        assert_eq!(figures(&s), (2, 2, 1, 1, "SufficientPods".into()));
        assert_eq!(recheck, None);
    }
}
