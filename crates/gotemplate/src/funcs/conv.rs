//! Conversions (Sprig's `strval`, spf13/cast's `ToInt64`/`ToFloat64`), type
//! inspection, defaults and flow control (`required`, `fail`).

use super::{Reg, Ty, reg};
use crate::gofmt;
use crate::value::Value;

/// Sprig's `strval`: strings as they are, everything else through `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Object(o) if o.bytes().is_some() => {
            String::from_utf8_lossy(&o.bytes().unwrap_or_default()).into_owned()
        }
        v => gofmt::sprint_value(v),
    }
}

fn trim_zero_decimal(s: &str) -> &str {
    // cast's trimZeroDecimal: "1.0" -> "1", "1.00" -> "1"
    if let Some(i) = s.find('.') {
        let (a, b) = s.split_at(i);
        if b[1..].chars().all(|c| c == '0') && !a.is_empty() {
            return a;
        }
    }
    s
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b` or a leading `0` (octal),
/// and `_` between digits (or after a base prefix) as Go's `underscoreOK` allows. The one integer
/// parser of the engine: template number literals, `int`/`int64` (spf13/cast) and YAML ints.
pub(crate) fn parse_int_base0(s: &str) -> Option<i64> {
    if !underscore_ok(s) {
        return None;
    }
    goyaml::yaml11::parse_int_base0(&s.replace('_', ""))
}

/// Go's `strconv.underscoreOK`: every `_` sits between two digits, or between a base prefix
/// (`0x`, `0o`, `0b`) and a digit.
pub(crate) fn underscore_ok(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    // What came last: start, a digit (or base prefix), an underscore, or anything else.
    #[derive(PartialEq)]
    enum Saw {
        Start,
        Digit,
        Underscore,
        Other,
    }
    let mut saw = Saw::Start;
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = Saw::Digit;
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = Saw::Digit;
        } else if c == b'_' {
            if saw != Saw::Digit {
                return false;
            }
            saw = Saw::Underscore;
        } else if saw == Saw::Underscore {
            return false;
        } else {
            saw = Saw::Other;
        }
    }
    saw != Saw::Underscore
}

/// spf13/cast `ToInt64`: numbers truncate, strings parse (base prefixes allowed), errors give 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => {
            if f.is_nan() {
                0
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast `ToFloat64`.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => go_parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the common syntaxes.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let l = s.to_ascii_lowercase();
    match l.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if l.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.contains(['i', 'I', 'n', 'N']) {
        return None;
    }
    if let Some(i) = parse_int_base0(s)
        && (s.starts_with("0x") || s.starts_with("0X"))
    {
        return Some(i as f64);
    }
    if s.contains('_') {
        // Go allows digit separators in float text too, where underscoreOK allows them.
        if !underscore_ok(s) {
            return None;
        }
        return s.replace('_', "").parse::<f64>().ok();
    }
    s.parse::<f64>().ok()
}

/// Sprig's `empty`.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(o) => o.entries().is_some_and(|e| e.is_empty()),
    }
}

/// reflect.DeepEqual on template values.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ptr_eq(y) {
                return true;
            }
            let (ex, ey) = (x.entries(), y.entries());
            ex.len() == ey.len()
                && ex
                    .iter()
                    .zip(ey.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && deep_equal(v1, v2))
        }
        (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// Sprig's `strslice`: lists to strings (nils skipped), scalars to a one-element list.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().filter(|e| !e.is_nil()).map(strval).collect(),
        Value::Nil => vec![],
        v => vec![strval(v)],
    }
}

pub(crate) fn str_list(v: Vec<String>) -> Value {
    Value::list(v.into_iter().map(Value::str).collect())
}

const HELM_ERR_START: &str = "HELM_ERR_START";
const HELM_ERR_END: &str = "HELM_ERR_END";

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "atoi", &[Str], None, |_, a| {
        Ok(Value::Int(
            a[0].as_str().unwrap_or("").parse::<i64>().unwrap_or(0),
        ))
    });
    reg(m, "int", &[Any], None, |_, a| {
        Ok(Value::Int(to_int64(&a[0])))
    });
    reg(m, "int64", &[Any], None, |_, a| {
        Ok(Value::Int(to_int64(&a[0])))
    });
    reg(m, "float64", &[Any], None, |_, a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    reg(m, "toString", &[Any], None, |_, a| {
        Ok(Value::str(strval(&a[0])))
    });
    reg(m, "toStrings", &[Any], None, |_, a| {
        Ok(str_list(strslice(&a[0])))
    });
    reg(m, "toDecimal", &[Any], None, |_, a| {
        let s = strval(&a[0]);
        Ok(Value::Int(i64::from_str_radix(&s, 8).unwrap_or(0)))
    });
    reg(m, "typeOf", &[Any], None, |_, a| {
        Ok(Value::str(a[0].type_name()))
    });
    reg(m, "typeIs", &[Str, Any], None, |_, a| {
        Ok(Value::Bool(
            a[0].as_str() == Some(a[1].type_name().as_str()),
        ))
    });
    reg(m, "typeIsLike", &[Str, Any], None, |_, a| {
        let t = a[1].type_name();
        let target = a[0].as_str().unwrap_or("");
        Ok(Value::Bool(target == t || target == format!("*{t}")))
    });
    reg(m, "kindOf", &[Any], None, |_, a| {
        Ok(Value::str(a[0].kind_name()))
    });
    reg(m, "kindIs", &[Str, Any], None, |_, a| {
        Ok(Value::Bool(a[0].as_str() == Some(a[1].kind_name())))
    });
    reg(m, "deepEqual", &[Any, Any], None, |_, a| {
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
    reg(m, "default", &[Any], Some(Any), |_, a| {
        if a.len() < 2 || is_empty(&a[1]) {
            return Ok(a[0].clone());
        }
        Ok(a[1].clone())
    });
    reg(m, "empty", &[Any], None, |_, a| {
        Ok(Value::Bool(is_empty(&a[0])))
    });
    reg(m, "coalesce", &[], Some(Any), |_, a| {
        Ok(a.iter()
            .find(|v| !is_empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    reg(m, "all", &[], Some(Any), |_, a| {
        Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))
    });
    reg(m, "any", &[], Some(Any), |_, a| {
        Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))
    });
    reg(m, "ternary", &[Any, Any, Bool], None, |_, a| {
        Ok(if matches!(a[2], Value::Bool(true)) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    reg(m, "required", &[Str, Any], None, |_, a| {
        let missing = match &a[1] {
            Value::Nil => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if missing {
            return Err(format!(
                "{HELM_ERR_START}{}{HELM_ERR_END}",
                a[0].as_str().unwrap_or("")
            ));
        }
        Ok(a[1].clone())
    });
    reg(m, "fail", &[Str], None, |_, a| {
        Err(format!(
            "{HELM_ERR_START}{}{HELM_ERR_END}",
            a[0].as_str().unwrap_or("")
        ))
    });
    reg(m, "lookup", &[Str, Str, Str, Str], None, |_, _| {
        Ok(Value::empty_map())
    });
    reg(m, "getHostByName", &[Str], None, |_, _| Ok(Value::str("")));
    reg(m, "hello", &[], None, |_, _| Ok(Value::str("Hello!")));
    reg(m, "include", &[Str, Any], None, |h, a| {
        h.include(a[0].as_str().unwrap_or(""), &a[1])
            .map(Value::str)
    });
    reg(m, "tpl", &[Str, Map], None, |h, a| {
        h.tpl(a[0].as_str().unwrap_or(""), &a[1]).map(Value::str)
    });
}
