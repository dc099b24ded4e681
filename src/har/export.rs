//! Flows → HAR: one entry per flow in the order given, the timing rules (`connect` includes
//! `ssl`, `time` is the sum of the phases), bodies as text or base64. With redaction on, each
//! entry is written from `redact::redact_flow`'s copy (the rule every output shares); only the
//! HAR's own `cookies` lists, which have no counterpart in a flow, are redacted here.
//!
//! Pure: flows in, values out. The HAR shape belongs to `shape` and reading HARs to `import`;
//! the `Flow` definition belongs to `flow.rs` and is not changed from here.

use std::net::{IpAddr, SocketAddr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use time::macros::format_description;
use time::OffsetDateTime;

use super::error::HarError;
use super::options::HarOptions;
use super::shape::round3;
use super::shape::{
    BodyFlags, GomitmExt, GomitmTimings, Har, HarCache, HarContent, HarCreator, HarEntry,
    HarErrorField, HarLog, HarNameValue, HarPostData, HarRequest, HarResponse, HarTimings,
    HarTunnel,
};
use crate::flow::{
    header_value, url_host, BodyCapture, ErrorClass, Flow, FlowKind, Headers, Request, Response,
    Timings,
};
use crate::redact::{redact_flow, REDACTED};

/// Builds the HAR for `flows`, one entry each in the order given, failed flows included.
pub fn to_har<'a>(flows: impl IntoIterator<Item = &'a Flow>, opts: &HarOptions) -> Har {
    Har {
        log: HarLog {
            version: "1.2".into(),
            creator: HarCreator {
                name: "gomitm".into(),
                version: opts.creator_version.clone(),
                comment: None,
            },
            pages: Vec::new(),
            entries: flows
                .into_iter()
                .map(|f| {
                    if opts.redact {
                        // One flow's copy at a time: the export does not hold two captures.
                        entry(&redact_flow(f, &opts.extra_redact_headers), f, opts)
                    } else {
                        entry(f, f, opts)
                    }
                })
                .collect(),
            comment: None,
        },
    }
}

/// Pretty JSON, as written to `.har` files.
pub fn to_json(har: &Har) -> Result<String, HarError> {
    serde_json::to_string_pretty(har).map_err(HarError::Serialize)
}

/// The entry for `flow` (already redacted when that is asked for); `recorded` is the flow as
/// recorded, read only for the names in the `cookies` lists.
fn entry(flow: &Flow, recorded: &Flow, opts: &HarOptions) -> HarEntry {
    let mut timings = har_timings(&flow.timings);
    let rest = required(flow.timings.total_ms) - timings.total();
    if rest > 0.0 {
        if let Some(phase) = failed_phase(flow) {
            // A failed flow's elapsed time stays in `time`, in the phase that failed (a dns
            // lookup that failed after 1 ms is `dns: 1`), so other tools see where it went.
            timings.add_to(phase, round3(rest));
        } else if flow.kind == FlowKind::Tunnel && timings.receive == 0.0 {
            // A tunnel's bytes pass for as long as it is open; HAR's only phase for that is
            // `receive`, and `time` must say how long the tunnel ran, not how long it took to
            // dial.
            timings.receive = round3(rest);
        }
    }
    let mut response = flow
        .response
        .as_ref()
        .map_or_else(HarResponse::absent, |r| {
            let cookies_from = recorded.response.as_ref().unwrap_or(r);
            har_response(r, &cookies_from.headers, opts)
        });
    // Viewers built for Chrome's exports show a failure from here.
    response.error = flow
        .error
        .as_ref()
        .map(|e| HarErrorField::Message(e.message.clone()));
    HarEntry {
        pageref: None,
        started_date_time: format_started(flow.started_at_us),
        time: timings.total(),
        request: har_request(flow, &recorded.request.headers, opts),
        response,
        cache: HarCache {},
        timings,
        server_ip_address: flow
            .connection
            .upstream
            .server_addr
            .as_deref()
            .map(server_ip),
        connection: flow.connection.upstream_conn_id.map(|id| id.to_string()),
        comment: None,
        error: flow.error.as_ref().map(|e| HarErrorField::Classified {
            class: e.class.as_str().into(),
            message: e.message.clone(),
        }),
        tunnel: flow.tunnel.as_ref().map(|t| HarTunnel {
            bytes_up: t.bytes_up,
            bytes_down: t.bytes_down,
        }),
        gomitm: Some(gomitm_ext(flow)),
        go: flow.go.clone().map(|go| *go),
        tool: flow.tool.map(|t| t.as_str().to_string()),
        rules: flow.rules.clone(),
        mapped_to: flow.mapped_to.clone(),
        client_host: flow.client_host.clone(),
        replay_of: flow.replay_of,
    }
}

