//! `marketplace chart install|upgrade|rollback|uninstall|list|history|status|get|diff`: Helm
//! releases with Helm's flags and output, against a kubeconfig or a `serve` cluster by name. Flags
//! and printing only; the work is `release::Installer`'s.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use release::{Installer, Release, Status};

use crate::chart::{RegistryArgs, ValueArgs};

/// Which cluster to talk to.
#[derive(clap::Args, Clone)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", conflicts_with = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// A cluster of a running `marketplace serve` (its `<data-dir>/kubeconfigs/NAME.kubeconfig`).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// `serve`'s data directory, for --cluster.
    #[arg(long, env = "MARKETPLACE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Namespace of the release.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
}

/// Output format of list, history and status.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Flags shared by install, upgrade and diff.
#[derive(clap::Args)]
pub struct InstallArgs {
    /// Release name.
    pub name: String,
    /// Chart directory, packaged chart (.tgz) or oci:// reference.
    pub chart: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub vals: ValueArgs,
    /// Chart version, for oci:// charts.
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Wait until workloads (Deployments, StatefulSets, DaemonSets, Jobs, Pods, PVCs, Services) are ready.
    #[arg(long)]
    pub wait: bool,
    /// Bound on hooks and --wait, e.g. 5m0s, 90s.
    #[arg(long, default_value = "5m0s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// On failure, uninstall a new release or roll an upgrade back.
    #[arg(long, alias = "rollback-on-failure")]
    pub atomic: bool,
    /// `--dry-run=server`: everything is checked by the server, nothing is changed.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "server")]
    pub dry_run: Option<String>,
    /// Upgrade: install when the release does not exist.
    #[arg(short = 'i', long)]
    pub install: bool,
    /// Upgrade: revisions to keep (0: no limit).
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
    /// Output format of the resulting release.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    pub name: String,
    /// Revision to roll back to (default: the previous one).
    pub revision: Option<i64>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[arg(long)]
    pub wait: bool,
    #[arg(long, default_value = "5m0s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    #[arg(long, default_value_t = 10)]
    pub history_max: usize,
}

#[derive(clap::Args)]
pub struct NameArgs {
    pub name: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Output,
    /// A revision (default: the latest).
    #[arg(long)]
    pub revision: Option<i64>,
    /// `get values`: all computed values, not only the user-supplied ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// `uninstall`: bound on delete hooks.
    #[arg(long, default_value = "5m0s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Releases of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Every status, not only deployed and failed.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Output,
}

/// `chart get ...`.
#[derive(clap::Subcommand)]
pub enum GetCommand {
    /// Print the release manifest.
    Manifest(NameArgs),
    /// Print the release's values (user-supplied, or all with -a).
    Values(NameArgs),
}

/// The release subcommands of `marketplace chart`.
pub enum ReleaseCommand {
    Install(InstallArgs),
    Upgrade(InstallArgs),
    Diff(InstallArgs),
    Rollback(RollbackArgs),
    Uninstall(NameArgs),
    List(ListArgs),
    History(NameArgs),
    Status(NameArgs),
    Get(GetCommand),
}

