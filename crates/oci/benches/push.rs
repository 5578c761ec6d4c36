//! Push/pull benchmark against a loopback docker-registry, side by side in one run:
//! ten images as OCI layouts with shared base layers (random, incompressible data), pushed cold
//! and again warm, and pulled back — by this crate and by `skopeo copy` one image after another —
//! and the raw limit: one blob of the same total size uploaded with curl. Then the peak RSS of
//! this process while pushing one large blob. Prints its figures.
//!
//! Sizes: OCI_BENCH_MB (default 500, total of the ten images), OCI_BENCH_BIG_MB (default 2048).
//! Run: `cargo bench -p oci --bench push`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oci::copy::{CopyOptions, Dest, Location, Source, copy};
use oci::localregistry::{Config, LocalRegistry};
use oci::manifest::media;
use oci::{BlobRef, Digest, Layout};
use rand::RngCore;
use serde_json::json;

const IMAGES: usize = 10;

fn env_mb(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes `size` random bytes as a blob in the layout, hashing as it goes (bounded memory).
fn random_blob(l: &Layout, size: u64, media_type: &str, rng: &mut impl RngCore) -> BlobRef {
    use std::io::Write;
    let tmp = l.root().join("blobs/sha256/.gen");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    let mut h = oci::digest::Hasher::new(oci::digest::Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        h.update(&buf[..n]);
        f.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
    let b = BlobRef {
        digest: h.finish(),
        size,
        media_type: media_type.into(),
    };
    std::fs::rename(&tmp, l.blob_path(&b.digest)).unwrap();
    b
}

fn small_blob(l: &Layout, data: &[u8], media_type: &str) -> BlobRef {
    let b = BlobRef {
        digest: Digest::of(data),
        size: data.len() as u64,
        media_type: media_type.into(),
    };
    std::fs::write(l.blob_path(&b.digest), data).unwrap();
    b
}

fn desc(b: &BlobRef) -> serde_json::Value {
    json!({"mediaType": b.media_type, "digest": b.digest.to_string(), "size": b.size})
}

/// Ten images: a shared 30% base (three layers) and an own layer each.
fn generate(dir: &Path, total: u64) -> u64 {
    let mut rng = rand::rngs::OsRng;
    let l = Layout::create(dir).unwrap();
    let base_total = total * 3 / 10;
    let base: Vec<BlobRef> = (0..3)
        .map(|_| random_blob(&l, base_total / 3, media::OCI_LAYER_GZIP, &mut rng))
        .collect();
    let own_size = (total - base_total) / IMAGES as u64;
    let mut bytes = base.iter().map(|b| b.size).sum::<u64>();
    for i in 0..IMAGES {
        let own = random_blob(&l, own_size, media::OCI_LAYER_GZIP, &mut rng);
        bytes += own.size;
        let config = small_blob(
            &l,
            format!(
                r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"n":"{i}"}}}}}}"#
            )
            .as_bytes(),
            media::OCI_CONFIG,
        );
        let layers: Vec<_> = base.iter().chain(std::iter::once(&own)).map(desc).collect();
        let m = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": desc(&config), "layers": layers});
        let m = small_blob(&l, &serde_json::to_vec(&m).unwrap(), media::OCI_MANIFEST);
        l.set_ref(Some(&format!("img{i}")), &m).unwrap();
    }
    bytes
}

