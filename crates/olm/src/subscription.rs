//! The Subscription controller: resolves a Subscription against the catalogs (with the
//! namespace's installed CSVs), creates its InstallPlan (`RequiresApproval` for Manual,
//! approved for Automatic), creates the namespace's OperatorGroup from
//! `cpaas.io/target-namespaces`, enforces the policies (Alauda packages refuse Automatic; a
//! pending manual InstallPlan of the namespace holds back the other Subscriptions and says so)
//! and reports OLM's status: `state`, `currentCSV`, `installedCSV`, `installPlanRef`,
//! conditions `CatalogSourcesUnhealthy`, `ResolutionFailed`, `InstallPlanPending`,
//! `InstallPlanFailed`, `BundleUnpackFailed`.
//!
//! Fail forward (OLM's `TechPreviewUnsafeFailForward`, here always on): once the Subscription's
//! InstallPlan failed, it resolves from the CSV that plan tried to install, so a bundle that
//! replaces, skips or `skipRange`-covers the failed one gets a new InstallPlan (replacing the
//! failed CSV when the plan created it, else the installed one); until the catalog offers one,
//! the Subscription stays `UpgradeFailed` on the failed plan. A CSV that went `Failed` after its
//! plan completed is the installed CSV, so its upgrades are offered as usual.

use std::sync::Arc;
use std::time::Duration;

use apis::operators::{
    ClusterServiceVersion, InstallPlan, InstallPlanReference, InstallPlanSpec, InstallPlanStatus,
    ObjectReference, OperatorGroup, Subscription, SubscriptionStatus, TARGET_NAMESPACES_ANNOTATION,
};
use catalog::resolve::{Installed, Source, SourceKey, SubscriptionRequest};
use futures::StreamExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::watcher::{self, watcher};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::state::ClusterCatalogs;
use crate::util::{clear_condition, set_condition, short_hash};

pub const NAME: &str = "olm-subscription";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Subscription {0}: {1}")]
    Api(String, #[source] kube::Error),
}

pub struct Ctx {
    pub client: kube::Client,
    pub catalogs: Arc<ClusterCatalogs>,
    /// Subscriptions (by uid) whose bundles failed to unpack, with the failed attempts: the
    /// retry backs off (a registry that is down is not hammered).
    unpack_failures: std::sync::Mutex<std::collections::HashMap<String, u32>>,
    /// The cluster's OperatorGroups as last watched: a namespace seen with one needs no list
    /// call per reconcile (only a namespace seen without one is asked).
    operator_groups: Store<OperatorGroup>,
}

/// The wait before unpacking a bundle again after `attempt` failures: 1 s doubling to 30 s.
pub fn unpack_backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let catalogs = crate::state::catalogs(&cx.name);
    let (og_store, og_writer) = reflector::store::<OperatorGroup>();
    let og_watch = reflector(
        og_writer,
        watcher(
            Api::<OperatorGroup>::all(cx.client.clone()),
            watcher::Config::default(),
        )
        .default_backoff(),
    )
    .for_each(|_| futures::future::ready(()));
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        catalogs: catalogs.clone(),
        unpack_failures: Default::default(),
        operator_groups: og_store,
    });
    let subs: Api<Subscription> = Api::all(cx.client.clone());
    crate::util::wait_listable(&subs).await;
    crate::util::wait_listable(&Api::<ClusterServiceVersion>::all(cx.client.clone())).await;
    crate::util::wait_listable(&Api::<InstallPlan>::all(cx.client.clone())).await;
    let controller = Controller::new(subs, watcher::Config::default());
    let store = controller.store();
    let by_ns = move |ns: Option<String>| {
        store
            .state()
            .into_iter()
            .filter(|s| s.namespace() == ns)
            .map(|s| ObjectRef::from_obj(s.as_ref()))
            .collect::<Vec<_>>()
    };
    let by_ns2 = by_ns.clone();
    let changes = futures::stream::unfold(catalogs.content_changes(), |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    });
    let controller = controller
        .watches(
            Api::<ClusterServiceVersion>::all(cx.client.clone()),
            watcher::Config::default().labels(&crate::copies::originals_selector()),
            move |csv| by_ns(csv.namespace()),
        )
        .watches(
            Api::<InstallPlan>::all(cx.client.clone()),
            watcher::Config::default(),
            move |ip| by_ns2(ip.namespace()),
        )
        .reconcile_all_on(changes.boxed());
    // The OperatorGroup watch lives as long as the controller.
    tokio::select! {
        _ = controllers::runtime::run(&cx, NAME, controller, reconcile, ctx) => {}
        _ = og_watch => {}
    }
    Ok(())
}

