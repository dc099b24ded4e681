//! The terminal UI: a live view of the store (`gomitm`, `gomitm run --tui`) or of a HAR file
//! (`gomitm open`). An observer: it reads flows and never touches traffic.
//!
//! Layout: `config` (what the TUI is started with), `state` (everything shown, and
//! `update(Action) → Effect`), `commands` (keys, mouse and prompts → state), `flows` (the flow
//! list and its filtered index), `keymap` (keys → commands), `layout` (the screen's areas),
//! `view`, `panes` and `detail` (pure drawing), `terminal` (raw mode, restore on exit/panic,
//! stderr capture, input thread). This file is
//! the event loop: it turns terminal input, store events, child output and a clock into
//! actions, performs the effects (quit, write a HAR, re-read the store) and redraws at most
//! about 30 times a second, only when something changed.

mod commands;
mod config;
mod detail;
mod flows;
mod keymap;
mod layout;
mod panes;
mod state;
mod terminal;
mod view;

#[cfg(test)]
mod perf_tests;
#[cfg(test)]
mod testdata;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

pub use config::{Config, Source};
pub use state::Action;
pub use terminal::local_utc_offset;

use crate::flow::Flow;
use crate::har;
use crate::store::{Event, Store};
use state::{Effect, Exported, State};

/// How often the screen may be redrawn (when something changed): about 30 times a second.
const FRAME: Duration = Duration::from_millis(33);
/// How often the clock (durations of flows in flight, requests per second) moves.
const CLOCK: Duration = Duration::from_millis(250);
/// Store events taken in one go before the loop looks at keys again.
const EVENT_BATCH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot use the terminal")]
    Terminal(#[source] std::io::Error),
}

