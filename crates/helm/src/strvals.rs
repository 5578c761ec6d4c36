//! Helm's `strvals`: the command-line value syntaxes of `--set`, `--set-string`, `--set-json`,
//! `--set-file` (one parser with four value readers, `pkg/strvals/parser.go`) and `--set-literal`
//! (`literal_parser.go`), with Helm's error texts.
//!
//! Keys are paths (`a.b`, `list[0].c`, `\.` escapes a dot); values are read by the [`Mode`]:
//! typed (`true`, `null`, `0`, decimal ints), strings only, one JSON value each, or the contents of
//! the named file. Where Go panics on a type assertion (`--set a=1 --set a.b=2`), the error reads
//! as Helm's recovered panic does (`unable to parse key: interface conversion: ...`).
//!
//! Pure: `--set-file` reads through the caller's reader function.

use serde_json::{Map, Number, Value};

type Values = Map<String, Value>;

const MAX_INDEX: usize = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How values after `=` are read.
pub enum Mode<'a> {
    /// `--set`: `true`/`false`/`null` (any case), `0` and decimal integers are typed.
    Typed,
    /// `--set-string`: every value is a string.
    String,
    /// `--set-json`: each value is one JSON document.
    Json,
    /// `--set-file`: each value is a path; the reader returns the file's contents.
    File(&'a mut dyn FnMut(&str) -> Result<String, String>),
}

/// Parses one expression (`a.b=c,d[0]=1,e={x,y}`) into `base` (`strvals.ParseInto` and friends).
pub fn parse_into(expr: &str, base: &mut Values, mode: &mut Mode<'_>) -> Result<(), String> {
    let mut p = Parser {
        s: expr.chars().collect(),
        pos: 0,
        mode,
        literal: false,
    };
    p.parse(base)
}

/// Parses one `--set-literal` expression: the whole text after the first `=` is the string value.
pub fn parse_literal_into(expr: &str, base: &mut Values) -> Result<(), String> {
    let mut p = Parser {
        s: expr.chars().collect(),
        pos: 0,
        mode: &mut Mode::String,
        literal: true,
    };
    p.parse(base)
}

enum E {
    Eof,
    Msg(String),
}

impl From<String> for E {
    fn from(s: String) -> Self {
        E::Msg(s)
    }
}

struct Parser<'m, 'a> {
    s: Vec<char>,
    pos: usize,
    mode: &'m mut Mode<'a>,
    /// `--set-literal`: no escapes, no `,` separators, no `{..}` lists.
    literal: bool,
}

/// Go's name of a decoded value's type in a failed type assertion's text (`interface {} is nil`
/// for nil, where `%T` prints `<nil>`).
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        v => crate::values::go_type(v),
    }
}

fn assertion_panic(v: &Value, want: &str) -> E {
    E::Msg(format!(
        "unable to parse key: interface conversion: interface {{}} is {}, not {want}",
        go_type(v)
    ))
}

impl Parser<'_, '_> {
    fn parse(&mut self, base: &mut Values) -> Result<(), String> {
        loop {
            match self.key(base, 0) {
                Ok(()) => continue,
                Err(E::Eof) => return Ok(()),
                Err(E::Msg(m)) => return Err(m),
            }
        }
    }

