//! The steps of an InstallPlan for one resolved bundle, as pure functions: the bundle's CRDs
//! first, then the CSV, the ServiceAccounts, Roles and RoleBindings of the CSV's `permissions`,
//! the ClusterRoles and ClusterRoleBindings of its `clusterPermissions`, then the bundle's other
//! objects. Also the install mode an OperatorGroup asks of a CSV.

use apis::operators::{OLM_OWNER, OLM_OWNER_NAMESPACE, Step, StepResource};
use serde_json::{Value, json};

use crate::util::truncate_name;

/// Kinds applied before the CSV (APIs must exist first).
fn order_of(kind: &str) -> u8 {
    match kind {
        "CustomResourceDefinition" => 0,
        "ClusterServiceVersion" => 1,
        "ServiceAccount" => 2,
        "Role" | "ClusterRole" => 3,
        "RoleBinding" | "ClusterRoleBinding" => 4,
        _ => 5,
    }
}

/// Points the bundle's CSV at the CSV it upgrades (`spec.replaces`), as OLM writes it into the
/// plan: an upgrade found through `skips` or `skipRange` names its predecessor even when the
/// bundle does not, so the predecessor goes `Replacing` and is removed once the new one succeeds.
pub fn set_replaces(objects: &mut [Value], replaces: Option<&str>) {
    let Some(r) = replaces else { return };
    for o in objects
        .iter_mut()
        .filter(|o| o["kind"] == "ClusterServiceVersion")
    {
        o["spec"]["replaces"] = json!(r);
    }
}

/// Whether a bundle's objects can be installed: one ClusterServiceVersion with an install
/// strategy (OLM's CSV schema requires `spec.install`; the catalog loads CSVs without it, as opm
/// does). The error names the bundle image, the CSV and the field.
pub fn check_installable(objects: &[Value], bundle: &str, image: &str) -> Result<(), String> {
    let Some(csv) = objects
        .iter()
        .find(|o| o["kind"] == "ClusterServiceVersion")
    else {
        return Err(format!(
            "bundle {bundle} (image {image}) has no ClusterServiceVersion in manifests/; nothing can be installed"
        ));
    };
    let name = csv["metadata"]["name"].as_str().unwrap_or(bundle);
    if !csv["spec"]["install"].is_object() {
        return Err(format!(
            "bundle {bundle} (image {image}): ClusterServiceVersion {name}: spec.install: required field is missing (strategy: deployment, spec.deployments); fix the CSV in the bundle's manifests/ and publish a new bundle"
        ));
    }
    if csv["spec"]["install"]["strategy"].as_str() != Some("deployment") {
        return Err(format!(
            "bundle {bundle} (image {image}): ClusterServiceVersion {name}: spec.install.strategy: must be \"deployment\", found {}",
            csv["spec"]["install"]["strategy"]
        ));
    }
    Ok(())
}

/// The steps installing `objects` (a bundle's manifests) for CSV `csv` in `namespace`.
pub fn plan_steps(
    csv: &str,
    objects: &[Value],
    namespace: &str,
    source: &str,
    source_namespace: &str,
) -> Vec<Step> {
    let mut objs: Vec<Value> = objects.to_vec();
    if let Some(csv_obj) = objects
        .iter()
        .find(|o| o["kind"] == "ClusterServiceVersion")
    {
        objs.extend(rbac_objects(csv_obj, namespace));
    }
    objs.sort_by_key(|o| order_of(o["kind"].as_str().unwrap_or_default()));
    objs.into_iter()
        .map(|o| {
            let (group, version) =
                match o["apiVersion"].as_str().unwrap_or_default().split_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (
                        String::new(),
                        o["apiVersion"].as_str().unwrap_or_default().to_string(),
                    ),
                };
            Step {
                resolving: csv.to_string(),
                resource: StepResource {
                    catalog_source: source.to_string(),
                    catalog_source_namespace: source_namespace.to_string(),
                    group,
                    version,
                    kind: o["kind"].as_str().unwrap_or_default().to_string(),
                    name: o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    manifest: Some(o.to_string()),
                },
                status: "Unknown".into(),
            }
        })
        .collect()
}

