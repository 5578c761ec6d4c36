//! The RBAC authorizer, evaluated as kube-apiserver's `rbac` plugin does: the rules of every
//! ClusterRoleBinding whose subjects include the user, then of every RoleBinding in the request's
//! namespace (a RoleBinding may reference a ClusterRole); the first rule that allows decides.
//! Bindings are indexed by subject (user name, group) so a decision looks only at the user's own
//! bindings. ClusterRole aggregation is applied when the [`Authorizer`] is built (see
//! [`crate::aggregation`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::Attributes;
use crate::user::{UserInfo, service_account_username};

/// One rule of a Role or ClusterRole (`rbac.authorization.k8s.io/v1` `PolicyRule`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

/// A binding's subject.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

/// A binding's `roleRef`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct RoleRef {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// A Role (namespace set) or ClusterRole (namespace "").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors` (label selectors as JSON), ClusterRoles only.
    pub aggregation: Option<Vec<Value>>,
}

/// A RoleBinding (namespace set) or ClusterRoleBinding (namespace "").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binding {
    pub namespace: String,
    pub name: String,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
}

/// A stored RBAC object that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{kind} {name:?} cannot be read: {message}")]
pub struct ParseError {
    pub kind: &'static str,
    pub name: String,
    pub message: String,
}

fn meta_str(obj: &Value, field: &str) -> String {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn field<T: serde::de::DeserializeOwned + Default>(
    obj: &Value,
    key: &str,
    kind: &'static str,
) -> Result<T, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| ParseError {
            kind,
            name: meta_str(obj, "name"),
            message: format!("{key}: {e}"),
        }),
    }
}

impl Role {
    /// Reads a Role or ClusterRole object.
    pub fn from_object(obj: &Value) -> Result<Role, ParseError> {
        let kind = "Role";
        let labels = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let aggregation = obj
            .pointer("/aggregationRule/clusterRoleSelectors")
            .and_then(Value::as_array)
            .cloned();
        Ok(Role {
            namespace: meta_str(obj, "namespace"),
            name: meta_str(obj, "name"),
            labels,
            rules: field(obj, "rules", kind)?,
            aggregation,
        })
    }
}

impl Binding {
    /// Reads a RoleBinding or ClusterRoleBinding object.
    pub fn from_object(obj: &Value) -> Result<Binding, ParseError> {
        Ok(Binding {
            namespace: meta_str(obj, "namespace"),
            name: meta_str(obj, "name"),
            role_ref: field(obj, "roleRef", "RoleBinding")?,
            subjects: field(obj, "subjects", "RoleBinding")?,
        })
    }
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|s| s == want)
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    has(&rule.verbs, "*") || has(&rule.verbs, verb)
}

fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    has(&rule.api_groups, "*") || has(&rule.api_groups, group)
}

/// `*`, the exact `resource[/subresource]`, or `*/subresource`.
fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// No `resourceNames` allows every name; otherwise the request must name one of them (so a list,
/// watch or create without a name is never allowed by a rule with `resourceNames`).
fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || has(&rule.resource_names, name)
}

/// `*`, the exact path, or a prefix ending in `*`.
fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether `rule` allows the request (kube-apiserver's `RuleAllows`).
pub fn rule_allows(attrs: &Attributes, rule: &PolicyRule) -> bool {
    if !verb_matches(rule, &attrs.verb) {
        return false;
    }
    match &attrs.resource {
        Some(r) => {
            let combined = if r.subresource.is_empty() {
                r.resource.clone()
            } else {
                format!("{}/{}", r.resource, r.subresource)
            };
            api_group_matches(rule, &r.api_group)
                && resource_matches(rule, &combined, &r.subresource)
                && resource_name_matches(rule, &r.name)
        }
        None => non_resource_url_matches(rule, &attrs.path),
    }
}

/// An authorization decision with kube-apiserver's reason text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(String),
    /// No rule allows it; the reason is `""` or `RBAC: <errors>` (e.g. a binding naming a role that
    /// does not exist).
    Deny(String),
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r) | Decision::Deny(r) => r,
        }
    }
}

/// A binding with its role resolved.
#[derive(Debug)]
struct Resolved {
    binding: Binding,
    /// The role's rules, or the "not found" error kube-apiserver reports.
    rules: Result<Arc<[PolicyRule]>, String>,
}

/// Bindings of one scope (the cluster, or one namespace) indexed by user name and group.
#[derive(Debug, Default)]
struct ScopeIndex {
    bindings: Vec<Resolved>,
    /// user name → (binding, subject) indices.
    users: HashMap<String, Vec<(usize, usize)>>,
    groups: HashMap<String, Vec<(usize, usize)>>,
}

