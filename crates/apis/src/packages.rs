//! `packages.operators.coreos.com/v1`: PackageManifest, the read-only view computed from the catalogs.
//!
//! The shape is OLM package server's (operator-lifecycle-manager `pkg/package-server/apis`):
//! `status.{catalogSource, catalogSourceDisplayName, catalogSourcePublisher,
//! catalogSourceNamespace, provider, packageName, defaultChannel, channels[]}` with each channel's
//! `currentCSV`, `currentCSVDesc` and `entries[].{name, version}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const GROUP: &str = "packages.operators.coreos.com";
pub const VERSION: &str = "v1";
pub const KIND: &str = "PackageManifest";

/// Labels every PackageManifest carries (OLM's, plus the product's).
pub const LABEL_CATALOG: &str = "catalog";
pub const LABEL_CATALOG_NAMESPACE: &str = "catalog-namespace";
pub const LABEL_PROVIDER: &str = "provider";
pub const LABEL_PROVIDER_URL: &str = "provider-url";
pub const LABEL_PROVIDER_TYPE: &str = "cpaas.io/provider-type";
pub const LABEL_PACKAGE_STATUS: &str = "cpaas.io/package-status";
/// `"true"` on packages of the `system` catalog: OperatorHub listings select
/// `cpaas.io/hidden!=true`; a get by name still answers.
pub const LABEL_HIDDEN: &str = "cpaas.io/hidden";
/// Prefix of OLM's architecture labels (`operatorframework.io/arch.amd64: supported`).
pub const LABEL_ARCH_PREFIX: &str = "operatorframework.io/arch.";

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PackageManifestStatus {
    pub catalog_source: String,
    pub catalog_source_display_name: String,
    pub catalog_source_publisher: String,
    pub catalog_source_namespace: String,
    pub provider: AppLink,
    pub package_name: String,
    pub channels: Vec<PackageChannel>,
    pub default_channel: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppLink {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PackageChannel {
    pub name: String,
    #[serde(rename = "currentCSV")]
    pub current_csv: String,
    /// The head CSV's description (displayName, version, provider, annotations, installModes,
    /// customresourcedefinitions, ...), as OLM's `CSVDescription`.
    #[serde(rename = "currentCSVDesc")]
    pub current_csv_desc: Value,
    pub entries: Vec<ChannelEntry>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct ChannelEntry {
    pub name: String,
    pub version: String,
}

/// The OpenAPI schema served for PackageManifest (status kept free-form below its top fields).
pub fn schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object"},
            "status": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "catalogSource": {"type": "string"},
                    "catalogSourceDisplayName": {"type": "string"},
                    "catalogSourcePublisher": {"type": "string"},
                    "catalogSourceNamespace": {"type": "string"},
                    "packageName": {"type": "string"},
                    "defaultChannel": {"type": "string"},
                    "provider": {"type": "object", "properties": {"name": {"type": "string"}, "url": {"type": "string"}}},
                    "channels": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
                }
            }
        }
    })
}
