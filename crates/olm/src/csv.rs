//! The ClusterServiceVersion controller: requirements (one OperatorGroup whose install mode the
//! CSV supports; its owned APIs not already provided by another OperatorGroup whose target
//! namespaces intersect, see `crate::provided`; owned and required CRDs present), then the
//! install strategy's Deployments (owned by the CSV, run as the CSV's ServiceAccounts), phases
//! `Pending` → `InstallReady` → `Installing` → `Succeeded` once every Deployment is available,
//! `Failed` with the reason (an operator image that cannot be pulled is named, and the CSV heals
//! when it appears). On success an upgraded CSV's predecessor (`spec.replaces`) goes `Replacing`
//! and is deleted.
//! A finalizer removes the cluster-scoped RBAC the plan created for it (namespaced objects go
//! with their ownerReference); CRDs stay, as in OLM.

use std::sync::Arc;
use std::time::Duration;

use apis::operators::{
    ClusterServiceVersion, ClusterServiceVersionStatus, CsvCondition, OLM_OWNER,
    OLM_OWNER_NAMESPACE, OperatorGroup, RequirementStatus,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

pub const NAME: &str = "olm-csv";
pub const FINALIZER: &str = "operators.coreos.com/csv-cleanup";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ClusterServiceVersion {0}: {1}")]
    Api(String, #[source] kube::Error),
}

pub struct Ctx {
    pub client: kube::Client,
    /// Every OperatorGroup, watched (a CSV is reconciled on each of its Deployment's changes;
    /// listing its namespace's groups each time was the controller's most frequent request).
    operator_groups: Store<OperatorGroup>,
    /// Records each phase change as OLM does (reporting as [`OLM_REPORTER`]).
    events: controllers::events::Events,
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let (og_store, og_watch) = crate::util::operator_group_store(&cx.client);
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        operator_groups: og_store,
        events: controllers::events::Events::start(cx.client.clone(), &cx.name),
    });
    let api: Api<ClusterServiceVersion> = Api::all(cx.client.clone());
    crate::util::wait_listable(&cx, &api).await;
    // Copied CSVs (shown in target namespaces by `crate::copies`) are not reconciled, as in OLM.
    let not_copies = crate::copies::originals_selector();
    let controller = Controller::new(api, watcher::Config::default().labels(&not_copies)).owns(
        Api::<Deployment>::all(cx.client.clone()),
        watcher::Config::default().labels(OLM_OWNER),
    );
    // A group's targets (`status.namespaces` of a selector group) and provided APIs decide what
    // its namespace's CSVs look like: a change to the group looks at them again.
    let csvs = controller.store();
    let controller = controller.watches(
        Api::<OperatorGroup>::all(cx.client.clone()),
        watcher::Config::default(),
        move |og: OperatorGroup| {
            let ns = og.namespace();
            csvs.state()
                .into_iter()
                .filter(|c| c.namespace() == ns)
                .map(|c| kube::runtime::reflector::ObjectRef::from_obj(c.as_ref()))
                .collect::<Vec<_>>()
        },
    );
    // The OperatorGroup watch lives as long as the controller.
    tokio::select! {
        _ = controllers::runtime::run(&cx, NAME, controller, reconcile, ctx) => {}
        _ = og_watch => {}
    }
    Ok(())
}

/// An outcome of one reconcile: the phase, its reason and message.
struct Outcome {
    phase: &'static str,
    reason: &'static str,
    message: String,
    requeue: Option<Duration>,
}

fn outcome(
    phase: &'static str,
    reason: &'static str,
    message: String,
    requeue: Option<Duration>,
) -> Outcome {
    Outcome {
        phase,
        reason,
        message,
        requeue,
    }
}

