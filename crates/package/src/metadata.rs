//! `package.yaml`: what a package is (name, display name, type, version, architectures), its
//! images (the main artifact and the related images, each an OCI layout inside the archive pinned
//! by the digest of its top manifest or index), and the type-specific fields: source type and
//! target catalog for operators, chart and ModulePlugin/ModuleConfig for plugins. Pure: parsing,
//! validation and the names derived from it (ArtifactVersion name, destination repository).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The file name of the metadata, always the archive's first entry.
pub const METADATA_FILE: &str = "package.yaml";
/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Largest accepted `package.yaml`.
pub const MAX_METADATA_BYTES: u64 = 1 << 20;

/// The kind of package, as `violet show` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An operator (its main artifact is an operator bundle image).
    Bundle,
    /// A cluster plugin (its main artifact is the plugin's chart as an OCI artifact).
    Plugin,
    /// A Helm chart for the `public-charts` repository.
    Chart,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bundle => "bundle",
            Kind::Plugin => "plugin",
            Kind::Chart => "chart",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One image of the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// Where the image came from, e.g. `harbor.demo.io/acp/topolvm:v3.11.0`; pushed to the same
    /// repository path and tag in the destination registry.
    pub reference: String,
    /// Its OCI layout directory inside the archive, `images/<name>`.
    pub layout: String,
    /// Digest of its top manifest or index (the only entry of the layout's `index.json`).
    pub digest: String,
}

/// A chart's identity (charts and plugins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartRef {
    pub name: String,
    pub version: String,
}

/// The parsed `package.yaml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    pub format_version: u32,
    /// The package (operator package, plugin or chart) name: a DNS-1123 label.
    pub name: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub version: String,
    /// `os/arch` of the images, e.g. `linux/amd64`.
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// alauda | curated | community | marketplace | custom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// Operators: the catalog the bundle joins (platform | system | custom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_source: Option<String>,
    /// The main artifact: bundle image, chart artifact or plugin chart.
    pub artifact: Image,
    #[serde(default)]
    pub related_images: Vec<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_plugin: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_config: Option<Value>,
}

pub const SOURCE_TYPES: &[&str] = &["alauda", "curated", "community", "marketplace", "custom"];
pub const CATALOG_SOURCES: &[&str] = &["platform", "system", "custom"];

impl Metadata {
    /// Parses and validates `package.yaml`.
    pub fn parse(text: &str) -> Result<Metadata> {
        let m: Metadata =
            serde_yaml::from_str(text).map_err(|e| Error::meta("(document)", format!("{e}")))?;
        m.validate()?;
        Ok(m)
    }

    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|e| Error::meta("(document)", e.to_string()))
    }

    /// Every image, the main artifact first.
    pub fn images(&self) -> impl Iterator<Item = &Image> {
        std::iter::once(&self.artifact).chain(self.related_images.iter())
    }

    /// Checks every field a push relies on; the first problem is returned naming its field.
    pub fn validate(&self) -> Result<()> {
        if self.format_version != FORMAT_VERSION {
            return Err(Error::meta(
                "formatVersion",
                format!(
                    "{} is not supported (this violet reads {FORMAT_VERSION}); use a newer violet",
                    self.format_version
                ),
            ));
        }
        check_dns_label("name", &self.name)?;
        if self.display_name.trim().is_empty() {
            return Err(Error::meta("displayName", "must not be empty"));
        }
        check_version(&self.version)?;
        for (i, a) in self.architectures.iter().enumerate() {
            oci::Platform::parse(a)
                .map_err(|e| Error::meta(&format!("architectures[{i}]"), e.to_string()))?;
        }
        if let Some(s) = &self.source_type
            && !SOURCE_TYPES.contains(&s.as_str())
        {
            return Err(Error::meta(
                "sourceType",
                format!("{s:?} is not one of {}", SOURCE_TYPES.join(", ")),
            ));
        }
        self.validate_kind()?;
        self.validate_images()
    }

    fn validate_kind(&self) -> Result<()> {
        match self.kind {
            Kind::Bundle => {
                let c = self.catalog_source.as_deref().ok_or_else(|| {
                    Error::meta(
                        "catalogSource",
                        "operators name their catalog (platform, system or custom)",
                    )
                })?;
                if !CATALOG_SOURCES.contains(&c) {
                    return Err(Error::meta(
                        "catalogSource",
                        format!("{c:?} is not one of {}", CATALOG_SOURCES.join(", ")),
                    ));
                }
            }
            Kind::Plugin => {
                for (field, v) in [
                    ("modulePlugin", &self.module_plugin),
                    ("moduleConfig", &self.module_config),
                ] {
                    match v {
                        Some(Value::Object(_)) => {}
                        _ => {
                            return Err(Error::meta(
                                field,
                                "a plugin package carries it as an object",
                            ));
                        }
                    }
                }
                if self.chart.is_none() {
                    return Err(Error::meta("chart", "a plugin package names its chart"));
                }
            }
            Kind::Chart => {
                if self.chart.is_none() {
                    return Err(Error::meta("chart", "a chart package names its chart"));
                }
            }
        }
        if self.kind != Kind::Plugin
            && (self.module_plugin.is_some() || self.module_config.is_some())
        {
            return Err(Error::meta(
                "modulePlugin",
                "only plugin packages carry ModulePlugin/ModuleConfig",
            ));
        }
        if self.kind != Kind::Bundle && self.catalog_source.is_some() {
            return Err(Error::meta(
                "catalogSource",
                "only operator (bundle) packages join a catalog",
            ));
        }
        Ok(())
    }

    fn validate_images(&self) -> Result<()> {
        let mut layouts = std::collections::HashSet::new();
        for (i, img) in self.images().enumerate() {
            let field = if i == 0 {
                "artifact".to_string()
            } else {
                format!("relatedImages[{}]", i - 1)
            };
            oci::Reference::parse(&img.reference)
                .map_err(|e| Error::meta(&format!("{field}.reference"), e.to_string()))?;
            oci::Digest::parse(&img.digest)
                .map_err(|e| Error::meta(&format!("{field}.digest"), e.to_string()))?;
            layout_dir_name(&img.layout).ok_or_else(|| {
                Error::meta(
                    &format!("{field}.layout"),
                    format!(
                        "{:?} must be images/<name> with [a-z0-9._-] characters",
                        img.layout
                    ),
                )
            })?;
            if !layouts.insert(img.layout.as_str()) {
                return Err(Error::meta(
                    &format!("{field}.layout"),
                    format!("{:?} is used by two images", img.layout),
                ));
            }
        }
        Ok(())
    }

    /// The ArtifactVersion name: `<name>.<version>` lowercased, `v` prefixed to a bare version
    /// (`topolvm-operator.v2.3.0`).
    pub fn version_name(&self) -> String {
        let v = self.version.to_ascii_lowercase().replace(['+', '_'], "-");
        let v = if v.starts_with('v') {
            v
        } else {
            format!("v{v}")
        };
        format!("{}.{}", self.name, v)
    }
}

