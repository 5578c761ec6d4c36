//! The Subscription controller: resolves a Subscription against the catalogs (with the
//! namespace's installed CSVs), creates its InstallPlan (`RequiresApproval` for Manual,
//! approved for Automatic), creates the namespace's OperatorGroup from
//! `cpaas.io/target-namespaces`, enforces the policies (Alauda packages refuse Automatic; a
//! pending manual InstallPlan of the namespace holds back the other Subscriptions and says so)
//! and reports OLM's status: `state`, `currentCSV`, `installedCSV`, `installPlanRef`,
//! `installPlanGeneration`, conditions `CatalogSourcesUnhealthy`, `ResolutionFailed`,
//! `InstallPlanPending`, `InstallPlanFailed`, `BundleUnpackFailed`.
//!
//! One plan per namespace resolution, as OLM's `syncResolvingNamespace`: the namespace's other
//! settled Subscriptions ([`may_join`]) are resolved with the reconciled one, and the plan covers
//! every one the resolution gives a bundle ([`shared_plan`]: named from the namespace, their uids
//! and the CSVs, Manual if any is Manual, owned by each, [`PLAN_SUBSCRIPTIONS`] saying which CSV
//! is whose). Each member finds the plan it owns ([`current_plan`]) and names it in its status.
//! Reconciles of one namespace's Subscriptions plan one at a time (a lock per namespace), so the
//! second finds the first's plan. Unlike
//! OLM, a change arriving while a manual plan waits (a new Subscription, another's upgrade) is
//! not put into a new plan beside it: it waits behind it (`BlockedByPendingInstallPlan`) and is
//! planned once that plan is approved or deleted.
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
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
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
    /// The cluster's Subscriptions as the controller watches them: the other Subscriptions of a
    /// namespace join its plan.
    subscriptions: Store<Subscription>,
    /// One lock per namespace: its Subscriptions' reconciles plan one at a time, so the second
    /// finds the plan the first created (for both when it saw both), as OLM's `muInstallPlan`.
    planning: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The wait before unpacking a bundle again after `attempt` failures: 1 s doubling to 30 s.
pub fn unpack_backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let catalogs = crate::state::catalogs(&cx.name);
    let (og_store, og_watch) = crate::util::operator_group_store(&cx.client);
    let subs: Api<Subscription> = Api::all(cx.client.clone());
    crate::util::wait_listable(&cx, &subs).await;
    crate::util::wait_listable(&cx, &Api::<ClusterServiceVersion>::all(cx.client.clone())).await;
    crate::util::wait_listable(&cx, &Api::<InstallPlan>::all(cx.client.clone())).await;
    let controller = Controller::new(subs, watcher::Config::default());
    let store = controller.store();
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        catalogs: catalogs.clone(),
        unpack_failures: Default::default(),
        operator_groups: og_store,
        subscriptions: store.clone(),
        planning: Default::default(),
    });
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

/// Annotation on an InstallPlan: the Subscriptions it serves and the CSV it installs for each
/// (`name=csv`, comma-separated), so each one's status can name the plan and its CSV whichever
/// reconcile created it.
pub const PLAN_SUBSCRIPTIONS: &str = "cpaas.io/installplan-subscriptions";

/// Whether a plan is still to run or running (not `Complete` or `Failed`).
fn is_active(plan: &InstallPlan) -> bool {
    !matches!(
        plan.status.as_ref().map(|s| s.phase.as_str()),
        Some("Complete" | "Failed")
    )
}

fn owned_by(plan: &InstallPlan, uid: &str) -> bool {
    plan.owner_references().iter().any(|o| o.uid == uid)
}

/// Orders plans oldest to newest: by `spec.generation`, then creation time, then name.
fn plan_order(p: &InstallPlan) -> (i64, Option<String>, String) {
    (
        p.spec.generation.unwrap_or(0),
        p.meta()
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        p.name_any(),
    )
}

