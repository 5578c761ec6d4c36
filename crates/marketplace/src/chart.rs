//! `marketplace chart ...`: Helm chart tools for cluster-plugin authors (owned by the Helm engine work).
//!
//! `marketplace chart template` prints exactly what `helm template` (Helm v4) prints, so plugin charts
//! can be debugged and diffed without a `helm` binary. The work is done by the `helm` crate; this module
//! only parses flags, reads `-f` files, and prints results or Helm's error text.

// The doc comments below are clap's `--help` text, written for a terminal (`<data-dir>`,
// `oci:DIR[:TAG]`), not rustdoc markup.
#![allow(
    rustdoc::invalid_html_tags,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls
)]

use std::io::Write;
use std::path::PathBuf;

use crate::releases::{self, ReleaseCommand};

/// Chart subcommands.
#[derive(clap::Subcommand)]
pub enum ChartCommand {
    /// Render a chart's templates locally and print the manifests, as `helm template` does.
    #[command(after_help = TEMPLATE_EXAMPLES)]
    Template(Box<TemplateArgs>),
    /// Push a chart directory (packaged as `helm package` does) or a packaged chart (.tgz) to an
    /// OCI registry as `helm push` does (`oci://REGISTRY/PATH` → `REGISTRY/PATH/<name>:<version>`).
    Push(PushArgs),
    /// Install a chart as a release (Helm's `helm install NAME CHART`), stored as Helm stores it.
    Install(Box<crate::releases::InstallArgs>),
    /// Upgrade a release to a chart (`--install` installs it when absent).
    Upgrade(Box<crate::releases::InstallArgs>),
    /// Show what an upgrade would change, object by object, as unified diffs.
    Diff(Box<crate::releases::InstallArgs>),
    /// Roll a release back to a revision (default: the previous one).
    Rollback(crate::releases::RollbackArgs),
    /// Uninstall a release: its objects (except helm.sh/resource-policy: keep) and its history.
    Uninstall(crate::releases::NameArgs),
    /// List releases (NAME, NAMESPACE, REVISION, UPDATED, STATUS, CHART, APP VERSION).
    List(crate::releases::ListArgs),
    /// A release's revisions.
    History(crate::releases::NameArgs),
    /// A release's status and notes.
    Status(crate::releases::NameArgs),
    /// A release's manifest or values.
    #[command(subcommand)]
    Get(crate::releases::GetCommand),
}

/// Flags of `marketplace chart push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// Chart directory or packaged chart (.tgz).
    pub chart: PathBuf,
    /// Destination, oci://REGISTRY[/PATH].
    pub remote: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How to reach an OCI registry, with Helm's flag names.
#[derive(clap::Args, Clone, Default)]
pub struct RegistryArgs {
    /// Use plain HTTP for the registry.
    #[arg(long)]
    pub plain_http: bool,
    /// Do not verify the registry's TLS certificate.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Registry user name (default: Docker/containers auth files).
    #[arg(long)]
    pub username: Option<String>,
    /// Registry password.
    #[arg(long)]
    pub password: Option<String>,
}

const TEMPLATE_EXAMPLES: &str = "\
Examples:
  # Render a chart directory with its default values
  marketplace chart template ./mychart

  # Override values from files (later files win) and from the command line
  marketplace chart template ./mychart -f prod.yaml -f region.yaml --set image.tag=1.2.3

  # Lists, escaped dots and typed values in --set
  marketplace chart template ./mychart --set 'args={--verbose,--port=8080}' \\
      --set 'podAnnotations.prometheus\\.io/scrape=true' --set replicas=3

  # Pretend to be another cluster: Kubernetes version and extra API groups
  marketplace chart template mychart-1.0.0.tgz --kube-version v1.29.0 \\
      --api-versions monitoring.coreos.com/v1 --name prod --namespace monitoring

  # Include CRDs from crds/ and leave out test hooks
  marketplace chart template ./mychart --include-crds --skip-tests

Output is byte-for-byte what `helm template` (Helm v4) prints: manifests sorted in Helm's install
order, each prefixed with `---` and `# Source: <template path>`, followed by hooks. Errors are printed
in Helm's words on stderr and the command exits with status 1.";

