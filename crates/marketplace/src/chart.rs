//! `marketplace chart ...`: Helm chart tools for cluster-plugin authors (owned by the Helm engine work).
//!
//! `marketplace chart template` prints exactly what `helm template` (Helm v4) prints, so plugin charts
//! can be debugged and diffed without a `helm` binary. The work is done by the `helm` crate; this module
//! only parses flags, reads `-f` files, and prints results or Helm's error text.

use std::io::Write;
use std::path::PathBuf;

/// Chart subcommands.
#[derive(clap::Subcommand)]
pub enum ChartCommand {
    /// Render a chart's templates locally and print the manifests, as `helm template` does.
    #[command(after_help = TEMPLATE_EXAMPLES)]
    Template(TemplateArgs),
    /// Push a chart directory (packaged as `helm package` does) or a packaged chart (.tgz) to an
    /// OCI registry as `helm push` does (`oci://REGISTRY/PATH` → `REGISTRY/PATH/<name>:<version>`).
    Push(PushArgs),
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

/// Flags of `marketplace chart template`.
#[derive(clap::Args)]
pub struct TemplateArgs {
    /// Chart directory or packaged chart (.tgz).
    pub chart: PathBuf,
    /// Values file (YAML); may be repeated, later files override earlier ones.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value: `a.b=c`, `list[0]=x`, `list={x,y}`, `key\.with\.dots=v`; may be repeated
    /// (applied after -f files).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Release name (`.Release.Name`).
    #[arg(long, default_value = "release-name")]
    pub name: String,
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
    /// Print the chart's crds/ files before the manifests.
    #[arg(long)]
    pub include_crds: bool,
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
    let Some(url) = args.chart.to_str().filter(|s| s.starts_with("oci://")) else {
        return helm::chart::load(&args.chart).map_err(|e| e.to_string());
    };
    let version = args
        .version
        .as_deref()
        .ok_or_else(|| format!("--version is required for {url}"))?;
    let (host, repo) = oci::chart::parse_oci_url(url).map_err(|e| e.to_string())?;
    let opts = registry_options(&args.registry, &host).map_err(|e| e.to_string())?;
    let tgz = runtime()
        .map_err(|e| e.to_string())?
        .block_on(async {
            let reg = oci::Registry::connect(&host, opts).await?;
            oci::chart::pull(&reg, &repo, version).await
        })
        .map_err(|e| format!("failed to pull {url}:{version}: {e}"))?;
    helm::chart::load_archive_bytes(&tgz).map_err(|e| e.to_string())
}

/// `helm template` with Helm's messages (without the `Error: ` prefix) on failure.
pub fn template(args: &TemplateArgs) -> Result<String, String> {
    let chart = load_chart(args)?;
    let mut user = helm::values::Values::new();
    for f in &args.values {
        let vals = helm::read_values_file(f)?;
        helm::values::merge_maps(&mut user, vals);
    }
    for s in &args.set {
        helm::values::parse_set(s, &mut user)
            .map_err(|e| format!("failed parsing --set data: {e}"))?;
    }
    let capabilities = helm::Capabilities::with(args.kube_version.as_deref(), &args.api_versions)?;
    let opts = helm::TemplateOptions {
        render: helm::RenderOptions {
            release: helm::ReleaseOptions {
                name: args.name.clone(),
                namespace: args.namespace.clone(),
                ..Default::default()
            },
            capabilities,
            skip_schema_validation: args.skip_schema_validation,
        },
        include_crds: args.include_crds,
        skip_tests: args.skip_tests,
        no_hooks: args.no_hooks,
    };
    match helm::template(&chart, &user, &opts) {
        Ok(out) => Ok(out.output),
        Err(helm::RenderError::MissingDependencies(detail)) => Err(format!(
            "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {detail}"
        )),
        Err(e @ helm::RenderError::Manifest(_)) => Err(format!(
            "{e}\n\nUse --debug flag to render out invalid YAML"
        )),
        Err(e) => Err(e.to_string()),
    }
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
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        shared.join("fixtures/helm")
    }

    /// Runs `chart template <args>` from the fixture folder; returns stdout or "Error: ..." text.
    fn run_template(args: &str) -> String {
        let root = fixtures();
        let argv: Vec<String> = std::iter::once("x".to_string())
            .chain(std::iter::once("template".to_string()))
            .chain(args.split_whitespace().map(|a| {
                if a.starts_with("charts/") {
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
