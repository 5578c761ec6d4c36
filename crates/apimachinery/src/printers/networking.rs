//! Printers of networking.k8s.io/v1 and discovery.k8s.io/v1 kinds.

use super::*;
use serde_json::json;

pub(super) fn printer(kind: &str) -> Option<&'static Printer> {
    Some(match kind {
        "Ingress" => &INGRESS,
        "IngressClass" => &INGRESS_CLASS,
        "NetworkPolicy" => &NETWORK_POLICY,
        "EndpointSlice" => &ENDPOINT_SLICE,
        "IPAddress" => &IP_ADDRESS,
        "ServiceCIDR" => &SERVICE_CIDR,
        _ => return None,
    })
}

static INGRESS: Printer = Printer {
    columns: &[
        NAME,
        c("Class", "The name of the IngressClass resource."),
        c("Hosts", "Hosts that incoming requests are mapped to."),
        c(
            "Address",
            "Address is a list containing ingress points for the load-balancer",
        ),
        c("Ports", "Ports of TLS configurations that open"),
        AGE,
    ],
    cells: |o, now| {
        let hosts: Vec<String> = items(o, &["spec", "rules"])
            .iter()
            .map(|r| s(r, &["host"]).to_string())
            .filter(|h| !h.is_empty())
            .collect();
        let hosts = if hosts.is_empty() {
            "*".to_string()
        } else {
            join_limited(&hosts, 3)
        };
        let addresses: Vec<String> = items(o, &["status", "loadBalancer", "ingress"])
            .iter()
            .map(|a| {
                let ip = s(a, &["ip"]);
                if ip.is_empty() {
                    s(a, &["hostname"]).to_string()
                } else {
                    ip.to_string()
                }
            })
            .filter(|a| !a.is_empty())
            .collect();
        let ports = if count(o, &["spec", "tls"]) > 0 {
            "80, 443"
        } else {
            "80"
        };
        vec![
            name(o),
            json!(s_or_none(o, &["spec", "ingressClassName"])),
            json!(hosts),
            json!(addresses.join(",")),
            json!(ports),
            age(o, now),
        ]
    },
};

static INGRESS_CLASS: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Controller",
            "Controller that is responsible for handling this class",
        ),
        c(
            "Parameters",
            "A reference to a resource with additional parameters",
        ),
        AGE,
    ],
    cells: |o, now| {
        let parameters = match get(o, &["spec", "parameters"]) {
            Some(p) if p.is_object() => {
                let group = s(p, &["apiGroup"]);
                let kind = s(p, &["kind"]);
                let kind = if group.is_empty() {
                    kind.to_string()
                } else {
                    format!("{kind}.{group}")
                };
                format!("{kind}/{}", s(p, &["name"]))
            }
            _ => "<none>".into(),
        };
        vec![
            name(o),
            json!(s(o, &["spec", "controller"])),
            json!(parameters),
            age(o, now),
        ]
    },
};

static NETWORK_POLICY: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Pod-Selector",
            "Selects the pods to which this NetworkPolicy object applies.",
        ),
        AGE,
    ],
    cells: |o, now| {
        vec![
            name(o),
            json!(format_label_selector(get(o, &["spec", "podSelector"]))),
            age(o, now),
        ]
    },
};

static ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        NAME,
        c("AddressType", "The IP protocol for this slice"),
        c("Ports", "The ports for this slice"),
        c("Endpoints", "The endpoints for this slice"),
        AGE,
    ],
    cells: |o, now| {
        let ports = items(o, &["ports"]);
        let ports = if ports.is_empty() {
            "<unset>".to_string()
        } else {
            ports
                .iter()
                .map(|p| match get(p, &["port"]).and_then(Value::as_i64) {
                    Some(n) => n.to_string(),
                    None => "<unset>".to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let addresses: Vec<String> = items(o, &["endpoints"])
            .iter()
            .flat_map(|e| items(e, &["addresses"]).iter())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let endpoints = if addresses.is_empty() {
            "<unset>".to_string()
        } else {
            join_limited(&addresses, 3)
        };
        vec![
            name(o),
            json!(s(o, &["addressType"])),
            json!(ports),
            json!(endpoints),
            age(o, now),
        ]
    },
};

static IP_ADDRESS: Printer = Printer {
    columns: &[
        NAME,
        c(
            "ParentRef",
            "ParentRef references the resource (usually a Service) that this IPAddress is attached to.",
        ),
    ],
    cells: |o, _| {
        let parent = match get(o, &["spec", "parentRef"]) {
            Some(p) if p.is_object() => {
                let group = s(p, &["group"]);
                let resource = if group.is_empty() {
                    s(p, &["resource"]).to_string()
                } else {
                    format!("{}.{group}", s(p, &["resource"]))
                };
                let ns = s(p, &["namespace"]);
                if ns.is_empty() {
                    format!("{resource}/{}", s(p, &["name"]))
                } else {
                    format!("{resource}/{ns}/{}", s(p, &["name"]))
                }
            }
            _ => "<none>".into(),
        };
        vec![name(o), json!(parent)]
    },
};

static SERVICE_CIDR: Printer = Printer {
    columns: &[
        NAME,
        c(
            "CIDRs",
            "CIDRs defines the IP blocks in CIDR notation from which to assign service cluster IPs.",
        ),
        AGE,
    ],
    cells: |o, now| {
        let cidrs: Vec<&str> = items(o, &["spec", "cidrs"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        vec![name(o), json!(cidrs.join(",")), age(o, now)]
    },
};
