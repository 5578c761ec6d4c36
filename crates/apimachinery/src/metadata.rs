//! What a read answers with, from its `Accept` header, as kube-apiserver negotiates it
//! (`k8s.io/apiserver` `negotiation` and `handlers/response.go`): the object itself, a
//! `meta.k8s.io` Table, or the object's `PartialObjectMetadata` form (client-go metadata
//! informers, kube-rs `Api::get_metadata` / `list_metadata` / `metadata_watcher`).
//!
//! - Clauses are tried by decreasing `q` (wildcard types after concrete ones, the header's order
//!   otherwise); `q=0` refuses a type. A clause is taken when its type is JSON (`application/json`,
//!   `application/*`, `*/*`) and its conversion, if any (`as`, `g`, `v`), is one the server makes:
//!   `Table`, `PartialObjectMetadata` or `PartialObjectMetadataList` in `meta.k8s.io/v1` or
//!   `meta.k8s.io/v1beta1`. Other types (protobuf, YAML) are skipped: the server answers JSON.
//! - When no clause is taken and one asked for a conversion, the answer is 406 with
//!   kube-apiserver's message; otherwise the object itself (the server's lenient default).
//! - `PartialObjectMetadata` on a list, or `PartialObjectMetadataList` on one object, is 406 too
//!   ([`Output::check_get`], [`Output::check_list`]); a watch asking for
//!   `PartialObjectMetadataList` gets full objects (kube-apiserver's transform fails per event
//!   and it sends the object untransformed).
//! - The forms: `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":…}` (the
//!   whole `metadata`, as `meta.AsPartialObjectMetadata`), and a `PartialObjectMetadataList` with
//!   the list's `resourceVersion`/`continue` whose `items` is `null` when empty (Go's nil slice,
//!   as kube-apiserver sends it). Responses are `Content-Type: application/json`: kube-apiserver
//!   writes the negotiated serializer's media type without the conversion parameters.

use serde_json::{Map, Value, json};

use crate::ApiError;

/// The `meta.k8s.io` version a conversion is asked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaVersion {
    V1,
    V1beta1,
}

impl MetaVersion {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub fn api_version(self) -> &'static str {
        match self {
            MetaVersion::V1 => "meta.k8s.io/v1",
            MetaVersion::V1beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// What a read answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// The object (or list) itself.
    #[default]
    Object,
    /// A `meta.k8s.io` Table.
    Table,
    /// Each object as `PartialObjectMetadata` (get, watch events).
    Metadata(MetaVersion),
    /// A list as `PartialObjectMetadataList`.
    MetadataList(MetaVersion),
}

/// The media types kube-apiserver names when it refuses an `Accept` header.
pub const ACCEPTED_MEDIA_TYPES: &str =
    "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// One clause of an `Accept` header.
struct Clause<'a> {
    type_: &'a str,
    subtype: &'a str,
    q: f64,
    /// `as`, `g`, `v` (the conversion; `None` when none of them is given).
    convert: Option<(&'a str, &'a str, &'a str)>,
}

fn parse_clause(s: &str) -> Option<Clause<'_>> {
    let mut parts = s.split(';');
    let media = parts.next()?.trim();
    let (type_, subtype) = media.split_once('/').unwrap_or((media, "*"));
    let mut q = 1.0;
    let (mut kind, mut group, mut version, mut converts) = ("", "", "", false);
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim() {
            "q" => q = v.parse().unwrap_or(1.0),
            "as" => (kind, converts) = (v, true),
            "g" => (group, converts) = (v, true),
            "v" => (version, converts) = (v, true),
            _ => {}
        }
    }
    Some(Clause {
        type_: type_.trim(),
        subtype: subtype.trim(),
        q,
        convert: converts.then_some((kind, group, version)),
    })
}

/// The conversion a clause asks for, when the server makes it.
fn conversion(kind: &str, group: &str, version: &str) -> Option<Output> {
    if group != "meta.k8s.io" {
        return None;
    }
    let v = match version {
        "v1" => MetaVersion::V1,
        "v1beta1" => MetaVersion::V1beta1,
        _ => return None,
    };
    match kind {
        "Table" => Some(Output::Table),
        "PartialObjectMetadata" => Some(Output::Metadata(v)),
        "PartialObjectMetadataList" => Some(Output::MetadataList(v)),
        _ => None,
    }
}

fn not_acceptable(message: String) -> ApiError {
    ApiError::Other {
        code: 406,
        reason: "NotAcceptable".into(),
        message,
        causes: Vec::new(),
    }
}

