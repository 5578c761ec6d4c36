//! Semantic versions and constraints as Helm reads them (Masterminds/semver v3): lenient versions
//! (`v1.2`, `1`), and constraints such as `>=1.19.0-0`, `^1.25.0-0`, `~1.2`, `1.2.x`, `1.0 - 2.0`,
//! `>= 1.20, < 2` and `a || b`. Used for `kubeVersion` checks and dependency version matching.

use std::cmp::Ordering;

/// A parsed version (`v` prefix and missing minor/patch allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    /// Masterminds `NewVersion` (lenient): `v?N(.N)?(.N)?(-pre)?(+meta)?`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let (core, meta) = match s.split_once('+') {
            Some((c, m)) => (c, Some(m)),
            None => (s, None),
        };
        if let Some(m) = meta
            && !valid_ident_list(m)
        {
            return None;
        }
        let (nums, pre) = match core.split_once('-') {
            Some((n, p)) => (n, p),
            None => (core, ""),
        };
        if !pre.is_empty() && !valid_ident_list(pre) || core.ends_with('-') {
            return None;
        }
        let parts: Vec<&str> = nums.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut n = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n[i] = p.parse().ok()?;
        }
        Some(Version {
            major: n[0],
            minor: n[1],
            patch: n[2],
            pre: pre.to_string(),
        })
    }

    fn cmp_core(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

fn valid_ident_list(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut ia, mut ib) = (a.split('.'), b.split('.'));
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
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
        }
    }
}

/// One operand of a constraint: parts may be wildcards (`x`, `*`) or absent.
#[derive(Debug, Clone)]
struct Partial {
    parts: [Option<u64>; 3],
    pre: String,
}

impl Partial {
    fn parse(s: &str) -> Option<Partial> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let core = s.split_once('+').map_or(s, |(c, _)| c);
        let (nums, pre) = match core.split_once('-') {
            Some((n, p)) => (n, p.to_string()),
            None => (core, String::new()),
        };
        let mut parts = [None; 3];
        let split: Vec<&str> = nums.split('.').collect();
        if split.len() > 3 || split.is_empty() {
            return None;
        }
        for (i, p) in split.iter().enumerate() {
            match *p {
                "x" | "X" | "*" => parts[i] = None,
                p if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    parts[i] = Some(p.parse().ok()?)
                }
                _ => return None,
            }
            if i > 0 && parts[i - 1].is_none() && parts[i].is_some() {
                return None;
            }
        }
        Some(Partial { parts, pre })
    }
    fn floor(&self) -> Version {
        Version {
            major: self.parts[0].unwrap_or(0),
            minor: self.parts[1].unwrap_or(0),
            patch: self.parts[2].unwrap_or(0),
            pre: self.pre.clone(),
        }
    }
    fn dirty(&self) -> bool {
        self.parts.iter().any(Option::is_none)
    }
    /// The exclusive upper bound of the wildcard range (`1.2.x` → 1.3.0-0).
    fn ceil(&self) -> Option<Version> {
        let v = match self.parts {
            [None, _, _] => return None,
            [Some(m), None, _] => (m + 1, 0, 0),
            [Some(m), Some(n), None] => (m, n + 1, 0),
            [Some(m), Some(n), Some(p)] => (m, n, p + 1),
        };
        Some(Version {
            major: v.0,
            minor: v.1,
            patch: v.2,
            pre: String::new(),
        })
    }
}

fn lt(v: &Version, c: &Version) -> bool {
    v.cmp_core(c) == Ordering::Less
}

fn in_range(v: &Version, lo: &Version, hi: Option<&Version>) -> bool {
    !lt(v, lo) && hi.is_none_or(|h| lt(v, h))
}

