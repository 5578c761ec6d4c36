//! The release record as Helm v4 serializes it (`pkg/release/v1`): [`Release`], [`Info`], [`Hook`],
//! and the chart as Helm's `chart.Chart` JSON ([`chart_json`]). Field names, `omitempty` rules and
//! timestamp formats follow Helm's Go structs, so a release written here decodes in Helm and back.

use std::collections::BTreeMap;

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Helm's `common.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    #[default]
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

impl Status {
    /// Helm's text (`pending-install`, ...), also the Secret's `status` label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// An operation on the release is still in progress.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Go's `time.Time` in JSON: RFC 3339 with nanoseconds, trailing zeros trimmed; `""` or absent is zero.
mod time_opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        match v.as_deref() {
            None | Some("") | Some("0001-01-01T00:00:00Z") => Ok(None),
            Some(s) => s
                .parse::<Timestamp>()
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Helm's `release.Info`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Info {
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub first_deployed: Option<Timestamp>,
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub last_deployed: Option<Timestamp>,
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// `resources` (only `helm status --show-resources` fills it; kept as read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
}

/// Helm's `release.HookExecution`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// `Unknown`, `Running`, `Succeeded`, `Failed` (empty before the first run).
    #[serde(default)]
    pub phase: String,
}

/// Helm's `release.Hook`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Hook {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_log_policies: Vec<String>,
}

fn is_zero(x: &i64) -> bool {
    *x == 0
}

/// Helm's `release.Release` (v1). `labels` are not in the JSON: they live on the storage Secret.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Release {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default)]
    pub info: Info,
    /// The chart as Helm's `chart.Chart` JSON (see [`chart_json`]); subcharts are not stored (Helm's
    /// `dependencies` field is private).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub chart: Value,
    /// User-supplied values.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
    /// The revision.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// `ssa` or `csa` (empty: client-side apply, as Helm reads it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub apply_method: String,
}

impl Release {
    /// `metadata.name` of the chart as stored.
    pub fn chart_name(&self) -> &str {
        self.chart["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn chart_version(&self) -> &str {
        self.chart["metadata"]["version"]
            .as_str()
            .unwrap_or_default()
    }

    pub fn app_version(&self) -> &str {
        self.chart["metadata"]["appVersion"]
            .as_str()
            .unwrap_or_default()
    }

    /// `NAME-VERSION`, the CHART column of `helm list`.
    pub fn chart_label(&self) -> String {
        format!("{}-{}", self.chart_name(), self.chart_version())
    }

    /// The chart's default values as stored.
    pub fn chart_values(&self) -> Map<String, Value> {
        self.chart["values"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// Sets status and description together (Helm's `SetStatus`).
    pub fn set_status(&mut self, status: Status, description: impl Into<String>) {
        self.info.status = status;
        self.info.description = description.into();
    }
}

fn time_json(t: Option<Timestamp>) -> Value {
    Value::String(match t {
        Some(t) => t.to_string(),
        None => "0001-01-01T00:00:00Z".into(),
    })
}

fn b64(data: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(data))
}

fn file_json(f: &helm::chart::File, modtime: Timestamp) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), f.name.clone().into());
    m.insert("data".into(), b64(&f.data));
    m.insert("modtime".into(), time_json(Some(modtime)));
    Value::Object(m)
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: &str) {
    if !v.is_empty() {
        m.insert(k.into(), v.into());
    }
}

fn put_list(m: &mut Map<String, Value>, k: &str, v: &[String]) {
    if !v.is_empty() {
        m.insert(k.into(), v.iter().cloned().map(Value::from).collect());
    }
}

