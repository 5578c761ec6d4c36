//! Sprig's string functions, regular expressions and hashes of strings.

use super::{Reg, Ty, reg, str_list, strslice, strval};
use crate::exec::Host;
use crate::value::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}
fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}
fn sv(x: impl Into<String>) -> Result<Value, String> {
    Ok(Value::str(x.into()))
}

fn check_len(h: &dyn Host, n: usize) -> Result<(), String> {
    let lim = h.limits().max_output_bytes;
    if n > lim {
        return Err(format!(
            "result of {n} bytes exceeds the limit of {lim} bytes"
        ));
    }
    Ok(())
}

/// Go's `strings.Title`.
fn title(x: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(x.len());
    for c in x.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// goutils `Uncapitalize` per whitespace-delimited word.
fn untitle(x: &str) -> String {
    let mut out = String::new();
    let mut prev_ws = true;
    for c in x.chars() {
        if prev_ws {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_ws = c.is_whitespace();
    }
    out
}

fn swapcase(x: &str) -> String {
    let mut out = String::new();
    for c in x.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn initials(x: &str) -> String {
    x.split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect()
}

/// Word classes of huandu/xstrings v1.5 (`nextWord`), which `snakecase`/`kebabcase` use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// xstrings' `isAlphabet`: a letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic()
        && !(('\u{3400}'..='\u{4DBF}').contains(&c)
            || ('\u{4E00}'..='\u{9FFF}').contains(&c)
            || ('\u{20000}'..='\u{2FA1F}').contains(&c))
}

/// Go's `unicode.IsPunct` (category P): ASCII exactly, common non-ASCII punctuation blocks.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c);
    }
    matches!(
        c,
        '\u{A1}' | '\u{A7}' | '\u{AB}' | '\u{B6}' | '\u{B7}' | '\u{BB}' | '\u{BF}'
    ) || ('\u{2010}'..='\u{2027}').contains(&c)
        || ('\u{2030}'..='\u{205E}').contains(&c)
        || ('\u{3001}'..='\u{3003}').contains(&c)
        || ('\u{3008}'..='\u{3011}').contains(&c)
}

/// xstrings' `nextWord`: the class and length (in chars) of the word starting at `s[0]`.
fn next_word(s: &[char]) -> (Word, usize) {
    let r = s[0];
    let run = |from: usize, keep: &dyn Fn(char) -> bool| {
        let mut i = from;
        while i < s.len() && keep(s[i]) {
            i += 1;
        }
        i
    };
    if is_connector(r) {
        return (Word::Connector, run(1, &is_connector));
    }
    if is_punct(r) {
        return (Word::Punct, run(1, &is_punct));
    }
    if r.is_uppercase() {
        if s.len() == 1 {
            return (Word::Upper, 1);
        }
        let n = s[1];
        if n.is_uppercase() {
            let end = run(2, &|c: char| c.is_uppercase());
            // "HTTPStatus": the last capital starts the next word.
            if end < s.len() && is_alphabet(s[end]) {
                return (Word::Upper, end - 1);
            }
            return (Word::Upper, end);
        }
        if is_alphabet(n) {
            return (
                Word::Upper,
                run(2, &|c: char| is_alphabet(c) && !c.is_uppercase()),
            );
        }
        return (Word::Upper, 1);
    }
    if is_alphabet(r) {
        return (
            Word::Alphabet,
            run(1, &|c: char| is_alphabet(c) && !c.is_uppercase()),
        );
    }
    if r.is_numeric() {
        return (Word::Number, run(1, &|c: char| c.is_numeric()));
    }
    let other = |c: char| !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c));
    (Word::Other, run(1, &other))
}