fn check_one(op: &str, p: &Partial, v: &Version) -> bool {
    let floor = p.floor();
    match op {
        "" | "=" => {
            if p.dirty() {
                in_range(v, &floor, p.ceil().as_ref())
            } else {
                v.cmp_core(&floor) == Ordering::Equal
            }
        }
        "!=" => !check_one("=", p, v),
        ">" => {
            if p.dirty() {
                match p.ceil() {
                    Some(c) => !lt(v, &c),
                    None => false,
                }
            } else {
                v.cmp_core(&floor) == Ordering::Greater
            }
        }
        ">=" | "=>" => !lt(v, &floor),
        "<" => lt(v, &floor),
        "<=" | "=<" => {
            if p.dirty() {
                match p.ceil() {
                    Some(c) => lt(v, &c),
                    None => true,
                }
            } else {
                v.cmp_core(&floor) != Ordering::Greater
            }
        }
        "~" | "~>" => {
            let hi = match p.parts {
                [Some(m), None, _] => Version::parse(&format!("{}.0.0", m + 1)),
                [Some(m), Some(n), _] => Version::parse(&format!("{m}.{}.0", n + 1)),
                _ => None,
            };
            in_range(v, &floor, hi.as_ref())
        }
        "^" => {
            let hi = match p.parts {
                [Some(0), Some(0), Some(pt)] => Version::parse(&format!("0.0.{}", pt + 1)),
                [Some(0), Some(n), _] if n > 0 || p.parts[2].is_none() => {
                    if p.parts[1].is_none() {
                        Version::parse("1.0.0")
                    } else {
                        Version::parse(&format!("0.{}.0", n + 1))
                    }
                }
                [Some(m), _, _] => Version::parse(&format!("{}.0.0", m + 1)),
                _ => None,
            };
            in_range(v, &floor, hi.as_ref())
        }
        _ => false,
    }
}

/// A parsed constraint (`||` of `,`/space-separated ANDs).
#[derive(Debug, Clone)]
pub struct Constraint {
    groups: Vec<Vec<(String, Partial)>>,
}

impl Constraint {
    pub fn parse(s: &str) -> Option<Constraint> {
        let mut groups = Vec::new();
        for group in s.split("||") {
            let group = group.trim();
            if group.is_empty() {
                return None;
            }
            let mut items = Vec::new();
            // Hyphen ranges: "a - b".
            let mut tokens: Vec<String> = Vec::new();
            let mut cur = String::new();
            for piece in group.split(|c: char| c == ',' || c.is_whitespace()) {
                if piece.is_empty() {
                    continue;
                }
                // Join an operator written apart from its version (">= 1.20").
                if !cur.is_empty() {
                    cur.push_str(piece);
                    tokens.push(std::mem::take(&mut cur));
                    continue;
                }
                if piece.chars().all(|c| "<>=!~^".contains(c)) {
                    cur = piece.to_string();
                } else {
                    tokens.push(piece.to_string());
                }
            }
            if !cur.is_empty() {
                return None;
            }
            let mut i = 0;
            while i < tokens.len() {
                if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                    items.push((">=".to_string(), Partial::parse(&tokens[i])?));
                    items.push(("<=".to_string(), Partial::parse(&tokens[i + 2])?));
                    i += 3;
                    continue;
                }
                let t = &tokens[i];
                let op_len = t.chars().take_while(|c| "<>=!~^".contains(*c)).count();
                let (op, ver) = t.split_at(op_len);
                let op = if op == "~>" { "~" } else { op };
                items.push((op.to_string(), Partial::parse(ver)?));
                i += 1;
            }
            groups.push(items);
        }
        Some(Constraint { groups })
    }

    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| {
            g.iter().all(|(op, p)| {
                // Masterminds v3: a prerelease version only satisfies constraints that carry one.
                if !v.pre.is_empty() && p.pre.is_empty() {
                    return false;
                }
                check_one(op, p, v)
            })
        })
    }
}

/// Helm's `IsCompatibleRange(constraint, version)`: false when either does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraint::parse(constraint), Version::parse(version)) {
        (Some(c), Some(v)) => c.check(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_constraints_match_helm() {
        assert!(is_compatible_range(">=1.19.0-0", "v1.31.0"));
        assert!(!is_compatible_range(">=1.19.0-0", "v1.10.0"));
        assert!(is_compatible_range("^1.10.0-0", "v1.10.0"));
        assert!(!is_compatible_range("^1.25.0-0", "v1.10.0"));
        assert!(is_compatible_range(">= 1.20.0-0", "v1.31.0"));
        assert!(is_compatible_range(">=1.20 <2", "1.31.0"));
        assert!(is_compatible_range("~1.2", "1.2.9"));
        assert!(!is_compatible_range("~1.2", "1.3.0"));
        assert!(is_compatible_range("1.2.x", "1.2.5"));
        assert!(is_compatible_range("1.0 - 2.0", "1.5.0"));
        assert!(is_compatible_range("<1 || >=3", "3.1.0"));
        assert!(is_compatible_range("2.x.x", "2.31.10"));
        assert!(!is_compatible_range("", "1.0.0"));
        assert!(is_compatible_range("*", "1.0.0"));
    }

    #[test]
    fn lenient_versions_parse() {
        assert!(Version::parse("1").is_some());
        assert!(Version::parse("v1.2").is_some());
        assert!(Version::parse("1.2.3-rc.1+meta").is_some());
        assert!(Version::parse("1.2.3.4").is_none());
        assert!(Version::parse("abc").is_none());
    }
}
