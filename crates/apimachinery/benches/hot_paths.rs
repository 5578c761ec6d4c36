//! Throughput of the functions the API server calls on every request, on realistic objects.
//! Run with `cargo bench -p apimachinery` (a release build); prints one line per case.
//! No targets are asserted here: the figures go in reports and catch regressions by eye.

use apimachinery::apply::{self, ManagerOptions, TypeInfo};
use apimachinery::labels::Selector;
use apimachinery::meta::parse_time;
use apimachinery::patch;
use apimachinery::schema;
use apimachinery::table::{self, IncludeObject, TableKind, TableOptions};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Instant;

fn deployment(i: usize, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "default",
                     "labels": {"app": "web", "tier": if i.is_multiple_of(2) { "front" } else { "back" }, "idx": i.to_string()},
                     "creationTimestamp": "2024-06-01T10:00:00Z"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": (0..3).map(|c| json!({
                    "name": format!("c{c}"), "image": image,
                    "env": (0..8).map(|e| json!({"name": format!("E{e}"), "value": e.to_string()})).collect::<Vec<_>>(),
                    "ports": [{"containerPort": 8080 + c, "protocol": "TCP"}],
                    "volumeMounts": [{"name": "cfg", "mountPath": format!("/etc/c{c}")}]
                })).collect::<Vec<_>>(),
                "volumes": [{"name": "cfg", "configMap": {"name": "web"}}]
            }}
        },
        "status": {"readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
    })
}

fn run(name: &str, iters: u32, mut f: impl FnMut()) {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let took = start.elapsed();
    let per = took / iters;
    println!(
        "{name:<48} {:>10.1} µs/op {:>12.0} ops/s",
        per.as_secs_f64() * 1e6,
        iters as f64 / took.as_secs_f64().max(f64::MIN_POSITIVE)
    );
}

fn main() {
    let objs: Vec<Value> = (0..1000).map(|i| deployment(i, "nginx:1.25")).collect();

    let sel = Selector::parse("app=web,tier in (front),!canary").unwrap();
    run("label selector over 1000 objects", 200, || {
        black_box(objs.iter().filter(|o| sel.matches_object(o)).count());
    });

    run("label selector parse", 20_000, || {
        black_box(Selector::parse("app=web,tier in (front,edge),!canary,env!=prod").unwrap());
    });

    let smp = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "c0"}, {"name": "c1"}, {"name": "c2"}],
        "containers": [{"name": "c1", "image": "nginx:1.26",
                        "$setElementOrder/env": (0..7).map(|e| json!({"name": format!("E{e}")})).collect::<Vec<_>>(),
                        "env": [{"name": "E7", "$patch": "delete"}]}]}}}});
    run("strategic merge patch (kubectl apply shape)", 5_000, || {
        black_box(patch::apply_strategic_merge_patch(&objs[0], &smp, "Deployment").unwrap());
    });

    let opts = ManagerOptions {
        manager: "kubectl",
        force: false,
        api_version: "apps/v1",
        subresource: None,
        now: "2024-06-01T12:00:00Z",
        types: TypeInfo::Builtin("Deployment"),
    };
    let mut cfg = deployment(0, "nginx:1.25");
    apply::drop_status(&mut cfg);
    let live = apply::server_side_apply(None, &cfg, &opts).unwrap();
    let cfg2 = {
        let mut c = deployment(0, "nginx:1.26");
        apply::drop_status(&mut c);
        c
    };
    run("server-side apply (re-apply, one change)", 2_000, || {
        black_box(apply::server_side_apply(Some(&live), &cfg2, &opts).unwrap());
    });
    let mut edited = live.clone();
    edited["spec"]["replicas"] = json!(5);
    run("record_update (one changed field)", 2_000, || {
        let mut n = edited.clone();
        apply::record_update(Some(&live), &mut n, &opts);
        black_box(n);
    });

    let crd_schema = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"],
        "properties": {"size": {"type": "string", "enum": ["s", "m", "l"]},
                       "replicas": {"type": "integer", "minimum": 0, "default": 1},
                       "items": {"type": "array", "items": {"type": "object", "properties": {
                           "name": {"type": "string", "pattern": "^[a-z]+$"}, "weight": {"type": "number"}}}}}}}});
    let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": "m", "items": (0..50).map(|i| json!({"name": "abc", "weight": i})).collect::<Vec<_>>(), "junk": 1}});
    run("CR prune + default + validate (50 items)", 5_000, || {
        let mut o = cr.clone();
        schema::prune(&crd_schema, &mut o);
        schema::apply_defaults(&crd_schema, &mut o);
        black_box(schema::validate(&crd_schema, &o));
    });

    let now = parse_time("2024-06-01T12:00:00Z").unwrap();
    let topts = TableOptions {
        kind: TableKind::Builtin("Deployment"),
        include_object: IncludeObject::Metadata,
        no_headers: false,
        now,
        resource_version: "1",
        continue_token: "",
    };
    run("Table of 1000 Deployments", 20, || {
        black_box(table::build_table(&objs, &topts));
    });
    let cols = json!([{"name": "Ready", "type": "string", "jsonPath": ".status.readyReplicas"},
                      {"name": "Image", "type": "string", "jsonPath": ".spec.template.spec.containers[0].image"},
                      {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]);
    let copts = TableOptions {
        kind: TableKind::Custom {
            printer_columns: Some(&cols),
        },
        ..topts
    };
    run("Table of 1000 objects, 3 JSONPath columns", 20, || {
        black_box(table::build_table(&objs, &copts));
    });
}
