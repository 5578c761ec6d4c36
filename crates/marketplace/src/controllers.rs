//! `marketplace controllers` (the product's controllers against real clusters, through
//! kubeconfigs, plus the PackageManifest API served as an aggregated API) and `marketplace crds`
//! (the CRDs they need, and the Service + APIService of that aggregated API, for `kubectl apply
//! -f -`). Flags only; the host and the controllers live in the `controllers` crate.

use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct ControllersArgs {
    /// Kubeconfig of the global cluster.
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// A workload cluster, NAME=KUBECONFIG (repeatable).
    #[arg(long = "cluster", value_name = "NAME=KUBECONFIG")]
    pub clusters: Vec<String>,
    /// The platform's image registry, HOST:PORT.
    #[arg(long)]
    pub registry: Option<String>,
    /// Also run the sample ConfigMapGenerator controller (for tests and demos).
    #[arg(long, hide = true)]
    pub enable_sample: bool,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = crate::serve::LogFormat::Text)]
    pub log_format: crate::serve::LogFormat,
    /// Serve the global cluster's PackageManifests (computed from the catalogs these controllers
    /// load) as an aggregated API on this address, HTTPS, e.g. `0.0.0.0:8443`; register it with
    /// `marketplace crds --apiservice | kubectl apply -f -`.
    #[arg(long, value_name = "HOST:PORT")]
    pub serve_packages: Option<std::net::SocketAddr>,
    /// Where the aggregated API's CA and serving certificate are kept (`<dir>/pki/`, created on
    /// first start); give the same directory's `pki/ca.crt` to `crds --apiservice --ca-file`.
    #[arg(long, value_name = "DIR", requires = "serve_packages")]
    pub tls_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CrdsArgs {
    /// Include the sample ConfigMapGenerator CRD.
    #[arg(long, hide = true)]
    pub enable_sample: bool,
    /// Also print the Service and APIService that route `packages.operators.coreos.com` to
    /// `marketplace controllers --serve-packages` (Pods labelled
    /// `app.kubernetes.io/name=marketplace-controllers`).
    #[arg(long)]
    pub apiservice: bool,
    /// Namespace of that Service.
    #[arg(long, default_value = "cpaas-system", requires = "apiservice")]
    pub apiservice_namespace: String,
    /// The port `--serve-packages` listens on in the Pod.
    #[arg(long, default_value_t = 8443, requires = "apiservice")]
    pub apiservice_port: u16,
    /// The CA of the serving certificate (`<tls-dir>/pki/ca.crt`); without it the APIService
    /// skips TLS verification.
    #[arg(long, value_name = "FILE", requires = "apiservice")]
    pub ca_file: Option<PathBuf>,
}

/// The Service name the APIService routes to.
const PACKAGES_SERVICE: &str = "marketplace-packages";

/// The product's controller sets (those that also run on real clusters).
pub fn product_sets(sample: bool) -> Vec<controllers::ControllerSet> {
    let mut sets = vec![artifacts::set()];
    if sample {
        sets.push(controllers::samples::set());
    }
    sets.extend(olm::sets());
    // Cluster plugins (ModuleInfo → Helm releases in the target clusters; acts in global only).
    sets.push(plugins::set());
    sets
}

/// `NAME=KUBECONFIG`.
fn parse_cluster(s: &str) -> anyhow::Result<(String, PathBuf)> {
    match s.split_once('=') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
        _ => anyhow::bail!(
            "--cluster {s:?}: expected NAME=KUBECONFIG, e.g. --cluster b=/path/to/b.kubeconfig"
        ),
    }
}

async fn client_from(path: &std::path::Path) -> anyhow::Result<(kube::Config, kube::Client)> {
    let kc = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .with_context(|| format!("kubeconfig {} is not usable", path.display()))?;
    let client = kube::Client::try_from(cfg.clone())
        .with_context(|| format!("no client for {}", path.display()))?;
    Ok((cfg, client))
}

