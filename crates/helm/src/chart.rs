//! The chart model and its loader (the only module of this crate that touches the file system).
//!
//! Loading follows Helm v4's `loader` package: a directory (with `.helmignore`, following symlinks as
//! Helm does) or a `.tgz` archive (path traversal, absolute paths, links and oversize content refused)
//! becomes a list of files, which [`Chart::from_files`] sorts into `Chart.yaml` metadata, `values.yaml`,
//! `values.schema.json`, `requirements.yaml` (apiVersion v1), `templates/`, subcharts under `charts/`
//! (directories and archives, recursively) and everything else (`.Files`, including `crds/`).
//! Validation errors read exactly as Helm's (`validation: chart.metadata.name is required`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::ignore::Rules;
use crate::yaml;

/// Helm's cap on a decompressed chart archive (100 MiB).
pub const MAX_DECOMPRESSED_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Helm's cap on one file of a chart (5 MiB).
pub const MAX_DECOMPRESSED_FILE_SIZE: u64 = 5 * 1024 * 1024;

/// A chart that cannot be loaded. Display is Helm's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, LoadError> {
    Err(LoadError(msg.into()))
}

/// A file of a chart, named relative to the chart root with `/` separators.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    /// Contents, shared: charts are cloned per render and `.Files` hands out the same bytes.
    pub data: std::sync::Arc<[u8]>,
}

/// `Chart.yaml` maintainer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// A dependency declared in `Chart.yaml` (or `requirements.yaml` for apiVersion v1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// Raw `import-values` entries: strings or `{child, parent}` maps.
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: Option<BTreeMap<String, String>>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

/// A loaded chart and its vendored subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// `templates/**`, in load order.
    pub templates: Vec<File>,
    /// Chart default values (`values.yaml`), numbers as float64.
    pub values: Map<String, Value>,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Every other file (`.Files`), `crds/` included.
    pub files: Vec<File>,
    /// Subcharts from `charts/`.
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// Files under `crds/` (what `--include-crds` prints), in load order.
    pub fn crd_objects(&self) -> Vec<&File> {
        self.files
            .iter()
            .filter(|f| f.name.starts_with("crds/"))
            .collect()
    }

    /// Builds a chart from files named relative to its root (Helm's `LoadFiles`).
    pub fn from_files(files: Vec<File>) -> Result<Chart, LoadError> {
        let mut c = Chart::default();
        let mut have_metadata = false;
        let mut requirements: Option<Value> = None;
        let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
        for f in files {
            let name = f.name.as_str();
            if name == "Chart.yaml" {
                let text = text(&f.data);
                let v = yaml::to_json(&text).map_err(|e| {
                    LoadError(format!(
                        "cannot load Chart.yaml: error converting YAML to JSON: {e}"
                    ))
                })?;
                c.metadata = metadata_from_json(&v).map_err(|e| {
                    LoadError(format!(
                        "cannot load Chart.yaml: error unmarshaling JSON: {e}"
                    ))
                })?;
                if c.metadata.api_version.is_empty() {
                    c.metadata.api_version = "v1".into();
                }
                have_metadata = true;
                if let Some(r) = requirements.take() {
                    c.metadata.dependencies = dependencies_from_json(&r)
                        .map_err(|e| LoadError(format!("cannot load requirements.yaml: {e}")))?;
                }
            } else if name == "values.yaml" {
                let text = text(&f.data);
                c.values = load_values(&text)
                    .map_err(|e| LoadError(format!("cannot load values.yaml: {e}")))?;
            } else if name == "values.schema.json" {
                c.schema = Some(f.data.to_vec());
            } else if name == "requirements.yaml" {
                let text = text(&f.data);
                let v = yaml::to_json(&text).map_err(|e| {
                    LoadError(format!(
                        "cannot load requirements.yaml: error converting YAML to JSON: {e}"
                    ))
                })?;
                if have_metadata {
                    c.metadata.dependencies = dependencies_from_json(&v)
                        .map_err(|e| LoadError(format!("cannot load requirements.yaml: {e}")))?;
                } else {
                    requirements = Some(v);
                }
                if c.metadata.api_version == "v1" {
                    c.files.push(f);
                }
            } else if name == "requirements.lock" {
                if c.metadata.api_version == "v1" {
                    c.files.push(f);
                }
            } else if name == "Chart.lock" {
                // Lock files are metadata for `helm dependency`, not part of .Files.
            } else if name.starts_with("templates/") {
                c.templates.push(f);
            } else if let Some(rest) = name.strip_prefix("charts/") {
                if name.ends_with(".prov") {
                    c.files.push(f);
                    continue;
                }
                let cname = rest.split('/').next().unwrap_or("").to_string();
                let fname = rest.to_string();
                subcharts.entry(cname).or_default().push(File {
                    name: fname,
                    data: f.data,
                });
            } else {
                c.files.push(f);
            }
        }
        if !have_metadata {
            return err("Chart.yaml file is missing");
        }
        validate_metadata(&mut c.metadata)?;
        for (n, files) in subcharts {
            if n.starts_with('_') || n.starts_with('.') {
                continue;
            }
            let sc = if n.ends_with(".tgz") {
                let file = &files[0];
                if file.name != n {
                    return err(format!(
                        "error unpacking subchart tar in {}: expected {}, got {}",
                        c.name(),
                        n,
                        file.name
                    ));
                }
                load_archive_bytes(&file.data)
            } else {
                let buff: Vec<File> = files
                    .into_iter()
                    .filter_map(|f| {
                        f.name.split_once('/').map(|(_, rest)| File {
                            name: rest.to_string(),
                            data: f.data,
                        })
                    })
                    .collect();
                Chart::from_files(buff)
            };
            match sc {
                Ok(sc) => c.dependencies.push(sc),
                Err(e) => {
                    return err(format!(
                        "error unpacking subchart {} in {}: {}",
                        n,
                        c.name(),
                        e.0
                    ));
                }
            }
        }
        Ok(c)
    }
}

