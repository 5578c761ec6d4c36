//! Computed (read-only) resources: objects a provider (`computed::Provider`) computes in memory,
//! served like stored ones for reads.
//!
//! - Registration: [`register`] (`ControlPlane::register_computed`) adds the provider's resource
//!   to a cluster's catalogue (`Origin::Computed`, verbs get/list/watch), so discovery (v1 and
//!   aggregated v2), OpenAPI v2/v3 (`kubectl explain`) and routing pick it up like a CRD's, and
//!   starts a task that refreshes the provider's `computed::Tracker` when its change feed moves.
//! - Requests: [`serve`] answers get, list and watch from the tracker's versioned snapshot
//!   (label selectors, `metadata.name`/`metadata.namespace` field selectors, `meta.k8s.io/v1`
//!   Tables with the provider's printer columns, `PartialObjectMetadata[List]` and 406 as
//!   kube-apiserver negotiates them, watch resume by resourceVersion, bookmarks,
//!   `sendInitialEvents`); every write answers 405 MethodNotAllowed with a Status.
//! - Real clusters: [`serve_aggregated`] serves the same providers as a standalone HTTPS server
//!   behind an APIService (`/apis`, `/apis/<g>`, `/apis/<g>/<v>`, the resources, `/openapi/v2|v3`,
//!   `/healthz`); [`aggregated_manifests`] prints the APIService and Service for it.
//!
//! Stored resources never come here: this module only reads trackers.

pub mod aggregated;

pub use aggregated::{AggregatedServer, Placement, aggregated_manifests, serve_aggregated};

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use apimachinery::metadata::{MetaVersion, Output};
use apiresources::{Origin, PrinterColumn, ResourceInfo, Scope, Subresources};
use axum::response::Response;
use bytes::Bytes;
use computed::{ChangeKind, ProviderError, ResourceDescription, Tracker, WatchError};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::{ApiError, ApiResult};
use crate::routes::json_response_with;
use crate::routes::query::Query;

/// Why a computed resource could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("no cluster named {0:?}; pick one of the served clusters")]
    UnknownCluster(String),
    #[error("cannot serve computed resource: {0}")]
    Provider(#[from] ProviderError),
    #[error("cannot serve computed resource: {0}")]
    Conflict(String),
}

/// The verbs of computed resources.
pub const VERBS: [&str; 3] = ["get", "list", "watch"];

/// The catalogue entry of a provider's resource.
pub fn resource_info(d: &ResourceDescription) -> ResourceInfo {
    let strings = |v: &[String]| v.to_vec();
    ResourceInfo {
        group: d.group.clone(),
        version: d.version.clone(),
        kind: d.kind.clone(),
        list_kind: format!("{}List", d.kind),
        plural: d.plural.clone(),
        singular: d.singular.clone(),
        scope: match d.scope {
            computed::Scope::Namespaced => Scope::Namespaced,
            computed::Scope::Cluster => Scope::Cluster,
        },
        verbs: VERBS.iter().map(|v| v.to_string()).collect(),
        short_names: strings(&d.short_names),
        categories: strings(&d.categories),
        subresources: Subresources::default(),
        served: true,
        storage: true,
        printer_columns: d
            .printer_columns
            .iter()
            .map(|c| PrinterColumn {
                name: c.name.clone(),
                type_: c.type_.clone(),
                format: String::new(),
                description: c.description.clone(),
                priority: c.priority,
                json_path: Some(c.json_path.clone()),
            })
            .collect(),
        schema: Some(d.schema.clone()),
        deprecation_warning: None,
        origin: Origin::Computed,
    }
}

/// Serves `provider`'s resource in `cluster` from now on.
pub fn register(
    cluster: &Arc<crate::cluster::ClusterState>,
    provider: Arc<dyn computed::Provider>,
) -> Result<Arc<Tracker>, RegisterError> {
    let tracker = Tracker::new(provider)?;
    let info = resource_info(tracker.description());
    cluster
        .add_computed(info, tracker.clone())
        .map_err(RegisterError::Conflict)?;
    cluster.spawn(tracker.clone().follow(cluster.shutdown.clone()));
    Ok(tracker)
}

