//! `marketplace image ...`: copy and inspect container images (flags only; the work is in the `oci`
//! crate). Locations are named as skopeo names them: `oci:DIR[:TAG]`, `docker-archive:FILE`,
//! `docker://REF`; a bare reference means `docker://`.

// The doc comments below are clap's `--help` text, written for a terminal (`<data-dir>`,
// `oci:DIR[:TAG]`), not rustdoc markup.
#![allow(
    rustdoc::invalid_html_tags,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::ArgAction;
use oci::copy::{CopyOptions, Dest, Location, Source};
use oci::progress::{Event, Transfer};

#[derive(clap::Subcommand)]
pub enum ImageCommand {
    /// Copy an image (or a whole multi-arch index) between layouts, archives and registries,
    /// preserving digests.
    #[command(after_help = COPY_EXAMPLES)]
    Copy(CopyArgs),
    /// Show an image's manifest digest, media type, platforms, layers and tags.
    Inspect(InspectArgs),
}

const COPY_EXAMPLES: &str = "\
Examples:
  marketplace image copy oci:./layout:v1 docker://registry.example.com/team/app:v1
  marketplace image copy docker://127.0.0.1:5000/app:v1 oci:./out:v1 --src-tls-verify=false
  marketplace image copy docker-archive:./saved.tar docker://reg.example/app:1 --dest-creds user:pass";

/// TLS and credentials for one side of a copy.
#[derive(clap::Args, Clone)]
pub struct SideArgs {
    /// Credentials USER:PASSWORD (default: Docker/containers auth files for that registry).
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// Verify TLS certificates; `false` also allows plain HTTP.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: bool,
    /// Directory with extra CA certificates (*.crt, *.pem).
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CopyArgs {
    /// Source: oci:DIR[:TAG], docker-archive:FILE[:NAME:TAG] or docker://REF.
    pub src: String,
    /// Destination: oci:DIR[:TAG] or docker://REF.
    pub dst: String,
    #[arg(long, value_name = "USER:PASSWORD")]
    pub src_creds: Option<String>,
    #[arg(long, value_name = "USER:PASSWORD")]
    pub dest_creds: Option<String>,
    /// Verify the source registry's TLS certificate (`false` also allows plain HTTP).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub src_tls_verify: bool,
    /// Verify the destination registry's TLS certificate (`false` also allows plain HTTP).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub dest_tls_verify: bool,
    #[arg(long, value_name = "DIR")]
    pub src_cert_dir: Option<PathBuf>,
    #[arg(long, value_name = "DIR")]
    pub dest_cert_dir: Option<PathBuf>,
    /// Copy only this platform's image out of an index (OS/ARCH[/VARIANT]); default: all of it.
    #[arg(long)]
    pub platform: Option<String>,
    /// Blobs transferred in parallel.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Remember unfinished uploads here so that a re-run resumes them.
    #[arg(long, value_name = "DIR")]
    pub resume_dir: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// The image: docker://REF (or a bare REF), oci:DIR[:TAG] or docker-archive:FILE.
    pub image: String,
    /// Print the manifest exactly as stored.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub side: SideArgs,
}

pub fn run(command: ImageCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        ImageCommand::Copy(a) => rt.block_on(copy(a)),
        ImageCommand::Inspect(a) => rt.block_on(inspect(a)),
    }
}

/// A bare reference is a registry image, as with `docker pull`.
pub(crate) fn location(s: &str) -> anyhow::Result<Location> {
    // `TRANSPORT:/path` or `TRANSPORT:./path` names a transport (known or not); `host:5000/repo`
    // and `repo:tag` are references.
    let transport = s.split_once(':').is_some_and(|(t, rest)| {
        t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            && (rest.starts_with('/') || rest.starts_with('.'))
    });
    let s = if transport || s.starts_with("oci:") || s.starts_with("docker-archive:") {
        s.to_string()
    } else {
        format!("docker://{s}")
    };
    Ok(Location::parse(&s)?)
}

pub(crate) fn options(loc: &Location, side: &SideArgs) -> anyhow::Result<oci::Options> {
    let mut opts = oci::Options {
        tls_verify: side.tls_verify,
        ..Default::default()
    };
    if let Some(dir) = &side.cert_dir {
        opts.ca_pem = read_cert_dir(dir)?;
    }
    opts.credentials = match (&side.creds, loc) {
        (Some(c), _) => Some(oci::auth::Credentials::parse(c)?),
        (None, Location::Registry(r)) => {
            oci::auth::lookup_credentials(&oci::auth::default_config_paths(), r.registry())?
        }
        (None, _) => None,
    };
    Ok(opts)
}

