//! Patches: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and Kubernetes' strategic
//! merge patch for the built-in kinds the server serves.
//!
//! Strategic merge needs, per list, its patch strategy (`merge` by a key, `replace`, or a
//! set of primitives). Those come from a hand-built table of the built-in types
//! ([`list_strategy`]), mirroring the `patchStrategy`/`patchMergeKey` tags of the Go types.
//! Directives handled: `$patch: replace|delete|merge`, `$setElementOrder/<list>`,
//! `$retainKeys`, `$deleteFromPrimitiveList/<list>`, and `null` deleting a key.

use crate::status::ApiError;
use serde_json::{Map, Value};

/// The four PATCH content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply, see [`crate::apply`])
    Apply,
}

impl PatchType {
    /// Recognise a `Content-Type` (parameters such as `; charset=utf-8` ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
    /// The media type string.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// The patch types kube-apiserver accepts for custom resources (no strategic merge); use
/// with [`ApiError::unsupported_patch_type`].
pub const CUSTOM_RESOURCE_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// A patch that could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (400).
    #[error("{0}")]
    BadPatch(String),
    /// The patch is well-formed but cannot be applied to this object, e.g. a failed `test`
    /// or a path that does not exist (422).
    #[error("{0}")]
    Unprocessable(String),
}

impl PatchError {
    /// The Status error kube-apiserver answers with: a malformed patch is a 400 BadRequest
    /// carrying the decoder's message; a JSON Patch that cannot apply (failed `test`, missing
    /// path) is kube-apiserver's generic 422 `the server rejected our request due to an error
    /// in our request`, with the patch's own error as an `UnexpectedServerResponse` cause.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            PatchError::BadPatch(m) => ApiError::BadRequest(m.clone()),
            // As kube-apiserver's NewGenericServerResponse: the generic message, the patch's
            // own error as a cause.
            PatchError::Unprocessable(m) => ApiError::Other {
                code: 422,
                reason: "Invalid".into(),
                message: "the server rejected our request due to an error in our request".into(),
                causes: vec![crate::status::StatusCause {
                    reason: "UnexpectedServerResponse".into(),
                    message: m.clone(),
                    field: String::new(),
                }],
            },
        }
    }
}

/// How a list field merges in a strategic merge patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Replace the whole list (the default for lists without a strategy).
    Replace,
    /// Merge elements by the value of this key (`patchStrategy:"merge" patchMergeKey:"name"`).
    MergeByKey(&'static str),
    /// A list of primitives merged as a set (`patchStrategy:"merge"` on `[]string`, e.g.
    /// finalizers).
    MergePrimitives,
}

// ---------------------------------------------------------------------------------------
// The patch-strategy table of the built-in types. Each Go struct that carries a
// `patchStrategy` tag somewhere below it gets a node; everything else is `Other` (maps
// merge key by key, lists are replaced).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Other,
    Root(&'static str),
    ObjectMeta,
    PodTemplateSpec,
    PodSpec,
    Container,
    PodStatus,
    WorkloadSpec {
        retain_strategy: bool,
    },
    ServiceSpec,
    /// A status whose `conditions` merge by `type`.
    ConditionsStatus,
    /// A struct server-side apply treats as one value (`+structType=atomic`, e.g. the
    /// `LabelSelector` of workloads); strategic merge still merges it key by key.
    AtomicStruct,
}

#[derive(Debug, Clone, Copy)]
struct FieldMeta {
    ty: Ty,
    strategy: ListStrategy,
    retain_keys: bool,
}

const fn fm(ty: Ty, strategy: ListStrategy, retain_keys: bool) -> FieldMeta {
    FieldMeta {
        ty,
        strategy,
        retain_keys,
    }
}

const OTHER: FieldMeta = fm(Ty::Other, ListStrategy::Replace, false);

fn by_key(key: &'static str, ty: Ty) -> FieldMeta {
    fm(ty, ListStrategy::MergeByKey(key), false)
}

/// The kinds whose patch strategies the table knows.
pub const STRATEGIC_KINDS: &[&str] = &[
    "Namespace",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Service",
    "Event",
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "Lease",
    "PodTemplate",
];

fn root_type(kind: &str) -> Ty {
    match STRATEGIC_KINDS.iter().find(|k| **k == kind) {
        Some(k) => Ty::Root(k),
        None => Ty::Other,
    }
}