/// One request for a computed resource.
pub struct Request {
    pub info: ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub query: Query,
    pub headers: HeaderMap,
    pub shutdown: CancellationToken,
}

impl Request {
    /// What the `Accept` header asks for (see `apimachinery::metadata`).
    fn output(&self) -> ApiResult<Output> {
        apimachinery::metadata::negotiate(
            self.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        )
    }

    /// The Go type kube-apiserver would name in a 406 (an aggregated server's objects are
    /// decoded as unstructured).
    fn go_type(&self, list: bool) -> String {
        apimachinery::metadata::go_type(&self.info.group, &self.info.kind, false, list)
    }

    fn selectors(&self) -> ApiResult<(Selector, FieldSelector)> {
        let labels = match &self.query.label_selector {
            Some(s) => Selector::parse(s).map_err(|e| {
                ApiError::bad_request(format!("unable to parse requirement: {}", e.0))
            })?,
            None => Selector::everything(),
        };
        let fields = FieldSelector::parse(self.query.field_selector.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        fields
            .check_supported("")
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok((labels, fields))
    }

    fn table<V: std::borrow::Borrow<Value>>(&self, objects: &[V], rv: &str) -> Value {
        crate::tables::table(
            &self.info,
            objects,
            self.query.include_object.as_deref(),
            rv,
            "",
        )
    }
}

fn provider_error(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Unavailable(m) => ApiError::Other {
            code: 503,
            reason: "ServiceUnavailable".into(),
            message: m,
            causes: Vec::new(),
        },
        ProviderError::Invalid(m) => ApiError::internal(m),
    }
}

/// The verb a write method asks for (for the 405 message).
fn write_verb(method: &Method, named: bool) -> &'static str {
    match (method.as_str(), named) {
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "",
    }
}

/// Answers one request for a computed resource.
pub async fn serve(tracker: Arc<Tracker>, req: Request, method: &Method) -> ApiResult<Response> {
    if method != Method::GET {
        let verb = write_verb(method, req.name.is_some());
        let verb = if verb.is_empty() {
            method.as_str()
        } else {
            verb
        };
        return Err(ApiError::method_not_allowed(
            verb,
            &req.info.group_resource(),
        ));
    }
    match (&req.name, req.query.watch) {
        (_, true) => watch(tracker, req),
        (Some(_), false) => get(&tracker, &req),
        (None, false) => list(&tracker, &req),
    }
}

/// The Table when one was asked for, else the object.
fn ok(table: Option<Value>, obj: Value) -> Response {
    match table {
        Some(t) => json_response_with(StatusCode::OK, crate::tables::TABLE_CONTENT_TYPE, &t),
        None => json_response_with(StatusCode::OK, "application/json", &obj),
    }
}

fn get(tracker: &Tracker, req: &Request) -> ApiResult<Response> {
    let name = req.name.as_deref().unwrap_or_default();
    let obj = tracker
        .get(req.namespace.as_deref(), name)
        .map_err(provider_error)?
        .ok_or_else(|| ApiError::not_found(&req.info.group, &req.info.plural, name))?;
    let output = req.output()?.check_get(&req.go_type(false))?;
    if let Some(v) = output.metadata_version() {
        let partial = apimachinery::metadata::partial_object_metadata(&obj, v);
        return Ok(json_response_with(
            StatusCode::OK,
            "application/json",
            &partial,
        ));
    }
    let table = (output == Output::Table).then(|| {
        let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or("");
        req.table(std::slice::from_ref(&obj), rv)
    });
    Ok(ok(table, obj))
}