/// Runs a release subcommand; errors print as Helm's (`Error: ...`) and exit with status 1.
pub fn run(cmd: ReleaseCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match rt.block_on(dispatch(cmd)) {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn dispatch(cmd: ReleaseCommand) -> anyhow::Result<String> {
    match cmd {
        ReleaseCommand::Install(a) => install(a, false).await,
        ReleaseCommand::Upgrade(a) => install(a, true).await,
        ReleaseCommand::Diff(a) => diff(a).await,
        ReleaseCommand::Rollback(a) => {
            let inst = installer(&a.cluster).await?.history_max(a.history_max);
            inst.rollback(&a.name, &a.cluster.namespace, a.revision, a.wait, a.timeout)
                .await?;
            Ok("Rollback was a success! Happy Helming!\n".into())
        }
        ReleaseCommand::Uninstall(a) => {
            let inst = installer(&a.cluster).await?;
            inst.uninstall_within(&a.name, &a.cluster.namespace, a.timeout)
                .await
                .map_err(|e| match e {
                    release::Error::NotFound(n) => {
                        anyhow::anyhow!("uninstall: Release not loaded: {n}: release: not found")
                    }
                    other => anyhow::anyhow!("uninstall: {other}"),
                })?;
            Ok(format!("release \"{}\" uninstalled\n", a.name))
        }
        ReleaseCommand::List(a) => {
            let inst = installer(&a.cluster).await?;
            let ns = (!a.all_namespaces).then_some(a.cluster.namespace.as_str());
            let rels: Vec<Release> = inst
                .list(ns)
                .await?
                .into_iter()
                .filter(|r| a.all || matches!(r.info.status, Status::Deployed | Status::Failed))
                .collect();
            render_list(&rels, a.output)
        }
        ReleaseCommand::History(a) => {
            let inst = installer(&a.cluster).await?;
            let hist = inst.history(&a.name, &a.cluster.namespace).await?;
            anyhow::ensure!(!hist.is_empty(), "release: not found");
            render_history(&hist, a.output)
        }
        ReleaseCommand::Status(a) => {
            let inst = installer(&a.cluster).await?;
            let r = inst
                .status(&a.name, &a.cluster.namespace, a.revision)
                .await?;
            render_release(&r, a.output)
        }
        ReleaseCommand::Get(GetCommand::Manifest(a)) => {
            let inst = installer(&a.cluster).await?;
            let r = inst
                .status(&a.name, &a.cluster.namespace, a.revision)
                .await?;
            Ok(format!("{}\n", r.manifest))
        }
        ReleaseCommand::Get(GetCommand::Values(a)) => {
            let inst = installer(&a.cluster).await?;
            let r = inst
                .status(&a.name, &a.cluster.namespace, a.revision)
                .await?;
            get_values(&r, a.all, a.output)
        }
    }
}

/// The cluster client: --kubeconfig, --cluster NAME of `serve`, or the default kubeconfig.
async fn client(a: &ClusterArgs) -> anyhow::Result<kube::Client> {
    let path = match (&a.kubeconfig, &a.cluster) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(name)) => {
            let dir = a.data_dir.as_ref().context(
                "--cluster needs serve's data directory: pass --data-dir or set MARKETPLACE_DATA_DIR",
            )?;
            let p = dir.join("kubeconfigs").join(format!("{name}.kubeconfig"));
            anyhow::ensure!(
                p.is_file(),
                "--cluster {name}: {} does not exist; is `marketplace serve --data-dir {}` running with that cluster?",
                p.display(),
                dir.display()
            );
            Some(p)
        }
        (None, None) => None,
    };
    let Some(path) = path else {
        return kube::Client::try_default()
            .await
            .context("no cluster: pass --kubeconfig FILE or --cluster NAME");
    };
    let kc = kube::config::Kubeconfig::read_from(&path)
        .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .with_context(|| format!("kubeconfig {} is not usable", path.display()))?;
    kube::Client::try_from(cfg).with_context(|| format!("no client for {}", path.display()))
}

async fn installer(a: &ClusterArgs) -> anyhow::Result<Installer> {
    Ok(Installer::new(client(a).await?))
}

fn options(a: &InstallArgs) -> anyhow::Result<release::InstallOptions> {
    let chart = crate::chart::load_chart_ref(&a.chart, a.version.as_deref(), &a.registry)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let values = crate::chart::user_values(&a.vals).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut o = release::InstallOptions::new(&a.name, &a.cluster.namespace, chart);
    o.values = serde_json::Value::Object(values);
    o.wait = a.wait;
    o.timeout = a.timeout;
    o.atomic = a.atomic;
    o.create_namespace = a.create_namespace;
    Ok(o)
}

async fn install(a: InstallArgs, upgrade: bool) -> anyhow::Result<String> {
    let dry_run = match a.dry_run.as_deref() {
        None | Some("none") | Some("false") => false,
        Some("server") => true,
        Some(other) => anyhow::bail!(
            "--dry-run={other} is not supported: use --dry-run=server (checked by the cluster, nothing changed)"
        ),
    };
    // The chart is loaded (maybe pulled) before the cluster is contacted.
    let opts = tokio::task::block_in_place(|| options(&a))?;
    let inst = installer(&a.cluster)
        .await?
        .dry_run(dry_run)
        .history_max(a.history_max);
    let exists = upgrade && inst.get(&a.name, &a.cluster.namespace).await?.is_some();
    let (r, banner) = if upgrade && (exists || !a.install) {
        let r = inst
            .upgrade(&opts)
            .await
            .map_err(|e| anyhow::anyhow!("UPGRADE FAILED: {e}"))?;
        (
            r,
            format!("Release \"{}\" has been upgraded. Happy Helming!\n", a.name),
        )
    } else {
        let r = inst
            .install(&opts)
            .await
            .map_err(|e| anyhow::anyhow!("INSTALLATION FAILED: {e}"))?;
        let banner = if upgrade {
            format!(
                "Release \"{}\" does not exist. Installing it now.\n",
                a.name
            )
        } else {
            String::new()
        };
        (r, banner)
    };
    match a.output {
        Output::Table => Ok(format!("{banner}{}", status_text(&r))),
        other => render_release(&r, other),
    }
}

