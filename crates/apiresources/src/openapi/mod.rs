//! OpenAPI v3 documents: the `/openapi/v3` root and one document per group-version.
//!
//! (Implementation in progress.)

#[cfg(all(test, feature = "regenerate-schemas"))]
mod regenerate;

use serde_json::Value;
use std::collections::BTreeMap;

use crate::catalogue::ResourceInfo;

/// The OpenAPI v3 documents of one catalogue. Build once per catalogue change and cache.
#[derive(Debug, Clone)]
pub struct OpenApiV3 {
    /// Group-version path (`api/v1`, `apis/apps/v1`) → (document, hash).
    documents: BTreeMap<String, (Value, String)>,
}

/// `api/v1` for the core group, `apis/<group>/<version>` otherwise (the key in the v3 root).
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

impl OpenApiV3 {
    /// Build every group-version document for the served resources.
    pub fn build(resources: &[ResourceInfo]) -> Self {
        let _ = resources;
        OpenApiV3 {
            documents: BTreeMap::new(),
        }
    }

    /// `/openapi/v3`: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=..."}}}`.
    pub fn root(&self) -> Value {
        let paths: serde_json::Map<String, Value> = self
            .documents
            .iter()
            .map(|(p, (_, hash))| {
                (
                    p.clone(),
                    serde_json::json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
                )
            })
            .collect();
        serde_json::json!({ "paths": paths })
    }

    /// `/openapi/v3/<path>` (path without leading slash, e.g. `apis/apps/v1`).
    pub fn document(&self, path: &str) -> Option<&Value> {
        self.documents.get(path).map(|(d, _)| d)
    }

    /// The hash of a document (for `ETag` / the `hash` query parameter).
    pub fn hash(&self, path: &str) -> Option<&str> {
        self.documents.get(path).map(|(_, h)| h.as_str())
    }
}
