//! `simulator`: the kubelet / kube-controller-manager stand-in for the embedded clusters of
//! `marketplace serve`, so that workloads run there as users expect.
//!
//! It owns: the cluster's Nodes ([`nodes`]); the workload controllers, each a kube-rs `Controller`
//! reconciling observed state — Deployment → ReplicaSets ([`deployment`], with [`rollout`]'s pure
//! rolling-update arithmetic), ReplicaSet → Pods ([`replicaset`]), StatefulSet, DaemonSet, Job and
//! CronJob ([`statefulset`], [`daemonset`], [`job`], [`cronjob`]); and the kubelet/scheduler stand-in
//! that binds Pods to Nodes and moves them `Pending` → `Running` (or `Succeeded`), pulling images
//! from the platform registry ([`kubelet`], [`images`]); the Endpoints and EndpointSlice of every
//! Service with a selector ([`endpoints`]); each PodDisruptionBudget's status ([`disruption`]). Names and hashes are in [`names`]. Each
//! records the Events its Kubernetes counterpart records ([`events`]).
//!
//! It talks to a cluster only through `kube::Client` — the same API kubectl uses — and must not touch
//! the store or apiserver internals. Writes are server-side apply with one field manager per
//! controller; statuses go through the `status` subresource. Children carry controller
//! ownerReferences, and deleting an owner relies on the garbage collector. Child Pods have
//! deterministic names (owner + slot), so a reconcile repeated after a crash cannot double them.
//!
//! Every kind is watched once per cluster through a shared reflector: the store a controller reads
//! is updated before the controller is triggered by the same event.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod events;
pub mod images;
pub mod job;
pub mod kubelet;
pub mod names;
pub mod nodes;
pub mod replicaset;
pub mod rollout;
pub mod statefulset;
mod util;
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, StreamExt, future::BoxFuture};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use tokio_util::sync::CancellationToken;

/// Per-cluster switches of the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Off: `run` returns at once and the cluster has no Nodes and no workload controllers.
    pub enabled: bool,
    /// How many Nodes the cluster gets.
    pub nodes: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            nodes: 1,
        }
    }
}

/// What the simulator needs of one cluster (the controller host's `ClusterContext`, plus settings).
#[derive(Clone)]
pub struct ClusterContext {
    pub name: String,
    pub client: Client,
    pub labels: BTreeMap<String, String>,
    pub global: bool,
    /// The platform registry, `HOST:PORT`; `None`: every image counts as present.
    pub registry: Option<String>,
    pub shutdown: CancellationToken,
    pub settings: Settings,
}

/// Why the simulator stopped or a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("simulator: Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("simulator: cannot create the Nodes of cluster {cluster}: {source}")]
    Nodes {
        cluster: String,
        source: kube::Error,
    },
    #[error(
        "CronJob {namespace}/{name}: invalid schedule {schedule:?}: {reason}; use five fields (minute hour day-of-month month day-of-week) or @hourly-style"
    )]
    Schedule {
        namespace: String,
        name: String,
        schedule: String,
        reason: String,
    },
}

/// What every reconcile shares: the client, the shared stores, the image puller.
pub struct Ctx {
    pub(crate) client: Client,
    pub(crate) nodes: Store<Node>,
    pub(crate) pods: Store<Pod>,
    pub(crate) replica_sets: Store<ReplicaSet>,
    pub(crate) jobs: Store<Job>,
    pub(crate) images: images::Images,
    pub(crate) pull_retry: Mutex<HashMap<String, kubelet::PullRetry>>,
    pub(crate) events: controllers::events::Events,
    pub(crate) endpoints_written: endpoints::Written,
}

impl Ctx {
    /// A Ready Node matching `selector`, spread by `key` (stable: the same key, the same Node).
    pub(crate) fn pick_node(
        &self,
        selector: &BTreeMap<String, String>,
        key: &str,
    ) -> Option<String> {
        let nodes = util::eligible_nodes(&self.nodes.state(), selector);
        if nodes.is_empty() {
            return None;
        }
        let i = names::fnv32a(key.as_bytes()) as usize % nodes.len();
        Some(nodes[i].clone())
    }