/// xstrings' `toLower`: upper-case and connector words are lowered (connectors become `delim`).
fn push_lower(out: &mut String, w: Word, text: &[char], delim: char) {
    for &c in text {
        if w != Word::Upper && w != Word::Connector {
            out.push(c);
        } else if is_connector(c) {
            out.push(delim);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// huandu/xstrings v1.5 `camelCaseToLowerCase` (Sprig's `snakecase` and `kebabcase`): words are
/// lowered and joined with `delim`; punctuation stays and is not separated; a number sticks to the
/// word before it unless lower-case letters follow it (`Bld4Floor` → `bld4_floor`, `HTTP2xx` →
/// `http_2xx`).
fn delimited(x: &str, delim: char) -> String {
    let chars: Vec<char> = x.chars().collect();
    let mut out = String::new();
    if chars.is_empty() {
        return out;
    }
    let mut pos = 0;
    let take = |pos: &mut usize| -> (Word, std::ops::Range<usize>) {
        let (w, n) = next_word(&chars[*pos..]);
        let r = *pos..*pos + n;
        *pos += n;
        (w, r)
    };
    let (mut wt, mut word) = take(&mut pos);
    while pos < chars.len() {
        if wt != Word::Connector {
            push_lower(&mut out, wt, &chars[word.clone()], delim);
        }
        let (prev, last) = (wt, word.clone());
        (wt, word) = take(&mut pos);
        match prev {
            Word::Number => {
                while matches!(wt, Word::Alphabet | Word::Number) {
                    push_lower(&mut out, wt, &chars[word.clone()], delim);
                    if pos >= chars.len() {
                        // Go's nextWord of "" is (invalidWord, "").
                        return out;
                    }
                    (wt, word) = take(&mut pos);
                }
                if wt != Word::Punct && wt != Word::Connector {
                    out.push(delim);
                }
            }
            Word::Connector => push_lower(&mut out, prev, &chars[last], delim),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(delim);
                    }
                    continue;
                }
                if pos >= chars.len() {
                    continue;
                }
                let number = word.clone();
                (wt, word) = take(&mut pos);
                if wt != Word::Alphabet {
                    push_lower(&mut out, Word::Number, &chars[number], delim);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(delim);
                    }
                    continue;
                }
                out.push(delim);
                push_lower(&mut out, Word::Number, &chars[number], delim);
                while matches!(wt, Word::Alphabet | Word::Number) {
                    push_lower(&mut out, wt, &chars[word.clone()], delim);
                    if pos >= chars.len() {
                        return out;
                    }
                    (wt, word) = take(&mut pos);
                }
                if wt != Word::Connector && wt != Word::Punct {
                    out.push(delim);
                }
            }
        }
    }
    push_lower(&mut out, wt, &chars[word], delim);
    out
}

