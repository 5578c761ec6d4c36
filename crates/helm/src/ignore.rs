//! `.helmignore` rules and the glob dialects Helm uses.
//!
//! Helm's rules are gitignore-like but not gitignore: each line is a Go `filepath.Match` pattern; a
//! pattern without `/` matches the base name only, one with `/` matches the whole relative path, a
//! leading `/` anchors at the chart root, a trailing `/` matches directories only, `**` is refused, and
//! a `!` rule ignores every path it does **not** match (Helm's own, surprising, semantics). The rule
//! `templates/.?*` is always added. [`files_glob`] implements the gobwas/glob dialect of `.Files.Glob`
//! (`*` stops at `/`, `**` crosses it, `{a,b}` alternatives).

/// One parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    rule: String,
    negate: bool,
    must_dir: bool,
    kind: PatternKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PatternKind {
    Anchored,
    Structural,
    BaseName,
}

impl Rules {
    /// Parses a `.helmignore` text; errors name the offending rule.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut r = Rules::default();
        for line in text.lines() {
            r.parse_rule(line)?;
        }
        Ok(r)
    }

    /// Adds Helm's default rule (`templates/.?*`: hidden files in templates/).
    pub fn add_defaults(&mut self) {
        let _ = self.parse_rule("templates/.?*");
    }

    fn parse_rule(&mut self, rule: &str) -> Result<(), String> {
        let mut rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".to_string());
        }
        if go_match(rule, "abc").is_err() {
            return Err("syntax error in pattern".to_string());
        }
        let mut negate = false;
        if let Some(r) = rule.strip_prefix('!') {
            negate = true;
            rule = r;
        }
        let mut must_dir = false;
        if let Some(r) = rule.strip_suffix('/') {
            must_dir = true;
            rule = r;
        }
        let (kind, rule) = if let Some(r) = rule.strip_prefix('/') {
            (PatternKind::Anchored, r)
        } else if rule.contains('/') {
            (PatternKind::Structural, rule)
        } else {
            (PatternKind::BaseName, rule)
        };
        self.patterns.push(Pattern {
            rule: rule.to_string(),
            negate,
            must_dir,
            kind,
        });
        Ok(())
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let m = |n: &str| -> bool {
                let target = match p.kind {
                    PatternKind::BaseName => n.rsplit('/').next().unwrap_or(n),
                    _ => n,
                };
                go_match(&p.rule, target).unwrap_or(false)
            };
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !m(path) {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if m(path) {
                return true;
            }
        }
        false
    }
}

/// Go's `path/filepath.Match` with `/` as the separator. `Err` on a malformed pattern.
#[allow(clippy::result_unit_err)]
pub fn go_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, ()> {
    let (mut pi, mut ni) = (0usize, 0usize);
    // Backtracking point for the last '*'.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    let (matched, next) = match_class(p, pi, n.get(ni).copied())?;
                    if matched && ni < n.len() {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    if pi + 1 >= p.len() {
                        return Err(());
                    }
                    if ni < n.len() && n[ni] == p[pi + 1] {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // Mismatch: extend the last star by one non-separator char.
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => {
                // Validate the rest of the pattern so malformed patterns error as in Go.
                validate(&p[pi.min(p.len())..])?;
                return Ok(false);
            }
        }
    }
}

