//! Candidate primes: a random odd start with its two top bits set, then a window of the odd
//! numbers after it with every multiple of a small prime struck out (sieve of Eratosthenes over
//! the window). What survives goes to the Fermat filter, then to the full test.

use std::sync::OnceLock;

/// Odd primes below `bound`, by a plain sieve (computed once per bound class and cached).
fn odd_primes_below(bound: u32) -> Vec<u32> {
    let n = bound as usize;
    let mut composite = vec![false; n];
    let mut out = Vec::new();
    for i in 3..n {
        if composite[i] || i % 2 == 0 {
            continue;
        }
        out.push(i as u32);
        let mut k = i * i;
        while k < n {
            composite[k] = true;
            k += i;
        }
    }
    out
}

/// The sieving primes for candidates of `bits` bits. Bigger candidates cost more per Fermat
/// test, so they are worth sieving deeper: each doubling of the bound removes ~7% more tests.
pub fn small_primes(bits: usize) -> &'static [u32] {
    static SMALL: OnceLock<Vec<u32>> = OnceLock::new();
    static LARGE: OnceLock<Vec<u32>> = OnceLock::new();
    if bits <= 1024 {
        SMALL.get_or_init(|| odd_primes_below(1 << 15))
    } else {
        LARGE.get_or_init(|| odd_primes_below(1 << 18))
    }
}

/// `x mod p` for a small `p`, 32 bits at a time so every step fits a `u64`.
pub fn rem_small<const N: usize>(x: &[u64; N], p: u32) -> u32 {
    let p = p as u64;
    let mut r = 0u64;
    for &limb in x.iter().rev() {
        r = ((r << 32) | (limb >> 32)) % p;
        r = ((r << 32) | (limb & 0xffff_ffff)) % p;
    }
    r as u32
}

/// Which of `start + 2k`, `k < width`, have a factor among `primes`. `start` must be odd and far
/// larger than every sieving prime (so no candidate *is* one of them).
pub fn strike<const N: usize>(start: &[u64; N], primes: &[u32], width: usize) -> Vec<bool> {
    let mut composite = vec![false; width];
    for &p in primes {
        let r = rem_small(start, p) as u64;
        let p64 = p as u64;
        // start + 2k ≡ 0 (mod p)  ⇔  k ≡ -r · 2⁻¹, and 2⁻¹ = (p + 1) / 2 for odd p.
        let mut k = ((p64 - r) % p64 * p64.div_ceil(2) % p64) as usize;
        while k < width {
            composite[k] = true;
            k += p as usize;
        }
    }
    composite
}

/// `start + 2k`, or `None` when it no longer fits `N` limbs.
pub fn offset<const N: usize>(start: &[u64; N], k: usize) -> Option<[u64; N]> {
    let mut out = *start;
    let mut carry = 2 * k as u64;
    for limb in out.iter_mut() {
        if carry == 0 {
            break;
        }
        let (v, c) = limb.overflowing_add(carry);
        *limb = v;
        carry = c as u64;
    }
    (carry == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::BigUint;

    #[test]
    fn small_primes_are_the_odd_primes() {
        let p = odd_primes_below(50);
        assert_eq!(
            p,
            [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47].to_vec()
        );
        assert_eq!(small_primes(1024).len(), 3511); // π(2^15) - 1
    }

    #[test]
    fn remainder_matches_big_integer_remainder() {
        let x = [
            0x0123_4567_89ab_cdefu64,
            0xfedc_ba98_7654_3210,
            0x8000_0000_0000_0001,
        ];
        let big =
            BigUint::from_bytes_le(&x.iter().flat_map(|l| l.to_le_bytes()).collect::<Vec<_>>());
        for p in [3u32, 65537, 262_139, 32749] {
            assert_eq!(BigUint::from(rem_small(&x, p)), &big % p);
        }
    }

    #[test]
    fn strike_marks_exactly_the_multiples_of_the_sieving_primes() {
        let start = [1_000_001u64, 0];
        let primes = [3u32, 5, 7, 11, 13];
        let width = 500;
        let composite = strike(&start, &primes, width);
        for (k, c) in composite.iter().enumerate() {
            let n = 1_000_001u64 + 2 * k as u64;
            assert_eq!(
                *c,
                primes.iter().any(|&p| n.is_multiple_of(p as u64)),
                "n = {n}"
            );
        }
    }

    #[test]
    fn offset_carries_across_limbs_and_reports_overflow() {
        assert_eq!(offset(&[u64::MAX - 1, 0], 1), Some([0, 1]));
        assert_eq!(offset(&[u64::MAX, u64::MAX], 1), None);
    }
}
