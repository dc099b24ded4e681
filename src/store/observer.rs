//! The observer seam: how anything that watches flows (log lines, JSON lines, the TUI, and
//! next an exporter) follows the store, and the guarantee it gets.
//!
//! **Contract.** An observer receives the store's [`Event`]s in order. Per flow:
//! `Added` once, then `Updated` zero or more times, then `Finished` exactly once (complete,
//! failed, aborted, refused, or evicted while in flight), then `Amended` zero or more times
//! (late facts about a finished flow). Sequence numbers increase by one per event. An
//! observer that falls behind loses events: it is told how many (`on_lagged`) and handed the
//! store to re-read, and the events after the gap follow in order.
//!
//! Observers never slow traffic: each runs on a task of its own, woken at most once per
//! `BATCH_WINDOW` while events keep coming, and yielding its worker every `CHUNK` events.
//! Adding one is a file with an `impl Observer` and a line `observers.attach(…)` where the
//! session is assembled.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::flows::{Event, Store, Subscription};

/// How long an observer's task rests after a batch. Events sent meanwhile queue without
/// waking it: waking it for each of a flow's three events costs the proxying threads more
/// than the observer's work. 50 ms, not 10: at one client's pace (6 k requests/s) each rest
/// ending wakes a parked worker, and at 10 ms that was 0.02 context switches per request
/// (2.02 against hudsucker's 2.00), at 50 ms 0.003; a log line or a TUI row 50 ms late is
/// not seen as late.
const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Something that follows the flows. Called from one task, in event order.
pub trait Observer: Send + 'static {
    /// One event, in order (see the module's contract).
    fn on_event(&mut self, event: &Event);
    /// `missed` events were lost to lag; `store` holds the flows as they are now.
    fn on_lagged(&mut self, missed: u64, store: &Store);
    /// No event is waiting: write out what was batched.
    fn on_idle(&mut self) {}
    /// The session is ending; every event sent before it was delivered.
    fn on_close(&mut self) {}
    /// Whether this observer shows flows in flight and so needs `Updated` events. When no
    /// attached observer does, the store sends none (a flow is `Added`, then `Finished`),
    /// which spares every exchange a copy of its flow.
    fn wants_progress(&self) -> bool {
        false
    }
}

/// The observers attached to one store, each on its own task.
#[derive(Default)]
pub struct Observers {
    running: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
    wants_progress: bool,
}

impl Observers {
    /// Start following `store` from now on. Must be called inside a tokio runtime.
    pub fn attach(&mut self, store: &Arc<Store>, observer: Box<dyn Observer>) {
        self.wants_progress |= observer.wants_progress();
        store.set_progress_events(self.wants_progress);
        let (stop, stopped) = oneshot::channel();
        let events = store.subscribe();
        let task = tokio::spawn(follow(store.clone(), events, observer, stopped));
        self.running.push((stop, task));
    }

    /// Deliver what is queued, call `on_close`, and wait for every observer to end.
    pub async fn close(self) {
        let mut tasks = Vec::with_capacity(self.running.len());
        for (stop, task) in self.running {
            let _ = stop.send(());
            tasks.push(task);
        }
        for task in tasks {
            // A panicking observer loses its own output only; the capture is in the store.
            let _ = task.await;
        }
    }
}

/// Events an observer handles before its task gives the worker back. A batch is up to
/// `BATCH_WINDOW` of traffic, about 2,600 events (1,300 flows) at 26 k requests/s; handled in
/// one go it held a tokio worker for a millisecond or more while the requests queued on that
/// worker waited. Not fewer: each yield can wake a parked worker, and with 64 a single
/// client's pace (about 600 events a batch) cost 0.006 context switches per request more
/// (`perf stat` at c=1: 2.014 against 2.008 without chunks); 1,024 never splits its batches.
const CHUNK: usize = 1024;

async fn follow(
    store: Arc<Store>,
    events: Subscription,
    mut observer: Box<dyn Observer>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut batch = VecDeque::new();
    loop {
        let got = take(&store, &events, &mut batch, observer.as_mut());
        while deliver(&mut batch, observer.as_mut(), CHUNK) {
            tokio::task::yield_now().await;
        }
        if got {
            observer.on_idle();
        }
        tokio::select! {
            biased;
            _ = &mut stop => break,
            () = rest(got, &events) => {}
        }
    }
    // Everything announced before the stop.
    take(&store, &events, &mut batch, observer.as_mut());
    deliver(&mut batch, observer.as_mut(), usize::MAX);
    observer.on_idle();
    observer.on_close();
}

/// After a batch, rest for the window while events queue; after finding none, wait for one.
async fn rest(got: bool, events: &Subscription) {
    if got {
        tokio::time::sleep(BATCH_WINDOW).await;
    } else {
        events.wait().await;
    }
}

/// Takes the follower's queued events (and tells the observer what it missed); whether there
/// was anything.
fn take(
    store: &Store,
    events: &Subscription,
    batch: &mut VecDeque<Event>,
    observer: &mut dyn Observer,
) -> bool {
    let missed = store.take_events(events, batch);
    if missed > 0 {
        observer.on_lagged(missed, store);
    }
    missed > 0 || !batch.is_empty()
}

/// Hands the observer up to `n` events from the front of the batch; whether any are left.
fn deliver(batch: &mut VecDeque<Event>, observer: &mut dyn Observer, n: usize) -> bool {
    let n = n.min(batch.len());
    for event in batch.drain(..n) {
        observer.on_event(&event);
    }
    !batch.is_empty()
}

#[cfg(test)]
#[path = "observer_tests.rs"]
mod tests;
