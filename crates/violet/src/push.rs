//! `violet push`: read and verify every package first (a package that fails verification stops
//! everything before any byte is sent), log in and refuse non-admin users, push every image through
//! the `oci` crate's copy engine (blobs in parallel, HEAD first, cross-repository mount, retries,
//! resumable upload sessions), and only when every image is in the registry create the
//! Artifact/ArtifactVersion records in each target cluster.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use futures::StreamExt;
use oci::copy::{CopyOptions, Dest, Source};
use oci::progress::Totals;
use oci::{Reference, Registry};
use package::{Metadata, Unpacked};

use crate::cli::PushArgs;
use crate::platform::Session;
use crate::progress::{Display, ImageProgress};
use crate::records::{self, Pushed};

/// The flag combinations the documentation rules out, refused before anything else happens.
pub fn check_flags(a: &PushArgs) -> Result<()> {
    if a.dest_repo.is_some() && a.username.is_none() && !a.no_auth {
        bail!(
            "--dest-repo needs the registry's credentials: add --username and --password, or --no-auth if it needs none"
        );
    }
    if a.platform.platform_address.is_none() && !(a.skip_crs && a.dest_repo.is_some()) {
        bail!(
            "--platform-address is required (only --skip-crs with --dest-repo works without the platform)"
        );
    }
    if a.parallel == 0 || a.parallel_images == 0 {
        bail!("--parallel and --parallel-images must be at least 1");
    }
    Ok(())
}

/// The package files a path names: the file itself, or every `*.tgz` in a directory (sorted).
pub fn package_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "tgz"))
        .collect();
    v.sort();
    if v.is_empty() {
        bail!("{} holds no *.tgz packages", path.display());
    }
    Ok(v)
}

/// `HOST[:PORT][/PATH]` → (host, path prefix).
pub fn split_dest(dest: &str) -> (String, String) {
    let d = dest
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    match d.split_once('/') {
        Some((h, p)) => (h.to_string(), p.to_string()),
        None => (d.to_string(), String::new()),
    }
}

/// Where one image goes: `<host>/<prefix>/<path>` at its tag (or by digest when it has none).
pub fn destination(host: &str, prefix: &str, image: &package::Image) -> Result<Reference> {
    let (path, tag) = package::metadata::destination_path(&image.reference)?;
    let repo = if prefix.is_empty() {
        path
    } else {
        format!("{prefix}/{path}")
    };
    Ok(Reference::new(
        host,
        &repo,
        tag.as_deref().unwrap_or(&image.digest),
    )?)
}

pub async fn unpack_all(
    files: &[PathBuf],
    workdir: Option<PathBuf>,
) -> Result<Vec<(PathBuf, Unpacked)>> {
    unpack_each(files, workdir, true).await
}

/// Like [`unpack_all`] without the "verified" lines (for `show`).
pub async fn unpack_quiet(
    files: &[PathBuf],
    workdir: Option<PathBuf>,
) -> Result<Vec<(PathBuf, Unpacked)>> {
    unpack_each(files, workdir, false).await
}

