//! The flow store: the bounded source of truth, and the event broadcast observers follow.
//!
//! Bounded by flow count and by captured body bytes; the oldest flows are evicted first.
//! Events carry `Arc<Flow>` snapshots; an observer that lags can re-read the store. Knows
//! nothing about sockets; only the proxy writes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use crate::flow::Flow;

/// How many events a slow observer may fall behind before it is told it lagged.
const EVENT_CAPACITY: usize = 16_384;

#[derive(Debug, Clone)]
pub enum Event {
    /// A flow was created (request head seen, nothing sent upstream yet).
    Added(Arc<Flow>),
    /// A flow changed while in flight (response head arrived…).
    Updated(Arc<Flow>),
    /// A flow finished (or a finished flow learned something late, e.g. its request body).
    Done(Arc<Flow>),
}

impl Event {
    pub fn flow(&self) -> &Arc<Flow> {
        match self {
            Event::Added(f) | Event::Updated(f) | Event::Done(f) => f,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    pub max_flows: usize,
    /// Budget for captured body bytes across all flows.
    pub max_captured_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_flows: 50_000,
            max_captured_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Ordered by id (ids are assigned under the lock, in insertion order).
    flows: VecDeque<Arc<Flow>>,
    captured_bytes: usize,
    next_id: u64,
    evicted: u64,
}

#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    limits: StoreLimits,
    events: broadcast::Sender<Event>,
}

impl Store {
    pub fn new(limits: StoreLimits) -> Store {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Store {
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            limits,
            events,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The store's invariants hold between statements; a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Insert a new flow, assigning its id. Returns the stored snapshot.
    pub fn add(&self, mut flow: Flow) -> Arc<Flow> {
        let snapshot = {
            let mut inner = self.lock();
            flow.id = inner.next_id;
            inner.next_id += 1;
            inner.captured_bytes += flow.captured_bytes();
            let snapshot = Arc::new(flow);
            inner.flows.push_back(snapshot.clone());
            self.evict(&mut inner);
            snapshot
        };
        let _ = self.events.send(Event::Added(snapshot.clone()));
        // Failures recorded in one step (a refused CONNECT, a client TLS abort) are born
        // finished; observers that follow finished flows must see them too.
        if snapshot.is_done() {
            let _ = self.events.send(Event::Done(snapshot.clone()));
        }
        snapshot
    }

    /// Replace a flow by id and announce it. A flow already evicted is not re-added.
    pub fn update(&self, flow: Flow) -> Arc<Flow> {
        self.update_shared(Arc::new(flow))
    }

    /// `update` with a snapshot the caller keeps a handle on.
    pub fn update_shared(&self, snapshot: Arc<Flow>) -> Arc<Flow> {
        let done = snapshot.is_done();
        // The replaced snapshot is dropped after the lock is released: freeing a flow is not
        // free, and every connection's task takes this lock.
        let _replaced = {
            let mut inner = self.lock();
            match inner.flows.binary_search_by_key(&snapshot.id, |f| f.id) {
                Ok(pos) => {
                    let old = std::mem::replace(&mut inner.flows[pos], snapshot.clone());
                    inner.captured_bytes -= old.captured_bytes();
                    inner.captured_bytes += snapshot.captured_bytes();
                    self.evict(&mut inner);
                    Some(old)
                }
                Err(_) => None,
            }
        };
        let event = if done {
            Event::Done(snapshot.clone())
        } else {
            Event::Updated(snapshot.clone())
        };
        let _ = self.events.send(event);
        snapshot
    }

    fn evict(&self, inner: &mut Inner) {
        while inner.flows.len() > self.limits.max_flows
            || (inner.captured_bytes > self.limits.max_captured_bytes && inner.flows.len() > 1)
        {
            let Some(old) = inner.flows.pop_front() else {
                break;
            };
            inner.captured_bytes -= old.captured_bytes();
            inner.evicted += 1;
        }
    }

    pub fn get(&self, id: u64) -> Option<Arc<Flow>> {
        let inner = self.lock();
        let pos = inner.flows.binary_search_by_key(&id, |f| f.id).ok()?;
        inner.flows.get(pos).cloned()
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

    pub fn captured_bytes(&self) -> usize {
        self.lock().captured_bytes
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
            max_captured_bytes: max_bytes,
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
        assert!(matches!(rx.try_recv(), Ok(Event::Added(f)) if f.id == 1));
        assert!(matches!(rx.try_recv(), Ok(Event::Added(f)) if f.id == 2));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_flow_born_finished_is_announced_added_then_done() {
        let s = store(10, 1 << 20);
        let mut rx = s.subscribe();
        s.add(FlowBuilder::get("https://a.test/").build());
        assert!(matches!(rx.try_recv(), Ok(Event::Added(_))));
        assert!(matches!(rx.try_recv(), Ok(Event::Done(f)) if f.id == 1));
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
        assert!(matches!(rx.try_recv(), Ok(Event::Done(_))));
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
        for _ in 0..4 {
            s.add(
                FlowBuilder::get("https://a.test/")
                    .status(200, &[7; 400])
                    .build(),
            );
        }
        assert_eq!(s.len(), 2);
        assert_eq!(s.captured_bytes(), 800);
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
