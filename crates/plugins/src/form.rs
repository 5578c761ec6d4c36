//! The dynamic form: `ModuleConfig.spec.config` holds the configurable parameters with their
//! defaults; an optional JSON Schema (`ModuleConfig.spec.configSchema`, and the chart's
//! `values.schema.json` for the final values) adds types, enums and descriptions.
//!
//! A ModuleInfo's `spec.config` is checked in three steps, each problem naming the key:
//! 1. every key must be a parameter of the form: present in the defaults, or declared under
//!    `properties` in the schema. Keys under a default that is an empty object (`resources: {}`) or
//!    under a schema object without `additionalProperties: false` are free;
//! 2. a value must have its default's JSON type (an integer where a number is expected is fine;
//!    a `null` default accepts anything);
//! 3. the config overlaid on the defaults must satisfy the schema, when there is one.
//!
//! [`overlay`] is the values merge: objects merge key by key, anything else is replaced.

use serde_json::{Map, Value};

/// One refused key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The dotted key (`custom.pgpu_enable`), empty for the whole config.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "config: {}", self.message)
        } else {
            write!(f, "config key {:?}: {}", self.key, self.message)
        }
    }
}

/// Every problem of a config, in key order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct FormError(pub Vec<Problem>);

/// Checks `config` against the form (`defaults` and the optional `schema`).
pub fn validate(defaults: &Value, schema: Option<&Value>, config: &Value) -> Result<(), FormError> {
    let mut problems = Vec::new();
    match config {
        Value::Object(c) => walk(c, defaults.as_object(), schema, "", &mut problems),
        Value::Null => {}
        other => problems.push(Problem {
            key: String::new(),
            message: format!("must be an object, got {}", json_type(other)),
        }),
    }
    if problems.is_empty()
        && let Some(schema) = schema
    {
        problems.extend(against_schema(schema, &overlay(defaults, config)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FormError(problems))
    }
}

fn walk(
    config: &Map<String, Value>,
    defaults: Option<&Map<String, Value>>,
    schema: Option<&Value>,
    prefix: &str,
    out: &mut Vec<Problem>,
) {
    for (k, v) in config {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let default = defaults.and_then(|d| d.get(k));
        let sub_schema = schema
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(k));
        if default.is_none() && sub_schema.is_none() {
            if !free_below(defaults, schema, prefix.is_empty()) {
                out.push(Problem {
                    key,
                    message: "is not a parameter of this plugin version's form".into(),
                });
            }
            continue;
        }
        if let Some(d) = default
            && !same_type(d, v)
        {
            out.push(Problem {
                key,
                message: format!(
                    "must be {} (like its default {d}), got {}",
                    json_type(d),
                    show(v)
                ),
            });
            continue;
        }
        if let Value::Object(child) = v {
            walk(
                child,
                default.and_then(Value::as_object),
                sub_schema,
                &key,
                out,
            );
        }
    }
}

/// Whether keys unknown to the defaults are free at this level: a schema object that allows them,
/// or, below the top, no defaults map (the schema alone decides) or an empty one (`resources: {}`).
/// At the top an empty form (`config: {}`) means the plugin takes no configuration.
fn free_below(defaults: Option<&Map<String, Value>>, schema: Option<&Value>, top: bool) -> bool {
    let schema_allows = schema.is_some_and(|s| {
        s.get("additionalProperties") != Some(&Value::Bool(false))
            && s.get("properties")
                .is_none_or(|p| p.as_object().is_none_or(Map::is_empty))
            && s.get("type").and_then(Value::as_str) == Some("object")
    });
    if schema_allows {
        return true;
    }
    !top && schema.is_none() && defaults.is_none_or(Map::is_empty)
}

