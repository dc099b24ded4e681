//! HAR → flows: gomitm's own HARs restored exactly from `_gomitm`, other tools' (Chrome
//! DevTools, mitmproxy, Charles, Firefox…) read tolerantly: nulls, missing fields, floats for
//! integers, a BOM, lone UTF-16 surrogate escapes, wrapped or unpadded base64, `ssl` inside or
//! outside `connect`, Chrome's `_connectionId`, Charles's `_charlesStatus`, errors classified
//! from their message, bodies capped like the proxy caps them. Imported flows are done.
//!
//! Pure: text in, flows out. The HAR shape belongs to `shape` and writing HARs to `export`;
//! the `Flow` definition belongs to `flow.rs` and is not changed from here.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;
use std::io::{BufRead, Cursor, Seek, SeekFrom};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::{HarError, Unreadable};
use super::shape::round3;
use super::shape::{BodyFlags, GomitmTimings, HarEntry, HarErrorField, HarNameValue, HarTimings};
#[cfg(test)]
use super::stream::FOREIGN_BODY_CAP;
use super::stream::{self, RawEntry, TextStats};
use crate::flow::{
    BodyCapture, ClientTls, ClientTool, ConnectionInfo, ErrorClass, Flow, FlowError, FlowKind,
    FlowState, Headers, Label, Request, Response, Shared, Timings, TunnelStats, UpstreamConn,
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

/// Base64 as producers write it: padded or not, trailing bits tolerated.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Flows from a HAR held in memory: see [`from_reader`].
pub fn from_json(text: &str) -> Result<Vec<Flow>, HarError> {
    from_reader(Cursor::new(text.as_bytes()))
}

/// Flows from a HAR: gomitm's own (restored exactly from `_gomitm`) or another tool's. The
/// reader is read twice and never held whole (see `stream`); memory is what the flows keep.
pub fn from_reader<R: BufRead + Seek>(mut reader: R) -> Result<Vec<Flow>, HarError> {
    match read_entries(&mut reader) {
        // JavaScript's JSON.stringify writes lone UTF-16 surrogate escapes for broken strings
        // and serde_json refuses them: such a file is repaired in memory and read again.
        Err(HarError::Parse(why)) if why.lone_surrogate => {
            reader.seek(SeekFrom::Start(0)).map_err(HarError::Read)?;
            let mut text = String::new();
            if reader.read_to_string(&mut text).is_err() {
                return Err(HarError::Parse(why));
            }
            match replace_lone_surrogates(&text) {
                Some(fixed) => read_entries(Cursor::new(fixed.as_bytes())),
                None => Err(HarError::Parse(why)),
            }
        }
        other => other,
    }
}

fn read_entries<R: BufRead + Seek>(reader: R) -> Result<Vec<Flow>, HarError> {
    let mut flows = Vec::new();
    stream::for_each_entry(reader, |index, cap, creator, raw| {
        let flow = flow_from_raw(index, cap, SslConvention::of(creator), raw)?;
        let kept =
            flow.request.body.data.len() + flow.response.as_ref().map_or(0, |r| r.body.data.len());
        flows.push(flow);
        Ok(kept)
    })?;
    Ok(flows)
}

fn flow_from_raw(
    index: usize,
    cap: usize,
    ssl: SslConvention,
    raw: RawEntry,
) -> Result<Flow, HarError> {
    let RawEntry {
        mut value,
        request_text,
        response_text,
    } = raw;
    // A null means "absent" in every producer we know; stripping it lets `default` apply.
    strip_nulls(&mut value);
    let extras = entry_extras(&value);
    let entry: HarEntry = serde_json::from_value(value)
        .map_err(|e| HarError::Parse(Unreadable::entry(index + 1, &e)))?;
    let bodies = Bodies {
        cap,
        request_text,
        response_text,
    };
    flow_from_entry(index, entry, ssl, extras, &bodies)
}

/// How much of an entry's bodies to keep, and the measurements of their whole texts.
struct Bodies {
    cap: usize,
    request_text: Option<TextStats>,
    response_text: Option<TextStats>,
}

/// `text` with every `\uD800`–`\uDFFF` escape that is not half of a pair replaced by
/// `\uFFFD`; `None` when there is none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let hex4 = |at: usize| {
        let digits = text.get(at..at + 4)?;
        u16::from_str_radix(digits, 16).ok()
    };
    let escape_at = |at: usize| b.get(at) == Some(&b'\\') && b.get(at + 1) == Some(&b'u');
    let (mut out, mut copied, mut i, mut in_string) = (String::new(), 0, 0, false);
    while let Some(&c) = b.get(i) {
        match (in_string, c) {
            (_, b'"') => in_string = !in_string,
            (true, b'\\') if escape_at(i) => {
                let unit = hex4(i + 2).unwrap_or(0);
                let paired = (0xd800..0xdc00).contains(&unit)
                    && escape_at(i + 6)
                    && hex4(i + 8).is_some_and(|low| (0xdc00..0xe000).contains(&low));
                if (0xd800..0xe000).contains(&unit) && !paired {
                    out.push_str(text.get(copied..i)?);
                    out.push_str("\\ufffd");
                    copied = i + 6;
                }
                i += if paired { 12 } else { 6 };
                continue;
            }
            (true, b'\\') => i += 1,
            _ => {}
        }
        i += 1;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(text.get(copied..)?);
    Some(out)
}

