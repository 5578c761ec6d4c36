//! Acceptance (issue 3): many writers updating one object through the real `marketplace serve`
//! over HTTPS with the admin token. Every write either lands or gets 409 Conflict, none is lost.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use common::Server;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};

const WRITERS: usize = 16;
const ATTEMPTS: usize = 12;
const PATCHES: usize = 5;

fn rv(meta: &ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .expect("every object carries metadata.resourceVersion")
        .parse()
        .expect("resourceVersion is a decimal revision")
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

#[derive(Default)]
struct Tally {
    landed_rvs: Vec<u64>,
    conflicts: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_one_object_each_land_or_get_409_and_none_is_lost() {
    let server = Server::start(&[]);
    let client = server.client("global").await;
    create_namespace(&client, "conc").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "conc");
    let counter = ConfigMap {
        metadata: ObjectMeta {
            name: Some("counter".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("n".to_string(), "0".to_string())])),
        ..Default::default()
    };
    let created = api
        .create(&PostParams::default(), &counter)
        .await
        .expect("create the counter");
    let start_rv = rv(&created.metadata);

    // Phase 1: read-modify-write with the read resourceVersion as precondition (PUT).
    let tally = Arc::new(Mutex::new(Tally::default()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (api, tally) = (api.clone(), tally.clone());
            tokio::spawn(async move {
                for _ in 0..ATTEMPTS {
                    let cur = api.get("counter").await.expect("get the counter");
                    let n: u64 = cur.data.as_ref().unwrap()["n"].parse().unwrap();
                    let mut next = cur.clone();
                    next.data
                        .as_mut()
                        .unwrap()
                        .insert("n".into(), (n + 1).to_string());
                    match api.replace("counter", &PostParams::default(), &next).await {
                        Ok(done) => {
                            assert!(rv(&done.metadata) > rv(&cur.metadata));
                            tally.lock().unwrap().landed_rvs.push(rv(&done.metadata));
                        }
                        Err(kube::Error::Api(status)) if status.code == 409 => {
                            assert_eq!(status.reason, "Conflict", "409 carries reason Conflict");
                            tally.lock().unwrap().conflicts += 1;
                        }
                        Err(e) => panic!("an update neither landed nor got 409: {e}"),
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer task");
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let landed = tally.landed_rvs.len();
    assert_eq!(
        landed + tally.conflicts,
        WRITERS * ATTEMPTS,
        "every attempt accounted for"
    );
    assert!(landed > 0, "some updates landed");
    assert!(tally.conflicts > 0, "16 racing writers produce conflicts");
    let distinct: HashSet<u64> = tally.landed_rvs.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        landed,
        "each landed write got its own resourceVersion"
    );
    let fin = api.get("counter").await.unwrap();
    assert_eq!(
        fin.data.as_ref().unwrap()["n"],
        landed.to_string(),
        "the counter equals the number of landed writes: none lost"
    );
    assert_eq!(rv(&fin.metadata), *distinct.iter().max().unwrap());
    assert!(rv(&fin.metadata) > start_rv);
}

/// kube-apiserver retries an unconditional patch internally on a storage conflict, so it never
/// answers 409: neither do we, under 16 concurrent writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unconditional_merge_patches_all_land() {
    let server = Server::start(&[]);
    let client = server.client("global").await;
    create_namespace(&client, "conc").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "conc");
    let counter = ConfigMap {
        metadata: ObjectMeta {
            name: Some("counter".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("n".to_string(), "0".to_string())])),
        ..Default::default()
    };
    api.create(&PostParams::default(), &counter)
        .await
        .expect("create the counter");
    // Unconditional merge patches, each adding its own key: all of them must land.
    let patchers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let api = api.clone();
            tokio::spawn(async move {
                for j in 0..PATCHES {
                    let patch = serde_json::json!({"data": {format!("w{w}-{j}"): "x"}});
                    api.patch("counter", &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .expect("an unconditional merge patch lands");
                }
            })
        })
        .collect();
    for p in patchers {
        p.await.expect("patcher task");
    }
    let fin = api.get("counter").await.unwrap();
    let data = fin.data.unwrap();
    for w in 0..WRITERS {
        for j in 0..PATCHES {
            assert!(
                data.contains_key(&format!("w{w}-{j}")),
                "patch w{w}-{j} was lost"
            );
        }
    }
    assert_eq!(data["n"], "0", "patches kept the counter");
}
