//! Defaults kube-apiserver sets on built-in objects at create time (its `SetDefaults_*`
//! functions plus the create strategies of Namespace, Service and Pod), enough for kubectl and
//! kube-rs round trips to look like a real cluster's. Fields already set are never changed.
//!
//! Two things a real cluster allocates are approximated without state: a Service's `clusterIP`
//! is derived from a hash of namespace/name inside 10.96.0.0/12 (skipping .0 and .1), and
//! `nodePort`s from the same hash inside 30000–32767. Collisions are possible but unlikely; the
//! server has no pods or nodes that would route to them anyway.

use serde_json::{Map, Value, json};

use crate::catalogue::Gvk;

/// Fill in the defaults of a built-in kind (fields already set are kept). Unknown kinds and
/// non-object values are left alone.
pub fn apply_defaults(gvk: &Gvk, obj: &mut Value) {
    defaults(gvk, obj, Allocate::Yes);
}

/// [`apply_defaults`] for an object written over a stored one: what the cluster allocated to the
/// stored object (a Service's cluster IP) is not allocated afresh; the write keeps the stored
/// value ([`keep_service_ip`]).
pub fn apply_update_defaults(gvk: &Gvk, obj: &mut Value) {
    defaults(gvk, obj, Allocate::No);
}

/// Whether defaulting allocates a Service's cluster IP.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allocate {
    Yes,
    No,
}

fn defaults(gvk: &Gvk, obj: &mut Value, allocate: Allocate) {
    if !obj.is_object() {
        return;
    }
    match (gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()) {
        ("", "v1", "Namespace") => namespace(obj),
        ("", "v1", "Secret") => {
            set(obj, "type", json!("Opaque"));
            fold_string_data(obj);
        }
        ("", "v1", "Service") => service(obj, allocate),
        ("", "v1", "Pod") => {
            if let Some(spec) = child(obj, "spec") {
                pod_spec(spec);
                pod_service_account(spec);
            }
            pod_status(obj);
        }
        ("apps", "v1", "Deployment") => deployment(obj),
        ("apps", "v1", "ReplicaSet") => {
            let Some(spec) = ensure_object(obj, "spec") else {
                return;
            };
            set(spec, "replicas", json!(1));
            pod_template(spec);
        }
        ("apps", "v1", "StatefulSet") => stateful_set(obj),
        ("apps", "v1", "DaemonSet") => daemon_set(obj),
        ("", "v1", "ReplicationController") => replication_controller(obj),
        ("", "v1", "PodTemplate") => {
            if let Some(pod) = obj.pointer_mut("/template/spec").filter(|v| v.is_object()) {
                pod_spec(pod);
            }
        }
        ("", "v1", "PersistentVolumeClaim") => {
            if let Some(spec) = ensure_object(obj, "spec") {
                set(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = ensure_object(obj, "status") {
                set(status, "phase", json!("Pending"));
            }
        }
        ("", "v1", "PersistentVolume") => {
            if let Some(spec) = ensure_object(obj, "spec") {
                set(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
                set(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = ensure_object(obj, "status") {
                set(status, "phase", json!("Pending"));
            }
        }
        ("", "v1", "Endpoints") => {
            for subset in array_mut(obj, "subsets") {
                tcp_ports(subset);
            }
        }
        ("discovery.k8s.io", "v1", "EndpointSlice") => tcp_ports(obj),
        ("batch", "v1", "Job") => {
            if let Some(spec) = ensure_object(obj, "spec") {
                job_spec(spec);
            }
        }
        ("batch", "v1", "CronJob") => cron_job(obj),
        ("networking.k8s.io", "v1", "NetworkPolicy") => network_policy(obj),
        ("autoscaling", "v2" | "v1", "HorizontalPodAutoscaler") => {
            let v2 = gvk.version == "v2";
            if let Some(spec) = ensure_object(obj, "spec") {
                set(spec, "minReplicas", json!(1));
                if v2
                    && spec
                        .get("metrics")
                        .is_none_or(|m| m.as_array().is_none_or(Vec::is_empty))
                {
                    spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80}}}]);
                }
            }
        }
        (
            "admissionregistration.k8s.io",
            "v1",
            kind @ ("MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"),
        ) => {
            let mutating = kind.starts_with("Mutating");
            for hook in array_mut(obj, "webhooks") {
                webhook(hook, mutating);
            }
        }
        ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy") => {
            if let Some(spec) = ensure_object(obj, "spec") {
                set(spec, "failurePolicy", json!("Fail"));
                if let Some(mc) = ensure_object(spec, "matchConstraints") {
                    match_resources(mc);
                }
            }
        }
        ("scheduling.k8s.io", "v1", "PriorityClass") => {
            set(obj, "preemptionPolicy", json!("PreemptLowerPriority"));
        }
        ("storage.k8s.io", "v1", "StorageClass") => {
            set(obj, "reclaimPolicy", json!("Delete"));
            set(obj, "volumeBindingMode", json!("Immediate"));
        }
        ("storage.k8s.io", "v1", "CSIDriver") => {
            if let Some(spec) = ensure_object(obj, "spec") {
                set(spec, "attachRequired", json!(true));
                set(spec, "podInfoOnMount", json!(false));
                set(spec, "storageCapacity", json!(false));
                set(spec, "requiresRepublish", json!(false));
                set(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
                set(spec, "volumeLifecycleModes", json!(["Persistent"]));
                set(spec, "seLinuxMount", json!(false));
            }
        }
        ("rbac.authorization.k8s.io", "v1", "RoleBinding" | "ClusterRoleBinding") => {
            if let Some(Value::Array(subjects)) = obj.get_mut("subjects") {
                for s in subjects {
                    let api_group = match s.get("kind").and_then(Value::as_str) {
                        Some("User" | "Group") => "rbac.authorization.k8s.io",
                        Some("ServiceAccount") => "",
                        _ => continue,
                    };
                    set(s, "apiGroup", json!(api_group));
                }
            }
        }
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => {
            let Some(spec) = ensure_object(obj, "spec") else {
                return;
            };
            let Some(conversion) = ensure_object(spec, "conversion") else {
                return;
            };
            set(conversion, "strategy", json!("None"));
        }
        _ => {}
    }
}

