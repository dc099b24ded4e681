//! A recording observer and the contract check, for the store's and the proxy's tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::flows::{Event, EventKind, Store};
use super::observer::Observer;

/// Everything an observer was told, in order.
#[derive(Debug, Default)]
pub struct Recorded {
    /// (seq, kind, flow id, flow finished?)
    pub events: Vec<(u64, EventKind, u64, bool)>,
    /// Each lag notice: how many events were missed, and the events received before it.
    pub lags: Vec<(u64, usize)>,
    pub idles: usize,
    pub closed: bool,
}

/// An observer that records; the handle stays with the test.
pub struct Recorder(pub Arc<Mutex<Recorded>>);

impl Recorder {
    pub fn new() -> (Recorder, Arc<Mutex<Recorded>>) {
        let shared = Arc::new(Mutex::new(Recorded::default()));
        (Recorder(shared.clone()), shared)
    }
    fn with(&self, f: impl FnOnce(&mut Recorded)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

impl Observer for Recorder {
    fn on_event(&mut self, ev: &Event) {
        self.with(|r| {
            r.events
                .push((ev.seq, ev.kind, ev.flow.id, ev.flow.is_done()))
        });
    }
    fn on_lagged(&mut self, missed: u64, _store: &Store) {
        self.with(|r| {
            let at = r.events.len();
            r.lags.push((missed, at));
        });
    }
    fn on_idle(&mut self) {
        self.with(|r| r.idles += 1);
    }
    fn on_close(&mut self) {
        self.with(|r| r.closed = true);
    }
    fn wants_progress(&self) -> bool {
        true
    }
}

/// The contract of `store::observer`, checked on what an observer received: sequence numbers
/// without gaps except those a lag notice accounts for, and per flow
/// `Added Updated* Finished Amended*` with `Finished` on a finished flow. Flows whose events a
/// lag may have swallowed are checked only for order of what arrived.
pub fn check_contract(r: &Recorded) -> Result<(), String> {
    let mut expected_seq = None;
    let mut lags = r.lags.iter().peekable();
    let mut per_flow: BTreeMap<u64, Vec<EventKind>> = BTreeMap::new();
    for (i, &(seq, kind, id, done)) in r.events.iter().enumerate() {
        let mut skipped = 0;
        while let Some(&&(missed, at)) = lags.peek() {
            if at != i {
                break;
            }
            skipped += missed;
            lags.next();
        }
        if let Some(want) = expected_seq {
            if seq != want + skipped {
                return Err(format!(
                    "event {i}: seq {seq}, expected {} ({skipped} reported missed)",
                    want + skipped
                ));
            }
        }
        expected_seq = Some(seq + 1);
        if kind == EventKind::Finished && !done {
            return Err(format!("flow #{id}: Finished on a flow that is not done"));
        }
        per_flow.entry(id).or_default().push(kind);
    }
    let lagged = !r.lags.is_empty();
    for (id, kinds) in per_flow {
        let order = |k: &EventKind| match k {
            EventKind::Added => 0,
            EventKind::Updated => 1,
            EventKind::Finished => 2,
            EventKind::Amended => 3,
        };
        if kinds.windows(2).any(|w| order(&w[0]) > order(&w[1])) {
            return Err(format!("flow #{id}: out of order: {kinds:?}"));
        }
        let count = |k| kinds.iter().filter(|x| **x == k).count();
        if count(EventKind::Finished) > 1 || count(EventKind::Added) > 1 {
            return Err(format!(
                "flow #{id}: announced or finished twice: {kinds:?}"
            ));
        }
        if !lagged && (count(EventKind::Added) != 1 || count(EventKind::Finished) != 1) {
            return Err(format!(
                "flow #{id}: not added once and finished once: {kinds:?}"
            ));
        }
    }
    Ok(())
}
