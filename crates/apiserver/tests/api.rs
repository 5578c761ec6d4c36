//! API-level semantics through the in-process `kube::Client` (`ControlPlane::client`): generateName,
//! generation and status isolation, limit/continue, watch selectors, 410 after compaction as an
//! ERROR event, and bad input answered with a Status. (Garbage collection and namespace deletion are
//! controllers now: see crates/controllers/tests/gc.rs.)

mod support;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::{Value, json};

async fn start(history: Option<u64>) -> (apiserver::ControlPlane, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cp = start_in(dir.path(), |cfg| cfg.watch_history = history).await;
    (cp, dir)
}

/// A control plane over the data dir `dir`, on a free loopback port, with `edit` made to its
/// configuration.
async fn start_in(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut apiserver::Config),
) -> apiserver::ControlPlane {
    let mut cfg = apiserver::Config::new(dir);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    edit(&mut cfg);
    apiserver::ControlPlane::start(cfg).await.unwrap()
}

fn cm(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"a": "1"}}),
    )
    .unwrap()
}

#[tokio::test]
async fn generate_name_gets_a_random_suffix() {
    let (cp, _d) = start(None).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    let o: ConfigMap =
        serde_json::from_value(json!({"metadata": {"generateName": "job-"}})).unwrap();
    let a = api.create(&PostParams::default(), &o).await.unwrap();
    let b = api.create(&PostParams::default(), &o).await.unwrap();
    let (na, nb) = (a.metadata.name.unwrap(), b.metadata.name.unwrap());
    assert!(na.starts_with("job-") && na.len() == 9, "{na}");
    assert_ne!(na, nb);
}

#[tokio::test]
async fn generation_and_status_isolation_on_a_resource_with_status() {
    let (cp, _d) = start(None).await;
    let c = cp.client("global").unwrap();
    let api: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(c, "default");
    let svc = serde_json::from_value(
        json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}),
    )
    .unwrap();
    let s = api.create(&PostParams::default(), &svc).await.unwrap();
    assert_eq!(s.metadata.generation, None, "Services have no generation");
    assert!(
        s.status
            .as_ref()
            .and_then(|st| st.load_balancer.as_ref())
            .and_then(|l| l.ingress.as_ref())
            .is_none(),
        "status is ignored on create"
    );
    // Status through /status leaves spec and generation alone.
    let st = api
        .patch_status("s", &PatchParams::default(), &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "9.9.9.9"}]}}, "spec": {"ports": [{"port": 81}]}})))
        .await
        .unwrap();
    assert_eq!(
        st.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port,
        80
    );
    // Main-resource writes ignore status.
    let m = api
        .patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"x": "y"}}, "status": {"loadBalancer": {}}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        m.status.unwrap().load_balancer.unwrap().ingress.unwrap()[0]
            .ip
            .as_deref(),
        Some("9.9.9.9")
    );
    let m = api
        .patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ports": [{"port": 82}]}})),
        )
        .await
        .unwrap();
    assert_eq!(
        m.metadata.generation, None,
        "still none after a spec change"
    );
}

/// `metadata.generation` after create, then after each patch, of one object of `api`.
async fn generations<K>(api: &Api<K>, obj: Value, patches: &[Value]) -> Vec<Option<i64>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let o: K = serde_json::from_value(obj).unwrap();
    let mut out = vec![
        api.create(&PostParams::default(), &o)
            .await
            .unwrap()
            .meta()
            .generation,
    ];
    for p in patches {
        let o = api
            .patch(&name, &PatchParams::default(), &Patch::Merge(p))
            .await
            .unwrap();
        out.push(o.meta().generation);
    }
    out
}

