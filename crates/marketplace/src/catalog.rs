//! `marketplace catalog ...`: for people who build catalogs, with opm's habits. Thin: inputs are
//! read here (directories, files, images through the `oci` crate) and handed to the `catalog`
//! crate, which owns the model, the community-operators publishing rules and the resolver.
//!
//! An input is a file-based catalog directory or file, a registry+v1 bundle directory, a
//! community-operators package directory (`<version>/manifests|metadata` + `ci.yaml`), or an
//! image: a catalog image (its `operators.operatorframework.io.index.configs.v1` label, or
//! `/configs`) or a bundle image (`/manifests` + `/metadata`).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use catalog::resolve::{self, Installed, Source, SubscriptionRequest};
use catalog::{Bundle, Catalog, community};
use serde_json::{Value, json};

use crate::image::SideArgs;

/// The image label naming a catalog image's FBC directory.
pub const CONFIGS_LABEL: &str = "operators.operatorframework.io.index.configs.v1";

#[derive(clap::Subcommand)]
pub enum CatalogCommand {
    /// Print catalogs and bundles as a file-based catalog (one JSON blob per object, as
    /// `opm render` prints them).
    #[command(after_help = RENDER_EXAMPLES)]
    Render(RenderArgs),
    /// What OLM would upgrade an installed CSV to: `{"to": CSV or null, "reason": ...}`.
    Upgrade(UpgradeArgs),
    /// What installing a package brings in (dependencies included), or why it cannot be
    /// installed: `{"bundles": [...], "error": null or the reason}`.
    Resolve(ResolveArgs),
}

const RENDER_EXAMPLES: &str = "\
Examples:
  marketplace catalog render ./catalog                       # an FBC directory
  marketplace catalog render ./operators/etcd                # community-operators package dir
  marketplace catalog render ./bundle                        # one registry+v1 bundle
  marketplace catalog render 127.0.0.1:5000/catalog:v1 --tls-verify=false
  marketplace catalog render ./catalog -o yaml";

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Catalog or bundle directories, files or images.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// json (a stream of JSON objects) or yaml (multi-document).
    #[arg(short, long, default_value = "json")]
    pub output: String,
    #[command(flatten)]
    pub side: SideArgs,
}

#[derive(clap::Args)]
pub struct UpgradeArgs {
    #[arg(long)]
    pub package: String,
    #[arg(long)]
    pub channel: String,
    /// The installed CSV.
    #[arg(long)]
    pub from: String,
    /// Catalogs (directories, files or images), merged.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Only json is printed.
    #[arg(short, long, default_value = "json")]
    pub output: String,
    #[command(flatten)]
    pub side: SideArgs,
}

#[derive(clap::Args)]
pub struct ResolveArgs {
    #[arg(long)]
    pub package: String,
    /// Default: the package's default channel.
    #[arg(long)]
    pub channel: Option<String>,
    /// Install this CSV of the channel (as `startingCSV`) instead of the head.
    #[arg(long)]
    pub bundle: Option<String>,
    /// Catalogs (directories, files or images); each is its own catalog source, preferred in
    /// the order given.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Only json is printed.
    #[arg(short, long, default_value = "json")]
    pub output: String,
    #[command(flatten)]
    pub side: SideArgs,
}

pub fn run(command: CatalogCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        CatalogCommand::Render(a) => rt.block_on(render(a)),
        CatalogCommand::Upgrade(a) => rt.block_on(upgrade(a)),
        CatalogCommand::Resolve(a) => rt.block_on(resolve_cmd(a)),
    }
}

/// What one input holds.
enum Input {
    Catalog(Catalog),
    Bundle(Box<Bundle>),
}

impl Input {
    fn blobs(&self) -> Vec<Value> {
        match self {
            Input::Catalog(c) => c.to_blobs(),
            // A lone bundle renders as its olm.bundle blob, as opm renders a bundle.
            Input::Bundle(b) => vec![b.to_blob()],
        }
    }

    fn into_catalog(self) -> anyhow::Result<Catalog> {
        match self {
            Input::Catalog(c) => Ok(c),
            Input::Bundle(b) => {
                let mut c = Catalog::new();
                c.add_bundle(*b)?;
                Ok(c)
            }
        }
    }
}

async fn load(input: &str, side: &SideArgs) -> anyhow::Result<Input> {
    let path = Path::new(input);
    if path.is_dir() {
        if community::is_bundle_dir(path) {
            return Ok(Input::Bundle(Box::new(Bundle::from_registry_v1_dir(path)?)));
        }
        if community::is_package_dir(path) {
            return Ok(Input::Catalog(community::render_package_dir(path)?));
        }
        return Ok(Input::Catalog(Catalog::from_fbc_dir(path)?));
    }
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {input}"))?;
        return Ok(Input::Catalog(Catalog::from_fbc_files([(input, bytes)])?));
    }
    load_image(input, side).await
}

