//! Regenerates `data/builtin-schemas.json` from k8s-openapi's `schemars` implementations.
//!
//! Run: `cargo test -p apiresources --features regenerate-schemas -- regenerate_builtin_schemas`.
//! The output is committed so ordinary builds need neither the `schemars` feature of k8s-openapi
//! (~95 s of extra compile time) nor schemars. Each top-level kind's schema gets
//! `x-kubernetes-group-version-kind` here, as kube-apiserver's documents carry it.

use k8s_openapi::Resource;
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

macro_rules! roots {
    ($gen:ident, $kinds:ident; $($t:ty),* $(,)?) => {
        $(
            $gen.subschema_for::<$t>();
            $kinds.push((
                <$t as JsonSchema>::schema_name().into_owned(),
                json!([{"group": <$t as Resource>::GROUP, "kind": <$t as Resource>::KIND, "version": <$t as Resource>::VERSION}]),
            ));
        )*
    };
}

#[test]
fn regenerate_builtin_schemas() {
    use k8s_openapi::api::{apps, coordination, core, events, rbac};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apireg;

    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut kinds: Vec<(String, Value)> = Vec::new();
    roots!(generator, kinds;
        core::v1::Namespace, core::v1::ConfigMap, core::v1::Secret, core::v1::ServiceAccount,
        core::v1::Service, core::v1::Event, core::v1::Pod,
        apps::v1::Deployment, apps::v1::ReplicaSet, apps::v1::StatefulSet, apps::v1::DaemonSet,
        events::v1::Event,
        rbac::v1::Role, rbac::v1::RoleBinding, rbac::v1::ClusterRole, rbac::v1::ClusterRoleBinding,
        apiext::CustomResourceDefinition, apireg::APIService, coordination::v1::Lease,
        k8s_openapi::api::autoscaling::v1::Scale,
    );
    // Request/response types the paths reference (not kinds of their own here).
    generator.subschema_for::<meta::DeleteOptions>();
    generator.subschema_for::<meta::Status>();
    generator.subschema_for::<meta::Patch>();
    let mut defs: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    for (name, gvk) in kinds {
        defs.get_mut(&name)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("schema {name} missing"))
            .insert("x-kubernetes-group-version-kind".into(), gvk);
    }
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    // One schema per line: small diffs when k8s-openapi moves.
    let mut out = String::from("{\n");
    for (i, name) in names.iter().enumerate() {
        out.push_str(&serde_json::to_string(name).unwrap());
        out.push(':');
        out.push_str(&serde_json::to_string(&defs[*name]).unwrap());
        out.push_str(if i + 1 < names.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/builtin-schemas.json");
    std::fs::write(&path, out).unwrap();
}