/// ServiceAccounts, (Cluster)Roles and bindings from a CSV's install strategy permissions.
pub fn rbac_objects(csv: &Value, namespace: &str) -> Vec<Value> {
    let name = csv["metadata"]["name"].as_str().unwrap_or_default();
    let spec = &csv["spec"]["install"]["spec"];
    let mut out = Vec::new();
    let mut accounts: Vec<String> = Vec::new();
    let mut sa = |n: &str, out: &mut Vec<Value>| {
        if !n.is_empty() && !accounts.iter().any(|a| a == n) {
            accounts.push(n.to_string());
            out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": n, "namespace": namespace}}));
        }
    };
    for p in spec["permissions"].as_array().into_iter().flatten() {
        let account = p["serviceAccountName"].as_str().unwrap_or_default();
        sa(account, &mut out);
        let role = truncate_name(&format!("{name}-{account}"), 253);
        out.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": role, "namespace": namespace}, "rules": p["rules"].clone()}),
        );
        out.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": role, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}),
        );
    }
    for p in spec["clusterPermissions"].as_array().into_iter().flatten() {
        let account = p["serviceAccountName"].as_str().unwrap_or_default();
        sa(account, &mut out);
        let role = truncate_name(&format!("{name}-{namespace}-{account}"), 253);
        out.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": role}, "rules": p["rules"].clone()}),
        );
        out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}));
    }
    for d in spec["deployments"].as_array().into_iter().flatten() {
        let account = d["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or_default();
        sa(account, &mut out);
    }
    out
}

/// Marks the RBAC the CSV controller grants in a CSV's target namespaces (beside `olm.owner`
/// and `olm.owner.namespace`), so that it is pruned when the targets change without touching
/// what the InstallPlan created in the operator's own namespace.
pub const TARGET_RBAC_LABEL: &str = "cpaas.io/target-rbac";

/// The RBAC that lets a CSV's `permissions` act in its target namespaces, as OLM grants it: for
/// all namespaces one ClusterRole and ClusterRoleBinding per entry; for listed targets a Role and
/// RoleBinding in each target namespace but the operator's own (the InstallPlan made those).
/// The subjects are the ServiceAccounts in the operator's namespace. `install` is the CSV's
/// `spec.install`; `name` the CSV's.
pub fn target_rbac(
    name: &str,
    install: &Value,
    namespace: &str,
    targets: Option<&[String]>,
) -> Vec<Value> {
    let labels =
        json!({OLM_OWNER: name, OLM_OWNER_NAMESPACE: namespace, TARGET_RBAC_LABEL: "true"});
    let mut out = Vec::new();
    for p in install["spec"]["permissions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let account = p["serviceAccountName"].as_str().unwrap_or_default();
        if account.is_empty() {
            continue;
        }
        let subjects = json!([{"kind": "ServiceAccount", "name": account, "namespace": namespace}]);
        match targets {
            None => {
                let role = truncate_name(&format!("{name}-{namespace}-{account}-targets"), 253);
                // OLM adds reading namespaces to an all-namespaces operator's rules.
                let mut rules = p["rules"].as_array().cloned().unwrap_or_default();
                rules.push(json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}));
                out.push(
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": role, "labels": labels}, "rules": rules}),
                );
                out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": role, "labels": labels},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": subjects}));
            }
            Some(list) => {
                let role = truncate_name(&format!("{name}-{account}"), 253);
                for target in list.iter().filter(|t| *t != namespace) {
                    out.push(
                        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": {"name": role, "namespace": target, "labels": labels},
                        "rules": p["rules"].clone()}),
                    );
                    out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": role, "namespace": target, "labels": labels},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                        "subjects": subjects}));
                }
            }
        }
    }
    out
}

/// The install mode an OperatorGroup with `targets` (None/empty = all namespaces) asks of an
/// operator installed in `namespace`.
pub fn install_mode(targets: Option<&[String]>, namespace: &str) -> &'static str {
    match targets {
        None | Some([]) => "AllNamespaces",
        Some([one]) if one == namespace => "OwnNamespace",
        Some([one]) if one.is_empty() => "AllNamespaces",
        Some([_]) => "SingleNamespace",
        Some(_) => "MultiNamespace",
    }
}