    /// The Pods controlled by `uid` in `namespace`.
    pub(crate) fn pods_of(&self, namespace: &str, uid: &str) -> Vec<Arc<Pod>> {
        self.pods
            .state()
            .into_iter()
            .filter(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && util::controlled_by(p.as_ref(), uid)
            })
            .collect()
    }
}

const SHARED_BUFFER: usize = 4096;

type Reconciler<K> = fn(Arc<K>, Arc<Ctx>) -> BoxFuture<'static, Result<Action, Error>>;

/// Runs the simulator for one cluster until `cx.shutdown` is cancelled.
/// The simulator as one controller set on the host (`marketplace serve` registers it for the
/// embedded clusters only; on a real cluster the kubelet does this work). `settings` gives each
/// cluster's switches by name.
pub fn controller_set(
    settings: impl Fn(&str) -> Settings + Send + Sync + 'static,
) -> controllers::ControllerSet {
    controllers::ControllerSet::new("simulator", move |cx: controllers::ClusterContext| {
        run(ClusterContext {
            settings: settings(&cx.name),
            name: cx.name,
            client: cx.client,
            labels: cx.labels,
            global: cx.global,
            registry: cx.registry,
            shutdown: cx.shutdown,
        })
    })
}

pub async fn run(cx: ClusterContext) -> Result<(), Error> {
    if !cx.settings.enabled {
        return Ok(());
    }
    let client = cx.client.clone();
    nodes::ensure(&client, &cx.name, &cx.labels, cx.settings.nodes)
        .await
        .map_err(|source| Error::Nodes {
            cluster: cx.name.clone(),
            source,
        })?;

    let (nodes, node_w) = reflector::store_shared::<Node>(SHARED_BUFFER);
    let (pods, pod_w) = reflector::store_shared::<Pod>(SHARED_BUFFER);
    let (rss, rs_w) = reflector::store_shared::<ReplicaSet>(SHARED_BUFFER);
    let (jobs, job_w) = reflector::store_shared::<Job>(SHARED_BUFFER);
    let (svcs, svc_w) = reflector::store_shared::<Service>(SHARED_BUFFER);
    let node_sub = node_w.subscribe().expect("shared store");
    let pod_sub = pod_w.subscribe().expect("shared store");
    let rs_sub = rs_w.subscribe().expect("shared store");
    let job_sub = job_w.subscribe().expect("shared store");
    let svc_sub = svc_w.subscribe().expect("shared store");
    let (pods_gone, rss_gone, jobs_gone) = (Deletions::new(), Deletions::new(), Deletions::new());
    let svcs_gone = Deletions::new();
    // What an owner hears of its children: changes and deletions.
    let pod_changes = || futures::stream::select(pod_sub.clone(), pods_gone.subscribe());
    let rs_changes = || futures::stream::select(rs_sub.clone(), rss_gone.subscribe());
    let job_changes = || futures::stream::select(job_sub.clone(), jobs_gone.subscribe());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        nodes: nodes.clone(),
        pods: pods.clone(),
        replica_sets: rss.clone(),
        jobs: jobs.clone(),
        images: images::Images::new(cx.registry.clone()),
        pull_retry: Mutex::new(HashMap::new()),
        events: controllers::events::Events::start(client.clone(), &cx.name),
        endpoints_written: Default::default(),
    });
    let stop = cx.shutdown.clone();
    let budgets = Controller::new(
        Api::<PodDisruptionBudget>::all(client.clone()),
        watcher::Config::default(),
    );
    let budget_store = budgets.store();
    let nodes_changed = move || node_sub.clone().map(|_| ());
    let controllers: Vec<BoxFuture<'static, ()>> =
        vec![
            finish(
                Controller::for_shared_stream(pod_sub.clone(), pods.clone()),
                &stop,
                ctx.clone(),
                |o, c| kubelet::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::for_shared_stream(rs_sub.clone(), rss.clone())
                    .owns_shared_stream(pod_changes()),
                &stop,
                ctx.clone(),
                |o, c| replicaset::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::new(
                    Api::<Deployment>::all(client.clone()),
                    watcher::Config::default(),
                )
                .owns_shared_stream(rs_changes())
                .owns_shared_stream(pod_sub_for_deployments(pod_changes(), rss.clone())),
                &stop,
                ctx.clone(),
                |o, c| deployment::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::new(
                    Api::<StatefulSet>::all(client.clone()),
                    watcher::Config::default(),
                )
                .owns_shared_stream(pod_changes())
                .reconcile_all_on(nodes_changed()),
                &stop,
                ctx.clone(),
                |o, c| statefulset::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::new(
                    Api::<DaemonSet>::all(client.clone()),
                    watcher::Config::default(),
                )
                .owns_shared_stream(pod_changes())
                .reconcile_all_on(nodes_changed()),
                &stop,
                ctx.clone(),
                |o, c| daemonset::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::for_shared_stream(job_sub.clone(), jobs.clone())
                    .owns_shared_stream(pod_changes()),
                &stop,
                ctx.clone(),
                |o, c| job::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::new(
                    Api::<CronJob>::all(client.clone()),
                    watcher::Config::default(),
                )
                .owns_shared_stream(job_changes()),
                &stop,
                ctx.clone(),
                |o, c| cronjob::reconcile(o, c).boxed(),
            ),
            finish(
                budgets.reconcile_on(budgets_of_pods(pod_changes(), budget_store)),
                &stop,
                ctx.clone(),
                |o, c| disruption::reconcile(o, c).boxed(),
            ),
            finish(
                Controller::for_shared_stream(svc_sub, svcs.clone())
                    .reconcile_on(services_of_pods(pod_changes(), svcs.clone(), ctx.clone())),
                &stop,
                ctx.clone(),
                |o, c| endpoints::reconcile(o, c).boxed(),
            ),
            until_stopped(
                svcs_gone
                    .subscribe()
                    .for_each({
                        let ctx = ctx.clone();
                        move |svc| endpoints::forget(svc, ctx.clone())
                    })
                    .boxed(),
                &stop,
            ),
        ];
    let roots = futures::future::join5(
        drive(Api::<Node>::all(client.clone()), node_w, None),
        drive(Api::<Pod>::all(client.clone()), pod_w, Some(&pods_gone)),
        drive(
            Api::<ReplicaSet>::all(client.clone()),
            rs_w,
            Some(&rss_gone),
        ),
        drive(Api::<Job>::all(client.clone()), job_w, Some(&jobs_gone)),
        drive(Api::<Service>::all(client.clone()), svc_w, Some(&svcs_gone)),
    );
    // No controller acts on a partial view: a DaemonSet reconciled before the Nodes are listed
    // would delete its Pods, a Deployment before its ReplicaSets would start a new rollout.
    let stores_ready = async {
        let _ = nodes.wait_until_ready().await;
        let _ = pods.wait_until_ready().await;
        let _ = rss.wait_until_ready().await;
        let _ = jobs.wait_until_ready().await;
        let _ = svcs.wait_until_ready().await;
    };
    let run_controllers = async {
        tokio::select! {
            _ = stores_ready => futures::future::join_all(controllers).await,
            _ = stop.cancelled() => Vec::new(),
        };
    };
    tokio::select! {
        _ = run_controllers => {}
        _ = roots => {}
    }
    Ok(())
}

