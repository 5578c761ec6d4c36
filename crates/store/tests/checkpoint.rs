//! The store checkpoints its WAL itself (after a group's writers are released, see store.rs):
//! sustained writes keep the WAL bounded, and everything written is still there after reopening.

use serde_json::json;
use store::{CHECKPOINT_PAGES, Key, ListQuery, Store, StoreOptions};

const PAGE: u64 = 4096;

#[test]
fn sustained_writes_keep_the_wal_bounded_by_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.db");
    let store = Store::open(&path, StoreOptions::default()).unwrap();
    // ~2 KB objects: each write dirties several pages, so 1,500 writes put well over ten
    // checkpoints' worth of pages through the WAL (unbounded, it would pass 20 MB).
    let payload = "x".repeat(2048);
    let writes = 1500;
    for i in 0..writes {
        let key = Key::new("configmaps", "default", format!("cm-{i}"));
        store
            .write(|t| {
                t.create(
                    &key,
                    json!({"metadata": {"name": key.name}, "data": {"p": payload}}),
                )
            })
            .unwrap();
    }
    let wal = std::fs::metadata(dir.path().join("cluster.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let bound = 3 * CHECKPOINT_PAGES as u64 * PAGE;
    assert!(wal < bound, "WAL grew to {wal} bytes (bound {bound})");
    drop(store);

    let store = Store::open(&path, StoreOptions::default()).unwrap();
    let page = store
        .list(&ListQuery::in_namespace("configmaps", "default"))
        .unwrap();
    assert_eq!(page.items.len(), writes);
    assert_eq!(store.revision(), writes as u64);
}
