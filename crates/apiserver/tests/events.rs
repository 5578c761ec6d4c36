//! Events: core/v1 and events.k8s.io/v1 are one set of objects (created through one API, read
//! through the other with the fields converted), their field selectors, kube-rs' `Recorder` shown by
//! the real `kubectl describe` and `kubectl events` (1.33 and 1.27), and expiry after the TTL seen
//! by a watcher as DELETED.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference, Pod};
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use serde_json::json;

async fn start(ttl: Option<Duration>) -> (apiserver::ControlPlane, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    if let Some(ttl) = ttl {
        cfg.event_ttl = ttl;
    }
    (apiserver::ControlPlane::start(cfg).await.unwrap(), dir)
}

/// The real `kubectl.<version>` (beside the file `/usr/bin/kubectl` links to); fails loudly.
fn kubectl_binary(version: &str) -> PathBuf {
    let name = format!("kubectl.{version}");
    let direct = Path::new("/usr/bin").join(&name);
    if direct.is_file() {
        return direct;
    }
    let dispatcher = std::fs::canonicalize("/usr/bin/kubectl")
        .unwrap_or_else(|e| panic!("/usr/bin/kubectl is missing ({e}); run scripts/setup"));
    let beside = dispatcher.with_file_name(&name);
    assert!(
        beside.is_file(),
        "{name} is missing beside {}; run scripts/setup",
        dispatcher.display()
    );
    beside
}

