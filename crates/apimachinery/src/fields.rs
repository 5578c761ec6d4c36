//! Field selectors (`metadata.name=x,metadata.namespace!=y`) matched against objects.
//!
//! Which fields a kind supports mirrors kube-apiserver: every kind supports
//! `metadata.name` and `metadata.namespace`; a few built-ins add more (see
//! [`supported_fields`]). An unsupported field fails with `field label not supported: <f>`
//! (a 400 BadRequest in kube-apiserver). Values may escape `\,` `\=` `\\` as in Go's
//! `fields.EscapeValue`.

use serde_json::Value;
use std::fmt;

/// `=`/`==` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

/// One `field op value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub op: FieldOp,
    pub value: String,
}

/// A parsed field selector (conjunction of terms, sorted as Kubernetes sorts them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

/// Parse or support errors; `Display` is kube-apiserver's message, a 400 BadRequest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// `invalid selector: '<sel>'; can't understand '<term>'`
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    Syntax { selector: String, term: String },
    /// A bad escape in a value.
    #[error("invalid field selector: {0}")]
    Escape(String),
    /// `field label not supported: <field>`
    #[error("field label not supported: {0}")]
    Unsupported(String),
}

/// Split on unescaped `sep` characters (escapes kept).
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// Find the first unescaped operator (`!=`, `==`, `=` tried in that order at each position).
fn split_term(term: &str) -> Option<(String, FieldOp, String)> {
    let b = term.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        for (op, fop) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            // compare bytes: a match is ASCII, so `i` is then a char boundary
            if b[i..].starts_with(op.as_bytes()) {
                return Some((term[..i].to_string(), fop, term[i + op.len()..].to_string()));
            }
        }
        i += 1;
    }
    None
}

fn unescape_value(s: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => {
                    return Err(FieldSelectorError::Escape(format!(
                        "invalid escape sequence: \\{e}"
                    )));
                }
                None => {
                    return Err(FieldSelectorError::Escape(
                        "invalid escape sequence: \\".into(),
                    ));
                }
            },
            ',' | '=' => {
                return Err(FieldSelectorError::Escape(format!(
                    "unescaped character in value: {c}"
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Escape a value for use in a field selector.
pub fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

impl FieldSelector {
    /// Parse the `fieldSelector` query-parameter syntax.
    pub fn parse(s: &str) -> Result<Self, FieldSelectorError> {
        let mut parts = split_unescaped(s, ',');
        parts.sort();
        let mut requirements = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, op, rhs)) = split_term(&part) else {
                return Err(FieldSelectorError::Syntax {
                    selector: s.to_string(),
                    term: part,
                });
            };
            requirements.push(FieldRequirement {
                field,
                op,
                value: unescape_value(&rhs)?,
            });
        }
        Ok(FieldSelector { requirements })
    }
    /// Check every field is supported for `kind` (built-in kind name; custom kinds get the
    /// metadata fields only).
    pub fn check_supported(&self, kind: &str) -> Result<(), FieldSelectorError> {
        let supported = supported_fields(kind);
        for r in &self.requirements {
            if !supported.contains(&r.field.as_str()) {
                return Err(FieldSelectorError::Unsupported(r.field.clone()));
            }
        }
        Ok(())
    }
    /// Check every field is `metadata.name`, `metadata.namespace` or one of `extra` (a
    /// CRD version's `selectableFields[].jsonPath` without the leading dot).
    pub fn check_supported_with(&self, extra: &[&str]) -> Result<(), FieldSelectorError> {
        for r in &self.requirements {
            let f = r.field.as_str();
            if !META.contains(&f) && !extra.contains(&f) {
                return Err(FieldSelectorError::Unsupported(r.field.clone()));
            }
        }
        Ok(())
    }
    /// True when there are no terms.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
    /// Match an object; a missing field reads as `""` as in Kubernetes.
    pub fn matches(&self, obj: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let v = field_value(obj, &r.field);
            match r.op {
                FieldOp::Equals => v == r.value,
                FieldOp::NotEquals => v != r.value,
            }
        })
    }
    /// The `metadata.name` this selector pins, if any (`metadata.name=x`): lets a server
    /// turn a list into a get.
    pub fn pinned_name(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == "metadata.name" && r.op == FieldOp::Equals)
            .map(|r| r.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match r.op {
                FieldOp::Equals => "=",
                FieldOp::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", r.field, escape_value(&r.value))?;
        }
        Ok(())
    }
}

const META: &[&str] = &["metadata.name", "metadata.namespace"];

