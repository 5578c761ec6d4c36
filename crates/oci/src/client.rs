//! The distribution-protocol client for one registry: `/v2/` ping, challenge authentication
//! (anonymous, Basic, Bearer tokens per scope with refresh), TLS with system roots plus a custom CA,
//! `tls_verify = false` (unverified HTTPS, then plain HTTP, as skopeo does), retries with backoff on
//! 5xx and connection failures, manifests, tags, referrers and blob download. Uploads are in
//! [`crate::upload`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::Mutex;
use url::Url;

use crate::auth::{self, Challenge, Credentials};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{RawManifest, media};

/// How to reach and authenticate to a registry.
#[derive(Clone, Debug)]
pub struct Options {
    pub credentials: Option<Credentials>,
    /// Verify TLS certificates. When false, unverified HTTPS is tried first and plain HTTP after it
    /// (skopeo's `--tls-verify=false`).
    pub tls_verify: bool,
    /// Speak plain HTTP only.
    pub plain_http: bool,
    /// Extra trusted CA certificates (PEM).
    pub ca_pem: Vec<Vec<u8>>,
    /// Bytes per PATCH of a chunked upload; blobs up to this size go in one PUT.
    pub chunk_size: u64,
    /// Attempts for a request that failed with 5xx or a broken connection.
    pub max_attempts: u32,
    /// First retry delay; doubled each attempt.
    pub backoff: Duration,
    /// Where unfinished upload sessions are remembered so that a later run resumes them.
    pub resume_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            credentials: None,
            tls_verify: true,
            plain_http: false,
            ca_pem: Vec::new(),
            chunk_size: 64 << 20,
            max_attempts: 5,
            backoff: Duration::from_millis(200),
            resume_dir: None,
        }
    }
}

