//! Events as the components the simulator stands in for record them (the kubelet, the scheduler,
//! kube-controller-manager's workload controllers), so that `kubectl describe` and `kubectl events`
//! say what happened to a Pod and why it does not run.
//!
//! Best-effort, as in Kubernetes: a reconcile hands its Events to one background task per cluster
//! (in order, so `Created` is never listed before `Pulled`) and never waits for or fails on them;
//! when the API cannot keep up, new Events are dropped once [`QUEUE`] wait, as client-go's
//! broadcaster drops them. Repeats of one Event become a series (kube-runtime's `Recorder`).

use std::collections::HashMap;

use controllers::runtime::{EVENT_ACTION_MAX, EVENT_NOTE_MAX, truncated};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};
use tokio::sync::mpsc;

/// Who records an Event: its `reportingController`, shown as `From` by `kubectl describe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    Kubelet,
    Scheduler,
    ReplicaSetController,
    DeploymentController,
    JobController,
    StatefulSetController,
    DaemonSetController,
    CronJobController,
}

impl Component {
    const ALL: [Component; 8] = [
        Component::Kubelet,
        Component::Scheduler,
        Component::ReplicaSetController,
        Component::DeploymentController,
        Component::JobController,
        Component::StatefulSetController,
        Component::DaemonSetController,
        Component::CronJobController,
    ];

    /// The name Kubernetes' own component reports.
    pub fn name(self) -> &'static str {
        match self {
            Component::Kubelet => "kubelet",
            Component::Scheduler => "default-scheduler",
            Component::ReplicaSetController => "replicaset-controller",
            Component::DeploymentController => "deployment-controller",
            Component::JobController => "job-controller",
            Component::StatefulSetController => "statefulset-controller",
            Component::DaemonSetController => "daemonset-controller",
            Component::CronJobController => "cronjob-controller",
        }
    }
}

/// How many Events may wait for the API before new ones are dropped.
pub const QUEUE: usize = 1024;

/// The sending side; cheap to clone. The publishing task ends when every clone is dropped.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::Sender<(Component, Event, ObjectReference)>,
}

impl Events {
    /// Starts the publishing task for one cluster (`cluster` names the reporting instances).
    pub fn start(client: Client, cluster: &str) -> Events {
        let (tx, mut rx) = mpsc::channel::<(Component, Event, ObjectReference)>(QUEUE);
        let recorders: HashMap<Component, Recorder> = Component::ALL
            .iter()
            .map(|c| {
                let reporter = Reporter {
                    controller: c.name().to_string(),
                    instance: Some(format!("{}-{cluster}", c.name())),
                };
                (*c, Recorder::new(client.clone(), reporter))
            })
            .collect();
        tokio::spawn(async move {
            while let Some((by, event, about)) = rx.recv().await {
                if let Err(e) = recorders[&by].publish(&event, &about).await {
                    tracing::debug!(component = by.name(), reason = %event.reason, object = ?about.name, error = %e, "simulator: event not recorded");
                }
            }
        });
        Events { tx }
    }

    /// A `Normal` Event about `obj`.
    pub fn normal<K: Resource<DynamicType = ()>>(
        &self,
        by: Component,
        obj: &K,
        reason: &str,
        note: String,
    ) {
        self.send(by, obj.object_ref(&()), EventType::Normal, reason, note);
    }

    /// A `Warning` Event about `obj`.
    pub fn warning<K: Resource<DynamicType = ()>>(
        &self,
        by: Component,
        obj: &K,
        reason: &str,
        note: String,
    ) {
        self.send(by, obj.object_ref(&()), EventType::Warning, reason, note);
    }

    fn send(
        &self,
        by: Component,
        about: ObjectReference,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        // kube-runtime counts an Event as a repeat of an earlier one with the same reason and
        // action; the note goes into the action too, so Events that differ only in their note
        // (two containers started, two different failures) stay apart, as core/v1 Events are
        // aggregated by message.
        let event = Event {
            type_,
            reason: reason.to_string(),
            action: truncated(format!("{reason}: {note}"), EVENT_ACTION_MAX),
            note: Some(truncated(note, EVENT_NOTE_MAX)),
            secondary: None,
        };
        if self.tx.try_send((by, event, about)).is_err() {
            tracing::debug!(
                component = by.name(),
                reason,
                "simulator: event queue full; event dropped"
            );
        }
    }
}

/// The kubelet's note for a failed pull of `image`: `Failed to pull image "IMAGE": why`.
pub fn pull_failed_note(image: &str, message: &str) -> String {
    let prefix = format!("failed to pull image \"{image}\": ");
    let why = message.strip_prefix(&prefix).unwrap_or(message);
    format!("Failed to pull image \"{image}\": {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_failure_note_names_the_image_once() {
        assert_eq!(
            pull_failed_note(
                "r/web:2",
                "failed to pull image \"r/web:2\": r/web:2: not found"
            ),
            "Failed to pull image \"r/web:2\": r/web:2: not found"
        );
        assert_eq!(
            pull_failed_note("web", "registry unreachable"),
            "Failed to pull image \"web\": registry unreachable"
        );
    }
}
