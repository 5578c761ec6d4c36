//! `app.alauda.io/v1alpha1`: Artifact and ArtifactVersion, the records `violet push` creates for an uploaded package.
//!
//! Both are namespaced and live in namespace [`NAMESPACE`] (`cpaas-system`) of the cluster they
//! target. An `Artifact` is named after the package (`topolvm-operator`); each uploaded version is an
//! `ArtifactVersion` named `<package>.<version>` lowercased (`topolvm-operator.v2.3.0`, see
//! [`version_name`]) with an ownerReference to its Artifact and the labels [`ARTIFACT_LABEL`] and
//! [`TYPE_LABEL`]. The `artifacts` crate's controller sets `ArtifactVersion.status` (phase
//! `Pending` → `Ready` once every image is in the registry, or `Failed` with a message).
//!
//! Clients that do not link this crate (violet) write the same shapes as JSON; the serde names here
//! are the contract.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The API group.
pub const GROUP: &str = "app.alauda.io";
/// The API version.
pub const VERSION: &str = "v1alpha1";
/// The namespace Artifact records live in, in every cluster.
pub const NAMESPACE: &str = "cpaas-system";
/// Label on Artifacts and ArtifactVersions: the artifact type (`bundle`, `plugin`, `chart`).
pub const TYPE_LABEL: &str = "cpaas.io/artifact-type";
/// Label on ArtifactVersions: the Artifact (package) name.
pub const ARTIFACT_LABEL: &str = "cpaas.io/artifact";

/// What kind of package an artifact is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactType {
    /// An operator (OLM bundle).
    Bundle,
    /// A cluster plugin (ModulePlugin + ModuleConfig + chart).
    Plugin,
    /// A Helm chart for the `public-charts` repository.
    Chart,
}

impl ArtifactType {
    /// The lowercase name used in labels and specs.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactType::Bundle => "bundle",
            ArtifactType::Plugin => "plugin",
            ArtifactType::Chart => "chart",
        }
    }
}

impl std::fmt::Display for ArtifactType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a package comes from (the console's source filter).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    Alauda,
    Curated,
    Community,
    Marketplace,
    Custom,
}

/// The catalog an operator is added to (the CatalogSource of that name in `cpaas-system`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CatalogSourceName {
    Platform,
    System,
    Custom,
}

impl CatalogSourceName {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSourceName::Platform => "platform",
            CatalogSourceName::System => "system",
            CatalogSourceName::Custom => "custom",
        }
    }
}

/// An uploaded package (one per package name and cluster).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "app.alauda.io",
    version = "v1alpha1",
    kind = "Artifact",
    namespaced,
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Display Name","type":"string","jsonPath":".spec.displayName"}"#,
    printcolumn = r#"{"name":"Source","type":"string","jsonPath":".spec.sourceType"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactSpec {
    #[serde(rename = "type")]
    pub type_: ArtifactType,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<SourceType>,
    /// Operators only: the catalog the package's versions join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_source: Option<CatalogSourceName>,
}

/// One uploaded version of a package.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "app.alauda.io",
    version = "v1alpha1",
    kind = "ArtifactVersion",
    namespaced,
    status = "ArtifactVersionStatus",
    printcolumn = r#"{"name":"Artifact","type":"string","jsonPath":".spec.artifact"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Image","type":"string","priority":1,"jsonPath":".spec.image"}"#,
    printcolumn = r#"{"name":"Message","type":"string","priority":1,"jsonPath":".status.message"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactVersionSpec {
    /// The Artifact (package) name.
    pub artifact: String,
    pub version: String,
    #[serde(rename = "type")]
    pub type_: ArtifactType,
    /// The main artifact by digest: `<registry>/<repo>@sha256:...` (bundle image, chart artifact or plugin chart).
    pub image: String,
    /// The tag the main artifact was pushed with.
    #[serde(default)]
    pub tag: String,
    /// Architectures the package supports (`amd64`, `arm64`, ...).
    #[serde(default)]
    pub arch: Vec<String>,
    /// Every other image the package ships, by digest.
    #[serde(default)]
    pub related_images: Vec<String>,
    /// Operators: the CatalogSource (in the same namespace) the bundle joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_source: Option<CatalogSourceName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<SourceType>,
    /// Charts and plugins: the chart's name and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartRef>,
    /// Plugins: the ModulePlugin to create in global (a whole object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub module_plugin: Option<serde_json::Value>,
    /// Plugins: the ModuleConfig to create in global (a whole object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub module_config: Option<serde_json::Value>,
}

/// A chart's name and version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct ChartRef {
    pub name: String,
    pub version: String,
}

/// The phase of an ArtifactVersion.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
pub enum Phase {
    /// Not checked yet.
    #[default]
    Pending,
    /// Every image is in the registry and the version's objects exist.
    Ready,
    /// Something is missing or wrong; `message` says what.
    Failed,
}

/// What the artifacts controller observed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactVersionStatus {
    #[serde(default)]
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A status condition (metav1.Condition's fields).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// An ArtifactVersion's name: `<package>.<version>` lowercased (`topolvm-operator.v2.3.0`), with
/// characters DNS-1123 does not allow (`+`, `_`, ...) turned into `-`.
pub fn version_name(package: &str, version: &str) -> String {
    format!("{package}.{version}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn free_form_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;
    use serde_json::json;

    #[test]
    fn version_names_are_lowercase_dns_1123() {
        assert_eq!(
            version_name("topolvm-operator", "v2.3.0"),
            "topolvm-operator.v2.3.0"
        );
        assert_eq!(version_name("Foo", "1.0.0+Build_1"), "foo.1.0.0-build-1");
    }

    #[test]
    fn an_artifact_version_reads_the_contract_json() {
        let v: ArtifactVersion = serde_json::from_value(json!({
            "apiVersion": "app.alauda.io/v1alpha1", "kind": "ArtifactVersion",
            "metadata": {"name": "demo.v1.0.0", "namespace": "cpaas-system"},
            "spec": {"artifact": "demo", "version": "v1.0.0", "type": "plugin",
                     "image": "reg:5000/demo@sha256:00", "tag": "v1.0.0", "arch": ["amd64"],
                     "relatedImages": ["reg:5000/x@sha256:11"], "chart": {"name": "demo", "version": "1.0.0"},
                     "modulePlugin": {"kind": "ModulePlugin", "spec": {"x": 1}}},
            "status": {"phase": "Ready", "conditions": []}
        }))
        .unwrap();
        assert_eq!(v.spec.type_, ArtifactType::Plugin);
        assert_eq!(v.spec.module_plugin.unwrap()["spec"]["x"], 1);
        assert_eq!(v.status.unwrap().phase, Phase::Ready);
    }

    #[test]
    fn the_embedded_objects_keep_unknown_fields_in_the_crd() {
        let crd = serde_json::to_value(ArtifactVersion::crd()).unwrap();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        assert_eq!(
            spec["modulePlugin"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
        assert_eq!(spec["type"]["enum"], json!(["bundle", "plugin", "chart"]));
        assert_eq!(crd["spec"]["scope"], "Namespaced");
    }
}
