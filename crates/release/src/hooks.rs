//! Hook rules as Helm applies them: a rendered hook becomes a [`Hook`] with its weight
//! (`helm.sh/hook-weight`) and delete policies (`helm.sh/hook-delete-policy`, default
//! `before-hook-creation`); hooks of one event run by weight, then name.

use crate::model::Hook;

/// A rendered hook as the release stores it.
pub fn from_rendered(h: &helm::manifest::Hook) -> Hook {
    let annotations = crate::cluster::documents(&h.manifest)
        .ok()
        .and_then(|d| d.into_iter().next())
        .map(|v| v["metadata"]["annotations"].clone())
        .unwrap_or_default();
    let weight = annotations["helm.sh/hook-weight"]
        .as_str()
        .and_then(|w| w.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let mut delete_policies: Vec<String> = annotations["helm.sh/hook-delete-policy"]
        .as_str()
        .map(|p| {
            p.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if delete_policies.is_empty() {
        delete_policies.push("before-hook-creation".into());
    }
    let output_log_policies = annotations["helm.sh/hook-output-log-policy"]
        .as_str()
        .map(|p| p.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    Hook {
        name: h.name.clone(),
        kind: h.kind.clone(),
        path: h.path.clone(),
        manifest: h.manifest.clone(),
        events: h.events.clone(),
        weight,
        delete_policies,
        output_log_policies,
        ..Hook::default()
    }
}

/// Indexes of the hooks that run on `event`, in execution order (weight, then name; stable on the
/// install order the hooks are stored in).
pub fn for_event(hooks: &[Hook], event: &str) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..hooks.len())
        .filter(|&i| hooks[i].events.iter().any(|e| e == event))
        .collect();
    idx.sort_by(|&a, &b| {
        hooks[a]
            .weight
            .cmp(&hooks[b].weight)
            .then_with(|| hooks[a].name.cmp(&hooks[b].name))
    });
    idx
}

/// Whether a hook carries a delete policy.
pub fn has_policy(h: &Hook, policy: &str) -> bool {
    h.delete_policies.iter().any(|p| p == policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(name: &str, annotations: &str) -> helm::manifest::Hook {
        helm::manifest::Hook {
            path: "c/templates/h.yaml".into(),
            manifest: format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n{annotations}"
            ),
            kind: "ConfigMap".into(),
            name: name.into(),
            events: vec!["pre-install".into()],
        }
    }

    #[test]
    fn weight_and_policies_come_from_annotations_with_helms_default() {
        let h = from_rendered(&rendered(
            "a",
            "    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: hook-succeeded, hook-failed\n",
        ));
        assert_eq!(h.weight, -5);
        assert_eq!(h.delete_policies, ["hook-succeeded", "hook-failed"]);
        let d = from_rendered(&rendered("b", "    helm.sh/hook: pre-install\n"));
        assert_eq!(d.delete_policies, ["before-hook-creation"]);
    }

    #[test]
    fn hooks_run_by_weight_then_name() {
        let mk = |name: &str, weight: i64, event: &str| Hook {
            name: name.into(),
            weight,
            events: vec![event.into()],
            ..Hook::default()
        };
        let hooks = [
            mk("z", 0, "pre-install"),
            mk("b", -1, "pre-install"),
            mk("a", 0, "pre-install"),
            mk("c", -9, "post-install"),
        ];
        assert_eq!(for_event(&hooks, "pre-install"), vec![1, 2, 0]);
    }
}
