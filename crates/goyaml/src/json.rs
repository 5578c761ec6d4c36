//! YAML → JSON as `sigs.k8s.io/yaml` does it over go-yaml v2: plain scalars resolve with YAML 1.1
//! rules, map keys become strings (`yes` → `"true"`), `<<` merge keys are applied (explicit keys
//! win; among merged maps the first wins), timestamps stay strings, only the first document is
//! read. Helm then decodes the JSON into `interface{}`, so every number is a float64
//! ([`Numbers::Float64`]); kube-apiserver keeps integers ([`Numbers::Exact`]).

use serde_json::{Map, Number, Value};

use crate::yaml11::{Scalar, resolve_plain};
use crate::{Error, Event, Receiver, TScalarStyle, Tag};

/// How numbers come out of the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Every number a float64, as Helm sees values and manifests.
    Float64,
    /// Integers stay integers, as kube-apiserver decodes YAML bodies.
    Exact,
}

/// Parses the first YAML document of `src` into JSON through the bounded [`crate::load`]. An empty
/// document is `null`.
pub fn to_json(src: &str, numbers: Numbers) -> Result<Value, Error> {
    let mut b = Builder {
        numbers,
        stack: Vec::new(),
        anchors: std::collections::HashMap::new(),
        root: None,
        error: None,
    };
    crate::load(src, &mut b)?;
    if let Some(e) = b.error {
        return Err(Error::Convert(e));
    }
    Ok(b.root.unwrap_or(Value::Null))
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, Option<Value>, usize, Vec<Value>),
}

struct Builder {
    numbers: Numbers,
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Value>,
    root: Option<Value>,
    error: Option<String>,
}

/// Placeholder for the YAML merge key `<<` while a mapping is built.
const MERGE_KEY: &str = "\u{0}<<merge>>";

impl Builder {
    fn fail(&mut self, e: String) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

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
                Some(k) if k == Value::String(MERGE_KEY.to_string()) => merges.push(v),
                Some(k) => match json_key(&k) {
                    Ok(ks) => {
                        map.insert(ks, v);
                    }
                    Err(e) => self.fail(e),
                },
            },
        }
    }

    fn end_mapping(&mut self) {
        let Some(Frame::Map(mut map, _, anchor, merges)) = self.stack.pop() else {
            return;
        };
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

    fn number(&self, s: Scalar) -> Option<Value> {
        let f = |x: f64| Number::from_f64(x).map(Value::Number);
        match (self.numbers, s) {
            (_, Scalar::Null) => Some(Value::Null),
            (_, Scalar::Bool(b)) => Some(Value::Bool(b)),
            (Numbers::Exact, Scalar::Int(i)) => Some(Value::Number(i.into())),
            (Numbers::Exact, Scalar::Uint(u)) => Some(Value::Number(u.into())),
            (_, other) => other.as_f64().and_then(f),
        }
    }

    /// go-yaml v2's `resolve` for an untagged plain scalar as JSON; `None` means "a string". JSON
    /// cannot carry NaN or infinities (sigs.k8s.io/yaml fails on them too, "json: unsupported
    /// value"), so those keep their text.
    fn plain(&self, s: &str) -> Option<Value> {
        self.number(resolve_plain(s)?)
    }

    fn scalar(&self, text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
        match tag_suffix(tag) {
            Some("str") | Some("!") => return Ok(Value::String(text.to_string())),
            Some("binary") => return binary(text),
            Some("null") => return Ok(Value::Null),
            Some("int") | Some("float") | Some("bool") => {
                return Ok(self.plain(text).unwrap_or(Value::String(text.to_string())));
            }
            _ => {}
        }
        if style != TScalarStyle::Plain {
            return Ok(Value::String(text.to_string()));
        }
        if text == "<<" {
            return Ok(Value::String(MERGE_KEY.to_string()));
        }
        Ok(self
            .plain(text)
            .unwrap_or_else(|| Value::String(text.to_string())))
    }
}

fn binary(text: &str) -> Result<Value, String> {
    use base64::Engine as _;
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(cleaned) {
        Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => Err(format!(
            "yaml: !!binary value contains invalid base64 data: {e}"
        )),
    }
}

fn json_key(k: &Value) -> Result<String, String> {
    match k {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_f64() => Ok(format_go_number(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) => Ok(n.to_string()),
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

impl Receiver for Builder {
    fn event(&mut self, ev: Event) {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                match self.scalar(&text, style, tag.as_ref()) {
                    Ok(v) => self.push_value(v, anchor),
                    Err(e) => {
                        self.fail(e);
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
            Event::MappingEnd => self.end_mapping(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_booleans_and_keys_resolve_like_go_yaml_v2() {
        let v = to_json("n: 1\nyes: on\nq: 'yes'\n", Numbers::Float64).unwrap();
        assert_eq!(v, json!({"false": 1.0, "true": true, "q": "yes"}));
    }

    #[test]
    fn numbers_are_float64_for_helm_and_exact_for_kubernetes() {
        let src = "a: 8080\nb: 0777\nc: 1_000\nd: 0x1F\ne: 1e3\nf: 08\ng: 2001-12-14\nh: 1.5\n";
        let v = to_json(src, Numbers::Float64).unwrap();
        assert!(v["a"].is_f64());
        assert_eq!(v["b"].as_f64(), Some(511.0));
        assert_eq!(v["c"].as_f64(), Some(1000.0));
        assert_eq!(v["d"].as_f64(), Some(31.0));
        assert_eq!(v["f"].as_f64(), Some(8.0));
        assert_eq!(v["g"], json!("2001-12-14"));
        let v = to_json(src, Numbers::Exact).unwrap();
        assert_eq!(v["a"], json!(8080));
        assert!(v["a"].is_i64());
        assert_eq!(v["b"], json!(511));
        assert_eq!(v["e"], json!(1000.0));
        assert_eq!(v["h"], json!(1.5));
        assert_eq!(
            to_json("x: 18446744073709551615", Numbers::Exact).unwrap()["x"],
            json!(u64::MAX)
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_applied() {
        let v = to_json(
            "base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n",
            Numbers::Exact,
        )
        .unwrap();
        assert_eq!(v["d"], json!({"z": 3, "x": 1}));
    }

    #[test]
    fn tags_and_bad_keys() {
        let v = to_json(
            "a: !!str 1\nb: !!binary aGk=\nc: !!int '7'\n1: x\n",
            Numbers::Exact,
        )
        .unwrap();
        assert_eq!(v, json!({"a": "1", "b": "hi", "c": 7, "1": "x"}));
        let e = to_json("? [1]\n: x\n", Numbers::Exact).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error converting YAML to JSON: yaml: invalid map key: [1]"
        );
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_is_expanded() {
        let mut s = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            s.push_str(&format!(
                "{n}: &{n} [{}]\n",
                vec![format!("*{p}"); 9].join(",")
            ));
        }
        assert_eq!(to_json(&s, Numbers::Float64), Err(Error::ExcessiveAliasing));
    }
}
