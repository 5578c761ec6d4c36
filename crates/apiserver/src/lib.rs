//! `apiserver`: the embedded Kubernetes-API-compatible control plane behind `marketplace serve`.
//!
//! It owns the HTTP edge and the request flow: TLS and bearer-token auth, kubeconfigs, URL routing for
//! several clusters (`/kubernetes/<cluster>/...`, global also at `/`), discovery and OpenAPI serving,
//! CRUD/patch/apply/watch handlers, Tables, CRDs registered at run time, finalizers (an object whose
//! deletion is pending goes when its last finalizer does; a terminating namespace when it was
//! finalized and deleted again), and in-process `kube::Client`s for the product's controllers.
//! Garbage collection, namespace deletion and CRD cleanup are controllers in `crates/controllers`
//! that work through those clients.
//!
//! It must not re-implement what its neighbours own: durability, revisions and watch history are the
//! `store` crate's; selectors, patches, server-side apply, JSONPath/Tables, CRD schema validation and
//! Status messages are `apimachinery`'s; the catalogue of built-in kinds, discovery/OpenAPI documents,
//! protobuf decoding, strict decoding and built-in defaults/columns are `apiresources`'. Handlers here
//! are thin glue over those.
//!
//! Module map:
//! - [`config`]: clusters, labels, data-dir layout, persistence of the cluster list.
//! - [`tls`], [`auth`], [`kubeconfig`]: first-start material (CA, serving cert, token, kubeconfigs);
//!   [`auth`] also authenticates (admin, ServiceAccount JWT, user tokens), impersonates and
//!   authorizes every request with RBAC (the `auth` crate's logic).
//! - [`server`]: listener, TLS, hyper connections, graceful shutdown.
//! - [`routes`]: path and query parsing, the dispatcher.
//! - [`error`]: `Status` error responses.
//! - [`client`]: in-process `kube::Client`s.
//! - [`handlers::computed`]: read-only resources computed in memory by a `computed::Provider`
//!   (registered per cluster with [`ControlPlane::register_computed`]), and the standalone
//!   aggregated API server serving them on real clusters.
//! - [`handlers::projected`]: stored resources also shown, as copies computed on read, in other
//!   namespaces by a `computed::Projection` ([`ControlPlane::register_projection`]).
//! - `apiservices`: the `APIService` of each served group/version, kept as the catalogue changes.
//! - [`events`]: events.k8s.io field selectors on the stored core/v1 Events, and Event expiry.
//! - [`validation`]: kube-apiserver's rules for built-in objects beyond their schema (containers,
//!   workload selectors, immutable fields), checked on every create and update.
//! - [`observe`], [`metrics`]: the middleware giving every request an id, a tracing span and its
//!   Prometheus series; `/metrics`.

mod apiservices;
pub mod auth;
pub mod client;
pub mod cluster;
pub mod config;
pub mod crd;
pub mod error;
pub mod events;
mod fsutil;
pub mod handlers;
pub mod health;
pub mod kubeconfig;
pub mod metrics;
pub mod observe;
pub mod routes;
pub mod server;
pub mod tables;
pub mod tls;
pub mod validation;
pub mod watch;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use config::{ClusterSpec, Config, GLOBAL, Mount, MountContext};

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(
        "cannot use data dir {path}: {source}; check it exists or can be created and is writable"
    )]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot listen on {addr}: {source}; is another server using this port? choose another with --listen"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Identity(#[from] auth::IdentityError),
    #[error("cannot open the store of cluster {cluster} at {path}: {message}")]
    Store {
        cluster: String,
        path: PathBuf,
        message: String,
    },
}

/// Shared state of a running control plane, reachable from every handler.
pub struct Shared {
    pub data_dir: PathBuf,
    /// Tokens, ServiceAccount signing, RBAC caches.
    pub identity: Arc<auth::Identity>,
    pub clusters: BTreeMap<String, Arc<cluster::ClusterState>>,
    pub shutdown: CancellationToken,
    pub registry: Option<String>,
    pub metrics: metrics::Metrics,
    /// Routers mounted beside the Kubernetes API by path prefix ([`ControlPlane::mount`]).
    pub mounts: std::sync::RwLock<Vec<(String, axum::Router)>>,
}

