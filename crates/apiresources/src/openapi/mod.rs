//! OpenAPI v3 documents: the `/openapi/v3` root and one document per group-version.
//!
//! What kubectl needs from them (see `shared/design/kubectl-compat.md`):
//! - **Validation delegated to the server.** Each group-version document has, for every kind, a
//!   PATCH operation carrying `x-kubernetes-group-version-kind` and a `fieldValidation` query
//!   parameter; kubectl then skips client-side validation and sends `fieldValidation=Strict`.
//! - **`kubectl explain`.** `components.schemas` holds the kind's schema with
//!   `x-kubernetes-group-version-kind` and everything it references (`$ref`s resolve inside the
//!   document). Built-in schemas come from `data/builtin-schemas.json`, generated from
//!   k8s-openapi's `schemars` impls (see `regenerate.rs`; Kubernetes' own descriptions). A CRD
//!   version's `openAPIV3Schema` becomes `<reversed group>.<version>.<Kind>` with `metadata`
//!   pointing at ObjectMeta.
//!
//! `/openapi/v2` is served too ([`v2`]): the same schemas and operations as one Swagger 2.0
//! document, as JSON and as gnostic protobuf (what kubectl 1.27 needs for `apply`, validation and
//! `explain --output=plaintext-openapiv2`).

#[cfg(all(test, feature = "regenerate-schemas"))]
mod regenerate;
pub mod v2;

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, OnceLock};

use crate::catalogue::{Gvk, ResourceInfo};
use crate::discovery::groups;

/// The Kubernetes version the documents claim (matches `/version`).
pub const KUBERNETES_VERSION: &str = "v1.33.0";

const REF_PREFIX: &str = "#/components/schemas/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";

/// Built-in component schemas by name (`io.k8s.api.apps.v1.Deployment`).
static BUILTIN_SCHEMAS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../data/builtin-schemas.json"))
        .expect("data/builtin-schemas.json is valid JSON (regenerate it if not)")
});

/// Built-in kinds → their component schema name.
static BUILTIN_KINDS: LazyLock<BTreeMap<Gvk, String>> = LazyLock::new(|| {
    let mut out = BTreeMap::new();
    for (name, schema) in BUILTIN_SCHEMAS.iter() {
        for gvk in gvks_of(schema) {
            out.insert(gvk, name.clone());
        }
    }
    out
});

fn gvks_of(schema: &Value) -> Vec<Gvk> {
    schema
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|g| {
                    let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default();
                    Gvk::new(s("group"), s("version"), s("kind"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The schema of a built-in kind (with `x-kubernetes-group-version-kind`), if we have one.
/// Referenced schemas are reachable through [`builtin_schema_by_name`].
pub fn builtin_schema(gvk: &Gvk) -> Option<&'static Value> {
    BUILTIN_KINDS
        .get(gvk)
        .and_then(|name| BUILTIN_SCHEMAS.get(name))
}

/// A built-in component schema by its name (`io.k8s.api.core.v1.PodSpec`).
pub fn builtin_schema_by_name(name: &str) -> Option<&'static Value> {
    BUILTIN_SCHEMAS.get(name)
}

/// The component name of a kind: the built-in's (`io.k8s.api.apps.v1.Deployment`) or, for custom
/// resources, the reversed group + version + kind (`com.example.v1.Widget`) as kube-apiserver names them.
pub fn schema_name(info: &ResourceInfo) -> String {
    if info.is_builtin()
        && let Some(name) = BUILTIN_KINDS.get(&info.gvk())
    {
        return name.clone();
    }
    let mut parts: Vec<&str> = info.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), info.version, info.kind)
}

fn hashed(doc: Value) -> (Arc<Value>, String) {
    let hash = content_hash(&serde_json::to_vec(&doc).unwrap_or_default());
    (Arc::new(doc), hash)
}

fn builtin_count(group: &str, version: &str) -> usize {
    crate::builtins()
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .count()
}

