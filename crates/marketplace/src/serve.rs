//! `marketplace serve`: the embedded Kubernetes-compatible control plane (flags only; the work is in
//! the `apiserver` crate).

// The doc comments below are clap's `--help` text, written for a terminal (`<data-dir>`,
// `oci:DIR[:TAG]`), not rustdoc markup.
#![allow(
    rustdoc::invalid_html_tags,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls
)]

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Directory for the stores, TLS material, admin token and kubeconfigs (created if absent).
    #[arg(long, env = "MARKETPLACE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (written to <data-dir>/serve.addr).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// A workload cluster, NAME[=key=value,...] (repeatable; values may be empty). `global` always exists.
    #[arg(long = "cluster", value_name = "NAME[=key=value,...]")]
    pub clusters: Vec<String>,
    /// The platform's image registry, HOST:PORT (plain HTTP is allowed for loopback addresses).
    #[arg(long)]
    pub registry: Option<String>,
    /// Serve plain HTTP instead of TLS (local debugging only).
    #[arg(long)]
    pub plain_http: bool,
    /// Log line format on stderr: `text` for people, `json` (one object per line) for collectors.
    /// Levels come from RUST_LOG (default: info, without per-connection TLS noise).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Do not run the controller host (garbage collection, namespace deletion and the product's
    /// controllers); run them out of process with `marketplace controllers` instead.
    #[arg(long)]
    pub no_controllers: bool,
    /// How long an Event lives after its last write, as kube-apiserver's --event-ttl
    /// (e.g. `1h`, `30m`, `1h30m`, `90s`).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub event_ttl: std::time::Duration,
    /// Turn the workload simulator (the kubelet stand-in that makes Pods run and workloads
    /// become ready) off: everywhere with no value, or in the named clusters
    /// (`--no-simulator=b,c`). Off, workloads stay Pending as on a cluster without nodes.
    #[arg(long, value_name = "CLUSTER,...", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*")]
    pub no_simulator: Option<Vec<String>>,
    /// How many Nodes the simulator gives each cluster.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub simulator_nodes: u32,
    /// Also run the sample ConfigMapGenerator controller (for tests and demos).
    #[arg(long, hide = true)]
    pub enable_sample: bool,
    /// Lifetime of a platform login token (`POST /platform/v1/login`).
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
    pub login_token_ttl: std::time::Duration,
    /// Failed platform logins allowed per user before 429 (one more every 30 s).
    #[arg(long, default_value_t = 5, hide = true)]
    pub login_burst_per_user: u32,
}

/// The simulator's switches for each cluster from `--no-simulator` and `--simulator-nodes`.
fn simulator_settings(
    off: Option<Vec<String>>,
    nodes: u32,
) -> impl Fn(&str) -> simulator::Settings + Send + Sync + 'static {
    move |cluster| simulator::Settings {
        enabled: !off
            .as_ref()
            .is_some_and(|l| l.iter().any(|c| c == "*" || c == cluster)),
        nodes,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Levels without RUST_LOG.
const DEFAULT_FILTER: &str = "info";

/// The log filter: RUST_LOG (else `info`), with rustls held to errors unless RUST_LOG names it.
/// rustls warns once per connection about clients' choices (e.g. an IP address sent as TLS SNI,
/// as wrk and many libraries do), which is noise, not news; failed handshakes are logged by the
/// server itself at debug.
fn log_filter(rust_log: Option<&str>) -> String {
    let spec = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_FILTER);
    if spec.contains("rustls") {
        spec.to_string()
    } else {
        format!("{spec},rustls=error")
    }
}

pub(crate) fn init_logging(format: LogFormat) {
    let spec = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let filter = tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("warning: ignoring RUST_LOG ({e}); logging at {DEFAULT_FILTER}");
        tracing_subscriber::EnvFilter::new(log_filter(None))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_span_list(false).init(),
    }
}

