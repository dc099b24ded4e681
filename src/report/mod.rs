//! The run as artifacts for people who will not install gomitm: one self-contained HTML file
//! with a timeline (`html`) and a GitHub-flavoured Markdown summary for CI (`markdown`).
//!
//! Pure formatting, like `go::summary_text` and `go::summary_json`: the numbers, verdicts,
//! diagnoses and module chains are the one analysis's (`go::analysis::Summary`,
//! `go::timeline::Timeline`); nothing here computes or filters. Callers give redacted flows
//! to the analysis, as the HAR export does (`redact::redact_flow`); every string is also
//! passed through `redact_text` and `terminal_safe` here, for what comes from elsewhere (go's
//! output, settings) and so no control or bidi character reaches a page or a CI log.
//! Writing the files is the caller's (`run`).

mod html;
mod markdown;

pub use html::render as html;
pub use markdown::render as markdown;

use crate::go::analysis::Summary;
use crate::go::timeline::Timeline;

/// What the artifacts are made of.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub summary: &'a Summary,
    pub timeline: &'a Timeline,
    /// What was captured, for the title: the command (`go mod download`) or the HAR's name.
    pub source: &'a str,
}

/// Text from the network or a file, made fit for a page: redacted like every output, and
/// controls and format characters shown as visible stand-ins (the terminal rule).
fn clean(text: &str) -> String {
    crate::terminal_text::terminal_safe(&crate::redact::redact_text(text)).into_owned()
}

/// `1 request`, `2 requests`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The command exited 0: failures listed are ones go recovered from (as the text says).
fn recovered(summary: &Summary) -> bool {
    summary.verdict.as_ref().is_some_and(|v| !v.failed())
}

#[cfg(test)]
mod tests;
