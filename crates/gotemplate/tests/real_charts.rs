//! Renders the root-chart templates of 45 real public charts (bitnami, prometheus-community,
//! grafana, argo, traefik, ...) and compares each output byte for byte with what real Helm
//! v4.2.3 rendered (`expected/*.render.json` in the shared corpus).
//!
//! Values coalescing is the helm crate's job, so `tests/data/real_charts.json` carries the
//! coalesced values Helm computed for each chart (`Chart.merge_values` of helm-python-sdk);
//! this test builds the rest of Helm's data (`.Chart`, `.Release`, `.Capabilities`,
//! `.Template`, a minimal `.Files`) and parses every template of the chart (subcharts
//! included, deepest paths first, as Helm does), so only engine behaviour is under test.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use gotemplate::{Object, Options, TemplateSet, Value};

#[derive(serde::Deserialize)]
struct Case {
    id: String,
    chart: String,
    render: String,
    metadata: serde_json::Value,
    release_name: String,
    namespace: String,
    kube_version: String,
    values: serde_json::Value,
}

/// The shared Helm fixtures; missing fixtures fail the test loudly (a silent pass would prove nothing).
fn shared() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let p = base.join("fixtures/helm");
    assert!(
        p.is_dir(),
        "the shared Helm fixtures {} are missing: put the shared fixtures beside the repository or set MARKETPLACE_SHARED to the shared/ folder",
        p.display()
    );
    p
}

#[derive(Debug)]
struct KubeVersion(String);
impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let v = self.0.trim_start_matches('v');
        let mut parts = v.split('.');
        let (major, minor) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        Some(match name {
            "Version" | "GitVersion" | "String" => Value::str(self.0.as_str()),
            "Major" => Value::str(major),
            "Minor" => Value::str(minor),
            _ => return None,
        })
    }
    fn display(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

#[derive(Debug)]
struct ApiVersions(Vec<String>);
impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call(&self, method: &str, args: &[Value]) -> Option<Result<Value, String>> {
        (method == "Has").then(|| {
            Ok(Value::Bool(
                args.first()
                    .and_then(|a| a.as_str())
                    .is_some_and(|a| self.0.iter().any(|v| v == a)),
            ))
        })
    }
    fn display(&self) -> Option<String> {
        Some(format!("[{}]", self.0.join(" ")))
    }
}

/// A minimal `.Files`: the chart's non-template files.
#[derive(Debug)]
struct Files(BTreeMap<String, String>);

fn glob_match(pat: &str, name: &str) -> bool {
    fn m(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) if p.get(1) == Some(&b'*') => {
                (0..=n.len()).any(|i| m(&p[2..], &n[i..]))
            }
            (Some(b'*'), _) => (0..=n.len())
                .take_while(|i| *i == 0 || n[i - 1] != b'/')
                .any(|i| m(&p[1..], &n[i..])),
            (Some(b'?'), Some(c)) if *c != b'/' => m(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &n[1..]),
            _ => false,
        }
    }
    m(pat.as_bytes(), name.as_bytes())
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "common.Files"
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
        )
    }
    fn call(&self, method: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let arg = args.first().and_then(|a| a.as_str()).unwrap_or("");
        Some(Ok(match method {
            "Get" => Value::str(self.0.get(arg).cloned().unwrap_or_default()),
            "GetBytes" => Value::list(
                self.0
                    .get(arg)
                    .map(|s| s.bytes().map(|b| Value::Int(b as i64)).collect())
                    .unwrap_or_default(),
            ),
            "Lines" => Value::list(
                self.0
                    .get(arg)
                    .map(|s| s.lines().map(Value::from).collect())
                    .unwrap_or_default(),
            ),
            "Glob" => Value::object(Files(
                self.0
                    .iter()
                    .filter(|(k, _)| glob_match(arg, k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
            "AsConfig" | "AsSecrets" => {
                let m: BTreeMap<String, Value> = self
                    .0
                    .iter()
                    .map(|(k, v)| {
                        let base = k.rsplit('/').next().unwrap_or(k).to_string();
                        let v = if method == "AsSecrets" {
                            Value::str(b64(v.as_bytes()))
                        } else {
                            Value::str(v.as_str())
                        };
                        (base, v)
                    })
                    .collect();
                Value::str(gotemplate::to_yaml(&Value::map(m)))
            }
            _ => return None,
        }))
    }
    fn entries(&self) -> Option<Vec<(String, Value)>> {
        Some(
            self.0
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::list(v.bytes().map(|b| Value::Int(b as i64)).collect()),
                    )
                })
                .collect(),
        )
    }
}

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let r = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if e.path().is_dir() {
            walk(&e.path(), &r, out);
        } else {
            out.push((r, e.path()));
        }
    }
}

