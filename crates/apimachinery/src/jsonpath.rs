//! Kubernetes JSONPath (`k8s.io/client-go/util/jsonpath`), the subset used by CRD
//! `additionalPrinterColumns` and `kubectl wait --for=jsonpath`: `.a.b`, `{.a.b}`, `$.a`,
//! `['a.b']`, `.a\.b`, `[0]`, `[-1]`, `[1:3]`, `[0,2]`, `['x','y']`, `[*]`, `.*`,
//! `..name`, and filters `[?(@.type=="Ready")]` with `== != < <= > >=` and bare `@.x`
//! existence. Missing keys select nothing (kube-apiserver evaluates printer columns with
//! missing keys allowed). `range`/`end` templates are not supported.

use serde_json::Value;

/// A parse error: `Display` says what was wrong where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {expr:?}: {message}")]
pub struct JsonPathError {
    pub expr: String,
    pub message: String,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    expr: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    /// `..name` (or `..*` with `None`)
    Recursive(Option<String>),
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Fields(Vec<String>),
    Indices(Vec<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<Step>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Exists(Vec<Step>),
    Cmp(Operand, CmpOp, Operand),
}

struct P<'a> {
    expr: &'a str,
    s: Vec<char>,
    i: usize,
}

impl P<'_> {
    fn err(&self, msg: impl Into<String>) -> JsonPathError {
        JsonPathError {
            expr: self.expr.to_string(),
            message: format!("{} at position {}", msg.into(), self.i),
        }
    }
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    /// Steps until `end(c)` is true (or the end of input).
    fn steps(&mut self, stop: &dyn Fn(char) -> bool) -> Result<Vec<Step>, JsonPathError> {
        let mut steps = Vec::new();
        let mut first = true;
        while let Some(c) = self.peek() {
            if stop(c) {
                break;
            }
            match c {
                '.' => {
                    self.i += 1;
                    if self.eat('.') {
                        if self.eat('*') {
                            steps.push(Step::Recursive(None));
                        } else {
                            let name = self.name();
                            if name.is_empty() {
                                return Err(self.err("expected a field name after '..'"));
                            }
                            steps.push(Step::Recursive(Some(name)));
                        }
                    } else if self.eat('*') {
                        steps.push(Step::Wildcard);
                    } else {
                        let name = self.name();
                        if !name.is_empty() {
                            steps.push(Step::Field(name));
                        } else if !(self.peek().is_none() || self.peek() == Some('[')) {
                            return Err(self.err("expected a field name after '.'"));
                        }
                    }
                }
                '[' => {
                    self.i += 1;
                    steps.push(self.bracket()?);
                }
                c if first && (c.is_alphanumeric() || c == '_' || c == '\\') => {
                    steps.push(Step::Field(self.name()));
                }
                c => return Err(self.err(format!("unexpected character {c:?}"))),
            }
            first = false;
        }
        Ok(steps)
    }

    fn name(&mut self) -> String {
        let mut n = String::new();
        while let Some(c) = self.peek() {
            if c == '\\'
                && let Some(&next) = self.s.get(self.i + 1)
            {
                n.push(next);
                self.i += 2;
                continue;
            }
            if c == '.'
                || c == '['
                || c == ' '
                || c == '}'
                || c == ')'
                || c == '='
                || c == '!'
                || c == '<'
                || c == '>'
            {
                break;
            }
            n.push(c);
            self.i += 1;
        }
        n
    }

    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let q = self.peek().ok_or_else(|| self.err("expected a quote"))?;
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some('\\') => {
                    self.i += 1;
                    if let Some(c) = self.peek() {
                        out.push(match c {
                            'n' => '\n',
                            't' => '\t',
                            c => c,
                        });
                        self.i += 1;
                    }
                }
                Some(c) if c == q => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        self.skip_ws();
        let start = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let t: String = self.s[start..self.i].iter().collect();
        self.skip_ws();
        t.parse().ok()
    }

    fn bracket(&mut self) -> Result<Step, JsonPathError> {
        self.skip_ws();
        let step = match self.peek() {
            Some('*') => {
                self.i += 1;
                Step::Wildcard
            }
            Some('?') => {
                self.i += 1;
                self.skip_ws();
                if !self.eat('(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter()?;
                self.skip_ws();
                if !self.eat(')') {
                    return Err(self.err("expected ')' closing the filter"));
                }
                Step::Filter(Box::new(f))
            }
            Some('\'') | Some('"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.eat(',') {
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 {
                    Step::Field(names.remove(0))
                } else {
                    Step::Fields(names)
                }
            }
            _ => {
                let a = self.int();
                if self.eat(':') {
                    let b = self.int();
                    let c = if self.eat(':') { self.int() } else { None };
                    Step::Slice(a, b, c)
                } else if let Some(a) = a {
                    let mut idx = vec![a];
                    while self.eat(',') {
                        idx.push(self.int().ok_or_else(|| self.err("expected an index"))?);
                    }
                    if idx.len() == 1 {
                        Step::Index(a)
                    } else {
                        Step::Indices(idx)
                    }
                } else {
                    return Err(self.err("expected an index, slice, '*', filter or quoted name"));
                }
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return Err(self.err("expected ']'"));
        }
        Ok(step)
    }

    fn operand(&mut self) -> Result<Operand, JsonPathError> {
        self.skip_ws();
        match self.peek() {
            Some('@') | Some('$') => {
                self.i += 1;
                let stop = |c: char| c == ')' || c == ' ' || "=!<>".contains(c);
                Ok(Operand::Path(self.steps(&stop)?))
            }
            Some('\'') | Some('"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !(c == ')' || c.is_whitespace() || "=!<>".contains(c)))
                {
                    self.i += 1;
                }
                let t: String = self.s[start..self.i].iter().collect();
                if t.is_empty() {
                    return Err(self.err("expected a filter operand"));
                }
                let v: Value = serde_json::from_str(&t)
                    .map_err(|_| self.err(format!("unrecognized filter literal {t:?}")))?;
                Ok(Operand::Literal(v))
            }
        }
    }

    fn filter(&mut self) -> Result<Filter, JsonPathError> {
        let left = self.operand()?;
        self.skip_ws();
        let op = if self.s[self.i..].starts_with(&['=', '=']) {
            self.i += 2;
            Some(CmpOp::Eq)
        } else if self.s[self.i..].starts_with(&['!', '=']) {
            self.i += 2;
            Some(CmpOp::Ne)
        } else if self.s[self.i..].starts_with(&['<', '=']) {
            self.i += 2;
            Some(CmpOp::Le)
        } else if self.s[self.i..].starts_with(&['>', '=']) {
            self.i += 2;
            Some(CmpOp::Ge)
        } else if self.eat('<') {
            Some(CmpOp::Lt)
        } else if self.eat('>') {
            Some(CmpOp::Gt)
        } else if self.eat('=') {
            Some(CmpOp::Eq)
        } else {
            None
        };
        match op {
            None => match left {
                Operand::Path(p) => Ok(Filter::Exists(p)),
                Operand::Literal(_) => Err(self.err("a filter needs a path")),
            },
            Some(op) => {
                let right = self.operand()?;
                Ok(Filter::Cmp(left, op, right))
            }
        }
    }
}

