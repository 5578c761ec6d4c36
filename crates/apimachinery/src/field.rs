//! Field errors, as Kubernetes' `k8s.io/apimachinery/pkg/util/validation/field` renders them.
//!
//! A [`FieldError`] prints as `<path>: <type>[: <value>][: <detail>]`, e.g.
//! `spec.mode: Unsupported value: "x": supported values: "a", "b"`. A list of them aggregates
//! as kube-apiserver does: one error alone, several as `[e1, e2]` (duplicates dropped).

use serde_json::Value;
use std::fmt;

/// The kind of a field error. [`FieldErrorType::cause_type`] is the `reason` of a
/// `metav1.StatusCause`; [`FieldErrorType::text`] is the human word used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl FieldErrorType {
    /// The `StatusCause.reason` string (`FieldValueInvalid`, ...).
    pub fn cause_type(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human-readable text (`Invalid value`, `Required value`, ...).
    pub fn text(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
            Self::TypeInvalid => "Invalid value",
        }
    }
}

/// One validation failure on one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub kind: FieldErrorType,
    /// Dotted path with indices/keys: `spec.containers[0].name`, `metadata.labels[app]`.
    pub field: String,
    /// The offending value; `None` omits it from the message.
    pub bad_value: Option<Value>,
    pub detail: String,
}

impl FieldError {
    pub fn new(
        kind: FieldErrorType,
        field: impl Into<String>,
        bad_value: Option<Value>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            bad_value,
            detail: detail.into(),
        }
    }
    /// `field.Invalid(path, value, detail)`.
    pub fn invalid(field: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Invalid, field, Some(value), detail)
    }
    /// `field.TypeInvalid(path, value, detail)`.
    pub fn type_invalid(field: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::TypeInvalid, field, Some(value), detail)
    }
    /// `field.Required(path, detail)`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Required, field, None, detail)
    }
    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorType::Forbidden, field, None, detail)
    }
    /// `field.NotSupported(path, value, valid)`: detail `supported values: "a", "b"`.
    pub fn not_supported(field: impl Into<String>, value: Value, valid: &[String]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(FieldErrorType::NotSupported, field, Some(value), detail)
    }
    /// `field.TooLong(path, value, max)`: the value is never printed.
    pub fn too_long(field: impl Into<String>, max_len: i64) -> Self {
        let detail = if max_len >= 0 {
            let unit = if max_len == 1 { "byte" } else { "bytes" };
            format!("may not be more than {max_len} {unit}")
        } else {
            "value is too long".to_string()
        };
        Self::new(FieldErrorType::TooLong, field, None, detail)
    }
    /// `field.TooMany(path, actual, max)`.
    pub fn too_many(field: impl Into<String>, actual: i64, max: i64) -> Self {
        let detail = if max >= 0 {
            let unit = if max == 1 { "item" } else { "items" };
            format!("must have at most {max} {unit}")
        } else {
            "has too many items".to_string()
        };
        let value = if actual >= 0 {
            Some(Value::from(actual))
        } else {
            None
        };
        Self::new(FieldErrorType::TooMany, field, value, detail)
    }
    /// `field.Duplicate(path, value)`.
    pub fn duplicate(field: impl Into<String>, value: Value) -> Self {
        Self::new(FieldErrorType::Duplicate, field, Some(value), "")
    }
    /// `field.NotFound(path, value)`.
    pub fn not_found(field: impl Into<String>, value: Value) -> Self {
        Self::new(FieldErrorType::NotFound, field, Some(value), "")
    }

    /// The message without the field path (`StatusCause.message`), e.g.
    /// `Invalid value: "x": must be ...`.
    pub fn body(&self) -> String {
        let mut s = match (self.kind, &self.bad_value) {
            (
                FieldErrorType::Required
                | FieldErrorType::Forbidden
                | FieldErrorType::TooLong
                | FieldErrorType::Internal,
                _,
            )
            | (_, None) => self.kind.text().to_string(),
            (_, Some(v)) => format!("{}: {}", self.kind.text(), go_value(v)),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Aggregate a list the way `ErrorList.ToAggregate().Error()` does: duplicates dropped,
/// one error printed alone, several as `[a, b]`. Empty list gives an empty string.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen = Vec::<String>::new();
    for e in errors {
        let s = e.to_string();
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// Quote a string as Go's `%q` does (printable Unicode kept, escapes for the rest).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"))
                } else {
                    out.push_str(&format!("\\U{n:08x}"))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Render a number as Go's `%v` does for int64/float64.
pub fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    go_float(f)
}

/// Go's `%v` for float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with Go's exponent rules).
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) {
        // shortest round-trip mantissa in exponent form: 1e+21, 1.5e-05
        let s = format!("{f:e}");
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        format!("{f}")
    }
}

