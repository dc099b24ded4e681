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

use super::cells;
use super::config::Source;
use super::detail::{self, Detail, Tab};
use super::flows::{is_error, Sort};
use super::panes::{self, bold};
use super::state::{flows_n, ChildState, State};
use crate::flow::{ErrorClass, Flow};
use crate::terminal_text::terminal_safe;
use crate::units::{format_bytes, format_ms};

const BAR: usize = 10;
/// From this width the table also has the time and timing columns.
const WIDE: u16 = 140;

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
    if state.no_color {
        strip_colours(frame);
    }
}

/// `NO_COLOR`: every cell back to the terminal's own colours. Bold, reverse and underline
/// stay: the selection, the keys and the current tab are drawn reversed, so they still show.
fn strip_colours(frame: &mut Frame) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.set_fg(Color::Reset).set_bg(Color::Reset);
            }
        }
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
        Source::Live { addr } => {
            first.push(Span::raw(format!("listening on http://{addr}  ")));
            first.push(capture);
        }
        // What matters most first: the command's state; the command itself is cut if need be.
        Source::Run { addr, command } => {
            first.push(capture);
            first.push(Span::raw("  "));
            first.push(child_span(&state.child));
            first.push(Span::raw(format!("  listening on http://{addr}  ")));
            first.push(Span::raw(format!("$ {}", safe(command))));
        }
        Source::File { path } => {
            first.push(capture);
            first.push(Span::raw(format!("  {}", safe(path))));
        }
    }
    let s = state.list.stats();
    let mut second = vec![Span::raw(format!(" {}", flows_n(s.flows)))];
    let errors = Style::new().fg(if s.errors > 0 {
        Color::Red
    } else {
        Color::Reset
    });
    second.push(Span::raw(" · "));
    let errors_n = if s.errors == 1 {
        "1 error".to_string()
    } else {
        format!("{} errors", s.errors)
    };
    second.push(Span::styled(errors_n, errors));
    // A file holds no flow in flight: saying "0 in flight" would suggest it could.
    if !state.cfg.read_only() {
        second.push(Span::raw(format!(" · {} in flight", s.in_flight)));
    }
    second.push(Span::raw(format!(" · {}", format_bytes(s.bytes))));
    if !state.cfg.read_only() {
        second.push(Span::raw(format!(" · {:.1} req/s", state.rate)));
    }
    if state.list.filter().is_some() {
        second.push(Span::raw(format!(
            " · showing {}",
            state.list.visible_len()
        )));
    }
    if state.list.sort() != Sort::Time {
        second.push(Span::styled(
            format!("  sorted by {}", state.list.sort().name()),
            Style::new().fg(Color::Cyan),
        ));
    }
    if state.follow {
        second.push(Span::styled("  follow", Style::new().fg(Color::DarkGray)));
    }
    if state.list.filter().is_some() {
        second.push(Span::styled(
            format!("  filter: {}", state.filter_text),
            Style::new().fg(Color::Cyan),
        ));
    }
    let width = usize::from(area.width);
    frame.render_widget(
        Paragraph::new(vec![fit_spans(first, width), fit_spans(second, width)]),
        area,
    );
}

/// A line of spans cut to `width` cells, with `…` where it was cut.
pub fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let total: usize = spans.iter().map(|s| cells::width(&s.content)).sum();
    if total <= width {
        return Line::from(spans);
    }
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = cells::width(&span.content);
        if used + w < width {
            used += w;
            out.push(span);
            continue;
        }
        let cut = cells::fit_end(&format!("{}…", span.content), width - used);
        out.push(Span::styled(cut, span.style));
        break;
    }
    Line::from(out)
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

/// Which columns the table has at a width, and how wide each is: the path gets what the
/// others leave. From 140 cells: time and timing too, and error classes by their full name. Below 100: the short forms (method and
/// kind cut, the status as a short error code, the host cut at its start), so an 80-column
/// terminal still leaves the path most of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cols {
    wide: bool,
    narrow: bool,
    id: u16,
    method: u16,
    status: u16,
    host: u16,
    path: u16,
    kind: u16,
    size: u16,
    duration: u16,
}

impl Cols {
    /// `id_cells`, `host_cells`, `path_cells`: the widest id, host and path on screen.
    fn new(width: u16, id_cells: u16, host_cells: u16, path_cells: u16) -> Cols {
        let wide = width >= WIDE;
        let narrow = width < 100;
        let status = if wide { 16 } else { 12 };
        let (method, status, kind, duration) = if narrow {
            (4, 6, 6, 7)
        } else {
            (7, status, 9, 8)
        };
        // The host gets at most a seventh of the line (28 cells on a wide one).
        let host = host_cells.clamp(4, (width / 7).clamp(8, 28));
        let id = (id_cells + 1).max(if narrow { 3 } else { 6 });
        let mut c = Cols {
            wide,
            narrow,
            id,
            method,
            status,
            host,
            path: 0,
            kind,
            size: 8,
            duration,
        };
        let fixed: u16 = c.widths().iter().sum();
        let gaps = c.widths().len() as u16; // one cell between columns, path included
        c.path = width.saturating_sub(fixed + gaps).max(4);
        // Room the paths on screen do not need goes to a host that was cut.
        let spare = c.path.saturating_sub(path_cells.max(4));
        let grow = spare.min(host_cells.saturating_sub(c.host));
        c.host += grow;
        c.path -= grow;
        c
    }

