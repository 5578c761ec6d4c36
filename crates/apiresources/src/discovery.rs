//! Discovery documents built from the served [`ResourceInfo`]s.
//!
//! - `/api` → [`api_versions`] (`APIVersions`), `/api/v1` and `/apis/<g>/<v>` →
//!   [`api_resource_list`] (`APIResourceList`), `/apis` → [`api_group_list`] (`APIGroupList`),
//!   `/apis/<g>` → [`api_group`] (`APIGroup`).
//! - Aggregated discovery (`apidiscovery.k8s.io/v2`): [`aggregated_core`] for `/api` and
//!   [`aggregated_groups`] for `/apis`, sent with [`AGGREGATED_DISCOVERY_CONTENT_TYPE`] when
//!   [`negotiate`] says the client's `Accept` asks for it (kubectl and kube-rs do).
//!
//! Versions within a group are ordered as Kubernetes orders them (GA before beta before alpha,
//! higher numbers first; see [`compare_versions`]); the first served one is the preferred version.
//! Only served resources appear.

use serde_json::{Map, Value, json};
use std::cmp::Ordering;

use crate::catalogue::{ResourceInfo, api_version};

/// Content type of an aggregated discovery v2 response.
pub const AGGREGATED_DISCOVERY_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Which discovery document a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryFormat {
    /// `APIVersions` / `APIGroupList` (plain `application/json`).
    Legacy,
    /// `apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`.
    AggregatedV2,
}

/// Decide the format from an `Accept` header: aggregated v2 if any media range asks for
/// `as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2` (parameters in any order), else legacy.
/// (We do not serve v2beta1; clients that ask for both, like kubectl ≥ 1.30, get v2.)
pub fn negotiate(accept: Option<&str>) -> DiscoveryFormat {
    let Some(accept) = accept else {
        return DiscoveryFormat::Legacy;
    };
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if media != "application/json" {
            continue;
        }
        let (mut g, mut v, mut as_) = (false, false, false);
        for p in parts {
            match p.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("g", "apidiscovery.k8s.io")) => g = true,
                Some(("v", "v2")) => v = true,
                Some(("as", "APIGroupDiscoveryList")) => as_ = true,
                _ => {}
            }
        }
        if g && v && as_ {
            return DiscoveryFormat::AggregatedV2;
        }
    }
    DiscoveryFormat::Legacy
}

/// Kubernetes version priority (`k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings`):
/// `v2` > `v1` > `v1beta2` > `v1beta1` > `v1alpha1` > anything not of that shape (alphabetical).
/// `Ordering::Less` means `a` is preferred over `b`, so sorting puts the preferred first.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parse(v: &str) -> Option<(u64, u8, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let major: u64 = rest[..digits].parse().ok()?;
        if major == 0 {
            return None;
        }
        let rest = &rest[digits..];
        if rest.is_empty() {
            return Some((major, 2, 0));
        }
        let (level, n) = if let Some(n) = rest.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = rest.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((major, level, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, la, na)), Some((mb, lb, nb))) => lb.cmp(&la).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Groups in serving order (core `""` first if present, then built-in groups in catalogue order,
/// then other groups alphabetically), each with its served versions, preferred first.
pub fn groups(resources: &[ResourceInfo]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>, bool)> = Vec::new();
    for r in resources.iter().filter(|r| r.served) {
        match out.iter_mut().find(|(g, _, _)| *g == r.group) {
            Some((_, versions, builtin)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version.clone());
                }
                *builtin |= r.is_builtin();
            }
            None => out.push((r.group.clone(), vec![r.version.clone()], r.is_builtin())),
        }
    }
    for (_, versions, _) in &mut out {
        versions.sort_by(|a, b| compare_versions(a, b));
    }
    // Stable sort: core first, built-ins keep their order, the rest alphabetical.
    out.sort_by(|(ga, _, ba), (gb, _, bb)| {
        let rank = |g: &str, b: bool| {
            if g.is_empty() {
                0
            } else if b {
                1
            } else {
                2
            }
        };
        rank(ga, *ba).cmp(&rank(gb, *bb)).then_with(|| {
            if *ba && *bb {
                Ordering::Equal
            } else {
                ga.cmp(gb)
            }
        })
    });
    out.into_iter().map(|(g, v, _)| (g, v)).collect()
}

