//! The parts of the screen around the table: the output pane, the prompt line (filter with
//! its caret error, export file name, quit question, status), the footer of keys, and the
//! summary and help overlays, and the bold span keys and titles are written in. Pure drawing;
//! `view` calls in here, and `commands` wraps the summary the same way (`summary_lines`).

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::cells::{fit_end, width};
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
        " output (L hides) "
    } else {
        " messages (L hides) "
    };
    let block = Block::new().borders(Borders::TOP).title(title);
    let rows = usize::from(block.inner(area).height);
    let skip = state.output.len().saturating_sub(rows);
    let lines: Vec<Line> = state
        .output
        .iter()
        .skip(skip)
        .map(|l| Line::from(fit_end(l, usize::from(area.width))))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub(super) fn draw_prompt(frame: &mut Frame, state: &State, area: Rect) {
    let cursor = Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK));
    let lines = match &state.input {
        Input::Filter { text, error, .. } => {
            let mut lines = vec![Line::from(vec![bold("/"), Span::raw(text.clone()), cursor])];
            if let Some(e) = error {
                // The caret goes under the character, counted in cells (wide characters).
                let before: String = e.input.chars().take(e.position).collect();
                let column = width(&before);
                let text = format!(
                    " {}^ {}; expected {}",
                    " ".repeat(column),
                    e.message,
                    e.expected
                );
                lines.push(Line::styled(
                    fit_end(&text, usize::from(area.width)),
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
        Input::Search { text } => vec![Line::from(vec![
            bold("search: "),
            Span::raw(text.clone()),
            cursor,
            Span::styled(
                "   (the tab shown; Enter searches, then n / N; Esc cancels)",
                Style::new().fg(Color::DarkGray),
            ),
        ])],
        Input::ConfirmQuit { question } => vec![Line::styled(
            question.clone(),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )],
        // A long message is cut with `…`; the messages pane (L) has it whole.
        Input::None => match &state.status {
            Some(s) if s.error => vec![Line::styled(
                fit_end(&s.text, usize::from(area.width)),
                Style::new().fg(Color::Red),
            )],
            Some(s) => vec![Line::from(fit_end(&s.text, usize::from(area.width)))],
            None => vec![],
        },
    };
    frame.render_widget(Paragraph::new(lines), area);
}

pub(super) fn draw_footer(frame: &mut Frame, state: &State, area: Rect) {
    let keys: &[(&str, &str)] = if state.show_summary {
        &[("↑↓", "scroll"), ("s/Esc", "close"), ("q", "quit")]
    } else if matches!(state.input, Input::Search { .. }) || state.detail.is_some() {
        &[
            ("Tab", "next tab"),
            ("↑↓", "scroll"),
            ("/", "search"),
            ("n/N", "next/prev match"),
            ("J/K", "next/prev flow"),
            ("y/Y", "copy URL/curl"),
            ("1-6", "tab"),
            ("q/Esc", "back"),
            ("?", "help"),
        ]
    } else if state.cfg.read_only() {
        &[
            ("↑↓", "move"),
            ("Enter", "details"),
            ("/", "filter"),
            ("o", "sort"),
            ("w", "save"),
            ("h", "host"),
            ("y/Y", "copy URL/curl"),
            ("?", "help"),
            ("q", "quit"),
        ]
    } else {
        &[
            ("↑↓", "move"),
            ("Enter", "details"),
            ("/", "filter"),
            ("o", "sort"),
            ("w", "save"),
            ("p", "pause"),
            ("z", "clear"),
            ("f", "follow"),
            ("h", "host"),
            ("L", "output"),
            ("y/Y", "copy"),
            ("?", "help"),
            ("q", "quit"),
        ]
    };
    frame.render_widget(
        Paragraph::new(footer_line(keys, usize::from(area.width))),
        area,
    );
}

/// The keys that fit in `width`: spaced out when there is room, packed when not, and when
/// even that is too wide the ones before `?` (the help, which lists them all) are left out
/// from the end, so the line is never cut in the middle of a key.
fn footer_line(keys: &[(&str, &str)], room: usize) -> Line<'static> {
    let key = Style::new().add_modifier(Modifier::REVERSED);
    let build = |keys: &[&(&str, &str)], packed: bool| -> Vec<Span<'static>> {
        let mut spans = Vec::new();
        for (k, what) in keys {
            if packed {
                spans.push(Span::styled(k.to_string(), key));
                spans.push(Span::raw(format!(" {what} ")));
            } else {
                spans.push(Span::styled(format!(" {k} "), key));
                spans.push(Span::raw(format!(" {what} ")));
            }
        }
        spans
    };
    let cells_of = |spans: &[Span]| spans.iter().map(|s| width(&s.content)).sum::<usize>();
    let mut shown: Vec<&(&str, &str)> = keys.iter().collect();
    let spaced = build(&shown, false);
    if cells_of(&spaced) <= room {
        return Line::from(spaced);
    }
    loop {
        let packed = build(&shown, true);
        // Keep at least the last two (help and quit or back).
        if cells_of(&packed) <= room || shown.len() <= 2 {
            return Line::from(packed);
        }
        shown.remove(shown.len() - 3);
    }
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
