//! The catalog operator's CatalogSource controller: reads a `sourceType: grpc` CatalogSource's
//! `spec.image` (its file-based catalog under `/configs` or the image's
//! `operators.operatorframework.io.index.configs.v1` label) into the cluster's
//! [`ClusterCatalogs`], re-pulls it every
//! `updateStrategy.registryPoll.interval`, and reports `status.connectionState.lastObservedState`
//! (`READY`, or `TRANSIENT_FAILURE` with the image and the registry's answer in `status.message`)
//! in the same reconcile that found it. A CatalogSource without an image is an empty catalog (the
//! platform's `system`/`platform`/`custom` before anything is uploaded).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apis::operators::{CatalogSource, CatalogSourceStatus, ConnectionState};
use catalog::Catalog;
use catalog::resolve::SourceKey;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::image;
use crate::state::{ClusterCatalogs, LoadedSource};

pub const NAME: &str = "olm-catalog";

/// Poll interval when a CatalogSource sets none (OLM polls only when asked; we re-check
/// uploads this often).
pub const DEFAULT_POLL: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("CatalogSource {0}: {1}")]
    Api(String, #[source] kube::Error),
}

pub struct Ctx {
    pub client: kube::Client,
    pub catalogs: Arc<ClusterCatalogs>,
    /// Whether ArtifactVersions are watched (their CRD existed when the set started); when
    /// not, CatalogSources look for uploads every [`UPLOAD_RECHECK`].
    pub uploads_watched: bool,
    /// The platform registry (`HOST:PORT`), the only one whose images readiness can check.
    pub registry: Option<String>,
}

/// How often a CatalogSource looks for uploads when ArtifactVersions cannot be watched.
pub const UPLOAD_RECHECK: Duration = Duration::from_secs(10);

async fn artifact_versions_served(cx: &controllers::ClusterContext) -> bool {
    let client = &cx.client;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    if !matches!(
        crds.get_opt("artifactversions.app.alauda.io").await,
        Ok(Some(_))
    ) {
        return false;
    }
    let api: Api<kube::api::DynamicObject> =
        Api::all_with(client.clone(), &crate::uploads::artifact_versions());
    crate::util::wait_listable(cx, &api).await;
    true
}

pub async fn run(cx: controllers::ClusterContext) -> Result<(), kube::Error> {
    let catalogs = crate::state::catalogs(&cx.name);
    let uploads_watched = artifact_versions_served(&cx).await;
    let ctx = Arc::new(Ctx {
        client: cx.client.clone(),
        catalogs: catalogs.clone(),
        uploads_watched,
        registry: cx.registry.clone(),
    });
    let gone_task = tokio::spawn(forget_deleted(cx.client.clone(), catalogs));
    let api: Api<CatalogSource> = Api::all(cx.client.clone());
    crate::util::wait_listable(&cx, &api).await;
    let mut controller = Controller::new(api, watcher::Config::default());
    if uploads_watched {
        // An upload (ArtifactVersion) re-reads the CatalogSource it names.
        let uploads: Api<kube::api::DynamicObject> =
            Api::all_with(cx.client.clone(), &crate::uploads::artifact_versions());
        controller = controller.watches_with(
            uploads,
            crate::uploads::artifact_versions(),
            watcher::Config::default(),
            |a| {
                let ns = a.metadata.namespace.clone().unwrap_or_default();
                a.data["spec"]["catalogSource"].as_str().map(|c| {
                    kube::runtime::reflector::ObjectRef::<CatalogSource>::new(c).within(&ns)
                })
            },
        );
    }
    controllers::runtime::run(&cx, NAME, controller, reconcile, ctx).await;
    gone_task.abort();
    Ok(())
}

