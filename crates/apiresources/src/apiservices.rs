//! The `APIService` objects kube-apiserver's aggregator keeps for the groups it serves itself
//! (`kubectl get apiservices`: SERVICE `Local`, AVAILABLE `True`): one per served group/version,
//! named `<version>.<group>` (`v1.` for the core group), with the priorities discovery sorts by.
//!
//! Like kube-apiserver's autoregistration: built-in group/versions come from its priority table
//! and are labelled `kube-aggregator.kubernetes.io/automanaged: onstart`; a group/version with no
//! entry there is left out (`apiregistration.k8s.io`, the aggregator's own, has none). Those of
//! CustomResourceDefinitions get priority 1000/100 and the label value `true`, as the CRD
//! registration controller gives them; so do computed resources, which this server also serves
//! itself (where OLM would run an aggregated server).

use serde_json::{Value, json};

use crate::catalogue::{Origin, ResourceInfo};

/// The label marking an APIService the server manages (and may delete when its group goes).
pub const AUTOMANAGED_LABEL: &str = "kube-aggregator.kubernetes.io/automanaged";

/// `groupPriorityMinimum` / `versionPriority` of kube-apiserver's built-in group/versions (1.33).
pub fn builtin_priority(group: &str, version: &str) -> Option<(i32, i32)> {
    Some(match (group, version) {
        ("", "v1") => (18000, 1),
        ("apps", "v1") => (17800, 15),
        ("events.k8s.io", "v1") => (17750, 15),
        ("authentication.k8s.io", "v1") => (17700, 15),
        ("authorization.k8s.io", "v1") => (17600, 15),
        ("autoscaling", "v1") => (17500, 15),
        ("autoscaling", "v2") => (17500, 30),
        ("batch", "v1") => (17400, 15),
        ("certificates.k8s.io", "v1") => (17300, 15),
        ("networking.k8s.io", "v1") => (17200, 15),
        ("policy", "v1") => (17100, 15),
        ("rbac.authorization.k8s.io", "v1") => (17000, 15),
        ("storage.k8s.io", "v1") => (16800, 15),
        ("apiextensions.k8s.io", "v1") => (16700, 15),
        ("admissionregistration.k8s.io", "v1") => (16700, 15),
        ("scheduling.k8s.io", "v1") => (16600, 15),
        ("coordination.k8s.io", "v1") => (16500, 15),
        ("node.k8s.io", "v1") => (16300, 15),
        ("discovery.k8s.io", "v1") => (16200, 15),
        ("flowcontrol.apiserver.k8s.io", "v1") => (16100, 21),
        _ => return None,
    })
}

/// The name of the APIService of `group`/`version`.
pub fn name(group: &str, version: &str) -> String {
    format!("{version}.{group}")
}

/// The APIServices (without server-set metadata or status) for every served group/version of
/// `resources`, sorted by name.
pub fn local_api_services(resources: &[ResourceInfo]) -> Vec<Value> {
    let mut out: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for r in resources.iter().filter(|r| r.served) {
        let (priority, automanaged) = match &r.origin {
            Origin::BuiltIn => match builtin_priority(&r.group, &r.version) {
                Some(p) => (p, "onstart"),
                None => continue,
            },
            Origin::Crd { .. } | Origin::Computed => ((1000, 100), "true"),
        };
        let name = name(&r.group, &r.version);
        out.entry(name.clone()).or_insert_with(|| {
            json!({
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": name, "labels": {AUTOMANAGED_LABEL: automanaged}},
                "spec": {
                    "group": r.group,
                    "version": r.version,
                    "groupPriorityMinimum": priority.0,
                    "versionPriority": priority.1,
                },
            })
        });
    }
    out.into_values().collect()
}

/// The status of a local APIService, set when it is made: always available.
pub fn local_status(now: &str) -> Value {
    json!({"conditions": [{
        "type": "Available",
        "status": "True",
        "lastTransitionTime": now,
        "reason": "Local",
        "message": "Local APIServices are always available",
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd_info(group: &str, version: &str, served: bool) -> ResourceInfo {
        let mut r = crate::catalogue::builtins()
            .iter()
            .find(|r| r.plural == "configmaps")
            .unwrap()
            .clone();
        r.group = group.into();
        r.version = version.into();
        r.served = served;
        r.origin = Origin::Crd {
            name: format!("widgets.{group}"),
        };
        r
    }

    #[test]
    fn every_builtin_group_version_but_the_aggregators_own_is_a_local_api_service() {
        let builtins = crate::catalogue::builtins();
        let services = local_api_services(builtins);
        let names: Vec<&str> = services
            .iter()
            .map(|s| s["metadata"]["name"].as_str().unwrap())
            .collect();
        for want in [
            "v1.",
            "v1.apps",
            "v2.autoscaling",
            "v1.flowcontrol.apiserver.k8s.io",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.ends_with("apiregistration.k8s.io")));
        // Each served built-in group/version is either listed or the aggregator's own.
        let mut gvs: Vec<(String, String)> = builtins
            .iter()
            .filter(|r| r.served)
            .map(|r| (r.group.clone(), r.version.clone()))
            .collect();
        gvs.sort();
        gvs.dedup();
        assert_eq!(services.len() + 1, gvs.len(), "{names:?} vs {gvs:?}");
        let core = &services[names.iter().position(|n| *n == "v1.").unwrap()];
        assert_eq!(core["spec"]["groupPriorityMinimum"], 18000);
        assert_eq!(core["metadata"]["labels"][AUTOMANAGED_LABEL], "onstart");
    }

    #[test]
    fn a_crds_served_versions_get_the_crd_registration_priorities() {
        let rs = vec![
            crd_info("example.com", "v1", true),
            crd_info("example.com", "v1", true),
            crd_info("example.com", "v2alpha1", false),
        ];
        let services = local_api_services(&rs);
        assert_eq!(services.len(), 1, "one per group/version, served only");
        assert_eq!(services[0]["metadata"]["name"], "v1.example.com");
        assert_eq!(services[0]["spec"]["groupPriorityMinimum"], 1000);
        assert_eq!(services[0]["spec"]["versionPriority"], 100);
        assert_eq!(services[0]["metadata"]["labels"][AUTOMANAGED_LABEL], "true");
    }
}
