//! Drawing: `draw(frame, &State)` paints the header, the flow table (only the rows on
//! screen) or the detail view, the output pane, the prompt line, the footer and overlays.
//!
//! Pure: never changes the state, never does I/O. Where each part goes is `layout`'s (through
//! `State::layout`); the bottom lines and overlays are drawn by `panes`, the detail tabs'
//! content comes from `detail`. Text that came from the network or the command line (method,
//! host, path, URL, status text, error message, the command) is drawn through the one terminal
//! rule, [`safe`]: ratatui drops C0/C1 controls itself but passes bidi overrides through.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};
use ratatui::Frame;

use super::config::Source;
use super::detail::{self, Detail, Tab};
use super::flows::is_error;
use super::panes::{self, bold};
use super::state::{ChildState, State};
use crate::flow::Flow;
use crate::terminal_text::terminal_safe;
use crate::units::{format_bytes, format_ms};

const BAR: usize = 10;

pub fn draw(frame: &mut Frame, state: &State) {
    let areas = state.layout(frame.area());
    draw_header(frame, state, areas.header);
    match (&state.detail, state.detail_flow()) {
        (Some(d), Some(flow)) => draw_detail(frame, state, d, flow, areas.main),
        _ => draw_table(frame, state, areas.main),
    }
    if let Some(out) = areas.output {
        panes::draw_output(frame, state, out);
    }
    panes::draw_prompt(frame, state, areas.prompt);
    panes::draw_footer(frame, state, areas.footer);
    if state.show_summary {
        panes::draw_summary(frame, state, frame.area());
    }
    if state.help {
        panes::draw_help(frame, frame.area());
    }
}

