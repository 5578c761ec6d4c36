//! The on-disk layout (one SQLite file per cluster) and the SQL every other module uses.
//!
//! Tables:
//! - `objects(resource, namespace, name, revision, value)`: the current state, primary key
//!   `(resource, namespace, name)` (a `WITHOUT ROWID` b-tree, so lists come out in key order).
//! - `events(revision, seq, resource, namespace, name, kind, object, prev, at)`: watch history, one row
//!   per changed object, primary key `(revision, seq)`. Bounded by compaction (see `store.rs`).
//!   Replays of one resource read the revision range of the primary key and skip other
//!   resources' rows (at most the retained history, and usually a few rows: watches start near
//!   the current revision). There is deliberately no `(resource, revision)` index: it was one more
//!   b-tree page written and fsynced with every commit (a 256-byte ConfigMap create wrote 8.0 WAL
//!   frames with it, 6.9 without: 14% fewer bytes to fsync), a cost paid by every write for the
//!   rare replay from far back; files that have it lose it on open.
//! - `meta(key, value)`: `revision` (last committed revision) and `compacted` (every event with a
//!   revision `<= compacted` was removed; watches must start at or after it).
//!
//! The connection runs in WAL mode with `synchronous=FULL`: a commit returns after the WAL is
//! fsynced, readers see consistent snapshots and never block the writer.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::Value;

use crate::error::StoreError;
use crate::types::{Event, EventKind, Key, ListPage, ListQuery, Stored};

/// Bumped when the layout changes; a newer file is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS objects (
    resource  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    revision  INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    resource  TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    object    TEXT NOT NULL,
    prev      TEXT,
    at        INTEGER NOT NULL,
    PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
DROP INDEX IF EXISTS events_by_resource;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);
";

fn configure(conn: &Connection, what: &str) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(StoreError::db(format!(
            "setting the busy timeout of the {what}"
        )))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(StoreError::db(format!("switching the {what} to WAL mode")))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt {
            what: what.to_string(),
            reason: format!("SQLite refused WAL journal mode (got {mode:?})"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(StoreError::db(format!(
            "setting synchronous=FULL on the {what}"
        )))?;
    Ok(())
}

/// Opens (creating if absent) the writer connection and makes sure the schema is there.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn =
        Connection::open(path).map_err(StoreError::db(format!("opening {}", path.display())))?;
    configure(&conn, "writer connection")?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::db("reading the schema version"))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Corrupt {
            what: path.display().to_string(),
            reason: format!(
                "schema version {version} is newer than this binary's {SCHEMA_VERSION}"
            ),
        });
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))
    .map_err(StoreError::db("creating the schema"))?;
    Ok(conn)
}

/// Opens a reader connection (queries only).
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(StoreError::db(format!(
        "opening a reader on {}",
        path.display()
    )))?;
    configure(&conn, "reader connection")?;
    conn.pragma_update(None, "query_only", true)
        .map_err(StoreError::db("making a reader connection query-only"))?;
    Ok(conn)
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<u64, StoreError> {
    let v: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |r| r.get(0)))
        .map_err(StoreError::db(format!("reading meta {key}")))?;
    Ok(v as u64)
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: u64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")
        .and_then(|mut s| s.execute(params![key, value as i64]))
        .map_err(StoreError::db(format!("writing meta {key}")))?;
    Ok(())
}

pub(crate) fn count_events(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .map_err(StoreError::db("counting watch history"))?;
    Ok(n as u64)
}

pub(crate) fn parse(what: &dyn Fn() -> String, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what(),
        reason: format!("stored JSON does not parse: {e}"),
    })
}

pub(crate) fn get(conn: &Connection, key: &Key) -> Result<Option<Stored>, StoreError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT revision, value FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![key.resource, key.namespace, key.name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
        .map_err(StoreError::db(format!("reading {key}")))?;
    match row {
        None => Ok(None),
        Some((rev, text)) => Ok(Some(Stored {
            value: parse(&|| key.to_string(), &text)?,
            revision: rev as u64,
        })),
    }
}

