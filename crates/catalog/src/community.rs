//! The community-operators layout — `<package>/<version>/{manifests,metadata}` (sometimes one
//! directory deeper, e.g. `<version>/bundle/`) plus `<package>/ci.yaml` — published as a catalog
//! the way that pipeline publishes it:
//!
//! * `updateGraph: replaces-mode` (the default): each channel's head is the highest version
//!   among the bundles that declare the channel, and the channel is the `spec.replaces` walk
//!   from it (with each entry's `skips` and `skipRange`);
//! * `updateGraph: semver-mode`: `spec.replaces` is ignored and each bundle of a channel replaces
//!   the next lower version of that channel;
//! * the default channel is the one declared by the highest-version bundle that declares one
//!   (a package with one channel defaults to it).
//!
//! Bundles a channel walk does not reach are in no channel and are not published.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{Bundle, Catalog, Channel, ChannelEntry, Icon, Package};
use crate::version::cmp_versions;

/// How a package's channels are built (`ci.yaml` `updateGraph`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateGraph {
    ReplacesMode,
    SemverMode,
}

/// Reads `ci.yaml`'s `updateGraph` (absent file or key: replaces-mode).
pub fn read_update_graph(package_dir: &Path) -> Result<UpdateGraph> {
    let path = package_dir.join("ci.yaml");
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(UpdateGraph::ReplacesMode);
    };
    let file = path.display().to_string();
    let doc = crate::decode::documents(&file, &bytes)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    match doc.get("updateGraph") {
        None | Some(Value::Null) => Ok(UpdateGraph::ReplacesMode),
        Some(Value::String(s)) if s == "replaces-mode" => Ok(UpdateGraph::ReplacesMode),
        Some(Value::String(s)) if s == "semver-mode" => Ok(UpdateGraph::SemverMode),
        Some(other) => Err(Error::invalid(
            file,
            "updateGraph",
            format!("{other} is neither replaces-mode nor semver-mode"),
        )),
    }
}

/// Whether `dir` is a registry+v1 bundle (holds `metadata/annotations.yaml`).
pub fn is_bundle_dir(dir: &Path) -> bool {
    dir.join("metadata/annotations.yaml").is_file()
        || dir.join("metadata/annotations.yml").is_file()
}

/// The bundle directory of a version directory: itself, or its one subdirectory that is a bundle.
pub fn bundle_dir_of(version_dir: &Path) -> Option<PathBuf> {
    if is_bundle_dir(version_dir) {
        return Some(version_dir.to_path_buf());
    }
    let mut subs: Vec<PathBuf> = std::fs::read_dir(version_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_bundle_dir(p))
        .collect();
    subs.sort();
    if subs.len() == 1 { subs.pop() } else { None }
}

/// Whether `dir` looks like a community-operators package directory (a `ci.yaml`, or version
/// directories holding bundles).
pub fn is_package_dir(dir: &Path) -> bool {
    if dir.join("ci.yaml").is_file() {
        return true;
    }
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.path().is_dir() && bundle_dir_of(&e.path()).is_some())
        })
        .unwrap_or(false)
}

/// Loads every bundle of the package directory (each version directory, sorted).
pub fn load_package_bundles(package_dir: &Path) -> Result<Vec<Bundle>> {
    let rd = std::fs::read_dir(package_dir)
        .map_err(|e| Error::io(package_dir.display().to_string(), e))?;
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        if let Some(b) = bundle_dir_of(&d) {
            out.push(Bundle::from_registry_v1_dir(&b)?);
        }
    }
    Ok(out)
}

/// Publishes the package directory as a catalog (see the module doc).
pub fn render_package_dir(package_dir: &Path) -> Result<Catalog> {
    let mode = read_update_graph(package_dir)?;
    let bundles = load_package_bundles(package_dir)?;
    if bundles.is_empty() {
        return Err(Error::invalid(
            package_dir.display().to_string(),
            "(directory)",
            "holds no registry+v1 bundle (<version>/manifests + <version>/metadata/annotations.yaml)",
        ));
    }
    publish(&package_dir.display().to_string(), bundles, mode)
}

