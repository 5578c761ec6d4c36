//! Watch-driven garbage collection through the API, as kube-controller-manager's garbage collector:
//! - **background**: an object whose owners (by uid) are all gone is deleted;
//! - **foreground**: an owner deleted with the `foregroundDeletion` finalizer gets its dependents
//!   deleted first (in the foreground themselves), then loses the finalizer;
//! - **orphan**: an owner deleted with the `orphan` finalizer is removed from its dependents'
//!   ownerReferences, then loses the finalizer;
//! - references to owners that are gone are dropped from dependents that still have a live owner.
//!
//! Cost grows with changes, not with object count: one metadata watch (`PartialObjectMetadata`
//! events: the server neither sends nor the collector decodes objects' bodies) per resource that
//! can be listed, watched and deleted (found by discovery, and again whenever a CRD changes), feeding the owner
//! index in [`graph`]; nothing runs when nothing changes. The API server removes an object once
//! its deletion is pending and its last finalizer went away, so removing a finalizer here is
//! enough. Work waits until every watch has listed once (an orphaning must know every dependent).
//! Events are not collected (as kube-controller-manager's default ignored resources).

pub mod graph;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::core::GroupVersionKind;
use kube::core::{DynamicResourceScope, Resource};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::runtime::watcher;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::host::{ClusterContext, ControllerSet};
use graph::{Found, Graph, ObjKey, Observed, OwnerRef, OwnerState, ResId, Uid, Verdict, Work};

/// The controller's name (metrics label, field manager `marketplace-garbage-collector`).
pub const NAME: &str = "garbage-collector";

/// How many API calls the collector has in flight at once.
const PARALLEL: usize = 16;

/// Why the collector stopped.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error("discovery failed: {0}")]
    Discovery(#[source] kube::Error),
    #[error("the watch of CustomResourceDefinitions ended")]
    CrdWatchEnded,
}

/// The controller set (embedded control plane only).
pub fn set() -> ControllerSet {
    ControllerSet::new(NAME, run)
}

/// A watched resource.
struct Res {
    ar: ApiResource,
    namespaced: bool,
    stop: CancellationToken,
}

/// Resources (watched ones by id) and the latest discovery (to resolve owners' kinds).
#[derive(Default)]
struct Resources {
    list: Vec<Res>,
    by_name: HashMap<String, ResId>,
    discovery: Option<Discovery>,
}

struct Shared {
    client: kube::Client,
    graph: Mutex<Graph>,
    resources: RwLock<Resources>,
    /// Dependents kept because an owner's kind was not served when they were checked; checked
    /// again after the next discovery (the owner may have come and gone before its watch began).
    /// While it is not empty the collector also discovers again on a backoff, as a CRD's event can
    /// arrive before discovery serves its kind.
    unresolved: Mutex<HashSet<ObjKey>>,
}

/// The first delay before discovering again for an owner kind nobody serves yet.
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest such delay.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// What the index is fed: an object's metadata from a `PartialObjectMetadata` list or watch (the
/// server sends no bodies), decoded lean: only name, namespace, uid, resourceVersion (the watch
/// resumes from it), ownerReferences, finalizers and deletionTimestamp are kept; managedFields,
/// labels, annotations and the rest are skipped by the parser without being built. kube-rs asks
/// for `as=PartialObjectMetadata` on the list and the watch because `metadata_api()` is true.
#[derive(Clone, Debug, Default)]
struct Meta {
    metadata: ObjectMeta,
}

impl<'de> serde::Deserialize<'de> for Meta {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Meta, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(default)]
            metadata: WireMeta,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct WireMeta {
            name: Option<String>,
            namespace: Option<String>,
            uid: Option<String>,
            resource_version: Option<String>,
            owner_references: Option<Vec<OwnerReference>>,
            finalizers: Option<Vec<String>>,
            deletion_timestamp: Option<Time>,
        }
        let m = Wire::deserialize(d)?.metadata;
        Ok(Meta {
            metadata: ObjectMeta {
                name: m.name,
                namespace: m.namespace,
                uid: m.uid,
                resource_version: m.resource_version,
                owner_references: m.owner_references,
                finalizers: m.finalizers,
                deletion_timestamp: m.deletion_timestamp,
                ..ObjectMeta::default()
            },
        })
    }
}