/// `images/<name>` → `<name>`, or None when it is not such a path.
pub fn layout_dir_name(layout: &str) -> Option<&str> {
    let name = layout.strip_prefix("images/")?;
    let ok = !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    ok.then_some(name)
}

fn check_dns_label(field: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::meta(
            field,
            format!("{s:?} must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)"),
        ))
    }
}

fn check_version(v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::meta(
            "version",
            format!("{v:?} must be a version such as 2.3.0 or v4.0.4"),
        ))
    }
}

/// Where an image goes in the destination registry: its reference without the source registry
/// host — `harbor.demo.io/acp/topolvm:v3.11.0` → (`acp/topolvm`, `v3.11.0`). A digest-only reference
/// keeps no tag.
pub fn destination_path(reference: &str) -> Result<(String, Option<String>)> {
    let r = oci::Reference::parse(reference)?;
    let repo = r.repository().to_string();
    // Docker Hub's implicit `library/` stays out of names the user never wrote.
    let written_without_host = match reference.split_once('/') {
        Some((first, _)) => !is_host(first),
        None => true,
    };
    let repo = match repo.strip_prefix("library/") {
        Some(rest) if written_without_host && !reference.starts_with("library/") => {
            rest.to_string()
        }
        _ => repo,
    };
    Ok((repo, r.tag().map(str::to_string)))
}

fn is_host(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Metadata {
        Metadata {
            format_version: 1,
            name: "topolvm-operator".into(),
            display_name: "NativeStor".into(),
            kind: Kind::Bundle,
            version: "2.3.0".into(),
            architectures: vec!["linux/amd64".into()],
            provider: None,
            source_type: Some("alauda".into()),
            catalog_source: Some("platform".into()),
            artifact: Image {
                reference: "harbor.demo.io/acp/topolvm-operator-bundle:v3.11.0".into(),
                layout: "images/0".into(),
                digest: oci::Digest::of(b"x").to_string(),
            },
            related_images: vec![],
            chart: None,
            module_plugin: None,
            module_config: None,
        }
    }

    #[test]
    fn metadata_round_trips_through_yaml_and_validates() {
        let m = sample();
        let text = m.to_yaml().unwrap();
        assert!(text.contains("type: bundle"), "{text}");
        assert_eq!(Metadata::parse(&text).unwrap(), m);
        assert_eq!(m.version_name(), "topolvm-operator.v2.3.0");
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut m = sample();
        m.name = "Topo_LVM".into();
        assert!(m.validate().unwrap_err().to_string().contains("field name"));
        let mut m = sample();
        m.catalog_source = Some("elsewhere".into());
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("field catalogSource")
        );
        let mut m = sample();
        m.artifact.layout = "images/../../etc".into();
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("artifact.layout")
        );
        let mut m = sample();
        m.related_images.push(m.artifact.clone());
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("used by two images")
        );
        let mut m = sample();
        m.kind = Kind::Plugin;
        m.catalog_source = None;
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("modulePlugin")
        );
        let e = Metadata::parse("formatVersion: 1\nname: x\nsurprise: 1\n").unwrap_err();
        assert!(e.to_string().contains("surprise"), "{e}");
    }

    #[test]
    fn destinations_drop_the_source_registry_only() {
        assert_eq!(
            destination_path("harbor.demo.io/acp/topolvm:v3.11.0").unwrap(),
            ("acp/topolvm".into(), Some("v3.11.0".into()))
        );
        assert_eq!(
            destination_path("acp/x:1").unwrap(),
            ("acp/x".into(), Some("1".into()))
        );
        assert_eq!(
            destination_path("busybox:1").unwrap(),
            ("busybox".into(), Some("1".into()))
        );
        assert_eq!(
            destination_path("localhost:5000/a/b:c").unwrap(),
            ("a/b".into(), Some("c".into()))
        );
    }
}
