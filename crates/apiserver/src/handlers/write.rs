//! Writes: create (generateName, uid, creationTimestamp, generation, defaults, validation,
//! `fieldValidation`, `dryRun`), update (resourceVersion preconditions, status isolation,
//! generation kept per kind as kube-apiserver's strategies keep it, finalizers), patch (JSON,
//! merge, strategic for built-ins, server-side apply), delete (preconditions, propagation policy, finalizers → `deletionTimestamp`) and
//! deletecollection.
//!
//! Admission order, as kube-apiserver: decode → kind/namespace checks → (patch) → strict field
//! check → prune + defaults → validation (`crate::validation` for built-ins) → store transaction
//! (preconditions, server-owned metadata, status and ephemeral-container isolation, the built-in's
//! update rules against the stored object, generation) → CRD catalogue update / GC kick.

use apimachinery::FieldError;
use apimachinery::patch::PatchType;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value, json};
use store::{Key, StoreError, Txn};

use super::Ctx;
use super::body::{DeleteOptions, decode_object};
use apiresources::defaults::Generation;

use crate::cluster::{blocking, blocking_read, store_error};
use crate::error::{ApiError, ApiResult};
use crate::routes::json_response_with;

/// Error inside a store transaction: the store's, or an API error raised by our checks.
pub enum TxnError {
    Store(StoreError),
    Api(Box<ApiError>),
}

impl From<StoreError> for TxnError {
    fn from(e: StoreError) -> Self {
        TxnError::Store(e)
    }
}

impl TxnError {
    fn into_api(self, ctx: &Ctx, name: &str) -> ApiError {
        match self {
            TxnError::Store(e) => store_error(e, &ctx.info, name),
            TxnError::Api(e) => *e,
        }
    }
}

fn now() -> String {
    apimachinery::meta::now_rfc3339()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

/// The manager recorded for ordinary writes: `fieldManager`, else the user agent's program name.
fn manager(ctx: &Ctx) -> String {
    if let Some(m) = &ctx.query.field_manager {
        return m.clone();
    }
    ctx.headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

fn type_info<'a>(ctx: &'a Ctx) -> apimachinery::apply::TypeInfo<'a> {
    match (&ctx.info.schema, ctx.info.is_builtin()) {
        (_, true) => apimachinery::apply::TypeInfo::Builtin(&ctx.info.kind),
        (Some(s), false) => apimachinery::apply::TypeInfo::Schema(s),
        (None, false) => apimachinery::apply::TypeInfo::Untyped,
    }
}

/// Records an `Update` manager in `managedFields`.
fn record_update(ctx: &Ctx, old: Option<&Value>, new: &mut Value) {
    let mgr = manager(ctx);
    let av = ctx.info.api_version();
    let now = now();
    let opts = apimachinery::apply::ManagerOptions {
        manager: &mgr,
        force: false,
        api_version: &av,
        subresource: ctx.subresource.as_deref(),
        now: &now,
        types: type_info(ctx),
    };
    apimachinery::apply::record_update(old, new, &opts);
}

/// Checks apiVersion/kind of a body against the URL (filling them in when absent).
fn check_kind(ctx: &Ctx, obj: &mut Value) -> ApiResult<()> {
    let want_av = ctx.info.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            obj["apiVersion"] = json!(want_av);
        }
        Some(av) if av != want_av => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )));
        }
        _ => {}
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            obj["kind"] = json!(ctx.info.kind);
        }
        Some(k) if k != ctx.info.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({}) for {}",
                ctx.info.kind,
                ctx.info.group_resource()
            )));
        }
        _ => {}
    }
    if !obj.get("metadata").is_none_or(Value::is_object) {
        return Err(ApiError::bad_request("metadata must be an object"));
    }
    Ok(())
}

