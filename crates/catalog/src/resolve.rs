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
        let s = |p: &str| csv.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        let list = |p: &str| csv.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
        let mut provides = Vec::new();
        for d in list("/spec/customresourcedefinitions/owned") {
            let name = d["name"].as_str().unwrap_or_default();
            provides.push(Gvk {
                group: name.split_once('.').map(|(_, g)| g).unwrap_or_default().to_string(),
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
    let mut out: Vec<&str> = channel.replaces_chain().iter().map(|e| e.name.as_str()).collect();
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
    let pkg = catalog
        .package(package)
        .ok_or_else(|| Unsatisfiable::new(package, format!("Package {package:?} is not in the catalog, so no upgrade of {from:?} can be found.")))?;
    let ch = pkg.channel(channel).ok_or_else(|| {
        Unsatisfiable::new(package, format!("Package {package:?} has no channel {channel:?} (channels: {}), so no upgrade of {from:?} can be found.", pkg.channels.keys().cloned().collect::<Vec<_>>().join(", ")))
    })?;
    let version = from_version
        .cloned()
        .or_else(|| pkg.bundle(from).map(|b| b.version.clone()));
    Ok(upgrade_in_channel(pkg, ch, from, version.as_ref()))
}

fn upgrade_in_channel<'a>(pkg: &'a Package, ch: &'a Channel, from: &str, version: Option<&Version>) -> Option<Upgrade<'a>> {
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
                Ok(range) if range.matches(v) => format!("{name} has skipRange {r:?}, which includes {from} (version {v}), in channel {}", ch.name),
                _ => continue,
            }
        } else {
            continue;
        };
        let bundle = pkg.bundle(name)?;
        return Some(Upgrade { bundle, channel: ch.name.clone(), reason });
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
    for req in requests {
        r.subscription(req)?;
    }
    Ok(Resolution {
        steps: r.order.into_iter().filter_map(|p| r.chosen.remove(&p)).collect(),
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
    fn subscription(&mut self, req: &SubscriptionRequest) -> Result<(), Unsatisfiable> {
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
            let version = self.installed.iter().find(|i| i.csv == from).and_then(|i| i.version.clone()).or_else(|| pkg.bundle(from).map(|b| b.version.clone()));
            match upgrade_in_channel(pkg, ch, from, version.as_ref()) {
                None => return Ok(()),
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
        self.choose(step, &label)
    }

    fn find_package(&self, req: &SubscriptionRequest, label: &str) -> Result<(Source<'a>, &'a Package), Unsatisfiable> {
        if let Some(key) = &req.source {
            let src = self.sources.iter().find(|s| &s.key == key).ok_or_else(|| {
                Unsatisfiable::new(&req.package, format!("{label} names catalog source {key}, which does not exist or has no content yet (known: {}).", list(self.sources.iter().map(|s| s.key.to_string()))))
            })?;
            let pkg = src.catalog.package(&req.package).ok_or_else(|| {
                Unsatisfiable::new(&req.package, format!("{label}: package {:?} is not in catalog {key}{}.", req.package, elsewhere(&self.sources, &req.package)))
            })?;
            return Ok((src.clone(), pkg));
        }
        self.sources
            .iter()
            .find_map(|s| s.catalog.package(&req.package).map(|p| (s.clone(), p)))
            .ok_or_else(|| Unsatisfiable::new(&req.package, format!("{label}: no catalog offers package {:?} (searched {}).", req.package, list(self.sources.iter().map(|s| s.key.to_string())))))
    }

    /// Records `step` (its package must not already be chosen at another version) and resolves
    /// its dependencies before it.
    fn choose(&mut self, step: Step<'a>, label: &str) -> Result<(), Unsatisfiable> {
        if let Some(prev) = self.chosen.get(&step.package) {
            if prev.csv == step.csv {
                return Ok(());
            }
            return Err(Unsatisfiable::new(&step.package, format!("{label} needs {} {} ({}), but {} {} was already chosen ({}); only one version of a package can be installed in a namespace.", step.package, step.bundle.version, step.reason, prev.package, prev.bundle.version, prev.reason)));
        }
        let pkg = step.package.clone();
        let bundle = step.bundle;
        let src = step.source.clone();
        self.chosen.insert(pkg.clone(), step);
        for dep in bundle.required_packages() {
            self.package_dependency(bundle, &src, &dep)?;
        }
        for gvk in bundle.required_gvks() {
            self.gvk_dependency(bundle, &src, &gvk)?;
        }
        self.order.push(pkg);
        Ok(())
    }

    fn package_dependency(&mut self, of: &'a Bundle, src: &SourceKey, dep: &PackageRequired) -> Result<(), Unsatisfiable> {
        let who = format!("{} {} ({})", of.package, of.version, of.name);
        let range = Range::parse(&dep.version_range).map_err(|e| Unsatisfiable::new(&of.package, format!("{who} requires package {:?} with an unreadable range: {e}.", dep.package_name)))?;
        if let Some(i) = self.installed.iter().find(|i| i.package.as_deref() == Some(dep.package_name.as_str())) {
            if i.version.as_ref().is_some_and(|v| range.matches(v)) || self.chosen.get(&dep.package_name).is_some_and(|c| range.matches(&c.bundle.version)) {
                return Ok(());
            }
        }
        if let Some(c) = self.chosen.get(&dep.package_name) {
            if range.matches(&c.bundle.version) {
                return Ok(());
            }
            return Err(Unsatisfiable::new(&of.package, format!("{who} requires package {:?} in range {:?}, but {} {} is being installed ({}), which is outside that range.", dep.package_name, dep.version_range, c.package, c.bundle.version, c.reason)));
        }
        if let Some(i) = self.installed.iter().find(|i| i.package.as_deref() == Some(dep.package_name.as_str())) {
            return Err(Unsatisfiable::new(&of.package, format!("{who} requires package {:?} in range {:?}, but {} (version {}) is installed and outside that range; upgrade it first.", dep.package_name, dep.version_range, i.csv, i.version.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "unknown".into()))));
        }
        let found = self.candidates(src, |p, _| p.name == dep.package_name).into_iter().find(|(_, _, b)| range.matches(&b.version));
        match found {
            Some((source, channel, bundle)) => {
                let reason = format!("required by {}: package {} in range {:?} (channel {channel} of catalog {source})", of.name, dep.package_name, dep.version_range);
                let step = Step { package: bundle.package.clone(), csv: bundle.name.clone(), channel, source, bundle, replaces: None, subscription: None, reason };
                self.choose(step, &who)
            }
            None => {
                let offered: Vec<String> = self.sources.iter().filter_map(|s| s.catalog.package(&dep.package_name).map(|p| (s, p))).flat_map(|(s, p)| p.bundles.values().map(move |b| format!("{} in {}", b.version, s.key))).collect();
                let seen = if offered.is_empty() { "no catalog offers that package".to_string() } else { format!("the catalogs offer only {}", offered.join(", ")) };
                Err(Unsatisfiable::new(&of.package, format!("{who} requires package {:?} in version range {:?}, but {seen}; nothing installed provides it either.", dep.package_name, dep.version_range)))
            }
        }
    }

    fn gvk_dependency(&mut self, of: &'a Bundle, src: &SourceKey, gvk: &Gvk) -> Result<(), Unsatisfiable> {
        if self.installed.iter().any(|i| i.provides.contains(gvk)) || self.chosen.values().any(|c| c.bundle.provided_gvks().contains(gvk)) {
            return Ok(());
        }
        let who = format!("{} {} ({})", of.package, of.version, of.name);
        let found = self.candidates(src, |_, b| b.provided_gvks().contains(gvk)).into_iter().next();
        match found {
            Some((source, channel, bundle)) => {
                let reason = format!("required by {}: provides API {gvk} (channel {channel} of catalog {source})", of.name);
                let step = Step { package: bundle.package.clone(), csv: bundle.name.clone(), channel, source, bundle, replaces: None, subscription: None, reason };
                self.choose(step, &who)
            }
            None => Err(Unsatisfiable::new(&of.package, format!("{who} requires API {gvk} (olm.gvk.required), but no installed operator provides it and no bundle in the catalogs ({}) does.", list(self.sources.iter().map(|s| s.key.to_string()))))),
        }
    }

    /// Installable bundles matching `pred`, best first: the dependent's catalog, then by
    /// priority; per package the default channel first; per channel nearest the head first.
    fn candidates(&self, prefer: &SourceKey, pred: impl Fn(&Package, &Bundle) -> bool) -> Vec<(SourceKey, String, &'a Bundle)> {
        let mut srcs: Vec<&Source<'a>> = self.sources.iter().collect();
        srcs.sort_by_key(|s| &s.key != prefer);
        let mut out = Vec::new();
        for s in srcs {
            for pkg in s.catalog.packages() {
                let mut chans: Vec<&Channel> = pkg.channels.values().collect();
                chans.sort_by_key(|c| Some(&c.name) != pkg.default_channel.as_ref());
                for ch in chans {
                    for name in channel_order(pkg, ch) {
                        if let Some(b) = pkg.bundle(name) {
                            if pred(pkg, b) {
                                out.push((s.key.clone(), ch.name.clone(), b));
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn elsewhere(sources: &[Source<'_>], package: &str) -> String {
    let others: Vec<String> = sources.iter().filter(|s| s.catalog.package(package).is_some()).map(|s| s.key.to_string()).collect();
    if others.is_empty() { String::new() } else { format!(" (it is in {})", others.join(", ")) }
}

fn list<S: AsRef<str>>(it: impl Iterator<Item = S>) -> String {
    let v: Vec<String> = it.map(|s| s.as_ref().to_string()).collect();
    if v.is_empty() { "none".to_string() } else { v.join(", ") }
}
