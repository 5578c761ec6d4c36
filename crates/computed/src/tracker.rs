//! [`Tracker`]: a versioned view of one provider's objects.
//!
//! Each refresh (when the provider's generation moved) lists the provider, diffs the list against
//! the previous one and gives every ADDED/MODIFIED/DELETED change the next resourceVersion. The
//! first resourceVersion is the wall clock in microseconds, so versions keep increasing across a
//! restart and a client resuming with a version from an earlier process gets a clean 410 instead
//! of a silently wrong stream.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::{Provider, ProviderError, ResourceDescription, Scope};

/// Changes kept for watches resuming from an older resourceVersion.
pub const HISTORY: usize = 1024;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change, at its own resourceVersion.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub revision: u64,
    pub kind: ChangeKind,
    /// The new state (Deleted: the last state, with the deletion's resourceVersion). Shared with
    /// the snapshot, so the history costs memory only for superseded states.
    pub object: Arc<Value>,
    /// The state before (None for Added): lets a server see an object leave a selector.
    pub prev: Option<Arc<Value>>,
}

/// The objects at one resourceVersion, ordered by namespace and name.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub revision: u64,
    /// Shared with the tracker (no copy per read); objects of a global namespace shown in
    /// another one are the only new values.
    pub objects: Vec<Arc<Value>>,
}

/// Why a watch cannot start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WatchError {
    /// The requested resourceVersion is older than the kept history (410 Expired).
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Where a watch starts: the objects to send as ADDED (no resourceVersion asked), the changes
/// after the asked resourceVersion, and the live feed of later changes (subscribed atomically with
/// the rest, so nothing is missed or repeated).
pub struct WatchStart {
    pub initial: Vec<Value>,
    pub revision: u64,
    pub backlog: Vec<Arc<Change>>,
    pub live: broadcast::Receiver<Arc<Change>>,
}

struct Entry {
    /// As the provider returned it (compared to see a change).
    raw: Value,
    /// As served (apiVersion, kind, resourceVersion, uid, creationTimestamp filled).
    served: Arc<Value>,
}

struct State {
    /// The provider generation of the last list.
    generation: Option<u64>,
    revision: u64,
    /// The oldest resourceVersion a watch may resume from.
    oldest: u64,
    objects: BTreeMap<(String, String), Entry>,
    history: VecDeque<Arc<Change>>,
}

/// The versioned view of one provider shared by every request serving its resource.
pub struct Tracker {
    provider: Arc<dyn Provider>,
    description: ResourceDescription,
    generation: watch::Receiver<u64>,
    state: Mutex<State>,
    feed: broadcast::Sender<Arc<Change>>,
}