async fn reconcile(csv: Arc<ClusterServiceVersion>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = csv.namespace().unwrap_or_default();
    let name = csv.name_any();
    let err = |e| Error::Api(format!("{ns}/{name}"), e);
    let api: Api<ClusterServiceVersion> = Api::namespaced(ctx.client.clone(), &ns);
    if csv.meta().deletion_timestamp.is_some() {
        cleanup(&ctx.client, &ns, &name).await.map_err(err)?;
        prune_group_apis(&ctx, &ns, &name).await.map_err(err)?;
        remove_finalizer(&api, &csv).await.map_err(err)?;
        return Ok(Action::await_change());
    }
    if !csv.finalizers().iter().any(|f| f == FINALIZER) {
        let mut fins = csv.finalizers().to_vec();
        fins.push(FINALIZER.into());
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": fins}})),
        )
        .await
        .map_err(err)?;
        return Ok(Action::await_change());
    }
    if csv.status.as_ref().is_some_and(|s| s.phase == "Replacing") {
        return Ok(Action::await_change());
    }
    let (out, reqs) = step(&ctx, &csv).await.map_err(err)?;
    write_status(&api, &csv, &out, reqs).await.map_err(err)?;
    phase_event(&ctx, &csv, &out);
    if out.phase == "Succeeded" {
        replace_predecessor(&api, &csv).await.map_err(err)?;
    }
    Ok(match out.requeue {
        Some(d) => Action::requeue(d),
        None => Action::await_change(),
    })
}

async fn step(
    ctx: &Ctx,
    csv: &ClusterServiceVersion,
) -> Result<(Outcome, Vec<RequirementStatus>), kube::Error> {
    let client = &ctx.client;
    let ns = csv.namespace().unwrap_or_default();
    let phase = csv.status.as_ref().map(|s| s.phase.as_str()).unwrap_or("");
    // OperatorGroup and install mode.
    let groups =
        crate::util::namespace_operator_groups(&ctx.client, &ctx.operator_groups, &ns).await?;
    let og = match groups.as_slice() {
        [] => {
            return Ok((
                outcome(
                    "Failed",
                    "NoOperatorGroup",
                    format!(
                        "namespace {ns} has no OperatorGroup; create one (or set annotation cpaas.io/target-namespaces on the Subscription, empty for all namespaces)"
                    ),
                    None,
                ),
                vec![],
            ));
        }
        [one] => one,
        many => {
            return Ok((
                outcome(
                    "Failed",
                    "TooManyOperatorGroups",
                    format!(
                        "namespace {ns} has {} OperatorGroups ({}); keep exactly one",
                        many.len(),
                        many.iter()
                            .map(|g| g.name_any())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None,
                ),
                vec![],
            ));
        }
    };
    let targets = crate::operatorgroup::targets(og);
    if let Some(why) = targets.waiting(&og.name_any()) {
        return Ok((
            outcome(
                "Pending",
                "RequirementsUnknown",
                why,
                Some(Duration::from_secs(2)),
            ),
            vec![],
        ));
    }
    let listed = targets.list();
    let mode = crate::steps::install_mode(listed, &ns);
    let supported: Vec<&str> = csv
        .spec
        .install_modes
        .iter()
        .filter(|m| m.supported)
        .map(|m| m.type_.as_str())
        .collect();
    if !supported.contains(&mode) {
        return Ok((
            outcome(
                "Failed",
                "UnsupportedOperatorGroup",
                format!(
                    "CSV {} does not support install mode {mode}, which OperatorGroup {} asks for (targets: {}); it supports {}. Change the OperatorGroup's targetNamespaces (or the Subscription's cpaas.io/target-namespaces) to a supported mode",
                    csv.name_any(),
                    og.name_any(),
                    listed
                        .map(|t| t.join(","))
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "all namespaces".into()),
                    if supported.is_empty() {
                        "none".into()
                    } else {
                        supported.join(", ")
                    }
                ),
                None,
            ),
            vec![],
        ));
    }
    if let Some(out) = claim_apis(ctx, csv, og).await? {
        return Ok((out, vec![]));
    }
    annotate_operator_group(client, csv, og, listed).await?;
    // CRD requirements.
    let reqs = crd_requirements(client, csv).await?;
    if let Some(missing) = reqs.iter().find(|r| r.status != "Present") {
        return Ok((
            outcome(
                "Pending",
                "RequirementsNotMet",
                format!(
                    "CustomResourceDefinition {} is not present: {}",
                    missing.name, missing.message
                ),
                Some(Duration::from_secs(1)),
            ),
            reqs,
        ));
    }
    if matches!(phase, "" | "Pending" | "Failed") && !deployments_applied(csv) {
        return Ok((
            outcome(
                "InstallReady",
                "AllRequirementsMet",
                "all requirements found, attempting install".into(),
                Some(Duration::from_millis(10)),
            ),
            reqs,
        ));
    }
    let deployments = match ensure_deployments(client, csv, listed).await {
        Ok(d) => d,
        Err(Refused { deployment, source }) => match refusal(&source) {
            Some(why) => {
                return Ok((
                    outcome(
                        "Failed",
                        "InstallComponentFailed",
                        format!(
                            "install strategy failed: the API refused Deployment {deployment:?} of the install strategy: {why}; fix spec.install.spec.deployments in the bundle (a newer bundle that replaces this CSV installs over it)"
                        ),
                        Some(Duration::from_secs(10)),
                    ),
                    reqs,
                ));
            }
            None => return Err(source),
        },
    };
    Ok((availability(client, &deployments).await?, reqs))
}

