//! `metav1.Status` error bodies and the [`ApiError`] type the server maps to HTTP codes.
//!
//! Messages follow kube-apiserver's `k8s.io/apimachinery/pkg/api/errors` constructors
//! exactly, since kubectl prints them verbatim (`Error from server (NotFound): configmaps
//! "nope" not found`). Resources are named by their *qualified resource* (`configmaps`,
//! `widgets.example.com`), `Invalid` errors by their *qualified kind* (`Widget.example.com`).

use crate::field::{FieldError, aggregate};
use serde_json::{Map, Value, json};

/// The conflict detail kube-apiserver uses for a stale `resourceVersion`.
pub const OBJECT_MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// kube-apiserver's message for a paged list whose snapshot was compacted (etcd3 store,
/// `handleCompactedErrorForPaging`).
pub const INCONSISTENT_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCause {
    /// `FieldValueInvalid`, `FieldManagerConflict`, ... (JSON key `reason`).
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl StatusCause {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.reason.is_empty() {
            m.insert("reason".into(), json!(self.reason));
        }
        if !self.message.is_empty() {
            m.insert("message".into(), json!(self.message));
        }
        if !self.field.is_empty() {
            m.insert("field".into(), json!(self.field));
        }
        Value::Object(m)
    }
}

impl From<&FieldError> for StatusCause {
    fn from(e: &FieldError) -> Self {
        StatusCause {
            reason: e.kind.cause_type().to_string(),
            message: e.body(),
            field: e.field.clone(),
        }
    }
}

/// `resource` or `resource.group` (Go's `GroupResource.String()`).
pub fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// `Kind` or `Kind.group` (Go's `GroupKind.String()`).
pub fn qualified_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

/// An API error with kube-apiserver's reason, code and message.
///
/// `Display` is the exact `message` of the Status body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 404 `configmaps "nope" not found`.
    #[error(
        "{} {} not found",
        qualified_resource(group, resource),
        crate::field::go_quote(name)
    )]
    NotFound {
        group: String,
        resource: String,
        name: String,
    },
    /// 409 `configmaps "x" already exists`.
    #[error(
        "{} {} already exists",
        qualified_resource(group, resource),
        crate::field::go_quote(name)
    )]
    AlreadyExists {
        group: String,
        resource: String,
        name: String,
    },
    /// 409 `Operation cannot be fulfilled on configmaps "x": <detail>`.
    #[error(
        "Operation cannot be fulfilled on {} {}: {detail}",
        qualified_resource(group, resource),
        crate::field::go_quote(name)
    )]
    Conflict {
        group: String,
        resource: String,
        name: String,
        detail: String,
    },
    /// 409 server-side apply conflict (`Apply failed with 1 conflict: ...`), causes of type
    /// `FieldManagerConflict`.
    #[error("{message}")]
    ApplyConflict {
        message: String,
        causes: Vec<StatusCause>,
    },
    /// 422 `Widget.example.com "w1" is invalid: [...]`.
    #[error("{}", invalid_message(group, kind, name, errors))]
    Invalid {
        group: String,
        kind: String,
        name: String,
        errors: Vec<FieldError>,
    },
    /// 400 with the given message.
    #[error("{0}")]
    BadRequest(String),
    /// 415 with the given message.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 406 with the given message.
    #[error("{0}")]
    NotAcceptable(String),
    /// 410 reason `Expired` (watch from a compacted resourceVersion).
    #[error("{0}")]
    Expired(String),
    /// 410 reason `Expired` for a `continue` token whose snapshot was compacted; the Status's
    /// `metadata.continue` carries a token that continues (inconsistently) at the current state.
    #[error("{INCONSISTENT_CONTINUE}")]
    ExpiredContinue { continue_token: String },
    /// 410 reason `Gone`.
    #[error("{0}")]
    Gone(String),
    /// 403 `<resource> "<name>" is forbidden: <reason>`.
    #[error("{}", forbidden_message(group, resource, name, reason))]
    Forbidden {
        group: String,
        resource: String,
        name: String,
        reason: String,
    },
    /// 405 `<action> is not supported on resources of kind "<resource>"`.
    #[error("{action} is not supported on resources of kind {}", crate::field::go_quote(&qualified_resource(group, resource)))]
    MethodNotAllowed {
        group: String,
        resource: String,
        action: String,
    },
    /// 401; kube-apiserver says `Unauthorized`.
    #[error("{0}")]
    Unauthorized(String),
    /// 500 `Internal error occurred: <detail>`.
    #[error("Internal error occurred: {0}")]
    Internal(String),
    /// 404 for an unknown path/resource type: `the server could not find the requested resource`.
    #[error("the server could not find the requested resource")]
    UnknownResource,
    /// Any other status (e.g. the 422 kube-apiserver answers for a failed JSON Patch `test`).
    #[error("{message}")]
    Other {
        code: u16,
        reason: String,
        message: String,
        causes: Vec<StatusCause>,
    },
}

