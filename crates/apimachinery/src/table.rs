//! `meta.k8s.io/v1` Table building for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! Custom resources get `Name` plus their `additionalPrinterColumns` (an `Age` column on
//! `.metadata.creationTimestamp` when none are declared); `date` columns show a human age
//! computed like Go's `duration.HumanDuration`. Built-in kinds get kube-apiserver's columns from
//! their [`crate::printers`]; a kind without one gets `Name` + `Created At` as kube-apiserver's
//! default table convertor does. `now` is always a parameter.

use crate::jsonpath::{JsonPath, format_value};
use crate::meta::{Timestamp, parse_time};
use serde_json::{Map, Value, json};

/// One column of a Table (`columnDefinitions[]`), plus how to compute its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    /// JSONPath of the cell (CRD columns); `None` for computed built-in columns.
    pub json_path: Option<String>,
}

/// What `rows[].object` carries (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Parse the query parameter value (`None`, `Metadata`, `Object`; empty = default).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "Metadata" => Some(IncludeObject::Metadata),
            "None" => Some(IncludeObject::None),
            "Object" => Some(IncludeObject::Object),
            _ => None,
        }
    }
}

/// Go's `duration.HumanDuration` for a number of seconds (negative beyond -1s → `<invalid>`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age of `timestamp` (RFC 3339) at `now`, as the AGE column shows it: `<unknown>`
/// for an empty timestamp, `<invalid>` for an unparseable one.
pub fn age(timestamp: &str, now: Timestamp) -> String {
    if timestamp.is_empty() {
        return "<unknown>".into();
    }
    match parse_time(timestamp) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<invalid>".into(),
    }
}

fn col(name: &str, type_: &str, description: &str, priority: i32) -> Column {
    Column {
        name: name.into(),
        type_: type_.into(),
        format: String::new(),
        description: description.into(),
        priority,
        json_path: None,
    }
}

fn name_column() -> Column {
    Column {
        format: "name".into(),
        ..col(
            "Name",
            "string",
            "Name of the object, unique within its namespace (or cluster for cluster-scoped kinds).",
            0,
        )
    }
}

/// Columns of a CRD version from its `additionalPrinterColumns` JSON array (`None` or empty
/// → Name + Age).
pub fn crd_columns(additional_printer_columns: Option<&Value>) -> Vec<Column> {
    let mut cols = vec![name_column()];
    let declared = additional_printer_columns
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    match declared {
        None => cols.push(Column {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: "Time since the object was created (metadata.creationTimestamp).".into(),
            priority: 0,
            json_path: Some(".metadata.creationTimestamp".into()),
        }),
        Some(list) => {
            for c in list {
                let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let path = s("jsonPath");
                let mut description = s("description");
                if description.is_empty() {
                    description =
                        format!("Custom resource definition column (in JSONPath format): {path}");
                }
                cols.push(Column {
                    name: s("name"),
                    type_: s("type"),
                    format: s("format"),
                    description,
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
                    json_path: Some(path),
                });
            }
        }
    }
    cols
}

/// kube-apiserver's columns for a built-in kind (see [`crate::printers`]), or `None` for the
/// default Name / Created At.
pub fn builtin_columns(kind: &str) -> Option<Vec<Column>> {
    crate::printers::printer(kind).map(|p| p.columns.iter().map(|c| c.to_column()).collect())
}

/// The default columns kube-apiserver serves for kinds without a printer.
fn default_columns() -> Vec<Column> {
    vec![
        name_column(),
        col("Created At", "date", "When the object was created.", 0),
    ]
}

/// The `PartialObjectMetadata` form of an object.
pub fn partial_object_metadata(obj: &Value) -> Value {
    crate::metadata::partial_object_metadata(obj, crate::metadata::MetaVersion::V1)
}

/// Where the columns come from.
#[derive(Debug, Clone, Copy)]
pub enum TableKind<'a> {
    /// A built-in kind (`Deployment`): kubectl-like columns, or Name/Created At.
    Builtin(&'a str),
    /// A custom resource: Name + the version's `additionalPrinterColumns` (may be absent).
    Custom { printer_columns: Option<&'a Value> },
}

/// Everything a Table needs besides the objects.
#[derive(Debug, Clone)]
pub struct TableOptions<'a> {
    pub kind: TableKind<'a>,
    pub include_object: IncludeObject,
    /// `noHeaders` table option: omit `columnDefinitions`.
    pub no_headers: bool,
    pub now: Timestamp,
    /// List metadata: `resourceVersion` and `continue` (empty strings are omitted).
    pub resource_version: &'a str,
    pub continue_token: &'a str,
}

