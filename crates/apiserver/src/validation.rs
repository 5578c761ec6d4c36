//! kube-apiserver's validation of built-in objects beyond their schema (its `ValidateX` and
//! `ValidateXUpdate` functions), for the rules clients meet most, with kube-apiserver's field paths
//! and wording:
//!
//! - **Pods and pod templates** (Pod, PodTemplate, ReplicationController, the apps workloads, Job,
//!   CronJob): at least one container; every container (init ones too) named with a DNS label,
//!   unique in the Pod; the restart policy a workload's pods may have (`Always` for
//!   Deployments and the like, `OnFailure` or `Never` for Jobs). A Pod's containers need images;
//!   a template's may leave them empty, as in kube.
//! - **Services**: a known type, ports in range with known protocols, several ports named
//!   uniquely, node ports only where the type opens them, an ExternalName's name.
//! - **Workload selectors** (apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet;
//!   ReplicationController): required, not empty, and matching the template's labels; on update
//!   the apps selectors are immutable.
//! - **Immutable specs**: a StatefulSet's spec but for the fields kube lets change; a Job's
//!   selector, template and completion mode; a Pod's spec but for images, `activeDeadlineSeconds`,
//!   added tolerations and removed scheduling gates (ephemeral containers only through
//!   `pods/ephemeralcontainers`, see [`validate_ephemeral_containers_update`]); a
//!   PersistentVolumeClaim's spec but for a bound claim's storage request; a Service's cluster IP
//!   (an update naming none keeps it, see `apiresources::defaults::keep_service_ip`); a ConfigMap's or Secret's data once `immutable` is true; a
//!   Secret's type.
//!
//! Writes through `pods/<name>/resize` have their own rules ([`validate_resize`]).
//!
//! Pure functions over JSON objects (after defaulting); the write path calls [`validate`] on every
//! create and update of a built-in, and [`validate_update`] inside the update's transaction, with
//! the stored object. It must not touch storage or HTTP.

use apimachinery::FieldError;
use apimachinery::labels::Selector;
use apiresources::catalogue::Gvk;
use serde_json::{Value, json};

/// Errors of `obj`, a built-in object of kind `gvk`, on its own (create and update alike).
pub fn validate(gvk: &Gvk, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = &obj["spec"];
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Pod") => pod_spec(spec, "spec", None, &mut errs),
        ("", "Service") => service_spec(spec, &mut errs),
        ("", "PodTemplate") => pod_template(
            &obj["template"],
            "template",
            Some(&["Always", "OnFailure", "Never"]),
            &mut errs,
        ),
        ("", "ReplicationController") => {
            let selector = &spec["selector"];
            if let Some(map) = selector.as_object().filter(|m| !m.is_empty()) {
                let sel = json!({ "matchLabels": map });
                template_matches(&sel, &spec["template"], "spec", &mut errs);
            } else {
                errs.push(FieldError::required("spec.selector", ""));
            }
            pod_template(
                &spec["template"],
                "spec.template",
                Some(&["Always"]),
                &mut errs,
            );
        }
        ("apps", kind @ ("Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")) => {
            match spec.get("selector").filter(|s| !s.is_null()) {
                None => errs.push(FieldError::required("spec.selector", "")),
                Some(sel) if selector_is_empty(sel) => errs.push(FieldError::invalid(
                    "spec.selector",
                    sel.clone(),
                    format!("empty selector is invalid for {}", kind.to_lowercase()),
                )),
                Some(sel) => template_matches(sel, &spec["template"], "spec", &mut errs),
            }
            pod_template(
                &spec["template"],
                "spec.template",
                Some(&["Always"]),
                &mut errs,
            );
        }
        ("batch", "Job") => job_spec(spec, "spec", &mut errs),
        ("batch", "CronJob") => job_spec(
            &spec["jobTemplate"]["spec"],
            "spec.jobTemplate.spec",
            &mut errs,
        ),
        _ => {}
    }
    errs
}

