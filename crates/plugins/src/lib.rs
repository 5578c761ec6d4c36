//! `plugins`: cluster plugins (ModulePlugin, ModuleConfig, ModuleInfo of `apis::cluster`) installed
//! as Helm releases into the global and workload clusters.
//!
//! It owns:
//! - the pure rules: [`affinity`] (does a version admit a cluster), [`form`] (the dynamic form's
//!   validation and the values overlay), [`naming`] (the installation's `<cluster>-<hash>` name),
//!   [`versions`] (which configs belong to a plugin, NEW_VERSION);
//! - the controller set that runs in the global cluster only ([`set`]): validate → rename →
//!   pull the chart from the registry ([`charts`]: the tag resolved to its digest on every use,
//!   loaded charts cached by digest) → install / upgrade a Helm release in the target cluster →
//!   `Running`; drift repair, upgrade previews, uninstall behind a finalizer;
//! - the cluster registry's filling ([`clusters`]: a [`Directory`] of the host's clusters, or a
//!   kubeconfig Secret for a cluster registered by hand) and the release calls it makes
//!   ([`releases`], REL's `release::Installer` driven off the reconcile's task).
//!
//! It must not touch: Helm's release storage and apply logic (the `release` crate's), chart
//! rendering (`helm`'s), the registry protocol (`oci`'s), or any apiserver internals — every cluster
//! is reached through a `kube::Client`.

pub mod affinity;
pub mod charts;
pub mod clusters;
pub mod controller;
pub mod form;
pub mod naming;
pub mod releases;
pub mod status;
pub mod validate;
pub mod versions;

use std::sync::Arc;

use apis::cluster::{Cluster, ModuleConfig, ModuleInfo};
use controllers::{ClusterContext, ControllerSet};
use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, watcher};
use kube::{CustomResourceExt, ResourceExt};

pub use clusters::Directory;
pub use controller::Settings;

/// The set's name (field manager `marketplace-plugins`).
pub const NAME: &str = "plugins";

/// The cluster plugin controller set with default [`Settings`].
pub fn set() -> ControllerSet {
    set_with(Settings::default())
}

/// The set: in every cluster it records the cluster's client in its [`Directory`]; in the global
/// cluster it also fills the cluster registry and runs the ModuleInfo controller.
pub fn set_with(settings: Settings) -> ControllerSet {
    let directory = Directory::default();
    ControllerSet::new(NAME, move |cx| run(cx, directory.clone(), settings.clone()))
        .with_crd(apis::cluster::module_plugin_crd())
        .with_crd(ModuleConfig::crd())
        .with_crd(ModuleInfo::crd())
        .with_crd(Cluster::crd())
        .with_rules(rules())
}

/// What the set needs in the global cluster: its own objects, Events, kubeconfig Secrets of
/// registered clusters, and — because a plugin's chart may hold any kind and the global cluster can
/// itself be a target — every verb on every resource (Helm's own requirement for installing
/// arbitrary charts; narrow it per deployment by restricting which charts are published).
pub fn rules() -> Vec<PolicyRule> {
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
        resources: Some(resources.iter().map(|s| s.to_string()).collect()),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    vec![
        rule(
            &[apis::cluster::GROUP],
            &[
                "moduleinfos",
                "moduleinfos/status",
                "moduleconfigs",
                "moduleplugins",
                "clusters",
            ],
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        ),
        rule(
            &["", "events.k8s.io"],
            &["events"],
            &["create", "patch", "update"],
        ),
        rule(&[""], &["secrets"], &["get"]),
        rule(&["*"], &["*"], &["*"]),
    ]
}

async fn run(
    cx: ClusterContext,
    directory: Directory,
    settings: Settings,
) -> Result<(), kube::Error> {
    directory.register(
        &cx.name,
        clusters::Entry {
            client: cx.client.clone(),
            labels: cx.labels.clone(),
            global: cx.global,
        },
    );
    if !cx.global {
        cx.shutdown.cancelled().await;
        return Ok(());
    }
    let manager = controllers::runtime::field_manager(NAME);
    let publisher = publish_registry(&cx, &directory, &manager);
    let (stop_tx, stopping) = tokio::sync::watch::channel(false);
    let stop = async {
        cx.shutdown.cancelled().await;
        let _ = stop_tx.send(true);
    };
    let ctx = Arc::new(controller::Ctx::new(
        cx.client.clone(),
        directory.clone(),
        controllers::runtime::recorder(&cx, NAME),
        manager.clone(),
        cx.registry.clone(),
        settings,
        stopping,
    ));
    let infos: Api<ModuleInfo> = Api::all(cx.client.clone());
    let configs: Api<ModuleConfig> = Api::all(cx.client.clone());
    let clusters_api: Api<Cluster> = Api::all(cx.client.clone());
    let c = Controller::new(infos, watcher::Config::default());
    let (by_plugin, all) = (c.store(), c.store());
    let c = c
        .watches(
            configs,
            watcher::Config::default(),
            move |mc: ModuleConfig| {
                by_plugin
                    .state()
                    .iter()
                    .filter(|mi| {
                        mi.labels()
                            .get(apis::cluster::MODULE_NAME_LABEL)
                            .is_some_and(|p| versions::belongs_to(&mc, p))
                    })
                    .map(|mi| ObjectRef::from_obj(mi.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .watches(
            clusters_api,
            watcher::Config::default(),
            move |cl: Cluster| {
                let name = cl.name_any();
                all.state()
                    .iter()
                    .filter(|mi| mi.labels().get(apis::cluster::CLUSTER_NAME_LABEL) == Some(&name))
                    .map(|mi| ObjectRef::from_obj(mi.as_ref()))
                    .collect::<Vec<_>>()
            },
        );
    let run = controllers::runtime::run(&cx, NAME, c, controller::reconcile, ctx);
    tokio::join!(run, publisher, stop);
    Ok(())
}

/// Keeps the cluster registry in step with the directory until shutdown.
async fn publish_registry(cx: &ClusterContext, directory: &Directory, manager: &str) {
    let mut changed = directory.subscribe();
    loop {
        if let Err(e) = clusters::publish(&cx.client, directory, manager).await {
            tracing::warn!(error = %e, "cannot update the cluster registry; retrying");
            tokio::select! {
                _ = cx.shutdown.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => continue,
            }
        }
        tokio::select! {
            _ = cx.shutdown.cancelled() => return,
            r = changed.changed() => if r.is_err() { return },
        }
    }
}
