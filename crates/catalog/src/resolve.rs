//! The resolver, as OLM v0 picks: the bundle for a Subscription (its channel's head, or
//! `startingCSV`), the next upgrade of an installed CSV (the entry of the channel nearest the
//! head that replaces it, skips it, or whose `skipRange` holds its version), and the required
//! dependencies (`olm.package.required` in a version range, `olm.gvk.required`), satisfied by
//! installed CSVs first, then by installable bundles (same catalog first, then by catalog
//! priority; default channel first; nearest the head first). All Subscriptions of a namespace are
//! resolved together: they share dependencies and must agree on one version per package. When
//! nothing fits, [`Unsatisfiable::why`] is one paragraph naming the package, the versions seen
//! and the constraint that failed.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Bundle, Catalog, Channel, Gvk, Package, PackageRequired};
use crate::version::{Range, Version, cmp_versions, parse_version};

/// A CatalogSource's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SourceKey {
    pub name: String,
    pub namespace: String,
}

impl std::fmt::Display for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A catalog with its CatalogSource's identity and priority (higher is preferred, as
/// `spec.priority`).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub key: SourceKey,
    pub priority: i32,
    pub catalog: &'a Catalog,
}

impl<'a> Source<'a> {
    pub fn new(name: &str, namespace: &str, catalog: &'a Catalog) -> Source<'a> {
        Source {
            key: SourceKey {
                name: name.to_string(),
                namespace: namespace.to_string(),
            },
            priority: 0,
            catalog,
        }
    }
}

/// A CSV installed in the namespace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Installed {
    pub csv: String,
    /// The package, when known (from the Subscription that installed it or the catalog).
    pub package: Option<String>,
    pub version: Option<Version>,
    /// APIs it provides (owned CRDs and APIServices).
    pub provides: Vec<Gvk>,
}

impl Installed {
    /// What a ClusterServiceVersion object says about itself: name, `spec.version`, owned
    /// CRDs (group from the CRD name) and owned APIServices. `package` is left to the caller.
    pub fn from_csv_json(csv: &Value) -> Installed {
        let s = |p: &str| {
            csv.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let list = |p: &str| {
            csv.pointer(p)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut provides = Vec::new();
        for d in list("/spec/customresourcedefinitions/owned") {
            let name = d["name"].as_str().unwrap_or_default();
            provides.push(Gvk {
                group: name
                    .split_once('.')
                    .map(|(_, g)| g)
                    .unwrap_or_default()
                    .to_string(),
                version: d["version"].as_str().unwrap_or_default().to_string(),
                kind: d["kind"].as_str().unwrap_or_default().to_string(),
            });
        }
        for d in list("/spec/apiservicedefinitions/owned") {
            if let Ok(g) = serde_json::from_value::<Gvk>(d) {
                provides.push(g);
            }
        }
        Installed {
            csv: s("/metadata/name"),
            package: None,
            version: parse_version(&s("/spec/version")).ok(),
            provides,
        }
    }
}

/// One Subscription to resolve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscriptionRequest {
    /// The Subscription's name (for messages; may be empty).
    pub name: String,
    pub package: String,
    /// `spec.channel`; None or empty = the package's default channel.
    pub channel: Option<String>,
    /// `spec.source`/`spec.sourceNamespace`; None = any catalog.
    pub source: Option<SourceKey>,
    /// `spec.startingCSV`.
    pub starting_csv: Option<String>,
    /// `status.installedCSV`: when set, the Subscription asks for the next upgrade.
    pub installed_csv: Option<String>,
}

/// One bundle the resolution installs.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub package: String,
    pub csv: String,
    pub channel: String,
    pub source: SourceKey,
    pub bundle: &'a Bundle,
    /// The installed CSV this bundle replaces (upgrades).
    pub replaces: Option<String>,
    /// The Subscription it answers; None for a dependency.
    pub subscription: Option<String>,
    /// Why this bundle, in one sentence.
    pub reason: String,
}

/// What to install (in dependency order: dependencies before their dependents).
#[derive(Debug, Clone, Default)]
pub struct Resolution<'a> {
    pub steps: Vec<Step<'a>>,
}

impl Resolution<'_> {
    /// The step for Subscription `name`'s package.
    pub fn for_package(&self, package: &str) -> Option<&Step<'_>> {
        self.steps.iter().find(|s| s.package == package)
    }
}

/// Why nothing fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Unsatisfiable {
    /// The package whose constraint failed.
    pub package: String,
    message: String,
}

