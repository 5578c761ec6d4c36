//! Conversion of built-in objects between the versions of one resource that are served together.
//!
//! Only autoscaling's HorizontalPodAutoscaler is served at two versions by default (`v2`, the
//! storage version, and `v1`). Its CPU target moves between v1's `targetCPUUtilizationPercentage`
//! and v2's `metrics[]` as kube-apiserver converts it; every other kind (and custom resources,
//! whose conversion strategy is `None`) only gets its `apiVersion` rewritten.

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
    if let Some(m) = obj.as_object_mut() {
        m.insert(
            "apiVersion".into(),
            Value::String(target_api_version.into()),
        );
    }
    obj
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
    fn other_kinds_only_change_api_version() {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"a": 1}});
        let out = convert(obj, "example.com/v2");
        assert_eq!(
            out,
            json!({"apiVersion": "example.com/v2", "kind": "Widget", "spec": {"a": 1}})
        );
    }
}
