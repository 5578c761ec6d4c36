//! `artifacts`: the controller of uploaded packages' records (`app.alauda.io` Artifact and
//! ArtifactVersion, types in `apis::artifacts`) and the `public-charts` Helm repository.
//!
//! It owns:
//! - [`reconcile`]: the ArtifactVersion controller (images present in the platform registry →
//!   `Ready`/`Failed`; plugins' ModulePlugin/ModuleConfig applied in global; charts checked).
//! - [`images`]: `HEAD` checks of images in the platform registry.
//! - [`charts`]: the `public-charts` index and downloads, computed from Ready chart versions.
//! - [`rules()`]: the RBAC rules the controller set needs (its least-privilege identity).
//!
//! It must not touch: the types (`apis::artifacts`), ModulePlugin/ModuleConfig semantics (the
//! `plugins` crate's; here they are opaque JSON applied as given), operator catalogs (the `olm`
//! crate reads bundle ArtifactVersions itself), the store or apiserver internals (only `kube::Client`).

pub mod charts;
pub mod images;
pub mod reconcile;

use std::sync::Arc;

use apis::artifacts::{Artifact, ArtifactVersion};
use controllers::{ClusterContext, ControllerSet};
use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::CustomResourceExt;
use kube::api::Api;
use kube::runtime::{Controller, watcher};

/// The controller's name (field manager `marketplace-artifacts`).
pub const NAME: &str = "artifacts";

/// The controller set, with its CRDs and rules.
pub fn set() -> ControllerSet {
    ControllerSet::new(NAME, run)
        .with_crd(Artifact::crd())
        .with_crd(ArtifactVersion::crd())
        .with_rules(rules())
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(v(groups)),
        resources: Some(v(resources)),
        verbs: v(verbs),
        ..Default::default()
    }
}

/// What the controller does through the API: read Artifacts and ArtifactVersions, write the
/// versions' status, apply ModulePlugins and ModuleConfigs, record Events.
pub fn rules() -> Vec<PolicyRule> {
    vec![
        rule(
            &["app.alauda.io"],
            &["artifacts", "artifactversions"],
            &["get", "list", "watch"],
        ),
        rule(
            &["app.alauda.io"],
            &["artifactversions/status"],
            &["get", "patch", "update"],
        ),
        rule(
            &["cluster.alauda.io"],
            &["moduleplugins", "moduleconfigs"],
            &["get", "list", "watch", "create", "patch", "update"],
        ),
        rule(
            &["", "events.k8s.io"],
            &["events"],
            &["create", "patch", "update"],
        ),
    ]
}

/// Runs the ArtifactVersion controller in one cluster.
pub async fn run(cx: ClusterContext) -> Result<(), kube::Error> {
    let versions: Api<ArtifactVersion> = Api::all(cx.client.clone());
    let ctx = Arc::new(reconcile::Ctx {
        client: cx.client.clone(),
        images: images::Images::new(cx.registry.clone()),
        global: cx.global,
        recorder: controllers::runtime::recorder(&cx, NAME),
    });
    let controller = Controller::new(versions, watcher::Config::default());
    controllers::runtime::run(&cx, NAME, controller, reconcile::reconcile, ctx).await;
    Ok(())
}