/// Drops the content of deleted CatalogSources (a reconcile never sees an object that is gone):
/// their packages leave the listings and Subscriptions to them report the catalog missing.
async fn forget_deleted(client: kube::Client, catalogs: Arc<ClusterCatalogs>) {
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    use kube::runtime::watcher::Event;
    let api: Api<CatalogSource> = Api::all(client);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(Event::Init) => seen.clear(),
            Ok(Event::InitApply(cs)) => {
                seen.insert(key_of(&cs));
            }
            Ok(Event::InitDone) => {
                for l in catalogs.all() {
                    if !seen.contains(&l.key) {
                        catalogs.remove(&l.key);
                    }
                }
            }
            Ok(Event::Delete(cs)) => catalogs.remove(&key_of(&cs)),
            Ok(Event::Apply(_)) => {}
            Err(e) => tracing::warn!(error = %e, "CatalogSource watch failed; retrying"),
        }
    }
}

/// `updateStrategy.registryPoll.interval` as a duration (Go duration syntax: `10m`, `1h30m`, `45s`).
pub fn poll_interval(cs: &CatalogSource) -> Result<Duration, String> {
    let Some(s) = cs
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.registry_poll.as_ref())
        .and_then(|p| p.interval.as_deref())
    else {
        return Ok(DEFAULT_POLL);
    };
    humantime::parse_duration(s)
        .map(|d| d.max(Duration::from_secs(1)))
        .map_err(|e| format!("spec.updateStrategy.registryPoll.interval {s:?} is not a duration ({e}); use e.g. 10m or 30s"))
}

fn key_of(cs: &CatalogSource) -> SourceKey {
    SourceKey {
        name: cs.name_any(),
        namespace: cs.namespace().unwrap_or_default(),
    }
}

async fn reconcile(cs: Arc<CatalogSource>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let key = key_of(&cs);
    if cs.meta().deletion_timestamp.is_some() {
        ctx.catalogs.remove(&key);
        return Ok(Action::await_change());
    }
    let interval = match poll_interval(&cs) {
        Ok(i) => i,
        Err(msg) => {
            write_status(&ctx, &cs, failure(&cs, "InvalidUpdateStrategy", msg)).await?;
            return Ok(Action::await_change());
        }
    };
    let image = cs.spec.image.clone().unwrap_or_default();
    let uploads =
        match crate::uploads::uploaded_images(&ctx.client, &key.namespace, &key.name).await {
            Ok(u) => u,
            Err(msg) => {
                write_status(&ctx, &cs, failure(&cs, "UploadsUnreadable", msg)).await?;
                return Ok(Action::requeue(Duration::from_secs(2)));
            }
        };
    let loaded = ctx.catalogs.get(&key);
    let fresh = loaded
        .as_ref()
        .filter(|l| l.image == image && l.uploads == uploads && l.polled.elapsed() < interval);
    if let Some(l) = fresh {
        let mut left = interval.saturating_sub(l.polled.elapsed());
        if !ctx.uploads_watched {
            left = left.min(UPLOAD_RECHECK);
        }
        return Ok(Action::requeue(left.max(Duration::from_millis(100))));
    }
    if cs.spec.source_type != "grpc" && !cs.spec.source_type.is_empty() {
        let msg = format!(
            "spec.sourceType {:?} is not served; use sourceType: grpc with spec.image naming a file-based catalog image",
            cs.spec.source_type
        );
        write_status(&ctx, &cs, failure(&cs, "UnsupportedSourceType", msg)).await?;
        return Ok(Action::await_change());
    }
    let loaded_base = load(&cs, &image).await;
    let with_uploads = match loaded_base {
        Ok((mut catalog, digest)) => add_uploads(&ctx, &mut catalog, &uploads)
            .await
            .map(|()| (catalog, digest)),
        Err(e) => Err(e),
    };
    match with_uploads {
        Ok((catalog, digest)) => {
            let source = LoadedSource {
                key: key.clone(),
                display_name: cs.spec.display_name.clone().unwrap_or_default(),
                publisher: cs.spec.publisher.clone().unwrap_or_default(),
                priority: cs.spec.priority.unwrap_or(0) as i32,
                image: image.clone(),
                digest: digest.clone(),
                ready: readiness(&catalog, ctx.registry.as_deref()).await,
                catalog,
                polled: Instant::now(),
                uploads: uploads.clone(),
            };
            let unchanged = loaded.as_ref().is_some_and(|l| same_content(l, &source));
            let packages = source.catalog.packages.len();
            if unchanged {
                tracing::debug!(catalog = %key, image = %image, digest = %digest, packages, "catalog polled: unchanged");
                // Same content: keep the loaded catalog, only the poll time moves.
                if let Some(l) = loaded {
                    let again = LoadedSource {
                        polled: Instant::now(),
                        ..clone_loaded(&l)
                    };
                    ctx.catalogs.touch(again);
                }
            } else {
                tracing::info!(catalog = %key, image = %image, digest = %digest, packages, "catalog loaded");
                ctx.catalogs.put(source);
            }
            write_status(&ctx, &cs, ready(&cs, &digest)).await?;
        }
        Err(msg) => {
            write_status(&ctx, &cs, failure(&cs, "ImagePullFailed", msg)).await?;
            // Retry soon: a registry that was down or an image pushed late heals quickly.
            return Ok(Action::requeue(Duration::from_secs(2).min(interval)));
        }
    }
    Ok(Action::requeue(if ctx.uploads_watched {
        interval
    } else {
        interval.min(UPLOAD_RECHECK)
    }))
}

