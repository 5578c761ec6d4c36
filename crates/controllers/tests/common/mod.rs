//! Shared harness: an embedded control plane (`127.0.0.1:0`, a tempdir data dir) with the controller
//! host running the given sets in every cluster, its counters on the control plane's `/metrics`.

#![allow(dead_code)]

use std::time::{Duration, Instant};

pub struct Running {
    pub cp: apiserver::ControlPlane,
    pub host: Option<controllers::RunningHost>,
    pub host_metrics: controllers::ControllerMetrics,
    pub dir: tempfile::TempDir,
}

impl Running {
    /// Stops the host (awaiting every set), then the control plane.
    pub async fn stop(mut self) {
        if let Some(h) = self.host.take() {
            h.stop().await;
        }
        self.cp.shutdown().await;
    }
}

/// The targets of every cluster the control plane serves.
pub fn targets(cp: &apiserver::ControlPlane) -> Vec<controllers::ClusterTarget> {
    cp.clusters()
        .into_iter()
        .map(|name| controllers::ClusterTarget {
            client: cp.client(&name).expect("served cluster"),
            labels: cp.cluster_labels(&name).unwrap_or_default(),
            global: name == apiserver::GLOBAL,
            registry: cp.registry().map(str::to_string),
            name,
        })
        .collect()
}

pub async fn start_with(sets: Vec<controllers::ControllerSet>, clusters: &[&str]) -> Running {
    start_full(sets, clusters, false).await
}

/// Like [`start_with`], with sets that declare rules running as their own ServiceAccounts.
pub async fn start_with_identities(
    sets: Vec<controllers::ControllerSet>,
    clusters: &[&str],
) -> Running {
    start_full(sets, clusters, true).await
}

async fn start_full(
    sets: Vec<controllers::ControllerSet>,
    clusters: &[&str],
    identities: bool,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    for c in clusters {
        cfg.clusters.push(apiserver::ClusterSpec::parse(c).unwrap());
    }
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let host = controllers::Host::new(sets)
        .install_crds(true)
        .with_backoff(controllers::host::Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(1),
        });
    let host = if identities {
        let sa = cp.service_account_clients();
        host.with_identities(std::sync::Arc::new(move |cluster, ns, name| {
            sa.client_as(cluster, ns, name).map_err(Into::into)
        }))
    } else {
        host
    };
    let host_metrics = host.metrics();
    cp.add_metrics(host_metrics.registry());
    let host = Some(host.start(targets(&cp)));
    Running {
        cp,
        host,
        host_metrics,
        dir,
    }
}

pub async fn start(sets: Vec<controllers::ControllerSet>) -> Running {
    start_with(sets, &[]).await
}

/// Polls `f` until it gives a value (60 s on a loaded machine, then fails naming `what`).
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
