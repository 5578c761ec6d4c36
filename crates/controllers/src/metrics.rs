//! The host's Prometheus series, in their own `prometheus-client` registry that the apiserver's
//! `/metrics` renders beside its own (`ControlPlane::add_metrics`):
//! - `marketplace_controller_reconciles_total{controller,cluster,result}`: finished reconciles,
//!   `result` = `success` or `error`.
//! - `marketplace_controller_restarts_total{controller,cluster}`: a controller set failed or
//!   panicked and the host restarted it.
//!
//! Label values come from registered controller and cluster names only, so the series are bounded.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    controller: String,
    cluster: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SetLabels {
    controller: String,
    cluster: String,
}

/// The counters of one host (cheap to clone; clones count into the same series).
#[derive(Clone)]
pub struct ControllerMetrics {
    registry: Arc<Registry>,
    reconciles: Family<ReconcileLabels, Counter>,
    restarts: Family<SetLabels, Counter>,
}

impl Default for ControllerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ControllerMetrics {
    pub fn new() -> ControllerMetrics {
        let mut registry = Registry::default();
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "marketplace_controller_reconciles",
            "Finished reconciles per controller and cluster, by result (success or error)",
            reconciles.clone(),
        );
        let restarts = Family::<SetLabels, Counter>::default();
        registry.register(
            "marketplace_controller_restarts",
            "Times the controller host restarted a controller set after it failed or panicked",
            restarts.clone(),
        );
        ControllerMetrics {
            registry: Arc::new(registry),
            reconciles,
            restarts,
        }
    }

    /// The registry to render (hand it to `apiserver::ControlPlane::add_metrics`).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Counts one finished reconcile.
    pub fn reconciled(&self, controller: &str, cluster: &str, ok: bool) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                controller: controller.to_string(),
                cluster: cluster.to_string(),
                result: if ok { "success" } else { "error" },
            })
            .inc();
    }

    /// Counts one restart of a controller set.
    pub fn restarted(&self, controller: &str, cluster: &str) {
        self.restarts
            .get_or_create(&SetLabels {
                controller: controller.to_string(),
                cluster: cluster.to_string(),
            })
            .inc();
    }

    /// How many reconciles of `controller` in `cluster` ended with `ok`.
    pub fn reconciles(&self, controller: &str, cluster: &str, ok: bool) -> u64 {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                controller: controller.to_string(),
                cluster: cluster.to_string(),
                result: if ok { "success" } else { "error" },
            })
            .get()
    }

    /// How often the set `controller` was restarted in `cluster`.
    pub fn restarts(&self, controller: &str, cluster: &str) -> u64 {
        self.restarts
            .get_or_create(&SetLabels {
                controller: controller.to_string(),
                cluster: cluster.to_string(),
            })
            .get()
    }

    /// The series in OpenMetrics text (for tests and the `controllers` command's logs).
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing metrics to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciles_are_counted_per_controller_cluster_and_result() {
        let m = ControllerMetrics::new();
        m.reconciled("sample", "global", true);
        m.reconciled("sample", "global", true);
        m.reconciled("sample", "b", false);
        m.restarted("sample", "b");
        assert_eq!(m.reconciles("sample", "global", true), 2);
        assert_eq!(m.reconciles("sample", "b", false), 1);
        assert_eq!(m.reconciles("sample", "b", true), 0);
        let text = m.render();
        assert!(
            text.contains(
                r#"marketplace_controller_reconciles_total{controller="sample",cluster="global",result="success"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"marketplace_controller_restarts_total{controller="sample",cluster="b"} 1"#
            ),
            "{text}"
        );
    }
}
