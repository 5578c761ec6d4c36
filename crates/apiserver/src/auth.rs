//! Authentication and authorization of every request, as kube-apiserver does it.
//!
//! Authentication (bearer tokens): the admin token (`<data-dir>/admin.token`, mode 0600, created on
//! first start) is user `marketplace-admin` in `system:masters`; ServiceAccount JWTs issued by
//! TokenRequest (`kubectl create token`) are verified with the key `<data-dir>/sa.key` (0600) and
//! valid only while their ServiceAccount (same uid) exists in the addressed cluster; user tokens
//! issued by [`Identity::issue_user_token`] are kept hashed in `<data-dir>/user-tokens.json`.
//! Anything else is a 401 `Status`. `/healthz`, `/livez`, `/readyz` and `/version` (also under a
//! `/kubernetes/<cluster>` prefix) need no token.
//!
//! Then `Impersonate-*` headers are honoured for callers allowed the `impersonate` verb, and the
//! request is authorized with RBAC (`auth::rbac`; `system:masters` short-circuits), through the
//! per-cluster [`cache::RbacCache`]. A denial is kube-apiserver's 403 `Status`.
//! The pure logic lives in the `auth` crate; this module reads the store and the data dir.

pub mod bootstrap;
pub mod cache;

use std::path::Path;

/// Paths that need no token.
pub fn is_public_path(path: &str) -> bool {
    let p = match path.strip_prefix("/kubernetes/") {
        Some(rest) => match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        },
        None => path,
    };
    let p = p.trim_end_matches('/');
    matches!(p, "/healthz" | "/livez" | "/readyz" | "/version")
        || p.starts_with("/healthz/")
        || p.starts_with("/livez/")
        || p.starts_with("/readyz/")
}

/// Loads `<data-dir>/admin.token` or creates it with 244 bits of randomness.
pub fn load_or_create_token(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("admin.token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    crate::fsutil::write_atomic(&path, token.as_bytes(), 0o600)?;
    Ok(token)
}

/// Whether the `Authorization` header carries `expected`.
pub fn check_bearer(header: Option<&[u8]>, expected: &str) -> bool {
    header
        .and_then(bearer_of)
        .is_some_and(|tok| constant_time_eq(tok, expected.as_bytes()))
}

/// The token of an `Authorization: Bearer <token>` header value, if it names one.
fn bearer_of(header: &[u8]) -> Option<&[u8]> {
    let tok = header
        .strip_prefix(b"Bearer ")
        .or_else(|| header.strip_prefix(b"bearer "))?
        .trim_ascii();
    (!tok.is_empty()).then_some(tok)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use ::auth::impersonate;
use ::auth::rbac::{Decision, forbidden_reason};
use ::auth::tokens::{
    self as tokens, Claims, DEFAULT_ISSUER, ServiceAccountSigner, TokenRequest, UserTokens,
};
use ::auth::{Attributes, ResourceAttributes, UserInfo};
use http::HeaderMap;
use serde_json::Value;
use store::Key;

use crate::cluster::ClusterState;
use crate::error::ApiError;

/// Why identity material could not be loaded or a token not issued.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key {
        path: PathBuf,
        source: tokens::TokenError,
    },
    #[error(transparent)]
    Token(#[from] tokens::TokenError),
    #[error(
        "{path} cannot be read: {message}; fix or delete it (deleting revokes every user token)"
    )]
    UserTokens { path: PathBuf, message: String },
}

/// Who may call: the admin token, the ServiceAccount signer, the platform's user tokens, and the
/// per-cluster RBAC caches.
pub struct Identity {
    admin_token: String,
    signer: ServiceAccountSigner,
    user_tokens: RwLock<UserTokens>,
    user_tokens_path: PathBuf,
    rbac: BTreeMap<String, cache::RbacCache>,
    user_token_check: RwLock<Option<UserTokenCheck>>,
}

/// A further check a platform user token must pass (installed by the platform: the user still
/// exists and the token is of the user's current generation).
pub type UserTokenCheck = Arc<dyn Fn(&tokens::UserTokenRecord) -> bool + Send + Sync>;