/// huandu/xstrings `ToCamelCase`: words split on `_`, `-`, spaces; each capitalised.
fn camelcase(x: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    for c in x.chars() {
        if c == '_' || c == '-' || c.is_whitespace() {
            upper_next = true;
            continue;
        }
        if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// goutils `WrapCustom`.
fn wrap_custom(text: &str, width: i64, newline: &str, wrap_long: bool) -> String {
    let width = width.max(1) as usize;
    let mut out = String::new();
    for (li, line) in text.split('\n').enumerate() {
        if li > 0 {
            out.push_str(newline);
        }
        let mut rest = line.trim_start_matches(' ');
        let mut first = true;
        while rest.chars().count() > width {
            if !first {
                out.push_str(newline);
            }
            first = false;
            let bytes: Vec<(usize, char)> = rest.char_indices().collect();
            let limit = bytes.get(width).map(|(b, _)| *b).unwrap_or(rest.len());
            let space = rest[..=limit.min(rest.len() - 1)].rfind(' ');
            match space {
                Some(sp) if sp > 0 => {
                    out.push_str(&rest[..sp]);
                    rest = rest[sp + 1..].trim_start_matches(' ');
                }
                _ => {
                    if wrap_long {
                        out.push_str(&rest[..limit]);
                        rest = &rest[limit..];
                    } else {
                        match rest[limit..].find(' ') {
                            Some(sp) => {
                                out.push_str(&rest[..limit + sp]);
                                rest = &rest[limit + sp + 1..];
                            }
                            None => {
                                out.push_str(rest);
                                rest = "";
                            }
                        }
                    }
                }
            }
        }
        if !rest.is_empty() || first {
            if !first {
                out.push_str(newline);
            }
            out.push_str(rest);
        }
    }
    out
}

fn abbreviate_full(x: &str, offset: i64, max: i64) -> String {
    let len = x.len() as i64;
    if max < 4 || len <= max {
        return x.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    if offset <= 4 {
        return format!("{}...", &x[..(max - 3) as usize]);
    }
    if max < 7 {
        return x.to_string();
    }
    if offset + max - 3 < len {
        return format!("...{}", abbreviate_full(&x[offset as usize..], 0, max - 3));
    }
    format!("...{}", &x[(len - (max - 3)) as usize..])
}

/// Go's RE2 syntax where Rust's `regex` differs: inside a class, `-` right after a class
/// escape (`[\w-.]`) or at a range boundary that cannot form a range is a literal.
pub(crate) fn go_regex(re: &str) -> String {
    let mut out = String::with_capacity(re.len());
    let chars: Vec<char> = re.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    let mut prev_was_class_escape = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            out.push(c);
            out.push(e);
            prev_was_class_escape = in_class && matches!(e, 'w' | 'W' | 'd' | 'D' | 's' | 'S');
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' && !out.ends_with('[') && !out.ends_with("[^") {
                in_class = false;
            } else if c == '-' && prev_was_class_escape {
                out.push_str("\\-");
                prev_was_class_escape = false;
                i += 1;
                continue;
            } else if c == '[' && chars.get(i + 1) == Some(&':') {
                // [:alpha:] stays as is; a following '-' is literal too
                if let Some(end) = chars[i..].iter().collect::<String>().find(":]") {
                    let cls: String = chars[i..i + end + 2].iter().collect();
                    out.push_str(&cls);
                    i += end + 2;
                    prev_was_class_escape = true;
                    continue;
                }
            } else if c == '-' && chars.get(i + 1) == Some(&']') {
                out.push_str("\\-");
                i += 1;
                continue;
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push_str("\\]");
                i += 1;
            }
            prev_was_class_escape = false;
            continue;
        }
        prev_was_class_escape = false;
        out.push(c);
        i += 1;
    }
    out
}

/// A compiled pattern, from a process-wide cache: charts call `regexReplaceAll` with the same few
/// literal patterns in every render, and compiling one (≈100 µs) cost a tenth of a Bitnami
/// chart's render. The cache is bounded; when full it starts over.
fn regex(re: &str) -> Result<regex::Regex, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    const CAPACITY: usize = 512;
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(re) {
        return Ok(r.clone());
    }
    let compiled = regex::Regex::new(&go_regex(re)).map_err(|e| {
        format!(
            "regexp: Compile({}): {}",
            crate::gofmt::quote(re),
            e.to_string().lines().last().unwrap_or("")
        )
    })?;
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= CAPACITY {
        c.clear();
    }
    c.insert(re.to_string(), compiled.clone());
    Ok(compiled)
}

/// Go's regexp `Expand` template syntax (`$1`, `${name}`) matches Rust's closely enough.
fn regex_replace(re: &str, src: &str, repl: &str, literal: bool) -> Result<Value, String> {
    let r = regex(re)?;
    if literal {
        sv(r.replace_all(src, regex::NoExpand(repl)).into_owned())
    } else {
        sv(r.replace_all(src, repl).into_owned())
    }
}

fn rand_string(n: i64, set: &[u8]) -> Value {
    let n = n.clamp(0, 1 << 20) as usize;
    Value::str(
        (0..n)
            .map(|_| set[super::secure_index(set.len())] as char)
            .collect::<String>(),
    )
}

