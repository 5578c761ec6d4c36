//! The kubelet and scheduler stand-in: one reconcile per Pod.
//!
//! A Pod without `nodeName` is bound (`pods/binding`) to a Ready Node matching its `nodeSelector`, or
//! marked `PodScheduled=False/Unschedulable`. A bound Pod's images are "pulled" ([`crate::images`]):
//! all present → `Running` with every condition `True`, container statuses, `podIP`, `startTime`
//! (a Pod whose `restartPolicy` is not `Always` then completes: `Succeeded`, containers terminated
//! with exit code 0); one missing → `Pending` with `ErrImagePull`, then `ImagePullBackOff` while the
//! retry backs off (doubling from 1 s, capped at 10 s), until a later attempt finds the image.
//! The retry timing is the only in-memory state; losing it on restart only restarts the backoff.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod, ResourceRequirements};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use crate::events::{KUBELET, SCHEDULER};
use crate::images::Pull;
use crate::names::fnv32a;
use crate::{Ctx, Error, util};

pub const MANAGER: &str = "marketplace-kubelet";
/// How long `ErrImagePull` shows before `ImagePullBackOff`, as the kubelet's sync period would.
const ERR_SHOWN: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Retry state of a Pod whose image could not be pulled.
#[derive(Clone, Debug)]
pub struct PullRetry {
    attempts: u32,
    failed_at: Instant,
    next_attempt: Instant,
    /// (container, image, message) of the failures.
    failures: Vec<(String, String, String)>,
}

/// The delay before pull attempt `attempts + 1`.
pub fn backoff(attempts: u32) -> Duration {
    let d = Duration::from_secs(1).saturating_mul(1u32 << attempts.min(8).saturating_sub(1));
    d.min(BACKOFF_CAP)
}

pub async fn reconcile(pod: Arc<Pod>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if !util::pod_active(&pod) {
        ctx.pull_retry.lock().unwrap().remove(&uid(&pod));
        return Ok(Action::await_change());
    }
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &pod.namespace().unwrap_or_default());
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    let Some(node) = spec.node_name.clone() else {
        return schedule(&pod, &api, &ctx).await;
    };
    if ctx
        .nodes
        .get(&kube::runtime::reflector::ObjectRef::new(&node))
        .is_none()
    {
        // Bound to a Node we do not run (removed, or not yet seen): look again later.
        return Ok(Action::requeue(BACKOFF_CAP));
    }
    let completes = spec
        .restart_policy
        .as_deref()
        .is_some_and(|p| p != "Always");
    let phase = util::pod_phase(&pod);
    if phase == "Running"
        && !completes
        && util::pod_ready(&pod)
        && ephemeral_started(&pod)
        && resources_applied(&pod)
    {
        return Ok(Action::await_change());
    }
    // A Running Pod's images were pulled when its containers started: as the kubelet, do not
    // pull them again for a status change (its image IDs are in its status).
    let digests = if phase == "Running" {
        pulled_digests(&pod)
    } else {
        match pull_images(&pod, &api, &ctx).await? {
            Pulled::Ready(d) => d,
            Pulled::Waiting(action) => return Ok(action),
        }
    };
    let now = util::now();
    let body = if phase == "Running" && completes {
        succeeded_status(&pod, &now)
    } else {
        running_status(&pod, &node, &digests, &now)
    };
    util::apply_status(&api, MANAGER, &pod.name_any(), &body).await?;
    if phase != "Running" {
        started_events(&pod, &digests, &ctx);
    }
    Ok(Action::await_change())
}

/// Requests and limits as a container's status reports them (empty ones left out), from the
/// spec's or the status's `resources`.
fn requirements(r: Option<&ResourceRequirements>) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(r) = r {
        for (key, list) in [("requests", &r.requests), ("limits", &r.limits)] {
            if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
                out.insert(key.into(), json!(list));
            }
        }
    }
    Value::Object(out)
}

/// Whether every container's status shows the resources its spec asks for (a resize through
/// `pods/<name>/resize` changes the spec of a running Pod).
fn resources_applied(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref());
    spec.containers.iter().all(|c| {
        let status = statuses.into_iter().flatten().find(|s| s.name == c.name);
        requirements(c.resources.as_ref())
            == requirements(status.and_then(|s| s.resources.as_ref()))
    })
}

