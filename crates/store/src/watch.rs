//! Watches: a replay of the persisted history followed by the live tail.
//!
//! How a watch starts without gap or duplicate ("subscribe, then read"): under the hub lock (the
//! same lock the writer holds while it publishes a committed group), the watch registers a bounded
//! channel for its resource and notes `start`, the last published revision. Every event with a
//! revision `> start` will arrive through the channel; every event `<= start` is already committed, so
//! it is read from the `events` table (`from < revision <= start`). Live events `<= start` (none by
//! construction) would be dropped as a second guard.
//!
//! A watcher that does not keep up (its channel of `StoreOptions::watch_buffer` events fills) is
//! unsubscribed by the writer, which never waits for a reader. The watch then re-subscribes and
//! replays from the persisted history after the last event it delivered, so a slow consumer loses
//! nothing; only when that point was compacted away does it yield `StoreError::Expired` (the API
//! server turns it into a 410 ERROR event) and end.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::store::Inner;
use crate::types::{Event, Key};

/// Which objects of its resource a watch follows, by key: events of other objects are neither
/// replayed nor handed to it, so a commit does not wake watches it cannot concern (a namespace's
/// watch for another namespace's write, a watch of one named object for any other). The
/// consumer may still select further (labels, other fields) on what it gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchFilter {
    /// Only objects in this namespace (`""`: cluster-scoped ones).
    pub namespace: Option<String>,
    /// Only objects of this name.
    pub name: Option<String>,
}

impl WatchFilter {
    /// Whether an event of the object at `key` is for this watch.
    pub fn matches(&self, key: &Key) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| *ns == key.namespace)
            && self.name.as_ref().is_none_or(|n| *n == key.name)
    }
}

pub(crate) struct Subscriber {
    tx: mpsc::Sender<Arc<Event>>,
    lagged: Arc<AtomicBool>,
    filter: WatchFilter,
}

/// Live fan-out state, guarded by `Inner::hub`.
#[derive(Default)]
pub(crate) struct Hub {
    /// Last revision whose events were handed to subscribers (= last committed revision).
    pub(crate) published: u64,
    subs: HashMap<String, Vec<Subscriber>>,
}

impl Hub {
    pub(crate) fn new(published: u64) -> Hub {
        Hub {
            published,
            subs: HashMap::new(),
        }
    }

    /// Hands a committed group's events to the watchers of their resources. Never blocks: a full
    /// channel unsubscribes its watcher (which then catches up from the persisted history).
    pub(crate) fn publish(&mut self, events: &[Arc<Event>], revision: u64) {
        for ev in events {
            if let Some(subs) = self.subs.get_mut(&ev.key.resource) {
                subs.retain(|s| {
                    if !s.filter.matches(&ev.key) {
                        return true;
                    }
                    match s.tx.try_send(ev.clone()) {
                        Ok(()) => true,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            s.lagged.store(true, Ordering::SeqCst);
                            false
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => false,
                    }
                });
            }
        }
        self.published = self.published.max(revision);
    }

    fn subscribe(
        &mut self,
        resource: &str,
        capacity: usize,
        filter: &WatchFilter,
    ) -> (mpsc::Receiver<Arc<Event>>, Arc<AtomicBool>, u64) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let lagged = Arc::new(AtomicBool::new(false));
        let subs = self.subs.entry(resource.to_string()).or_default();
        subs.retain(|s| !s.tx.is_closed());
        subs.push(Subscriber {
            tx,
            lagged: lagged.clone(),
            filter: filter.clone(),
        });
        (rx, lagged, self.published)
    }

    pub(crate) fn watcher_count(&self) -> usize {
        self.subs
            .values()
            .flat_map(|v| v.iter())
            .filter(|s| !s.tx.is_closed())
            .count()
    }
}

/// The replay half of a subscription: history events `(from, start]` and the live channel.
pub(crate) struct Subscription {
    rx: mpsc::Receiver<Arc<Event>>,
    lagged: Arc<AtomicBool>,
    start: u64,
    replay: VecDeque<Arc<Event>>,
}

impl Inner {
    /// Subscribes to `resource`'s objects that `filter` lets through and reads their history
    /// after `from` (blocking: reads the database).
    pub(crate) fn subscribe(
        &self,
        resource: &str,
        from: u64,
        filter: &WatchFilter,
    ) -> Result<Subscription, StoreError> {
        let (rx, lagged, start) = self.hub.lock().expect("store hub lock poisoned").subscribe(
            resource,
            self.opts.watch_buffer,
            filter,
        );
        let replay = self.history(resource, from, start)?;
        Ok(Subscription {
            rx,
            lagged,
            start,
            replay: replay
                .into_iter()
                .filter(|ev| filter.matches(&ev.key))
                .map(Arc::new)
                .collect(),
        })
    }
}

/// A watch on one resource (all namespaces): every event after the requested revision, in revision
/// order, then live events as they commit. Also a [`Stream`].
///
/// Items are `Arc<Event>`: one event is shared by every watcher it fans out to.
pub struct Watch {
    inner: Arc<Inner>,
    resource: String,
    filter: WatchFilter,
    sub: Subscription,
    /// Revision of the last event delivered (or the starting revision).
    last: u64,
    /// Events delivered at revision `last` (a multi-object revision may be cut by a lag).
    last_count: usize,
    done: bool,
    /// A resubscription in flight (after falling behind), when polled as a stream.
    #[allow(clippy::type_complexity)]
    pending: Option<tokio::task::JoinHandle<Result<Subscription, StoreError>>>,
}

