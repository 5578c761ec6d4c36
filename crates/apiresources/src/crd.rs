//! `ResourceInfo` from a CustomResourceDefinition object (apiextensions.k8s.io/v1).

use serde_json::Value;

use crate::Error;
use crate::catalogue::PrinterColumn;
use crate::catalogue::{
    Origin, ResourceInfo, STANDARD_VERBS, ScaleSubresource, Scope, Subresources,
};

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn from_crd(crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
    let name = str_at(crd, "/metadata/name")
        .unwrap_or("<unnamed>")
        .to_string();
    let invalid = |reason: &str| Error::InvalidCrd {
        name: name.clone(),
        reason: reason.to_string(),
    };
    let spec = crd.get("spec").ok_or_else(|| invalid("spec is missing"))?;
    let group = str_at(spec, "/group").ok_or_else(|| invalid("spec.group is missing"))?;
    let kind = str_at(spec, "/names/kind").ok_or_else(|| invalid("spec.names.kind is missing"))?;
    let plural =
        str_at(spec, "/names/plural").ok_or_else(|| invalid("spec.names.plural is missing"))?;
    let singular = str_at(spec, "/names/singular")
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let list_kind = str_at(spec, "/names/listKind")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{kind}List"));
    let scope = match str_at(spec, "/scope") {
        Some("Namespaced") => Scope::Namespaced,
        Some("Cluster") => Scope::Cluster,
        Some(other) => {
            return Err(invalid(&format!(
                "spec.scope {other:?} is neither Namespaced nor Cluster"
            )));
        }
        None => return Err(invalid("spec.scope is missing")),
    };
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid("spec.versions is empty"))?;
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        let version = str_at(v, "/name").ok_or_else(|| invalid("a version has no name"))?;
        let subresources = v.get("subresources");
        let scale = subresources
            .and_then(|s| s.get("scale"))
            .map(|s| ScaleSubresource {
                spec_replicas_path: str_at(s, "/specReplicasPath")
                    .unwrap_or(".spec.replicas")
                    .into(),
                status_replicas_path: str_at(s, "/statusReplicasPath")
                    .unwrap_or(".status.replicas")
                    .into(),
                label_selector_path: str_at(s, "/labelSelectorPath").map(str::to_string),
            });
        let printer_columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .filter_map(PrinterColumn::from_crd_column)
                    .collect()
            })
            .unwrap_or_default();
        let deprecation_warning = if v.get("deprecated").and_then(Value::as_bool) == Some(true) {
            Some(
                str_at(v, "/deprecationWarning")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{group}/{version} {kind} is deprecated")),
            )
        } else {
            None
        };
        out.push(ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            list_kind: list_kind.clone(),
            plural: plural.into(),
            singular: singular.clone(),
            scope,
            verbs: STANDARD_VERBS.iter().map(|v| v.to_string()).collect(),
            short_names: strings(spec.pointer("/names/shortNames")),
            categories: strings(spec.pointer("/names/categories")),
            subresources: Subresources {
                status: subresources.and_then(|s| s.get("status")).is_some(),
                scale,
                actions: Vec::new(),
            },
            served: v.get("served").and_then(Value::as_bool).unwrap_or(false),
            storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
            printer_columns,
            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
            deprecation_warning,
            origin: Origin::Crd { name: name.clone() },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widget_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                          "listKind": "WidgetList", "shortNames": ["wd"], "categories": ["all"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}},
                     "additionalPrinterColumns": [
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size", "priority": 1, "description": "desired size"}
                     ],
                     "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}}},
                    {"name": "v1beta1", "served": false, "storage": false, "deprecated": true,
                     "schema": {"openAPIV3Schema": {"type": "object"}}}
                ]
            }
        })
    }

    #[test]
    fn crd_versions_become_resource_infos_with_names_scope_and_subresources() {
        let infos = ResourceInfo::from_crd(&widget_crd()).unwrap();
        assert_eq!(infos.len(), 2);
        let v1 = &infos[0];
        assert_eq!(v1.api_version(), "example.com/v1");
        assert_eq!(v1.kind, "Widget");
        assert_eq!(v1.plural, "widgets");
        assert_eq!(v1.scope, Scope::Namespaced);
        assert!(v1.served && v1.storage);
        assert_eq!(v1.short_names, vec!["wd"]);
        assert_eq!(v1.categories, vec!["all"]);
        assert!(v1.subresources.status);
        assert_eq!(
            v1.subresources.scale.as_ref().unwrap().spec_replicas_path,
            ".spec.size"
        );
        assert_eq!(v1.printer_columns.len(), 2);
        assert_eq!(v1.printer_columns[1].priority, 1);
        assert_eq!(
            v1.printer_columns[1].json_path.as_deref(),
            Some(".spec.size")
        );
        assert!(v1.schema.is_some());
        assert_eq!(
            v1.origin,
            Origin::Crd {
                name: "widgets.example.com".into()
            }
        );
        let beta = &infos[1];
        assert!(!beta.served && !beta.storage);
        assert!(!beta.subresources.status);
        assert!(beta.deprecation_warning.is_some());
    }

    #[test]
    fn crd_without_names_is_rejected_with_the_crd_name() {
        let mut crd = widget_crd();
        crd["spec"]["names"]
            .as_object_mut()
            .unwrap()
            .remove("plural");
        let err = ResourceInfo::from_crd(&crd).unwrap_err();
        assert!(err.to_string().contains("widgets.example.com"), "{err}");
        assert!(err.to_string().contains("spec.names.plural"), "{err}");
    }

    #[test]
    fn catalogue_replaces_and_removes_crd_resources() {
        let mut cat = crate::Catalogue::builtin();
        let n = cat.resources().len();
        cat.upsert_crd(&widget_crd()).unwrap();
        assert_eq!(cat.resources().len(), n + 2);
        cat.upsert_crd(&widget_crd()).unwrap();
        assert_eq!(cat.resources().len(), n + 2);
        assert_eq!(
            cat.lookup("example.com", "v1", "widgets").unwrap().kind,
            "Widget"
        );
        assert!(cat.lookup("example.com", "v1beta1", "widgets").is_none());
        assert_eq!(
            cat.storage_version("example.com", "widgets")
                .unwrap()
                .version,
            "v1"
        );
        cat.remove_crd("widgets.example.com");
        assert_eq!(cat.resources().len(), n);
    }
}
