//! Printers of workload kinds: apps/v1, batch/v1, autoscaling, policy/v1.

use super::*;
use serde_json::json;

pub(super) fn printer(kind: &str) -> Option<&'static Printer> {
    Some(match kind {
        "Deployment" => &DEPLOYMENT,
        "ReplicaSet" => &REPLICA_SET,
        "StatefulSet" => &STATEFUL_SET,
        "DaemonSet" => &DAEMON_SET,
        "ControllerRevision" => &CONTROLLER_REVISION,
        "Job" => &JOB,
        "CronJob" => &CRON_JOB,
        "HorizontalPodAutoscaler" => &HORIZONTAL_POD_AUTOSCALER,
        "PodDisruptionBudget" => &POD_DISRUPTION_BUDGET,
        _ => return None,
    })
}

fn desired_replicas(o: &Value) -> i64 {
    get(o, &["spec", "replicas"])
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn template_spec(o: &Value) -> Option<&Value> {
    get(o, &["spec", "template", "spec"])
}

/// The `-o wide` CONTAINERS, IMAGES and SELECTOR cells of a workload with a pod template and a
/// label selector in its spec.
fn template_cells(o: &Value) -> [Value; 3] {
    let (containers, images) = containers_and_images(template_spec(o));
    [
        json!(containers),
        json!(images),
        json!(format_label_selector(get(o, &["spec", "selector"]))),
    ]
}

static DEPLOYMENT: Printer = Printer {
    columns: &[
        NAME,
        c("Ready", "Number of the pod with ready state"),
        n(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        ),
        n(
            "Available",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let mut row = vec![
            name(o),
            json!(format!(
                "{}/{}",
                i(o, &["status", "readyReplicas"]),
                desired_replicas(o)
            )),
            json!(i(o, &["status", "updatedReplicas"])),
            json!(i(o, &["status", "availableReplicas"])),
            age(o, now),
        ];
        row.extend(template_cells(o));
        row
    },
};

static REPLICA_SET: Printer = Printer {
    columns: &[
        NAME,
        n("Desired", "Number of desired pods."),
        n("Current", "Number of actual replicas."),
        n(
            "Ready",
            "The number of ready replicas for this replica set.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let mut row = vec![
            name(o),
            json!(desired_replicas(o)),
            json!(i(o, &["status", "replicas"])),
            json!(i(o, &["status", "readyReplicas"])),
            age(o, now),
        ];
        row.extend(template_cells(o));
        row
    },
};

static STATEFUL_SET: Printer = Printer {
    columns: &[
        NAME,
        c("Ready", "Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ],
    cells: |o, now| {
        let (cs, is) = containers_and_images(template_spec(o));
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                i(o, &["status", "readyReplicas"]),
                desired_replicas(o)
            )),
            age(o, now),
            json!(cs),
            json!(is),
        ]
    },
};

static DAEMON_SET: Printer = Printer {
    columns: &[
        NAME,
        n(
            "Desired",
            "The total number of nodes that should be running the daemon pod.",
        ),
        n(
            "Current",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        ),
        n(
            "Ready",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
        ),
        n(
            "Up-to-date",
            "The total number of nodes that are running updated daemon pod",
        ),
        n(
            "Available",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
        ),
        c(
            "Node Selector",
            "NodeSelector is a selector which must be true for the pod to fit on a node.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let mut row = vec![
            name(o),
            json!(i(o, &["status", "desiredNumberScheduled"])),
            json!(i(o, &["status", "currentNumberScheduled"])),
            json!(i(o, &["status", "numberReady"])),
            json!(i(o, &["status", "updatedNumberScheduled"])),
            json!(i(o, &["status", "numberAvailable"])),
            json!(format_labels(get(
                o,
                &["spec", "template", "spec", "nodeSelector"]
            ))),
            age(o, now),
        ];
        row.extend(template_cells(o));
        row
    },
};

static CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        NAME,
        c("Controller", "Controller of the object"),
        n(
            "Revision",
            "Revision indicates the revision of the state represented by Data.",
        ),
        AGE,
    ],
    cells: |o, now| {
        let controller = items(o, &["metadata", "ownerReferences"])
            .iter()
            .find(|r| get(r, &["controller"]).and_then(Value::as_bool) == Some(true))
            .map_or("<none>".to_string(), |r| {
                let kind = s(r, &["kind"]).to_lowercase();
                match s(r, &["apiVersion"]).split_once('/') {
                    Some((group, _)) => format!("{kind}.{group}/{}", s(r, &["name"])),
                    None => format!("{kind}/{}", s(r, &["name"])),
                }
            });
        vec![
            name(o),
            json!(controller),
            json!(i(o, &["revision"])),
            age(o, now),
        ]
    },
};