    /// Reads until one of `stop` (consumed, returned) or the end; `\` escapes the next char
    /// (except in literal mode).
    fn runes_until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        while self.pos < self.s.len() {
            let r = self.s[self.pos];
            self.pos += 1;
            if stop.contains(&r) {
                return (v, Some(r));
            }
            if r == '\\' && !self.literal {
                if self.pos < self.s.len() {
                    v.push(self.s[self.pos]);
                    self.pos += 1;
                }
                continue;
            }
            v.push(r);
        }
        (v, None)
    }

    fn key_stops(&self) -> &'static [char] {
        if self.literal {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        }
    }

    fn key(&mut self, data: &mut Values, level: usize) -> Result<(), E> {
        let (k, last) = self.runes_until(self.key_stops());
        match last {
            None if k.is_empty() => Err(E::Eof),
            None => Err(E::Msg(format!("key {k:?} has no value"))),
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| format!("error parsing index: {e}"))?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(other) => return Err(assertion_panic(other, "[]interface {}")),
                };
                let (list, r) = self.list_item(list, i, level);
                set(data, &k, Value::Array(list));
                r
            }
            Some('=') => self.key_value(data, &k),
            Some(',') => {
                set(data, &k, Value::String(String::new()));
                Err(E::Msg(format!(
                    "key {k:?} has no value (cannot end with ,)"
                )))
            }
            Some(_) => {
                // '.'
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(E::Msg(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Object(m)) => m.clone(),
                    Some(other) => return Err(assertion_panic(other, "map[string]interface {}")),
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    return Err(E::Msg(format!("key map {k:?} has no value")));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Object(inner));
                }
                e
            }
        }
    }

    /// The value after `key=`.
    fn key_value(&mut self, data: &mut Values, k: &str) -> Result<(), E> {
        if self.literal {
            let (v, _) = self.runes_until(&[]);
            set(data, k, Value::String(v));
            return Ok(());
        }
        if matches!(self.mode, Mode::Json) {
            let v = self.json_value()?;
            set(data, k, v);
            return Ok(());
        }
        match self.val_list() {
            Ok(vl) => {
                set(data, k, Value::Array(vl));
                Ok(())
            }
            Err(ListErr::Eof) => {
                set(data, k, Value::String(String::new()));
                Err(E::Eof)
            }
            Err(ListErr::NotList) => {
                let (rs, _) = self.runes_until(&[',']);
                match self.read(&rs) {
                    Ok(v) => {
                        set(data, k, v);
                        Ok(())
                    }
                    Err(e) => {
                        set(data, k, Value::Null);
                        Err(E::Msg(e))
                    }
                }
            }
            Err(ListErr::Msg(m)) => Err(E::Msg(m)),
        }
    }

    /// Reads one value with the mode's reader (`typedVal`, string, or file contents).
    fn read(&mut self, rs: &str) -> Result<Value, String> {
        match self.mode {
            Mode::Typed => Ok(typed_val(rs)),
            Mode::String | Mode::Json => Ok(Value::String(rs.to_string())),
            Mode::File(reader) => reader(rs).map(Value::String),
        }
    }

    /// `emptyVal`: skips spaces; true at the end or after a consumed `,`.
    fn empty_val(&mut self) -> bool {
        while self.pos < self.s.len() {
            let r = self.s[self.pos];
            self.pos += 1;
            if r == ',' {
                return true;
            }
            if !r.is_whitespace() {
                self.pos -= 1;
                return false;
            }
        }
        true
    }

    /// One JSON value (Go's `json.Decoder`: numbers become float64), then an optional `,`.
    fn json_value(&mut self) -> Result<Value, E> {
        if self.empty_val() {
            return Ok(Value::Null);
        }
        let rest: String = self.s[self.pos..].iter().collect();
        // Go's decoder ends a top-level number or literal at the first byte that cannot continue
        // it (`a=12x=3` sets a=12 and x=3); serde would refuse the trailing text, so cut it here.
        if let Some(len) = scalar_prefix(&rest) {
            let v: Value = serde_json::from_str(&rest[..len]).map_err(|e| E::Msg(e.to_string()))?;
            self.pos += rest[..len].chars().count();
            self.empty_val();
            return Ok(as_go_json(v));
        }
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        let v = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(E::Msg(e.to_string())),
            None => return Err(E::Msg("unexpected end of JSON input".into())),
        };
        let used = rest[..stream.byte_offset()].chars().count();
        self.pos += used;
        self.empty_val();
        Ok(as_go_json(v))
    }

    fn key_index(&mut self) -> Result<i64, String> {
        let (v, last) = self.runes_until(&[']']);
        if last.is_none() {
            return Err("EOF".to_string());
        }
        go_atoi(&v)
    }

    /// Returns the list as it stands (Helm sets it even when the item fails) and the outcome.
    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> (Vec<Value>, Result<(), E>) {
        let mut list = list;
        let r = self.list_item_inner(&mut list, i, level);
        (list, r)
    }

    fn list_item_inner(&mut self, list: &mut Vec<Value>, i: i64, level: usize) -> Result<(), E> {
        if i < 0 {
            return Err(E::Msg(format!("negative {i} index not allowed")));
        }
        let i = i as usize;
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return Err(E::Msg(format!(
                "unexpected data at end of array index: {}",
                go_quote_runes(&k)
            )));
        }
        match last {
            None => Err(E::Eof),
            Some('=') => {
                let v = self.item_value()?;
                set_index(list, i, v)
            }
            Some('[') => {
                let next = self
                    .key_index()
                    .map_err(|e| format!("error parsing index: {e}"))?;
                let crt = match list.get(i) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(other) => return Err(assertion_panic(other, "[]interface {}")),
                };
                let (l2, r) = self.list_item(crt, next, level);
                r?;
                set_index(list, i, Value::Array(l2))
            }
            Some(_) => {
                let mut inner = match list.get(i) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                self.key(&mut inner, level)?;
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    /// The value after `list[i]=`.
    fn item_value(&mut self) -> Result<Value, E> {
        if self.literal {
            return Ok(Value::String(self.runes_until(&[]).0));
        }
        if matches!(self.mode, Mode::Json) {
            return self.json_value();
        }
        match self.val_list() {
            Ok(vl) => Ok(Value::Array(vl)),
            Err(ListErr::Eof) => Ok(Value::String(String::new())),
            Err(ListErr::NotList) => {
                let (rs, _) = self.runes_until(&[',']);
                self.read(&rs).map_err(E::Msg)
            }
            Err(ListErr::Msg(m)) => Err(E::Msg(m)),
        }
    }

    fn val_list(&mut self) -> Result<Vec<Value>, ListErr> {
        if self.pos >= self.s.len() {
            return Err(ListErr::Eof);
        }
        if self.s[self.pos] != '{' {
            return Err(ListErr::NotList);
        }
        self.pos += 1;
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                None => return Err(ListErr::Msg("list must terminate with '}'".to_string())),
                Some('}') => {
                    if self.pos < self.s.len() && self.s[self.pos] == ',' {
                        self.pos += 1;
                    }
                    list.push(self.read(&rs).map_err(ListErr::Msg)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.read(&rs).map_err(ListErr::Msg)?),
            }
        }
    }
}

