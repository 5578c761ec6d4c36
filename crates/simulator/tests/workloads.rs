//! The simulator against the real control plane and the real kubectl: Deployments roll out, scale
//! and update; a missing image shows `ErrImagePull` (and `kubectl describe` the kubelet's Events
//! saying why) and heals once pushed with skopeo; DaemonSets
//! follow Nodes' labels; Jobs complete; StatefulSets and CronJobs make their Pods and Jobs.

mod common;

use common::Env;
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn pods(env: &Env, selector: &str) -> Vec<Value> {
    let out = env.kubectl(&["get", "pods", "-l", selector, "-o", "json"]);
    json(&out)["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_ready_with_os_arch_and_cluster_labels() {
    let env = Env::start(false, "edge", &[("region", "eu-west"), ("tier", "gold")], 2).await;
    let arch = simulator::nodes::go_arch();
    let out = env
        .eventually("two Ready nodes", || {
            let (ok, out, err) =
                env.kubectl_in("edge", &["get", "nodes", "-L", "kubernetes.io/arch,region"]);
            (ok && out.matches(" Ready ").count() == 2)
                .then_some(out.clone())
                .ok_or(format!("{out}{err}"))
        })
        .await;
    assert!(
        out.contains("edge-node-1") && out.contains("edge-node-2"),
        "{out}"
    );
    assert!(out.contains(arch) && out.contains("eu-west"), "{out}");
    let n = json(&env.kubectl_on("edge", &["get", "node", "edge-node-1", "-o", "json"]));
    assert_eq!(n["metadata"]["labels"]["kubernetes.io/os"], "linux");
    assert_eq!(
        n["metadata"]["labels"]["kubernetes.io/hostname"],
        "edge-node-1"
    );
    assert_eq!(n["metadata"]["labels"]["tier"], "gold");
    assert_eq!(n["status"]["nodeInfo"]["architecture"], arch);
    assert!(n["status"]["capacity"]["cpu"].is_string());
    // The kubelet's heartbeat Lease, as `kubectl describe node` shows it.
    env.eventually("edge-node-1's Lease in describe", || {
        let described = env.kubectl_on("edge", &["describe", "node", "edge-node-1"]);
        (described.contains("HolderIdentity:  edge-node-1")
            && !described.contains("Failed to get lease"))
        .then_some(())
        .ok_or(described)
    })
    .await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_rolls_out_scales_updates_and_is_garbage_collected() {
    let env = Env::start(true, apiserver::GLOBAL, &[], 1).await;
    let reg = env.reg();
    common::push(&reg, "web:1", env.dir.path());
    common::push(&reg, "web:2", env.dir.path());
    let image1 = format!("{reg}/web:1");
    env.kubectl(&[
        "create",
        "deployment",
        "web",
        &format!("--image={image1}"),
        "--replicas=3",
    ]);
    let out = env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let listed = env.kubectl(&["get", "pods", "-l", "app=web", "--no-headers"]);
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.contains("1/1") && l.contains("Running"))
            .count(),
        3,
        "{listed}"
    );
    let ps = pods(&env, "app=web");
    for p in &ps {
        let name = p["metadata"]["name"].as_str().unwrap();
        let hash = p["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap();
        let suffix = name
            .strip_prefix(&format!("web-{hash}-"))
            .unwrap_or_else(|| panic!("{name} is <rs>-<suffix>"));
        assert_eq!(suffix.len(), 5, "{name}");
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert_eq!(p["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(p["spec"]["nodeName"], "global-node-1");
        assert!(p["status"]["podIP"].is_string() && p["status"]["startTime"].is_string());
        assert!(
            p["status"]["containerStatuses"][0]["imageID"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
    }
    let d = json(&env.kubectl(&["get", "deployment", "web", "-o", "json"]));
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=60s",
    ]);
    converged_and_idle(&env).await;

    env.kubectl(&["scale", "deployment/web", "--replicas=1"]);
    env.eventually("one pod left after scaling to 1", || {
        let ps = pods(&env, "app=web");
        (ps.len() == 1)
            .then_some(())
            .ok_or(format!("{} pods", ps.len()))
    })
    .await;
    env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);

    env.kubectl(&[
        "set",
        "image",
        "deployment/web",
        &format!("web={reg}/web:2"),
    ]);
    let out = env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let rss = json(&env.kubectl(&["get", "rs", "-l", "app=web", "-o", "json"]));
    let rss = rss["items"].as_array().unwrap();
    assert_eq!(rss.len(), 2, "a new template makes a new ReplicaSet");
    let newest = rss
        .iter()
        .find(|r| r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
        .expect("revision 2");
    assert_eq!(newest["spec"]["replicas"], 1);
    let old = rss
        .iter()
        .find(|r| r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1")
        .expect("revision 1");
    assert_eq!(old["spec"]["replicas"], 0);
    let ps = env
        .eventually("the old pod gone", || {
            let ps = pods(&env, "app=web");
            (ps.len() == 1)
                .then_some(ps.clone())
                .ok_or(format!("{ps:?}"))
        })
        .await;
    assert_eq!(
        ps[0]["spec"]["containers"][0]["image"],
        format!("{reg}/web:2")
    );
    let history = env.kubectl(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");

    // `kubectl rollout undo` goes back to web:1 as revision 3, as on a real cluster (it patches
    // the Deployment's annotations, which the controller keeps at the current revision).
    assert_eq!(
        env.kubectl(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ]),
        "2"
    );
    env.kubectl(&["rollout", "undo", "deployment/web"]);
    let out = env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let image = env.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, image1);
    let history = env
        .eventually("revisions 2 and 3 in the history", || {
            let h = env.kubectl(&["rollout", "history", "deployment/web"]);
            let revisions: Vec<&str> = h
                .lines()
                .skip(2)
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            (revisions == ["2", "3"]).then(|| h.clone()).ok_or(h)
        })
        .await;
    assert!(history.contains("REVISION"), "{history}");

    // A deleted Pod of an idle, Available Deployment is replaced (its ReplicaSet hears of the
    // deletion; it no longer resyncs once everything is ready).
    let before = pods(&env, "app=web");
    let victim = before[0]["metadata"]["name"].as_str().unwrap().to_string();
    let old_uid = before[0]["metadata"]["uid"].as_str().unwrap().to_string();
    env.kubectl(&["delete", "pod", &victim, "--wait=false"]);
    env.eventually("a Running replacement of the deleted Pod", || {
        let ps = pods(&env, "app=web");
        let replaced = ps.iter().any(|p| {
            p["metadata"]["name"] == victim.as_str()
                && p["metadata"]["uid"] != old_uid.as_str()
                && p["status"]["phase"] == "Running"
        });
        (replaced && ps.len() == before.len())
            .then_some(())
            .ok_or(format!("{ps:?}"))
    })
    .await;

    env.kubectl(&["delete", "deployment", "web"]);
    env.eventually(
        "ReplicaSets and Pods collected with their Deployment",
        || {
            let rs = env.kubectl(&["get", "rs,pods", "-l", "app=web", "-o", "name"]);
            rs.trim().is_empty().then_some(()).ok_or(rs)
        },
    )
    .await;
    env.shutdown().await;
}

/// The cluster's revision (a list's resourceVersion).
fn revision(env: &Env) -> String {
    json(&env.kubectl(&["get", "configmaps", "-A", "-o", "json"]))["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Once converged, the simulator writes nothing: the revision settles (polled), then stays for 3 s.
async fn converged_and_idle(env: &Env) {
    let mut last = revision(env);
    env.eventually("no more writes", || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let now = revision(env);
        let settled = now == last;
        last = now.clone();
        settled
            .then_some(now)
            .ok_or_else(|| "revision still moving".to_string())
    })
    .await;
    let settled = revision(env);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        revision(env),
        settled,
        "an idle cluster sees no writes from the simulator"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_shows_err_image_pull_and_heals_when_pushed() {
    let env = Env::start(true, apiserver::GLOBAL, &[], 1).await;
    let reg = env.reg();
    let image = format!("{reg}/late:1");
    env.kubectl(&[
        "create",
        "deployment",
        "late",
        &format!("--image={image}"),
        "--replicas=2",
    ]);
    let msg = env
        .eventually("ErrImagePull naming the image", || {
            let ps = pods(&env, "app=late");
            let w = ps.iter().find_map(|p| {
                let w = &p["status"]["containerStatuses"][0]["state"]["waiting"];
                (w["reason"] == "ErrImagePull")
                    .then(|| w["message"].as_str().unwrap_or("").to_string())
            });
            w.ok_or(format!("{ps:?}"))
        })
        .await;
    assert!(
        msg.contains(&format!("failed to pull image \"{image}\"")),
        "{msg}"
    );
    assert!(msg.contains("not found"), "{msg}");
    let listed = env.kubectl(&["get", "pods", "-l", "app=late", "--no-headers"]);
    assert!(
        listed.contains("ErrImagePull") || listed.contains("ImagePullBackOff"),
        "{listed}"
    );
    assert!(!listed.contains("Running"), "{listed}");
    let d = env
        .eventually("the Deployment reports the pull failure", || {
            let d = json(&env.kubectl(&["get", "deployment", "late", "-o", "json"]));
            let p = d["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing").cloned());
            p.filter(|p| p["message"].as_str().unwrap_or("").contains(&image))
                .map(|_| d.clone())
                .ok_or(format!("{d}"))
        })
        .await;
    let available = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Available")
        .unwrap()
        .clone();
    assert_eq!(available["status"], "False", "{d}");
    let (ok, _, _) = env.kubectl_in(
        "global",
        &[
            "wait",
            "--for=condition=Available",
            "deployment/late",
            "--timeout=2s",
        ],
    );
    assert!(!ok, "not Available while the image is missing");
    env.eventually("ImagePullBackOff while backing off", || {
        let listed = env.kubectl(&["get", "pods", "-l", "app=late", "--no-headers"]);
        listed
            .contains("ImagePullBackOff")
            .then_some(())
            .ok_or(listed)
    })
    .await;

    // `kubectl describe` tells why, from the Events the kubelet and the scheduler record.
    let pod = pods(&env, "app=late")[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let described = env
        .eventually(
            "the scheduler's and the kubelet's Events on the Pod",
            || {
                let d = env.kubectl(&["describe", "pod", &pod]);
                let told = d.contains(&format!("Failed to pull image \"{image}\": "))
                    && d.contains(&format!("Back-off pulling image \"{image}\""))
                    && d.contains("Error: ImagePullBackOff")
                    && d.contains(&format!("Successfully assigned default/{pod} to "));
                told.then(|| d.clone()).ok_or(d)
            },
        )
        .await;
    assert!(
        described.contains("kubelet") && described.contains("default-scheduler"),
        "Events say who recorded them: {described}"
    );
    assert!(described.contains("Warning  Failed"), "{described}");
    let (ok, _, err) = env.kubectl_in("global", &["logs", &pod]);
    assert!(
        !ok && err.contains(&format!(
            "container \"late\" in pod \"{pod}\" is waiting to start: "
        )),
        "kubectl logs says why there is no log yet: {err}"
    );

    common::push(&reg, "late:1", env.dir.path());
    let out = env.kubectl(&["rollout", "status", "deployment/late", "--timeout=90s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    env.eventually("the kubelet's start Events", || {
        let d = env.kubectl(&["describe", "pod", &pod]);
        let told = d.contains(&format!("Successfully pulled image \"{image}\""))
            && d.contains("Created container: late")
            && d.contains("Started container late");
        told.then_some(()).ok_or(d)
    })
    .await;
    let (ok, out, err) = env.kubectl_in("global", &["logs", &pod]);
    assert!(
        ok && out.is_empty(),
        "a started (simulated) container's log is empty: {out}{err}"
    );
    let (ok, _, err) = env.kubectl_in("global", &["exec", &pod, "--", "true"]);
    assert!(
        !ok && err.contains("exec is not available: the containers of this cluster are simulated"),
        "kubectl exec says why it cannot, not that the Pod is missing: {err}"
    );
    let deployment = env.kubectl(&["describe", "deployment", "late"]);
    assert!(
        deployment.contains("ScalingReplicaSet")
            && deployment.contains("Scaled up replica set late-"),
        "{deployment}"
    );
    let rs = env.kubectl(&["describe", "replicaset", "-l", "app=late"]);
    assert!(
        rs.contains("SuccessfulCreate") && rs.contains(&format!("Created pod: {pod}")),
        "{rs}"
    );
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/late",
        "--timeout=30s",
    ]);
    let listed = env.kubectl(&["get", "pods", "-l", "app=late", "--no-headers"]);
    assert_eq!(
        listed.lines().filter(|l| l.contains("Running")).count(),
        2,
        "{listed}"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_lists_the_pods_it_selects_in_its_endpoints_and_endpoint_slice() {
    let env = Env::start(false, apiserver::GLOBAL, &[], 1).await;
    env.kubectl(&[
        "create",
        "deployment",
        "api",
        "--image=example/api:1",
        "--replicas=2",
        "--port=8080",
    ]);
    env.kubectl(&[
        "expose",
        "deployment",
        "api",
        "--port=80",
        "--target-port=8080",
    ]);
    env.kubectl(&["rollout", "status", "deployment/api", "--timeout=90s"]);
    let addresses = |jsonpath: &str| {
        let out = env.kubectl(&[
            "get",
            "endpoints",
            "api",
            "-o",
            &format!("jsonpath={jsonpath}"),
        ]);
        let mut v: Vec<String> = out.split_whitespace().map(str::to_string).collect();
        v.sort();
        v
    };
    let pod_ips = || {
        let mut v: Vec<String> = pods(&env, "app=api")
            .iter()
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    env.eventually("both Pods' IPs in the Endpoints", || {
        let (got, want) = (addresses("{.subsets[*].addresses[*].ip}"), pod_ips());
        (want.len() == 2 && got == want)
            .then_some(())
            .ok_or(format!("{got:?} vs {want:?}"))
    })
    .await;
    assert_eq!(addresses("{.subsets[0].ports[0].port}"), ["8080"]);
    let slices = json(&env.kubectl(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=api",
        "-o",
        "json",
    ]));
    let slices = slices["items"].as_array().unwrap();
    assert_eq!(slices.len(), 1, "{slices:?}");
    assert_eq!(
        slices[0]["metadata"]["ownerReferences"][0]["kind"],
        "Service"
    );
    let eps = slices[0]["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert!(
        eps.iter().all(|e| e["conditions"]["ready"] == true),
        "{eps:?}"
    );
    assert_eq!(slices[0]["ports"][0]["port"], 8080);
    let described = env.kubectl(&["describe", "service", "api"]);
    let first = &pod_ips()[0];
    assert!(described.contains(&format!("{first}:8080")), "{described}");

    // Scaling down takes the Pod out; deleting the Service takes its Endpoints and slice.
    env.kubectl(&["scale", "deployment/api", "--replicas=1"]);
    env.eventually("one address left", || {
        let (got, want) = (addresses("{.subsets[*].addresses[*].ip}"), pod_ips());
        (got.len() == 1 && got == want)
            .then_some(())
            .ok_or(format!("{got:?} vs {want:?}"))
    })
    .await;
    env.kubectl(&["delete", "service", "api"]);
    env.eventually("Endpoints and EndpointSlice gone with the Service", || {
        let out = env.kubectl(&[
            "get",
            "endpoints,endpointslices",
            "-l",
            "app=api",
            "-o",
            "name",
        ]);
        let slice = env.kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=api",
            "-o",
            "name",
        ]);
        (out.trim().is_empty() && slice.trim().is_empty())
            .then_some(())
            .ok_or(format!("{out}{slice}"))
    })
    .await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemonset_runs_one_pod_per_node_matching_its_node_selector() {
    let env = Env::start(false, apiserver::GLOBAL, &[], 3).await;
    env.eventually("three nodes", || {
        let out = env.kubectl(&["get", "nodes", "--no-headers"]);
        (out.lines().count() == 3).then_some(()).ok_or(out)
    })
    .await;
    env.kubectl(&[
        "label",
        "node",
        "global-node-2",
        "global-node-3",
        "disk=ssd",
    ]);
    let ds = r#"{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
      "spec": {"selector": {"matchLabels": {"app": "agent"}},
        "template": {"metadata": {"labels": {"app": "agent"}},
          "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "a", "image": "agent:1"}]}}}}"#;
    let file = env.dir.path().join("ds.json");
    std::fs::write(&file, ds).unwrap();
    env.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    let out = env.kubectl(&["rollout", "status", "daemonset/agent", "--timeout=90s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let mut nodes: Vec<String> = pods(&env, "app=agent")
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_string())
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["global-node-2", "global-node-3"]);
    let d = json(&env.kubectl(&["get", "ds", "agent", "-o", "json"]));
    assert_eq!(d["status"]["desiredNumberScheduled"], 2);
    assert_eq!(d["status"]["numberReady"], 2);

    env.kubectl(&["label", "node", "global-node-1", "disk=ssd"]);
    env.eventually("a pod on the newly matching node", || {
        let n = pods(&env, "app=agent").len();
        (n == 3).then_some(()).ok_or(format!("{n} pods"))
    })
    .await;
    env.kubectl(&["label", "node", "global-node-2", "disk-"]);
    env.eventually("the pod leaves the node that stopped matching", || {
        let on: Vec<String> = pods(&env, "app=agent")
            .iter()
            .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_string())
            .collect();
        (on.len() == 2 && !on.contains(&"global-node-2".to_string()))
            .then_some(())
            .ok_or(format!("{on:?}"))
    })
    .await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_statefulsets_get_ordinal_pods_and_cronjobs_schedule_jobs() {
    let env = Env::start(false, apiserver::GLOBAL, &[], 1).await;
    env.kubectl(&["create", "job", "once", "--image=busybox:1"]);
    env.kubectl(&[
        "create",
        "cronjob",
        "tick",
        "--image=busybox:1",
        "--schedule=* * * * *",
    ]);
    env.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "--timeout=90s",
    ]);
    let j = json(&env.kubectl(&["get", "job", "once", "-o", "json"]));
    assert_eq!(j["status"]["succeeded"], 1);
    assert!(j["status"]["completionTime"].is_string(), "{j}");
    let p = &pods(&env, "job-name=once")[0];
    assert_eq!(p["status"]["phase"], "Succeeded");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );

    let sts = r#"{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
      "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "db:1"}]}}}}"#;
    let file = env.dir.path().join("sts.json");
    std::fs::write(&file, sts).unwrap();
    env.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    let out = env.kubectl(&["rollout", "status", "statefulset/db", "--timeout=90s"]);
    assert!(
        out.contains("roll out complete") || out.contains("rolled out"),
        "{out}"
    );
    let mut names: Vec<String> = pods(&env, "app=db")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    env.kubectl(&["set", "image", "statefulset/db", "db=db:2"]);
    env.kubectl(&["rollout", "status", "statefulset/db", "--timeout=90s"]);
    let images: Vec<String> = pods(&env, "app=db")
        .iter()
        .map(|p| {
            p["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(images, ["db:2", "db:2", "db:2"]);

    let job = env
        .eventually("the CronJob's first Job (schedule: every minute)", || {
            let out = env.kubectl(&["get", "jobs", "-o", "json"]);
            let items = json(&out)["items"].as_array().unwrap().clone();
            items
                .iter()
                .find(|j| j["metadata"]["ownerReferences"][0]["name"] == "tick")
                .cloned()
                .ok_or(out)
        })
        .await;
    let name = job["metadata"]["name"].as_str().unwrap().to_string();
    assert!(
        name.strip_prefix("tick-")
            .is_some_and(|m| m.parse::<u64>().is_ok()),
        "{name}"
    );
    env.kubectl(&[
        "wait",
        "--for=condition=complete",
        &format!("job/{name}"),
        "--timeout=90s",
    ]);
    let cj = json(&env.kubectl(&["get", "cronjob", "tick", "-o", "json"]));
    assert!(cj["status"]["lastScheduleTime"].is_string(), "{cj}");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_the_simulator_makes_no_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let cx = simulator::ClusterContext {
        name: "global".into(),
        client: cp.client("global").unwrap(),
        labels: Default::default(),
        global: true,
        registry: None,
        shutdown: tokio_util::sync::CancellationToken::new(),
        settings: simulator::Settings {
            enabled: false,
            nodes: 1,
        },
    };
    simulator::run(cx)
        .await
        .expect("returns at once when switched off");
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> =
        kube::Api::all(cp.client("global").unwrap());
    assert!(
        nodes
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    cp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_simulator_converges_without_duplicate_pods() {
    let mut env = Env::start(false, apiserver::GLOBAL, &[], 1).await;
    env.kubectl(&[
        "create",
        "deployment",
        "api",
        "--image=api:1",
        "--replicas=3",
    ]);
    env.kubectl(&["rollout", "status", "deployment/api", "--timeout=90s"]);
    let names = |env: &Env| {
        let mut v: Vec<String> = pods(env, "app=api")
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let before = names(&env);
    env.restart_simulator().await;
    // A change the new simulator must act on proves it is running before we compare.
    env.kubectl(&["scale", "deployment/api", "--replicas=4"]);
    env.kubectl(&["rollout", "status", "deployment/api", "--timeout=90s"]);
    let after = names(&env);
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(
        before.iter().all(|n| after.contains(n)),
        "the first three Pods are kept: {before:?} → {after:?}"
    );
    let rs = env.kubectl(&["get", "rs", "-l", "app=api", "-o", "name"]);
    assert_eq!(rs.lines().count(), 1, "{rs}");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_evicts_pods_one_disruption_at_a_time_as_their_budget_allows() {
    let env = Env::start(false, apiserver::GLOBAL, &[], 2).await;
    env.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=example/web:1",
        "--replicas=3",
    ]);
    env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    env.kubectl(&[
        "create",
        "pdb",
        "web",
        "--selector=app=web",
        "--max-unavailable=1",
    ]);
    let figures = || {
        env.kubectl(&[
            "get",
            "pdb",
            "web",
            "-o",
            "jsonpath={.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed} {.status.conditions[0].reason}",
        ])
    };
    // The scale of the Deployment (3), one of which may be unavailable.
    env.eventually("the budget's status", || {
        let f = figures();
        (f == "3 3 2 1 SufficientPods").then_some(()).ok_or(f)
    })
    .await;
    let listed = env.kubectl(&["get", "pdb", "web"]);
    assert!(listed.contains("ALLOWED DISRUPTIONS"), "{listed}");

    // kubectl drain evicts the node's Pods in parallel; the budget lets one go at a time, the
    // rest are told to retry (429) until the replacement is ready on the other node.
    let on = |node: &str| {
        pods(&env, "app=web")
            .iter()
            .filter(|p| {
                p["spec"]["nodeName"] == node && p["metadata"]["deletionTimestamp"].is_null()
            })
            .count()
    };
    let node = if on("global-node-1") > 0 {
        "global-node-1"
    } else {
        "global-node-2"
    };
    let (ok, out, err) = env.kubectl_in(
        apiserver::GLOBAL,
        &["drain", node, "--ignore-daemonsets", "--timeout=120s"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("node/{node} drained")), "{out}");
    assert_eq!(on(node), 0, "no web Pod left on the drained node");
    env.kubectl(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    env.eventually("the budget back to one disruption", || {
        let f = figures();
        (f == "3 3 2 1 SufficientPods").then_some(()).ok_or(f)
    })
    .await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_pod_takes_a_debug_container_and_an_in_place_resize() {
    let env = Env::start(false, apiserver::GLOBAL, &[], 1).await;
    env.kubectl(&[
        "run",
        "app",
        "--image=example/web:1",
        r#"--overrides={"spec":{"containers":[{"name":"app","image":"example/web:1","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}"#,
    ]);
    env.kubectl(&["wait", "pod/app", "--for=condition=Ready", "--timeout=60s"]);
    // In-place resize (kubectl's `--subresource=resize`): the kubelet runs the container with the
    // new request; a change of QoS class is refused.
    env.kubectl(&[
        "patch",
        "pod",
        "app",
        "--subresource=resize",
        "-p",
        r#"{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"200m"}}}]}}"#,
    ]);
    env.eventually("the resize applied", || {
        let cpu = env.kubectl(&[
            "get",
            "pod",
            "app",
            "-o",
            "jsonpath={.spec.containers[0].resources.requests.cpu} {.status.containerStatuses[0].resources.requests.cpu} {.status.qosClass}",
        ]);
        (cpu == "200m 200m Burstable").then_some(()).ok_or(cpu)
    })
    .await;
    // A patch of the Pod that must be refused: its error.
    let refused = |args: &[&str]| {
        let (ok, _, err) = env.kubectl_in(
            apiserver::GLOBAL,
            &[&["patch", "pod", "app"], args].concat(),
        );
        assert!(!ok, "{args:?} was accepted");
        err
    };
    let err = refused(&[
        "--subresource=resize",
        "-p",
        r#"{"spec":{"containers":[{"name":"app","resources":{"requests":null}}]}}"#,
    ]);
    assert!(
        err.contains("Pod QOS Class may not change as a result of resizing"),
        "{err}"
    );
    // kubectl debug patches `pods/app/ephemeralcontainers`; a 404 there reads to kubectl as
    // "ephemeral containers are disabled for this cluster".
    let (ok, out, err) = env.kubectl_in(
        apiserver::GLOBAL,
        &[
            "debug",
            "app",
            "--image=example/web:1",
            "--container=debugger",
            "--target=app",
            "--profile=general",
        ],
    );
    assert!(ok, "{out}{err}");
    env.eventually("the debugger running", || {
        let state = env.kubectl(&[
            "get",
            "pod",
            "app",
            "-o",
            "jsonpath={.spec.ephemeralContainers[0].targetContainerName} {.status.ephemeralContainerStatuses[0].name} {.status.ephemeralContainerStatuses[0].state.running.startedAt}",
        ]);
        state
            .starts_with("app debugger 20")
            .then_some(())
            .ok_or(state)
    })
    .await;
    // The Pod's own spec cannot take ephemeral containers, nor change beyond its images.
    let err = refused(&[
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/ephemeralContainers"}]"#,
    ]);
    assert!(
        err.contains("The Pod \"app\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"),
        "{err}"
    );
    // Nor may the debugger be changed through the subresource once added.
    let err = refused(&[
        "--subresource=ephemeralcontainers",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"example/web:2"}]"#,
    ]);
    assert!(
        err.contains("existing ephemeral containers \"debugger\" may not be changed"),
        "{err}"
    );
    env.kubectl(&["set", "image", "pod/app", "app=example/web:2"]);
    env.shutdown().await;
}
