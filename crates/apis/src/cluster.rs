//! `cluster.alauda.io/v1alpha1`: ModulePlugin, ModuleConfig, ModuleInfo (cluster plugins) and the cluster registry.
//!
//! All four kinds are cluster-scoped and live in the global cluster only:
//! - [`ModulePlugin`]: one per plugin, its identity and display data (a name alone is valid).
//! - [`ModuleConfig`]: one per published plugin version, named `<plugin>-<version>` (or labelled
//!   [`MODULE_NAME_LABEL`]): `spec.version`, `spec.affinity.clusterAffinity` (a label selector over
//!   the target cluster's labels), `spec.config` (the dynamic form's parameters and defaults),
//!   `spec.chart.ref` (`<registry>/<repository>:<tag>`, a Helm chart stored as an OCI artifact) and
//!   an optional `spec.configSchema` (JSON Schema of the form).
//! - [`ModuleInfo`]: one installation of one plugin in one cluster, labelled
//!   [`CLUSTER_NAME_LABEL`], [`MODULE_NAME_LABEL`] and [`MODULE_TYPE_LABEL`] (`plugin`).
//! - [`Cluster`]: the cluster registry. Its labels are the cluster's labels (what affinities
//!   select on); its spec says how to reach it (an embedded cluster by name, or a kubeconfig held
//!   in a Secret of the global cluster).

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const GROUP: &str = "cluster.alauda.io";
/// ModuleInfo label: the target cluster's name.
pub const CLUSTER_NAME_LABEL: &str = "cpaas.io/cluster-name";
/// ModuleInfo (and optionally ModuleConfig) label: the ModulePlugin's name.
pub const MODULE_NAME_LABEL: &str = "cpaas.io/module-name";
/// ModuleInfo label, mandatory, value [`MODULE_TYPE_PLUGIN`].
pub const MODULE_TYPE_LABEL: &str = "cpaas.io/module-type";
pub const MODULE_TYPE_PLUGIN: &str = "plugin";

/// Any JSON object, kept as given (the API server must not prune it).
fn free_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

fn optional_free_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "nullable": true,
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A plugin: its identity and the data the console shows.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cluster.alauda.io",
    version = "v1alpha1",
    kind = "ModulePlugin",
    plural = "moduleplugins",
    printcolumn = r#"{"name":"DISPLAY_NAME","type":"string","jsonPath":".spec.displayName"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ModulePluginSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// A label selector (metav1.LabelSelector's fields) over the target cluster's labels.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<SelectorRequirement>>,
}

/// One `matchExpressions` entry (`In`, `NotIn`, `Exists`, `DoesNotExist`).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleAffinity {
    /// Which clusters may run this version; absent admits every cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_affinity: Option<ClusterSelector>,
}

/// Where a version's chart is: `<registry>/<repository>:<tag>` (Helm's OCI chart format).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ChartRef {
    #[serde(rename = "ref")]
    pub reference: String,
}

/// One published version of a plugin.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cluster.alauda.io",
    version = "v1alpha1",
    kind = "ModuleConfig",
    plural = "moduleconfigs",
    printcolumn = r#"{"name":"VERSION","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"CHART","type":"string","jsonPath":".spec.chart.ref"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ModuleConfigSpec {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<ModuleAffinity>,
    /// The dynamic form: configurable parameters and their defaults (`{}` when none).
    #[serde(default = "empty_object")]
    #[schemars(schema_with = "free_object")]
    pub config: Value,
    pub chart: ChartRef,
    /// JSON Schema of `config` (types, enums, descriptions); the chart's `values.schema.json`
    /// applies as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "optional_free_object")]
    pub config_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

pub fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// One installation of a plugin in a cluster.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cluster.alauda.io",
    version = "v1alpha1",
    kind = "ModuleInfo",
    plural = "moduleinfos",
    status = "ModuleInfoStatus",
    printcolumn = r#"{"name":"CLUSTER","type":"string","jsonPath":".metadata.labels.cpaas\\.io/cluster-name"}"#,
    printcolumn = r#"{"name":"MODULE","type":"string","jsonPath":".metadata.labels.cpaas\\.io/module-name"}"#,
    printcolumn = r#"{"name":"DISPLAY_NAME","type":"string","jsonPath":".status.displayName"}"#,
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"TARGET_VERSION","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"CURRENT_VERSION","type":"string","jsonPath":".status.currentVersion"}"#,
    printcolumn = r#"{"name":"NEW_VERSION","type":"string","jsonPath":".status.newVersion"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ModuleInfoSpec {
    /// Must equal a ModuleConfig's `spec.version` of the plugin.
    pub version: String,
    /// The form's values (overlaying the ModuleConfig's defaults).
    #[serde(default = "empty_object")]
    #[schemars(schema_with = "free_object")]
    pub config: Value,
}

/// Phases of a ModuleInfo.
pub mod phase {
    pub const PENDING: &str = "Pending";
    pub const PROCESSING: &str = "Processing";
    pub const RUNNING: &str = "Running";
    pub const FAILED: &str = "Failed";
    pub const DELETING: &str = "Deleting";
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleInfoStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The plugin's display name (the plugin's name when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The version installed and running in the target cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    /// The version being installed (= `spec.version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// The newest version this cluster may upgrade to, if newer than the installed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    /// The Helm release in the target cluster (`<namespace>/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Objects of the release found changed or deleted by hand, and put back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftRecord>,
    /// What upgrading to `newVersion` would change in the target cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_preview: Option<UpgradePreview>,
}

/// A status condition (metav1.Condition's fields).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// One repair of the release in the target cluster.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftRecord {
    /// `Kind namespace/name` (or `Kind name`).
    pub object: String,
    /// `Changed` or `Deleted`.
    pub change: String,
    /// When it was put back (RFC 3339).
    pub repaired_at: String,
}

/// An upgrade's effect on the target cluster, computed before applying it.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePreview {
    pub from_version: String,
    pub to_version: String,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub changed: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
}

/// A kubeconfig in a Secret of the global cluster.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecretKeyRef {
    pub namespace: String,
    pub name: String,
    /// The data key holding the kubeconfig (default `kubeconfig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A cluster the platform manages; its labels are the cluster's labels.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cluster.alauda.io",
    version = "v1alpha1",
    kind = "Cluster",
    plural = "clusters",
    printcolumn = r#"{"name":"EMBEDDED","type":"string","jsonPath":".spec.embedded"}"#,
    printcolumn = r#"{"name":"KUBECONFIG","type":"string","jsonPath":".spec.kubeconfigSecret.name"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// An embedded cluster of `marketplace serve`, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<String>,
    /// A real cluster, reached with the kubeconfig in this Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_secret: Option<SecretKeyRef>,
}

/// The ModulePlugin CRD with `spec` optional and defaulted to `{}`: a ModulePlugin with only a
/// name is valid (kube-derive makes `spec` required; the API server's structural defaulting fills
/// it, so every stored ModulePlugin deserializes).
pub fn module_plugin_crd()
-> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    use kube::CustomResourceExt;
    let mut crd = ModulePlugin::crd();
    for v in &mut crd.spec.versions {
        if let Some(root) = v
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            if let Some(req) = root.required.as_mut() {
                req.retain(|r| r != "spec");
            }
            if let Some(spec) = root.properties.as_mut().and_then(|p| p.get_mut("spec")) {
                spec.default = Some(
                    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON(
                        serde_json::json!({}),
                    ),
                );
            }
        }
    }
    crd
}
