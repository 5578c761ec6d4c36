//! Routing: one axum fallback handler parses the path itself (cluster prefix, then kube-apiserver's
//! URL grammar, see [`path`]), authenticates and authorizes (see `crate::auth`), limits the body size, and hands the request
//! to the handler for its endpoint.

pub mod path;
pub mod query;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Shared;
use crate::error::ApiError;

/// Largest request body accepted (as kube-apiserver: 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// The Kubernetes version reported by `/version` (kubectl's dispatcher picks kubectl 1.33 by it).
pub const GIT_VERSION: &str = "v1.33.0-marketplace";

pub use crate::cluster::ClusterState;

/// The router of the whole control plane.
pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .fallback(dispatch)
        .with_state(shared)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::error::panic_response,
        ))
}

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    match handle(shared, req).await {
        Ok(r) => r,
        Err(e) => crate::error::error_response(&e),
    }
}

async fn handle(shared: Arc<Shared>, req: Request) -> Result<Response, ApiError> {
    let full_path = req.uri().path().to_string();
    if let Some(mounted) = shared.mounted(&full_path) {
        use tower::ServiceExt;
        return Ok(mounted.oneshot(req).await.into_response());
    }
    let (cluster_name, rest) = path::split_cluster(&full_path);
    let cluster = shared
        .clusters
        .get(cluster_name.unwrap_or(crate::GLOBAL))
        .cloned();
    let public = crate::auth::is_public_path(&full_path);
    let caller = if public {
        None
    } else {
        Some(crate::auth::authenticate(
            &shared.identity,
            cluster.as_deref(),
            req.headers(),
        )?)
    };
    let Some(cluster) = cluster else {
        return Err(ApiError::UnknownResource);
    };
    let (parts, body) = req.into_parts();
    let accept = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_get = parts.method == http::Method::GET;
    let endpoint = path::parse(rest);
    let user = match caller {
        Some(caller) => {
            let user =
                crate::auth::impersonate(&shared.identity, &cluster, caller, &parts.headers)?;
            // `system:masters` bypasses RBAC: no attributes are built for the admin.
            if !user.is_master() {
                authorize(&shared, &cluster, &user, &parts, rest, &endpoint)?;
            }
            user
        }
        None => auth::UserInfo {
            name: "system:anonymous".into(),
            groups: vec![auth::user::UNAUTHENTICATED.into()],
            ..Default::default()
        },
    };
    if !is_get && !matches!(endpoint, path::Endpoint::Resource(_)) {
        return Err(ApiError::method_not_allowed(parts.method.as_str(), rest));
    }
    match endpoint {
        path::Endpoint::Health(h) => Ok(health(&shared, &cluster, &h, rest, parts.uri.query())),
        path::Endpoint::Version => Ok(json_response(version())),
        path::Endpoint::CoreVersions => {
            let cat = cluster.catalogue();
            Ok(negotiated_discovery(
                accept.as_deref(),
                || apiresources::discovery::aggregated_core(cat.resources()),
                || apiresources::discovery::api_versions(""),
            ))
        }
        path::Endpoint::Groups => {
            let cat = cluster.catalogue();
            Ok(negotiated_discovery(
                accept.as_deref(),
                || apiresources::discovery::aggregated_groups(cat.resources()),
                || apiresources::discovery::api_group_list(cat.resources()),
            ))
        }
        path::Endpoint::Group(g) => {
            apiresources::discovery::api_group(cluster.catalogue().resources(), &g)
                .map(json_response)
                .ok_or(ApiError::UnknownResource)
        }
        path::Endpoint::ResourceList { group, version } => {
            apiresources::discovery::api_resource_list(
                cluster.catalogue().resources(),
                &group,
                &version,
            )
            .map(json_response)
            .ok_or(ApiError::UnknownResource)
        }
        path::Endpoint::OpenApiRoot => Ok(json_response(cluster.openapi().await.root())),
        path::Endpoint::OpenApiGroupVersion(gv) => cluster
            .openapi()
            .await
            .document(&gv)
            .cloned()
            .map(json_response)
            .ok_or(ApiError::UnknownResource),
        path::Endpoint::OpenApiV2 => {
            openapi_v2(
                cluster.openapi().await,
                accept.as_deref(),
                parts
                    .headers
                    .get(http::header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok()),
            )
            .await
        }
        path::Endpoint::NotFound => Err(ApiError::UnknownResource),
        path::Endpoint::Resource(rp) => {
            let query = query::Query::parse(parts.uri.query())
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let body = match axum::body::to_bytes(body, MAX_BODY).await {
                Ok(b) => b,
                Err(_) => {
                    return Err(ApiError::request_entity_too_large(MAX_BODY));
                }
            };
            crate::handlers::handle(
                cluster,
                parts.method,
                rp,
                query,
                parts.headers,
                body,
                shared.shutdown.clone(),
                crate::auth::Caller {
                    user: Arc::new(user),
                    identity: shared.identity.clone(),
                },
            )
            .await
        }
    }
}

