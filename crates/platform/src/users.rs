//! Platform users: names, role (type and name) and Argon2id password hashes, kept in
//! `<data-dir>/users.json` (mode 0600, replaced atomically). The file is the one source of truth:
//! `marketplace user ...` edits it offline (also while `serve` runs) and `serve` re-reads it when
//! its stamp (inode, size, mtime) changes, so an added user can log in and a deleted user's or
//! re-passworded user's tokens stop working at once (each token carries the user's *generation*,
//! which `passwd` renews).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The System role whose users administer the platform (bound to cluster-admin everywhere).
pub const ADMIN_ROLE: &str = "platform-admin-system";
/// The user `serve` creates on first start.
pub const ADMIN_USER: &str = "admin";
/// Shortest password accepted from people.
pub const MIN_PASSWORD_LEN: usize = 8;

/// A role's type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleType {
    System,
    Custom,
}

impl RoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleType::System => "System",
            RoleType::Custom => "Custom",
        }
    }

    pub fn parse(s: &str) -> Result<RoleType, UserError> {
        match s {
            "System" | "system" => Ok(RoleType::System),
            "Custom" | "custom" => Ok(RoleType::Custom),
            other => Err(UserError::Invalid(format!(
                "role type {other:?}: must be System or Custom"
            ))),
        }
    }
}

/// One user as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub role_type: RoleType,
    pub role_name: String,
    /// Argon2id PHC string (`$argon2id$v=19$m=...`).
    pub password_hash: String,
    /// Renewed by every password change; tokens of an older generation are refused.
    pub generation: String,
    /// Unix seconds.
    pub created: i64,
}

