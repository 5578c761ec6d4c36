//! Resource handlers: the verbs on `/api[s]/.../<resource>[/<name>[/<subresource>]]`.
//!
//! [`Ctx`] carries what every verb needs (cluster, resolved resource, namespace, name, query,
//! headers). Reads are in [`read`], writes (create, update, patch, delete, deletecollection) in
//! [`write`](mod@write), watches in `crate::watch`; copies a projection shows in other namespaces in
//! [`projected`]. Object semantics come from `apimachinery` and
//! `apiresources`; this module orders the steps and talks to the store.

pub mod body;
pub mod computed;
pub mod projected;
pub mod read;
mod special;
pub mod write;

use std::sync::Arc;

use apimachinery::metadata::{MetaVersion, Output, negotiate};
use apiresources::ResourceInfo;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;
use store::Key;
use tokio_util::sync::CancellationToken;

use crate::cluster::ClusterState;
use crate::error::{ApiError, ApiResult};
use crate::routes::path::ResourcePath;
use crate::routes::query::Query;

/// Everything a resource verb needs (cheap to clone: the cluster is shared).
#[derive(Clone)]
pub struct Ctx {
    pub cluster: Arc<ClusterState>,
    /// The resource at the requested version.
    pub info: ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    pub query: Query,
    pub headers: HeaderMap,
    pub shutdown: CancellationToken,
    /// Who the request acts as, and the server's identity services (review APIs, TokenRequest).
    pub caller: crate::auth::Caller,
}

impl Ctx {
    pub fn key(&self, name: &str) -> Key {
        Key::new(
            self.info.resource_key(),
            self.namespace.clone().unwrap_or_default(),
            name,
        )
    }

    /// What the client's `Accept` asks the read to answer with (406 for a conversion the server
    /// does not make); see `apimachinery::metadata`.
    pub fn output(&self) -> ApiResult<Output> {
        negotiate(
            self.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        )
    }

    /// Whether the client asked for a `meta.k8s.io` Table.
    pub fn wants_table(&self) -> bool {
        matches!(self.output(), Ok(Output::Table))
    }

    /// The `meta.k8s.io` version objects are shown in as `PartialObjectMetadata`, when asked.
    pub fn wants_metadata(&self) -> Option<MetaVersion> {
        self.output().ok().and_then(Output::metadata_version)
    }

    /// The Go type kube-apiserver names for this resource's objects (or lists) in a 406.
    pub fn go_type(&self, list: bool) -> String {
        apimachinery::metadata::go_type(
            &self.info.group,
            &self.info.kind,
            self.info.is_builtin(),
            list,
        )
    }

    /// Converts a stored object to the requested version (built-ins through
    /// `apiresources::conversion`; CRDs have conversion strategy `None`).
    pub fn present(&self, obj: Value) -> Value {
        let mut obj = apiresources::conversion::convert(obj, &self.info.api_version());
        if let Some(m) = obj.as_object_mut() {
            m.insert("kind".into(), Value::String(self.info.kind.clone()));
        }
        obj
    }

    pub fn is_crd(&self) -> bool {
        self.info.group == "apiextensions.k8s.io" && self.info.plural == "customresourcedefinitions"
    }

    pub fn is_namespace(&self) -> bool {
        self.info.group.is_empty() && self.info.plural == "namespaces"
    }
}

/// Dispatches a resource request.
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    cluster: Arc<ClusterState>,
    method: Method,
    p: ResourcePath,
    query: Query,
    headers: HeaderMap,
    body: Bytes,
    shutdown: CancellationToken,
    caller: crate::auth::Caller,
) -> ApiResult<Response> {
    let catalogue = cluster.catalogue();
    let Some(info) = catalogue.lookup(&p.group, &p.version, &p.resource).cloned() else {
        return Err(ApiError::UnknownResource);
    };
    if !info.namespaced() && p.namespace.is_some() {
        return Err(ApiError::UnknownResource);
    }
    match p.subresource.as_deref() {
        None => {}
        Some("status") if info.subresources.status => {}
        Some("finalize") if info.group.is_empty() && info.plural == "namespaces" => {}
        Some("scale") if info.subresources.scale.is_some() => {}
        Some(action) if info.subresources.actions.iter().any(|a| a == action) => {}
        Some(_) => return Err(ApiError::UnknownResource),
    }
    let ctx = Ctx {
        cluster,
        info,
        namespace: p.namespace,
        name: p.name,
        subresource: p.subresource,
        query,
        headers,
        shutdown,
        caller,
    };
    // What the client accepts: a list or watch (of stored, projected or computed objects) makes
    // the PartialObjectMetadata forms itself; any other answer is converted here.
    let output = ctx.output()?;
    let collection = method == Method::GET && (ctx.name.is_none() || ctx.query.watch);
    if let Some(v) = output.metadata_version()
        && !collection
    {
        let go_type = ctx.go_type(false);
        let res = Box::pin(dispatch(ctx, method, body)).await?;
        return as_partial_object_metadata(res, output, v, &go_type).await;
    }
    dispatch(ctx, method, body).await
}

