//! The render pipeline: Helm's `engine.Render` and the `helm template` path around it.
//!
//! [`render`] is the bare engine (what Helm's SDK `helm_render` returns: template path → text, NOTES
//! included, partials excluded); [`template`] adds what `helm template` does before and after:
//! library-chart refusal, missing-dependency check, `kubeVersion` check, document splitting, hooks,
//! install-order sort, `--include-crds`, and the printed stream.
//!
//! Data given to templates mirrors Helm: one shared `.Values` tree (maps are shared by reference, so
//! `set` in one template is seen by later ones, as in Go), `.Chart` with Go field names and `IsRoot`,
//! `.Release`, `.Capabilities`, `.Files`, `.Subcharts`, and `.Template{Name,BasePath}` per execution.
//! Templates of all charts are parsed into one set deepest-path-first (Helm's `sortTemplates`), so
//! top-level `define`s win.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use gotemplate::{Object, TemplateSet, Value as TV};
use serde_json::Value;

use crate::capabilities::Capabilities;
use crate::chart::Chart;
use crate::manifest::{self, Sorted};
use crate::values::{self, Values};

/// `.Release`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseOptions {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_install: bool,
    pub is_upgrade: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        }
    }
}

/// Answers the template function `lookup apiVersion kind namespace name`: the object (or, with an
/// empty name, a `List` of them) as JSON, or an empty object when absent. Without a hook `lookup`
/// returns an empty map, as `helm template` does; an install against a live cluster plugs one in.
#[derive(Clone)]
pub struct LookupHook(pub Arc<LookupFn>);

/// `lookup apiVersion kind namespace name` → the object(s) as JSON.
pub type LookupFn = dyn Fn(&str, &str, &str, &str) -> Result<Value, String> + Send + Sync;

impl std::fmt::Debug for LookupHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupHook(..)")
    }
}

/// Everything a render needs besides the chart.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub release: ReleaseOptions,
    pub capabilities: Capabilities,
    /// Skip `values.schema.json` validation (`--skip-schema-validation`).
    pub skip_schema_validation: bool,
    /// What `lookup` consults (none: an empty map, as `helm template`).
    pub lookup: Option<LookupHook>,
}

/// Binds `lookup` to the hook, with Go's argument checks (four strings).
fn lookup_function(hook: LookupHook) -> gotemplate::HostFn {
    Arc::new(move |args: &[TV]| {
        if args.len() != 4 {
            return Err(format!(
                "wrong number of args for lookup: want 4 got {}",
                args.len()
            ));
        }
        let mut s = Vec::with_capacity(4);
        for a in args {
            match a {
                TV::String(x) => s.push(x.to_string()),
                other => {
                    return Err(format!(
                        "wrong type for value; expected string; got {}",
                        other.type_name()
                    ));
                }
            }
        }
        let v = (hook.0)(&s[0], &s[1], &s[2], &s[3])?;
        Ok(to_template_value(&crate::strvals::as_go_json(v)))
    })
}

/// A failed render. Display is Helm's message (without the CLI's `Error: ` prefix).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Load(#[from] crate::chart::LoadError),
    #[error("{0}")]
    Values(String),
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(String),
    #[error("{0}")]
    Template(String),
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersion { constraint: String, version: String },
    #[error("chart dependencies are missing; run dependency update/build first: {0}")]
    MissingDependencies(String),
    #[error("{0}")]
    ReleaseName(String),
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    #[error("{0}")]
    Manifest(#[from] manifest::ManifestError),
}

/// The engine's output: template path → rendered text (NOTES.txt included, partials excluded).
pub type Rendered = BTreeMap<String, String>;