impl ScopeIndex {
    fn add(&mut self, r: Resolved) {
        let bi = self.bindings.len();
        for (si, s) in r.binding.subjects.iter().enumerate() {
            let (map, key) = match s.kind.as_str() {
                "User" => (&mut self.users, s.name.clone()),
                "Group" => (&mut self.groups, s.name.clone()),
                "ServiceAccount" => {
                    let ns = if s.namespace.is_empty() {
                        &r.binding.namespace
                    } else {
                        &s.namespace
                    };
                    (&mut self.users, service_account_username(ns, &s.name))
                }
                _ => continue,
            };
            map.entry(key).or_default().push((bi, si));
        }
        self.bindings.push(r);
    }

    /// The (binding, subject) pairs that apply to `user`, in binding order.
    fn applying(&self, user: &UserInfo) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        let from_users = self.users.get(&user.name).into_iter().flatten();
        let from_groups = user
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g))
            .flatten();
        for &(b, s) in from_users.chain(from_groups) {
            out.push((b, s));
        }
        out.sort_unstable();
        out.dedup_by_key(|(b, _)| *b);
        out
    }
}

/// The RBAC objects of one cluster, resolved and indexed. Build one per change of the RBAC
/// objects; deciding is then read-only.
#[derive(Debug, Default)]
pub struct Authorizer {
    cluster: ScopeIndex,
    namespaces: HashMap<String, ScopeIndex>,
}

fn describe_subject(s: &Subject, binding_namespace: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = if s.namespace.is_empty() {
            binding_namespace
        } else {
            &s.namespace
        };
        format!("{} {:?}", s.kind, format!("{}/{}", s.name, ns))
    } else {
        format!("{} {:?}", s.kind, s.name)
    }
}

fn describe(b: &Binding, s: &Subject) -> String {
    if b.namespace.is_empty() {
        format!(
            "ClusterRoleBinding {:?} of {} {:?} to {}",
            b.name,
            b.role_ref.kind,
            b.role_ref.name,
            describe_subject(s, "")
        )
    } else {
        format!(
            "RoleBinding {:?} of {} {:?} to {}",
            format!("{}/{}", b.name, b.namespace),
            b.role_ref.kind,
            b.role_ref.name,
            describe_subject(s, &b.namespace)
        )
    }
}

