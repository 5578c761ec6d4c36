//! The garbage collector's owner index, as pure data: fed the objects its watches observe, it says
//! which work each change makes necessary. No I/O here; [`super`] does the API calls.
//!
//! What it keeps (memory grows with objects that *have* owners, plus 20 bytes per other object):
//! - the uid of every live object and which resource it belongs to (an owner is known present
//!   without asking the API);
//! - for each object with ownerReferences: its references, and the reverse index owner uid →
//!   dependents;
//! - the owners being deleted in the foreground (`foregroundDeletion` finalizer), which wait for
//!   their dependents.

use std::collections::{HashMap, HashSet};

/// A 128-bit object uid (Kubernetes uids are UUIDs; any other string is hashed).
pub type Uid = u128;

/// Index of a watched resource (stable for the collector's lifetime).
pub type ResId = u32;

/// Parses a uid string.
pub fn uid_of(s: &str) -> Uid {
    match uuid::Uuid::parse_str(s) {
        Ok(u) => u.as_u128(),
        Err(_) => {
            use std::hash::{Hash, Hasher};
            let mut a = std::collections::hash_map::DefaultHasher::new();
            s.hash(&mut a);
            let mut b = std::collections::hash_map::DefaultHasher::new();
            (s, 0x9e37_79b9u32).hash(&mut b);
            (u128::from(a.finish()) << 64) | u128::from(b.finish())
        }
    }
}

/// One object of a watched resource.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjKey {
    pub res: ResId,
    pub namespace: Option<String>,
    pub name: String,
}

/// One ownerReference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: Uid,
    /// The uid as written (for patches that remove this reference).
    pub uid_text: String,
}

/// What a watch event says about an object.
#[derive(Clone, Debug)]
pub struct Observed {
    pub key: ObjKey,
    pub uid: Uid,
    pub owners: Vec<OwnerRef>,
    /// `deletionTimestamp` is set.
    pub deleting: bool,
    /// Carries the `foregroundDeletion` finalizer.
    pub foreground: bool,
    /// Carries the `orphan` finalizer.
    pub orphan: bool,
}

/// Work the collector must do through the API.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Work {
    /// Check the owners of a dependent: delete it when they are all gone (or all waiting for their
    /// dependents in the foreground), drop references to owners that are gone.
    CheckOwners(ObjKey),
    /// An owner deleted in the foreground: once it has no dependents, remove `foregroundDeletion`.
    Foreground(ObjKey, Uid),
    /// An owner deleted with `orphan`: remove it from its dependents' references, then the finalizer.
    Orphan(ObjKey, Uid),
}

/// What the index knows about an owner uid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// Not seen by any watch: ask the API (it may be in a resource not watched, or its event may
    /// simply not have arrived yet).
    Unknown,
    Present,
    /// Being deleted in the foreground: waiting for its dependents.
    WaitingForDependents,
}

#[derive(Default)]
pub struct Graph {
    live: HashMap<Uid, ResId>,
    dependents: HashMap<Uid, HashSet<ObjKey>>,
    owners: HashMap<ObjKey, (Uid, Vec<OwnerRef>)>,
    waiting: HashMap<Uid, ObjKey>,
    relisting: HashMap<ResId, HashSet<Uid>>,
}

impl Graph {
    /// An object was added or changed.
    pub fn observe(&mut self, o: Observed) -> Vec<Work> {
        let mut work = Vec::new();
        self.live.insert(o.uid, o.key.res);
        if let Some(seen) = self.relisting.get_mut(&o.key.res) {
            seen.insert(o.uid);
        }
        let before = self.owners.get(&o.key).map(|(_, r)| r.clone());
        if before.as_ref() != Some(&o.owners) {
            self.unlink(&o.key);
            if !o.owners.is_empty() {
                for r in &o.owners {
                    self.dependents
                        .entry(r.uid)
                        .or_default()
                        .insert(o.key.clone());
                }
                self.owners.insert(o.key.clone(), (o.uid, o.owners.clone()));
            }
        }
        if !o.owners.is_empty() && !o.deleting && before.as_ref() != Some(&o.owners) {
            work.push(Work::CheckOwners(o.key.clone()));
        }
        let was_waiting = self.waiting.contains_key(&o.uid);
        if o.deleting && o.foreground {
            self.waiting.insert(o.uid, o.key.clone());
            work.push(Work::Foreground(o.key.clone(), o.uid));
            if !was_waiting {
                work.extend(self.dependent_checks(o.uid));
            }
        } else if was_waiting {
            self.waiting.remove(&o.uid);
        }
        if o.deleting && o.orphan {
            work.push(Work::Orphan(o.key.clone(), o.uid));
        }
        work
    }

