//! Flow → OpenTelemetry spans, and the `gomitm run` root span: pure functions of already
//! redacted data, so the table of flow shapes in the tests is the whole contract.
//!
//! One CLIENT span per flow named `METHOD` (`METHOD kind` for a Go request, `CONNECT` for a
//! tunnel), with the HTTP semantic-convention attributes, gomitm's own under `gomitm.`, and
//! one INTERNAL child span per phase that happened (blocked, dns, connect, tls, send, wait,
//! receive), laid end to end from the flow's start as the HAR and the TUI lay them. The
//! attribute table is docs/OPENTELEMETRY.md.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{IdGenerator, SpanData, SpanEvents, SpanLinks};

use crate::flow::{Flow, FlowKind};
use crate::go::diagnosis::{Diagnosis, Severity};

/// Where a flow's span hangs: under the `gomitm run` root span, or a trace of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

/// What the mapping needs besides the flow, decided by the caller (which sees other flows).
#[derive(Debug, Clone, Default)]
pub struct FlowFacts<'a> {
    /// The flow's diagnosis (computed from the redacted flow).
    pub diagnosis: Option<&'a Diagnosis>,
    /// Earlier flows with the same method and URL that got a 4xx: go 1.24+ asks twice.
    pub resend_count: u32,
}

/// The spans of one finished flow (already redacted): the flow's span first, then its phases.
pub fn flow_spans(
    flow: &Flow,
    facts: &FlowFacts<'_>,
    parent: Option<Parent>,
    ids: &dyn IdGenerator,
) -> Vec<SpanData> {
    let trace_id = parent.map_or_else(|| ids.new_trace_id(), |p| p.trace_id);
    let span_id = ids.new_span_id();
    let start = at_us(flow.started_at_us);
    let end = start + ms(flow.timings.total_ms).unwrap_or_default();
    let mut spans = Vec::with_capacity(1 + crate::flow::Timings::PHASES.len());
    spans.push(SpanData {
        span_context: context(trace_id, span_id),
        parent_span_id: parent.map_or(SpanId::INVALID, |p| p.span_id),
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: span_name(flow).into(),
        start_time: start,
        end_time: end.max(start),
        attributes: flow_attributes(flow, facts),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: flow_status(flow),
        instrumentation_scope: scope(),
    });
    let mut at = start;
    for (name, d) in flow.timings.phases() {
        let Some(d) = ms(d) else { continue };
        spans.push(SpanData {
            span_context: context(trace_id, ids.new_span_id()),
            parent_span_id: span_id,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: at,
            end_time: at + d,
            attributes: vec![KeyValue::new("gomitm.phase", name)],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope(),
        });
        at += d;
    }
    spans
}

/// The finished `gomitm run`, for its root span.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// The command line, each argument already redacted.
    pub argv: Vec<String>,
    pub exit_code: i32,
    pub go_version: Option<String>,
    pub started_at_us: i64,
    pub ended_at_us: i64,
    pub requests: usize,
    pub failed: usize,
    pub bytes: u64,
    pub modules: usize,
    pub leaks: usize,
    /// The verdict's headline, when the run had one.
    pub verdict: Option<String>,
    /// Flow spans the export dropped before this one was built.
    pub dropped_spans: u64,
}

