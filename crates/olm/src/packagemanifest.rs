//! PackageManifest (`packages.operators.coreos.com/v1`) as a computed resource, as OLM's package
//! server builds it: one object per package per catalog, in the catalog's namespace — and, for
//! catalogs in a global namespace, visible from every namespace (computed on read by the server,
//! never copied per namespace). Labels: OLM's `catalog`,
//! `catalog-namespace`, `provider`, `provider-url`, `operatorframework.io/arch.*`, plus the
//! product's `cpaas.io/provider-type` and `cpaas.io/package-status` (`Ready` when the default
//! channel head's images are in the registry, else `Absent`).
//!
//! `system` catalog packages stay gettable by name (they remain installable by YAML) but carry
//! `cpaas.io/hidden: "true"`; OperatorHub lists with the selector `cpaas.io/hidden!=true`.

use std::collections::BTreeMap;
use std::sync::Arc;

use apis::packages::{self as pm, AppLink, ChannelEntry, PackageChannel, PackageManifestStatus};
use catalog::{Bundle, Package};
use computed::{PrinterColumn, Provider, ProviderError, ResourceDescription, Scope};
use serde_json::{Value, json};

use crate::state::{ClusterCatalogs, LoadedSource};

/// The catalog whose packages are hidden from listings.
pub const HIDDEN_CATALOG: &str = "system";

pub struct PackageManifests {
    catalogs: Arc<ClusterCatalogs>,
}

impl PackageManifests {
    pub fn new(catalogs: Arc<ClusterCatalogs>) -> PackageManifests {
        PackageManifests { catalogs }
    }
}

/// The provider `marketplace serve` registers for `cluster`.
pub fn provider(cluster: &str) -> Arc<dyn Provider> {
    Arc::new(PackageManifests::new(crate::state::catalogs(cluster)))
}

impl Provider for PackageManifests {
    fn describe(&self) -> ResourceDescription {
        ResourceDescription {
            group: pm::GROUP.into(),
            version: pm::VERSION.into(),
            kind: pm::KIND.into(),
            plural: "packagemanifests".into(),
            singular: "packagemanifest".into(),
            short_names: vec![],
            categories: vec!["olm".into()],
            scope: Scope::Namespaced,
            schema: pm::schema(),
            printer_columns: vec![
                PrinterColumn::new(
                    "Catalog",
                    "string",
                    ".status.catalogSourceDisplayName",
                    "The catalog the package comes from",
                ),
                PrinterColumn::new("Age", "date", ".metadata.creationTimestamp", ""),
            ],
            global_namespaces: self.catalogs.config.global_namespaces.clone(),
        }
    }

    /// Each package once, in its catalog's namespace; the servers show the packages of global
    /// catalogs in every namespace (the description's `global_namespaces`), as OLM's package
    /// server does, without a copy per namespace.
    fn list(&self) -> Result<Vec<Value>, ProviderError> {
        let mut out = Vec::new();
        for src in self.catalogs.all() {
            for pkg in src.catalog.packages() {
                let mut o = manifest(&src, pkg);
                o["metadata"]["namespace"] = json!(src.key.namespace);
                out.push(o);
            }
        }
        Ok(out)
    }

    fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.catalogs.changes()
    }
}

/// The package's source type: the head CSV's `cpaas.io/provider-type` annotation, else `custom`
/// for the `custom` catalog and `community` otherwise.
pub fn provider_type(catalog_name: &str, head: Option<&Bundle>) -> String {
    let annotated = head.and_then(|b| b.csv_metadata()).and_then(|m| {
        m["annotations"][apis::operators::PROVIDER_TYPE]
            .as_str()
            .map(str::to_lowercase)
    });
    match annotated {
        Some(t) if !t.is_empty() => t,
        _ if catalog_name == "custom" => "custom".into(),
        _ => "community".into(),
    }
}

/// The default channel's head bundle (or the first channel's, when none is declared).
pub fn head_of(pkg: &Package) -> Option<&Bundle> {
    let ch = pkg
        .default_channel
        .clone()
        .or_else(|| pkg.channels.keys().next().cloned())?;
    pkg.head_bundle(&ch)
}