/// Render a bad value as Go's field error does: strings quoted, numbers and bools plain,
/// null as `null`, maps and slices as JSON with sorted keys (current apimachinery renders
/// complex values with `json.Marshal`).
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => go_quote(s),
        Value::Null | Value::Array(_) | Value::Object(_) => sorted_json(v),
    }
}

/// Compact JSON with object keys sorted, as Go's `json.Marshal` of a map prints.
pub fn sorted_json(v: &Value) -> String {
    match v {
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(sorted_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), sorted_json(&m[k])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Join a field path the way `field.Path` prints: `spec.containers[0].name`.
pub fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// `field.Path.Index`: `parent[3]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// `field.Path.Key`: `parent[key]`.
pub fn key(parent: &str, k: &str) -> String {
    format!("{parent}[{k}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invalid_type_error_prints_like_kube_apiserver() {
        let e = FieldError::type_invalid(
            "spec.replicas",
            json!("string"),
            "spec.replicas in body must be of type integer: \"string\"",
        );
        assert_eq!(
            e.to_string(),
            r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
        );
        assert_eq!(e.kind.cause_type(), "FieldValueTypeInvalid");
    }

    #[test]
    fn required_and_not_supported_print_like_kube_apiserver() {
        assert_eq!(
            FieldError::required("spec.size", "").to_string(),
            "spec.size: Required value"
        );
        let e = FieldError::not_supported("spec.mode", json!("x"), &["a".into(), "b".into()]);
        assert_eq!(
            e.to_string(),
            r#"spec.mode: Unsupported value: "x": supported values: "a", "b""#
        );
    }

    #[test]
    fn too_long_omits_value_and_too_many_shows_count() {
        assert_eq!(
            FieldError::too_long("spec.name", 5).to_string(),
            "spec.name: Too long: may not be more than 5 bytes"
        );
        assert_eq!(
            FieldError::too_many("spec.items", 4, 3).to_string(),
            "spec.items: Too many: 4: must have at most 3 items"
        );
    }

    #[test]
    fn aggregate_drops_duplicates_and_brackets_many() {
        let a = FieldError::required("a", "");
        let b = FieldError::required("b", "");
        assert_eq!(aggregate(std::slice::from_ref(&a)), "a: Required value");
        assert_eq!(
            aggregate(&[a.clone(), b, a]),
            "[a: Required value, b: Required value]"
        );
        assert_eq!(aggregate(&[]), "");
    }

    #[test]
    fn go_value_renders_like_go_fmt() {
        assert_eq!(go_value(&json!(null)), "null");
        assert_eq!(go_value(&json!(1.5)), "1.5");
        assert_eq!(go_value(&json!(3)), "3");
        assert_eq!(go_value(&json!("a\"b\n")), r#""a\"b\n""#);
        assert_eq!(
            go_value(&json!({"b": 1, "a": ["x"]})),
            r#"{"a":["x"],"b":1}"#
        );
        assert_eq!(
            FieldError::too_many("x", 2, 1).to_string(),
            "x: Too many: 2: must have at most 1 item"
        );
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(100.0), "100");
    }
}