/// A Service's type, its ports (each in range with a known protocol; named, uniquely, when
/// there are several; a node port only for types that open one) and an ExternalName's name.
fn service_spec(spec: &Value, errs: &mut Vec<FieldError>) {
    let ty = spec["type"].as_str().unwrap_or("ClusterIP");
    let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
    if !types.contains(&ty) {
        errs.push(not_one_of("spec.type", ty, &types));
        return;
    }
    let ports = spec["ports"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if ty == "ExternalName" {
        if spec["externalName"].as_str().is_none_or(str::is_empty) {
            errs.push(FieldError::required("spec.externalName", ""));
        }
    } else if ports.is_empty() && spec["clusterIP"] != "None" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        match p["name"].as_str().filter(|n| !n.is_empty()) {
            None if ports.len() > 1 => errs.push(FieldError::required(format!("{at}.name"), "")),
            None => {}
            Some(name) => {
                for msg in apimachinery::meta::is_dns1123_label(name) {
                    errs.push(FieldError::invalid(format!("{at}.name"), json!(name), msg));
                }
                if names.contains(&name) {
                    errs.push(FieldError::duplicate(format!("{at}.name"), json!(name)));
                }
                names.push(name);
            }
        }
        let in_range = |v: &Value| v.as_i64().is_some_and(|n| (1..=65535).contains(&n));
        if !in_range(&p["port"]) {
            errs.push(FieldError::invalid(
                format!("{at}.port"),
                p["port"].clone(),
                "must be between 1 and 65535, inclusive",
            ));
        }
        let protocols = ["TCP", "UDP", "SCTP"];
        if let Some(proto) = p["protocol"].as_str()
            && !protocols.contains(&proto)
        {
            errs.push(not_one_of(&format!("{at}.protocol"), proto, &protocols));
        }
        let node_port = p["nodePort"].as_i64().unwrap_or(0);
        if node_port != 0 && !matches!(ty, "NodePort" | "LoadBalancer") {
            errs.push(FieldError::forbidden(
                format!("{at}.nodePort"),
                format!("may not be used when `type` is '{ty}'"),
            ));
        }
    }
}

