//! The documents this crate builds, served as-is by a minimal std-only HTTP stub, work with the real
//! kubectl (`/usr/bin/kubectl`, which picks the kubectl matching `/version`'s minor, 1.33 here):
//! aggregated discovery, `kubectl explain` for a built-in and a CRD, `create -f` delegating
//! validation to the server (`fieldValidation=Strict`), and `kubectl create namespace`'s protobuf
//! body decoded by [`apiresources::protobuf::decode_protobuf`].
//!
//! The stub is test scaffolding only (the crate itself has no HTTP). When kubectl is not installed
//! the test says so and passes without checking (the machines this project runs on have it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use apiresources::discovery::{self, DiscoveryFormat};
use apiresources::openapi::OpenApiV3;
use apiresources::{Catalogue, ResourceInfo};
use serde_json::{Value, json};

/// One POST the stub received: path with query, content type, decoded object.
type Recorded = Arc<Mutex<Vec<(String, String, Value)>>>;

struct Served {
    resources: Vec<ResourceInfo>,
    openapi: OpenApiV3,
    posts: Recorded,
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "description": "A Widget is a test object.",
                    "properties": {"spec": {"type": "object", "description": "WidgetSpec is what the user wants.",
                        "properties": {"size": {"type": "integer", "description": "How big the widget is."}}}}}}}]}
    })
}

fn respond(stream: &mut TcpStream, code: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn handle(mut stream: TcpStream, served: &Served) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (mut accept, mut content_type, mut length) = (String::new(), String::new(), 0usize);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "accept" => accept = v.trim().to_string(),
                "content-type" => content_type = v.trim().to_string(),
                "content-length" => length = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let json_ok = |stream: &mut TcpStream, v: &Value| {
        respond(stream, 200, "application/json", v.to_string().as_bytes())
    };
    let r = &served.resources;
    let aggregated = discovery::negotiate(Some(&accept)) == DiscoveryFormat::AggregatedV2;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["version"]) => json_ok(
            &mut stream,
            &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"}),
        ),
        ("GET", ["api"]) if aggregated => respond(
            &mut stream,
            200,
            discovery::AGGREGATED_DISCOVERY_CONTENT_TYPE,
            discovery::aggregated_core(r).to_string().as_bytes(),
        ),
        ("GET", ["apis"]) if aggregated => respond(
            &mut stream,
            200,
            discovery::AGGREGATED_DISCOVERY_CONTENT_TYPE,
            discovery::aggregated_groups(r).to_string().as_bytes(),
        ),
        ("GET", ["api"]) => json_ok(&mut stream, &discovery::api_versions("127.0.0.1")),
        ("GET", ["apis"]) => json_ok(&mut stream, &discovery::api_group_list(r)),
        ("GET", ["api", v]) => match discovery::api_resource_list(r, "", v) {
            Some(doc) => json_ok(&mut stream, &doc),
            None => respond(&mut stream, 404, "application/json", b"{}"),
        },
        ("GET", ["apis", g, v]) => match discovery::api_resource_list(r, g, v) {
            Some(doc) => json_ok(&mut stream, &doc),
            None => respond(&mut stream, 404, "application/json", b"{}"),
        },
        ("GET", ["openapi", "v3"]) => json_ok(&mut stream, &served.openapi.root()),
        ("GET", ["openapi", "v3", rest @ ..]) => match served.openapi.document(&rest.join("/")) {
            Some(doc) => json_ok(&mut stream, doc),
            None => respond(&mut stream, 404, "application/json", b"{}"),
        },
        ("POST", _) => {
            let obj = if apiresources::protobuf::is_protobuf_content_type(&content_type) {
                apiresources::protobuf::decode_protobuf(&body)
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| apiresources::Error::Protobuf(e.to_string()))
            };
            match obj {
                Ok(obj) => {
                    served
                        .posts
                        .lock()
                        .unwrap()
                        .push((target.clone(), content_type, obj.clone()));
                    respond(
                        &mut stream,
                        201,
                        "application/json",
                        obj.to_string().as_bytes(),
                    );
                }
                Err(e) => {
                    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                        "message": e.to_string(), "reason": "BadRequest", "code": 400});
                    respond(
                        &mut stream,
                        400,
                        "application/json",
                        status.to_string().as_bytes(),
                    );
                }
            }
        }
        _ => {
            let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "message": "the server could not find the requested resource",
                                "reason": "NotFound", "code": 404});
            respond(
                &mut stream,
                404,
                "application/json",
                status.to_string().as_bytes(),
            );
        }
    }
}

fn kubectl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("kubectl")
        .args(["--kubeconfig", dir.join("kubeconfig").to_str().unwrap()])
        .args(["--cache-dir", dir.join("cache").to_str().unwrap()])
        .args(["--request-timeout", "60s"])
        .args(args)
        .output()
        .expect("run kubectl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn real_kubectl_discovers_explains_validates_and_sends_decodable_protobuf() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        panic!(
            "the real kubectl is needed (/usr/bin/kubectl on these machines); install it and re-run"
        );
    }
    let crd = widget_crd();
    let (cat, errors) = Catalogue::with_crds([&crd]);
    assert!(errors.is_empty());
    let served = Arc::new(Served {
        resources: cat.resources().to_vec(),
        openapi: OpenApiV3::build(cat.resources()),
        posts: Recorded::default(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    {
        let served = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = served.clone();
                std::thread::spawn(move || handle(stream, &served));
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kubeconfig"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"http://{addr}\"}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u, namespace: default}}}}]\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    let d = dir.path();

    let (ok, out) = kubectl(d, &["explain", "deployment.spec.replicas"]);
    assert!(ok && out.contains("Number of desired pods"), "{out}");
    let (ok, out) = kubectl(d, &["explain", "widget.spec.size"]);
    assert!(ok && out.contains("How big the widget is."), "{out}");
    let (ok, out) = kubectl(d, &["api-resources"]);
    assert!(
        ok && out.contains("deploy") && out.contains("example.com/v1"),
        "{out}"
    );

    let (ok, out) = kubectl(d, &["create", "namespace", "team-a"]);
    assert!(ok && out.contains("namespace/team-a created"), "{out}");
    let manifest = d.join("w.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n",
    )
    .unwrap();
    let (ok, out) = kubectl(d, &["create", "-f", manifest.to_str().unwrap()]);
    assert!(ok && out.contains("widget.example.com/w1 created"), "{out}");

    let posts = served.posts.lock().unwrap();
    let (target, ct, ns) = &posts[0];
    assert!(target.starts_with("/api/v1/namespaces?"), "{target}");
    assert_eq!(ct, apiresources::protobuf::PROTOBUF_CONTENT_TYPE);
    assert_eq!(
        *ns,
        json!({"kind": "Namespace", "apiVersion": "v1",
               "metadata": {"name": "team-a", "creationTimestamp": null}, "spec": {}, "status": {}})
    );
    let (target, ct, _) = &posts[1];
    assert!(
        target.contains("fieldValidation=Strict"),
        "kubectl delegated validation to the server: {target}"
    );
    assert_eq!(ct, "application/json");
}