/// Negotiates what a read answers with from its `Accept` header.
pub fn negotiate(accept: Option<&str>) -> Result<Output, ApiError> {
    let Some(header) = accept.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Output::Object);
    };
    let mut clauses: Vec<Clause<'_>> = header.split(',').filter_map(parse_clause).collect();
    // goautoneg's order: higher q first, then concrete types before wildcards (stable).
    clauses.sort_by(|a, b| {
        b.q.partial_cmp(&a.q)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then((a.type_ == "*").cmp(&(b.type_ == "*")))
            .then((a.subtype == "*").cmp(&(b.subtype == "*")))
    });
    let mut asked_conversion = false;
    for c in &clauses {
        asked_conversion |= c.convert.is_some();
        let json = matches!(
            (c.type_, c.subtype),
            ("application", "json") | ("application", "*") | ("*", "*")
        );
        if c.q <= 0.0 || !json {
            continue;
        }
        match c.convert {
            None => return Ok(Output::Object),
            Some((kind, group, version)) => {
                if let Some(out) = conversion(kind, group, version) {
                    return Ok(out);
                }
            }
        }
    }
    if asked_conversion {
        return Err(not_acceptable(format!(
            "only the following media types are accepted: {ACCEPTED_MEDIA_TYPES}"
        )));
    }
    Ok(Output::Object)
}

impl Output {
    /// Checks the output suits one object (`go_type`: the object's Go type as kube-apiserver
    /// names it in the message, e.g. `*core.ConfigMap`).
    pub fn check_get(self, go_type: &str) -> Result<Output, ApiError> {
        match self {
            Output::MetadataList(_) => Err(not_acceptable(format!(
                "you requested PartialObjectMetadataList, but the requested object is not a list ({go_type})"
            ))),
            o => Ok(o),
        }
    }

    /// Checks the output suits a list (`go_type`: the list's Go type, e.g. `*core.ConfigMapList`).
    pub fn check_list(self, go_type: &str) -> Result<Output, ApiError> {
        match self {
            Output::Metadata(_) => Err(not_acceptable(format!(
                "you requested PartialObjectMetadata, but the requested object is a list ({go_type})"
            ))),
            o => Ok(o),
        }
    }

    /// The metadata version when objects are shown as `PartialObjectMetadata`.
    pub fn metadata_version(self) -> Option<MetaVersion> {
        match self {
            Output::Metadata(v) | Output::MetadataList(v) => Some(v),
            _ => None,
        }
    }
}

/// The Go type kube-apiserver names for an object of `kind` in `group` (`list`: its list type)
/// in its 406 messages: the internal type for built-ins (`*core.ConfigMap`, `*apps.DeploymentList`),
/// `*unstructured.Unstructured[List]` for custom resources.
pub fn go_type(group: &str, kind: &str, builtin: bool, list: bool) -> String {
    let suffix = if list { "List" } else { "" };
    if !builtin {
        return format!("*unstructured.Unstructured{suffix}");
    }
    let package = match group {
        "" => "core",
        g => g.split('.').next().unwrap_or(g),
    };
    format!("*{package}.{kind}{suffix}")
}

/// The `PartialObjectMetadata` form of an object: its whole `metadata`.
pub fn partial_object_metadata(obj: &Value, version: MetaVersion) -> Value {
    let metadata = obj
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    partial_from_metadata(metadata, version)
}

/// [`partial_object_metadata`] taking the object (no copy of its metadata).
pub fn into_partial_object_metadata(obj: Value, version: MetaVersion) -> Value {
    let metadata = match obj {
        Value::Object(mut m) => m
            .remove("metadata")
            .unwrap_or_else(|| Value::Object(Map::new())),
        _ => Value::Object(Map::new()),
    };
    partial_from_metadata(metadata, version)
}

fn partial_from_metadata(metadata: Value, version: MetaVersion) -> Value {
    let mut m = Map::with_capacity(3);
    m.insert("kind".into(), Value::String("PartialObjectMetadata".into()));
    m.insert(
        "apiVersion".into(),
        Value::String(version.api_version().into()),
    );
    m.insert("metadata".into(), metadata);
    Value::Object(m)
}

/// Writes the `PartialObjectMetadata` form of `obj` as JSON (what [`partial_object_metadata`]
/// serializes to), straight from its `metadata` without copying it.
pub fn write_partial_object_metadata(out: &mut Vec<u8>, obj: &Value, version: MetaVersion) {
    out.extend_from_slice(b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"");
    out.extend_from_slice(version.api_version().as_bytes());
    out.extend_from_slice(b"\",\"metadata\":");
    match obj.get("metadata") {
        Some(m) => serde_json::to_writer(&mut *out, m).expect("a JSON value serializes"),
        None => out.extend_from_slice(b"{}"),
    }
    out.push(b'}');
}

