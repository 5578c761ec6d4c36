//! File-based catalogs: reading blobs (`olm.package`, `olm.channel`, `olm.bundle`,
//! `olm.deprecations`, others kept as-is) from a directory tree or from in-memory files, checking
//! them as opm does, and writing the model back as blobs (`opm render`'s JSON stream).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::{
    Bundle, Catalog, Channel, ChannelEntry, DeprecationEntry, Deprecations, Icon, Package,
    Property, RelatedImage, types,
};
use crate::version::parse_version;

/// Whether a file name is one opm reads (`.json`, `.yaml`, `.yml`).
pub fn is_catalog_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml")
}

impl Catalog {
    /// Loads the file-based catalog under `dir` (every `.json`/`.yaml`/`.yml` file below it,
    /// hidden files and directories skipped), then validates it.
    pub fn from_fbc_dir(dir: &Path) -> Result<Catalog> {
        let mut files = Vec::new();
        collect_files(dir, &mut files)?;
        files.sort();
        let mut loaded = Vec::with_capacity(files.len());
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| Error::io(f.display().to_string(), e))?;
            loaded.push((f.display().to_string(), bytes));
        }
        Catalog::from_fbc_files(loaded)
    }

    /// Loads a file-based catalog from `(path, contents)` pairs (e.g. an image's `/configs` read
    /// through `oci::ImageFs`); files that are not `.json`/`.yaml`/`.yml` are skipped. Validated.
    pub fn from_fbc_files<I, P, B>(files: I) -> Result<Catalog>
    where
        I: IntoIterator<Item = (P, B)>,
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let mut builder = Builder::default();
        for (path, bytes) in files {
            let path = path.as_ref();
            if !is_catalog_file(path) {
                continue;
            }
            for (i, blob) in crate::decode::documents(path, bytes.as_ref())?
                .into_iter()
                .enumerate()
            {
                builder.add_blob(path, i, blob)?;
            }
        }
        let catalog = builder.finish()?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// Loads blobs already decoded (`file` names them in errors). Validated.
    pub fn from_blobs(file: &str, blobs: impl IntoIterator<Item = Value>) -> Result<Catalog> {
        let mut builder = Builder::default();
        for (i, blob) in blobs.into_iter().enumerate() {
            builder.add_blob(file, i, blob)?;
        }
        let catalog = builder.finish()?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// The catalog as FBC blobs, in `opm render`'s order: per package (by name) the package,
    /// its channels (by name), its bundles (by name), its deprecations; then other blobs.
    pub fn to_blobs(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for p in self.packages.values() {
            out.push(package_blob(p));
            out.extend(p.channels.values().map(channel_blob));
            out.extend(p.bundles.values().map(bundle_blob));
            if let Some(d) = &p.deprecations {
                out.push(
                    json!({"schema": "olm.deprecations", "package": p.name, "entries": d.entries}),
                );
            }
        }
        out.extend(self.others.iter().cloned());
        out
    }

    /// The catalog as one FBC JSON stream (`opm render`'s output): its blobs, one per line.
    pub fn to_stream(&self) -> String {
        self.to_blobs()
            .iter()
            .map(|b| b.to_string() + "\n")
            .collect()
    }

    /// Checks what opm checks of a catalog: every channel names an existing package and
    /// bundles of it; one head per channel; no replaces cycle; each bundle in some channel; the
    /// default channel exists.
    pub fn validate(&self) -> Result<()> {
        for p in self.packages.values() {
            validate_package(p)?;
        }
        Ok(())
    }
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir.display().to_string(), e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta =
            std::fs::metadata(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        if meta.is_dir() {
            collect_files(&path, out)?;
        } else if meta.is_file() && is_catalog_file(&name.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Builder {
    packages: BTreeMap<String, (String, Package)>,
    channels: Vec<(String, Channel)>,
    bundles: Vec<(String, Bundle)>,
    deprecations: Vec<(String, String, Deprecations)>,
    others: Vec<Value>,
}

#[derive(Deserialize)]
struct PackageBlob {
    name: String,
    #[serde(default, rename = "defaultChannel")]
    default_channel: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    icon: Option<Icon>,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct ChannelBlob {
    name: String,
    package: String,
    #[serde(default)]
    entries: Vec<ChannelEntry>,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct BundleBlob {
    name: String,
    package: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default, rename = "relatedImages")]
    related_images: Vec<RelatedImage>,
}

#[derive(Deserialize)]
struct DeprecationsBlob {
    package: String,
    #[serde(default)]
    entries: Vec<DeprecationEntry>,
}

fn typed<T: serde::de::DeserializeOwned>(file: &str, what: &str, blob: Value) -> Result<T> {
    serde_json::from_value(blob).map_err(|e| Error::invalid(file, what, e.to_string()))
}

impl Builder {
    fn add_blob(&mut self, file: &str, index: usize, blob: Value) -> Result<()> {
        let schema = match blob.get("schema") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(Error::invalid(
                    file,
                    format!("document {index}: schema"),
                    "every blob needs a non-empty string `schema` (e.g. olm.package, olm.channel, olm.bundle)",
                ));
            }
        };
        let name = blob
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let what = format!("{schema} {name:?}");
        match schema.as_str() {
            "olm.package" => {
                let b: PackageBlob = typed(file, &what, blob)?;
                if b.name.is_empty() {
                    return Err(Error::invalid(
                        file,
                        "olm.package name",
                        "must not be empty",
                    ));
                }
                if let Some((first, _)) = self.packages.get(&b.name) {
                    return Err(Error::invalid(
                        file,
                        format!("olm.package {:?}", b.name),
                        format!("package declared twice (also in {first})"),
                    ));
                }
                let pkg = Package {
                    name: b.name.clone(),
                    default_channel: b.default_channel.filter(|c| !c.is_empty()),
                    description: b.description.filter(|d| !d.is_empty()),
                    icon: b.icon,
                    properties: b.properties,
                    source: file.to_string(),
                    ..Package::default()
                };
                self.packages.insert(b.name, (file.to_string(), pkg));
            }
            "olm.channel" => {
                let b: ChannelBlob = typed(file, &what, blob)?;
                self.channels.push((
                    file.to_string(),
                    Channel {
                        name: b.name,
                        package: b.package,
                        entries: b.entries,
                        properties: b.properties,
                        source: file.to_string(),
                    },
                ));
            }
            "olm.bundle" => {
                let b: BundleBlob = typed(file, &what, blob)?;
                let bundle = bundle_from_blob(file, b)?;
                self.bundles.push((file.to_string(), bundle));
            }
            "olm.deprecations" => {
                let b: DeprecationsBlob = typed(file, &what, blob)?;
                self.deprecations.push((
                    file.to_string(),
                    b.package,
                    Deprecations { entries: b.entries },
                ));
            }
            _ => self.others.push(blob),
        }
        Ok(())
    }

    fn finish(self) -> Result<Catalog> {
        let mut packages: BTreeMap<String, Package> = BTreeMap::new();
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for (name, (file, p)) in self.packages {
            origin.insert(name.clone(), file);
            packages.insert(name, p);
        }
        for (file, c) in self.channels {
            let field = format!("olm.channel {:?} package", c.name);
            if c.name.is_empty() {
                return Err(Error::invalid(
                    &file,
                    "olm.channel name",
                    "must not be empty",
                ));
            }
            let pkg = packages.get_mut(&c.package).ok_or_else(|| {
                Error::invalid(
                    &file,
                    &field,
                    format!(
                        "package {:?} is not declared by any olm.package blob",
                        c.package
                    ),
                )
            })?;
            if pkg.channels.contains_key(&c.name) {
                return Err(Error::invalid(
                    &file,
                    format!("olm.channel {:?}", c.name),
                    format!("channel declared twice in package {:?}", c.package),
                ));
            }
            pkg.channels.insert(c.name.clone(), c);
        }
        for (file, b) in self.bundles {
            let pkg = packages.get_mut(&b.package).ok_or_else(|| {
                Error::invalid(
                    &file,
                    format!("olm.bundle {:?} package", b.name),
                    format!(
                        "package {:?} is not declared by any olm.package blob",
                        b.package
                    ),
                )
            })?;
            if pkg.bundles.contains_key(&b.name) {
                return Err(Error::invalid(
                    &file,
                    format!("olm.bundle {:?}", b.name),
                    format!("bundle declared twice in package {:?}", b.package),
                ));
            }
            pkg.bundles.insert(b.name.clone(), b);
        }
        for (file, package, d) in self.deprecations {
            let pkg = packages.get_mut(&package).ok_or_else(|| {
                Error::invalid(
                    &file,
                    "olm.deprecations package",
                    format!("package {package:?} is not declared by any olm.package blob"),
                )
            })?;
            if pkg.deprecations.is_some() {
                return Err(Error::invalid(
                    &file,
                    "olm.deprecations package",
                    format!("package {package:?} has more than one olm.deprecations blob"),
                ));
            }
            pkg.deprecations = Some(d);
        }
        let _ = origin;
        Ok(Catalog {
            packages,
            others: self.others,
        })
    }
}

fn bundle_from_blob(file: &str, b: BundleBlob) -> Result<Bundle> {
    let at = |field: &str| format!("olm.bundle {:?} {field}", b.name);
    if b.name.is_empty() {
        return Err(Error::invalid(file, "olm.bundle name", "must not be empty"));
    }
    let pkgs: Vec<&Property> = b
        .properties
        .iter()
        .filter(|p| p.type_ == types::PACKAGE)
        .collect();
    let [pkg_prop] = pkgs.as_slice() else {
        return Err(Error::invalid(
            file,
            at("properties"),
            format!(
                "must have exactly one olm.package property, found {}",
                pkgs.len()
            ),
        ));
    };
    let pkg_name = pkg_prop
        .value
        .get("packageName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if pkg_name != b.package {
        return Err(Error::invalid(
            file,
            at("properties[olm.package].packageName"),
            format!(
                "{pkg_name:?} does not match the bundle's package {:?}",
                b.package
            ),
        ));
    }
    let version_text = match pkg_prop.value.get("version") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(Error::invalid(
                file,
                at("properties[olm.package].version"),
                "must be a version string",
            ));
        }
    };
    let version = parse_version(&version_text)
        .map_err(|e| Error::invalid(file, at("properties[olm.package].version"), e))?;
    let mut objects = Vec::new();
    for (i, p) in b.properties.iter().enumerate() {
        if p.type_ == types::BUNDLE_OBJECT {
            objects.push(decode_bundle_object(&p.value).map_err(|e| {
                Error::invalid(file, at(&format!("properties[{i}] (olm.bundle.object)")), e)
            })?);
        }
        check_property(p)
            .map_err(|e| Error::invalid(file, at(&format!("properties[{i}] ({})", p.type_)), e))?;
    }
    let mut bundle = Bundle {
        name: b.name,
        package: b.package,
        image: b.image,
        version,
        properties: b.properties,
        related_images: b.related_images,
        channels: Vec::new(),
        default_channel: None,
        replaces: None,
        skips: Vec::new(),
        skip_range: None,
        source: file.to_string(),
        objects,
        provided: Vec::new(),
    };
    bundle.refresh_provided();
    Ok(bundle)
}

