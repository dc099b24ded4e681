//! OpenTelemetry export (`--otlp URL`): every flow as a CLIENT span with its phases, and under
//! `gomitm run` one trace with a root span for the command, sent over OTLP/HTTP (protobuf) to
//! a collector. `mapping` turns flows into spans (pure), `observer` follows the store,
//! `export` owns the bounded queue, the exporter and the resource. docs/OPENTELEMETRY.md.

pub mod export;
pub mod mapping;
pub mod observer;
pub mod trace;

pub use export::{Export, ExportStats, OtlpError, OtlpSettings, SpanQueue, SHUTDOWN_FLUSH};
pub use mapping::{flow_spans, run_span, FlowFacts, Parent, RunFacts};
pub use observer::{DiagnoseFacts, OtlpObserver};
pub use trace::Tracing;

/// The line printed at exit: how many spans reached the collector and how many were dropped.
pub fn exit_line(url: &str, stats: ExportStats, error: Option<&str>) -> String {
    let url = crate::redact::redact_url(url);
    let mut line = format!(
        "gomitm: OpenTelemetry: {} exported to {url}, {} dropped",
        spans(stats.exported),
        stats.dropped
    );
    if let Some(e) = error.filter(|_| stats.dropped > 0) {
        line.push_str(&format!(" (last error: {})", crate::redact::redact_text(e)));
    }
    crate::terminal_text::terminal_safe(&line).into_owned()
}

fn spans(n: u64) -> String {
    if n == 1 {
        "1 span".into()
    } else {
        format!("{n} spans")
    }
}
