//! `values.schema.json` validation of a chart and of each subchart, with Helm v4's error text.
//!
//! Helm v4 validates with santhosh-tekuri/jsonschema v6 (draft 2020-12 when `$schema` is absent) and
//! prints, per failing chart, `<chart>:\n- at '<instance path>': <message>\n`. We validate with the
//! `jsonschema` crate and render its errors in that library's message shapes (`got string, want object`,
//! `missing property 'x'`, `minimum: got -5, want 0`, ...).

use serde_json::{Map, Value};

use crate::chart::Chart;

/// Validates coalesced `values` against the chart's schema and, recursively, each subchart's schema
/// against `values[<subchart>]`. Returns the concatenated per-chart report (empty when valid).
pub fn validate(chart: &Chart, values: &Map<String, Value>) -> String {
    let mut out = String::new();
    if let Some(schema) = &chart.schema
        && !schema.is_empty()
        && let Err(e) = validate_single(values, schema)
    {
        out.push_str(&format!("{}:\n", chart.name()));
        out.push_str(&e);
    }
    for sub in &chart.dependencies {
        if let Some(Value::Object(sv)) = values.get(sub.name()) {
            out.push_str(&validate(sub, sv));
        }
    }
    out
}

/// Refuses schemas (the chart's and its subcharts') whose `$ref` points at a remote document: Helm
/// would fetch it over the network; we render offline and say which reference to vendor.
pub fn refuse_remote_refs(chart: &Chart) -> Result<(), String> {
    if let Some(bytes) = &chart.schema
        && let Ok(schema) = serde_json::from_slice::<Value>(bytes)
    {
        let own_id = schema
            .get("$id")
            .and_then(Value::as_str)
            .map(|id| id.split('#').next().unwrap_or_default().to_string());
        if let Some((at, url)) = first_remote_ref(&schema, "", own_id.as_deref()) {
            return Err(format!(
                "{}: values.schema.json refers to the remote schema {url:?} (at \"#{at}\"), which is not fetched: copy that schema into values.schema.json under \"$defs\" and refer to it as \"#/$defs/<name>\", or render with --skip-schema-validation",
                chart.name()
            ));
        }
    }
    chart.dependencies.iter().try_for_each(refuse_remote_refs)
}

/// The JSON pointer and URL of the first `$ref` to an http(s) document other than the schema itself.
fn first_remote_ref(v: &Value, at: &str, own_id: Option<&str>) -> Option<(String, String)> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                let doc = r.split('#').next().unwrap_or_default();
                let remote = (doc.starts_with("http://") || doc.starts_with("https://"))
                    && own_id != Some(doc);
                if remote {
                    return Some((format!("{at}/$ref"), r.clone()));
                }
            }
            m.iter().find_map(|(k, e)| {
                let key = k.replace('~', "~0").replace('/', "~1");
                first_remote_ref(e, &format!("{at}/{key}"), own_id)
            })
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, e)| first_remote_ref(e, &format!("{at}/{i}"), own_id)),
        _ => None,
    }
}