/// One page of a list, read on `conn` (the caller provides the snapshot); `revision` is stamped on
/// the page as is.
pub(crate) fn list(
    conn: &Connection,
    q: &ListQuery,
    revision: u64,
) -> Result<ListPage, StoreError> {
    list_matching(conn, q, revision, &mut |_| true, &Undo::new())
}

/// Like `list`, keeping only objects `keep` accepts; `q.limit` counts kept objects. `more` is true
/// when rows (matching or not) follow the last kept object.
/// `undo` holds, for objects changed after `revision`, their state at `revision` (`None`: absent
/// then), as [`states_before`] computes; empty for a list of the current state.
pub(crate) fn list_matching(
    conn: &Connection,
    q: &ListQuery,
    revision: u64,
    keep: &mut dyn FnMut(&serde_json::Value) -> bool,
    undo: &Undo,
) -> Result<ListPage, StoreError> {
    let mut page = PageBuilder {
        items: Vec::new(),
        more: false,
        last: None,
        limit: q.limit.filter(|n| *n > 0),
        keep,
    };
    scan(conn, q, undo, &mut |item| page.offer(q, item))?;
    Ok(ListPage {
        more: page.more,
        next: if page.more { page.last } else { None },
        items: page.items,
        revision,
    })
}

/// One object as a scan visits it: its key, revision and stored JSON text (unparsed).
#[derive(Clone, Copy, Debug)]
pub struct RawObject<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub revision: u64,
    /// The stored JSON document (`metadata.resourceVersion` is `revision`).
    pub json: &'a str,
}

/// Visits the objects of `q` (namespace and `start_after` applied, `limit` ignored) in key order,
/// on `conn`'s snapshot, with the changes `undo` records undone; stops early when `visit` answers
/// `Ok(false)`. Rows are handed over as stored: nothing is parsed here.
pub(crate) fn scan(
    conn: &Connection,
    q: &ListQuery,
    undo: &Undo,
    visit: &mut dyn FnMut(RawObject<'_>) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    // Four statements rather than `?x IS NULL OR ...`, so SQLite seeks the primary key directly.
    let sql = match (q.namespace.is_some(), q.start_after.is_some()) {
        (false, false) => {
            "SELECT revision, value, namespace, name FROM objects WHERE resource = ?1
             ORDER BY namespace, name"
        }
        (true, false) => {
            "SELECT revision, value, namespace, name FROM objects WHERE resource = ?1 AND namespace = ?2
             ORDER BY namespace, name"
        }
        (false, true) => {
            "SELECT revision, value, namespace, name FROM objects
             WHERE resource = ?1 AND (namespace, name) > (?3, ?4)
             ORDER BY namespace, name"
        }
        (true, true) => {
            "SELECT revision, value, namespace, name FROM objects
             WHERE resource = ?1 AND namespace = ?2 AND (namespace, name) > (?3, ?4)
             ORDER BY namespace, name"
        }
    };
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(StoreError::db("preparing a list"))?;
    let (after_ns, after_name) = match &q.start_after {
        Some((ns, name)) => (ns.as_str(), name.as_str()),
        None => ("", ""),
    };
    let ns = q.namespace.as_deref().unwrap_or("");
    let bound = (|| {
        stmt.raw_bind_parameter(1, &q.resource)?;
        if q.namespace.is_some() {
            stmt.raw_bind_parameter(2, ns)?;
        }
        if q.start_after.is_some() {
            stmt.raw_bind_parameter(3, after_ns)?;
            stmt.raw_bind_parameter(4, after_name)?;
        }
        Ok::<_, rusqlite::Error>(())
    })();
    bound.map_err(StoreError::db("binding list parameters"))?;
    let mut rows = stmt.raw_query();
    // Objects changed since the snapshot's revision are taken from `undo`, merged in key order.
    let mut pending = undo.iter().peekable();
    let err = || StoreError::db(format!("listing {}", q.resource));
    let row_err = || StoreError::db("reading a list row");
    'rows: while let Some(row) = rows.next().map_err(err())? {
        let (row_ns, row_name) = (row_text(row, 2)?, row_text(row, 3)?);
        while let Some((uk, _)) = pending.peek()
            && (uk.0.as_str(), uk.1.as_str()) <= (row_ns, row_name)
        {
            let (uk, old) = pending.next().expect("peeked");
            if let Some(old) = old
                && !visit(old.raw(uk))?
            {
                return Ok(());
            }
            if (uk.0.as_str(), uk.1.as_str()) == (row_ns, row_name) {
                continue 'rows;
            }
        }
        let rev: i64 = row.get(0).map_err(row_err())?;
        let item = RawObject {
            namespace: row_ns,
            name: row_name,
            revision: rev as u64,
            json: row_text(row, 1)?,
        };
        if !visit(item)? {
            return Ok(());
        }
    }
    for (uk, old) in pending {
        if let Some(old) = old
            && !visit(old.raw(uk))?
        {
            break;
        }
    }
    Ok(())
}

