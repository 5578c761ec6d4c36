//! Watch (`?watch=1`): newline-delimited JSON events over one HTTP 200 response.
//!
//! - Start: from `resourceVersion=N` the store replays every event after N; with no
//!   resourceVersion or `0` (or `sendInitialEvents=true`) the current matching objects come first
//!   as ADDED, then live events from the list's revision. `sendInitialEvents=true` ends the initial
//!   phase with a BOOKMARK annotated `k8s.io/initial-events-end: "true"`.
//! - Selectors: an object entering the label/field selector is ADDED, leaving it is DELETED.
//! - A compacted start revision (or a consumer that fell behind the retained history) is an
//!   `ERROR` event carrying a 410 `Expired` Status, inside the 200 stream (kube-rs relists on it).
//! - `allowWatchBookmarks`: a BOOKMARK every [`BOOKMARK_EVERY`] with a revision up to which
//!   everything was delivered. `timeoutSeconds` ends the stream cleanly; so does shutdown.
//! - Table watches (kubectl `get -w`) carry one-row Tables as event objects.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use store::{EventKind, StoreError};
use tokio::sync::mpsc;

use crate::cluster::blocking;
use crate::error::{ApiError, ApiResult};
use crate::handlers::Ctx;
use crate::handlers::read::{Selectors, read_list};

/// Interval of periodic bookmarks.
pub const BOOKMARK_EVERY: Duration = Duration::from_secs(5);
/// Watch duration when the client gives no `timeoutSeconds` (kube-apiserver: 30-60 min).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Decides how an event shows through a selector: `Some(type)` or skip.
pub fn event_type(
    kind: EventKind,
    now_matches: bool,
    before_matches: Option<bool>,
) -> Option<&'static str> {
    match kind {
        EventKind::Added => now_matches.then_some("ADDED"),
        EventKind::Deleted => now_matches.then_some("DELETED"),
        EventKind::Modified => match (before_matches.unwrap_or(false), now_matches) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        },
    }
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).expect("event serializes");
    b.push(b'\n');
    Bytes::from(b)
}

struct Emitter {
    ctx: Ctx,
    table: bool,
}

impl Emitter {
    fn object(&self, obj: Value) -> Value {
        let obj = self.ctx.present(obj);
        if self.table {
            let rv = obj["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_string();
            crate::tables::table(
                &self.ctx.info,
                &[obj],
                self.ctx.query.include_object.as_deref(),
                &rv,
                "",
            )
        } else {
            obj
        }
    }

    fn event(&self, ty: &str, obj: Value) -> Bytes {
        line(&json!({"type": ty, "object": self.object(obj)}))
    }

    /// The line of a live event, serialized once for every watcher that sends the same bytes
    /// (same event type and served version; Tables carry per-request columns and are not shared).
    fn live_event(&self, ty: &str, ev: &store::Event) -> Bytes {
        if self.table {
            return self.event(ty, ev.object.clone());
        }
        let key = format!(
            "{ty} {} {}",
            self.ctx.info.api_version(),
            self.ctx.info.kind
        );
        ev.encodings
            .get_or_encode(&key, || self.event(ty, ev.object.clone()))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(&json!({"type": "BOOKMARK", "object": {
            "kind": self.ctx.info.kind, "apiVersion": self.ctx.info.api_version(), "metadata": meta,
        }}))
    }

    fn error(&self, e: ApiError) -> Bytes {
        line(&json!({"type": "ERROR", "object": e.to_status()}))
    }
}

/// Serves a watch request.
pub async fn serve(ctx: Ctx) -> ApiResult<Response> {
    let sel = Selectors::parse(&ctx)?;
    let table = ctx.wants_table();
    let rv = ctx.query.resource_version.clone().filter(|s| s != "0");
    let send_initial = ctx.query.send_initial_events.unwrap_or(rv.is_none());
    let initial_end_bookmark = ctx.query.send_initial_events == Some(true);
    let (initial, from) = if send_initial {
        let mut lctx_query = ctx.query.clone();
        lctx_query.limit = None;
        lctx_query.continue_token = None;
        let lctx = Ctx {
            query: lctx_query,
            ..ctx.clone()
        };
        let res = read_list(&lctx, Selectors::parse(&lctx)?, None).await?;
        (res.items, res.revision)
    } else {
        let r = rv.unwrap_or_default();
        let from: u64 = r.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {r:?}: must be an integer"))
        })?;
        (Vec::new(), from)
    };
    let store = ctx.cluster.store.clone();
    let resource = ctx.info.resource_key();
    let watch = blocking(move || store.watch(&resource, from)).await;
    let timeout = ctx
        .query
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let bookmarks = ctx.query.allow_watch_bookmarks;
    let namespace = ctx.namespace.clone();
    let shutdown = ctx.shutdown.clone();
    let em = Emitter { ctx, table };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        for obj in initial {
            if tx.send(em.event("ADDED", obj)).await.is_err() {
                return;
            }
        }
        if initial_end_bookmark && tx.send(em.bookmark(from, true)).await.is_err() {
            return;
        }
        let mut watch = match watch {
            Ok(w) => w,
            Err(StoreError::Expired { requested, oldest }) => {
                let _ = tx
                    .send(em.error(apimachinery::ApiError::too_old_resource_version(
                        requested, oldest,
                    )))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx.send(em.error(ApiError::internal(e.to_string()))).await;
                return;
            }
        };
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if bookmarks => {
                    if let Some(rev) = watch.bookmark_revision()
                        && tx.send(em.bookmark(rev, false)).await.is_err() {
                        return;
                    }
                }
                ev = watch.next() => {
                    let ev = match ev {
                        None => return,
                        Some(Err(StoreError::Expired { requested, oldest })) => {
                            let _ = tx.send(em.error(apimachinery::ApiError::too_old_resource_version(requested, oldest))).await;
                            return;
                        }
                        Some(Err(e)) => {
                            let _ = tx.send(em.error(ApiError::internal(e.to_string()))).await;
                            return;
                        }
                        Some(Ok(ev)) => ev,
                    };
                    if let Some(ns) = &namespace && ev.key.namespace != *ns {
                        continue;
                    }
                    let now = sel.matches(&ev.object);
                    let before = ev.prev.as_ref().map(|p| sel.matches(p));
                    if let Some(ty) = event_type(ev.kind, now, before)
                        && tx.send(em.live_event(ty, &ev)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let ct = if table {
        crate::tables::TABLE_CONTENT_TYPE
    } else {
        "application/json"
    };
    Ok(Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, ct)
        .header(http::header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(stream))
        .expect("valid response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_entering_and_leaving_a_selector() {
        assert_eq!(
            event_type(EventKind::Modified, true, Some(false)),
            Some("ADDED")
        );
        assert_eq!(
            event_type(EventKind::Modified, false, Some(true)),
            Some("DELETED")
        );
        assert_eq!(
            event_type(EventKind::Modified, true, Some(true)),
            Some("MODIFIED")
        );
        assert_eq!(event_type(EventKind::Modified, false, Some(false)), None);
        assert_eq!(event_type(EventKind::Added, false, None), None);
        assert_eq!(
            event_type(EventKind::Deleted, true, Some(true)),
            Some("DELETED")
        );
    }
}