impl Unsatisfiable {
    fn new(package: &str, message: String) -> Unsatisfiable {
        Unsatisfiable {
            package: package.to_string(),
            message,
        }
    }

    /// One readable paragraph: the package, the versions seen and the constraint that failed.
    pub fn why(&self) -> &str {
        &self.message
    }
}

/// An upgrade OLM would take from an installed CSV.
#[derive(Debug, Clone)]
pub struct Upgrade<'a> {
    pub bundle: &'a Bundle,
    pub channel: String,
    pub reason: String,
}

/// The entries of `channel` in OLM's preference order: the replaces chain from the head, then
/// the rest from the newest version down.
pub fn channel_order<'c>(package: &'c Package, channel: &'c Channel) -> Vec<&'c str> {
    let mut out: Vec<&str> = channel
        .replaces_chain()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let mut rest: Vec<&str> = channel
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| !out.contains(n))
        .collect();
    rest.sort_by(|a, b| {
        let v = |n: &str| package.bundles.get(n).map(|b| b.version.clone());
        match (v(a), v(b)) {
            (Some(x), Some(y)) => cmp_versions(&y, &x),
            _ => Ordering::Equal,
        }
    });
    out.extend(rest);
    out
}

/// The next upgrade from installed CSV `from` (version `from_version` when known; otherwise the
/// catalog's version of `from`) in `channel` of `package`: the entry nearest the head that
/// replaces `from`, lists it in `skips`, or whose `skipRange` holds its version. `Ok(None)`: up
/// to date. Errors when the package or channel is not in the catalog.
pub fn next_upgrade<'a>(
    catalog: &'a Catalog,
    package: &str,
    channel: &str,
    from: &str,
    from_version: Option<&Version>,
) -> Result<Option<Upgrade<'a>>, Unsatisfiable> {
    let pkg = catalog.package(package).ok_or_else(|| {
        Unsatisfiable::new(
            package,
            format!(
                "Package {package:?} is not in the catalog, so no upgrade of {from:?} can be found."
            ),
        )
    })?;
    let ch = pkg.channel(channel).ok_or_else(|| {
        Unsatisfiable::new(package, format!("Package {package:?} has no channel {channel:?} (channels: {}), so no upgrade of {from:?} can be found.", pkg.channels.keys().cloned().collect::<Vec<_>>().join(", ")))
    })?;
    let version = from_version
        .cloned()
        .or_else(|| pkg.bundle(from).map(|b| b.version.clone()));
    Ok(upgrade_in_channel(pkg, ch, from, version.as_ref()))
}

fn upgrade_in_channel<'a>(
    pkg: &'a Package,
    ch: &'a Channel,
    from: &str,
    version: Option<&Version>,
) -> Option<Upgrade<'a>> {
    for name in channel_order(pkg, ch) {
        if name == from {
            continue;
        }
        let entry = ch.entry(name)?;
        let reason = if entry.replaces.as_deref() == Some(from) {
            format!("{name} replaces {from} in channel {}", ch.name)
        } else if entry.skips.iter().any(|s| s == from) {
            format!("{name} skips {from} in channel {}", ch.name)
        } else if let (Some(r), Some(v)) = (&entry.skip_range, version) {
            match Range::parse(r) {
                Ok(range) if range.matches(v) => format!(
                    "{name} has skipRange {r:?}, which includes {from} (version {v}), in channel {}",
                    ch.name
                ),
                _ => continue,
            }
        } else {
            continue;
        };
        let bundle = pkg.bundle(name)?;
        return Some(Upgrade {
            bundle,
            channel: ch.name.clone(),
            reason,
        });
    }
    None
}

/// Resolves the Subscriptions of one namespace together against `sources`, given what is
/// installed there.
pub fn resolve<'a>(
    sources: &[Source<'a>],
    installed: &[Installed],
    requests: &[SubscriptionRequest],
) -> Result<Resolution<'a>, Unsatisfiable> {
    let mut r = Resolver {
        sources: ordered(sources),
        installed,
        chosen: BTreeMap::new(),
        order: Vec::new(),
    };
    // The Subscriptions' own choices first, so a dependency never pre-empts an explicit one.
    let mut picked = Vec::new();
    for req in requests {
        if let Some(step) = r.subscription(req)? {
            picked.push(step.package.clone());
            r.insert(step, &sub_label(req))?;
        }
    }
    for package in picked {
        r.dependencies_of(&package)?;
    }
    Ok(Resolution {
        steps: r
            .order
            .into_iter()
            .filter_map(|p| r.chosen.remove(&p))
            .collect(),
    })
}

