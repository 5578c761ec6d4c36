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
//! - Table watches (kubectl `get -w`) carry one-row Tables as event objects; metadata watches
//!   (`Accept: ...;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`, client-go metadata informers,
//!   kube-rs `metadata_watcher`) carry `PartialObjectMetadata` objects, bookmarks included.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::Stream;
use serde_json::{Value, json};
use store::{EventKind, StoreError};

use crate::cluster::blocking;
use crate::error::{ApiError, ApiResult};
use crate::handlers::Ctx;
use crate::handlers::projected::ProjectedEvents;
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

/// A metadata watch's event line for `obj`, written straight from its `metadata`.
fn metadata_line(ty: &str, obj: &Value, v: apimachinery::metadata::MetaVersion) -> Bytes {
    let mut b = Vec::with_capacity(256);
    b.extend_from_slice(b"{\"type\":");
    serde_json::to_writer(&mut b, ty).expect("a string serializes");
    b.extend_from_slice(b",\"object\":");
    apimachinery::metadata::write_partial_object_metadata(&mut b, obj, v);
    b.extend_from_slice(b"}\n");
    Bytes::from(b)
}

struct Emitter {
    ctx: Ctx,
    table: bool,
    /// Keys of the shared encodings of a live event (`store::Event::encodings`) for ADDED,
    /// MODIFIED, DELETED: event type and served version (or metadata form), made once per watch,
    /// not per event.
    keys: [String; 3],
    /// Event objects (bookmarks too) as `PartialObjectMetadata` of this version.
    metadata: Option<apimachinery::metadata::MetaVersion>,
}

impl Emitter {
    fn new(
        ctx: Ctx,
        table: bool,
        metadata: Option<apimachinery::metadata::MetaVersion>,
    ) -> Emitter {
        let keys = ["ADDED", "MODIFIED", "DELETED"].map(|ty| match metadata {
            Some(v) => format!("{ty} {} PartialObjectMetadata", v.api_version()),
            None => format!("{ty} {} {}", ctx.info.api_version(), ctx.info.kind),
        });
        Emitter {
            ctx,
            table,
            keys,
            metadata,
        }
    }

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
        if let Some(v) = self.metadata {
            return metadata_line(ty, &obj, v);
        }
        line(&json!({"type": ty, "object": self.object(obj)}))
    }

    /// The line of a live event, serialized once for every watcher that sends the same bytes
    /// (same event type and served version; Tables carry per-request columns and are not shared).
    fn live_event(&self, ty: &str, ev: &store::Event) -> Bytes {
        if self.table {
            return self.event(ty, ev.object.clone());
        }
        let key = match ty {
            "ADDED" => &self.keys[0],
            "MODIFIED" => &self.keys[1],
            _ => &self.keys[2],
        };
        ev.encodings.get_or_encode(key, || match self.metadata {
            // Written from the event's metadata: the object is not copied.
            Some(v) => metadata_line(ty, &ev.object, v),
            None => self.event(ty, ev.object.clone()),
        })
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (kind, api_version) = match self.metadata {
            Some(v) => (
                "PartialObjectMetadata".to_string(),
                v.api_version().to_string(),
            ),
            None => (self.ctx.info.kind.clone(), self.ctx.info.api_version()),
        };
        line(&json!({"type": "BOOKMARK", "object": {
            "kind": kind, "apiVersion": api_version, "metadata": meta,
        }}))
    }

    fn error(&self, e: ApiError) -> Bytes {
        line(&json!({"type": "ERROR", "object": e.to_status()}))
    }
}

/// A watch response being written: the initial objects, then live events, as lines.
///
/// A [`Stream`](futures::Stream) polled by the connection itself (no task or queue in between).
/// The live watch is polled first and an event ready there is answered at once; the deadline, the
/// shutdown and the bookmark tick are futures kept across polls (registered once, not per event),
/// looked at when no event is ready (and every [`CHECK_EVERY`] events during a flood).
struct Streaming {
    em: Emitter,
    sel: Selectors,
    namespace: Option<String>,
    initial: Box<dyn Iterator<Item = Value> + Send>,
    /// A projected resource's copies (`handlers::projected`).
    projected: Option<ProjectedEvents>,
    /// Namespaces, for a projected resource (copies appear and leave with them).
    ns_watch: Option<store::Watch>,
    /// The revision of the `initial-events-end` bookmark still to send.
    initial_end_bookmark: Option<u64>,
    /// The store watch until it is opened (its error is sent as an ERROR event).
    watch: Option<Result<store::Watch, StoreError>>,
    live: Option<store::Watch>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Bookmarks (`allowWatchBookmarks`): started with the live phase.
    tick: Option<tokio::time::Interval>,
    bookmarks: bool,
    shutdown: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
    /// Events answered in a row without looking at the deadline and shutdown.
    streak: u32,
    done: bool,
}

