//! Cluster affinity: does a ModuleConfig's `spec.affinity.clusterAffinity` admit a cluster?
//! An absent affinity (or absent `clusterAffinity`) admits every cluster; otherwise it is a
//! metav1.LabelSelector evaluated with apimachinery's selector (Go's `LabelSelectorAsSelector`)
//! over the cluster's labels.

use std::collections::BTreeMap;

use apimachinery::labels::Selector;
use apis::cluster::ModuleAffinity;

/// The affinity's selector could not be built (a bad operator, key or value).
#[derive(Debug, thiserror::Error)]
#[error("spec.affinity.clusterAffinity is not a valid label selector: {0}")]
pub struct AffinityError(pub String);

/// Whether `affinity` admits a cluster with `labels`.
pub fn admits(
    affinity: Option<&ModuleAffinity>,
    labels: &BTreeMap<String, String>,
) -> Result<bool, AffinityError> {
    let Some(sel) = affinity.and_then(|a| a.cluster_affinity.as_ref()) else {
        return Ok(true);
    };
    let json = serde_json::to_value(sel).map_err(|e| AffinityError(e.to_string()))?;
    let selector = Selector::from_label_selector(Some(&json)).map_err(|e| AffinityError(e.0))?;
    Ok(selector.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn affinity(yaml_json: serde_json::Value) -> ModuleAffinity {
        serde_json::from_value(yaml_json).unwrap()
    }

    #[test]
    fn web_cli_is_for_the_global_cluster_only() {
        let a = affinity(
            serde_json::json!({"clusterAffinity": {"matchLabels": {"is-global": "true"}}}),
        );
        assert!(admits(Some(&a), &labels(&[("is-global", "true")])).unwrap());
        assert!(!admits(Some(&a), &labels(&[("cpaas.io/os-linux", "true")])).unwrap());
    }

    #[test]
    fn gpu_device_plugin_needs_linux_and_amd64() {
        let a = affinity(serde_json::json!({"clusterAffinity": {
            "matchExpressions": [{"key": "cpaas.io/os-linux", "operator": "Exists"}],
            "matchLabels": {"cpaas.io/arch-amd64": "true"}
        }}));
        let business = labels(&[("cpaas.io/os-linux", ""), ("cpaas.io/arch-amd64", "true")]);
        assert!(admits(Some(&a), &business).unwrap());
        let arm = labels(&[
            ("cpaas.io/os-linux", "true"),
            ("cpaas.io/arch-arm64", "true"),
        ]);
        assert!(!admits(Some(&a), &arm).unwrap());
        let windows = labels(&[("cpaas.io/arch-amd64", "true")]);
        assert!(!admits(Some(&a), &windows).unwrap());
    }

    #[test]
    fn no_affinity_admits_every_cluster() {
        assert!(admits(None, &labels(&[])).unwrap());
        assert!(admits(Some(&ModuleAffinity::default()), &labels(&[])).unwrap());
    }

    #[test]
    fn a_bad_operator_is_an_error_not_a_refusal() {
        let a = affinity(serde_json::json!({"clusterAffinity": {
            "matchExpressions": [{"key": "k", "operator": "Like"}]
        }}));
        let e = admits(Some(&a), &labels(&[])).unwrap_err();
        assert!(e.to_string().contains("Like"), "{e}");
    }
}