/// Helm's `chart.Metadata` JSON: Go field order, `omitempty` everywhere.
pub fn metadata_json(md: &helm::chart::Metadata) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "name", &md.name);
    put_str(&mut m, "home", &md.home);
    put_list(&mut m, "sources", &md.sources);
    put_str(&mut m, "version", &md.version);
    put_str(&mut m, "description", &md.description);
    put_list(&mut m, "keywords", &md.keywords);
    if !md.maintainers.is_empty() {
        let list = md.maintainers.iter().map(|x| {
            let mut o = Map::new();
            put_str(&mut o, "name", &x.name);
            put_str(&mut o, "email", &x.email);
            put_str(&mut o, "url", &x.url);
            Value::Object(o)
        });
        m.insert("maintainers".into(), list.collect());
    }
    put_str(&mut m, "icon", &md.icon);
    put_str(&mut m, "apiVersion", &md.api_version);
    put_str(&mut m, "condition", &md.condition);
    put_str(&mut m, "tags", &md.tags);
    put_str(&mut m, "appVersion", &md.app_version);
    if md.deprecated {
        m.insert("deprecated".into(), true.into());
    }
    if let Some(a) = md.annotations.as_ref().filter(|a| !a.is_empty()) {
        let o: Map<String, Value> = a
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        m.insert("annotations".into(), Value::Object(o));
    }
    put_str(&mut m, "kubeVersion", &md.kube_version);
    if !md.dependencies.is_empty() {
        let deps = md.dependencies.iter().map(|d| {
            let mut o = Map::new();
            o.insert("name".into(), d.name.clone().into());
            put_str(&mut o, "version", &d.version);
            o.insert("repository".into(), d.repository.clone().into());
            put_str(&mut o, "condition", &d.condition);
            put_list(&mut o, "tags", &d.tags);
            if d.enabled {
                o.insert("enabled".into(), true.into());
            }
            if !d.import_values.is_empty() {
                o.insert(
                    "import-values".into(),
                    Value::Array(d.import_values.clone()),
                );
            }
            put_str(&mut o, "alias", &d.alias);
            Value::Object(o)
        });
        m.insert("dependencies".into(), deps.collect());
    }
    put_str(&mut m, "type", &md.chart_type);
    Value::Object(m)
}

/// The chart as Helm stores it in a release (`chart.Chart` JSON): metadata, lock, templates, values,
/// schema, files, each file with its `modtime` (ours: when the chart was handed to the installer).
pub fn chart_json(c: &helm::Chart, modtime: Timestamp) -> Value {
    let mut m = Map::new();
    m.insert("metadata".into(), metadata_json(&c.metadata));
    m.insert("lock".into(), Value::Null);
    let templates: Vec<Value> = c.templates.iter().map(|f| file_json(f, modtime)).collect();
    m.insert(
        "templates".into(),
        if templates.is_empty() {
            Value::Null
        } else {
            Value::Array(templates)
        },
    );
    m.insert("values".into(), go_values(&Value::Object(c.values.clone())));
    match &c.schema {
        Some(s) => {
            m.insert("schema".into(), b64(s));
            m.insert("schemamodtime".into(), time_json(Some(modtime)));
        }
        None => {
            m.insert("schema".into(), Value::Null);
            m.insert("schemamodtime".into(), time_json(None));
        }
    }
    let files: Vec<Value> = c.files.iter().map(|f| file_json(f, modtime)).collect();
    m.insert(
        "files".into(),
        if files.is_empty() {
            Value::Null
        } else {
            Value::Array(files)
        },
    );
    m.insert("modtime".into(), time_json(Some(modtime)));
    Value::Object(m)
}

/// Values as Go's `map[string]interface{}` marshals them: keys sorted, float64 numbers that are
/// whole printed as integers.
pub fn go_values(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, go_values(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(go_values).collect()),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 1e21 && f.abs() < 9.0e15 {
                Value::from(f as i64)
            } else {
                v.clone()
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_omits_zero_times_and_reads_empty_strings_as_zero() {
        let i: Info = serde_json::from_str(
            r#"{"first_deployed":"2026-12-06T23:07:09.237206289Z","last_deployed":"","deleted":"","status":"deployed"}"#,
        )
        .unwrap();
        assert_eq!(i.status, Status::Deployed);
        assert!(i.last_deployed.is_none());
        assert_eq!(
            serde_json::to_string(&i).unwrap(),
            r#"{"first_deployed":"2026-12-06T23:07:09.237206289Z","status":"deployed"}"#
        );
    }

    #[test]
    fn hook_keeps_last_run_phase_and_omits_zero_weight() {
        let h = Hook {
            name: "x".into(),
            events: vec!["pre-install".into()],
            ..Hook::default()
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"name":"x","events":["pre-install"],"last_run":{"phase":""}}"#
        );
    }

    #[test]
    fn values_sort_keys_and_print_whole_floats_as_integers() {
        let v = serde_json::json!({"b": 1.0, "a": {"z": 2.5, "c": [3.0]}});
        assert_eq!(
            serde_json::to_string(&go_values(&v)).unwrap(),
            r#"{"a":{"c":[3],"z":2.5},"b":1}"#
        );
    }

    #[test]
    fn status_texts_are_helms() {
        assert_eq!(
            serde_json::to_string(&Status::PendingInstall).unwrap(),
            "\"pending-install\""
        );
        assert_eq!(Status::Superseded.to_string(), "superseded");
    }
}
