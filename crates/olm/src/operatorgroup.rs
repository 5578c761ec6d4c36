//! The OperatorGroup controller: resolves each group's target namespaces into OLM's
//! `status.namespaces` (and `status.lastUpdated`). The targets are:
//! - the listed `spec.targetNamespaces`;
//! - else the namespaces its `spec.selector` matches, followed as namespaces and their labels
//!   change;
//! - else `[""]`, all namespaces (also for an empty selector).
//!
//! [`targets`] is the one reading of a group's targets for the other controllers: the CSV
//! controller (install mode, `olm.targetNamespaces`, Deployments, provided APIs) and InstallPlans
//! (RBAC). For a selector group they use `status.namespaces`, and wait until it is resolved.
//! The pure parts ([`targets`], [`selects_by_label`]) have unit tests.

use std::sync::Arc;

use apis::operators::OperatorGroup;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

pub const NAME: &str = "olm-operatorgroup";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("OperatorGroup {0}: {1}")]
    Api(String, #[source] kube::Error),
}

/// What a group's operators target, as the other controllers read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Every namespace.
    All,
    /// These namespaces.
    Some(Vec<String>),
    /// A selector group whose `status.namespaces` this controller has not written yet.
    Unresolved,
}

impl Targets {
    /// Why a group's operators cannot be installed yet, if so: a selector not resolved yet, or
    /// one that matches no namespace (which must not read as "all namespaces").
    pub fn waiting(&self, group: &str) -> Option<String> {
        match self {
            Targets::Unresolved => Some(format!(
                "waiting for OperatorGroup {group} to resolve the namespaces its spec.selector matches"
            )),
            Targets::Some(v) if v.is_empty() => Some(format!(
                "OperatorGroup {group}'s spec.selector matches no namespace: label the namespaces its operators should serve, or list them in spec.targetNamespaces"
            )),
            _ => None,
        }
    }

    /// The target list in the form the install steps take: `None` for all namespaces.
    pub fn list(&self) -> Option<&[String]> {
        match self {
            Targets::Some(v) => Some(v),
            Targets::All | Targets::Unresolved => None,
        }
    }
}

/// Whether a group picks its targets by label: a non-empty `spec.selector` and no
/// `spec.targetNamespaces` (an empty selector, `{}`, means all namespaces, as in OLM).
pub fn selects_by_label(og: &OperatorGroup) -> bool {
    let listed = og
        .spec
        .target_namespaces
        .as_ref()
        .is_some_and(|t| !t.is_empty());
    let non_empty = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    };
    let selector = og.spec.selector.as_ref();
    !listed
        && (non_empty(selector.and_then(|s| s.get("matchLabels")))
            || non_empty(selector.and_then(|s| s.get("matchExpressions"))))
}

/// A group's targets: its listed namespaces; for a selector group what this controller resolved
/// (`status.namespaces`, once `status.lastUpdated` says it did); else all namespaces.
pub fn targets(og: &OperatorGroup) -> Targets {
    if let Some(listed) = og.spec.target_namespaces.as_ref().filter(|t| !t.is_empty()) {
        if listed.iter().any(String::is_empty) {
            return Targets::All;
        }
        return Targets::Some(listed.clone());
    }
    if !selects_by_label(og) {
        return Targets::All;
    }
    match og.status.as_ref() {
        Some(s) if s.last_updated.is_some() => Targets::Some(s.namespaces.clone()),
        _ => Targets::Unresolved,
    }
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let api: Api<OperatorGroup> = Api::all(cx.client.clone());
    crate::util::wait_listable(&cx, &api).await;
    let controller = Controller::new(api, watcher::Config::default());
    // A namespace that appears, goes or changes its labels may change what a selector group
    // matches: every selector group is looked at again (there are few; the others ignore
    // namespaces).
    let groups = controller.store();
    let controller = controller.watches(
        Api::<Namespace>::all(cx.client.clone()),
        watcher::Config::default(),
        move |_: Namespace| {
            groups
                .state()
                .into_iter()
                .filter(|g| selects_by_label(g))
                .map(|g| ObjectRef::from_obj(g.as_ref()))
                .collect::<Vec<_>>()
        },
    );
    let ctx = Arc::new(cx.client.clone());
    controllers::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    Ok(())
}

