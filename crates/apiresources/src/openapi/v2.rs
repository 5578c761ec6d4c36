//! `/openapi/v2`: one Swagger 2.0 document for every served group-version, built from the same
//! group-version documents as `/openapi/v3` (built-in schemas from `data/builtin-schemas.json`, every
//! CRD version's schema), so both change together when a CRD changes.
//!
//! kube-apiserver serves it as JSON and as gnostic protobuf
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, an `openapi.v2.Document`, see
//! [`gnostic`]). kubectl up to 1.27 reads only the protobuf form: for client-side validation's
//! `fieldValidation` check, for client-side `apply` of built-ins (patch metadata) and for
//! `explain --output=plaintext-openapiv2`. It parses every definition with kube-openapi's
//! `proto.NewOpenAPIData`, which rejects the whole document if any one definition has several
//! types, an array without exactly one `items` schema, or a `$ref` to a missing definition, so the
//! conversion from OpenAPI 3.0 here guarantees those ([`schema`]).
//!
//! The v3 → v2 conversion:
//! - `#/components/schemas/X` → `#/definitions/X`; `allOf: [{$ref}]` next to a description
//!   (v3's way to describe a reference) → `$ref` with the description beside it (kube-apiserver's
//!   v2 form);
//! - keywords Swagger 2.0 lacks (`nullable`, `oneOf`, `anyOf`, `not`, ...) are dropped, as
//!   kube-apiserver drops them from CRD schemas in v2;
//! - operations: `requestBody` → a `body` parameter plus `consumes`, response `content` → `schema`
//!   plus `produces`, parameter `schema` → the parameter's own `type`.

pub mod gnostic;

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::{KUBERNETES_VERSION, OpenApiV3, content_hash};

/// The media type of the gnostic protobuf form as kubectl asks for it in `Accept`.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The `Content-Type` of the protobuf answer (kube-openapi's): `@` is not allowed in a media type,
/// and client-go's `mime.ParseMediaType` refuses a response labelled with the `Accept` spelling
/// ("mime: unexpected content after media subtype").
pub const PROTOBUF_RESPONSE_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const V3_REF_PREFIX: &str = "#/components/schemas/";
const V2_REF_PREFIX: &str = "#/definitions/";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/// Why the v2 document could not be encoded (a bug in the conversion: it names the place).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum V2Error {
    #[error("openapi v2: {at}: {key:?} has no place in a Swagger 2.0 document")]
    Unsupported { at: String, key: String },
    #[error("openapi v2: {at} must be {expected}")]
    Shape { at: String, expected: &'static str },
    #[error("openapi v2: not an openapi.v2.Document: {0}")]
    Decode(String),
}

/// The representation a client asked for with `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Protobuf,
}