/// Namespace of the body against the URL.
fn check_namespace(ctx: &Ctx, obj: &mut Value) -> ApiResult<()> {
    if ctx.info.namespaced() {
        let ns = ctx.namespace.clone().ok_or(ApiError::UnknownResource)?;
        match meta_str(obj, "namespace") {
            None | Some("") => {
                meta_mut(obj).insert("namespace".into(), json!(ns));
            }
            Some(n) if n != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
    } else {
        meta_mut(obj).remove("namespace");
    }
    Ok(())
}

/// Strict decoding, pruning, defaulting and validation. Returns warnings (`fieldValidation=Warn`).
fn admit(ctx: &Ctx, obj: &mut Value, creating: bool) -> ApiResult<Vec<String>> {
    let mode = ctx.query.field_validation.as_deref().unwrap_or("Warn");
    let mut warnings = Vec::new();
    let name = meta_str(obj, "name").unwrap_or("").to_string();
    let mut errs: Vec<FieldError> = Vec::new();
    if creating || !name.is_empty() {
        let rule = if ctx.info.is_builtin() {
            apimachinery::meta::name_rule_for_kind(&ctx.info.kind)
        } else {
            apimachinery::meta::NameRule::Subdomain
        };
        let m = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
        errs.extend(apimachinery::meta::validate_object_name(
            &m, rule, "metadata",
        ));
    }
    if ctx.info.is_builtin() {
        let gvk = ctx.info.gvk();
        // CRDs are checked by `crd::validate` (the strict checker mis-types `default` values, see
        // requests/apiresources.md), other built-ins by `apiresources::strict`.
        let report = if ctx.is_crd() {
            apiresources::strict::DecodeReport::default()
        } else {
            apiresources::strict::check(&gvk, obj)
        };
        if !report.type_errors.is_empty() {
            return Err(ApiError::bad_request(
                apiresources::strict::type_error_message(&gvk, &report.type_errors[0]),
            ));
        }
        if !report.unknown_fields.is_empty() {
            match mode {
                "Strict" => {
                    return Err(ApiError::bad_request(
                        apiresources::strict::strict_error_message(&report.unknown_fields),
                    ));
                }
                "Warn" => warnings.extend(
                    report
                        .unknown_fields
                        .iter()
                        .map(|f| format!("unknown field \"{f}\"")),
                ),
                _ => {}
            }
        }
        if creating {
            apiresources::defaults::apply_defaults(&gvk, obj);
        } else {
            // What the stored object was allocated comes from it, in the transaction.
            apiresources::defaults::apply_update_defaults(&gvk, obj);
        }
        // An update's object is validated in its transaction, against the stored one.
        if creating && ctx.subresource.is_none() {
            errs.extend(crate::validation::validate(&gvk, obj));
        }
    } else if let Some(schema) = &ctx.info.schema {
        let unknown = apimachinery::schema::unknown_fields(schema, obj);
        if !unknown.is_empty() {
            match mode {
                "Strict" => {
                    return Err(apimachinery::schema::strict_decoding_error(
                        &ctx.info.kind,
                        &ctx.info.version,
                        &unknown,
                    ));
                }
                "Warn" => warnings.extend(apimachinery::schema::unknown_field_warnings(&unknown)),
                _ => {}
            }
        }
        apimachinery::schema::prune(schema, obj);
        apimachinery::schema::apply_defaults(schema, obj);
        errs.extend(apimachinery::schema::validate(schema, obj));
    }
    if ctx.is_crd() {
        errs.extend(crate::crd::validate(obj));
    }
    if !errs.is_empty() {
        return Err(apimachinery::ApiError::invalid(
            &ctx.info.group,
            &ctx.info.kind,
            &name,
            errs,
        ));
    }
    Ok(warnings)
}

/// The store resource of PriorityClasses.
const PRIORITY_CLASSES: &str = "scheduling.k8s.io/priorityclasses";

/// How long a Pod's create waits for its namespace's `default` ServiceAccount, which the
/// serviceaccount controller makes moments after the namespace (kube-apiserver's admission looks
/// it up again for about as long before it refuses the Pod).
const DEFAULT_ACCOUNT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// kube-apiserver's ServiceAccount, Priority and DefaultTolerationSeconds admission for a Pod
/// being created, in that order:
/// - its ServiceAccount must exist (when the cluster requires it, see
///   [`crate::Config::require_service_accounts`]), else 403; the API access volume is mounted in
///   its containers and, if it names none, it gets the account's `imagePullSecrets`;
/// - its PriorityClass (or the global default one) sets `priority` and `preemptionPolicy`; a
///   class that does not exist is a 403;
/// - it tolerates unready and unreachable Nodes for 300 s.
///
/// What it needs from the store is read in one go, off the async workers.
async fn admit_pod(ctx: &Ctx, obj: &mut Value) -> ApiResult<()> {
    if !(ctx.info.is_builtin() && ctx.info.group.is_empty() && ctx.info.kind == "Pod") {
        return Ok(());
    }
    let Some(spec) = obj.get("spec").filter(|s| s.is_object()) else {
        return Ok(());
    };
    let class_name = apiresources::defaults::priority_class_name(spec).map(str::to_string);
    let namespace = ctx.namespace.clone().unwrap_or_default();
    let account_name = spec["serviceAccountName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_ACCOUNT)
        .to_string();
    let account_key = Key::new("serviceaccounts", namespace.clone(), account_name.clone());
    let store = ctx.cluster.store.clone();
    let (class, account, read_at) = blocking_read(move || {
        // Read before the lookups: an account made after them is an event after this revision.
        let read_at = store.revision();
        // The named class, or else the global default one (if any).
        let class = match &class_name {
            Some(n) => store
                .get(&Key::cluster(PRIORITY_CLASSES, n.as_str()))?
                .map(|s| s.value),
            None => store
                .list(&store::ListQuery::all(PRIORITY_CLASSES))?
                .items
                .into_iter()
                .map(|s| s.value)
                .find(|c| c["globalDefault"] == true),
        };
        let account = store.get(&account_key)?.map(|s| s.value);
        Ok::<_, StoreError>((class, account, read_at))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let account = match account {
        None if ctx.cluster.require_service_accounts && account_name == DEFAULT_ACCOUNT => {
            await_default_account(ctx, &namespace, read_at).await?
        }
        found => found,
    };
    // A Pod named by `generateName` has no name yet: kube-apiserver's message shows the prefix.
    let pod_name = meta_str(obj, "name")
        .or_else(|| meta_str(obj, "generateName"))
        .unwrap_or_default()
        .to_string();
    let forbidden = |reason: String| ApiError::Forbidden {
        group: String::new(),
        resource: "pods".into(),
        name: pod_name.clone(),
        reason,
    };
    if account.is_none() && ctx.cluster.require_service_accounts {
        return Err(forbidden(format!(
            "error looking up service account {namespace}/{account_name}: serviceaccount \"{account_name}\" not found"
        )));
    }
    let spec = obj.get_mut("spec").expect("checked above");
    // The ServiceAccount admission: the API access volume, unless the account opts out.
    let account_automount = account
        .as_ref()
        .and_then(|a| a["automountServiceAccountToken"].as_bool());
    let volume = apimachinery::meta::generate_name("kube-api-access-");
    apiresources::defaults::mount_service_account_token(spec, account_automount, &volume);
    apiresources::defaults::inherit_image_pull_secrets(spec, account.as_ref());
    apiresources::defaults::admit_pod_priority(spec, class.as_ref()).map_err(forbidden)?;
    apiresources::defaults::default_toleration_seconds(spec);
    Ok(())
}

/// The ServiceAccount every namespace has (made by the serviceaccount controller).
const DEFAULT_ACCOUNT: &str = "default";

/// Waits up to [`DEFAULT_ACCOUNT_WAIT`] for `namespace`'s `default` ServiceAccount to be created
/// after revision `after` (when the lookups found none); the account, or `None` if it did not come.
async fn await_default_account(ctx: &Ctx, namespace: &str, after: u64) -> ApiResult<Option<Value>> {
    let store = ctx.cluster.store.clone();
    let filter = store::WatchFilter {
        namespace: Some(namespace.to_string()),
        name: Some(DEFAULT_ACCOUNT.to_string()),
    };
    let mut watch = blocking(move || store.watch_filtered("serviceaccounts", after, filter))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let made = async {
        while let Some(Ok(ev)) = watch.next().await {
            if ev.kind != store::EventKind::Deleted {
                return Some(ev.object.clone());
            }
        }
        None
    };
    Ok(tokio::time::timeout(DEFAULT_ACCOUNT_WAIT, made)
        .await
        .ok()
        .flatten())
}

/// Builds a response with `Warning` headers.
fn respond(code: StatusCode, obj: &Value, warnings: &[String]) -> Response {
    let mut r = json_response_with(code, "application/json", obj);
    for w in warnings {
        let text = format!("299 - {}", serde_json::to_string(w).unwrap_or_default());
        if let Ok(v) = http::HeaderValue::from_str(&text) {
            r.headers_mut().append(http::header::WARNING, v);
        }
    }
    r
}

/// The namespace of a namespaced create, if the resource is namespaced.
fn create_namespace_of(ctx: &Ctx) -> Option<String> {
    ctx.namespace.clone().filter(|_| ctx.info.namespaced())
}

/// Why a namespaced create cannot go into namespace `ns`, given its stored state `got`: missing
/// (404) or terminating (403, as kube-apiserver's NamespaceLifecycle admission).
/// `group`/`resource`: what is being created.
fn namespace_problem(
    group: &str,
    resource: &str,
    ns: &str,
    got: Option<&store::Stored>,
) -> Option<ApiError> {
    match got {
        None => Some(ApiError::not_found("", "namespaces", ns)),
        Some(s) if s.value.pointer("/metadata/deletionTimestamp").is_some() => {
            Some(ApiError::Forbidden {
                group: group.to_string(),
                resource: resource.to_string(),
                name: meta_str(&s.value, "name").unwrap_or(ns).to_string(),
                reason: format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            })
        }
        Some(_) => None,
    }
}

/// Fails when the namespace of a namespaced create is missing or terminating (a read of its own;
/// a POST create checks inside its write transaction instead, see [`store_new`]).
async fn check_namespace_usable(ctx: &Ctx) -> ApiResult<()> {
    let Some(ns) = create_namespace_of(ctx) else {
        return Ok(());
    };
    let store = ctx.cluster.store.clone();
    let key = Key::cluster("namespaces", ns.clone());
    let got = crate::cluster::blocking_read(move || store.get(&key))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match namespace_problem(&ctx.info.group, &ctx.info.plural, &ns, got.as_ref()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `e`, unless the namespace check fails: kube-apiserver runs it first (NamespaceLifecycle
/// admission), so its error wins. Only failing creates pay for this extra read.
async fn namespace_error_first(ctx: &Ctx, e: ApiError) -> ApiError {
    match check_namespace_usable(ctx).await {
        Err(ns) => ns,
        Ok(()) => e,
    }
}

/// Fails when the object is a custom resource whose CRD is being deleted (kube-apiserver's 405).
async fn check_crd_not_terminating(ctx: &Ctx) -> ApiResult<()> {
    if ctx.info.is_builtin() || ctx.is_crd() {
        return Ok(());
    }
    let store = ctx.cluster.store.clone();
    let key = Key::cluster(
        crate::cluster::CRD_RESOURCE,
        format!("{}.{}", ctx.info.plural, ctx.info.group),
    );
    let got = blocking(move || store.get(&key))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if got.is_some_and(|s| s.value.pointer("/metadata/deletionTimestamp").is_some()) {
        return Err(ApiError::Other {
            code: 405,
            reason: "MethodNotAllowed".into(),
            message: "create not allowed while custom resource definition is terminating".into(),
            causes: Vec::new(),
        });
    }
    Ok(())
}

/// Server-owned metadata of a new object.
fn initialize_new(ctx: &Ctx, obj: &mut Value) {
    let has_status = ctx.info.subresources.status;
    let m = meta_mut(obj);
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now()));
    if ctx.info.generation() != Generation::Untracked {
        m.insert("generation".into(), json!(1));
    }
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        m.remove(k);
    }
    if has_status
        && !ctx.is_namespace()
        && !ctx.is_crd()
        && let Some(o) = obj.as_object_mut()
    {
        if ctx.info.is_builtin() {
            // a built-in's status is a Go struct: kube-apiserver always shows it, if only as `{}`
            o.insert("status".into(), json!({}));
        } else {
            o.remove("status");
        }
    }
    if ctx.info.is_builtin() {
        apiresources::defaults::prepare_for_create(&ctx.info.gvk(), obj);
    }
}

/// POST: create an object.
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    if ctx.subresource.is_some() {
        return Err(ApiError::method_not_allowed(
            "create",
            &ctx.info.group_resource(),
        ));
    }
    let mut obj = decode_object(&ctx.headers, &body)?;
    check_kind(&ctx, &mut obj)?;
    check_namespace(&ctx, &mut obj)?;
    let generated_from = meta_str(&obj, "name")
        .unwrap_or("")
        .is_empty()
        .then(|| meta_str(&obj, "generateName").filter(|s| !s.is_empty()))
        .flatten()
        .map(str::to_string);
    if let Some(base) = &generated_from {
        let name = apimachinery::meta::generate_name(base);
        meta_mut(&mut obj).insert("name".into(), json!(name));
    }
    // The namespace is checked in the write transaction (one read fewer per create, and atomic
    // with the write); a create refused before it gets the namespace's error first, as from
    // kube-apiserver.
    if let Err(e) = check_crd_not_terminating(&ctx).await {
        return Err(namespace_error_first(&ctx, e).await);
    }
    let admitted = match admit(&ctx, &mut obj, true) {
        Ok(w) => admit_pod(&ctx, &mut obj).await.map(|()| w),
        Err(e) => Err(e),
    };
    let warnings = match admitted {
        Ok(w) => w,
        Err(e) => return Err(namespace_error_first(&ctx, e).await),
    };
    initialize_new(&ctx, &mut obj);
    if ctx.is_crd() {
        crate::crd::set_status(&mut obj);
    }
    record_write_manager(&ctx, None, &mut obj);
    apimachinery::meta::normalize_object_meta(&mut obj);
    let name = meta_str(&obj, "name").unwrap_or("").to_string();
    store_new(&ctx, &name, obj, &warnings, generated_from).await
}

/// How many names a `generateName` create tries before answering 409 AlreadyExists, as
/// kube-apiserver does since 1.31 (`RetryGenerateName`).
pub const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Creates `obj` with `create`; when the name was generated from `generated_from` and collides
/// with an existing object, tries again with a fresh suffix from `next_name`, up to
/// [`GENERATE_NAME_ATTEMPTS`] names in all. Returns the last error otherwise.
fn create_retrying_generated_name<T>(
    mut obj: Value,
    generated_from: Option<&str>,
    mut next_name: impl FnMut(&str) -> String,
    mut create: impl FnMut(&str, Value) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let Some(base) = generated_from else {
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        return create(&name, obj);
    };
    let mut attempt = 1;
    loop {
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        match create(&name, obj.clone()) {
            Err(StoreError::AlreadyExists { .. }) if attempt < GENERATE_NAME_ATTEMPTS => {
                attempt += 1;
                meta_mut(&mut obj).insert("name".into(), json!(next_name(base)));
            }
            other => return other,
        }
    }
}

/// The end of every create (POST, or server-side apply of a missing object): store the admitted
/// object (unless dry run), register it if it is a CRD, answer 201 with any warnings.
/// `generated_from` is the `generateName` the name was made from, if it was.
async fn store_new(
    ctx: &Ctx,
    name: &str,
    obj: Value,
    warnings: &[String],
    generated_from: Option<String>,
) -> ApiResult<Response> {
    let obj = to_storage(ctx, obj);
    if ctx.query.dry_run {
        check_namespace_usable(ctx).await?;
        return Ok(respond(StatusCode::CREATED, &ctx.present(obj), warnings));
    }
    let key = ctx.key("");
    let store = ctx.cluster.store.clone();
    let namespace = create_namespace_of(ctx);
    let (group, plural) = (ctx.info.group.clone(), ctx.info.plural.clone());
    let stored = blocking(move || {
        let mut rng = fastrand::Rng::new();
        create_retrying_generated_name(
            obj,
            generated_from.as_deref(),
            |base| apimachinery::meta::generate_name_with(base, &mut rng),
            |name, obj| {
                let key = Key {
                    name: name.to_string(),
                    ..key.clone()
                };
                // A namespace problem is the body's answer, not an error: nothing is written.
                store
                    .write(|t| {
                        if let Some(ns) = &namespace {
                            let got = t.get(&Key::cluster("namespaces", ns.as_str()))?;
                            if let Some(e) = namespace_problem(&group, &plural, ns, got.as_ref()) {
                                return Ok(Err(e));
                            }
                        }
                        t.create(&key, obj).map(Ok)
                    })
                    .map(|(s, _)| s)
            },
        )
    })
    .await
    .map_err(|e| {
        // After retries the collision is on the last generated name.
        let name = match &e {
            StoreError::AlreadyExists { key } => key.name.clone(),
            _ => name.to_string(),
        };
        store_error(e, &ctx.info, &name)
    })??;
    if ctx.is_crd() {
        crate::crd::register(&ctx.cluster, &stored.value);
    }
    Ok(respond(
        StatusCode::CREATED,
        &ctx.present(stored.value),
        warnings,
    ))
}

/// Objects are stored at the storage version (converted by `apiresources::conversion`). A request
/// at the storage version already carries it (`check_kind`), so only other versions look it up.
fn to_storage(ctx: &Ctx, obj: Value) -> Value {
    if ctx.info.storage {
        return obj;
    }
    match ctx
        .cluster
        .catalogue()
        .storage_version(&ctx.info.group, &ctx.info.plural)
    {
        Some(s) => apiresources::conversion::convert(obj, &s.api_version()),
        None => obj,
    }
}

/// Records the `Update` manager of an ordinary write in `managedFields`. Server-side apply has
/// already recorded its own `Apply` entry. A bug here panics, and the request answers 500 (see
/// `error::panic_response`) with the transaction rolled back; nothing is hidden.
fn record_write_manager(ctx: &Ctx, old: Option<&Value>, new: &mut Value) {
    if super::body::content_type(&ctx.headers) == "application/apply-patch+yaml" {
        return;
    }
    record_update(ctx, old, new);
}

fn strip_for_compare(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            o.remove(k);
        }
    }
    v
}

/// Merges a client's new object over the current one inside the transaction: server-owned
/// metadata is kept, status isolation applies, generation is bumped on spec changes.
fn merge_for_update(ctx: &Ctx, cur: &Value, mut new: Value) -> Value {
    match ctx.subresource.as_deref() {
        Some("status") => {
            // Only .status changes through /status.
            let mut out = stored_with_writer(cur, &new);
            copy_part(&mut out, "status", new.get("status"));
            if ctx.info.is_builtin()
                && apiresources::defaults::status_writes_annotations(&ctx.info.gvk())
            {
                let annotations = new.pointer("/metadata/annotations");
                copy_part(&mut out["metadata"], "annotations", annotations);
            }
            return out;
        }
        Some("ephemeralcontainers") => {
            // Only .spec.ephemeralContainers changes through /ephemeralcontainers.
            let mut out = stored_with_writer(cur, &new);
            let written = new.pointer("/spec/ephemeralContainers");
            copy_part(&mut out["spec"], "ephemeralContainers", written);
            return out;
        }
        Some("resize") => return resized(cur, &new),
        _ => {}
    }
    if ctx.info.is_builtin() && ctx.info.group.is_empty() && ctx.info.kind == "Service" {
        apiresources::defaults::keep_service_ip(cur, &mut new);
    }
    if ctx.info.subresources.status && !ctx.is_crd() {
        match cur.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
    }
    let cur_meta = cur.get("metadata").cloned().unwrap_or_else(|| json!({}));
    {
        let m = meta_mut(&mut new);
        for k in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "name",
            "namespace",
            "generation",
        ] {
            match cur_meta.get(k) {
                Some(v) => {
                    m.insert(k.into(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
    }
    let meta_changed =
        |field: &str| cur_meta.get(field) != new.pointer(&format!("/metadata/{field}"));
    let bump = match ctx.info.generation() {
        Generation::Untracked | Generation::CreateOnly => false,
        Generation::Spec => strip_for_compare(cur) != strip_for_compare(&new),
        Generation::SpecOrAnnotations => {
            strip_for_compare(cur) != strip_for_compare(&new) || meta_changed("annotations")
        }
        Generation::SpecOrLabels => {
            strip_for_compare(cur) != strip_for_compare(&new) || meta_changed("labels")
        }
    };
    if bump {
        let cur_gen = cur_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta_mut(&mut new).insert("generation".into(), json!(cur_gen + 1));
    }
    if ctx.is_crd() {
        crate::crd::set_status(&mut new);
    }
    new
}

/// A Pod after a write through `pods/<name>/resize`: the stored Pod with each container's
/// `resources` and `resizePolicy` as written (matched by name), nothing else changed (kube's
/// `dropNonResizeUpdates`).
fn resized(cur: &Value, new: &Value) -> Value {
    let mut out = stored_with_writer(cur, new);
    for list in ["containers", "initContainers"] {
        let written = new["spec"][list].as_array();
        let stored = out.pointer_mut(&format!("/spec/{list}"));
        for c in stored.and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(w) = written
                .into_iter()
                .flatten()
                .find(|w| w["name"] == c["name"])
            else {
                continue;
            };
            for field in ["resources", "resizePolicy"] {
                copy_part(c, field, w.get(field));
            }
        }
    }
    out
}

/// The stored object as a subresource write starts from: nothing of the written object but its
/// `managedFields` (which the write's field manager recorded).
fn stored_with_writer(cur: &Value, new: &Value) -> Value {
    let mut out = cur.clone();
    if let Some(mf) = new.pointer("/metadata/managedFields").cloned() {
        meta_mut(&mut out).insert("managedFields".into(), mf);
    }
    out
}

/// Sets `obj[key]` to the written `part`, or removes it when the write has none.
fn copy_part(obj: &mut Value, key: &str, part: Option<&Value>) {
    if let Some(m) = obj.as_object_mut() {
        match part {
            Some(v) => m.insert(key.into(), v.clone()),
            None => m.remove(key),
        };
    }
}

/// What a transaction did to the object.
enum Outcome {
    Updated(Value),
    Deleted(Value),
}

fn finalizers_empty(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
}

/// Writes `new` over the current object; deletes it when it is being deleted and its last
/// finalizer went away.
fn write_update(
    t: &mut Txn<'_>,
    key: &Key,
    new: Value,
    expected: u64,
) -> Result<Outcome, TxnError> {
    if new.pointer("/metadata/deletionTimestamp").is_some()
        && finalizers_empty(&new)
        && key.resource != "namespaces"
    {
        let gone = t.delete(key, Some(expected))?;
        return Ok(Outcome::Deleted(gone.value));
    }
    Ok(Outcome::Updated(t.update(key, new, Some(expected))?.value))
}

fn body_rv(obj: &Value, ctx: &Ctx, name: &str) -> ApiResult<Option<u64>> {
    match meta_str(obj, "resourceVersion").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "metadata.resourceVersion {s:?} of {} {name:?} is not valid",
                ctx.info.group_resource()
            ))
        }),
    }
}

