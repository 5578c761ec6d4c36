//! Adding registry+v1 bundles to a catalog (an uploaded bundle on top of a catalog image): the
//! bundle joins each channel its metadata names, with the CSV's replaces/skips/skipRange as the
//! entry's edges.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::model::{Bundle, Catalog, Channel, ChannelEntry, Package};
use crate::version::cmp_versions;

impl Catalog {
    /// Adds `bundle` (or replaces the bundle of the same name) to its package, creating the
    /// package and channels as needed, and entering it in each channel its metadata declares.
    /// The package's default channel becomes the bundle's declared one when the package had
    /// none or the bundle is the package's newest version. The channels touched must still have
    /// exactly one head; otherwise nothing is changed. To add several bundles whose edges only
    /// fit together once all are in, use [`Catalog::add_bundles`].
    pub fn add_bundle(&mut self, bundle: Bundle) -> Result<()> {
        self.add_bundles([bundle])
    }

    /// Adds several bundles at once (oldest version first), then checks that every channel they
    /// touched has exactly one head; on any error nothing is changed. Unlike one
    /// [`Catalog::add_bundle`] per bundle, the result does not depend on their order.
    pub fn add_bundles(&mut self, bundles: impl IntoIterator<Item = Bundle>) -> Result<()> {
        let mut bundles: Vec<Bundle> = bundles.into_iter().collect();
        bundles.sort_by(|a, b| cmp_versions(&a.version, &b.version));
        let mut saved: BTreeMap<String, Option<Package>> = BTreeMap::new();
        let result = self.enter_all(bundles, &mut saved);
        if result.is_err() {
            for (name, pkg) in saved {
                match pkg {
                    Some(p) => self.packages.insert(name, p),
                    None => self.packages.remove(&name),
                };
            }
        }
        result
    }

    fn enter_all(
        &mut self,
        bundles: Vec<Bundle>,
        saved: &mut BTreeMap<String, Option<Package>>,
    ) -> Result<()> {
        let mut touched: Vec<(String, String, String, String)> = Vec::new();
        for bundle in bundles {
            saved
                .entry(bundle.package.clone())
                .or_insert_with(|| self.packages.get(&bundle.package).cloned());
            for ch in &bundle.channels {
                touched.push((
                    bundle.package.clone(),
                    ch.clone(),
                    bundle.name.clone(),
                    bundle.source.clone(),
                ));
            }
            self.enter(bundle)?;
        }
        for (package, ch, name, source) in touched {
            let channel = &self.packages[&package].channels[&ch];
            if channel.head().is_none() {
                let heads: Vec<&str> = channel.heads().iter().map(|e| e.name.as_str()).collect();
                return Err(Error::invalid(
                    &source,
                    "spec.replaces",
                    format!(
                        "adding bundle {name:?} to channel {ch:?} of package {package:?} leaves {} channel heads ({}); the bundle should replace or skip the current head",
                        heads.len(),
                        heads.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Enters one bundle (no head check).
    fn enter(&mut self, bundle: Bundle) -> Result<()> {
        if bundle.channels.is_empty() {
            return Err(Error::invalid(
                &bundle.source,
                "channels",
                format!(
                    "bundle {:?} declares no channel, so it cannot join package {:?}",
                    bundle.name, bundle.package
                ),
            ));
        }
        let pkg = self
            .packages
            .entry(bundle.package.clone())
            .or_insert_with(|| Package {
                name: bundle.package.clone(),
                source: bundle.source.clone(),
                ..Package::default()
            });
        let newest = pkg
            .bundles
            .values()
            .filter(|b| b.name != bundle.name)
            .all(|b| cmp_versions(&b.version, &bundle.version).is_lt());
        for ch in &bundle.channels {
            let channel = pkg.channels.entry(ch.clone()).or_insert_with(|| Channel {
                name: ch.clone(),
                package: bundle.package.clone(),
                entries: Vec::new(),
                properties: Vec::new(),
                source: bundle.source.clone(),
            });
            let entry = ChannelEntry {
                name: bundle.name.clone(),
                replaces: bundle.replaces.clone(),
                skips: bundle.skips.clone(),
                skip_range: bundle.skip_range.clone(),
            };
            match channel.entries.iter_mut().find(|e| e.name == bundle.name) {
                Some(e) => *e = entry,
                None => channel.entries.push(entry),
            }
        }
        if let Some(dc) = &bundle.default_channel
            && (pkg.default_channel.is_none() || newest)
        {
            pkg.default_channel = Some(dc.clone());
        }
        if pkg
            .default_channel
            .as_ref()
            .is_none_or(|dc| !pkg.channels.contains_key(dc))
        {
            pkg.default_channel = if pkg.channels.len() == 1 {
                pkg.channels.keys().next().cloned()
            } else {
                Some(bundle.channels[0].clone())
            };
        }
        pkg.bundles.insert(bundle.name.clone(), bundle);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Bundle, Catalog};
    use crate::version::Version;

    fn b(name: &str, v: (u64, u64, u64), replaces: Option<&str>, default: Option<&str>) -> Bundle {
        Bundle {
            name: name.into(),
            package: "p".into(),
            image: format!("r/{name}"),
            version: Version::new(v.0, v.1, v.2),
            properties: vec![],
            related_images: vec![],
            channels: vec!["stable".into()],
            default_channel: default.map(String::from),
            replaces: replaces.map(String::from),
            skips: vec![],
            skip_range: None,
            source: format!("upload {name}"),
            objects: vec![],
            provided: vec![],
        }
    }

    #[test]
    fn added_bundles_extend_the_channel_and_move_the_head() {
        let mut c = Catalog::new();
        c.add_bundle(b("p.v1", (1, 0, 0), None, Some("stable")))
            .unwrap();
        c.add_bundle(b("p.v2", (2, 0, 0), Some("p.v1"), None))
            .unwrap();
        let p = c.package("p").unwrap();
        assert_eq!(p.default_channel.as_deref(), Some("stable"));
        assert_eq!(p.channels["stable"].head().unwrap().name, "p.v2");
        c.validate().unwrap();
    }

    #[test]
    fn bundles_added_together_do_not_depend_on_order() {
        let make = || {
            vec![
                b("p.v3", (3, 0, 0), Some("p.v2"), None),
                b("p.v1", (1, 0, 0), None, Some("stable")),
                b("p.v2", (2, 0, 0), Some("p.v1"), None),
            ]
        };
        // One by one in this order, p.v1 arrives while p.v2 is missing: two heads, refused.
        let mut one_by_one = Catalog::new();
        let errs: Vec<_> = make()
            .into_iter()
            .filter_map(|x| one_by_one.add_bundle(x).err())
            .collect();
        assert_eq!(errs.len(), 1);
        let mut c = Catalog::new();
        c.add_bundles(make()).unwrap();
        assert_eq!(
            c.package("p").unwrap().channels["stable"]
                .head()
                .unwrap()
                .name,
            "p.v3"
        );
        c.validate().unwrap();
    }

    #[test]
    fn a_bundle_that_would_fork_the_channel_is_refused_and_nothing_changes() {
        let mut c = Catalog::new();
        c.add_bundle(b("p.v1", (1, 0, 0), None, Some("stable")))
            .unwrap();
        let before = c.clone();
        let e = c
            .add_bundle(b("p.v3", (3, 0, 0), None, None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("leaves 2 channel heads (p.v1, p.v3)"), "{e}");
        assert_eq!(c, before);
    }
}