/// The columns a Table for this kind has.
pub fn columns_for(kind: TableKind<'_>) -> Vec<Column> {
    match kind {
        TableKind::Custom { printer_columns } => crd_columns(printer_columns),
        TableKind::Builtin(k) => builtin_columns(k).unwrap_or_else(default_columns),
    }
}

fn column_json(c: &Column) -> Value {
    json!({
        "name": c.name,
        "type": c.type_,
        "format": c.format,
        "description": c.description,
        "priority": c.priority,
    })
}

/// One CRD cell as kube-apiserver computes it (`cellForJSONValue`).
fn crd_cell(c: &Column, path: Option<&JsonPath>, obj: &Value, now: Timestamp) -> Value {
    let Some(v) = path.and_then(|p| p.find_first(obj)) else {
        return Value::Null;
    };
    if v.is_null() {
        return Value::Null;
    }
    match c.type_.as_str() {
        "string" => Value::String(format_value(v)),
        "integer" => match v {
            Value::Number(n) => n
                .as_i64()
                .map(Value::from)
                .or_else(|| n.as_f64().map(|f| Value::from(f as i64)))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "number" => match v {
            Value::Number(n) => n.as_f64().map(Value::from).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "boolean" => match v {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Null,
        },
        "date" => match v {
            Value::String(s) => Value::String(match parse_time(s) {
                Some(t) => human_duration(now.as_second() - t.as_second()),
                None => "<invalid>".into(),
            }),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

fn s<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    crate::printers::s(obj, path)
}

fn builtin_cells(kind: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    match crate::printers::printer(kind) {
        Some(p) => (p.cells)(obj, now),
        None => vec![
            json!(s(obj, &["metadata", "name"])),
            crate::printers::created_at(obj),
        ],
    }
}

/// Build a `meta.k8s.io/v1` Table from objects.
pub fn build_table<V: std::borrow::Borrow<Value>>(objects: &[V], opts: &TableOptions<'_>) -> Value {
    let columns = columns_for(opts.kind);
    let paths: Vec<Option<JsonPath>> = columns
        .iter()
        .map(|c| {
            c.json_path
                .as_deref()
                .and_then(|p| JsonPath::parse(&format!("{{{p}}}")).ok())
        })
        .collect();
    // kinds without a printer get the default Name / Created At cells
    let printer_kind = match opts.kind {
        TableKind::Builtin(k) if builtin_columns(k).is_some() => k,
        _ => "",
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let obj: &Value = obj.borrow();
            let cells: Vec<Value> = match opts.kind {
                TableKind::Custom { .. } => columns
                    .iter()
                    .zip(&paths)
                    .enumerate()
                    .map(|(idx, (c, p))| {
                        if idx == 0 {
                            json!(s(obj, &["metadata", "name"]))
                        } else {
                            crd_cell(c, p.as_ref(), obj, opts.now)
                        }
                    })
                    .collect(),
                TableKind::Builtin(_) => builtin_cells(printer_kind, obj, opts.now),
            };
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(cells));
            match opts.include_object {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row.insert("object".into(), partial_object_metadata(obj));
                }
                IncludeObject::Object => {
                    row.insert("object".into(), obj.clone());
                }
            }
            Value::Object(row)
        })
        .collect();
    let mut meta = Map::new();
    if !opts.resource_version.is_empty() {
        meta.insert("resourceVersion".into(), json!(opts.resource_version));
    }
    if !opts.continue_token.is_empty() {
        meta.insert("continue".into(), json!(opts.continue_token));
    }
    let mut t = Map::new();
    t.insert("kind".into(), json!("Table"));
    t.insert("apiVersion".into(), json!("meta.k8s.io/v1"));
    t.insert("metadata".into(), Value::Object(meta));
    if !opts.no_headers {
        t.insert(
            "columnDefinitions".into(),
            Value::Array(columns.iter().map(column_json).collect()),
        );
    }
    t.insert("rows".into(), Value::Array(rows));
    Value::Object(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        parse_time("2024-06-01T12:00:00Z").unwrap()
    }

    #[test]
    fn human_duration_matches_go_at_every_boundary() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (182, "3m2s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60 * 5, "3h5m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 59 * 60, "47h"),
            (48 * 3600, "2d"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (8 * 86400, "8d"),
            (45 * 86400, "45d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            ((3 * 365 + 20) * 86400, "3y20d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn age_handles_missing_and_bad_timestamps() {
        assert_eq!(age("2024-06-01T11:59:55Z", now()), "5s");
        assert_eq!(age("", now()), "<unknown>");
        assert_eq!(age("nope", now()), "<invalid>");
    }

    fn widget(name: &str, created: &str, spec: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": name, "namespace": "default", "creationTimestamp": created},
               "spec": spec,
               "status": {"phase": "Ready", "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    #[test]
    fn crd_without_printer_columns_gets_name_and_age() {
        let objs = vec![widget("w1", "2024-06-01T11:57:00Z", json!({}))];
        let t = build_table(
            &objs,
            &TableOptions {
                kind: TableKind::Custom {
                    printer_columns: None,
                },
                include_object: IncludeObject::Metadata,
                no_headers: false,
                now: now(),
                resource_version: "42",
                continue_token: "",
            },
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "42"}));
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["Name", "Age"]);
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(t["rows"][0]["cells"], json!(["w1", "3m"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "default");
    }

    #[test]
    fn crd_printer_columns_typed_cells_and_missing_paths() {
        let cols = json!([
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size", "priority": 1},
            {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio"},
            {"name": "On", "type": "boolean", "jsonPath": ".spec.on"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing", "description": "d"},
            {"name": "Tags", "type": "string", "jsonPath": ".spec.tags"},
            {"name": "Created", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            {"name": "WrongType", "type": "integer", "jsonPath": ".status.phase"}
        ]);
        let objs = vec![widget(
            "w1",
            "2024-05-30T09:00:00Z",
            json!({"size": 3, "ratio": 2, "on": true, "tags": ["a", "b"]}),
        )];
        let t = build_table(
            &objs,
            &TableOptions {
                kind: TableKind::Custom {
                    printer_columns: Some(&cols),
                },
                include_object: IncludeObject::Object,
                no_headers: false,
                now: now(),
                resource_version: "7",
                continue_token: "abc",
            },
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "w1",
                "Ready",
                3,
                2.0,
                true,
                "True",
                null,
                "[\"a\",\"b\"]",
                "2d3h",
                null
            ])
        );
        assert_eq!(t["columnDefinitions"][2]["priority"], 1);
        assert_eq!(
            t["columnDefinitions"][1]["description"],
            "Custom resource definition column (in JSONPath format): .status.phase"
        );
        assert_eq!(t["columnDefinitions"][6]["description"], "d");
        assert_eq!(t["rows"][0]["object"]["kind"], "Widget");
        assert_eq!(t["metadata"]["continue"], "abc");
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(
            !names.contains(&"Age"),
            "declared columns replace the default Age"
        );
    }

    #[test]
    fn deployment_rows_look_like_kubectl() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-06-01T10:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        let t = build_table(
            &[d],
            &TableOptions {
                kind: TableKind::Builtin("Deployment"),
                include_object: IncludeObject::None,
                no_headers: false,
                now: now(),
                resource_version: "1",
                continue_token: "",
            },
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "2/3",
                3,
                2,
                "120m",
                "nginx,side",
                "nginx:1,busybox",
                "app=web"
            ])
        );
        assert!(t["rows"][0].get("object").is_none());
        let prio: Vec<i64> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["priority"].as_i64().unwrap())
            .collect();
        assert_eq!(prio, vec![0, 0, 0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn namespace_and_configmap_and_default_rows() {
        let opts = |k| TableOptions {
            kind: TableKind::Builtin(k),
            include_object: IncludeObject::Metadata,
            no_headers: true,
            now: now(),
            resource_version: "",
            continue_token: "",
        };
        let ns = json!({"metadata": {"name": "team-a", "creationTimestamp": "2024-05-01T12:00:00Z"}, "status": {"phase": "Active"}});
        let t = build_table(&[ns], &opts("Namespace"));
        assert_eq!(t["rows"][0]["cells"], json!(["team-a", "Active", "31d"]));
        assert!(
            t.get("columnDefinitions").is_none(),
            "noHeaders omits column definitions"
        );
        let cm = json!({"metadata": {"name": "c", "creationTimestamp": "2024-06-01T11:59:00Z"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}});
        assert_eq!(
            build_table(&[cm], &opts("ConfigMap"))["rows"][0]["cells"],
            json!(["c", 3, "60s"])
        );
        let lease =
            json!({"metadata": {"name": "l", "creationTimestamp": "2024-06-01T11:00:00.5Z"}});
        let t = build_table(&[lease], &opts("SomethingElse"));
        assert_eq!(t["rows"][0]["cells"], json!(["l", "2024-06-01T11:00:00Z"]));
        let names: Vec<String> = columns_for(TableKind::Builtin("SomethingElse"))
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, vec!["Name", "Created At"]);
    }

    #[test]
    fn event_rows_for_core_and_events_api_shapes() {
        let o = TableOptions {
            kind: TableKind::Builtin("Event"),
            include_object: IncludeObject::None,
            no_headers: false,
            now: now(),
            resource_version: "",
            continue_token: "",
        };
        let core = json!({"metadata": {"name": "e1"}, "type": "Normal", "reason": "Scheduled",
            "involvedObject": {"kind": "Pod", "name": "p1"}, "message": "Assigned p1 ",
            "source": {"component": "scheduler"}, "count": 2,
            "firstTimestamp": "2024-06-01T11:00:00Z", "lastTimestamp": "2024-06-01T11:59:00Z"});
        assert_eq!(
            build_table(&[core], &o)["rows"][0]["cells"],
            json!([
                "60s",
                "Normal",
                "Scheduled",
                "pod/p1",
                "",
                "scheduler",
                "Assigned p1",
                "60m",
                2,
                "e1"
            ])
        );
        let new_api = json!({"metadata": {"name": "e2", "creationTimestamp": "2024-06-01T11:59:50Z"},
            "type": "Warning", "reason": "Failed", "regarding": {"kind": "Widget", "name": "w1"},
            "note": "could not reconcile", "reportingController": "widget-controller",
            "eventTime": "2024-06-01T11:59:50.000000Z"});
        assert_eq!(
            build_table(&[new_api], &o)["rows"][0]["cells"],
            json!([
                "10s",
                "Warning",
                "Failed",
                "widget/w1",
                "",
                "widget-controller",
                "could not reconcile",
                "10s",
                1,
                "e2"
            ])
        );
    }

    #[test]
    fn pod_and_service_rows() {
        let o = TableOptions {
            kind: TableKind::Builtin("Pod"),
            include_object: IncludeObject::None,
            no_headers: false,
            now: now(),
            resource_version: "",
            continue_token: "",
        };
        let cells = |pod: Value| build_table(&[pod], &o)["rows"][0]["cells"].clone();
        let pod = json!({"metadata": {"name": "p", "creationTimestamp": "2024-06-01T11:59:30Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}], "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-06-01T11:55:00Z"}}}]}});
        assert_eq!(
            cells(pod),
            json!([
                "p",
                "1/2",
                "CrashLoopBackOff",
                "3 (5m ago)",
                "30s",
                "10.0.0.5",
                "n1",
                "<none>",
                "<none>"
            ])
        );
        let pending = json!({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}});
        assert_eq!(
            cells(pending),
            json!([
                "q",
                "0/1",
                "Pending",
                "0",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ])
        );
        let init = json!({"metadata": {"name": "i"},
            "spec": {"initContainers": [{"name": "setup"}, {"name": "side", "restartPolicy": "Always"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "setup", "restartCount": 0, "state": {"running": {}}}]}});
        let c = cells(init);
        assert_eq!(
            (c[1].clone(), c[2].clone()),
            (json!("0/2"), json!("Init:0/2"))
        );
        let deleting = json!({"metadata": {"name": "d", "deletionTimestamp": "2024-06-01T11:59:59Z"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
        let c = cells(deleting);
        assert_eq!(
            (c[1].clone(), c[2].clone()),
            (json!("1/1"), json!("Terminating"))
        );
        let done = json!({"metadata": {"name": "c"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        let c = cells(done);
        assert_eq!(
            (c[1].clone(), c[2].clone()),
            (json!("0/1"), json!("Completed"))
        );
        let gated = json!({"metadata": {"name": "g"}, "spec": {"containers": [{"name": "a"}],
                "readinessGates": [{"conditionType": "x/ready"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
        let c = cells(gated);
        assert_eq!(
            (c[2].clone(), c[8].clone()),
            (json!("SchedulingGated"), json!("0/1"))
        );
        let o = TableOptions {
            kind: TableKind::Builtin("Service"),
            ..o
        };
        let svc = json!({"metadata": {"name": "s", "creationTimestamp": "2024-06-01T11:59:30Z"},
            "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP", "nodePort": 30053}], "selector": {"app": "dns"}}});
        assert_eq!(
            build_table(&[svc], &o)["rows"][0]["cells"],
            json!([
                "s",
                "ClusterIP",
                "10.96.0.10",
                "<none>",
                "80/TCP,53:30053/UDP",
                "30s",
                "app=dns"
            ])
        );
    }
}