/// The field labels kube-apiserver supports for a kind.
pub fn supported_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "metadata.name",
            "metadata.namespace",
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Secret" => &["metadata.name", "metadata.namespace", "type"],
        "Namespace" => &["metadata.name", "status.phase"],
        "ReplicaSet" => &["metadata.name", "metadata.namespace", "status.replicas"],
        _ => META,
    }
}

/// Read a field label's value from an object as a string (`""` when absent): strings as
/// they are, numbers and booleans in their text form. `source` (Events) reads
/// `source.component`.
pub fn field_value(obj: &Value, field: &str) -> String {
    let path = if field == "source" {
        "source.component"
    } else {
        field
    };
    let mut cur = obj;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, ns: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": ns}})
    }

    #[test]
    fn name_and_namespace_terms_match() {
        let s = FieldSelector::parse("metadata.name=a,metadata.namespace!=kube-system").unwrap();
        assert!(s.matches(&cm("a", "default")));
        assert!(!s.matches(&cm("a", "kube-system")));
        assert!(!s.matches(&cm("b", "default")));
        assert_eq!(s.pinned_name(), Some("a"));
        let s = FieldSelector::parse("metadata.name==a").unwrap();
        assert!(s.matches(&cm("a", "x")));
    }

    #[test]
    fn terms_are_sorted_and_empty_terms_skipped() {
        let s = FieldSelector::parse("metadata.namespace=x,,metadata.name=y").unwrap();
        assert_eq!(s.to_string(), "metadata.name=y,metadata.namespace=x");
        assert!(FieldSelector::parse("").unwrap().is_empty());
    }

    #[test]
    fn missing_field_reads_as_empty_string() {
        let s = FieldSelector::parse("metadata.namespace=").unwrap();
        assert!(s.matches(&json!({"metadata": {"name": "cluster-scoped"}})));
        let s = FieldSelector::parse("metadata.namespace!=").unwrap();
        assert!(!s.matches(&json!({"metadata": {"name": "cluster-scoped"}})));
    }

    #[test]
    fn syntax_error_message_matches_kubernetes() {
        let e = FieldSelector::parse("metadata.name").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
    }

    #[test]
    fn unsupported_field_names_the_field() {
        let s = FieldSelector::parse("spec.foo=1").unwrap();
        assert_eq!(
            s.check_supported("ConfigMap").unwrap_err().to_string(),
            "field label not supported: spec.foo"
        );
        assert!(
            FieldSelector::parse("type=Opaque")
                .unwrap()
                .check_supported("Secret")
                .is_ok()
        );
        assert!(
            FieldSelector::parse("status.phase=Running")
                .unwrap()
                .check_supported("Pod")
                .is_ok()
        );
        assert!(
            FieldSelector::parse("metadata.namespace=a")
                .unwrap()
                .check_supported("Widget")
                .is_ok()
        );
    }

    #[test]
    fn crd_selectable_fields_extend_the_supported_set() {
        let s = FieldSelector::parse("spec.color=red").unwrap();
        assert!(s.check_supported_with(&["spec.color"]).is_ok());
        assert!(s.check_supported_with(&[]).is_err());
        assert!(s.matches(&json!({"spec": {"color": "red"}})));
    }

    #[test]
    fn non_ascii_terms_parse_without_panicking() {
        let s = FieldSelector::parse("metadata.name=ê𞹝").unwrap();
        assert_eq!(s.requirements[0].value, "ê𞹝");
        assert!(FieldSelector::parse("ê\\𞹝").is_err());
    }

    #[test]
    fn escaped_values_round_trip() {
        let s = FieldSelector::parse(r"metadata.name=a\,b\=c\\d").unwrap();
        assert_eq!(s.requirements[0].value, r"a,b=c\d");
        assert_eq!(FieldSelector::parse(&s.to_string()).unwrap(), s);
        assert!(matches!(
            FieldSelector::parse(r"metadata.name=a\x"),
            Err(FieldSelectorError::Escape(_))
        ));
    }

    #[test]
    fn non_string_fields_compare_as_text() {
        let pod = json!({"spec": {"hostNetwork": true}, "status": {"phase": "Running"}});
        assert!(
            FieldSelector::parse("spec.hostNetwork=true,status.phase=Running")
                .unwrap()
                .matches(&pod)
        );
        let ev = json!({"source": {"component": "kubelet"}, "type": "Warning"});
        assert!(
            FieldSelector::parse("source=kubelet,type=Warning")
                .unwrap()
                .matches(&ev)
        );
    }
}
