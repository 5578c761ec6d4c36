//! Behaviour of the store through its public API: CRUD, preconditions, atomicity, paging, watch
//! history and live tail, compaction and expiry, restart, concurrency.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::{Event, EventKind, Key, ListQuery, Store, StoreError, StoreOptions, Watch};

fn open(dir: &Path) -> Store {
    Store::open(&dir.join("cluster.db"), StoreOptions::default()).expect("open store")
}

fn open_with(dir: &Path, opts: StoreOptions) -> Store {
    Store::open(&dir.join("cluster.db"), opts).expect("open store")
}

/// A store whose watchers' channels hold `watch_buffer` events (to make a watcher fall behind).
fn open_buffered(dir: &Path, watch_buffer: usize) -> Store {
    open_with(
        dir,
        StoreOptions {
            watch_buffer,
            ..StoreOptions::default()
        },
    )
}

fn cm(ns: &str, name: &str, data: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns}, "data": {"v": data}})
}

fn key(ns: &str, name: &str) -> Key {
    Key::new("configmaps", ns, name)
}

fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion is a string")
        .parse()
        .expect("resourceVersion is a number")
}

/// Waits (bounded) for the next watch event, for synchronous tests.
fn next_event(w: &mut Watch) -> Result<Arc<Event>, StoreError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(item) = w.try_next() {
            return item;
        }
        assert!(Instant::now() < deadline, "no watch event within 20 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn no_event_pending(w: &mut Watch) {
    assert!(w.try_next().is_none(), "unexpected extra watch event");
}

#[test]
fn create_get_update_delete_set_resource_version_and_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    assert_eq!(s.revision(), 0);
    let k = key("default", "a");

    let (created, rev1) = s.write(|t| t.create(&k, cm("default", "a", "1"))).unwrap();
    assert_eq!(rev1, 1);
    assert_eq!(created.revision, 1);
    assert_eq!(rv(&created.value), 1);
    assert_eq!(s.revision(), 1);

    let got = s.get(&k).unwrap().expect("created object is readable");
    assert_eq!(got, created);
    assert_eq!(got.value["data"]["v"], "1");

    let err = s
        .write(|t| t.create(&k, cm("default", "a", "x")))
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert_eq!(s.revision(), 1, "a failed write consumes no revision");

    let (updated, rev2) = s
        .write(|t| t.update(&k, cm("default", "a", "2"), Some(1)))
        .unwrap();
    assert_eq!((rev2, updated.revision, rv(&updated.value)), (2, 2, 2));

    let (deleted, rev3) = s.write(|t| t.delete(&k, None)).unwrap();
    assert_eq!(rev3, 3);
    assert_eq!(
        rv(&deleted.value),
        3,
        "a deleted object carries the deletion revision"
    );
    assert_eq!(deleted.value["data"]["v"], "2");
    assert!(s.get(&k).unwrap().is_none());

    let err = s
        .write(|t| t.update(&k, cm("default", "a", "3"), None))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = s.write(|t| t.delete(&k, None)).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    // Re-creating after delete gets a fresh, higher revision.
    let (_, rev4) = s
        .write(|t| t.create(&k, cm("default", "a", "again")))
        .unwrap();
    assert_eq!(rev4, 4);
}

#[test]
fn preconditions_report_conflict_with_the_current_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let k = key("ns", "c");
    s.write(|t| t.create(&k, cm("ns", "c", "0"))).unwrap();
    s.write(|t| t.update(&k, cm("ns", "c", "1"), Some(1)))
        .unwrap();

    let err = s
        .write(|t| t.update(&k, cm("ns", "c", "stale"), Some(1)))
        .unwrap_err();
    match err {
        StoreError::Conflict {
            expected, current, ..
        } => assert_eq!((expected, current), (1, 2)),
        other => panic!("expected Conflict, got {other}"),
    }
    let err = s.write(|t| t.delete(&k, Some(1))).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { current: 2, .. }),
        "{err}"
    );
    assert_eq!(s.get(&k).unwrap().unwrap().value["data"]["v"], "1");
    s.write(|t| t.delete(&k, Some(2))).unwrap();
}

#[test]
fn update_without_changes_is_a_noop_without_new_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let k = key("ns", "same");
    s.write(|t| t.create(&k, cm("ns", "same", "v"))).unwrap();
    let mut w = s.watch("configmaps", 1).unwrap();
    let (st, rev) = s
        .write(|t| t.update(&k, cm("ns", "same", "v"), None))
        .unwrap();
    assert_eq!((st.revision, rev, s.revision()), (1, 1, 1));
    no_event_pending(&mut w);
}

