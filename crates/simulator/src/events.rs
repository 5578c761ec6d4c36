//! Who the simulator's Events are reported as: the components it stands in for (the kubelet, the
//! scheduler, kube-controller-manager's workload controllers), so that `kubectl describe` and
//! `kubectl events` say what happened to a Pod and why it does not run. They are published by
//! `controllers::events` (best-effort, in order, in the background).

use kube::Resource;

pub const KUBELET: &str = "kubelet";
pub const SCHEDULER: &str = "default-scheduler";

/// The kube-controller-manager controller that manages objects of kind `K`'s children, as it
/// reports itself (`replicaset-controller`, `deployment-controller`, ...).
pub fn controller_of<K: Resource<DynamicType = ()>>() -> &'static str {
    match K::kind(&()).as_ref() {
        "ReplicaSet" => "replicaset-controller",
        "Deployment" => "deployment-controller",
        "Job" => "job-controller",
        "StatefulSet" => "statefulset-controller",
        "DaemonSet" => "daemonset-controller",
        "CronJob" => "cronjob-controller",
        _ => "kube-controller-manager",
    }
}

/// The kubelet's note for a failed pull of `image`: `Failed to pull image "IMAGE": why`.
pub fn pull_failed_note(image: &str, message: &str) -> String {
    let prefix = format!("failed to pull image \"{image}\": ");
    let why = message.strip_prefix(&prefix).unwrap_or(message);
    format!("Failed to pull image \"{image}\": {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_failure_note_names_the_image_once() {
        assert_eq!(
            pull_failed_note(
                "r/web:2",
                "failed to pull image \"r/web:2\": r/web:2: not found"
            ),
            "Failed to pull image \"r/web:2\": r/web:2: not found"
        );
        assert_eq!(
            pull_failed_note("web", "registry unreachable"),
            "Failed to pull image \"web\": registry unreachable"
        );
    }
}