#[tokio::test]
async fn generation_is_kept_per_kind_as_kube_apiserver_strategies_keep_it() {
    use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
    use k8s_openapi::api::{discovery::v1::EndpointSlice, scheduling::v1::PriorityClass};
    let (cp, _d) = start(None).await;
    let c = cp.client("global").unwrap();
    let labels = json!({"metadata": {"labels": {"x": "y"}}});
    let annotations = json!({"metadata": {"annotations": {"a": "b"}}});
    // ConfigMaps have none, whatever changes.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let got = generations(
        &cms,
        json!({"metadata": {"name": "g"}}),
        &[json!({"data": {"k": "v"}})],
    )
    .await;
    assert_eq!(got, [None, None]);
    // Deployments: spec and annotations bump it, labels do not.
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let d = json!({"metadata": {"name": "g"}, "spec": {
        "selector": {"matchLabels": {"app": "g"}},
        "template": {"metadata": {"labels": {"app": "g"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let got = generations(
        &deploys,
        d,
        &[
            labels.clone(),
            annotations.clone(),
            json!({"spec": {"replicas": 3}}),
        ],
    )
    .await;
    assert_eq!(got, [Some(1), Some(1), Some(2), Some(3)]);
    // Pods (since 1.33): spec changes only.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let p =
        json!({"metadata": {"name": "g"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let got = generations(
        &pods,
        p,
        &[
            labels.clone(),
            json!({"spec": {"activeDeadlineSeconds": 5}}),
        ],
    )
    .await;
    assert_eq!(got, [Some(1), Some(1), Some(2)]);
    // EndpointSlices: labels bump it too.
    let slices: Api<EndpointSlice> = Api::namespaced(c.clone(), "default");
    let e = json!({"metadata": {"name": "g"}, "addressType": "IPv4", "endpoints": []});
    let got = generations(&slices, e, &[labels.clone(), annotations.clone()]).await;
    assert_eq!(got, [Some(1), Some(2), Some(2)]);
    // PriorityClasses: 1, for good.
    let pcs: Api<PriorityClass> = Api::all(c);
    let pc = json!({"metadata": {"name": "g"}, "value": 10});
    let got = generations(&pcs, pc, &[json!({"description": "d"})]).await;
    assert_eq!(got, [Some(1), Some(1)]);
}

#[tokio::test]
async fn list_pages_with_limit_and_continue() {
    let (cp, _d) = start(None).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    for i in 0..7 {
        api.create(
            &PostParams::default(),
            &cm(&format!("c{i}"), json!({"n": i.to_string()})),
        )
        .await
        .unwrap();
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(3);
    let mut pages = 0;
    loop {
        let page = api.list(&lp).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        names.extend(page.items.iter().map(|o| o.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = ListParams::default().limit(3).continue_token(&c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("c{i}")).collect::<Vec<_>>());
    let sel = api
        .list(
            &ListParams::default()
                .labels("n in (1,2)")
                .fields("metadata.name!=c1"),
        )
        .await
        .unwrap();
    assert_eq!(sel.items.len(), 1);
}

#[tokio::test]
async fn watch_sees_objects_enter_and_leave_a_label_selector() {
    let (cp, _d) = start(None).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    let rv = support::list_revision(&api).await;
    let mut w = api
        .watch(&WatchParams::default().labels("app=x"), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("other", json!({"app": "y"})))
        .await
        .unwrap();
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "x"}}})),
    )
    .await
    .unwrap();
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"b": "2"}})),
    )
    .await
    .unwrap();
    api.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "z"}}})),
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(30), w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(match ev {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => panic!("{e:?}"),
        });
    }
    assert_eq!(seen, ["ADDED", "MODIFIED", "DELETED"]);
}

#[tokio::test]
async fn an_idle_watch_gets_bookmarks_and_ends_cleanly_at_its_timeout() {
    let (cp, _d) = start(None).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    let rv = support::list_revision(&api).await;
    let t0 = std::time::Instant::now();
    let mut w = api
        .watch(&WatchParams::default().timeout(7), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("first", json!({})))
        .await
        .unwrap();
    let mut seen = Vec::new();
    // Bookmarks come every 5 s; the stream ends by itself after 7 s.
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(30), w.next())
        .await
        .expect("the watch ends at its timeout")
    {
        seen.push(match ev.unwrap() {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            other => panic!("unexpected event {other:?}"),
        });
    }
    let took = t0.elapsed();
    assert_eq!(seen.first(), Some(&"ADDED"), "{seen:?}");
    assert!(
        seen.contains(&"BOOKMARK"),
        "no bookmark while idle: {seen:?}"
    );
    assert!(
        took >= Duration::from_secs(7) && took < Duration::from_secs(20),
        "ended after {took:?}, not at its 7 s timeout"
    );
}

