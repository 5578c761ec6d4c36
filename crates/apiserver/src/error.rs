//! HTTP error responses: every failure is a `metav1.Status` body with the matching HTTP code.
//!
//! [`ApiError`] is apimachinery's error type (its `status` module is the one builder of Status
//! errors, with kube-apiserver's messages); this module only turns it, or a handler's panic, into
//! an HTTP response.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// A failed API request: apimachinery's error, the one builder of `metav1.Status` errors.
pub type ApiError = apimachinery::ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

/// The HTTP response for a failed request: the `Status` body with its code.
pub fn error_response(e: &ApiError) -> Response {
    let code = StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&e.to_status()).expect("status serializes");
    (
        code,
        [(http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A handler that panicked (a bug) answers 500 with a `Status` naming the panic, instead of a
/// dropped connection; the store has already rolled back any transaction the panic crossed.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "request handler panicked");
    error_response(&ApiError::internal(format!(
        "the server panicked handling this request: {what}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn body_json(r: Response) -> serde_json::Value {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn errors_answer_with_their_status_body() {
        let r = error_response(&ApiError::not_found("", "configmaps", "nope"));
        assert_eq!(r.status(), 404);
        let s = body_json(r).await;
        assert_eq!(s["message"], "configmaps \"nope\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_a_status_message() {
        async fn buggy() -> Response {
            panic!("index out of bounds: the len is 0 but the index is 3")
        }
        let app = axum::Router::new()
            .route("/", axum::routing::get(buggy))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_response,
            ));
        let r = app
            .oneshot(
                http::Request::get("/")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), 500);
        let s = body_json(r).await;
        assert_eq!(s["kind"], "Status");
        assert_eq!(s["reason"], "InternalError");
        assert_eq!(
            s["message"],
            "Internal error occurred: the server panicked handling this request: index out of bounds: the len is 0 but the index is 3"
        );
    }
}
