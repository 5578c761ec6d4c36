//! OLM's provided-API bookkeeping between OperatorGroups. Each group's `olm.providedAPIs`
//! annotation lists the APIs (`Kind.version.group`) its member CSVs own. A CSV may not own an API
//! that another group already provides when the two groups' target namespaces intersect: two
//! operators would both act on that API's objects in the shared namespaces. OLM fails such a CSV
//! with `InterOperatorGroupOwnerConflict`, and so do we.
//!
//! Pure: API sets in OLM's annotation format, a group's reach (its target namespaces) and the
//! decision for one CSV ([`decide`], OLM's `ReconcileAPIIntersection`). The CSV controller
//! (`crate::csv`) reads the groups, acts on the decision and prunes a group's annotation when a
//! member CSV is deleted ([`pruned`]). This module does no I/O.

use std::collections::BTreeSet;
use std::fmt;

use apis::operators::{ClusterServiceVersion, OperatorGroup};
use kube::ResourceExt;

/// OLM's annotation on an OperatorGroup: the APIs its member CSVs provide.
pub const ANNOTATION: &str = "olm.providedAPIs";

/// One API as OLM keys it: group, version and kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKey {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl fmt::Display for ApiKey {
    /// OLM's form, `Kind.version.group`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.kind, self.version, self.group)
    }
}

pub type ApiSet = BTreeSet<ApiKey>;

/// The APIs an `olm.providedAPIs` value lists. As OLM reads it: spaces are ignored, entries are
/// comma-separated `Kind.version.group`, and an entry with fewer than three parts is skipped.
pub fn parse(annotation: &str) -> ApiSet {
    annotation
        .split(',')
        .filter_map(|entry| {
            let entry: String = entry.chars().filter(|c| *c != ' ').collect();
            let mut parts = entry.splitn(3, '.');
            let (kind, version, group) = (parts.next()?, parts.next()?, parts.next()?);
            Some(ApiKey {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
            })
        })
        .collect()
}

/// The `olm.providedAPIs` value of a set: entries sorted as strings, comma-separated (OLM's
/// `APISet.String`, so the annotation reads the same whichever of the two wrote it).
pub fn format(set: &ApiSet) -> String {
    let mut entries: Vec<String> = set.iter().map(ApiKey::to_string).collect();
    entries.sort();
    entries.join(",")
}

/// The APIs a CSV provides: its owned CRDs (`spec.customresourcedefinitions.owned`, whose names
/// are `<plural>.<group>`).
pub fn of_csv(csv: &ClusterServiceVersion) -> ApiSet {
    csv.spec
        .customresourcedefinitions
        .iter()
        .flat_map(|c| &c.owned)
        .filter_map(|owned| {
            let (_, group) = owned.name.split_once('.')?;
            Some(ApiKey {
                group: group.into(),
                version: owned.version.clone(),
                kind: owned.kind.clone(),
            })
        })
        .collect()
}

/// The namespaces a group's operators act in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    All,
    Some(BTreeSet<String>),
}

impl Reach {
    /// A group's reach: every namespace for an all-namespaces group, else its targets
    /// (`crate::operatorgroup::targets`) and, as OLM counts it, the group's own namespace (only
    /// that while a selector group is unresolved).
    pub fn of(og: &OperatorGroup) -> Reach {
        use crate::operatorgroup::Targets;
        let mut set: BTreeSet<String> = match crate::operatorgroup::targets(og) {
            Targets::All => return Reach::All,
            Targets::Some(t) => t.into_iter().collect(),
            Targets::Unresolved => BTreeSet::new(),
        };
        set.insert(og.namespace().unwrap_or_default());
        Reach::Some(set)
    }

    fn intersects(&self, other: &Reach) -> bool {
        match (self, other) {
            (Reach::All, Reach::All) => true,
            (Reach::All, Reach::Some(s)) | (Reach::Some(s), Reach::All) => !s.is_empty(),
            (Reach::Some(a), Reach::Some(b)) => a.intersection(b).next().is_some(),
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::All => f.write_str("all namespaces"),
            Reach::Some(s) => f.write_str(&s.iter().cloned().collect::<Vec<_>>().join(",")),
        }
    }
}

/// What the decision needs of an OperatorGroup.
#[derive(Clone, Debug)]
pub struct Group {
    /// `namespace/name`.
    pub id: String,
    pub reach: Reach,
    pub apis: ApiSet,
}

