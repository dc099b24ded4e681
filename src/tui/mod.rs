//! The terminal UI: a live view of the store (`gomitm`, `gomitm run --tui`) or of a HAR file
//! (`gomitm open`). An observer: it reads flows and never touches traffic.
//!
//! Layout: `config` (what the TUI is started with), `state` (everything shown, and
//! `update(Action) → Effect`), `commands` (keys, mouse and prompts → state), `flows` (the flow
//! list and its filtered index), `keymap` (keys → commands), `layout` (the screen's areas),
//! `view`, `panes` and `detail` (pure drawing), `copy` (what `y`/`Y` put on the clipboard),
//! `terminal` (raw mode, restore on exit/panic,
//! stderr capture, input thread). This file is
//! the event loop: it turns terminal input, store events, child output and a clock into
//! actions, performs the effects (quit, write a HAR, re-read the store) and redraws at most
//! about 30 times a second, only when something changed.

pub(crate) mod cells;
mod commands;
mod config;
mod copy;
mod detail;
mod feed;
mod flows;
mod keymap;
mod layout;
mod panes;
mod resend;
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

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

pub use config::{Config, Source};
pub use state::Action;
pub use terminal::{local_utc_offset, terminal_rows};

use crate::flow::Flow;
use crate::har;
use crate::store::Store;
use feed::{FeedItem, FeedReceiver};
use state::{Effect, Exported, State};

/// How often the screen may be redrawn (when something changed): about 30 times a second.
const FRAME: Duration = Duration::from_millis(33);
/// How often the clock (durations of flows in flight, requests per second) moves.
const CLOCK: Duration = Duration::from_millis(250);

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
    feed: Option<FeedReceiver>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// The listener `r` and `E` send replays through (none: a file, nothing to send with).
    replay: Option<crate::replay::Endpoint>,
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
            feed: None,
            shutdown: Box::pin(shutdown),
            replay: None,
        }
    }

    /// Let `r` and `E` send replays through this gomitm listener.
    pub fn set_replay(&mut self, endpoint: crate::replay::Endpoint) {
        self.replay = Some(endpoint);
    }

    /// The TUI's observer, to attach to the store before `run` (whose first look at the store
    /// comes after it, so no flow falls between the two).
    pub fn observer(&mut self) -> Box<dyn crate::store::Observer> {
        let (observer, receiver) = feed::channel();
        self.feed = Some(receiver);
        Box::new(observer)
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
    // https://no-color.org: any non-empty value.
    state.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let _input = terminal::InputThread::spawn(feeds.tx.clone());
    let mut events = feeds.feed.take();
    let initial = match &feeds.store {
        Some(store) => store.snapshot(),
        None => std::mem::take(&mut feeds.flows),
    };
    let mut shell = Shell {
        store: feeds.store.clone(),
        tx: feeds.tx.clone(),
        start: Instant::now(),
        evicted: feeds.store.as_ref().map_or(0, |s| s.evicted()),
        replay: feeds.replay.take(),
        pending_edit: None,
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
                if let Some(flow) = shell.pending_edit.take() {
                    shell.edit_and_send(&mut term, &mut state, &flow).await;
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
            item = next_item(&mut events) => {
                dirty = true;
                match item {
                    Some(item) => {
                        if shell.on_feed(&mut state, item) {
                            break;
                        }
                    }
                    None => events = None,
                }
            }
        }
    }
    Ok(())
}

async fn next_item(events: &mut Option<FeedReceiver>) -> Option<FeedItem> {
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
    replay: Option<crate::replay::Endpoint>,
    /// `E` was pressed: the loop suspends the TUI for the editor after this action.
    pending_edit: Option<Arc<Flow>>,
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
                self.resync(state);
                false
            }
            Effect::Replay { flow, edit } => {
                if self.replay.is_none() {
                    let why = "replay needs gomitm's listener, which this view does not have";
                    state.update(Action::Replayed(Err(why.into())));
                } else if edit {
                    self.pending_edit = Some(flow);
                } else {
                    match resend::request_of(&flow) {
                        Ok(req) => self.send_replay(req, flow.id, false),
                        Err(e) => {
                            state.update(Action::Replayed(Err(e)));
                        }
                    }
                }
                false
            }
            Effect::Copy(escape) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                // A terminal without OSC 52 ignores it; nothing to report.
                let _ = out.write_all(escape.as_bytes()).and_then(|()| out.flush());
                false
            }
        }
    }

    fn send_replay(&self, req: crate::replay::ReplayRequest, of: u64, edited: bool) {
        if let Some(endpoint) = &self.replay {
            resend::send(endpoint, req, of, edited, &self.tx);
        }
    }

    /// `E`: the editor over the suspended TUI, then the edited request sent (or why not).
    async fn edit_and_send(&self, term: &mut terminal::Term, state: &mut State, flow: &Arc<Flow>) {
        match resend::edit(term, flow).await {
            Ok(req) => {
                state.update(Action::Replayed(Ok(format!(
                    "sending the edited request of #{}…",
                    flow.id
                ))));
                self.send_replay(req, flow.id, true);
            }
            Err(e) => {
                state.update(Action::Replayed(Err(e)));
            }
        }
    }

    fn resync(&self, state: &mut State) {
        if let Some(store) = &self.store {
            state.update(Action::Resync(store.snapshot()));
        }
    }

    /// A batch of flows from the observer (applied together, drawn once), or a re-read after
    /// events were lost. True means quit.
    fn on_feed(&mut self, state: &mut State, item: FeedItem) -> bool {
        match item {
            FeedItem::Flows(flows) => {
                for flow in flows {
                    if self.apply(state, Action::Flow(flow)) {
                        return true;
                    }
                }
            }
            FeedItem::Resync => self.resync(state),
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
    // Replaced as --har-out is, and the owner's alone: it holds traffic.
    crate::output_file::replace(
        path,
        json.as_bytes(),
        Some(crate::output_file::TRAFFIC_MODE),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(flows.len())
}