impl Shared {
    /// The mounted router serving `path`, if any.
    pub fn mounted(&self, path: &str) -> Option<axum::Router> {
        self.mounts
            .read()
            .expect("mounts lock poisoned")
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, r)| r.clone())
    }
}

/// Makes in-process clients acting as ServiceAccounts (see [`ControlPlane::client_as`]).
#[derive(Clone)]
pub struct ServiceAccountClients {
    shared: Arc<Shared>,
    router: axum::Router,
}

impl ServiceAccountClients {
    /// A client for `cluster` acting as ServiceAccount `namespace/name` (which must exist).
    pub fn client_as(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Result<kube::Client, apimachinery::ApiError> {
        let state = self
            .shared
            .clusters
            .get(cluster)
            .cloned()
            .ok_or(apimachinery::ApiError::UnknownResource)?;
        let shared = self.shared.clone();
        let (namespace, name) = (namespace.to_string(), name.to_string());
        let issue = move || {
            shared
                .identity
                .issue_service_account_token(&state, &namespace, &name, vec![], 3600)
        };
        let first = issue()?;
        let current = std::sync::Mutex::new((first.0, first.1.exp));
        let tokens: client::TokenSource = Arc::new(move || {
            let mut cur = current.lock().map_err(|e| e.to_string())?;
            if cur.1 - auth::now_unix() < 600 {
                let (token, claims) = issue().map_err(|e| e.to_string())?;
                *cur = (token, claims.exp);
            }
            Ok(cur.0.clone())
        });
        Ok(client::in_process_with(
            self.router.clone(),
            cluster,
            tokens,
        ))
    }
}

/// A running control plane.
pub struct ControlPlane {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<tls::TlsMaterial>,
    router: axum::Router,
    server: tokio::task::JoinHandle<()>,
}

impl ControlPlane {
    /// Starts serving: creates or loads the data dir, TLS material, token, stores and kubeconfigs,
    /// binds the listener and returns once requests are accepted.
    pub async fn start(cfg: Config) -> Result<ControlPlane, StartError> {
        let data_dir = cfg.data_dir.clone();
        let dd_err = |source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        };
        std::fs::create_dir_all(&data_dir).map_err(dd_err)?;
        // Fail early and clearly when the dir is not writable.
        let probe = data_dir.join(".write-probe");
        std::fs::write(&probe, b"ok").map_err(dd_err)?;
        let _ = std::fs::remove_file(&probe);

        let list = config::ClusterList::merge(
            config::ClusterList::load(&data_dir)?,
            &cfg.clusters,
            cfg.registry.clone(),
        );
        list.save(&data_dir)?;

        let tls = if cfg.plain_http {
            None
        } else {
            Some(tls::TlsMaterial::load_or_create(
                &data_dir,
                Some(cfg.listen.ip()),
            )?)
        };
        let token = auth::load_or_create_token(&data_dir).map_err(dd_err)?;