const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUM: &[u8] = b"0123456789";

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "upper", &[Str], None, |_, a| sv(s(&a[0]).to_uppercase()));
    reg(m, "lower", &[Str], None, |_, a| sv(s(&a[0]).to_lowercase()));
    reg(m, "title", &[Str], None, |_, a| sv(title(s(&a[0]))));
    reg(m, "untitle", &[Str], None, |_, a| sv(untitle(s(&a[0]))));
    reg(m, "substr", &[Int, Int, Str], None, |_, a| {
        let (start, end, x) = (i(&a[0]), i(&a[1]), s(&a[2]));
        let len = x.len() as i64;
        let (st, en) = if start < 0 {
            (0, end)
        } else if end < 0 || end > len {
            (start, len)
        } else {
            (start, end)
        };
        if st > en
            || en > len
            || st < 0
            || !x.is_char_boundary(st as usize)
            || !x.is_char_boundary(en as usize)
        {
            return Err(format!(
                "runtime error: slice bounds out of range [{st}:{en}] with length {len}"
            ));
        }
        sv(&x[st as usize..en as usize])
    });
    reg(m, "repeat", &[Int, Str], None, |h, a| {
        let n = i(&a[0]);
        if n < 0 {
            return Err("strings: negative Repeat count".into());
        }
        check_len(h, (n as usize).saturating_mul(s(&a[1]).len()))?;
        sv(s(&a[1]).repeat(n as usize))
    });
    reg(m, "trim", &[Str], None, |_, a| {
        sv(s(&a[0]).trim_matches(|c: char| c.is_whitespace()))
    });
    reg(m, "trimAll", &[Str, Str], None, |_, a| {
        let cut: Vec<char> = s(&a[0]).chars().collect();
        sv(s(&a[1]).trim_matches(|c| cut.contains(&c)))
    });
    reg(m, "trimall", &[Str, Str], None, |_, a| {
        let cut: Vec<char> = s(&a[0]).chars().collect();
        sv(s(&a[1]).trim_matches(|c| cut.contains(&c)))
    });
    reg(m, "trimSuffix", &[Str, Str], None, |_, a| {
        sv(s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])))
    });
    reg(m, "trimPrefix", &[Str, Str], None, |_, a| {
        sv(s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])))
    });
    reg(m, "nospace", &[Str], None, |_, a| {
        sv(s(&a[0])
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>())
    });
    reg(m, "initials", &[Str], None, |_, a| sv(initials(s(&a[0]))));
    reg(m, "randAlphaNum", &[Int], None, |_, a| {
        Ok(rand_string(i(&a[0]), ALNUM))
    });
    reg(m, "randAlpha", &[Int], None, |_, a| {
        Ok(rand_string(i(&a[0]), ALPHA))
    });
    reg(m, "randNumeric", &[Int], None, |_, a| {
        Ok(rand_string(i(&a[0]), NUM))
    });
    reg(m, "randAscii", &[Int], None, |_, a| {
        let set: Vec<u8> = (32u8..127).collect();
        Ok(rand_string(i(&a[0]), &set))
    });
    reg(m, "swapcase", &[Str], None, |_, a| sv(swapcase(s(&a[0]))));
    reg(m, "shuffle", &[Str], None, |_, a| {
        let mut c: Vec<char> = s(&a[0]).chars().collect();
        fastrand::shuffle(&mut c);
        sv(c.into_iter().collect::<String>())
    });
    reg(m, "snakecase", &[Str], None, |_, a| {
        sv(delimited(s(&a[0]), '_'))
    });
    reg(m, "kebabcase", &[Str], None, |_, a| {
        sv(delimited(s(&a[0]), '-'))
    });
    reg(m, "camelcase", &[Str], None, |_, a| sv(camelcase(s(&a[0]))));
    reg(m, "wrap", &[Int, Str], None, |_, a| {
        sv(wrap_custom(s(&a[1]), i(&a[0]), "\n", false))
    });
    reg(m, "wrapWith", &[Int, Str, Str], None, |_, a| {
        sv(wrap_custom(s(&a[2]), i(&a[0]), s(&a[1]), true))
    });
    reg(m, "contains", &[Str, Str], None, |_, a| {
        Ok(Value::Bool(s(&a[1]).contains(s(&a[0]))))
    });
    reg(m, "hasPrefix", &[Str, Str], None, |_, a| {
        Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0]))))
    });
    reg(m, "hasSuffix", &[Str, Str], None, |_, a| {
        Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0]))))
    });
    reg(m, "quote", &[], Some(Any), |_, a| {
        sv(a.iter()
            .filter(|v| !v.is_nil())
            .map(|v| crate::gofmt::quote(&strval(v)))
            .collect::<Vec<_>>()
            .join(" "))
    });
    reg(m, "squote", &[], Some(Any), |_, a| {
        sv(a.iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect::<Vec<_>>()
            .join(" "))
    });
    reg(m, "cat", &[], Some(Any), |_, a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(crate::gofmt::sprint_value)
            .collect();
        sv(parts.join(" "))
    });
    reg(m, "indent", &[Int, Str], None, |h, a| {
        let pad = " ".repeat(i(&a[0]).max(0) as usize);
        let x = s(&a[1]);
        check_len(h, x.len() + (x.matches('\n').count() + 1) * pad.len())?;
        sv(format!("{pad}{}", x.replace('\n', &format!("\n{pad}"))))
    });
    reg(m, "nindent", &[Int, Str], None, |h, a| {
        let pad = " ".repeat(i(&a[0]).max(0) as usize);
        let x = s(&a[1]);
        check_len(h, x.len() + (x.matches('\n').count() + 1) * pad.len())?;
        sv(format!("\n{pad}{}", x.replace('\n', &format!("\n{pad}"))))
    });
    reg(m, "replace", &[Str, Str, Str], None, |h, a| {
        let (old, new, src) = (s(&a[0]), s(&a[1]), s(&a[2]));
        if old.is_empty() {
            // Go inserts `new` between every rune and at both ends
            check_len(h, src.len() + (src.chars().count() + 1) * new.len())?;
            let mut out = String::from(new);
            for c in src.chars() {
                out.push(c);
                out.push_str(new);
            }
            return sv(out);
        }
        check_len(h, src.len() + src.matches(old).count() * new.len())?;
        sv(src.replace(old, new))
    });
    reg(m, "plural", &[Str, Str, Int], None, |_, a| {
        Ok(if i(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    reg(m, "split", &[Str, Str], None, |_, a| {
        let parts = go_split(s(&a[1]), s(&a[0]), -1);
        Ok(Value::map_from(
            parts
                .into_iter()
                .enumerate()
                .map(|(k, p)| (format!("_{k}"), Value::str(p))),
        ))
    });
    reg(m, "splitList", &[Str, Str], None, |_, a| {
        Ok(str_list(go_split(s(&a[1]), s(&a[0]), -1)))
    });
    reg(m, "splitn", &[Str, Int, Str], None, |_, a| {
        let parts = go_split(s(&a[2]), s(&a[0]), i(&a[1]));
        Ok(Value::map_from(
            parts
                .into_iter()
                .enumerate()
                .map(|(k, p)| (format!("_{k}"), Value::str(p))),
        ))
    });
    reg(m, "join", &[Str, Any], None, |_, a| {
        sv(strslice(&a[1]).join(s(&a[0])))
    });
    reg(m, "sortAlpha", &[Any], None, |_, a| {
        let mut v = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        v.sort();
        Ok(str_list(v))
    });
    reg(m, "abbrev", &[Int, Str], None, |_, a| {
        sv(abbreviate_full(s(&a[1]), 0, i(&a[0])))
    });
    reg(m, "abbrevboth", &[Int, Int, Str], None, |_, a| {
        let (l, r) = (i(&a[0]), i(&a[1]));
        if r < 4 || (l > 0 && r < 7) {
            return Ok(a[2].clone());
        }
        sv(abbreviate_full(s(&a[2]), l, r))
    });
    reg(m, "trunc", &[Int, Str], None, |_, a| {
        let (c, x) = (i(&a[0]), s(&a[1]));
        let len = x.len() as i64;
        let cut = |b: usize| -> usize {
            let mut b = b;
            while !x.is_char_boundary(b) {
                b -= 1;
            }
            b
        };
        if c < 0 && len + c > 0 {
            return sv(&x[cut((len + c) as usize)..]);
        }
        if c >= 0 && len > c {
            return sv(&x[..cut(c as usize)]);
        }
        sv(x)
    });
    reg(m, "regexMatch", &[Str, Str], None, |_, a| {
        Ok(Value::Bool(regex(s(&a[0]))?.is_match(s(&a[1]))))
    });
    reg(m, "mustRegexMatch", &[Str, Str], None, |_, a| {
        Ok(Value::Bool(regex(s(&a[0]))?.is_match(s(&a[1]))))
    });
    reg(m, "regexFind", &[Str, Str], None, |_, a| {
        sv(regex(s(&a[0]))?
            .find(s(&a[1]))
            .map(|x| x.as_str())
            .unwrap_or(""))
    });
    reg(m, "mustRegexFind", &[Str, Str], None, |_, a| {
        sv(regex(s(&a[0]))?
            .find(s(&a[1]))
            .map(|x| x.as_str())
            .unwrap_or(""))
    });
    let find_all = |_: &dyn Host, a: &[Value]| -> Result<Value, String> {
        let r = regex(s(&a[0]))?;
        let n = i(&a[2]);
        let it = r.find_iter(s(&a[1])).map(|x| x.as_str().to_string());
        let v: Vec<String> = if n < 0 {
            it.collect()
        } else {
            it.take(n as usize).collect()
        };
        Ok(str_list(v))
    };
    reg(m, "regexFindAll", &[Str, Str, Int], None, find_all);
    reg(m, "mustRegexFindAll", &[Str, Str, Int], None, find_all);
    reg(m, "regexReplaceAll", &[Str, Str, Str], None, |_, a| {
        regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), false)
    });
    reg(m, "mustRegexReplaceAll", &[Str, Str, Str], None, |_, a| {
        regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), false)
    });
    reg(
        m,
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        |_, a| regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), true),
    );
    reg(
        m,
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        |_, a| regex_replace(s(&a[0]), s(&a[1]), s(&a[2]), true),
    );
    let split = |_: &dyn Host, a: &[Value]| -> Result<Value, String> {
        let r = regex(s(&a[0]))?;
        let n = i(&a[2]);
        if n == 0 {
            return Ok(Value::list(vec![]));
        }
        let x = s(&a[1]);
        if s(&a[0]).is_empty() && !x.is_empty() {
            let v: Vec<String> = x.chars().map(|c| c.to_string()).collect();
            return Ok(str_list(v));
        }
        let v: Vec<String> = if n < 0 {
            r.split(x).map(String::from).collect()
        } else {
            r.splitn(x, n as usize).map(String::from).collect()
        };
        Ok(str_list(v))
    };
    reg(m, "regexSplit", &[Str, Str, Int], None, split);
    reg(m, "mustRegexSplit", &[Str, Str, Int], None, split);
    reg(m, "regexQuoteMeta", &[Str], None, |_, a| {
        sv(regex::escape(s(&a[0])))
    });
}

/// Go's `strings.SplitN` (n < 0: all).
pub(crate) fn go_split(x: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return vec![];
    }
    if sep.is_empty() {
        let chars: Vec<String> = x.chars().map(|c| c.to_string()).collect();
        if n > 0 && chars.len() > n as usize {
            let mut v: Vec<String> = chars[..n as usize - 1].to_vec();
            let consumed: usize = v.iter().map(|c| c.len()).sum();
            v.push(x[consumed..].to_string());
            return v;
        }
        return chars;
    }
    if n < 0 {
        x.split(sep).map(String::from).collect()
    } else {
        x.splitn(n as usize, sep).map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_regex_classes_with_literal_dashes_compile() {
        assert!(regex(r"^[\w-\.]+$").unwrap().is_match("a-b.c"));
        assert!(regex(r"[a-]").unwrap().is_match("-"));
        assert!(regex(r"[]a]").unwrap().is_match("]"));
    }
}
