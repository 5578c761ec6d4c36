//! Real protobuf bodies recorded from kubectl v1.33 decode to exactly the JSON kubectl itself
//! prints for the same object (see `tests/fixtures/kubectl-1.33/README.md`).

use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from("tests/fixtures/kubectl-1.33")
}

#[test]
fn every_recorded_kubectl_create_body_decodes_to_kubectls_own_json() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixtures directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    entries.sort();
    for pb in entries {
        let bytes = std::fs::read(&pb).unwrap();
        assert!(
            bytes.starts_with(b"k8s\0"),
            "{} is a Kubernetes protobuf body",
            pb.display()
        );
        let decoded = apiresources::protobuf::decode_protobuf(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", pb.display()));
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(pb.with_extension("json")).unwrap()).unwrap();
        assert_eq!(decoded, expected, "{}", pb.display());
        checked += 1;
    }
    assert_eq!(checked, 14, "all recorded bodies were checked");
}

#[test]
fn recorded_bodies_pass_strict_decoding_and_get_defaults() {
    let bytes = std::fs::read(fixtures().join("deployment.pb")).unwrap();
    let mut obj = apiresources::protobuf::decode_protobuf(&bytes).unwrap();
    let gvk = apiresources::Gvk::of_object(&obj).unwrap();
    assert!(apiresources::strict::check(&gvk, &obj).is_clean());
    apiresources::defaults::apply_defaults(&gvk, &mut obj);
    assert_eq!(obj["spec"]["replicas"], 3);
    assert_eq!(obj["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    let zero = std::fs::read(fixtures().join("deployment-zero-replicas.pb")).unwrap();
    let mut obj = apiresources::protobuf::decode_protobuf(&zero).unwrap();
    apiresources::defaults::apply_defaults(&gvk, &mut obj);
    assert_eq!(
        obj["spec"]["replicas"], 0,
        "an explicit 0 is not defaulted to 1"
    );
}
