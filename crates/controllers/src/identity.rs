//! A controller set's least-privilege identity in one cluster: namespace `cpaas-system`,
//! ServiceAccount `marketplace-<set>` there, ClusterRole `marketplace-<set>` holding exactly the
//! set's rules and a ClusterRoleBinding between them — applied with server-side apply (field
//! manager `marketplace-identities`, forced: the product owns them), so a changed rule list is
//! converged on the next start. On real clusters [`token_request_factory`] makes the set's client
//! from a TokenRequest token of that account.

use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::{Value, json};

use crate::host::IDENTITY_NAMESPACE;

/// The four objects, in creation order.
pub fn objects(name: &str, rules: &[PolicyRule]) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/managed-by": "marketplace"});
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": IDENTITY_NAMESPACE}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": IDENTITY_NAMESPACE, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name, "labels": labels}, "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": IDENTITY_NAMESPACE}]}),
    ]
}

fn resource(obj: &Value) -> ApiResource {
    let (group, version) = match obj["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
    {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), "v1".to_string()),
    };
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let plural = format!("{}s", kind.to_ascii_lowercase());
    ApiResource {
        api_version: obj["apiVersion"].as_str().unwrap_or_default().to_string(),
        group,
        version,
        kind,
        plural,
    }
}

/// Applies [`objects`] through `client` (an admin of the cluster).
pub async fn ensure(
    client: &kube::Client,
    name: &str,
    rules: &[PolicyRule],
) -> Result<(), kube::Error> {
    let pp = PatchParams::apply(&crate::runtime::field_manager("identities")).force();
    for obj in objects(name, rules) {
        let ar = resource(&obj);
        let api: Api<DynamicObject> = match obj["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        let n = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        api.patch(&n, &pp, &Patch::Apply(&obj)).await?;
    }
    Ok(())
}

/// Lifetime asked for a ServiceAccount token on a real cluster.
const TOKEN_SECONDS: i64 = 3600;
/// How often a real cluster's ServiceAccount token is renewed (well before it expires).
const RENEW: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// A fresh token for `namespace/name` (TokenRequest through `admin`).
async fn request_token(
    admin: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<String, kube::Error> {
    use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
    use k8s_openapi::api::core::v1::ServiceAccount;
    let api: Api<ServiceAccount> = Api::namespaced(admin.clone(), namespace);
    let req = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(TOKEN_SECONDS),
            ..Default::default()
        }),
        ..Default::default()
    };
    let out = api
        .create_token_request(name, &Default::default(), &req)
        .await?;
    Ok(out.status.and_then(|s| s.token).unwrap_or_default())
}

fn write_token(path: &std::path::Path, token: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(token.as_bytes())?;
    std::fs::rename(tmp, path)
}

/// The identity factory for real clusters (`marketplace controllers`): per cluster, its kubeconfig's
/// `kube::Config` and an admin client. A set's client authenticates with a TokenRequest token kept
/// in `dir/<cluster>_<namespace>_<name>.token` (0600), which a background task renews every 20
/// minutes and kube-rs re-reads at least once a minute (`token_file`); the kubeconfig's own
/// credentials (token, client certificate, exec) are dropped from that client. Needs a
/// multi-threaded tokio runtime (the factory waits for the first token in place).
pub fn token_request_factory(
    clusters: std::collections::BTreeMap<String, (kube::Config, kube::Client)>,
    dir: std::path::PathBuf,
) -> crate::IdentityFactory {
    let clusters = std::sync::Arc::new(clusters);
    std::sync::Arc::new(move |cluster: &str, namespace: &str, name: &str| {
        let (cfg, admin) = clusters
            .get(cluster)
            .cloned()
            .ok_or_else(|| format!("no kubeconfig for cluster {cluster}"))?;
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{cluster}_{namespace}_{name}.token"));
        let handle = tokio::runtime::Handle::current();
        let token = tokio::task::block_in_place(|| {
            handle.block_on(request_token(&admin, namespace, name))
        })?;
        write_token(&path, &token)?;
        let (ns, sa, file) = (namespace.to_string(), name.to_string(), path.clone());
        handle.spawn(async move {
            loop {
                tokio::time::sleep(RENEW).await;
                match request_token(&admin, &ns, &sa).await {
                    Ok(t) => {
                        if let Err(e) = write_token(&file, &t) {
                            tracing::error!(path = %file.display(), error = %e, "cannot write a renewed ServiceAccount token");
                        }
                    }
                    Err(e) => tracing::error!(namespace = %ns, name = %sa, error = %e, "cannot renew a ServiceAccount token; retrying later"),
                }
            }
        });
        let mut cfg = cfg;
        cfg.auth_info = kube::config::AuthInfo {
            token_file: Some(path.to_string_lossy().into_owned()),
            ..Default::default()
        };
        Ok(kube::Client::try_from(cfg)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_ties_the_set_account_to_a_role_of_exactly_its_rules() {
        let rules = vec![PolicyRule {
            api_groups: Some(vec!["".into()]),
            resources: Some(vec!["configmaps".into()]),
            verbs: vec!["list".into()],
            ..Default::default()
        }];
        let o = objects("marketplace-x", &rules);
        assert_eq!(
            o.iter()
                .map(|x| x["kind"].as_str().unwrap())
                .collect::<Vec<_>>(),
            [
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding"
            ]
        );
        assert_eq!(
            o[2]["rules"],
            json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
        );
        assert_eq!(
            o[3]["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "marketplace-x", "namespace": "cpaas-system"})
        );
        assert_eq!(resource(&o[2]).plural, "clusterroles");
        assert_eq!(resource(&o[1]).api_version, "v1");
    }
}