/// Parses a values document (values.yaml or `-f` file) as Helm does: YAML → JSON, numbers float64,
/// an empty document is an empty map, a non-map is refused.
pub fn load_values(text: &str) -> Result<Map<String, Value>, String> {
    let v = yaml::to_json(text).map_err(|e| {
        format!("cannot unmarshal yaml document: error converting YAML to JSON: {e}")
    })?;
    match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_type_name(&other)
        )),
    }
}

pub(crate) fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A scalar read into a Go string field (sigs.k8s.io/yaml turns numbers and booleans into text).
fn as_string(v: Option<&Value>, field: &str, ty: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::Number(n)) => Ok(go_float_string(n.as_f64().unwrap_or(0.0))),
        Some(other) => Err(format!(
            "while decoding JSON: json: cannot unmarshal {} into Go struct field {ty}.{field} of type string",
            json_type_name(other)
        )),
    }
}

/// strconv.FormatFloat(f, 'g', -1, 32)-like text for numbers written where Helm expects a string.
fn go_float_string(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{}", f as f32)
    }
}

fn as_strings(v: Option<&Value>, field: &str, ty: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| as_string(Some(i), field, ty))
            .collect(),
        Some(other) => Err(format!(
            "while decoding JSON: json: cannot unmarshal {} into Go struct field {ty}.{field} of type []string",
            json_type_name(other)
        )),
    }
}

fn metadata_from_json(v: &Value) -> Result<Metadata, String> {
    let empty = Map::new();
    let m = match v {
        Value::Object(m) => m,
        Value::Null => &empty,
        other => {
            return Err(format!(
                "while decoding JSON: json: cannot unmarshal {} into Go value of type chart.Metadata",
                json_type_name(other)
            ));
        }
    };
    let t = "Metadata";
    let s = |k: &str| as_string(m.get(k), k, t);
    let mut md = Metadata {
        name: s("name")?,
        home: s("home")?,
        sources: as_strings(m.get("sources"), "sources", t)?,
        version: s("version")?,
        description: s("description")?,
        keywords: as_strings(m.get("keywords"), "keywords", t)?,
        icon: s("icon")?,
        api_version: s("apiVersion")?,
        condition: s("condition")?,
        tags: s("tags")?,
        app_version: s("appVersion")?,
        kube_version: s("kubeVersion")?,
        chart_type: s("type")?,
        ..Default::default()
    };
    md.deprecated = matches!(m.get("deprecated"), Some(Value::Bool(true)));
    if let Some(Value::Object(a)) = m.get("annotations") {
        let mut out = BTreeMap::new();
        for (k, v) in a {
            out.insert(k.clone(), as_string(Some(v), "annotations", t)?);
        }
        md.annotations = Some(out);
    }
    if let Some(Value::Array(list)) = m.get("maintainers") {
        for item in list {
            let mm = item.as_object().cloned().unwrap_or_default();
            md.maintainers.push(Maintainer {
                name: as_string(mm.get("name"), "name", "Maintainer")?,
                email: as_string(mm.get("email"), "email", "Maintainer")?,
                url: as_string(mm.get("url"), "url", "Maintainer")?,
            });
        }
    }
    if m.contains_key("dependencies") {
        md.dependencies = dependencies_from_json(v)?;
    }
    Ok(md)
}

