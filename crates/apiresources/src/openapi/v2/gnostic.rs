//! gnostic's `openapi.v2` protobuf messages (the `OpenAPIv2.proto` of google/gnostic-models, the
//! package kubectl decodes `/openapi/v2` into with `proto.Unmarshal`), written as prost structs,
//! and the encoding of a Swagger 2.0 JSON document into them.
//!
//! Only the messages a Kubernetes document uses are here (no form-data or header parameters, no
//! OAuth2 security, no response headers or examples): an unknown field is a hard error in
//! [`encode`] rather than a silently dropped one. Field numbers follow the `.proto` exactly; every
//! `Any` carries its value as YAML text (JSON is YAML), which is what kube-openapi reads from
//! vendor extensions (`x-kubernetes-group-version-kind`, ...).

// The oneofs mirror the `.proto` as prost generates them (unboxed), like k8s-pb's messages.
#![allow(clippy::large_enum_variant)]

use prost::Message;
use serde_json::{Map, Value};

use super::V2Error;

/// `openapi.v2.Any`: a value kept as YAML text (field 1, `google.protobuf.Any`, is never set).
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    #[prost(string, tag = "2")]
    pub yaml: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedAny {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Any>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Document {
    #[prost(string, tag = "1")]
    pub swagger: String,
    #[prost(message, optional, tag = "2")]
    pub info: Option<Info>,
    #[prost(string, tag = "3")]
    pub host: String,
    #[prost(string, tag = "4")]
    pub base_path: String,
    #[prost(string, repeated, tag = "5")]
    pub schemes: Vec<String>,
    #[prost(string, repeated, tag = "6")]
    pub consumes: Vec<String>,
    #[prost(string, repeated, tag = "7")]
    pub produces: Vec<String>,
    #[prost(message, optional, tag = "8")]
    pub paths: Option<Paths>,
    #[prost(message, optional, tag = "9")]
    pub definitions: Option<Definitions>,
    #[prost(message, repeated, tag = "12")]
    pub security: Vec<SecurityRequirement>,
    #[prost(message, optional, tag = "13")]
    pub security_definitions: Option<SecurityDefinitions>,
    #[prost(message, repeated, tag = "16")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Info {
    #[prost(string, tag = "1")]
    pub title: String,
    #[prost(string, tag = "2")]
    pub version: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(message, repeated, tag = "7")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Paths {
    #[prost(message, repeated, tag = "1")]
    pub vendor_extension: Vec<NamedAny>,
    #[prost(message, repeated, tag = "2")]
    pub path: Vec<NamedPathItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedPathItem {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<PathItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PathItem {
    #[prost(string, tag = "1")]
    pub r#ref: String,
    #[prost(message, optional, tag = "2")]
    pub get: Option<Operation>,
    #[prost(message, optional, tag = "3")]
    pub put: Option<Operation>,
    #[prost(message, optional, tag = "4")]
    pub post: Option<Operation>,
    #[prost(message, optional, tag = "5")]
    pub delete: Option<Operation>,
    #[prost(message, optional, tag = "6")]
    pub options: Option<Operation>,
    #[prost(message, optional, tag = "7")]
    pub head: Option<Operation>,
    #[prost(message, optional, tag = "8")]
    pub patch: Option<Operation>,
    #[prost(message, repeated, tag = "9")]
    pub parameters: Vec<ParametersItem>,
    #[prost(message, repeated, tag = "10")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Operation {
    #[prost(string, repeated, tag = "1")]
    pub tags: Vec<String>,
    #[prost(string, tag = "2")]
    pub summary: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "5")]
    pub operation_id: String,
    #[prost(string, repeated, tag = "6")]
    pub produces: Vec<String>,
    #[prost(string, repeated, tag = "7")]
    pub consumes: Vec<String>,
    #[prost(message, repeated, tag = "8")]
    pub parameters: Vec<ParametersItem>,
    #[prost(message, optional, tag = "9")]
    pub responses: Option<Responses>,
    #[prost(string, repeated, tag = "10")]
    pub schemes: Vec<String>,
    #[prost(bool, tag = "11")]
    pub deprecated: bool,
    #[prost(message, repeated, tag = "13")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ParametersItem {
    #[prost(oneof = "parameters_item::Oneof", tags = "1, 2")]
    pub oneof: Option<parameters_item::Oneof>,
}

pub mod parameters_item {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "1")]
        Parameter(super::Parameter),
        #[prost(message, tag = "2")]
        JsonReference(super::JsonReference),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct JsonReference {
    #[prost(string, tag = "1")]
    pub r#ref: String,
    #[prost(string, tag = "2")]
    pub description: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Parameter {
    #[prost(oneof = "parameter::Oneof", tags = "1, 2")]
    pub oneof: Option<parameter::Oneof>,
}

pub mod parameter {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "1")]
        BodyParameter(super::BodyParameter),
        #[prost(message, tag = "2")]
        NonBodyParameter(super::NonBodyParameter),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct BodyParameter {
    #[prost(string, tag = "1")]
    pub description: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub r#in: String,
    #[prost(bool, tag = "4")]
    pub required: bool,
    #[prost(message, optional, tag = "5")]
    pub schema: Option<Schema>,
    #[prost(message, repeated, tag = "6")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NonBodyParameter {
    #[prost(oneof = "non_body_parameter::Oneof", tags = "3, 4")]
    pub oneof: Option<non_body_parameter::Oneof>,
}

pub mod non_body_parameter {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "3")]
        QueryParameterSubSchema(super::QueryParameterSubSchema),
        #[prost(message, tag = "4")]
        PathParameterSubSchema(super::PathParameterSubSchema),
    }
}

