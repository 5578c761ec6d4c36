//! YAML as Helm writes and reads it.
//!
//! `toYaml` reproduces sigs.k8s.io/yaml: the value goes through JSON (so
//! integral floats become integers), then go-yaml v2 emits it: keys sorted by
//! go-yaml's natural order, 2-space indentation, sequences at their parent's
//! indentation, go-yaml's quoting rules (strings that would resolve to another
//! type are double-quoted, indicator characters force single quotes),
//! multi-line strings as literal blocks, and plain/quoted scalars folded at 80
//! columns. `fromYaml` reads through JSON as well, so numbers become float64.

use super::{Reg, Ty, reg};
use crate::gofmt;
use crate::value::Value;
use goyaml::yaml11::Scalar;

/// A value after the JSON round trip: what go-yaml sees.
enum Y {
    Null,
    Bool(bool),
    Int(String),
    Float(String),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn to_y(v: &Value, depth: usize) -> Result<Y, String> {
    if depth > 1000 {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    Ok(match v {
        Value::Nil => Y::Null,
        Value::Bool(b) => Y::Bool(*b),
        Value::Int(i) => Y::Int(i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", gofmt::float_v(*f)));
            }
            let j = super::encoding::json_float(*f);
            // go-yaml resolves the JSON number text: integers when it parses as one
            if !j.contains(['.', 'e', 'E']) && j.parse::<u64>().is_ok() {
                Y::Int(j)
            } else {
                let g = gofmt::format_float(j.parse::<f64>().unwrap_or(*f), 'g', -1);
                Y::Float(g)
            }
        }
        Value::String(s) => Y::Str(s.to_string()),
        Value::List(l) => Y::Seq(
            l.iter()
                .map(|e| to_y(e, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let mut entries: Vec<(String, Y)> = Vec::new();
            for (k, e) in m.entries() {
                entries.push((k, to_y(&e, depth + 1)?));
            }
            entries.sort_by(|a, b| {
                if yaml_key_less(&a.0, &b.0) {
                    std::cmp::Ordering::Less
                } else if yaml_key_less(&b.0, &a.0) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            Y::Map(entries)
        }
        Value::Object(o) => match (o.list(), o.to_json(), o.display()) {
            (_, Some(j), _) => to_y(&Value::from(j), depth)?,
            (Some(l), None, _) => to_y(&Value::list(l), depth)?,
            (None, None, Some(d)) => Y::Str(d),
            (None, None, None) => Y::Map(vec![]),
        },
    })
}

/// go-yaml v2 prints only a scanner error's problem, not its context ("while scanning a directive,
/// ..."), and no line when the problem is on the first line (its 0-based line is 0).
fn go_scanner_error(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("yaml: line ") else {
        return msg.to_string();
    };
    let Some((line, text)) = rest.split_once(": ") else {
        return msg.to_string();
    };
    let Some(problem) = text
        .strip_prefix("while scanning ")
        .and_then(|t| t.split_once(", "))
        .map(|(_, p)| p)
    else {
        return msg.to_string();
    };
    if line == "1" {
        format!("yaml: {problem}")
    } else {
        format!("yaml: line {line}: {problem}")
    }
}

/// go-yaml v2's `keyList.Less` for string keys: runs of digits compare numerically,
/// letters sort after non-letters.
pub(crate) fn yaml_key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// What go-yaml v2's `resolve` makes of a plain scalar: true when it stays a string.
fn resolves_to_str(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    let Some(c) = s.chars().next() else {
        return false;
    };
    match c {
        '.' => s.parse::<f64>().is_err() || s.len() < 2,
        '+' | '-' | '0'..='9' => {
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            if super::conv::parse_int_base0(&plain).is_some() {
                return false;
            }
            if plain
                .strip_prefix('-')
                .unwrap_or(&plain)
                .parse::<u64>()
                .is_ok()
                && !plain.starts_with('-')
            {
                return false;
            }
            if goyaml::yaml11::is_yaml_float(&plain) {
                return false;
            }
            if let Some(b) = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"))
                && !b.is_empty()
                && b.chars().all(|c| c == '0' || c == '1')
            {
                return false;
            }
            if is_timestamp(s) {
                return false;
            }
            true
        }
        _ => true,
    }
}

/// go-yaml's timestamp formats: `2006-1-2T15:4:5.999999999Z07:00`, `2006-1-2t...`,
/// `2006-1-2 15:4:5.999999999`, `2006-1-2`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // must start with 4 digits and '-'
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let num = |i: &mut usize, max: usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        *i - st
    };
    let mut i = 5;
    if num(&mut i, 2) == 0 || i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    if num(&mut i, 2) == 0 {
        return false;
    }
    if i == b.len() {
        return true;
    }
    if !(b[i] == b'T' || b[i] == b't' || b[i] == b' ') {
        return false;
    }
    i += 1;
    for k in 0..3 {
        if num(&mut i, 2) == 0 {
            return false;
        }
        if k < 2 {
            if i >= b.len() || b[i] != b':' {
                return false;
            }
            i += 1;
        }
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if num(&mut i, 9) == 0 {
            return false;
        }
    }
    if i == b.len() {
        return true;
    }
    if b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
        if num(&mut i, 2) != 2 || i >= b.len() || b[i] != b':' {
            return false;
        }
        i += 1;
        return num(&mut i, 2) == 2 && i == b.len();
    }
    false
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        let n = i - st;
        if n == 0 || (n == 2 && b[st] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable_yaml(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || u == 0x85
        || ((0xA0..=0xD7FF).contains(&u))
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

#[allow(clippy::collapsible_match)]
fn analyze(v: &str) -> Analysis {
    if v.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let chars: Vec<char> = v.chars().collect();
    let (mut flow_ind, mut block_ind) = (false, false);
    if v.starts_with("---") || v.starts_with("...") {
        flow_ind = true;
        block_ind = true;
    }
    let mut preceded_ws = true;
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let followed_ws =
            i + 1 >= n || chars[i + 1] == ' ' || chars[i + 1] == '\t' || is_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '-' => {
                    if followed_ws {
                        flow_ind = true;
                        block_ind = true;
                    }
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                '#' => {
                    if preceded_ws {
                        flow_ind = true;
                        block_ind = true;
                    }
                }
                _ => {}
            }
        }
        if !is_printable_yaml(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let _ = flow_ind;
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.block_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

fn choose_style(s: &str, simple_key: bool) -> Style {
    let can_plain = resolves_to_str(s) && !is_base60_float(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    if style == Style::Plain {
        if !a.block_plain || (s.is_empty() && simple_key) {
            style = Style::Single;
        }
        if simple_key && a.multiline {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

struct Emitter {
    out: String,
    column: usize,
    width: usize,
    seq_indent: bool,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }
    fn put_char(&mut self, c: char) {
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
        self.out.push(c);
    }
    fn newline_indent(&mut self, indent: usize) {
        self.put_char('\n');
        for _ in 0..indent {
            self.put_char(' ');
        }
    }

    /// Writes a scalar string after the current position; `indent` is where
    /// continuation lines and block content go.
    fn scalar(&mut self, s: &str, indent: usize, simple_key: bool) {
        let style = choose_style(s, simple_key);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => {
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > self.width
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        self.put_char(c);
                        spaces = false;
                    }
                }
            }
            Style::Single => {
                self.put_char('\'');
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                let n = chars.len();
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > self.width
                            && i != 0
                            && i != n - 1
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        if c == '\'' {
                            self.put_char('\'');
                        }
                        self.put_char(c);
                        spaces = false;
                    }
                }
                self.put_char('\'');
            }
            Style::Double => {
                self.put_char('"');
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if !is_printable_yaml(c)
                        || c == '\u{FEFF}'
                        || is_break(c)
                        || c == '"'
                        || c == '\\'
                    {
                        let e = match c {
                            '\0' => "\\0".to_string(),
                            '\x07' => "\\a".into(),
                            '\x08' => "\\b".into(),
                            '\t' => "\\t".into(),
                            '\n' => "\\n".into(),
                            '\x0b' => "\\v".into(),
                            '\x0c' => "\\f".into(),
                            '\r' => "\\r".into(),
                            '\x1b' => "\\e".into(),
                            '"' => "\\\"".into(),
                            '\\' => "\\\\".into(),
                            '\u{85}' => "\\N".into(),
                            '\u{A0}' => "\\_".into(),
                            '\u{2028}' => "\\L".into(),
                            '\u{2029}' => "\\P".into(),
                            c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                            c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                            c => format!("\\U{:08X}", c as u32),
                        };
                        self.put(&e);
                        spaces = false;
                    } else if c == ' ' {
                        if allow_breaks && !spaces && self.column > self.width && i > 0 && i < n - 1
                        {
                            self.newline_indent(indent);
                            if chars.get(i + 1) == Some(&' ') {
                                self.put_char('\\');
                            }
                        } else {
                            self.put_char(c);
                        }
                        spaces = true;
                    } else {
                        self.put_char(c);
                        spaces = false;
                    }
                }
                self.put_char('"');
            }
            Style::Literal => {
                self.put_char('|');
                let first = s.chars().next().unwrap_or('x');
                if first == ' ' || is_break(first) {
                    self.put("2");
                }
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len();
                let chomp = if n == 0 || !is_break(chars[n - 1]) {
                    "-"
                } else if n == 1 || is_break(chars[n - 2]) {
                    "+"
                } else {
                    ""
                };
                self.put(chomp);
                // content
                let mut breaks = true;
                self.put_char('\n');
                for &c in &chars {
                    if is_break(c) {
                        self.put_char('\n');
                        breaks = true;
                    } else {
                        if breaks {
                            for _ in 0..indent {
                                self.put_char(' ');
                            }
                            breaks = false;
                        }
                        self.put_char(c);
                    }
                }
                // the literal block ends the line itself; drop a final newline we would double
                if self.out.ends_with('\n') {
                    self.out.pop();
                    self.column = self.out.len() - self.out.rfind('\n').map(|i| i + 1).unwrap_or(0);
                }
            }
        }
    }

    fn node(&mut self, y: &Y, indent: usize) {
        match y {
            Y::Null => self.put("null"),
            Y::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Y::Int(s) | Y::Float(s) => self.put(s),
            Y::Str(s) => self.scalar(s, indent, false),
            Y::Seq(l) if l.is_empty() => self.put("[]"),
            Y::Map(m) if m.is_empty() => self.put("{}"),
            _ => {}
        }
    }

    /// A block collection starting at the beginning of a line at `indent`,
    /// or inline after "- " when `inline` is set.
    fn block(&mut self, y: &Y, indent: usize, inline: bool) {
        match y {
            Y::Map(m) if !m.is_empty() => {
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 || !inline {
                        if !(i == 0 && self.column == 0 && self.out.is_empty()) {
                            self.newline_indent(indent);
                        } else {
                            for _ in 0..indent {
                                self.put_char(' ');
                            }
                        }
                    }
                    self.scalar(k, indent, true);
                    self.put_char(':');
                    self.value_after_key(v, indent);
                }
            }
            Y::Seq(l) if !l.is_empty() => {
                for (i, v) in l.iter().enumerate() {
                    if i > 0 || !inline {
                        if !(i == 0 && self.column == 0 && self.out.is_empty()) {
                            self.newline_indent(indent);
                        } else {
                            for _ in 0..indent {
                                self.put_char(' ');
                            }
                        }
                    }
                    self.put("- ");
                    match v {
                        Y::Map(m) if !m.is_empty() => self.block(v, indent + 2, true),
                        Y::Seq(s) if !s.is_empty() => self.block(v, indent + 2, true),
                        _ => self.node(v, indent + 2),
                    }
                }
            }
            other => self.node(other, indent),
        }
    }

    fn value_after_key(&mut self, v: &Y, indent: usize) {
        match v {
            Y::Map(m) if !m.is_empty() => self.block(v, indent + 2, false),
            Y::Seq(s) if !s.is_empty() => {
                let ind = if self.seq_indent { indent + 2 } else { indent };
                self.block(v, ind, false)
            }
            _ => {
                self.put_char(' ');
                self.node(v, indent + 2);
            }
        }
    }
}

/// go-yaml v2 output for a value (through JSON), with its final newline.
pub(crate) fn to_yaml(v: &Value, seq_indent: bool, width: usize) -> Result<String, String> {
    let y = to_y(v, 0)?;
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        width,
        seq_indent,
    };
    match &y {
        Y::Map(m) if !m.is_empty() => e.block(&y, 0, false),
        Y::Seq(s) if !s.is_empty() => e.block(&y, 0, false),
        other => e.node(other, 2),
    }
    e.out.push('\n');
    Ok(e.out)
}

/// Parses YAML as sigs.k8s.io/yaml does: go-yaml v2's YAML 1.1 resolution of
/// plain scalars (`yes`/`on` are booleans, `0777` is octal, timestamps stay
/// strings), merge keys, then JSON semantics (numbers become float64, keys
/// strings). Only the first document is read.
/// Loading goes through `goyaml`'s bounded loader, so an alias bomb is refused (go-yaml's
/// "document contains excessive aliasing") before it is expanded.
pub(crate) fn from_yaml(s: &str) -> Result<Value, String> {
    let mut loader = Loader::default();
    goyaml::load(s, &mut loader).map_err(|e| {
        format!(
            "error converting YAML to JSON: {}",
            go_scanner_error(&e.to_string())
        )
    })?;
    if let Some(e) = loader.error {
        return Err(e);
    }
    Ok(loader.doc.unwrap_or(Value::Nil))
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map {
        entries: std::collections::BTreeMap<String, Value>,
        explicit: std::collections::HashSet<String>,
        key: Option<(String, bool)>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Loader {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Value>,
    doc: Option<Value>,
    done: bool,
    error: Option<String>,
}

impl Loader {
    fn push_value(&mut self, v: Value, anchor: usize, merge_candidate: bool) {
        if anchor > 0 {
            self.anchors.insert(anchor, v.clone());
        }
        match self.stack.last_mut() {
            None => {
                if !self.done {
                    self.doc = Some(v);
                    self.done = true;
                }
            }
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map {
                entries,
                explicit,
                key,
                ..
            }) => match key.take() {
                None => {
                    let k = json_key(&v);
                    *key = Some((k, merge_candidate));
                }
                Some((k, is_merge)) => {
                    if is_merge && k == "<<" {
                        let maps: Vec<Value> = match &v {
                            Value::List(l) => l.iter().cloned().collect(),
                            other => vec![other.clone()],
                        };
                        for m in maps {
                            if let Value::Map(m) = m {
                                for (mk, mv) in m.entries() {
                                    if !explicit.contains(&mk) && !entries.contains_key(&mk) {
                                        entries.insert(mk, mv);
                                    }
                                }
                            }
                        }
                    } else {
                        explicit.insert(k.clone());
                        entries.insert(k, v);
                    }
                }
            },
        }
    }
}

fn json_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => gofmt::float_v(*f),
        Value::Int(i) => i.to_string(),
        other => gofmt::sprint_value(other),
    }
}