#[test]
fn multi_object_transaction_is_atomic_and_shares_one_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let (a, b, c) = (key("ns", "a"), key("ns", "b"), key("ns", "c"));
    s.write(|t| t.create(&c, cm("ns", "c", "0"))).unwrap();

    let (_, rev) = s
        .write(|t| {
            t.create(&a, cm("ns", "a", "1"))?;
            t.create(&b, cm("ns", "b", "1"))?;
            t.update(&c, cm("ns", "c", "1"), None)
        })
        .unwrap();
    assert_eq!(rev, 2);
    for k in [&a, &b, &c] {
        let got = s.get(k).unwrap().unwrap();
        assert_eq!((got.revision, rv(&got.value)), (2, 2), "{k}");
    }

    // A failing step undoes the earlier steps of the same transaction.
    let d = key("ns", "d");
    let err = s
        .write(|t| {
            t.create(&d, cm("ns", "d", "1"))?;
            t.update(&a, cm("ns", "a", "2"), None)?;
            t.create(&b, cm("ns", "b", "dup")) // AlreadyExists
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert!(
        s.get(&d).unwrap().is_none(),
        "created object of a failed txn is gone"
    );
    assert_eq!(s.get(&a).unwrap().unwrap().value["data"]["v"], "1");
    assert_eq!(s.revision(), 2);

    // Aborting with a reason of one's own, and a panicking body, also write nothing.
    let err = s
        .write(|t| {
            t.create(&d, cm("ns", "d", "1"))?;
            Err::<(), _>(StoreError::Aborted("admission said no".into()))
        })
        .unwrap_err();
    assert!(err.to_string().contains("admission said no"));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = s.write(|t| {
            t.create(&d, cm("ns", "d", "1"))?;
            panic!("body panics");
            #[allow(unreachable_code)]
            Ok(())
        });
    }));
    assert!(panicked.is_err());
    assert!(s.get(&d).unwrap().is_none());
    // The store still works after a panicking body.
    let (_, rev) = s.write(|t| t.create(&d, cm("ns", "d", "ok"))).unwrap();
    assert_eq!(rev, 3);
}

#[test]
fn transaction_reads_its_own_writes_and_custom_errors_pass_through() {
    #[derive(Debug)]
    #[allow(dead_code)] // the payload is only for Debug
    enum MyErr {
        Store(StoreError),
        Denied,
    }
    impl From<StoreError> for MyErr {
        fn from(e: StoreError) -> Self {
            MyErr::Store(e)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let k = key("ns", "x");
    let (seen, _) = s
        .write_with(|t| -> Result<_, MyErr> {
            t.create(&k, cm("ns", "x", "1"))?;
            let page = t.list(&ListQuery::all("configmaps"))?;
            Ok((t.get(&k)?.is_some(), page.items.len()))
        })
        .unwrap();
    assert_eq!(seen, (true, 1));
    let err = s
        .write_with(|t| -> Result<(), MyErr> {
            t.delete(&k, None)?;
            Err(MyErr::Denied)
        })
        .unwrap_err();
    assert!(matches!(err, MyErr::Denied));
    assert!(s.get(&k).unwrap().is_some());
}

#[test]
fn keys_are_case_sensitive_and_allow_dots_dashes_and_colons() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let names = [
        "system:controller:replicaset-controller",
        "System:Controller:ReplicaSet-Controller",
        "a.b-c",
        "A.B-C",
        "x:y",
        "ünïcode",
    ];
    s.write(|t| {
        for n in names {
            t.create(
                &Key::cluster("rbac.authorization.k8s.io/clusterroles", n),
                json!({"metadata": {"name": n}}),
            )?;
        }
        Ok(())
    })
    .unwrap();
    for n in names {
        let got = s
            .get(&Key::cluster("rbac.authorization.k8s.io/clusterroles", n))
            .unwrap()
            .unwrap_or_else(|| panic!("{n} stored"));
        assert_eq!(got.value["metadata"]["name"], n);
    }
    assert!(
        s.get(&Key::cluster(
            "rbac.authorization.k8s.io/clusterroles",
            "x:Y"
        ))
        .unwrap()
        .is_none()
    );
    // Same name in another resource or namespace is another object.
    s.write(|t| t.create(&Key::new("roles", "ns", "x:y"), json!({})))
        .unwrap();
    s.write(|t| t.create(&Key::new("roles", "NS", "x:y"), json!({})))
        .unwrap();
    let page = s
        .list(&ListQuery::all("rbac.authorization.k8s.io/clusterroles"))
        .unwrap();
    assert_eq!(page.items.len(), names.len());
    assert_eq!(
        s.list(&ListQuery::in_namespace("roles", "ns"))
            .unwrap()
            .items
            .len(),
        1
    );
}

#[test]
fn invalid_values_are_rejected_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let err = s
        .write(|t| t.create(&key("ns", "a"), json!([1, 2])))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    let err = s
        .write(|t| t.create(&key("ns", "a"), json!({"metadata": "x"})))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert_eq!(s.revision(), 0);
    // A value without metadata gets one, with the resourceVersion.
    let (st, _) = s
        .write(|t| t.create(&key("ns", "a"), json!({"x": 1})))
        .unwrap();
    assert_eq!(st.value["metadata"]["resourceVersion"], "1");
}

