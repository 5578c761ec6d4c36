//! Building packages: from an operator bundle directory (registry+v1: `manifests/` with a
//! ClusterServiceVersion, `metadata/annotations.yaml`; built into a bundle image), a chart
//! directory (packaged and stored as a Helm OCI chart artifact), or a plugin descriptor (YAML with
//! the plugin's name, version, chart directory, ModulePlugin and ModuleConfig), each plus the OCI
//! image layouts of its related images. Images are copied into the package with the `oci` crate's
//! copy engine, so their digests are the ones they had.

use std::io::Write;
use std::path::{Path, PathBuf};

use oci::copy::{CopyOptions, Dest, Source};
use oci::manifest::media;
use oci::{BlobRef, Digest, Layout, RawManifest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::metadata::{ChartRef, FORMAT_VERSION, Image, Kind, Metadata};
use crate::write::write_package;

/// An image to put in the package: its reference and the OCI layout (and tag in it) holding it.
#[derive(Clone, Debug)]
pub struct ImageInput {
    pub reference: String,
    pub layout: PathBuf,
    pub tag: Option<String>,
}

impl ImageInput {
    /// Parses `REF=DIR[:TAG]` as `violet pack --image` takes it.
    pub fn parse(s: &str) -> Result<ImageInput> {
        let (reference, loc) = s.split_once('=').ok_or_else(|| {
            Error::Pack(format!("--image {s:?}: expected REFERENCE=LAYOUT_DIR[:TAG], e.g. harbor.demo.io/acp/topolvm:v3.11.0=./topolvm-layout"))
        })?;
        let (dir, tag) = match loc.rsplit_once(':') {
            Some((d, t)) if !t.contains('/') && !d.is_empty() => (d, Some(t.to_string())),
            _ => (loc, None),
        };
        oci::Reference::parse(reference).map_err(|e| Error::Pack(format!("--image {s:?}: {e}")))?;
        Ok(ImageInput {
            reference: reference.to_string(),
            layout: dir.into(),
            tag,
        })
    }
}

/// What a pack adds or overrides.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub images: Vec<ImageInput>,
    /// The main artifact's reference (default per type).
    pub artifact_reference: Option<String>,
    pub display_name: Option<String>,
    pub source_type: Option<String>,
    pub catalog_source: Option<String>,
    pub provider: Option<String>,
    /// `os/arch` list (default: the platforms of the related images).
    pub architectures: Option<Vec<String>>,
}

/// Partial metadata a source contributes before images are staged.
struct Draft {
    name: String,
    display_name: String,
    kind: Kind,
    version: String,
    provider: Option<String>,
    artifact_reference: String,
    chart: Option<ChartRef>,
    module_plugin: Option<Value>,
    module_config: Option<Value>,
    /// References the source says it needs (a CSV's relatedImages).
    required: Vec<String>,
}

/// Packs an operator bundle directory into `out`.
pub async fn pack_bundle(dir: &Path, out: &Path, opts: &Options) -> Result<Metadata> {
    let staging = staging_dir(out)?;
    let csv = read_bundle(dir)?;
    let artifact_ref = opts
        .artifact_reference
        .clone()
        .unwrap_or_else(|| format!("acp/{}-bundle:{}", csv.package, v_prefixed(&csv.version)));
    let layout_dir = staging.path().join("images/0-bundle");
    let digest = build_bundle_image(dir, &layout_dir, &csv)?;
    let draft = Draft {
        name: csv.package.clone(),
        display_name: csv.display_name.clone(),
        kind: Kind::Bundle,
        version: csv.version.clone(),
        provider: csv.provider.clone(),
        artifact_reference: artifact_ref,
        chart: None,
        module_plugin: None,
        module_config: None,
        required: csv.related_images.clone(),
    };
    finish(draft, "images/0-bundle", digest, staging, out, opts).await
}

/// Packs a chart directory into `out` as a `chart` package.
pub async fn pack_chart(dir: &Path, out: &Path, opts: &Options) -> Result<Metadata> {
    let staging = staging_dir(out)?;
    let (artifact, digest) = stage_chart(dir, &staging.path().join("images/0-chart"))?;
    let draft = Draft {
        name: dns_name(&artifact.name)?,
        display_name: artifact.name.clone(),
        kind: Kind::Chart,
        version: artifact.version.clone(),
        provider: None,
        artifact_reference: opts
            .artifact_reference
            .clone()
            .unwrap_or_else(|| format!("public-charts/{}:{}", artifact.name, artifact.tag())),
        chart: Some(ChartRef {
            name: artifact.name.clone(),
            version: artifact.version.clone(),
        }),
        module_plugin: None,
        module_config: None,
        required: Vec::new(),
    };
    finish(draft, "images/0-chart", digest, staging, out, opts).await
}

