//! The CronJob controller: at each time its `schedule` (parsed by `croner`: POSIX/Vixie five
//! fields and `@hourly`-style aliases, in `spec.timeZone` or UTC) names, a Job
//! `<cronjob>-<minutes since epoch>` from `jobTemplate`, owned by the CronJob (the real controller's
//! naming, so a repeated reconcile finds the Job it made); `concurrencyPolicy` `Forbid` skips while a
//! Job runs and `Replace` deletes the running ones; finished Jobs beyond the history limits are
//! removed; status `active`, `lastScheduleTime`, `lastSuccessfulTime`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::json;

use crate::events::controller_of;
use crate::{Ctx, Error, job, util};

pub const MANAGER: &str = "marketplace-cronjob-controller";
const SCHEDULED_AT: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// The latest scheduled time in `(after, now]`, if any.
pub fn due(
    schedule: &str,
    tz: Option<&str>,
    after: jiff::Timestamp,
    now: jiff::Timestamp,
) -> Result<Option<jiff::Timestamp>, String> {
    let cron = croner::Cron::from_str(schedule).map_err(|e| e.to_string())?;
    let zone = match tz {
        Some(t) => {
            jiff::tz::TimeZone::get(t).map_err(|e| format!("unknown timeZone {t:?}: {e}"))?
        }
        None => jiff::tz::TimeZone::UTC,
    };
    let prev = cron
        .find_previous_occurrence(&now.to_zoned(zone), true)
        .map_err(|e| e.to_string())?;
    Ok((prev.timestamp() > after).then(|| prev.timestamp()))
}

