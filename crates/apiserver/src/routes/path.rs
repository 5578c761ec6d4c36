//! Request-path parsing, like kube-apiserver's `RequestInfoFactory`: which cluster, and which kind of
//! endpoint (health, version, discovery, OpenAPI, or a resource request with group, version,
//! namespace, resource, name and subresource).
//!
//! The cluster comes from a `/kubernetes/<cluster>` prefix; without one it is `global`.
//! `/api/v1/namespaces/{ns}/status|finalize` are subresources of the namespace `{ns}`, everything else
//! under `namespaces/{ns}/` is a namespaced resource.

/// What a path addresses (after the cluster prefix was removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Health(String),
    Version,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<g>/<v>`
    ResourceList {
        group: String,
        version: String,
    },
    /// `/openapi/v3`
    OpenApiRoot,
    /// `/openapi/v3/<api/v1 | apis/g/v>`
    OpenApiGroupVersion(String),
    /// `/openapi/v2`
    OpenApiV2,
    Resource(ResourcePath),
    NotFound,
}

/// A request for a resource, a collection, or a subresource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePath {
    /// "" for the core group.
    pub group: String,
    pub version: String,
    /// The namespace in the path (`namespaces/{ns}/...`), if any.
    pub namespace: Option<String>,
    /// Plural resource name, e.g. `configmaps`.
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Splits a request path into its cluster (None = global) and the rest.
pub fn split_cluster(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/kubernetes/") {
        match rest.find('/') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), "/"),
        }
    } else {
        (None, path)
    }
}

/// Classifies a path without its cluster prefix.
pub fn parse(path: &str) -> Endpoint {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        [h] if matches!(*h, "healthz" | "livez" | "readyz") => Endpoint::Health(h.to_string()),
        [h, ..] if matches!(*h, "healthz" | "livez" | "readyz") => Endpoint::Health(h.to_string()),
        ["version"] => Endpoint::Version,
        ["api"] => Endpoint::CoreVersions,
        ["apis"] => Endpoint::Groups,
        ["apis", g] => Endpoint::Group(g.to_string()),
        ["api", v] => Endpoint::ResourceList {
            group: String::new(),
            version: v.to_string(),
        },
        ["apis", g, v] => Endpoint::ResourceList {
            group: g.to_string(),
            version: v.to_string(),
        },
        ["openapi", "v3"] => Endpoint::OpenApiRoot,
        ["openapi", "v3", rest @ ..] => Endpoint::OpenApiGroupVersion(rest.join("/")),
        ["openapi", "v2"] => Endpoint::OpenApiV2,
        ["api", v, rest @ ..] => resource(String::new(), v, rest),
        ["apis", g, v, rest @ ..] => resource(g.to_string(), v, rest),
        _ => Endpoint::NotFound,
    }
}

fn resource(group: String, version: &str, rest: &[&str]) -> Endpoint {
    let mut p = ResourcePath {
        group,
        version: version.to_string(),
        ..Default::default()
    };
    let mut rest = rest;
    if rest.first() == Some(&"namespaces")
        && rest.len() >= 3
        && !matches!(rest[2], "status" | "finalize")
    {
        p.namespace = Some(rest[1].to_string());
        rest = &rest[2..];
    }
    match rest {
        [r] => p.resource = r.to_string(),
        [r, n] => {
            p.resource = r.to_string();
            p.name = Some(n.to_string());
        }
        [r, n, s] => {
            p.resource = r.to_string();
            p.name = Some(n.to_string());
            p.subresource = Some(s.to_string());
        }
        _ => return Endpoint::NotFound,
    }
    Endpoint::Resource(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Endpoint::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn cluster_prefix() {
        assert_eq!(
            split_cluster("/kubernetes/b/api/v1"),
            (Some("b"), "/api/v1")
        );
        assert_eq!(split_cluster("/kubernetes/b"), (Some("b"), "/"));
        assert_eq!(split_cluster("/api"), (None, "/api"));
    }

    #[test]
    fn discovery_and_misc() {
        assert_eq!(parse("/api"), Endpoint::CoreVersions);
        assert_eq!(parse("/apis/"), Endpoint::Groups);
        assert_eq!(
            parse("/apis/apps/v1"),
            Endpoint::ResourceList {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1"),
            Endpoint::OpenApiGroupVersion("apis/apps/v1".into())
        );
        assert_eq!(parse("/version"), Endpoint::Version);
        assert_eq!(parse("/nope"), Endpoint::NotFound);
    }

    #[test]
    fn namespaced_and_cluster_scoped_resources() {
        let r = res("/api/v1/namespaces/ns1/configmaps/c1");
        assert_eq!(
            (
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref()
            ),
            (Some("ns1"), "configmaps", Some("c1"))
        );
        let r = res("/apis/example.com/v1/namespaces/ns1/widgets/w1/status");
        assert_eq!(
            (r.group.as_str(), r.subresource.as_deref()),
            ("example.com", Some("status"))
        );
        let r = res("/api/v1/configmaps");
        assert_eq!((r.namespace, r.resource.as_str()), (None, "configmaps"));
    }

    #[test]
    fn namespace_objects_and_their_subresources() {
        let r = res("/api/v1/namespaces/ns1");
        assert_eq!(
            (r.namespace, r.resource.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("ns1"))
        );
        let r = res("/api/v1/namespaces/ns1/status");
        assert_eq!(
            (
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("namespaces", Some("ns1"), Some("status"))
        );
        let r = res("/api/v1/namespaces/ns1/finalize");
        assert_eq!(r.subresource.as_deref(), Some("finalize"));
        let r = res("/api/v1/namespaces");
        assert_eq!((r.resource.as_str(), r.name), ("namespaces", None));
    }
}