/// The root span of a `gomitm run` trace, with the ids its flows were given as parent.
pub fn run_span(run: &RunFacts, root: Parent) -> SpanData {
    let start = at_us(run.started_at_us);
    let end = at_us(run.ended_at_us).max(start);
    let program = run.argv.first().map_or("", |p| program_name(p));
    let int = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let mut attributes = vec![
        KeyValue::new(
            "process.command_args",
            Value::Array(
                run.argv
                    .iter()
                    .map(|a| StringValue::from(a.clone()))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ),
        KeyValue::new("process.executable.name", program.to_string()),
        KeyValue::new("process.exit.code", i64::from(run.exit_code)),
        KeyValue::new("gomitm.run.requests", int(run.requests)),
        KeyValue::new("gomitm.run.failed", int(run.failed)),
        KeyValue::new(
            "gomitm.run.bytes",
            i64::try_from(run.bytes).unwrap_or(i64::MAX),
        ),
        KeyValue::new("gomitm.run.modules", int(run.modules)),
        KeyValue::new("gomitm.run.leaks", int(run.leaks)),
        KeyValue::new(
            "gomitm.otlp.dropped_spans",
            i64::try_from(run.dropped_spans).unwrap_or(i64::MAX),
        ),
    ];
    if let Some(v) = &run.go_version {
        attributes.push(KeyValue::new("gomitm.go.release", v.clone()));
    }
    if let Some(v) = &run.verdict {
        attributes.push(KeyValue::new("gomitm.run.verdict", v.clone()));
    }
    SpanData {
        span_context: context(root.trace_id, root.span_id),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: format!("gomitm run {program}").into(),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: if run.exit_code == 0 {
            Status::Unset
        } else {
            Status::error(format!("exit code {}", run.exit_code))
        },
        instrumentation_scope: scope(),
    }
}

fn program_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn span_name(flow: &Flow) -> String {
    match (&flow.kind, flow.go.as_deref()) {
        (FlowKind::Tunnel, _) => "CONNECT".into(),
        (FlowKind::Http, Some(go)) => format!("{} {}", flow.request.method, go.kind.as_str()),
        (FlowKind::Http, None) => flow.request.method.to_string(),
    }
}

/// Semantic conventions: a CLIENT span is an error for a transport failure or a 4xx/5xx.
fn flow_status(flow: &Flow) -> Status {
    if let Some(e) = &flow.error {
        return Status::error(e.message.clone());
    }
    match &flow.response {
        Some(r) if r.status >= 400 => Status::error(crate::go::diagnosis::status_text(r)),
        _ => Status::Unset,
    }
}

/// `error.type`: gomitm's class for a failed flow, else the status code of a 4xx/5xx.
pub fn error_type(flow: &Flow) -> Option<String> {
    if let Some(e) = &flow.error {
        return Some(e.class.as_str().to_string());
    }
    flow.response
        .as_ref()
        .filter(|r| r.status >= 400)
        .map(|r| r.status.to_string())
}

fn flow_attributes(flow: &Flow, facts: &FlowFacts<'_>) -> Vec<KeyValue> {
    let mut a = Vec::with_capacity(32);
    let text = |k: &'static str, v: &str| KeyValue::new(k, v.to_string());
    let int = |k: &'static str, v: u64| KeyValue::new(k, i64::try_from(v).unwrap_or(i64::MAX));
    a.push(text("http.request.method", &flow.request.method));
    a.push(text("url.full", &flow.request.url));
    if let Some((host, port)) = server_of(&flow.request.url) {
        a.push(KeyValue::new("server.address", host));
        a.push(KeyValue::new("server.port", i64::from(port)));
    }
    if let Some(addr) = flow.connection.upstream.server_addr.as_deref() {
        match addr.parse::<std::net::SocketAddr>() {
            Ok(sa) => {
                a.push(KeyValue::new("network.peer.address", sa.ip().to_string()));
                a.push(KeyValue::new("network.peer.port", i64::from(sa.port())));
            }
            Err(_) => a.push(text("network.peer.address", addr)),
        }
    }
    if let Some(v) = protocol_version(&flow.request.http_version) {
        a.push(text("network.protocol.version", v));
    }
    if let Some(r) = &flow.response {
        a.push(KeyValue::new(
            "http.response.status_code",
            i64::from(r.status),
        ));
        a.push(int("http.response.body.size", r.body.total));
        if let Some(v) = protocol_version(&r.http_version) {
            a.push(text("gomitm.upstream.protocol.version", v));
        }
    }
    if flow.kind == FlowKind::Http {
        a.push(int("http.request.body.size", flow.request.body.total));
    }
    if let Some(t) = error_type(flow) {
        a.push(KeyValue::new("error.type", t));
    }
    if facts.resend_count > 0 {
        a.push(KeyValue::new(
            "http.request.resend_count",
            i64::from(facts.resend_count),
        ));
    }
    a.push(int("gomitm.flow.id", flow.id));
    a.push(text(
        "gomitm.flow.kind",
        match flow.kind {
            FlowKind::Http => "http",
            FlowKind::Tunnel => "tunnel",
        },
    ));
    if let Some(c) = &flow.client_addr {
        a.push(text("client.address", c));
    }
    if let Some(e) = &flow.error {
        a.push(text("gomitm.error.message", &e.message));
    }
    let c = &flow.connection;
    if flow.kind == FlowKind::Http {
        a.push(KeyValue::new("gomitm.connection.reused", c.reused));
    }
    if let Some(id) = c.upstream_conn_id {
        a.push(int("gomitm.connection.id", id));
    }
    if let Some(v) = &c.upstream.tls_version {
        a.push(text("tls.protocol.version", v));
    }
    if let Some(v) = &c.upstream.alpn {
        a.push(text("gomitm.tls.alpn", v));
    }
    if let Some(v) = &c.upstream.tls_group {
        a.push(text("tls.curve", v));
    }
    if let Some(v) = &c.retried {
        a.push(text("gomitm.retried", v.as_str()));
    }
    if c.upstream.insecure_upstream {
        a.push(KeyValue::new("gomitm.insecure_upstream", true));
    }
    if let Some(v) = &c.upstream.via_upstream_proxy {
        a.push(text("gomitm.upstream_proxy", v));
    }
    if let Some(t) = &flow.tunnel {
        a.push(int("gomitm.tunnel.bytes_up", t.bytes_up));
        a.push(int("gomitm.tunnel.bytes_down", t.bytes_down));
    }
    if let Some(t) = flow.tool {
        a.push(text("gomitm.tool", t.as_str()));
    }
    if let Some(to) = &flow.mapped_to {
        a.push(text("gomitm.mapped_to", to));
    }
    if !flow.rules.is_empty() {
        a.push(KeyValue::new(
            "gomitm.rules",
            Value::Array(
                flow.rules
                    .iter()
                    .map(|r| StringValue::from(r.clone()))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ));
    }
    if let Some(ms) = flow.timings.client_tls_ms {
        a.push(KeyValue::new("gomitm.timings.client_tls_ms", ms));
    }
    if let Some(go) = flow.go.as_deref() {
        a.push(text("gomitm.go.kind", go.kind.as_str()));
        if let Some(m) = &go.module {
            a.push(text("gomitm.go.module", m));
        }
        if let Some(v) = &go.version {
            a.push(text("gomitm.go.version", v));
        }
        // Who served it, as the summary's "served by" names sources: the GOPROXY base for
        // module-proxy requests, `direct` for checksum-database, discovery and git requests.
        let source = if go.kind.is_module_proxy() {
            go.base.clone()
        } else {
            Some("direct".to_string())
        };
        if let Some(s) = source {
            a.push(KeyValue::new("gomitm.go.source", s));
        }
        if let Some(s) = &go.sumdb {
            a.push(text("gomitm.go.sumdb", s));
        }
        if go.toolchain {
            a.push(KeyValue::new("gomitm.go.toolchain", true));
        }
        if let Some(h1) = go.hash.as_ref().and_then(|h| h.h1.as_deref()) {
            a.push(text("gomitm.go.h1", h1));
        }
    }
    if let Some(d) = facts.diagnosis {
        a.push(text("gomitm.diagnosis.code", d.code.as_str()));
        a.push(text("gomitm.diagnosis.severity", severity(d.severity)));
        a.push(text("gomitm.diagnosis.cause", &d.cause));
        a.push(text("gomitm.diagnosis.fix", &d.fix));
    }
    a
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `1.1`, `2`, `3` from `HTTP/1.1`, `HTTP/2`, `HTTP/3`.
fn protocol_version(v: &str) -> Option<&str> {
    let v = v.strip_prefix("HTTP/").unwrap_or(v);
    let v = v.strip_suffix(".0").filter(|m| *m != "1").unwrap_or(v);
    (!v.is_empty()).then_some(v)
}

/// Host and port of an absolute URL or a CONNECT authority; the scheme's port when none.
fn server_of(url: &str) -> Option<(String, u16)> {
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    })?;
    Some((host.to_string(), port))
}

fn context(trace_id: TraceId, span_id: SpanId) -> SpanContext {
    SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("gomitm")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

fn at_us(us: i64) -> SystemTime {
    let d = Duration::from_micros(us.unsigned_abs());
    if us >= 0 {
        SystemTime::UNIX_EPOCH + d
    } else {
        SystemTime::UNIX_EPOCH - d
    }
}

/// A usable phase duration: NaN, infinities and negatives are "did not happen".
fn ms(v: Option<f64>) -> Option<Duration> {
    v.filter(|x| x.is_finite() && *x >= 0.0)
        .map(|x| Duration::from_secs_f64(x / 1000.0))
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
