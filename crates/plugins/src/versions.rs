//! Plugin versions: which ModuleConfigs belong to a plugin, and NEW_VERSION — the newest version
//! of the plugin whose affinity admits the cluster and that is newer than the installed one.
//! Versions are semantic versions with an optional leading `v` (`v4.0.15`); a version that does not
//! parse is never offered as an upgrade.

use std::collections::BTreeMap;

use apis::cluster::{MODULE_NAME_LABEL, ModuleConfig};
use kube::ResourceExt;

/// `v4.0.15` → 4.0.15.
pub fn parse(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version.strip_prefix('v').unwrap_or(version)).ok()
}

/// Whether `mc` is a version of `plugin`: labelled `cpaas.io/module-name: <plugin>`, or (without
/// that label) named `<plugin>-<spec.version>`.
pub fn belongs_to(mc: &ModuleConfig, plugin: &str) -> bool {
    match mc.labels().get(MODULE_NAME_LABEL) {
        Some(p) => p == plugin,
        None => mc.name_any() == format!("{plugin}-{}", mc.spec.version),
    }
}

/// The newest version among `candidates` (the plugin's ModuleConfigs) that admits the cluster and
/// is newer than `installed`.
pub fn new_version(
    installed: &str,
    candidates: &[&ModuleConfig],
    cluster_labels: &BTreeMap<String, String>,
) -> Option<String> {
    let current = parse(installed)?;
    candidates
        .iter()
        .filter(|mc| {
            crate::affinity::admits(mc.spec.affinity.as_ref(), cluster_labels).unwrap_or(false)
        })
        .filter_map(|mc| Some((parse(&mc.spec.version)?, mc.spec.version.clone())))
        .filter(|(v, _)| *v > current)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apis::cluster::ModuleConfigSpec;
    use serde_json::json;

    fn mc(name: &str, version: &str, affinity: serde_json::Value) -> ModuleConfig {
        let spec: ModuleConfigSpec = serde_json::from_value(json!({
            "version": version,
            "affinity": {"clusterAffinity": affinity},
            "chart": {"ref": "r/x:1"}
        }))
        .unwrap();
        ModuleConfig::new(name, spec)
    }

    #[test]
    fn the_newest_admitted_newer_version_is_offered() {
        let any = json!({});
        let global_only = json!({"matchLabels": {"is-global": "true"}});
        let configs = [
            mc("p-v1.0.0", "v1.0.0", any.clone()),
            mc("p-v1.2.0", "v1.2.0", any.clone()),
            mc("p-v1.10.0", "v1.10.0", global_only.clone()),
            mc("p-bad", "latest", any.clone()),
        ];
        let refs: Vec<_> = configs.iter().collect();
        let business = BTreeMap::from([("cpaas.io/os-linux".to_string(), "true".to_string())]);
        let global = BTreeMap::from([("is-global".to_string(), "true".to_string())]);
        assert_eq!(
            new_version("v1.0.0", &refs, &business).as_deref(),
            Some("v1.2.0")
        );
        // Semantic order, not string order: 1.10 > 1.2.
        assert_eq!(
            new_version("v1.0.0", &refs, &global).as_deref(),
            Some("v1.10.0")
        );
        assert_eq!(new_version("v1.2.0", &refs, &business), None);
        assert_eq!(new_version("not-a-version", &refs, &global), None);
    }

    #[test]
    fn a_config_belongs_to_its_plugin_by_label_or_by_name() {
        let a = mc("web-cli-v4.0.4", "v4.0.4", json!({}));
        assert!(belongs_to(&a, "web-cli"));
        assert!(!belongs_to(&a, "web"));
        let mut b = mc("anything", "v1", json!({}));
        b.labels_mut()
            .insert(MODULE_NAME_LABEL.into(), "web-cli".into());
        assert!(belongs_to(&b, "web-cli"));
        assert!(!belongs_to(&mc("anything", "v1", json!({})), "web-cli"));
    }
}