fn field_meta(ty: Ty, field: &str) -> FieldMeta {
    match (ty, field) {
        (Ty::Root(_), "metadata") => fm(Ty::ObjectMeta, ListStrategy::Replace, false),
        (Ty::Root("Pod"), "spec") => fm(Ty::PodSpec, ListStrategy::Replace, false),
        (Ty::Root("Pod"), "status") => fm(Ty::PodStatus, ListStrategy::Replace, false),
        (Ty::Root("PodTemplate"), "template") => OTHER_TEMPLATE,
        (Ty::Root("Deployment"), "spec") => fm(
            Ty::WorkloadSpec {
                retain_strategy: true,
            },
            ListStrategy::Replace,
            false,
        ),
        (Ty::Root("ReplicaSet" | "StatefulSet" | "DaemonSet"), "spec") => fm(
            Ty::WorkloadSpec {
                retain_strategy: false,
            },
            ListStrategy::Replace,
            false,
        ),
        (
            Ty::Root(
                "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Service" | "Namespace"
                | "APIService",
            ),
            "status",
        ) => fm(Ty::ConditionsStatus, ListStrategy::Replace, false),
        (Ty::Root("Service"), "spec") => fm(Ty::ServiceSpec, ListStrategy::Replace, false),
        (Ty::Root("ServiceAccount"), "secrets") => by_key("name", Ty::Other),
        (Ty::ObjectMeta, "finalizers") => fm(Ty::Other, ListStrategy::MergePrimitives, false),
        (Ty::ObjectMeta, "ownerReferences") => by_key("uid", Ty::Other),
        (Ty::WorkloadSpec { .. }, "template") => OTHER_TEMPLATE,
        (Ty::WorkloadSpec { .. }, "selector") => fm(Ty::AtomicStruct, ListStrategy::Replace, false),
        (
            Ty::WorkloadSpec {
                retain_strategy: true,
            },
            "strategy",
        ) => fm(Ty::Other, ListStrategy::Replace, true),
        (Ty::PodTemplateSpec, "metadata") => fm(Ty::ObjectMeta, ListStrategy::Replace, false),
        (Ty::PodTemplateSpec, "spec") => fm(Ty::PodSpec, ListStrategy::Replace, false),
        (Ty::PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
            by_key("name", Ty::Container)
        }
        (Ty::PodSpec, "volumes" | "resourceClaims") => {
            fm(Ty::Other, ListStrategy::MergeByKey("name"), true)
        }
        (Ty::PodSpec, "imagePullSecrets" | "schedulingGates") => by_key("name", Ty::Other),
        (Ty::PodSpec, "hostAliases") => by_key("ip", Ty::Other),
        (Ty::PodSpec, "topologySpreadConstraints") => by_key("topologyKey", Ty::Other),
        (Ty::Container, "ports") => by_key("containerPort", Ty::Other),
        (Ty::Container, "env") => by_key("name", Ty::Other),
        (Ty::Container, "volumeMounts") => by_key("mountPath", Ty::Other),
        (Ty::Container, "volumeDevices") => by_key("devicePath", Ty::Other),
        (Ty::PodStatus | Ty::ConditionsStatus, "conditions") => by_key("type", Ty::Other),
        (Ty::PodStatus, "podIPs" | "hostIPs") => by_key("ip", Ty::Other),
        (Ty::ServiceSpec, "ports") => by_key("port", Ty::Other),
        _ => OTHER,
    }
}

const OTHER_TEMPLATE: FieldMeta = fm(Ty::PodTemplateSpec, ListStrategy::Replace, false);

fn lookup(kind: &str, path: &[&str]) -> FieldMeta {
    let mut meta = fm(root_type(kind), ListStrategy::Replace, false);
    for seg in path {
        meta = field_meta(meta.ty, seg);
    }
    meta
}

/// The list strategy of the field at `path` (field names only, list indices omitted) of a
/// built-in `kind`, e.g. `("Deployment", ["spec","template","spec","containers"])` →
/// `MergeByKey("name")`. Unknown kinds/paths → `Replace`.
pub fn list_strategy(kind: &str, path: &[&str]) -> ListStrategy {
    lookup(kind, path).strategy
}

/// Whether a map field at `path` of `kind` carries `patchStrategy:"retainKeys"`
/// (e.g. `spec.strategy` of a Deployment, `spec.template.spec.volumes` elements).
pub fn retains_keys(kind: &str, path: &[&str]) -> bool {
    lookup(kind, path).retain_keys
}

/// A position in the built-in type table, for walking objects alongside their types
/// (server-side apply reuses the strategic-merge table for list semantics).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeCursor(FieldMeta);

impl TypeCursor {
    pub(crate) fn root(kind: &str) -> Self {
        TypeCursor(fm(root_type(kind), ListStrategy::Replace, false))
    }
    pub(crate) fn field(self, name: &str) -> Self {
        TypeCursor(field_meta(self.0.ty, name))
    }
    /// The element of a list field.
    pub(crate) fn item(self) -> Self {
        TypeCursor(fm(self.0.ty, ListStrategy::Replace, false))
    }
    pub(crate) fn strategy(self) -> ListStrategy {
        self.0.strategy
    }
    /// Whether server-side apply treats the map here as a single value.
    pub(crate) fn atomic_struct(self) -> bool {
        self.0.ty == Ty::AtomicStruct
    }
}

