//! Streamed lists: a list (or Table) response encoded object by object from one store snapshot
//! while it is sent, instead of collected, parsed and serialized as a whole.
//!
//! A blocking task scans the store ([`store::Store::scan`]) and writes each object into a buffer
//! that goes out in chunks of about [`CHUNK`] bytes through a channel of [`CHUNKS_QUEUED`]:
//! however long the list, the server holds a few chunks of it (a slow client slows the scan down,
//! a gone client stops it). Objects served exactly as stored — no selector to apply, and the
//! stored `kind`/`apiVersion` already the requested ones, so presenting them changes nothing —
//! are copied as their stored bytes without being parsed; all others are parsed, filtered,
//! presented and serialized one by one.
//!
//! A `PartialObjectMetadataList` is streamed the same way, each object parsed and written as its
//! `PartialObjectMetadata`.
//!
//! Errors found before the first byte (a bad continue token, a compacted revision) answer with
//! their Status as usual; a stored object that does not parse mid-way aborts the body, so the
//! client sees a broken response rather than a wrong list.

use std::borrow::Cow;
use std::io;

use apimachinery::metadata::MetaVersion;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};
use store::{ListQuery, RawObject};
use tokio::sync::{mpsc, oneshot};

use super::{Continue, Selectors, decode_continue, encode_continue};
use crate::cluster::store_error;
use crate::error::{ApiError, ApiResult};
use crate::handlers::Ctx;

/// Bytes gathered before a chunk is handed to the connection.
pub const CHUNK: usize = 64 * 1024;
/// Chunks that may wait for the connection before the scan pauses.
pub const CHUNKS_QUEUED: usize = 4;
/// Objects presented per Table batch (the printers work on slices).
const TABLE_BATCH: usize = 128;

type Chunk = Result<Bytes, io::Error>;

/// Serves an unpaged list (no `limit`) as a stream.
pub async fn serve(ctx: Ctx, sel: Selectors, mut at: Option<u64>) -> ApiResult<Response> {
    let mut start_after = None;
    if let Some(tok) = &ctx.query.continue_token {
        let c = decode_continue(tok)?;
        at = u64::try_from(c.rv).ok();
        start_after = Some((c.ns, c.name));
    }
    let resume_from = start_after.clone();
    let q = ListQuery {
        resource: ctx.info.resource_key(),
        namespace: ctx.namespace.clone(),
        start_after,
        limit: None,
    };
    let table = ctx.wants_table();
    let (tx, rx) = mpsc::channel::<Chunk>(CHUNKS_QUEUED);
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let store = ctx.cluster.store.clone();
    let enc = Encoder::new(ctx.clone(), sel, table);
    let scan = tokio::task::spawn_blocking(move || {
        // Both callbacks write into the one encoder and buffer.
        let state = std::cell::RefCell::new((enc, Sink::new(tx)));
        let mut started_tx = Some(started_tx);
        let res = store.scan(
            &q,
            at,
            |rev| {
                let (enc, sink) = &mut *state.borrow_mut();
                enc.begin(rev, &mut sink.buf);
                if let Some(s) = started_tx.take() {
                    let _ = s.send(());
                }
            },
            |o| {
                let (enc, sink) = &mut *state.borrow_mut();
                enc.object(o, sink) && sink.flush_if_full()
            },
        );
        let (mut enc, mut sink) = state.into_inner();
        let failure = match res {
            Ok(_) => enc.failed.take(),
            Err(e) if started_tx.is_none() => Some(e.to_string()),
            Err(e) => return Err(e),
        };
        match failure {
            None => {
                enc.end(&mut sink);
                sink.flush();
            }
            Some(e) => {
                let _ = sink.tx.blocking_send(Err(io::Error::other(e)));
            }
        }
        Ok(())
    });
    if started_rx.await.is_err() {
        // The scan ended before its snapshot was taken: answer with its error.
        let err = match scan.await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => store::StoreError::Aborted("the list ended before it began".into()),
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        return Err(match (err, resume_from) {
            (store::StoreError::Expired { .. }, Some((ns, name))) => ApiError::ExpiredContinue {
                continue_token: encode_continue(&Continue { rv: -1, ns, name }),
            },
            (e, _) => store_error(e, &ctx.info, ""),
        });
    }
    Ok(streamed(table, rx))
}

