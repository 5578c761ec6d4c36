use serde_json::json;

use super::*;
use crate::attributes::ResourceAttributes;

fn sa(ns: &str, name: &str) -> UserInfo {
    UserInfo::service_account(ns, name, "uid")
}

fn req(user: &UserInfo, verb: &str, group: &str, resource: &str, ns: &str) -> Attributes {
    Attributes::resource(
        user.clone(),
        verb,
        ResourceAttributes {
            api_group: group.into(),
            resource: resource.into(),
            namespace: ns.into(),
            ..Default::default()
        },
    )
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
    PolicyRule {
        verbs: s(verbs),
        api_groups: s(groups),
        resources: s(resources),
        ..Default::default()
    }
}

fn authorizer(objs: Value) -> Authorizer {
    let get = |k: &str| objs[k].as_array().cloned().unwrap_or_default();
    let (a, errors) = Authorizer::from_objects(
        &get("clusterRoles"),
        &get("roles"),
        &get("clusterRoleBindings"),
        &get("roleBindings"),
    );
    assert!(errors.is_empty(), "{errors:?}");
    a
}

fn pod_reader_in_ns() -> Authorizer {
    authorizer(json!({
        "roles": [{"metadata": {"name": "pod-reader", "namespace": "ns"},
                   "rules": [{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "pods/log"]}]}],
        "roleBindings": [{"metadata": {"name": "read-pods", "namespace": "ns"},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                          "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]}],
    }))
}

#[test]
fn role_binding_grants_only_in_its_namespace_with_the_kube_apiserver_message() {
    let a = pod_reader_in_ns();
    let u = sa("ns", "sa");
    let allowed = a.authorize(&req(&u, "list", "", "pods", "ns"));
    assert_eq!(
        allowed,
        Decision::Allow(
            r#"RBAC: allowed by RoleBinding "read-pods/ns" of Role "pod-reader" to ServiceAccount "sa/ns""#
                .into()
        )
    );
    assert!(a.allows(&req(&u, "list", "", "pods", "ns")));
    let elsewhere = req(&u, "list", "", "pods", "other");
    assert!(!a.allows(&elsewhere));
    assert_eq!(a.authorize(&elsewhere), Decision::Deny(String::new()));
    assert_eq!(
        forbidden_message(&elsewhere),
        r#"User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" in the namespace "other""#
    );
    let cluster = req(&u, "list", "", "pods", "");
    assert!(!a.authorize(&cluster).allowed());
    assert_eq!(
        forbidden_message(&cluster),
        r#"User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" at the cluster scope"#
    );
    // other verbs, other users, other SAs with the same name elsewhere
    assert!(!a.authorize(&req(&u, "delete", "", "pods", "ns")).allowed());
    assert!(
        !a.authorize(&req(&sa("other", "sa"), "list", "", "pods", "ns"))
            .allowed()
    );
}

#[test]
fn subresources_need_their_own_rule_or_a_star_slash_rule() {
    let a = pod_reader_in_ns();
    let u = sa("ns", "sa");
    let mut log = req(&u, "get", "", "pods", "ns");
    log.resource.as_mut().unwrap().subresource = "log".into();
    assert!(a.authorize(&log).allowed());
    let mut exec = log.clone();
    exec.resource.as_mut().unwrap().subresource = "exec".into();
    assert!(!a.authorize(&exec).allowed());
    assert_eq!(
        forbidden_message(&exec),
        r#"User "system:serviceaccount:ns:sa" cannot get resource "pods/exec" in API group "" in the namespace "ns""#
    );
    let star = rule(&["get"], &[""], &["*/status"]);
    let mut status = req(&u, "get", "apps", "deployments", "ns");
    status.resource.as_mut().unwrap().subresource = "status".into();
    status.resource.as_mut().unwrap().api_group = "".into();
    assert!(rule_allows(&status, &star));
    assert!(!rule_allows(
        &req(&u, "get", "", "deployments", "ns"),
        &star
    ));
}

#[test]
fn wildcards_match_every_verb_group_and_resource() {
    let u = sa("ns", "sa");
    let all = rule(&["*"], &["*"], &["*"]);
    assert!(rule_allows(
        &req(&u, "deletecollection", "apps", "deployments", "x"),
        &all
    ));
    let core_only = rule(&["*"], &[""], &["*"]);
    assert!(!rule_allows(
        &req(&u, "get", "apps", "deployments", "x"),
        &core_only
    ));
}

#[test]
fn resource_names_restrict_to_named_requests() {
    let u = sa("ns", "sa");
    let mut r = rule(&["get", "list", "update"], &[""], &["configmaps"]);
    r.resource_names = vec!["cfg".into()];
    let mut named = req(&u, "get", "", "configmaps", "ns");
    named.resource.as_mut().unwrap().name = "cfg".into();
    assert!(rule_allows(&named, &r));
    named.resource.as_mut().unwrap().name = "other".into();
    assert!(!rule_allows(&named, &r));
    // list, watch and create carry no name: never allowed by a resourceNames rule
    assert!(!rule_allows(&req(&u, "list", "", "configmaps", "ns"), &r));
}

#[test]
fn non_resource_urls_match_exactly_or_by_trailing_star() {
    let u = UserInfo {
        name: "alice".into(),
        groups: vec!["system:authenticated".into()],
        ..Default::default()
    };
    let r = PolicyRule {
        verbs: vec!["get".into()],
        non_resource_urls: vec!["/healthz".into(), "/apis/*".into()],
        ..Default::default()
    };
    let nr = |p: &str| Attributes::non_resource(u.clone(), "get", p);
    assert!(rule_allows(&nr("/healthz"), &r));
    assert!(rule_allows(&nr("/apis/apps/v1"), &r));
    assert!(rule_allows(&nr("/apis/"), &r));
    assert!(!rule_allows(&nr("/apis"), &r));
    assert!(!rule_allows(&nr("/healthz/etcd"), &r));
    assert!(!rule_allows(
        &Attributes::non_resource(u.clone(), "post", "/healthz"),
        &r
    ));
    assert_eq!(
        forbidden_message(&nr("/metrics")),
        r#"User "alice" cannot get path "/metrics""#
    );
}

#[test]
fn group_subjects_and_service_account_groups_apply() {
    let a = authorizer(json!({
        "clusterRoles": [{"metadata": {"name": "view-nodes"}, "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]}],
        "clusterRoleBindings": [
            {"metadata": {"name": "all-sas-in-ns"}, "roleRef": {"kind": "ClusterRole", "name": "view-nodes"},
             "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ns"}]},
            {"metadata": {"name": "alice"}, "roleRef": {"kind": "ClusterRole", "name": "view-nodes"},
             "subjects": [{"kind": "User", "name": "alice"}]},
        ],
    }));
    assert!(
        a.authorize(&req(&sa("ns", "x"), "list", "", "nodes", ""))
            .allowed()
    );
    assert!(
        !a.authorize(&req(&sa("other", "x"), "list", "", "nodes", ""))
            .allowed()
    );
    let alice = UserInfo {
        name: "alice".into(),
        ..Default::default()
    };
    assert_eq!(
        a.authorize(&req(&alice, "list", "", "nodes", "")),
        Decision::Allow(
            r#"RBAC: allowed by ClusterRoleBinding "alice" of ClusterRole "view-nodes" to User "alice""#
                .into()
        )
    );
}

#[test]
fn role_binding_to_a_cluster_role_grants_in_the_binding_namespace_only() {
    let a = authorizer(json!({
        "clusterRoles": [{"metadata": {"name": "cm-editor"}, "rules": [{"verbs": ["*"], "apiGroups": [""], "resources": ["configmaps"]}]}],
        "roleBindings": [{"metadata": {"name": "b", "namespace": "team"}, "roleRef": {"kind": "ClusterRole", "name": "cm-editor"},
                          "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}],
    }));
    // a ServiceAccount subject without a namespace is the binding's namespace
    let u = sa("team", "sa");
    assert!(
        a.authorize(&req(&u, "create", "", "configmaps", "team"))
            .allowed()
    );
    assert!(
        !a.authorize(&req(&u, "create", "", "configmaps", ""))
            .allowed()
    );
    assert!(
        !a.authorize(&req(&u, "create", "", "configmaps", "x"))
            .allowed()
    );
}

#[test]
fn a_binding_to_a_missing_role_is_reported_in_the_reason() {
    let a = authorizer(json!({
        "roleBindings": [{"metadata": {"name": "b", "namespace": "ns"}, "roleRef": {"kind": "Role", "name": "gone"},
                          "subjects": [{"kind": "User", "name": "bob"}]}],
    }));
    let bob = UserInfo {
        name: "bob".into(),
        ..Default::default()
    };
    let d = a.authorize(&req(&bob, "get", "", "pods", "ns"));
    assert_eq!(
        d,
        Decision::Deny(r#"RBAC: role.rbac.authorization.k8s.io "gone" not found"#.into())
    );
    let (rules, errors) = a.rules_for(&bob, "ns");
    assert!(rules.is_empty());
    assert_eq!(errors.len(), 1);
}

#[test]
fn aggregated_cluster_role_grants_what_its_parts_grant() {
    let a = authorizer(json!({
        "clusterRoles": [
            {"metadata": {"name": "monitoring"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]}, "rules": []},
            {"metadata": {"name": "monitoring-endpoints", "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
             "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["endpoints"]}]},
        ],
        "clusterRoleBindings": [{"metadata": {"name": "m"}, "roleRef": {"kind": "ClusterRole", "name": "monitoring"},
                                 "subjects": [{"kind": "User", "name": "mon"}]}],
    }));
    let mon = UserInfo {
        name: "mon".into(),
        ..Default::default()
    };
    assert!(
        a.authorize(&req(&mon, "list", "", "endpoints", "any"))
            .allowed()
    );
    assert!(
        !a.authorize(&req(&mon, "delete", "", "endpoints", "any"))
            .allowed()
    );
}

#[test]
fn masters_bypass_rbac_and_rules_for_lists_namespace_and_cluster_rules() {
    let a = Authorizer::default();
    assert!(
        a.authorize(&req(&UserInfo::admin(), "delete", "", "nodes", ""))
            .allowed()
    );
    let b = pod_reader_in_ns();
    let (rules, errors) = b.rules_for(&sa("ns", "sa"), "ns");
    assert!(errors.is_empty());
    assert_eq!(
        rules,
        vec![rule(
            &["get", "list", "watch"],
            &[""],
            &["pods", "pods/log"]
        )]
    );
    assert!(b.rules_for(&sa("ns", "sa"), "other").0.is_empty());
    let (res, non) = review_rules(&rules);
    assert_eq!(res[0]["resources"], json!(["pods", "pods/log"]));
    assert!(non.is_empty());
}

#[test]
fn forbidden_reason_appends_the_decision_reason() {
    let u = sa("ns", "sa");
    let r = req(&u, "get", "apps", "deployments", "");
    assert_eq!(
        forbidden_reason(&r, "RBAC: x"),
        r#"User "system:serviceaccount:ns:sa" cannot get resource "deployments" in API group "apps" at the cluster scope: RBAC: x"#
    );
}