/// Go's `strings.Title`-free mapping of Chart.yaml keys to `chart.Metadata` field names.
fn chart_object(meta: &serde_json::Value) -> Value {
    let fields = [
        ("name", "Name", Value::str("")),
        ("home", "Home", Value::str("")),
        ("sources", "Sources", Value::Nil),
        ("version", "Version", Value::str("")),
        ("description", "Description", Value::str("")),
        ("keywords", "Keywords", Value::Nil),
        ("maintainers", "Maintainers", Value::Nil),
        ("icon", "Icon", Value::str("")),
        ("apiVersion", "APIVersion", Value::str("")),
        ("condition", "Condition", Value::str("")),
        ("tags", "Tags", Value::str("")),
        ("appVersion", "AppVersion", Value::str("")),
        ("deprecated", "Deprecated", Value::Bool(false)),
        ("annotations", "Annotations", Value::Nil),
        ("kubeVersion", "KubeVersion", Value::str("")),
        ("dependencies", "Dependencies", Value::Nil),
        ("type", "Type", Value::str("")),
    ];
    let mut m = BTreeMap::new();
    for (json, go, default) in fields {
        m.insert(
            go.to_string(),
            meta.get(json).cloned().map(Value::from).unwrap_or(default),
        );
    }
    Value::map(m)
}

/// Same lines, except that a line may differ after its `key:` (random secrets, their checksums).
fn same_but_values(a: &str, b: &str) -> bool {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    la.len() == lb.len()
        && la.iter().zip(lb.iter()).all(|(x, y)| {
            x == y
                || (x.split_once(':').map(|p| p.0) == y.split_once(':').map(|p| p.0)
                    && x.contains(':'))
        })
}

