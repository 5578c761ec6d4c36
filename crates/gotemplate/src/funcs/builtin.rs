//! Go text/template's builtin functions (`and`/`or` are evaluated lazily by the executor).

use super::{Reg, Ty, reg};
use crate::exec::Host;
use crate::gofmt;
use crate::value::Value;

pub(super) fn register(m: &mut Reg) {
    // placeholders so the parser knows them; the executor evaluates them lazily
    reg(m, "and", &[], Some(Ty::Reflect), |_, _| Ok(Value::Nil));
    reg(m, "or", &[], Some(Ty::Reflect), |_, _| Ok(Value::Nil));
    reg(m, "not", &[Ty::Reflect], None, |_, a| {
        Ok(Value::Bool(!a[0].truthy()))
    });
    reg(m, "len", &[Ty::Reflect], None, len);
    reg(m, "index", &[Ty::Reflect], Some(Ty::Reflect), index);
    reg(m, "print", &[], Some(Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprint(a)))
    });
    reg(m, "println", &[], Some(Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprintln(a)))
    });
    reg(m, "printf", &[Ty::Str], Some(Ty::Any), |_, a| {
        Ok(Value::str(gofmt::sprintf(
            a[0].as_str().unwrap_or(""),
            &a[1..],
        )))
    });
    reg(m, "html", &[], Some(Ty::Any), |_, a| {
        Ok(Value::str(html_escape(&eval_args(a))))
    });
    reg(m, "js", &[], Some(Ty::Any), |_, a| {
        Ok(Value::str(js_escape(&eval_args(a))))
    });
    reg(m, "urlquery", &[], Some(Ty::Any), |_, a| {
        Ok(Value::str(query_escape(&eval_args(a))))
    });
    reg(m, "call", &[Ty::Reflect], Some(Ty::Reflect), |_, a| {
        if a[0].is_nil() {
            return Err("call of nil".into());
        }
        Err(format!(
            "non-function {} of type {}",
            gofmt::sprint_value(&a[0]),
            a[0].type_name()
        ))
    });
    reg(m, "eq", &[Ty::Reflect], Some(Ty::Reflect), |_, a| {
        eq(&a[0], &a[1..]).map(Value::Bool)
    });
    reg(m, "ne", &[Ty::Reflect, Ty::Reflect], None, |_, a| {
        eq(&a[0], &a[1..2]).map(|b| Value::Bool(!b))
    });
    reg(m, "lt", &[Ty::Reflect, Ty::Reflect], None, |_, a| {
        less(&a[0], &a[1]).map(Value::Bool)
    });
    reg(m, "le", &[Ty::Reflect, Ty::Reflect], None, |_, a| {
        Ok(Value::Bool(less(&a[0], &a[1])? || eq(&a[0], &a[1..2])?))
    });
    reg(m, "gt", &[Ty::Reflect, Ty::Reflect], None, |_, a| {
        Ok(Value::Bool(!(less(&a[0], &a[1])? || eq(&a[0], &a[1..2])?)))
    });
    reg(m, "ge", &[Ty::Reflect, Ty::Reflect], None, |_, a| {
        Ok(Value::Bool(!less(&a[0], &a[1])?))
    });
}

fn eval_args(a: &[Value]) -> String {
    if a.len() == 1
        && let Value::String(s) = &a[0]
    {
        return s.to_string();
    }
    gofmt::sprint(a)
}

fn len(_: &dyn Host, a: &[Value]) -> Result<Value, String> {
    match &a[0] {
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::Object(o) if o.bytes().is_some() => {
            Ok(Value::Int(o.bytes().map(|b| b.len()).unwrap_or(0) as i64))
        }
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        Value::Nil => Err("len of nil pointer".into()),
        Value::Object(o) if o.entries().is_some() => {
            Ok(Value::Int(o.entries().map(|e| e.len()).unwrap_or(0) as i64))
        }
        v => Err(format!("len of type {}", v.type_name())),
    }
}

fn index(_: &dyn Host, a: &[Value]) -> Result<Value, String> {
    let mut item = a[0].clone();
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    for (n, idx) in a[1..].iter().enumerate() {
        if n > 0 && item.is_nil() {
            return Err("index of nil pointer".into());
        }
        item = match &item {
            Value::List(l) => {
                let i = index_int(idx, l.len())?;
                l[i].clone()
            }
            Value::String(s) => {
                let i = index_int(idx, s.len())?;
                Value::Int(s.as_bytes()[i] as i64)
            }
            Value::Map(m) => match idx {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                v => {
                    return Err(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    ));
                }
            },
            Value::Object(o) if o.entries().is_some() => match idx {
                Value::String(k) => o
                    .entries()
                    .unwrap_or_default()
                    .into_iter()
                    .find(|(ek, _)| ek.as_str() == &**k)
                    .map(|(_, v)| v)
                    .unwrap_or(Value::Nil),
                v => {
                    return Err(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    ));
                }
            },
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

fn index_int(idx: &Value, len: usize) -> Result<usize, String> {
    match idx {
        Value::Int(i) => {
            if *i < 0 || *i as usize >= len {
                return Err(format!("index out of range: {i}"));
            }
            Ok(*i as usize)
        }
        Value::Nil => Err("cannot index slice/array with nil".into()),
        v => Err(format!(
            "cannot index slice/array with type {}",
            v.type_name()
        )),
    }
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        _ => Kind::Invalid,
    }
}

/// Go's `eq`: true when `a` equals any of `bs`.
pub(crate) fn eq(a: &Value, bs: &[Value]) -> Result<bool, String> {
    if bs.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in bs {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !a.is_nil() && !b.is_nil() {
                return Err(format!(
                    "incompatible types for comparison: {} and {}",
                    a.type_name(),
                    b.type_name()
                ));
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                (Value::Nil, _) | (_, Value::Nil) => false,
                (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_)) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(b)),
                        b.type_name()
                    ));
                }
                (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
                _ => {
                    return Err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        gofmt::sprintf("%s", std::slice::from_ref(a)),
                        a.type_name(),
                        b.type_name(),
                        gofmt::sprint_value(b)
                    ));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(crate) fn less(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        ));
    }
    match (a, b) {
        (Value::Bool(_), _) => Err("invalid type for comparison".into()),
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err("invalid type for comparison".into()),
    }
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\0' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x20 || !gofmt::is_print(c) => {
                o.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}
