//! `Txn`: the body of one atomic write. It reads and writes the database directly inside the
//! writer's open SQLite transaction (so it sees its own writes), and remembers, per key, the state
//! before it first touched it; `finish` turns that into the watch events of its revision (one per
//! changed key: created-then-deleted keys produce nothing, create-then-update is one ADDED).

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::Value;

use crate::db;
use crate::error::StoreError;
use crate::types::{Event, EventKind, Key, ListPage, ListQuery, Stored};

struct Touched {
    key: Key,
    /// State before this transaction (with its own resourceVersion).
    before: Option<Value>,
    /// State now.
    now: Option<Value>,
    /// `now` as stored (serialized once, reused for the watch history row).
    now_text: Option<String>,
    /// Last existing state (for the DELETED event's object).
    last: Option<Value>,
}

/// One atomic transaction. Every object it changes gets the same new revision, [`Txn::revision`].
pub struct Txn<'a> {
    conn: &'a Connection,
    revision: u64,
    touched: Vec<Touched>,
    index: HashMap<Key, usize>,
}

/// Sets `metadata.resourceVersion` to `rev` (a decimal string), creating `metadata` if absent.
pub fn set_resource_version(key: &Key, value: &mut Value, rev: u64) -> Result<(), StoreError> {
    let Value::Object(obj) = value else {
        return Err(StoreError::Invalid {
            key: key.clone(),
            reason: "the value must be a JSON object".into(),
        });
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(meta) = meta else {
        return Err(StoreError::Invalid {
            key: key.clone(),
            reason: "`metadata` must be a JSON object".into(),
        });
    };
    meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
    Ok(())
}

impl<'a> Txn<'a> {
    pub(crate) fn new(conn: &'a Connection, revision: u64) -> Txn<'a> {
        Txn {
            conn,
            revision,
            touched: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The revision this transaction commits at (if it changes anything).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The current state, including this transaction's own changes.
    pub fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        db::get(self.conn, key)
    }

    /// Like [`crate::Store::list`], seeing this transaction's own changes. The page's revision is
    /// the one before this transaction.
    pub fn list(&self, q: &ListQuery) -> Result<ListPage, StoreError> {
        db::list(self.conn, q, self.revision - 1)
    }

    fn touch(&mut self, key: &Key, before: &Option<Stored>) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let before = before.as_ref().map(|s| s.value.clone());
        self.touched.push(Touched {
            key: key.clone(),
            last: before.clone(),
            now: before.clone(),
            now_text: None,
            before,
        });
        self.index.insert(key.clone(), self.touched.len() - 1);
        self.touched.len() - 1
    }

    /// Creates `key`; `AlreadyExists` if it exists. Returns the stored object (resourceVersion set).
    pub fn create(&mut self, key: &Key, mut value: Value) -> Result<Stored, StoreError> {
        if key.resource.is_empty() || key.name.is_empty() {
            return Err(StoreError::Invalid {
                key: key.clone(),
                reason: "the resource and the name must not be empty".into(),
            });
        }
        set_resource_version(key, &mut value, self.revision)?;
        let text = value.to_string();
        // No read first: the insert itself fails on an existing key (one b-tree descent less).
        db::insert_object(self.conn, key, self.revision, &text)?;
        let i = self.touch(key, &None);
        self.touched[i].now = Some(value.clone());
        self.touched[i].now_text = Some(text);
        self.touched[i].last = Some(value.clone());
        Ok(Stored {
            value,
            revision: self.revision,
        })
    }

    /// Replaces `key`. `expected`: the resourceVersion the caller read (precondition), `None` for an
    /// unconditional update. `NotFound` if absent, `Conflict` if it moved on. An update that changes
    /// nothing but the resourceVersion is a no-op (no new revision, no event), as in Kubernetes.
    pub fn update(
        &mut self,
        key: &Key,
        mut value: Value,
        expected: Option<u64>,
    ) -> Result<Stored, StoreError> {
        let current =
            db::get(self.conn, key)?.ok_or_else(|| StoreError::NotFound { key: key.clone() })?;
        if let Some(expected) = expected
            && expected != current.revision
        {
            return Err(StoreError::Conflict {
                key: key.clone(),
                expected,
                current: current.revision,
            });
        }
        set_resource_version(key, &mut value, current.revision)?;
        if value == current.value {
            return Ok(current);
        }
        set_resource_version(key, &mut value, self.revision)?;
        let text = value.to_string();
        db::update_object(self.conn, key, self.revision, &text)?;
        let i = self.touch(key, &Some(current));
        self.touched[i].now = Some(value.clone());
        self.touched[i].now_text = Some(text);
        self.touched[i].last = Some(value.clone());
        Ok(Stored {
            value,
            revision: self.revision,
        })
    }

    /// Deletes `key` (precondition as for `update`). Returns the last state with its
    /// resourceVersion set to this deletion's revision.
    pub fn delete(&mut self, key: &Key, expected: Option<u64>) -> Result<Stored, StoreError> {
        let current =
            db::get(self.conn, key)?.ok_or_else(|| StoreError::NotFound { key: key.clone() })?;
        if let Some(expected) = expected
            && expected != current.revision
        {
            return Err(StoreError::Conflict {
                key: key.clone(),
                expected,
                current: current.revision,
            });
        }
        db::delete_object(self.conn, key)?;
        let mut gone = current.value.clone();
        let i = self.touch(key, &Some(current));
        self.touched[i].now = None;
        self.touched[i].now_text = None;
        set_resource_version(key, &mut gone, self.revision)?;
        Ok(Stored {
            value: gone,
            revision: self.revision,
        })
    }

    /// True if nothing was changed (so far).
    pub fn is_empty(&self) -> bool {
        self.touched
            .iter()
            .all(|t| t.before.is_none() && t.now.is_none())
    }

    /// The events of this transaction, in first-touch order, each with its object's stored text
    /// when the transaction wrote it (so the history row need not serialize it again).
    pub(crate) fn finish(self) -> Result<Vec<(Event, Option<String>)>, StoreError> {
        let mut out = Vec::with_capacity(self.touched.len());
        for t in self.touched {
            let (kind, object, prev, text) = match (t.before, t.now) {
                (None, None) => continue,
                (None, Some(now)) => (EventKind::Added, now, None, t.now_text),
                (Some(before), Some(now)) => (EventKind::Modified, now, Some(before), t.now_text),
                (Some(before), None) => {
                    let mut last = t.last.unwrap_or_else(|| before.clone());
                    set_resource_version(&t.key, &mut last, self.revision)?;
                    (EventKind::Deleted, last, Some(before), None)
                }
            };
            out.push((
                Event {
                    revision: self.revision,
                    kind,
                    key: t.key,
                    object,
                    prev,
                    encodings: Default::default(),
                },
                text,
            ));
        }
        Ok(out)
    }
}