/// Whether every ephemeral container of the Pod (`kubectl debug` adds them to a running Pod) has
/// its status.
fn ephemeral_started(pod: &Pod) -> bool {
    let wanted = pod
        .spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.as_ref())
        .map_or(0, Vec::len);
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.ephemeral_container_statuses.as_ref())
        .map_or(0, Vec::len);
    started >= wanted
}

/// What the kubelet records as it starts a Pod's containers: each image pulled, each container
/// created and started.
fn started_events(pod: &Pod, digests: &BTreeMap<String, String>, ctx: &Ctx) {
    for c in containers(pod) {
        let image = c.image.clone().unwrap_or_default();
        let pulled = if digests.contains_key(&image) {
            format!("Successfully pulled image \"{image}\"")
        } else {
            format!("Container image \"{image}\" already present on machine")
        };
        ctx.events.normal(KUBELET, pod, "Pulled", pulled);
        let name = &c.name;
        ctx.events.normal(
            KUBELET,
            pod,
            "Created",
            format!("Created container: {name}"),
        );
        ctx.events
            .normal(KUBELET, pod, "Started", format!("Started container {name}"));
    }
}

/// The image IDs a Running Pod's status records, by image.
fn pulled_digests(pod: &Pod) -> BTreeMap<String, String> {
    let status = pod.status.as_ref();
    let init = status.and_then(|s| s.init_container_statuses.as_ref());
    let main = status.and_then(|s| s.container_statuses.as_ref());
    init.into_iter()
        .chain(main)
        .flatten()
        .filter(|c| !c.image_id.is_empty())
        .map(|c| (c.image.clone(), c.image_id.clone()))
        .collect()
}

fn uid(pod: &Pod) -> String {
    pod.uid().unwrap_or_default()
}

fn containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    let init = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten();
    init.chain(spec.map(|s| s.containers.iter()).into_iter().flatten())
}

enum Pulled {
    /// Every image is present: their digests by image.
    Ready(BTreeMap<String, String>),
    /// One is missing: shown in the status; retry at the action.
    Waiting(Action),
}

/// Pulls the Pod's images when due; while one is missing, shows it and says when to retry.
async fn pull_images(pod: &Pod, api: &Api<Pod>, ctx: &Ctx) -> Result<Pulled, Error> {
    let key = uid(pod);
    let now = Instant::now();
    let retry = ctx.pull_retry.lock().unwrap().get(&key).cloned();
    let retry = match retry {
        Some(r) if now < r.next_attempt => r,
        previous => {
            let mut failures = Vec::new();
            let mut digests = BTreeMap::new();
            for c in containers(pod) {
                let image = c.image.clone().unwrap_or_default();
                match ctx.images.pull(&image).await {
                    Pull::Failed(m) => failures.push((c.name.clone(), image, m)),
                    Pull::Present(Some(d)) => {
                        digests.insert(image, d);
                    }
                    Pull::Present(None) => {}
                }
            }
            if failures.is_empty() {
                ctx.pull_retry.lock().unwrap().remove(&key);
                return Ok(Pulled::Ready(digests));
            }
            for (_, image, message) in &failures {
                let note = format!("Pulling image \"{image}\"");
                ctx.events.normal(KUBELET, pod, "Pulling", note);
                let note = crate::events::pull_failed_note(image, message);
                ctx.events.warning(KUBELET, pod, "Failed", note);
                let note = "Error: ErrImagePull".to_string();
                ctx.events.warning(KUBELET, pod, "Failed", note);
            }
            let attempts = previous.map_or(1, |p| p.attempts + 1);
            let r = PullRetry {
                attempts,
                failed_at: now,
                next_attempt: now + backoff(attempts),
                failures,
            };
            ctx.pull_retry.lock().unwrap().insert(key, r.clone());
            r
        }
    };
    let err_shown = now.duration_since(retry.failed_at) < ERR_SHOWN;
    let reason = if err_shown {
        "ErrImagePull"
    } else {
        "ImagePullBackOff"
    };
    if waiting_reason(pod, &retry.failures[0].0) != Some(reason) {
        let body = pull_failed_status(pod, &retry.failures, reason, &util::now());
        util::apply_status(api, MANAGER, &pod.name_any(), &body).await?;
        if !err_shown {
            for (_, image, _) in &retry.failures {
                let note = format!("Back-off pulling image \"{image}\"");
                ctx.events.normal(KUBELET, pod, "BackOff", note);
                let note = "Error: ImagePullBackOff".to_string();
                ctx.events.warning(KUBELET, pod, "Failed", note);
            }
        }
    }
    let wake = if err_shown {
        retry.failed_at + ERR_SHOWN
    } else {
        retry.next_attempt
    };
    Ok(Pulled::Waiting(Action::requeue(
        wake.saturating_duration_since(now) + Duration::from_millis(10),
    )))
}