/// Picks the representation for an `Accept` header as kube-openapi does: the first listed type
/// we serve wins (`*/*`, `application/*` and a missing header mean JSON); `None` means 406.
pub fn negotiate(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Format::Json);
    };
    accept.split(',').find_map(|item| {
        let media = item.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json" | "*/*" | "application/*" => Some(Format::Json),
            PROTOBUF_CONTENT_TYPE | PROTOBUF_RESPONSE_CONTENT_TYPE => Some(Format::Protobuf),
            _ => None,
        }
    })
}

/// True when an `If-None-Match` header value matches `etag` (a list, `*`, or weak tags).
pub fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(value) = if_none_match else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// One representation of the document: its bytes and their strong ETag (quoted).
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub etag: String,
}

impl Encoded {
    fn of(bytes: Vec<u8>) -> Self {
        let etag = format!("\"{}\"", content_hash(&bytes));
        Encoded { bytes, etag }
    }
}

/// The `/openapi/v2` document of one catalogue in both representations. Build once per catalogue
/// change and cache (the protobuf form of the built-ins alone is ~1 MB).
#[derive(Debug, Clone)]
pub struct OpenApiV2 {
    pub json: Encoded,
    pub protobuf: Encoded,
}

impl OpenApiV2 {
    /// Converts the v3 group-version documents into one Swagger 2.0 document and encodes it.
    pub fn build(v3: &OpenApiV3) -> Result<Self, V2Error> {
        let doc = document(v3);
        let protobuf = gnostic::encode(&doc)?;
        let json = serde_json::to_vec(&doc).expect("JSON values serialize");
        Ok(OpenApiV2 {
            json: Encoded::of(json),
            protobuf: Encoded::of(protobuf),
        })
    }

    /// The representation for `format`.
    pub fn encoded(&self, format: Format) -> &Encoded {
        match format {
            Format::Json => &self.json,
            Format::Protobuf => &self.protobuf,
        }
    }
}

/// Built-in definitions converted once (most of the document; CRD schemas are converted per build).
static BUILTIN_DEFINITIONS: LazyLock<BTreeMap<String, Value>> = LazyLock::new(|| {
    super::BUILTIN_SCHEMAS
        .iter()
        .map(|(name, s)| (name.clone(), definition(name, s)))
        .collect()
});

/// The Swagger 2.0 document (JSON) of every group-version of `v3`.
pub fn document(v3: &OpenApiV3) -> Value {
    let mut paths: BTreeMap<String, Value> = BTreeMap::new();
    let mut definitions: BTreeMap<String, Value> = BTreeMap::new();
    for (doc, _) in v3.documents.values() {
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            paths.insert(path.clone(), path_item(item));
        }
        for (name, s) in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if definitions.contains_key(name) {
                continue;
            }
            let converted = match BUILTIN_DEFINITIONS.get(name) {
                Some(builtin) if super::BUILTIN_SCHEMAS.get(name) == Some(s) => builtin.clone(),
                _ => definition(name, s),
            };
            definitions.insert(name.clone(), converted);
        }
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            "BearerToken": {"description": "Bearer Token authentication", "type": "apiKey", "name": "authorization", "in": "header"}
        },
        "security": [{"BearerToken": []}],
    })
}

/// A named definition: [`schema`], plus kube-apiserver's v2 spelling of IntOrString.
fn definition(name: &str, s: &Value) -> Value {
    let mut out = schema(s);
    if name == INT_OR_STRING
        && let Some(o) = out.as_object_mut()
    {
        o.insert("type".into(), "string".into());
        o.insert("format".into(), "int-or-string".into());
    }
    out
}

/// A check of a keyword's JSON type.
type Fits = fn(&Value) -> bool;

/// A plain keyword of a Swagger 2.0 Schema Object (nested schemas are handled separately).
enum Keyword {
    /// Kept when its value has the right JSON type.
    Checked(Fits),
    /// Kept whatever its value (`default`, `example`).
    Any,
}

/// The Swagger 2.0 keyword `k`, if it is one.
fn keyword(k: &str) -> Option<Keyword> {
    let is_int: Fits = |v| v.is_i64();
    let is_str_list: Fits = |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    Some(match k {
        "format" | "title" | "description" | "pattern" | "discriminator" => {
            Keyword::Checked(Value::is_string)
        }
        "exclusiveMaximum" | "exclusiveMinimum" | "uniqueItems" | "readOnly" => {
            Keyword::Checked(Value::is_boolean)
        }
        "multipleOf" | "maximum" | "minimum" => Keyword::Checked(Value::is_number),
        "maxLength" | "minLength" | "maxItems" | "minItems" | "maxProperties" | "minProperties" => {
            Keyword::Checked(is_int)
        }
        "required" => Keyword::Checked(is_str_list),
        "enum" => Keyword::Checked(Value::is_array),
        "externalDocs" => Keyword::Checked(Value::is_object),
        "default" | "example" => Keyword::Any,
        _ => return None,
    })
}

/// An OpenAPI 3.0 schema as a Swagger 2.0 schema that gnostic encodes and kube-openapi parses.
pub fn schema(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        // `items: true` and similar: any value.
        return json!({});
    };
    let mut out = Map::new();
    if let Some(r) = reference(o) {
        out.insert("$ref".into(), r.into());
    }
    for (k, v) in o {
        match k.as_str() {
            "$ref" => {}
            "allOf" if reference(o).is_some() => {}
            "allOf" => {
                if let Some(list) = v.as_array() {
                    out.insert(k.clone(), list.iter().map(schema).collect());
                }
            }
            "properties" => {
                let props: Map<String, Value> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, p)| (name.clone(), schema(p)))
                    .collect();
                out.insert(k.clone(), Value::Object(props));
            }
            "additionalProperties" => {
                let ap = if v.is_boolean() { v.clone() } else { schema(v) };
                out.insert(k.clone(), ap);
            }
            "items" => {
                // One schema (a tuple form keeps its first; Kubernetes never uses tuples).
                let first = v.as_array().map_or(Some(v), |a| a.first());
                if let Some(item) = first {
                    out.insert(k.clone(), schema(item));
                }
            }
            "type" => {
                if let Some(t) = single_type(v) {
                    out.insert(k.clone(), t.into());
                }
            }
            _ if k.starts_with("x-") => {
                out.insert(k.clone(), v.clone());
            }
            _ => match keyword(k) {
                Some(Keyword::Checked(fits)) if fits(v) => {
                    out.insert(k.clone(), v.clone());
                }
                Some(Keyword::Any) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {}
            },
        }
    }
    // kube-openapi requires exactly one `items` schema on every array.
    if out.get("type").and_then(Value::as_str) == Some("array") && !out.contains_key("items") {
        out.remove("type");
    }
    Value::Object(out)
}

/// `$ref` itself, or the single `$ref` of an `allOf` (v3's way to describe a reference).
fn reference(o: &Map<String, Value>) -> Option<String> {
    let r = o.get("$ref").and_then(Value::as_str).or_else(|| {
        match o.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            Some([only]) if only.as_object().is_some_and(|m| m.len() == 1) => {
                only.get("$ref").and_then(Value::as_str)
            }
            _ => None,
        }
    })?;
    Some(match r.strip_prefix(V3_REF_PREFIX) {
        Some(name) => format!("{V2_REF_PREFIX}{name}"),
        None => r.to_string(),
    })
}

/// Swagger 2.0 has one type per schema: `["string", "null"]` → `string`; several → none.
fn single_type(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(a) => {
            let mut types = a.iter().filter_map(Value::as_str).filter(|t| *t != "null");
            match (types.next(), types.next()) {
                (Some(t), None) => Some(t),
                _ => None,
            }
        }
        _ => None,
    }
}

fn path_item(v: &Value) -> Value {
    let mut out = Map::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "parameters" => {
                out.insert(k.clone(), parameters(v));
            }
            "get" | "put" | "post" | "delete" | "patch" | "head" | "options" => {
                out.insert(k.clone(), operation(v));
            }
            _ if k.starts_with("x-") => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn parameters(v: &Value) -> Value {
    v.as_array()
        .into_iter()
        .flatten()
        .map(non_body_parameter)
        .collect()
}

/// `{name, in, description, required, schema: {type, uniqueItems}}` → the schema's keys inline.
fn non_body_parameter(p: &Value) -> Value {
    let mut out = Map::new();
    for (k, v) in p.as_object().into_iter().flatten() {
        match k.as_str() {
            "name" | "in" | "description" if v.is_string() => {
                out.insert(k.clone(), v.clone());
            }
            "required" if v.is_boolean() => {
                out.insert(k.clone(), v.clone());
            }
            "schema" => {
                for (sk, sv) in v.as_object().into_iter().flatten() {
                    let fits = match sk.as_str() {
                        "type" | "format" => sv.is_string(),
                        "uniqueItems" => sv.is_boolean(),
                        _ => false,
                    };
                    if fits {
                        out.insert(sk.clone(), sv.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn operation(v: &Value) -> Value {
    let mut out = Map::new();
    let mut params: Vec<Value> = Vec::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "description" | "operationId" | "summary" if v.is_string() => {
                out.insert(k.clone(), v.clone());
            }
            "tags" => {
                out.insert(k.clone(), v.clone());
            }
            "parameters" => params.extend(parameters(v).as_array().cloned().unwrap_or_default()),
            "requestBody" => {
                let (types, body_schema) = content(&v["content"]);
                out.insert("consumes".into(), types.into());
                params.push(
                    json!({"name": "body", "in": "body", "required": true, "schema": body_schema}),
                );
            }
            "responses" => {
                let mut produces: Vec<String> = Vec::new();
                let mut responses = Map::new();
                for (code, r) in v.as_object().into_iter().flatten() {
                    let (types, s) = content(&r["content"]);
                    for t in types {
                        if !produces.contains(&t) {
                            produces.push(t);
                        }
                    }
                    let description = r["description"].as_str().unwrap_or("OK");
                    responses.insert(
                        code.clone(),
                        json!({"description": description, "schema": s}),
                    );
                }
                out.insert("produces".into(), produces.into());
                out.insert("schemes".into(), json!(["https"]));
                out.insert(k.clone(), Value::Object(responses));
            }
            _ if k.starts_with("x-") => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    out.insert("parameters".into(), params.into());
    Value::Object(out)
}

/// A v3 `content` map: its media types and the (first) schema, converted.
fn content(v: &Value) -> (Vec<String>, Value) {
    let map = v.as_object();
    let types = map.into_iter().flatten().map(|(t, _)| t.clone()).collect();
    let first = map
        .and_then(|m| m.values().next())
        .map(|m| schema(&m["schema"]))
        .unwrap_or_else(|| json!({}));
    (types, first)
}

#[cfg(test)]
mod tests;
