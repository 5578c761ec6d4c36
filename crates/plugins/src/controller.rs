//! The ModuleInfo controller (global cluster only).
//!
//! One reconcile converges one ModuleInfo, idempotently, from what it observes (no in-memory state
//! a restart would lose; charts cached by manifest digest only save downloads):
//! 1. deleting → the finalizer uninstalls the release from the target cluster (named
//!    installations only; a temporary or refused ModuleInfo owns nothing);
//! 2. [`validate`](crate::validate::validate) the references and the form; a refusal is a `Validated=False`
//!    condition with phase `Failed` and a Warning Event;
//! 3. rename: a ModuleInfo not named [`installation_name`] is created under that name (same labels,
//!    annotations and spec) and the temporary one deleted; when that name exists already, the
//!    plugin is installed in the cluster and the temporary ModuleInfo is refused (`AlreadyInstalled`);
//! 4. converge the Helm release `<plugin>` in namespace [`RELEASE_NAMESPACE`] of the target cluster
//!    (REL's `release::Installer`): install, recover an install cut short, upgrade on a new version
//!    or config (atomic: a failed upgrade rolls back, the old objects keep running), or repair drift;
//! 5. report `Running` once every object of the release is ready (Helm's `--wait` rules), with
//!    currentVersion, NEW_VERSION and the preview of upgrading to it. Until then the reconcile
//!    shows what it waits for and watches that object in the target cluster (no polling
//!    interval), for at most [`Settings::poll`], ending early when the ModuleInfo changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apis::cluster::{CLUSTER_NAME_LABEL, Cluster, ModuleConfig, ModuleInfo, UpgradePreview, phase};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::clusters::{self, Directory};
use crate::naming::installation_name;
use crate::releases::Releases;
use crate::status::{self, Outcome};
use crate::validate::{self, Refusal, Validated};

/// The namespace of every plugin release in its target cluster.
pub const RELEASE_NAMESPACE: &str = "cpaas-system";
/// The finalizer that uninstalls a ModuleInfo's release.
pub const FINALIZER: &str = "cluster.alauda.io/plugin-release";
/// Annotation of a renamed ModuleInfo: the uid of the temporary one it was created from (so a
/// rename cut short between create and delete finishes instead of refusing itself).
pub const RENAMED_FROM: &str = "cluster.alauda.io/renamed-from";

/// Tunables of the controller.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often a Running installation is checked for drift.
    pub resync: Duration,
    /// The longest one reconcile waits (watching the object it waits for, in the target cluster)
    /// for an installation's workloads to change before it looks at everything again; a change of
    /// the ModuleInfo ends the wait at once.
    pub poll: Duration,
    /// Bound on one release operation.
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resync: Duration::from_secs(5),
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
        }
    }
}

pub(crate) struct Ctx {
    pub global: kube::Client,
    pub directory: Directory,
    pub recorder: Recorder,
    pub manager: String,
    pub registry: Option<String>,
    pub settings: Settings,
    /// Turns true when the cluster's controllers stop (ends in-line waits).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Charts by manifest digest (see [`crate::charts`]).
    charts: crate::charts::Charts,
    /// When each installation was last checked for drift (losing it costs one extra check).
    drift_checked: std::sync::Mutex<HashMap<String, std::time::Instant>>,
}

impl Ctx {
    pub fn new(
        global: kube::Client,
        directory: Directory,
        recorder: Recorder,
        manager: String,
        registry: Option<String>,
        settings: Settings,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Ctx {
        Ctx {
            global,
            directory,
            recorder,
            manager,
            registry,
            settings,
            stopping,
            charts: Default::default(),
            drift_checked: Default::default(),
        }
    }
}

/// A reconcile that could not finish (retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ModuleInfo {name}: {source}")]
    Api {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("ModuleInfo {name}: uninstalling release {release} from cluster {cluster}: {source}")]
    Uninstall {
        name: String,
        release: String,
        cluster: String,
        #[source]
        source: release::Error,
    },
    #[error("ModuleInfo {name}: {message}")]
    Other { name: String, message: String },
}

