//! Resources and subresources that are not plain stored objects:
//!
//! - `/scale` of workloads and CRDs with a scale subresource (autoscaling/v1 `Scale`), what
//!   `kubectl scale` reads and patches; writes become a patch of the owner's replicas path, so they
//!   go through the same write path (resourceVersion, generation, managedFields) as any update;
//! - `pods/<name>/binding` and `bindings` (assign a pod to a node, once);
//! - `pods/<name>/eviction` (delete a pod unless a PodDisruptionBudget forbids it: 429);
//! - `pods/<name>/log`: no container of these clusters runs (the simulator stands in for the
//!   kubelet), so a started container's log is empty; one that has not started is refused with
//!   the kubelet's 400 saying why it waits (what `kubectl logs` prints); `exec`, `attach` and
//!   `portforward` are refused with a 400 saying so (a 404 read as a missing Pod);
//! - `certificatesigningrequests/<name>/approval` (the CSR's conditions, as a status write);
//! - the review APIs (TokenReview, SelfSubjectReview, [Self|Local]SubjectAccessReview,
//!   SelfSubjectRulesReview): answered from the request, never stored;
//! - `componentstatuses`: the health of the control plane's parts, computed.
//!
//! - `serviceaccounts/<name>/token` (TokenRequest, `kubectl create token`): a signed JWT.
//!
//! The reviews answer for the request's caller (after impersonation) or the subject named in the
//! review, through the same authenticator and RBAC authorizer as every request (`crate::auth`).

use apimachinery::FieldError;
use apimachinery::labels::Selector;
use apimachinery::status::StatusCause;
use apiresources::ResourceInfo;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use super::Ctx;
use super::body::{DeleteOptions, decode_object};
use crate::error::{ApiError, ApiResult};
use crate::routes::json_response_with;

/// Whether this request is answered here rather than by the stored-object verbs.
pub fn handles(ctx: &Ctx) -> bool {
    matches!(
        ctx.subresource.as_deref(),
        Some(
            "scale"
                | "binding"
                | "eviction"
                | "approval"
                | "token"
                | "log"
                | "exec"
                | "attach"
                | "portforward"
        )
    ) || is_review(ctx)
        || (ctx.info.group.is_empty()
            && matches!(ctx.info.plural.as_str(), "bindings" | "componentstatuses"))
}

fn is_review(ctx: &Ctx) -> bool {
    matches!(
        ctx.info.group.as_str(),
        "authentication.k8s.io" | "authorization.k8s.io"
    )
}

pub async fn handle(ctx: Ctx, method: Method, body: Bytes) -> ApiResult<Response> {
    match (ctx.subresource.as_deref(), &method) {
        (Some("scale"), &Method::GET) => get_scale(ctx).await,
        (Some("scale"), &Method::PUT | &Method::PATCH) => write_scale(ctx, method, body).await,
        (Some("binding"), &Method::POST) => {
            let name = ctx.name.clone().unwrap_or_default();
            bind(ctx, &name, body).await
        }
        (Some("eviction"), &Method::POST) => evict(ctx, body).await,
        (Some("log"), &Method::GET) if ctx.info.plural == "pods" => pod_log(ctx).await,
        (Some(what @ ("exec" | "attach" | "portforward")), _) if ctx.info.plural == "pods" => {
            let pod = super::read::fetch(&ctx).await?;
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            Err(ApiError::bad_request(format!(
                "pods \"{name}\": {what} is not available: the containers of this cluster are simulated by marketplace's kubelet stand-in and run no process"
            )))
        }
        (Some("approval"), &Method::PUT | &Method::PATCH) => {
            let mut ctx = ctx;
            ctx.subresource = Some("status".into());
            if method == Method::PUT {
                super::write::update(ctx, body).await
            } else {
                super::write::patch(ctx, body).await
            }
        }
        (None, &Method::POST) if is_review(&ctx) => review(ctx, body),
        (Some("token"), &Method::POST) if ctx.info.plural == "serviceaccounts" => {
            token_request(ctx, body)
        }
        (None, &Method::POST) if ctx.info.plural == "bindings" => {
            let obj = decode_object(&ctx.headers, &body)?;
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            bind(ctx, &name, body).await
        }
        (None, &Method::GET) if ctx.info.plural == "componentstatuses" => component_statuses(&ctx),
        (_, m) => Err(ApiError::method_not_allowed(
            m.as_str(),
            &ctx.info.group_resource(),
        )),
    }
}