/// The documents of the built-in group-versions, built once.
static BUILTIN_DOCUMENTS: LazyLock<BTreeMap<String, (Arc<Value>, String)>> = LazyLock::new(|| {
    let builtins = crate::builtins();
    groups(builtins)
        .into_iter()
        .flat_map(|(group, versions)| versions.into_iter().map(move |v| (group.clone(), v)))
        .map(|(group, version)| {
            let served: Vec<&ResourceInfo> = builtins
                .iter()
                .filter(|r| r.group == group && r.version == version)
                .collect();
            (
                gv_path(&group, &version),
                hashed(group_version_document(&served)),
            )
        })
        .collect()
});

/// The OpenAPI v3 documents of one catalogue. Build once per catalogue change and cache.
#[derive(Debug, Clone)]
pub struct OpenApiV3 {
    /// Group-version path (`api/v1`, `apis/apps/v1`) → (document, hash).
    documents: BTreeMap<String, (Arc<Value>, String)>,
    /// The `/openapi/v2` document of the same group-versions, built on first use.
    v2: OnceLock<Result<Arc<v2::OpenApiV2>, v2::V2Error>>,
}

/// `api/v1` for the core group, `apis/<group>/<version>` otherwise (the key in the v3 root).
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// 64-bit FNV-1a, hex: a stable content hash for the `hash` query parameter / ETag.
fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

impl OpenApiV3 {
    /// Build every group-version document for the served resources.
    pub fn build(resources: &[ResourceInfo]) -> Self {
        let mut documents = BTreeMap::new();
        for (group, versions) in groups(resources) {
            for version in versions {
                let served: Vec<&ResourceInfo> = resources
                    .iter()
                    .filter(|r| r.served && r.group == group && r.version == version)
                    .collect();
                let path = gv_path(&group, &version);
                // Group-versions holding exactly the built-ins never change: share one copy.
                if let Some(cached) = BUILTIN_DOCUMENTS.get(&path)
                    && served.iter().all(|r| r.is_builtin())
                    && served.len() == builtin_count(&group, &version)
                {
                    documents.insert(path, cached.clone());
                    continue;
                }
                documents.insert(path, hashed(group_version_document(&served)));
            }
        }
        OpenApiV3 {
            documents,
            v2: OnceLock::new(),
        }
    }

    /// `/openapi/v2` for the same group-versions (converted and encoded once, on first use).
    pub fn v2(&self) -> Result<Arc<v2::OpenApiV2>, v2::V2Error> {
        self.v2
            .get_or_init(|| v2::OpenApiV2::build(self).map(Arc::new))
            .clone()
    }

    /// `/openapi/v3`: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=..."}}}`.
    pub fn root(&self) -> Value {
        let paths: Map<String, Value> = self
            .documents
            .iter()
            .map(|(p, (_, hash))| {
                (
                    p.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
                )
            })
            .collect();
        json!({ "paths": paths })
    }

    /// `/openapi/v3/<path>` (path without leading slash, e.g. `apis/apps/v1`).
    pub fn document(&self, path: &str) -> Option<&Value> {
        self.documents.get(path).map(|(d, _)| d.as_ref())
    }

    /// The hash of a document (for `ETag` / the `hash` query parameter).
    pub fn hash(&self, path: &str) -> Option<&str> {
        self.documents.get(path).map(|(_, h)| h.as_str())
    }

    /// Every group-version path served.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }
}

/// The schema a CRD version contributes: its `openAPIV3Schema` with `apiVersion`/`kind`
/// described, `metadata` pointing at ObjectMeta, and `x-kubernetes-group-version-kind`.
pub fn crd_component_schema(info: &ResourceInfo) -> Value {
    let mut schema =
        info.schema.clone().filter(Value::is_object).unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    let obj = schema.as_object_mut().expect("object");
    obj.entry("type").or_insert_with(|| "object".into());
    let props = obj
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(props) = props {
        let describe = |props: &mut Map<String, Value>, key: &str, text: &str| {
            let p = props
                .entry(key.to_string())
                .or_insert_with(|| json!({"type": "string"}));
            if let Some(p) = p.as_object_mut() {
                p.entry("description").or_insert_with(|| text.into());
            }
        };
        describe(
            props,
            "apiVersion",
            "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
        );
        describe(
            props,
            "kind",
            "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
        );
        props.insert(
            "metadata".into(),
            json!({
                "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
                "allOf": [{"$ref": format!("{REF_PREFIX}{OBJECT_META}")}],
            }),
        );
    }
    obj.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([{"group": info.group, "kind": info.kind, "version": info.version}]),
    );
    schema
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref"
                    && let Some(name) = v.as_str().and_then(|r| r.strip_prefix(REF_PREFIX))
                {
                    out.push(name.to_string());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{name}")})
}

