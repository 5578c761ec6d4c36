//! Images survive copies between skopeo and us through a real docker-registry with every digest
//! intact: single images and multi-arch indexes, in both directions, plus docker-archive input.

mod common;

use common::*;
use oci::copy::{CopyOptions, Dest, Location, Source, copy};
use rand::SeedableRng;

async fn ours(src: &str, dst: &str) -> oci::copy::CopyReport {
    let opts = insecure();
    let s = Source::open(&Location::parse(src).unwrap(), &opts)
        .await
        .unwrap();
    let d = Dest::open(&Location::parse(dst).unwrap(), &opts)
        .await
        .unwrap();
    copy(&s, &d, &CopyOptions::default()).await.unwrap()
}

#[tokio::test]
async fn skopeo_layout_pushed_by_us_comes_back_through_skopeo_with_identical_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let gen_dir = tmp.path().join("gen");
    make_image(&gen_dir, "v1", 3, 100_000, &mut rng);

    // skopeo writes the layout we push.
    let skopeo_dir = tmp.path().join("by-skopeo");
    skopeo(&[
        "copy",
        &format!("oci:{}:v1", gen_dir.display()),
        &format!("oci:{}:v1", skopeo_dir.display()),
    ]);
    let want = read_top(&skopeo_dir, "v1").digest;

    let report = ours(
        &format!("oci:{}:v1", skopeo_dir.display()),
        &format!("docker://{host}/app:v1"),
    )
    .await;
    assert_eq!(report.digest, want);
    assert_eq!(
        skopeo_digest(&format!("docker://{host}/app:v1")),
        want,
        "the registry serves the same manifest bytes"
    );

    let back = tmp.path().join("back");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--preserve-digests",
        &format!("docker://{host}/app:v1"),
        &format!("oci:{}:v1", back.display()),
    ]);
    assert_eq!(read_top(&back, "v1").digest, want);
    assert_eq!(
        layout_digests(&back),
        layout_digests(&skopeo_dir),
        "every blob arrived unchanged"
    );
}

#[tokio::test]
async fn skopeo_push_pulled_by_us_into_a_layout_skopeo_reads_with_identical_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let gen_dir = tmp.path().join("gen");
    let want = make_image(&gen_dir, "v2", 2, 50_000, &mut rng);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--preserve-digests",
        &format!("oci:{}:v2", gen_dir.display()),
        &format!("docker://{host}/lib/app:v2"),
    ]);

    let ours_dir = tmp.path().join("ours");
    let report = ours(
        &format!("docker://{host}/lib/app:v2"),
        &format!("oci:{}:v2", ours_dir.display()),
    )
    .await;
    assert_eq!(report.digest, want);
    assert_eq!(layout_digests(&ours_dir), layout_digests(&gen_dir));
    // skopeo reads our layout and pushes it again: same digest.
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--preserve-digests",
        &format!("oci:{}:v2", ours_dir.display()),
        &format!("docker://{host}/again:v2"),
    ]);
    assert_eq!(skopeo_digest(&format!("docker://{host}/again:v2")), want);
}

#[tokio::test]
async fn multi_arch_index_survives_both_directions() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let gen_dir = tmp.path().join("gen");
    let want = make_index(&gen_dir, "multi", &mut rng);

    // us → registry → skopeo --all → layout
    let r = ours(
        &format!("oci:{}:multi", gen_dir.display()),
        &format!("docker://{host}/multi:1"),
    )
    .await;
    assert_eq!((r.digest.clone(), r.images), (want.clone(), 2));
    let back = tmp.path().join("back");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &format!("docker://{host}/multi:1"),
        &format!("oci:{}:multi", back.display()),
    ]);
    assert_eq!(read_top(&back, "multi").digest, want);
    assert_eq!(layout_digests(&back), layout_digests(&gen_dir));

    // skopeo --all → registry → us → layout
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci:{}:multi", gen_dir.display()),
        &format!("docker://{host}/multi2:1"),
    ]);
    let ours_dir = tmp.path().join("ours");
    let r = ours(
        &format!("docker://{host}/multi2:1"),
        &format!("oci:{}:multi", ours_dir.display()),
    )
    .await;
    assert_eq!(r.digest, want);
    assert_eq!(layout_digests(&ours_dir), layout_digests(&gen_dir));

    // One platform out of the index: the arm64 image alone.
    let one = tmp.path().join("one");
    let s = Source::open(
        &Location::parse(&format!("docker://{host}/multi2:1")).unwrap(),
        &insecure(),
    )
    .await
    .unwrap();
    let d = Dest::open(
        &Location::parse(&format!("oci:{}:arm", one.display())).unwrap(),
        &insecure(),
    )
    .await
    .unwrap();
    let opts = CopyOptions {
        platform: Some(oci::Platform::parse("linux/arm64").unwrap()),
        ..Default::default()
    };
    let r = copy(&s, &d, &opts).await.unwrap();
    assert_eq!(r.images, 1);
    assert!(!read_top(&one, "arm").is_index());
}

#[tokio::test]
async fn docker_archive_pushed_by_us_is_read_back_by_skopeo() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let gen_dir = tmp.path().join("gen");
    make_image(&gen_dir, "v1", 2, 10_000, &mut rng);
    let archive = tmp.path().join("img.tar");
    skopeo(&[
        "copy",
        &format!("oci:{}:v1", gen_dir.display()),
        &format!("docker-archive:{}:example/app:v1", archive.display()),
    ]);

    let r = ours(
        &format!("docker-archive:{}", archive.display()),
        &format!("docker://{host}/fromarchive:v1"),
    )
    .await;
    assert_eq!(r.blobs, 3);
    assert_eq!(
        skopeo_digest(&format!("docker://{host}/fromarchive:v1")),
        r.digest
    );
    let cfg = skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{host}/fromarchive:v1"),
    ]);
    assert!(cfg.contains("\"architecture\": \"amd64\""), "{cfg}");
}
