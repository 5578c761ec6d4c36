//! The community-operators layout — `<package>/<version>/{manifests,metadata}` (sometimes one
//! directory deeper, e.g. `<version>/bundle/`) plus `<package>/ci.yaml` — published as a catalog
//! the way that pipeline publishes it:
//!
//! * `updateGraph: replaces-mode` (the default): each channel's head is the highest version
//!   among the bundles that declare the channel, and the channel is the `spec.replaces` walk
//!   from it (with each entry's `skips` and `skipRange`; versions an entry skips stay listed
//!   when they declare the channel, as the registry database kept them);
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
/// package's bundles; bundles an entry skips stay in the channel when they declare it (the
/// registry kept them when their successor was added, so they remain installable by name) and
/// are walked on from too. Entries are listed oldest first, as the pipeline writes them.
fn replaces_walk(members: &[&Bundle], by_name: &BTreeMap<&str, &Bundle>) -> Vec<ChannelEntry> {
    let Some(head) = members.last() else {
        return Vec::new();
    };
    let declares = |name: &str| members.iter().any(|m| m.name == name);
    let mut reached: Vec<&Bundle> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut todo = vec![*head];
    while let Some(b) = todo.pop() {
        if !seen.insert(b.name.as_str()) {
            continue;
        }
        reached.push(b);
        if let Some(r) = b.replaces.as_deref().and_then(|r| by_name.get(r)) {
            todo.push(r);
        }
        for s in &b.skips {
            if let Some(sb) = by_name.get(s.as_str()).filter(|sb| declares(&sb.name)) {
                todo.push(sb);
            }
        }
    }
    reached.sort_by(|a, b| cmp_versions(&a.version, &b.version));
    reached
        .into_iter()
        .map(|b| entry_of(b, b.replaces.clone()))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Version;

    fn b(
        v: (u64, u64, u64),
        channels: &[&str],
        replaces: Option<&str>,
        skips: &[&str],
        default: Option<&str>,
    ) -> Bundle {
        Bundle {
            name: format!("op.v{}.{}.{}", v.0, v.1, v.2),
            package: "op".into(),
            image: String::new(),
            version: Version::new(v.0, v.1, v.2),
            properties: vec![],
            related_images: vec![],
            channels: channels.iter().map(|c| c.to_string()).collect(),
            default_channel: default.map(String::from),
            replaces: replaces.map(String::from),
            skips: skips.iter().map(|s| s.to_string()).collect(),
            skip_range: None,
            source: "test".into(),
            objects: vec![],
            provided: vec![],
        }
    }

    fn names(c: &Catalog, ch: &str) -> Vec<String> {
        c.package("op").unwrap().channels[ch]
            .entries
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }

    #[test]
    fn replaces_mode_walks_from_the_highest_version() {
        let bundles = vec![
            b((1, 0, 0), &["stable"], None, &[], Some("stable")),
            b((1, 1, 0), &["stable"], Some("op.v1.0.0"), &[], None),
            // not replaced by anything on the walk: omitted from the update graph
            b((1, 1, 5), &["stable"], Some("op.v1.0.0"), &[], None),
            b(
                (1, 2, 0),
                &["stable"],
                Some("op.v1.0.0"),
                &["op.v1.1.0"],
                None,
            ),
            b(
                (2, 0, 0),
                &["stable", "fast"],
                Some("op.v1.2.0"),
                &[],
                Some("fast"),
            ),
        ];
        let c = publish("test", bundles, UpdateGraph::ReplacesMode).unwrap();
        assert_eq!(
            names(&c, "stable"),
            ["op.v1.0.0", "op.v1.1.0", "op.v1.2.0", "op.v2.0.0"]
        );
        assert_eq!(
            c.package("op").unwrap().channels["stable"]
                .head()
                .unwrap()
                .name,
            "op.v2.0.0"
        );
        // fast: only 2.0.0 declares it, but the walk follows replaces into the package
        assert_eq!(names(&c, "fast"), ["op.v1.0.0", "op.v1.2.0", "op.v2.0.0"]);
        assert!(
            c.package("op").unwrap().bundle("op.v1.1.5").is_none(),
            "unreached bundles are not published"
        );
        assert_eq!(
            c.package("op").unwrap().default_channel.as_deref(),
            Some("fast"),
            "the newest bundle declaring a default wins"
        );
    }

    #[test]
    fn semver_mode_ignores_replaces() {
        let bundles = vec![
            b((0, 2, 0), &["alpha"], Some("op.v0.0.1"), &[], None),
            b((0, 1, 0), &["alpha"], None, &[], None),
            b((0, 3, 0), &["alpha", "beta"], Some("op.v0.1.0"), &[], None),
        ];
        let c = publish("test", bundles, UpdateGraph::SemverMode).unwrap();
        let p = c.package("op").unwrap();
        let reps: Vec<Option<String>> = p.channels["alpha"]
            .entries
            .iter()
            .map(|e| e.replaces.clone())
            .collect();
        assert_eq!(
            reps,
            [None, Some("op.v0.1.0".into()), Some("op.v0.2.0".into())]
        );
        assert_eq!(names(&c, "beta"), ["op.v0.3.0"]);
        assert_eq!(
            p.default_channel.as_deref(),
            Some("alpha"),
            "no bundle declares a default: the newest bundle's first channel"
        );
    }
}