/// Streams a list of objects already read and selected (a projected resource's, see
/// `handlers::projected`), produced one by one by `items` on a blocking thread while the response
/// is sent, at `revision`.
pub fn serve_values(
    ctx: Ctx,
    revision: u64,
    items: impl Iterator<Item = Value> + Send + 'static,
) -> Response {
    let table = ctx.wants_table();
    let (tx, rx) = mpsc::channel::<Chunk>(CHUNKS_QUEUED);
    let sel = Selectors {
        labels: apimachinery::labels::Selector::everything(),
        fields: apimachinery::fields::FieldSelector::parse("").expect("empty selector parses"),
    };
    let mut enc = Encoder::new(ctx, sel, table);
    tokio::task::spawn_blocking(move || {
        let mut sink = Sink::new(tx);
        enc.begin(revision, &mut sink.buf);
        for v in items {
            enc.value(v, None, &mut sink);
            if !sink.flush_if_full() {
                return;
            }
        }
        enc.end(&mut sink);
        sink.flush();
    });
    streamed(table, rx)
}

/// The 200 response whose body is the chunks `rx` delivers: a Table or a List.
fn streamed(table: bool, rx: mpsc::Receiver<Chunk>) -> Response {
    let content_type = if table {
        crate::tables::TABLE_CONTENT_TYPE
    } else {
        "application/json"
    };
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(body))
        .expect("valid response")
}

/// The pending bytes of a streamed response and the channel they leave through.
struct Sink {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl Sink {
    fn new(tx: mpsc::Sender<Chunk>) -> Sink {
        Sink {
            buf: Vec::with_capacity(CHUNK + CHUNK / 4),
            tx,
        }
    }

    /// Sends the buffer once it holds a chunk; `false` when the client is gone.
    fn flush_if_full(&mut self) -> bool {
        self.buf.len() < CHUNK || self.flush()
    }

    fn flush(&mut self) -> bool {
        let bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + CHUNK / 4));
        self.tx.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    }
}

/// `kind` and `apiVersion` of a stored object, read without building the document.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
}

/// Writes one list response: the envelope, then each object as the scan hands it over.
struct Encoder {
    ctx: Ctx,
    sel: Selectors,
    /// No selector: every object is served.
    everything: bool,
    api_version: String,
    table: Option<TableRows>,
    /// Objects are written as `PartialObjectMetadata` of this version (a
    /// `PartialObjectMetadataList`, whose `items` is `null` when empty).
    metadata: Option<MetaVersion>,
    /// Items (or rows) written so far.
    written: usize,
    /// A stored object that did not parse (the stream is aborted with this).
    failed: Option<String>,
}

/// A Table response's pending objects (the printers build rows from slices).
struct TableRows {
    batch: Vec<Value>,
    revision: String,
}

impl Encoder {
    fn new(ctx: Ctx, sel: Selectors, table: bool) -> Encoder {
        let everything = ctx.query.label_selector.is_none() && ctx.query.field_selector.is_none();
        let metadata = if table { None } else { ctx.wants_metadata() };
        Encoder {
            metadata,
            api_version: ctx.info.api_version(),
            ctx,
            sel,
            everything,
            table: table.then(|| TableRows {
                batch: Vec::new(),
                revision: String::new(),
            }),
            written: 0,
            failed: None,
        }
    }