/// A `PartialObjectMetadataList` of `items` (already in their partial form) with the list's
/// `resourceVersion` and `continue` token; `items` is `null` when empty, as kube-apiserver sends it.
pub fn partial_object_metadata_list(
    items: Vec<Value>,
    resource_version: &str,
    continue_token: Option<&str>,
    version: MetaVersion,
) -> Value {
    let mut meta = json!({ "resourceVersion": resource_version });
    if let Some(c) = continue_token.filter(|c| !c.is_empty()) {
        meta["continue"] = Value::String(c.to_string());
    }
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": version.api_version(),
        "metadata": meta,
        "items": if items.is_empty() { Value::Null } else { Value::Array(items) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBE_RS_GET: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    const KUBE_RS_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    const CLIENT_GO_METADATA: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    const KUBECTL_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    #[test]
    fn clients_accept_headers_negotiate_their_forms() {
        let v1 = MetaVersion::V1;
        assert_eq!(negotiate(None).unwrap(), Output::Object);
        assert_eq!(negotiate(Some("")).unwrap(), Output::Object);
        assert_eq!(
            negotiate(Some("application/json, */*")).unwrap(),
            Output::Object
        );
        assert_eq!(negotiate(Some(KUBE_RS_GET)).unwrap(), Output::Metadata(v1));
        assert_eq!(
            negotiate(Some(KUBE_RS_LIST)).unwrap(),
            Output::MetadataList(v1)
        );
        // The protobuf clause is skipped (JSON only), the JSON one taken.
        assert_eq!(
            negotiate(Some(CLIENT_GO_METADATA)).unwrap(),
            Output::MetadataList(v1)
        );
        assert_eq!(negotiate(Some(KUBECTL_TABLE)).unwrap(), Output::Table);
        assert_eq!(
            negotiate(Some(
                "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1"
            ))
            .unwrap(),
            Output::Metadata(MetaVersion::V1beta1)
        );
    }

    #[test]
    fn q_values_order_the_clauses_and_zero_refuses() {
        let h =
            "application/json;q=0.5,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        assert_eq!(
            negotiate(Some(h)).unwrap(),
            Output::Metadata(MetaVersion::V1)
        );
        let h = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1;q=0,application/json";
        assert_eq!(negotiate(Some(h)).unwrap(), Output::Object);
        let h = "*/*,application/json;as=Table;g=meta.k8s.io;v=v1";
        assert_eq!(negotiate(Some(h)).unwrap(), Output::Table);
    }

    #[test]
    fn conversions_the_server_does_not_make_are_refused_with_406_unless_a_fallback_is_given() {
        for h in [
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2",
            "application/json;as=PartialObjectMetadata",
            "application/json;as=Deployment;g=apps;v=v1",
            "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        ] {
            let e = negotiate(Some(h)).unwrap_err();
            assert_eq!(e.code(), 406, "{h}");
            assert_eq!(e.reason(), "NotAcceptable");
            assert_eq!(
                e.to_string(),
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"
            );
        }
        let h = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2,application/json";
        assert_eq!(negotiate(Some(h)).unwrap(), Output::Object);
    }

    #[test]
    fn metadata_on_a_list_and_a_metadata_list_on_one_object_are_406() {
        let v1 = MetaVersion::V1;
        let e = Output::Metadata(v1)
            .check_list(&go_type("", "ConfigMap", true, true))
            .unwrap_err();
        assert_eq!(e.code(), 406);
        assert_eq!(
            e.to_string(),
            "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"
        );
        let e = Output::MetadataList(v1)
            .check_get(&go_type("example.com", "Widget", false, false))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "you requested PartialObjectMetadataList, but the requested object is not a list (*unstructured.Unstructured)"
        );
        assert_eq!(
            go_type("apps", "Deployment", true, false),
            "*apps.Deployment"
        );
        assert_eq!(
            go_type("networking.k8s.io", "Ingress", true, true),
            "*networking.IngressList"
        );
        assert!(Output::Metadata(v1).check_get("x").is_ok());
        assert!(Output::MetadataList(v1).check_list("x").is_ok());
    }

    #[test]
    fn partial_forms_carry_the_whole_metadata_and_a_null_empty_list() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "u", "labels": {"x": "y"},
                         "ownerReferences": [{"uid": "o"}], "finalizers": ["f"]},
            "data": {"k": "v"}});
        let p = partial_object_metadata(&obj, MetaVersion::V1);
        assert_eq!(
            p,
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": obj["metadata"].clone()})
        );
        let mut written = Vec::new();
        write_partial_object_metadata(&mut written, &obj, MetaVersion::V1);
        assert_eq!(serde_json::from_slice::<Value>(&written).unwrap(), p);
        assert_eq!(into_partial_object_metadata(obj, MetaVersion::V1), p);
        let l = partial_object_metadata_list(vec![p.clone()], "7", Some("tok"), MetaVersion::V1);
        assert_eq!(l["kind"], "PartialObjectMetadataList");
        assert_eq!(
            l["metadata"],
            json!({"resourceVersion": "7", "continue": "tok"})
        );
        assert_eq!(l["items"][0], p);
        let empty = partial_object_metadata_list(vec![], "7", None, MetaVersion::V1beta1);
        assert_eq!(empty["apiVersion"], "meta.k8s.io/v1beta1");
        assert!(empty["items"].is_null());
        assert_eq!(empty["metadata"], json!({"resourceVersion": "7"}));
    }
}