/// Go's `%v` of a JSON value (used in a few Helm messages).
pub fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    format!("{}", f as i64)
                } else {
                    format!("{f}")
                }
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Converts values to template values: JSON floats → `Float`, JSON integers → `Int`.
pub fn to_template_value(v: &Value) -> TV {
    match v {
        Value::Null => TV::Nil,
        Value::Bool(b) => TV::Bool(*b),
        Value::Number(n) => {
            if n.is_f64() {
                TV::Float(n.as_f64().unwrap_or(0.0))
            } else if let Some(i) = n.as_i64() {
                TV::Int(i)
            } else {
                TV::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => TV::str(s.as_str()),
        Value::Array(a) => TV::list(a.iter().map(to_template_value).collect()),
        Value::Object(m) => TV::map(
            m.iter()
                .map(|(k, v)| (k.clone(), to_template_value(v)))
                .collect(),
        ),
    }
}

fn s(x: &str) -> TV {
    TV::str(x)
}

fn strings(v: &[String]) -> TV {
    TV::list(v.iter().map(|x| s(x)).collect())
}

/// `.Chart`: Chart.yaml with Go field names, plus `IsRoot`.
fn chart_value(c: &Chart, is_root: bool) -> TV {
    let md = &c.metadata;
    let deps: Vec<TV> = md
        .dependencies
        .iter()
        .map(|d| {
            TV::map_from([
                ("Alias", s(&d.alias)),
                ("Condition", s(&d.condition)),
                ("Enabled", TV::Bool(d.enabled)),
                (
                    "ImportValues",
                    TV::list(d.import_values.iter().map(to_template_value).collect()),
                ),
                ("Name", s(&d.name)),
                ("Repository", s(&d.repository)),
                ("Tags", strings(&d.tags)),
                ("Version", s(&d.version)),
            ])
        })
        .collect();
    let maintainers: Vec<TV> = md
        .maintainers
        .iter()
        .map(|m| {
            TV::map_from([
                ("Email", s(&m.email)),
                ("Name", s(&m.name)),
                ("URL", s(&m.url)),
            ])
        })
        .collect();
    let annotations = match &md.annotations {
        None => TV::Nil,
        Some(a) => TV::map(a.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
    };
    TV::map_from([
        ("APIVersion", s(&md.api_version)),
        ("Annotations", annotations),
        ("AppVersion", s(&md.app_version)),
        ("Condition", s(&md.condition)),
        ("Dependencies", TV::list(deps)),
        ("Deprecated", TV::Bool(md.deprecated)),
        ("Description", s(&md.description)),
        ("Home", s(&md.home)),
        ("Icon", s(&md.icon)),
        ("IsRoot", TV::Bool(is_root)),
        ("Keywords", strings(&md.keywords)),
        ("KubeVersion", s(&md.kube_version)),
        ("Maintainers", TV::list(maintainers)),
        ("Name", s(&md.name)),
        ("Sources", strings(&md.sources)),
        ("Tags", s(&md.tags)),
        ("Type", s(&md.chart_type)),
        ("Version", s(&md.version)),
    ])
}

/// `.Files`: the chart's non-template files, with Helm's methods.
#[derive(Debug, Clone)]
pub struct FilesObject {
    files: Arc<BTreeMap<String, Arc<[u8]>>>,
}

impl FilesObject {
    fn new(c: &Chart) -> Self {
        FilesObject {
            files: Arc::new(
                c.files
                    .iter()
                    .map(|f| (f.name.clone(), f.data.clone()))
                    .collect(),
            ),
        }
    }

    fn string_map(&self, f: impl Fn(&[u8]) -> String) -> TV {
        let mut m = BTreeMap::new();
        for (k, v) in self.files.iter() {
            let base = k.rsplit('/').next().unwrap_or(k).to_string();
            m.insert(base, TV::str(f(v)));
        }
        TV::map(m)
    }
}

/// A Go string holding bytes that are not UTF-8 (`.Files.Get` of a binary file).
#[derive(Debug)]
struct BinaryString(Arc<[u8]>);

impl Object for BinaryString {
    fn type_name(&self) -> &str {
        "string"
    }
    fn field(&self, _name: &str) -> Option<TV> {
        None
    }
    fn display(&self) -> Option<String> {
        Some(crate::chart::text(&self.0).into_owned())
    }
    fn bytes(&self) -> Option<Vec<u8>> {
        Some(self.0.to_vec())
    }
}

/// A Go `[]byte` (`.Files.GetBytes`, the values of `.Files`): a list of ints to functions,
/// `[]uint8` to `typeOf`, base64 to `toJson`.
#[derive(Debug)]
struct ByteSlice(Arc<[u8]>);

impl Object for ByteSlice {
    fn type_name(&self) -> &str {
        "[]uint8"
    }
    fn field(&self, _name: &str) -> Option<TV> {
        None
    }
    fn display(&self) -> Option<String> {
        Some(format!(
            "[{}]",
            self.0
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ))
    }
    fn list(&self) -> Option<Vec<TV>> {
        Some(self.0.iter().map(|x| TV::Int(*x as i64)).collect())
    }
    fn to_json(&self) -> Option<Value> {
        use base64::Engine as _;
        Some(Value::String(
            base64::engine::general_purpose::STANDARD.encode(&self.0),
        ))
    }
}

fn bytes_value(b: &Arc<[u8]>) -> TV {
    TV::object(ByteSlice(b.clone()))
}

fn arg_str(args: &[TV], i: usize) -> String {
    match args.get(i) {
        Some(TV::String(s)) => s.to_string(),
        Some(other) => crate::engine::sprint(other),
        None => String::new(),
    }
}

impl Object for FilesObject {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn field(&self, _name: &str) -> Option<TV> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
        )
    }
    fn call(&self, method: &str, args: &[TV]) -> Option<Result<TV, String>> {
        let r = match method {
            "Get" => {
                let name = arg_str(args, 0);
                Ok(match self.files.get(&name) {
                    None => TV::str(String::new()),
                    Some(d) => match std::str::from_utf8(d) {
                        Ok(text) => TV::str(text.to_string()),
                        // Go's `string(bytes)` keeps every byte: `b64enc` of a binary file must see
                        // the raw bytes, not a lossy UTF-8 copy.
                        Err(_) => TV::object(BinaryString(d.clone())),
                    },
                })
            }
            "GetBytes" => {
                let name = arg_str(args, 0);
                Ok(self
                    .files
                    .get(&name)
                    .map(bytes_value)
                    .unwrap_or_else(|| bytes_value(&Arc::from(Vec::new()))))
            }
            "Glob" => {
                let pattern = arg_str(args, 0);
                let files: BTreeMap<String, Arc<[u8]>> = self
                    .files
                    .iter()
                    .filter(|(k, _)| crate::ignore::files_glob(&pattern, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Ok(TV::object(FilesObject {
                    files: Arc::new(files),
                }))
            }
            "Lines" => {
                let name = arg_str(args, 0);
                match self.files.get(&name) {
                    None => Ok(TV::list(Vec::new())),
                    Some(d) => {
                        let mut text = crate::chart::text(d).into_owned();
                        if text.ends_with('\n') {
                            text.pop();
                        }
                        Ok(TV::list(text.split('\n').map(TV::str).collect()))
                    }
                }
            }
            "AsConfig" => Ok(TV::str(crate::engine::to_yaml(
                &self.string_map(|d| crate::chart::text(d).into_owned()),
            ))),
            "AsSecrets" => {
                use base64::Engine as _;
                Ok(TV::str(crate::engine::to_yaml(&self.string_map(|d| {
                    base64::engine::general_purpose::STANDARD.encode(d)
                }))))
            }
            _ => return None,
        };
        Some(r)
    }
    fn display(&self) -> Option<String> {
        let parts: Vec<String> = self
            .files
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}:[{}]",
                    v.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
                )
            })
            .collect();
        Some(format!("map[{}]", parts.join(" ")))
    }
    fn entries(&self) -> Option<Vec<(String, TV)>> {
        Some(
            self.files
                .iter()
                .map(|(k, v)| (k.clone(), bytes_value(v)))
                .collect(),
        )
    }
}