        let shutdown = CancellationToken::new();
        let mut clusters = BTreeMap::new();
        for spec in &list.clusters {
            let state = cluster::ClusterState::open(&data_dir, spec, &cfg, shutdown.clone())?;
            auth::bootstrap::ensure_policy_with(&state.store, &cfg.extra_cluster_role_bindings)
                .map_err(|e| StartError::Store {
                    cluster: spec.name.clone(),
                    path: data_dir.join("clusters").join(&spec.name),
                    message: e.to_string(),
                })?;
            clusters.insert(spec.name.clone(), state);
        }
        let identity = Arc::new(auth::Identity::load_or_create(
            &data_dir,
            &token,
            clusters.keys(),
        )?);
        if let Some(global) = clusters.get(GLOBAL) {
            for c in clusters.values() {
                let labels: serde_json::Map<String, serde_json::Value> = c
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                let data = serde_json::json!({"name": c.name, "labels": serde_json::Value::Object(labels).to_string()});
                global
                    .put_configmap("kube-public", &format!("cluster-{}", c.name), data)
                    .map_err(|e| StartError::Store {
                        cluster: GLOBAL.to_string(),
                        path: data_dir.join("clusters").join(GLOBAL),
                        message: e.to_string(),
                    })?;
            }
        }
        let shared = Arc::new(Shared {
            data_dir: data_dir.clone(),
            identity,
            clusters,
            shutdown: shutdown.clone(),
            registry: list.registry.clone(),
            metrics: metrics::Metrics::new(),
            mounts: Default::default(),
        });
        for c in shared.clusters.values() {
            c.start_background(&shared);
        }
        // Mounts are looked up per request, so the router can be built first; they are made
        // before `serve.addr` announces the server, so they answer as soon as it is ready.
        let router = observe::instrument(routes::router(shared.clone()), shared.clone());
        let mount_cx = MountContext {
            identity: shared.identity.clone(),
            registry: shared.registry.clone(),
            clusters: shared.clusters.keys().cloned().collect(),
            data_dir: data_dir.clone(),
            admin_clients: shared
                .clusters
                .keys()
                .map(|c| {
                    let client =
                        client::in_process(router.clone(), c, shared.identity.admin_token());
                    (c.clone(), client)
                })
                .collect(),
        };
        shared
            .mounts
            .write()
            .expect("mounts lock poisoned")
            .extend(cfg.mounts.iter().flat_map(|m| (m.0)(&mount_cx)));