/// The identity a request acts as, with the server's identity services, carried by handlers.
#[derive(Clone)]
pub struct Caller {
    pub user: Arc<UserInfo>,
    pub identity: Arc<Identity>,
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Identity {
    /// The admin bearer token (`<data-dir>/admin.token`), the one copy the control plane keeps.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Loads (or creates on first start) the signing key and the user-token file.
    pub fn load_or_create<'a>(
        data_dir: &Path,
        admin_token: &str,
        clusters: impl IntoIterator<Item = &'a String>,
    ) -> Result<Identity, IdentityError> {
        let key_path = data_dir.join("sa.key");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IdentityError::Io { path, source }
        };
        let pem = match std::fs::read_to_string(&key_path) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pem = tokens::generate_signing_key_pem()?;
                crate::fsutil::write_atomic(&key_path, pem.as_bytes(), 0o600)
                    .map_err(io(&key_path))?;
                pem
            }
            Err(e) => return Err(io(&key_path)(e)),
        };
        let signer = ServiceAccountSigner::from_pem(&pem, DEFAULT_ISSUER).map_err(|source| {
            IdentityError::Key {
                path: key_path.clone(),
                source,
            }
        })?;
        let user_tokens_path = data_dir.join("user-tokens.json");
        let user_tokens = match std::fs::read(&user_tokens_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| IdentityError::UserTokens {
                path: user_tokens_path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => UserTokens::default(),
            Err(e) => return Err(io(&user_tokens_path)(e)),
        };
        Ok(Identity {
            admin_token: admin_token.to_string(),
            signer,
            user_tokens: RwLock::new(user_tokens),
            user_tokens_path,
            rbac: clusters
                .into_iter()
                .map(|c| (c.clone(), cache::RbacCache::default()))
                .collect(),
            user_token_check: RwLock::new(None),
        })
    }

    /// Installs the check every platform user token must also pass from now on.
    pub fn set_user_token_check(&self, check: UserTokenCheck) {
        *self
            .user_token_check
            .write()
            .expect("user token check lock poisoned") = Some(check);
    }

    /// Issues a platform user token for `name` in `groups` (plus `system:authenticated`), valid
    /// for `ttl` (`None`: until revoked); persisted (hashed) at once so a restart keeps it valid.
    pub fn issue_user_token(
        &self,
        name: &str,
        groups: &[String],
        ttl: Option<std::time::Duration>,
    ) -> Result<String, IdentityError> {
        self.issue_user_token_with_extra(name, groups, BTreeMap::new(), ttl)
    }

    /// [`Identity::issue_user_token`] with the user's `extra` attributes.
    pub fn issue_user_token_with_extra(
        &self,
        name: &str,
        groups: &[String],
        extra: BTreeMap<String, Vec<String>>,
        ttl: Option<std::time::Duration>,
    ) -> Result<String, IdentityError> {
        let now = now_unix();
        let ttl = ttl.map(|d| d.as_secs() as i64);
        self.update_user_tokens(|next| next.issue_with_extra(name, groups, extra, ttl, now))?
            .map_err(IdentityError::from)
    }

    /// Revokes one user token; `Ok(false)` when it was not known.
    pub fn revoke_user_token(&self, token: &str) -> Result<bool, IdentityError> {
        self.update_user_tokens(|next| next.revoke(token))
    }

    /// Revokes every token of user `name`; returns how many there were.
    pub fn revoke_user_tokens_of(&self, name: &str) -> Result<usize, IdentityError> {
        self.update_user_tokens(|next| next.revoke_user(name))
    }

    /// Applies `change` to a copy of the user tokens (expired ones pruned), persists the copy and
    /// only then makes it current, so the file and memory never disagree.
    fn update_user_tokens<T>(
        &self,
        change: impl FnOnce(&mut UserTokens) -> T,
    ) -> Result<T, IdentityError> {
        let mut store = self.user_tokens.write().expect("user tokens lock poisoned");
        let mut next = store.clone();
        next.prune(now_unix());
        let out = change(&mut next);
        let bytes = serde_json::to_vec_pretty(&next).expect("user tokens serialize");
        crate::fsutil::write_atomic(&self.user_tokens_path, &bytes, 0o600).map_err(|source| {
            IdentityError::Io {
                path: self.user_tokens_path.clone(),
                source,
            }
        })?;
        *store = next;
        Ok(out)
    }

    /// Issues a ServiceAccount token for `namespace/name` in `cluster` (TokenRequest): the
    /// account must exist; the token carries its uid.
    pub fn issue_service_account_token(
        &self,
        cluster: &ClusterState,
        namespace: &str,
        name: &str,
        audiences: Vec<String>,
        expiration_seconds: i64,
    ) -> Result<(String, Claims), ApiError> {
        let sa = cluster
            .store
            .get(&Key::new("serviceaccounts", namespace, name))
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(|| ApiError::not_found("", "serviceaccounts", name))?;
        let uid = sa
            .value
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let req = TokenRequest {
            namespace,
            name,
            uid,
            audiences,
            expiration_seconds,
        };
        self.signer.issue(&req, now_unix()).map_err(|e| match e {
            tokens::TokenError::Request(m) => ApiError::Other {
                code: 422,
                reason: "Invalid".into(),
                message: format!("TokenRequest.authentication.k8s.io {name:?} is invalid: {m}"),
                causes: vec![],
            },
            other => ApiError::internal(other.to_string()),
        })
    }

    /// The user a bearer token proves, checked against `cluster` for ServiceAccount tokens;
    /// `audiences` empty means the API audience.
    pub fn authenticate_token(
        &self,
        token: &str,
        cluster: Option<&ClusterState>,
        audiences: &[String],
    ) -> Result<UserInfo, String> {
        if constant_time_eq(token.as_bytes(), self.admin_token.as_bytes()) {
            return Ok(UserInfo::admin());
        }
        if tokens::looks_like_jwt(token) {
            let claims = self
                .signer
                .verify(token, audiences)
                .map_err(|e| e.to_string())?;
            let cluster = cluster.ok_or("unknown cluster")?;
            service_account_alive(cluster, &claims)?;
            return Ok(claims.user());
        }
        let record = self
            .user_tokens
            .read()
            .expect("user tokens lock poisoned")
            .record(token, now_unix())
            .cloned()
            .ok_or_else(|| "invalid bearer token".to_string())?;
        let check = self
            .user_token_check
            .read()
            .expect("user token check lock poisoned")
            .clone();
        match check {
            Some(check) if !check(&record) => Err("revoked user token".to_string()),
            _ => Ok(record.user),
        }
    }

    /// The cached RBAC authorizer of `cluster`.
    pub fn authorizer(&self, cluster: &ClusterState) -> Result<Arc<::auth::Authorizer>, ApiError> {
        let Some(c) = self.rbac.get(&cluster.name) else {
            return Ok(Arc::new(::auth::Authorizer::default()));
        };
        c.current(&cluster.store)
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// Decides `attrs` in `cluster` (masters without looking at RBAC).
    pub fn decide(&self, cluster: &ClusterState, attrs: &Attributes) -> Result<Decision, ApiError> {
        if attrs.user.is_master() {
            return Ok(Decision::Allow(String::new()));
        }
        Ok(self.authorizer(cluster)?.authorize(attrs))
    }

    /// `Ok` when allowed, else kube-apiserver's 403 (the reason text is composed only then).
    pub fn authorize(&self, cluster: &ClusterState, attrs: &Attributes) -> Result<(), ApiError> {
        if attrs.user.is_master() {
            return Ok(());
        }
        let authorizer = self.authorizer(cluster)?;
        if authorizer.allows(attrs) {
            return Ok(());
        }
        Err(forbidden(attrs, authorizer.authorize(attrs).reason()))
    }
}