/// Errors of an update of `old` into `new` (both stored forms of kind `gvk`): those of [`validate`]
/// that `old` did not have already (an object stored before a rule existed can still have its
/// metadata changed, its finalizers removed), and the fields kube does not let change.
pub fn validate_update(gvk: &Gvk, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = validate(gvk, new);
    if !errs.is_empty() {
        let before = validate(gvk, old);
        errs.retain(|e| !before.contains(e));
    }
    let (o, n) = (&old["spec"], &new["spec"]);
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => {
            immutable(&o["selector"], &n["selector"], "spec.selector", &mut errs);
        }
        ("apps", "StatefulSet") => {
            immutable(&o["selector"], &n["selector"], "spec.selector", &mut errs);
            // Everything but these may not change (kube-apiserver's one Forbidden for them all).
            let mutable = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            if without(o, &mutable) != without(n, &mutable) {
                errs.push(FieldError::forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        ("batch", "Job") => {
            immutable(&o["selector"], &n["selector"], "spec.selector", &mut errs);
            immutable(&o["template"], &n["template"], "spec.template", &mut errs);
            immutable(
                &o["completionMode"],
                &n["completionMode"],
                "spec.completionMode",
                &mut errs,
            );
        }
        ("", "Pod") => pod_update(o, n, &mut errs),
        ("", "PersistentVolumeClaim") => claim_update(old, new, &mut errs),
        ("", "Service") => {
            // A Service keeps its cluster IP while it has one (an ExternalName has none).
            let ips = |svc: &Value| {
                (svc["spec"]["type"] != "ExternalName").then(|| {
                    (
                        svc["spec"]["clusterIP"].clone(),
                        svc["spec"]["clusterIPs"].clone(),
                    )
                })
            };
            if let (Some(was), Some(is)) = (ips(old), ips(new))
                && !was.0.is_null()
                && was != is
            {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    is.1,
                    "may not change once set",
                ));
            }
        }
        ("", "ConfigMap" | "Secret") => {
            if old["immutable"] == json!(true) {
                if new["immutable"] != json!(true) {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
                for field in ["data", "binaryData"] {
                    if old.get(field) != new.get(field) {
                        errs.push(FieldError::forbidden(
                            field,
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
            }
            if gvk.kind == "Secret" {
                immutable(&old["type"], &new["type"], "type", &mut errs);
            }
        }
        _ => {}
    }
    errs
}

/// Errors of a write through `pods/<name>/ephemeralcontainers` (what `kubectl debug` patches), which
/// changes nothing but `spec.ephemeralContainers`: existing ones may be neither changed nor
/// removed; new ones need a unique name and an image, may not have ports, probes, lifecycle hooks
/// or resources, and may only target a container of the Pod.
pub fn validate_ephemeral_containers_update(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    pod_spec(&new["spec"], "spec", None, &mut errs);
    let list = |pod: &Value| {
        pod["spec"]["ephemeralContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (before, after) = (list(old), list(new));
    for was in &before {
        let name = was["name"].as_str().unwrap_or_default();
        match after.iter().find(|c| c["name"] == was["name"]) {
            None => errs.push(FieldError::forbidden(
                "spec.ephemeralContainers",
                format!("existing ephemeral containers {name:?} may not be removed"),
            )),
            Some(now) if now != was => errs.push(FieldError::forbidden(
                "spec.ephemeralContainers",
                format!("existing ephemeral containers {name:?} may not be changed"),
            )),
            Some(_) => {}
        }
    }
    let containers: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|l| new["spec"][*l].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
        .collect();
    for (i, c) in after.iter().enumerate() {
        if before.contains(c) {
            continue;
        }
        let at = format!("spec.ephemeralContainers[{i}]");
        for field in [
            "ports",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
            "resources",
        ] {
            if !is_unset(&c[field]) {
                errs.push(FieldError::forbidden(
                    format!("{at}.{field}"),
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        if let Some(target) = c["targetContainerName"].as_str()
            && !containers.contains(&target)
        {
            errs.push(FieldError::not_found(
                format!("{at}.targetContainerName"),
                json!(target),
            ));
        }
    }
    errs
}

/// Errors of a write through `pods/<name>/resize` (in-place resize, kubectl's
/// `--subresource=resize`), after the write kept nothing but the containers' `resources` and
/// `resizePolicy`: only cpu and memory may change, not those of a non-sidecar init container, and
/// the Pod's QoS class must stay.
pub fn validate_resize(old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let others = |c: &Value| {
        let mut r = c["resources"].clone();
        for kind in ["requests", "limits"] {
            if let Some(m) = r.get_mut(kind).and_then(Value::as_object_mut) {
                m.remove("cpu");
                m.remove("memory");
            }
        }
        r
    };
    for list in ["containers", "initContainers"] {
        let before = old["spec"][list].as_array().cloned().unwrap_or_default();
        let after = new["spec"][list].as_array().cloned().unwrap_or_default();
        for (i, (b, a)) in before.iter().zip(&after).enumerate() {
            let at = format!("spec.{list}[{i}].resources");
            let sidecar = b["restartPolicy"] == "Always";
            if list == "initContainers" && !sidecar && b["resources"] != a["resources"] {
                errs.push(FieldError::forbidden(
                    at,
                    "resources for non-sidecar init containers are immutable",
                ));
            } else if others(b) != others(a) {
                errs.push(FieldError::forbidden(
                    at,
                    "only cpu and memory resources are mutable",
                ));
            }
        }
    }
    let (was, is) = (
        apiresources::defaults::qos_class(&old["spec"]),
        apiresources::defaults::qos_class(&new["spec"]),
    );
    if was != is {
        errs.push(FieldError::invalid(
            "spec",
            json!(is),
            format!("Pod QOS Class may not change as a result of resizing (was {was})"),
        ));
    }
    errs
}

/// The Pod spec fields an update of the Pod itself (not a subresource) may change: container
/// images, `activeDeadlineSeconds`, tolerations by addition, scheduling gates by removal.
fn pod_update(o: &Value, n: &Value, errs: &mut Vec<FieldError>) {
    let rest = |spec: &Value| {
        let mut s = without(
            spec,
            &["activeDeadlineSeconds", "tolerations", "schedulingGates"],
        );
        for list in ["containers", "initContainers"] {
            for c in s[list].as_array_mut().into_iter().flatten() {
                if let Some(c) = c.as_object_mut() {
                    c.remove("image");
                }
            }
        }
        s
    };
    let list = |spec: &Value, key: &str| spec[key].as_array().cloned().unwrap_or_default();
    let (old_tolerations, new_tolerations) = (list(o, "tolerations"), list(n, "tolerations"));
    if rest(o) != rest(n) || old_tolerations.iter().any(|t| !new_tolerations.contains(t)) {
        errs.push(FieldError::forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ));
    }
    let old_gates = list(o, "schedulingGates");
    for gate in list(n, "schedulingGates") {
        if !old_gates.contains(&gate) {
            errs.push(FieldError::forbidden(
                "spec.schedulingGates",
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    gate["name"].as_str().unwrap_or_default()
                ),
            ));
        }
    }
}

/// A claim's spec is fixed at creation but for its storage request (of a bound claim, as a
/// resize) and its volume attributes class; its volume may be set once (by the binder).
fn claim_update(old: &Value, new: &Value, errs: &mut Vec<FieldError>) {
    let bound = old["status"]["phase"] == "Bound";
    let comparable = |spec: &Value| {
        let mut s = without(spec, &["volumeAttributesClassName"]);
        if bound
            && let Some(requests) = s
                .pointer_mut("/resources/requests")
                .and_then(Value::as_object_mut)
        {
            requests.remove("storage");
        }
        s
    };
    let mut before = comparable(&old["spec"]);
    let after = comparable(&new["spec"]);
    if before["volumeName"].as_str().is_none_or(str::is_empty)
        && let (Some(m), Some(volume)) = (before.as_object_mut(), after.get("volumeName"))
    {
        m.insert("volumeName".into(), volume.clone());
    }
    if before != after {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
}

/// `spec` without the keys in `except`.
fn without(spec: &Value, except: &[&str]) -> Value {
    let mut s = spec.clone();
    if let Some(m) = s.as_object_mut() {
        for k in except {
            m.remove(*k);
        }
    }
    s
}

fn immutable(old: &Value, new: &Value, field: &str, errs: &mut Vec<FieldError>) {
    if old != new {
        errs.push(FieldError::invalid(
            field,
            new.clone(),
            "field is immutable",
        ));
    }
}

fn selector_is_empty(sel: &Value) -> bool {
    is_unset(&sel["matchLabels"]) && is_unset(&sel["matchExpressions"])
}

/// Absent, null, or an empty object or list: as a Go field that was not set.
fn is_unset(v: &Value) -> bool {
    v.is_null()
        || v.as_object().is_some_and(|m| m.is_empty())
        || v.as_array().is_some_and(|a| a.is_empty())
}

/// `field` holds `value`, which is none of `valid`.
fn not_one_of(field: &str, value: &str, valid: &[&str]) -> FieldError {
    let valid: Vec<String> = valid.iter().map(|v| v.to_string()).collect();
    FieldError::not_supported(field, json!(value), &valid)
}

/// A workload's selector must select its own template's Pods.
fn template_matches(sel: &Value, template: &Value, spec_path: &str, errs: &mut Vec<FieldError>) {
    let labels = &template["metadata"]["labels"];
    match Selector::from_label_selector(Some(sel)) {
        Err(e) => errs.push(FieldError::invalid(
            format!("{spec_path}.selector"),
            sel.clone(),
            e.to_string(),
        )),
        Ok(s) if !s.matches_labels_value(labels.as_object().map(|_| labels)) => {
            errs.push(FieldError::invalid(
                format!("{spec_path}.template.metadata.labels"),
                labels.clone(),
                "`selector` does not match template `labels`",
            ))
        }
        Ok(_) => {}
    }
}

fn job_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    pod_template(
        &spec["template"],
        &format!("{path}.template"),
        Some(&["OnFailure", "Never"]),
        errs,
    );
}

fn pod_template(
    template: &Value,
    path: &str,
    restart: Option<&[&str]>,
    errs: &mut Vec<FieldError>,
) {
    pod_spec(&template["spec"], &format!("{path}.spec"), restart, errs);
}

/// A Pod spec's containers, and the restart policies its owner allows (`None` for a Pod itself,
/// whose containers must also have images; a template's may leave them to be filled in later).
fn pod_spec(spec: &Value, path: &str, restart: Option<&[&str]>, errs: &mut Vec<FieldError>) {
    let is_pod = restart.is_none();
    let containers = spec["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if containers.is_empty() {
        errs.push(FieldError::required(format!("{path}.containers"), ""));
    }
    let mut names: Vec<&str> = Vec::new();
    for (list, cs) in [
        (
            "initContainers",
            spec["initContainers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ),
        ("containers", containers),
        (
            "ephemeralContainers",
            spec["ephemeralContainers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ),
    ] {
        for (i, c) in cs.iter().enumerate() {
            let at = format!("{path}.{list}[{i}]");
            match c["name"].as_str().filter(|n| !n.is_empty()) {
                None => errs.push(FieldError::required(format!("{at}.name"), "")),
                Some(name) => {
                    for msg in apimachinery::meta::is_dns1123_label(name) {
                        errs.push(FieldError::invalid(format!("{at}.name"), json!(name), msg));
                    }
                    if names.contains(&name) {
                        errs.push(FieldError::duplicate(format!("{at}.name"), json!(name)));
                    }
                    names.push(name);
                }
            }
            if is_pod && c["image"].as_str().is_none_or(|s| s.trim().is_empty()) {
                errs.push(FieldError::required(format!("{at}.image"), ""));
            }
        }
    }
    if let (Some(allowed), Some(policy)) = (restart, spec["restartPolicy"].as_str())
        && !allowed.contains(&policy)
    {
        errs.push(not_one_of(
            &format!("{path}.restartPolicy"),
            policy,
            allowed,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gvk(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "Always",
                "containers": [{"name": "nginx", "image": "nginx"}]}}}})
    }

    /// A valid Deployment selecting its Pods by `app: web`.
    fn web() -> Value {
        deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web"}),
        )
    }

    #[test]
    fn a_workload_selector_must_exist_and_select_its_template() {
        let d = gvk("apps", "v1", "Deployment");
        assert!(validate(&d, &web()).is_empty());
        let errs = messages(&validate(
            &d,
            &deployment(json!({"matchLabels": {"app": "zz"}}), json!({"app": "web"})),
        ));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("spec.template.metadata.labels: Invalid value: ")
                && errs[0].ends_with(": `selector` does not match template `labels`"),
            "{errs:?}"
        );
        let mut missing = deployment(json!(null), json!({"app": "web"}));
        missing["spec"].as_object_mut().unwrap().remove("selector");
        assert_eq!(
            messages(&validate(&d, &missing)),
            ["spec.selector: Required value"]
        );
        let empty = validate(&d, &deployment(json!({}), json!({"app": "web"})));
        assert!(
            empty[0]
                .to_string()
                .ends_with("empty selector is invalid for deployment"),
            "{empty:?}"
        );
    }

    #[test]
    fn pods_need_named_unique_containers_with_images() {
        let p = gvk("", "v1", "Pod");
        let pod = |cs: Value| json!({"metadata": {"name": "p"}, "spec": {"containers": cs}});
        assert_eq!(
            messages(&validate(&p, &pod(json!([])))),
            ["spec.containers: Required value"]
        );
        let errs = messages(&validate(
            &p,
            &pod(
                json!([{"name": "a", "image": "x"}, {"name": "a", "image": ""}, {"image": "y"}, {"name": "Bad_Name", "image": "z"}]),
            ),
        ));
        assert!(
            errs.contains(&"spec.containers[1].name: Duplicate value: \"a\"".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"spec.containers[1].image: Required value".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"spec.containers[2].name: Required value".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.starts_with(
                "spec.containers[3].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label"
            )),
            "{errs:?}"
        );
    }

    #[test]
    fn job_pods_may_not_restart_always_and_deployment_pods_must() {
        let job = json!({"spec": {"template": {"spec": {"restartPolicy": "Always",
            "containers": [{"name": "c", "image": "busybox"}]}}}});
        assert_eq!(
            messages(&validate(&gvk("batch", "v1", "Job"), &job)),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            ]
        );
        let mut d = web();
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            messages(&validate(&gvk("apps", "v1", "Deployment"), &d)),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }

    #[test]
    fn selectors_job_templates_and_statefulset_specs_are_immutable() {
        let d = gvk("apps", "v1", "Deployment");
        let old = web();
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(5);
        assert!(
            validate_update(&d, &old, &new).is_empty(),
            "replicas may change"
        );
        new["spec"]["selector"] = json!({"matchLabels": {"app": "zz"}});
        new["spec"]["template"]["metadata"]["labels"] = json!({"app": "zz"});
        let errs = messages(&validate_update(&d, &old, &new));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("spec.selector: Invalid value: ")
                && errs[0].ends_with(": field is immutable"),
            "{errs:?}"
        );

        let s = gvk("apps", "v1", "StatefulSet");
        let old = json!({"spec": {"serviceName": "a", "replicas": 1, "selector": {"matchLabels": {"a": "b"}}}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        assert!(validate_update(&s, &old, &new).is_empty());
        new["spec"]["serviceName"] = json!("b");
        assert!(messages(&validate_update(&s, &old, &new))[0].starts_with(
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"
        ));

        let j = gvk("batch", "v1", "Job");
        let old =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a"}]}}}});
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("b");
        assert!(
            messages(&validate_update(&j, &old, &new))[0]
                .starts_with("spec.template: Invalid value: ")
        );
    }

    #[test]
    fn a_pod_update_may_change_images_and_add_tolerations_only() {
        let p = gvk("", "v1", "Pod");
        let old = json!({"spec": {"containers": [{"name": "c", "image": "a"}],
            "tolerations": [{"key": "k", "operator": "Exists"}], "schedulingGates": [{"name": "g"}]}});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("b");
        new["spec"]["tolerations"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "k2", "operator": "Exists"}));
        new["spec"]["schedulingGates"] = json!([]);
        new["spec"]["activeDeadlineSeconds"] = json!(30);
        assert!(
            validate_update(&p, &old, &new).is_empty(),
            "{:?}",
            validate_update(&p, &old, &new)
        );
        for change in [
            json!({"nodeName": "n1"}),
            json!({"tolerations": []}),
            json!({"ephemeralContainers": [{"name": "debug", "image": "busybox"}]}),
        ] {
            let mut bad = old.clone();
            for (k, v) in change.as_object().unwrap() {
                bad["spec"][k] = v.clone();
            }
            let errs = messages(&validate_update(&p, &old, &bad));
            assert!(
                errs.len() == 1
                    && errs[0].starts_with("spec: Forbidden: pod updates may not change fields"),
                "{change}: {errs:?}"
            );
        }
        let mut gated = old.clone();
        gated["spec"]["schedulingGates"] = json!([{"name": "g"}, {"name": "h"}]);
        assert_eq!(
            messages(&validate_update(&p, &old, &gated)),
            [
                "spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate 'h'"
            ]
        );
    }

    #[test]
    fn ephemeral_containers_are_added_once_and_never_changed() {
        let pod = |eph: Value| {
            json!({"spec": {"containers": [{"name": "app", "image": "nginx"}],
            "ephemeralContainers": eph}})
        };
        let debugger =
            json!({"name": "debugger", "image": "busybox", "targetContainerName": "app"});
        let none = pod(json!([]));
        let one = pod(json!([debugger.clone()]));
        assert!(validate_ephemeral_containers_update(&none, &one).is_empty());
        let mut changed = debugger.clone();
        changed["image"] = json!("alpine");
        assert_eq!(
            messages(&validate_ephemeral_containers_update(
                &one,
                &pod(json!([changed]))
            ),),
            [
                "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be changed"
            ]
        );
        assert_eq!(
            messages(&validate_ephemeral_containers_update(&one, &none)),
            [
                "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be removed"
            ]
        );
        let bad = json!({"name": "app", "image": "busybox", "ports": [{"containerPort": 80}],
            "targetContainerName": "nope"});
        let errs = messages(&validate_ephemeral_containers_update(
            &none,
            &pod(json!([bad])),
        ));
        assert_eq!(
            errs,
            [
                "spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
                "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
                "spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\"",
            ]
        );
    }

    #[test]
    fn a_claim_grows_only_once_bound_and_gets_its_volume_once() {
        let c = gvk("", "v1", "PersistentVolumeClaim");
        let claim = |storage: &str, volume: &str, phase: &str| {
            json!({"spec": {"accessModes": ["ReadWriteOnce"], "volumeName": volume,
                "resources": {"requests": {"storage": storage}}}, "status": {"phase": phase}})
        };
        let pending = claim("1Gi", "", "Pending");
        assert!(validate_update(&c, &pending, &claim("1Gi", "pv-1", "Pending")).is_empty());
        let refused = messages(&validate_update(&c, &pending, &claim("2Gi", "", "Pending")));
        assert_eq!(
            refused,
            [
                "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
            ]
        );
        let bound = claim("1Gi", "pv-1", "Bound");
        assert!(validate_update(&c, &bound, &claim("2Gi", "pv-1", "Bound")).is_empty());
        assert_eq!(
            validate_update(&c, &bound, &claim("1Gi", "pv-2", "Bound")).len(),
            1
        );
    }

    #[test]
    fn a_resize_changes_cpu_and_memory_within_the_qos_class() {
        let pod = |cpu: &str, gpu: Option<u32>| {
            let mut requests = json!({"cpu": cpu, "memory": "64Mi"});
            if let Some(n) = gpu {
                requests["example.com/gpu"] = json!(n);
            }
            json!({"spec": {"containers": [{"name": "app", "image": "nginx",
                "resources": {"requests": requests}}]}})
        };
        assert!(validate_resize(&pod("100m", None), &pod("200m", None)).is_empty());
        assert_eq!(
            messages(&validate_resize(
                &pod("100m", Some(1)),
                &pod("100m", Some(2))
            )),
            ["spec.containers[0].resources: Forbidden: only cpu and memory resources are mutable"]
        );
        let guaranteed = json!({"spec": {"containers": [{"name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        let mut burstable = guaranteed.clone();
        burstable["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("500m");
        let errs = messages(&validate_resize(&guaranteed, &burstable));
        assert_eq!(
            errs,
            [
                "spec: Invalid value: \"Burstable\": Pod QOS Class may not change as a result of resizing (was Guaranteed)"
            ]
        );
    }

    #[test]
    fn an_update_is_refused_for_what_it_breaks_not_for_what_was_broken() {
        let d = gvk("apps", "v1", "Deployment");
        let good = web();
        let mut broken = good.clone();
        broken["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
        assert_eq!(validate_update(&d, &good, &broken).len(), 1);
        let mut relabelled = broken.clone();
        relabelled["metadata"]["labels"] = json!({"team": "a"});
        assert!(validate_update(&d, &broken, &relabelled).is_empty());
    }

    #[test]
    fn service_ports_are_in_range_named_when_several_and_node_ports_only_where_opened() {
        let s = gvk("", "v1", "Service");
        let svc = |spec: Value| json!({"metadata": {"name": "s"}, "spec": spec});
        let ok = svc(json!({"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}));
        assert!(validate(&s, &ok).is_empty());
        let headless = svc(json!({"type": "ClusterIP", "clusterIP": "None"}));
        assert!(validate(&s, &headless).is_empty());
        assert_eq!(
            messages(&validate(&s, &svc(json!({"type": "ClusterIP"})))),
            ["spec.ports: Required value"]
        );
        let errs = messages(&validate(
            &s,
            &svc(json!({"type": "ClusterIP", "ports": [
                {"name": "web", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"port": 70000, "protocol": "HTTP"}]})),
        ));
        assert_eq!(
            errs,
            [
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                "spec.ports[1].name: Required value",
                "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
            ]
        );
        assert_eq!(
            messages(&validate(&s, &svc(json!({"type": "ExternalName"})))),
            ["spec.externalName: Required value"]
        );
    }

    #[test]
    fn a_service_keeps_its_cluster_ip_until_it_becomes_an_external_name() {
        let s = gvk("", "v1", "Service");
        let svc = |ty: &str, ip: Option<&str>| {
            let mut v = json!({"spec": {"type": ty, "ports": [{"port": 80, "protocol": "TCP"}]}});
            if let Some(ip) = ip {
                v["spec"]["clusterIP"] = json!(ip);
                v["spec"]["clusterIPs"] = json!([ip]);
            }
            v
        };
        let old = svc("ClusterIP", Some("10.96.0.10"));
        assert!(validate_update(&s, &old, &svc("NodePort", Some("10.96.0.10"))).is_empty());
        let errs = messages(&validate_update(
            &s,
            &old,
            &svc("ClusterIP", Some("10.96.0.99")),
        ));
        assert!(
            errs.len() == 1
                && errs[0].starts_with("spec.clusterIPs[0]: Invalid value: ")
                && errs[0].contains("10.96.0.99")
                && errs[0].ends_with(": may not change once set"),
            "{errs:?}"
        );
        let mut external = svc("ExternalName", None);
        external["spec"]["externalName"] = json!("db.example.com");
        assert!(validate_update(&s, &old, &external).is_empty());
        assert!(validate_update(&s, &external, &svc("ClusterIP", Some("10.96.0.77"))).is_empty());
    }

    #[test]
    fn immutable_configmaps_and_secret_types_stay() {
        let c = gvk("", "v1", "ConfigMap");
        let old = json!({"immutable": true, "data": {"a": "1"}});
        assert!(validate_update(&c, &old, &old.clone()).is_empty());
        let errs = messages(&validate_update(
            &c,
            &old,
            &json!({"immutable": true, "data": {"a": "2"}}),
        ));
        assert_eq!(
            errs,
            ["data: Forbidden: field is immutable when `immutable` is set"]
        );
        let errs = messages(&validate_update(&c, &old, &json!({"data": {"a": "1"}})));
        assert_eq!(
            errs,
            ["immutable: Forbidden: field is immutable when `immutable` is set"]
        );
        let mutable = json!({"data": {"a": "1"}});
        assert!(validate_update(&c, &mutable, &json!({"data": {"a": "2"}})).is_empty());
        let s = gvk("", "v1", "Secret");
        let errs = messages(&validate_update(
            &s,
            &json!({"type": "Opaque"}),
            &json!({"type": "kubernetes.io/tls"}),
        ));
        assert_eq!(
            errs,
            ["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
        );
    }
}