/// PUT: replace an object (or its status).
pub async fn update(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let name = ctx.name.clone().unwrap_or_default();
    let mut obj = decode_object(&ctx.headers, &body)?;
    check_kind(&ctx, &mut obj)?;
    check_namespace(&ctx, &mut obj)?;
    match meta_str(&obj, "name") {
        None | Some("") => {
            meta_mut(&mut obj).insert("name".into(), json!(name));
        }
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        _ => {}
    }
    let expected = body_rv(&obj, &ctx, &name)?;
    let warnings = admit(&ctx, &mut obj, false)?;
    let obj = to_storage(&ctx, obj);
    commit_update(ctx, name, obj, expected, warnings).await
}

async fn commit_update(
    ctx: Ctx,
    name: String,
    obj: Value,
    expected: Option<u64>,
    warnings: Vec<String>,
) -> ApiResult<Response> {
    let key = ctx.key(&name);
    let store = ctx.cluster.store.clone();
    let ctx = std::sync::Arc::new(ctx);
    let c2 = ctx.clone();
    let dry = ctx.query.dry_run;
    let res = blocking(move || {
        store.write_with(|t| -> Result<Outcome, TxnError> {
            let cur = t
                .get(&key)?
                .ok_or_else(|| StoreError::NotFound { key: key.clone() })?;
            if let Some(e) = expected
                && e != cur.revision
            {
                return Err(StoreError::Conflict {
                    key: key.clone(),
                    expected: e,
                    current: cur.revision,
                }
                .into());
            }
            let mut new = merge_for_update(&c2, &cur.value, obj);
            let errs = match (c2.info.is_builtin(), c2.subresource.as_deref()) {
                (true, None) => {
                    crate::validation::validate_update(&c2.info.gvk(), &cur.value, &new)
                }
                (true, Some("ephemeralcontainers")) => {
                    crate::validation::validate_ephemeral_containers_update(&cur.value, &new)
                }
                (true, Some("resize")) => crate::validation::validate_resize(&cur.value, &new),
                _ => Vec::new(),
            };
            if !errs.is_empty() {
                let name = meta_str(&new, "name").unwrap_or_default();
                let e = apimachinery::ApiError::invalid(&c2.info.group, &c2.info.kind, name, errs);
                return Err(TxnError::Api(Box::new(e)));
            }
            record_write_manager(&c2, Some(&cur.value), &mut new);
            apimachinery::meta::normalize_object_meta(&mut new);
            if dry {
                return Ok(Outcome::Updated(new));
            }
            write_update(t, &key, new, cur.revision)
        })
    })
    .await
    .map_err(|e| e.into_api(&ctx, &name))?;
    let (obj, gone) = match res.0 {
        Outcome::Updated(v) => (v, false),
        Outcome::Deleted(v) => (v, true),
    };
    if ctx.is_crd() {
        if gone {
            ctx.cluster.remove_crd(&name);
        } else {
            crate::crd::register(&ctx.cluster, &obj);
        }
    }
    Ok(respond(StatusCode::OK, &ctx.present(obj), &warnings))
}

