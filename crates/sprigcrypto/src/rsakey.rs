//! RSA keys for `genPrivateKey "rsa"` (4096 bits) and the keys behind `genCA` /
//! `genSelfSignedCert` / `genSignedCert` (2048 bits).
//!
//! The prime search is sieved ([`crate::sieve`]), throws composites out with a Fermat test on
//! specialised Montgomery arithmetic ([`crate::mont`]), and runs on every core at once, the
//! workers racing for the two primes. Every survivor is then confirmed by `crypto-primes`'
//! Baillie-PSW test (Miller-Rabin to base 2 and a strong Lucas test), and the key (private exponent, CRT values,
//! validation) is built by the `rsa` crate, so the arithmetic written here can only make the
//! search slower if wrong, never the key weaker.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use num_bigint_dig::BigUint;
use rand_core::{OsRng, RngCore};
use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;

/// The public exponent every generator here uses (as Go's `rsa.GenerateKey`).
pub const PUBLIC_EXPONENT: u32 = 65537;

/// Why no key came out.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    #[error("RSA key generation failed: the operating system's random generator failed: {0}")]
    Random(String),
    #[error("RSA key generation failed: {0}")]
    Rsa(#[from] rsa::Error),
}

/// A new RSA private key with a modulus of exactly `bits` bits and exponent 65537.
///
/// 2048- and 4096-bit keys use the parallel sieved search; other sizes use `rsa`'s generator.
pub fn rsa_private_key(bits: usize) -> Result<RsaPrivateKey, KeygenError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    loop {
        let (p, q) = match bits {
            2048 => prime_pair::<16>(workers)?,
            4096 => prime_pair::<32>(workers)?,
            _ => return Ok(RsaPrivateKey::new(&mut OsRng, bits)?),
        };
        if p == q {
            continue;
        }
        let key = RsaPrivateKey::from_p_q(p, q, BigUint::from(PUBLIC_EXPONENT))?;
        // Two primes with their two top bits set always give a `bits`-bit modulus; checked anyway.
        if key.n().bits() == bits {
            key.validate()?;
            return Ok(key);
        }
    }
}

/// Two primes of `64·N` bits, found by `workers` threads searching independently.
fn prime_pair<const N: usize>(workers: usize) -> Result<(BigUint, BigUint), KeygenError> {
    let found: Mutex<Vec<BigUint>> = Mutex::new(Vec::with_capacity(2));
    let error: Mutex<Option<KeygenError>> = Mutex::new(None);
    let done = AtomicBool::new(false);
    let work = || {
        while !done.load(Ordering::Relaxed) {
            match random_prime::<N>(&done) {
                Ok(Some(p)) => {
                    let mut f = found.lock().unwrap_or_else(|e| e.into_inner());
                    if f.len() < 2 {
                        f.push(p);
                    }
                    if f.len() == 2 {
                        done.store(true, Ordering::Relaxed);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    *error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    done.store(true, Ordering::Relaxed);
                }
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut f = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let q = f
        .pop()
        .expect("the search stops only with two primes or an error");
    let p = f
        .pop()
        .expect("the search stops only with two primes or an error");
    Ok((p, q))
}

/// How many odd numbers after the random start one window sieves. A 1024-bit window holds
/// about 11 primes on average, a 2048-bit one about 6; an empty window just starts another.
const WINDOW: usize = 4096;

/// One window of the search: a prime of exactly `64·N` bits with its two top bits set and
/// `p - 1` coprime to the public exponent, or `None` if the window had none or `stop` was set.
fn random_prime<const N: usize>(stop: &AtomicBool) -> Result<Option<BigUint>, KeygenError> {
    let mut bytes = vec![0u8; 8 * N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| KeygenError::Random(e.to_string()))?;
    let mut start = [0u64; N];
    for (limb, chunk) in start.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    start[N - 1] |= 0b11 << 62;
    start[0] |= 1;
    let composite = crate::sieve::strike(&start, crate::sieve::small_primes(64 * N), WINDOW);
    let r_e = crate::sieve::rem_small(&start, PUBLIC_EXPONENT) as usize;
    for (k, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        // e must be invertible mod p - 1: for prime e that means p ≢ 1 (mod e).
        if (r_e + 2 * k) % PUBLIC_EXPONENT as usize == 1 {
            continue;
        }
        let Some(candidate) = crate::sieve::offset(&start, k) else {
            return Ok(None);
        };
        if candidate[N - 1] >> 62 != 0b11 || !crate::mont::fermat_base2(&candidate) {
            continue;
        }
        let bytes: Vec<u8> = candidate.iter().flat_map(|l| l.to_le_bytes()).collect();
        let wide = crypto_bigint::Uint::<N>::from_le_slice(&bytes);
        if crypto_primes::is_prime(crypto_primes::Flavor::Any, &wide) {
            return Ok(Some(BigUint::from_bytes_le(&bytes)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
    use rsa::traits::PrivateKeyParts;

    #[test]
    fn a_2048_bit_key_has_two_1024_bit_primes_and_round_trips_through_pkcs1() {
        let key = rsa_private_key(2048).unwrap();
        assert_eq!(key.n().bits(), 2048);
        assert_eq!(key.e(), &BigUint::from(PUBLIC_EXPONENT));
        let primes = key.primes();
        assert_eq!(primes.len(), 2);
        for p in primes {
            assert_eq!(p.bits(), 1024);
            assert!(num_bigint_dig::prime::probably_prime(p, 10));
        }
        let pem = key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap();
        assert_eq!(RsaPrivateKey::from_pkcs1_pem(&pem).unwrap(), key);
    }

    #[test]
    fn keys_sign_and_verify() {
        use rsa::Pkcs1v15Sign;
        let key = rsa_private_key(2048).unwrap();
        let digest = [7u8; 32];
        let sig = key.sign(Pkcs1v15Sign::new_unprefixed(), &digest).unwrap();
        key.to_public_key()
            .verify(Pkcs1v15Sign::new_unprefixed(), &digest, &sig)
            .unwrap();
    }

    #[test]
    fn two_keys_differ() {
        assert_ne!(
            rsa_private_key(2048).unwrap().n(),
            rsa_private_key(2048).unwrap().n()
        );
    }

    #[test]
    fn a_4096_bit_key_has_two_2048_bit_primes() {
        let key = rsa_private_key(4096).unwrap();
        assert_eq!(key.n().bits(), 4096);
        for p in key.primes() {
            assert_eq!(p.bits(), 2048);
        }
    }

    #[test]
    fn other_sizes_fall_back_to_the_rsa_crate() {
        assert_eq!(rsa_private_key(1024).unwrap().n().bits(), 1024);
    }

    #[test]
    fn found_primes_are_confirmed_primes_with_p_minus_1_coprime_to_e() {
        let stop = AtomicBool::new(false);
        let mut got = 0;
        while got < 3 {
            if let Some(p) = random_prime::<16>(&stop).unwrap() {
                assert!(num_bigint_dig::prime::probably_prime(&p, 20));
                assert_ne!(&p % PUBLIC_EXPONENT, BigUint::from(1u32));
                assert_eq!(p.bits(), 1024);
                got += 1;
            }
        }
    }

    #[test]
    fn a_set_stop_flag_ends_the_search_without_a_prime() {
        let stop = AtomicBool::new(true);
        assert!(random_prime::<16>(&stop).unwrap().is_none());
    }
}