fn api_err(name: &str) -> impl Fn(kube::Error) -> Error + '_ {
    move |source| Error::Api {
        name: name.to_string(),
        source,
    }
}

pub(crate) async fn reconcile(mi: Arc<ModuleInfo>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = mi.name_any();
    tracing::debug!(moduleinfo = %name, "reconcile");
    if temporary(&mi) && mi.meta().deletion_timestamp.is_none() && mi.finalizers().is_empty() {
        // A temporary ModuleInfo owns nothing (its cleanup does nothing), so it needs no
        // finalizer: it is renamed (or refused) at once, without a round-trip adding one.
        return apply(mi, ctx).await;
    }
    let api: Api<ModuleInfo> = Api::all(ctx.global.clone());
    let c = ctx.clone();
    finalizer(&api, FINALIZER, mi, |event| async move {
        match event {
            Finalizer::Apply(mi) => apply(mi, c).await,
            Finalizer::Cleanup(mi) => cleanup(mi, c).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Other {
            name,
            message: other.to_string(),
        },
    })
}

/// Whether a ModuleInfo is not named as its installation (from its labels): renamed or refused,
/// it never has a release of its own.
fn temporary(mi: &ModuleInfo) -> bool {
    let labels = mi.labels();
    match (
        labels.get(CLUSTER_NAME_LABEL),
        labels.get(apis::cluster::MODULE_NAME_LABEL),
    ) {
        (Some(cluster), Some(plugin)) => mi.name_any() != installation_name(cluster, plugin),
        _ => true,
    }
}

async fn apply(mi: Arc<ModuleInfo>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = mi.name_any();
    let v = match validate::validate(&mi, &ctx.global).await {
        Ok(v) => v,
        Err(validate::Error::Refused(r)) => return refuse(&mi, &ctx, r).await,
        Err(validate::Error::Api(source)) => return Err(Error::Api { name, source }),
    };
    let want = installation_name(&v.cluster_name, &v.plugin_name);
    if name != want {
        return rename(&mi, &ctx, &want, &v).await;
    }
    converge(&mi, &ctx, &v).await
}

/// Records a refusal (phase Failed, `Validated=False`, Warning Event). Looked at again later: what
/// was missing (a ModuleConfig, a Cluster) may be published after the ModuleInfo.
async fn refuse(mi: &ModuleInfo, ctx: &Ctx, r: Refusal) -> Result<Action, Error> {
    let outcome = Outcome::refused(&r);
    if write_status(mi, ctx, &outcome, None).await? {
        event(ctx, mi, EventType::Warning, r.reason, &r.message).await;
    }
    Ok(Action::requeue(Duration::from_secs(30)))
}

async fn rename(mi: &ModuleInfo, ctx: &Ctx, want: &str, v: &Validated) -> Result<Action, Error> {
    let name = mi.name_any();
    let api: Api<ModuleInfo> = Api::all(ctx.global.clone());
    let uid = mi.uid().unwrap_or_default();
    let existing = api.get_opt(want).await.map_err(api_err(&name))?;
    let ours = existing
        .as_ref()
        .is_some_and(|e| e.annotations().get(RENAMED_FROM) == Some(&uid));
    if existing.is_some() && !ours {
        let r = Refusal {
            reason: "AlreadyInstalled",
            message: format!(
                "plugin {} is already installed in cluster {} as ModuleInfo {want}; a plugin is installed once per cluster: change that ModuleInfo's spec.version or spec.config, or delete it first, then delete {name}",
                v.plugin_name, v.cluster_name
            ),
        };
        return refuse(mi, ctx, r).await;
    }
    let named = ModuleInfo {
        metadata: ObjectMeta {
            name: Some(want.to_string()),
            labels: Some(mi.labels().clone()),
            // The installation owns a release from its first reconcile on: created with the
            // finalizer, it needs no round-trip adding it.
            finalizers: Some(vec![FINALIZER.to_string()]),
            annotations: Some({
                let mut a = mi.annotations().clone();
                a.insert(RENAMED_FROM.into(), uid.clone());
                a
            }),
            ..Default::default()
        },
        spec: mi.spec.clone(),
        status: None,
    };
    if !ours {
        api.create(&PostParams::default(), &named)
            .await
            .map_err(api_err(&name))?;
    }
    let note = format!(
        "installation of {} in cluster {} is ModuleInfo {want}",
        v.plugin_name, v.cluster_name
    );
    event(ctx, mi, EventType::Normal, "Renamed", &note).await;
    match api.delete(&name, &Default::default()).await {
        Ok(_) => Ok(Action::await_change()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Action::await_change()),
        Err(e) => Err(api_err(&name)(e)),
    }
}

/// What the release in the target cluster should be.
struct Desired {
    opts: release::InstallOptions,
    chart_version: String,
}

async fn converge(mi: &ModuleInfo, ctx: &Ctx, v: &Validated) -> Result<Action, Error> {
    let name = mi.name_any();
    let client = match clusters::client_for(&ctx.global, &ctx.directory, &v.cluster).await {
        Ok(c) => c,
        Err(e) => {
            let o = Outcome::failed("ClusterUnreachable", e.to_string(), mi);
            write_status(mi, ctx, &o, Some(v)).await?;
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
    };
    let desired = match desired(mi, ctx, v).await {
        Ok(d) => d,
        Err(r) => return refuse(mi, ctx, r).await,
    };
    let installer = Releases::new(client.clone());
    let rel_name = desired.opts.name.clone();
    let t0 = std::time::Instant::now();
    let current = installer
        .get(&rel_name, RELEASE_NAMESPACE)
        .await
        .map_err(|e| other(&name, e))?;
    let step = status::next_step(
        current.as_ref(),
        &desired.chart_version,
        &desired.opts.values,
    );
    let mut drift = Vec::new();
    let mut rel = current;
    if let Some(step) = step {
        match apply_step(mi, ctx, v, &installer, step, &desired.opts).await? {
            Some(r) => rel = Some(r),
            None => return Ok(Action::requeue(Duration::from_secs(15))),
        }
        tracing::debug!(moduleinfo = %name, ?step, elapsed = ?t0.elapsed(), "release step applied");
    } else if drift_due(mi, ctx) {
        drift = repair_drift(&installer, &desired.opts)
            .await
            .map_err(|e| other(&name, e))?;
        report_drift(mi, ctx, v, &drift).await;
        if !drift.is_empty() {
            rel = installer
                .get(&rel_name, RELEASE_NAMESPACE)
                .await
                .map_err(|e| other(&name, e))?;
        }
    }
    let rel = rel.ok_or_else(|| Error::Other {
        name: name.clone(),
        message: format!("release {rel_name} vanished after it was applied"),
    })?;
    let preview = preview(mi, ctx, v, &installer).await;
    // Until the workloads are ready: show what is waited for, then wait for it to change by
    // watching it (bounded by `poll`; a change of the ModuleInfo ends the wait).
    let mut seen = std::borrow::Cow::Borrowed(mi);
    let deadline = tokio::time::Instant::now() + ctx.settings.poll;
    let mut again = Duration::ZERO;
    let waiting = loop {
        let waiting = installer
            .not_ready(&rel)
            .await
            .map_err(|e| other(&name, e))?;
        let Some(why) = &waiting else { break None };
        let mut o = Outcome::waiting(why, mi);
        o.drift = drift.clone();
        o.preview = preview.clone();
        if let Some(now) = write_status_seen(&seen, ctx, &o, Some(v)).await? {
            seen = std::borrow::Cow::Owned(now);
        }
        tracing::debug!(moduleinfo = %name, waiting = %why, elapsed = ?t0.elapsed(), "waiting for workloads");
        let mut stopping = ctx.stopping.clone();
        tokio::select! {
            r = installer.wait_change(&rel) => if let Err(e) = r {
                tracing::warn!(moduleinfo = %name, error = %e, "cannot watch the workloads; looking again in a second");
                again = Duration::from_secs(1);
                break waiting;
            },
            _ = changed(ctx, mi) => return Ok(Action::requeue(Duration::ZERO)),
            _ = stopping.wait_for(|s| *s) => break waiting,
            _ = tokio::time::sleep_until(deadline) => break waiting,
        }
    };
    let mut o = match &waiting {
        Some(why) => Outcome::waiting(why, mi),
        None => Outcome::running(mi, &rel_name),
    };
    o.drift = drift;
    o.preview = preview;
    let became_running =
        write_status_seen(&seen, ctx, &o, Some(v)).await?.is_some() && waiting.is_none();
    if became_running && mi.status.as_ref().and_then(|s| s.phase.as_deref()) != Some(phase::RUNNING)
    {
        tracing::debug!(moduleinfo = %name, elapsed = ?t0.elapsed(), "running");
        event(ctx, mi, EventType::Normal, "Running", &o.message).await;
    }
    Ok(Action::requeue(if waiting.is_some() {
        again
    } else {
        ctx.settings.resync
    }))
}

/// Resolves when the ModuleInfo changes in a way a reconcile acts on (spec, labels, deletion);
/// never for its own status writes.
async fn changed(ctx: &Ctx, mi: &ModuleInfo) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let api: Api<ModuleInfo> = Api::all(ctx.global.clone());
    let key = |m: &ModuleInfo| {
        (
            m.meta().generation,
            m.meta().deletion_timestamp.clone(),
            m.labels().clone(),
            m.uid(),
        )
    };
    let was = key(mi);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", mi.name_any()));
    let mut events = std::pin::pin!(watcher(api, config).default_backoff());
    while let Some(ev) = events.next().await {
        match ev {
            Ok(watcher::Event::Apply(now) | watcher::Event::InitApply(now)) if key(&now) != was => {
                return;
            }
            Ok(watcher::Event::Delete(_)) => return,
            // Errors are retried with backoff by the watcher.
            _ => {}
        }
    }
}

fn other(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Other {
        name: name.to_string(),
        message: e.to_string(),
    }
}

/// Runs a release step with its Processing status and Events; whether it succeeded (a failure is
/// reported as phase Failed with the release's error).
async fn apply_step(
    mi: &ModuleInfo,
    ctx: &Ctx,
    v: &Validated,
    installer: &Releases,
    step: status::Step,
    opts: &release::InstallOptions,
) -> Result<Option<release::Release>, Error> {
    let o = Outcome::processing(step, mi);
    if write_status(mi, ctx, &o, Some(v)).await? {
        event(ctx, mi, EventType::Normal, step.reason(), &o.message).await;
    }
    let e = match installer.step(step, opts).await {
        Ok(rel) => return Ok(Some(rel)),
        Err(e) => e,
    };
    let reason = step.failure_reason();
    let o = Outcome::failed(reason, e.to_string(), mi);
    if write_status(mi, ctx, &o, Some(v)).await? {
        event(ctx, mi, EventType::Warning, reason, &o.message).await;
    }
    Ok(None)
}

/// A Warning Event naming what was put back, if anything.
async fn report_drift(
    mi: &ModuleInfo,
    ctx: &Ctx,
    v: &Validated,
    drift: &[apis::cluster::DriftRecord],
) {
    if drift.is_empty() {
        return;
    }
    let objects: Vec<_> = drift
        .iter()
        .map(|d| format!("{} ({})", d.object, d.change))
        .collect();
    let note = format!(
        "objects changed or deleted by hand in cluster {} were put back: {}",
        v.cluster_name,
        objects.join(", ")
    );
    event(ctx, mi, EventType::Warning, "DriftRepaired", &note).await;
}

/// Whether a Running installation is due for a drift check: a reconcile runs after every status
/// write and watch event, but the (dry-run) diff runs at most once per three quarters of `resync`.
fn drift_due(mi: &ModuleInfo, ctx: &Ctx) -> bool {
    if mi.status.as_ref().and_then(|s| s.phase.as_deref()) != Some(phase::RUNNING) {
        return false;
    }
    let mut checked = ctx.drift_checked.lock().expect("drift lock");
    let now = std::time::Instant::now();
    let due = checked
        .get(&mi.name_any())
        .is_none_or(|t| now.duration_since(*t) >= ctx.settings.resync * 3 / 4);
    if due {
        checked.insert(mi.name_any(), now);
    }
    due
}

/// Objects of the release changed or deleted by hand, put back with an upgrade to the same chart
/// and values (a new release revision); what was put back.
async fn repair_drift(
    installer: &Releases,
    opts: &release::InstallOptions,
) -> Result<Vec<apis::cluster::DriftRecord>, release::Error> {
    let changes = installer.diff(opts).await?;
    let drifted = status::drift_records(&changes, &status::now());
    if !drifted.is_empty() {
        installer.step(status::Step::Upgrade, opts).await?;
    }
    Ok(drifted)
}

/// The chart, values and options the ModuleInfo wants.
async fn desired(mi: &ModuleInfo, ctx: &Ctx, v: &Validated) -> Result<Desired, Refusal> {
    desired_for(mi, ctx, v, &v.config).await
}

async fn desired_for(
    mi: &ModuleInfo,
    ctx: &Ctx,
    v: &Validated,
    config: &ModuleConfig,
) -> Result<Desired, Refusal> {
    let reference = &config.spec.chart.reference;
    let chart = ctx.charts.get(reference).await.map_err(|e| Refusal {
        reason: "ChartUnavailable",
        message: match e {
            crate::charts::Error::Load { .. } => format!("ModuleConfig {}: {e}", config.name_any()),
            _ => format!(
                "ModuleConfig {}: {e}; push the chart there (marketplace chart push) or fix spec.chart.ref",
                config.name_any()
            ),
        },
    })?;
    let chart = (*chart).clone();
    let values = crate::form::overlay(
        &crate::form::overlay(&config.spec.config, &mi.spec.config),
        &platform_values(ctx.registry.as_deref(), &v.cluster_name),
    );
    let coalesced = crate::form::overlay(&Value::Object(chart.values.clone()), &values);
    let problems = helm::schema::validate(&chart, coalesced.as_object().expect("an object"));
    if !problems.is_empty() {
        return Err(Refusal {
            reason: "InvalidConfig",
            message: format!(
                "spec.config does not fit the chart's values.schema.json (fix the named keys): {}",
                problems.trim_end().replace('\n', " ")
            ),
        });
    }
    let chart_version = chart.metadata.version.clone();
    let mut opts = release::InstallOptions::new(&v.plugin_name, RELEASE_NAMESPACE, chart);
    opts.values = values;
    opts.create_namespace = true;
    opts.atomic = true;
    opts.timeout = ctx.settings.timeout;
    Ok(Desired {
        opts,
        chart_version,
    })
}

/// What the platform adds to every plugin's values.
pub fn platform_values(registry: Option<&str>, cluster: &str) -> Value {
    let mut global = json!({"cluster": {"name": cluster}});
    if let Some(r) = registry {
        global["registry"] = json!({"address": r});
    }
    json!({"global": global})
}

/// The preview of upgrading to NEW_VERSION (kept while it stays the same version).
async fn preview(
    mi: &ModuleInfo,
    ctx: &Ctx,
    v: &Validated,
    installer: &Releases,
) -> Option<UpgradePreview> {
    let to = v.new_version.as_ref()?;
    let from = mi.spec.version.clone();
    if mi.status.as_ref().and_then(|s| s.phase.as_deref()) != Some(phase::RUNNING) {
        // Previewed once the installation runs: an upgrade starts from a running release.
        return mi.status.as_ref().and_then(|s| s.upgrade_preview.clone());
    }
    if let Some(p) = mi.status.as_ref().and_then(|s| s.upgrade_preview.clone())
        && p.to_version == to.spec.version
        && p.from_version == from
    {
        return Some(p);
    }
    let d = desired_for(mi, ctx, v, to).await.ok()?;
    match installer.diff(&d.opts).await {
        Ok(changes) => Some(status::preview(&from, &to.spec.version, &changes)),
        Err(e) => {
            tracing::warn!(moduleinfo = %mi.name_any(), error = %e, "cannot preview the upgrade");
            None
        }
    }
}

/// Writes the status the outcome implies when it differs; whether it did.
async fn write_status(
    mi: &ModuleInfo,
    ctx: &Ctx,
    o: &Outcome,
    v: Option<&Validated>,
) -> Result<bool, Error> {
    Ok(write_status_seen(mi, ctx, o, v).await?.is_some())
}

/// Like [`write_status`], returning the ModuleInfo as written (to compare the next status with).
async fn write_status_seen(
    mi: &ModuleInfo,
    ctx: &Ctx,
    o: &Outcome,
    v: Option<&Validated>,
) -> Result<Option<ModuleInfo>, Error> {
    let name = mi.name_any();
    let next = status::next(mi, o, v, &status::now());
    if mi.status.as_ref() == Some(&next) {
        return Ok(None);
    }
    let api: Api<ModuleInfo> = Api::all(ctx.global.clone());
    let body = json!({
        "apiVersion": ModuleInfo::api_version(&()),
        "kind": ModuleInfo::kind(&()),
        "status": next,
    });
    match api
        .patch_status(
            &name,
            &PatchParams::apply(&ctx.manager).force(),
            &Patch::Apply(&body),
        )
        .await
    {
        Ok(written) => Ok(Some(written)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(api_err(&name)(e)),
    }
}

/// Records an Event about `mi` off the reconcile's path (an Event is a report, not a step the
/// installation waits for).
async fn event(ctx: &Ctx, mi: &ModuleInfo, type_: EventType, reason: &str, note: &str) {
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    let (recorder, reference, name) = (ctx.recorder.clone(), mi.object_ref(&()), mi.name_any());
    tokio::spawn(async move {
        if let Err(e) = recorder.publish(&ev, &reference).await {
            tracing::warn!(moduleinfo = %name, error = %e, "cannot record an Event");
        }
    });
}

/// Deleting: uninstall the release of a named installation from its target cluster.
async fn cleanup(mi: Arc<ModuleInfo>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = mi.name_any();
    let labels = mi.labels();
    let (Some(cluster), Some(plugin)) = (
        labels.get(CLUSTER_NAME_LABEL),
        labels.get(apis::cluster::MODULE_NAME_LABEL),
    ) else {
        return Ok(Action::await_change());
    };
    if name != installation_name(cluster, plugin) {
        return Ok(Action::await_change());
    }
    let o = Outcome::deleting(&mi);
    write_status(&mi, &ctx, &o, None).await?;
    let clusters: Api<Cluster> = Api::all(ctx.global.clone());
    let Some(c) = clusters.get_opt(cluster).await.map_err(api_err(&name))? else {
        tracing::warn!(moduleinfo = %name, cluster = %cluster, "the target cluster is not registered; nothing to uninstall");
        return Ok(Action::await_change());
    };
    let client = clusters::client_for(&ctx.global, &ctx.directory, &c)
        .await
        .map_err(|e| other(&name, e))?;
    let installer = Releases::new(client);
    match installer.uninstall(plugin, RELEASE_NAMESPACE).await {
        Ok(_) | Err(release::Error::NotFound(_)) => {
            let note = format!("release {plugin} uninstalled from cluster {cluster}");
            event(&ctx, &mi, EventType::Normal, "Uninstalled", &note).await;
            Ok(Action::await_change())
        }
        Err(source) => Err(Error::Uninstall {
            name,
            release: plugin.clone(),
            cluster: cluster.clone(),
            source,
        }),
    }
}