/// A plugin descriptor: the plugin and where its chart is (relative to the descriptor).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginDescriptor {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub version: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub source_type: Option<String>,
    /// The chart directory.
    pub chart: PathBuf,
    pub module_plugin: Value,
    pub module_config: Value,
    /// Images as `REF=DIR[:TAG]` (relative to the descriptor), added to `--image`.
    #[serde(default)]
    pub images: Vec<String>,
}

/// Packs a cluster plugin from its descriptor into `out`.
pub async fn pack_plugin(descriptor: &Path, out: &Path, opts: &Options) -> Result<Metadata> {
    let text =
        std::fs::read_to_string(descriptor).map_err(|e| Error::io(descriptor.display(), e))?;
    let d: PluginDescriptor = serde_yaml::from_str(&text)
        .map_err(|e| Error::Pack(format!("{}: {e}", descriptor.display())))?;
    let base = descriptor.parent().unwrap_or(Path::new("."));
    let staging = staging_dir(out)?;
    let (artifact, digest) =
        stage_chart(&base.join(&d.chart), &staging.path().join("images/0-chart"))?;
    let mut opts = opts.clone();
    for s in &d.images {
        let mut i = ImageInput::parse(s)?;
        i.layout = base.join(i.layout);
        opts.images.push(i);
    }
    if opts.source_type.is_none() {
        opts.source_type = d.source_type.clone();
    }
    let draft = Draft {
        name: d.name.clone(),
        display_name: d.display_name.clone().unwrap_or_else(|| d.name.clone()),
        kind: Kind::Plugin,
        version: d.version.clone(),
        provider: d.provider.clone(),
        artifact_reference: opts
            .artifact_reference
            .clone()
            .unwrap_or_else(|| format!("acp/chart-{}:{}", artifact.name, artifact.tag())),
        chart: Some(ChartRef {
            name: artifact.name.clone(),
            version: artifact.version.clone(),
        }),
        module_plugin: Some(d.module_plugin),
        module_config: Some(d.module_config),
        required: Vec::new(),
    };
    finish(draft, "images/0-chart", digest, staging, out, &opts).await
}

async fn finish(
    draft: Draft,
    artifact_layout: &str,
    artifact_digest: Digest,
    staging: tempfile::TempDir,
    out: &Path,
    opts: &Options,
) -> Result<Metadata> {
    let missing: Vec<&String> = draft
        .required
        .iter()
        .filter(|r| !opts.images.iter().any(|i| &i.reference == *r))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Pack(format!(
            "the bundle's ClusterServiceVersion lists related images with no layout given: {}; pass each as --image REF=LAYOUT_DIR",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut related = Vec::new();
    let mut arch = Vec::new();
    for (i, input) in opts.images.iter().enumerate() {
        let layout = format!("images/{}-{}", i + 1, slug(&input.reference));
        let digest = stage_image(input, &staging.path().join(&layout)).await?;
        let l = Layout::open(&staging.path().join(&layout))?;
        arch.extend(crate::read::platforms(&l, &l.resolve(None)?)?);
        related.push(Image {
            reference: input.reference.clone(),
            layout,
            digest: digest.to_string(),
        });
    }
    arch.sort();
    arch.dedup();
    let kind = draft.kind;
    let m = Metadata {
        format_version: FORMAT_VERSION,
        name: draft.name,
        display_name: opts.display_name.clone().unwrap_or(draft.display_name),
        kind,
        version: draft.version,
        architectures: opts.architectures.clone().unwrap_or(arch),
        provider: opts.provider.clone().or(draft.provider),
        source_type: opts.source_type.clone().or(Some("custom".into())),
        catalog_source: (kind == Kind::Bundle).then(|| {
            opts.catalog_source
                .clone()
                .unwrap_or_else(|| "platform".into())
        }),
        artifact: Image {
            reference: draft.artifact_reference,
            layout: artifact_layout.into(),
            digest: artifact_digest.to_string(),
        },
        related_images: related,
        chart: draft.chart,
        module_plugin: draft.module_plugin,
        module_config: draft.module_config,
    };
    m.validate()?;
    write_package(out, &m, staging.path())?;
    Ok(m)
}

fn staging_dir(out: &Path) -> Result<tempfile::TempDir> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".violet-pack-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent.display(), e))
}

/// Copies an image (all platforms of an index) into a fresh layout; returns its top digest.
async fn stage_image(input: &ImageInput, dest: &Path) -> Result<Digest> {
    let src = Source::Layout {
        layout: Layout::open(&input.layout)
            .map_err(|e| Error::Pack(format!("--image {}: {e}", input.reference)))?,
        tag: input.tag.clone(),
    };
    let dst = Dest::Layout {
        layout: Layout::create(dest)?,
        tag: None,
    };
    let report = oci::copy::copy(&src, &dst, &CopyOptions::default()).await?;
    Ok(report.digest)
}

/// A layout directory name from a reference: its last path component, lowercased.
fn slug(reference: &str) -> String {
    let last = reference
        .split('@')
        .next()
        .unwrap_or(reference)
        .rsplit('/')
        .next()
        .unwrap_or("image");
    let s: String = last
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.chars().take(100).collect()
}

fn v_prefixed(v: &str) -> String {
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

fn dns_name(s: &str) -> Result<String> {
    let n = s.to_ascii_lowercase().replace(['_', '.'], "-");
    if n.is_empty() || n.len() > 63 || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::Pack(format!(
            "{s:?} cannot be a package name (DNS-1123 label)"
        )));
    }
    Ok(n)
}