fn waiting_reason<'a>(pod: &'a Pod, container: &str) -> Option<&'a str> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let s = statuses.iter().find(|s| s.name == container)?;
    s.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

/// Binds the Pod to a Node matching its `nodeSelector`, or reports it unschedulable.
async fn schedule(pod: &Pod, api: &Api<Pod>, ctx: &Ctx) -> Result<Action, Error> {
    let selector = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.clone())
        .unwrap_or_default();
    let Some(node) = ctx.pick_node(&selector, &pod.name_any()) else {
        let total = ctx.nodes.state().len();
        let msg = format!(
            "0/{total} nodes are available: {total} node(s) didn't match Pod's node affinity/selector."
        );
        if unschedulable_message(pod) != Some(msg.as_str()) {
            let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.name_any()},
                "status": {"phase": "Pending", "conditions": [util_cond("PodScheduled", "False", Some("Unschedulable"), Some(&msg), &util::now())]}});
            util::apply_status(api, MANAGER, &pod.name_any(), &body).await?;
            ctx.events.warning(SCHEDULER, pod, "FailedScheduling", msg);
        }
        return Ok(Action::requeue(BACKOFF_CAP));
    };
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod.name_any()},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
    match api
        .create_subresource::<Value, Value>(
            "binding",
            &pod.name_any(),
            &PostParams::default(),
            &binding,
        )
        .await
    {
        Ok(_) => {
            scheduled_event(pod, &node, ctx);
            Ok(Action::await_change())
        }
        // Bound meanwhile (409) or gone (404): the next event tells.
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(Action::await_change()),
        Err(e) => Err(e.into()),
    }
}

/// The scheduler's record of binding `pod` to `node`.
pub(crate) fn scheduled_event(pod: &Pod, node: &str, ctx: &Ctx) {
    let note = format!(
        "Successfully assigned {}/{} to {node}",
        pod.namespace().unwrap_or_default(),
        pod.name_any()
    );
    ctx.events.normal(SCHEDULER, pod, "Scheduled", note);
}

/// The message of the Pod's `PodScheduled=False/Unschedulable` condition, if it has one.
fn unschedulable_message(pod: &Pod) -> Option<&str> {
    let conds = pod.status.as_ref()?.conditions.as_ref()?;
    let c = conds
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("Unschedulable"))?;
    c.message.as_deref()
}