/// The known property types must have the shape OLM reads.
fn check_property(p: &Property) -> Result<(), String> {
    let need = |fields: &[&str]| -> Result<(), String> {
        for f in fields {
            if !p.value.get(*f).is_some_and(Value::is_string) {
                return Err(format!("value.{f} must be a string"));
            }
        }
        Ok(())
    };
    match p.type_.as_str() {
        types::GVK | types::GVK_REQUIRED => need(&["group", "version", "kind"]),
        types::PACKAGE_REQUIRED => {
            need(&["packageName", "versionRange"])?;
            let r = p.value["versionRange"].as_str().unwrap_or_default();
            crate::version::Range::parse(r).map(|_| ())
        }
        _ => Ok(()),
    }
}

fn decode_bundle_object(v: &Value) -> Result<Value, String> {
    let data = v.get("data").and_then(Value::as_str).ok_or(
        "value.data must be a base64 string (value.ref is not supported outside opm's tree)",
    )?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("value.data is not base64: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("value.data is not a JSON object: {e}"))
}

fn validate_package(p: &Package) -> Result<()> {
    let file = p.source.clone();
    match &p.default_channel {
        Some(dc) if !p.channels.contains_key(dc) => {
            return Err(Error::invalid(
                &file,
                format!("olm.package {:?} defaultChannel", p.name),
                format!(
                    "channel {dc:?} is not a channel of the package (channels: {})",
                    names(p.channels.keys())
                ),
            ));
        }
        None if !p.channels.is_empty() => {
            return Err(Error::invalid(
                &file,
                format!("olm.package {:?} defaultChannel", p.name),
                "must name one of the package's channels",
            ));
        }
        _ => {}
    }
    let mut listed = BTreeSet::new();
    for c in p.channels.values() {
        validate_channel(&c.source, p, c)?;
        listed.extend(c.entries.iter().map(|e| e.name.as_str()));
    }
    if let Some(b) = p
        .bundles
        .values()
        .find(|b| !listed.contains(b.name.as_str()))
    {
        return Err(Error::invalid(
            &b.source,
            format!("olm.bundle {:?}", b.name),
            format!("bundle is in no channel of package {:?}", p.name),
        ));
    }
    Ok(())
}

fn validate_channel(file: &str, p: &Package, c: &Channel) -> Result<()> {
    let at = |field: &str| format!("olm.channel {:?} {field}", c.name);
    let mut seen = BTreeSet::new();
    for (i, e) in c.entries.iter().enumerate() {
        if !seen.insert(e.name.as_str()) {
            return Err(Error::invalid(
                file,
                at(&format!("entries[{i}].name")),
                format!("{:?} is listed twice", e.name),
            ));
        }
        if !p.bundles.contains_key(&e.name) {
            return Err(Error::invalid(
                file,
                at(&format!("entries[{i}].name")),
                format!(
                    "bundle {:?} is not an olm.bundle of package {:?}",
                    e.name, p.name
                ),
            ));
        }
        if let Some(r) = &e.skip_range {
            crate::version::Range::parse(r)
                .map_err(|m| Error::invalid(file, at(&format!("entries[{i}].skipRange")), m))?;
        }
    }
    if c.entries.is_empty() {
        return Err(Error::invalid(
            file,
            at("entries"),
            "a channel needs at least one entry",
        ));
    }
    let heads = c.heads();
    if heads.len() != 1 {
        let list = names(heads.iter().map(|e| &e.name));
        return Err(Error::invalid(
            file,
            at("entries"),
            if heads.is_empty() {
                "no channel head: every entry is replaced or skipped by another".to_string()
            } else {
                format!("multiple channel heads: {list}")
            },
        ));
    }
    let mut chain = BTreeSet::new();
    let mut cur = Some(heads[0]);
    while let Some(e) = cur {
        if !chain.insert(e.name.as_str()) {
            return Err(Error::invalid(
                file,
                at("entries"),
                format!("replaces chain from the head loops at {:?}", e.name),
            ));
        }
        cur = e.replaces.as_deref().and_then(|r| c.entry(r));
    }
    Ok(())
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn package_blob(p: &Package) -> Value {
    let mut m = Map::new();
    m.insert("schema".into(), json!("olm.package"));
    m.insert("name".into(), json!(p.name));
    if let Some(dc) = &p.default_channel {
        m.insert("defaultChannel".into(), json!(dc));
    }
    if let Some(icon) = &p.icon {
        m.insert("icon".into(), json!(icon));
    }
    if let Some(d) = &p.description {
        m.insert("description".into(), json!(d));
    }
    if !p.properties.is_empty() {
        m.insert("properties".into(), json!(p.properties));
    }
    Value::Object(m)
}

fn channel_blob(c: &Channel) -> Value {
    let mut m = Map::new();
    m.insert("schema".into(), json!("olm.channel"));
    m.insert("name".into(), json!(c.name));
    m.insert("package".into(), json!(c.package));
    m.insert("entries".into(), json!(c.entries));
    if !c.properties.is_empty() {
        m.insert("properties".into(), json!(c.properties));
    }
    Value::Object(m)
}

impl Bundle {
    /// The bundle as its `olm.bundle` blob (what `opm render` prints for a bundle).
    pub fn to_blob(&self) -> Value {
        bundle_blob(self)
    }
}

fn bundle_blob(b: &Bundle) -> Value {
    let mut m = Map::new();
    m.insert("schema".into(), json!("olm.bundle"));
    m.insert("name".into(), json!(b.name));
    m.insert("package".into(), json!(b.package));
    m.insert("image".into(), json!(b.image));
    if !b.properties.is_empty() {
        m.insert("properties".into(), json!(b.properties));
    }
    if !b.related_images.is_empty() {
        m.insert("relatedImages".into(), json!(b.related_images));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Catalog> {
        Catalog::from_fbc_files([("configs/pkg/catalog.yaml", yaml.as_bytes())])
    }

    const PKG: &str = "schema: olm.package\nname: p\ndefaultChannel: stable\n";

    fn bundle(v: &str) -> String {
        format!(
            "---\nschema: olm.bundle\nname: p.v{v}\npackage: p\nimage: r/p:{v}\nproperties:\n- type: olm.package\n  value: {{packageName: p, version: {v}}}\n"
        )
    }

    #[test]
    fn loads_and_renders_back_the_same_blobs() {
        let text = format!(
            "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n- name: p.v1.1.0\n  replaces: p.v1.0.0\n  skipRange: '<1.1.0'\n{}{}",
            bundle("1.0.0"),
            bundle("1.1.0")
        );
        let cat = load(&text).unwrap();
        let p = cat.package("p").unwrap();
        assert_eq!(p.channels["stable"].head().unwrap().name, "p.v1.1.0");
        let blobs = cat.to_blobs();
        assert_eq!(blobs.len(), 4);
        assert_eq!(
            blobs[1]["entries"][1],
            serde_json::json!({"name": "p.v1.1.0", "replaces": "p.v1.0.0", "skipRange": "<1.1.0"})
        );
        let again = Catalog::from_blobs("again", blobs).unwrap();
        assert_eq!(again.to_blobs(), cat.to_blobs());
    }

    #[test]
    fn two_heads_are_refused_naming_the_channel() {
        let text = format!(
            "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n- name: p.v1.1.0\n{}{}",
            bundle("1.0.0"),
            bundle("1.1.0")
        );
        let e = load(&text).unwrap_err().to_string();
        assert!(
            e.contains(
                "olm.channel \"stable\" entries: multiple channel heads: p.v1.0.0, p.v1.1.0"
            ),
            "{e}"
        );
    }

    #[test]
    fn replaces_cycle_is_refused() {
        let text = format!(
            "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n  replaces: p.v1.1.0\n- name: p.v1.1.0\n  replaces: p.v1.0.0\n{}{}",
            bundle("1.0.0"),
            bundle("1.1.0")
        );
        let e = load(&text).unwrap_err().to_string();
        assert!(e.contains("no channel head"), "{e}");
    }

    #[test]
    fn invalid_blobs_name_file_and_field() {
        let cases = [
            (
                "schema: olm.channel\nname: c\npackage: q\nentries: []\n",
                "olm.channel \"c\" package: package \"q\" is not declared",
            ),
            ("name: x\n", "configs/pkg/catalog.yaml: document 0: schema"),
            (
                &format!(
                    "{PKG}{}",
                    bundle("1.0.0").replace("version: 1.0.0", "version: one")
                ),
                "olm.bundle \"p.v1.0.0\" properties[olm.package].version: \"one\" is not a semantic version",
            ),
            (
                &format!("{PKG}{}", bundle("1.0.0")),
                "defaultChannel: channel \"stable\" is not a channel of the package",
            ),
            (
                &format!(
                    "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v2.0.0\n"
                ),
                "entries[0].name: bundle \"p.v2.0.0\" is not an olm.bundle",
            ),
            (
                &format!(
                    "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n  skipRange: '>=x'\n{}",
                    bundle("1.0.0")
                ),
                "entries[0].skipRange",
            ),
        ];
        for (text, want) in cases {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(want), "want {want:?} in {e}");
            assert!(e.starts_with("configs/pkg/catalog.yaml"), "{e}");
        }
    }

    #[test]
    fn bundle_not_in_any_channel_is_refused() {
        let text = format!(
            "{PKG}---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n{}{}",
            bundle("1.0.0"),
            bundle("2.0.0")
        );
        let e = load(&text).unwrap_err().to_string();
        assert!(
            e.contains("olm.bundle \"p.v2.0.0\": bundle is in no channel"),
            "{e}"
        );
    }

    #[test]
    fn json_stream_files_and_unknown_schemas() {
        let json = r#"{"schema":"olm.package","name":"p","defaultChannel":"a"}
{"schema":"olm.channel","name":"a","package":"p","entries":[{"name":"p.v1.0.0"}]}
{"schema":"olm.bundle","name":"p.v1.0.0","package":"p","image":"r/p:1","properties":[{"type":"olm.package","value":{"packageName":"p","version":"1.0.0"}}]}
{"schema":"vendor.custom","x":1}"#;
        let cat = Catalog::from_fbc_files([
            ("index.json", json.as_bytes()),
            ("README.md", b"# not a catalog".as_slice()),
        ])
        .unwrap();
        assert_eq!(cat.bundle_count(), 1);
        assert_eq!(cat.others.len(), 1);
    }
}
