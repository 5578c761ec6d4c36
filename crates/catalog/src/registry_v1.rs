//! registry+v1 bundles (`manifests/` with the CSV, CRDs and other objects; `metadata/` with
//! `annotations.yaml`, optional `dependencies.yaml` and `properties.yaml`) turned into the bundle
//! model with the properties `opm render` derives: `olm.package`, `olm.gvk` for every CRD
//! version and owned APIService, `olm.gvk.required` / `olm.package.required` from the CSV's
//! required APIs and `dependencies.yaml`, the `properties.yaml` properties and `olm.csv.metadata`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::{Bundle, Gvk, Property, RelatedImage, types};
use crate::version::parse_version;

pub const ANNOTATION_PACKAGE: &str = "operators.operatorframework.io.bundle.package.v1";
pub const ANNOTATION_CHANNELS: &str = "operators.operatorframework.io.bundle.channels.v1";
pub const ANNOTATION_DEFAULT_CHANNEL: &str =
    "operators.operatorframework.io.bundle.channel.default.v1";
pub const ANNOTATION_MANIFESTS: &str = "operators.operatorframework.io.bundle.manifests.v1";
pub const ANNOTATION_METADATA: &str = "operators.operatorframework.io.bundle.metadata.v1";
pub const ANNOTATION_MEDIATYPE: &str = "operators.operatorframework.io.bundle.mediatype.v1";

impl Bundle {
    /// Reads the registry+v1 bundle in `dir` (which holds `manifests/` and `metadata/`).
    pub fn from_registry_v1_dir(dir: &Path) -> Result<Bundle> {
        let mut files = Vec::new();
        for sub in ["manifests", "metadata"] {
            let d = dir.join(sub);
            let rd = std::fs::read_dir(&d).map_err(|e| Error::io(d.display().to_string(), e))?;
            for entry in rd {
                let entry = entry.map_err(|e| Error::io(d.display().to_string(), e))?;
                let path = entry.path();
                if path.is_file() {
                    let bytes = std::fs::read(&path)
                        .map_err(|e| Error::io(path.display().to_string(), e))?;
                    files.push((
                        format!("{sub}/{}", entry.file_name().to_string_lossy()),
                        bytes,
                    ));
                }
            }
        }
        files.sort();
        Bundle::from_registry_v1_files(&dir.display().to_string(), files, "")
    }

    /// Reads a registry+v1 bundle from `(path, contents)` pairs relative to the bundle root (a
    /// leading `/` is ignored: an image's files read through `oci::ImageFs` do). `source` names
    /// the bundle in errors (directory or image reference); `image` is the bundle image
    /// reference recorded in the model (may be empty).
    pub fn from_registry_v1_files<I, P, B>(source: &str, files: I, image: &str) -> Result<Bundle>
    where
        I: IntoIterator<Item = (P, B)>,
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let files: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .map(|(p, b)| {
                (
                    p.as_ref()
                        .trim_start_matches("./")
                        .trim_start_matches('/')
                        .to_string(),
                    b.as_ref().to_vec(),
                )
            })
            .collect();
        let file_name = |rel: &str| format!("{}/{rel}", source.trim_end_matches('/'));
        let annotations_rel = files
            .iter()
            .map(|(p, _)| p.as_str())
            .find(|p| *p == "metadata/annotations.yaml" || *p == "metadata/annotations.yml")
            .ok_or_else(|| {
                Error::invalid(
                    file_name("metadata/annotations.yaml"),
                    "(file)",
                    "a registry+v1 bundle needs metadata/annotations.yaml",
                )
            })?
            .to_string();
        let read = |rel: &str| {
            files
                .iter()
                .find(|(p, _)| p == rel)
                .map(|(_, b)| b.as_slice())
        };
        let ann = Annotations::parse(
            &file_name(&annotations_rel),
            read(&annotations_rel).unwrap_or_default(),
        )?;
        let manifests_dir = ann.manifests_dir.clone();
        let metadata_dir = annotations_rel
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();