/// PATCH: json-patch, merge-patch, strategic-merge-patch (built-ins) or server-side apply.
pub async fn patch(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let name = ctx.name.clone().unwrap_or_default();
    let ct = super::body::content_type(&ctx.headers);
    let Some(pt) = PatchType::from_content_type(&ct) else {
        return Err(ApiError::unsupported_media_type(&ct));
    };
    if pt == PatchType::StrategicMerge && !ctx.info.is_builtin() {
        return Err(apimachinery::ApiError::unsupported_patch_type(
            apimachinery::patch::CUSTOM_RESOURCE_PATCH_TYPES,
        ));
    }
    let mut patch_doc: Value = match pt {
        PatchType::Apply => apimachinery::apply::parse_apply_body(&body)?,
        _ => super::body::parse_json(&body)?,
    };
    if pt == PatchType::Apply
        && ctx.subresource.is_none()
        && ctx.info.subresources.status
        && !ctx.is_crd()
    {
        apimachinery::apply::drop_status(&mut patch_doc);
    }
    if pt == PatchType::Apply && ctx.query.field_manager.is_none() {
        return Err(ApiError::Other {
            code: 422,
            reason: "Invalid".into(),
            message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
            causes: Vec::new(),
        });
    }
    let mut attempts = 0;
    loop {
        attempts += 1;
        let key = ctx.key(&name);
        let store = ctx.cluster.store.clone();
        let cur = blocking(move || store.get(&key))
            .await
            .map_err(|e| store_error(e, &ctx.info, &name))?;
        let cur = match cur {
            Some(c) => c,
            None if pt == PatchType::Apply && ctx.subresource.is_none() => {
                // Another writer may create it first: then this apply is applied to that
                // object, as kube-apiserver's create-on-update retries (never a 409 here).
                match apply_create(ctx.clone(), &name, patch_doc.clone()).await {
                    Err(ApiError::AlreadyExists { .. }) if attempts < MAX_PATCH_ATTEMPTS => {
                        continue;
                    }
                    other => return other,
                }
            }
            None => {
                return Err(ApiError::not_found(
                    &ctx.info.group,
                    &ctx.info.plural,
                    &name,
                ));
            }
        };
        let live = ctx.present(cur.value.clone());
        let mut new = match pt {
            PatchType::Json => apimachinery::patch::apply_json_patch(&live, &patch_doc)
                .map_err(|e| ApiError::from(e.to_api_error()))?,
            PatchType::Merge => apimachinery::patch::apply_merge_patch(&live, &patch_doc),
            PatchType::StrategicMerge => {
                apimachinery::patch::apply_strategic_merge_patch(&live, &patch_doc, &ctx.info.kind)
                    .map_err(|e| ApiError::from(e.to_api_error()))?
            }
            PatchType::Apply => {
                let mgr = ctx.query.field_manager.clone().unwrap_or_default();
                let av = ctx.info.api_version();
                let now = now();
                let opts = apimachinery::apply::ManagerOptions {
                    manager: &mgr,
                    force: ctx.query.force,
                    api_version: &av,
                    subresource: ctx.subresource.as_deref(),
                    now: &now,
                    types: type_info(&ctx),
                };
                apimachinery::apply::server_side_apply(Some(&live), &patch_doc, &opts)?
            }
        };
        // A resourceVersion in the patch is a precondition; otherwise the read revision is.
        if pt != PatchType::Apply
            && meta_str(&new, "resourceVersion").is_some_and(|rv| rv != cur.revision.to_string())
        {
            return Err(ApiError::object_modified(
                &ctx.info.group,
                &ctx.info.plural,
                &name,
            ));
        }
        check_kind(&ctx, &mut new)?;
        check_namespace(&ctx, &mut new)?;
        if meta_str(&new, "name") != Some(name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "the patch changes metadata.name of {:?}; names cannot be changed",
                name
            )));
        }
        meta_mut(&mut new).insert("resourceVersion".into(), json!(cur.revision.to_string()));
        let warnings = admit(&ctx, &mut new, false)?;
        let new = to_storage(&ctx, new);
        let patched_ctx = ctx.clone();
        match commit_update(patched_ctx, name.clone(), new, Some(cur.revision), warnings).await {
            Err(e)
                if matches!(
                    e,
                    ApiError::Conflict { .. } | ApiError::ApplyConflict { .. }
                ) && attempts < MAX_PATCH_ATTEMPTS
                    && !patch_has_rv(&patch_doc) =>
            {
                continue;
            }
            other => return other,
        }
    }
}

