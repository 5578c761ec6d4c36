//! Server-side apply (`application/apply-patch+yaml`) and `metadata.managedFields`.
//!
//! [`server_side_apply`] creates or updates an object from a manager's applied
//! configuration: fields the manager applied before and no longer applies are removed
//! (unless another manager also owns them), a field owned by another manager with a
//! different value is a 409 conflict unless `force`, and ownership is recorded in
//! `metadata.managedFields` (`operation: Apply`, `fieldsType: FieldsV1`).
//! [`record_update`] records an `Update` manager for ordinary writes (create, update,
//! patch), taking ownership of the fields that write changed.
//!
//! The algorithm follows structured-merge-diff (merge, prune what the manager no longer
//! applies unless someone owns it, compare old and new to find conflicts and to move
//! ownership), over field sets of paths. Simplifications, on purpose:
//! - Lists are associative (merged by key) where the type says so: built-in lists from the
//!   strategic-merge table ([`crate::patch::list_strategy`]; ports keyed by number + protocol,
//!   a missing protocol reading as `TCP`, as upstream's apply schema does), CRD lists from
//!   `x-kubernetes-list-type: map|set` + `x-kubernetes-list-map-keys`; every other list is
//!   atomic. Maps with `x-kubernetes-map-type: atomic` are leaves.
//! - Every map and list node below the top level is recorded as a member (`".": {}`),
//!   where upstream records only optional ones; removal of emptied maps follows from it.
//! - New associative-list items are appended after the live ones.
//! - `apiVersion`, `kind` and server-owned metadata (`name`, `namespace`, `uid`,
//!   `resourceVersion`, `generation`, `creationTimestamp`, `deletionTimestamp`,
//!   `managedFields`, ...) are never owned. A config's `metadata.resourceVersion`, if any,
//!   is the caller's precondition to check.
//! - No unions, no version conversion (`apiVersion` is recorded as given).
//! - Status reset is the caller's: for main-resource writes of kinds with a status
//!   subresource, [`drop_status`] from the config first (kube-apiserver ignores it there).

use crate::patch::{ListStrategy, TypeCursor};
use crate::status::{ApiError, StatusCause};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Where list semantics come from.
#[derive(Debug, Clone, Copy)]
pub enum TypeInfo<'a> {
    /// A built-in kind (`Deployment`): lists from the strategic-merge table.
    Builtin(&'a str),
    /// A CRD's `openAPIV3Schema`: `x-kubernetes-list-type` / `x-kubernetes-list-map-keys`.
    Schema(&'a Value),
    /// No type information: every list is atomic.
    Untyped,
}

/// Who is writing, and how.
#[derive(Debug, Clone, Copy)]
pub struct ManagerOptions<'a> {
    /// `fieldManager` (required for apply; kube-apiserver derives one from the user agent
    /// for updates when absent).
    pub manager: &'a str,
    /// `force=true` takes conflicting fields from other managers.
    pub force: bool,
    /// apiVersion of the request (`apps/v1`), recorded per entry.
    pub api_version: &'a str,
    /// `Some("status")` for writes to the status subresource.
    pub subresource: Option<&'a str>,
    /// RFC 3339 time recorded in the entry.
    pub now: &'a str,
    pub types: TypeInfo<'a>,
}

/// A set of field paths; each path is a list of FieldsV1 path elements
/// (`f:spec`, `k:{"name":"nginx"}`, `v:"x"`, `i:0`).
pub type FieldSet = BTreeSet<Vec<String>>;