impl Resource for Meta {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        DynamicObject::kind(dt)
    }

    fn group(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        DynamicObject::group(dt)
    }

    fn version(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        DynamicObject::version(dt)
    }

    fn api_version(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        DynamicObject::api_version(dt)
    }

    fn plural(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        DynamicObject::plural(dt)
    }

    fn metadata_api() -> bool {
        true
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

type Msg = (ResId, Box<watcher::Event<Meta>>);

/// Runs the collector until the cluster's shutdown token fires.
pub async fn run(cx: ClusterContext) -> Result<(), GcError> {
    let shared = Arc::new(Shared {
        client: cx.client.clone(),
        graph: Mutex::new(Graph::default()),
        resources: RwLock::new(Resources::default()),
        unresolved: Mutex::new(HashSet::new()),
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stop = cx.shutdown.child_token();
    let _stop_guard = stop.clone().drop_guard();
    discover(&shared, &tx, &stop).await?;
    let mut pending_sync: HashSet<ResId> = (0..shared.resources.read().expect("lock").list.len())
        .map(|i| i as ResId)
        .collect();
    // CRD changes come in bursts (the host installs dozens of CRDs): the Notify keeps one pending
    // rediscovery however many arrive.
    let rediscover = Arc::new(tokio::sync::Notify::new());
    let crd_watch = tokio::spawn(watch_crds(
        cx.client.clone(),
        rediscover.clone(),
        stop.clone(),
    ));
    let mut queue = WorkQueue::default();
    let mut inflight = FuturesUnordered::new();
    // The backoff of rediscoveries while some owner kind is unserved (reset by a discovery that
    // finds new resources), and the one pending.
    let mut retry_delay = RETRY_FIRST;
    let mut retry: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        while pending_sync.is_empty() && inflight.len() < PARALLEL {
            let Some(w) = queue.pop() else { break };
            inflight.push(process(shared.clone(), cx.clone(), w));
        }
        if retry.is_none()
            && !shared
                .unresolved
                .lock()
                .expect("unresolved lock")
                .is_empty()
        {
            retry = Some(Box::pin(tokio::time::sleep(retry_delay)));
            retry_delay = (retry_delay * 2).min(RETRY_MAX);
        }
        tokio::select! {
            _ = cx.shutdown.cancelled() => return Ok(()),
            _ = async { retry.as_mut().expect("guarded").await }, if retry.is_some() => {
                retry = None;
                rediscover.notify_one();
            }
            _ = rediscover.notified() => {
                if crd_watch.is_finished() {
                    return Err(GcError::CrdWatchEnded);
                }
                let (work, found_new) = discover(&shared, &tx, &stop).await?;
                if found_new {
                    retry_delay = RETRY_FIRST;
                }
                queue.extend(work);
            }
            msg = rx.recv() => match msg {
                None => return Err(GcError::CrdWatchEnded),
                Some((res, ev)) => {
                    let first_sync_done = on_event(&shared, res, *ev, &mut queue);
                    if first_sync_done && pending_sync.remove(&res) && pending_sync.is_empty() {
                        let all = shared.graph.lock().expect("graph lock").all_work();
                        let (live, deps) = shared.graph.lock().expect("graph lock").sizes();
                        tracing::info!(cluster = %cx.name, live, dependents = deps, "garbage collector synced");
                        queue.extend(all);
                    }
                }
            },
            Some(retry) = inflight.next(), if !inflight.is_empty() => {
                if let Some(w) = retry {
                    queue.push(w);
                }
            }
        }
    }
}

/// Deduplicating FIFO of work.
#[derive(Default)]
struct WorkQueue {
    order: VecDeque<Work>,
    queued: HashSet<Work>,
}

impl WorkQueue {
    fn push(&mut self, w: Work) {
        if self.queued.insert(w.clone()) {
            self.order.push_back(w);
        }
    }

    fn extend(&mut self, ws: Vec<Work>) {
        for w in ws {
            self.push(w);
        }
    }

    fn pop(&mut self) -> Option<Work> {
        let w = self.order.pop_front()?;
        self.queued.remove(&w);
        Some(w)
    }
}

/// Discovers the resources the collector watches and starts watches for new ones; stops those
/// that disappeared and returns the work their objects' disappearance makes (with the kept
/// dependents of unserved owner kinds), and whether any resource is new.
async fn discover(
    shared: &Arc<Shared>,
    tx: &mpsc::UnboundedSender<Msg>,
    stop: &CancellationToken,
) -> Result<(Vec<Work>, bool), GcError> {
    let discovery = match Discovery::new(shared.client.clone())
        .exclude(&["events.k8s.io"])
        .run_aggregated()
        .await
    {
        Ok(d) => d,
        Err(_) => Discovery::new(shared.client.clone())
            .exclude(&["events.k8s.io"])
            .run()
            .await
            .map_err(GcError::Discovery)?,
    };
    let found = every_resource(&discovery);
    let mut res = shared.resources.write().expect("resources lock");
    let names: HashSet<String> = found.iter().map(|(ar, _)| resource_name(ar)).collect();
    let mut work = Vec::new();
    let mut found_new = false;
    for (name, id) in &res.by_name {
        let r = &res.list[*id as usize];
        if !names.contains(name) && !r.stop.is_cancelled() {
            // The resource is gone (its CRD was deleted): so are its objects.
            r.stop.cancel();
            let mut g = shared.graph.lock().expect("graph lock");
            g.begin_relist(*id);
            work.extend(g.end_relist(*id));
        }
    }
    for (ar, caps) in found {
        let name = resource_name(&ar);
        if let Some(id) = res.by_name.get(&name)
            && !res.list[*id as usize].stop.is_cancelled()
        {
            continue;
        }
        found_new = true;
        let id = res.list.len() as ResId;
        let token = stop.child_token();
        tokio::spawn(watch_resource(
            shared.client.clone(),
            ar.clone(),
            id,
            tx.clone(),
            token.clone(),
        ));
        res.by_name.insert(name, id);
        res.list.push(Res {
            ar,
            namespaced: caps.scope == Scope::Namespaced,
            stop: token,
        });
    }
    res.discovery = Some(discovery);
    work.extend(
        shared
            .unresolved
            .lock()
            .expect("unresolved lock")
            .drain()
            .map(Work::CheckOwners),
    );
    Ok((work, found_new))
}

/// Every collectable resource of every group once, at the group's preferred version when it has
/// the resource there, else at the first version that does: a group's versions can hold different
/// kinds (`operators.coreos.com` prefers v1, which has OperatorGroup, while Subscription exists
/// only in v1alpha1), and the owners of every kind must be watched.
fn every_resource(discovery: &Discovery) -> Vec<(ApiResource, ApiCapabilities)> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for g in discovery.groups() {
        let preferred = g.preferred_version_or_latest().to_string();
        let versions = std::iter::once(preferred.clone()).chain(
            g.versions()
                .filter(|v| **v != preferred)
                .map(str::to_string),
        );
        for v in versions {
            for (ar, caps) in g.versioned_resources(&v) {
                if collectable(&ar, &caps) && seen.insert(resource_name(&ar)) {
                    found.push((ar, caps));
                }
            }
        }
    }
    found
}

fn resource_name(ar: &ApiResource) -> String {
    format!("{}/{}", ar.group, ar.plural)
}

/// Whether the collector watches a resource: it must be listable, watchable and deletable, and is
/// not an Event (core Events are excluded here, events.k8s.io by discovery).
fn collectable(ar: &ApiResource, caps: &ApiCapabilities) -> bool {
    ["list", "watch", "delete"]
        .iter()
        .all(|v| caps.supports_operation(v))
        && !(ar.group.is_empty() && ar.plural == "events")
}

async fn watch_resource(
    client: kube::Client,
    ar: ApiResource,
    id: ResId,
    tx: mpsc::UnboundedSender<Msg>,
    stop: CancellationToken,
) {
    let api: Api<Meta> = Api::all_with(client, &ar);
    // Copies a projection computes on read (OLM's copied CSVs, labelled `olm.copiedFrom`) are not
    // stored, own nothing and are owned by nothing: not watching them keeps the collector's cost
    // flat in the number of namespaces they are shown in.
    let config = watcher::Config::default().labels("!olm.copiedFrom");
    let mut stream = watcher(api, config).boxed();
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = stream.next() => ev,
        };
        // This event and what arrived meanwhile (read without waiting), then the watch rests
        // for `GATHER`.
        let mut next = Some(ev);
        while let Some(ev) = next {
            if !forward(&ar, id, &tx, ev).await {
                return;
            }
            next = stream.next().now_or_never();
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(GATHER) => {}
        }
    }
}

