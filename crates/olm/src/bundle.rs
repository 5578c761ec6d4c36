//! A resolved bundle's Kubernetes objects: from the catalog (`olm.bundle.object`) when it
//! carries them, else read from the bundle image's `manifests/` and `metadata/` (the registry
//! answer is named in the error when the image cannot be pulled).

use catalog::Bundle;
use serde_json::Value;

pub async fn objects_of(bundle: &Bundle) -> Result<Vec<Value>, String> {
    if bundle.csv_json().is_some() {
        return Ok(bundle.objects().to_vec());
    }
    if bundle.image.is_empty() {
        return Err(format!(
            "bundle {} of package {} carries no objects and names no bundle image",
            bundle.name, bundle.package
        ));
    }
    let pulled = crate::image::pull(&bundle.image, &["/manifests", "/metadata"])
        .await
        .map_err(|e| format!("cannot unpack bundle {}: {e}", bundle.name))?;
    let mut files = pulled.files_under("/manifests");
    for f in &mut files {
        f.0 = format!("manifests/{}", f.0);
    }
    for (p, b) in pulled.files_under("/metadata") {
        files.push((format!("metadata/{p}"), b));
    }
    let b = Bundle::from_registry_v1_files(&bundle.image, files, &bundle.image)
        .map_err(|e| format!("bundle image {} of {}: {e}", bundle.image, bundle.name))?;
    Ok(b.objects().to_vec())
}
