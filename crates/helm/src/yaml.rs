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
//! Parsing uses `yaml-rust2`'s event parser (it reports scalar styles, which a YAML 1.1 resolver needs);
//! error text is produced by libyaml (through `serde_yaml`) so it reads like go-yaml's
//! (`yaml: line 6: did not find expected '-' indicator`).

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML document that does not parse, or cannot be represented as JSON. Display is go-yaml's text
/// (`yaml: line N: ...`), without Helm's `error converting YAML to JSON: ` prefix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// Parses the first YAML document of `src` into JSON with Helm's YAML 1.1 rules (all numbers float64).
/// An empty document is `null`.
pub fn to_json(src: &str) -> Result<Value, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(src);
    if let Err(e) = parser.load(&mut builder, false) {
        return Err(libyaml_error(src).unwrap_or_else(|| YamlError(format!("yaml: {e}"))));
    }
    if let Some(err) = builder.error {
        return Err(YamlError(err));
    }
    Ok(builder.root.unwrap_or(Value::Null))
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

#[derive(Debug)]
enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, Option<Value>, usize, Vec<Value>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Value>,
    root: Option<Value>,
    done: bool,
    error: Option<String>,
}

impl Builder {
    fn push_value(&mut self, v: Value, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, v.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(v);
                }
            }
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map(map, key, _, merges)) => match key.take() {
                None => *key = Some(v),
                Some(k) => {
                    if k == Value::String(MERGE_KEY.to_string()) {
                        merges.push(v);
                    } else {
                        match json_key(&k) {
                            Ok(ks) => {
                                map.insert(ks, v);
                            }
                            Err(e) => {
                                if self.error.is_none() {
                                    self.error = Some(e);
                                }
                            }
                        }
                    }
                }
            },
        }
    }
}

/// Placeholder for the YAML merge key `<<` while a mapping is built.
const MERGE_KEY: &str = "\u{0}<<merge>>";

fn json_key(k: &Value) -> Result<String, String> {
    match k {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(format_go_number(n.as_f64().unwrap_or(0.0))),
        Value::Null => Ok("null".to_string()),
        other => Err(format!(
            "error converting YAML to JSON: yaml: invalid map key: {}",
            serde_json::to_string(other).unwrap_or_default()
        )),
    }
}

/// Formats a number the way Go's strconv.FormatFloat(f, 'g', -1, 64) does for integral values used as
/// keys (`1` → "1", `1.5` → "1.5").
fn format_go_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.done {
            return;
        }
        match ev {
            Event::DocumentEnd if self.stack.is_empty() => self.done = true,
            Event::Scalar(text, style, anchor, tag) => {
                let v = resolve_scalar(&text, style, tag.as_ref());
                match v {
                    Ok(v) => self.push_value(v, anchor),
                    Err(e) => {
                        if self.error.is_none() {
                            self.error = Some(e);
                        }
                        self.push_value(Value::Null, anchor)
                    }
                }
            }
            Event::Alias(id) => {
                let v = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                self.push_value(v, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, anchor)) = self.stack.pop() {
                    self.push_value(Value::Array(items), anchor);
                }
            }
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(Frame::Map(Map::new(), None, anchor, Vec::new()))
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(mut map, _, anchor, merges)) = self.stack.pop() {
                    // Merge keys: explicit keys win; among merged maps the first wins.
                    for m in merges {
                        let maps = match m {
                            Value::Array(list) => list,
                            other => vec![other],
                        };
                        for mm in maps {
                            if let Value::Object(src) = mm {
                                for (k, v) in src {
                                    map.entry(k).or_insert(v);
                                }
                            }
                        }
                    }
                    self.push_value(Value::Object(map), anchor);
                }
            }
            _ => {}
        }
    }
}

fn tag_suffix(tag: Option<&Tag>) -> Option<&str> {
    let t = tag?;
    if t.handle == "!!" || t.handle == "tag:yaml.org,2002:" {
        Some(t.suffix.as_str())
    } else if t.handle == "!" && t.suffix.is_empty() {
        Some("!")
    } else {
        Some("?")
    }
}

fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    match tag_suffix(tag) {
        Some("str") | Some("!") => return Ok(Value::String(text.to_string())),
        Some("binary") => {
            use base64::Engine as _;
            let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            return match base64::engine::general_purpose::STANDARD.decode(cleaned) {
                Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
                Err(e) => Err(format!(
                    "yaml: !!binary value contains invalid base64 data: {e}"
                )),
            };
        }
        Some("null") => return Ok(Value::Null),
        Some("int") | Some("float") | Some("bool") => {
            return Ok(resolve_plain(text).unwrap_or(Value::String(text.to_string())));
        }
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    if text == "<<" {
        return Ok(Value::String(MERGE_KEY.to_string()));
    }
    Ok(resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string())))
}

/// go-yaml v2's `resolve` for an untagged plain scalar (the engine's, shared with `fromYaml`) as
/// JSON; `None` means "a string". JSON cannot carry NaN or infinities (Helm fails on them too,
/// "json: unsupported value"), so those keep their text.
fn resolve_plain(s: &str) -> Option<Value> {
    use gotemplate::yaml11::Scalar;
    match gotemplate::yaml11::resolve_plain(s)? {
        Scalar::Null => Some(Value::Null),
        Scalar::Bool(b) => Some(Value::Bool(b)),
        Scalar::Number(f) => Number::from_f64(f).map(Value::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
