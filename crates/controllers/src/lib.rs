//! `controllers`: the runtime every product controller shares, and the controllers the embedded
//! control plane needs to behave like a cluster (garbage collection, namespace deletion, CRD
//! cleanup).
//!
//! It owns:
//! - [`host`]: the controller host. It runs registered *controller sets* for every cluster it is
//!   given, each as its own tokio task, starting them once the cluster's API answers, restarting a
//!   set that fails or panics (logged, capped backoff) and stopping them cleanly on cancellation.
//! - [`runtime`]: helpers in the kube-rs shape (a reconcile loop around `kube::runtime::Controller`
//!   that counts reconciles, an error policy with per-object backoff, a `Recorder` per controller,
//!   field managers named `marketplace-<controller>`).
//! - [`events`]: best-effort, ordered Events reported as named components (the simulator's
//!   kubelet and workload controllers, OLM's `operator-lifecycle-manager`).
//! - [`metrics`]: `marketplace_controller_reconciles_total{controller,cluster,result}` and friends,
//!   in a `prometheus-client` registry that the apiserver's `/metrics` renders.
//! - [`crds`]: the CRDs the product's controller sets define (kube-derive's `CustomResourceExt`),
//!   printed for `kubectl apply -f -` or applied to an embedded cluster.
//! - [`gc`], [`namespace`], [`crd_cleanup`]: watch-driven garbage collection, namespace deletion
//!   and CRD instance cleanup, registered only for the embedded control plane (on a real cluster
//!   kube-controller-manager and kube-apiserver do this work).
//! - [`serviceaccounts`]: every namespace's `default` ServiceAccount and `kube-root-ca.crt`
//!   ConfigMap, likewise only for the embedded control plane (it needs the server's CA).
//! - [`identity`]: each rule-declaring set's ServiceAccount, ClusterRole and binding (least privilege).
//! - [`samples`]: the sample `ConfigMapGenerator` controller that proves the host end to end.
//!
//! It must not touch the store or any apiserver internals: every controller talks to its cluster
//! only through a `kube::Client` (in `marketplace serve` the in-process client, which goes through
//! the same router, authentication and handlers as kubectl).

pub mod crd_cleanup;
pub mod crds;
pub mod events;
pub mod gc;
pub mod host;
pub mod identity;
pub mod metrics;
pub mod namespace;
pub mod runtime;
pub mod samples;
pub mod serviceaccounts;

pub use host::{ClusterContext, ClusterTarget, ControllerSet, Host, IdentityFactory, RunningHost};
pub use metrics::ControllerMetrics;

/// The error type a controller set's `run` may return (any error, boxed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The controller sets the embedded control plane needs in every cluster it serves: garbage
/// collection, namespace deletion and CRD cleanup. Not for real clusters, where
/// kube-controller-manager and kube-apiserver own that work.
pub fn embedded_sets() -> Vec<ControllerSet> {
    vec![gc::set(), namespace::set(), crd_cleanup::set()]
}

/// [`embedded_sets`] and every namespace's `default` ServiceAccount and `kube-root-ca.crt`
/// ([`serviceaccounts`], with the server's CA `ca_pem`): what `marketplace serve` runs for the
/// clusters it serves.
pub fn serving_sets(ca_pem: Option<String>) -> Vec<ControllerSet> {
    let mut sets = embedded_sets();
    sets.push(serviceaccounts::set(ca_pem));
    sets
}
