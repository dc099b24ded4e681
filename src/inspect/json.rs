//! JSON pretty-printed by re-indenting its tokens, not by parsing into a value.
//!
//! serde_json's `Value` sorts object keys unless the crate-wide `preserve_order` feature is on
//! (which would change the order of every JSON gomitm writes), and it reformats numbers. A
//! lexical re-indenter keeps keys in wire order and every token byte for byte, and also works
//! on a truncated capture. Validation (is this JSON at all?) uses serde_json. Display safety is
//! `text::sanitize`'s job; this file only decides where lines break.

use super::text::sanitize;

/// Deeper nesting is not indented further, so lines stay readable.
const MAX_INDENT_LEVELS: usize = 40;

/// A JSON object or array that parses completely.
pub(super) fn is_json_document(data: &[u8]) -> bool {
    starts_like_json(data) && serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok()
}

/// First non-blank byte opens an object or array.
pub(super) fn starts_like_json(data: &[u8]) -> bool {
    matches!(
        data.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// `data` re-indented with two spaces per level, at most `max_lines` lines; also returns the
/// number of lines the whole document takes. Invalid or cut JSON is re-indented as far as it
/// goes; nothing is dropped except whitespace between tokens.
pub(super) fn pretty_lines(data: &[u8], max_lines: usize) -> (Vec<String>, usize) {
    let mut p = Printer {
        lines: Vec::new(),
        total: 0,
        max_lines,
        line: Vec::new(),
        depth: 0,
    };
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        i += 1;
        if in_string {
            p.line.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                p.line.push(b);
            }
            b'{' | b'[' => {
                p.line.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                match next_token(data, i) {
                    Some((j, c)) if c == close => {
                        p.line.push(c);
                        i = j + 1;
                    }
                    _ => {
                        p.depth += 1;
                        p.break_line();
                    }
                }
            }
            b'}' | b']' => {
                p.depth = p.depth.saturating_sub(1);
                p.break_line();
                p.line.push(b);
            }
            b',' => {
                p.line.push(b);
                p.break_line();
            }
            b':' => p.line.extend_from_slice(b": "),
            _ => p.line.push(b),
        }
    }
    p.break_line();
    (p.lines, p.total)
}

/// Index and byte of the next non-blank byte at or after `from`.
fn next_token(data: &[u8], from: usize) -> Option<(usize, u8)> {
    data.get(from..)?
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|k| data.get(from + k).map(|&b| (from + k, b)))
}

struct Printer {
    lines: Vec<String>,
    total: usize,
    max_lines: usize,
    line: Vec<u8>,
    depth: usize,
}

impl Printer {
    /// Ends the current line (if it has anything but indentation) and indents the next.
    fn break_line(&mut self) {
        if self.line.iter().any(|&b| b != b' ') {
            self.total += 1;
            if self.lines.len() < self.max_lines {
                self.lines
                    .push(sanitize(&String::from_utf8_lossy(&self.line)));
            }
        }
        self.line.clear();
        let indent = 2 * self.depth.min(MAX_INDENT_LEVELS);
        self.line.resize(indent, b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(s: &str) -> Vec<String> {
        pretty_lines(s.as_bytes(), 1000).0
    }

    #[test]
    fn keys_keep_their_wire_order_and_numbers_their_text() {
        let got = pretty(r#"{"zeta":1,"alpha":{"b":[1,2.50,1e400],"a":null},"mid":"x"}"#);
        assert_eq!(
            got,
            [
                "{",
                r#"  "zeta": 1,"#,
                r#"  "alpha": {"#,
                r#"    "b": ["#,
                "      1,",
                "      2.50,",
                "      1e400",
                "    ],",
                r#"    "a": null"#,
                "  },",
                r#"  "mid": "x""#,
                "}",
            ]
        );
    }

    #[test]
    fn strings_with_structure_characters_and_escapes_stay_intact() {
        let got = pretty(r#"{"a{,}":"q\"{[,:]}\\","e":{},"l":[ ]}"#);
        assert_eq!(
            got,
            [
                "{",
                r#"  "a{,}": "q\"{[,:]}\\","#,
                r#"  "e": {},"#,
                r#"  "l": []"#,
                "}"
            ]
        );
    }

    #[test]
    fn a_go_info_document_pretty_prints() {
        let got = pretty("{\"Version\":\"v0.14.0\",\"Time\":\"2023-10-26T17:01:51Z\"}\n");
        assert_eq!(
            got,
            [
                "{",
                r#"  "Version": "v0.14.0","#,
                r#"  "Time": "2023-10-26T17:01:51Z""#,
                "}"
            ]
        );
    }

    #[test]
    fn truncated_json_is_indented_as_far_as_it_goes() {
        let got = pretty(r#"{"a":[1,2],"b":{"c":"unfinish"#);
        assert_eq!(
            got,
            [
                "{",
                r#"  "a": ["#,
                "    1,",
                "    2",
                "  ],",
                r#"  "b": {"#,
                r#"    "c": "unfinish"#
            ]
        );
    }

    #[test]
    fn control_characters_in_strings_are_made_safe_and_lines_capped() {
        let (lines, total) = pretty_lines(b"[\"a\x1b[31m\",2,3,4]", 2);
        assert_eq!(lines, ["[", "  \"a␛[31m\","]);
        assert_eq!(total, 6);
    }

    #[test]
    fn validation() {
        assert!(is_json_document(b" {\"a\": [1, 2]}\n"));
        assert!(is_json_document(b"[]"));
        assert!(!is_json_document(b"{\"a\": "));
        assert!(!is_json_document(b"\"just a string\""));
        assert!(!is_json_document(b"v1.0.0\nv1.1.0\n"));
        assert!(starts_like_json(b"\n  [1"));
    }
}
