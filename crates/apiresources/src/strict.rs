//! Strict decoding of built-in objects (`fieldValidation=Strict|Warn`).
//!
//! kube-apiserver decodes a built-in object into its Go struct: fields the struct lacks are
//! dropped (and reported under `Strict`/`Warn` as `unknown field "spec.replicass"`), and a value
//! of the wrong JSON type fails the request with Go's `encoding/json` message
//! (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`).
//!
//! We walk the object against the kind's OpenAPI schema (the same component schemas
//! [`crate::openapi`] serves, generated from k8s-openapi), which knows every field, its JSON type
//! and its Go struct, and report both kinds of problems with the paths and words kube-apiserver
//! uses. `x-kubernetes-preserve-unknown-fields` and free-form objects (FieldsV1, RawExtension)
//! accept anything; `null` is accepted everywhere (Go decodes it as the zero value).
//! Custom resources are validated by their CRD schema in `apimachinery`, not here.

use serde_json::Value;

use crate::catalogue::Gvk;
use crate::openapi::{builtin_schema, builtin_schema_by_name};

const REF_PREFIX: &str = "#/components/schemas/";

/// What a strict decode of a built-in object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeReport {
    /// Paths of fields the kind does not have, e.g. `spec.replicass`, `spec.template.spec.containers[0].imagee`.
    pub unknown_fields: Vec<String>,
    /// Type errors, each in Go's words, e.g.
    /// `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`.
    pub type_errors: Vec<String>,
}

impl DecodeReport {
    pub fn is_clean(&self) -> bool {
        self.unknown_fields.is_empty() && self.type_errors.is_empty()
    }
}

/// Check a built-in object against its kind's schema. Kinds without a built-in schema (custom
/// resources) give an empty report.
pub fn check(gvk: &Gvk, obj: &Value) -> DecodeReport {
    let mut report = DecodeReport::default();
    if let Some(schema) = builtin_schema(gvk) {
        let mut w = Walker {
            report: &mut report,
        };
        w.walk(obj, schema, "", "", &gvk.kind, &gvk.kind);
    }
    report
}

/// Paths of unknown fields of a built-in object (`spec.replicass`).
pub fn unknown_fields(gvk: &Gvk, obj: &Value) -> Vec<String> {
    check(gvk, obj).unknown_fields
}

/// kube-apiserver's message for unknown fields under `fieldValidation=Strict`:
/// `strict decoding error: unknown field "spec.replicass", unknown field "spec.foo"`.
pub fn strict_error_message(unknown_fields: &[String]) -> String {
    let parts: Vec<String> = unknown_fields
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    format!("strict decoding error: {}", parts.join(", "))
}

/// The warning text for one unknown field under `fieldValidation=Warn` (sent as a `Warning`
/// header `299 - "unknown field \"spec.foo\""`).
pub fn unknown_field_warning(path: &str) -> String {
    format!("unknown field \"{path}\"")
}

/// kube-apiserver's 400 BadRequest message for a type error:
/// `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal ...`.
pub fn type_error_message(gvk: &Gvk, type_error: &str) -> String {
    format!(
        "{} in version \"{}\" cannot be handled as a {}: {type_error}",
        gvk.kind, gvk.version, gvk.kind
    )
}

struct Walker<'a> {
    report: &'a mut DecodeReport,
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(REF_PREFIX))
}

/// Follow `$ref`/`allOf` to the schema that has the type; also return the Go struct name of the
/// last referenced component (`io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`).
fn resolve(mut schema: &Value) -> (&Value, Option<&str>) {
    let mut name = None;
    for _ in 0..16 {
        match ref_name(schema).and_then(|n| builtin_schema_by_name(n).map(|s| (n, s))) {
            Some((n, s)) => {
                name = Some(n);
                schema = s;
            }
            None => break,
        }
    }
    (schema, name)
}

