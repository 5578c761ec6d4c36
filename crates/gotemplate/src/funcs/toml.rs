//! Helm's `toToml` (BurntSushi/toml's encoder layout: scalars and plain arrays
//! first, then `[table]` sections indented two spaces per level, `[[array]]`
//! tables, sorted keys, floats always with a decimal point).
//! `fromToml` parses with `toml` (TOML 1.0) into what BurntSushi/toml decodes into
//! `map[string]interface{}`: integers `int64`, floats `float64`, arrays, tables; on a parse error
//! it returns `{"Error": <message>}` as Helm does (the message is toml-rs' own, not BurntSushi's
//! wording). Datetimes become their TOML text (Go would hold a `time.Time`).

use super::{Reg, Ty, reg};
use crate::value::Value;

fn bare(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key(k: &str) -> String {
    if bare(k) { k.to_string() } else { quote(k) }
}

fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                o.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(l) if !l.is_empty() && l.iter().all(is_table))
}

fn scalar(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    "inf".into()
                } else {
                    "-inf".into()
                }
            } else {
                let s = crate::gofmt::format_float(*f, 'f', -1);
                if s.contains('.') { s } else { format!("{s}.0") }
            }
        }
        Value::String(s) => quote(s),
        Value::List(l) => {
            let parts: Result<Vec<String>, String> =
                l.iter().filter(|e| !e.is_nil()).map(scalar).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Map(m) => {
            let parts: Result<Vec<String>, String> = m
                .entries()
                .iter()
                .filter(|(_, e)| !e.is_nil())
                .map(|(k, e)| Ok(format!("{} = {}", key(k), scalar(e)?)))
                .collect();
            format!("{{{}}}", parts?.join(", "))
        }
        Value::Object(o) => quote(&o.display().unwrap_or_default()),
        Value::Nil => return Err("toml: cannot encode a nil value".into()),
    })
}

fn table(out: &mut String, path: &[String], v: &Value) -> Result<(), String> {
    let Value::Map(m) = v else { return Ok(()) };
    let entries = m.entries();
    let indent = "  ".repeat(path.len());
    for (k, e) in &entries {
        if e.is_nil() || is_table(e) || is_table_array(e) {
            continue;
        }
        out.push_str(&format!("{indent}{} = {}\n", key(k), scalar(e)?));
    }
    for (k, e) in &entries {
        let mut p = path.to_vec();
        p.push(key(k));
        if is_table(e) {
            let ind = "  ".repeat(p.len() - 1);
            // BurntSushi/toml puts a blank line before top-level tables only
            let nl = if p.len() == 1 { "\n" } else { "" };
            out.push_str(&format!("{nl}{ind}[{}]\n", p.join(".")));
            table(out, &p, e)?;
        } else if is_table_array(e) {
            let ind = "  ".repeat(p.len() - 1);
            for item in e.as_list().unwrap_or(&[]) {
                out.push_str(&format!("\n{ind}[[{}]]\n", p.join(".")));
                table(out, &p, item)?;
            }
        }
    }
    Ok(())
}

/// Encodes a map as TOML; errors read as Helm prints them in the output.
pub(crate) fn to_toml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Map(_) => match table(&mut out, &[], v) {
            Ok(()) => out.strip_prefix('\n').map(String::from).unwrap_or(out),
            Err(e) => e,
        },
        other => format!(
            "toml: top-level values must be Go maps or structs, not {}",
            other.kind_name()
        ),
    }
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "toToml", &[Any], None, |_, a| {
        Ok(Value::str(to_toml(&a[0])))
    });
    reg(m, "fromToml", &[Str], None, |_, a| {
        Ok(from_toml(a[0].as_str().unwrap_or("")))
    });
}

/// Helm's `fromToml`: the document as a map, or `{"Error": message}`.
pub(crate) fn from_toml(text: &str) -> Value {
    match text.parse::<toml::Table>() {
        Ok(t) => toml_table(t),
        Err(e) => Value::map_from([("Error", Value::str(e.message().to_string()))]),
    }
}

fn toml_table(t: toml::Table) -> Value {
    Value::map(t.into_iter().map(|(k, v)| (k, toml_value(v))).collect())
}

fn toml_value(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::str(d.to_string()),
        toml::Value::Array(a) => Value::list(a.into_iter().map(toml_value).collect()),
        toml::Value::Table(t) => toml_table(t),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn from_toml_decodes_as_burntsushi_into_go_types() {
        let v = super::from_toml("a = 1\nb = \"x\"\n[t]\nc = [1, 2]\nd = 1.5\n");
        assert_eq!(
            v.to_json(),
            serde_json::json!({"a": 1, "b": "x", "t": {"c": [1, 2], "d": 1.5}})
        );
        assert!(super::from_toml("a = ").get("Error").is_some());
    }

    use super::*;

    #[test]
    fn tables_follow_scalars_and_indent() {
        let v = Value::from(
            serde_json::json!({"b": {"c": 1, "d": {"e": "x"}}, "a": 8080, "l": [1, 2], "s": "q\""}),
        );
        assert_eq!(
            to_toml(&v),
            "a = 8080.0\nl = [1.0, 2.0]\ns = \"q\\\"\"\n\n[b]\n  c = 1.0\n  [b.d]\n    e = \"x\"\n"
        );
    }
}
