//! Bearer-token authentication.
//!
//! One admin token is created on first start (`<data-dir>/admin.token`, mode 0600) and reused. Every
//! request but `/healthz`, `/livez`, `/readyz` and `/version` (also under a `/kubernetes/<cluster>`
//! prefix) must carry `Authorization: Bearer <token>`; otherwise the answer is a 401 `Status`.
//! Tokens are compared in constant time.

use std::path::Path;

/// Paths that need no token.
pub fn is_public_path(path: &str) -> bool {
    let p = match path.strip_prefix("/kubernetes/") {
        Some(rest) => match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        },
        None => path,
    };
    let p = p.trim_end_matches('/');
    matches!(p, "/healthz" | "/livez" | "/readyz" | "/version")
        || p.starts_with("/healthz/")
        || p.starts_with("/livez/")
        || p.starts_with("/readyz/")
}

/// Loads `<data-dir>/admin.token` or creates it with 244 bits of randomness.
pub fn load_or_create_token(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("admin.token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    crate::fsutil::write_atomic(&path, token.as_bytes(), 0o600)?;
    Ok(token)
}

/// Whether the `Authorization` header carries `expected`.
pub fn check_bearer(header: Option<&[u8]>, expected: &str) -> bool {
    let Some(h) = header else { return false };
    let Some(tok) = h
        .strip_prefix(b"Bearer ")
        .or_else(|| h.strip_prefix(b"bearer "))
    else {
        return false;
    };
    constant_time_eq(tok.trim_ascii(), expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths_with_and_without_cluster_prefix() {
        for p in [
            "/healthz",
            "/livez",
            "/readyz",
            "/version",
            "/version/",
            "/kubernetes/b/version",
            "/readyz/ping",
        ] {
            assert!(is_public_path(p), "{p}");
        }
        for p in [
            "/api",
            "/apis",
            "/kubernetes/b/api/v1",
            "/openapi/v3",
            "/",
            "/versionx",
        ] {
            assert!(!is_public_path(p), "{p}");
        }
    }

    #[test]
    fn bearer_must_match_exactly() {
        assert!(check_bearer(Some(b"Bearer abc"), "abc"));
        assert!(!check_bearer(Some(b"Bearer abd"), "abc"));
        assert!(!check_bearer(Some(b"Basic abc"), "abc"));
        assert!(!check_bearer(None, "abc"));
        assert!(!check_bearer(Some(b"Bearer "), "abc"));
    }

    #[test]
    fn token_persists_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let a = load_or_create_token(d.path()).unwrap();
        assert_eq!(a, load_or_create_token(d.path()).unwrap());
        assert_eq!(a.len(), 64);
        let mode = std::fs::metadata(d.path().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
