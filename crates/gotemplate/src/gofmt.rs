//! Go's `fmt` package as far as templates reach it: `%v` printing of every
//! value kind, `Sprint`/`Sprintln`/`Sprintf` with the verbs, flags, width and
//! precision Go supports, and `strconv`'s float formatting and quoting.

use crate::value::Value;

/// `strconv.FormatFloat(f, fmt, prec, 64)`; `prec < 0` means the shortest
/// representation that round-trips.
pub fn format_float(f: f64, fmt: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative() && f != 0.0 || (f == 0.0 && f.is_sign_negative());
    let a = f.abs();
    let body = match fmt {
        'e' | 'E' => {
            let (digits, dp) = if prec < 0 {
                shortest(a)
            } else {
                rounded(a, prec as usize + 1)
            };
            let p = if prec < 0 {
                digits.len().saturating_sub(1)
            } else {
                prec as usize
            };
            fmt_e(&digits, dp, p, fmt)
        }
        'f' | 'F' => {
            if prec < 0 {
                let (digits, dp) = shortest(a);
                let p = (digits.len() as i32 - dp).max(0) as usize;
                fmt_f(&digits, dp, p)
            } else {
                format!("{:.*}", prec as usize, a)
            }
        }
        _ => {
            // 'g' / 'G'
            let shortest_mode = prec < 0;
            let (digits, dp, mut p) = if shortest_mode {
                let (d, dp) = shortest(a);
                let n = d.len();
                (d, dp, n)
            } else {
                let p = if prec == 0 { 1 } else { prec as usize };
                let (d, dp) = rounded(a, p);
                (d, dp, p)
            };
            let nd = digits.len();
            let mut eprec = p as i32;
            if eprec > nd as i32 && nd as i32 >= dp {
                eprec = nd as i32;
            }
            if shortest_mode {
                eprec = 6;
            }
            let exp = dp - 1;
            let e = if fmt == 'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&digits, dp, p.saturating_sub(1), e)
            } else {
                if p as i32 > dp {
                    p = nd;
                }
                fmt_f(&digits, dp, (p as i32 - dp).max(0) as usize)
            }
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// Shortest round-trip decimal digits (no trailing zeros) and the decimal point position.
fn shortest(a: f64) -> (Vec<u8>, i32) {
    if a == 0.0 {
        return (vec![b'0'], 1);
    }
    let s = format!("{a:e}");
    parse_e(&s)
}

/// Digits rounded to `n` significant digits, trailing zeros trimmed.
fn rounded(a: f64, n: usize) -> (Vec<u8>, i32) {
    if a == 0.0 {
        return (vec![b'0'], 1);
    }
    let s = format!("{:.*e}", n.saturating_sub(1), a);
    let (mut d, dp) = parse_e(&s);
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    (d, dp)
}

fn parse_e(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

fn fmt_e(digits: &[u8], dp: i32, prec: usize, e: char) -> String {
    let mut s = String::new();
    s.push(digits.first().copied().unwrap_or(b'0') as char);
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(digits.get(i).copied().unwrap_or(b'0') as char);
        }
    }
    let exp = if digits == [b'0'] { 0 } else { dp - 1 };
    s.push(e);
    s.push(if exp < 0 { '-' } else { '+' });
    let ea = exp.abs();
    if ea < 10 {
        s.push('0');
    }
    s.push_str(&ea.to_string());
    s
}

fn fmt_f(digits: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(digits.get(i).copied().unwrap_or(b'0') as char);
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec {
            let idx = dp + i as i32;
            let c = if idx < 0 {
                b'0'
            } else {
                digits.get(idx as usize).copied().unwrap_or(b'0')
            };
            s.push(c as char);
        }
    }
    s
}

/// Go's `%v` of a float64.
pub fn float_v(f: f64) -> String {
    format_float(f, 'g', -1)
}

/// `fmt.Sprint` of a single value (`%v`).
pub fn sprint_value(v: &Value) -> String {
    let mut s = String::new();
    write_v(&mut s, v, 0);
    s
}

