//! Content digests (`sha256:<64 hex>`, also `sha512`), and hashing while streaming so that every
//! blob read or written is verified without a second pass.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

/// A validated content digest, `algorithm:encoded`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>` (or sha512); anything else is refused with the reason.
    pub fn parse(s: &str) -> Result<Digest> {
        let bad = |reason: &str| Error::InvalidDigest {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| bad("expected ALGORITHM:HEX"))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(bad(
                    "unsupported algorithm (sha256 and sha512 are supported)",
                ));
            }
        };
        if hex.len() != algorithm.hex_len() {
            return Err(bad(&format!(
                "{} needs {} hex characters, got {}",
                alg,
                algorithm.hex_len(),
                hex.len()
            )));
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("the encoded part must be lowercase hex"));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(data);
        h.finish()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The encoded (hex) part, used as the blob's file name in a layout.
    pub fn hex(&self) -> &str {
        &self.hex
    }
    pub fn algorithm_name(&self) -> &'static str {
        self.algorithm.name()
    }

    /// Checks `data` against this digest.
    pub fn verify(&self, data: &[u8]) -> Result<()> {
        let mut h = Hasher::new(self.algorithm);
        h.update(data);
        h.finish_verify(self)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}
impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Digest> {
        Digest::parse(s)
    }
}

/// Incremental hashing of a stream of bytes.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: hex::encode(h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: hex::encode(h.finalize()),
            },
        }
    }
    /// Finishes and compares with `expected`.
    pub fn finish_verify(self, expected: &Digest) -> Result<()> {
        let actual = self.finish();
        if &actual == expected {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                expected: expected.clone(),
                actual,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input_is_the_well_known_sha256() {
        assert_eq!(Digest::of(b"").to_string(), EMPTY);
    }

    #[test]
    fn parse_round_trips_and_refuses_malformed_digests() {
        assert_eq!(Digest::parse(EMPTY).unwrap().to_string(), EMPTY);
        for bad in [
            "sha256:abc",
            "md5:e3b0",
            "e3b0c442",
            &EMPTY.to_uppercase(),
            "sha256:zz",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn verify_refuses_content_that_does_not_match() {
        let d = Digest::of(b"hello");
        d.verify(b"hello").unwrap();
        let err = d.verify(b"hellO").unwrap_err().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
    }
}
