//! OpenTelemetry export (`--otlp URL`): every flow as a CLIENT span with its phases, and under
//! `gomitm run` one trace with a root span for the command, sent over OTLP/HTTP (protobuf) to
//! a collector. `mapping` turns flows into spans (pure), `observer` follows the store,
//! `export` owns the bounded queue, the exporter and the resource. docs/OPENTELEMETRY.md.

pub mod export;
pub mod mapping;
pub mod observer;
pub mod trace;

pub use export::{
    resolve_endpoint, CollectorTls, Export, ExportStats, OtlpError, OtlpSettings, SpanQueue,
    SHUTDOWN_FLUSH,
};
pub use mapping::{flow_spans, run_span, FlowFacts, Parent, RunFacts};
pub use observer::{DiagnoseFacts, OtlpObserver};
pub use trace::{exit_line, Tracing};
