//! HTTP error responses: every failure is a `metav1.Status` body with the matching HTTP code.
//!
//! [`ApiError`] is this crate's error type for request handling. Messages follow kube-apiserver's
//! (`configmaps "nope" not found`); the message builders for API semantics live in `apimachinery`
//! and are converted here.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// A failed API request, rendered as a `Status`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Box<Value>>,
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(Box::new(details));
        self
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }
    pub fn not_found_path() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }
    /// `configmaps "x" not found` (resource is `plural` or `plural.group`).
    pub fn not_found(group: &str, resource: &str, name: &str) -> ApiError {
        let qualified = qualified(group, resource);
        ApiError::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(json!({"name": name, "group": group, "kind": resource}))
    }
    pub fn already_exists(group: &str, resource: &str, name: &str) -> ApiError {
        let qualified = qualified(group, resource);
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> ApiError {
        let qualified = qualified(group, resource);
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
        .with_details(json!({"name": name, "group": group, "kind": resource}))
    }
    pub fn modified(group: &str, resource: &str, name: &str) -> ApiError {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }
    pub fn method_not_allowed(verb: &str, resource: &str) -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({verb} {resource})"
            ),
        )
    }
    pub fn unsupported_media_type(ct: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct:?})"
            ),
        )
    }
    pub fn gone(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }
    /// 422 `Kind.group "name" is invalid: [causes]`.
    pub fn invalid(
        kind: &str,
        group: &str,
        name: &str,
        causes: Vec<(String, String, String)>,
    ) -> ApiError {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let msgs: Vec<String> = causes
            .iter()
            .map(|(_, field, m)| {
                if field.is_empty() {
                    m.clone()
                } else {
                    format!("{field}: {m}")
                }
            })
            .collect();
        let message = if msgs.len() == 1 {
            format!("{qualified_kind} \"{name}\" is invalid: {}", msgs[0])
        } else {
            format!(
                "{qualified_kind} \"{name}\" is invalid: [{}]",
                msgs.join(", ")
            )
        };
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|(reason, field, message)| json!({"reason": reason, "message": message, "field": field}))
            .collect();
        ApiError::new(422, "Invalid", message)
            .with_details(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
    }

    /// The `Status` body.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = (**d).clone();
        }
        s
    }
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.status()).expect("status serializes");
        (
            code,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<apimachinery::ApiError> for ApiError {
    fn from(e: apimachinery::ApiError) -> ApiError {
        ApiError {
            code: e.code(),
            reason: e.reason().to_string(),
            message: e.to_string(),
            details: e.details().map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_message_as_kube_apiserver() {
        assert_eq!(
            ApiError::not_found("", "configmaps", "nope").message,
            "configmaps \"nope\" not found"
        );
        assert_eq!(
            ApiError::not_found("example.com", "widgets", "w").message,
            "widgets.example.com \"w\" not found"
        );
        let s = ApiError::modified("", "configmaps", "x").status();
        assert_eq!(s["code"], 409);
        assert_eq!(s["reason"], "Conflict");
    }

    #[test]
    fn invalid_lists_causes() {
        let e = ApiError::invalid(
            "Widget",
            "example.com",
            "w1",
            vec![(
                "FieldValueRequired".into(),
                "spec.size".into(),
                "Required value".into(),
            )],
        );
        assert_eq!(
            e.message,
            "Widget.example.com \"w1\" is invalid: spec.size: Required value"
        );
        assert_eq!(e.status()["details"]["causes"][0]["field"], "spec.size");
    }
}