/// During a flood of events the deadline and shutdown are still looked at every this many events.
const CHECK_EVERY: u32 = 64;

impl Streaming {
    /// Whether the watch must end now (timeout or shutdown); registers for both otherwise.
    fn ending(&mut self, cx: &mut Context<'_>) -> bool {
        self.streak = 0;
        self.shutdown.as_mut().poll(cx).is_ready() || self.deadline.as_mut().poll(cx).is_ready()
    }

    /// The next line of the response; `None` ends it (timeout, shutdown, error sent, store gone).
    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(obj) = self.initial.next() {
            return Poll::Ready(Some(self.em.event("ADDED", obj)));
        }
        if let Some(rev) = self.initial_end_bookmark.take() {
            return Poll::Ready(Some(self.em.bookmark(rev, true)));
        }
        if let Some(opened) = self.watch.take() {
            match opened {
                Ok(w) => {
                    self.live = Some(w);
                    if self.bookmarks {
                        let start = tokio::time::Instant::now() + BOOKMARK_EVERY;
                        self.tick = Some(tokio::time::interval_at(start, BOOKMARK_EVERY));
                    }
                }
                Err(e) => return Poll::Ready(Some(self.em.error(watch_error(e)))),
            }
        }
        loop {
            if self.live.is_none() {
                return Poll::Ready(None);
            }
            if let Some(p) = self.projected.as_mut()
                && let Some((ty, obj)) = p.next(&self.sel)
            {
                return Poll::Ready(Some(self.em.event(ty, obj)));
            }
            if self.streak >= CHECK_EVERY && self.ending(cx) {
                self.done = true;
                return Poll::Ready(None);
            }
            let Some(watch) = self.live.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(watch).poll_next(cx) {
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    self.live = None;
                    return Poll::Ready(Some(self.em.error(watch_error(e))));
                }
                Poll::Ready(Some(Ok(ev))) => {
                    self.streak += 1;
                    if let Some(line) = self.live_line(&ev) {
                        return Poll::Ready(Some(line));
                    }
                    continue;
                }
                Poll::Pending => {}
            }
            if let Some(ns_watch) = self.ns_watch.as_mut()
                && let Poll::Ready(ev) = Pin::new(ns_watch).poll_next(cx)
            {
                match (ev, self.projected.as_mut()) {
                    (Some(Ok(ev)), Some(p)) => p.take_namespace(&ev),
                    // Namespaces no longer followed (history gone): copies follow the
                    // originals' events only.
                    _ => self.ns_watch = None,
                }
                continue;
            }
            if let Some(tick) = self.tick.as_mut()
                && tick.poll_tick(cx).is_ready()
            {
                if let Some(rev) = self.live.as_ref().and_then(|w| w.bookmark_revision()) {
                    return Poll::Ready(Some(self.em.bookmark(rev, false)));
                }
                continue;
            }
            if self.ending(cx) {
                self.done = true;
                return Poll::Ready(None);
            }
            return Poll::Pending;
        }
    }

    /// The line a live event shows as through this watch's scope and selectors, if any.
    fn live_line(&mut self, ev: &store::Event) -> Option<Bytes> {
        let in_scope = self
            .namespace
            .as_ref()
            .is_none_or(|ns| ev.key.namespace == *ns);
        let own = in_scope
            .then(|| {
                let now = self.sel.matches(&ev.object);
                let before = ev.prev.as_ref().map(|p| self.sel.matches(p));
                event_type(ev.kind, now, before)
            })
            .flatten();
        if let Some(p) = self.projected.as_mut() {
            return match p.take(ev, &self.sel, own) {
                Some((ty, _)) if own == Some(ty) => Some(self.em.live_event(ty, ev)),
                Some((ty, obj)) => Some(self.em.event(ty, obj)),
                None => None,
            };
        }
        own.map(|ty| self.em.live_event(ty, ev))
    }
}

impl Stream for Streaming {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_line(cx).map(|line| line.map(Ok))
    }
}

