//! Image references as Docker and the containers/image tools parse them:
//! `[registry[:port]/]repo/path[:tag][@digest]`, with Docker Hub's defaults (`docker.io`,
//! `library/` for single-component names, `latest` when neither tag nor digest is given).

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// Docker Hub's canonical registry name and the host its API is served from.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
const MAX_NAME: usize = 255;

/// A fully normalised image reference.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a reference (`nginx` → `docker.io/library/nginx:latest`).
    pub fn parse(input: &str) -> Result<Reference> {
        let bad = |reason: String| Error::InvalidReference {
            input: input.to_string(),
            reason,
        };
        if input.is_empty() {
            return Err(bad("empty reference".into()));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|e| bad(e.to_string()))?)),
            None => (input, None),
        };
        let (name, tag) = split_tag(rest);
        let (registry, repository) = split_registry(name);
        validate_registry(&registry).map_err(&bad)?;
        validate_repository(&repository).map_err(&bad)?;
        if let Some(t) = tag {
            validate_tag(t).map_err(&bad)?;
        }
        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_string()),
            (t, _) => t.map(str::to_string),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// A reference to `repository` in `registry` by tag or digest (`tag_or_digest` may be either).
    pub fn new(registry: &str, repository: &str, tag_or_digest: &str) -> Result<Reference> {
        let sep = if tag_or_digest.contains(':') {
            "@"
        } else {
            ":"
        };
        Reference::parse(&format!("{registry}/{repository}{sep}{tag_or_digest}"))
    }

    /// The registry as named (`docker.io`, `localhost:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }
    /// The host:port the distribution API is served from (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
    pub fn repository(&self) -> &str {
        &self.repository
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }
    /// What to ask the registry for: the digest if pinned, otherwise the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
    /// The same repository at another tag or digest.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            tag: None,
            ..self.clone()
        }
    }
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        validate_tag(tag).map_err(|reason| Error::InvalidReference {
            input: tag.to_string(),
            reason,
        })?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }
}

/// The tag is after the last `:` when no `/` follows it (so `host:5000/repo` has no tag).
fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(i) if !s[i + 1..].contains('/') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    }
}

/// The first component is a registry when it contains `.` or `:`, is `localhost`, or has
/// uppercase letters (Docker's rule); otherwise the name is on Docker Hub.
fn split_registry(name: &str) -> (String, String) {
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    let registry = if registry == "index.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        registry
    };
    if registry == DOCKER_HUB && !repo.contains('/') {
        return (registry, format!("library/{repo}"));
    }
    (registry, repo)
}

fn validate_registry(r: &str) -> Result<(), String> {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (r, None),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    {
        return Err(format!("invalid registry host {r:?}"));
    }
    if let Some(p) = port {
        p.parse::<u16>()
            .map_err(|_| format!("invalid registry port {p:?} in {r:?}"))?;
    }
    Ok(())
}

/// Path components: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn validate_repository(repo: &str) -> Result<(), String> {
    if repo.len() > MAX_NAME {
        return Err(format!("repository name longer than {MAX_NAME} characters"));
    }
    if repo.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository name must be lowercase".into());
    }
    for comp in repo.split('/') {
        if !valid_component(comp) {
            return Err(format!(
                "invalid repository path component {comp:?} (lowercase letters and digits, separated by '.', '_', '__' or '-')"
            ));
        }
    }
    Ok(())
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn validate_tag(t: &str) -> Result<(), String> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && (t.as_bytes()[0].is_ascii_alphanumeric() || t.as_bytes()[0] == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid tag {t:?} (up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-')"
        ))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}
impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reference> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn docker_hub_defaults_match_docker() {
        assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(norm("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(
            norm("index.docker.io/nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            Reference::parse("nginx").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn registry_is_recognised_by_dot_colon_or_localhost() {
        let r = Reference::parse("localhost:5000/a/b:v1").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("localhost:5000", "a/b", Some("v1"))
        );
        let r = Reference::parse("localhost/x").unwrap();
        assert_eq!((r.registry(), r.repository()), ("localhost", "x"));
        let r = Reference::parse("quay.io/operator-framework/olm").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("quay.io", "operator-framework/olm", Some("latest"))
        );
        // A port without a tag: the colon belongs to the registry.
        let r = Reference::parse("127.0.0.1:5000/repo").unwrap();
        assert_eq!((r.registry(), r.tag()), ("127.0.0.1:5000", Some("latest")));
    }

    #[test]
    fn digest_pins_and_tag_is_kept_beside_it() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = Reference::parse(&format!("reg.io/a:v1@{d}")).unwrap();
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.manifest_reference(), d);
        let r = Reference::parse(&format!("reg.io/a@{d}")).unwrap();
        assert_eq!(r.tag(), None);
    }

    #[test]
    fn malformed_references_are_refused_with_the_reason() {
        for (input, why) in [
            ("Reg.io/UPPER", "lowercase"),
            ("reg.io/a//b", "path component"),
            ("reg.io/a:-bad", "invalid tag"),
            ("reg.io/a@sha256:123", "hex characters"),
            ("reg.io:99999/a", "port"),
            ("", "empty"),
        ] {
            let e = Reference::parse(input).unwrap_err().to_string();
            assert!(e.contains(why), "{input}: {e}");
        }
    }

    #[test]
    fn separators_follow_the_distribution_grammar() {
        assert!(valid_component("a__b"));
        assert!(valid_component("a---b"));
        assert!(valid_component("a.b_c"));
        assert!(!valid_component("a..b"));
        assert!(!valid_component("a___b"));
        assert!(!valid_component("-a"));
    }
}
