//! Which key does what, outside text prompts. One table, used by the state machine and by the
//! help overlay, so the help can never drift from the keys.
//!
//! Pure: a key in, a command out. What a command does is `state`'s business.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Table: open the detail view. Detail: next tab.
    Open,
    NextTab,
    PrevTab,
    /// Detail: the next / previous flow without going back to the table.
    NextFlow,
    PrevFlow,
    Back,
    Filter,
    HostFilter,
    Export,
    Follow,
    Pause,
    Clear,
    Help,
    /// The output pane (`run --tui`) or gomitm's messages: `L`, the log. `E`, mitmproxy's
    /// event log key, is kept for editing a request before resending it.
    Output,
    Summary,
    /// Cycle the table's order: time, duration, size, status (mitmproxy's `o`).
    Sort,
    /// Detail: the next / previous match of the search.
    NextMatch,
    PrevMatch,
    /// Copy the URL / the request as a curl command (OSC 52).
    CopyUrl,
    CopyCurl,
    /// `q`: quits from the list, goes back from details.
    Quit,
    /// Ctrl-C: quits from anywhere.
    Interrupt,
    /// Jump to a detail tab by number (0-based).
    Tab(usize),
    /// `r`: send the selected flow's request again, as recorded.
    Replay,
    /// `E`: edit the request in $EDITOR, then send it (mitmproxy's `e`; gomitm's is export).
    EditReplay,
}

/// The keys, as the help overlay and docs/TUI.md list them.
pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move (in details: scroll)"),
    ("PgUp PgDn", "a page up / down"),
    ("g  G", "first / last (G also turns follow on)"),
    ("Enter", "details of the flow; in details, the next tab"),
    (
        "Tab  Shift-Tab  1-6",
        "next / previous / numbered detail tab",
    ),
    ("J  K", "in details: next / previous flow"),
    ("Esc  q", "back (closes details, prompts, help, summary)"),
    ("/", "filter; in details: search the tab shown"),
    ("n  N", "in details: next / previous match"),
    ("h", "filter to the selected flow's host (again: clear)"),
    ("o", "sort: time, duration, size, status (cycles)"),
    ("w  e", "export (save) the filtered view to a HAR file"),
    ("r", "replay: send the selected request again"),
    ("E", "edit in $EDITOR, then send (e is export)"),
    ("y  Y", "copy the URL / the request as curl (OSC 52)"),
    ("f", "follow the newest flow on / off"),
    ("p", "pause the view (capture goes on)"),
    ("z  c", "clear the list"),
    ("L", "show / hide the output (run --tui) or messages pane"),
    ("s", "show / hide the run summary"),
    ("?", "this help"),
    (
        "q  Ctrl-C",
        "in the list: quit (asks if flows were never exported)",
    ),
    ("mouse", "wheel scrolls, click selects a row"),
];

pub fn command(key: KeyEvent) -> Option<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let cmd = match key.code {
        KeyCode::Char('c') if ctrl => Command::Interrupt,
        KeyCode::Char('d') if ctrl => Command::PageDown,
        KeyCode::Char('u') if ctrl => Command::PageUp,
        _ if ctrl => return None,
        KeyCode::Up | KeyCode::Char('k') => Command::Up,
        KeyCode::Down | KeyCode::Char('j') => Command::Down,
        KeyCode::PageUp => Command::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Command::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Command::Top,
        KeyCode::End | KeyCode::Char('G') => Command::Bottom,
        KeyCode::Enter => Command::Open,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => Command::NextTab,
        KeyCode::BackTab | KeyCode::Left => Command::PrevTab,
        KeyCode::Char('J') => Command::NextFlow,
        KeyCode::Char('K') => Command::PrevFlow,
        KeyCode::Esc | KeyCode::Backspace => Command::Back,
        KeyCode::Char('/') => Command::Filter,
        KeyCode::Char('h') => Command::HostFilter,
        KeyCode::Char('e' | 'w') => Command::Export,
        KeyCode::Char('f') => Command::Follow,
        KeyCode::Char('p') => Command::Pause,
        KeyCode::Char('c' | 'z') => Command::Clear,
        KeyCode::Char('?') => Command::Help,
        KeyCode::Char('L') => Command::Output,
        KeyCode::Char('o') => Command::Sort,
        KeyCode::Char('n') => Command::NextMatch,
        KeyCode::Char('N') => Command::PrevMatch,
        KeyCode::Char('y') => Command::CopyUrl,
        KeyCode::Char('Y') => Command::CopyCurl,
        KeyCode::Char('s') => Command::Summary,
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Char(c @ '1'..='9') => Command::Tab(c as usize - '1' as usize),
        KeyCode::Char('r') => Command::Replay,
        KeyCode::Char('E') => Command::EditReplay,
        _ => return None,
    };
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn arrows_and_vim_keys_agree() {
        assert_eq!(command(key(KeyCode::Up)), command(key(KeyCode::Char('k'))));
        assert_eq!(command(key(KeyCode::Down)), Some(Command::Down));
        assert_eq!(command(key(KeyCode::Char('G'))), Some(Command::Bottom));
        assert_eq!(command(key(KeyCode::Char('3'))), Some(Command::Tab(2)));
    }

    /// The first cells of the Keys table in docs/TUI.md, split into key names.
    fn documented_keys() -> Vec<String> {
        let docs = include_str!("../../docs/TUI.md");
        let keys = docs.split("## Keys").nth(1).unwrap_or("");
        keys.lines()
            .filter(|l| l.starts_with("| "))
            .filter_map(|l| l.split('|').nth(1))
            .flat_map(|cell| {
                cell.split([' ', ',', '`'])
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_letter_key_in_the_help_does_something_and_is_in_the_docs() {
        let documented = documented_keys();
        let mut seen = 0;
        for (keys, what) in HELP {
            for k in keys.split_whitespace() {
                let mut chars = k.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    continue;
                };
                if !(c.is_ascii_graphic()) {
                    continue;
                }
                seen += 1;
                assert!(
                    command(key(KeyCode::Char(c))).is_some(),
                    "`{k}` ({what}) is in the help but does nothing"
                );
                assert!(
                    documented.iter().any(|d| d == k),
                    "`{k}` ({what}) is not in docs/TUI.md's Keys table: {documented:?}"
                );
            }
        }
        assert!(seen > 15, "{seen}");
    }

    #[test]
    fn ctrl_c_quits_and_other_ctrl_letters_do_nothing() {
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(command(ctrl('c')), Some(Command::Interrupt));
        assert_eq!(command(ctrl('e')), None, "ctrl-e is not export");
        assert_eq!(command(key(KeyCode::F(5))), None);
        let alt_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::ALT);
        assert_eq!(
            command(alt_c),
            Some(Command::Clear),
            "Esc then c, typed fast"
        );
    }
}