#[tokio::test]
async fn watch_from_a_compacted_revision_gets_a_410_error_event() {
    let (cp, _d) = start(Some(10)).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    api.create(&PostParams::default(), &cm("churn", json!({})))
        .await
        .unwrap();
    for i in 0..60 {
        api.patch(
            "churn",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"i": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    let mut w = api
        .watch(&WatchParams::default(), "1")
        .await
        .unwrap()
        .boxed();
    match tokio::time::timeout(Duration::from_secs(30), w.next())
        .await
        .unwrap()
    {
        Some(Ok(WatchEvent::Error(e))) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected an ERROR event with 410, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_gets_a_status_and_changes_nothing() {
    let (cp, _d) = start(None).await;
    let c = cp.client("global").unwrap();
    let send = |method: &str, path: &str, ct: &str, body: Vec<u8>| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(body)
            .unwrap()
    };
    let cases: Vec<(http::Request<Vec<u8>>, u16, &str)> = vec![
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                b"{\"metadata\": ".to_vec(),
            ),
            400,
            "not valid JSON",
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/yaml",
                b"a: [".to_vec(),
            ),
            400,
            "not valid YAML",
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}"#.to_vec(),
            ),
            400,
            "kind",
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                br#"{"metadata":{"name":"Not_DNS"}}"#.to_vec(),
            ),
            422,
            "metadata.name",
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                vec![b' '; 4 * 1024 * 1024],
            ),
            413,
            "too large",
        ),
        (
            send(
                "GET",
                "/api/v1/namespaces/default/nothings",
                "application/json",
                vec![],
            ),
            404,
            "could not find",
        ),
        (
            send(
                "GET",
                "/apis/apps/v1/namespaces/default/deployments/nope",
                "application/json",
                vec![],
            ),
            404,
            "not found",
        ),
    ];
    for (req, code, text) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let err = c.request::<Value>(req).await.unwrap_err();
        match err {
            kube::Error::Api(e) => {
                assert_eq!(e.code, code, "{what}: {e:?}");
                assert!(e.message.contains(text), "{what}: {}", e.message);
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "store unchanged"
    );
}

fn names(l: &kube::core::ObjectList<ConfigMap>) -> Vec<String> {
    l.items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn continued_pages_show_the_first_pages_snapshot() {
    let (cp, _d) = start(None).await;
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    for i in 0..6 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(names(&first), ["c0", "c1"]);
    let rv = first.metadata.resource_version.clone().unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    // Changes after the first page: a deletion, an update and a creation in the rest of the list.
    api.delete("c3", &DeleteParams::default()).await.unwrap();
    api.patch(
        "c4",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "changed"}})),
    )
    .await
    .unwrap();
    api.create(&PostParams::default(), &cm("c25", json!({})))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut lp = ListParams::default().limit(2).continue_token(&token);
    loop {
        let page = api.list(&lp).await.unwrap();
        assert_eq!(page.metadata.resource_version.as_deref(), Some(rv.as_str()));
        for c in &page.items {
            assert_eq!(c.data.as_ref().unwrap()["a"], "1", "{c:?}");
        }
        seen.extend(names(&page));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = ListParams::default().limit(2).continue_token(&c),
            None => break,
        }
    }
    assert_eq!(seen, ["c2", "c3", "c4", "c5"]);
    // A fresh list sees the changes.
    let now = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&now), ["c0", "c1", "c2", "c25", "c4", "c5"]);
}

