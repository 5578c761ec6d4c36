//! Copied CSVs end to end, against the real `marketplace serve`, the real kubectl and a real
//! Debian `docker-registry`: an operator installed for all namespaces shows in `kubectl get csv
//! -n <any namespace>` as OLM shows its copies (same name, label `olm.copiedFrom`, the original's
//! phase, `status.reason: Copied`), a MultiNamespace one only in its targets, an OwnNamespace
//! one nowhere else; the copies are computed on read, and deleting one is refused naming the
//! original.

mod common;
mod operator_support;
mod plugin_support;
mod upload_support;

use common::Server;
use operator_support::{push_bundle, push_dummy, simple_bundle};
use serde_json::Value;
use upload_support::{point_catalog_source, push_catalog};

/// Pushes the operator's image and its bundle (the shared minimal bundle, channel `stable`,
/// supporting `modes`); returns the bundle for the catalog.
async fn push_operator(host: &str, package: &str, modes: &[&str]) -> catalog::Bundle {
    push_dummy(host, &format!("demo/{package}"), "v1.0.0").await;
    let files = simple_bundle(host, package, "1.0.0", modes);
    push_bundle(host, &format!("demo/{package}-bundle"), "v1.0.0", files).await
}

fn subscribe(server: &Server, ns: &str, package: &str, targets: &str) {
    let yaml = format!(
        "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n  name: {package}\n  namespace: {ns}\n  annotations:\n    cpaas.io/target-namespaces: \"{targets}\"\nspec:\n  channel: stable\n  installPlanApproval: Automatic\n  name: {package}\n  source: custom\n  sourceNamespace: cpaas-system\n"
    );
    server.ok_stdin(&["apply", "-f", "-"], &yaml);
}

/// `(NAME, PHASE)` of `kubectl get csv -n ns` (PHASE is the last column).
fn csv_rows(server: &Server, ns: &str) -> Vec<(String, String)> {
    let out = server.ok(&["get", "csv", "-n", ns, "--no-headers"]);
    out.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            Some((cols.first()?.to_string(), cols.last()?.to_string()))
        })
        .collect()
}