static JOB: Printer = Printer {
    columns: &[
        NAME,
        c("Status", "Status of the job."),
        c(
            "Completions",
            "The desired number of successfully finished pods the job should be run with.",
        ),
        c("Duration", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let mut row = vec![
            name(o),
            json!(job_status(o)),
            json!(job_completions(o)),
            json!(job_duration(o, now)),
            age(o, now),
        ];
        row.extend(template_cells(o));
        row
    },
};

fn condition_true(o: &Value, type_: &str) -> bool {
    condition(o, type_).is_some_and(|c| s(c, &["status"]) == "True")
}

fn job_status(o: &Value) -> &'static str {
    if get(o, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()) {
        "Terminating"
    } else if condition_true(o, "Complete") {
        "Complete"
    } else if condition_true(o, "Failed") {
        "Failed"
    } else if condition_true(o, "FailureTarget") {
        "FailureTarget"
    } else if condition_true(o, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if condition_true(o, "Suspended") {
        "Suspended"
    } else {
        "Running"
    }
}

fn job_completions(o: &Value) -> String {
    let succeeded = i(o, &["status", "succeeded"]);
    match get(o, &["spec", "completions"]).and_then(Value::as_i64) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match get(o, &["spec", "parallelism"]).and_then(Value::as_i64) {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    }
}

fn job_duration(o: &Value, now: Timestamp) -> String {
    let start = s(o, &["status", "startTime"]);
    let Some(start_t) = parse_time(start) else {
        return String::new();
    };
    match parse_time(s(o, &["status", "completionTime"])) {
        Some(end) => crate::table::human_duration(end.as_second() - start_t.as_second()),
        None => crate::table::age(start, now),
    }
}

static CRON_JOB: Printer = Printer {
    columns: &[
        NAME,
        c("Schedule", "The schedule in Cron format."),
        c("Timezone", "The time zone name for the given schedule."),
        Col {
            name: "Suspend",
            type_: "boolean",
            priority: 0,
            description: "This flag tells the controller to suspend subsequent executions.",
        },
        n("Active", "A list of pointers to currently running jobs."),
        c(
            "Last Schedule",
            "Information when was the last time the job was successfully scheduled.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    cells: |o, now| {
        let (cs, is) =
            containers_and_images(get(o, &["spec", "jobTemplate", "spec", "template", "spec"]));
        let last = s(o, &["status", "lastScheduleTime"]);
        vec![
            name(o),
            json!(s(o, &["spec", "schedule"])),
            json!(s_or_none(o, &["spec", "timeZone"])),
            json!(
                get(o, &["spec", "suspend"])
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
            json!(count(o, &["status", "active"])),
            json!(if last.is_empty() {
                "<none>".to_string()
            } else {
                crate::table::age(last, now)
            }),
            age(o, now),
            json!(cs),
            json!(is),
            json!(format_label_selector(get(
                o,
                &["spec", "jobTemplate", "spec", "selector"]
            ))),
        ]
    },
};

static HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Reference",
            "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
        ),
        c(
            "Targets",
            "metrics contains the specifications for which to use to calculate the desired replica count.",
        ),
        c(
            "MinPods",
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
        ),
        n(
            "MaxPods",
            "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
        ),
        n(
            "Replicas",
            "currentReplicas is current number of replicas of pods managed by this autoscaler.",
        ),
        AGE,
    ],
    cells: |o, now| {
        let min = get(o, &["spec", "minReplicas"])
            .and_then(Value::as_i64)
            .unwrap_or(1);
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                s(o, &["spec", "scaleTargetRef", "kind"]),
                s(o, &["spec", "scaleTargetRef", "name"])
            )),
            json!(hpa_targets(o)),
            json!(min.to_string()),
            json!(i(o, &["spec", "maxReplicas"])),
            json!(i(o, &["status", "currentReplicas"])),
            age(o, now),
        ]
    },
};

