//! Values: Helm's coalescing, dependency enablement (`condition`, `tags`, `alias`), `import-values`,
//! `-f` file merging and `--set` parsing.
//!
//! Values are `serde_json` maps, as in Helm (which round-trips every values file through JSON).
//! Numbers read from YAML are float64 (`Number::from_f64`); integers parsed by `--set` stay `i64`,
//! so templates see `Float` and `Int` exactly where Helm's templates see `float64` and `int64`.
//!
//! Coalescing rules reproduced (pkg/chart/common/util/coalesce.go): user values win; tables merge
//! recursively; a user `null` deletes the chart default; chart-default `null`s are dropped; a table
//! never overwrites a scalar and vice versa (Helm warns and keeps the user's value); each subchart's
//! defaults coalesce into `Values.<subchart>`; `global` is pushed down into every subchart.

use serde_json::{Map, Value};

use crate::chart::{Chart, Dependency};

/// A values tree.
pub type Values = Map<String, Value>;

/// Coalesces a chart's defaults (and its subcharts', recursively) under the user's values, dropping
/// keys the user set to `null` (Helm's `CoalesceValues`).
pub fn coalesce_values(chart: &Chart, user: &Values) -> Result<Values, String> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, false)?;
    Ok(dest)
}

/// Like [`coalesce_values`] but keeps `null`s (Helm's `MergeValues`).
pub fn merge_values(chart: &Chart, user: &Values) -> Result<Values, String> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, true)?;
    Ok(dest)
}

fn coalesce(chart: &Chart, dest: &mut Values, merge: bool) -> Result<(), String> {
    coalesce_chart_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge)
}

fn coalesce_deps(chart: &Chart, dest: &mut Values, merge: bool) -> Result<(), String> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Value::Object(Map::new()));
            }
            Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(format!(
                    "type mismatch on {name}: %!t({}={})",
                    go_type(other),
                    crate::render::go_print(other)
                ));
            }
        }
        let globals = dest.get("global").cloned();
        let Some(Value::Object(mut sub_vals)) = dest.remove(&name) else {
            unreachable!("checked above")
        };
        coalesce_globals(&mut sub_vals, globals.as_ref());
        coalesce(sub, &mut sub_vals, merge)?;
        dest.insert(name, Value::Object(sub_vals));
    }
    Ok(())
}

/// Go's `%T` of a decoded value (`<nil>` for nil).
pub(crate) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Copies the parent's `global` table into a subchart's values; the parent's entries win.
fn coalesce_globals(dest: &mut Values, src_global: Option<&Value>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return, // "skipping globals because destination global is not a table"
    };
    let sg = match src_global {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            Value::Object(vv) => match dg.get(&key) {
                None => {
                    dg.insert(key, Value::Object(vv));
                }
                Some(Value::Object(destv)) => {
                    let mut vv = vv;
                    coalesce_tables(&mut vv, destv.clone(), true);
                    dg.insert(key, Value::Object(vv));
                }
                Some(_) => {} // "Conflict: cannot merge map onto non-map"
            },
            other => {
                if matches!(dg.get(&key), Some(Value::Object(_))) {
                    // "key is table. Skipping"
                } else {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".to_string(), Value::Object(dg));
}

/// Chart defaults with `null` entries removed (maps only), as Helm drops them while coalescing.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn coalesce_chart_values(chart: &Chart, v: &mut Values, merge: bool) {
    for (key, val) in &chart.values {
        match v.get_mut(key) {
            Some(value) => {
                if value.is_null() && !merge {
                    v.remove(key);
                } else if let Value::Object(dest) = value
                    && let Value::Object(src) = val
                {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src.clone(), merge);
                }
                // A table over a non-table: Helm warns "skipped value ...: Not a table." and keeps
                // the user's value.
            }
            None => {
                if merge {
                    v.insert(key.clone(), val.clone());
                } else if !val.is_null() {
                    v.insert(key.clone(), without_nulls(val));
                }
            }
        }
    }
}

/// Merges `src` under `dst` (dst wins); with `merge == false` a `null` in dst deletes the key.
fn coalesce_tables(dst: &mut Values, src: Values, merge: bool) {
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(dv) if dv.is_null() && !merge => {
                dst.remove(&key);
            }
            None => {
                if merge {
                    dst.insert(key, val);
                } else if !val.is_null() {
                    dst.insert(key, without_nulls(&val));
                }
            }
            Some(dv) => {
                if let Value::Object(sv) = val
                    && let Value::Object(dm) = dv
                {
                    coalesce_tables(dm, sv, merge);
                }
                // A table under a non-table: Helm warns and keeps dst.
            }
        }
    }
    if !merge {
        // A null the user set where the chart has no default stays (Helm keeps it); nothing to do.
    }
}

