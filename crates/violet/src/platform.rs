//! The platform side of violet: logging in (`POST /platform/v1/login` or a given token checked with
//! `GET /platform/v1/whoami`), refusing any user whose role is not the System role
//! `platform-admin-system`, discovering the registry and clusters (`GET /platform/v1/info`), and a
//! kube client per cluster (`<address>/kubernetes/<cluster>`) that carries the token.

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

use crate::cli::PlatformArgs;

pub const ADMIN_ROLE: &str = "platform-admin-system";

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub role_type: String,
    #[serde(default)]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Info {
    pub registry: Option<String>,
    #[serde(default)]
    pub clusters: Vec<String>,
}

/// A logged-in session.
pub struct Session {
    pub address: String,
    pub token: String,
    pub user: User,
    http: reqwest::Client,
    ca_pem: Option<Vec<u8>>,
    insecure: bool,
}

/// Only the System role `platform-admin-system` may upload; anyone else is told why.
pub fn check_role(user: &User) -> Result<()> {
    if user.role_type == "System" && user.role_name == ADMIN_ROLE {
        return Ok(());
    }
    bail!(
        "user {:?} has role {:?} of type {:?}; violet needs a platform user whose role is the System role {ADMIN_ROLE} \
         (a Custom role cannot use it). Log in as such a user or ask an administrator to grant that role. Nothing was pushed.",
        user.name,
        user.role_name,
        user.role_type
    )
}

fn http_client(args: &PlatformArgs) -> Result<(reqwest::Client, Option<Vec<u8>>)> {
    let mut b = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .connect_timeout(std::time::Duration::from_secs(10));
    let mut ca_pem = None;
    if let Some(ca) = &args.platform_ca {
        let pem = std::fs::read(ca).with_context(|| format!("--platform-ca {}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("--platform-ca {}: not a PEM certificate", ca.display()))?;
        b = b.add_root_certificate(cert);
        ca_pem = Some(pem);
    }
    if args.insecure_skip_tls_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    Ok((b.build()?, ca_pem))
}

impl Session {
    /// Logs in with the flags given, and refuses non-admin users.
    pub async fn login(args: &PlatformArgs) -> Result<Session> {
        let address = args
            .platform_address
            .as_deref()
            .ok_or_else(|| anyhow!("--platform-address is required (the platform access URL, e.g. https://example.com)"))?
            .trim_end_matches('/')
            .to_string();
        let (http, ca_pem) = http_client(args)?;
        let token = match (
            &args.platform_token,
            &args.platform_username,
            &args.platform_password,
        ) {
            (Some(t), _, _) => t.clone(),
            (None, Some(u), Some(p)) => login(&http, &address, u, p).await?,
            _ => bail!(
                "log in with --platform-username and --platform-password, or with --platform-token"
            ),
        };
        let mut s = Session {
            address,
            token,
            user: User {
                name: String::new(),
                role_type: String::new(),
                role_name: String::new(),
            },
            http,
            ca_pem,
            insecure: args.insecure_skip_tls_verify,
        };
        s.user = s.whoami().await?;
        check_role(&s.user)?;
        Ok(s)
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        let url = format!("{}{path}", self.address);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| unreachable_platform(&self.address, e))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            bail!(
                "the platform refused the token (expired or revoked); log in again with --platform-username/--platform-password"
            );
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            bail!(
                "GET {url}: HTTP {status}: {}",
                body.chars().take(300).collect::<String>()
            );
        }
        resp.json()
            .await
            .with_context(|| format!("GET {url}: unexpected answer"))
    }

    pub async fn whoami(&self) -> Result<User> {
        #[derive(Deserialize)]
        struct W {
            user: User,
        }
        Ok(self.get_json::<W>("/platform/v1/whoami").await?.user)
    }

    pub async fn info(&self) -> Result<Info> {
        self.get_json("/platform/v1/info").await
    }

    /// A kube client for `cluster` through the platform's `/kubernetes/<cluster>` prefix.
    pub async fn kube_client(&self, cluster: &str) -> Result<kube::Client> {
        use base64::Engine as _;
        let mut cluster_entry = serde_json::json!({
            "server": format!("{}/kubernetes/{cluster}", self.address),
        });
        if let Some(pem) = &self.ca_pem {
            cluster_entry["certificate-authority-data"] =
                base64::engine::general_purpose::STANDARD.encode(pem).into();
        }
        if self.insecure {
            cluster_entry["insecure-skip-tls-verify"] = true.into();
        }
        let kc = serde_json::json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": cluster, "cluster": cluster_entry}],
            "users": [{"name": "violet", "user": {"token": self.token}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "violet"}}],
            "current-context": cluster,
        });
        let kc: kube::config::Kubeconfig = serde_json::from_value(kc)?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .context("kube client configuration")?;
        Ok(kube::Client::try_from(cfg)?)
    }
}

fn unreachable_platform(address: &str, e: reqwest::Error) -> anyhow::Error {
    let mut cause = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        cause.push_str(&format!(": {s}"));
        src = s.source();
    }
    let hint = if cause.contains("certificate") {
        "the platform's TLS certificate is not trusted: pass its CA with --platform-ca FILE (or --insecure-skip-tls-verify)"
    } else {
        "check --platform-address and that the platform is running and reachable from here"
    };
    anyhow!("cannot reach the platform at {address}: {cause}; {hint}. Nothing was pushed.")
}

async fn login(
    http: &reqwest::Client,
    address: &str,
    user: &str,
    password: &str,
) -> Result<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Login {
        token: String,
    }
    let url = format!("{address}/platform/v1/login");
    let resp = http
        .post(&url)
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .map_err(|e| unreachable_platform(address, e))?;
    match resp.status() {
        s if s.is_success() => Ok(resp.json::<Login>().await.context("login answer")?.token),
        reqwest::StatusCode::UNAUTHORIZED => bail!(
            "login as {user:?} failed: wrong username or password. Check --platform-username/--platform-password. Nothing was pushed."
        ),
        reqwest::StatusCode::TOO_MANY_REQUESTS => bail!(
            "login as {user:?} was rate-limited after repeated failures; wait a minute and try again with the right password"
        ),
        reqwest::StatusCode::NOT_FOUND => bail!(
            "{address} has no login endpoint (/platform/v1/login): is --platform-address the platform's access URL?"
        ),
        s => bail!("login at {url}: HTTP {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &str, n: &str) -> User {
        User {
            name: "u".into(),
            role_type: t.into(),
            role_name: n.into(),
        }
    }

    #[test]
    fn only_the_system_admin_role_may_upload() {
        assert!(check_role(&user("System", ADMIN_ROLE)).is_ok());
        let e = check_role(&user("Custom", ADMIN_ROLE))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("System role platform-admin-system") && e.contains("Nothing was pushed"),
            "{e}"
        );
        assert!(check_role(&user("System", "platform-auditor")).is_err());
    }
}
