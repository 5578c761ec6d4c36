//! `meta.k8s.io/v1` Table building for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! Custom resources get `Name` plus their `additionalPrinterColumns` (an `Age` column on
//! `.metadata.creationTimestamp` when none are declared); `date` columns show a human age
//! computed like Go's `duration.HumanDuration`. A few built-ins get kubectl-like columns
//! (see [`builtin_columns`]); the rest get `Name` + `Created At` as kube-apiserver's default
//! table convertor does. `now` is always a parameter.

use crate::meta::Timestamp;
use serde_json::Value;

/// One column of a Table (`columnDefinitions[]`), plus how to compute its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    /// JSONPath of the cell (CRD columns); `None` for computed built-in columns.
    pub json_path: Option<String>,
}

/// What `rows[].object` carries (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Parse the query parameter value (`None`, `Metadata`, `Object`; empty = default).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "Metadata" => Some(IncludeObject::Metadata),
            "None" => Some(IncludeObject::None),
            "Object" => Some(IncludeObject::Object),
            _ => None,
        }
    }
}

/// Go's `duration.HumanDuration` for a number of seconds (negative beyond -1s → `<invalid>`).
pub fn human_duration(seconds: i64) -> String {
    let _ = seconds;
    todo!()
}

/// The age of `timestamp` (RFC 3339) at `now`, as the AGE column shows it.
pub fn age(timestamp: &str, now: Timestamp) -> String {
    let _ = (timestamp, now);
    todo!()
}

/// Columns of a CRD version from its `additionalPrinterColumns` JSON array (`None` or empty
/// → Name + Age).
pub fn crd_columns(additional_printer_columns: Option<&Value>) -> Vec<Column> {
    let _ = additional_printer_columns;
    todo!()
}

/// kubectl-like columns for a built-in kind, or `None` for the default Name/Created At.
pub fn builtin_columns(kind: &str) -> Option<Vec<Column>> {
    let _ = kind;
    todo!()
}

/// The `PartialObjectMetadata` form of an object.
pub fn partial_object_metadata(obj: &Value) -> Value {
    let _ = obj;
    todo!()
}

/// Everything a Table needs besides the objects.
#[derive(Debug, Clone)]
pub struct TableOptions<'a> {
    /// Built-in kind (`Deployment`) or custom kind; decides computed columns.
    pub kind: &'a str,
    /// `Some(additionalPrinterColumns)` for custom resources (may be JSON null/empty).
    pub crd_columns: Option<Option<&'a Value>>,
    pub include_object: IncludeObject,
    /// `noHeaders` table option: omit `columnDefinitions`.
    pub no_headers: bool,
    pub now: Timestamp,
    /// List metadata: `resourceVersion` and `continue` (empty strings are omitted).
    pub resource_version: &'a str,
    pub continue_token: &'a str,
}

/// Build a `meta.k8s.io/v1` Table from objects.
pub fn build_table(objects: &[Value], opts: &TableOptions<'_>) -> Value {
    let _ = (objects, opts);
    todo!()
}