        let mut objects = Vec::new();
        for (rel, bytes) in files.iter().filter(|(p, _)| in_dir(p, &manifests_dir)) {
            if !crate::fbc::is_catalog_file(rel) {
                continue;
            }
            for (i, obj) in crate::decode::documents(&file_name(rel), bytes)?
                .into_iter()
                .enumerate()
            {
                if !obj.is_object() || obj.get("kind").and_then(Value::as_str).is_none() {
                    return Err(Error::invalid(
                        file_name(rel),
                        format!("document {i}: kind"),
                        "a manifest must be a Kubernetes object with a kind",
                    ));
                }
                objects.push((rel.clone(), obj));
            }
        }
        let csvs: Vec<&(String, Value)> = objects
            .iter()
            .filter(|(_, o)| o["kind"] == "ClusterServiceVersion")
            .collect();
        let [(csv_file, csv)] = csvs.as_slice() else {
            return Err(Error::invalid(
                file_name(&manifests_dir),
                "kind: ClusterServiceVersion",
                format!(
                    "a bundle needs exactly one ClusterServiceVersion in {manifests_dir}/, found {}",
                    csvs.len()
                ),
            ));
        };
        let csv_file = file_name(csv_file);
        let parsed = CsvFacts::read(&csv_file, csv)?;

        let mut extra = Vec::new();
        if let Some(rel) = [
            format!("{metadata_dir}/properties.yaml"),
            format!("{metadata_dir}/properties.yml"),
        ]
        .iter()
        .find(|r| read(r).is_some())
        {
            extra = read_properties(&file_name(rel), read(rel).unwrap_or_default())?;
        }
        let mut deps = Vec::new();
        if let Some(rel) = [
            format!("{metadata_dir}/dependencies.yaml"),
            format!("{metadata_dir}/dependencies.yml"),
        ]
        .iter()
        .find(|r| read(r).is_some())
        {
            deps = read_dependencies(&file_name(rel), read(rel).unwrap_or_default())?;
        }

        let crd_gvks = crd_gvks(objects.iter().map(|(_, o)| o));
        let properties = derive_properties(&ann.package, &parsed, csv, crd_gvks, extra, deps);
        let related_images = related_images(csv, image);
        let mut bundle = Bundle {
            name: parsed.name.clone(),
            package: ann.package,
            image: image.to_string(),
            version: parsed.version,
            properties,
            related_images,
            channels: ann.channels,
            default_channel: ann.default_channel,
            replaces: parsed.replaces,
            skips: parsed.skips,
            skip_range: parsed.skip_range,
            source: source.to_string(),
            objects: objects.into_iter().map(|(_, o)| o).collect(),
            provided: Vec::new(),
        };
        bundle.refresh_provided();
        Ok(bundle)
    }
}

fn in_dir(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
}

/// `metadata/annotations.yaml`.
struct Annotations {
    package: String,
    channels: Vec<String>,
    default_channel: Option<String>,
    manifests_dir: String,
}

impl Annotations {
    fn parse(file: &str, bytes: &[u8]) -> Result<Annotations> {
        let doc = crate::decode::documents(file, bytes)?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        let ann = doc
            .get("annotations")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                Error::invalid(
                    file,
                    "annotations",
                    "must be a mapping of bundle annotations",
                )
            })?;
        let get = |k: &str| {
            ann.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(mt) = get(ANNOTATION_MEDIATYPE)
            && mt != "registry+v1"
            && mt != "plain+v0"
        {
            return Err(Error::invalid(
                file,
                format!("annotations.{ANNOTATION_MEDIATYPE}"),
                format!("{mt:?} is not a supported bundle format (registry+v1)"),
            ));
        }
        let package = get(ANNOTATION_PACKAGE)
            .ok_or_else(|| {
                Error::invalid(
                    file,
                    format!("annotations.{ANNOTATION_PACKAGE}"),
                    "the bundle's package name is required",
                )
            })?
            .to_string();
        let channels: Vec<String> = get(ANNOTATION_CHANNELS)
            .ok_or_else(|| {
                Error::invalid(
                    file,
                    format!("annotations.{ANNOTATION_CHANNELS}"),
                    "the bundle's channels are required (comma-separated)",
                )
            })?
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if channels.is_empty() {
            return Err(Error::invalid(
                file,
                format!("annotations.{ANNOTATION_CHANNELS}"),
                "names no channel",
            ));
        }
        let manifests_dir = get(ANNOTATION_MANIFESTS)
            .unwrap_or("manifests/")
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string();
        Ok(Annotations {
            package,
            channels,
            default_channel: get(ANNOTATION_DEFAULT_CHANNEL).map(str::to_string),
            manifests_dir,
        })
    }
}

