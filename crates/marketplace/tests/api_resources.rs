//! `kubectl api-resources` against `marketplace serve` lists what a default kube-apiserver v1.33
//! lists, and the subresources kubectl uses answer as they do there.

mod common;

/// `kubectl api-resources -o name` of a default kube-apiserver v1.33 (recorded), sorted.
const KUBE_APISERVER_1_33: &str = "apiservices.apiregistration.k8s.io bindings \
certificatesigningrequests.certificates.k8s.io clusterrolebindings.rbac.authorization.k8s.io \
clusterroles.rbac.authorization.k8s.io componentstatuses configmaps controllerrevisions.apps \
cronjobs.batch csidrivers.storage.k8s.io csinodes.storage.k8s.io \
csistoragecapacities.storage.k8s.io customresourcedefinitions.apiextensions.k8s.io \
daemonsets.apps deployments.apps endpoints endpointslices.discovery.k8s.io events \
events.events.k8s.io flowschemas.flowcontrol.apiserver.k8s.io \
horizontalpodautoscalers.autoscaling ingressclasses.networking.k8s.io \
ingresses.networking.k8s.io ipaddresses.networking.k8s.io jobs.batch leases.coordination.k8s.io \
limitranges localsubjectaccessreviews.authorization.k8s.io \
mutatingwebhookconfigurations.admissionregistration.k8s.io namespaces \
networkpolicies.networking.k8s.io nodes persistentvolumeclaims persistentvolumes \
poddisruptionbudgets.policy pods podtemplates priorityclasses.scheduling.k8s.io \
prioritylevelconfigurations.flowcontrol.apiserver.k8s.io replicasets.apps \
replicationcontrollers resourcequotas rolebindings.rbac.authorization.k8s.io \
roles.rbac.authorization.k8s.io runtimeclasses.node.k8s.io secrets \
selfsubjectaccessreviews.authorization.k8s.io selfsubjectreviews.authentication.k8s.io \
selfsubjectrulesreviews.authorization.k8s.io serviceaccounts servicecidrs.networking.k8s.io \
services statefulsets.apps storageclasses.storage.k8s.io \
subjectaccessreviews.authorization.k8s.io tokenreviews.authentication.k8s.io \
validatingadmissionpolicies.admissionregistration.k8s.io \
validatingadmissionpolicybindings.admissionregistration.k8s.io \
validatingwebhookconfigurations.admissionregistration.k8s.io volumeattachments.storage.k8s.io";

/// API groups the product adds (operators: CRDs and PackageManifest; plugins, uploads: alauda.io).
const PRODUCT_GROUPS: &[&str] = &[
    "operators.coreos.com",
    "packages.operators.coreos.com",
    "alauda.io",
];

#[test]
fn kubectl_api_resources_lists_every_resource_kube_apiserver_1_33_serves_by_default() {
    // Without the controller host: the product's sets install their own CRDs (cluster plugins,
    // operators), which kube-apiserver does not serve by default.
    let s = common::Server::start_with(&[], &["--no-controllers"], &[]);
    let out = s.ok(&["api-resources", "-o", "name"]);
    // The product's own APIs (its CRDs and computed resources) come on top of kube-apiserver's.
    let product = |n: &&str| {
        PRODUCT_GROUPS
            .iter()
            .any(|g| n.strip_suffix(g).is_some_and(|r| r.ends_with('.')))
    };
    let mut got: Vec<&str> = out.split_whitespace().filter(|n| !product(n)).collect();
    got.sort_unstable();
    let want: Vec<&str> = KUBE_APISERVER_1_33.split_whitespace().collect();
    assert_eq!(got, want);
}

