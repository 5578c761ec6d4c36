//! Tests of the v2 document, mostly on the decoded protobuf: what kubectl's gnostic + kube-openapi
//! read from it.

use super::gnostic::{self, Document, Schema};
use super::*;
use crate::{Catalogue, Gvk};
use prost::Message;

fn widget_crd(size_description: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A Widget is a test object.",
                    "properties": {
                        "spec": {"type": "object", "description": "WidgetSpec is what the user wants.",
                            "properties": {
                                "size": {"type": "integer", "description": size_description, "minimum": 1},
                                "port": {"x-kubernetes-int-or-string": true,
                                    "anyOf": [{"type": "integer"}, {"type": "string"}]},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "slow", "nullable": true},
                                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                            }},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                    }}}}]
        }
    })
}

fn v3(size_description: &str) -> OpenApiV3 {
    let (cat, errors) = Catalogue::with_crds([&widget_crd(size_description)]);
    assert!(errors.is_empty(), "{errors:?}");
    OpenApiV3::build(cat.resources())
}

fn decoded(size_description: &str) -> Document {
    let built = OpenApiV2::build(&v3(size_description)).expect("encodes");
    Document::decode(built.protobuf.bytes.as_slice()).expect("decodes as openapi.v2.Document")
}

fn definition<'a>(doc: &'a Document, name: &str) -> &'a Schema {
    doc.definitions
        .as_ref()
        .unwrap()
        .additional_properties
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| d.value.as_ref())
        .unwrap_or_else(|| panic!("no definition {name}"))
}

fn extension(ext: &[gnostic::NamedAny], name: &str) -> Option<Value> {
    ext.iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_ref())
        .map(|a| serde_json::from_str(&a.yaml).expect("vendor extension YAML is JSON"))
}

fn property<'a>(s: &'a Schema, name: &str) -> Option<&'a Schema> {
    s.properties
        .as_ref()?
        .additional_properties
        .iter()
        .find(|p| p.name == name)?
        .value
        .as_ref()
}

