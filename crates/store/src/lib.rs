//! store: the durable, ACID object store of one embedded cluster.
//!
//! **Owns**: persistence of every object of one cluster as JSON, the cluster's revision counter
//! (Kubernetes `resourceVersion`, like etcd's: one monotonically increasing number per cluster,
//! shared by every object a transaction changes, never reused, also after restarts, deletes and
//! compaction), atomic multi-object transactions with resourceVersion preconditions, the watch
//! history (persisted, bounded by compaction) and live watch fan-out.
//! **Does not** know Kubernetes semantics beyond `metadata.resourceVersion`: no validation,
//! selectors, defaulting, uid/generation, finalizers, tables — that is the `apiserver` crate's job.
//! It touches only its own SQLite file (`<path>`, `<path>-wal`, `<path>-shm`, `<path>.lock`).
//!
//! Engine: SQLite (bundled, via `rusqlite`) in WAL mode with `synchronous=FULL`; writes are
//! group-committed (see `store.rs`): acknowledged means fsynced.
//!
//! ## API (the contract the API server codes against)
//! ```ignore
//! let store = Store::open(Path::new("data/global.db"), StoreOptions::default())?;
//! let key = Key::new("configmaps", "default", "cfg");
//! let (created, rev) = store.write(|t| t.create(&key, json!({"metadata": {"name": "cfg"}})))?;
//! let got = store.get(&key)?;                         // Some(Stored { value, revision })
//! let page = store.list(&ListQuery::in_namespace("configmaps", "default"))?;
//! store.write(|t| t.update(&key, new_value, Some(created.revision)))?; // Conflict if it moved on
//! let mut watch = store.watch("configmaps", page.revision)?;          // Expired if compacted
//! while let Some(ev) = watch.next().await { let ev = ev?; /* ev.kind, ev.object, ev.prev */ }
//! ```
//!
//! Refinements of the contract in the brief (all additive unless noted):
//! - `Store::write_with` lets a transaction body use its own error type (`E: From<StoreError>`).
//! - `Txn::create/update/delete` take `&Key` and return the resulting `Stored`; `delete` returns the
//!   last state with resourceVersion = the deletion revision. `Txn::revision()` is the revision the
//!   transaction commits at (for e.g. creationTimestamp-free bookkeeping).
//! - An update whose value equals the current one (ignoring resourceVersion) is a no-op: no new
//!   revision, no event (Kubernetes does the same). A transaction that changes nothing returns the
//!   current revision.
//! - `Watch` yields `Arc<Event>` (one allocation shared by all watchers); `Event::encodings`
//!   caches byte encodings made by consumers, so all watchers share one serialization; `Watch::next().await`,
//!   `Watch::try_next()` (non-blocking) and `impl Stream`. `Watch::bookmark_revision()` gives a
//!   revision safe to send as a BOOKMARK (everything up to it was delivered).
//! - Watching from revision `0` replays all retained history (or is `Expired` once anything was
//!   compacted): the API server handles "watch from now" by listing and watching from the list's
//!   revision.
//! - `Store::list_matching(q, keep)`: a filtered list (label/field selectors) read from one
//!   snapshot, `q.limit` counting kept objects; `ListPage::next` / `next_start()` give the stored
//!   key to resume after (use it for continue tokens).
//! - `Store::list_matching_at(q, at, keep)`: the same as of a past revision `at` (etcd's list at a
//!   revision; the later pages of a paged list), the current rows with later changes undone from
//!   the watch history; `Expired` once `at` is compacted.
//! - `Store::scan(q, at, start, visit)`: the objects of a list as their stored JSON text, one by
//!   one from one snapshot (current, or as of `at`), for responses streamed without collecting
//!   (or parsing) the list; `start` gets the snapshot's revision first.
//! - `Store::compacted_revision()`, `Store::resources()`, `Store::watcher_count()`, `Store::path()`,
//!   `Store::size_bytes()` (database + WAL on disk, for metrics).
//! - Each store file is locked while open (`StoreError::Locked` for a second opener): open it once
//!   per process and clone the `Store`.
//!
//! ## Blocking
//! `open`, `get`, `list`, `write`, `watch` block (SQLite I/O; `write` waits for an fsync): call them
//! from `tokio::task::spawn_blocking` (or a blocking thread). Readers use a pool of connections and
//! never wait for writers (WAL snapshots). `Watch::next` is async and never blocks (catching up
//! after falling behind runs on `spawn_blocking`).

mod db;
mod error;
mod store;
mod txn;
mod types;
mod watch;

pub use db::RawObject;
pub use error::StoreError;
pub use store::{CHECKPOINT_PAGES, Store, StoreOptions};
pub use txn::{Txn, set_resource_version};
pub use types::{Encodings, Event, EventKind, Key, ListPage, ListQuery, Stored};
pub use watch::{Watch, WatchFilter};
