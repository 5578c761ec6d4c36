//! The CPU-heavy cryptography behind Sprig's generator functions, written for speed: RSA key
//! generation ([`rsa_private_key`], for `genPrivateKey` and the `gen*Cert` functions) and bcrypt
//! ([`bcrypt::generate_from_password`], for `bcrypt` and `htpasswd`). A chart that makes a CA
//! spends nearly all its render time here, so these are what decide whether rendering is faster
//! than Helm's.
//!
//! Owns: finding primes and assembling RSA keys, and the EksBlowfish hash. Must not touch:
//! templates, PEM formatting or certificates (the template engine's `crypto` functions do those,
//! with `rsa` and `rcgen`). Hand-written arithmetic here is always checked by a library: primes
//! by `crypto-primes`' Baillie-PSW test, keys by `rsa`'s validation, hashes (in tests) by the
//! `bcrypt` crate and published vectors.

pub mod bcrypt;
mod mont;
mod pi;
mod rsakey;
mod sieve;

pub use rsakey::{KeygenError, PUBLIC_EXPONENT, rsa_private_key};
