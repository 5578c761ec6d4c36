//! Whether an artifact's images are in the platform registry: a `HEAD` of each manifest.
//!
//! As the kubelet stand-in does, the platform registry stands in for every registry: a reference's
//! repository path and digest (or tag) are looked up there, whatever host it names. Without a
//! platform registry every image counts as present.

use std::sync::Arc;

use oci::{Reference, Registry};
use tokio::sync::Mutex;

/// The platform registry, connected on first use (and again after an error).
pub struct Images {
    registry: Option<String>,
    conn: Mutex<Option<Arc<Registry>>>,
}

/// The outcome of checking a set of images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Every image is there.
    All,
    /// These are not (each with where it was looked for).
    Missing(Vec<String>),
    /// The registry could not be asked.
    Unreachable(String),
}

/// The repository and manifest reference (digest, else tag) an image names.
pub fn lookup(image: &str) -> Result<(String, String), String> {
    let r = Reference::parse(image).map_err(|e| format!("image {image:?}: {e}"))?;
    let key = match (r.digest(), r.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => "latest".to_string(),
    };
    Ok((r.repository().to_string(), key))
}

impl Images {
    pub fn new(registry: Option<String>) -> Images {
        Images {
            registry,
            conn: Mutex::new(None),
        }
    }

    pub fn host(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The registry connection (None without a platform registry).
    pub async fn connect(&self) -> Result<Option<Arc<Registry>>, String> {
        let Some(host) = self.registry.as_deref() else {
            return Ok(None);
        };
        let mut conn = self.conn.lock().await;
        if let Some(r) = conn.as_ref() {
            return Ok(Some(r.clone()));
        }
        let opts = oci::Options {
            tls_verify: false,
            max_attempts: 2,
            ..Default::default()
        };
        let r = Arc::new(
            Registry::connect(host, opts)
                .await
                .map_err(|e| format!("platform registry {host} unreachable: {e}"))?,
        );
        *conn = Some(r.clone());
        Ok(Some(r))
    }

    /// Checks every image in `images`.
    pub async fn check(&self, images: &[String]) -> Presence {
        let reg = match self.connect().await {
            Ok(Some(r)) => r,
            Ok(None) => return Presence::All,
            Err(e) => return Presence::Unreachable(e),
        };
        let host = self.registry.as_deref().unwrap_or_default();
        let mut missing = Vec::new();
        for image in images {
            let (repo, key) = match lookup(image) {
                Ok(x) => x,
                Err(e) => {
                    missing.push(e);
                    continue;
                }
            };
            match reg.head_manifest(&repo, &key).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let sep = if key.contains(':') { "@" } else { ":" };
                    missing.push(format!("{host}/{repo}{sep}{key}"))
                }
                Err(e) => {
                    *self.conn.lock().await = None;
                    return Presence::Unreachable(format!("{host}/{repo}: {e}"));
                }
            }
        }
        if missing.is_empty() {
            Presence::All
        } else {
            Presence::Missing(missing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_wins_over_a_tag_and_the_host_is_not_part_of_the_lookup() {
        let d = "sha256:".to_string() + &"a".repeat(64);
        assert_eq!(
            lookup(&format!("reg:5000/ns/op-bundle@{d}")).unwrap(),
            ("ns/op-bundle".to_string(), d)
        );
        assert_eq!(
            lookup("reg:5000/ns/op:v1").unwrap(),
            ("ns/op".to_string(), "v1".to_string())
        );
        assert!(lookup("not a reference").is_err());
    }
}