/// Every user, by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDb {
    pub users: BTreeMap<String, User>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("user {0:?} already exists; change its password with `marketplace user passwd {0}`")]
    Exists(String),
    #[error("user {0:?} does not exist; list users with `marketplace user list`")]
    NotFound(String),
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid users file: {message}; fix it or restore it from a backup")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// A user name or role name: 1–63 of `a-z 0-9 . _ @ -`, starting and ending alphanumeric.
pub fn validate_name(what: &str, name: &str) -> Result<(), UserError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c);
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty()
        || name.len() > 63
        || !name.chars().all(ok_char)
        || !alnum(name.chars().next())
        || !alnum(name.chars().last())
    {
        return Err(UserError::Invalid(format!(
            "{what} {name:?}: use 1-63 lowercase letters, digits, '.', '-', '_' or '@', starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

fn validate_password(password: &str) -> Result<(), UserError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(UserError::Invalid(format!(
            "password: must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// A generated password: 18 random bytes as URL-safe base64, never starting with `-` (a
/// command-line flag parser would take it for an option: `--password -x…`).
pub fn random_password() -> String {
    loop {
        let p = random_string(18);
        if !p.starts_with('-') {
            return p;
        }
    }
}

/// `n` random bytes as URL-safe base64 (generated passwords, generations).
pub fn random_string(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Argon2id with the crate's defaults (OWASP's m=19 MiB, t=2, p=1) and a random salt.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for an unreadable hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl UserDb {
    pub fn add(
        &mut self,
        name: &str,
        role_type: RoleType,
        role_name: &str,
        password: &str,
        now: i64,
    ) -> Result<(), UserError> {
        validate_name("user name", name)?;
        validate_name("role name", role_name)?;
        validate_password(password)?;
        if self.users.contains_key(name) {
            return Err(UserError::Exists(name.into()));
        }
        let user = User {
            role_type,
            role_name: role_name.into(),
            password_hash: hash_password(password)?,
            generation: random_string(12),
            created: now,
        };
        self.users.insert(name.into(), user);
        Ok(())
    }

    /// Sets a new password and a new generation (every older token stops working).
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), UserError> {
        validate_password(password)?;
        let hash = hash_password(password)?;
        let user = self
            .users
            .get_mut(name)
            .ok_or_else(|| UserError::NotFound(name.into()))?;
        user.password_hash = hash;
        user.generation = random_string(12);
        Ok(())
    }

    pub fn delete(&mut self, name: &str) -> Result<User, UserError> {
        self.users
            .remove(name)
            .ok_or_else(|| UserError::NotFound(name.into()))
    }

    /// The user `name` if `password` is theirs. Unknown users cost one hash check too, so timing
    /// does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> Option<&User> {
        match self.users.get(name) {
            Some(u) => verify_password(&u.password_hash, password).then_some(u),
            None => {
                let _ = verify_password(dummy_hash(), password);
                None
            }
        }
    }

    pub fn load(path: &Path) -> Result<UserDb, UserError> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| UserError::Corrupt {
                path: path.into(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserDb::default()),
            Err(source) => Err(UserError::Io {
                path: path.into(),
                source,
            }),
        }
    }

    /// Writes the file atomically (temp file, fsync, rename), mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), UserError> {
        let bytes = serde_json::to_vec_pretty(self).expect("users serialize");
        write_private(path, &bytes)
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Writes `bytes` to `path` atomically with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    let io = |source| UserError::Io {
        path: path.into(),
        source,
    };
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Takes the users file's edit lock (`users.json.lock`, released when the file is dropped), so
/// `serve`'s first-start bootstrap and `marketplace user` runs never lose each other's update.
pub fn lock_users(users_file: &Path) -> Result<std::fs::File, UserError> {
    let path = users_file.with_extension("json.lock");
    let io = |source| UserError::Io {
        path: path.clone(),
        source,
    };
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    f.lock().map_err(io)?;
    Ok(f)
}

/// The users file's path in a data dir.
pub fn users_path(data_dir: &Path) -> PathBuf {
    data_dir.join("users.json")
}

/// A file's identity and version: inode, size, mtime (s, ns).
type Stamp = (u64, u64, i64, i64);

/// The users file as `serve` sees it: re-read whenever it changed on disk.
pub struct Users {
    path: PathBuf,
    cache: Mutex<(Option<Stamp>, Arc<UserDb>)>,
}

impl Users {
    pub fn new(data_dir: &Path) -> Users {
        Users {
            path: users_path(data_dir),
            cache: Mutex::new((None, Arc::new(UserDb::default()))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current users (the file's content as of now).
    pub fn current(&self) -> Result<Arc<UserDb>, UserError> {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(m) => Some((m.ino(), m.size(), m.mtime(), m.mtime_nsec())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(UserError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut cache = self.cache.lock().expect("users cache lock poisoned");
        if cache.0 != stamp || stamp.is_none() {
            let db = UserDb::load(&self.path)?;
            *cache = (stamp, Arc::new(db));
        }
        Ok(cache.1.clone())
    }

    /// On first start (no users file): creates user `admin` (System / `platform-admin-system`)
    /// with a generated password written to `<data-dir>/admin-password` (0600); returns that path.
    pub fn bootstrap_admin(&self, now: i64) -> Result<Option<PathBuf>, UserError> {
        let _lock = lock_users(&self.path)?;
        if self.path.exists() {
            return Ok(None);
        }
        let password = random_password();
        let mut db = UserDb::default();
        db.add(ADMIN_USER, RoleType::System, ADMIN_ROLE, &password, now)?;
        let pw_path = self.path.with_file_name("admin-password");
        write_private(&pw_path, format!("{password}\n").as_bytes())?;
        db.save(&self.path)?;
        Ok(Some(pw_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_never_start_with_a_hyphen() {
        // One random string in 64 starts with '-': 2,000 draws would show it.
        for _ in 0..2000 {
            let p = random_password();
            assert!(!p.starts_with('-'), "{p}");
            assert_eq!(p.len(), 24);
        }
    }

    #[test]
    fn passwords_are_kept_as_argon2id_and_verified() {
        let mut db = UserDb::default();
        db.add("alice", RoleType::Custom, "dev", "s3cret-pass", 1)
            .unwrap();
        let u = &db.users["alice"];
        assert!(
            u.password_hash.starts_with("$argon2id$"),
            "{}",
            u.password_hash
        );
        assert!(!serde_json::to_string(&db).unwrap().contains("s3cret-pass"));
        assert!(db.verify("alice", "s3cret-pass").is_some());
        assert!(db.verify("alice", "wrong-pass").is_none());
        assert!(db.verify("nobody", "s3cret-pass").is_none());
    }

    #[test]
    fn a_password_change_renews_the_generation_and_bad_input_is_refused() {
        let mut db = UserDb::default();
        db.add("bob", RoleType::System, ADMIN_ROLE, "password1", 1)
            .unwrap();
        let before = db.users["bob"].generation.clone();
        db.set_password("bob", "password2").unwrap();
        assert_ne!(db.users["bob"].generation, before);
        assert!(db.verify("bob", "password2").is_some());
        assert!(matches!(
            db.add("bob", RoleType::System, ADMIN_ROLE, "password1", 1),
            Err(UserError::Exists(_))
        ));
        let short = db
            .add("carol", RoleType::Custom, "dev", "short", 1)
            .unwrap_err();
        assert!(short.to_string().contains("at least 8"), "{short}");
        let bad = db
            .add("Carol!", RoleType::Custom, "dev", "password1", 1)
            .unwrap_err();
        assert!(bad.to_string().contains("user name \"Carol!\""), "{bad}");
        assert!(RoleType::parse("Admin").is_err());
        assert!(matches!(db.delete("nobody"), Err(UserError::NotFound(_))));
    }

    #[test]
    fn the_admin_is_bootstrapped_once_and_changes_on_disk_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(dir.path());
        let pw_path = users.bootstrap_admin(1).unwrap().expect("first start");
        assert!(users.bootstrap_admin(2).unwrap().is_none(), "only once");
        let mode = std::fs::metadata(&pw_path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let pw = std::fs::read_to_string(&pw_path).unwrap();
        let db = users.current().unwrap();
        assert_eq!(db.users[ADMIN_USER].role_name, ADMIN_ROLE);
        assert!(db.verify(ADMIN_USER, pw.trim()).is_some());
        let mut edited = (*db).clone();
        edited.delete(ADMIN_USER).unwrap();
        edited.save(users.path()).unwrap();
        assert!(
            users.current().unwrap().users.is_empty(),
            "re-read after a change"
        );
    }
}