/// Reads a catalog or bundle image from its registry (or an `oci:` layout / archive).
async fn load_image(input: &str, side: &SideArgs) -> anyhow::Result<Input> {
    let loc = crate::image::location(input).with_context(|| {
        format!("{input} is neither a file, a directory nor an image reference")
    })?;
    let src = oci::copy::Source::open(&loc, &crate::image::options(&loc, side)?)
        .await
        .with_context(|| format!("cannot open image {input}"))?;
    let platform = oci::Platform::parse("linux/amd64")?;
    let labels = image_labels(&src, &platform)
        .await
        .with_context(|| format!("cannot read the config of image {input}"))?;
    let configs = labels
        .get(CONFIGS_LABEL)
        .and_then(Value::as_str)
        .unwrap_or("/configs")
        .to_string();
    let keep = [configs.as_str(), "/manifests", "/metadata"];
    let fs = oci::fs::open(&src, &platform, &keep, oci::fs::Limits::default())
        .await
        .with_context(|| format!("cannot read the layers of image {input}"))?;
    let reference = match &loc {
        oci::copy::Location::Registry(r) => r.to_string(),
        _ => input.to_string(),
    };
    if fs.stat("/metadata/annotations.yaml").is_some() {
        let mut files = Vec::new();
        for dir in ["/manifests", "/metadata"] {
            for f in fs.walk_files(dir) {
                files.push((f.clone(), fs.read_file(&f)?.to_vec()));
            }
        }
        return Ok(Input::Bundle(Box::new(Bundle::from_registry_v1_files(
            &reference, files, &reference,
        )?)));
    }
    if fs.stat(&configs).is_none() {
        bail!(
            "image {input} is neither a catalog (no {configs} directory; label {CONFIGS_LABEL} names another) nor a bundle (no /metadata/annotations.yaml)"
        );
    }
    let mut files = Vec::new();
    for f in fs.walk_files(&configs) {
        let data = fs.read_file(&f)?.to_vec();
        files.push((format!("{reference}:{f}"), data));
    }
    Ok(Input::Catalog(Catalog::from_fbc_files(files)?))
}

/// The image config's labels (`config.Labels`).
async fn image_labels(src: &oci::copy::Source, platform: &oci::Platform) -> anyhow::Result<Value> {
    let (_, image) = src.image(platform).await?;
    let config = image
        .blob_refs()?
        .into_iter()
        .next()
        .context("the image manifest lists no config")?;
    let mut reader = src.blob(&config)?.open(0).await?;
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes).await?;
    config.digest.verify(&bytes)?;
    let v: Value = serde_json::from_slice(&bytes).context("the image config is not JSON")?;
    Ok(v.pointer("/config/Labels").cloned().unwrap_or(Value::Null))
}

async fn render(a: RenderArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for input in &a.inputs {
        let loaded = load(input, &a.side).await?;
        for blob in loaded.blobs() {
            match a.output.as_str() {
                "json" => {
                    serde_json::to_writer_pretty(&mut out, &blob)?;
                    writeln!(out)?;
                }
                "yaml" => {
                    writeln!(out, "---")?;
                    out.write_all(serde_yaml::to_string(&blob)?.as_bytes())?;
                }
                other => bail!("--output {other:?}: use json or yaml"),
            }
        }
    }
    Ok(())
}

fn json_only(output: &str) -> anyhow::Result<()> {
    if output != "json" {
        bail!("--output {output:?}: only json is supported");
    }
    Ok(())
}

/// Loads every input as a catalog (merging them when `merge`).
async fn catalogs(inputs: &[String], side: &SideArgs) -> anyhow::Result<Vec<(String, Catalog)>> {
    let mut out = Vec::new();
    for input in inputs {
        out.push((input.clone(), load(input, side).await?.into_catalog()?));
    }
    Ok(out)
}

fn merged(cats: Vec<(String, Catalog)>) -> anyhow::Result<Catalog> {
    let mut all = Catalog::new();
    for (name, c) in cats {
        for (pkg_name, pkg) in c.packages {
            if all.packages.contains_key(&pkg_name) {
                bail!(
                    "package {pkg_name:?} is in more than one input (again in {name}); give one catalog per package"
                );
            }
            all.packages.insert(pkg_name, pkg);
        }
    }
    Ok(all)
}

async fn upgrade(a: UpgradeArgs) -> anyhow::Result<()> {
    json_only(&a.output)?;
    let cat = merged(catalogs(&a.inputs, &a.side).await?)?;
    let answer = match resolve::next_upgrade(&cat, &a.package, &a.channel, &a.from, None) {
        Ok(Some(u)) => json!({"to": u.bundle.name, "reason": u.reason}),
        Ok(None) => {
            let pkg = cat.package(&a.package).expect("next_upgrade found it");
            let known = pkg
                .channel(&a.channel)
                .and_then(|c| c.entry(&a.from))
                .is_some();
            let reason = if known {
                format!(
                    "{} is the newest reachable bundle of channel {}: no entry replaces it, skips it or has a skipRange including its version",
                    a.from, a.channel
                )
            } else {
                format!(
                    "{} is not in channel {} and no entry replaces it, skips it or has a skipRange including its version",
                    a.from, a.channel
                )
            };
            json!({"to": null, "reason": reason})
        }
        Err(e) => json!({"to": null, "reason": e.why()}),
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

async fn resolve_cmd(a: ResolveArgs) -> anyhow::Result<()> {
    json_only(&a.output)?;
    let cats = catalogs(&a.inputs, &a.side).await?;
    let n = cats.len() as i32;
    let sources: Vec<Source<'_>> = cats
        .iter()
        .enumerate()
        .map(|(i, (name, c))| Source {
            priority: n - i as i32,
            ..Source::new(name, "", c)
        })
        .collect();
    let req = SubscriptionRequest {
        name: String::new(),
        package: a.package.clone(),
        channel: a.channel.clone(),
        source: None,
        starting_csv: a.bundle.clone(),
        installed_csv: None,
    };
    let installed: [Installed; 0] = [];
    let answer = match resolve::resolve(&sources, &installed, &[req]) {
        Ok(r) => json!({
            "bundles": r.steps.iter().map(|s| json!({
                "package": s.package, "csv": s.csv, "channel": s.channel, "reason": s.reason,
            })).collect::<Vec<_>>(),
            "error": null,
        }),
        Err(e) => json!({"bundles": [], "error": e.why()}),
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
