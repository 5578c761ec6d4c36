//! [`Installer`]: Helm v4's install / upgrade / rollback / uninstall actions over a `kube::Client`.
//! Each action follows Helm's sequence (record → hooks → apply → wait → hooks → record) and ends
//! with a stored status that says what happened (`failed` with the reason when a step fails).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt, TryStreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::cluster::{self, Cluster, Object, ObjectKey};
use crate::diff::{self, ObjectChange};
use crate::hooks;
use crate::model::{self, HookExecution, Info, Release, Status};
use crate::storage::Storage;
use crate::{Error, InstallOptions};

/// Requests in flight at once when applying or reading the objects of one kind.
const CONCURRENCY: usize = 16;

/// Installs and manages Helm releases in one cluster.
pub struct Installer {
    cluster: Arc<Cluster>,
    storage: Storage,
    dry_run: bool,
    history_max: usize,
}

/// What a render produced for a release.
struct Rendered {
    manifest: String,
    hooks: Vec<model::Hook>,
    notes: String,
}

impl Installer {
    /// An installer over a cluster client (Helm's defaults: no dry run, `--history-max 10`).
    pub fn new(client: Client) -> Installer {
        Installer {
            cluster: Arc::new(Cluster::new(client.clone())),
            storage: Storage::new(client),
            dry_run: false,
            history_max: 10,
        }
    }

    /// `--dry-run=server`: render and apply with the server's dry run; nothing is stored or changed.
    pub fn dry_run(mut self, on: bool) -> Installer {
        self.dry_run = on;
        self
    }

    /// `--history-max` (0: unlimited).
    pub fn history_max(mut self, max: usize) -> Installer {
        self.history_max = max;
        self
    }

    /// The latest revision of a release, if it exists.
    pub async fn get(&self, name: &str, namespace: &str) -> Result<Option<Release>, Error> {
        Ok(self.storage.history(name, namespace).await?.pop())
    }

    /// One revision (`None`: the latest), or [`Error::NotFound`].
    pub async fn status(
        &self,
        name: &str,
        namespace: &str,
        revision: Option<i64>,
    ) -> Result<Release, Error> {
        let hist = self.storage.history(name, namespace).await?;
        let found = match revision {
            Some(v) => hist.into_iter().find(|r| r.version == v),
            None => hist.into_iter().last(),
        };
        found.ok_or_else(|| Error::NotFound(name.into()))
    }

    /// Every revision of a release, oldest first.
    pub async fn history(&self, name: &str, namespace: &str) -> Result<Vec<Release>, Error> {
        self.storage.history(name, namespace).await
    }

    /// The latest revision of each release in a namespace (all namespaces with `None`).
    pub async fn list(&self, namespace: Option<&str>) -> Result<Vec<Release>, Error> {
        self.storage.list_latest(namespace).await
    }

    /// `helm install`.
    pub async fn install(&self, o: &InstallOptions) -> Result<Release, Error> {
        validate_names(&o.name, &o.namespace)?;
        if !self.dry_run
            && !self
                .storage
                .history(&o.name, &o.namespace)
                .await?
                .is_empty()
        {
            return Err(Error::NameInUse(o.name.clone()));
        }
        let deadline = Instant::now() + o.timeout;
        if o.create_namespace && !self.dry_run {
            self.ensure_namespace(&o.namespace).await?;
        }
        if !self.dry_run {
            self.install_crds(o, deadline).await?;
        }
        let r = self.render(o, 1, false).await?;
        let now = Timestamp::now();
        let mut rel = new_release(o, 1, &r, now);
        rel.info.first_deployed = Some(now);
        rel.set_status(Status::PendingInstall, "Initial install underway");
        let objects = self.release_objects(&rel, false).await?;
        if self.dry_run {
            for obj in &objects {
                self.cluster.apply(obj, true).await?;
            }
            rel.set_status(Status::PendingInstall, "Dry run complete");
            return Ok(rel);
        }
        self.check_ownership(&objects, &o.name, &o.namespace, "install")
            .await?;
        self.storage.create(&rel).await?;
        let result = self
            .perform(&mut rel, &objects, &[], o.wait, deadline, "install")
            .await;
        match result {
            Ok(()) => {
                rel.set_status(Status::Deployed, "Install complete");
                self.storage.update(&rel).await?;
                Ok(rel)
            }
            Err(e) => {
                rel.set_status(
                    Status::Failed,
                    format!("Release \"{}\" failed: {e}", o.name),
                );
                self.storage.update(&rel).await?;
                if !o.atomic {
                    return Err(e);
                }
                match self
                    .uninstall_within(&o.name, &o.namespace, o.timeout)
                    .await
                {
                    Ok(_) => Err(Error::Failed(format!(
                        "release {} failed, and has been uninstalled due to rollback-on-failure being set: {e}",
                        o.name
                    ))),
                    Err(u) => Err(Error::Failed(format!(
                        "an error occurred while uninstalling the release. original install error: {e}: {u}"
                    ))),
                }
            }
        }
    }

