//! Printers of built-in kinds: the columns and cells kube-apiserver's table convertor serves for
//! `kubectl get` (its `pkg/printers/internalversion`), one [`Printer`] per kind, found by
//! [`printer`]. Kinds without one get kube-apiserver's default Name / Created At table.
//!
//! Pure functions over `serde_json::Value`; `now` is always a parameter.

mod cluster;
mod corev1;
mod networking;
mod workloads;

use crate::labels::Selector;
use crate::meta::{Timestamp, format_time, parse_time};
use crate::table::Column;
use serde_json::Value;

/// One column of a built-in printer.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: &'static str,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: i32,
    pub description: &'static str,
}

impl Col {
    pub fn to_column(self) -> Column {
        Column {
            name: self.name.into(),
            type_: self.type_.into(),
            format: if self.name == "Name" && self.priority == 0 {
                "name".into()
            } else {
                String::new()
            },
            description: self.description.into(),
            priority: self.priority,
            json_path: None,
        }
    }
}

/// A column shown always.
pub(crate) const fn c(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        type_: "string",
        priority: 0,
        description,
    }
}

/// An integer column shown always.
pub(crate) const fn n(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        type_: "integer",
        priority: 0,
        description,
    }
}

/// A column shown with `-o wide` only.
pub(crate) const fn w(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        type_: "string",
        priority: 1,
        description,
    }
}

pub(crate) const NAME: Col = c(
    "Name",
    "Name must be unique within a namespace (or the cluster for cluster-scoped kinds).",
);
pub(crate) const AGE: Col = c(
    "Age",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);
pub(crate) const CREATED_AT: Col = Col {
    name: "Created At",
    type_: "date",
    priority: 0,
    description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
};
pub(crate) const CONTAINERS: Col = w("Containers", "Names of each container in the template.");
pub(crate) const IMAGES: Col = w(
    "Images",
    "Images referenced by each container in the template.",
);
pub(crate) const SELECTOR: Col = w("Selector", "Label selector of the objects it manages.");

/// The table printer of one built-in kind.
pub struct Printer {
    pub columns: &'static [Col],
    pub cells: fn(&Value, Timestamp) -> Vec<Value>,
}

/// The printer of a built-in kind, by kind name (the same printer serves every version).
pub fn printer(kind: &str) -> Option<&'static Printer> {
    corev1::printer(kind)
        .or_else(|| workloads::printer(kind))
        .or_else(|| networking::printer(kind))
        .or_else(|| cluster::printer(kind))
}

/// The `Name` cell.
pub(crate) fn name(obj: &Value) -> Value {
    Value::from(s(obj, &["metadata", "name"]))
}

/// The `Age` cell.
pub(crate) fn age(obj: &Value, now: Timestamp) -> Value {
    Value::from(crate::table::age(
        s(obj, &["metadata", "creationTimestamp"]),
        now,
    ))
}

/// The `Created At` cell (RFC 3339).
pub(crate) fn created_at(obj: &Value) -> Value {
    let created = s(obj, &["metadata", "creationTimestamp"]);
    Value::from(parse_time(created).map(format_time).unwrap_or_default())
}

/// The condition of this type in `status.conditions`, if any.
pub(crate) fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    get(obj, &["status", "conditions"])
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|c| s(c, &["type"]) == type_))
}

/// An optional string or `<none>`.
pub(crate) fn s_or_none(obj: &Value, path: &[&str]) -> String {
    or_none(s(obj, path).to_string())
}

/// The length of an array field.
pub(crate) fn count(obj: &Value, path: &[&str]) -> i64 {
    get(obj, path)
        .and_then(Value::as_array)
        .map_or(0, |a| a.len() as i64)
}