/// Go's spelling of the type a schema decodes into (`int32`, `[]v1.Container`, `v1.PodSpec`).
fn go_type(schema: &Value) -> String {
    let (s, name) = resolve(schema);
    if let Some(name) = name {
        let mut parts = name.rsplit('.');
        let ty = parts.next().unwrap_or_default();
        let pkg = parts.next().unwrap_or_default();
        match name {
            "io.k8s.apimachinery.pkg.api.resource.Quantity" => return "resource.Quantity".into(),
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
                return "intstr.IntOrString".into();
            }
            _ => return format!("{pkg}.{ty}"),
        }
    }
    match (
        s.get("type").and_then(Value::as_str),
        s.get("format").and_then(Value::as_str),
    ) {
        (Some("integer"), Some("int64")) => "int64".into(),
        (Some("integer"), _) => "int32".into(),
        (Some("number"), _) => "float64".into(),
        (Some("boolean"), _) => "bool".into(),
        (Some("string"), Some("byte")) => "[]uint8".into(),
        (Some("string"), _) => "string".into(),
        (Some("array"), _) => format!("[]{}", s.get("items").map(go_type).unwrap_or_default()),
        (Some("object"), _) => match s.get("additionalProperties") {
            Some(ap) if ap.is_object() => format!("map[string]{}", go_type(ap)),
            _ => "map[string]interface {}".into(),
        },
        _ => "interface {}".into(),
    }
}