/// Whether `kind` is a built-in kind this table covers (strategic merge allowed).
pub fn supports_strategic_merge(kind: &str) -> bool {
    STRATEGIC_KINDS.contains(&kind)
}

// ---------------------------------------------------------------------------------------
// JSON Patch and JSON Merge Patch.

/// Apply an RFC 6902 JSON Patch, with kube-apiserver's one leniency: a `test` of `null`
/// against a key that is absent (its parent existing) succeeds. kube-rs' finalizer helper
/// relies on it (`test /metadata/finalizers == null`, then `add`).
pub fn apply_json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let p: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::BadPatch(format!("invalid JSON Patch: {e}")))?;
    let mut out = doc.clone();
    // Where a key is absent from an object that exists, kube-apiserver's JSON Patch
    // (evanphx/json-patch v4) lets `test` of null pass and `replace` add the key.
    let absent_key_of_an_object = |doc: &Value, path: &str| {
        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        doc.pointer(path).is_none() && doc.pointer(parent).is_some_and(Value::is_object)
    };
    for (i, op) in p.0.iter().enumerate() {
        let lenient = match op {
            json_patch::PatchOperation::Test(t)
                if t.value.is_null() && absent_key_of_an_object(&out, t.path.as_str()) =>
            {
                continue;
            }
            json_patch::PatchOperation::Replace(r)
                if absent_key_of_an_object(&out, r.path.as_str()) =>
            {
                json_patch::PatchOperation::Add(json_patch::AddOperation {
                    path: r.path.clone(),
                    value: r.value.clone(),
                })
            }
            other => other.clone(),
        };
        json_patch::patch(&mut out, std::slice::from_ref(&lenient))
            .map_err(|e| PatchError::Unprocessable(format!("operation {i}: {e}")))?;
    }
    Ok(out)
}

/// Apply an RFC 7386 JSON Merge Patch (`null` deletes, objects merge, the rest replaces).
pub fn apply_merge_patch(doc: &Value, patch: &Value) -> Value {
    let mut out = doc.clone();
    json_patch::merge(&mut out, patch);
    out
}

/// The RFC 7386 merge patch that turns `original` into `modified` (`{}` when equal).
pub fn create_merge_patch(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(o), Value::Object(m)) => {
            let mut p = Map::new();
            for (k, ov) in o {
                match m.get(k) {
                    None => {
                        p.insert(k.clone(), Value::Null);
                    }
                    Some(mv) if mv != ov => {
                        let sub = if ov.is_object() && mv.is_object() {
                            create_merge_patch(ov, mv)
                        } else {
                            mv.clone()
                        };
                        p.insert(k.clone(), sub);
                    }
                    _ => {}
                }
            }
            for (k, mv) in m {
                if !o.contains_key(k) {
                    p.insert(k.clone(), mv.clone());
                }
            }
            Value::Object(p)
        }
        _ => modified.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Strategic merge patch.

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

/// Apply a strategic merge patch to an object of built-in `kind` (`Deployment`, ...).
/// Nulls for absent keys are ignored, as kube-apiserver does.
pub fn apply_strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    kind: &str,
) -> Result<Value, PatchError> {
    let Value::Object(p) = patch else {
        return Err(PatchError::BadPatch(format!(
            "strategic merge patch must be a JSON object, got {}",
            type_name(patch)
        )));
    };
    let original = match doc {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    let merged = merge_map(original, p.clone(), root_type(kind))?;
    Ok(Value::Object(merged))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(d) = patch.get(DIRECTIVE) {
        return match d.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                strip_map(patch, ty)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(PatchError::BadPatch(format!(
                "Unable to apply patch: unknown patch type {d} in map"
            ))),
        };
    }

    // $retainKeys: drop every original key not listed.
    if let Some(rk) = patch.remove(RETAIN_KEYS) {
        let Value::Array(keys) = rk else {
            return Err(PatchError::BadPatch(format!(
                "invalid type for {RETAIN_KEYS}: expected a list of strings"
            )));
        };
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        // every key the patch sets must be retained (nulls and directives aside)
        let stray = patch.iter().any(|(k, v)| {
            !v.is_null()
                && !k.starts_with(DELETE_PRIMITIVE_PREFIX)
                && !k.starts_with(SET_ORDER_PREFIX)
                && !keep.contains(&k.as_str())
        });
        if stray {
            return Err(PatchError::BadPatch(
                "invalid patch format of retainKeys".into(),
            ));
        }
        original.retain(|k, _| keep.contains(&k.as_str()));
    }

    // $setElementOrder/<list>: merge those lists now, then order them.
    let order_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER_PREFIX))
        .cloned()
        .collect();
    for ok in order_keys {
        let order = patch.remove(&ok).unwrap_or(Value::Null);
        let Value::Array(order) = order else {
            return Err(PatchError::BadPatch(format!(
                "invalid type for {ok}: expected a list"
            )));
        };
        let field = ok[SET_ORDER_PREFIX.len()..].to_string();
        let meta = field_meta(ty, &field);
        let orig_list = original.get(&field).and_then(Value::as_array).cloned();
        let patch_list = match patch.remove(&field) {
            Some(Value::Array(a)) => Some(a),
            Some(Value::Null) => {
                original.remove(&field);
                continue;
            }
            Some(other) => {
                original.insert(field.clone(), strip_value(other, meta.ty)?);
                continue;
            }
            None => None,
        };
        let merged = match (&orig_list, patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => merge_list(Vec::new(), p, meta)?,
            (Some(o), Some(p)) => merge_list(o.clone(), p, meta)?,
            (None, None) => continue,
        };
        let key = match meta.strategy {
            ListStrategy::MergeByKey(k) => Some(k),
            _ => None,
        };
        let ordered = order_list(merged, &order, orig_list.as_deref().unwrap_or(&[]), key);
        original.insert(field, Value::Array(ordered));
    }

    for (k, pv) in patch {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
            if let (Some(Value::Array(o)), Value::Array(del)) = (original.get_mut(field), &pv) {
                o.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            return Err(PatchError::BadPatch(format!(
                "Unable to apply patch: unknown directive {k:?}"
            )));
        }
        if pv.is_null() {
            original.remove(&k);
            continue;
        }
        let meta = field_meta(ty, &k);
        let Some(ov) = original.remove(&k) else {
            original.insert(k, strip_value(pv, meta.ty)?);
            continue;
        };
        let merged = match (ov, pv) {
            (Value::Object(o), Value::Object(p)) => Value::Object(merge_map(o, p, meta.ty)?),
            (Value::Array(o), Value::Array(p)) => Value::Array(merge_list(o, p, meta)?),
            (_, p) => strip_value(p, meta.ty)?,
        };
        original.insert(k, merged);
    }
    Ok(original)
}