/// Parse an apply body: JSON, or YAML (a single document).
pub fn parse_apply_body(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return check_config(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?;
    let v: Value = goyaml::to_json(text, goyaml::Numbers::Exact)
        .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?;
    check_config(v)
}

fn check_config(v: Value) -> Result<Value, ApiError> {
    if !v.is_object() {
        return Err(ApiError::BadRequest(format!(
            "error decoding YAML: an apply configuration must be an object, got {v}"
        )));
    }
    for k in ["apiVersion", "kind"] {
        if v.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(ApiError::BadRequest(format!(
                "error decoding YAML: Object '{}' is missing in '{v}'",
                if k == "kind" { "Kind" } else { "apiVersion" }
            )));
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// Type navigation

#[derive(Debug, Clone, PartialEq)]
enum ListKind {
    Atomic,
    Set,
    Map(Vec<String>),
}

#[derive(Clone, Copy)]
enum Nav<'a> {
    Builtin(TypeCursor),
    Schema(&'a Value),
    Untyped,
    /// The root of a custom object (with its schema, if any): `metadata` is ObjectMeta.
    CustomRoot(Option<&'a Value>),
}

impl<'a> Nav<'a> {
    fn root(t: TypeInfo<'a>) -> Self {
        match t {
            TypeInfo::Builtin(k) => Nav::Builtin(TypeCursor::root(k)),
            TypeInfo::Schema(s) => Nav::CustomRoot(Some(s)),
            TypeInfo::Untyped => Nav::CustomRoot(None),
        }
    }
    fn field(self, k: &str) -> Self {
        match self {
            // ObjectMeta semantics (finalizers as a set, ownerReferences by uid) for CRs too
            Nav::CustomRoot(_) if k == "metadata" => {
                Nav::Builtin(TypeCursor::root("ConfigMap").field("metadata"))
            }
            Nav::CustomRoot(Some(s)) => Nav::Schema(s).field(k),
            Nav::CustomRoot(None) => Nav::Untyped,
            Nav::Builtin(c) => Nav::Builtin(c.field(k)),
            Nav::Schema(s) => {
                if let Some(p) = s.get("properties").and_then(|p| p.get(k)) {
                    Nav::Schema(p)
                } else if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
                    Nav::Schema(a)
                } else {
                    Nav::Untyped
                }
            }
            Nav::Untyped => Nav::Untyped,
        }
    }
    fn item(self) -> Self {
        match self {
            Nav::Builtin(c) => Nav::Builtin(c.item()),
            Nav::Schema(s) => s.get("items").map(Nav::Schema).unwrap_or(Nav::Untyped),
            Nav::Untyped | Nav::CustomRoot(_) => Nav::Untyped,
        }
    }
    fn list_kind(self) -> ListKind {
        match self {
            Nav::Builtin(c) => match c.strategy() {
                // server-side apply keys some lists by more fields than strategic merge does
                ListStrategy::MergeByKey("containerPort") => {
                    ListKind::Map(vec!["containerPort".into(), "protocol".into()])
                }
                ListStrategy::MergeByKey("port") => {
                    ListKind::Map(vec!["port".into(), "protocol".into()])
                }
                ListStrategy::MergeByKey("topologyKey") => {
                    ListKind::Map(vec!["topologyKey".into(), "whenUnsatisfiable".into()])
                }
                ListStrategy::MergeByKey(k) => ListKind::Map(vec![k.to_string()]),
                ListStrategy::MergePrimitives => ListKind::Set,
                ListStrategy::Replace => ListKind::Atomic,
            },
            Nav::Schema(s) => match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => ListKind::Set,
                Some("map") => ListKind::Map(
                    s.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                _ => ListKind::Atomic,
            },
            Nav::Untyped | Nav::CustomRoot(_) => ListKind::Atomic,
        }
    }
    fn atomic_map(self) -> bool {
        match self {
            Nav::Builtin(c) => c.atomic_struct(),
            Nav::Schema(s) | Nav::CustomRoot(Some(s)) => {
                s.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
            }
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Paths and field sets

const IGNORED_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

fn ignored(prefix: &[String], key: &str) -> bool {
    match prefix {
        [] => key == "apiVersion" || key == "kind",
        [m] if m == "f:metadata" => IGNORED_META.contains(&key),
        _ => false,
    }
}

/// `k:{...}` for an item of an associative list. A missing `protocol` key reads as its
/// default `TCP` (ports of containers and services), as the OpenAPI default makes it.
fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let tcp = Value::String("TCP".into());
    let mut parts = Vec::new();
    for k in sorted {
        let v = match item.get(k.as_str()) {
            Some(v) => v,
            None if k == "protocol" => &tcp,
            None => return None,
        };
        parts.push(format!("{}:{}", Value::String(k.clone()), v));
    }
    Some(format!("k:{{{}}}", parts.join(",")))
}

fn value_element(v: &Value) -> String {
    format!("v:{v}")
}

/// Member paths with, for leaves, their value (`None` for maps, keyed lists and list items
/// that have children of their own).
type PathMap<'v> = BTreeMap<Vec<String>, Option<&'v Value>>;

/// Every member path of `v` (leaves, maps and list nodes below the top level, list items).
fn collect<'v>(v: &'v Value, nav: Nav<'_>, prefix: &mut Vec<String>, out: &mut PathMap<'v>) {
    if let Value::Object(m) = v {
        for (k, c) in m {
            if ignored(prefix, k) || c.is_null() {
                continue;
            }
            let cn = nav.field(k);
            prefix.push(format!("f:{k}"));
            let top = prefix.len() == 1 && matches!(k.as_str(), "metadata" | "spec" | "status");
            if !top {
                out.insert(prefix.clone(), is_leaf(c, cn).then_some(c));
            }
            collect_value(c, cn, prefix, out);
            prefix.pop();
        }
    }
}

fn collect_value<'v>(c: &'v Value, nav: Nav<'_>, prefix: &mut Vec<String>, out: &mut PathMap<'v>) {
    match c {
        Value::Object(_) if !nav.atomic_map() => collect(c, nav, prefix, out),
        Value::Array(items) => match nav.list_kind() {
            ListKind::Atomic => {}
            ListKind::Set => {
                for it in items {
                    prefix.push(value_element(it));
                    out.insert(prefix.clone(), Some(it));
                    prefix.pop();
                }
            }
            ListKind::Map(keys) => {
                for it in items {
                    let Some(ke) = key_element(it, &keys) else {
                        continue;
                    };
                    prefix.push(ke);
                    out.insert(prefix.clone(), None);
                    collect(it, nav.item(), prefix, out);
                    prefix.pop();
                }
            }
        },
        _ => {}
    }
}

fn path_map<'v>(v: &'v Value, nav: Nav<'_>) -> PathMap<'v> {
    let mut out = PathMap::new();
    collect(v, nav, &mut Vec::new(), &mut out);
    out
}

fn field_set(v: &Value, nav: Nav<'_>) -> FieldSet {
    path_map(v, nav).into_keys().collect()
}

fn is_leaf(v: &Value, nav: Nav<'_>) -> bool {
    match v {
        Value::Object(_) => nav.atomic_map(),
        Value::Array(_) => nav.list_kind() == ListKind::Atomic,
        _ => true,
    }
}

struct Comparison {
    added: FieldSet,
    removed: FieldSet,
    modified: FieldSet,
}

/// What changed between two versions of an object, as member paths: walks both trees
/// together, so only changed subtrees cost allocations.
fn compare(old: &Value, new: &Value, nav: Nav<'_>) -> Comparison {
    let mut cmp = Comparison {
        added: FieldSet::new(),
        removed: FieldSet::new(),
        modified: FieldSet::new(),
    };
    let mut dup = false;
    let empty = Map::new();
    diff_fields(
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
        nav,
        &mut Vec::new(),
        &mut cmp,
        &mut dup,
    );
    if dup {
        return compare_by_maps(old, new, nav);
    }
    cmp
}

/// Items of a keyed list by their `k:{...}` element; a repeated key sets `dup`.
fn index_items<'v>(a: &'v [Value], keys: &[String], dup: &mut bool) -> BTreeMap<String, &'v Value> {
    let mut m = BTreeMap::new();
    for it in a {
        if let Some(ke) = key_element(it, keys)
            && m.insert(ke, it).is_some()
        {
            *dup = true;
        }
    }
    m
}

/// Member paths strictly below `prefix` inside `v`.
fn descendants(v: &Value, nav: Nav<'_>, prefix: &mut Vec<String>, out: &mut FieldSet) {
    let mut m = PathMap::new();
    collect_value(v, nav, prefix, &mut m);
    out.extend(m.into_keys());
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn diff_fields(
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    nav: Nav<'_>,
    prefix: &mut Vec<String>,
    cmp: &mut Comparison,
    dup: &mut bool,
) {
    for (k, nc) in n {
        if ignored(prefix, k) || nc.is_null() {
            continue;
        }
        let cn = nav.field(k);
        prefix.push(format!("f:{k}"));
        let member = !(prefix.len() == 1 && matches!(k.as_str(), "metadata" | "spec" | "status"));
        match present(o.get(k)) {
            None => {
                if member {
                    cmp.added.insert(prefix.clone());
                }
                descendants(nc, cn, prefix, &mut cmp.added);
            }
            Some(oc) => diff_node(oc, nc, cn, prefix, member, cmp, dup),
        }
        prefix.pop();
    }
    for (k, oc) in o {
        if ignored(prefix, k) || oc.is_null() || present(n.get(k)).is_some() {
            continue;
        }
        let cn = nav.field(k);
        prefix.push(format!("f:{k}"));
        let member = !(prefix.len() == 1 && matches!(k.as_str(), "metadata" | "spec" | "status"));
        if member {
            cmp.removed.insert(prefix.clone());
        }
        descendants(oc, cn, prefix, &mut cmp.removed);
        prefix.pop();
    }
}

fn diff_node(
    o: &Value,
    n: &Value,
    nav: Nav<'_>,
    prefix: &mut Vec<String>,
    member: bool,
    cmp: &mut Comparison,
    dup: &mut bool,
) {
    let (lo, ln) = (is_leaf(o, nav), is_leaf(n, nav));
    if lo && ln {
        if member && o != n {
            cmp.modified.insert(prefix.clone());
        }
        return;
    }
    if lo != ln {
        if member {
            cmp.modified.insert(prefix.clone());
        }
        descendants(o, nav, prefix, &mut cmp.removed);
        descendants(n, nav, prefix, &mut cmp.added);
        return;
    }
    match (o, n) {
        (Value::Object(om), Value::Object(nm)) => diff_fields(om, nm, nav, prefix, cmp, dup),
        (Value::Array(oa), Value::Array(na)) => match nav.list_kind() {
            ListKind::Atomic => {}
            ListKind::Set => {
                let os: BTreeSet<String> = oa.iter().map(value_element).collect();
                let ns: BTreeSet<String> = na.iter().map(value_element).collect();
                for e in ns.difference(&os) {
                    prefix.push(e.clone());
                    cmp.added.insert(prefix.clone());
                    prefix.pop();
                }
                for e in os.difference(&ns) {
                    prefix.push(e.clone());
                    cmp.removed.insert(prefix.clone());
                    prefix.pop();
                }
            }
            ListKind::Map(keys) => {
                let oi = index_items(oa, &keys, dup);
                let ni = index_items(na, &keys, dup);
                if *dup {
                    return;
                }
                let item_nav = nav.item();
                let empty = Map::new();
                for (ke, nit) in &ni {
                    prefix.push(ke.clone());
                    match oi.get(ke) {
                        Some(oit) => diff_fields(
                            oit.as_object().unwrap_or(&empty),
                            nit.as_object().unwrap_or(&empty),
                            item_nav,
                            prefix,
                            cmp,
                            dup,
                        ),
                        None => {
                            cmp.added.insert(prefix.clone());
                            let mut m = PathMap::new();
                            collect(nit, item_nav, prefix, &mut m);
                            cmp.added.extend(m.into_keys());
                        }
                    }
                    prefix.pop();
                }
                for (ke, oit) in &oi {
                    if ni.contains_key(ke) {
                        continue;
                    }
                    prefix.push(ke.clone());
                    cmp.removed.insert(prefix.clone());
                    let mut m = PathMap::new();
                    collect(oit, item_nav, prefix, &mut m);
                    cmp.removed.extend(m.into_keys());
                    prefix.pop();
                }
            }
        },
        _ => {
            // two non-leaf values of different shapes (map vs keyed list)
            descendants(o, nav, prefix, &mut cmp.removed);
            descendants(n, nav, prefix, &mut cmp.added);
        }
    }
}

/// The comparison by full path maps (reference for [`compare`]; used when a keyed list
/// holds duplicate keys).
fn compare_by_maps(old: &Value, new: &Value, nav: Nav<'_>) -> Comparison {
    let a = path_map(old, nav);
    let b = path_map(new, nav);
    let mut cmp = Comparison {
        added: FieldSet::new(),
        removed: FieldSet::new(),
        modified: FieldSet::new(),
    };
    for (p, bv) in &b {
        match a.get(p) {
            None => {
                cmp.added.insert(p.clone());
            }
            Some(av) => {
                let changed = match (av, bv) {
                    (Some(x), Some(y)) => x != y,
                    (None, None) => false,
                    _ => true,
                };
                if changed {
                    cmp.modified.insert(p.clone());
                }
            }
        }
    }
    for p in a.keys() {
        if !b.contains_key(p) {
            cmp.removed.insert(p.clone());
        }
    }
    cmp
}

/// Render a path as structured-merge-diff does: `.spec.containers[name="nginx"].image`.
pub fn path_string(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let parsed: Option<Map<String, Value>> = serde_json::from_str(k).ok();
            let inner = parsed
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|| k.to_string());
            s.push_str(&format!("[{inner}]"));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// Encode a field set as FieldsV1 JSON.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Node {
        member: bool,
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for path in set {
        let mut n = &mut root;
        for el in path {
            n = n.children.entry(el.clone()).or_default();
        }
        n.member = true;
    }
    fn render(n: &Node) -> Value {
        let mut m = Map::new();
        if n.member && !n.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, c) in &n.children {
            m.insert(k.clone(), render(c));
        }
        Value::Object(m)
    }
    render(&root)
}

