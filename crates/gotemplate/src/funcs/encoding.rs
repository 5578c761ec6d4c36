//! Encodings and serialisations: base64/base32, hashes, JSON exactly as Go's
//! `encoding/json` writes it, UUIDs, URLs and paths.

use base64::Engine;
use sha1::Digest;

use super::{Reg, Ty, reg, strval};
use crate::gofmt;
use crate::value::Value;

fn bytes(v: &Value) -> Vec<u8> {
    v.string_bytes().map(|b| b.into_owned()).unwrap_or_default()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Go's `encoding/json` float formatting.
pub(crate) fn json_float(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let mut s = gofmt::format_float(f, 'e', -1);
        // e-07 -> e-7
        if let Some(i) = s.find("e-0") {
            s.remove(i + 2);
        } else if let Some(i) = s.find("e+0") {
            s.remove(i + 2);
        }
        s
    } else {
        gofmt::format_float(f, 'f', -1)
    }
}

/// Go's JSON string encoding (`escape_html`: `<`, `>`, `&` as `\u003c` ...).
pub(crate) fn json_string(out: &mut String, x: &str, escape_html: bool) {
    out.push('"');
    for c in x.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` / `json.MarshalIndent(v, "", indent)`. Errors for NaN/Inf as Go does.
pub(crate) fn to_json(
    v: &Value,
    escape_html: bool,
    indent: Option<&str>,
) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, escape_html, indent, 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, level: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(ind);
        }
    }
}

fn write_json(
    out: &mut String,
    v: &Value,
    eh: bool,
    indent: Option<&str>,
    level: usize,
) -> Result<(), String> {
    if level > 1000 {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", gofmt::float_v(*f)));
            }
            out.push_str(&json_float(*f));
        }
        Value::String(x) => json_string(out, x, eh),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_json(out, e, eh, indent, level + 1)?;
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, e)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                json_string(out, k, eh);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, e, eh, indent, level + 1)?;
            }
            newline(out, indent, level);
            out.push('}');
        }
        Value::Object(o) => {
            if let Some(j) = o.to_json() {
                // Struct objects: Go's field order, kept by the JSON value.
                let text = match indent {
                    Some(_) => serde_json::to_string_pretty(&j),
                    None => serde_json::to_string(&j),
                }
                .unwrap_or_default();
                let pad = indent.map(|i| i.repeat(level)).unwrap_or_default();
                out.push_str(&text.replace('\n', &format!("\n{pad}")));
                return Ok(());
            }
            if let Some(l) = o.list() {
                return write_json(out, &Value::list(l), eh, indent, level);
            }
            match o.display() {
                Some(d) => json_string(out, &d, eh),
                None => out.push_str("{}"),
            }
        }
    }
    Ok(())
}

fn from_json_value(x: &str) -> Result<Value, String> {
    let j: serde_json::Value = serde_json::from_str(x).map_err(|e| go_json_error(&e))?;
    Ok(Value::from(j))
}

fn go_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "unexpected end of JSON input".into(),
        _ => format!("invalid character in JSON input: {e}"),
    }
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b32enc(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b32dec(x: &str) -> Result<Vec<u8>, String> {
    let x = x.trim_end_matches('=');
    let mut bits: u64 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for (i, c) in x.bytes().enumerate() {
        let v = B32
            .iter()
            .position(|b| *b == c)
            .ok_or_else(|| format!("illegal base32 data at input byte {i}"))?;
        bits = (bits << 5) | v as u64;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
        }
    }
    Ok(out)
}

fn uuidv4() -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&super::secure_bytes(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Go's `path.Clean`.
pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    path_clean(&p[..i])
}

fn path_ext(p: &str) -> String {
    let base_start = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    match p[base_start..].rfind('.') {
        Some(i) => p[base_start + i..].to_string(),
        None => String::new(),
    }
}

fn url_parse(x: &str) -> Result<Value, String> {
    let mut rest = x;
    let mut m = std::collections::BTreeMap::new();
    let (frag, r) = match rest.split_once('#') {
        Some((a, b)) => (b.to_string(), a),
        None => (String::new(), rest),
    };
    rest = r;
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = cand.to_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let (r, query) = match rest.split_once('?') {
        Some((a, b)) => (a, b.to_string()),
        None => (rest, String::new()),
    };
    rest = r;
    let mut host = String::new();
    let mut userinfo = String::new();
    let mut opaque = String::new();
    let path;
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find('/').unwrap_or(r.len());
        let authority = &r[..end];
        path = r[end..].to_string();
        match authority.rsplit_once('@') {
            Some((u, h)) => {
                userinfo = u.to_string();
                host = h.to_string();
            }
            None => host = authority.to_string(),
        }
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest.to_string();
        path = String::new();
    } else {
        path = rest.to_string();
    }
    let hostname = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("").to_string()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    m.insert("scheme".to_string(), Value::str(scheme));
    m.insert("host".to_string(), Value::str(host));
    m.insert("hostname".to_string(), Value::str(hostname));
    m.insert("path".to_string(), Value::str(path));
    m.insert("query".to_string(), Value::str(query));
    m.insert("opaque".to_string(), Value::str(opaque));
    m.insert("fragment".to_string(), Value::str(frag));
    m.insert("userinfo".to_string(), Value::str(userinfo));
    Ok(Value::map(m))
}

fn url_join(d: &Value) -> String {
    let g = |k: &str| d.get(k).map(|v| strval(&v)).unwrap_or_default();
    let mut out = String::new();
    let scheme = g("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = g("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let host = g("host");
        let user = g("userinfo");
        if !host.is_empty() || !scheme.is_empty() || !user.is_empty() {
            out.push_str("//");
            if !user.is_empty() {
                out.push_str(&user);
                out.push('@');
            }
            out.push_str(&host);
        }
        let path = g("path");
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&path);
    }
    let q = g("query");
    if !q.is_empty() {
        out.push('?');
        out.push_str(&q);
    }
    let f = g("fragment");
    if !f.is_empty() {
        out.push('#');
        out.push_str(&f);
    }
    out
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    let std = base64::engine::general_purpose::STANDARD;
    let _ = std;
    reg(m, "b64enc", &[Str], None, |_, a| {
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(bytes(&a[0])),
        ))
    });
    reg(m, "b64dec", &[Str], None, |_, a| {
        Ok(Value::str(
            match base64::engine::general_purpose::STANDARD.decode(s(&a[0])) {
                Ok(d) => String::from_utf8_lossy(&d).into_owned(),
                Err(e) => go_b64_error(s(&a[0]), &e),
            },
        ))
    });
    reg(m, "b32enc", &[Str], None, |_, a| {
        Ok(Value::str(b32enc(&bytes(&a[0]))))
    });
    reg(m, "b32dec", &[Str], None, |_, a| {
        Ok(Value::str(match b32dec(s(&a[0])) {
            Ok(d) => String::from_utf8_lossy(&d).into_owned(),
            Err(e) => e,
        }))
    });
    reg(m, "sha1sum", &[Str], None, |_, a| {
        Ok(Value::str(hex(&sha1::Sha1::digest(bytes(&a[0])))))
    });
    reg(m, "sha256sum", &[Str], None, |_, a| {
        Ok(Value::str(hex(&sha2::Sha256::digest(bytes(&a[0])))))
    });
    reg(m, "sha512sum", &[Str], None, |_, a| {
        Ok(Value::str(hex(&sha2::Sha512::digest(bytes(&a[0])))))
    });
    reg(m, "adler32sum", &[Str], None, |_, a| {
        Ok(Value::str(adler32(&bytes(&a[0])).to_string()))
    });
    reg(m, "toJson", &[Any], None, |_, a| {
        Ok(Value::str(to_json(&a[0], true, None).unwrap_or_default()))
    });
    reg(m, "mustToJson", &[Any], None, |_, a| {
        Ok(Value::str(to_json(&a[0], true, None)?))
    });
    reg(m, "toPrettyJson", &[Any], None, |_, a| {
        Ok(Value::str(
            to_json(&a[0], true, Some("  ")).unwrap_or_default(),
        ))
    });
    reg(m, "mustToPrettyJson", &[Any], None, |_, a| {
        Ok(Value::str(to_json(&a[0], true, Some("  "))?))
    });
    reg(m, "toRawJson", &[Any], None, |_, a| {
        Ok(Value::str(to_json(&a[0], false, None).unwrap_or_default()))
    });
    reg(m, "mustToRawJson", &[Any], None, |_, a| {
        Ok(Value::str(to_json(&a[0], false, None)?))
    });
    reg(m, "fromJson", &[Str], None, |_, a| {
        Ok(match from_json_value(s(&a[0])) {
            Ok(Value::Map(mm)) => Value::Map(mm),
            Ok(other) => Value::map_from([(
                "Error",
                Value::str(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
            )]),
            Err(e) => Value::map_from([("Error", Value::str(e))]),
        })
    });
    reg(m, "mustFromJson", &[Str], None, |_, a| {
        from_json_value(s(&a[0]))
    });
    reg(m, "fromJsonArray", &[Str], None, |_, a| {
        Ok(match from_json_value(s(&a[0])) {
            Ok(Value::List(l)) => Value::List(l),
            Ok(other) => Value::list(vec![Value::str(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::str(e)]),
        })
    });
    reg(m, "uuidv4", &[], None, |_, _| Ok(Value::str(uuidv4())));
    reg(m, "urlParse", &[Str], None, |_, a| url_parse(s(&a[0])));
    reg(m, "urlJoin", &[Map], None, |_, a| {
        Ok(Value::str(url_join(&a[0])))
    });
    for (name, f) in [
        ("base", path_base as fn(&str) -> String),
        ("osBase", path_base),
        ("dir", path_dir),
        ("osDir", path_dir),
        ("clean", path_clean),
        ("osClean", path_clean),
        ("ext", path_ext),
        ("osExt", path_ext),
    ] {
        let _ = f;
        let nf: super::NativeFn = match name {
            "base" | "osBase" => |_, a| Ok(Value::str(path_base(s(&a[0])))),
            "dir" | "osDir" => |_, a| Ok(Value::str(path_dir(s(&a[0])))),
            "clean" | "osClean" => |_, a| Ok(Value::str(path_clean(s(&a[0])))),
            _ => |_, a| Ok(Value::str(path_ext(s(&a[0])))),
        };
        reg(m, name, &[Str], None, nf);
    }
    reg(m, "isAbs", &[Str], None, |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    reg(m, "osIsAbs", &[Str], None, |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    reg(m, "randBytes", &[Int], None, |_, a| {
        let n = match a[0] {
            Value::Int(n) => n.clamp(0, 1 << 20) as usize,
            _ => 0,
        };
        let b: Vec<u8> = super::secure_bytes(n);
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(b),
        ))
    });
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil => "null",
        _ => "number",
    }
}

/// Go's `illegal base64 data at input byte N`: Go decodes front to back, so a byte outside the
/// alphabet is reported where it stands even when the length is also wrong.
fn go_b64_error(input: &str, e: &base64::DecodeError) -> String {
    let alphabet =
        |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\r' | b'\n');
    if let Some(at) = input.bytes().position(|c| !alphabet(&c)) {
        return format!("illegal base64 data at input byte {at}");
    }
    match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => {
            format!("illegal base64 data at input byte {i}")
        }
        base64::DecodeError::InvalidLength(n) => format!("illegal base64 data at input byte {n}"),
        base64::DecodeError::InvalidPadding => "illegal base64 data at input byte 0".into(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