/// The next scheduled time after `now`.
pub fn next(schedule: &str, tz: Option<&str>, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let cron = croner::Cron::from_str(schedule).ok()?;
    let zone = tz
        .and_then(|t| jiff::tz::TimeZone::get(t).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    cron.find_next_occurrence(&now.to_zoned(zone), false)
        .ok()
        .map(|z| z.timestamp())
}

pub async fn reconcile(cj: Arc<CronJob>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if cj.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        cj.namespace().unwrap_or_default(),
        cj.name_any(),
        cj.uid().unwrap_or_default(),
    );
    let spec = cj.spec.clone();
    let tz = spec.time_zone.as_deref();
    let now = jiff::Timestamp::now();
    let created = cj.metadata.creation_timestamp.as_ref().map_or(now, |t| t.0);
    let last = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .map_or(created, |t| t.0);
    let jobs_api: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    let mut owned: Vec<Arc<Job>> = ctx
        .jobs
        .state()
        .into_iter()
        .filter(|j| j.namespace().as_deref() == Some(&ns) && util::controlled_by(j.as_ref(), &uid))
        .collect();
    owned.sort_by_key(|j| j.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let active: Vec<&Arc<Job>> = owned.iter().filter(|j| !job::finished(j)).collect();
    let scheduled = match due(&spec.schedule, tz, last, now) {
        Ok(s) => s,
        Err(reason) => {
            let e = Error::Schedule {
                namespace: ns,
                name,
                schedule: spec.schedule.clone(),
                reason,
            };
            tracing::warn!(error = %e, "simulator: CronJob not scheduled");
            return Ok(Action::await_change());
        }
    };
    let mut last_schedule = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .map(|t| t.0);
    if let Some(t) = scheduled.filter(|_| !spec.suspend.unwrap_or(false)) {
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if policy == "Replace" {
            for j in &active {
                util::delete_ignoring_missing(&jobs_api, &j.name_any()).await?;
            }
        }
        if policy != "Forbid" || active.is_empty() {
            create_job(&cj, &jobs_api, t, &ctx).await?;
            last_schedule = Some(t);
        }
    }
    cleanup(
        &jobs_api,
        &owned,
        spec.successful_jobs_history_limit.unwrap_or(3),
        spec.failed_jobs_history_limit.unwrap_or(1),
    )
    .await?;
    let fmt = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let last_success = owned
        .iter()
        .filter_map(|j| j.status.as_ref()?.completion_time.as_ref().map(|t| t.0))
        .max();
    let mut status = json!({"active": active.iter().map(|j| json!({"apiVersion": "batch/v1", "kind": "Job", "name": j.name_any(), "namespace": j.namespace(), "uid": j.uid()})).collect::<Vec<_>>()});
    if let Some(t) = last_schedule {
        status["lastScheduleTime"] = json!(fmt(t));
    }
    if let Some(t) = last_success {
        status["lastSuccessfulTime"] = json!(fmt(t));
    }
    let current = serde_json::to_value(&cj.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        let api: Api<CronJob> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": cj.name_any()}, "status": status});
        util::apply_status(&api, MANAGER, &cj.name_any(), &body).await?;
    }
    let wait = next(&spec.schedule, tz, now).map_or(Duration::from_secs(60), |n| {
        Duration::from_millis(n.duration_since(now).as_millis().max(0) as u64 + 50)
    });
    Ok(Action::requeue(wait))
}

async fn create_job(
    cj: &CronJob,
    api: &Api<Job>,
    t: jiff::Timestamp,
    ctx: &Ctx,
) -> Result<(), Error> {
    let template = serde_json::to_value(&cj.spec.job_template).unwrap_or_default();
    let name = format!("{}-{}", cj.name_any(), t.as_second() / 60);
    let mut meta = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    meta["name"] = json!(name);
    meta["ownerReferences"] = json!([util::controller_ref(cj)]);
    meta["annotations"][SCHEDULED_AT] = json!(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    meta["labels"]["batch.kubernetes.io/cronjob-name"] = json!(cj.name_any());
    let body = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": template["spec"]});
    let job: Job = serde_json::from_value(body).map_err(kube::Error::SerdeError)?;
    let pp = kube::api::PostParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api.create(&pp, &job).await {
        Ok(_) => {
            let note = format!("Created job {name}");
            ctx.events
                .normal(controller_of::<CronJob>(), cj, "SuccessfulCreate", note);
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes the oldest finished Jobs beyond the history limits.
async fn cleanup(
    api: &Api<Job>,
    owned: &[Arc<Job>],
    keep_ok: i32,
    keep_failed: i32,
) -> Result<(), Error> {
    let complete = |j: &Job, t: &str| {
        j.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == t && c.status == "True"))
    };
    for (kind, keep) in [("Complete", keep_ok), ("Failed", keep_failed)] {
        let done: Vec<&Arc<Job>> = owned.iter().filter(|j| complete(j, kind)).collect();
        for j in done
            .iter()
            .take(done.len().saturating_sub(keep.max(0) as usize))
        {
            util::delete_ignoring_missing(api, &j.name_any()).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_latest_missed_time_after_the_last_schedule_is_due() {
        let due = |after: &str, now: &str| due("*/5 * * * *", None, ts(after), ts(now)).unwrap();
        assert_eq!(due("2026-01-01T00:00:00Z", "2026-01-01T00:04:59Z"), None);
        assert_eq!(
            due("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
            Some(ts("2026-01-01T00:05:00Z"))
        );
        assert_eq!(
            due("2026-01-01T00:00:00Z", "2026-01-01T00:17:00Z"),
            Some(ts("2026-01-01T00:15:00Z"))
        );
        assert_eq!(due("2026-01-01T00:15:00Z", "2026-01-01T00:17:00Z"), None);
    }

    #[test]
    fn aliases_time_zones_and_bad_schedules() {
        let d = due(
            "@hourly",
            Some("Europe/Paris"),
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-01T01:30:00Z"),
        )
        .unwrap();
        assert_eq!(d, Some(ts("2026-01-01T01:00:00Z")));
        assert!(
            due(
                "not a schedule",
                None,
                ts("2026-01-01T00:00:00Z"),
                ts("2026-01-01T00:00:00Z")
            )
            .is_err()
        );
        assert_eq!(
            next("0 * * * *", None, ts("2026-01-01T00:10:00Z")),
            Some(ts("2026-01-01T01:00:00Z"))
        );
    }
}