fn respond(code: StatusCode, v: &Value) -> Response {
    json_response_with(code, "application/json", v)
}

fn success(code: u16) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code})
}

/// A JSON path like `.spec.replicas` as object keys.
fn path_keys(path: &str) -> Vec<&str> {
    path.trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .collect()
}

fn at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path_keys(path).iter().try_fold(obj, |v, k| v.get(*k))
}

/// `GET pods/<name>/log`: empty for a started container, else the kubelet's refusal.
async fn pod_log(ctx: Ctx) -> ApiResult<Response> {
    let pod = super::read::fetch(&ctx).await?;
    log_refusal(&pod, ctx.query.container.as_deref()).map_or_else(
        || {
            let mut resp = Response::new(axum::body::Body::empty());
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain"),
            );
            Ok(resp)
        },
        |message| Err(ApiError::bad_request(message)),
    )
}

/// Why the log of `container` (default: the only one) of `pod` cannot be read, in
/// kube-apiserver's and the kubelet's words; `None` when it has started.
pub fn log_refusal(pod: &Value, container: Option<&str>) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let names = |key: &str| -> Vec<String> {
        pod["spec"][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let (main, init) = (names("containers"), names("initContainers"));
    let container = match container {
        Some(c) => c.to_string(),
        None if main.len() == 1 => main[0].clone(),
        None => {
            let mut m = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                main.join(" ")
            );
            if !init.is_empty() {
                m.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            return Some(m);
        }
    };
    if !main.contains(&container) && !init.contains(&container) {
        return Some(format!("container {container} is not valid for pod {name}"));
    }
    if pod["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        return Some(format!("pod {name} does not have a host assigned"));
    }
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|k| pod["status"][k].as_array())
        .flatten()
        .find(|s| s["name"] == container.as_str());
    let waiting = match status {
        None => Some("ContainerCreating"),
        Some(s) if s["state"].get("waiting").is_some() => Some(
            s["state"]["waiting"]["reason"]
                .as_str()
                .unwrap_or("ContainerCreating"),
        ),
        Some(_) => None,
    }?;
    let why = match waiting {
        "ErrImagePull" => "trying and failing to pull image",
        "ImagePullBackOff" => "image can't be pulled",
        other => other,
    };
    Some(format!(
        "container \"{container}\" in pod \"{name}\" is waiting to start: {why}"
    ))
}

/// The autoscaling/v1 Scale of an object.
fn scale_of(info: &ResourceInfo, obj: &Value) -> ApiResult<Value> {
    let Some(sub) = &info.subresources.scale else {
        return Err(ApiError::UnknownResource);
    };
    let meta = &obj["metadata"];
    let mut status = json!({
        "replicas": at(obj, &sub.status_replicas_path).and_then(Value::as_i64).unwrap_or(0)
    });
    if let Some(sel_path) = &sub.label_selector_path {
        let selector = match at(obj, sel_path) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
        .or_else(|| {
            // built-in workloads keep the selector in spec; Scale shows it as a string
            Selector::from_label_selector(obj.pointer("/spec/selector"))
                .ok()
                .map(|s| s.to_string())
        });
        if let Some(sel) = selector.filter(|s| !s.is_empty()) {
            status["selector"] = json!(sel);
        }
    }
    let mut scale_meta = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(k) {
            scale_meta[k] = v.clone();
        }
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": at(obj, &sub.spec_replicas_path).and_then(Value::as_i64).unwrap_or(0)},
        "status": status,
    }))
}

async fn get_scale(ctx: Ctx) -> ApiResult<Response> {
    let obj = super::read::fetch(&ctx).await?;
    Ok(respond(StatusCode::OK, &scale_of(&ctx.info, &obj)?))
}