fn invalid_message(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> String {
    let qk = qualified_kind(group, kind);
    let qn = crate::field::go_quote(name);
    if errors.is_empty() {
        format!("{qk} {qn} is invalid")
    } else {
        format!("{qk} {qn} is invalid: {}", aggregate(errors))
    }
}

fn forbidden_message(group: &str, resource: &str, name: &str, reason: &str) -> String {
    if resource.is_empty() && group.is_empty() {
        format!("forbidden: {reason}")
    } else if name.is_empty() {
        format!(
            "{} is forbidden: {reason}",
            qualified_resource(group, resource)
        )
    } else {
        format!(
            "{} {} is forbidden: {reason}",
            qualified_resource(group, resource),
            crate::field::go_quote(name)
        )
    }
}

impl ApiError {
    /// `configmaps "name" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        ApiError::NotFound {
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
        }
    }
    /// `configmaps "name" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        ApiError::AlreadyExists {
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
        }
    }
    /// The stale-resourceVersion conflict (`... the object has been modified; ...`).
    pub fn object_modified(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(group, resource, name, OBJECT_MODIFIED)
    }
    /// `Operation cannot be fulfilled on <resource> "<name>": <detail>`.
    pub fn conflict(group: &str, resource: &str, name: &str, detail: &str) -> Self {
        ApiError::Conflict {
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
            detail: detail.into(),
        }
    }
    /// `<Kind.group> "<name>" is invalid: ...`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: Vec<FieldError>) -> Self {
        ApiError::Invalid {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
            errors,
        }
    }
    /// A watch/list from a resourceVersion older than the retained history:
    /// `too old resource version: <requested> (<oldest>)`.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        ApiError::Expired(format!("too old resource version: {requested} ({oldest})"))
    }
    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }
    /// 500 `Internal error occurred: <detail>`: a failure of the server, never of the request.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }
    /// 401 `Unauthorized`.
    pub fn unauthorized() -> Self {
        ApiError::Unauthorized("Unauthorized".into())
    }
    /// 405 for an HTTP method a path does not serve:
    /// `the server does not allow this method on the requested resource (<verb> <resource>)`.
    pub fn method_not_allowed(verb: &str, resource: &str) -> Self {
        ApiError::Other {
            code: 405,
            reason: "MethodNotAllowed".into(),
            message: format!(
                "the server does not allow this method on the requested resource ({verb} {resource})"
            ),
            causes: Vec::new(),
        }
    }
    /// 415 for a request body in a media type the server does not decode.
    pub fn unsupported_media_type(got: &str) -> Self {
        ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {got:?})"
        ))
    }
    /// 413 for a request body above `limit` bytes.
    pub fn request_entity_too_large(limit: usize) -> Self {
        ApiError::Other {
            code: 413,
            reason: "RequestEntityTooLarge".into(),
            message: format!("the request body is too large: limit is {limit} bytes"),
            causes: Vec::new(),
        }
    }
    /// The 415 kube-apiserver answers for a patch type it does not accept (e.g. strategic
    /// merge patch on a custom resource).
    pub fn unsupported_patch_type(accepted: &[&str]) -> Self {
        ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            accepted.join(", ")
        ))
    }

    /// HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownResource => 404,
            ApiError::AlreadyExists { .. }
            | ApiError::Conflict { .. }
            | ApiError::ApplyConflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::NotAcceptable(_) => 406,
            ApiError::Expired(_) | ApiError::ExpiredContinue { .. } | ApiError::Gone(_) => 410,
            ApiError::Forbidden { .. } => 403,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Unauthorized(_) => 401,
            ApiError::Internal(_) => 500,
            ApiError::Other { code, .. } => *code,
        }
    }

    /// `metav1.StatusReason`.
    pub fn reason(&self) -> &str {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownResource => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::NotAcceptable(_) => "NotAcceptable",
            ApiError::Expired(_) | ApiError::ExpiredContinue { .. } => "Expired",
            ApiError::Gone(_) => "Gone",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Internal(_) => "InternalError",
            ApiError::Other { reason, .. } => reason,
        }
    }

    /// `details` of the Status (`None` where kube-apiserver omits it).
    pub fn details(&self) -> Option<Value> {
        let mut d = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                d.insert(k.into(), json!(v));
            }
        };
        let mut causes: Vec<StatusCause> = Vec::new();
        match self {
            ApiError::NotFound {
                group,
                resource,
                name,
            }
            | ApiError::AlreadyExists {
                group,
                resource,
                name,
            }
            | ApiError::Conflict {
                group,
                resource,
                name,
                ..
            }
            | ApiError::Forbidden {
                group,
                resource,
                name,
                ..
            } => {
                put("name", name);
                put("group", group);
                put("kind", resource);
            }
            ApiError::MethodNotAllowed {
                group, resource, ..
            } => {
                put("group", group);
                put("kind", resource);
            }
            ApiError::Invalid {
                group,
                kind,
                name,
                errors,
            } => {
                put("name", name);
                put("group", group);
                put("kind", kind);
                causes = errors.iter().map(StatusCause::from).collect();
            }
            ApiError::ApplyConflict { causes: c, .. } | ApiError::Other { causes: c, .. } => {
                if c.is_empty() {
                    return None;
                }
                causes = c.clone()
            }
            ApiError::Internal(msg) => {
                causes = vec![StatusCause {
                    reason: String::new(),
                    message: msg.clone(),
                    field: String::new(),
                }]
            }
            ApiError::UnknownResource => return Some(json!({})),
            _ => return None,
        }
        if !causes.is_empty() {
            d.insert(
                "causes".into(),
                Value::Array(causes.iter().map(StatusCause::to_json).collect()),
            );
        }
        Some(Value::Object(d))
    }

    /// The full `metav1.Status` body.
    pub fn to_status(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), json!("Status"));
        m.insert("apiVersion".into(), json!("v1"));
        m.insert(
            "metadata".into(),
            match self {
                ApiError::ExpiredContinue { continue_token } => json!({"continue": continue_token}),
                _ => json!({}),
            },
        );
        m.insert("status".into(), json!("Failure"));
        m.insert("message".into(), json!(self.to_string()));
        m.insert("reason".into(), json!(self.reason()));
        if let Some(d) = self.details() {
            m.insert("details".into(), d);
        }
        m.insert("code".into(), json!(self.code()));
        Value::Object(m)
    }
}

