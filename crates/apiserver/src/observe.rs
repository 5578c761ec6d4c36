//! The observability layer around the router: one axum middleware that, for every request,
//! - assigns a request id (the client's `X-Request-Id` when it is a sane token, else a new UUID),
//!   echoes it in the response and puts it on the request for the handlers;
//! - runs the request inside a `request` tracing span with `request_id`, `method`, `path`,
//!   `cluster`, `verb`, and, once answered, `code` and `latency_ms`, so every event a handler logs
//!   carries them; the finished request is one DEBUG event (WARN for a 5xx answer), so nothing is
//!   logged per request at the default level;
//! - records `apiserver_request_total` and `apiserver_request_duration_seconds` and keeps a watch
//!   counted in `apiserver_longrunning_requests` until its stream ends (see [`crate::metrics`]).
//!
//! It also serves `/metrics` (also as `/kubernetes/<cluster>/metrics`, bearer token required), because the scrape needs the
//! registry and every cluster's store. It must not touch request or response bodies beyond
//! wrapping a watch stream for its gauge.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::Shared;
use crate::error::ApiError;
use crate::metrics::{RequestInfo, StoreFigures, classify};

/// The request id header, read and echoed.
pub const REQUEST_ID: &str = "x-request-id";

/// Longest client-supplied request id honoured.
const MAX_REQUEST_ID: usize = 128;

/// The client's request id if it is 1-128 characters of `[A-Za-z0-9._:-]` (anything else could
/// forge log lines or blow up log size), else a fresh UUID.
pub fn request_id(header: Option<&HeaderValue>) -> String {
    header
        .map(HeaderValue::as_bytes)
        .filter(|b| {
            !b.is_empty()
                && b.len() <= MAX_REQUEST_ID
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
        })
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Adds the layer (and `/metrics`) to the control plane's router.
pub fn instrument(router: axum::Router, shared: Arc<Shared>) -> axum::Router {
    router
        .route(
            "/metrics",
            axum::routing::get(serve_metrics).with_state(shared.clone()),
        )
        .route(
            "/kubernetes/{cluster}/metrics",
            axum::routing::get(serve_cluster_metrics).with_state(shared.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(shared, layer))
}

fn request_info(shared: &Shared, req: &Request) -> RequestInfo {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    classify(
        req.method(),
        req.uri().path(),
        req.uri().query(),
        content_type,
        |cluster, group, version, resource| match shared.clusters.get(cluster) {
            None => false,
            Some(_) if resource.is_empty() => true,
            Some(c) => c.catalogue().lookup(group, version, resource).is_some(),
        },
    )
}

async fn layer(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let mut info = request_info(&shared, &req);
    let id = request_id(req.headers().get(REQUEST_ID));
    let id_header = HeaderValue::from_str(&id).expect("request ids are header-safe");
    req.headers_mut().insert(REQUEST_ID, id_header.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        cluster = %info.cluster,
        verb = %info.verb,
        code = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let code = resp.status().as_u16();
    let elapsed = start.elapsed();
    info.finish(code);
    shared.metrics.observe(&info, code, elapsed);
    span.record("code", code);
    span.record("latency_ms", elapsed.as_secs_f64() * 1e3);
    if code >= 500 {
        tracing::warn!(parent: &span, "request failed");
    } else {
        tracing::debug!(parent: &span, "request done");
    }
    resp.headers_mut().insert(REQUEST_ID, id_header);
    if info.is_watch() && resp.status().is_success() {
        let guard = shared.metrics.long_running(&info);
        let (parts, body) = resp.into_parts();
        let body = body.map_frame(move |frame| {
            // Keeps the watch counted until the stream (and with it this closure) is dropped.
            let _open = &guard;
            frame
        });
        resp = Response::from_parts(parts, Body::new(body));
    }
    resp
}

/// `GET /kubernetes/<cluster>/metrics`: the same document as `/metrics` (the process's metrics,
/// every cluster labelled), so each cluster's kubeconfig can scrape it.
async fn serve_cluster_metrics(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(cluster): axum::extract::Path<String>,
    req: Request,
) -> Response {
    if !shared.clusters.contains_key(&cluster) {
        return crate::error::error_response(&ApiError::UnknownResource);
    }
    serve_metrics(State(shared), req).await
}

/// `GET /metrics`: the registry in OpenMetrics text, store figures as of now.
async fn serve_metrics(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let auth = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if !crate::auth::check_bearer(auth, shared.identity.admin_token()) {
        return crate::error::error_response(&ApiError::unauthorized());
    }
    let figures: Vec<(String, StoreFigures)> = shared
        .clusters
        .values()
        .map(|c| {
            let figures = StoreFigures {
                revision: c.store.revision(),
                size_bytes: c.store.size_bytes(),
                watchers: c.store.watcher_count(),
            };
            (c.name.clone(), figures)
        })
        .collect();
    let text = shared
        .metrics
        .render(figures.iter().map(|(n, f)| (n.as_str(), f.clone())));
    (
        [(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_client_request_id_is_kept() {
        let h = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(request_id(Some(&h)), "abc-123_x.y:z");
    }

    #[test]
    fn a_forged_or_oversized_request_id_is_replaced() {
        for bad in ["", "a b", "x\"}{injected", &"a".repeat(129)] {
            let h = HeaderValue::from_str(bad).unwrap();
            let id = request_id(Some(&h));
            assert_ne!(id, bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
        assert!(uuid::Uuid::parse_str(&request_id(None)).is_ok());
    }
}
