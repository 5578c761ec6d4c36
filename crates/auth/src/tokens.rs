//! Tokens that prove an identity.
//!
//! - [`ServiceAccountSigner`]: ServiceAccount tokens as kube-apiserver's TokenRequest issues them —
//!   JWTs (ES256 here) with `iss`, `sub` `system:serviceaccount:<ns>:<name>`, `aud`, `exp`/`iat`/`nbf`,
//!   `jti` and the `kubernetes.io` claim naming the namespace and the ServiceAccount's name and uid.
//!   The caller checks the uid still exists, so a deleted account's tokens stop working.
//! - [`UserTokens`]: opaque bearer tokens the platform issues to users (`mpu_` + 256 random bits),
//!   kept only as SHA-256 hashes with the user and expiry, serialisable for persistence.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::user::{AUTHENTICATED, UserInfo, split_service_account};

/// kube-apiserver's default issuer and API audience.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// A token's lifetime when TokenRequest names none (kube-apiserver: one hour).
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest lifetime TokenRequest accepts (kube-apiserver: ten minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 600;

const PEM_LABEL: &str = "PRIVATE KEY";
const USER_TOKEN_PREFIX: &str = "mpu_";

/// Why a token or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the service-account signing key is unreadable: {0}; delete it to have a new one created (every issued token then stops working)"
    )]
    BadKey(String),
    #[error("cannot create a key: the system random source failed")]
    Random,
    #[error("invalid bearer token: {0}")]
    Invalid(String),
    #[error("{0}")]
    Request(String),
}

/// The `kubernetes.io` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesClaim {
    pub namespace: String,
    pub serviceaccount: ObjectRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub name: String,
    pub uid: String,
}

/// The claims of a ServiceAccount token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
    pub nbf: i64,
    pub sub: String,
}

impl Claims {
    /// The identity the token proves.
    pub fn user(&self) -> UserInfo {
        let mut u = UserInfo::service_account(
            &self.kubernetes.namespace,
            &self.kubernetes.serviceaccount.name,
            &self.kubernetes.serviceaccount.uid,
        );
        u.extra.insert(
            "authentication.kubernetes.io/credential-id".into(),
            vec![format!("JTI={}", self.jti)],
        );
        u
    }
}

/// What a TokenRequest asks for.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    /// Empty: the API audience.
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
}

/// Signs and verifies ServiceAccount tokens with one ES256 key.
pub struct ServiceAccountSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    key_id: String,
    issuer: String,
}

impl std::fmt::Debug for ServiceAccountSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountSigner")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A new P-256 private key as PKCS#8 PEM (to be stored with mode 0600).
pub fn generate_signing_key_pem() -> Result<String, TokenError> {
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map_err(|_| TokenError::Random)?;
    let b64 = STANDARD.encode(doc.as_ref());
    let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
    Ok(pem)
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, TokenError> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body)
        .map_err(|e| TokenError::BadKey(e.to_string()))
}

impl ServiceAccountSigner {
    /// A signer from a PKCS#8 PEM P-256 key (see [`generate_signing_key_pem`]).
    pub fn from_pem(pem: &str, issuer: &str) -> Result<ServiceAccountSigner, TokenError> {
        let der = pem_to_der(pem)?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                .map_err(|e| TokenError::BadKey(e.to_string()))?;
        let public = pair.public_key().as_ref().to_vec();
        let key_id = URL_SAFE_NO_PAD.encode(Sha256::digest(&public));
        Ok(ServiceAccountSigner {
            encoding: EncodingKey::from_ec_der(&der),
            decoding: DecodingKey::from_ec_der(&public),
            key_id,
            issuer: issuer.to_string(),
        })
    }

    /// Issues a token at `now` (unix seconds); returns it with its claims.
    pub fn issue(&self, req: &TokenRequest<'_>, now: i64) -> Result<(String, Claims), TokenError> {
        if req.expiration_seconds < MIN_EXPIRATION_SECONDS {
            return Err(TokenError::Request(format!(
                "spec.expirationSeconds: Invalid value: {}: may not specify a duration less than 10 minutes",
                req.expiration_seconds
            )));
        }
        let aud = if req.audiences.is_empty() {
            vec![self.issuer.clone()]
        } else {
            req.audiences.clone()
        };
        let claims = Claims {
            aud,
            exp: now + req.expiration_seconds,
            iat: now,
            iss: self.issuer.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            kubernetes: KubernetesClaim {
                namespace: req.namespace.into(),
                serviceaccount: ObjectRef {
                    name: req.name.into(),
                    uid: req.uid.into(),
                },
            },
            nbf: now,
            sub: crate::user::service_account_username(req.namespace, req.name),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| TokenError::BadKey(e.to_string()))?;
        Ok((token, claims))
    }