/// A Deployment of the install strategy the API could not take.
struct Refused {
    deployment: String,
    source: kube::Error,
}

/// The API's answer when it refused the request for good (`util::is_transient` says no); `None`
/// for what a retry may cure.
fn refusal(e: &kube::Error) -> Option<String> {
    match e {
        kube::Error::Api(s) if !crate::util::is_transient(e) => Some(s.message.clone()),
        _ => None,
    }
}

/// OLM's provided-API check (`crate::provided`): the CSV's owned APIs join its OperatorGroup's
/// `olm.providedAPIs`, unless a group whose target namespaces intersect already provides one of
/// them. Then the CSV fails with `InterOperatorGroupOwnerConflict`, its Deployments are removed,
/// and it is looked at again every few seconds (the other group's annotation shrinks when its
/// operator is uninstalled, see [`prune_group_apis`]).
async fn claim_apis(
    ctx: &Ctx,
    csv: &ClusterServiceVersion,
    og: &OperatorGroup,
) -> Result<Option<Outcome>, kube::Error> {
    let refused = decide_apis(ctx, csv, og).await?;
    if refused.is_some() {
        let ns = csv.namespace().unwrap_or_default();
        remove_deployments(&ctx.client, &ns, &csv.name_any()).await?;
    }
    Ok(refused)
}

/// [`claim_apis`]' decision, with the group's annotation written when it grows or shrinks; the
/// failing outcome when the CSV may not provide its APIs.
async fn decide_apis(
    ctx: &Ctx,
    csv: &ClusterServiceVersion,
    og: &OperatorGroup,
) -> Result<Option<Outcome>, kube::Error> {
    use crate::provided::{self, Decision};
    let apis = provided::of_csv(csv);
    if apis.is_empty() {
        return Ok(None);
    }
    let others: Vec<provided::Group> = ctx
        .operator_groups
        .state()
        .iter()
        .map(|g| provided::Group::of(g))
        .collect();
    let mut group = provided::Group::of(og);
    let mut decision = provided::decide(&apis, &group, &others);
    let fresh;
    let mut og = og;
    if matches!(decision, Decision::Add(_) | Decision::Remove(_)) {
        // The watched group may lag a write just made (by this CSV or one of its siblings):
        // decide again on the group as stored now, and write on that version.
        let groups: Api<OperatorGroup> =
            Api::namespaced(ctx.client.clone(), &og.namespace().unwrap_or_default());
        fresh = groups.get(&og.name_any()).await?;
        og = &fresh;
        group = provided::Group::of(og);
        decision = provided::decide(&apis, &group, &others);
    }
    let must_write = matches!(decision, Decision::Add(_) | Decision::Remove(_));
    if must_write && og.spec.static_provided_apis == Some(true) {
        let missing: provided::ApiSet = apis.difference(&group.apis).cloned().collect();
        return Ok(Some(outcome(
            "Failed",
            "CannotModifyStaticOperatorGroupProvidedAPIs",
            format!(
                "static provided api operatorgroup cannot be modified by these apis: OperatorGroup {} sets spec.staticProvidedAPIs and its {} annotation does not list {}; add them there, or unset staticProvidedAPIs",
                group.id,
                provided::ANNOTATION,
                provided::format(&missing),
            ),
            Some(Duration::from_secs(5)),
        )));
    }
    if let Decision::Remove(rest) = &decision {
        write_group_apis(&ctx.client, og, rest).await?;
        group.apis = rest.clone();
        decision = provided::decide(&apis, &group, &others);
    }
    match decision {
        Decision::Unchanged | Decision::Remove(_) => Ok(None),
        Decision::Add(union) => {
            write_group_apis(&ctx.client, og, &union).await?;
            Ok(None)
        }
        Decision::Conflict(rivals) => Ok(Some(outcome(
            "Failed",
            "InterOperatorGroupOwnerConflict",
            provided::conflict_message(&csv.name_any(), &group, &rivals),
            Some(Duration::from_secs(5)),
        ))),
    }
}

