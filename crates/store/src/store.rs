//! `Store`: opening, reads, group-committed writes, and watch-history compaction.
//!
//! ## Writes and group commit
//! One writer connection behind a mutex. A write takes the mutex, opens the SQLite transaction of
//! the current *group* if none is open (`BEGIN IMMEDIATE`), and runs its body inside a `SAVEPOINT`
//! at revision `last + 1`: if the body fails, the savepoint is rolled back and nothing of it
//! remains. If other writers are already queued for the mutex, it leaves the group open and waits;
//! the last writer of the group (no one queued, or `max_group` reached) commits it with one fsync
//! and wakes the others. Each write still has its own revision and its own all-or-nothing
//! semantics; they just share the fsync. `write` returns only after the group's `COMMIT` returned
//! (WAL + `synchronous=FULL`: the WAL is on disk), so an acknowledged write survives `kill -9`.
//! Waiting writers watch a separate completion lock, not the writer lock: they return as soon as
//! their group is durable, not after the next group (which holds the writer lock) commits too.
//! With one client a group is one write; with 16 clients groups grow to about 16.
//!
//! ## Checkpoints
//! SQLite's automatic checkpoint (copying the WAL back into the database file, with an fsync of
//! the database) would run inside a group's `COMMIT`, so every writer of that group would wait for
//! it. The writer connection instead counts WAL pages with a WAL hook (which replaces the automatic
//! checkpoint) and, after a group is committed and its writers released, the committing writer runs
//! a passive checkpoint once [`CHECKPOINT_PAGES`] pages accumulated, still holding the writer lock
//! so no write interleaves and the WAL can restart from its beginning (overwriting the file's
//! blocks is far cheaper to fsync than growing it).
//!
//! ## Watch-history compaction (how the history stays bounded)
//! Each committed change is also a row in `events`. When a group commits and the table holds more
//! than `history + history/8` rows (the slack amortises the delete), the oldest whole revisions are
//! deleted until at most `history` rows remain; if `history_max_age` is set, revisions older than
//! that are deleted too (checked at most every `min(10 s, max_age/4)`). The highest deleted revision is recorded as
//! `compacted`, in the same transaction. A watch from `from < compacted` gets
//! `StoreError::Expired`; any `from >= compacted` is replayed exactly, before and after a restart.
//! Revisions are never reused: the counter lives in `meta`, untouched by compaction or deletes.

use std::collections::BTreeMap;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

use crate::db::{self, RawObject};
use crate::error::StoreError;
use crate::txn::Txn;
use crate::types::{Event, Key, ListPage, ListQuery, Stored};
use crate::watch::{Hub, Watch, WatchFilter};

/// WAL pages after which a checkpoint runs (SQLite's own automatic checkpoint default).
pub const CHECKPOINT_PAGES: i64 = 1000;

/// Tuning of one store. `Default` suits an API server.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Watch events kept for resumption (rows of history; compaction keeps at most this many, plus
    /// 1/8 slack between compactions). Default 10,000.
    pub history: usize,
    /// Also drop history older than this. Default: none (count only).
    pub history_max_age: Option<Duration>,
    /// Live events buffered per watcher before it counts as fallen behind (it then catches up from
    /// the persisted history). Default 1,024.
    pub watch_buffer: usize,
    /// Most writes committed by one fsync. Default 256.
    pub max_group: usize,
    /// Idle reader connections kept open. Default 8.
    pub max_idle_readers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            history: 10_000,
            history_max_age: None,
            watch_buffer: 1024,
            max_group: 256,
            max_idle_readers: 8,
        }
    }
}

