//! Bodies made readable for a human: Content-Encoding undone, then JSON pretty-printed, text
//! made terminal-safe, git pkt-lines split, a Go module `.zip` listed with its `go.mod`, or
//! anything else hex-dumped. Pure and bounded: a body of any size or shape gives a summary
//! line and at most a few tens of thousands of display lines, and never panics.
//!
//! This file decides what a body is and composes the summary; `decode` undoes encodings,
//! `json`, `text`, `hex`, `pktline` and `zip` each render one kind. The TUI's detail view
//! calls [`body_view`]; traffic and stored flows are never changed from here.

mod decode;
mod hex;
mod json;
mod pktline;
mod text;
mod zip;

use crate::flow::{header_value, BodyCapture, Headers};
use crate::units::format_bytes;

/// Decoded output is cut here: a decompression bomb cannot take more memory than this.
const MAX_DECODED: usize = 4 << 20;
/// Display lines per body (text, JSON, pkt-lines, go.mod).
const MAX_LINES: usize = 20_000;
/// Binary bodies are hex-dumped up to this many bytes (1024 lines).
const MAX_HEX_BYTES: usize = 16 << 10;
/// Zip entries listed by name; the rest are counted.
const MAX_ZIP_LISTED: usize = 1_000;

/// What the detail view shows for one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyView {
    /// One line describing what was done: `gzip → JSON, 1.2KiB (3.4KiB decoded)`.
    pub summary: String,
    /// The lines to display, already decoded; never contains control characters.
    pub lines: Vec<String>,
}

/// Describe `body` for display. `headers` are the headers of the same message (for
/// Content-Type and Content-Encoding); `path` is the request URL path (a module `.zip` is
/// recognised by it).
pub fn body_view(headers: &Headers, body: &BodyCapture, path: &str) -> BodyView {
    if body.data.is_empty() {
        return empty_view(body);
    }
    let encodings = decode::content_encodings(header_value(headers, "content-encoding"));
    let cut_short = body.truncated || !body.complete;
    let decoded = decode::decode(&body.data, &encodings, MAX_DECODED, cut_short);
    let media = media_type(header_value(headers, "content-type"));
    let path = path.split(['?', '#']).next().unwrap_or("");
    let shown = show(
        &media,
        path,
        &decoded.data,
        decoded.partial || body.truncated,
    );
    let mut summary = String::new();
    for encoding in &decoded.applied {
        summary.push_str(&format!("{encoding} → "));
    }
    summary.push_str(&format!("{}, {}", shown.label, size_phrase(body)));
    if !decoded.applied.is_empty() {
        let size = format_bytes(decoded.data.len() as u64);
        summary.push_str(&format!(" ({size} decoded)"));
    }
    if let Some(detail) = &shown.detail {
        summary.push_str(&format!(" {detail}"));
    }
    for note in decoded.notes.iter().chain(&shown.notes) {
        summary.push_str(&format!("; {note}"));
    }
    if !body.complete {
        summary.push_str("; body incomplete (cut short or still arriving)");
    }
    BodyView {
        summary: text::sanitize(&summary),
        lines: shown.lines,
    }
}

fn empty_view(body: &BodyCapture) -> BodyView {
    let mut summary = if body.total == 0 {
        "empty".to_string()
    } else {
        format!("{}, none captured", format_bytes(body.total))
    };
    if !body.complete {
        summary.push_str("; body incomplete (cut short or still arriving)");
    }
    BodyView {
        summary,
        lines: Vec::new(),
    }
}

/// `1.2KiB`, or `1.0MiB captured of 5.0MiB (truncated)`.
fn size_phrase(body: &BodyCapture) -> String {
    let kept = body.data.len() as u64;
    if body.truncated || kept < body.total {
        format!(
            "{} captured of {} (truncated)",
            format_bytes(kept),
            format_bytes(body.total.max(kept))
        )
    } else {
        format_bytes(kept)
    }
}

/// `Application/JSON; charset=utf-8` → `application/json`.
fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// What one renderer made of the (decoded) bytes.
struct Shown {
    /// What the body is: `JSON`, `text`, `binary`, `zip: 12 files`…
    label: String,
    /// Put after the size in the summary: `(hex)`.
    detail: Option<String>,
    lines: Vec<String>,
    notes: Vec<String>,
}

impl Shown {
    fn new(label: impl Into<String>, lines: Vec<String>) -> Shown {
        Shown {
            label: label.into(),
            detail: None,
            lines,
            notes: Vec::new(),
        }
    }
}

