//! `marketplace serve` beside a real etcd, in one run on one machine (harness = false):
//! `cargo bench -p marketplace --bench vs_etcd` (release build of the real binary).
//!
//! Both servers run side by side as separate processes, each on a fresh data dir; `wrk` (with the
//! Lua scripts in `benches/wrk/`) drives them for `BENCH_SECONDS` (default 10) per figure:
//! - writes: ConfigMap creates over HTTPS with the bearer token (each a durable write, answered
//!   after fsync) vs etcd's JSON-gateway puts (`/v3/kv/put`, same document as value), with 1 and
//!   with 16 connections; any non-2xx answer fails the run. Ours twice: the product as shipped
//!   (its controller host's garbage collector watches every resource, so sees each create) and the
//!   API server alone (`serve --no-controllers`, the fair match for etcd alone);
//! - list latency of 10,000 ConfigMaps (one namespace filled with exactly 10,000) vs an etcd range
//!   of 10,000 keys, one connection;
//! - watch delivery with `BENCH_WATCHERS` (default 1,000) watchers of one namespace: time from
//!   sending a create to each watcher reading its event, over `BENCH_WATCH_EVENTS` (default 100)
//!   creates, each create sent once every watcher has the previous one (what it includes: the
//!   create's own round trip up to its commit, ≈ one fsync, and this process decoding 1,000 TLS
//!   streams on the same cores as the server: an upper bound of the server's fan-out time); once
//!   with each watcher on its own HTTP/1.1 connection (kube-rs's client speaks HTTP/1.1 only),
//!   once with them multiplexed over `BENCH_WATCH_H2_CONNECTIONS` (default 10) HTTP/2
//!   connections, as client-go multiplexes every watch of one client over one connection. Each
//!   row also shows the CPU time (user + system) per delivery of the server and of this process
//!   (the watchers) over the creates (connection set-up excluded). `BENCH_WATCH_ROWS=h1` or `=h2`
//!   runs one row; `BENCH_WATCH_TRACE=1` prints each event's create round trip and first / p50 /
//!   p99 / last delivery;
//! - start time (spawn until `/readyz`, resp. etcd's `/health`, answers) and idle RSS;
//! - memory and idle CPU with many objects (issue 9): `BENCH_MEMORY_OBJECTS` (default 100,000)
//!   ConfigMaps created (16 clients), then RSS after the creates, after listing them all (one
//!   streamed, unpaged list), over 30 s idle once the server has settled (min / max of 1 s
//!   samples, to show it is flat) and
//!   idle CPU% over 10 s (user + system time of the process / wall time);
//!   `BENCH_MEMORY_OBJECTS=0` skips it.
//!
//! `BENCH_MARKETPLACE_BIN=<path>` runs another build of `marketplace` as the server (A/B runs of
//! a change with the same client side).
//!
//! `BENCH_ONLY=writes,list,watch,memory` (any subset) runs only those sections, for quick
//! re-runs while tuning (`BENCH_WRITES_ONLY=1` is `BENCH_ONLY=writes`). Each printed figure is
//! followed by the load average when it was taken (the machine may be shared).
//!
//! It prints the figures, the ratios and the targets. It fails loudly when `wrk` or `etcd`
//! is missing (`scripts/setup` installs them: Debian `wrk`, `etcd-server`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Panics with the fix when a tool the benchmark drives is missing.
fn require(tool: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{tool}` not found: install it with scripts/setup (Debian package {package})")
        })
}

/// Fails when the open-files limit cannot hold the watch connections of both ends.
fn require_fd_limit(watchers: usize) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft: usize = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(
        soft >= 2 * watchers + 256,
        "open-files limit {soft} is too low for {watchers} watchers: raise it (ulimit -n {})",
        2 * watchers + 256
    );
}

/// A child process killed on drop.
struct Proc(Child);

impl Proc {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("process status");
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/<pid>/status");
        kb / 1024.0
    }

    fn assert_running(&mut self, what: &str, log: &Path) {
        if let Ok(Some(status)) = self.0.try_wait() {
            panic!(
                "{what} exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Polls `f` (async) until it is `Some`, panicking with `what` after [`DEADLINE`].
async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

struct Ours {
    proc: Proc,
    dir: tempfile::TempDir,
    base: String,
    token: String,
    start: Duration,
    idle_rss: f64,
}

impl Ours {
    /// Starts `marketplace serve` with `extra` arguments (e.g. `--no-controllers`).
    async fn start(bin: &Path, extra: &[&str]) -> Ours {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("log file");
        let t0 = Instant::now();
        let mut proc = Proc(
            Command::new(bin)
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn marketplace serve"),
        );
        let addr_file = dir.path().join("serve.addr");
        let log_path = dir.path().join("serve.log");
        let base = poll("serve.addr", || {
            proc.assert_running("marketplace serve", &log_path);
            let addr = std::fs::read_to_string(&addr_file).ok();
            async move { addr.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()) }
        })
        .await;
        let client = kube_client(&dir.path().join("kubeconfigs/global.kubeconfig")).await;
        poll("/readyz", || {
            let c = client.clone();
            async move { c.request_text(get("/readyz")).await.ok() }
        })
        .await;
        let start = t0.elapsed();
        let token = std::fs::read_to_string(dir.path().join("admin.token"))
            .expect("admin token")
            .trim()
            .to_string();
        let idle_rss = proc.rss_mb();
        Ours {
            proc,
            dir,
            base,
            token,
            start,
            idle_rss,
        }
    }

    async fn client(&self) -> kube::Client {
        kube_client(&self.dir.path().join("kubeconfigs/global.kubeconfig")).await
    }
}

struct Etcd {
    proc: Proc,
    _dir: tempfile::TempDir,
    url: String,
    start: Duration,
    idle_rss: f64,
    version: String,
}

impl Etcd {
    async fn start(bin: &Path) -> Etcd {
        let dir = tempfile::tempdir().expect("tempdir");
        let (client_port, peer_port) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let log_path = dir.path().join("etcd.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let t0 = Instant::now();
        let mut proc = Proc(
            Command::new(bin)
                .args(["--name", "bench", "--data-dir"])
                .arg(dir.path().join("data"))
                .args([
                    "--listen-client-urls",
                    &url,
                    "--advertise-client-urls",
                    &url,
                ])
                .args([
                    "--listen-peer-urls",
                    &peer,
                    "--initial-advertise-peer-urls",
                    &peer,
                ])
                .args(["--initial-cluster", &format!("bench={peer}")])
                .args(["--logger", "zap", "--log-level", "warn"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn etcd"),
        );
        let client = plain_client(&url);
        poll("etcd /health", || {
            proc.assert_running("etcd", &log_path);
            let c = client.clone();
            async move {
                let body = c.request_text(get("/health")).await.ok()?;
                body.contains("\"true\"").then_some(())
            }
        })
        .await;
        let start = t0.elapsed();
        let idle_rss = proc.rss_mb();
        let version: Value =
            serde_json::from_str(&client.request_text(get("/version")).await.expect("version"))
                .expect("etcd version JSON");
        Etcd {
            proc,
            _dir: dir,
            url,
            start,
            idle_rss,
            version: version["etcdserver"].as_str().unwrap_or("?").to_string(),
        }
    }
}

fn get(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path).body(Vec::new()).expect("request")
}

async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig to config");
    kube::Client::try_from(cfg).expect("client")
}

fn plain_client(url: &str) -> kube::Client {
    let cfg = kube::Config::new(url.parse().expect("etcd url"));
    kube::Client::try_from(cfg).expect("etcd client")
}

/// What one wrk run measured (written by `benches/wrk/report.lua`).
#[derive(Debug, serde::Deserialize)]
struct Wrk {
    requests: u64,
    duration_us: u64,
    status_errors: u64,
    connect_errors: u64,
    read_errors: u64,
    write_errors: u64,
    timeouts: u64,
    p50_us: u64,
    p99_us: u64,
}

impl Wrk {
    fn rate(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
}

struct WrkRun<'a> {
    url: &'a str,
    conns: usize,
    seconds: u64,
    script: &'a str,
    headers: &'a [String],
    args: &'a [&'a str],
}

fn wrk(bin: &Path, run: WrkRun<'_>) -> Wrk {
    let scripts = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("benches/wrk");
    let report = tempfile::NamedTempFile::new().expect("report file");
    let mut cmd = Command::new(bin);
    cmd.arg(format!("-t{}", run.conns.min(2)))
        .arg(format!("-c{}", run.conns))
        .arg(format!("-d{}s", run.seconds))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(scripts.join(run.script));
    for h in run.headers {
        cmd.arg("-H").arg(h);
    }
    cmd.arg(run.url)
        .arg("--")
        .args(run.args)
        .env("WRK_SCRIPTS", &scripts)
        .env("WRK_REPORT", report.path());
    let out = cmd.output().expect("run wrk");
    assert!(
        out.status.success(),
        "wrk {} failed: {}",
        run.url,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(report.path()).expect("wrk report");
    let w: Wrk = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("wrk report {text:?}: {e}; stdout: {out:?}"));
    let errors = w.status_errors + w.connect_errors + w.read_errors + w.write_errors + w.timeouts;
    assert!(
        errors == 0 && w.requests > 0,
        "wrk {} saw errors (a benchmark of failures measures nothing): {w:?}\n{}",
        run.url,
        String::from_utf8_lossy(&out.stdout)
    );
    w
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns");
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": {"payload": "x".repeat(256)},
    }))
    .expect("configmap")
}

/// Creates exactly `n` ConfigMaps in `ns` with 16 concurrent clients.
async fn fill(ours: &Ours, ns: &str, n: usize) {
    let mut tasks = Vec::new();
    for w in 0..16 {
        let api: Api<ConfigMap> = Api::namespaced(ours.client().await, ns);
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(16) {
                api.create(&PostParams::default(), &configmap(&format!("cm-{i}")))
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("fill task");
    }
}

/// Checks the etcd range request returns `n` keys before wrk times it.
async fn etcd_range_count(url: &str, body: &str) -> usize {
    let req = http::Request::post("/v3/kv/range")
        .body(body.as_bytes().to_vec())
        .expect("request");
    let v: Value = serde_json::from_str(
        &plain_client(url)
            .request_text(req)
            .await
            .expect("etcd range"),
    )
    .expect("range JSON");
    v["kvs"].as_array().map_or(0, Vec::len)
}

fn b64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(A[((v >> (18 - 6 * j)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Watch delivery: `watchers` watches of namespace `ns`, each on its own HTTP/1.1 connection (as
/// kube-rs, whose client speaks HTTP/1.1 only, opens them), then `events` creates, each sent when
/// every watcher has read the previous one. Returns send-to-receipt latencies of every delivery.
async fn watch_latencies(ours: &Ours, ns: &str, watchers: usize, events: usize) -> WatchRun {
    let receipts = std::sync::Arc::new(Receipts::default());
    let path = format!("/api/v1/namespaces/{ns}/configmaps?watch=1");
    let client = ours.client().await;
    let mut tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for _ in 0..watchers {
        let (client, path, receipts, ready_tx) = (
            client.clone(),
            path.clone(),
            receipts.clone(),
            ready_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = client
                .send(get(&path).map(kube::client::Body::from))
                .await
                .expect("watch");
            assert_eq!(resp.status(), 200, "watch answered 200");
            let _ = ready_tx.send(());
            read_events(resp.into_body(), &receipts).await;
        }));
    }
    drop(ready_tx);
    await_ready(&mut ready_rx, watchers).await;
    let lat = deliveries(ours, ns, watchers, events, &receipts).await;
    for t in tasks {
        t.abort();
    }
    lat
}

async fn await_ready(ready_rx: &mut tokio::sync::mpsc::UnboundedReceiver<()>, watchers: usize) {
    for _ in 0..watchers {
        tokio::time::timeout(DEADLINE, ready_rx.recv())
            .await
            .expect("watchers established in time")
            .expect("a watcher failed to start");
    }
}

/// What one watch run measured: send-to-receipt latency of every delivery, and the CPU time
/// (user + system) per delivery of the server and of this process (the watchers' side) while the
/// creates were delivered (connection set-up excluded).
struct WatchRun {
    lat: Vec<Duration>,
    server_cpu_us: f64,
    client_cpu_us: f64,
}

/// When each watcher read which event, recorded by the watchers themselves; the measuring task is
/// woken once per event (when the last watcher has it), not once per delivery, so that measuring
/// adds little to the watchers' side.
#[derive(Default)]
struct Receipts {
    got: std::sync::Mutex<Vec<(usize, Instant)>>,
    count: std::sync::atomic::AtomicUsize,
    /// The count at which every watcher has the current event.
    target: std::sync::atomic::AtomicUsize,
    all: tokio::sync::Notify,
}

impl Receipts {
    fn record(&self, event: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        let at = Instant::now();
        self.got.lock().expect("receipts").push((event, at));
        if self.count.fetch_add(1, SeqCst) + 1 == self.target.load(SeqCst) {
            self.all.notify_one();
        }
    }
}

/// Sends `events` creates into `ns`, each once every watcher recorded the previous one; returns
/// the send-to-receipt latency of every delivery.
async fn deliveries(
    ours: &Ours,
    ns: &str,
    watchers: usize,
    events: usize,
    receipts: &Receipts,
) -> WatchRun {
    use std::sync::atomic::Ordering::SeqCst;
    let api: Api<ConfigMap> = Api::namespaced(ours.client().await, ns);
    let mut lat = Vec::with_capacity(watchers * events);
    let (server0, client0) = (
        cpu_seconds(ours.proc.pid()),
        cpu_seconds(std::process::id()),
    );
    for i in 0..events {
        let target = watchers * (i + 1);
        receipts.target.store(target, SeqCst);
        let sent = Instant::now();
        api.create(&PostParams::default(), &configmap(&format!("ev-{ns}-{i}")))
            .await
            .expect("create");
        let rtt = sent.elapsed();
        while receipts.count.load(SeqCst) < target {
            tokio::time::timeout(DEADLINE, receipts.all.notified())
                .await
                .expect("every watcher sees the event in time");
        }
        for (idx, at) in std::mem::take(&mut *receipts.got.lock().expect("receipts")) {
            assert_eq!(idx, i, "events arrive in order, once each");
            lat.push(at - sent);
        }
        if std::env::var_os("BENCH_WATCH_TRACE").is_some() {
            let ev = &mut lat[i * watchers..];
            ev.sort();
            eprintln!(
                "event {i}: create {:?} first {:?} p50 {:?} p99 {:?} last {:?}",
                rtt,
                ev[0],
                ev[watchers / 2],
                ev[watchers * 99 / 100],
                ev[watchers - 1]
            );
        }
    }
    let per_delivery = |secs: f64| secs * 1e6 / (watchers * events) as f64;
    WatchRun {
        lat,
        server_cpu_us: per_delivery(cpu_seconds(ours.proc.pid()) - server0),
        client_cpu_us: per_delivery(cpu_seconds(std::process::id()) - client0),
    }
}

/// One HTTP/2 connection to `ours` over TLS (verified against its CA), as client-go opens one per
/// client and multiplexes every request of the client over it.
async fn h2_connection(
    ours: &Ours,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>> {
    use rustls_pki_types::pem::PemObject;
    let ca = rustls_pki_types::CertificateDer::from_pem_file(ours.dir.path().join("pki/ca.crt"))
        .expect("the server's CA certificate (pki/ca.crt)");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("CA certificate");
    let mut cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let addr = ours.base.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("TCP_NODELAY");
    let host = addr.rsplit_once(':').expect("host:port").0;
    let name = rustls_pki_types::ServerName::try_from(host.to_string()).expect("server name");
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the server negotiates HTTP/2"
    );
    let (send, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    send
}

/// [`watch_latencies`] with the watchers spread evenly over `conns` HTTP/2 connections, each
/// watch one stream (what client-go does: all watches of one client share its connection).
async fn watch_latencies_h2(
    ours: &Ours,
    ns: &str,
    watchers: usize,
    events: usize,
    conns: usize,
) -> WatchRun {
    let receipts = std::sync::Arc::new(Receipts::default());
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let uri = format!("{}/api/v1/namespaces/{ns}/configmaps?watch=1", ours.base);
    let mut senders = Vec::new();
    for _ in 0..conns.max(1) {
        senders.push(h2_connection(ours).await);
    }
    let mut tasks = Vec::new();
    for w in 0..watchers {
        let mut send = senders[w % senders.len()].clone();
        let req = http::Request::get(&uri)
            .header("authorization", format!("Bearer {}", ours.token))
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .expect("request");
        let (receipts, ready_tx) = (receipts.clone(), ready_tx.clone());
        tasks.push(tokio::spawn(async move {
            send.ready().await.expect("connection ready");
            let resp = send.send_request(req).await.expect("watch");
            assert_eq!(resp.status(), 200, "watch answered 200");
            let _ = ready_tx.send(());
            read_events(resp.into_body(), &receipts).await;
        }));
    }
    drop(ready_tx);
    await_ready(&mut ready_rx, watchers).await;
    let lat = deliveries(ours, ns, watchers, events, &receipts).await;
    for t in tasks {
        t.abort();
    }
    lat
}

/// Reads a watch response body until it ends, recording each event line's `ev-<i>` as it arrives.
/// Lines are cut from the body's frames in place (a line split over frames is joined first)
/// rather than copied through an `AsyncBufRead` into a `String` each, so that the watchers, which
/// share the server's cores, add little beyond what their transport costs.
async fn read_events<B>(mut body: B, receipts: &Receipts)
where
    B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let mut partial: Vec<u8> = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let mut rest: &[u8] = &data;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let line = if partial.is_empty() {
                &rest[..end]
            } else {
                partial.extend_from_slice(&rest[..end]);
                &partial[..]
            };
            if let Some(i) = std::str::from_utf8(line).ok().and_then(event_index) {
                receipts.record(i);
            }
            partial.clear();
            rest = &rest[end + 1..];
        }
        partial.extend_from_slice(rest);
    }
}

/// `ev-<i>` from a watch event line.
fn event_index(line: &str) -> Option<usize> {
    let at = line.find("\"name\":\"ev-")? + "\"name\":\"ev-".len();
    let rest = &line[at..];
    let name = &rest[..rest.find('"')?];
    // `ev-<namespace>-<i>`
    name.rsplit('-').next()?.parse().ok()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(us: u64) -> f64 {
    us as f64 / 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// The 1-minute load average now (the machine may be shared: figures taken under load are lower).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// CPU seconds (user + system) the process `pid` used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    let rest = &stat[stat.rfind(')').expect("stat has a command") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz
}

/// The sections `BENCH_ONLY` selects (all when unset).
struct Sections(Option<Vec<String>>);

impl Sections {
    fn from_env() -> Sections {
        if std::env::var_os("BENCH_WRITES_ONLY").is_some() {
            return Sections(Some(vec!["writes".into()]));
        }
        Sections(
            std::env::var("BENCH_ONLY")
                .ok()
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
        )
    }

    fn on(&self, name: &str) -> bool {
        self.0.as_ref().is_none_or(|v| v.iter().any(|s| s == name))
    }
}

/// The printed table: one row per figure, with the load average when it was measured.
#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String, String, String)>,
    targets: Vec<(String, bool)>,
}

impl Report {
    fn row(&mut self, what: impl Into<String>, ours: String, etcd: String, ratio: String) {
        self.rows.push((what.into(), ours, etcd, ratio, load()));
    }

    fn target(&mut self, what: impl Into<String>, met: bool) {
        self.targets.push((what.into(), met));
    }

    fn print(&self, header: &str) {
        println!("{header}");
        println!(
            "  {:<50} {:>14} {:>14} {:>8} {:>6}",
            "", "marketplace", "etcd", "ratio", "load"
        );
        for (what, ours, etcd, ratio, load) in &self.rows {
            println!("  {what:<50} {ours:>14} {etcd:>14} {ratio:>8} {load:>6}");
        }
        println!("targets:");
        for (what, met) in &self.targets {
            println!("  {what}: {}", verdict(*met));
        }
    }
}

fn x(ours: f64, etcd: f64) -> String {
    format!("{:.2}x", ours / etcd)
}

/// One wrk run of ConfigMap creates against `ours` in namespace `ns`.
fn wrk_creates(wrk_bin: &Path, ours: &Ours, conns: usize, seconds: u64, ns: &str) -> Wrk {
    let url = format!("{}/api/v1/namespaces/{ns}/configmaps", ours.base);
    wrk(
        wrk_bin,
        WrkRun {
            url: &url,
            conns,
            seconds,
            script: "create_configmap.lua",
            headers: &[],
            args: &[&ours.token, ns],
        },
    )
}

/// Creates at 1 and 16 connections: the product as it ships (with its controller host, whose
/// garbage collector watches every resource and so sees each create), the API server alone
/// (`serve --no-controllers`, like etcd alone), and etcd, one after the other at each concurrency.
async fn bench_writes(
    wrk_bin: &Path,
    ours: &Ours,
    api_only: &Ours,
    etcd: &Etcd,
    seconds: u64,
    report: &mut Report,
) {
    for (conns, ns) in [(1usize, "c1"), (16, "c16")] {
        let o = wrk_creates(wrk_bin, ours, conns, seconds, ns);
        let a = wrk_creates(wrk_bin, api_only, conns, seconds, ns);
        let e = wrk(
            wrk_bin,
            WrkRun {
                url: &format!("{}/v3/kv/put", etcd.url),
                conns,
                seconds,
                script: "etcd_put.lua",
                headers: &[],
                args: &[ns],
            },
        );
        report.row(
            format!("creates/s, {conns} connection(s)"),
            format!("{:.0}", o.rate()),
            format!("{:.0}", e.rate()),
            x(o.rate(), e.rate()),
        );
        report.row(
            format!("  latency p50 / p99 ms, {conns} conn."),
            format!("{:.2} / {:.2}", ms(o.p50_us), ms(o.p99_us)),
            format!("{:.2} / {:.2}", ms(e.p50_us), ms(e.p99_us)),
            String::new(),
        );
        report.row(
            format!("  API alone (--no-controllers), {conns} conn."),
            format!("{:.0}", a.rate()),
            format!("{:.0}", e.rate()),
            x(a.rate(), e.rate()),
        );
        report.row(
            "    latency p50 / p99 ms",
            format!("{:.2} / {:.2}", ms(a.p50_us), ms(a.p99_us)),
            format!("{:.2} / {:.2}", ms(e.p50_us), ms(e.p99_us)),
            String::new(),
        );
        report.target(
            format!("creates >= etcd at {conns} connection(s)"),
            o.rate() >= e.rate(),
        );
    }
}

/// List latency of `list_n` objects: ours from a namespace holding exactly that many, etcd a range
/// of as many keys under the 16-connection prefix of the write section (when it holds enough).
async fn bench_list(
    wrk_bin: &Path,
    ours: &Ours,
    etcd: &Etcd,
    seconds: u64,
    list_n: usize,
    report: &mut Report,
) {
    fill(ours, "list", list_n).await;
    let auth = vec![format!("Authorization: Bearer {}", ours.token)];
    let list_url = format!("{}/api/v1/namespaces/list/configmaps", ours.base);
    let o = wrk(
        wrk_bin,
        WrkRun {
            url: &list_url,
            conns: 1,
            seconds: seconds.min(5),
            script: "get.lua",
            headers: &auth,
            args: &[],
        },
    );
    let range = json!({
        "key": b64("/registry/configmaps/c16/"),
        "range_end": b64("/registry/configmaps/c160"),
        "limit": list_n,
    })
    .to_string();
    let etcd_keys = etcd_range_count(&etcd.url, &range).await;
    let e = (etcd_keys == list_n).then(|| {
        wrk(
            wrk_bin,
            WrkRun {
                url: &format!("{}/v3/kv/range", etcd.url),
                conns: 1,
                seconds: seconds.min(5),
                script: "get.lua",
                headers: &["Content-Type: application/json".to_string()],
                args: &["POST", &range],
            },
        )
    });
    report.row(
        format!("list {list_n} ConfigMaps p50 / p99 ms"),
        format!("{:.1} / {:.1}", ms(o.p50_us), ms(o.p99_us)),
        e.as_ref().map_or_else(
            || format!("({etcd_keys} keys)"),
            |e| format!("{:.1} / {:.1}", ms(e.p50_us), ms(e.p99_us)),
        ),
        e.as_ref()
            .map_or_else(String::new, |e| x(o.p50_us as f64, e.p50_us as f64)),
    );
    report.target(format!("list {list_n} < 100 ms (p50)"), o.p50_us < 100_000);
}

async fn bench_watch(
    ours: &Ours,
    watchers: usize,
    events: usize,
    h2_conns: usize,
    report: &mut Report,
) {
    report.row(
        format!("watch delivery p50 / p99 ms, {watchers} watchers"),
        String::new(),
        String::new(),
        String::new(),
    );
    let row = |report: &mut Report, what: String, mut run: WatchRun| {
        let (p50, p99) = (pct(&mut run.lat, 0.5), pct(&mut run.lat, 0.99));
        report.row(
            what,
            format!(
                "{:.2} / {:.2}",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            ),
            String::new(),
            String::new(),
        );
        report.row(
            "    CPU µs per delivery: server / watchers",
            format!("{:.1} / {:.1}", run.server_cpu_us, run.client_cpu_us),
            String::new(),
            String::new(),
        );
        p99
    };
    // `BENCH_WATCH_ROWS=h1` or `=h2` runs one of the two rows only (for profiling one of them).
    let rows = std::env::var("BENCH_WATCH_ROWS").unwrap_or_else(|_| "h1,h2".into());
    if rows.split(',').any(|r| r.trim() == "h1") {
        let run = watch_latencies(ours, "watch", watchers, events).await;
        let w99 = row(
            report,
            format!("  {watchers} HTTP/1.1 connections (kube-rs)"),
            run,
        );
        report.target(
            format!("watch p99 < 10 ms, {watchers} watchers over {watchers} HTTP/1.1 connections"),
            w99 < Duration::from_millis(10),
        );
    }
    if rows.split(',').any(|r| r.trim() == "h2") {
        let run = watch_latencies_h2(ours, "watch2", watchers, events, h2_conns).await;
        let h99 = row(
            report,
            format!("  {h2_conns} HTTP/2 connections (as client-go)"),
            run,
        );
        report.target(
            format!("watch p99 < 10 ms, {watchers} watchers over {h2_conns} HTTP/2 connections"),
            h99 < Duration::from_millis(10),
        );
    }
}

/// Issue 9's memory figures: RSS with `n` objects stored, after listing them all, while idle;
/// idle CPU.
async fn bench_memory(ours: &Ours, n: usize, report: &mut Report) {
    let client = ours.client().await;
    create_namespace(&client, "mem").await;
    let t0 = Instant::now();
    fill(ours, "mem", n).await;
    let fill_secs = t0.elapsed().as_secs_f64();
    let after_creates = ours.proc.rss_mb();
    report.row(
        format!(
            "RSS MB after {n} creates ({:.0}/s, 16 clients)",
            n as f64 / fill_secs
        ),
        format!("{after_creates:.1}"),
        String::new(),
        String::new(),
    );
    // One unpaged list of every ConfigMap (all namespaces), read to the end.
    let t0 = Instant::now();
    let body = client
        .request_text(get("/api/v1/configmaps"))
        .await
        .expect("list all ConfigMaps");
    let list_ms = t0.elapsed().as_secs_f64() * 1e3;
    let listed: Value = serde_json::from_str(&body).expect("list JSON");
    let items = listed["items"].as_array().map_or(0, Vec::len);
    assert!(items >= n, "the list holds every ConfigMap ({items} < {n})");
    drop((body, listed));
    let after_list = ours.proc.rss_mb();
    report.row(
        format!("RSS MB after listing all {items} ({list_ms:.0} ms)"),
        format!("{after_list:.1}"),
        String::new(),
        String::new(),
    );
    // Idle starts when the server has stopped working through the creates' and the list's
    // aftermath (watch backlogs of the controller host, freed buffers): a 1 s sample under 1 % CPU.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(120) {
        let (cpu0, t0) = (cpu_seconds(ours.proc.pid()), Instant::now());
        tokio::time::sleep(Duration::from_secs(1)).await;
        if (cpu_seconds(ours.proc.pid()) - cpu0) / t0.elapsed().as_secs_f64() < 0.01 {
            break;
        }
    }
    report.row(
        "s until idle (a 1 s sample under 1 % CPU), RSS MB then",
        format!(
            "{:.0} s, {:.1}",
            settle.elapsed().as_secs_f64(),
            ours.proc.rss_mb()
        ),
        String::new(),
        String::new(),
    );
    let (mut lo, mut hi, mut first, mut last) = (f64::MAX, 0f64, None, 0f64);
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let r = ours.proc.rss_mb();
        (lo, hi, last) = (lo.min(r), hi.max(r), r);
        first.get_or_insert(r);
    }
    report.row(
        "RSS MB over 30 s idle after that, min / max (first → last)",
        format!(
            "{lo:.1} / {hi:.1} ({:.1} → {last:.1})",
            first.unwrap_or(0.0)
        ),
        String::new(),
        String::new(),
    );
    let (cpu0, t0) = (cpu_seconds(ours.proc.pid()), Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = (cpu_seconds(ours.proc.pid()) - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    report.row(
        format!("idle CPU % over 10 s with {n}+ objects"),
        format!("{idle_cpu:.1}"),
        String::new(),
        String::new(),
    );
    report.target(
        format!("RSS < 200 MB with {n} objects after listing them all"),
        after_list < 200.0 && hi < 200.0,
    );
    report.target("RSS flat while idle (max - min < 10 MB)", hi - lo < 10.0);
    report.target("idle CPU ~0 (< 1 %)", idle_cpu < 1.0);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let wrk_bin = require("wrk", "wrk");
    let etcd_bin = require("etcd", "etcd-server");
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let watchers: usize = env_or("BENCH_WATCHERS", 1000);
    let events: usize = env_or("BENCH_WATCH_EVENTS", 100);
    let h2_conns: usize = env_or("BENCH_WATCH_H2_CONNECTIONS", 10);
    let list_n: usize = env_or("BENCH_LIST_OBJECTS", 10_000);
    let memory_n: usize = env_or("BENCH_MEMORY_OBJECTS", 100_000);
    let only = Sections::from_env();
    if only.on("watch") {
        require_fd_limit(watchers);
    }

    let etcd = Etcd::start(&etcd_bin).await;
    // `BENCH_MARKETPLACE_BIN` runs another build of the server (A/B runs of a change).
    let bin_override = std::env::var_os("BENCH_MARKETPLACE_BIN").map(PathBuf::from);
    let bin = bin_override
        .as_deref()
        .unwrap_or(Path::new(env!("CARGO_BIN_EXE_marketplace")));
    let ours = Ours::start(bin, &[]).await;
    let client = ours.client().await;
    for ns in ["c1", "c16", "list", "watch", "watch2"] {
        create_namespace(&client, ns).await;
    }
    let mut report = Report::default();
    report.row(
        "start ms (spawn to ready)",
        format!("{:.1}", ours.start.as_secs_f64() * 1e3),
        format!("{:.1}", etcd.start.as_secs_f64() * 1e3),
        x(ours.start.as_secs_f64(), etcd.start.as_secs_f64()),
    );
    report.row(
        "RSS idle MB (after start)",
        format!("{:.1}", ours.idle_rss),
        format!("{:.1}", etcd.idle_rss),
        x(ours.idle_rss, etcd.idle_rss),
    );
    report.target("start < 1 s", ours.start < Duration::from_secs(1));
    if only.on("writes") {
        let api_only = Ours::start(bin, &["--no-controllers"]).await;
        let api_client = api_only.client().await;
        for ns in ["c1", "c16"] {
            create_namespace(&api_client, ns).await;
        }
        bench_writes(&wrk_bin, &ours, &api_only, &etcd, seconds, &mut report).await;
    }
    if only.on("list") {
        bench_list(&wrk_bin, &ours, &etcd, seconds, list_n, &mut report).await;
    }
    if only.on("watch") {
        bench_watch(&ours, watchers, events, h2_conns, &mut report).await;
    }
    report.row(
        "RSS MB after the above",
        format!("{:.1}", ours.proc.rss_mb()),
        format!("{:.1}", etcd.proc.rss_mb()),
        String::new(),
    );
    if only.on("memory") && memory_n > 0 {
        bench_memory(&ours, memory_n, &mut report).await;
    }
    report.print(&format!(
        "marketplace serve (release, HTTPS + bearer token, SQLite WAL fsync) vs etcd {} (HTTP JSON gateway), one machine, one run; wrk {seconds} s per write figure; {} cores",
        etcd.version,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
}