/// Authorizes a request of a user outside `system:masters` with RBAC (403 when denied).
fn authorize(
    shared: &Shared,
    cluster: &ClusterState,
    user: &auth::UserInfo,
    parts: &http::request::Parts,
    rest: &str,
    endpoint: &path::Endpoint,
) -> Result<(), ApiError> {
    let resource = match endpoint {
        path::Endpoint::Resource(rp) => {
            let watch = query::Query::parse(parts.uri.query()).is_ok_and(|q| q.watch);
            Some((rp, watch))
        }
        _ => None,
    };
    let attrs = crate::auth::request_attributes(user, &parts.method, rest, resource);
    shared.identity.authorize(cluster, &attrs)
}

/// `/openapi/v2` as JSON or gnostic protobuf (by `Accept`), with an ETag; `If-None-Match` → 304.
/// Converted from the v3 documents once per catalogue, on the blocking pool.
pub(crate) async fn openapi_v2(
    openapi: Arc<apiresources::openapi::OpenApiV3>,
    accept: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<Response, ApiError> {
    use apiresources::openapi::v2;
    let format = v2::negotiate(accept).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "/openapi/v2 is served as application/json or {}; change the Accept header",
            v2::PROTOBUF_CONTENT_TYPE
        ))
    })?;
    let doc = tokio::task::spawn_blocking(move || openapi.v2())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let encoded = doc.encoded(format);
    let content_type = match format {
        v2::Format::Json => "application/json",
        v2::Format::Protobuf => v2::PROTOBUF_RESPONSE_CONTENT_TYPE,
    };
    let response = Response::builder()
        .header(http::header::ETAG, &encoded.etag)
        .header(http::header::VARY, "Accept");
    let response = if v2::etag_matches(if_none_match, &encoded.etag) {
        response
            .status(http::StatusCode::NOT_MODIFIED)
            .body(Body::empty())
    } else {
        response
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Body::from(encoded.bytes.clone()))
    };
    Ok(response.expect("valid response"))
}

/// The `/version` document.
pub fn version() -> serde_json::Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/healthz`, `/livez`, `/readyz` (and one check below them) of `cluster`: the store answers,
/// and for `readyz` the server is not shutting down.
fn health(
    shared: &Shared,
    cluster: &crate::cluster::ClusterState,
    endpoint: &str,
    path: &str,
    query: Option<&str>,
) -> Response {
    let checks: Vec<crate::health::Check> = crate::health::check_names(endpoint)
        .iter()
        .map(|&name| crate::health::Check {
            name,
            outcome: match name {
                "etcd" => cluster
                    .store
                    .get(&store::Key::cluster("namespaces", "default"))
                    .map(drop)
                    .map_err(|e| e.to_string()),
                "shutdown" if shared.shutdown.is_cancelled() => {
                    Err("the server is shutting down".into())
                }
                _ => Ok(()),
            },
        })
        .collect();
    let sub = path
        .trim_matches('/')
        .split_once('/')
        .map(|(_, sub)| sub)
        .filter(|s| !s.is_empty());
    let (code, body) = crate::health::answer(endpoint, sub, query, &checks);
    (
        http::StatusCode::from_u16(code).expect("a valid status code"),
        [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn text(s: &'static str) -> Response {
    (
        [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        s,
    )
        .into_response()
}

pub fn json_response(v: serde_json::Value) -> Response {
    json_response_with(http::StatusCode::OK, "application/json", &v)
}

pub fn json_response_with(
    code: http::StatusCode,
    content_type: &str,
    v: &serde_json::Value,
) -> Response {
    let body = serde_json::to_vec(v).expect("json serializes");
    Response::builder()
        .status(code)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("valid response")
}

/// `/api` and `/apis` answer in the discovery format the client's `Accept` asks for: aggregated
/// (v2, what kubectl prefers) or the legacy lists.
pub(crate) fn negotiated_discovery<A, L>(accept: Option<&str>, aggregated: A, legacy: L) -> Response
where
    A: FnOnce() -> serde_json::Value,
    L: FnOnce() -> serde_json::Value,
{
    match apiresources::discovery::negotiate(accept) {
        apiresources::discovery::DiscoveryFormat::AggregatedV2 => json_response_with(
            http::StatusCode::OK,
            apiresources::discovery::AGGREGATED_DISCOVERY_CONTENT_TYPE,
            &aggregated(),
        ),
        _ => json_response(legacy()),
    }
}
