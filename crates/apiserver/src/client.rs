//! In-process clients: a `kube::Client` whose requests go straight into the router as a tower
//! service (no TCP, no TLS), with the cluster prefix and the admin token added, so controllers see
//! exactly the HTTP semantics external clients see.

use http::Request;
use tower::ServiceExt;

/// Builds a client for `cluster` over `router`.
pub fn in_process(router: axum::Router, cluster: &str, token: &str) -> kube::Client {
    let prefix = if cluster == crate::GLOBAL {
        String::new()
    } else {
        format!("/kubernetes/{cluster}")
    };
    let auth = http::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("token is a valid header value");
    let svc = tower::service_fn(move |req: Request<kube::client::Body>| {
        let router = router.clone();
        let prefix = prefix.clone();
        let auth = auth.clone();
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
            parts.headers.insert(http::header::AUTHORIZATION, auth);
            let req = Request::from_parts(parts, axum::body::Body::new(body));
            router.oneshot(req).await
        }
    });
    kube::Client::new(svc, "default")
}
