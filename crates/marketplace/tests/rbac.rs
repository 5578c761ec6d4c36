//! Identities and RBAC with the real kubectl (1.27 and 1.33) against `marketplace serve`:
//! a ServiceAccount token from `kubectl create token`, a Role bound in one namespace (allowed
//! there, kube-apiserver's 403 elsewhere), `kubectl auth can-i` (yes/no and `--list`), discovery
//! for a non-admin user (system:discovery), `--as`/`--as-group` impersonation by the admin, a
//! deleted ServiceAccount's token answered 401, a ClusterRole aggregated through labels, and a
//! platform user token surviving a restart.

mod common;

use common::{Server, kubectl_binary};
use std::process::Output;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// kubectl with a bearer token instead of the kubeconfig's admin token.
fn as_token(s: &Server, token: &str, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let flag = format!("--token={token}");
    all.push(&flag);
    s.kubectl(&all)
}

fn ok_as(s: &Server, token: &str, args: &[&str]) -> String {
    let o = as_token(s, token, args);
    let (out, err) = text(&o);
    assert!(
        o.status.success(),
        "kubectl {args:?} as token failed:\n{out}\n{err}"
    );
    out
}

/// `kubectl auth can-i` answer (it exits 1 for "no").
fn can_i(s: &Server, token: &str, args: &[&str]) -> String {
    let mut all = vec!["auth", "can-i"];
    all.extend_from_slice(args);
    let o = as_token(s, token, &all);
    let (out, err) = text(&o);
    assert!(
        out.trim() == "yes" || out.trim() == "no",
        "can-i {args:?}: {out}{err}"
    );
    out.trim().to_string()
}

const FORBIDDEN_OTHER: &str = r#"Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "other""#;

/// Namespaces, a ServiceAccount and a Role bound to it in `team`; returns its token.
fn setup_reader(s: &Server) -> String {
    s.ok(&["create", "namespace", "team"]);
    s.ok(&["create", "namespace", "other"]);
    s.ok(&["create", "serviceaccount", "reader", "-n", "team"]);
    s.ok(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list,watch",
        "--resource=pods",
        "-n",
        "team",
    ]);
    s.ok(&[
        "create",
        "rolebinding",
        "read-pods",
        "--role=pod-reader",
        "--serviceaccount=team:reader",
        "-n",
        "team",
    ]);
    let token = s.ok(&["create", "token", "reader", "-n", "team", "--duration=1h"]);
    let token = token.trim().to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    token
}

