//! Real workloads fit: every document real Helm rendered for the public chart corpus
//! (`shared/fixtures/helm/expected/*.yaml`, from charts of prometheus-community, bitnami, argo,
//! grafana, ingress-nginx, cert-manager, ...) is accepted by `marketplace serve` through the real
//! kubectl — first `kubectl apply --dry-run=server`, then for real — and every applied object is
//! then listed by `kubectl get` under kube-apiserver's column headers.
//!
//! The CRDs the charts ship (`crds/` and CRD documents) are applied first; custom resources of
//! CRDs the corpus lacks (e.g. OpenShift's) are left out, as a real cluster without those CRDs
//! would refuse them. The ServiceAccounts are applied before the dry run too: kube-apiserver's
//! ServiceAccount admission refuses a Pod whose account is not stored, dry run or not. Each render case gets its own namespace, so variants of one chart do not
//! overwrite each other's namespaced objects. Documents over 200 KiB (grafana dashboards, big
//! CRDs) go through server-side apply, as on a real cluster: client-side apply would overflow the
//! 256 KiB `last-applied-configuration` annotation limit.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn shared() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let helm = base.join("fixtures/helm");
    assert!(
        helm.join("cases.json").is_file(),
        "the shared Helm corpus is missing at {}: set MARKETPLACE_SHARED to the shared/ folder",
        helm.display()
    );
    helm
}

fn read_maybe_gz(path: &Path) -> String {
    if path.extension().is_some_and(|x| x == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

/// The objects of a YAML stream; a document that does not parse is an error naming it.
fn documents(yaml: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| format!("document {i}: {e}"))?;
        if v.is_object() && v.get("kind").is_some() {
            out.push(v);
        }
    }
    Ok(out)
}

/// One rendered document: its original text (what kubectl decodes, with go-yaml's own scalar
/// rules) and its parsed form (only to classify it).
#[derive(Clone)]
struct Doc {
    text: String,
    value: Value,
}