/// The plan a Subscription is on, among the namespace's `plans`: the newest unfinished plan it
/// owns or its status names (a shared plan may have been created by another Subscription's
/// reconcile), else the newest finished one.
pub fn current_plan<'p>(
    plans: &'p [InstallPlan],
    uid: &str,
    named: Option<&str>,
) -> Option<&'p InstallPlan> {
    let mine = || {
        plans
            .iter()
            .filter(move |p| owned_by(p, uid) || Some(p.name_any().as_str()) == named)
    };
    mine()
        .filter(|p| is_active(p))
        .max_by_key(|p| plan_order(p))
        .or_else(|| mine().max_by_key(|p| plan_order(p)))
}

/// Whether another Subscription of the namespace is settled, so it can be resolved together
/// with the one being reconciled and join its plan: not being deleted, not on an unfinished or
/// failed plan (a failed one fails forward on its own), and its status caught up with its last
/// completed plan.
pub fn may_join(other: &Subscription, plans: &[InstallPlan]) -> bool {
    if other.meta().deletion_timestamp.is_some() {
        return false;
    }
    let uid = other.uid().unwrap_or_default();
    let st = other.status.clone().unwrap_or_default();
    let named = st.install_plan_ref.as_ref().and_then(|r| r.name.as_deref());
    match current_plan(plans, &uid, named) {
        None => true,
        Some(p) if is_active(p) => false,
        Some(p) => {
            p.status.as_ref().map(|s| s.phase.as_str()) == Some("Complete")
                && named == Some(p.name_any().as_str())
                && st.installed_csv.is_some()
                && st.installed_csv == st.current_csv
        }
    }
}

/// One Subscription a namespace's plan serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    pub uid: String,
    pub manual: bool,
    /// The CSV the plan installs for it.
    pub csv: String,
}

/// The InstallPlan one resolution of a namespace makes.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedPlan {
    /// `install-<hash>` of the namespace, the members' uids and the CSVs (both sorted): two
    /// reconciles that resolve the same thing name the same plan, and a Subscription created
    /// again (a new uid) gets a new one.
    pub name: String,
    /// `Manual` if any member is Manual (a pending manual plan holds back the others, as in OLM).
    pub approval: &'static str,
    /// `spec.clusterServiceVersionNames`: every CSV the plan installs, dependencies first.
    pub csvs: Vec<String>,
    /// [`PLAN_SUBSCRIPTIONS`]'s value.
    pub members: String,
}

pub fn shared_plan(ns: &str, members: &[Member], csvs: &[String]) -> SharedPlan {
    let mut uids: Vec<&str> = members.iter().map(|m| m.uid.as_str()).collect();
    uids.sort_unstable();
    let mut sorted: Vec<&str> = csvs.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut named: Vec<String> = members
        .iter()
        .map(|m| format!("{}={}", m.name, m.csv))
        .collect();
    named.sort();
    SharedPlan {
        name: format!(
            "install-{}",
            short_hash(&[ns, &uids.join(","), &sorted.join(",")])
        ),
        approval: if members.iter().any(|m| m.manual) {
            "Manual"
        } else {
            "Automatic"
        },
        csvs: csvs.to_vec(),
        members: named.join(","),
    }
}

/// The CSV plan `plan` installs for Subscription `name` (from [`PLAN_SUBSCRIPTIONS`]).
pub fn planned_csv(plan: &InstallPlan, name: &str) -> Option<String> {
    plan.annotations()
        .get(PLAN_SUBSCRIPTIONS)?
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn key_of(sub: &Subscription) -> SourceKey {
    SourceKey {
        name: sub.spec.source.clone(),
        namespace: sub.spec.source_namespace.clone(),
    }
}

fn request_of(sub: &Subscription, installed_csv: Option<String>) -> SubscriptionRequest {
    SubscriptionRequest {
        name: sub.name_any(),
        package: sub.spec.name.clone(),
        channel: sub.spec.channel.clone(),
        source: Some(key_of(sub)),
        starting_csv: sub.spec.starting_csv.clone(),
        installed_csv,
    }
}

/// Resolves `requests` together; when that fails and there is more than the first (the
/// reconciled Subscription's), the first alone (another's failure is its own to report).
fn resolve_first<'a>(
    sources: &[Source<'a>],
    installed: &[Installed],
    requests: &mut Vec<SubscriptionRequest>,
) -> Result<catalog::resolve::Resolution<'a>, catalog::resolve::Unsatisfiable> {
    if requests.len() > 1 {
        if let Ok(r) = catalog::resolve::resolve(sources, installed, requests) {
            return Ok(r);
        }
        requests.truncate(1);
    }
    catalog::resolve::resolve(sources, installed, requests)
}

