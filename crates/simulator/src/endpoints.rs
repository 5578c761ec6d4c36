//! The endpoints and EndpointSlice controllers: for every Service with a selector, the Endpoints
//! of the same name and one EndpointSlice list the Pods it selects that have an IP — Ready ones as
//! `addresses` (`ready: true`), the others as `notReadyAddresses` (`ready: false`) — with the
//! Service's ports resolved against each Pod's container ports (a named `targetPort` looks up the
//! container port of that name; a Pod without it is left out of that port, as
//! kube-controller-manager does). Services without a selector keep the Endpoints their users write.
//!
//! [`desired`] is the pure part: Service + Pods → the two objects. The reconcile applies them
//! (server-side apply, one manager each), skipping a write when nothing changed since the last
//! one; the Endpoints of a deleted Service are deleted with it ([`forget`]), the slice goes with
//! its ownerReference.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use crate::{Ctx, Error, names, util};

pub const ENDPOINTS_MANAGER: &str = "endpoint-controller";
pub const SLICE_MANAGER: &str = "endpointslice-controller";
/// The `endpointslice.kubernetes.io/managed-by` value of the slices this controller keeps.
pub const SLICE_MANAGED_BY: &str = "endpointslice-controller.k8s.io";

/// What was last applied per Service (`namespace/name`), so an unchanged result is not written.
#[derive(Default)]
pub struct Written(Mutex<HashMap<String, (Value, Value)>>);

impl Written {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Value, Value)>> {
        self.0.lock().expect("endpoints cache")
    }

    /// Whether the Service `key` was last written as exactly these objects.
    fn unchanged(&self, key: &str, endpoints: &Value, slice: &Value) -> bool {
        self.entries()
            .get(key)
            .is_some_and(|(e, s)| e == endpoints && s == slice)
    }

    /// Notes what was just applied for the Service `key`.
    fn record(&self, key: String, endpoints: Value, slice: Value) {
        self.entries().insert(key, (endpoints, slice));
    }

    /// Forgets the Service `key`; whether anything was written for it.
    fn forget(&self, key: &str) -> bool {
        self.entries().remove(key).is_some()
    }

    /// The Services of namespace `ns` whose last written slice lists the Pod `pod`.
    fn listing(&self, ns: &str, pod: &str) -> Vec<String> {
        self.entries()
            .iter()
            .filter(|(_, (_, slice))| {
                slice["endpoints"]
                    .as_array()
                    .is_some_and(|eps| eps.iter().any(|e| e["targetRef"]["name"] == pod))
            })
            .filter_map(|(key, _)| key.split_once('/'))
            .filter(|(sns, _)| *sns == ns)
            .map(|(_, name)| name.to_string())
            .collect()
    }
}

/// The EndpointSlice's name: `<service>-<5 chars>`, derived from the Service's uid (a restarted
/// controller finds the slice it made instead of making a second).
pub fn slice_name(service: &str, uid: &str) -> String {
    names::pod_name(service, uid, 0)
}

