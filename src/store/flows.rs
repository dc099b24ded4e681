//! The flow store: the bounded source of truth, and the ordered events observers follow.
//!
//! Bounded by flow count and by the bytes flows hold (captured bodies and heads); the oldest
//! flows are evicted first.
//! The store alone decides what an event is (see [`EventKind`]), so the contract in
//! `store::observer` holds whatever the proxy's tasks do: every flow is announced once when
//! added and finished exactly once, in order per flow. Knows nothing about sockets; only the
//! proxy writes.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use std::future::Future;
use std::task::{Poll, Waker};

use tokio::sync::Notify;

use crate::flow::Flow;

/// How many events a slow observer may fall behind before it is told it lagged.
const EVENT_CAPACITY: usize = 16_384;

/// What happened to a flow. Per flow the order is always
/// `Added, Updated*, Finished, Amended*`; `Finished` comes exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The flow was created (request head seen, nothing sent upstream yet).
    Added,
    /// The flow changed while in flight (response head arrived, a rule matched…).
    Updated,
    /// The flow finished: complete, failed, aborted or refused. Exactly once per flow.
    Finished,
    /// A finished flow learned something late (its request body ended after the response).
    Amended,
}

/// One change to one flow. `seq` numbers the store's events in the order observers receive
/// them (1, 2, …), so that a gap is visible and a reader can later pull from a position.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub kind: EventKind,
    pub flow: Arc<Flow>,
}

#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    pub max_flows: usize,
    /// Budget for the bytes flows hold (captured bodies and heads) across all flows.
    pub max_held_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_flows: 50_000,
            max_held_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Ordered by id (ids are assigned under the lock, in insertion order).
    flows: VecDeque<Arc<Flow>>,
    held_bytes: usize,
    next_id: u64,
    evicted: u64,
    /// Flows evicted before they finished: their finish is still announced, once.
    evicted_unfinished: HashSet<u64>,
    /// The last event's sequence number.
    seq: u64,
    /// Each follower's events not yet taken.
    readers: Vec<Reader>,
    next_reader: u64,
}

/// One follower's events not yet taken. Kept under the store's lock: an exchange that
/// announces its flow already holds that lock, so following costs it no second lock (a
/// broadcast channel took its own, nested in this one, per event), and the follower takes a
/// whole batch with one swap.
#[derive(Debug)]
struct Reader {
    id: u64,
    queue: VecDeque<Event>,
    /// Events dropped from the front of `queue` since the follower last took it.
    missed: u64,
    /// The follower found nothing and waits: the next event wakes it.
    parked: bool,
    /// Gone when the follower's [`Subscription`] is dropped; its slot is then removed.
    wake: Weak<Notify>,
}

/// A follower's place in the store's events (see `store::observer`, which handles lag).
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    wake: Arc<Notify>,
    /// Taken from the store and not yet handed out one by one (tests' `try_next`).
    #[cfg(test)]
    pending: VecDeque<Event>,
}

impl Subscription {
    /// Resolves after an event arrives that a [`Store::take_events`] finding none waits for.
    pub async fn wait(&self) {
        self.wake.notified().await;
    }
}

impl Inner {
    /// Where flow `id` is held. Ids are given out in order and only the oldest flows leave,
    /// so the held ids are consecutive and the position is a subtraction: a binary search
    /// read a flow per step, each a likely cache miss, under the lock every exchange takes
    /// (the top gomitm symbol in a c=16 profile with 100 k flows held).
    fn position(&self, id: u64) -> Result<usize, usize> {
        let Some(first) = self.flows.front().map(|f| f.id) else {
            return Err(0);
        };
        let Some(pos) = id.checked_sub(first).and_then(|d| usize::try_from(d).ok()) else {
            return Err(0);
        };
        match self.flows.get(pos) {
            Some(f) if f.id == id => Ok(pos),
            Some(_) => self.flows.binary_search_by_key(&id, |f| f.id),
            None => Err(self.flows.len()),
        }
    }
}

