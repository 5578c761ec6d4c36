//! Artifact / ArtifactVersion records (contract #1: `app.alauda.io/v1alpha1`, namespace
//! `cpaas-system`), built as JSON from a package's metadata and where its images were pushed, and
//! applied with server-side apply (field manager `violet`), so that re-pushing the same package
//! changes nothing.

use anyhow::{Context, Result};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use package::{Kind, Metadata};
use serde_json::{Value, json};

pub const GROUP: &str = "app.alauda.io";
pub const VERSION: &str = "v1alpha1";
pub const NAMESPACE: &str = "cpaas-system";
pub const FIELD_MANAGER: &str = "violet";
pub const LABEL_TYPE: &str = "cpaas.io/artifact-type";
pub const LABEL_ARTIFACT: &str = "cpaas.io/artifact";

pub fn artifact_resource() -> ApiResource {
    resource("Artifact", "artifacts")
}
pub fn version_resource() -> ApiResource {
    resource("ArtifactVersion", "artifactversions")
}
fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// Where each image of a package was pushed: `<registry>/<repo>@sha256:...`, main artifact first,
/// plus the main artifact's tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    pub artifact: String,
    pub tag: Option<String>,
    pub related: Vec<String>,
}

/// The clusters a package's records go to, and a notice when `--clusters` is ignored.
pub fn targets(kind: Kind, clusters: &[String]) -> (Vec<String>, Option<String>) {
    let global = vec!["global".to_string()];
    match kind {
        Kind::Bundle if clusters.is_empty() => (global, None),
        Kind::Bundle => (clusters.to_vec(), None),
        Kind::Plugin if !clusters.is_empty() => (
            global,
            Some("--clusters is ignored for cluster plugins: they are published in global and placed by their affinity".into()),
        ),
        Kind::Chart if !clusters.is_empty() => (
            global,
            Some("--clusters is ignored for Helm charts: they go to the public-charts repository in global".into()),
        ),
        _ => (global, None),
    }
}

pub fn artifact(m: &Metadata) -> Value {
    let mut spec = json!({"type": m.kind.as_str(), "displayName": m.display_name});
    if let Some(p) = &m.provider {
        spec["provider"] = json!(p);
    }
    if let Some(s) = &m.source_type {
        spec["sourceType"] = json!(s);
    }
    if let Some(c) = &m.catalog_source {
        spec["catalogSource"] = json!(c);
    }
    json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "Artifact",
        "metadata": {"name": m.name, "namespace": NAMESPACE, "labels": {LABEL_TYPE: m.kind.as_str()}},
        "spec": spec,
    })
}

pub fn artifact_version(m: &Metadata, pushed: &Pushed, owner_uid: &str) -> Value {
    let mut spec = json!({
        "artifact": m.name,
        "version": m.version,
        "type": m.kind.as_str(),
        "image": pushed.artifact,
        "arch": m.architectures.iter().map(|a| a.rsplit('/').next().unwrap_or(a)).collect::<Vec<_>>(),
        "relatedImages": pushed.related,
    });
    if let Some(t) = &pushed.tag {
        spec["tag"] = json!(t);
    }
    for (k, v) in [
        ("catalogSource", &m.catalog_source),
        ("sourceType", &m.source_type),
    ] {
        if let Some(v) = v {
            spec[k] = json!(v);
        }
    }
    if let Some(c) = &m.chart {
        spec["chart"] = json!({"name": c.name, "version": c.version});
    }
    if m.kind == Kind::Plugin {
        spec["modulePlugin"] = m.module_plugin.clone().unwrap_or(Value::Null);
        spec["moduleConfig"] = m.module_config.clone().unwrap_or(Value::Null);
    }
    json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "ArtifactVersion",
        "metadata": {
            "name": m.version_name(),
            "namespace": NAMESPACE,
            "labels": {LABEL_ARTIFACT: m.name, LABEL_TYPE: m.kind.as_str()},
            "ownerReferences": [{
                "apiVersion": format!("{GROUP}/{VERSION}"), "kind": "Artifact", "name": m.name,
                "uid": owner_uid, "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
    })
}

fn explain(cluster: &str, e: kube::Error) -> anyhow::Error {
    let hint = match &e {
        kube::Error::Api(s) if s.code == 404 => format!(
            "cluster {cluster} has no Artifact API ({GROUP}/{VERSION}) or no namespace {NAMESPACE}: is the platform's upload support installed there?"
        ),
        kube::Error::Api(s) if s.code == 403 => format!(
            "the platform user may not write Artifacts in cluster {cluster}: use a {} user",
            crate::platform::ADMIN_ROLE
        ),
        _ => format!("cluster {cluster}"),
    };
    anyhow::Error::new(e).context(hint)
}

/// Applies the Artifact and then its ArtifactVersion in one cluster; returns whether anything
/// changed (false for a re-push of the same package).
pub async fn apply(
    client: kube::Client,
    cluster: &str,
    m: &Metadata,
    pushed: &Pushed,
) -> Result<bool> {
    let arts: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NAMESPACE, &artifact_resource());
    let vers: Api<DynamicObject> = Api::namespaced_with(client, NAMESPACE, &version_resource());
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let before_a = arts
        .get_opt(&m.name)
        .await
        .map_err(|e| explain(cluster, e))?;
    let a = arts
        .patch(&m.name, &pp, &Patch::Apply(artifact(m)))
        .await
        .map_err(|e| explain(cluster, e))?;
    let uid = a.metadata.uid.clone().context("the Artifact has no uid")?;
    let name = m.version_name();
    let before_v = vers.get_opt(&name).await.map_err(|e| explain(cluster, e))?;
    let v = vers
        .patch(&name, &pp, &Patch::Apply(artifact_version(m, pushed, &uid)))
        .await
        .map_err(|e| explain(cluster, e))?;
    let rv =
        |o: &Option<DynamicObject>| o.as_ref().and_then(|o| o.metadata.resource_version.clone());
    Ok(
        rv(&before_a) != a.metadata.resource_version
            || rv(&before_v) != v.metadata.resource_version,
    )
}

