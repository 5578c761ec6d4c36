//! End-to-end flows across modules, shaped like what kubectl 1.32 and kube-rs send to an API
//! server: client-side apply (create, then strategic merge patches), a later switch to
//! server-side apply with its conflicts, a controller writing status through the status
//! subresource, and the list/table reads in between.

use apimachinery::apply::{self, ManagerOptions, TypeInfo};
use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use apimachinery::meta::parse_time;
use apimachinery::patch;
use apimachinery::schema;
use apimachinery::table::{self, IncludeObject, TableKind, TableOptions};
use serde_json::{Value, json};

fn opts<'a>(manager: &'a str, api_version: &'a str, types: TypeInfo<'a>) -> ManagerOptions<'a> {
    ManagerOptions {
        manager,
        force: false,
        api_version,
        subresource: None,
        now: "2024-06-01T12:00:00Z",
        types,
    }
}

fn managers(obj: &Value) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap().to_string(),
                        e["operation"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn configmap_client_side_apply_then_server_side_takeover() {
    let d = TypeInfo::Builtin("ConfigMap");
    // kubectl apply -f (new object): POST with the last-applied annotation
    let mut cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "team-a", "labels": {"app": "shop"},
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"a\":\"1\",\"b\":\"2\"}}\n"},
                     "creationTimestamp": "2024-06-01T11:00:00Z"},
        "data": {"a": "1", "b": "2"}
    });
    apply::record_update(None, &mut cm, &opts("kubectl-client-side-apply", "v1", d));
    assert_eq!(
        managers(&cm),
        vec![("kubectl-client-side-apply".into(), "Update".into())]
    );

    // kubectl apply -f (changed file): a strategic merge patch dropping b, changing a
    let smp = json!({"data": {"a": "10", "b": null, "c": "3"},
                     "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"a\":\"10\",\"c\":\"3\"}}\n"}}});
    let mut patched = patch::apply_strategic_merge_patch(&cm, &smp, "ConfigMap").unwrap();
    apply::record_update(
        Some(&cm),
        &mut patched,
        &opts("kubectl-client-side-apply", "v1", d),
    );
    assert_eq!(patched["data"], json!({"a": "10", "c": "3"}));

    // kubectl apply --server-side with a different value for "a": conflict named like kube-apiserver
    let ssa = json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "settings", "namespace": "team-a"},
                     "data": {"a": "11", "c": "3"}});
    let body = serde_json::to_vec(&ssa).unwrap();
    let cfg = apply::parse_apply_body(&body).unwrap();
    let err =
        apply::server_side_apply(Some(&patched), &cfg, &opts("kubectl", "v1", d)).unwrap_err();
    assert_eq!(err.code(), 409);
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.a"
    );
    // --force-conflicts takes the field; the shared, equal field "c" stays co-owned
    let mut force = opts("kubectl", "v1", d);
    force.force = true;
    let taken = apply::server_side_apply(Some(&patched), &cfg, &force).unwrap();
    assert_eq!(taken["data"], json!({"a": "11", "c": "3"}));
    let csa = apply::managed_fields(&taken)
        .into_iter()
        .find(|m| m.0 == "kubectl-client-side-apply")
        .unwrap()
        .2;
    assert!(!csa.contains(&vec!["f:data".to_string(), "f:a".to_string()]));
    assert!(csa.contains(&vec!["f:data".to_string(), "f:c".to_string()]));
    assert_eq!(
        taken["metadata"]["creationTimestamp"],
        "2024-06-01T11:00:00Z"
    );

    // list filtering and a Table for `kubectl get cm -l app=shop`
    let sel = Selector::parse("app=shop").unwrap();
    let fsel = FieldSelector::parse("metadata.namespace=team-a").unwrap();
    fsel.check_supported("ConfigMap").unwrap();
    let items: Vec<Value> = [
        taken.clone(),
        json!({"metadata": {"name": "other", "namespace": "team-a"}}),
    ]
    .into_iter()
    .filter(|o| sel.matches_object(o) && fsel.matches(o))
    .collect();
    assert_eq!(items.len(), 1);
    let t = table::build_table(
        &items,
        &TableOptions {
            kind: TableKind::Builtin("ConfigMap"),
            include_object: IncludeObject::Metadata,
            no_headers: false,
            now: parse_time("2024-06-01T12:00:00Z").unwrap(),
            resource_version: "17",
            continue_token: "",
        },
    );
    assert_eq!(t["rows"][0]["cells"], json!(["settings", 2, "60m"]));
    assert_eq!(t["rows"][0]["object"]["metadata"]["labels"]["app"], "shop");
}