/// One PackageManifest (namespace filled in by the caller).
pub fn manifest(src: &LoadedSource, pkg: &Package) -> Value {
    let head = head_of(pkg);
    let meta = head.and_then(|b| b.csv_metadata()).unwrap_or(Value::Null);
    let provider = AppLink {
        name: meta["provider"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        url: meta["provider"]["url"].as_str().map(str::to_string),
    };
    let channels: Vec<PackageChannel> = pkg
        .channels
        .values()
        .filter_map(|ch| {
            let head = ch.head()?;
            let bundle = pkg.bundle(&head.name);
            let entries = catalog::resolve::channel_order(pkg, ch)
                .into_iter()
                .map(|name| ChannelEntry {
                    name: name.to_string(),
                    version: pkg
                        .bundle(name)
                        .map(|b| b.version.to_string())
                        .unwrap_or_default(),
                })
                .collect();
            Some(PackageChannel {
                name: ch.name.clone(),
                current_csv: head.name.clone(),
                current_csv_desc: csv_desc(bundle),
                entries,
            })
        })
        .collect();
    let status = PackageManifestStatus {
        catalog_source: src.key.name.clone(),
        catalog_source_display_name: src.display_name.clone(),
        catalog_source_publisher: src.publisher.clone(),
        catalog_source_namespace: src.key.namespace.clone(),
        provider: provider.clone(),
        package_name: pkg.name.clone(),
        channels,
        default_channel: pkg.default_channel.clone().unwrap_or_default(),
    };
    let mut labels = BTreeMap::new();
    labels.insert(pm::LABEL_CATALOG.to_string(), src.key.name.clone());
    labels.insert(
        pm::LABEL_CATALOG_NAMESPACE.to_string(),
        src.key.namespace.clone(),
    );
    labels.insert(pm::LABEL_PROVIDER.to_string(), label_value(&provider.name));
    labels.insert(
        pm::LABEL_PROVIDER_URL.to_string(),
        label_value(provider.url.as_deref().unwrap_or("")),
    );
    labels.insert(
        pm::LABEL_PROVIDER_TYPE.to_string(),
        provider_type(&src.key.name, head),
    );
    let ready = src.ready.get(&pkg.name).copied().unwrap_or(false);
    labels.insert(
        pm::LABEL_PACKAGE_STATUS.to_string(),
        if ready { "Ready" } else { "Absent" }.into(),
    );
    if src.key.name == HIDDEN_CATALOG {
        labels.insert(pm::LABEL_HIDDEN.to_string(), "true".into());
    }
    for (k, v) in meta["labels"].as_object().into_iter().flatten() {
        if k.starts_with(pm::LABEL_ARCH_PREFIX) || k.starts_with("operatorframework.io/os.") {
            labels.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    json!({
        "apiVersion": format!("{}/{}", pm::GROUP, pm::VERSION),
        "kind": pm::KIND,
        "metadata": {"name": pkg.name, "labels": labels},
        "spec": {},
        "status": status,
    })
}

/// A label value: at most 63 characters of `[A-Za-z0-9._-]`, trimmed to start and end alphanumeric.
fn label_value(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// OLM's `CSVDescription` of a channel head.
fn csv_desc(bundle: Option<&Bundle>) -> Value {
    let Some(b) = bundle else { return json!({}) };
    let m = b.csv_metadata().unwrap_or(Value::Null);
    let mut d = json!({
        "displayName": m["displayName"].as_str().unwrap_or(&b.name),
        "version": b.version.to_string(),
    });
    for k in [
        "provider",
        "annotations",
        "description",
        "keywords",
        "links",
        "maintainers",
        "maturity",
        "minKubeVersion",
        "installModes",
        "customresourcedefinitions",
        "apiservicedefinitions",
        "nativeAPIs",
        "icon",
        "labels",
    ] {
        if let Some(v) = m.get(k).filter(|v| !v.is_null()) {
            d[k] = v.clone();
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_kubernetes_label_values() {
        assert_eq!(label_value("Alauda, Inc."), "Alauda--Inc");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn source_type_defaults_by_catalog() {
        assert_eq!(provider_type("custom", None), "custom");
        assert_eq!(provider_type("community-operators", None), "community");
    }
}