/// Decode FieldsV1 JSON into a field set.
pub fn from_fields_v1(v: &Value) -> FieldSet {
    fn walk(v: &Value, prefix: &mut Vec<String>, out: &mut FieldSet) {
        let Some(m) = v.as_object() else {
            return;
        };
        if m.is_empty() && !prefix.is_empty() {
            out.insert(prefix.clone());
            return;
        }
        for (k, c) in m {
            if k == "." {
                if !prefix.is_empty() {
                    out.insert(prefix.clone());
                }
                continue;
            }
            prefix.push(k.clone());
            walk(c, prefix, out);
            prefix.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// managedFields entries

#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: String,
    set: FieldSet,
}

impl Entry {
    fn id(&self) -> (String, String, String, String) {
        let av = if self.operation == "Apply" {
            String::new()
        } else {
            self.api_version.clone()
        };
        (
            self.manager.clone(),
            self.operation.clone(),
            av,
            self.subresource.clone(),
        )
    }
    fn describe(&self) -> String {
        let mut s = crate::field::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                crate::field::go_quote(&self.subresource)
            );
        }
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if !self.time.is_empty() {
            m.insert("time".into(), json!(self.time));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), to_fields_v1(&self.set));
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }
}

fn read_entries(obj: &Value) -> Vec<Entry> {
    obj.get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let manager = s("manager");
                    let operation = s("operation");
                    if operation.is_empty() {
                        return None;
                    }
                    Some(Entry {
                        manager,
                        operation,
                        api_version: s("apiVersion"),
                        time: s("time"),
                        subresource: s("subresource"),
                        set: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|p, q| {
        (
            &p.operation,
            &p.time,
            &p.manager,
            &p.api_version,
            &p.subresource,
        )
            .cmp(&(
                &q.operation,
                &q.time,
                &q.manager,
                &q.api_version,
                &q.subresource,
            ))
    });
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert(
                "managedFields".into(),
                Value::Array(entries.iter().map(Entry::to_json).collect()),
            );
        }
    }
}