/// Converts a successful single-object answer to its `PartialObjectMetadata` form (a Status
/// passes as it is), or answers 406 for `PartialObjectMetadataList`, as kube-apiserver's
/// `transformResponseObject` does after the verb ran.
async fn as_partial_object_metadata(
    res: Response,
    output: Output,
    version: MetaVersion,
    go_type: &str,
) -> ApiResult<Response> {
    if !res.status().is_success() {
        return Ok(res);
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::internal(format!("reading the response to convert: {e}")))?;
    let obj: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return Ok(Response::from_parts(parts, axum::body::Body::from(bytes))),
    };
    if obj.get("kind").and_then(Value::as_str) == Some("Status") {
        return Ok(Response::from_parts(parts, axum::body::Body::from(bytes)));
    }
    output.check_get(go_type)?;
    let partial = apimachinery::metadata::into_partial_object_metadata(obj, version);
    let mut res = crate::routes::json_response_with(parts.status, "application/json", &partial);
    for (k, v) in parts.headers.iter() {
        if k != http::header::CONTENT_TYPE && k != http::header::CONTENT_LENGTH {
            res.headers_mut().insert(k.clone(), v.clone());
        }
    }
    Ok(res)
}

/// Sends a resource request to its verb.
async fn dispatch(ctx: Ctx, method: Method, body: Bytes) -> ApiResult<Response> {
    if ctx.info.origin == apiresources::Origin::Computed {
        return computed::dispatch(ctx, &method).await;
    }
    if special::handles(&ctx) {
        return special::handle(ctx, method, body).await;
    }
    let verb_allowed = |v: &str| -> ApiResult<()> {
        if ctx.info.has_verb(v)
            || (ctx.subresource.is_some() && matches!(v, "get" | "update" | "patch"))
        {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(v, &ctx.info.group_resource()))
        }
    };
    match (&method, ctx.name.is_some()) {
        (&Method::GET, false) if ctx.query.watch => {
            verb_allowed("watch")?;
            crate::watch::serve(ctx).await
        }
        (&Method::GET, false) => {
            verb_allowed("list")?;
            read::list(ctx).await
        }
        (&Method::GET, true) if ctx.query.watch => {
            verb_allowed("watch")?;
            let mut ctx = ctx;
            let name = ctx.name.take().unwrap_or_default();
            ctx.query.field_selector = Some(match ctx.query.field_selector.take() {
                Some(f) => format!("{f},metadata.name={name}"),
                None => format!("metadata.name={name}"),
            });
            crate::watch::serve(ctx).await
        }
        (&Method::GET, true) => {
            verb_allowed("get")?;
            read::get(ctx).await
        }
        (&Method::POST, false) => {
            verb_allowed("create")?;
            write::create(ctx, body).await
        }
        (&Method::PUT, true) => {
            verb_allowed("update")?;
            projected::refuse_write_to_copy(&ctx, "update").await?;
            write::update(ctx, body).await
        }
        (&Method::PATCH, true) => {
            verb_allowed("patch")?;
            projected::refuse_write_to_copy(&ctx, "patch").await?;
            write::patch(ctx, body).await
        }
        (&Method::DELETE, true) if ctx.subresource.is_none() => {
            verb_allowed("delete")?;
            projected::refuse_write_to_copy(&ctx, "delete").await?;
            write::delete(ctx, body).await
        }
        (&Method::DELETE, false) => {
            verb_allowed("deletecollection")?;
            write::delete_collection(ctx, body).await
        }
        (m, _) => Err(ApiError::method_not_allowed(
            m.as_str(),
            &ctx.info.group_resource(),
        )),
    }
}