    /// `helm upgrade` of an existing release.
    pub async fn upgrade(&self, o: &InstallOptions) -> Result<Release, Error> {
        validate_names(&o.name, &o.namespace)?;
        let hist = self.storage.history(&o.name, &o.namespace).await?;
        let Some(last) = hist.last() else {
            return Err(Error::NoDeployed(o.name.clone()));
        };
        if last.info.status.is_pending() {
            return Err(Error::InProgress(o.name.clone()));
        }
        let current = hist
            .iter()
            .rev()
            .find(|r| r.info.status == Status::Deployed)
            .unwrap_or(last)
            .clone();
        let deadline = Instant::now() + o.timeout;
        let revision = last.version + 1;
        let r = self.render(o, revision, true).await?;
        let now = Timestamp::now();
        let mut rel = new_release(o, revision, &r, now);
        rel.info.first_deployed = current.info.first_deployed.or(Some(now));
        rel.labels = current.labels.clone();
        rel.set_status(Status::PendingUpgrade, "Preparing upgrade");
        let target = self.release_objects(&rel, false).await?;
        let old = self.release_objects(&current, true).await?;
        if self.dry_run {
            for obj in &target {
                self.cluster.apply(obj, true).await?;
            }
            rel.set_status(Status::PendingUpgrade, "Dry run complete");
            return Ok(rel);
        }
        let old_keys: HashSet<ObjectKey> = old.iter().map(Object::key).collect();
        let added: Vec<Object> = target
            .iter()
            .filter(|t| !old_keys.contains(&t.key()))
            .cloned()
            .collect();
        self.check_ownership(&added, &o.name, &o.namespace, "upgrade")
            .await?;
        self.storage.create(&rel).await?;
        match self
            .perform(&mut rel, &target, &old, o.wait, deadline, "upgrade")
            .await
        {
            Ok(()) => {
                self.supersede(&hist).await?;
                rel.set_status(Status::Deployed, "Upgrade complete");
                self.storage.update(&rel).await?;
                self.prune_history(&o.name, &o.namespace).await?;
                Ok(rel)
            }
            Err(e) => {
                rel.set_status(
                    Status::Failed,
                    format!("Upgrade \"{}\" failed: {e}", o.name),
                );
                self.storage.update(&rel).await?;
                if !o.atomic {
                    return Err(e);
                }
                match self
                    .rollback(
                        &o.name,
                        &o.namespace,
                        Some(current.version),
                        o.wait,
                        o.timeout,
                    )
                    .await
                {
                    Ok(_) => Err(Error::Failed(format!(
                        "release {} failed, and has been rolled back due to rollback-on-failure being set: {e}",
                        o.name
                    ))),
                    Err(re) => Err(Error::Failed(format!(
                        "an error occurred while rolling back the release. original upgrade error: {e}: {re}"
                    ))),
                }
            }
        }
    }

