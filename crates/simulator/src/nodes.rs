//! The cluster's Nodes: `<cluster>-node-<i>`, labelled like a kubelet labels its Node
//! (`kubernetes.io/os`, `kubernetes.io/arch`, `kubernetes.io/hostname`) plus the cluster's own labels,
//! Ready, with capacity and nodeInfo from this machine. Applied once at start (idempotent); Nodes this
//! simulator made earlier beyond the configured count are removed.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::util;

pub const MANAGER: &str = "marketplace-simulator-nodes";
/// Marks the Nodes this simulator owns (so a smaller count removes the extra ones, nothing else).
pub const OWNED: &str = "simulator.marketplace.io/node";

/// Where each kubelet keeps its Node's heartbeat Lease.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// The kubelet version Nodes report (the Kubernetes release whose API we serve).
pub const KUBELET_VERSION: &str = "v1.33.0";

/// `kubernetes.io/arch` of this machine, in Go's GOARCH spelling.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

pub fn node_name(cluster: &str, i: u32) -> String {
    format!("{cluster}-node-{i}")
}

/// The Node object (metadata and spec) to apply.
pub fn node_object(cluster: &str, i: u32, cluster_labels: &BTreeMap<String, String>) -> Value {
    let name = node_name(cluster, i);
    let mut labels: BTreeMap<String, String> = cluster_labels.clone();
    labels.insert("kubernetes.io/os".into(), "linux".into());
    labels.insert("kubernetes.io/arch".into(), go_arch().into());
    labels.insert("kubernetes.io/hostname".into(), name.clone());
    labels.insert("beta.kubernetes.io/os".into(), "linux".into());
    labels.insert("beta.kubernetes.io/arch".into(), go_arch().into());
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {OWNED: "true"}},
        "spec": {"podCIDR": format!("10.244.{i}.0/24"), "podCIDRs": [format!("10.244.{i}.0/24")]},
    })
}

/// The Node's status: Ready, with this machine's CPUs and memory.
pub fn node_status(cluster: &str, i: u32, now: &str) -> Value {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = memory_kib().map_or_else(|| "8Gi".to_string(), |k| format!("{k}Ki"));
    let capacity = json!({"cpu": cpus.to_string(), "memory": mem, "pods": "110", "ephemeral-storage": "100Gi"});
    let cond = |t: &str, s: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": s, "reason": reason, "message": msg,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name(cluster, i)},
        "status": {
            "capacity": capacity, "allocatable": capacity,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated by marketplace)"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": node_ip(i)},
                {"type": "Hostname", "address": node_name(cluster, i)},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", u128::from(crate::names::fnv32a(cluster.as_bytes())) << 32 | u128::from(i)),
                "systemUUID": format!("{cluster}-{i}"), "bootID": format!("{cluster}-{i}"),
                "kernelVersion": kernel_version(), "osImage": "Marketplace simulated node",
                "containerRuntimeVersion": "marketplace-simulator://0.1.0",
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux", "architecture": go_arch(),
            },
        },
    })
}

/// The node's InternalIP.
pub fn node_ip(i: u32) -> String {
    format!("10.0.{}.{}", i / 250, i % 250 + 2)
}

fn memory_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The heartbeat Lease a kubelet keeps for its Node (`kube-node-lease/<node>`, owned by the
/// Node so that it goes with it), renewed at `now` (RFC 3339 with microseconds, a `MicroTime`).
/// `kubectl describe node` shows it under `Lease:`.
pub fn node_lease(node: &str, node_uid: &str, now: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid}],
        },
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now},
    })
}

/// Applies Nodes 1..=count with their heartbeat Leases (renewed once per start: the simulated
/// nodes do not go away, so nothing watches the heartbeats, and an idle cluster stays idle), and
/// removes Nodes this simulator made beyond `count`.
pub async fn ensure(
    client: &Client,
    cluster: &str,
    labels: &BTreeMap<String, String>,
    count: u32,
) -> Result<(), kube::Error> {
    let api: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let now = util::now();
    let renewed = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string();
    for i in 1..=count {
        let name = node_name(cluster, i);
        let node =
            util::apply_object(&api, MANAGER, &name, &node_object(cluster, i, labels)).await?;
        util::apply_status(&api, MANAGER, &name, &node_status(cluster, i, &now)).await?;
        let lease = node_lease(&name, &node.uid().unwrap_or_default(), &renewed);
        util::apply_object(&leases, MANAGER, &name, &lease).await?;
    }
    let wanted: Vec<String> = (1..=count).map(|i| node_name(cluster, i)).collect();
    for n in api.list(&ListParams::default()).await? {
        if n.annotations().contains_key(OWNED) && !wanted.contains(&n.name_any()) {
            util::delete_ignoring_missing(&api, &n.name_any()).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_lease_is_held_by_its_node_and_owned_by_it() {
        let l = node_lease("edge-node-1", "u-1", "2026-12-07T10:00:00.123456Z");
        assert_eq!(l["metadata"]["namespace"], "kube-node-lease");
        assert_eq!(l["metadata"]["ownerReferences"][0]["uid"], "u-1");
        assert_eq!(l["metadata"]["ownerReferences"][0]["kind"], "Node");
        assert_eq!(l["spec"]["holderIdentity"], "edge-node-1");
        assert_eq!(l["spec"]["leaseDurationSeconds"], 40);
        serde_json::from_value::<Lease>(l).expect("a valid Lease");
    }

    #[test]
    fn nodes_carry_os_arch_hostname_and_the_cluster_labels() {
        let labels = BTreeMap::from([("region".to_string(), "eu".to_string())]);
        let n = node_object("edge", 2, &labels);
        assert_eq!(n["metadata"]["name"], "edge-node-2");
        let l = &n["metadata"]["labels"];
        assert_eq!(l["kubernetes.io/os"], "linux");
        assert_eq!(l["kubernetes.io/hostname"], "edge-node-2");
        assert_eq!(l["region"], "eu");
        assert!(
            ["amd64", "arm64"].contains(&l["kubernetes.io/arch"].as_str().unwrap())
                || !cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
        );
    }

    #[test]
    fn node_status_is_ready_with_capacity_and_node_info() {
        let s = node_status("edge", 1, "T");
        let ready = s["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(s["status"]["capacity"]["pods"], "110");
        assert_eq!(s["status"]["nodeInfo"]["kubeletVersion"], KUBELET_VERSION);
        assert_eq!(s["status"]["nodeInfo"]["architecture"], go_arch());
    }
}
