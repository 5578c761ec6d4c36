//! Login rate limits: one token bucket per key (a user name, a client address). A *failed* login
//! takes a token from its user's and its address's buckets; while either bucket is empty every
//! attempt for that user or from that address is refused before the password is checked (429
//! with `Retry-After`), so guessing is bounded to the refill rate. Successful logins cost nothing.
//! Pure logic over caller-supplied instants (unit-tested without sleeping).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A bucket's size and how long one token takes to come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub refill: Duration,
}

/// Token buckets per key.
#[derive(Debug)]
pub struct Buckets<K> {
    limit: Limit,
    buckets: HashMap<K, (f64, Instant)>,
}

/// Keys kept before full buckets are dropped.
const MAX_KEYS: usize = 10_000;

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(limit: Limit) -> Buckets<K> {
        Buckets {
            limit,
            buckets: HashMap::new(),
        }
    }

    fn level(&self, key: &K, now: Instant) -> f64 {
        let burst = f64::from(self.limit.burst);
        match self.buckets.get(key) {
            None => burst,
            Some((tokens, at)) => {
                let refilled = now.saturating_duration_since(*at).as_secs_f64()
                    / self.limit.refill.as_secs_f64().max(1e-9);
                (tokens + refilled).min(burst)
            }
        }
    }

    /// `Err(wait)` when `key`'s bucket is empty: how long until it holds a token again.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let level = self.level(key, now);
        if level >= 1.0 {
            return Ok(());
        }
        Err(self.limit.refill.mul_f64(1.0 - level))
    }

    /// Takes one token from `key`'s bucket (a failed attempt).
    pub fn charge(&mut self, key: &K, now: Instant) {
        let level = (self.level(key, now) - 1.0).max(0.0);
        if self.buckets.len() >= MAX_KEYS {
            let burst = f64::from(self.limit.burst);
            let refill = self.limit.refill.as_secs_f64().max(1e-9);
            self.buckets.retain(|_, (t, at)| {
                *t + now.saturating_duration_since(*at).as_secs_f64() / refill < burst
            });
        }
        self.buckets.insert(key.clone(), (level, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_after_its_burst_and_refills_with_time() {
        let mut b = Buckets::new(Limit {
            burst: 3,
            refill: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(b.check(&"alice", t0).is_ok());
            b.charge(&"alice", t0);
        }
        let wait = b.check(&"alice", t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert!(b.check(&"bob", t0).is_ok(), "other keys are untouched");
        let later = t0 + Duration::from_secs(4);
        assert_eq!(
            b.check(&"alice", later).unwrap_err(),
            Duration::from_secs(6)
        );
        assert!(b.check(&"alice", t0 + Duration::from_secs(10)).is_ok());
        assert!(b.check(&"alice", t0 + Duration::from_secs(1000)).is_ok());
    }
}
