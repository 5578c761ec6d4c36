//! CRD structural schemas (`openAPIV3Schema`): validation with kube-apiserver's field-error
//! text, pruning of unknown fields (or reporting them for `fieldValidation=Strict`), and
//! defaulting.
//!
//! Schemas are plain `serde_json::Value`s, exactly as found in a CRD's
//! `spec.versions[].schema.openAPIV3Schema`. At the root, `apiVersion`, `kind` and
//! `metadata` are always kept and are not validated against the schema (kube-apiserver
//! validates metadata as ObjectMeta); the same holds inside
//! `x-kubernetes-embedded-resource` objects.

use crate::field::{FieldError, go_float, go_quote};
use crate::status::ApiError;
use regex::Regex;
use serde_json::{Map, Value};

/// The fields of `metav1.ObjectMeta`; other keys under `metadata` are pruned.
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn child(path: &str, key: &str) -> String {
    crate::field::child(path, key)
}

fn bool_ext(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                "integer"
            } else {
                "number"
            }
        }
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn num_str(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| go_float(n.as_f64().unwrap_or(0.0))),
        other => other.to_string(),
    }
}

/// Validate a custom object against its schema; errors in kube-apiserver's wording, e.g.
/// `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
/// `apiVersion`, `kind` and `metadata` at the root are skipped (validate the name with
/// [`crate::meta::validate_object_name`]).
pub fn validate(schema: &Value, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_node(schema, obj, "", true, &mut errs);
    errs
}

fn type_error(path: &str, type_name: &str, found: &str) -> FieldError {
    FieldError::type_invalid(
        path,
        Value::String(found.into()),
        format!(
            "{path} in body must be of type {type_name}: {}",
            go_quote(found)
        ),
    )
}

fn invalid(path: &str, v: &Value, msg: String) -> FieldError {
    FieldError::invalid(path, v.clone(), format!("{path} in body {msg}"))
}

