//! The parts of the screen around the table: the output pane, the prompt line (filter with
//! its caret error, export file name, quit question, status), the footer of keys, and the
//! summary and help overlays, and the bold span keys and titles are written in. Pure drawing;
//! `view` calls in here, and `commands` wraps the summary the same way (`summary_lines`).

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::config::Source;
use super::detail::wrap;
use super::keymap::HELP;
use super::state::{Input, State};

/// `text` in bold, as keys and titles are written.
pub(super) fn bold(text: impl Into<String>) -> Span<'static> {
    Span::styled(text.into(), Style::new().add_modifier(Modifier::BOLD))
}

pub(super) fn draw_output(frame: &mut Frame, state: &State, area: Rect) {
    let title = if matches!(state.cfg.source, Source::Run { .. }) {
        " output (o hides) "
    } else {
        " messages (o hides) "
    };
    let block = Block::new().borders(Borders::TOP).title(title);
    let rows = usize::from(block.inner(area).height);
    let skip = state.output.len().saturating_sub(rows);
    let lines: Vec<Line> = state
        .output
        .iter()
        .skip(skip)
        .map(|l| Line::from(l.clone()))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn draw_prompt(frame: &mut Frame, state: &State, area: Rect) {
    let cursor = Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK));
    let lines = match &state.input {
        Input::Filter { text, error, .. } => {
            let mut lines = vec![Line::from(vec![bold("/"), Span::raw(text.clone()), cursor])];
            if let Some(e) = error {
                let column = e.position.min(e.input.chars().count());
                lines.push(Line::styled(
                    format!(
                        " {}^ {}; expected {}",
                        " ".repeat(column),
                        e.message,
                        e.expected
                    ),
                    Style::new().fg(Color::Red),
                ));
            }
            lines
        }
        Input::Export { text } => {
            let redact = if state.cfg.redact {
                "secrets redacted"
            } else {
                "NOT redacted"
            };
            vec![Line::from(vec![
                bold("export HAR to: "),
                Span::raw(text.clone()),
                cursor,
                Span::styled(
                    format!(
                        "   ({} flows, {redact}; Enter writes, Esc cancels)",
                        state.list.visible_len()
                    ),
                    Style::new().fg(Color::DarkGray),
                ),
            ])]
        }
        Input::ConfirmQuit { question } => vec![Line::styled(
            question.clone(),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )],
        Input::None => match &state.status {
            Some(s) if s.error => vec![Line::styled(s.text.clone(), Style::new().fg(Color::Red))],
            Some(s) => vec![Line::from(s.text.clone())],
            None => vec![],
        },
    };
    frame.render_widget(Paragraph::new(lines), area);
}

pub(super) fn draw_footer(frame: &mut Frame, state: &State, area: Rect) {
    let keys: &[(&str, &str)] = if state.show_summary {
        &[("↑↓", "scroll"), ("s/Esc", "close"), ("q", "quit")]
    } else if state.detail.is_some() {
        &[
            ("Tab/Enter", "next tab"),
            ("1-6", "tab"),
            ("↑↓", "scroll"),
            ("J/K", "next/prev flow"),
            ("Esc", "back"),
            ("?", "help"),
            ("q", "quit"),
        ]
    } else if state.cfg.read_only() {
        &[
            ("↑↓", "move"),
            ("Enter", "details"),
            ("/", "filter"),
            ("h", "host"),
            ("e", "export"),
            ("?", "help"),
            ("q", "quit"),
        ]
    } else {
        &[
            ("↑↓", "move"),
            ("Enter", "details"),
            ("/", "filter"),
            ("h", "host"),
            ("e", "export"),
            ("f", "follow"),
            ("p", "pause"),
            ("c", "clear"),
            ("?", "help"),
            ("q", "quit"),
        ]
    };
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            format!(" {k} "),
            Style::new().add_modifier(Modifier::REVERSED),
        ));
        spans.push(Span::raw(format!(" {what} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred box `pct_w`% by `pct_h`% of `area`.
fn centred(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = area.width * pct_w / 100;
    let h = area.height * pct_h / 100;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The summary box: most of the screen, or less when the summary is short.
fn summary_box(area: Rect, lines: usize) -> Rect {
    let outer = centred(area, 92, 80);
    let height = (lines as u16).saturating_add(2).min(outer.height);
    Rect::new(outer.x, outer.y, outer.width, height)
}

/// The summary wrapped to the box it is drawn in on a screen of `area`.
pub fn summary_lines(summary: &[String], area: Rect) -> Vec<String> {
    let width = usize::from(centred(area, 92, 80).width.saturating_sub(2));
    summary.iter().flat_map(|l| wrap(l, width)).collect()
}

pub(super) fn draw_summary(frame: &mut Frame, state: &State, area: Rect) {
    let Some(summary) = &state.summary else {
        return;
    };
    let wrapped = summary_lines(summary, area);
    let area = summary_box(area, wrapped.len());
    let block = Block::bordered().title(" run summary (↑↓ scroll, s or Esc closes, q quits) ");
    let rows = usize::from(block.inner(area).height);
    let lines: Vec<Line> = wrapped
        .into_iter()
        .skip(state.summary_scroll)
        .take(rows)
        .map(Line::from)
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn draw_help(frame: &mut Frame, area: Rect) {
    let height = (HELP.len() as u16 + 2).min(area.height);
    let width = 78.min(area.width);
    let area = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<22}"), Style::new().fg(Color::Cyan)),
                Span::raw(*what),
            ])
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys (any key closes) ")),
        area,
    );
}
