//! The catalog model: packages, their channels (upgrade graphs) and bundles, as file-based
//! catalogs describe them (`olm.package`, `olm.channel`, `olm.bundle`, `olm.deprecations`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::version::Version;

/// Property types OLM defines (`olm.*`).
pub mod types {
    pub const PACKAGE: &str = "olm.package";
    pub const GVK: &str = "olm.gvk";
    pub const PACKAGE_REQUIRED: &str = "olm.package.required";
    pub const GVK_REQUIRED: &str = "olm.gvk.required";
    pub const BUNDLE_OBJECT: &str = "olm.bundle.object";
    pub const CSV_METADATA: &str = "olm.csv.metadata";
    pub const MAX_OPENSHIFT_VERSION: &str = "olm.maxOpenShiftVersion";
    pub const CONSTRAINT: &str = "olm.constraint";
    pub const DEPRECATED: &str = "olm.deprecated";
}

/// One `{type, value}` property of a bundle, channel or package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub value: Value,
}

impl Property {
    pub fn new(type_: &str, value: Value) -> Property {
        Property {
            type_: type_.to_string(),
            value,
        }
    }
}

/// A group/version/kind (`olm.gvk`, `olm.gvk.required`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gvk {
    #[serde(default)]
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// Whether a property value `{group, version, kind}` names this GVK.
    pub fn matches(&self, v: &Value) -> bool {
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        field("kind") == self.kind
            && field("version") == self.version
            && field("group") == self.group
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.kind)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.kind)
        }
    }
}

/// An `olm.package.required` dependency: a package in a version range (blang syntax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRequired {
    #[serde(rename = "packageName")]
    pub package_name: String,
    #[serde(rename = "versionRange")]
    pub version_range: String,
}

/// An image a bundle uses (`relatedImages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedImage {
    #[serde(default)]
    pub name: String,
    pub image: String,
}

/// A package icon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icon {
    pub base64data: String,
    pub mediatype: String,
}

/// One entry of an `olm.channel`: a bundle and the upgrade edges into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEntry {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skips: Vec<String>,
    #[serde(default, rename = "skipRange", skip_serializing_if = "Option::is_none")]
    pub skip_range: Option<String>,
}

/// An `olm.channel`: the upgrade graph of one channel of a package.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    pub package: String,
    pub entries: Vec<ChannelEntry>,
    pub properties: Vec<Property>,
    /// The file the channel came from (for messages).
    pub source: String,
}

impl Channel {
    /// Entries nothing else in the channel replaces or skips (a valid channel has exactly one).
    pub fn heads(&self) -> Vec<&ChannelEntry> {
        let incoming: BTreeSet<&str> = self
            .entries
            .iter()
            .flat_map(|e| e.replaces.iter().chain(e.skips.iter()))
            .map(String::as_str)
            .collect();
        self.entries
            .iter()
            .filter(|e| !incoming.contains(e.name.as_str()))
            .collect()
    }

    /// The channel head: the one entry nothing replaces or skips (None when there is not
    /// exactly one; a loaded catalog has been validated to have exactly one).
    pub fn head(&self) -> Option<&ChannelEntry> {
        match self.heads().as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The entry of bundle `name`.
    pub fn entry(&self, name: &str) -> Option<&ChannelEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The replaces chain from the head (head first), stopping at a name outside the channel or
    /// at a cycle.
    pub fn replaces_chain(&self) -> Vec<&ChannelEntry> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut cur = self.head();
        while let Some(e) = cur {
            if !seen.insert(e.name.as_str()) {
                break;
            }
            out.push(e);
            cur = e.replaces.as_deref().and_then(|r| self.entry(r));
        }
        out
    }
}

/// What an `olm.deprecations` entry refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeprecationReference {
    pub schema: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// One deprecation notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeprecationEntry {
    pub reference: DeprecationReference,
    pub message: String,
}

/// A package's `olm.deprecations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecations {
    pub entries: Vec<DeprecationEntry>,
}

impl Deprecations {
    /// The message deprecating `schema` `name` (`olm.package` with an empty name for the package).
    pub fn message_for(&self, schema: &str, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.reference.schema == schema && e.reference.name == name)
            .map(|e| e.message.as_str())
    }
}

/// A bundle: one installable version of a package.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The bundle's (CSV's) name, e.g. `etcdoperator.v0.9.4`.
    pub name: String,
    pub package: String,
    /// The bundle image reference (empty when the bundle came from a directory).
    pub image: String,
    /// The `olm.package` property's version.
    pub version: Version,
    /// The bundle's properties in catalog order.
    pub properties: Vec<Property>,
    pub related_images: Vec<RelatedImage>,
    /// Channels the bundle's own metadata declares (registry+v1 annotations); empty for FBC bundles.
    pub channels: Vec<String>,
    /// Default channel the bundle's metadata declares (registry+v1); None for FBC bundles.
    pub default_channel: Option<String>,
    /// The CSV's `spec.replaces` (registry+v1); channel entries carry it for FBC bundles.
    pub replaces: Option<String>,
    /// The CSV's `spec.skips` (registry+v1).
    pub skips: Vec<String>,
    /// The CSV's `olm.skipRange` annotation (registry+v1).
    pub skip_range: Option<String>,
    /// The file or image the bundle came from (for messages).
    pub source: String,
    /// Decoded manifests: registry+v1 `manifests/` or FBC `olm.bundle.object` properties.
    pub(crate) objects: Vec<Value>,
    /// The `olm.gvk` properties decoded once at load (the resolver asks every bundle).
    pub(crate) provided: Vec<Gvk>,
}

