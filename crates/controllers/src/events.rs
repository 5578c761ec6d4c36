//! Best-effort Events for controllers that report as named components (the simulator's kubelet
//! and workload controllers, OLM's `operator-lifecycle-manager`), as client-go's broadcaster
//! records them: a reconcile hands its Event to one background task per cluster and never waits
//! for or fails on it; the task publishes them in order (so `Created` is never listed before
//! `Pulled`) through kube-runtime's `Recorder`, one per reporting component; when the API cannot
//! keep up, new Events are dropped once [`QUEUE`] wait. Repeats of one Event become a series.
//!
//! A controller that must know its Event was written uses [`crate::runtime::recorder`] instead.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};
use tokio::sync::mpsc;

/// How many Events may wait for the API before new ones are dropped.
pub const QUEUE: usize = 1024;
/// events.k8s.io refuses an Event note longer than this (bytes).
const NOTE_MAX: usize = 1024;
/// events.k8s.io refuses an Event action longer than this (bytes).
const ACTION_MAX: usize = 128;

/// The sending side; cheap to clone. The publishing task ends when every clone is dropped.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::Sender<(&'static str, Event, ObjectReference)>,
}

impl Events {
    /// Starts the publishing task for cluster `cluster` (reporting instance `marketplace-<cluster>`).
    pub fn start(client: Client, cluster: &str) -> Events {
        let (tx, mut rx) = mpsc::channel::<(&'static str, Event, ObjectReference)>(QUEUE);
        let instance = format!("marketplace-{cluster}");
        tokio::spawn(async move {
            let mut recorders: HashMap<&'static str, Recorder> = HashMap::new();
            while let Some((by, event, about)) = rx.recv().await {
                let recorder = recorders.entry(by).or_insert_with(|| {
                    let reporter = Reporter {
                        controller: by.to_string(),
                        instance: Some(instance.clone()),
                    };
                    Recorder::new(client.clone(), reporter)
                });
                if let Err(e) = recorder.publish(&event, &about).await {
                    tracing::debug!(component = by, reason = %event.reason, object = ?about.name, error = %e, "event not recorded");
                }
            }
        });
        Events { tx }
    }

    /// A `Normal` Event about `obj`, reported by component `by`.
    pub fn normal<K: Resource<DynamicType = ()>>(
        &self,
        by: &'static str,
        obj: &K,
        reason: &str,
        note: String,
    ) {
        self.record(by, obj, EventType::Normal, reason, note);
    }

    /// A `Warning` Event about `obj`, reported by component `by`.
    pub fn warning<K: Resource<DynamicType = ()>>(
        &self,
        by: &'static str,
        obj: &K,
        reason: &str,
        note: String,
    ) {
        self.record(by, obj, EventType::Warning, reason, note);
    }

    /// An Event of `type_` about `obj`, reported by component `by`.
    pub fn record<K: Resource<DynamicType = ()>>(
        &self,
        by: &'static str,
        obj: &K,
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
            action: truncated(format!("{reason}: {note}"), ACTION_MAX),
            note: Some(truncated(note, NOTE_MAX)),
            secondary: None,
        };
        if self.tx.try_send((by, event, obj.object_ref(&()))).is_err() {
            tracing::debug!(component = by, reason, "event queue full; event dropped");
        }
    }
}

/// `s` cut to at most `max` bytes on a character boundary (Event notes and actions).
fn truncated(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_texts_are_cut_to_what_the_api_accepts_on_a_char_boundary() {
        let cut = truncated("é".repeat(600), NOTE_MAX);
        assert!(cut.len() <= NOTE_MAX && cut.chars().all(|c| c == 'é'));
        assert_eq!(truncated("short".into(), ACTION_MAX), "short");
    }
}
