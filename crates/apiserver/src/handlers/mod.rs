//! Resource handlers: the verbs on `/api[s]/.../<resource>[/<name>[/<subresource>]]`.
//!
//! [`Ctx`] carries what every verb needs (cluster, resolved resource, namespace, name, query,
//! headers). Reads are in [`read`], writes (create, update, patch, delete, deletecollection) in
//! [`write`], watches in `crate::watch`; copies a projection shows in other namespaces in
//! [`projected`]. Object semantics come from `apimachinery` and
//! `apiresources`; this module orders the steps and talks to the store.

pub mod body;
pub mod computed;
pub mod projected;
pub mod read;
mod special;
pub mod write;

use std::sync::Arc;

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

    /// Whether the client asked for a `meta.k8s.io/v1` Table.
    pub fn wants_table(&self) -> bool {
        self.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| {
                a.split(',')
                    .next()
                    .is_some_and(|first| first.contains("as=Table"))
            })
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
