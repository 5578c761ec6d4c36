//! Request bodies: JSON, YAML or Kubernetes protobuf (built-ins, via `apiresources`), read with a
//! size limit, and `DeleteOptions`.

use http::HeaderMap;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// The media type of a request (`application/json` when absent).
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "application/json".to_string())
}

/// Decodes an object body by its content type; it must be a JSON object.
pub fn decode_object(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    let ct = content_type(headers);
    let v = match ct.as_str() {
        "application/json" | "*/*" | "text/plain" => parse_json(body)?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => parse_yaml(body)?,
        apiresources::protobuf::PROTOBUF_CONTENT_TYPE => {
            apiresources::protobuf::decode_protobuf(body)
                .map_err(|e| ApiError::bad_request(e.to_string()))?
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(format!(
            "the request body must be a JSON object (a Kubernetes object with apiVersion, kind and metadata), got {}",
            kind_of(&v)
        )));
    }
    Ok(v)
}

pub fn parse_json(body: &[u8]) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// A YAML body as kube-apiserver reads it (sigs.k8s.io/yaml: YAML 1.1 scalars, integers kept),
/// through the workspace's one bounded loader: an alias bomb is refused before it expands.
pub fn parse_yaml(body: &[u8]) -> ApiResult<Value> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid YAML: {e}")))?;
    goyaml::to_json(text, goyaml::Numbers::Exact)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid YAML: {e}")))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `DeleteOptions` from the body (JSON, may be empty) merged with query parameters.
#[derive(Debug, Default, Clone)]
pub struct DeleteOptions {
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    pub fn parse(
        headers: &HeaderMap,
        body: &[u8],
        q: &crate::routes::query::Query,
    ) -> ApiResult<DeleteOptions> {
        let mut o = DeleteOptions {
            propagation_policy: q.propagation_policy.clone(),
            dry_run: q.dry_run,
            ..Default::default()
        };
        if q.orphan_dependents == Some(true) && o.propagation_policy.is_none() {
            o.propagation_policy = Some("Orphan".into());
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            let v = match content_type(headers).as_str() {
                "application/yaml" => parse_yaml(body)?,
                apiresources::protobuf::PROTOBUF_CONTENT_TYPE => Value::Null,
                _ => parse_json(body)?,
            };
            if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
                o.propagation_policy = Some(p.to_string());
            }
            if v.get("orphanDependents").and_then(Value::as_bool) == Some(true)
                && o.propagation_policy.is_none()
            {
                o.propagation_policy = Some("Orphan".into());
            }
            if let Some(p) = v.get("preconditions") {
                o.precondition_uid = p.get("uid").and_then(Value::as_str).map(str::to_string);
                o.precondition_rv = p
                    .get("resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            if let Some(d) = v.get("dryRun").and_then(Value::as_array) {
                o.dry_run |= d.iter().any(|x| x == "All");
            }
        }
        if let Some(p) = &o.propagation_policy
            && !matches!(p.as_str(), "Foreground" | "Background" | "Orphan")
        {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy {p:?} is not supported; use Foreground, Background or Orphan"
            )));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn malformed_json_and_yaml_name_the_problem() {
        let e = decode_object(&h("application/json"), b"{\"a\": ").unwrap_err();
        assert_eq!(e.code(), 400);
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let e = decode_object(&h("application/yaml"), b"a: [").unwrap_err();
        assert!(e.to_string().contains("not valid YAML"), "{e}");
        let e = decode_object(&h("application/json"), b"[1]").unwrap_err();
        assert!(e.to_string().contains("an array"));
        assert_eq!(
            decode_object(&h("application/xml"), b"<a/>")
                .unwrap_err()
                .code(),
            415
        );
    }

    #[test]
    fn yaml_bodies_decode() {
        let v = decode_object(
            &h("application/yaml"),
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        )
        .unwrap();
        assert_eq!(v["metadata"]["name"], "x");
    }

    #[test]
    fn delete_options_from_body_and_query() {
        let q = crate::routes::query::Query::parse(Some("propagationPolicy=Orphan")).unwrap();
        let o = DeleteOptions::parse(
            &h("application/json"),
            br#"{"propagationPolicy":"Foreground","preconditions":{"uid":"u"}}"#,
            &q,
        )
        .unwrap();
        assert_eq!(o.propagation_policy.as_deref(), Some("Foreground"));
        assert_eq!(o.precondition_uid.as_deref(), Some("u"));
        let o = DeleteOptions::parse(&HeaderMap::new(), b"", &q).unwrap();
        assert_eq!(o.propagation_policy.as_deref(), Some("Orphan"));
    }
}
