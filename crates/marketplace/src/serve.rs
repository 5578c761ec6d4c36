//! `marketplace serve`: the embedded Kubernetes-compatible control plane (flags only; the work is in
//! the `apiserver` crate).

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
    /// Also run the sample ConfigMapGenerator controller (for tests and demos).
    #[arg(long, hide = true)]
    pub enable_sample: bool,
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

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let json_logs = args.log_format == LogFormat::Json;
    let data_dir = args.data_dir.clone();
    let (controllers, sample) = (!args.no_controllers, args.enable_sample);
    let mut cfg = apiserver::Config::new(args.data_dir);
    cfg.listen = args.listen;
    cfg.registry = args.registry;
    cfg.plain_http = args.plain_http;
    cfg.event_ttl = args.event_ttl;
    for c in &args.clusters {
        cfg.clusters.push(apiserver::ClusterSpec::parse(c)?);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
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
        let host = controllers.then(|| start_host(&cp, sample));
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

/// Starts the controller host for every served cluster (in-process clients): the embedded
/// cluster's own controllers (GC, namespaces, CRD cleanup) plus the product's, with the product's
/// CRDs applied first; its counters go to `/metrics`.
fn start_host(cp: &apiserver::ControlPlane, sample: bool) -> controllers::RunningHost {
    let mut sets = controllers::embedded_sets();
    sets.extend(crate::controllers::product_sets(sample));
    let host = controllers::Host::new(sets).install_crds(true);
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
    use super::log_filter;

    #[test]
    fn rustls_is_held_to_errors_unless_rust_log_names_it() {
        assert_eq!(log_filter(None), "info,rustls=error");
        assert_eq!(log_filter(Some("debug")), "debug,rustls=error");
        assert_eq!(log_filter(Some(" ")), "info,rustls=error");
        assert_eq!(log_filter(Some("info,rustls=warn")), "info,rustls=warn");
    }
}