/// What kube-apiserver's create strategies set once the object has its `uid` and its client-sent
/// status is dropped: a new Pod's `Pending` phase and QoS class, a new PV's or PVC's `Pending`
/// phase, a Job's generated selector and pod labels (`batch.kubernetes.io/controller-uid`).
pub fn prepare_for_create(gvk: &Gvk, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()) {
        ("", "v1", "Pod") => pod_status(obj),
        ("", "v1", "PersistentVolume" | "PersistentVolumeClaim") => {
            if let Some(status) = ensure_object(obj, "status") {
                set(status, "phase", json!("Pending"));
            }
        }
        ("batch", "v1", "Job") => job_selector(obj),
        _ => {}
    }
}

/// How kube-apiserver keeps a built-in kind's `metadata.generation` (its registry strategies'
/// `PrepareForCreate` / `PrepareForUpdate`). Custom resources are always [`Generation::Spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Never set by the server (ConfigMap, Secret, Service, RBAC, …): a value sent on create is
    /// stored as is and then kept.
    Untracked,
    /// 1 on create, +1 when anything but metadata and status changes.
    Spec,
    /// As [`Generation::Spec`], and also when the annotations change (Deployments: their
    /// annotations are copied to their ReplicaSets).
    SpecOrAnnotations,
    /// As [`Generation::Spec`], and also when the labels change (EndpointSlices).
    SpecOrLabels,
    /// 1 on create, never bumped (PriorityClasses: their value cannot change).
    CreateOnly,
}

/// The [`Generation`] policy of a built-in kind.
pub fn generation(gvk: &Gvk) -> Generation {
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("apps", "Deployment") => Generation::SpecOrAnnotations,
        ("discovery.k8s.io", "EndpointSlice") => Generation::SpecOrLabels,
        ("scheduling.k8s.io", "PriorityClass") => Generation::CreateOnly,
        ("", "Pod" | "PodTemplate" | "ReplicationController")
        | ("apps", "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job" | "CronJob")
        | ("policy", "PodDisruptionBudget")
        | ("networking.k8s.io", "NetworkPolicy" | "Ingress" | "IngressClass")
        | (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding",
        )
        | ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
        | ("apiextensions.k8s.io", "CustomResourceDefinition") => Generation::Spec,
        _ => Generation::Untracked,
    }
}

/// Whether a write through `/status` also changes the annotations (kube-apiserver's Deployment
/// status strategy keeps only the old spec and labels: kube-controller-manager writes the
/// `deployment.kubernetes.io/revision` annotation that way, without bumping the generation).
pub fn status_writes_annotations(gvk: &Gvk) -> bool {
    gvk.group == "apps" && gvk.kind == "Deployment"
}

/// `generateSelector` of the Job strategy: unless `manualSelector`, the selector matches the
/// Job's uid and the pod template carries the uid and name labels.
fn job_selector(obj: &mut Value) {
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (Some(uid), Some(name)) = (uid, name) else {
        return;
    };
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    set(
        spec,
        "selector",
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
    let Some(template) = ensure_object(spec, "template") else {
        return;
    };
    let Some(metadata) = ensure_object(template, "metadata") else {
        return;
    };
    let Some(labels) = ensure_object(metadata, "labels") else {
        return;
    };
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        set(labels, k, json!(v));
    }
}

