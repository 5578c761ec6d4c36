//! Table columns and cells of built-in kinds, as kube-apiserver's printers compute them
//! (`pkg/printers/internalversion`), plus [`PrinterColumn`], the column type shared with CRD
//! `additionalPrinterColumns`.
//!
//! [`columns`] gives the column definitions (priority 1 = only with `-o wide`); [`cells`] the row
//! cells of one object in the same order. The Table envelope (`meta.k8s.io/v1 Table`, rows'
//! `object`, JSONPath cells of CRDs) is the `apimachinery` crate's job.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::catalogue::Gvk;

/// One Table column (`columnDefinitions[]`). For CRDs `json_path` says where the cell comes from;
/// built-in columns are computed by [`cells`] and have no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    /// `name` for the NAME column, otherwise usually empty.
    pub format: String,
    pub description: String,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: i32,
    pub json_path: Option<String>,
}

impl PrinterColumn {
    fn new(name: &str, type_: &str, description: &str, priority: i32) -> Self {
        PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            format: if name == "Name" {
                "name".into()
            } else {
                String::new()
            },
            description: description.into(),
            priority,
            json_path: None,
        }
    }

    /// From one entry of a CRD version's `additionalPrinterColumns`.
    pub fn from_crd_column(col: &Value) -> Option<Self> {
        let s = |k: &str| {
            col.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = s("name");
        if name.is_empty() {
            return None;
        }
        Some(PrinterColumn {
            name,
            type_: s("type"),
            format: s("format"),
            description: s("description"),
            priority: col.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
            json_path: Some(s("jsonPath")),
        })
    }

    /// The `meta.k8s.io/v1` `TableColumnDefinition` JSON.
    pub fn to_definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The columns of a built-in kind, or `None` if the kind has no dedicated printer (then the
/// default NAME + CREATED AT / AGE table applies).
pub fn columns(gvk: &Gvk) -> Option<Vec<PrinterColumn>> {
    let c = PrinterColumn::new;
    let name = || c("Name", "string", NAME_DESC, 0);
    let age = || c("Age", "string", AGE_DESC, 0);
    let cols = match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Namespace") => vec![
            name(),
            c("Status", "string", "The status of the namespace", 0),
            age(),
        ],
        ("", "ConfigMap") => vec![
            name(),
            c("Data", "string", "Number of data entries", 0),
            age(),
        ],
        ("", "Secret") => vec![
            name(),
            c("Type", "string", "The type of the secret", 0),
            c("Data", "string", "Number of data entries", 0),
            age(),
        ],
        ("", "ServiceAccount") => vec![
            name(),
            c(
                "Secrets",
                "string",
                "Number of secrets referenced by the service account",
                0,
            ),
            age(),
        ],
        ("", "Service") => vec![
            name(),
            c("Type", "string", "The type of service", 0),
            c("Cluster-IP", "string", "The cluster IP of the service", 0),
            c(
                "External-IP",
                "string",
                "The external IPs of the service",
                0,
            ),
            c("Port(s)", "string", "The ports the service exposes", 0),
            age(),
            c("Selector", "string", "The label selector of the service", 1),
        ],
        ("", "Pod") => vec![
            name(),
            c(
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
                0,
            ),
            c(
                "Status",
                "string",
                "The aggregate status of the containers in this pod.",
                0,
            ),
            c(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
                0,
            ),
            age(),
            c("IP", "string", "The IP address assigned to the pod", 1),
            c(
                "Node",
                "string",
                "Name of the node the pod is assigned to",
                1,
            ),
            c(
                "Nominated Node",
                "string",
                "Name of the node nominated for this pod",
                1,
            ),
            c("Readiness Gates", "string", "Pod readiness gates", 1),
        ],
        ("apps", "Deployment") => vec![
            name(),
            c("Ready", "string", "Number of the pod with ready state", 0),
            c(
                "Up-to-date",
                "string",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                0,
            ),
            c(
                "Available",
                "string",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                0,
            ),
            age(),
            c(
                "Containers",
                "string",
                "Names of each container in the template.",
                1,
            ),
            c(
                "Images",
                "string",
                "Images referenced by each container in the template.",
                1,
            ),
            c(
                "Selector",
                "string",
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
                1,
            ),
        ],
        ("apps", "ReplicaSet") => vec![
            name(),
            c(
                "Desired",
                "integer",
                "Replicas is the number of desired replicas.",
                0,
            ),
            c(
                "Current",
                "integer",
                "Replicas is the most recently observed number of replicas.",
                0,
            ),
            c(
                "Ready",
                "integer",
                "The number of ready replicas for this replica set.",
                0,
            ),
            age(),
            c(
                "Containers",
                "string",
                "Names of each container in the template.",
                1,
            ),
            c(
                "Images",
                "string",
                "Images referenced by each container in the template.",
                1,
            ),
            c(
                "Selector",
                "string",
                "Selector is a label query over pods that should match the replica count.",
                1,
            ),
        ],
        ("apps", "StatefulSet") => vec![
            name(),
            c("Ready", "string", "Number of the pod with ready state", 0),
            age(),
            c(
                "Containers",
                "string",
                "Names of each container in the template.",
                1,
            ),
            c(
                "Images",
                "string",
                "Images referenced by each container in the template.",
                1,
            ),
        ],
        ("apps", "DaemonSet") => vec![
            name(),
            c(
                "Desired",
                "integer",
                "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
                0,
            ),
            c(
                "Current",
                "integer",
                "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
                0,
            ),
            c(
                "Ready",
                "integer",
                "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
                0,
            ),
            c(
                "Up-to-date",
                "integer",
                "The total number of nodes that are running updated daemon pod",
                0,
            ),
            c(
                "Available",
                "integer",
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
                0,
            ),
            c(
                "Node Selector",
                "string",
                "NodeSelector is a selector which must be true for the pod to fit on a node.",
                0,
            ),
            age(),
            c(
                "Containers",
                "string",
                "Names of each container in the template.",
                1,
            ),
            c(
                "Images",
                "string",
                "Images referenced by each container in the template.",
                1,
            ),
            c(
                "Selector",
                "string",
                "A label query over pods that are managed by the daemon set.",
                1,
            ),
        ],
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            vec![name(), c("Created At", "date", AGE_DESC, 0)]
        }
        ("", "Event") | ("events.k8s.io", "Event") => vec![
            c(
                "Last Seen",
                "string",
                "Time when this event was last seen",
                0,
            ),
            c(
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future.",
                0,
            ),
            c(
                "Reason",
                "string",
                "Short, machine understandable string that gives the reason for this event being generated.",
                0,
            ),
            c(
                "Object",
                "string",
                "The object that this event is about.",
                0,
            ),
            c(
                "Subobject",
                "string",
                "The subobject that this event is about.",
                1,
            ),
            c("Source", "string", "The component reporting this event.", 1),
            c(
                "Message",
                "string",
                "A human-readable description of the status of this operation.",
                0,
            ),
            c(
                "First Seen",
                "string",
                "Time when this event was first seen",
                1,
            ),
            c(
                "Count",
                "string",
                "The number of times this event has occurred.",
                1,
            ),
            c("Name", "string", NAME_DESC, 1),
        ],
        ("coordination.k8s.io", "Lease") => vec![
            name(),
            c("Holder", "string", "The holder of the lease", 0),
            age(),
        ],
        ("rbac.authorization.k8s.io", "Role") | ("rbac.authorization.k8s.io", "ClusterRole") => {
            vec![name(), c("Created At", "date", AGE_DESC, 0)]
        }
        ("rbac.authorization.k8s.io", "RoleBinding") => vec![
            name(),
            c("Role", "string", "Role to which the binding refers", 0),
            age(),
            c("Users", "string", "Users in the binding", 1),
            c("Groups", "string", "Groups in the binding", 1),
            c(
                "ServiceAccounts",
                "string",
                "ServiceAccounts in the binding",
                1,
            ),
        ],
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => vec![
            name(),
            c(
                "Role",
                "string",
                "ClusterRole to which the binding refers",
                0,
            ),
            age(),
            c("Users", "string", "Users in the binding", 1),
            c("Groups", "string", "Groups in the binding", 1),
            c(
                "ServiceAccounts",
                "string",
                "ServiceAccounts in the binding",
                1,
            ),
        ],
        ("apiregistration.k8s.io", "APIService") => vec![
            name(),
            c(
                "Service",
                "string",
                "The reference to the service that hosts this API endpoint.",
                0,
            ),
            c(
                "Available",
                "string",
                "Whether this service is available.",
                0,
            ),
            age(),
        ],
        _ => return None,
    };
    Some(cols)
}