/// A ServiceAccount token is valid while its account exists with the same uid and is not being
/// deleted.
fn service_account_alive(cluster: &ClusterState, claims: &Claims) -> Result<(), String> {
    let k = &claims.kubernetes;
    let sa = cluster
        .store
        .get(&Key::new(
            "serviceaccounts",
            &k.namespace,
            &k.serviceaccount.name,
        ))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("serviceaccounts {:?} not found", k.serviceaccount.name))?;
    let meta = &sa.value["metadata"];
    if meta["uid"].as_str() != Some(k.serviceaccount.uid.as_str()) {
        return Err(format!(
            "serviceaccount {}/{} has been deleted and recreated",
            k.namespace, k.serviceaccount.name
        ));
    }
    if meta.get("deletionTimestamp").is_some_and(|v| !v.is_null()) {
        return Err(format!(
            "serviceaccount {}/{} is being deleted",
            k.namespace, k.serviceaccount.name
        ));
    }
    Ok(())
}

/// kube-apiserver's 403 for denied `attrs`.
pub fn forbidden(attrs: &Attributes, reason: &str) -> ApiError {
    let (group, resource, name) = match &attrs.resource {
        Some(r) => (r.api_group.clone(), r.resource.clone(), r.name.clone()),
        None => Default::default(),
    };
    ApiError::Forbidden {
        group,
        resource,
        name,
        reason: forbidden_reason(attrs, reason),
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.as_bytes();
    std::str::from_utf8(bearer_of(value)?).ok()
}

/// The caller of a request, or 401.
pub fn authenticate(
    identity: &Identity,
    cluster: Option<&ClusterState>,
    headers: &HeaderMap,
) -> Result<UserInfo, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    identity
        .authenticate_token(token, cluster, &[])
        .map_err(|why| {
            tracing::debug!(%why, "authentication failed");
            ApiError::unauthorized()
        })
}