fn util_cond(
    t: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    now: &str,
) -> Value {
    let mut c =
        json!({"type": t, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// A Pod IP in its node's range, stable per Pod.
pub fn pod_ip(pod_uid: &str) -> String {
    let h = fnv32a(pod_uid.as_bytes());
    format!("10.244.{}.{}", (h >> 8) % 250, h % 250 + 2)
}

fn host_ip(node: &str) -> String {
    let i = node
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    crate::nodes::node_ip(i)
}

fn container_id(pod_uid: &str, name: &str) -> String {
    format!(
        "containerd://{:08x}{:08x}",
        fnv32a(pod_uid.as_bytes()),
        fnv32a(name.as_bytes())
    )
}

fn start_time(pod: &Pod, now: &str) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map_or_else(
            || now.to_string(),
            |t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// `Running` and Ready: every condition `True`, containers running, init containers completed.
pub fn running_status(
    pod: &Pod,
    node: &str,
    digests: &BTreeMap<String, String>,
    now: &str,
) -> Value {
    let uid = uid(pod);
    let start = start_time(pod, now);
    let spec = pod.spec.clone().unwrap_or_default();
    let started = |name: &str, image: &str, state: Value, ready: bool, started: bool| {
        json!({"name": name, "image": image, "imageID": digests.get(image).cloned().unwrap_or_default(),
               "containerID": container_id(&uid, name), "ready": ready, "started": started,
               "restartCount": 0, "state": state})
    };
    let status_of = |c: &Container, state: Value, ready: bool| {
        let image = c.image.clone().unwrap_or_default();
        let mut s = started(&c.name, &image, state, ready, ready);
        // What the container runs with: its spec's resources, applied at once (also after an
        // in-place resize through `pods/<name>/resize`).
        let resources = requirements(c.resources.as_ref());
        if resources.as_object().is_some_and(|r| !r.is_empty()) {
            s["allocatedResources"] = resources.get("requests").cloned().unwrap_or(json!({}));
            s["resources"] = resources;
        }
        s
    };
    let running = json!({"running": {"startedAt": start}});
    let conditions: Vec<Value> = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    .iter()
    .map(|t| util_cond(t, "True", None, None, now))
    .collect();
    let container_statuses: Vec<Value> = spec
        .containers
        .iter()
        .map(|c| status_of(c, running.clone(), true))
        .collect();
    let done = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": start, "containerID": ""}});
    let mut status = json!({
        "phase": "Running", "hostIP": host_ip(node), "hostIPs": [{"ip": host_ip(node)}],
        "podIP": pod_ip(&uid), "podIPs": [{"ip": pod_ip(&uid)}], "startTime": start,
        "conditions": conditions,
        "containerStatuses": container_statuses,
    });
    if let Some(init) = spec.init_containers.as_ref().filter(|i| !i.is_empty()) {
        status["initContainerStatuses"] = init
            .iter()
            .map(|c| status_of(c, done.clone(), false))
            .collect();
    }
    if let Some(eph) = spec.ephemeral_containers.as_ref().filter(|e| !e.is_empty()) {
        // Ephemeral containers run (there is nothing to attach to) and are never ready.
        status["ephemeralContainerStatuses"] = eph
            .iter()
            .map(|c| {
                let image = c.image.as_deref().unwrap_or_default();
                started(&c.name, image, running.clone(), false, true)
            })
            .collect();
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.name_any()}, "status": status})
}

/// `Succeeded`: containers terminated with exit code 0 (`Completed`), Ready `False/PodCompleted`.
pub fn succeeded_status(pod: &Pod, now: &str) -> Value {
    let uid = uid(pod);
    let start = start_time(pod, now);
    let spec = pod.spec.clone().unwrap_or_default();
    let statuses: Vec<Value> = spec.containers.iter().map(|c| json!({
        "name": c.name, "image": c.image, "imageID": "", "containerID": container_id(&uid, &c.name),
        "ready": false, "started": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": now,
                                  "containerID": container_id(&uid, &c.name)}},
    })).collect();
    let conds = vec![
        util_cond("PodReadyToStartContainers", "False", None, None, now),
        util_cond("Initialized", "True", Some("PodCompleted"), None, now),
        util_cond("Ready", "False", Some("PodCompleted"), None, now),
        util_cond("ContainersReady", "False", Some("PodCompleted"), None, now),
        util_cond("PodScheduled", "True", None, None, now),
    ];
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.name_any()},
           "status": {"phase": "Succeeded", "conditions": conds, "containerStatuses": statuses}})
}

/// `Pending`, not Ready, the failing containers waiting with `reason` and a message naming the image.
pub fn pull_failed_status(
    pod: &Pod,
    failures: &[(String, String, String)],
    reason: &str,
    now: &str,
) -> Value {
    let spec = pod.spec.clone().unwrap_or_default();
    let unready: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let not_ready = format!("containers with unready status: [{}]", unready.join(" "));
    let statuses: Vec<Value> = spec.containers.iter().map(|c| {
        let waiting = match failures.iter().find(|f| f.0 == c.name) {
            Some((_, _, msg)) if reason == "ErrImagePull" => json!({"reason": reason, "message": msg}),
            Some((_, image, msg)) => json!({"reason": reason, "message": format!("Back-off pulling image \"{image}\": ErrImagePull: {msg}")}),
            None => json!({"reason": "ContainerCreating"}),
        };
        json!({"name": c.name, "image": c.image, "imageID": "", "ready": false, "started": false,
               "restartCount": 0, "state": {"waiting": waiting}})
    }).collect();
    let conds = vec![
        util_cond("PodReadyToStartContainers", "True", None, None, now),
        util_cond("Initialized", "True", None, None, now),
        util_cond(
            "Ready",
            "False",
            Some("ContainersNotReady"),
            Some(&not_ready),
            now,
        ),
        util_cond(
            "ContainersReady",
            "False",
            Some("ContainersNotReady"),
            Some(&not_ready),
            now,
        ),
        util_cond("PodScheduled", "True", None, None, now),
    ];
    let node = spec.node_name.clone().unwrap_or_default();
    // The sandbox is up (PodReadyToStartContainers): the Pod has its IP, as on a real node.
    let ip = pod_ip(&uid(pod));
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.name_any()},
           "status": {"phase": "Pending", "hostIP": host_ip(&node), "hostIPs": [{"ip": host_ip(&node)}],
                      "podIP": ip, "podIPs": [{"ip": ip}], "startTime": start_time(pod, now),
                      "conditions": conds, "containerStatuses": statuses}})
}