/// Sets a group's `olm.providedAPIs`, on the condition that the group is still the version the
/// decision read (a concurrent writer makes this fail with 409, and the reconcile is retried).
async fn write_group_apis(
    client: &kube::Client,
    og: &OperatorGroup,
    apis: &crate::provided::ApiSet,
) -> Result<(), kube::Error> {
    let api: Api<OperatorGroup> =
        Api::namespaced(client.clone(), &og.namespace().unwrap_or_default());
    api.patch(
        &og.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {
            "resourceVersion": og.resource_version(),
            "annotations": {crate::provided::ANNOTATION: crate::provided::format(apis)},
        }})),
    )
    .await?;
    Ok(())
}

/// When a CSV goes, its OperatorGroup stops listing the APIs no remaining CSV of the namespace
/// provides (OLM's pruning), so that another group's operator may provide them.
async fn prune_group_apis(ctx: &Ctx, ns: &str, gone: &str) -> Result<(), kube::Error> {
    let groups =
        crate::util::namespace_operator_groups(&ctx.client, &ctx.operator_groups, ns).await?;
    let [og] = groups.as_slice() else {
        return Ok(());
    };
    // As stored now (the watched copy may lag a member's write), and written on that version.
    let og = Api::<OperatorGroup>::namespaced(ctx.client.clone(), ns)
        .get(&og.name_any())
        .await?;
    if og.spec.static_provided_apis == Some(true) {
        return Ok(());
    }
    let group = crate::provided::Group::of(&og);
    if group.apis.is_empty() {
        return Ok(());
    }
    let csvs: Api<ClusterServiceVersion> = Api::namespaced(ctx.client.clone(), ns);
    let originals = ListParams::default().labels(&crate::copies::originals_selector());
    let members = csvs.list(&originals).await?.items;
    let remaining = members
        .iter()
        .filter(|c| c.name_any() != gone && c.meta().deletion_timestamp.is_none())
        .map(crate::provided::of_csv);
    match crate::provided::pruned(&group.apis, remaining) {
        Some(kept) => write_group_apis(&ctx.client, &og, &kept).await,
        None => Ok(()),
    }
}

/// The CSV annotation holding a hash of the RBAC granted in its target namespaces
/// (see `sync_target_rbac`): that RBAC is written only when the hash differs.
pub const TARGET_RBAC_HASH: &str = "cpaas.io/target-rbac-hash";

/// Keeps OLM's `olm.operatorGroup`, `olm.operatorNamespace` and `olm.targetNamespaces`
/// annotations equal to the CSV's OperatorGroup, so the copies (`crate::copies`) follow from the
/// CSV alone; and the RBAC of its `permissions` granted in each target namespace, as OLM grants it
/// (rewritten only when the targets or permissions change, see [`TARGET_RBAC_HASH`]).
async fn annotate_operator_group(
    client: &kube::Client,
    csv: &ClusterServiceVersion,
    og: &OperatorGroup,
    targets: Option<&[String]>,
) -> Result<(), kube::Error> {
    let ns = csv.namespace().unwrap_or_default();
    let rbac = crate::steps::target_rbac(&csv.name_any(), &csv.spec.install, &ns, targets);
    let have = csv.annotations();
    let mut want = vec![
        (apis::operators::OLM_OPERATOR_GROUP, og.name_any()),
        (OLM_OPERATOR_NAMESPACE, og.namespace().unwrap_or_default()),
        (
            apis::operators::OLM_TARGET_NAMESPACES,
            crate::steps::target_annotation(targets),
        ),
    ];
    // A CSV that never had target RBAC and needs none carries no hash (no write for it).
    let granted_before = have.contains_key(TARGET_RBAC_HASH);
    if !rbac.is_empty() || granted_before {
        want.push((TARGET_RBAC_HASH, spec_hash(&Value::Array(rbac.clone()))));
    }
    if want.iter().all(|(k, v)| have.get(*k) == Some(v)) {
        return Ok(());
    }
    let rbac_changed = want
        .iter()
        .any(|(k, v)| *k == TARGET_RBAC_HASH && have.get(*k) != Some(v));
    if rbac_changed {
        // Pruned only after an earlier grant: before the first, nothing of this CSV's is stale.
        sync_target_rbac(client, &csv.name_any(), &ns, &rbac, granted_before).await?;
    }
    let annotations: serde_json::Map<String, Value> = want
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let api: Api<ClusterServiceVersion> =
        Api::namespaced(client.clone(), &csv.namespace().unwrap_or_default());
    api.patch(
        &csv.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
    )
    .await?;
    Ok(())
}