/// `.Capabilities.KubeVersion`: Helm's `common.KubeVersion` struct value (fields `Version`,
/// `Major`, `Minor`; methods `String` (normalised), `GitVersion`); prints through `String()`.
#[derive(Debug, Clone)]
struct KubeVersionObject(crate::capabilities::KubeVersion);

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<TV> {
        match name {
            "Version" | "GitVersion" => Some(s(&self.0.version)),
            "String" => Some(s(&self.0.normalized)),
            "Major" => Some(s(&self.0.major)),
            "Minor" => Some(s(&self.0.minor)),
            _ => None,
        }
    }
    fn display(&self) -> Option<String> {
        Some(self.0.normalized.clone())
    }
    fn to_json(&self) -> Option<Value> {
        Some(serde_json::json!({
            "Version": self.0.version, "Major": self.0.major, "Minor": self.0.minor
        }))
    }
}

/// `.Capabilities.APIVersions`: Helm's `common.VersionSet`, a `[]string` with a `Has` method, so
/// Sprig's list functions (`has`, `first`, `join`, ...) see a list.
#[derive(Debug, Clone)]
struct ApiVersionsObject(Arc<Vec<String>>);

impl Object for ApiVersionsObject {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn field(&self, _name: &str) -> Option<TV> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call(&self, method: &str, args: &[TV]) -> Option<Result<TV, String>> {
        if method != "Has" {
            return None;
        }
        let want = arg_str(args, 0);
        Some(Ok(TV::Bool(self.0.contains(&want))))
    }
    fn display(&self) -> Option<String> {
        Some(format!("[{}]", self.0.join(" ")))
    }
    fn list(&self) -> Option<Vec<TV>> {
        Some(self.0.iter().map(|v| s(v)).collect())
    }
}