    /// `helm rollback NAME [REVISION]` (`None` or 0: the previous revision).
    pub async fn rollback(
        &self,
        name: &str,
        namespace: &str,
        revision: Option<i64>,
        wait: bool,
        timeout: Duration,
    ) -> Result<Release, Error> {
        validate_names(name, namespace)?;
        let hist = self.storage.history(name, namespace).await?;
        let Some(last) = hist.last().cloned() else {
            return Err(Error::NotFound(name.into()));
        };
        if last.info.status.is_pending() {
            return Err(Error::InProgress(name.into()));
        }
        let wanted = revision.filter(|v| *v > 0).unwrap_or(last.version - 1);
        let Some(target) = hist.iter().find(|r| r.version == wanted).cloned() else {
            return Err(Error::Failed(format!("release has no {wanted} version")));
        };
        let deadline = Instant::now() + timeout;
        let now = Timestamp::now();
        let mut rel = Release {
            name: name.into(),
            namespace: namespace.into(),
            version: last.version + 1,
            info: Info {
                first_deployed: last.info.first_deployed.or(Some(now)),
                last_deployed: Some(now),
                notes: target.info.notes.clone(),
                ..Info::default()
            },
            chart: target.chart.clone(),
            config: target.config.clone(),
            manifest: target.manifest.clone(),
            hooks: target
                .hooks
                .iter()
                .cloned()
                .map(|mut h| {
                    h.last_run = HookExecution::default();
                    h
                })
                .collect(),
            labels: target.labels.clone(),
            apply_method: "ssa".into(),
        };
        rel.set_status(Status::PendingRollback, format!("Rollback to {wanted}"));
        let objects = self.release_objects(&rel, false).await?;
        let old = self.release_objects(&last, true).await?;
        if self.dry_run {
            for obj in &objects {
                self.cluster.apply(obj, true).await?;
            }
            return Ok(rel);
        }
        self.storage.create(&rel).await?;
        match self
            .perform(&mut rel, &objects, &old, wait, deadline, "rollback")
            .await
        {
            Ok(()) => {
                self.supersede(&hist).await?;
                rel.set_status(Status::Deployed, format!("Rollback to {wanted}"));
                self.storage.update(&rel).await?;
                self.prune_history(name, namespace).await?;
                Ok(rel)
            }
            Err(e) => {
                rel.set_status(Status::Failed, format!("Rollback \"{name}\" failed: {e}"));
                self.storage.update(&rel).await?;
                Err(e)
            }
        }
    }

    /// `helm uninstall`: pre-delete hooks, the release's objects (except
    /// `helm.sh/resource-policy: keep`), post-delete hooks, then every revision's record.
    pub async fn uninstall(&self, name: &str, namespace: &str) -> Result<Release, Error> {
        self.uninstall_within(name, namespace, Duration::from_secs(300))
            .await
    }

    /// [`Installer::uninstall`] with a bound on its hooks (`--timeout`).
    pub async fn uninstall_within(
        &self,
        name: &str,
        namespace: &str,
        timeout: Duration,
    ) -> Result<Release, Error> {
        validate_names(name, namespace)?;
        let hist = self.storage.history(name, namespace).await?;
        let Some(mut rel) = hist.last().cloned() else {
            return Err(Error::NotFound(name.into()));
        };
        let deadline = Instant::now() + timeout;
        let objects = self.release_objects(&rel, true).await?;
        if self.dry_run {
            return Ok(rel);
        }
        rel.set_status(
            Status::Uninstalling,
            "Deletion in progress (or silently failed)",
        );
        self.storage.update(&rel).await?;
        self.run_hooks(&mut rel, "pre-delete", deadline).await?;
        let mut errors = Vec::new();
        for obj in objects.iter().rev().filter(|o| !o.keep()) {
            if let Err(e) = self.cluster.delete(obj).await {
                errors.push(e.to_string());
            }
        }
        if !errors.is_empty() {
            let msg = format!(
                "uninstallation completed with {} error(s): {}",
                errors.len(),
                errors.join("; ")
            );
            rel.set_status(Status::Failed, msg.clone());
            self.storage.update(&rel).await?;
            return Err(Error::Failed(msg));
        }
        self.run_hooks(&mut rel, "post-delete", deadline).await?;
        for r in &hist {
            self.storage.delete(name, namespace, r.version).await?;
        }
        rel.info.deleted = Some(Timestamp::now());
        rel.set_status(Status::Uninstalled, "Uninstallation complete");
        Ok(rel)
    }

    /// What upgrading (or installing, when absent) with these options would change, object by
    /// object: each rendered object against the server's dry-run apply of it, and the objects the
    /// upgrade would prune.
    pub async fn diff(&self, o: &InstallOptions) -> Result<Vec<ObjectChange>, Error> {
        validate_names(&o.name, &o.namespace)?;
        let hist = self.storage.history(&o.name, &o.namespace).await?;
        let current = hist
            .iter()
            .rev()
            .find(|r| r.info.status == Status::Deployed)
            .or(hist.last())
            .cloned();
        let revision = hist.last().map(|r| r.version + 1).unwrap_or(1);
        let r = self.render(o, revision, current.is_some()).await?;
        let mut rel = new_release(o, revision, &r, Timestamp::now());
        rel.labels = Default::default();
        let target = self.release_objects(&rel, false).await?;
        let old = match &current {
            Some(c) => self.release_objects(c, true).await?,
            None => Vec::new(),
        };
        let mut out = Vec::new();
        let mut keys = HashSet::new();
        for t in &target {
            keys.insert(t.key());
            let live = self.cluster.get(t).await?;
            let desired = self.cluster.apply(t, true).await?;
            out.push(change(t, live.as_ref(), Some(&desired)));
        }
        for old_obj in old.iter().filter(|x| !keys.contains(&x.key()) && !x.keep()) {
            if let Some(live) = self.cluster.get(old_obj).await? {
                out.push(change(old_obj, Some(&live), None));
            }
        }
        Ok(out)
    }