/// Applies the RBAC a CSV is granted in its target namespaces (`steps::target_rbac`) and, with
/// `prune`, deletes what it was granted before and no longer is (a namespace that left its group's
/// targets). A target namespace that is gone meanwhile is skipped.
async fn sync_target_rbac(
    client: &kube::Client,
    csv: &str,
    ns: &str,
    objects: &[Value],
    prune: bool,
) -> Result<(), kube::Error> {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let pp = PatchParams::apply(&controllers::runtime::field_manager(NAME)).force();
    let mut wanted = std::collections::BTreeSet::new();
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let target = o["metadata"]["namespace"].as_str().unwrap_or_default();
        wanted.insert((kind.to_string(), target.to_string(), name.to_string()));
        let applied = match kind {
            "ClusterRole" => Api::<ClusterRole>::all(client.clone())
                .patch(name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            "ClusterRoleBinding" => Api::<ClusterRoleBinding>::all(client.clone())
                .patch(name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            "Role" => Api::<Role>::namespaced(client.clone(), target)
                .patch(name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            _ => Api::<RoleBinding>::namespaced(client.clone(), target)
                .patch(name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
        };
        ignore_gone(applied)?;
    }
    if !prune {
        return Ok(());
    }
    let granted = ListParams::default().labels(&format!(
        "{},{}=true",
        owned_by(csv, ns),
        crate::steps::TARGET_RBAC_LABEL
    ));
    delete_rbac_except(client, &granted, &wanted).await
}

/// Deletes the Roles, RoleBindings (in every namespace), ClusterRoles and ClusterRoleBindings
/// that `selector` finds and that are not among `wanted` (kind, namespace, name).
async fn delete_rbac_except(
    c: &kube::Client,
    selector: &ListParams,
    wanted: &std::collections::BTreeSet<(String, String, String)>,
) -> Result<(), kube::Error> {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    delete_stale(Api::<Role>::all(c.clone()), selector, wanted, |n| {
        Api::namespaced(c.clone(), n)
    })
    .await?;
    delete_stale(Api::<RoleBinding>::all(c.clone()), selector, wanted, |n| {
        Api::namespaced(c.clone(), n)
    })
    .await?;
    delete_stale(Api::<ClusterRole>::all(c.clone()), selector, wanted, |_| {
        Api::all(c.clone())
    })
    .await?;
    delete_stale(
        Api::<ClusterRoleBinding>::all(c.clone()),
        selector,
        wanted,
        |_| Api::all(c.clone()),
    )
    .await
}

/// Deletes what `list` finds with `selector` that is not among `wanted` (kind, namespace, name);
/// `api_for` gives the API to delete through for an object's namespace (`""` when cluster-scoped).
async fn delete_stale<K>(
    list: Api<K>,
    selector: &ListParams,
    wanted: &std::collections::BTreeSet<(String, String, String)>,
    api_for: impl Fn(&str) -> Api<K>,
) -> Result<(), kube::Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let kind = K::kind(&()).to_string();
    for o in list.list(selector).await?.items {
        let ns = o.namespace().unwrap_or_default();
        if !wanted.contains(&(kind.clone(), ns.clone(), o.name_any())) {
            ignore_gone(
                api_for(&ns)
                    .delete(&o.name_any(), &DeleteParams::default())
                    .await
                    .map(|_| ()),
            )?;
        }
    }
    Ok(())
}

/// OLM's annotation on a CSV naming its OperatorGroup's namespace.
pub const OLM_OPERATOR_NAMESPACE: &str = "olm.operatorNamespace";

/// Whether the status history shows an install attempt already (InstallReady reached).
fn deployments_applied(csv: &ClusterServiceVersion) -> bool {
    csv.status
        .as_ref()
        .is_some_and(|s| s.conditions.iter().any(|c| c.phase == "InstallReady"))
}

async fn crd_requirements(
    client: &kube::Client,
    csv: &ClusterServiceVersion,
) -> Result<Vec<RequirementStatus>, kube::Error> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut out = Vec::new();
    let Some(defs) = csv.spec.customresourcedefinitions.as_ref() else {
        return Ok(out);
    };
    for d in defs.owned.iter().chain(defs.required.iter()) {
        let found = crds.get_opt(&d.name).await?;
        let established = found
            .as_ref()
            .and_then(|c| c.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
        let (status, message) = match (found.is_some(), established) {
            (true, true) => (
                "Present",
                "CRD is present and Established condition is true".to_string(),
            ),
            (true, false) => (
                "PresentNotSatisfied",
                "CRD is present but not yet established".to_string(),
            ),
            _ => (
                "NotPresent",
                format!(
                    "install the operator that owns {} ({}) first, or add it to the catalog",
                    d.name, d.kind
                ),
            ),
        };
        out.push(RequirementStatus {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            kind: "CustomResourceDefinition".into(),
            name: d.name.clone(),
            status: status.into(),
            message,
        });
    }
    Ok(out)
}

/// The install strategy's deployments as apply configurations.
pub fn desired_deployments(csv: &ClusterServiceVersion, targets: &str) -> Vec<Value> {
    let ns = csv.namespace().unwrap_or_default();
    let name = csv.name_any();
    csv.spec.install["spec"]["deployments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let mut spec = d["spec"].clone();
            spec["template"]["metadata"]["annotations"]["olm.targetNamespaces"] = json!(targets);
            spec["template"]["metadata"]["annotations"]["olm.operatorGroup"] = json!(
                csv.annotations()
                    .get(apis::operators::OLM_OPERATOR_GROUP)
                    .cloned()
                    .unwrap_or_default()
            );
            let mut labels = d["label"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            labels[OLM_OWNER] = json!(name);
            labels[OLM_OWNER_NAMESPACE] = json!(ns);
            labels[apis::operators::OLM_OWNER_KIND] = json!("ClusterServiceVersion");
            let mut deployment = json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": d["name"],
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [{
                        "apiVersion": "operators.coreos.com/v1alpha1",
                        "kind": "ClusterServiceVersion",
                        "name": name,
                        "uid": csv.uid().unwrap_or_default(),
                        "controller": true,
                        "blockOwnerDeletion": false,
                    }],
                },
                "spec": spec,
            });
            let hash = spec_hash(&deployment);
            deployment["metadata"]["labels"][SPEC_HASH_LABEL] = json!(hash);
            deployment
        })
        .collect()
}