#[test]
fn scale_binding_eviction_and_reviews_answer_as_kube_apiserver() {
    // The binding below is the scheduler's call: no simulator, or its scheduler binds first.
    let s = common::Server::start_with(&[], &["--no-simulator"], &[]);
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
    ]);
    s.ok(&["scale", "deployment", "web", "--replicas=5"]);
    let scale = s.ok(&[
        "get",
        "deployment",
        "web",
        "--subresource=scale",
        "-o",
        "jsonpath={.kind} {.spec.replicas} {.status.selector}",
    ]);
    assert_eq!(scale, "Scale 5 app=web");
    assert_eq!(
        s.ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.generation}"
        ]),
        "5 2"
    );

    s.ok(&["run", "p1", "--image=nginx:1.27"]);
    assert_eq!(
        s.ok(&["get", "pod", "p1", "-o", "jsonpath={.status.phase}"]),
        "Pending"
    );
    let binding =
        "apiVersion: v1\nkind: Binding\nmetadata: {name: p1}\ntarget: {kind: Node, name: node-1}\n";
    s.ok_stdin(&["create", "-f", "-"], binding);
    assert_eq!(
        s.ok(&["get", "pod", "p1", "-o", "jsonpath={.spec.nodeName}"]),
        "node-1"
    );
    let again = s.kubectl_with_stdin("global", &["create", "-f", "-"], Some(binding));
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is already assigned to node \"node-1\""),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Evictions follow kube-apiserver's rules. A running, ready pod guarded by a budget the
    // disruption controller has not processed yet is refused (429)...
    s.ok(&["label", "pod", "p1", "app=db"]);
    s.ok(&[
        "patch",
        "pod",
        "p1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
    s.ok(&[
        "create",
        "pdb",
        "db",
        "--selector=app=db",
        "--min-available=1",
    ]);
    let evict_at = |pod: &str, query: &str| {
        let eviction = format!(
            "{{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{{\"name\":\"{pod}\",\"namespace\":\"default\"}}}}"
        );
        let file = s.data_dir().join(format!("eviction-{pod}.json"));
        std::fs::write(&file, eviction).unwrap();
        let path = format!("/api/v1/namespaces/default/pods/{pod}/eviction{query}");
        s.kubectl(&["create", "--raw", &path, "-f", file.to_str().unwrap()])
    };
    let evict = |pod: &str| evict_at(pod, "");
    let budget =
        |jsonpath: &str| s.ok(&["get", "pdb", "db", "-o", &format!("jsonpath={jsonpath}")]);
    let blocked = evict("p1");
    assert!(!blocked.status.success());
    assert!(
        String::from_utf8_lossy(&blocked.stderr).contains("disruption budget"),
        "{}",
        String::from_utf8_lossy(&blocked.stderr)
    );
    // ... then, once the budget allows a disruption, the eviction takes it and the pod goes.
    s.ok(&[
        "patch",
        "pdb",
        "db",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"observedGeneration":1,"disruptionsAllowed":1,"currentHealthy":2,"desiredHealthy":1,"expectedPods":2}}"#,
    ]);
    // A dry run decides the same but charges nothing and deletes nothing.
    assert!(evict_at("p1", "?dryRun=All").status.success());
    assert_eq!(budget("{.status.disruptionsAllowed}"), "1");
    s.ok(&["get", "pod", "p1"]);
    assert!(evict("p1").status.success());
    assert_eq!(
        budget(
            "{.status.disruptionsAllowed} {.status.conditions[0].reason} {.status.disruptedPods}"
        )
        .split_once(" {")
        .map(|(head, _)| head.to_string())
        .unwrap(),
        "0 InsufficientPods"
    );
    common::poll("the evicted pod to be gone", || {
        (!s.kubectl(&["get", "pod", "p1"]).status.success()).then_some(())
    });
    // A pod that never came up (Pending) is no part of the budget: it goes although the budget
    // allows no more disruption, so a drain does not hang on it.
    s.ok(&["run", "p2", "--image=nginx:1.27", "--labels=app=db"]);
    assert!(evict("p2").status.success());

    assert_eq!(s.ok(&["auth", "can-i", "create", "pods"]).trim(), "yes");
    assert!(s.ok(&["auth", "whoami"]).contains("system:masters"));
    assert!(s.ok(&["get", "componentstatuses"]).contains("Healthy"));
}

