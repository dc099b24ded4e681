//! The OTLP export path: where spans go (`--otlp`, `OTEL_*` variables), the resource that
//! names this gomitm, and a bounded queue drained by one task that sends batches with
//! opentelemetry-otlp's HTTP/protobuf exporter.
//!
//! Never slows traffic: callers only `try_send` into the queue; when it is full (a collector
//! down, slow or stalled) the span is dropped and counted. Each batch has a deadline, and the
//! final flush another, so a stalled collector costs gomitm at most `SHUTDOWN_FLUSH` at exit.
//! The SDK's own `BatchSpanProcessor` is not used: it runs a thread of its own and does not
//! tell how many spans it dropped, which gomitm must print.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::resource::{EnvResourceDetector, Resource};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Spans waiting for the collector; beyond this they are dropped (about 8 flows' worth of
/// phase spans each: a thousand flows' lead over a slow collector).
pub const QUEUE_SPANS: usize = 8192;
/// Spans per OTLP request.
const BATCH_SPANS: usize = 512;
/// How long spans may wait for more to fill a batch.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// One OTLP request's deadline (OTLP's own default is 10 s).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long gomitm waits at exit for the last spans to reach the collector.
pub const SHUTDOWN_FLUSH: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("--otlp {0}: not an http:// URL")]
    BadUrl(String),
    #[error(
        "--otlp {0}: https:// collectors are not supported yet (the exporter has no TLS \
         connector in this build); use the collector's plain http:// OTLP port (4318)"
    )]
    Https(String),
    #[error("--otlp: cannot build the OTLP exporter: {0}")]
    Build(String),
}

/// `--otlp` resolved: where to send, and whether the spans keep secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The traces URL, `/v1/traces` appended to a base URL.
    pub traces_url: String,
    /// `--otlp-no-redact`.
    pub keep_secrets: bool,
    /// Under `gomitm run`: one trace, with a root span for the command.
    pub run_trace: bool,
}

impl OtlpSettings {
    pub fn new(base: &str, keep_secrets: bool, run_trace: bool) -> Result<OtlpSettings, OtlpError> {
        Ok(OtlpSettings {
            traces_url: traces_url(base)?,
            keep_secrets,
            run_trace,
        })
    }
}

/// As `OTEL_EXPORTER_OTLP_ENDPOINT` is read: a base URL gets `/v1/traces`; a URL that already
/// names a path is used as given (so `…/v1/traces` is not doubled).
pub fn traces_url(base: &str) -> Result<String, OtlpError> {
    let base = base.trim();
    let uri: http::Uri = base
        .parse()
        .map_err(|_| OtlpError::BadUrl(crate::redact::redact_url(base)))?;
    if uri.scheme_str() == Some("https") {
        return Err(OtlpError::Https(crate::redact::redact_url(base)));
    }
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(OtlpError::BadUrl(crate::redact::redact_url(base)));
    }
    let path = uri.path();
    if path.is_empty() || path == "/" {
        Ok(format!("{}/v1/traces", base.trim_end_matches('/')))
    } else {
        Ok(base.to_string())
    }
}

/// `service.name=gomitm` unless `OTEL_SERVICE_NAME` says otherwise, `service.version`,
/// `host.name`, then `OTEL_RESOURCE_ATTRIBUTES` (CI tags its runner, job and repository).
pub fn resource() -> Resource {
    let mut builder = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "gomitm"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Some(host) = host_name() {
        builder = builder.with_attribute(KeyValue::new("host.name", host));
    }
    // The specification: OTEL_SERVICE_NAME wins over a service.name in the attributes.
    if let Some(name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
    {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

fn host_name() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname(2) writes at most `buf.len()` bytes into the buffer we own.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return Some(name);
            }
        }
        None
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok()
    }
}

/// What the export did, for the line printed at exit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub exported: u64,
    /// Spans lost: the queue was full, the collector failed or timed out, or the final
    /// flush ran out of time.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    /// The last export error, for the exit line.
    last_error: std::sync::Mutex<Option<String>>,
}

/// The sending side, cloned into observers: never blocks.
#[derive(Clone)]
pub struct SpanQueue {
    tx: mpsc::Sender<SpanData>,
    counters: Arc<Counters>,
}

