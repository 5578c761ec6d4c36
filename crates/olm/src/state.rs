//! The catalogs of one cluster as the catalog operator last read them, shared by the
//! Subscription controller (resolution) and the PackageManifest provider (listings).
//!
//! This is a cache of what the catalog images hold, not state of record: after a restart the
//! CatalogSource controller pulls every image again and fills it; until then resolution waits
//! (a Subscription says its catalog is not loaded yet) and PackageManifests are simply absent.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use catalog::Catalog;
use catalog::resolve::SourceKey;

/// Settings shared by every cluster.
#[derive(Debug, Clone)]
pub struct Config {
    /// Namespaces whose CatalogSources are visible from every namespace.
    pub global_namespaces: Vec<String>,
}

/// The environment variable that overrides [`Config::global_namespaces`] (comma separated).
pub const GLOBAL_NAMESPACES_ENV: &str = "MARKETPLACE_GLOBAL_CATALOG_NAMESPACES";

impl Default for Config {
    fn default() -> Config {
        Config {
            global_namespaces: vec!["cpaas-system".into(), "openshift-marketplace".into()],
        }
    }
}

impl Config {
    /// The default, or the namespaces listed in `MARKETPLACE_GLOBAL_CATALOG_NAMESPACES`.
    pub fn from_env() -> Config {
        match std::env::var(GLOBAL_NAMESPACES_ENV) {
            Ok(v) if !v.trim().is_empty() => Config {
                global_namespaces: v
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            _ => Config::default(),
        }
    }

    pub fn is_global(&self, namespace: &str) -> bool {
        self.global_namespaces.iter().any(|n| n == namespace)
    }
}

/// One CatalogSource's loaded content.
#[derive(Debug)]
pub struct LoadedSource {
    pub key: SourceKey,
    pub display_name: String,
    pub publisher: String,
    pub priority: i32,
    /// The image reference the content was read from (empty: no image, uploads only).
    pub image: String,
    /// The digest that was read.
    pub digest: String,
    pub catalog: Catalog,
    /// Package → whether its default channel head's images are in the registry.
    pub ready: BTreeMap<String, bool>,
    /// When the image was last pulled.
    pub polled: std::time::Instant,
    /// The uploaded bundle images added on top (contract #3), sorted.
    pub uploads: Vec<String>,
}

/// The catalogs of one cluster.
pub struct ClusterCatalogs {
    pub config: Config,
    sources: RwLock<BTreeMap<SourceKey, Arc<LoadedSource>>>,
    feed: computed::ChangeFeed,
    /// Moves only when catalog content changed (not on readiness-only changes): resolution input.
    content: computed::ChangeFeed,
    /// Uploaded bundles already read.
    pub bundles: crate::uploads::BundleCache,
}

impl ClusterCatalogs {
    pub fn new(config: Config) -> ClusterCatalogs {
        ClusterCatalogs {
            config,
            sources: RwLock::new(BTreeMap::new()),
            feed: computed::ChangeFeed::new(),
            content: computed::ChangeFeed::new(),
            bundles: Default::default(),
        }
    }

    pub fn get(&self, key: &SourceKey) -> Option<Arc<LoadedSource>> {
        self.sources
            .read()
            .expect("catalogs lock")
            .get(key)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<LoadedSource>> {
        self.sources
            .read()
            .expect("catalogs lock")
            .values()
            .cloned()
            .collect()
    }

    pub fn put(&self, s: LoadedSource) {
        self.sources
            .write()
            .expect("catalogs lock")
            .insert(s.key.clone(), Arc::new(s));
        self.feed.notify();
        self.content.notify();
    }

    /// Replaces a source whose content did not change (a poll that found the same digest):
    /// nobody is notified.
    pub fn touch(&self, s: LoadedSource) {
        self.sources
            .write()
            .expect("catalogs lock")
            .insert(s.key.clone(), Arc::new(s));
    }

    pub fn remove(&self, key: &SourceKey) {
        if self
            .sources
            .write()
            .expect("catalogs lock")
            .remove(key)
            .is_some()
        {
            self.feed.notify();
            self.content.notify();
        }
    }

    /// Moves whenever a catalog changed (PackageManifests).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.subscribe()
    }

    /// Moves whenever a catalog's content changed (Subscriptions re-resolve).
    pub fn content_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.content.subscribe()
    }
}

/// The shared catalogs of `cluster` (one per cluster name in this process; the CatalogSource
/// controller fills them, the provider registered by `marketplace serve` reads them).
pub fn catalogs(cluster: &str) -> Arc<ClusterCatalogs> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<ClusterCatalogs>>>> = OnceLock::new();
    ALL.get_or_init(Default::default)
        .lock()
        .expect("catalog registry lock")
        .entry(cluster.to_string())
        .or_insert_with(|| Arc::new(ClusterCatalogs::new(Config::from_env())))
        .clone()
}
