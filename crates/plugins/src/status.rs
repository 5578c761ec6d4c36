//! The pure part of the ModuleInfo controller's bookkeeping: which release operation comes next
//! ([`next_step`]), what the status says after a reconcile ([`next`]: phase, conditions with their
//! transition times kept while unchanged, versions, drift records, the upgrade preview), and how
//! release diffs become drift records and previews.

use apis::cluster::{Condition, DriftRecord, ModuleInfo, ModuleInfoStatus, UpgradePreview, phase};
use release::{ChangeKind, ObjectChange, Release, Status};
use serde_json::Value;

use crate::validate::{Refusal, Validated};

/// How many drift records the status keeps (newest last).
pub const DRIFT_HISTORY: usize = 10;

/// The release operation a reconcile performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No release yet.
    Install,
    /// The first install was cut short (pending-install, e.g. serve restarted) or failed: start over.
    Reinstall,
    /// An upgrade or rollback was cut short: roll back to the last deployed revision, upgrade again.
    Resume,
    /// The chart version or the values changed.
    Upgrade,
}

impl Step {
    pub fn reason(self) -> &'static str {
        match self {
            Step::Install | Step::Reinstall => "Installing",
            Step::Resume | Step::Upgrade => "Upgrading",
        }
    }

    pub fn failure_reason(self) -> &'static str {
        match self {
            Step::Install | Step::Reinstall => "InstallFailed",
            Step::Resume | Step::Upgrade => "UpgradeFailed",
        }
    }
}

/// What to do with the release, given its latest revision and what is wanted; `None` when it is
/// deployed with the wanted chart version and values (then only drift is checked).
pub fn next_step(current: Option<&Release>, chart_version: &str, values: &Value) -> Option<Step> {
    let Some(rel) = current else {
        return Some(Step::Install);
    };
    match rel.info.status {
        Status::PendingInstall => return Some(Step::Reinstall),
        Status::Failed if rel.version == 1 => return Some(Step::Reinstall),
        Status::Uninstalling | Status::Uninstalled => return Some(Step::Reinstall),
        Status::PendingUpgrade | Status::PendingRollback => return Some(Step::Resume),
        _ => {}
    }
    let same_values = Value::Object(rel.config.clone()) == *values
        || (rel.config.is_empty() && values.as_object().is_none_or(|m| m.is_empty()));
    if rel.info.status == Status::Deployed && rel.chart_version() == chart_version && same_values {
        None
    } else {
        Some(Step::Upgrade)
    }
}

/// The result of one reconcile, before it becomes a status.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub phase: &'static str,
    /// `Validated`, `Installed` or `Ready`, and its status.
    pub conditions: Vec<(&'static str, bool, &'static str)>,
    pub message: String,
    /// Installed and ready: currentVersion becomes spec.version.
    pub current: bool,
    pub release: Option<String>,
    pub drift: Vec<DriftRecord>,
    pub preview: Option<UpgradePreview>,
}

impl Outcome {
    pub fn refused(r: &Refusal) -> Outcome {
        Outcome {
            phase: phase::FAILED,
            conditions: vec![("Validated", false, r.reason)],
            message: r.message.clone(),
            ..Default::default()
        }
    }

    pub fn failed(reason: &'static str, message: String, _mi: &ModuleInfo) -> Outcome {
        Outcome {
            phase: phase::FAILED,
            conditions: vec![("Validated", true, "Valid"), ("Installed", false, reason)],
            message,
            ..Default::default()
        }
    }

    pub fn processing(step: Step, mi: &ModuleInfo) -> Outcome {
        Outcome {
            phase: phase::PROCESSING,
            conditions: vec![
                ("Validated", true, "Valid"),
                ("Installed", false, step.reason()),
            ],
            message: format!(
                "{} version {}",
                step.reason().to_lowercase(),
                mi.spec.version
            ),
            ..Default::default()
        }
    }

    pub fn waiting(why: &str, mi: &ModuleInfo) -> Outcome {
        Outcome {
            phase: phase::PROCESSING,
            conditions: vec![
                ("Validated", true, "Valid"),
                ("Installed", true, "Applied"),
                ("Ready", false, "WorkloadsNotReady"),
            ],
            message: format!("version {} is applied; waiting for {why}", mi.spec.version),
            ..Default::default()
        }
    }