#[test]
fn custom_resource_lifecycle_with_schema_apply_and_status_subresource() {
    let crd_schema = json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "string", "enum": ["small", "large"]},
                "replicas": {"type": "integer", "default": 1, "minimum": 0},
                "endpoints": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["name"],
                              "items": {"type": "object", "properties": {
                                  "name": {"type": "string"}, "port": {"type": "integer"}}}}
            }},
            "status": {"type": "object", "properties": {
                "phase": {"type": "string"},
                "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                               "x-kubernetes-list-map-keys": ["type"],
                               "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }}
        }
    });
    let t = TypeInfo::Schema(&crd_schema);

    // kubectl create -f with fieldValidation=Strict and an unknown field
    let mut w = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                       "metadata": {"name": "w1", "namespace": "default", "creationTimestamp": "2024-06-01T11:58:00Z"},
                       "spec": {"size": "small", "colour": "red"}});
    let unknown = schema::unknown_fields(&crd_schema, &w);
    let strict = schema::strict_decoding_error("Widget", "v1", &unknown);
    assert_eq!(
        strict.to_status()["message"],
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.colour\""
    );
    // without Strict: pruned, defaulted, validated
    schema::prune(&crd_schema, &mut w);
    schema::apply_defaults(&crd_schema, &mut w);
    assert!(schema::validate(&crd_schema, &w).is_empty());
    assert_eq!(w["spec"], json!({"size": "small", "replicas": 1}));
    apply::record_update(None, &mut w, &opts("kubectl-create", "example.com/v1", t));

    // an invalid update is a 422 with kube-apiserver's text
    let mut bad = w.clone();
    bad["spec"]["size"] = json!("huge");
    bad["spec"]["replicas"] = json!(-1);
    let errs = schema::validate(&crd_schema, &bad);
    let e = apimachinery::ApiError::invalid("example.com", "Widget", "w1", errs);
    assert_eq!(e.code(), 422);
    assert_eq!(
        e.to_string(),
        "Widget.example.com \"w1\" is invalid: [spec.size: Unsupported value: \"huge\": supported values: \"small\", \"large\", spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0]"
    );

    // a kube-rs controller applies spec endpoints, then status through /status
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
                     "spec": {"size": "small", "endpoints": [{"name": "http", "port": 80}]}});
    let live = apply::server_side_apply(
        Some(&w),
        &cfg,
        &opts("widget-controller", "example.com/v1", t),
    )
    .unwrap();
    assert_eq!(
        live["spec"]["endpoints"],
        json!([{"name": "http", "port": 80}])
    );
    let mut status_opts = opts("widget-controller", "example.com/v1", t);
    status_opts.subresource = Some("status");
    let st = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
                    "status": {"phase": "Ready", "conditions": [{"type": "Ready", "status": "True"}]}});
    let with_status = apply::server_side_apply(Some(&live), &st, &status_opts).unwrap();
    let entries = with_status["metadata"]["managedFields"].as_array().unwrap();
    let status_entry = entries
        .iter()
        .find(|e| e["subresource"] == "status")
        .unwrap();
    assert_eq!(status_entry["manager"], "widget-controller");
    assert!(
        status_entry["fieldsV1"]["f:status"]["f:conditions"]["k:{\"type\":\"Ready\"}"].is_object()
    );

    // the user's printer columns show the status
    let cols = json!([{"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                      {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                      {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]);
    let tab = table::build_table(
        &[with_status],
        &TableOptions {
            kind: TableKind::Custom {
                printer_columns: Some(&cols),
            },
            include_object: IncludeObject::None,
            no_headers: false,
            now: parse_time("2024-06-01T12:00:00Z").unwrap(),
            resource_version: "5",
            continue_token: "",
        },
    );
    assert_eq!(
        tab["rows"][0]["cells"],
        json!(["w1", "Ready", "True", "2m"])
    );
}

#[test]
fn kube_rs_finalizer_json_patch_flow() {
    // kube-rs' finalizer helper on an object without finalizers: `test null` + add
    let bare = json!({"metadata": {"name": "w1"}});
    let first = json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["widgets.example.com/cleanup"]}
    ]);
    let added = patch::apply_json_patch(&bare, &first).unwrap();
    assert_eq!(
        added["metadata"]["finalizers"],
        json!(["widgets.example.com/cleanup"])
    );
    // with an existing (here empty) list: test + append, then test + remove
    let obj = json!({"metadata": {"name": "w1", "finalizers": []}});
    let add = json!([
        {"op": "test", "path": "/metadata/finalizers", "value": []},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "widgets.example.com/cleanup"}
    ]);
    let with = patch::apply_json_patch(&obj, &add).unwrap();
    assert_eq!(
        with["metadata"]["finalizers"],
        json!(["widgets.example.com/cleanup"])
    );
    // a second controller racing with the same test now fails with 422
    let err = patch::apply_json_patch(&with, &add).unwrap_err();
    assert_eq!(err.to_api_error().code(), 422);
    let remove = json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "widgets.example.com/cleanup"},
        {"op": "remove", "path": "/metadata/finalizers/0"}
    ]);
    let without = patch::apply_json_patch(&with, &remove).unwrap();
    assert_eq!(without["metadata"]["finalizers"], json!([]));
}
