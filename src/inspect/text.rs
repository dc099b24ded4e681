//! Text made safe to put on a terminal: control characters shown as visible symbols, tabs
//! expanded, invisible direction overrides named, bytes that are not UTF-8 replaced.
//!
//! Every line any part of `inspect` returns goes through [`sanitize`]: the crate's one terminal
//! rule (`terminal_text::terminal_safe`) plus a length cut for bodies. Nothing here decides
//! what a body is. A raw ESC, CR or C1 control reaching the TUI could move the cursor, change
//! colours or rewrite the screen, so none survives.

use crate::terminal_text::terminal_safe;

/// Columns a tab advances to (multiples of this), as `terminal_safe` expands them.
const TAB: usize = 4;
/// Longer lines are cut (a minified 4 MiB script is one line).
pub(super) const MAX_LINE_CHARS: usize = 2000;

/// One body line for display: cut after [`MAX_LINE_CHARS`] columns (tabs counted as they
/// expand), then made safe by the one terminal rule, [`terminal_safe`].
pub(super) fn sanitize(s: &str) -> String {
    let mut column = 0;
    for (i, c) in s.char_indices() {
        if column >= MAX_LINE_CHARS {
            let mut out = terminal_safe(&s[..i]).into_owned();
            out.push('…');
            return out;
        }
        column = if c == '\t' {
            (column / TAB + 1) * TAB
        } else {
            column + 1
        };
    }
    terminal_safe(s).into_owned()
}

/// Text split into safe display lines, at most `max_lines`; also returns the number of lines
/// the text has. CRLF counts as one line end; a lone CR stays visible as `␍`.
pub(super) fn text_lines(data: &[u8], max_lines: usize) -> (Vec<String>, usize) {
    let text = String::from_utf8_lossy(data);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    if text.is_empty() {
        return (Vec::new(), 0);
    }
    let mut lines = Vec::new();
    let mut total = 0;
    for line in body.split('\n') {
        total += 1;
        if lines.len() < max_lines {
            lines.push(sanitize(line.strip_suffix('\r').unwrap_or(line)));
        }
    }
    (lines, total)
}

/// Whether `data` reads as text: UTF-8 (a character cut at the end is allowed) with hardly
/// any control characters besides whitespace and ESC.
pub(super) fn looks_like_text(data: &[u8]) -> bool {
    let valid = match std::str::from_utf8(data) {
        Ok(_) => true,
        // `error_len() == None`: the input ends inside a character, as a capped prefix can.
        Err(e) => e.error_len().is_none() && data.len() - e.valid_up_to() < 4,
    };
    if !valid || data.contains(&0) {
        return false;
    }
    let odd = data
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    odd * 100 <= data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        let evil = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\rX\u{9b}31m\u{202e}txt.exe\u{7f}";
        let got = sanitize(evil);
        assert_eq!(got, "ok␛[2J␛]0;pwned␇␍X<U+009B>31m<U+202E>txt.exe␡");
        assert!(!got.chars().any(|c| c.is_control()), "{got:?}");
    }

    #[test]
    fn tabs_expand_to_the_next_stop() {
        assert_eq!(sanitize("a\tb"), "a   b");
        assert_eq!(sanitize("\tx"), "    x");
        assert_eq!(sanitize("abcd\te"), "abcd    e");
        assert_eq!(sanitize("require (\n"), "require (␊");
    }

    #[test]
    fn long_lines_are_cut() {
        let got = sanitize(&"x".repeat(MAX_LINE_CHARS + 10));
        assert_eq!(got.chars().count(), MAX_LINE_CHARS + 1);
        assert!(got.ends_with('…'));
    }

    #[test]
    fn lines_split_on_lf_and_crlf_and_are_capped() {
        let (lines, total) = text_lines(b"one\r\ntwo\nthree\rfour\n", 10);
        assert_eq!(lines, ["one", "two", "three␍four"]);
        assert_eq!(total, 3);
        let (lines, total) = text_lines(b"a\nb\nc\nd", 2);
        assert_eq!((lines.len(), total), (2, 4));
        assert_eq!(text_lines(b"", 5).0.len(), 0);
        assert_eq!(text_lines(b"\n", 5).0, [""]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_passed_through() {
        let (lines, _) = text_lines(b"caf\xc3\xa9 \xff\xfe end", 5);
        assert_eq!(lines, ["café \u{fffd}\u{fffd} end"]);
    }

    #[test]
    fn text_sniffing() {
        assert!(looks_like_text(b"module example.com/m\n\ngo 1.21\n"));
        assert!(looks_like_text("h\u{e9}llo wörld".as_bytes()));
        assert!(
            looks_like_text(b"caf\xc3"),
            "a character cut by the capture cap"
        );
        assert!(!looks_like_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!looks_like_text(b"abc\xff\xfe"));
        assert!(!looks_like_text(&[1, 2, 3, 4, b'a']));
    }
}