/// The Endpoints and EndpointSlice a Service with a selector has, given the Pods of its
/// namespace; `None` for a Service without a selector (or an ExternalName one).
pub fn desired(svc: &Service, pods: &[Arc<Pod>]) -> Option<(Value, Value)> {
    let spec = svc.spec.as_ref()?;
    let selector = spec.selector.as_ref().filter(|s| !s.is_empty())?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let (ns, name) = (svc.namespace().unwrap_or_default(), svc.name_any());
    let mut selected: Vec<&Arc<Pod>> = pods
        .iter()
        .filter(|p| p.namespace().as_deref() == Some(ns.as_str()))
        .filter(|p| util::selector_matches(selector, p.labels()))
        .filter(|p| p.metadata.deletion_timestamp.is_none() && util::pod_active(p))
        .filter(|p| pod_ip(p).is_some())
        .collect();
    selected.sort_by_key(|p| p.name_any());
    // Endpoints group addresses by the ports they resolve to (one subset per port set).
    let mut subsets: BTreeMap<String, Subset> = BTreeMap::new();
    let mut slice_endpoints = Vec::new();
    let mut slice_ports: Option<Vec<Value>> = None;
    for p in &selected {
        let ports = resolved_ports(spec.ports.as_deref().unwrap_or_default(), p);
        let ip = pod_ip(p).unwrap_or_default();
        let ready = util::pod_ready(p);
        let target = json!({"kind": "Pod", "name": p.name_any(), "namespace": ns, "uid": p.uid()});
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        let mut address = json!({"ip": ip, "targetRef": target});
        if let Some(n) = &node {
            address["nodeName"] = json!(n);
        }
        let entry = subsets
            .entry(serde_json::to_string(&ports).unwrap_or_default())
            .or_insert_with(|| Subset {
                ports: ports.clone(),
                ..Default::default()
            });
        if ready {
            &mut entry.ready
        } else {
            &mut entry.not_ready
        }
        .push(address);
        let mut endpoint = json!({
            "addresses": [ip],
            "conditions": {"ready": ready, "serving": ready, "terminating": false},
            "targetRef": target,
        });
        if let Some(n) = node {
            endpoint["nodeName"] = json!(n);
        }
        slice_endpoints.push(endpoint);
        slice_ports.get_or_insert(ports);
    }
    let subsets: Vec<Value> = subsets
        .into_values()
        .filter(|sub| !sub.ports.is_empty())
        .map(|sub| {
            let mut s = json!({"ports": sub.ports});
            if !sub.ready.is_empty() {
                s["addresses"] = json!(sub.ready);
            }
            if !sub.not_ready.is_empty() {
                s["notReadyAddresses"] = json!(sub.not_ready);
            }
            s
        })
        .collect();
    let labels = svc.labels().clone();
    let mut endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
    });
    if spec.cluster_ip.as_deref() == Some("None") {
        endpoints["metadata"]["labels"]["service.kubernetes.io/headless"] = json!("");
    }
    if !subsets.is_empty() {
        endpoints["subsets"] = json!(subsets);
    }
    let mut slice_labels = labels;
    slice_labels.insert("kubernetes.io/service-name".into(), name.clone());
    slice_labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        SLICE_MANAGED_BY.into(),
    );
    let family = spec
        .ip_families
        .as_ref()
        .and_then(|f| f.first().cloned())
        .unwrap_or_else(|| "IPv4".into());
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": slice_name(&name, &svc.uid().unwrap_or_default()), "namespace": ns,
            "labels": slice_labels, "ownerReferences": [util::controller_ref(svc)],
        },
        "addressType": family,
        "endpoints": slice_endpoints,
        "ports": named(slice_ports.unwrap_or_else(|| slice_ports_of_service(spec.ports.as_deref().unwrap_or_default()))),
    });
    Some((endpoints, slice))
}

/// A slice's ports always carry a name, `""` for an unnamed Service port, as the
/// EndpointSlice controller writes them (`kubectl describe service` dereferences it).
fn named(mut ports: Vec<Value>) -> Vec<Value> {
    for p in &mut ports {
        if p.get("name").is_none() {
            p["name"] = json!("");
        }
    }
    ports
}

/// One subset of an Endpoints: the addresses that resolve to the same ports.
#[derive(Default)]
struct Subset {
    ready: Vec<Value>,
    not_ready: Vec<Value>,
    ports: Vec<Value>,
}

fn pod_ip(p: &Pod) -> Option<&str> {
    p.status
        .as_ref()?
        .pod_ip
        .as_deref()
        .filter(|ip| !ip.is_empty())
}

/// The Service's ports as they reach `pod`: name, protocol and the target port resolved against
/// the Pod's containers (a named target the Pod lacks drops that port).
fn resolved_ports(ports: &[k8s_openapi::api::core::v1::ServicePort], pod: &Pod) -> Vec<Value> {
    ports
        .iter()
        .filter_map(|sp| {
            let number = match &sp.target_port {
                None => sp.port,
                Some(IntOrString::Int(n)) => *n,
                Some(IntOrString::String(port_name)) => named_port(pod, port_name)?,
            };
            Some(port_json(sp, number))
        })
        .collect()
}