fn role_bound_service_account(kubectl: &str) {
    let s = Server::start_with_kubectl(&[], kubectl_binary(kubectl));
    let token = setup_reader(&s);

    // allowed in its namespace
    let o = as_token(&s, &token, &["get", "pods", "-n", "team"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        err.contains("No resources found in team namespace."),
        "{err}"
    );

    // forbidden elsewhere, with kube-apiserver's message
    let o = as_token(&s, &token, &["get", "pods", "-n", "other"]);
    assert!(!o.status.success());
    assert_eq!(text(&o).1.trim(), FORBIDDEN_OTHER);
    let o = as_token(&s, &token, &["get", "pods", "-A"]);
    assert!(
        text(&o).1.contains(r#"User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" at the cluster scope"#),
        "{}",
        text(&o).1
    );

    // can-i yes/no
    assert_eq!(can_i(&s, &token, &["list", "pods", "-n", "team"]), "yes");
    assert_eq!(can_i(&s, &token, &["watch", "pods", "-n", "team"]), "yes");
    assert_eq!(can_i(&s, &token, &["delete", "pods", "-n", "team"]), "no");
    assert_eq!(can_i(&s, &token, &["list", "pods", "-n", "other"]), "no");
    assert_eq!(
        can_i(&s, &token, &["create", "deployments.apps", "-n", "team"]),
        "no"
    );

    // can-i --list shows the Role's rules and the bootstrap self-review rules, nothing more
    let list = ok_as(&s, &token, &["auth", "can-i", "--list", "-n", "team"]);
    let pods = list
        .lines()
        .find(|l| l.starts_with("pods "))
        .unwrap_or_else(|| panic!("no pods row:\n{list}"));
    assert!(pods.ends_with("[get list watch]"), "{pods}");
    assert!(
        list.contains("selfsubjectaccessreviews.authorization.k8s.io"),
        "{list}"
    );
    assert!(list.contains("[/api/*]"), "{list}");
    assert!(
        !list.contains("configmaps") && !list.contains("[*]"),
        "{list}"
    );
    let other = ok_as(&s, &token, &["auth", "can-i", "--list", "-n", "other"]);
    assert!(!other.lines().any(|l| l.starts_with("pods ")), "{other}");

    // discovery works for a non-admin user (system:discovery)
    let resources = ok_as(
        &s,
        &token,
        &["api-resources", "--api-group=apps", "-o", "name"],
    );
    assert!(
        resources.lines().any(|l| l == "deployments.apps"),
        "{resources}"
    );
}

#[test]
fn kubectl_1_27_service_account_with_a_namespaced_role() {
    role_bound_service_account("1.27");
}

#[test]
fn kubectl_1_33_service_account_with_a_namespaced_role() {
    role_bound_service_account("1.33");
}

#[test]
fn whoami_impersonation_and_deleted_service_account() {
    let s = Server::start_with_kubectl(&[], kubectl_binary("1.33"));
    let token = setup_reader(&s);
    let who = ok_as(
        &s,
        &token,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(who, "system:serviceaccount:team:reader");
    let admin = s.ok(&[
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(admin, "marketplace-admin");

    // the admin impersonates the ServiceAccount and gets its answers
    let o = s.kubectl(&[
        "get",
        "pods",
        "-n",
        "other",
        "--as=system:serviceaccount:team:reader",
    ]);
    assert_eq!(text(&o).1.trim(), FORBIDDEN_OTHER);
    s.ok(&[
        "get",
        "pods",
        "-n",
        "team",
        "--as=system:serviceaccount:team:reader",
    ]);
    // a user in a group, granted through a RoleBinding to the group
    let ask = |args: &[&str]| -> String {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        text(&s.kubectl(&all)).0.trim().to_string()
    };
    assert_eq!(
        ask(&[
            "list",
            "configmaps",
            "-n",
            "team",
            "--as=bob",
            "--as-group=devs"
        ]),
        "no"
    );
    s.ok(&[
        "create",
        "rolebinding",
        "devs-view",
        "--clusterrole=view",
        "--group=devs",
        "-n",
        "team",
    ]);
    assert_eq!(
        ask(&[
            "list",
            "configmaps",
            "-n",
            "team",
            "--as=bob",
            "--as-group=devs"
        ]),
        "yes"
    );
    assert_eq!(ask(&["list", "configmaps", "-n", "team", "--as=bob"]), "no");
    assert_eq!(
        ask(&[
            "create",
            "configmaps",
            "-n",
            "team",
            "--as=bob",
            "--as-group=devs"
        ]),
        "no"
    );

    // a user without the impersonate verb may not impersonate
    let o = as_token(&s, &token, &["get", "pods", "-n", "team", "--as=bob"]);
    assert!(
        text(&o).1.contains(r#"users "bob" is forbidden: User "system:serviceaccount:team:reader" cannot impersonate resource "users" in API group "" at the cluster scope"#),
        "{}",
        text(&o).1
    );

    // a deleted ServiceAccount's token stops working, also after re-creating the same name
    s.ok(&["delete", "serviceaccount", "reader", "-n", "team"]);
    let o = as_token(&s, &token, &["get", "pods", "-n", "team"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("Unauthorized"), "{}", text(&o).1);
    s.ok(&["create", "serviceaccount", "reader", "-n", "team"]);
    let o = as_token(&s, &token, &["get", "pods", "-n", "team"]);
    assert!(text(&o).1.contains("Unauthorized"), "{}", text(&o).1);
    let o = as_token(&s, "not-a-token", &["get", "pods"]);
    assert!(text(&o).1.contains("Unauthorized"), "{}", text(&o).1);
}

#[test]
fn aggregated_cluster_role_grants_what_its_parts_grant() {
    let s = Server::start_with_kubectl(&[], kubectl_binary("1.33"));
    s.ok(&["create", "namespace", "team"]);
    s.ok(&["create", "serviceaccount", "mon", "-n", "team"]);
    s.ok_stdin(
        &["apply", "-f", "-"],
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitoring}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects: [{kind: ServiceAccount, name: mon, namespace: team}]
"#,
    );
    let token = s
        .ok(&["create", "token", "mon", "-n", "team"])
        .trim()
        .to_string();
    assert_eq!(can_i(&s, &token, &["list", "endpoints", "-A"]), "no");
    s.ok_stdin(
        &["apply", "-f", "-"],
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules:
- {apiGroups: [""], resources: [endpoints, services], verbs: [get, list, watch]}
"#,
    );
    assert_eq!(can_i(&s, &token, &["list", "endpoints", "-A"]), "yes");
    assert_eq!(
        can_i(&s, &token, &["get", "services", "-n", "kube-system"]),
        "yes"
    );
    assert_eq!(
        can_i(&s, &token, &["delete", "services", "-n", "kube-system"]),
        "no"
    );
    ok_as(&s, &token, &["get", "endpoints", "-A"]);
    // the bootstrap `view` role aggregates system:aggregate-to-view
    s.ok(&[
        "create",
        "rolebinding",
        "mon-view",
        "--clusterrole=view",
        "--serviceaccount=team:mon",
        "-n",
        "team",
    ]);
    assert_eq!(
        can_i(&s, &token, &["list", "deployments.apps", "-n", "team"]),
        "yes"
    );
    assert_eq!(can_i(&s, &token, &["list", "secrets", "-n", "team"]), "no");
}
