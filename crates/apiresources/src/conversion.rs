//! Conversion of built-in objects between the versions of one resource that are served together.
//!
//! - autoscaling's HorizontalPodAutoscaler is served at two versions (`v2`, the storage version,
//!   and `v1`). Its CPU target moves between v1's `targetCPUUtilizationPercentage` and v2's
//!   `metrics[]` as kube-apiserver converts it.
//! - Events: core/v1 `events` and `events.k8s.io/v1` `events` are one set of objects, stored in
//!   core/v1's form (see `catalogue::shared_storage`). Fields are renamed as kube-apiserver's
//!   conversion does (`note`↔`message`, `regarding`↔`involvedObject`, ...; [`EVENT_FIELDS`]), and
//!   events.k8s.io field selectors are translated to core/v1's ([`event_field_label`]).
//!
//! Every other kind (and custom resources, whose conversion strategy is `None`) only gets its
//! `apiVersion` rewritten.

use serde_json::{Map, Value, json};

/// `obj` as `target_api_version` (`autoscaling/v1`, `apps/v1`, ...).
pub fn convert(mut obj: Value, target_api_version: &str) -> Value {
    let str_of = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    // Only an HPA's shape changes; everything else (every object of every list) skips this.
    if str_of("kind") == "HorizontalPodAutoscaler" {
        match (str_of("apiVersion"), target_api_version) {
            ("autoscaling/v1", "autoscaling/v2") => hpa_v1_to_v2(&mut obj),
            ("autoscaling/v2", "autoscaling/v1") => hpa_v2_to_v1(&mut obj),
            _ => {}
        }
    }
    let str_of = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    if str_of("kind") == "Event" {
        match (str_of("apiVersion"), target_api_version) {
            ("v1", "events.k8s.io/v1") => rename_event_fields(&mut obj, false),
            ("events.k8s.io/v1", "v1") => rename_event_fields(&mut obj, true),
            _ => {}
        }
    }
    if let Some(m) = obj.as_object_mut() {
        m.insert(
            "apiVersion".into(),
            Value::String(target_api_version.into()),
        );
    }
    obj
}

/// core/v1 Event field ↔ events.k8s.io/v1 Event field, for the fields whose names differ
/// (`related`, `series`, `eventTime`, `action`, `reason`, `type` and `reportingInstance` are
/// spelled alike).
pub const EVENT_FIELDS: [(&str, &str); 7] = [
    ("message", "note"),
    ("involvedObject", "regarding"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// Renames an Event's top-level fields from core/v1 to events.k8s.io/v1 (`to_core`: the reverse).
fn rename_event_fields(obj: &mut Value, to_core: bool) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    for (core, events) in EVENT_FIELDS {
        let (from, to) = if to_core {
            (events, core)
        } else {
            (core, events)
        };
        if let Some(v) = m.remove(from) {
            m.insert(to.into(), v);
        }
    }
}

/// A field label of `events.k8s.io` Events as the core/v1 label it selects on (the stored form),
/// as kube-apiserver's field label conversion: `regarding.name` → `involvedObject.name`,
/// `reportingController` → `reportingComponent`. `None`: not a field label of events.k8s.io/v1.
pub fn event_field_label(label: &str) -> Option<String> {
    const SAME: [&str; 4] = ["metadata.name", "metadata.namespace", "reason", "type"];
    const REGARDING: [&str; 7] = [
        "kind",
        "namespace",
        "name",
        "uid",
        "apiVersion",
        "resourceVersion",
        "fieldPath",
    ];
    if SAME.contains(&label) {
        return Some(label.to_string());
    }
    if label == "reportingController" {
        return Some("reportingComponent".into());
    }
    label
        .strip_prefix("regarding.")
        .filter(|f| REGARDING.contains(f))
        .map(|f| format!("involvedObject.{f}"))
}

fn cpu_metric(target_percent: &Value) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": target_percent}}})
}