/// Whether a reload found what is loaded already: the same catalog image digest, the same
/// uploaded bundles, the same package readiness and the same display data. Only then may the
/// loaded source be kept without notifying anyone; an upload (new ArtifactVersion) or images
/// pushed since the last load change the listing even when the catalog image did not.
fn same_content(old: &LoadedSource, new: &LoadedSource) -> bool {
    !new.digest.is_empty()
        && old.digest == new.digest
        && old.uploads == new.uploads
        && old.ready == new.ready
        && old.display_name == new.display_name
        && old.publisher == new.publisher
        && old.priority == new.priority
}

fn clone_loaded(l: &LoadedSource) -> LoadedSource {
    LoadedSource {
        key: l.key.clone(),
        display_name: l.display_name.clone(),
        publisher: l.publisher.clone(),
        priority: l.priority,
        image: l.image.clone(),
        digest: l.digest.clone(),
        catalog: l.catalog.clone(),
        ready: l.ready.clone(),
        polled: l.polled,
        uploads: l.uploads.clone(),
    }
}

/// Adds the uploaded bundles to the catalog; the error names the bundle that could not join.
async fn add_uploads(ctx: &Ctx, catalog: &mut Catalog, uploads: &[String]) -> Result<(), String> {
    for image in uploads {
        let b = ctx.catalogs.bundles.get(image).await?;
        catalog
            .add_bundle(b)
            .map_err(|e| format!("uploaded bundle {image} cannot join the catalog: {e}"))?;
    }
    Ok(())
}

/// Pulls and parses the catalog image (or an empty catalog without one).
async fn load(cs: &CatalogSource, image: &str) -> Result<(Catalog, String), String> {
    if image.is_empty() {
        return Ok((Catalog::new(), String::new()));
    }
    let pulled = image::pull(image, &["/configs", "/"])
        .await
        .map_err(|e| format!("cannot pull catalog image: {e}"))?;
    let dir = pulled
        .labels
        .get(image::CONFIGS_LABEL)
        .cloned()
        .unwrap_or_else(|| "/configs".to_string());
    let files = pulled.files_under(&dir);
    if files.is_empty() {
        return Err(format!(
            "catalog image {image} has no file-based catalog under {dir} (label {} names where it is)",
            image::CONFIGS_LABEL
        ));
    }
    let catalog = Catalog::from_fbc_files(files.iter().map(|(p, b)| (format!("{dir}/{p}"), b)))
        .map_err(|e| {
            format!(
                "catalog image {image} of CatalogSource {}/{}: {e}",
                cs.namespace().unwrap_or_default(),
                cs.name_any()
            )
        })?;
    Ok((catalog, pulled.digest.to_string()))
}

