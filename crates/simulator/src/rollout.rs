//! The Deployment controller's arithmetic, as pure functions: `maxSurge`/`maxUnavailable` resolution,
//! one rolling-update (or recreate) step over the ReplicaSets' counts, and the Deployment status with
//! its `Available` and `Progressing` conditions, as kube-controller-manager computes them.

use serde_json::{Value, json};

/// What the step needs to know of one ReplicaSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RsCounts {
    /// `spec.replicas`.
    pub spec: i32,
    /// `status.replicas`: Pods that exist.
    pub actual: i32,
    pub ready: i32,
    pub available: i32,
}

/// A Deployment's strategy with its bounds resolved against `spec.replicas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Recreate,
    RollingUpdate {
        max_surge: i32,
        max_unavailable: i32,
    },
}

/// Resolves an int-or-percent (`3`, `"25%"`) against `total`; percentages round up for `maxSurge`
/// and down for `maxUnavailable`, as `intstr.GetScaledValueFromIntOrPercent`.
pub fn scaled(v: Option<&Value>, total: i32, round_up: bool, default_percent: i32) -> i32 {
    let percent = |p: i32| {
        let x = i64::from(p) * i64::from(total);
        let r = if round_up { (x + 99) / 100 } else { x / 100 };
        r as i32
    };
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) as i32,
        Some(Value::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse().ok()) {
            Some(p) => percent(p),
            None => s.parse().unwrap_or(0),
        },
        _ => percent(default_percent),
    }
}

/// The strategy of a Deployment `spec` (JSON), with 25%/25% defaults; both bounds 0 means
/// `maxUnavailable` 1, as the real controller does so a rollout can always make progress.
pub fn strategy(spec: &Value, replicas: i32) -> Strategy {
    let s = &spec["strategy"];
    if s["type"] == "Recreate" {
        return Strategy::Recreate;
    }
    let ru = &s["rollingUpdate"];
    let max_surge = scaled(ru.get("maxSurge"), replicas, true, 25);
    let mut max_unavailable = scaled(ru.get("maxUnavailable"), replicas, false, 25);
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Strategy::RollingUpdate {
        max_surge,
        max_unavailable: max_unavailable.min(replicas),
    }
}

impl Strategy {
    pub fn max_unavailable(&self, replicas: i32) -> i32 {
        match self {
            Strategy::Recreate => 0,
            Strategy::RollingUpdate {
                max_unavailable, ..
            } => (*max_unavailable).min(replicas),
        }
    }
}

/// One step of a rollout: the new ReplicaSet's and the old ones' (oldest first) next `spec.replicas`.
pub fn step(desired: i32, strategy: Strategy, new: RsCounts, old: &[RsCounts]) -> (i32, Vec<i32>) {
    let old_spec: i32 = old.iter().map(|o| o.spec).sum();
    let old_actual: i32 = old.iter().map(|o| o.actual).sum();
    match strategy {
        Strategy::Recreate => {
            if old_spec > 0 || old_actual > 0 {
                // Old Pods go first; the new ReplicaSet waits until they are gone.
                (new.spec.min(0), vec![0; old.len()])
            } else {
                (desired, vec![0; old.len()])
            }
        }
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => {
            if old_spec == 0 {
                return (desired, vec![0; old.len()]);
            }
            let new_target = scale_up(desired, max_surge, new, old_spec);
            let olds = scale_down(desired, max_unavailable, new, old);
            (new_target, olds)
        }
    }
}

fn scale_up(desired: i32, max_surge: i32, new: RsCounts, old_spec: i32) -> i32 {
    if new.spec >= desired {
        return desired;
    }
    let max_total = desired + max_surge;
    let current = new.spec + old_spec;
    if current >= max_total {
        return new.spec;
    }
    (new.spec + (max_total - current)).min(desired)
}

fn scale_down(desired: i32, max_unavailable: i32, new: RsCounts, old: &[RsCounts]) -> Vec<i32> {
    let min_available = desired - max_unavailable;
    let all_pods = new.spec + old.iter().map(|o| o.spec).sum::<i32>();
    let new_unavailable = (new.spec - new.available).max(0);
    let mut budget = (all_pods - min_available - new_unavailable).max(0);
    let mut targets: Vec<i32> = old.iter().map(|o| o.spec).collect();
    // Unhealthy old replicas cost no availability: they go first.
    for (t, o) in targets.iter_mut().zip(old) {
        let take = (*t - o.available).max(0).min(budget);
        *t -= take;
        budget -= take;
    }
    let available: i32 = new.available + old.iter().map(|o| o.available).sum::<i32>();
    let mut down = (available - min_available).max(0).min(budget);
    for t in targets.iter_mut() {
        let take = (*t).min(down);
        *t -= take;
        down -= take;
    }
    targets
}