/// The `Status` kube-apiserver returns for a successful DELETE of an object that is gone at
/// once (kinds without finalizers answer with the object instead; this is for
/// `deletecollection`-style or immediate deletions).
pub fn success_status(group: &str, kind: &str, name: &str, uid: &str) -> Value {
    let mut d = Map::new();
    for (k, v) in [
        ("name", name),
        ("group", group),
        ("kind", kind),
        ("uid", uid),
    ] {
        if !v.is_empty() {
            d.insert(k.into(), json!(v));
        }
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": Value::Object(d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldError;

    #[test]
    fn not_found_message_and_body_match_kube_apiserver() {
        let e = ApiError::not_found("", "configmaps", "nope");
        assert_eq!(e.to_string(), r#"configmaps "nope" not found"#);
        assert_eq!(
            e.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"configmaps \"nope\" not found","reason":"NotFound",
                   "details":{"name":"nope","kind":"configmaps"},"code":404})
        );
        let g = ApiError::not_found("example.com", "widgets", "w1");
        assert_eq!(g.to_string(), r#"widgets.example.com "w1" not found"#);
        assert_eq!(g.details().unwrap()["group"], "example.com");
    }

    #[test]
    fn conflict_message_for_stale_resource_version() {
        let e = ApiError::object_modified("", "configmaps", "x");
        assert_eq!(
            e.to_string(),
            "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(e.code(), 409);
        assert_eq!(e.reason(), "Conflict");
    }

    #[test]
    fn invalid_lists_causes_and_brackets_several_errors() {
        let e = ApiError::invalid(
            "example.com",
            "Widget",
            "w1",
            vec![
                FieldError::required("spec.size", ""),
                FieldError::not_supported("spec.mode", json!("x"), &["a".into(), "b".into()]),
            ],
        );
        assert_eq!(
            e.to_string(),
            r#"Widget.example.com "w1" is invalid: [spec.size: Required value, spec.mode: Unsupported value: "x": supported values: "a", "b"]"#
        );
        let s = e.to_status();
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["kind"], "Widget");
        assert_eq!(
            s["details"]["causes"][0],
            json!({"reason":"FieldValueRequired","message":"Required value","field":"spec.size"})
        );
        assert_eq!(
            s["details"]["causes"][1]["message"],
            r#"Unsupported value: "x": supported values: "a", "b""#
        );
    }

    #[test]
    fn an_expired_continue_token_answers_410_with_a_fresh_token() {
        let e = ApiError::ExpiredContinue {
            continue_token: "abc".into(),
        };
        let s = e.to_status();
        assert_eq!(s["code"], 410);
        assert_eq!(s["reason"], "Expired");
        assert_eq!(s["metadata"]["continue"], "abc");
        assert!(s["message"].as_str().unwrap().starts_with(
            "The provided continue parameter is too old to display a consistent list result."
        ));
    }

    #[test]
    fn codes_and_reasons_cover_every_variant() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::already_exists("", "secrets", "s"),
                409,
                "AlreadyExists",
            ),
            (ApiError::BadRequest("b".into()), 400, "BadRequest"),
            (
                ApiError::unsupported_patch_type(&["application/json-patch+json"]),
                415,
                "UnsupportedMediaType",
            ),
            (ApiError::too_old_resource_version(3, 10), 410, "Expired"),
            (ApiError::Gone("g".into()), 410, "Gone"),
            (
                ApiError::Unauthorized("Unauthorized".into()),
                401,
                "Unauthorized",
            ),
            (ApiError::UnknownResource, 404, "NotFound"),
            (ApiError::Internal("boom".into()), 500, "InternalError"),
            (ApiError::NotAcceptable("n".into()), 406, "NotAcceptable"),
        ];
        for (e, code, reason) in cases {
            assert_eq!(e.code(), code, "{e}");
            assert_eq!(e.reason(), reason, "{e}");
            assert_eq!(e.to_status()["code"], code);
        }
        assert_eq!(
            ApiError::too_old_resource_version(3, 10).to_string(),
            "too old resource version: 3 (10)"
        );
    }

    #[test]
    fn forbidden_and_method_not_allowed_messages() {
        let f = ApiError::Forbidden {
            group: "".into(),
            resource: "namespaces".into(),
            name: "kube-system".into(),
            reason: "this namespace may not be deleted".into(),
        };
        assert_eq!(
            f.to_string(),
            r#"namespaces "kube-system" is forbidden: this namespace may not be deleted"#
        );
        let m = ApiError::MethodNotAllowed {
            group: "".into(),
            resource: "events".into(),
            action: "deletecollection".into(),
        };
        assert_eq!(
            m.to_string(),
            r#"deletecollection is not supported on resources of kind "events""#
        );
        assert_eq!(m.code(), 405);
    }
}
