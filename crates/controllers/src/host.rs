//! The controller host: runs every registered [`ControllerSet`] for every cluster it is given.
//!
//! Invariants a reader can rely on:
//! - A set starts in a cluster only after that cluster's API answered `/readyz` (polled with a
//!   growing interval, never a fixed sleep), and after the product's CRDs were applied when the host
//!   installs them (embedded clusters).
//! - Each (cluster, set) pair is one supervised tokio task. A set that returns an error, panics, or
//!   returns while nobody asked it to stop is logged (`tracing::error!` with `cluster` and
//!   `controller`), counted in `marketplace_controller_restarts_total`, and restarted after a
//!   backoff that doubles up to a cap and resets once a run lasted longer than the cap.
//! - A set that declares rules ([`ControllerSet::with_rules`]) runs, where the host has an
//!   [`IdentityFactory`], as ServiceAccount `cpaas-system/marketplace-<set>` bound to a ClusterRole of
//!   exactly those rules (created by the host with its admin client before the set starts). Sets
//!   without rules (GC, namespaces, CRD cleanup, the simulator: they need broad access by nature)
//!   keep the admin client.
//! - [`RunningHost::stop`] cancels every set's token and awaits every task; a set that ignores its
//!   token for longer than the grace period is aborted (and logged).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::BoxError;
use crate::metrics::ControllerMetrics;

/// What a controller set gets for one cluster.
#[derive(Clone)]
pub struct ClusterContext {
    /// The cluster's name (`global` or a workload cluster's).
    pub name: String,
    /// A client for the cluster (in `marketplace serve` the in-process client).
    pub client: kube::Client,
    /// The cluster's labels (`--cluster NAME=k=v,...`).
    pub labels: BTreeMap<String, String>,
    /// Whether this is the global cluster.
    pub global: bool,
    /// The platform's image registry (`HOST:PORT`), if any.
    pub registry: Option<String>,
    /// Cancelled when the set must stop; a set returns promptly once it is.
    pub shutdown: CancellationToken,
    /// The host's counters (reconciles per controller, see [`crate::runtime`]).
    pub metrics: ControllerMetrics,
}

/// A cluster the host runs sets for.
#[derive(Clone)]
pub struct ClusterTarget {
    pub name: String,
    pub client: kube::Client,
    pub labels: BTreeMap<String, String>,
    pub global: bool,
    pub registry: Option<String>,
}

type RunFn = Arc<dyn Fn(ClusterContext) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

/// Makes a client for cluster `cluster` acting as ServiceAccount `namespace/name` (which the host
/// has created): in `marketplace serve`, `ControlPlane::service_account_clients().client_as`.
pub type IdentityFactory =
    Arc<dyn Fn(&str, &str, &str) -> Result<kube::Client, BoxError> + Send + Sync>;

/// The namespace the controllers' ServiceAccounts live in.
pub const IDENTITY_NAMESPACE: &str = "cpaas-system";

/// The ServiceAccount, ClusterRole and ClusterRoleBinding name of a set.
pub fn identity_name(set: &str) -> String {
    format!("marketplace-{set}")
}

/// A named group of controllers that run together in one cluster: anything with the shape
/// `async fn run(cx: ClusterContext) -> Result<(), E>`, plus the CRDs it defines.
#[derive(Clone)]
pub struct ControllerSet {
    name: String,
    crds: Vec<CustomResourceDefinition>,
    rules: Option<Vec<PolicyRule>>,
    run: RunFn,
}

impl ControllerSet {
    pub fn new<F, Fut, E>(name: impl Into<String>, run: F) -> ControllerSet
    where
        F: Fn(ClusterContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let run: RunFn = Arc::new(move |cx| {
            let fut = run(cx);
            Box::pin(async move { fut.await.map_err(Into::into) })
        });
        ControllerSet {
            name: name.into(),
            crds: Vec::new(),
            rules: None,
            run,
        }
    }

    /// Declares a CRD the set's controllers reconcile (`K::crd()` of a kube-derive type).
    pub fn with_crd(mut self, crd: CustomResourceDefinition) -> ControllerSet {
        self.crds.push(crd);
        self
    }

    /// Declares everything the set does through the API. Where the host has an
    /// [`IdentityFactory`], the set then runs as its own ServiceAccount
    /// `cpaas-system/marketplace-<set>` bound to a ClusterRole of exactly these rules; a set without
    /// rules keeps the host's (admin) client.
    pub fn with_rules(mut self, rules: Vec<PolicyRule>) -> ControllerSet {
        self.rules = Some(rules);
        self
    }