/// The documents of a `helm template` stream, split on `---` lines. Documents that are not YAML
/// objects (text Helm test charts leave unrendered on purpose) or whose labels are not strings
/// cannot be decoded by kubectl for any cluster; they are returned in the second list.
fn raw_documents(stream: &str) -> (Vec<Doc>, Vec<String>) {
    let (mut docs, mut undecodable) = (Vec::new(), Vec::new());
    let mut cur = String::new();
    let mut flush = |cur: &mut String| {
        let text = std::mem::take(cur);
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.starts_with('#'))
        {
            return;
        }
        match serde_yaml::from_str::<Value>(&text) {
            Ok(v) if v.get("kind").is_some() && labels_are_strings(&v) && valid_name(&v) => {
                docs.push(Doc { text, value: v })
            }
            _ => undecodable.push(text),
        }
    };
    for line in stream.lines() {
        if line == "---" || line.starts_with("--- ") {
            flush(&mut cur);
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    flush(&mut cur);
    (docs, undecodable)
}

/// Whether `metadata.name` is valid for its kind: a DNS subdomain (RFC 1123), or for RBAC a path
/// segment; every apiserver refuses other names (Helm's own test charts render
/// `-this:name-is-not_valid$` on purpose).
fn valid_name(v: &Value) -> bool {
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    let rbac = v["apiVersion"]
        .as_str()
        .is_some_and(|av| av.starts_with("rbac.authorization.k8s.io/"));
    if rbac {
        // RBAC names are path segments (`system:aggregate-to-view`)
        return !name.is_empty() && !name.contains(['/', '%']) && name != "." && name != "..";
    }
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Whether the string maps Kubernetes decodes into Go `map[string]string` hold only strings
/// (Helm's own test charts put objects in a ConfigMap's data, which every apiserver refuses).
fn labels_are_strings(v: &Value) -> bool {
    let strings = |m: &Value| {
        m.as_object()
            .is_none_or(|m| m.values().all(Value::is_string))
    };
    strings(&v["metadata"]["labels"])
        && strings(&v["metadata"]["annotations"])
        && (v["kind"] != "ConfigMap" || strings(&v["data"]))
}

/// Puts a namespaced document into `ns`: its `metadata.namespace` line replaced, or one added
/// under `metadata:`.
fn into_namespace(doc: &Doc, ns: &str) -> String {
    let mut out = String::with_capacity(doc.text.len() + 40);
    let mut in_metadata = false;
    let mut done = false;
    for line in doc.text.lines() {
        if !done && in_metadata && line.starts_with("  namespace:") {
            out.push_str(&format!("  namespace: {ns}\n"));
            done = true;
            continue;
        }
        if !line.starts_with(' ') && !line.starts_with('#') && !line.trim().is_empty() {
            if in_metadata && !done {
                // left metadata without a namespace line: it goes at its end
                out.push_str(&format!("  namespace: {ns}\n"));
                done = true;
            }
            in_metadata = line.trim_end() == "metadata:";
        }
        out.push_str(line);
        out.push('\n');
    }
    if in_metadata && !done {
        out.push_str(&format!("  namespace: {ns}\n"));
    }
    out
}

/// `(group, kind)` of a document.
fn group_kind(doc: &Value) -> (String, String) {
    let av = doc["apiVersion"].as_str().unwrap_or_default();
    let group = av.split_once('/').map(|(g, _)| g).unwrap_or("");
    (
        group.to_string(),
        doc["kind"].as_str().unwrap_or_default().to_string(),
    )
}

/// Built-in groups kube-apiserver 1.33 serves by default.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

/// Cluster-scoped built-in kinds (they keep no namespace).
const CLUSTER_KINDS: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "PriorityClass",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "IngressClass",
    "RuntimeClass",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "CertificateSigningRequest",
    "IPAddress",
    "ServiceCIDR",
    "ComponentStatus",
];

/// kube-apiserver 1.33's `kubectl get` headers (recorded from a real cluster), without -A's
/// NAMESPACE column.
const HEADERS: &[(&str, &str)] = &[
    ("ConfigMap", "NAME|DATA|AGE"),
    ("Secret", "NAME|TYPE|DATA|AGE"),
    ("ServiceAccount", "NAME|SECRETS|AGE"),
    ("Service", "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE"),
    ("Deployment", "NAME|READY|UP-TO-DATE|AVAILABLE|AGE"),
    ("StatefulSet", "NAME|READY|AGE"),
    (
        "DaemonSet",
        "NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE",
    ),
    ("ReplicaSet", "NAME|DESIRED|CURRENT|READY|AGE"),
    ("Job", "NAME|STATUS|COMPLETIONS|DURATION|AGE"),
    (
        "CronJob",
        "NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE",
    ),
    ("Pod", "NAME|READY|STATUS|RESTARTS|AGE"),
    (
        "PersistentVolumeClaim",
        "NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE",
    ),
    (
        "PersistentVolume",
        "NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|VOLUMEATTRIBUTESCLASS|REASON|AGE",
    ),
    ("Ingress", "NAME|CLASS|HOSTS|ADDRESS|PORTS|AGE"),
    ("IngressClass", "NAME|CONTROLLER|PARAMETERS|AGE"),
    ("NetworkPolicy", "NAME|POD-SELECTOR|AGE"),
    (
        "PodDisruptionBudget",
        "NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE",
    ),
    (
        "HorizontalPodAutoscaler",
        "NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE",
    ),
    ("Role", "NAME|CREATED AT"),
    ("ClusterRole", "NAME|CREATED AT"),
    ("RoleBinding", "NAME|ROLE|AGE"),
    ("ClusterRoleBinding", "NAME|ROLE|AGE"),
    ("MutatingWebhookConfiguration", "NAME|WEBHOOKS|AGE"),
    ("ValidatingWebhookConfiguration", "NAME|WEBHOOKS|AGE"),
    ("CustomResourceDefinition", "NAME|CREATED AT"),
    ("APIService", "NAME|SERVICE|AVAILABLE|AGE"),
    (
        "PriorityClass",
        "NAME|VALUE|GLOBAL-DEFAULT|AGE|PREEMPTIONPOLICY",
    ),
    (
        "StorageClass",
        "NAME|PROVISIONER|RECLAIMPOLICY|VOLUMEBINDINGMODE|ALLOWVOLUMEEXPANSION|AGE",
    ),
    ("Namespace", "NAME|STATUS|AGE"),
    ("Endpoints", "NAME|ENDPOINTS|AGE"),
    ("Lease", "NAME|HOLDER|AGE"),
    ("ResourceQuota", "NAME|AGE|REQUEST|LIMIT"),
    ("LimitRange", "NAME|CREATED AT"),
    ("ControllerRevision", "NAME|CONTROLLER|REVISION|AGE"),
    ("EndpointSlice", "NAME|ADDRESSTYPE|PORTS|ENDPOINTS|AGE"),
    ("RuntimeClass", "NAME|HANDLER|AGE"),
    (
        "ValidatingAdmissionPolicy",
        "NAME|VALIDATIONS|PARAMKIND|AGE",
    ),
    (
        "ValidatingAdmissionPolicyBinding",
        "NAME|POLICYNAME|PARAMREF|AGE",
    ),
];

/// A header line split into its columns (kubectl pads columns with at least 3 spaces).
fn columns(header: &str) -> Vec<String> {
    header
        .split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A DNS label for a case id.
fn namespace_for(case_id: &str, n: usize) -> String {
    let mut s: String = case_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.truncate(50);
    format!("c{n}-{}", s.trim_matches('-'))
}

fn chart_crds(dir: &Path, out: &mut Vec<Value>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            chart_crds(&p, out);
        } else if p.parent().is_some_and(|d| {
            // a chart's own crds/ (templates/crds/ holds templates, not CRDs)
            d.file_name().is_some_and(|n| n == "crds")
                && d.parent().is_some_and(|c| c.join("Chart.yaml").is_file())
        }) && p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let docs = documents(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.extend(
                docs.into_iter()
                    .filter(|d| d["kind"] == "CustomResourceDefinition"),
            );
        }
    }
}