/// PUT or PATCH of a Scale: compute the new Scale, then patch the owner's replicas (with the
/// Scale's resourceVersion as precondition when it carries one).
async fn write_scale(ctx: Ctx, method: Method, body: Bytes) -> ApiResult<Response> {
    let Some(sub) = ctx.info.subresources.scale.clone() else {
        return Err(ApiError::UnknownResource);
    };
    let obj = super::read::fetch(&ctx).await?;
    let scale = scale_of(&ctx.info, &obj)?;
    let new_scale = if method == Method::PUT {
        decode_object(&ctx.headers, &body)?
    } else {
        let ct = super::body::content_type(&ctx.headers);
        let pt = apimachinery::patch::PatchType::from_content_type(&ct)
            .ok_or_else(|| ApiError::unsupported_media_type(&ct))?;
        let patch = super::body::parse_json(&body)?;
        use apimachinery::patch::{self as p, PatchType};
        match pt {
            PatchType::Json => p::apply_json_patch(&scale, &patch)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            PatchType::Merge | PatchType::StrategicMerge => p::apply_merge_patch(&scale, &patch),
            PatchType::Apply => {
                return Err(ApiError::unsupported_media_type(&ct));
            }
        }
    };
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                ctx.name.as_deref().unwrap_or_default(),
                vec![FieldError::required(
                    "spec.replicas",
                    "set spec.replicas to the number of replicas wanted",
                )],
            )
        })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            ctx.name.as_deref().unwrap_or_default(),
            vec![FieldError::invalid(
                "spec.replicas",
                json!(replicas),
                "must be greater than or equal to 0",
            )],
        ));
    }
    // `{"spec": {"replicas": N}}` for the replicas path, with the Scale's resourceVersion as the
    // precondition when it carries one.
    let mut patch = path_keys(&sub.spec_replicas_path)
        .iter()
        .rev()
        .fold(json!(replicas), |inner, key| json!({ *key: inner }));
    if let Some(rv) = new_scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty())
    {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    let info = ctx.info.clone();
    let mut owner = ctx;
    owner.subresource = None;
    owner.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/merge-patch+json"),
    );
    // The patch answers with the owner as stored (or, for a dry run, as it would be).
    let response = super::write::patch(owner, Bytes::from(patch.to_string())).await?;
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let updated: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(respond(StatusCode::OK, &scale_of(&info, &updated)?))
}

/// Assigns pod `name` to the Binding's target node; a pod is bound once.
async fn bind(ctx: Ctx, name: &str, body: Bytes) -> ApiResult<Response> {
    let binding = decode_object(&ctx.headers, &body)?;
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "",
                "Binding",
                name,
                vec![FieldError::required(
                    "target.name",
                    "name the node to bind the pod to",
                )],
            )
        })?
        .to_string();
    let pods = served(&ctx, "", "v1", "pods")?;
    // The write is the binding's: it may set `spec.nodeName`, which an update of the Pod may not.
    let pod_ctx = Ctx {
        info: pods,
        name: Some(name.to_string()),
        subresource: Some("binding".into()),
        headers: request_headers("application/json-patch+json"),
        ..ctx
    };
    let pod = super::read::fetch(&pod_ctx).await?;
    if let Some(existing) = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        return Err(ApiError::conflict(
            "",
            "pods",
            name,
            &format!("pod {name} is already assigned to node \"{existing}\""),
        ));
    }
    let rv = pod
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or(Value::Null);
    let patch = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "add", "path": "/spec/nodeName", "value": node},
    ]);
    super::write::patch(pod_ctx, Bytes::from(patch.to_string())).await?;
    Ok(respond(StatusCode::CREATED, &success(201)))
}

