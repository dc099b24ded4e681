//! HAR → flows: gomitm's own HARs restored exactly from `_gomitm`, other tools' (Chrome,
//! Firefox, mitmproxy…) read tolerantly: nulls, missing fields, floats for integers, `ssl`
//! inside or outside `connect`, errors classified from their message. Imported flows are done.
//!
//! Pure: text in, flows out. The HAR shape belongs to `shape` and writing HARs to `export`;
//! the `Flow` definition belongs to `flow.rs` and is not changed from here.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::export::round3;
use super::shape::{
    BodyFlags, GomitmTimings, Har, HarEntry, HarErrorField, HarNameValue, HarTimings,
};
use super::HarError;
use crate::flow::{
    BodyCapture, ConnectionInfo, ErrorClass, Flow, FlowError, FlowKind, FlowState, Headers,
    Request, Response, Timings, TunnelStats,
};

/// How a producer splits `connect` and `ssl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslConvention {
    /// HAR 1.2: `connect` includes `ssl` (Chrome, Firefox, gomitm).
    InsideConnect,
    /// mitmproxy: `connect` is TCP only and `ssl` comes on top.
    Separate,
}

impl SslConvention {
    fn of(creator: &str) -> SslConvention {
        if creator.to_ascii_lowercase().starts_with("mitmproxy") {
            SslConvention::Separate
        } else {
            SslConvention::InsideConnect
        }
    }
}

/// Flows from a HAR: gomitm's own (restored exactly from `_gomitm`) or another tool's.
pub fn from_json(text: &str) -> Result<Vec<Flow>, HarError> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(HarError::Parse)?;
    // A null means "absent" in every producer we know; stripping it lets `default` apply.
    strip_nulls(&mut value);
    let har: Har = serde_json::from_value(value).map_err(HarError::Parse)?;
    let ssl = SslConvention::of(&har.log.creator.name);
    har.log
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| flow_from_entry(i, e, ssl))
        .collect()
}

fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn flow_from_entry(index: usize, e: HarEntry, ssl: SslConvention) -> Result<Flow, HarError> {
    let ext = e.gomitm.as_ref();
    let tunnel = e.tunnel.as_ref().map(|t| TunnelStats {
        bytes_up: t.bytes_up,
        bytes_down: t.bytes_down,
    });
    let kind = match (ext, &tunnel) {
        (Some(g), _) => g.kind,
        (None, Some(_)) => FlowKind::Tunnel,
        (None, None) => FlowKind::Http,
    };
    Ok(Flow {
        id: ext.map_or(index as u64 + 1, |g| g.id),
        kind,
        state: FlowState::Done,
        started_at_us: ext.map_or_else(|| parse_started(&e.started_date_time), |g| g.started_at_us),
        client_addr: ext.and_then(|g| g.client_addr.clone()),
        request: import_request(index, &e)?,
        response: import_response(index, &e)?,
        timings: match ext.and_then(|g| g.timings.clone()) {
            Some(t) => t.into(),
            None => import_timings(&e.timings, e.time, ssl),
        },
        connection: import_connection(&e),
        error: import_error(&e),
        tunnel,
        // gomitm's own HARs carry the classification; for others, readers classify the URL.
        go: e.go.clone(),
        tool: e.tool.clone(),
        rules: e.rules.clone(),
        mapped_to: e.mapped_to.clone(),
    })
}

/// Microseconds since the epoch; 0 when the date is missing or not RFC 3339.
fn parse_started(s: &str) -> i64 {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1000).ok())
        .unwrap_or(0)
}

fn import_request(index: usize, e: &HarEntry) -> Result<Request, HarError> {
    let req = &e.request;
    let ext = e.gomitm.as_ref();
    let data = match &req.post_data {
        Some(p) => decode_text(&p.text, p.encoding.as_deref())
            .map_err(|source| base64_error(index, e, "request postData", source))?,
        None => Vec::new(),
    };
    let flags = ext.map(|g| g.request_body.clone());
    Ok(Request {
        method: req.method.clone(),
        url: ext
            .and_then(|g| g.target.clone())
            .unwrap_or_else(|| req.url.clone()),
        http_version: req.http_version.clone(),
        headers: flow_headers(&req.headers),
        body: body_capture(data, req.body_size, flags, None),
    })
}

/// `None` for status 0: the placeholder for "no response" (gomitm, Chrome and mitmproxy agree).
fn import_response(index: usize, e: &HarEntry) -> Result<Option<Response>, HarError> {
    let resp = &e.response;
    if resp.status <= 0 {
        return Ok(None);
    }
    let content = &resp.content;
    let data = match &content.text {
        Some(text) => decode_text(text, content.encoding.as_deref())
            .map_err(|source| base64_error(index, e, "response content", source))?,
        None => Vec::new(),
    };
    let flags = e.gomitm.as_ref().and_then(|g| g.response_body.clone());
    Ok(Some(Response {
        status: u16::try_from(resp.status).unwrap_or(u16::MAX),
        reason: resp.status_text.clone(),
        http_version: resp.http_version.clone(),
        headers: flow_headers(&resp.headers),
        body: body_capture(data, content.size, flags, content.truncated),
    }))
}