#[tokio::test]
async fn an_expired_continue_token_answers_410_with_a_fresh_token() {
    let (cp, _d) = start(Some(4)).await;
    let client = cp.client("global").unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..4 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    for i in 0..40 {
        api.patch(
            "c0",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": i.to_string()}})),
        )
        .await
        .unwrap();
    }
    // kube-rs turns the Status into an error without its metadata; read the raw body for the token.
    let req = http::Request::get(format!(
        "/api/v1/namespaces/default/configmaps?limit=2&continue={token}"
    ))
    .body(Vec::new())
    .unwrap();
    let err = client.request_text(req).await.unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("expected a Status, got {err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
    assert!(
        s.message.starts_with(
            "The provided continue parameter is too old to display a consistent list result."
        ),
        "{}",
        s.message
    );
    let fresh = s
        .metadata
        .and_then(|m| m.continue_)
        .expect("the 410 Status carries a fresh continue token");
    let rest = api
        .list(&ListParams::default().limit(2).continue_token(&fresh))
        .await
        .unwrap();
    assert_eq!(names(&rest), ["c2", "c3"]);
}

/// GET `path` with `accept`, as raw JSON.
async fn get_json(client: &kube::Client, path: &str, accept: &str) -> Value {
    let req = http::Request::get(path)
        .header("Accept", accept)
        .body(Vec::new())
        .unwrap();
    serde_json::from_str(&client.request_text(req).await.unwrap()).unwrap()
}

#[tokio::test]
async fn unpaged_lists_stream_every_object_as_json_and_as_table_same_as_pages() {
    let (cp, _d) = start(None).await;
    let client = cp.client("global").unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    // More than one 64 KiB chunk of items.
    let n = 300;
    for i in 0..n {
        let mut c = cm(
            &format!("s{i:03}"),
            json!({"even": (i % 2 == 0).to_string()}),
        );
        c.data = Some([("payload".to_string(), "x".repeat(300))].into());
        api.create(&PostParams::default(), &c).await.unwrap();
    }
    let path = "/api/v1/namespaces/default/configmaps";
    let streamed = get_json(&client, path, "application/json").await;
    assert_eq!(streamed["kind"], "ConfigMapList");
    assert_eq!(streamed["apiVersion"], "v1");
    let items = streamed["items"].as_array().unwrap();
    assert_eq!(items.len(), n);
    assert!(
        items
            .iter()
            .all(|o| o["kind"] == "ConfigMap" && o["apiVersion"] == "v1")
    );
    // The same objects, byte for byte as JSON values, as one page of a paged list.
    let paged = get_json(&client, &format!("{path}?limit=1000"), "application/json").await;
    assert_eq!(streamed["items"], paged["items"]);
    assert_eq!(
        streamed["metadata"]["resourceVersion"],
        paged["metadata"]["resourceVersion"]
    );

    // A label selector is applied while streaming.
    let even = api
        .list(&ListParams::default().labels("even=true"))
        .await
        .unwrap();
    assert_eq!(even.items.len(), n / 2);

    // Tables (kubectl get) stream their rows.
    let table = get_json(
        &client,
        path,
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )
    .await;
    assert_eq!(table["kind"], "Table");
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), n);
    assert_eq!(rows[0]["cells"][0], "s000");
    assert_eq!(rows[n - 1]["cells"][0], format!("s{:03}", n - 1));
    assert_eq!(table["columnDefinitions"][0]["name"], "Name");
    assert!(table["metadata"]["resourceVersion"].is_string());

    // An empty list is still a well-formed list.
    let empty = get_json(
        &client,
        "/api/v1/namespaces/nothing-here/configmaps",
        "application/json",
    )
    .await;
    assert_eq!(empty["items"], json!([]));
}

#[tokio::test]
async fn a_streamed_list_of_another_served_version_is_converted() {
    let (cp, _d) = start(None).await;
    let client = cp.client("global").unwrap();
    let hpa = json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
                 "minReplicas": 1, "maxReplicas": 3,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                     "target": {"type": "Utilization", "averageUtilization": 50}}}]},
    });
    let req =
        http::Request::post("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers")
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&hpa).unwrap())
            .unwrap();
    client.request_text(req).await.unwrap();
    let v1 = get_json(
        &client,
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
        "application/json",
    )
    .await;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    let item = &v1["items"][0];
    assert_eq!(item["apiVersion"], "autoscaling/v1");
    assert_eq!(item["spec"]["targetCPUUtilizationPercentage"], 50);
}

/// The namespace check runs inside the create's write transaction; a create refused earlier
/// (invalid, or a dry run) still gets the namespace's error first, as from kube-apiserver.
#[tokio::test]
async fn creates_into_a_missing_or_terminating_namespace_are_refused_with_the_namespace_error_first()
 {
    use k8s_openapi::api::core::v1::Namespace;
    let (cp, _d) = start(None).await;
    let c = cp.client("global").unwrap();
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
    )
    .await
    .unwrap();
    // Without the controller host, the namespace stays terminating (its finalizer is not run).
    nss.delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let doomed = nss.get("doomed").await.unwrap();
    assert!(doomed.metadata.deletion_timestamp.is_some(), "{doomed:?}");
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    for (ns, code, text) in [
        ("nope", 404, "namespaces \"nope\" not found"),
        ("doomed", 403, "because it is being terminated"),
    ] {
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), ns);
        for (what, obj, params) in [
            ("valid", cm("ok", json!({})), PostParams::default()),
            (
                "invalid name",
                cm("Not_DNS", json!({})),
                PostParams::default(),
            ),
            ("dry run", cm("ok", json!({})), dry.clone()),
        ] {
            match api.create(&params, &obj).await {
                Err(kube::Error::Api(e)) => {
                    assert_eq!(e.code, code, "{what} in {ns}: {e:?}");
                    assert!(e.message.contains(text), "{what} in {ns}: {}", e.message);
                }
                other => panic!("{what} in {ns}: {other:?}"),
            }
        }
        assert!(
            api.list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty(),
            "nothing was stored in {ns}"
        );
    }
}

