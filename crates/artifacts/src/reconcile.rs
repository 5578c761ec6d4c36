//! The ArtifactVersion controller: checks the version's images are in the platform registry, then
//! does what its type asks — a plugin (global cluster) gets its embedded `spec.modulePlugin` and
//! `spec.moduleConfig` applied (server-side apply, field manager `marketplace-artifacts`, label
//! `cpaas.io/artifact-version`), a chart must be a Helm chart artifact (the `public-charts` index
//! is computed from Ready chart versions, see [`crate::charts`]), a bundle needs nothing more (the
//! operator catalogs read bundle ArtifactVersions themselves). The outcome is `status.phase`
//! (`Ready`/`Failed`), `status.message` and the `ImagesPresent` and `Ready` conditions.
//!
//! Watch-driven: a new or changed ArtifactVersion is reconciled at once. A registry cannot be
//! watched, so a `Failed` version is looked at again after [`RETRY`].

use std::sync::Arc;
use std::time::Duration;

use apis::artifacts::{
    ArtifactType, ArtifactVersion, ArtifactVersionSpec, ArtifactVersionStatus, Condition, Phase,
};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::images::{Images, Presence};

/// How long until a `Failed` version is checked again (images may be pushed later).
pub const RETRY: Duration = Duration::from_secs(15);
/// Label on objects created for an ArtifactVersion (value: its name).
pub const VERSION_LABEL: &str = "cpaas.io/artifact-version";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ArtifactVersion {0} has no namespace")]
    NoNamespace(String),
    #[error("writing the status of ArtifactVersion {name}: {source}")]
    Status {
        name: String,
        #[source]
        source: kube::Error,
    },
}

pub struct Ctx {
    pub client: kube::Client,
    pub images: Images,
    pub global: bool,
    pub recorder: Recorder,
}

/// What a reconcile found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub images_present: Result<(), String>,
    pub ready: Result<String, String>,
}

/// The main image first, then the related ones (duplicates once).
pub fn image_refs(spec: &ArtifactVersionSpec) -> Vec<String> {
    let mut out = vec![spec.image.clone()];
    for i in &spec.related_images {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

fn condition(type_: &str, r: &Result<String, String>, generation: Option<i64>) -> Condition {
    let (status, reason, message) = match r {
        Ok(m) => ("True", type_.to_string(), m.clone()),
        Err(m) => ("False", format!("Not{type_}"), m.clone()),
    };
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason,
        message,
        observed_generation: generation,
        last_transition_time: None,
    }
}

/// The status for `outcome`, keeping each condition's transition time while its status holds.
pub fn desired_status(
    current: Option<&ArtifactVersionStatus>,
    outcome: &Outcome,
    generation: Option<i64>,
    now: &str,
) -> ArtifactVersionStatus {
    let images = outcome
        .images_present
        .clone()
        .map(|()| "every image is in the registry".to_string());
    let mut conditions = vec![
        condition("ImagesPresent", &images, generation),
        condition("Ready", &outcome.ready, generation),
    ];
    for c in &mut conditions {
        let since = current
            .and_then(|s| s.conditions.iter().find(|o| o.type_ == c.type_))
            .filter(|o| o.status == c.status)
            .and_then(|o| o.last_transition_time.clone());
        c.last_transition_time = Some(since.unwrap_or_else(|| now.to_string()));
    }
    let (phase, message) = match &outcome.ready {
        Ok(m) => (Phase::Ready, m.clone()),
        Err(m) => (Phase::Failed, m.clone()),
    };
    ArtifactVersionStatus {
        phase,
        message: Some(message),
        observed_generation: generation,
        conditions,
    }
}

/// An embedded object made ready to apply: its kind, name, namespace and body (labelled).
pub fn prepare_object(
    field: &str,
    obj: &Value,
    version_name: &str,
) -> Result<(GroupVersionKind, String, Option<String>, Value), String> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    if api_version.is_empty() || kind.is_empty() || name.is_empty() {
        return Err(format!(
            "spec.{field}: needs apiVersion, kind and metadata.name; give the whole object to create"
        ));
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
    let mut body = obj.clone();
    for k in [
        "uid",
        "resourceVersion",
        "managedFields",
        "creationTimestamp",
        "generation",
    ] {
        if let Some(m) = body["metadata"].as_object_mut() {
            m.remove(k);
        }
    }
    if let Some(s) = body.as_object_mut() {
        s.remove("status");
    }
    if !body["metadata"]["labels"].is_object() {
        body["metadata"]["labels"] = json!({});
    }
    body["metadata"]["labels"][VERSION_LABEL] = version_name.into();
    Ok((gvk, name.to_string(), ns, body))
}

/// A plugin's ModuleConfig with `spec.chart.ref` naming where violet pushed its chart
/// (`<registry>/<repository>:<tag>`, from `spec.image` and `spec.tag`) when the package leaves it
/// out — as it must: a vendor packs the plugin without knowing the registry of the platform it
/// will be pushed to. A ref the package gives is kept.
pub fn with_chart_ref(config: &Value, spec: &ArtifactVersionSpec) -> Value {
    let mut config = config.clone();
    let given = config["spec"]["chart"]["ref"]
        .as_str()
        .is_some_and(|r| !r.is_empty());
    let repo = spec.image.split('@').next().unwrap_or_default();
    let tag = match (&spec.tag, &spec.chart) {
        (t, _) if !t.is_empty() => t.as_str(),
        (_, Some(c)) => c.version.as_str(),
        _ => "",
    };
    if given || !config.is_object() || repo.is_empty() || tag.is_empty() {
        return config;
    }
    let tagged = repo
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let reference = if tagged {
        repo.to_string()
    } else {
        format!("{repo}:{tag}")
    };
    if !config["spec"].is_object() {
        config["spec"] = json!({});
    }
    if !config["spec"]["chart"].is_object() {
        config["spec"]["chart"] = json!({});
    }
    config["spec"]["chart"]["ref"] = json!(reference);
    config
}

/// Applies one embedded object (server-side apply, forced).
async fn apply_object(
    client: &kube::Client,
    field: &str,
    obj: &Value,
    av: &str,
) -> Result<String, String> {
    let (gvk, name, ns, body) = prepare_object(field, obj, av)?;
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk).await.map_err(|e| {
        format!(
            "spec.{field}: kind {} {} is not served in this cluster ({e}); install its CRD first",
            gvk.kind, gvk.version
        )
    })?;
    let api: Api<DynamicObject> = match (caps.scope, &ns) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        (Scope::Namespaced, None) => {
            Api::namespaced_with(client.clone(), apis::artifacts::NAMESPACE, &ar)
        }
        (Scope::Cluster, _) => Api::all_with(client.clone(), &ar),
    };
    let pp = PatchParams::apply(&controllers::runtime::field_manager(crate::NAME)).force();
    api.patch(&name, &pp, &Patch::Apply(&body))
        .await
        .map_err(|e| format!("spec.{field}: applying {} {name}: {e}", gvk.kind))?;
    Ok(format!("{} {name}", gvk.kind))
}