fn query(name: &str, description: &str, ty: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": ty, "uniqueItems": true}})
}

fn operation_id(verb: &str, info: &ResourceInfo, namespaced_path: bool, suffix: &str) -> String {
    let group = info.group.strip_suffix(".k8s.io").unwrap_or(&info.group);
    let group: String = if group.is_empty() {
        "Core".into()
    } else {
        group
            .split('.')
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut version = info.version.clone();
    if let Some(f) = version.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    let ns = if namespaced_path { "Namespaced" } else { "" };
    format!("{verb}{group}{version}{ns}{}{suffix}", info.kind)
}

fn ok(schema: Value) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": schema}, "application/yaml": {"schema": schema}}})
}

fn gvk_ext(info: &ResourceInfo, kind: &str) -> Value {
    json!({"group": info.group, "kind": kind, "version": info.version})
}

/// Removes the write operations a read-only (computed) resource does not serve, so its OpenAPI
/// paths list only get, list and watch. (Built-ins keep theirs: kubectl looks for a PATCH
/// operation to learn that the server validates fields.)
fn drop_unserved_operations(paths: &mut Map<String, Value>, info: &ResourceInfo, base: &str) {
    let ops = [
        (base.to_string(), "post", "create"),
        (base.to_string(), "delete", "deletecollection"),
        (format!("{base}/{{name}}"), "put", "update"),
        (format!("{base}/{{name}}"), "patch", "patch"),
        (format!("{base}/{{name}}"), "delete", "delete"),
    ];
    for (path, method, verb) in &ops {
        if !info.has_verb(verb)
            && let Some(item) = paths.get_mut(path).and_then(Value::as_object_mut)
        {
            item.remove(*method);
        }
    }
}

