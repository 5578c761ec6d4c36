//! Sprig's dictionary functions. Maps are shared by reference: `set`, `unset`,
//! `merge` and `mergeOverwrite` change their first argument as Go's do.

use super::{Reg, Ty, is_empty, reg, strval};
use crate::value::Map as VMap;
use crate::value::{Map, Value};

fn map_arg(v: &Value) -> Option<&Map> {
    v.as_map()
}

fn key(v: &Value) -> String {
    v.as_str().map(String::from).unwrap_or_default()
}

/// mergo's deep merge of `src` into `dst` (`overwrite` = `WithOverride`).
pub(crate) fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) {
    if depth > 100 || dst.ptr_eq(src) {
        return;
    }
    for (k, sv) in src.entries() {
        if sv.is_nil() {
            if overwrite {
                dst.insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.get(&k);
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv) {
            merge_into(dm, sm, overwrite, depth + 1);
            if !dm.is_empty() {
                continue;
            }
        }
        if let Some(d) = &dv
            && !is_empty(d)
            && matches!(sv, Value::List(_))
            && !overwrite
        {
            continue;
        }
        if overwrite || dv.as_ref().is_none_or(is_empty) {
            dst.insert(k, sv);
        }
    }
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "dict", &[], Some(Any), |_, a| {
        let map = VMap::new();
        for pair in a.chunks(2) {
            let k = strval(&pair[0]);
            map.insert(k, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
        }
        Ok(Value::Map(map))
    });
    reg(m, "get", &[Map, Str], None, |_, a| {
        Ok(map_arg(&a[0])
            .and_then(|m| m.get(&key(&a[1])))
            .unwrap_or_else(|| Value::str("")))
    });
    reg(m, "set", &[Map, Str, Any], None, |_, a| {
        match map_arg(&a[0]) {
            Some(m) => m.insert(key(&a[1]), a[2].clone()),
            None => return Err("assignment to entry in nil map".into()),
        }
        Ok(a[0].clone())
    });
    reg(m, "unset", &[Map, Str], None, |_, a| {
        if let Some(m) = map_arg(&a[0]) {
            m.remove(&key(&a[1]));
        }
        Ok(a[0].clone())
    });
    reg(m, "hasKey", &[Map, Str], None, |_, a| {
        Ok(Value::Bool(
            map_arg(&a[0]).is_some_and(|m| m.contains_key(&key(&a[1]))),
        ))
    });
    reg(m, "pluck", &[Str], Some(Map), |_, a| {
        let k = key(&a[0]);
        Ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| map_arg(d).and_then(|m| m.get(&k)))
                .collect(),
        ))
    });
    reg(m, "keys", &[], Some(Any), |_, a| {
        let mut v: Vec<Value> = Vec::new();
        for d in a {
            match d.map_entries() {
                Some(e) => v.extend(e.into_iter().map(|(k, _)| Value::str(k))),
                None => {
                    return Err(format!(
                        "wrong type for value; expected map[string]interface {{}}; got {}",
                        d.type_name()
                    ));
                }
            }
        }
        Ok(Value::list(v))
    });
    reg(m, "values", &[Map], None, |_, a| {
        Ok(Value::list(
            map_arg(&a[0])
                .map(|m| m.entries().into_iter().map(|(_, v)| v).collect())
                .unwrap_or_default(),
        ))
    });
    reg(m, "pick", &[Map], Some(Str), |_, a| {
        let out = VMap::new();
        if let Some(m) = map_arg(&a[0]) {
            for k in &a[1..] {
                let k = key(k);
                if let Some(v) = m.get(&k) {
                    out.insert(k, v);
                }
            }
        }
        Ok(Value::Map(out))
    });
    reg(m, "omit", &[Map], Some(Str), |_, a| {
        let out = VMap::new();
        let drop: Vec<String> = a[1..].iter().map(key).collect();
        if let Some(m) = map_arg(&a[0]) {
            for (k, v) in m.entries() {
                if !drop.contains(&k) {
                    out.insert(k, v);
                }
            }
        }
        Ok(Value::Map(out))
    });
    for (name, ow) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let f: super::NativeFn = if ow {
            |_, a| {
                let dst = match &a[0] {
                    Value::Map(m) => m.clone(),
                    _ => VMap::new(),
                };
                for s in &a[1..] {
                    if let Some(sm) = map_arg(s) {
                        merge_into(&dst, sm, true, 0);
                    }
                }
                Ok(Value::Map(dst))
            }
        } else {
            |_, a| {
                let dst = match &a[0] {
                    Value::Map(m) => m.clone(),
                    _ => VMap::new(),
                };
                for s in &a[1..] {
                    if let Some(sm) = map_arg(s) {
                        merge_into(&dst, sm, false, 0);
                    }
                }
                Ok(Value::Map(dst))
            }
        };
        reg(m, name, &[Map], Some(Map), f);
    }
    reg(m, "deepCopy", &[Any], None, |_, a| Ok(a[0].deep_copy()));
    reg(m, "mustDeepCopy", &[Any], None, |_, a| Ok(a[0].deep_copy()));
    reg(m, "dig", &[Any], Some(Any), |_, a| {
        if a.len() < 3 {
            return Err("dig needs at least three arguments".into());
        }
        let dict = match &a[a.len() - 1] {
            Value::Map(m) => m.clone(),
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                ));
            }
        };
        let def = &a[a.len() - 2];
        let keys = &a[..a.len() - 2];
        let mut cur = dict;
        for (n, k) in keys.iter().enumerate() {
            let k = match k {
                Value::String(s) => s.to_string(),
                other => {
                    return Err(format!(
                        "interface conversion: interface {{}} is {}, not string",
                        other.type_name()
                    ));
                }
            };
            let Some(step) = cur.get(&k) else {
                return Ok(def.clone());
            };
            if n == keys.len() - 1 {
                return Ok(step);
            }
            cur = match step {
                Value::Map(m) => m,
                other => {
                    return Err(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        other.type_name()
                    ));
                }
            };
        }
        Ok(def.clone())
    });
}