/// A Pod's event wakes the Services that select it, or listed it until now
/// ([`endpoints::services_of`]).
fn services_of_pods(
    pods: impl futures::Stream<Item = Arc<Pod>> + Send + 'static,
    svcs: Store<Service>,
    ctx: Arc<Ctx>,
) -> impl futures::Stream<Item = ObjectRef<Service>> + Send + 'static {
    pods.flat_map(move |p| {
        let refs: Vec<ObjectRef<Service>> =
            endpoints::services_of(&p, &svcs.state(), &ctx.endpoints_written)
                .into_iter()
                .map(|(ns, name)| ObjectRef::new(&name).within(&ns))
                .collect();
        futures::stream::iter(refs)
    })
}

/// A Pod's event wakes the PodDisruptionBudgets of its namespace: any of them may select it, or
/// did until its labels changed.
fn budgets_of_pods(
    pods: impl futures::Stream<Item = Arc<Pod>> + Send + 'static,
    budgets: Store<PodDisruptionBudget>,
) -> impl futures::Stream<Item = ObjectRef<PodDisruptionBudget>> + Send + 'static {
    pods.flat_map(move |p| {
        let ns = p.metadata.namespace.as_deref();
        let refs: Vec<ObjectRef<PodDisruptionBudget>> = budgets
            .state()
            .iter()
            .filter(|b| b.metadata.namespace.as_deref() == ns)
            .map(|b| ObjectRef::from_obj(b.as_ref()))
            .collect();
        futures::stream::iter(refs)
    })
}

