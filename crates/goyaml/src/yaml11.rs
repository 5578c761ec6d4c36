//! go-yaml v2's YAML 1.1 resolution of untagged plain scalars, as Helm reads every YAML file and
//! `fromYaml` text and kube-apiserver reads YAML bodies: `yes/no/on/off/y/n` are booleans, `~` is
//! null, `0777` octal, `1_000` an int. One resolver for the template engine's `fromYaml`, helm's
//! YAML → JSON and the API server's YAML bodies, so none can read a scalar differently.

/// What a plain scalar resolves to, when it is not a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    /// An integer that fits an `int64` (`strconv.ParseInt(s, 0, 64)`).
    Int(i64),
    /// An integer above `i64::MAX` (`strconv.ParseUint(s, 0, 64)`).
    Uint(u64),
    /// Any other number; NaN and infinities included (`.nan`, `-.inf`).
    Float(f64),
}

impl Scalar {
    /// The number as Helm sees it after its JSON round trip (every number a float64).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(i as f64),
            Scalar::Uint(u) => Some(u as f64),
            Scalar::Float(f) => Some(f),
            Scalar::Null | Scalar::Bool(_) => None,
        }
    }
}

/// go-yaml v2's `resolve` for a plain scalar; `None` means it stays a string.
pub fn resolve_plain(s: &str) -> Option<Scalar> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Scalar::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Some(Scalar::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Some(Scalar::Bool(false));
        }
        ".nan" | ".NaN" | ".NAN" => return Some(Scalar::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Scalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Scalar::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => s.parse::<f64>().ok().map(Scalar::Float),
        b'+' | b'-' | b'0'..=b'9' => {
            if looks_like_timestamp(s) {
                return None;
            }
            // go-yaml drops every underscore before trying the number parsers.
            let plain = s.replace('_', "");
            if let Some(i) = parse_int_base0(&plain) {
                return Some(Scalar::Int(i));
            }
            if let Some(u) = parse_uint_base0(&plain) {
                return Some(Scalar::Uint(u));
            }
            if is_yaml_float(&plain) {
                return plain.parse::<f64>().ok().map(Scalar::Float);
            }
            None
        }
        _ => None,
    }
}

/// A `YYYY-` prefix: go-yaml keeps timestamps as strings when decoding into `interface{}`.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// `strconv.ParseInt(s, 0, 64)` without underscores (go-yaml has removed them): an optional sign,
/// then `0x`/`0o`/`0b` or a leading `0` (octal) picks the base. gotemplate's Go `ParseInt` adds
/// Go's underscore rule on top of this one.
pub fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, t) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(r) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (2, r)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -v } else { v }).ok()
}

/// `strconv.ParseUint(s, 0, 64)` without underscores (go-yaml has removed them): the values
/// above `i64::MAX`, which `ParseInt` refuses.
fn parse_uint_base0(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_does() {
        assert_eq!(resolve_plain("yes"), Some(Scalar::Bool(true)));
        assert_eq!(resolve_plain("Off"), Some(Scalar::Bool(false)));
        assert_eq!(resolve_plain("~"), Some(Scalar::Null));
        assert_eq!(resolve_plain("0777"), Some(Scalar::Int(511)));
        assert_eq!(resolve_plain("1_000"), Some(Scalar::Int(1000)));
        assert_eq!(resolve_plain("-0b101"), Some(Scalar::Int(-5)));
        assert_eq!(
            resolve_plain("0xFFFFFFFFFFFFFFFF"),
            Some(Scalar::Uint(u64::MAX))
        );
        assert_eq!(resolve_plain("08"), Some(Scalar::Float(8.0)));
        assert_eq!(resolve_plain(".5"), Some(Scalar::Float(0.5)));
        assert_eq!(resolve_plain("1e3"), Some(Scalar::Float(1000.0)));
        assert_eq!(resolve_plain("2024-01-01"), None);
        assert_eq!(resolve_plain("1.2.3"), None);
        assert_eq!(resolve_plain("abc"), None);
    }
}
