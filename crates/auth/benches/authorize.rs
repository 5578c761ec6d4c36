//! RBAC authorizer benchmark (harness = false): builds an authorizer over the bootstrap policy plus
//! N namespaces, each with a Role and a RoleBinding to its own ServiceAccount, then prints the
//! build time and the cost of one decision: allowed (own namespace), denied (another namespace,
//! which visits every binding that applies to the user), a discovery path, and `system:masters`.
//!
//! `cargo bench -p auth --bench authorize` (env `BENCH_NAMESPACES`, default 10000).

use std::hint::black_box;
use std::time::Instant;

use auth::{Attributes, Authorizer, ResourceAttributes, UserInfo};
use serde_json::json;

fn per_op(what: &str, n: u32, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut allowed = 0u32;
    for _ in 0..n {
        allowed += u32::from(black_box(f()));
    }
    let el = start.elapsed();
    println!(
        "{what:<44} {:>8.0} ns/decision  ({:.0} decisions/s, allowed {allowed}/{n})",
        el.as_nanos() as f64 / f64::from(n),
        f64::from(n) / el.as_secs_f64()
    );
}

fn main() {
    let n: usize = std::env::var("BENCH_NAMESPACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut roles = Vec::new();
    let mut bindings = Vec::new();
    for i in 0..n {
        let ns = format!("ns-{i}");
        roles.push(json!({"metadata": {"name": "pod-reader", "namespace": ns},
            "rules": [{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "pods/log"]},
                      {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cfg"]}]}));
        bindings.push(json!({"metadata": {"name": "read-pods", "namespace": ns},
            "roleRef": {"kind": "Role", "name": "pod-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": ns}]}));
    }
    let start = Instant::now();
    let (a, errors) = Authorizer::from_objects(
        &auth::bootstrap::cluster_roles(),
        &roles,
        &auth::bootstrap::cluster_role_bindings(),
        &bindings,
    );
    assert!(errors.is_empty());
    println!(
        "build: {n} namespaces ({} roles + bindings) in {:.1} ms",
        2 * n,
        start.elapsed().as_secs_f64() * 1e3
    );
    let user = UserInfo::service_account("ns-17", "sa", "uid");
    let req = |ns: &str| {
        Attributes::resource(
            user.clone(),
            "list",
            ResourceAttributes {
                resource: "pods".into(),
                namespace: ns.into(),
                ..Default::default()
            },
        )
    };
    let own = req("ns-17");
    let other = req("ns-18");
    let discovery = Attributes::non_resource(user.clone(), "get", "/apis/apps/v1");
    let mut admin_req = own.clone();
    admin_req.user = UserInfo::admin();
    let iters = 200_000;
    per_op("allowed (allows, no reason text)", iters, || a.allows(&own));
    per_op("allowed: list pods in own namespace", iters, || {
        a.authorize(&own).allowed()
    });
    per_op("denied: list pods in another namespace", iters, || {
        a.authorize(&other).allowed()
    });
    per_op(
        "allowed: get /apis/apps/v1 (system:discovery)",
        iters,
        || a.authorize(&discovery).allowed(),
    );
    per_op("system:masters short-circuit", iters, || {
        a.authorize(&admin_req).allowed()
    });
}