/// The preferred (first by priority) served version of a group.
pub fn preferred_version(resources: &[ResourceInfo], group: &str) -> Option<String> {
    groups(resources)
        .into_iter()
        .find(|(g, _)| g == group)
        .and_then(|(_, v)| v.into_iter().next())
}

/// `/api`: `APIVersions`. `server_address` is `host:port` as clients reach the server.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ]
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": api_version(group, v), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv).unwrap_or(Value::Null),
    })
}

/// `/apis`: `APIGroupList` of every non-core group.
pub fn api_group_list(resources: &[ResourceInfo]) -> Value {
    let groups: Vec<Value> = groups(resources)
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: `APIGroup`, or `None` if the group is not served.
pub fn api_group(resources: &[ResourceInfo], group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let (g, v) = groups(resources).into_iter().find(|(g, _)| g == group)?;
    let mut doc = group_json(&g, &v);
    let obj = doc.as_object_mut().expect("object");
    let mut out = Map::new();
    out.insert("kind".into(), "APIGroup".into());
    out.insert("apiVersion".into(), "v1".into());
    out.append(obj);
    Some(Value::Object(out))
}

fn sub_verbs() -> Value {
    json!(["get", "patch", "update"])
}

/// `/api/v1` or `/apis/<group>/<version>`: `APIResourceList`, or `None` if nothing is served there.
pub fn api_resource_list(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let mut list = Vec::new();
    for r in resources
        .iter()
        .filter(|r| r.served && r.group == group && r.version == version)
    {
        let mut res = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced(),
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            res["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            res["categories"] = json!(r.categories);
        }
        list.push(res);
        if r.subresources.status {
            list.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced(),
                "kind": r.kind,
                "verbs": sub_verbs(),
            }));
        }
        if r.subresources.scale.is_some() {
            list.push(json!({
                "name": format!("{}/scale", r.plural),
                "singularName": "",
                "namespaced": r.namespaced(),
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": sub_verbs(),
            }));
        }
        for action in &r.subresources.actions {
            let (gvk, verbs) = action_kind(r, action);
            list.push(json!({
                "name": format!("{}/{action}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced(),
                "group": gvk["group"],
                "version": gvk["version"],
                "kind": gvk["kind"],
                "verbs": verbs,
            }));
        }
    }
    if list.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": list,
    }))
}

/// The kind and verbs of an action subresource (`pods/binding`, `pods/eviction`,
/// `certificatesigningrequests/approval`).
fn action_kind(r: &ResourceInfo, action: &str) -> (Value, Value) {
    match action {
        "binding" => (
            json!({"group": "", "version": "v1", "kind": "Binding"}),
            json!(["create"]),
        ),
        "eviction" => (
            json!({"group": "policy", "version": "v1", "kind": "Eviction"}),
            json!(["create"]),
        ),
        "exec" | "attach" | "portforward" => {
            let kind = match action {
                "exec" => "PodExecOptions",
                "attach" => "PodAttachOptions",
                _ => "PodPortForwardOptions",
            };
            (
                json!({"group": "", "version": "v1", "kind": kind}),
                json!(["create", "get"]),
            )
        }
        "log" => (
            json!({"group": "", "version": "v1", "kind": "Pod"}),
            json!(["get"]),
        ),
        "finalize" => (
            json!({"group": "", "version": "v1", "kind": "Namespace"}),
            json!(["update"]),
        ),
        "token" => (
            json!({"group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest"}),
            json!(["create"]),
        ),
        _ => (
            json!({"group": r.group, "version": r.version, "kind": r.kind}),
            sub_verbs(),
        ),
    }
}

