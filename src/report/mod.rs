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

mod common;
mod html;
mod markdown;

pub use common::Report;
pub use html::render as html;
pub use markdown::render as markdown;

#[cfg(test)]
mod tests;