        let listener = server::bind(cfg.listen).await?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        // Where clients reach the server: the address it listens on, loopback if that is all.
        let advertised = match addr.ip() {
            ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        let base = format!(
            "{scheme}://{}",
            std::net::SocketAddr::new(advertised, addr.port())
        );
        for (name, c) in &shared.clusters {
            c.reconcile_kubernetes_service(advertised, addr.port())
                .map_err(|e| StartError::Store {
                    cluster: name.clone(),
                    path: data_dir.join("clusters").join(name),
                    message: format!("cannot write the default/kubernetes Service: {e}"),
                })?;
        }
        for name in shared.clusters.keys() {
            kubeconfig::write(
                &data_dir,
                name,
                &base,
                tls.as_ref().map(|t| t.ca_cert_pem.as_str()),
                shared.identity.admin_token(),
            )
            .map_err(dd_err)?;
        }
        fsutil::write_atomic(
            &data_dir.join("serve.addr"),
            format!("{base}\n").as_bytes(),
            0o644,
        )
        .map_err(dd_err)?;

        let server_tls = match &tls {
            Some(t) => Some(t.server_config()?),
            None => None,
        };
        let server = tokio::spawn(server::run(listener, server_tls, router.clone(), shutdown));
        tracing::info!(%base, clusters = ?shared.clusters.keys().collect::<Vec<_>>(), data_dir = %data_dir.display(), "serving the control plane");
        Ok(ControlPlane {
            shared,
            addr,
            tls,
            router,
            server,
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` with plain HTTP).
    pub fn base_url(&self) -> String {
        std::fs::read_to_string(self.shared.data_dir.join("serve.addr"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The admin bearer token.
    pub fn token(&self) -> &str {
        self.shared.identity.admin_token()
    }

    /// The CA certificate (PEM), unless serving plain HTTP.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_cert_pem.as_str())
    }

    /// Names of the served clusters, `global` first.
    pub fn clusters(&self) -> Vec<String> {
        self.shared.clusters.keys().cloned().collect()
    }

    /// Path of a cluster's kubeconfig.
    pub fn kubeconfig_path(&self, cluster: &str) -> PathBuf {
        kubeconfig::path(&self.shared.data_dir, cluster)
    }

    pub fn data_dir(&self) -> &Path {
        &self.shared.data_dir
    }

    /// A `kube::Client` for `cluster` that calls the API in process (same handlers, no TCP or TLS).
    pub fn client(&self, cluster: &str) -> Option<kube::Client> {
        self.shared.clusters.contains_key(cluster).then(|| {
            client::in_process(
                self.router.clone(),
                cluster,
                self.shared.identity.admin_token(),
            )
        })
    }

    /// Serves `provider`'s computed (read-only) resource in `cluster` from now on (discovery,
    /// OpenAPI, get/list/watch; writes answer 405). See `handlers::computed`.
    pub fn register_computed(
        &self,
        cluster: &str,
        provider: Arc<dyn computed::Provider>,
    ) -> Result<(), handlers::computed::RegisterError> {
        handlers::computed::register(self.registered_cluster(cluster)?, provider).map(|_| ())
    }

    /// Shows the objects of the stored, namespaced resource `group`/`plural` of `cluster` also in
    /// the namespaces `projection` names, as copies computed on read (get, list, watch; writes to
    /// a copy are refused naming the original). Nothing is stored per namespace. See
    /// `handlers::projected`.
    pub fn register_projection(
        &self,
        cluster: &str,
        group: &str,
        plural: &str,
        projection: Arc<dyn computed::Projection>,
    ) -> Result<(), handlers::computed::RegisterError> {
        self.registered_cluster(cluster)?
            .add_projection(group, plural, projection);
        Ok(())
    }

    /// The cluster a registration names, or why not.
    fn registered_cluster(
        &self,
        cluster: &str,
    ) -> Result<&Arc<cluster::ClusterState>, handlers::computed::RegisterError> {
        self.shared
            .clusters
            .get(cluster)
            .ok_or_else(|| handlers::computed::RegisterError::UnknownCluster(cluster.into()))
    }

    /// A served cluster's labels (`--cluster NAME=k=v,...`).
    pub fn cluster_labels(&self, cluster: &str) -> Option<BTreeMap<String, String>> {
        self.shared.clusters.get(cluster).map(|c| c.labels.clone())
    }

    /// The platform's image registry (`HOST:PORT`), if any.
    pub fn registry(&self) -> Option<&str> {
        self.shared.registry.as_deref()
    }

    /// A `kube::Client` for `cluster` acting as ServiceAccount `namespace/name` (which must
    /// exist): each request carries a ServiceAccount token, issued fresh and renewed ten minutes
    /// before it expires, so the account's RBAC applies exactly as to an external client.
    pub fn client_as(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Result<kube::Client, apimachinery::ApiError> {
        self.service_account_clients()
            .client_as(cluster, namespace, name)
    }

    /// A `'static` handle making [`ControlPlane::client_as`] clients (for the controller host,
    /// which gives each controller set its own ServiceAccount).
    pub fn service_account_clients(&self) -> ServiceAccountClients {
        ServiceAccountClients {
            shared: self.shared.clone(),
            router: self.router.clone(),
        }
    }

    /// Issues a platform user token (for a login command): `name` in `groups` plus
    /// `system:authenticated`, valid for `ttl` (`None`: until revoked), persisted hashed in the
    /// data dir so it stays valid across restarts.
    pub fn issue_user_token(
        &self,
        name: &str,
        groups: &[String],
        ttl: Option<std::time::Duration>,
    ) -> Result<String, auth::IdentityError> {
        self.shared.identity.issue_user_token(name, groups, ttl)
    }

    /// The identity services (tokens, revocation, the platform's user token check).
    pub fn identity(&self) -> Arc<auth::Identity> {
        self.shared.identity.clone()
    }

    /// Serves `router` for every path starting with `prefix` (e.g. `/platform/`), beside the
    /// Kubernetes API and before its authentication: the router authenticates its own requests.
    /// Requests carry the client's address as `axum::extract::ConnectInfo<SocketAddr>` (absent
    /// for in-process clients).
    pub fn mount(&self, prefix: &str, router: axum::Router) {
        self.shared
            .mounts
            .write()
            .expect("mounts lock poisoned")
            .push((prefix.to_string(), router));
    }

    /// A token that is cancelled when the control plane shuts down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Renders `registry`'s series on `/metrics` beside the control plane's own (the controller
    /// host's counters).
    pub fn add_metrics(&self, registry: Arc<prometheus_client::registry::Registry>) {
        self.shared.metrics.add_registry(registry);
    }

    /// Stops accepting, ends watches, waits for connections.
    pub async fn shutdown(self) {
        self.shared.shutdown.cancel();
        let _ = self.server.await;
        for c in self.shared.clusters.values() {
            c.stop().await;
        }
        tracing::info!("control plane stopped");
    }
}
