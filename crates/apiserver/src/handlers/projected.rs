//! Projected resources: stored, namespaced objects that a `computed::Projection` (registered per
//! cluster and resource with `ControlPlane::register_projection`) also shows in other namespaces,
//! as copies computed on read (OLM's copied CSVs). This module knows nothing of what is
//! projected; it only applies the projection to what it reads:
//!
//! - list (one namespace or `-A`): the stored objects plus, in each existing namespace, the
//!   copies of the originals whose targets contain it — an object stored there under the same
//!   name wins. Selectors apply to the copies as to stored objects (a label selector is checked
//!   once per original: copies differ only in namespace and uid). Items come in `(namespace,
//!   name)` order, one namespace at a time, so an unpaged list streams without holding the copies
//!   and `limit`/`continue` page through the same order (a token names the last item).
//! - get: the stored object, else the copy.
//! - watch: a stored object's events, plus for an original's event the ADDED/MODIFIED/DELETED of
//!   its copy in each namespace in scope whose visibility it touches (computed one namespace at a
//!   time); initial events include the copies. An object stored over a copy replaces it
//!   (MODIFIED), and its deletion shows the copy again (MODIFIED). A namespace created during
//!   the watch shows its copies (ADDED); one deleted (or terminating) loses them (DELETED).
//! - update, patch, delete of a copy: refused (405) naming the original.
//!
//! A read whose label selector requires the absence of the projection's `copy_label` (how
//! controllers that ignore copies read) is served as if there were no projection.
//!
//! A namespace being deleted shows no copies (its contents can be deleted). Nothing is stored
//! per namespace, and per request the memory is the originals, the namespace
//! names and one namespace's items.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use apimachinery::labels::{Operator, Selector};
use axum::response::Response;
use computed::{Projection, Targets};
use serde_json::{Value, json};
use store::{EventKind, ListQuery, StoreError};

use super::Ctx;
use super::read::{Continue, Selectors, decode_continue, encode_continue};
use crate::cluster::{blocking, store_error};
use crate::error::{ApiError, ApiResult};

/// The projection of `ctx`'s resource, when it has one (namespaced resources only).
pub fn projection_of(ctx: &Ctx) -> Option<Arc<dyn Projection>> {
    if !ctx.info.namespaced() {
        return None;
    }
    let proj = ctx.cluster.projection(&ctx.info.resource_key())?;
    if let Some(label) = proj.copy_label()
        && excludes_label(ctx.query.label_selector.as_deref(), label)
    {
        return None;
    }
    Some(proj)
}

/// Whether a label selector requires `label` to be absent (`!label`), so no copy can match.
fn excludes_label(selector: Option<&str>, label: &str) -> bool {
    let Some(sel) = selector.and_then(|s| Selector::parse(s).ok()) else {
        return false;
    };
    sel.requirements()
        .iter()
        .any(|r| r.key == label && r.operator == Operator::DoesNotExist)
}

/// A stored object shown in other namespaces.
#[derive(Clone)]
pub(crate) struct Source {
    ns: String,
    name: String,
    targets: Targets,
    /// Shared: sources are cloned into per-event work.
    prototype: Arc<Value>,
    uid: String,
    /// The request's label selector accepts its copies (they differ only in namespace and uid).
    labels_ok: bool,
}

impl Source {
    fn new(proj: &dyn Projection, obj: &Value, sel: Option<&Selectors>) -> Option<Source> {
        let targets = proj.targets(obj);
        if targets.is_none() {
            return None;
        }
        let meta = &obj["metadata"];
        let prototype = proj.prototype(obj);
        let labels_ok = sel.is_none_or(|s| s.labels.matches_object(&prototype));
        Some(Source {
            ns: meta["namespace"].as_str().unwrap_or_default().to_string(),
            name: meta["name"].as_str().unwrap_or_default().to_string(),
            targets,
            uid: meta["uid"].as_str().unwrap_or_default().to_string(),
            prototype: Arc::new(prototype),
            labels_ok,
        })
    }

    fn shown_in(&self, ns: &str) -> bool {
        self.targets.contains(&self.ns, ns)
    }

    /// The copy in `ns`.
    fn copy_in(&self, ns: &str) -> Value {
        let mut c = (*self.prototype).clone();
        c["metadata"]["namespace"] = json!(ns);
        c["metadata"]["uid"] = json!(copy_uid(&self.uid, ns));
        c
    }