/// Runs `work` until it ends or the simulator stops.
fn until_stopped(work: BoxFuture<'static, ()>, stop: &CancellationToken) -> BoxFuture<'static, ()> {
    let stop = stop.clone();
    async move {
        tokio::select! {
            _ = work => {}
            _ = stop.cancelled() => {}
        }
    }
    .boxed()
}

/// A Pod's event wakes the Deployment owning its ReplicaSet (so Pod readiness and pull errors show
/// in the Deployment's status without waiting for the ReplicaSet's own status write).
fn pod_sub_for_deployments(
    pods: impl futures::Stream<Item = Arc<Pod>> + Send + 'static,
    rss: Store<ReplicaSet>,
) -> impl futures::Stream<Item = Arc<ReplicaSet>> + Send + 'static {
    pods.filter_map(move |p| {
        let owner = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true) && o.kind == "ReplicaSet")
            .map(|o| o.name.clone());
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let rs = owner.and_then(|name| rss.get(&ObjectRef::new(&name).within(&ns)));
        futures::future::ready(rs)
    })
}

/// Watches `api` into the shared store behind `writer`, forever (the watcher backs off and
/// resumes), telling `deleted`'s subscribers of each deleted object.
async fn drive<K>(api: Api<K>, writer: reflector::store::Writer<K>, deleted: Option<&Deletions<K>>)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect_shared(writer)
        .for_each(|ev| {
            // After the store forgot it: a trigger then sees the object gone.
            if let (Some(d), Ok(watcher::Event::Delete(obj))) = (deleted, &ev) {
                d.send(obj);
            }
            futures::future::ready(())
        })
        .await;
}

/// Deleted objects of one kind, for the controllers that own them. kube-runtime 5's shared
/// reflector tells its subscribers of applied objects only, so without this an owner learns of a
/// deleted child (a Pod removed by `kubectl delete` or an eviction) only on its next resync, or
/// never once it is idle.
pub(crate) struct Deletions<K> {
    subscribers: Mutex<Vec<futures::channel::mpsc::UnboundedSender<Arc<K>>>>,
}

impl<K> Deletions<K> {
    fn new() -> Arc<Deletions<K>> {
        Arc::new(Deletions {
            subscribers: Mutex::new(Vec::new()),
        })
    }

    /// A stream of the objects deleted from now on.
    fn subscribe(&self) -> futures::channel::mpsc::UnboundedReceiver<Arc<K>> {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        self.subscribers.lock().unwrap().push(tx);
        rx
    }

    fn send(&self, obj: &K)
    where
        K: Clone,
    {
        let obj = Arc::new(obj.clone());
        self.subscribers
            .lock()
            .unwrap()
            .retain(|s| s.unbounded_send(obj.clone()).is_ok());
    }
}

/// Runs one controller until shutdown, logging failed reconciles; errors requeue with a short delay.
fn finish<K>(
    controller: Controller<K>,
    stop: &CancellationToken,
    ctx: Arc<Ctx>,
    reconcile: Reconciler<K>,
) -> BoxFuture<'static, ()>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let store = controller.store();
    let run = controller
        .graceful_shutdown_on(stop.clone().cancelled_owned())
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, kind = K::kind(&()).as_ref(), "simulator reconcile failed");
            }
            futures::future::ready(())
        });
    let stop = stop.clone();
    async move { controllers::runtime::until_shutdown(run, store, &stop).await }.boxed()
}

fn error_policy<K>(_obj: Arc<K>, err: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "simulator: reconcile failed; retrying");
    Action::requeue(Duration::from_secs(2))
}