fn list(tracker: &Tracker, req: &Request) -> ApiResult<Response> {
    let output = req.output()?.check_list(&req.go_type(true))?;
    let (labels, fields) = req.selectors()?;
    let snap = tracker
        .snapshot(req.namespace.as_deref())
        .map_err(provider_error)?;
    // The snapshot's objects are shared with the tracker: filtered, tabled and serialized by
    // reference, never copied.
    let items: Vec<&Value> = snap
        .objects
        .iter()
        .map(|o| o.as_ref())
        .filter(|o| labels.matches_object(o) && fields.matches(o))
        .collect();
    let rv = snap.revision.to_string();
    if let Some(v) = output.metadata_version() {
        let items = items
            .iter()
            .map(|o| apimachinery::metadata::partial_object_metadata(o, v))
            .collect();
        let list = apimachinery::metadata::partial_object_metadata_list(items, &rv, None, v);
        return Ok(json_response_with(
            StatusCode::OK,
            "application/json",
            &list,
        ));
    }
    if output == Output::Table {
        let t = req.table(&items, &rv);
        return Ok(json_response_with(
            StatusCode::OK,
            crate::tables::TABLE_CONTENT_TYPE,
            &t,
        ));
    }
    #[derive(serde::Serialize)]
    struct List<'a> {
        kind: &'a str,
        #[serde(rename = "apiVersion")]
        api_version: String,
        metadata: Value,
        items: Vec<&'a Value>,
    }
    let body = serde_json::to_vec(&List {
        kind: &req.info.list_kind,
        api_version: req.info.api_version(),
        metadata: json!({"resourceVersion": rv}),
        items,
    })
    .expect("a list serializes");
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body))
        .expect("valid response"))
}

/// Interval of periodic bookmarks (as the stored resources' watches).
const BOOKMARK_EVERY: Duration = crate::watch::BOOKMARK_EVERY;

/// Turns objects and changes into watch-event lines.
struct Emitter {
    req: Request,
    /// The resource's description: which namespaces' objects show in every namespace.
    desc: computed::ResourceDescription,
    table: bool,
    /// Event objects (bookmarks too) as `PartialObjectMetadata` of this version.
    metadata: Option<MetaVersion>,
    labels: Selector,
    fields: FieldSelector,
}

impl Emitter {
    /// `obj` as this watch shows it (rewritten into the watched namespace when it lives in a
    /// global one), when it is in the watched namespace and matches the selectors.
    fn shown<'a>(&self, obj: &'a Value) -> Option<Cow<'a, Value>> {
        let v = self.desc.view(obj, self.req.namespace.as_deref())?;
        (self.labels.matches_object(&v) && self.fields.matches(&v)).then_some(v)
    }

    fn line(v: &Value) -> Bytes {
        let mut b = serde_json::to_vec(v).expect("event serializes");
        b.push(b'\n');
        Bytes::from(b)
    }

    fn event(&self, ty: &str, obj: &Value) -> Bytes {
        let object = if let Some(v) = self.metadata {
            apimachinery::metadata::partial_object_metadata(obj, v)
        } else if self.table {
            let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or("");
            self.req.table(std::slice::from_ref(obj), rv)
        } else {
            obj.clone()
        };
        Self::line(&json!({"type": ty, "object": object}))
    }

    /// The event a change shows as through the selectors, if any.
    fn change(&self, c: &computed::Change) -> Option<Bytes> {
        let kind = match c.kind {
            ChangeKind::Added => store::EventKind::Added,
            ChangeKind::Modified => store::EventKind::Modified,
            ChangeKind::Deleted => store::EventKind::Deleted,
        };
        let now = self.shown(&c.object);
        let before = c.prev.as_ref().map(|p| self.shown(p).is_some());
        let ty = crate::watch::event_type(kind, now.is_some(), before)?;
        // An object leaving the selection is still shown as it appears in this namespace.
        let obj = now
            .or_else(|| self.desc.view(&c.object, self.req.namespace.as_deref()))
            .unwrap_or(Cow::Borrowed(c.object.as_ref()));
        Some(self.event(ty, &obj))
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
            None => (self.req.info.kind.clone(), self.req.info.api_version()),
        };
        Self::line(&json!({"type": "BOOKMARK", "object": {
            "kind": kind, "apiVersion": api_version, "metadata": meta,
        }}))
    }

    fn error(e: &ApiError) -> Bytes {
        Self::line(&json!({"type": "ERROR", "object": e.to_status()}))
    }
}