/// What the resolver and catalog need from a CSV.
struct CsvFacts {
    name: String,
    version: crate::version::Version,
    replaces: Option<String>,
    skips: Vec<String>,
    skip_range: Option<String>,
}

impl CsvFacts {
    fn read(file: &str, csv: &Value) -> Result<CsvFacts> {
        let name = csv
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    file,
                    "metadata.name",
                    "the ClusterServiceVersion needs a name",
                )
            })?
            .to_string();
        let version = match csv.pointer("/spec/version") {
            Some(Value::String(s)) => {
                parse_version(s).map_err(|e| Error::invalid(file, "spec.version", e))?
            }
            _ => {
                return Err(Error::invalid(
                    file,
                    "spec.version",
                    "the ClusterServiceVersion needs a version string",
                ));
            }
        };
        let replaces = csv
            .pointer("/spec/replaces")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let skips = match csv.pointer("/spec/skips") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|s| {
                    s.as_str().map(str::to_string).ok_or_else(|| {
                        Error::invalid(file, "spec.skips", "must be a list of CSV names")
                    })
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(Error::invalid(
                    file,
                    "spec.skips",
                    "must be a list of CSV names",
                ));
            }
        };
        let skip_range = csv
            .pointer("/metadata/annotations/olm.skipRange")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(r) = &skip_range {
            crate::version::Range::parse(r)
                .map_err(|e| Error::invalid(file, "metadata.annotations[olm.skipRange]", e))?;
        }
        check_install(file, csv)?;
        Ok(CsvFacts {
            name,
            version,
            replaces,
            skips,
            skip_range,
        })
    }
}

/// The types of the fields OLM installs a CSV from, when present: `spec.install` (for the
/// `deployment` strategy a list of named deployments with a spec) and `spec.installModes`
/// (a list of `{type, supported}`), so a malformed CSV is refused when its bundle is read,
/// naming the field, instead of half-installing. (An absent `spec.install` loads, as opm
/// loads it; the Subscription refuses to install such a CSV.)
fn check_install(file: &str, csv: &Value) -> Result<()> {
    match csv.pointer("/spec/install") {
        Some(install @ Value::Object(_)) => check_strategy(file, install)?,
        None | Some(Value::Null) => {}
        Some(_) => {
            return Err(Error::invalid(
                file,
                "spec.install",
                "must be a mapping (strategy, spec)",
            ));
        }
    }
    match csv.pointer("/spec/installModes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(modes)) => {
            for (i, m) in modes.iter().enumerate() {
                if !m["type"].is_string() {
                    return Err(Error::invalid(
                        file,
                        format!("spec.installModes[{i}].type"),
                        "must be a string (OwnNamespace, SingleNamespace, MultiNamespace or AllNamespaces)",
                    ));
                }
                if !m["supported"].is_boolean() {
                    return Err(Error::invalid(
                        file,
                        format!("spec.installModes[{i}].supported"),
                        "must be true or false",
                    ));
                }
            }
        }
        Some(_) => {
            return Err(Error::invalid(
                file,
                "spec.installModes",
                "must be a list of {type, supported}",
            ));
        }
    }
    Ok(())
}

