//! The sample controller that proves the host end to end: a `ConfigMapGenerator`
//! (`samples.marketplace.dev/v1alpha1`, namespaced) owns one ConfigMap, `<name>-generated`, holding
//! `spec.data`, and reports a `Ready` condition. Written in the kube-rs shape: a deterministic
//! child name and server-side apply (field manager `marketplace-sample`) make a reconcile that is
//! repeated or cut short by a crash converge to one child; the child carries a controller
//! ownerReference, so deleting the generator collects it; status goes through the `status`
//! subresource; a changed child is reported with an Event.
//!
//! It is part of the binary but registered only when asked (`--enable-sample` on `serve` and
//! `controllers`, `marketplace crds --enable-sample`): tests run the real binary, in and out of
//! process, without the product shipping a sample API by default.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::watcher;
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::host::{ClusterContext, ControllerSet};

pub const NAME: &str = "sample";

/// The label every generated ConfigMap carries (value: the generator's name).
pub const GENERATOR_LABEL: &str = "samples.marketplace.dev/generator";

/// Generates a ConfigMap holding `data`.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[kube(
    group = "samples.marketplace.dev",
    version = "v1alpha1",
    kind = "ConfigMapGenerator",
    namespaced,
    status = "ConfigMapGeneratorStatus",
    shortname = "cmg",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Child","type":"string","jsonPath":".status.child"}"#
)]
pub struct ConfigMapGeneratorSpec {
    /// The data of the generated ConfigMap.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapGeneratorStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The generated ConfigMap's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A status condition (metav1.Condition's fields).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("ConfigMapGenerator {0} has no namespace")]
    NoNamespace(String),
    #[error("reconciling ConfigMapGenerator {namespace}/{name}: {source}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// The controller set (with its CRD).
pub fn set() -> ControllerSet {
    ControllerSet::new(NAME, run).with_crd(ConfigMapGenerator::crd())
}

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
}

pub async fn run(cx: ClusterContext) -> Result<(), kube::Error> {
    let generators: Api<ConfigMapGenerator> = Api::all(cx.client.clone());
    let children: Api<ConfigMap> = Api::all(cx.client.clone());
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        recorder: crate::runtime::recorder(&cx, NAME),
    });
    let controller = Controller::new(generators, watcher::Config::default())
        .owns(children, watcher::Config::default().labels(GENERATOR_LABEL));
    crate::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    Ok(())
}

/// The child's name: fixed per generator, so no crash can make two.
pub fn child_name(generator: &str) -> String {
    format!("{generator}-generated")
}

/// The ConfigMap a generator wants (an apply configuration).
pub fn desired_child(g: &ConfigMapGenerator) -> ConfigMap {
    let name = g.name_any();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(child_name(&name)),
            namespace: g.namespace(),
            labels: Some(BTreeMap::from([(
                GENERATOR_LABEL.to_string(),
                name.clone(),
            )])),
            owner_references: Some(vec![OwnerReference {
                api_version: ConfigMapGenerator::api_version(&()).into_owned(),
                kind: ConfigMapGenerator::kind(&()).into_owned(),
                name,
                uid: g.uid().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        data: Some(g.spec.data.clone()),
        ..Default::default()
    }
}

/// The status a reconcile that applied the child reports (`now` only for a new transition).
pub fn desired_status(
    g: &ConfigMapGenerator,
    current: Option<&ConfigMapGeneratorStatus>,
    now: &str,
) -> ConfigMapGeneratorStatus {
    let generation = g.metadata.generation;
    let child = child_name(&g.name_any());
    let since = current
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.to_string());
    ConfigMapGeneratorStatus {
        observed_generation: generation,
        child: Some(child.clone()),
        conditions: vec![Condition {
            type_: "Ready".into(),
            status: "True".into(),
            reason: "Generated".into(),
            message: format!("ConfigMap {child} holds {} key(s)", g.spec.data.len()),
            observed_generation: generation,
            last_transition_time: Some(since),
        }],
    }
}

async fn reconcile(g: Arc<ConfigMapGenerator>, ctx: Arc<Ctx>) -> Result<Action, SampleError> {
    let name = g.name_any();
    let ns = g
        .namespace()
        .ok_or_else(|| SampleError::NoNamespace(name.clone()))?;
    let api_err = |source| SampleError::Api {
        namespace: ns.clone(),
        name: name.clone(),
        source,
    };
    if g.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let manager = crate::runtime::field_manager(NAME);
    let children: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
    let desired = desired_child(&g);
    let child = child_name(&name);
    let before = children.get_opt(&child).await.map_err(api_err)?;
    children
        .patch(
            &child,
            &PatchParams::apply(&manager).force(),
            &Patch::Apply(&desired),
        )
        .await
        .map_err(api_err)?;
    if before.and_then(|b| b.data) != desired.data {
        let note = format!("ConfigMap {child} now holds {} key(s)", g.spec.data.len());
        let ev = Event {
            type_: EventType::Normal,
            reason: "Generated".into(),
            note: Some(note),
            action: "Generate".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&ev, &g.object_ref(&())).await {
            tracing::warn!(namespace = %ns, name = %name, error = %e, "cannot record an Event");
        }
    }
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let status = desired_status(&g, g.status.as_ref(), &now);
    if g.status.as_ref() != Some(&status) {
        let generators: Api<ConfigMapGenerator> = Api::namespaced(ctx.client.clone(), &ns);
        let body = json!({
            "apiVersion": ConfigMapGenerator::api_version(&()),
            "kind": ConfigMapGenerator::kind(&()),
            "status": status,
        });
        generators
            .patch_status(
                &name,
                &PatchParams::apply(&manager).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(api_err)?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_named(name: &str) -> ConfigMapGenerator {
        let mut g = ConfigMapGenerator::new(
            name,
            ConfigMapGeneratorSpec {
                data: BTreeMap::from([("k".to_string(), "v".to_string())]),
            },
        );
        g.metadata.namespace = Some("default".into());
        g.metadata.uid = Some("u-1".into());
        g.metadata.generation = Some(3);
        g
    }

    #[test]
    fn the_child_is_owned_by_its_generator_under_a_fixed_name() {
        let c = desired_child(&gen_named("web"));
        assert_eq!(c.metadata.name.as_deref(), Some("web-generated"));
        let o = &c.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                o.kind.as_str(),
                o.name.as_str(),
                o.uid.as_str(),
                o.controller
            ),
            ("ConfigMapGenerator", "web", "u-1", Some(true))
        );
        assert_eq!(o.api_version, "samples.marketplace.dev/v1alpha1");
        assert_eq!(c.data.unwrap()["k"], "v");
    }

    #[test]
    fn status_keeps_its_transition_time_once_ready() {
        let g = gen_named("web");
        let first = desired_status(&g, None, "2026-01-01T00:00:00Z");
        assert_eq!(first.observed_generation, Some(3));
        assert_eq!(first.conditions[0].status, "True");
        let again = desired_status(&g, Some(&first), "2026-02-02T00:00:00Z");
        assert_eq!(first, again, "a repeated reconcile changes nothing");
    }
}