/// A stable hash (FNV-1a, 64 bits, hex) of a Deployment as the CSV asks for it.
fn spec_hash(deployment: &Value) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in deployment.to_string().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The label carrying a hash of the Deployment the CSV asks for (OLM's name): a Deployment whose
/// label matches is left alone, so the many reconciles its own status changes cause write nothing.
pub const SPEC_HASH_LABEL: &str = "olm.deployment-spec-hash";

/// Creates or updates the install strategy's Deployments whose spec-hash label differs from
/// what the CSV asks for; returns each Deployment as it now is (`None` when it could not be read).
async fn ensure_deployments(
    client: &kube::Client,
    csv: &ClusterServiceVersion,
    targets: Option<&[String]>,
) -> Result<Vec<(String, Option<Deployment>)>, Refused> {
    let ns = csv.namespace().unwrap_or_default();
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let pp = PatchParams::apply(&controllers::runtime::field_manager(NAME)).force();
    let mut out = Vec::new();
    for d in desired_deployments(csv, &crate::steps::target_annotation(targets)) {
        let name = d["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let hash = d["metadata"]["labels"][SPEC_HASH_LABEL]
            .as_str()
            .unwrap_or_default();
        let refused = |source| Refused {
            deployment: name.clone(),
            source,
        };
        let current = api.get_opt(&name).await.map_err(refused)?;
        let up_to_date = current.as_ref().is_some_and(|c| {
            c.meta().deletion_timestamp.is_none()
                && c.labels().get(SPEC_HASH_LABEL).map(String::as_str) == Some(hash)
        });
        let now = if up_to_date {
            current
        } else {
            Some(
                api.patch(&name, &pp, &Patch::Apply(&d))
                    .await
                    .map_err(refused)?,
            )
        };
        out.push((name, now));
    }
    Ok(out)
}

/// Succeeded when every deployment is available; Failed naming an image that cannot be pulled;
/// Installing otherwise.
async fn availability(
    client: &kube::Client,
    deployments: &[(String, Option<Deployment>)],
) -> Result<Outcome, kube::Error> {
    for (name, dep) in deployments {
        let Some(dep) = dep else {
            return Ok(outcome(
                "Installing",
                "InstallWaiting",
                format!("waiting for deployment {name} to be created"),
                Some(Duration::from_millis(300)),
            ));
        };
        let available = dep
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
                })
            });
        let updated = dep
            .status
            .as_ref()
            .is_some_and(|s| s.updated_replicas.unwrap_or(0) >= dep.spec.replicas.unwrap_or(1));
        if available && updated {
            continue;
        }
        let pods: Api<Pod> = Api::namespaced(client.clone(), &dep.namespace().unwrap_or_default());
        if let Some(msg) = pull_failure(&pods, dep).await? {
            return Ok(outcome(
                "Failed",
                "ComponentUnhealthy",
                format!("deployment {name}: {msg}"),
                Some(Duration::from_secs(1)),
            ));
        }
        return Ok(outcome(
            "Installing",
            "InstallWaiting",
            format!("installing: waiting for deployment {name} to become ready"),
            Some(Duration::from_millis(500)),
        ));
    }
    Ok(outcome(
        "Succeeded",
        "InstallSucceeded",
        "install strategy completed with no errors".into(),
        None,
    ))
}