/// How long a resource's watch lets events gather once one arrived, before it reads them all.
/// Collecting garbage is not urgent, and every create of every resource reaches the collector:
/// read one at a time, each woke this task (about 20 µs of the product's CPU per ConfigMap create,
/// measured with wrk at one connection); gathered, a burst costs one wake-up per window.
const GATHER: Duration = Duration::from_millis(10);

/// Hands one item of a resource's watch to the collector's loop; false when the watch is over
/// (its stream ended, or the loop is gone). An error is retried by the watcher after a pause.
async fn forward(
    ar: &ApiResource,
    id: ResId,
    tx: &mpsc::UnboundedSender<Msg>,
    ev: Option<Result<watcher::Event<Meta>, watcher::Error>>,
) -> bool {
    match ev {
        None => false,
        Some(Ok(ev)) => tx.send((id, Box::new(ev))).is_ok(),
        Some(Err(e)) => {
            tracing::debug!(resource = %ar.plural, error = %e, "garbage collector watch error; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
            true
        }
    }
}

/// Asks for a new discovery whenever a CRD changes (after the initial list); wakes the collector
/// once more when the watch ends, so it notices.
async fn watch_crds(
    client: kube::Client,
    rediscover: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
) {
    let api: Api<CustomResourceDefinition> = Api::all(client);
    let mut stream = watcher(api, watcher::Config::default()).boxed();
    let mut listed = false;
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = stream.next() => ev,
        };
        let changed = match ev {
            None => {
                rediscover.notify_one();
                return;
            }
            Some(Ok(watcher::Event::InitDone)) => {
                let first = !listed;
                listed = true;
                !first
            }
            Some(Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_))) => listed,
            Some(Ok(_)) => false,
            Some(Err(_)) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                false
            }
        };
        if changed {
            rediscover.notify_one();
        }
    }
}

