//! The one rule for text gomitm writes to a terminal: [`terminal_safe`]. Pure, a leaf (imports
//! nothing of the crate), so every output path can use it without an import circle.
//!
//! Anything that came from the network or a file (URLs, decoded module paths, headers, status
//! texts, error messages, HAR fields, rules files, bodies, a child's output) can hold a raw ESC,
//! CR, C1 control or a bidi override. Written as is, it could move the cursor, recolour or
//! rewrite the screen, or make the text read differently from what it is (Trojan-Source style
//! bidi overrides). The log line, the run summary, `gomitm report`, error messages and the TUI
//! all pass such text through this one function.

use std::borrow::Cow;

/// Columns a tab advances to (multiples of this).
const TAB: usize = 4;

/// `s` made safe and visible on a terminal, one line of it:
/// - a tab becomes spaces up to the next multiple of 4 columns (counted from the start of `s`);
/// - every other C0 control, newline and CR included, becomes its Unicode control picture
///   (`␛`, `␍`, `␊`, `␇`…) and DEL becomes `␡`;
/// - C1 controls (U+0080–U+009F; some terminals read U+009B as CSI) and invisible format
///   characters (bidi embeddings, overrides, isolates and marks, zero-width characters, soft
///   hyphen, BOM, line and paragraph separators) become `<U+XXXX>`.
///
/// Everything else is kept, so clean text comes back unchanged (and borrowed). A caller that
/// prints several lines splits them itself and passes each line: data never adds a line break.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    // Printable ASCII, nearly every line gomitm writes, is settled without decoding a char:
    // it runs for every flow's line.
    if is_printable_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    let Some(first) = s.find(|c: char| needs_replacing(c)) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    let mut column = s[..first].chars().count();
    for c in s[first..].chars() {
        match c {
            '\t' => {
                let next = (column / TAB + 1) * TAB;
                out.extend(std::iter::repeat_n(' ', next - column));
                column = next;
                continue;
            }
            '\u{0}'..='\u{1f}' => out.push(control_picture(c)),
            '\u{7f}' => out.push('\u{2421}'),
            c if is_invisible(c) => out.push_str(&format!("<U+{:04X}>", u32::from(c))),
            c => out.push(c),
        }
        column += 1;
    }
    Cow::Owned(out)
}

/// Every byte in `' '..='~'`. Sixteen bytes at a time without an early exit, so the compiler
/// can use vector compares (`Iterator::all` stops at the first miss and stays byte by byte).
fn is_printable_ascii(bytes: &[u8]) -> bool {
    let printable = |b: &u8| b.wrapping_sub(b' ') < 0x5f;
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if !chunk.iter().fold(true, |all, b| all & printable(b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(printable)
}

fn needs_replacing(c: char) -> bool {
    c < ' ' || c == '\u{7f}' || is_invisible(c)
}

/// U+2400 + code: `␀` … `␟`.
fn control_picture(c: char) -> char {
    char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}')
}

/// C1 controls and format characters that reorder or hide text: bidi embeddings and
/// overrides (U+202A–U+202E), isolates (U+2066–U+2069), marks (U+200E, U+200F, U+061C),
/// zero-width characters, soft hyphen, BOM, line/paragraph separators, interlinear annotation.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// Tests of every output path: `text` holds nothing [`terminal_safe`] would replace (no C0
/// control but newline, no DEL, C1, bidi or zero-width format character).
/// A writer for diagnostic logs (`GOMITM_LOG`): each line passes through [`terminal_safe`], so
/// a URL, header or error message quoted in a debug log cannot drive the terminal either.
/// Line breaks between lines are kept; the formatter writes one record per call.
pub struct SafeLines<W>(pub W);

impl<W: std::io::Write> std::io::Write for SafeLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&terminal_safe(line));
        }
        self.0.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
pub(crate) fn assert_safe(text: &str) {
    let bad = text.chars().find(|&c| c != '\n' && needs_replacing(c));
    assert!(bad.is_none(), "{bad:?} reaches the terminal in {text:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printable_ascii_check_agrees_with_a_byte_at_a_time_at_every_position() {
        let clean: Vec<u8> = (b' '..=b'~').cycle().take(70).collect();
        for len in 0..clean.len() {
            assert!(is_printable_ascii(&clean[..len]), "{len} clean bytes");
            for bad in [0x1f, 0x7f, 0x80, 0xff, b'\t', 0] {
                let mut line = clean[..len].to_vec();
                for at in 0..len {
                    line[at] = bad;
                    assert!(!is_printable_ascii(&line), "{bad:#x} at {at} of {len}");
                    line[at] = clean[at];
                }
            }
        }
    }

    fn is_unsafe(c: char) -> bool {
        needs_replacing(c)
    }

    #[test]
    fn diagnostic_log_lines_are_made_safe_and_keep_their_line_breaks() {
        use std::io::Write;
        let mut w = super::SafeLines(Vec::new());
        w.write_all("DEBUG upstream \x1b[2Jevil.test\u{202e}fdp.exe: ended\r\nnext\n".as_bytes())
            .unwrap();
        let text = String::from_utf8(w.0).unwrap();
        assert_safe(text.trim_end_matches('\n'));
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        assert!(
            text.contains("evil.test") && text.ends_with("next\n"),
            "{text:?}"
        );
        assert_eq!(text.matches('\n').count(), 2, "{text:?}");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        let s =
            "GET https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip 200 3.1MiB 412ms é ✓";
        assert!(matches!(terminal_safe(s), Cow::Borrowed(t) if t == s));
    }

    #[test]
    fn controls_and_bidi_become_visible_stand_ins() {
        let evil = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\rX\u{9b}31m\u{202e}txt.exe\u{7f}\n\u{2066}\u{200f}\u{61c}";
        let got = terminal_safe(evil);
        assert_eq!(
            got,
            "ok␛[2J␛]0;pwned␇␍X<U+009B>31m<U+202E>txt.exe␡␊<U+2066><U+200F><U+061C>"
        );
        assert!(!got.chars().any(is_unsafe), "{got:?}");
    }

    #[test]
    fn every_bidi_format_character_is_replaced() {
        for c in ('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200e}', '\u{200f}', '\u{61c}', '\u{200b}', '\u{feff}'])
        {
            let got = terminal_safe(&c.to_string()).into_owned();
            assert_eq!(got, format!("<U+{:04X}>", u32::from(c)));
        }
    }

    #[test]
    fn tabs_expand_to_the_next_stop() {
        assert_eq!(terminal_safe("a\tb"), "a   b");
        assert_eq!(terminal_safe("\tx"), "    x");
        assert_eq!(terminal_safe("abcd\te"), "abcd    e");
        assert_eq!(terminal_safe("é\u{1b}\tz"), "é␛  z");
    }
}