fn dependencies_from_json(v: &Value) -> Result<Vec<Dependency>, String> {
    let mut out = Vec::new();
    let list = match v.get("dependencies") {
        Some(Value::Array(l)) => l,
        _ => return Ok(out),
    };
    for item in list {
        let m = match item {
            Value::Object(m) => m,
            Value::Null => {
                return Err("validation: dependencies must not contain empty or null nodes".into());
            }
            other => {
                return Err(format!(
                    "while decoding JSON: json: cannot unmarshal {} into Go struct field Metadata.dependencies of type chart.Dependency",
                    json_type_name(other)
                ));
            }
        };
        let t = "Dependency";
        let import_values = match m.get("import-values") {
            Some(Value::Array(l)) => l.clone(),
            _ => Vec::new(),
        };
        out.push(Dependency {
            name: as_string(m.get("name"), "name", t)?,
            version: as_string(m.get("version"), "version", t)?,
            repository: as_string(m.get("repository"), "repository", t)?,
            condition: as_string(m.get("condition"), "condition", t)?,
            tags: as_strings(m.get("tags"), "tags", t)?,
            enabled: matches!(m.get("enabled"), Some(Value::Bool(true))),
            import_values,
            alias: as_string(m.get("alias"), "alias", t)?,
        });
    }
    Ok(out)
}

/// Removes characters Go's `unicode.IsPrint` rejects (Helm's `sanitizeString`), keeping spaces.
fn sanitize(s: &mut String) {
    if s.chars().any(|c| c.is_control()) {
        *s = s
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
    }
}

fn validate_metadata(md: &mut Metadata) -> Result<(), LoadError> {
    for s in [
        &mut md.name,
        &mut md.description,
        &mut md.home,
        &mut md.icon,
        &mut md.condition,
        &mut md.tags,
        &mut md.app_version,
        &mut md.kube_version,
    ] {
        sanitize(s);
    }
    if md.api_version.is_empty() {
        return err("validation: chart.metadata.apiVersion is required");
    }
    if md.name.is_empty() {
        return err("validation: chart.metadata.name is required");
    }
    let base = md.name.rsplit('/').next().unwrap_or("");
    if md.name != base || md.name == "." || md.name == ".." {
        return err(format!(
            "validation: chart.metadata.name {:?} is invalid",
            md.name
        ));
    }
    if md.version.is_empty() {
        return err("validation: chart.metadata.version is required");
    }
    if crate::semver::Version::parse(&md.version).is_err() {
        return err(format!(
            "validation: chart.metadata.version {:?} is invalid",
            md.version
        ));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return err("validation: chart.metadata.type must be application or library");
    }
    let mut seen = std::collections::HashSet::new();
    for d in &md.dependencies {
        if !d.alias.is_empty()
            && !d
                .alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return err(format!(
                "validation: dependency {:?} has disallowed characters in the alias",
                d.name
            ));
        }
        let key = if d.alias.is_empty() {
            &d.name
        } else {
            &d.alias
        };
        if !seen.insert(key.clone()) {
            return err(format!(
                "validation: more than one dependency with name or alias {key:?}"
            ));
        }
    }
    Ok(())
}

/// Loads a chart from a directory or a `.tgz`/`.tar.gz` archive.
pub fn load(path: &Path) -> Result<Chart, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        LoadError(format!(
            "path {:?} not found: {}",
            path.display().to_string(),
            e
        ))
    })?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path)
            .map_err(|e| LoadError(format!("cannot read {}: {e}", path.display())))?;
        load_archive_bytes(&data)
    }
}

/// Loads a chart directory, applying its `.helmignore`.
pub fn load_dir(dir: &Path) -> Result<Chart, LoadError> {
    Chart::from_files(dir_files(dir)?)
}

