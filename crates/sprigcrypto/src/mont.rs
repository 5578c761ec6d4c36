//! Montgomery arithmetic on fixed-size odd moduli, used only to throw composites out quickly.
//!
//! Numbers are `[u64; N]`, least significant limb first, and every modulus has its top bit set
//! (prime candidates are generated that way), which keeps `R mod m` a single subtraction.
//! Nothing here decides that a number is prime: [`fermat_base2`] can only prove a candidate
//! composite, and the caller confirms survivors with a full Baillie-PSW test. A bug here could
//! make the search slower, never accept a composite.

/// Largest limb count the squaring buffer holds (2048-bit moduli, the primes of a 4096-bit key).
pub const MAX_LIMBS: usize = 32;

/// `-m⁻¹ mod 2⁶⁴` for odd `m0`, by Newton's iteration (each step doubles the correct low bits).
pub fn neg_inverse(m0: u64) -> u64 {
    debug_assert!(m0 & 1 == 1);
    let mut x: u64 = 1;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(x)));
    }
    x.wrapping_neg()
}

/// `t - m` if `t + hi·2^(64N) ≥ m`, else `t`; the input is below `2m`.
#[inline(always)]
fn reduce_once<const N: usize>(t: &mut [u64; N], hi: u64, m: &[u64; N]) {
    let mut r = [0u64; N];
    let mut borrow = false;
    for j in 0..N {
        let (d1, b1) = t[j].overflowing_sub(m[j]);
        let (d2, b2) = d1.overflowing_sub(borrow as u64);
        r[j] = d2;
        borrow = b1 | b2;
    }
    if hi != 0 || !borrow {
        *t = r;
    }
}

/// `t + a·b + c`: the low limb returned, the high limb left in `c` (the sum always fits 128 bits).
#[inline(always)]
fn mul_add_carry(t: u64, a: u64, b: u64, c: &mut u64) -> u64 {
    let s = t as u128 + a as u128 * b as u128 + *c as u128;
    *c = (s >> 64) as u64;
    s as u64
}

/// `a² · R⁻¹ mod m` (R = 2^(64N)): the square first, with each cross product computed once,
/// then a word-by-word Montgomery reduction.
#[inline(never)]
pub fn square<const N: usize>(a: &[u64; N], m: &[u64; N], minv: u64) -> [u64; N] {
    const { assert!(N <= MAX_LIMBS) };
    let mut t = [0u64; 2 * MAX_LIMBS];
    // Cross products a[i]·a[j], i < j.
    for i in 0..N {
        let ai = a[i];
        let mut c = 0u64;
        for j in (i + 1)..N {
            t[i + j] = mul_add_carry(t[i + j], ai, a[j], &mut c);
        }
        t[i + N] = c;
    }
    // Double them, then add the squares on the diagonal.
    let mut carry = 0u64;
    for v in t.iter_mut().take(2 * N) {
        let x = *v;
        *v = (x << 1) | carry;
        carry = x >> 63;
    }
    let mut c = 0u64;
    for i in 0..N {
        let sq = a[i] as u128 * a[i] as u128;
        let s = t[2 * i] as u128 + (sq as u64) as u128 + c as u128;
        t[2 * i] = s as u64;
        let s = t[2 * i + 1] as u128 + (sq >> 64) + (s >> 64);
        t[2 * i + 1] = s as u64;
        c = (s >> 64) as u64;
    }
    // Montgomery reduction: clear one low limb per step.
    let mut top = 0u64;
    for i in 0..N {
        let u = t[i].wrapping_mul(minv);
        let mut c = 0u64;
        for j in 0..N {
            t[i + j] = mul_add_carry(t[i + j], u, m[j], &mut c);
        }
        let s = t[i + N] as u128 + c as u128 + top as u128;
        t[i + N] = s as u64;
        top = (s >> 64) as u64;
    }
    let mut r = [0u64; N];
    r.copy_from_slice(&t[N..2 * N]);
    reduce_once(&mut r, top, m);
    r
}