fn har_request(flow: &Flow, recorded_headers: &Headers, opts: &HarOptions) -> HarRequest {
    let req = &flow.request;
    let url = match flow.kind {
        FlowKind::Tunnel => tunnel_url(&req.url),
        FlowKind::Http => req.url.clone(),
    };
    HarRequest {
        method: req.method.clone(),
        query_string: query_params(&url),
        url,
        http_version: req.http_version.clone(),
        cookies: request_cookies(recorded_headers, opts),
        headers: har_headers(&req.headers),
        post_data: has_body(&req.body).then(|| post_data(req)),
        headers_size: -1,
        body_size: size(req.body.total),
        comment: None,
    }
}

fn post_data(req: &Request) -> HarPostData {
    let (text, encoding) = body_text(&req.body.data);
    HarPostData {
        mime_type: header_value(&req.headers, "content-type")
            .unwrap_or("")
            .to_string(),
        text,
        encoding,
    }
}

fn har_response(resp: &Response, recorded_headers: &Headers, opts: &HarOptions) -> HarResponse {
    let headers = har_headers(&resp.headers);
    // From the written headers, so a redacted Location stays redacted here too.
    let redirect_url = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("location"))
        .map_or_else(String::new, |h| h.value.clone());
    let body = &resp.body;
    let (text, encoding) = body_text(&body.data);
    HarResponse {
        status: resp.status.into(),
        status_text: resp.reason.clone(),
        http_version: resp.http_version.clone(),
        cookies: response_cookies(recorded_headers, opts),
        headers,
        content: HarContent {
            size: size(body.total),
            mime_type: header_value(&resp.headers, "content-type")
                .unwrap_or("")
                .to_string(),
            // `""` rather than no field for an empty body: some HAR libraries require `text`.
            text: Some(text),
            encoding: encoding.filter(|_| !body.data.is_empty()),
            truncated: body.truncated.then_some(true),
        },
        redirect_url,
        headers_size: -1,
        body_size: size(body.total),
        comment: None,
        error: None,
    }
}

fn har_timings(t: &Timings) -> HarTimings {
    let tls = phase(t.tls_ms);
    // HAR's connect covers the TLS handshake; the flow keeps them apart.
    let connect = match (phase(t.connect_ms), tls) {
        (Some(c), Some(s)) => Some(c + s),
        (c, s) => c.or(s),
    };
    HarTimings {
        blocked: optional(phase(t.blocked_ms)),
        dns: optional(phase(t.dns_ms)),
        connect: optional(connect),
        send: required(t.send_ms),
        wait: required(t.wait_ms),
        receive: required(t.receive_ms),
        ssl: optional(tls),
    }
}

impl HarTimings {
    /// HAR `time`: the sum of the phases that apply; `ssl` is already inside `connect`.
    fn total(&self) -> f64 {
        let phases = [
            self.blocked,
            self.dns,
            self.connect,
            self.send,
            self.wait,
            self.receive,
        ];
        round3(phases.iter().filter(|v| **v >= 0.0).sum())
    }
}

/// A HAR timing phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Dns,
    Connect,
    Ssl,
    Wait,
}

/// Where a failed flow's time went that no phase measured: the phase it failed in. Dialing
/// failures fail before any byte; an HTTP flow that failed without a response was waiting for
/// one. `None` for flows that did not fail, or whose other phases already account for it.
fn failed_phase(flow: &Flow) -> Option<Phase> {
    let class = flow.error.as_ref()?.class;
    match class {
        ErrorClass::Dns => Some(Phase::Dns),
        ErrorClass::Connect | ErrorClass::ConnectTimeout | ErrorClass::UpstreamProxy => {
            Some(Phase::Connect)
        }
        ErrorClass::UpstreamTls => Some(Phase::Ssl),
        _ if flow.kind == FlowKind::Http && flow.response.is_none() => Some(Phase::Wait),
        _ => None,
    }
}

impl HarTimings {
    /// `ms` more in `phase`; `ssl` is also counted in `connect`, as HAR 1.2 has it.
    fn add_to(&mut self, phase: Phase, ms: f64) {
        let more = |v: f64| round3(v.max(0.0) + ms);
        match phase {
            Phase::Dns => self.dns = more(self.dns),
            Phase::Connect => self.connect = more(self.connect),
            Phase::Ssl => {
                self.ssl = more(self.ssl);
                self.connect = more(self.connect);
            }
            Phase::Wait => self.wait = more(self.wait),
        }
    }
}

/// A usable duration: NaN, infinities and negatives would serialize as null or break `time`.
fn phase(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x >= 0.0)
}

fn optional(v: Option<f64>) -> f64 {
    v.map_or(-1.0, round3)
}

fn required(v: Option<f64>) -> f64 {
    phase(v).map_or(0.0, round3)
}