fn validate(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '[' => {
                let (_, next) = match_class(p, i, Some('a'))?;
                i = next;
            }
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Matches a `[...]` class starting at `p[start] == '['`; returns (matched, index after `]`).
fn match_class(p: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), ()> {
    let mut i = start + 1;
    let mut negated = false;
    if i < p.len() && p[i] == '^' {
        negated = true;
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        if i >= p.len() {
            return Err(());
        }
        if p[i] == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' {
            i += 1;
            lo = *p.get(i).ok_or(())?;
        } else if lo == '-' || lo == ']' {
            return Err(());
        }
        i += 1;
        let mut hi = lo;
        if i + 1 < p.len() && p[i] == '-' && p[i + 1] != ']' {
            i += 1;
            hi = p[i];
            if hi == '\\' {
                i += 1;
                hi = *p.get(i).ok_or(())?;
            }
            i += 1;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
    }
    let ok = c.is_some_and(|c| c != '/') && (matched != negated);
    Ok((ok, i))
}

/// gobwas/glob with separator `/`, as `.Files.Glob` uses it. An invalid pattern matches nothing.
pub fn files_glob(pattern: &str, name: &str) -> bool {
    for alt in expand_braces(pattern) {
        let p: Vec<char> = alt.chars().collect();
        let n: Vec<char> = name.chars().collect();
        if gob_match(&p, &n) {
            return true;
        }
    }
    false
}

fn expand_braces(p: &str) -> Vec<String> {
    let chars: Vec<char> = p.chars().collect();
    let mut depth = 0;
    let mut open = None;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let o = open.unwrap_or(0);
                    let prefix: String = chars[..o].iter().collect();
                    let suffix: String = chars[i + 1..].iter().collect();
                    let inner: Vec<char> = chars[o + 1..i].to_vec();
                    // split inner on top-level commas
                    let mut parts = Vec::new();
                    let mut cur = String::new();
                    let mut d = 0;
                    for &ch in &inner {
                        match ch {
                            '{' => {
                                d += 1;
                                cur.push(ch)
                            }
                            '}' => {
                                d -= 1;
                                cur.push(ch)
                            }
                            ',' if d == 0 => parts.push(std::mem::take(&mut cur)),
                            _ => cur.push(ch),
                        }
                    }
                    parts.push(cur);
                    let mut out = Vec::new();
                    for part in parts {
                        out.extend(expand_braces(&format!("{prefix}{part}{suffix}")));
                    }
                    return out;
                }
            }
            _ => {}
        }
    }
    vec![p.to_string()]
}

fn gob_match(p: &[char], n: &[char]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        '*' => {
            if p.len() > 1 && p[1] == '*' {
                let rest = &p[2..];
                (0..=n.len()).any(|k| gob_match(rest, &n[k..]))
            } else {
                let rest = &p[1..];
                let mut k = 0;
                loop {
                    if gob_match(rest, &n[k..]) {
                        return true;
                    }
                    if k >= n.len() || n[k] == '/' {
                        return false;
                    }
                    k += 1;
                }
            }
        }
        '?' => !n.is_empty() && n[0] != '/' && gob_match(&p[1..], &n[1..]),
        '[' => match match_gob_class(p, n.first().copied()) {
            Some((true, next)) => gob_match(&p[next..], &n[1..]),
            _ => false,
        },
        '\\' if p.len() > 1 => !n.is_empty() && n[0] == p[1] && gob_match(&p[2..], &n[1..]),
        c => !n.is_empty() && n[0] == c && gob_match(&p[1..], &n[1..]),
    }
}

fn match_gob_class(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let c = c?;
    let mut i = 1;
    let negated = i < p.len() && (p[i] == '!' || p[i] == '^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    while i < p.len() && p[i] != ']' {
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negated, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_follows_filepath_match() {
        assert_eq!(go_match("*.txt", "a.txt"), Ok(true));
        assert_eq!(go_match("*.txt", "d/a.txt"), Ok(false));
        assert_eq!(go_match("d/*.txt", "d/a.txt"), Ok(true));
        assert_eq!(go_match("a?c", "abc"), Ok(true));
        assert_eq!(go_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(go_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(go_match(".*", ".git"), Ok(true));
        assert!(go_match("[", "a").is_err());
    }

    #[test]
    fn helmignore_rules_apply_as_helm_does() {
        let mut r = Rules::parse("# c\n*.md\n/top.txt\nsecret/\ndocs/*.txt\n").unwrap();
        r.add_defaults();
        assert!(r.ignore("README.md", false));
        assert!(r.ignore("sub/README.md", false));
        assert!(r.ignore("top.txt", false));
        assert!(!r.ignore("x/top.txt", false));
        assert!(r.ignore("secret", true));
        assert!(!r.ignore("secret", false));
        assert!(r.ignore("docs/a.txt", false));
        assert!(r.ignore("templates/.hidden", false));
        assert!(!r.ignore("templates/a.yaml", false));
        assert!(Rules::parse("a/**/b").is_err());
        // A negated rule ignores everything it does not match.
        let n = Rules::parse("!keep.txt").unwrap();
        assert!(n.ignore("other.txt", false));
        assert!(!n.ignore("keep.txt", false));
    }

    #[test]
    fn files_glob_uses_gobwas_semantics() {
        assert!(files_glob("files/*", "files/a.conf"));
        assert!(!files_glob("files/*", "files/sub/a.conf"));
        assert!(files_glob("files/**", "files/sub/a.conf"));
        assert!(files_glob("files/*.{yaml,json}", "files/a.json"));
        assert!(files_glob("**.yaml", "a/b/c.yaml"));
        assert!(!files_glob("*.yaml", "a/b.yaml"));
    }
}