/// Pick the renderer: zip, git pkt-lines, JSON, text, else hex. `partial`: `data` is only the
/// first part of the body.
fn show(media: &str, path: &str, data: &[u8], partial: bool) -> Shown {
    let mut notes = Vec::new();
    let zip_hint = media == "application/zip" || (path.ends_with(".zip") && path.contains("/@v/"));
    if zip_hint || data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        if let Some(shown) = show_zip(data) {
            return shown;
        }
        if zip_hint {
            notes.push("not a zip archive".to_string());
        }
    }
    if media.starts_with("application/x-git-") {
        if let Some((lines, packets)) = pktline::pkt_lines(data, MAX_LINES) {
            return Shown::new(format!("git pkt-line: {packets} packets"), lines);
        }
    }
    let json_hint = media.ends_with("json") || path.ends_with(".info");
    let mut shown = if (json_hint || json::starts_like_json(data))
        && (json::is_json_document(data) || (partial && json::starts_like_json(data)))
    {
        let (lines, total) = json::pretty_lines(data, MAX_LINES);
        with_line_count(Shown::new("JSON", lines), total)
    } else if looks_textual(media, data) {
        if json_hint && !partial {
            notes.push("not valid JSON: shown as text".to_string());
        }
        let (lines, total) = text::text_lines(data, MAX_LINES);
        with_line_count(Shown::new("text", lines), total)
    } else {
        show_hex(data)
    };
    if partial && shown.label == "JSON" {
        notes.push("JSON cut short: indented as far as it goes".to_string());
    }
    notes.append(&mut shown.notes);
    shown.notes = notes;
    shown
}

/// Text by its media type (unless it holds NUL bytes), else by sniffing.
fn looks_textual(media: &str, data: &[u8]) -> bool {
    let textual_media = media.starts_with("text/")
        || media.ends_with("+xml")
        || media.ends_with("json")
        || matches!(
            media,
            "application/javascript"
                | "application/xml"
                | "application/x-www-form-urlencoded"
                | "application/x-sh"
        );
    (textual_media && !data.contains(&0)) || text::looks_like_text(data)
}

fn with_line_count(mut shown: Shown, total: usize) -> Shown {
    if total > shown.lines.len() {
        shown.notes.push(format!(
            "first {} of {total} lines shown",
            shown.lines.len()
        ));
    }
    shown
}

fn show_hex(data: &[u8]) -> Shown {
    let whole = data.len() <= MAX_HEX_BYTES;
    let part = data.get(..MAX_HEX_BYTES).unwrap_or(data);
    let mut shown = Shown::new("binary", hex::hex_lines(part, whole));
    shown.detail = Some(if whole {
        "(hex)".to_string()
    } else {
        format!("(hex of the first {})", format_bytes(part.len() as u64))
    });
    shown
}

fn show_zip(data: &[u8]) -> Option<Shown> {
    let listing = zip::list(data)?;
    let files = listing
        .declared
        .unwrap_or(listing.entries.len() as u64)
        .max(listing.entries.len() as u64);
    let unpacked: u64 = listing.entries.iter().filter_map(|e| e.size).sum();
    let whence = if listing.from_central {
        ""
    } else {
        " in the captured part"
    };
    let mut lines = vec![
        format!(
            "{files} files{whence}, {} uncompressed",
            format_bytes(unpacked)
        ),
        format!("{:>9}  {:<8} name", "size", "method"),
    ];
    for e in listing.entries.iter().take(MAX_ZIP_LISTED) {
        let size = e.size.map_or_else(|| "?".to_string(), format_bytes);
        let cut = if e.cut { "  (cut by the capture)" } else { "" };
        lines.push(format!(
            "{size:>9}  {:<8} {}{cut}",
            zip::method_name(e.method),
            text::sanitize(&e.name)
        ));
    }
    let listed = listing.entries.len().min(MAX_ZIP_LISTED) as u64;
    if files > listed {
        lines.push(format!("… and {} more", files - listed));
    }
    if let Some(go_mod) = zip::go_mod(data, &listing) {
        let note = go_mod.note.map(|n| format!(" ({n})")).unwrap_or_default();
        lines.push(String::new());
        lines.push(text::sanitize(&format!("{}{note}:", go_mod.name)));
        lines.extend(text::text_lines(&go_mod.text, MAX_LINES).0);
    }
    let mut shown = Shown::new(format!("zip: {files} files"), lines);
    shown.notes = listing.notes;
    Some(shown)
}

#[cfg(test)]
mod tests;
