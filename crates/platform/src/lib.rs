//! `platform`: the platform side of `marketplace serve` that is not Kubernetes API: platform users
//! and login (contract #2 of the upload work).
//!
//! It owns:
//! - [`users`]: users with a role type (System/Custom) and role name, Argon2id password hashes in
//!   `<data-dir>/users.json`, the `admin` bootstrap (`<data-dir>/admin-password`).
//! - [`ratelimit`]: login rate limits per user and per client address.
//! - [`api`]: `POST /platform/v1/login`, `POST /platform/v1/logout`, `GET /platform/v1/whoami`,
//!   `GET /platform/v1/info`, mounted on the control plane's listener ([`Platform::mount`]).
//! - [`rbac`]: the ClusterRoleBinding that makes `platform-admin-system` users cluster-admin in
//!   every cluster; tokens carry the group `platform-role:<roleName>` so RBAC can grant Custom roles.
//!
//! Tokens are the control plane's hashed platform user tokens (`apiserver::auth::Identity`), so a
//! login token is a bearer on every cluster's Kubernetes API, authorized by RBAC like any user.
//! It must not touch the store or the Kubernetes API handlers; it reaches clusters only through
//! `kube::Client`.

pub mod api;
pub mod ratelimit;
pub mod rbac;
pub mod users;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use api::Platform;
pub use users::{ADMIN_ROLE, ADMIN_USER, RoleType, User, UserDb, UserError, Users};

/// The `extra` key of a login token holding the user's generation at login.
pub const GENERATION_EXTRA: &str = "platform.marketplace.dev/generation";
/// The group prefix of a login token: `platform-role:<roleName>`.
pub const ROLE_GROUP_PREFIX: &str = "platform-role:";

/// The group a user of role `role_name` is in on the Kubernetes API.
pub fn role_group(role_name: &str) -> String {
    format!("{ROLE_GROUP_PREFIX}{role_name}")
}

/// How the platform behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Lifetime of a login token.
    pub token_ttl: Duration,
    /// Failed logins per user before 429.
    pub per_user: ratelimit::Limit,
    /// Failed logins per client address before 429.
    pub per_address: ratelimit::Limit,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: Duration::from_secs(12 * 3600),
            per_user: ratelimit::Limit {
                burst: 5,
                refill: Duration::from_secs(30),
            },
            per_address: ratelimit::Limit {
                burst: 20,
                refill: Duration::from_secs(6),
            },
        }
    }
}

/// The check the control plane runs on every platform user token: a login token (one with a
/// generation) is valid only while its user exists with that generation.
pub fn token_check(users: Arc<Users>) -> apiserver::auth::UserTokenCheck {
    Arc::new(move |rec: &auth::tokens::UserTokenRecord| {
        let Some(generation) = rec.user.extra.get(GENERATION_EXTRA) else {
            return true;
        };
        match users.current() {
            Ok(db) => db
                .users
                .get(&rec.user.name)
                .is_some_and(|u| generation.len() == 1 && generation[0] == u.generation),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the users file; refusing login tokens");
                false
            }
        }
    })
}

pub(crate) type Limiter = Mutex<(
    ratelimit::Buckets<String>,
    ratelimit::Buckets<std::net::IpAddr>,
)>;
