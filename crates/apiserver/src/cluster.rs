//! One served cluster: its durable store, the catalogue of resources it serves (built-ins plus its
//! CRDs, rebuilt whenever a CRD changes so discovery and OpenAPI update at once), the cached OpenAPI
//! documents. Garbage collection, namespace deletion and CRD cleanup are not here: they are
//! controllers (`crates/controllers`) that act through the API like any client.
//!
//! Store layout: `<data-dir>/clusters/<name>/store.db`. On open the cluster is bootstrapped: the
//! namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease` exist, and
//! `kube-public/cluster-info` (a ConfigMap with `name` and `labels` as JSON) describes the cluster,
//! and the PriorityClasses `system-node-critical` and `system-cluster-critical` exist.
//! Once the server listens, `default/kubernetes` (Service, Endpoints, EndpointSlice) points at it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

use apiresources::{Catalogue, ResourceInfo};
use serde_json::{Value, json};
use store::{Key, ListQuery, Store, StoreError, StoreOptions};
use tokio_util::sync::CancellationToken;

use crate::StartError;
use crate::error::ApiError;

/// The store resource key of CRDs.
pub const CRD_RESOURCE: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// Namespaces every cluster has.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The PriorityClasses kube-apiserver makes at start (name, value, description), which charts
/// name for their system Pods.
const SYSTEM_PRIORITY_CLASSES: [(&str, i64, &str); 2] = [
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// One served cluster.
pub struct ClusterState {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Only this crate's handlers reach the store; everything else goes through the API.
    pub(crate) store: Store,
    catalogue: RwLock<Arc<Catalogue>>,
    /// Signalled on each catalogue change (CRDs, computed resources): see `crate::apiservices`.
    catalogue_changed: tokio::sync::Notify,
    openapi: Mutex<Option<Arc<apiresources::openapi::OpenApiV3>>>,
    /// Bumped whenever the catalogue changes: a build that started before is not cached.
    openapi_generation: std::sync::atomic::AtomicU64,
    /// One build at a time; other readers wait for it without holding a runtime thread.
    openapi_build: tokio::sync::Mutex<()>,
    pub shutdown: CancellationToken,
    /// Events expire this long after their last write (`crate::events::expire`).
    event_ttl: std::time::Duration,
    /// See [`crate::Config::require_service_accounts`].
    pub(crate) require_service_accounts: bool,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Computed resources by store resource key (`group/plural`); see `handlers::computed`.
    computed: RwLock<BTreeMap<String, Arc<computed::Tracker>>>,
    /// Projections of stored resources by store resource key; see `handlers::projected`.
    projections: RwLock<BTreeMap<String, Arc<dyn computed::Projection>>>,
}

/// The blocking-pool ceiling the control plane's runtime is built with: 8 threads per core.
/// Store work runs there ([`blocking`]). tokio's default ceiling (512) let a burst of 50 operator
/// installs start 60-75 threads on 2 cores, each with its own allocator heap: the olm lifecycle
/// bench measured RSS 184-195 MB with 50 operators and p50 0.77-0.79 s; with 16 threads 121-127 MB
/// and 0.59-0.70 s (32: 147 MB, 0.83 s). Bounding it is safe: a write waits only for writers
/// already running (group commit), never for one not yet started.
pub fn blocking_threads() -> usize {
    8 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs blocking store work off the async executor.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Runs a short blocking store read (a `get`) without a thread switch: on the multi-threaded
/// runtime in place (`block_in_place` hands this worker's other tasks to another thread only if
/// there are any), else on the blocking pool. Writes, which wait for an fsync and for their commit
/// group, stay on [`blocking`]: in place, many of them would hold every worker.
pub async fn blocking_read<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        return tokio::task::block_in_place(f);
    }
    blocking(f).await
}