async fn reconcile(og: Arc<OperatorGroup>, client: Arc<kube::Client>) -> Result<Action, Error> {
    let ns = og.namespace().unwrap_or_default();
    let err = |e| Error::Api(format!("{ns}/{}", og.name_any()), e);
    if og.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let want = if selects_by_label(&og) {
        matching_namespaces(&client, &og).await.map_err(err)?
    } else if let Targets::Some(mut listed) = targets(&og) {
        listed.sort();
        listed.dedup();
        listed
    } else {
        vec![String::new()]
    };
    let status = og.status.clone().unwrap_or_default();
    if status.namespaces == want && status.last_updated.is_some() {
        return Ok(Action::await_change());
    }
    let api: Api<OperatorGroup> = Api::namespaced((*client).clone(), &ns);
    api.patch_status(
        &og.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"namespaces": want, "lastUpdated": crate::util::now()}})),
    )
    .await
    .map_err(err)?;
    Ok(Action::await_change())
}

/// The namespaces `og`'s selector matches, sorted. A selector that does not compile (admission
/// checks its shape, so this is rare) selects nothing.
async fn matching_namespaces(
    client: &kube::Client,
    og: &OperatorGroup,
) -> Result<Vec<String>, kube::Error> {
    let Ok(sel) = apimachinery::labels::Selector::from_label_selector(og.spec.selector.as_ref())
    else {
        return Ok(Vec::new());
    };
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let lp = ListParams::default().labels(&sel.to_string());
    let mut names: Vec<String> = namespaces
        .list_metadata(&lp)
        .await?
        .items
        .iter()
        .map(|n| n.name_any())
        .collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn og(spec: Value, status: Value) -> OperatorGroup {
        serde_json::from_value(
            json!({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
            "metadata": {"name": "g", "namespace": "ns"}, "spec": spec, "status": status}),
        )
        .unwrap()
    }

    #[test]
    fn only_a_non_empty_selector_without_target_namespaces_selects_by_label() {
        let none = json!({});
        assert!(selects_by_label(&og(
            json!({"selector": {"matchLabels": {"team": "a"}}}),
            none.clone()
        )));
        assert!(selects_by_label(&og(
            json!({"selector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}}),
            none.clone()
        )));
        assert!(!selects_by_label(&og(
            json!({"selector": {}}),
            none.clone()
        )));
        assert!(!selects_by_label(&og(json!({}), none.clone())));
        assert!(!selects_by_label(&og(
            json!({"targetNamespaces": ["a"], "selector": {"matchLabels": {"team": "a"}}}),
            none
        )));
    }

    #[test]
    fn targets_are_the_list_the_resolved_selector_or_all_namespaces() {
        let none = json!({});
        assert_eq!(
            targets(&og(json!({"targetNamespaces": ["b", "a"]}), none.clone())),
            Targets::Some(vec!["b".into(), "a".into()])
        );
        assert_eq!(targets(&og(json!({}), none.clone())), Targets::All);
        assert_eq!(
            targets(&og(json!({"targetNamespaces": [""]}), none.clone())),
            Targets::All
        );
        let by_label = json!({"selector": {"matchLabels": {"team": "a"}}});
        assert_eq!(targets(&og(by_label.clone(), none)), Targets::Unresolved);
        // Written by this controller (with lastUpdated): resolved, even to no namespace.
        assert_eq!(
            targets(&og(
                by_label.clone(),
                json!({"namespaces": ["a1", "a2"], "lastUpdated": "2026-12-07T00:00:00Z"})
            )),
            Targets::Some(vec!["a1".into(), "a2".into()])
        );
        assert_eq!(
            targets(&og(
                by_label,
                json!({"lastUpdated": "2026-12-07T00:00:00Z"})
            )),
            Targets::Some(vec![])
        );
        assert_eq!(Targets::All.list(), None);
        assert!(Targets::Unresolved.waiting("g").is_some());
        assert!(
            Targets::Some(vec![])
                .waiting("g")
                .unwrap()
                .contains("matches no namespace")
        );
        assert_eq!(Targets::Some(vec!["a".into()]).waiting("g"), None);
        assert_eq!(Targets::All.waiting("g"), None);
    }
}