/// Evicts a pod as kube-apiserver's eviction subresource does (see [`eviction_verdict`]): deletes
/// it, after taking one disruption from the PodDisruptionBudget that guards it when it is healthy.
async fn evict(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let eviction = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode_object(&ctx.headers, &body)?
    };
    let name = ctx.name.clone().unwrap_or_default();
    let delete_options = eviction
        .get("deleteOptions")
        .cloned()
        .unwrap_or_else(|| json!({}))
        .to_string();
    // A dry run (`?dryRun=All`, or in the Eviction's deleteOptions as `kubectl drain
    // --dry-run=server` sends it) decides as a real one but charges no budget and deletes nothing.
    let dry_run = DeleteOptions::parse(
        &http::HeaderMap::new(),
        delete_options.as_bytes(),
        &ctx.query,
    )?
    .dry_run;
    let budgets_info = served(&ctx, "policy", "v1", "poddisruptionbudgets")?;
    // Another eviction may take the budget's last disruption between our read and our write: the
    // write is conditional on the budget's resourceVersion, and a lost race decides again.
    let mut attempts = 0;
    loop {
        let pod = super::read::fetch(&ctx).await?;
        let budgets = selecting_budgets(&ctx, &budgets_info, &pod).await?;
        match eviction_verdict(&pod, &budgets) {
            Verdict::Delete => break,
            Verdict::Refuse(e) => return Err(e),
            Verdict::TakeDisruption(_) if dry_run => break,
            Verdict::TakeDisruption(pdb) => {
                match take_disruption(&ctx, &budgets_info, pdb, &name).await {
                    Ok(()) => break,
                    Err(e) if e.code() == 409 && attempts < 5 => attempts += 1,
                    Err(e) if e.code() == 409 => {
                        return Err(ApiError::Other {
                            code: 504,
                            reason: "Timeout".into(),
                            message: "couldn't update PodDisruptionBudget due to conflicts".into(),
                            causes: Vec::new(),
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let mut pod_ctx = ctx;
    pod_ctx.subresource = None;
    pod_ctx.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    super::write::delete(pod_ctx, Bytes::from(delete_options))
        .await
        .map_err(|e| {
            if e.code() == 404 {
                ApiError::not_found("", "pods", &name)
            } else {
                e
            }
        })?;
    Ok(respond(StatusCode::CREATED, &success(201)))
}

/// What an eviction does to a pod, given the PodDisruptionBudgets of its namespace that select it.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Delete the pod; no budget is charged.
    Delete,
    /// Charge this budget one disruption, then delete the pod.
    TakeDisruption(Value),
    Refuse(ApiError),
}

/// kube-apiserver's eviction rules (`pkg/registry/core/pod/storage/eviction.go`), pure:
/// - a pod that is terminal, still `Pending` or already being deleted does not count towards any
///   budget: it is deleted;
/// - more than one budget selecting it is not supported (500); none lets it go;
/// - a budget whose status the disruption controller has not caught up with (its
///   `observedGeneration` behind its `generation`) refuses for now (429);
/// - an unready pod is deleted without charging the budget when the budget says `AlwaysAllow`,
///   or (`IfHealthyBudget`, the default) when the application has its desired healthy pods;
/// - otherwise the budget must allow a disruption, which the eviction takes.
fn eviction_verdict(pod: &Value, budgets: &[Value]) -> Verdict {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    let deleting = pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    if deleting || matches!(phase, Some("Succeeded" | "Failed" | "Pending")) {
        return Verdict::Delete;
    }
    let pdb = match budgets {
        [] => return Verdict::Delete,
        [one] => one,
        _ => {
            return Verdict::Refuse(ApiError::Other {
                code: 500,
                reason: String::new(),
                message: "This pod has more than one PodDisruptionBudget, which the eviction \
                          subresource does not support."
                    .into(),
                causes: Vec::new(),
            });
        }
    };
    let name = pdb
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let int = |path: &str| pdb.pointer(path).and_then(Value::as_i64).unwrap_or(0);
    let (current, desired) = (int("/status/currentHealthy"), int("/status/desiredHealthy"));
    if !pod_ready(pod) {
        let policy = pdb
            .pointer("/spec/unhealthyPodEvictionPolicy")
            .and_then(Value::as_str);
        if policy == Some("AlwaysAllow") || (current >= desired && desired > 0) {
            return Verdict::Delete;
        }
    }
    if int("/status/observedGeneration") < int("/metadata/generation") {
        return Verdict::Refuse(budget_refusal(format!(
            "The disruption budget {name} is still being processed by the server."
        )));
    }
    match int("/status/disruptionsAllowed") {
        ..0 => Verdict::Refuse(ApiError::Forbidden {
            group: "policy".into(),
            resource: "poddisruptionbudget".into(),
            name: name.to_string(),
            reason: "pdb disruptions allowed is negative".into(),
        }),
        0 => Verdict::Refuse(budget_refusal(format!(
            "The disruption budget {name} needs {desired} healthy pods and has {current} currently"
        ))),
        _ => Verdict::TakeDisruption(pdb.clone()),
    }
}

/// Whether the pod's `Ready` condition is `True` (kube's measure of a healthy pod).
fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// The 429 of an eviction a budget does not allow now, with the budget's reason as its cause.
fn budget_refusal(cause: String) -> ApiError {
    ApiError::Other {
        code: 429,
        reason: "TooManyRequests".into(),
        message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
        causes: vec![StatusCause {
            reason: "DisruptionBudget".into(),
            message: cause,
            field: String::new(),
        }],
    }
}

/// Takes one disruption from `pdb` for the pod `pod_name` (its status, written only if the budget
/// is still at the version read: a 409 otherwise), recording the pod in `disruptedPods` so the
/// disruption controller does not count it as healthy while it goes.
async fn take_disruption(
    ctx: &Ctx,
    info: &ResourceInfo,
    pdb: Value,
    pod_name: &str,
) -> ApiResult<()> {
    let now = apimachinery::meta::now_rfc3339();
    let allowed = pdb
        .pointer("/status/disruptionsAllowed")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        - 1;
    let mut status = json!({
        "disruptionsAllowed": allowed,
        "disruptedPods": {pod_name: now},
    });
    if allowed == 0 {
        let mut conditions = pdb
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        conditions.retain(|c| c["type"] != "DisruptionAllowed");
        conditions.push(json!({
            "type": "DisruptionAllowed",
            "status": "False",
            "reason": "InsufficientPods",
            "message": "",
            "observedGeneration": pdb.pointer("/metadata/generation").cloned().unwrap_or(json!(0)),
            "lastTransitionTime": now,
        }));
        status["conditions"] = Value::Array(conditions);
    }
    let patch = json!({
        "metadata": {"resourceVersion": pdb.pointer("/metadata/resourceVersion").cloned()},
        "status": status,
    });
    let pdb_ctx = Ctx {
        info: info.clone(),
        name: pdb
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string),
        subresource: Some("status".into()),
        headers: request_headers("application/merge-patch+json"),
        query: Default::default(),
        ..ctx.clone()
    };
    super::write::patch(pdb_ctx, Bytes::from(patch.to_string())).await?;
    Ok(())
}

/// The built-in resource a handler here works on besides the request's own.
fn served(ctx: &Ctx, group: &str, version: &str, plural: &str) -> ApiResult<ResourceInfo> {
    ctx.cluster
        .catalogue()
        .lookup(group, version, plural)
        .cloned()
        .ok_or(ApiError::UnknownResource)
}

/// Headers of a request this module makes on the caller's behalf: only its body's content type.
fn request_headers(content_type: &'static str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    h
}

/// The PodDisruptionBudgets in the pod's namespace whose selector selects it.
async fn selecting_budgets(ctx: &Ctx, info: &ResourceInfo, pod: &Value) -> ApiResult<Vec<Value>> {
    let list_ctx = Ctx {
        info: info.clone(),
        name: None,
        subresource: None,
        query: Default::default(),
        headers: http::HeaderMap::new(),
        ..ctx.clone()
    };
    let sel = super::read::Selectors::parse(&list_ctx)?;
    let list = super::read::read_list(&list_ctx, sel, None).await?;
    let labels = pod.pointer("/metadata/labels");
    Ok(list
        .items
        .into_iter()
        .filter(|pdb| {
            Selector::from_label_selector(pdb.pointer("/spec/selector"))
                .is_ok_and(|s| !s.is_nothing() && s.matches_labels_value(labels))
        })
        .collect())
}

/// The review APIs: the request comes back with its `status` filled in.
fn review(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let mut obj = decode_object(&ctx.headers, &body)?;
    obj["apiVersion"] = json!(ctx.info.api_version());
    obj["kind"] = json!(ctx.info.kind);
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match ctx.info.kind.as_str() {
        "TokenReview" => token_review(&ctx, &spec),
        "SelfSubjectReview" => json!({"userInfo": ctx.caller.user.to_json()}),
        "SelfSubjectAccessReview" => access_review(&ctx, (*ctx.caller.user).clone(), &spec)?,
        "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let user = review_subject(&ctx, &spec)?;
            access_review(&ctx, user, &spec)?
        }
        "SelfSubjectRulesReview" => rules_review(&ctx, &spec)?,
        _ => {
            return Err(ApiError::method_not_allowed(
                "create",
                &ctx.info.group_resource(),
            ));
        }
    };
    obj["status"] = status;
    if obj.get("metadata").is_none_or(Value::is_null) {
        obj["metadata"] = json!({});
    }
    if let (Some(ns), Some(m)) = (&ctx.namespace, obj["metadata"].as_object_mut()) {
        m.insert("namespace".into(), json!(ns));
    }
    Ok(respond(StatusCode::CREATED, &obj))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn token_review(ctx: &Ctx, spec: &Value) -> Value {
    let token = text(spec, "token");
    let audiences = strings(spec.get("audiences"));
    let answered = if audiences.is_empty() {
        vec![auth::tokens::DEFAULT_ISSUER.to_string()]
    } else {
        audiences.clone()
    };
    match ctx
        .caller
        .identity
        .authenticate_token(&token, Some(&ctx.cluster), &audiences)
    {
        Ok(user) => json!({"authenticated": true, "user": user.to_json(), "audiences": answered}),
        Err(why) => json!({"authenticated": false, "user": {}, "error": why}),
    }
}

/// The subject of a [Local]SubjectAccessReview: `spec.user`, `spec.groups`, `spec.uid`, `spec.extra`.
fn review_subject(ctx: &Ctx, spec: &Value) -> ApiResult<auth::UserInfo> {
    let user = auth::UserInfo {
        name: text(spec, "user"),
        uid: text(spec, "uid"),
        groups: strings(spec.get("groups")),
        extra: spec
            .get("extra")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), strings(Some(v))))
                    .collect()
            })
            .unwrap_or_default(),
    };
    if user.name.is_empty() && user.groups.is_empty() {
        return Err(ApiError::invalid(
            &ctx.info.group,
            &ctx.info.kind,
            "",
            vec![FieldError::invalid(
                "spec.user",
                json!(""),
                "at least one of user or group must be specified",
            )],
        ));
    }
    Ok(user)
}

