//! Progress events of blob transfers (bytes per blob and in total) for a progress bar or a log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::Digest;

/// How a blob reached the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// The destination already had it (HEAD said so); nothing was sent.
    Existing,
    /// The registry linked it from another repository (cross-repository mount).
    Mounted,
    /// Its bytes were sent; `resumed_at` > 0 when an earlier upload session was continued.
    Sent { resumed_at: u64 },
}

#[derive(Clone, Debug)]
pub enum Event {
    /// A blob transfer begins.
    BlobStart { digest: Digest, size: u64 },
    /// An earlier upload session is continued: the registry already holds the first `at` bytes.
    BlobResumed { digest: Digest, at: u64 },
    /// `done` of `size` bytes of the blob have been sent or received so far.
    BlobBytes {
        digest: Digest,
        done: u64,
        size: u64,
    },
    /// The blob is at the destination and verified.
    BlobDone {
        digest: Digest,
        size: u64,
        transfer: Transfer,
    },
    /// A manifest or index was stored under `reference` (a tag or its digest).
    ManifestDone { digest: Digest, reference: String },
}

/// Receives events; called from the transfer tasks, so it must be cheap and thread-safe.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A sink that drops everything.
pub fn none() -> Sink {
    Arc::new(|_| {})
}

/// Byte and blob counters over all transfers, updated from events (for totals in a progress bar
/// and for tests that must know what was sent).
#[derive(Default, Debug)]
pub struct Totals {
    pub bytes_sent: AtomicU64,
    pub blobs_sent: AtomicU64,
    pub blobs_existing: AtomicU64,
    pub blobs_mounted: AtomicU64,
    pub blobs_resumed: AtomicU64,
    pub manifests: AtomicU64,
}

impl Totals {
    /// A sink that updates these totals and then forwards to `next`.
    pub fn sink(self: &Arc<Self>, next: Sink) -> Sink {
        let me = self.clone();
        let last = Arc::new(seen::LastSeen::default());
        Arc::new(move |e| {
            me.record(e, &last);
            next(e)
        })
    }

    fn record(&self, e: &Event, last: &seen::LastSeen) {
        match e {
            Event::BlobBytes { digest, done, .. } => {
                let before = last.swap(digest, *done);
                self.bytes_sent
                    .fetch_add(done.saturating_sub(before), Ordering::Relaxed);
            }
            Event::BlobDone { transfer, .. } => {
                let counter = match transfer {
                    Transfer::Existing => &self.blobs_existing,
                    Transfer::Mounted => &self.blobs_mounted,
                    Transfer::Sent { resumed_at } => {
                        if *resumed_at > 0 {
                            self.blobs_resumed.fetch_add(1, Ordering::Relaxed);
                        }
                        &self.blobs_sent
                    }
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Event::ManifestDone { .. } => {
                self.manifests.fetch_add(1, Ordering::Relaxed);
            }
            Event::BlobResumed { digest, at } => {
                last.swap(digest, *at);
            }
            Event::BlobStart { .. } => {}
        }
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

mod seen {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use crate::digest::Digest;

    /// The last `done` figure seen per blob, so totals add only new bytes.
    #[derive(Default)]
    pub struct LastSeen(Mutex<HashMap<Digest, u64>>);

    impl LastSeen {
        pub fn swap(&self, d: &Digest, done: u64) -> u64 {
            let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let before = m.insert(d.clone(), done).unwrap_or(0);
            before.min(done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_count_new_bytes_once_and_classify_blobs() {
        let t = Arc::new(Totals::default());
        let sink = t.sink(none());
        let d = Digest::of(b"x");
        sink(&Event::BlobBytes {
            digest: d.clone(),
            done: 10,
            size: 30,
        });
        sink(&Event::BlobBytes {
            digest: d.clone(),
            done: 30,
            size: 30,
        });
        sink(&Event::BlobDone {
            digest: d.clone(),
            size: 30,
            transfer: Transfer::Sent { resumed_at: 5 },
        });
        sink(&Event::BlobDone {
            digest: d,
            size: 30,
            transfer: Transfer::Existing,
        });
        assert_eq!(Totals::get(&t.bytes_sent), 30);
        assert_eq!(Totals::get(&t.blobs_sent), 1);
        assert_eq!(Totals::get(&t.blobs_resumed), 1);
        assert_eq!(Totals::get(&t.blobs_existing), 1);
    }
}