    // ---- steps ------------------------------------------------------------------------------

    /// Hooks before, apply, prune, wait, hooks after: the body of install, upgrade and rollback.
    async fn perform(
        &self,
        rel: &mut Release,
        target: &[Object],
        old: &[Object],
        wait: bool,
        deadline: Instant,
        op: &str,
    ) -> Result<(), Error> {
        self.run_hooks(rel, &format!("pre-{op}"), deadline).await?;
        // Helm's install order between kinds; the objects of one kind are applied concurrently.
        for run in target.chunk_by(|a, b| a.kind() == b.kind()) {
            stream::iter(boxed(
                run.iter().map(|obj| self.cluster.apply(obj, false).boxed()),
            ))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        }
        let keys: HashSet<ObjectKey> = target.iter().map(Object::key).collect();
        for gone in old.iter().rev().filter(|o| !keys.contains(&o.key())) {
            if gone.keep() {
                tracing::info!(object = %gone.display(), "kept by helm.sh/resource-policy");
                continue;
            }
            self.cluster.delete(gone).await?;
        }
        if wait {
            self.cluster.wait_ready(target, deadline).await?;
        }
        self.run_hooks(rel, &format!("post-{op}"), deadline).await
    }

    /// Runs a release's hooks for one event, recording each run in the release.
    async fn run_hooks(
        &self,
        rel: &mut Release,
        event: &str,
        deadline: Instant,
    ) -> Result<(), Error> {
        for i in hooks::for_event(&rel.hooks, event) {
            let hook = rel.hooks[i].clone();
            let objects = self
                .cluster
                .objects(&hook.manifest, &rel.namespace)
                .await
                .map_err(|e| {
                    let e =
                        Error::Failed(format!("warning: Hook {event} {} failed: {e}", hook.path));
                    Error::Failed(hook_failure(event, &e))
                })?;
            if hooks::has_policy(&hook, "before-hook-creation") {
                for obj in &objects {
                    self.cluster.delete_and_wait(obj, deadline).await?;
                }
            }
            rel.hooks[i].last_run = HookExecution {
                started_at: Some(Timestamp::now()),
                completed_at: None,
                phase: "Running".into(),
            };
            let result = self.run_hook(&hook, &objects, event, deadline).await;
            let run = &mut rel.hooks[i].last_run;
            run.completed_at = Some(Timestamp::now());
            run.phase = if result.is_ok() {
                "Succeeded"
            } else {
                "Failed"
            }
            .into();
            let policy = if result.is_ok() {
                "hook-succeeded"
            } else {
                "hook-failed"
            };
            if hooks::has_policy(&hook, policy) {
                for obj in &objects {
                    self.cluster.delete(obj).await?;
                }
            }
            if let Err(e) = result {
                return Err(Error::Failed(hook_failure(event, &e)));
            }
        }
        Ok(())
    }

    async fn run_hook(
        &self,
        hook: &model::Hook,
        objects: &[Object],
        event: &str,
        deadline: Instant,
    ) -> Result<(), Error> {
        for obj in objects {
            self.cluster.apply(obj, false).await.map_err(|e| {
                Error::Failed(format!("warning: Hook {event} {} failed: {e}", hook.path))
            })?;
        }
        let waited: Vec<Object> = objects
            .iter()
            .filter(|o| matches!(o.kind(), "Job" | "Pod"))
            .cloned()
            .collect();
        self.cluster.wait_ready(&waited, deadline).await
    }