async fn pull_failure(pods: &Api<Pod>, dep: &Deployment) -> Result<Option<String>, kube::Error> {
    let Some(sel) = dep.spec.selector.match_labels.as_ref() else {
        return Ok(None);
    };
    let selector = sel
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    for p in pods
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
    {
        for cs in p
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref())
                && matches!(
                    w.reason.as_deref(),
                    Some("ErrImagePull" | "ImagePullBackOff")
                )
            {
                return Ok(Some(format!(
                    "pod {} cannot pull image {}: {}",
                    p.name_any(),
                    cs.image,
                    w.message.clone().unwrap_or_default()
                )));
            }
        }
    }
    Ok(None)
}

/// OLM's `SetPhaseWithEventIfChanged`: an Event (reason and message of the new status; Warning
/// when it failed) whenever the phase, reason or message changes. Best-effort and in the
/// background, as OLM records it: the reconcile neither waits for it nor fails on it.
fn phase_event(ctx: &Ctx, csv: &ClusterServiceVersion, out: &Outcome) {
    let unchanged = csv.status.as_ref().is_some_and(|cur| {
        cur.phase == out.phase
            && cur.reason.as_deref() == Some(out.reason)
            && cur.message.as_deref() == Some(out.message.as_str())
    });
    if unchanged {
        return;
    }
    let type_ = if out.phase == "Failed" {
        EventType::Warning
    } else {
        EventType::Normal
    };
    let note = out.message.clone();
    ctx.events
        .record(OLM_REPORTER, csv, type_, out.reason, note);
}

/// The component OLM's Events are reported as.
const OLM_REPORTER: &str = "operator-lifecycle-manager";

