//! Printers of cluster-level kinds: RBAC, API registration and extension, admission, storage,
//! scheduling, node, flow control, certificates, coordination.

use super::*;
use serde_json::json;

pub(super) fn printer(kind: &str) -> Option<&'static Printer> {
    Some(match kind {
        "RoleBinding" | "ClusterRoleBinding" => &ROLE_BINDING,
        "Role" | "ClusterRole" | "CustomResourceDefinition" => &CREATED_AT_ONLY,
        "APIService" => &API_SERVICE,
        "Lease" => &LEASE,
        "StorageClass" => &STORAGE_CLASS,
        "CSIDriver" => &CSI_DRIVER,
        "CSINode" => &CSI_NODE,
        "CSIStorageCapacity" => &CSI_STORAGE_CAPACITY,
        "VolumeAttachment" => &VOLUME_ATTACHMENT,
        "PriorityClass" => &PRIORITY_CLASS,
        "RuntimeClass" => &RUNTIME_CLASS,
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => &WEBHOOK_CONFIGURATION,
        "ValidatingAdmissionPolicy" => &VALIDATING_ADMISSION_POLICY,
        "ValidatingAdmissionPolicyBinding" => &VALIDATING_ADMISSION_POLICY_BINDING,
        "FlowSchema" => &FLOW_SCHEMA,
        "PriorityLevelConfiguration" => &PRIORITY_LEVEL_CONFIGURATION,
        "CertificateSigningRequest" => &CERTIFICATE_SIGNING_REQUEST,
        _ => return None,
    })
}

/// Kinds whose printer shows only when they were created (Role, ClusterRole, CRD, LimitRange).
pub(super) static CREATED_AT_ONLY: Printer = Printer {
    columns: &[NAME, CREATED_AT],
    cells: |o, _| vec![name(o), created_at(o)],
};

static ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Role",
            "Role references a Role in the current namespace or a ClusterRole in the global namespace.",
        ),
        AGE,
        w("Users", "Users in the binding."),
        w("Groups", "Groups in the binding."),
        w("ServiceAccounts", "ServiceAccounts in the binding."),
    ],
    cells: |o, now| {
        let subjects = items(o, &["subjects"]);
        let pick = |k: &str| -> String {
            subjects
                .iter()
                .filter(|x| s(x, &["kind"]) == k)
                .map(|x| {
                    if k == "ServiceAccount" {
                        format!("{}/{}", s(x, &["namespace"]), s(x, &["name"]))
                    } else {
                        s(x, &["name"]).to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                s(o, &["roleRef", "kind"]),
                s(o, &["roleRef", "name"])
            )),
            age(o, now),
            json!(pick("User")),
            json!(pick("Group")),
            json!(pick("ServiceAccount")),
        ]
    },
};

static API_SERVICE: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Service",
            "The reference to the service that hosts this API endpoint.",
        ),
        c("Available", "Whether this service is available."),
        AGE,
    ],
    cells: |o, now| {
        let service = match get(o, &["spec", "service"]).filter(|v| !v.is_null()) {
            Some(sv) => format!("{}/{}", s(sv, &["namespace"]), s(sv, &["name"])),
            None => "Local".into(),
        };
        let available = match condition(o, "Available") {
            None => "Unknown".to_string(),
            Some(c) => {
                let (st, r) = (s(c, &["status"]), s(c, &["reason"]));
                if st == "True" || r.is_empty() {
                    st.to_string()
                } else {
                    format!("{st} ({r})")
                }
            }
        };
        vec![name(o), json!(service), json!(available), age(o, now)]
    },
};

static LEASE: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Holder",
            "HolderIdentity contains the identity of the holder of a current lease.",
        ),
        AGE,
    ],
    cells: |o, now| {
        vec![
            name(o),
            json!(s(o, &["spec", "holderIdentity"])),
            age(o, now),
        ]
    },
};

fn flag(o: &Value, path: &[&str], default: bool) -> Value {
    json!(get(o, path).and_then(Value::as_bool).unwrap_or(default))
}

const fn b(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        type_: "boolean",
        priority: 0,
        description,
    }
}

static STORAGE_CLASS: Printer = Printer {
    columns: &[
        NAME,
        c("Provisioner", "Indicates the type of the provisioner."),
        c("ReclaimPolicy", "Indicates the type of the reclaim policy."),
        c(
            "VolumeBindingMode",
            "Indicates how PersistentVolumeClaims should be provisioned and bound.",
        ),
        b(
            "AllowVolumeExpansion",
            "Indicates whether the storage class allow volume expand.",
        ),
        AGE,
    ],
    cells: |o, now| {
        let mut n = s(o, &["metadata", "name"]).to_string();
        let default_ann = |k: &str| s(o, &["metadata", "annotations", k]) == "true";
        if default_ann("storageclass.kubernetes.io/is-default-class")
            || default_ann("storageclass.beta.kubernetes.io/is-default-class")
        {
            n.push_str(" (default)");
        }
        let or = |path: &[&str], d: &str| {
            let v = s(o, path);
            if v.is_empty() {
                d.to_string()
            } else {
                v.to_string()
            }
        };
        vec![
            json!(n),
            json!(s(o, &["provisioner"])),
            json!(or(&["reclaimPolicy"], "Delete")),
            json!(or(&["volumeBindingMode"], "Immediate")),
            flag(o, &["allowVolumeExpansion"], false),
            age(o, now),
        ]
    },
};