/// The objects of one page, in key order, until `limit` kept objects.
struct PageBuilder<'a> {
    items: Vec<Stored>,
    more: bool,
    last: Option<(String, String)>,
    limit: Option<usize>,
    keep: &'a mut dyn FnMut(&Value) -> bool,
}

impl PageBuilder<'_> {
    fn full(&self) -> bool {
        self.limit.is_some_and(|n| self.items.len() == n)
    }

    /// Considers one object; `false` (and `more`) when the page was already full.
    fn offer(&mut self, q: &ListQuery, o: RawObject<'_>) -> Result<bool, StoreError> {
        if self.full() {
            self.more = true;
            return Ok(false);
        }
        let what = || Key::new(q.resource.clone(), o.namespace, o.name).to_string();
        let value = parse(&what, o.json)?;
        self.last = Some((o.namespace.to_string(), o.name.to_string()));
        if (self.keep)(&value) {
            self.items.push(Stored {
                value,
                revision: o.revision,
            });
        }
        Ok(true)
    }
}

/// An object's state at a past revision, as its watch history recorded it.
#[derive(Clone, Debug)]
pub(crate) struct PastState {
    revision: u64,
    json: String,
}

impl PastState {
    fn raw<'a>(&'a self, key: &'a (String, String)) -> RawObject<'a> {
        RawObject {
            namespace: &key.0,
            name: &key.1,
            revision: self.revision,
            json: &self.json,
        }
    }
}

/// Object key → its state at a past revision (`None`: it did not exist then).
pub(crate) type Undo = BTreeMap<(String, String), Option<PastState>>;

/// For every object of `q` (namespace and `start_after` applied) changed after revision `at`: its
/// state at `at` (`None` if it did not exist then), from the `prev` of its first later event.
pub(crate) fn states_before(
    conn: &Connection,
    q: &ListQuery,
    at: u64,
    current: u64,
) -> Result<Undo, StoreError> {
    // Only the keys and the states before each key's first later change are needed: the new
    // states are not read, and a key's later events are not parsed.
    let mut stmt = conn
        .prepare_cached(
            "SELECT namespace, name, prev FROM events
             WHERE resource = ?1 AND revision > ?2 AND revision <= ?3
             ORDER BY revision, seq",
        )
        .map_err(StoreError::db("preparing a list at a past revision"))?;
    let mut rows = stmt
        .query(params![q.resource, at as i64, current as i64])
        .map_err(StoreError::db(format!(
            "undoing later changes of {}",
            q.resource
        )))?;
    let mut out = Undo::new();
    let row_err = || StoreError::db("reading a history row");
    while let Some(row) = rows.next().map_err(row_err())? {
        let k: (String, String) = (
            row.get(0).map_err(row_err())?,
            row.get(1).map_err(row_err())?,
        );
        if q.namespace.as_ref().is_some_and(|ns| *ns != k.0)
            || q.start_after.as_ref().is_some_and(|after| k <= *after)
            || out.contains_key(&k)
        {
            continue;
        }
        let before = match row
            .get_ref(2)
            .and_then(|v| v.as_str_or_null().map_err(Into::into))
            .map_err(row_err())?
        {
            None => None,
            Some(text) => {
                let what = || format!("watch history of {} {:?}/{:?}", q.resource, k.0, k.1);
                let value = parse(&what, text)?;
                Some(PastState {
                    revision: value
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    json: text.to_string(),
                })
            }
        };
        out.insert(k, before);
    }
    Ok(out)
}

