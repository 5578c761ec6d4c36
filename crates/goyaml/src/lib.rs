//! goyaml: YAML read the way go-yaml v2 reads it, with go-yaml's bounds.
//!
//! **Owns:** the one YAML loader every YAML input of the workspace goes through — chart files and
//! values files (`helm`), `fromYaml`/`fromYamlArray` (`gotemplate`), API request bodies and apply
//! configurations (`apiserver`, `apimachinery`): yaml-rust2's event parser driven over the first
//! document, with anchors and aliases bounded by go-yaml's "excessive aliasing" rule and nesting
//! bounded in depth, so a few hundred bytes cannot expand into gigabytes ([`load`]); go-yaml v2's
//! YAML 1.1 resolution of plain scalars ([`yaml11`]); and YAML → JSON as `sigs.k8s.io/yaml` does it
//! ([`to_json`]), with Helm's float64 numbers or Kubernetes' exact integers.
//!
//! **Does not touch:** files, templates, charts, Kubernetes semantics. No I/O.
//!
//! ```
//! // A billion-laughs document is refused before it is expanded.
//! let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
//! for (prev, name) in ["a", "b", "c", "d", "e", "f", "g"].iter().zip(["b", "c", "d", "e", "f", "g", "h"]) {
//!     bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
//! }
//! let err = goyaml::to_json(&bomb, goyaml::Numbers::Exact).unwrap_err();
//! assert_eq!(err.to_string(), "yaml: document contains excessive aliasing");
//! ```

mod json;
pub mod yaml11;

use std::collections::HashMap;

pub use json::{Numbers, to_json};
pub use yaml_rust2::parser::{Event, Tag};
pub use yaml_rust2::scanner::TScalarStyle;

/// Nesting deeper than this is refused (go-yaml v3's limit; deeper documents would exhaust the
/// stack of whoever walks the result).
pub const MAX_DEPTH: usize = 10_000;

/// Why a document was not loaded. `Display` is go-yaml's text (`yaml: line 3: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The text is not YAML. `line` is 0-based, as yaml-rust2's marker reports it.
    #[error("yaml: line {line}: {message}")]
    Syntax { line: usize, message: String },
    /// Aliases would expand the document beyond go-yaml's allowed ratio.
    #[error("yaml: document contains excessive aliasing")]
    ExcessiveAliasing,
    /// An alias refers to the node that contains it.
    #[error("yaml: anchor value contains itself")]
    RecursiveAlias,
    /// Collections nested deeper than [`MAX_DEPTH`].
    #[error("yaml: exceeded max depth of {MAX_DEPTH}")]
    TooDeep,
    /// The document parsed but cannot be converted (e.g. a mapping used as a map key).
    #[error("{0}")]
    Convert(String),
}

/// Receives the node events of a document: `Scalar`, `SequenceStart/End`, `MappingStart/End` and
/// `Alias` (an alias is passed on only once the budget allows its expansion).
pub trait Receiver {
    fn event(&mut self, ev: Event);
}

