//! Bodies made readable for a human: decompressed, pretty-printed, hex-dumped, or (for a Go
//! module `.zip`) listed. Pure; used by the TUI's detail view.
//!
//! This is the interface the TUI draws from; the implementation is deliberately small until
//! the body-decoding work lands (gzip/deflate/br, JSON, hex, zip listing).

use crate::flow::{header_value, BodyCapture, Headers};

/// What the detail view shows for one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyView {
    /// One line describing what was done: `gzip → JSON, 1.2 KiB (3.4 KiB decoded)`.
    pub summary: String,
    /// The lines to display, already decoded; never contains control characters.
    pub lines: Vec<String>,
}

/// Describe `body` for display. `headers` are the headers of the same message (for
/// Content-Type and Content-Encoding); `path` is the request URL path (a module `.zip` is
/// recognised by it).
pub fn body_view(headers: &Headers, body: &BodyCapture, path: &str) -> BodyView {
    let _ = (header_value(headers, "content-type"), path);
    if body.data.is_empty() {
        return BodyView {
            summary: format!("{} bytes, none captured", body.total),
            lines: Vec::new(),
        };
    }
    let text = String::from_utf8_lossy(&body.data);
    BodyView {
        summary: format!("{} bytes", body.total),
        lines: text
            .lines()
            .map(|l| l.chars().filter(|c| !c.is_control()).collect())
            .collect(),
    }
}