/// `olm.targetNamespaces` for targets (empty string = all namespaces).
pub fn target_annotation(targets: Option<&[String]>) -> String {
    targets.map(|t| t.join(",")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv() -> Value {
        json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": "op.v1"},
            "spec": {"install": {"strategy": "deployment", "spec": {
                "permissions": [{"serviceAccountName": "op", "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]}],
                "clusterPermissions": [{"serviceAccountName": "op", "rules": []}],
                "deployments": [{"name": "op", "spec": {"template": {"spec": {"serviceAccountName": "op"}}}}]}}}})
    }

    #[test]
    fn crds_come_first_then_the_csv_then_rbac() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "as.x.io"}});
        let steps = plan_steps("op.v1", &[csv(), crd], "ns", "cat", "cpaas-system");
        let kinds: Vec<&str> = steps.iter().map(|s| s.resource.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "ClusterServiceVersion",
                "ServiceAccount",
                "Role",
                "ClusterRole",
                "RoleBinding",
                "ClusterRoleBinding"
            ]
        );
        let rb: Value = serde_json::from_str(steps[5].resource.manifest.as_ref().unwrap()).unwrap();
        assert_eq!(
            rb["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "op", "namespace": "ns"})
        );
        assert!(steps.iter().all(|s| s.resolving == "op.v1"));
    }

    #[test]
    fn an_upgrade_names_its_predecessor_in_the_csv_only() {
        let crd = json!({"kind": "CustomResourceDefinition", "metadata": {"name": "as.x.io"}});
        let mut objects = vec![csv(), crd.clone()];
        set_replaces(&mut objects, None);
        assert!(objects[0]["spec"].get("replaces").is_none());
        set_replaces(&mut objects, Some("op.v0"));
        assert_eq!(objects[0]["spec"]["replaces"], "op.v0");
        assert_eq!(objects[1], crd);
    }

    #[test]
    fn a_csv_without_an_install_strategy_is_not_installable_and_the_field_is_named() {
        check_installable(&[csv()], "op.v1", "reg/b@sha256:1").unwrap();
        let mut bad = csv();
        bad["spec"].as_object_mut().unwrap().remove("install");
        let e = check_installable(&[bad], "op.v1", "reg/b@sha256:1").unwrap_err();
        assert!(
            e.contains("reg/b@sha256:1") && e.contains("spec.install: required field is missing"),
            "{e}"
        );
        assert!(check_installable(&[], "op.v1", "i").is_err());
    }

    #[test]
    fn permissions_are_granted_in_every_target_namespace_or_cluster_wide_for_all() {
        let c = json!({"metadata": {"name": "op.v1"}, "spec": {"install": {"spec": {"permissions": [
            {"serviceAccountName": "op", "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}]}}}});
        let targets = vec!["ns".to_string(), "t1".to_string(), "t2".to_string()];
        let objs = target_rbac("op.v1", &c["spec"]["install"], "ns", Some(&targets));
        let placed: Vec<(String, String)> = objs
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap().to_string(),
                    o["metadata"]["namespace"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        // Not in the operator's own namespace: the InstallPlan made those.
        assert_eq!(
            placed,
            [
                ("Role", "t1"),
                ("RoleBinding", "t1"),
                ("Role", "t2"),
                ("RoleBinding", "t2")
            ]
            .map(|(k, n)| (k.to_string(), n.to_string()))
        );
        assert_eq!(objs[1]["subjects"][0]["namespace"], "ns");
        assert_eq!(objs[0]["metadata"]["labels"][TARGET_RBAC_LABEL], "true");
        let all = target_rbac("op.v1", &c["spec"]["install"], "ns", None);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["kind"], "ClusterRole");
        assert_eq!(all[0]["metadata"]["name"], "op.v1-ns-op-targets");
        assert_eq!(all[0]["rules"][1]["resources"], json!(["namespaces"]));
        assert_eq!(all[1]["roleRef"]["name"], "op.v1-ns-op-targets");
        // Own namespace only: nothing beyond what the plan made.
        assert!(
            target_rbac(
                "op.v1",
                &c["spec"]["install"],
                "ns",
                Some(&["ns".to_string()])
            )
            .is_empty()
        );
    }

    #[test]
    fn install_modes_follow_the_operator_group_targets() {
        let own = vec!["ns".to_string()];
        let other = vec!["a".to_string()];
        let two = vec!["a".to_string(), "b".to_string()];
        assert_eq!(install_mode(None, "ns"), "AllNamespaces");
        assert_eq!(install_mode(Some(&own), "ns"), "OwnNamespace");
        assert_eq!(install_mode(Some(&other), "ns"), "SingleNamespace");
        assert_eq!(install_mode(Some(&two), "ns"), "MultiNamespace");
    }
}
