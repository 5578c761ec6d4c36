//! YAML → JSON the way Helm reads YAML (`sigs.k8s.io/yaml` over go-yaml v2).
//!
//! Helm converts every YAML file (Chart.yaml, values files, rendered manifests) to JSON and decodes the
//! JSON, so:
//! - plain scalars resolve with **YAML 1.1** rules: `yes/no/on/off/y/n` are booleans (also as map keys,
//!   which become the strings `"true"`/`"false"`), `0777` is octal, `1_000` is an int, `~` is null;
//!   timestamps stay strings;
//! - every number becomes a float64 ([`serde_json::Number::from_f64`]): a values file's `8080` is a
//!   float in templates, exactly as in Helm;
//! - map keys become strings; `<<` merge keys are applied; only the first document is read.
//!
//! Loading and conversion are `goyaml`'s (the workspace's one bounded YAML loader: an alias bomb is
//! refused with go-yaml's "document contains excessive aliasing"); syntax-error text is produced by
//! libyaml (through `serde_yaml`) so it reads like go-yaml's
//! (`yaml: line 6: did not find expected '-' indicator`).

use serde_json::Value;

/// A YAML document that does not parse, or cannot be represented as JSON. Display is go-yaml's text
/// (`yaml: line N: ...`), without Helm's `error converting YAML to JSON: ` prefix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// Parses the first YAML document of `src` into JSON with Helm's YAML 1.1 rules (all numbers float64).
/// An empty document is `null`.
pub fn to_json(src: &str) -> Result<Value, YamlError> {
    goyaml::to_json(src, goyaml::Numbers::Float64).map_err(|e| match e {
        goyaml::Error::Syntax { .. } => {
            libyaml_error(src).unwrap_or_else(|| YamlError(e.to_string()))
        }
        other => YamlError(other.to_string()),
    })
}

/// go-yaml's error text for a document that does not parse, computed with libyaml (serde_yaml).
fn libyaml_error(src: &str) -> Option<YamlError> {
    let err = match serde_yaml::from_str::<serde_yaml::Value>(src) {
        Ok(_) => return None,
        Err(e) => e,
    };
    let text = err.to_string();
    // serde_yaml: "<problem> at line L column C[, <context> at line L2 column C2]"
    let (problem_part, context_part) = match text.split_once(", while ") {
        Some((p, c)) => (p.to_string(), Some(format!("while {c}"))),
        None => (text.clone(), None),
    };
    let (problem, problem_line) = split_at_line(&problem_part);
    let context_line = context_part
        .as_deref()
        .map(split_at_line)
        .and_then(|(_, l)| l);
    let scanner = is_scanner_problem(&problem)
        || context_part
            .as_deref()
            .is_some_and(|c| c.starts_with("while scanning"));
    // go-yaml v2's `fail`: the problem mark's (0-based) line if non-zero, else the context mark's;
    // scanner errors add one (the scanner has not advanced its line yet).
    let prob0 = problem_line.unwrap_or(1).saturating_sub(1);
    let ctx0 = context_line.unwrap_or(1).saturating_sub(1);
    let mut line = if prob0 != 0 { prob0 } else { ctx0 };
    if line != 0 && scanner {
        line += 1;
    }
    let problem = problem.trim().to_string();
    if line != 0 {
        Some(YamlError(format!("yaml: line {line}: {problem}")))
    } else {
        Some(YamlError(format!("yaml: {problem}")))
    }
}

fn split_at_line(s: &str) -> (String, Option<usize>) {
    if let Some(idx) = s.rfind(" at line ") {
        let rest = &s[idx + " at line ".len()..];
        let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        return (s[..idx].to_string(), num.parse().ok());
    }
    (s.to_string(), None)
}

fn is_scanner_problem(p: &str) -> bool {
    const SCANNER: &[&str] = &[
        "mapping values are not allowed in this context",
        "block sequence entries are not allowed in this context",
        "found character that cannot start any token",
        "could not find expected ':'",
        "found a tab character",
        "did not find expected comment or line break",
        "found unexpected end of stream",
        "found unknown escape character",
        "did not find expected whitespace or line break",
        "found unexpected document indicator",
    ];
    SCANNER.iter().any(|s| p.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_alias_bomb_is_refused_with_go_yamls_message() {
        let mut s = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            s.push_str(&format!(
                "{n}: &{n} [{}]\n",
                vec![format!("*{p}"); 9].join(", ")
            ));
        }
        assert_eq!(
            to_json(&s).unwrap_err().0,
            "yaml: document contains excessive aliasing"
        );
    }

    #[test]
    fn yaml11_booleans_and_keys_resolve_like_go_yaml_v2() {
        let v = to_json("n: 1\nyes: on\nq: 'yes'\nOff: x").unwrap();
        assert_eq!(
            v,
            json!({"false": 1.0, "true": true, "q": "yes"})
                .as_object()
                .map(|m| {
                    let mut m = m.clone();
                    m.insert("false".into(), json!("x"));
                    Value::Object(m)
                })
                .unwrap()
        );
    }

    #[test]
    fn numbers_are_float64_and_go_int_syntax_is_understood() {
        let v =
            to_json("a: 8080\nb: 0777\nc: 1_000\nd: 0x1F\ne: 1e3\nf: 08\ng: 2001-12-14\nh: 1.5")
                .unwrap();
        assert_eq!(v["a"].as_f64(), Some(8080.0));
        assert!(v["a"].is_f64());
        assert_eq!(v["b"].as_f64(), Some(511.0));
        assert_eq!(v["c"].as_f64(), Some(1000.0));
        assert_eq!(v["d"].as_f64(), Some(31.0));
        assert_eq!(v["e"].as_f64(), Some(1000.0));
        assert_eq!(v["f"].as_f64(), Some(8.0));
        assert_eq!(v["g"], json!("2001-12-14"));
        assert_eq!(v["h"].as_f64(), Some(1.5));
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_applied() {
        let v = to_json("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n").unwrap();
        assert_eq!(v["d"], json!({"z": 3.0, "x": 1.0}));
    }

    #[test]
    fn empty_document_is_null_and_only_first_document_is_read() {
        assert_eq!(to_json("").unwrap(), Value::Null);
        assert_eq!(to_json("# c\n").unwrap(), Value::Null);
        assert_eq!(to_json("a: 1\n---\nb: 2\n").unwrap(), json!({"a": 1.0}));
    }

    #[test]
    fn parse_errors_read_like_go_yaml() {
        let e = to_json("a: b\n c: d: e\n").unwrap_err();
        assert!(
            e.0.starts_with("yaml: line 2: mapping values are not allowed"),
            "{e}"
        );
        let e = to_json("a:\n  - x\n  y: 1\n").unwrap_err();
        assert!(e.0.starts_with("yaml: line "), "{e}");
    }
}
