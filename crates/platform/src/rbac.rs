//! The RBAC that makes platform roles mean something on the Kubernetes API: a ClusterRoleBinding
//! `platform-admin-system` binding group `platform-role:platform-admin-system` to `cluster-admin`,
//! created in every cluster with the bootstrap policy (`apiserver::Config::extra_cluster_role_bindings`),
//! or applied through a client on real clusters. Custom roles
//! get nothing unless someone binds their group (or the user's name).

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use crate::users::ADMIN_ROLE;

/// The binding, as applied.
pub fn admin_binding() -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(ADMIN_ROLE.into()),
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_string(),
                    "marketplace".to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string().into(),
            kind: "ClusterRole".into(),
            name: "cluster-admin".into(),
        },
        subjects: Some(vec![Subject {
            kind: "Group".into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            name: crate::role_group(ADMIN_ROLE),
            namespace: None,
        }]),
    }
}

/// Applies [`admin_binding`] through `client` (an admin of the cluster).
pub async fn ensure_admin_binding(client: &kube::Client) -> Result<(), kube::Error> {
    let api: Api<ClusterRoleBinding> = Api::all(client.clone());
    let pp = PatchParams::apply("marketplace-platform").force();
    let mut body = serde_json::to_value(admin_binding()).expect("binding serializes");
    body["apiVersion"] = "rbac.authorization.k8s.io/v1".into();
    body["kind"] = "ClusterRoleBinding".into();
    api.patch(ADMIN_ROLE, &pp, &Patch::Apply(&body)).await?;
    Ok(())
}