fn query_param_names(op: &gnostic::Operation) -> Vec<String> {
    use gnostic::{non_body_parameter, parameter, parameters_item};
    op.parameters
        .iter()
        .filter_map(|p| match &p.oneof {
            Some(parameters_item::Oneof::Parameter(gnostic::Parameter {
                oneof: Some(parameter::Oneof::NonBodyParameter(nb)),
            })) => match &nb.oneof {
                Some(non_body_parameter::Oneof::QueryParameterSubSchema(q)) => Some(q.name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// kubectl's `supportsQueryParam` (cli-runtime `query_param_verifier.go`) over the decoded
/// document: some PATCH operation whose GVK extension matches has a query parameter of that name.
fn supports_query_param(doc: &Document, gvk: &Gvk, param: &str) -> bool {
    doc.paths.as_ref().unwrap().path.iter().any(|p| {
        let Some(op) = p.value.as_ref().and_then(|v| v.patch.as_ref()) else {
            return false;
        };
        let Some(ext) = extension(&op.vendor_extension, "x-kubernetes-group-version-kind") else {
            return false;
        };
        ext["group"] == gvk.group.as_str()
            && ext["version"] == gvk.version.as_str()
            && ext["kind"] == gvk.kind.as_str()
            && query_param_names(op).iter().any(|n| n == param)
    })
}

/// The checks kube-openapi's `NewOpenAPIData` makes on every definition (any failure there makes
/// kubectl reject the whole document): one type at most, arrays with exactly one `items` schema,
/// every `$ref` naming a definition.
fn assert_parseable(s: &Schema, at: &str, names: &BTreeSet<String>) {
    if !s.r#ref.is_empty() {
        let name = s
            .r#ref
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("{at}: $ref {} is not a definitions ref", s.r#ref));
        assert!(
            names.contains(name),
            "{at}: unknown model in reference {name}"
        );
        return;
    }
    let types = s.r#type.as_ref().map(|t| t.value.as_slice()).unwrap_or(&[]);
    assert!(types.len() <= 1, "{at}: several types {types:?}");
    if types.first().map(String::as_str) == Some("array") {
        let items = s.items.as_ref().map(|i| i.schema.as_slice()).unwrap_or(&[]);
        assert_eq!(
            items.len(),
            1,
            "{at}: array should have exactly one sub-item"
        );
        assert_parseable(&items[0], &format!("{at}[]"), names);
    }
    for p in s.properties.iter().flat_map(|p| &p.additional_properties) {
        assert_parseable(
            p.value.as_ref().unwrap(),
            &format!("{at}.{}", p.name),
            names,
        );
    }
    if let Some(gnostic::additional_properties_item::Oneof::Schema(ap)) = s
        .additional_properties
        .as_ref()
        .and_then(|a| a.oneof.as_ref())
    {
        assert_parseable(ap, &format!("{at}.*"), names);
    }
    for e in &s.vendor_extension {
        let yaml = &e.value.as_ref().unwrap().yaml;
        assert!(
            serde_json::from_str::<Value>(yaml).is_ok(),
            "{at}: extension {} unreadable",
            e.name
        );
    }
}

use std::collections::BTreeSet;

#[test]
fn kubectl_accept_header_gets_protobuf_and_others_json_or_406() {
    assert_eq!(
        negotiate(Some(PROTOBUF_CONTENT_TYPE)),
        Some(Format::Protobuf)
    );
    assert_eq!(
        negotiate(Some(
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
        )),
        Some(Format::Protobuf)
    );
    assert_eq!(negotiate(Some("application/json")), Some(Format::Json));
    assert_eq!(negotiate(None), Some(Format::Json));
    assert_eq!(negotiate(Some("*/*")), Some(Format::Json));
    assert_eq!(
        negotiate(Some("text/html, application/json;q=0.9")),
        Some(Format::Json)
    );
    assert_eq!(negotiate(Some("text/html")), None);
}

#[test]
fn if_none_match_compares_quoted_tags_lists_and_weak_tags() {
    assert!(etag_matches(Some("\"AB\""), "\"AB\""));
    assert!(etag_matches(Some("\"X\", W/\"AB\""), "\"AB\""));
    assert!(etag_matches(Some("*"), "\"AB\""));
    assert!(!etag_matches(Some("\"AC\""), "\"AB\""));
    assert!(!etag_matches(None, "\"AB\""));
}

#[test]
fn every_served_kind_has_a_patch_operation_accepting_field_validation_in_protobuf() {
    let (cat, _) = Catalogue::with_crds([&widget_crd("x")]);
    let doc = decoded("x");
    for info in cat.resources().iter().filter(|r| r.served) {
        assert!(
            supports_query_param(&doc, &info.gvk(), "fieldValidation"),
            "{} lacks a PATCH op with fieldValidation",
            info.gvk()
        );
    }
    assert!(!supports_query_param(
        &doc,
        &Gvk::new("example.com", "v1", "Gadget"),
        "fieldValidation"
    ));
}

#[test]
fn every_definition_parses_as_kube_openapi_requires() {
    let doc = decoded("x");
    let defs = &doc.definitions.as_ref().unwrap().additional_properties;
    let names: BTreeSet<String> = defs.iter().map(|d| d.name.clone()).collect();
    assert!(names.len() > 200, "built-ins and the CRD: {}", names.len());
    for d in defs {
        assert_parseable(d.value.as_ref().unwrap(), &d.name, &names);
    }
    // Body parameters and responses reference definitions too.
    for p in &doc.paths.as_ref().unwrap().path {
        let item = p.value.as_ref().unwrap();
        for op in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
        {
            for r in &op.responses.as_ref().unwrap().response_code {
                let Some(gnostic::response_value::Oneof::Response(resp)) =
                    r.value.as_ref().and_then(|v| v.oneof.as_ref())
                else {
                    panic!("{}: response {} is not a Response", p.name, r.name);
                };
                let Some(gnostic::schema_item::Oneof::Schema(s)) =
                    resp.schema.as_ref().and_then(|s| s.oneof.as_ref())
                else {
                    panic!("{}: response {} has no schema", p.name, r.name);
                };
                assert_parseable(s, &p.name, &names);
            }
        }
    }
}

#[test]
fn definitions_carry_gvk_and_explain_finds_descriptions_through_refs() {
    let doc = decoded("How big the widget is.");
    let deployment = definition(&doc, "io.k8s.api.apps.v1.Deployment");
    let gvk = extension(
        &deployment.vendor_extension,
        "x-kubernetes-group-version-kind",
    )
    .unwrap();
    assert_eq!(
        gvk,
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert!(deployment.description.contains("declarative updates"));
    // metadata: `allOf: [$ref]` in v3 becomes `$ref` with the description beside it.
    let metadata = property(deployment, "metadata").unwrap();
    assert_eq!(
        metadata.r#ref,
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(metadata.description.contains("Standard object's metadata"));
    let spec = definition(&doc, "io.k8s.api.apps.v1.DeploymentSpec");
    assert!(
        property(spec, "replicas")
            .unwrap()
            .description
            .contains("Number of desired pods")
    );
    let containers =
        property(definition(&doc, "io.k8s.api.core.v1.PodSpec"), "containers").unwrap();
    assert_eq!(containers.r#type.as_ref().unwrap().value, ["array"]);
    assert_eq!(
        containers.items.as_ref().unwrap().schema[0].r#ref,
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let ios = definition(&doc, INT_OR_STRING);
    assert_eq!(ios.r#type.as_ref().unwrap().value, ["string"]);
    assert_eq!(ios.format, "int-or-string");
}

#[test]
fn crd_schema_is_a_definition_without_v3_only_keywords() {
    let doc = decoded("How big the widget is.");
    let widget = definition(&doc, "com.example.v1.Widget");
    assert_eq!(widget.description, "A Widget is a test object.");
    assert_eq!(
        extension(&widget.vendor_extension, "x-kubernetes-group-version-kind").unwrap(),
        json!([{"group": "example.com", "kind": "Widget", "version": "v1"}])
    );
    let spec = property(widget, "spec").unwrap();
    let size = property(spec, "size").unwrap();
    assert_eq!(size.description, "How big the widget is.");
    assert_eq!(size.minimum, 1.0);
    // int-or-string keeps its extension and loses the v3-only anyOf.
    let port = property(spec, "port").unwrap();
    assert!(port.r#type.is_none());
    assert_eq!(
        extension(&port.vendor_extension, "x-kubernetes-int-or-string"),
        Some(json!(true))
    );
    let mode = property(spec, "mode").unwrap();
    assert_eq!(
        mode.r#enum
            .iter()
            .map(|a| a.yaml.as_str())
            .collect::<Vec<_>>(),
        ["\"fast\"", "\"slow\""]
    );
    assert_eq!(mode.default.as_ref().unwrap().yaml, "\"slow\"");
    let names: Vec<&str> = spec
        .properties
        .as_ref()
        .unwrap()
        .additional_properties
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["size", "port", "tags", "mode", "extra"],
        "order kept"
    );
    let json = document(&v3("x"));
    let mode_json =
        &json["definitions"]["com.example.v1.Widget"]["properties"]["spec"]["properties"]["mode"];
    assert!(mode_json.get("nullable").is_none(), "{mode_json}");
    assert!(json.to_string().contains("#/definitions/"));
    assert!(!json.to_string().contains("#/components/"));
}

#[test]
fn paths_have_v2_operations_with_body_parameters_and_gvk() {
    let doc = decoded("x");
    let path = doc
        .paths
        .as_ref()
        .unwrap()
        .path
        .iter()
        .find(|p| p.name == "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}")
        .and_then(|p| p.value.as_ref())
        .expect("widget item path");
    let patch = path.patch.as_ref().unwrap();
    assert_eq!(
        extension(&patch.vendor_extension, "x-kubernetes-action"),
        Some(json!("patch"))
    );
    assert!(
        patch
            .consumes
            .contains(&"application/merge-patch+json".to_string())
    );
    assert!(
        !patch
            .consumes
            .contains(&"application/strategic-merge-patch+json".to_string())
    );
    let put = path.put.as_ref().unwrap();
    let body = put.parameters.iter().find_map(|p| match &p.oneof {
        Some(gnostic::parameters_item::Oneof::Parameter(gnostic::Parameter {
            oneof: Some(gnostic::parameter::Oneof::BodyParameter(b)),
        })) => Some(b),
        _ => None,
    });
    let body = body.expect("PUT has a body parameter");
    assert_eq!(
        body.schema.as_ref().unwrap().r#ref,
        "#/definitions/com.example.v1.Widget"
    );
    assert!(
        path.parameters.len() >= 2,
        "name and namespace path parameters"
    );
    let cm = doc
        .paths
        .as_ref()
        .unwrap()
        .path
        .iter()
        .find(|p| p.name == "/api/v1/namespaces/{namespace}/configmaps/{name}")
        .and_then(|p| p.value.as_ref())
        .unwrap();
    let consumes = &cm.patch.as_ref().unwrap().consumes;
    assert!(consumes.contains(&"application/strategic-merge-patch+json".to_string()));
    assert_eq!(doc.swagger, "2.0");
    assert_eq!(doc.info.as_ref().unwrap().version, KUBERNETES_VERSION);
}

#[test]
fn etags_change_with_the_crd_and_only_then() {
    let a = OpenApiV2::build(&v3("one")).unwrap();
    let b = OpenApiV2::build(&v3("two")).unwrap();
    let a2 = OpenApiV2::build(&v3("one")).unwrap();
    assert_ne!(a.json.etag, b.json.etag);
    assert_ne!(a.protobuf.etag, b.protobuf.etag);
    assert_eq!(a.json.etag, a2.json.etag);
    assert_eq!(a.protobuf.etag, a2.protobuf.etag);
    assert_eq!(a.protobuf.bytes, a2.protobuf.bytes, "deterministic bytes");
    assert!(a.json.etag.starts_with('"') && a.json.etag.ends_with('"'));
    let json: Value = serde_json::from_slice(&a.json.bytes).unwrap();
    assert_eq!(json["swagger"], "2.0");
}

#[test]
fn protobuf_matches_the_json_document() {
    let built = OpenApiV2::build(&v3("x")).unwrap();
    let json: Value = serde_json::from_slice(&built.json.bytes).unwrap();
    let doc = Document::decode(built.protobuf.bytes.as_slice()).unwrap();
    let defs = json["definitions"].as_object().unwrap();
    let decoded_names: Vec<&str> = doc
        .definitions
        .as_ref()
        .unwrap()
        .additional_properties
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        decoded_names,
        defs.keys().map(String::as_str).collect::<Vec<_>>()
    );
    let paths = json["paths"].as_object().unwrap();
    assert_eq!(doc.paths.as_ref().unwrap().path.len(), paths.len());
    // Re-encoding what was decoded gives the same bytes: nothing was skipped as unknown.
    assert_eq!(doc.encode_to_vec(), built.protobuf.bytes);
}

#[test]
fn encoding_refuses_what_swagger_2_lacks_naming_the_place() {
    let bad = json!({"swagger": "2.0", "definitions": {"a.B": {"type": "object", "oneOf": []}}});
    let err = gnostic::encode(&bad).unwrap_err();
    assert_eq!(
        err,
        V2Error::Unsupported {
            at: "definitions.a.B".into(),
            key: "oneOf".into()
        }
    );
    assert!(err.to_string().contains("oneOf"));
}
