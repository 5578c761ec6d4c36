//! Label selectors: the string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and
//! `metav1.LabelSelector` objects (`matchLabels` + `matchExpressions`), both compiled to the
//! same [`Selector`]; parse errors carry kube-apiserver's wording.
//!
//! As in Kubernetes, requirements are kept sorted by key and `in`/`notin` values sorted, so
//! `Display` gives the canonical form and `parse(display(s)) == s`.

use crate::field::{FieldError, aggregate};
use crate::meta::{
    LABEL_VALUE_FMT, QUALIFIED_NAME_FMT, is_dns1123_subdomain, matches_label_value,
    matches_qualified_name, max_len_error, regex_error,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
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

impl Requirement {
    /// Build and validate a requirement as Go's `labels.NewRequirement` does (`path` is the
    /// field path used in messages; the string parser uses none).
    pub fn new(
        key: &str,
        operator: Operator,
        values: impl IntoIterator<Item = String>,
    ) -> Result<Self, SelectorError> {
        let values: Vec<String> = values
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut errs = Vec::new();
        let key_errs = validate_label_key(key);
        if !key_errs.is_empty() {
            errs.push(FieldError::invalid(
                "key",
                Value::String(key.into()),
                key_errs.join("; "),
            ));
        }
        // Go passes a nil slice when there are no values; it prints as `null`.
        let vals_json = || {
            if values.is_empty() {
                Value::Null
            } else {
                Value::Array(values.iter().cloned().map(Value::String).collect())
            }
        };
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(FieldError::invalid(
                "values",
                vals_json(),
                "for 'in', 'notin' operators, values set can't be empty",
            )),
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                errs.push(FieldError::invalid(
                    "values",
                    vals_json(),
                    "exact-match compatibility requires one single value",
                ))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                errs.push(FieldError::invalid(
                    "values",
                    vals_json(),
                    "values set must be empty for exists and does not exist",
                ))
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        vals_json(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ))
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            format!("values[{i}]"),
                            Value::String(v.clone()),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ))
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let verrs = validate_label_value(v);
            if !verrs.is_empty() {
                errs.push(FieldError::invalid(
                    format!("values[{i}][{key}]"),
                    Value::String(v.clone()),
                    verrs.join("; "),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(SelectorError(aggregate(&errs)));
        }
        Ok(Requirement {
            key: key.to_string(),
            operator,
            values,
        })
    }

    /// Does this requirement hold for the label map?
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_get(|k| labels.get(k).map(String::as_str))
    }

    fn matches_get<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        let v = get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                v.is_some_and(|v| self.values.iter().any(|x| x == v))
            }
            Operator::NotIn | Operator::NotEquals => {
                v.is_none_or(|v| !self.values.iter().any(|x| x == v))
            }
            Operator::Exists => v.is_some(),
            Operator::DoesNotExist => v.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(have) = v.and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let Some(want) = self.values.first().and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = &self.key;
        let first = self.values.first().map(String::as_str).unwrap_or("");
        match self.operator {
            Operator::Exists => write!(f, "{k}"),
            Operator::DoesNotExist => write!(f, "!{k}"),
            Operator::Equals => write!(f, "{k}={first}"),
            Operator::DoubleEquals => write!(f, "{k}=={first}"),
            Operator::NotEquals => write!(f, "{k}!={first}"),
            Operator::GreaterThan => write!(f, "{k}>{first}"),
            Operator::LessThan => write!(f, "{k}<{first}"),
            Operator::In => write!(f, "{k} in ({})", self.values.join(",")),
            Operator::NotIn => write!(f, "{k} notin ({})", self.values.join(",")),
        }
    }
}