/// The managers of `obj` and the fields each owns, decoded (for tests and debugging).
pub fn managed_fields(obj: &Value) -> Vec<(String, String, FieldSet)> {
    read_entries(obj)
        .into_iter()
        .map(|e| (e.manager, e.operation, e.set))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Merge and prune

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, c)| !c.is_null())
                .map(|(k, c)| (k.clone(), strip_nulls(c)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn merge(live: &Value, cfg: &Value, nav: Nav<'_>) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) if !nav.atomic_map() => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, cv, nav.field(k)),
                    None => strip_nulls(cv),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match nav.list_kind() {
            ListKind::Atomic => strip_nulls(cfg),
            ListKind::Set => {
                let mut out = l.clone();
                for it in c {
                    if !out.contains(it) {
                        out.push(it.clone());
                    }
                }
                Value::Array(out)
            }
            ListKind::Map(keys) => {
                let mut out = l.clone();
                for it in c {
                    let ke = key_element(it, &keys);
                    let pos = ke.as_ref().and_then(|ke| {
                        out.iter()
                            .position(|o| key_element(o, &keys).as_ref() == Some(ke))
                    });
                    match pos {
                        Some(i) => out[i] = merge(&out[i], it, nav.item()),
                        None => out.push(strip_nulls(it)),
                    }
                }
                Value::Array(out)
            }
        },
        _ => strip_nulls(cfg),
    }
}

fn owns_subtree(managed: &FieldSet, path: &[String]) -> bool {
    managed
        .range(path.to_vec()..)
        .next()
        .is_some_and(|q| q.starts_with(path))
}

/// Remove what `remove` names unless some path of `managed` lies at or below it.
fn prune(
    v: &mut Value,
    nav: Nav<'_>,
    prefix: &mut Vec<String>,
    remove: &FieldSet,
    managed: &FieldSet,
    under_removed: bool,
) {
    if let Value::Object(m) = v {
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            if ignored(prefix, &k) {
                continue;
            }
            prefix.push(format!("f:{k}"));
            let rm = under_removed || remove.contains(prefix.as_slice());
            if rm && !owns_subtree(managed, prefix) {
                m.remove(&k);
            } else if let Some(c) = m.get_mut(&k) {
                prune_value(c, nav.field(&k), prefix, remove, managed, rm);
            }
            prefix.pop();
        }
    }
}

fn prune_value(
    c: &mut Value,
    nav: Nav<'_>,
    prefix: &mut Vec<String>,
    remove: &FieldSet,
    managed: &FieldSet,
    under_removed: bool,
) {
    match c {
        Value::Object(_) if !nav.atomic_map() => {
            prune(c, nav, prefix, remove, managed, under_removed)
        }
        Value::Array(items) => match nav.list_kind() {
            ListKind::Atomic => {}
            ListKind::Set => items.retain(|it| {
                prefix.push(value_element(it));
                let rm = under_removed || remove.contains(prefix.as_slice());
                let keep = !rm || owns_subtree(managed, prefix);
                prefix.pop();
                keep
            }),
            ListKind::Map(keys) => {
                let mut kept = Vec::new();
                for mut it in std::mem::take(items) {
                    let Some(ke) = key_element(&it, &keys) else {
                        kept.push(it);
                        continue;
                    };
                    prefix.push(ke);
                    let rm = under_removed || remove.contains(prefix.as_slice());
                    if !rm || owns_subtree(managed, prefix) {
                        // key fields stay with a kept item
                        let key_vals: Vec<(String, Value)> = keys
                            .iter()
                            .filter_map(|k| it.get(k.as_str()).map(|v| (k.clone(), v.clone())))
                            .collect();
                        prune(&mut it, nav.item(), prefix, remove, managed, rm);
                        if let Value::Object(m) = &mut it {
                            for (k, v) in key_vals {
                                m.entry(k).or_insert(v);
                            }
                        }
                        kept.push(it);
                    }
                    prefix.pop();
                }
                *items = kept;
            }
        },
        _ => {}
    }
}

/// What an apply to the `status` subresource may change: `status` alone (kube-apiserver's
/// status strategies reset everything else), with the identity fields kept.
fn status_only(config: &Value) -> Value {
    let mut out = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = config.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let mut meta = Map::new();
    for k in ["name", "namespace"] {
        if let Some(v) = config.get("metadata").and_then(|m| m.get(k)) {
            meta.insert(k.into(), v.clone());
        }
    }
    out.insert("metadata".into(), Value::Object(meta));
    if let Some(st) = config.get("status") {
        out.insert("status".into(), st.clone());
    }
    Value::Object(out)
}

/// Remove `status` from an applied configuration or a written object, as kube-apiserver
/// does for main-resource writes of kinds with a status subresource (call it before
/// [`server_side_apply`], and restore the live status after an update).
pub fn drop_status(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
}