fn same_type(default: &Value, v: &Value) -> bool {
    match (default, v) {
        (Value::Null, _) => true,
        (Value::Number(d), Value::Number(n)) => d.is_f64() || !n.is_f64(),
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn show(v: &Value) -> String {
    format!("{} {v}", json_type(v))
}

fn against_schema(schema: &Value, values: &Value) -> Vec<Problem> {
    let mut opts = jsonschema::options();
    if schema.get("$schema").is_none() {
        opts = opts.with_draft(jsonschema::Draft::Draft202012);
    }
    let validator = match opts.build(schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![Problem {
                key: String::new(),
                message: format!("the form's schema (spec.configSchema) does not compile: {e}"),
            }];
        }
    };
    validator
        .iter_errors(values)
        .map(|e| Problem {
            key: e
                .instance_path()
                .to_string()
                .trim_start_matches('/')
                .replace('/', "."),
            message: e.to_string(),
        })
        .collect()
}

/// `overlay` on top of `base`: objects merge key by key, anything else replaces.
pub fn overlay(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => self::overlay(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (b, Value::Null) => b.clone(),
        (_, o) => o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gpu_defaults() -> Value {
        json!({"custom": {"mps_enable": false, "pgpu_enable": false, "vgpu_enable": false}})
    }

    #[test]
    fn the_documented_gpu_config_fits_its_form() {
        let config =
            json!({"custom": {"mps_enable": false, "pgpu_enable": true, "vgpu_enable": true}});
        validate(&gpu_defaults(), None, &config).unwrap();
        validate(&gpu_defaults(), None, &json!({})).unwrap();
        validate(&json!({}), None, &json!({})).unwrap();
    }

    #[test]
    fn an_unknown_key_is_refused_by_its_dotted_name() {
        let e = validate(
            &gpu_defaults(),
            None,
            &json!({"custom": {"tpu_enable": true}}),
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].key, "custom.tpu_enable");
        assert_eq!(
            e.to_string(),
            "config key \"custom.tpu_enable\": is not a parameter of this plugin version's form"
        );
        // A plugin without a form takes no keys at all.
        let e = validate(&json!({}), None, &json!({"replicas": 2})).unwrap_err();
        assert_eq!(e.0[0].key, "replicas");
    }

    #[test]
    fn a_wrong_type_is_refused_naming_key_and_expected_type() {
        let e = validate(
            &gpu_defaults(),
            None,
            &json!({"custom": {"pgpu_enable": "yes"}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "config key \"custom.pgpu_enable\": must be a boolean (like its default false), got a string \"yes\""
        );
        let e = validate(&gpu_defaults(), None, &json!({"custom": true})).unwrap_err();
        assert_eq!(e.0[0].key, "custom");
        let e = validate(&gpu_defaults(), None, &json!(["x"])).unwrap_err();
        assert_eq!(e.to_string(), "config: must be an object, got a list");
    }

    #[test]
    fn integers_fit_number_defaults_but_not_the_reverse() {
        validate(&json!({"ratio": 0.5}), None, &json!({"ratio": 1})).unwrap();
        validate(&json!({"replicas": 1}), None, &json!({"replicas": 1.5})).unwrap_err();
    }

    #[test]
    fn an_empty_object_default_takes_free_keys() {
        validate(
            &json!({"resources": {}}),
            None,
            &json!({"resources": {"limits": {"cpu": "1"}}}),
        )
        .unwrap();
    }

    #[test]
    fn the_schema_declares_keys_and_checks_enums() {
        let schema = json!({
            "type": "object",
            "properties": {
                "storage": {"type": "string", "enum": ["ElasticSearch", "ClickHouse"]},
                "custom": {"type": "object"}
            }
        });
        let defaults = json!({"custom": {"mps_enable": false}});
        validate(&defaults, Some(&schema), &json!({"storage": "ClickHouse"})).unwrap();
        let e = validate(&defaults, Some(&schema), &json!({"storage": "Loki"})).unwrap_err();
        assert_eq!(e.0[0].key, "storage");
        assert!(e.to_string().contains("Loki"), "{e}");
        let e = validate(&defaults, Some(&schema), &json!({"other": 1})).unwrap_err();
        assert_eq!(e.0[0].key, "other");
    }

    #[test]
    fn overlay_merges_objects_and_replaces_leaves() {
        let merged = overlay(
            &gpu_defaults(),
            &json!({"custom": {"pgpu_enable": true}, "extra": [1]}),
        );
        assert_eq!(
            merged,
            json!({"custom": {"mps_enable": false, "pgpu_enable": true, "vgpu_enable": false}, "extra": [1]})
        );
        assert_eq!(overlay(&gpu_defaults(), &Value::Null), gpu_defaults());
    }
}
