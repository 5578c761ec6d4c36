//! Platform users and login against the real `marketplace serve`: the admin bootstrap, the
//! `/platform/v1` endpoints (driven with the real curl), `marketplace user ...`, login tokens on the
//! Kubernetes API (the real kubectl), RBAC refusing a Custom-role user, revocation and the login
//! rate limit.

mod common;

use std::process::{Command, Stdio};

use common::Server;
use serde_json::Value;

/// One HTTP call with curl: (status, headers text, body as JSON or Null).
fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-D", "-", "-o", "-", "--cacert"])
        .arg(s.ca_path())
        .args(["-X", method, &format!("{}{}", s.base, path)]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd
        .output()
        .expect("curl must be installed (scripts/setup)");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        code,
        head.to_string(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn login(s: &Server, user: &str, password: &str) -> (u16, String, Value) {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    call(s, "POST", "/platform/v1/login", None, Some(&body))
}

fn admin_password(s: &Server) -> String {
    std::fs::read_to_string(s.data_dir().join("admin-password"))
        .expect("serve writes <data-dir>/admin-password on first start")
        .trim()
        .to_string()
}

fn user_cmd(s: &Server, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(s.data_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "marketplace user {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn kubectl_as(s: &Server, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(s.kubectl_path())
        .arg("--kubeconfig")
        .arg(s.kubeconfig("global"))
        .args(["--token", token])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_bootstrapped_admin_logs_in_and_its_token_is_cluster_admin_for_kubectl() {
    let s = Server::start_with(&["region1"], &["--no-controllers"], &[]);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(s.data_dir().join("admin-password"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let (code, _, body) = login(&s, "admin", &admin_password(&s));
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["user"],
        serde_json::json!({"name": "admin", "roleType": "System", "roleName": "platform-admin-system"})
    );
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'), "{body}");
    let token = body["token"].as_str().unwrap().to_string();

    let (code, _, who) = call(&s, "GET", "/platform/v1/whoami", Some(&token), None);
    assert_eq!((code, &who["user"]["name"]), (200, &Value::from("admin")));
    let (code, _, info) = call(&s, "GET", "/platform/v1/info", Some(&token), None);
    assert_eq!(code, 200);
    assert!(
        info["registry"].as_str().is_some_and(|r| r.contains(':')),
        "{info}"
    );
    assert_eq!(info["clusters"], serde_json::json!(["global", "region1"]));
    let (code, _, _) = call(&s, "GET", "/platform/v1/info", None, None);
    assert_eq!(code, 401, "info needs a token");

    // The same token on the Kubernetes API: cluster-admin in global and in the workload cluster.
    let out = kubectl_as(&s, &token, &["create", "namespace", "made-by-admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, list) = call(
        &s,
        "GET",
        "/kubernetes/region1/api/v1/pods",
        Some(&token),
        None,
    );
    assert_eq!(code, 200, "{list}");
    let out = kubectl_as(
        &s,
        &token,
        &["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("platform-role:platform-admin-system"));

    // Logout revokes the token everywhere.
    let (code, _, _) = call(&s, "POST", "/platform/v1/logout", Some(&token), None);
    assert_eq!(code, 200);
    let out = kubectl_as(&s, &token, &["get", "namespaces"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("provide credentials") || err.contains("Unauthorized"),
        "{err}"
    );
    let (code, _, _) = call(&s, "GET", "/platform/v1/whoami", Some(&token), None);
    assert_eq!(code, 401);
}

#[test]
fn a_custom_role_user_gets_no_rights_and_loses_its_token_on_passwd_and_delete() {
    let s = Server::start_with(&[], &["--no-controllers"], &[]);
    let out = user_cmd(
        &s,
        &[
            "add",
            "bob",
            "--role-type",
            "Custom",
            "--role",
            "dev",
            "--password-stdin",
        ],
        Some("bob-password-1\n"),
    );
    assert!(
        !out.contains("bob-password-1"),
        "a given password is never printed: {out}"
    );
    let list = user_cmd(&s, &["list"], None);
    assert!(
        list.lines()
            .any(|l| l.starts_with("bob") && l.contains("Custom") && l.contains("dev")),
        "{list}"
    );
    assert!(list.contains("platform-admin-system"), "{list}");

    let (code, _, body) = login(&s, "bob", "bob-password-1");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["user"]["roleType"], "Custom");
    let token = body["token"].as_str().unwrap().to_string();
    let out = kubectl_as(&s, &token, &["get", "pods", "-A"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("User \"bob\" cannot list resource \"pods\""),
        "{err}"
    );

    user_cmd(
        &s,
        &["passwd", "bob", "--password-stdin"],
        Some("bob-password-2\n"),
    );
    let (code, _, _) = call(&s, "GET", "/platform/v1/whoami", Some(&token), None);
    assert_eq!(code, 401, "a password change revokes older tokens");
    assert_eq!(login(&s, "bob", "bob-password-1").0, 401);
    let (code, _, body) = login(&s, "bob", "bob-password-2");
    assert_eq!(code, 200);
    let token = body["token"].as_str().unwrap().to_string();
    user_cmd(&s, &["delete", "bob"], None);
    let (code, _, _) = call(&s, "GET", "/platform/v1/whoami", Some(&token), None);
    assert_eq!(code, 401, "deleting a user revokes its tokens");
}

#[test]
fn wrong_passwords_answer_401_then_429_with_retry_after_even_for_the_right_one() {
    let s = Server::start_with(
        &[],
        &["--no-controllers", "--login-burst-per-user", "3"],
        &[],
    );
    let right = admin_password(&s);
    for _ in 0..3 {
        let (code, _, body) = login(&s, "admin", "wrong-password");
        assert_eq!(code, 401, "{body}");
        assert_eq!(body["kind"], "Status");
        assert_eq!(body["reason"], "Unauthorized");
    }
    let (code, head, body) = login(&s, "admin", &right);
    assert_eq!(code, 429, "{body}");
    let retry: u64 = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a Retry-After header");
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(body["code"], 429);
    let (code, _, _) = login(&s, "nobody", "wrong-password");
    assert_eq!(
        code, 401,
        "another user from the same address is not limited yet"
    );
}