/// How often a patch without a resourceVersion precondition is re-read and re-applied after losing
/// a race to another writer. kube-apiserver retries such patches until they land, so a client never
/// sees a 409 it did not ask for; with N concurrent writers a patch loses at most N-1 rounds, so the
/// cap only stops a pathological livelock.
const MAX_PATCH_ATTEMPTS: u32 = 1000;

fn patch_has_rv(p: &Value) -> bool {
    p.pointer("/metadata/resourceVersion").is_some()
}

/// Server-side apply of an object that does not exist yet: a create.
async fn apply_create(ctx: Ctx, name: &str, config: Value) -> ApiResult<Response> {
    let mgr = ctx.query.field_manager.clone().unwrap_or_default();
    let av = ctx.info.api_version();
    let now = now();
    let opts = apimachinery::apply::ManagerOptions {
        manager: &mgr,
        force: ctx.query.force,
        api_version: &av,
        subresource: None,
        now: &now,
        types: type_info(&ctx),
    };
    let mut obj = apimachinery::apply::server_side_apply(None, &config, &opts)?;
    check_kind(&ctx, &mut obj)?;
    check_namespace(&ctx, &mut obj)?;
    if meta_str(&obj, "name").unwrap_or("").is_empty() {
        meta_mut(&mut obj).insert("name".into(), json!(name));
    }
    if meta_str(&obj, "name") != Some(name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object does not match the name on the URL ({name})"
        )));
    }
    check_namespace_usable(&ctx).await?;
    check_crd_not_terminating(&ctx).await?;
    let warnings = admit(&ctx, &mut obj, true)?;
    admit_pod(&ctx, &mut obj).await?;
    let mf = obj.pointer("/metadata/managedFields").cloned();
    initialize_new(&ctx, &mut obj);
    if let Some(mf) = mf {
        meta_mut(&mut obj).insert("managedFields".into(), mf);
    }
    if ctx.is_crd() {
        crate::crd::set_status(&mut obj);
    }
    apimachinery::meta::normalize_object_meta(&mut obj);
    store_new(&ctx, name, obj, &warnings, None).await
}