/// What a bundle directory says about itself.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    pub package: String,
    pub version: String,
    pub display_name: String,
    pub provider: Option<String>,
    pub related_images: Vec<String>,
    pub annotations: serde_json::Map<String, Value>,
}

const PACKAGE_ANNOTATION: &str = "operators.operatorframework.io.bundle.package.v1";

/// Reads `metadata/annotations.yaml` and the ClusterServiceVersion in `manifests/`.
pub fn read_bundle(dir: &Path) -> Result<BundleInfo> {
    let ann_path = dir.join("metadata/annotations.yaml");
    let text = std::fs::read_to_string(&ann_path).map_err(|e| {
        Error::Pack(format!(
            "{}: {e}; a registry+v1 bundle has metadata/annotations.yaml",
            ann_path.display()
        ))
    })?;
    let v: Value = serde_yaml::from_str(&text)
        .map_err(|e| Error::Pack(format!("{}: {e}", ann_path.display())))?;
    let annotations = v["annotations"].as_object().cloned().unwrap_or_default();
    let package = annotations
        .get(PACKAGE_ANNOTATION)
        .and_then(|p| p.as_str())
        .ok_or_else(|| {
            Error::Pack(format!(
                "{}: no annotation {PACKAGE_ANNOTATION}",
                ann_path.display()
            ))
        })?
        .to_string();
    let csv = find_csv(&dir.join("manifests"))?;
    let version = csv["spec"]["version"]
        .as_str()
        .ok_or_else(|| Error::Pack("the ClusterServiceVersion has no spec.version".into()))?
        .to_string();
    let related_images = csv["spec"]["relatedImages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["image"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(BundleInfo {
        display_name: csv["spec"]["displayName"]
            .as_str()
            .unwrap_or(&package)
            .to_string(),
        provider: csv["spec"]["provider"]["name"].as_str().map(str::to_string),
        package,
        version,
        related_images,
        annotations,
    })
}

fn find_csv(manifests: &Path) -> Result<Value> {
    for p in sorted_files(manifests)? {
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(p.display(), e))?;
        let Ok(v) = serde_yaml::from_str::<Value>(&text) else {
            continue;
        };
        if v["kind"] == "ClusterServiceVersion" {
            return Ok(v);
        }
    }
    Err(Error::Pack(format!(
        "{}: no ClusterServiceVersion",
        manifests.display()
    )))
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))? {
        let e = e.map_err(|e| Error::io(dir.display(), e))?;
        let t = e
            .file_type()
            .map_err(|err| Error::io(e.path().display(), err))?;
        if t.is_symlink() {
            return Err(Error::Pack(format!(
                "{}: symbolic links are not packed",
                e.path().display()
            )));
        }
        if t.is_file() {
            v.push(e.path());
        }
    }
    v.sort();
    Ok(v)
}

/// A deterministic gzip'd tar of `dir`'s files under `prefix/` (sub-directories included).
fn tar_gz_dir(prefixes: &[(&Path, &str)]) -> Result<(Vec<u8>, Digest)> {
    let mut raw = Vec::new();
    {
        let mut b = tar::Builder::new(&mut raw);
        for (root, prefix) in prefixes {
            append_tree(&mut b, root, prefix)?;
        }
        b.finish().map_err(|e| Error::Pack(e.to_string()))?;
    }
    let diff_id = Digest::of(&raw);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).map_err(|e| Error::Pack(e.to_string()))?;
    Ok((
        gz.finish().map_err(|e| Error::Pack(e.to_string()))?,
        diff_id,
    ))
}