#[test]
fn list_pages_in_namespace_name_order_with_consistent_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut expected = Vec::new();
    s.write(|t| {
        for ns in ["b", "a", "c"] {
            for i in (0..7).rev() {
                let name = format!("obj-{i}");
                t.create(&key(ns, &name), cm(ns, &name, "x"))?;
                expected.push((ns.to_string(), name));
            }
        }
        t.create(&Key::new("secrets", "a", "other"), json!({}))?;
        Ok(())
    })
    .unwrap();
    expected.sort();

    let mut seen = Vec::new();
    let mut q = ListQuery {
        limit: Some(4),
        ..ListQuery::all("configmaps")
    };
    loop {
        let page = s.list(&q).unwrap();
        assert_eq!(page.revision, 1);
        assert!(page.items.len() <= 4);
        for it in &page.items {
            let m = &it.value["metadata"];
            seen.push((
                m["namespace"].as_str().unwrap().to_string(),
                m["name"].as_str().unwrap().to_string(),
            ));
        }
        match page.next_start() {
            Some(after) => q.start_after = Some(after),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let ns_b = s.list(&ListQuery::in_namespace("configmaps", "b")).unwrap();
    assert_eq!(ns_b.items.len(), 7);
    assert!(!ns_b.more);
    // An exact-size page says there is no more.
    let q = ListQuery {
        limit: Some(7),
        ..ListQuery::in_namespace("configmaps", "c")
    };
    assert!(!s.list(&q).unwrap().more);
    assert_eq!(s.resources().unwrap(), vec!["configmaps", "secrets"]);
}

#[test]
fn list_matching_filters_in_one_snapshot_and_pages_over_skipped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(|t| {
        for i in 0..30 {
            let mut v = cm("ns", &format!("o{i:02}"), "x");
            v["metadata"]["labels"] = json!({"even": (i % 2 == 0).to_string()});
            t.create(&key("ns", &format!("o{i:02}")), v)?;
        }
        Ok(())
    })
    .unwrap();
    let even = |v: &Value| v["metadata"]["labels"]["even"] == "true";
    let all = s
        .list_matching(&ListQuery::all("configmaps"), even)
        .unwrap();
    assert_eq!(all.items.len(), 15);
    assert!(!all.more && all.next.is_none());

    let mut q = ListQuery {
        limit: Some(4),
        ..ListQuery::all("configmaps")
    };
    let mut names = Vec::new();
    loop {
        let page = s.list_matching(&q, even).unwrap();
        assert!(page.items.len() <= 4);
        names.extend(
            page.items
                .iter()
                .map(|i| i.value["metadata"]["name"].as_str().unwrap().to_string()),
        );
        match page.next_start() {
            Some(n) => q.start_after = Some(n),
            None => break,
        }
    }
    let want: Vec<String> = (0..30).step_by(2).map(|i| format!("o{i:02}")).collect();
    assert_eq!(names, want);
}

fn collect(w: &mut Watch, n: usize) -> Vec<Arc<Event>> {
    (0..n)
        .map(|_| next_event(w).expect("watch event"))
        .collect()
}