fn ordered<'a>(sources: &[Source<'a>]) -> Vec<Source<'a>> {
    let mut v = sources.to_vec();
    v.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.key.cmp(&b.key)));
    v
}

struct Resolver<'a, 'i> {
    sources: Vec<Source<'a>>,
    installed: &'i [Installed],
    chosen: BTreeMap<String, Step<'a>>,
    order: Vec<String>,
}

fn sub_label(req: &SubscriptionRequest) -> String {
    if req.name.is_empty() {
        format!("package {:?}", req.package)
    } else {
        format!("Subscription {:?} (package {:?})", req.name, req.package)
    }
}

impl<'a> Resolver<'a, '_> {
    fn subscription(
        &mut self,
        req: &SubscriptionRequest,
    ) -> Result<Option<Step<'a>>, Unsatisfiable> {
        let label = sub_label(req);
        let (source, pkg) = self.find_package(req, &label)?;
        let channel_name = match req.channel.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => c.to_string(),
            None => pkg.default_channel.clone().ok_or_else(|| {
                Unsatisfiable::new(&req.package, format!("{label} names no channel and package {:?} in catalog {} declares no default channel; set spec.channel to one of: {}.", req.package, source.key, list(pkg.channels.keys())))
            })?,
        };
        let ch = pkg.channel(&channel_name).ok_or_else(|| {
            Unsatisfiable::new(&req.package, format!("{label} asks for channel {channel_name:?}, but package {:?} in catalog {} has only channels {}.", req.package, source.key, list(pkg.channels.keys())))
        })?;
        let step = if let Some(from) = req.installed_csv.as_deref().filter(|s| !s.is_empty()) {
            let version = self
                .installed
                .iter()
                .find(|i| i.csv == from)
                .and_then(|i| i.version.clone())
                .or_else(|| pkg.bundle(from).map(|b| b.version.clone()));
            match upgrade_in_channel(pkg, ch, from, version.as_ref()) {
                None => return Ok(None),
                Some(u) => Step {
                    package: req.package.clone(),
                    csv: u.bundle.name.clone(),
                    channel: u.channel,
                    source: source.key.clone(),
                    bundle: u.bundle,
                    replaces: Some(from.to_string()),
                    subscription: Some(req.name.clone()),
                    reason: format!("upgrade: {}", u.reason),
                },
            }
        } else {
            let (bundle, reason) = match req.starting_csv.as_deref().filter(|s| !s.is_empty()) {
                Some(start) => {
                    let b = ch.entry(start).and_then(|e| pkg.bundle(&e.name)).ok_or_else(|| {
                        let versions: Vec<String> = channel_order(pkg, ch).iter().filter_map(|n| pkg.bundle(n)).map(|b| format!("{} ({})", b.name, b.version)).collect();
                        Unsatisfiable::new(&req.package, format!("{label} asks for startingCSV {start:?}, but channel {channel_name:?} of package {:?} in catalog {} has no such bundle; it offers {}.", req.package, source.key, versions.join(", ")))
                    })?;
                    (b, format!("startingCSV {start} in channel {channel_name}"))
                }
                None => {
                    let head = ch.head().and_then(|e| pkg.bundle(&e.name)).ok_or_else(|| {
                        Unsatisfiable::new(&req.package, format!("{label}: channel {channel_name:?} of package {:?} in catalog {} has no single head.", req.package, source.key))
                    })?;
                    (head, format!("head of channel {channel_name}"))
                }
            };
            Step {
                package: req.package.clone(),
                csv: bundle.name.clone(),
                channel: channel_name.clone(),
                source: source.key.clone(),
                bundle,
                replaces: None,
                subscription: Some(req.name.clone()),
                reason,
            }
        };
        Ok(Some(step))
    }

    fn find_package(
        &self,
        req: &SubscriptionRequest,
        label: &str,
    ) -> Result<(Source<'a>, &'a Package), Unsatisfiable> {
        if let Some(key) = &req.source {
            let src = self.sources.iter().find(|s| &s.key == key).ok_or_else(|| {
                Unsatisfiable::new(&req.package, format!("{label} names catalog source {key}, which does not exist or has no content yet (known: {}).", list(self.sources.iter().map(|s| s.key.to_string()))))
            })?;
            let pkg = src.catalog.package(&req.package).ok_or_else(|| {
                Unsatisfiable::new(
                    &req.package,
                    format!(
                        "{label}: package {:?} is not in catalog {key}{}.",
                        req.package,
                        elsewhere(&self.sources, &req.package)
                    ),
                )
            })?;
            return Ok((src.clone(), pkg));
        }
        self.sources
            .iter()
            .find_map(|s| s.catalog.package(&req.package).map(|p| (s.clone(), p)))
            .ok_or_else(|| {
                Unsatisfiable::new(
                    &req.package,
                    format!(
                        "{label}: no catalog offers package {:?} (searched {}).",
                        req.package,
                        list(self.sources.iter().map(|s| s.key.to_string()))
                    ),
                )
            })
    }

    /// Records `step`; its package must not already be chosen at another version. Returns
    /// whether it is new.
    fn insert(&mut self, step: Step<'a>, label: &str) -> Result<bool, Unsatisfiable> {
        if let Some(prev) = self.chosen.get(&step.package) {
            if prev.csv == step.csv {
                return Ok(false);
            }
            return Err(Unsatisfiable::new(
                &step.package,
                format!(
                    "{label} needs {} {} ({}), but {} {} is chosen too ({}); only one version of a package can be installed in a namespace.",
                    step.package,
                    step.bundle.version,
                    step.reason,
                    prev.package,
                    prev.bundle.version,
                    prev.reason
                ),
            ));
        }
        self.chosen.insert(step.package.clone(), step);
        Ok(true)
    }

    /// Resolves the dependencies of chosen `package`, then lists it after them.
    fn dependencies_of(&mut self, package: &str) -> Result<(), Unsatisfiable> {
        if self.order.iter().any(|p| p == package) {
            return Ok(());
        }
        let (bundle, src) = {
            let s = &self.chosen[package];
            (s.bundle, s.source.clone())
        };
        for dep in bundle.required_packages() {
            self.package_dependency(bundle, &src, &dep)?;
        }
        for gvk in bundle.required_gvks() {
            self.gvk_dependency(bundle, &src, &gvk)?;
        }
        if !self.order.iter().any(|p| p == package) {
            self.order.push(package.to_string());
        }
        Ok(())
    }

    /// Records a dependency and resolves its own dependencies.
    fn choose(&mut self, step: Step<'a>, label: &str) -> Result<(), Unsatisfiable> {
        let package = step.package.clone();
        if self.insert(step, label)? {
            self.dependencies_of(&package)?;
        }
        Ok(())
    }

    fn package_dependency(
        &mut self,
        of: &'a Bundle,
        src: &SourceKey,
        dep: &PackageRequired,
    ) -> Result<(), Unsatisfiable> {
        let who = format!("{} {} ({})", of.package, of.version, of.name);
        let range = Range::parse(&dep.version_range).map_err(|e| {
            Unsatisfiable::new(
                &of.package,
                format!(
                    "{who} requires package {:?} with an unreadable range: {e}.",
                    dep.package_name
                ),
            )
        })?;
        if let Some(i) = self.installed_of(&dep.package_name)
            && (i.version.as_ref().is_some_and(|v| range.matches(v))
                || self
                    .chosen
                    .get(&dep.package_name)
                    .is_some_and(|c| range.matches(&c.bundle.version)))
        {
            return Ok(());
        }
        if let Some(c) = self.chosen.get(&dep.package_name) {
            if range.matches(&c.bundle.version) {
                return Ok(());
            }
            return Err(Unsatisfiable::new(
                &of.package,
                format!(
                    "{who} requires package {:?} in range {:?}, but {} {} is being installed ({}), which is outside that range.",
                    dep.package_name, dep.version_range, c.package, c.bundle.version, c.reason
                ),
            ));
        }
        if let Some(i) = self.installed_of(&dep.package_name) {
            return Err(Unsatisfiable::new(
                &of.package,
                format!(
                    "{who} requires package {:?} in range {:?}, but {} (version {}) is installed and outside that range; upgrade it first.",
                    dep.package_name,
                    dep.version_range,
                    i.csv,
                    i.version
                        .as_ref()
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "unknown".into())
                ),
            ));
        }
        let found = self.preferred_sources(src).into_iter().find_map(|(_, s)| {
            let pkg = s.catalog.package(&dep.package_name)?;
            best_in_package(&s, pkg, |b| range.matches(&b.version))
        });
        match found {
            Some((source, channel, bundle)) => {
                let reason = format!(
                    "required by {}: package {} in range {:?} (channel {channel} of catalog {source})",
                    of.name, dep.package_name, dep.version_range
                );
                let step = Step {
                    package: bundle.package.clone(),
                    csv: bundle.name.clone(),
                    channel,
                    source,
                    bundle,
                    replaces: None,
                    subscription: None,
                    reason,
                };
                self.choose(step, &who)
            }
            None => {
                let offered: Vec<String> = self
                    .sources
                    .iter()
                    .filter_map(|s| s.catalog.package(&dep.package_name).map(|p| (s, p)))
                    .flat_map(|(s, p)| {
                        p.bundles
                            .values()
                            .map(move |b| format!("{} in {}", b.version, s.key))
                    })
                    .collect();
                let seen = if offered.is_empty() {
                    "no catalog offers that package".to_string()
                } else {
                    format!("the catalogs offer only {}", offered.join(", "))
                };
                Err(Unsatisfiable::new(
                    &of.package,
                    format!(
                        "{who} requires package {:?} in version range {:?}, but {seen}; nothing installed provides it either.",
                        dep.package_name, dep.version_range
                    ),
                ))
            }
        }
    }

    fn gvk_dependency(
        &mut self,
        of: &'a Bundle,
        src: &SourceKey,
        gvk: &Gvk,
    ) -> Result<(), Unsatisfiable> {
        if self.installed.iter().any(|i| i.provides.contains(gvk))
            || self.chosen.values().any(|c| c.bundle.provides(gvk))
        {
            return Ok(());
        }
        let who = format!("{} {} ({})", of.package, of.version, of.name);
        let found = self.preferred_sources(src).into_iter().find_map(|(_, s)| {
            let catalog: &'a Catalog = s.catalog;
            catalog
                .packages
                .values()
                .find_map(|pkg| best_in_package(&s, pkg, |b| b.provides(gvk)))
        });
        match found {
            Some((source, channel, bundle)) => {
                let reason = format!(
                    "required by {}: provides API {gvk} (channel {channel} of catalog {source})",
                    of.name
                );
                let step = Step {
                    package: bundle.package.clone(),
                    csv: bundle.name.clone(),
                    channel,
                    source,
                    bundle,
                    replaces: None,
                    subscription: None,
                    reason,
                };
                self.choose(step, &who)
            }
            None => Err(Unsatisfiable::new(
                &of.package,
                format!(
                    "{who} requires API {gvk} (olm.gvk.required), but no installed operator provides it and no bundle in the catalogs ({}) does.",
                    list(self.sources.iter().map(|s| s.key.to_string()))
                ),
            )),
        }
    }

    /// The installed CSV of `package`: by its recorded package, or, when that is unknown (a CSV
    /// read from the cluster), by finding the CSV's name among the package's bundles.
    fn installed_of(&self, package: &str) -> Option<&Installed> {
        self.installed.iter().find(|i| match &i.package {
            Some(p) => p == package,
            None => self.sources.iter().any(|s| {
                s.catalog
                    .package(package)
                    .is_some_and(|p| p.bundles.contains_key(&i.csv))
            }),
        })
    }

    /// Sources in preference order for a dependency: the dependent's catalog first, then by
    /// priority (the order `resolve` sorted them in), with their indexes.
    fn preferred_sources(&self, prefer: &SourceKey) -> Vec<(usize, Source<'a>)> {
        let mut srcs: Vec<(usize, Source<'a>)> = self.sources.iter().cloned().enumerate().collect();
        srcs.sort_by_key(|(_, s)| &s.key != prefer);
        srcs
    }
}