/// Helm's `CoalesceTables(dst, src)`: dst authoritative, nulls in dst delete.
pub fn coalesce_tables_pub(dst: &mut Values, src: Values) {
    coalesce_tables(dst, src, false);
}

/// `Values.Table("a.b.c")`.
pub fn table<'a>(v: &'a Values, path: &str) -> Option<&'a Values> {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue(path)`: a non-table value at a dotted path.
fn path_value<'a>(v: &'a Values, path: &str) -> Option<&'a Value> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, init) = parts.split_last()?;
    let t = if init.is_empty() {
        v
    } else {
        table(v, &init.join("."))?
    };
    match t.get(*last) {
        Some(Value::Object(_)) | None => None,
        Some(x) => Some(x),
    }
}

/// Helm's `ProcessDependenciesWithMerge`: drops disabled subcharts (conditions, tags), renames
/// aliased ones, and applies `import-values`. `user` is the user-supplied values.
pub fn process_dependencies(chart: &mut Chart, user: &Values) -> Result<(), String> {
    process_enabled(chart, user, "")?;
    process_import_values(chart)
}

fn process_enabled(c: &mut Chart, v: &Values, path: &str) -> Result<(), String> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut c.dependencies);
    let mut chart_deps: Vec<Chart> = Vec::new();
    // Subcharts not (compatibly) listed in Chart.yaml are kept as they are.
    for e in &existing {
        let listed = c.metadata.dependencies.iter().any(|r| {
            e.name() == r.name
                && crate::semver::is_compatible_range(&r.version, &e.metadata.version)
        });
        if !listed {
            chart_deps.push(e.clone());
        }
    }
    for req in c.metadata.dependencies.iter_mut() {
        if let Some(found) = existing.iter().find(|ch| {
            ch.name() == req.name
                && crate::semver::is_compatible_range(&req.version, &ch.metadata.version)
        }) {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            chart_deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = chart_deps;
    for r in c.metadata.dependencies.iter_mut() {
        r.enabled = true;
    }
    let cvals = coalesce_values(c, v)?;
    process_tags(&mut c.metadata.dependencies, &cvals);
    process_conditions(&mut c.metadata.dependencies, &cvals, path);
    let removed: Vec<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies
        .retain(|d| !removed.contains(&d.metadata.name));
    c.metadata
        .dependencies
        .retain(|d| !removed.contains(&d.name));
    for t in c.dependencies.iter_mut() {
        let subpath = format!("{path}{}.", t.metadata.name);
        process_enabled(t, &cvals, &subpath)?;
    }
    Ok(())
}

fn process_tags(reqs: &mut [Dependency], cvals: &Values) {
    let Some(Value::Object(vt)) = cvals.get("tags") else {
        return;
    };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(Value::Bool(b)) = vt.get(k) {
                if *b {
                    has_true = true
                } else {
                    has_false = true
                }
            }
        }
        if !has_true && has_false {
            r.enabled = false;
        } else if has_true || !has_false {
            r.enabled = true;
        }
    }
}

fn process_conditions(reqs: &mut [Dependency], cvals: &Values, cpath: &str) {
    for r in reqs {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(cvals, &format!("{cpath}{c}")) {
                r.enabled = *b;
                break;
            }
        }
    }
}

fn path_to_map(path: &str, data: Values) -> Values {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}

fn process_import_values(c: &mut Chart) -> Result<(), String> {
    for d in c.dependencies.iter_mut() {
        process_import_values(d)?;
    }
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    if c.metadata
        .dependencies
        .iter()
        .all(|d| d.import_values.is_empty())
    {
        return Ok(());
    }
    let cvals = merge_values(c, &Map::new())?;
    let mut b: Values = Map::new();
    for r in c.metadata.dependencies.iter_mut() {
        let mut outiv = Vec::new();
        for riv in &r.import_values {
            match riv {
                Value::Object(iv) => {
                    let child = go_sprint(iv.get("child"));
                    let parent = go_sprint(iv.get("parent"));
                    let mut o = Map::new();
                    o.insert("child".into(), Value::String(child.clone()));
                    o.insert("parent".into(), Value::String(parent.clone()));
                    outiv.push(Value::Object(o));
                    if let Some(vv) = table(&cvals, &format!("{}.{}", r.name, child)) {
                        merge_tables(&mut b, path_to_map(&parent, vv.clone()));
                    }
                }
                Value::String(s) => {
                    let child = format!("exports.{s}");
                    let mut o = Map::new();
                    o.insert("child".into(), Value::String(child.clone()));
                    o.insert("parent".into(), Value::String(".".into()));
                    outiv.push(Value::Object(o));
                    if let Some(vm) = table(&cvals, &format!("{}.{}", r.name, child)) {
                        merge_tables(&mut b, vm.clone());
                    }
                }
                _ => {}
            }
        }
        r.import_values = outiv;
    }
    let mut cvals = cvals;
    merge_tables(&mut cvals, b);
    c.values = cvals;
    Ok(())
}