#[test]
fn watch_replays_history_then_live_events_in_order_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let k = key("ns", "w");
    s.write(|t| t.create(&k, cm("ns", "w", "0"))).unwrap(); // 1
    s.write(|t| t.create(&Key::new("secrets", "ns", "s"), json!({})))
        .unwrap(); // 2 (other resource)
    s.write(|t| t.update(&k, cm("ns", "w", "1"), None)).unwrap(); // 3
    s.write(|t| t.delete(&k, None)).unwrap(); // 4

    let mut w = s.watch("configmaps", 0).unwrap();
    let ev = collect(&mut w, 3);
    assert_eq!(
        ev.iter().map(|e| (e.revision, e.kind)).collect::<Vec<_>>(),
        vec![
            (1, EventKind::Added),
            (3, EventKind::Modified),
            (4, EventKind::Deleted)
        ]
    );
    assert!(ev[0].prev.is_none());
    assert_eq!(rv(ev[1].prev.as_ref().unwrap()), 1);
    assert_eq!(
        rv(&ev[2].object),
        4,
        "DELETED carries the deletion revision"
    );
    assert_eq!(
        ev[2].object["data"]["v"], "1",
        "DELETED carries the last state"
    );
    no_event_pending(&mut w);

    // From the middle of history.
    let mut w2 = s.watch("configmaps", 3).unwrap();
    assert_eq!(next_event(&mut w2).unwrap().revision, 4);
    no_event_pending(&mut w2);

    // Live events, including a multi-object transaction, arrive in order after the replay.
    s.write(|t| {
        t.create(&key("ns", "m1"), cm("ns", "m1", "x"))?;
        t.create(&key("ns", "m2"), cm("ns", "m2", "x"))
    })
    .unwrap(); // 5
    let live = collect(&mut w, 2);
    assert_eq!(
        live.iter()
            .map(|e| (e.revision, e.key.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(5, "m1"), (5, "m2")]
    );
    no_event_pending(&mut w);
    assert_eq!(w.bookmark_revision(), Some(5));
    // Another resource's writes move the bookmark but send no event.
    s.write(|t| t.create(&Key::new("secrets", "ns", "s2"), json!({})))
        .unwrap(); // 6
    no_event_pending(&mut w);
    assert_eq!(w.bookmark_revision(), Some(6));
}

#[test]
fn watch_started_during_concurrent_writes_sees_each_revision_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let total = 300u64;
    let writer = {
        let s = s.clone();
        std::thread::spawn(move || {
            for i in 0..total {
                s.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
                    .unwrap();
            }
        })
    };
    // Start watches at various points while writes are running.
    let mut watches = Vec::new();
    while watches.len() < 5 {
        let from = s.revision();
        watches.push((from, s.watch("configmaps", from).unwrap()));
        std::thread::sleep(Duration::from_millis(3));
    }
    writer.join().unwrap();
    for (from, mut w) in watches {
        let got = collect(&mut w, (total - from) as usize);
        let revs: Vec<u64> = got.iter().map(|e| e.revision).collect();
        let want: Vec<u64> = (from + 1..=total).collect();
        assert_eq!(revs, want, "watch from {from}");
        no_event_pending(&mut w);
    }
}

#[test]
fn compaction_bounds_history_and_expires_old_watches_with_410_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        history: 20,
        ..StoreOptions::default()
    };
    let s = open_with(dir.path(), opts.clone());
    let k = key("ns", "c");
    s.write(|t| t.create(&k, cm("ns", "c", "0"))).unwrap();
    for i in 1..200 {
        s.write(|t| t.update(&k, cm("ns", "c", &i.to_string()), None))
            .unwrap();
    }
    assert_eq!(s.revision(), 200);
    let compacted = s.compacted_revision();
    assert!(compacted > 0, "history was compacted");
    assert!(
        compacted >= 200 - 20 - 20 - 16,
        "history kept bounded: compacted {compacted}"
    );

    match s.watch("configmaps", 1) {
        Err(StoreError::Expired { requested, oldest }) => {
            assert_eq!((requested, oldest), (1, compacted))
        }
        Err(e) => panic!("expected Expired, got {e}"),
        Ok(_) => panic!("expected Expired, got a watch"),
    }
    let mut w = s.watch("configmaps", compacted).unwrap();
    let ev = collect(&mut w, (200 - compacted) as usize);
    assert_eq!(ev.first().unwrap().revision, compacted + 1);
    assert_eq!(ev.last().unwrap().revision, 200);
    no_event_pending(&mut w);
    // The object itself is intact and revisions keep increasing after compaction.
    let got = s.get(&k).unwrap().unwrap();
    assert_eq!(
        (got.revision, got.value["data"]["v"].as_str()),
        (200, Some("199"))
    );
    drop((w, s));

    // After a restart: same compaction point, same history, no revision reused.
    let s = open_with(dir.path(), opts);
    assert_eq!((s.revision(), s.compacted_revision()), (200, compacted));
    assert!(matches!(
        s.watch("configmaps", compacted - 1),
        Err(StoreError::Expired { .. })
    ));
    let (_, rev) = s.write(|t| t.delete(&k, None)).unwrap();
    assert_eq!(rev, 201);
}