/// Items of an array field (empty when absent).
pub(crate) fn items<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    get(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Values joined the way kubectl joins lists, with `+ N more...` after `max` items.
pub(crate) fn join_limited(values: &[String], max: usize) -> String {
    join_limited_with(values, max, ",")
}

/// [`join_limited`] with another separator (HPA targets use `, `).
pub(crate) fn join_limited_with(values: &[String], max: usize, sep: &str) -> String {
    if values.len() > max {
        format!(
            "{} + {} more...",
            values[..max].join(sep),
            values.len() - max
        )
    } else {
        values.join(sep)
    }
}

pub(crate) fn s<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    get(obj, path).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn get<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = obj;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

pub(crate) fn i(obj: &Value, path: &[&str]) -> i64 {
    get(obj, path).and_then(Value::as_i64).unwrap_or(0)
}

pub(crate) fn len_of(obj: &Value, path: &[&str]) -> i64 {
    match get(obj, path) {
        Some(Value::Object(m)) => m.len() as i64,
        Some(Value::Array(a)) => a.len() as i64,
        _ => 0,
    }
}

pub(crate) fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

pub(crate) fn containers_and_images(pod_spec: Option<&Value>) -> (String, String) {
    let list: &[Value] = pod_spec
        .and_then(|p| p.get("containers"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let names: Vec<&str> = list.iter().map(|c| s(c, &["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| s(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

pub(crate) fn format_label_selector(sel: Option<&Value>) -> String {
    match Selector::from_label_selector(sel) {
        Ok(s) if !s.is_nothing() => or_none(s.to_string()),
        Ok(_) => "<none>".into(),
        Err(_) => "<error>".into(),
    }
}

pub(crate) fn format_labels(m: Option<&Value>) -> String {
    let Some(m) = m.and_then(Value::as_object) else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    or_none(pairs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        crate::meta::parse_time("2026-01-01T01:00:00Z").unwrap()
    }

    fn cells(kind: &str, obj: Value) -> Vec<Value> {
        (printer(kind).unwrap().cells)(&obj, now())
    }

    fn headers(kind: &str) -> Vec<&'static str> {
        printer(kind)
            .unwrap()
            .columns
            .iter()
            .filter(|c| c.priority == 0)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn every_printer_has_as_many_cells_as_columns() {
        let obj = json!({"metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"}});
        for kind in [
            "Namespace",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "Service",
            "Pod",
            "Event",
            "Endpoints",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "ResourceQuota",
            "ReplicationController",
            "PodTemplate",
            "ComponentStatus",
            "LimitRange",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "ControllerRevision",
            "Job",
            "CronJob",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "Ingress",
            "IngressClass",
            "NetworkPolicy",
            "EndpointSlice",
            "IPAddress",
            "ServiceCIDR",
            "RoleBinding",
            "ClusterRole",
            "APIService",
            "Lease",
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "VolumeAttachment",
            "PriorityClass",
            "RuntimeClass",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "FlowSchema",
            "PriorityLevelConfiguration",
            "CertificateSigningRequest",
        ] {
            let p = printer(kind).unwrap_or_else(|| panic!("no printer for {kind}"));
            assert_eq!(p.columns.len(), (p.cells)(&obj, now()).len(), "{kind}");
        }
    }

    #[test]
    fn job_rows_show_status_completions_and_duration_as_kubectl() {
        assert_eq!(
            headers("Job"),
            ["Name", "Status", "Completions", "Duration", "Age"]
        );
        let done = cells(
            "Job",
            json!({"metadata": {"name": "pi", "creationTimestamp": "2026-01-01T00:00:00Z"},
                   "spec": {"completions": 3},
                   "status": {"succeeded": 3, "startTime": "2026-01-01T00:00:00Z",
                              "completionTime": "2026-01-01T00:00:42Z",
                              "conditions": [{"type": "Complete", "status": "True"}]}}),
        );
        assert_eq!(
            &done[..4],
            [json!("pi"), json!("Complete"), json!("3/3"), json!("42s")]
        );
        let running = cells(
            "Job",
            json!({"metadata": {"name": "p"}, "spec": {"parallelism": 2},
                   "status": {"startTime": "2026-01-01T00:59:00Z"}}),
        );
        assert_eq!(
            &running[1..4],
            [json!("Running"), json!("0/1 of 2"), json!("60s")]
        );
    }

    #[test]
    fn ingress_pvc_and_hpa_rows() {
        let ing = cells(
            "Ingress",
            json!({"metadata": {"name": "web"},
                   "spec": {"ingressClassName": "nginx", "tls": [{}],
                            "rules": [{"host": "a.example"}, {"host": "b.example"}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}}),
        );
        assert_eq!(
            &ing[..5],
            [
                json!("web"),
                json!("nginx"),
                json!("a.example,b.example"),
                json!("10.0.0.1"),
                json!("80, 443")
            ]
        );
        let pvc = cells(
            "PersistentVolumeClaim",
            json!({"metadata": {"name": "data"},
                   "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
                   "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                              "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"]}}),
        );
        assert_eq!(
            &pvc[..7],
            [
                json!("data"),
                json!("Bound"),
                json!("pv-1"),
                json!("1Gi"),
                json!("RWO,RWOP"),
                json!("standard"),
                json!("<unset>")
            ]
        );
        let hpa = cells(
            "HorizontalPodAutoscaler",
            json!({"metadata": {"name": "web"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 80}}}]},
                   "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource",
                       "resource": {"name": "cpu", "current": {"averageUtilization": 35}}}]}}),
        );
        assert_eq!(
            &hpa[..6],
            [
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 35%/80%"),
                json!("1"),
                json!(5),
                json!(2)
            ]
        );
    }

    #[test]
    fn storage_class_marks_the_default_and_fills_kube_apiserver_defaults() {
        let sc = cells(
            "StorageClass",
            json!({"metadata": {"name": "standard", "annotations":
                       {"storageclass.kubernetes.io/is-default-class": "true"}},
                   "provisioner": "rancher.io/local-path"}),
        );
        assert_eq!(
            &sc[..5],
            [
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ]
        );
    }
}