/// Feeds one watch event to the index; returns true on the end of a (re)list.
fn on_event(shared: &Shared, res: ResId, ev: watcher::Event<Meta>, queue: &mut WorkQueue) -> bool {
    let mut g = shared.graph.lock().expect("graph lock");
    match ev {
        watcher::Event::Init => {
            g.begin_relist(res);
            false
        }
        watcher::Event::InitApply(o) | watcher::Event::Apply(o) => {
            if let Some(obs) = observed(res, &o) {
                queue.extend(g.observe(obs));
            }
            false
        }
        watcher::Event::Delete(o) => {
            if let Some(obs) = observed(res, &o) {
                queue.extend(g.forget(&obs.key, obs.uid));
            }
            false
        }
        watcher::Event::InitDone => {
            queue.extend(g.end_relist(res));
            true
        }
    }
}

/// What the index needs of an object (None without a uid or name).
fn observed(res: ResId, o: &Meta) -> Option<Observed> {
    let m = &o.metadata;
    let uid_text = m.uid.as_deref()?;
    let finalizers = m.finalizers.as_deref().unwrap_or_default();
    Some(Observed {
        key: ObjKey {
            res,
            namespace: m.namespace.clone(),
            name: m.name.clone()?,
        },
        uid: graph::uid_of(uid_text),
        owners: m
            .owner_references
            .iter()
            .flatten()
            .map(|r| OwnerRef {
                api_version: r.api_version.clone(),
                kind: r.kind.clone(),
                name: r.name.clone(),
                uid: graph::uid_of(&r.uid),
                uid_text: r.uid.clone(),
            })
            .collect(),
        deleting: m.deletion_timestamp.is_some(),
        foreground: finalizers.iter().any(|f| f == "foregroundDeletion"),
        orphan: finalizers.iter().any(|f| f == "orphan"),
    })
}

