//! Times of this crate's operations beside the general-purpose crates they replace: RSA key
//! generation (parallel sieved search vs the `rsa` crate's generator) for the sizes Sprig uses
//! (2048 for certificates, 4096 for `genPrivateKey "rsa"`), and one bcrypt hash at Go's default
//! cost 10 (tuned EksBlowfish vs the `bcrypt` crate). Prints median, mean, min and max.
//! Run: `cargo bench -p sprigcrypto --bench crypto` (`CRYPTO_BENCH_RUNS=<n>` sets the number of
//! keys per size, default 20 and 6).

use std::time::Instant;

fn stats(name: &str, mut t: Vec<f64>) {
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = t.len();
    let median = if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    };
    let mean = t.iter().sum::<f64>() / n as f64;
    println!(
        "{name:<28} n={n:<3} median {median:>8.1} ms  mean {mean:>8.1} ms  min {:>8.1}  max {:>8.1}",
        t[0],
        t[n - 1]
    );
}

fn time(n: usize, f: impl Fn()) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

fn main() {
    let runs: Option<usize> = std::env::var("CRYPTO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("bcrypt, cost 10 (single-threaded; 15 hashes each, interleaved)");
    let (mut ours, mut crate_) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        ours.extend(time(1, || {
            sprigcrypto::bcrypt::generate_from_password(b"password").unwrap();
        }));
        crate_.extend(time(1, || {
            bcrypt::hash("password", 10).unwrap();
        }));
    }
    stats("sprigcrypto bcrypt", ours);
    stats("bcrypt crate", crate_);
    println!("RSA key generation ({threads} hardware threads)");
    for (bits, default_runs) in [(2048usize, 20usize), (4096, 6)] {
        let n = runs.unwrap_or(default_runs);
        stats(
            &format!("sprigcrypto rsa {bits}"),
            time(n, || {
                sprigcrypto::rsa_private_key(bits).unwrap();
            }),
        );
        stats(
            &format!("rsa crate {bits}"),
            time(n.min(6), || {
                rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).unwrap();
            }),
        );
    }
}