/// Set `key` if absent or null.
/// A Secret's write-only `stringData` goes into `data` (base64), each key overriding `data`'s,
/// and is dropped, as kube-apiserver's conversion does: readers only ever see `data`.
fn fold_string_data(obj: &mut Value) {
    use base64::Engine as _;
    let Some(Value::Object(strings)) = obj.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    let Some(data) = ensure_object(obj, "data") else {
        return;
    };
    for (k, v) in strings {
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        data[k.as_str()] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

fn set(obj: &mut Value, key: &str, value: Value) {
    if let Some(m) = obj.as_object_mut() {
        match m.get(key) {
            Some(v) if !v.is_null() => {}
            _ => {
                m.insert(key.to_string(), value);
            }
        }
    }
}

fn child<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    obj.get_mut(key).filter(|v| v.is_object())
}

/// The object at `key`, created (or replacing null) if absent; `None` if it has another type
/// (a wrong type is the validator's to report, not ours to overwrite).
fn ensure_object<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    set(obj, key, Value::Object(Map::new()));
    obj.as_object_mut()
        .and_then(|m| m.get_mut(key))
        .filter(|v| v.is_object())
}

/// `obj[key]` as an array, made empty if absent; `None` if it is something else (or `obj` is not
/// an object).
fn ensure_array<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
    set(obj, key, Value::Array(Vec::new()));
    obj.get_mut(key).and_then(Value::as_array_mut)
}

fn namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(name) = name {
        let Some(metadata) = ensure_object(obj, "metadata") else {
            return;
        };
        let Some(labels) = ensure_object(metadata, "labels") else {
            return;
        };
        if let Some(m) = labels.as_object_mut() {
            // kube-apiserver always (re)sets this label to the name.
            m.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "finalizers", json!(["kubernetes"]));
    let Some(status) = ensure_object(obj, "status") else {
        return;
    };
    set(status, "phase", json!("Active"));
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A stable address in 10.96.0.0/12 for a Service, never .0 or .1 of the range.
pub fn cluster_ip_for(namespace: &str, name: &str) -> String {
    let size: u64 = 1 << 20;
    let offset = 2 + fnv(&format!("{namespace}/{name}")) % (size - 2);
    let ip = (10u32 << 24) | (96 << 16) | offset as u32;
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 0xff,
        (ip >> 8) & 0xff,
        ip & 0xff
    )
}