    /// The copy in `ns` if the request's selectors accept it.
    fn selected_copy(&self, ns: &str, sel: Option<&Selectors>) -> Option<Value> {
        if !self.labels_ok {
            return None;
        }
        let c = self.copy_in(ns);
        sel.is_none_or(|s| s.fields.matches(&c)).then_some(c)
    }
}

/// A stable uid for the copy of the object `uid` in `ns` (a v4-shaped UUID from two FNV-1a
/// hashes: the same across restarts and builds, so an object a copy owns keeps its owner).
fn copy_uid(uid: &str, ns: &str) -> String {
    let h = |salt: u8| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [salt]
            .iter()
            .chain(uid.as_bytes())
            .chain(&[0])
            .chain(ns.as_bytes())
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let (x, y) = (h(1), h(2));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        y >> 52,
        y & 0xffff_ffff_ffff
    )
}

/// What a projected read sees at one revision: the stored objects in scope, the originals shown
/// elsewhere, the existing namespaces in scope.
pub(crate) struct Snapshot {
    stored: BTreeMap<(String, String), Value>,
    sources: Vec<Source>,
    existing: Arc<BTreeSet<String>>,
    /// The namespaces a list visits, sorted: existing ones and those with stored objects.
    visit: Vec<String>,
    pub revision: u64,
}

/// Whether a stored Namespace is being deleted: it shows no copies then, so deleting its
/// contents (the namespace controller lists and deletes everything in it) never meets a copy.
fn terminating(namespace_json: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Ns {
        metadata: Meta,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "deletionTimestamp")]
        deletion: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Ns>(namespace_json).is_ok_and(|n| n.metadata.deletion.is_some())
}

/// Reads the resource (all namespaces: originals may be anywhere) and the namespaces in scope
/// (`Some(ns)`: that one; for all namespaces, those from `from_ns` on, where a continued list
/// resumes) at revision `at` (else the current one).
fn load(
    ctx: &Ctx,
    proj: &Arc<dyn Projection>,
    scope: Option<&str>,
    from_ns: Option<&str>,
    at: Option<u64>,
    sel: Option<&Selectors>,
) -> Result<Snapshot, StoreError> {
    let store = &ctx.cluster.store;
    let q = ListQuery::all(ctx.info.resource_key());
    let page = match at {
        Some(at) => store.list_matching_at(&q, at, |_| true)?,
        None => store.list_matching(&q, |_| true)?,
    };
    let revision = page.revision;
    let mut existing = BTreeSet::new();
    match scope {
        Some(ns) => {
            if let Some(s) = store.get(&store::Key::cluster("namespaces", ns))?
                && s.value["metadata"]["deletionTimestamp"].is_null()
            {
                existing.insert(ns.to_string());
            }
        }
        None => {
            // Names from the keys; a namespace's document is only scanned for its deletion.
            store.scan(
                &ListQuery::all("namespaces"),
                Some(revision),
                |_| {},
                |o| {
                    if from_ns.is_none_or(|f| o.name >= f) && !terminating(o.json) {
                        existing.insert(o.name.to_string());
                    }
                    true
                },
            )?;
        }
    }
    let mut stored = BTreeMap::new();
    let mut sources = Vec::new();
    for s in page.items {
        if let Some(src) = Source::new(proj.as_ref(), &s.value, sel) {
            sources.push(src);
        }
        let key = key_of(&s.value);
        if scope.is_none_or(|ns| ns == key.0) {
            stored.insert(key, s.value);
        }
    }
    let mut visit: BTreeSet<String> = existing.iter().cloned().collect();
    visit.extend(stored.keys().map(|(ns, _)| ns.clone()));
    Ok(Snapshot {
        stored,
        sources,
        existing: Arc::new(existing),
        visit: visit.into_iter().collect(),
        revision,
    })
}