    /// The objects of a release's manifest, with the ownership metadata Helm adds. `lenient`
    /// skips documents whose kind the cluster no longer serves (an old revision's CRD removed).
    async fn release_objects(&self, rel: &Release, lenient: bool) -> Result<Vec<Object>, Error> {
        let mut out = Vec::new();
        for doc in helm::manifest::split_manifests(&rel.manifest) {
            match self.cluster.objects(&doc, &rel.namespace).await {
                Ok(objs) => out.extend(objs),
                Err(e) if !lenient => return Err(e),
                Err(e) => tracing::warn!(release = %rel.name, "skipping a document: {e}"),
            }
        }
        for o in &mut out {
            add_helm_metadata(&mut o.value, &rel.name, &rel.namespace);
        }
        Ok(out)
    }

    /// Refuses to take over objects that exist but belong to no release or another one.
    async fn check_ownership(
        &self,
        objects: &[Object],
        name: &str,
        namespace: &str,
        op: &str,
    ) -> Result<(), Error> {
        let lives: Vec<Option<Value>> = stream::iter(boxed(
            objects.iter().map(|obj| self.cluster.get(obj).boxed()),
        ))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
        for (obj, live) in objects.iter().zip(lives) {
            if let Some(live) = live
                && let Some(why) = ownership_error(&live, name, namespace)
            {
                let place = match obj.namespace() {
                    Some(ns) => format!(" in namespace \"{ns}\""),
                    None => String::new(),
                };
                return Err(Error::Invalid(format!(
                    "Unable to continue with {op}: {} \"{}\"{place} exists and cannot be imported into the current release: invalid ownership metadata; {why}",
                    obj.kind(),
                    obj.name()
                )));
            }
        }
        Ok(())
    }

    async fn render(
        &self,
        o: &InstallOptions,
        revision: i64,
        is_upgrade: bool,
    ) -> Result<Rendered, Error> {
        let caps = cluster::capabilities(&self.cluster).await?;
        let user = user_values(&o.values)?;
        let opts = helm::TemplateOptions {
            render: helm::RenderOptions {
                release: helm::ReleaseOptions {
                    name: o.name.clone(),
                    namespace: o.namespace.clone(),
                    revision,
                    is_install: !is_upgrade,
                    is_upgrade,
                },
                capabilities: caps,
                skip_schema_validation: false,
                lookup: Some(lookup_hook(self.cluster.client.clone())),
            },
            ..helm::TemplateOptions::default()
        };
        let chart = o.chart.clone();
        let out = tokio::task::spawn_blocking(move || helm::render::template(&chart, &user, &opts))
            .await
            .map_err(|e| Error::Failed(format!("render task failed: {e}")))??;
        Ok(Rendered {
            manifest: out.manifest,
            hooks: out.sorted.hooks.iter().map(hooks::from_rendered).collect(),
            notes: out.notes.unwrap_or_default(),
        })
    }

    /// Creates `crds/` CRDs of the chart and its enabled subcharts (existing ones are left as
    /// they are, as Helm does) and waits until each is established.
    async fn install_crds(&self, o: &InstallOptions, deadline: Instant) -> Result<(), Error> {
        let user = user_values(&o.values)?;
        let (prepared, _) =
            helm::render::prepare(&o.chart, &user, &helm::RenderOptions::default())?;
        let mut files = Vec::new();
        collect_crds(&prepared, &mut files);
        let mut crds = Vec::new();
        for text in files {
            crds.extend(self.cluster.objects(&text, &o.namespace).await?);
        }
        stream::iter(boxed(
            crds.iter().map(|crd| self.cluster.create(crd).boxed()),
        ))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
        for crd in &crds {
            self.cluster.wait_established(crd, deadline).await?;
        }
        Ok(())
    }