fn watch(tracker: Arc<Tracker>, mut req: Request) -> ApiResult<Response> {
    if let Some(name) = req.name.take() {
        req.query.field_selector = Some(match req.query.field_selector.take() {
            Some(f) => format!("{f},metadata.name={name}"),
            None => format!("metadata.name={name}"),
        });
    }
    let (labels, fields) = req.selectors()?;
    let rv = req.query.resource_version.clone().filter(|s| s != "0");
    let send_initial = req.query.send_initial_events.unwrap_or(rv.is_none());
    let initial_end = req.query.send_initial_events == Some(true);
    let from = match (&rv, send_initial) {
        (_, true) | (None, _) => None,
        (Some(r), false) => Some(r.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {r:?}: must be an integer"))
        })?),
    };
    let timeout = req
        .query
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(crate::watch::DEFAULT_TIMEOUT);
    let bookmarks = req.query.allow_watch_bookmarks;
    let shutdown = req.shutdown.clone();
    let output = req.output()?;
    let table = output == Output::Table;
    let metadata = match output {
        Output::Metadata(v) => Some(v),
        _ => None,
    };
    let start = tracker.watch(from);
    let em = Emitter {
        req,
        desc: tracker.description().clone(),
        table,
        metadata,
        labels,
        fields,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        let start = match start {
            Ok(s) => s,
            Err(WatchError::Expired { requested, oldest }) => {
                let e = apimachinery::ApiError::too_old_resource_version(requested, oldest);
                let _ = tx.send(Emitter::error(&e)).await;
                return;
            }
            Err(WatchError::Provider(e)) => {
                let _ = tx.send(Emitter::error(&provider_error(e))).await;
                return;
            }
        };
        let mut lines: Vec<Bytes> = start
            .initial
            .iter()
            .filter_map(|o| em.shown(o))
            .map(|o| em.event("ADDED", &o))
            .collect();
        if initial_end {
            lines.push(em.bookmark(start.revision, true));
        }
        lines.extend(start.backlog.iter().filter_map(|c| em.change(c)));
        for l in lines {
            if tx.send(l).await.is_err() {
                return;
            }
        }
        follow(
            em,
            start.revision,
            start.live,
            tx,
            timeout,
            bookmarks,
            shutdown,
        )
        .await;
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Ok(crate::watch::streaming_response(stream, table))
}

/// Streams live changes until the client leaves, the timeout, or shutdown.
async fn follow(
    em: Emitter,
    mut last: u64,
    mut live: broadcast::Receiver<Arc<computed::Change>>,
    tx: mpsc::Sender<Bytes>,
    timeout: Duration,
    bookmarks: bool,
    shutdown: CancellationToken,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    loop {
        let line = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tx.closed() => return,
            _ = tick.tick(), if bookmarks => Some(em.bookmark(last, false)),
            c = live.recv() => match c {
                Ok(c) if c.revision <= last => None,
                Ok(c) => {
                    last = c.revision;
                    em.change(&c)
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // This watcher fell behind the fan-out: the client resumes or relists on 410.
                    let e = apimachinery::ApiError::too_old_resource_version(last, last + 1);
                    let _ = tx.send(Emitter::error(&e)).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        if let Some(l) = line
            && tx.send(l).await.is_err()
        {
            return;
        }
    }
}

/// The embedded control plane's hook: a request whose resource is `Origin::Computed`.
pub async fn dispatch(ctx: super::Ctx, method: &Method) -> ApiResult<Response> {
    let Some(tracker) = ctx.cluster.computed(&ctx.info.resource_key()) else {
        return Err(ApiError::UnknownResource);
    };
    let req = Request {
        info: ctx.info,
        namespace: ctx.namespace,
        name: ctx.name,
        query: ctx.query,
        headers: ctx.headers,
        shutdown: ctx.shutdown,
    };
    serve(tracker, req, method).await
}