const IMPERSONATE_USER: &str = "impersonate-user";
const IMPERSONATE_UID: &str = "impersonate-uid";
const IMPERSONATE_GROUP: &str = "impersonate-group";
const IMPERSONATE_EXTRA: &str = "impersonate-extra-";

/// The `Impersonate-*` headers of a request.
pub fn impersonation_request(headers: &HeaderMap) -> impersonate::Request {
    let text = |v: &http::HeaderValue| v.to_str().unwrap_or_default().to_string();
    let mut req = impersonate::Request {
        user: headers.get(IMPERSONATE_USER).map(text),
        uid: headers.get(IMPERSONATE_UID).map(text),
        groups: headers
            .get_all(IMPERSONATE_GROUP)
            .iter()
            .map(text)
            .collect(),
        extra: BTreeMap::new(),
    };
    for (name, v) in headers {
        if let Some(key) = name.as_str().strip_prefix(IMPERSONATE_EXTRA) {
            let key = percent_encoding::percent_decode_str(key)
                .decode_utf8_lossy()
                .to_string();
            req.extra.entry(key).or_default().push(text(v));
        }
    }
    req
}

/// Applies impersonation: with `Impersonate-*` headers the caller must be allowed `impersonate` on
/// each part, and the request then acts as the impersonated identity.
pub fn impersonate(
    identity: &Identity,
    cluster: &ClusterState,
    caller: UserInfo,
    headers: &HeaderMap,
) -> Result<UserInfo, ApiError> {
    let req = impersonation_request(headers);
    if req.is_empty() {
        return Ok(caller);
    }
    let (checks, user) =
        impersonate::plan(&caller, &req).map_err(|e| ApiError::bad_request(e.0))?;
    for check in &checks {
        identity.authorize(cluster, check)?;
    }
    Ok(user)
}

/// The attributes of a request to `rest` (the path without its cluster prefix).
pub fn request_attributes(
    user: &UserInfo,
    method: &http::Method,
    rest: &str,
    resource: Option<(&crate::routes::path::ResourcePath, bool)>,
) -> Attributes {
    let Some((p, watch)) = resource else {
        return Attributes::non_resource(
            user.clone(),
            &::auth::attributes::non_resource_verb(method.as_str()),
            rest,
        );
    };
    let mut namespace = p.namespace.clone().unwrap_or_default();
    // kube-apiserver treats `/api/v1/namespaces/<name>` as being in namespace `<name>`.
    if p.group.is_empty() && p.resource == "namespaces" && namespace.is_empty() {
        namespace = p.name.clone().unwrap_or_default();
    }
    Attributes::resource(
        user.clone(),
        &::auth::verb_for(method.as_str(), p.name.is_some(), watch),
        ResourceAttributes {
            api_group: p.group.clone(),
            api_version: p.version.clone(),
            resource: p.resource.clone(),
            subresource: p.subresource.clone().unwrap_or_default(),
            namespace,
            name: p.name.clone().unwrap_or_default(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths_with_and_without_cluster_prefix() {
        for p in [
            "/healthz",
            "/livez",
            "/readyz",
            "/version",
            "/version/",
            "/kubernetes/b/version",
            "/readyz/ping",
        ] {
            assert!(is_public_path(p), "{p}");
        }
        for p in [
            "/api",
            "/apis",
            "/kubernetes/b/api/v1",
            "/openapi/v3",
            "/",
            "/versionx",
        ] {
            assert!(!is_public_path(p), "{p}");
        }
    }

    #[test]
    fn bearer_must_match_exactly() {
        assert!(check_bearer(Some(b"Bearer abc"), "abc"));
        assert!(!check_bearer(Some(b"Bearer abd"), "abc"));
        assert!(!check_bearer(Some(b"Basic abc"), "abc"));
        assert!(!check_bearer(None, "abc"));
        assert!(!check_bearer(Some(b"Bearer "), "abc"));
    }

    #[test]
    fn token_persists_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let a = load_or_create_token(d.path()).unwrap();
        assert_eq!(a, load_or_create_token(d.path()).unwrap());
        assert_eq!(a.len(), 64);
        let mode = std::fs::metadata(d.path().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