#[test]
fn built_in_objects_are_validated_as_kube_apiserver_validates_them() {
    let s = common::Server::start_with(&[], &["--no-controllers"], &[]);
    let refused = |args: &[&str], stdin: Option<&str>| {
        let out = s.kubectl_with_stdin("global", args, stdin);
        assert!(!out.status.success(), "{args:?} was accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    // A Pod without containers, and a Deployment whose selector misses its template.
    let err = refused(
        &["create", "-f", "-"],
        Some(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}"#,
        ),
    );
    assert!(
        err.contains("The Pod \"p\" is invalid: spec.containers: Required value"),
        "{err}"
    );
    let deployment = |selector: &str| {
        format!(
            r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web"}},"spec":{{"selector":{{"matchLabels":{{"app":"{selector}"}}}},"template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{{"containers":[{{"name":"web","image":"nginx"}}]}}}}}}}}"#
        )
    };
    let err = refused(&["create", "-f", "-"], Some(&deployment("other")));
    assert!(
        err.contains("spec.template.metadata.labels: Invalid value: ")
            && err.contains("`selector` does not match template `labels`"),
        "{err}"
    );
    // Updates: a Deployment's selector, a Job's template and an immutable ConfigMap stay.
    s.ok_stdin(&["create", "-f", "-"], &deployment("web"));
    let err = refused(
        &[
            "patch",
            "deployment",
            "web",
            "-p",
            r#"{"spec":{"selector":{"matchLabels":{"tier":"x"}},"template":{"metadata":{"labels":{"tier":"x"}}}}}"#,
        ],
        None,
    );
    assert!(
        err.contains("The Deployment \"web\" is invalid: spec.selector: Invalid value: ")
            && err.contains("field is immutable"),
        "{err}"
    );
    s.ok(&["scale", "deployment", "web", "--replicas=2"]);
    s.ok(&["create", "job", "once", "--image=busybox"]);
    let err = refused(&["set", "image", "job/once", "once=busybox:2"], None);
    assert!(
        err.contains("spec.template: Invalid value: ") && err.contains("field is immutable"),
        "{err}"
    );
    s.ok_stdin(
        &["create", "-f", "-"],
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"frozen"},"immutable":true,"data":{"a":"1"}}"#,
    );
    let err = refused(
        &[
            "patch",
            "configmap",
            "frozen",
            "-p",
            r#"{"data":{"a":"2"}}"#,
        ],
        None,
    );
    assert!(
        err.contains("data: Forbidden: field is immutable when `immutable` is set"),
        "{err}"
    );
    s.ok(&["label", "configmap", "frozen", "team=a"]);
    // A Service with two ports must name them.
    let err = refused(
        &["create", "-f", "-"],
        Some(
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"two"},"spec":{"ports":[{"port":80},{"port":443}]}}"#,
        ),
    );
    // kubectl lists the causes, one per line.
    assert!(
        err.contains("The Service \"two\" is invalid")
            && err.contains("spec.ports[0].name: Required value")
            && err.contains("spec.ports[1].name: Required value"),
        "{err}"
    );
    // A Service keeps its cluster IP: a replace naming none keeps it, a patch changing it is refused.
    let named = |ip: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"db"}},"spec":{{{ip}"ports":[{{"port":5432}}]}}}}"#
        )
    };
    s.ok_stdin(
        &["create", "-f", "-"],
        &named(r#""clusterIP":"10.96.7.7","#),
    );
    s.ok_stdin(&["replace", "-f", "-"], &named(""));
    assert_eq!(
        s.ok(&["get", "service", "db", "-o", "jsonpath={.spec.clusterIPs}"]),
        r#"["10.96.7.7"]"#
    );
    let err = refused(
        &[
            "patch",
            "service",
            "db",
            "-p",
            r#"{"spec":{"clusterIP":"10.96.8.8","clusterIPs":["10.96.8.8"]}}"#,
        ],
        None,
    );
    assert!(
        err.contains("spec.clusterIPs[0]: Invalid value: ")
            && err.contains("may not change once set"),
        "{err}"
    );
}
