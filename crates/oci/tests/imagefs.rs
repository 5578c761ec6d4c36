//! An image's files read straight from a registry through its layers (no root filesystem on disk):
//! a catalog-like image whose upper layer replaces and deletes files of the lower one.

mod common;

use common::*;
use oci::copy::{Location, Source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_configs_are_read_from_registry_layers_with_whiteouts_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let dir = tmp.path().join("img");
    let l = oci::Layout::create(&dir).unwrap();
    let lower = layer(&[
        (
            "configs/etcd/catalog.json",
            b"{\"schema\":\"olm.package\",\"name\":\"etcd\"}",
        ),
        ("configs/old/catalog.json", b"{}"),
        ("bin/opm", b"ELF"),
    ]);
    let upper = layer(&[
        ("configs/.wh.old", b""),
        (
            "configs/redis/catalog.json",
            b"{\"schema\":\"olm.package\",\"name\":\"redis\"}",
        ),
    ]);
    let m = write_image(&l, "amd64", &[lower, upper]);
    l.set_ref(Some("v1"), &m).unwrap();
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", dir.display()),
        &format!("docker://{host}/catalog:v1"),
    ]);

    let src = Source::open(
        &Location::parse(&format!("docker://{host}/catalog:v1")).unwrap(),
        &insecure(),
    )
    .await
    .unwrap();
    let fs = oci::fs::open(
        &src,
        &oci::Platform::host(),
        &["/configs"],
        oci::fs::Limits::default(),
    )
    .await
    .unwrap();
    let names: Vec<String> = fs
        .read_dir("/configs")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        vec!["etcd", "redis"],
        "the upper layer's whiteout hides configs/old"
    );
    assert_eq!(
        fs.read_file("/configs/redis/catalog.json").unwrap(),
        br#"{"schema":"olm.package","name":"redis"}"#
    );
    assert_eq!(fs.walk_files("/configs").len(), 2);
    assert!(
        fs.read_file("/bin/opm").is_err(),
        "only the kept prefix is held in memory"
    );

    // A size limit smaller than a layer refuses it, naming the layer.
    let e = oci::fs::open(
        &src,
        &oci::Platform::host(),
        &[],
        oci::fs::Limits {
            max_layer_bytes: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("layer sha256:") && e.contains("limit of 100 bytes"),
        "{e}"
    );
}