impl SpanQueue {
    /// Queue `span`, or count it dropped when the queue is full or closed.
    pub fn push(&self, span: SpanData) {
        match self.tx.try_send(span) {
            Ok(()) => self.counters.accepted.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.counters.refused.fetch_add(1, Ordering::Relaxed),
        };
    }

    /// Events the observer missed (it fell behind the store): their spans never existed.
    pub fn count_lost(&self, n: u64) {
        self.counters.refused.fetch_add(n, Ordering::Relaxed);
    }

    /// Spans lost so far (queue full, or the collector failed them).
    pub fn dropped_so_far(&self) -> u64 {
        self.counters.refused.load(Ordering::Relaxed) + self.counters.failed.load(Ordering::Relaxed)
    }
}

/// The running export: a queue and the task that empties it.
pub struct Export {
    queue: SpanQueue,
    task: JoinHandle<()>,
    pub settings: OtlpSettings,
}

impl Export {
    /// Build the exporter and start its task. Must be called inside a tokio runtime.
    pub fn start(settings: OtlpSettings) -> Result<Export, OtlpError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.traces_url.clone())
            .with_timeout(EXPORT_TIMEOUT)
            // OTEL_EXPORTER_OTLP_HEADERS is read by the exporter itself, as every SDK does.
            .with_headers(HashMap::new())
            .build()
            .map_err(|e| OtlpError::Build(e.to_string()))?;
        Ok(Export::with_exporter(settings, exporter, resource()))
    }

    /// The export over any exporter (tests use the SDK's in-memory one).
    pub fn with_exporter<E: SpanExporter + 'static>(
        settings: OtlpSettings,
        mut exporter: E,
        resource: Resource,
    ) -> Export {
        exporter.set_resource(&resource);
        let (tx, rx) = mpsc::channel(QUEUE_SPANS);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(drain(exporter, rx, counters.clone()));
        Export {
            queue: SpanQueue { tx, counters },
            task,
            settings,
        }
    }

    pub fn queue(&self) -> SpanQueue {
        self.queue.clone()
    }

    /// Close the queue, give the last spans `flush` to reach the collector, and say what
    /// happened. Spans still queued or in flight at the deadline count as dropped.
    pub async fn finish(self, flush: Duration) -> (ExportStats, Option<String>) {
        let Export {
            queue, mut task, ..
        } = self;
        let counters = queue.counters.clone();
        drop(queue);
        let timed_out = tokio::time::timeout(flush, &mut task).await.is_err();
        if timed_out {
            task.abort();
            let _ = task.await;
        }
        let accepted = counters.accepted.load(Ordering::Relaxed);
        let exported = counters.exported.load(Ordering::Relaxed);
        let refused = counters.refused.load(Ordering::Relaxed);
        let stats = ExportStats {
            exported,
            dropped: refused + accepted.saturating_sub(exported),
        };
        let error = counters
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .or_else(|| {
                (timed_out && stats.dropped > 0).then(|| {
                    format!(
                        "the collector did not answer within the {} ms allowed at exit",
                        flush.as_millis()
                    )
                })
            });
        (stats, error)
    }
}

async fn drain<E: SpanExporter>(
    exporter: E,
    mut rx: mpsc::Receiver<SpanData>,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(BATCH_SPANS);
    loop {
        let Some(first) = rx.recv().await else { break };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        let mut closed = false;
        while batch.len() < BATCH_SPANS {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(span)) => batch.push(span),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
        send(&exporter, &mut batch, &counters).await;
        if closed {
            break;
        }
    }
    let _ = exporter.shutdown();
}

async fn send<E: SpanExporter>(exporter: &E, batch: &mut Vec<SpanData>, counters: &Counters) {
    let n = batch.len() as u64;
    let spans = std::mem::take(batch);
    let error = match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(spans)).await {
        Ok(Ok(())) => {
            counters.exported.fetch_add(n, Ordering::Relaxed);
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!(
            "no answer from the collector within {}s",
            EXPORT_TIMEOUT.as_secs()
        ),
    };
    counters.failed.fetch_add(n, Ordering::Relaxed);
    *counters
        .last_error
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(error);
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