#[test]
fn root_chart_templates_render_as_helm_v4_does() {
    let base = shared();
    let path = "tests/data/real_charts.json";
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("data")).expect("json");
    let caps: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(base.join("capabilities.json")).expect("caps"),
    )
    .expect("caps json");
    let mut failures = Vec::new();
    let mut compared = 0;
    for c in &cases {
        let chart_dir = base.join(&c.chart);
        let name = c.metadata["name"].as_str().unwrap_or("chart").to_string();
        let mut files = Vec::new();
        walk(&chart_dir, "", &mut files);
        // templates of the chart and its directory subcharts, named as Helm names them
        let mut templates: Vec<(String, String)> = Vec::new();
        let mut plain_files = BTreeMap::new();
        for (rel, p) in &files {
            let is_tpl = rel.starts_with("templates/")
                || (rel.starts_with("charts/") && rel.split('/').any(|s| s == "templates"));
            if is_tpl {
                if let Ok(src) = std::fs::read_to_string(p) {
                    templates.push((format!("{name}/{rel}"), src));
                }
            } else if !rel.starts_with("charts/")
                && !matches!(
                    rel.as_str(),
                    "Chart.yaml"
                        | "Chart.lock"
                        | "values.yaml"
                        | "values.schema.json"
                        | "requirements.yaml"
                        | "requirements.lock"
                        | ".helmignore"
                )
            {
                let mut s = String::new();
                if std::fs::File::open(p)
                    .and_then(|mut f| f.read_to_string(&mut s))
                    .is_ok()
                {
                    plain_files.insert(rel.clone(), s);
                }
            }
        }
        // Helm's order: deepest paths first, then reverse lexical order
        templates.sort_by(|a, b| {
            let (ca, cb) = (a.0.matches('/').count(), b.0.matches('/').count());
            cb.cmp(&ca).then_with(|| b.0.cmp(&a.0))
        });
        let mut set = TemplateSet::new(Options::default());
        let mut parse_failed = false;
        for (n, src) in &templates {
            if let Err(e) = set.parse(n, src) {
                failures.push(format!("{}: parse {n}: {e}", c.id));
                parse_failed = true;
            }
        }
        if parse_failed {
            continue;
        }
        let expected: BTreeMap<String, String> = {
            let p = base.join(&c.render);
            let gz = if c.render.ends_with(".gz") {
                p.clone()
            } else {
                base.join(format!("{}.gz", c.render))
            };
            let text = if p.exists() && !c.render.ends_with(".gz") {
                std::fs::read_to_string(&p).ok()
            } else {
                std::fs::File::open(&gz).ok().and_then(|f| {
                    let mut s = String::new();
                    flate2::read::GzDecoder::new(f)
                        .read_to_string(&mut s)
                        .ok()
                        .map(|_| s)
                })
            };
            match text {
                Some(t) => serde_json::from_str(&t).expect("render json"),
                None => {
                    eprintln!("{}: no uncompressed render output; skipped", c.id);
                    continue;
                }
            }
        };
        let cap = &caps[format!("kube_version_{}", c.kube_version).as_str()];
        let api: Vec<String> = cap["APIVersions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let capabilities = Value::map_from([
            (
                "KubeVersion",
                Value::object(KubeVersion(c.kube_version.clone())),
            ),
            ("APIVersions", Value::object(ApiVersions(api))),
            (
                "HelmVersion",
                Value::map_from([("Version", Value::str("v4.2"))]),
            ),
        ]);
        let release = Value::map_from([
            ("Name", Value::str(c.release_name.as_str())),
            ("Namespace", Value::str(c.namespace.as_str())),
            ("IsUpgrade", Value::Bool(false)),
            ("IsInstall", Value::Bool(true)),
            ("Revision", Value::Int(1)),
            ("Service", Value::str("Helm")),
        ]);
        // .Subcharts: each directory subchart's own top-level data
        let mut subcharts = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(chart_dir.join("charts")) {
            for e in rd.flatten() {
                let Ok(meta_src) = std::fs::read_to_string(e.path().join("Chart.yaml")) else {
                    continue;
                };
                let Ok(meta) = gotemplate::from_yaml(&meta_src) else {
                    continue;
                };
                let sub_name = meta
                    .get("name")
                    .and_then(|n| n.as_str().map(String::from))
                    .unwrap_or_default();
                let meta_json = meta.to_json();
                let sub_values = c
                    .values
                    .get(&sub_name)
                    .cloned()
                    .unwrap_or(serde_json::json!({}));
                subcharts.insert(
                    sub_name.clone(),
                    Value::map_from([
                        ("Values", Value::from(sub_values)),
                        ("Chart", chart_object(&meta_json)),
                        ("Release", release.clone()),
                        ("Capabilities", capabilities.clone()),
                        (
                            "Template",
                            Value::map_from([
                                ("Name", Value::str("")),
                                (
                                    "BasePath",
                                    Value::str(format!("{name}/charts/{sub_name}/templates")),
                                ),
                            ]),
                        ),
                    ]),
                );
            }
        }
        let subcharts = Value::map(subcharts);
        // Random functions make some outputs differ run to run: there, lines may differ in value only.
        let random = templates.iter().any(|(_, src)| {
            [
                "randAlpha",
                "randAscii",
                "randNumeric",
                "uuidv4",
                "randBytes",
                "genCA",
                "genPrivateKey",
                "genSelfSigned",
                "genSigned",
                "shuffle",
            ]
            .iter()
            .any(|f| src.contains(f))
        });
        for (tname, _) in templates.iter().filter(|(n, _)| {
            !n.contains("/charts/") && !n.rsplit('/').next().unwrap_or("").starts_with('_')
        }) {
            let Some(want) = expected.get(tname) else {
                continue;
            };
            let data = Value::map_from([
                ("Values", Value::from(c.values.clone())),
                ("Chart", chart_object(&c.metadata)),
                ("Release", release.clone()),
                ("Capabilities", capabilities.clone()),
                ("Files", Value::object(Files(plain_files.clone()))),
                ("Subcharts", subcharts.clone()),
                (
                    "Template",
                    Value::map_from([
                        ("Name", Value::str(tname.as_str())),
                        ("BasePath", Value::str(format!("{name}/templates"))),
                    ]),
                ),
            ]);
            compared += 1;
            match set.execute(tname, &data) {
                Ok(out) => {
                    let out = out.replace("<no value>", "");
                    if &out != want && !(random && same_but_values(&out, want)) {
                        let line = out
                            .lines()
                            .zip(want.lines())
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        failures.push(format!(
                            "{}: {tname} differs at line {}:\n   helm: {:?}\n   ours: {:?}",
                            c.id,
                            line + 1,
                            want.lines().nth(line).unwrap_or(""),
                            out.lines().nth(line).unwrap_or("")
                        ));
                    }
                }
                Err(e) => failures.push(format!("{}: {tname}: error {e}", c.id)),
            }
        }
    }
    eprintln!("compared {compared} templates of {} charts", cases.len());
    assert!(compared > 100, "too few templates compared: {compared}");
    assert!(
        failures.is_empty(),
        "{} of {compared} templates differ from Helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