    pub fn running(mi: &ModuleInfo, release: &str) -> Outcome {
        Outcome {
            phase: phase::RUNNING,
            conditions: vec![
                ("Validated", true, "Valid"),
                ("Installed", true, "Applied"),
                ("Ready", true, "WorkloadsReady"),
            ],
            message: format!(
                "version {} is installed and its workloads are ready",
                mi.spec.version
            ),
            current: true,
            release: Some(format!(
                "{}/{release}",
                crate::controller::RELEASE_NAMESPACE
            )),
            ..Default::default()
        }
    }

    pub fn deleting(_mi: &ModuleInfo) -> Outcome {
        Outcome {
            phase: phase::DELETING,
            conditions: vec![("Installed", false, "Uninstalling")],
            message: "uninstalling the release from the target cluster".into(),
            ..Default::default()
        }
    }
}

/// The status after a reconcile with `outcome` (`now` only stamps changed conditions and drift).
pub fn next(mi: &ModuleInfo, o: &Outcome, v: Option<&Validated>, now: &str) -> ModuleInfoStatus {
    let old = mi.status.clone().unwrap_or_default();
    let generation = mi.metadata.generation;
    let mut conditions = Vec::new();
    for (type_, ok, reason) in &o.conditions {
        let status = if *ok { "True" } else { "False" };
        let since = old
            .conditions
            .iter()
            .find(|c| c.type_ == *type_ && c.status == status)
            .and_then(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.to_string());
        conditions.push(Condition {
            type_: type_.to_string(),
            status: status.into(),
            reason: reason.to_string(),
            message: o.message.clone(),
            observed_generation: generation,
            last_transition_time: Some(since),
        });
    }
    let mut drift = old.drift.clone();
    drift.extend(o.drift.iter().cloned());
    let excess = drift.len().saturating_sub(DRIFT_HISTORY);
    drift.drain(..excess);
    let new_version = v
        .and_then(|v| v.new_version.as_ref())
        .map(|c| c.spec.version.clone());
    let current_version = if o.current {
        Some(mi.spec.version.clone())
    } else {
        old.current_version
    };
    let new_version = if v.is_some() {
        new_version
    } else {
        old.new_version
    };
    ModuleInfoStatus {
        phase: Some(o.phase.to_string()),
        observed_generation: generation,
        display_name: v.map(|v| v.display_name.clone()).or(old.display_name),
        // Validation computed NEW_VERSION against the version installed before this reconcile;
        // the reconcile that finishes an upgrade must not offer the version it just installed.
        new_version: new_version.filter(|n| newer_than(n, current_version.as_deref())),
        current_version,
        target_version: Some(mi.spec.version.clone()),
        release: o.release.clone().or(old.release),
        conditions,
        drift,
        upgrade_preview: if v.is_some() {
            o.preview.clone()
        } else {
            old.upgrade_preview
        },
    }
}

/// Whether `candidate` is newer than `current` (anything is, when nothing is installed).
fn newer_than(candidate: &str, current: Option<&str>) -> bool {
    let Some(current) = current else { return true };
    match (
        crate::versions::parse(candidate),
        crate::versions::parse(current),
    ) {
        (Some(n), Some(c)) => n > c,
        _ => candidate != current,
    }
}

/// Objects a diff against the deployed release found changed or gone, as drift records.
pub fn drift_records(changes: &[ObjectChange], now: &str) -> Vec<DriftRecord> {
    changes
        .iter()
        .filter_map(|c| {
            let change = match c.change {
                ChangeKind::Create => "Deleted",
                ChangeKind::Update => "Changed",
                ChangeKind::Delete | ChangeKind::Unchanged => return None,
            };
            Some(DriftRecord {
                object: c.title(),
                change: change.into(),
                repaired_at: now.to_string(),
            })
        })
        .collect()
}

/// An upgrade's diff as a preview.
pub fn preview(from: &str, to: &str, changes: &[ObjectChange]) -> UpgradePreview {
    let pick = |k: ChangeKind| -> Vec<String> {
        changes
            .iter()
            .filter(|c| c.change == k)
            .map(ObjectChange::title)
            .collect()
    };
    UpgradePreview {
        from_version: from.into(),
        to_version: to.into(),
        added: pick(ChangeKind::Create),
        changed: pick(ChangeKind::Update),
        removed: pick(ChangeKind::Delete),
    }
}