/// The files of a chart directory that belong to the chart (its `.helmignore` applied), by
/// path relative to the directory.
pub fn dir_files(dir: &Path) -> Result<Vec<File>, LoadError> {
    let mut rules = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(text) => Rules::parse(&text).map_err(LoadError)?,
        Err(_) => Rules::default(),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    walk(dir, "", &rules, &mut files, 0)?;
    Ok(files)
}

/// `helm package`: a chart directory as the gzipped tar Helm writes (every file under
/// `<chart name>/`, `.helmignore` applied), after checking that it loads as a chart.
pub fn package_dir(dir: &Path) -> Result<Vec<u8>, LoadError> {
    let files = dir_files(dir)?;
    let chart = Chart::from_files(files.clone())?;
    let io = |e: std::io::Error| LoadError(format!("cannot package {}: {e}", dir.display()));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for f in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(f.data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{}/{}", chart.name(), f.name),
            &f.data[..],
        )
        .map_err(io)?;
    }
    tar.into_inner().and_then(|gz| gz.finish()).map_err(io)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &Rules,
    out: &mut Vec<File>,
    depth: usize,
) -> Result<(), LoadError> {
    if depth > 64 {
        return err(format!(
            "directory nesting deeper than 64 levels at {} (symlink loop?)",
            dir.display()
        ));
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| LoadError(format!("cannot read directory {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let fname = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            fname.clone()
        } else {
            format!("{prefix}/{fname}")
        };
        let path = e.path();
        // Follow symlinks as Helm's sympath.Walk does.
        let meta = std::fs::metadata(&path)
            .map_err(|e| LoadError(format!("cannot stat {}: {e}", path.display())))?;
        if meta.is_dir() {
            if rules.ignore(&rel, true) {
                continue;
            }
            walk(&path, &rel, rules, out, depth + 1)?;
            continue;
        }
        if rules.ignore(&rel, false) {
            continue;
        }
        if !meta.is_file() {
            return err(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            ));
        }
        if meta.len() > MAX_DECOMPRESSED_FILE_SIZE {
            return err(format!(
                "chart file {rel:?} is larger than the maximum file size {MAX_DECOMPRESSED_FILE_SIZE}"
            ));
        }
        let mut data = std::fs::read(&path)
            .map_err(|e| LoadError(format!("cannot read {}: {e}", path.display())))?;
        strip_bom(&mut data);
        out.push(File {
            name: rel,
            data: data.into(),
        });
    }
    Ok(())
}

fn strip_bom(data: &mut Vec<u8>) {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
}

/// Loads a gzipped tar chart archive from memory.
pub fn load_archive_bytes(data: &[u8]) -> Result<Chart, LoadError> {
    let files = archive_files(data)?;
    Chart::from_files(files)
}