impl Group {
    pub fn of(og: &OperatorGroup) -> Group {
        Group {
            id: format!("{}/{}", og.namespace().unwrap_or_default(), og.name_any()),
            reach: Reach::of(og),
            apis: parse(
                og.annotations()
                    .get(ANNOTATION)
                    .map(String::as_str)
                    .unwrap_or(""),
            ),
        }
    }
}

/// Another group that already provides some of a CSV's APIs in namespaces they share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rival {
    pub id: String,
    pub reach: String,
    pub apis: ApiSet,
}

/// What a CSV's provided APIs mean for its group (OLM's `ReconcileAPIIntersection`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The group already lists them and no intersecting group does: nothing to write.
    Unchanged,
    /// The group's annotation is to become this union of its APIs and the CSV's.
    Add(ApiSet),
    /// The group lists them, but so does an intersecting group: the group's annotation drops
    /// the CSV's APIs (this difference), after which the CSV is in conflict.
    Remove(ApiSet),
    /// Intersecting groups provide some of the CSV's APIs: the CSV fails.
    Conflict(Vec<Rival>),
}

/// The decision for a CSV providing `apis` in `group`, beside every `other` group.
pub fn decide(apis: &ApiSet, group: &Group, others: &[Group]) -> Decision {
    let rivals: Vec<Rival> = others
        .iter()
        .filter(|o| o.id != group.id && o.reach.intersects(&group.reach))
        .filter_map(|o| {
            let shared: ApiSet = o.apis.intersection(apis).cloned().collect();
            (!shared.is_empty()).then(|| Rival {
                id: o.id.clone(),
                reach: o.reach.to_string(),
                apis: shared,
            })
        })
        .collect();
    let listed = apis.is_subset(&group.apis);
    match (listed, rivals.is_empty()) {
        (true, false) => Decision::Remove(group.apis.difference(apis).cloned().collect()),
        (false, false) => Decision::Conflict(rivals),
        (false, true) => Decision::Add(group.apis.union(apis).cloned().collect()),
        (true, true) => Decision::Unchanged,
    }
}

/// The group's APIs once a member CSV is gone: those some remaining member still provides.
/// `None` when nothing is to be removed.
pub fn pruned(group_apis: &ApiSet, members: impl IntoIterator<Item = ApiSet>) -> Option<ApiSet> {
    let provided: ApiSet = members.into_iter().flatten().collect();
    let kept: ApiSet = group_apis.intersection(&provided).cloned().collect();
    (kept.len() < group_apis.len()).then_some(kept)
}