fn approval(sub: &Subscription) -> String {
    match sub.spec.install_plan_approval.as_deref() {
        Some("Manual") => "Manual".into(),
        _ => "Automatic".into(),
    }
}

async fn reconcile(sub: Arc<Subscription>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = sub.namespace().unwrap_or_default();
    let name = sub.name_any();
    let err = |e| Error::Api(format!("{ns}/{name}"), e);
    if sub.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    ensure_operator_group(&ctx.client, &ctx.operator_groups, &sub)
        .await
        .map_err(err)?;
    let mut status = sub.status.clone().unwrap_or_default();
    let next = decide(&ctx, &sub, &mut status).await.map_err(err)?;
    write_status(&ctx.client, &sub, status).await.map_err(err)?;
    Ok(next)
}

/// Computes the Subscription's status (and creates its InstallPlan when one is due).
async fn decide(
    ctx: &Ctx,
    sub: &Subscription,
    status: &mut SubscriptionStatus,
) -> Result<Action, kube::Error> {
    let ns = sub.namespace().unwrap_or_default();
    let key = SourceKey {
        name: sub.spec.source.clone(),
        namespace: sub.spec.source_namespace.clone(),
    };
    if ctx.catalogs.get(&key).is_none() {
        let why = catalog_problem(&ctx.client, &key).await;
        set_condition(
            &mut status.conditions,
            "CatalogSourcesUnhealthy",
            true,
            "UnhealthyCatalogSourceFound",
            &why,
        );
        set_condition(
            &mut status.conditions,
            "ResolutionFailed",
            true,
            "ConstraintsNotSatisfiable",
            &why,
        );
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    set_condition(
        &mut status.conditions,
        "CatalogSourcesUnhealthy",
        false,
        "AllCatalogSourcesHealthy",
        "all available catalogsources are healthy",
    );
    let plans: Api<InstallPlan> = Api::namespaced(ctx.client.clone(), &ns);
    // The Subscription's current plan, if it is still running.
    let current_plan = match status
        .install_plan_ref
        .as_ref()
        .and_then(|r| r.name.clone())
    {
        Some(p) => plans.get_opt(&p).await?,
        None => None,
    };
    // The CSV a failed plan tried to install: resolution starts from it (fail forward).
    let mut failed_csv: Option<String> = None;
    if let Some(plan) = &current_plan {
        let phase = plan.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("");
        match phase {
            "Complete" => {
                // The plan may also have installed dependencies: this Subscription's CSV is
                // the one it resolved to (`currentCSV`).
                if let Some(cur) = status.current_csv.clone()
                    && plan.spec.cluster_service_version_names.contains(&cur)
                {
                    status.installed_csv = Some(cur);
                }
                clear_condition(&mut status.conditions, "InstallPlanPending");
                clear_condition(&mut status.conditions, "InstallPlanFailed");
            }
            "Failed" => {
                let msg = plan
                    .status
                    .as_ref()
                    .and_then(|s| s.message.clone())
                    .unwrap_or_default();
                set_condition(
                    &mut status.conditions,
                    "InstallPlanFailed",
                    true,
                    "InstallComponentFailed",
                    &format!("InstallPlan {} failed: {msg}", plan.name_any()),
                );
                clear_condition(&mut status.conditions, "InstallPlanPending");
                status.state = Some("UpgradeFailed".into());
                failed_csv = status
                    .current_csv
                    .clone()
                    .filter(|c| plan.spec.cluster_service_version_names.contains(c));
            }
            _ => {
                // A step being retried says so (the plan's `Installed` condition).
                let retrying = plan.status.as_ref().and_then(|s| {
                    s.conditions
                        .iter()
                        .find(|c| {
                            c.type_ == "Installed" && c.reason.as_deref() == Some("StepRetrying")
                        })
                        .and_then(|c| c.message.clone())
                });
                let (reason, msg) = if plan.spec.approved {
                    (
                        "Installing",
                        format!(
                            "InstallPlan {} is installing {}{}",
                            plan.name_any(),
                            plan.spec.cluster_service_version_names.join(", "),
                            retrying.map(|m| format!("; {m}")).unwrap_or_default()
                        ),
                    )
                } else {
                    (
                        "RequiresApproval",
                        format!(
                            "InstallPlan {} for {} requires approval: kubectl -n {ns} patch installplan {} --type=json -p='[{{\"op\":\"replace\",\"path\":\"/spec/approved\",\"value\":true}}]'",
                            plan.name_any(),
                            plan.spec.cluster_service_version_names.join(", "),
                            plan.name_any()
                        ),
                    )
                };
                set_condition(
                    &mut status.conditions,
                    "InstallPlanPending",
                    true,
                    reason,
                    &msg,
                );
                status.state = Some("UpgradePending".into());
                return Ok(Action::await_change());
            }
        }
    }
    // Resolve against every catalog visible from the namespace.
    let csvs: Api<ClusterServiceVersion> = Api::namespaced(ctx.client.clone(), &ns);
    // Copies of operators installed for this namespace elsewhere are not installed here.
    let originals = ListParams::default().labels(&crate::copies::originals_selector());
    let installed_list = csvs.list(&originals).await?;
    let installed: Vec<Installed> = installed_list
        .items
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .map(|v| Installed::from_csv_json(&v))
        .collect();
    // An installed CSV that is gone (deleted by the user) is installed no more.
    if let Some(i) = status.installed_csv.clone()
        && !installed.iter().any(|c| c.csv == i)
    {
        status.installed_csv = None;
    }
    let all = ctx.catalogs.all();
    let sources: Vec<Source> = all
        .iter()
        .filter(|s| s.key.namespace == ns || ctx.catalogs.config.is_global(&s.key.namespace))
        .map(|s| Source {
            key: s.key.clone(),
            priority: s.priority,
            catalog: &s.catalog,
        })
        .collect();
    let req = SubscriptionRequest {
        name: sub.name_any(),
        package: sub.spec.name.clone(),
        channel: sub.spec.channel.clone(),
        source: Some(key.clone()),
        starting_csv: sub.spec.starting_csv.clone(),
        installed_csv: failed_csv.clone().or_else(|| status.installed_csv.clone()),
    };
    let mut resolution = match catalog::resolve::resolve(&sources, &installed, &[req]) {
        Ok(r) => r,
        Err(u) => {
            set_condition(
                &mut status.conditions,
                "ResolutionFailed",
                true,
                "ConstraintsNotSatisfiable",
                u.why(),
            );
            return Ok(Action::await_change());
        }
    };
    clear_condition(&mut status.conditions, "ResolutionFailed");
    if let Some(failed) = &failed_csv {
        if resolution.for_package(&sub.spec.name).is_none() {
            // Nothing replaces, skips or covers the failed bundle yet: stay on the failed plan.
            return Ok(Action::await_change());
        }
        // The fix replaces the failed CSV if its plan created it, else what is installed.
        if !installed.iter().any(|c| &c.csv == failed) {
            for s in resolution
                .steps
                .iter_mut()
                .filter(|s| s.package == sub.spec.name)
            {
                s.replaces = status.installed_csv.clone();
            }
        }
    }
    let Some(step) = resolution.for_package(&sub.spec.name).cloned() else {
        // Up to date.
        status.state = Some("AtLatestKnown".into());
        status.current_csv = status.installed_csv.clone();
        clear_condition(&mut status.conditions, "InstallPlanPending");
        return Ok(Action::await_change());
    };
    if status.installed_csv.as_deref() == Some(step.csv.as_str()) {
        status.state = Some("AtLatestKnown".into());
        return Ok(Action::await_change());
    }
    // Policy: Alauda packages are upgraded only with approval.
    let ptype = crate::packagemanifest::provider_type(&key.name, Some(step.bundle));
    let approval = approval(sub);
    if ptype == "alauda" && approval == "Automatic" {
        let msg = format!(
            "package {:?} has source type Alauda, which supports only Manual approval; set spec.installPlanApproval: Manual (nothing was installed)",
            sub.spec.name
        );
        set_condition(
            &mut status.conditions,
            "ResolutionFailed",
            true,
            "AutomaticApprovalNotAllowed",
            &msg,
        );
        return Ok(Action::await_change());
    }
    // Policy: a pending manual plan of another Subscription holds this one back (OLM shares one
    // plan per namespace).
    let pending = plans.list(&ListParams::default()).await?;
    let mine = status
        .install_plan_ref
        .as_ref()
        .and_then(|r| r.name.clone());
    if let Some(block) = pending.items.iter().find(|p| {
        !p.spec.approved
            && Some(p.name_any()) != mine
            && p.status
                .as_ref()
                .is_none_or(|s| s.phase == "RequiresApproval" || s.phase.is_empty())
    }) {
        let msg = format!(
            "waiting: InstallPlan {} ({}) in namespace {ns} requires approval, and Subscriptions of one namespace are installed together; approve or delete it, or install this operator in its own namespace",
            block.name_any(),
            block.spec.cluster_service_version_names.join(", ")
        );
        set_condition(
            &mut status.conditions,
            "InstallPlanPending",
            true,
            "BlockedByPendingInstallPlan",
            &msg,
        );
        status.state = Some("UpgradePending".into());
        return Ok(Action::await_change());
    }
    let csv_names: Vec<String> = resolution.steps.iter().map(|s| s.csv.clone()).collect();
    let plan_name = format!(
        "install-{}",
        short_hash(&[&ns, &sub.uid().unwrap_or_default(), &csv_names.join(",")])
    );
    // The plan may exist already (this reconcile can run before the Subscription's own status
    // naming it is seen): then the bundles are not unpacked again.
    let plan = match pending.items.iter().find(|p| p.name_any() == plan_name) {
        Some(p) => p.clone(),
        None => {
            // Steps of every bundle the resolution installs (dependencies first).
            let mut steps = Vec::new();
            let uid = sub.uid().unwrap_or_default();
            for s in &resolution.steps {
                let objects = match crate::bundle::objects_of(s.bundle).await {
                    Ok(o) => o,
                    Err(msg) => {
                        // The registry may be down or the image not pushed yet: retried with
                        // backoff (and at once when the catalog changes).
                        let attempt = {
                            let mut failures =
                                ctx.unpack_failures.lock().expect("unpack failures lock");
                            let n = failures.entry(uid.clone()).or_insert(0);
                            *n += 1;
                            *n
                        };
                        let delay = unpack_backoff(attempt);
                        set_condition(
                            &mut status.conditions,
                            "BundleUnpackFailed",
                            true,
                            "BundleUnpackFailed",
                            &format!(
                                "{msg} (attempt {attempt}, retried in {} s)",
                                delay.as_secs()
                            ),
                        );
                        return Ok(Action::requeue(delay));
                    }
                };
                let mut objects =
                    match crate::steps::check_installable(&objects, &s.csv, &s.bundle.image) {
                        Ok(()) => objects,
                        Err(msg) => {
                            // The bundle itself is wrong: only a new catalog content can help.
                            set_condition(
                                &mut status.conditions,
                                "BundleUnpackFailed",
                                true,
                                "BundleInvalid",
                                &msg,
                            );
                            return Ok(Action::await_change());
                        }
                    };
                crate::steps::set_replaces(&mut objects, s.replaces.as_deref());
                steps.extend(crate::steps::plan_steps(
                    &s.csv,
                    &objects,
                    &ns,
                    &s.source.name,
                    &s.source.namespace,
                ));
            }
            ctx.unpack_failures
                .lock()
                .expect("unpack failures lock")
                .remove(&uid);
            create_plan(&plans, sub, &plan_name, csv_names, &approval, &key, steps).await?
        }
    };
    clear_condition(&mut status.conditions, "BundleUnpackFailed");
    status.current_csv = Some(step.csv.clone());
    status.install_plan_ref = Some(ObjectReference {
        api_version: Some("operators.coreos.com/v1alpha1".into()),
        kind: Some("InstallPlan".into()),
        name: Some(plan.name_any()),
        namespace: Some(ns.clone()),
        resource_version: plan.resource_version(),
        uid: plan.uid(),
    });
    status.installplan = Some(InstallPlanReference {
        api_version: "operators.coreos.com/v1alpha1".into(),
        kind: "InstallPlan".into(),
        name: plan.name_any(),
        uuid: plan.uid().unwrap_or_default(),
    });
    status.state = Some("UpgradePending".into());
    if let Some(failed) = &failed_csv {
        set_condition(
            &mut status.conditions,
            "InstallPlanFailed",
            false,
            "FailingForward",
            &format!(
                "the InstallPlan for {failed} failed; {} ({}) is installed in its place by InstallPlan {}",
                step.csv,
                step.reason,
                plan.name_any()
            ),
        );
    }
    let (reason, msg) = if plan.spec.approved {
        (
            "Installing",
            format!("InstallPlan {} is installing {}", plan.name_any(), step.csv),
        )
    } else {
        (
            "RequiresApproval",
            format!(
                "InstallPlan {} for {} requires approval",
                plan.name_any(),
                step.csv
            ),
        )
    };
    set_condition(
        &mut status.conditions,
        "InstallPlanPending",
        true,
        reason,
        &msg,
    );
    Ok(Action::await_change())
}

async fn create_plan(
    plans: &Api<InstallPlan>,
    sub: &Subscription,
    name: &str,
    csv_names: Vec<String>,
    approval: &str,
    key: &SourceKey,
    steps: Vec<apis::operators::Step>,
) -> Result<InstallPlan, kube::Error> {
    let mut plan = InstallPlan::new(
        name,
        InstallPlanSpec {
            cluster_service_version_names: csv_names,
            approval: approval.to_string(),
            approved: approval == "Automatic",
            generation: Some(1),
            source: Some(key.name.clone()),
            source_namespace: Some(key.namespace.clone()),
        },
    );
    plan.metadata.namespace = sub.namespace();
    plan.metadata.owner_references = Some(vec![
        sub.controller_owner_ref(&())
            .map(|mut o| {
                o.controller = Some(false);
                o
            })
            .unwrap_or_default(),
    ]);
    match plans.create(&PostParams::default(), &plan).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e),
    }
    let phase = if approval == "Automatic" {
        "Installing"
    } else {
        "RequiresApproval"
    };
    let st = InstallPlanStatus {
        phase: phase.into(),
        catalog_sources: vec![key.name.clone()],
        plan: steps,
        start_time: Some(crate::util::now()),
        ..Default::default()
    };
    let body =
        json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "status": st});
    plans
        .patch_status(
            name,
            &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
            &Patch::Apply(&body),
        )
        .await
}