/// A slice with no endpoints still lists the Service's ports (their own numbers).
fn slice_ports_of_service(ports: &[k8s_openapi::api::core::v1::ServicePort]) -> Vec<Value> {
    ports
        .iter()
        .filter_map(|sp| match &sp.target_port {
            Some(IntOrString::String(_)) => None,
            Some(IntOrString::Int(n)) => Some(port_json(sp, *n)),
            None => Some(port_json(sp, sp.port)),
        })
        .collect()
}

fn port_json(sp: &k8s_openapi::api::core::v1::ServicePort, number: i32) -> Value {
    let mut p =
        json!({"port": number, "protocol": sp.protocol.clone().unwrap_or_else(|| "TCP".into())});
    if let Some(n) = sp.name.as_deref().filter(|n| !n.is_empty()) {
        p["name"] = json!(n);
    }
    p
}

fn named_port(pod: &Pod, name: &str) -> Option<i32> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .map(|p| p.container_port)
}

/// The Services in the Pod's namespace that select it, plus those whose last written endpoints
/// list it (it may no longer match: its labels changed, or it is gone).
pub fn services_of(
    pod: &Pod,
    services: &[Arc<Service>],
    written: &Written,
) -> Vec<(String, String)> {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let mut out: Vec<(String, String)> = services
        .iter()
        .filter(|s| s.namespace().as_deref() == Some(ns.as_str()))
        .filter(|s| {
            s.spec
                .as_ref()
                .and_then(|sp| sp.selector.as_ref())
                .is_some_and(|sel| !sel.is_empty() && util::selector_matches(sel, pod.labels()))
        })
        .map(|s| (ns.clone(), s.name_any()))
        .collect();
    for sname in written.listing(&ns, &name) {
        if !out.iter().any(|(_, n)| *n == sname) {
            out.push((ns.clone(), sname));
        }
    }
    out
}

pub async fn reconcile(svc: Arc<Service>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if svc.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name) = (svc.namespace().unwrap_or_default(), svc.name_any());
    let Some((endpoints, slice)) = desired(&svc, &ctx.pods.state()) else {
        return Ok(Action::await_change());
    };
    let key = format!("{ns}/{name}");
    if ctx.endpoints_written.unchanged(&key, &endpoints, &slice) {
        return Ok(Action::await_change());
    }
    let ep_api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
    util::apply_object(&ep_api, ENDPOINTS_MANAGER, &name, &endpoints).await?;
    let slice_api: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), &ns);
    let slice_name = slice["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    util::apply_object(&slice_api, SLICE_MANAGER, &slice_name, &slice).await?;
    ctx.endpoints_written.record(key, endpoints, slice);
    Ok(Action::await_change())
}

