//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
//!
//! kubectl's generators (`kubectl create namespace|configmap|secret|deployment|...`) send built-in
//! objects as protobuf and do not fall back to JSON. A body is the 4-byte magic `k8s\0` followed by
//! a `runtime.Unknown` message: `typeMeta` (apiVersion, kind), `raw` (the object's own protobuf
//! encoding), `contentEncoding` and `contentType`. [`decode_protobuf`] decodes the object with
//! the `k8s-pb` message types and prints it as the JSON Go's `encoding/json` would print the same
//! Go object (camelCase names, `omitempty`, Secret `data` as base64, quantities and int-or-string
//! as in JSON, timestamps in RFC 3339) — so the rest of the server handles one representation.
//!
//! The per-message conversion is generated (`generated.rs`, by `codegen/pb_json.py`) from
//! k8s-pb's field numbers joined with the Go types' JSON tags; `json.rs` holds the Go rules and
//! special types.
//!
//! Responses: kubectl sends `Accept: application/vnd.kubernetes.protobuf, application/json`
//! with protobuf bodies, so JSON responses suffice and this module does not encode protobuf.

#[allow(clippy::all, unused_imports)]
mod generated;
mod json;

use k8s_pb as pb;
use prost::Message;
use serde_json::{Map, Value};

use crate::Error;
use json::ToJson;

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The magic prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Whether a `Content-Type` header value designates a Kubernetes protobuf body.
pub fn is_protobuf_content_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(PROTOBUF_CONTENT_TYPE))
}

/// The decoded `runtime.Unknown` envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub api_version: String,
    pub kind: String,
    /// The object's own protobuf encoding.
    pub raw: Vec<u8>,
    pub content_encoding: String,
    pub content_type: String,
}

/// Decode the `k8s\0` magic and the `runtime.Unknown` envelope.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, Error> {
    let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| {
        Error::Protobuf(
            "the body does not start with the Kubernetes protobuf magic \"k8s\\0\"".into(),
        )
    })?;
    let unknown = pb::apimachinery::pkg::runtime::Unknown::decode(rest)
        .map_err(|e| Error::Protobuf(format!("invalid runtime.Unknown envelope: {e}")))?;
    let tm = unknown.type_meta.unwrap_or_default();
    Ok(Envelope {
        api_version: tm.api_version.unwrap_or_default(),
        kind: tm.kind.unwrap_or_default(),
        raw: unknown.raw.unwrap_or_default(),
        content_encoding: unknown.content_encoding.unwrap_or_default(),
        content_type: unknown.content_type.unwrap_or_default(),
    })
}

fn decode_as<T: Message + Default + ToJson>(raw: &[u8], kind: &str) -> Result<Value, Error> {
    let msg =
        T::decode(raw).map_err(|e| Error::Protobuf(format!("invalid {kind} message: {e}")))?;
    Ok(msg.to_json())
}

/// One protobuf-decodable kind: its `apiVersion`, `kind` and the k8s-pb message it decodes as.
macro_rules! decoders {
    ($($api_version:literal $kind:literal => $ty:ty),* $(,)?) => {
        fn decode_body(api_version: &str, kind: &str, raw: &[u8]) -> Option<Result<Value, Error>> {
            match (api_version, kind) {
                $(($api_version, $kind) => Some(decode_as::<$ty>(raw, kind)),)*
                _ => None,
            }
        }
    };
}

// TokenRequest (`serviceaccounts/<name>/token`, what `kubectl create token` sends as protobuf) is
// written by hand: codegen/pb_json.py's ROOTS predate the subresource (add it there and drop these
// when regenerating). Go: `audiences` and `expirationSeconds`/`boundObjectRef` (pointers) without
// omitempty; `status` is never sent by clients.
impl ToJson for pb::api::authentication::v1::TokenRequest {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        json::message(&mut m, "metadata", &self.metadata);
        json::message(&mut m, "spec", &self.spec);
        Value::Object(m)
    }
}

impl ToJson for pb::api::authentication::v1::TokenRequestSpec {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        json::repeated_or_null(&mut m, "audiences", &self.audiences);
        json::scalar(
            &mut m,
            "expirationSeconds",
            &self.expiration_seconds,
            json::Rule::Pointer,
        );
        json::message(&mut m, "boundObjectRef", &self.bound_object_ref);
        Value::Object(m)
    }
}