    pub fn rules(&self) -> Option<&[PolicyRule]> {
        self.rules.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn crds(&self) -> &[CustomResourceDefinition] {
        &self.crds
    }
}

/// Restart backoff of failed sets.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay after `delay`: doubled, capped.
    pub fn next(&self, delay: Duration) -> Duration {
        (delay * 2).min(self.max)
    }

    /// The delay before the next restart, given the last delay and how long the run lasted: a run
    /// longer than the cap was healthy, so the backoff starts over.
    pub fn after_run(&self, last: Option<Duration>, ran: Duration) -> Duration {
        match last {
            Some(d) if ran <= self.max => self.next(d),
            _ => self.initial,
        }
    }
}

/// The controller host (see the module doc).
pub struct Host {
    sets: Vec<ControllerSet>,
    metrics: ControllerMetrics,
    backoff: Backoff,
    install_crds: bool,
    grace: Duration,
    identities: Option<IdentityFactory>,
}

impl Host {
    pub fn new(sets: Vec<ControllerSet>) -> Host {
        Host {
            sets,
            metrics: ControllerMetrics::new(),
            backoff: Backoff::default(),
            install_crds: false,
            grace: Duration::from_secs(10),
            identities: None,
        }
    }

    /// The host's counters (render them with `ControlPlane::add_metrics(metrics.registry())`).
    pub fn metrics(&self) -> ControllerMetrics {
        self.metrics.clone()
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Host {
        self.backoff = backoff;
        self
    }

    /// Whether to apply the sets' CRDs to each cluster before starting them (embedded clusters;
    /// on real clusters the user applies `marketplace crds`).
    pub fn install_crds(mut self, yes: bool) -> Host {
        self.install_crds = yes;
        self
    }

    /// Runs each set that declares rules as its own least-privilege ServiceAccount, with clients
    /// made by `factory` (see [`ControllerSet::with_rules`]).
    pub fn with_identities(mut self, factory: IdentityFactory) -> Host {
        self.identities = Some(factory);
        self
    }

    /// Every CRD the registered sets define.
    pub fn crds(&self) -> Vec<CustomResourceDefinition> {
        self.sets.iter().flat_map(|s| s.crds.clone()).collect()
    }

    /// Starts the sets in every cluster (needs a tokio runtime).
    pub fn start(self, clusters: Vec<ClusterTarget>) -> RunningHost {
        let shutdown = CancellationToken::new();
        let host = Arc::new(self);
        let tasks = clusters
            .into_iter()
            .map(|c| tokio::spawn(run_cluster(host.clone(), c, shutdown.clone())))
            .collect();
        RunningHost {
            shutdown,
            tasks,
            metrics: host.metrics.clone(),
        }
    }
}

/// A started host.
pub struct RunningHost {
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    metrics: ControllerMetrics,
}

impl RunningHost {
    pub fn metrics(&self) -> ControllerMetrics {
        self.metrics.clone()
    }

