//! The operator lifecycle end to end, as the documentation walks it (SPEC §2.5), against the real
//! `marketplace serve` binary, the real kubectl and a real Debian `docker-registry` started here.
//! Every bundle image and catalog image is built by the test (registry+v1 bundles → one-layer
//! images; the catalog rendered to a file-based catalog under `/configs` as opm would) and pushed
//! to that registry; the documented commands run through `sh -c` exactly as written.

mod common;
mod operator_support;
mod plugin_support;
mod upload_support;

use std::process::Command;
use std::time::Duration;

use common::Server;
use operator_support::*;
use serde_json::{Value, json};
use upload_support::push_catalog;

/// Columns of a kubectl table, whitespace-collapsed, per line.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The documented command listing CHANNEL NAME VERSION of a package.
fn versions_cmd(package: &str) -> String {
    format!(
        r#"kubectl get packagemanifests {package} -o go-template='{{{{"CHANNEL NAME VERSION\n"}}}}{{{{range .status.channels}}}}{{{{$c := .name}}}}{{{{range .entries}}}}{{{{$c}}}} {{{{.name}}}} {{{{.version}}}}{{{{"\n"}}}}{{{{end}}}}{{{{end}}}}'"#
    )
}

fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_manual_harbor_from_the_platform_catalog() {
    let env = start().await;
    let host = env.host();
    let mut bundles = Vec::new();
    for (v, replaces) in [
        ("2.12.10", None),
        ("2.12.11", Some("harbor-ce-operator.v2.12.10")),
    ] {
        push_dummy(&host, "acp/harbor-operator", &format!("v{v}")).await;
        bundles.push(
            push_bundle(
                &host,
                "acp/harbor-ce-operator-bundle",
                &format!("v{v}"),
                harbor_bundle(&host, v, replaces),
            )
            .await,
        );
    }
    let image = push_catalog(&host, "acp/platform-catalog", "v1", bundles).await;
    use_catalog_image(&env, "cpaas-system", "platform", &image);

    // 1. View versions.
    let versions = env.wait("harbor-ce-operator's PackageManifest", || {
        let (ok, out, _) = env.sh(&versions_cmd("harbor-ce-operator"));
        ok.then_some(out)
    });
    assert_eq!(
        rows(&versions),
        rows(
            "CHANNEL NAME VERSION\nharbor-2 harbor-ce-operator.v2.12.11 2.12.11\nharbor-2 harbor-ce-operator.v2.12.10 2.12.10\nstable harbor-ce-operator.v2.12.11 2.12.11\nstable harbor-ce-operator.v2.12.10 2.12.10\n"
        ),
        "{versions}"
    );
    // 2. Confirm the catalogSource.
    let src = env.sh_ok(
        "kubectl get packagemanifests harbor-ce-operator -ojsonpath='{.status.catalogSource}'",
    );
    assert_eq!(src, "platform");
    let pm = env.json(&["get", "packagemanifests", "harbor-ce-operator"]);
    assert_eq!(pm["metadata"]["labels"]["cpaas.io/provider-type"], "alauda");
    assert_eq!(
        pm["metadata"]["labels"]["catalog-namespace"],
        "cpaas-system"
    );
    assert_eq!(pm["status"]["defaultChannel"], "stable");
    assert_eq!(
        pm["metadata"]["labels"]["cpaas.io/package-status"], "Ready",
        "bundle and operator images are in the registry"
    );
    // 3. Create the namespace; 4. the documented Subscription.
    env.sh_ok("kubectl create namespace harbor-ce-operator");
    env.apply(
        "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n    annotations:\n        cpaas.io/target-namespaces: \"\"\n    name: harbor-ce-operator-subs\n    namespace: harbor-ce-operator\nspec:\n    channel: stable\n    installPlanApproval: Manual\n    name: harbor-ce-operator\n    source: platform\n    sourceNamespace: cpaas-system\n    startingCSV: harbor-ce-operator.v2.12.11\n",
    );
    // 5. Subscription status.
    let sub = env.wait("the Subscription to wait for approval", || {
        let (ok, out, _) = env
            .sh("kubectl -n harbor-ce-operator get subscriptions harbor-ce-operator-subs -o yaml");
        let v: Value = goyaml_to_json(&out)?;
        (ok && v["status"]["state"] == "UpgradePending"
            && v["status"]["installPlanRef"]["name"].is_string())
        .then_some(v)
    });
    assert_eq!(sub["status"]["currentCSV"], "harbor-ce-operator.v2.12.11");
    let pending = condition(&sub, "InstallPlanPending").expect("InstallPlanPending condition");
    assert_eq!(
        (pending["status"].as_str(), pending["reason"].as_str()),
        (Some("True"), Some("RequiresApproval"))
    );
    // 6. The InstallPlan waits for approval.
    let plan_table = env.sh_ok("kubectl -n harbor-ce-operator get installplan \\\n    \"$(kubectl -n harbor-ce-operator get subscriptions harbor-ce-operator-subs -o jsonpath='{.status.installPlanRef.name}')\"");
    let r = rows(&plan_table);
    assert_eq!(
        r[0],
        ["NAME", "CSV", "APPROVAL", "APPROVED"],
        "{plan_table}"
    );
    assert_eq!(
        &r[1][1..],
        ["harbor-ce-operator.v2.12.11", "Manual", "false"],
        "{plan_table}"
    );
    assert!(r[1][0].starts_with("install-"), "{plan_table}");
    // Nothing is installed before approval.
    let csvs = env.json(&["-n", "harbor-ce-operator", "get", "csv"]);
    assert_eq!(
        csvs["items"].as_array().unwrap().len(),
        0,
        "no CSV before approval"
    );
    // Approve as documented.
    env.sh_ok("PLAN=\"$(kubectl -n harbor-ce-operator get subscription harbor-ce-operator-subs -o jsonpath='{.status.installPlanRef.name}')\"\nkubectl -n harbor-ce-operator patch installplan \"$PLAN\" --type=json -p='[{\"op\": \"replace\", \"path\": \"/spec/approved\", \"value\": true}]'");
    let table = env.wait("the CSV to succeed", || {
        let (ok, out, _) = env.sh("kubectl -n harbor-ce-operator get csv");
        (ok && out.contains("Succeeded")).then_some(out)
    });
    let r = rows(&table);
    assert_eq!(
        r[0],
        ["NAME", "DISPLAY", "VERSION", "REPLACES", "PHASE"],
        "{table}"
    );
    assert_eq!(
        r[1],
        [
            "harbor-ce-operator.v2.12.11",
            "Alauda",
            "Build",
            "of",
            "Harbor",
            "2.12.11",
            "harbor-ce-operator.v2.12.10",
            "Succeeded"
        ],
        "{table}"
    );
    // The operator runs as its ServiceAccount with the CSV's permissions; the Subscription settles.
    let dep = env.json(&[
        "-n",
        "harbor-ce-operator",
        "get",
        "deployment",
        "harbor-operator",
    ]);
    assert_eq!(
        dep["spec"]["template"]["spec"]["serviceAccountName"],
        "harbor-operator"
    );
    env.server.ok(&[
        "-n",
        "harbor-ce-operator",
        "get",
        "serviceaccount",
        "harbor-operator",
    ]);
    env.server.ok(&[
        "-n",
        "harbor-ce-operator",
        "get",
        "role",
        "harbor-ce-operator.v2.12.11-harbor-operator",
    ]);
    let crb = env.server.ok(&[
        "get",
        "clusterrolebindings",
        "-l",
        "olm.owner=harbor-ce-operator.v2.12.11",
        "-o",
        "name",
    ]);
    // One for the CSV's clusterPermissions, one granting its permissions in every namespace (it
    // installs for all namespaces), as OLM grants them.
    assert_eq!(crb.lines().count(), 2, "{crb}");
    let sub = env.wait("the Subscription to settle", || {
        let v = env.json(&[
            "-n",
            "harbor-ce-operator",
            "get",
            "subscription",
            "harbor-ce-operator-subs",
        ]);
        (v["status"]["state"] == "AtLatestKnown").then_some(v)
    });
    assert_eq!(sub["status"]["installedCSV"], "harbor-ce-operator.v2.12.11");
    let og = env.json(&["-n", "harbor-ce-operator", "get", "operatorgroups"]);
    assert_eq!(
        og["items"].as_array().unwrap().len(),
        1,
        "the OperatorGroup was created from the annotation"
    );
    assert!(
        og["items"][0]["spec"]["targetNamespaces"].is_null(),
        "empty annotation = all namespaces"
    );

    // Policy: an Alauda package refuses Automatic approval, and nothing installs.
    env.sh_ok("kubectl create namespace harbor-auto");
    env.apply("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n  name: harbor\n  namespace: harbor-auto\n  annotations: {cpaas.io/target-namespaces: \"\"}\nspec:\n  channel: stable\n  installPlanApproval: Automatic\n  name: harbor-ce-operator\n  source: platform\n  sourceNamespace: cpaas-system\n");
    let refused = env.wait("the Automatic Alauda Subscription to be refused", || {
        let v = env.json(&["-n", "harbor-auto", "get", "subscription", "harbor"]);
        condition(&v, "ResolutionFailed")
            .filter(|c| c["status"] == "True")
            .cloned()
    });
    assert_eq!(refused["reason"], "AutomaticApprovalNotAllowed");
    assert!(
        refused["message"].as_str().unwrap().contains("Manual"),
        "{refused}"
    );
    let plans = env.json(&["-n", "harbor-auto", "get", "installplans"]);
    assert_eq!(
        plans["items"].as_array().unwrap().len(),
        0,
        "nothing installs"
    );

    // Uninstall: deleting the Subscription and the CSV removes deployments and RBAC; CRDs stay.
    env.server.ok(&[
        "-n",
        "harbor-ce-operator",
        "delete",
        "subscription",
        "harbor-ce-operator-subs",
    ]);
    env.server.ok(&[
        "-n",
        "harbor-ce-operator",
        "delete",
        "csv",
        "harbor-ce-operator.v2.12.11",
        "--wait=true",
    ]);
    env.wait("the operator's deployment and cluster RBAC to go", || {
        let dep = env.server.kubectl(&[
            "-n",
            "harbor-ce-operator",
            "get",
            "deployment",
            "harbor-operator",
        ]);
        let crb = env.server.ok(&[
            "get",
            "clusterrolebindings",
            "-l",
            "olm.owner=harbor-ce-operator.v2.12.11",
            "-o",
            "name",
        ]);
        (!dep.status.success() && crb.trim().is_empty()).then_some(())
    });
    env.server.ok(&["get", "crd", "harbors.operator.alauda.io"]);
}