/// Integral floats become integers for validation, as Helm's JSON round trip prints `8080` for 8080.0.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::from(f as i64)
            } else {
                v.clone()
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// Validates one values map against one schema document; `Err` carries the `- at ...` lines.
pub fn validate_single(values: &Map<String, Value>, schema_bytes: &[u8]) -> Result<(), String> {
    let schema: Value = serde_json::from_slice(schema_bytes)
        .map_err(|e| format!("- at '': invalid values.schema.json: {e}\n"))?;
    let mut opts = jsonschema::options();
    if schema.get("$schema").is_none() {
        opts = opts.with_draft(jsonschema::Draft::Draft202012);
    }
    let validator = opts
        .build(&schema)
        .map_err(|e| format!("- at '': cannot compile values.schema.json: {e}\n"))?;
    let instance = normalize(&Value::Object(values.clone()));
    let mut lines = String::new();
    for e in validator.iter_errors(&instance) {
        let path = e.instance_path().to_string();
        lines.push_str(&format!("- at '{}': {}\n", path, message(&e)));
    }
    if lines.is_empty() { Ok(()) } else { Err(lines) }
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

fn quoted_list(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn message(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let inst = e.instance();
    match e.kind() {
        K::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let got = match (inst.as_ref(), want.as_str()) {
                (Value::Number(_), "integer") => "number",
                (v, _) => json_type(v),
            };
            format!("got {got}, want {want}")
        }
        K::Required { property } => {
            let p = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            format!("missing property '{p}'")
        }
        K::Minimum { limit } => format!("minimum: got {}, want {}", inst, limit),
        K::Maximum { limit } => format!("maximum: got {}, want {}", inst, limit),
        K::ExclusiveMinimum { limit } => format!("exclusiveMinimum: got {}, want {}", inst, limit),
        K::ExclusiveMaximum { limit } => format!("exclusiveMaximum: got {}, want {}", inst, limit),
        K::MinLength { limit } => format!(
            "minLength: got {}, want {}",
            inst.as_str().map_or(0, |s| s.chars().count()),
            limit
        ),
        K::MaxLength { limit } => format!(
            "maxLength: got {}, want {}",
            inst.as_str().map_or(0, |s| s.chars().count()),
            limit
        ),
        K::MinItems { limit } => format!(
            "minItems: got {}, want {}",
            inst.as_array().map_or(0, Vec::len),
            limit
        ),
        K::MaxItems { limit } => format!(
            "maxItems: got {}, want {}",
            inst.as_array().map_or(0, Vec::len),
            limit
        ),
        K::Enum { options } => {
            let opts = options
                .as_array()
                .map(|a| a.iter().map(show).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            format!("value must be one of {opts}")
        }
        K::Constant { expected_value } => format!("value must be {}", show(expected_value)),
        K::Pattern { pattern } => format!("{} does not match pattern '{}'", show(inst), pattern),
        K::AdditionalProperties { unexpected } => format!(
            "additional properties {} not allowed",
            quoted_list(unexpected.iter().cloned())
        ),
        K::Format { format } => format!("{} is not valid '{}'", show(inst), format),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod remote_ref_tests {
    use super::*;

    fn chart_with_schema(schema: &str) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = "web".into();
        c.schema = Some(schema.as_bytes().to_vec());
        c
    }

    #[test]
    fn remote_refs_are_refused_naming_the_ref_and_the_fix() {
        let c = chart_with_schema(
            r##"{"properties": {"image": {"$ref": "https://example.com/schemas/image.json#/defs/x"}}}"##,
        );
        let e = refuse_remote_refs(&c).unwrap_err();
        assert!(
            e.starts_with("web: values.schema.json refers to the remote schema \"https://example.com/schemas/image.json#/defs/x\" (at \"#/properties/image/$ref\")"),
            "{e}"
        );
        assert!(e.contains("--skip-schema-validation"), "{e}");
        let local = chart_with_schema(
            r##"{"$id": "https://x.io/s.json", "$defs": {"a": {"type": "string"}}, "properties": {"p": {"$ref": "https://x.io/s.json#/$defs/a"}, "q": {"$ref": "#/$defs/a"}}}"##,
        );
        assert!(refuse_remote_refs(&local).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_use_helm_v4_text_shapes() {
        let schema = br#"{"type":"object","required":["employmentInfo"],
            "properties":{"age":{"type":"integer","minimum":0},"name":{"type":"object"}}}"#;
        let vals = json!({"age": -5.0, "name": "x"})
            .as_object()
            .cloned()
            .unwrap();
        let e = validate_single(&vals, schema).unwrap_err();
        assert!(
            e.contains("- at '': missing property 'employmentInfo'\n"),
            "{e}"
        );
        assert!(e.contains("- at '/age': minimum: got -5, want 0\n"), "{e}");
        assert!(e.contains("- at '/name': got string, want object\n"), "{e}");
    }

    #[test]
    fn integral_floats_satisfy_integer() {
        let schema = br#"{"properties":{"port":{"type":"integer"}}}"#;
        let vals = json!({"port": 8080.0}).as_object().cloned().unwrap();
        assert!(validate_single(&vals, schema).is_ok());
    }
}