/// `QueryParameterSubSchema` (the fields a Kubernetes query parameter uses).
#[derive(Clone, PartialEq, Message)]
pub struct QueryParameterSubSchema {
    #[prost(bool, tag = "1")]
    pub required: bool,
    #[prost(string, tag = "2")]
    pub r#in: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "4")]
    pub name: String,
    #[prost(string, tag = "6")]
    pub r#type: String,
    #[prost(string, tag = "7")]
    pub format: String,
    #[prost(bool, tag = "20")]
    pub unique_items: bool,
    #[prost(message, repeated, tag = "23")]
    pub vendor_extension: Vec<NamedAny>,
}

/// `PathParameterSubSchema` (its field numbers differ from the query one's).
#[derive(Clone, PartialEq, Message)]
pub struct PathParameterSubSchema {
    #[prost(bool, tag = "1")]
    pub required: bool,
    #[prost(string, tag = "2")]
    pub r#in: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "4")]
    pub name: String,
    #[prost(string, tag = "5")]
    pub r#type: String,
    #[prost(string, tag = "6")]
    pub format: String,
    #[prost(bool, tag = "19")]
    pub unique_items: bool,
    #[prost(message, repeated, tag = "22")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Responses {
    #[prost(message, repeated, tag = "1")]
    pub response_code: Vec<NamedResponseValue>,
    #[prost(message, repeated, tag = "2")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedResponseValue {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<ResponseValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResponseValue {
    #[prost(oneof = "response_value::Oneof", tags = "1")]
    pub oneof: Option<response_value::Oneof>,
}

pub mod response_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "1")]
        Response(super::Response),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct Response {
    #[prost(string, tag = "1")]
    pub description: String,
    #[prost(message, optional, tag = "2")]
    pub schema: Option<SchemaItem>,
    #[prost(message, repeated, tag = "5")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SchemaItem {
    #[prost(oneof = "schema_item::Oneof", tags = "1")]
    pub oneof: Option<schema_item::Oneof>,
}