/// Server-side apply `config` over `live` (`None` = create). Returns the new object with
/// `metadata.managedFields` updated. With `subresource: Some("status")` only the config's
/// `status` is applied (and owned under an entry with `subresource: status`). Server-owned metadata of `live` (`resourceVersion`,
/// `uid`, `creationTimestamp`, `generation`) is kept.
pub fn server_side_apply(
    live: Option<&Value>,
    config: &Value,
    opts: &ManagerOptions<'_>,
) -> Result<Value, ApiError> {
    if opts.manager.is_empty() {
        return Err(ApiError::BadRequest(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
                .into(),
        ));
    }
    let nav = Nav::root(opts.types);
    let mut config = if opts.subresource == Some("status") {
        status_only(config)
    } else {
        config.clone()
    };
    if let Some(meta) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let subresource = opts.subresource.unwrap_or("").to_string();
    let empty = json!({});
    let live_obj = live.unwrap_or(&empty);

    let mut entries = read_entries(live_obj);
    if live.is_some() && entries.is_empty() {
        // An object nobody managed yet: its current fields belong to "before-first-apply".
        let set = field_set(live_obj, nav);
        if !set.is_empty() {
            entries.push(Entry {
                manager: "before-first-apply".into(),
                operation: "Update".into(),
                api_version: opts.api_version.into(),
                time: opts.now.into(),
                subresource: String::new(),
                set,
            });
        }
    }

    let mut me = Entry {
        manager: opts.manager.into(),
        operation: "Apply".into(),
        api_version: opts.api_version.into(),
        time: opts.now.into(),
        subresource: subresource.clone(),
        set: field_set(&config, nav),
    };
    let my_id = me.id();
    let previous = entries.iter().find(|e| e.id() == my_id);
    let last_set = previous.map(|e| e.set.clone()).unwrap_or_default();
    let last_time = previous.map(|e| e.time.clone());
    let mut others: Vec<Entry> = entries.into_iter().filter(|e| e.id() != my_id).collect();

    // merge, then prune what this manager stopped applying unless someone owns it
    let mut merged = merge(live_obj, &config, nav);
    if !last_set.is_empty() {
        let mut managed: FieldSet = me.set.clone();
        for e in &others {
            managed.extend(e.set.iter().cloned());
        }
        let remove: FieldSet = last_set.difference(&me.set).cloned().collect();
        prune(&mut merged, nav, &mut Vec::new(), &remove, &managed, false);
    }

    // conflicts and ownership moves
    let cmp = compare(live_obj, &merged, nav);
    let changed: FieldSet = cmp.modified.union(&cmp.added).cloned().collect();
    let mut conflicts: Vec<(String, Vec<String>)> = Vec::new();
    for e in &others {
        for p in e.set.intersection(&changed) {
            conflicts.push((e.describe(), p.clone()));
        }
    }
    if !conflicts.is_empty() && !opts.force {
        return Err(conflict_error(conflicts));
    }
    // An apply that changes nothing is a no-op, as in kube-apiserver: the manager's entry keeps
    // its time, so the object (and its resourceVersion) stays as it was.
    if changed.is_empty()
        && cmp.removed.is_empty()
        && me.set == last_set
        && let Some(t) = last_time
    {
        me.time = t;
    }
    for e in &mut others {
        e.set = e
            .set
            .difference(&changed)
            .filter(|p| !cmp.removed.contains(*p))
            .cloned()
            .collect();
    }

    // keep server-owned metadata from the live object
    if let Some(l) = live {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
        ] {
            if let Some(v) = l.get("metadata").and_then(|m| m.get(k))
                && let Some(m) = merged.get_mut("metadata").and_then(Value::as_object_mut)
            {
                m.insert(k.into(), v.clone());
            }
        }
    }
    if merged.get("metadata").is_none() {
        merged
            .as_object_mut()
            .map(|m| m.insert("metadata".into(), json!({})));
    }
    others.push(me);
    write_entries(&mut merged, others);
    Ok(merged)
}