    async fn ensure_namespace(&self, namespace: &str) -> Result<(), Error> {
        let api: Api<Namespace> = Api::all(self.cluster.client.clone());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(namespace.into()),
                labels: Some([("name".to_string(), namespace.to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match api.create(&PostParams::default(), &ns).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            Err(e) => Err(Error::kube(&format!("create namespace {namespace}"), e)),
        }
    }

    /// Marks every deployed revision superseded.
    async fn supersede(&self, hist: &[Release]) -> Result<(), Error> {
        for r in hist.iter().filter(|r| r.info.status == Status::Deployed) {
            let mut r = r.clone();
            r.set_status(Status::Superseded, "Superseded");
            self.storage.update(&r).await?;
        }
        Ok(())
    }

    /// Keeps at most `history_max` revisions, deleting the oldest that are not deployed.
    async fn prune_history(&self, name: &str, namespace: &str) -> Result<(), Error> {
        if self.history_max == 0 {
            return Ok(());
        }
        let hist = self.storage.history(name, namespace).await?;
        let extra = hist.len().saturating_sub(self.history_max);
        let latest = hist.last().map(|r| r.version).unwrap_or_default();
        let doomed = hist
            .iter()
            .filter(|r| r.info.status != Status::Deployed && r.version != latest)
            .take(extra);
        for r in doomed {
            self.storage.delete(name, namespace, r.version).await?;
        }
        Ok(())
    }
}

/// Helm's wording of a failed hook: `failed pre-install: ...` for installs, `post-upgrade hooks
/// failed: ...` for the other actions.
fn hook_failure(event: &str, e: &Error) -> String {
    if event.ends_with("-install") {
        format!("failed {event}: {e}")
    } else {
        format!("{event} hooks failed: {e}")
    }
}

fn change(o: &Object, live: Option<&Value>, desired: Option<&Value>) -> ObjectChange {
    diff::object_change(
        &o.resource.api_version,
        o.kind(),
        o.namespace(),
        o.name(),
        live,
        desired,
    )
}

fn collect_crds(c: &helm::Chart, out: &mut Vec<String>) {
    for f in c.crd_objects() {
        let lower = f.name.to_ascii_lowercase();
        if [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            out.push(String::from_utf8_lossy(&f.data).into_owned());
        }
    }
    for d in &c.dependencies {
        collect_crds(d, out);
    }
}

/// A new revision from a render: chart, user values, manifest, hooks, notes.
fn new_release(o: &InstallOptions, version: i64, r: &Rendered, now: Timestamp) -> Release {
    let config = match model::go_values(&o.values) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Release {
        name: o.name.clone(),
        namespace: o.namespace.clone(),
        version,
        info: Info {
            last_deployed: Some(now),
            notes: r.notes.clone(),
            ..Info::default()
        },
        chart: model::chart_json(&o.chart, now),
        config,
        manifest: r.manifest.clone(),
        hooks: r.hooks.clone(),
        labels: Default::default(),
        apply_method: "ssa".into(),
    }
}

/// User values as Helm reads them: an object (or nothing), every number a float64.
fn user_values(v: &Value) -> Result<helm::values::Values, Error> {
    fn floats(v: &Value) -> Value {
        match v {
            Value::Number(n) if !n.is_f64() => n
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| v.clone()),
            Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), floats(v))).collect())
            }
            other => other.clone(),
        }
    }
    match floats(v) {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(Error::Invalid(format!(
            "values must be an object (a YAML/JSON map), not {other}"
        ))),
    }
}

/// Release and namespace names as Helm and Kubernetes accept them.
fn validate_names(name: &str, namespace: &str) -> Result<(), Error> {
    helm::template_cmd::validate_release_name(name).map_err(Error::Invalid)?;
    if name.is_empty() {
        return Err(Error::Invalid("release name is required".into()));
    }
    let ok_ns = !namespace.is_empty()
        && namespace.len() <= 63
        && namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !namespace.starts_with('-')
        && !namespace.ends_with('-');
    if !ok_ns {
        return Err(Error::Invalid(format!(
            "invalid namespace {namespace:?}: a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters) is required"
        )));
    }
    Ok(())
}

/// The label and annotations Helm puts on a release's objects.
pub(crate) fn add_helm_metadata(v: &mut Value, name: &str, namespace: &str) {
    let md = &mut v["metadata"];
    if !md["labels"].is_object() {
        md["labels"] = Value::Object(Map::new());
    }
    md["labels"]["app.kubernetes.io/managed-by"] = "Helm".into();
    if !md["annotations"].is_object() {
        md["annotations"] = Value::Object(Map::new());
    }
    md["annotations"]["meta.helm.sh/release-name"] = name.into();
    md["annotations"]["meta.helm.sh/release-namespace"] = namespace.into();
}

/// Why a live object cannot be taken into this release (Helm's ownership check), if it cannot.
pub(crate) fn ownership_error(live: &Value, name: &str, namespace: &str) -> Option<String> {
    let md = &live["metadata"];
    let mut errs = Vec::new();
    let mut check = |what: &str, field: &Value, key: &str, want: &str| match field[key].as_str() {
        None => errs.push(format!(
            "{what} validation error: missing key \"{key}\": must be set to \"{want}\""
        )),
        Some(v) if v != want => errs.push(format!(
            "{what} validation error: key \"{key}\" must equal \"{want}\": current value is \"{v}\""
        )),
        Some(_) => {}
    };
    check(
        "label",
        &md["labels"],
        "app.kubernetes.io/managed-by",
        "Helm",
    );
    check(
        "annotation",
        &md["annotations"],
        "meta.helm.sh/release-name",
        name,
    );
    check(
        "annotation",
        &md["annotations"],
        "meta.helm.sh/release-namespace",
        namespace,
    );
    (!errs.is_empty()).then(|| errs.join("; "))
}