async fn kubectl(
    version: &str,
    cp: &apiserver::ControlPlane,
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    use tokio::io::AsyncWriteExt;
    let mut c = tokio::process::Command::new(kubectl_binary(version));
    c.arg("--kubeconfig")
        .arg(cp.kubeconfig_path("global"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("kubectl runs");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .await
        .unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CORE_EVENT: &str = r#"{"apiVersion": "v1", "kind": "Event",
  "metadata": {"name": "web.1", "namespace": "default"},
  "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "apiVersion": "v1"},
  "reason": "Pulled", "message": "Container image pulled", "type": "Normal",
  "source": {"component": "kubelet", "host": "node-1"},
  "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 2,
  "reportingComponent": "kubelet", "reportingInstance": "node-1"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_created_as_core_v1_reads_back_through_events_k8s_io_and_the_reverse() {
    let (cp, _d) = start(None).await;
    kubectl("1.33", &cp, &["create", "-f", "-"], Some(CORE_EVENT)).await;
    let client = cp.client("global").unwrap();
    let new: Api<NewEvent> = Api::namespaced(client.clone(), "default");
    let e = new.get("web.1").await.unwrap();
    assert_eq!(e.note.as_deref(), Some("Container image pulled"));
    assert_eq!(e.regarding.as_ref().unwrap().name.as_deref(), Some("web"));
    assert_eq!(e.reporting_controller.as_deref(), Some("kubelet"));
    assert_eq!(e.deprecated_count, Some(2));
    assert_eq!(
        e.deprecated_source.as_ref().unwrap().host.as_deref(),
        Some("node-1")
    );
    // Through kubectl too, as events.k8s.io JSON.
    let raw = kubectl(
        "1.33",
        &cp,
        &[
            "get",
            "events.v1.events.k8s.io",
            "web.1",
            "-n",
            "default",
            "-o",
            "json",
        ],
        None,
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v["note"], "Container image pulled");
    assert!(v.get("message").is_none(), "{v}");

    // kubectl's table of events.k8s.io Events shows the same columns as core/v1's.
    let table = kubectl(
        "1.33",
        &cp,
        &["get", "events.v1.events.k8s.io", "-n", "default"],
        None,
    )
    .await;
    let header = table.lines().next().unwrap();
    assert!(
        header.contains("REASON") && header.contains("OBJECT"),
        "{table}"
    );
    assert!(
        table.contains("Pulled")
            && table.contains("pod/web")
            && table.contains("Container image pulled"),
        "{table}"
    );
    // The reverse: created through events.k8s.io, read as core/v1.
    let created: NewEvent = serde_json::from_value(json!({
        "metadata": {"name": "web.2", "namespace": "default"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "regarding": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Killing", "note": "Stopping container web", "type": "Warning",
        "action": "Kill", "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
    }))
    .unwrap();
    let back = new.create(&PostParams::default(), &created).await.unwrap();
    assert_eq!(back.note.as_deref(), Some("Stopping container web"));
    let core: Api<CoreEvent> = Api::namespaced(client, "default");
    let c = core.get("web.2").await.unwrap();
    assert_eq!(c.message.as_deref(), Some("Stopping container web"));
    assert_eq!(c.involved_object.name.as_deref(), Some("web"));
    assert_eq!(c.reporting_component.as_deref(), Some("example.com/ctl"));
    assert_eq!(c.action.as_deref(), Some("Kill"));
    // One set: both lists hold both events.
    assert_eq!(
        core.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    assert_eq!(
        new.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );

    // Field selectors: core/v1 labels on core/v1, events.k8s.io labels on events.k8s.io.
    let by_type = core
        .list(&ListParams::default().fields("type=Warning,involvedObject.name=web"))
        .await
        .unwrap();
    let names: Vec<_> = by_type
        .items
        .iter()
        .map(|e| e.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["web.2"]);
    let by_regarding = new
        .list(&ListParams::default().fields("regarding.name=web,reportingController=kubelet"))
        .await
        .unwrap();
    let names: Vec<_> = by_regarding
        .items
        .iter()
        .map(|e| e.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["web.1"]);
    let refused = new
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .await
        .unwrap_err();
    assert!(matches!(refused, kube::Error::Api(s) if s.code == 400));
}

async fn recorder_event_shown_by_kubectl(version: &str) {
    let (cp, _d) = start(None).await;
    let client = cp.client("global").unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }))
    .unwrap();
    let pod = pods.create(&PostParams::default(), &pod).await.unwrap();
    let reference = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: pod.metadata.namespace.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    };
    let recorder = Recorder::new(
        client,
        Reporter {
            controller: "marketplace-test".into(),
            instance: Some("test-1".into()),
        },
    );
    recorder
        .publish(
            &Event {
                type_: EventType::Warning,
                reason: "BackOff".into(),
                note: Some("Back-off pulling image nginx".into()),
                action: "Pulling".into(),
                secondary: None,
            },
            &reference,
        )
        .await
        .unwrap();
    // The same event again: the Recorder merge-patches its series through events.k8s.io, and the
    // stored core/v1 Event carries it.
    let again = Event {
        type_: EventType::Warning,
        reason: "BackOff".into(),
        note: Some("Back-off pulling image nginx".into()),
        action: "Pulling".into(),
        secondary: None,
    };
    recorder.publish(&again, &reference).await.unwrap();
    let core: Api<CoreEvent> = Api::namespaced(cp.client("global").unwrap(), "default");
    let stored = core.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        stored[0].series.as_ref().and_then(|s| s.count),
        Some(2),
        "{stored:?}"
    );
    assert_eq!(
        stored[0].message.as_deref(),
        Some("Back-off pulling image nginx")
    );
    let describe = kubectl(
        version,
        &cp,
        &["describe", "pod", "web", "-n", "default"],
        None,
    )
    .await;
    let events = describe
        .split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("no Events section in {describe}"));
    assert!(
        events.contains("BackOff") && events.contains("Back-off pulling image nginx"),
        "{describe}"
    );
    let listed = kubectl(
        version,
        &cp,
        &["events", "--for", "pod/web", "-n", "default"],
        None,
    )
    .await;
    assert!(
        listed.lines().next().unwrap().contains("REASON")
            && listed.contains("BackOff")
            && listed.contains("Back-off pulling image nginx"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_33_describe_and_events_show_a_kube_rs_recorder_event() {
    recorder_event_shown_by_kubectl("1.33").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_27_describe_and_events_show_a_kube_rs_recorder_event() {
    recorder_event_shown_by_kubectl("1.27").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_expire_after_the_ttl_and_watchers_see_deleted() {
    let ttl = Duration::from_secs(2);
    let (cp, _d) = start(Some(ttl)).await;
    let core: Api<CoreEvent> = Api::namespaced(cp.client("global").unwrap(), "default");
    let ev: CoreEvent = serde_json::from_str(CORE_EVENT).unwrap();
    // Taken before the create: the server's write (from which the TTL counts) comes after it,
    // while the create's response may reach us after the expiry task has seen the write.
    let written = Instant::now();
    let created = core.create(&PostParams::default(), &ev).await.unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    // A ConfigMap is not an Event: it never expires.
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(cp.client("global").unwrap(), "default");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "stays"}})).unwrap(),
    )
    .await
    .unwrap();
    let mut w = core
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let deleted = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match w.next().await.expect("watch open").unwrap() {
                WatchEvent::Deleted(e) => return e,
                WatchEvent::Bookmark(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await
    .expect("the event expired within 60 s");
    assert_eq!(deleted.metadata.name.as_deref(), Some("web.1"));
    assert!(
        written.elapsed() >= ttl,
        "deleted after {:?}",
        written.elapsed()
    );
    assert!(core.get_opt("web.1").await.unwrap().is_none());
    assert!(cms.get_opt("stays").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stored_before_a_restart_expire_from_their_own_timestamps_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = |ttl| {
        let mut cfg = apiserver::Config::new(dir.path());
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        cfg.event_ttl = ttl;
        cfg
    };
    // First run: a long TTL, so nothing expires.
    let cp = apiserver::ControlPlane::start(config(Duration::from_secs(3600)))
        .await
        .unwrap();
    // Through kubectl: an in-process client would keep the router (and the store) alive in its
    // buffer task for a moment after the shutdown.
    let old = CORE_EVENT.replace("\"web.1\"", "\"old\"");
    kubectl("1.33", &cp, &["create", "-f", "-"], Some(&old)).await;
    cp.shutdown().await;
    // Second run with a 1 s TTL: only the list at start knows the event (it was written before),
    // finds it past its TTL counted from its own timestamps, and deletes it.
    let cp = apiserver::ControlPlane::start(config(Duration::from_secs(1)))
        .await
        .unwrap();
    let core: Api<CoreEvent> = Api::namespaced(cp.client("global").unwrap(), "default");
    let start = Instant::now();
    while core.get_opt("old").await.unwrap().is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "old event never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_an_event_again_restarts_its_ttl() {
    let ttl = Duration::from_secs(4);
    let (cp, _d) = start(Some(ttl)).await;
    let core: Api<CoreEvent> = Api::namespaced(cp.client("global").unwrap(), "default");
    let ev: CoreEvent = serde_json::from_str(CORE_EVENT).unwrap();
    let created = core.create(&PostParams::default(), &ev).await.unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    // Time passing is what this test is about: write again 1.5 s into the TTL.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let patch = json!({"count": 3, "lastTimestamp": "2026-01-01T00:05:00Z"});
    core.patch(
        "web.1",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .expect("the event is still there 1.5 s into a 4 s TTL");
    let updated = Instant::now();
    let mut w = core
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match w.next().await.expect("watch open").unwrap() {
                WatchEvent::Deleted(_) => return,
                _ => continue,
            }
        }
    })
    .await
    .expect("the event expired within 60 s");
    // Expiry counted from the creation would have come 1.5 s after the update.
    assert!(
        updated.elapsed() >= ttl - Duration::from_millis(500),
        "deleted {:?} after the update, TTL {ttl:?}",
        updated.elapsed()
    );
}