    /// Every column but the path (which is 0 until `new` sets it), in order.
    fn widths(&self) -> Vec<u16> {
        let mut w = vec![self.id];
        if self.wide {
            w.push(12);
        }
        w.extend([
            self.method,
            self.status,
            self.host,
            self.path,
            self.kind,
            self.size,
            self.duration,
        ]);
        if self.wide {
            w.push(BAR as u16);
        }
        w
    }

    fn names(&self) -> Vec<&'static str> {
        let mut names = vec![" #"];
        if self.wide {
            names.push("time");
        }
        let (method, duration) = if self.narrow {
            ("meth", "took")
        } else {
            ("method", "duration")
        };
        names.extend([method, "status", "host", "path", "kind", "size", duration]);
        if self.wide {
            names.push("timing");
        }
        names
    }
}

fn draw_table(frame: &mut Frame, state: &State, area: Rect) {
    let rows = usize::from(area.height.saturating_sub(1));
    let shown: Vec<&Flow> = (state.offset..state.offset + rows)
        .filter_map(|i| state.list.visible_flow(i).map(|f| &**f))
        .collect();
    let host = shown
        .iter()
        .map(|f| cells::width(&safe(f.host())))
        .max()
        .unwrap_or(4) as u16;
    let id = shown
        .iter()
        .map(|f| f.id.to_string().len())
        .max()
        .unwrap_or(1) as u16;
    let path = shown
        .iter()
        .map(|f| cells::width(&safe(&path_cell(f))))
        .max()
        .unwrap_or(4) as u16;
    let cols = Cols::new(area.width, id, host, path);
    let scale = shown
        .iter()
        .map(|f| duration_ms(f, state.now_us))
        .fold(0.0, f64::max);
    let selected = state.selected;
    let body: Vec<Row> = shown
        .iter()
        .map(|f| {
            let row = flow_row(f, state, &cols, scale);
            if Some(f.id) == selected {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(cols.names())
        .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let widths: Vec<Constraint> = cols.widths().into_iter().map(Constraint::Length).collect();
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

fn flow_row(flow: &Flow, state: &State, cols: &Cols, scale: f64) -> Row<'static> {
    let marker = if Some(flow.id) == state.selected {
        "▸"
    } else {
        " "
    };
    let mut cells: Vec<Line<'static>> = vec![Line::from(format!("{marker}{}", flow.id))];
    if cols.wide {
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
    let fit = |text: &str, w: u16| cells::fit_end(&safe(text), usize::from(w));
    cells.extend([
        Line::from(fit(&flow.request.method, cols.method)),
        status_cell(flow, usize::from(cols.status)),
        Line::from(cells::fit_start(&safe(flow.host()), usize::from(cols.host))),
        Line::from(cells::fit_middle(
            &safe(&path_cell(flow)),
            usize::from(cols.path),
        )),
        Line::styled(
            fit(detail::kind_label(flow), cols.kind),
            Style::new().fg(Color::Magenta),
        ),
        Line::from(size).right_aligned(),
        Line::from(duration).right_aligned(),
    ]);
    if cols.wide {
        cells.push(timing_bar(flow, scale));
    }
    Row::new(cells)
}

/// The error class in at most six cells, for narrow tables (docs/TUI.md lists them).
pub fn short_class(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Dns => "dns",
        ErrorClass::Connect => "conn",
        ErrorClass::ConnectTimeout => "c-tmo",
        ErrorClass::UpstreamTls => "up-tls",
        ErrorClass::UpstreamReset => "reset",
        ErrorClass::UpstreamTimeout => "tmo",
        ErrorClass::ClientTls => "cl-tls",
        ErrorClass::ClientAbort => "abort",
        ErrorClass::Protocol => "proto",
        ErrorClass::UpstreamProxy => "uproxy",
        ErrorClass::Refused => "refuse",
        ErrorClass::Internal => "intern",
        ErrorClass::Interrupted => "intr",
    }
}

/// The status in `cells`: an error class by its full name when it fits, else its short code.
fn status_cell(flow: &Flow, cells: usize) -> Line<'static> {
    if let Some(e) = &flow.error {
        let text = if e.class.as_str().len() <= cells {
            e.class.as_str()
        } else {
            short_class(e.class)
        };
        return Line::styled(
            text,
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
    }
    match &flow.response {
        Some(r) => {
            let style = Style::new().fg(detail::status_color(r.status));
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
    let mut head_lines = detail::head(flow, area.width);
    let [head, body] = Layout::vertical([
        Constraint::Length(head_lines.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(area);
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
    head_lines.push(fit_spans(tabs, usize::from(area.width)));
    frame.render_widget(Paragraph::new(head_lines), head);
    let lines = detail::content(d, flow, &state.cfg, body.width);
    let rows = usize::from(body.height);
    let start = d.scroll.min(lines.len().saturating_sub(rows));
    let hit = Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let visible: Vec<Line> = lines
        .into_iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, line)| match &d.search {
            // The current match stands out; the others are marked too.
            Some(needle) if d.hit == Some(i) => {
                detail::highlight(line, needle, hit).style(Style::new().bg(Color::DarkGray))
            }
            Some(needle) => detail::highlight(line, needle, hit),
            None => line,
        })
        .collect();
    frame.render_widget(Paragraph::new(visible), body);
}

/// Network or command-line text as the TUI draws it: the one terminal rule.
fn safe(text: &str) -> String {
    terminal_safe(text).into_owned()
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