fn size(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn has_body(body: &BodyCapture) -> bool {
    body.total > 0 || !body.data.is_empty()
}

/// Text when the bytes are UTF-8, else base64 and the encoding name.
fn body_text(data: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(data) {
        Ok(s) => (s.to_string(), None),
        Err(_) => (BASE64.encode(data), Some("base64".into())),
    }
}

/// ISO 8601 in UTC with milliseconds, the form every HAR reader parses.
pub(super) fn format_started(us: i64) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

/// `serverIPAddress` is an IP without port (and without IPv6 brackets).
fn server_ip(addr: &str) -> String {
    if let Ok(sa) = addr.parse::<SocketAddr>() {
        return sa.ip().to_string();
    }
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return ip.to_string();
    }
    url_host(addr).to_string()
}

/// The proxy stores a tunnel's target as `host:port`; viewers want an absolute URL.
fn tunnel_url(target: &str) -> String {
    if target.contains("://") {
        target.to_string()
    } else {
        format!("https://{target}/")
    }
}

fn gomitm_ext(flow: &Flow) -> GomitmExt {
    let c = &flow.connection;
    GomitmExt {
        id: flow.id,
        kind: flow.kind,
        state: flow.state,
        started_at_us: flow.started_at_us,
        target: (flow.kind == FlowKind::Tunnel).then(|| flow.request.url.clone()),
        client_addr: flow.client_addr.clone(),
        timings: Some(GomitmTimings::from(&flow.timings)),
        server_addr: c.upstream.server_addr.clone(),
        reused: c.reused,
        tls_version: c.upstream.tls_version.clone(),
        alpn: c.upstream.alpn.clone(),
        tls_group: c.upstream.tls_group.clone(),
        client_tls_version: c.client.client_tls_version.clone(),
        client_alpn: c.client.client_alpn.clone(),
        client_tls_group: c.client.client_tls_group.clone(),
        client_sni: c.client.client_sni.clone(),
        insecure_upstream: c.upstream.insecure_upstream,
        via_upstream_proxy: c.upstream.via_upstream_proxy.clone(),
        server_cert: c.upstream.server_cert.as_deref().cloned(),
        retried: c.retried,
        request_body: BodyFlags::from(&flow.request.body),
        response_body: flow.response.as_ref().map(|r| BodyFlags::from(&r.body)),
    }
}

impl From<&Timings> for GomitmTimings {
    fn from(t: &Timings) -> Self {
        // Non-finite values would serialize as null; they carry no information anyway.
        let f = |v: Option<f64>| v.filter(|x| x.is_finite());
        GomitmTimings {
            blocked_ms: f(t.blocked_ms),
            dns_ms: f(t.dns_ms),
            connect_ms: f(t.connect_ms),
            tls_ms: f(t.tls_ms),
            send_ms: f(t.send_ms),
            wait_ms: f(t.wait_ms),
            receive_ms: f(t.receive_ms),
            client_tls_ms: f(t.client_tls_ms),
            total_ms: f(t.total_ms),
        }
    }
}

impl From<&BodyCapture> for BodyFlags {
    fn from(b: &BodyCapture) -> Self {
        BodyFlags {
            truncated: b.truncated,
            complete: b.complete,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers, cookies, query strings
// ---------------------------------------------------------------------------------------------

fn har_headers(headers: &Headers) -> Vec<HarNameValue> {
    headers
        .iter()
        .map(|(name, value)| HarNameValue {
            name: name.to_string(),
            value: value.to_string(),
        })
        .collect()
}

/// Name/value pairs of every Cookie header (h2 may split cookies over several headers).
fn request_cookies(headers: &Headers, opts: &HarOptions) -> Vec<HarNameValue> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| cookie_pair(pair, opts))
        .collect()
}

/// Name/value of each Set-Cookie; attributes (Path, Expires…) stay in the header.
fn response_cookies(headers: &Headers, opts: &HarOptions) -> Vec<HarNameValue> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .filter_map(|pair| cookie_pair(pair, opts))
        .collect()
}

fn cookie_pair(pair: &str, opts: &HarOptions) -> Option<HarNameValue> {
    let pair = pair.trim();
    if pair.is_empty() {
        return None;
    }
    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
    Some(HarNameValue {
        name: name.trim().to_string(),
        value: if opts.redact {
            REDACTED.to_string()
        } else {
            value.trim().to_string()
        },
    })
}

/// `queryString` from the URL, percent-decoded (`+` is kept: RFC 3986 gives it no meaning).
fn query_params(url: &str) -> Vec<HarNameValue> {
    let before_fragment = url.split('#').next().unwrap_or("");
    let Some((_, query)) = before_fragment.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            HarNameValue {
                name: percent_decode(name),
                value: percent_decode(value),
            }
        })
        .collect()
}

/// Decodes `%XX`; an invalid escape or non-UTF-8 result keeps the raw text.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => out.push(b),
            None => return s.to_string(),
        }
        i += 3;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
#[path = "tests_export.rs"]
mod tests;
#[cfg(test)]
#[path = "tests_redact.rs"]
mod tests_redact;
