//! The observer contract, tested on the store's own decisions: every way a flow can end is
//! announced as finished exactly once, and a lagging observer is told what it missed.

use std::sync::Arc;

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{Flow, FlowState};
use crate::store::testing::{check_contract, Recorded, Recorder};
use crate::store::{EventKind, StoreLimits};

fn in_flight(url: &str) -> Flow {
    let mut f = FlowBuilder::get(url).build();
    f.state = FlowState::InFlight;
    f
}

fn done(flow: &Flow) -> Flow {
    let mut f = flow.clone();
    f.state = FlowState::Done;
    f
}

fn kinds_of(r: &Recorded, id: u64) -> Vec<EventKind> {
    r.events.iter().filter(|e| e.2 == id).map(|e| e.1).collect()
}

#[tokio::test]
async fn every_way_a_flow_ends_is_finished_exactly_once() {
    let store = Arc::new(Store::new(StoreLimits {
        max_flows: 3,
        max_held_bytes: 1 << 20,
    }));
    let (recorder, seen) = Recorder::new();
    let mut observers = Observers::default();
    observers.attach(&store, Box::new(recorder));

    // Born finished (a refused CONNECT).
    let refused = store.add(FlowBuilder::get("https://refused.test/").build());
    // In flight, changed, finished, then finished again (a late request body).
    let normal = store.add(in_flight("https://normal.test/"));
    store.update((*normal).clone());
    store.update(done(&normal));
    store.update(done(&normal));
    // Failed: two failures race; the second is a late fact, not a second finish.
    let failed = store.add(in_flight("https://failed.test/"));
    store.update(done(&failed));
    store.update(done(&failed));
    // Evicted while in flight (three newer flows push it out), then updated and finished:
    // still announced, once; what comes after is not.
    let evicted = store.add(in_flight("https://evicted.test/"));
    let newer: Vec<_> = (0..3)
        .map(|i| store.add(FlowBuilder::get(&format!("https://n{i}.test/")).build()))
        .collect();
    assert!(store.get(evicted.id).is_none(), "the flow was evicted");
    store.update((*evicted).clone());
    store.update(done(&evicted));
    store.update(done(&evicted));
    // Evicted after it finished: nothing more is announced for it.
    store.update(done(&refused));
    observers.close().await;

    let r = seen.lock().unwrap_or_else(|p| p.into_inner());
    check_contract(&r).unwrap_or_else(|e| panic!("{e}\n{:?}", r.events));
    use EventKind::*;
    assert_eq!(kinds_of(&r, refused.id), [Added, Finished]);
    assert_eq!(kinds_of(&r, normal.id), [Added, Updated, Finished, Amended]);
    assert_eq!(kinds_of(&r, failed.id), [Added, Finished, Amended]);
    assert_eq!(kinds_of(&r, evicted.id), [Added, Updated, Finished]);
    for n in &newer {
        assert_eq!(kinds_of(&r, n.id), [Added, Finished]);
    }
    assert!(r.closed, "on_close was called");
    assert!(r.idles >= 1, "on_idle was called");
}

#[tokio::test]
async fn the_contract_check_fails_on_a_second_finish_or_a_gap() {
    let mut r = Recorded {
        events: vec![
            (1, EventKind::Added, 7, false),
            (2, EventKind::Finished, 7, true),
            (3, EventKind::Finished, 7, true),
        ],
        ..Recorded::default()
    };
    assert!(check_contract(&r).is_err(), "a second Finished");
    r.events = vec![
        (1, EventKind::Added, 7, false),
        (3, EventKind::Finished, 7, true),
    ];
    assert!(check_contract(&r).is_err(), "a gap nobody reported");
    r.events = vec![
        (1, EventKind::Added, 7, false),
        (2, EventKind::Finished, 7, false),
    ];
    assert!(check_contract(&r).is_err(), "Finished on a flow in flight");
    r.events = vec![(1, EventKind::Added, 7, false)];
    assert!(check_contract(&r).is_err(), "never finished");
}