impl Snapshot {
    /// The objects shown in `ns` after the name `after`, selected, in name order.
    fn items_in(&self, ns: &str, after: Option<&str>, sel: Option<&Selectors>) -> Vec<Value> {
        let later = |name: &str| after.is_none_or(|a| name > a);
        let mut out: BTreeMap<String, Value> = self
            .stored
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .filter(|((_, name), v)| later(name) && sel.is_none_or(|s| s.matches(v)))
            .map(|((_, name), v)| (name.clone(), v.clone()))
            .collect();
        if self.existing.contains(ns) {
            for src in &self.sources {
                if !src.labels_ok
                    || !src.shown_in(ns)
                    || !later(&src.name)
                    || out.contains_key(&src.name)
                    || self
                        .stored
                        .contains_key(&(ns.to_string(), src.name.clone()))
                {
                    continue;
                }
                if let Some(c) = src.selected_copy(ns, sel) {
                    out.insert(src.name.clone(), c);
                }
            }
        }
        out.into_values().collect()
    }

    /// The copy named `name` shown in `ns` (nothing being stored there under that name).
    fn copy_named(&self, ns: &str, name: &str) -> Option<(&Source, Value)> {
        if !self.existing.contains(ns) || self.stored.contains_key(&(ns.into(), name.into())) {
            return None;
        }
        self.sources
            .iter()
            .find(|s| s.name == name && s.shown_in(ns))
            .map(|s| (s, s.copy_in(ns)))
    }
}

/// A position in a snapshot's `(namespace, name)` order.
pub(crate) struct Cursor {
    snap: Snapshot,
    sel: Option<Selectors>,
    next_ns: usize,
    after: Option<(String, String)>,
    pending: VecDeque<Value>,
}

impl Cursor {
    fn new(snap: Snapshot, sel: Option<Selectors>, after: Option<(String, String)>) -> Cursor {
        let next_ns = match &after {
            Some((ns, _)) => snap.visit.partition_point(|n| n < ns),
            None => 0,
        };
        Cursor {
            snap,
            sel,
            next_ns,
            after,
            pending: VecDeque::new(),
        }
    }
}

impl Iterator for Cursor {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(v) = self.pending.pop_front() {
                return Some(v);
            }
            let ns = self.snap.visit.get(self.next_ns)?;
            self.next_ns += 1;
            let after = self
                .after
                .as_ref()
                .filter(|(a, _)| a == ns)
                .map(|(_, name)| name.as_str());
            self.pending = self.snap.items_in(ns, after, self.sel.as_ref()).into();
        }
    }
}

fn key_of(v: &Value) -> (String, String) {
    let m = &v["metadata"];
    let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
    (s("namespace"), s("name"))
}

fn load_error(ctx: &Ctx, e: StoreError, resume: Option<(String, String)>) -> ApiError {
    match (e, resume) {
        (StoreError::Expired { .. }, Some((ns, name))) => ApiError::ExpiredContinue {
            continue_token: encode_continue(&Continue { rv: -1, ns, name }),
        },
        (e, _) => store_error(e, &ctx.info, ""),
    }
}

/// GET a collection of a projected resource.
pub async fn list(
    ctx: Ctx,
    proj: Arc<dyn Projection>,
    sel: Selectors,
    mut at: Option<u64>,
) -> ApiResult<Response> {
    let mut start = None;
    if let Some(tok) = &ctx.query.continue_token {
        let c = decode_continue(tok)?;
        at = u64::try_from(c.rv).ok();
        start = Some((c.ns, c.name));
    }
    let snap = {
        let (c, sel_for_load) = (ctx.clone(), Selectors::parse(&ctx)?);
        let from_ns = start.as_ref().map(|(ns, _)| ns.clone());
        blocking(move || {
            let scope = c.namespace.as_deref();
            load(
                &c,
                &proj,
                scope,
                from_ns.as_deref(),
                at,
                Some(&sel_for_load),
            )
        })
        .await
        .map_err(|e| load_error(&ctx, e, start.clone()))?
    };
    let revision = snap.revision;
    let mut cursor = Cursor::new(snap, Some(sel), start);
    let Some(limit) = ctx.query.limit.filter(|l| *l > 0) else {
        return Ok(super::read::stream::serve_values(ctx, revision, cursor));
    };
    let items: Vec<Value> = cursor.by_ref().take(limit).collect();
    let token = match (items.last(), cursor.next()) {
        (Some(last), Some(_)) => {
            let (ns, name) = key_of(last);
            Some(encode_continue(&Continue {
                rv: revision as i64,
                ns,
                name,
            }))
        }
        _ => None,
    };
    Ok(super::read::page_response(&ctx, items, revision, token))
}