/// `lookup` answered from the cluster (called on the render's blocking thread).
fn lookup_hook(client: Client) -> helm::render::LookupHook {
    let rt = tokio::runtime::Handle::current();
    helm::render::LookupHook(Arc::new(move |api_version, kind, namespace, name| {
        let client = client.clone();
        let (api_version, kind, namespace, name) = (
            api_version.to_string(),
            kind.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        rt.block_on(lookup(client, api_version, kind, namespace, name))
    }))
}

async fn lookup(
    client: Client,
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
) -> Result<Value, String> {
    let cluster = Cluster::new(client.clone());
    let (ar, namespaced) = cluster
        .resolve(&api_version, &kind)
        .await
        .map_err(|e| e.to_string())?;
    let api: Api<kube::api::DynamicObject> = if namespaced && !namespace.is_empty() {
        Api::namespaced_with(client, &namespace, &ar)
    } else {
        Api::all_with(client, &ar)
    };
    if name.is_empty() {
        let list = api
            .list(&Default::default())
            .await
            .map_err(|e| cluster::api_message(&e))?;
        let items: Vec<Value> = list
            .items
            .into_iter()
            .map(|mut o| {
                o.types = Some(kube::api::TypeMeta {
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                });
                serde_json::to_value(o).unwrap_or_default()
            })
            .collect();
        return Ok(serde_json::json!({
            "apiVersion": api_version,
            "kind": format!("{kind}List"),
            "metadata": {"resourceVersion": list.metadata.resource_version.unwrap_or_default()},
            "items": items,
        }));
    }
    match api.get_opt(&name).await {
        Ok(Some(o)) => Ok(serde_json::to_value(o).unwrap_or_default()),
        Ok(None) => Ok(Value::Object(Map::new())),
        Err(e) => Err(cluster::api_message(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_of_another_owner_are_refused_with_helms_reasons() {
        let mut mine = json!({"metadata": {"name": "c"}});
        add_helm_metadata(&mut mine, "r", "ns");
        assert_eq!(ownership_error(&mine, "r", "ns"), None);
        let other = ownership_error(&mine, "s", "ns").unwrap();
        assert_eq!(
            other,
            "annotation validation error: key \"meta.helm.sh/release-name\" must equal \"s\": current value is \"r\""
        );
        let bare = ownership_error(&json!({"metadata": {"name": "c"}}), "r", "ns").unwrap();
        assert!(bare.starts_with("label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\";"), "{bare}");
    }

    #[test]
    fn user_values_become_float64_and_must_be_an_object() {
        let v = user_values(&json!({"a": 1, "b": [2]})).unwrap();
        assert!(v["a"].is_f64() && v["b"][0].is_f64());
        assert!(user_values(&Value::Null).unwrap().is_empty());
        assert!(
            user_values(&json!([1]))
                .unwrap_err()
                .to_string()
                .contains("values must be an object")
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_names("web", "default").is_ok());
        assert!(validate_names("Web_1", "default").is_err());
        assert!(
            validate_names("web", "Bad_NS")
                .unwrap_err()
                .to_string()
                .contains("invalid namespace")
        );
    }
}

/// The futures of a concurrent step as boxed, named values: a stream over a closure that borrows
/// its items is not `Send` for every lifetime (rustc's higher-ranked closure inference), which
/// would make the installer's futures unusable in spawned tasks and kube-rs reconcilers.
fn boxed<'a, T>(
    futures: impl Iterator<Item = futures::future::BoxFuture<'a, T>>,
) -> Vec<futures::future::BoxFuture<'a, T>> {
    futures.collect()
}

#[cfg(test)]
mod send_check {
    fn is_send<T: Send>(_: &T) {}

    #[allow(dead_code)]
    fn installer_futures_are_send(i: &super::Installer, o: &super::InstallOptions) {
        is_send(&i.install(o));
        is_send(&i.upgrade(o));
        is_send(&i.diff(o));
        is_send(&i.uninstall("n", "ns"));
    }
}
