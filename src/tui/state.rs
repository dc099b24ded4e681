//! Everything the TUI shows, and `update`: how a key, a mouse event, a flow event or a tick
//! changes it. No terminal, no files, no clock: time comes in as `Action::Tick`, and what needs
//! I/O (quit, write a HAR, re-read the store) goes out as an [`Effect`] for the event loop.
//!
//! The flows and the filtered view live in `flows`; keys are named in `keymap` and handled in
//! `commands` (keys, mouse, prompts, the detail view); the detail view's own state is
//! `detail`'s, the start-up settings `config`'s, the screen's areas `layout`'s. This file owns
//! the state and its events ([`State`], [`Action`], [`Effect`], the prompt), flow events, the
//! clock, selection and scrolling.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
use ratatui::layout::Rect;

use super::config::{Config, Source};
use super::detail::Detail;
use super::flows::FlowList;
use super::layout::{self, Areas};
use crate::filter::{Filter, FilterError};
use crate::flow::Flow;

/// Lines of child output and messages kept for the output pane.
pub const OUTPUT_LINES: usize = 1000;
/// Flow events held while the view is paused; beyond this the view re-reads the store.
const MAX_PENDING: usize = 200_000;
/// How long a status message stays.
const STATUS_MS: u64 = 6000;

/// Something that happened; the only way the state changes.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// A flow was added or changed in the store.
    Flow(Arc<Flow>),
    /// Every flow the store holds (after a lag, or on start).
    Resync(Vec<Arc<Flow>>),
    /// The store evicted every flow older than this id.
    EvictBelow(u64),
    /// Wall clock (µs since the epoch) and a monotonic clock (ms).
    Tick {
        now_us: i64,
        mono_ms: u64,
    },
    /// A line gomitm itself wrote (warnings, rule reloads).
    Message(String),
    /// A line the child of `gomitm run` wrote.
    ChildOutput(String),
    ChildExited {
        code: i32,
        summary: String,
    },
    Exported(Result<Exported, String>),
    /// SIGTERM: leave now, without asking.
    Terminate,
    /// A replay (`r`, `E`) was answered (the line to show) or could not be sent.
    Replayed(Result<String, String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub path: PathBuf,
    pub count: usize,
    /// The newest flow id at the time of an unfiltered export (`None`: filtered, so some
    /// flows were left out and quitting still asks).
    pub upto: Option<u64>,
}

/// What the event loop must do after an update.
#[derive(Debug, Clone)]
pub enum Effect {
    None,
    Quit,
    Export {
        path: PathBuf,
        flows: Vec<Arc<Flow>>,
        upto: Option<u64>,
    },
    /// Re-read the whole store and send `Action::Resync`.
    Resync,
    /// Write this escape (OSC 52: set the clipboard) to the terminal.
    Copy(String),
    /// Send this flow's request again through gomitm; `edit`: first in $EDITOR.
    Replay {
        flow: Arc<Flow>,
        edit: bool,
    },
}