async fn ours_all(src: impl Fn(usize) -> String, dst: impl Fn(usize) -> String) -> Duration {
    let opts = oci::Options {
        tls_verify: false,
        ..Default::default()
    };
    let t = Instant::now();
    // One connection per side, as a user's single `copy` of a set of images would hold.
    let first_dst = Location::parse(&dst(0)).unwrap();
    let shared_dst = match &first_dst {
        Location::Registry(r) => Some(Arc::new(
            oci::Registry::connect(r.api_host(), opts.clone())
                .await
                .unwrap(),
        )),
        _ => None,
    };
    let first_src = Location::parse(&src(0)).unwrap();
    let shared_src = match &first_src {
        Location::Registry(r) => Some(Arc::new(
            oci::Registry::connect(r.api_host(), opts.clone())
                .await
                .unwrap(),
        )),
        _ => None,
    };
    for i in 0..IMAGES {
        let s = match (Location::parse(&src(i)).unwrap(), &shared_src) {
            (Location::Registry(r), Some(reg)) => Source::Registry {
                registry: reg.clone(),
                reference: r,
            },
            (loc, _) => Source::open(&loc, &opts).await.unwrap(),
        };
        let d = match (Location::parse(&dst(i)).unwrap(), &shared_dst) {
            (Location::Registry(r), Some(reg)) => Dest::Registry {
                registry: reg.clone(),
                reference: r,
            },
            (loc, _) => Dest::open(&loc, &opts).await.unwrap(),
        };
        copy(
            &s,
            &d,
            &CopyOptions {
                parallel: 4,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    t.elapsed()
}

fn skopeo_all(src: impl Fn(usize) -> String, dst: impl Fn(usize) -> String) -> Duration {
    let t = Instant::now();
    for i in 0..IMAGES {
        let out = Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                &src(i),
                &dst(i),
            ])
            .output()
            .expect("skopeo is installed (scripts/setup)");
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    t.elapsed()
}

async fn start_registry(dir: &Path) -> LocalRegistry {
    LocalRegistry::start(
        Config {
            dir: dir.to_path_buf(),
            ..Default::default()
        },
        Duration::from_secs(30),
    )
    .await
    .expect("docker-registry is installed (scripts/setup)")
}

/// One blob of `size` bytes uploaded with curl in one PUT: the loopback registry's raw limit.
fn curl_upload(host: &str, file: &Path, digest: &Digest) -> Duration {
    let t = Instant::now();
    let out = Command::new("curl")
        .args([
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            &format!("http://{host}/v2/raw/blobs/uploads/"),
        ])
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout);
    let loc = headers
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .expect("upload location")
        .trim()
        .to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let url = format!("{loc}{sep}digest={digest}");
    let out = Command::new("curl")
        .args([
            "-s",
            "-f",
            "-o",
            "/dev/null",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl PUT failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let total = env_mb("OCI_BENCH_MB", 500) << 20;
    let big = env_mb("OCI_BENCH_BIG_MB", 2048) << 20;
    let tmp =
        tempfile::tempdir_in(std::env::var("OCI_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))
            .unwrap();
    let layout = tmp.path().join("layout");
    let bytes = generate(&layout, total);
    println!(
        "images: {IMAGES}, unique blob bytes: {:.0} MiB (30% shared base)",
        bytes as f64 / (1 << 20) as f64
    );

    let reg_ours = start_registry(&tmp.path().join("reg-ours")).await;
    let reg_sk = start_registry(&tmp.path().join("reg-skopeo")).await;
    let (ho, hs) = (reg_ours.host(), reg_sk.host());
    let src = |i: usize| format!("oci:{}:img{i}", layout.display());

    let ours_cold = ours_all(src, |i| format!("docker://{ho}/bench/img{i}")).await;
    let ours_warm = ours_all(src, |i| format!("docker://{ho}/bench/img{i}")).await;
    let pull_dir = tmp.path().join("pull-ours");
    let ours_pull = ours_all(
        |i| format!("docker://{ho}/bench/img{i}"),
        |i| format!("oci:{}:img{i}", pull_dir.display()),
    )
    .await;

    let sk_cold = skopeo_all(src, |i| format!("docker://{hs}/bench/img{i}"));
    let sk_warm = skopeo_all(src, |i| format!("docker://{hs}/bench/img{i}"));
    let pull_sk = tmp.path().join("pull-skopeo");
    let sk_pull = skopeo_all(
        |i| format!("docker://{hs}/bench/img{i}"),
        |i| format!("oci:{}:img{i}", pull_sk.display()),
    );

    // Raw limit: one blob of the same unique size, one curl PUT.
    let raw_layout = Layout::create(&tmp.path().join("raw")).unwrap();
    let raw = random_blob(&raw_layout, bytes, media::OCI_LAYER, &mut rand::rngs::OsRng);
    let reg_raw = start_registry(&tmp.path().join("reg-raw")).await;
    let curl = curl_upload(
        &reg_raw.host(),
        &raw_layout.blob_path(&raw.digest),
        &raw.digest,
    );

    println!(
        "push cold : ours {:>7.2}s ({:>6.1} MiB/s) | skopeo {:>7.2}s ({:>6.1} MiB/s) | ours/skopeo speed-up {:.2}x",
        ours_cold.as_secs_f64(),
        mbps(bytes, ours_cold),
        sk_cold.as_secs_f64(),
        mbps(bytes, sk_cold),
        sk_cold.as_secs_f64() / ours_cold.as_secs_f64()
    );
    println!(
        "push warm : ours {:>7.2}s | skopeo {:>7.2}s | speed-up {:.2}x",
        ours_warm.as_secs_f64(),
        sk_warm.as_secs_f64(),
        sk_warm.as_secs_f64() / ours_warm.as_secs_f64()
    );
    println!(
        "pull      : ours {:>7.2}s ({:>6.1} MiB/s) | skopeo {:>7.2}s ({:>6.1} MiB/s) | speed-up {:.2}x",
        ours_pull.as_secs_f64(),
        mbps(bytes, ours_pull),
        sk_pull.as_secs_f64(),
        mbps(bytes, sk_pull),
        sk_pull.as_secs_f64() / ours_pull.as_secs_f64()
    );
    println!(
        "raw limit : curl one {:.0} MiB blob {:>7.2}s ({:>6.1} MiB/s); ours cold reaches {:.0}% of it",
        bytes as f64 / (1 << 20) as f64,
        curl.as_secs_f64(),
        mbps(bytes, curl),
        100.0 * mbps(bytes, ours_cold) / mbps(bytes, curl)
    );
    drop(raw_layout);

    // Peak RSS while pushing one big blob (sampled every 10 ms by a thread).
    let big_dir = tmp.path().join("big");
    let bl = Layout::create(&big_dir).unwrap();
    let b = random_blob(&bl, big, media::OCI_LAYER, &mut rand::rngs::OsRng);
    let cfg = small_blob(
        &bl,
        br#"{"architecture":"amd64","os":"linux"}"#,
        media::OCI_CONFIG,
    );
    let m = small_blob(&bl, &serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": desc(&cfg), "layers": [desc(&b)]})).unwrap(), media::OCI_MANIFEST);
    bl.set_ref(Some("big"), &m).unwrap();
    let before = rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let (p2, d2) = (peak.clone(), done.clone());
    let sampler = std::thread::spawn(move || {
        while !d2.load(Ordering::Relaxed) {
            p2.fetch_max(rss_kib(), Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let t = ours_all(
        |_| format!("oci:{}:big", big_dir.display()),
        |i| format!("docker://{ho}/big/b{i}"),
    )
    .await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    // ours_all copies ten times; the first uploads, the rest mount: time the whole and report RSS.
    println!(
        "big blob  : {:.0} MiB pushed in {:.2}s ({:.1} MiB/s); RSS before {:.1} MiB, peak while pushing {:.1} MiB",
        big as f64 / (1 << 20) as f64,
        t.as_secs_f64(),
        mbps(big, t),
        before as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
}
