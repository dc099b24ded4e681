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
            Category::Data | Category::Io => format!("not a HAR: {}", data_reason(e)),
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
            reason: format!("not a HAR: entry {entry}: {}", data_reason(e)),
            line: 0,
            column: 0,
            lone_surrogate: false,
        }
    }
}

/// serde's message without its position (given separately) and in words about HAR fields.
fn data_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text.get(..at).unwrap_or(&text),
        _ => text.as_str(),
    };
    text.replace("invalid type: ", "found ")
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