impl JsonPath {
    /// Parse `.a.b`, `{.a.b}`, `$.a.b` or `a.b` (a leading `.` is implied).
    pub fn parse(expr: &str) -> Result<Self, JsonPathError> {
        let mut inner = expr.trim();
        if let Some(s) = inner.strip_prefix('{') {
            inner = s.strip_suffix('}').ok_or_else(|| JsonPathError {
                expr: expr.to_string(),
                message: "unclosed action: missing '}'".into(),
            })?;
            inner = inner.trim();
        }
        if let Some(s) = inner.strip_prefix('$') {
            inner = s;
        }
        let mut p = P {
            expr,
            s: inner.chars().collect(),
            i: 0,
        };
        let steps = p.steps(&|_| false)?;
        Ok(JsonPath {
            expr: expr.to_string(),
            steps,
        })
    }
    /// The source expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }
    /// Every value the path selects, in document order (empty when nothing matches).
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        eval(&self.steps, vec![root], root)
    }
    /// The first selected value.
    pub fn find_first<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.find(root).into_iter().next()
    }
}

fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { len + i } else { i };
    (0..len).contains(&j).then_some(j as usize)
}

fn descendants<'a>(v: &'a Value, name: Option<&str>, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                if name.is_none_or(|n| n == k) {
                    out.push(c);
                }
            }
            for c in m.values() {
                descendants(c, name, out);
            }
        }
        Value::Array(a) => {
            for c in a {
                if name.is_none() {
                    out.push(c);
                }
            }
            for c in a {
                descendants(c, name, out);
            }
        }
        _ => {}
    }
}