/// What some producers put in fields the HAR shape has no place for.
#[derive(Debug, Clone, Default)]
struct Extras {
    /// Chrome's `_connectionId`; when present, Chrome's `connection` is the server port.
    connection_id: Option<String>,
    /// Charles's `response._charlesStatus`: `COMPLETE`, or how the exchange failed.
    charles_status: Option<String>,
}

fn entry_extras(entry: &Value) -> Extras {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Extras {
        connection_id: text(entry.get("_connectionId")),
        charles_status: text(entry.pointer("/response/_charlesStatus")),
    }
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

fn flow_from_entry(
    index: usize,
    e: HarEntry,
    ssl: SslConvention,
    extras: Extras,
    bodies: &Bodies,
) -> Result<Flow, HarError> {
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
        request: import_request(index, &e, bodies)?.into(),
        response: import_response(index, &e, bodies)?,
        timings: match ext.and_then(|g| g.timings.clone()) {
            Some(t) => t.into(),
            None => import_timings(&e.timings, e.time, ssl),
        },
        connection: import_connection(&e, &extras),
        error: import_error(&e, &extras),
        tunnel,
        // gomitm's own HARs carry the classification; for others, readers classify the URL.
        go: e.go.clone().map(Box::new),
        tool: e.tool.as_deref().and_then(ClientTool::parse),
        rules: e.rules.clone(),
        mapped_to: e.mapped_to.clone(),
        client_host: e.client_host.clone(),
        replay_of: e.replay_of,
    })
}

/// Microseconds since the epoch; 0 when the date is missing or not RFC 3339. A date without
/// an offset (some exporters forget it) is read as UTC.
fn parse_started(s: &str) -> i64 {
    let s = s.trim();
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1000).ok())
        .unwrap_or(0)
}

/// `http/2.0` (Chrome), `h3`, `HTTP/2.0` (mitmproxy, Charles) → gomitm's own `HTTP/2`, `HTTP/3`.
fn version_name(v: &str) -> Label {
    let lower = v.trim().to_ascii_lowercase();
    match lower.as_str() {
        "http/2.0" | "http/2" | "h2" | "h2c" => "HTTP/2".into(),
        "http/1.1" => "HTTP/1.1".into(),
        "http/1.0" => "HTTP/1.0".into(),
        l if l == "h3" || l.starts_with("h3-") || l.starts_with("http/3") => "HTTP/3".into(),
        _ => v.to_string().into(),
    }
}

fn import_request(index: usize, e: &HarEntry, bodies: &Bodies) -> Result<Request, HarError> {
    let req = &e.request;
    let ext = e.gomitm.as_ref();
    let (data, full) = match &req.post_data {
        Some(p) => decode_body(
            &p.text,
            bodies.request_text,
            p.encoding.as_deref(),
            bodies.cap,
        )
        .map_err(|source| base64_error(index, e, "request postData", source))?,
        None => (Vec::new(), 0),
    };
    let flags = ext.map(|g| g.request_body.clone());
    Ok(Request {
        method: req.method.clone(),
        url: ext
            .and_then(|g| g.target.clone())
            .unwrap_or_else(|| req.url.clone()),
        http_version: match ext {
            Some(_) => req.http_version.clone(),
            None => version_name(&req.http_version),
        },
        headers: flow_headers(&req.headers),
        body: body_capture(data, full, req.body_size, flags, None),
    })
}

