//! Adding registry+v1 bundles to a catalog (an uploaded bundle on top of a catalog image): the
//! bundle joins each channel its metadata names, with the CSV's replaces/skips/skipRange as the
//! entry's edges.

use crate::error::{Error, Result};
use crate::model::{Bundle, Catalog, Channel, ChannelEntry, Package};
use crate::version::cmp_versions;

impl Catalog {
    /// Adds `bundle` (or replaces the bundle of the same name) to its package, creating the
    /// package and channels as needed, and entering it in each channel its metadata declares.
    /// The package's default channel becomes the bundle's declared one when the package had
    /// none or the bundle is the package's newest version. The channels touched must still have
    /// exactly one head; otherwise nothing is changed.
    pub fn add_bundle(&mut self, bundle: Bundle) -> Result<()> {
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
        let mut pkg = self
            .packages
            .get(&bundle.package)
            .cloned()
            .unwrap_or_else(|| Package {
                name: bundle.package.clone(),
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
            if channel.head().is_none() {
                let heads: Vec<&str> = channel.heads().iter().map(|e| e.name.as_str()).collect();
                return Err(Error::invalid(
                    &bundle.source,
                    "spec.replaces",
                    format!(
                        "adding bundle {:?} to channel {ch:?} of package {:?} leaves {} channel heads ({}); the bundle should replace or skip the current head",
                        bundle.name,
                        bundle.package,
                        heads.len(),
                        heads.join(", ")
                    ),
                ));
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
        self.packages.insert(pkg.name.clone(), pkg);
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