/// `2a mod m` for `a < m`.
#[inline(always)]
fn double<const N: usize>(a: &mut [u64; N], m: &[u64; N]) {
    let mut carry = 0u64;
    for v in a.iter_mut() {
        let x = *v;
        *v = (x << 1) | carry;
        carry = x >> 63;
    }
    reduce_once(a, carry, m);
}

/// Fermat's test to base 2: is `2^(m-1) ≡ 1 (mod m)`? `false` proves `m` composite; `true`
/// holds for every prime and for rare base-2 pseudoprimes. `m` must be odd with its top bit set.
///
/// Left-to-right binary exponentiation where "multiply by the base" is a doubling, so the cost
/// is one Montgomery squaring per exponent bit.
pub fn fermat_base2<const N: usize>(m: &[u64; N]) -> bool {
    assert!(
        m[0] & 1 == 1 && m[N - 1] >> 63 == 1,
        "modulus must be odd with its top bit set"
    );
    let minv = neg_inverse(m[0]);
    // R mod m = R - m, because m > R/2: the two's complement of m.
    let mut one = [0u64; N];
    let mut carry = true;
    for j in 0..N {
        let (v, c) = (!m[j]).overflowing_add(carry as u64);
        one[j] = v;
        carry = c;
    }
    // Exponent m - 1: m is odd, so only the lowest bit changes.
    let mut e = *m;
    e[0] &= !1;
    let mut x = one;
    for i in (0..64 * N).rev() {
        x = square(&x, m, minv);
        if (e[i / 64] >> (i % 64)) & 1 == 1 {
            double(&mut x, m);
        }
    }
    x == one
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::BigUint;

    fn big<const N: usize>(a: &[u64; N]) -> BigUint {
        let bytes: Vec<u8> = a.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    fn random_modulus<const N: usize>(seed: &mut u64) -> [u64; N] {
        let mut m = [0u64; N];
        for l in m.iter_mut() {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *l = *seed;
        }
        m[0] |= 1;
        m[N - 1] |= 1 << 63;
        m
    }

    #[test]
    fn neg_inverse_satisfies_m_times_minv_is_minus_one() {
        for m0 in [1u64, 3, 0xffff_ffff_ffff_ffff, 0x1234_5678_9abc_def1] {
            assert_eq!(m0.wrapping_mul(neg_inverse(m0)), u64::MAX);
        }
    }

    #[test]
    fn montgomery_square_matches_big_integer_arithmetic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50 {
            let m: [u64; 4] = random_modulus(&mut seed);
            let mut a: [u64; 4] = random_modulus(&mut seed);
            a[3] &= !(1 << 63); // a < m
            let r = square(&a, &m, neg_inverse(m[0]));
            // r · R ≡ a² (mod m)
            let rr = BigUint::from(1u32) << 256;
            let (bm, ba, br) = (big(&m), big(&a), big(&r));
            assert!(br < bm);
            assert_eq!((&br * &rr) % &bm, (&ba * &ba) % &bm);
        }
    }

    #[test]
    fn fermat_agrees_with_modpow_on_random_odd_numbers_and_accepts_primes() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let two = BigUint::from(2u32);
        for _ in 0..20 {
            let m: [u64; 16] = random_modulus(&mut seed);
            let bm = big(&m);
            let expect = two.modpow(&(&bm - 1u32), &bm) == BigUint::from(1u32);
            assert_eq!(fermat_base2(&m), expect);
        }
    }

    #[test]
    fn fermat_accepts_the_largest_primes_below_powers_of_two() {
        // 2^64 - 59, 2^128 - 159 and 2^256 - 189 are the largest primes of their widths.
        assert!(fermat_base2(&[u64::MAX - 58]));
        assert!(fermat_base2(&[u64::MAX - 158, u64::MAX]));
        assert!(fermat_base2(&[
            u64::MAX - 188,
            u64::MAX,
            u64::MAX,
            u64::MAX
        ]));
        // Their odd neighbours are composite (2^64 - 57 = 3 · ...; checked by the BPSW test too).
        assert!(!fermat_base2(&[u64::MAX - 56]));
        assert!(!num_bigint_dig::prime::probably_prime(
            &BigUint::from(u64::MAX - 56),
            0
        ));
    }
}
