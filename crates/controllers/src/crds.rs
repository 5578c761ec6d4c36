//! The CRDs the product's controller sets define (each set lists the kube-derive
//! `CustomResourceExt::crd()` of its kinds): printed as multi-document YAML for
//! `kubectl apply -f -` (`marketplace crds`), or applied to a cluster with server-side apply
//! (field manager `marketplace-crds`) when the host installs them in an embedded cluster.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};

/// The CRDs as one multi-document YAML stream (`---` before each document).
pub fn to_yaml(crds: &[CustomResourceDefinition]) -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for c in crds {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(c)?);
    }
    Ok(out)
}

/// Applies every CRD (server-side apply, forced: the product owns its CRDs).
pub async fn apply(
    client: &kube::Client,
    crds: &[CustomResourceDefinition],
) -> Result<(), kube::Error> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let pp = PatchParams::apply(&crate::runtime::field_manager("crds")).force();
    for c in crds {
        let name = c.metadata.name.clone().unwrap_or_default();
        let mut body = c.clone();
        body.metadata.managed_fields = None;
        api.patch(&name, &pp, &Patch::Apply(&body)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn crds_print_as_one_document_each_that_reads_back() {
        let crds = vec![crate::samples::ConfigMapGenerator::crd()];
        let text = to_yaml(&crds).unwrap();
        assert!(text.starts_with("---\n"), "{text}");
        let docs: Vec<serde_json::Value> = text
            .split("---\n")
            .filter(|d| !d.trim().is_empty())
            .map(|d| serde_yaml::from_str(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["kind"], "CustomResourceDefinition");
        assert_eq!(
            docs[0]["metadata"]["name"],
            "configmapgenerators.samples.marketplace.dev"
        );
    }
}