    /// Verifies signature, issuer, expiry and that the token is for one of `audiences` (empty:
    /// the API audience), and that `sub` agrees with the `kubernetes.io` claim.
    pub fn verify(&self, token: &str, audiences: &[String]) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::ES256);
        v.set_issuer(&[&self.issuer]);
        if audiences.is_empty() {
            v.set_audience(&[&self.issuer]);
        } else {
            v.set_audience(audiences);
        }
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let c = data.claims;
        let consistent = split_service_account(&c.sub)
            == Some((&c.kubernetes.namespace, &c.kubernetes.serviceaccount.name));
        if !consistent {
            return Err(TokenError::Invalid(
                "sub does not name the token's ServiceAccount".into(),
            ));
        }
        Ok(c)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// Whether a bearer token looks like a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// One issued user token, as persisted (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTokenRecord {
    pub user: UserInfo,
    /// Unix seconds; `None` never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    pub issued: i64,
}

/// The platform's user tokens, by SHA-256 hash (hex).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTokens {
    pub tokens: BTreeMap<String, UserTokenRecord>,
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl UserTokens {
    /// Issues a token for `name` in `groups` (plus `system:authenticated`) valid for `ttl_seconds`
    /// (`None`: until revoked). Names of ServiceAccounts and empty names are refused.
    pub fn issue(
        &mut self,
        name: &str,
        groups: &[String],
        ttl_seconds: Option<i64>,
        now: i64,
    ) -> Result<String, TokenError> {
        self.issue_with_extra(name, groups, BTreeMap::new(), ttl_seconds, now)
    }

    /// [`UserTokens::issue`] with the user's `extra` attributes (e.g. the platform's token
    /// generation, which a password change bumps to revoke older tokens).
    pub fn issue_with_extra(
        &mut self,
        name: &str,
        groups: &[String],
        extra: BTreeMap<String, Vec<String>>,
        ttl_seconds: Option<i64>,
        now: i64,
    ) -> Result<String, TokenError> {
        if name.trim().is_empty() {
            return Err(TokenError::Request(
                "user name: must not be empty; name the user the token is for".into(),
            ));
        }
        if name.starts_with("system:serviceaccount:") {
            return Err(TokenError::Request(format!(
                "user name {name:?}: names starting with \"system:serviceaccount:\" belong to ServiceAccounts; request a ServiceAccount token (TokenRequest) instead"
            )));
        }
        if ttl_seconds.is_some_and(|t| t <= 0) {
            return Err(TokenError::Request(
                "ttl: must be positive; give the token's lifetime in seconds".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| TokenError::Random)?;
        let token = format!("{USER_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let mut groups: Vec<String> = groups.to_vec();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        let user = UserInfo {
            name: name.into(),
            uid: uuid::Uuid::new_v4().to_string(),
            groups,
            extra,
        };
        self.tokens.insert(
            hash_token(&token),
            UserTokenRecord {
                user,
                expires: ttl_seconds.map(|t| now + t),
                issued: now,
            },
        );
        Ok(token)
    }

    /// The user of a valid, unexpired token.
    pub fn authenticate(&self, token: &str, now: i64) -> Option<&UserInfo> {
        self.record(token, now).map(|r| &r.user)
    }

    /// The record of a valid, unexpired token.
    pub fn record(&self, token: &str, now: i64) -> Option<&UserTokenRecord> {
        if !token.starts_with(USER_TOKEN_PREFIX) {
            return None;
        }
        let rec = self.tokens.get(&hash_token(token))?;
        rec.expires.is_none_or(|e| now < e).then_some(rec)
    }

    /// Forgets `token`; returns whether it was known.
    pub fn revoke(&mut self, token: &str) -> bool {
        self.tokens.remove(&hash_token(token)).is_some()
    }

    /// Forgets every token of user `name`; returns how many there were.
    pub fn revoke_user(&mut self, name: &str) -> usize {
        let before = self.tokens.len();
        self.tokens.retain(|_, r| r.user.name != name);
        before - self.tokens.len()
    }

    /// Drops expired tokens; returns whether any were dropped.
    pub fn prune(&mut self, now: i64) -> bool {
        let before = self.tokens.len();
        self.tokens.retain(|_, r| r.expires.is_none_or(|e| now < e));
        before != self.tokens.len()
    }
}

#[cfg(test)]
mod tests;