enum ListErr {
    Eof,
    NotList,
    Msg(String),
}

fn set(data: &mut Values, key: &str, v: Value) {
    if key.is_empty() {
        return;
    }
    data.insert(key.to_string(), v);
}

fn set_index(list: &mut Vec<Value>, i: usize, v: Value) -> Result<(), E> {
    if i > MAX_INDEX {
        return Err(E::Msg(format!(
            "index of {i} is greater than maximum supported index of {MAX_INDEX}"
        )));
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = v;
    Ok(())
}

/// Go's `%q` of a `[]rune`: each rune single-quoted, space separated, in brackets.
fn go_quote_runes(s: &str) -> String {
    let runes: Vec<String> = s
        .chars()
        .map(|c| match c {
            '\'' => "'\\''".to_string(),
            '\\' => "'\\\\'".to_string(),
            c if c.is_control() => format!("'{}'", c.escape_default()),
            c => format!("'{c}'"),
        })
        .collect();
    format!("[{}]", runes.join(" "))
}

/// Go's `strconv.Atoi` with its error text.
fn go_atoi(s: &str) -> Result<i64, String> {
    go_parse_int10(s).map_err(|range| {
        let why = if range {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing {s:?}: {why}")
    })
}

/// strvals' `typedVal`: true/false/null (any case), `0`, and decimal ints not starting with 0.
pub(crate) fn typed_val(s: &str) -> Value {
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if s == "0" {
        return Value::Number(Number::from(0i64));
    }
    if !s.is_empty()
        && !s.starts_with('0')
        && let Ok(i) = go_parse_int10(s)
    {
        return Value::Number(Number::from(i));
    }
    Value::String(s.to_string())
}

/// `strconv.ParseInt(s, 10, 64)`; the error says whether it was out of range.
fn go_parse_int10(s: &str) -> Result<i64, bool> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    s.parse::<i64>().map_err(|_| true)
}

/// The length of a leading JSON number or `true`/`false`/`null`, as Go's scanner delimits it.
fn scalar_prefix(s: &str) -> Option<usize> {
    for lit in ["true", "false", "null"] {
        if s.starts_with(lit) {
            return Some(lit.len());
        }
    }
    let b = s.as_bytes();
    if !(b.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-')) {
        return None;
    }
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = usize::from(b[0] == b'-');
    i = if b.get(i) == Some(&b'0') {
        i + 1
    } else {
        digits(i)
    };
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i);
    }
    Some(i)
}