/// The best bundle of `pkg` matching `pred`: default channel first, then the others by name;
/// in a channel nearest the head first.
fn best_in_package<'a>(
    s: &Source<'a>,
    pkg: &'a Package,
    pred: impl Fn(&Bundle) -> bool,
) -> Option<(SourceKey, String, &'a Bundle)> {
    if !pkg.bundles.values().any(&pred) {
        return None;
    }
    let mut chans: Vec<&Channel> = pkg.channels.values().collect();
    chans.sort_by_key(|c| Some(&c.name) != pkg.default_channel.as_ref());
    for ch in chans {
        for name in channel_order(pkg, ch) {
            if let Some(b) = pkg.bundle(name).filter(|b| pred(b)) {
                return Some((s.key.clone(), ch.name.clone(), b));
            }
        }
    }
    None
}

fn elsewhere(sources: &[Source<'_>], package: &str) -> String {
    let others: Vec<String> = sources
        .iter()
        .filter(|s| s.catalog.package(package).is_some())
        .map(|s| s.key.to_string())
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" (it is in {})", others.join(", "))
    }
}

fn list<S: AsRef<str>>(it: impl Iterator<Item = S>) -> String {
    let v: Vec<String> = it.map(|s| s.as_ref().to_string()).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(pkg: &str, version: &str, extra: Vec<Value>) -> Value {
        let mut props =
            vec![json!({"type": "olm.package", "value": {"packageName": pkg, "version": version}})];
        props.extend(extra);
        json!({"schema": "olm.bundle", "name": format!("{pkg}.v{version}"), "package": pkg, "image": format!("reg/{pkg}:{version}"), "properties": props})
    }

    fn gvk(kind: &str) -> Value {
        json!({"type": "olm.gvk", "value": {"group": "example.com", "version": "v1", "kind": kind}})
    }

    fn catalog() -> Catalog {
        let blobs = vec![
            json!({"schema": "olm.package", "name": "app", "defaultChannel": "stable"}),
            json!({"schema": "olm.channel", "package": "app", "name": "stable", "entries": [
                {"name": "app.v1.0.0"},
                {"name": "app.v1.1.0", "replaces": "app.v1.0.0"},
                {"name": "app.v1.2.0", "replaces": "app.v1.1.0", "skips": ["app.v1.1.5"]},
                {"name": "app.v2.0.0", "replaces": "app.v1.2.0", "skipRange": ">=1.0.0 <1.2.0"}
            ]}),
            json!({"schema": "olm.channel", "package": "app", "name": "fast", "entries": [
                {"name": "app.v1.0.0"}, {"name": "app.v1.1.0", "replaces": "app.v1.0.0"}
            ]}),
            bundle("app", "1.0.0", vec![]),
            bundle("app", "1.1.0", vec![]),
            bundle("app", "1.2.0", vec![]),
            bundle(
                "app",
                "2.0.0",
                vec![
                    json!({"type": "olm.package.required", "value": {"packageName": "db", "versionRange": ">=3.0.0 <4.0.0"}}),
                    json!({"type": "olm.gvk.required", "value": {"group": "example.com", "version": "v1", "kind": "Cache"}}),
                ],
            ),
            json!({"schema": "olm.package", "name": "db", "defaultChannel": "stable"}),
            json!({"schema": "olm.channel", "package": "db", "name": "stable", "entries": [
                {"name": "db.v3.0.0"}, {"name": "db.v3.1.0", "replaces": "db.v3.0.0"}, {"name": "db.v4.0.0", "replaces": "db.v3.1.0"}
            ]}),
            bundle("db", "3.0.0", vec![]),
            bundle("db", "3.1.0", vec![]),
            bundle("db", "4.0.0", vec![]),
            json!({"schema": "olm.package", "name": "cache", "defaultChannel": "alpha"}),
            json!({"schema": "olm.channel", "package": "cache", "name": "alpha", "entries": [{"name": "cache.v0.1.0"}]}),
            bundle("cache", "0.1.0", vec![gvk("Cache")]),
        ];
        Catalog::from_blobs("test", blobs).unwrap()
    }

    fn req(pkg: &str) -> SubscriptionRequest {
        SubscriptionRequest {
            name: format!("{pkg}-sub"),
            package: pkg.into(),
            ..Default::default()
        }
    }

    #[test]
    fn head_of_default_channel_brings_its_dependencies_first() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let r = resolve(&srcs, &[], &[req("app")]).unwrap();
        let csvs: Vec<&str> = r.steps.iter().map(|s| s.csv.as_str()).collect();
        assert_eq!(csvs, ["db.v3.1.0", "cache.v0.1.0", "app.v2.0.0"]);
        assert_eq!(r.steps[2].reason, "head of channel stable");
        assert!(
            r.steps[0].reason.contains("required by app.v2.0.0"),
            "{}",
            r.steps[0].reason
        );
        assert!(r.steps[0].subscription.is_none());
    }

    #[test]
    fn starting_csv_must_be_in_the_channel() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let mut q = req("app");
        q.starting_csv = Some("app.v1.1.0".into());
        let r = resolve(&srcs, &[], std::slice::from_ref(&q)).unwrap();
        assert_eq!(r.steps.len(), 1);
        assert_eq!(r.steps[0].csv, "app.v1.1.0");
        q.starting_csv = Some("app.v9.0.0".into());
        let e = resolve(&srcs, &[], &[q]).unwrap_err();
        assert!(
            e.why().contains("startingCSV \"app.v9.0.0\"")
                && e.why().contains("app.v1.2.0 (1.2.0)"),
            "{}",
            e.why()
        );
    }

    #[test]
    fn upgrade_prefers_the_entry_nearest_the_head() {
        let c = catalog();
        // 1.0.0: replaced by 1.1.0, but 2.0.0's skipRange covers it and 2.0.0 is the head.
        let u = next_upgrade(&c, "app", "stable", "app.v1.0.0", None)
            .unwrap()
            .unwrap();
        assert_eq!(u.bundle.name, "app.v2.0.0");
        assert!(u.reason.contains("skipRange"), "{}", u.reason);
        // 1.2.0 is outside the skipRange: its replacer.
        let u = next_upgrade(&c, "app", "stable", "app.v1.2.0", None)
            .unwrap()
            .unwrap();
        assert_eq!(u.bundle.name, "app.v2.0.0");
        assert!(u.reason.contains("replaces app.v1.2.0"), "{}", u.reason);
        // skips: 1.1.5 is not in the catalog but 1.2.0 skips it (and 2.0.0's range covers 1.1.5).
        let v = parse_version("1.1.5").unwrap();
        let u = next_upgrade(&c, "app", "stable", "app.v1.1.5", Some(&v))
            .unwrap()
            .unwrap();
        assert_eq!(u.bundle.name, "app.v2.0.0");
        // the head has no upgrade
        assert!(
            next_upgrade(&c, "app", "stable", "app.v2.0.0", None)
                .unwrap()
                .is_none()
        );
        // in channel fast, 1.0.0 → 1.1.0 only
        let u = next_upgrade(&c, "app", "fast", "app.v1.0.0", None)
            .unwrap()
            .unwrap();
        assert_eq!(u.bundle.name, "app.v1.1.0");
        assert!(next_upgrade(&c, "app", "nope", "app.v1.0.0", None).is_err());
    }

    #[test]
    fn upgrade_of_installed_csv_through_resolve() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let installed = [
            Installed {
                csv: "app.v1.1.0".into(),
                package: Some("app".into()),
                version: Some(Version::new(1, 1, 0)),
                provides: vec![],
            },
            Installed {
                csv: "db.v3.0.0".into(),
                package: Some("db".into()),
                version: Some(Version::new(3, 0, 0)),
                provides: vec![],
            },
        ];
        let mut q = req("app");
        q.channel = Some("fast".into());
        q.installed_csv = Some("app.v1.1.0".into());
        assert!(
            resolve(&srcs, &installed, std::slice::from_ref(&q))
                .unwrap()
                .steps
                .is_empty(),
            "fast's head is installed"
        );
        q.channel = Some("stable".into());
        let r = resolve(&srcs, &installed, &[q]).unwrap();
        let app = r.for_package("app").unwrap();
        assert_eq!(app.csv, "app.v2.0.0");
        assert_eq!(app.replaces.as_deref(), Some("app.v1.1.0"));
        assert!(
            r.for_package("db").is_none(),
            "installed db 3.0.0 satisfies >=3.0.0 <4.0.0"
        );
        assert!(r.for_package("cache").is_some());
    }

    #[test]
    fn dependency_out_of_range_is_explained() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let installed = [Installed {
            csv: "db.v4.0.0".into(),
            package: Some("db".into()),
            version: Some(Version::new(4, 0, 0)),
            provides: vec![],
        }];
        let e = resolve(&srcs, &installed, &[req("app")]).unwrap_err();
        assert_eq!(e.package, "app");
        let why = e.why();
        assert!(
            why.contains(
                "app 2.0.0 (app.v2.0.0) requires package \"db\" in range \">=3.0.0 <4.0.0\""
            ),
            "{why}"
        );
        assert!(
            why.contains("db.v4.0.0 (version 4.0.0) is installed"),
            "{why}"
        );
    }

    #[test]
    fn installed_csv_without_package_is_recognised_by_name() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let csv = json!({"metadata": {"name": "db.v3.0.0"}, "spec": {"version": "3.0.0"}});
        let installed = [Installed::from_csv_json(&csv)];
        assert_eq!(installed[0].package, None);
        let r = resolve(&srcs, &installed, &[req("app")]).unwrap();
        assert!(
            r.for_package("db").is_none(),
            "the installed db 3.0.0 satisfies the range"
        );
    }

    #[test]
    fn missing_api_is_explained() {
        let blobs = vec![
            json!({"schema": "olm.package", "name": "x", "defaultChannel": "a"}),
            json!({"schema": "olm.channel", "package": "x", "name": "a", "entries": [{"name": "x.v1.0.0"}]}),
            bundle(
                "x",
                "1.0.0",
                vec![
                    json!({"type": "olm.gvk.required", "value": {"group": "g.io", "version": "v2", "kind": "Thing"}}),
                ],
            ),
        ];
        let c = Catalog::from_blobs("t", blobs).unwrap();
        let srcs = [Source::new("ops", "olm", &c)];
        let e = resolve(&srcs, &[], &[req("x")]).unwrap_err();
        assert!(
            e.why().contains("requires API g.io/v2/Thing"),
            "{}",
            e.why()
        );
        let installed = [Installed {
            csv: "thing.v1".into(),
            provides: vec![Gvk {
                group: "g.io".into(),
                version: "v2".into(),
                kind: "Thing".into(),
            }],
            ..Default::default()
        }];
        assert_eq!(
            resolve(&srcs, &installed, &[req("x")]).unwrap().steps.len(),
            1
        );
    }

    #[test]
    fn subscriptions_resolved_together_must_agree() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let mut db = req("db");
        db.starting_csv = Some("db.v4.0.0".into());
        let e = resolve(&srcs, &[], &[db.clone(), req("app")]).unwrap_err();
        assert!(
            e.why().contains("db 4.0.0 is being installed"),
            "{}",
            e.why()
        );
        let e = resolve(&srcs, &[], &[req("app"), db.clone()]).unwrap_err();
        assert!(
            e.why().contains("db 4.0.0 is being installed"),
            "order does not matter: {}",
            e.why()
        );
        db.starting_csv = Some("db.v3.0.0".into());
        let r = resolve(&srcs, &[], &[db, req("app")]).unwrap();
        assert_eq!(
            r.for_package("db").unwrap().csv,
            "db.v3.0.0",
            "the Subscription's choice satisfies the dependency"
        );
    }

    #[test]
    fn unknown_package_channel_and_source() {
        let c = catalog();
        let srcs = [Source::new("ops", "olm", &c)];
        let e = resolve(&srcs, &[], &[req("nope")]).unwrap_err();
        assert!(
            e.why()
                .contains("no catalog offers package \"nope\" (searched olm/ops)"),
            "{}",
            e.why()
        );
        let mut q = req("app");
        q.channel = Some("beta".into());
        let e = resolve(&srcs, &[], &[q]).unwrap_err();
        assert!(
            e.why().contains("has only channels fast, stable"),
            "{}",
            e.why()
        );
        let mut q = req("app");
        q.source = Some(SourceKey {
            name: "other".into(),
            namespace: "olm".into(),
        });
        let e = resolve(&srcs, &[], &[q]).unwrap_err();
        assert!(
            e.why().contains("names catalog source olm/other"),
            "{}",
            e.why()
        );
    }

    #[test]
    fn dependency_prefers_the_dependents_catalog() {
        let a = catalog();
        let mut b = catalog();
        b.packages.remove("app");
        let srcs = [
            Source {
                priority: 10,
                ..Source::new("zzz", "olm", &b)
            },
            Source::new("ops", "olm", &a),
        ];
        let mut q = req("app");
        q.source = Some(SourceKey {
            name: "ops".into(),
            namespace: "olm".into(),
        });
        let r = resolve(&srcs, &[], &[q]).unwrap();
        assert_eq!(r.for_package("db").unwrap().source.name, "ops");
    }

    #[test]
    fn installed_from_csv_json() {
        let csv = json!({"metadata": {"name": "etcd.v0.9.4"}, "spec": {"version": "0.9.4", "customresourcedefinitions": {"owned": [{"name": "etcdclusters.etcd.database.coreos.com", "version": "v1beta2", "kind": "EtcdCluster"}]}}});
        let i = Installed::from_csv_json(&csv);
        assert_eq!(i.csv, "etcd.v0.9.4");
        assert_eq!(i.version, Some(Version::new(0, 9, 4)));
        assert_eq!(
            i.provides[0].to_string(),
            "etcd.database.coreos.com/v1beta2/EtcdCluster"
        );
    }
}