/// The status message of a CSV in conflict: OLM's sentence, then which groups provide what and
/// how to resolve it.
pub fn conflict_message(csv: &str, group: &Group, rivals: &[Rival]) -> String {
    let who: Vec<String> = rivals
        .iter()
        .map(|r| {
            format!(
                "OperatorGroup {} (targets: {}) already provides {}",
                r.id,
                r.reach,
                format(&r.apis)
            )
        })
        .collect();
    format!(
        "intersecting operatorgroups provide the same apis: {}; CSV {csv} in OperatorGroup {} (targets: {}) would provide them too. Uninstall the other operator, or give the OperatorGroups target namespaces that do not overlap",
        who.join("; "),
        group.id,
        group.reach
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &str, version: &str, group: &str) -> ApiKey {
        ApiKey {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    fn set(keys: &[ApiKey]) -> ApiSet {
        keys.iter().cloned().collect()
    }

    fn og(ns: &str, name: &str, targets: Option<&[&str]>, provided: &str) -> OperatorGroup {
        serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
            "metadata": {"name": name, "namespace": ns, "annotations": {ANNOTATION: provided}},
            "spec": targets.map(|t| json!({"targetNamespaces": t})).unwrap_or(json!({})),
        }))
        .unwrap()
    }

    #[test]
    fn the_annotation_reads_and_writes_in_olms_form() {
        let s = parse("Widget.v1.demo.io, Gadget.v1beta1.x.example.com,,Bad.v1");
        assert_eq!(
            s,
            set(&[
                key("Widget", "v1", "demo.io"),
                key("Gadget", "v1beta1", "x.example.com")
            ])
        );
        // Sorted as strings: `Gadget...` before `Widget...`.
        assert_eq!(format(&s), "Gadget.v1beta1.x.example.com,Widget.v1.demo.io");
        assert_eq!(parse(&format(&s)), s);
        assert!(parse("").is_empty());
    }

    #[test]
    fn a_csv_provides_its_owned_crds() {
        let csv: ClusterServiceVersion = serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": "w.v1", "namespace": "a"},
            "spec": {"displayName": "W", "installModes": [], "install": {"strategy": "deployment", "spec": {"deployments": []}},
                "customresourcedefinitions": {
                    "owned": [{"name": "widgets.demo.io", "version": "v1", "kind": "Widget"}],
                    "required": [{"name": "gadgets.demo.io", "version": "v1", "kind": "Gadget"}]}}
        }))
        .unwrap();
        assert_eq!(of_csv(&csv), set(&[key("Widget", "v1", "demo.io")]));
    }

    #[test]
    fn reach_counts_the_groups_own_namespace_and_all_namespaces_meets_every_group() {
        let all = Reach::of(&og("a", "g", None, ""));
        let own_b = Reach::of(&og("b", "g", Some(&["b"]), ""));
        let c_from_x = Reach::of(&og("x", "g", Some(&["c"]), ""));
        let d = Reach::of(&og("d", "g", Some(&["d"]), ""));
        assert_eq!(all, Reach::All);
        assert_eq!(Reach::of(&og("a", "g", Some(&[""]), "")), Reach::All);
        assert!(all.intersects(&own_b) && own_b.intersects(&all) && all.intersects(&all));
        assert!(!own_b.intersects(&d));
        // A group in x targeting c acts from x too.
        assert!(c_from_x.intersects(&Reach::of(&og("y", "g", Some(&["x"]), ""))));
        assert_eq!(c_from_x.to_string(), "c,x");
    }

    #[test]
    fn the_first_group_to_provide_an_api_keeps_it_and_an_intersecting_one_conflicts() {
        let widget = set(&[key("Widget", "v1", "demo.io")]);
        let empty_a = Group::of(&og("a", "ga", None, ""));
        // Alone: the group gains the API.
        assert_eq!(
            decide(&widget, &empty_a, &[]),
            Decision::Add(widget.clone())
        );
        let a = Group::of(&og("a", "ga", None, "Widget.v1.demo.io"));
        assert_eq!(
            decide(&widget, &a, std::slice::from_ref(&a)),
            Decision::Unchanged
        );
        // b's own-namespace group intersects a's all-namespaces group, which provides Widget.
        let b = Group::of(&og("b", "gb", Some(&["b"]), ""));
        let Decision::Conflict(rivals) = decide(&widget, &b, &[a.clone(), b.clone()]) else {
            panic!("conflict expected");
        };
        assert_eq!(
            rivals,
            vec![Rival {
                id: "a/ga".into(),
                reach: "all namespaces".into(),
                apis: widget.clone()
            }]
        );
        let msg = conflict_message("w2.v1", &b, &rivals);
        assert!(
            msg.starts_with("intersecting operatorgroups provide the same apis: OperatorGroup a/ga (targets: all namespaces) already provides Widget.v1.demo.io"),
            "{msg}"
        );
        // Disjoint targets: no conflict.
        let c = Group::of(&og("c", "gc", Some(&["c"]), "Widget.v1.demo.io"));
        assert_eq!(
            decide(&widget, &b, std::slice::from_ref(&c)),
            Decision::Add(widget.clone())
        );
        // Both list it (a race): the one deciding drops it from its own group first.
        let b_listing = Group::of(&og(
            "b",
            "gb",
            Some(&["b"]),
            "Widget.v1.demo.io,Other.v1.x.io",
        ));
        assert_eq!(
            decide(&widget, &b_listing, std::slice::from_ref(&a)),
            Decision::Remove(set(&[key("Other", "v1", "x.io")]))
        );
        // A CSV that provides nothing never conflicts.
        assert_eq!(decide(&ApiSet::new(), &b, &[a]), Decision::Unchanged);
    }

    #[test]
    fn pruning_keeps_what_remaining_members_provide() {
        let group = set(&[
            key("Widget", "v1", "demo.io"),
            key("Gadget", "v1", "demo.io"),
        ]);
        assert_eq!(
            pruned(&group, [set(&[key("Widget", "v1", "demo.io")])]),
            Some(set(&[key("Widget", "v1", "demo.io")]))
        );
        assert_eq!(pruned(&group, []), Some(ApiSet::new()));
        assert_eq!(pruned(&group, [group.clone()]), None);
    }
}
