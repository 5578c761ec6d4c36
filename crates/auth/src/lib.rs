//! `auth`: who is calling and what they may do, as kube-apiserver decides it.
//!
//! It owns identities — [`UserInfo`] (users, groups, ServiceAccounts), the tokens that prove them
//! (ServiceAccount JWTs in [`tokens::ServiceAccountSigner`], platform user tokens in
//! [`tokens::UserTokens`]), impersonation ([`impersonate`]) — and authorization: request
//! [`Attributes`] derived as kube-apiserver derives them, the RBAC authorizer ([`rbac`]: rules,
//! bindings, `resourceNames`, non-resource URLs, the 403 message), ClusterRole aggregation
//! ([`aggregation`]) and the bootstrap policy every cluster starts with ([`bootstrap`]).
//!
//! Everything here is pure logic over values handed in. It must not touch HTTP, files or the
//! store: the apiserver reads the RBAC objects, persists keys and token hashes, and turns
//! decisions into responses.

pub mod aggregation;
pub mod attributes;
pub mod bootstrap;
pub mod impersonate;
pub mod rbac;
pub mod tokens;
pub mod user;

pub use attributes::{Attributes, ResourceAttributes, verb_for};
pub use rbac::{Authorizer, Decision, PolicyRule};
pub use user::UserInfo;
