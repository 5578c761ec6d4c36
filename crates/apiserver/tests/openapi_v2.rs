//! `/openapi/v2` through the router (in-process client: same routing, auth and handlers as over
//! TLS): JSON and gnostic protobuf chosen by `Accept`, ETag and `If-None-Match` → 304, 406 for a
//! type it cannot serve, the cluster-prefixed path, and a CRD's schema appearing (with a new
//! ETag) once the CRD is created.

use apiresources::openapi::v2::{PROTOBUF_CONTENT_TYPE, PROTOBUF_RESPONSE_CONTENT_TYPE, gnostic};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

struct Reply {
    status: u16,
    content_type: String,
    etag: String,
    body: Vec<u8>,
}

async fn get(c: &kube::Client, accept: Option<&str>, if_none_match: Option<&str>) -> Reply {
    let mut req = http::Request::get("/openapi/v2");
    if let Some(a) = accept {
        req = req.header(http::header::ACCEPT, a);
    }
    if let Some(t) = if_none_match {
        req = req.header(http::header::IF_NONE_MATCH, t);
    }
    let resp = c
        .send(req.body(kube::client::Body::empty()).unwrap())
        .await
        .expect("request sent");
    let header = |name: http::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    Reply {
        status: resp.status().as_u16(),
        content_type: header(http::header::CONTENT_TYPE),
        etag: header(http::header::ETAG),
        body: resp.into_body().collect_bytes().await.unwrap().to_vec(),
    }
}

async fn start() -> (apiserver::ControlPlane, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.clusters
        .push(apiserver::ClusterSpec::parse("business").unwrap());
    (apiserver::ControlPlane::start(cfg).await.unwrap(), dir)
}

fn has_definition(doc: &gnostic::Document, name: &str) -> bool {
    doc.definitions
        .as_ref()
        .is_some_and(|d| d.additional_properties.iter().any(|s| s.name == name))
}

#[tokio::test]
async fn json_and_protobuf_by_accept_with_etag_and_304() {
    let (cp, _d) = start().await;
    let c = cp.client("global").unwrap();
    let pb = get(&c, Some(PROTOBUF_CONTENT_TYPE), None).await;
    assert_eq!(pb.status, 200);
    assert_eq!(pb.content_type, PROTOBUF_RESPONSE_CONTENT_TYPE);
    assert!(pb.etag.starts_with('"'), "{}", pb.etag);
    let doc = gnostic::decode(&pb.body).expect("an openapi.v2.Document");
    assert_eq!(doc.swagger, "2.0");
    assert!(has_definition(&doc, "io.k8s.api.core.v1.ConfigMap"));

    let again = get(&c, Some(PROTOBUF_CONTENT_TYPE), Some(&pb.etag)).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.etag, pb.etag);

    let js = get(&c, Some("application/json"), Some(&pb.etag)).await;
    assert_eq!(js.status, 200, "the JSON form has its own ETag");
    assert_eq!(js.content_type, "application/json");
    let v: Value = serde_json::from_slice(&js.body).unwrap();
    assert_eq!(v["swagger"], "2.0");
    assert_eq!(
        v["definitions"]["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert_eq!(get(&c, None, None).await.content_type, "application/json");

    let refused = get(&c, Some("text/html"), None).await;
    assert_eq!(refused.status, 406);
    let status: Value = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(status["reason"], "NotAcceptable");
    assert!(status["message"].as_str().unwrap().contains("Accept"));
}

#[tokio::test]
async fn a_created_crd_appears_in_its_cluster_only_with_a_new_etag() {
    let (cp, _d) = start().await;
    let business = cp.client("business").unwrap();
    let global = cp.client("global").unwrap();
    let before = get(&business, Some(PROTOBUF_CONTENT_TYPE), None).await;
    let global_before = get(&global, Some(PROTOBUF_CONTENT_TYPE), None).await;
    assert_eq!(
        before.status, 200,
        "served under /kubernetes/business/openapi/v2"
    );
    assert!(!has_definition(
        &gnostic::decode(&before.body).unwrap(),
        "com.example.v1.Widget"
    ));

    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "description": "A Widget.",
                    "properties": {"spec": {"type": "object",
                        "properties": {"size": {"type": "integer"}}}}}}}]}
    }))
    .unwrap();
    Api::<CustomResourceDefinition>::all(business.clone())
        .create(&PostParams::default(), &crd)
        .await
        .unwrap();

    let after = get(&business, Some(PROTOBUF_CONTENT_TYPE), Some(&before.etag)).await;
    assert_eq!(after.status, 200, "the old ETag no longer matches");
    assert_ne!(after.etag, before.etag);
    let doc = gnostic::decode(&after.body).unwrap();
    assert!(has_definition(&doc, "com.example.v1.Widget"));
    assert!(
        doc.paths
            .as_ref()
            .unwrap()
            .path
            .iter()
            .any(|p| p.name == "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}")
    );

    let global_after = get(
        &global,
        Some(PROTOBUF_CONTENT_TYPE),
        Some(&global_before.etag),
    )
    .await;
    assert_eq!(
        global_after.status, 304,
        "another cluster's document is unchanged"
    );
}
