//! Debian's `docker-registry` (CNCF distribution) run as a child process on a free loopback port,
//! with its data and generated config in a directory of ours; readiness is polled on `/v2/`.
//! Used by `marketplace serve` (supervised: restarted when it dies) and by the tests.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::error::{Error, Result};

/// The binary Debian's `docker-registry` package installs.
pub const BINARY: &str = "docker-registry";

/// How to run the registry.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Storage root and config file live here.
    pub dir: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// htpasswd file (bcrypt entries) for Basic auth.
    pub htpasswd: Option<PathBuf>,
    /// Bearer-token auth: realm URL, service, issuer and the certificate bundle tokens are signed
    /// under.
    pub token: Option<TokenAuth>,
    /// Where the registry's log (one line per request) goes; default `<dir>/registry.log`.
    pub log: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
}

#[derive(Clone, Debug)]
pub struct TokenAuth {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    pub root_cert_bundle: PathBuf,
}

/// A running `docker-registry`; killed when dropped.
pub struct LocalRegistry {
    child: Child,
    addr: SocketAddr,
    config: Config,
}

impl LocalRegistry {
    /// Starts the registry and waits until `/v2/` answers (200 or 401), at most `timeout`.
    pub async fn start(mut config: Config, timeout: Duration) -> Result<LocalRegistry> {
        let binary = which(BINARY).ok_or_else(|| {
            Error::Config(format!(
                "{BINARY} is not installed; run scripts/setup (Debian package docker-registry)"
            ))
        })?;
        let port = if config.port == 0 {
            free_port()?
        } else {
            config.port
        };
        config.port = port;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        std::fs::create_dir_all(config.dir.join("data"))
            .map_err(|e| Error::io(config.dir.display(), e))?;
        let secret = upload_secret(&config.dir)?;
        let cfg_path = config.dir.join("config.yml");
        std::fs::write(&cfg_path, render_config(&config, addr, &secret))
            .map_err(|e| Error::io(cfg_path.display(), e))?;
        let log_path = config
            .log
            .clone()
            .unwrap_or_else(|| config.dir.join("registry.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Error::io(log_path.display(), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| Error::io(log_path.display(), e))?;
        let mut cmd = Command::new(binary);
        // SAFETY: the closure runs in the forked child before exec and only calls prctl, which
        // is async-signal-safe. It makes the kernel kill the registry if its parent dies without
        // stopping it (e.g. `marketplace serve` killed with SIGKILL), so no orphan is left behind.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .arg("serve")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::io(BINARY, e))?;
        let mut reg = LocalRegistry {
            child,
            addr,
            config,
        };
        reg.wait_ready(timeout, &log_path).await?;
        Ok(reg)
    }

    async fn wait_ready(&mut self, timeout: Duration, log: &Path) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{}/v2/", self.addr);
        // Readiness only: the certificate is checked by the clients that use the registry.
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                let tail: String = tail
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(Error::Config(format!(
                    "{BINARY} exited with {status} before it was ready:\n{tail}"
                )));
            }
            if let Ok(r) = http.get(&url).send().await
                && (r.status().is_success() || r.status() == reqwest::StatusCode::UNAUTHORIZED)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Config(format!(
                    "{BINARY} on {} did not answer /v2/ within {timeout:?}",
                    self.addr
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `127.0.0.1:PORT`, as a reference's registry part.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn log_path(&self) -> PathBuf {
        self.config
            .log
            .clone()
            .unwrap_or_else(|| self.config.dir.join("registry.log"))
    }
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the process exits (for a supervisor).
    pub async fn wait_exit(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }

    /// Kills the process and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Kills it and starts it again on the same port with the same data (tests of interruption).
    pub async fn restart(self, timeout: Duration) -> Result<LocalRegistry> {
        let config = self.config.clone();
        self.stop().await;
        LocalRegistry::start(config, timeout).await
    }
}

/// A registry kept running: restarted (same port, same data) whenever it exits, stopped on
/// [`Supervisor::shutdown`].
pub struct Supervisor {
    host: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pid: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Supervisor {
    /// Starts the registry and the task that watches it.
    pub async fn start(config: Config, timeout: Duration) -> Result<Supervisor> {
        let reg = LocalRegistry::start(config, timeout).await?;
        let host = reg.host();
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(reg.pid().unwrap_or(0)));
        let pid2 = pid.clone();
        let task = tokio::spawn(async move {
            let mut reg = reg;
            loop {
                tokio::select! {
                    status = reg.wait_exit() => {
                        tracing::warn!(registry = %reg.host(), ?status, "docker-registry exited; restarting it");
                        match restart_until_up(reg.config().clone(), timeout, &mut stopped).await {
                            Some(r) => {
                                pid2.store(r.pid().unwrap_or(0), std::sync::atomic::Ordering::SeqCst);
                                reg = r;
                            }
                            None => return,
                        }
                    }
                    _ = stopped.changed() => {
                        reg.stop().await;
                        return;
                    }
                }
            }
        });
        Ok(Supervisor {
            host,
            stop,
            task,
            pid,
        })
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The current process id (changes when it is restarted).
    pub fn pid(&self) -> u32 {
        self.pid.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the registry and waits for it to exit.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Restarts with growing pauses (0.1 s … 5 s) until it is up or shutdown is asked for.
async fn restart_until_up(
    config: Config,
    timeout: Duration,
    stopped: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<LocalRegistry> {
    let mut pause = Duration::from_millis(100);
    loop {
        match LocalRegistry::start(config.clone(), timeout).await {
            Ok(r) => return Some(r),
            Err(e) => tracing::error!(error = %e, "cannot restart docker-registry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => return None,
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// The registry's YAML config; pure so it can be unit-tested.
pub fn render_config(c: &Config, addr: SocketAddr, secret: &str) -> String {
    let mut s = format!(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {addr}\n  secret: {secret}\n  headers:\n    X-Content-Type-Options: [nosniff]\n",
        data = yaml_str(&c.dir.join("data").display().to_string()),
        secret = yaml_str(secret),
    );
    if let Some((cert, key)) = &c.tls {
        s += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            yaml_str(&cert.display().to_string()),
            yaml_str(&key.display().to_string())
        );
    }
    if let Some(h) = &c.htpasswd {
        s += &format!(
            "auth:\n  htpasswd:\n    realm: marketplace-registry\n    path: {}\n",
            yaml_str(&h.display().to_string())
        );
    } else if let Some(t) = &c.token {
        s += &format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            yaml_str(&t.realm),
            yaml_str(&t.service),
            yaml_str(&t.issuer),
            yaml_str(&t.root_cert_bundle.display().to_string())
        );
    }
    s
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The secret the registry signs upload-session state with, kept in `<dir>/http-secret` so that
/// sessions survive a restart (without it every start picks a new random one and an interrupted
/// upload cannot be resumed).
fn upload_secret(dir: &Path) -> Result<String> {
    let p = dir.join("http-secret");
    if let Ok(s) = std::fs::read_to_string(&p)
        && s.trim().len() >= 32
    {
        return Ok(s.trim().to_string());
    }
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| Error::io("/dev/urandom", e))?;
    let s = hex::encode(bytes);
    std::fs::write(&p, &s).map_err(|e| Error::io(p.display(), e))?;
    Ok(s)
}

/// A port on 127.0.0.1 nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("127.0.0.1:0", e))
}

/// Finds a program on `$PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_storage_address_and_auth() {
        let c = Config {
            dir: "/d".into(),
            htpasswd: Some("/h/pw".into()),
            ..Default::default()
        };
        let y = render_config(&c, "127.0.0.1:5001".parse().unwrap(), "s3cret");
        assert!(y.contains("rootdirectory: \"/d/data\""), "{y}");
        assert!(y.contains("addr: 127.0.0.1:5001"), "{y}");
        assert!(
            y.contains("htpasswd:\n    realm: marketplace-registry\n    path: \"/h/pw\""),
            "{y}"
        );
        let parsed: serde_yaml::Value = serde_yaml::from_str(&y).unwrap();
        assert_eq!(parsed["auth"]["htpasswd"]["path"].as_str(), Some("/h/pw"));
        assert_eq!(parsed["storage"]["delete"]["enabled"].as_bool(), Some(true));
        assert_eq!(parsed["http"]["secret"].as_str(), Some("s3cret"));
    }
}