/// `cpu: 40%/80%, memory: <unknown>/1Gi` from autoscaling/v2 metrics (or v1's CPU target).
fn hpa_targets(o: &Value) -> String {
    if let Some(pct) = get(o, &["spec", "targetCPUUtilizationPercentage"]).and_then(Value::as_i64) {
        let current = get(o, &["status", "currentCPUUtilizationPercentage"])
            .and_then(Value::as_i64)
            .map_or("<unknown>".to_string(), |c| format!("{c}%"));
        return format!("cpu: {current}/{pct}%");
    }
    let specs = items(o, &["spec", "metrics"]);
    if specs.is_empty() {
        return "<none>".into();
    }
    let currents = items(o, &["status", "currentMetrics"]);
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(idx, m)| hpa_metric(m, currents.get(idx)))
        .collect();
    join_limited_with(&list, 2, ", ")
}

fn hpa_metric(spec: &Value, current: Option<&Value>) -> String {
    let ty = s(spec, &["type"]);
    let key = match ty {
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        "Pods" => "pods",
        "Object" => "object",
        "External" => "external",
        _ => return "<unknown type>".into(),
    };
    let target = get(spec, &[key, "target"]);
    let cur = current.and_then(|c| get(c, &[key, "current"]));
    let metric_name = match ty {
        "Resource" | "ContainerResource" => s(spec, &[key, "name"]).to_string(),
        _ => s(spec, &[key, "metric", "name"]).to_string(),
    };
    let (cur_s, target_s) = match target.map(|t| s(t, &["type"])) {
        Some("Utilization") => (
            cur.and_then(|c| get(c, &["averageUtilization"]).and_then(Value::as_i64))
                .map_or("<unknown>".to_string(), |v| format!("{v}%")),
            format!("{}%", target.map_or(0, |t| i(t, &["averageUtilization"]))),
        ),
        Some("AverageValue") => (
            cur.map(|c| s(c, &["averageValue"]).to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "<unknown>".into()),
            target.map_or(String::new(), |t| s(t, &["averageValue"]).to_string()),
        ),
        _ => (
            cur.map(|c| s(c, &["value"]).to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "<unknown>".into()),
            target.map_or(String::new(), |t| s(t, &["value"]).to_string()),
        ),
    };
    match ty {
        "Resource" | "ContainerResource" => format!("{metric_name}: {cur_s}/{target_s}"),
        "External" if target.map(|t| s(t, &["type"])) == Some("AverageValue") => {
            format!("{cur_s}/{target_s} (avg)")
        }
        _ => format!("{cur_s}/{target_s}"),
    }
}

static POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: &[
        NAME,
        c(
            "Min Available",
            "The minimum number of pods that must be available simultaneously",
        ),
        c(
            "Max Unavailable",
            "The maximum number of pods that may be unavailable simultaneously",
        ),
        n(
            "Allowed Disruptions",
            "Calculated number of pods that may be disrupted at this time",
        ),
        AGE,
    ],
    cells: |o, now| {
        let int_or_string = |k: &str| match get(o, &["spec", k]) {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => "N/A".to_string(),
        };
        vec![
            name(o),
            json!(int_or_string("minAvailable")),
            json!(int_or_string("maxUnavailable")),
            json!(i(o, &["status", "disruptionsAllowed"])),
            age(o, now),
        ]
    },
};