pub fn run(args: ControllersArgs) -> anyhow::Result<()> {
    crate::serve::init_logging(args.log_format);
    let mut named = vec![(apiserver::GLOBAL.to_string(), args.kubeconfig.clone())];
    for c in &args.clusters {
        let (n, p) = parse_cluster(c)?;
        anyhow::ensure!(
            !named.iter().any(|(m, _)| *m == n),
            "--cluster {n} is given twice (global is --kubeconfig)"
        );
        named.push((n, p));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let mut targets = Vec::new();
        let mut configs = std::collections::BTreeMap::new();
        for (name, path) in named {
            let (cfg, client) = client_from(&path).await?;
            configs.insert(name.clone(), (cfg, client.clone()));
            targets.push(controllers::ClusterTarget {
                client,
                global: name == apiserver::GLOBAL,
                labels: Default::default(),
                registry: args.registry.clone(),
                name,
            });
        }
        let sets = product_sets(args.enable_sample);
        if sets.is_empty() {
            tracing::warn!("no controller sets are registered; waiting for a signal");
        }
        // Sets that declare rules run as their own ServiceAccounts, with TokenRequest tokens.
        let tokens =
            std::env::temp_dir().join(format!("marketplace-controllers-{}", std::process::id()));
        let identities = controllers::identity::token_request_factory(configs, tokens.clone());
        let host = controllers::Host::new(sets)
            .with_identities(identities)
            .start(targets);
        let stop = tokio_util::sync::CancellationToken::new();
        let packages = match args.serve_packages {
            Some(addr) => Some(serve_packages(addr, args.tls_dir.as_deref(), stop.clone()).await?),
            None => None,
        };
        crate::serve::wait_for_signal().await?;
        tracing::info!("stopping controllers");
        stop.cancel();
        if let Some(p) = packages {
            p.wait().await;
        }
        host.stop().await;
        let _ = std::fs::remove_dir_all(&tokens);
        anyhow::Ok(())
    })
}

/// The global cluster's PackageManifest provider as a standalone HTTPS aggregated API server.
async fn serve_packages(
    addr: std::net::SocketAddr,
    tls_dir: Option<&std::path::Path>,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<apiserver::handlers::computed::AggregatedServer> {
    let material = match tls_dir {
        Some(dir) => apiserver::tls::TlsMaterial::load_or_create(dir, Some(addr.ip()))
            .with_context(|| format!("TLS material in {}", dir.display()))?,
        None => {
            tracing::warn!(
                "--serve-packages without --tls-dir: a new CA every start, so the APIService must skip TLS verification"
            );
            apiserver::tls::TlsMaterial::generate(Some(addr.ip()))?
        }
    };
    let provider = olm::packagemanifest::provider(apiserver::GLOBAL);
    let server = apiserver::handlers::computed::serve_aggregated(
        vec![provider],
        addr,
        Some(material.server_config()?),
        stop,
    )
    .await
    .with_context(|| format!("cannot serve packagemanifests on {addr}"))?;
    eprintln!("serving packagemanifests on https://{}", server.addr());
    Ok(server)
}

pub fn crds(args: CrdsArgs) -> anyhow::Result<()> {
    let crds: Vec<_> = product_sets(args.enable_sample)
        .iter()
        .flat_map(|s| s.crds().to_vec())
        .collect();
    print!("{}", controllers::crds::to_yaml(&crds)?);
    if args.apiservice {
        let ca = match &args.ca_file {
            Some(f) => Some(
                std::fs::read_to_string(f)
                    .with_context(|| format!("--ca-file {}: cannot read it", f.display()))?,
            ),
            None => None,
        };
        let description = olm::packagemanifest::provider(apiserver::GLOBAL).describe();
        let placement = apiserver::handlers::computed::Placement {
            namespace: &args.apiservice_namespace,
            service: PACKAGES_SERVICE,
            target_port: args.apiservice_port,
            ca_pem: ca.as_deref(),
        };
        print!(
            "---\n{}",
            apiserver::handlers::computed::aggregated_manifests(&[description], &placement)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_name_equals_kubeconfig() {
        assert_eq!(
            parse_cluster("b=/tmp/b.kubeconfig").unwrap(),
            ("b".to_string(), PathBuf::from("/tmp/b.kubeconfig"))
        );
        for bad in ["b", "=x", "b="] {
            let e = parse_cluster(bad).unwrap_err().to_string();
            assert!(e.contains("NAME=KUBECONFIG"), "{e}");
        }
    }
}
