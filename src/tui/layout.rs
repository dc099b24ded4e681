//! The screen's geometry: which rows go to the header, the table or detail view, the output
//! pane, the prompt line and the footer ([`Areas`]).
//!
//! Pure arithmetic on the screen's size and two facts of the state (is the output pane shown,
//! is there a filter error under the prompt). `view` draws into these areas; `state` and
//! `commands` use them to map clicks and page sizes to rows, through `State::layout`.

use ratatui::layout::{Constraint, Layout, Rect};

/// Height of the output pane, border included.
const OUTPUT_ROWS: u16 = 9;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    /// The table (its header row first) or the detail view.
    pub main: Rect,
    pub output: Option<Rect>,
    pub prompt: Rect,
    pub footer: Rect,
}

/// The areas of `screen`: the output pane only when asked for and there is room (20 rows),
/// and a second prompt row for a filter error.
pub fn areas(screen: Rect, show_output: bool, filter_error: bool) -> Areas {
    let prompt_rows = if filter_error { 2 } else { 1 };
    let output_rows = if show_output && screen.height >= 20 {
        OUTPUT_ROWS
    } else {
        0
    };
    let [header, main, output, prompt, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(output_rows),
        Constraint::Length(prompt_rows),
        Constraint::Length(1),
    ])
    .areas(screen);
    Areas {
        header,
        main,
        output: (output_rows > 0).then_some(output),
        prompt,
        footer,
    }
}
