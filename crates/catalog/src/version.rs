//! Versions and OLM's version ranges.
//!
//! Bundle versions are semantic versions (`semver::Version`). OLM writes ranges (`olm.skipRange`,
//! `olm.package.required`'s `versionRange`) in the syntax of Go's `blang/semver`, which differs
//! from Cargo's: comparators are separated by spaces (AND) and `||` (OR), a bare version means
//! `=`, `!=` excludes one version, `x`/`X`/`*` wildcards stand for a whole component (`1.x` is
//! `>=1.0.0 <2.0.0`), and prereleases compare like any other version (no npm-style
//! prerelease exclusion). [`Range`] is that syntax over `semver::Version`.

use std::cmp::Ordering;
use std::fmt;

pub use semver::Version;

/// Parses a bundle version. Strict semver first; then, as OLM's tolerant parse, a leading `v`
/// and missing minor/patch components (`1.2` → `1.2.0`) are accepted.
pub fn parse_version(s: &str) -> Result<Version, String> {
    let t = s.trim();
    if let Ok(v) = Version::parse(t) {
        return Ok(v);
    }
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let (core, rest) = match t.find(['-', '+']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "{s:?} is not a semantic version (MAJOR.MINOR.PATCH)"
        ));
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|p| {
            let trimmed = p.trim_start_matches('0');
            if trimmed.is_empty() {
                "0".to_string()
            } else {
                trimmed.to_string()
            }
        })
        .collect();
    Version::parse(&format!("{}{rest}", parts.join(".")))
        .map_err(|e| format!("{s:?} is not a semantic version: {e}"))
}

/// Semver precedence (build metadata ignored), as blang compares.
pub fn cmp_versions(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        let o = cmp_versions(v, &self.version);
        match self.op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
        }
    }
}

/// A blang/semver range: alternatives (`||`) of comparator sets that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    text: String,
    any_of: Vec<Vec<Comparator>>,
}

impl Range {
    /// Parses `text`; the error says which part is wrong.
    pub fn parse(text: &str) -> Result<Range, String> {
        let mut any_of = Vec::new();
        for alt in text.split("||") {
            let parts = join_operators(alt.split_whitespace().collect());
            if parts.is_empty() {
                return Err(format!("range {text:?} has an empty alternative"));
            }
            let mut all = Vec::new();
            for part in parts {
                all.extend(parse_part(&part).map_err(|e| format!("range {text:?}: {e}"))?);
            }
            any_of.push(all);
        }
        Ok(Range {
            text: text.to_string(),
            any_of,
        })
    }

    /// Whether `v` is in the range.
    pub fn matches(&self, v: &Version) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.matches(v)))
    }

    /// The range as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `>= 1.0.0` written with a space: the operator joins the version after it.
fn join_operators(words: Vec<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for w in words {
        if w.chars().all(|c| "<>=!".contains(c)) {
            pending.push_str(w);
        } else {
            out.push(format!("{pending}{w}"));
            pending.clear();
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

fn parse_part(part: &str) -> Result<Vec<Comparator>, String> {
    let split = part
        .find(|c: char| !"<>=!".contains(c))
        .unwrap_or(part.len());
    let (op_text, ver) = part.split_at(split);
    let op = match op_text {
        "" | "=" | "==" => Op::Eq,
        "!=" | "!" => Op::Ne,
        ">" => Op::Gt,
        ">=" | "=>" => Op::Ge,
        "<" => Op::Lt,
        "<=" | "=<" => Op::Le,
        _ => return Err(format!("{part:?} has an unknown operator {op_text:?}")),
    };
    if ver.is_empty() {
        return Err(format!("{part:?} has no version"));
    }
    let comps: Vec<&str> = ver.split('.').collect();
    let wild = |s: &str| matches!(s, "x" | "X" | "*");
    if let Some(w) = comps.iter().position(|c| wild(c)) {
        return wildcard(op, &comps[..w], part);
    }
    let version = parse_version(ver).map_err(|e| format!("{part:?}: {e}"))?;
    Ok(vec![Comparator { op, version }])
}

/// `1.x` / `1.2.*`: the fixed prefix as a half-open interval (as blang expands wildcards).
fn wildcard(op: Op, fixed: &[&str], part: &str) -> Result<Vec<Comparator>, String> {
    let nums: Vec<u64> = fixed
        .iter()
        .map(|c| {
            c.parse::<u64>()
                .map_err(|_| format!("{part:?}: {c:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let (lo, hi) = match nums.as_slice() {
        [] if op == Op::Eq => return Ok(Vec::new()),
        [] => {
            return Err(format!(
                "{part:?}: a wildcard major version only stands alone (`*`)"
            ));
        }
        [maj] => (Version::new(*maj, 0, 0), Version::new(maj + 1, 0, 0)),
        [maj, min] => (Version::new(*maj, *min, 0), Version::new(*maj, min + 1, 0)),
        _ => {
            return Err(format!(
                "{part:?}: a wildcard must replace the minor or patch version"
            ));
        }
    };
    let c = |op, version| Comparator { op, version };
    Ok(match op {
        Op::Eq => vec![c(Op::Ge, lo), c(Op::Lt, hi)],
        Op::Ne => return Err(format!("{part:?}: != cannot take a wildcard")),
        Op::Gt => vec![c(Op::Ge, hi)],
        Op::Ge => vec![c(Op::Ge, lo)],
        Op::Lt => vec![c(Op::Lt, lo)],
        Op::Le => vec![c(Op::Lt, hi)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_version(s).unwrap()
    }

    #[test]
    fn skip_range_with_space_separated_and() {
        let r = Range::parse(">=4.1.0 <4.2.3").unwrap();
        assert!(r.matches(&v("4.1.0")));
        assert!(r.matches(&v("4.2.2")));
        assert!(!r.matches(&v("4.2.3")));
        assert!(!r.matches(&v("4.0.9")));
    }

    #[test]
    fn alternatives_and_not_equal() {
        let r = Range::parse("<1.0.0 || >=2.0.0 !=2.1.0").unwrap();
        assert!(r.matches(&v("0.9.0")));
        assert!(!r.matches(&v("1.5.0")));
        assert!(r.matches(&v("2.0.0")));
        assert!(!r.matches(&v("2.1.0")));
    }

    #[test]
    fn prerelease_compares_as_a_version() {
        let r = Range::parse(">=1.0.0-0 <1.0.0").unwrap();
        assert!(r.matches(&v("1.0.0-rc.1")));
        assert!(!r.matches(&v("1.0.0")));
    }

    #[test]
    fn wildcards_cover_the_component() {
        let r = Range::parse("1.2.x").unwrap();
        assert!(r.matches(&v("1.2.9")));
        assert!(!r.matches(&v("1.3.0")));
        assert!(Range::parse("<=1.x").unwrap().matches(&v("1.9.9")));
        assert!(!Range::parse(">1.x").unwrap().matches(&v("1.9.9")));
    }

    #[test]
    fn operator_separated_from_version_by_space() {
        assert!(Range::parse(">= 1.0.0").unwrap().matches(&v("1.0.0")));
    }

    #[test]
    fn bad_ranges_name_the_part() {
        let e = Range::parse(">=1.0.0 <abc").unwrap_err();
        assert!(e.contains("\"<abc\""), "{e}");
        assert!(Range::parse("").is_err());
        assert!(Range::parse("~>1.0.0").is_err());
    }

    #[test]
    fn tolerant_versions() {
        assert_eq!(v("v1.2"), Version::new(1, 2, 0));
        assert_eq!(v("1.02.3"), Version::new(1, 2, 3));
        assert!(parse_version("latest").is_err());
    }
}