/// A compiled label selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// Matches every object (the empty selector).
    pub fn everything() -> Self {
        Selector::default()
    }
    /// Matches no object (a `null` LabelSelector).
    pub fn nothing() -> Self {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }
    /// Build from requirements (sorted by key, as Kubernetes does).
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements,
            nothing: false,
        }
    }
    /// Parse the `labelSelector` query-parameter syntax.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let toks = lex(s)?;
        let mut p = Parser { toks, pos: 0 };
        let reqs = p.parse()?;
        Ok(Selector::from_requirements(reqs))
    }
    /// Build from a `metav1.LabelSelector` JSON value. `None`/`null` → [`Selector::nothing`],
    /// `{}` → [`Selector::everything`] (Go's `LabelSelectorAsSelector`). A caller for which an
    /// absent selector means "all" (e.g. an optional affinity) should map `None` to
    /// [`Selector::everything`] itself.
    pub fn from_label_selector(sel: Option<&Value>) -> Result<Self, SelectorError> {
        let Some(sel) = sel.filter(|v| !v.is_null()) else {
            return Ok(Selector::nothing());
        };
        let Some(obj) = sel.as_object() else {
            return Err(SelectorError(format!(
                "a label selector must be an object with matchLabels and matchExpressions, got {sel}"
            )));
        };
        let mut reqs = Vec::new();
        if let Some(ml) = obj.get("matchLabels").filter(|v| !v.is_null()) {
            let m = ml.as_object().ok_or_else(|| {
                SelectorError(format!("matchLabels must be a map of strings, got {ml}"))
            })?;
            for (k, v) in m {
                let v = v.as_str().ok_or_else(|| {
                    SelectorError(format!("matchLabels[{k}] must be a string, got {v}"))
                })?;
                reqs.push(Requirement::new(k, Operator::Equals, [v.to_string()])?);
            }
        }
        if let Some(me) = obj.get("matchExpressions").filter(|v| !v.is_null()) {
            let list = me.as_array().ok_or_else(|| {
                SelectorError(format!("matchExpressions must be a list, got {me}"))
            })?;
            for expr in list {
                let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
                let op = expr.get("operator").and_then(Value::as_str).unwrap_or("");
                let values: Vec<String> = expr
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let operator = match op {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    other => {
                        return Err(SelectorError(format!(
                            "{} is not a valid label selector operator",
                            crate::field::go_quote(other)
                        )));
                    }
                };
                reqs.push(Requirement::new(key, operator, values)?);
            }
        }
        Ok(Selector::from_requirements(reqs))
    }
    /// `labels.SelectorFromSet`: every `key=value` must match (an empty set matches all).
    pub fn from_set(labels: &BTreeMap<String, String>) -> Result<Self, SelectorError> {
        let reqs = labels
            .iter()
            .map(|(k, v)| Requirement::new(k, Operator::Equals, [v.clone()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector::from_requirements(reqs))
    }
    /// Requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
    /// True for the selector that matches everything.
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }
    /// True for the selector that matches nothing.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }
    /// Match a label map.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
    /// Match a `metadata.labels` JSON object (`None`/non-object = no labels).
    pub fn matches_labels_value(&self, labels: Option<&Value>) -> bool {
        if self.nothing {
            return false;
        }
        let map = labels.and_then(Value::as_object);
        self.requirements
            .iter()
            .all(|r| r.matches_get(|k| map.and_then(|m| m.get(k)).and_then(Value::as_str)))
    }
    /// Match an object by its `metadata.labels`.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches_labels_value(obj.get("metadata").and_then(|m| m.get("labels")))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// `IsQualifiedName` (label/annotation keys): messages for an invalid key.
pub fn validate_label_key(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                qualified_name_regex_error()
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !matches_qualified_name(name) {
        errs.push(format!("name part {}", qualified_name_regex_error()));
    }
    errs
}

fn qualified_name_regex_error() -> String {
    regex_error(
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        QUALIFIED_NAME_FMT,
        &["MyName", "my.name", "123-abc"],
    )
}

/// `IsValidLabelValue`: messages for an invalid value.
pub fn validate_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_label_value(value) {
        errs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------
// Lexer and parser, following the structure (and messages) of Go's labels.Parser.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    In,
    NotIn,
    Eq,
    DoubleEq,
    NotEq,
    Bang,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl Tok {
    fn literal(&self) -> &str {
        match self {
            Tok::Ident(s) => s,
            Tok::In => "in",
            Tok::NotIn => "notin",
            Tok::Eq => "=",
            Tok::DoubleEq => "==",
            Tok::NotEq => "!=",
            Tok::Bang => "!",
            Tok::Gt => ">",
            Tok::Lt => "<",
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
            Tok::End => "",
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn lex(s: &str) -> Result<Vec<Tok>, SelectorError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if is_special(c) {
            let mut j = i;
            while j < chars.len() && is_special(chars[j]) {
                j += 1;
            }
            // longest special-symbol prefix that is a known operator, as Go's lexer
            let run: String = chars[i..j].iter().collect();
            let (tok, len) = if run.starts_with("==") {
                (Tok::DoubleEq, 2)
            } else if run.starts_with("!=") {
                (Tok::NotEq, 2)
            } else {
                match c {
                    '=' => (Tok::Eq, 1),
                    '!' => (Tok::Bang, 1),
                    '(' => (Tok::Open, 1),
                    ')' => (Tok::Close, 1),
                    ',' => (Tok::Comma, 1),
                    '>' => (Tok::Gt, 1),
                    _ => (Tok::Lt, 1),
                }
            };
            out.push(tok);
            i += len;
            continue;
        }
        let mut j = i;
        while j < chars.len() && !chars[j].is_whitespace() && !is_special(chars[j]) {
            j += 1;
        }
        let word: String = chars[i..j].iter().collect();
        out.push(match word.as_str() {
            "in" => Tok::In,
            "notin" => Tok::NotIn,
            _ => Tok::Ident(word),
        });
        i = j;
    }
    out.push(Tok::End);
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// In the "values" context `in`/`notin` read as identifiers, as in Go.
fn as_value(t: &Tok) -> Tok {
    match t {
        Tok::In | Tok::NotIn => Tok::Ident(t.literal().to_string()),
        other => other.clone(),
    }
}

impl Parser {
    fn peek(&self) -> Tok {
        as_value(&self.toks[self.pos.min(self.toks.len() - 1)])
    }
    fn next_value(&mut self) -> Tok {
        let t = self.peek();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn next_raw(&mut self) -> Tok {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut reqs = Vec::new();
        loop {
            match self.peek() {
                Tok::Ident(_) | Tok::Bang => {
                    let r = self
                        .requirement()
                        .map_err(|e| SelectorError(format!("unable to parse requirement: {e}")))?;
                    reqs.push(r);
                    match self.next_value() {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let t = self.peek();
                            if !matches!(t, Tok::Ident(_) | Tok::Bang) {
                                return Err(SelectorError(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.literal()
                                )));
                            }
                        }
                        t => {
                            return Err(SelectorError(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            )));
                        }
                    }
                }
                Tok::End => return Ok(reqs),
                t => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    )));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let mut tok = self.next_value();
        let mut negated = false;
        if tok == Tok::Bang {
            negated = true;
            tok = self.next_value();
        }
        let Tok::Ident(key) = tok else {
            return Err(SelectorError(format!(
                "found '{}', expected: identifier",
                tok.literal()
            )));
        };
        let kerrs = validate_label_key(&key);
        if !kerrs.is_empty() {
            return Err(SelectorError(
                FieldError::invalid("<nil>", Value::String(key.clone()), kerrs.join("; "))
                    .to_string(),
            ));
        }
        if negated {
            return Requirement::new(&key, Operator::DoesNotExist, []);
        }
        if matches!(self.peek(), Tok::End | Tok::Comma) {
            return Requirement::new(&key, Operator::Exists, []);
        }
        let op = match self.next_raw() {
            Tok::In => Operator::In,
            Tok::NotIn => Operator::NotIn,
            Tok::Eq => Operator::Equals,
            Tok::DoubleEq => Operator::DoubleEquals,
            Tok::NotEq => Operator::NotEquals,
            Tok::Gt => Operator::GreaterThan,
            Tok::Lt => Operator::LessThan,
            t => {
                return Err(SelectorError(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.literal()
                )));
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.values()?,
            _ => self.exact_value()?,
        };
        Requirement::new(&key, op, values)
    }

    fn values(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let t = self.next_value();
        if t != Tok::Open {
            return Err(SelectorError(format!(
                "found '{}' expected: '('",
                t.literal()
            )));
        }
        match self.peek() {
            Tok::Ident(_) | Tok::Comma => {
                let s = self.identifiers()?;
                let t = self.next_value();
                if t != Tok::Close {
                    return Err(SelectorError(format!(
                        "found '{}', expected: ')'",
                        t.literal()
                    )));
                }
                Ok(s)
            }
            Tok::Close => {
                self.next_value();
                Ok(BTreeSet::from([String::new()]))
            }
            t => Err(SelectorError(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            ))),
        }
    }

    fn identifiers(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let mut s = BTreeSet::new();
        loop {
            match self.next_value() {
                Tok::Ident(v) => {
                    s.insert(v);
                    match self.peek() {
                        Tok::Comma => continue,
                        Tok::Close => return Ok(s),
                        t => {
                            return Err(SelectorError(format!(
                                "found '{}', expected: ',' or ')'",
                                t.literal()
                            )));
                        }
                    }
                }
                Tok::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    match self.peek() {
                        Tok::Close => {
                            s.insert(String::new());
                            return Ok(s);
                        }
                        Tok::Comma => {
                            self.next_value();
                            s.insert(String::new());
                        }
                        _ => {}
                    }
                }
                t => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    )));
                }
            }
        }
    }

    fn exact_value(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        if matches!(self.peek(), Tok::End | Tok::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        match self.next_value() {
            Tok::Ident(v) => Ok(BTreeSet::from([v])),
            t => Err(SelectorError(format!(
                "found '{}', expected: identifier",
                t.literal()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator_and_sorts_by_key() {
        let s =
            Selector::parse("z = 1, a==2,b!=3, c in (y, x), d notin (q), e, !f, g>5, h<7").unwrap();
        assert_eq!(
            s.to_string(),
            "a==2,b!=3,c in (x,y),d notin (q),e,!f,g>5,h<7,z=1"
        );
        let ops: Vec<Operator> = s.requirements().iter().map(|r| r.operator).collect();
        assert_eq!(
            ops,
            vec![
                Operator::DoubleEquals,
                Operator::NotEquals,
                Operator::In,
                Operator::NotIn,
                Operator::Exists,
                Operator::DoesNotExist,
                Operator::GreaterThan,
                Operator::LessThan,
                Operator::Equals
            ]
        );
    }

    #[test]
    fn empty_and_whitespace_selectors_match_everything() {
        assert!(Selector::parse("").unwrap().is_everything());
        assert!(Selector::parse("   ").unwrap().is_everything());
        assert!(Selector::parse("").unwrap().matches(&labels(&[])));
    }

    #[test]
    fn matching_follows_kubernetes_semantics() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "10")]);
        let m = |s: &str| Selector::parse(s).unwrap().matches(&l);
        assert!(m("app=web"));
        assert!(m("app==web,tier=front"));
        assert!(!m("app=db"));
        assert!(m("app!=db"));
        assert!(m("missing!=x"), "!= matches when the label is absent");
        assert!(m("app in (web,db)"));
        assert!(!m("app notin (web)"));
        assert!(m("missing notin (web)"), "notin matches when absent");
        assert!(!m("missing in (web)"));
        assert!(m("app"));
        assert!(!m("!app"));
        assert!(m("!missing"));
        assert!(m("n>9") && !m("n>10") && m("n<11"));
        assert!(!m("app>1"), "a non-integer label never satisfies gt");
        assert!(m("app=web,!missing,tier in (front)"));
    }

    #[test]
    fn empty_value_forms() {
        let s = Selector::parse("a=").unwrap();
        assert_eq!(s.requirements()[0].values, vec![String::new()]);
        assert!(s.matches(&labels(&[("a", "")])));
        assert!(!s.matches(&labels(&[])));
        let s = Selector::parse("a in ()").unwrap();
        assert_eq!(s.to_string(), "a in ()");
        let s = Selector::parse("a in (,x)").unwrap();
        assert_eq!(
            s.requirements()[0].values,
            vec!["".to_string(), "x".to_string()]
        );
    }

    #[test]
    fn in_and_notin_are_ordinary_words_in_value_position() {
        let s = Selector::parse("a=in,notin=x").unwrap();
        assert!(s.matches(&labels(&[("a", "in"), ("notin", "x")])));
    }

    #[test]
    fn syntax_errors_use_kubernetes_wording() {
        let e = |s: &str| Selector::parse(s).unwrap_err().0;
        assert_eq!(e("a=b,"), "found '', expected: identifier after ','");
        assert_eq!(
            e(",a"),
            "found ',', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            e("a in b"),
            "unable to parse requirement: found 'b' expected: '('"
        );
        assert_eq!(
            e("a in (b"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            e("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            e("a=(b)"),
            "unable to parse requirement: found '(', expected: identifier"
        );
    }

    #[test]
    fn invalid_keys_and_values_report_kubernetes_validation_messages() {
        let e = Selector::parse("a=b c").unwrap_err().0;
        assert_eq!(e, "found 'c', expected: ',' or 'end of string'");
        let e = Selector::parse("app=a$b").unwrap_err().0;
        assert_eq!(
            e,
            "unable to parse requirement: values[0][app]: Invalid value: \"a$b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        let e = Selector::parse("-a=b").unwrap_err().0;
        assert!(
            e.starts_with("unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters"),
            "{e}"
        );
        assert!(Selector::parse("example.com/app=x").is_ok());
        assert!(Selector::parse("a/b/c=x").is_err());
        assert!(Selector::parse(&format!("a={}", "v".repeat(64))).is_err());
        assert!(Selector::parse("n>x").is_err());
    }

    #[test]
    fn label_selector_objects_compile_to_the_same_matcher() {
        let sel = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "Exists"},
                {"key": "env", "operator": "NotIn", "values": ["prod"]}
            ]
        });
        let s = Selector::from_label_selector(Some(&sel)).unwrap();
        assert_eq!(
            s.to_string(),
            "app=web,!canary,env notin (prod),tier in (edge,front),zone"
        );
        let obj = json!({"metadata": {"labels": {"app": "web", "tier": "edge", "zone": "a"}}});
        assert!(s.matches_object(&obj));
        let obj2 = json!({"metadata": {"labels": {"app": "web", "tier": "edge"}}});
        assert!(!s.matches_object(&obj2));
        assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn null_label_selector_matches_nothing_and_empty_matches_everything() {
        let obj = json!({"metadata": {"labels": {"a": "b"}}});
        assert!(
            !Selector::from_label_selector(None)
                .unwrap()
                .matches_object(&obj)
        );
        assert!(
            !Selector::from_label_selector(Some(&json!(null)))
                .unwrap()
                .matches_object(&obj)
        );
        assert!(
            Selector::from_label_selector(Some(&json!({})))
                .unwrap()
                .matches_object(&obj)
        );
        assert!(Selector::everything().matches_object(&json!({})));
    }

    #[test]
    fn selector_from_a_label_set_requires_every_pair() {
        let set = labels(&[("cpaas.io/arch-amd64", "true"), ("is-global", "true")]);
        let s = Selector::from_set(&set).unwrap();
        assert_eq!(s.to_string(), "cpaas.io/arch-amd64=true,is-global=true");
        assert!(s.matches(&labels(&[
            ("cpaas.io/arch-amd64", "true"),
            ("is-global", "true"),
            ("x", "y")
        ])));
        assert!(!s.matches(&labels(&[("is-global", "true")])));
        assert!(
            Selector::from_set(&BTreeMap::new())
                .unwrap()
                .is_everything()
        );
        assert!(Selector::from_set(&labels(&[("bad key", "v")])).is_err());
    }

    #[test]
    fn label_selector_object_errors() {
        let bad_op = json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]});
        assert_eq!(
            Selector::from_label_selector(Some(&bad_op)).unwrap_err().0,
            "\"Gt\" is not a valid label selector operator"
        );
        let empty_in = json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]});
        assert_eq!(
            Selector::from_label_selector(Some(&empty_in))
                .unwrap_err()
                .0,
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z][a-z0-9]{0,6}",
                "[a-z]{1,5}\\.[a-z]{1,4}/[A-Za-z][-A-Za-z0-9_.]{0,5}[a-z0-9]",
            ]
            .prop_filter("not a keyword", |k| k != "in" && k != "notin")
        }
        fn value() -> impl Strategy<Value = String> {
            "([A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?)?"
        }
        fn requirement() -> impl Strategy<Value = Requirement> {
            (key(), 0..9usize, proptest::collection::vec(value(), 1..4)).prop_map(
                |(k, op, vals)| {
                    let (operator, vals) = match op {
                        0 => (Operator::Equals, vec![vals[0].clone()]),
                        1 => (Operator::DoubleEquals, vec![vals[0].clone()]),
                        2 => (Operator::NotEquals, vec![vals[0].clone()]),
                        3 => (Operator::In, vals),
                        4 => (Operator::NotIn, vals),
                        5 => (Operator::Exists, vec![]),
                        6 => (Operator::DoesNotExist, vec![]),
                        7 => (Operator::GreaterThan, vec!["42".into()]),
                        _ => (Operator::LessThan, vec!["3".into()]),
                    };
                    Requirement::new(&k, operator, vals).expect("generated requirement is valid")
                },
            )
        }

        proptest! {
            #[test]
            fn parse_of_display_round_trips(reqs in proptest::collection::vec(requirement(), 0..5)) {
                let sel = Selector::from_requirements(reqs);
                let text = sel.to_string();
                let back = Selector::parse(&text).unwrap();
                prop_assert_eq!(back, sel);
            }
        }
    }
}