/// Why a Pod cannot run, for its owner's status: the first waiting container with a pull error.
pub fn pod_problem(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|s| {
        let w = s.state.as_ref()?.waiting.as_ref()?;
        let reason = w.reason.as_deref()?;
        matches!(
            reason,
            "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"
        )
        .then(|| {
            format!(
                "Pod \"{}\" container \"{}\": {reason}: {}",
                pod.name_any(),
                s.name,
                w.message.clone().unwrap_or_default()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(restart: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-abc-xyz12", "namespace": "default", "uid": "u1"},
            "spec": {"nodeName": "c-node-1", "restartPolicy": restart,
                     "initContainers": [{"name": "init", "image": "busybox"}],
                     "containers": [{"name": "web", "image": "REG/web:1"}, {"name": "side", "image": "REG/side:1"}]},
        })).unwrap()
    }

    #[test]
    fn backoff_doubles_from_one_second_and_is_capped_at_ten() {
        let s: Vec<u64> = (1..=6).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(s, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_running_pod_is_ready_with_ip_start_time_and_container_states() {
        let s = running_status(
            &pod("Always"),
            "c-node-1",
            &BTreeMap::from([("REG/web:1".into(), "sha256:aa".into())]),
            "T",
        );
        let st = &s["status"];
        assert_eq!(st["phase"], "Running");
        for t in ["Initialized", "Ready", "ContainersReady", "PodScheduled"] {
            assert!(
                st["conditions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["type"] == t && c["status"] == "True"),
                "{t}"
            );
        }
        assert_eq!(
            st["containerStatuses"][0]["state"]["running"]["startedAt"],
            "T"
        );
        assert_eq!(st["containerStatuses"][0]["imageID"], "sha256:aa");
        assert_eq!(st["containerStatuses"][1]["ready"], true);
        assert_eq!(
            st["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(st["podIP"], pod_ip("u1"));
        assert_eq!(st["hostIP"], "10.0.0.3");
        assert_eq!(st["startTime"], "T");
    }

    #[test]
    fn a_failed_pull_keeps_the_pod_pending_and_names_the_image() {
        let f = vec![(
            "web".to_string(),
            "REG/web:1".to_string(),
            "failed to pull image \"REG/web:1\": not found".to_string(),
        )];
        let s = pull_failed_status(&pod("Always"), &f, "ErrImagePull", "2026-01-01T00:00:00Z");
        assert_eq!(s["status"]["phase"], "Pending");
        assert_eq!(
            s["status"]["podIP"],
            pod_ip(&uid(&pod("Always"))),
            "the sandbox has its IP while the image is pulled"
        );
        let w = &s["status"]["containerStatuses"][0]["state"]["waiting"];
        assert_eq!(w["reason"], "ErrImagePull");
        assert!(w["message"].as_str().unwrap().contains("\"REG/web:1\""));
        assert_eq!(
            s["status"]["containerStatuses"][1]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        let b = pull_failed_status(&pod("Always"), &f, "ImagePullBackOff", "T");
        let w = &b["status"]["containerStatuses"][0]["state"]["waiting"];
        assert!(
            w["message"]
                .as_str()
                .unwrap()
                .starts_with("Back-off pulling image \"REG/web:1\"")
        );
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "status": s["status"]}))
                .unwrap();
        assert!(
            pod_problem(&p)
                .unwrap()
                .contains("ErrImagePull: failed to pull image \"REG/web:1\"")
        );
    }

    #[test]
    fn a_completed_pod_is_succeeded_with_exit_code_zero() {
        let s = succeeded_status(&pod("Never"), "T");
        assert_eq!(s["status"]["phase"], "Succeeded");
        assert_eq!(
            s["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            0
        );
        assert!(
            s["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "Ready" && c["reason"] == "PodCompleted")
        );
    }
}