/// What the status computation observes.
pub struct Observed<'a> {
    pub generation: i64,
    pub desired: i32,
    pub max_unavailable: i32,
    pub new_rs: &'a str,
    pub new: RsCounts,
    pub all: &'a [RsCounts],
    /// Why a Pod of the new ReplicaSet cannot run (e.g. its image cannot be pulled).
    pub pod_problem: Option<String>,
    pub collision_count: Option<i32>,
}

/// The Deployment's `status` (with conditions; `previous` keeps unchanged conditions' times).
pub fn deployment_status(o: &Observed, previous: &Value, now: &str) -> Value {
    let sum = |f: fn(&RsCounts) -> i32| o.all.iter().map(f).sum::<i32>();
    let (replicas, ready, available) = (sum(|r| r.actual), sum(|r| r.ready), sum(|r| r.available));
    let total_spec = sum(|r| r.spec);
    let updated = o.new.actual;
    let complete = updated == o.desired && replicas == o.desired && available == o.desired;
    let available_cond = if available >= o.desired - o.max_unavailable {
        cond(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        cond(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let progressing = if complete {
        cond(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{}\" has successfully progressed.", o.new_rs),
        )
    } else {
        let mut msg = format!("ReplicaSet \"{}\" is progressing.", o.new_rs);
        if let Some(p) = &o.pod_problem {
            msg.push(' ');
            msg.push_str(p);
        }
        cond("Progressing", "True", "ReplicaSetUpdated", &msg)
    };
    let prev = previous["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let conditions: Vec<Value> = [available_cond, progressing]
        .into_iter()
        .map(|c| with_times(c, &prev, now, true))
        .collect();
    let mut s = json!({
        "observedGeneration": o.generation,
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": (total_spec - available).max(0),
        "conditions": conditions,
    });
    if let Some(c) = o.collision_count {
        s["collisionCount"] = json!(c);
    }
    s
}

/// A condition without its times.
pub fn cond(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message})
}

/// Adds `lastTransitionTime` (kept while the status stays) and, when `update_time`, `lastUpdateTime`
/// (kept while reason and message stay).
pub fn with_times(mut c: Value, previous: &[Value], now: &str, update_time: bool) -> Value {
    let old = previous.iter().find(|p| p["type"] == c["type"]);
    let same_status = old.is_some_and(|p| p["status"] == c["status"]);
    let same_all = same_status
        && old.is_some_and(|p| p["reason"] == c["reason"] && p["message"] == c["message"]);
    let keep = |field: &str, same: bool| match old.and_then(|p| p.get(field)) {
        Some(t) if same && t.is_string() => t.clone(),
        _ => json!(now),
    };
    c["lastTransitionTime"] = keep("lastTransitionTime", same_status);
    if update_time {
        c["lastUpdateTime"] = keep("lastUpdateTime", same_all);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(spec: i32, available: i32) -> RsCounts {
        RsCounts {
            spec,
            actual: spec,
            ready: available,
            available,
        }
    }

    #[test]
    fn percentages_round_up_for_surge_and_down_for_unavailable() {
        assert_eq!(scaled(Some(&json!("25%")), 3, true, 0), 1);
        assert_eq!(scaled(Some(&json!("25%")), 3, false, 0), 0);
        assert_eq!(scaled(Some(&json!(2)), 10, false, 0), 2);
        assert_eq!(scaled(None, 10, true, 25), 3);
    }

    #[test]
    fn default_strategy_of_three_replicas_is_surge_one_unavailable_zero() {
        let s = strategy(
            &json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}),
            3,
        );
        assert_eq!(
            s,
            Strategy::RollingUpdate {
                max_surge: 1,
                max_unavailable: 0
            }
        );
        let zero = strategy(
            &json!({"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}),
            3,
        );
        assert_eq!(
            zero,
            Strategy::RollingUpdate {
                max_surge: 0,
                max_unavailable: 1
            }
        );
        assert_eq!(
            strategy(&json!({"strategy": {"type": "Recreate"}}), 3),
            Strategy::Recreate
        );
    }

    #[test]
    fn without_old_replica_sets_the_new_one_is_scaled_to_the_desired_count() {
        let s = Strategy::RollingUpdate {
            max_surge: 1,
            max_unavailable: 0,
        };
        assert_eq!(step(3, s, rs(0, 0), &[]), (3, vec![]));
        assert_eq!(step(1, s, rs(3, 3), &[rs(0, 0)]), (1, vec![0]));
    }

    #[test]
    fn a_rolling_update_surges_then_trades_one_old_pod_per_new_available_pod() {
        let s = Strategy::RollingUpdate {
            max_surge: 1,
            max_unavailable: 0,
        };
        // Start: old 3 available, new 0 → new gets the one surge Pod, old keeps 3.
        assert_eq!(step(3, s, rs(0, 0), &[rs(3, 3)]), (1, vec![3]));
        // The new Pod is not available yet: nothing moves.
        assert_eq!(step(3, s, rs(1, 0), &[rs(3, 3)]), (1, vec![3]));
        // It became available: one old Pod may go.
        assert_eq!(step(3, s, rs(1, 1), &[rs(3, 3)]), (1, vec![2]));
        // With old at 2 the total is back under the surge bound: the new one grows.
        assert_eq!(step(3, s, rs(1, 1), &[rs(2, 2)]), (2, vec![2]));
        assert_eq!(step(3, s, rs(3, 3), &[rs(1, 1)]), (3, vec![0]));
    }

    #[test]
    fn below_minimum_availability_only_unhealthy_old_pods_are_removed() {
        let s = Strategy::RollingUpdate {
            max_surge: 1,
            max_unavailable: 1,
        };
        // Old RS of 4 with 2 available (minimum 3): the budget of 1 takes one unhealthy Pod, and
        // no available one may go.
        let (new, olds) = step(4, s, rs(0, 0), &[rs(4, 2)]);
        assert_eq!((new, olds), (1, vec![3]));
    }

    #[test]
    fn recreate_scales_old_to_zero_and_waits_for_their_pods_before_the_new_one() {
        let old_gone = RsCounts {
            spec: 0,
            actual: 2,
            ready: 0,
            available: 0,
        };
        assert_eq!(
            step(3, Strategy::Recreate, rs(0, 0), &[rs(3, 3)]),
            (0, vec![0])
        );
        assert_eq!(
            step(3, Strategy::Recreate, rs(0, 0), &[old_gone]),
            (0, vec![0])
        );
        assert_eq!(
            step(3, Strategy::Recreate, rs(0, 0), &[rs(0, 0)]),
            (3, vec![0])
        );
    }

    fn observed<'a>(new: RsCounts, all: &'a [RsCounts], problem: Option<String>) -> Observed<'a> {
        Observed {
            generation: 2,
            desired: 3,
            max_unavailable: 0,
            new_rs: "web-abc",
            new,
            all,
            pod_problem: problem,
            collision_count: None,
        }
    }

    #[test]
    fn a_complete_rollout_is_available_with_new_replica_set_available() {
        let all = [rs(3, 3)];
        let s = deployment_status(&observed(rs(3, 3), &all, None), &json!({}), "T1");
        assert_eq!(s["observedGeneration"], 2);
        assert_eq!(
            (
                s["replicas"].as_i64(),
                s["updatedReplicas"].as_i64(),
                s["availableReplicas"].as_i64()
            ),
            (Some(3), Some(3), Some(3))
        );
        assert_eq!(s["conditions"][0]["type"], "Available");
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert_eq!(
            s["conditions"][1]["message"],
            "ReplicaSet \"web-abc\" has successfully progressed."
        );
    }

    #[test]
    fn a_pod_problem_keeps_the_deployment_unavailable_and_is_named_in_progressing() {
        let stuck = RsCounts {
            spec: 3,
            actual: 3,
            ready: 0,
            available: 0,
        };
        let all = [stuck];
        let s = deployment_status(
            &observed(stuck, &all, Some("pull failed: x".into())),
            &json!({}),
            "T1",
        );
        assert_eq!(s["conditions"][0]["status"], "False");
        assert_eq!(s["conditions"][0]["reason"], "MinimumReplicasUnavailable");
        assert_eq!(s["conditions"][1]["reason"], "ReplicaSetUpdated");
        assert!(
            s["conditions"][1]["message"]
                .as_str()
                .unwrap()
                .ends_with("pull failed: x")
        );
        assert_eq!(s["unavailableReplicas"], 3);
    }

    #[test]
    fn condition_times_are_kept_while_the_condition_does_not_change() {
        let all = [rs(3, 3)];
        let first = deployment_status(&observed(rs(3, 3), &all, None), &json!({}), "T1");
        let again = deployment_status(&observed(rs(3, 3), &all, None), &first, "T2");
        assert_eq!(again["conditions"][0]["lastTransitionTime"], "T1");
        assert_eq!(again["conditions"][1]["lastUpdateTime"], "T1");
        let stuck = RsCounts {
            spec: 3,
            actual: 3,
            ready: 0,
            available: 0,
        };
        let worse = deployment_status(&observed(stuck, &[stuck], None), &first, "T3");
        assert_eq!(worse["conditions"][0]["lastTransitionTime"], "T3");
        assert_eq!(
            worse["conditions"][1]["lastTransitionTime"], "T1",
            "Progressing stayed True"
        );
        assert_eq!(worse["conditions"][1]["lastUpdateTime"], "T3");
    }
}