/// `.Capabilities.HelmVersion`: Helm's `version.BuildInfo` struct value.
#[derive(Debug, Clone)]
struct HelmVersionObject {
    version: String,
    go_version: String,
    kube_client_version: String,
}

impl Object for HelmVersionObject {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<TV> {
        match name {
            "Version" => Some(s(&self.version)),
            "GitCommit" | "GitTreeState" => Some(s("")),
            "GoVersion" => Some(s(&self.go_version)),
            "KubeClientVersion" => Some(s(&self.kube_client_version)),
            _ => None,
        }
    }
    fn display(&self) -> Option<String> {
        Some(format!(
            "{{{}   {} {}}}",
            self.version, self.go_version, self.kube_client_version
        ))
    }
    fn to_json(&self) -> Option<Value> {
        // `omitempty` on all but kube_client_version; the commit and tree state are empty.
        let mut m = serde_json::Map::new();
        if !self.version.is_empty() {
            m.insert("version".into(), self.version.clone().into());
        }
        if !self.go_version.is_empty() {
            m.insert("go_version".into(), self.go_version.clone().into());
        }
        m.insert(
            "kube_client_version".into(),
            self.kube_client_version.clone().into(),
        );
        Some(Value::Object(m))
    }
}

/// `.Capabilities`: Helm's `*common.Capabilities`.
#[derive(Debug, Clone)]
struct CapabilitiesObject {
    kube_version: TV,
    api_versions: TV,
    helm_version: TV,
}

impl Object for CapabilitiesObject {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<TV> {
        match name {
            "KubeVersion" => Some(self.kube_version.clone()),
            "APIVersions" => Some(self.api_versions.clone()),
            "HelmVersion" => Some(self.helm_version.clone()),
            _ => None,
        }
    }
    fn display(&self) -> Option<String> {
        // Go prints a pointer to a struct as `&{...}` with each field's own printing.
        let f = |v: &TV| match v {
            TV::Object(o) => o.display().unwrap_or_default(),
            other => crate::engine::sprint(other),
        };
        Some(format!(
            "&{{{{{} {} {} {}}} {} {}}}",
            self.field_kv("Version"),
            self.field_kv("String"),
            self.field_kv("Major"),
            self.field_kv("Minor"),
            f(&self.api_versions),
            f(&self.helm_version)
        ))
    }
    fn to_json(&self) -> Option<Value> {
        Some(serde_json::json!({
            "KubeVersion": self.kube_version.to_json(),
            "APIVersions": self.api_versions.to_json(),
            "HelmVersion": self.helm_version.to_json(),
        }))
    }
}

impl CapabilitiesObject {
    fn field_kv(&self, name: &str) -> String {
        match &self.kube_version {
            TV::Object(o) => o.field(name).map(|v| crate::engine::sprint(&v)),
            _ => None,
        }
        .unwrap_or_default()
    }
}

fn capabilities_value(c: &Capabilities) -> TV {
    TV::object(CapabilitiesObject {
        kube_version: TV::object(KubeVersionObject(c.kube_version.clone())),
        api_versions: TV::object(ApiVersionsObject(Arc::new(c.api_versions.clone()))),
        helm_version: TV::object(HelmVersionObject {
            version: c.helm_version.clone(),
            go_version: c.go_version.clone(),
            kube_client_version: c.kube_client_version.clone(),
        }),
    })
}

fn release_value(r: &ReleaseOptions) -> TV {
    TV::map_from([
        ("IsInstall", TV::Bool(r.is_install)),
        ("IsUpgrade", TV::Bool(r.is_upgrade)),
        ("Name", s(&r.name)),
        ("Namespace", s(&r.namespace)),
        ("Revision", TV::Int(r.revision)),
        ("Service", s("Helm")),
    ])
}