fn validate_node(schema: &Value, v: &Value, path: &str, root: bool, errs: &mut Vec<FieldError>) {
    let Some(sm) = schema.as_object() else {
        return;
    };
    let int_or_string = bool_ext(schema, "x-kubernetes-int-or-string");
    let ty = sm.get("type").and_then(Value::as_str).unwrap_or("");

    // type (and null)
    if v.is_null() {
        let nullable = bool_ext(schema, "nullable");
        if (!ty.is_empty() || int_or_string) && !nullable {
            let t = if int_or_string { "integer,string" } else { ty };
            errs.push(type_error(path, t, "null"));
        }
        return;
    }
    let found = json_type(v);
    if int_or_string {
        if !matches!(found, "integer" | "string") {
            errs.push(type_error(path, "integer,string", found));
            return;
        }
    } else if !ty.is_empty() {
        let float_int =
            found == "number" && ty == "integer" && v.as_f64().is_some_and(|f| f.fract() == 0.0);
        let ok = ty == found || (ty == "number" && found == "integer") || float_int;
        if !ok {
            errs.push(type_error(path, ty, found));
            return;
        }
    }

    // allOf / anyOf / oneOf / not
    if let Some(all) = sm.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate_node(s, v, path, root, errs);
        }
    }
    if let Some(any) = sm.get("anyOf").and_then(Value::as_array) {
        let ok = any.iter().any(|s| {
            let mut e = Vec::new();
            validate_node(s, v, path, root, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(invalid(
                path,
                v,
                "must validate at least one schema (anyOf)".into(),
            ));
        }
    }
    if let Some(one) = sm.get("oneOf").and_then(Value::as_array) {
        let n = one
            .iter()
            .filter(|s| {
                let mut e = Vec::new();
                validate_node(s, v, path, root, &mut e);
                e.is_empty()
            })
            .count();
        if n != 1 {
            errs.push(invalid(
                path,
                v,
                "must validate one and only one schema (oneOf)".into(),
            ));
        }
    }
    if let Some(not) = sm.get("not") {
        let mut e = Vec::new();
        validate_node(not, v, path, root, &mut e);
        if e.is_empty() {
            errs.push(invalid(
                path,
                v,
                "is not allowed to match the schema (not)".into(),
            ));
        }
    }

    match v {
        Value::String(st) => {
            if let Some(f) = sm.get("format").and_then(Value::as_str)
                && !format_ok(f, st)
            {
                errs.push(FieldError::type_invalid(
                    path,
                    v.clone(),
                    format!("{path} in body must be of type {f}: {}", go_quote(st)),
                ));
            }
            let len = st.chars().count() as i64;
            if let Some(max) = sm.get("maxLength").and_then(Value::as_i64)
                && len > max
            {
                errs.push(FieldError::too_long(path, max));
            }
            if let Some(min) = sm.get("minLength").and_then(Value::as_i64)
                && len < min
            {
                errs.push(invalid(
                    path,
                    v,
                    format!("should be at least {min} chars long"),
                ));
            }
            if let Some(p) = sm.get("pattern").and_then(Value::as_str) {
                match pattern_matches(p, st) {
                    Some(false) => errs.push(invalid(path, v, format!("should match '{p}'"))),
                    Some(true) => {}
                    None => errs.push(invalid(
                        path,
                        v,
                        format!("should match '{p}' (the pattern does not compile)"),
                    )),
                }
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            let excl_max = bool_ext(schema, "exclusiveMaximum");
            let excl_min = bool_ext(schema, "exclusiveMinimum");
            if let Some(maxv) = sm.get("maximum")
                && let Some(max) = maxv.as_f64()
            {
                if excl_max && x >= max {
                    errs.push(invalid(
                        path,
                        v,
                        format!("should be less than {}", num_str(maxv)),
                    ));
                } else if !excl_max && x > max {
                    errs.push(invalid(
                        path,
                        v,
                        format!("should be less than or equal to {}", num_str(maxv)),
                    ));
                }
            }
            if let Some(minv) = sm.get("minimum")
                && let Some(min) = minv.as_f64()
            {
                if excl_min && x <= min {
                    errs.push(invalid(
                        path,
                        v,
                        format!("should be greater than {}", num_str(minv)),
                    ));
                } else if !excl_min && x < min {
                    errs.push(invalid(
                        path,
                        v,
                        format!("should be greater than or equal to {}", num_str(minv)),
                    ));
                }
            }
            if let Some(mv) = sm.get("multipleOf")
                && let Some(m) = mv.as_f64()
                && m > 0.0
            {
                let q = x / m;
                if (q - q.round()).abs() > 1e-9 {
                    errs.push(invalid(
                        path,
                        v,
                        format!("should be a multiple of {}", num_str(mv)),
                    ));
                }
            }
        }
        _ => {}
    }

    if let Some(en) = sm.get("enum").and_then(Value::as_array)
        && !en.contains(v)
    {
        let allowed: Vec<String> = en
            .iter()
            .map(|a| match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        errs.push(FieldError::not_supported(path, v.clone(), &allowed));
    }

    match v {
        Value::Array(items) => {
            let n = items.len() as i64;
            if let Some(max) = sm.get("maxItems").and_then(Value::as_i64)
                && n > max
            {
                errs.push(FieldError::too_many(path, n, max));
            }
            if let Some(min) = sm.get("minItems").and_then(Value::as_i64)
                && n < min
            {
                errs.push(invalid(
                    path,
                    &Value::from(n),
                    format!("should have at least {min} items"),
                ));
            }
            if bool_ext(schema, "uniqueItems") {
                for (i, a) in items.iter().enumerate() {
                    if items[..i].contains(a) {
                        errs.push(FieldError::duplicate(
                            crate::field::index(path, i),
                            a.clone(),
                        ));
                    }
                }
            }
            if let Some(is) = sm.get("items") {
                for (i, it) in items.iter().enumerate() {
                    validate_node(is, it, &crate::field::index(path, i), false, errs);
                }
            }
            validate_list_type(sm, items, path, errs);
        }
        Value::Object(m) => {
            let embedded = bool_ext(schema, "x-kubernetes-embedded-resource");
            if embedded {
                for k in ["apiVersion", "kind"] {
                    if m.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                        errs.push(FieldError::required(child(path, k), "must not be empty"));
                    }
                }
            }
            let n = m.len() as i64;
            if let Some(max) = sm.get("maxProperties").and_then(Value::as_i64)
                && n > max
            {
                errs.push(FieldError::too_many(path, n, max));
            }
            if let Some(min) = sm.get("minProperties").and_then(Value::as_i64)
                && n < min
            {
                errs.push(invalid(
                    path,
                    &Value::from(n),
                    format!("should have at least {min} properties"),
                ));
            }
            if let Some(req) = sm.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        errs.push(FieldError::required(child(path, r), ""));
                    }
                }
            }
            let props = sm.get("properties").and_then(Value::as_object);
            for (k, cv) in m {
                if (root || embedded) && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let cp = child(path, k);
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    validate_node(ps, cv, &cp, false, errs);
                } else if let Some(ap) = sm.get("additionalProperties") {
                    if ap.is_object() {
                        validate_node(ap, cv, &cp, false, errs);
                    } else if ap == &Value::Bool(false) && props.is_some() {
                        errs.push(FieldError::forbidden(
                            cp.clone(),
                            format!("{cp} in body is a forbidden property"),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

/// `x-kubernetes-list-type: set|map` uniqueness, as kube-apiserver checks it.
fn validate_list_type(
    sm: &Map<String, Value>,
    items: &[Value],
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    match sm.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => {
            for (i, a) in items.iter().enumerate() {
                if items[..i].contains(a) {
                    errs.push(FieldError::duplicate(
                        crate::field::index(path, i),
                        a.clone(),
                    ));
                }
            }
        }
        Some("map") => {
            let keys: Vec<&str> = sm
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let ident = |v: &Value| -> Vec<Value> {
                keys.iter()
                    .map(|k| v.get(*k).cloned().unwrap_or(Value::Null))
                    .collect()
            };
            for (i, a) in items.iter().enumerate() {
                let id = ident(a);
                if items[..i].iter().any(|b| ident(b) == id) {
                    let shown: Map<String, Value> = keys
                        .iter()
                        .zip(id)
                        .map(|(k, v)| (k.to_string(), v))
                        .collect();
                    errs.push(FieldError::duplicate(
                        crate::field::index(path, i),
                        Value::Object(shown),
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether `s` matches the schema `pattern` (`None` when the pattern does not compile).
/// Compiled patterns are memoised (schemas are few and long-lived, objects many) and used
/// in place: cloning a `Regex` would drop its warmed-up matching caches.
fn pattern_matches(p: &str, s: &str) -> Option<bool> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if !cache.contains_key(p) {
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(p.to_string(), Regex::new(p).ok());
    }
    cache
        .get(p)
        .and_then(|r| r.as_ref())
        .map(|re| re.is_match(s))
}

fn format_ok(format: &str, s: &str) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr};
    match format {
        "date-time" | "datetime" => s.parse::<jiff::Timestamp>().is_ok(),
        "date" => s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10,
        "uuid" => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        *c == b'-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }
        "ipv4" => s.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<Ipv6Addr>().is_ok(),
        "hostname" => !s.is_empty() && crate::meta::is_dns1123_subdomain(s).is_empty(),
        "byte" => {
            let t = s.trim_end_matches('=');
            s.len().is_multiple_of(4)
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        }
        // Unknown formats are not checked, as in kube-apiserver.
        _ => true,
    }
}

/// Remove fields the schema does not know (unless `x-kubernetes-preserve-unknown-fields`);
/// returns the removed paths (`spec.foo`, `spec.items[0].bar`) in document order.
pub fn prune(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut removed = Vec::new();
    prune_node(schema, obj, "", true, &mut removed);
    removed
}

fn prune_meta(v: &mut Value, path: &str, removed: &mut Vec<String>) {
    if let Value::Object(m) = v {
        m.retain(|k, _| {
            let keep = OBJECT_META_FIELDS.contains(&k.as_str());
            if !keep {
                removed.push(child(path, k));
            }
            keep
        });
    }
}

fn prune_node(schema: &Value, v: &mut Value, path: &str, root: bool, removed: &mut Vec<String>) {
    let preserve = bool_ext(schema, "x-kubernetes-preserve-unknown-fields");
    let embedded = bool_ext(schema, "x-kubernetes-embedded-resource");
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let cp = child(path, &k);
                if root || embedded {
                    if k == "metadata" {
                        if let Some(mv) = m.get_mut(&k) {
                            prune_meta(mv, &cp, removed);
                        }
                        continue;
                    }
                    if k == "apiVersion" || k == "kind" {
                        continue;
                    }
                }
                if let Some(ps) = props.and_then(|p| p.get(&k)) {
                    if let Some(cv) = m.get_mut(&k) {
                        prune_node(ps, cv, &cp, false, removed);
                    }
                } else if let Some(ap) = additional.filter(|a| a.is_object()) {
                    if let Some(cv) = m.get_mut(&k) {
                        prune_node(ap, cv, &cp, false, removed);
                    }
                } else if !(preserve || additional == Some(&Value::Bool(true))) {
                    m.remove(&k);
                    removed.push(cp);
                }
            }
        }
        Value::Array(a) => {
            if let Some(is) = schema.get("items") {
                for (i, it) in a.iter_mut().enumerate() {
                    prune_node(is, it, &crate::field::index(path, i), false, removed);
                }
            }
        }
        _ => {}
    }
}

/// The unknown fields `prune` would remove, without changing the object.
pub fn unknown_fields(schema: &Value, obj: &Value) -> Vec<String> {
    let mut copy = obj.clone();
    prune(schema, &mut copy)
}

/// Apply `default`s from the schema to absent fields, and to `null` fields that are not
/// `nullable`; a non-nullable `null` without a default is removed (as kube-apiserver
/// does before validation). Defaults are themselves defaulted recursively.
pub fn apply_defaults(schema: &Value, obj: &mut Value) {
    default_node(schema, obj, true);
}

fn default_node(schema: &Value, v: &mut Value, root: bool) {
    let embedded = bool_ext(schema, "x-kubernetes-embedded-resource");
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, ps) in props {
                    if (root || embedded)
                        && matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                    {
                        continue;
                    }
                    let is_null = m.get(k).is_some_and(Value::is_null);
                    let nullable = bool_ext(ps, "nullable");
                    match (m.contains_key(k), ps.get("default")) {
                        (false, Some(d)) => {
                            m.insert(k.clone(), d.clone());
                        }
                        (true, Some(d)) if is_null && !nullable => {
                            m.insert(k.clone(), d.clone());
                        }
                        (true, None) if is_null && !nullable => {
                            m.remove(k);
                        }
                        _ => {}
                    }
                    if let Some(cv) = m.get_mut(k) {
                        default_node(ps, cv, false);
                    }
                }
            }
            if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                let props = schema.get("properties").and_then(Value::as_object);
                for (k, cv) in m.iter_mut() {
                    if props.is_none_or(|p| !p.contains_key(k)) {
                        default_node(ap, cv, false);
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(is) = schema.get("items") {
                for it in a.iter_mut() {
                    if it.is_null()
                        && !bool_ext(is, "nullable")
                        && let Some(d) = is.get("default")
                    {
                        *it = d.clone();
                    }
                    default_node(is, it, false);
                }
            }
        }
        _ => {}
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Check that a CRD version's `openAPIV3Schema` is *structural*, as kube-apiserver requires
/// before it accepts a CRD: every node has a `type` (unless `x-kubernetes-int-or-string` or
/// an embedded resource), arrays have `items`, the root is an object, root `metadata` may only
/// restrict `name`/`generateName`, embedded resources are objects, list-type extensions are
/// consistent. `path` is where the schema sits, e.g.
/// `spec.versions[0].schema.openAPIV3Schema`; messages are kube-apiserver's
/// (`...properties[spec].type: Required value: must not be empty for specified object fields`).
pub fn validate_structural(schema: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    structural_node(schema, Level::Root, path, &mut errs);
    errs
}

fn structural_node(s: &Value, lvl: Level, path: &str, errs: &mut Vec<FieldError>) {
    let Some(m) = s.as_object() else {
        errs.push(FieldError::invalid(
            path,
            s.clone(),
            "must be a schema object",
        ));
        return;
    };
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let int_or_string = bool_ext(s, "x-kubernetes-int-or-string");
    let embedded = bool_ext(s, "x-kubernetes-embedded-resource");
    let preserve = bool_ext(s, "x-kubernetes-preserve-unknown-fields");
    let tpath = child(path, "type");

    if ty == "array" && m.get("items").is_none() {
        errs.push(FieldError::required(
            child(path, "items"),
            "must be specified",
        ));
    }
    if let Some(items) = m.get("items") {
        structural_node(items, Level::Item, &child(path, "items"), errs);
    }
    if let Some(props) = m.get("properties").and_then(Value::as_object) {
        let ppath = child(path, "properties");
        for (k, v) in props {
            structural_node(v, Level::Field, &crate::field::key(&ppath, k), errs);
        }
    }
    if let Some(ap) = m.get("additionalProperties").filter(|a| a.is_object()) {
        structural_node(ap, Level::Field, &child(path, "additionalProperties"), errs);
    }
    if !ty.is_empty()
        && !["array", "boolean", "integer", "number", "object", "string"].contains(&ty)
    {
        let valid: Vec<String> = ["array", "boolean", "integer", "number", "object", "string"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        errs.push(FieldError::not_supported(
            &tpath,
            Value::String(ty.into()),
            &valid,
        ));
    }
    if m.contains_key("properties") && m.get("additionalProperties").is_some_and(|a| a.is_object())
    {
        errs.push(FieldError::forbidden(
            child(path, "additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    if m.get("uniqueItems") == Some(&Value::Bool(true)) {
        errs.push(FieldError::forbidden(
            child(path, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if m.get("additionalProperties") == Some(&Value::Bool(false)) {
        errs.push(FieldError::forbidden(
            child(path, "additionalProperties"),
            "additionalProperties cannot be set to false",
        ));
    }
    if m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(FieldError::invalid(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            Value::Bool(false),
            "must be true or undefined",
        ));
    }
    if int_or_string && !ty.is_empty() {
        errs.push(FieldError::invalid(
            &tpath,
            Value::String(ty.into()),
            "must be empty if x-kubernetes-int-or-string is true",
        ));
    }
    if embedded && ty != "object" {
        if ty.is_empty() {
            errs.push(FieldError::required(
                &tpath,
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                &tpath,
                Value::String(ty.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !embedded && !int_or_string && (!preserve || lvl == Level::Root) {
        let msg = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(&tpath, msg));
    }
    if embedded && m.get("additionalProperties").is_some() {
        errs.push(FieldError::forbidden(
            child(path, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            &tpath,
            Value::String(ty.into()),
            "must be object at the root",
        ));
    }
    let props = m.get("properties").and_then(Value::as_object);
    if lvl == Level::Root || embedded {
        let ppath = child(path, "properties");
        for (k, want) in [
            ("kind", "string"),
            ("apiVersion", "string"),
            ("metadata", "object"),
        ] {
            if let Some(p) = props.and_then(|p| p.get(k)) {
                let t = p.get("type").and_then(Value::as_str).unwrap_or("");
                if t != want {
                    errs.push(FieldError::invalid(
                        child(&crate::field::key(&ppath, k), "type"),
                        Value::String(t.into()),
                        format!("must be {want}"),
                    ));
                }
            }
        }
    }
    if lvl == Level::Root
        && let Some(meta) = props
            .and_then(|p| p.get("metadata"))
            .and_then(Value::as_object)
    {
        let allowed = |k: &str| matches!(k, "type" | "default" | "description");
        let inner_ok = meta
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(|p| p.keys().all(|k| k == "name" || k == "generateName"));
        if !inner_ok || meta.keys().any(|k| !allowed(k) && k != "properties") {
            errs.push(FieldError::forbidden(
                crate::field::key(&child(path, "properties"), "metadata"),
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if embedded && !preserve && props.is_none_or(|p| p.is_empty()) {
        errs.push(FieldError::required(
            child(path, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
    match m.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => {
            let keys = m
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if keys.is_empty() {
                errs.push(FieldError::required(
                    child(path, "x-kubernetes-list-map-keys"),
                    "must not be empty if x-kubernetes-list-type is map",
                ));
            }
            if m.get("items")
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
                != Some("object")
            {
                errs.push(FieldError::invalid(
                    child(&child(path, "items"), "type"),
                    m.get("items")
                        .and_then(|i| i.get("type"))
                        .cloned()
                        .unwrap_or(Value::String(String::new())),
                    "must be object if parent array's x-kubernetes-list-type is map",
                ));
            }
        }
        Some("set" | "atomic") | None => {
            if m.contains_key("x-kubernetes-list-map-keys") {
                errs.push(FieldError::forbidden(
                    child(path, "x-kubernetes-list-map-keys"),
                    "must not be set if x-kubernetes-list-type is not map",
                ));
            }
        }
        Some(other) => errs.push(FieldError::not_supported(
            child(path, "x-kubernetes-list-type"),
            Value::String(other.into()),
            &["atomic".to_string(), "set".to_string(), "map".to_string()],
        )),
    }
}

/// The 400 kube-apiserver answers under `fieldValidation=Strict` for unknown fields:
/// `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: unknown field "spec.foo", ...`.
pub fn strict_decoding_error(kind: &str, version: &str, unknown: &[String]) -> ApiError {
    let list: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    ApiError::BadRequest(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        list.join(", ")
    ))
}

/// The warning texts kube-apiserver sends (`Warning` header) under `fieldValidation=Warn`:
/// `unknown field "spec.foo"`.
pub fn unknown_field_warnings(unknown: &[String]) -> Vec<String> {
    unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::aggregate;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                        "size": {"type": "string", "enum": ["small", "large"]},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                        "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
                        "port": {"x-kubernetes-int-or-string": true},
                        "when": {"type": "string", "format": "date-time"},
                        "tags": {"type": "array", "maxItems": 3, "minItems": 1, "items": {"type": "string"}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "opt": {"type": "string", "nullable": true},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                 "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                     "x-kubernetes-preserve-unknown-fields": true},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                                  "x-kubernetes-list-map-keys": ["port"],
                                  "items": {"type": "object", "properties": {"port": {"type": "integer"}, "name": {"type": "string", "default": "http"}}}},
                        "nested": {"type": "object", "default": {}, "properties": {"level": {"type": "string", "default": "info"}}}
                    }
                },
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
            }
        })
    }

    fn errs(obj: Value) -> Vec<String> {
        validate(&schema(), &obj)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn type_error_has_kube_apiserver_wording() {
        assert_eq!(
            errs(json!({"spec": {"size": "small", "replicas": "three"}})),
            vec![
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
            ]
        );
        assert_eq!(
            errs(json!({"spec": "x"})),
            vec![r#"spec: Invalid value: "string": spec in body must be of type object: "string""#]
        );
    }

    #[test]
    fn required_and_enum_errors() {
        assert_eq!(
            errs(json!({"spec": {"mode": "x"}})),
            vec![
                "spec.size: Required value".to_string(),
                r#"spec.mode: Unsupported value: "x": supported values: "a", "b""#.to_string()
            ]
        );
    }

    #[test]
    fn numeric_bounds() {
        assert_eq!(
            errs(json!({"spec": {"size": "small", "replicas": 0}})),
            vec![
                "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
            ]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "replicas": 11}})),
            vec![
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"
            ]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "ratio": 1.5}})),
            vec!["spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5"]
        );
        assert!(
            errs(json!({"spec": {"size": "small", "replicas": 3.0, "ratio": 1}})).is_empty(),
            "3.0 is an integer and 1 is a number"
        );
    }

    #[test]
    fn string_constraints() {
        let e = errs(json!({"spec": {"size": "small", "name": "A"}}));
        assert_eq!(
            e,
            vec![
                r#"spec.name: Invalid value: "A": spec.name in body should be at least 2 chars long"#.to_string(),
                r#"spec.name: Invalid value: "A": spec.name in body should match '^[a-z]+$'"#.to_string()
            ]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "name": "abcdef"}})),
            vec!["spec.name: Too long: may not be more than 5 bytes"]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "when": "yesterday"}})),
            vec![
                r#"spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday""#
            ]
        );
        assert!(
            errs(json!({"spec": {"size": "small", "when": "2024-01-01T00:00:00Z"}})).is_empty()
        );
    }

    #[test]
    fn arrays_maps_int_or_string_and_nullable() {
        assert_eq!(
            errs(json!({"spec": {"size": "small", "tags": ["a", "b", "c", "d"]}})),
            vec!["spec.tags: Too many: 4: must have at most 3 items"]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "tags": []}})),
            vec!["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "tags": ["a", 1]}})),
            vec![
                r#"spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer""#
            ]
        );
        assert_eq!(
            errs(json!({"spec": {"size": "small", "labels": {"a": 1}}})),
            vec![
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#
            ]
        );
        assert!(errs(json!({"spec": {"size": "small", "port": 80}})).is_empty());
        assert!(errs(json!({"spec": {"size": "small", "port": "http"}})).is_empty());
        assert_eq!(
            errs(json!({"spec": {"size": "small", "port": true}})),
            vec![
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#
            ]
        );
        assert!(errs(json!({"spec": {"size": "small", "opt": null}})).is_empty());
        assert_eq!(
            errs(json!({"spec": {"size": "small", "name": null}})),
            vec![
                r#"spec.name: Invalid value: "null": spec.name in body must be of type string: "null""#
            ]
        );
    }

    #[test]
    fn embedded_resources_need_api_version_and_kind() {
        assert_eq!(
            errs(json!({"spec": {"size": "small", "template": {"metadata": {"name": "x"}}}})),
            vec![
                "spec.template.apiVersion: Required value: must not be empty".to_string(),
                "spec.template.kind: Required value: must not be empty".to_string()
            ]
        );
    }

    #[test]
    fn list_map_keys_must_be_unique() {
        let e = errs(json!({"spec": {"size": "small", "ports": [{"port": 80}, {"port": 80}]}}));
        assert_eq!(e, vec![r#"spec.ports[1]: Duplicate value: {"port":80}"#]);
    }

    #[test]
    fn root_metadata_apiversion_kind_are_not_schema_validated() {
        let o = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": "large"}});
        assert!(validate(&schema(), &o).is_empty());
    }

    #[test]
    fn several_errors_aggregate_like_kube_apiserver() {
        let e = validate(&schema(), &json!({"spec": {"replicas": "x"}}));
        assert_eq!(
            aggregate(&e),
            r#"[spec.size: Required value, spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"]"#
        );
    }

    #[test]
    fn pruning_removes_unknown_fields_and_keeps_preserved_ones() {
        let mut o = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "bogus": 1},
            "spec": {"size": "small", "foo": 1, "labels": {"x": "y"},
                     "free": {"anything": {"goes": true}, "known": {"a": "1", "b": "dropped"}},
                     "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "junk": 1}, "spec": {"x": 1}},
                     "ports": [{"port": 80, "extra": true}]},
            "status": {"phase": "Ready", "other": "x"},
            "top": 1
        });
        let removed = prune(&schema(), &mut o);
        assert_eq!(
            removed,
            vec![
                "metadata.bogus",
                "spec.foo",
                "spec.free.known.b",
                "spec.template.metadata.junk",
                "spec.ports[0].extra",
                "status.other",
                "top"
            ]
        );
        assert_eq!(o["spec"]["free"]["anything"], json!({"goes": true}));
        assert_eq!(o["spec"]["template"]["spec"], json!({"x": 1}));
        assert_eq!(o["apiVersion"], "example.com/v1");
        assert!(o.get("top").is_none());
        assert_eq!(unknown_fields(&schema(), &o), Vec::<String>::new());
    }

    #[test]
    fn structural_schema_rules() {
        assert!(
            validate_structural(&schema(), "s").is_empty(),
            "{:?}",
            validate_structural(&schema(), "s")
        );
        let bad = json!({
            "type": "object",
            "properties": {
                "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}},
                "spec": {"properties": {"list": {"type": "array"},
                                        "port": {"type": "string", "x-kubernetes-int-or-string": true},
                                        "m": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "string"}}}}
            }
        });
        let errs: Vec<String> =
            validate_structural(&bad, "spec.versions[0].schema.openAPIV3Schema")
                .iter()
                .map(|e| e.to_string())
                .collect();
        let p = "spec.versions[0].schema.openAPIV3Schema";
        for want in [
            format!(
                "{p}.properties[spec].properties[list].items: Required value: must be specified"
            ),
            format!(
                "{p}.properties[spec].properties[port].type: Invalid value: \"string\": must be empty if x-kubernetes-int-or-string is true"
            ),
            format!(
                "{p}.properties[spec].properties[m].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
            ),
            format!(
                "{p}.properties[spec].type: Required value: must not be empty for specified object fields"
            ),
            format!(
                "{p}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
            ),
        ] {
            assert!(errs.contains(&want), "missing {want}\n{errs:#?}");
        }
        let forbidden = validate_structural(
            &json!({"type": "object", "properties": {"l": {"type": "array", "uniqueItems": true, "items": {"type": "string"}},
                                                        "o": {"type": "object", "additionalProperties": false}}}),
            "s",
        );
        assert_eq!(
            forbidden.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            vec![
                "s.properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
                "s.properties[o].additionalProperties: Forbidden: additionalProperties cannot be set to false",
            ]
        );
        let root = validate_structural(&json!({"type": "string"}), "s");
        assert_eq!(
            root[0].to_string(),
            "s.type: Invalid value: \"string\": must be object at the root"
        );
        let untyped_root = validate_structural(&json!({"properties": {}}), "s");
        assert_eq!(
            untyped_root[0].to_string(),
            "s.type: Required value: must not be empty at the root"
        );
    }

    #[test]
    fn strict_and_warn_messages() {
        let e = strict_decoding_error("Widget", "v1", &["spec.foo".into(), "top".into()]);
        assert_eq!(
            e.to_string(),
            r#"Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.foo", unknown field "top""#
        );
        assert_eq!(e.code(), 400);
        assert_eq!(
            unknown_field_warnings(&["spec.foo".into()]),
            vec![r#"unknown field "spec.foo""#]
        );
    }

    #[test]
    fn defaults_fill_absent_and_null_fields_recursively() {
        let mut o = json!({"spec": {"size": "small", "ports": [{"port": 80}, {"port": 81, "name": "x"}], "mode": null, "opt": null}});
        apply_defaults(&schema(), &mut o);
        assert_eq!(o["spec"]["replicas"], 1);
        assert_eq!(o["spec"]["nested"], json!({"level": "info"}));
        assert_eq!(
            o["spec"]["ports"],
            json!([{"port": 80, "name": "http"}, {"port": 81, "name": "x"}])
        );
        assert!(
            o["spec"].get("mode").is_none(),
            "non-nullable null without default is dropped"
        );
        assert_eq!(o["spec"]["opt"], Value::Null, "nullable null is kept");
        let mut o = json!({"spec": {"size": "small", "replicas": null}});
        apply_defaults(&schema(), &mut o);
        assert_eq!(o["spec"]["replicas"], 1);
        assert!(
            o.get("status").is_none(),
            "objects without a default are not created"
        );
    }
}