/// A Service's allocated addresses on update (kube-apiserver's `patchAllocatedValues`): when the
/// written Service still needs a cluster IP but names none, it keeps the stored one (`clusterIP`
/// and `clusterIPs`), or gets one if it had none (it was an ExternalName). The written object was
/// defaulted by [`apply_update_defaults`], which allocates none.
pub fn keep_service_ip(cur: &Value, new: &mut Value) {
    let needs_ip =
        |svc: &Value| svc.pointer("/spec/type").and_then(Value::as_str) != Some("ExternalName");
    if !needs_ip(new) || new.pointer("/spec/clusterIP").is_some() {
        return;
    }
    let (ip, ips) = match cur.pointer("/spec/clusterIP").filter(|_| needs_ip(cur)) {
        Some(ip) => (
            ip.clone(),
            cur.pointer("/spec/clusterIPs")
                .cloned()
                .unwrap_or_else(|| json!([ip])),
        ),
        None => {
            let meta = |k: &str| {
                new.pointer(&format!("/metadata/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let ip = json!(cluster_ip_for(&meta("namespace"), &meta("name")));
            (ip.clone(), json!([ip]))
        }
    };
    if let Some(spec) = ensure_object(new, "spec").and_then(Value::as_object_mut) {
        spec.insert("clusterIP".into(), ip);
        spec.insert("clusterIPs".into(), ips);
    }
}

fn service(obj: &mut Value, allocate: Allocate) {
    let namespace = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "type", json!("ClusterIP"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    set(spec, "sessionAffinity", json!("None"));
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for (i, p) in ports.iter_mut().enumerate() {
            set(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                set(p, "targetPort", port);
            }
            if ty == "NodePort" || ty == "LoadBalancer" {
                let n = 30000 + fnv(&format!("{namespace}/{name}/{i}")) % 2768;
                set(p, "nodePort", json!(n));
            }
        }
    }
    if ty != "ExternalName" {
        if allocate == Allocate::Yes {
            set(spec, "clusterIP", json!(cluster_ip_for(&namespace, &name)));
        }
        if let Some(ip) = spec.get("clusterIP").cloned() {
            set(spec, "clusterIPs", json!([ip]));
        }
        set(spec, "ipFamilies", json!(["IPv4"]));
        set(spec, "ipFamilyPolicy", json!("SingleStack"));
        set(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        set(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    let Some(status) = ensure_object(obj, "status") else {
        return;
    };
    set(status, "loadBalancer", json!({}));
}

/// `IfNotPresent` unless the image has no tag or the `latest` tag (then `Always`); digests count
/// as pinned.
fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn container(c: &mut Value) {
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    set(c, "imagePullPolicy", json!(image_pull_policy(&image)));
    set(c, "resources", json!({}));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports {
            set(p, "protocol", json!("TCP"));
        }
    }
    if let Some(Value::Array(env)) = c.get_mut("env") {
        for e in env {
            if let Some(field_ref) = e.pointer_mut("/valueFrom/fieldRef") {
                set(field_ref, "apiVersion", json!("v1"));
            }
        }
    }
}

/// The ServiceAccount admission's default (`default`), and the deprecated `serviceAccount`
/// field v1 shows beside `serviceAccountName`.
fn pod_service_account(spec: &mut Value) {
    // v1 conversion: the deprecated field names the account when the new one does not.
    let old = spec
        .get("serviceAccount")
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        .cloned();
    let unnamed = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if let (Some(old), true, Some(m)) = (old, unnamed, spec.as_object_mut()) {
        m.insert("serviceAccountName".into(), old);
    }
    set(spec, "serviceAccountName", json!("default"));
    if let Some(name) = spec.get("serviceAccountName").cloned() {
        set(spec, "serviceAccount", name);
    }
}

/// The DefaultTolerationSeconds admission of a new Pod: it tolerates a `not-ready` and an
/// `unreachable` Node for 300 s (`NoExecute`), unless it already says how long.
pub fn default_toleration_seconds(spec: &mut Value) {
    let Some(list) = ensure_array(spec, "tolerations") else {
        return;
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let covered = list.iter().any(|t| {
            t["key"] == key && matches!(t["effect"].as_str(), None | Some("") | Some("NoExecute"))
        });
        if !covered {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
}

/// Where the ServiceAccount admission mounts a Pod's API credentials.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The ServiceAccount admission's API access volume of a new Pod, named `volume`
/// (`kube-api-access-<5 chars>`): a projected bound token (3607 s), the cluster CA from
/// `kube-root-ca.crt` and the namespace, mounted read-only at [`SERVICE_ACCOUNT_MOUNT_PATH`] in
/// every container and init container that does not mount something there already. Not when
/// `automountServiceAccountToken` is false on the Pod or, when the Pod does not say, on its
/// ServiceAccount (`account_automount`).
pub fn mount_service_account_token(
    spec: &mut Value,
    account_automount: Option<bool>,
    volume: &str,
) {
    let automount = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or(account_automount)
        .unwrap_or(true);
    if !automount {
        return;
    }
    let mount = json!({"name": volume, "mountPath": SERVICE_ACCOUNT_MOUNT_PATH, "readOnly": true});
    let mut mounted = false;
    for key in ["initContainers", "containers"] {
        let Some(Value::Array(cs)) = spec.get_mut(key) else {
            continue;
        };
        for c in cs.iter_mut() {
            let Some(mounts) = ensure_array(c, "volumeMounts") else {
                continue;
            };
            if mounts
                .iter()
                .any(|m| m["mountPath"] == SERVICE_ACCOUNT_MOUNT_PATH)
            {
                continue;
            }
            mounts.push(mount.clone());
            mounted = true;
        }
    }
    if !mounted {
        return;
    }
    let source = json!({
        "name": volume,
        "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace",
                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ]},
    });
    if let Some(volumes) = ensure_array(spec, "volumes") {
        volumes.push(source);
    }
}

/// The ServiceAccount admission gives a new Pod that names no `imagePullSecrets` those of its
/// ServiceAccount (`account`, the stored object), so that a registry login set once on the
/// account reaches every Pod that runs as it.
pub fn inherit_image_pull_secrets(spec: &mut Value, account: Option<&Value>) {
    let Some(Value::Array(secrets)) = account.and_then(|a| a.get("imagePullSecrets")) else {
        return;
    };
    let names: Vec<Value> = secrets
        .iter()
        .filter_map(|s| s.get("name").cloned())
        .map(|name| json!({"name": name}))
        .collect();
    let has_own = matches!(spec.get("imagePullSecrets"), Some(Value::Array(a)) if !a.is_empty());
    if names.is_empty() || has_own {
        return;
    }
    if let Some(m) = spec.as_object_mut() {
        m.insert("imagePullSecrets".into(), Value::Array(names));
    }
}

/// The PriorityClass a Pod's `spec` names, if any.
pub fn priority_class_name(spec: &Value) -> Option<&str> {
    spec.get("priorityClassName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

/// kube-apiserver's Priority admission of a new Pod's `spec`. `class` is the one the caller
/// found: the class [`priority_class_name`] names, or, when the Pod names none, the global
/// default class. It gives `priority` and `preemptionPolicy`; without one, priority 0. A named
/// class that does not exist, or a `priority` / `preemptionPolicy` that contradicts the class, is
/// refused with the message kube-apiserver gives (the caller answers 403 Forbidden).
pub fn admit_pod_priority(spec: &mut Value, class: Option<&Value>) -> Result<(), String> {
    let class_name = priority_class_name(spec).map(str::to_string);
    if let (Some(n), None) = (&class_name, class) {
        return Err(format!("no PriorityClass with name {n} was found"));
    }
    let priority = class
        .and_then(|c| c.get("value"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != priority
    {
        return Err(format!(
            "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        ));
    }
    let policy = class
        .and_then(|c| c.get("preemptionPolicy"))
        .and_then(Value::as_str)
        .unwrap_or("PreemptLowerPriority");
    if let Some(given) = spec.get("preemptionPolicy").and_then(Value::as_str)
        && class.is_some()
        && given != policy
    {
        return Err(format!(
            "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
        ));
    }
    if class_name.is_none()
        && let Some(name) = class.and_then(|c| c.pointer("/metadata/name")).cloned()
    {
        spec["priorityClassName"] = name;
    }
    spec["priority"] = json!(priority);
    set(spec, "preemptionPolicy", json!(policy));
    Ok(())
}

/// PodSpec defaults (`SetDefaults_PodSpec`, `SetDefaults_Container`).
fn pod_spec(spec: &mut Value) {
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "securityContext", json!({}));
    set(spec, "schedulerName", json!("default-scheduler"));
    set(spec, "enableServiceLinks", json!(true));
    for key in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = spec.get_mut(key) {
            cs.iter_mut().for_each(container);
        }
    }
}

/// A Pod spec's QoS class (`Guaranteed`, `Burstable`, `BestEffort`), as kube computes `status.qosClass`.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    let res = |c: &Value, kind: &str, r: &str| {
        c.pointer(&format!("/resources/{kind}/{r}"))
            .map(|v| v.to_string())
    };
    let any = containers.iter().any(|c| {
        ["requests", "limits"].iter().any(|k| {
            c.pointer(&format!("/resources/{k}"))
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        })
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let limit = res(c, "limits", r);
            let request = res(c, "requests", r).or_else(|| limit.clone());
            limit.is_some() && limit == request
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn pod_status(obj: &mut Value) {
    let qos = obj.get("spec").map(qos_class).unwrap_or("BestEffort");
    let Some(status) = ensure_object(obj, "status") else {
        return;
    };
    set(status, "phase", json!("Pending"));
    set(status, "qosClass", json!(qos));
}

fn pod_template(spec: &mut Value) {
    if let Some(template) = child(spec, "template")
        && let Some(pod) = child(template, "spec")
    {
        pod_spec(pod);
    }
}

fn deployment(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    let Some(strategy) = ensure_object(spec, "strategy") else {
        return;
    };
    set(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let Some(ru) = ensure_object(strategy, "rollingUpdate") else {
            return;
        };
        set(ru, "maxUnavailable", json!("25%"));
        set(ru, "maxSurge", json!("25%"));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    pod_template(spec);
}

fn stateful_set(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    set(spec, "podManagementPolicy", json!("OrderedReady"));
    let Some(strategy) = ensure_object(spec, "updateStrategy") else {
        return;
    };
    set(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let Some(ru) = ensure_object(strategy, "rollingUpdate") else {
            return;
        };
        set(ru, "partition", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    set(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    pod_template(spec);
}

fn daemon_set(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    let Some(strategy) = ensure_object(spec, "updateStrategy") else {
        return;
    };
    set(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let Some(ru) = ensure_object(strategy, "rollingUpdate") else {
            return;
        };
        set(ru, "maxUnavailable", json!(1));
        set(ru, "maxSurge", json!(0));
    }
    set(spec, "revisionHistoryLimit", json!(10));
    pod_template(spec);
}

/// The elements of the array at `key` (none if absent or not an array).
fn array_mut<'a>(obj: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// `protocol: TCP` on every entry of `ports`.
fn tcp_ports(obj: &mut Value) {
    for p in array_mut(obj, "ports") {
        set(p, "protocol", json!("TCP"));
    }
}

fn replication_controller(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "replicas", json!(1));
    let labels = spec.pointer("/template/metadata/labels").cloned();
    if let Some(labels) = labels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty())) {
        set(spec, "selector", labels.clone());
        if let Some(metadata) = ensure_object(obj, "metadata") {
            set(metadata, "labels", labels);
        }
    }
    if let Some(spec) = obj.get_mut("spec") {
        pod_template(spec);
    }
}

/// `SetDefaults_Job`: one pod by default, six retries, non-indexed completions.
fn job_spec(spec: &mut Value) {
    if spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null)
    {
        spec["completions"] = json!(1);
    }
    set(spec, "parallelism", json!(1));
    if spec.get("backoffLimitPerIndex").is_none_or(Value::is_null) {
        set(spec, "backoffLimit", json!(6));
    } else {
        set(spec, "backoffLimit", json!(i32::MAX));
    }
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    let pod_failure_policy = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
    set(
        spec,
        "podReplacementPolicy",
        json!(if pod_failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }),
    );
    pod_template(spec);
}

fn cron_job(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    set(spec, "concurrencyPolicy", json!("Allow"));
    set(spec, "suspend", json!(false));
    set(spec, "successfulJobsHistoryLimit", json!(3));
    set(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job) = spec
        .pointer_mut("/jobTemplate/spec")
        .filter(|v| v.is_object())
    {
        job_spec(job);
    }
}

fn network_policy(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    if spec
        .get("policyTypes")
        .is_none_or(|v| v.as_array().is_none_or(Vec::is_empty))
    {
        let egress = spec
            .get("egress")
            .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()));
        spec["policyTypes"] = if egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
    }
    for dir in ["ingress", "egress"] {
        for rule in array_mut(spec, dir) {
            tcp_ports(rule);
        }
    }
}

/// `MatchResources` defaults shared by webhooks and admission policies.
fn match_resources(m: &mut Value) {
    set(m, "namespaceSelector", json!({}));
    set(m, "objectSelector", json!({}));
    set(m, "matchPolicy", json!("Equivalent"));
    for rule in array_mut(m, "resourceRules") {
        set(rule, "scope", json!("*"));
    }
}

fn webhook(hook: &mut Value, mutating: bool) {
    set(hook, "failurePolicy", json!("Fail"));
    set(hook, "matchPolicy", json!("Equivalent"));
    set(hook, "namespaceSelector", json!({}));
    set(hook, "objectSelector", json!({}));
    set(hook, "timeoutSeconds", json!(10));
    if mutating {
        set(hook, "reinvocationPolicy", json!("Never"));
    }
    for rule in array_mut(hook, "rules") {
        set(rule, "scope", json!("*"));
    }
    if let Some(service) = hook
        .pointer_mut("/clientConfig/service")
        .filter(|v| v.is_object())
    {
        set(service, "port", json!(443));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_takes_its_service_accounts_pull_secrets_unless_it_names_its_own() {
        let account = json!({"imagePullSecrets": [{"name": "regcred"}, {"name": "mirror"}]});
        let mut spec = json!({});
        inherit_image_pull_secrets(&mut spec, Some(&account));
        assert_eq!(
            spec["imagePullSecrets"],
            json!([{"name": "regcred"}, {"name": "mirror"}])
        );
        let mut own = json!({"imagePullSecrets": [{"name": "mine"}]});
        inherit_image_pull_secrets(&mut own, Some(&account));
        assert_eq!(own["imagePullSecrets"], json!([{"name": "mine"}]));
        let mut none = json!({});
        inherit_image_pull_secrets(&mut none, Some(&json!({})));
        inherit_image_pull_secrets(&mut none, None);
        assert_eq!(none, json!({}));
    }

    #[test]
    fn the_deprecated_service_account_field_names_the_account_when_the_new_one_does_not() {
        let gvk = Gvk::from_api_version("v1", "Pod");
        let mut pod = json!({"spec": {"serviceAccount": "robot", "containers": []}});
        apply_defaults(&gvk, &mut pod);
        assert_eq!(pod["spec"]["serviceAccountName"], "robot");
        let mut pod = json!({"spec": {"containers": []}});
        apply_defaults(&gvk, &mut pod);
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        assert_eq!(pod["spec"]["serviceAccount"], "default");
    }

    #[test]
    fn a_new_pod_tolerates_unready_and_unreachable_nodes_for_300_s_unless_it_says_otherwise() {
        let mut spec = json!({"tolerations": [{"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]});
        default_toleration_seconds(&mut spec);
        let t = spec["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 10, "its own kept");
        assert_eq!(
            t[1],
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        );
        let mut spec = json!({});
        default_toleration_seconds(&mut spec);
        assert_eq!(spec["tolerations"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_new_pod_gets_its_api_access_volume_mounted_in_each_container_unless_opted_out() {
        let mut spec = json!({"containers": [{"name": "a"}, {"name": "b", "volumeMounts": [
            {"name": "own", "mountPath": SERVICE_ACCOUNT_MOUNT_PATH}]}],
            "initContainers": [{"name": "i"}], "volumes": [{"name": "own", "emptyDir": {}}]});
        mount_service_account_token(&mut spec, None, "kube-api-access-abcde");
        assert_eq!(
            spec["containers"][0]["volumeMounts"],
            json!([{"name": "kube-api-access-abcde", "mountPath": SERVICE_ACCOUNT_MOUNT_PATH, "readOnly": true}])
        );
        assert_eq!(
            spec["containers"][1]["volumeMounts"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "its own mount kept"
        );
        assert_eq!(
            spec["initContainers"][0]["volumeMounts"][0]["name"],
            "kube-api-access-abcde"
        );
        let vols = spec["volumes"].as_array().unwrap();
        assert_eq!(vols.len(), 2);
        assert_eq!(
            vols[1]["projected"]["sources"][0]["serviceAccountToken"]["path"],
            "token"
        );
        assert_eq!(
            vols[1]["projected"]["sources"][1]["configMap"]["name"],
            "kube-root-ca.crt"
        );
        // Opted out on the Pod, or on its ServiceAccount when the Pod does not say.
        for (pod, account) in [(Some(false), None), (None, Some(false))] {
            let mut spec = json!({"containers": [{"name": "a"}]});
            if let Some(p) = pod {
                spec["automountServiceAccountToken"] = json!(p);
            }
            mount_service_account_token(&mut spec, account, "kube-api-access-abcde");
            assert!(
                spec.get("volumes").is_none()
                    && spec["containers"][0].get("volumeMounts").is_none()
            );
        }
    }

    #[test]
    fn priority_admission_takes_the_class_value_or_zero_and_refuses_a_missing_class() {
        let class =
            json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"});
        let mut spec = json!({"priorityClassName": "high", "containers": []});
        admit_pod_priority(&mut spec, Some(&class)).unwrap();
        assert_eq!(
            (spec["priority"].clone(), spec["preemptionPolicy"].clone()),
            (json!(1000), json!("Never"))
        );
        let mut spec = json!({"containers": []});
        admit_pod_priority(&mut spec, None).unwrap();
        assert_eq!(spec["priority"], 0);
        assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
        assert!(spec.get("priorityClassName").is_none());
        // The global default class names itself on Pods without one.
        let mut spec = json!({"containers": []});
        admit_pod_priority(&mut spec, Some(&class)).unwrap();
        assert_eq!(
            (spec["priorityClassName"].clone(), spec["priority"].clone()),
            (json!("high"), json!(1000))
        );
        let mut spec = json!({"priorityClassName": "nope"});
        assert_eq!(
            admit_pod_priority(&mut spec, None).unwrap_err(),
            "no PriorityClass with name nope was found"
        );
        let mut spec = json!({"priorityClassName": "high", "priority": 5});
        assert!(
            admit_pod_priority(&mut spec, Some(&class))
                .unwrap_err()
                .contains(
                    "must not be provided in pod spec; priority admission controller computed 1000"
                )
        );
    }

    fn defaulted(api_version: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(&Gvk::from_api_version(api_version, kind), &mut obj);
        obj
    }

    #[test]
    fn namespace_gets_phase_finalizer_and_name_label() {
        let ns = defaulted("v1", "Namespace", json!({"metadata": {"name": "team-a"}}));
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
    }

    #[test]
    fn deployment_gets_replicas_strategy_limits_and_pod_defaults() {
        let d = defaulted(
            "apps/v1",
            "Deployment",
            json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [
                {"name": "a", "image": "nginx"},
                {"name": "b", "image": "registry:5000/x/nginx:1.27", "ports": [{"containerPort": 80}]},
                {"name": "c", "image": "nginx@sha256:abc", "imagePullPolicy": "Never"}
            ]}}}}),
        );
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["schedulerName"], "default-scheduler");
        let c = &pod["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(c[1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[2]["imagePullPolicy"], "Never", "explicit values are kept");
        assert_eq!(c[0]["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c[0]["terminationMessagePolicy"], "File");
        assert_eq!(c[1]["ports"][0]["protocol"], "TCP");
        // The typed Deployment accepts the result.
        let _: k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(d).unwrap();
    }

    #[test]
    fn explicit_values_and_recreate_strategy_are_respected() {
        let d = defaulted(
            "apps/v1",
            "Deployment",
            json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(d["spec"]["replicas"], 0);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn an_updated_service_naming_no_ip_keeps_the_stored_one() {
        let cur = json!({"metadata": {"namespace": "a", "name": "web"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"]}});
        let mut new =
            json!({"metadata": {"namespace": "a", "name": "web"}, "spec": {"type": "NodePort"}});
        keep_service_ip(&cur, &mut new);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        let mut named = json!({"spec": {"type": "ClusterIP", "clusterIP": "None"}});
        keep_service_ip(&cur, &mut named);
        assert_eq!(
            named["spec"]["clusterIP"], "None",
            "a named IP is left to validation"
        );
        let external = json!({"metadata": {"namespace": "a", "name": "web"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        let mut back =
            json!({"metadata": {"namespace": "a", "name": "web"}, "spec": {"type": "ClusterIP"}});
        keep_service_ip(&external, &mut back);
        assert_eq!(back["spec"]["clusterIP"], json!(cluster_ip_for("a", "web")));
    }

    #[test]
    fn service_gets_type_cluster_ip_and_port_defaults() {
        let s = defaulted(
            "v1",
            "Service",
            json!({"metadata": {"name": "web", "namespace": "default"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        let ip = spec["clusterIP"].as_str().unwrap();
        assert!(ip.starts_with("10."), "{ip}");
        assert_eq!(spec["clusterIPs"], json!([ip]));
        assert_eq!(ip, cluster_ip_for("default", "web"), "stable per service");
        assert_ne!(ip, cluster_ip_for("default", "web2"));
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(spec["sessionAffinity"], "None");
        let headless = defaulted(
            "v1",
            "Service",
            json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}),
        );
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let np = defaulted(
            "v1",
            "Service",
            json!({"metadata": {"name": "n"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        );
        let port = np["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..32768).contains(&port));
        let ext = defaulted(
            "v1",
            "Service",
            json!({"metadata": {"name": "e"}, "spec": {"type": "ExternalName", "externalName": "x.example.com"}}),
        );
        assert!(ext["spec"].get("clusterIP").is_none());
    }

    #[test]
    fn cluster_ips_stay_inside_the_service_range() {
        for i in 0..2000 {
            let ip = cluster_ip_for("ns", &format!("svc-{i}"));
            let octets: Vec<u32> = ip.split('.').map(|o| o.parse().unwrap()).collect();
            assert_eq!(octets[0], 10);
            assert!((96..112).contains(&octets[1]), "{ip}");
            assert_ne!(ip, "10.96.0.1");
            assert_ne!(ip, "10.96.0.0");
        }
    }

    #[test]
    fn a_secrets_string_data_is_folded_into_data_and_dropped() {
        let s = defaulted(
            "v1",
            "Secret",
            json!({"data": {"a": "b2xk", "keep": "eA=="}, "stringData": {"a": "new", "c": "plain"}}),
        );
        assert_eq!(
            s["data"],
            json!({"a": "bmV3", "keep": "eA==", "c": "cGxhaW4="})
        );
        assert!(s.get("stringData").is_none(), "{s}");
        let only = defaulted("v1", "Secret", json!({"stringData": {"k": "v"}}));
        assert_eq!(only["data"], json!({"k": "dg=="}));
    }

    #[test]
    fn secret_pod_bindings_and_sets_get_their_defaults() {
        assert_eq!(defaulted("v1", "Secret", json!({}))["type"], "Opaque");
        assert_eq!(
            defaulted("v1", "Secret", json!({"type": "kubernetes.io/tls"}))["type"],
            "kubernetes.io/tls"
        );
        let pod = defaulted(
            "v1",
            "Pod",
            json!({"spec": {"containers": [{"name": "a", "image": "x:1",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}),
        );
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "Guaranteed"})
        );
        let pod = defaulted(
            "v1",
            "Pod",
            json!({"spec": {"containers": [{"name": "a", "image": "x"}]}}),
        );
        assert_eq!(pod["status"]["qosClass"], "BestEffort");
        let rb = defaulted(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            json!({"subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s", "namespace": "d"}]}),
        );
        assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][1]["apiGroup"], "");
        let sts = defaulted("apps/v1", "StatefulSet", json!({"spec": {}}));
        assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
            0
        );
        let ds = defaulted("apps/v1", "DaemonSet", json!({"spec": {}}));
        assert_eq!(
            ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
            1
        );
        let cm = defaulted("v1", "ConfigMap", json!({"data": {"a": "b"}}));
        assert_eq!(cm, json!({"data": {"a": "b"}}));
        let crd = defaulted(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            json!({"spec": {}}),
        );
        assert_eq!(crd["spec"]["conversion"]["strategy"], "None");
    }

    #[test]
    fn wrongly_typed_fields_are_left_for_validation() {
        let mut d = json!({"spec": "oops"});
        apply_defaults(&Gvk::new("apps", "v1", "Deployment"), &mut d);
        assert_eq!(d, json!({"spec": "oops"}));
    }
}
