//! ClusterRole aggregation as kube-controller-manager's clusterrole-aggregation controller computes
//! it: an aggregated ClusterRole's rules are the rules of every other ClusterRole matched by one of
//! its `aggregationRule.clusterRoleSelectors`, selector by selector, roles sorted by name, each rule
//! once. This server applies it when it builds the authorizer (every change of an RBAC object),
//! so stored aggregated roles keep the `rules` they were written with while evaluation sees the
//! aggregate.

use apimachinery::labels::Selector;

use crate::rbac::{PolicyRule, Role};

/// The rules of `target` aggregated from `roles` (`None` when `target` has no aggregation rule).
pub fn aggregate(target: &Role, roles: &[Role]) -> Option<Vec<PolicyRule>> {
    let selectors = target.aggregation.as_ref()?;
    let mut sorted: Vec<&Role> = roles.iter().filter(|r| r.name != target.name).collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rules: Vec<PolicyRule> = Vec::new();
    for sel in selectors {
        // An unreadable selector selects nothing (the controller logs and skips it).
        let Ok(selector) = Selector::from_label_selector(Some(sel)) else {
            continue;
        };
        for role in sorted.iter().filter(|r| selector.matches(&r.labels)) {
            for rule in &role.rules {
                if !rules.contains(rule) {
                    rules.push(rule.clone());
                }
            }
        }
    }
    Some(rules)
}

/// Aggregates every aggregated ClusterRole in place, repeating until nothing changes (an
/// aggregated role may itself be aggregated into another, as `edit` is into `admin`).
pub fn aggregate_all(roles: &mut [Role]) {
    // Each round settles at least one more level of nesting; real policies nest two deep.
    for _ in 0..8 {
        let mut changed = false;
        for i in 0..roles.len() {
            if let Some(rules) = aggregate(&roles[i], roles)
                && rules != roles[i].rules
            {
                roles[i].rules = rules;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(name: &str, labels: &[(&str, &str)], resources: &[&str]) -> Role {
        Role {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            rules: resources
                .iter()
                .map(|r| PolicyRule {
                    verbs: vec!["get".into()],
                    api_groups: vec!["".into()],
                    resources: vec![r.to_string()],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn aggregated_role_collects_matching_roles_rules_once_in_name_order() {
        let mut agg = role("agg", &[], &[]);
        agg.aggregation = Some(vec![json!({"matchLabels": {"x": "true"}})]);
        let roles = vec![
            agg.clone(),
            role("b", &[("x", "true")], &["secrets", "pods"]),
            role("a", &[("x", "true")], &["pods"]),
            role("c", &[("x", "false")], &["nodes"]),
        ];
        let rules = aggregate(&agg, &roles).unwrap();
        let names: Vec<&str> = rules.iter().map(|r| r.resources[0].as_str()).collect();
        assert_eq!(names, ["pods", "secrets"]);
        assert_eq!(aggregate(&roles[1], &roles), None);
    }

    #[test]
    fn nested_aggregation_reaches_a_fixed_point() {
        let mut admin = role("admin", &[], &[]);
        admin.aggregation = Some(vec![json!({"matchLabels": {"to-admin": "true"}})]);
        let mut edit = role("edit", &[("to-admin", "true")], &[]);
        edit.aggregation = Some(vec![json!({"matchLabels": {"to-edit": "true"}})]);
        let mut roles = vec![
            admin,
            edit,
            role("parts-edit", &[("to-edit", "true")], &["deployments"]),
            role("parts-admin", &[("to-admin", "true")], &["roles"]),
        ];
        aggregate_all(&mut roles);
        let admin_resources: Vec<&str> = roles[0]
            .rules
            .iter()
            .map(|r| r.resources[0].as_str())
            .collect();
        assert_eq!(admin_resources, ["deployments", "roles"]);
        assert_eq!(roles[1].rules.len(), 1);
    }
}