/// What the store can select for a watch by key alone, so that other objects' commits do not wake
/// it: the request's namespace (of a namespaced resource) and a `metadata.name=` field selector.
/// The stream still applies every selector itself.
fn store_filter(ctx: &Ctx, sel: &Selectors) -> store::WatchFilter {
    let name = sel
        .fields
        .requirements
        .iter()
        .find(|r| r.field == "metadata.name" && r.op == apimachinery::fields::FieldOp::Equals)
        .map(|r| r.value.clone());
    store::WatchFilter {
        namespace: ctx.namespace.clone().filter(|_| ctx.info.namespaced()),
        name,
    }
}

/// The ERROR event's Status for a watch that cannot go on.
fn watch_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Expired { requested, oldest } => {
            apimachinery::ApiError::too_old_resource_version(requested, oldest)
        }
        e => ApiError::internal(e.to_string()),
    }
}

/// Serves a watch request.
pub async fn serve(ctx: Ctx) -> ApiResult<Response> {
    let sel = Selectors::parse(&ctx)?;
    let table = ctx.wants_table();
    let rv = ctx.query.resource_version.clone().filter(|s| s != "0");
    let send_initial = ctx.query.send_initial_events.unwrap_or(rv.is_none());
    let initial_end_bookmark = ctx.query.send_initial_events == Some(true);
    let mut projected = None;
    let mut ns_watch = None;
    let (initial, from): (Box<dyn Iterator<Item = Value> + Send>, u64) = if let Some(p) =
        crate::handlers::projected::projection_of(&ctx)
    {
        let from = match (send_initial, rv.as_deref()) {
            (false, Some(r)) => Some(r.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resourceVersion {r:?}: must be an integer"))
            })?),
            _ => None,
        };
        let (cursor, events, rev) =
            crate::handlers::projected::watch_start(&ctx, p, send_initial, from).await?;
        projected = Some(events);
        let from = from.unwrap_or(rev);
        let store = ctx.cluster.store.clone();
        ns_watch = blocking(move || store.watch("namespaces", from)).await.ok();
        (Box::new(cursor), from)
    } else if send_initial {
        let mut lctx_query = ctx.query.clone();
        lctx_query.limit = None;
        lctx_query.continue_token = None;
        let lctx = Ctx {
            query: lctx_query,
            ..ctx.clone()
        };
        let res = read_list(&lctx, Selectors::parse(&lctx)?, None).await?;
        (Box::new(res.items.into_iter()), res.revision)
    } else {
        let r = rv.unwrap_or_default();
        let from: u64 = r.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {r:?}: must be an integer"))
        })?;
        (Box::new(std::iter::empty()), from)
    };
    let store = ctx.cluster.store.clone();
    let resource = ctx.info.resource_key();
    // Stored objects only (a projection shows objects of other namespaces here).
    let filter = if projected.is_none() {
        store_filter(&ctx, &sel)
    } else {
        store::WatchFilter::default()
    };
    let watch = blocking(move || store.watch_filtered(&resource, from, filter)).await;
    let timeout = ctx
        .query
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let bookmarks = ctx.query.allow_watch_bookmarks;
    let namespace = ctx.namespace.clone();
    let shutdown = ctx.shutdown.clone();
    // `PartialObjectMetadataList` on a watch: kube-apiserver's per-event transform fails and it
    // sends the objects untransformed.
    let metadata = match ctx.output()? {
        apimachinery::metadata::Output::Metadata(v) => Some(v),
        _ => None,
    };
    let em = Emitter::new(ctx, table, metadata);
    let state = Streaming {
        em,
        sel,
        namespace,
        initial,
        projected,
        ns_watch,
        initial_end_bookmark: initial_end_bookmark.then_some(from),
        watch: Some(watch),
        live: None,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        tick: None,
        bookmarks,
        shutdown: Box::pin(shutdown.cancelled_owned()),
        streak: 0,
        done: false,
    };
    // The response body polls the watch itself: no task or queue between the store's per-watcher
    // channel (bounded; a watcher that falls behind catches up from the history) and the
    // connection. A client that goes away drops the body, and with it the watch.
    Ok(streaming_response(state, table))
}

/// The 200 answer of a watch whose lines come from `lines` (JSON events, or one-row Tables).
pub(crate) fn streaming_response(
    lines: impl futures::Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    table: bool,
) -> Response {
    let ct = if table {
        crate::tables::TABLE_CONTENT_TYPE
    } else {
        "application/json"
    };
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, ct)
        .header(http::header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(lines))
        .expect("valid response")
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
