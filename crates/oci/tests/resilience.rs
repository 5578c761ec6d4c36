//! Interrupted pushes resume where the registry's upload status says and never re-send finished
//! blobs; content that does not match its digest is refused and nothing half-pushed is tagged.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use oci::copy::{CopyOptions, Dest, Location, Source, copy};
use oci::progress::{Event, Totals};
use rand::SeedableRng;

/// An image with four small layers and a 24 MiB incompressible one (last).
fn image_with_big_layer(dir: &std::path::Path) -> (oci::Digest, oci::BlobRef) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let l = oci::Layout::create(dir).unwrap();
    let mut layers: Vec<_> = (0..4)
        .map(|i| layer(&[(&format!("f{i}"), &random_bytes(2000, &mut rng))]))
        .collect();
    layers.push(layer(&[("big", &random_bytes(24 << 20, &mut rng))]));
    let big = oci::BlobRef {
        digest: oci::Digest::of(&layers[4].0),
        size: layers[4].0.len() as u64,
        media_type: oci::media::OCI_LAYER_GZIP.into(),
    };
    let m = write_image(&l, "amd64", &layers);
    l.set_ref(Some("v1"), &m).unwrap();
    (m.digest, big)
}

fn chunked(journal: &std::path::Path, attempts: u32) -> oci::Options {
    oci::Options {
        chunk_size: 4 << 20,
        max_attempts: attempts,
        resume_dir: Some(journal.to_path_buf()),
        ..insecure()
    }
}

async fn copy_with(
    src: &Location,
    dst: &Location,
    opts: &oci::Options,
    progress: oci::progress::Sink,
) -> oci::Result<oci::copy::CopyReport> {
    let s = Source::open(src, opts).await?;
    let d = Dest::open(dst, opts).await?;
    copy(
        &s,
        &d,
        &CopyOptions {
            parallel: 1,
            progress,
            ..Default::default()
        },
    )
    .await
}

#[tokio::test]
async fn push_interrupted_by_a_registry_crash_completes_on_rerun_without_resending_finished_blobs()
{
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let img = tmp.path().join("img");
    let (want, big) = image_with_big_layer(&img);
    let journal = tmp.path().join("journal");
    let src = Location::parse(&format!("oci:{}:v1", img.display())).unwrap();
    let dst = Location::parse(&format!("docker://{host}/app:v1")).unwrap();

    // Run 1, one blob at a time in manifest order: kill the registry (SIGKILL, by its pid) once
    // 10 MiB of the big last layer are out.
    let pid = reg.pid().unwrap();
    let killed = Arc::new(AtomicBool::new(false));
    let (k, big_digest) = (killed.clone(), big.digest.clone());
    let sink: oci::progress::Sink = Arc::new(move |e: &Event| {
        if let Event::BlobBytes { digest, done, .. } = e
            && *digest == big_digest
            && *done >= 10 << 20
            && !k.swap(true, Ordering::SeqCst)
        {
            std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        }
    });
    let e = copy_with(&src, &dst, &chunked(&journal, 1), sink)
        .await
        .unwrap_err();
    assert!(
        killed.load(Ordering::SeqCst),
        "the registry was killed mid-blob (copy ended with: {e})"
    );
    assert!(e.is_transient(), "a broken connection, not a refusal: {e}");

    // The registry comes back with the same data. distribution cancels a session whose data ends
    // past the last acknowledged chunk (a PATCH cut mid-way), so the big blob may restart; what
    // must hold is that the run completes and the finished blobs are not sent again.
    let reg = reg.restart(Duration::from_secs(30)).await.unwrap();
    let log = reg.log_path();
    let posts_before = count_requests(&log, "POST", "/blobs/uploads/");
    let totals = Arc::new(Totals::default());
    let r = copy_with(
        &src,
        &dst,
        &chunked(&journal, 5),
        totals.sink(oci::progress::none()),
    )
    .await
    .unwrap();
    assert_eq!(r.digest, want);
    assert_eq!(
        Totals::get(&totals.blobs_existing),
        5,
        "config and the four small layers were not sent again: {totals:?}"
    );
    assert_eq!(Totals::get(&totals.blobs_sent), 1, "{totals:?}");
    assert!(
        count_requests(&log, "POST", "/blobs/uploads/") - posts_before <= 1,
        "at most the big blob's session was started again"
    );
    assert_eq!(skopeo_digest(&format!("docker://{host}/app:v1")), want);
}

/// A layout blob whose reads fail once `fail_at` bytes have been read (a disk or network source
/// breaking off): the PATCH in flight is aborted before any of its bytes reach the registry.
struct BreaksAt {
    inner: oci::layout::FileBlob,
    fail_at: u64,
}

impl oci::upload::BlobSource for BreaksAt {
    fn open(
        &self,
        offset: u64,
    ) -> futures::future::BoxFuture<'_, oci::Result<oci::upload::BoxRead>> {
        Box::pin(async move {
            use tokio::io::AsyncReadExt;
            let good = self
                .inner
                .open(offset)
                .await?
                .take(self.fail_at.saturating_sub(offset));
            let broken = tokio_util::io::StreamReader::new(futures::stream::iter(vec![Err::<
                bytes::Bytes,
                _,
            >(
                std::io::Error::other("source broke off"),
            )]));
            Ok(Box::pin(good.chain(broken)) as oci::upload::BoxRead)
        })
    }
}

