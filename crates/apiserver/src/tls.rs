//! TLS material: a self-signed CA and a serving certificate signed by it, created on first start
//! under `<data-dir>/pki/` (`ca.crt`, `ca.key`, `server.crt`, `server.key`; keys mode 0600) and
//! reused afterwards, plus the rustls server configuration built from them.
//!
//! The serving certificate's SANs are `127.0.0.1`, `::1` and `localhost`, plus the listen address
//! when it is a specific IP. Certificates are issued with rcgen (ring provider).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "cannot read or write TLS material {path}: {source}; check permissions of the data dir"
    )]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(
        "TLS material {path} is unreadable: {reason}; remove the pki/ directory to regenerate it"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot build the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The CA and serving certificate, PEM-encoded.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    pub ca_cert_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, s: &str, mode: u32) -> Result<(), TlsError> {
    crate::fsutil::write_atomic(path, s.as_bytes(), mode).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl TlsMaterial {
    /// Loads `<dir>/pki/*` or creates it on first start.
    pub fn load_or_create(
        data_dir: &Path,
        extra_ip: Option<std::net::IpAddr>,
    ) -> Result<TlsMaterial, TlsError> {
        let dir = data_dir.join("pki");
        let (ca_crt, srv_crt, srv_key) = (
            dir.join("ca.crt"),
            dir.join("server.crt"),
            dir.join("server.key"),
        );
        if ca_crt.exists() && srv_crt.exists() && srv_key.exists() {
            return Ok(TlsMaterial {
                ca_cert_pem: read(&ca_crt)?,
                server_cert_pem: read(&srv_crt)?,
                server_key_pem: read(&srv_key)?,
            });
        }
        let m = Self::generate(extra_ip)?;
        std::fs::create_dir_all(&dir).map_err(|source| TlsError::Io {
            path: dir.clone(),
            source,
        })?;
        write(&srv_key, &m.server_key_pem, 0o600)?;
        write(&srv_crt, &m.server_cert_pem, 0o644)?;
        write(&ca_crt, &m.ca_cert_pem, 0o644)?;
        Ok(m)
    }

    /// Creates a fresh CA and a serving certificate signed by it.
    pub fn generate(extra_ip: Option<std::net::IpAddr>) -> Result<TlsMaterial, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "marketplace-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
        let ca_cert = ca_params.self_signed(&ca_key)?;

        let srv_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "marketplace-apiserver");
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().expect("ip")));
        params
            .subject_alt_names
            .push(SanType::IpAddress("::1".parse().expect("ip")));
        if let Some(ip) = extra_ip.filter(|ip| !ip.is_unspecified() && !ip.is_loopback()) {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
        params.not_after = rcgen::date_time_ymd(2100, 1, 1);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::new(ca_params, ca_key);
        let srv_cert = params.signed_by(&srv_key, &issuer)?;
        Ok(TlsMaterial {
            ca_cert_pem: ca_cert.pem(),
            server_cert_pem: srv_cert.pem(),
            server_key_pem: srv_key.serialize_pem(),
        })
    }

    /// The rustls server configuration (HTTP/1.1 and HTTP/2 by ALPN).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let bad = |what: &str, e: String| TlsError::Invalid {
            path: PathBuf::from(what),
            reason: e,
        };
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.server_cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| bad("pki/server.crt", e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes())
            .map_err(|e| bad("pki/server.key", e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reuses_material_with_private_keys_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = TlsMaterial::load_or_create(dir.path(), None).unwrap();
        let b = TlsMaterial::load_or_create(dir.path(), None).unwrap();
        assert_eq!(a.ca_cert_pem, b.ca_cert_pem);
        let mode = std::fs::metadata(dir.path().join("pki/server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        a.server_config().unwrap();
    }
}