#[test]
fn history_max_age_compacts_old_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        dir.path(),
        StoreOptions {
            history_max_age: Some(Duration::from_millis(1)),
            ..StoreOptions::default()
        },
    );
    s.write(|t| t.create(&key("ns", "a"), cm("ns", "a", "1")))
        .unwrap();
    std::thread::sleep(Duration::from_millis(20)); // age the first event past max_age
    s.write(|t| t.create(&key("ns", "b"), cm("ns", "b", "1")))
        .unwrap();
    assert!(s.compacted_revision() >= 1);
    assert!(matches!(
        s.watch("configmaps", 0),
        Err(StoreError::Expired { .. })
    ));
}

#[test]
fn restart_keeps_objects_revisions_and_watch_history() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        for i in 0..10 {
            s.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
                .unwrap();
        }
        s.write(|t| t.delete(&key("ns", "o9"), None)).unwrap(); // 11
        // A second opener is refused while the first is open.
        match Store::open(&dir.path().join("cluster.db"), StoreOptions::default()) {
            Err(StoreError::Locked { .. }) => {}
            Err(e) => panic!("expected Locked, got {e}"),
            Ok(_) => panic!("expected Locked, got a second store"),
        }
    }
    let s = open(dir.path());
    assert_eq!(s.revision(), 11);
    assert_eq!(
        s.list(&ListQuery::all("configmaps")).unwrap().items.len(),
        9
    );
    let mut w = s.watch("configmaps", 5).unwrap();
    let revs: Vec<u64> = collect(&mut w, 6).iter().map(|e| e.revision).collect();
    assert_eq!(revs, vec![6, 7, 8, 9, 10, 11]);
    // Deleting the highest-revision object then restarting never reuses its revision.
    let (_, rev) = s.write(|t| t.delete(&key("ns", "o8"), None)).unwrap();
    assert_eq!(rev, 12);
    drop((w, s));
    let s = open(dir.path());
    let (_, rev) = s
        .write(|t| t.create(&key("ns", "n"), cm("ns", "n", "x")))
        .unwrap();
    assert_eq!(rev, 13);
}

#[test]
fn slow_watcher_catches_up_from_history_then_expires_once_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        dir.path(),
        StoreOptions {
            watch_buffer: 4,
            history: 1000,
            ..StoreOptions::default()
        },
    );
    let mut w = s.watch("configmaps", 0).unwrap();
    for i in 0..50 {
        s.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
            .unwrap();
    }
    // The watcher's 4-slot channel overflowed; it still gets every event, in order, once.
    let revs: Vec<u64> = collect(&mut w, 50).iter().map(|e| e.revision).collect();
    assert_eq!(revs, (1..=50).collect::<Vec<_>>());
    no_event_pending(&mut w);

    // Now overflow it again, and compact past where it stands: it expires.
    let s2 = open_with(
        &dir.path().join("second"),
        StoreOptions {
            watch_buffer: 2,
            history: 5,
            ..StoreOptions::default()
        },
    );
    let mut w = s2.watch("configmaps", 0).unwrap();
    for i in 0..100 {
        s2.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
            .unwrap();
    }
    let mut got = Vec::new();
    let err = loop {
        match next_event(&mut w) {
            Ok(ev) => got.push(ev.revision),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, StoreError::Expired { .. }), "{err}");
    assert_eq!(
        got,
        (1..=got.len() as u64).collect::<Vec<_>>(),
        "no gap before expiry"
    );
    assert!(w.try_next().is_none(), "an expired watch ends");
}