/// The copy `ctx` names (no object being stored under that name), or `None`.
pub async fn get_copy(ctx: &Ctx, proj: Arc<dyn Projection>) -> ApiResult<Option<Value>> {
    let (Some(ns), Some(name)) = (ctx.namespace.clone(), ctx.name.clone()) else {
        return Ok(None);
    };
    let c = ctx.clone();
    blocking(move || {
        let snap = load(&c, &proj, Some(&ns), None, None, None)?;
        Ok(snap.copy_named(&ns, &name).map(|(_, v)| v))
    })
    .await
    .map_err(|e| store_error(e, &ctx.info, ctx.name.as_deref().unwrap_or_default()))
}

/// Refuses a write (`verb`) to an object `ctx` names when it is a copy (nothing stored there).
pub async fn refuse_write_to_copy(ctx: &Ctx, verb: &str) -> ApiResult<()> {
    let Some(proj) = projection_of(ctx) else {
        return Ok(());
    };
    let (Some(ns), Some(name)) = (ctx.namespace.clone(), ctx.name.clone()) else {
        return Ok(());
    };
    let c = ctx.clone();
    let original = blocking(move || -> Result<Option<(String, String)>, StoreError> {
        if c.cluster.store.get(&c.key(&name))?.is_some() {
            return Ok(None);
        }
        let snap = load(&c, &proj, Some(&ns), None, None, None)?;
        Ok(snap
            .copy_named(&ns, &name)
            .map(|(s, _)| (s.ns.clone(), s.name.clone())))
    })
    .await
    .map_err(|e| store_error(e, &ctx.info, ctx.name.as_deref().unwrap_or_default()))?;
    match original {
        None => Ok(()),
        Some((orig_ns, orig_name)) => Err(ApiError::Other {
            code: 405,
            reason: "MethodNotAllowed".into(),
            message: format!(
                "{} {:?} in namespace {:?} is a copy of {} {orig_name} in namespace {orig_ns}, shown here and computed on read; it cannot be changed ({verb}): change or delete the original in namespace {orig_ns}",
                ctx.info.group_resource(),
                ctx.name.as_deref().unwrap_or_default(),
                ctx.namespace.as_deref().unwrap_or_default(),
                ctx.info.kind,
            ),
            causes: Vec::new(),
        }),
    }
}

/// A watch's initial objects and its view of the originals, for [`ProjectedEvents`].
pub(crate) async fn watch_start(
    ctx: &Ctx,
    proj: Arc<dyn Projection>,
    send_initial: bool,
    from: Option<u64>,
) -> ApiResult<(Cursor, ProjectedEvents, u64)> {
    let c = ctx.clone();
    let p = proj.clone();
    let snap = blocking(move || {
        let sel = Selectors::parse(&c).ok();
        let scope = c.namespace.clone();
        match load(&c, &p, scope.as_deref(), None, from, sel.as_ref()) {
            // A watch resuming from a compacted revision: the store watch reports the expiry.
            Err(StoreError::Expired { .. }) => {
                load(&c, &p, scope.as_deref(), None, None, sel.as_ref())
            }
            r => r,
        }
    })
    .await
    .map_err(|e| store_error(e, &ctx.info, ""))?;
    let revision = snap.revision;
    let events = ProjectedEvents {
        proj,
        scope: ctx.namespace.clone(),
        stored: snap.stored.keys().cloned().collect(),
        sources: snap
            .sources
            .iter()
            .map(|s| ((s.ns.clone(), s.name.clone()), s.clone()))
            .collect(),
        existing: snap.existing.clone(),
        pending: None,
        pending_ns: None,
    };
    let mut cursor = Cursor::new(snap, Selectors::parse(ctx).ok(), None);
    if !send_initial {
        cursor.next_ns = usize::MAX;
    }
    Ok((cursor, events, revision))
}

/// Namespaces an original's event touches, visited one at a time.
enum Candidates {
    All(Arc<BTreeSet<String>>, Option<String>),
    List(std::vec::IntoIter<String>),
}

