//! The installation's deterministic name: `<cluster>-<32 hex>`.
//!
//! The hash covers exactly the target cluster's name and the plugin's name (SHA-256 of
//! `"<cluster>/<plugin>"`, first 16 bytes in hex). Version and config are left out on purpose:
//! one plugin is installed at most once per cluster, so a second ModuleInfo for the same plugin and
//! cluster gets the name of the first and is refused, and an upgrade keeps the name.

use sha2::{Digest, Sha256};

/// `<cluster>-<first 32 hex chars of sha256("<cluster>/<plugin>")>`.
pub fn installation_name(cluster: &str, plugin: &str) -> String {
    let digest = Sha256::digest(format!("{cluster}/{plugin}").as_bytes());
    format!("{cluster}-{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_cluster_and_32_hex_chars() {
        let n = installation_name("global", "web-cli");
        let (cluster, hash) = n.split_at("global-".len());
        assert_eq!(cluster, "global-");
        assert_eq!(hash.len(), 32);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn the_same_plugin_in_the_same_cluster_gets_the_same_name_and_others_differ() {
        let a = installation_name("global", "web-cli");
        assert_eq!(a, installation_name("global", "web-cli"));
        assert_ne!(a, installation_name("business", "web-cli"));
        assert_ne!(a, installation_name("global", "gpu-device-plugin"));
        // The separator keeps ("a-b", "c") and ("a", "b-c") apart.
        assert_ne!(installation_name("a", "b/c"), installation_name("a/b", "c"));
    }

    #[test]
    fn the_hash_is_sha256_of_cluster_slash_plugin() {
        // sha256("global/web-cli") computed with coreutils' sha256sum.
        assert_eq!(
            installation_name("global", "web-cli"),
            format!("global-{}", &SHA256_GLOBAL_WEB_CLI[..32])
        );
    }

    const SHA256_GLOBAL_WEB_CLI: &str = include_str!("../testdata/sha256-global-web-cli.txt");
}