/// go-yaml v2's `resolve` for a plain scalar, as a template value (numbers are float64).
fn resolve_plain(s: &str) -> Value {
    match goyaml::yaml11::resolve_plain(s) {
        Some(Scalar::Null) => Value::Nil,
        Some(Scalar::Bool(b)) => Value::Bool(b),
        Some(n) => Value::Float(n.as_f64().unwrap_or_default()),
        None => Value::str(s),
    }
}

impl goyaml::Receiver for Loader {
    fn event(&mut self, ev: goyaml::Event) {
        use goyaml::{Event, TScalarStyle};
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == TScalarStyle::Plain;
                let v = match (&tag, plain) {
                    (Some(t), _) if t.suffix == "str" => Value::str(text.as_str()),
                    (Some(t), _)
                        if t.suffix == "int"
                            || t.suffix == "float"
                            || t.suffix == "bool"
                            || t.suffix == "null" =>
                    {
                        resolve_plain(&text)
                    }
                    (_, true) => resolve_plain(&text),
                    _ => Value::str(text.as_str()),
                };
                self.push_value(v, anchor, plain);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, anchor)) = self.stack.pop() {
                    self.push_value(Value::list(items), anchor, false);
                }
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Default::default(),
                explicit: Default::default(),
                key: None,
                anchor,
            }),
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    entries, anchor, ..
                }) = self.stack.pop()
                {
                    self.push_value(Value::map(entries), anchor, false);
                }
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().unwrap_or(Value::Nil);
                self.push_value(v, 0, false);
            }
            _ => {}
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "toYaml", &[Any], None, |_, a| {
        Ok(Value::str(
            to_yaml(&a[0], false, 80)
                .map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string())
                .unwrap_or_default(),
        ))
    });
    reg(m, "mustToYaml", &[Any], None, |_, a| {
        Ok(Value::str(
            to_yaml(&a[0], false, 80).map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string())?,
        ))
    });
    reg(m, "toYamlPretty", &[Any], None, |_, a| {
        Ok(Value::str(
            to_yaml(&a[0], true, usize::MAX)
                .map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string())
                .unwrap_or_default(),
        ))
    });
    reg(m, "fromYaml", &[Str], None, |_, a| {
        Ok(match from_yaml(s(&a[0])) {
            Ok(Value::Map(mm)) => Value::Map(mm),
            Ok(Value::Nil) => Value::empty_map(),
            Ok(other) => Value::map_from([(
                "Error",
                Value::str(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    kind(&other)
                )),
            )]),
            Err(e) => Value::map_from([("Error", Value::str(e))]),
        })
    });
    reg(m, "fromYamlArray", &[Str], None, |_, a| {
        Ok(match from_yaml(s(&a[0])) {
            Ok(Value::List(l)) => Value::List(l),
            Ok(Value::Nil) => Value::list(vec![]),
            Ok(other) => Value::list(vec![Value::str(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::str(e)]),
        })
    });
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        _ => "number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(v: serde_json::Value) -> String {
        to_yaml(&Value::from(v), false, 80).unwrap()
    }

    #[test]
    fn from_yaml_refuses_an_alias_bomb_before_expanding_it() {
        let mut s = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            s.push_str(&format!(
                "{n}: &{n} [{}]\n",
                vec![format!("*{p}"); 9].join(", ")
            ));
        }
        assert_eq!(
            from_yaml(&s).unwrap_err(),
            "error converting YAML to JSON: yaml: document contains excessive aliasing"
        );
        // Ordinary anchors still work.
        let v = from_yaml("a: &x {k: 1}\nb: *x\n").unwrap();
        assert_eq!(v.to_json()["b"]["k"], 1.0);
    }

    #[test]
    fn to_yaml_matches_go_yaml_v2_layout() {
        let v = serde_json::json!({"b": [1, {"x": "y", "a": true}], "a": {"c": null, "d": []}, "e": {}});
        assert_eq!(
            y(v),
            "a:\n  c: null\n  d: []\nb:\n- 1\n- a: true\n  x: \"y\"\ne: {}\n"
        );
    }

    #[test]
    fn to_yaml_quotes_like_go_yaml() {
        let v = serde_json::json!({"a": "true", "b": "1.5", "c": "", "d": "*x", "e": "a: b", "f": "yes", "g": "hello world", "h": "012", "i": "2024-01-01", "j": "12:30", "k": "a\tb"});
        assert_eq!(
            y(v),
            "a: \"true\"\nb: \"1.5\"\nc: \"\"\nd: '*x'\ne: 'a: b'\nf: \"yes\"\ng: hello world\nh: \"012\"\ni: \"2024-01-01\"\nj: \"12:30\"\nk: \"a\\tb\"\n"
        );
    }

    #[test]
    fn to_yaml_writes_multiline_as_literal_blocks() {
        let v = serde_json::json!({"a": "x\ny", "b": "x\n", "c": ["p\nq"]});
        assert_eq!(y(v), "a: |-\n  x\n  y\nb: |\n  x\nc:\n- |-\n  p\n  q\n");
    }

    #[test]
    fn to_yaml_numbers_go_through_json() {
        let v = Value::map_from([
            ("a", Value::Float(8080.0)),
            ("b", Value::Float(1.5)),
            ("c", Value::Float(1e21)),
            ("d", Value::Int(3)),
            ("e", Value::Float(0.000001)),
        ]);
        assert_eq!(
            to_yaml(&v, false, 80).unwrap(),
            "a: 8080\nb: 1.5\nc: 1e+21\nd: 3\ne: 1e-06\n"
        );
    }

    #[test]
    fn yaml_key_order_is_natural() {
        assert!(yaml_key_less("a2", "a10"));
        assert!(yaml_key_less("_x", "Ax"));
        assert!(yaml_key_less("B", "a"));
    }

    #[test]
    fn long_plain_strings_fold_at_80_columns() {
        let long = "word ".repeat(30).trim_end().to_string();
        let out = y(serde_json::json!({ "k": long }));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        assert!(lines[1].starts_with("  word"));
    }
}
