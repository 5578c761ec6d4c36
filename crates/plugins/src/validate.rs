//! Validation of a ModuleInfo against what the global cluster holds: the labels, the ModulePlugin,
//! the ModuleConfig of `spec.version`, the registered target cluster and its affinity, the form.
//! [`check`] is the pure rule over fetched objects; [`validate`] fetches them. Every refusal says
//! what is wrong, on which object, and what to do.

use apis::cluster::{
    CLUSTER_NAME_LABEL, Cluster, MODULE_NAME_LABEL, MODULE_TYPE_LABEL, MODULE_TYPE_PLUGIN,
    ModuleConfig, ModuleInfo, ModulePlugin,
};
use kube::ResourceExt;
use kube::api::Api;

/// A ModuleInfo the controller will not act on, with a condition reason and a message for users.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error(transparent)]
    Api(#[from] kube::Error),
}

/// What a valid ModuleInfo refers to.
#[derive(Debug, Clone)]
pub struct Validated {
    pub plugin_name: String,
    pub cluster_name: String,
    pub display_name: String,
    pub config: ModuleConfig,
    pub cluster: Cluster,
    /// The ModuleConfig of NEW_VERSION, if any.
    pub new_version: Option<ModuleConfig>,
}

fn refuse(reason: &'static str, message: String) -> Refusal {
    Refusal { reason, message }
}

/// Fetches what `mi` refers to from the global cluster and [`check`]s it.
pub async fn validate(mi: &ModuleInfo, global: &kube::Client) -> Result<Validated, Error> {
    let labels = mi.labels();
    let plugin = match labels.get(MODULE_NAME_LABEL) {
        Some(p) => Api::<ModulePlugin>::all(global.clone()).get_opt(p).await?,
        None => None,
    };
    let configs = Api::<ModuleConfig>::all(global.clone())
        .list(&Default::default())
        .await?
        .items;
    let cluster = match labels.get(CLUSTER_NAME_LABEL) {
        Some(c) => Api::<Cluster>::all(global.clone()).get_opt(c).await?,
        None => None,
    };
    check(mi, plugin.as_ref(), &configs, cluster.as_ref()).map_err(Error::Refused)
}

/// The pure validation (see the module doc).
pub fn check(
    mi: &ModuleInfo,
    plugin: Option<&ModulePlugin>,
    configs: &[ModuleConfig],
    cluster: Option<&Cluster>,
) -> Result<Validated, Refusal> {
    let name = mi.name_any();
    let labels = mi.labels();
    if labels.get(MODULE_TYPE_LABEL).map(String::as_str) != Some(MODULE_TYPE_PLUGIN) {
        return Err(refuse(
            "MissingModuleType",
            format!(
                "ModuleInfo {name} has no label {MODULE_TYPE_LABEL}: {MODULE_TYPE_PLUGIN}; it is mandatory: add it to metadata.labels"
            ),
        ));
    }
    let plugin_name = required_label(&name, labels, MODULE_NAME_LABEL, "the ModulePlugin's name")?;
    let cluster_name = required_label(
        &name,
        labels,
        CLUSTER_NAME_LABEL,
        "the target cluster's name",
    )?;
    let Some(plugin) = plugin else {
        return Err(refuse(
            "PluginNotFound",
            format!(
                "ModulePlugin {plugin_name} (label {MODULE_NAME_LABEL}) does not exist in the global cluster; upload the plugin first (violet push) or fix the label"
            ),
        ));
    };
    let mut versions: Vec<&ModuleConfig> = configs
        .iter()
        .filter(|c| crate::versions::belongs_to(c, &plugin_name))
        .collect();
    versions.sort_by(|a, b| a.spec.version.cmp(&b.spec.version));
    let Some(config) = versions.iter().find(|c| c.spec.version == mi.spec.version) else {
        let known: Vec<_> = versions.iter().map(|c| c.spec.version.as_str()).collect();
        return Err(refuse(
            "UnknownVersion",
            format!(
                "plugin {plugin_name} has no ModuleConfig with spec.version {:?}; published versions: [{}]; set spec.version to one of them",
                mi.spec.version,
                known.join(", ")
            ),
        ));
    };
    let Some(cluster) = cluster else {
        return Err(refuse(
            "ClusterNotFound",
            format!(
                "cluster {cluster_name} (label {CLUSTER_NAME_LABEL}) is not registered: no Cluster {cluster_name} in the global cluster; fix the label or register the cluster"
            ),
        ));
    };
    let cluster_labels = cluster.labels().clone();
    match crate::affinity::admits(config.spec.affinity.as_ref(), &cluster_labels) {
        Ok(true) => {}
        Ok(false) => {
            return Err(refuse(
                "ClusterOutsideAffinity",
                format!(
                    "cluster {cluster_name} does not match the affinity of ModuleConfig {} (spec.affinity.clusterAffinity {}); pick a cluster whose labels match it",
                    config.name_any(),
                    serde_json::to_string(&config.spec.affinity).unwrap_or_default()
                ),
            ));
        }
        Err(e) => {
            return Err(refuse(
                "InvalidAffinity",
                format!("ModuleConfig {}: {e}", config.name_any()),
            ));
        }
    }
    if let Err(e) = crate::form::validate(
        &config.spec.config,
        config.spec.config_schema.as_ref(),
        &mi.spec.config,
    ) {
        return Err(refuse(
            "InvalidConfig",
            format!(
                "spec.config does not fit the form of ModuleConfig {}: {e}",
                config.name_any()
            ),
        ));
    }
    let installed = mi
        .status
        .as_ref()
        .and_then(|s| s.current_version.clone())
        .unwrap_or_else(|| mi.spec.version.clone());
    let newest = crate::versions::new_version(&installed, &versions, &cluster_labels);
    let new_version = newest.and_then(|v| {
        versions
            .iter()
            .find(|c| c.spec.version == v)
            .map(|c| (*c).clone())
    });
    let display_name = plugin
        .spec
        .display_name
        .clone()
        .or_else(|| config.spec.display_name.clone())
        .unwrap_or_else(|| plugin_name.clone());
    Ok(Validated {
        plugin_name,
        cluster_name,
        display_name,
        config: (*config).clone(),
        cluster: cluster.clone(),
        new_version,
    })
}