fn get<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, k| v.get(*k))
}

fn s<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    get(obj, path).and_then(Value::as_str).unwrap_or_default()
}

fn i(obj: &Value, path: &[&str]) -> i64 {
    get(obj, path).and_then(Value::as_i64).unwrap_or(0)
}

fn len(obj: &Value, path: &[&str]) -> usize {
    match get(obj, path) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// Go's `duration.HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The AGE cell for an RFC 3339 timestamp (`<unknown>` when absent or unparsable, as kubectl).
pub fn age(timestamp: Option<&str>, now: Timestamp) -> String {
    match timestamp.and_then(|t| t.parse::<Timestamp>().ok()) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

fn created_age(obj: &Value, now: Timestamp) -> Value {
    age(
        get(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str),
        now,
    )
    .into()
}

fn name_cell(obj: &Value) -> Value {
    s(obj, &["metadata", "name"]).into()
}

fn containers_images(obj: &Value, template_spec: &[&str]) -> (String, String) {
    let containers = get(obj, template_spec)
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| s(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| s(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// `metav1.FormatLabelSelector` of a LabelSelector object (`app=x,tier in (a,b)`).
fn format_label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = s(e, &["key"]);
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match s(e, &["operator"]) {
                "In" => parts.push(format!("{key} in ({})", values.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
                "Exists" => parts.push(key.to_string()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn map_selector(sel: Option<&Value>) -> String {
    let parts: Vec<String> = sel
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    none_if_empty(parts.join(","))
}

fn service_ports(obj: &Value) -> String {
    let ports = get(obj, &["spec", "ports"]).and_then(Value::as_array);
    let parts: Vec<String> = ports
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let port = i(p, &["port"]);
                    let proto = match s(p, &["protocol"]) {
                        "" => "TCP",
                        other => other,
                    };
                    match i(p, &["nodePort"]) {
                        0 => format!("{port}/{proto}"),
                        np => format!("{port}:{np}/{proto}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    none_if_empty(parts.join(","))
}

fn service_external_ip(obj: &Value) -> String {
    let strings = |path: &[&str]| -> Vec<String> {
        get(obj, path)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let external = strings(&["spec", "externalIPs"]);
    let lb: Vec<String> = get(obj, &["status", "loadBalancer", "ingress"])
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    let ip = s(i, &["ip"]);
                    let host = s(i, &["hostname"]);
                    if !ip.is_empty() {
                        Some(ip.to_string())
                    } else if !host.is_empty() {
                        Some(host.to_string())
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    match s(obj, &["spec", "type"]) {
        "ExternalName" => s(obj, &["spec", "externalName"]).to_string(),
        "LoadBalancer" => {
            let mut all = lb;
            all.extend(external);
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        _ => none_if_empty(external.join(",")),
    }
}

fn pod_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec_containers = len(obj, &["spec", "containers"]);
    let statuses = get(obj, &["status", "containerStatuses"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut ready = 0;
    let mut restarts = 0;
    let mut reason = match s(obj, &["status", "reason"]) {
        "" => s(obj, &["status", "phase"]).to_string(),
        r => r.to_string(),
    };
    let mut last_restart: Option<Timestamp> = None;
    for cs in statuses.iter().rev() {
        restarts += i(cs, &["restartCount"]);
        if let Some(t) = get(cs, &["lastState", "terminated", "finishedAt"])
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<Timestamp>().ok())
        {
            last_restart = Some(last_restart.map_or(t, |l| l.max(t)));
        }
        if let Some(w) = get(cs, &["state", "waiting", "reason"]).and_then(Value::as_str) {
            if !w.is_empty() {
                reason = w.to_string();
            }
        } else if let Some(term) = get(cs, &["state", "terminated"]) {
            reason = match s(term, &["reason"]) {
                "" if get(term, &["signal"]).is_some() => {
                    format!("Signal:{}", i(term, &["signal"]))
                }
                "" => format!("ExitCode:{}", i(term, &["exitCode"])),
                r => r.to_string(),
            };
        } else if get(cs, &["ready"]).and_then(Value::as_bool) == Some(true)
            && get(cs, &["state", "running"]).is_some()
        {
            ready += 1;
        }
    }
    if get(obj, &["metadata", "deletionTimestamp"]).is_some() {
        reason = if s(obj, &["status", "reason"]) == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    if reason.is_empty() {
        reason = "Pending".into();
    }
    let restarts_cell = match last_restart {
        Some(t) if restarts > 0 => {
            format!(
                "{restarts} ({} ago)",
                human_duration(now.as_second() - t.as_second())
            )
        }
        _ => restarts.to_string(),
    };
    let ip = none_if_empty(s(obj, &["status", "podIP"]).to_string());
    let node = none_if_empty(s(obj, &["spec", "nodeName"]).to_string());
    let nominated = none_if_empty(s(obj, &["status", "nominatedNodeName"]).to_string());
    let gates = match get(obj, &["spec", "readinessGates"]).and_then(Value::as_array) {
        Some(g) if !g.is_empty() => {
            let conditions = get(obj, &["status", "conditions"]).and_then(Value::as_array);
            let true_count = g
                .iter()
                .filter(|gate| {
                    let t = s(gate, &["conditionType"]);
                    conditions.is_some_and(|cs| {
                        cs.iter()
                            .any(|c| s(c, &["type"]) == t && s(c, &["status"]) == "True")
                    })
                })
                .count();
            format!("{true_count}/{}", g.len())
        }
        _ => "<none>".into(),
    };
    vec![
        name_cell(obj),
        format!("{ready}/{spec_containers}").into(),
        reason.into(),
        restarts_cell.into(),
        created_age(obj, now),
        ip.into(),
        node.into(),
        nominated.into(),
        gates.into(),
    ]
}

fn event_cells(obj: &Value, now: Timestamp, events_v1: bool) -> Vec<Value> {
    let ts = |path: &[&str]| {
        get(obj, path)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (first, last, count, reason, note, source, regarding) = if events_v1 {
        let last = ts(&["series", "lastObservedTime"])
            .or(ts(&["deprecatedLastTimestamp"]))
            .or(ts(&["eventTime"]))
            .or(ts(&["metadata", "creationTimestamp"]));
        let first = ts(&["deprecatedFirstTimestamp"])
            .or(ts(&["eventTime"]))
            .or(ts(&["metadata", "creationTimestamp"]));
        let count = get(obj, &["series", "count"])
            .or(get(obj, &["deprecatedCount"]))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        (
            first,
            last,
            count,
            s(obj, &["reason"]),
            s(obj, &["note"]),
            s(obj, &["reportingController"]),
            "regarding",
        )
    } else {
        let last = ts(&["series", "lastObservedTime"])
            .or(ts(&["lastTimestamp"]))
            .or(ts(&["eventTime"]))
            .or(ts(&["metadata", "creationTimestamp"]));
        let first = ts(&["firstTimestamp"])
            .or(ts(&["eventTime"]))
            .or(ts(&["metadata", "creationTimestamp"]));
        let count = get(obj, &["series", "count"])
            .or(get(obj, &["count"]))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let source = match s(obj, &["source", "component"]) {
            "" => s(obj, &["reportingComponent"]),
            c => c,
        };
        (
            first,
            last,
            count,
            s(obj, &["reason"]),
            s(obj, &["message"]),
            source,
            "involvedObject",
        )
    };
    let target = get(obj, &[regarding]).cloned().unwrap_or(Value::Null);
    let object = format!(
        "{}/{}",
        s(&target, &["kind"]).to_ascii_lowercase(),
        s(&target, &["name"])
    );
    let mut source_cell = source.to_string();
    let host = s(obj, &["source", "host"]);
    if !host.is_empty() {
        source_cell = format!("{source_cell}, {host}");
    }
    vec![
        age(last, now).into(),
        s(obj, &["type"]).into(),
        reason.into(),
        object.into(),
        s(&target, &["fieldPath"]).into(),
        source_cell.into(),
        note.trim().into(),
        age(first, now).into(),
        count.to_string().into(),
        name_cell(obj),
    ]
}

fn subjects(obj: &Value) -> (String, String, String) {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for sub in get(obj, &["subjects"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match s(sub, &["kind"]) {
            "User" => users.push(s(sub, &["name"]).to_string()),
            "Group" => groups.push(s(sub, &["name"]).to_string()),
            "ServiceAccount" => {
                sas.push(format!("{}/{}", s(sub, &["namespace"]), s(sub, &["name"])))
            }
            _ => {}
        }
    }
    (users.join(", "), groups.join(", "), sas.join(", "))
}

fn created_at(obj: &Value) -> Value {
    get(obj, &["metadata", "creationTimestamp"])
        .cloned()
        .unwrap_or(Value::Null)
}

/// The cells of one object's row, in the order of [`columns`]; `None` for kinds without a
/// dedicated printer.
pub fn cells(gvk: &Gvk, obj: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let row = match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Namespace") => vec![
            name_cell(obj),
            s(obj, &["status", "phase"]).into(),
            created_age(obj, now),
        ],
        ("", "ConfigMap") => vec![
            name_cell(obj),
            json!(len(obj, &["data"]) + len(obj, &["binaryData"])),
            created_age(obj, now),
        ],
        ("", "Secret") => vec![
            name_cell(obj),
            s(obj, &["type"]).into(),
            json!(len(obj, &["data"])),
            created_age(obj, now),
        ],
        ("", "ServiceAccount") => vec![
            name_cell(obj),
            json!(len(obj, &["secrets"])),
            created_age(obj, now),
        ],
        ("", "Service") => vec![
            name_cell(obj),
            s(obj, &["spec", "type"]).into(),
            none_if_empty(s(obj, &["spec", "clusterIP"]).to_string()).into(),
            service_external_ip(obj).into(),
            service_ports(obj).into(),
            created_age(obj, now),
            map_selector(get(obj, &["spec", "selector"])).into(),
        ],
        ("", "Pod") => pod_cells(obj, now),
        ("apps", "Deployment") => {
            let (c, im) = containers_images(obj, &["spec", "template", "spec"]);
            vec![
                name_cell(obj),
                format!(
                    "{}/{}",
                    i(obj, &["status", "readyReplicas"]),
                    i(obj, &["spec", "replicas"])
                )
                .into(),
                json!(i(obj, &["status", "updatedReplicas"])),
                json!(i(obj, &["status", "availableReplicas"])),
                created_age(obj, now),
                c.into(),
                im.into(),
                format_label_selector(get(obj, &["spec", "selector"])).into(),
            ]
        }
        ("apps", "ReplicaSet") => {
            let (c, im) = containers_images(obj, &["spec", "template", "spec"]);
            vec![
                name_cell(obj),
                json!(i(obj, &["spec", "replicas"])),
                json!(i(obj, &["status", "replicas"])),
                json!(i(obj, &["status", "readyReplicas"])),
                created_age(obj, now),
                c.into(),
                im.into(),
                format_label_selector(get(obj, &["spec", "selector"])).into(),
            ]
        }
        ("apps", "StatefulSet") => {
            let (c, im) = containers_images(obj, &["spec", "template", "spec"]);
            vec![
                name_cell(obj),
                format!(
                    "{}/{}",
                    i(obj, &["status", "readyReplicas"]),
                    i(obj, &["spec", "replicas"])
                )
                .into(),
                created_age(obj, now),
                c.into(),
                im.into(),
            ]
        }
        ("apps", "DaemonSet") => {
            let (c, im) = containers_images(obj, &["spec", "template", "spec"]);
            vec![
                name_cell(obj),
                json!(i(obj, &["status", "desiredNumberScheduled"])),
                json!(i(obj, &["status", "currentNumberScheduled"])),
                json!(i(obj, &["status", "numberReady"])),
                json!(i(obj, &["status", "updatedNumberScheduled"])),
                json!(i(obj, &["status", "numberAvailable"])),
                map_selector(get(obj, &["spec", "template", "spec", "nodeSelector"])).into(),
                created_age(obj, now),
                c.into(),
                im.into(),
                format_label_selector(get(obj, &["spec", "selector"])).into(),
            ]
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            vec![name_cell(obj), created_at(obj)]
        }
        ("", "Event") => event_cells(obj, now, false),
        ("events.k8s.io", "Event") => event_cells(obj, now, true),
        ("coordination.k8s.io", "Lease") => vec![
            name_cell(obj),
            s(obj, &["spec", "holderIdentity"]).into(),
            created_age(obj, now),
        ],
        ("rbac.authorization.k8s.io", "Role") | ("rbac.authorization.k8s.io", "ClusterRole") => {
            vec![name_cell(obj), created_at(obj)]
        }
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            let (u, g, sa) = subjects(obj);
            vec![
                name_cell(obj),
                format!(
                    "{}/{}",
                    s(obj, &["roleRef", "kind"]),
                    s(obj, &["roleRef", "name"])
                )
                .into(),
                created_age(obj, now),
                u.into(),
                g.into(),
                sa.into(),
            ]
        }
        ("apiregistration.k8s.io", "APIService") => {
            let svc = get(obj, &["spec", "service"]);
            let service = match svc {
                Some(svc) if !svc.is_null() => {
                    format!("{}/{}", s(svc, &["namespace"]), s(svc, &["name"]))
                }
                _ => "Local".into(),
            };
            let available = get(obj, &["status", "conditions"])
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| s(c, &["type"]) == "Available"))
                .map(|c| match s(c, &["status"]) {
                    "True" => "True".to_string(),
                    st => format!("{st} ({})", s(c, &["reason"])),
                })
                .unwrap_or_else(|| "Unknown".into());
            vec![
                name_cell(obj),
                service.into(),
                available.into(),
                created_age(obj, now),
            ]
        }
        _ => return None,
    };
    Some(row)
}