/// The attributes a review asks about (`spec.resourceAttributes` or `spec.nonResourceAttributes`).
fn review_attributes(ctx: &Ctx, user: auth::UserInfo, spec: &Value) -> ApiResult<auth::Attributes> {
    if let Some(r) = spec.get("resourceAttributes").filter(|v| v.is_object()) {
        let mut namespace = text(r, "namespace");
        if ctx.info.kind == "LocalSubjectAccessReview" {
            let url_ns = ctx.namespace.clone().unwrap_or_default();
            if namespace.is_empty() {
                namespace = url_ns;
            } else if namespace != url_ns {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {url_ns}"
                )));
            }
        }
        return Ok(auth::Attributes::resource(
            user,
            &text(r, "verb"),
            auth::ResourceAttributes {
                api_group: text(r, "group"),
                api_version: text(r, "version"),
                resource: text(r, "resource"),
                subresource: text(r, "subresource"),
                namespace,
                name: text(r, "name"),
            },
        ));
    }
    if let Some(n) = spec.get("nonResourceAttributes").filter(|v| v.is_object()) {
        return Ok(auth::Attributes::non_resource(
            user,
            &text(n, "verb"),
            &text(n, "path"),
        ));
    }
    Err(ApiError::invalid(
        &ctx.info.group,
        &ctx.info.kind,
        "",
        vec![FieldError::required(
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
    ))
}

fn access_review(ctx: &Ctx, user: auth::UserInfo, spec: &Value) -> ApiResult<Value> {
    let attrs = review_attributes(ctx, user, spec)?;
    let decision = ctx.caller.identity.decide(&ctx.cluster, &attrs)?;
    let mut status = json!({"allowed": decision.allowed()});
    if !decision.reason().is_empty() {
        status["reason"] = json!(decision.reason());
    }
    Ok(status)
}

fn rules_review(ctx: &Ctx, spec: &Value) -> ApiResult<Value> {
    let namespace = text(spec, "namespace");
    let authorizer = ctx.caller.identity.authorizer(&ctx.cluster)?;
    let (rules, errors) = authorizer.rules_for(&ctx.caller.user, &namespace);
    let (resource_rules, non_resource_rules) = auth::rbac::review_rules(&rules);
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": !errors.is_empty(),
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(errors.join(", "));
    }
    Ok(status)
}

