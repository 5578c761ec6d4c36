//! Acceptance (issue 3): `kill -9` the real `marketplace serve` under write load (HTTPS, admin
//! token), restart it on the same data dir, and find every acknowledged write there, with the
//! resourceVersion it was acknowledged with, and revisions still increasing.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{DEADLINE, Server};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};

const WRITERS: usize = 8;

fn rv(meta: &ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .expect("every object carries metadata.resourceVersion")
        .parse()
        .expect("resourceVersion is a decimal revision")
}

fn config_map(name: &str, value: u64) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("v".to_string(), value.to_string())])),
        ..Default::default()
    }
}

/// Cheap randomness without a dependency: the clock's nanoseconds.
fn random_below(n: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos ^ (nanos >> 11)).wrapping_mul(0x9E37_79B9_7F4A_7C15) % n
}

/// One acknowledged write: the object, the value it holds, the resourceVersion of the answer.
#[derive(Clone, Debug)]
struct Ack {
    name: String,
    value: u64,
    rv: u64,
}

/// Polls an authenticated API call until the restarted server answers it.
async fn wait_until_serving(client: &kube::Client) {
    let api: Api<Namespace> = Api::all(client.clone());
    let start = Instant::now();
    loop {
        match api.list(&ListParams::default()).await {
            Ok(_) => return,
            Err(e) => assert!(
                start.elapsed() < DEADLINE,
                "server not serving after restart: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_write_load_keeps_every_acknowledged_write() {
    let mut server = Server::start(&[]);
    let client = server.client("global").await;
    let ns_api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("crash".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    ns_api
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "crash");

    // Each writer creates new objects and moves its own counter forward with preconditions.
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (api, acks, killed) = (api.clone(), acks.clone(), killed.clone());
            tokio::spawn(async move {
                let counter = format!("counter-{t}");
                let mut cur = match api
                    .create(&PostParams::default(), &config_map(&counter, 0))
                    .await
                {
                    Ok(c) => c,
                    Err(_) if killed.load(Ordering::SeqCst) => return,
                    Err(e) => panic!("creating {counter} before the kill failed: {e}"),
                };
                for i in 1u64.. {
                    let name = format!("w{t}-{i}");
                    let res = api
                        .create(&PostParams::default(), &config_map(&name, i))
                        .await;
                    let created = match res {
                        Ok(c) => c,
                        Err(_) if killed.load(Ordering::SeqCst) => return,
                        Err(e) => panic!("create {name} failed before the kill: {e}"),
                    };
                    acks.lock().unwrap().push(Ack {
                        name,
                        value: i,
                        rv: rv(&created.metadata),
                    });
                    let mut next = cur.clone();
                    next.data = config_map(&counter, i).data;
                    match api.replace(&counter, &PostParams::default(), &next).await {
                        Ok(updated) => {
                            acks.lock().unwrap().push(Ack {
                                name: counter.clone(),
                                value: i,
                                rv: rv(&updated.metadata),
                            });
                            cur = updated;
                        }
                        Err(_) if killed.load(Ordering::SeqCst) => return,
                        Err(e) => panic!("update {counter} failed before the kill: {e}"),
                    }
                }
            })
        })
        .collect();

    // Kill at a random moment under load: after a random number of acknowledged writes.
    let target = 60 + random_below(240) as usize;
    let start = Instant::now();
    while acks.lock().unwrap().len() < target {
        assert!(
            start.elapsed() < DEADLINE,
            "only {} writes acknowledged in {DEADLINE:?}: {}",
            acks.lock().unwrap().len(),
            common::tail(&server.log(), 2000)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    killed.store(true, Ordering::SeqCst);
    let mut child = server.child.take().expect("server process");
    child.kill().expect("kill -9 the server"); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        w.await.expect("writer task");
    }
    let acks = acks.lock().unwrap().clone();
    assert!(acks.len() >= target);
    let max_rv = acks.iter().map(|a| a.rv).max().unwrap();

    server.restart();
    let client = server.client("global").await;
    wait_until_serving(&client).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "crash");

    // Every acknowledged create is there with its acknowledged resourceVersion; every counter is
    // at least at its last acknowledged value.
    let mut last_counter: HashMap<String, &Ack> = HashMap::new();
    for ack in &acks {
        if ack.name.starts_with("counter-") {
            let e = last_counter.entry(ack.name.clone()).or_insert(ack);
            if ack.value > e.value {
                *e = ack;
            }
            continue;
        }
        let got = api
            .get_opt(&ack.name)
            .await
            .expect("get after restart")
            .unwrap_or_else(|| panic!("acknowledged write {} (rv {}) lost", ack.name, ack.rv));
        assert_eq!(
            got.data.unwrap()["v"],
            ack.value.to_string(),
            "{}",
            ack.name
        );
        assert_eq!(
            rv(&got.metadata),
            ack.rv,
            "{} keeps its resourceVersion",
            ack.name
        );
    }
    assert!(!last_counter.is_empty());
    for (name, ack) in last_counter {
        let got = api.get(&name).await.expect("counter after restart");
        let v: u64 = got.data.unwrap()["v"].parse().unwrap();
        assert!(
            v >= ack.value,
            "{name}: acknowledged {} but found {v}",
            ack.value
        );
        assert!(rv(&got.metadata) >= ack.rv);
    }

    // Revisions keep increasing after the restart.
    let list = api.list(&ListParams::default()).await.unwrap();
    let list_rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert!(
        list_rv >= max_rv,
        "list revision {list_rv} behind acknowledged {max_rv}"
    );
    let fresh = api
        .create(&PostParams::default(), &config_map("after-restart", 0))
        .await
        .expect("write after restart");
    assert!(
        rv(&fresh.metadata) > max_rv,
        "a write after restart gets a new, higher revision"
    );
}

/// A second `serve` on a data dir in use stops before it starts anything (no registry, no store
/// opened) and says why; the first keeps serving.
#[test]
fn a_second_serve_on_the_same_data_dir_refuses_to_start_and_the_first_keeps_serving() {
    let s = Server::start_with(&[], &[], &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(s.data_dir())
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run marketplace serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "the data dir {} is in use by another `marketplace serve`",
            s.data_dir().display()
        )),
        "{err}"
    );
    assert!(!err.contains("registry on"), "nothing was started: {err}");
    assert!(s.ok(&["get", "namespaces"]).contains("default"));
}
