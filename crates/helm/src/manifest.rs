//! From rendered templates to what `helm template` prints: document splitting (Helm v4.2.3's
//! `SplitManifests`), hook detection (`helm.sh/hook`), the install-order sort (`InstallOrder`, unknown
//! kinds last by name, stable on template path then position), and the `---\n# Source: ...` stream.

use std::collections::BTreeMap;

use serde_json::Value;

/// Helm's `releaseutil.InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Hook events Helm knows (`helm.sh/hook` values).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c' | '\x0b')
}

/// Splits a rendered template into documents as Helm v4.2.3 does: left-trim, split on
/// `(?:^|\s*\n)---\s*`, drop whitespace-only pieces, left-trim each piece (trailing newline kept).
pub fn split_manifests(big: &str) -> Vec<String> {
    let text = big.trim_start_matches(is_go_space);
    let b = text.as_bytes();
    let mut docs = Vec::new();
    let mut piece_start = 0;
    let mut pos = 0;
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x0b);
    while pos <= b.len() {
        // Find the next separator match starting at or after `pos`.
        let mut found: Option<(usize, usize)> = None;
        if pos == 0 && b.starts_with(b"---") {
            found = Some((0, 3));
        } else {
            let mut j = pos;
            while j < b.len() {
                if b[j] == b'\n' && b[j + 1..].starts_with(b"---") {
                    let mut k = j;
                    while k > pos && is_ws(b[k - 1]) {
                        k -= 1;
                    }
                    found = Some((k, j + 4));
                    break;
                }
                j += 1;
            }
        }
        match found {
            None => break,
            Some((start, mut end)) => {
                while end < b.len() && is_ws(b[end]) {
                    end += 1;
                }
                docs.push(&text[piece_start..start]);
                piece_start = end;
                pos = end;
                if end == start {
                    pos += 1;
                }
            }
        }
    }
    docs.push(&text[piece_start..]);
    docs.into_iter()
        .filter(|d| !d.chars().all(is_go_space))
        .map(|d| d.trim_start_matches(is_go_space).to_string())
        .collect()
}

/// One document of the release manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Template path (`chart/templates/x.yaml`).
    pub path: String,
    pub content: String,
    pub kind: String,
}

/// A hook document.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub path: String,
    pub manifest: String,
    pub kind: String,
    pub name: String,
    pub events: Vec<String>,
}

/// Sorted manifests and hooks of a render (Helm's `SortManifests`).
#[derive(Debug, Clone, Default)]
pub struct Sorted {
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Hook>,
}

/// The error `SortManifests` returns: a rendered document that is not YAML or not an object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("YAML parse error on {path}: {message}")]
pub struct ManifestError {
    pub path: String,
    pub message: String,
}

struct Head {
    kind: String,
    name: String,
    annotations: BTreeMap<String, String>,
}

fn go_string_field(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(crate::render::go_print(&Value::Number(n.clone()))),
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {field} of type string",
            crate::chart::json_type_name(other)
        )),
    }
}