/// How Go names a JSON value in a type error (`string`, `number`, `number 1.5`, `bool`, ...).
fn json_kind(v: &Value, into_integer: bool) -> String {
    match v {
        Value::String(_) => "string".into(),
        Value::Number(n) if into_integer => format!("number {n}"),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::Null => "null".into(),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

impl Walker<'_> {
    /// `go_path` is Go's field path: JSON names only, no list indices or map keys.
    fn type_error(
        &mut self,
        v: &Value,
        schema: &Value,
        struct_name: &str,
        go_path: &str,
        into_int: bool,
    ) {
        // Go reports the first type error only; keep them all, callers use the first.
        self.report.type_errors.push(format!(
            "json: cannot unmarshal {} into Go struct field {struct_name}.{go_path} of type {}",
            json_kind(v, into_int),
            go_type(schema)
        ));
    }

    /// `path` is Kubernetes' field path (`spec.containers[0].image`, for unknown fields);
    /// `go_path` Go's (`spec.containers.image`, for type errors). `struct_name` is the Go struct
    /// holding the field; `own_struct` the struct `v` itself decodes into.
    fn walk(
        &mut self,
        v: &Value,
        schema: &Value,
        path: &str,
        go_path: &str,
        struct_name: &str,
        own_struct: &str,
    ) {
        if v.is_null() {
            return;
        }
        let (s, name) = resolve(schema);
        let own_struct = name
            .map(|n| n.rsplit('.').next().unwrap_or(n))
            .unwrap_or(own_struct);
        if s.get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return;
        }
        if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            if !(v.is_string() || v.is_i64() || v.is_u64()) {
                self.type_error(v, schema, struct_name, go_path, false);
            }
            return;
        }
        match s.get("type").and_then(Value::as_str) {
            Some("object") => {
                let Value::Object(m) = v else {
                    self.type_error(v, schema, struct_name, go_path, false);
                    return;
                };
                if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    for (k, child) in m {
                        let p = join(path, k);
                        match props.get(k) {
                            Some(ps) => {
                                let gp = join(go_path, k);
                                self.walk(child, ps, &p, &gp, own_struct, own_struct)
                            }
                            None => self.report.unknown_fields.push(p),
                        }
                    }
                } else if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                    for (k, child) in m {
                        let p = join(path, k);
                        self.walk(child, ap, &p, go_path, struct_name, own_struct);
                    }
                }
            }
            Some("array") => {
                let Value::Array(items) = v else {
                    self.type_error(v, schema, struct_name, go_path, false);
                    return;
                };
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        self.walk(item, item_schema, &p, go_path, struct_name, own_struct);
                    }
                }
            }
            Some("string") => {
                let Value::String(text) = v else {
                    self.type_error(v, schema, struct_name, go_path, false);
                    return;
                };
                match s.get("format").and_then(Value::as_str) {
                    Some("byte") => {
                        use base64::Engine as _;
                        if let Err(e) = base64::engine::general_purpose::STANDARD.decode(text) {
                            self.report
                                .type_errors
                                .push(format!("json: illegal base64 data at {path}: {e}"));
                        }
                    }
                    Some("date-time")
                        if !text.is_empty() && text.parse::<jiff::Timestamp>().is_err() =>
                    {
                        self.report.type_errors.push(format!(
                            "parsing time {text:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {text:?} as RFC 3339 ({path})"
                        ));
                    }
                    _ => {}
                }
            }
            Some("integer") => {
                let ok = match s.get("format").and_then(Value::as_str) {
                    Some("int64") => v.is_i64(),
                    _ => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                };
                if !ok {
                    self.type_error(v, schema, struct_name, go_path, v.is_number());
                }
            }
            Some("number") if !v.is_number() => {
                self.type_error(v, schema, struct_name, go_path, false);
            }
            Some("boolean") if !v.is_boolean() => {
                self.type_error(v, schema, struct_name, go_path, false);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": null,
                         "managedFields": [{"manager": "kubectl", "fieldsType": "FieldsV1",
                                            "fieldsV1": {"f:metadata": {"f:labels": {}}}}]},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx",
                        "ports": [{"containerPort": 80}],
                        "resources": {"limits": {"cpu": "500m", "memory": 1024}}}]}
                }
            },
            "status": {}
        })
    }

    fn gvk() -> Gvk {
        Gvk::new("apps", "v1", "Deployment")
    }

    #[test]
    fn a_valid_deployment_is_clean() {
        let report = check(&gvk(), &deployment());
        assert!(report.is_clean(), "{report:?}");
    }

    #[test]
    fn unknown_fields_are_reported_with_kubernetes_paths() {
        let mut d = deployment();
        d["spec"]["replicass"] = json!(3);
        d["spec"]["template"]["spec"]["containers"][0]["imagee"] = json!("x");
        d["metadata"]["labelz"] = json!({});
        d["extra"] = json!(true);
        // Document order (replicass was appended after template).
        let unknown = unknown_fields(&gvk(), &d);
        assert_eq!(
            unknown,
            [
                "metadata.labelz",
                "spec.template.spec.containers[0].imagee",
                "spec.replicass",
                "extra"
            ]
        );
        assert_eq!(
            strict_error_message(&unknown[2..3]),
            "strict decoding error: unknown field \"spec.replicass\""
        );
    }

    #[test]
    fn type_errors_use_go_encoding_json_words() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!("3");
        let report = check(&gvk(), &d);
        assert_eq!(
            report.type_errors,
            [
                "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
            ]
        );
        assert_eq!(
            type_error_message(&gvk(), &report.type_errors[0]),
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );

        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"] = json!({"name": "x"});
        let report = check(&gvk(), &d);
        assert_eq!(
            report.type_errors,
            [
                "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"
            ]
        );

        let mut d = deployment();
        d["spec"]["replicas"] = json!(1.5);
        assert_eq!(
            check(&gvk(), &d).type_errors,
            [
                "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"
            ]
        );

        let mut d = deployment();
        d["spec"] = json!("nope");
        assert_eq!(
            check(&gvk(), &d).type_errors,
            [
                "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"
            ]
        );
        let mut d = deployment();
        d["metadata"]["labels"]["n"] = json!(5);
        assert_eq!(
            check(&gvk(), &d).type_errors,
            [
                "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
            ]
        );
    }

    #[test]
    fn secret_data_must_be_base64_and_int_or_string_accepts_both() {
        let g = Gvk::new("", "v1", "Secret");
        let ok = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                        "data": {"k": "dmFsdWU="}, "stringData": {"x": "plain"}, "type": "Opaque"});
        assert!(check(&g, &ok).is_clean());
        let bad = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                         "data": {"k": "not base64!"}});
        assert_eq!(check(&g, &bad).type_errors.len(), 1);

        let svc = Gvk::new("", "v1", "Service");
        let mut s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}});
        assert!(check(&svc, &s).is_clean());
        s["spec"]["ports"][0]["targetPort"] = json!(true);
        assert_eq!(check(&svc, &s).type_errors.len(), 1);
    }

    #[test]
    fn custom_resources_and_unknown_kinds_are_not_judged_here() {
        let g = Gvk::new("example.com", "v1", "Widget");
        assert!(check(&g, &json!({"spec": {"anything": 1}})).is_clean());
    }

    #[test]
    fn every_builtin_kind_accepts_a_minimal_object() {
        for info in crate::builtins() {
            let obj = json!({"apiVersion": info.api_version(), "kind": info.kind,
                             "metadata": {"name": "x", "namespace": "default",
                                          "creationTimestamp": "2024-05-01T10:00:00Z"}});
            assert!(check(&info.gvk(), &obj).is_clean(), "{}", info.gvk());
        }
    }
}