struct Corpus {
    crds: Vec<Value>,
    /// (namespace, document texts ready to apply, their parsed forms) per render case.
    cases: Vec<(String, Vec<(String, Value)>)>,
    skipped_custom: usize,
    undecodable: Vec<String>,
    /// Documents of built-in groups at versions Kubernetes 1.33 no longer serves.
    removed_versions: Vec<String>,
    /// Kinds of cluster-scoped CRDs.
    cluster_custom: BTreeSet<String>,
}

fn load_corpus() -> Corpus {
    let helm = shared();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(helm.join("cases.json")).unwrap()).unwrap();
    let cases: Vec<&Value> = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect"] == "ok")
        .collect();
    assert!(cases.len() > 300, "corpus has only {} cases", cases.len());
    let mut rendered = Vec::new();
    let mut undecodable = Vec::new();
    let mut crds: BTreeMap<String, Value> = BTreeMap::new();
    let mut raw_crds = Vec::new();
    chart_crds(&helm.join("charts"), &mut raw_crds);
    for (n, case) in cases.iter().enumerate() {
        // cases that render no document have no expected output
        let Some(file) = case["expected_output"].as_str() else {
            assert_eq!(case["documents"], 0, "{}", case["id"]);
            continue;
        };
        let path = helm.join(file);
        let (docs, bad) = raw_documents(&read_maybe_gz(&path));
        undecodable.extend(bad.into_iter().map(|t| {
            format!(
                "{file}: {}",
                t.lines().take(3).collect::<Vec<_>>().join(" | ")
            )
        }));
        for d in &docs {
            if d.value["kind"] == "CustomResourceDefinition" {
                raw_crds.push(d.value.clone());
            }
        }
        rendered.push((namespace_for(case["id"].as_str().unwrap(), n), docs));
    }
    // apiextensions.k8s.io/v1beta1 CRDs (in a few of Helm's own test charts) were removed in
    // Kubernetes 1.22: a 1.33 cluster refuses them, and their custom resources with them.
    let legacy_crds = raw_crds
        .iter()
        .filter(|c| c["apiVersion"] != "apiextensions.k8s.io/v1")
        .count();
    raw_crds.retain(|c| c["apiVersion"] == "apiextensions.k8s.io/v1");
    assert!(legacy_crds < 10, "{legacy_crds} legacy CRDs");
    for crd in raw_crds {
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        crds.entry(name).or_insert(crd);
    }
    let custom: BTreeSet<(String, String)> = crds
        .values()
        .map(|c| {
            (
                c["spec"]["group"].as_str().unwrap_or_default().to_string(),
                c["spec"]["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let cluster_custom: BTreeSet<String> = crds
        .values()
        .filter(|c| c["spec"]["scope"] == "Cluster")
        .map(|c| {
            c["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let mut skipped_custom = 0;
    let mut removed_versions = Vec::new();
    let mut out = Vec::new();
    for (ns, docs) in rendered {
        let mut kept = Vec::new();
        for d in docs {
            let (group, kind) = group_kind(&d.value);
            if kind == "CustomResourceDefinition" {
                continue; // applied up front
            }
            if !BUILTIN_GROUPS.contains(&group.as_str())
                && !custom.contains(&(group.clone(), kind.clone()))
            {
                skipped_custom += 1;
                continue;
            }
            // Built-in beta versions that Kubernetes 1.33 no longer serves (apps/v1beta1,
            // policy/v1beta1, apiregistration.k8s.io/v1beta1): Helm's deprecated-API test charts,
            // and prometheus-adapter rendered without a server's API list. A 1.33 cluster refuses
            // them too; `helm install` against one renders the v1 versions instead.
            let version = d.value["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            if BUILTIN_GROUPS.contains(&group.as_str())
                && (version.contains("beta") || version.contains("alpha"))
            {
                removed_versions.push(format!(
                    "{ns}: {} {kind}",
                    d.value["apiVersion"].as_str().unwrap_or_default()
                ));
                continue;
            }
            let cluster_scoped =
                CLUSTER_KINDS.contains(&kind.as_str()) || cluster_custom.contains(&kind);
            if cluster_scoped {
                kept.push((d.text.clone(), d.value));
            } else {
                let mut v = d.value.clone();
                v["metadata"]["namespace"] = Value::String(ns.clone());
                kept.push((into_namespace(&d, &ns), v));
            }
        }
        out.push((ns, kept));
    }
    Corpus {
        crds: crds.into_values().collect(),
        cases: out,
        skipped_custom,
        undecodable,
        removed_versions,
        cluster_custom,
    }
}

fn to_stream(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_json::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn texts(docs: &[(String, Value)]) -> String {
    docs.iter()
        .map(|d| d.0.as_str())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Runs kubectl; a `-` argument is replaced by a file holding `input` (kubectl may stop reading
/// stdin early when it fails, so input goes through a file).
fn kubectl_ok(s: &common::Server, args: &[&str], input: &str) -> String {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = s.data_dir().join(format!("input-{n}.yaml"));
    std::fs::write(&file, input).unwrap();
    let file = file.to_string_lossy().into_owned();
    let args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "-" { file.as_str() } else { a })
        .collect();
    let args = args.as_slice();
    let out = s.kubectl_on("global", args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed:\n{}\nserver log tail: {}",
        common::tail(&stderr, 6000),
        common::tail(&s.log(), 2000)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// kubectl paces its requests (client-go's default 50 requests/s), so the corpus goes through
/// several kubectl processes at once, each with whole cases in their order.
const KUBECTLS: usize = 8;

fn kubectl_parallel(s: &common::Server, args: &[&str], chunks: &[String]) {
    std::thread::scope(|scope| {
        for chunk in chunks.iter().filter(|c| !c.is_empty()) {
            scope.spawn(move || kubectl_ok(s, args, chunk));
        }
    });
}

/// The documents split into [`KUBECTLS`] streams, cases kept whole. Cases that share a
/// cluster-scoped object (several value sets of one chart name the same ClusterRole) go into the
/// same stream, in order: in two streams at once, both `kubectl apply`s could find the object
/// missing and both create it, and one would get AlreadyExists, as with real kube-apiserver.
fn chunks(cases: &[Vec<(String, Value)>]) -> Vec<String> {
    let mut out = vec![Vec::new(); KUBECTLS];
    let mut stream_of_object: std::collections::HashMap<String, usize> = Default::default();
    let mut next = 0;
    for docs in cases {
        let cluster_objects: Vec<String> = docs
            .iter()
            .filter(|(_, v)| v["metadata"]["namespace"].as_str().is_none())
            .map(|(_, v)| {
                format!(
                    "{} {} {}",
                    v["apiVersion"], v["kind"], v["metadata"]["name"]
                )
            })
            .collect();
        let stream = match cluster_objects.iter().find_map(|k| stream_of_object.get(k)) {
            Some(&i) => i,
            None => {
                next += 1;
                (next - 1) % KUBECTLS
            }
        };
        for k in cluster_objects {
            stream_of_object.entry(k).or_insert(stream);
        }
        out[stream].extend(docs.iter().cloned());
    }
    out.iter().map(|docs| texts(docs)).collect()
}

/// Big documents take server-side apply (see the module doc).
const SSA_THRESHOLD: usize = 200 * 1024;

#[test]
fn every_rendered_document_of_the_chart_corpus_applies_and_lists_with_kube_apiserver_columns() {
    let clock = std::time::Instant::now();
    let phase = |what: &str| eprintln!("[{:>6.1}s] {what}", clock.elapsed().as_secs_f64());
    let corpus = load_corpus();
    let s = common::Server::start(&[]);
    phase("corpus loaded, server up");
    kubectl_ok(
        &s,
        &["apply", "--server-side", "-f", "-"],
        &to_stream(&corpus.crds),
    );

    let mut namespaces = Vec::new();
    let (mut small, mut big) = (Vec::new(), Vec::new());
    let mut small_cases = Vec::new();
    for (ns, docs) in &corpus.cases {
        namespaces.push(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}
        }));
        let mut case = Vec::new();
        for d in docs {
            if d.0.len() > SSA_THRESHOLD {
                big.push(d.clone());
            } else {
                small.push(d.clone());
                case.push(d.clone());
            }
        }
        small_cases.push(case);
    }
    let small_chunks = chunks(&small_cases);
    kubectl_ok(&s, &["apply", "-f", "-"], &to_stream(&namespaces));
    let total = small.len() + big.len();
    assert!(total > 3000, "only {total} documents to apply");
    // The ServiceAccounts for real too: kube-apiserver's ServiceAccount admission refuses a Pod
    // (a chart's test hook, say) whose account is not stored, in a dry run as well.
    let accounts: Vec<Value> = small
        .iter()
        .chain(&big)
        .map(|(_, d)| d)
        .filter(|d| d["kind"] == "ServiceAccount")
        .cloned()
        .collect();
    assert!(!accounts.is_empty(), "the corpus has ServiceAccounts");
    kubectl_ok(&s, &["apply", "-f", "-"], &to_stream(&accounts));
    phase("CRDs, namespaces and ServiceAccounts applied");
    // Dry run first: everything is accepted and nothing is stored.
    kubectl_parallel(&s, &["apply", "--dry-run=server", "-f", "-"], &small_chunks);
    kubectl_ok(
        &s,
        &["apply", "--server-side", "--dry-run=server", "-f", "-"],
        &texts(&big),
    );
    let none = kubectl_ok(&s, &["get", "deployments", "-A", "-o", "name"], "");
    assert!(none.trim().is_empty(), "a dry run stored objects: {none}");

    phase("dry run");
    // For real.
    kubectl_parallel(&s, &["apply", "-f", "-"], &small_chunks);
    kubectl_ok(&s, &["apply", "--server-side", "-f", "-"], &texts(&big));

    phase("applied");
    // Every applied object is listed, under kube-apiserver's columns.
    let mut by_kind: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    // kubectl applies a `List`'s items one by one, in the namespaces they name
    let objects = small.iter().chain(&big).flat_map(|(_, d)| {
        if d["kind"] == "List" {
            d["items"].as_array().cloned().unwrap_or_default()
        } else {
            vec![d.clone()]
        }
    });
    for d in objects {
        let av = d["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = d["kind"].as_str().unwrap_or_default().to_string();
        // cluster-scoped objects keep no namespace, whatever the document said
        let cluster_scoped =
            CLUSTER_KINDS.contains(&kind.as_str()) || corpus.cluster_custom.contains(&kind);
        let ns = match d["metadata"]["namespace"].as_str() {
            _ if cluster_scoped => String::new(),
            Some(ns) => ns.to_string(),
            None => "default".to_string(),
        };
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let id = if ns.is_empty() {
            name.to_string()
        } else {
            format!("{ns}/{name}")
        };
        by_kind.entry((av, kind)).or_default().insert(id);
    }
    let headers: BTreeMap<&str, &str> = HEADERS.iter().copied().collect();
    let mut checked_headers = 0;
    for ((av, kind), ids) in &by_kind {
        let (group, version) = av.split_once('/').unwrap_or(("", av.as_str()));
        let resource = if group.is_empty() {
            kind.to_ascii_lowercase()
        } else {
            format!("{}.{version}.{group}", kind.to_ascii_lowercase())
        };
        let listed = kubectl_ok(
            &s,
            &[
                "get",
                &resource,
                "-A",
                "-o",
                "custom-columns=NS:.metadata.namespace,NAME:.metadata.name",
                "--no-headers",
            ],
            "",
        );
        let found: BTreeSet<String> = listed
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let (ns, name) = (it.next()?, it.next()?);
                Some(if ns == "<none>" {
                    name.to_string()
                } else {
                    format!("{ns}/{name}")
                })
            })
            .collect();
        let missing: Vec<&String> = ids.difference(&found).take(5).collect();
        assert!(missing.is_empty(), "{kind} ({av}) not listed: {missing:?}");

        let table = kubectl_ok(&s, &["get", &resource, "-A"], "");
        let header = table.lines().next().unwrap_or_default();
        let mut cols = columns(header);
        if cols.first().is_some_and(|c| c == "NAMESPACE") {
            cols.remove(0);
        }
        if let Some(want) = headers.get(kind.as_str()) {
            let want: Vec<String> = want.split('|').map(str::to_string).collect();
            assert_eq!(cols, want, "kubectl get {resource} header");
            checked_headers += 1;
        } else {
            assert_eq!(cols.first().map(String::as_str), Some("NAME"), "{resource}");
        }
        assert_eq!(
            table.lines().count() - 1,
            found.len(),
            "kubectl get {resource} -A rows"
        );
    }
    assert!(
        checked_headers >= 20,
        "only {checked_headers} built-in kinds had their headers checked"
    );
    phase("listed");
    // Only Helm's own test charts (case ids `helm__...`, `helm-golden__...`) render documents no kubectl can decode
    // (unrendered template text kept on purpose, `version: 3.9` as a label value, objects in a
    // ConfigMap's data, invalid names); every document of the real charts is applied.
    let from_real_charts = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|d| {
                !d.starts_with("expected/helm__") && !d.starts_with("expected/helm-golden__")
            })
            .cloned()
            .collect()
    };
    let bad_real = from_real_charts(&corpus.undecodable);
    assert!(
        bad_real.is_empty(),
        "real charts' documents left out: {bad_real:#?}"
    );
    // The only real chart rendering a removed API version is prometheus-adapter's
    // apiregistration.k8s.io/v1beta1 APIService (rendered without a server's API list).
    let removed_real: Vec<&String> = corpus
        .removed_versions
        .iter()
        .filter(|d| !d.contains("-helm--") && !d.contains("prometheus-adapter"))
        .collect();
    assert!(
        removed_real.is_empty(),
        "real charts' documents at removed versions: {removed_real:#?}"
    );
    eprintln!(
        "left out: {} undecodable documents of Helm's test charts, {} documents at removed API versions",
        corpus.undecodable.len(),
        corpus.removed_versions.len()
    );
    eprintln!(
        "applied {total} documents of {} cases ({} CRDs first, {} custom resources of absent CRDs left out); {} kinds listed, {checked_headers} headers checked",
        corpus.cases.len(),
        corpus.crds.len(),
        corpus.skipped_custom,
        by_kind.len()
    );
}
