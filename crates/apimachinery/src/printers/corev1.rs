//! Printers of core/v1 kinds.

use super::*;
use serde_json::json;

pub(super) fn printer(kind: &str) -> Option<&'static Printer> {
    Some(match kind {
        "Namespace" => &NAMESPACE,
        "ConfigMap" => &CONFIG_MAP,
        "Secret" => &SECRET,
        "ServiceAccount" => &SERVICE_ACCOUNT,
        "Service" => &SERVICE,
        "Pod" => &POD,
        "Event" => &EVENT,
        "Endpoints" => &ENDPOINTS,
        "Node" => &NODE,
        "PersistentVolume" => &PERSISTENT_VOLUME,
        "PersistentVolumeClaim" => &PERSISTENT_VOLUME_CLAIM,
        "ResourceQuota" => &RESOURCE_QUOTA,
        "ReplicationController" => &REPLICATION_CONTROLLER,
        "PodTemplate" => &POD_TEMPLATE,
        "ComponentStatus" => &COMPONENT_STATUS,
        "LimitRange" => &super::cluster::CREATED_AT_ONLY,
        _ => return None,
    })
}

static NAMESPACE: Printer = Printer {
    columns: &[NAME, c("Status", "The status of the namespace"), AGE],
    cells: |o, now| vec![name(o), json!(s(o, &["status", "phase"])), age(o, now)],
};

static CONFIG_MAP: Printer = Printer {
    columns: &[
        NAME,
        n("Data", "Number of keys in data and binaryData."),
        AGE,
    ],
    cells: |o, now| {
        let keys = len_of(o, &["data"]) + len_of(o, &["binaryData"]);
        vec![name(o), json!(keys), age(o, now)]
    },
};

static SECRET: Printer = Printer {
    columns: &[
        NAME,
        c("Type", "The type of secret"),
        n("Data", "Number of keys in data."),
        AGE,
    ],
    cells: |o, now| {
        let keys = len_of(o, &["data"]);
        vec![name(o), json!(s(o, &["type"])), json!(keys), age(o, now)]
    },
};

static SERVICE_ACCOUNT: Printer = Printer {
    columns: &[NAME, n("Secrets", "Secrets of the service account."), AGE],
    cells: |o, now| vec![name(o), json!(len_of(o, &["secrets"])), age(o, now)],
};

static SERVICE: Printer = Printer {
    columns: &[
        NAME,
        c("Type", "The type of the service."),
        c("Cluster-IP", "The cluster IP of the service."),
        c("External-IP", "The external IPs of the service."),
        c("Port(s)", "The ports the service exposes."),
        AGE,
        w(
            "Selector",
            "Route service traffic to pods with label keys and values matching this selector.",
        ),
    ],
    cells: |o, now| {
        let ty = s(o, &["spec", "type"]);
        vec![
            name(o),
            json!(if ty.is_empty() { "ClusterIP" } else { ty }),
            json!(s_or_none(o, &["spec", "clusterIP"])),
            json!(external_ip(o)),
            json!(service_ports(o)),
            age(o, now),
            json!(format_labels(get(o, &["spec", "selector"]))),
        ]
    },
};

static POD: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Ready",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        c(
            "Status",
            "The aggregate status of the containers in this pod.",
        ),
        c(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        AGE,
        w("IP", "The IP address assigned to this pod."),
        w("Node", "The node the pod is assigned to."),
        w("Nominated Node", "The node the pod is nominated to run on."),
        w("Readiness Gates", "The readiness gates of the pod."),
    ],
    cells: |o, now| {
        let (ready, status, restarts) = pod_cells(o, now);
        vec![
            name(o),
            json!(ready),
            json!(status),
            json!(restarts),
            age(o, now),
            json!(pod_ip(o)),
            json!(s_or_none(o, &["spec", "nodeName"])),
            json!(s_or_none(o, &["status", "nominatedNodeName"])),
            json!(readiness_gates(o)),
        ]
    },
};

static EVENT: Printer = Printer {
    columns: &[
        c("Last Seen", "Time since the event was last seen."),
        c("Type", "The type of the event."),
        c("Reason", "The reason of the event."),
        c("Object", "The object the event is about."),
        w("Subobject", "The part of the object the event is about."),
        w("Source", "Who reported the event."),
        c("Message", "A human-readable description of the event."),
        w("First Seen", "Time since the event was first seen."),
        w("Count", "How often the event happened."),
        w("Name", "Name of the event."),
    ],
    cells: event_cells,
};