fn write_v(out: &mut String, v: &Value, depth: usize) {
    if depth > 100 {
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_v(*f)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, e, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, e)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, e, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => match (o.display(), o.entries()) {
            _ if o.bytes().is_some() => {
                out.push_str(&String::from_utf8_lossy(&o.bytes().unwrap_or_default()))
            }
            (Some(s), _) => out.push_str(&s),
            (None, Some(e)) => write_v(out, &Value::map(e.into_iter().collect()), depth),
            _ => out.push_str("{}"),
        },
    }
}

fn is_stringish(v: &Value) -> bool {
    matches!(v, Value::String(_))
}

/// `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = is_stringish(a);
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_v(&mut out, a, 0);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln(args...)`.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a, 0);
    }
    out.push('\n');
    out
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !is_print(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` for quoting.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !((0xfff9..=0xfffb).contains(&u)
        || (0xe000..=0xf8ff).contains(&u)
        || u == 0xad
        || (0x200b..=0x200f).contains(&u)
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x206f).contains(&u)
        || u == 0xfeff)
}

fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Flags {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, fl: &Flags, numeric: bool) {
    let w = match fl.width {
        Some(w) => w,
        None => {
            out.push_str(s);
            return;
        }
    };
    let n = s.chars().count();
    if n >= w {
        out.push_str(s);
        return;
    }
    let fill = w - n;
    if fl.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if fl.zero {
        if numeric && (s.starts_with('-') || s.starts_with('+') || s.starts_with(' ')) {
            out.push_str(&s[..1]);
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(&s[1..]);
        } else {
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(s);
        }
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn fmt_int(out: &mut String, i: i64, verb: char, fl: &Flags) {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => u.to_string(),
        'x' => format!("{u:x}"),
        'X' => format!("{u:X}"),
        'o' | 'O' => format!("{u:o}"),
        'b' => format!("{u:b}"),
        _ => u.to_string(),
    };
    if let Some(p) = fl.prec {
        if p == 0 && u == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match verb {
        'x' if fl.sharp => "0x",
        'X' if fl.sharp => "0X",
        'o' if fl.sharp => "0",
        'O' => "0o",
        'b' if fl.sharp => "0b",
        _ => "",
    };
    let sign = if neg {
        "-"
    } else if fl.plus {
        "+"
    } else if fl.space {
        " "
    } else {
        ""
    };
    let s = format!("{sign}{prefix}{digits}");
    let mut f2 = *fl;
    if fl.prec.is_some() {
        f2.zero = false;
    }
    pad(out, &s, &f2, true);
}

fn fmt_float(out: &mut String, f: f64, verb: char, fl: &Flags) {
    let prec = fl.prec.map(|p| p as i32);
    let mut s = match verb {
        'v' | 'g' => format_float(f, 'g', prec.unwrap_or(-1)),
        'G' => format_float(f, 'G', prec.unwrap_or(-1)),
        'e' | 'E' => format_float(f, verb, prec.unwrap_or(6)),
        'f' | 'F' => format_float(f, 'f', prec.unwrap_or(6)),
        'x' | 'X' if f.is_finite() => hex_float(f, prec.unwrap_or(-1), verb == 'X'),
        _ => format_float(f, 'g', -1),
    };
    if f.is_infinite() || f.is_nan() {
        if s == "+Inf" && !fl.plus {
            s = if fl.space {
                " Inf".into()
            } else {
                "Inf".into()
            };
        }
        let mut f2 = *fl;
        f2.zero = false;
        pad(out, &s, &f2, true);
        return;
    }
    if fl.plus && !s.starts_with('-') {
        s.insert(0, '+');
    } else if fl.space && !s.starts_with('-') {
        s.insert(0, ' ');
    }
    pad(out, &s, fl, true);
}

fn fmt_str(out: &mut String, s: &str, verb: char, fl: &Flags) {
    let s: String = match fl.prec {
        Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    match verb {
        'q' => {
            let q = if fl.sharp
                && !s.contains('`')
                && s.chars().all(|c| c != '\n' && is_print(c) || c == '\t')
            {
                format!("`{s}`")
            } else {
                quote(&s)
            };
            pad(out, &q, fl, false)
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let bytes = match fl.prec {
                Some(p) if p < bytes.len() => &bytes[..p],
                _ => bytes,
            };
            let mut h = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if fl.space && i > 0 {
                    h.push(' ');
                }
                if fl.sharp && (fl.space || i == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, fl, false)
        }
        _ => pad(out, &s, fl, false),
    }
}

/// Go's `badVerb`: `%!verb(type=value)`, the value printed with `%v` under the verb's own flags
/// (width, precision, zero padding), as Go's `printArg(arg, 'v')` does.
fn bad_verb(out: &mut String, verb: char, v: &Value, fl: &Flags) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    match v {
        Value::Nil => out.push_str("<nil>"),
        _ => {
            out.push_str(&v.type_name());
            out.push('=');
            fmt_value(out, v, 'v', fl, 0);
        }
    }
    out.push(')');
}

/// Go's `strconv.FormatFloat(f, 'x'|'X', prec, 64)`: `-0x1.5p+05` (shortest digits when `prec` < 0).
fn hex_float(f: f64, prec: i32, upper: bool) -> String {
    let bits = f.to_bits();
    let neg = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    let mut exp = if biased == 0 {
        1 - 1023
    } else {
        mant |= 1u64 << 52;
        biased - 1023
    };
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1u64 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1u64 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1u64 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let digits: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push('0');
    s.push(if upper { 'X' } else { 'x' });
    s.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        s.push('.');
        while mant != 0 {
            s.push(digits[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        s.push('.');
        for _ in 0..prec {
            s.push(digits[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    s.push(if upper { 'P' } else { 'p' });
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_value(out: &mut String, v: &Value, verb: char, fl: &Flags, depth: usize) {
    if depth > 0 && v.is_nil() {
        // a nil interface inside a collection prints as <nil> whatever the verb
        pad(out, "<nil>", fl, false);
        return;
    }
    if verb == 'T' {
        pad(out, &v.type_name(), fl, false);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", fl, false),
            _ => bad_verb(out, verb, v, fl),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, fl, false),
            _ => bad_verb(out, verb, v, fl),
        },
        Value::Int(i) => match verb {
            'd' | 'v' | 'x' | 'X' | 'o' | 'O' | 'b' => fmt_int(out, *i, verb, fl),
            'c' => pad(
                out,
                &char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
                fl,
                false,
            ),
            'q' => pad(
                out,
                &quote_rune(char::from_u32(*i as u32).unwrap_or('\u{fffd}')),
                fl,
                false,
            ),
            'U' => pad(out, &format!("U+{:04X}", *i), fl, false),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => bad_verb(out, verb, v, fl),
            _ => bad_verb(out, verb, v, fl),
        },
        Value::Float(f) => match verb {
            'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'x' | 'X' => fmt_float(out, *f, verb, fl),
            _ => bad_verb(out, verb, v, fl),
        },
        Value::String(s) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_str(out, s, verb, fl),
            _ => bad_verb(out, verb, v, fl),
        },
        Value::List(l) => {
            if depth > 100 {
                return;
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_value(out, e, verb, fl, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            if depth > 100 {
                return;
            }
            out.push_str("map[");
            for (i, (k, e)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_str(out, k, verb, fl);
                out.push(':');
                fmt_value(out, e, verb, fl, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => match (o.display(), verb) {
            (Some(s), 'v' | 's' | 'q' | 'x' | 'X') => fmt_str(out, &s, verb, fl),
            (_, 'v') => pad(out, "{}", fl, false),
            _ => bad_verb(out, verb, v, fl),
        },
    }
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let b = format.as_bytes();
    let mut i = 0;
    let mut argn = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i] != b'%' {
            i += 1;
        }
        out.push_str(&format[start..i]);
        if i >= b.len() {
            break;
        }
        i += 1; // skip %
        let mut fl = Flags::default();
        while i < b.len() {
            match b[i] {
                b'#' => fl.sharp = true,
                b'0' => fl.zero = !fl.minus,
                b'+' => fl.plus = true,
                b'-' => {
                    fl.minus = true;
                    fl.zero = false
                }
                b' ' => fl.space = true,
                _ => break,
            }
            i += 1;
        }
        // width
        if i < b.len() && b[i] == b'*' {
            i += 1;
            match args.get(argn) {
                Some(Value::Int(w)) => {
                    argn += 1;
                    if *w < 0 {
                        fl.minus = true;
                        fl.zero = false;
                    }
                    fl.width = Some(w.unsigned_abs() as usize);
                }
                _ => {
                    argn += 1;
                    out.push_str("%!(BADWIDTH)");
                }
            }
        } else {
            let ws = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > ws {
                fl.width = format[ws..i].parse().ok();
            }
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            if i < b.len() && b[i] == b'*' {
                i += 1;
                match args.get(argn) {
                    Some(Value::Int(p)) if *p >= 0 => {
                        argn += 1;
                        fl.prec = Some(*p as usize);
                    }
                    _ => {
                        argn += 1;
                        out.push_str("%!(BADPREC)");
                    }
                }
            } else {
                let ps = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                fl.prec = Some(format[ps..i].parse().unwrap_or(0));
            }
        }
        if i >= b.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('v');
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(argn) {
            None => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
            Some(a) => {
                argn += 1;
                fmt_value(&mut out, a, verb, &fl, 0);
            }
        }
    }
    if argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            match a {
                Value::Nil => out.push_str("<nil>"),
                _ => {
                    out.push_str(&a.type_name());
                    out.push('=');
                    write_v(&mut out, a, 0);
                }
            }
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_percent_v() {
        assert_eq!(float_v(8080.0), "8080");
        assert_eq!(float_v(1000000.0), "1e+06");
        assert_eq!(float_v(123456.0), "123456");
        assert_eq!(float_v(123456789.0), "1.23456789e+08");
        assert_eq!(float_v(0.5), "0.5");
        assert_eq!(float_v(0.0001), "0.0001");
        assert_eq!(float_v(0.00001), "1e-05");
        assert_eq!(float_v(-2.5), "-2.5");
        assert_eq!(float_v(0.0), "0");
        assert_eq!(float_v(1e21), "1e+21");
    }

    #[test]
    fn sprintf_handles_common_verbs_and_errors() {
        let s = |f: &str, a: Vec<Value>| sprintf(f, &a);
        assert_eq!(s("%s-%d", vec!["a".into(), Value::Int(3)]), "a-3");
        assert_eq!(s("%d", vec![Value::Float(8080.0)]), "%!d(float64=8080)");
        assert_eq!(s("%.2f", vec![Value::Float(1.23456)]), "1.23");
        assert_eq!(
            s("%5s|%-5s|", vec!["ab".into(), "cd".into()]),
            "   ab|cd   |"
        );
        assert_eq!(s("%05d", vec![Value::Int(-42)]), "-0042");
        assert_eq!(s("%q", vec!["a\"b".into()]), "\"a\\\"b\"");
        assert_eq!(s("%x", vec![Value::Int(255)]), "ff");
        assert_eq!(s("%x", vec!["hi".into()]), "6869");
        assert_eq!(
            s("%t %v", vec![Value::Bool(true), Value::Nil]),
            "true <nil>"
        );
        assert_eq!(s("%s", vec![Value::Nil]), "%!s(<nil>)");
        assert_eq!(s("%d%%", vec![Value::Int(5)]), "5%");
        assert_eq!(s("%s", vec![]), "%!s(MISSING)");
        assert_eq!(s("a", vec![Value::Int(1)]), "a%!(EXTRA int=1)");
        assert_eq!(
            s("%v", vec![Value::list(vec![Value::Int(1), "a".into()])]),
            "[1 a]"
        );
        assert_eq!(s("%g", vec![Value::Float(1e6)]), "1e+06");
        assert_eq!(s("%.3g", vec![Value::Float(1234.5)]), "1.23e+03");
        assert_eq!(s("%e", vec![Value::Float(1234.5)]), "1.234500e+03");
        assert_eq!(s("%6.2f|", vec![Value::Float(1.23456)]), "  1.23|");
        assert_eq!(
            s("%T %T", vec![Value::Int(1), Value::empty_map()]),
            "int map[string]interface {}"
        );
    }

    #[test]
    fn sprint_spaces_only_between_non_strings() {
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(sprint(&["a".into(), Value::Int(2), "b".into()]), "a2b");
        assert_eq!(sprintln(&["a".into(), "b".into()]), "a b\n");
    }
}
