//! `marketplace controllers` (the product's controllers against real clusters, through
//! kubeconfigs) and `marketplace crds` (the CRDs they need, for `kubectl apply -f -`). Flags only;
//! the host and the controllers live in the `controllers` crate.

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
}

#[derive(clap::Args)]
pub struct CrdsArgs {
    /// Include the sample ConfigMapGenerator CRD.
    #[arg(long, hide = true)]
    pub enable_sample: bool,
}

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
        crate::serve::wait_for_signal().await?;
        tracing::info!("stopping controllers");
        host.stop().await;
        let _ = std::fs::remove_dir_all(&tokens);
        anyhow::Ok(())
    })
}

pub fn crds(args: CrdsArgs) -> anyhow::Result<()> {
    let crds: Vec<_> = product_sets(args.enable_sample)
        .iter()
        .flat_map(|s| s.crds().to_vec())
        .collect();
    print!("{}", controllers::crds::to_yaml(&crds)?);
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
