//! Plain value types of the store's API: keys, stored objects, list queries and pages, watch events.
//! No I/O here.

use std::fmt;
use std::sync::Mutex;

use bytes::Bytes;
use serde_json::Value;

/// Identity of one stored object. Every field is compared byte for byte (case-sensitive); names may
/// contain any characters, including `.`, `-` and `:` (RBAC names such as `system:controller:foo`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// `"<group>/<plural>"` for grouped resources (`"apps/deployments"`, `"example.com/widgets"`),
    /// the bare plural for the core group (`"configmaps"`). One revision counter covers all of them.
    pub resource: String,
    /// `""` for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(
        resource: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Key {
        Key {
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// A cluster-scoped key (empty namespace).
    pub fn cluster(resource: impl Into<String>, name: impl Into<String>) -> Key {
        Key::new(resource, "", name)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {:?}", self.resource, self.name)
        } else {
            write!(
                f,
                "{} {:?} in namespace {:?}",
                self.resource, self.name, self.namespace
            )
        }
    }
}

/// One object as stored: its JSON value (with `metadata.resourceVersion` set to `revision` as a
/// decimal string) and the revision that last changed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub value: Value,
    pub revision: u64,
}

/// What to list: one resource, optionally one namespace, in `(namespace, name)` byte order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub resource: String,
    /// `None`: all namespaces (and cluster-scoped objects, whose namespace is `""`).
    pub namespace: Option<String>,
    /// Resume strictly after this `(namespace, name)` (the last item of the previous page).
    pub start_after: Option<(String, String)>,
    /// At most this many items; `None` or `Some(0)`: no limit.
    pub limit: Option<usize>,
}

impl ListQuery {
    pub fn all(resource: impl Into<String>) -> ListQuery {
        ListQuery {
            resource: resource.into(),
            ..ListQuery::default()
        }
    }

    pub fn in_namespace(resource: impl Into<String>, namespace: impl Into<String>) -> ListQuery {
        ListQuery {
            resource: resource.into(),
            namespace: Some(namespace.into()),
            ..ListQuery::default()
        }
    }
}

/// One page of a list. `revision` is the cluster revision the page was read at (a consistent
/// snapshot: every item's revision is `<= revision`). `more`: further items follow the last one.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    pub items: Vec<Stored>,
    pub revision: u64,
    pub more: bool,
    /// When `more`: the `(namespace, name)` key of the last object examined, to resume after
    /// (`ListQuery::start_after`). Taken from the stored key, not from the value.
    pub next: Option<(String, String)>,
}

impl ListPage {
    /// The `start_after` to put in the query for the next page, when there is one.
    pub fn next_start(&self) -> Option<(String, String)> {
        self.next.clone()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub(crate) fn code(self) -> i64 {
        match self {
            EventKind::Added => 0,
            EventKind::Modified => 1,
            EventKind::Deleted => 2,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<EventKind> {
        match code {
            0 => Some(EventKind::Added),
            1 => Some(EventKind::Modified),
            2 => Some(EventKind::Deleted),
            _ => None,
        }
    }

    /// The Kubernetes watch event type: `ADDED`, `MODIFIED`, `DELETED`.
    pub fn as_k8s(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One change of one object. Several events may share a revision (one multi-object transaction);
/// they then come in the order the transaction first touched their keys.
/// Compared (and cloned) without its [`Encodings`].
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub revision: u64,
    pub kind: EventKind,
    pub key: Key,
    /// Added/Modified: the new state. Deleted: the last state, with `metadata.resourceVersion`
    /// set to the deletion revision (what Kubernetes sends in a DELETED event).
    pub object: Value,
    /// The state before this revision (`None` for Added), with its own resourceVersion. Lets the
    /// API server see an object leave a label/field selector.
    pub prev: Option<Value>,
    /// Encodings of this event made by its consumers, shared by every watcher it fans out to.
    pub encodings: Encodings,
}

/// Byte encodings of one [`Event`], each made once by the first consumer that needs it and then
/// shared (a watch event serialized once for all the watchers that send the same bytes). Keyed by
/// whatever the consumer chooses (the store does not interpret keys or bytes). Clones and
/// comparisons ignore it: it is a cache.
#[derive(Default)]
pub struct Encodings(Mutex<Vec<(String, Bytes)>>);

impl Encodings {
    /// The encoding under `key`, made by `encode` if no one made it yet. Concurrent callers for
    /// the same event wait for the first one's result instead of encoding it again.
    pub fn get_or_encode(&self, key: &str, encode: impl FnOnce() -> Bytes) -> Bytes {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, b)) = all.iter().find(|(k, _)| k == key) {
            return b.clone();
        }
        let b = encode();
        all.push((key.to_string(), b.clone()));
        b
    }

    /// How many encodings were made (for tests).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Clone for Encodings {
    fn clone(&self) -> Self {
        Encodings::default()
    }
}

impl PartialEq for Encodings {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Encodings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encodings({})", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoding_is_made_once_per_key_and_shared() {
        let e = Encodings::default();
        let mut made = 0;
        let a = e.get_or_encode("json", || {
            made += 1;
            Bytes::from_static(b"one")
        });
        let b = e.get_or_encode("json", || {
            made += 1;
            Bytes::from_static(b"two")
        });
        assert_eq!(
            (a.as_ref(), b.as_ref(), made),
            (&b"one"[..], &b"one"[..], 1)
        );
        assert_eq!(e.get_or_encode("table", || Bytes::from_static(b"t")), "t");
        assert_eq!(e.len(), 2);
        assert!(e.clone().is_empty(), "a clone starts without the cache");
    }
}