/// Joins errors as Go's `utilerrors.NewAggregate` prints them.
fn aggregate_errors(errors: &[String]) -> String {
    match errors {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Authorizer {
    /// Resolves and indexes the cluster's roles and bindings; aggregated ClusterRoles get the
    /// rules of the ClusterRoles their selectors match.
    pub fn new(
        mut cluster_roles: Vec<Role>,
        roles: Vec<Role>,
        cluster_role_bindings: Vec<Binding>,
        role_bindings: Vec<Binding>,
    ) -> Authorizer {
        crate::aggregation::aggregate_all(&mut cluster_roles);
        let cr: HashMap<String, Arc<[PolicyRule]>> = cluster_roles
            .into_iter()
            .map(|r| (r.name, r.rules.into()))
            .collect();
        let nr: HashMap<(String, String), Arc<[PolicyRule]>> = roles
            .into_iter()
            .map(|r| ((r.namespace, r.name), r.rules.into()))
            .collect();
        let resolve = |b: &Binding| -> Result<Arc<[PolicyRule]>, String> {
            let found = match b.role_ref.kind.as_str() {
                "ClusterRole" => cr.get(&b.role_ref.name),
                "Role" if !b.namespace.is_empty() => {
                    nr.get(&(b.namespace.clone(), b.role_ref.name.clone()))
                }
                _ => None,
            };
            found.cloned().ok_or_else(|| {
                format!(
                    "{}.rbac.authorization.k8s.io {:?} not found",
                    b.role_ref.kind.to_ascii_lowercase(),
                    b.role_ref.name
                )
            })
        };
        let mut a = Authorizer::default();
        for b in cluster_role_bindings {
            let rules = resolve(&b);
            a.cluster.add(Resolved { binding: b, rules });
        }
        for b in role_bindings {
            let rules = resolve(&b);
            a.namespaces
                .entry(b.namespace.clone())
                .or_default()
                .add(Resolved { binding: b, rules });
        }
        a
    }

    /// Reads the four kinds of RBAC objects (as stored JSON) and builds the authorizer; objects
    /// that cannot be read are skipped and returned as errors.
    pub fn from_objects(
        cluster_roles: &[Value],
        roles: &[Value],
        cluster_role_bindings: &[Value],
        role_bindings: &[Value],
    ) -> (Authorizer, Vec<ParseError>) {
        let mut errors = Vec::new();
        let mut read = |objs: &[Value], f: fn(&Value) -> Result<Role, ParseError>| {
            objs.iter()
                .filter_map(|o| f(o).map_err(|e| errors.push(e)).ok())
                .collect::<Vec<_>>()
        };
        let (crs, rs) = (
            read(cluster_roles, Role::from_object),
            read(roles, Role::from_object),
        );
        let mut readb = |objs: &[Value]| {
            objs.iter()
                .filter_map(|o| Binding::from_object(o).map_err(|e| errors.push(e)).ok())
                .collect::<Vec<_>>()
        };
        let (crbs, rbs) = (readb(cluster_role_bindings), readb(role_bindings));
        (Authorizer::new(crs, rs, crbs, rbs), errors)
    }

    fn scopes<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a ScopeIndex> {
        std::iter::once(&self.cluster).chain(
            (!namespace.is_empty())
                .then(|| self.namespaces.get(namespace))
                .flatten(),
        )
    }

    /// Whether the request is allowed, without composing the reason (the request path's check).
    pub fn allows(&self, attrs: &Attributes) -> bool {
        if attrs.user.is_master() {
            return true;
        }
        let namespace = attrs
            .resource
            .as_ref()
            .map(|r| r.namespace.as_str())
            .unwrap_or_default();
        self.scopes(namespace).any(|scope| {
            scope.applying(&attrs.user).into_iter().any(|(bi, _)| {
                scope.bindings[bi]
                    .rules
                    .as_ref()
                    .is_ok_and(|rules| rules.iter().any(|rule| rule_allows(attrs, rule)))
            })
        })
    }

    /// Decides a request. Members of `system:masters` are allowed without looking at RBAC.
    pub fn authorize(&self, attrs: &Attributes) -> Decision {
        if attrs.user.is_master() {
            return Decision::Allow(String::new());
        }
        let namespace = attrs
            .resource
            .as_ref()
            .map(|r| r.namespace.as_str())
            .unwrap_or_default();
        let mut errors = Vec::new();
        for scope in self.scopes(namespace) {
            for (bi, si) in scope.applying(&attrs.user) {
                let r = &scope.bindings[bi];
                match &r.rules {
                    Ok(rules) if rules.iter().any(|rule| rule_allows(attrs, rule)) => {
                        return Decision::Allow(format!(
                            "RBAC: allowed by {}",
                            describe(&r.binding, &r.binding.subjects[si])
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(e.clone()),
                }
            }
        }
        if errors.is_empty() {
            Decision::Deny(String::new())
        } else {
            Decision::Deny(format!("RBAC: {}", aggregate_errors(&errors)))
        }
    }

    /// The rules `user` has in `namespace` ("" = cluster-wide only), and the errors met (bindings
    /// to missing roles), for SelfSubjectRulesReview and `kubectl auth can-i --list`.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for scope in self.scopes(namespace) {
            for (bi, _) in scope.applying(user) {
                match &scope.bindings[bi].rules {
                    Ok(r) => rules.extend(r.iter().cloned()),
                    Err(e) => errors.push(e.clone()),
                }
            }
        }
        (rules, errors)
    }
}

/// The 403 text kube-apiserver prints for a denied request (before `: <reason>`):
/// `User "u" cannot list resource "pods" in API group "" in the namespace "ns"`.
pub fn forbidden_message(attrs: &Attributes) -> String {
    let user = &attrs.user.name;
    let Some(r) = &attrs.resource else {
        return format!("User {user:?} cannot {} path {:?}", attrs.verb, attrs.path);
    };
    let resource = if r.subresource.is_empty() {
        r.resource.clone()
    } else {
        format!("{}/{}", r.resource, r.subresource)
    };
    if r.namespace.is_empty() {
        format!(
            "User {user:?} cannot {} resource {resource:?} in API group {:?} at the cluster scope",
            attrs.verb, r.api_group
        )
    } else {
        format!(
            "User {user:?} cannot {} resource {resource:?} in API group {:?} in the namespace {:?}",
            attrs.verb, r.api_group, r.namespace
        )
    }
}

/// The full Forbidden reason: the message, then `: <decision reason>` when there is one.
pub fn forbidden_reason(attrs: &Attributes, decision_reason: &str) -> String {
    let msg = forbidden_message(attrs);
    if decision_reason.is_empty() {
        msg
    } else {
        format!("{msg}: {decision_reason}")
    }
}

/// `SelfSubjectRulesReview` status rules: resource rules and non-resource rules, as
/// kube-apiserver converts policy rules.
pub fn review_rules(rules: &[PolicyRule]) -> (Vec<Value>, Vec<Value>) {
    let mut resource = Vec::new();
    let mut non_resource = Vec::new();
    for r in rules {
        if !r.resources.is_empty() {
            let mut v = serde_json::json!({
                "verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources,
            });
            if !r.resource_names.is_empty() {
                v["resourceNames"] = serde_json::json!(r.resource_names);
            }
            resource.push(v);
        }
        if !r.non_resource_urls.is_empty() {
            non_resource.push(serde_json::json!({
                "verbs": r.verbs, "nonResourceURLs": r.non_resource_urls,
            }));
        }
    }
    (resource, non_resource)
}

#[cfg(test)]
mod tests;