    /// An object was deleted.
    pub fn forget(&mut self, key: &ObjKey, uid: Uid) -> Vec<Work> {
        self.live.remove(&uid);
        self.waiting.remove(&uid);
        let mut work: Vec<Work> = self
            .owners
            .get(key)
            .map(|(_, refs)| refs.iter().map(|r| r.uid).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| self.waiting.get(&u).map(|k| Work::Foreground(k.clone(), u)))
            .collect();
        self.unlink(key);
        work.extend(self.dependent_checks(uid));
        work
    }

    /// A watch of `res` lists again (after it expired): objects not seen again are gone.
    pub fn begin_relist(&mut self, res: ResId) {
        self.relisting.insert(res, HashSet::new());
    }

    /// The relist of `res` finished; everything of `res` not seen in it was deleted meanwhile.
    pub fn end_relist(&mut self, res: ResId) -> Vec<Work> {
        let Some(seen) = self.relisting.remove(&res) else {
            return Vec::new();
        };
        let gone: Vec<Uid> = self
            .live
            .iter()
            .filter(|(u, r)| **r == res && !seen.contains(u))
            .map(|(u, _)| *u)
            .collect();
        let mut work = Vec::new();
        for u in gone {
            let key = self
                .owners
                .iter()
                .find(|(_, (du, _))| *du == u)
                .map(|(k, _)| k.clone())
                .or_else(|| self.waiting.get(&u).cloned());
            match key {
                Some(k) => work.extend(self.forget(&k, u)),
                None => {
                    self.live.remove(&u);
                    work.extend(self.dependent_checks(u));
                }
            }
        }
        work
    }

    pub fn owner_state(&self, uid: Uid) -> OwnerState {
        if self.waiting.contains_key(&uid) {
            OwnerState::WaitingForDependents
        } else if self.live.contains_key(&uid) {
            OwnerState::Present
        } else {
            OwnerState::Unknown
        }
    }

    /// The ownerReferences of a dependent (None: it has none or is gone).
    pub fn owners_of(&self, key: &ObjKey) -> Option<&[OwnerRef]> {
        self.owners.get(key).map(|(_, r)| r.as_slice())
    }

    /// The uid of a dependent (an object with ownerReferences).
    pub fn dependent_uid(&self, key: &ObjKey) -> Option<Uid> {
        self.owners.get(key).map(|(u, _)| *u)
    }

    pub fn dependents_of(&self, uid: Uid) -> Vec<ObjKey> {
        let mut v: Vec<ObjKey> = self
            .dependents
            .get(&uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Every dependent and waiting owner: the work of a first full sync.
    pub fn all_work(&self) -> Vec<Work> {
        let mut work: Vec<Work> = self
            .owners
            .keys()
            .map(|k| Work::CheckOwners(k.clone()))
            .collect();
        work.extend(
            self.waiting
                .iter()
                .map(|(u, k)| Work::Foreground(k.clone(), *u)),
        );
        work
    }

    /// How many objects are indexed (live uids, dependents).
    pub fn sizes(&self) -> (usize, usize) {
        (self.live.len(), self.owners.len())
    }

    fn dependent_checks(&self, uid: Uid) -> Vec<Work> {
        self.dependents_of(uid)
            .into_iter()
            .map(Work::CheckOwners)
            .collect()
    }

    fn unlink(&mut self, key: &ObjKey) {
        if let Some((_, refs)) = self.owners.remove(key) {
            for r in refs {
                if let Some(set) = self.dependents.get_mut(&r.uid) {
                    set.remove(key);
                    if set.is_empty() {
                        self.dependents.remove(&r.uid);
                    }
                }
            }
        }
    }
}

/// What to do with a dependent, given the state of each of its owners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At least one owner is present and not waiting: keep it; drop references to owners that
    /// are gone (their uids).
    Keep { drop_refs: Vec<Uid> },
    /// Every owner is gone: delete it in the background.
    DeleteBackground,
    /// No owner is present except owners waiting for their dependents: delete it in the
    /// foreground (so its own dependents go first), as kube-controller-manager does.
    DeleteForeground,
}

/// Owner status as found (index or API) for [`verdict`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Present,
    Waiting,
    Gone,
}

