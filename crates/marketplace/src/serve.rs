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
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let data_dir = args.data_dir.clone();
    let mut cfg = apiserver::Config::new(args.data_dir);
    cfg.listen = args.listen;
    cfg.registry = args.registry;
    cfg.plain_http = args.plain_http;
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
            None => Some(crate::registry::start(&data_dir).await?),
        };
        if let Some(r) = &registry {
            cfg.registry = Some(r.host().to_string());
        }
        let cp = apiserver::ControlPlane::start(cfg).await?;
        eprintln!(
            "serving on {} (kubeconfig: {})",
            cp.base_url(),
            cp.kubeconfig_path(apiserver::GLOBAL).display()
        );
        wait_for_signal().await?;
        tracing::info!("shutting down");
        cp.shutdown().await;
        if let Some(r) = registry {
            r.shutdown().await;
        }
        anyhow::Ok(())
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