fn resource_discovery(r: &ResourceInfo) -> Value {
    let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let mut subresources = Vec::new();
    if r.subresources.status {
        subresources.push(json!({
            "subresource": "status",
            "responseKind": kind,
            "verbs": sub_verbs(),
        }));
    }
    if r.subresources.scale.is_some() {
        subresources.push(json!({
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": sub_verbs(),
        }));
    }
    for action in &r.subresources.actions {
        let (gvk, verbs) = action_kind(r, action);
        subresources.push(json!({"subresource": action, "responseKind": gvk, "verbs": verbs}));
    }
    let mut doc = json!({
        "resource": r.plural,
        "responseKind": kind,
        "scope": r.scope.as_str(),
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        doc["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        doc["categories"] = json!(r.categories);
    }
    if !subresources.is_empty() {
        doc["subresources"] = Value::Array(subresources);
    }
    doc
}

fn group_discovery(resources: &[ResourceInfo], group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let res: Vec<Value> = resources
                .iter()
                .filter(|r| r.served && r.group == group && r.version == *v)
                .map(resource_discovery)
                .collect();
            json!({"version": v, "resources": res, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn discovery_list(items: Vec<Value>) -> Value {
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// `/api` with aggregated discovery: one unnamed group holding core `v1`.
pub fn aggregated_core(resources: &[ResourceInfo]) -> Value {
    let items = groups(resources)
        .iter()
        .filter(|(g, _)| g.is_empty())
        .map(|(g, v)| group_discovery(resources, g, v))
        .collect();
    discovery_list(items)
}

/// `/apis` with aggregated discovery: every non-core group, preferred version first.
pub fn aggregated_groups(resources: &[ResourceInfo]) -> Value {
    let items = groups(resources)
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| group_discovery(resources, g, v))
        .collect();
    discovery_list(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalogue;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
    use kube_core::discovery::v2::APIGroupDiscoveryList;

    fn catalogue_with_widgets() -> Catalogue {
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1alpha1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                    {"name": "v2beta1", "served": true, "storage": false},
                    {"name": "v0", "served": false, "storage": false}
                ]}
        });
        let (cat, errors) = Catalogue::with_crds([&crd]);
        assert!(errors.is_empty());
        cat
    }

    #[test]
    fn version_priority_is_ga_then_beta_then_alpha_then_other() {
        let mut v = vec![
            "v1alpha1", "foo", "v1beta1", "v2", "v1", "v1beta2", "v10", "v3alpha1",
        ];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            v,
            [
                "v10", "v2", "v1", "v1beta2", "v1beta1", "v3alpha1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn accept_header_selects_aggregated_v2_only_when_asked() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(Some(kubectl)), DiscoveryFormat::AggregatedV2);
        assert_eq!(
            negotiate(Some(
                "application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io"
            )),
            DiscoveryFormat::AggregatedV2
        );
        assert_eq!(negotiate(Some("application/json")), DiscoveryFormat::Legacy);
        assert_eq!(
            negotiate(Some(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            )),
            DiscoveryFormat::Legacy
        );
        assert_eq!(negotiate(None), DiscoveryFormat::Legacy);
    }

    #[test]
    fn api_resource_list_deserializes_into_k8s_openapi_with_subresources() {
        let cat = Catalogue::builtin();
        let doc = api_resource_list(cat.resources(), "apps", "v1").unwrap();
        let list: metav1::APIResourceList = serde_json::from_value(doc).unwrap();
        assert_eq!(list.group_version, "apps/v1");
        let deploy = list
            .resources
            .iter()
            .find(|r| r.name == "deployments")
            .unwrap();
        assert_eq!(deploy.kind, "Deployment");
        assert!(deploy.namespaced);
        assert_eq!(
            deploy.short_names.as_deref(),
            Some(&["deploy".to_string()][..])
        );
        assert!(
            list.resources
                .iter()
                .any(|r| r.name == "deployments/status")
        );
        let scale = list
            .resources
            .iter()
            .find(|r| r.name == "deployments/scale")
            .unwrap();
        assert_eq!(scale.group.as_deref(), Some("autoscaling"));
        assert!(api_resource_list(cat.resources(), "apps", "v2").is_none());
        let core: metav1::APIResourceList =
            serde_json::from_value(api_resource_list(cat.resources(), "", "v1").unwrap()).unwrap();
        assert_eq!(core.group_version, "v1");
        let ns = core
            .resources
            .iter()
            .find(|r| r.name == "namespaces")
            .unwrap();
        assert!(!ns.namespaced);
    }

    #[test]
    fn api_group_list_and_group_deserialize_with_preferred_version() {
        let cat = catalogue_with_widgets();
        let list: metav1::APIGroupList =
            serde_json::from_value(api_group_list(cat.resources())).unwrap();
        let names: Vec<_> = list.groups.iter().map(|g| g.name.as_str()).collect();
        // kube-apiserver's order: apiregistration first, then apps, ...; CRD groups last
        assert_eq!(&names[..2], ["apiregistration.k8s.io", "apps"]);
        assert_eq!(*names.last().unwrap(), "example.com");
        assert!(names.contains(&"events.k8s.io") && names.contains(&"coordination.k8s.io"));
        let widgets = list
            .groups
            .iter()
            .find(|g| g.name == "example.com")
            .unwrap();
        let versions: Vec<_> = widgets
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect();
        assert_eq!(versions, ["v1", "v2beta1", "v1alpha1"]);
        assert_eq!(
            widgets.preferred_version.as_ref().unwrap().group_version,
            "example.com/v1"
        );
        let g: metav1::APIGroup =
            serde_json::from_value(api_group(cat.resources(), "example.com").unwrap()).unwrap();
        assert_eq!(g.name, "example.com");
        assert!(api_group(cat.resources(), "nope.io").is_none());
        assert_eq!(
            preferred_version(cat.resources(), "example.com").as_deref(),
            Some("v1")
        );
    }

    #[test]
    fn api_versions_deserializes_into_k8s_openapi() {
        let v: metav1::APIVersions =
            serde_json::from_value(api_versions("127.0.0.1:6443")).unwrap();
        assert_eq!(v.versions, ["v1"]);
        assert_eq!(
            v.server_address_by_client_cidrs[0].server_address,
            "127.0.0.1:6443"
        );
    }

    #[test]
    fn aggregated_discovery_deserializes_into_kube_rs_types() {
        let cat = catalogue_with_widgets();
        let core: APIGroupDiscoveryList =
            serde_json::from_value(aggregated_core(cat.resources())).unwrap();
        assert_eq!(core.items.len(), 1);
        let v1 = &core.items[0].versions[0];
        assert_eq!(v1.version.as_deref(), Some("v1"));
        let ns = v1
            .resources
            .iter()
            .find(|r| r.resource.as_deref() == Some("namespaces"))
            .unwrap();
        assert_eq!(ns.scope.as_deref(), Some("Cluster"));
        assert_eq!(ns.singular_resource.as_deref(), Some("namespace"));
        assert_eq!(ns.short_names, ["ns"]);
        assert_eq!(
            ns.response_kind.as_ref().unwrap().kind.as_deref(),
            Some("Namespace")
        );
        assert_eq!(ns.subresources[0].subresource.as_deref(), Some("status"));

        let doc = aggregated_groups(cat.resources());
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        let groups: APIGroupDiscoveryList = serde_json::from_value(doc).unwrap();
        let apps = groups
            .items
            .iter()
            .find(|g| g.metadata.as_ref().unwrap().name.as_deref() == Some("apps"))
            .unwrap();
        let deploy = apps.versions[0]
            .resources
            .iter()
            .find(|r| r.resource.as_deref() == Some("deployments"))
            .unwrap();
        assert_eq!(deploy.categories, ["all"]);
        assert_eq!(deploy.verbs.len(), 8);
        let subs: Vec<_> = deploy
            .subresources
            .iter()
            .map(|s| s.subresource.clone().unwrap())
            .collect();
        assert_eq!(subs, ["status", "scale"]);
        let widgets = groups
            .items
            .iter()
            .find(|g| g.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some("example.com"))
            .unwrap();
        let versions: Vec<_> = widgets
            .versions
            .iter()
            .map(|v| v.version.clone().unwrap())
            .collect();
        assert_eq!(
            versions,
            ["v1", "v2beta1", "v1alpha1"],
            "preferred first, unserved v0 absent"
        );
        assert!(groups.items.iter().all(|g| !g.versions.is_empty()));
    }
}