/// Helm's values flags (`-f`, `--set*`), shared by template, install, upgrade and diff.
#[derive(clap::Args, Clone, Default)]
pub struct ValueArgs {
    /// Values file (YAML, `-` for standard input); may be repeated, later files override earlier ones.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value: `a.b=c`, `list[0]=x`, `list={x,y}`, `key\.with\.dots=v`; may be repeated
    /// (applied after -f files and --set-json).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set a STRING value (no typing of true/1/null); applied after --set.
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value to the contents of a file (`key=path`, `-` for standard input); applied after
    /// --set-string.
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set JSON values (`key=<json>` or a whole JSON object); applied right after -f files.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a literal STRING value: everything after the first `=`, commas and braces included;
    /// applied last.
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
}

/// Flags of `marketplace chart template` (Helm's `helm template [NAME] [CHART]` flags).
#[derive(clap::Args)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: an optional release name, then the chart directory, packaged chart (.tgz)
    /// or oci:// reference.
    #[arg(value_name = "[NAME] CHART", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub vals: ValueArgs,
    /// Release name (`.Release.Name`); the NAME argument wins.
    #[arg(long, default_value = "release-name")]
    pub name: String,
    /// Release name from a template (Sprig functions, no data), e.g. `app-{{ randAlphaNum 5 | lower }}`.
    #[arg(long, value_name = "TEMPLATE")]
    pub name_template: Option<String>,
    /// Generate the release name (`<chart>-<unix time>`).
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// Release namespace (`.Release.Namespace`).
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Kubernetes version for `.Capabilities.KubeVersion` and the chart's `kubeVersion` check.
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions` (GROUP/VERSION or GROUP/VERSION/Kind);
    /// may be repeated or comma-separated.
    #[arg(
        short = 'a',
        long = "api-versions",
        value_name = "GROUP/VERSION",
        value_delimiter = ','
    )]
    pub api_versions: Vec<String>,
    /// Only show manifests rendered from these templates (path without the chart name, Go glob,
    /// e.g. `templates/service.yaml`, `charts/sub/templates/*`); may be repeated.
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    pub show_only: Vec<String>,
    /// Write each template's documents to files under this directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// With --output-dir: put manifests and hooks under DIR/<release name>.
    #[arg(long)]
    pub release_name: bool,
    /// Set `.Release.IsUpgrade` instead of `.Release.IsInstall`.
    #[arg(long)]
    pub is_upgrade: bool,
    /// Print the chart's crds/ files before the manifests.
    #[arg(long)]
    pub include_crds: bool,
    /// Do not install CRDs. `helm template` accepts it and prints the same (it installs nothing).
    #[arg(long)]
    pub skip_crds: bool,
    /// Leave out test hooks (`helm.sh/hook: test`).
    #[arg(long)]
    pub skip_tests: bool,
    /// Leave out all hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Do not validate values against values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
    /// Chart version, for oci:// charts.
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

impl TemplateArgs {
    /// The chart reference (the last positional argument).
    fn chart_ref(&self) -> &str {
        self.args.last().map(String::as_str).unwrap_or_default()
    }

    /// The release name as Helm's `NameAndChart` picks it.
    fn release_name(&self) -> Result<String, String> {
        let flags_not_set = || {
            if self.generate_name {
                Err("cannot set --generate-name and also specify a name".to_string())
            } else if self.name_template.is_some() {
                Err("cannot set --name-template and also specify a name".to_string())
            } else {
                Ok(())
            }
        };
        if self.args.len() == 2 {
            flags_not_set()?;
            return Ok(self.args[0].clone());
        }
        if let Some(t) = &self.name_template {
            return helm::template_cmd::name_from_template(t);
        }
        if self.generate_name {
            let base = self.chart_ref().rsplit('/').next().unwrap_or_default();
            let base = match base.split('.').next().unwrap_or_default() {
                "" => "chart",
                b => b,
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            return Ok(format!("{base}-{now}"));
        }
        Ok(self.name.clone())
    }
}

/// Runs a chart subcommand. Errors are printed as Helm prints them and end the process with status 1.
pub fn run(command: ChartCommand) -> anyhow::Result<()> {
    match command {
        ChartCommand::Template(args) => match template(&args) {
            Ok(out) => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(out.as_bytes())?;
                stdout.flush()?;
                Ok(())
            }
            Err(msg) => {
                eprintln!("Error: {msg}");
                std::process::exit(1);
            }
        },
        ChartCommand::Push(args) => push(&args),
        ChartCommand::Install(a) => releases::run(ReleaseCommand::Install(*a)),
        ChartCommand::Upgrade(a) => releases::run(ReleaseCommand::Upgrade(*a)),
        ChartCommand::Diff(a) => releases::run(ReleaseCommand::Diff(*a)),
        ChartCommand::Rollback(a) => releases::run(ReleaseCommand::Rollback(a)),
        ChartCommand::Uninstall(a) => releases::run(ReleaseCommand::Uninstall(a)),
        ChartCommand::List(a) => releases::run(ReleaseCommand::List(a)),
        ChartCommand::History(a) => releases::run(ReleaseCommand::History(a)),
        ChartCommand::Status(a) => releases::run(ReleaseCommand::Status(a)),
        ChartCommand::Get(c) => releases::run(ReleaseCommand::Get(c)),
    }
}

fn registry_options(a: &RegistryArgs, host: &str) -> anyhow::Result<oci::Options> {
    let credentials = match (&a.username, &a.password) {
        (Some(u), Some(p)) => Some(oci::auth::Credentials {
            username: u.clone(),
            password: p.clone(),
        }),
        (Some(_), None) | (None, Some(_)) => anyhow::bail!("--username and --password go together"),
        (None, None) => oci::auth::lookup_credentials(&oci::auth::default_config_paths(), host)?,
    };
    Ok(oci::Options {
        credentials,
        plain_http: a.plain_http,
        tls_verify: !a.insecure_skip_tls_verify,
        ..Default::default()
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn push(args: &PushArgs) -> anyhow::Result<()> {
    let tgz = if args.chart.is_dir() {
        helm::chart::package_dir(&args.chart).map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        std::fs::read(&args.chart)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.chart.display()))?
    };
    let chart = oci::chart::ChartArtifact::from_tgz(tgz)?;
    let rest = args.remote.strip_prefix("oci://").ok_or_else(|| {
        anyhow::anyhow!(
            "{:?}: the destination must be oci://REGISTRY[/PATH]",
            args.remote
        )
    })?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let opts = registry_options(&args.registry, host)?;
    let (repo, digest) = runtime()?.block_on(async {
        let reg = oci::Registry::connect(host, opts).await?;
        oci::chart::push(&reg, path, &chart).await
    })?;
    println!("Pushed: {host}/{repo}:{}\nDigest: {digest}", chart.tag());
    Ok(())
}

/// Loads a chart from a path or, for `oci://REGISTRY/REPO`, from the registry (`--version`).
fn load_chart(args: &TemplateArgs) -> Result<helm::Chart, String> {
    load_chart_ref(args.chart_ref(), args.version.as_deref(), &args.registry)
}

/// Loads a chart directory, `.tgz`, or `oci://REGISTRY/REPO` reference (`version` required).
pub fn load_chart_ref(
    reference: &str,
    version: Option<&str>,
    registry: &RegistryArgs,
) -> Result<helm::Chart, String> {
    let Some(url) = Some(reference).filter(|s| s.starts_with("oci://")) else {
        return helm::chart::load(std::path::Path::new(reference)).map_err(|e| e.to_string());
    };
    let version = version.ok_or_else(|| format!("--version is required for {url}"))?;
    let (host, repo) = oci::chart::parse_oci_url(url).map_err(|e| e.to_string())?;
    let opts = registry_options(registry, &host).map_err(|e| e.to_string())?;
    let tgz = runtime()
        .map_err(|e| e.to_string())?
        .block_on(async {
            let reg = oci::Registry::connect(&host, opts).await?;
            oci::chart::pull(&reg, &repo, version).await
        })
        .map_err(|e| format!("failed to pull {url}:{version}: {e}"))?;
    helm::chart::load_archive_bytes(&tgz).map_err(|e| e.to_string())
}

/// The user's values, merged as Helm's `values.Options.MergeValues` does: `-f` files, then
/// `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal` (each in its given order).
pub fn user_values(args: &ValueArgs) -> Result<helm::values::Values, String> {
    use helm::strvals::{Mode, parse_into, parse_literal_into};
    let mut user = helm::values::Values::new();
    for f in &args.values {
        let vals = helm::read_values_file(f)?;
        helm::values::merge_maps(&mut user, vals);
    }
    for v in &args.set_json {
        let trimmed = v.trim();
        if trimmed.starts_with('{') {
            let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(trimmed)
                .map_err(|_| format!("failed parsing --set-json data JSON: {v}"))?;
            let m = match helm::strvals::as_go_json(serde_json::Value::Object(m)) {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("an object stays an object"),
            };
            helm::values::merge_maps(&mut user, m);
        } else {
            parse_into(v, &mut user, &mut Mode::Json)
                .map_err(|_| format!("failed parsing --set-json data {v}"))?;
        }
    }
    for v in &args.set {
        parse_into(v, &mut user, &mut Mode::Typed)
            .map_err(|e| format!("failed parsing --set data: {e}"))?;
    }
    for v in &args.set_string {
        parse_into(v, &mut user, &mut Mode::String)
            .map_err(|e| format!("failed parsing --set-string data: {e}"))?;
    }
    let mut read_file = |path: &str| -> Result<String, String> {
        if path.trim() == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| format!("read standard input: {e}"))?;
            return Ok(s);
        }
        helm::read_file_text(std::path::Path::new(path))
    };
    for v in &args.set_file {
        parse_into(v, &mut user, &mut Mode::File(&mut read_file))
            .map_err(|e| format!("failed parsing --set-file data: {e}"))?;
    }
    for v in &args.set_literal {
        parse_literal_into(v, &mut user)
            .map_err(|e| format!("failed parsing --set-literal data: {e}"))?;
    }
    Ok(user)
}

/// What `helm template` prints on stdout, or Helm's message (without the `Error: ` prefix).
/// With `--output-dir` the files are written and the `wrote <path>` lines are what is printed.
pub fn template(args: &TemplateArgs) -> Result<String, String> {
    let name = args.release_name()?;
    let chart = load_chart(args)?;
    let user = user_values(&args.vals)?;
    let capabilities = match args.kube_version.as_deref() {
        Some(kv) => helm::Capabilities::with(Some(kv), &args.api_versions)
            .map_err(|e| format!("invalid kube version '{kv}': {e}"))?,
        None => helm::Capabilities::with(None, &args.api_versions)?,
    };
    let opts = helm::TemplateOptions {
        render: helm::RenderOptions {
            release: helm::ReleaseOptions {
                name,
                namespace: args.namespace.clone(),
                is_install: !args.is_upgrade,
                is_upgrade: args.is_upgrade,
                ..Default::default()
            },
            capabilities,
            skip_schema_validation: args.skip_schema_validation,
            lookup: None,
        },
        include_crds: args.include_crds,
        skip_tests: args.skip_tests,
        no_hooks: args.no_hooks,
    };
    let out = match helm::template(&chart, &user, &opts) {
        Ok(out) => out,
        Err(helm::RenderError::MissingDependencies(detail)) => {
            return Err(format!(
                "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {detail}"
            ));
        }
        Err(e @ helm::RenderError::Manifest(_)) => {
            return Err(format!(
                "{e}\n\nUse --debug flag to render out invalid YAML"
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut printed = String::new();
    let stream = match &args.output_dir {
        None => out.output.clone(),
        Some(dir) => {
            let dir = dir.to_string_lossy();
            let plan = helm::template_cmd::output_dir_plan(&out, &opts, &dir, args.release_name);
            for w in &plan {
                write_output_file(w)?;
                printed.push_str(&format!("wrote {}\n", w.path));
            }
            "\n".to_string()
        }
    };
    if args.show_only.is_empty() {
        printed.push_str(&stream);
    } else {
        printed.push_str(&helm::template_cmd::show_only(&stream, &args.show_only)?);
    }
    Ok(printed)
}

/// Performs one `--output-dir` write (directories created as needed).
fn write_output_file(w: &helm::template_cmd::FileWrite) -> Result<(), String> {
    use helm::template_cmd::WriteMode;
    let path = std::path::Path::new(&w.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("mkdir {}: {e}", parent.display()))?;
    }
    let append = match w.mode {
        WriteMode::Create => false,
        WriteMode::Append => true,
        WriteMode::AppendIfExists => path.exists(),
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(!append)
        .truncate(!append)
        .append(append)
        .open(path)
        .map_err(|e| format!("open {}: {e}", w.path))?;
    f.write_all(w.contents.as_bytes())
        .map_err(|e| format!("write {}: {e}", w.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ChartCommand,
    }

    fn fixtures() -> PathBuf {
        let shared = std::env::var("MARKETPLACE_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(
                    &std::env::var("CARGO_MANIFEST_DIR")
                        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
                )
                .join("../../../shared")
            });
        shared.join("fixtures/helm")
    }

    /// Runs `chart template <args>` from the fixture folder; returns stdout or "Error: ..." text.
    fn run_template(args: &str) -> String {
        run_template_argv(&args.split_whitespace().collect::<Vec<_>>())
    }

    /// Like [`run_template`] with the arguments already split.
    fn run_template_argv(args: &[&str]) -> String {
        let root = fixtures();
        let argv: Vec<String> = std::iter::once("x".to_string())
            .chain(std::iter::once("template".to_string()))
            .chain(args.iter().map(|a| {
                if a.starts_with("charts/") && root.join(a).exists() {
                    root.join(a).display().to_string()
                } else {
                    a.to_string()
                }
            }))
            .collect();
        let ChartCommand::Template(t) = Cli::parse_from(argv).command else {
            panic!("not a template command")
        };
        match template(&t) {
            Ok(out) => out,
            Err(e) => format!("Error: {e}\n"),
        }
    }

    fn golden(name: &str) -> String {
        std::fs::read_to_string(fixtures().join("helm-golden").join(name)).unwrap()
    }

    #[test]
    fn template_prints_exactly_what_helm_template_prints() {
        let sub = "charts/helm/testcharts/subchart --kube-version v1.20.0";
        let cases = [
            ("template.txt", sub.to_string()),
            (
                "template-set.txt",
                format!("{sub} --set service.name=apache"),
            ),
            (
                "template-values-files.txt",
                format!("{sub} -f charts/helm/testcharts/subchart/charts/subchartA/values.yaml"),
            ),
            ("template-with-crds.txt", format!("{sub} --include-crds")),
            // Helm's template never installs CRDs, so --skip-crds changes nothing it prints.
            (
                "template-with-crds.txt",
                format!("{sub} --include-crds --skip-crds"),
            ),
            ("template-skip-tests.txt", format!("{sub} --skip-tests")),
            (
                "template-with-kube-version.txt",
                "charts/helm/testcharts/subchart --kube-version 1.16.0".to_string(),
            ),
            (
                "template-with-api-version.txt",
                format!("{sub} --api-versions helm.k8s.io/test,helm.k8s.io/test2"),
            ),
            (
                "template-subchart-cm.txt",
                format!("{sub} --set configmap.enabled=true --set subchartb.enabled=true"),
            ),
            (
                "template-subchart-cm-set.txt",
                format!(
                    "{sub} --set configmap.enabled=true --set subchartb.enabled=true --set configmap.value=baz"
                ),
            ),
            (
                "template-subchart-cm-set-file.txt",
                format!("{sub} -f charts/helm/testcharts/subchart/extra_values.yaml"),
            ),
            (
                "object-order.txt",
                "charts/helm/testcharts/object-order --kube-version v1.20.0".to_string(),
            ),
            (
                "issue-9027.txt",
                "charts/helm/testcharts/issue-9027 --kube-version v1.20.0".to_string(),
            ),
            (
                "template-chart-with-template-lib-dep.txt",
                "charts/helm/testcharts/chart-with-template-lib-dep --kube-version v1.20.0"
                    .to_string(),
            ),
            (
                "template-chart-with-template-lib-archive-dep.txt",
                "charts/helm/testcharts/chart-with-template-lib-archive-dep --kube-version v1.20.0"
                    .to_string(),
            ),
            (
                "template-with-invalid-yaml.txt",
                "charts/helm/testcharts/chart-with-template-with-invalid-yaml".to_string(),
            ),
            (
                "template-chart-bad-type.txt",
                "charts/helm/testcharts/chart-bad-type".to_string(),
            ),
            (
                "template-lib-chart.txt",
                "charts/helm/testcharts/lib-chart".to_string(),
            ),
            (
                "template-show-only-one.txt",
                format!("{sub} --show-only templates/service.yaml"),
            ),
            (
                "template-show-only-multiple.txt",
                format!(
                    "{sub} --show-only templates/service.yaml -s charts/subcharta/templates/service.yaml"
                ),
            ),
            (
                "template-show-only-glob.txt",
                format!("{sub} --show-only templates/subdir/role*"),
            ),
        ];
        let mut failures = Vec::new();
        for (file, args) in cases {
            let ours = run_template(&args);
            if ours != golden(file) {
                failures.push(format!("{file} (args: {args}):\n{ours}"));
            }
        }
        assert!(
            failures.is_empty(),
            "differs from Helm's golden output:\n{}",
            failures.join("\n")
        );
    }

    /// `--name-template`, the NAME argument and `--release-name`'s name checks, as Helm's goldens
    /// and messages have them.
    #[test]
    fn release_names_come_from_argument_template_or_flag() {
        let sub = "charts/helm/testcharts/subchart";
        let out = run_template_argv(&[
            sub,
            "--kube-version",
            "v1.20.0",
            "--name-template=foobar-{{ b64enc \"abc\" | lower }}-baz",
        ]);
        assert_eq!(out, golden("template-name-template.txt"));
        let by_arg = run_template(&format!("myrel {sub} --kube-version v1.20.0"));
        let by_flag = run_template(&format!("{sub} --name myrel --kube-version v1.20.0"));
        assert!(
            by_arg.contains("app.kubernetes.io/instance: \"myrel\""),
            "{by_arg}"
        );
        assert_eq!(by_arg, by_flag);
        assert_eq!(
            run_template(&format!("myrel {sub} --name-template x")),
            "Error: cannot set --name-template and also specify a name\n"
        );
        assert!(
            run_template(&format!("Bad_Name {sub}")).starts_with(
                "Error: release name check failed: release name \"Bad_Name\": invalid release name, must match regex"
            )
        );
    }

    /// `--show-only` with a template that renders nothing printable: Helm's error text.
    #[test]
    fn show_only_of_an_unknown_template_is_helms_error() {
        let out = run_template(
            "charts/helm/testcharts/subchart --kube-version v1.20.0 --show-only templates/nope.yaml",
        );
        assert_eq!(
            out,
            "Error: could not find template templates/nope.yaml in chart\n"
        );
    }

    /// `--output-dir` writes each template's documents to `DIR/<template path>` (hooks too, CRDs
    /// with `--include-crds`), prints `wrote <path>` per document and then an empty line, as Helm's
    /// template command does; `--release-name` puts manifests and hooks under `DIR/<release>`.
    #[test]
    fn output_dir_writes_helms_layout() {
        let sub = "charts/helm/testcharts/subchart --kube-version v1.20.0";
        let printed = run_template(sub);
        for use_release_name in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().display().to_string();
            let flag = if use_release_name {
                "--release-name"
            } else {
                ""
            };
            let out = run_template(&format!("{sub} --include-crds --output-dir {dir} {flag}"));
            assert!(out.ends_with("\n\n") || out.ends_with("\n"), "{out}");
            let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
            assert!(lines.iter().all(|l| l.starts_with("wrote ")), "{out}");
            let base = if use_release_name {
                format!("{dir}/release-name")
            } else {
                dir.clone()
            };
            let crd = format!("{dir}/subchart/crds/crdA.yaml");
            assert!(lines.contains(&format!("wrote {crd}").as_str()), "{out}");
            let svc =
                std::fs::read_to_string(format!("{base}/subchart/templates/service.yaml")).unwrap();
            assert!(svc.starts_with("---\n# Source: subchart/templates/service.yaml\n"));
            // Every document printed without --output-dir is in exactly one written file.
            let mut written = String::new();
            for l in &lines {
                let path = l.trim_start_matches("wrote ");
                if !written.contains(&format!("<<{path}>>")) {
                    written.push_str(&format!("<<{path}>>"));
                    written.push_str(&std::fs::read_to_string(path).unwrap());
                }
            }
            for doc in printed.split("---\n").filter(|d| !d.trim().is_empty()) {
                assert!(
                    written.contains(doc.trim_end()),
                    "missing from files: {doc}"
                );
            }
        }
    }

    #[test]
    fn errors_use_helm_cli_wording() {
        let out = run_template("charts/helm/testcharts/chart-missing-deps");
        assert_eq!(
            out,
            "Error: an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: reqsubchart2\n"
        );
        let out = run_template("charts/bitnami/common");
        assert_eq!(out, "Error: library charts are not installable\n");
        let out = run_template("charts/helm/testcharts/alpine --set a[-1]=x");
        assert!(
            out.starts_with("Error: failed parsing --set data: negative -1 index"),
            "{out}"
        );
        let out = run_template("charts/helm/testcharts/alpine -f /nonexistent/values.yaml");
        assert!(
            out.starts_with("Error: open /nonexistent/values.yaml: "),
            "{out}"
        );
    }
}