/// Helm's `LoadArchiveFiles`, refusing links, traversal, absolute paths and oversize content.
pub fn archive_files(data: &[u8]) -> Result<Vec<File>, LoadError> {
    let gz = flate2::read::GzDecoder::new(data);
    // Bound the decompressed stream itself so a gzip bomb cannot exhaust memory before tar sees it.
    let limited = gz.take(MAX_DECOMPRESSED_CHART_SIZE + 1024 * 1024);
    let mut ar = tar::Archive::new(limited);
    let mut files = Vec::new();
    let mut remaining = MAX_DECOMPRESSED_CHART_SIZE;
    let entries = ar
        .entries()
        .map_err(|e| LoadError(format!("cannot read chart archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| LoadError(archive_err(e)))?;
        let header = entry.header();
        let etype = header.entry_type();
        if etype.is_dir() || etype.is_pax_global_extensions() || etype.is_pax_local_extensions() {
            continue;
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if etype.is_symlink() || etype.is_hard_link() {
            return err(format!(
                "chart archive contains a link {raw_name:?}: links are not allowed in chart archives"
            ));
        }
        if !etype.is_file() && etype != tar::EntryType::Continuous && !etype.is_gnu_sparse() {
            return err(format!(
                "chart archive contains an irregular file {raw_name:?}: only regular files are allowed"
            ));
        }
        let delim = if raw_name.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw_name.split(delim).collect();
        let joined = parts[1..].join("/");
        if joined.starts_with('/') {
            return err("chart illegally contains absolute paths");
        }
        let n = clean_path(&joined);
        if n == "." {
            return err(format!(
                "chart illegally contains content outside the base directory: {raw_name:?}"
            ));
        }
        if n.starts_with("..") {
            return err("chart illegally references parent directory");
        }
        let b = n.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            return err("chart contains illegally named files");
        }
        if parts[0] == "Chart.yaml" {
            return err("chart yaml not in base directory");
        }
        let size = entry.size();
        if size > remaining {
            return err(format!(
                "decompressed chart is larger than the maximum size {MAX_DECOMPRESSED_CHART_SIZE}"
            ));
        }
        if size > MAX_DECOMPRESSED_FILE_SIZE {
            return err(format!(
                "decompressed chart file {raw_name:?} is larger than the maximum file size {MAX_DECOMPRESSED_FILE_SIZE}"
            ));
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(remaining)
            .read_to_end(&mut buf)
            .map_err(|e| LoadError(archive_err(e)))?;
        remaining -= buf.len() as u64;
        if (buf.len() as u64) < size || remaining == 0 {
            return err(format!(
                "decompressed chart is larger than the maximum size {MAX_DECOMPRESSED_CHART_SIZE}"
            ));
        }
        strip_bom(&mut buf);
        files.push(File {
            name: n,
            data: buf.into(),
        });
    }
    if files.is_empty() {
        return err("no files in chart archive");
    }
    Ok(files)
}

fn archive_err(e: std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("invalid gzip header") || text.contains("corrupt deflate") {
        "gzip: invalid header".to_string()
    } else {
        format!("cannot read chart archive: {text}")
    }
}

/// Go's `path.Clean`.
pub fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A file's bytes as text, invalid UTF-8 replaced by U+FFFD. Tries `str::from_utf8` first:
/// `String::from_utf8_lossy`'s chunked validation was an eighth of the render time of charts with
/// large templates (CRDs), and files are almost always valid.
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_packaged_directory_loads_as_the_same_chart_without_ignored_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("templates")).unwrap();
        std::fs::write(
            d.join("Chart.yaml"),
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(d.join("values.yaml"), "replicas: 2\n").unwrap();
        std::fs::write(d.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(d.join(".helmignore"), "secret.txt\n").unwrap();
        std::fs::write(d.join("secret.txt"), "not for the archive").unwrap();
        let tgz = package_dir(d).unwrap();
        let names: Vec<String> = archive_files(&tgz)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert!(
            names.contains(&"templates/cm.yaml".to_string()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("secret.txt")), "{names:?}");
        let from_dir = load_dir(d).unwrap();
        let from_tgz = load_archive_bytes(&tgz).unwrap();
        assert_eq!(from_tgz.name(), "demo");
        assert_eq!(from_tgz.templates.len(), from_dir.templates.len());
    }

    use super::*;

    fn f(name: &str, data: &str) -> File {
        File {
            name: name.into(),
            data: data.as_bytes().into(),
        }
    }

    #[test]
    fn files_are_sorted_into_chart_parts() {
        let c = Chart::from_files(vec![
            f("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            f("values.yaml", "x: 1\n"),
            f("templates/a.yaml", "a"),
            f("crds/c.yaml", "c"),
            f("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            f("charts/sub/templates/b.yaml", "b"),
            f("README.md", "r"),
        ])
        .unwrap();
        assert_eq!(c.name(), "a");
        assert_eq!(c.templates.len(), 1);
        assert_eq!(c.crd_objects().len(), 1);
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.dependencies[0].name(), "sub");
        assert_eq!(c.dependencies[0].metadata.api_version, "v1");
        assert_eq!(c.values["x"].as_f64(), Some(1.0));
    }

    #[test]
    fn metadata_validation_errors_read_as_helm() {
        let e = |y: &str| Chart::from_files(vec![f("Chart.yaml", y)]).unwrap_err().0;
        assert_eq!(
            e("version: 1.0.0\n"),
            "validation: chart.metadata.name is required"
        );
        assert_eq!(
            e("name: a\nversion: 1.0.0\ntype: foo\n"),
            "validation: chart.metadata.type must be application or library"
        );
        assert_eq!(
            e("name: ../a\nversion: 1\n"),
            "validation: chart.metadata.name \"../a\" is invalid"
        );
        assert_eq!(
            e("name: a\n"),
            "validation: chart.metadata.version is required"
        );
        assert_eq!(
            Chart::from_files(vec![f("values.yaml", "")]).unwrap_err().0,
            "Chart.yaml file is missing"
        );
    }

    #[test]
    fn clean_path_matches_go() {
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path("./a//b/"), "a/b");
        assert_eq!(clean_path(""), ".");
    }
}
