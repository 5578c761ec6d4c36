//! The seam between this crate and the `gotemplate` engine: engine options, Helm's rewriting of Go's
//! template errors (`parse error at (...)`, `execution error at (...)`, Helm v4's multi-line trace), and
//! the few engine helpers the `.Files` object needs.

use gotemplate::Value as TV;

/// Engine options as Helm uses them: `missingkey=zero` (Helm then replaces `<no value>` by "").
pub fn options() -> gotemplate::Options {
    gotemplate::Options::default()
}

/// Go's `%v` of a template value.
pub fn sprint(v: &TV) -> String {
    gotemplate::fmt::sprint_value(v)
}

/// Helm's `toYaml` (for `.Files.AsConfig` / `.AsSecrets`).
pub fn to_yaml(v: &TV) -> String {
    gotemplate::to_yaml(v)
}

/// Helm's `cleanupParseError`: `parse error at (<file>:<line>): <last message>`.
pub fn parse_error(filename: &str, err: &dyn std::fmt::Display) -> String {
    let text = err.to_string();
    let tokens: Vec<&str> = text.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {text}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

#[derive(Debug, PartialEq)]
struct Traceable {
    location: String,
    executed: String,
    message: String,
    /// The full text of this chain element (what an outer element's message ends with).
    full: String,
}

/// Parses one element of Go's error chain (`template: LOC: executing "N" at <F>: MSG`).
fn parse_element(s: &str) -> Option<Traceable> {
    let rest = s.strip_prefix("template: ")?;
    if rest.starts_with("no template") {
        return Some(Traceable {
            location: String::new(),
            executed: String::new(),
            message: s.to_string(),
            full: s.to_string(),
        });
    }
    let t: Vec<&str> = rest.splitn(3, ": ").collect();
    if t.len() == 3 && t[1].starts_with("executing ") {
        return Some(Traceable {
            location: t[0].to_string(),
            executed: format!("{}:", t[1]),
            message: t[2].to_string(),
            full: s.to_string(),
        });
    }
    let t: Vec<&str> = rest.splitn(2, ": ").collect();
    if t.len() == 2 {
        return Some(Traceable {
            location: t[0].to_string(),
            executed: String::new(),
            message: t[1].to_string(),
            full: s.to_string(),
        });
    }
    None
}

/// Helm v4's rewriting of an execution error (pkg/engine `reformatExecErrorMsg`), computed from Go's
/// error text: `required`/`fail` messages become `execution error at (<loc>): <msg>`; a chain of
/// `include`s becomes Helm's indented trace; anything else is returned as Go printed it.
pub fn exec_error(filename: &str, err: &dyn std::fmt::Display) -> String {
    let text = err.to_string();
    if !text.starts_with("template: ") {
        return text;
    }
    let tokens: Vec<&str> = text.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {text}");
    }
    if let Some(start) = tokens[2].find(WARN_START)
        && let Some(end_rel) = tokens[2][start + WARN_START.len()..].rfind(WARN_END)
    {
        let msg = &tokens[2][start + WARN_START.len()..start + WARN_START.len() + end_rel];
        return format!("execution error at ({}): {}", tokens[1], msg);
    }
    // Walk the wrapped chain: each "error calling <fn>: <inner>" must itself be a template error.
    let mut chain: Vec<Traceable> = Vec::new();
    let mut current = text.clone();
    loop {
        let Some(el) = parse_element(&current) else {
            return text;
        };
        let next = el
            .message
            .strip_prefix("error calling ")
            .and_then(|r| r.split_once(": "))
            .map(|(_, inner)| inner.to_string());
        let is_leaf = el.executed.is_empty() || next.is_none();
        chain.push(el);
        match next {
            Some(inner) if !is_leaf => {
                if !inner.starts_with("template: ") {
                    return text;
                }
                current = inner;
            }
            _ => break,
        }
    }
    for i in 0..chain.len().saturating_sub(1) {
        let suffix = chain[i + 1].full.clone();
        if let Some(stripped) = chain[i].message.strip_suffix(&suffix) {
            chain[i].message = stripped.trim_end().to_string();
        }
    }
    let mut out = String::new();
    for t in &chain {
        if !t.location.is_empty() {
            out.push_str(&t.location);
            out.push_str("\n  ");
        }
        if !t.executed.is_empty() {
            out.push_str(&t.executed);
            out.push_str("\n    ");
        }
        if !t.message.is_empty() {
            out.push_str(&t.message);
            out.push('\n');
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_fail_become_execution_errors() {
        let e = "template: c/templates/a.yaml:2:9: executing \"c/templates/a.yaml\" at <required \"m\" .Values.p>: error calling required: HELM_ERR_STARTneed it\nline2HELM_ERR_END";
        assert_eq!(
            exec_error("c/templates/a.yaml", &e),
            "execution error at (c/templates/a.yaml:2:9): need it\nline2"
        );
    }

    #[test]
    fn include_chains_become_helm_v4_traces() {
        let e = "template: e1/templates/a.yaml:1:6: executing \"e1/templates/a.yaml\" at <include \"outer\" .>: error calling include: template: e1/templates/_h.tpl:1:24: executing \"outer\" at <include \"inner\" .>: error calling include: template: e1/templates/_h.tpl:1:83: executing \"inner\" at <.Values.a.b.c>: nil pointer evaluating interface {}.b";
        assert_eq!(
            exec_error("e1/templates/a.yaml", &e),
            "e1/templates/a.yaml:1:6\n  executing \"e1/templates/a.yaml\" at <include \"outer\" .>:\n    error calling include:\ne1/templates/_h.tpl:1:24\n  executing \"outer\" at <include \"inner\" .>:\n    error calling include:\ne1/templates/_h.tpl:1:83\n  executing \"inner\" at <.Values.a.b.c>:\n    nil pointer evaluating interface {}.b"
        );
        let e = "template: u/templates/s.yaml:1:4: executing \"u/templates/s.yaml\" at <include \"library.service\" .>: error calling include: template: no template \"library.service\" associated with template \"gotpl\"";
        assert_eq!(
            exec_error("u/templates/s.yaml", &e),
            "u/templates/s.yaml:1:4\n  executing \"u/templates/s.yaml\" at <include \"library.service\" .>:\n    error calling include:\ntemplate: no template \"library.service\" associated with template \"gotpl\""
        );
    }

    #[test]
    fn tpl_errors_stay_in_go_text() {
        let e = "template: e3/templates/a.yaml:1:6: executing \"e3/templates/a.yaml\" at <tpl \"x\" .>: error calling tpl: error during tpl function execution for \"x\": template: gotpl:1:10: executing \"gotpl\" at <.Values.a.b.c>: nil pointer evaluating interface {}.b";
        assert_eq!(exec_error("e3/templates/a.yaml", &e), e);
    }

    #[test]
    fn parse_errors_keep_location_and_last_message() {
        let e = "template: e10/templates/a.yaml:1: missing value for if";
        assert_eq!(
            parse_error("e10/templates/a.yaml", &e),
            "parse error at (e10/templates/a.yaml:1): missing value for if"
        );
    }
}
