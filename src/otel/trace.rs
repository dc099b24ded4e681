//! One export's life inside a session: started with the proxy (and, under `gomitm run`, the
//! ids of the run's root span, so flows can name their parent before it exists), finished
//! after the flows with the root span, a bounded flush and the line that says what was sent
//! and what was dropped.

use super::export::{Export, ExportStats, OtlpError, OtlpSettings, SHUTDOWN_FLUSH};
use super::mapping::{run_span, Parent, RunFacts};
use super::observer::{DiagnoseFacts, OtlpObserver};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

/// The export of one session.
pub struct Tracing {
    export: Export,
    /// Under `gomitm run`: the root span's ids.
    root: Option<Parent>,
    started_at_us: i64,
}

impl Tracing {
    /// Start exporting; the observer goes on the store. `extra_secret_headers` are
    /// `--redact-header`'s names. Must be called inside a tokio runtime.
    pub fn start(
        settings: OtlpSettings,
        extra_secret_headers: Vec<String>,
        facts: DiagnoseFacts,
    ) -> Result<(Tracing, OtlpObserver), OtlpError> {
        let ids = RandomIdGenerator::default();
        let root = settings.run_trace.then(|| Parent {
            trace_id: ids.new_trace_id(),
            span_id: ids.new_span_id(),
        });
        let redact = (!settings.keep_secrets).then_some(extra_secret_headers);
        let export = Export::start(settings)?;
        let observer = OtlpObserver::new(export.queue(), root, redact, facts);
        let tracing = Tracing {
            export,
            root,
            started_at_us: now_us(),
        };
        Ok((tracing, observer))
    }

    /// True under `gomitm run`: the caller owes the root span.
    pub fn wants_run(&self) -> bool {
        self.root.is_some()
    }

    /// Send the root span (`run`, when this is a run's trace), flush within
    /// [`SHUTDOWN_FLUSH`], and print what happened on stderr.
    pub async fn finish(self, run: Option<RunFacts>) -> ExportStats {
        let queue = self.export.queue();
        if let (Some(root), Some(mut run)) = (self.root, run) {
            run.started_at_us = self.started_at_us;
            run.ended_at_us = now_us();
            run.dropped_spans = queue.dropped_so_far();
            if !self.export.settings.keep_secrets {
                run.argv = run
                    .argv
                    .iter()
                    .map(|a| crate::redact::redact_text(a))
                    .collect();
            }
            queue.push(run_span(&run, root));
        }
        drop(queue);
        let url = self.export.settings.traces_url.clone();
        let (stats, error) = self.export.finish(SHUTDOWN_FLUSH).await;
        eprintln!("{}", exit_line(&url, stats, error.as_deref()));
        stats
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

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