/// kubectl's YAML output as JSON (through the project's YAML loader).
fn goyaml_to_json(yaml: &str) -> Option<Value> {
    serde_yaml::from_str::<Value>(yaml).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_automatic_clickhouse_from_a_community_catalog_image_then_upgrade() {
    let env = start().await;
    let host = env.host();
    let first = clickhouse_bundle("0.26.0", "0.18.2", None);
    push_operator_images(&host, &first).await;
    let b1 = push_bundle(
        &host,
        "community/clickhouse-operator-bundle",
        "v0.18.2",
        first,
    )
    .await;
    let image = push_catalog(&host, "community/catalog", "latest", vec![b1.clone()]).await;
    env.sh_ok("kubectl create namespace openshift-marketplace");
    env.apply(&format!("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: community-operators\n  namespace: openshift-marketplace\nspec:\n  sourceType: grpc\n  image: {image}\n  displayName: Community Operators\n  publisher: Red Hat\n  updateStrategy:\n    registryPoll:\n      interval: 2s\n"));
    // 1. Versions; 2. the catalogSource.
    let versions = env.wait("clickhouse-operator's PackageManifest", || {
        let (ok, out, _) = env.sh(&versions_cmd("clickhouse-operator"));
        ok.then_some(out)
    });
    assert_eq!(
        rows(&versions),
        rows("CHANNEL NAME VERSION\nstable clickhouse-operator.v0.18.2 0.18.2\n"),
        "{versions}"
    );
    let src = env.sh_ok(
        "kubectl get packagemanifests clickhouse-operator -ojsonpath='{.status.catalogSource}'",
    );
    assert_eq!(src, "community-operators");
    let pm = env.json(&["get", "packagemanifests", "clickhouse-operator"]);
    assert_eq!(
        pm["metadata"]["labels"]["cpaas.io/provider-type"], "community",
        "no annotation: community"
    );
    // 3. Namespace; 4. the documented Subscription.
    env.sh_ok("kubectl create namespace clickhouse-operator");
    env.apply("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n    annotations:\n        cpaas.io/target-namespaces: \"\"\n    name: clickhouse-operator-subs\n    namespace: clickhouse-operator\nspec:\n    channel: stable\n    installPlanApproval: Automatic\n    name: clickhouse-operator\n    source: community-operators\n    sourceNamespace: openshift-marketplace\n");
    // 6. The CSV succeeds with no manual step.
    let table = env.wait("the clickhouse CSV to succeed", || {
        let (ok, out, _) = env.sh("kubectl -n clickhouse-operator get csv");
        (ok && out.contains("Succeeded")).then_some(out)
    });
    let r = rows(&table);
    assert_eq!(
        r[1].first().map(String::as_str),
        Some("clickhouse-operator.v0.18.2"),
        "{table}"
    );
    assert!(
        table.contains("ClickHouse Operator") && r[1].contains(&"0.18.2".to_string()),
        "{table}"
    );
    // 5. (The documentation's `get subscriptions clickhouse-operator` names the package, not the
    // Subscription it created; the Subscription's own name is used here.)
    let sub = env.wait("the Subscription to settle", || {
        let (ok, out, _) = env
            .sh("kubectl -n clickhouse-operator get subscriptions clickhouse-operator-subs -oyaml");
        let v = goyaml_to_json(&out)?;
        (ok && v["status"]["state"] == "AtLatestKnown").then_some(v)
    });
    assert_eq!(sub["status"]["installedCSV"], "clickhouse-operator.v0.18.2");
    let plan = env.json(&[
        "-n",
        "clickhouse-operator",
        "get",
        "installplan",
        sub["status"]["installPlanRef"]["name"].as_str().unwrap(),
    ]);
    assert_eq!(
        (
            plan["spec"]["approval"].as_str(),
            plan["spec"]["approved"].as_bool()
        ),
        (Some("Automatic"), Some(true))
    );
    assert_eq!(plan["status"]["phase"], "Complete");
    env.server.ok(&[
        "get",
        "crd",
        "clickhouseinstallations.clickhouse.altinity.com",
    ]);

    // Upgrade: a new catalog image under the same tag; Automatic follows the new head.
    let second = clickhouse_bundle("0.26.1", "0.18.3", Some("clickhouse-operator.v0.18.2"));
    push_operator_images(&host, &second).await;
    let b2 = push_bundle(
        &host,
        "community/clickhouse-operator-bundle",
        "v0.18.3",
        second,
    )
    .await;
    push_catalog(&host, "community/catalog", "latest", vec![b1, b2]).await;
    let sub = env.wait("the Subscription to follow the new head", || {
        let v = env.json(&[
            "-n",
            "clickhouse-operator",
            "get",
            "subscription",
            "clickhouse-operator-subs",
        ]);
        (v["status"]["installedCSV"] == "clickhouse-operator.v0.18.3"
            && v["status"]["state"] == "AtLatestKnown")
            .then_some(v)
    });
    assert_eq!(sub["status"]["currentCSV"], "clickhouse-operator.v0.18.3");
    let csvs = env.wait("the old CSV to be gone and the new one to succeed", || {
        let v = env.json(&["-n", "clickhouse-operator", "get", "csv"]);
        let items = v["items"].as_array()?.clone();
        (items.len() == 1 && items[0]["status"]["phase"] == "Succeeded").then_some(items)
    });
    assert_eq!(csvs[0]["metadata"]["name"], "clickhouse-operator.v0.18.3");
    assert_eq!(csvs[0]["spec"]["replaces"], "clickhouse-operator.v0.18.2");
    let dep = env.json(&[
        "-n",
        "clickhouse-operator",
        "get",
        "deployment",
        "clickhouse-operator",
    ]);
    let images: Vec<&str> = dep["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert!(
        images.iter().all(|i| i.ends_with(":0.26.1")),
        "the deployment runs the new bundle's images: {images:?}"
    );

    // A restart loses nothing: the catalog is read again from its image, the operator keeps running.
    let mut env = env;
    tokio::task::block_in_place(|| env.server.restart());
    env.wait("the catalog after a restart", || {
        let (ok, out, _) = env.sh("kubectl get packagemanifests clickhouse-operator -ojsonpath='{.status.channels[0].currentCSV}'");
        (ok && out == "clickhouse-operator.v0.18.3").then_some(())
    });
    let csv = env.json(&[
        "-n",
        "clickhouse-operator",
        "get",
        "csv",
        "clickhouse-operator.v0.18.3",
    ]);
    assert_eq!(csv["status"]["phase"], "Succeeded");
    let sub = env.json(&[
        "-n",
        "clickhouse-operator",
        "get",
        "subscription",
        "clickhouse-operator-subs",
    ]);
    assert_eq!(sub["status"]["state"], "AtLatestKnown");

    // A deleted catalog leaves the installed operator running; the Subscription says why it
    // cannot upgrade.
    env.server.ok(&[
        "-n",
        "openshift-marketplace",
        "delete",
        "catalogsource",
        "community-operators",
    ]);
    let c = env.sub_condition(
        "clickhouse-operator",
        "clickhouse-operator-subs",
        "CatalogSourcesUnhealthy",
    );
    assert!(
        c["message"].as_str().unwrap().contains("does not exist"),
        "{c}"
    );
    let csv = env.json(&[
        "-n",
        "clickhouse-operator",
        "get",
        "csv",
        "clickhouse-operator.v0.18.3",
    ]);
    assert_eq!(csv["status"]["phase"], "Succeeded");
    env.server.ok(&[
        "-n",
        "clickhouse-operator",
        "get",
        "deployment",
        "clickhouse-operator",
    ]);
}

fn subscription(
    (ns, name): (&str, &str),
    package: &str,
    channel: &str,
    approval: &str,
    source: &str,
    targets: &str,
    starting: Option<&str>,
) -> String {
    let start = starting
        .map(|s| format!("  startingCSV: {s}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations:\n    cpaas.io/target-namespaces: \"{targets}\"\nspec:\n  channel: {channel}\n  installPlanApproval: {approval}\n  name: {package}\n  source: {source}\n  sourceNamespace: cpaas-system\n{start}"
    )
}

impl Env {
    /// Waits until condition `type_` of Subscription `ns/name` is True; returns it.
    fn sub_condition(&self, ns: &str, name: &str, type_: &str) -> Value {
        self.wait(
            &format!("condition {type_} on Subscription {ns}/{name}"),
            || {
                let v = self.json(&["-n", ns, "get", "subscription", name]);
                condition(&v, type_)
                    .filter(|c| c["status"] == "True")
                    .cloned()
            },
        )
    }

    fn plans(&self, ns: &str) -> Vec<Value> {
        self.json(&["-n", ns, "get", "installplans"])["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_policies_each_say_why() {
    let env = start().await;
    let host = env.host();
    let mut harbor = Vec::new();
    for (v, replaces) in [
        ("2.12.10", None),
        ("2.12.11", Some("harbor-ce-operator.v2.12.10")),
    ] {
        push_dummy(&host, "acp/harbor-operator", &format!("v{v}")).await;
        harbor.push(
            push_bundle(
                &host,
                "acp/harbor-ce-operator-bundle",
                &format!("v{v}"),
                harbor_bundle(&host, v, replaces),
            )
            .await,
        );
    }
    let platform = push_catalog(&host, "acp/platform-catalog", "v1", harbor).await;
    use_catalog_image(&env, "cpaas-system", "platform", &platform);
    push_dummy(&host, "demo/allns-operator", "v1.0.0").await;
    let demo = push_bundle(
        &host,
        "demo/allns-operator-bundle",
        "v1.0.0",
        simple_bundle(&host, "allns-operator", "1.0.0", &["AllNamespaces"]),
    )
    .await;
    let custom = push_catalog(&host, "demo/custom-catalog", "v1", vec![demo]).await;
    use_catalog_image(&env, "cpaas-system", "custom", &custom);
    env.wait("both catalogs' packages", || {
        let (ok, out, _) = env.sh("kubectl get packagemanifests");
        (ok && out.contains("harbor-ce-operator") && out.contains("allns-operator")).then_some(())
    });
    for ns in [
        "bad-source",
        "bad-package",
        "bad-channel",
        "single-ns",
        "shared",
    ] {
        env.sh_ok(&format!("kubectl create namespace {ns}"));
    }

    // Unknown source, package and channel: each a condition naming what is missing.
    env.apply(&subscription(
        ("bad-source", "s"),
        "harbor-ce-operator",
        "stable",
        "Manual",
        "nope",
        "",
        None,
    ));
    let c = env.sub_condition("bad-source", "s", "CatalogSourcesUnhealthy");
    assert!(
        c["message"].as_str().unwrap().contains("cpaas-system/nope")
            && c["message"].as_str().unwrap().contains("does not exist"),
        "{c}"
    );
    env.apply(&subscription(
        ("bad-package", "s"),
        "nope-operator",
        "stable",
        "Manual",
        "platform",
        "",
        None,
    ));
    let c = env.sub_condition("bad-package", "s", "ResolutionFailed");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("\"nope-operator\" is not in catalog cpaas-system/platform"),
        "{c}"
    );
    env.apply(&subscription(
        ("bad-channel", "s"),
        "harbor-ce-operator",
        "beta",
        "Manual",
        "platform",
        "",
        None,
    ));
    let c = env.sub_condition("bad-channel", "s", "ResolutionFailed");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("\"beta\"") && m.contains("harbor-2") && m.contains("stable"),
        "{c}"
    );
    for ns in ["bad-source", "bad-package", "bad-channel"] {
        assert!(env.plans(ns).is_empty(), "no InstallPlan in {ns}");
    }

    // Install mode not supported: a SingleNamespace OperatorGroup for an AllNamespaces-only CSV.
    env.apply(&subscription(
        ("single-ns", "s"),
        "allns-operator",
        "stable",
        "Automatic",
        "custom",
        "default",
        None,
    ));
    let csv = env.wait("the CSV to fail on its install mode", || {
        // The CSV is created by the plan some time after the Subscription: not found yet is a
        // reason to poll again, not a failure.
        let v = env.try_json(&["-n", "single-ns", "get", "csv", "allns-operator.v1.0.0"])?;
        (v["status"]["phase"] == "Failed").then_some(v)
    });
    assert_eq!(csv["status"]["reason"], "UnsupportedOperatorGroup");
    let m = csv["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("SingleNamespace") && m.contains("AllNamespaces"),
        "{m}"
    );
    assert!(
        !env.server
            .kubectl(&["-n", "single-ns", "get", "deployment", "allns-operator"])
            .status
            .success(),
        "nothing runs"
    );

    // Manual upgrade: installed 2.12.10 leaves a new plan for 2.12.11 waiting for approval.
    env.apply(&subscription(
        ("shared", "harbor"),
        "harbor-ce-operator",
        "stable",
        "Manual",
        "platform",
        "",
        Some("harbor-ce-operator.v2.12.10"),
    ));
    let first = env.wait("the first plan", || {
        let v = env.json(&["-n", "shared", "get", "subscription", "harbor"]);
        v["status"]["installPlanRef"]["name"]
            .as_str()
            .map(str::to_string)
    });
    env.server.ok(&[
        "-n",
        "shared",
        "patch",
        "installplan",
        &first,
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/approved","value":true}]"#,
    ]);
    let sub = env.wait("2.12.10 installed and an upgrade plan waiting", || {
        let v = env.json(&["-n", "shared", "get", "subscription", "harbor"]);
        (v["status"]["installedCSV"] == "harbor-ce-operator.v2.12.10"
            && v["status"]["currentCSV"] == "harbor-ce-operator.v2.12.11")
            .then_some(v)
    });
    assert_eq!(sub["status"]["state"], "UpgradePending");
    let upgrade = sub["status"]["installPlanRef"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(upgrade, first);
    let plan = env.json(&["-n", "shared", "get", "installplan", &upgrade]);
    assert_eq!(
        (
            plan["spec"]["approved"].as_bool(),
            plan["status"]["phase"].as_str()
        ),
        (Some(false), Some("RequiresApproval"))
    );
    assert_eq!(
        plan["spec"]["clusterServiceVersionNames"][0],
        "harbor-ce-operator.v2.12.11"
    );

    // Shared namespace: the pending manual plan holds back another Subscription, which says which plan.
    env.apply(&subscription(
        ("shared", "allns"),
        "allns-operator",
        "stable",
        "Automatic",
        "custom",
        "",
        None,
    ));
    let c = env.wait("the blocked Subscription to name the plan", || {
        let v = env.json(&["-n", "shared", "get", "subscription", "allns"]);
        condition(&v, "InstallPlanPending")
            .filter(|c| c["reason"] == "BlockedByPendingInstallPlan")
            .cloned()
    });
    assert!(c["message"].as_str().unwrap().contains(&upgrade), "{c}");
    // Batch upgrade: the Alauda upgrade is approved, a community first install is listed as not
    // eligible and left pending.
    env.sh_ok("kubectl create namespace manual-community");
    env.apply(&subscription(
        ("manual-community", "allns"),
        "allns-operator",
        "stable",
        "Manual",
        "custom",
        "",
        None,
    ));
    let community_plan = env.wait("the community plan", || {
        let v = env.json(&["-n", "manual-community", "get", "subscription", "allns"]);
        v["status"]["installPlanRef"]["name"]
            .as_str()
            .map(str::to_string)
    });
    let batch = |dry: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_marketplace"));
        cmd.args([
            "operators",
            "upgrade",
            "--cluster",
            "global",
            "--kubeconfig",
        ])
        .arg(env.server.kubeconfig("global"));
        if dry {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().expect("run marketplace operators upgrade");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listing = batch(true);
    let line = |needle: &str| {
        listing
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in:\n{listing}"))
            .to_string()
    };
    assert!(
        line(&upgrade).ends_with("would approve")
            && line(&upgrade).contains("harbor-ce-operator.v2.12.10"),
        "{listing}"
    );
    assert!(
        line(&community_plan).contains("not eligible: source type custom"),
        "{listing}"
    );
    let plan = env.json(&["-n", "shared", "get", "installplan", &upgrade]);
    assert_eq!(
        plan["spec"]["approved"], false,
        "--dry-run approves nothing"
    );
    batch(false);
    let plan = env.json(&[
        "-n",
        "manual-community",
        "get",
        "installplan",
        &community_plan,
    ]);
    assert_eq!(
        plan["spec"]["approved"], false,
        "not eligible: left pending"
    );
    env.wait("both operators installed, the old harbor CSV gone", || {
        let v = env.json(&["-n", "shared", "get", "csv"]);
        let mut names: Vec<String> = v["items"]
            .as_array()?
            .iter()
            .filter(|c| c["status"]["phase"] == "Succeeded")
            .map(|c| c["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        (names == ["allns-operator.v1.0.0", "harbor-ce-operator.v2.12.11"]
            && v["items"].as_array()?.len() == 2)
            .then_some(())
    });
}

/// A stand-in ArtifactVersion CRD (the artifacts API's shape, contract #1) for when the artifacts
/// controller set is not part of this build; left alone when it is installed already.
const ARTIFACT_VERSION_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: artifactversions.app.alauda.io\nspec:\n  group: app.alauda.io\n  scope: Namespaced\n  names: {plural: artifactversions, singular: artifactversion, kind: ArtifactVersion, listKind: ArtifactVersionList}\n  versions:\n  - name: v1alpha1\n    served: true\n    storage: true\n    subresources: {status: {}}\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_bundle_joins_its_catalog_and_missing_images_are_named() {
    let env = start().await;
    let host = env.host();
    if !env
        .server
        .kubectl(&["get", "crd", "artifactversions.app.alauda.io"])
        .status
        .success()
    {
        env.apply(ARTIFACT_VERSION_CRD);
        env.wait("the ArtifactVersion API", || {
            env.server
                .kubectl(&["get", "artifactversions", "-A"])
                .status
                .success()
                .then_some(())
        });
    }
    let b = push_bundle(
        &host,
        "custom/uploaded-operator-bundle",
        "v1.0.0",
        simple_bundle(&host, "uploaded-operator", "1.0.0", &["AllNamespaces"]),
    )
    .await;
    env.apply(&format!("apiVersion: app.alauda.io/v1alpha1\nkind: ArtifactVersion\nmetadata:\n  name: uploaded-operator.v1.0.0\n  namespace: cpaas-system\n  labels: {{cpaas.io/artifact: uploaded-operator, cpaas.io/artifact-type: bundle}}\nspec:\n  artifact: uploaded-operator\n  version: v1.0.0\n  type: bundle\n  image: {}\n  tag: v1.0.0\n  catalogSource: custom\n", b.image));
    let pm = env.wait("the uploaded package in the custom catalog", || {
        let (ok, out, _) = env.sh("kubectl get packagemanifests uploaded-operator -o json");
        let v: Value = serde_json::from_str(&out).ok()?;
        ok.then_some(v)
    });
    assert_eq!(pm["status"]["catalogSource"], "custom");
    assert_eq!(
        pm["metadata"]["labels"]["cpaas.io/provider-type"], "custom",
        "uploads to custom default to source type custom"
    );
    assert_eq!(
        pm["metadata"]["labels"]["cpaas.io/package-status"], "Absent",
        "its operator image was never pushed"
    );
    assert_eq!(
        pm["status"]["channels"][0]["currentCSV"],
        "uploaded-operator.v1.0.0"
    );

    // Its operator image is missing: the CSV fails naming the image, and heals once it is pushed.
    env.sh_ok("kubectl create namespace uploaded");
    env.apply(&subscription(
        ("uploaded", "s"),
        "uploaded-operator",
        "stable",
        "Automatic",
        "custom",
        "",
        None,
    ));
    let csv = env.wait("the CSV to name the missing image", || {
        let v = env.json(&["-n", "uploaded", "get", "csv"]);
        let c = v["items"].as_array()?.first()?.clone();
        (c["status"]["phase"] == "Failed").then_some(c)
    });
    let m = csv["status"]["message"].as_str().unwrap();
    assert!(
        m.contains(&format!("{host}/demo/uploaded-operator:v1.0.0")),
        "{m}"
    );
    push_dummy(&host, "demo/uploaded-operator", "v1.0.0").await;
    env.wait("the CSV to heal", || {
        let v = env.json(&["-n", "uploaded", "get", "csv", "uploaded-operator.v1.0.0"]);
        (v["status"]["phase"] == "Succeeded").then_some(())
    });

    // A catalog image that cannot be pulled: the CatalogSource says which and what the registry
    // answered, and a Subscription to it repeats that.
    env.sh_ok("kubectl create namespace broken");
    env.apply(&format!("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: broken\n  namespace: cpaas-system\nspec:\n  sourceType: grpc\n  image: {host}/nowhere/catalog:v9\n"));
    let cs = env.wait("the broken catalog's failure", || {
        let v = env.json(&["-n", "cpaas-system", "get", "catalogsource", "broken"]);
        (v["status"]["connectionState"]["lastObservedState"] == "TRANSIENT_FAILURE").then_some(v)
    });
    let m = cs["status"]["message"].as_str().unwrap();
    assert!(
        m.contains(&format!("{host}/nowhere/catalog:v9")) && m.contains("not found in registry"),
        "{m}"
    );
    env.apply(&subscription(
        ("broken", "s"),
        "anything",
        "stable",
        "Manual",
        "broken",
        "",
        None,
    ));
    let c = env.sub_condition("broken", "s", "CatalogSourcesUnhealthy");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("nowhere/catalog:v9"),
        "{c}"
    );
}

/// A bundle providing the API `widgets.demo.io/v1 Widget` (owned CRD), or, with `needs_widgets`,
/// requiring it (`dependencies.yaml`, `olm.gvk`).
fn api_bundle(
    host: &str,
    package: &str,
    provides: bool,
    needs_widgets: bool,
) -> Vec<(String, Vec<u8>)> {
    let mut files = simple_bundle(host, package, "1.0.0", &["AllNamespaces"]);
    let csv_path = files[0].0.clone();
    let mut csv: Value = serde_json::from_slice(&files[0].1).unwrap();
    if provides {
        csv["spec"]["customresourcedefinitions"] =
            json!({"owned": [{"name": "widgets.demo.io", "version": "v1", "kind": "Widget"}]});
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.demo.io"},
            "spec": {"group": "demo.io", "scope": "Namespaced", "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
        files.push((
            "manifests/widgets.demo.io.crd.yaml".into(),
            serde_json::to_vec(&crd).unwrap(),
        ));
    }
    if needs_widgets {
        files.push(("metadata/dependencies.yaml".into(), b"dependencies:\n- type: olm.gvk\n  value:\n    group: demo.io\n    kind: Widget\n    version: v1\n".to_vec()));
    }
    files[0] = (csv_path, serde_json::to_vec(&csv).unwrap());
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_api_fails_resolution_until_a_catalog_provides_it() {
    let env = start().await;
    let host = env.host();
    for p in ["gadget-operator", "widget-operator"] {
        push_dummy(&host, &format!("demo/{p}"), "v1.0.0").await;
    }
    let gadget = push_bundle(
        &host,
        "demo/gadget-operator-bundle",
        "v1.0.0",
        api_bundle(&host, "gadget-operator", false, true),
    )
    .await;
    let widget = push_bundle(
        &host,
        "demo/widget-operator-bundle",
        "v1.0.0",
        api_bundle(&host, "widget-operator", true, false),
    )
    .await;
    let image = push_catalog(&host, "demo/custom-catalog", "v1", vec![gadget.clone()]).await;
    use_catalog_image(&env, "cpaas-system", "custom", &image);
    env.sh_ok("kubectl create namespace gadgets");
    env.apply(&subscription(
        ("gadgets", "gadget"),
        "gadget-operator",
        "stable",
        "Automatic",
        "custom",
        "",
        None,
    ));
    // (Until the catalog image is read the package is simply not found; then the API is missing.)
    let c = env.wait("ResolutionFailed naming the missing API", || {
        let v = env.json(&["-n", "gadgets", "get", "subscription", "gadget"]);
        condition(&v, "ResolutionFailed")
            .filter(|c| {
                c["status"] == "True" && c["message"].as_str().unwrap_or("").contains("Widget")
            })
            .cloned()
    });
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("gadget-operator") && m.contains("demo.io"),
        "the paragraph names the package and the API: {m}"
    );
    assert!(env.plans("gadgets").is_empty());
    // The API appears in the catalog: resolution succeeds, the dependency installs first.
    push_catalog(&host, "demo/custom-catalog", "v1", vec![gadget, widget]).await;
    env.wait("both operators installed", || {
        let v = env.json(&["-n", "gadgets", "get", "csv"]);
        let ok = v["items"]
            .as_array()?
            .iter()
            .filter(|c| c["status"]["phase"] == "Succeeded")
            .count();
        (ok == 2).then_some(())
    });
    let sub = env.wait("ResolutionFailed cleared", || {
        let v = env.json(&["-n", "gadgets", "get", "subscription", "gadget"]);
        (condition(&v, "ResolutionFailed").is_none() && v["status"]["state"] == "AtLatestKnown")
            .then_some(v)
    });
    assert_eq!(sub["status"]["installedCSV"], "gadget-operator.v1.0.0");
    let plan = env.json(&[
        "-n",
        "gadgets",
        "get",
        "installplan",
        sub["status"]["installPlanRef"]["name"].as_str().unwrap(),
    ]);
    assert_eq!(
        plan["spec"]["clusterServiceVersionNames"],
        json!(["widget-operator.v1.0.0", "gadget-operator.v1.0.0"])
    );
}

/// On a real cluster PackageManifests are an aggregated API: `marketplace controllers
/// --serve-packages` serves the global cluster's packages over HTTPS from the catalogs its OLM sets
/// load (here the controllers run out of process against `serve --no-controllers`), and `marketplace
/// crds --apiservice --ca-file` prints the Service and APIService that register it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packagemanifests_are_served_as_an_aggregated_api_by_marketplace_controllers() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = common::registry(&tmp.path().join("registry")).await;
    let host = reg.host();
    let h = host.clone();
    let server = tokio::task::spawn_blocking(move || {
        Server::start_with(&[], &["--no-controllers", "--registry", &h], &[])
    })
    .await
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_marketplace");
    let crds = Command::new(bin).arg("crds").output().unwrap();
    assert!(crds.status.success());
    server.ok_stdin(
        &["apply", "-f", "-"],
        &String::from_utf8_lossy(&crds.stdout),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tls = tmp.path().join("tls");
    let log = std::fs::File::create(tmp.path().join("controllers.log")).unwrap();
    let mut controllers = Command::new(bin)
        .arg("controllers")
        .arg("--kubeconfig")
        .arg(server.kubeconfig("global"))
        .args(["--registry", &host])
        .args(["--serve-packages", &format!("127.0.0.1:{port}")])
        .arg("--tls-dir")
        .arg(&tls)
        .stderr(log)
        .spawn()
        .expect("spawn marketplace controllers");

    let bundle = push_bundle(
        &host,
        "demo/aggregated-bundle",
        "v1.0.0",
        simple_bundle(&host, "aggregated-demo", "1.0.0", &["AllNamespaces"]),
    )
    .await;
    let image = push_catalog(&host, "demo/aggregated-catalog", "v1", vec![bundle]).await;
    let env_wait = |what: &str, f: &mut dyn FnMut() -> bool| {
        let start = std::time::Instant::now();
        while !f() {
            assert!(
                start.elapsed() < common::DEADLINE,
                "timed out waiting for {what}; controllers log: {}",
                common::tail(
                    &std::fs::read_to_string(tmp.path().join("controllers.log"))
                        .unwrap_or_default(),
                    4000
                )
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    upload_support::point_catalog_source(&server, "platform", &image);
    let ca = tls.join("pki").join("ca.crt");
    let curl = |path: &str| -> Option<Value> {
        let out = Command::new("curl")
            .args(["-sf", "--cacert"])
            .arg(&ca)
            .arg(format!("https://127.0.0.1:{port}{path}"))
            .output()
            .expect("curl");
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    };
    let mut listed = Value::Null;
    env_wait("the package in the aggregated API", &mut || match curl(
        "/apis/packages.operators.coreos.com/v1/namespaces/default/packagemanifests",
    ) {
        Some(v) if v["items"].as_array().is_some_and(|i| !i.is_empty()) => {
            listed = v;
            true
        }
        _ => false,
    });
    assert_eq!(listed["kind"], "PackageManifestList", "{listed}");
    let pm = &listed["items"][0];
    assert_eq!(pm["metadata"]["name"], "aggregated-demo", "{listed}");
    assert_eq!(pm["status"]["catalogSource"], "platform", "{listed}");
    assert_eq!(
        pm["status"]["channels"][0]["currentCSV"], "aggregated-demo.v1.0.0",
        "{listed}"
    );
    let discovery = curl("/apis/packages.operators.coreos.com/v1").expect("discovery");
    assert!(
        discovery["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "packagemanifests"),
        "{discovery}"
    );

    let manifests = Command::new(bin)
        .args(["crds", "--apiservice", "--ca-file"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(manifests.status.success());
    let text = String::from_utf8_lossy(&manifests.stdout);
    assert!(
        text.contains("kind: APIService")
            && text.contains("name: v1.packages.operators.coreos.com"),
        "{text}"
    );
    assert!(
        text.contains("caBundle:") && !text.contains("insecureSkipTLSVerify"),
        "{text}"
    );
    assert!(text.contains("name: marketplace-packages"), "{text}");

    controllers.kill().unwrap();
    controllers.wait().unwrap();
}

/// Pushes version `v` of `edges-operator` (its operator image and bundle), republishes the catalog
/// image `edges/catalog:latest` with every bundle so far, and waits until the catalog offers it.
async fn publish(
    env: &Env,
    bundles: &mut Vec<catalog::Bundle>,
    v: &str,
    replaces: Option<&str>,
    skips: &[&str],
    range: Option<&str>,
) {
    let (host, pkg) = (env.host(), "edges-operator");
    let files = bundle_with_edges(&host, pkg, v, replaces, skips, range);
    push_dummy(&host, &format!("demo/{pkg}"), &format!("v{v}")).await;
    let b = push_bundle(
        &host,
        &format!("edges/{pkg}-bundle"),
        &format!("v{v}"),
        files,
    )
    .await;
    bundles.push(b);
    push_catalog(&host, "edges/catalog", "latest", bundles.clone()).await;
    let head = format!("{pkg}.v{v}");
    env.wait(&format!("the catalog to offer {head}"), || {
        let (ok, out, _) = env.sh(&format!(
            "kubectl get packagemanifests {pkg} -ojsonpath='{{.status.channels[0].currentCSV}}'"
        ));
        (ok && out == head).then_some(())
    });
}

/// OLM's upgrade edges besides `replaces`, through a catalog image updated in place: a bundle
/// whose `olm.skipRange` holds the installed version replaces it although the catalog no longer
/// has the installed version,
/// and from there the bundle nearest the channel head that `skips` the installed version is taken
/// directly — the version in between (which `replaces` it) is never installed. Each upgrade leaves
/// only the new CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_range_and_skips_upgrade_past_versions_outside_the_replaces_chain() {
    let env = start().await;
    let host = env.host();
    let pkg = "edges-operator";
    let mut bundles = Vec::new();
    let installed = |env: &Env, csv: &str| {
        let name = csv.to_string();
        env.wait(&format!("{csv} installed alone"), || {
            let sub = env.json(&["-n", "edges", "get", "subscription", "s"]);
            let csvs = env.json(&["-n", "edges", "get", "csv"]);
            let items = csvs["items"].as_array()?.clone();
            (sub["status"]["installedCSV"] == name.as_str()
                && sub["status"]["state"] == "AtLatestKnown"
                && items.len() == 1
                && items[0]["metadata"]["name"] == name.as_str()
                && items[0]["status"]["phase"] == "Succeeded")
                .then_some(())
        });
    };

    // The CatalogSource comes first; its image appears (and changes) later, polled every 2 s.
    env.apply(&format!("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: edges\n  namespace: cpaas-system\nspec:\n  sourceType: grpc\n  image: {host}/edges/catalog:latest\n  updateStrategy:\n    registryPoll:\n      interval: 2s\n"));
    publish(&env, &mut bundles, "1.0.0", None, &[], None).await;
    env.sh_ok("kubectl create namespace edges");
    env.apply(&subscription(
        ("edges", "s"),
        pkg,
        "stable",
        "Automatic",
        "edges",
        "",
        None,
    ));
    installed(&env, "edges-operator.v1.0.0");

    // The catalog drops 1.0.0 (as catalogs prune old versions) and offers 2.0.0, which replaces
    // nothing: only its skipRange holds the installed 1.0.0. (A catalog keeping 1.0.0 beside it
    // would have two channel heads, which opm refuses, and so does `catalog`.)
    bundles.clear();
    publish(
        &env,
        &mut bundles,
        "2.0.0",
        None,
        &[],
        Some(">=1.0.0 <2.0.0"),
    )
    .await;
    installed(&env, "edges-operator.v2.0.0");
    let sub = env.json(&["-n", "edges", "get", "subscription", "s"]);
    assert_eq!(sub["status"]["currentCSV"], "edges-operator.v2.0.0");

    // 2.1.0 replaces 2.0.0, 3.0.0 (the head) replaces 2.1.0 and skips 2.0.0: 2.0.0 → 3.0.0.
    bundles.push(
        push_bundle(
            &host,
            &format!("edges/{pkg}-bundle"),
            "v2.1.0",
            bundle_with_edges(
                &host,
                pkg,
                "2.1.0",
                Some("edges-operator.v2.0.0"),
                &[],
                None,
            ),
        )
        .await,
    );
    push_dummy(&host, &format!("demo/{pkg}"), "v2.1.0").await;
    publish(
        &env,
        &mut bundles,
        "3.0.0",
        Some("edges-operator.v2.1.0"),
        &["edges-operator.v2.0.0"],
        None,
    )
    .await;
    installed(&env, "edges-operator.v3.0.0");
    let planned: Vec<String> = env
        .plans("edges")
        .iter()
        .flat_map(|p| {
            p["spec"]["clusterServiceVersionNames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    assert!(
        !planned.iter().any(|n| n == "edges-operator.v2.1.0"),
        "2.1.0 is skipped, never planned: {planned:?}"
    );
    assert!(
        planned.iter().any(|n| n == "edges-operator.v3.0.0"),
        "{planned:?}"
    );
}

// ---- OLM's e2e scenarios: fail forward, malformed CSVs, catalog restart and deletion ----

/// Pushes version `v` of `pkg` (its operator image and bundle `files`) and returns the bundle.
async fn push_version(
    env: &Env,
    pkg: &str,
    v: &str,
    files: Vec<(String, Vec<u8>)>,
) -> catalog::Bundle {
    let host = env.host();
    push_dummy(&host, &format!("demo/{pkg}"), &format!("v{v}")).await;
    push_bundle(&host, &format!("{pkg}/bundle"), &format!("v{v}"), files).await
}

/// Republishes catalog image `<repo>:latest` with `bundles` and waits until the catalog offers
/// `head` as the head of `pkg`'s channel.
async fn republish(env: &Env, repo: &str, bundles: &[catalog::Bundle], pkg: &str, head: &str) {
    push_catalog(&env.host(), repo, "latest", bundles.to_vec()).await;
    env.wait(&format!("the catalog to offer {head}"), || {
        let (ok, out, _) = env.sh(&format!(
            "kubectl get packagemanifests {pkg} -ojsonpath='{{.status.channels[0].currentCSV}}'"
        ));
        (ok && out == head).then_some(())
    });
}

/// A CatalogSource `cpaas-system/<name>` reading `<host>/<repo>:latest`, polled every 2 s.
fn polled_catalog_source(env: &Env, name: &str, repo: &str) {
    env.apply(&format!("apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: {name}\n  namespace: cpaas-system\nspec:\n  sourceType: grpc\n  image: {}/{repo}:latest\n  updateStrategy:\n    registryPoll:\n      interval: 2s\n", env.host()));
}

/// Rewrites the CSV (the first file) of bundle `files`.
fn edit_csv(
    mut files: Vec<(String, Vec<u8>)>,
    f: impl FnOnce(&mut Value),
) -> Vec<(String, Vec<u8>)> {
    let mut csv: Value = serde_json::from_slice(&files[0].1).unwrap();
    f(&mut csv);
    files[0].1 = serde_json::to_vec_pretty(&csv).unwrap();
    files
}

impl Env {
    /// Waits until Subscription `ns/name` has installed `csv`, the only CSV of the namespace,
    /// `Succeeded`.
    fn installed_alone(&self, ns: &str, name: &str, csv: &str) {
        self.wait(&format!("{csv} installed alone in {ns}"), || {
            let sub = self.json(&["-n", ns, "get", "subscription", name]);
            let csvs = self.json(&["-n", ns, "get", "csv"]);
            let items = csvs["items"].as_array()?.clone();
            (sub["status"]["installedCSV"] == csv
                && sub["status"]["state"] == "AtLatestKnown"
                && items.len() == 1
                && items[0]["metadata"]["name"] == csv
                && items[0]["status"]["phase"] == "Succeeded")
                .then_some(())
        });
    }

    /// The InstallPlan of namespace `ns` installing `csv`, once it exists.
    fn plan_for(&self, ns: &str, csv: &str) -> Value {
        self.wait(&format!("an InstallPlan for {csv}"), || {
            self.plans(ns).into_iter().find(|p| {
                p["spec"]["clusterServiceVersionNames"]
                    .as_array()
                    .is_some_and(|n| n.iter().any(|n| n == csv))
            })
        })
    }
}

/// OLM's fail-forward scenarios (its `fail_forward_e2e_test.go`), always on here: an upgrade
/// whose InstallPlan fails (a bundle object the API refuses) leaves the Subscription
/// `UpgradeFailed` on that plan, naming the step, until the catalog offers a bundle that
/// replaces the failed one — then a new plan installs it and the failed CSVs go. An upgrade whose
/// CSV goes `Failed` (an install mode the OperatorGroup does not allow) is likewise left for a
/// bundle whose `skipRange` covers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_install_plan_or_csv_fails_forward_to_a_bundle_that_replaces_or_covers_it() {
    let env = start().await;
    let host = env.host();
    let (pkg, repo, ns) = ("ff-operator", "ff/catalog", "ff");
    let csv = |v: &str| format!("{pkg}.v{v}");
    let mut bundles = vec![
        push_version(
            &env,
            pkg,
            "1.0.0",
            bundle_with_edges(&host, pkg, "1.0.0", None, &[], None),
        )
        .await,
    ];
    polled_catalog_source(&env, "ff", repo);
    republish(&env, repo, &bundles, pkg, &csv("1.0.0")).await;
    env.sh_ok(&format!("kubectl create namespace {ns}"));
    env.apply(&subscription(
        (ns, "s"),
        pkg,
        "stable",
        "Automatic",
        "ff",
        "",
        None,
    ));
    env.installed_alone(ns, "s", &csv("1.0.0"));

    // 2.0.0 carries a ConfigMap the API refuses (an invalid name): its plan fails naming it.
    let mut files = bundle_with_edges(&host, pkg, "2.0.0", Some(&csv("1.0.0")), &[], None);
    files.push((
        "manifests/bad.configmap.yaml".into(),
        serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}, "data": {"k": "v"}})).unwrap(),
    ));
    bundles.push(push_version(&env, pkg, "2.0.0", files).await);
    republish(&env, repo, &bundles, pkg, &csv("2.0.0")).await;
    let failed = env.sub_condition(ns, "s", "InstallPlanFailed");
    let msg = failed["message"].as_str().unwrap();
    assert!(
        msg.contains("ConfigMap \"Bad_Name\"") && msg.contains("was refused"),
        "{failed}"
    );
    let plan = env.plan_for(ns, &csv("2.0.0"));
    assert_eq!(plan["status"]["phase"], "Failed", "{plan}");
    let failed_plan = plan["metadata"]["name"].as_str().unwrap().to_string();
    let sub = env.json(&["-n", ns, "get", "subscription", "s"]);
    assert_eq!(sub["status"]["state"], "UpgradeFailed", "{sub}");
    assert_eq!(sub["status"]["currentCSV"], csv("2.0.0").as_str());
    assert_eq!(
        sub["status"]["installPlanRef"]["name"],
        failed_plan.as_str()
    );

    // 3.0.0 replaces the failed 2.0.0: a new plan installs it; only 3.0.0 is left.
    bundles.push(
        push_version(
            &env,
            pkg,
            "3.0.0",
            bundle_with_edges(&host, pkg, "3.0.0", Some(&csv("2.0.0")), &[], None),
        )
        .await,
    );
    republish(&env, repo, &bundles, pkg, &csv("3.0.0")).await;
    env.installed_alone(ns, "s", &csv("3.0.0"));
    let plan = env.plan_for(ns, &csv("3.0.0"));
    assert_eq!(plan["status"]["phase"], "Complete", "{plan}");
    assert_ne!(plan["metadata"]["name"], failed_plan.as_str());
    let sub = env.json(&["-n", ns, "get", "subscription", "s"]);
    assert!(condition(&sub, "InstallPlanFailed").is_none(), "{sub}");

    // 4.0.0 supports only OwnNamespace while the OperatorGroup targets all namespaces: its plan
    // completes but its CSV fails, and 3.0.0 keeps running.
    let files = edit_csv(
        bundle_with_edges(&host, pkg, "4.0.0", Some(&csv("3.0.0")), &[], None),
        |c| {
            c["spec"]["installModes"] = json!([{"type": "OwnNamespace", "supported": true}, {"type": "AllNamespaces", "supported": false}]);
        },
    );
    bundles.push(push_version(&env, pkg, "4.0.0", files).await);
    republish(&env, repo, &bundles, pkg, &csv("4.0.0")).await;
    env.wait("4.0.0 Failed beside a Succeeded 3.0.0", || {
        let phase = |c: &str| {
            env.json(&["-n", ns, "get", "csv", c])["status"]["phase"]
                .as_str()
                .map(str::to_string)
        };
        let (new, old) = (phase(&csv("4.0.0"))?, phase(&csv("3.0.0"))?);
        (new == "Failed" && old == "Succeeded").then_some(())
    });

    // 5.0.0's skipRange covers 4.0.0 (the catalog prunes the older versions): it installs, and
    // the failed 4.0.0 and the 3.0.0 it never replaced both go.
    let fixed = push_version(
        &env,
        pkg,
        "5.0.0",
        bundle_with_edges(&host, pkg, "5.0.0", None, &[], Some(">=4.0.0 <5.0.0")),
    )
    .await;
    republish(&env, repo, &[fixed], pkg, &csv("5.0.0")).await;
    env.installed_alone(ns, "s", &csv("5.0.0"));
}

/// OLM's malformed-CSV scenario: a bundle whose CSV has a field of the wrong type, and one whose
/// CSV lacks its install strategy, are refused before anything is installed; the Subscription's
/// `BundleUnpackFailed` condition names the bundle image, the file or CSV, and the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_csv_is_refused_naming_the_file_and_field() {
    let env = start().await;
    let host = env.host();
    let labels = bundle_labels();
    // The catalog lists a well-formed CSV, but the bundle image carries a mistyped one (as when
    // a catalog is built from one bundle and the image is rebuilt from another).
    let good = bundle_with_edges(&host, "typo-operator", "1.0.0", None, &[], None);
    let mistyped = edit_csv(good.clone(), |c| {
        c["spec"]["installModes"][0]["supported"] = json!("yes");
    });
    let image = olm::image::push(&host, "typo-operator/bundle", "v1.0.0", &mistyped, &labels)
        .await
        .expect("push bundle");
    let typo = catalog::Bundle::from_registry_v1_files(&image, good, &image).unwrap();
    // A CSV without spec.install loads (opm loads it) but cannot be installed.
    let no_install = edit_csv(
        bundle_with_edges(&host, "bare-operator", "1.0.0", None, &[], None),
        |c| {
            c["spec"].as_object_mut().unwrap().remove("install");
        },
    );
    let bare = push_version(&env, "bare-operator", "1.0.0", no_install).await;
    polled_catalog_source(&env, "malformed", "malformed/catalog");
    republish(
        &env,
        "malformed/catalog",
        &[typo, bare],
        "bare-operator",
        "bare-operator.v1.0.0",
    )
    .await;
    env.sh_ok("kubectl create namespace typo; kubectl create namespace bare");
    for (ns, pkg) in [("typo", "typo-operator"), ("bare", "bare-operator")] {
        env.apply(&subscription(
            (ns, "s"),
            pkg,
            "stable",
            "Automatic",
            "malformed",
            "",
            None,
        ));
    }
    let c = env.sub_condition("typo", "s", "BundleUnpackFailed");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains(&image)
            && msg.contains("manifests/typo-operator.v1.0.0.clusterserviceversion.yaml")
            && msg.contains("spec.installModes[0].supported"),
        "{c}"
    );
    let c = env.sub_condition("bare", "s", "BundleUnpackFailed");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("bare-operator/bundle")
            && msg.contains("ClusterServiceVersion bare-operator.v1.0.0")
            && msg.contains("spec.install: required field is missing"),
        "{c}"
    );
    for ns in ["typo", "bare"] {
        assert!(env.plans(ns).is_empty(), "nothing is planned in {ns}");
        let csvs = env.json(&["-n", ns, "get", "csv"]);
        assert_eq!(csvs["items"], json!([]), "nothing is installed in {ns}");
    }
}

/// OLM's catalog scenarios: a catalog survives a restart of the server on the same data dir
/// (CatalogSource `READY` again, its PackageManifests back, the installed operator still
/// `Succeeded`); deleting the CatalogSource leaves the installed operator running (CSV
/// `Succeeded`, its Deployment kept) and its Subscription says the catalog is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_survives_a_restart_and_its_deletion_leaves_installed_operators_running() {
    let mut env = start().await;
    let host = env.host();
    let (pkg, repo, ns) = ("keep-operator", "keep/catalog", "keep");
    let b = push_version(
        &env,
        pkg,
        "1.0.0",
        bundle_with_edges(&host, pkg, "1.0.0", None, &[], None),
    )
    .await;
    polled_catalog_source(&env, "keep", repo);
    republish(&env, repo, &[b], pkg, "keep-operator.v1.0.0").await;
    env.sh_ok(&format!("kubectl create namespace {ns}"));
    env.apply(&subscription(
        (ns, "s"),
        pkg,
        "stable",
        "Automatic",
        "keep",
        "",
        None,
    ));
    env.installed_alone(ns, "s", "keep-operator.v1.0.0");
    let uid = |env: &Env| {
        env.json(&["-n", ns, "get", "deployment", pkg])["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let deployment = uid(&env);

    env.server.restart();
    // The catalog is read again from its image (PackageManifests are computed from it).
    env.wait("the PackageManifest back after the restart", || {
        let (ok, out, _) = env.sh(&format!(
            "kubectl get packagemanifests {pkg} -ojsonpath='{{.status.channels[0].currentCSV}}'"
        ));
        (ok && out == "keep-operator.v1.0.0").then_some(())
    });
    let cs = env.json(&["-n", "cpaas-system", "get", "catalogsource", "keep"]);
    assert_eq!(
        cs["status"]["connectionState"]["lastObservedState"], "READY",
        "{cs}"
    );
    env.installed_alone(ns, "s", "keep-operator.v1.0.0");
    assert_eq!(uid(&env), deployment, "the Deployment was not recreated");

    env.sh_ok("kubectl -n cpaas-system delete catalogsource keep");
    let c = env.sub_condition(ns, "s", "CatalogSourcesUnhealthy");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("CatalogSource cpaas-system/keep named by spec.source/spec.sourceNamespace does not exist"),
        "{c}"
    );
    let (ok, _, _) = env.sh(&format!("kubectl get packagemanifests {pkg}"));
    assert!(!ok, "the deleted catalog's package is no longer listed");
    let csv = env.json(&["-n", ns, "get", "csv", "keep-operator.v1.0.0"]);
    assert_eq!(csv["status"]["phase"], "Succeeded", "{csv}");
    assert_eq!(uid(&env), deployment, "the Deployment stays");
    let sub = env.json(&["-n", ns, "get", "subscription", "s"]);
    assert_eq!(
        sub["status"]["installedCSV"], "keep-operator.v1.0.0",
        "{sub}"
    );
}

/// A step that fails transiently is retried, not fatal: a bundle object whose API is not served
/// (a `Gadget` whose CRD the bundle does not carry) keeps the InstallPlan `Installing` with
/// condition `Installed=False`, reason `StepRetrying`, naming the step — and the Subscription's
/// `InstallPlanPending` says so — until the CRD appears, then the plan completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_api_is_not_served_yet_is_retried_until_it_is() {
    let env = start().await;
    let host = env.host();
    let (pkg, ns) = ("retry-operator", "retry");
    let mut files = bundle_with_edges(&host, pkg, "1.0.0", None, &[], None);
    files.push((
        "manifests/default.gadget.yaml".into(),
        serde_json::to_vec(&json!({"apiVersion": "demo.io/v1", "kind": "Gadget", "metadata": {"name": "default"}, "spec": {"size": 1}})).unwrap(),
    ));
    let b = push_version(&env, pkg, "1.0.0", files).await;
    polled_catalog_source(&env, "retry", "retry/catalog");
    republish(&env, "retry/catalog", &[b], pkg, "retry-operator.v1.0.0").await;
    env.sh_ok(&format!("kubectl create namespace {ns}"));
    env.apply(&subscription(
        (ns, "s"),
        pkg,
        "stable",
        "Automatic",
        "retry",
        "",
        None,
    ));
    let plan = env.wait("the plan to retry the Gadget step", || {
        let p = env.plan_for(ns, "retry-operator.v1.0.0");
        let c = condition(&p, "Installed")?;
        (c["reason"] == "StepRetrying").then(|| p.clone())
    });
    assert_eq!(plan["status"]["phase"], "Installing", "{plan}");
    let msg = condition(&plan, "Installed").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("Gadget \"default\"") && msg.contains("not served yet"),
        "{msg}"
    );
    env.wait("the Subscription to say the step is retried", || {
        let sub = env.json(&["-n", ns, "get", "subscription", "s"]);
        condition(&sub, "InstallPlanPending")?["message"]
            .as_str()?
            .contains("retrying step")
            .then_some(())
    });

    env.apply("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.demo.io\nspec:\n  group: demo.io\n  scope: Namespaced\n  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n");
    env.installed_alone(ns, "s", "retry-operator.v1.0.0");
    let plan = env.plan_for(ns, "retry-operator.v1.0.0");
    assert_eq!(plan["status"]["phase"], "Complete", "{plan}");
    env.sh_ok(&format!("kubectl -n {ns} get gadget default"));
}

impl Env {
    /// The Succeeded CSVs of `ns` once they are exactly `want` (sorted) and nothing else is left.
    fn succeeded_exactly(&self, ns: &str, want: &[&str]) {
        self.wait(&format!("exactly {want:?} Succeeded in {ns}"), || {
            let v = self.json(&["-n", ns, "get", "csv"]);
            let items = v["items"].as_array()?;
            let mut names: Vec<&str> = items
                .iter()
                .filter(|c| c["status"]["phase"] == "Succeeded")
                .filter_map(|c| c["metadata"]["name"].as_str())
                .collect();
            names.sort_unstable();
            (names == want && items.len() == want.len()).then_some(())
        });
    }

    /// `kubectl patch installplan NAME` approving it, as the documentation writes it.
    fn approve(&self, ns: &str, plan: &str) {
        self.sh_ok(&format!(
            r#"kubectl -n {ns} patch installplan {plan} --type=json -p='[{{"op":"replace","path":"/spec/approved","value":true}}]'"#
        ));
    }

    /// The InstallPlan Subscription `ns/name` names, once it names one other than `not`.
    fn plan_ref(&self, ns: &str, name: &str, not: Option<&str>) -> String {
        self.wait(
            &format!("Subscription {ns}/{name} to name a new plan"),
            || {
                let v = self.json(&["-n", ns, "get", "subscription", name]);
                let p = v["status"]["installPlanRef"]["name"].as_str()?;
                (Some(p) != not).then(|| p.to_string())
            },
        )
    }
}

/// Issue 12's policy, as OLM v0: the Subscriptions of one namespace are resolved together and
/// share one InstallPlan, Manual if any of them is. Two Subscriptions (one Manual, one
/// Automatic) that exist when their catalog appears get ONE plan listing both CSVs, named by
/// both, waiting for approval; approving it installs both. Later, the Manual one's pending
/// upgrade holds back the Automatic one's upgrade and a Subscription added meanwhile (each
/// condition names the plan, nothing is merged into the plan under review); approving it lets
/// them through. Upgrades of both offered at once land in one plan again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_of_one_namespace_share_one_install_plan_that_holds_back_the_others() {
    let env = start().await;
    let host = env.host();
    let (ns, repo) = ("pair", "pair/catalog");
    let (manual, auto, late) = ("pair-manual", "pair-auto", "pair-late");
    let csv = |pkg: &str, v: &str| format!("{pkg}.v{v}");
    let mut bundles = Vec::new();
    for pkg in [manual, auto, late] {
        let files = bundle_with_edges(&host, pkg, "1.0.0", None, &[], None);
        bundles.push(push_version(&env, pkg, "1.0.0", files).await);
    }
    push_catalog(&host, repo, "latest", bundles.clone()).await;
    env.sh_ok(&format!("kubectl create namespace {ns}"));
    // Both exist before their catalog does, so one resolution sees both (as OLM's namespace
    // resolution does).
    env.apply(&format!(
        "{}---\n{}",
        subscription((ns, "m"), manual, "stable", "Manual", "pair", "", None),
        subscription((ns, "a"), auto, "stable", "Automatic", "pair", "", None)
    ));
    for s in ["m", "a"] {
        env.sub_condition(ns, s, "CatalogSourcesUnhealthy");
    }
    polled_catalog_source(&env, "pair", repo);

    let first = env.plan_ref(ns, "m", None);
    assert_eq!(env.plan_ref(ns, "a", None), first, "both name one plan");
    let table = env.sh_ok(&format!("kubectl get installplan -n {ns}"));
    let rows = rows(&table);
    assert_eq!(rows.len(), 2, "one InstallPlan in {ns}:\n{table}");
    assert_eq!(
        rows[0][..4],
        ["NAME", "CSV", "APPROVAL", "APPROVED"],
        "{table}"
    );
    // The CSV column is the first of `spec.clusterServiceVersionNames`, as OLM's CRD prints it;
    // the list holds both.
    let (first_csv, approval, approved) = (&rows[1][1], &rows[1][2], &rows[1][3]);
    assert!(
        rows[1][0] == first
            && [csv(manual, "1.0.0"), csv(auto, "1.0.0")].contains(first_csv)
            && approval == "Manual"
            && approved == "false",
        "{table}"
    );
    let listed = env.sh_ok(&format!(
        "kubectl get installplan -n {ns} -o jsonpath='{{.items[0].spec.clusterServiceVersionNames}}'"
    ));
    assert!(
        listed.contains(&csv(manual, "1.0.0")) && listed.contains(&csv(auto, "1.0.0")),
        "{listed}"
    );
    let plan = env.json(&["-n", ns, "get", "installplan", &first]);
    assert_eq!(plan["status"]["phase"], "RequiresApproval", "{plan}");
    assert_eq!(
        plan["metadata"]["ownerReferences"]
            .as_array()
            .map(|o| o.len()),
        Some(2),
        "owned by both Subscriptions: {plan}"
    );
    for s in ["m", "a"] {
        let c = env.sub_condition(ns, s, "InstallPlanPending");
        assert_eq!(c["reason"], "RequiresApproval", "{s}: {c}");
        let sub = env.json(&["-n", ns, "get", "subscription", s]);
        assert_eq!(sub["status"]["state"], "UpgradePending", "{sub}");
    }
    assert!(
        env.json(&["-n", ns, "get", "csv"])["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing installs before approval, the Automatic one included"
    );
    env.approve(ns, &first);
    env.succeeded_exactly(ns, &[&csv(auto, "1.0.0"), &csv(manual, "1.0.0")]);
    for (s, pkg) in [("m", manual), ("a", auto)] {
        env.wait(&format!("{s} at its installed CSV"), || {
            let sub = env.json(&["-n", ns, "get", "subscription", s]);
            (sub["status"]["installedCSV"] == csv(pkg, "1.0.0")
                && sub["status"]["state"] == "AtLatestKnown")
                .then_some(())
        });
    }

    // The Manual one's upgrade waits for approval in a plan of its own...
    let offers = |pkg: &str, head: &str| {
        env.wait(&format!("the catalog to offer {head}"), || {
            let (ok, out, _) = env.sh(&format!(
                "kubectl get packagemanifests {pkg} -ojsonpath='{{.status.channels[0].currentCSV}}'"
            ));
            (ok && out == head).then_some(())
        })
    };
    /// Version `v` of `pkg`, replacing version `from`.
    async fn upgrade(env: &Env, pkg: &str, v: &str, from: &str) -> catalog::Bundle {
        let replaces = format!("{pkg}.v{from}");
        let files = bundle_with_edges(&env.host(), pkg, v, Some(&replaces), &[], None);
        push_version(env, pkg, v, files).await
    }
    bundles.push(upgrade(&env, manual, "1.1.0", "1.0.0").await);
    push_catalog(&host, repo, "latest", bundles.clone()).await;
    offers(manual, &csv(manual, "1.1.0"));
    let pending = env.plan_ref(ns, "m", Some(&first));
    let plan = env.json(&["-n", ns, "get", "installplan", &pending]);
    assert_eq!(
        plan["spec"]["clusterServiceVersionNames"],
        json!([csv(manual, "1.1.0")]),
        "{plan}"
    );
    assert_eq!(plan["spec"]["approval"], "Manual");
    // ...which holds back the Automatic one's upgrade and a Subscription added meanwhile.
    bundles.push(upgrade(&env, auto, "1.1.0", "1.0.0").await);
    push_catalog(&host, repo, "latest", bundles.clone()).await;
    offers(auto, &csv(auto, "1.1.0"));
    env.apply(&subscription(
        (ns, "l"),
        late,
        "stable",
        "Automatic",
        "pair",
        "",
        None,
    ));
    for s in ["a", "l"] {
        let c = env.wait(&format!("{s} to be held back by {pending}"), || {
            let v = env.json(&["-n", ns, "get", "subscription", s]);
            condition(&v, "InstallPlanPending")
                .filter(|c| c["reason"] == "BlockedByPendingInstallPlan")
                .cloned()
        });
        let m = c["message"].as_str().unwrap();
        assert!(
            m.contains(&pending) && m.contains(&csv(manual, "1.1.0")),
            "{c}"
        );
    }
    let names: Vec<String> = env
        .plans(ns)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "nothing planned behind the pending plan: {names:?}"
    );
    let a = env.json(&["-n", ns, "get", "subscription", "a"]);
    assert_eq!(a["status"]["installedCSV"], csv(auto, "1.0.0"), "{a}");
    // Approving it lets the others through: the Automatic upgrade and the new Subscription
    // install without approval.
    env.approve(ns, &pending);
    env.succeeded_exactly(
        ns,
        &[
            &csv(auto, "1.1.0"),
            &csv(late, "1.0.0"),
            &csv(manual, "1.1.0"),
        ],
    );
    let after = env.plan_ref(ns, "a", Some(&first));
    let plan = env.json(&["-n", ns, "get", "installplan", &after]);
    assert_eq!(plan["spec"]["approval"], "Automatic", "{plan}");

    // Upgrades of the Manual and the Automatic one offered at once: one plan, Manual.
    for (s, pkg, v) in [
        ("m", manual, "1.1.0"),
        ("a", auto, "1.1.0"),
        ("l", late, "1.0.0"),
    ] {
        env.wait(&format!("{s} at {v}"), || {
            let sub = env.json(&["-n", ns, "get", "subscription", s]);
            (sub["status"]["installedCSV"] == csv(pkg, v)
                && sub["status"]["state"] == "AtLatestKnown")
                .then_some(())
        });
    }
    bundles.push(upgrade(&env, manual, "1.2.0", "1.1.0").await);
    bundles.push(upgrade(&env, auto, "1.2.0", "1.1.0").await);
    let before = env.plans(ns).len();
    push_catalog(&host, repo, "latest", bundles.clone()).await;
    let both = env.plan_ref(ns, "m", Some(&pending));
    assert_eq!(
        env.plan_ref(ns, "a", Some(&after)),
        both,
        "one plan for both"
    );
    let plan = env.json(&["-n", ns, "get", "installplan", &both]);
    let mut planned: Vec<String> =
        serde_json::from_value(plan["spec"]["clusterServiceVersionNames"].clone()).unwrap();
    planned.sort();
    assert_eq!(
        planned,
        [csv(auto, "1.2.0"), csv(manual, "1.2.0")],
        "{plan}"
    );
    assert_eq!(plan["spec"]["approval"], "Manual", "{plan}");
    assert_eq!(env.plans(ns).len(), before + 1, "exactly one new plan");
    // Batch upgrade lists the shared plan once, with both packages and both installed CSVs.
    let out = Command::new(env!("CARGO_BIN_EXE_marketplace"))
        .args([
            "operators",
            "upgrade",
            "--cluster",
            "global",
            "--dry-run",
            "--kubeconfig",
        ])
        .arg(env.server.kubeconfig("global"))
        .output()
        .expect("run marketplace operators upgrade");
    let listing = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = listing.lines().filter(|l| l.contains(&both)).collect();
    assert!(
        lines.len() == 1
            && lines[0].contains(manual)
            && lines[0].contains(auto)
            && lines[0].contains(&csv(manual, "1.1.0"))
            && lines[0].contains(&csv(auto, "1.1.0"))
            && lines[0].contains("not eligible: source type community"),
        "{listing}"
    );
    env.approve(ns, &both);
    env.succeeded_exactly(
        ns,
        &[
            &csv(auto, "1.2.0"),
            &csv(late, "1.0.0"),
            &csv(manual, "1.2.0"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_the_api_refuses_fails_the_csv_naming_it_and_a_fixed_bundle_installs_over_it()
{
    let env = start().await;
    let host = env.host();
    let (pkg, repo, ns) = ("refused-operator", "refused/catalog", "refused");
    let csv = |v: &str| format!("{pkg}.v{v}");
    // 1.0.0's Deployment has `replicas: "two"`: the CSV and its plan are fine, the Deployment is not.
    let files = edit_csv(
        bundle_with_edges(&host, pkg, "1.0.0", None, &[], None),
        |c| c["spec"]["install"]["spec"]["deployments"][0]["spec"]["replicas"] = json!("two"),
    );
    let bad = push_version(&env, pkg, "1.0.0", files).await;
    polled_catalog_source(&env, "refused", repo);
    republish(&env, repo, std::slice::from_ref(&bad), pkg, &csv("1.0.0")).await;
    env.sh_ok(&format!("kubectl create namespace {ns}"));
    env.apply(&subscription(
        (ns, "s"),
        pkg,
        "stable",
        "Automatic",
        "refused",
        "",
        None,
    ));
    let status = env.wait("1.0.0 Failed naming its Deployment", || {
        let c = env.try_json(&["-n", ns, "get", "csv", &csv("1.0.0")])?;
        (c["status"]["phase"] == "Failed").then(|| c["status"].clone())
    });
    assert_eq!(status["reason"], "InstallComponentFailed", "{status}");
    let msg = status["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("Deployment \"{pkg}\"")) && msg.contains("replicas"),
        "the message names the Deployment and the API's answer: {msg}"
    );

    // 1.0.1 replaces it with a valid Deployment: it installs and the failed CSV goes.
    let fixed = push_version(
        &env,
        pkg,
        "1.0.1",
        bundle_with_edges(&host, pkg, "1.0.1", Some(&csv("1.0.0")), &[], None),
    )
    .await;
    republish(&env, repo, &[bad, fixed], pkg, &csv("1.0.1")).await;
    env.installed_alone(ns, "s", &csv("1.0.1"));
}

/// OLM's provided-API rule between OperatorGroups: an operator in `wa`'s all-namespaces group
/// provides `Widget.v1.demo.io` (listed in the group's `olm.providedAPIs`), so a second operator
/// owning the same CRD in `wb`, whose group reaches the same namespaces, fails with
/// `InterOperatorGroupOwnerConflict` naming the other group, and runs nothing; once the first is
/// uninstalled its group stops listing the API and the second installs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_operator_group_providing_the_same_api_conflicts_until_the_first_is_uninstalled() {
    let env = start().await;
    let host = env.host();
    let (first, second) = ("widget-operator", "widget-two");
    let mut bundles = Vec::new();
    for p in [first, second] {
        push_dummy(&host, &format!("demo/{p}"), "v1.0.0").await;
        bundles.push(
            push_bundle(
                &host,
                &format!("demo/{p}-bundle"),
                "v1.0.0",
                api_bundle(&host, p, true, false),
            )
            .await,
        );
    }
    let image = push_catalog(&host, "demo/widgets-catalog", "v1", bundles).await;
    use_catalog_image(&env, "cpaas-system", "custom", &image);
    let provided = |ns: &str| {
        let groups = env.json(&["-n", ns, "get", "operatorgroups"]);
        let items = groups["items"].as_array().cloned().unwrap_or_default();
        match items.as_slice() {
            [g] => Some(
                g["metadata"]["annotations"]["olm.providedAPIs"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => None,
        }
    };
    let phase = |ns: &str, csv: &str| {
        env.try_json(&["-n", ns, "get", "csv", csv])
            .map(|c| c["status"].clone())
    };

    env.sh_ok("kubectl create namespace wa");
    env.apply(&subscription(
        ("wa", "w"),
        first,
        "stable",
        "Automatic",
        "custom",
        "",
        None,
    ));
    env.wait("the first operator installed", || {
        phase("wa", &format!("{first}.v1.0.0")).filter(|s| s["phase"] == "Succeeded")
    });
    assert_eq!(provided("wa").as_deref(), Some("Widget.v1.demo.io"));

    env.sh_ok("kubectl create namespace wb");
    env.apply(&subscription(
        ("wb", "w"),
        second,
        "stable",
        "Automatic",
        "custom",
        "",
        None,
    ));
    let status = env.wait("the second operator in conflict", || {
        phase("wb", &format!("{second}.v1.0.0")).filter(|s| s["phase"] == "Failed")
    });
    assert_eq!(
        status["reason"], "InterOperatorGroupOwnerConflict",
        "{status}"
    );
    let msg = status["message"].as_str().unwrap();
    assert!(
        msg.starts_with("intersecting operatorgroups provide the same apis")
            && msg.contains("OperatorGroup wa/")
            && msg.contains("Widget.v1.demo.io"),
        "the message names the other group and the API: {msg}"
    );
    // Each phase change is an Event, as OLM records it: `kubectl describe csv` tells the story.
    env.wait("the CSVs' phase Events", || {
        let ok = env.sh_ok(&format!("kubectl -n wa describe csv {first}.v1.0.0"));
        let failed = env.sh_ok(&format!("kubectl -n wb describe csv {second}.v1.0.0"));
        let told = ok.contains("InstallSucceeded")
            && ok.contains("operator-lifecycle-manager")
            && failed.contains("Warning  InterOperatorGroupOwnerConflict");
        told.then_some(())
    });
    assert_eq!(
        env.sh_ok("kubectl -n wb get deployments -o name").trim(),
        "",
        "a CSV in conflict runs nothing"
    );
    assert_eq!(provided("wb").as_deref(), Some(""));

    // Uninstall the first: its group stops listing Widget, and the second installs.
    env.sh_ok(&format!(
        "kubectl -n wa delete subscription w && kubectl -n wa delete csv {first}.v1.0.0"
    ));
    env.wait("wa's group no longer lists Widget", || {
        (provided("wa").as_deref() == Some("")).then_some(())
    });
    env.wait("the second operator installed", || {
        phase("wb", &format!("{second}.v1.0.0")).filter(|s| s["phase"] == "Succeeded")
    });
    assert_eq!(provided("wb").as_deref(), Some("Widget.v1.demo.io"));
}

/// An OperatorGroup that picks its targets with `spec.selector` gets them resolved into OLM's
/// `status.namespaces`, its CSV targets (and is copied into) exactly the matching namespaces, and
/// a namespace labelled later joins them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_group_selecting_namespaces_by_label_targets_exactly_those_namespaces() {
    let env = start().await;
    let host = env.host();
    let (pkg, repo, ns) = ("labelled-operator", "labelled/catalog", "lab");
    let csv = format!("{pkg}.v1.0.0");
    let files = edit_csv(
        bundle_with_edges(&host, pkg, "1.0.0", None, &[], None),
        |c| {
            for m in c["spec"]["installModes"].as_array_mut().unwrap() {
                m["supported"] = json!(true);
            }
            c["spec"]["install"]["spec"]["permissions"] = json!([{"serviceAccountName": "labelled-operator",
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]}]);
        },
    );
    let bundle = push_version(&env, pkg, "1.0.0", files).await;
    polled_catalog_source(&env, "labelled", repo);
    republish(&env, repo, std::slice::from_ref(&bundle), pkg, &csv).await;
    for n in [ns, "t1", "t2"] {
        env.sh_ok(&format!("kubectl create namespace {n}"));
    }
    env.sh_ok(&format!(
        "kubectl label namespace {ns} team=a && kubectl label namespace t1 team=a"
    ));
    env.apply(&format!(
        "apiVersion: operators.coreos.com/v1\nkind: OperatorGroup\nmetadata:\n  name: by-label\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      team: a\n"
    ));
    let group_targets = || {
        let og = env.json(&["-n", ns, "get", "operatorgroup", "by-label"]);
        og["status"]["lastUpdated"].as_str()?;
        Some(og["status"]["namespaces"].clone())
    };
    let resolved = env.wait("the group's selector resolved", group_targets);
    assert_eq!(resolved, json!([ns, "t1"]));
    env.apply(&subscription(
        (ns, "s"),
        pkg,
        "stable",
        "Automatic",
        "labelled",
        "",
        None,
    ));
    let installed = env.wait("the CSV installed for the labelled namespaces", || {
        let c = env.try_json(&["-n", ns, "get", "csv", &csv])?;
        (c["status"]["phase"] == "Succeeded").then_some(c)
    });
    assert_eq!(
        installed["metadata"]["annotations"]["olm.targetNamespaces"],
        format!("{ns},t1")
    );
    let copy_in = |n: &str| env.try_json(&["-n", n, "get", "csv", &csv]).is_some();
    assert!(copy_in("t1"), "a copy in the matching namespace t1");
    assert!(
        !copy_in("t2"),
        "no copy in t2, which the selector does not match"
    );

    // The CSV's permissions are granted in each target namespace, as OLM grants them.
    let granted = |n: &str| {
        env.sh_ok(&format!(
            "kubectl -n {n} get roles,rolebindings -l olm.owner={csv},cpaas.io/target-rbac=true -o name"
        ))
        .lines()
        .count()
    };
    assert_eq!(granted("t1"), 2, "a Role and a RoleBinding in t1");
    assert_eq!(granted("t2"), 0);
    // And the API server's RBAC agrees: the operator's ServiceAccount may list ConfigMaps in t1.
    let can_list = |n: &str| {
        env.sh(&format!(
            "kubectl auth can-i list configmaps -n {n} --as=system:serviceaccount:{ns}:labelled-operator"
        ))
        .1
        .trim()
            == "yes"
    };
    assert!(can_list("t1") && !can_list("t2"));

    // t2 is labelled: the group and the CSV follow.
    env.sh_ok("kubectl label namespace t2 team=a");
    env.wait("t2 among the group's namespaces", || {
        (group_targets()? == json!([ns, "t1", "t2"])).then_some(())
    });
    env.wait("the CSV targets t2, is copied and granted there", || {
        let c = env.try_json(&["-n", ns, "get", "csv", &csv])?;
        (c["metadata"]["annotations"]["olm.targetNamespaces"] == format!("{ns},t1,t2")
            && copy_in("t2")
            && granted("t2") == 2)
            .then_some(())
    });

    // t1 loses its label: it leaves the targets, and its grant goes.
    env.sh_ok("kubectl label namespace t1 team-");
    env.wait("t1's grant removed", || (granted("t1") == 0).then_some(()));
    assert_eq!(granted("t2"), 2);
    // Uninstalled: every grant goes with the CSV.
    env.sh_ok(&format!(
        "kubectl -n {ns} delete subscription s && kubectl -n {ns} delete csv {csv}"
    ));
    env.wait("t2's grant removed with the CSV", || {
        (granted("t2") == 0).then_some(())
    });
}