#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    limits: StoreLimits,
    /// How many untaken events a follower may have before the oldest are dropped.
    event_capacity: usize,
    /// Set once when the session cuts its in-flight flows short: flows that end after it
    /// are interrupted, not failed by their client or server.
    interrupt: AtomicBool,
    /// Wakes the tasks waiting in [`interrupted`](Store::interrupted) when `interrupt` is set.
    interrupt_wake: Notify,
    /// Whether in-flight changes (a response head, a rule that fired) are published as they
    /// happen. Off when no observer shows flows in flight: each such snapshot costs the
    /// exchange a copy of its flow, a dropped snapshot and an event, and the finished flow
    /// carries the same facts anyway.
    progress: AtomicBool,
}

impl Store {
    pub fn new(limits: StoreLimits) -> Store {
        Store::with_event_capacity(limits, EVENT_CAPACITY)
    }

    /// A store whose observers lag after `capacity` unread events (tests use a small one).
    pub fn with_event_capacity(limits: StoreLimits, capacity: usize) -> Store {
        Store {
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            limits,
            event_capacity: capacity.max(1),
            interrupt: AtomicBool::new(false),
            interrupt_wake: Notify::new(),
            progress: AtomicBool::new(true),
        }
    }

    /// Cut the in-flight flows short: the proxy's connection tasks wait on
    /// [`interrupted`](Self::interrupted) and drop their exchanges, whose flows then finish
    /// as [`ErrorClass::Interrupted`](crate::flow::ErrorClass) with what they had reached.
    pub fn interrupt(&self) {
        // The flag before the wake-up: a woken task reads it set.
        self.interrupt.store(true, Ordering::Release);
        self.interrupt_wake.notify_waiters();
    }

