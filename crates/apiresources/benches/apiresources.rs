//! Figures for the work the API server does per request or per catalogue change:
//! OpenAPI v3 document build (on every CRD change), the `/openapi/v2` document (JSON + gnostic
//! protobuf, built on the first v2 request after a CRD change), discovery documents, protobuf body decoding,
//! strict decoding and defaulting of a built-in. Run with `cargo bench -p apiresources`;
//! prints one line per operation (mean over N iterations, wall clock).

use std::hint::black_box;
use std::time::Instant;

fn measure(name: &str, iterations: u32, mut f: impl FnMut()) {
    f(); // warm up (lazy statics)
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per = start.elapsed() / iterations;
    println!("{name:<48} {per:>12.2?} per op  ({iterations} iterations)");
}

fn main() {
    let crd: serde_json::Value = serde_json::json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}
    });
    let (cat, _) = apiresources::Catalogue::with_crds([&crd]);
    let resources = cat.resources();
    measure("openapi::OpenApiV3::build (all GVs)", 20, || {
        black_box(apiresources::openapi::OpenApiV3::build(black_box(
            resources,
        )));
    });
    let v3 = apiresources::openapi::OpenApiV3::build(resources);
    measure(
        "openapi::v2::OpenApiV2::build (JSON + protobuf)",
        20,
        || {
            black_box(apiresources::openapi::v2::OpenApiV2::build(black_box(&v3)).unwrap());
        },
    );
    let v2 = apiresources::openapi::v2::OpenApiV2::build(&v3).unwrap();
    println!(
        "{:<48} {:>9} KB JSON, {} KB protobuf",
        "openapi::v2 document size",
        v2.json.bytes.len() / 1024,
        v2.protobuf.bytes.len() / 1024
    );
    measure("discovery::aggregated_groups", 2000, || {
        black_box(apiresources::discovery::aggregated_groups(black_box(
            resources,
        )));
    });
    let fixtures = std::path::PathBuf::from("tests/fixtures/kubectl-1.33");
    let deployment_pb = std::fs::read(fixtures.join("deployment.pb")).expect("fixture");
    measure(
        "protobuf::decode_protobuf (kubectl Deployment)",
        20_000,
        || {
            black_box(apiresources::protobuf::decode_protobuf(black_box(&deployment_pb)).unwrap());
        },
    );
    let deployment = apiresources::protobuf::decode_protobuf(&deployment_pb).unwrap();
    let gvk = apiresources::Gvk::of_object(&deployment).unwrap();
    measure("strict::check (Deployment)", 20_000, || {
        black_box(apiresources::strict::check(&gvk, black_box(&deployment)));
    });
    measure("defaults::apply_defaults (Deployment)", 20_000, || {
        let mut d = deployment.clone();
        apiresources::defaults::apply_defaults(&gvk, &mut d);
        black_box(d);
    });
}
