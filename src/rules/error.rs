//! Errors of the rules file and the command-line quick forms, each pointing at a line and column.
//!
//! Owns `RulesError`, the small position helpers that turn a byte span of the TOML text into
//! a 1-based line and column (in characters) plus the source line to draw a caret under, and
//! how a filter's parse error reads inside one (`filter_message`). Knows nothing about what a
//! rule means. The message quotes the file's own text (and TOML's message may too): every
//! quoted piece passes through the one terminal rule (`terminal_safe`), so a rules file cannot
//! put an escape sequence on the terminal of whoever checks it; the caret still lines up.

use std::ops::Range;
use std::path::PathBuf;

use crate::filter::FilterError;
use crate::terminal_text::terminal_safe;

/// Why a rules file (or a quick form) was rejected.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read rules file {}: {source}", safe_path(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or not the shape of a rules file (unknown key, wrong type, no `name`).
    #[error("{}", render(.path, *.line, *.column, None, .message, .snippet))]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// The source line the error points into (drawn with a caret under `column`).
        snippet: String,
    },
    /// Well-formed, but a rule is wrong: bad filter, regex, URL, status, missing file…
    #[error("{}", render(.path, *.line, *.column, Some(.rule), .message, .snippet))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        rule: String,
        message: String,
        snippet: String,
    },
    /// A command-line quick form (`--block`, `--map-remote`…) is wrong; `column` is 1-based
    /// in `value`.
    #[error("{}", render_arg(.flag, .value, *.column, .message))]
    Arg {
        flag: String,
        value: String,
        column: usize,
        message: String,
    },
}

impl RulesError {
    /// The first line of the message, without the caret drawing (for a status line).
    pub fn summary(&self) -> String {
        let text = self.to_string();
        text.lines().next().unwrap_or_default().to_string()
    }

    /// `(line, column)` of the problem, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            RulesError::Syntax { line, column, .. } | RulesError::Invalid { line, column, .. } => {
                Some((*line, *column))
            }
            RulesError::Arg { column, .. } => Some((1, *column)),
            RulesError::Io { .. } => None,
        }
    }
}

fn render(
    path: &std::path::Path,
    line: usize,
    column: usize,
    rule: Option<&String>,
    message: &str,
    snippet: &str,
) -> String {
    let rule = rule.map_or(String::new(), |r| format!("rule {:?}: ", terminal_safe(r)));
    format!(
        "{}:{line}:{column}: {rule}{}\n{}",
        safe_path(path),
        terminal_safe(message),
        caret(snippet, column)
    )
}

fn render_arg(flag: &str, value: &str, column: usize, message: &str) -> String {
    format!(
        "{flag} {:?}: {}\n{}",
        terminal_safe(value),
        terminal_safe(message),
        caret(value, column)
    )
}

fn safe_path(path: &std::path::Path) -> String {
    terminal_safe(&path.display().to_string()).into_owned()
}

/// `  <source line>\n  <spaces>^`, the line made safe for the terminal; the caret is placed
/// under the safe text (a tab became spaces, a bidi override `<U+202E>`).
fn caret(snippet: &str, column: usize) -> String {
    let before: String = snippet.chars().take(column.saturating_sub(1)).collect();
    let pad = " ".repeat(terminal_safe(&before).chars().count());
    format!("  {}\n  {pad}^", terminal_safe(snippet))
}

/// A position in the rules text: where an error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
    pub snippet: String,
}

impl Pos {
    /// Line and column (1-based, in characters) of byte `offset` in `text`.
    pub fn at(text: &str, offset: usize) -> Pos {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        Pos {
            line: text[..offset].matches('\n').count() + 1,
            column: text[start..offset].chars().count() + 1,
            snippet: text[start..end].trim_end_matches('\r').to_string(),
        }
    }

    /// Position of the start of `span`.
    pub fn of(text: &str, span: &Range<usize>) -> Pos {
        Pos::at(text, span.start)
    }

    /// The same position moved `chars` characters to the right.
    pub fn shifted(mut self, chars: usize) -> Pos {
        self.column += chars;
        self
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `message (expected …)`, without the filter's own caret drawing.
pub(super) fn filter_message(e: &FilterError) -> String {
    if e.expected.is_empty() {
        e.message.clone()
    } else {
        format!("{} (expected {})", e.message, e.expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pos_counts_lines_and_characters_from_one() {
        let text = "a = 1\n[[rule]]\nname = \"é x\"\n";
        let at_x = text.find('x').unwrap_or(0);
        assert_eq!(
            Pos::at(text, at_x),
            Pos {
                line: 3,
                column: 11,
                snippet: "name = \"é x\"".into()
            }
        );
        assert_eq!(Pos::at(text, 0).line, 1);
        assert_eq!(Pos::at(text, text.len()).line, 4);
    }

    #[test]
    fn display_shows_position_rule_and_caret() {
        let e = RulesError::Invalid {
            path: "rules.toml".into(),
            line: 3,
            column: 9,
            rule: "mirror".into(),
            message: "invalid match: bad".into(),
            snippet: "match = \"x(\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "rules.toml:3:9: rule \"mirror\": invalid match: bad\n  match = \"x(\"\n          ^"
        );
        assert_eq!(
            e.summary(),
            "rules.toml:3:9: rule \"mirror\": invalid match: bad"
        );
        assert_eq!(e.position(), Some((3, 9)));
    }

    #[test]
    fn quoted_file_text_cannot_act_on_the_terminal() {
        let e = RulesError::Invalid {
            path: "rules\u{1b}[2J.toml".into(),
            line: 3,
            column: 14,
            rule: "m\u{202e}x".into(),
            message: "invalid match: \u{1b}]0;pwned\u{7}".into(),
            snippet: "match = \"\u{1b}[2J\u{202e}\r\u{9b}x(\"".into(),
        };
        let text = e.to_string();
        crate::terminal_text::assert_safe(&text);
        let want = format!(
            "rules␛[2J.toml:3:14: rule \"m<U+202E>x\": invalid match: ␛]0;pwned␇\n  \
             match = \"␛[2J<U+202E>␍<U+009B>x(\"\n  {}^",
            " ".repeat(13)
        );
        assert_eq!(text, want);
        let e = RulesError::Arg {
            flag: "--block".into(),
            value: "host:\u{1b}[31m".into(),
            column: 6,
            message: "bad".into(),
        };
        crate::terminal_text::assert_safe(&e.to_string());
    }

    #[test]
    fn arg_errors_draw_the_caret_under_the_value() {
        let e = RulesError::Arg {
            flag: "--delay".into(),
            value: "kind:zip=abc".into(),
            column: 10,
            message: "bad".into(),
        };
        assert_eq!(
            e.to_string(),
            "--delay \"kind:zip=abc\": bad\n  kind:zip=abc\n           ^"
        );
    }
}