impl ToJson for pb::api::authentication::v1::BoundObjectReference {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        json::scalar(&mut m, "kind", &self.kind, json::Rule::OmitEmpty);
        json::scalar(
            &mut m,
            "apiVersion",
            &self.api_version,
            json::Rule::OmitEmpty,
        );
        json::scalar(&mut m, "name", &self.name, json::Rule::OmitEmpty);
        json::scalar(&mut m, "uid", &self.u_id, json::Rule::OmitEmpty);
        Value::Object(m)
    }
}

decoders! {
    "v1" "Binding" => pb::api::core::v1::Binding,
    "v1" "ComponentStatus" => pb::api::core::v1::ComponentStatus,
    "v1" "ConfigMap" => pb::api::core::v1::ConfigMap,
    "v1" "Endpoints" => pb::api::core::v1::Endpoints,
    "v1" "Event" => pb::api::core::v1::Event,
    "v1" "LimitRange" => pb::api::core::v1::LimitRange,
    "v1" "Namespace" => pb::api::core::v1::Namespace,
    "v1" "Node" => pb::api::core::v1::Node,
    "v1" "PersistentVolumeClaim" => pb::api::core::v1::PersistentVolumeClaim,
    "v1" "PersistentVolume" => pb::api::core::v1::PersistentVolume,
    "v1" "Pod" => pb::api::core::v1::Pod,
    "v1" "PodTemplate" => pb::api::core::v1::PodTemplate,
    "v1" "ReplicationController" => pb::api::core::v1::ReplicationController,
    "v1" "ResourceQuota" => pb::api::core::v1::ResourceQuota,
    "v1" "Secret" => pb::api::core::v1::Secret,
    "v1" "ServiceAccount" => pb::api::core::v1::ServiceAccount,
    "v1" "Service" => pb::api::core::v1::Service,
    "apps/v1" "ControllerRevision" => pb::api::apps::v1::ControllerRevision,
    "apps/v1" "DaemonSet" => pb::api::apps::v1::DaemonSet,
    "apps/v1" "Deployment" => pb::api::apps::v1::Deployment,
    "apps/v1" "ReplicaSet" => pb::api::apps::v1::ReplicaSet,
    "apps/v1" "StatefulSet" => pb::api::apps::v1::StatefulSet,
    "events.k8s.io/v1" "Event" => pb::api::events::v1::Event,
    "authentication.k8s.io/v1" "SelfSubjectReview" => pb::api::authentication::v1::SelfSubjectReview,
    "authentication.k8s.io/v1" "TokenReview" => pb::api::authentication::v1::TokenReview,
    "authentication.k8s.io/v1" "TokenRequest" => pb::api::authentication::v1::TokenRequest,
    "authorization.k8s.io/v1" "LocalSubjectAccessReview" => pb::api::authorization::v1::LocalSubjectAccessReview,
    "authorization.k8s.io/v1" "SelfSubjectAccessReview" => pb::api::authorization::v1::SelfSubjectAccessReview,
    "authorization.k8s.io/v1" "SelfSubjectRulesReview" => pb::api::authorization::v1::SelfSubjectRulesReview,
    "authorization.k8s.io/v1" "SubjectAccessReview" => pb::api::authorization::v1::SubjectAccessReview,
    "autoscaling/v2" "HorizontalPodAutoscaler" => pb::api::autoscaling::v2::HorizontalPodAutoscaler,
    "autoscaling/v1" "HorizontalPodAutoscaler" => pb::api::autoscaling::v1::HorizontalPodAutoscaler,
    "autoscaling/v1" "Scale" => pb::api::autoscaling::v1::Scale,
    "batch/v1" "CronJob" => pb::api::batch::v1::CronJob,
    "batch/v1" "Job" => pb::api::batch::v1::Job,
    "certificates.k8s.io/v1" "CertificateSigningRequest" => pb::api::certificates::v1::CertificateSigningRequest,
    "networking.k8s.io/v1" "IngressClass" => pb::api::networking::v1::IngressClass,
    "networking.k8s.io/v1" "Ingress" => pb::api::networking::v1::Ingress,
    "networking.k8s.io/v1" "IPAddress" => pb::api::networking::v1::IPAddress,
    "networking.k8s.io/v1" "NetworkPolicy" => pb::api::networking::v1::NetworkPolicy,
    "networking.k8s.io/v1" "ServiceCIDR" => pb::api::networking::v1::ServiceCIDR,
    "policy/v1" "PodDisruptionBudget" => pb::api::policy::v1::PodDisruptionBudget,
    "policy/v1" "Eviction" => pb::api::policy::v1::Eviction,
    "rbac.authorization.k8s.io/v1" "ClusterRoleBinding" => pb::api::rbac::v1::ClusterRoleBinding,
    "rbac.authorization.k8s.io/v1" "ClusterRole" => pb::api::rbac::v1::ClusterRole,
    "rbac.authorization.k8s.io/v1" "RoleBinding" => pb::api::rbac::v1::RoleBinding,
    "rbac.authorization.k8s.io/v1" "Role" => pb::api::rbac::v1::Role,
    "storage.k8s.io/v1" "CSIDriver" => pb::api::storage::v1::CSIDriver,
    "storage.k8s.io/v1" "CSINode" => pb::api::storage::v1::CSINode,
    "storage.k8s.io/v1" "CSIStorageCapacity" => pb::api::storage::v1::CSIStorageCapacity,
    "storage.k8s.io/v1" "StorageClass" => pb::api::storage::v1::StorageClass,
    "storage.k8s.io/v1" "VolumeAttachment" => pb::api::storage::v1::VolumeAttachment,
    "admissionregistration.k8s.io/v1" "MutatingWebhookConfiguration" => pb::api::admissionregistration::v1::MutatingWebhookConfiguration,
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicy" => pb::api::admissionregistration::v1::ValidatingAdmissionPolicy,
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicyBinding" => pb::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" => pb::api::admissionregistration::v1::ValidatingWebhookConfiguration,
    "scheduling.k8s.io/v1" "PriorityClass" => pb::api::scheduling::v1::PriorityClass,
    "coordination.k8s.io/v1" "Lease" => pb::api::coordination::v1::Lease,
    "node.k8s.io/v1" "RuntimeClass" => pb::api::node::v1::RuntimeClass,
    "discovery.k8s.io/v1" "EndpointSlice" => pb::api::discovery::v1::EndpointSlice,
    "flowcontrol.apiserver.k8s.io/v1" "FlowSchema" => pb::api::flowcontrol::v1::FlowSchema,
    "flowcontrol.apiserver.k8s.io/v1" "PriorityLevelConfiguration" => pb::api::flowcontrol::v1::PriorityLevelConfiguration,
}