/// A patch value placed where nothing was: directives removed, nulls dropped.
fn strip_value(v: Value, ty: Ty) -> Result<Value, PatchError> {
    match v {
        Value::Object(m) => Ok(Value::Object(merge_map(Map::new(), m, ty)?)),
        Value::Array(a) => {
            // A list with elements carrying directives: merge into an empty list.
            if a.iter().any(|e| e.get(DIRECTIVE).is_some()) {
                Ok(Value::Array(merge_list(
                    Vec::new(),
                    a,
                    FieldMeta {
                        ty,
                        strategy: ListStrategy::Replace,
                        retain_keys: false,
                    },
                )?))
            } else {
                Ok(Value::Array(
                    a.into_iter()
                        .map(|e| match e {
                            Value::Object(m) => merge_map(Map::new(), m, ty).map(Value::Object),
                            other => Ok(other),
                        })
                        .collect::<Result<_, _>>()?,
                ))
            }
        }
        other => Ok(other),
    }
}

fn strip_map(m: Map<String, Value>, ty: Ty) -> Result<Map<String, Value>, PatchError> {
    merge_map(Map::new(), m, ty)
}

fn merge_list(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    meta: FieldMeta,
) -> Result<Vec<Value>, PatchError> {
    match meta.strategy {
        ListStrategy::Replace => {
            // Atomic list; a `$patch: replace` marker element is dropped, others kept.
            patch
                .into_iter()
                .filter(|e| e.get(DIRECTIVE).is_none())
                .map(|e| match e {
                    Value::Object(m) => merge_map(Map::new(), m, meta.ty).map(Value::Object),
                    other => Ok(other),
                })
                .collect()
        }
        ListStrategy::MergePrimitives => {
            let orig = original.clone();
            let mut merged = original;
            for p in &patch {
                if p.is_object() {
                    if p.get(DIRECTIVE).and_then(Value::as_str) == Some("replace") {
                        return Ok(patch
                            .iter()
                            .filter(|e| e.get(DIRECTIVE).is_none())
                            .cloned()
                            .collect());
                    }
                    continue;
                }
                if !merged.contains(p) {
                    merged.push(p.clone());
                }
            }
            let patch_prims: Vec<Value> = patch.into_iter().filter(|p| !p.is_object()).collect();
            Ok(order_list(merged, &patch_prims, &orig, None))
        }
        ListStrategy::MergeByKey(key) => {
            // Special elements first: `$patch: replace` drops the original, `$patch:
            // delete` removes the element with the same key.
            let mut plain = Vec::new();
            let mut replace = false;
            for e in patch {
                match e.get(DIRECTIVE).and_then(Value::as_str) {
                    Some("replace") => replace = true,
                    Some("delete") => {
                        let kv = e.get(key).cloned();
                        original.retain(|o| o.get(key) != kv.as_ref());
                    }
                    Some("merge") => {
                        return Err(PatchError::BadPatch(
                            "merging lists cannot yet be specified in the patch".into(),
                        ));
                    }
                    Some(other) => {
                        return Err(PatchError::BadPatch(format!(
                            "Unable to apply patch: unknown patch type {other:?} in list"
                        )));
                    }
                    None => plain.push(e),
                }
            }
            if replace {
                original.clear();
            }
            let orig_order = original.clone();
            for e in &plain {
                let Value::Object(pm) = e else {
                    // a primitive in a keyed list: keep it as given
                    if !original.contains(e) {
                        original.push(e.clone());
                    }
                    continue;
                };
                let Some(kv) = pm.get(key) else {
                    return Err(PatchError::BadPatch(format!(
                        "map: {} does not contain declared merge key: {key}",
                        e
                    )));
                };
                let pos = original.iter().position(|o| o.get(key) == Some(kv));
                match pos {
                    Some(i) => {
                        let o = match std::mem::take(&mut original[i]) {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        };
                        original[i] = Value::Object(merge_map(o, pm.clone(), meta.ty)?);
                    }
                    None => {
                        original.push(Value::Object(merge_map(Map::new(), pm.clone(), meta.ty)?))
                    }
                }
            }
            Ok(order_list(original, &plain, &orig_order, Some(key)))
        }
    }
}

