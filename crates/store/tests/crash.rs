//! Crash safety: a child process (this test binary re-executed, running the ignored
//! `crash_child_writer`) writes in a loop from several threads and prints every acknowledged
//! write; the parent `kill -9`s it at a random moment, reopens the store and checks that every
//! acknowledged write is there, that no transaction is half-applied, and that revisions keep
//! increasing. Three rounds on the same store, each child continuing where the last one died.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use store::{Key, ListQuery, Store, StoreOptions};

const CHILD_DIR_ENV: &str = "STORE_CRASH_CHILD_DIR";
const THREADS: usize = 4;
/// Each transaction deletes the item written this many steps before.
const KEEP_ITEMS: u64 = 10;

fn counter(t: usize, which: &str) -> Key {
    Key::new("example.com/counters", format!("t{t}"), which)
}

fn item(t: usize, i: u64) -> Key {
    Key::new("configmaps", format!("t{t}"), format!("item-{i}"))
}

fn opts() -> StoreOptions {
    StoreOptions {
        history: 500, // small, so compaction also runs under the crash
        ..StoreOptions::default()
    }
}

/// The child: writes until killed. Never returns when run by the parent.
#[test]
#[ignore = "run only as the child process of crash_kill_9_keeps_every_acknowledged_write"]
fn crash_child_writer() {
    let dir = std::env::var(CHILD_DIR_ENV).expect("child needs STORE_CRASH_CHILD_DIR");
    let s = Store::open(&Path::new(&dir).join("cluster.db"), opts()).unwrap();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut i = s
                    .get(&counter(t, "a"))
                    .unwrap()
                    .map(|c| c.value["n"].as_u64().unwrap())
                    .unwrap_or(0);
                loop {
                    i += 1;
                    let (_, rev) = s
                        .write(|tx| {
                            let a = json!({"metadata": {"name": "a"}, "n": i});
                            let b = json!({"metadata": {"name": "b"}, "n": i});
                            if i == 1 {
                                tx.create(&counter(t, "a"), a)?;
                                tx.create(&counter(t, "b"), b)?;
                            } else {
                                tx.update(&counter(t, "a"), a, None)?;
                                tx.update(&counter(t, "b"), b, None)?;
                            }
                            tx.create(&item(t, i), json!({"metadata": {"name": "i"}, "i": i}))?;
                            if i > KEEP_ITEMS {
                                tx.delete(&item(t, i - KEEP_ITEMS), None)?;
                            }
                            Ok(())
                        })
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {t} {i} {rev}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    // The writers loop until the parent kills this process; a writer that stops is a failure.
    #[allow(clippy::never_loop)]
    for h in handles {
        let Err(panic) = h.join();
        std::panic::resume_unwind(panic);
    }
}

#[derive(Clone, Copy, Debug)]
struct Ack {
    thread: usize,
    i: u64,
    rev: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    let ack = Ack {
        thread: parts.next()?.parse().ok()?,
        i: parts.next()?.parse().ok()?,
        rev: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(ack)
}

/// Cheap randomness without a dependency: the clock's nanoseconds.
fn random_below(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos ^ (nanos >> 7)).wrapping_mul(0x9E37_79B9_7F4A_7C15) % n
}

/// Runs one child until it acknowledged a random number of writes, kills it with SIGKILL, and
/// returns every acknowledgement it printed.
fn run_and_kill(dir: &Path) -> Vec<Ack> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child writer");
    let acks = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let acks = acks.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(a) = parse_ack(&line) {
                    acks.lock().unwrap().push(a);
                }
            }
        })
    };
    let target = 30 + random_below(400) as usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.lock().unwrap().len() < target {
        assert!(
            Instant::now() < deadline,
            "child acknowledged only {} writes in 120 s",
            acks.lock().unwrap().len()
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child writer exited on its own: {status}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("kill -9 the child"); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap();
    let acks = acks.lock().unwrap().clone();
    assert!(acks.len() >= target);
    acks
}

#[test]
fn crash_kill_9_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut last_max_rev = 0;
    for round in 0..3 {
        let acks = run_and_kill(dir.path());
        let s = Store::open(&dir.path().join("cluster.db"), opts()).expect("reopen after kill -9");
        let max_rev = acks.iter().map(|a| a.rev).max().unwrap();
        assert!(
            max_rev > last_max_rev,
            "round {round}: revisions keep increasing"
        );
        assert!(
            s.revision() >= max_rev,
            "round {round}: store revision {} is behind acknowledged revision {max_rev}",
            s.revision()
        );
        for t in 0..THREADS {
            let a = s.get(&counter(t, "a")).unwrap();
            let b = s.get(&counter(t, "b")).unwrap();
            let mine: Vec<&Ack> = acks.iter().filter(|a| a.thread == t).collect();
            let Some(last) = mine.iter().max_by_key(|a| a.i) else {
                continue;
            };
            let (a, b) = (a.expect("counter a exists"), b.expect("counter b exists"));
            let n = a.value["n"].as_u64().unwrap();
            assert!(
                n >= last.i,
                "round {round} thread {t}: acknowledged {} but stored {n}",
                last.i
            );
            assert_eq!(
                b.value["n"].as_u64().unwrap(),
                n,
                "both counters move in one transaction"
            );
            assert_eq!(a.revision, b.revision, "one transaction, one revision");
            assert!(a.revision >= last.rev);
            // The items of the last KEEP_ITEMS transactions exist, older ones were deleted with them.
            let page = s
                .list(&ListQuery::in_namespace("configmaps", format!("t{t}")))
                .unwrap();
            let mut items: Vec<u64> = page
                .items
                .iter()
                .map(|it| it.value["i"].as_u64().unwrap())
                .collect();
            items.sort();
            let want: Vec<u64> = (n.saturating_sub(KEEP_ITEMS) + 1..=n).collect();
            assert_eq!(
                items, want,
                "round {round} thread {t}: items match counter {n}"
            );
            for ack in mine.iter().filter(|a| a.i + KEEP_ITEMS > n) {
                let it = s
                    .get(&item(t, ack.i))
                    .unwrap()
                    .expect("acknowledged item exists");
                assert_eq!(
                    it.revision, ack.rev,
                    "item {} kept the acknowledged revision",
                    ack.i
                );
            }
        }
        // History after the crash replays in order, and the next write gets a new revision.
        let from = s.compacted_revision();
        let mut w = s.watch("configmaps", from).unwrap();
        let mut prev = from;
        while let Some(ev) = w.try_next() {
            let ev = ev.unwrap();
            assert!(ev.revision >= prev && ev.revision <= s.revision());
            prev = ev.revision;
        }
        let (_, rev) = s
            .write(|t| {
                t.create(
                    &Key::new("configmaps", "probe", format!("r{round}")),
                    json!({}),
                )
            })
            .unwrap();
        assert!(rev > max_rev && rev == s.revision());
        last_max_rev = rev;
    }
}