/// `None` for status 0: the placeholder for "no response" (gomitm, Chrome and mitmproxy agree).
fn import_response(
    index: usize,
    e: &HarEntry,
    bodies: &Bodies,
) -> Result<Option<Response>, HarError> {
    let resp = &e.response;
    if resp.status <= 0 {
        return Ok(None);
    }
    let content = &resp.content;
    let (data, full) = match &content.text {
        Some(text) => decode_body(
            text,
            bodies.response_text,
            content.encoding.as_deref(),
            bodies.cap,
        )
        .map_err(|source| base64_error(index, e, "response content", source))?,
        None => (Vec::new(), 0),
    };
    let flags = e.gomitm.as_ref().and_then(|g| g.response_body.clone());
    Ok(Some(Response {
        status: u16::try_from(resp.status).unwrap_or(u16::MAX),
        reason: resp.status_text.clone(),
        http_version: match &e.gomitm {
            Some(_) => resp.http_version.clone(),
            None => version_name(&resp.http_version),
        },
        headers: flow_headers(&resp.headers),
        body: body_capture(data, full, content.size, flags, content.truncated),
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

/// The body bytes (at most `cap`) and the full length of the body the text holds. `text` may
/// be a prefix of the whole text `whole` measures (`None`: it is whole). Base64 may be
/// wrapped across lines, unpadded or URL-safe; only the part that is kept is decoded.
fn decode_body(
    text: &str,
    whole: Option<TextStats>,
    encoding: Option<&str>,
    cap: usize,
) -> Result<(Vec<u8>, u64), base64::DecodeError> {
    let whole = whole.unwrap_or_else(|| TextStats::of(text));
    let is_base64 = encoding.is_some_and(|enc| enc.trim().eq_ignore_ascii_case("base64"));
    if !is_base64 {
        let bytes = text.as_bytes();
        return Ok((
            bytes.get(..cap).unwrap_or(bytes).to_vec(),
            whole.bytes as u64,
        ));
    }
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let full = whole.base64_chars * 3 / 4;
    // A multiple of 4 characters decodes to whole bytes, so a prefix decodes on its own.
    let take = if full > cap {
        cap.div_ceil(3).saturating_mul(4).min(clean.len())
    } else {
        clean.len()
    };
    let part = clean.get(..take).unwrap_or(&clean);
    let mut data = BASE64
        .decode(part)
        .or_else(|first| BASE64_URL.decode(part).map_err(|_| first))?;
    data.truncate(cap);
    Ok((data, full as u64))
}

/// `size` < 0 (unknown) or smaller than the text (it was measured compressed) → the text's size.
/// `full` is the length of the body in the text, of which `data` may be a capped prefix.
fn body_capture(
    data: Vec<u8>,
    full: u64,
    size: i64,
    flags: Option<BodyFlags>,
    truncated: Option<bool>,
) -> BodyCapture {
    let kept = data.len() as u64;
    let total = u64::try_from(size).unwrap_or(0).max(full).max(kept);
    let mut flags = flags.unwrap_or(BodyFlags {
        truncated: kept < full || truncated.unwrap_or(kept < total),
        complete: true,
    });
    // gomitm's own bodies are cut too once the import's budget is spent.
    flags.truncated |= kept < full;
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

fn import_connection(e: &HarEntry, extras: &Extras) -> ConnectionInfo {
    let connection = e.connection.as_deref().map(str::trim);
    // Chrome since 2023: `_connectionId` is the socket, `connection` the server's port.
    let (upstream_conn_id, port) = match &extras.connection_id {
        Some(id) => (
            id.trim().parse().ok(),
            connection.and_then(|c| c.parse::<u16>().ok()),
        ),
        None => (connection.and_then(|c| c.parse().ok()), None),
    };
    let server_ip = e
        .server_ip_address
        .as_deref()
        .and_then(|ip| server_addr(ip, port))
        .map(Shared::from);
    let Some(g) = e.gomitm.clone() else {
        return ConnectionInfo {
            upstream: std::sync::Arc::new(UpstreamConn {
                server_addr: server_ip,
                ..UpstreamConn::default()
            }),
            upstream_conn_id,
            ..ConnectionInfo::default()
        };
    };
    ConnectionInfo {
        upstream: std::sync::Arc::new(UpstreamConn {
            server_addr: g.server_addr.or(server_ip),
            tls_version: g.tls_version,
            alpn: g.alpn,
            tls_group: g.tls_group,
            insecure_upstream: g.insecure_upstream,
            via_upstream_proxy: g.via_upstream_proxy,
            server_cert: g.server_cert.map(std::sync::Arc::new),
        }),
        upstream_conn_id,
        reused: g.reused,
        client: std::sync::Arc::new(ClientTls {
            client_tls_version: g.client_tls_version,
            client_alpn: g.client_alpn,
            client_tls_group: g.client_tls_group,
            client_sni: g.client_sni,
        }),
        retried: g.retried,
    }
}

/// `serverIPAddress` as a server address: Chrome brackets IPv6 (`[2001:db8::1]`), some tools
/// add the port; with a known `port` the result is `ip:port` like gomitm's own.
fn server_addr(ip: &str, port: Option<u16>) -> Option<String> {
    let ip = ip.trim();
    if ip.is_empty() {
        return None;
    }
    let bare = match ip.strip_prefix('[') {
        Some(rest) if rest.ends_with(']') => rest.trim_end_matches(']'),
        Some(_) => return Some(ip.to_string()), // `[v6]:port` already
        None => ip,
    };
    Some(match (port, bare.contains(':')) {
        (None, _) => bare.to_string(),
        (Some(p), true) => format!("[{bare}]:{p}"),
        (Some(p), false) => format!("{bare}:{p}"),
    })
}

/// gomitm's `{class, message}` on the entry, else a foreign message on the response, else a
/// Charles status other than `COMPLETE`.
fn import_error(e: &HarEntry, extras: &Extras) -> Option<FlowError> {
    if let Some(error) = error_field(e) {
        return Some(error);
    }
    let status = extras.charles_status.as_deref()?.trim();
    if status.is_empty() || status.eq_ignore_ascii_case("complete") {
        return None;
    }
    Some(FlowError {
        class: classify_message(status),
        message: format!("Charles: {status}"),
    })
}

fn error_field(e: &HarEntry) -> Option<FlowError> {
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

#[cfg(test)]
#[path = "tests_import_foreign.rs"]
mod tests_foreign;

#[cfg(test)]
#[path = "tests_import_lenient.rs"]
mod tests_lenient;