fn base64_error(
    index: usize,
    e: &HarEntry,
    part: &'static str,
    source: base64::DecodeError,
) -> HarError {
    HarError::Base64 {
        entry: index + 1,
        url: e.request.url.clone(),
        part,
        source,
    }
}

fn decode_text(text: &str, encoding: Option<&str>) -> Result<Vec<u8>, base64::DecodeError> {
    match encoding {
        Some(enc) if enc.eq_ignore_ascii_case("base64") => BASE64.decode(text.trim()),
        _ => Ok(text.as_bytes().to_vec()),
    }
}

/// `size` < 0 (unknown) or smaller than the text (it was measured compressed) → the text's size.
fn body_capture(
    data: Vec<u8>,
    size: i64,
    flags: Option<BodyFlags>,
    truncated: Option<bool>,
) -> BodyCapture {
    let kept = data.len() as u64;
    let total = u64::try_from(size).unwrap_or(0).max(kept);
    let flags = flags.unwrap_or(BodyFlags {
        truncated: truncated.unwrap_or(kept < total),
        complete: true,
    });
    BodyCapture {
        data,
        total,
        truncated: flags.truncated,
        complete: flags.complete,
    }
}

fn flow_headers(headers: &[HarNameValue]) -> Headers {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

fn import_timings(t: &HarTimings, time: f64, ssl: SslConvention) -> Timings {
    let present = |v: f64| (v.is_finite() && v >= 0.0).then_some(v);
    let tls = present(t.ssl);
    let connect_ms = match (present(t.connect), tls) {
        // A producer that left ssl out of connect despite the spec shows connect < ssl.
        (Some(c), Some(s)) if ssl == SslConvention::InsideConnect && c >= s => Some(round3(c - s)),
        (c, _) => c,
    };
    Timings {
        blocked_ms: present(t.blocked),
        dns_ms: present(t.dns),
        connect_ms,
        tls_ms: tls,
        send_ms: present(t.send),
        wait_ms: present(t.wait),
        receive_ms: present(t.receive),
        client_tls_ms: None,
        total_ms: present(time),
    }
}

fn import_connection(e: &HarEntry) -> ConnectionInfo {
    let upstream_conn_id = e.connection.as_deref().and_then(|c| c.trim().parse().ok());
    // Chrome writes IPv6 addresses in brackets.
    let server_ip = e
        .server_ip_address
        .as_deref()
        .map(|s| s.trim_start_matches('[').trim_end_matches(']'))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let Some(g) = e.gomitm.clone() else {
        return ConnectionInfo {
            server_addr: server_ip,
            upstream_conn_id,
            ..ConnectionInfo::default()
        };
    };
    ConnectionInfo {
        server_addr: g.server_addr.or(server_ip),
        upstream_conn_id,
        reused: g.reused,
        tls_version: g.tls_version,
        alpn: g.alpn,
        client_tls_version: g.client_tls_version,
        client_alpn: g.client_alpn,
        client_sni: g.client_sni,
        insecure_upstream: g.insecure_upstream,
        via_upstream_proxy: g.via_upstream_proxy,
    }
}

/// gomitm's `{class, message}` on the entry, else a foreign message on the response.
fn import_error(e: &HarEntry) -> Option<FlowError> {
    match (&e.error, &e.response.error) {
        (Some(HarErrorField::Classified { class, message }), _) => Some(FlowError {
            class: ErrorClass::parse(class).unwrap_or_else(|| classify_message(message)),
            message: message.clone(),
        }),
        (Some(HarErrorField::Message(m)), _) | (_, Some(HarErrorField::Message(m)))
            if !m.is_empty() =>
        {
            Some(FlowError {
                class: classify_message(m),
                message: m.clone(),
            })
        }
        _ => None,
    }
}

/// Best guess at a class for another tool's message (`net::ERR_NAME_NOT_RESOLVED`…).
fn classify_message(message: &str) -> ErrorClass {
    const RULES: [(&str, ErrorClass); 12] = [
        ("name_not_resolved", ErrorClass::Dns),
        ("dns", ErrorClass::Dns),
        ("connection_timed_out", ErrorClass::ConnectTimeout),
        ("timed_out", ErrorClass::UpstreamTimeout),
        ("timeout", ErrorClass::UpstreamTimeout),
        ("cert", ErrorClass::UpstreamTls),
        ("ssl", ErrorClass::UpstreamTls),
        ("tls", ErrorClass::UpstreamTls),
        ("refused", ErrorClass::Connect),
        ("reset", ErrorClass::UpstreamReset),
        ("abort", ErrorClass::ClientAbort),
        ("proxy", ErrorClass::UpstreamProxy),
    ];
    let lower = message.to_ascii_lowercase();
    RULES
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map_or(ErrorClass::Protocol, |(_, class)| *class)
}

impl From<GomitmTimings> for Timings {
    fn from(t: GomitmTimings) -> Self {
        Timings {
            blocked_ms: t.blocked_ms,
            dns_ms: t.dns_ms,
            connect_ms: t.connect_ms,
            tls_ms: t.tls_ms,
            send_ms: t.send_ms,
            wait_ms: t.wait_ms,
            receive_ms: t.receive_ms,
            client_tls_ms: t.client_tls_ms,
            total_ms: t.total_ms,
        }
    }
}

#[cfg(test)]
#[path = "tests_import.rs"]
mod tests;
