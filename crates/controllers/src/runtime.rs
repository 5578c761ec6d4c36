//! Helpers that give every product controller the kube-rs shape (see `design/style.md`):
//! [`run`] drives a `kube::runtime::Controller` until the cluster's shutdown token fires, counting
//! every finished reconcile in `marketplace_controller_reconciles_total{controller,cluster,result}`
//! and backing off per object on errors ([`ErrorBackoff`]); [`recorder`] gives a controller its
//! Event `Recorder`; [`field_manager`] names its server-side-apply manager.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::Resource;
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Error as ControllerError};
use kube::runtime::events::{Recorder, Reporter};
use serde::de::DeserializeOwned;

use crate::host::ClusterContext;

/// The server-side-apply field manager of `controller`: `marketplace-<controller>`.
pub fn field_manager(controller: &str) -> String {
    format!("marketplace-{controller}")
}

/// An Event recorder for `controller` in this cluster (reporting controller
/// `marketplace-<controller>`, instance `marketplace-<cluster>`).
pub fn recorder(cx: &ClusterContext, controller: &str) -> Recorder {
    Recorder::new(
        cx.client.clone(),
        Reporter {
            controller: field_manager(controller),
            instance: Some(format!("marketplace-{}", cx.name)),
        },
    )
}

/// Per-object retry delays after failed reconciles: `initial * 2^(failures-1)`, capped; a success
/// forgets the object's failures.
pub struct ErrorBackoff {
    failures: Mutex<HashMap<String, u32>>,
    initial: Duration,
    max: Duration,
}

impl Default for ErrorBackoff {
    fn default() -> Self {
        ErrorBackoff::new(Duration::from_millis(200), Duration::from_secs(60))
    }
}

impl ErrorBackoff {
    pub fn new(initial: Duration, max: Duration) -> ErrorBackoff {
        ErrorBackoff {
            failures: Mutex::new(HashMap::new()),
            initial,
            max,
        }
    }

    /// The delay after the `failures`-th consecutive failure (1-based).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        self.initial.saturating_mul(1 << exp).min(self.max)
    }

    /// Records a failure of `key` and returns when to retry it.
    pub fn on_error(&self, key: &str) -> Action {
        let mut f = self.failures.lock().expect("backoff lock");
        let n = f.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        Action::requeue(self.delay(*n))
    }

    pub fn on_success(&self, key: &str) {
        self.failures.lock().expect("backoff lock").remove(key);
    }
}

fn object_key<K: Resource>(obj: &K) -> String {
    let m = obj.meta();
    format!(
        "{}/{}",
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or("")
    )
}

/// Runs `controller` with `reconcile` until the cluster's shutdown token fires (graceful: running
/// reconciles finish). Counts reconciles per result; failed objects are retried with
/// [`ErrorBackoff`]; watch errors are logged (the watcher retries on its own).
pub async fn run<K, Ctx, Fut, E>(
    cx: &ClusterContext,
    name: &str,
    controller: Controller<K>,
    reconcile: impl FnMut(Arc<K>, Arc<Ctx>) -> Fut,
    ctx: Arc<Ctx>,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Debug + Unpin + Eq + Hash + Clone,
    Ctx: Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    let backoff = Arc::new(ErrorBackoff::default());
    let policy_backoff = backoff.clone();
    let (cluster, controller_name) = (cx.name.clone(), name.to_string());
    let error_policy = move |obj: Arc<K>, err: &E, _: Arc<Ctx>| {
        let key = object_key(obj.as_ref());
        tracing::warn!(cluster = %cluster, controller = %controller_name, object = %key, error = %err, "reconcile failed; will retry");
        policy_backoff.on_error(&key)
    };
    let store = controller.store();
    let token = cx.shutdown.clone();
    let run = controller
        .graceful_shutdown_on(async move { token.cancelled_owned().await })
        .run(reconcile, error_policy, ctx)
        .for_each(|res| {
            match res {
                Ok((obj, _)) => {
                    cx.metrics.reconciled(name, &cx.name, true);
                    backoff.on_success(&format!(
                        "{}/{}",
                        obj.namespace.as_deref().unwrap_or(""),
                        obj.name
                    ));
                }
                Err(ControllerError::ReconcilerFailed(_, _)) => {
                    cx.metrics.reconciled(name, &cx.name, false);
                }
                Err(e) => {
                    tracing::warn!(cluster = %cx.name, controller = %name, error = %e, "controller watch or queue error (retried)")
                }
            }
            futures::future::ready(())
        });
    until_shutdown(run, store, &cx.shutdown).await;
}

/// Awaits `run` (a controller's `graceful_shutdown_on(shutdown)…run(…)` driven to its end), also
/// when `shutdown` fires before the controller's first list has filled `store`.
///
/// kube-runtime 5's runner holds reconciles until the store is ready and, while it holds, never
/// sees that shutdown ended its queue: the watch that would fill the store is no longer polled,
/// so it waits forever (the host then aborts the set after its grace period). Before the store is
/// ready no reconcile has started, so dropping `run` then loses nothing; after, shutdown stays
/// graceful (running reconciles finish).
pub async fn until_shutdown<K>(
    run: impl Future<Output = ()>,
    store: kube::runtime::reflector::Store<K>,
    shutdown: &tokio_util::sync::CancellationToken,
) where
    K: kube::runtime::reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    let unfilled_at_shutdown = async {
        shutdown.cancelled().await;
        let filled = futures::FutureExt::now_or_never(store.wait_until_ready()).is_some();
        if filled {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = run => {}
        () = unfilled_at_shutdown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_managers_are_named_after_the_controller() {
        assert_eq!(field_manager("sample"), "marketplace-sample");
    }

    #[test]
    fn error_backoff_grows_per_object_and_resets_on_success() {
        let b = ErrorBackoff::new(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(3), Duration::from_millis(400));
        assert_eq!(b.delay(30), Duration::from_secs(1));
        let _ = b.on_error("ns/a");
        let _ = b.on_error("ns/a");
        assert_eq!(
            b.on_error("ns/a"),
            Action::requeue(Duration::from_millis(400))
        );
        assert_eq!(
            b.on_error("ns/b"),
            Action::requeue(Duration::from_millis(100))
        );
        b.on_success("ns/a");
        assert_eq!(
            b.on_error("ns/a"),
            Action::requeue(Duration::from_millis(100))
        );
    }
}
