//! A plugin ArtifactVersion in the global cluster creates its embedded ModulePlugin and ModuleConfig
//! (applied as given, labelled with the version; a ModuleConfig without `spec.chart.ref` gets the
//! pushed chart's place) and turns Ready; the controller runs as its own
//! least-privilege ServiceAccount, as in `marketplace serve`. The embedded control plane runs as a
//! library; without a platform registry every image counts as present. The ModulePlugin and
//! ModuleConfig CRDs here are minimal stand-ins (cluster-scoped, free-form) for the plugins crate's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apis::artifacts::ArtifactVersion;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;

fn stand_in_crd(kind: &str, plural: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.cluster.alauda.io")},
        "spec": {"group": "cluster.alauda.io", "scope": "Cluster",
                 "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
                 "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap()
}

async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_version_creates_its_module_plugin_and_config_and_turns_ready() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let set = artifacts::set()
        .with_crd(stand_in_crd("ModulePlugin", "moduleplugins"))
        .with_crd(stand_in_crd("ModuleConfig", "moduleconfigs"));
    let accounts = cp.service_account_clients();
    let host = controllers::Host::new(vec![set])
        .install_crds(true)
        .with_identities(Arc::new(move |c, ns, n| {
            accounts.client_as(c, ns, n).map_err(Into::into)
        }));
    let client = cp.client("global").unwrap();
    let running = host.start(vec![controllers::ClusterTarget {
        client: client.clone(),
        labels: Default::default(),
        global: true,
        registry: None,
        name: "global".into(),
    }]);

    let versions: Api<ArtifactVersion> = Api::namespaced(client.clone(), "cpaas-system");
    let av: ArtifactVersion = serde_json::from_value(json!({
        "apiVersion": "app.alauda.io/v1alpha1", "kind": "ArtifactVersion",
        "metadata": {"name": "demo-plugin.v1.0.0", "namespace": "cpaas-system"},
        "spec": {"artifact": "demo-plugin", "version": "v1.0.0", "type": "plugin",
                 "image": "reg.local/plugins/demo@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                 "chart": {"name": "demo-plugin", "version": "1.0.0"},
                 "modulePlugin": {"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModulePlugin",
                                  "metadata": {"name": "demo-plugin"}, "spec": {"displayName": "Demo"}},
                 "moduleConfig": {"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleConfig",
                                  "metadata": {"name": "demo-plugin-v1.0.0"}, "spec": {"version": "v1.0.0"}}}
    }))
    .unwrap();
    // The namespace exists once the host set up the controller's identity.
    eventually("create the ArtifactVersion", || {
        let (versions, av) = (versions.clone(), av.clone());
        async move { versions.create(&PostParams::default(), &av).await.ok() }
    })
    .await;
    let status = eventually("the version Ready", || {
        let versions = versions.clone();
        async move {
            let v = versions.get("demo-plugin.v1.0.0").await.ok()?;
            v.status
                .filter(|s| s.phase == apis::artifacts::Phase::Ready)
        }
    })
    .await;
    assert!(
        status
            .message
            .as_deref()
            .unwrap()
            .contains("ModulePlugin demo-plugin"),
        "{status:?}"
    );
    for (kind, plural, name) in [
        ("ModulePlugin", "moduleplugins", "demo-plugin"),
        ("ModuleConfig", "moduleconfigs", "demo-plugin-v1.0.0"),
    ] {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("cluster.alauda.io", "v1alpha1", kind),
            plural,
        );
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let obj = api.get(name).await.unwrap();
        assert_eq!(
            obj.labels()["cpaas.io/artifact-version"],
            "demo-plugin.v1.0.0"
        );
        let managers: Vec<_> = obj
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.manager)
            .collect();
        assert!(
            managers.contains(&"marketplace-artifacts".to_string()),
            "{managers:?}"
        );
        if kind == "ModuleConfig" {
            // The package did not say where its chart is: the place it was pushed to.
            assert_eq!(
                obj.data["spec"]["chart"]["ref"], "reg.local/plugins/demo:1.0.0",
                "{:?}",
                obj.data
            );
        }
    }
    running.stop().await;
    cp.shutdown().await;
}
