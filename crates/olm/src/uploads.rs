//! Uploaded operator bundles (contract #3): every `ArtifactVersion` (`app.alauda.io/v1alpha1`,
//! read as JSON so this crate does not depend on the artifacts API's types) with
//! `spec.type: bundle` and `spec.catalogSource` naming a CatalogSource of the same namespace adds
//! its bundle image (`spec.image`) to that catalog, on top of the catalog image's content.
//! Bundles are cached by image reference (uploads are pinned by digest, so a reference's content
//! never changes).

use std::collections::HashMap;
use std::sync::Mutex;

use catalog::Bundle;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;

/// The ArtifactVersion resource.
pub fn artifact_versions() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("app.alauda.io", "v1alpha1", "ArtifactVersion"),
        "artifactversions",
    )
}

/// The bundle images uploaded for CatalogSource `namespace/name`, sorted (empty when the
/// artifacts API is not installed).
pub async fn uploaded_images(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<String>, String> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &artifact_versions());
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list ArtifactVersions in {namespace}: {e}")),
    };
    let mut out: Vec<String> = list
        .items
        .iter()
        .filter(|a| a.data["spec"]["type"] == "bundle" && a.data["spec"]["catalogSource"] == name)
        .filter_map(|a| a.data["spec"]["image"].as_str().map(str::to_string))
        .filter(|i| !i.is_empty())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Bundles read from images, by reference.
#[derive(Default)]
pub struct BundleCache {
    bundles: Mutex<HashMap<String, Bundle>>,
}

impl BundleCache {
    /// The bundle in `image` (pulled once per reference).
    pub async fn get(&self, image: &str) -> Result<Bundle, String> {
        if let Some(b) = self.bundles.lock().expect("bundle cache lock").get(image) {
            return Ok(b.clone());
        }
        let pulled = crate::image::pull(image, &["/manifests", "/metadata"])
            .await
            .map_err(|e| format!("cannot pull uploaded bundle: {e}"))?;
        let mut files: Vec<(String, Vec<u8>)> = pulled
            .files_under("/manifests")
            .into_iter()
            .map(|(p, b)| (format!("manifests/{p}"), b))
            .collect();
        files.extend(
            pulled
                .files_under("/metadata")
                .into_iter()
                .map(|(p, b)| (format!("metadata/{p}"), b)),
        );
        let b = Bundle::from_registry_v1_files(image, files, image)
            .map_err(|e| format!("uploaded bundle {image}: {e}"))?;
        self.bundles
            .lock()
            .expect("bundle cache lock")
            .insert(image.to_string(), b.clone());
        Ok(b)
    }
}
