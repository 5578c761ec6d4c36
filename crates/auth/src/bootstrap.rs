//! The bootstrap policy kube-apiserver creates in every cluster (`plugin/pkg/auth/authorizer/rbac/
//! bootstrappolicy`): `cluster-admin`; the user-facing `admin`, `edit`, `view` (aggregated through
//! their `rbac.authorization.k8s.io/aggregate-to-*` labels from `system:aggregate-to-*`); and
//! `system:discovery`, `system:basic-user`, `system:public-info-viewer` with their bindings.
//! The apiserver creates each object that is absent at startup and never overwrites an edited one.

use serde_json::{Value, json};

const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 5] = ["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> Value {
    json!({"verbs": verbs, "apiGroups": [group], "resources": resources})
}

fn urls(verbs: &[&str], urls: &[&str]) -> Value {
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn meta(name: &str, extra_labels: &[(&str, &str)]) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("kubernetes.io/bootstrapping".into(), json!("rbac-defaults"));
    for (k, v) in extra_labels {
        labels.insert((*k).into(), json!(v));
    }
    json!({"name": name, "labels": labels,
           "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}})
}

fn cluster_role(name: &str, labels: &[(&str, &str)], rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": meta(name, labels), "rules": rules})
}

fn aggregated(name: &str, labels: &[(&str, &str)], to: &str) -> Value {
    let mut r = cluster_role(name, labels, vec![]);
    r["aggregationRule"] = json!({"clusterRoleSelectors": [
        {"matchLabels": {format!("rbac.authorization.k8s.io/aggregate-to-{to}"): "true"}}
    ]});
    r
}

const TO_ADMIN: (&str, &str) = ("rbac.authorization.k8s.io/aggregate-to-admin", "true");
const TO_EDIT: (&str, &str) = ("rbac.authorization.k8s.io/aggregate-to-edit", "true");
const TO_VIEW: (&str, &str) = ("rbac.authorization.k8s.io/aggregate-to-view", "true");

fn aggregate_to_view() -> Vec<Value> {
    vec![
        rule(
            &READ,
            "",
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        rule(
            &READ,
            "",
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        rule(&READ, "", &["namespaces"]),
        rule(&READ, "discovery.k8s.io", &["endpointslices"]),
        rule(
            &READ,
            "apps",
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ],
        ),
        rule(
            &READ,
            "autoscaling",
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            &READ,
            "batch",
            &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
        ),
        rule(
            &READ,
            "policy",
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            &READ,
            "networking.k8s.io",
            &["networkpolicies", "ingresses", "ingresses/status"],
        ),
    ]
}

fn aggregate_to_edit() -> Vec<Value> {
    vec![
        rule(&["impersonate"], "", &["serviceaccounts"]),
        rule(
            &WRITE,
            "",
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        rule(&["create"], "", &["pods/eviction"]),
        rule(
            &WRITE,
            "",
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ],
        ),
        rule(&["create"], "", &["serviceaccounts/token"]),
        rule(
            &WRITE,
            "apps",
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        rule(&WRITE, "autoscaling", &["horizontalpodautoscalers"]),
        rule(&WRITE, "batch", &["jobs", "cronjobs"]),
        rule(&WRITE, "policy", &["poddisruptionbudgets"]),
        rule(
            &WRITE,
            "networking.k8s.io",
            &["networkpolicies", "ingresses"],
        ),
        rule(&READ_WRITE, "coordination.k8s.io", &["leases"]),
    ]
}

fn aggregate_to_admin() -> Vec<Value> {
    vec![
        rule(
            &["create"],
            "authorization.k8s.io",
            &["localsubjectaccessreviews"],
        ),
        rule(
            &READ_WRITE,
            "rbac.authorization.k8s.io",
            &["roles", "rolebindings"],
        ),
    ]
}

/// The bootstrap ClusterRoles.
pub fn cluster_roles() -> Vec<Value> {
    vec![
        cluster_role(
            "cluster-admin",
            &[],
            vec![rule(&["*"], "*", &["*"]), urls(&["*"], &["*"])],
        ),
        aggregated("admin", &[], "admin"),
        aggregated("edit", &[TO_ADMIN], "edit"),
        aggregated("view", &[TO_EDIT], "view"),
        cluster_role(
            "system:aggregate-to-admin",
            &[TO_ADMIN],
            aggregate_to_admin(),
        ),
        cluster_role("system:aggregate-to-edit", &[TO_EDIT], aggregate_to_edit()),
        cluster_role("system:aggregate-to-view", &[TO_VIEW], aggregate_to_view()),
        cluster_role(
            "system:discovery",
            &[],
            vec![urls(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        cluster_role(
            "system:basic-user",
            &[],
            vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(
                    &["create"],
                    "authentication.k8s.io",
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            &[],
            vec![urls(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
    ]
}

fn binding(role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
        .collect();
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": meta(role, &[]),
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": subjects})
}

/// The bootstrap ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<Value> {
    vec![
        binding("cluster-admin", &["system:masters"]),
        binding("system:discovery", &["system:authenticated"]),
        binding("system:basic-user", &["system:authenticated"]),
        binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::{Attributes, ResourceAttributes};
    use crate::rbac::Authorizer;
    use crate::user::UserInfo;

    fn policy() -> Authorizer {
        let (a, errors) =
            Authorizer::from_objects(&cluster_roles(), &[], &cluster_role_bindings(), &[]);
        assert!(errors.is_empty());
        a
    }

    #[test]
    fn every_authenticated_user_may_discover_and_review_itself_but_not_read() {
        let a = policy();
        let u = UserInfo::service_account("ns", "sa", "");
        for p in [
            "/api",
            "/apis/apps/v1",
            "/openapi/v3",
            "/version",
            "/healthz",
        ] {
            assert!(
                a.authorize(&Attributes::non_resource(u.clone(), "get", p))
                    .allowed(),
                "{p}"
            );
        }
        assert!(
            !a.authorize(&Attributes::non_resource(u.clone(), "get", "/metrics"))
                .allowed()
        );
        let ssar = ResourceAttributes {
            api_group: "authorization.k8s.io".into(),
            resource: "selfsubjectaccessreviews".into(),
            ..Default::default()
        };
        assert!(
            a.authorize(&Attributes::resource(u.clone(), "create", ssar))
                .allowed()
        );
        let pods = ResourceAttributes {
            resource: "pods".into(),
            namespace: "ns".into(),
            ..Default::default()
        };
        assert!(
            !a.authorize(&Attributes::resource(u, "list", pods))
                .allowed()
        );
    }

    #[test]
    fn admin_aggregates_edit_and_view_through_labels() {
        let mut roles: Vec<crate::rbac::Role> = cluster_roles()
            .iter()
            .map(|o| crate::rbac::Role::from_object(o).unwrap())
            .collect();
        crate::aggregation::aggregate_all(&mut roles);
        let get = |n: &str| roles.iter().find(|r| r.name == n).unwrap().rules.clone();
        let (admin, edit, view) = (get("admin"), get("edit"), get("view"));
        assert_eq!(view.len(), aggregate_to_view().len());
        assert!(view.iter().all(|r| edit.contains(r)));
        assert!(edit.iter().all(|r| admin.contains(r)));
        assert!(
            admin
                .iter()
                .any(|r| r.resources.contains(&"rolebindings".to_string()))
        );
        assert!(
            !edit
                .iter()
                .any(|r| r.resources.contains(&"rolebindings".to_string()))
        );
    }
}