fn now_micros() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_microsecond()).unwrap_or(1)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Tracker {
    /// Tracks `provider` (its description is validated once, here).
    pub fn new(provider: Arc<dyn Provider>) -> Result<Arc<Tracker>, ProviderError> {
        let description = provider.describe();
        description.validate()?;
        let start = now_micros();
        Ok(Arc::new(Tracker {
            generation: provider.changes(),
            provider,
            description,
            state: Mutex::new(State {
                generation: None,
                revision: start,
                oldest: start,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
            }),
            feed: broadcast::channel(HISTORY).0,
        }))
    }

    pub fn description(&self) -> &ResourceDescription {
        &self.description
    }

    /// Lists the provider again if its generation moved since the last list.
    pub fn refresh(&self) -> Result<(), ProviderError> {
        let generation = *self.generation.borrow();
        let mut state = self.state.lock().expect("tracker lock");
        if state.generation == Some(generation) {
            return Ok(());
        }
        let listed = self.provider.list()?;
        let changes = self.apply(&mut state, listed)?;
        state.generation = Some(generation);
        for c in changes {
            let c = Arc::new(c);
            if state.history.len() == HISTORY
                && let Some(old) = state.history.pop_front()
            {
                state.oldest = old.revision;
            }
            state.history.push_back(c.clone());
            // No receiver is fine: nobody watches.
            let _ = self.feed.send(c);
        }
        Ok(())
    }

    /// The current objects (of one namespace, or all). A namespace's objects include those of
    /// the global namespaces (see [`ResourceDescription::global_namespaces`]), rewritten into it.
    pub fn snapshot(&self, namespace: Option<&str>) -> Result<Snapshot, ProviderError> {
        self.refresh()?;
        let state = self.state.lock().expect("tracker lock");
        let d = &self.description;
        let objects = match namespace {
            None => state.objects.values().map(|e| e.served.clone()).collect(),
            Some(want) => {
                let own = |ns: &String| ns == want;
                let mut names = std::collections::HashSet::new();
                let mut out: Vec<Arc<Value>> = state
                    .objects
                    .iter()
                    .filter(|((ns, _), _)| own(ns))
                    .map(|((_, name), e)| {
                        names.insert(name.clone());
                        e.served.clone()
                    })
                    .collect();
                for g in d.global_namespaces.iter().filter(|g| !own(g)) {
                    let from = (g.clone(), String::new());
                    for ((ns, name), e) in state.objects.range(from..) {
                        if ns != g {
                            break;
                        }
                        if names.insert(name.clone())
                            && let Some(v) = d.view(&e.served, Some(want))
                        {
                            out.push(Arc::new(v.into_owned()));
                        }
                    }
                }
                out
            }
        };
        Ok(Snapshot {
            revision: state.revision,
            objects,
        })
    }

    /// One object, if it exists (in `namespace` itself first, then in a global namespace).
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Result<Option<Value>, ProviderError> {
        self.refresh()?;
        let state = self.state.lock().expect("tracker lock");
        let key = (namespace.unwrap_or_default().to_string(), name.to_string());
        if let Some(e) = state.objects.get(&key) {
            return Ok(Some(Value::clone(&e.served)));
        }
        let Some(want) = namespace else {
            return Ok(None);
        };
        Ok(self
            .description
            .global_namespaces
            .iter()
            .filter(|g| g.as_str() != want)
            .find_map(|g| state.objects.get(&(g.clone(), name.to_string())))
            .and_then(|e| self.description.view(&e.served, Some(want)))
            .map(|v| v.into_owned()))
    }

    /// Starts a watch: from `from` (replaying the kept changes after it), or, with `None`, with
    /// every current object.
    pub fn watch(&self, from: Option<u64>) -> Result<WatchStart, WatchError> {
        self.refresh()?;
        let state = self.state.lock().expect("tracker lock");
        let live = self.feed.subscribe();
        let (initial, backlog) = match from {
            None => (
                state
                    .objects
                    .values()
                    .map(|e| Value::clone(&e.served))
                    .collect(),
                Vec::new(),
            ),
            Some(rv) if rv < state.oldest => {
                return Err(WatchError::Expired {
                    requested: rv,
                    oldest: state.oldest,
                });
            }
            Some(rv) => (
                Vec::new(),
                state
                    .history
                    .iter()
                    .filter(|c| c.revision > rv)
                    .cloned()
                    .collect(),
            ),
        };
        Ok(WatchStart {
            initial,
            revision: state.revision,
            backlog,
            live,
        })
    }

    /// Refreshes whenever the provider's change feed moves, so watchers see changes without any
    /// read, until `shutdown` or until the provider drops its feed.
    pub async fn follow(self: Arc<Self>, shutdown: CancellationToken) {
        let mut rx = self.generation.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // An error reaches the next reader too (served as a Status there).
                    let _ = self.refresh();
                }
            }
        }
    }

    /// Diffs a new list against the state; returns the changes, each at its own revision.
    fn apply(&self, state: &mut State, listed: Vec<Value>) -> Result<Vec<Change>, ProviderError> {
        let mut next: BTreeMap<(String, String), Value> = BTreeMap::new();
        for raw in listed {
            let key = self.key_of(&raw)?;
            next.insert(key, raw);
        }
        let mut changes = Vec::new();
        let old = std::mem::take(&mut state.objects);
        let mut kept = BTreeMap::new();
        for (key, raw) in next {
            match old.get(&key) {
                Some(e) if e.raw == raw => {
                    kept.insert(
                        key,
                        Entry {
                            raw,
                            served: e.served.clone(),
                        },
                    );
                }
                prev => {
                    state.revision += 1;
                    let served =
                        Arc::new(self.serve(&raw, prev.map(|e| e.served.as_ref()), state.revision));
                    changes.push(Change {
                        revision: state.revision,
                        kind: if prev.is_some() {
                            ChangeKind::Modified
                        } else {
                            ChangeKind::Added
                        },
                        object: served.clone(),
                        prev: prev.map(|e| e.served.clone()),
                    });
                    kept.insert(key, Entry { raw, served });
                }
            }
        }
        for (key, e) in old {
            if kept.contains_key(&key) {
                continue;
            }
            state.revision += 1;
            let mut last = Value::clone(&e.served);
            last["metadata"]["resourceVersion"] = Value::String(state.revision.to_string());
            changes.push(Change {
                revision: state.revision,
                kind: ChangeKind::Deleted,
                object: Arc::new(last),
                prev: Some(e.served),
            });
        }
        state.objects = kept;
        Ok(changes)
    }

    /// The (namespace, name) of a provider's object; refuses objects a server cannot address.
    fn key_of(&self, raw: &Value) -> Result<(String, String), ProviderError> {
        let d = &self.description;
        let name = meta_str(raw, "name");
        let ns = meta_str(raw, "namespace");
        let invalid = |why: &str| {
            Err(ProviderError::Invalid(format!(
                "the provider of {}.{} returned an object {why}: {}",
                d.plural,
                d.group,
                raw.get("metadata").cloned().unwrap_or_default()
            )))
        };
        if name.is_empty() {
            return invalid("without metadata.name");
        }
        match (d.scope, ns.is_empty()) {
            (Scope::Namespaced, true) => invalid("without metadata.namespace"),
            (Scope::Cluster, false) => {
                invalid("with a metadata.namespace (the resource is cluster-scoped)")
            }
            _ => Ok((ns.to_string(), name.to_string())),
        }
    }

    /// The object as served: apiVersion, kind, resourceVersion, and a uid and creationTimestamp
    /// kept from its previous state (or made now) when the provider sets none.
    fn serve(&self, raw: &Value, prev: Option<&Value>, revision: u64) -> Value {
        let d = &self.description;
        let mut out = Map::new();
        out.insert("apiVersion".into(), Value::String(d.api_version()));
        out.insert("kind".into(), Value::String(d.kind.clone()));
        let mut meta = raw
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let keep_or = |meta: &mut Map<String, Value>, field: &str, make: &dyn Fn() -> String| {
            if meta
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                let v = prev
                    .map(|p| meta_str(p, field).to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(make);
                meta.insert(field.into(), Value::String(v));
            }
        };
        keep_or(&mut meta, "uid", &|| uuid::Uuid::new_v4().to_string());
        keep_or(&mut meta, "creationTimestamp", &|| {
            jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
                .map(|t| t.to_string())
                .unwrap_or_default()
        });
        meta.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
        out.insert("metadata".into(), Value::Object(meta));
        if let Some(fields) = raw.as_object() {
            for (k, v) in fields {
                if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChangeFeed;
    use serde_json::json;

    struct Fake {
        objects: Mutex<Vec<Value>>,
        feed: ChangeFeed,
    }

    impl Fake {
        fn set(&self, objects: Vec<Value>) {
            *self.objects.lock().unwrap() = objects;
            self.feed.notify();
        }
    }

    impl Provider for Fake {
        fn describe(&self) -> ResourceDescription {
            ResourceDescription {
                group: "packages.example.com".into(),
                version: "v1".into(),
                kind: "Package".into(),
                plural: "packages".into(),
                singular: "package".into(),
                short_names: vec![],
                categories: vec![],
                scope: Scope::Namespaced,
                schema: json!({"type": "object"}),
                printer_columns: vec![],
                global_namespaces: vec!["global".into()],
            }
        }
        fn list(&self) -> Result<Vec<Value>, ProviderError> {
            Ok(self.objects.lock().unwrap().clone())
        }
        fn changes(&self) -> watch::Receiver<u64> {
            self.feed.subscribe()
        }
    }

    fn pkg(name: &str, channel: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns"}, "status": {"channel": channel}})
    }

    fn fake(objects: Vec<Value>) -> (Arc<Fake>, Arc<Tracker>) {
        let f = Arc::new(Fake {
            objects: Mutex::new(objects),
            feed: ChangeFeed::new(),
        });
        let t = Tracker::new(f.clone()).unwrap();
        (f, t)
    }

    #[test]
    fn objects_are_served_with_kind_version_and_stable_uid() {
        let (f, t) = fake(vec![pkg("a", "stable")]);
        let s = t.snapshot(None).unwrap();
        let a = &s.objects[0];
        assert_eq!(a["apiVersion"], "packages.example.com/v1");
        assert_eq!(a["kind"], "Package");
        assert_eq!(a["metadata"]["resourceVersion"], s.revision.to_string());
        let uid = a["metadata"]["uid"].as_str().unwrap().to_string();
        f.set(vec![pkg("a", "beta")]);
        let b = t.get(Some("ns"), "a").unwrap().unwrap();
        assert_eq!(b["metadata"]["uid"], uid.as_str());
        assert_eq!(b["status"]["channel"], "beta");
        assert!(t.get(Some("other"), "a").unwrap().is_none());
    }

    #[test]
    fn a_watch_from_a_revision_replays_each_change_once_with_increasing_versions() {
        let (f, t) = fake(vec![pkg("a", "stable"), pkg("b", "stable")]);
        let start = t.snapshot(None).unwrap().revision;
        f.set(vec![pkg("a", "beta"), pkg("c", "stable")]);
        let w = t.watch(Some(start)).unwrap();
        let seen: Vec<_> = w
            .backlog
            .iter()
            .map(|c| (c.kind, meta_str(&c.object, "name").to_string(), c.revision))
            .collect();
        assert_eq!(
            seen,
            [
                (ChangeKind::Modified, "a".to_string(), start + 1),
                (ChangeKind::Added, "c".to_string(), start + 2),
                (ChangeKind::Deleted, "b".to_string(), start + 3),
            ]
        );
        assert_eq!(w.revision, start + 3);
        // Nothing changed: a refresh with the same generation makes no change.
        f.feed.notify();
        t.refresh().unwrap();
        assert_eq!(t.snapshot(None).unwrap().revision, start + 3);
        assert!(t.watch(Some(start + 3)).unwrap().backlog.is_empty());
    }

    #[test]
    fn live_changes_reach_a_watch_started_before_them() {
        let (f, t) = fake(vec![]);
        let mut w = t.watch(None).unwrap();
        assert!(w.initial.is_empty());
        f.set(vec![pkg("a", "stable")]);
        t.refresh().unwrap();
        let c = w.live.try_recv().unwrap();
        assert_eq!(c.kind, ChangeKind::Added);
        assert_eq!(c.object["metadata"]["name"], "a");
    }

    #[test]
    fn a_revision_older_than_the_history_is_expired() {
        let (f, t) = fake(vec![]);
        let start = t.snapshot(None).unwrap().revision;
        assert!(matches!(
            t.watch(Some(start - 1)),
            Err(WatchError::Expired { .. })
        ));
        for i in 0..=HISTORY {
            f.set(vec![pkg("a", &i.to_string())]);
            t.refresh().unwrap();
        }
        assert!(matches!(
            t.watch(Some(start)),
            Err(WatchError::Expired { .. })
        ));
        let current = t.snapshot(None).unwrap().revision;
        assert_eq!(t.watch(Some(current - 10)).unwrap().backlog.len(), 10);
    }

    #[test]
    fn objects_a_server_cannot_address_are_refused_with_their_metadata() {
        let (f, t) = fake(vec![json!({"metadata": {"name": "x"}})]);
        let e = t.snapshot(None).unwrap_err().to_string();
        assert!(e.contains("without metadata.namespace"), "{e}");
        f.set(vec![]);
        assert!(t.snapshot(None).unwrap().objects.is_empty());
    }

    fn in_ns(name: &str, ns: &str, channel: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": ns}, "status": {"channel": channel}})
    }

    #[test]
    fn global_namespace_objects_show_in_every_namespace_without_copies() {
        let (_f, t) = fake(vec![
            in_ns("shared", "global", "stable"),
            in_ns("clash", "global", "from-global"),
            in_ns("clash", "team", "from-team"),
            in_ns("local", "team", "stable"),
        ]);
        // All namespaces: each object once, where it lives.
        let all = t.snapshot(None).unwrap().objects;
        assert_eq!(all.len(), 4);
        // A namespace: its own objects, then the global ones rewritten into it (its own win).
        let team = t.snapshot(Some("team")).unwrap().objects;
        let seen: Vec<(&str, &str, &str)> = team
            .iter()
            .map(|o| {
                (
                    meta_str(o, "name"),
                    meta_str(o, "namespace"),
                    o["status"]["channel"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("clash", "team", "from-team"),
                ("local", "team", "stable"),
                ("shared", "team", "stable"),
            ]
        );
        // Any namespace, even one nobody listed before, sees the global objects.
        let elsewhere = t.get(Some("anywhere"), "shared").unwrap().unwrap();
        assert_eq!(elsewhere["metadata"]["namespace"], "anywhere");
        assert_eq!(t.snapshot(Some("anywhere")).unwrap().objects.len(), 2);
        assert!(t.get(Some("anywhere"), "local").unwrap().is_none());
        // The global namespace itself: its own objects, once.
        assert_eq!(t.snapshot(Some("global")).unwrap().objects.len(), 2);
    }

    #[test]
    fn descriptions_in_a_builtin_group_are_refused() {
        let mut d = Fake {
            objects: Mutex::new(vec![]),
            feed: ChangeFeed::new(),
        }
        .describe();
        d.group = "apps".into();
        assert!(d.validate().unwrap_err().to_string().contains("group"));
    }
}