/// A text prompt or question on the bottom line.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    None,
    Filter {
        text: String,
        /// The filter (and its text) before `/`, restored by Esc.
        before: Option<(Filter, String)>,
        error: Option<FilterError>,
    },
    Export {
        text: String,
    },
    /// `/` in the detail view: search the tab shown.
    Search {
        text: String,
    },
    ConfirmQuit {
        question: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Paused {
    pub pending: Vec<Arc<Flow>>,
    /// New flows that arrived while paused (the header shows it).
    pub new_flows: usize,
    max_pending_id: u64,
    pub(super) evict_below: Option<u64>,
    /// Too much arrived: re-read the store on resume.
    pub overflow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildState {
    /// Not a `gomitm run`.
    None,
    Running,
    Exited(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    until_ms: u64,
}

#[derive(Debug, Clone)]
pub struct State {
    pub cfg: Config,
    pub list: FlowList,
    pub size: (u16, u16),
    pub selected: Option<u64>,
    /// First table row on screen.
    pub offset: usize,
    pub follow: bool,
    pub paused: Option<Paused>,
    pub detail: Option<Detail>,
    pub input: Input,
    /// The text of the active filter, as typed.
    pub filter_text: String,
    /// A filter typed but not applied yet (`Some(None)`: no filter); see [`State::flush`].
    pub(super) pending_filter: Option<Option<Filter>>,
    pub help: bool,
    pub show_output: bool,
    pub output: VecDeque<String>,
    pub child: ChildState,
    /// The run summary, once the child exited.
    pub summary: Option<Vec<String>>,
    pub show_summary: bool,
    pub summary_scroll: usize,
    pub status: Option<Status>,
    pub now_us: i64,
    pub mono_ms: u64,
    /// Requests per second over the last few seconds.
    pub rate: f64,
    arrivals: VecDeque<(u64, u64)>,
    exported_upto: u64,
    /// `NO_COLOR`: draw without colours (reverse and bold stay, so the selection shows).
    pub no_color: bool,
}

impl State {
    pub fn new(cfg: Config, size: (u16, u16)) -> State {
        let run = matches!(cfg.source, Source::Run { .. });
        let live = !cfg.read_only();
        let mut list = FlowList::default();
        let mut filter_text = String::new();
        if let Some(f) = cfg.filter.clone() {
            // Parsed with the command line; shown in its canonical spelling.
            filter_text = f.to_string();
            list.set_filter(Some(f));
        }
        State {
            cfg,
            list,
            size,
            selected: None,
            offset: 0,
            follow: live,
            paused: None,
            detail: None,
            input: Input::None,
            filter_text,
            pending_filter: None,
            help: false,
            show_output: run,
            output: VecDeque::new(),
            child: if run {
                ChildState::Running
            } else {
                ChildState::None
            },
            summary: None,
            show_summary: false,
            summary_scroll: 0,
            status: None,
            now_us: 0,
            mono_ms: 0,
            rate: 0.0,
            arrivals: VecDeque::new(),
            exported_upto: 0,
            no_color: false,
        }
    }

    pub fn update(&mut self, action: Action) -> Effect {
        match action {
            Action::Key(key) if key.kind != KeyEventKind::Release => return self.on_key(key),
            Action::Key(_) => {}
            Action::Mouse(m) => self.on_mouse(m),
            Action::Resize(w, h) => self.size = (w, h),
            Action::Flow(flow) => return self.on_flow(flow),
            Action::Resync(flows) => self.on_resync(flows),
            Action::EvictBelow(id) => self.on_evict(id),
            Action::Tick { now_us, mono_ms } => self.on_tick(now_us, mono_ms),
            Action::Message(line) => {
                self.set_status(
                    line.clone(),
                    line.contains("error") || line.contains("warning"),
                );
                self.push_output(format!("» {line}"));
            }
            Action::ChildOutput(line) => self.push_output(line),
            Action::ChildExited { code, summary } => {
                self.child = ChildState::Exited(code);
                self.summary = Some(summary.lines().map(clean_line).collect());
                self.show_summary = true;
                self.summary_scroll = 0;
            }
            Action::Exported(result) => self.on_exported(result),
            Action::Terminate => return Effect::Quit,
            Action::Replayed(result) => {
                let (line, error) = match result {
                    Ok(line) => (line, false),
                    Err(line) => (line, true),
                };
                self.set_status(
                    crate::terminal_text::terminal_safe(&line).into_owned(),
                    error,
                );
                self.push_output(format!("» {line}"));
            }
        }
        self.settle();
        Effect::None
    }

    /// Work deferred to once per frame: the filter typed since the last frame. The event loop
    /// calls it before drawing; tests call it to see what the screen would.
    pub fn flush(&mut self) {
        if let Some(filter) = self.pending_filter.take() {
            self.apply_filter(filter);
        }
        self.list.resort();
        self.settle();
    }

    // ---- flows --------------------------------------------------------------------------

    fn on_flow(&mut self, flow: Arc<Flow>) -> Effect {
        if let Some(p) = self.paused.as_mut() {
            let newest = self.list.last_id().unwrap_or(0).max(p.max_pending_id);
            if flow.id > newest {
                p.new_flows += 1;
                p.max_pending_id = flow.id;
            }
            if p.overflow {
                return Effect::None;
            }
            if p.pending.len() >= MAX_PENDING {
                p.overflow = true;
                p.pending = Vec::new();
            } else {
                p.pending.push(flow);
            }
            return Effect::None;
        }
        let id = flow.id;
        self.list.upsert(flow);
        if self.detail.as_ref().is_some_and(|d| d.id == id) {
            self.refresh_body();
        }
        self.settle();
        Effect::None
    }

    fn on_resync(&mut self, flows: Vec<Arc<Flow>>) {
        if let Some(p) = self.paused.as_mut() {
            p.overflow = true;
            p.pending = Vec::new();
            return;
        }
        self.list.resync(flows);
        self.refresh_body();
    }

    fn on_evict(&mut self, below: u64) {
        if let Some(p) = self.paused.as_mut() {
            p.evict_below = Some(p.evict_below.map_or(below, |b| b.max(below)));
            return;
        }
        self.list.evict_below(below);
    }

    fn on_tick(&mut self, now_us: i64, mono_ms: u64) {
        self.now_us = now_us;
        self.mono_ms = mono_ms;
        let total = self.list.added_total();
        self.arrivals.push_back((mono_ms, total));
        while self
            .arrivals
            .front()
            .is_some_and(|(t, _)| mono_ms.saturating_sub(*t) > 3000)
        {
            self.arrivals.pop_front();
        }
        self.rate = match self.arrivals.front() {
            Some((t, n)) if mono_ms > *t => (total - n) as f64 * 1000.0 / (mono_ms - t) as f64,
            _ => 0.0,
        };
        if self.status.as_ref().is_some_and(|s| s.until_ms <= mono_ms) {
            self.status = None;
        }
    }

    fn on_exported(&mut self, result: Result<Exported, String>) {
        match result {
            Ok(done) => {
                if let Some(upto) = done.upto {
                    self.exported_upto = self.exported_upto.max(upto);
                }
                self.set_status(
                    format!("wrote {} to {}", flows_n(done.count), done.path.display()),
                    false,
                );
            }
            Err(e) => self.set_status(format!("export failed: {e}"), true),
        }
    }

    /// After any change: the detail flow still exists, the selection is on a row, the
    /// selected row is on screen.
    pub(super) fn settle(&mut self) {
        if let Some(d) = &self.detail {
            if self.list.get(d.id).is_none() {
                self.detail = None;
                self.set_status("the flow shown was evicted or cleared".into(), false);
            }
        }
        let len = self.list.visible_len();
        if len == 0 {
            self.selected = None;
            self.offset = 0;
            return;
        }
        if self.follow {
            self.selected = self.list.newest_visible_id();
        } else {
            let row = match self.selected.map(|id| self.list.visible_position(id)) {
                Some(Ok(row)) => row,
                Some(Err(row)) => row.min(len - 1),
                None => 0,
            };
            self.selected = self.list.visible_id(row);
        }
        self.scroll_to_selection();
    }

    fn scroll_to_selection(&mut self) {
        let rows = self.table_rows().max(1);
        let len = self.list.visible_len();
        let Some(row) = self.selected_row() else {
            return;
        };
        if row < self.offset {
            self.offset = row;
        }
        if row >= self.offset + rows {
            self.offset = row + 1 - rows;
        }
        self.offset = self.offset.min(len.saturating_sub(rows));
    }

    pub fn selected_row(&self) -> Option<usize> {
        self.list.visible_position(self.selected?).ok()
    }

    pub fn selected_flow(&self) -> Option<&Arc<Flow>> {
        self.list.get(self.selected?)
    }

    pub fn detail_flow(&self) -> Option<&Arc<Flow>> {
        self.list.get(self.detail.as_ref()?.id)
    }

    /// Where each part of a screen of `area` goes in this state (the output pane shown or not,
    /// a filter error under the prompt or not).
    pub fn layout(&self, area: Rect) -> Areas {
        layout::areas(area, self.show_output, self.filter_error().is_some())
    }

    /// Rows of the table that fit on screen (the table's own header line excluded).
    pub fn table_rows(&self) -> usize {
        let area = self.layout(self.screen()).main;
        usize::from(area.height.saturating_sub(1))
    }

    pub fn screen(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Flows seen that no export covered (cleared flows don't count).
    pub fn unexported(&self) -> bool {
        self.list
            .last_id()
            .is_some_and(|id| id > self.exported_upto)
    }

    pub fn filter_error(&self) -> Option<&FilterError> {
        match &self.input {
            Input::Filter { error, .. } => error.as_ref(),
            _ => None,
        }
    }

    pub(super) fn set_status(&mut self, text: String, error: bool) {
        self.status = Some(Status {
            text: clean_line(&text),
            error,
            until_ms: self.mono_ms + STATUS_MS,
        });
    }

    fn push_output(&mut self, line: String) {
        if self.output.len() >= OUTPUT_LINES {
            self.output.pop_front();
        }
        self.output.push_back(clean_line(&line));
    }
}

/// `1 flow`, `2 flows`.
pub fn flows_n(n: usize) -> String {
    if n == 1 {
        "1 flow".to_string()
    } else {
        format!("{n} flows")
    }
}

/// Output, summary and status lines as they may be drawn: the one terminal rule (ratatui drops
/// C0/C1 controls itself, but not bidi overrides; and a dropped ESC would hide that one was
/// there), tabs as spaces.
fn clean_line(line: &str) -> String {
    crate::terminal_text::terminal_safe(line).into_owned()
}

/// `gomitm-20240102-150405.har` for a local time in µs since the epoch.
pub fn default_export_name(local_us: i64) -> String {
    let when = time::OffsetDateTime::from_unix_timestamp(local_us.div_euclid(1_000_000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "gomitm-{:04}{:02}{:02}-{:02}{:02}{:02}.har",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    )
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
