//! What an upgrade would change, object by object: each object's live state and its state after a
//! server-side dry-run apply (or absence), both without server-owned metadata and status, as YAML,
//! compared as a unified diff (`--- live` / `+++ desired`).

use serde_json::Value;

/// The kind of change to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
    Unchanged,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Delete => "delete",
            ChangeKind::Unchanged => "unchanged",
        })
    }
}

/// One object's change.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectChange {
    pub change: ChangeKind,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// A unified diff of the object's YAML (empty when unchanged).
    pub diff: String,
}

impl ObjectChange {
    /// `Kind namespace/name` (or `Kind name` when cluster-scoped).
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// The object without what the server owns (`status`, `managedFields`, `resourceVersion`, `uid`,
/// `generation`, `creationTimestamp`), so only what a chart controls is compared.
pub fn normalize(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(md) = v["metadata"].as_object_mut() {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
        ] {
            md.remove(k);
        }
    }
    v
}

fn yaml(v: Option<&Value>) -> String {
    v.map(|v| serde_yaml::to_string(&normalize(v)).unwrap_or_default())
        .unwrap_or_default()
}

/// Compares an object's live state with its desired state (`None`: absent).
pub fn object_change(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    live: Option<&Value>,
    desired: Option<&Value>,
) -> ObjectChange {
    let (before, after) = (yaml(live), yaml(desired));
    let change = match (live, desired) {
        (None, Some(_)) => ChangeKind::Create,
        (Some(_), None) => ChangeKind::Delete,
        _ if before == after => ChangeKind::Unchanged,
        _ => ChangeKind::Update,
    };
    let title = match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    };
    let diff = if change == ChangeKind::Unchanged {
        String::new()
    } else {
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("{title} (live)"), &format!("{title} (desired)"))
            .to_string()
    };
    ObjectChange {
        change,
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: namespace.map(String::from),
        name: name.into(),
        diff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_updated_field_shows_as_a_unified_diff_without_server_fields() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "7", "uid": "u"}, "data": {"a": "1"}});
        let desired = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "resourceVersion": "8", "uid": "u"}, "data": {"a": "2"}});
        let c = object_change(
            "v1",
            "ConfigMap",
            Some("ns"),
            "c",
            Some(&live),
            Some(&desired),
        );
        assert_eq!(c.change, ChangeKind::Update);
        assert!(c.diff.contains("--- ConfigMap ns/c (live)"), "{}", c.diff);
        assert!(
            c.diff.contains("-  a: '1'") && c.diff.contains("+  a: '2'"),
            "{}",
            c.diff
        );
        assert!(!c.diff.contains("resourceVersion"), "{}", c.diff);
        let same = object_change("v1", "ConfigMap", Some("ns"), "c", Some(&live), Some(&live));
        assert_eq!(
            (same.change, same.diff.as_str()),
            (ChangeKind::Unchanged, "")
        );
    }

    #[test]
    fn creations_and_deletions() {
        let o = json!({"kind": "Service", "metadata": {"name": "s"}});
        assert_eq!(
            object_change("v1", "Service", None, "s", None, Some(&o)).change,
            ChangeKind::Create
        );
        let d = object_change("v1", "Service", None, "s", Some(&o), None);
        assert_eq!(d.change, ChangeKind::Delete);
        assert!(d.diff.contains("-kind: Service"), "{}", d.diff);
    }
}