fn json_of(server: &Server, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    serde_json::from_str(&server.ok(&a)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_csvs_show_in_target_namespaces_and_refuse_deletion() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("registry")).await;
    let host = reg.host();
    let server = {
        let host = host.clone();
        tokio::task::spawn_blocking(move || Server::start_with(&[], &["--registry", &host], &[]))
            .await
            .unwrap()
    };
    let bundles = vec![
        push_operator(&host, "allns-op", &["AllNamespaces"]).await,
        push_operator(&host, "own-op", &["OwnNamespace", "SingleNamespace"]).await,
        push_operator(&host, "multi-op", &["MultiNamespace"]).await,
    ];
    let image = push_catalog(&host, "demo/copied-catalog", "v1", bundles).await;
    point_catalog_source(&server, "custom", &image);
    common::poll("the catalog's packages", || {
        let out = server.kubectl(&["get", "packagemanifests", "-n", "default"]);
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        ["allns-op", "own-op", "multi-op"]
            .iter()
            .all(|p| out.contains(p))
            .then_some(())
    });
    for ns in ["operators", "own-ns", "multi-ns", "t1", "t2", "other"] {
        server.ok(&["create", "namespace", ns]);
    }
    subscribe(&server, "operators", "allns-op", "");
    subscribe(&server, "own-ns", "own-op", "own-ns");
    subscribe(&server, "multi-ns", "multi-op", "t1,t2");
    for (ns, csv) in [
        ("operators", "allns-op.v1.0.0"),
        ("own-ns", "own-op.v1.0.0"),
        ("multi-ns", "multi-op.v1.0.0"),
    ] {
        common::poll(&format!("CSV {ns}/{csv} Succeeded"), || {
            csv_rows(&server, ns)
                .contains(&(csv.to_string(), "Succeeded".to_string()))
                .then_some(())
        });
    }

    // AllNamespaces: a copy in `other`, Succeeded, labelled with the operator's namespace.
    let other = csv_rows(&server, "other");
    assert_eq!(
        other,
        [("allns-op.v1.0.0".to_string(), "Succeeded".to_string())],
        "only the AllNamespaces operator shows in other"
    );
    let copy = json_of(&server, &["get", "csv", "allns-op.v1.0.0", "-n", "other"]);
    assert_eq!(copy["metadata"]["namespace"], "other");
    assert_eq!(copy["metadata"]["labels"]["olm.copiedFrom"], "operators");
    assert_eq!(copy["status"]["phase"], "Succeeded");
    assert_eq!(copy["status"]["reason"], "Copied");
    assert_eq!(
        copy["status"]["message"],
        "The operator is running in operators but is managing this namespace"
    );
    assert_eq!(
        copy["metadata"]["annotations"]["olm.operatorGroup"],
        "operators"
    );
    assert_eq!(
        copy["metadata"]["annotations"]["olm.operatorNamespace"],
        "operators"
    );
    // The original carries the OperatorGroup's annotations; it is not a copy.
    let orig = json_of(
        &server,
        &["get", "csv", "allns-op.v1.0.0", "-n", "operators"],
    );
    assert_eq!(orig["metadata"]["annotations"]["olm.targetNamespaces"], "");
    assert!(orig["metadata"]["labels"].get("olm.copiedFrom").is_none());
    assert_eq!(orig["status"]["reason"], "InstallSucceeded");

    // MultiNamespace: only in its targets. OwnNamespace: nowhere else.
    let names =
        |ns: &str| -> Vec<String> { csv_rows(&server, ns).into_iter().map(|(n, _)| n).collect() };
    assert_eq!(names("t1"), ["allns-op.v1.0.0", "multi-op.v1.0.0"]);
    assert_eq!(names("t2"), ["allns-op.v1.0.0", "multi-op.v1.0.0"]);
    assert_eq!(names("own-ns"), ["allns-op.v1.0.0", "own-op.v1.0.0"]);
    assert_eq!(names("multi-ns"), ["allns-op.v1.0.0", "multi-op.v1.0.0"]);
    let copies = server.ok(&["get", "csv", "-A", "-l", "olm.copiedFrom", "--no-headers"]);
    assert!(
        copies
            .lines()
            .all(|l| !l.contains("own-op") && !l.starts_with("operators ")),
        "{copies}"
    );
    assert!(
        copies
            .lines()
            .any(|l| l.starts_with("other ") && l.contains("allns-op.v1.0.0")),
        "{copies}"
    );
    let originals = server.ok(&["get", "csv", "-A", "-l", "!olm.copiedFrom", "--no-headers"]);
    assert_eq!(originals.lines().count(), 3, "{originals}");

    // Deleting a copy is refused, naming the original; the original stays.
    let out = server.kubectl(&["delete", "csv", "allns-op.v1.0.0", "-n", "other"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "deleting a copy must fail");
    assert!(
        err.contains("is a copy of ClusterServiceVersion allns-op.v1.0.0 in namespace operators")
            && err.contains("change or delete the original"),
        "{err}"
    );
    assert_eq!(
        json_of(
            &server,
            &["get", "csv", "allns-op.v1.0.0", "-n", "operators"]
        )["status"]["phase"],
        "Succeeded"
    );
    assert_eq!(names("other"), ["allns-op.v1.0.0"]);

    // A namespace showing copies is deleted as any other (a terminating one shows none).
    server.ok(&["delete", "namespace", "t1", "--wait=false"]);
    common::poll("namespace t1 gone", || {
        (!server.kubectl(&["get", "namespace", "t1"]).status.success()).then_some(())
    });
    assert_eq!(names("t2"), ["allns-op.v1.0.0", "multi-op.v1.0.0"]);
}