static CSI_DRIVER: Printer = Printer {
    columns: &[
        NAME,
        b(
            "AttachRequired",
            "Indicates this CSI volume driver requires an attach operation.",
        ),
        c(
            "PodInfoOnMount",
            "Indicates this CSI volume driver requires additional pod information during mount operations.",
        ),
        c(
            "StorageCapacity",
            "Indicates this CSI volume driver uses storage capacity tracking.",
        ),
        c(
            "TokenRequests",
            "Indicates the audiences of the service account tokens the driver requests.",
        ),
        c(
            "RequiresRepublish",
            "Indicates this CSI volume driver requires republishing.",
        ),
        c(
            "Modes",
            "Indicates volume lifecycle modes this CSI volume driver supports.",
        ),
        AGE,
    ],
    cells: |o, now| {
        let audiences: Vec<&str> = items(o, &["spec", "tokenRequests"])
            .iter()
            .map(|t| s(t, &["audience"]))
            .collect();
        let tokens = if audiences.is_empty() {
            "<unset>".to_string()
        } else {
            audiences.join(",")
        };
        let modes: Vec<&str> = items(o, &["spec", "volumeLifecycleModes"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let bool_s = |k: &str| {
            get(o, &["spec", k])
                .and_then(Value::as_bool)
                .unwrap_or(false)
                .to_string()
        };
        vec![
            name(o),
            flag(o, &["spec", "attachRequired"], true),
            json!(bool_s("podInfoOnMount")),
            json!(bool_s("storageCapacity")),
            json!(tokens),
            json!(bool_s("requiresRepublish")),
            json!(or_none(modes.join(","))),
            age(o, now),
        ]
    },
};

static CSI_NODE: Printer = Printer {
    columns: &[
        NAME,
        n(
            "Drivers",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        AGE,
    ],
    cells: |o, now| vec![name(o), json!(count(o, &["spec", "drivers"])), age(o, now)],
};

static CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: &[
        NAME,
        c("StorageClassName", "The name of the storage class."),
        c("Capacity", "The capacity of the storage class."),
    ],
    cells: |o, _| {
        let cap = s(o, &["capacity"]);
        vec![
            name(o),
            json!(s(o, &["storageClassName"])),
            json!(if cap.is_empty() { "<unset>" } else { cap }),
        ]
    },
};

static VOLUME_ATTACHMENT: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Attacher",
            "Attacher indicates the name of the volume driver that MUST handle this request.",
        ),
        c("PV", "Name of the persistent volume to attach."),
        c("Node", "The node that the volume should be attached to."),
        b("Attached", "Indicates the volume is successfully attached."),
        AGE,
    ],
    cells: |o, now| {
        vec![
            name(o),
            json!(s(o, &["spec", "attacher"])),
            json!(s(o, &["spec", "source", "persistentVolumeName"])),
            json!(s(o, &["spec", "nodeName"])),
            flag(o, &["status", "attached"], false),
            age(o, now),
        ]
    },
};

static PRIORITY_CLASS: Printer = Printer {
    columns: &[
        NAME,
        n("Value", "The value of this priority class."),
        b(
            "Global-Default",
            "globalDefault specifies whether this PriorityClass should be considered as the default priority.",
        ),
        AGE,
        c(
            "PreemptionPolicy",
            "PreemptionPolicy is the Policy for preempting pods with lower priority.",
        ),
    ],
    cells: |o, now| {
        let policy = s(o, &["preemptionPolicy"]);
        vec![
            name(o),
            json!(i(o, &["value"])),
            flag(o, &["globalDefault"], false),
            age(o, now),
            json!(if policy.is_empty() {
                "PreemptLowerPriority"
            } else {
                policy
            }),
        ]
    },
};

static RUNTIME_CLASS: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Handler",
            "Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.",
        ),
        AGE,
    ],
    cells: |o, now| vec![name(o), json!(s(o, &["handler"])), age(o, now)],
};

static WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[
        NAME,
        n(
            "Webhooks",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        AGE,
    ],
    cells: |o, now| vec![name(o), json!(count(o, &["webhooks"])), age(o, now)],
};