/// A Service is gone: its Endpoints go too (they carry no ownerReference, as in Kubernetes; the
/// slice has one and goes with the garbage collector).
pub async fn forget(svc: Arc<Service>, ctx: Arc<Ctx>) {
    let (ns, name) = (svc.namespace().unwrap_or_default(), svc.name_any());
    let was_ours = ctx.endpoints_written.forget(&format!("{ns}/{name}"));
    let selects = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    if was_ours || selects {
        let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
        if let Err(e) = util::delete_ignoring_missing(&api, &name).await {
            tracing::debug!(error = %e, service = %format!("{ns}/{name}"), "cannot delete the Endpoints of a deleted Service");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(selector: Value, ports: Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "svc-uid", "labels": {"app": "web"}},
            "spec": {"selector": selector, "ports": ports, "clusterIP": "10.96.5.5", "ipFamilies": ["IPv4"]},
        }))
        .unwrap()
    }

    fn pod(name: &str, labels: Value, ip: Option<&str>, ready: bool) -> Arc<Pod> {
        let mut status = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]});
        if let Some(ip) = ip {
            status["podIP"] = json!(ip);
        }
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "labels": labels},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                         "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": status,
            }))
            .unwrap(),
        )
    }

    #[test]
    fn selected_pods_with_an_ip_are_listed_ready_or_not_with_named_ports_resolved() {
        let s = svc(
            json!({"app": "web"}),
            json!([{"name": "http", "port": 80, "targetPort": "http"}, {"name": "raw", "port": 81, "targetPort": 9000}]),
        );
        let pods = vec![
            pod("a", json!({"app": "web"}), Some("10.244.0.2"), true),
            pod("b", json!({"app": "web"}), Some("10.244.0.3"), false),
            pod("c", json!({"app": "web"}), None, false),
            pod("d", json!({"app": "other"}), Some("10.244.0.4"), true),
        ];
        let (ep, slice) = desired(&s, &pods).unwrap();
        let subset = &ep["subsets"][0];
        assert_eq!(subset["addresses"][0]["ip"], "10.244.0.2");
        assert_eq!(subset["addresses"][0]["targetRef"]["name"], "a");
        assert_eq!(subset["addresses"][0]["nodeName"], "n1");
        assert_eq!(subset["notReadyAddresses"][0]["ip"], "10.244.0.3");
        assert_eq!(
            subset["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "raw", "port": 9000, "protocol": "TCP"}])
        );
        assert_eq!(ep["subsets"].as_array().unwrap().len(), 1);
        assert_eq!(ep["metadata"]["labels"], json!({"app": "web"}));
        let eps = slice["endpoints"].as_array().unwrap();
        assert_eq!(
            eps.len(),
            2,
            "the Pod without an IP and the unselected one are left out"
        );
        assert_eq!(eps[0]["conditions"]["ready"], true);
        assert_eq!(eps[1]["conditions"]["ready"], false);
        assert_eq!(
            slice["metadata"]["labels"]["kubernetes.io/service-name"],
            "web"
        );
        assert_eq!(slice["metadata"]["ownerReferences"][0]["uid"], "svc-uid");
        assert_eq!(slice["addressType"], "IPv4");
        assert_eq!(slice["metadata"]["name"], slice_name("web", "svc-uid"));
    }

    #[test]
    fn no_selected_pod_means_endpoints_without_subsets_and_an_empty_slice_with_the_ports() {
        let s = svc(json!({"app": "web"}), json!([{"port": 80}]));
        let (ep, slice) = desired(&s, &[]).unwrap();
        assert!(ep.get("subsets").is_none(), "{ep}");
        assert_eq!(slice["endpoints"], json!([]));
        assert_eq!(
            slice["ports"],
            json!([{"name": "", "port": 80, "protocol": "TCP"}])
        );
        assert_eq!(ep["metadata"]["name"], "web");
    }

    #[test]
    fn a_service_without_a_selector_is_left_to_its_user() {
        let s = svc(json!({}), json!([{"port": 80}]));
        assert!(desired(&s, &[pod("a", json!({}), Some("10.0.0.1"), true)]).is_none());
    }

    #[test]
    fn a_pod_that_no_longer_matches_still_wakes_the_service_that_listed_it() {
        let s = Arc::new(svc(json!({"app": "web"}), json!([{"port": 80}])));
        let a = pod("a", json!({"app": "web"}), Some("10.244.0.2"), true);
        let written = Written::default();
        let (ep, slice) = desired(&s, std::slice::from_ref(&a)).unwrap();
        written.record("ns/web".into(), ep, slice);
        let relabelled = pod("a", json!({"app": "moved"}), Some("10.244.0.2"), true);
        assert_eq!(
            services_of(&relabelled, std::slice::from_ref(&s), &written),
            vec![("ns".to_string(), "web".to_string())]
        );
        let stranger = pod("z", json!({"app": "moved"}), Some("10.244.0.9"), true);
        assert!(services_of(&stranger, &[s], &written).is_empty());
    }
}
