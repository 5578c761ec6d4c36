//! `operators.coreos.com`: CatalogSource, Subscription, InstallPlan, ClusterServiceVersion (v1alpha1) and OperatorGroup (v1), with OLM's field names and status shapes.
//!
//! The field names, short names and printer columns are OLM v0's (operator-framework/api), so real
//! CSVs, Subscriptions and catalogs apply unchanged and `kubectl get csv|sub|ip|catsrc|og` prints
//! OLM's columns. Where OLM's own CRD schema is permissive (the CSV's install strategy, its
//! descriptors, a Subscription's `config`, InstallPlan step manifests) ours keeps unknown fields
//! (`x-kubernetes-preserve-unknown-fields`), so nothing a real bundle carries is pruned.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API group of every kind here.
pub const GROUP: &str = "operators.coreos.com";

/// Annotation on a Subscription: the namespaces its OperatorGroup targets, created when the
/// namespace has none (empty = all namespaces).
pub const TARGET_NAMESPACES_ANNOTATION: &str = "cpaas.io/target-namespaces";
/// CSV annotation (and PackageManifest label) naming the package's source type.
pub const PROVIDER_TYPE: &str = "cpaas.io/provider-type";
/// OLM's annotation on a CSV with its OperatorGroup's target namespaces.
pub const OLM_TARGET_NAMESPACES: &str = "olm.targetNamespaces";
/// OLM's annotation on a CSV naming its OperatorGroup.
pub const OLM_OPERATOR_GROUP: &str = "olm.operatorGroup";
/// Label on the objects an InstallPlan created for a CSV (deployments, RBAC): the owning CSV's
/// `<namespace>.<name>` is OLM's `olm.owner` / `olm.owner.namespace` pair.
pub const OLM_OWNER: &str = "olm.owner";
pub const OLM_OWNER_NAMESPACE: &str = "olm.owner.namespace";
pub const OLM_OWNER_KIND: &str = "olm.owner.kind";

/// A schema that keeps every field (OLM's own CRDs are this permissive for these parts).
fn preserve(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

fn preserve_opt(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    preserve(g)
}

/// A status condition in OLM's Subscription/InstallPlan shape.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OlmCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// CatalogSource

/// A catalog of operator packages: `sourceType: grpc` with an `image` (a file-based catalog image).
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "operators.coreos.com",
    version = "v1alpha1",
    kind = "CatalogSource",
    namespaced,
    status = "CatalogSourceStatus",
    shortname = "catsrc",
    category = "olm",
    printcolumn = r#"{"name":"Display","type":"string","jsonPath":".spec.displayName","description":"The pretty name of the catalog"}"#,
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.sourceType","description":"The type of the catalog"}"#,
    printcolumn = r#"{"name":"Publisher","type":"string","jsonPath":".spec.publisher","description":"The publisher of the catalog"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct CatalogSourceSpec {
    /// `grpc` (a catalog image), `internal`/`configmap` (not served here).
    #[serde(default)]
    pub source_type: String,
    /// The catalog image (`/configs` or its `operators.operatorframework.io.index.configs.v1` label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<UpdateStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub icon: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub grpc_pod_config: Option<Value>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_poll: Option<RegistryPoll>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryPoll {
    /// A Go duration, e.g. `10m`, `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogSourceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_state: Option<ConnectionState>,
    /// When the image was last pulled (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_image_registry_poll: Option<String>,
    /// The digest the content was read from (ours; OLM keeps it in the registry pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<OlmCondition>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_connect: Option<String>,
    /// `READY`, `CONNECTING`, `TRANSIENT_FAILURE` (gRPC connectivity states, as OLM reports them).
    pub last_observed_state: String,
}

// ---------------------------------------------------------------------------------------------
// Subscription