fn read_cert_dir(dir: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read certificate directory {}", dir.display()))?
    {
        let p = e?.path();
        if matches!(p.extension().and_then(|x| x.to_str()), Some("crt" | "pem")) {
            out.push(std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?);
        }
    }
    Ok(out)
}

async fn copy(a: CopyArgs) -> anyhow::Result<()> {
    let (src_loc, dst_loc) = (location(&a.src)?, location(&a.dst)?);
    let src_side = SideArgs {
        creds: a.src_creds.clone(),
        tls_verify: a.src_tls_verify,
        cert_dir: a.src_cert_dir.clone(),
    };
    let dst_side = SideArgs {
        creds: a.dest_creds.clone(),
        tls_verify: a.dest_tls_verify,
        cert_dir: a.dest_cert_dir.clone(),
    };
    let src = Source::open(&src_loc, &options(&src_loc, &src_side)?).await?;
    let mut dst_opts = options(&dst_loc, &dst_side)?;
    dst_opts.resume_dir = a.resume_dir.clone();
    let dst = Dest::open(&dst_loc, &dst_opts).await?;
    let progress: oci::progress::Sink = if a.quiet {
        oci::progress::none()
    } else {
        Arc::new(print_event)
    };
    let opts = CopyOptions {
        parallel: a.parallel.max(1),
        platform: a
            .platform
            .as_deref()
            .map(oci::Platform::parse)
            .transpose()?,
        progress,
    };
    let report = oci::copy::copy(&src, &dst, &opts).await?;
    if !a.quiet {
        eprintln!(
            "Copied {} image(s), {} blob(s); {} {}",
            report.images, report.blobs, report.media_type, report.digest
        );
    }
    println!("{}", report.digest);
    Ok(())
}

fn print_event(e: &Event) {
    let line = match e {
        Event::BlobDone {
            digest,
            size,
            transfer,
        } => {
            let how = match transfer {
                Transfer::Existing => "already present".to_string(),
                Transfer::Mounted => "mounted".to_string(),
                Transfer::Sent { resumed_at: 0 } => format!("{size} bytes"),
                Transfer::Sent { resumed_at } => format!("{size} bytes, resumed at {resumed_at}"),
            };
            format!("Copying blob {digest} done ({how})")
        }
        Event::ManifestDone { digest, .. } => format!("Writing manifest {digest}"),
        _ => return,
    };
    let _ = writeln!(std::io::stderr(), "{line}");
}

async fn inspect(a: InspectArgs) -> anyhow::Result<()> {
    let loc = location(&a.image)?;
    let src = Source::open(&loc, &options(&loc, &a.side)?).await?;
    let top = src.top().await?;
    if a.raw {
        std::io::stdout().write_all(&top.bytes)?;
        return Ok(());
    }
    let mut out = serde_json::json!({
        "Name": a.image,
        "Digest": top.digest.to_string(),
        "MediaType": top.media_type,
    });
    if top.is_index() {
        let children = top.children()?;
        let mut platforms = Vec::new();
        if let oci::Manifest::Index(i) = &top.parsed {
            for d in i.manifests() {
                let p = d.platform().as_ref().map(|p| {
                    format!(
                        "{}/{}{}",
                        p.os(),
                        p.architecture(),
                        p.variant()
                            .as_ref()
                            .map(|v| format!("/{v}"))
                            .unwrap_or_default()
                    )
                });
                platforms
                    .push(serde_json::json!({"Digest": d.digest().to_string(), "Platform": p}));
            }
        }
        out["Manifests"] = serde_json::json!(platforms);
        out["Images"] = serde_json::json!(children.len());
    } else {
        let blobs = top.blob_refs()?;
        out["Config"] = serde_json::json!(blobs[0].digest.to_string());
        out["Layers"] = blobs[1..].iter().map(|b| serde_json::json!({"Digest": b.digest.to_string(), "Size": b.size, "MediaType": b.media_type})).collect();
    }
    if let Source::Registry {
        registry,
        reference,
    } = &src
    {
        out["Tags"] = serde_json::json!(
            registry
                .tags(reference.repository())
                .await
                .unwrap_or_default()
        );
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
