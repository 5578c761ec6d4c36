//! The Subscription controller: resolves a Subscription against the catalogs (with the
//! namespace's installed CSVs), creates its InstallPlan (`RequiresApproval` for Manual,
//! approved for Automatic), creates the namespace's OperatorGroup from
//! `cpaas.io/target-namespaces`, enforces the policies (Alauda packages refuse Automatic; a
//! pending manual InstallPlan of the namespace holds back the other Subscriptions and says so)
//! and reports OLM's status: `state`, `currentCSV`, `installedCSV`, `installPlanRef`,
//! conditions `CatalogSourcesUnhealthy`, `ResolutionFailed`, `InstallPlanPending`,
//! `InstallPlanFailed`, `BundleUnpackFailed`.

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
use kube::runtime::reflector::ObjectRef;
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
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let catalogs = crate::state::catalogs(&cx.name);
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        catalogs: catalogs.clone(),
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
            watcher::Config::default().labels("!olm.copiedFrom"),
            move |csv| by_ns(csv.namespace()),
        )
        .watches(
            Api::<InstallPlan>::all(cx.client.clone()),
            watcher::Config::default(),
            move |ip| by_ns2(ip.namespace()),
        )
        .reconcile_all_on(changes.boxed());
    controllers::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
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
    ensure_operator_group(&ctx.client, &sub)
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
            }
            _ => {
                let (reason, msg) = if plan.spec.approved {
                    (
                        "Installing",
                        format!(
                            "InstallPlan {} is installing {}",
                            plan.name_any(),
                            plan.spec.cluster_service_version_names.join(", ")
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
    let installed_list = csvs.list(&ListParams::default()).await?;
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
        installed_csv: status.installed_csv.clone(),
    };
    let resolution = match catalog::resolve::resolve(&sources, &installed, &[req]) {
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
    // Steps of every bundle the resolution installs (dependencies first).
    let mut steps = Vec::new();
    let mut csv_names = Vec::new();
    for s in &resolution.steps {
        let mut objects = match crate::bundle::objects_of(s.bundle).await {
            Ok(o) => o,
            Err(msg) => {
                set_condition(
                    &mut status.conditions,
                    "BundleUnpackFailed",
                    true,
                    "BundleUnpackFailed",
                    &msg,
                );
                return Ok(Action::requeue(Duration::from_secs(2)));
            }
        };
        crate::steps::set_replaces(&mut objects, s.replaces.as_deref());
        csv_names.push(s.csv.clone());
        steps.extend(crate::steps::plan_steps(
            &s.csv,
            &objects,
            &ns,
            &s.source.name,
            &s.source.namespace,
        ));
    }
    clear_condition(&mut status.conditions, "BundleUnpackFailed");
    let plan_name = format!(
        "install-{}",
        short_hash(&[&ns, &sub.uid().unwrap_or_default(), &csv_names.join(",")])
    );
    let plan = match plans.get_opt(&plan_name).await? {
        Some(p) => p,
        None => create_plan(&plans, sub, &plan_name, csv_names, &approval, &key, steps).await?,
    };
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
    sub: &Subscription,
) -> Result<(), kube::Error> {
    let Some(targets) = sub.annotations().get(TARGET_NAMESPACES_ANNOTATION) else {
        return Ok(());
    };
    let ns = sub.namespace().unwrap_or_default();
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
