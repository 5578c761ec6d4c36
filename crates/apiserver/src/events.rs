//! Events: the parts of kube-apiserver's Event handling that are not plain conversion.
//!
//! core/v1 `events` and `events.k8s.io/v1` `events` are one set of objects stored in core/v1's form
//! (`apiresources::catalogue::shared_storage`, converted by `apiresources::conversion`). This module
//! adds:
//! - [`to_core_field_selector`]: events.k8s.io field labels (`regarding.name`, `reportingController`)
//!   select on the stored core/v1 fields (`involvedObject.name`, `reportingComponent`).
//! - [`expire`]: Events expire a TTL after their last write (kube-apiserver's `--event-ttl`, 1 h by
//!   default; [`crate::Config::event_ttl`]). One task per cluster keeps a deadline heap, filled at
//!   start from one list of events and afterwards from the store's watch of events (so it learns of
//!   every write, whichever API made it), and sleeps until the earliest deadline: nothing runs while
//!   nothing expires. An expired Event is deleted through the ordinary delete path
//!   (`write::delete_in_txn`, honouring finalizers) with a resourceVersion precondition, so an
//!   Event written again in between is kept (its newer write pushed a later deadline) and watchers
//!   see DELETED.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use apimachinery::fields::FieldSelector;
use serde_json::Value;
use store::{EventKind, Key, StoreError};
use tokio::time::Instant;

use crate::cluster::{ClusterState, blocking};
use crate::error::{ApiError, ApiResult};
use crate::handlers::body::DeleteOptions;

/// The store resource key of Events (both APIs).
pub const EVENTS: &str = "events";

/// kube-apiserver's default `--event-ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// Rewrites an events.k8s.io field selector to the core/v1 labels it selects on; an unknown label
/// answers 400 as kube-apiserver does.
pub fn to_core_field_selector(fields: &mut FieldSelector) -> ApiResult<()> {
    for r in &mut fields.requirements {
        r.field = apiresources::conversion::event_field_label(&r.field).ok_or_else(|| {
            ApiError::bad_request(format!(
                "field label not supported: {} (events.k8s.io/v1 Events select on regarding.*, \
                 reportingController, reason, type, metadata.name and metadata.namespace)",
                r.field
            ))
        })?;
    }
    Ok(())
}

/// The pending expiries: the latest deadline and revision per Event, and a min-heap with at
/// most one live entry per Event (a write to an Event already queued only moves its deadline in
/// the map; its heap entry is pushed back to the new deadline when it comes up), so memory grows
/// with the number of Events, not with the number of writes.
#[derive(Default)]
struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, Key)>>,
    latest: HashMap<Key, (Instant, u64)>,
}

/// Most Events deleted in one transaction (keeps other writers' waits short).
const BATCH: usize = 500;

impl Deadlines {
    /// The Event at `key`, written at `revision`, expires at `at`.
    fn push(&mut self, at: Instant, key: Key, revision: u64) {
        if self.latest.insert(key.clone(), (at, revision)).is_none() {
            self.heap.push(Reverse((at, key)));
        }
    }

    /// The Event was deleted: nothing to expire.
    fn forget(&mut self, key: &Key) {
        self.latest.remove(key);
    }

    fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|d| d.0.0)
    }

    /// Removes and returns up to `limit` Events due at `now`, with the revision they were due
    /// for; entries whose Event was written again go back to their new deadline.
    fn pop_due(&mut self, now: Instant, limit: usize) -> Vec<(Key, u64)> {
        let mut due = Vec::new();
        while due.len() < limit && self.heap.peek().is_some_and(|d| d.0.0 <= now) {
            let Reverse((_, key)) = self.heap.pop().expect("peeked");
            match self.latest.get(&key) {
                Some(&(at, revision)) if at <= now => {
                    self.latest.remove(&key);
                    due.push((key, revision));
                }
                Some(&(at, _)) => self.heap.push(Reverse((at, key))),
                None => {} // deleted meanwhile
            }
        }
        due
    }
}