impl ClusterState {
    /// Opens (or creates) the cluster's store, loads its CRDs and bootstraps system objects.
    pub fn open(
        data_dir: &std::path::Path,
        spec: &crate::ClusterSpec,
        cfg: &crate::Config,
        shutdown: CancellationToken,
    ) -> Result<Arc<ClusterState>, StartError> {
        let path = data_dir.join("clusters").join(&spec.name).join("store.db");
        let mut opts = StoreOptions::default();
        if let Some(h) = cfg.watch_history {
            opts.history = h as usize;
        }
        let serr = |e: StoreError| StartError::Store {
            cluster: spec.name.clone(),
            path: path.clone(),
            message: e.to_string(),
        };
        let store = Store::open(&path, opts).map_err(serr)?;
        let mut crds = Vec::new();
        let mut q = ListQuery::all(CRD_RESOURCE);
        loop {
            let page = store.list(&q).map_err(serr)?;
            q.start_after = page.next_start();
            crds.extend(page.items.into_iter().map(|s| s.value));
            if q.start_after.is_none() {
                break;
            }
        }
        let (catalogue, errors) = Catalogue::with_crds(crds.iter());
        for e in errors {
            tracing::warn!(cluster = %spec.name, error = %e, "a stored CRD cannot be served");
        }
        let state = Arc::new(ClusterState {
            name: spec.name.clone(),
            labels: spec.labels.clone(),
            store,
            catalogue: RwLock::new(Arc::new(catalogue)),
            catalogue_changed: tokio::sync::Notify::new(),
            openapi: Mutex::new(None),
            openapi_generation: std::sync::atomic::AtomicU64::new(0),
            openapi_build: tokio::sync::Mutex::new(()),
            shutdown,
            event_ttl: cfg.event_ttl,
            require_service_accounts: cfg.require_service_accounts,
            tasks: Mutex::new(Vec::new()),
            computed: RwLock::new(BTreeMap::new()),
            projections: RwLock::new(BTreeMap::new()),
        });
        state.bootstrap().map_err(serr)?;
        Ok(state)
    }