/// `spec.install` of the `deployment` strategy: a list of named deployments with a spec.
fn check_strategy(file: &str, install: &Value) -> Result<()> {
    let strategy = install["strategy"].as_str().ok_or_else(|| {
        Error::invalid(
            file,
            "spec.install.strategy",
            "must be a string (deployment)",
        )
    })?;
    if strategy == "deployment" {
        let deployments = match install.pointer("/spec/deployments") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                return Err(Error::invalid(
                    file,
                    "spec.install.spec.deployments",
                    "must be a list of {name, spec}",
                ));
            }
        };
        for (i, d) in deployments.iter().enumerate() {
            if d["name"].as_str().is_none_or(str::is_empty) {
                return Err(Error::invalid(
                    file,
                    format!("spec.install.spec.deployments[{i}].name"),
                    "each deployment needs a name",
                ));
            }
            if !d["spec"].is_object() {
                return Err(Error::invalid(
                    file,
                    format!("spec.install.spec.deployments[{i}].spec"),
                    "must be a Deployment spec (a mapping)",
                ));
            }
        }
    }
    Ok(())
}

fn read_properties(file: &str, bytes: &[u8]) -> Result<Vec<Property>> {
    let doc = crate::decode::documents(file, bytes)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let list = doc
        .get("properties")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    serde_json::from_value(list).map_err(|e| {
        Error::invalid(
            file,
            "properties",
            format!("must be a list of {{type, value}}: {e}"),
        )
    })
}