fn identity<'a>(v: &'a Value, key: Option<&str>) -> Option<&'a Value> {
    match key {
        Some(k) => v.get(k),
        None => Some(v),
    }
}

fn index_in(list: &[Value], v: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(v, key)?;
    list.iter().position(|e| identity(e, key) == Some(id))
}

/// Go's `normalizeElementOrder`: items named by `patch_order` come in that order, the
/// server-only items keep their original relative order, and the two are interleaved by
/// their positions in `server_order`.
fn order_list(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let (mut patch_items, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|m| index_in(patch_order, m, key).is_some());
    patch_items.sort_by_key(|v| index_in(patch_order, v, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|v| index_in(server_order, v, key).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let (mut i, mut j) = (0, 0);
    while i < patch_items.len() || j < server_only.len() {
        if i >= patch_items.len() {
            out.push(server_only[j].clone());
            j += 1;
        } else if j >= server_only.len() {
            out.push(patch_items[i].clone());
            i += 1;
        } else {
            let li = index_in(server_order, &patch_items[i], key);
            let ri = index_in(server_order, &server_only[j], key);
            match (li, ri) {
                (Some(l), Some(r)) if l < r => {
                    out.push(patch_items[i].clone());
                    i += 1;
                }
                _ => {
                    out.push(server_only[j].clone());
                    j += 1;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "old": "x"},
                         "finalizers": ["a", "b"]},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "nginx", "image": "nginx:1.25",
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                             "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                            {"name": "sidecar", "image": "busybox", "args": ["sleep", "1d"]}
                        ],
                        "volumes": [{"name": "cfg", "configMap": {"name": "web"}}]
                    }
                }
            }
        })
    }

    #[test]
    fn content_types_are_recognised_with_parameters() {
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
        assert_eq!(
            PatchType::Merge.content_type(),
            "application/merge-patch+json"
        );
    }

    #[test]
    fn strategy_table_knows_builtin_merge_keys() {
        assert_eq!(
            list_strategy("Deployment", &["spec", "template", "spec", "containers"]),
            ListStrategy::MergeByKey("name")
        );
        assert_eq!(
            list_strategy("Pod", &["spec", "containers", "ports"]),
            ListStrategy::MergeByKey("containerPort")
        );
        assert_eq!(
            list_strategy(
                "StatefulSet",
                &["spec", "template", "spec", "containers", "volumeMounts"]
            ),
            ListStrategy::MergeByKey("mountPath")
        );
        assert_eq!(
            list_strategy("Service", &["spec", "ports"]),
            ListStrategy::MergeByKey("port")
        );
        assert_eq!(
            list_strategy("ConfigMap", &["metadata", "finalizers"]),
            ListStrategy::MergePrimitives
        );
        assert_eq!(
            list_strategy("Secret", &["metadata", "ownerReferences"]),
            ListStrategy::MergeByKey("uid")
        );
        assert_eq!(
            list_strategy("DaemonSet", &["status", "conditions"]),
            ListStrategy::MergeByKey("type")
        );
        assert_eq!(
            list_strategy("ClusterRole", &["rules"]),
            ListStrategy::Replace
        );
        assert_eq!(
            list_strategy("Pod", &["spec", "tolerations"]),
            ListStrategy::Replace
        );
        assert!(retains_keys("Deployment", &["spec", "strategy"]));
        assert!(retains_keys("Pod", &["spec", "volumes"]));
        assert!(!retains_keys("StatefulSet", &["spec", "updateStrategy"]));
        assert!(supports_strategic_merge("Lease"));
        assert!(!supports_strategic_merge("Widget"));
    }

    #[test]
    fn json_patch_applies_and_test_failure_is_unprocessable() {
        let doc = json!({"metadata": {"finalizers": ["a"]}});
        let p = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": ["a"]},
            {"op": "add", "path": "/metadata/finalizers/-", "value": "b"}
        ]);
        assert_eq!(
            apply_json_patch(&doc, &p).unwrap(),
            json!({"metadata": {"finalizers": ["a", "b"]}})
        );
        let bad_test = json!([{"op": "test", "path": "/metadata/finalizers", "value": []}]);
        let e = apply_json_patch(&doc, &bad_test).unwrap_err();
        assert!(matches!(e, PatchError::Unprocessable(_)));
        assert_eq!(e.to_api_error().code(), 422);
        assert_eq!(e.to_api_error().reason(), "Invalid");
        assert_eq!(
            e.to_api_error().to_string(),
            "the server rejected our request due to an error in our request"
        );
        let e = apply_json_patch(&doc, &json!({"op": "add"})).unwrap_err();
        assert!(matches!(e, PatchError::BadPatch(_)));
        assert_eq!(e.to_api_error().code(), 400);
        let rm = json!([{"op": "remove", "path": "/metadata/finalizers/0"}]);
        assert_eq!(
            apply_json_patch(&doc, &rm).unwrap(),
            json!({"metadata": {"finalizers": []}})
        );
    }

    #[test]
    fn json_patch_replace_of_an_absent_key_adds_it_as_in_kube_apiserver() {
        // What `kubectl rollout undo` sends for a Deployment without annotations.
        let doc = json!({"metadata": {"name": "web"}, "spec": {"a": [1]}});
        let p = json!([{"op": "replace", "path": "/metadata/annotations", "value": {}}]);
        assert_eq!(
            apply_json_patch(&doc, &p).unwrap(),
            json!({"metadata": {"name": "web", "annotations": {}}, "spec": {"a": [1]}})
        );
        for missing in ["/nope/annotations", "/spec/a/3"] {
            let p = json!([{"op": "replace", "path": missing, "value": 1}]);
            let e = apply_json_patch(&doc, &p).unwrap_err();
            let status = e.to_api_error().to_status();
            assert_eq!(status["code"], 422, "{missing}");
            assert_eq!(
                status["details"]["causes"][0]["reason"],
                "UnexpectedServerResponse"
            );
            assert!(
                status["details"]["causes"][0]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("operation 0: "),
                "the cause says what failed: {status}"
            );
        }
    }

    #[test]
    fn json_patch_test_of_null_passes_on_an_absent_key_as_in_kube_apiserver() {
        // kube-rs' finalizer helper on an object without finalizers
        let doc = json!({"metadata": {"name": "x"}});
        let p = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/f"]}
        ]);
        assert_eq!(
            apply_json_patch(&doc, &p).unwrap(),
            json!({"metadata": {"name": "x", "finalizers": ["example.com/f"]}})
        );
        // but not when the key exists, nor when the parent is missing
        let with = json!({"metadata": {"finalizers": ["a"]}});
        assert!(apply_json_patch(&with, &p).is_err());
        let orphan = json!([{"op": "test", "path": "/nope/finalizers", "value": null}]);
        assert!(apply_json_patch(&doc, &orphan).is_err());
        // operations apply in order on the evolving document, atomically
        let seq = json!([
            {"op": "add", "path": "/metadata/labels", "value": {}},
            {"op": "test", "path": "/metadata/labels/a", "value": null},
            {"op": "add", "path": "/metadata/labels/a", "value": "1"},
            {"op": "test", "path": "/metadata/labels/a", "value": "2"}
        ]);
        assert!(apply_json_patch(&doc, &seq).is_err());
        assert_eq!(doc, json!({"metadata": {"name": "x"}}), "input untouched");
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        let p = json!({"a": "z", "c": {"f": null}, "l": [3], "n": {"x": null, "y": 1}});
        assert_eq!(
            apply_merge_patch(&doc, &p),
            json!({"a": "z", "c": {"d": "e"}, "l": [3], "n": {"y": 1}})
        );
    }

    #[test]
    fn kubectl_label_patch_shape_adds_and_removes_labels() {
        let doc = deployment();
        let out = apply_merge_patch(
            &doc,
            &json!({"metadata": {"labels": {"tier": "front", "old": null}}}),
        );
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "tier": "front"})
        );
    }

    #[test]
    fn create_merge_patch_reproduces_target() {
        let a = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        let b = json!({"a": 1, "b": {"c": 5}, "e": [2], "f": "new"});
        let p = create_merge_patch(&a, &b);
        assert_eq!(p, json!({"b": {"c": 5, "d": null}, "e": [2], "f": "new"}));
        assert_eq!(apply_merge_patch(&a, &p), b);
        assert_eq!(create_merge_patch(&a, &a), json!({}));
    }

    /// The patch kubectl 1.32 client-side apply sends when a Deployment's manifest changes
    /// the image of one container, drops an env var and a label.
    #[test]
    fn kubectl_apply_patch_for_changed_deployment() {
        let doc = deployment();
        let patch = json!({
            "metadata": {
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
                "labels": {"old": null}
            },
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                "containers": [{
                    "$setElementOrder/env": [{"name": "A"}],
                    "env": [{"$patch": "delete", "name": "B"}],
                    "image": "nginx:1.26",
                    "name": "nginx"
                }]
            }}}
        });
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 2);
        assert_eq!(c[0]["name"], "nginx");
        assert_eq!(c[0]["image"], "nginx:1.26");
        assert_eq!(c[0]["env"], json!([{"name": "A", "value": "1"}]));
        assert_eq!(
            c[0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(c[1], doc["spec"]["template"]["spec"]["containers"][1]);
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(
            out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            "{}\n"
        );
        assert_eq!(out["spec"]["replicas"], 2);
    }

    #[test]
    fn set_element_order_reorders_and_adds_containers() {
        let doc = deployment();
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "init"}, {"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"name": "init", "image": "alpine"}]
        }}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["init", "sidecar", "nginx"]);
    }

    #[test]
    fn new_list_element_is_appended_after_existing_ones() {
        let doc = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "env": [{"name": "C", "value": "3"}]},
            {"name": "extra", "image": "x"}
        ]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        let cs = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = cs.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["nginx", "sidecar", "extra"]);
        let env: Vec<&str> = cs[0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(env, vec!["A", "B", "C"]);
    }

    #[test]
    fn configmap_apply_patch_changes_and_deletes_keys() {
        let doc =
            json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k1": "a", "k2": "b"}});
        let patch = json!({"data": {"k2": null, "k3": "c", "k1": "A"},
                           "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "ConfigMap").unwrap();
        assert_eq!(out["data"], json!({"k1": "A", "k3": "c"}));
    }

    #[test]
    fn retain_keys_clears_fields_of_the_old_strategy() {
        let doc = deployment();
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        // volumes carry retainKeys on their elements: switching configMap → emptyDir
        let patch = json!({"spec": {"template": {"spec": {"volumes": [
            {"$retainKeys": ["emptyDir", "name"], "emptyDir": {}, "name": "cfg"}
        ]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "cfg", "emptyDir": {}}])
        );
    }

    #[test]
    fn finalizers_merge_as_a_set_and_delete_from_primitive_list() {
        let doc = deployment();
        let out = apply_strategic_merge_patch(
            &doc,
            &json!({"metadata": {"finalizers": ["b", "c"]}}),
            "Deployment",
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "$setElementOrder/finalizers": ["b"]}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn patch_replace_and_delete_directives() {
        let doc = deployment();
        // `$patch: replace` on a map replaces it wholesale
        let out = apply_strategic_merge_patch(
            &doc,
            &json!({"metadata": {"labels": {"$patch": "replace", "only": "me"}}}),
            "Deployment",
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"only": "me"}));
        // `$patch: delete` on a map empties it
        let out = apply_strategic_merge_patch(
            &doc,
            &json!({"spec": {"selector": {"$patch": "delete"}}}),
            "Deployment",
        )
        .unwrap();
        assert_eq!(out["spec"]["selector"], json!({}));
        // `$patch: replace` element in a keyed list replaces the list
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "solo", "image": "x"}, {"$patch": "replace"}
        ]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "solo", "image": "x"}])
        );
        // `$patch: delete` element removes by merge key
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // an unknown directive is a bad patch
        assert!(
            apply_strategic_merge_patch(&doc, &json!({"spec": {"$patch": "bogus"}}), "Deployment")
                .is_err()
        );
    }

    #[test]
    fn lists_without_strategy_are_replaced() {
        let doc = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "args": ["sleep", "2d"]}]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][1]["args"],
            json!(["sleep", "2d"])
        );
        let role = json!({"kind": "Role", "rules": [{"verbs": ["get"]}, {"verbs": ["list"]}]});
        let out =
            apply_strategic_merge_patch(&role, &json!({"rules": [{"verbs": ["watch"]}]}), "Role")
                .unwrap();
        assert_eq!(out["rules"], json!([{"verbs": ["watch"]}]));
    }

    #[test]
    fn merge_key_missing_in_patch_element_is_an_error() {
        let doc = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let e = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap_err();
        assert!(
            e.to_string()
                .contains("does not contain declared merge key: name"),
            "{e}"
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_conditions_by_type() {
        let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]},
                         "status": {"conditions": [{"type": "A", "status": "True"}]}});
        let out = apply_strategic_merge_patch(
            &svc,
            &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]},
            "status": {"conditions": [{"type": "B", "status": "False"}]}}),
            "Service",
        )
        .unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
        );
        assert_eq!(out["status"]["conditions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn new_values_lose_their_directives_and_nulls() {
        let doc = json!({"metadata": {"name": "x"}});
        let patch = json!({"metadata": {"labels": {"a": "b", "gone": null}}, "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}],
            "containers": [{"name": "c", "image": "i"}]}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"a": "b"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "c", "image": "i"}])
        );
    }

    fn names(v: &Value) -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c.get("name").cloned().unwrap_or_else(|| c.clone()))
            .collect()
    }

    fn pod_with(containers: Value) -> Value {
        json!({"kind": "Pod", "spec": {"containers": containers}})
    }

    #[test]
    fn set_element_order_interleaves_server_only_items_by_live_position() {
        // live has an item ("x") the client never knew about; it keeps its place relative
        // to the items around it while the client's items take the requested order
        let live = pod_with(
            json!([{"name": "a", "image": "1"}, {"name": "b"}, {"name": "x"}, {"name": "c"}, {"name": "d"}]),
        );
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}, {"name": "d"}, {"name": "c"}]}});
        let out = apply_strategic_merge_patch(&live, &patch, "Pod").unwrap();
        assert_eq!(
            names(&out["spec"]["containers"]),
            vec![json!("b"), json!("a"), json!("x"), json!("d"), json!("c")]
        );
        assert_eq!(
            out["spec"]["containers"][1]["image"], "1",
            "reordering keeps the item's fields"
        );

        let live = pod_with(
            json!([{"name": "a"}, {"name": "b"}, {"name": "p"}, {"name": "q"}, {"name": "r"}, {"name": "c"}]),
        );
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}]}});
        let out = apply_strategic_merge_patch(&live, &patch, "Pod").unwrap();
        assert_eq!(
            names(&out["spec"]["containers"]),
            vec![
                json!("p"),
                json!("q"),
                json!("r"),
                json!("c"),
                json!("b"),
                json!("a")
            ]
        );

        let live = pod_with(json!([{"name": "a"}, {"name": "b"}, {"name": "z"}]));
        let patch =
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}});
        let out = apply_strategic_merge_patch(&live, &patch, "Pod").unwrap();
        assert_eq!(
            names(&out["spec"]["containers"]),
            vec![json!("b"), json!("a"), json!("z")]
        );
    }

    #[test]
    fn primitive_set_order_with_additions_and_deletions() {
        let live = json!({"metadata": {"finalizers": ["one", "two", "three"]}});
        let patch = json!({"metadata": {
            "$setElementOrder/finalizers": ["four", "two", "one"],
            "finalizers": ["four"],
            "$deleteFromPrimitiveList/finalizers": ["three"]
        }});
        let out = apply_strategic_merge_patch(&live, &patch, "ConfigMap").unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["four", "two", "one"]));
        let patch = json!({"metadata": {"$setElementOrder/finalizers": ["two", "one", "three"]}});
        let live = json!({"metadata": {"finalizers": ["one", "extra", "two", "three"]}});
        let out = apply_strategic_merge_patch(&live, &patch, "ConfigMap").unwrap();
        // Go's interleaving: a server-only item goes first when the next requested item sits
        // after it in the live list
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["extra", "two", "one", "three"])
        );
    }

    #[test]
    fn retain_keys_rejects_patch_keys_it_does_not_retain() {
        let doc = deployment();
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 2}}}});
        let e = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap_err();
        assert_eq!(
            e,
            PatchError::BadPatch("invalid patch format of retainKeys".into())
        );
        // a retained nested map keeps its unmentioned keys
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["rollingUpdate", "type"], "rollingUpdate": {"maxSurge": 3}}}});
        let out = apply_strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
        assert_eq!(
            out["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 0}})
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<bool>().prop_map(Value::from),
                (-50i64..50).prop_map(Value::from),
                "[a-z]{0,4}".prop_map(Value::from),
                proptest::collection::vec((0i64..5).prop_map(Value::from), 0..3)
                    .prop_map(Value::Array),
            ]
        }
        fn doc() -> impl Strategy<Value = Value> {
            leaf().prop_recursive(3, 24, 4, |inner| {
                proptest::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect()))
            })
        }
        fn obj() -> impl Strategy<Value = Value> {
            proptest::collection::btree_map("[a-d]", doc(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        }

        proptest! {
            #[test]
            fn merge_patch_of_a_diff_reproduces_the_target(a in obj(), b in obj()) {
                let p = create_merge_patch(&a, &b);
                prop_assert_eq!(apply_merge_patch(&a, &p), b);
            }

            #[test]
            fn strategic_merge_without_directives_on_untyped_maps_equals_merge_patch(a in obj(), b in obj()) {
                let p = create_merge_patch(&a, &b);
                prop_assert_eq!(apply_strategic_merge_patch(&a, &p, "ConfigMap").unwrap(), b);
            }
        }
    }
}