#[test]
fn slow_watcher_cut_inside_a_multi_object_revision_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_buffered(dir.path(), 1);
    let mut w = s.watch("configmaps", 0).unwrap();
    let mut want = Vec::new();
    for r in 0..20u64 {
        s.write(|t| {
            for j in 0..3 {
                t.create(&key("ns", &format!("r{r}-{j}")), cm("ns", "o", "x"))?;
            }
            Ok(())
        })
        .unwrap();
        // Take one event now and then, so the lag happens mid-revision.
        if r % 3 == 0 {
            want.push(
                next_event(&mut w)
                    .map(|e| (e.revision, e.key.name.clone()))
                    .unwrap(),
            );
        }
    }
    while want.len() < 60 {
        want.push(
            next_event(&mut w)
                .map(|e| (e.revision, e.key.name.clone()))
                .unwrap(),
        );
    }
    no_event_pending(&mut w);
    let expected: Vec<(u64, String)> = (0..20u64)
        .flat_map(|r| (0..3).map(move |j| (r + 1, format!("r{r}-{j}"))))
        .collect();
    assert_eq!(want, expected);
}

#[test]
fn empty_names_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let err = s
        .write(|t| t.create(&key("ns", ""), json!({})))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
}

#[test]
fn concurrent_writers_with_preconditions_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let k = key("ns", "counter");
    s.write(|t| t.create(&k, json!({"metadata": {"name": "counter"}, "n": 0})))
        .unwrap();
    let threads = 8;
    let attempts = 40;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (s, k) = (s.clone(), k.clone());
            std::thread::spawn(move || {
                let (mut ok, mut conflicts) = (0u64, 0u64);
                for _ in 0..attempts {
                    let cur = s.get(&k).unwrap().unwrap();
                    let mut v = cur.value.clone();
                    v["n"] = json!(v["n"].as_u64().unwrap() + 1);
                    match s.write(|t| t.update(&k, v, Some(cur.revision))) {
                        Ok(_) => ok += 1,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("unexpected error {e}"),
                    }
                }
                (ok, conflicts)
            })
        })
        .collect();
    let (mut ok, mut conflicts) = (0, 0);
    for h in handles {
        let (o, c) = h.join().unwrap();
        ok += o;
        conflicts += c;
    }
    assert_eq!(ok + conflicts, threads * attempts);
    assert!(ok > 0);
    let fin = s.get(&k).unwrap().unwrap();
    assert_eq!(
        fin.value["n"].as_u64().unwrap(),
        ok,
        "every success landed, none lost"
    );
    assert_eq!(s.revision(), 1 + ok, "one revision per successful write");
}

#[test]
fn concurrent_writers_group_commit_with_distinct_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        let name = format!("t{t}-{i}");
                        s.write(|tx| tx.create(&key("ns", &name), cm("ns", &name, "x")))
                            .unwrap()
                            .1
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for h in handles {
        let revs = h.join().unwrap();
        assert!(
            revs.windows(2).all(|w| w[0] < w[1]),
            "one writer's revisions increase"
        );
        for r in revs {
            assert!(all.insert(r), "revision {r} handed out twice");
        }
    }
    assert_eq!(all.len(), 400);
    assert_eq!(all.iter().max(), Some(&400));
    let page = s.list(&ListQuery::all("configmaps")).unwrap();
    assert_eq!((page.items.len(), page.revision), (400, 400));
    for it in &page.items {
        assert_eq!(rv(&it.value), it.revision);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_watch_stream_receives_live_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut w = s.watch("configmaps", 0).unwrap();
    let s2 = s.clone();
    let writer = tokio::task::spawn_blocking(move || {
        for i in 0..20 {
            s2.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
                .unwrap();
        }
    });
    let mut revs = Vec::new();
    while revs.len() < 20 {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.next())
            .await
            .expect("event within 20 s")
            .expect("watch open")
            .expect("no error");
        revs.push(ev.revision);
    }
    writer.await.unwrap();
    assert_eq!(revs, (1..=20).collect::<Vec<_>>());
    // The Stream impl yields the same kind of items.
    s.write(|t| t.delete(&key("ns", "o0"), None)).unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(20), futures::StreamExt::next(&mut w))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((ev.revision, ev.kind), (21, EventKind::Deleted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_slow_watcher_resubscribes_without_losing_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_buffered(dir.path(), 2);
    let mut w = s.watch("configmaps", 0).unwrap();
    let s2 = s.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..30 {
            s2.write(|t| t.create(&key("ns", &format!("o{i}")), cm("ns", "o", "x")))
                .unwrap();
        }
    })
    .await
    .unwrap();
    let mut revs = Vec::new();
    while revs.len() < 30 {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.next())
            .await
            .expect("event within 20 s")
            .expect("watch open")
            .expect("no error");
        revs.push(ev.revision);
    }
    assert_eq!(revs, (1..=30).collect::<Vec<_>>());
}

