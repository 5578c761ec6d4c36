//! In-process clients: a `kube::Client` whose requests go straight into the router as a tower
//! service (no TCP, no TLS), with the cluster prefix and a bearer token added (the admin's, or a
//! ServiceAccount's refreshed before it expires), so controllers see exactly the HTTP semantics —
//! authentication and authorization included — external clients see.

use std::sync::Arc;

use http::Request;
use tower::ServiceExt;

/// Where an in-process client gets its bearer token for each request.
pub type TokenSource = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// Builds a client for `cluster` over `router` with a fixed token.
pub fn in_process(router: axum::Router, cluster: &str, token: &str) -> kube::Client {
    let token = token.to_string();
    in_process_with(router, cluster, Arc::new(move || Ok(token.clone())))
}

/// Builds a client for `cluster` over `router` that asks `tokens` for the token of each request.
pub fn in_process_with(router: axum::Router, cluster: &str, tokens: TokenSource) -> kube::Client {
    let prefix = if cluster == crate::GLOBAL {
        String::new()
    } else {
        format!("/kubernetes/{cluster}")
    };
    let svc = tower::service_fn(move |req: Request<kube::client::Body>| {
        let router = router.clone();
        let prefix = prefix.clone();
        let tokens = tokens.clone();
        async move {
            let (mut parts, body) = req.into_parts();
            let pq = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            parts.uri = format!("{prefix}{pq}")
                .parse()
                .expect("prefixed path is a valid URI");
            // Without a token the request goes unauthenticated and gets the server's 401.
            match tokens() {
                Ok(token) => {
                    let auth = http::HeaderValue::from_str(&format!("Bearer {token}"))
                        .expect("token is a valid header value");
                    parts.headers.insert(http::header::AUTHORIZATION, auth);
                }
                Err(why) => {
                    tracing::warn!(%why, "in-process client has no token; the request goes unauthenticated");
                    parts.headers.remove(http::header::AUTHORIZATION);
                }
            }
            let req = Request::from_parts(parts, axum::body::Body::new(body));
            router.oneshot(req).await
        }
    });
    kube::Client::new(svc, "default")
}