/// Holds `DIR/serve.lock` for as long as the returned file lives, so a second `serve` on the
/// same data dir stops before it starts anything (a registry, a store) and says why.
fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    let path = dir.join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the data dir {} is in use by another `marketplace serve`; stop that one, or give this one another --data-dir",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let json_logs = args.log_format == LogFormat::Json;
    let data_dir = args.data_dir.clone();
    let _in_use = lock_data_dir(&data_dir)?;
    let (controllers, sample) = (!args.no_controllers, args.enable_sample);
    let simulation = simulator_settings(args.no_simulator.clone(), args.simulator_nodes);
    let mut login = platform::Settings {
        token_ttl: args.login_token_ttl,
        ..Default::default()
    };
    login.per_user.burst = args.login_burst_per_user;
    let mut cfg = apiserver::Config::new(args.data_dir);
    cfg.listen = args.listen;
    cfg.registry = args.registry;
    cfg.plain_http = args.plain_http;
    cfg.event_ttl = args.event_ttl;
    // The controller host keeps every namespace's `default` ServiceAccount, so Pods can be held
    // to naming one that exists, as kube-apiserver holds them.
    cfg.require_service_accounts = controllers;
    for c in &args.clusters {
        cfg.clusters.push(apiserver::ClusterSpec::parse(c)?);
    }
    let admin_password = setup_platform(&mut cfg, login)?;
    for name in args.no_simulator.iter().flatten() {
        anyhow::ensure!(
            name == "*"
                || name == apiserver::GLOBAL
                || cfg.clusters.iter().any(|c| &c.name == name),
            "--no-simulator={name}: no such cluster; name `global` or one given with --cluster"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(apiserver::cluster::blocking_threads())
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        // Without --registry, the platform's registry is a supervised docker-registry child.
        let registry = match cfg.registry {
            Some(_) => None,
            None => Some(crate::registry::start(&data_dir, !json_logs).await?),
        };
        if let Some(r) = &registry {
            cfg.registry = Some(r.host().to_string());
        }
        let cp = apiserver::ControlPlane::start(cfg).await?;
        announce_admin(admin_password, json_logs);
        let host = controllers.then(|| start_host(&cp, sample, simulation));
        let kubeconfig = cp.kubeconfig_path(apiserver::GLOBAL);
        if json_logs {
            // Every stderr line is JSON then; the library already logged where it serves.
            tracing::info!(kubeconfig = %kubeconfig.display(), "ready");
        } else {
            eprintln!(
                "serving on {} (kubeconfig: {})",
                cp.base_url(),
                kubeconfig.display()
            );
        }
        wait_for_signal().await?;
        tracing::info!("shutting down");
        if let Some(h) = host {
            h.stop().await;
        }
        cp.shutdown().await;
        if let Some(r) = registry {
            r.shutdown().await;
        }
        anyhow::Ok(())
    })
}

/// Platform users and login: bootstraps `admin` on first start (before the API serves, so a
/// `marketplace user add` racing serve's start cannot be lost), mounts `/platform/v1/...` and binds
/// `platform-admin-system` to cluster-admin in every cluster. Returns where the new admin's
/// password is, on first start.
fn setup_platform(
    cfg: &mut apiserver::Config,
    settings: platform::Settings,
) -> anyhow::Result<Option<PathBuf>> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data dir {}", cfg.data_dir.display()))?;
    let users = platform::Users::new(&cfg.data_dir);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let admin_password = users.bootstrap_admin(now)?;
    users.current()?;
    cfg.mounts.push(platform::Platform::mount(settings));
    cfg.mounts.push(artifacts::charts::mount());
    cfg.mounts.push(console_mount());
    cfg.extra_cluster_role_bindings
        .push(serde_json::to_value(platform::rbac::admin_binding()).context("admin binding")?);
    Ok(admin_password)
}

/// The web console at `/console/` (static files, no auth: its API calls carry the user's token).
fn console_mount() -> apiserver::Mount {
    apiserver::Mount(std::sync::Arc::new(|_| {
        vec![(webconsole::MOUNT.to_string(), webconsole::router())]
    }))
}