/// A request to install and keep upgrading one package from a catalog channel.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "operators.coreos.com",
    version = "v1alpha1",
    kind = "Subscription",
    namespaced,
    status = "SubscriptionStatus",
    shortname = "sub",
    shortname = "subs",
    category = "olm",
    printcolumn = r#"{"name":"Package","type":"string","jsonPath":".spec.name","description":"The package subscribed to"}"#,
    printcolumn = r#"{"name":"Source","type":"string","jsonPath":".spec.source","description":"The catalog source for the specified package"}"#,
    printcolumn = r#"{"name":"Channel","type":"string","jsonPath":".spec.channel","description":"The channel of updates to subscribe to"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSpec {
    /// The CatalogSource's name.
    pub source: String,
    /// The CatalogSource's namespace.
    pub source_namespace: String,
    /// The package.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "startingCSV"
    )]
    pub starting_csv: Option<String>,
    /// `Automatic` (default) or `Manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_plan_approval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub config: Option<Value>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionStatus {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "currentCSV"
    )]
    pub current_csv: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "installedCSV"
    )]
    pub installed_csv: Option<String>,
    /// OLM's legacy reference (`installplan`), kept beside `installPlanRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installplan: Option<InstallPlanReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_plan_ref: Option<ObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_plan_generation: Option<i64>,
    /// `UpgradePending`, `AtLatestKnown`, `UpgradeAvailable`, `UpgradeFailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<OlmCondition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalog_health: Vec<SubscriptionCatalogHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallPlanReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uuid: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCatalogHealth {
    pub catalog_source_ref: ObjectReference,
    pub healthy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// InstallPlan