/// Marks an object deleted or removes it, per finalizers and propagation policy. Runs inside a
/// transaction. Returns the resulting object and whether it is gone.
pub fn delete_in_txn(
    t: &mut Txn<'_>,
    key: &Key,
    opts: &DeleteOptions,
    is_namespace: bool,
) -> Result<(Value, bool), TxnError> {
    let cur = t
        .get(key)?
        .ok_or_else(|| StoreError::NotFound { key: key.clone() })?;
    if let Some(uid) = &opts.precondition_uid {
        let have = meta_str(&cur.value, "uid").unwrap_or("");
        if have != uid {
            return Err(TxnError::Api(Box::new(ApiError::conflict(
                "",
                &key.resource,
                &key.name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                ),
            ))));
        }
    }
    if let Some(rv) = &opts.precondition_rv
        && *rv != cur.revision.to_string()
    {
        return Err(TxnError::Api(Box::new(ApiError::conflict(
            "",
            &key.resource,
            &key.name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                cur.revision
            ),
        ))));
    }
    let mut obj = cur.value.clone();
    let mut finalizers: Vec<Value> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let add = match opts.propagation_policy.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ => None,
    };
    let already_deleting = obj.pointer("/metadata/deletionTimestamp").is_some();
    if key.resource == crate::cluster::CRD_RESOURCE && !already_deleting {
        crate::crd::mark_for_deletion(&mut obj, &mut finalizers);
    }
    if let Some(f) = add
        && !already_deleting
        && !finalizers.iter().any(|x| x == f)
    {
        finalizers.push(json!(f));
    }
    if is_namespace {
        if !already_deleting {
            let m = meta_mut(&mut obj);
            m.insert("deletionTimestamp".into(), json!(now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            if !finalizers.is_empty() {
                m.insert("finalizers".into(), Value::Array(finalizers));
            }
            obj["status"]["phase"] = json!("Terminating");
            if opts.dry_run {
                return Ok((obj, false));
            }
            let s = t.update(key, obj, Some(cur.revision))?;
            return Ok((s.value, false));
        }
        // As kube-apiserver: deleting a terminating namespace again removes it once it is
        // finalized (the namespace controller emptied it and cleared `spec.finalizers`).
        let spec_finalized = obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        if spec_finalized && finalizers.is_empty() && !opts.dry_run {
            let s = t.delete(key, Some(cur.revision))?;
            return Ok((s.value, true));
        }
        return Ok((obj, false));
    }
    if finalizers.is_empty() {
        if opts.dry_run {
            return Ok((obj, true));
        }
        let s = t.delete(key, Some(cur.revision))?;
        return Ok((s.value, true));
    }
    if already_deleting {
        return Ok((obj, false));
    }
    let m = meta_mut(&mut obj);
    m.insert("deletionTimestamp".into(), json!(now()));
    m.insert("deletionGracePeriodSeconds".into(), json!(0));
    m.insert("finalizers".into(), Value::Array(finalizers));
    // As kube-apiserver's `markAsDeleting`: a tracked generation moves on when deletion starts.
    if let Some(g) = m
        .get("generation")
        .and_then(Value::as_i64)
        .filter(|g| *g > 0)
    {
        m.insert("generation".into(), json!(g + 1));
    }
    if opts.dry_run {
        return Ok((obj, false));
    }
    let s = t.update(key, obj, Some(cur.revision))?;
    Ok((s.value, false))
}

/// DELETE one object.
pub async fn delete(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let name = ctx.name.clone().unwrap_or_default();
    let opts = DeleteOptions::parse(&ctx.headers, &body, &ctx.query)?;
    let key = ctx.key(&name);
    let store = ctx.cluster.store.clone();
    let is_ns = ctx.is_namespace();
    let is_crd = ctx.is_crd();
    let o2 = opts.clone();
    // A CRD is not removed here: it gets the cleanup finalizer, and the CRD cleanup controller
    // (crates/controllers) deletes its objects and then removes the finalizer.
    let ((obj, gone), _) =
        blocking(move || store.write_with(|t| delete_in_txn(t, &key, &o2, is_ns)))
            .await
            .map_err(|e| e.into_api(&ctx, &name))?;
    if is_crd && gone && !opts.dry_run {
        ctx.cluster.remove_crd(&name);
    }
    Ok(respond(StatusCode::OK, &ctx.present(obj), &[]))
}

/// DELETE a collection (with selectors).
pub async fn delete_collection(ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let opts = DeleteOptions::parse(&ctx.headers, &body, &ctx.query)?;
    let sel = super::read::Selectors::parse(&ctx)?;
    let listed = super::read::read_list(&ctx, sel, None).await?;
    let mut items = Vec::new();
    for obj in listed.items {
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        let ns = meta_str(&obj, "namespace").unwrap_or("").to_string();
        let key = Key::new(ctx.info.resource_key(), ns, name.clone());
        let store = ctx.cluster.store.clone();
        let o2 = opts.clone();
        let is_ns = ctx.is_namespace();
        match blocking(move || store.write_with(|t| delete_in_txn(t, &key, &o2, is_ns))).await {
            Ok(((v, _), _)) => items.push(ctx.present(v)),
            Err(TxnError::Store(StoreError::NotFound { .. })) => {}
            Err(e) => return Err(e.into_api(&ctx, &name)),
        }
    }
    let list = json!({
        "kind": ctx.info.list_kind,
        "apiVersion": ctx.info.api_version(),
        "metadata": {"resourceVersion": ctx.cluster.store.revision().to_string()},
        "items": items,
    });
    Ok((StatusCode::OK, axum::Json(list)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = store::Store::open(&dir.path().join("s.db"), Default::default()).unwrap();
        (dir, s)
    }

    fn create_in(s: &store::Store, name: &str, obj: Value) -> Result<store::Stored, StoreError> {
        let key = Key::new("configmaps", "default", name);
        s.write(|t| t.create(&key, obj)).map(|(v, _)| v)
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default", "generateName": "web-"}})
    }

    #[test]
    fn generate_name_collisions_are_retried_with_fresh_names() {
        let (_d, s) = store();
        // The names a seeded generator will produce; the first three are already taken.
        let mut probe = fastrand::Rng::with_seed(7);
        let names: Vec<String> = (0..4)
            .map(|_| apimachinery::meta::generate_name_with("web-", &mut probe))
            .collect();
        for n in &names[..3] {
            create_in(&s, n, cm(n)).unwrap();
        }
        let mut rng = fastrand::Rng::with_seed(7);
        let first = apimachinery::meta::generate_name_with("web-", &mut rng);
        assert_eq!(first, names[0]);
        let mut tries = Vec::new();
        let stored = create_retrying_generated_name(
            cm(&first),
            Some("web-"),
            |b| apimachinery::meta::generate_name_with(b, &mut rng),
            |n, o| {
                tries.push(n.to_string());
                create_in(&s, n, o)
            },
        )
        .expect("a fresh name after three collisions");
        assert_eq!(tries, names);
        assert_eq!(stored.value["metadata"]["name"], json!(names[3]));
    }

    #[test]
    fn generate_name_gives_up_after_the_attempt_limit_and_names_are_not_retried() {
        let (_d, s) = store();
        create_in(&s, "web-taken", cm("web-taken")).unwrap();
        let mut tries = 0;
        let err = create_retrying_generated_name(
            cm("web-taken"),
            Some("web-"),
            |_| "web-taken".to_string(),
            |n, o| {
                tries += 1;
                create_in(&s, n, o)
            },
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
        assert_eq!(tries, GENERATE_NAME_ATTEMPTS);
        // A name the client chose is never replaced.
        let mut tries = 0;
        let err = create_retrying_generated_name(
            cm("web-taken"),
            None,
            |_| unreachable!("no name is generated for a client-chosen name"),
            |n, o| {
                tries += 1;
                create_in(&s, n, o)
            },
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }));
        assert_eq!(tries, 1);
    }
}
