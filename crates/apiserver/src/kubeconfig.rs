//! Kubeconfig files, one per cluster: `<data-dir>/kubeconfigs/<cluster>.kubeconfig` with the server
//! URL (`https://HOST:PORT` for global, `.../kubernetes/<cluster>` for the others), the CA data and
//! the admin token (mode 0600: it carries the token).

use std::path::{Path, PathBuf};

use base64::Engine;

/// Renders a kubeconfig document.
pub fn render(cluster: &str, server_url: &str, ca_pem: Option<&str>, token: &str) -> String {
    let mut cluster_entry = serde_json::json!({ "server": server_url });
    if let Some(ca) = ca_pem {
        cluster_entry["certificate-authority-data"] =
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": cluster, "cluster": cluster_entry }],
        "users": [{ "name": "admin", "user": { "token": token } }],
        "contexts": [{ "name": cluster, "context": { "cluster": cluster, "user": "admin", "namespace": "default" } }],
        "current-context": cluster,
        "preferences": {},
    });
    serde_yaml::to_string(&doc).expect("kubeconfig serializes")
}

/// The URL of `cluster` served at `base` (`https://127.0.0.1:6443`).
pub fn server_url(base: &str, cluster: &str) -> String {
    if cluster == crate::config::GLOBAL {
        base.to_string()
    } else {
        format!("{base}/kubernetes/{cluster}")
    }
}

/// Path of a cluster's kubeconfig.
pub fn path(data_dir: &Path, cluster: &str) -> PathBuf {
    data_dir
        .join("kubeconfigs")
        .join(format!("{cluster}.kubeconfig"))
}

/// Writes the kubeconfig of `cluster`.
pub fn write(
    data_dir: &Path,
    cluster: &str,
    base: &str,
    ca_pem: Option<&str>,
    token: &str,
) -> std::io::Result<PathBuf> {
    let p = path(data_dir, cluster);
    crate::fsutil::write_atomic(
        &p,
        render(cluster, &server_url(base, cluster), ca_pem, token).as_bytes(),
        0o600,
    )?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_cluster_url_has_prefix_and_kube_rs_reads_it() {
        let y = render(
            "business",
            &server_url("https://127.0.0.1:1234", "business"),
            Some("PEM"),
            "tok",
        );
        let kc: kube::config::Kubeconfig = serde_yaml::from_str(&y).unwrap();
        let c = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(
            c.server.as_deref(),
            Some("https://127.0.0.1:1234/kubernetes/business")
        );
        assert_eq!(kc.current_context.as_deref(), Some("business"));
        assert_eq!(server_url("https://h:1", "global"), "https://h:1");
    }
}