/// core/v1 field names first, events.k8s.io/v1 names as fallbacks.
fn event_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    let first_of = |paths: &[&[&str]]| -> String {
        paths
            .iter()
            .map(|p| s(obj, p))
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_string()
    };
    let last = first_of(&[
        &["series", "lastObservedTime"],
        &["lastTimestamp"],
        &["deprecatedLastTimestamp"],
        &["eventTime"],
        &["firstTimestamp"],
        &["deprecatedFirstTimestamp"],
        &["metadata", "creationTimestamp"],
    ]);
    let first = first_of(&[
        &["firstTimestamp"],
        &["deprecatedFirstTimestamp"],
        &["eventTime"],
        &["metadata", "creationTimestamp"],
    ]);
    let mut source = first_of(&[
        &["source", "component"],
        &["deprecatedSource", "component"],
        &["reportingComponent"],
        &["reportingController"],
    ]);
    let host = first_of(&[&["source", "host"], &["deprecatedSource", "host"]]);
    if !host.is_empty() {
        source = format!("{source}, {host}");
    }
    let count = [
        &["series", "count"][..],
        &["count"][..],
        &["deprecatedCount"][..],
    ]
    .iter()
    .find_map(|p| get(obj, p).and_then(Value::as_i64))
    .unwrap_or(1);
    let about = if get(obj, &["involvedObject"]).is_some() {
        "involvedObject"
    } else {
        "regarding"
    };
    vec![
        json!(crate::table::age(&last, now)),
        json!(s(obj, &["type"])),
        json!(s(obj, &["reason"])),
        json!(format!(
            "{}/{}",
            s(obj, &[about, "kind"]).to_lowercase(),
            s(obj, &[about, "name"])
        )),
        json!(s(obj, &[about, "fieldPath"])),
        json!(source),
        json!(first_of(&[&["message"], &["note"]]).trim()),
        json!(crate::table::age(&first, now)),
        json!(count),
        name(obj),
    ]
}

static ENDPOINTS: Printer = Printer {
    columns: &[NAME, c("Endpoints", "Endpoints of the service."), AGE],
    cells: |o, now| vec![name(o), json!(endpoints(o)), age(o, now)],
};

/// `ip:port` for every ready address and port, at most 3 then `+ N more...`.
fn endpoints(o: &Value) -> String {
    let mut out = Vec::new();
    for subset in items(o, &["subsets"]) {
        let ports = items(subset, &["ports"]);
        for addr in items(subset, &["addresses"]) {
            let ip = s(addr, &["ip"]);
            if ports.is_empty() {
                out.push(ip.to_string());
            }
            for p in ports {
                out.push(format!("{ip}:{}", i(p, &["port"])));
            }
        }
    }
    if out.is_empty() {
        "<none>".into()
    } else {
        join_limited(&out, 3)
    }
}

static NODE: Printer = Printer {
    columns: &[
        NAME,
        c("Status", "The status of the node"),
        c("Roles", "The roles of the node"),
        AGE,
        c("Version", "Kubelet Version reported by the node."),
        w("Internal-IP", "List of addresses reachable to the node."),
        w("External-IP", "List of addresses reachable to the node."),
        w(
            "OS-Image",
            "OS Image reported by the node from /etc/os-release.",
        ),
        w("Kernel-Version", "Kernel Version reported by the node."),
        w(
            "Container-Runtime",
            "Container Runtime Version reported by the node.",
        ),
    ],
    cells: |o, now| {
        let address = |ty: &str| {
            items(o, &["status", "addresses"])
                .iter()
                .find(|a| s(a, &["type"]) == ty)
                .map_or("<none>".to_string(), |a| s(a, &["address"]).to_string())
        };
        vec![
            name(o),
            json!(node_status(o)),
            json!(node_roles(o)),
            age(o, now),
            json!(s(o, &["status", "nodeInfo", "kubeletVersion"])),
            json!(address("InternalIP")),
            json!(address("ExternalIP")),
            json!(s(o, &["status", "nodeInfo", "osImage"])),
            json!(s(o, &["status", "nodeInfo", "kernelVersion"])),
            json!(s(o, &["status", "nodeInfo", "containerRuntimeVersion"])),
        ]
    },
};

