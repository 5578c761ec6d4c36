//! The supervised registry comes back on the same port with the same data after it is killed,
//! and is gone after shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use oci::localregistry::{Config, Supervisor};
use rand::SeedableRng;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_registry_is_restarted_with_its_data_and_stopped_on_shutdown() {
    require(oci::localregistry::BINARY);
    let tmp = tempfile::tempdir().unwrap();
    let sup = Supervisor::start(
        Config {
            dir: tmp.path().join("registry"),
            ..Default::default()
        },
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let host = sup.host().to_string();
    let img = tmp.path().join("img");
    let want = make_image(
        &img,
        "v1",
        1,
        1000,
        &mut rand::rngs::StdRng::seed_from_u64(11),
    );
    let s = oci::copy::Source::open(
        &oci::copy::Location::parse(&format!("oci:{}:v1", img.display())).unwrap(),
        &insecure(),
    )
    .await
    .unwrap();
    let d = oci::copy::Dest::open(
        &oci::copy::Location::parse(&format!("docker://{host}/kept:v1")).unwrap(),
        &insecure(),
    )
    .await
    .unwrap();
    oci::copy::copy(&s, &d, &Default::default()).await.unwrap();

    let first = sup.pid();
    std::process::Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .unwrap();
    // Poll until a new process answers on the same port with the image still there.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let back = oci::Registry::connect(&host, insecure()).await;
        if let Ok(r) = back
            && sup.pid() != first
        {
            assert_eq!(r.get_manifest("kept", "v1").await.unwrap().digest, want);
            break;
        }
        assert!(Instant::now() < deadline, "the registry did not come back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = sup.pid();
    sup.shutdown().await;
    assert!(
        !std::path::Path::new(&format!("/proc/{last}")).exists()
            || std::fs::read_to_string(format!("/proc/{last}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true),
        "stopped on shutdown"
    );
    assert!(
        oci::Registry::connect(
            &host,
            oci::Options {
                max_attempts: 1,
                ..insecure()
            }
        )
        .await
        .is_err()
    );
}
