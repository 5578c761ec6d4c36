//! Whether a Pod's image can be "pulled": a `HEAD` of its manifest in the platform registry.
//!
//! Host mapping: the platform registry stands in for every registry. An image reference is
//! normalised as Docker does (`nginx` → `docker.io/library/nginx:latest`) and its *repository path
//! and tag or digest* are looked up in the platform registry, whatever host it names:
//! `docker.io/library/nginx:1.27`, `nginx:1.27` and `REG/library/nginx:1.27` all mean
//! `REG/library/nginx:1.27`. So mirroring an image into the platform registry under its own path
//! (`skopeo copy docker://nginx:1.27 docker://REG/library/nginx:1.27`) makes it pullable.
//! Without a platform registry every image counts as present.

use std::sync::Arc;

use oci::{Reference, Registry};
use tokio::sync::Mutex;

/// The outcome of one pull attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// The image exists; its manifest digest when a registry was asked.
    Present(Option<String>),
    /// It does not (or cannot be reached); the kubelet-style message.
    Failed(String),
}

/// The longest one image check may take.
const PULL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Images {
    registry: Option<String>,
    conn: Mutex<Option<Arc<Registry>>>,
}

impl Images {
    pub fn new(registry: Option<String>) -> Images {
        Images {
            registry,
            conn: Mutex::new(None),
        }
    }

    /// Tries to "pull" `image`.
    pub async fn pull(&self, image: &str) -> Pull {
        let Some(host) = self.registry.as_deref() else {
            return Pull::Present(None);
        };
        let reference = match Reference::parse(image) {
            Ok(r) => r,
            Err(e) => {
                return Pull::Failed(format!(
                    "failed to pull image \"{image}\": invalid reference format: {e}"
                ));
            }
        };
        let repo = reference.repository().to_string();
        let tag = lookup_key(&reference);
        let reg = match self.connect(host).await {
            Ok(r) => r,
            Err(e) => {
                return Pull::Failed(format!(
                    "failed to pull image \"{image}\": platform registry {host} unreachable: {e}"
                ));
            }
        };
        // Bounded: a request the registry never answers must fail this attempt (and back off),
        // not hold the Pod's reconcile, and so the Pod, forever.
        let head = tokio::time::timeout(PULL_TIMEOUT, reg.head_manifest(&repo, &tag)).await;
        match head {
            Ok(Ok(Some((digest, _)))) => Pull::Present(Some(digest.to_string())),
            Ok(Ok(None)) => Pull::Failed(not_found(image, host, &repo, &tag)),
            Err(_) => {
                *self.conn.lock().await = None;
                Pull::Failed(format!(
                    "failed to pull image \"{image}\": {host}/{repo}:{tag}: the registry did not answer within {}s",
                    PULL_TIMEOUT.as_secs()
                ))
            }
            Ok(Err(e)) => {
                // The connection may be stale (registry restarted): connect afresh next time.
                *self.conn.lock().await = None;
                Pull::Failed(format!(
                    "failed to pull image \"{image}\": {host}/{repo}:{tag}: {e}"
                ))
            }
        }
    }

    async fn connect(&self, host: &str) -> Result<Arc<Registry>, oci::Error> {
        let mut conn = self.conn.lock().await;
        if let Some(r) = conn.as_ref() {
            return Ok(r.clone());
        }
        let opts = oci::Options {
            tls_verify: false,
            max_attempts: 1,
            ..Default::default()
        };
        let r = Arc::new(Registry::connect(host, opts).await?);
        *conn = Some(r.clone());
        Ok(r)
    }
}

/// The tag, or the digest when the reference pins one.
fn lookup_key(r: &Reference) -> String {
    match (r.digest(), r.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => "latest".to_string(),
    }
}

/// kubelet's `ErrImagePull` message, with where we looked and how to fix it.
pub fn not_found(image: &str, host: &str, repo: &str, tag: &str) -> String {
    let sep = if tag.contains(':') { "@" } else { ":" };
    format!(
        "failed to pull image \"{image}\": {host}/{repo}{sep}{tag}: not found; push it to the platform registry (e.g. skopeo copy ... docker://{host}/{repo}{sep}{tag})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_hosts_map_to_their_repository_path_in_the_platform_registry() {
        let r = Reference::parse("nginx:1.27").unwrap();
        assert_eq!(
            (r.repository(), lookup_key(&r).as_str()),
            ("library/nginx", "1.27")
        );
        let r = Reference::parse("quay.io/org/app").unwrap();
        assert_eq!(
            (r.repository(), lookup_key(&r).as_str()),
            ("org/app", "latest")
        );
        let d = "sha256:".to_string() + &"a".repeat(64);
        let r = Reference::parse(&format!("127.0.0.1:5000/web@{d}")).unwrap();
        assert_eq!((r.repository(), lookup_key(&r)), ("web", d));
    }

    #[test]
    fn the_not_found_message_names_the_image_and_the_fix() {
        let m = not_found("REG/web:2", "REG", "web", "2");
        assert!(
            m.starts_with("failed to pull image \"REG/web:2\": REG/web:2: not found"),
            "{m}"
        );
        assert!(m.contains("docker://REG/web:2"));
    }

    #[tokio::test]
    async fn without_a_registry_every_image_is_present() {
        assert_eq!(
            Images::new(None).pull("anything:1").await,
            Pull::Present(None)
        );
    }
}