/// What the registry asked for on `/v2/`.
#[derive(Clone, Debug, Default)]
enum AuthScheme {
    #[default]
    Anonymous,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

#[derive(Default)]
struct AuthState {
    scheme: AuthScheme,
    tokens: HashMap<String, (String, Instant)>,
}

/// A connection to one registry; cheap to share behind an `Arc` across parallel transfers.
pub struct Registry {
    name: String,
    base: Url,
    http: reqwest::Client,
    pub(crate) opts: Options,
    auth: Mutex<AuthState>,
    /// Repositories of this registry known to hold a blob (pushed or found there by this client),
    /// so the next repository can mount it instead of uploading it again.
    pub(crate) known: std::sync::Mutex<HashMap<Digest, String>>,
}

/// The scope a request needs: pulling from, or pushing to, repositories.
#[derive(Clone, Debug)]
pub struct Scope(Vec<String>);

impl Scope {
    pub fn pull(repo: &str) -> Scope {
        Scope(vec![auth::repository_scope(repo, false)])
    }
    pub fn push(repo: &str) -> Scope {
        Scope(vec![auth::repository_scope(repo, true)])
    }
    /// Push to `repo` and pull from `from` (for a cross-repository mount).
    pub fn push_mount(repo: &str, from: &str) -> Scope {
        Scope(vec![
            auth::repository_scope(repo, true),
            auth::repository_scope(from, false),
        ])
    }
    fn key(&self) -> String {
        self.0.join(" ")
    }
}

impl Registry {
    /// Connects to `host` (`HOST[:PORT]`, as in a reference's [`crate::Reference::api_host`]),
    /// pings `/v2/` and learns how it authenticates. `name` is used in messages.
    pub async fn connect(host: &str, opts: Options) -> Result<Registry> {
        let http = build_http(&opts, host)?;
        let schemes: &[&str] = if opts.plain_http {
            &["http"]
        } else if opts.tls_verify {
            &["https"]
        } else {
            &["https", "http"]
        };
        let mut last_err = None;
        for scheme in schemes {
            let base = Url::parse(&format!("{scheme}://{host}/"))
                .map_err(|e| Error::Config(format!("registry {host:?}: {e}")))?;
            let reg = Registry {
                name: host.to_string(),
                base,
                http: http.clone(),
                opts: opts.clone(),
                auth: Mutex::new(AuthState::default()),
                known: Default::default(),
            };
            // Probing HTTPS before plain HTTP: one attempt, no retries (a plain-HTTP port answers
            // a TLS handshake with an error at once; retrying it only adds the backoff).
            let probing = *scheme == "https" && schemes.len() > 1;
            match reg.ping(probing).await {
                Ok(()) => return Ok(reg),
                Err(e @ Error::Transport { .. }) => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| Error::Config(format!("registry {host}: no scheme to try"))))
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `GET /v2/`: 200 means anonymous access; 401 carries the challenge.
    async fn ping(&self, once: bool) -> Result<()> {
        let url = self.url("v2/")?;
        let resp = if once {
            self.send_once(self.http.get(url.clone())).await?
        } else {
            self.with_retries("ping", || self.http.get(url.clone()))
                .await?
        };
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => {
                let challenge = challenge_of(&resp).ok_or_else(|| Error::Protocol {
                    registry: self.name.clone(),
                    reason: "GET /v2/ answered 401 without a usable WWW-Authenticate challenge"
                        .into(),
                })?;
                self.auth.lock().await.scheme = scheme_of(challenge);
                Ok(())
            }
            StatusCode::NOT_FOUND => Err(Error::Protocol {
                registry: self.name.clone(),
                reason: "GET /v2/ answered 404: not a registry (distribution API v2)".into(),
            }),
            _ => Err(self.http_error(resp, "GET").await),
        }
    }

    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Config(format!("registry {}: bad path {path:?}: {e}", self.name)))
    }

    /// Resolves an upload `Location` (absolute or relative to the registry).
    pub(crate) fn resolve(&self, location: &str) -> Result<Url> {
        self.base.join(location).map_err(|e| Error::Protocol {
            registry: self.name.clone(),
            reason: format!("bad Location {location:?}: {e}"),
        })
    }

    /// Sends a request built by `build` with authentication for `scope`; one retry after a 401
    /// (fresh challenge or token), and retries with backoff on transient failures when `retry`.
    pub(crate) async fn send(
        &self,
        scope: &Scope,
        retry: bool,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let mut refreshed = false;
        loop {
            let authz = self.authorization(scope).await?;
            let go = || {
                let rb = build(&self.http);
                match &authz {
                    Some(h) => rb.header(header::AUTHORIZATION, h.clone()),
                    None => rb,
                }
            };
            let resp = if retry {
                self.with_retries("request", go).await?
            } else {
                self.send_once(go()).await?
            };
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            if refreshed {
                return Err(self.unauthorized(resp).await);
            }
            refreshed = true;
            let mut state = self.auth.lock().await;
            state.tokens.remove(&scope.key());
            if let Some(c) = challenge_of(&resp) {
                state.scheme = scheme_of(c);
            }
        }
    }

    async fn send_once(&self, rb: RequestBuilder) -> Result<Response> {
        rb.send().await.map_err(|e| self.transport("request", e))
    }

    /// Retries `build`'s request on connection failures and 5xx/429 with exponential backoff.
    async fn with_retries(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response> {
        let mut delay = self.opts.backoff;
        for attempt in 1..=self.opts.max_attempts.max(1) {
            let last = attempt == self.opts.max_attempts.max(1);
            match build().send().await {
                Ok(r)
                    if r.status().is_server_error()
                        || r.status() == StatusCode::TOO_MANY_REQUESTS =>
                {
                    if last {
                        return Ok(r);
                    }
                    tracing::debug!(registry = %self.name, status = %r.status(), attempt, "retrying after server error");
                }
                Ok(r) => return Ok(r),
                Err(e) if last || !(e.is_connect() || e.is_timeout() || e.is_request()) => {
                    return Err(self.transport(what, e));
                }
                Err(e) => {
                    tracing::debug!(registry = %self.name, error = %e, attempt, "retrying after transport error")
                }
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        unreachable!("the last attempt returns")
    }

    /// The Authorization header for `scope`, fetching a bearer token when needed.
    async fn authorization(&self, scope: &Scope) -> Result<Option<HeaderValue>> {
        let mut state = self.auth.lock().await;
        let value = match state.scheme.clone() {
            AuthScheme::Anonymous => return Ok(None),
            AuthScheme::Basic => match &self.opts.credentials {
                Some(c) => c.basic_header(),
                None => return Ok(None),
            },
            AuthScheme::Bearer { realm, service } => {
                let key = scope.key();
                match state.tokens.get(&key) {
                    Some((t, until)) if *until > Instant::now() => format!("Bearer {t}"),
                    _ => {
                        let (token, lifetime) =
                            self.fetch_token(&realm, service.as_deref(), scope).await?;
                        // Refresh ten seconds before the token service says it expires.
                        let until = Instant::now()
                            + Duration::from_secs(lifetime.saturating_sub(10).max(1));
                        state.tokens.insert(key, (token.clone(), until));
                        format!("Bearer {token}")
                    }
                }
            }
        };
        HeaderValue::from_str(&value).map(Some).map_err(|_| {
            Error::Credentials(format!(
                "credentials for {} contain characters not allowed in a header",
                self.name
            ))
        })
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &Scope,
    ) -> Result<(String, u64)> {
        let url = auth::token_url(realm, service, &scope.0)?;
        let creds = self.opts.credentials.clone();
        let resp = self
            .with_retries("token request", || {
                let rb = self.http.get(url.clone());
                match &creds {
                    Some(c) => rb.header(header::AUTHORIZATION, c.basic_header()),
                    None => rb,
                }
            })
            .await?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            let status = resp.status();
            let body = error_text(resp).await;
            return Err(Error::Unauthorized {
                registry: self.name.clone(),
                user: self.user_note(),
                reason: format!("token service {realm} answered {status}: {body}"),
            });
        }
        if !resp.status().is_success() {
            return Err(self.http_error(resp, "GET").await);
        }
        let body: auth::TokenResponse = resp
            .json()
            .await
            .map_err(|e| self.transport("token response", e))?;
        let token = body.bearer().ok_or_else(|| Error::Protocol {
            registry: self.name.clone(),
            reason: format!("token service {realm} returned no token"),
        })?;
        Ok((token.to_string(), body.lifetime_secs()))
    }

    fn user_note(&self) -> String {
        match &self.opts.credentials {
            Some(c) => format!(" of user {:?}", c.username),
            None => " (no credentials were given; pass --creds USER:PASSWORD or log in)".into(),
        }
    }

    async fn unauthorized(&self, resp: Response) -> Error {
        let status = resp.status();
        let mut body = error_text(resp).await;
        if body == "(empty body)" {
            body = "the user name or password is wrong, or the account has no access".into();
        }
        Error::Unauthorized {
            registry: self.name.clone(),
            user: self.user_note(),
            reason: format!("HTTP {status}: {body}"),
        }
    }

    pub(crate) fn transport(&self, what: &str, source: reqwest::Error) -> Error {
        Error::Transport {
            registry: self.name.clone(),
            what: what.to_string(),
            source,
        }
    }

    /// Turns an unexpected response into an error naming the registry, request and the registry's
    /// own error text.
    pub(crate) async fn http_error(&self, resp: Response, method: &str) -> Error {
        let status = resp.status();
        let url = resp.url().path().to_string();
        let body = error_text(resp).await;
        match status {
            StatusCode::FORBIDDEN => Error::Denied {
                registry: self.name.clone(),
                what: url,
                reason: body,
            },
            StatusCode::UNAUTHORIZED => Error::Unauthorized {
                registry: self.name.clone(),
                user: self.user_note(),
                reason: body,
            },
            _ => Error::Http {
                registry: self.name.clone(),
                method: method.into(),
                url,
                status: status.as_u16(),
                body,
            },
        }
    }

    // ---- manifests -------------------------------------------------------------------------------

    /// Fetches a manifest or index by tag or digest, verifying it against the digest asked for or
    /// the `Docker-Content-Digest` the registry reports.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest> {
        let url = self.url(&format!("v2/{repo}/manifests/{reference}"))?;
        let resp = self
            .send(&Scope::pull(repo), true, |h| {
                h.get(url.clone())
                    .header(header::ACCEPT, media::ACCEPT_MANIFESTS)
            })
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                registry: self.name.clone(),
                what: format!("manifest {repo}:{reference}"),
            });
        }
        if !resp.status().is_success() {
            return Err(self.http_error(resp, "GET").await);
        }
        let content_type = header_str(resp.headers(), header::CONTENT_TYPE);
        let reported = header_str(resp.headers(), "docker-content-digest");
        let bytes = read_limited(resp, crate::manifest::MAX_MANIFEST_BYTES, &self.name).await?;
        let expected = match Digest::parse(reference) {
            Ok(d) => Some(d),
            Err(_) => reported.as_deref().and_then(|d| Digest::parse(d).ok()),
        };
        match expected {
            Some(d) => RawManifest::parse_verified(bytes, content_type.as_deref(), &d),
            None => RawManifest::parse(bytes, content_type.as_deref()),
        }
    }

    /// `HEAD` a manifest: its digest and media type, or None.
    pub async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Digest, String)>> {
        let url = self.url(&format!("v2/{repo}/manifests/{reference}"))?;
        let resp = self
            .send(&Scope::pull(repo), true, |h| {
                h.head(url.clone())
                    .header(header::ACCEPT, media::ACCEPT_MANIFESTS)
            })
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.http_error(resp, "HEAD").await);
        }
        let digest = header_str(resp.headers(), "docker-content-digest")
            .and_then(|d| Digest::parse(&d).ok());
        let mt = header_str(resp.headers(), header::CONTENT_TYPE).unwrap_or_default();
        Ok(digest.map(|d| (d, mt)))
    }

    /// Stores a manifest under `reference` (a tag, or its own digest).
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        m: &RawManifest,
    ) -> Result<Digest> {
        let url = self.url(&format!("v2/{repo}/manifests/{reference}"))?;
        let body = bytes::Bytes::from(m.bytes.clone());
        let resp = self
            .send(&Scope::push(repo), true, |h| {
                h.put(url.clone())
                    .header(header::CONTENT_TYPE, m.media_type.as_str())
                    .body(body.clone())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(self.http_error(resp, "PUT").await);
        }
        if let Some(d) = header_str(resp.headers(), "docker-content-digest")
            && d != m.digest.to_string()
        {
            return Err(Error::Protocol {
                registry: self.name.clone(),
                reason: format!("stored manifest {} but reports digest {d}", m.digest),
            });
        }
        Ok(m.digest.clone())
    }

    /// Deletes a manifest by digest (registries refuse deleting by tag).
    pub async fn delete_manifest(&self, repo: &str, digest: &Digest) -> Result<()> {
        let url = self.url(&format!("v2/{repo}/manifests/{digest}"))?;
        let resp = self
            .send(&Scope::push(repo), true, |h| h.delete(url.clone()))
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(Error::NotFound {
                registry: self.name.clone(),
                what: format!("manifest {repo}@{digest}"),
            }),
            _ => Err(self.http_error(resp, "DELETE").await),
        }
    }

    /// All tags of `repo`, following `Link` pagination.
    pub async fn tags(&self, repo: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.url(&format!("v2/{repo}/tags/list?n=1000"))?;
        let mut out = Vec::new();
        loop {
            let resp = self
                .send(&Scope::pull(repo), true, |h| h.get(url.clone()))
                .await?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Err(Error::NotFound {
                    registry: self.name.clone(),
                    what: format!("repository {repo}"),
                });
            }
            if !resp.status().is_success() {
                return Err(self.http_error(resp, "GET").await);
            }
            let next = header_str(resp.headers(), header::LINK).and_then(|l| next_link(&l));
            let page: TagList = resp
                .json()
                .await
                .map_err(|e| self.transport("tags list", e))?;
            out.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => url = self.resolve(&n)?,
                None => return Ok(out),
            }
        }
    }

    /// The referrers index of `digest`, or None when the registry does not offer the API.
    pub async fn referrers(&self, repo: &str, digest: &Digest) -> Result<Option<RawManifest>> {
        let url = self.url(&format!("v2/{repo}/referrers/{digest}"))?;
        let resp = self
            .send(&Scope::pull(repo), true, |h| {
                h.get(url.clone()).header(header::ACCEPT, media::OCI_INDEX)
            })
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.http_error(resp, "GET").await);
        }
        let ct = header_str(resp.headers(), header::CONTENT_TYPE);
        let bytes = read_limited(resp, crate::manifest::MAX_MANIFEST_BYTES, &self.name).await?;
        RawManifest::parse(bytes, ct.as_deref()).map(Some)
    }

    // ---- blobs -----------------------------------------------------------------------------------

    /// `HEAD` a blob: its size when the repository has it.
    pub async fn blob_size(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        let url = self.url(&format!("v2/{repo}/blobs/{digest}"))?;
        let resp = self
            .send(&Scope::pull(repo), true, |h| h.head(url.clone()))
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(Some(resp.content_length().unwrap_or(0))),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.http_error(resp, "HEAD").await),
        }
    }

    /// Opens a blob for reading from byte `offset` (a `Range` request when > 0).
    pub async fn get_blob(&self, repo: &str, digest: &Digest, offset: u64) -> Result<Response> {
        let url = self.url(&format!("v2/{repo}/blobs/{digest}"))?;
        let resp = self
            .send(&Scope::pull(repo), true, |h| {
                let rb = h.get(url.clone());
                if offset > 0 {
                    rb.header(header::RANGE, format!("bytes={offset}-"))
                } else {
                    rb
                }
            })
            .await?;
        match resp.status() {
            StatusCode::OK if offset == 0 => Ok(resp),
            StatusCode::PARTIAL_CONTENT if offset > 0 => Ok(resp),
            StatusCode::OK => Err(Error::Protocol {
                registry: self.name.clone(),
                reason: format!("blob {digest}: registry ignored the Range request"),
            }),
            StatusCode::NOT_FOUND => Err(Error::NotFound {
                registry: self.name.clone(),
                what: format!("blob {repo}@{digest}"),
            }),
            _ => Err(self.http_error(resp, "GET").await),
        }
    }
}