    fn bootstrap(&self) -> Result<(), StoreError> {
        let now = apimachinery::meta::now_rfc3339();
        self.store.write(|t| {
            for ns in SYSTEM_NAMESPACES {
                let ns_object = json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                });
                ensure_object(t, &Key::cluster("namespaces", ns), &ns_object, &[], &now)?;
            }
            for (name, value, description) in SYSTEM_PRIORITY_CLASSES {
                let class = json!({
                    "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                    "metadata": {"name": name},
                    "value": value, "description": description,
                    "globalDefault": false, "preemptionPolicy": "PreemptLowerPriority",
                });
                let key = Key::cluster("scheduling.k8s.io/priorityclasses", name);
                ensure_object(t, &key, &class, &[], &now)?;
            }
            Ok(())
        })?;
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        self.put_configmap(
            "kube-public",
            "cluster-info",
            json!({
                "name": self.name,
                "labels": Value::Object(labels).to_string(),
            }),
        )
    }

    /// The `default/kubernetes` Service, Endpoints and EndpointSlice, pointing at this server
    /// (`ip`:`port`), as kube-apiserver's endpoint reconciler keeps them at start: the Service
    /// (ClusterIP 10.96.0.1, port 443 named `https`) is made once and its target port follows
    /// the server's port; the Endpoints and the EndpointSlice list the server's address. Objects
    /// already right are not written again (no new resourceVersion on every start).
    pub fn reconcile_kubernetes_service(&self, ip: IpAddr, port: u16) -> Result<(), StoreError> {
        let objects = kubernetes_service_objects(ip, port);
        let now = apimachinery::meta::now_rfc3339();
        let kept = [
            "/spec",
            "/subsets",
            "/endpoints",
            "/ports",
            "/addressType",
            "/metadata/labels",
        ];
        self.store.write(|t| {
            for (resource, want) in &objects {
                let key = Key::new(*resource, "default", "kubernetes");
                ensure_object(t, &key, want, &kept, &now)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Creates or updates a ConfigMap with `data` (used for cluster descriptions).
    pub fn put_configmap(
        &self,
        namespace: &str,
        name: &str,
        data: Value,
    ) -> Result<(), StoreError> {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "marketplace"}},
            "data": data,
        });
        let now = apimachinery::meta::now_rfc3339();
        self.store.write(|t| {
            ensure_object(
                t,
                &Key::new("configmaps", namespace, name),
                &cm,
                &["/data"],
                &now,
            )
        })?;
        Ok(())
    }

    /// The current catalogue (cheap to clone).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue.read().expect("catalogue lock").clone()
    }

    /// Adds or replaces the resources of a CRD (after it was stored).
    pub fn upsert_crd(&self, crd: &Value) -> Result<(), apiresources::Error> {
        let mut guard = self.catalogue.write().expect("catalogue lock");
        let mut next = (**guard).clone();
        next.upsert_crd(crd)?;
        *guard = Arc::new(next);
        self.catalogue_swapped();
        Ok(())
    }

    /// Removes the resources of a CRD (after it was deleted).
    pub fn remove_crd(&self, name: &str) {
        let mut guard = self.catalogue.write().expect("catalogue lock");
        let mut next = (**guard).clone();
        next.remove_crd(name);
        *guard = Arc::new(next);
        self.catalogue_swapped();
    }

    /// Adds a computed resource to the catalogue and its tracker to the cluster.
    pub fn add_computed(
        &self,
        info: ResourceInfo,
        tracker: Arc<computed::Tracker>,
    ) -> Result<(), String> {
        let key = info.resource_key();
        let mut guard = self.catalogue.write().expect("catalogue lock");
        let mut next = (**guard).clone();
        next.add_computed(info)?;
        *guard = Arc::new(next);
        self.catalogue_swapped();
        self.computed
            .write()
            .expect("computed lock")
            .insert(key, tracker);
        Ok(())
    }

    /// The tracker of a computed resource by store resource key.
    pub fn computed(&self, resource_key: &str) -> Option<Arc<computed::Tracker>> {
        self.computed
            .read()
            .expect("computed lock")
            .get(resource_key)
            .cloned()
    }

    /// Shows the objects of the stored resource `group`/`plural` also where `projection` says
    /// (copies computed on read; see `handlers::projected`).
    pub fn add_projection(
        &self,
        group: &str,
        plural: &str,
        projection: Arc<dyn computed::Projection>,
    ) {
        let key = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{group}/{plural}")
        };
        self.projections
            .write()
            .expect("projections lock")
            .insert(key, projection);
    }

    /// The projection of a stored resource by store resource key.
    pub fn projection(&self, resource_key: &str) -> Option<Arc<dyn computed::Projection>> {
        let p = self.projections.read().expect("projections lock");
        if p.is_empty() {
            return None;
        }
        p.get(resource_key).cloned()
    }

    /// Runs a background task of this cluster (awaited by [`ClusterState::stop`]).
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks
            .lock()
            .expect("tasks lock")
            .push(tokio::spawn(task));
    }

    /// The OpenAPI v3 documents of the current catalogue, built on first use after a change. The
    /// build (hundreds of milliseconds with large CRDs, seconds on a loaded debug build) runs on
    /// the blocking pool, so discovery, watches and health checks keep being served meanwhile.
    pub async fn openapi(&self) -> Arc<apiresources::openapi::OpenApiV3> {
        use std::sync::atomic::Ordering;
        if let Some(o) = self.openapi.lock().expect("openapi lock").clone() {
            return o;
        }
        let _building = self.openapi_build.lock().await;
        if let Some(o) = self.openapi.lock().expect("openapi lock").clone() {
            return o;
        }
        let generation = self.openapi_generation.load(Ordering::SeqCst);
        let served: Vec<ResourceInfo> = self
            .catalogue()
            .resources()
            .iter()
            .filter(|r| r.served)
            .cloned()
            .collect();
        let o = tokio::task::spawn_blocking(move || {
            Arc::new(apiresources::openapi::OpenApiV3::build(&served))
        })
        .await
        .expect("building the OpenAPI documents does not panic");
        let mut guard = self.openapi.lock().expect("openapi lock");
        if self.openapi_generation.load(Ordering::SeqCst) == generation {
            *guard = Some(o.clone());
        }
        o
    }

    /// Waits for the next change of the catalogue (one that came since the last wait counts).
    pub(crate) async fn catalogue_changed(&self) {
        self.catalogue_changed.notified().await
    }

    /// After the catalogue changed: forgets the OpenAPI documents and tells the APIService
    /// registration.
    fn catalogue_swapped(&self) {
        self.catalogue_changed.notify_one();
        let mut guard = self.openapi.lock().expect("openapi lock");
        self.openapi_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *guard = None;
    }

    /// Starts the cluster's background work inside the API server: Events' expiry and the
    /// APIServices of its groups (`crate::apiservices`). (Garbage
    /// collection and namespace deletion are controllers on the host, `crates/controllers`.)
    pub fn start_background(self: &Arc<Self>, _shared: &Arc<crate::Shared>) {
        let mut tasks = self.tasks.lock().expect("tasks lock");
        tasks.push(tokio::spawn(crate::events::expire(
            self.clone(),
            self.event_ttl,
        )));
        tasks.push(tokio::spawn(crate::apiservices::autoregister(self.clone())));
    }

    /// Waits for the background tasks after shutdown was signalled.
    pub async fn stop(&self) {
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Reads every object of a resource (all namespaces, or one).
    pub fn list_all(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<(Vec<Value>, u64), StoreError> {
        let mut q = ListQuery {
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
            ..Default::default()
        };
        let mut out = Vec::new();
        loop {
            let page = self.store.list(&q)?;
            q.start_after = page.next_start();
            let rev = page.revision;
            out.extend(page.items.into_iter().map(|s| s.value));
            if q.start_after.is_none() {
                return Ok((out, rev));
            }
        }
    }
}

/// Makes the server-owned object `want` exist at `key`, as kube-apiserver's start-up
/// reconcilers do: created with the metadata the server sets (uid, creationTimestamp, and
/// generation 1 where the kind keeps one), or, already there, with the parts at the JSON pointers
/// `kept` brought to `want`'s (a part `want` lacks is left alone); written only when something
/// differs, so a restart adds no resourceVersion.
pub(crate) fn ensure_object(
    t: &mut store::Txn<'_>,
    key: &Key,
    want: &Value,
    kept: &[&str],
    now: &str,
) -> Result<(), StoreError> {
    let Some(cur) = t.get(key)? else {
        let mut v = want.clone();
        let m = &mut v["metadata"];
        m["uid"] = json!(uuid::Uuid::new_v4().to_string());
        m["creationTimestamp"] = json!(now);
        let tracked = apiresources::Gvk::of_object(want).is_some_and(|gvk| {
            apiresources::defaults::generation(&gvk)
                != apiresources::defaults::Generation::Untracked
        });
        if tracked {
            m["generation"] = json!(1);
        }
        t.create(key, v)?;
        return Ok(());
    };
    let mut v = cur.value.clone();
    for pointer in kept {
        let Some(w) = want.pointer(pointer) else {
            continue;
        };
        // Set under its parent (`""`: the object itself), also where the stored object lacks it.
        let (parent, field) = pointer.rsplit_once('/').expect("a JSON pointer");
        if let Some(p) = v.pointer_mut(parent).and_then(Value::as_object_mut) {
            p.insert(field.to_string(), w.clone());
        }
    }
    if v != cur.value {
        if let Some(g) = v.pointer("/metadata/generation").and_then(Value::as_i64) {
            v["metadata"]["generation"] = json!(g + 1);
        }
        t.update(key, v, None)?;
    }
    Ok(())
}

/// What kube-apiserver's endpoint reconciler writes for the API server at `ip`:`port`, by store
/// resource: the `kubernetes` Service, its Endpoints (not mirrored into a slice: the reconciler
/// writes its own) and its EndpointSlice. Server-set metadata (uid, timestamps) is added on create.
fn kubernetes_service_objects(ip: IpAddr, port: u16) -> [(&'static str, Value); 3] {
    let (family, slice_type) = match ip {
        IpAddr::V4(_) => ("IPv4", "IPv4"),
        IpAddr::V6(_) => ("IPv6", "IPv6"),
    };
    let ip = ip.to_string();
    let meta =
        |labels: Value| json!({"name": "kubernetes", "namespace": "default", "labels": labels});
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": meta(json!({"component": "apiserver", "provider": "kubernetes"})),
        "spec": {
            "clusterIP": KUBERNETES_SERVICE_IP, "clusterIPs": [KUBERNETES_SERVICE_IP],
            "internalTrafficPolicy": "Cluster", "ipFamilies": [family], "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None", "type": "ClusterIP",
        },
        "status": {"loadBalancer": {}},
    });
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": meta(json!({"endpointslice.kubernetes.io/skip-mirror": "true"})),
        "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": meta(json!({"kubernetes.io/service-name": "kubernetes"})),
        "addressType": slice_type,
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    [
        ("services", service),
        ("endpoints", endpoints),
        ("discovery.k8s.io/endpointslices", slice),
    ]
}

/// The `kubernetes` Service's ClusterIP: the first address of the service range 10.96.0.0/12,
/// which the ClusterIP defaults never hand out (`apiresources::defaults`).
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// Maps a store error on `info`'s object `name` to the API error kube-apiserver would return.
pub fn store_error(e: StoreError, info: &ResourceInfo, name: &str) -> ApiError {
    match e {
        StoreError::NotFound { .. } => ApiError::not_found(&info.group, &info.plural, name),
        StoreError::AlreadyExists { .. } => {
            ApiError::already_exists(&info.group, &info.plural, name)
        }
        StoreError::Conflict { .. } => ApiError::object_modified(&info.group, &info.plural, name),
        StoreError::Expired { requested, oldest } => ApiError::from(
            apimachinery::ApiError::too_old_resource_version(requested, oldest),
        ),
        StoreError::Aborted(m) => ApiError::internal(m),
        other => ApiError::internal(format!(
            "storage error on {} {name:?}: {other}",
            info.group_resource()
        )),
    }
}