/// Does one piece of work; returns it when it must be retried (after a short delay).
async fn process(shared: Arc<Shared>, cx: ClusterContext, w: Work) -> Option<Work> {
    let result = match &w {
        Work::CheckOwners(key) => check_owners(&shared, key).await,
        Work::Foreground(key, uid) => finish_foreground(&shared, key, *uid).await,
        Work::Orphan(key, uid) => orphan(&shared, key, *uid).await,
    };
    match result {
        Ok(()) => {
            cx.metrics.reconciled(NAME, &cx.name, true);
            None
        }
        Err(e) => {
            cx.metrics.reconciled(NAME, &cx.name, false);
            tracing::warn!(cluster = %cx.name, controller = NAME, work = ?w, error = %e, "garbage collection step failed; retrying");
            tokio::select! {
                _ = cx.shutdown.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            Some(w)
        }
    }
}

fn api_for(shared: &Shared, key: &ObjKey) -> Option<Api<DynamicObject>> {
    let res = shared.resources.read().expect("resources lock");
    let r = res.list.get(key.res as usize)?;
    Some(match (&key.namespace, r.namespaced) {
        (Some(ns), true) => Api::namespaced_with(shared.client.clone(), ns, &r.ar),
        _ => Api::all_with(shared.client.clone(), &r.ar),
    })
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

async fn check_owners(shared: &Shared, key: &ObjKey) -> Result<(), kube::Error> {
    let Some(owners) = shared
        .graph
        .lock()
        .expect("graph lock")
        .owners_of(key)
        .map(<[OwnerRef]>::to_vec)
    else {
        return Ok(());
    };
    let mut found = Vec::with_capacity(owners.len());
    for r in &owners {
        let state = shared.graph.lock().expect("graph lock").owner_state(r.uid);
        let f = match state {
            OwnerState::Present => Found::Present,
            OwnerState::WaitingForDependents => Found::Waiting,
            OwnerState::Unknown => lookup_owner(shared, key, r).await?,
        };
        found.push((r.uid, f));
    }
    let Some(api) = api_for(shared, key) else {
        return Ok(());
    };
    match graph::verdict(&found) {
        Verdict::Keep { drop_refs } if drop_refs.is_empty() => Ok(()),
        Verdict::Keep { drop_refs } => {
            let uids: Vec<String> = owners
                .iter()
                .filter(|r| drop_refs.contains(&r.uid))
                .map(|r| r.uid_text.clone())
                .collect();
            remove_owner_refs(&api, &key.name, &uids).await
        }
        Verdict::DeleteBackground => delete_dependent(shared, &api, key, false).await,
        Verdict::DeleteForeground => delete_dependent(shared, &api, key, true).await,
    }
}

/// Asks the API whether an owner the index has not seen exists (same uid).
async fn lookup_owner(shared: &Shared, dep: &ObjKey, r: &OwnerRef) -> Result<Found, kube::Error> {
    let resolved = {
        let res = shared.resources.read().expect("resources lock");
        let (group, version) = match r.api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), r.api_version.clone()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, &r.kind);
        res.discovery.as_ref().and_then(|d| d.resolve_gvk(&gvk))
    };
    let Some((ar, caps)) = resolved else {
        // A kind the cluster does not serve (yet): never delete on a guess; look again after the
        // next discovery (a CRD change, or the collector's retry while this set is not empty).
        shared
            .unresolved
            .lock()
            .expect("unresolved lock")
            .insert(dep.clone());
        return Ok(Found::Present);
    };
    let api: Api<DynamicObject> = match (&dep.namespace, caps.scope == Scope::Namespaced) {
        (Some(ns), true) => Api::namespaced_with(shared.client.clone(), ns, &ar),
        (None, true) => return Ok(Found::Gone),
        _ => Api::all_with(shared.client.clone(), &ar),
    };
    Ok(match api.get_opt(&r.name).await? {
        Some(o) if o.metadata.uid.as_deref() == Some(r.uid_text.as_str()) => {
            let fin = o.metadata.finalizers.as_deref().unwrap_or_default();
            if o.metadata.deletion_timestamp.is_some()
                && fin.iter().any(|f| f == "foregroundDeletion")
            {
                Found::Waiting
            } else {
                Found::Present
            }
        }
        _ => Found::Gone,
    })
}

