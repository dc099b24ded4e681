//! Every flow of a run placed on one time axis, for the HTML report's timeline: when it
//! started (relative to the first flow), its phases, its Go classification, whether it failed
//! or was retried, and its diagnosis. One row per flow, in start order.
//!
//! Pure: redacted flows, the same [`DiagnoseContext`] and the [`Summary`] the text renders
//! in, a [`Timeline`] out. The judgement (diagnosis, which failures the summary lists) is
//! `diagnose`'s and `analysis`'s; this file only lays flows out in time.

use serde::Serialize;

use super::analysis::Summary;
use super::diagnose::diagnose;
use super::diagnosis::{DiagnoseContext, Severity};
use crate::flow::{Flow, FlowKind};

/// The phases a bar is split into, in the order they happen.
pub const PHASES: [&str; 7] = crate::flow::Timings::PHASES;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// Start of the first flow, microseconds since the Unix epoch (0 without flows).
    pub start_us: i64,
    /// Last end, in milliseconds after `start_us`.
    pub span_ms: f64,
    pub phases: [&'static str; 7],
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: u64,
    /// Milliseconds after the timeline's start.
    pub at_ms: f64,
    /// Start → end; the sum of the phases when the flow has no end time of its own.
    pub ms: f64,
    /// Per [`PHASES`], `None` for a phase that did not happen.
    pub phases: [Option<f64>; 7],
    pub host: String,
    /// The upstream connection (equal ids: the same pooled connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn: Option<u64>,
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `http` or `tunnel`.
    pub kind: &'static str,
    /// The Go classification (`list`, `info`, `mod`, `zip`, `sumdb_lookup`, `discovery`,
    /// `git_refs`…), or `None` for a request go did not make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<&'static str>,
    /// `module@version` (or the module alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub req_bytes: u64,
    pub resp_bytes: u64,
    /// An error, an HTTP status of 400 or more, or an error diagnosis.
    pub failed: bool,
    /// The flow is an entry of the summary's failures.
    pub listed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why gomitm sent the request a second time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<RowDiagnosis>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDiagnosis {
    pub code: String,
    pub severity: Severity,
    pub cause: String,
    pub fix: String,
}

/// `flows` redacted, as `analysis::summarize` was given them.
pub fn timeline(flows: &[Flow], ctx: &DiagnoseContext, summary: &Summary) -> Timeline {
    let mut ordered: Vec<&Flow> = flows.iter().collect();
    ordered.sort_by_key(|f| (f.started_at_us, f.id));
    let start_us = ordered.first().map_or(0, |f| f.started_at_us);
    let rows: Vec<Row> = ordered
        .iter()
        .map(|f| row(f, start_us, ctx, summary))
        .collect();
    let span_ms = rows.iter().map(|r| r.at_ms + r.ms).fold(0.0, f64::max);
    Timeline {
        start_us,
        span_ms,
        phases: PHASES,
        rows,
    }
}

fn row(f: &Flow, start_us: i64, ctx: &DiagnoseContext, summary: &Summary) -> Row {
    let phases = f.timings.phases().map(|(_, ms)| ms);
    let summed: f64 = phases.iter().flatten().sum();
    let diagnosis = diagnose(f, ctx).map(|d| RowDiagnosis {
        code: d.code.to_string(),
        severity: d.severity,
        cause: d.cause,
        fix: d.fix,
    });
    let status = f.response.as_ref().map(|r| r.status);
    let listed = summary.failures.iter().any(|r| r.flow_id == f.id);
    let failed = listed
        || f.error.is_some()
        || status.is_some_and(|s| s >= 400)
        || diagnosis
            .as_ref()
            .is_some_and(|d| d.severity == Severity::Error);
    let go = f.go.as_deref();
    Row {
        id: f.id,
        at_ms: (f.started_at_us - start_us) as f64 / 1000.0,
        ms: f.timings.total_ms.unwrap_or(summed).max(summed),
        phases,
        host: f.host().to_string(),
        conn: f.connection.upstream_conn_id,
        method: f.request.method.to_string(),
        url: f.request.url.clone(),
        status,
        kind: match f.kind {
            FlowKind::Http => "http",
            FlowKind::Tunnel => "tunnel",
        },
        go: go.map(|g| g.kind.as_str()),
        module: go.and_then(|g| match (&g.module, &g.version) {
            (Some(m), Some(v)) => Some(format!("{m}@{v}")),
            (Some(m), None) => Some(m.clone()),
            _ => None,
        }),
        req_bytes: f.request.body.total + f.tunnel.as_ref().map_or(0, |t| t.bytes_up),
        resp_bytes: f.response.as_ref().map_or(0, |r| r.body.total)
            + f.tunnel.as_ref().map_or(0, |t| t.bytes_down),
        failed,
        listed,
        error: f
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.class.as_str(), e.message)),
        retried: f.connection.retried.map(|r| r.describe()),
        diagnosis,
    }
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