impl Iterator for Candidates {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match self {
            Candidates::All(set, last) => {
                let next = match last {
                    None => set.iter().next(),
                    Some(l) => set
                        .range::<String, _>((
                            std::ops::Bound::Excluded(l.clone()),
                            std::ops::Bound::Unbounded,
                        ))
                        .next(),
                }
                .cloned();
                last.clone_from(&next);
                next
            }
            Candidates::List(it) => it.next(),
        }
    }
}

/// An original's event being turned into its copies' events.
struct Expansion {
    name: String,
    /// The event's resourceVersion (a DELETED copy carries it).
    rv: Value,
    before: Option<Source>,
    after: Option<Source>,
    candidates: Candidates,
}

/// Turns a watch's store events into the events of the copies they change.
pub(crate) struct ProjectedEvents {
    proj: Arc<dyn Projection>,
    scope: Option<String>,
    /// Stored objects in scope (they win over copies).
    stored: BTreeSet<(String, String)>,
    /// The originals shown elsewhere, by `(namespace, name)`.
    sources: BTreeMap<(String, String), Source>,
    existing: Arc<BTreeSet<String>>,
    pending: Option<Expansion>,
    /// The copies appearing in (or leaving) a namespace, after a Namespace event.
    pending_ns: Option<NamespaceChange>,
}

/// A namespace that started or stopped showing copies, and the copies still to announce.
struct NamespaceChange {
    ns: String,
    shown: bool,
    /// The Namespace event's resourceVersion (a DELETED copy carries it).
    rv: Value,
    sources: std::vec::IntoIter<Source>,
}