#[tokio::test]
async fn upload_broken_off_between_chunks_resumes_from_the_registry_upload_status() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let img = tmp.path().join("img");
    let (want, big) = image_with_big_layer(&img);
    let journal = tmp.path().join("journal");
    let layout = oci::Layout::open(&img).unwrap();

    // Run 1: the big blob alone; its source breaks after two 4 MiB chunks.
    let client = oci::Registry::connect(&host, chunked(&journal, 5))
        .await
        .unwrap();
    let src = BreaksAt {
        inner: layout.blob_source(&big),
        fail_at: 8 << 20,
    };
    let e = oci::upload::push_blob(&client, "app", &big, &src, None, &oci::progress::none())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("source broke off"), "{e}");
    assert!(
        client
            .blob_size("app", &big.digest)
            .await
            .unwrap()
            .is_none()
    );

    // Run 2 (a new process would read the same journal): the whole image.
    let log = reg.log_path();
    let (posts, patches) = (
        count_requests(&log, "POST", "/blobs/uploads/"),
        count_requests(&log, "PATCH", "/blobs/uploads/"),
    );
    let totals = Arc::new(Totals::default());
    let src = Location::parse(&format!("oci:{}:v1", img.display())).unwrap();
    let dst = Location::parse(&format!("docker://{host}/app:v1")).unwrap();
    let r = copy_with(
        &src,
        &dst,
        &chunked(&journal, 5),
        totals.sink(oci::progress::none()),
    )
    .await
    .unwrap();
    assert_eq!(r.digest, want);
    assert_eq!(Totals::get(&totals.blobs_resumed), 1, "{totals:?}");
    let big_posts = count_requests(&log, "POST", "/blobs/uploads/") - posts;
    assert_eq!(
        big_posts, 5,
        "one new session per small blob, none for the resumed big one"
    );
    let remaining = big.size - (8 << 20);
    let new_patches = count_requests(&log, "PATCH", "/blobs/uploads/") - patches;
    assert_eq!(
        new_patches as u64,
        remaining.div_ceil(4 << 20),
        "only the chunks after the first 8 MiB were sent"
    );
    assert!(Totals::get(&totals.bytes_sent) < big.size, "{totals:?}");
    assert_eq!(skopeo_digest(&format!("docker://{host}/app:v1")), want);
    assert!(
        std::fs::read_dir(&journal).unwrap().next().is_none(),
        "the journal forgets finished uploads"
    );
}

#[tokio::test]
async fn a_blob_not_matching_its_digest_is_refused_and_nothing_is_tagged() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let img = tmp.path().join("img");
    make_image(
        &img,
        "v1",
        2,
        5000,
        &mut rand::rngs::StdRng::seed_from_u64(8),
    );
    let l = oci::Layout::open(&img).unwrap();
    let m = l.read_manifest(&l.resolve(Some("v1")).unwrap()).unwrap();
    let victim = m.blob_refs().unwrap()[2].clone();
    let path = l.blob_path(&victim.digest);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();

    for chunk_size in [64 << 20, 1024] {
        let opts = oci::Options {
            chunk_size,
            ..insecure()
        };
        let s = Source::open(
            &Location::parse(&format!("oci:{}:v1", img.display())).unwrap(),
            &opts,
        )
        .await
        .unwrap();
        let d = Dest::open(
            &Location::parse(&format!("docker://{host}/bad:v1")).unwrap(),
            &opts,
        )
        .await
        .unwrap();
        let e = copy(&s, &d, &CopyOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("blob {} does not match its digest", victim.digest)),
            "chunk size {chunk_size}: {e}"
        );
    }
    let client = oci::Registry::connect(&host, insecure()).await.unwrap();
    assert!(
        client
            .blob_size("bad", &victim.digest)
            .await
            .unwrap()
            .is_none(),
        "the bad blob is not in the registry"
    );
    let e = client.get_manifest("bad", "v1").await.unwrap_err();
    assert!(
        matches!(e, oci::Error::NotFound { .. }),
        "no tag for a half-pushed image: {e}"
    );
}

#[tokio::test]
async fn manifests_can_be_fetched_listed_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry(&tmp.path().join("reg")).await;
    let host = reg.host();
    let img = tmp.path().join("img");
    let want = make_image(
        &img,
        "v1",
        1,
        100,
        &mut rand::rngs::StdRng::seed_from_u64(9),
    );
    for tag in ["v1", "v2"] {
        let s = Source::open(
            &Location::parse(&format!("oci:{}:v1", img.display())).unwrap(),
            &insecure(),
        )
        .await
        .unwrap();
        let d = Dest::open(
            &Location::parse(&format!("docker://{host}/x:{tag}")).unwrap(),
            &insecure(),
        )
        .await
        .unwrap();
        copy(&s, &d, &CopyOptions::default()).await.unwrap();
    }
    let c = oci::Registry::connect(&host, insecure()).await.unwrap();
    let mut tags = c.tags("x").await.unwrap();
    tags.sort();
    assert_eq!(tags, vec!["v1", "v2"]);
    assert_eq!(c.head_manifest("x", "v2").await.unwrap().unwrap().0, want);
    // docker-registry 2.8 does not offer the referrers API: reported as None, not as an error.
    assert!(c.referrers("x", &want).await.unwrap().is_none());
    c.delete_manifest("x", &want).await.unwrap();
    assert!(c.head_manifest("x", "v1").await.unwrap().is_none());
    assert!(matches!(
        c.get_manifest("x", &want.to_string()).await.unwrap_err(),
        oci::Error::NotFound { .. }
    ));
}