impl Watch {
    pub(crate) fn new(
        inner: Arc<Inner>,
        resource: &str,
        from: u64,
        filter: WatchFilter,
    ) -> Result<Watch, StoreError> {
        let sub = inner.subscribe(resource, from, &filter)?;
        Ok(Watch {
            inner,
            resource: resource.to_string(),
            filter,
            sub,
            last: from,
            last_count: 0,
            done: false,
            pending: None,
        })
    }

    /// The resource this watch follows.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Revision of the last event delivered (the `from` revision before the first one).
    pub fn last_revision(&self) -> u64 {
        self.last
    }

    /// A revision safe to send as a BOOKMARK: every event of this resource up to it has been
    /// delivered by this watch. `None` while events are still queued for delivery.
    pub fn bookmark_revision(&self) -> Option<u64> {
        if self.done || !self.sub.replay.is_empty() || self.pending.is_some() {
            return None;
        }
        // Under the hub lock no group is being published, so an empty channel means "caught up".
        let hub = self.inner.hub.lock().expect("store hub lock poisoned");
        if !self.sub.rx.is_empty() || self.sub.lagged.load(Ordering::SeqCst) {
            return None;
        }
        Some(hub.published.max(self.last))
    }

    fn deliver(&mut self, ev: Arc<Event>) -> Option<Result<Arc<Event>, StoreError>> {
        if ev.revision == self.last {
            self.last_count += 1;
        } else {
            self.last = ev.revision;
            self.last_count = 1;
        }
        Some(Ok(ev))
    }

    /// Takes what is ready without waiting: `Ok(Some(item))`, `Ok(None)` if nothing is ready yet,
    /// `Err(())` if the live channel was lost (fell behind) and a resubscription is needed.
    fn poll_ready(
        &mut self,
        mut cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<Arc<Event>, NeedResub>> {
        if let Some(ev) = self.sub.replay.pop_front() {
            return Poll::Ready(Ok(ev));
        }
        loop {
            let polled = match cx {
                Some(ref mut cx) => self.sub.rx.poll_recv(cx),
                None => match self.sub.rx.try_recv() {
                    Ok(ev) => Poll::Ready(Some(ev)),
                    Err(mpsc::error::TryRecvError::Empty) => Poll::Pending,
                    Err(mpsc::error::TryRecvError::Disconnected) => Poll::Ready(None),
                },
            };
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(ev)) if ev.revision <= self.sub.start => continue,
                Poll::Ready(Some(ev)) => return Poll::Ready(Ok(ev)),
                // The sender side is dropped only when we fell behind (or the store is gone).
                Poll::Ready(None) => return Poll::Ready(Err(NeedResub)),
            }
        }
    }

    /// The next event, waiting for one if needed. `None` after an error item or when the store is
    /// gone. Cancel-safe.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event if one is ready now, without waiting (for synchronous callers and tests).
    /// `Some(Err(..))` once, then `None`, if the watch expired. Falling behind resubscribes here
    /// synchronously (a database read).
    pub fn try_next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        if self.done {
            return None;
        }
        loop {
            match self.poll_ready(None) {
                Poll::Pending => return None,
                Poll::Ready(Ok(ev)) => return self.deliver(ev),
                Poll::Ready(Err(NeedResub)) => {
                    let res = resubscribe(
                        &self.inner,
                        &self.resource,
                        &self.filter,
                        self.last,
                        self.last_count,
                    );
                    if let Some(err) = self.resubscribed(res) {
                        return Some(Err(err));
                    }
                }
            }
        }
    }

    fn resubscribed(&mut self, res: Result<Subscription, StoreError>) -> Option<StoreError> {
        match res {
            Ok(sub) => {
                self.sub = sub;
                None
            }
            Err(e) => {
                self.done = true;
                Some(e)
            }
        }
    }
}

struct NeedResub;

/// Subscribes again after falling behind, continuing right after the last delivered event, even
/// when that was in the middle of a multi-object revision.
fn resubscribe(
    inner: &Inner,
    resource: &str,
    filter: &WatchFilter,
    last: u64,
    last_count: usize,
) -> Result<Subscription, StoreError> {
    if last_count == 0 {
        return inner.subscribe(resource, last, filter);
    }
    let mut sub = inner.subscribe(resource, last - 1, filter)?;
    for _ in 0..last_count {
        if sub.replay.front().is_some_and(|ev| ev.revision == last) {
            sub.replay.pop_front();
        }
    }
    Ok(sub)
}

impl Stream for Watch {
    type Item = Result<Arc<Event>, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(handle) = this.pending.as_mut() {
                let res = match Pin::new(handle).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(res)) => res,
                    Poll::Ready(Err(join)) => Err(StoreError::Aborted(format!(
                        "re-reading watch history of {} failed: {join}",
                        this.resource
                    ))),
                };
                this.pending = None;
                if let Some(err) = this.resubscribed(res) {
                    return Poll::Ready(Some(Err(err)));
                }
                continue;
            }
            match this.poll_ready(Some(cx)) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(ev)) => return Poll::Ready(this.deliver(ev)),
                Poll::Ready(Err(NeedResub)) => {
                    let inner = this.inner.clone();
                    let (resource, filter) = (this.resource.clone(), this.filter.clone());
                    let (last, count) = (this.last, this.last_count);
                    this.pending = Some(tokio::task::spawn_blocking(move || {
                        resubscribe(&inner, &resource, &filter, last, count)
                    }));
                }
            }
        }
    }
}
