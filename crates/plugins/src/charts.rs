//! Plugin charts from the registry, cached by what is pulled: a chart reference's tag is resolved
//! to its manifest digest (one `HEAD`) every time the chart is needed, and loaded charts are kept
//! by that digest, so a tag pushed again with a different chart is read again while an unchanged
//! one costs no download. The cache holds at most [`CAPACITY`] charts (least recently used goes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many loaded charts the cache keeps.
pub const CAPACITY: usize = 32;

/// Why a chart could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot pull chart {reference}: {source}")]
    Pull {
        reference: String,
        #[source]
        source: oci::Error,
    },
    #[error("chart {reference} is not in the registry (no manifest for its tag)")]
    Missing { reference: String },
    #[error("chart {reference} does not load: {message}")]
    Load { reference: String, message: String },
}

/// Bounded least-recently-used map from a key to a value.
#[derive(Debug)]
pub struct Lru<V> {
    entries: hashlink::LruCache<String, V>,
}

impl<V: Clone> Lru<V> {
    pub fn new(cap: usize) -> Lru<V> {
        Lru {
            entries: hashlink::LruCache::new(cap.max(1)),
        }
    }

    pub fn get(&mut self, key: &str) -> Option<V> {
        self.entries.get(key).cloned()
    }

    pub fn insert(&mut self, key: String, value: V) {
        self.entries.insert(key, value);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Registries by host and loaded charts by manifest digest.
pub struct Charts {
    registries: tokio::sync::Mutex<HashMap<String, Arc<oci::Registry>>>,
    loaded: Mutex<Lru<Arc<helm::Chart>>>,
}

impl Default for Charts {
    fn default() -> Self {
        Charts {
            registries: Default::default(),
            loaded: Mutex::new(Lru::new(CAPACITY)),
        }
    }
}

impl Charts {
    /// The chart `reference` (`host/repo:tag` or `host/repo@sha256:...`) names now.
    pub async fn get(&self, reference: &str) -> Result<Arc<helm::Chart>, Error> {
        let pull = |source| Error::Pull {
            reference: reference.to_string(),
            source,
        };
        let r = oci::Reference::parse(reference).map_err(pull)?;
        let reg = self.registry(r.api_host()).await.map_err(pull)?;
        let digest = match r.digest() {
            Some(d) => d.clone(),
            None => {
                let tag = r.tag().unwrap_or("latest").replace('+', "_");
                match reg.head_manifest(r.repository(), &tag).await {
                    Ok(Some((d, _))) => d,
                    Ok(None) => {
                        return Err(Error::Missing {
                            reference: reference.to_string(),
                        });
                    }
                    Err(e) => return Err(pull(e)),
                }
            }
        };
        let key = digest.to_string();
        if let Some(c) = self.loaded.lock().expect("chart cache").get(&key) {
            return Ok(c);
        }
        let t0 = std::time::Instant::now();
        let bytes = oci::chart::pull(&reg, r.repository(), &key)
            .await
            .map_err(pull)?;
        let chart = helm::chart::load_archive_bytes(&bytes).map_err(|e| Error::Load {
            reference: reference.to_string(),
            message: e.0,
        })?;
        tracing::debug!(chart = %reference, digest = %key, elapsed = ?t0.elapsed(), "chart pulled");
        let chart = Arc::new(chart);
        self.loaded
            .lock()
            .expect("chart cache")
            .insert(key, chart.clone());
        Ok(chart)
    }

    async fn registry(&self, host: &str) -> Result<Arc<oci::Registry>, oci::Error> {
        let mut regs = self.registries.lock().await;
        if let Some(r) = regs.get(host) {
            return Ok(r.clone());
        }
        let opts = oci::Options {
            tls_verify: false,
            max_attempts: 2,
            ..Default::default()
        };
        let r = Arc::new(oci::Registry::connect(host, opts).await?);
        regs.insert(host.to_string(), r.clone());
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_keeps_at_most_its_capacity_and_drops_the_least_recently_used() {
        let mut l = Lru::new(2);
        l.insert("a".into(), 1);
        l.insert("b".into(), 2);
        assert_eq!(l.get("a"), Some(1));
        l.insert("c".into(), 3);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b"), None, "b was used least recently");
        assert_eq!(l.get("a"), Some(1));
        assert_eq!(l.get("c"), Some(3));
        l.insert("c".into(), 4);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("c"), Some(4));
    }
}
