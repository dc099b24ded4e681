//! The JSON rendering of a [`Summary`] for scripts (`gomitm report --json`): one document with
//! the numbers the text rendering prints (verdict, totals, leaks, failures with code, cause
//! and fix, modules, slowest requests), plus what was found, in the words `--fail-on` takes.
//!
//! Pure formatting of data `analysis` already computed, like `summary_text`; must not compute
//! or filter anything. Callers summarise redacted flows; every string is also passed through
//! `redact_text` here, for what comes from elsewhere (go's output, settings).

use serde::Serialize;
use serde_json::Value;

use super::analysis::Summary;
use crate::redact::redact_text;

/// The `format` field: bumped when a field changes meaning or goes away; fields may be added.
pub const JSON_FORMAT: &str = "gomitm-report/1";

/// Something a capture can have that a CI job may want to fail on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// A private module path was sent to a module proxy or checksum database.
    Leak,
    /// The summary lists a failed request (its "Failures" section).
    Failure,
}

impl Summary {
    /// What this capture has, in a fixed order: leaks first, as the text puts them first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if !self.leaks.is_empty() {
            found.push(Finding::Leak);
        }
        if !self.failures.is_empty() {
            found.push(Finding::Failure);
        }
        found
    }

    /// One JSON document (pretty-printed, ending in a newline).
    pub fn render_json(&self) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Document<'a> {
            format: &'static str,
            /// No leak and no failure.
            ok: bool,
            found: Vec<Finding>,
            #[serde(flatten)]
            summary: &'a Summary,
        }
        let found = self.findings();
        let mut value = serde_json::to_value(Document {
            format: JSON_FORMAT,
            ok: found.is_empty(),
            found,
            summary: self,
        })?;
        redact_strings(&mut value);
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// Every string in the document through the one redaction, as every text line is.
pub fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            let redacted = redact_text(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
