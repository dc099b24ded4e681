//! What the HTML and Markdown renderings share: the [`Report`] they are made of, and the rule
//! for text from the network or a file (`clean`).

use crate::go::analysis::Summary;
use crate::go::codes::Code;
use crate::go::timeline::Timeline;
use crate::go::verdict::Cause;

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
pub(super) fn clean(text: &str) -> String {
    crate::terminal_text::terminal_safe(&crate::redact::redact_text(text)).into_owned()
}

/// `1 request`, `2 requests`.
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The command exited 0: failures listed are ones go recovered from (as the text says).
pub(super) fn recovered(summary: &Summary) -> bool {
    summary.verdict.as_ref().is_some_and(|v| !v.failed())
}

/// What both renderings say of a cause, in this order: the lead-in, the flows, the code and
/// what it means; `fix` is `None` when nothing explains go's message.
pub(super) struct Because<'a> {
    pub lead: &'static str,
    pub flow_ids: &'a [u64],
    pub code: Code,
    pub what: &'a str,
    pub fix: Option<&'a str>,
}

pub(super) fn because(cause: &Cause) -> Because<'_> {
    match cause {
        Cause::Flows {
            flow_ids,
            diagnosis,
        } => Because {
            lead: "because:",
            flow_ids,
            code: diagnosis.code,
            what: &diagnosis.cause,
            fix: Some(&diagnosis.fix),
        },
        Cause::Setting { diagnosis } => Because {
            lead: "because of a setting:",
            flow_ids: &[],
            code: diagnosis.code,
            what: &diagnosis.cause,
            fix: Some(&diagnosis.fix),
        },
        Cause::Unexplained { code, meaning } => Because {
            lead: "no request explains it",
            flow_ids: &[],
            code: *code,
            what: meaning,
            fix: None,
        },
    }
}