async fn write_status(
    api: &Api<ClusterServiceVersion>,
    csv: &ClusterServiceVersion,
    out: &Outcome,
    reqs: Vec<RequirementStatus>,
) -> Result<(), kube::Error> {
    let cur = csv.status.clone().unwrap_or_default();
    if cur.phase == out.phase
        && cur.message.as_deref() == Some(out.message.as_str())
        && cur.requirement_status == reqs
    {
        return Ok(());
    }
    let now = crate::util::now();
    let mut conditions = cur.conditions.clone();
    if cur.phase != out.phase {
        conditions.push(CsvCondition {
            phase: out.phase.into(),
            message: Some(out.message.clone()),
            reason: Some(out.reason.into()),
            last_update_time: Some(now.clone()),
            last_transition_time: Some(now.clone()),
        });
        let excess = conditions.len().saturating_sub(20);
        conditions.drain(..excess);
    }
    let status = ClusterServiceVersionStatus {
        phase: out.phase.into(),
        message: Some(out.message.clone()),
        reason: Some(out.reason.into()),
        last_update_time: Some(now.clone()),
        last_transition_time: if cur.phase != out.phase {
            Some(now)
        } else {
            cur.last_transition_time.clone()
        },
        conditions,
        requirement_status: reqs,
    };
    let body = json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion", "status": status});
    api.patch_status(
        &csv.name_any(),
        &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(())
}

/// After an upgrade succeeded: the replaced CSV goes `Replacing`, then is deleted — and so is
/// the rest of its `spec.replaces` chain still present (a failed CSV that was failed forward
/// never replaced its own predecessor).
async fn replace_predecessor(
    api: &Api<ClusterServiceVersion>,
    csv: &ClusterServiceVersion,
) -> Result<(), kube::Error> {
    let mut next = csv.spec.replaces.clone();
    let mut seen = vec![csv.name_any()];
    while let Some(old) = next.take() {
        if seen.contains(&old) {
            break;
        }
        let Some(prev) = api.get_opt(&old).await? else {
            break;
        };
        // A copy of an operator installed elsewhere is not this namespace's to replace.
        if prev.labels().contains_key(crate::copies::COPIED_FROM) {
            break;
        }
        seen.push(old.clone());
        next = prev.spec.replaces.clone();
        if prev.meta().deletion_timestamp.is_some() {
            continue;
        }
        let body = json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "status": {"phase": "Replacing", "reason": "BeingReplaced", "message": format!("being replaced by csv: {}", csv.name_any())}});
        api.patch_status(
            &old,
            &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
            &Patch::Apply(&body),
        )
        .await?;
        match api.delete(&old, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Deletes what a plan and this controller created for the CSV (labels `olm.owner`): the
/// cluster-scoped RBAC, and — without waiting for the garbage collector — its Deployments,
/// ServiceAccounts, Roles and RoleBindings.
async fn cleanup(client: &kube::Client, ns: &str, name: &str) -> Result<(), kube::Error> {
    let lp = ListParams::default().labels(&owned_by(name, ns));
    remove_deployments(client, ns, name).await?;
    // Roles and bindings: the plan's and those granted in target namespaces carry its labels.
    delete_rbac_except(client, &lp, &Default::default()).await?;
    delete_labelled::<k8s_openapi::api::core::v1::ServiceAccount>(client, ns, &lp).await
}

/// The label selector of what a plan and this controller made for CSV `ns/name`.
fn owned_by(name: &str, ns: &str) -> String {
    format!("{OLM_OWNER}={name},{OLM_OWNER_NAMESPACE}={ns}")
}

/// Removes the CSV's Deployments (what OLM's `cleanupCSVDeployments` does for a CSV that may not
/// run); its ServiceAccounts and RBAC stay until it is deleted.
async fn remove_deployments(
    client: &kube::Client,
    ns: &str,
    name: &str,
) -> Result<(), kube::Error> {
    delete_labelled::<Deployment>(
        client,
        ns,
        &ListParams::default().labels(&owned_by(name, ns)),
    )
    .await
}

async fn delete_labelled<K>(
    client: &kube::Client,
    ns: &str,
    lp: &ListParams,
) -> Result<(), kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    for o in api.list(lp).await?.items {
        ignore_gone(
            api.delete(&o.name_any(), &DeleteParams::background())
                .await
                .map(|_| ()),
        )?;
    }
    Ok(())
}

fn ignore_gone(r: Result<(), kube::Error>) -> Result<(), kube::Error> {
    match r {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other,
    }
}

async fn remove_finalizer(
    api: &Api<ClusterServiceVersion>,
    csv: &ClusterServiceVersion,
) -> Result<(), kube::Error> {
    let fins: Vec<String> = csv
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    if fins.len() == csv.finalizers().len() {
        return Ok(());
    }
    ignore_gone(
        api.patch(
            &csv.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": fins}})),
        )
        .await
        .map(|_| ()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_are_owned_by_the_csv_and_labelled() {
        let mut csv: ClusterServiceVersion = serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": "op.v1", "namespace": "ns", "uid": "u1"},
            "spec": {"displayName": "Op", "installModes": [], "install": {"strategy": "deployment", "spec": {
                "deployments": [{"name": "op", "label": {"app": "op"}, "spec": {"selector": {"matchLabels": {"app": "op"}}, "template": {"metadata": {"labels": {"app": "op"}}, "spec": {"containers": []}}}}]}}}
        })).unwrap();
        csv.metadata.uid = Some("u1".into());
        let d = &desired_deployments(&csv, "")[0];
        assert_eq!(d["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(d["metadata"]["labels"][OLM_OWNER], "op.v1");
        assert_eq!(d["metadata"]["labels"]["app"], "op");
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["olm.targetNamespaces"],
            ""
        );
    }
}