/// `POST serviceaccounts/<name>/token`: a TokenRequest answered with a signed token.
fn token_request(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let name = ctx.name.clone().unwrap_or_default();
    let namespace = ctx.namespace.clone().unwrap_or_default();
    let mut obj = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode_object(&ctx.headers, &body)?
    };
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let expiration = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(auth::tokens::DEFAULT_EXPIRATION_SECONDS);
    let audiences = strings(spec.get("audiences"));
    let (token, claims) = ctx.caller.identity.issue_service_account_token(
        &ctx.cluster,
        &namespace,
        &name,
        audiences,
        expiration,
    )?;
    let expires = jiff::Timestamp::from_second(claims.exp)
        .map(|t| t.to_string())
        .unwrap_or_default();
    obj["apiVersion"] = json!("authentication.k8s.io/v1");
    obj["kind"] = json!("TokenRequest");
    obj["metadata"] = json!({"name": name, "namespace": namespace, "creationTimestamp": apimachinery::meta::now_rfc3339()});
    obj["spec"] = json!({"audiences": claims.aud, "expirationSeconds": expiration, "boundObjectRef": spec.get("boundObjectRef").cloned().unwrap_or(Value::Null)});
    obj["status"] = json!({"token": token, "expirationTimestamp": expires});
    Ok(respond(StatusCode::CREATED, &obj))
}