/// Why a CatalogSource is not usable (it does not exist, or its status says why).
async fn catalog_problem(client: &kube::Client, key: &SourceKey) -> String {
    let api: Api<apis::operators::CatalogSource> = Api::namespaced(client.clone(), &key.namespace);
    match api.get_opt(&key.name).await {
        Ok(None) => format!(
            "CatalogSource {key} named by spec.source/spec.sourceNamespace does not exist; create it or name an existing one (kubectl get catalogsources -A)"
        ),
        Ok(Some(cs)) => match cs.status.and_then(|s| s.message) {
            Some(m) => format!("CatalogSource {key} is unhealthy: {m}"),
            None => format!("CatalogSource {key} has not been read yet"),
        },
        Err(e) => format!("CatalogSource {key} cannot be read: {e}"),
    }
}

/// Creates the namespace's OperatorGroup from `cpaas.io/target-namespaces` when it has none.
async fn ensure_operator_group(
    client: &kube::Client,
    known: &Store<OperatorGroup>,
    sub: &Subscription,
) -> Result<(), kube::Error> {
    let Some(targets) = sub.annotations().get(TARGET_NAMESPACES_ANNOTATION) else {
        return Ok(());
    };
    let ns = sub.namespace().unwrap_or_default();
    if known
        .find(|og| og.namespace().as_deref() == Some(ns.as_str()))
        .is_some()
    {
        return Ok(());
    }
    let api: Api<OperatorGroup> = Api::namespaced(client.clone(), &ns);
    if !api.list(&ListParams::default()).await?.items.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = targets
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut spec = json!({});
    if !list.is_empty() {
        spec["targetNamespaces"] = json!(list);
    }
    let og: OperatorGroup = serde_json::from_value(json!({
        "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
        "metadata": {"name": ns, "namespace": ns},
        "spec": spec,
    }))
    .expect("operator group literal");
    match api.create(&PostParams::default(), &og).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

async fn write_status(
    client: &kube::Client,
    sub: &Subscription,
    mut status: SubscriptionStatus,
) -> Result<(), kube::Error> {
    if let Some(cur) = sub.status.as_ref() {
        let mut a = cur.clone();
        let mut b = status.clone();
        a.last_updated = None;
        b.last_updated = None;
        let conds_same = crate::util::same_conditions(&a.conditions, &b.conditions);
        a.conditions.clear();
        b.conditions.clear();
        if a == b && conds_same {
            return Ok(());
        }
    }
    status.last_updated = Some(crate::util::now());
    let api: Api<Subscription> =
        Api::namespaced(client.clone(), &sub.namespace().unwrap_or_default());
    let body = json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription", "status": status});
    api.patch_status(
        &sub.name_any(),
        &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_retries_back_off_from_one_to_thirty_seconds() {
        let secs: Vec<u64> = (1..=8).map(|a| unpack_backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
