//! Keys, mouse and prompts: how user input changes the [`State`] (methods on it, beside
//! `state`'s own); the table of keys itself is `keymap`.
//!
//! Pure like the rest of `update`: effects that need I/O are returned, never performed.

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::copy;
use super::detail::{self, Detail, Tab};
use super::flows::Sort;
use super::keymap::{self, Command};
use super::panes::summary_lines;
use super::state::{default_export_name, flows_n, ChildState, Effect, Input, Paused, State};
use crate::filter::Filter;

const WHEEL_STEP: usize = 3;

impl State {
    // ---- keys ---------------------------------------------------------------------------

    pub(super) fn on_key(&mut self, key: KeyEvent) -> Effect {
        if self.help {
            self.help = false;
            return Effect::None;
        }
        let effect = match self.input {
            Input::None => match keymap::command(key) {
                Some(cmd) => self.on_command(cmd),
                None => Effect::None,
            },
            Input::Filter { .. } => {
                self.on_filter_key(key);
                Effect::None
            }
            Input::Export { .. } => self.on_export_key(key),
            Input::Search { .. } => {
                self.on_search_key(key);
                Effect::None
            }
            Input::ConfirmQuit { .. } => self.on_confirm_key(key),
        };
        self.settle();
        effect
    }

    fn on_command(&mut self, cmd: Command) -> Effect {
        if self.show_summary && self.on_summary_command(cmd) {
            return Effect::None;
        }
        if self.detail.is_some() && self.on_detail_command(cmd) {
            return Effect::None;
        }
        match cmd {
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-(self.table_rows().max(1) as i64)),
            Command::PageDown => self.move_by(self.table_rows().max(1) as i64),
            Command::Top => {
                self.follow = false;
                self.selected = self.list.visible_id(0);
            }
            Command::Bottom if self.list.sort() == Sort::Time => self.follow = true,
            Command::Bottom => {
                self.follow = false;
                self.selected = self
                    .list
                    .visible_id(self.list.visible_len().saturating_sub(1));
            }
            Command::Sort => self.cycle_sort(),
            Command::CopyUrl | Command::CopyCurl => return self.copy(cmd),
            Command::Replay | Command::EditReplay => return self.replay(cmd),
            Command::Open => self.open_detail(),
            Command::Filter => self.start_filter(),
            Command::HostFilter => self.host_filter(),
            Command::Export => self.start_export(),
            Command::Follow => self.follow = !self.follow,
            Command::Pause => return self.toggle_pause(),
            Command::Clear => self.clear(),
            Command::Help => self.help = true,
            Command::Output => self.show_output = !self.show_output,
            Command::Summary => self.show_summary = self.summary.is_some(),
            Command::Quit | Command::Interrupt => return self.request_quit(),
            Command::Back
            | Command::NextTab
            | Command::PrevTab
            | Command::NextFlow
            | Command::PrevFlow
            | Command::Tab(_) => {}
            // In the list `/` is the filter: say where searching is instead of doing nothing.
            Command::NextMatch | Command::PrevMatch => self.set_status(
                "n / N go between search matches in details (Enter, then /)".into(),
                false,
            ),
        }
        Effect::None
    }

    /// `o`: the next order, the selection kept (and scrolled into view by `settle`).
    fn cycle_sort(&mut self) {
        let sort = self.list.sort().next();
        self.list.set_sort(sort);
        if sort != Sort::Time {
            // Follow would jump to the newest row wherever it sorts; keep the selection.
            self.follow = false;
        }
        self.set_status(format!("sorted by {} (o: next order)", sort.name()), false);
    }

    /// `y` / `Y`: the URL or the request as curl, of the flow in details or the selected
    /// one, redacted as exports are unless `--no-redact`.
    fn copy(&mut self, cmd: Command) -> Effect {
        let flow = match self.detail_flow().or_else(|| self.selected_flow()) {
            Some(f) => copy::shown(f, self.cfg.redact, &self.cfg.redact_headers),
            None => {
                self.set_status("nothing to copy: no flow selected".into(), false);
                return Effect::None;
            }
        };
        let (what, text) = if cmd == Command::CopyUrl {
            ("the URL", flow.request.url.clone())
        } else {
            ("the request as curl", copy::curl_command(&flow))
        };
        let redacted = if self.cfg.redact {
            ", secrets redacted"
        } else {
            ""
        };
        self.set_status(
            format!("copied {what} to the clipboard (OSC 52{redacted})"),
            false,
        );
        Effect::Copy(copy::osc52(&text))
    }

    /// `r` / `E`: the flow in details or the selected one, sent again by the event loop.
    /// A HAR file has no gomitm to send through.
    fn replay(&mut self, cmd: Command) -> Effect {
        if self.cfg.read_only() {
            self.set_status(
                "replay needs a running gomitm: this is a file (gomitm replay FILE.har sends \
                 its requests again)"
                    .into(),
                true,
            );
            return Effect::None;
        }
        let Some(flow) = self.detail_flow().or_else(|| self.selected_flow()).cloned() else {
            self.set_status("nothing to replay: no flow selected".into(), false);
            return Effect::None;
        };
        Effect::Replay {
            flow,
            edit: cmd == Command::EditReplay,
        }
    }

    /// Keys the summary pane takes for itself; false lets the key through.
    fn on_summary_command(&mut self, cmd: Command) -> bool {
        let page = self.table_rows().max(1);
        match cmd {
            Command::Up => self.summary_scroll = self.summary_scroll.saturating_sub(1),
            Command::Down => self.summary_scroll += 1,
            Command::PageUp => self.summary_scroll = self.summary_scroll.saturating_sub(page),
            Command::PageDown => self.summary_scroll += page,
            Command::Top => self.summary_scroll = 0,
            Command::Back | Command::Summary => self.show_summary = false,
            _ => return false,
        }
        let len = self
            .summary
            .as_ref()
            .map_or(0, |s| summary_lines(s, self.screen()).len());
        self.summary_scroll = self.summary_scroll.min(len.saturating_sub(1));
        true
    }

    fn move_by(&mut self, delta: i64) {
        let len = self.list.visible_len();
        if len == 0 {
            return;
        }
        let row = self.selected_row().unwrap_or(len - 1) as i64;
        let target = (row + delta).clamp(0, len as i64 - 1) as usize;
        if delta < 0 {
            self.follow = false;
        }
        self.selected = self.list.visible_id(target);
    }

    fn clear(&mut self) {
        if self.cfg.read_only() {
            self.set_status("read-only: nothing to clear".into(), false);
            return;
        }
        let gone = self.list.len();
        self.list.clear();
        self.detail = None;
        if let Some(p) = self.paused.as_mut() {
            *p = Paused::default();
        }
        self.set_status(
            format!(
                "cleared {} from the view (--har-out still writes them)",
                flows_n(gone)
            ),
            false,
        );
    }

    fn toggle_pause(&mut self) -> Effect {
        if self.cfg.read_only() {
            self.set_status("read-only: nothing arrives to pause".into(), false);
            return Effect::None;
        }
        let Some(p) = self.paused.take() else {
            self.paused = Some(Paused::default());
            return Effect::None;
        };
        if let Some(below) = p.evict_below {
            self.list.evict_below(below);
        }
        if p.overflow {
            return Effect::Resync;
        }
        for flow in p.pending {
            self.list.upsert(flow);
        }
        self.refresh_body();
        Effect::None
    }

    fn request_quit(&mut self) -> Effect {
        let question = if self.cfg.read_only() {
            None
        } else if self.child == ChildState::Running {
            Some("the command is still running; quitting stops it. Quit? (y/n)".to_string())
        } else if self.unexported() && self.cfg.har_out.is_none() {
            Some(format!(
                "{} never exported (w exports them). Quit anyway? (y/n)",
                flows_n(self.list.stats().flows)
            ))
        } else {
            None
        };
        match question {
            Some(question) => {
                self.input = Input::ConfirmQuit { question };
                Effect::None
            }
            None => Effect::Quit,
        }
    }

    fn on_confirm_key(&mut self, key: KeyEvent) -> Effect {
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('y' | 'Y' | 'q') => Effect::Quit,
            _ if ctrl_c => Effect::Quit,
            _ => {
                self.input = Input::None;
                Effect::None
            }
        }
    }

    // ---- detail -------------------------------------------------------------------------

    fn open_detail(&mut self) {
        if let Some(id) = self.selected {
            self.detail = Some(Detail {
                id,
                tab: Tab::Headers,
                scroll: 0,
                body: None,
                search: None,
                hit: None,
            });
        }
    }

    /// Keys the detail view takes for itself; false lets the key through to the table.
    fn on_detail_command(&mut self, cmd: Command) -> bool {
        let page = self.table_rows().max(1);
        let Some(d) = self.detail.as_mut() else {
            return false;
        };
        match cmd {
            Command::Up => d.scroll = d.scroll.saturating_sub(1),
            Command::Down => d.scroll += 1,
            Command::PageUp => d.scroll = d.scroll.saturating_sub(page),
            Command::PageDown => d.scroll += page,
            Command::Top => d.scroll = 0,
            Command::Bottom => d.scroll = usize::MAX,
            Command::Open | Command::NextTab => set_tab(d, d.tab.next()),
            Command::PrevTab => set_tab(d, d.tab.prev()),
            Command::Tab(n) => match Tab::ALL.get(n) {
                Some(tab) => set_tab(d, *tab),
                None => return true,
            },
            Command::NextFlow | Command::PrevFlow => {
                let delta = if cmd == Command::NextFlow { 1 } else { -1 };
                let tab = d.tab;
                self.move_by(delta);
                self.open_detail();
                if let Some(d) = self.detail.as_mut() {
                    d.tab = tab;
                }
            }
            // `q` goes back from details, as in mitmproxy and lazygit; in the list it quits.
            Command::Back | Command::Quit => self.detail = None,
            Command::Filter => {
                self.input = Input::Search {
                    text: d.search.clone().unwrap_or_default(),
                };
                return true;
            }
            Command::NextMatch | Command::PrevMatch => {
                self.next_match(cmd == Command::NextMatch, false);
                return true;
            }
            _ => return false,
        }
        self.refresh_body();
        self.clamp_detail_scroll();
        true
    }

    /// Move to the next (or previous) line matching the search, wrapping around, and scroll
    /// it into view. `here`: the current line counts (a new search starts where you are).
    fn next_match(&mut self, forward: bool, here: bool) {
        self.refresh_body();
        let width = self.size.0;
        let rows = self.detail_rows().max(1);
        let (hits, needle) = match (self.detail.as_ref(), self.detail_flow()) {
            (Some(d), Some(flow)) => {
                let Some(needle) = d.search.clone() else {
                    self.set_status("no search: / searches the tab shown".into(), false);
                    return;
                };
                let lines = detail::content(d, flow, &self.cfg, width);
                (detail::matching_lines(&lines, &needle), needle)
            }
            _ => return,
        };
        let Some(d) = self.detail.as_mut() else {
            return;
        };
        let from = d.hit.unwrap_or(d.scroll);
        let next = if forward {
            let after = |h: &&usize| if here { **h >= from } else { **h > from };
            hits.iter().find(after).or(hits.first())
        } else {
            hits.iter().rev().find(|h| **h < from).or(hits.last())
        };
        let Some(&line) = next else {
            d.hit = None;
            self.set_status(format!("not found: {needle}"), true);
            return;
        };
        d.hit = Some(line);
        if line < d.scroll || line >= d.scroll + rows {
            d.scroll = line.saturating_sub(rows / 3);
        }
        let n = hits.iter().position(|h| *h == line).map_or(0, |i| i + 1);
        self.clamp_detail_scroll();
        self.set_status(format!("match {n} of {} (n/N)", hits.len()), false);
    }

    fn on_search_key(&mut self, key: KeyEvent) {
        let Input::Search { text } = &mut self.input else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.input = Input::None,
            KeyCode::Enter => {
                let needle = text.trim().to_string();
                self.input = Input::None;
                if let Some(d) = self.detail.as_mut() {
                    d.hit = None;
                    d.search = (!needle.is_empty()).then_some(needle);
                }
                if self.detail.as_ref().is_some_and(|d| d.search.is_some()) {
                    self.next_match(true, true);
                }
            }
            _ => {
                edit_text(text, key);
            }
        }
    }

    pub(super) fn refresh_body(&mut self) {
        let Some(d) = self.detail.as_ref() else {
            return;
        };
        let Some(flow) = self.list.get(d.id).cloned() else {
            return;
        };
        let stale =
            d.tab == Tab::Body && d.body.as_ref().is_none_or(|(f, _)| !Arc::ptr_eq(f, &flow));
        if stale {
            let lines = detail::body_lines(&flow);
            if let Some(d) = self.detail.as_mut() {
                d.body = Some((flow, lines));
            }
        }
    }

    fn clamp_detail_scroll(&mut self) {
        let width = self.size.0;
        let rows = self.detail_rows();
        let len = match (self.detail.as_ref(), self.detail_flow()) {
            (Some(d), Some(flow)) => detail::content_len(d, flow, &self.cfg, width),
            _ => return,
        };
        if let Some(d) = self.detail.as_mut() {
            d.scroll = d.scroll.min(len.saturating_sub(rows));
        }
    }

    /// Lines of detail content that fit on screen.
    pub fn detail_rows(&self) -> usize {
        let main = self.layout(self.screen()).main;
        let head = self
            .detail_flow()
            .map_or(3, |f| detail::head_rows(f, main.width));
        usize::from(main.height.saturating_sub(head))
    }

    // ---- prompts ------------------------------------------------------------------------

    fn start_filter(&mut self) {
        let before = self
            .list
            .filter()
            .cloned()
            .map(|f| (f, self.filter_text.clone()));
        self.input = Input::Filter {
            text: self.filter_text.clone(),
            before,
            error: None,
        };
    }

    fn on_filter_key(&mut self, key: KeyEvent) {
        let Input::Filter {
            text,
            before,
            error,
        } = &mut self.input
        else {
            return;
        };
        match key.code {
            KeyCode::Enter if error.is_some() => {
                self.set_status(
                    "the filter has an error: fix it, or Esc to cancel".into(),
                    true,
                );
                return;
            }
            KeyCode::Enter => {
                self.filter_text = text.trim().to_string();
                self.input = Input::None;
                self.flush();
                return;
            }
            KeyCode::Esc => {
                let before = before.take();
                self.input = Input::None;
                self.pending_filter = None;
                self.filter_text = before.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
                self.apply_filter(before.map(|(f, _)| f));
                return;
            }
            _ if !edit_text(text, key) => return,
            _ => {}
        }
        let parsed = if text.trim().is_empty() {
            Ok(None)
        } else {
            Filter::parse(text).map(Some)
        };
        match parsed {
            Ok(filter) => {
                *error = None;
                self.filter_text = text.trim().to_string();
                // Applied by `flush` before the next frame: keys typed (or pasted) faster
                // than frames cost one pass over the flows, not one per key.
                self.pending_filter = Some(filter);
            }
            Err(e) => *error = Some(e),
        }
    }

    pub(super) fn apply_filter(&mut self, filter: Option<Filter>) {
        if self.list.filter() == filter.as_ref() {
            return;
        }
        self.list.set_filter(filter);
    }

    fn host_filter(&mut self) {
        let Some(host) = self.selected_flow().map(|f| f.host().to_string()) else {
            return;
        };
        let text = format!("host:{}", crate::filter::quote(&host));
        if self.filter_text == text {
            self.filter_text.clear();
            self.apply_filter(None);
            return;
        }
        match Filter::parse(&text) {
            Ok(f) => {
                self.filter_text = text;
                self.apply_filter(Some(f));
            }
            Err(e) => self.set_status(format!("cannot filter on {host}: {}", e.message), true),
        }
    }

    fn start_export(&mut self) {
        if self.list.visible_len() == 0 {
            self.set_status("nothing to export: the view is empty".into(), false);
            return;
        }
        self.input = Input::Export {
            text: default_export_name(self.now_us + self.cfg.utc_offset_s * 1_000_000),
        };
    }

    fn on_export_key(&mut self, key: KeyEvent) -> Effect {
        let Input::Export { text } = &mut self.input else {
            return Effect::None;
        };
        match key.code {
            KeyCode::Esc => self.input = Input::None,
            KeyCode::Enter if text.trim().is_empty() => {}
            KeyCode::Enter => {
                let path = PathBuf::from(text.trim());
                self.input = Input::None;
                let flows = self.list.visible_flows();
                self.set_status(
                    format!("writing {} to {}…", flows_n(flows.len()), path.display()),
                    false,
                );
                let whole = self.list.filter().is_none();
                return Effect::Export {
                    path,
                    flows,
                    upto: self.list.last_id().filter(|_| whole),
                };
            }
            _ => {
                edit_text(text, key);
            }
        }
        Effect::None
    }

    // ---- mouse --------------------------------------------------------------------------

    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        if self.help || self.input != Input::None {
            return;
        }
        let cmd = match m.kind {
            MouseEventKind::ScrollUp => Command::Up,
            MouseEventKind::ScrollDown => Command::Down,
            MouseEventKind::Down(MouseButton::Left) => {
                self.click(m.column, m.row);
                return;
            }
            _ => return,
        };
        for _ in 0..WHEEL_STEP {
            self.on_command(cmd);
        }
    }

    fn click(&mut self, column: u16, row: u16) {
        if self.detail.is_some() || self.show_summary {
            return;
        }
        let main = self.layout(self.screen()).main;
        let body_top = main.y + 1;
        if column < main.x || column >= main.right() || row < body_top || row >= main.bottom() {
            return;
        }
        let index = self.offset + usize::from(row - body_top);
        if let Some(id) = self.list.visible_id(index) {
            self.selected = Some(id);
            self.follow = index + 1 == self.list.visible_len() && self.follow;
        }
    }
}

fn set_tab(d: &mut Detail, tab: Tab) {
    if d.tab != tab {
        d.tab = tab;
        d.scroll = 0;
        d.hit = None;
    }
}

/// Typing in a prompt. Returns whether the text changed.
fn edit_text(text: &mut String, key: KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => text.clear(),
        KeyCode::Char('w') if ctrl => {
            let trimmed = text.trim_end().len();
            let cut = text[..trimmed].rfind(' ').map_or(0, |i| i + 1);
            text.truncate(cut);
        }
        _ if ctrl => return false,
        KeyCode::Char(c) => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => return false,
    }
    true
}