impl Bundle {
    /// The bundle's Kubernetes objects (CSV, CRDs, others), when the catalog carries them.
    pub fn objects(&self) -> &[Value] {
        &self.objects
    }

    /// The ClusterServiceVersion object, when the catalog carries it.
    pub fn csv_json(&self) -> Option<&Value> {
        self.objects
            .iter()
            .find(|o| o.get("kind").and_then(Value::as_str) == Some("ClusterServiceVersion"))
    }

    /// Properties of one type.
    pub fn properties_of<'a>(&'a self, type_: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.properties
            .iter()
            .filter(move |p| p.type_ == type_)
            .map(|p| &p.value)
    }

    /// APIs the bundle provides (`olm.gvk`).
    pub fn provided_gvks(&self) -> Vec<Gvk> {
        self.provided.clone()
    }

    /// Whether the bundle provides `gvk` (an `olm.gvk` property, as decoded when the bundle was
    /// loaded).
    pub fn provides(&self, gvk: &Gvk) -> bool {
        self.provided
            .iter()
            .any(|g| g.kind == gvk.kind && g.version == gvk.version && g.group == gvk.group)
    }

    /// Decodes the `olm.gvk` properties again (after `properties` was changed by hand).
    pub fn refresh_provided(&mut self) {
        self.provided = self
            .properties_of(types::GVK)
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect();
    }

    /// APIs the bundle requires (`olm.gvk.required`).
    pub fn required_gvks(&self) -> Vec<Gvk> {
        self.properties_of(types::GVK_REQUIRED)
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect()
    }

    /// Packages the bundle requires (`olm.package.required`).
    pub fn required_packages(&self) -> Vec<PackageRequired> {
        self.properties_of(types::PACKAGE_REQUIRED)
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect()
    }

    /// The CSV's metadata (`olm.csv.metadata`), or the CSV's own annotations and spec fields
    /// when only the CSV object is at hand.
    pub fn csv_metadata(&self) -> Option<Value> {
        if let Some(v) = self.properties_of(types::CSV_METADATA).next() {
            return Some(v.clone());
        }
        self.csv_json().map(crate::registry_v1::csv_metadata)
    }

    /// The `olm.maxOpenShiftVersion` property, if set.
    pub fn max_openshift_version(&self) -> Option<String> {
        self.properties_of(types::MAX_OPENSHIFT_VERSION)
            .next()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

/// A package: its metadata, channels and bundles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Package {
    pub name: String,
    pub default_channel: Option<String>,
    pub description: Option<String>,
    pub icon: Option<Icon>,
    pub properties: Vec<Property>,
    /// Channels by name.
    pub channels: BTreeMap<String, Channel>,
    /// Bundles by name.
    pub bundles: BTreeMap<String, Bundle>,
    pub deprecations: Option<Deprecations>,
    /// The file the package came from (for messages).
    pub source: String,
}

impl Package {
    /// The default channel, if declared and present.
    pub fn default_channel(&self) -> Option<&Channel> {
        self.default_channel
            .as_deref()
            .and_then(|c| self.channels.get(c))
    }

    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.get(name)
    }

    pub fn bundle(&self, name: &str) -> Option<&Bundle> {
        self.bundles.get(name)
    }

    /// The bundle at the head of `channel`.
    pub fn head_bundle(&self, channel: &str) -> Option<&Bundle> {
        self.channels
            .get(channel)?
            .head()
            .and_then(|e| self.bundles.get(&e.name))
    }

    /// Channels listing bundle `name`.
    pub fn channels_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Channel> + 'a {
        self.channels
            .values()
            .filter(move |c| c.entry(name).is_some())
    }
}

/// A catalog: packages by name, plus blobs of schemas this model does not know (kept for render).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    pub packages: BTreeMap<String, Package>,
    /// Blobs with other schemas, as read.
    pub others: Vec<Value>,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Packages in name order.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.packages.values()
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.get(name)
    }

    /// Bundle `name` of `package`.
    pub fn bundle(&self, package: &str, name: &str) -> Option<&Bundle> {
        self.packages.get(package)?.bundles.get(name)
    }

    /// Bundle `name` in any package.
    pub fn find_bundle(&self, name: &str) -> Option<&Bundle> {
        self.packages.values().find_map(|p| p.bundles.get(name))
    }

    /// Number of bundles over all packages.
    pub fn bundle_count(&self) -> usize {
        self.packages.values().map(|p| p.bundles.len()).sum()
    }
}