fn append_tree<W: Write>(b: &mut tar::Builder<W>, root: &Path, prefix: &str) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_mtime(0);
    b.append_data(&mut h, format!("{prefix}/"), std::io::empty())
        .map_err(|e| Error::Pack(e.to_string()))?;
    let mut entries: Vec<_> = std::fs::read_dir(root)
        .map_err(|e| Error::io(root.display(), e))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let t = e
            .file_type()
            .map_err(|err| Error::io(e.path().display(), err))?;
        let name = format!("{prefix}/{}", e.file_name().to_string_lossy());
        if t.is_symlink() {
            return Err(Error::Pack(format!(
                "{}: symbolic links are not packed",
                e.path().display()
            )));
        } else if t.is_dir() {
            append_tree(b, &e.path(), &name)?;
        } else if t.is_file() {
            let data = std::fs::read(e.path()).map_err(|err| Error::io(e.path().display(), err))?;
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            h.set_mtime(0);
            b.append_data(&mut h, &name, &data[..])
                .map_err(|e| Error::Pack(e.to_string()))?;
        }
    }
    Ok(())
}

/// Writes blobs and the manifest of a one-layer image into a new layout; returns its digest.
fn write_image(
    dest: &Path,
    config: &[u8],
    config_type: &str,
    layer: &[u8],
    layer_type: &str,
    annotations: Value,
) -> Result<Digest> {
    let layout = Layout::create(dest)?;
    let mut doc = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": Digest::of(config).to_string(), "size": config.len()},
        "layers": [{"mediaType": layer_type, "digest": Digest::of(layer).to_string(), "size": layer.len()}],
    });
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        doc["annotations"] = annotations;
    }
    for blob in [config, layer] {
        let p = layout.blob_path(&Digest::of(blob));
        std::fs::write(&p, blob).map_err(|e| Error::io(p.display(), e))?;
    }
    let m = RawManifest::parse(
        serde_json::to_vec(&doc).map_err(|e| Error::Pack(e.to_string()))?,
        Some(media::OCI_MANIFEST),
    )?;
    let d: BlobRef = layout.write_manifest(&m)?;
    layout.set_ref(None, &d)?;
    Ok(m.digest)
}

/// A bundle image (as `opm`/`operator-sdk` build them): one layer with `manifests/` and
/// `metadata/`, the bundle annotations as config labels.
fn build_bundle_image(dir: &Path, dest: &Path, info: &BundleInfo) -> Result<Digest> {
    let (layer, diff_id) = tar_gz_dir(&[
        (&dir.join("manifests"), "manifests"),
        (&dir.join("metadata"), "metadata"),
    ])?;
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": info.annotations},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    });
    let config = serde_json::to_vec(&config).map_err(|e| Error::Pack(e.to_string()))?;
    write_image(
        dest,
        &config,
        media::OCI_CONFIG,
        &layer,
        media::OCI_LAYER_GZIP,
        json!({}),
    )
}

/// Packages a chart directory (`helm package` layout: `<name>/...`) and stores it as a Helm OCI
/// artifact in a new layout.
fn stage_chart(dir: &Path, dest: &Path) -> Result<(oci::chart::ChartArtifact, Digest)> {
    let chart_yaml = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).map_err(|e| {
        Error::Pack(format!(
            "{}: {e}; a chart directory has Chart.yaml",
            chart_yaml.display()
        ))
    })?;
    let meta: Value = serde_yaml::from_str(&text)
        .map_err(|e| Error::Pack(format!("{}: {e}", chart_yaml.display())))?;
    let name = meta["name"]
        .as_str()
        .ok_or_else(|| Error::Pack(format!("{}: no name", chart_yaml.display())))?;
    let (tgz, _) = tar_gz_dir(&[(dir, name)])?;
    let artifact = oci::chart::ChartArtifact::from_tgz(tgz)?;
    let m = artifact.manifest()?;
    let layout = Layout::create(dest)?;
    for blob in [&artifact.config, &artifact.tgz] {
        let p = layout.blob_path(&Digest::of(blob));
        std::fs::write(&p, blob).map_err(|e| Error::io(p.display(), e))?;
    }
    let d = layout.write_manifest(&m)?;
    layout.set_ref(None, &d)?;
    Ok((artifact, m.digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_inputs_parse_reference_layout_and_tag() {
        let i = ImageInput::parse("harbor.demo.io/acp/topolvm:v3.11.0=./lay:v1").unwrap();
        assert_eq!(i.reference, "harbor.demo.io/acp/topolvm:v3.11.0");
        assert_eq!(i.layout, PathBuf::from("./lay"));
        assert_eq!(i.tag.as_deref(), Some("v1"));
        let i = ImageInput::parse("a/b:1=/x/y").unwrap();
        assert_eq!(i.tag, None);
        assert!(
            ImageInput::parse("nolayout")
                .unwrap_err()
                .to_string()
                .contains("REFERENCE=LAYOUT_DIR")
        );
        assert_eq!(
            slug("harbor.demo.io/3rdparty/k8scsi/csi-provisioner:v3.00"),
            "csi-provisioner-v3.00"
        );
    }
}