/// Every ArtifactVersion of a cluster.
pub async fn list_versions(client: kube::Client, cluster: &str) -> Result<Vec<DynamicObject>> {
    let vers: Api<DynamicObject> = Api::namespaced_with(client, NAMESPACE, &version_resource());
    Ok(vers
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(cluster, e))?
        .items)
}

/// Every Artifact of a cluster.
pub async fn list_artifacts(client: kube::Client, cluster: &str) -> Result<Vec<DynamicObject>> {
    let arts: Api<DynamicObject> = Api::namespaced_with(client, NAMESPACE, &artifact_resource());
    Ok(arts
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(cluster, e))?
        .items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use package::metadata::{ChartRef, Image};

    fn meta(kind: Kind) -> Metadata {
        Metadata {
            format_version: 1,
            name: "web-cli".into(),
            display_name: "Web CLI".into(),
            kind,
            version: "v4.0.4".into(),
            architectures: vec!["linux/amd64".into(), "linux/arm64".into()],
            provider: None,
            source_type: Some("alauda".into()),
            catalog_source: (kind == Kind::Bundle).then(|| "platform".into()),
            artifact: Image {
                reference: "acp/chart-web-cli:v4.0.4".into(),
                layout: "images/0".into(),
                digest: String::new(),
            },
            related_images: vec![],
            chart: (kind != Kind::Bundle).then(|| ChartRef {
                name: "web-cli".into(),
                version: "v4.0.4".into(),
            }),
            module_plugin: (kind == Kind::Plugin).then(|| json!({"metadata": {"name": "web-cli"}})),
            module_config: (kind == Kind::Plugin)
                .then(|| json!({"metadata": {"name": "web-cli-v4.0.4"}})),
        }
    }

    #[test]
    fn operators_go_to_each_cluster_plugins_and_charts_to_global_with_a_notice() {
        let c = vec!["region1".to_string(), "region2".to_string()];
        assert_eq!(targets(Kind::Bundle, &c), (c.clone(), None));
        assert_eq!(targets(Kind::Bundle, &[]).0, vec!["global"]);
        let (t, notice) = targets(Kind::Plugin, &c);
        assert_eq!(t, vec!["global"]);
        assert!(notice.unwrap().contains("ignored"));
        assert_eq!(
            targets(Kind::Plugin, &[]),
            (vec!["global".to_string()], None)
        );
        assert_eq!(targets(Kind::Chart, &c).0, vec!["global"]);
    }

    #[test]
    fn records_follow_the_contract() {
        let m = meta(Kind::Plugin);
        let p = Pushed {
            artifact: "r:5000/acp/chart-web-cli@sha256:aa".into(),
            tag: Some("v4.0.4".into()),
            related: vec!["r:5000/x@sha256:bb".into()],
        };
        let a = artifact(&m);
        assert_eq!(a["metadata"]["labels"][LABEL_TYPE], "plugin");
        assert!(a["spec"].get("catalogSource").is_none());
        let v = artifact_version(&m, &p, "uid-1");
        assert_eq!(v["metadata"]["name"], "web-cli.v4.0.4");
        assert_eq!(v["metadata"]["labels"][LABEL_ARTIFACT], "web-cli");
        assert_eq!(v["metadata"]["ownerReferences"][0]["uid"], "uid-1");
        assert_eq!(v["spec"]["arch"], json!(["amd64", "arm64"]));
        assert_eq!(v["spec"]["image"], "r:5000/acp/chart-web-cli@sha256:aa");
        assert_eq!(v["spec"]["chart"]["name"], "web-cli");
        assert_eq!(v["spec"]["modulePlugin"]["metadata"]["name"], "web-cli");
        let b = artifact_version(&meta(Kind::Bundle), &p, "u");
        assert_eq!(b["spec"]["catalogSource"], "platform");
        assert!(b["spec"].get("modulePlugin").is_none());
    }
}
