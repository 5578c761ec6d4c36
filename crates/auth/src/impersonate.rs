//! Impersonation as kube-apiserver's `WithImpersonation` filter does it: the `Impersonate-User`,
//! `Impersonate-Uid`, `Impersonate-Group` and `Impersonate-Extra-<key>` headers name another
//! identity; the caller must be allowed the `impersonate` verb on each part (`users`/
//! `serviceaccounts`, `groups`, `uids`, `userextras/<key>`), and the request then acts as that
//! identity.

use std::collections::BTreeMap;

use crate::attributes::{Attributes, ResourceAttributes};
use crate::user::{AUTHENTICATED, UNAUTHENTICATED, UserInfo, split_service_account};

/// The `Impersonate-*` headers of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub user: Option<String>,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.uid.is_none() && self.groups.is_empty() && self.extra.is_empty()
    }
}

/// A malformed impersonation request (400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// The `impersonate` checks the caller must pass, in kube-apiserver's order, and the identity the
/// request then acts as.
pub fn plan(caller: &UserInfo, req: &Request) -> Result<(Vec<Attributes>, UserInfo), BadRequest> {
    let Some(username) = req.user.as_deref().filter(|u| !u.is_empty()) else {
        return Err(BadRequest(format!(
            "requested {:?} without impersonating a user",
            describe(req)
        )));
    };
    let check = |resource: &str, group: &str, sub: &str, ns: &str, name: &str| {
        Attributes::resource(
            caller.clone(),
            "impersonate",
            ResourceAttributes {
                api_group: group.into(),
                resource: resource.into(),
                subresource: sub.into(),
                namespace: ns.into(),
                name: name.into(),
                ..Default::default()
            },
        )
    };
    let mut checks = Vec::new();
    let mut groups = req.groups.clone();
    match split_service_account(username) {
        Some((ns, name)) => {
            checks.push(check("serviceaccounts", "", "", ns, name));
            if req.groups.is_empty() {
                groups = vec![
                    crate::user::SERVICE_ACCOUNTS.into(),
                    format!("{}:{ns}", crate::user::SERVICE_ACCOUNTS),
                ];
            }
        }
        None => checks.push(check("users", "", "", "", username)),
    }
    for g in &req.groups {
        checks.push(check("groups", "", "", "", g));
    }
    if let Some(uid) = &req.uid {
        checks.push(check("uids", "authentication.k8s.io", "", "", uid));
    }
    for (k, values) in &req.extra {
        for v in values {
            checks.push(check("userextras", "authentication.k8s.io", k, "", v));
        }
    }
    if username != "system:anonymous"
        && !groups
            .iter()
            .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
    {
        groups.push(AUTHENTICATED.into());
    }
    let user = UserInfo {
        name: username.into(),
        uid: req.uid.clone().unwrap_or_default(),
        groups,
        extra: req.extra.clone(),
    };
    Ok((checks, user))
}

fn describe(req: &Request) -> String {
    let mut parts = Vec::new();
    parts.extend(req.groups.iter().map(|g| format!("group {g}")));
    if let Some(u) = &req.uid {
        parts.push(format!("uid {u}"));
    }
    parts.extend(req.extra.keys().map(|k| format!("extra {k}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impersonating_a_user_with_groups_checks_each_part() {
        let req = Request {
            user: Some("bob".into()),
            groups: vec!["devs".into()],
            ..Default::default()
        };
        let (checks, user) = plan(&UserInfo::admin(), &req).unwrap();
        let what: Vec<(String, String)> = checks
            .iter()
            .map(|c| {
                let r = c.resource.as_ref().unwrap();
                (r.resource.clone(), r.name.clone())
            })
            .collect();
        assert_eq!(
            what,
            [
                ("users".to_string(), "bob".to_string()),
                ("groups".into(), "devs".into())
            ]
        );
        assert!(checks.iter().all(|c| c.verb == "impersonate"));
        assert_eq!(user.name, "bob");
        assert_eq!(user.groups, ["devs", "system:authenticated"]);
    }

    #[test]
    fn impersonating_a_service_account_checks_it_in_its_namespace_and_adds_its_groups() {
        let req = Request {
            user: Some("system:serviceaccount:ns:sa".into()),
            ..Default::default()
        };
        let (checks, user) = plan(&UserInfo::admin(), &req).unwrap();
        let r = checks[0].resource.as_ref().unwrap();
        assert_eq!(
            (r.resource.as_str(), r.namespace.as_str(), r.name.as_str()),
            ("serviceaccounts", "ns", "sa")
        );
        assert_eq!(user, UserInfo::service_account("ns", "sa", ""));
    }

    #[test]
    fn groups_without_a_user_are_refused() {
        let req = Request {
            groups: vec!["devs".into()],
            ..Default::default()
        };
        assert_eq!(
            plan(&UserInfo::admin(), &req).unwrap_err().0,
            "requested \"group devs\" without impersonating a user"
        );
    }
}
