//! Documents of a catalog file as opm reads them: a JSON file is a stream of concatenated JSON
//! values, a YAML file is a multi-document stream split at `---` lines (as Kubernetes'
//! `YAMLReader` splits it); each YAML document goes through the workspace's bounded loader
//! (`goyaml`), so a hostile catalog cannot expand aliases into gigabytes.

use serde_json::Value;

use crate::error::{Error, Result};

/// The non-empty documents of `bytes`, read as JSON when the first non-blank byte opens a JSON
/// value, as YAML otherwise. `file` names the file in errors (with the document's index).
pub fn documents(file: &str, bytes: &[u8]) -> Result<Vec<Value>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::invalid(file, "(content)", format!("not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.trim_start().as_bytes().first() {
        None => Ok(Vec::new()),
        Some(b'{') | Some(b'[') => json_stream(file, text),
        Some(_) => yaml_stream(file, text),
    }
}

fn json_stream(file: &str, text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, v) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let v = v.map_err(|e| Error::invalid(file, format!("document {i}"), e.to_string()))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

fn yaml_stream(file: &str, text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, doc) in split_yaml(text).into_iter().enumerate() {
        if doc.trim().is_empty() {
            continue;
        }
        let v = goyaml::to_json(doc, goyaml::Numbers::Exact)
            .map_err(|e| Error::invalid(file, format!("document {i}"), e.to_string()))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// Splits a YAML stream at separator lines: `---` at the start of a line followed by nothing, or
/// only a comment. A `...` document end line is dropped.
pub fn split_yaml(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = body.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                docs.push(&text[start..pos]);
                start = pos + line.len();
            }
        }
        pos += line.len();
    }
    docs.push(&text[start..]);
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_stream_splits_at_separator_lines_only() {
        let docs = documents("f.yaml", b"---\na: 1\n--- # c\nb: '---'\n---\n\n").unwrap();
        assert_eq!(
            docs,
            vec![serde_json::json!({"a": 1}), serde_json::json!({"b": "---"})]
        );
    }

    #[test]
    fn json_stream_reads_concatenated_values() {
        let docs = documents("f.json", b"{\"a\":1}\n{\"b\":2}{\"c\":3}").unwrap();
        assert_eq!(docs.len(), 3);
    }

    #[test]
    fn broken_document_names_file_and_index() {
        let err = documents("dir/x.yaml", b"a: 1\n---\nb: [\n").unwrap_err();
        assert!(
            err.to_string().starts_with("dir/x.yaml: document 1: "),
            "{err}"
        );
    }
}