/// When an Event stored before this process started was last written, from its own timestamps
/// (the latest of `series.lastObservedTime`, `lastTimestamp`, `eventTime`, `creationTimestamp`).
fn last_written(ev: &Value) -> Option<jiff::Timestamp> {
    [
        "/series/lastObservedTime",
        "/lastTimestamp",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .filter_map(|p| ev.pointer(p)?.as_str()?.parse::<jiff::Timestamp>().ok())
    .max()
}

/// The deadline of an Event found at start: its TTL counted from its last write, no later than
/// a full TTL from now (an Event dated in the future), and at once when that time has passed.
fn startup_deadline(ev: &Value, ttl: Duration, now: Instant, wall: jiff::Timestamp) -> Instant {
    let Some(written) = last_written(ev) else {
        return now + ttl;
    };
    let age = wall
        .duration_since(written)
        .try_into()
        .unwrap_or(Duration::ZERO);
    now + ttl.saturating_sub(age)
}

fn revision_of(ev: &Value) -> u64 {
    ev.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn key_of(ev: &Value) -> Key {
    let s = |p: &str| ev.pointer(p).and_then(Value::as_str).unwrap_or_default();
    Key::new(EVENTS, s("/metadata/namespace"), s("/metadata/name"))
}

/// Deletes the due Events still at the revision their deadline was set for, in one transaction.
fn delete_due(cluster: &ClusterState, due: Vec<(Key, u64)>) -> Result<usize, StoreError> {
    let (deleted, _) = cluster
        .store
        .write_with(|t| {
            let mut deleted = 0;
            for (key, revision) in &due {
                let current = t.get(key)?;
                if current.is_none_or(|c| c.revision != *revision) {
                    continue; // gone, or written again (a later deadline is queued)
                }
                let opts = DeleteOptions {
                    precondition_rv: Some(revision.to_string()),
                    ..DeleteOptions::default()
                };
                crate::handlers::write::delete_in_txn(t, key, &opts, false)?;
                deleted += 1;
            }
            Ok::<_, crate::handlers::write::TxnError>(deleted)
        })
        .map_err(|e| match e {
            crate::handlers::write::TxnError::Store(e) => e,
            crate::handlers::write::TxnError::Api(e) => StoreError::Aborted(e.to_string()),
        })?;
    Ok(deleted)
}

/// Fills the heap from one list of the cluster's Events; returns the list's revision.
fn load(cluster: &ClusterState, ttl: Duration, heap: &mut Deadlines) -> Result<u64, StoreError> {
    let (events, revision) = cluster.list_all(EVENTS, None)?;
    let (now, wall) = (Instant::now(), jiff::Timestamp::now());
    *heap = Deadlines::default();
    for ev in &events {
        heap.push(
            startup_deadline(ev, ttl, now, wall),
            key_of(ev),
            revision_of(ev),
        );
    }
    Ok(revision)
}

/// Expires the cluster's Events `ttl` after their last write, until shutdown.
pub async fn expire(cluster: Arc<ClusterState>, ttl: Duration) {
    let mut heap = Deadlines::default();
    'restart: loop {
        let c = cluster.clone();
        let started = blocking(move || {
            let rev = load(&c, ttl, &mut heap)?;
            let watch = c.store.watch(EVENTS, rev)?;
            Ok::<_, StoreError>((heap, watch))
        })
        .await;
        let mut watch = match started {
            Ok((h, w)) => {
                heap = h;
                w
            }
            Err(e) => {
                tracing::warn!(cluster = %cluster.name, error = %e, "event expiry cannot read the events; retrying");
                heap = Deadlines::default();
                tokio::select! {
                    _ = cluster.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => continue 'restart,
                }
            }
        };
        loop {
            let next = heap.next_at();
            tokio::select! {
                _ = cluster.shutdown.cancelled() => return,
                ev = watch.next() => match ev {
                    Some(Ok(ev)) if ev.kind == EventKind::Deleted => heap.forget(&ev.key),
                    Some(Ok(ev)) => heap.push(Instant::now() + ttl, ev.key.clone(), ev.revision),
                    // Fell behind the watch history (or the store closed): start again from a list.
                    Some(Err(_)) | None => continue 'restart,
                },
                _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    let due = heap.pop_due(Instant::now(), BATCH);
                    let c = cluster.clone();
                    match blocking(move || delete_due(&c, due)).await {
                        Ok(n) if n > 0 => tracing::debug!(cluster = %cluster.name, expired = n, "expired events"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(cluster = %cluster.name, error = %e, "expiring events failed"),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_earliest_deadline_comes_first_and_only_due_entries_pop() {
        let now = Instant::now();
        let mut h = Deadlines::default();
        h.push(
            now + Duration::from_secs(30),
            Key::new(EVENTS, "a", "late"),
            3,
        );
        h.push(
            now + Duration::from_secs(1),
            Key::new(EVENTS, "a", "early"),
            2,
        );
        h.push(now, Key::new(EVENTS, "a", "due"), 1);
        assert_eq!(h.next_at(), Some(now));
        let due = h.pop_due(now + Duration::from_secs(2), BATCH);
        let names: Vec<_> = due.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["due", "early"]);
        assert_eq!(h.next_at(), Some(now + Duration::from_secs(30)));
    }

    #[test]
    fn a_rewritten_event_moves_its_deadline_without_a_second_heap_entry() {
        let now = Instant::now();
        let key = Key::new(EVENTS, "a", "ev");
        let mut h = Deadlines::default();
        h.push(now, key.clone(), 1);
        for rev in 2..100 {
            h.push(now + Duration::from_secs(10), key.clone(), rev);
        }
        assert_eq!(h.heap.len(), 1);
        // The first deadline comes up: not due any more, re-queued at the latest one.
        assert!(h.pop_due(now, BATCH).is_empty());
        assert_eq!(h.next_at(), Some(now + Duration::from_secs(10)));
        assert_eq!(
            h.pop_due(now + Duration::from_secs(10), BATCH),
            [(key.clone(), 99)]
        );
        // A deleted Event is not expired.
        h.push(now, key.clone(), 100);
        h.forget(&key);
        assert!(h.pop_due(now, BATCH).is_empty());
        assert_eq!(h.next_at(), None);
    }

    #[test]
    fn due_events_come_in_batches() {
        let now = Instant::now();
        let mut h = Deadlines::default();
        for i in 0..1200 {
            h.push(now, Key::new(EVENTS, "a", format!("e{i}")), i);
        }
        assert_eq!(h.pop_due(now, BATCH).len(), BATCH);
        assert_eq!(h.pop_due(now, BATCH).len(), BATCH);
        assert_eq!(h.pop_due(now, BATCH).len(), 200);
    }

    #[test]
    fn events_found_at_start_expire_a_ttl_after_their_last_write() {
        let now = Instant::now();
        let wall: jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let ttl = Duration::from_secs(3600);
        let ev = |last: &str| json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}, "lastTimestamp": last});
        // Written 10 min ago: 50 min left.
        assert_eq!(
            startup_deadline(&ev("2026-01-01T00:50:00Z"), ttl, now, wall),
            now + Duration::from_secs(3000)
        );
        // Written 2 h ago: due now.
        let old = json!({"metadata": {"creationTimestamp": "2025-12-31T23:00:00Z"}});
        assert_eq!(startup_deadline(&old, ttl, now, wall), now);
        // Dated in the future: a full TTL.
        assert_eq!(
            startup_deadline(&ev("2026-01-01T02:00:00Z"), ttl, now, wall),
            now + ttl
        );
        // No timestamps: a full TTL.
        assert_eq!(startup_deadline(&json!({}), ttl, now, wall), now + ttl);
    }

    #[test]
    fn events_k8s_io_field_selectors_are_rewritten_and_unknown_labels_refused() {
        let mut f =
            FieldSelector::parse("regarding.name=web,reportingController=x,type=Warning").unwrap();
        to_core_field_selector(&mut f).unwrap();
        assert!(f.check_supported("Event").is_ok());
        assert!(f.matches(&json!({"involvedObject": {"name": "web"}, "reportingComponent": "x", "type": "Warning"})));
        let mut bad = FieldSelector::parse("involvedObject.name=web").unwrap();
        let e = to_core_field_selector(&mut bad).unwrap_err();
        assert_eq!(e.code(), 400);
    }
}