/// Concurrent server-side applies of one object that does not exist yet all land: the losers of
/// the create race are applied to the winner's object, as kube-apiserver's create-on-update retry
/// does (no 409 AlreadyExists for an apply; the controller host's identities hit this on start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applies_of_a_new_object_all_land_without_a_409() {
    let (cp, _d) = start(None).await;
    let client = cp.client("global").unwrap();
    for round in 0..10 {
        let name = format!("raced-{round}");
        let applies = (0..8).map(|i| {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
            let name = name.clone();
            async move {
                let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": name}, "data": {format!("k{i}"): "v"}});
                api.patch(
                    &name,
                    &PatchParams::apply(&format!("manager-{i}")),
                    &Patch::Apply(&obj),
                )
                .await
            }
        });
        for (i, r) in futures::future::join_all(applies)
            .await
            .into_iter()
            .enumerate()
        {
            if let Err(e) = r {
                panic!("apply {i} of {name} failed: {e}");
            }
        }
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let data = api.get(&name).await.unwrap().data.unwrap_or_default();
        assert_eq!(data.len(), 8, "every manager's field is kept: {data:?}");
    }
}

#[tokio::test]
async fn the_kubernetes_service_points_at_the_server_and_follows_it_across_restarts() {
    use k8s_openapi::api::core::v1::{Endpoints, Service};
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let dir = tempfile::tempdir().unwrap();
    let mut uid = None;
    for _ in 0..2 {
        let cp = start_in(dir.path(), |_| {}).await;
        let port = cp.addr().port();
        let c = cp.client("global").unwrap();
        let svc = Api::<Service>::namespaced(c.clone(), "default")
            .get("kubernetes")
            .await
            .unwrap();
        let spec = svc.spec.unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.1"));
        let p = &spec.ports.unwrap()[0];
        assert_eq!((p.name.as_deref(), p.port), (Some("https"), 443));
        assert_eq!(p.target_port, Some(IntOrString::Int(port.into())));
        // The same Service across restarts, its target port following the server.
        let this_uid = svc.metadata.uid.unwrap();
        assert_eq!(uid.get_or_insert(this_uid.clone()), &this_uid);
        let ep = Api::<Endpoints>::namespaced(c.clone(), "default")
            .get("kubernetes")
            .await
            .unwrap();
        let subset = &ep.subsets.unwrap()[0];
        assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "127.0.0.1");
        assert_eq!(subset.ports.as_ref().unwrap()[0].port, i32::from(port));
        let slice = Api::<EndpointSlice>::namespaced(c.clone(), "default")
            .get("kubernetes")
            .await
            .unwrap();
        assert_eq!(slice.address_type, "IPv4");
        assert_eq!(
            slice.endpoints.unwrap()[0].addresses,
            vec!["127.0.0.1".to_string()]
        );
        assert_eq!(slice.ports.unwrap()[0].port, Some(i32::from(port)));
        // A new Service never gets the kubernetes Service's address.
        let other = Api::<Service>::namespaced(c, "default")
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"generateName": "s-"},
                    "spec": {"ports": [{"port": 80}]}}))
                .unwrap(),
            )
            .await
            .unwrap();
        assert_ne!(other.spec.unwrap().cluster_ip.as_deref(), Some("10.96.0.1"));
        cp.shutdown().await;
    }
}