    /// Cancels every set and waits for them.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn run_cluster(host: Arc<Host>, target: ClusterTarget, shutdown: CancellationToken) {
    if !wait_ready(&target.client, &shutdown).await {
        return;
    }
    if host.install_crds && !install_crds(&host, &target, &shutdown).await {
        return;
    }
    tracing::info!(cluster = %target.name, sets = host.sets.len(), "starting controllers");
    let cx = ClusterContext {
        name: target.name.clone(),
        client: target.client.clone(),
        labels: target.labels.clone(),
        global: target.global,
        registry: target.registry.clone(),
        shutdown: shutdown.clone(),
        metrics: host.metrics.clone(),
    };
    let supervisors: Vec<_> = host
        .sets
        .iter()
        .map(|s| {
            let (host, set, mut cx) = (host.clone(), s.clone(), cx.clone());
            tokio::spawn(async move {
                if let Some(client) = set_identity(&host, &set, &cx).await {
                    cx.client = client;
                } else if cx.shutdown.is_cancelled() {
                    return;
                }
                supervise(host, set, cx).await
            })
        })
        .collect();
    for s in supervisors {
        let _ = s.await;
    }
}

/// Polls `/readyz` (growing interval) until the API answers `ok`; false when shut down first.
async fn wait_ready(client: &kube::Client, shutdown: &CancellationToken) -> bool {
    let mut delay = Duration::from_millis(20);
    loop {
        let req = http::Request::get("/readyz").body(Vec::new());
        let ready = match req {
            Ok(r) => match client.request_text(r).await {
                Ok(body) => body.trim() == "ok",
                // A cluster that hides /readyz from this identity: a discovery call answers.
                Err(kube::Error::Api(s)) if s.code == 403 || s.code == 404 => {
                    client.apiserver_version().await.is_ok()
                }
                Err(_) => false,
            },
            Err(_) => false,
        };
        if ready {
            return true;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

async fn install_crds(host: &Host, target: &ClusterTarget, shutdown: &CancellationToken) -> bool {
    let crds = host.crds();
    if crds.is_empty() {
        return true;
    }
    let mut delay = host.backoff.initial;
    loop {
        match crate::crds::apply(&target.client, &crds).await {
            Ok(()) => return true,
            Err(e) => {
                tracing::error!(cluster = %target.name, error = %e, "cannot apply the product's CRDs; retrying")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = host.backoff.next(delay);
    }
}

/// The set's own client, once its ServiceAccount, ClusterRole and binding exist (retried with
/// backoff); None when the set keeps the host's client (no rules or no identity factory) or the
/// host stops first.
async fn set_identity(
    host: &Host,
    set: &ControllerSet,
    cx: &ClusterContext,
) -> Option<kube::Client> {
    let (factory, rules) = (host.identities.as_ref()?, set.rules.as_ref()?);
    let name = identity_name(&set.name);
    let mut delay = host.backoff.initial;
    loop {
        let made = crate::identity::ensure(&cx.client, &name, rules)
            .await
            .map_err(BoxError::from)
            .and_then(|()| factory(&cx.name, IDENTITY_NAMESPACE, &name));
        match made {
            Ok(client) => return Some(client),
            Err(e) => {
                tracing::error!(cluster = %cx.name, controller = %set.name, error = %e, "cannot set up the controller set's ServiceAccount; retrying")
            }
        }
        tokio::select! {
            _ = cx.shutdown.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = host.backoff.next(delay);
    }
}

/// How one run of a set ended.
enum Ended {
    Stopped,
    Returned,
    Failed(String),
    Panicked(String),
}

/// Runs one set in one cluster until shutdown, restarting it when it ends on its own.
async fn supervise(host: Arc<Host>, set: ControllerSet, cx: ClusterContext) {
    let mut delay = None;
    loop {
        let started = Instant::now();
        let ended = run_once(&host, &set, &cx).await;
        let why = match ended {
            Ended::Stopped => return,
            Ended::Returned => "returned before it was asked to stop".to_string(),
            Ended::Failed(e) => e,
            Ended::Panicked(p) => format!("panicked: {p}"),
        };
        let next = host.backoff.after_run(delay, started.elapsed());
        tracing::error!(cluster = %cx.name, controller = %set.name, error = %why, restart_in = ?next, "controller set stopped; restarting");
        host.metrics.restarted(&set.name, &cx.name);
        tokio::select! {
            _ = cx.shutdown.cancelled() => return,
            _ = tokio::time::sleep(next) => {}
        }
        delay = Some(next);
    }
}

async fn run_once(host: &Host, set: &ControllerSet, cx: &ClusterContext) -> Ended {
    if cx.shutdown.is_cancelled() {
        return Ended::Stopped;
    }
    let mut handle = tokio::spawn((set.run)(cx.clone()));
    let joined = tokio::select! {
        r = &mut handle => r,
        _ = cx.shutdown.cancelled() => {
            match tokio::time::timeout(host.grace, &mut handle).await {
                Ok(Ok(Err(e))) => tracing::warn!(cluster = %cx.name, controller = %set.name, error = %e, "controller set failed while stopping"),
                Ok(_) => {}
                Err(_) => {
                    tracing::error!(cluster = %cx.name, controller = %set.name, grace = ?host.grace, "controller set ignored shutdown; aborted");
                    handle.abort();
                }
            }
            return Ended::Stopped;
        }
    };
    match joined {
        Ok(Ok(())) if cx.shutdown.is_cancelled() => Ended::Stopped,
        Ok(Ok(())) => Ended::Returned,
        Ok(Err(e)) => Ended::Failed(e.to_string()),
        Err(e) if e.is_panic() => Ended::Panicked(panic_message(e.into_panic())),
        Err(_) => Ended::Stopped,
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_backoff_doubles_to_the_cap_and_resets_after_a_healthy_run() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(
            b.after_run(None, Duration::from_millis(1)),
            Duration::from_millis(100)
        );
        let mut d = b.initial;
        for _ in 0..10 {
            d = b.after_run(Some(d), Duration::from_millis(1));
        }
        assert_eq!(d, Duration::from_secs(1));
        assert_eq!(
            b.after_run(Some(d), Duration::from_secs(5)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn panic_payloads_become_messages() {
        assert_eq!(panic_message(Box::new("boom")), "boom");
        assert_eq!(panic_message(Box::new(String::from("bang"))), "bang");
        assert_eq!(panic_message(Box::new(7)), "a non-string panic payload");
    }
}
