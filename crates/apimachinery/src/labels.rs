//! Label selectors: the string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and
//! `metav1.LabelSelector` objects (`matchLabels` + `matchExpressions`), both compiled to the
//! same [`Selector`]; parse errors carry kube-apiserver's wording.
//!
//! As in Kubernetes, requirements are kept sorted by key and `in`/`notin` values sorted, so
//! `Display` gives the canonical form and `parse(display(s)) == s`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`
    Equals,
    /// `==`
    DoubleEquals,
    /// `!=`
    NotEquals,
    /// `in (...)`
    In,
    /// `notin (...)`
    NotIn,
    /// bare `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>n` (integer)
    GreaterThan,
    /// `key<n` (integer)
    LessThan,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// Sorted, without duplicates.
    pub values: Vec<String>,
}

/// A parse or validation failure, with kube-apiserver's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// A compiled label selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// Matches every object (the empty selector).
    pub fn everything() -> Self {
        todo!()
    }
    /// Matches no object (a `null` LabelSelector).
    pub fn nothing() -> Self {
        todo!()
    }
    /// Parse the `labelSelector` query-parameter syntax.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let _ = s;
        todo!()
    }
    /// Build from a `metav1.LabelSelector` JSON value. `None`/`null` → [`Selector::nothing`],
    /// `{}` → [`Selector::everything`].
    pub fn from_label_selector(sel: Option<&Value>) -> Result<Self, SelectorError> {
        let _ = sel;
        todo!()
    }
    /// Requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
    /// True for the selector that matches everything.
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }
    /// Match a label map.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let _ = labels;
        todo!()
    }
    /// Match a `metadata.labels` JSON object (`None`/non-object = no labels).
    pub fn matches_labels_value(&self, labels: Option<&Value>) -> bool {
        let _ = labels;
        todo!()
    }
    /// Match an object by its `metadata.labels`.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches_labels_value(obj.get("metadata").and_then(|m| m.get("labels")))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!()
    }
}

/// `IsQualifiedName` (label/annotation keys): messages for an invalid key.
pub fn validate_label_key(key: &str) -> Vec<String> {
    let _ = key;
    todo!()
}

/// `IsValidLabelValue`: messages for an invalid value.
pub fn validate_label_value(value: &str) -> Vec<String> {
    let _ = value;
    todo!()
}