fn node_status(o: &Value) -> String {
    let mut status = match condition(o, "Ready").map(|c| s(c, &["status"])) {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if get(o, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

fn node_roles(o: &Value) -> String {
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = get(o, &["metadata", "labels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role.to_string());
                }
            } else if k == "kubernetes.io/role" && v.as_str().is_some_and(|v| !v.is_empty()) {
                roles.push(v.as_str().unwrap_or_default().to_string());
            }
        }
    }
    roles.sort();
    roles.dedup();
    or_none(roles.join(","))
}

/// `RWO,ROX,RWX,RWOP` as kubectl abbreviates access modes.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, a)| *a)
    .collect::<Vec<_>>()
    .join(",")
}

fn deleting(o: &Value) -> bool {
    get(o, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null())
}

fn unset(v: &str) -> String {
    if v.is_empty() {
        "<unset>".into()
    } else {
        v.to_string()
    }
}

static PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Capacity",
            "capacity is the description of the persistent volume's resources and capacity.",
        ),
        c(
            "Access Modes",
            "accessModes contains all ways the volume can be mounted.",
        ),
        c(
            "Reclaim Policy",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
        ),
        c(
            "Status",
            "phase indicates if a volume is available, bound to a claim, or released by a claim.",
        ),
        c(
            "Claim",
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
        ),
        c(
            "StorageClass",
            "storageClassName is the name of StorageClass to which this persistent volume belongs.",
        ),
        c(
            "VolumeAttributesClass",
            "Name of VolumeAttributesClass to which this persistent volume belongs.",
        ),
        c(
            "Reason",
            "reason is a brief CamelCase string that describes any failure.",
        ),
        AGE,
        w(
            "VolumeMode",
            "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
        ),
    ],
    cells: |o, now| {
        let claim = match get(o, &["spec", "claimRef"]) {
            Some(r) if !r.is_null() => format!("{}/{}", s(r, &["namespace"]), s(r, &["name"])),
            _ => String::new(),
        };
        let phase = if deleting(o) {
            "Terminating"
        } else {
            s(o, &["status", "phase"])
        };
        vec![
            name(o),
            json!(s(o, &["spec", "capacity", "storage"])),
            json!(access_modes(items(o, &["spec", "accessModes"]))),
            json!(s(o, &["spec", "persistentVolumeReclaimPolicy"])),
            json!(phase),
            json!(claim),
            json!(s(o, &["spec", "storageClassName"])),
            json!(unset(s(o, &["spec", "volumeAttributesClassName"]))),
            json!(s(o, &["status", "reason"])),
            age(o, now),
            json!(volume_mode(o)),
        ]
    },
};

fn volume_mode(o: &Value) -> String {
    let m = s(o, &["spec", "volumeMode"]);
    if m.is_empty() {
        "<unset>".into()
    } else {
        m.to_string()
    }
}

static PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Status",
            "phase represents the current phase of PersistentVolumeClaim.",
        ),
        c(
            "Volume",
            "volumeName is the binding reference to the PersistentVolume backing this claim.",
        ),
        c(
            "Capacity",
            "capacity represents the actual resources of the underlying volume.",
        ),
        c(
            "Access Modes",
            "accessModes contains the actual access modes the volume backing the PVC has.",
        ),
        c(
            "StorageClass",
            "storageClassName is the name of the StorageClass required by the claim.",
        ),
        c(
            "VolumeAttributesClass",
            "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
        ),
        AGE,
        w(
            "VolumeMode",
            "volumeMode defines what type of volume is required by the claim.",
        ),
    ],
    cells: |o, now| {
        let phase = if deleting(o) {
            "Terminating"
        } else {
            s(o, &["status", "phase"])
        };
        let bound = !s(o, &["spec", "volumeName"]).is_empty();
        let (capacity, modes) = if bound {
            (
                s(o, &["status", "capacity", "storage"]).to_string(),
                access_modes(items(o, &["status", "accessModes"])),
            )
        } else {
            (String::new(), String::new())
        };
        vec![
            name(o),
            json!(phase),
            json!(s(o, &["spec", "volumeName"])),
            json!(capacity),
            json!(modes),
            json!(s(o, &["spec", "storageClassName"])),
            json!(unset(s(o, &["spec", "volumeAttributesClassName"]))),
            age(o, now),
            json!(volume_mode(o)),
        ]
    },
};

static RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        NAME,
        AGE,
        c(
            "Request",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        c(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
    ],
    cells: |o, now| {
        let hard = get(o, &["spec", "hard"]).and_then(Value::as_object);
        let used = |k: &str| s(o, &["status", "used", k]).to_string();
        let (mut requests, mut limits) = (Vec::new(), Vec::new());
        if let Some(hard) = hard {
            let mut keys: Vec<&String> = hard.keys().collect();
            keys.sort();
            for k in keys {
                let h = hard[k]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| hard[k].to_string());
                let u = used(k);
                let u = if u.is_empty() { "0".to_string() } else { u };
                let entry = format!("{k}: {u}/{h}");
                if k.starts_with("limits.") {
                    limits.push(entry)
                } else {
                    requests.push(entry)
                }
            }
        }
        vec![
            name(o),
            age(o, now),
            json!(requests.join(", ")),
            json!(limits.join(", ")),
        ]
    },
};

static REPLICATION_CONTROLLER: Printer = Printer {
    columns: &[
        NAME,
        n("Desired", "Number of desired pods."),
        n("Current", "Number of actual replicas."),
        n(
            "Ready",
            "The number of ready replicas for this replication controller.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let desired = get(o, &["spec", "replicas"])
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let (cs, is) = containers_and_images(get(o, &["spec", "template", "spec"]));
        vec![
            name(o),
            json!(desired),
            json!(i(o, &["status", "replicas"])),
            json!(i(o, &["status", "readyReplicas"])),
            age(o, now),
            json!(cs),
            json!(is),
            json!(format_labels(get(o, &["spec", "selector"]))),
        ]
    },
};

static POD_TEMPLATE: Printer = Printer {
    columns: &[
        NAME,
        c("Containers", "Names of each container in the template."),
        c(
            "Images",
            "Images referenced by each container in the template.",
        ),
        c("Pod Labels", "The labels for the pod template."),
    ],
    cells: |o, _| {
        let (cs, is) = containers_and_images(get(o, &["template", "spec"]));
        vec![
            name(o),
            json!(cs),
            json!(is),
            json!(format_labels(get(o, &["template", "metadata", "labels"]))),
        ]
    },
};

static COMPONENT_STATUS: Printer = Printer {
    columns: &[
        NAME,
        c("Status", "Status of the component conditions"),
        c("Message", "Message of the component conditions"),
        c("Error", "Error of the component conditions"),
    ],
    cells: |o, _| {
        let healthy = condition_in(o, "Healthy");
        let (status, message, error) = match healthy {
            Some(c) => (
                if s(c, &["status"]) == "True" {
                    "Healthy"
                } else {
                    "Unhealthy"
                },
                s(c, &["message"]),
                s(c, &["error"]),
            ),
            None => ("Unknown", "", ""),
        };
        vec![name(o), json!(status), json!(message), json!(error)]
    },
};

/// A ComponentStatus keeps its conditions at the top level.
fn condition_in<'a>(o: &'a Value, type_: &str) -> Option<&'a Value> {
    items(o, &["conditions"])
        .iter()
        .find(|c| s(c, &["type"]) == type_)
}