/// Decode an object's own protobuf encoding (no envelope) given its apiVersion and kind.
pub fn decode_object(api_version: &str, kind: &str, raw: &[u8]) -> Result<Value, Error> {
    let Some(body) = decode_body(api_version, kind, raw) else {
        return Err(Error::UnsupportedProtobufKind {
            api_version: api_version.into(),
            kind: kind.into(),
        });
    };
    let body = body?;
    // TypeMeta first, as Go prints it.
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    out.insert("apiVersion".into(), api_version.into());
    if let Value::Object(fields) = body {
        out.extend(fields);
    }
    Ok(Value::Object(out))
}

/// Decode a protobuf body (the `k8s\0` magic + `runtime.Unknown` envelope) of a built-in kind into
/// the JSON object the JSON path would have produced (with `apiVersion` and `kind` set).
pub fn decode_protobuf(bytes: &[u8]) -> Result<Value, Error> {
    let env = decode_envelope(bytes)?;
    if !env.content_encoding.is_empty() {
        return Err(Error::Protobuf(format!(
            "unsupported contentEncoding {:?} in the protobuf envelope",
            env.content_encoding
        )));
    }
    if !env.content_type.is_empty() && !is_protobuf_content_type(&env.content_type) {
        return Err(Error::Protobuf(format!(
            "unsupported contentType {:?} in the protobuf envelope",
            env.content_type
        )));
    }
    if env.kind.is_empty() || env.api_version.is_empty() {
        return Err(Error::Protobuf(
            "the protobuf envelope has no apiVersion/kind (typeMeta)".into(),
        ));
    }
    decode_object(&env.api_version, &env.kind, &env.raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::api::{apps, core, events, rbac};
    use pb::apimachinery::pkg::apis::meta::v1 as meta;
    use pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use serde_json::json;

    /// Wrap an object as client-go's protobuf serializer does: magic, then `runtime.Unknown`
    /// with typeMeta and raw set and the (non-nullable) string fields present but empty.
    fn envelope<M: Message>(api_version: &str, kind: &str, obj: &M) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(obj.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut out = MAGIC.to_vec();
        out.extend(unknown.encode_to_vec());
        out
    }

    /// ObjectMeta as gogo-protobuf writes it for a Go object with only `name` (and maybe
    /// `namespace`) set: every non-pointer field is present, the zero Time is an empty message.
    fn meta(name: &str, namespace: &str) -> meta::ObjectMeta {
        meta::ObjectMeta {
            name: Some(name.into()),
            generate_name: Some(String::new()),
            namespace: Some(namespace.into()),
            self_link: Some(String::new()),
            uid: Some(String::new()),
            resource_version: Some(String::new()),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }
    }

    #[test]
    fn kubectl_create_token_body_decodes_with_its_expiration_and_audiences() {
        use k8s_pb::api::authentication::v1 as authn;
        let tr = authn::TokenRequest {
            metadata: Some(meta("", "")),
            spec: Some(authn::TokenRequestSpec {
                audiences: vec!["vault".into()],
                expiration_seconds: Some(3600),
                bound_object_ref: None,
            }),
            status: Some(authn::TokenRequestStatus::default()),
        };
        let v =
            decode_protobuf(&envelope("authentication.k8s.io/v1", "TokenRequest", &tr)).unwrap();
        assert_eq!(
            v["spec"],
            json!({"audiences": ["vault"], "expirationSeconds": 3600})
        );
        assert_eq!(v["kind"], "TokenRequest");
    }

    #[test]
    fn kubectl_create_namespace_body_decodes_to_the_json_kubectl_would_send() {
        let ns = core::v1::Namespace {
            metadata: Some(meta("team-a", "")),
            spec: Some(core::v1::NamespaceSpec::default()),
            status: Some(core::v1::NamespaceStatus {
                phase: Some(String::new()),
                conditions: vec![],
            }),
        };
        let v = decode_protobuf(&envelope("v1", "Namespace", &ns)).unwrap();
        assert_eq!(
            v,
            json!({"kind": "Namespace", "apiVersion": "v1",
                   "metadata": {"name": "team-a", "creationTimestamp": null},
                   "spec": {}, "status": {}})
        );
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys[..2], ["kind", "apiVersion"]);
    }

    #[test]
    fn secret_data_becomes_base64_and_configmap_keeps_empty_values() {
        let mut data = std::collections::BTreeMap::new();
        data.insert("password".to_string(), b"s3cr\xff".to_vec());
        let secret = core::v1::Secret {
            metadata: Some(meta("creds", "default")),
            immutable: None,
            data,
            string_data: Default::default(),
            r#type: Some("Opaque".into()),
        };
        let v = decode_protobuf(&envelope("v1", "Secret", &secret)).unwrap();
        assert_eq!(v["data"]["password"], "czNjcv8=");
        assert_eq!(v["type"], "Opaque");
        assert_eq!(v["metadata"]["namespace"], "default");
        assert!(v.get("immutable").is_none() && v.get("stringData").is_none());

        let mut data = std::collections::BTreeMap::new();
        data.insert("empty".to_string(), String::new());
        data.insert("k".to_string(), "v".to_string());
        let cm = core::v1::ConfigMap {
            metadata: Some(meta("cfg", "default")),
            immutable: Some(false),
            data,
            binary_data: Default::default(),
        };
        let v = decode_protobuf(&envelope("v1", "ConfigMap", &cm)).unwrap();
        assert_eq!(v["data"], json!({"empty": "", "k": "v"}));
        assert_eq!(v["immutable"], false, "a *bool set to false is kept");
    }

    fn kubectl_deployment(replicas: i32) -> apps::v1::Deployment {
        let labels: std::collections::BTreeMap<_, _> =
            [("app".to_string(), "web".to_string())].into();
        let mut limits = std::collections::BTreeMap::new();
        limits.insert(
            "memory".to_string(),
            pb::apimachinery::pkg::api::resource::Quantity {
                string: Some("128Mi".into()),
            },
        );
        apps::v1::Deployment {
            metadata: Some(meta::ObjectMeta {
                labels: labels.clone(),
                ..meta("web", "default")
            }),
            spec: Some(apps::v1::DeploymentSpec {
                replicas: Some(replicas),
                selector: Some(meta::LabelSelector {
                    match_labels: labels.clone(),
                    match_expressions: vec![],
                }),
                template: Some(core::v1::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta {
                        labels,
                        ..meta("", "")
                    }),
                    spec: Some(core::v1::PodSpec {
                        containers: vec![core::v1::Container {
                            name: Some("nginx".into()),
                            image: Some("nginx:1.27".into()),
                            ports: vec![core::v1::ContainerPort {
                                name: Some(String::new()),
                                host_port: Some(0),
                                container_port: Some(80),
                                protocol: Some(String::new()),
                                host_ip: Some(String::new()),
                            }],
                            resources: Some(core::v1::ResourceRequirements {
                                limits,
                                ..Default::default()
                            }),
                            termination_message_path: Some(String::new()),
                            image_pull_policy: Some(String::new()),
                            stdin: Some(false),
                            tty: Some(false),
                            ..Default::default()
                        }],
                        restart_policy: Some(String::new()),
                        dns_policy: Some(String::new()),
                        service_account_name: Some(String::new()),
                        host_network: Some(false),
                        ..Default::default()
                    }),
                }),
                strategy: Some(apps::v1::DeploymentStrategy {
                    r#type: Some("RollingUpdate".into()),
                    rolling_update: Some(apps::v1::RollingUpdateDeployment {
                        max_unavailable: Some(pb::apimachinery::pkg::util::intstr::IntOrString {
                            r#type: Some(0),
                            int_val: Some(1),
                            str_val: Some(String::new()),
                        }),
                        max_surge: Some(pb::apimachinery::pkg::util::intstr::IntOrString {
                            r#type: Some(1),
                            int_val: Some(0),
                            str_val: Some("25%".into()),
                        }),
                    }),
                }),
                min_ready_seconds: Some(0),
                revision_history_limit: None,
                paused: Some(false),
                progress_deadline_seconds: None,
            }),
            status: Some(apps::v1::DeploymentStatus::default()),
        }
    }

    #[test]
    fn kubectl_create_deployment_body_decodes_with_go_json_rules() {
        let v =
            decode_protobuf(&envelope("apps/v1", "Deployment", &kubectl_deployment(3))).unwrap();
        let spec = &v["spec"];
        assert_eq!(spec["replicas"], 3);
        assert!(
            spec.get("paused").is_none(),
            "bool with omitempty and false is omitted"
        );
        assert!(spec.get("minReadySeconds").is_none());
        assert!(spec.get("revisionHistoryLimit").is_none());
        assert_eq!(spec["selector"], json!({"matchLabels": {"app": "web"}}));
        assert_eq!(
            spec["strategy"]["rollingUpdate"],
            json!({"maxUnavailable": 1, "maxSurge": "25%"})
        );
        assert_eq!(
            spec["template"]["metadata"],
            json!({"labels": {"app": "web"}, "creationTimestamp": null})
        );
        let c = &spec["template"]["spec"]["containers"][0];
        assert_eq!(
            *c,
            json!({"name": "nginx", "image": "nginx:1.27",
                   "ports": [{"containerPort": 80}],
                   "resources": {"limits": {"memory": "128Mi"}}})
        );
        assert_eq!(v["status"], json!({}));
        // The result is a valid typed Deployment.
        let typed: k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(v).unwrap();
        assert_eq!(typed.spec.replicas, Some(3));
    }

    #[test]
    fn explicit_zero_replicas_survives_because_the_go_field_is_a_pointer() {
        let v =
            decode_protobuf(&envelope("apps/v1", "Deployment", &kubectl_deployment(0))).unwrap();
        assert_eq!(v["spec"]["replicas"], 0);
    }

    #[test]
    fn timestamps_become_rfc3339_and_micro_times_keep_microseconds() {
        let ev = events::v1::Event {
            metadata: Some(meta::ObjectMeta {
                creation_timestamp: Some(meta::Time {
                    seconds: Some(1_700_000_000),
                    nanos: Some(0),
                }),
                ..meta("e1", "default")
            }),
            event_time: Some(meta::MicroTime {
                seconds: Some(1_700_000_000),
                nanos: Some(123_456_789),
            }),
            reason: Some("Started".into()),
            regarding: Some(core::v1::ObjectReference {
                kind: Some("Pod".into()),
                name: Some("p".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = decode_protobuf(&envelope("events.k8s.io/v1", "Event", &ev)).unwrap();
        assert_eq!(v["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(v["eventTime"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(v["regarding"], json!({"kind": "Pod", "name": "p"}));
    }

    #[test]
    fn rbac_and_service_bodies_decode_with_inline_and_int_or_string_fields() {
        let rb = rbac::v1::RoleBinding {
            metadata: Some(meta("rb", "default")),
            subjects: vec![rbac::v1::Subject {
                kind: Some("ServiceAccount".into()),
                api_group: Some(String::new()),
                name: Some("sa".into()),
                namespace: Some("default".into()),
            }],
            role_ref: Some(rbac::v1::RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: Some("Role".into()),
                name: Some("reader".into()),
            }),
        };
        let v = decode_protobuf(&envelope(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &rb,
        ))
        .unwrap();
        assert_eq!(
            v["subjects"],
            json!([{"kind": "ServiceAccount", "name": "sa", "namespace": "default"}])
        );
        assert_eq!(v["roleRef"]["name"], "reader");

        let svc = core::v1::Service {
            metadata: Some(meta("web", "default")),
            spec: Some(core::v1::ServiceSpec {
                ports: vec![core::v1::ServicePort {
                    name: Some("80-8080".into()),
                    protocol: Some("TCP".into()),
                    port: Some(80),
                    target_port: Some(pb::apimachinery::pkg::util::intstr::IntOrString {
                        r#type: Some(0),
                        int_val: Some(8080),
                        str_val: Some(String::new()),
                    }),
                    node_port: Some(0),
                    app_protocol: None,
                }],
                r#type: Some("ClusterIP".into()),
                selector: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            status: Some(core::v1::ServiceStatus::default()),
        };
        let v = decode_protobuf(&envelope("v1", "Service", &svc)).unwrap();
        assert_eq!(
            v["spec"]["ports"],
            json!([{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}])
        );
        assert_eq!(v["spec"]["type"], "ClusterIP");

        // Volume embeds VolumeSource inline: its fields sit beside `name`.
        let pod = core::v1::Pod {
            metadata: Some(meta("p", "default")),
            spec: Some(core::v1::PodSpec {
                volumes: vec![core::v1::Volume {
                    name: Some("cfg".into()),
                    volume_source: Some(core::v1::VolumeSource {
                        config_map: Some(core::v1::ConfigMapVolumeSource {
                            local_object_reference: Some(core::v1::LocalObjectReference {
                                name: Some("cfg".into()),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                }],
                ..Default::default()
            }),
            status: None,
        };
        let v = decode_protobuf(&envelope("v1", "Pod", &pod)).unwrap();
        assert_eq!(
            v["spec"]["volumes"],
            json!([{"name": "cfg", "configMap": {"name": "cfg"}}])
        );
    }

    #[test]
    fn malformed_or_unsupported_bodies_are_errors_that_say_why() {
        let err = decode_protobuf(b"{\"kind\":\"Namespace\"}").unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
        let err = decode_protobuf(b"k8s\0\xff\xff\xff").unwrap_err();
        assert!(err.to_string().contains("runtime.Unknown"), "{err}");
        let crd_like = envelope(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &meta("x", ""),
        );
        let err = decode_protobuf(&crd_like).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedProtobufKind { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("application/json"), "{err}");
        let mut bad = envelope("v1", "ConfigMap", &meta("x", ""));
        bad.truncate(bad.len() - 3);
        assert!(decode_protobuf(&bad).is_err());
        assert!(is_protobuf_content_type(
            "application/vnd.kubernetes.protobuf; charset=x"
        ));
        assert!(!is_protobuf_content_type("application/json"));
    }

    #[test]
    fn go_durations_print_like_time_duration_string() {
        assert_eq!(json::go_duration(0), "0s");
        assert_eq!(json::go_duration(1_500_000_000), "1.5s");
        assert_eq!(json::go_duration(90_000_000_000), "1m30s");
        assert_eq!(json::go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(json::go_duration(300_000_000), "300ms");
    }
}