pub mod schema_item {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "1")]
        Schema(super::Schema),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct Definitions {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedSchema {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Schema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Properties {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeItem {
    #[prost(string, repeated, tag = "1")]
    pub value: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ItemsItem {
    #[prost(message, repeated, tag = "1")]
    pub schema: Vec<Schema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AdditionalPropertiesItem {
    #[prost(oneof = "additional_properties_item::Oneof", tags = "1, 2")]
    pub oneof: Option<additional_properties_item::Oneof>,
}

pub mod additional_properties_item {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "1")]
        Schema(Box<super::Schema>),
        #[prost(bool, tag = "2")]
        Boolean(bool),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ExternalDocs {
    #[prost(string, tag = "1")]
    pub description: String,
    #[prost(string, tag = "2")]
    pub url: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Schema {
    #[prost(string, tag = "1")]
    pub r#ref: String,
    #[prost(string, tag = "2")]
    pub format: String,
    #[prost(string, tag = "3")]
    pub title: String,
    #[prost(string, tag = "4")]
    pub description: String,
    #[prost(message, optional, tag = "5")]
    pub default: Option<Any>,
    #[prost(double, tag = "6")]
    pub multiple_of: f64,
    #[prost(double, tag = "7")]
    pub maximum: f64,
    #[prost(bool, tag = "8")]
    pub exclusive_maximum: bool,
    #[prost(double, tag = "9")]
    pub minimum: f64,
    #[prost(bool, tag = "10")]
    pub exclusive_minimum: bool,
    #[prost(int64, tag = "11")]
    pub max_length: i64,
    #[prost(int64, tag = "12")]
    pub min_length: i64,
    #[prost(string, tag = "13")]
    pub pattern: String,
    #[prost(int64, tag = "14")]
    pub max_items: i64,
    #[prost(int64, tag = "15")]
    pub min_items: i64,
    #[prost(bool, tag = "16")]
    pub unique_items: bool,
    #[prost(int64, tag = "17")]
    pub max_properties: i64,
    #[prost(int64, tag = "18")]
    pub min_properties: i64,
    #[prost(string, repeated, tag = "19")]
    pub required: Vec<String>,
    #[prost(message, repeated, tag = "20")]
    pub r#enum: Vec<Any>,
    #[prost(message, optional, boxed, tag = "21")]
    pub additional_properties: Option<Box<AdditionalPropertiesItem>>,
    #[prost(message, optional, tag = "22")]
    pub r#type: Option<TypeItem>,
    #[prost(message, optional, tag = "23")]
    pub items: Option<ItemsItem>,
    #[prost(message, repeated, tag = "24")]
    pub all_of: Vec<Schema>,
    #[prost(message, optional, tag = "25")]
    pub properties: Option<Properties>,
    #[prost(string, tag = "26")]
    pub discriminator: String,
    #[prost(bool, tag = "27")]
    pub read_only: bool,
    #[prost(message, optional, tag = "29")]
    pub external_docs: Option<ExternalDocs>,
    #[prost(message, optional, tag = "30")]
    pub example: Option<Any>,
    #[prost(message, repeated, tag = "31")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SecurityRequirement {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedStringArray>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedStringArray {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<StringArray>,
}

#[derive(Clone, PartialEq, Message)]
pub struct StringArray {
    #[prost(string, repeated, tag = "1")]
    pub value: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SecurityDefinitions {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSecurityDefinitionsItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedSecurityDefinitionsItem {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<SecurityDefinitionsItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SecurityDefinitionsItem {
    #[prost(oneof = "security_definitions_item::Oneof", tags = "2")]
    pub oneof: Option<security_definitions_item::Oneof>,
}

pub mod security_definitions_item {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Oneof {
        #[prost(message, tag = "2")]
        ApiKeySecurity(super::ApiKeySecurity),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ApiKeySecurity {
    #[prost(string, tag = "1")]
    pub r#type: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub r#in: String,
    #[prost(string, tag = "4")]
    pub description: String,
    #[prost(message, repeated, tag = "5")]
    pub vendor_extension: Vec<NamedAny>,
}

// ---------------------------------------------------------------------------------------------
// Swagger 2.0 JSON → messages
// ---------------------------------------------------------------------------------------------

/// Encodes a Swagger 2.0 document (as [`super::document`] builds it) into gnostic protobuf bytes.
pub fn encode(doc: &Value) -> Result<Vec<u8>, V2Error> {
    Ok(document(doc)?.encode_to_vec())
}

/// Decodes gnostic protobuf bytes (for tests and tools that inspect what kubectl would read).
pub fn decode(bytes: &[u8]) -> Result<Document, V2Error> {
    Document::decode(bytes).map_err(|e| V2Error::Decode(e.to_string()))
}

/// The `openapi.v2.Document` of a Swagger 2.0 JSON document.
pub fn document(doc: &Value) -> Result<Document, V2Error> {
    let o = object(doc, "document")?;
    let mut d = Document::default();
    for (k, v) in o {
        match k.as_str() {
            "swagger" => d.swagger = string(v, k)?,
            "info" => d.info = Some(info(v)?),
            "host" => d.host = string(v, k)?,
            "basePath" => d.base_path = string(v, k)?,
            "schemes" => d.schemes = strings(v, k)?,
            "consumes" => d.consumes = strings(v, k)?,
            "produces" => d.produces = strings(v, k)?,
            "paths" => d.paths = Some(paths(v)?),
            "definitions" => d.definitions = Some(definitions(v)?),
            "security" => d.security = security(v)?,
            "securityDefinitions" => d.security_definitions = Some(security_definitions(v)?),
            _ if k.starts_with("x-") => d.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported("document", k)),
        }
    }
    Ok(d)
}

fn unsupported(at: &str, key: &str) -> V2Error {
    V2Error::Unsupported {
        at: at.to_string(),
        key: key.to_string(),
    }
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, V2Error> {
    v.as_object().ok_or_else(|| V2Error::Shape {
        at: at.to_string(),
        expected: "an object",
    })
}

fn string(v: &Value, at: &str) -> Result<String, V2Error> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| V2Error::Shape {
            at: at.to_string(),
            expected: "a string",
        })
}

fn boolean(v: &Value, at: &str) -> Result<bool, V2Error> {
    v.as_bool().ok_or_else(|| V2Error::Shape {
        at: at.to_string(),
        expected: "a boolean",
    })
}

fn number(v: &Value, at: &str) -> Result<f64, V2Error> {
    v.as_f64().ok_or_else(|| V2Error::Shape {
        at: at.to_string(),
        expected: "a number",
    })
}

fn integer(v: &Value, at: &str) -> Result<i64, V2Error> {
    v.as_i64().ok_or_else(|| V2Error::Shape {
        at: at.to_string(),
        expected: "an integer",
    })
}

fn strings(v: &Value, at: &str) -> Result<Vec<String>, V2Error> {
    v.as_array()
        .ok_or(V2Error::Shape {
            at: at.to_string(),
            expected: "an array of strings",
        })?
        .iter()
        .map(|s| string(s, at))
        .collect()
}

/// A value as gnostic keeps it: YAML text. JSON is YAML, and kube-openapi `yaml.Unmarshal`s it.
fn any(v: &Value) -> Any {
    Any {
        yaml: serde_json::to_string(v).expect("JSON values serialize"),
    }
}

fn named_any(name: &str, v: &Value) -> NamedAny {
    NamedAny {
        name: name.to_string(),
        value: Some(any(v)),
    }
}

fn info(v: &Value) -> Result<Info, V2Error> {
    let mut i = Info::default();
    for (k, v) in object(v, "info")? {
        match k.as_str() {
            "title" => i.title = string(v, k)?,
            "version" => i.version = string(v, k)?,
            "description" => i.description = string(v, k)?,
            _ if k.starts_with("x-") => i.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported("info", k)),
        }
    }
    Ok(i)
}

fn paths(v: &Value) -> Result<Paths, V2Error> {
    let mut p = Paths::default();
    for (k, v) in object(v, "paths")? {
        if k.starts_with("x-") {
            p.vendor_extension.push(named_any(k, v));
        } else {
            p.path.push(NamedPathItem {
                name: k.clone(),
                value: Some(path_item(v, k)?),
            });
        }
    }
    Ok(p)
}

fn path_item(v: &Value, at: &str) -> Result<PathItem, V2Error> {
    let mut p = PathItem::default();
    for (k, v) in object(v, at)? {
        let op = || operation(v, &format!("{at} {k}"));
        match k.as_str() {
            "get" => p.get = Some(op()?),
            "put" => p.put = Some(op()?),
            "post" => p.post = Some(op()?),
            "delete" => p.delete = Some(op()?),
            "options" => p.options = Some(op()?),
            "head" => p.head = Some(op()?),
            "patch" => p.patch = Some(op()?),
            "parameters" => p.parameters = parameters(v, at)?,
            _ if k.starts_with("x-") => p.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported(at, k)),
        }
    }
    Ok(p)
}

fn operation(v: &Value, at: &str) -> Result<Operation, V2Error> {
    let mut o = Operation::default();
    for (k, v) in object(v, at)? {
        match k.as_str() {
            "tags" => o.tags = strings(v, k)?,
            "summary" => o.summary = string(v, k)?,
            "description" => o.description = string(v, k)?,
            "operationId" => o.operation_id = string(v, k)?,
            "produces" => o.produces = strings(v, k)?,
            "consumes" => o.consumes = strings(v, k)?,
            "parameters" => o.parameters = parameters(v, at)?,
            "responses" => o.responses = Some(responses(v, at)?),
            "schemes" => o.schemes = strings(v, k)?,
            "deprecated" => o.deprecated = boolean(v, k)?,
            _ if k.starts_with("x-") => o.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported(at, k)),
        }
    }
    Ok(o)
}

fn parameters(v: &Value, at: &str) -> Result<Vec<ParametersItem>, V2Error> {
    let list = v.as_array().ok_or_else(|| V2Error::Shape {
        at: format!("{at} parameters"),
        expected: "an array",
    })?;
    list.iter()
        .map(|p| {
            let param = parameter(p, at)?;
            Ok(ParametersItem {
                oneof: Some(parameters_item::Oneof::Parameter(Parameter {
                    oneof: Some(param),
                })),
            })
        })
        .collect()
}

fn parameter(v: &Value, at: &str) -> Result<parameter::Oneof, V2Error> {
    let o = object(v, at)?;
    let location = o.get("in").and_then(Value::as_str).unwrap_or_default();
    let at = format!(
        "{at} parameter {}",
        o.get("name").and_then(Value::as_str).unwrap_or_default()
    );
    match location {
        "body" => body_parameter(o, &at).map(parameter::Oneof::BodyParameter),
        "query" | "path" => {
            let q = query_parameter(o, &at)?;
            let oneof = if location == "query" {
                non_body_parameter::Oneof::QueryParameterSubSchema(q)
            } else {
                non_body_parameter::Oneof::PathParameterSubSchema(PathParameterSubSchema {
                    required: q.required,
                    r#in: q.r#in,
                    description: q.description,
                    name: q.name,
                    r#type: q.r#type,
                    format: q.format,
                    unique_items: q.unique_items,
                    vendor_extension: q.vendor_extension,
                })
            };
            Ok(parameter::Oneof::NonBodyParameter(NonBodyParameter {
                oneof: Some(oneof),
            }))
        }
        other => Err(unsupported(&at, &format!("in: {other}"))),
    }
}

fn body_parameter(o: &Map<String, Value>, at: &str) -> Result<BodyParameter, V2Error> {
    let mut b = BodyParameter::default();
    for (k, v) in o {
        match k.as_str() {
            "description" => b.description = string(v, k)?,
            "name" => b.name = string(v, k)?,
            "in" => b.r#in = string(v, k)?,
            "required" => b.required = boolean(v, k)?,
            "schema" => b.schema = Some(schema(v, at)?),
            _ if k.starts_with("x-") => b.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported(at, k)),
        }
    }
    Ok(b)
}

fn query_parameter(o: &Map<String, Value>, at: &str) -> Result<QueryParameterSubSchema, V2Error> {
    let mut q = QueryParameterSubSchema::default();
    for (k, v) in o {
        match k.as_str() {
            "required" => q.required = boolean(v, k)?,
            "in" => q.r#in = string(v, k)?,
            "description" => q.description = string(v, k)?,
            "name" => q.name = string(v, k)?,
            "type" => q.r#type = string(v, k)?,
            "format" => q.format = string(v, k)?,
            "uniqueItems" => q.unique_items = boolean(v, k)?,
            _ if k.starts_with("x-") => q.vendor_extension.push(named_any(k, v)),
            _ => return Err(unsupported(at, k)),
        }
    }
    Ok(q)
}

fn responses(v: &Value, at: &str) -> Result<Responses, V2Error> {
    let mut r = Responses::default();
    for (code, v) in object(v, at)? {
        if code.starts_with("x-") {
            r.vendor_extension.push(named_any(code, v));
            continue;
        }
        let at = format!("{at} response {code}");
        let mut resp = Response::default();
        for (k, v) in object(v, &at)? {
            match k.as_str() {
                "description" => resp.description = string(v, k)?,
                "schema" => {
                    resp.schema = Some(SchemaItem {
                        oneof: Some(schema_item::Oneof::Schema(schema(v, &at)?)),
                    })
                }
                _ if k.starts_with("x-") => resp.vendor_extension.push(named_any(k, v)),
                _ => return Err(unsupported(&at, k)),
            }
        }
        r.response_code.push(NamedResponseValue {
            name: code.clone(),
            value: Some(ResponseValue {
                oneof: Some(response_value::Oneof::Response(resp)),
            }),
        });
    }
    Ok(r)
}

fn definitions(v: &Value) -> Result<Definitions, V2Error> {
    Ok(Definitions {
        additional_properties: named_schemas(v, "definitions")?,
    })
}

fn named_schemas(v: &Value, at: &str) -> Result<Vec<NamedSchema>, V2Error> {
    object(v, at)?
        .iter()
        .map(|(name, s)| {
            Ok(NamedSchema {
                name: name.clone(),
                value: Some(schema(s, &format!("{at}.{name}"))?),
            })
        })
        .collect()
}

/// A JSON Schema (Swagger 2.0 subset) → `openapi.v2.Schema`.
pub fn schema(v: &Value, at: &str) -> Result<Schema, V2Error> {
    let mut s = Schema::default();
    for (k, v) in object(v, at)? {
        schema_field(&mut s, k, v, at)?;
    }
    Ok(s)
}

fn schema_field(s: &mut Schema, k: &str, v: &Value, at: &str) -> Result<(), V2Error> {
    match k {
        "$ref" => s.r#ref = string(v, k)?,
        "format" => s.format = string(v, k)?,
        "title" => s.title = string(v, k)?,
        "description" => s.description = string(v, k)?,
        "default" => s.default = Some(any(v)),
        "multipleOf" => s.multiple_of = number(v, k)?,
        "maximum" => s.maximum = number(v, k)?,
        "exclusiveMaximum" => s.exclusive_maximum = boolean(v, k)?,
        "minimum" => s.minimum = number(v, k)?,
        "exclusiveMinimum" => s.exclusive_minimum = boolean(v, k)?,
        "maxLength" => s.max_length = integer(v, k)?,
        "minLength" => s.min_length = integer(v, k)?,
        "pattern" => s.pattern = string(v, k)?,
        "maxItems" => s.max_items = integer(v, k)?,
        "minItems" => s.min_items = integer(v, k)?,
        "uniqueItems" => s.unique_items = boolean(v, k)?,
        "maxProperties" => s.max_properties = integer(v, k)?,
        "minProperties" => s.min_properties = integer(v, k)?,
        "required" => s.required = strings(v, k)?,
        "enum" => {
            s.r#enum = v
                .as_array()
                .map(|a| a.iter().map(any).collect())
                .unwrap_or_default()
        }
        "additionalProperties" => {
            let item = match v {
                Value::Bool(b) => additional_properties_item::Oneof::Boolean(*b),
                _ => additional_properties_item::Oneof::Schema(Box::new(schema(
                    v,
                    &format!("{at}.additionalProperties"),
                )?)),
            };
            s.additional_properties =
                Some(Box::new(AdditionalPropertiesItem { oneof: Some(item) }));
        }
        "type" => {
            s.r#type = Some(TypeItem {
                value: match v {
                    Value::Array(_) => strings(v, k)?,
                    _ => vec![string(v, k)?],
                },
            })
        }
        "items" => {
            let at = format!("{at}[]");
            let list = match v {
                Value::Array(a) => a.iter().map(|i| schema(i, &at)).collect::<Result<_, _>>()?,
                _ => vec![schema(v, &at)?],
            };
            s.items = Some(ItemsItem { schema: list });
        }
        "allOf" => {
            s.all_of = v
                .as_array()
                .map(|a| a.iter().map(|i| schema(i, at)).collect())
                .transpose()?
                .unwrap_or_default()
        }
        "properties" => {
            s.properties = Some(Properties {
                additional_properties: named_schemas(v, at)?,
            })
        }
        "discriminator" => s.discriminator = string(v, k)?,
        "readOnly" => s.read_only = boolean(v, k)?,
        "externalDocs" => {
            let o = object(v, k)?;
            let field = |f: &str| o.get(f).and_then(Value::as_str).unwrap_or_default();
            s.external_docs = Some(ExternalDocs {
                description: field("description").to_string(),
                url: field("url").to_string(),
            });
        }
        "example" => s.example = Some(any(v)),
        _ if k.starts_with("x-") => s.vendor_extension.push(named_any(k, v)),
        _ => return Err(unsupported(at, k)),
    }
    Ok(())
}

fn security(v: &Value) -> Result<Vec<SecurityRequirement>, V2Error> {
    let list = v.as_array().ok_or(V2Error::Shape {
        at: "security".into(),
        expected: "an array",
    })?;
    list.iter()
        .map(|req| {
            let additional_properties = object(req, "security")?
                .iter()
                .map(|(name, scopes)| {
                    Ok(NamedStringArray {
                        name: name.clone(),
                        value: Some(StringArray {
                            value: strings(scopes, name)?,
                        }),
                    })
                })
                .collect::<Result<_, V2Error>>()?;
            Ok(SecurityRequirement {
                additional_properties,
            })
        })
        .collect()
}

fn security_definitions(v: &Value) -> Result<SecurityDefinitions, V2Error> {
    let mut out = SecurityDefinitions::default();
    for (name, def) in object(v, "securityDefinitions")? {
        let mut key = ApiKeySecurity::default();
        for (k, v) in object(def, name)? {
            match k.as_str() {
                "type" if v == "apiKey" => key.r#type = string(v, k)?,
                "name" => key.name = string(v, k)?,
                "in" => key.r#in = string(v, k)?,
                "description" => key.description = string(v, k)?,
                _ if k.starts_with("x-") => key.vendor_extension.push(named_any(k, v)),
                _ => return Err(unsupported(&format!("securityDefinitions.{name}"), k)),
            }
        }
        out.additional_properties
            .push(NamedSecurityDefinitionsItem {
                name: name.clone(),
                value: Some(SecurityDefinitionsItem {
                    oneof: Some(security_definitions_item::Oneof::ApiKeySecurity(key)),
                }),
            });
    }
    Ok(out)
}