/// The CSV and bundle the resolution installs for Subscription `name`.
fn step_of<'a>(
    r: &catalog::resolve::Resolution<'a>,
    name: &str,
) -> Option<(String, &'a catalog::Bundle)> {
    r.steps
        .iter()
        .find(|s| s.subscription.as_deref() == Some(name))
        .map(|s| (s.csv.clone(), s.bundle))
}

/// Points the status at `plan` (`installPlanRef`, `installplan`, `installPlanGeneration`).
fn point_at(status: &mut SubscriptionStatus, plan: &InstallPlan, ns: &str) {
    status.install_plan_ref = Some(ObjectReference {
        api_version: Some("operators.coreos.com/v1alpha1".into()),
        kind: Some("InstallPlan".into()),
        name: Some(plan.name_any()),
        namespace: Some(ns.to_string()),
        resource_version: plan.resource_version(),
        uid: plan.uid(),
    });
    status.installplan = Some(InstallPlanReference {
        api_version: "operators.coreos.com/v1alpha1".into(),
        kind: "InstallPlan".into(),
        name: plan.name_any(),
        uuid: plan.uid().unwrap_or_default(),
    });
    status.install_plan_generation = plan.spec.generation;
}

/// Computes the Subscription's status (and creates its namespace's InstallPlan when one is due).
async fn decide(
    ctx: &Ctx,
    sub: &Subscription,
    status: &mut SubscriptionStatus,
) -> Result<Action, kube::Error> {
    let ns = sub.namespace().unwrap_or_default();
    let key = key_of(sub);
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
    let uid = sub.uid().unwrap_or_default();
    // The namespace's other Subscriptions; with none, nothing is shared and no lock is taken.
    let others_now = || -> Vec<Arc<Subscription>> {
        ctx.subscriptions
            .state()
            .into_iter()
            .filter(|o| o.namespace().as_deref() == Some(ns.as_str()) && o.uid() != sub.uid())
            .collect()
    };
    // Taken even when no other Subscription is seen yet: one created just after this one must
    // wait for this plan and find it (uncontended, the lock costs no API call).
    let lock = {
        let mut locks = ctx.planning.lock().expect("planning lock");
        if locks.len() > 256 {
            // Forget the locks nobody holds or waits for (namespaces come and go).
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(ns.clone()).or_default().clone()
    };
    let _planning = lock.lock_owned().await;
    let plans: Api<InstallPlan> = Api::namespaced(ctx.client.clone(), &ns);
    let all_plans = plans.list(&ListParams::default()).await?.items;
    let named = status
        .install_plan_ref
        .as_ref()
        .and_then(|r| r.name.clone());
    let current_plan = current_plan(&all_plans, &uid, named.as_deref()).cloned();
    if let Some(plan) = &current_plan
        && named.as_deref() != Some(plan.name_any().as_str())
    {
        // The namespace's plan, created for this Subscription too by another one's reconcile.
        if let Some(csv) = planned_csv(plan, &sub.name_any()) {
            status.current_csv = Some(csv);
        }
        point_at(status, plan, &ns);
    }
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
    // The namespace's other settled Subscriptions are resolved with this one (as OLM resolves a
    // namespace), and those given a bundle share its plan; not while this one fails forward
    // (that plan is its own).
    // (Read again here: one created just after this one, as by one `kubectl apply` of both, is
    // seen by now more often than at the start.)
    let others = others_now();
    let joiners: Vec<&Subscription> = if failed_csv.is_none() {
        others
            .iter()
            .map(AsRef::as_ref)
            .filter(|o| may_join(o, &all_plans) && ctx.catalogs.get(&key_of(o)).is_some())
            .collect()
    } else {
        Vec::new()
    };
    let mut requests = vec![request_of(
        sub,
        failed_csv.clone().or_else(|| status.installed_csv.clone()),
    )];
    requests.extend(joiners.iter().map(|o| {
        let installed = o.status.as_ref().and_then(|s| s.installed_csv.clone());
        request_of(o, installed)
    }));
    let unsatisfiable = |status: &mut SubscriptionStatus, u: catalog::resolve::Unsatisfiable| {
        set_condition(
            &mut status.conditions,
            "ResolutionFailed",
            true,
            "ConstraintsNotSatisfiable",
            u.why(),
        );
        Ok(Action::await_change())
    };
    let mut resolution = match resolve_first(&sources, &installed, &mut requests) {
        Ok(r) => r,
        Err(u) => return unsatisfiable(status, u),
    };
    // Policy: an Alauda package asked for with Automatic approval does not join (it says why in
    // its own reconcile); the rest are resolved again without it.
    let refused: Vec<String> = joiners
        .iter()
        .filter(|o| approval(o) == "Automatic")
        .filter(|o| {
            step_of(&resolution, &o.name_any()).is_some_and(|(_, b)| {
                crate::packagemanifest::provider_type(&o.spec.source, Some(b)) == "alauda"
            })
        })
        .map(|o| o.name_any())
        .collect();
    if !refused.is_empty() {
        requests.retain(|r| !refused.contains(&r.name));
        resolution = match resolve_first(&sources, &installed, &mut requests) {
            Ok(r) => r,
            Err(u) => return unsatisfiable(status, u),
        };
    }
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
    let manual = approval(sub) == "Manual";
    if ptype == "alauda" && !manual {
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
    // Policy: a pending manual plan of the namespace that does not serve this Subscription holds
    // it back (OLM installs a namespace's Subscriptions together); it is not merged into a plan
    // an admin may be reviewing.
    if let Some(block) = all_plans.iter().find(|p| {
        !p.spec.approved
            && !owned_by(p, &uid)
            && Some(p.name_any()) != named
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
    // The Subscriptions the plan serves: this one and the joiners the resolution gives a bundle.
    let mut members = vec![Member {
        name: sub.name_any(),
        uid: uid.clone(),
        manual,
        csv: step.csv.clone(),
    }];
    let mut owners = vec![sub];
    for o in &joiners {
        if let Some((csv, _)) = step_of(&resolution, &o.name_any())
            && !refused.contains(&o.name_any())
        {
            members.push(Member {
                name: o.name_any(),
                uid: o.uid().unwrap_or_default(),
                manual: approval(o) == "Manual",
                csv,
            });
            owners.push(o);
        }
    }
    let csv_names: Vec<String> = resolution.steps.iter().map(|s| s.csv.clone()).collect();
    let shared = shared_plan(&ns, &members, &csv_names);
    // The plan may exist already (created by another member's reconcile, or by this one before
    // its status naming it was seen): then the bundles are not unpacked again.
    let plan = match all_plans.iter().find(|p| p.name_any() == shared.name) {
        Some(p) => p.clone(),
        None => {
            // Steps of every bundle the resolution installs (dependencies first).
            let mut steps = Vec::new();
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
            let generation = all_plans
                .iter()
                .filter_map(|p| p.spec.generation)
                .max()
                .unwrap_or(0)
                + 1;
            create_plan(&plans, &owners, &shared, generation, &key, steps).await?
        }
    };
    clear_condition(&mut status.conditions, "BundleUnpackFailed");
    status.current_csv = Some(step.csv.clone());
    point_at(status, &plan, &ns);
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
    let all_csvs = plan.spec.cluster_service_version_names.join(", ");
    let (reason, msg) = if plan.spec.approved {
        (
            "Installing",
            format!("InstallPlan {} is installing {all_csvs}", plan.name_any()),
        )
    } else {
        (
            "RequiresApproval",
            format!(
                "InstallPlan {} for {all_csvs} requires approval",
                plan.name_any(),
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

/// Creates the plan (owned by every Subscription it serves, none of them its controller) and
/// writes its steps. A plan created meanwhile by another reconcile is taken as it is.
async fn create_plan(
    plans: &Api<InstallPlan>,
    owners: &[&Subscription],
    shared: &SharedPlan,
    generation: i64,
    key: &SourceKey,
    steps: Vec<apis::operators::Step>,
) -> Result<InstallPlan, kube::Error> {
    let name = shared.name.as_str();
    let approval = shared.approval;
    let mut plan = InstallPlan::new(
        name,
        InstallPlanSpec {
            cluster_service_version_names: shared.csvs.clone(),
            approval: approval.to_string(),
            approved: approval == "Automatic",
            generation: Some(generation),
            source: Some(key.name.clone()),
            source_namespace: Some(key.namespace.clone()),
        },
    );
    plan.metadata.namespace = owners.first().and_then(|s| s.namespace());
    plan.metadata.annotations = Some(
        [(PLAN_SUBSCRIPTIONS.to_string(), shared.members.clone())]
            .into_iter()
            .collect(),
    );
    plan.metadata.owner_references = Some(
        owners
            .iter()
            .filter_map(|s| s.controller_owner_ref(&()))
            .map(|mut o| {
                o.controller = Some(false);
                o
            })
            .collect(),
    );
    match plans.create(&PostParams::default(), &plan).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {
            if let Some(existing) = plans.get_opt(name).await?
                && existing.status.is_some()
            {
                return Ok(existing);
            }
        }
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
    if !crate::util::namespace_operator_groups(client, known, &ns)
        .await?
        .is_empty()
    {
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
    let api: Api<OperatorGroup> = Api::namespaced(client.clone(), &ns);
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

    fn member(name: &str, manual: bool, csv: &str) -> Member {
        Member {
            name: name.into(),
            uid: format!("uid-{name}"),
            manual,
            csv: csv.into(),
        }
    }

    /// A plan in a test namespace: owned by `owners` (uids), in `phase`.
    fn plan(name: &str, owners: &[&str], phase: Option<&str>, generation: i64) -> InstallPlan {
        serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan",
            "metadata": {"name": name, "namespace": "ns", "ownerReferences": owners.iter().map(|u| json!({
                "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription", "name": u, "uid": u,
            })).collect::<Vec<_>>()},
            "spec": {"clusterServiceVersionNames": [], "approval": "Manual", "approved": false, "generation": generation},
            "status": phase.map(|p| json!({"phase": p})),
        }))
        .unwrap()
    }

    fn sub(
        uid: &str,
        named: Option<&str>,
        installed: Option<&str>,
        current: Option<&str>,
    ) -> Subscription {
        serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
            "metadata": {"name": uid, "namespace": "ns", "uid": uid},
            "spec": {"name": "p", "source": "c", "sourceNamespace": "cpaas-system"},
            "status": {
                "installPlanRef": named.map(|n| json!({"name": n})),
                "installedCSV": installed, "currentCSV": current,
            },
        }))
        .unwrap()
    }

    #[test]
    fn a_shared_plan_is_manual_if_any_member_is_and_its_name_ignores_order() {
        let csvs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = shared_plan(
            "ns",
            &[member("m", true, "a.v1"), member("x", false, "b.v1")],
            &csvs(&["a.v1", "b.v1"]),
        );
        let b = shared_plan(
            "ns",
            &[member("x", false, "b.v1"), member("m", true, "a.v1")],
            &csvs(&["b.v1", "a.v1"]),
        );
        assert_eq!(a.name, b.name, "two reconciles converge on one plan");
        assert_eq!(a.members, b.members);
        assert_eq!(a.members, "m=a.v1,x=b.v1");
        assert_eq!(a.approval, "Manual");
        assert_eq!(a.csvs, ["a.v1", "b.v1"], "CSVs in resolution order");
        assert!(a.name.starts_with("install-"));
        let auto = shared_plan("ns", &[member("x", false, "b.v1")], &csvs(&["b.v1"]));
        assert_eq!(auto.approval, "Automatic");
        assert_ne!(auto.name, a.name);
        // Another namespace, or the same Subscription created again (a new uid): another plan.
        assert_ne!(
            shared_plan("other", &[member("x", false, "b.v1")], &csvs(&["b.v1"])).name,
            auto.name
        );
        let mut again = member("x", false, "b.v1");
        again.uid = "uid-x-2".into();
        assert_ne!(
            shared_plan("ns", &[again], &csvs(&["b.v1"])).name,
            auto.name
        );
    }

    #[test]
    fn each_member_finds_its_csv_in_the_plan_annotation() {
        let mut p = plan("install-x", &["m"], None, 1);
        p.metadata.annotations = Some(
            [(PLAN_SUBSCRIPTIONS.to_string(), "m=a.v1,x=b.v1".to_string())]
                .into_iter()
                .collect(),
        );
        assert_eq!(planned_csv(&p, "x").as_deref(), Some("b.v1"));
        assert_eq!(planned_csv(&p, "m").as_deref(), Some("a.v1"));
        assert_eq!(planned_csv(&p, "y"), None);
    }

    #[test]
    fn a_subscription_is_on_its_newest_unfinished_plan_even_one_another_created() {
        let plans = [
            plan("old", &["s"], Some("Complete"), 1),
            plan("shared", &["t", "s"], Some("RequiresApproval"), 2),
            plan("others", &["t"], Some("Installing"), 3),
        ];
        let name = |p: Option<&InstallPlan>| p.map(|p| p.name_any());
        assert_eq!(
            name(current_plan(&plans, "s", Some("old"))).as_deref(),
            Some("shared")
        );
        assert_eq!(
            name(current_plan(&plans[..1], "s", Some("old"))).as_deref(),
            Some("old")
        );
        // Finished plans: the newest, even if the status does not name it yet.
        let done = [
            plan("old", &["s"], Some("Complete"), 1),
            plan("new", &["s", "t"], Some("Complete"), 2),
        ];
        assert_eq!(
            name(current_plan(&done, "s", Some("old"))).as_deref(),
            Some("new")
        );
        assert!(current_plan(&done, "u", None).is_none());
    }

    #[test]
    fn only_settled_subscriptions_join_a_namespace_plan() {
        let plans = [
            plan("done", &["settled", "behind"], Some("Complete"), 1),
            plan("waiting", &["busy"], Some("RequiresApproval"), 2),
            plan("failed", &["failing"], Some("Failed"), 3),
        ];
        let fresh = sub("fresh", None, None, None);
        assert!(may_join(&fresh, &plans), "never planned: joins");
        let settled = sub("settled", Some("done"), Some("a.v1"), Some("a.v1"));
        assert!(may_join(&settled, &plans), "installed and caught up: joins");
        let behind = sub("behind", Some("done"), None, Some("a.v1"));
        assert!(!may_join(&behind, &plans), "status not caught up: waits");
        let unnamed = sub("behind", None, None, None);
        assert!(
            !may_join(&unnamed, &plans),
            "a completed plan it has not adopted: waits"
        );
        let busy = sub("busy", Some("waiting"), Some("b.v1"), Some("b.v2"));
        assert!(!may_join(&busy, &plans), "on a pending plan: does not join");
        let failing = sub("failing", Some("failed"), Some("c.v1"), Some("c.v2"));
        assert!(!may_join(&failing, &plans), "fails forward on its own");
        let mut deleting = sub("fresh", None, None, None);
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        assert!(!may_join(&deleting, &plans));
    }

    #[test]
    fn unpack_retries_back_off_from_one_to_thirty_seconds() {
        let secs: Vec<u64> = (1..=8).map(|a| unpack_backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