/// The durable object store of one cluster. Cheap to clone (shared state inside); `Send + Sync`.
///
/// All methods but [`Watch::next`] block the calling thread (SQLite I/O, fsync on writes). From
/// async code call them through `tokio::task::spawn_blocking` (reads are short; writes wait for an
/// fsync).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    path: PathBuf,
    pub(crate) opts: StoreOptions,
    writer: Mutex<Writer>,
    /// Which groups finished, for the writers waiting on them. Separate from `writer` so that a
    /// finished group's writers return at once instead of queueing for the writer lock behind the
    /// next group's commit (and its fsync).
    completion: Mutex<Completion>,
    group_done: Condvar,
    /// Writers queued for `writer` (so the current one knows to leave its group open).
    queued: AtomicUsize,
    readers: Mutex<Vec<Connection>>,
    pub(crate) hub: Mutex<Hub>,
    committed: AtomicU64,
    compacted: AtomicU64,
    /// Held (flock) while the store is open: one `Store` per file.
    _lock: File,
}

struct Writer {
    conn: Connection,
    /// A group transaction is open.
    open: bool,
    /// Id of the current (or last) group.
    group: u64,
    /// Writes with changes in the open group.
    members: usize,
    /// Last revision handed out (committed, or pending in the open group).
    revision: u64,
    /// Events of the open group, published when it commits.
    pending: Vec<Arc<Event>>,
    event_rows: u64,
    compacted: u64,
    last_age_check: Option<Instant>,
    /// Pages in the WAL after the last commit (set by the WAL hook).
    wal_pages: Arc<AtomicI64>,
    /// `wal_pages` when the last checkpoint ran.
    checkpointed_at: i64,
}