fn hpa_v1_to_v2(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(pct) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert("metrics".into(), json!([cpu_metric(&pct)]));
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        if let Some(pct) = status.remove("currentCPUUtilizationPercentage") {
            status.insert(
                "currentMetrics".into(),
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": pct}}}]),
            );
        }
        status.entry("desiredReplicas").or_insert(json!(0));
    }
}

/// The CPU utilization target of a v2 metric list, if it has one.
fn cpu_utilization(metrics: &[Value], side: &str, field: &str) -> Option<Value> {
    metrics.iter().find_map(|m| {
        let r = m.get("resource")?;
        (m.get("type")?.as_str()? == "Resource" && r.get("name")?.as_str()? == "cpu")
            .then(|| r.get(side)?.get(field).cloned())
            .flatten()
    })
}

fn hpa_v2_to_v1(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        let metrics = take_array(spec, "metrics");
        if let Some(pct) = cpu_utilization(&metrics, "target", "averageUtilization") {
            spec.insert("targetCPUUtilizationPercentage".into(), pct);
        }
        spec.remove("behavior");
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        let current = take_array(status, "currentMetrics");
        if let Some(pct) = cpu_utilization(&current, "current", "averageUtilization") {
            status.insert("currentCPUUtilizationPercentage".into(), pct);
        }
        status.remove("conditions");
    }
}

fn take_array(m: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match m.remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpa_cpu_target_survives_a_round_trip_through_v2() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                     "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70}});
        let v2 = convert(v1.clone(), "autoscaling/v2");
        assert_eq!(v2["apiVersion"], "autoscaling/v2");
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            70
        );
        assert!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());
        let back = convert(v2, "autoscaling/v1");
        assert_eq!(back, v1);
    }

    #[test]
    fn events_convert_between_core_v1_and_events_k8s_io_and_back() {
        let core = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"},
            "reason": "Started", "message": "Started container web", "type": "Normal",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z",
            "count": 3, "reportingComponent": "kubelet", "reportingInstance": "node-1",
            "action": "Start", "related": {"kind": "Node", "name": "node-1"},
            "eventTime": null, "series": {"count": 3, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}});
        let ev = convert(core.clone(), "events.k8s.io/v1");
        assert_eq!(ev["apiVersion"], "events.k8s.io/v1");
        assert_eq!(ev["note"], "Started container web");
        assert_eq!(ev["regarding"]["name"], "web");
        assert_eq!(ev["reportingController"], "kubelet");
        assert_eq!(ev["deprecatedSource"]["host"], "node-1");
        assert_eq!(ev["deprecatedFirstTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(ev["deprecatedLastTimestamp"], "2026-01-01T00:01:00Z");
        assert_eq!(ev["deprecatedCount"], 3);
        assert_eq!(ev["related"]["kind"], "Node");
        assert_eq!(ev["series"]["count"], 3);
        for core_only in [
            "message",
            "involvedObject",
            "source",
            "count",
            "reportingComponent",
        ] {
            assert!(ev.get(core_only).is_none(), "{core_only} left in {ev}");
        }
        assert_eq!(convert(ev, "v1"), core);
    }

    #[test]
    fn events_k8s_io_field_labels_select_on_the_core_fields() {
        assert_eq!(
            event_field_label("regarding.name").as_deref(),
            Some("involvedObject.name")
        );
        assert_eq!(
            event_field_label("reportingController").as_deref(),
            Some("reportingComponent")
        );
        assert_eq!(event_field_label("type").as_deref(), Some("type"));
        assert_eq!(event_field_label("involvedObject.name"), None);
        assert_eq!(event_field_label("regarding.labels"), None);
    }

    #[test]
    fn other_kinds_only_change_api_version() {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"a": 1}});
        let out = convert(obj, "example.com/v2");
        assert_eq!(
            out,
            json!({"apiVersion": "example.com/v2", "kind": "Widget", "spec": {"a": 1}})
        );
    }
}
