//! `marketplace operators upgrade --cluster NAME [--dry-run]`: batch approval of the pending
//! upgrades of Alauda operators in one cluster (the logic is `olm::batch`'s).

use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Subcommand)]
pub enum OperatorsCommand {
    /// Approve every pending upgrade of an Alauda operator in a cluster; list the others and why.
    Upgrade(UpgradeArgs),
}

#[derive(clap::Args)]
pub struct UpgradeArgs {
    /// The cluster (a context of the kubeconfig; `marketplace serve` names contexts by cluster).
    #[arg(long)]
    pub cluster: String,
    /// Kubeconfig (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// List what would be approved without approving it.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(cmd: OperatorsCommand) -> anyhow::Result<()> {
    let OperatorsCommand::Upgrade(args) = cmd;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(upgrade(args))
}

async fn client(args: &UpgradeArgs) -> anyhow::Result<kube::Client> {
    let kc = match &args.kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p)
            .with_context(|| format!("cannot read kubeconfig {}", p.display()))?,
        None => kube::config::Kubeconfig::read().context(
            "cannot read the kubeconfig ($KUBECONFIG or ~/.kube/config); pass --kubeconfig",
        )?,
    };
    anyhow::ensure!(
        kc.contexts.iter().any(|c| c.name == args.cluster),
        "--cluster {}: the kubeconfig has no such context (contexts: {})",
        args.cluster,
        kc.contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let opts = kube::config::KubeConfigOptions {
        context: Some(args.cluster.clone()),
        ..Default::default()
    };
    let cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .context("the kubeconfig is not usable")?;
    kube::Client::try_from(cfg).context("cannot build a client")
}

async fn upgrade(args: UpgradeArgs) -> anyhow::Result<()> {
    let client = client(&args).await?;
    let all = olm::batch::candidates(&client)
        .await
        .context("cannot list pending InstallPlans")?;
    if all.is_empty() {
        println!(
            "no InstallPlan in cluster {} is waiting for approval",
            args.cluster
        );
        return Ok(());
    }
    println!("NAMESPACE\tPACKAGE\tFROM\tTO\tINSTALLPLAN\tACTION");
    for c in &all {
        let action = match &c.not_eligible {
            None if args.dry_run => "would approve".to_string(),
            None => "approve".to_string(),
            Some(why) => format!("not eligible: {why}"),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{action}",
            c.namespace,
            c.package,
            c.from.as_deref().unwrap_or("-"),
            c.to,
            c.plan
        );
    }
    if !args.dry_run {
        olm::batch::approve(&client, &all)
            .await
            .context("cannot approve")?;
    }
    Ok(())
}
