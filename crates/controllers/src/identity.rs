//! A controller set's least-privilege identity in one cluster: namespace `cpaas-system`,
//! ServiceAccount `marketplace-<set>` there, ClusterRole `marketplace-<set>` holding exactly the
//! set's rules and a ClusterRoleBinding between them — applied with server-side apply (field
//! manager `marketplace-identities`, forced: the product owns them), so a changed rule list is
//! converged on the next start.

use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::{Value, json};

use crate::host::IDENTITY_NAMESPACE;

/// The four objects, in creation order.
pub fn objects(name: &str, rules: &[PolicyRule]) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/managed-by": "marketplace"});
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": IDENTITY_NAMESPACE}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": IDENTITY_NAMESPACE, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name, "labels": labels}, "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": IDENTITY_NAMESPACE}]}),
    ]
}

fn resource(obj: &Value) -> ApiResource {
    let (group, version) = match obj["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
    {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), "v1".to_string()),
    };
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let plural = format!("{}s", kind.to_ascii_lowercase());
    ApiResource {
        api_version: obj["apiVersion"].as_str().unwrap_or_default().to_string(),
        group,
        version,
        kind,
        plural,
    }
}

/// Applies [`objects`] through `client` (an admin of the cluster).
pub async fn ensure(
    client: &kube::Client,
    name: &str,
    rules: &[PolicyRule],
) -> Result<(), kube::Error> {
    let pp = PatchParams::apply(&crate::runtime::field_manager("identities")).force();
    for obj in objects(name, rules) {
        let ar = resource(&obj);
        let api: Api<DynamicObject> = match obj["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        let n = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        api.patch(&n, &pp, &Patch::Apply(&obj)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_ties_the_set_account_to_a_role_of_exactly_its_rules() {
        let rules = vec![PolicyRule {
            api_groups: Some(vec!["".into()]),
            resources: Some(vec!["configmaps".into()]),
            verbs: vec!["list".into()],
            ..Default::default()
        }];
        let o = objects("marketplace-x", &rules);
        assert_eq!(
            o.iter()
                .map(|x| x["kind"].as_str().unwrap())
                .collect::<Vec<_>>(),
            [
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding"
            ]
        );
        assert_eq!(
            o[2]["rules"],
            json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
        );
        assert_eq!(
            o[3]["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "marketplace-x", "namespace": "cpaas-system"})
        );
        assert_eq!(resource(&o[2]).plural, "clusterroles");
        assert_eq!(resource(&o[1]).api_version, "v1");
    }
}