fn parse_head(doc: &str) -> Result<Head, String> {
    let v = crate::yaml::to_json(doc).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    let m = match &v {
        Value::Object(m) => m,
        Value::Null => {
            return Ok(Head {
                kind: String::new(),
                name: String::new(),
                annotations: BTreeMap::new(),
            });
        }
        other => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type releaseutil.SimpleHead",
                crate::chart::json_type_name(other)
            ));
        }
    };
    let kind = go_string_field(m.get("kind").unwrap_or(&Value::Null), "SimpleHead.kind")?;
    go_string_field(
        m.get("apiVersion").unwrap_or(&Value::Null),
        "SimpleHead.apiVersion",
    )?;
    let mut name = String::new();
    let mut annotations = BTreeMap::new();
    match m.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(md)) => {
            name = go_string_field(
                md.get("name").unwrap_or(&Value::Null),
                "SimpleHead.metadata.name",
            )?;
            match md.get("annotations") {
                None | Some(Value::Null) => {}
                Some(Value::Object(a)) => {
                    for (k, v) in a {
                        annotations.insert(
                            k.clone(),
                            go_string_field(v, "SimpleHead.metadata.annotations")?,
                        );
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field .metadata.annotations of type map[string]string",
                        crate::chart::json_type_name(other)
                    ));
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field SimpleHead.metadata of type struct {{ Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }}",
                crate::chart::json_type_name(other)
            ));
        }
    }
    Ok(Head {
        kind,
        name,
        annotations,
    })
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind` as a total order for a stable sort.
fn cmp_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (kind_rank(a), kind_rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Less,
        (None, Some(_)) => Greater,
        (None, None) => a.cmp(b),
    }
}

/// Splits, classifies and sorts rendered templates (`path → text`, partials and NOTES already
/// removed by the caller or skipped here).
pub fn sort_manifests(files: &BTreeMap<String, String>) -> Result<Sorted, ManifestError> {
    let mut out = Sorted::default();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') {
            continue;
        }
        if content.chars().all(is_go_space) {
            continue;
        }
        for doc in split_manifests(content) {
            let head = parse_head(&doc).map_err(|message| ManifestError {
                path: path.clone(),
                message,
            })?;
            match head.annotations.get("helm.sh/hook") {
                None => out.manifests.push(Manifest {
                    path: path.clone(),
                    content: doc,
                    kind: head.kind,
                }),
                Some(types) => {
                    let mut events = Vec::new();
                    let mut unknown = false;
                    for t in types.split(',') {
                        let t = t.trim().to_lowercase();
                        if HOOK_EVENTS.contains(&t.as_str()) {
                            events.push(t);
                        } else {
                            unknown = true;
                            break;
                        }
                    }
                    if unknown {
                        // Helm logs "skipping unknown hook" and drops the document.
                        continue;
                    }
                    out.hooks.push(Hook {
                        path: path.clone(),
                        manifest: doc,
                        kind: head.kind,
                        name: head.name,
                        events,
                    });
                }
            }
        }
    }
    out.manifests.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    out.hooks.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    Ok(out)
}

/// `---\n# Source: <path>\n<doc>\n` for each manifest: the release manifest text.
pub fn manifest_text(m: &[Manifest]) -> String {
    let mut s = String::new();
    for d in m {
        s.push_str("---\n# Source: ");
        s.push_str(&d.path);
        s.push('\n');
        s.push_str(&d.content);
        s.push('\n');
    }
    s
}

/// Whether a hook is a test hook (`test` or `test-success`).
pub fn is_test_hook(h: &Hook) -> bool {
    h.events.iter().any(|e| e == "test" || e == "test-success")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_helm_v4_2_3_regexp() {
        assert_eq!(split_manifests("a: 1\n---\nb: 2\n"), vec!["a: 1", "b: 2\n"]);
        assert_eq!(split_manifests("---\na: 1\n"), vec!["a: 1\n"]);
        assert_eq!(
            split_manifests("\n\n---\n---\na: 1\n  \n---\n"),
            vec!["---\na: 1"]
        );
        assert_eq!(
            split_manifests("x: 1\n---# c\ny: 2"),
            vec!["x: 1", "# c\ny: 2"]
        );
        assert_eq!(split_manifests("  \n"), Vec::<String>::new());
        assert_eq!(split_manifests("a: '---'\nb: 1"), vec!["a: '---'\nb: 1"]);
    }

    #[test]
    fn sort_uses_install_order_then_unknown_kinds_by_name() {
        let mut files = BTreeMap::new();
        files.insert(
            "c/templates/a.yaml".to_string(),
            "kind: Deployment\n---\nkind: Zeta\n---\nkind: Alpha\n".to_string(),
        );
        files.insert(
            "c/templates/b.yaml".to_string(),
            "kind: Service\n---\nkind: Namespace\n".to_string(),
        );
        files.insert(
            "c/templates/h.yaml".to_string(),
            "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n".to_string(),
        );
        files.insert("c/templates/_p.tpl".to_string(), "kind: Secret".to_string());
        let s = sort_manifests(&files).unwrap();
        let kinds: Vec<&str> = s.manifests.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["Namespace", "Service", "Deployment", "Alpha", "Zeta"]
        );
        assert_eq!(s.hooks.len(), 1);
        assert!(is_test_hook(&s.hooks[0]));
    }

    #[test]
    fn non_object_documents_are_refused_like_helm() {
        let mut files = BTreeMap::new();
        files.insert("c/templates/t.tpl".to_string(), "Hello".to_string());
        let e = sort_manifests(&files).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("YAML parse error on c/templates/t.tpl: error unmarshaling JSON")
        );
    }
}
