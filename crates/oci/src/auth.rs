//! Registry authentication as pure logic: `WWW-Authenticate` challenges (Basic and Bearer with
//! realm/service/scope), token-request URLs, token responses, and credentials from the command line
//! or Docker's `config.json` (`auths.<registry>.auth`, `username`/`password`, `identitytoken`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// User name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

impl Credentials {
    /// `USER:PASSWORD` as skopeo's `--src-creds` / `--dest-creds` take it.
    pub fn parse(s: &str) -> Result<Credentials> {
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok(Credentials {
                username: u.into(),
                password: p.into(),
            }),
            _ => Err(Error::Credentials("expected USERNAME:PASSWORD".into())),
        }
    }
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// What a registry asked for in `WWW-Authenticate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic {
        realm: String,
    },
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
        error: Option<String>,
    },
}

/// Parses one challenge header (`Bearer realm="...",service="...",scope="..."`).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| params.get(k).cloned();
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic {
            realm: get("realm").unwrap_or_default(),
        }),
        "bearer" => Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
            error: get("error"),
        }),
        _ => None,
    }
}

/// `k="v", k2=v2` with quoted values that may contain commas and escaped quotes.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        out.insert(key, value);
    }
    out
}

/// The token request URL: realm with `service` and one `scope` parameter per scope.
pub fn token_url(realm: &str, service: Option<&str>, scopes: &[String]) -> Result<url::Url> {
    let mut url = url::Url::parse(realm)
        .map_err(|e| Error::Config(format!("token realm {realm:?} is not a URL: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(s) = service {
            q.append_pair("service", s);
        }
        for s in scopes {
            q.append_pair("scope", s);
        }
    }
    Ok(url)
}

/// `repository:<name>:<actions>` as the token service expects.
pub fn repository_scope(repository: &str, push: bool) -> String {
    format!(
        "repository:{repository}:{}",
        if push { "pull,push" } else { "pull" }
    )
}

/// A token service's answer (`token` or OAuth2's `access_token`, lifetime in seconds, default 60).
#[derive(Debug, serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    pub fn bearer(&self) -> Option<&str> {
        self.token
            .as_deref()
            .or(self.access_token.as_deref())
            .filter(|t| !t.is_empty())
    }
    pub fn lifetime_secs(&self) -> u64 {
        self.expires_in.filter(|s| *s > 0).unwrap_or(60)
    }
}

#[derive(serde::Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
}

#[derive(serde::Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// Looks `registry` up in the text of a Docker `config.json`. Keys may be bare hosts or URLs
/// (`https://index.docker.io/v1/` for Docker Hub).
pub fn credentials_from_docker_config(text: &str, registry: &str) -> Result<Option<Credentials>> {
    let cfg: DockerConfig = serde_json::from_str(text)
        .map_err(|e| Error::Credentials(format!("docker config.json: {e}")))?;
    let wanted = normalize_config_key(registry);
    let Some((_, entry)) = cfg
        .auths
        .iter()
        .find(|(k, _)| normalize_config_key(k) == wanted)
    else {
        return Ok(None);
    };
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = STANDARD.decode(auth.trim()).map_err(|e| {
            Error::Credentials(format!(
                "config.json auths.{registry}.auth is not base64: {e}"
            ))
        })?;
        let text = String::from_utf8(decoded).map_err(|_| {
            Error::Credentials(format!("config.json auths.{registry}.auth is not UTF-8"))
        })?;
        return Credentials::parse(&text).map(Some).map_err(|_| {
            Error::Credentials(format!(
                "config.json auths.{registry}.auth must encode USERNAME:PASSWORD"
            ))
        });
    }
    if let Some(token) = &entry.identitytoken {
        return Ok(Some(Credentials {
            username: "<token>".into(),
            password: token.clone(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

fn normalize_config_key(k: &str) -> String {
    let k = k
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".into(),
        h => h.to_string(),
    }
}

/// Where Docker and the containers tools keep credentials: `$REGISTRY_AUTH_FILE`,
/// `$XDG_RUNTIME_DIR/containers/auth.json`, `$DOCKER_CONFIG/config.json`, `~/.docker/config.json`.
pub fn default_config_paths() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        v.push(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_RUNTIME_DIR") {
        v.push(Path::new(&p).join("containers/auth.json"));
    }
    if let Some(p) = std::env::var_os("DOCKER_CONFIG") {
        v.push(Path::new(&p).join("config.json"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        v.push(Path::new(&h).join(".docker/config.json"));
    }
    v
}

/// The first credentials for `registry` found in `paths` (missing files are skipped).
pub fn lookup_credentials(paths: &[PathBuf], registry: &str) -> Result<Option<Credentials>> {
    for p in paths {
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(p.display(), e)),
        };
        if let Some(c) = credentials_from_docker_config(&text, registry)
            .map_err(|e| Error::Credentials(format!("{}: {e}", p.display())))?
        {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_quoted_commas_in_scope() {
        let c = parse_challenge(r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#).unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
                error: None
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic {
                realm: "Registry Realm".into()
            })
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn token_url_carries_service_and_every_scope() {
        let u = token_url(
            "https://a/token?x=1",
            Some("svc"),
            &[
                repository_scope("r/a", true),
                repository_scope("r/b", false),
            ],
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://a/token?x=1&service=svc&scope=repository%3Ar%2Fa%3Apull%2Cpush&scope=repository%3Ar%2Fb%3Apull"
        );
    }

    #[test]
    fn docker_config_auth_and_hub_aliases() {
        let cfg = r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},"localhost:5000":{"username":"a","password":"b"}}}"#;
        let c = credentials_from_docker_config(cfg, "docker.io")
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("user", "pa:ss")
        );
        let c = credentials_from_docker_config(cfg, "localhost:5000")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "a");
        assert!(
            credentials_from_docker_config(cfg, "quay.io")
                .unwrap()
                .is_none()
        );
        let e = credentials_from_docker_config(r#"{"auths":{"q.io":{"auth":"!!"}}}"#, "q.io")
            .unwrap_err();
        assert!(e.to_string().contains("auths.q.io.auth"), "{e}");
    }

    #[test]
    fn token_response_accepts_oauth_access_token_and_defaults_lifetime() {
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"abc"}"#).unwrap();
        assert_eq!((t.bearer(), t.lifetime_secs()), (Some("abc"), 60));
    }
}