/// For each package, whether its default channel head's bundle image and related images are in
/// the registry (`cpaas.io/package-status`). Only images of the platform registry can be checked
/// by HEAD; others count as present.
async fn readiness(catalog: &Catalog, platform: Option<&str>) -> BTreeMap<String, bool> {
    let mut registries: BTreeMap<String, Option<oci::Registry>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for pkg in catalog.packages() {
        let head = pkg
            .default_channel
            .as_deref()
            .and_then(|c| pkg.head_bundle(c));
        let ok = match head {
            None => false,
            Some(b) => {
                let mut images: Vec<&str> = vec![b.image.as_str()];
                images.extend(b.related_images.iter().map(|r| r.image.as_str()));
                let mut all = true;
                for i in images
                    .into_iter()
                    .filter(|i| !i.is_empty() && on_platform_registry(i, platform))
                {
                    all &= image_present(&mut registries, i).await;
                }
                all
            }
        };
        out.insert(pkg.name.clone(), ok);
    }
    out
}

/// Whether readiness checks `image`: those of the platform registry (every registry without
/// one), and references that do not parse (never pullable, so absent).
fn on_platform_registry(image: &str, platform: Option<&str>) -> bool {
    let Some(platform) = platform else {
        return true;
    };
    match oci::Reference::parse(image) {
        Ok(r) => r.api_host() == platform,
        Err(_) => true,
    }
}