/// With `require_service_accounts`, a Pod's create waits (briefly) for its namespace's `default`
/// ServiceAccount, which the serviceaccount controller makes moments after the namespace: it is
/// answered as soon as the account is created, not after a poll, and refused with kube-apiserver's
/// message when the account does not come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_waits_for_its_namespaces_default_service_account_then_is_refused_without_it() {
    use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
    let dir = tempfile::tempdir().unwrap();
    let cp = start_in(dir.path(), |cfg| cfg.require_service_accounts = true).await;
    let client = cp.client(apiserver::GLOBAL).unwrap();
    let pod = |name: &str| -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name},
            "spec": {"containers": [{"name": "a", "image": "example/x:1"}]}}))
        .unwrap()
    };
    // No controller runs here: `default` has no ServiceAccount until the test makes it.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let waiting = tokio::spawn({
        let (pods, p) = (pods.clone(), pod("early"));
        async move { pods.create(&PostParams::default(), &p).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the create waits for the default ServiceAccount"
    );
    let sa: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "default"}})).unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let made = std::time::Instant::now();
    accounts.create(&PostParams::default(), &sa).await.unwrap();
    let created = waiting
        .await
        .unwrap()
        .expect("the Pod is admitted once the account exists");
    assert!(
        made.elapsed() < Duration::from_secs(1),
        "answered when the account came: {:?}",
        made.elapsed()
    );
    assert_eq!(
        created.spec.unwrap().service_account_name.as_deref(),
        Some("default")
    );

    // In kube-system nobody makes it: refused after the wait, nothing stored.
    let system: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
    let start = std::time::Instant::now();
    let err = system
        .create(&PostParams::default(), &pod("late"))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("a Status: {err:?}")
    };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        r#"pods "late" is forbidden: error looking up service account kube-system/default: serviceaccount "default" not found"#
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(system.get_opt("late").await.unwrap().is_none());
    cp.shutdown().await;
}

/// Every group/version the server serves has its APIService, as kube-apiserver's aggregator
/// keeps them (`kubectl get apiservices`): the built-in ones from the start, local and available;
/// a CRD's as soon as it is served, with the CRD registration's priorities, and gone when no
/// longer served. The aggregator's own group has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_group_versions_have_local_api_services_that_follow_crds() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
    use kube::runtime::wait::await_condition;
    let (cp, _dir) = start(None).await;
    let client = cp.client(apiserver::GLOBAL).unwrap();
    let services: Api<APIService> = Api::all(client.clone());
    let present = |s: Option<&APIService>| s.is_some();
    let core = within(
        "v1. registered",
        await_condition(services.clone(), "v1.", present),
    )
    .await
    .unwrap()
    .unwrap();
    let spec = core.spec.unwrap();
    assert_eq!(
        (spec.group_priority_minimum, spec.version_priority),
        (18000, 1)
    );
    assert!(spec.service.is_none(), "served here: Local");
    let available = &core.status.unwrap().conditions.unwrap()[0];
    assert_eq!(
        (
            available.type_.as_str(),
            available.status.as_str(),
            available.reason.as_deref()
        ),
        ("Available", "True", Some("Local"))
    );
    let names: Vec<String> = services
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    for want in [
        "v1.apps",
        "v2.autoscaling",
        "v1.batch",
        "v1.coordination.k8s.io",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n == "v1.apiregistration.k8s.io"),
        "{names:?}"
    );

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = |served: bool| -> CustomResourceDefinition {
        serde_json::from_value(json!({
            "metadata": {"name": "gadgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                     "versions": [{"name": "v1", "served": served, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}]},
        }))
        .unwrap()
    };
    crds.create(&PostParams::default(), &crd(true))
        .await
        .unwrap();
    let gadgets = within(
        "the CRD's group registered",
        await_condition(services.clone(), "v1.example.com", present),
    )
    .await
    .unwrap()
    .unwrap();
    let spec = gadgets.spec.unwrap();
    assert_eq!(
        (spec.group_priority_minimum, spec.version_priority),
        (1000, 100)
    );
    crds.patch(
        "gadgets.example.com",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"spec": {"versions": [{"name": "v1", "served": false, "storage": true,
            "schema": {"openAPIV3Schema": {"type": "object"}}}]}}),
        ),
    )
    .await
    .unwrap();
    within(
        "an unserved version's APIService removed",
        await_condition(
            services.clone(),
            "v1.example.com",
            |s: Option<&APIService>| s.is_none(),
        ),
    )
    .await
    .unwrap();
    cp.shutdown().await;
}

/// `f`, failing the test when it takes more than 10 s.
async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting: {what}"))
}