/// Finished groups. Lock order: `writer`, then `completion`.
struct Completion {
    /// The last group finished (committed or failed).
    done: u64,
    /// Failed groups (id → reason), for the writers waiting on them; only the last few are kept.
    failed: BTreeMap<u64, String>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens the store in the SQLite file `path`, creating it (and its parent directories) if
    /// absent. A lock file `<path>.lock` keeps a second opener out until this store is dropped (or
    /// the process dies). Open [`Watch`]es keep the store open too: drop them (end their streams)
    /// before reopening the same file in the same process.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.to_path_buf(),
                context: "creating the store's directory",
                source,
            })?;
        }
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Io {
                path: lock_path.clone(),
                context: "opening the lock file",
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    context: "locking the store",
                    source,
                });
            }
        }
        let mut conn = db::open_writer(path)?;
        let wal_pages = Arc::new(AtomicI64::new(0));
        let hook_pages = wal_pages.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
            hook_pages.store(i64::from(pages), Ordering::Relaxed);
            Ok(())
        }))
        .map_err(StoreError::db("installing the WAL hook"))?;
        let revision = db::meta(&conn, "revision")?;
        let compacted = db::meta(&conn, "compacted")?;
        let event_rows = db::count_events(&conn)?;
        let inner = Inner {
            path: path.to_path_buf(),
            writer: Mutex::new(Writer {
                conn,
                open: false,
                group: 0,
                members: 0,
                revision,
                pending: Vec::new(),
                event_rows,
                compacted,
                last_age_check: None,
                wal_pages,
                checkpointed_at: 0,
            }),
            completion: Mutex::new(Completion {
                done: 0,
                failed: BTreeMap::new(),
            }),
            group_done: Condvar::new(),
            queued: AtomicUsize::new(0),
            readers: Mutex::new(Vec::new()),
            hub: Mutex::new(Hub::new(revision)),
            committed: AtomicU64::new(revision),
            compacted: AtomicU64::new(compacted),
            opts,
            _lock: lock,
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Bytes the store occupies on disk: the database file and its write-ahead log (for metrics;
    /// a file that cannot be read counts as 0).
    pub fn size_bytes(&self) -> u64 {
        let mut wal = self.inner.path.as_os_str().to_owned();
        wal.push("-wal");
        [self.inner.path.as_path(), Path::new(&wal)]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The current (last committed) cluster revision.
    pub fn revision(&self) -> u64 {
        self.inner.committed.load(Ordering::SeqCst)
    }

    /// History was compacted up to this revision: watches may start from it or later.
    pub fn compacted_revision(&self) -> u64 {
        self.inner.compacted.load(Ordering::SeqCst)
    }

    /// Live watchers currently subscribed (for metrics and tests).
    pub fn watcher_count(&self) -> usize {
        self.inner
            .hub
            .lock()
            .expect("store hub lock poisoned")
            .watcher_count()
    }

    pub fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        self.inner.read(|conn| db::get(conn, key))
    }

    /// One page of `q`, from a consistent snapshot; `revision` is the snapshot's revision.
    /// Pages of one paged list may come from different snapshots (each page is consistent).
    pub fn list(&self, q: &ListQuery) -> Result<ListPage, StoreError> {
        self.inner.read(|conn| {
            conn.execute_batch("BEGIN")
                .map_err(StoreError::db("starting a read snapshot"))?;
            let res = db::meta(conn, "revision").and_then(|rev| db::list(conn, q, rev));
            let end = conn.execute_batch("COMMIT");
            let page = res?;
            end.map_err(StoreError::db("ending a read snapshot"))?;
            Ok(page)
        })
    }

    /// Like [`Store::list`], keeping only the objects `keep` accepts (e.g. a label selector), all
    /// read from one snapshot: `q.limit` counts kept objects, `more` says rows follow the last kept
    /// one (continue with [`ListPage::next_start`]). Unlike looping over `list` pages, the result
    /// is consistent with its `revision` however many objects are skipped.
    pub fn list_matching(
        &self,
        q: &ListQuery,
        mut keep: impl FnMut(&serde_json::Value) -> bool,
    ) -> Result<ListPage, StoreError> {
        self.inner.read(|conn| {
            conn.execute_batch("BEGIN")
                .map_err(StoreError::db("starting a read snapshot"))?;
            let res = db::meta(conn, "revision")
                .and_then(|rev| db::list_matching(conn, q, rev, &mut keep, &db::Undo::new()));
            let end = conn.execute_batch("COMMIT");
            let page = res?;
            end.map_err(StoreError::db("ending a read snapshot"))?;
            Ok(page)
        })
    }

    /// [`Store::list_matching`] as of the past revision `at` (etcd's list at a revision): the
    /// current objects with every change after `at` undone from the watch history, so the pages
    /// of one paged list all show the first page's snapshot. `Expired` when `at` was compacted;
    /// `at` at or above the current revision reads the current state.
    pub fn list_matching_at(
        &self,
        q: &ListQuery,
        at: u64,
        mut keep: impl FnMut(&serde_json::Value) -> bool,
    ) -> Result<ListPage, StoreError> {
        self.inner.read(|conn| {
            snapshot(conn, |conn| {
                let (rev, undo) = view_at(conn, q, Some(at))?;
                db::list_matching(conn, q, rev, &mut keep, &undo)
            })
        })
    }

    /// Streams the objects of `q` (namespace and `start_after` applied, `q.limit` ignored) from
    /// one snapshot — the current one, or as of the past revision `at` as for
    /// [`Store::list_matching_at`] — as their stored JSON text, unparsed, in key order.
    /// `start` is called first, once, with the snapshot's revision; `visit` then gets each object
    /// and stops the scan by answering `false`. Nothing is collected: memory does not grow with
    /// the number of objects. Returns the snapshot's revision. Blocks (reads the database) for as
    /// long as the visitors take; the snapshot holds back checkpoints meanwhile, not writers.
    pub fn scan(
        &self,
        q: &ListQuery,
        at: Option<u64>,
        start: impl FnOnce(u64),
        mut visit: impl FnMut(RawObject<'_>) -> bool,
    ) -> Result<u64, StoreError> {
        self.inner.read(|conn| {
            snapshot(conn, |conn| {
                let (rev, undo) = view_at(conn, q, at)?;
                start(rev);
                db::scan(conn, q, &undo, &mut |o| Ok(visit(o)))?;
                Ok(rev)
            })
        })
    }

    /// The resources that have at least one object.
    pub fn resources(&self) -> Result<Vec<String>, StoreError> {
        self.inner.read(db::resources)
    }

    /// Runs `f` as one atomic, durable transaction and returns its result and the revision it
    /// committed at. Every object it changes gets that one new revision; if `f` fails (or panics),
    /// nothing of it is written. A transaction that changes nothing consumes no revision and returns
    /// the current one. Returns after the commit is on disk.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, StoreError>,
    ) -> Result<(T, u64), StoreError> {
        self.write_with(f)
    }

    /// [`Store::write`] for bodies with their own error type (which must absorb `StoreError`).
    pub fn write_with<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<(T, u64), E> {
        self.inner.write(f)
    }

    /// Watches `resource` (all namespaces) for events with revision `> from`: the retained history
    /// first, then live events. `Expired` if `from` is older than the retained history.
    /// Blocks while it reads the history (bounded by `StoreOptions::history`).
    pub fn watch(&self, resource: &str, from: u64) -> Result<Watch, StoreError> {
        self.watch_filtered(resource, from, WatchFilter::default())
    }

    /// [`Store::watch`] of the objects `filter` lets through only: events of the others are
    /// neither replayed nor handed over, so their commits do not wake this watch.
    pub fn watch_filtered(
        &self,
        resource: &str,
        from: u64,
        filter: WatchFilter,
    ) -> Result<Watch, StoreError> {
        Watch::new(self.inner.clone(), resource, from, filter)
    }
}

impl Inner {
    /// Runs `f` on a pooled reader connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .readers
            .lock()
            .expect("store reader pool poisoned")
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => db::open_reader(&self.path)?,
        };
        let res = f(&conn);
        if !conn.is_autocommit() {
            // A failed read left a transaction open: don't pool it.
            return res;
        }
        let mut pool = self.readers.lock().expect("store reader pool poisoned");
        if pool.len() < self.opts.max_idle_readers {
            pool.push(conn);
        }
        res
    }

    /// Events of `resource` with `from < revision <= to`, or `Expired` when `from` was compacted.
    pub(crate) fn history(
        &self,
        resource: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<Event>, StoreError> {
        self.read(|conn| {
            conn.execute_batch("BEGIN")
                .map_err(StoreError::db("starting a history snapshot"))?;
            let res = (|| {
                let compacted = db::meta(conn, "compacted")?;
                if from < compacted {
                    return Err(StoreError::Expired {
                        requested: from,
                        oldest: compacted,
                    });
                }
                if from >= to {
                    return Ok(Vec::new());
                }
                db::events(conn, resource, from, to)
            })();
            let end = conn.execute_batch("COMMIT");
            let events = res?;
            end.map_err(StoreError::db("ending a history snapshot"))?;
            Ok(events)
        })
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        w
    }

    fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<(T, u64), E> {
        let mut w = self.lock_writer();
        if !w.open {
            w.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(StoreError::db("starting a write transaction"))?;
            w.open = true;
            w.group += 1;
        }
        let group = w.group;
        if let Err(e) = w.conn.execute_batch("SAVEPOINT w") {
            self.abandon_if_empty(&mut w);
            return Err(StoreError::db("starting a write")(e).into());
        }
        let revision = w.revision + 1;

        // Run the body; on error or panic undo exactly its changes.
        let outcome = {
            let mut txn = Txn::new(&w.conn, revision);
            match catch_unwind(AssertUnwindSafe(|| f(&mut txn))) {
                Ok(Ok(value)) => match txn.finish() {
                    Ok(events) => Ok(Ok((value, events))),
                    Err(e) => Ok(Err(E::from(e))),
                },
                Ok(Err(e)) => Ok(Err(e)),
                Err(panic) => Err(panic),
            }
        };
        let (value, events) = match outcome {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => {
                self.undo_savepoint(&mut w);
                self.leave_after_failure(w);
                return Err(e);
            }
            Err(panic) => {
                self.undo_savepoint(&mut w);
                self.leave_after_failure(w);
                resume_unwind(panic);
            }
        };

        if events.is_empty() {
            let _ = w.conn.execute_batch("RELEASE w");
            if w.members == 0 {
                // Nothing pending in the group: nothing to wait for.
                self.abandon_if_empty(&mut w);
                return Ok((value, w.revision));
            }
            // It may have read the group's uncommitted writes: answer once they are durable.
        } else {
            let recorded = (|| {
                let at = now_millis();
                for (seq, (ev, text)) in events.iter().enumerate() {
                    db::insert_event(&w.conn, seq, ev, text.as_deref(), at)?;
                }
                db::set_meta(&w.conn, "revision", revision)?;
                w.conn
                    .execute_batch("RELEASE w")
                    .map_err(StoreError::db("finishing a write"))
            })();
            if let Err(e) = recorded {
                self.undo_savepoint(&mut w);
                self.leave_after_failure(w);
                return Err(e.into());
            }
            w.revision = revision;
            w.members += 1;
            w.event_rows += events.len() as u64;
            w.pending
                .extend(events.into_iter().map(|(ev, _)| Arc::new(ev)));
        }
        let answer = w.revision;

        if self.queued.load(Ordering::SeqCst) == 0 || w.members >= self.opts.max_group {
            self.commit_group(&mut w).map_err(E::from)?;
            Self::checkpoint_if_due(&mut w);
            return Ok((value, answer));
        }
        // Someone queued behind us will commit the group (the last one always does).
        drop(w);
        let c = self.completion.lock().unwrap_or_else(|p| p.into_inner());
        let c = self
            .group_done
            .wait_while(c, |c| c.done < group)
            .unwrap_or_else(|p| p.into_inner());
        match c.failed.get(&group) {
            Some(reason) => Err(StoreError::CommitFailed(reason.clone()).into()),
            None => Ok((value, answer)),
        }
    }

    fn undo_savepoint(&self, w: &mut Writer) {
        if let Err(e) = w.conn.execute_batch("ROLLBACK TO w; RELEASE w") {
            // The savepoint is gone only if SQLite already rolled the whole transaction back.
            self.fail_group(w, format!("undoing a failed write: {e}"));
        }
    }

    /// After a failed write: close or commit the group so no one waits forever.
    fn leave_after_failure(&self, mut w: MutexGuard<'_, Writer>) {
        if !w.open {
            return;
        }
        if w.members == 0 {
            self.abandon_if_empty(&mut w);
        } else if self.queued.load(Ordering::SeqCst) == 0 {
            let _ = self.commit_group(&mut w);
        }
    }

    /// Rolls back an open group that has no members (nothing to keep).
    fn abandon_if_empty(&self, w: &mut Writer) {
        if w.open && w.members == 0 {
            let _ = w.conn.execute_batch("ROLLBACK");
            w.open = false;
            self.finish_group(w.group, None);
        }
    }

    /// A passive checkpoint once [`CHECKPOINT_PAGES`] WAL pages accumulated since the last one (or
    /// since the WAL restarted). A checkpoint that cannot finish (a reader still uses old pages) is
    /// retried after as many pages again; a failed one changes nothing durable, so it is only
    /// retried, never reported to the writer, whose write is already committed.
    fn checkpoint_if_due(w: &mut Writer) {
        let pages = w.wal_pages.load(Ordering::Relaxed);
        let since = if pages < w.checkpointed_at {
            pages
        } else {
            pages - w.checkpointed_at
        };
        if since < CHECKPOINT_PAGES {
            return;
        }
        let _ = w
            .conn
            .wal_checkpoint_v2(Some("main"), CheckpointMode::PASSIVE);
        w.checkpointed_at = pages;
    }

    /// Compacts history if due, commits the open group, publishes its events, wakes its writers.
    fn commit_group(&self, w: &mut Writer) -> Result<(), StoreError> {
        let before = (w.event_rows, w.compacted);
        let res = self.compact(w).and_then(|()| {
            w.conn
                .execute_batch("COMMIT")
                .map_err(StoreError::db("committing"))
        });
        if let Err(e) = res {
            (w.event_rows, w.compacted) = before;
            self.fail_group(w, e.to_string());
            return Err(e);
        }
        w.open = false;
        w.members = 0;
        let events = std::mem::take(&mut w.pending);
        {
            let mut hub = self.hub.lock().expect("store hub lock poisoned");
            self.committed.store(w.revision, Ordering::SeqCst);
            self.compacted.store(w.compacted, Ordering::SeqCst);
            hub.publish(&events, w.revision);
        }
        self.finish_group(w.group, None);
        Ok(())
    }

    /// Rolls the open group back and reports `reason` to its writers.
    fn fail_group(&self, w: &mut Writer, reason: String) {
        if !w.conn.is_autocommit() {
            let _ = w.conn.execute_batch("ROLLBACK");
        }
        w.open = false;
        w.members = 0;
        w.pending.clear();
        w.revision = self.committed.load(Ordering::SeqCst);
        self.finish_group(w.group, Some(reason));
    }

    /// Marks `group` finished (failed with `reason`, if any) and wakes its waiting writers.
    fn finish_group(&self, group: u64, failure: Option<String>) {
        let mut c = self.completion.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(reason) = failure {
            c.failed.insert(group, reason);
            while c.failed.len() > 64 {
                c.failed.pop_first();
            }
        }
        c.done = group;
        drop(c);
        self.group_done.notify_all();
    }

    /// Deletes the oldest history inside the open group transaction, if due (see module doc).
    fn compact(&self, w: &mut Writer) -> Result<(), StoreError> {
        let keep = self.opts.history as u64;
        let mut cut = 0u64;
        if w.event_rows > keep + (keep / 8).max(16) {
            let rev: i64 = w
                .conn
                .prepare_cached(
                    "SELECT revision FROM events ORDER BY revision DESC, seq DESC LIMIT 1 OFFSET ?1",
                )
                .and_then(|mut s| s.query_row([keep as i64], |r| r.get(0)))
                .map_err(StoreError::db("finding the compaction point"))?;
            cut = rev as u64;
        }
        if let Some(age) = self.opts.history_max_age
            && w.last_age_check
                .is_none_or(|t| t.elapsed() >= (age / 4).min(Duration::from_secs(10)))
        {
            w.last_age_check = Some(Instant::now());
            let oldest_kept = now_millis() - age.as_millis() as i64;
            let rev: Option<i64> = w
                .conn
                .query_row(
                    "SELECT max(revision) FROM events WHERE at < ?1",
                    [oldest_kept],
                    |r| r.get(0),
                )
                .map_err(StoreError::db("finding expired history"))?;
            cut = cut.max(rev.unwrap_or(0) as u64);
        }
        if cut <= w.compacted {
            return Ok(());
        }
        let deleted = w
            .conn
            .prepare_cached("DELETE FROM events WHERE revision <= ?1")
            .and_then(|mut s| s.execute([cut as i64]))
            .map_err(StoreError::db("compacting watch history"))?;
        db::set_meta(&w.conn, "compacted", cut)?;
        w.event_rows = w.event_rows.saturating_sub(deleted as u64);
        w.compacted = cut;
        Ok(())
    }
}

/// Runs `f` inside one read transaction of `conn` (a consistent snapshot).
fn snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN")
        .map_err(StoreError::db("starting a read snapshot"))?;
    let res = f(conn);
    let end = conn.execute_batch("COMMIT");
    let out = res?;
    end.map_err(StoreError::db("ending a read snapshot"))?;
    Ok(out)
}

/// The revision a read inside a snapshot shows and the changes to undo for it: the current state
/// for `None` (or an `at` not in the past), else the state as of `at` (`Expired` if compacted).
fn view_at(
    conn: &Connection,
    q: &ListQuery,
    at: Option<u64>,
) -> Result<(u64, db::Undo), StoreError> {
    let current = db::meta(conn, "revision")?;
    let Some(at) = at.filter(|at| *at < current) else {
        return Ok((current, db::Undo::new()));
    };
    let compacted = db::meta(conn, "compacted")?;
    if at < compacted {
        return Err(StoreError::Expired {
            requested: at,
            oldest: compacted,
        });
    }
    Ok((at, db::states_before(conn, q, at, current)?))
}
