//! The value model templates operate on, mirroring the dynamic values a Go
//! template sees through `interface{}`.
//!
//! Maps are shared by reference (Sprig's `set`, `unset`, `merge` mutate them in
//! place, as Go maps are mutated), lists are immutable (Sprig copies lists).
//! Map keys are kept sorted, the order in which Go prints and ranges maps.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// A host object exposed to templates: fields and methods with Go-like access
/// (`.Files.Get "x"`, `.Capabilities.KubeVersion.Major`).
pub trait Object: Send + Sync + fmt::Debug {
    /// The Go type name, used by `typeOf`, `kindOf` and error messages.
    fn type_name(&self) -> &str;
    /// A field or a method without arguments (`.Name`). `None` when absent.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method call with arguments (`.Files.Get "a"`). `None` when there is no such method.
    fn call(&self, method: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let _ = (method, args);
        None
    }
    /// What `{{ . }}` and `%v` print, like Go's `String()` method. `None` prints `{}`.
    fn display(&self) -> Option<String> {
        None
    }
    /// Whether a method of this name exists (so that `.Obj.Method arg` may take arguments).
    fn has_method(&self, name: &str) -> bool {
        let _ = name;
        false
    }
    /// For objects that are also Go maps (Helm's `Files` from `.Files.Glob`): the entries,
    /// sorted by key. `range`, `len`, `index`, `keys`, `empty`, truthiness and printing use them.
    fn entries(&self) -> Option<Vec<(String, Value)>> {
        None
    }
    /// For objects that stand for a Go string holding bytes that are not UTF-8 (Helm's
    /// `.Files.Get` of a binary file): the raw bytes. `b64enc`, `b32enc`, the `*sum`
    /// hashes and `len` use them; every other string use sees a lossy UTF-8 conversion.
    fn bytes(&self) -> Option<Vec<u8>> {
        None
    }
    /// For objects that are Go slices with methods (Helm's `VersionSet`, a `[]string` with `Has`):
    /// the elements. Functions see a plain list (so Sprig's `has`, `first`, `join` work), while
    /// `typeOf` and friends still see the object; `range`, `len`, `index`, truthiness use them.
    fn list(&self) -> Option<Vec<Value>> {
        None
    }
    /// Go's reflect kind (`kindOf`): `slice` for list objects, `map` for map objects, else `ptr`.
    fn kind(&self) -> &'static str {
        if self.list().is_some() {
            "slice"
        } else if self.entries().is_some() {
            "map"
        } else {
            "ptr"
        }
    }
    /// What Go's `encoding/json` makes of the object (`toJson`), when it is not its display string.
    fn to_json(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A map shared by reference, with sorted keys. A handle may carry a Go named map type
/// (Helm's `common.Values` for `.Values`), which only `typeOf`/`%T` see.
#[derive(Clone, Default)]
pub struct Map(Arc<RwLock<BTreeMap<String, Value>>>, Option<&'static str>);

impl Map {
    pub fn new() -> Self {
        Map::default()
    }
    pub fn from_btree(m: BTreeMap<String, Value>) -> Self {
        Map(Arc::new(RwLock::new(m)), None)
    }
    /// The same map (shared), seen as the named Go map type `name` (e.g. `common.Values`).
    pub fn named(&self, name: &'static str) -> Map {
        Map(self.0.clone(), Some(name))
    }
    /// Go's type name of this map handle.
    pub fn type_name(&self) -> &'static str {
        self.1.unwrap_or("map[string]interface {}")
    }
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }
    pub fn insert(&self, key: impl Into<String>, v: Value) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.into(), v);
    }
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
    }
    pub fn len(&self) -> usize {
        self.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
    /// A snapshot of the entries (cheap: values share their contents).
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }
    /// A snapshot copy of the underlying map (a new, unshared map object).
    pub fn to_btree(&self) -> BTreeMap<String, Value> {
        self.read().clone()
    }
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

/// A dynamic template value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped nil (a missing map key, a nil interface).
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Arc<str>),
    List(Arc<Vec<Value>>),
    Map(Map),
    Object(Arc<dyn Object>),
}

impl Value {
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Arc::new(v))
    }
    pub fn map(m: BTreeMap<String, Value>) -> Value {
        Value::Map(Map::from_btree(m))
    }
    pub fn empty_map() -> Value {
        Value::Map(Map::new())
    }
    /// Builds a map value from pairs.
    pub fn map_from<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Arc::new(o))
    }
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    /// The bytes of a string value or of a byte-string object.
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_bytes())),
            Value::Object(o) => o.bytes().map(std::borrow::Cow::Owned),
            _ => None,
        }
    }
    /// Looks up a key in a map value.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Go's type name of the dynamic value (`%T`, `typeOf`).
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(m) => m.type_name().into(),
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// Go's reflect kind name (`kindOf`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind(),
        }
    }

    /// Go template truthiness: false for nil, false, 0, and empty strings, lists and maps.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => match o.list() {
                Some(l) => !l.is_empty(),
                None => o.entries().is_none_or(|e| !e.is_empty()),
            },
        }
    }

    /// The elements of a list value or of a list-like object.
    pub fn list_items(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l) => Some(l.to_vec()),
            Value::Object(o) => o.list(),
            _ => None,
        }
    }

    /// The map entries of a map value or of a map-like object, sorted by key.
    pub fn map_entries(&self) -> Option<Vec<(String, Value)>> {
        match self {
            Value::Map(m) => Some(m.entries()),
            Value::Object(o) => o.entries(),
            _ => None,
        }
    }

    /// Converts to JSON the way Go's `encoding/json` sees the value.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::String(s) => J::String(s.to_string()),
            Value::List(l) => J::Array(l.iter().map(|v| v.to_json()).collect()),
            Value::Map(m) => J::Object(
                m.entries()
                    .into_iter()
                    .map(|(k, v)| (k, v.to_json()))
                    .collect(),
            ),
            Value::Object(o) => match (o.display(), o.entries()) {
                _ if o.to_json().is_some() => o.to_json().unwrap_or_default(),
                _ if o.list().is_some() => J::Array(
                    o.list()
                        .unwrap_or_default()
                        .iter()
                        .map(|v| v.to_json())
                        .collect(),
                ),
                (Some(d), _) => J::String(d),
                (None, Some(e)) => {
                    J::Object(e.into_iter().map(|(k, v)| (k, v.to_json())).collect())
                }
                _ => J::Object(Default::default()),
            },
        }
    }

    /// A deep copy: maps are copied recursively (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.iter().map(|v| v.deep_copy()).collect()),
            Value::Map(m) => Value::map(
                m.entries()
                    .into_iter()
                    .map(|(k, v)| (k, v.deep_copy()))
                    .collect(),
            ),
            v => v.clone(),
        }
    }
}

impl From<serde_json::Value> for Value {
    /// JSON numbers become `Float`, as they do when Go decodes JSON into `interface{}`.
    fn from(j: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            J::String(s) => Value::str(s),
            J::Array(a) => Value::list(a.into_iter().map(Value::from).collect()),
            J::Object(o) => Value::map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::list(v)
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Value::map(m)
    }
}

impl fmt::Display for Value {
    /// Go's `fmt.Sprint` of the value (`%v`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::gofmt::sprint_value(self))
    }
}