static VALIDATING_ADMISSION_POLICY: Printer = Printer {
    columns: &[
        NAME,
        n(
            "Validations",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        c(
            "ParamKind",
            "ParamKind specifies the kind of resources used to parameterize this policy",
        ),
        AGE,
    ],
    cells: |o, now| {
        let param_kind = match get(o, &["spec", "paramKind"]) {
            Some(p) if p.is_object() => format!("{}/{}", s(p, &["apiVersion"]), s(p, &["kind"])),
            _ => "<unset>".into(),
        };
        vec![
            name(o),
            json!(count(o, &["spec", "validations"])),
            json!(param_kind),
            age(o, now),
        ]
    },
};

static VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer {
    columns: &[
        NAME,
        c(
            "PolicyName",
            "PolicyName indicates the policy definition which the policy binding binded to",
        ),
        c(
            "ParamRef",
            "ParamRef indicates the param resource which sets the configration param",
        ),
        AGE,
    ],
    cells: |o, now| {
        let param_ref = match get(o, &["spec", "paramRef"]) {
            Some(p) if p.is_object() => {
                let ns = s(p, &["namespace"]);
                let n = s(p, &["name"]);
                let n = if n.is_empty() { "*" } else { n };
                if ns.is_empty() {
                    n.to_string()
                } else {
                    format!("{ns}/{n}")
                }
            }
            _ => "<unset>".into(),
        };
        vec![
            name(o),
            json!(s(o, &["spec", "policyName"])),
            json!(param_ref),
            age(o, now),
        ]
    },
};

static FLOW_SCHEMA: Printer = Printer {
    columns: &[
        NAME,
        c(
            "PriorityLevel",
            "Name of the referenced PriorityLevelConfiguration object",
        ),
        n(
            "MatchingPrecedence",
            "The matching precedence of this FlowSchema",
        ),
        c(
            "DistinguisherMethod",
            "DistinguisherMethod of this FlowSchema",
        ),
        AGE,
        c(
            "MissingPL",
            "references a broken or non-existent PriorityLevelConfiguration",
        ),
    ],
    cells: |o, now| {
        let method = s(o, &["spec", "distinguisherMethod", "type"]);
        let missing = match condition(o, "Dangling") {
            Some(c) => s(c, &["status"]).to_string(),
            None => "?".to_string(),
        };
        vec![
            name(o),
            json!(s(o, &["spec", "priorityLevelConfiguration", "name"])),
            json!(i(o, &["spec", "matchingPrecedence"])),
            json!(if method.is_empty() { "<none>" } else { method }),
            age(o, now),
            json!(missing),
        ]
    },
};

static PRIORITY_LEVEL_CONFIGURATION: Printer = Printer {
    columns: &[
        NAME,
        c("Type", "Type of this priority level"),
        c(
            "NominalConcurrencyShares",
            "NominalConcurrencyShares of this priority level",
        ),
        c("Queues", "Queues of this priority level"),
        c("HandSize", "HandSize of this priority level"),
        c(
            "QueueLengthLimit",
            "QueueLengthLimit of this priority level",
        ),
        AGE,
    ],
    cells: |o, now| {
        let none = || "<none>".to_string();
        let limited = get(o, &["spec", "limited"]).filter(|v| v.is_object());
        let shares = limited
            .and_then(|l| get(l, &["nominalConcurrencyShares"]))
            .and_then(Value::as_i64)
            .map_or_else(none, |v| v.to_string());
        let queuing = limited
            .and_then(|l| get(l, &["limitResponse", "queuing"]))
            .filter(|v| v.is_object());
        let q = |k: &str| queuing.map_or_else(none, |q| i(q, &[k]).to_string());
        vec![
            name(o),
            json!(s(o, &["spec", "type"])),
            json!(shares),
            json!(q("queues")),
            json!(q("handSize")),
            json!(q("queueLengthLimit")),
            age(o, now),
        ]
    },
};

static CERTIFICATE_SIGNING_REQUEST: Printer = Printer {
    columns: &[
        NAME,
        AGE,
        c(
            "SignerName",
            "Name of the signer that will sign the certificate.",
        ),
        c("Requestor", "Name of the user requesting the certificate."),
        c(
            "RequestedDuration",
            "The requested duration of the certificate.",
        ),
        c("Condition", "Condition of the certificate signing request."),
    ],
    cells: |o, now| {
        let duration = get(o, &["spec", "expirationSeconds"])
            .and_then(Value::as_i64)
            .map_or("<none>".to_string(), crate::table::human_duration);
        let mut conditions: Vec<&str> = items(o, &["status", "conditions"])
            .iter()
            .map(|c| s(c, &["type"]))
            .filter(|t| matches!(*t, "Approved" | "Denied" | "Failed"))
            .collect();
        if !s(o, &["status", "certificate"]).is_empty() {
            conditions.push("Issued");
        }
        let condition = if conditions.is_empty() {
            "Pending".to_string()
        } else {
            conditions.join(",")
        };
        vec![
            name(o),
            age(o, now),
            json!(s(o, &["spec", "signerName"])),
            json!(s(o, &["spec", "username"])),
            json!(duration),
            json!(condition),
        ]
    },
};