/// The control plane's parts: the store (as `etcd-0`), the scheduler and the controller manager
/// are all this process, healthy while it answers.
fn component_statuses(ctx: &Ctx) -> ApiResult<Response> {
    let item = |name: &str, message: &str| {
        json!({"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name},
               "conditions": [{"type": "Healthy", "status": "True", "message": message}]})
    };
    let items = vec![
        item("controller-manager", "ok"),
        item("scheduler", "ok"),
        item("etcd-0", "ok"),
    ];
    if let Some(name) = &ctx.name {
        return items
            .into_iter()
            .find(|i| i["metadata"]["name"] == name.as_str())
            .map(|i| respond(StatusCode::OK, &i))
            .ok_or_else(|| ApiError::not_found("", "componentstatuses", name));
    }
    if ctx.wants_table() {
        let t = crate::tables::table(
            &ctx.info,
            &items,
            ctx.query.include_object.as_deref(),
            "",
            "",
        );
        return Ok(json_response_with(
            StatusCode::OK,
            crate::tables::TABLE_CONTENT_TYPE,
            &t,
        ));
    }
    Ok(respond(
        StatusCode::OK,
        &json!({"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": items}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(ready: bool) -> Value {
        json!({"metadata": {"name": "web-1", "labels": {"app": "web"}},
               "status": {"phase": "Running",
                          "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    fn budget(generation: i64, observed: i64, allowed: i64, current: i64, desired: i64) -> Value {
        json!({"metadata": {"name": "web", "generation": generation, "resourceVersion": "7"},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "minAvailable": desired},
               "status": {"observedGeneration": observed, "disruptionsAllowed": allowed,
                          "currentHealthy": current, "desiredHealthy": desired}})
    }

    fn refusal(v: Verdict) -> (u16, String) {
        match v {
            Verdict::Refuse(e) => {
                let status = e.to_status();
                let cause = status
                    .pointer("/details/causes/0/message")
                    .or_else(|| status.pointer("/message"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                (e.code(), cause)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn pods_that_are_not_up_are_evicted_without_asking_their_budget() {
        let blocking = [budget(1, 1, 0, 0, 2)];
        for phase in ["Pending", "Succeeded", "Failed"] {
            let pod = json!({"metadata": {"name": "p"}, "status": {"phase": phase}});
            assert_eq!(
                eviction_verdict(&pod, &blocking),
                Verdict::Delete,
                "{phase}"
            );
        }
        let mut deleting = running(true);
        deleting["metadata"]["deletionTimestamp"] = json!("2026-12-07T00:00:00Z");
        assert_eq!(eviction_verdict(&deleting, &blocking), Verdict::Delete);
        assert_eq!(eviction_verdict(&running(true), &[]), Verdict::Delete);
    }

    #[test]
    fn a_healthy_pod_takes_a_disruption_its_budget_allows_and_is_refused_without_one() {
        let pdb = budget(1, 1, 1, 3, 2);
        assert_eq!(
            eviction_verdict(&running(true), std::slice::from_ref(&pdb)),
            Verdict::TakeDisruption(pdb)
        );
        assert_eq!(
            refusal(eviction_verdict(&running(true), &[budget(1, 1, 0, 2, 2)])),
            (
                429,
                "The disruption budget web needs 2 healthy pods and has 2 currently".into()
            )
        );
        assert_eq!(
            refusal(eviction_verdict(&running(true), &[budget(2, 1, 1, 3, 2)])),
            (
                429,
                "The disruption budget web is still being processed by the server.".into()
            )
        );
        assert_eq!(
            refusal(eviction_verdict(&running(true), &[budget(1, 1, -1, 1, 2)])).0,
            403
        );
        let two = [budget(1, 1, 1, 3, 2), budget(1, 1, 1, 3, 2)];
        let (code, message) = refusal(eviction_verdict(&running(true), &two));
        assert_eq!(code, 500);
        assert!(
            message.contains("more than one PodDisruptionBudget"),
            "{message}"
        );
    }

    #[test]
    fn an_unready_pod_goes_without_charging_a_budget_whose_application_is_healthy() {
        // IfHealthyBudget (the default): the application has its desired healthy pods.
        assert_eq!(
            eviction_verdict(&running(false), &[budget(1, 1, 0, 2, 2)]),
            Verdict::Delete
        );
        // ... and not when it lacks them, unless the budget says AlwaysAllow.
        assert_eq!(
            refusal(eviction_verdict(&running(false), &[budget(1, 1, 0, 1, 2)])).0,
            429
        );
        let mut always = budget(1, 1, 0, 1, 2);
        always["spec"]["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
        assert_eq!(
            eviction_verdict(&running(false), &[always]),
            Verdict::Delete
        );
    }

    fn pod(containers: &[&str], node: &str, statuses: Value) -> Value {
        let cs: Vec<Value> = containers.iter().map(|c| json!({"name": c})).collect();
        json!({"metadata": {"name": "p"}, "spec": {"containers": cs, "nodeName": node},
               "status": {"containerStatuses": statuses}})
    }

    #[test]
    fn a_log_is_refused_with_the_kubelets_reason_until_its_container_starts() {
        let waiting =
            |reason: &str| json!([{"name": "c", "state": {"waiting": {"reason": reason}}}]);
        let running = json!([{"name": "c", "state": {"running": {}}}]);
        assert_eq!(log_refusal(&pod(&["c"], "n1", running.clone()), None), None);
        assert_eq!(
            log_refusal(&pod(&["c"], "n1", waiting("ImagePullBackOff")), Some("c")).unwrap(),
            "container \"c\" in pod \"p\" is waiting to start: image can't be pulled"
        );
        assert_eq!(
            log_refusal(&pod(&["c"], "n1", waiting("ErrImagePull")), None).unwrap(),
            "container \"c\" in pod \"p\" is waiting to start: trying and failing to pull image"
        );
        assert_eq!(
            log_refusal(&pod(&["c"], "n1", json!([])), None).unwrap(),
            "container \"c\" in pod \"p\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            log_refusal(&pod(&["c"], "", json!([])), None).unwrap(),
            "pod p does not have a host assigned"
        );
    }

    #[test]
    fn a_log_names_the_container_to_choose_or_the_one_that_is_not_there() {
        let p = pod(&["a", "b"], "n1", json!([]));
        assert_eq!(
            log_refusal(&p, None).unwrap(),
            "a container name must be specified for pod p, choose one of: [a b]"
        );
        assert_eq!(
            log_refusal(&p, Some("x")).unwrap(),
            "container x is not valid for pod p"
        );
    }
}