fn add_paths(paths: &mut Map<String, Value>, info: &ResourceInfo, schema: &str) {
    let prefix = format!("/{}", gv_path(&info.group, &info.version));
    let ns = info.namespaced();
    let base = if ns {
        format!("{prefix}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("{prefix}/{}", info.plural)
    };
    let kind_ref = r(schema);
    let list_schema = json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": r("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"),
            "items": {"type": "array", "items": kind_ref},
        },
    });
    let path_params = |with_name: bool| {
        let mut p = Vec::new();
        if with_name {
            p.push(json!({"name": "name", "in": "path", "description": format!("name of the {}", info.kind), "required": true, "schema": {"type": "string", "uniqueItems": true}}));
        }
        if ns {
            p.push(json!({"name": "namespace", "in": "path", "description": "object name and auth scope, such as for teams and projects", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
        }
        p.push(query(
            "pretty",
            "If 'true', then the output is pretty printed.",
            "string",
        ));
        Value::Array(p)
    };
    let write_params = || {
        vec![
            query(
                "dryRun",
                "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
                "string",
            ),
            query(
                "fieldManager",
                "fieldManager is a name associated with the actor or entity that is making these changes.",
                "string",
            ),
            query(
                "fieldValidation",
                "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
                "string",
            ),
        ]
    };
    let list_params = || {
        let mut p = Vec::new();
        for (n, t) in [
            ("allowWatchBookmarks", "boolean"),
            ("continue", "string"),
            ("fieldSelector", "string"),
            ("labelSelector", "string"),
            ("limit", "integer"),
            ("resourceVersion", "string"),
            ("resourceVersionMatch", "string"),
            ("sendInitialEvents", "boolean"),
            ("timeoutSeconds", "integer"),
            ("watch", "boolean"),
        ] {
            p.push(query(n, n, t));
        }
        Value::Array(p)
    };
    let body = |schema: Value| json!({"content": {"*/*": {"schema": schema}}, "required": true});
    let mut patch_types = Map::new();
    for ct in [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ] {
        patch_types.insert(ct.into(), json!({"schema": r(PATCH)}));
    }
    if info.is_builtin() {
        patch_types.insert(
            "application/strategic-merge-patch+json".into(),
            json!({"schema": r(PATCH)}),
        );
    }
    let patch_op = |what: &str, suffix: &str| {
        let mut params = write_params();
        params.push(query(
            "force",
            "Force is going to \"force\" Apply requests.",
            "boolean",
        ));
        json!({
            "description": format!("partially update {what} the specified {}", info.kind),
            "operationId": operation_id("patch", info, ns, suffix),
            "parameters": params,
            "requestBody": {"content": patch_types, "required": true},
            "responses": {"200": ok(kind_ref.clone()), "201": ok(kind_ref.clone())},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
        })
    };
    let get_op = |suffix: &str| {
        json!({
            "description": format!("read the specified {}", info.kind),
            "operationId": operation_id("read", info, ns, suffix),
            "responses": {"200": ok(kind_ref.clone())},
            "x-kubernetes-action": "get",
            "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
        })
    };
    let put_op = |suffix: &str| {
        json!({
            "description": format!("replace the specified {}", info.kind),
            "operationId": operation_id("replace", info, ns, suffix),
            "parameters": write_params(),
            "requestBody": body(kind_ref.clone()),
            "responses": {"200": ok(kind_ref.clone()), "201": ok(kind_ref.clone())},
            "x-kubernetes-action": "put",
            "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
        })
    };
    let list_op = |all_namespaces: bool| {
        json!({
            "description": format!("list or watch objects of kind {}", info.kind),
            "operationId": if all_namespaces {
                operation_id("list", info, false, "ForAllNamespaces")
            } else {
                operation_id("list", info, ns, "")
            },
            "parameters": list_params(),
            "responses": {"200": ok(list_schema.clone())},
            "x-kubernetes-action": "list",
            "x-kubernetes-group-version-kind": gvk_ext(info, &info.list_kind),
        })
    };
    paths.insert(
        base.clone(),
        json!({
            "get": list_op(false),
            "post": {
                "description": format!("create a {}", info.kind),
                "operationId": operation_id("create", info, ns, ""),
                "parameters": write_params(),
                "requestBody": body(kind_ref.clone()),
                "responses": {"200": ok(kind_ref.clone()), "201": ok(kind_ref.clone()), "202": ok(kind_ref.clone())},
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
            },
            "delete": {
                "description": format!("delete collection of {}", info.kind),
                "operationId": operation_id("deleteCollection", info, ns, ""),
                "requestBody": body(r(DELETE_OPTIONS)),
                "responses": {"200": ok(r(STATUS))},
                "x-kubernetes-action": "deletecollection",
                "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
            },
            "parameters": path_params(false),
        }),
    );
    paths.insert(
        format!("{base}/{{name}}"),
        json!({
            "get": get_op(""),
            "put": put_op(""),
            "patch": patch_op("", ""),
            "delete": {
                "description": format!("delete a {}", info.kind),
                "operationId": operation_id("delete", info, ns, ""),
                "requestBody": body(r(DELETE_OPTIONS)),
                "responses": {"200": ok(r(STATUS)), "202": ok(r(STATUS))},
                "x-kubernetes-action": "delete",
                "x-kubernetes-group-version-kind": gvk_ext(info, &info.kind),
            },
            "parameters": path_params(true),
        }),
    );
    if info.origin == crate::Origin::Computed {
        drop_unserved_operations(paths, info, &base);
    }
    if info.subresources.status {
        paths.insert(
            format!("{base}/{{name}}/status"),
            json!({
                "get": get_op("Status"),
                "put": put_op("Status"),
                "patch": patch_op("status of", "Status"),
                "parameters": path_params(true),
            }),
        );
    }
    if ns {
        paths.insert(
            format!("{prefix}/{}", info.plural),
            json!({"get": list_op(true), "parameters": path_params(false)}),
        );
    }
}

fn group_version_document(served: &[&ResourceInfo]) -> Value {
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    let mut paths = Map::new();
    for info in served {
        let name = schema_name(info);
        let schema = if info.is_builtin() {
            match builtin_schema(&info.gvk()) {
                Some(s) => s.clone(),
                None => continue,
            }
        } else {
            crd_component_schema(info)
        };
        schemas.insert(name.clone(), schema);
        add_paths(&mut paths, info, &name);
    }
    // Everything referenced, transitively (ObjectMeta, PodSpec, ..., Patch, Status, DeleteOptions).
    let mut pending: Vec<String> = Vec::new();
    schemas.values().for_each(|s| collect_refs(s, &mut pending));
    collect_refs(&Value::Object(paths.clone()), &mut pending);
    let mut seen: BTreeSet<String> = schemas.keys().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(s) = BUILTIN_SCHEMAS.get(&name) {
            collect_refs(s, &mut pending);
            schemas.insert(name, s.clone());
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}
            },
        },
        "security": [{"BearerToken": []}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalogue;

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
                                "properties": {"size": {"type": "integer", "description": size_description}}},
                            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                        }}}}]
            }
        })
    }

    fn built(size_description: &str) -> OpenApiV3 {
        let (cat, errors) = Catalogue::with_crds([&widget_crd(size_description)]);
        assert!(errors.is_empty());
        OpenApiV3::build(cat.resources())
    }

    /// kubectl's `supportsQueryParamV3`: some PATCH operation for the GVK has a query
    /// parameter of that name.
    fn supports_query_param(doc: &Value, gvk: &Gvk, param: &str) -> bool {
        doc["paths"].as_object().unwrap().values().any(|path| {
            let Some(op) = path.get("patch") else {
                return false;
            };
            let ext = &op["x-kubernetes-group-version-kind"];
            ext["group"] == gvk.group.as_str()
                && ext["version"] == gvk.version.as_str()
                && ext["kind"] == gvk.kind.as_str()
                && op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == param && p["in"] == "query")
        })
    }

    fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
        loop {
            let reference = schema
                .get("$ref")
                .or_else(|| schema.pointer("/allOf/0/$ref"))
                .and_then(Value::as_str);
            match reference {
                Some(r) => {
                    let name = r.strip_prefix(REF_PREFIX).unwrap();
                    schema = doc["components"]["schemas"]
                        .get(name)
                        .unwrap_or_else(|| panic!("dangling $ref {r}"));
                }
                None => return schema,
            }
        }
    }

    /// What `kubectl explain <kind>.<a>.<b>` does: find the schema by GVK, walk properties.
    fn explain(doc: &Value, gvk: &Gvk, field_path: &[&str]) -> String {
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let (_, mut schema) = schemas
            .iter()
            .find(|(_, s)| gvks_of(s).contains(gvk))
            .unwrap_or_else(|| panic!("no schema for {gvk}"));
        let mut description = schema["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for field in field_path {
            let resolved = resolve(doc, schema);
            let prop = &resolved["properties"][field];
            assert!(!prop.is_null(), "no field {field} under {gvk}");
            description = prop
                .get("description")
                .or_else(|| resolve(doc, prop).get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            schema = prop;
        }
        description
    }

    #[test]
    fn root_lists_every_group_version_with_a_hash() {
        let o = built("How big.");
        let root = o.root();
        for p in [
            "api/v1",
            "apis/apps/v1",
            "apis/rbac.authorization.k8s.io/v1",
            "apis/example.com/v1",
        ] {
            let url = root["paths"][p]["serverRelativeURL"].as_str().unwrap();
            let hash = o.hash(p).unwrap();
            assert_eq!(url, format!("/openapi/v3/{p}?hash={hash}"));
            assert!(o.document(p).is_some());
        }
        assert!(o.document("apis/example.com/v2").is_none());
    }

    #[test]
    fn hashes_change_only_for_the_document_that_changed() {
        let a = built("How big.");
        let b = built("How large.");
        assert_ne!(a.hash("apis/example.com/v1"), b.hash("apis/example.com/v1"));
        assert_eq!(a.hash("apis/apps/v1"), b.hash("apis/apps/v1"));
        assert_eq!(
            a.hash("apis/apps/v1"),
            built("How big.").hash("apis/apps/v1")
        );
    }

    #[test]
    fn every_served_kind_has_a_patch_operation_accepting_field_validation() {
        let (cat, _) = Catalogue::with_crds([&widget_crd("x")]);
        let o = OpenApiV3::build(cat.resources());
        for info in cat.resources().iter().filter(|r| r.served) {
            let doc = o.document(&gv_path(&info.group, &info.version)).unwrap();
            assert!(
                supports_query_param(doc, &info.gvk(), "fieldValidation"),
                "{} lacks a PATCH op with fieldValidation",
                info.gvk()
            );
        }
        // Custom resources do not advertise strategic merge patch (kube-apiserver answers 415).
        let doc = o.document("apis/example.com/v1").unwrap();
        let ct = &doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
            ["requestBody"]["content"];
        assert!(ct.get("application/merge-patch+json").is_some());
        assert!(ct.get("application/strategic-merge-patch+json").is_none());
        let doc = o.document("apis/apps/v1").unwrap();
        assert!(
            doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]["patch"]
                .is_object()
        );
        assert!(doc["paths"]["/apis/apps/v1/deployments"]["get"].is_object());
    }

    #[test]
    fn every_ref_resolves_inside_its_document() {
        let o = built("x");
        for p in o.paths() {
            let doc = o.document(p).unwrap();
            let mut refs = Vec::new();
            collect_refs(doc, &mut refs);
            assert!(!refs.is_empty());
            for r in refs {
                assert!(
                    doc["components"]["schemas"].get(&r).is_some(),
                    "{p}: dangling {r}"
                );
            }
        }
    }

    #[test]
    fn explain_finds_builtin_descriptions_through_refs() {
        let o = built("x");
        let doc = o.document("apis/apps/v1").unwrap();
        let gvk = Gvk::new("apps", "v1", "Deployment");
        assert!(explain(doc, &gvk, &[]).contains("declarative updates for Pods"));
        assert!(explain(doc, &gvk, &["spec", "replicas"]).contains("Number of desired pods"));
        assert!(explain(doc, &gvk, &["metadata", "labels"]).contains("Map of string keys"));
        let core = o.document("api/v1").unwrap();
        let ns = Gvk::new("", "v1", "Namespace");
        assert!(!explain(core, &ns, &["spec", "finalizers"]).is_empty());
        let crd = o.document("apis/apiextensions.k8s.io/v1").unwrap();
        let gvk = Gvk::new("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
        assert!(!explain(crd, &gvk, &["spec", "versions"]).is_empty());
    }

    #[test]
    fn explain_finds_crd_descriptions_and_object_meta() {
        let o = built("How big the widget is.");
        let doc = o.document("apis/example.com/v1").unwrap();
        let gvk = Gvk::new("example.com", "v1", "Widget");
        assert_eq!(explain(doc, &gvk, &[]), "A Widget is a test object.");
        assert_eq!(
            explain(doc, &gvk, &["spec"]),
            "WidgetSpec is what the user wants."
        );
        assert_eq!(
            explain(doc, &gvk, &["spec", "size"]),
            "How big the widget is."
        );
        assert!(explain(doc, &gvk, &["metadata", "name"]).contains("Name must be unique"));
        assert!(explain(doc, &gvk, &["apiVersion"]).contains("APIVersion defines"));
        assert!(doc["components"]["schemas"]["com.example.v1.Widget"].is_object());
    }

    #[test]
    fn builtin_documents_are_shared_and_crd_documents_rebuilt() {
        let a = built("one");
        let b = built("two");
        let shared = |o: &OpenApiV3, p: &str| o.documents[p].0.clone();
        assert!(Arc::ptr_eq(
            &shared(&a, "apis/apps/v1"),
            &shared(&b, "apis/apps/v1")
        ));
        assert!(!Arc::ptr_eq(
            &shared(&a, "apis/example.com/v1"),
            &shared(&b, "apis/example.com/v1")
        ));
        // A CRD joining a built-in group-version gets a fresh document that includes it.
        let crd = json!({"metadata": {"name": "gadgets.apps"}, "spec": {"group": "apps", "scope": "Cluster",
            "names": {"plural": "gadgets", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let (cat, _) = Catalogue::with_crds([&crd]);
        let o = OpenApiV3::build(cat.resources());
        assert!(
            o.document("apis/apps/v1").unwrap()["components"]["schemas"]["apps.v1.Gadget"]
                .is_object()
        );
        assert_ne!(o.hash("apis/apps/v1"), a.hash("apis/apps/v1"));
    }

    #[test]
    fn every_builtin_kind_has_a_schema() {
        for info in crate::builtins() {
            assert!(builtin_schema(&info.gvk()).is_some(), "{}", info.gvk());
        }
    }
}
