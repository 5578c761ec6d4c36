//! `olm`: the operator lifecycle (OLM v0 semantics) as controller sets on the controller host.
//!
//! It owns:
//! - the catalog operator: [`catalogsource`] (catalog images pulled with the `oci` crate into the
//!   cluster's in-memory [`state::ClusterCatalogs`], registry polling, connection state) and the
//!   platform's `system`/`platform`/`custom` CatalogSources in `cpaas-system`;
//! - [`packagemanifest`]: PackageManifest as a `computed::Provider` over those catalogs;
//! - [`subscription`] → InstallPlan ([`steps`], [`installplan`]) → [`csv`] (deployments, phases,
//!   replacement, cleanup), OperatorGroup creation from `cpaas.io/target-namespaces`, the
//!   policies of SPEC §2.4;
//! - [`copies`]: copied CSVs as a `computed::Projection` (shown in the target namespaces on
//!   read, never stored);
//! - [`image`]: reading and writing catalog and bundle images;
//! - [`rules`]: the RBAC rules these controllers need (contract #6).
//!
//! It must not touch: the catalog model and resolver (`catalog`'s, called as pure functions),
//! the store or apiserver internals (only `kube::Client`), other groups' APIs.

pub mod batch;
pub mod bundle;
pub mod catalogsource;
pub mod copies;
pub mod csv;
pub mod image;
pub mod installplan;
pub mod operatorgroup;
pub mod packagemanifest;
pub mod provided;
pub mod state;
pub mod steps;
pub mod subscription;
pub mod uploads;
pub mod util;

use controllers::ControllerSet;
use k8s_openapi::api::rbac::v1::PolicyRule;

pub const SET_NAME: &str = "olm";

/// The OLM controller sets (with the `operators.coreos.com` CRDs).
pub fn sets() -> Vec<ControllerSet> {
    let mut catalog = ControllerSet::new(
        catalogsource::NAME,
        |cx: controllers::ClusterContext| async move {
            catalogsource::ensure_platform_catalogs(&cx.client).await?;
            catalogsource::run(cx).await
        },
    );
    for crd in apis::operators::crds() {
        catalog = catalog.with_crd(crd);
    }
    // Each set acts as its own ServiceAccount (`marketplace-<set>`) with the rules below.
    vec![
        catalog,
        ControllerSet::new(subscription::NAME, subscription::run),
        ControllerSet::new(installplan::NAME, installplan::run),
        ControllerSet::new(csv::NAME, csv::run),
        ControllerSet::new(operatorgroup::NAME, operatorgroup::run),
    ]
    .into_iter()
    .map(|set| set.with_rules(rules()))
    .collect()
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(v(groups)),
        resources: Some(v(resources)),
        verbs: v(verbs),
        ..Default::default()
    }
}

/// What the OLM controllers do through the API. InstallPlans apply arbitrary bundle objects and
/// grant the CSV's permissions (RBAC escalation needs `escalate`/`bind`), so, as OLM's own
/// ClusterRole, this is broad for the objects of bundles.
pub fn rules() -> Vec<PolicyRule> {
    let all = [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    vec![
        rule(&["operators.coreos.com"], &["*"], &all),
        rule(
            &["app.alauda.io"],
            &["artifacts", "artifactversions"],
            &["get", "list", "watch"],
        ),
        rule(
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"],
            &all,
        ),
        rule(
            &["rbac.authorization.k8s.io"],
            &[
                "roles",
                "rolebindings",
                "clusterroles",
                "clusterrolebindings",
            ],
            &[
                "get", "list", "watch", "create", "update", "patch", "delete", "escalate", "bind",
            ],
        ),
        rule(&[""], &["namespaces"], &["get", "list", "watch", "create"]),
        rule(&[""], &["pods"], &["get", "list", "watch"]),
        rule(
            &["", "events.k8s.io"],
            &["events"],
            &["create", "patch", "update"],
        ),
        // Bundle objects (services, config maps, secrets, webhooks, custom resources, ...).
        rule(&["*"], &["*"], &all),
    ]
}