pub(crate) fn resources(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT DISTINCT resource FROM objects ORDER BY resource")
        .map_err(StoreError::db("listing resources"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(StoreError::db("listing resources"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::db("listing resources"))
}

/// Inserts a new object; `AlreadyExists` when its key is taken.
pub(crate) fn insert_object(
    conn: &Connection,
    key: &Key,
    revision: u64,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO objects (resource, namespace, name, revision, value) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![key.resource, key.namespace, key.name, revision as i64, text])
    })
    .map_err(|e| match e {
        // The primary key is taken: the object exists (the statement alone is undone).
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::AlreadyExists { key: key.clone() }
        }
        e => StoreError::db(format!("creating {key}"))(e),
    })?;
    Ok(())
}

pub(crate) fn update_object(
    conn: &Connection,
    key: &Key,
    revision: u64,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE objects SET revision = ?4, value = ?5 WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![key.resource, key.namespace, key.name, revision as i64, text])
    })
    .map_err(StoreError::db(format!("updating {key}")))?;
    Ok(())
}

pub(crate) fn delete_object(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3")
        .and_then(|mut s| s.execute(params![key.resource, key.namespace, key.name]))
        .map_err(StoreError::db(format!("deleting {key}")))?;
    Ok(())
}

/// Records `ev` in the history; `object_text`: `ev.object` already serialized, if at hand.
pub(crate) fn insert_event(
    conn: &Connection,
    seq: usize,
    ev: &Event,
    object_text: Option<&str>,
    at_millis: i64,
) -> Result<(), StoreError> {
    let object = match object_text {
        Some(t) => std::borrow::Cow::Borrowed(t),
        None => std::borrow::Cow::Owned(ev.object.to_string()),
    };
    let prev = ev.prev.as_ref().map(Value::to_string);
    conn.prepare_cached(
        "INSERT INTO events (revision, seq, resource, namespace, name, kind, object, prev, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            ev.revision as i64,
            seq as i64,
            ev.key.resource,
            ev.key.namespace,
            ev.key.name,
            ev.kind.code(),
            object,
            prev,
            at_millis
        ])
    })
    .map_err(StoreError::db(format!(
        "recording the watch event for {}",
        ev.key
    )))?;
    Ok(())
}

/// Events of `resource` with `from < revision <= to`, in order.
pub(crate) fn events(
    conn: &Connection,
    resource: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT revision, namespace, name, kind, object, prev FROM events
             WHERE resource = ?1 AND revision > ?2 AND revision <= ?3
             ORDER BY revision, seq",
        )
        .map_err(StoreError::db("preparing a history replay"))?;
    let mut rows = stmt
        .query(params![resource, from as i64, to as i64])
        .map_err(StoreError::db(format!(
            "replaying the history of {resource}"
        )))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::db(format!(
        "replaying the history of {resource}"
    )))? {
        let get_err = StoreError::db("reading a history row");
        let (revision, ns, name, kind, object, prev) = (|| {
            Ok::<_, rusqlite::Error>((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        })()
        .map_err(get_err)?;
        let key = Key::new(resource, ns, name);
        let what = || format!("watch history of {key} at revision {revision}");
        let kind = EventKind::from_code(kind).ok_or_else(|| StoreError::Corrupt {
            what: what(),
            reason: format!("unknown event kind {kind}"),
        })?;
        let object = parse(&what, &object)?;
        let prev = prev.map(|p| parse(&what, &p)).transpose()?;
        out.push(Event {
            revision: revision as u64,
            kind,
            key,
            object,
            prev,
            encodings: Default::default(),
        });
    }
    Ok(out)
}

/// Column `i` of `row` as text.
fn row_text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, StoreError> {
    row.get_ref(i)
        .and_then(|v| v.as_str().map_err(Into::into))
        .map_err(StoreError::db("reading a list row"))
}