#[tokio::test]
async fn a_lagging_observer_is_told_how_many_events_it_missed() {
    let store = Arc::new(Store::with_event_capacity(StoreLimits::default(), 4));
    let (recorder, seen) = Recorder::new();
    let mut observers = Observers::default();
    observers.attach(&store, Box::new(recorder));
    // The observer's task cannot run before this test yields (a current-thread runtime).
    for i in 0..10 {
        store.add(FlowBuilder::get(&format!("https://h{i}.test/")).build());
    }
    observers.close().await;
    let r = seen.lock().unwrap_or_else(|p| p.into_inner());
    // 10 flows born finished: 20 events, of which the channel kept the last 4.
    assert_eq!(r.lags, vec![(16, 0)]);
    let seqs: Vec<u64> = r.events.iter().map(|e| e.0).collect();
    assert_eq!(seqs, vec![17, 18, 19, 20]);
    check_contract(&r).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn without_an_observer_that_shows_flows_in_flight_the_store_sends_no_updates() {
    struct Finishes;
    impl Observer for Finishes {
        fn on_event(&mut self, _event: &Event) {}
        fn on_lagged(&mut self, _missed: u64, _store: &Store) {}
    }
    let store = Arc::new(Store::new(StoreLimits::default()));
    assert!(
        store.progress_events(),
        "a store alone publishes everything"
    );
    let mut observers = Observers::default();
    observers.attach(&store, Box::new(Finishes));
    assert!(
        !store.progress_events(),
        "no observer asked for in-flight changes"
    );
    let (recorder, _seen) = Recorder::new();
    observers.attach(&store, Box::new(recorder));
    assert!(
        store.progress_events(),
        "an observer that shows flows in flight turns them on"
    );
    observers.close().await;
}

/// A big batch is handled a chunk at a time: another task on the same (single) thread runs
/// between chunks instead of waiting for the whole batch, and the observer still gets every
/// event in order with one `on_idle` for the batch.
#[tokio::test]
async fn a_big_batch_lets_other_tasks_run_between_chunks() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(Arc<AtomicUsize>, Arc<AtomicUsize>);
    impl Observer for Counting {
        fn on_event(&mut self, _: &Event) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn on_lagged(&mut self, _: u64, _: &Store) {}
        fn on_idle(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    let store = Arc::new(Store::new(StoreLimits {
        max_flows: 10_000,
        max_held_bytes: 1 << 20,
    }));
    let (count, idles) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut observers = Observers::default();
    observers.attach(&store, Box::new(Counting(count.clone(), idles.clone())));
    // Flows born finished, two events each, queued before the observer's task first runs:
    // three and a half chunks.
    let flows = CHUNK * 7 / 4;
    for i in 0..flows {
        store.add(FlowBuilder::get(&format!("https://b{i}.test/")).build());
    }
    let total = flows * 2;
    // This test's runtime has one thread: each sample is taken between two of the observer's
    // chunks, never in the middle of one.
    let mut seen = Vec::new();
    while count.load(Ordering::SeqCst) < total && seen.len() < 10_000 {
        seen.push(count.load(Ordering::SeqCst));
        tokio::task::yield_now().await;
    }
    let between: Vec<usize> = seen
        .iter()
        .copied()
        .filter(|&n| n > 0 && n < total)
        .collect();
    assert!(
        between.len() >= 2,
        "no other task ran while the batch was handled: {seen:?}"
    );
    assert!(
        between.iter().all(|n| n % CHUNK == 0),
        "a chunk was interrupted: {between:?}"
    );
    observers.close().await;
    assert_eq!(count.load(Ordering::SeqCst), total);
    assert_eq!(
        idles.load(Ordering::SeqCst),
        2,
        "one on_idle for the batch, one at close"
    );
}