/// `dependencies.yaml` → required properties, as opm converts them.
fn read_dependencies(file: &str, bytes: &[u8]) -> Result<Vec<Property>> {
    let doc = crate::decode::documents(file, bytes)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let list = doc
        .get("dependencies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let at = |f: &str| format!("dependencies[{i}].{f}");
        let ty = d
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(file, at("type"), "required"))?;
        let v = d.get("value").cloned().unwrap_or(Value::Null);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match ty {
            "olm.package" => {
                let (Some(name), Some(range)) = (s("packageName"), s("version")) else {
                    return Err(Error::invalid(
                        file,
                        at("value"),
                        "olm.package needs packageName and version (a range)",
                    ));
                };
                crate::version::Range::parse(&range)
                    .map_err(|e| Error::invalid(file, at("value.version"), e))?;
                out.push(Property::new(
                    types::PACKAGE_REQUIRED,
                    json!({"packageName": name, "versionRange": range}),
                ));
            }
            "olm.gvk" => {
                let (Some(g), Some(k), Some(ver)) = (s("group"), s("kind"), s("version")) else {
                    return Err(Error::invalid(
                        file,
                        at("value"),
                        "olm.gvk needs group, kind and version",
                    ));
                };
                out.push(Property::new(
                    types::GVK_REQUIRED,
                    json!({"group": g, "kind": k, "version": ver}),
                ));
            }
            "olm.label" => {
                if s("label").is_none() {
                    return Err(Error::invalid(
                        file,
                        at("value.label"),
                        "olm.label needs a label string",
                    ));
                }
                out.push(Property::new("olm.label.required", v));
            }
            "olm.constraint" => out.push(Property::new(types::CONSTRAINT, v)),
            other => {
                return Err(Error::invalid(
                    file,
                    at("type"),
                    format!(
                        "{other:?} is not a dependency type (olm.package, olm.gvk, olm.label, olm.constraint)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Every version of every CRD in the manifests.
fn crd_gvks<'a>(objects: impl Iterator<Item = &'a Value>) -> BTreeSet<Gvk> {
    let mut out = BTreeSet::new();
    for o in objects.filter(|o| o["kind"] == "CustomResourceDefinition") {
        let spec = &o["spec"];
        let group = spec["group"].as_str().unwrap_or_default().to_string();
        let kind = spec
            .pointer("/names/kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut versions: Vec<String> = spec["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .collect();
        if let Some(v) = spec["version"].as_str() {
            versions.push(v.to_string());
        }
        for version in versions {
            out.insert(Gvk {
                group: group.clone(),
                version,
                kind: kind.clone(),
            });
        }
    }
    out
}

fn gvk_of_crd_desc(d: &Value) -> Option<Gvk> {
    let name = d["name"].as_str()?;
    let group = name.split_once('.').map(|(_, g)| g).unwrap_or_default();
    Some(Gvk {
        group: group.to_string(),
        version: d["version"].as_str()?.to_string(),
        kind: d["kind"].as_str()?.to_string(),
    })
}

fn gvk_of_api_desc(d: &Value) -> Option<Gvk> {
    Some(Gvk {
        group: d["group"].as_str()?.to_string(),
        version: d["version"].as_str()?.to_string(),
        kind: d["kind"].as_str()?.to_string(),
    })
}

fn derive_properties(
    package: &str,
    csv: &CsvFacts,
    csv_obj: &Value,
    mut provided: BTreeSet<Gvk>,
    extra: Vec<Property>,
    deps: Vec<Property>,
) -> Vec<Property> {
    let list = |p: &str| {
        csv_obj
            .pointer(p)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    provided.extend(
        list("/spec/apiservicedefinitions/owned")
            .iter()
            .filter_map(gvk_of_api_desc),
    );
    let mut required: BTreeSet<Gvk> = list("/spec/customresourcedefinitions/required")
        .iter()
        .filter_map(gvk_of_crd_desc)
        .collect();
    required.extend(
        list("/spec/apiservicedefinitions/required")
            .iter()
            .filter_map(gvk_of_api_desc),
    );

    let mut props = Vec::new();
    let pkg_prop = extra
        .iter()
        .find(|p| p.type_ == types::PACKAGE)
        .cloned()
        .unwrap_or_else(|| {
            Property::new(
                types::PACKAGE,
                json!({"packageName": package, "version": csv.version.to_string()}),
            )
        });
    let mut sorted: Vec<&Gvk> = provided.iter().collect();
    sorted.sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
    props.extend(sorted.into_iter().map(|g| {
        Property::new(
            types::GVK,
            json!({"group": g.group, "kind": g.kind, "version": g.version}),
        )
    }));
    let mut req_props: Vec<Property> = required
        .iter()
        .map(|g| {
            Property::new(
                types::GVK_REQUIRED,
                json!({"group": g.group, "kind": g.kind, "version": g.version}),
            )
        })
        .collect();
    req_props.extend(
        deps.iter()
            .filter(|p| p.type_ == types::GVK_REQUIRED)
            .cloned(),
    );
    dedup(&mut req_props);
    props.extend(req_props);
    props.push(pkg_prop);
    props.extend(deps.into_iter().filter(|p| p.type_ != types::GVK_REQUIRED));
    props.extend(extra.into_iter().filter(|p| p.type_ != types::PACKAGE));
    props.push(Property::new(types::CSV_METADATA, csv_metadata(csv_obj)));
    props
}

fn dedup(props: &mut Vec<Property>) {
    let mut seen = Vec::new();
    props.retain(|p| {
        let key = (p.type_.clone(), p.value.to_string());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// `olm.csv.metadata` from a CSV object: the fields opm copies, shaped as Go's typed structs
/// serialize them (empty optional fields left out, the description lists always present).
pub fn csv_metadata(csv: &Value) -> Value {
    let mut m = Map::new();
    let fields: [(&str, &str); 14] = [
        ("annotations", "/metadata/annotations"),
        ("apiServiceDefinitions", ""),
        ("crdDescriptions", ""),
        ("description", "/spec/description"),
        ("displayName", "/spec/displayName"),
        ("installModes", "/spec/installModes"),
        ("keywords", "/spec/keywords"),
        ("labels", "/metadata/labels"),
        ("links", "/spec/links"),
        ("maintainers", "/spec/maintainers"),
        ("maturity", "/spec/maturity"),
        ("minKubeVersion", "/spec/minKubeVersion"),
        ("nativeAPIs", "/spec/nativeAPIs"),
        ("provider", "/spec/provider"),
    ];
    for (key, pointer) in fields {
        let v = match key {
            "apiServiceDefinitions" => Some(descriptions(
                csv.pointer("/spec/apiservicedefinitions"),
                &["name", "group", "version", "kind"],
            )),
            "crdDescriptions" => Some(descriptions(
                csv.pointer("/spec/customresourcedefinitions"),
                &["name", "version", "kind"],
            )),
            _ => csv.pointer(pointer).filter(|v| !is_empty(v)).cloned(),
        };
        if let Some(v) = v {
            m.insert(key.to_string(), v);
        }
    }
    Value::Object(m)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// `{owned, required}` lists of CRD or APIService descriptions as Go serializes them: `required`
/// fields always present (empty string when absent), the others left out when empty;
/// `resources` entries always carry name, kind and version.
fn descriptions(v: Option<&Value>, required: &[&str]) -> Value {
    let mut out = Map::new();
    for list in ["owned", "required"] {
        let Some(items) = v
            .and_then(|v| v.get(list))
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        else {
            continue;
        };
        let items: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut d = Map::new();
                let obj = item.as_object().cloned().unwrap_or_default();
                for k in required {
                    d.insert(
                        k.to_string(),
                        obj.get(*k).cloned().unwrap_or(Value::String(String::new())),
                    );
                }
                for (k, val) in obj {
                    if required.contains(&k.as_str()) || is_empty(&val) {
                        continue;
                    }
                    let val = if k == "resources" {
                        resources(&val)
                    } else {
                        val
                    };
                    d.insert(k, val);
                }
                Value::Object(d)
            })
            .collect();
        out.insert(list.to_string(), Value::Array(items));
    }
    Value::Object(out)
}

fn resources(v: &Value) -> Value {
    let items = v.as_array().cloned().unwrap_or_default();
    Value::Array(
        items
            .into_iter()
            .map(|r| {
                let mut m = r.as_object().cloned().unwrap_or_default();
                for k in ["name", "kind", "version"] {
                    m.entry(k.to_string())
                        .or_insert(Value::String(String::new()));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// The CSV's `spec.relatedImages`, its deployments' container images and the bundle image,
/// deduplicated and sorted by image (as opm lists them).
fn related_images(csv: &Value, bundle_image: &str) -> Vec<RelatedImage> {
    let mut out: Vec<RelatedImage> = Vec::new();
    let mut add = |name: &str, image: &str| {
        if image.is_empty() {
            return;
        }
        if let Some(existing) = out.iter_mut().find(|r| r.image == image) {
            if existing.name.is_empty() {
                existing.name = name.to_string();
            }
            return;
        }
        out.push(RelatedImage {
            name: name.to_string(),
            image: image.to_string(),
        });
    };
    for r in csv
        .pointer("/spec/relatedImages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(
            r["name"].as_str().unwrap_or_default(),
            r["image"].as_str().unwrap_or_default(),
        );
    }
    for d in csv
        .pointer("/spec/install/spec/deployments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for key in [
            "/spec/template/spec/containers",
            "/spec/template/spec/initContainers",
        ] {
            for c in d
                .pointer(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                add("", c["image"].as_str().unwrap_or_default());
            }
        }
    }
    add("", bundle_image);
    out.sort_by(|a, b| a.image.cmp(&b.image).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod install_checks {
    use super::*;
    use serde_json::json;

    fn err(csv: Value) -> String {
        check_install("m/op.csv.yaml", &csv)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_csv_with_mistyped_install_fields_is_refused_naming_the_file_and_field() {
        let e = err(json!({"spec": {"install": "deployment"}}));
        assert!(e.starts_with("m/op.csv.yaml: spec.install: "), "{e}");
        let e = err(
            json!({"spec": {"install": {"strategy": "deployment", "spec": {"deployments": [{"spec": {}}]}}}}),
        );
        assert!(e.contains("spec.install.spec.deployments[0].name"), "{e}");
        let e =
            err(json!({"spec": {"installModes": [{"type": "OwnNamespace", "supported": "yes"}]}}));
        assert!(e.contains("spec.installModes[0].supported"), "{e}");
        // Absent fields load, as opm loads them.
        check_install("f", &json!({"spec": {}})).unwrap();
    }
}