/// `MergeTables(dst, src)`: dst wins, nulls kept.
fn merge_tables(dst: &mut Values, src: Values) {
    coalesce_tables(dst, src, true);
}

fn go_sprint(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => crate::render::go_print(other),
    }
}

/// Helm's `mergeMaps` for successive `-f` files: later files win, maps merge recursively.
pub fn merge_maps(a: &mut Values, b: Values) {
    for (k, v) in b {
        if let Value::Object(vm) = &v
            && let Some(Value::Object(am)) = a.get_mut(&k)
        {
            merge_maps(am, vm.clone());
            continue;
        }
        a.insert(k, v);
    }
}

/// Missing dependencies: names in Chart.yaml with no subchart in `charts/` (Helm's
/// `CheckDependencies`), as `found in Chart.yaml, but missing in charts/ directory: a, b`.
pub fn check_dependencies(chart: &Chart) -> Result<(), String> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// --set parsing (Helm's strvals)

/// Parses one `--set` expression (`a.b=c,d[0]=1,e={x,y}`) into `base`, as `strvals.ParseInto`.
pub fn parse_set(expr: &str, base: &mut Values) -> Result<(), String> {
    crate::strvals::parse_into(expr, base, &mut crate::strvals::Mode::Typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_all(exprs: &[&str]) -> Value {
        let mut m = Map::new();
        for e in exprs {
            parse_set(e, &mut m).unwrap();
        }
        Value::Object(m)
    }

    #[test]
    fn set_parses_paths_lists_and_types() {
        assert_eq!(
            set_all(&[
                "a.b=c,d=1",
                "e={x,2}",
                "f[1]=y",
                "g\\.h=0",
                "i=007",
                "j=null",
                "k=TRUE"
            ]),
            json!({"a": {"b": "c"}, "d": 1, "e": ["x", 2], "f": [null, "y"], "g.h": 0, "i": "007", "j": null, "k": true})
        );
        assert!(set_all(&["d=1"])["d"].is_i64());
        assert_eq!(
            set_all(&["a[0].b=1,a[0].c=2"]),
            json!({"a": [{"b": 1, "c": 2}]})
        );
        assert_eq!(set_all(&["a=x\\,y"]), json!({"a": "x,y"}));
        assert_eq!(set_all(&["a="]), json!({"a": ""}));
        let mut m = Map::new();
        assert_eq!(
            parse_set("a", &mut m).unwrap_err(),
            "key \"a\" has no value"
        );
        assert!(parse_set("a[-1]=x", &mut m).is_err());
        assert!(parse_set("a={x,y", &mut m).is_err());
    }

    fn chart(values: Value, deps: Vec<Chart>) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = "top".into();
        c.values = values.as_object().cloned().unwrap();
        c.dependencies = deps;
        c
    }

    #[test]
    fn coalesce_user_wins_nulls_delete_and_chart_nulls_drop() {
        let c = chart(
            json!({"foo": null, "bar": {"x": 1, "y": null}, "keep": 1, "t": {"a": 1}}),
            vec![],
        );
        let user = json!({"bar": {"x": null, "new": null}, "zzz": null, "keep": 2, "t": "scalar"});
        let v = coalesce_values(&c, user.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(v),
            json!({"bar": {"new": null}, "zzz": null, "keep": 2, "t": "scalar"})
        );
    }

    #[test]
    fn coalesce_scopes_subcharts_and_pushes_globals() {
        let mut sub = chart(json!({"port": 80, "global": {"g": "sub"}}), vec![]);
        sub.metadata.name = "sub".into();
        let c = chart(
            json!({"global": {"g": "top", "h": 1}, "sub": {"port": 81}}),
            vec![sub],
        );
        let v = coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(v["sub"]["port"], json!(81));
        assert_eq!(v["sub"]["global"], json!({"g": "top", "h": 1}));
    }

    #[test]
    fn merge_maps_merges_tables_and_replaces_scalars() {
        let mut a = json!({"a": {"b": 1, "c": 2}, "l": [1]})
            .as_object()
            .cloned()
            .unwrap();
        merge_maps(
            &mut a,
            json!({"a": {"b": 3}, "l": [2]})
                .as_object()
                .cloned()
                .unwrap(),
        );
        assert_eq!(Value::Object(a), json!({"a": {"b": 3, "c": 2}, "l": [2]}));
    }
}
