//! What can go wrong reading or writing a HAR, worded for the person who gave gomitm the file
//! (serde's own wording names Rust types and is not shown).

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum HarError {
    #[error("{0}")]
    Parse(Unreadable),
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    #[error("cannot serialize har")]
    Serialize(#[source] serde_json::Error),
    #[error("har entry {entry} ({url}): {part} is marked base64 but does not decode")]
    Base64 {
        entry: usize,
        url: String,
        part: &'static str,
        #[source]
        source: base64::DecodeError,
    },
}

/// Why a file is not a HAR gomitm can read, and where it stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub reason: String,
    /// 1-based; 0 when the problem has no place (an entry read after the file was).
    pub line: usize,
    pub column: usize,
    /// The JSON has a lone UTF-16 surrogate escape, which `import` can repair.
    pub(super) lone_surrogate: bool,
}

impl Unreadable {
    pub(super) fn from_json(e: &serde_json::Error) -> Unreadable {
        use serde_json::error::Category;
        let reason = match e.classify() {
            Category::Eof => "the file ends before the HAR does (was it cut off while being \
                              written, or copied only in part?)"
                .to_string(),
            Category::Syntax => "it is not JSON".to_string(),
            Category::Data | Category::Io => format!("it is JSON but {}", data_reason(e)),
        };
        Unreadable {
            reason,
            line: e.line(),
            column: e.column(),
            lone_surrogate: e.to_string().contains("surrogate")
                || e.to_string().contains("hex escape"),
        }
    }

    /// An entry that is JSON but not a HAR entry (`entry` is 1-based).
    pub(super) fn entry(entry: usize, e: &serde_json::Error) -> Unreadable {
        Unreadable {
            reason: format!("entry {entry} is not a HAR entry: {}", data_reason(e)),
            line: 0,
            column: 0,
            lone_surrogate: false,
        }
    }

    /// What the first bytes of a file already show it is, when that is not a JSON object: an
    /// empty file, gzip, binary data, a JSON array, text (YAML, notes…). `None` when it starts
    /// like a HAR (with `{`), and the parse decides. `start` is the beginning of the file after
    /// any byte order mark, as much as one buffer holds (it may end mid-character).
    pub(super) fn sniff(start: &[u8]) -> Option<Unreadable> {
        let at_once = |reason: String| Unreadable {
            reason,
            line: 0,
            column: 0,
            lone_surrogate: false,
        };
        let text = start.trim_ascii_start();
        let reason = match text.first() {
            None if start.is_empty() => "the file is empty".to_string(),
            // Only white space in a whole buffer: more may follow, the parse decides.
            None if start.len() >= 4096 => return None,
            None => "the file holds only white space".to_string(),
            Some(b'{') => return None,
            Some(b'[') => {
                "it is a JSON array; a HAR is a JSON object with `log.entries`".to_string()
            }
            Some(_) if start.starts_with(&[0x1f, 0x8b]) => {
                "it is gzip-compressed: gunzip it first".to_string()
            }
            Some(_) if is_binary(text) => "it is binary data, not JSON text".to_string(),
            Some(_) => format!(
                "it does not start with a JSON object (it starts with {:?})",
                first_words(text)
            ),
        };
        Some(at_once(reason))
    }
}

/// NUL bytes or bytes that are not UTF-8 (a character cut at the end of the buffer is not).
fn is_binary(start: &[u8]) -> bool {
    if start.contains(&0) {
        return true;
    }
    match std::str::from_utf8(start) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

/// Up to 24 printable characters of the first line, to show what the file is instead.
fn first_words(text: &[u8]) -> String {
    let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let valid = match std::str::from_utf8(line) {
        Ok(s) => s,
        Err(e) => {
            std::str::from_utf8(line.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default()
        }
    };
    let shown: String = valid
        .chars()
        .take_while(|c| !c.is_control())
        .take(24)
        .collect();
    if shown.chars().count() < valid.trim_end().chars().count() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// serde's message without its position (given separately) and in words about HAR fields.
fn data_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text.get(..at).unwrap_or(&text),
        _ => text.as_str(),
    };
    text.replace("invalid type: sequence", "found a list")
        .replace("invalid type: map", "found an object")
        .replace("invalid type: ", "found ")
        .replace(", expected ", " where HAR expects ")
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)?;
        if self.line > 0 {
            write!(f, " (line {}, column {})", self.line, self.column)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_json;
    use super::HarError;

    fn reason(input: &[u8]) -> String {
        let read = super::super::from_reader(std::io::Cursor::new(input));
        match read {
            Err(HarError::Parse(why)) => why.to_string(),
            other => panic!("{:?}: expected a parse error, got {other:?}", input),
        }
    }

    /// Each kind of file a user may pass by mistake is named for what it is, in words about
    /// the file; serde's own wording (`expected ident`, `invalid type`) never shows.
    #[test]
    fn files_that_are_not_hars_are_named_for_what_they_are() {
        let table: &[(&[u8], &str)] = &[
            (b"", "the file is empty"),
            (b"  \n\t\n", "the file holds only white space"),
            (
                b"notes: meeting\n- go mod tidy\n",
                "it does not start with a JSON object (it starts with \"notes: meeting\")",
            ),
            (
                b"hello world, this line is long enough to be cut short\n",
                "(it starts with \"hello world, this line i\u{2026}\")",
            ),
            (
                b"\x00\x01\x02binary\xff\xfe",
                "it is binary data, not JSON text",
            ),
            (
                b"\x1f\x8b\x08\x00\x00",
                "it is gzip-compressed: gunzip it first",
            ),
            (
                b"[1, 2]",
                "it is a JSON array; a HAR is a JSON object with `log.entries`",
            ),
            (
                b"{\"a\": 1}",
                "it is JSON but has no `log` object (line 1, column 8)",
            ),
            (
                b"{\"log\": {\"version\": \"1.2\"}}",
                "it is JSON but has no `log.entries` list",
            ),
            (
                b"{\"log\": []}",
                "it is JSON but found a list where HAR expects `log` to be an object",
            ),
            (
                b"{\"log\": {\"entries\": [{\"x\": 1}]}}",
                "entry 1 is not a HAR entry: missing field `request`",
            ),
            (
                b"{\"log\": {\"entries\": [{\"request\": {\"method\": \"GET\"",
                "the file ends before the HAR does",
            ),
            (b"{not json", "it is not JSON (line 1, column 2)"),
        ];
        for (input, want) in table {
            let got = reason(input);
            assert!(
                got.contains(want),
                "{:?}: {got:?} does not say {want:?}",
                String::from_utf8_lossy(input)
            );
            for serde_words in ["expected ident", "invalid type", "expected value", "EOF"] {
                assert!(!got.contains(serde_words), "{got:?}");
            }
        }
        // A byte order mark is skipped before the file is judged.
        assert!(from_json("\u{feff}{\"log\": {\"entries\": []}}").is_ok());
    }
}