fn announce_admin(path: Option<PathBuf>, json_logs: bool) {
    let Some(path) = path else { return };
    if json_logs {
        tracing::info!(user = platform::ADMIN_USER, password_file = %path.display(), "created the platform admin user");
    } else {
        eprintln!(
            "created platform user `{}` (role System/{}); its password is in {} (change it with `marketplace user passwd {} --data-dir ...`)",
            platform::ADMIN_USER,
            platform::ADMIN_ROLE,
            path.display(),
            platform::ADMIN_USER
        );
    }
}

/// Starts the controller host for every served cluster (in-process clients): the embedded
/// cluster's own controllers (GC, namespaces, CRD cleanup, each namespace's default
/// ServiceAccount and root CA, the workload simulator) plus the product's, with the product's
/// CRDs applied first; its counters go to `/metrics`.
fn start_host(
    cp: &apiserver::ControlPlane,
    sample: bool,
    simulation: impl Fn(&str) -> simulator::Settings + Send + Sync + 'static,
) -> controllers::RunningHost {
    let mut sets = controllers::serving_sets(cp.ca_pem().map(str::to_string));
    sets.push(simulator::controller_set(simulation));
    sets.extend(crate::controllers::product_sets(sample));
    // Sets that declare rules (the product's) run as their own least-privilege ServiceAccounts.
    let accounts = cp.service_account_clients();
    let host = controllers::Host::new(sets)
        .install_crds(true)
        .with_identities(std::sync::Arc::new(move |cluster, ns, name| {
            accounts.client_as(cluster, ns, name).map_err(Into::into)
        }));
    for cluster in cp.clusters() {
        // PackageManifests, computed from the catalogs the OLM sets load in this cluster.
        if let Err(e) = cp.register_computed(&cluster, olm::packagemanifest::provider(&cluster)) {
            tracing::error!(cluster = %cluster, error = %e, "cannot serve packagemanifests");
        }
        // Copied CSVs: each CSV also shown in its OperatorGroup's target namespaces, computed on
        // read (never stored).
        if let Err(e) = cp.register_projection(
            &cluster,
            olm::copies::GROUP,
            olm::copies::RESOURCE,
            olm::copies::projection(),
        ) {
            tracing::error!(cluster = %cluster, error = %e, "cannot show copied CSVs");
        }
    }
    cp.add_metrics(host.metrics().registry());
    let targets = cp
        .clusters()
        .into_iter()
        .filter_map(|name| {
            Some(controllers::ClusterTarget {
                client: cp.client(&name)?,
                labels: cp.cluster_labels(&name).unwrap_or_default(),
                global: name == apiserver::GLOBAL,
                registry: cp.registry().map(str::to_string),
                name,
            })
        })
        .collect();
    host.start(targets)
}

pub(crate) async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{log_filter, simulator_settings};

    #[test]
    fn no_simulator_turns_it_off_everywhere_or_in_the_named_clusters() {
        let on_everywhere = simulator_settings(None, 2);
        assert!(on_everywhere("global").enabled && on_everywhere("b").enabled);
        assert_eq!(on_everywhere("b").nodes, 2);
        let off_everywhere = simulator_settings(Some(vec!["*".into()]), 1);
        assert!(!off_everywhere("global").enabled && !off_everywhere("b").enabled);
        let off_in_b = simulator_settings(Some(vec!["b".into(), "c".into()]), 1);
        assert!(off_in_b("global").enabled && !off_in_b("b").enabled && !off_in_b("c").enabled);
    }

    #[test]
    fn rustls_is_held_to_errors_unless_rust_log_names_it() {
        assert_eq!(log_filter(None), "info,rustls=error");
        assert_eq!(log_filter(Some("debug")), "debug,rustls=error");
        assert_eq!(log_filter(Some(" ")), "info,rustls=error");
        assert_eq!(log_filter(Some("info,rustls=warn")), "info,rustls=warn");
    }
}