/// Publishes bundles of one package as a catalog under `mode`. `source` names the input in errors.
pub fn publish(source: &str, mut bundles: Vec<Bundle>, mode: UpdateGraph) -> Result<Catalog> {
    bundles.sort_by(|a, b| cmp_versions(&a.version, &b.version));
    let package = bundles[0].package.clone();
    if let Some(b) = bundles.iter().find(|b| b.package != package) {
        return Err(Error::invalid(
            &b.source,
            "annotations.operators.operatorframework.io.bundle.package.v1",
            format!(
                "{:?} differs from {package:?} of the other bundles in {source}",
                b.package
            ),
        ));
    }
    let by_name: BTreeMap<&str, &Bundle> = bundles.iter().map(|b| (b.name.as_str(), b)).collect();
    let channel_names: BTreeSet<&str> = bundles
        .iter()
        .flat_map(|b| b.channels.iter().map(String::as_str))
        .collect();
    let mut channels = BTreeMap::new();
    for ch in channel_names {
        let members: Vec<&Bundle> = bundles
            .iter()
            .filter(|b| b.channels.iter().any(|c| c == ch))
            .collect();
        let entries = match mode {
            UpdateGraph::ReplacesMode => replaces_walk(&members, &by_name),
            UpdateGraph::SemverMode => semver_chain(&members),
        };
        channels.insert(
            ch.to_string(),
            Channel {
                name: ch.to_string(),
                package: package.clone(),
                entries,
                properties: Vec::new(),
                source: source.to_string(),
            },
        );
    }
    let listed: BTreeSet<String> = channels
        .values()
        .flat_map(|c| c.entries.iter().map(|e| e.name.clone()))
        .collect();
    let newest = bundles.last().expect("non-empty");
    let default_channel = bundles
        .iter()
        .rev()
        .find_map(|b| b.default_channel.clone())
        .filter(|c| channels.contains_key(c))
        .or_else(|| {
            if channels.len() == 1 {
                channels.keys().next().cloned()
            } else {
                newest.channels.first().cloned()
            }
        });
    let icon = newest.csv_json().and_then(csv_icon);
    let pkg = Package {
        name: package.clone(),
        default_channel,
        description: None,
        icon,
        properties: Vec::new(),
        channels,
        bundles: bundles
            .iter()
            .filter(|b| listed.contains(&b.name))
            .map(|b| (b.name.clone(), b.clone()))
            .collect(),
        deprecations: None,
        source: source.to_string(),
    };
    let mut catalog = Catalog::new();
    catalog.packages.insert(package, pkg);
    catalog.validate()?;
    Ok(catalog)
}

fn entry_of(b: &Bundle, replaces: Option<String>) -> ChannelEntry {
    ChannelEntry {
        name: b.name.clone(),
        replaces,
        skips: b.skips.clone(),
        skip_range: b.skip_range.clone(),
    }
}

/// replaces-mode: from the highest version of the channel, follow `spec.replaces` through the
/// package's bundles (listed in version order, oldest first, as the pipeline writes them).
fn replaces_walk(members: &[&Bundle], by_name: &BTreeMap<&str, &Bundle>) -> Vec<ChannelEntry> {
    let Some(head) = members.last() else {
        return Vec::new();
    };
    let mut chain = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cur = Some(*head);
    while let Some(b) = cur {
        if !seen.insert(b.name.as_str()) {
            break;
        }
        chain.push(entry_of(b, b.replaces.clone()));
        cur = b.replaces.as_deref().and_then(|r| by_name.get(r).copied());
    }
    chain.reverse();
    chain
}

/// semver-mode: each bundle replaces the next lower version of the channel.
fn semver_chain(members: &[&Bundle]) -> Vec<ChannelEntry> {
    let mut out = Vec::new();
    let mut prev: Option<&str> = None;
    for b in members {
        out.push(entry_of(b, prev.map(str::to_string)));
        prev = Some(b.name.as_str());
    }
    out
}

/// The CSV's first `spec.icon`.
fn csv_icon(csv: &Value) -> Option<Icon> {
    let first = csv.pointer("/spec/icon/0")?;
    Some(Icon {
        base64data: first.get("base64data")?.as_str()?.to_string(),
        mediatype: first.get("mediatype")?.as_str()?.to_string(),
    })
}