fn conflict_error(mut conflicts: Vec<(String, Vec<String>)>) -> ApiError {
    conflicts.sort();
    let causes: Vec<StatusCause> = conflicts
        .iter()
        .map(|(m, p)| StatusCause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {m}"),
            field: path_string(p),
        })
        .collect();
    let message = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].0,
            path_string(&conflicts[0].1)
        )
    } else {
        let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (m, p) in &conflicts {
            by_manager.entry(m).or_default().push(path_string(p));
        }
        let mut lines = Vec::new();
        for (m, paths) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            for p in paths {
                lines.push(format!("- {p}"));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::ApplyConflict { message, causes }
}

/// Record an `Update` manager on `new` for an ordinary write that turned `old` (`None` =
/// create) into `new`: the manager takes the fields whose value changed, other managers
/// lose them, and removed fields leave every set. A `new` whose `managedFields` differ from
/// `old`'s starts from the client's list instead (an empty entry `[{}]` clears them), as in
/// kube-apiserver.
pub fn record_update(old: Option<&Value>, new: &mut Value, opts: &ManagerOptions<'_>) {
    let nav = Nav::root(opts.types);
    let empty = json!({});
    let old_obj = old.unwrap_or(&empty);
    let old_mf = old_obj.get("metadata").and_then(|m| m.get("managedFields"));
    let new_mf = new.get("metadata").and_then(|m| m.get("managedFields"));
    let mut entries = if new_mf.is_some() && new_mf != old_mf {
        read_entries(new)
    } else {
        read_entries(old_obj)
    };
    let cmp = compare(old_obj, new, nav);
    let me_proto = Entry {
        manager: opts.manager.into(),
        operation: "Update".into(),
        api_version: opts.api_version.into(),
        time: opts.now.into(),
        subresource: opts.subresource.unwrap_or("").into(),
        set: FieldSet::new(),
    };
    let my_id = me_proto.id();
    let changed: FieldSet = cmp.modified.union(&cmp.added).cloned().collect();
    let mut mine = entries
        .iter()
        .position(|e| e.id() == my_id)
        .map(|i| entries.remove(i))
        .unwrap_or(me_proto);
    for e in &mut entries {
        e.set = e
            .set
            .iter()
            .filter(|p| !changed.contains(*p) && !cmp.removed.contains(*p))
            .cloned()
            .collect();
    }
    let before = mine.set.clone();
    mine.set = mine
        .set
        .difference(&cmp.removed)
        .cloned()
        .chain(changed.iter().cloned())
        .collect();
    if mine.set != before {
        mine.time = opts.now.into();
        mine.api_version = opts.api_version.into();
    }
    entries.push(mine);
    if new.get("metadata").is_none()
        && let Some(m) = new.as_object_mut()
    {
        m.insert("metadata".into(), json!({}));
    }
    write_entries(new, entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts<'a>(manager: &'a str, force: bool, types: TypeInfo<'a>) -> ManagerOptions<'a> {
        ManagerOptions {
            manager,
            force,
            api_version: "apps/v1",
            subresource: None,
            now: "2024-06-01T12:00:00Z",
            types,
        }
    }

    fn deploy(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "nginx", "image": image}]}}
            }
        })
    }

    const D: TypeInfo<'static> = TypeInfo::Builtin("Deployment");

    #[test]
    fn apply_body_accepts_json_and_yaml() {
        let j =
            parse_apply_body(br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#)
                .unwrap();
        let y =
            parse_apply_body(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n").unwrap();
        assert_eq!(j, y);
        assert_eq!(
            parse_apply_body(b"kind: ConfigMap\n").unwrap_err().code(),
            400
        );
        assert_eq!(parse_apply_body(b": : :\n- [").unwrap_err().code(), 400);
    }

    #[test]
    fn apply_creates_and_records_fieldsv1() {
        let out =
            server_side_apply(None, &deploy(2, "nginx:1"), &opts("kubectl", false, D)).unwrap();
        let mf = &out["metadata"]["managedFields"];
        assert_eq!(mf.as_array().unwrap().len(), 1);
        assert_eq!(mf[0]["manager"], "kubectl");
        assert_eq!(mf[0]["operation"], "Apply");
        assert_eq!(mf[0]["apiVersion"], "apps/v1");
        assert_eq!(mf[0]["fieldsType"], "FieldsV1");
        assert_eq!(mf[0]["time"], "2024-06-01T12:00:00Z");
        let f = &mf[0]["fieldsV1"];
        assert_eq!(f["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
        assert!(f["f:metadata"].get("f:name").is_none(), "name is not owned");
        assert_eq!(f["f:spec"]["f:replicas"], json!({}));
        assert_eq!(
            f["f:spec"]["f:selector"],
            json!({}),
            "a workload selector is atomic"
        );
        assert_eq!(
            f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"],
            json!({".": {}, "f:image": {}, "f:name": {}})
        );
        assert_eq!(out["spec"]["replicas"], 2);
    }

    #[test]
    fn fields_v1_round_trips() {
        let set = field_set(&deploy(1, "x"), Nav::root(D));
        assert_eq!(from_fields_v1(&to_fields_v1(&set)), set);
    }

    #[test]
    fn an_unchanged_reapply_a_second_later_is_a_no_op_keeping_the_managers_time() {
        let c = deploy(2, "nginx:1");
        let live = server_side_apply(None, &c, &opts("kubectl", false, D)).unwrap();
        let later = ManagerOptions {
            now: "2024-06-01T12:00:01Z",
            ..opts("kubectl", false, D)
        };
        let again = server_side_apply(Some(&live), &c, &later).unwrap();
        assert_eq!(again, live, "nothing changed, so nothing is written");
        // A real change still stamps the new time.
        let changed = server_side_apply(Some(&live), &deploy(3, "nginx:1"), &later).unwrap();
        assert_eq!(
            changed["metadata"]["managedFields"][0]["time"],
            "2024-06-01T12:00:01Z"
        );
    }

    #[test]
    fn reapply_without_a_field_removes_it() {
        let mut c1 = deploy(2, "nginx:1");
        c1["metadata"]["labels"]["tier"] = json!("front");
        let live = server_side_apply(None, &c1, &opts("kubectl", false, D)).unwrap();
        let c2 = deploy(2, "nginx:1");
        let out = server_side_apply(Some(&live), &c2, &opts("kubectl", false, D)).unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        // dropping a whole container removes it
        let mut c3 = deploy(2, "nginx:1");
        c3["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "nginx", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]);
        let two = server_side_apply(Some(&out), &c3, &opts("kubectl", false, D)).unwrap();
        assert_eq!(
            two["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let one = server_side_apply(Some(&two), &c2, &opts("kubectl", false, D)).unwrap();
        assert_eq!(
            one["spec"]["template"]["spec"]["containers"],
            json!([{"name": "nginx", "image": "nginx:1"}])
        );
    }

    #[test]
    fn another_managers_different_value_conflicts_unless_forced() {
        let live =
            server_side_apply(None, &deploy(2, "nginx:1"), &opts("kubectl", false, D)).unwrap();
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                           "spec": {"replicas": 5}});
        let e = server_side_apply(Some(&live), &other, &opts("hpa", false, D)).unwrap_err();
        assert_eq!(e.code(), 409);
        assert_eq!(
            e.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        let st = e.to_status();
        assert_eq!(st["reason"], "Conflict");
        assert_eq!(
            st["details"]["causes"][0],
            json!({"reason": "FieldManagerConflict", "message": "conflict with \"kubectl\"", "field": ".spec.replicas"})
        );

        let forced = server_side_apply(Some(&live), &other, &opts("hpa", true, D)).unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
        let mf = managed_fields(&forced);
        let kubectl = &mf.iter().find(|m| m.0 == "kubectl").unwrap().2;
        let hpa = &mf.iter().find(|m| m.0 == "hpa").unwrap().2;
        let rep = vec!["f:spec".to_string(), "f:replicas".to_string()];
        assert!(!kubectl.contains(&rep), "forced apply takes the field away");
        assert!(hpa.contains(&rep));
        // now kubectl re-applying its old value conflicts with hpa
        let e = server_side_apply(
            Some(&forced),
            &deploy(2, "nginx:1"),
            &opts("kubectl", false, D),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("conflict with \"hpa\": .spec.replicas"),
            "{e}"
        );
    }

    #[test]
    fn same_value_is_shared_not_a_conflict() {
        let live = server_side_apply(None, &deploy(2, "nginx:1"), &opts("a", false, D)).unwrap();
        let out =
            server_side_apply(Some(&live), &deploy(2, "nginx:1"), &opts("b", false, D)).unwrap();
        let mf = managed_fields(&out);
        assert_eq!(mf.len(), 2);
        // a stops applying the labels; b still owns them so they stay
        let mut smaller = deploy(2, "nginx:1");
        smaller["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels");
        let out2 = server_side_apply(Some(&out), &smaller, &opts("a", false, D)).unwrap();
        assert_eq!(out2["metadata"]["labels"], json!({"app": "web"}));
    }

    #[test]
    fn multiple_conflicts_are_listed_by_manager() {
        let live =
            server_side_apply(None, &deploy(2, "nginx:1"), &opts("kubectl", false, D)).unwrap();
        let e = server_side_apply(Some(&live), &deploy(3, "nginx:2"), &opts("other", false, D))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image"
        );
    }

    #[test]
    fn update_managers_conflict_with_appliers_and_are_named_with_api_version() {
        let mut created = deploy(2, "nginx:1");
        record_update(
            None,
            &mut created,
            &opts("kubectl-client-side-apply", false, D),
        );
        let mf = &created["metadata"]["managedFields"][0];
        assert_eq!(mf["operation"], "Update");
        assert_eq!(mf["manager"], "kubectl-client-side-apply");
        let e = server_side_apply(
            Some(&created),
            &deploy(4, "nginx:1"),
            &opts("kubectl", false, D),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn update_moves_ownership_of_changed_fields() {
        let live =
            server_side_apply(None, &deploy(2, "nginx:1"), &opts("kubectl", false, D)).unwrap();
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(7);
        edited["metadata"]["labels"]["new"] = json!("x");
        record_update(Some(&live), &mut edited, &opts("kubectl-edit", false, D));
        let mf = managed_fields(&edited);
        let edit = &mf.iter().find(|m| m.0 == "kubectl-edit").unwrap().2;
        let kubectl = &mf.iter().find(|m| m.0 == "kubectl").unwrap().2;
        let rep = vec!["f:spec".to_string(), "f:replicas".to_string()];
        let lbl = vec![
            "f:metadata".to_string(),
            "f:labels".to_string(),
            "f:new".to_string(),
        ];
        assert!(edit.contains(&rep) && edit.contains(&lbl));
        assert!(!kubectl.contains(&rep));
        assert_eq!(
            edited["metadata"]["managedFields"][1]["operation"], "Update",
            "Apply entries sort first"
        );
        // a no-op update adds no empty entry
        let mut same = live.clone();
        record_update(Some(&live), &mut same, &opts("noop", false, D));
        assert!(managed_fields(&same).iter().all(|m| m.0 != "noop"));
    }

    #[test]
    fn client_can_clear_managed_fields() {
        let live =
            server_side_apply(None, &deploy(2, "nginx:1"), &opts("kubectl", false, D)).unwrap();
        let mut cleared = live.clone();
        cleared["metadata"]["managedFields"] = json!([{}]);
        record_update(Some(&live), &mut cleared, &opts("x", false, D));
        assert!(cleared["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn first_apply_on_unmanaged_object_conflicts_with_before_first_apply() {
        let live = deploy(2, "nginx:1");
        let e = server_side_apply(
            Some(&live),
            &deploy(3, "nginx:1"),
            &opts("kubectl", false, D),
        )
        .unwrap_err();
        assert!(e.to_string().contains("before-first-apply"), "{e}");
        let ok = server_side_apply(
            Some(&live),
            &deploy(2, "nginx:1"),
            &opts("kubectl", false, D),
        )
        .unwrap();
        assert_eq!(ok["spec"]["replicas"], 2);
    }

    #[test]
    fn status_is_not_applied_through_the_main_resource() {
        let mut c = deploy(1, "x");
        c["status"] = json!({"replicas": 9});
        drop_status(&mut c);
        let out = server_side_apply(None, &c, &opts("kubectl", false, D)).unwrap();
        assert!(out.get("status").is_none());
        assert!(
            out["metadata"]["managedFields"][0]["fieldsV1"]
                .get("f:status")
                .is_none()
        );
    }

    #[test]
    fn crd_schema_list_types_drive_merging() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                      "items": {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": "integer"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "args": {"type": "array", "items": {"type": "string"}}
        }}}});
        let t = TypeInfo::Schema(&schema);
        let a = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                       "spec": {"items": [{"id": "a", "v": 1}], "tags": ["x"], "args": ["1", "2"]}});
        let live = server_side_apply(None, &a, &opts("a", false, t)).unwrap();
        let b = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                       "spec": {"items": [{"id": "b", "v": 2}], "tags": ["y"]}});
        let out = server_side_apply(Some(&live), &b, &opts("b", false, t)).unwrap();
        assert_eq!(
            out["spec"]["items"],
            json!([{"id": "a", "v": 1}, {"id": "b", "v": 2}])
        );
        assert_eq!(out["spec"]["tags"], json!(["x", "y"]));
        let f = &out["metadata"]["managedFields"];
        let b_fields = f
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "b")
            .unwrap();
        assert_eq!(
            b_fields["fieldsV1"]["f:spec"]["f:tags"],
            json!({".": {}, "v:\"y\"": {}})
        );
        // atomic list owned by a: b applying a different one conflicts
        let c = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"args": ["3"]}});
        assert!(server_side_apply(Some(&out), &c, &opts("b", false, t)).is_err());
    }

    #[test]
    fn custom_resource_metadata_uses_object_meta_list_semantics() {
        let w = |fins: Value| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "finalizers": fins}, "spec": {}})
        };
        let live = server_side_apply(
            None,
            &w(json!(["a.example.com/x"])),
            &opts("a", false, TypeInfo::Untyped),
        )
        .unwrap();
        let out = server_side_apply(
            Some(&live),
            &w(json!(["b.example.com/y"])),
            &opts("b", false, TypeInfo::Untyped),
        )
        .unwrap();
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["a.example.com/x", "b.example.com/y"]),
            "finalizers merge as a set"
        );
    }

    #[test]
    fn status_subresource_apply_changes_only_status() {
        let live = server_side_apply(None, &deploy(2, "x"), &opts("kubectl", false, D)).unwrap();
        let mut cfg = deploy(9, "other");
        cfg["status"] = json!({"readyReplicas": 2});
        let mut o = opts("controller", false, D);
        o.subresource = Some("status");
        let out = server_side_apply(Some(&live), &cfg, &o).unwrap();
        assert_eq!(
            out["spec"], live["spec"],
            "spec in a status apply is ignored"
        );
        assert_eq!(out["status"], json!({"readyReplicas": 2}));
        let e = out["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "controller")
            .unwrap();
        assert_eq!(e["subresource"], "status");
        assert_eq!(e["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}}}));
    }

    #[test]
    fn ports_with_the_same_number_and_different_protocols_stay_apart() {
        let svc = |ports: Value| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dns"},
            "spec": {"ports": ports}})
        };
        let t = TypeInfo::Builtin("Service");
        let live = server_side_apply(
            None,
            &svc(json!([{"port": 53, "protocol": "UDP", "name": "dns"}])),
            &opts("a", false, t),
        )
        .unwrap();
        let out = server_side_apply(
            Some(&live),
            &svc(json!([{"port": 53, "name": "dns-tcp"}])),
            &opts("b", false, t),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 53, "protocol": "UDP", "name": "dns"}, {"port": 53, "name": "dns-tcp"}])
        );
        let b = out["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "b")
            .unwrap();
        assert!(
            b["fieldsV1"]["f:spec"]["f:ports"]["k:{\"port\":53,\"protocol\":\"TCP\"}"].is_object()
        );
    }

    #[test]
    fn empty_field_manager_is_rejected() {
        let e = server_side_apply(None, &deploy(1, "x"), &opts("", false, D)).unwrap_err();
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn server_owned_metadata_is_preserved() {
        let mut live = server_side_apply(None, &deploy(2, "x"), &opts("k", false, D)).unwrap();
        live["metadata"]["uid"] = json!("u-1");
        live["metadata"]["resourceVersion"] = json!("10");
        let out = server_side_apply(Some(&live), &deploy(2, "y"), &opts("k", false, D)).unwrap();
        assert_eq!(out["metadata"]["uid"], "u-1");
        assert_eq!(out["metadata"]["resourceVersion"], "10");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "y"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn labels() -> impl Strategy<Value = Value> {
            proptest::collection::btree_map("[a-e]", "[x-z]{1,2}", 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
            })
        }

        fn cm(labels: Value, data: Value) -> Value {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "c", "labels": labels}, "data": data})
        }

        fn o(m: &str) -> ManagerOptions<'_> {
            ManagerOptions {
                manager: m,
                force: false,
                api_version: "v1",
                subresource: None,
                now: "2024-06-01T12:00:00Z",
                types: TypeInfo::Builtin("ConfigMap"),
            }
        }

        fn schema() -> Value {
            json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
                "m": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "a": {"type": "object", "x-kubernetes-map-type": "atomic"}
            }}}})
        }

        fn doc() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                (0i64..3).prop_map(Value::from),
                "[xy]".prop_map(Value::from),
            ];
            let item = (
                prop_oneof![Just("n1"), Just("n2"), Just("n3")],
                leaf.clone(),
            )
                .prop_map(|(n, v)| json!({"name": n, "v": v}));
            let m = proptest::collection::vec(item, 0..4).prop_map(Value::Array);
            let set = proptest::collection::vec("[pq]", 0..3)
                .prop_map(|v| Value::Array(v.into_iter().map(Value::from).collect()));
            let inner = proptest::collection::btree_map("[a-c]", leaf.clone(), 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect()));
            let spec = (
                proptest::option::of(m),
                proptest::option::of(set),
                proptest::option::of(inner.clone()),
                proptest::option::of(inner.clone()),
                proptest::option::of(leaf.clone()),
            )
                .prop_map(|(m, s, a, b, c)| {
                    let mut o = Map::new();
                    for (k, v) in [("m", m), ("s", s), ("a", a), ("b", b), ("c", c)] {
                        if let Some(v) = v {
                            o.insert(k.into(), v);
                        }
                    }
                    Value::Object(o)
                });
            (
                proptest::option::of(spec),
                proptest::option::of(inner),
                proptest::option::of(leaf),
            )
                .prop_map(|(spec, labels, x)| {
                    let mut o = Map::new();
                    o.insert("kind".into(), json!("W"));
                    if let Some(s) = spec {
                        o.insert("spec".into(), s);
                    }
                    if let Some(l) = labels {
                        o.insert("metadata".into(), json!({"name": "w", "labels": l}));
                    }
                    if let Some(x) = x {
                        o.insert("x".into(), x);
                    }
                    Value::Object(o)
                })
        }

        fn present(v: &Value) -> Value {
            match v {
                Value::Object(m) if m.is_empty() => Value::Null,
                other => other.clone(),
            }
        }

        proptest! {
            /// One manager alone: the object always ends up exactly as its latest config.
            #[test]
            fn sole_applier_converges_to_its_latest_config(a in labels(), b in labels(), da in labels(), db in labels()) {
                let first = server_side_apply(None, &cm(a, da), &o("m")).unwrap();
                let second = server_side_apply(Some(&first), &cm(b.clone(), db.clone()), &o("m")).unwrap();
                prop_assert_eq!(present(second["metadata"].get("labels").unwrap_or(&Value::Null)), present(&b));
                prop_assert_eq!(present(second.get("data").unwrap_or(&Value::Null)), present(&db));
                // applying the same config again changes nothing
                let again = server_side_apply(Some(&second), &cm(b, db), &o("m")).unwrap();
                prop_assert_eq!(again, second);
            }

            /// Two appliers that agree on shared values never conflict, and each one's fields
            /// survive the other's re-apply.
            #[test]
            fn disjoint_appliers_keep_each_others_fields(a in labels(), b in labels()) {
                let b: Value = Value::Object(b.as_object().unwrap().iter()
                    .map(|(k, v)| (format!("other-{k}"), v.clone())).collect());
                let one = server_side_apply(None, &cm(a.clone(), json!({})), &o("one")).unwrap();
                let two = server_side_apply(Some(&one), &cm(b.clone(), json!({})), &o("two")).unwrap();
                let again = server_side_apply(Some(&two), &cm(a.clone(), json!({})), &o("one")).unwrap();
                let labels = again["metadata"].get("labels").cloned().unwrap_or(json!({}));
                for (k, v) in a.as_object().unwrap().iter().chain(b.as_object().unwrap()) {
                    prop_assert_eq!(&labels[k.as_str()], v);
                }
            }

            /// The tree-walking comparison agrees with the one over full path maps.
            #[test]
            fn fast_compare_matches_path_map_compare(a in doc(), b in doc()) {
                let sch = schema();
                for nav in [Nav::root(TypeInfo::Schema(&sch)), Nav::root(TypeInfo::Builtin("Deployment")), Nav::root(TypeInfo::Untyped)] {
                    let f = compare(&a, &b, nav);
                    let s = compare_by_maps(&a, &b, nav);
                    prop_assert_eq!(&f.added, &s.added);
                    prop_assert_eq!(&f.removed, &s.removed);
                    prop_assert_eq!(&f.modified, &s.modified);
                }
            }

            /// FieldsV1 encoding round-trips any field set the apply code produces.
            #[test]
            fn fields_v1_round_trips_generated_sets(a in labels(), d in labels()) {
                let set = field_set(&cm(a, d), Nav::root(TypeInfo::Builtin("ConfigMap")));
                prop_assert_eq!(from_fields_v1(&to_fields_v1(&set)), set);
            }
        }
    }
}