fn required_label(
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<String, Refusal> {
    match labels.get(key).filter(|v| !v.is_empty()) {
        Some(v) => Ok(v.clone()),
        None => Err(refuse(
            "MissingLabel",
            format!("ModuleInfo {name} has no label {key} ({what}); add it to metadata.labels"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mi(labels: serde_json::Value, spec: serde_json::Value) -> ModuleInfo {
        serde_json::from_value(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleInfo",
            "metadata": {"name": "business-temporary-name", "labels": labels},
            "spec": spec
        }))
        .unwrap()
    }

    fn gpu_labels() -> serde_json::Value {
        json!({"cpaas.io/cluster-name": "business", "cpaas.io/module-name": "gpu-device-plugin", "cpaas.io/module-type": "plugin"})
    }

    fn plugin() -> ModulePlugin {
        serde_json::from_value(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModulePlugin",
            "metadata": {"name": "gpu-device-plugin"}, "spec": {}
        }))
        .unwrap()
    }

    fn config(version: &str) -> ModuleConfig {
        serde_json::from_value(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": format!("gpu-device-plugin-{version}")},
            "spec": {
                "version": version,
                "affinity": {"clusterAffinity": {
                    "matchExpressions": [{"key": "cpaas.io/os-linux", "operator": "Exists"}],
                    "matchLabels": {"cpaas.io/arch-amd64": "true"}}},
                "config": {"custom": {"mps_enable": false, "pgpu_enable": false, "vgpu_enable": false}},
                "chart": {"ref": "127.0.0.1:5000/charts/gpu-device-plugin:4.0.15"}
            }
        }))
        .unwrap()
    }

    fn cluster(name: &str, labels: serde_json::Value) -> Cluster {
        serde_json::from_value(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": labels}, "spec": {"embedded": name}
        }))
        .unwrap()
    }

    fn business() -> Cluster {
        cluster(
            "business",
            json!({"cpaas.io/os-linux": "true", "cpaas.io/arch-amd64": "true"}),
        )
    }

    fn documented_spec() -> serde_json::Value {
        json!({"version": "v4.0.15", "config": {"custom": {"mps_enable": false, "pgpu_enable": true, "vgpu_enable": true}}})
    }

    #[test]
    fn the_documented_gpu_moduleinfo_is_valid_and_names_its_display_name() {
        let configs = [config("v4.0.15"), config("v4.0.16")];
        let v = check(
            &mi(gpu_labels(), documented_spec()),
            Some(&plugin()),
            &configs,
            Some(&business()),
        )
        .unwrap();
        assert_eq!(
            (v.plugin_name.as_str(), v.cluster_name.as_str()),
            ("gpu-device-plugin", "business")
        );
        assert_eq!(
            v.display_name, "gpu-device-plugin",
            "falls back to the plugin's name"
        );
        assert_eq!(v.config.spec.version, "v4.0.15");
        assert_eq!(
            v.new_version.map(|c| c.spec.version).as_deref(),
            Some("v4.0.16")
        );
    }

    #[test]
    fn each_refusal_names_its_reason() {
        let configs = [config("v4.0.15")];
        let p = plugin();
        let b = business();
        let mut no_type = gpu_labels();
        no_type
            .as_object_mut()
            .unwrap()
            .remove("cpaas.io/module-type");
        let cases = [
            (
                mi(no_type, documented_spec()),
                Some(&b),
                "MissingModuleType",
                "cpaas.io/module-type",
            ),
            (
                mi(gpu_labels(), json!({"version": "v9.9.9"})),
                Some(&b),
                "UnknownVersion",
                "[v4.0.15]",
            ),
            (
                mi(gpu_labels(), documented_spec()),
                None,
                "ClusterNotFound",
                "business",
            ),
            (
                mi(
                    gpu_labels(),
                    json!({"version": "v4.0.15", "config": {"custom": {"pgpu_enable": "yes"}}}),
                ),
                Some(&b),
                "InvalidConfig",
                "custom.pgpu_enable",
            ),
            (
                mi(
                    gpu_labels(),
                    json!({"version": "v4.0.15", "config": {"custom": {"tpu_enable": true}}}),
                ),
                Some(&b),
                "InvalidConfig",
                "custom.tpu_enable",
            ),
        ];
        for (m, c, reason, mentions) in cases {
            let r = check(&m, Some(&p), &configs, c).unwrap_err();
            assert_eq!(r.reason, reason, "{}", r.message);
            assert!(r.message.contains(mentions), "{reason}: {}", r.message);
        }
        let arm = cluster(
            "edge",
            json!({"cpaas.io/os-linux": "true", "cpaas.io/arch-arm64": "true"}),
        );
        let r = check(
            &mi(gpu_labels(), documented_spec()),
            Some(&p),
            &configs,
            Some(&arm),
        )
        .unwrap_err();
        assert_eq!(r.reason, "ClusterOutsideAffinity");
        let r = check(
            &mi(gpu_labels(), documented_spec()),
            None,
            &configs,
            Some(&b),
        )
        .unwrap_err();
        assert_eq!(r.reason, "PluginNotFound");
    }
}