fn eval<'a>(steps: &[Step], mut cur: Vec<&'a Value>, root: &'a Value) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                Step::Field(name) => {
                    if let Some(c) = v.get(name.as_str()) {
                        next.push(c);
                    }
                }
                Step::Fields(names) => {
                    for n in names {
                        if let Some(c) = v.get(n.as_str()) {
                            next.push(c);
                        }
                    }
                }
                Step::Wildcard => match v {
                    Value::Object(m) => next.extend(m.values()),
                    Value::Array(a) => next.extend(a.iter()),
                    _ => {}
                },
                Step::Recursive(name) => {
                    if name.is_none() {
                        next.push(v);
                    }
                    descendants(v, name.as_deref(), &mut next);
                }
                Step::Index(i) => {
                    if let Some(a) = v.as_array()
                        && let Some(j) = norm_index(*i, a.len())
                    {
                        next.push(&a[j]);
                    }
                }
                Step::Indices(is) => {
                    if let Some(a) = v.as_array() {
                        for i in is {
                            if let Some(j) = norm_index(*i, a.len()) {
                                next.push(&a[j]);
                            }
                        }
                    }
                }
                Step::Slice(start, end, step_by) => {
                    if let Some(a) = v.as_array() {
                        let len = a.len() as i64;
                        let clamp = |x: i64| -> i64 {
                            let x = if x < 0 { len + x } else { x };
                            x.clamp(0, len)
                        };
                        let s = clamp(start.unwrap_or(0));
                        let e = clamp(end.unwrap_or(len));
                        let st = step_by.unwrap_or(1).max(1);
                        let mut k = s;
                        while k < e {
                            next.push(&a[k as usize]);
                            k += st;
                        }
                    }
                }
                Step::Filter(f) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        Value::Object(m) => m.values().collect(),
                        _ => vec![],
                    };
                    for it in items {
                        if filter_holds(f, it, root) {
                            next.push(it);
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn operand_values<'a>(o: &'a Operand, cur: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    match o {
        Operand::Literal(v) => vec![v],
        Operand::Path(p) => eval(p, vec![cur], root),
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => {
            if a == b {
                Some(Ordering::Equal)
            } else {
                None
            }
        }
    };
    match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn filter_holds(f: &Filter, cur: &Value, root: &Value) -> bool {
    match f {
        Filter::Exists(p) => !eval(p, vec![cur], root).is_empty(),
        Filter::Cmp(l, op, r) => {
            let lv = operand_values(l, cur, root);
            let rv = operand_values(r, cur, root);
            lv.iter().any(|a| rv.iter().any(|b| compare(a, *op, b)))
        }
    }
}

/// Print a selected value as kubectl/kube-apiserver do: strings raw, everything else as
/// compact JSON.
pub fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({
            "metadata": {"name": "w1", "labels": {"app": "web", "app.kubernetes.io/name": "x"}},
            "spec": {"items": [{"name": "a", "n": 1}, {"name": "b", "n": 5}, {"name": "c", "n": 9}]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "False"}
            ]}
        })
    }

    fn find(expr: &str) -> Vec<Value> {
        let o = obj();
        JsonPath::parse(expr)
            .unwrap()
            .find(&o)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn simple_fields_in_every_spelling() {
        assert_eq!(find(".status.phase"), vec![json!("Running")]);
        assert_eq!(find("{.status.phase}"), vec![json!("Running")]);
        assert_eq!(find("$.status.phase"), vec![json!("Running")]);
        assert_eq!(find("status.phase"), vec![json!("Running")]);
        assert_eq!(find(".metadata.labels.app"), vec![json!("web")]);
        assert_eq!(
            find(".metadata.labels['app.kubernetes.io/name']"),
            vec![json!("x")]
        );
        assert_eq!(
            find(r".metadata.labels.app\.kubernetes\.io/name"),
            vec![json!("x")]
        );
    }

    #[test]
    fn missing_paths_select_nothing() {
        assert!(find(".status.missing").is_empty());
        assert!(find(".spec.items[7].name").is_empty());
        assert!(find(".metadata.name.deeper").is_empty());
    }

    #[test]
    fn indices_slices_and_wildcards() {
        assert_eq!(find(".spec.items[0].name"), vec![json!("a")]);
        assert_eq!(find(".spec.items[-1].name"), vec![json!("c")]);
        assert_eq!(find(".spec.items[0:2].name"), vec![json!("a"), json!("b")]);
        assert_eq!(
            find(".spec.items[*].name"),
            vec![json!("a"), json!("b"), json!("c")]
        );
        assert_eq!(find(".spec.items[0,2].n"), vec![json!(1), json!(9)]);
        assert_eq!(
            find("..name"),
            vec![json!("w1"), json!("a"), json!("b"), json!("c")]
        );
        assert_eq!(find(".metadata.labels.*").len(), 2);
    }

    #[test]
    fn filters_select_conditions() {
        assert_eq!(
            find(r#".status.conditions[?(@.type=="Ready")].status"#),
            vec![json!("True")]
        );
        assert_eq!(
            find(".status.conditions[?(@.type == 'Synced')].status"),
            vec![json!("False")]
        );
        assert_eq!(
            find(".spec.items[?(@.n > 3)].name"),
            vec![json!("b"), json!("c")]
        );
        assert_eq!(find(".spec.items[?(@.n<=1)].name"), vec![json!("a")]);
        assert_eq!(
            find(r#".spec.items[?(@.name!="a")].n"#),
            vec![json!(5), json!(9)]
        );
        assert_eq!(find(".status.conditions[?(@.type)].type").len(), 2);
    }

    #[test]
    fn bad_expressions_are_rejected() {
        assert!(JsonPath::parse("{.a.b").is_err());
        assert!(JsonPath::parse(".a[").is_err());
        assert!(JsonPath::parse(".a[?(@.x==)]").is_err());
        assert!(JsonPath::parse(".a[x]").is_err());
    }

    #[test]
    fn values_print_like_kubectl() {
        assert_eq!(format_value(&json!("s")), "s");
        assert_eq!(format_value(&json!(3)), "3");
        assert_eq!(format_value(&json!({"a": [1]})), r#"{"a":[1]}"#);
    }
}