#[test]
fn later_pages_are_read_at_the_first_pages_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.write(|t| {
        for i in 0..10 {
            t.create(
                &key("ns", &format!("o{i}")),
                cm("ns", &format!("o{i}"), "old"),
            )?;
        }
        Ok(())
    })
    .unwrap();
    let q = ListQuery {
        limit: Some(4),
        ..ListQuery::in_namespace("configmaps", "ns")
    };
    let first = s.list_matching(&q, |_| true).unwrap();
    let at = first.revision;
    // Between the pages: one object of the rest is deleted, one modified, one created.
    s.write(|t| t.delete(&key("ns", "o5"), None)).unwrap();
    let o6 = s.get(&key("ns", "o6")).unwrap().unwrap();
    s.write(|t| t.update(&key("ns", "o6"), cm("ns", "o6", "new"), Some(o6.revision)))
        .unwrap();
    s.write(|t| t.create(&key("ns", "o55"), cm("ns", "o55", "new")))
        .unwrap();
    let mut names = Vec::new();
    let mut q2 = ListQuery {
        start_after: first.next_start(),
        ..q.clone()
    };
    loop {
        let page = s.list_matching_at(&q2, at, |_| true).unwrap();
        assert_eq!(
            page.revision, at,
            "every page reports the snapshot revision"
        );
        for it in &page.items {
            assert!(
                it.revision <= at,
                "{:?} is newer than the snapshot",
                it.value
            );
            assert_eq!(it.value["data"]["v"], "old");
            assert_eq!(rv(&it.value), it.revision);
            names.push(it.value["metadata"]["name"].as_str().unwrap().to_string());
        }
        match page.next_start() {
            Some(n) => q2.start_after = Some(n),
            None => break,
        }
    }
    assert_eq!(names, ["o4", "o5", "o6", "o7", "o8", "o9"]);
    // The current state is unchanged by reading the past.
    let now = s
        .list_matching(&ListQuery::in_namespace("configmaps", "ns"), |_| true)
        .unwrap();
    let now_names: Vec<&str> = now
        .items
        .iter()
        .map(|i| i.value["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        now_names,
        ["o0", "o1", "o2", "o3", "o4", "o55", "o6", "o7", "o8", "o9"]
    );
}

#[test]
fn a_list_at_a_compacted_revision_is_expired() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        dir.path(),
        StoreOptions {
            history: 4,
            ..StoreOptions::default()
        },
    );
    let (_, at) = s
        .write(|t| t.create(&key("ns", "a"), cm("ns", "a", "0")))
        .unwrap();
    for i in 0..40 {
        let cur = s.get(&key("ns", "a")).unwrap().unwrap();
        s.write(|t| {
            t.update(
                &key("ns", "a"),
                cm("ns", "a", &i.to_string()),
                Some(cur.revision),
            )
        })
        .unwrap();
    }
    assert!(s.compacted_revision() > at);
    let err = s
        .list_matching_at(&ListQuery::all("configmaps"), at, |_| true)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Expired { requested, .. } if requested == at),
        "{err:?}"
    );
}

/// What a scan visited: (namespace, name, revision, the stored JSON parsed).
fn scanned(s: &Store, q: &ListQuery, at: Option<u64>) -> (u64, Vec<(String, String, u64, Value)>) {
    let mut started = None;
    let mut seen = Vec::new();
    let rev = s
        .scan(
            q,
            at,
            |rev| started = Some(rev),
            |o| {
                let v: Value = serde_json::from_str(o.json).expect("stored JSON parses");
                seen.push((o.namespace.to_string(), o.name.to_string(), o.revision, v));
                true
            },
        )
        .unwrap();
    assert_eq!(
        started,
        Some(rev),
        "start gets the snapshot's revision before the items"
    );
    (rev, seen)
}

