//! Push benchmark: a package of 10 images (500 MB of unique blobs by default, two base layers
//! shared by every image) pushed to a loopback Debian `docker-registry` by `violet push`, side by
//! side with `skopeo copy` of the same OCI layouts one by one to a second fresh registry, cold and
//! re-push; and the loopback limit measured as plain curl uploads: one large blob, then four at once.
//! Prints its figures. `VIOLET_BENCH_MB` changes the total size; `VIOLET_BENCH_KEEP=1` keeps the files.
//!
//! Run: `cargo bench -p violet --bench push` (needs docker-registry, skopeo, curl: scripts/setup).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oci::localregistry::{self, LocalRegistry};
use oci::manifest::media;
use oci::{Digest, Layout, RawManifest};
use serde_json::json;

fn require(tool: &str) -> PathBuf {
    localregistry::which(tool)
        .unwrap_or_else(|| panic!("{tool} is not installed: run scripts/setup"))
}

fn random_file(path: &Path, n: usize, seed: u64) -> Digest {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    std::fs::write(path, &v).unwrap();
    Digest::of(&v)
}

/// An image of `layers` (size, seed) in a new layout, tagged v1. Layer bytes are random (the copy
/// engines move blobs without unpacking them).
fn image(dir: &Path, layers: &[(usize, u64)], cache: &Path) -> Digest {
    let l = Layout::create(dir).unwrap();
    let mut descs = vec![];
    for &(n, seed) in layers {
        let cached = cache.join(format!("{seed}-{n}"));
        let d = if cached.exists() {
            Digest::of(&std::fs::read(&cached).unwrap())
        } else {
            random_file(&cached, n, seed)
        };
        let dst = l.blob_path(&d);
        if !dst.exists() {
            std::fs::hard_link(&cached, &dst)
                .or_else(|_| std::fs::copy(&cached, &dst).map(|_| ()))
                .unwrap();
        }
        descs.push(json!({"mediaType": media::OCI_LAYER_GZIP, "digest": d.to_string(), "size": n}));
    }
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "seed": layers[layers.len() - 1].1})).unwrap();
    std::fs::write(l.blob_path(&Digest::of(&config)), &config).unwrap();
    let m = json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": Digest::of(&config).to_string(), "size": config.len()},
        "layers": descs});
    let raw = RawManifest::parse(serde_json::to_vec(&m).unwrap(), None).unwrap();
    let d = l.write_manifest(&raw).unwrap();
    l.set_ref(Some("v1"), &d).unwrap();
    raw.digest
}

fn run(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

fn violet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_violet"));
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("violet-bench-cache"),
    );
    c
}

