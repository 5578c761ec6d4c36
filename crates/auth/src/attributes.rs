//! Request attributes as kube-apiserver's `RequestInfoFactory` derives them: a resource request
//! (verb, API group, resource, subresource, namespace, name) or a non-resource request (path and
//! the lower-cased HTTP verb).

use crate::user::UserInfo;

/// What a resource request addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceAttributes {
    /// "" for the core group.
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    /// "" at the cluster scope.
    pub namespace: String,
    /// "" for collections (and creates without a name).
    pub name: String,
}

/// One authorization question: may `user` do `verb` on the resource (or path)?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub user: UserInfo,
    pub verb: String,
    /// `Some` for resource requests, `None` for non-resource paths.
    pub resource: Option<ResourceAttributes>,
    /// The request path (used for non-resource requests).
    pub path: String,
}

impl Attributes {
    pub fn resource(user: UserInfo, verb: &str, r: ResourceAttributes) -> Attributes {
        Attributes {
            user,
            verb: verb.into(),
            resource: Some(r),
            path: String::new(),
        }
    }

    pub fn non_resource(user: UserInfo, verb: &str, path: &str) -> Attributes {
        Attributes {
            user,
            verb: verb.into(),
            resource: None,
            path: path.into(),
        }
    }
}

/// The verb of a resource request: kube-apiserver maps GET to `get`/`list`/`watch`, POST to
/// `create`, PUT to `update`, PATCH to `patch`, DELETE to `delete`/`deletecollection`.
pub fn verb_for(method: &str, has_name: bool, watch: bool) -> String {
    match (method.to_ascii_uppercase().as_str(), has_name) {
        ("GET" | "HEAD", _) if watch => "watch",
        ("GET" | "HEAD", true) => "get",
        ("GET" | "HEAD", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        (other, _) => return other.to_ascii_lowercase(),
    }
    .to_string()
}

/// The verb of a non-resource request: the lower-cased HTTP method.
pub fn non_resource_verb(method: &str) -> String {
    method.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_as_kube_apiserver_derives_them() {
        assert_eq!(verb_for("GET", true, false), "get");
        assert_eq!(verb_for("GET", false, false), "list");
        assert_eq!(verb_for("GET", false, true), "watch");
        assert_eq!(verb_for("GET", true, true), "watch");
        assert_eq!(verb_for("POST", false, false), "create");
        assert_eq!(verb_for("PUT", true, false), "update");
        assert_eq!(verb_for("PATCH", true, false), "patch");
        assert_eq!(verb_for("DELETE", true, false), "delete");
        assert_eq!(verb_for("DELETE", false, false), "deletecollection");
        assert_eq!(non_resource_verb("GET"), "get");
    }
}