/// The READY, STATUS and RESTARTS cells of a pod, following kubectl's printer: init
/// containers first (`Init:1/2`, `Init:CrashLoopBackOff`), then the last container with a
/// waiting/terminated reason, `Terminating` while deleting, restarts with the age of the last
/// termination (`3 (5m ago)`).
fn pod_cells(pod: &Value, now: Timestamp) -> (String, String, String) {
    let arr = |path: &[&str]| -> Vec<Value> {
        get(pod, path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let init_specs = arr(&["spec", "initContainers"]);
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| s(c, &["name"]) == name && s(c, &["restartPolicy"]) == "Always")
    };
    let mut total = len_of(pod, &["spec", "containers"]);
    total += init_specs
        .iter()
        .filter(|c| s(c, &["restartPolicy"]) == "Always")
        .count() as i64;
    let phase = s(pod, &["status", "phase"]);
    let mut reason = phase.to_string();
    if !s(pod, &["status", "reason"]).is_empty() {
        reason = s(pod, &["status", "reason"]).to_string();
    }
    let conditions = arr(&["status", "conditions"]);
    if conditions
        .iter()
        .any(|c| s(c, &["type"]) == "PodScheduled" && s(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut ready = 0i64;
    let mut last_restart = String::new();
    let mut last_sidecar_restart = String::new();
    let later = |cur: &mut String, c: &Value| {
        let t = s(c, &["lastState", "terminated", "finishedAt"]);
        if !t.is_empty() && t > cur.as_str() {
            *cur = t.to_string();
        }
    };
    let init_statuses = arr(&["status", "initContainerStatuses"]);
    let mut initializing = false;
    for (idx, c) in init_statuses.iter().enumerate() {
        restarts += i(c, &["restartCount"]);
        later(&mut last_restart, c);
        let sidecar = restartable(s(c, &["name"]));
        if sidecar {
            sidecar_restarts += i(c, &["restartCount"]);
            later(&mut last_sidecar_restart, c);
        }
        let terminated = get(c, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting = s(c, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| i(t, &["exitCode"]) == 0) {
            continue;
        }
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = s(t, &["reason"]);
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if i(t, &["signal"]) != 0 {
                format!("Init:Signal:{}", i(t, &["signal"]))
            } else {
                format!("Init:ExitCode:{}", i(t, &["exitCode"]))
            };
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            reason = format!("Init:{waiting}");
        } else {
            reason = format!("Init:{idx}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .any(|c| s(c, &["type"]) == "Initialized" && s(c, &["status"]) == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in arr(&["status", "containerStatuses"]).iter().rev() {
            restarts += i(c, &["restartCount"]);
            later(&mut last_restart, c);
            let waiting = s(c, &["state", "waiting", "reason"]);
            let terminated = get(c, &["state", "terminated"]).filter(|t| t.is_object());
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                let r = s(t, &["reason"]);
                reason = if !r.is_empty() {
                    r.to_string()
                } else if i(t, &["signal"]) != 0 {
                    format!("Signal:{}", i(t, &["signal"]))
                } else {
                    format!("ExitCode:{}", i(t, &["exitCode"]))
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && get(c, &["state", "running"]).is_some_and(|r| r.is_object())
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| s(c, &["type"]) == "Ready" && s(c, &["status"]) == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }
    if get(pod, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()) {
        if s(pod, &["status", "reason"]) == "NodeLost" {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }
    let restarts_cell = if restarts != 0 && !last_restart.is_empty() {
        format!("{restarts} ({} ago)", crate::table::age(&last_restart, now))
    } else {
        restarts.to_string()
    };
    (format!("{ready}/{total}"), reason, restarts_cell)
}

fn pod_ip(pod: &Value) -> String {
    let first = get(pod, &["status", "podIPs"])
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .map(|p| s(p, &["ip"]).to_string())
        .unwrap_or_default();
    or_none(first)
}

fn readiness_gates(pod: &Value) -> String {
    let gates = get(pod, &["spec", "readinessGates"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = get(pod, &["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let true_count = gates
        .iter()
        .filter(|g| {
            let t = s(g, &["conditionType"]);
            conditions
                .iter()
                .find(|c| s(c, &["type"]) == t)
                .is_some_and(|c| s(c, &["status"]) == "True")
        })
        .count();
    format!("{true_count}/{}", gates.len())
}

fn service_ports(svc: &Value) -> String {
    let Some(ports) = get(svc, &["spec", "ports"]).and_then(Value::as_array) else {
        return "<none>".into();
    };
    let parts: Vec<String> = ports
        .iter()
        .map(|p| {
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let port = i(p, &["port"]);
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) if np != 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    or_none(parts.join(","))
}

fn external_ip(svc: &Value) -> String {
    let ty = s(svc, &["spec", "type"]);
    let ext: Vec<String> = get(svc, &["spec", "externalIPs"])
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    match ty {
        "LoadBalancer" => {
            let mut ips: Vec<String> = get(svc, &["status", "loadBalancer", "ingress"])
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|i| {
                            let ip = s(i, &["ip"]);
                            if ip.is_empty() {
                                s(i, &["hostname"]).to_string()
                            } else {
                                ip.to_string()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            ips.extend(ext);
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => s(svc, &["spec", "externalName"]).to_string(),
        _ => or_none(ext.join(",")),
    }
}