async fn diff(a: InstallArgs) -> anyhow::Result<String> {
    let opts = tokio::task::block_in_place(|| options(&a))?;
    let inst = installer(&a.cluster).await?;
    let changes = inst.diff(&opts).await?;
    let mut out = String::new();
    for c in changes
        .iter()
        .filter(|c| c.change != release::ChangeKind::Unchanged)
    {
        out.push_str(&format!("{}: {}\n{}", c.change, c.title(), c.diff));
        if !c.diff.ends_with('\n') {
            out.push('\n');
        }
    }
    if out.is_empty() {
        out.push_str("No changes.\n");
    }
    Ok(out)
}

/// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`.
fn go_time(t: Option<jiff::Timestamp>) -> String {
    match t {
        Some(t) => format!("{} +0000 UTC", t.strftime("%Y-%m-%d %H:%M:%S%.f")),
        None => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

/// Go's `time.ANSIC`: `Mon Jan _2 15:04:05 2006`.
fn ansic(t: Option<jiff::Timestamp>) -> String {
    t.map(|t| t.strftime("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_default()
}

/// uitable's layout as Helm prints tables: cells padded to their column's width, tab-separated.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push_str(cells.join("\t").trim_end());
        out.push('\n');
    }
    out
}

fn yaml_of(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_yaml::to_string(v)?)
}

fn emit(v: serde_json::Value, output: Output) -> anyhow::Result<String> {
    match output {
        Output::Yaml => yaml_of(&v),
        _ => Ok(format!("{}\n", serde_json::to_string(&v)?)),
    }
}

fn render_list(rels: &[Release], output: Output) -> anyhow::Result<String> {
    if output != Output::Table {
        let v: Vec<serde_json::Value> = rels
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name, "namespace": r.namespace, "revision": r.version.to_string(),
                    "updated": go_time(r.info.last_deployed), "status": r.info.status.as_str(),
                    "chart": r.chart_label(), "app_version": r.app_version(),
                })
            })
            .collect();
        return emit(serde_json::Value::Array(v), output);
    }
    let mut rows = vec![
        [
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rels {
        rows.push(vec![
            r.name.clone(),
            r.namespace.clone(),
            r.version.to_string(),
            go_time(r.info.last_deployed),
            r.info.status.to_string(),
            r.chart_label(),
            r.app_version().to_string(),
        ]);
    }
    Ok(table(&rows))
}

fn render_history(hist: &[Release], output: Output) -> anyhow::Result<String> {
    if output != Output::Table {
        let v: Vec<serde_json::Value> = hist
            .iter()
            .map(|r| {
                serde_json::json!({
                    "revision": r.version,
                    "updated": r.info.last_deployed.map(|t| t.to_string()),
                    "status": r.info.status.as_str(), "chart": r.chart_label(),
                    "app_version": r.app_version(), "description": r.info.description,
                })
            })
            .collect();
        return emit(serde_json::Value::Array(v), output);
    }
    let mut rows = vec![
        [
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
            "DESCRIPTION",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in hist {
        rows.push(vec![
            r.version.to_string(),
            ansic(r.info.last_deployed),
            r.info.status.to_string(),
            r.chart_label(),
            r.app_version().to_string(),
            r.info.description.clone(),
        ]);
    }
    Ok(table(&rows))
}

/// What `helm status` / `helm install` print.
fn status_text(r: &Release) -> String {
    let mut s = format!(
        "NAME: {}\nLAST DEPLOYED: {}\nNAMESPACE: {}\nSTATUS: {}\nREVISION: {}\n",
        r.name,
        ansic(r.info.last_deployed),
        r.namespace,
        r.info.status,
        r.version
    );
    if r.info.status == Status::Failed || r.info.description == "Dry run complete" {
        s.push_str(&format!("DESCRIPTION: {}\n", r.info.description));
    }
    s.push_str("TEST SUITE: None\n");
    if !r.info.notes.is_empty() {
        s.push_str("NOTES:\n");
        s.push_str(&r.info.notes);
        if !r.info.notes.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

fn render_release(r: &Release, output: Output) -> anyhow::Result<String> {
    match output {
        Output::Table => Ok(status_text(r)),
        other => {
            let bytes = release::storage::release_json(r)?;
            emit(serde_json::from_slice(&bytes)?, other)
        }
    }
}

fn get_values(r: &Release, all: bool, output: Output) -> anyhow::Result<String> {
    let (title, values) = if all {
        let mut merged = r.config.clone();
        helm::values::coalesce_tables_pub(&mut merged, r.chart_values());
        ("COMPUTED VALUES:", merged)
    } else {
        ("USER-SUPPLIED VALUES:", r.config.clone())
    };
    let v = if values.is_empty() && !all {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(values)
    };
    match output {
        Output::Table => Ok(format!("{title}\n{}", yaml_of(&v)?)),
        other => emit(v, other),
    }
}