struct Renderable {
    source: Arc<str>,
    /// The chart's data map (shared by its templates; `Template` is set before each execution).
    data: gotemplate::Map,
    base_path: String,
}

/// Walks the chart tree like Helm's `recAllTpls`, building each chart's data map.
fn collect(
    c: &Chart,
    parent_path: Option<&str>,
    parent_values: &TV,
    release: &TV,
    caps: &TV,
    out: &mut HashMap<String, Renderable>,
) -> TV {
    let full_path = match parent_path {
        None => c.name().to_string(),
        Some(p) => format!("{p}/charts/{}", c.name()),
    };
    let values = if parent_path.is_none() {
        parent_values.clone()
    } else {
        match parent_values.as_map().and_then(|m| m.get(c.name())) {
            Some(v @ TV::Map(_)) => v,
            _ => TV::empty_map(),
        }
    };
    // `.Values` is Helm's `common.Values` (the same map, shared; nested maps stay plain).
    let values = match values {
        TV::Map(m) => TV::Map(m.named("common.Values")),
        other => other,
    };
    let subcharts = gotemplate::Map::new();
    let data = gotemplate::Map::new();
    data.insert("Chart", chart_value(c, parent_path.is_none()));
    data.insert("Files", TV::object(FilesObject::new(c)));
    data.insert("Release", release.clone());
    data.insert("Capabilities", caps.clone());
    data.insert("Values", values.clone());
    data.insert("Subcharts", TV::Map(subcharts.clone()));
    for child in &c.dependencies {
        let child_data = collect(child, Some(&full_path), &values, release, caps, out);
        subcharts.insert(child.name(), child_data);
    }
    for t in &c.templates {
        if c.is_library() {
            let base = t.name.rsplit('/').next().unwrap_or(&t.name);
            if !base.starts_with('_') {
                continue;
            }
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                source: Arc::from(crate::chart::text(&t.data).as_ref()),
                data: data.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    TV::Map(data)
}

/// Helm's `sortTemplates`: deepest paths first, then reverse lexical order.
fn sort_templates(names: &mut [String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Prepares values the way Helm's install does: dependencies processed (disabled subcharts removed,
/// aliases applied, import-values), coalesced, schema-validated. Returns the chart as rendered and
/// the final values.
pub fn prepare(
    chart: &Chart,
    user_values: &Values,
    opts: &RenderOptions,
) -> Result<(Chart, Values), RenderError> {
    let mut chart = chart.clone();
    values::process_dependencies(&mut chart, user_values).map_err(RenderError::Values)?;
    let vals = values::coalesce_values(&chart, user_values).map_err(RenderError::Values)?;
    if !opts.skip_schema_validation {
        crate::schema::refuse_remote_refs(&chart).map_err(RenderError::Values)?;
        let report = crate::schema::validate(&chart, &vals);
        if !report.is_empty() {
            return Err(RenderError::Schema(report));
        }
    }
    Ok((chart, vals))
}

/// The bare engine render (Helm SDK `helm_render`): template path → text.
pub fn render(
    chart: &Chart,
    user_values: &Values,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let (chart, vals) = prepare(chart, user_values, opts)?;
    render_prepared(&chart, &vals, opts)
}

/// Renders a chart whose values are already prepared by [`prepare`].
pub fn render_prepared(
    chart: &Chart,
    vals: &Values,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let values = to_template_value(&Value::Object(vals.clone()));
    let release = release_value(&opts.release);
    let caps = capabilities_value(&opts.capabilities);
    let mut tpls = HashMap::new();
    collect(chart, None, &values, &release, &caps, &mut tpls);
    let mut names: Vec<String> = tpls.keys().cloned().collect();
    sort_templates(&mut names);

    let mut set = TemplateSet::new(crate::engine::options());
    if let Some(hook) = &opts.lookup {
        set.add_function("lookup", lookup_function(hook.clone()));
    }
    for name in &names {
        set.parse(name, &tpls[name].source)
            .map_err(|e| RenderError::Template(crate::engine::parse_error(name, &e)))?;
    }
    let mut out = BTreeMap::new();
    for name in &names {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[name];
        r.data.insert(
            "Template",
            TV::map_from([("BasePath", s(&r.base_path)), ("Name", s(name))]),
        );
        let text = set
            .execute(name, &TV::Map(r.data.clone()))
            .map_err(|e| RenderError::Template(crate::engine::exec_error(name, &e)))?;
        out.insert(name.clone(), text.replace("<no value>", ""));
    }
    Ok(out)
}

/// Options of `helm template` beyond the render.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    pub render: RenderOptions,
    /// Print `crds/` files first (`--include-crds`).
    pub include_crds: bool,
    /// Leave out test hooks (`--skip-tests`).
    pub skip_tests: bool,
    /// Leave out hooks entirely (`--no-hooks`).
    pub no_hooks: bool,
}

/// What `helm template` computes: the sorted release manifest and hooks, plus the printed stream.
#[derive(Debug, Clone, Default)]
pub struct TemplateOutput {
    pub rendered: Rendered,
    pub sorted: Sorted,
    /// NOTES.txt of the top chart, rendered.
    pub notes: Option<String>,
    /// The release manifest (`---\n# Source: ...` per document; CRDs first with `include_crds`).
    pub manifest: String,
    /// `crds/` files of the chart and its enabled subcharts (path, text), as `--include-crds` prints them.
    pub crds: Vec<(String, String)>,
    /// Exactly what `helm template` prints.
    pub output: String,
}

/// `helm template`: checks, render, sort, print.
pub fn template(
    chart: &Chart,
    user_values: &Values,
    opts: &TemplateOptions,
) -> Result<TemplateOutput, RenderError> {
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(RenderError::NotInstallable(
            chart.metadata.chart_type.clone(),
        ));
    }
    if !chart.metadata.dependencies.is_empty() {
        values::check_dependencies(chart).map_err(RenderError::MissingDependencies)?;
    }
    crate::template_cmd::validate_release_name(&opts.render.release.name)
        .map_err(RenderError::ReleaseName)?;
    let (prepared, vals) = prepare(chart, user_values, &opts.render)?;
    let kv = &opts.render.capabilities.kube_version;
    if !chart.metadata.kube_version.is_empty()
        && !crate::semver::is_compatible_range(&chart.metadata.kube_version, &kv.normalized)
    {
        return Err(RenderError::KubeVersion {
            constraint: chart.metadata.kube_version.clone(),
            version: kv.version.clone(),
        });
    }
    let rendered = render_prepared(&prepared, &vals, &opts.render)?;
    let notes_key = format!("{}/templates/NOTES.txt", chart.name());
    let notes = rendered.get(&notes_key).cloned();
    let files: BTreeMap<String, String> = rendered
        .iter()
        .filter(|(k, _)| !k.ends_with("NOTES.txt"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let sorted = manifest::sort_manifests(&files)?;
    let mut crds = Vec::new();
    collect_crds(&prepared, None, &mut crds);
    let mut manifest_text = String::new();
    if opts.include_crds {
        for (path, text) in &crds {
            manifest_text.push_str("---\n# Source: ");
            manifest_text.push_str(path);
            manifest_text.push('\n');
            manifest_text.push_str(text);
            manifest_text.push('\n');
        }
    }
    manifest_text.push_str(&manifest::manifest_text(&sorted.manifests));
    let mut output = String::new();
    output.push_str(manifest_text.trim_matches(|c: char| c.is_whitespace()));
    output.push('\n');
    let mut out = TemplateOutput {
        rendered,
        sorted,
        notes,
        manifest: manifest_text,
        crds,
        output: String::new(),
    };
    for h in crate::template_cmd::printed_hooks(&out, opts) {
        output.push_str("---\n# Source: ");
        output.push_str(&h.path);
        output.push('\n');
        output.push_str(&h.manifest);
        output.push('\n');
    }
    out.output = output;
    Ok(out)
}

/// CRD files of the chart and its (enabled) subcharts, as `helm template --include-crds` prints them.
fn collect_crds(c: &Chart, parent: Option<&str>, out: &mut Vec<(String, String)>) {
    let full = match parent {
        None => c.name().to_string(),
        Some(p) => format!("{p}/charts/{}", c.name()),
    };
    for f in c.crd_objects() {
        let ext_ok = [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| f.name.ends_with(e));
        if !ext_ok {
            continue;
        }
        out.push((
            format!("{full}/{}", f.name),
            crate::chart::text(&f.data).into_owned(),
        ));
    }
    for d in &c.dependencies {
        collect_crds(d, Some(&full), out);
    }
}