#[test]
fn scan_streams_stored_json_now_and_as_of_a_past_revision_and_stops_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    for (ns, name) in [("a", "x"), ("b", "y"), ("b", "z")] {
        s.write(|t| t.create(&key(ns, name), cm(ns, name, "1")))
            .unwrap();
    }
    let at = s.revision();
    s.write(|t| t.update(&key("b", "y"), cm("b", "y", "2"), None))
        .unwrap();
    s.write(|t| t.delete(&key("a", "x"), None)).unwrap();
    s.write(|t| t.create(&key("a", "w"), cm("a", "w", "new")))
        .unwrap();

    let all = ListQuery::all("configmaps");
    let (rev, now) = scanned(&s, &all, None);
    assert_eq!(rev, s.revision());
    let names: Vec<_> = now.iter().map(|i| (i.0.as_str(), i.1.as_str())).collect();
    assert_eq!(names, [("a", "w"), ("b", "y"), ("b", "z")]);
    assert_eq!(now[1].3["data"]["v"], "2");
    for (_, _, r, v) in &now {
        assert_eq!(
            rv(v),
            *r,
            "the revision given is the stored resourceVersion"
        );
    }

    // As of `at`: the update, delete and create are undone, same as list_matching_at.
    let (rev, past) = scanned(&s, &all, Some(at));
    assert_eq!(rev, at);
    let names: Vec<_> = past.iter().map(|i| (i.0.as_str(), i.1.as_str())).collect();
    assert_eq!(names, [("a", "x"), ("b", "y"), ("b", "z")]);
    assert_eq!(past[1].3["data"]["v"], "1");
    let listed = s.list_matching_at(&all, at, |_| true).unwrap();
    let listed: Vec<Value> = listed.items.into_iter().map(|i| i.value).collect();
    let past_values: Vec<Value> = past.into_iter().map(|i| i.3).collect();
    assert_eq!(past_values, listed);

    // One namespace, after a key; and a visitor that stops after the first object.
    let q = ListQuery {
        start_after: Some(("b".into(), "y".into())),
        ..ListQuery::in_namespace("configmaps", "b")
    };
    let (_, rest) = scanned(&s, &q, Some(at));
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1, "z");
    let mut visited = 0;
    s.scan(
        &all,
        None,
        |_| {},
        |_| {
            visited += 1;
            false
        },
    )
    .unwrap();
    assert_eq!(visited, 1);
}

#[test]
fn scan_of_a_compacted_revision_is_expired_before_anything_is_visited() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        dir.path(),
        StoreOptions {
            history: 4,
            ..StoreOptions::default()
        },
    );
    for i in 0..40 {
        s.write(|t| t.create(&key("a", &format!("c{i}")), cm("a", "c", "1")))
            .unwrap();
    }
    assert!(s.compacted_revision() > 1);
    let mut started = false;
    let err = s
        .scan(
            &ListQuery::all("configmaps"),
            Some(1),
            |_| started = true,
            |_| true,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Expired { .. }), "{err:?}");
    assert!(!started);
}

/// A filtered watch gets only its namespace's (and, when named, its object's) events: in the
/// replayed history, live, and after falling behind and catching up; the others do not reach it.
#[test]
fn a_filtered_watch_sees_only_its_objects_in_history_live_and_after_a_lag() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_buffered(dir.path(), 2);
    s.write(|t| t.create(&key("a", "x"), cm("a", "x", "0")))
        .unwrap(); // 1
    s.write(|t| t.create(&key("b", "x"), cm("b", "x", "0")))
        .unwrap(); // 2
    let in_a = store::WatchFilter {
        namespace: Some("a".into()),
        name: None,
    };
    let mut w = s.watch_filtered("configmaps", 0, in_a).unwrap();
    let named = store::WatchFilter {
        namespace: Some("b".into()),
        name: Some("x".into()),
    };
    let mut one = s.watch_filtered("configmaps", 0, named).unwrap();
    assert_eq!(next_event(&mut w).unwrap().revision, 1, "history: a's only");
    no_event_pending(&mut w);
    assert_eq!(next_event(&mut one).unwrap().revision, 2);
    no_event_pending(&mut one);

    // Live, more than the 2-slot channel holds: b's writes never reach `w`, a's all do, once.
    for i in 0..10 {
        s.write(|t| {
            t.create(&key("b", &format!("o{i}")), cm("b", "o", "x"))?;
            t.create(&key("a", &format!("o{i}")), cm("a", "o", "x"))
        })
        .unwrap(); // 3..=12
    }
    let got: Vec<(u64, String)> = collect(&mut w, 10)
        .iter()
        .map(|e| (e.revision, e.key.namespace.clone()))
        .collect();
    assert_eq!(
        got,
        (3..=12).map(|r| (r, "a".to_string())).collect::<Vec<_>>()
    );
    no_event_pending(&mut w);
    no_event_pending(&mut one);
    s.write(|t| t.update(&key("b", "x"), cm("b", "x", "1"), None))
        .unwrap(); // 13
    assert_eq!(next_event(&mut one).unwrap().revision, 13);
    no_event_pending(&mut w);
    assert_eq!(w.bookmark_revision(), Some(13));
}
