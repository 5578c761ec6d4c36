//! Masterminds/semver v3 as Sprig uses it: `semver` and `semverCompare`, with
//! its constraint rules (wildcards, `~`, `^`, hyphen ranges, `||`, and the rule
//! that a prerelease only satisfies constraints that carry a prerelease, so
//! `>=1.19-0` admits `v1.20.0-gke.1` while `>=1.19` does not).

use std::cmp::Ordering;
use std::fmt;

use super::{Reg, Ty, reg};
use crate::value::{Object, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Version {
    /// `semver.NewVersion` (lenient: optional `v`, missing minor/patch).
    pub fn parse(s: &str) -> Result<Version, String> {
        let err = || "invalid semantic version".to_string();
        let orig = s;
        let s = s.strip_prefix('v').unwrap_or(s);
        let (s, metadata) = match s.split_once('+') {
            Some((a, b)) => {
                if !valid_ident(b) {
                    return Err(err());
                }
                (a, b.to_string())
            }
            None => (s, String::new()),
        };
        let (core, pre) = match s.split_once('-') {
            Some((a, b)) => {
                if !valid_ident(b) {
                    return Err(err());
                }
                (a, b.to_string())
            }
            None => (s, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty()
            || parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(err());
        }
        let num = |i: usize| -> Result<u64, String> {
            parts
                .get(i)
                .map(|p| p.parse::<u64>().map_err(|_| err()))
                .unwrap_or(Ok(0))
        };
        // numeric prerelease parts may not have leading zeros
        for p in pre.split('.') {
            if p.len() > 1 && p.starts_with('0') && p.chars().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
        }
        Ok(Version {
            major: num(0)?,
            minor: num(1)?,
            patch: num(2)?,
            pre,
            metadata,
            original: orig.to_string(),
        })
    }

    /// Semver precedence (build metadata ignored). Not `Ord`: equality also compares the original
    /// text, so two versions can be equal in precedence yet unequal as values.
    #[allow(clippy::should_implement_trait)]
    pub fn cmp(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let ap: Vec<&str> = a.split('.').collect();
    let bp: Vec<&str> = b.split('.').collect();
    for i in 0..ap.len().max(bp.len()) {
        let (x, y) = match (ap.get(i), bp.get(i)) {
            (Some(x), Some(y)) => (x, y),
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
        };
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Major" => Value::Int(self.major as i64),
            "Minor" => Value::Int(self.minor as i64),
            "Patch" => Value::Int(self.patch as i64),
            "Prerelease" => Value::str(self.pre.as_str()),
            "Metadata" => Value::str(self.metadata.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.to_string()),
            _ => return None,
        })
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Major"
                | "Minor"
                | "Patch"
                | "Prerelease"
                | "Metadata"
                | "Original"
                | "String"
                | "Compare"
                | "LessThan"
                | "GreaterThan"
                | "Equal"
        )
    }
    fn call(&self, method: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if args.is_empty() {
            return self.field(method).map(Ok);
        }
        let other = match &args[0] {
            Value::Object(o) if o.type_name() == "*semver.Version" => {
                match Version::parse(&o.display().unwrap_or_default()) {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                }
            }
            _ => return Some(Err("wrong type for value; expected *semver.Version".into())),
        };
        let c = self.cmp(&other);
        Some(Ok(match method {
            "Compare" => Value::Int(match c {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            }),
            "LessThan" => Value::Bool(c == Ordering::Less),
            "GreaterThan" => Value::Bool(c == Ordering::Greater),
            "Equal" => Value::Bool(c == Ordering::Equal),
            _ => return None,
        }))
    }
    fn display(&self) -> Option<String> {
        Some(self.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Constraint {
    op: Op,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_one(c: &str) -> Result<Constraint, String> {
    let c = c.trim();
    let bad = || format!("improper constraint: {}", crate::gofmt::quote(c));
    let ops = [
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("=>", Op::Ge),
        ("<=", Op::Le),
        ("=<", Op::Le),
        ("~>", Op::Tilde),
        ("~", Op::Tilde),
        ("^", Op::Caret),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ];
    let mut op = Op::Eq;
    let mut rest = c;
    for (p, o) in ops {
        if let Some(r) = c.strip_prefix(p) {
            op = o;
            rest = r.trim_start();
            break;
        }
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let v = rest.strip_prefix('v').unwrap_or(rest);
    // split off prerelease/metadata (after the numeric/wildcard core)
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, tail) = v.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !(is_x(p) || p.chars().all(|c| c.is_ascii_digit())))
    {
        return Err(bad());
    }
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(parts[0]) {
        dirty = true;
        format!("0.0.0{tail}")
    } else if parts.len() < 2 || is_x(parts[1]) {
        minor_dirty = true;
        dirty = true;
        format!("{}.0.0{tail}", parts[0])
    } else if parts.len() < 3 || is_x(parts[2]) {
        dirty = true;
        patch_dirty = true;
        format!("{}.{}.0{tail}", parts[0], parts[1])
    } else {
        format!("{core}{tail}")
    };
    let con = Version::parse(&ver).map_err(|_| bad())?;
    Ok(Constraint {
        op,
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    #[allow(clippy::if_same_then_else)]
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        let pre_block = !v.pre.is_empty() && c.pre.is_empty();
        match self.op {
            Op::Eq => {
                if pre_block {
                    return false;
                }
                if self.dirty {
                    return self.tilde(v);
                }
                v.cmp(c) == Ordering::Equal
            }
            Op::Ne => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return cmp_pre(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.cmp(c) != Ordering::Equal
            }
            Op::Gt => {
                if pre_block {
                    return false;
                }
                if !self.dirty {
                    return v.cmp(c) == Ordering::Greater;
                }
                if v.major > c.major {
                    return true;
                } else if v.major < c.major {
                    return false;
                } else if self.minor_dirty {
                    return false;
                } else if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.cmp(c) == Ordering::Greater
            }
            Op::Lt => !pre_block && v.cmp(c) == Ordering::Less,
            Op::Ge => !pre_block && v.cmp(c) != Ordering::Less,
            Op::Le => {
                if pre_block {
                    return false;
                }
                if !self.dirty {
                    return v.cmp(c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                } else if v.major == c.major && v.minor > c.minor && !self.minor_dirty {
                    return false;
                }
                true
            }
            Op::Tilde => !pre_block && self.tilde(v),
            Op::Caret => {
                if pre_block || v.cmp(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.major == 0 && v.minor == c.minor;
                }
                v.major == 0 && v.minor == 0 && v.patch == c.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        if v.minor != c.minor && !self.minor_dirty {
            return false;
        }
        true
    }
}

/// A parsed constraint expression: OR of AND groups.
pub struct Constraints(Vec<Vec<Constraint>>);

impl Constraints {
    pub fn parse(s: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for g in s.split("||") {
            let g = g.trim();
            let mut cs = Vec::new();
            // hyphen ranges: "1.2 - 1.4.5"
            let toks: Vec<&str> = g.split([',', ' ']).filter(|t| !t.is_empty()).collect();
            let mut i = 0;
            while i < toks.len() {
                let t = toks[i];
                if i + 2 < toks.len() && toks[i + 1] == "-" {
                    cs.push(parse_one(&format!(">= {t}"))?);
                    cs.push(parse_one(&format!("<= {}", toks[i + 2]))?);
                    i += 3;
                    continue;
                }
                // an operator alone joins the next token
                if t.chars().all(|c| "=!<>~^".contains(c)) && i + 1 < toks.len() {
                    cs.push(parse_one(&format!("{t}{}", toks[i + 1]))?);
                    i += 2;
                    continue;
                }
                cs.push(parse_one(t)?);
                i += 1;
            }
            if cs.is_empty() {
                cs.push(Constraint {
                    op: Op::Ge,
                    con: Version::parse("0.0.0").unwrap_or_else(|_| unreachable!()),
                    dirty: true,
                    minor_dirty: false,
                    patch_dirty: false,
                });
            }
            groups.push(cs);
        }
        Ok(Constraints(groups))
    }

    pub fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|g| g.iter().all(|c| c.check(v)))
    }
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "semver", &[Str], None, |_, a| {
        Ok(Value::object(Version::parse(a[0].as_str().unwrap_or(""))?))
    });
    reg(m, "semverCompare", &[Str, Str], None, |_, a| {
        let c = Constraints::parse(a[0].as_str().unwrap_or(""))?;
        let v = Version::parse(a[1].as_str().unwrap_or(""))?;
        Ok(Value::Bool(c.check(&v)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        Constraints::parse(c)
            .unwrap()
            .check(&Version::parse(v).unwrap())
    }

    #[test]
    fn prerelease_rules_follow_masterminds() {
        assert!(check(">=1.19-0", "v1.20.0-gke.1"));
        assert!(!check(">=1.19", "v1.20.0-gke.1"));
        assert!(check(">=1.19-0", "1.31.0"));
        assert!(check(">= 1.19-0", "v1.31.0"));
        assert!(!check("<1.19-0", "v1.31.0"));
        assert!(check(">=1.16-0 <1.25-0", "1.20.3"));
    }

    #[test]
    fn tilde_caret_wildcards_and_ranges() {
        assert!(check("~1.2.3", "1.2.9"));
        assert!(!check("~1.2.3", "1.3.0"));
        assert!(check("^1.2", "1.9.0"));
        assert!(!check("^1.2", "2.0.0"));
        assert!(check("^0.2.3", "0.2.5"));
        assert!(!check("^0.2.3", "0.3.0"));
        assert!(check("1.2.x", "1.2.7"));
        assert!(check("*", "3.0.0"));
        assert!(check("1.2 - 1.4.5", "1.4.5"));
        assert!(!check("1.2 - 1.4.5", "1.4.6"));
        assert!(check("<1.0 || >=2.0", "2.1.0"));
        assert!(!check(">1.2", "1.2.5"));
        assert!(check(">1.2", "1.3.0"));
        assert!(check("!=1.2.3", "1.2.4"));
    }
}