/// What the version's type asks for, once its images are present.
async fn type_work(av: &ArtifactVersion, ctx: &Ctx) -> Result<String, String> {
    let name = av.name_any();
    match av.spec.type_ {
        ArtifactType::Bundle => Ok("bundle images are in the registry".into()),
        ArtifactType::Plugin => {
            if !ctx.global {
                return Err("plugin ArtifactVersions belong in the global cluster (their ModulePlugin places them)".into());
            }
            let plugin = av.spec.module_plugin.as_ref().ok_or(
                "spec.modulePlugin: a plugin ArtifactVersion must carry the ModulePlugin to create",
            )?;
            let mut done = vec![apply_object(&ctx.client, "modulePlugin", plugin, &name).await?];
            if let Some(config) = &av.spec.module_config {
                let config = with_chart_ref(config, &av.spec);
                done.push(apply_object(&ctx.client, "moduleConfig", &config, &name).await?);
            }
            Ok(format!("applied {}", done.join(", ")))
        }
        ArtifactType::Chart => {
            let chart = av.spec.chart.as_ref().ok_or(
                "spec.chart: a chart ArtifactVersion must name its chart ({name, version})",
            )?;
            crate::charts::check_chart(&ctx.images, &av.spec.image).await?;
            Ok(format!(
                "chart {} {} is published in {}",
                chart.name,
                chart.version,
                crate::charts::REPO
            ))
        }
    }
}

async fn evaluate(av: &ArtifactVersion, ctx: &Ctx) -> Outcome {
    let images_present = match ctx.images.check(&image_refs(&av.spec)).await {
        Presence::All => Ok(()),
        Presence::Missing(m) => Err(format!(
            "not in the registry: {}; push the package's images (violet push)",
            m.join(", ")
        )),
        Presence::Unreachable(e) => Err(e),
    };
    let ready = match &images_present {
        Err(e) => Err(e.clone()),
        Ok(()) => type_work(av, ctx).await,
    };
    Outcome {
        images_present,
        ready,
    }
}

pub async fn reconcile(av: Arc<ArtifactVersion>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = av.name_any();
    let ns = av
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    if av.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let outcome = evaluate(&av, &ctx).await;
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let status = desired_status(av.status.as_ref(), &outcome, av.metadata.generation, &now);
    if av.status.as_ref() != Some(&status) {
        let was = av.status.as_ref().map(|s| s.phase);
        let api: Api<ArtifactVersion> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({
            "apiVersion": ArtifactVersion::api_version(&()),
            "kind": ArtifactVersion::kind(&()),
            "status": status,
        });
        let pp = PatchParams::apply(&controllers::runtime::field_manager(crate::NAME)).force();
        api.patch_status(&name, &pp, &Patch::Apply(&body))
            .await
            .map_err(|source| Error::Status {
                name: name.clone(),
                source,
            })?;
        if was != Some(status.phase) {
            record(&ctx, &av, &status).await;
        }
    }
    Ok(match status.phase {
        Phase::Ready => Action::await_change(),
        _ => Action::requeue(RETRY),
    })
}