    pub fn is_interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Acquire)
    }

    /// Resolves once [`interrupt`](Self::interrupt) has been called.
    ///
    /// Every connection task polls this beside its own work on each of its wake-ups (see
    /// `proxy::interrupt`), so a poll after the first is one atomic load and a waker
    /// comparison: polling the `Notified` again would take the `Notify`'s lock, one lock that
    /// all connection tasks shared on every wake-up.
    pub async fn interrupted(&self) {
        // Made before the flag is read, so an interrupt between the two still resolves it.
        let notified = self.interrupt_wake.notified();
        tokio::pin!(notified);
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(|cx| {
            if self.is_interrupted() {
                return Poll::Ready(());
            }
            if registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            registered = Some(cx.waker().clone());
            notified.as_mut().poll(cx)
        })
        .await
    }

    /// Finish every flow still in flight as interrupted, with what its record holds: the last
    /// resort after [`interrupt`](Self::interrupt), for a flow whose task did not end in time.
    pub fn finish_in_flight_as_interrupted(&self, now_us: i64) {
        let mut inner = self.lock();
        // Under the lock, so that a flow finishing meanwhile keeps its own ending.
        for pos in 0..inner.flows.len() {
            if inner.flows[pos].is_done() {
                continue;
            }
            let mut flow = (*inner.flows[pos]).clone();
            flow.state = crate::flow::FlowState::Done;
            flow.error = Some(crate::flow::FlowError {
                class: crate::flow::ErrorClass::Interrupted,
                message: "gomitm was stopped while this flow was in flight".into(),
            });
            if flow.timings.total_ms.is_none() {
                let ms = now_us.saturating_sub(flow.started_at_us) as f64 / 1000.0;
                flow.timings.total_ms = Some(ms.max(0.0));
            }
            let flow = Arc::new(flow);
            inner.held_bytes -= inner.flows[pos].held_bytes();
            inner.held_bytes += flow.held_bytes();
            inner.flows[pos] = flow.clone();
            self.announce(&mut inner, EventKind::Finished, &flow);
        }
    }

    /// Publish in-flight changes (`Updated` events), or only a flow's start and its end
    /// (see `store::observer`: observers that show flows in flight ask for them).
    pub fn set_progress_events(&self, on: bool) {
        self.progress.store(on, Ordering::Relaxed);
    }

    pub fn progress_events(&self) -> bool {
        self.progress.load(Ordering::Relaxed)
    }

    /// Follow the events from now on; observers use `store::observer` instead, which
    /// handles lag and batching.
    pub fn subscribe(&self) -> Subscription {
        let wake = Arc::new(Notify::new());
        let mut inner = self.lock();
        inner.next_reader += 1;
        let id = inner.next_reader;
        inner.readers.push(Reader {
            id,
            queue: VecDeque::new(),
            missed: 0,
            parked: false,
            wake: Arc::downgrade(&wake),
        });
        Subscription {
            id,
            wake,
            #[cfg(test)]
            pending: VecDeque::new(),
        }
    }

    /// Move the follower's untaken events, oldest first, into `into` (emptied first; its
    /// buffer is kept for the next batch) and return how many were dropped before them. When
    /// there are none, the next event wakes [`Subscription::wait`].
    pub fn take_events(&self, sub: &Subscription, into: &mut VecDeque<Event>) -> u64 {
        into.clear();
        let mut inner = self.lock();
        let Some(reader) = inner.readers.iter_mut().find(|r| r.id == sub.id) else {
            return 0;
        };
        std::mem::swap(&mut reader.queue, into);
        let missed = std::mem::take(&mut reader.missed);
        reader.parked = into.is_empty() && missed == 0;
        missed
    }

    /// The next untaken event, if any (lag is not reported).
    #[cfg(test)]
    pub fn try_next(&self, sub: &mut Subscription) -> Option<Event> {
        if sub.pending.is_empty() {
            let mut taken = VecDeque::new();
            self.take_events(sub, &mut taken);
            sub.pending = taken;
        }
        sub.pending.pop_front()
    }

    /// The next event, waiting for it (lag is not reported).
    #[cfg(test)]
    pub async fn next_event(&self, sub: &mut Subscription) -> Event {
        loop {
            if let Some(event) = self.try_next(sub) {
                return event;
            }
            sub.wait().await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The store's invariants hold between statements; a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queued under the lock, so that sequence numbers and each follower's order agree.
    fn announce(&self, inner: &mut Inner, kind: EventKind, flow: &Arc<Flow>) {
        inner.seq += 1;
        let seq = inner.seq;
        let mut departed = false;
        for reader in &mut inner.readers {
            if reader.wake.strong_count() == 0 {
                departed = true;
                continue;
            }
            if reader.queue.len() >= self.event_capacity {
                reader.queue.pop_front();
                reader.missed += 1;
            }
            reader.queue.push_back(Event {
                seq,
                kind,
                flow: flow.clone(),
            });
            // Only a follower that found nothing is woken: one that is busy or resting
            // between batches takes this event with the rest.
            if std::mem::take(&mut reader.parked) {
                if let Some(wake) = reader.wake.upgrade() {
                    wake.notify_one();
                }
            }
        }
        if departed {
            inner.readers.retain(|r| r.wake.strong_count() > 0);
        }
    }

    /// Insert a new flow, assigning its id. Returns the stored snapshot.
    pub fn add(&self, mut flow: Flow) -> Arc<Flow> {
        let mut inner = self.lock();
        flow.id = inner.next_id;
        inner.next_id += 1;
        inner.held_bytes += flow.held_bytes();
        let snapshot = Arc::new(flow);
        inner.flows.push_back(snapshot.clone());
        self.announce(&mut inner, EventKind::Added, &snapshot);
        // Failures recorded in one step (a refused CONNECT, a client TLS abort) are born
        // finished; observers that follow finished flows must see them too.
        if snapshot.is_done() {
            self.announce(&mut inner, EventKind::Finished, &snapshot);
        }
        let evicted = self.evict(&mut inner);
        drop(inner);
        drop(evicted);
        snapshot
    }

    /// Replace a flow by id and announce it. A flow already evicted is not re-added.
    pub fn update(&self, flow: Flow) -> Arc<Flow> {
        self.update_shared(Arc::new(flow))
    }

    /// `update` with a snapshot the caller keeps a handle on. What is announced depends on
    /// what the store held: the first finished snapshot is `Finished`, later ones `Amended`;
    /// an evicted flow's finish is still announced, anything after it is not.
    pub fn update_shared(&self, snapshot: Arc<Flow>) -> Arc<Flow> {
        let done = snapshot.is_done();
        let mut inner = self.lock();
        let (kind, replaced) = match inner.position(snapshot.id) {
            Ok(pos) => {
                let old = std::mem::replace(&mut inner.flows[pos], snapshot.clone());
                inner.held_bytes -= old.held_bytes();
                inner.held_bytes += snapshot.held_bytes();
                let kind = match (old.is_done(), done) {
                    (true, _) => EventKind::Amended,
                    (false, true) => EventKind::Finished,
                    (false, false) => EventKind::Updated,
                };
                (Some(kind), Some(old))
            }
            Err(_) if !inner.evicted_unfinished.contains(&snapshot.id) => (None, None),
            Err(_) if done => {
                inner.evicted_unfinished.remove(&snapshot.id);
                (Some(EventKind::Finished), None)
            }
            Err(_) => (Some(EventKind::Updated), None),
        };
        if let Some(kind) = kind {
            self.announce(&mut inner, kind, &snapshot);
        }
        let evicted = self.evict(&mut inner);
        // Freeing flows is not free, and every connection's task takes this lock: the
        // replaced and evicted snapshots are dropped after it is released.
        drop(inner);
        drop((replaced, evicted));
        snapshot
    }

    /// Drop the oldest flows beyond the limits; returns them so the caller frees them
    /// outside the lock.
    fn evict(&self, inner: &mut Inner) -> Vec<Arc<Flow>> {
        let mut gone = Vec::new();
        while inner.flows.len() > self.limits.max_flows
            || (inner.held_bytes > self.limits.max_held_bytes && inner.flows.len() > 1)
        {
            let Some(old) = inner.flows.pop_front() else {
                break;
            };
            inner.held_bytes -= old.held_bytes();
            inner.evicted += 1;
            if !old.is_done() {
                inner.evicted_unfinished.insert(old.id);
            }
            gone.push(old);
        }
        gone
    }

    pub fn get(&self, id: u64) -> Option<Arc<Flow>> {
        let inner = self.lock();
        let pos = inner.position(id).ok()?;
        inner.flows.get(pos).cloned()
    }

    /// The Go request that the recent flow for `url` was, when that flow was answered with a
    /// redirect: what a request go's client sent with `url` as its Referer continues. Hops
    /// that were themselves classified this way pass it on, so a chain of redirects (a proxy
    /// to an SSO host to a sign-in page) ends at the `.info` go asked for. Only the newest
    /// `RECENT` flows are searched: go follows a redirect at once.
    pub fn redirected_from(&self, url: &str) -> Option<Box<crate::flow::GoRequest>> {
        const RECENT: usize = 256;
        let inner = self.lock();
        let from = inner.flows.iter().rev().take(RECENT).find(|f| {
            f.request.url == url
                && f.go.is_some()
                && f.response
                    .as_ref()
                    .is_some_and(|r| (300..400).contains(&r.status))
        })?;
        let go = from.go.as_deref()?;
        Some(Box::new(crate::flow::GoRequest {
            hash: None,
            go_import: None,
            ..go.clone()
        }))
    }

    /// All flows currently held, oldest first.
    pub fn snapshot(&self) -> Vec<Arc<Flow>> {
        self.lock().flows.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn in_flight(&self) -> usize {
        self.lock().flows.iter().filter(|f| !f.is_done()).count()
    }

    pub fn evicted(&self) -> u64 {
        self.lock().evicted
    }

    pub fn held_bytes(&self) -> usize {
        self.lock().held_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::FlowState;

    fn store(max_flows: usize, max_bytes: usize) -> Store {
        Store::new(StoreLimits {
            max_flows,
            max_held_bytes: max_bytes,
        })
    }

    #[test]
    fn add_assigns_increasing_ids_and_announces() {
        let s = store(10, 1 << 20);
        let mut rx = s.subscribe();
        let mut in_flight = FlowBuilder::get("https://a.test/").build();
        in_flight.state = FlowState::InFlight;
        let a = s.add(in_flight.clone());
        let b = s.add(in_flight);
        assert_eq!((a.id, b.id), (1, 2));
        assert!(
            matches!(s.try_next(&mut rx), Some(Event { kind: EventKind::Added, seq: 1, flow }) if flow.id == 1)
        );
        assert!(
            matches!(s.try_next(&mut rx), Some(Event { kind: EventKind::Added, seq: 2, flow }) if flow.id == 2)
        );
        assert!(s.try_next(&mut rx).is_none());
    }

    #[test]
    fn flows_are_found_by_id_after_evictions_and_updates() {
        let s = store(4, 1 << 20);
        for i in 0..10 {
            s.add(FlowBuilder::get(&format!("https://h{i}.test/")).build());
        }
        for id in 1..=6 {
            assert!(s.get(id).is_none(), "#{id} was evicted");
        }
        for id in 7..=10 {
            assert_eq!(s.get(id).map(|f| f.id), Some(id));
        }
        assert!(s.get(11).is_none() && s.get(0).is_none());
        let mut f = (*s.get(8).unwrap()).clone();
        f.mapped_to = Some("changed".into());
        s.update(f);
        assert_eq!(s.get(8).unwrap().mapped_to.as_deref(), Some("changed"));
        assert_eq!(
            s.snapshot().iter().map(|f| f.id).collect::<Vec<_>>(),
            [7, 8, 9, 10]
        );
    }

    #[test]
    fn a_flow_born_finished_is_announced_added_then_done() {
        let s = store(10, 1 << 20);
        let mut rx = s.subscribe();
        s.add(FlowBuilder::get("https://a.test/").build());
        assert!(matches!(
            s.try_next(&mut rx),
            Some(Event {
                kind: EventKind::Added,
                ..
            })
        ));
        assert!(
            matches!(s.try_next(&mut rx), Some(Event { kind: EventKind::Finished, flow, .. }) if flow.id == 1)
        );
    }

    #[test]
    fn update_replaces_by_id_and_sends_done_when_finished() {
        let s = store(10, 1 << 20);
        let mut flow = FlowBuilder::get("https://a.test/").build();
        flow.state = FlowState::InFlight;
        let added = s.add(flow);
        let mut rx = s.subscribe();
        let mut changed = (*added).clone();
        changed.state = FlowState::Done;
        s.update(changed);
        assert!(s.get(added.id).is_some_and(|f| f.is_done()));
        assert!(matches!(
            s.try_next(&mut rx),
            Some(Event {
                kind: EventKind::Finished,
                ..
            })
        ));
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn evicts_oldest_beyond_max_flows() {
        let s = store(3, 1 << 20);
        for i in 0..5 {
            s.add(FlowBuilder::get(&format!("https://h{i}.test/")).build());
        }
        let ids: Vec<u64> = s.snapshot().iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![3, 4, 5]);
        assert_eq!(s.evicted(), 2);
    }

    #[test]
    fn evicts_oldest_beyond_captured_byte_budget_but_keeps_the_newest() {
        let s = store(100, 1000);
        let flow = FlowBuilder::get("https://a.test/")
            .status(200, &[7; 400])
            .build();
        let one = flow.held_bytes();
        assert!(one > 400 && one < 500, "{one}");
        for _ in 0..4 {
            s.add(flow.clone());
        }
        assert_eq!(s.len(), 2);
        assert_eq!(s.held_bytes(), 2 * one);
        s.add(
            FlowBuilder::get("https://a.test/")
                .status(200, &[7; 5000])
                .build(),
        );
        assert_eq!(
            s.len(),
            1,
            "the newest flow stays even when alone over budget"
        );
    }

    /// Large heads (a client or upstream sending 50 KB of headers, bodiless) are evicted by
    /// the same budget as bodies: they cannot grow memory past it.
    #[test]
    fn heads_count_toward_the_byte_budget() {
        let s = store(100_000, 1 << 20);
        let big = "x".repeat(50_000);
        for i in 0..100 {
            let mut flow = FlowBuilder::get(&format!("https://a.test/{i}")).build();
            flow.request_mut().headers.push("x-big", &big);
            flow.response = Some(crate::flow::Response {
                status: 200,
                headers: vec![("x-big", big.as_str())].into(),
                ..Default::default()
            });
            s.add(flow);
        }
        assert!(s.held_bytes() <= 1 << 20, "{}", s.held_bytes());
        assert!(
            s.len() <= 11,
            "{} flows of 100 KB heads kept in 1 MiB",
            s.len()
        );
        assert!(s.len() >= 9, "{}", s.len());
    }

    #[test]
    fn the_cut_finishes_only_flows_still_in_flight_and_keeps_what_they_hold() {
        let s = store(10, usize::MAX);
        let mut open = FlowBuilder::get("https://a.test/big").build();
        open.state = FlowState::InFlight;
        open.started_at_us = 1_000_000;
        let open = s.add(open);
        let done = s.add(FlowBuilder::get("https://a.test/small").build());
        let mut rx = s.subscribe();
        assert!(!s.is_interrupted());
        s.interrupt();
        assert!(s.is_interrupted());
        s.finish_in_flight_as_interrupted(4_500_000);
        assert_eq!(s.in_flight(), 0);
        let cut = s.get(open.id).unwrap();
        let err = cut.error.as_ref().unwrap();
        assert_eq!(err.class, crate::flow::ErrorClass::Interrupted);
        assert_eq!(cut.timings.total_ms, Some(3500.0));
        assert_eq!(cut.request.url, "https://a.test/big");
        assert!(
            Arc::ptr_eq(&s.get(done.id).unwrap(), &done),
            "a finished flow is untouched"
        );
        let ev = s.try_next(&mut rx).unwrap();
        assert_eq!((ev.kind, ev.flow.id), (EventKind::Finished, open.id));
        assert!(
            s.try_next(&mut rx).is_none(),
            "one event: the cut flow's finish"
        );
    }

    #[tokio::test]
    async fn interrupted_resolves_once_interrupt_is_called() {
        let s = Arc::new(store(10, usize::MAX));
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.interrupted().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        s.interrupt();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn interrupted_wakes_a_waiter_polled_often_and_one_that_changed_task() {
        let s = Arc::new(store(10, usize::MAX));
        // Polled on every tick, as a connection task polls it on each wake-up.
        let busy = tokio::spawn({
            let s = s.clone();
            async move {
                let cut = s.interrupted();
                tokio::pin!(cut);
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(1));
                let mut ticks = 0u32;
                loop {
                    tokio::select! {
                        _ = tick.tick() => ticks += 1,
                        () = &mut cut => return ticks,
                    }
                }
            }
        });
        // First polled by one waker, then awaited by another task: the second must be woken.
        let mut moved = Box::pin({
            let s = s.clone();
            async move { s.interrupted().await }
        });
        let noop = std::task::Waker::noop();
        assert!(moved
            .as_mut()
            .poll(&mut std::task::Context::from_waker(noop))
            .is_pending());
        let moved = tokio::spawn(moved);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        assert!(!busy.is_finished() && !moved.is_finished());
        s.interrupt();
        let wait = std::time::Duration::from_secs(5);
        let ticks = tokio::time::timeout(wait, busy).await.unwrap().unwrap();
        assert!(
            ticks > 3,
            "the waiter was polled {ticks} times before the cut"
        );
        tokio::time::timeout(wait, moved).await.unwrap().unwrap();
        // Once cut, a new wait ends at once.
        tokio::time::timeout(wait, s.interrupted()).await.unwrap();
        assert!(s.is_interrupted());
    }

    #[test]
    fn update_of_an_evicted_flow_is_not_re_added() {
        let s = store(1, 1 << 20);
        let first = s.add(FlowBuilder::get("https://a.test/").build());
        s.add(FlowBuilder::get("https://b.test/").build());
        s.update((*first).clone());
        assert_eq!(s.len(), 1);
        assert!(s.get(first.id).is_none());
    }
}