/// A watch event: its type and object (a copy, or a stored object).
pub(crate) type Projected = (&'static str, Value);

impl ProjectedEvents {
    fn in_scope(&self, ns: &str) -> bool {
        self.scope.as_deref().is_none_or(|s| s == ns)
    }

    /// The copy visible at `(ns, name)` (selected), if one is shown there.
    fn visible_copy(&self, ns: &str, name: &str, sel: &Selectors) -> Option<Value> {
        if !self.existing.contains(ns) {
            return None;
        }
        self.sources
            .values()
            .find(|s| s.name == name && s.shown_in(ns))
            .and_then(|s| s.selected_copy(ns, Some(sel)))
    }

    /// Takes a store event. `Some(type)`: what the stored object's own event becomes in scope
    /// (`None` from the caller's usual rules), possibly replaced by a copy; the copies' events
    /// follow from [`ProjectedEvents::next`].
    pub(crate) fn take(
        &mut self,
        ev: &store::Event,
        sel: &Selectors,
        own: Option<&'static str>,
    ) -> Option<Projected> {
        let (ns, name) = (ev.key.namespace.clone(), ev.key.name.clone());
        let deleted = ev.kind == EventKind::Deleted;
        let before = ev
            .prev
            .as_ref()
            .and_then(|p| Source::new(self.proj.as_ref(), p, Some(sel)));
        let after = (!deleted)
            .then(|| Source::new(self.proj.as_ref(), &ev.object, Some(sel)))
            .flatten();
        let key = (ns.clone(), name.clone());
        match &after {
            Some(s) => {
                self.sources.insert(key.clone(), s.clone());
            }
            None => {
                self.sources.remove(&key);
            }
        }
        let mut own_line = own.map(|t| (t, ev.object.clone()));
        if self.in_scope(&ns) {
            match ev.kind {
                EventKind::Added => {
                    let shadowed = self.visible_copy(&ns, &name, sel);
                    self.stored.insert(key.clone());
                    if let Some(mut c) = shadowed {
                        own_line = Some(match own {
                            // The client knew the copy: the stored object replaces it.
                            Some(_) => ("MODIFIED", ev.object.clone()),
                            None => {
                                c["metadata"]["resourceVersion"] =
                                    ev.object["metadata"]["resourceVersion"].clone();
                                ("DELETED", c)
                            }
                        });
                    }
                }
                EventKind::Deleted => {
                    self.stored.remove(&key);
                    if let Some(c) = self.visible_copy(&ns, &name, sel) {
                        // The copy shows again in place of the deleted object.
                        let ty = if own.is_some() { "MODIFIED" } else { "ADDED" };
                        own_line = Some((ty, c));
                    }
                }
                EventKind::Modified => {}
            }
        }
        let targets_all = |s: &Option<Source>| {
            s.as_ref()
                .is_some_and(|s| matches!(s.targets, Targets::All))
        };
        let candidates = if let Some(scope) = &self.scope {
            Candidates::List(vec![scope.clone()].into_iter())
        } else if targets_all(&before) || targets_all(&after) {
            Candidates::All(self.existing.clone(), None)
        } else {
            let mut set = BTreeSet::new();
            for s in before.iter().chain(after.iter()) {
                if let Targets::Some(list) = &s.targets {
                    set.extend(list.iter().cloned());
                }
            }
            Candidates::List(set.into_iter().collect::<Vec<_>>().into_iter())
        };
        if before.is_some() || after.is_some() {
            self.pending = Some(Expansion {
                name,
                rv: ev.object["metadata"]["resourceVersion"].clone(),
                before,
                after,
                candidates,
            });
        }
        own_line
    }

    /// Takes an event of a Namespace: a namespace that starts to exist shows its copies (ADDED),
    /// one deleted or terminating stops showing them (DELETED); announced by
    /// [`ProjectedEvents::next`].
    pub(crate) fn take_namespace(&mut self, ev: &store::Event) {
        let ns = ev.key.name.clone();
        if !self.in_scope(&ns) {
            return;
        }
        let shown =
            ev.kind != EventKind::Deleted && ev.object["metadata"]["deletionTimestamp"].is_null();
        if shown == self.existing.contains(&ns) {
            return;
        }
        let existing = Arc::make_mut(&mut self.existing);
        if shown {
            existing.insert(ns.clone());
        } else {
            existing.remove(&ns);
        }
        let mut names = BTreeSet::new();
        let sources: Vec<Source> = self
            .sources
            .values()
            .filter(|s| {
                s.labels_ok
                    && s.shown_in(&ns)
                    && !self.stored.contains(&(ns.clone(), s.name.clone()))
                    && names.insert(s.name.clone())
            })
            .cloned()
            .collect();
        self.pending_ns = Some(NamespaceChange {
            ns,
            shown,
            rv: ev.object["metadata"]["resourceVersion"].clone(),
            sources: sources.into_iter(),
        });
    }

    /// The next copy event of the event taken last.
    pub(crate) fn next(&mut self, sel: &Selectors) -> Option<Projected> {
        if let Some(x) = self.pending_ns.as_mut() {
            for src in x.sources.by_ref() {
                if let Some(mut c) = src.selected_copy(&x.ns, Some(sel)) {
                    if x.shown {
                        return Some(("ADDED", c));
                    }
                    c["metadata"]["resourceVersion"] = x.rv.clone();
                    return Some(("DELETED", c));
                }
            }
            self.pending_ns = None;
        }
        let x = self.pending.as_mut()?;
        for ns in x.candidates.by_ref() {
            if !self.existing.contains(&ns) || self.stored.contains(&(ns.clone(), x.name.clone())) {
                continue;
            }
            let was = x
                .before
                .as_ref()
                .filter(|s| s.shown_in(&ns))
                .and_then(|s| s.selected_copy(&ns, Some(sel)));
            let is = x
                .after
                .as_ref()
                .filter(|s| s.shown_in(&ns))
                .and_then(|s| s.selected_copy(&ns, Some(sel)));
            match (was, is) {
                (Some(_), Some(c)) => return Some(("MODIFIED", c)),
                (None, Some(c)) => return Some(("ADDED", c)),
                (Some(mut c), None) => {
                    c["metadata"]["resourceVersion"] = x.rv.clone();
                    return Some(("DELETED", c));
                }
                (None, None) => {}
            }
        }
        self.pending = None;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::excludes_label;

    #[test]
    fn only_a_selector_requiring_the_copy_label_absent_skips_the_projection() {
        let l = "olm.copiedFrom";
        assert!(excludes_label(Some("!olm.copiedFrom"), l));
        assert!(excludes_label(Some("app=x,!olm.copiedFrom"), l));
        assert!(!excludes_label(None, l));
        assert!(!excludes_label(Some("olm.copiedFrom"), l));
        assert!(!excludes_label(Some("olm.copiedFrom=ns"), l));
        assert!(!excludes_label(Some("!other"), l));
        assert!(!excludes_label(Some("not a selector!!"), l));
    }
}