async fn delete_dependent(
    shared: &Shared,
    api: &Api<DynamicObject>,
    key: &ObjKey,
    foreground: bool,
) -> Result<(), kube::Error> {
    let uid = shared.graph.lock().expect("graph lock").dependent_uid(key);
    let mut dp = if foreground {
        DeleteParams::foreground()
    } else {
        DeleteParams::background()
    };
    if let Some(u) = uid {
        dp.preconditions = Some(Preconditions {
            uid: Some(uuid::Uuid::from_u128(u).to_string()),
            resource_version: None,
        });
    }
    match api.delete(&key.name, &dp).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes ownerReferences with the given uids (read, filter, write with the read resourceVersion;
/// a conflict is retried by the caller).
async fn remove_owner_refs(
    api: &Api<DynamicObject>,
    name: &str,
    uids: &[String],
) -> Result<(), kube::Error> {
    let Some(cur) = api.get_opt(name).await? else {
        return Ok(());
    };
    let refs = cur.metadata.owner_references.clone().unwrap_or_default();
    let kept: Vec<_> = refs.iter().filter(|r| !uids.contains(&r.uid)).collect();
    if kept.len() == refs.len() {
        return Ok(());
    }
    let patch = json!({"metadata": {
        "ownerReferences": if kept.is_empty() { serde_json::Value::Null } else { json!(kept) },
        "resourceVersion": cur.metadata.resource_version,
    }});
    merge_patch_unless_gone(api, name, &patch).await
}

/// Merge-patches `name` (the patch carries the resourceVersion it was computed from); an object
/// deleted meanwhile needs nothing more.
async fn merge_patch_unless_gone(
    api: &Api<DynamicObject>,
    name: &str,
    patch: &serde_json::Value,
) -> Result<(), kube::Error> {
    match api
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes `finalizer` from the object (read, filter, write with the read resourceVersion).
async fn remove_finalizer(
    api: &Api<DynamicObject>,
    name: &str,
    finalizer: &str,
) -> Result<(), kube::Error> {
    let Some(cur) = api.get_opt(name).await? else {
        return Ok(());
    };
    let fins = cur.metadata.finalizers.clone().unwrap_or_default();
    if !fins.iter().any(|f| f == finalizer) {
        return Ok(());
    }
    let kept: Vec<&String> = fins.iter().filter(|f| *f != finalizer).collect();
    let patch = json!({"metadata": {
        "finalizers": kept,
        "resourceVersion": cur.metadata.resource_version,
    }});
    merge_patch_unless_gone(api, name, &patch).await
}

async fn finish_foreground(shared: &Shared, key: &ObjKey, uid: Uid) -> Result<(), kube::Error> {
    let (waiting, deps) = {
        let g = shared.graph.lock().expect("graph lock");
        (
            g.owner_state(uid) == OwnerState::WaitingForDependents,
            g.dependents_of(uid),
        )
    };
    if !waiting || !deps.is_empty() {
        return Ok(());
    }
    let Some(api) = api_for(shared, key) else {
        return Ok(());
    };
    remove_finalizer(&api, &key.name, "foregroundDeletion").await
}

async fn orphan(shared: &Shared, key: &ObjKey, uid: Uid) -> Result<(), kube::Error> {
    let deps = shared.graph.lock().expect("graph lock").dependents_of(uid);
    let uid_text = uuid::Uuid::from_u128(uid).to_string();
    for d in deps {
        let Some(api) = api_for(shared, &d) else {
            continue;
        };
        let texts: Vec<String> = shared
            .graph
            .lock()
            .expect("graph lock")
            .owners_of(&d)
            .unwrap_or_default()
            .iter()
            .filter(|r| r.uid == uid)
            .map(|r| r.uid_text.clone())
            .chain(std::iter::once(uid_text.clone()))
            .collect();
        remove_owner_refs(&api, &d.name, &texts).await?;
    }
    let Some(api) = api_for(shared, key) else {
        return Ok(());
    };
    remove_finalizer(&api, &key.name, "orphan").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_object_metadata_decodes_to_what_the_index_needs_and_nothing_else() {
        let m: Meta = serde_json::from_value(json!({
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": {
                "name": "a", "namespace": "n", "uid": "0b6a3b1c-98c1-4c8e-9a39-1d2f1e4c7a10",
                "resourceVersion": "7", "labels": {"x": "y"}, "annotations": {"k": "v"},
                "finalizers": ["orphan"], "deletionTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o",
                                     "uid": "u1", "controller": true}],
                "managedFields": [{"manager": "m", "operation": "Update",
                                   "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}],
            },
        }))
        .unwrap();
        let o = observed(3, &m).unwrap();
        assert_eq!(o.key.name, "a");
        assert_eq!(o.key.namespace.as_deref(), Some("n"));
        assert_eq!(o.owners.len(), 1);
        assert_eq!(o.owners[0].uid_text, "u1");
        assert!(o.deleting && o.orphan && !o.foreground);
        assert_eq!(m.metadata.resource_version.as_deref(), Some("7"));
        assert!(m.metadata.managed_fields.is_none() && m.metadata.labels.is_none());
        // A bookmark-like object with no metadata still decodes (and is not observed).
        let empty: Meta = serde_json::from_value(json!({"kind": "PartialObjectMetadata"})).unwrap();
        assert!(observed(0, &empty).is_none());
    }
}