    /// The envelope up to the opening of `items` (or `rows`).
    fn begin(&mut self, revision: u64, out: &mut Vec<u8>) {
        let rv = revision.to_string();
        match &mut self.table {
            Some(t) => {
                let head = crate::tables::table::<Value>(
                    &self.ctx.info,
                    &[],
                    self.ctx.query.include_object.as_deref(),
                    &rv,
                    "",
                );
                let mut head: Map<String, Value> = match head {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                head.remove("rows");
                open_array(out, &Value::Object(head), "rows");
                t.revision = rv;
            }
            None => match self.metadata {
                Some(v) => {
                    let head = serde_json::json!({
                        "kind": "PartialObjectMetadataList",
                        "apiVersion": v.api_version(),
                        "metadata": {"resourceVersion": rv},
                    });
                    // `[` comes with the first item (`separator`), `null` when there is none.
                    open_array(out, &head, "items");
                    out.pop();
                }
                None => {
                    let head = serde_json::json!({
                        "kind": self.ctx.info.list_kind,
                        "apiVersion": self.api_version,
                        "metadata": {"resourceVersion": rv},
                    });
                    open_array(out, &head, "items");
                }
            },
        }
    }

    /// Whether the stored document is what the client gets (presenting it changes nothing).
    fn served_as_stored(&self, kind: Option<&str>, api_version: Option<&str>) -> bool {
        kind == Some(self.ctx.info.kind.as_str()) && api_version == Some(self.api_version.as_str())
    }

    /// Writes one object (if it is kept); `false` when it does not parse (see `failed`).
    fn object(&mut self, o: RawObject<'_>, sink: &mut Sink) -> bool {
        if self.table.is_none()
            && self.metadata.is_none()
            && self.everything
            && let Ok(h) = serde_json::from_str::<Head<'_>>(o.json)
            && self.served_as_stored(h.kind.as_deref(), h.api_version.as_deref())
        {
            self.separator(&mut sink.buf);
            sink.buf.extend_from_slice(o.json.as_bytes());
            return true;
        }
        let value: Value = match serde_json::from_str(o.json) {
            Ok(v) => v,
            Err(e) => {
                self.failed = Some(format!(
                    "stored object {}/{} of {} does not parse: {e}",
                    o.namespace,
                    o.name,
                    self.ctx.info.resource_key()
                ));
                return false;
            }
        };
        if !self.sel.matches(&value) {
            return true;
        }
        self.value(value, Some(o.json), sink);
        true
    }

    /// Writes one kept object (`stored`: its stored text, reused when it is served as stored).
    fn value(&mut self, value: Value, stored: Option<&str>, sink: &mut Sink) {
        if self.table.is_some() {
            let presented = self.ctx.present(value);
            let t = self.table.as_mut().expect("table");
            t.batch.push(presented);
            if t.batch.len() >= TABLE_BATCH {
                self.flush_rows(&mut sink.buf);
            }
            return;
        }
        self.separator(&mut sink.buf);
        if let Some(v) = self.metadata {
            apimachinery::metadata::write_partial_object_metadata(&mut sink.buf, &value, v);
            return;
        }
        let as_stored = self.served_as_stored(
            value.get("kind").and_then(Value::as_str),
            value.get("apiVersion").and_then(Value::as_str),
        );
        match stored {
            Some(json) if as_stored => sink.buf.extend_from_slice(json.as_bytes()),
            _ if as_stored => {
                serde_json::to_writer(&mut sink.buf, &value).expect("a JSON value serializes")
            }
            _ => serde_json::to_writer(&mut sink.buf, &self.ctx.present(value))
                .expect("a JSON value serializes"),
        }
    }

    /// Writes the rows of the pending Table batch.
    fn flush_rows(&mut self, out: &mut Vec<u8>) {
        let Some(t) = self.table.as_mut() else {
            return;
        };
        if t.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut t.batch);
        let mut table = crate::tables::table(
            &self.ctx.info,
            &batch,
            self.ctx.query.include_object.as_deref(),
            &t.revision,
            "",
        );
        let rows = match table.get_mut("rows").map(Value::take) {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        };
        for row in rows {
            self.separator(out);
            serde_json::to_writer(&mut *out, &row).expect("a JSON value serializes");
        }
    }

    fn separator(&mut self, out: &mut Vec<u8>) {
        if self.written > 0 {
            out.push(b',');
        } else if self.metadata.is_some() {
            out.push(b'[');
        }
        self.written += 1;
    }

    /// Closes the array and the envelope.
    fn end(&mut self, sink: &mut Sink) {
        self.flush_rows(&mut sink.buf);
        if self.metadata.is_some() && self.written == 0 {
            sink.buf.extend_from_slice(b"null}");
        } else {
            sink.buf.extend_from_slice(b"]}");
        }
    }
}

/// Writes `head` (a JSON object) without its closing brace, then `,"<key>":[`.
fn open_array(out: &mut Vec<u8>, head: &Value, key: &str) {
    let start = out.len();
    serde_json::to_writer(&mut *out, head).expect("a JSON value serializes");
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    if out.len() > start + 1 {
        out.push(b',');
    }
    serde_json::to_writer(&mut *out, key).expect("a string serializes");
    out.extend_from_slice(b":[");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_array_continues_an_object_with_the_array_key() {
        let mut out = Vec::new();
        open_array(&mut out, &serde_json::json!({"kind": "L"}), "items");
        out.extend_from_slice(b"1,2]}");
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::json!({"kind": "L", "items": [1, 2]}));
        let mut out = Vec::new();
        open_array(&mut out, &serde_json::json!({}), "rows");
        out.extend_from_slice(b"]}");
        assert_eq!(out, br#"{"rows":[]}"#);
    }
}
