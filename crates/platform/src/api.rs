//! The platform endpoints (contract #2), an axum router mounted on the control plane's listener:
//!
//! - `POST /platform/v1/login` `{"username","password"}` → 200 `{"token","expiresAt","user":{"name",
//!   "roleType","roleName"}}`; 401 Status on bad credentials; 429 Status with `Retry-After` when
//!   the user's or the address's failed attempts hit the limit ([`crate::ratelimit`]).
//! - `POST /platform/v1/logout` (bearer) → 200 Status; the token is revoked at once.
//! - `GET /platform/v1/whoami` (bearer, a login token) → `{"user":{...}}`.
//! - `GET /platform/v1/info` (any valid bearer) → `{"registry":"host:port","clusters":[...]}`.
//!
//! Errors are `metav1.Status` objects, as the Kubernetes API's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::users::{User, Users};
use crate::{GENERATION_EXTRA, Limiter, Settings, ratelimit};

/// The running platform endpoints.
pub struct Platform {
    identity: Arc<apiserver::auth::Identity>,
    users: Arc<Users>,
    limiter: Limiter,
    settings: Settings,
    registry: Option<String>,
    clusters: Vec<String>,
}

/// Largest login body.
const MAX_BODY: usize = 64 * 1024;

impl Platform {
    /// The platform as a control plane mount: installs the login token check on the control
    /// plane's identity and serves the endpoints under `/platform/`. The users file must have been
    /// bootstrapped before ([`Users::bootstrap_admin`]).
    pub fn mount(settings: Settings) -> apiserver::Mount {
        apiserver::Mount(Arc::new(move |cx: &apiserver::MountContext| {
            let users = Arc::new(Users::new(&cx.data_dir));
            cx.identity
                .set_user_token_check(crate::token_check(users.clone()));
            let platform = Arc::new(Platform {
                identity: cx.identity.clone(),
                users,
                limiter: Mutex::new((
                    ratelimit::Buckets::new(settings.per_user),
                    ratelimit::Buckets::new(settings.per_address),
                )),
                settings: settings.clone(),
                registry: cx.registry.clone(),
                clusters: cx.clusters.clone(),
            });
            vec![("/platform/".to_string(), router(platform))]
        }))
    }
}

/// The endpoints' router (paths include `/platform/v1`).
pub fn router(platform: Arc<Platform>) -> axum::Router {
    axum::Router::new()
        .route("/platform/v1/login", post(login))
        .route("/platform/v1/logout", post(logout))
        .route("/platform/v1/whoami", get(whoami))
        .route("/platform/v1/info", get(info))
        .fallback(|| async { status(StatusCode::NOT_FOUND, "NotFound", "no such platform endpoint; the platform serves /platform/v1/login, logout, whoami and info") })
        .with_state(platform)
}

/// A `metav1.Status` response.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

fn unauthorized(message: &str) -> Response {
    status(StatusCode::UNAUTHORIZED, "Unauthorized", message)
}

fn user_json(name: &str, u: &User) -> Value {
    json!({"name": name, "roleType": u.role_type.as_str(), "roleName": u.role_name})
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        // In-process callers have no address; they share one bucket.
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

async fn login(State(p): State<Arc<Platform>>, req: Request) -> Response {
    let ip = client_ip(&req);
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "login body: unreadable or larger than 64 KiB",
            );
        }
    };
    let creds: LoginRequest = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "login body: {e}; send JSON {{\"username\": \"...\", \"password\": \"...\"}}"
                ),
            );
        }
    };
    if let Err(wait) = p.admit(&creds.username, ip) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut r = status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            &format!("too many failed logins for this user or from this address; retry in {secs}s"),
        );
        r.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return r;
    }
    let db = match p.users.current() {
        Ok(db) => db,
        Err(e) => {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &e.to_string(),
            );
        }
    };
    let (name, password) = (creds.username.clone(), creds.password);
    let checked = tokio::task::spawn_blocking(move || db.verify(&name, &password).cloned()).await;
    let Ok(Some(user)) = checked else {
        p.charge(&creds.username, ip);
        tracing::info!(user = %creds.username, %ip, "platform login refused");
        return unauthorized("invalid username or password");
    };
    issue(&p, &creds.username, &user)
}

fn issue(p: &Platform, name: &str, user: &User) -> Response {
    let extra = [(GENERATION_EXTRA.to_string(), vec![user.generation.clone()])].into();
    let groups = [crate::role_group(&user.role_name)];
    let ttl = p.settings.token_ttl;
    match p
        .identity
        .issue_user_token_with_extra(name, &groups, extra, Some(ttl))
    {
        Ok(token) => {
            let expires =
                jiff::Timestamp::now() + jiff::SignedDuration::from_secs(ttl.as_secs() as i64);
            tracing::info!(user = %name, "platform login");
            axum::Json(json!({
                "token": token,
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "user": user_json(name, user),
            }))
            .into_response()
        }
        Err(e) => status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &e.to_string(),
        ),
    }
}

impl Platform {
    fn admit(&self, user: &str, ip: IpAddr) -> Result<(), std::time::Duration> {
        let now = Instant::now();
        let l = self.limiter.lock().expect("limiter lock poisoned");
        let a = l.0.check(&user.to_string(), now);
        let b = l.1.check(&ip, now);
        match (a, b) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(x), Err(y)) => Err(x.max(y)),
            (Err(x), _) | (_, Err(x)) => Err(x),
        }
    }

    fn charge(&self, user: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut l = self.limiter.lock().expect("limiter lock poisoned");
        l.0.charge(&user.to_string(), now);
        l.1.charge(&ip, now);
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?
        .trim();
    (!t.is_empty()).then_some(t)
}

/// The platform user a login token belongs to.
fn login_user(p: &Platform, headers: &HeaderMap) -> Result<(String, User), Response> {
    let token = bearer(headers)
        .ok_or_else(|| unauthorized("send a login token as Authorization: Bearer <token>"))?;
    let info = p
        .identity
        .authenticate_token(token, None, &[])
        .map_err(|_| unauthorized("invalid, expired or revoked token; log in again"))?;
    if !info.extra.contains_key(GENERATION_EXTRA) {
        return Err(unauthorized(
            "not a platform login token; get one from POST /platform/v1/login",
        ));
    }
    let db = p.users.current().map_err(|e| {
        status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &e.to_string(),
        )
    })?;
    let user = db
        .users
        .get(&info.name)
        .cloned()
        .ok_or_else(|| unauthorized("the token's user no longer exists"))?;
    Ok((info.name, user))
}

async fn whoami(State(p): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    match login_user(&p, &headers) {
        Ok((name, user)) => axum::Json(json!({"user": user_json(&name, &user)})).into_response(),
        Err(r) => r,
    }
}

async fn info(State(p): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let ok = bearer(&headers).is_some_and(|t| p.identity.authenticate_token(t, None, &[]).is_ok());
    if !ok {
        return unauthorized("send a valid token as Authorization: Bearer <token>");
    }
    axum::Json(json!({"registry": p.registry, "clusters": p.clusters})).into_response()
}

async fn logout(State(p): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthorized("send the token to revoke as Authorization: Bearer <token>");
    };
    match p.identity.revoke_user_token(token) {
        Ok(true) => axum::Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "message": "token revoked", "code": 200})).into_response(),
        Ok(false) => unauthorized("unknown or expired token"),
        Err(e) => status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string()),
    }
}