fn build_http(opts: &Options, host: &str) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(16)
        .tcp_nodelay(true)
        .user_agent(concat!("marketplace-oci/", env!("CARGO_PKG_VERSION")));
    for pem in &opts.ca_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Config(format!("CA for registry {host}: {e}")))?
        {
            b = b.add_root_certificate(cert);
        }
    }
    if !opts.tls_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| Error::Config(format!("HTTP client for registry {host}: {e}")))
}

fn challenge_of(resp: &Response) -> Option<Challenge> {
    resp.headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::parse_challenge)
}

fn scheme_of(c: Challenge) -> AuthScheme {
    match c {
        Challenge::Basic { .. } => AuthScheme::Basic,
        Challenge::Bearer { realm, service, .. } => AuthScheme::Bearer { realm, service },
    }
}

pub(crate) fn header_str(h: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `<url>; rel="next"` from a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            Some(part[start..end].to_string())
        })
}

/// The registry's error text: `errors[].message` (and detail) when it sent JSON, else the body.
pub(crate) async fn error_text(resp: Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    distribution_errors(&text).unwrap_or_else(|| {
        let t = text.trim();
        if t.is_empty() {
            "(empty body)".to_string()
        } else {
            t.chars().take(300).collect()
        }
    })
}

/// `{"errors":[{"code":"DENIED","message":"..."}]}` → `DENIED: ...; ...`.
pub fn distribution_errors(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let errs = v.get("errors")?.as_array()?;
    let parts: Vec<String> = errs
        .iter()
        .map(|e| {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
            format!("{code}: {msg}")
        })
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

async fn read_limited(resp: Response, limit: usize, registry: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::Transport {
            registry: registry.to_string(),
            what: "reading a manifest".into(),
            source: e,
        })?;
        if out.len() + chunk.len() > limit {
            return Err(Error::TooLarge {
                what: format!("a manifest from {registry}"),
                limit: limit as u64,
                hint: "manifests are small JSON documents".into(),
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_finds_the_rel_next_url() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }

    #[test]
    fn distribution_errors_are_summarised_with_codes() {
        let body = r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#;
        assert_eq!(
            distribution_errors(body).unwrap(),
            "DIGEST_INVALID: provided digest did not match uploaded content"
        );
        assert_eq!(distribution_errors("not json"), None);
    }
}