async fn unpack_each(
    files: &[PathBuf],
    workdir: Option<PathBuf>,
    say: bool,
) -> Result<Vec<(PathBuf, Unpacked)>> {
    let mut out = Vec::new();
    for f in files {
        let (f2, w) = (f.clone(), workdir.clone());
        let started = Instant::now();
        let u = tokio::task::spawn_blocking(move || {
            package::unpack(&f2, w.as_deref(), &package::Limits::default())
        })
        .await?
        .with_context(|| {
            // `show` (quiet) pushes nothing in any case.
            let pushed = if say { "; nothing was pushed" } else { "" };
            format!("{} failed verification{pushed}", f.display())
        })?;
        if say {
            println!(
                "verified {}: {} {} {} ({} images, {:.1} MB of blobs in {:.2}s)",
                f.display(),
                u.metadata.kind,
                u.metadata.name,
                u.metadata.version,
                u.metadata.images().count(),
                u.blob_bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
        }
        out.push((f.clone(), u));
    }
    Ok(out)
}

pub async fn run(a: PushArgs) -> Result<()> {
    check_flags(&a)?;
    let started = Instant::now();
    let files = package_files(&a.path)?;
    // Signatures before anything else: a package not signed by the publisher stops everything.
    for f in &files {
        match &a.key {
            Some(k) => {
                for s in crate::verify::check_signatures(f, Some(k))
                    .with_context(|| format!("{}: nothing was pushed", f.display()))?
                {
                    println!("{}: {s}", f.display());
                }
            }
            None => {
                let sigs = crate::verify::signatures_beside(f);
                if !sigs.is_empty() {
                    eprintln!(
                        "note: {} has a signature ({}) that is not checked; pass --key with the publisher's public key to check it before pushing",
                        f.display(),
                        sigs.iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
        }
    }
    // Every package.yaml first (cheap, with the same entry checks): a broken one stops everything.
    let mut metas = Vec::new();
    for f in &files {
        let m = package::read::read_metadata(f)
            .with_context(|| format!("{} failed verification; nothing was pushed", f.display()))?;
        metas.push((f.clone(), m));
    }
    let session = match &a.platform.platform_address {
        Some(_) => Some(Session::login(&a.platform).await?),
        None => None,
    };
    if let Some(s) = &session {
        println!(
            "logged in to {} as {} ({})",
            s.address, s.user.name, s.user.role_name
        );
    }
    let dest = match (&a.dest_repo, &session) {
        (Some(d), _) => d.clone(),
        (None, Some(s)) => s.info().await?.registry.ok_or_else(|| {
            anyhow!("the platform reports no image registry; name one with --dest-repo")
        })?,
        (None, None) => unreachable!("check_flags requires one"),
    };
    let (host, prefix) = split_dest(&dest);
    let registry = Arc::new(connect(&a, &host).await?);
    check_access(&registry, &host, &prefix, &metas[0].1).await?;
    // What is already complete in the registry (every image's tag at the package's digest) is not
    // unpacked again; everything else is unpacked and verified before anything is pushed.
    let mut pushed: Vec<Option<Pushed>> = Vec::new();
    for (file, m) in &metas {
        let p = present(&registry, &host, &prefix, m).await?;
        if a.skip_push && p.is_none() {
            bail!(
                "{}: --skip-push needs its images in the registry already; push them first (without --skip-push)",
                file.display()
            );
        }
        if p.is_some() && !a.skip_push {
            println!(
                "{}: every image is already in the registry at its digest; nothing to send",
                file.display()
            );
        }
        pushed.push(p);
    }
    let todo: Vec<PathBuf> = metas
        .iter()
        .zip(&pushed)
        .filter(|(_, p)| p.is_none())
        .map(|((f, _), _)| f.clone())
        .collect();
    let unpacked = unpack_all(&todo, a.unpack.workdir.clone()).await?;
    let overall = Arc::new(Totals::default());
    let mut unpacked = unpacked.into_iter();
    for slot in pushed.iter_mut().filter(|p| p.is_none()) {
        let (_, u) = unpacked.next().context("unpacked packages out of step")?;
        *slot = Some(push_images(&a, &registry, &host, &prefix, &u, &overall).await?);
    }
    if !a.skip_push {
        summary(&overall, started);
    }
    if a.skip_crs {
        println!("--skip-crs: no Artifact/ArtifactVersion created");
        return Ok(());
    }
    let session = session.context("records need the platform")?;
    for ((_, m), p) in metas.iter().zip(&pushed) {
        let p = p.as_ref().context("a package was not pushed")?;
        create_records(&session, &a.clusters, m, p).await?;
    }
    Ok(())
}

async fn connect(a: &PushArgs, host: &str) -> Result<Registry> {
    let opts = oci::Options {
        credentials: match (&a.username, &a.password) {
            (Some(u), Some(p)) => Some(oci::auth::Credentials {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => None,
        },
        tls_verify: !a.platform.insecure_skip_tls_verify,
        plain_http: a.plain,
        resume_dir: Some(a.resume_dir.clone().unwrap_or_else(default_resume_dir)),
        ..Default::default()
    };
    Registry::connect(host, opts).await.map_err(|e| {
        let hint = match &e {
            oci::Error::Unauthorized { .. } => "check --username/--password",
            oci::Error::Transport { .. } => "check the address (--dest-repo), that the registry is running, and --plain for an HTTP registry",
            _ => "check --dest-repo",
        };
        anyhow!("cannot use the registry {host}: {e}; {hint}. Nothing was pushed.")
    })
}

/// Credentials are only checked when a repository is touched: ask for the first image's
/// manifest (present or not) so that wrong credentials stop the push before any upload.
async fn check_access(registry: &Registry, host: &str, prefix: &str, m: &Metadata) -> Result<()> {
    let r = destination(host, prefix, &m.artifact)?;
    match registry
        .head_manifest(r.repository(), &m.artifact.digest)
        .await
    {
        Ok(_) | Err(oci::Error::NotFound { .. }) => Ok(()),
        Err(e @ (oci::Error::Unauthorized { .. } | oci::Error::Denied { .. })) => {
            bail!(
                "the registry {host} refused access: {e}; check --username/--password. Nothing was pushed."
            )
        }
        Err(e) => {
            bail!("the registry {host}: {e}; check --dest-repo and --plain. Nothing was pushed.")
        }
    }
}

fn default_resume_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("violet/uploads")
}

/// The unique blobs (configs and layers) of an image, for all platforms of an index.
fn image_blobs(layout: &oci::Layout) -> Vec<oci::BlobRef> {
    let Ok(top) = layout.resolve(None) else {
        return vec![];
    };
    let Ok(m) = layout.read_manifest(&top) else {
        return vec![];
    };
    let mut manifests = vec![];
    if m.is_index() {
        for c in m.children().unwrap_or_default() {
            if let Ok(x) = layout.read_manifest(&c) {
                manifests.push(x);
            }
        }
    } else {
        manifests.push(m);
    }
    let mut seen = std::collections::HashSet::new();
    manifests
        .iter()
        .flat_map(|m| m.blob_refs().unwrap_or_default())
        .filter(|b| seen.insert(b.digest.clone()))
        .collect()
}

fn image_bytes(layout: &oci::Layout) -> u64 {
    image_blobs(layout).iter().map(|b| b.size).sum()
}

/// Every unique blob of the package (configs and layers, shared base layers once) is pushed first
/// from one pool, largest first, `--parallel` at a time, into the first image's repository that
/// has it: the uploads stay busy until the last byte instead of each image waiting for its own
/// largest layer, and a shared layer is never uploaded twice at the same time. The images are
/// then copied `--parallel-images` at a time: their blobs are there (or mounted from the first
/// repository), so that is manifests and tags. A blob's bytes move the bar of the first image
/// that has it.
async fn push_blobs(
    a: &PushArgs,
    registry: &Arc<Registry>,
    images: &[(oci::Layout, Reference, Arc<ImageProgress>)],
    overall: &Arc<Totals>,
) -> Result<std::collections::HashSet<oci::Digest>> {
    let mut seen = std::collections::HashSet::new();
    let mut blobs = Vec::new();
    for (layout, dst, progress) in images {
        for b in image_blobs(layout) {
            if seen.insert(b.digest.clone()) {
                blobs.push((
                    b,
                    dst.repository().to_string(),
                    layout,
                    progress.sink(overall),
                ));
            }
        }
    }
    blobs.sort_by_key(|b| std::cmp::Reverse(b.0.size));
    let jobs = blobs.into_iter().map(|(b, repo, layout, sink)| async move {
        let src = layout.blob_source(&b);
        let how = oci::upload::push_blob(registry, &repo, &b, &src, None, &sink)
            .await
            .map_err(|e| {
                anyhow!(
                    "pushing blob {} to {repo}: {e}; run the same command again to resume",
                    b.digest
                )
            })?;
        sink(&oci::progress::Event::BlobDone {
            digest: b.digest.clone(),
            size: b.size,
            transfer: how,
        });
        Ok::<_, anyhow::Error>(b.digest)
    });
    let mut done = std::collections::HashSet::new();
    let mut results = futures::stream::iter(jobs).buffer_unordered(a.parallel);
    while let Some(r) = results.next().await {
        done.insert(r?);
    }
    Ok(done)
}

async fn push_images(
    a: &PushArgs,
    registry: &Arc<Registry>,
    host: &str,
    prefix: &str,
    u: &Unpacked,
    overall: &Arc<Totals>,
) -> Result<Pushed> {
    use std::io::IsTerminal;
    let display = Display::new(!a.no_progress_bars && std::io::stdout().is_terminal());
    let mut images = Vec::new();
    for img in u.metadata.images() {
        let layout = u.layout(img)?;
        let dst_ref = destination(host, prefix, img)?;
        let progress = ImageProgress::new(&display, &dst_ref.to_string(), image_bytes(&layout));
        images.push((layout, dst_ref, progress));
    }
    let pushed = Arc::new(push_blobs(a, registry, &images, overall).await?);
    let names: Vec<&package::Image> = u.metadata.images().collect();
    let jobs = images
        .iter()
        .zip(names)
        .map(|((layout, dst_ref, progress), img)| {
            let pushed = pushed.clone();
            async move {
                let src = Source::Layout {
                    layout: layout.clone(),
                    tag: None,
                };
                let dst = Dest::Registry {
                    registry: registry.clone(),
                    reference: dst_ref.clone(),
                };
                // The pool's blobs are found where it put them: not "already in the registry".
                let sink = progress.sink(overall);
                let progress_sink: oci::progress::Sink =
                    Arc::new(move |e: &oci::progress::Event| {
                        if let oci::progress::Event::BlobDone {
                            digest,
                            transfer: oci::progress::Transfer::Existing,
                            ..
                        } = e
                            && pushed.contains(digest)
                        {
                            return;
                        }
                        sink(e)
                    });
                let opts = CopyOptions {
                    parallel: a.parallel,
                    platform: None,
                    progress: progress_sink,
                };
                match oci::copy::copy(&src, &dst, &opts).await {
                    Ok(r) => {
                        progress.finish(&r.digest);
                        Ok(dst_ref.with_digest(r.digest).to_string())
                    }
                    Err(e) => {
                        progress.abandon();
                        Err(anyhow!(
                            "pushing {} to {dst_ref}: {e}; run the same command again to resume",
                            img.reference
                        ))
                    }
                }
            }
        });
    let results: Vec<Result<String>> = futures::stream::iter(jobs)
        .buffered(a.parallel_images)
        .collect()
        .await;
    let mut refs = Vec::new();
    for r in results {
        refs.push(r?);
    }
    let artifact = refs.remove(0);
    let (_, tag) = package::metadata::destination_path(&u.metadata.artifact.reference)?;
    Ok(Pushed {
        artifact,
        tag,
        related: refs,
    })
}

/// `Some` with where every image is when each is in the registry under its tag at the package's
/// digest (or by digest when it has no tag); `None` when anything is missing or a tag moved.
async fn present(
    registry: &Registry,
    host: &str,
    prefix: &str,
    m: &Metadata,
) -> Result<Option<Pushed>> {
    let mut refs = Vec::new();
    for img in m.images() {
        let r = destination(host, prefix, img)?;
        let d = oci::Digest::parse(&img.digest)?;
        let found = registry
            .head_manifest(r.repository(), &r.manifest_reference())
            .await
            .map_err(|e| anyhow!("checking {r}: {e}"))?;
        match found {
            Some((got, _)) if got == d => refs.push(r.with_digest(d).to_string()),
            _ => return Ok(None),
        }
    }
    let artifact = refs.remove(0);
    let (_, tag) = package::metadata::destination_path(&m.artifact.reference)?;
    Ok(Some(Pushed {
        artifact,
        tag,
        related: refs,
    }))
}

fn summary(t: &Totals, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let bytes = Totals::get(&t.bytes_sent);
    println!(
        "summary: {} blobs sent ({} resumed), {} already in the registry, {} mounted, {} manifests; {:.1} MB in {:.1}s ({:.1} MB/s)",
        Totals::get(&t.blobs_sent),
        Totals::get(&t.blobs_resumed),
        Totals::get(&t.blobs_existing),
        Totals::get(&t.blobs_mounted),
        Totals::get(&t.manifests),
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-3)
    );
}

async fn create_records(s: &Session, clusters: &[String], m: &Metadata, p: &Pushed) -> Result<()> {
    let (targets, notice) = records::targets(m.kind, clusters);
    if let Some(n) = notice {
        println!("notice: {n}");
    }
    for c in targets {
        let client = s.kube_client(&c).await?;
        let changed = records::apply(client, &c, m, p).await?;
        println!(
            "{} Artifact {} and ArtifactVersion {} in cluster {c} ({}/{})",
            if changed { "applied" } else { "unchanged:" },
            m.name,
            m.version_name(),
            records::NAMESPACE,
            m.kind
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_keep_the_path_under_the_platform_registry() {
        let img = package::Image {
            reference: "harbor.demo.io/acp/topolvm:v3.11.0".into(),
            layout: "images/1".into(),
            digest: oci::Digest::of(b"x").to_string(),
        };
        assert_eq!(
            destination("127.0.0.1:5000", "", &img).unwrap().to_string(),
            "127.0.0.1:5000/acp/topolvm:v3.11.0"
        );
        assert_eq!(
            destination("vip:11443", "mirror", &img)
                .unwrap()
                .to_string(),
            "vip:11443/mirror/acp/topolvm:v3.11.0"
        );
        assert_eq!(
            split_dest("https://vip:11443/a/"),
            ("vip:11443".into(), "a".into())
        );
    }
}