async fn record(ctx: &Ctx, av: &ArtifactVersion, status: &ArtifactVersionStatus) {
    let (type_, reason) = match status.phase {
        Phase::Ready => (EventType::Normal, "Ready"),
        _ => (EventType::Warning, "Failed"),
    };
    let ev = Event {
        type_,
        reason: reason.into(),
        note: status.message.clone(),
        action: "Check".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &av.object_ref(&())).await {
        tracing::warn!(name = %av.name_any(), error = %e, "cannot record an Event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ArtifactVersionSpec {
        serde_json::from_value(json!({
            "artifact": "demo", "version": "v1", "type": "plugin", "image": "r/a@sha256:1",
            "relatedImages": ["r/b@sha256:2", "r/a@sha256:1"]
        }))
        .unwrap()
    }

    #[test]
    fn images_are_the_main_one_then_the_related_ones_once() {
        assert_eq!(image_refs(&spec()), ["r/a@sha256:1", "r/b@sha256:2"]);
    }

    #[test]
    fn the_status_follows_the_outcome_and_keeps_transition_times() {
        let failed = Outcome {
            images_present: Err("not in the registry: r/b".into()),
            ready: Err("not in the registry: r/b".into()),
        };
        let s1 = desired_status(None, &failed, Some(1), "t1");
        assert_eq!(s1.phase, Phase::Failed);
        assert_eq!(s1.conditions[0].reason, "NotImagesPresent");
        let s2 = desired_status(Some(&s1), &failed, Some(1), "t2");
        assert_eq!(s1, s2, "nothing changed, nothing to write");
        let ready = Outcome {
            images_present: Ok(()),
            ready: Ok("applied ModulePlugin x".into()),
        };
        let s3 = desired_status(Some(&s2), &ready, Some(1), "t3");
        assert_eq!(s3.phase, Phase::Ready);
        assert_eq!(s3.message.as_deref(), Some("applied ModulePlugin x"));
        assert_eq!(s3.conditions[1].last_transition_time.as_deref(), Some("t3"));
    }

    #[test]
    fn a_plugin_module_config_without_a_chart_ref_points_at_the_pushed_chart() {
        let mut spec = spec();
        spec.image = "127.0.0.1:5000/acp/chart-demo@sha256:1".into();
        spec.tag = "1.0.0".into();
        let config = json!({"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModuleConfig",
                            "metadata": {"name": "demo-v1.0.0"}, "spec": {"version": "v1.0.0"}});
        let out = with_chart_ref(&config, &spec);
        assert_eq!(
            out["spec"]["chart"]["ref"],
            "127.0.0.1:5000/acp/chart-demo:1.0.0"
        );
        assert_eq!(out["spec"]["version"], "v1.0.0");
        // A ref the package gives is kept.
        let mut given = config.clone();
        given["spec"]["chart"] = json!({"ref": "elsewhere/chart:9"});
        assert_eq!(with_chart_ref(&given, &spec), given);
        // No tag: the chart's version.
        spec.tag = String::new();
        spec.chart = Some(apis::artifacts::ChartRef {
            name: "demo".into(),
            version: "1.0.1".into(),
        });
        assert_eq!(
            with_chart_ref(&config, &spec)["spec"]["chart"]["ref"],
            "127.0.0.1:5000/acp/chart-demo:1.0.1"
        );
    }

    #[test]
    fn embedded_objects_need_kind_and_name_and_get_the_version_label() {
        let obj = json!({"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "ModulePlugin",
                         "metadata": {"name": "demo", "resourceVersion": "7"}, "spec": {}, "status": {"x": 1}});
        let (gvk, name, ns, body) = prepare_object("modulePlugin", &obj, "demo.v1").unwrap();
        assert_eq!(
            (gvk.group.as_str(), gvk.kind.as_str(), name.as_str(), ns),
            ("cluster.alauda.io", "ModulePlugin", "demo", None)
        );
        assert_eq!(body["metadata"]["labels"][VERSION_LABEL], "demo.v1");
        assert!(body["metadata"].get("resourceVersion").is_none() && body.get("status").is_none());
        let e = prepare_object("moduleConfig", &json!({"kind": "ModuleConfig"}), "v").unwrap_err();
        assert!(e.starts_with("spec.moduleConfig: needs apiVersion"), "{e}");
    }
}