/// Now, RFC 3339 to the second.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rel(status: Status, version: i64, chart_version: &str, config: Value) -> Release {
        let mut r = Release {
            name: "web-cli".into(),
            version,
            chart: json!({"metadata": {"name": "web-cli", "version": chart_version}}),
            config: config.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        };
        r.info.status = status;
        r
    }

    #[test]
    fn the_step_follows_the_release_state() {
        let vals = json!({"global": {"cluster": {"name": "global"}}});
        assert_eq!(next_step(None, "4.0.4", &vals), Some(Step::Install));
        let deployed = rel(Status::Deployed, 1, "4.0.4", vals.clone());
        assert_eq!(next_step(Some(&deployed), "4.0.4", &vals), None);
        assert_eq!(
            next_step(Some(&deployed), "4.0.5", &vals),
            Some(Step::Upgrade)
        );
        assert_eq!(
            next_step(Some(&deployed), "4.0.4", &json!({"global": {}})),
            Some(Step::Upgrade)
        );
        let cut = rel(Status::PendingInstall, 1, "4.0.4", vals.clone());
        assert_eq!(next_step(Some(&cut), "4.0.4", &vals), Some(Step::Reinstall));
        let cut = rel(Status::PendingUpgrade, 2, "4.0.5", vals.clone());
        assert_eq!(next_step(Some(&cut), "4.0.5", &vals), Some(Step::Resume));
        // A failed upgrade (rolled back) stays failed until something changes: retried as an upgrade.
        let failed = rel(Status::Failed, 3, "4.0.5", vals.clone());
        assert_eq!(
            next_step(Some(&failed), "4.0.5", &vals),
            Some(Step::Upgrade)
        );
    }

    fn info() -> ModuleInfo {
        serde_json::from_value(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleInfo",
            "metadata": {"name": "global-x", "generation": 2},
            "spec": {"version": "v4.0.4"}
        }))
        .unwrap()
    }

    #[test]
    fn running_sets_current_version_and_keeps_transition_times() {
        let mut mi = info();
        let first = next(
            &mi,
            &Outcome::running(&mi, "web-cli"),
            None,
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(first.phase.as_deref(), Some("Running"));
        assert_eq!(first.current_version.as_deref(), Some("v4.0.4"));
        assert_eq!(first.target_version.as_deref(), Some("v4.0.4"));
        mi.status = Some(first.clone());
        let again = next(
            &mi,
            &Outcome::running(&mi, "web-cli"),
            None,
            "2026-02-02T00:00:00Z",
        );
        assert_eq!(first, again, "a repeated reconcile changes nothing");
        // An upgrade in progress keeps the installed version as current.
        mi.spec.version = "v4.0.5".into();
        let up = next(
            &mi,
            &Outcome::processing(Step::Upgrade, &mi),
            None,
            "2026-03-03T00:00:00Z",
        );
        assert_eq!(up.current_version.as_deref(), Some("v4.0.4"));
        assert_eq!(up.target_version.as_deref(), Some("v4.0.5"));
        assert_eq!(up.phase.as_deref(), Some("Processing"));
    }

    #[test]
    fn the_reconcile_that_finishes_an_upgrade_does_not_offer_the_version_it_installed() {
        let mut mi = info();
        mi.status = Some(ModuleInfoStatus {
            current_version: Some("v4.0.4".into()),
            new_version: Some("v4.0.5".into()),
            ..Default::default()
        });
        mi.spec.version = "v4.0.5".into();
        // The old status (validated before this reconcile) still offers v4.0.5.
        let done = next(
            &mi,
            &Outcome::running(&mi, "web-cli"),
            None,
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(done.current_version.as_deref(), Some("v4.0.5"));
        assert_eq!(done.new_version, None, "the installed version is not new");
        assert!(newer_than("v4.0.6", Some("v4.0.5")));
        assert!(!newer_than("v4.0.5", Some("v4.0.5")));
        assert!(newer_than("v1.0.0", None));
    }

    fn change(kind: ChangeKind, name: &str) -> ObjectChange {
        ObjectChange {
            change: kind,
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("cpaas-system".into()),
            name: name.into(),
            diff: String::new(),
        }
    }

    #[test]
    fn drift_is_what_was_deleted_or_changed() {
        let changes = [
            change(ChangeKind::Create, "a"),
            change(ChangeKind::Update, "b"),
            change(ChangeKind::Unchanged, "c"),
        ];
        let d = drift_records(&changes, "t");
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].object.as_str(), d[0].change.as_str()),
            ("Deployment cpaas-system/a", "Deleted")
        );
        assert_eq!(d[1].change, "Changed");
        let p = preview(
            "v1",
            "v2",
            &[
                change(ChangeKind::Delete, "old"),
                change(ChangeKind::Create, "new"),
            ],
        );
        assert_eq!(p.removed, vec!["Deployment cpaas-system/old"]);
        assert_eq!(p.added, vec!["Deployment cpaas-system/new"]);
    }
}