/// kube-controller-manager's rule for a dependent (`attemptToDeleteItem`): solid owners keep it,
/// only dangling owners delete it, only waiting (and dangling) owners delete it in the foreground.
pub fn verdict(owners: &[(Uid, Found)]) -> Verdict {
    let gone: Vec<Uid> = owners
        .iter()
        .filter(|(_, f)| *f == Found::Gone)
        .map(|(u, _)| *u)
        .collect();
    let solid = owners.iter().any(|(_, f)| *f == Found::Present);
    let waiting = owners.iter().any(|(_, f)| *f == Found::Waiting);
    if solid {
        Verdict::Keep { drop_refs: gone }
    } else if waiting {
        Verdict::DeleteForeground
    } else {
        Verdict::DeleteBackground
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ObjKey {
        ObjKey {
            res: 1,
            namespace: Some("default".into()),
            name: name.into(),
        }
    }

    fn owned(name: &str, uid: Uid, owners: &[Uid]) -> Observed {
        Observed {
            key: key(name),
            uid,
            owners: owners
                .iter()
                .map(|u| OwnerRef {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name: format!("owner-{u}"),
                    uid: *u,
                    uid_text: u.to_string(),
                })
                .collect(),
            deleting: false,
            foreground: false,
            orphan: false,
        }
    }

    #[test]
    fn a_new_dependent_is_checked_once_and_an_unchanged_update_costs_nothing() {
        let mut g = Graph::default();
        assert!(g.observe(owned("owner", 1, &[])).is_empty());
        assert_eq!(
            g.observe(owned("dep", 2, &[1])),
            vec![Work::CheckOwners(key("dep"))]
        );
        assert!(g.observe(owned("dep", 2, &[1])).is_empty());
        assert_eq!(g.owner_state(1), OwnerState::Present);
        assert_eq!(g.dependents_of(1), vec![key("dep")]);
    }

    #[test]
    fn deleting_an_owner_checks_its_dependents() {
        let mut g = Graph::default();
        g.observe(owned("owner", 1, &[]));
        g.observe(owned("a", 2, &[1]));
        g.observe(owned("b", 3, &[1]));
        let work = g.forget(&key("owner"), 1);
        assert_eq!(
            work,
            vec![Work::CheckOwners(key("a")), Work::CheckOwners(key("b"))]
        );
        assert_eq!(g.owner_state(1), OwnerState::Unknown);
    }

    #[test]
    fn a_foreground_owner_waits_for_its_dependents_and_is_rechecked_as_they_go() {
        let mut g = Graph::default();
        g.observe(owned("a", 2, &[1]));
        let mut owner = owned("owner", 1, &[]);
        owner.deleting = true;
        owner.foreground = true;
        let work = g.observe(owner);
        assert_eq!(
            work,
            vec![
                Work::Foreground(key("owner"), 1),
                Work::CheckOwners(key("a"))
            ]
        );
        assert_eq!(g.owner_state(1), OwnerState::WaitingForDependents);
        assert_eq!(
            g.forget(&key("a"), 2),
            vec![Work::Foreground(key("owner"), 1)]
        );
        assert!(g.dependents_of(1).is_empty());
    }

    #[test]
    fn changed_owner_references_move_the_dependent_in_the_reverse_index() {
        let mut g = Graph::default();
        g.observe(owned("a", 2, &[1]));
        g.observe(owned("a", 2, &[5]));
        assert!(g.dependents_of(1).is_empty());
        assert_eq!(g.dependents_of(5), vec![key("a")]);
        g.observe(owned("a", 2, &[]));
        assert!(g.dependents_of(5).is_empty());
        assert_eq!(g.sizes(), (1, 0));
    }

    #[test]
    fn a_relist_finds_objects_deleted_while_the_watch_was_down() {
        let mut g = Graph::default();
        g.observe(owned("owner", 1, &[]));
        g.observe(owned("a", 2, &[1]));
        g.begin_relist(1);
        g.observe(owned("a", 2, &[1]));
        let work = g.end_relist(1);
        assert_eq!(work, vec![Work::CheckOwners(key("a"))]);
        assert_eq!(g.owner_state(1), OwnerState::Unknown);
    }

    #[test]
    fn verdicts_follow_kube_controller_manager() {
        use Found::*;
        assert_eq!(verdict(&[(1, Gone)]), Verdict::DeleteBackground);
        assert_eq!(
            verdict(&[(1, Gone), (2, Present)]),
            Verdict::Keep { drop_refs: vec![1] }
        );
        assert_eq!(
            verdict(&[(1, Waiting), (2, Gone)]),
            Verdict::DeleteForeground
        );
        assert_eq!(
            verdict(&[(1, Waiting), (2, Present)]),
            Verdict::Keep { drop_refs: vec![] }
        );
    }

    #[test]
    fn uuids_parse_and_other_uids_hash_stably() {
        let u = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        assert_eq!(uid_of(u), uuid::Uuid::parse_str(u).unwrap().as_u128());
        assert_eq!(uid_of("not-a-uuid"), uid_of("not-a-uuid"));
        assert_ne!(uid_of("a"), uid_of("b"));
    }
}
