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
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps, authentication::v1 as authn,
        authorization::v1 as authz, autoscaling, batch::v1 as batch, certificates::v1 as certs,
        coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery,
        events::v1 as events, flowcontrol::v1 as flowcontrol, networking::v1 as networking,
        node::v1 as node, policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling,
        storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apireg;

    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut kinds: Vec<(String, Value)> = Vec::new();
    // Every kind of `crate::builtins()` (the test `every_builtin_kind_has_a_schema` keeps the two
    // lists together), plus the subresource kinds.
    roots!(generator, kinds;
        core::Binding, core::ComponentStatus, core::ConfigMap, core::Endpoints, core::Event,
        core::LimitRange, core::Namespace, core::Node, core::PersistentVolumeClaim,
        core::PersistentVolume, core::Pod, core::PodTemplate, core::ReplicationController,
        core::ResourceQuota, core::Secret, core::ServiceAccount, core::Service,
        apireg::APIService,
        apps::ControllerRevision, apps::DaemonSet, apps::Deployment, apps::ReplicaSet,
        apps::StatefulSet,
        events::Event,
        authn::SelfSubjectReview, authn::TokenReview,
        authz::LocalSubjectAccessReview, authz::SelfSubjectAccessReview,
        authz::SelfSubjectRulesReview, authz::SubjectAccessReview,
        autoscaling::v2::HorizontalPodAutoscaler, autoscaling::v1::HorizontalPodAutoscaler,
        batch::CronJob, batch::Job,
        certs::CertificateSigningRequest,
        networking::IngressClass, networking::Ingress, networking::IPAddress,
        networking::NetworkPolicy, networking::ServiceCIDR,
        policy::PodDisruptionBudget, policy::Eviction,
        rbac::ClusterRoleBinding, rbac::ClusterRole, rbac::RoleBinding, rbac::Role,
        storage::CSIDriver, storage::CSINode, storage::CSIStorageCapacity, storage::StorageClass,
        storage::VolumeAttachment,
        admission::MutatingWebhookConfiguration, admission::ValidatingAdmissionPolicy,
        admission::ValidatingAdmissionPolicyBinding, admission::ValidatingWebhookConfiguration,
        apiext::CustomResourceDefinition,
        scheduling::PriorityClass,
        coordination::Lease,
        node::RuntimeClass,
        discovery::EndpointSlice,
        flowcontrol::FlowSchema, flowcontrol::PriorityLevelConfiguration,
        autoscaling::v1::Scale,
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