fn draw_header(frame: &mut Frame, state: &State, area: Rect) {
    let capture = match (&state.cfg.source, &state.paused) {
        (Source::File { .. }, _) => Span::styled("read-only", Style::new().fg(Color::Yellow)),
        (_, Some(p)) => Span::styled(
            format!("‖ paused, {} new", p.new_flows),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        _ => Span::styled("● capturing", Style::new().fg(Color::Green)),
    };
    let mut first = vec![bold(" gomitm "), Span::raw(" ")];
    match &state.cfg.source {
        Source::Live { addr } => first.push(Span::raw(format!("listening on http://{addr}  "))),
        Source::Run { addr, command } => {
            first.push(Span::raw(format!("listening on http://{addr}  ")));
            first.push(capture.clone());
            first.push(Span::raw(format!("  $ {}  ", safe(command))));
            first.push(child_span(&state.child));
        }
        Source::File { path } => first.push(Span::raw(format!("{}  ", safe(path)))),
    }
    if !matches!(state.cfg.source, Source::Run { .. }) {
        first.push(capture);
    }
    let s = state.list.stats();
    let mut second = vec![Span::raw(format!(" {} flows", s.flows))];
    let errors = Style::new().fg(if s.errors > 0 {
        Color::Red
    } else {
        Color::Reset
    });
    second.push(Span::raw(" · "));
    second.push(Span::styled(format!("{} errors", s.errors), errors));
    second.push(Span::raw(format!(
        " · {} in flight · {}",
        s.in_flight,
        format_bytes(s.bytes)
    )));
    if !state.cfg.read_only() {
        second.push(Span::raw(format!(" · {:.1} req/s", state.rate)));
    }
    if state.list.filter().is_some() {
        second.push(Span::raw(format!(
            " · showing {}",
            state.list.visible_len()
        )));
        second.push(Span::styled(
            format!("  filter: {}", state.filter_text),
            Style::new().fg(Color::Cyan),
        ));
    }
    if state.follow {
        second.push(Span::styled("  follow", Style::new().fg(Color::DarkGray)));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

fn child_span(child: &ChildState) -> Span<'static> {
    match child {
        ChildState::Running => Span::styled("running", Style::new().fg(Color::Green)),
        ChildState::Exited(0) => Span::styled("exited 0", Style::new().fg(Color::Green)),
        ChildState::Exited(c) => Span::styled(format!("exited {c}"), Style::new().fg(Color::Red)),
        ChildState::None => Span::raw(""),
    }
}

// ---- table ------------------------------------------------------------------------------

fn columns(width: u16, host: u16) -> (Vec<&'static str>, Vec<Constraint>) {
    let wide = width >= 120;
    let mut names = vec![" #"];
    let mut widths = vec![Constraint::Length(6)];
    if wide {
        names.push("time");
        widths.push(Constraint::Length(12));
    }
    names.extend([
        "method", "status", "host", "path", "kind", "size", "duration",
    ]);
    widths.extend([
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(host),
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(8),
    ]);
    if wide {
        names.push("timing");
        widths.push(Constraint::Length(BAR as u16));
    }
    (names, widths)
}

fn draw_table(frame: &mut Frame, state: &State, area: Rect) {
    let wide = area.width >= 120;
    let rows = usize::from(area.height.saturating_sub(1));
    let shown: Vec<&Flow> = (state.offset..state.offset + rows)
        .filter_map(|i| state.list.visible_flow(i).map(|f| &**f))
        .collect();
    // As wide as the longest host on screen, within limits: the path gets the rest.
    let host = shown
        .iter()
        .map(|f| f.host().chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 28) as u16;
    let (names, widths) = columns(area.width, host);
    let scale = shown
        .iter()
        .map(|f| duration_ms(f, state.now_us))
        .fold(0.0, f64::max);
    let selected = state.selected;
    let body: Vec<Row> = shown
        .iter()
        .map(|f| {
            let row = flow_row(f, state, wide, scale);
            if Some(f.id) == selected {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let header =
        Row::new(names).style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    frame.render_widget(Table::new(body, widths).header(header), area);
    if shown.is_empty() && area.height > 2 {
        let inner = Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(4), 2);
        frame.render_widget(Paragraph::new(empty_text(state)), inner);
    }
}

fn empty_text(state: &State) -> Vec<Line<'static>> {
    let style = Style::new().fg(Color::DarkGray);
    if !state.list.is_empty() {
        return vec![Line::styled("no flow matches the filter", style)];
    }
    match &state.cfg.source {
        Source::Live { addr } => vec![
            Line::styled(
                "waiting for traffic; point go and git at gomitm with:",
                style,
            ),
            Line::styled(
                format!("  eval \"$(gomitm env --proxy http://{addr})\""),
                style,
            ),
        ],
        Source::Run { .. } => vec![Line::styled(
            "waiting for the command's first request",
            style,
        )],
        Source::File { .. } => vec![Line::styled("the file holds no entries", style)],
    }
}

fn duration_ms(flow: &Flow, now_us: i64) -> f64 {
    flow.timings
        .total_ms
        .unwrap_or_else(|| ((now_us - flow.started_at_us).max(0) as f64) / 1000.0)
}

fn flow_row(flow: &Flow, state: &State, wide: bool, scale: f64) -> Row<'static> {
    let marker = if Some(flow.id) == state.selected {
        "▸"
    } else {
        " "
    };
    let mut cells: Vec<Line<'static>> = vec![Line::from(format!("{marker}{}", flow.id))];
    if wide {
        cells.push(Line::from(clock(
            flow.started_at_us,
            state.cfg.utc_offset_s,
        )));
    }
    let size = match (&flow.tunnel, &flow.response) {
        (Some(t), _) => format_bytes(t.bytes_up + t.bytes_down),
        (None, Some(r)) => format_bytes(r.body.total),
        (None, None) => "-".into(),
    };
    let duration = match flow.timings.total_ms {
        Some(ms) => format_ms(ms),
        None if flow.is_done() => "-".into(),
        None => format!("…{}", format_ms(duration_ms(flow, state.now_us))),
    };
    cells.extend([
        Line::from(safe(&flow.request.method)),
        status_cell(flow),
        Line::from(safe(flow.host())),
        Line::from(safe(&path_cell(flow))),
        Line::styled(detail::kind_label(flow), Style::new().fg(Color::Magenta)),
        Line::from(size).right_aligned(),
        Line::from(duration).right_aligned(),
    ]);
    if wide {
        cells.push(timing_bar(flow, scale));
    }
    Row::new(cells)
}

fn status_cell(flow: &Flow) -> Line<'static> {
    if let Some(e) = &flow.error {
        return Line::styled(
            e.class.as_str(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
    }
    match &flow.response {
        Some(r) => {
            let color = match r.status {
                200..=299 => Color::Green,
                300..=399 => Color::Cyan,
                400..=499 => Color::Yellow,
                _ => Color::Red,
            };
            let style = Style::new().fg(color);
            if is_error(flow) {
                Line::styled(r.status.to_string(), style.add_modifier(Modifier::BOLD))
            } else {
                Line::styled(r.status.to_string(), style)
            }
        }
        None if flow.tunnel.is_some() => Line::styled("tunnel", Style::new().fg(Color::Blue)),
        None if flow.is_done() => Line::styled("-", Style::new().fg(Color::DarkGray)),
        None => Line::styled("…", Style::new().fg(Color::DarkGray)),
    }
}

/// For Go flows `module@version` (what go asked for), otherwise the URL path and query.
pub fn path_cell(flow: &Flow) -> String {
    if flow.tunnel.is_some() {
        return flow.request.url.clone();
    }
    if let Some(go) = &flow.go {
        match (&go.module, &go.version, &go.tile) {
            (Some(m), Some(v), _) => return format!("{m}@{v}"),
            (Some(m), None, _) => return m.clone(),
            (None, _, Some(tile)) => return format!("tile {tile}"),
            _ => {}
        }
    }
    let url = &flow.request.url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    rest.find('/')
        .map_or_else(|| "/".to_string(), |i| rest[i..].to_string())
}

/// `HH:MM:SS.mmm` local time.
pub fn clock(started_us: i64, offset_s: i64) -> String {
    let us = started_us + offset_s * 1_000_000;
    let day_ms = (us.div_euclid(1000)).rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60,
        day_ms % 1000
    )
}

/// The phases of one flow on the scale of the slowest row on screen.
fn timing_bar(flow: &Flow, scale: f64) -> Line<'static> {
    if scale <= 0.0 {
        return Line::default();
    }
    let mut spans = Vec::new();
    let mut at = 0.0;
    let mut drawn = 0usize;
    for (_, color, value) in detail::phases(&flow.timings) {
        let Some(v) = value else { continue };
        at += v;
        let end = (((at / scale) * BAR as f64).round() as usize).min(BAR);
        if end > drawn {
            spans.push(Span::styled(
                "▆".repeat(end - drawn),
                Style::new().fg(color),
            ));
            drawn = end;
        }
    }
    if drawn == 0 && duration_ms(flow, 0) > 0.0 && flow.timings.total_ms.is_some() {
        spans.push(Span::styled("▆", Style::new().fg(Color::DarkGray)));
    }
    Line::from(spans)
}

// ---- detail -----------------------------------------------------------------------------

fn draw_detail(frame: &mut Frame, state: &State, d: &Detail, flow: &Flow, area: Rect) {
    let [head, body] =
        Layout::vertical([Constraint::Length(detail::HEAD_ROWS), Constraint::Min(0)]).areas(area);
    let title = Line::from(vec![
        bold(format!("#{} ", flow.id)),
        bold(format!("{} ", safe(&flow.request.method))),
        Span::raw(safe(&flow.request.url)),
    ]);
    let result = match (&flow.error, &flow.response) {
        (Some(e), _) => Line::from(vec![
            Span::styled(
                format!("{}: ", e.class),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::styled(safe(&e.message), Style::new().fg(Color::Red)),
        ]),
        (None, Some(r)) => Line::from(vec![
            Span::styled(
                safe(&crate::go::diagnosis::status_text(r)),
                status_cell(flow)
                    .spans
                    .first()
                    .map_or_else(Style::new, |s| s.style),
            ),
            Span::raw(format!(
                " · {} · {}",
                format_bytes(r.body.total),
                flow.timings
                    .total_ms
                    .map_or_else(|| "in flight".into(), format_ms)
            )),
        ]),
        (None, None) => Line::from(status_cell(flow).spans),
    };
    let mut tabs = Vec::new();
    for (i, t) in Tab::ALL.iter().enumerate() {
        let style = if *t == d.tab {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new().fg(Color::DarkGray)
        };
        tabs.push(Span::styled(format!(" {} {} ", i + 1, t.title()), style));
        tabs.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(vec![title, result, Line::from(tabs)]), head);
    let lines = detail::content(d, flow, &state.cfg, body.width);
    let rows = usize::from(body.height);
    let start = d.scroll.min(lines.len().saturating_sub(rows));
    let visible: Vec<Line> = lines.into_iter().skip(start).take(rows).collect();
    frame.render_widget(Paragraph::new(visible), body);
}

/// Network or command-line text as the TUI draws it: the one terminal rule.
fn safe(text: &str) -> String {
    terminal_safe(text).into_owned()
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