/// JSON as Go decodes it into `interface{}`: every number a float64.
pub fn as_go_json(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.into_iter().map(as_go_json).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, as_go_json(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(mode: &mut Mode<'_>, exprs: &[&str]) -> Result<Value, String> {
        let mut m = Map::new();
        for e in exprs {
            parse_into(e, &mut m, mode)?;
        }
        Ok(Value::Object(m))
    }

    #[test]
    fn set_string_keeps_every_value_a_string() {
        let v = run(&mut Mode::String, &["a=true,b=1,c=null,d={1,x}"]).unwrap();
        assert_eq!(
            v,
            json!({"a": "true", "b": "1", "c": "null", "d": ["1", "x"]})
        );
    }

    #[test]
    fn set_json_reads_one_json_value_per_key_as_go_does() {
        let v = run(
            &mut Mode::Json,
            &[r#"a=[1,{"b":2}],c={"d":"e"}, f="x,y",g=,h[1]=true"#],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": [1.0, {"b": 2.0}], "c": {"d": "e"}, " f": "x,y", "g": null, "h": [null, true]})
        );
        assert!(run(&mut Mode::Json, &["a=notjson"]).is_err());
    }

    #[test]
    fn set_file_reads_each_named_file_through_the_reader() {
        let mut reader = |p: &str| -> Result<String, String> {
            if p == "missing" {
                Err(format!("open {p}: no such file or directory"))
            } else {
                Ok(format!("<{p}>"))
            }
        };
        let v = run(&mut Mode::File(&mut reader), &["a=x.txt,b={y,z}"]).unwrap();
        assert_eq!(v, json!({"a": "<x.txt>", "b": ["<y>", "<z>"]}));
        let e = run(&mut Mode::File(&mut reader), &["a=missing"]).unwrap_err();
        assert_eq!(e, "open missing: no such file or directory");
    }

    #[test]
    fn set_literal_takes_the_rest_verbatim() {
        let mut m = Map::new();
        parse_literal_into(r"a.b=x,y={z}\n=1", &mut m).unwrap();
        parse_literal_into("l[1]=v", &mut m).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": {"b": "x,y={z}\\n=1"}, "l": [null, "v"]})
        );
    }

    #[test]
    fn go_type_assertion_failures_read_as_helm_recovered_panics() {
        let e = run(&mut Mode::Typed, &["a=1", "a.b=2"]).unwrap_err();
        assert_eq!(
            e,
            "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"
        );
        let e = run(&mut Mode::Typed, &["a=x", "a[0]=2"]).unwrap_err();
        assert_eq!(
            e,
            "unable to parse key: interface conversion: interface {} is string, not []interface {}"
        );
        let e = run(&mut Mode::Typed, &["a[x]=1"]).unwrap_err();
        assert_eq!(
            e,
            "error parsing index: strconv.Atoi: parsing \"x\": invalid syntax"
        );
    }
}
