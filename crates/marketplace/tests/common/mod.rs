//! Shared harness for the integration suites: starts the real `marketplace serve` binary on a free
//! loopback port with a fresh data dir, waits for readiness by polling (never sleeping blindly), and
//! gives tests kubectl invocations (fresh discovery cache per server) and kube-rs clients built from
//! the kubeconfigs the server wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `marketplace serve`.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub base: String,
    pub clusters: Vec<String>,
    cache_dir: tempfile::TempDir,
    listen: String,
    kubectl: PathBuf,
    /// Extra `serve` flags and environment (see [`Server::start_with`]).
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
}

/// The real `kubectl.<version>` binary: `/usr/bin/kubectl.<version>` or, as the dispatcher
/// package installs them, beside the file `/usr/bin/kubectl` links to. Fails loudly when missing.
pub fn kubectl_binary(version: &str) -> PathBuf {
    let name = format!("kubectl.{version}");
    let direct = Path::new("/usr/bin").join(&name);
    if direct.is_file() {
        return direct;
    }
    let dispatcher = std::fs::canonicalize("/usr/bin/kubectl").unwrap_or_else(|e| {
        panic!("/usr/bin/kubectl is missing ({e}); install the `kubectl` package that ships kubectl.1.27 ... kubectl.1.33")
    });
    let beside = dispatcher.with_file_name(&name);
    assert!(
        beside.is_file(),
        "{name} is missing (looked at {} and {}); install the `kubectl` package that ships kubectl.1.27 ... kubectl.1.33",
        direct.display(),
        beside.display()
    );
    beside
}

/// How long readiness may take on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

impl Server {
    /// Starts a server with `global` and the given extra clusters (`name[=k=v,...]`).
    pub fn start(clusters: &[&str]) -> Server {
        Server::start_full(clusters, PathBuf::from("/usr/bin/kubectl"), &[], &[])
    }

    /// Starts a server whose kubectl helpers run the given kubectl binary.
    pub fn start_with_kubectl(clusters: &[&str], kubectl: PathBuf) -> Server {
        Server::start_full(clusters, kubectl, &[], &[])
    }

    /// Like [`Server::start`], with extra `serve` flags and environment variables.
    pub fn start_with(clusters: &[&str], args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_full(clusters, PathBuf::from("/usr/bin/kubectl"), args, env)
    }

    fn start_full(
        clusters: &[&str],
        kubectl: PathBuf,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = Server {
            dir,
            child: None,
            base: String::new(),
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            cache_dir: tempfile::tempdir().expect("tempdir"),
            listen: "127.0.0.1:0".into(),
            kubectl,
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        s.spawn();
        s
    }

    /// The kubectl binary the helpers run.
    pub fn kubectl_path(&self) -> &Path {
        &self.kubectl
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.data_dir().join("serve.addr"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_marketplace"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(&self.listen);
        for c in &self.clusters {
            cmd.arg("--cluster").arg(c);
        }
        let log = std::fs::File::create(self.data_dir().join("serve.log")).expect("log file");
        cmd.stdout(Stdio::null()).stderr(log).env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        );
        cmd.args(&self.extra_args)
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        self.child = Some(cmd.spawn().expect("spawn marketplace serve"));
        self.wait_ready();
    }

    /// Polls `serve.addr` and then `/readyz` until the server answers.
    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "marketplace serve exited early with {status}: {}",
                    self.log()
                );
            }
            if let Ok(addr) = std::fs::read_to_string(self.data_dir().join("serve.addr")) {
                let addr = addr.trim().to_string();
                if !addr.is_empty() {
                    let hostport = addr
                        .trim_start_matches("https://")
                        .trim_start_matches("http://")
                        .to_string();
                    if std::net::TcpStream::connect(&hostport).is_ok() {
                        self.base = addr;
                        // Keep the port across restarts.
                        self.listen = hostport;
                        return;
                    }
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "server not ready after {DEADLINE:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("serve.log")).unwrap_or_default()
    }

    pub fn kubeconfig(&self, cluster: &str) -> PathBuf {
        self.data_dir()
            .join("kubeconfigs")
            .join(format!("{cluster}.kubeconfig"))
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("admin.token"))
            .expect("token")
            .trim()
            .to_string()
    }

    pub fn ca_path(&self) -> PathBuf {
        self.data_dir().join("pki/ca.crt")
    }

    /// Stops the server with SIGTERM and waits for it to exit; fails when a controller set had to
    /// be aborted (it ignored the shutdown for the host's grace period).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let start = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if start.elapsed() > DEADLINE {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server did not stop within {DEADLINE:?} of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let log = self.log();
            assert!(
                !log.contains("ignored shutdown"),
                "every controller set stops when asked, none is aborted after the grace period:\n{}",
                tail(&log, 3000)
            );
        }
    }

    /// Stops and starts again on the same data dir and port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Like [`Server::restart`], with these extra `serve` flags from now on.
    pub fn restart_with_args(&mut self, args: &[&str]) {
        self.stop();
        self.extra_args = args.iter().map(|a| a.to_string()).collect();
        self.spawn();
    }

    /// Runs this server's kubectl against `cluster` with a fresh discovery cache of this server.
    pub fn kubectl_on(&self, cluster: &str, args: &[&str]) -> Output {
        self.kubectl_with_stdin(cluster, args, None)
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_on("global", args)
    }

    pub fn kubectl_with_stdin(&self, cluster: &str, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(&self.kubectl);
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig(cluster))
            .env("KUBECACHEDIR", self.cache_dir.path())
            .env("HOME", self.data_dir())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().expect("kubectl output")
    }

    /// Runs kubectl and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}\nserver log tail: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 3000)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kubectl; its stdout if it succeeded, `None` if not (for polling until it does).
    pub fn ok_or_none(&self, args: &[&str]) -> Option<String> {
        let out = self.kubectl(args);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl apply -f -` (or any command taking `-f -`) with a manifest on stdin.
    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.kubectl_with_stdin("global", args, Some(stdin));
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}\nserver log tail: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 3000)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A kube-rs client for `cluster` built from its kubeconfig (TLS, CA, token).
    pub async fn client(&self, cluster: &str) -> kube::Client {
        let kc =
            kube::config::Kubeconfig::read_from(self.kubeconfig(cluster)).expect("read kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("kubeconfig to config");
        kube::Client::try_from(cfg).expect("client")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Polls `f` until it returns `Some`, panicking with `what` after the deadline.
pub fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Async variant of [`poll`].
pub async fn poll_async<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Debian `docker-registry` on a free loopback port with its data in `dir` (stopped when
/// dropped); fails loudly when the package is missing.
pub async fn registry(dir: &Path) -> oci::localregistry::LocalRegistry {
    assert!(
        oci::localregistry::which("docker-registry").is_some(),
        "docker-registry is not installed: run scripts/setup"
    );
    oci::localregistry::LocalRegistry::start(
        oci::localregistry::Config {
            dir: dir.to_path_buf(),
            ..Default::default()
        },
        Duration::from_secs(30),
    )
    .await
    .expect("docker-registry starts")
}