/// The steps that install or upgrade the operators of one namespace, run once approved.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "operators.coreos.com",
    version = "v1alpha1",
    kind = "InstallPlan",
    namespaced,
    status = "InstallPlanStatus",
    shortname = "ip",
    category = "olm",
    printcolumn = r#"{"name":"CSV","type":"string","jsonPath":".spec.clusterServiceVersionNames[0]","description":"The first CSV in the list of clusterServiceVersionNames"}"#,
    printcolumn = r#"{"name":"Approval","type":"string","jsonPath":".spec.approval","description":"The approval mode"}"#,
    printcolumn = r#"{"name":"Approved","type":"boolean","jsonPath":".spec.approved"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct InstallPlanSpec {
    #[serde(default, rename = "clusterServiceVersionNames")]
    pub cluster_service_version_names: Vec<String>,
    /// `Automatic` or `Manual`.
    pub approval: String,
    pub approved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_namespace: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallPlanStatus {
    /// `RequiresApproval`, `Installing`, `Complete`, `Failed`.
    #[serde(default)]
    pub phase: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<OlmCondition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalog_sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

/// One object an InstallPlan creates.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The CSV this step installs.
    pub resolving: String,
    pub resource: StepResource,
    /// `Unknown`, `NotPresent`, `Present`, `Created`, `WaitingForAPI`.
    pub status: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepResource {
    pub catalog_source: String,
    pub catalog_source_namespace: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    /// The object as JSON text (OLM's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// ClusterServiceVersion

/// An operator version: its install strategy, APIs and install modes.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "operators.coreos.com",
    version = "v1alpha1",
    kind = "ClusterServiceVersion",
    plural = "clusterserviceversions",
    namespaced,
    status = "ClusterServiceVersionStatus",
    shortname = "csv",
    shortname = "csvs",
    category = "olm",
    printcolumn = r#"{"name":"Display","type":"string","jsonPath":".spec.displayName","description":"The name of the CSV"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version","description":"The version of the CSV"}"#,
    printcolumn = r#"{"name":"Replaces","type":"string","jsonPath":".spec.replaces","description":"The name of a CSV that this one replaces"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct ClusterServiceVersionSpec {
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skips: Vec<String>,
    #[serde(default)]
    pub install_modes: Vec<InstallMode>,
    #[serde(default)]
    #[schemars(schema_with = "preserve")]
    pub install: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customresourcedefinitions: Option<CustomResourceDefinitions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub provider: Option<Value>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallMode {
    /// `OwnNamespace`, `SingleNamespace`, `MultiNamespace`, `AllNamespaces`.
    #[serde(rename = "type")]
    pub type_: String,
    pub supported: bool,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomResourceDefinitions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owned: Vec<CrdDescription>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<CrdDescription>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct CrdDescription {
    /// `<plural>.<group>`.
    pub name: String,
    pub version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterServiceVersionStatus {
    /// `Pending`, `InstallReady`, `Installing`, `Succeeded`, `Failed`, `Replacing`, `Deleting`.
    #[serde(default)]
    pub phase: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// The phase history, newest last (OLM keeps the recent transitions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<CsvCondition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirement_status: Vec<RequirementStatus>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsvCondition {
    pub phase: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequirementStatus {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    /// `Present`, `NotPresent`, `PresentNotSatisfied`.
    pub status: String,
    #[serde(default)]
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// OperatorGroup

/// The namespaces the operators of one namespace serve.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "operators.coreos.com",
    version = "v1",
    kind = "OperatorGroup",
    namespaced,
    status = "OperatorGroupStatus",
    shortname = "og",
    category = "olm"
)]
#[serde(rename_all = "camelCase")]
pub struct OperatorGroupSpec {
    /// Empty (and no selector) = all namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_namespaces: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_provided_apis: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_opt")]
    pub upgrade_strategy: Option<Value>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorGroupStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<OlmCondition>,
}

/// Every CRD of this group, for a controller set's `.with_crd()`.
pub fn crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    use kube::CustomResourceExt;
    let mut og = OperatorGroup::crd();
    // OLM accepts an OperatorGroup without `spec` (= all namespaces).
    if let Some(schema) = og.spec.versions[0]
        .schema
        .as_mut()
        .and_then(|s| s.open_api_v3_schema.as_mut())
        && let Some(req) = schema.required.as_mut()
    {
        req.retain(|r| r != "spec");
    }
    vec![
        CatalogSource::crd(),
        Subscription::crd(),
        InstallPlan::crd(),
        ClusterServiceVersion::crd(),
        og,
    ]
}

/// Free-form labels map, as in ObjectMeta.
pub type Labels = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    fn columns(
        crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    ) -> Vec<String> {
        crd.spec.versions[0]
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.to_uppercase())
            .collect()
    }

    #[test]
    fn printer_columns_are_olms() {
        let crds = crds();
        let by_kind = |k: &str| crds.iter().find(|c| c.spec.names.kind == k).unwrap();
        assert_eq!(
            columns(by_kind("ClusterServiceVersion")),
            ["DISPLAY", "VERSION", "REPLACES", "PHASE"]
        );
        assert_eq!(
            columns(by_kind("InstallPlan")),
            ["CSV", "APPROVAL", "APPROVED"]
        );
        assert_eq!(
            columns(by_kind("Subscription")),
            ["PACKAGE", "SOURCE", "CHANNEL"]
        );
        assert_eq!(
            columns(by_kind("CatalogSource")),
            ["DISPLAY", "TYPE", "PUBLISHER", "AGE"]
        );
        let short = |k: &str| by_kind(k).spec.names.short_names.clone().unwrap();
        assert_eq!(short("ClusterServiceVersion")[0], "csv");
        assert_eq!(short("Subscription")[0], "sub");
        assert_eq!(short("InstallPlan")[0], "ip");
        assert_eq!(short("CatalogSource")[0], "catsrc");
        assert_eq!(short("OperatorGroup")[0], "og");
    }

    #[test]
    fn csv_spec_keeps_unknown_fields() {
        let crd = ClusterServiceVersion::crd();
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
        let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["x-kubernetes-preserve-unknown-fields"], true, "{spec}");
        assert_eq!(
            spec["properties"]["install"]["x-kubernetes-preserve-unknown-fields"],
            true
        );
    }
}
