//! Creates the bootstrap RBAC policy (`auth::bootstrap`) in a cluster: each ClusterRole and
//! ClusterRoleBinding that is absent is created, existing ones (maybe edited) are left alone.

use serde_json::Value;
use store::{Key, Store, StoreError};

fn create_absent(store: &Store, resource: &str, objects: Vec<Value>) -> Result<(), StoreError> {
    let now = apimachinery::meta::now_rfc3339();
    store.write(|t| {
        for mut obj in objects {
            let name = obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let key = Key::cluster(resource, &name);
            if t.get(&key)?.is_none() {
                obj["metadata"]["uid"] = uuid::Uuid::new_v4().to_string().into();
                obj["metadata"]["creationTimestamp"] = now.clone().into();
                t.create(&key, obj)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Ensures the bootstrap ClusterRoles and ClusterRoleBindings exist, and `extra` bindings.
pub fn ensure_policy_with(store: &Store, extra: &[Value]) -> Result<(), StoreError> {
    ensure_policy(store)?;
    create_absent(
        store,
        "rbac.authorization.k8s.io/clusterrolebindings",
        extra.to_vec(),
    )
}

/// Ensures the bootstrap ClusterRoles and ClusterRoleBindings exist.
pub fn ensure_policy(store: &Store) -> Result<(), StoreError> {
    create_absent(
        store,
        "rbac.authorization.k8s.io/clusterroles",
        auth::bootstrap::cluster_roles(),
    )?;
    create_absent(
        store,
        "rbac.authorization.k8s.io/clusterrolebindings",
        auth::bootstrap::cluster_role_bindings(),
    )
}