/// HEADs `image` in its registry (one connection per registry for a whole catalog).
async fn image_present(
    registries: &mut BTreeMap<String, Option<oci::Registry>>,
    image: &str,
) -> bool {
    let Ok(r) = oci::Reference::parse(image) else {
        return false;
    };
    let host = r.api_host().to_string();
    if !registries.contains_key(&host) {
        let reg = oci::Registry::connect(&host, image::options()).await.ok();
        registries.insert(host.clone(), reg);
    }
    let Some(Some(reg)) = registries.get(&host) else {
        return false;
    };
    matches!(
        reg.head_manifest(r.repository(), &r.manifest_reference())
            .await,
        Ok(Some(_))
    )
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn ready(cs: &CatalogSource, digest: &str) -> CatalogSourceStatus {
    CatalogSourceStatus {
        message: None,
        reason: None,
        connection_state: Some(ConnectionState {
            address: cs.spec.image.clone(),
            last_connect: Some(now()),
            last_observed_state: "READY".into(),
        }),
        latest_image_registry_poll: Some(now()),
        resolved_image: (!digest.is_empty()).then(|| digest.to_string()),
        conditions: Vec::new(),
    }
}

fn failure(cs: &CatalogSource, reason: &str, message: String) -> CatalogSourceStatus {
    CatalogSourceStatus {
        message: Some(message),
        reason: Some(reason.into()),
        connection_state: Some(ConnectionState {
            address: cs.spec.image.clone(),
            last_connect: None,
            last_observed_state: "TRANSIENT_FAILURE".into(),
        }),
        latest_image_registry_poll: Some(now()),
        resolved_image: None,
        conditions: Vec::new(),
    }
}

/// Writes the status unless only timestamps would change.
async fn write_status(
    ctx: &Ctx,
    cs: &CatalogSource,
    mut status: CatalogSourceStatus,
) -> Result<(), Error> {
    let strip = |s: &CatalogSourceStatus| {
        let mut s = s.clone();
        s.latest_image_registry_poll = None;
        if let Some(c) = s.connection_state.as_mut() {
            c.last_connect = None;
        }
        s
    };
    if let Some(cur) = cs.status.as_ref() {
        if strip(cur) == strip(&status) {
            return Ok(());
        }
        if let (Some(c), Some(n)) = (
            cur.connection_state.as_ref(),
            status.connection_state.as_mut(),
        ) && c.last_observed_state == n.last_observed_state
        {
            n.last_connect = c.last_connect.clone();
        }
    }
    let ns = cs.namespace().unwrap_or_default();
    let api: Api<CatalogSource> = Api::namespaced(ctx.client.clone(), &ns);
    let body = json!({
        "apiVersion": CatalogSource::api_version(&()),
        "kind": "CatalogSource",
        "status": status,
    });
    api.patch_status(
        &cs.name_any(),
        &PatchParams::apply(&controllers::runtime::field_manager(NAME)).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|e| Error::Api(format!("{ns}/{}", cs.name_any()), e))?;
    Ok(())
}

/// The platform's own CatalogSources, created in `cpaas-system` of every cluster.
pub const PLATFORM_CATALOGS: [(&str, &str); 3] = [
    ("system", "System"),
    ("platform", "Platform"),
    ("custom", "Custom"),
];
pub const PLATFORM_NAMESPACE: &str = "cpaas-system";

/// Creates `cpaas-system` and the `system`, `platform` and `custom` CatalogSources when absent
/// (an existing one is left as its owner set it, e.g. with a `spec.image`).
pub async fn ensure_platform_catalogs(client: &kube::Client) -> Result<(), kube::Error> {
    use k8s_openapi::api::core::v1::Namespace;
    let nss: Api<Namespace> = Api::all(client.clone());
    if nss.get_opt(PLATFORM_NAMESPACE).await?.is_none() {
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": PLATFORM_NAMESPACE}}))
                .expect("namespace literal");
        match nss.create(&Default::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    let api: Api<CatalogSource> = Api::namespaced(client.clone(), PLATFORM_NAMESPACE);
    for (name, display) in PLATFORM_CATALOGS {
        if api.get_opt(name).await?.is_some() {
            continue;
        }
        let cs: CatalogSource = serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1",
            "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": PLATFORM_NAMESPACE},
            "spec": {"sourceType": "grpc", "displayName": display, "publisher": "Alauda"},
        }))
        .expect("catalog source literal");
        match api.create(&Default::default(), &cs).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(interval: Option<&str>) -> CatalogSource {
        serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
            "metadata": {"name": "c", "namespace": "n"},
            "spec": {"sourceType": "grpc", "image": "r/c:1",
                     "updateStrategy": {"registryPoll": {"interval": interval}}},
        }))
        .unwrap()
    }

    fn loaded(digest: &str, uploads: &[&str], ready: bool) -> LoadedSource {
        LoadedSource {
            key: SourceKey {
                name: "platform".into(),
                namespace: "cpaas-system".into(),
            },
            display_name: "Platform".into(),
            publisher: "Alauda".into(),
            priority: 0,
            image: "r/catalog:v1".into(),
            digest: digest.into(),
            catalog: Catalog::new(),
            ready: [("op".to_string(), ready)].into(),
            polled: Instant::now(),
            uploads: uploads.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn a_reload_of_the_same_catalog_image_is_new_content_when_uploads_or_readiness_changed() {
        let before = loaded("sha256:1", &[], false);
        assert!(same_content(&before, &loaded("sha256:1", &[], false)));
        // `violet push` of a package the catalog lists: its images arrived, its record names
        // the catalog; the catalog image itself is the same.
        assert!(!same_content(
            &before,
            &loaded("sha256:1", &["r/op-bundle@sha256:2"], false)
        ));
        assert!(!same_content(&before, &loaded("sha256:1", &[], true)));
        assert!(!same_content(&before, &loaded("sha256:3", &[], false)));
        // No image (uploads only): always reloaded.
        assert!(!same_content(
            &loaded("", &[], false),
            &loaded("", &[], false)
        ));
    }

    #[test]
    fn only_platform_registry_images_are_checked_for_readiness() {
        let p = Some("10.0.0.1:5000");
        assert!(on_platform_registry("10.0.0.1:5000/acp/op@sha256:00", p));
        assert!(!on_platform_registry("quay.io/acp/op:v1", p));
        assert!(on_platform_registry("Not A Reference", p));
        assert!(on_platform_registry("quay.io/acp/op:v1", None));
    }

    #[test]
    fn registry_poll_interval_is_a_go_duration() {
        assert_eq!(
            poll_interval(&cs(Some("10m"))).unwrap(),
            Duration::from_secs(600)
        );
        assert_eq!(
            poll_interval(&cs(Some("1h30m"))).unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(poll_interval(&cs(None)).unwrap(), DEFAULT_POLL);
        let e = poll_interval(&cs(Some("soon"))).unwrap_err();
        assert!(
            e.contains("registryPoll.interval") && e.contains("10m"),
            "{e}"
        );
    }
}