/// What the TUI reads from: the store (live) or a fixed list (a HAR file), a side channel
/// for child output and messages, and a shutdown signal (SIGTERM) that quits at once.
pub struct Feeds {
    pub store: Option<Arc<Store>>,
    pub flows: Vec<Arc<Flow>>,
    tx: UnboundedSender<Action>,
    rx: UnboundedReceiver<Action>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Feeds {
    pub fn new(
        store: Option<Arc<Store>>,
        flows: Vec<Arc<Flow>>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Feeds {
        let (tx, rx) = mpsc::unbounded_channel();
        Feeds {
            store,
            flows,
            tx,
            rx,
            shutdown: Box::pin(shutdown),
        }
    }

    /// Where child output (`Action::ChildOutput`, `Action::ChildExited`) and messages go.
    pub fn sender(&self) -> UnboundedSender<Action> {
        self.tx.clone()
    }
}

/// Run the TUI until the user quits or `shutdown` fires. The terminal is restored on return,
/// on error and on panic.
pub async fn run(cfg: Config, mut feeds: Feeds) -> Result<(), TuiError> {
    let mut term = terminal::Term::enter(feeds.tx.clone()).map_err(TuiError::Terminal)?;
    let size = term.terminal.size().map_err(TuiError::Terminal)?;
    let mut state = State::new(cfg, (size.width, size.height));
    let _input = terminal::InputThread::spawn(feeds.tx.clone());
    let mut events = feeds.store.as_ref().map(|s| s.subscribe());
    let initial = match &feeds.store {
        Some(store) => store.snapshot(),
        None => std::mem::take(&mut feeds.flows),
    };
    let mut shell = Shell {
        store: feeds.store.clone(),
        tx: feeds.tx.clone(),
        start: Instant::now(),
        evicted: feeds.store.as_ref().map_or(0, |s| s.evicted()),
    };
    shell.tick(&mut state);
    state.update(Action::Resync(initial));
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_clock = Instant::now();
    let mut dirty = true;
    loop {
        tokio::select! {
            biased;
            _ = &mut feeds.shutdown => break,
            Some(action) = feeds.rx.recv() => {
                dirty = true;
                if shell.apply(&mut state, action) {
                    break;
                }
            }
            _ = frame.tick() => {
                if last_clock.elapsed() >= CLOCK {
                    last_clock = Instant::now();
                    shell.tick(&mut state);
                    shell.check_eviction(&mut state);
                    dirty = true;
                }
                if dirty {
                    state.flush();
                    term.terminal
                        .draw(|f| view::draw(f, &state))
                        .map_err(TuiError::Terminal)?;
                    dirty = false;
                }
            }
            // After the frame tick: a flood of events cannot starve the screen.
            ev = next_event(&mut events) => {
                dirty = true;
                if shell.on_event(&mut state, ev, &mut events) {
                    break;
                }
            }
        }
    }
    Ok(())
}

async fn next_event(events: &mut Option<broadcast::Receiver<Event>>) -> Result<Event, RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The I/O side of the loop: performs effects and feeds the clock and store into the state.
struct Shell {
    store: Option<Arc<Store>>,
    tx: UnboundedSender<Action>,
    start: Instant,
    evicted: u64,
}

impl Shell {
    /// Apply one action and perform its effect; true means quit.
    fn apply(&mut self, state: &mut State, action: Action) -> bool {
        match state.update(action) {
            Effect::None => false,
            Effect::Quit => true,
            Effect::Export { path, flows, upto } => {
                let tx = self.tx.clone();
                let opts = state.cfg.har_options();
                tokio::task::spawn_blocking(move || {
                    let result =
                        write_har(&path, &flows, &opts).map(|count| Exported { path, count, upto });
                    let _ = tx.send(Action::Exported(result));
                });
                false
            }
            Effect::Resync => {
                if let Some(store) = &self.store {
                    state.update(Action::Resync(store.snapshot()));
                }
                false
            }
        }
    }

    /// One store event plus whatever else is already queued (bursts are applied together and
    /// drawn once). A lag means events were lost: re-read the store.
    fn on_event(
        &mut self,
        state: &mut State,
        first: Result<Event, RecvError>,
        events: &mut Option<broadcast::Receiver<Event>>,
    ) -> bool {
        let mut next = first;
        for _ in 0..EVENT_BATCH {
            match next {
                Ok(ev) => {
                    if self.apply(state, Action::Flow(ev.flow().clone())) {
                        return true;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    if let Some(store) = &self.store {
                        state.update(Action::Resync(store.snapshot()));
                    }
                }
                Err(RecvError::Closed) => {
                    *events = None;
                    return false;
                }
            }
            let Some(rx) = events.as_mut() else {
                return false;
            };
            next = match rx.try_recv() {
                Ok(ev) => Ok(ev),
                Err(broadcast::error::TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(broadcast::error::TryRecvError::Closed) => Err(RecvError::Closed),
                Err(broadcast::error::TryRecvError::Empty) => return false,
            };
        }
        false
    }

    fn tick(&self, state: &mut State) {
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let mono_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        state.update(Action::Tick { now_us, mono_ms });
    }

    /// The store evicts oldest first without an event; when its count moved, drop what it
    /// no longer holds.
    fn check_eviction(&mut self, state: &mut State) {
        let Some(store) = &self.store else {
            return;
        };
        let evicted = store.evicted();
        if evicted == self.evicted {
            return;
        }
        self.evicted = evicted;
        let below = state
            .list
            .oldest_kept(|id| store.get(id).is_some())
            .or_else(|| state.list.last_id().map(|id| id + 1));
        if let Some(below) = below {
            state.update(Action::EvictBelow(below));
        }
    }
}

/// Write `flows` as a HAR file, redacted like `--har-out`. Returns how many were written.
pub fn write_har(
    path: &Path,
    flows: &[Arc<Flow>],
    opts: &har::HarOptions,
) -> Result<usize, String> {
    let doc = har::to_har(flows.iter().map(|f| &**f), opts);
    let json = har::to_json(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(flows.len())
}