/// Parses the first document of `src`, passing its node events to `recv`, and stops with an error
/// as soon as the document is malformed, nests too deep or aliases excessively. An empty stream
/// sends no events.
pub fn load(src: &str, recv: &mut impl Receiver) -> Result<(), Error> {
    let mut parser = yaml_rust2::parser::Parser::new_from_str(src);
    let mut guard = Guard::default();
    let mut in_document = false;
    loop {
        let (ev, _) = parser.next_token().map_err(|e| Error::Syntax {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        match ev {
            Event::StreamEnd => return Ok(()),
            Event::DocumentEnd if in_document => return Ok(()),
            Event::DocumentStart => in_document = true,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            node => {
                guard.admit(&node)?;
                recv.event(node);
            }
        }
    }
}

/// go-yaml v2's decode counters and the node count of every anchored node.
#[derive(Default)]
struct Guard {
    budget: Budget,
    /// Open collections: (anchor id, decodes counted before the collection started).
    open: Vec<(usize, u64)>,
    /// Anchor id → how many decodes its node costs (aliases inside it expanded).
    sizes: HashMap<usize, u64>,
}

impl Guard {
    fn admit(&mut self, ev: &Event) -> Result<(), Error> {
        match ev {
            Event::Scalar(_, _, anchor, _) => {
                self.budget.count(1, 0)?;
                if *anchor != 0 {
                    self.sizes.insert(*anchor, 1);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.open.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep);
                }
                self.open.push((*anchor, self.budget.decodes));
                self.budget.count(1, 0)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = self.open.pop()
                    && anchor != 0
                {
                    self.sizes.insert(anchor, self.budget.decodes - start);
                }
            }
            Event::Alias(id) => {
                let size = *self.sizes.get(id).ok_or(Error::RecursiveAlias)?;
                self.budget.count(1 + size, size)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// go-yaml v2's `decodeCount`/`aliasCount` and its allowed alias ratio (decode.go).
#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Budget {
    decodes: u64,
    aliases: u64,
}

/// Below this many decodes, 99% may come from aliases; from the high end on, 10%.
const ALIAS_RATIO_RANGE_LOW: u64 = 400_000;
const ALIAS_RATIO_RANGE_HIGH: u64 = 4_000_000;

/// go-yaml v2's `allowedAliasRatio`: 0.99 for small documents, scaling down to 0.10 for large ones.
fn allowed_alias_ratio(decodes: u64) -> f64 {
    if decodes <= ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if decodes >= ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        let range = (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW) as f64;
        0.99 - 0.89 * ((decodes - ALIAS_RATIO_RANGE_LOW) as f64 / range)
    }
}

impl Budget {
    /// Counts `decodes` more node decodes, `aliases` of them through an alias, and refuses the
    /// document when go-yaml would. go-yaml checks at every node; the ratio only grows during one
    /// alias expansion and the allowance only shrinks, so checking once at its end is the same.
    fn count(&mut self, decodes: u64, aliases: u64) -> Result<(), Error> {
        self.decodes += decodes;
        self.aliases += aliases;
        if self.aliases > 100
            && self.decodes > 1000
            && self.aliases as f64 / self.decodes as f64 > allowed_alias_ratio(self.decodes)
        {
            return Err(Error::ExcessiveAliasing);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(usize);
    impl Receiver for Count {
        fn event(&mut self, _: Event) {
            self.0 += 1;
        }
    }

    /// `levels` levels of anchors, each a list of nine aliases of the previous one.
    fn laughs(levels: usize) -> String {
        let mut s = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            let p = format!("*l{}", i - 1);
            let items = [p.as_str(); 9].join(", ");
            s.push_str(&format!("l{i}: &l{i} [{items}]\n"));
        }
        s
    }

    #[test]
    fn billion_laughs_is_refused_as_go_yaml_refuses_it() {
        let bomb = laughs(9);
        assert!(bomb.len() < 500, "{}", bomb.len());
        let mut c = Count::default();
        assert_eq!(load(&bomb, &mut c), Err(Error::ExcessiveAliasing));
        assert!(
            c.0 < 200,
            "refused before most events were passed on: {}",
            c.0
        );
    }

    #[test]
    fn moderate_aliasing_is_allowed() {
        // Three levels: ~900 decodes, below go-yaml's 1000-decode floor.
        assert_eq!(load(&laughs(3), &mut Count::default()), Ok(()));
        // A values file reusing one anchor many times stays under the ratio.
        let mut s = String::from("base: &b {a: 1, b: 2}\n");
        for i in 0..500 {
            s.push_str(&format!("k{i}: {{x: {i}, y: {i}, z: *b}}\n"));
        }
        assert_eq!(load(&s, &mut Count::default()), Ok(()));
    }

    #[test]
    fn allowed_ratio_scales_like_go_yaml() {
        assert_eq!(allowed_alias_ratio(1000), 0.99);
        assert_eq!(allowed_alias_ratio(5_000_000), 0.10);
        let mid = allowed_alias_ratio(2_200_000);
        assert!((mid - 0.545).abs() < 1e-9, "{mid}");
        // Below 100 aliases or 1000 decodes nothing is refused, whatever the ratio.
        let mut b = Budget::default();
        assert_eq!(b.count(999, 990), Ok(()));
        let mut b = Budget::default();
        assert_eq!(b.count(5000, 100), Ok(()));
        assert_eq!(b.count(1, 1), Ok(()));
        let mut b = Budget::default();
        assert_eq!(b.count(1001, 1000), Err(Error::ExcessiveAliasing));
    }

    #[test]
    fn recursive_alias_and_deep_nesting_are_refused() {
        assert_eq!(
            load("a: &a [1, *a]\n", &mut Count::default()),
            Err(Error::RecursiveAlias)
        );
        // Block sequences nest without the scanner's flow-level limit (255).
        let deep = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        assert_eq!(load(&deep, &mut Count::default()), Err(Error::TooDeep));
        let ok = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert_eq!(load(&ok, &mut Count::default()), Ok(()));
    }

    #[test]
    fn only_the_first_document_is_read() {
        let mut c = Count::default();
        load("a: 1\n---\nb: [2, 3]\n", &mut c).unwrap();
        assert_eq!(c.0, 4, "MappingStart, a, 1, MappingEnd");
        let mut c = Count::default();
        load("", &mut c).unwrap();
        assert_eq!(c.0, 0);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = load("a: [1, 2\n", &mut Count::default()).unwrap_err();
        assert!(matches!(e, Error::Syntax { .. }), "{e:?}");
        assert!(e.to_string().starts_with("yaml: line "), "{e}");
    }
}
