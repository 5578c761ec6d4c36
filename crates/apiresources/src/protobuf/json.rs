//! The building blocks of the generated `ToJson` impls: Go `encoding/json` rules for pointers,
//! `omitempty`, slices, maps and `[]byte`, and the hand-written special types (Time, MicroTime,
//! Duration, FieldsV1, Quantity, IntOrString, RawExtension, ExtraValue).

use base64::Engine as _;
use k8s_pb as pb;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A protobuf message as the JSON Go prints for the same Go value.
pub(crate) trait ToJson {
    fn to_json(&self) -> Value;
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for i32 {
    fn to_json(&self) -> Value {
        (*self).into()
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> Value {
        (*self).into()
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        (*self).into()
    }
}

/// Scalars that have a Go zero value.
pub(crate) trait Scalar: ToJson + Default + PartialEq {}
impl Scalar for String {}
impl Scalar for i32 {}
impl Scalar for i64 {}
impl Scalar for bool {}

/// How a Go scalar field is printed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    /// A Go pointer (`*int32`): printed when set, even to zero (protobuf carries it only when set).
    Pointer,
    /// A Go value with `omitempty`: printed unless zero.
    OmitEmpty,
    /// A Go value without `omitempty`: always printed (zero when absent).
    Always,
}

pub(crate) fn scalar<T: Scalar>(m: &mut Map<String, Value>, name: &str, v: &Option<T>, rule: Rule) {
    match (v, rule) {
        (Some(v), Rule::Pointer) => {
            m.insert(name.into(), v.to_json());
        }
        (Some(v), Rule::OmitEmpty) if *v != T::default() => {
            m.insert(name.into(), v.to_json());
        }
        (Some(v), Rule::Always) => {
            m.insert(name.into(), v.to_json());
        }
        (None, Rule::Always) => {
            m.insert(name.into(), T::default().to_json());
        }
        _ => {}
    }
}

pub(crate) fn message<T: ToJson>(m: &mut Map<String, Value>, name: &str, v: &Option<T>) {
    if let Some(v) = v {
        m.insert(name.into(), v.to_json());
    }
}

/// An embedded Go struct with `json:",inline"`: its fields join the parent object.
pub(crate) fn inline<T: ToJson>(m: &mut Map<String, Value>, v: &Option<T>) {
    if let Some(Value::Object(inner)) = v.as_ref().map(ToJson::to_json) {
        for (k, v) in inner {
            m.insert(k, v);
        }
    }
}

/// Slices with `omitempty`: protobuf cannot tell nil from empty; both decode as nil, omitted.
pub(crate) fn repeated<T: ToJson>(m: &mut Map<String, Value>, name: &str, v: &[T]) {
    if !v.is_empty() {
        m.insert(
            name.into(),
            Value::Array(v.iter().map(ToJson::to_json).collect()),
        );
    }
}

/// A slice without `omitempty`: Go prints nil (all protobuf can carry for empty) as `null`.
pub(crate) fn repeated_or_null<T: ToJson>(m: &mut Map<String, Value>, name: &str, v: &[T]) {
    if v.is_empty() {
        m.insert(name.into(), Value::Null);
    } else {
        repeated(m, name, v);
    }
}

pub(crate) fn map<T: ToJson>(m: &mut Map<String, Value>, name: &str, v: &BTreeMap<String, T>) {
    if !v.is_empty() {
        let obj = v.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
        m.insert(name.into(), Value::Object(obj));
    }
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `[]byte` fields are base64 strings in JSON (no reachable message has one today).
#[allow(dead_code)]
pub(crate) fn bytes(m: &mut Map<String, Value>, name: &str, v: &Option<Vec<u8>>) {
    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
        m.insert(name.into(), b64(v));
    }
}

/// `map[string][]byte` (Secret `data`, ConfigMap `binaryData`): values as base64 strings.
pub(crate) fn bytes_map(m: &mut Map<String, Value>, name: &str, v: &BTreeMap<String, Vec<u8>>) {
    if !v.is_empty() {
        let obj = v.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
        m.insert(name.into(), Value::Object(obj));
    }
}

fn rfc3339(seconds: i64, nanos: i32, micros: bool) -> Value {
    if seconds == 0 && nanos == 0 {
        // metav1.Time's zero value travels as an empty message and prints as null.
        return Value::Null;
    }
    match jiff::Timestamp::new(seconds, 0) {
        Ok(ts) => {
            let base = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            if micros {
                format!("{base}.{:06}Z", nanos.max(0) / 1000).into()
            } else {
                format!("{base}Z").into()
            }
        }
        Err(_) => Value::Null,
    }
}

impl ToJson for pb::apimachinery::pkg::apis::meta::v1::Time {
    fn to_json(&self) -> Value {
        rfc3339(self.seconds.unwrap_or(0), self.nanos.unwrap_or(0), false)
    }
}

impl ToJson for pb::apimachinery::pkg::apis::meta::v1::MicroTime {
    fn to_json(&self) -> Value {
        rfc3339(self.seconds.unwrap_or(0), self.nanos.unwrap_or(0), true)
    }
}

/// Go's `time.Duration.String()` (`1h2m3s`, `1.5s`, `300ms`, `0s`).
pub(crate) fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let n = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    let frac = |v: u64, digits: u32| -> String {
        let s = format!("{:0width$}", v, width = digits as usize);
        let s = s.trim_end_matches('0');
        if s.is_empty() {
            String::new()
        } else {
            format!(".{s}")
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}{}µs", n / 1_000, frac(n % 1_000, 3));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}{}ms", n / 1_000_000, frac(n % 1_000_000, 6));
    }
    let secs = n / 1_000_000_000;
    let sub = frac(n % 1_000_000_000, 9);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}{sub}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}{sub}s")
    } else {
        format!("{sign}{s}{sub}s")
    }
}

impl ToJson for pb::apimachinery::pkg::apis::meta::v1::Duration {
    fn to_json(&self) -> Value {
        go_duration(self.duration.unwrap_or(0)).into()
    }
}

fn raw_json(raw: &Option<Vec<u8>>) -> Value {
    raw.as_deref()
        .filter(|r| !r.is_empty())
        .and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or(Value::Null)
}

impl ToJson for pb::apimachinery::pkg::apis::meta::v1::FieldsV1 {
    fn to_json(&self) -> Value {
        raw_json(&self.raw)
    }
}

/// Go's `type ExtraValue []string` (user info extras): the wrapped list, as a JSON array.
macro_rules! extra_value {
    ($($ty:ty),*) => {$(
        impl ToJson for $ty {
            fn to_json(&self) -> Value {
                Value::Array(self.items.iter().map(|s| Value::String(s.clone())).collect())
            }
        }
    )*};
}

extra_value!(
    pb::api::authentication::v1::ExtraValue,
    pb::api::authorization::v1::ExtraValue,
    pb::api::certificates::v1::ExtraValue
);

impl ToJson for pb::apimachinery::pkg::runtime::RawExtension {
    fn to_json(&self) -> Value {
        raw_json(&self.raw)
    }
}

impl ToJson for pb::apimachinery::pkg::api::resource::Quantity {
    fn to_json(&self) -> Value {
        Value::String(self.string.clone().unwrap_or_else(|| "0".into()))
    }
}

impl ToJson for pb::apimachinery::pkg::util::intstr::IntOrString {
    fn to_json(&self) -> Value {
        if self.r#type.unwrap_or(0) == 1 {
            Value::String(self.str_val.clone().unwrap_or_default())
        } else {
            self.int_val.unwrap_or(0).into()
        }
    }
}
