//! Identities: a user's name, uid, groups and extra values, and the well-known names
//! kube-apiserver gives ServiceAccounts and the admin.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every authenticated user is in this group.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Requests without credentials (never authorized by this server: they get 401).
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// Members bypass authorization, as in kube-apiserver.
pub const MASTERS: &str = "system:masters";
/// Every ServiceAccount is in this group.
pub const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// The admin token's user.
pub const ADMIN_USER: &str = "marketplace-admin";

const SA_PREFIX: &str = "system:serviceaccount:";

/// An authenticated identity (`user.Info`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// The admin: `marketplace-admin` in `system:masters`.
    pub fn admin() -> UserInfo {
        UserInfo {
            name: ADMIN_USER.into(),
            uid: String::new(),
            groups: vec![MASTERS.into(), AUTHENTICATED.into()],
            extra: BTreeMap::new(),
        }
    }

    /// A ServiceAccount's identity: `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str, uid: &str) -> UserInfo {
        UserInfo {
            name: service_account_username(namespace, name),
            uid: uid.into(),
            groups: service_account_groups(namespace),
            extra: BTreeMap::new(),
        }
    }

    /// Whether RBAC is bypassed (member of `system:masters`).
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// `userInfo` as the review APIs print it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({"username": self.name, "groups": self.groups});
        if !self.uid.is_empty() {
            v["uid"] = self.uid.clone().into();
        }
        if !self.extra.is_empty() {
            v["extra"] = serde_json::json!(self.extra);
        }
        v
    }
}

/// `system:serviceaccount:<ns>:<name>`.
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("{SA_PREFIX}{namespace}:{name}")
}

/// The groups of every ServiceAccount in `namespace`.
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        SERVICE_ACCOUNTS.into(),
        format!("{SERVICE_ACCOUNTS}:{namespace}"),
        AUTHENTICATED.into(),
    ]
}

/// `(namespace, name)` of a ServiceAccount username, `None` for other users.
pub fn split_service_account(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SA_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_names_and_groups_follow_kube_apiserver() {
        let u = UserInfo::service_account("ns", "sa", "u1");
        assert_eq!(u.name, "system:serviceaccount:ns:sa");
        assert_eq!(
            u.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:ns",
                "system:authenticated"
            ]
        );
        assert_eq!(split_service_account(&u.name), Some(("ns", "sa")));
        assert_eq!(split_service_account("system:serviceaccount:ns"), None);
        assert_eq!(split_service_account("alice"), None);
        assert!(!u.is_master());
        assert!(UserInfo::admin().is_master());
    }
}
