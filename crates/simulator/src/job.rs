//! The Job controller: up to `parallelism` Pods at a time (`<job>-<5 chars>`, labelled with the
//! Job's name) until `completions` have succeeded (the kubelet completes Pods whose `restartPolicy`
//! is not `Always`); status `active`, `ready`, `succeeded`, `failed`, `startTime`, and when done
//! `completionTime` with the `SuccessCriteriaMet` and `Complete` conditions; `backoffLimit` failed
//! Pods end the Job with `Failed`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use crate::{Ctx, Error, names, rollout, util, workload};

pub const MANAGER: &str = "marketplace-job-controller";

/// Counts of a Job's Pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub active: i32,
    pub ready: i32,
    pub succeeded: i32,
    pub failed: i32,
}

/// How many Pods to start now.
pub fn to_start(completions: i32, parallelism: i32, c: JobCounts) -> i32 {
    let remaining = (completions - c.succeeded).max(0);
    (parallelism.min(remaining) - c.active).max(0)
}

/// Whether a Job condition of `kind` is `True`.
pub fn finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        })
}

pub async fn reconcile(job: Arc<Job>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if job.metadata.deletion_timestamp.is_some() || finished(&job) {
        return Ok(Action::await_change());
    }
    let (ns, name, uid) = (
        job.namespace().unwrap_or_default(),
        job.name_any(),
        job.uid().unwrap_or_default(),
    );
    let spec = job.spec.clone().unwrap_or_default();
    let completions = spec.completions.unwrap_or(1);
    let parallelism = spec.parallelism.unwrap_or(1);
    let pods = ctx.pods_of(&ns, &uid);
    let c = counts(&pods);
    let failed_out = c.failed > spec.backoff_limit.unwrap_or(6);
    if !spec.suspend.unwrap_or(false) && !failed_out {
        let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
        let owner = util::controller_ref(job.as_ref());
        let labels = BTreeMap::from([
            ("batch.kubernetes.io/job-name".to_string(), name.clone()),
            ("job-name".to_string(), name.clone()),
        ]);
        let first_free = pods.len() as u32;
        for slot in first_free..first_free + to_start(completions, parallelism, c) as u32 {
            let body = workload::pod_from_template(
                &ctx,
                &spec.template,
                &names::pod_name(&name, &uid, slot),
                owner.clone(),
                &labels,
                None,
            );
            workload::create_pod(&ctx, &api, MANAGER, &body, job.as_ref()).await?;
        }
    }
    let status = status(&job, c, completions, failed_out, &util::now());
    let current = serde_json::to_value(&job.status).unwrap_or_default();
    if !util::unchanged(&current, &status) {
        let api: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "status": status});
        util::apply_status(&api, MANAGER, &name, &body).await?;
    }
    Ok(Action::await_change())
}

fn counts(pods: &[Arc<Pod>]) -> JobCounts {
    let phase = |p: &&Arc<Pod>, ph: &str| util::pod_phase(p) == ph;
    let (active, ready) = workload::counts(pods);
    JobCounts {
        active,
        ready,
        succeeded: pods.iter().filter(|p| phase(p, "Succeeded")).count() as i32,
        failed: pods.iter().filter(|p| phase(p, "Failed")).count() as i32,
    }
}

/// The Job's status; `Complete` once `completions` Pods succeeded.
pub fn status(job: &Job, c: JobCounts, completions: i32, failed_out: bool, now: &str) -> Value {
    let start = job
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map_or_else(
            || now.to_string(),
            |t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
    let mut s = json!({
        "active": c.active, "ready": c.ready, "succeeded": c.succeeded, "failed": c.failed,
        "terminating": 0, "startTime": start, "uncountedTerminatedPods": {},
    });
    let prev: Vec<Value> =
        serde_json::to_value(job.status.as_ref().and_then(|s| s.conditions.clone()))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
    let probe = |mut c: Value| {
        c["lastProbeTime"] = json!(now);
        rollout::with_times(c, &prev, now, false)
    };
    if c.succeeded >= completions {
        s["completionTime"] = json!(now);
        let msg = "Reached expected number of succeeded pods";
        s["conditions"] = json!([
            probe(rollout::cond(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                msg
            )),
            probe(rollout::cond("Complete", "True", "CompletionsReached", msg)),
        ]);
    } else if failed_out {
        let msg = "Job has reached the specified backoff limit";
        s["conditions"] = json!([
            probe(rollout::cond(
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                msg
            )),
            probe(rollout::cond("Failed", "True", "BackoffLimitExceeded", msg)),
        ]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_start_up_to_parallelism_and_stop_at_completions() {
        let c = |active, succeeded| JobCounts {
            active,
            ready: 0,
            succeeded,
            failed: 0,
        };
        assert_eq!(to_start(1, 1, c(0, 0)), 1);
        assert_eq!(to_start(1, 1, c(1, 0)), 0);
        assert_eq!(to_start(1, 1, c(0, 1)), 0);
        assert_eq!(to_start(5, 2, c(0, 0)), 2);
        assert_eq!(to_start(5, 2, c(1, 3)), 1);
        assert_eq!(to_start(5, 2, c(2, 3)), 0);
        assert_eq!(to_start(5, 2, c(0, 4)), 1);
    }

    #[test]
    fn a_job_with_all_completions_is_complete_with_completion_time() {
        let job: Job = serde_json::from_value(json!({"metadata": {"name": "j"}})).unwrap();
        let done = status(
            &job,
            JobCounts {
                active: 0,
                ready: 0,
                succeeded: 1,
                failed: 0,
            },
            1,
            false,
            "T",
        );
        assert_eq!(done["succeeded"], 1);
        assert_eq!(done["completionTime"], "T");
        assert_eq!(done["conditions"][1]["type"], "Complete");
        assert_eq!(done["conditions"][1]["status"], "True");
        let running = status(
            &job,
            JobCounts {
                active: 1,
                ready: 1,
                succeeded: 0,
                failed: 0,
            },
            1,
            false,
            "T",
        );
        assert!(running.get("completionTime").is_none());
        assert!(running.get("conditions").is_none());
        assert_eq!(running["active"], 1);
    }
}