async fn registry(dir: &Path) -> LocalRegistry {
    let cfg = localregistry::Config {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .unwrap()
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// One monolithic upload of `file` with curl (POST a session, PUT the bytes): the loopback limit.
fn raw_upload(host: &str, file: &Path, digest: &Digest) -> Duration {
    let t = Instant::now();
    raw_put(host, file, digest).wait_ok();
    t.elapsed()
}

/// The same limit with `files` uploaded at once, one curl each (violet uploads in parallel).
fn raw_upload_parallel(host: &str, files: &[(PathBuf, Digest)]) -> Duration {
    let t = Instant::now();
    let puts: Vec<_> = files.iter().map(|(f, d)| raw_put(host, f, d)).collect();
    for p in puts {
        p.wait_ok();
    }
    t.elapsed()
}

trait WaitOk {
    fn wait_ok(self);
}

impl WaitOk for std::process::Child {
    fn wait_ok(self) {
        let out = self.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "curl PUT: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Starts a session and, in a child process, the PUT of the whole file.
fn raw_put(host: &str, file: &Path, digest: &Digest) -> std::process::Child {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-X",
            "POST",
            "-D",
            "-",
            "-o",
            "/dev/null",
            &format!("http://{host}/v2/raw/blobs/uploads/"),
        ])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout);
    let loc = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .expect("upload location")
        .trim()
        .to_string();
    let url = if loc.starts_with("http") {
        loc
    } else {
        format!("http://{host}{loc}")
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    Command::new("curl")
        .args([
            "-sS",
            "-f",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{url}{sep}digest={digest}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

enum Kept {
    Temp(tempfile::TempDir),
    Dir(PathBuf),
}

impl Kept {
    fn path(&self) -> &Path {
        match self {
            Kept::Temp(t) => t.path(),
            Kept::Dir(d) => d,
        }
    }
}

#[tokio::main]
async fn main() {
    for t in [localregistry::BINARY, "skopeo", "curl"] {
        require(t);
    }
    let total_mb: usize = std::env::var("VIOLET_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let tmp = tempfile::tempdir_in(
        std::env::var("VIOLET_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()),
    )
    .unwrap();
    // VIOLET_BENCH_KEEP=1 keeps the layouts, the package and the registries' data for a look.
    let tmp = if std::env::var_os("VIOLET_BENCH_KEEP").is_some() {
        let kept = tmp.keep();
        println!("keeping {}", kept.display());
        Kept::Dir(kept)
    } else {
        Kept::Temp(tmp)
    };
    let dir = tmp.path();
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    // 30% in two base layers every image shares, 70% in one own layer per image.
    let mb = 1 << 20;
    let base1 = total_mb * mb * 20 / 100;
    let base2 = total_mb * mb * 10 / 100;
    let own = total_mb * mb * 70 / 100 / 10;
    let unique = (base1 + base2 + 10 * own) as u64;
    let t = Instant::now();
    let mut layouts = vec![];
    for i in 0..10u64 {
        let l = dir.join(format!("layout{i}"));
        image(&l, &[(base1, 1), (base2, 2), (own, 100 + i)], &cache);
        layouts.push(l);
    }
    println!(
        "made 10 image layouts ({:.0} MB unique blobs) in {:.1?}",
        unique as f64 / 1e6,
        t.elapsed()
    );

    // The package: a minimal bundle with the 10 images as related images.
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(bundle.join("manifests")).unwrap();
    std::fs::create_dir_all(bundle.join("metadata")).unwrap();
    std::fs::write(
        bundle.join("metadata/annotations.yaml"),
        "annotations:\n  operators.operatorframework.io.bundle.package.v1: bench-operator\n",
    )
    .unwrap();
    std::fs::write(bundle.join("manifests/bench.clusterserviceversion.yaml"), "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: bench-operator.v1.0.0\nspec:\n  version: 1.0.0\n").unwrap();
    let pkg = dir.join("bench-operator.v1.0.0.tgz");
    let mut pack = violet();
    pack.args([
        "pack",
        "bundle",
        bundle.to_str().unwrap(),
        "-o",
        pkg.to_str().unwrap(),
    ]);
    for (i, l) in layouts.iter().enumerate() {
        pack.args([
            "--image",
            &format!("bench.io/acp/image{i}:v1={}:v1", l.display()),
        ]);
    }
    let d = run(&mut pack);
    println!(
        "violet pack: {:.1?} ({:.0} MB package)",
        d,
        std::fs::metadata(&pkg).unwrap().len() as f64 / 1e6
    );
    // Verification is part of every cold push (it runs before anything is sent); shown alone
    // here. On a loaded machine the two runs vary too much to subtract one from the other.
    let verify = run(violet().args(["verify", pkg.to_str().unwrap()]));
    println!("violet verify (unpack + every digest): {verify:.1?}");

    let ra = registry(&dir.join("reg-violet")).await;
    let rb = registry(&dir.join("reg-skopeo")).await;
    let rc = registry(&dir.join("reg-raw")).await;
    let push = |host: String| {
        let pkg = pkg.clone();
        move || {
            run(violet().args([
                "push",
                pkg.to_str().unwrap(),
                "--dest-repo",
                &host,
                "--no-auth",
                "--plain",
                "--skip-crs",
                "--no-progress-bars",
            ]))
        }
    };
    let skopeo = |host: String, layouts: Vec<PathBuf>| {
        move || {
            let t = Instant::now();
            for (i, l) in layouts.iter().enumerate() {
                run(Command::new("skopeo").args([
                    "--insecure-policy",
                    "copy",
                    "-q",
                    "--dest-tls-verify=false",
                    &format!("oci:{}:v1", l.display()),
                    &format!("docker://{host}/acp/image{i}:v1"),
                ]));
            }
            t.elapsed()
        }
    };
    let violet_push = push(ra.host());
    let skopeo_copy = skopeo(rb.host(), layouts.clone());
    let v_cold = violet_push();
    let s_cold = skopeo_copy();
    let v_again = violet_push();
    let s_again = skopeo_copy();
    let big = cache.join(format!("{}-{}", 100, own));
    let big_blob = dir.join("raw-blob");
    let raw_digest = random_file(&big_blob, unique as usize, 999);
    let raw = raw_upload(&rc.host(), &big_blob, &raw_digest);
    let _ = big;
    let quarters: Vec<(PathBuf, Digest)> = (0..4u64)
        .map(|i| {
            let f = dir.join(format!("raw-part{i}"));
            let d = random_file(&f, unique as usize / 4, 1000 + i);
            (f, d)
        })
        .collect();
    let raw4 = raw_upload_parallel(&rc.host(), &quarters);

    println!();
    println!("{:<46} {:>10} {:>10}", "", "seconds", "MB/s");
    println!(
        "{:<46} {:>10.2} {:>10.1}",
        "violet push, cold (incl. unpack + verify)",
        v_cold.as_secs_f64(),
        mbps(unique, v_cold)
    );
    println!(
        "{:<46} {:>10.2} {:>10.1}",
        "skopeo copy x10, cold",
        s_cold.as_secs_f64(),
        mbps(unique, s_cold)
    );
    println!(
        "{:<46} {:>10.2} {:>10}",
        "violet push, re-push",
        v_again.as_secs_f64(),
        "-"
    );
    println!(
        "{:<46} {:>10.2} {:>10}",
        "skopeo copy x10, re-push",
        s_again.as_secs_f64(),
        "-"
    );
    println!(
        "{:<46} {:>10.2} {:>10.1}",
        "raw single-blob upload (curl), loopback limit",
        raw.as_secs_f64(),
        mbps(unique, raw)
    );
    println!(
        "{:<46} {:>10.2} {:>10.1}",
        "raw upload, 4 blobs at once (curl x4)",
        raw4.as_secs_f64(),
        mbps(unique, raw4)
    );
    println!();
    println!(
        "violet vs skopeo cold: {:.2}x faster; re-push: {:.2}x",
        s_cold.as_secs_f64() / v_cold.as_secs_f64(),
        s_again.as_secs_f64() / v_again.as_secs_f64()
    );
}
