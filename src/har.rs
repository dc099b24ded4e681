//! HAR 1.2 to and from flows: the HAR shape (one serde definition for export and import), the
//! timing rules, redaction of secrets, and tolerant import of HARs from other tools.
//!
//! Pure: strings and values in, strings and values out. Choosing paths and writing files belong
//! to `app`; the `Flow` definition belongs to `flow.rs` and is not changed from here.

use std::net::{IpAddr, SocketAddr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::flow::{
    header_value, url_host, BodyCapture, ConnectionInfo, ErrorClass, Flow, FlowError, FlowKind,
    FlowState, Headers, Request, Response, Timings, TunnelStats,
};

/// What a secret's value is replaced with.
pub const REDACTED: &str = "REDACTED";

/// Headers whose values are credentials, whatever the site.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

#[derive(Debug, thiserror::Error)]
pub enum HarError {
    #[error("not a valid har file")]
    Parse(#[source] serde_json::Error),
    #[error("cannot serialize har")]
    Serialize(#[source] serde_json::Error),
    #[error("har entry {entry} ({url}): {part} is marked base64 but does not decode")]
    Base64 {
        entry: usize,
        url: String,
        part: &'static str,
        #[source]
        source: base64::DecodeError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarOptions {
    /// Replace credentials (secret headers, cookies, URL userinfo) with [`REDACTED`].
    pub redact: bool,
    /// More header names to treat as secret, case-insensitive (for example `X-Api-Key`).
    pub extra_redact_headers: Vec<String>,
    pub creator_version: String,
}

impl Default for HarOptions {
    fn default() -> Self {
        HarOptions {
            redact: true,
            extra_redact_headers: Vec::new(),
            creator_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The HAR shape. `default`s and lenient number parsing are for import: other producers omit
// optional fields, write floats where the spec says integer, or `null` (stripped before
// parsing). Everything exported is always written, never null.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Har {
    pub log: HarLog,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarLog {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub creator: HarCreator,
    /// Always written empty: naive readers iterate `log.pages` without checking it exists.
    #[serde(default, skip_deserializing)]
    pub pages: Vec<serde_json::Value>,
    pub entries: Vec<HarEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HarCreator {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pageref: Option<String>,
    #[serde(default)]
    pub started_date_time: String,
    /// Missing on import means unknown (-1), not an instant request.
    #[serde(default = "unknown_ms")]
    pub time: f64,
    pub request: HarRequest,
    #[serde(default = "HarResponse::absent")]
    pub response: HarResponse,
    #[serde(default)]
    pub cache: HarCache,
    #[serde(default)]
    pub timings: HarTimings,
    #[serde(
        rename = "serverIPAddress",
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_ip_address: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub connection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(rename = "_error", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<HarErrorField>,
    #[serde(rename = "_tunnel", default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<HarTunnel>,
    #[serde(rename = "_gomitm", default, skip_serializing_if = "Option::is_none")]
    pub gomitm: Option<GomitmExt>,
}

/// `{name, value}`: headers, cookies and query parameters (extra cookie attributes are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HarNameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<HarNameValue>,
    #[serde(default)]
    pub headers: Vec<HarNameValue>,
    #[serde(default)]
    pub query_string: Vec<HarNameValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<HarPostData>,
    #[serde(default = "minus_one", deserialize_with = "lenient_int")]
    pub headers_size: i64,
    #[serde(default = "minus_one", deserialize_with = "lenient_int")]
    pub body_size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HarPostData {
    pub mime_type: String,
    pub text: String,
    /// HAR has no encoding field on postData; `"base64"` when `text` is base64 of binary bytes.
    #[serde(
        rename = "_encoding",
        alias = "encoding",
        skip_serializing_if = "Option::is_none"
    )]
    pub encoding: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarResponse {
    #[serde(default, deserialize_with = "lenient_int")]
    pub status: i64,
    #[serde(default)]
    pub status_text: String,
    #[serde(default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<HarNameValue>,
    #[serde(default)]
    pub headers: Vec<HarNameValue>,
    #[serde(default)]
    pub content: HarContent,
    #[serde(rename = "redirectURL", default)]
    pub redirect_url: String,
    #[serde(default = "minus_one", deserialize_with = "lenient_int")]
    pub headers_size: i64,
    #[serde(default = "minus_one", deserialize_with = "lenient_int")]
    pub body_size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The failure message, where Chrome and mitmproxy put theirs (gomitm's class is on the entry).
    #[serde(rename = "_error", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<HarErrorField>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HarContent {
    #[serde(deserialize_with = "lenient_int")]
    pub size: i64,
    pub mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// `Some(true)` when gomitm kept only a prefix of the body (`size` is still the full size).
    #[serde(rename = "_truncated", skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// Always `{}`: gomitm sees no browser cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HarCache {}

/// Milliseconds; -1 means "does not apply". `connect` includes `ssl` (HAR 1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HarTimings {
    pub blocked: f64,
    pub dns: f64,
    pub connect: f64,
    pub send: f64,
    pub wait: f64,
    pub receive: f64,
    pub ssl: f64,
}

impl Default for HarTimings {
    // Missing on import means unknown, not zero.
    fn default() -> Self {
        HarTimings {
            blocked: -1.0,
            dns: -1.0,
            connect: -1.0,
            send: -1.0,
            wait: -1.0,
            receive: -1.0,
            ssl: -1.0,
        }
    }
}

/// `_error`: gomitm writes `{class, message}`; Chrome and mitmproxy write a bare message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HarErrorField {
    Classified { class: String, message: String },
    Message(String),
    Other(serde_json::Value),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HarTunnel {
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// `_gomitm`: what HAR has no field for, so that gomitm's own HARs import without loss.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GomitmExt {
    pub id: u64,
    pub kind: FlowKind,
    /// State at export time; imported flows are always done (nothing will complete them).
    pub state: FlowState,
    pub started_at_us: i64,
    /// A tunnel's target as the proxy stored it (`host:port`); the entry URL is made absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_addr: Option<String>,
    /// The raw phases, unrounded, `connect` without `tls`, absent ones left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<GomitmTimings>,
    /// `ip:port` as dialled (`serverIPAddress` has no port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_addr: Option<String>,
    pub reused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_alpn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_sni: Option<String>,
    pub insecure_upstream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_upstream_proxy: Option<String>,
    pub request_body: BodyFlags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<BodyFlags>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GomitmTimings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_tls_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BodyFlags {
    pub truncated: bool,
    pub complete: bool,
}

fn minus_one() -> i64 {
    -1
}

fn unknown_ms() -> f64 {
    -1.0
}

/// Any JSON number as an integer: some producers write `1234.0` for sizes.
fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    // `as` saturates (and maps NaN to 0), which is what a size or status wants.
    f64::deserialize(d).map(|n| n as i64)
}

/// A string or a number (Firefox and others disagree on `connection`); anything else is dropped.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

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
            entries: flows.into_iter().map(|f| entry(f, opts)).collect(),
            comment: None,
        },
    }
}

/// Pretty JSON, as written to `.har` files.
pub fn to_json(har: &Har) -> Result<String, HarError> {
    serde_json::to_string_pretty(har).map_err(HarError::Serialize)
}

fn entry(flow: &Flow, opts: &HarOptions) -> HarEntry {
    let timings = har_timings(&flow.timings);
    let message = |e: &FlowError| {
        if opts.redact {
            redact_text(&e.message)
        } else {
            e.message.clone()
        }
    };
    let mut response = flow
        .response
        .as_ref()
        .map_or_else(HarResponse::absent, |r| har_response(r, opts));
    // Viewers built for Chrome's exports show a failure from here.
    response.error = flow
        .error
        .as_ref()
        .map(|e| HarErrorField::Message(message(e)));
    HarEntry {
        pageref: None,
        started_date_time: format_started(flow.started_at_us),
        time: timings.total(),
        request: har_request(flow, opts),
        response,
        cache: HarCache {},
        timings,
        server_ip_address: flow.connection.server_addr.as_deref().map(server_ip),
        connection: flow.connection.upstream_conn_id.map(|id| id.to_string()),
        comment: None,
        error: flow.error.as_ref().map(|e| HarErrorField::Classified {
            class: e.class.as_str().into(),
            message: message(e),
        }),
        tunnel: flow.tunnel.as_ref().map(|t| HarTunnel {
            bytes_up: t.bytes_up,
            bytes_down: t.bytes_down,
        }),
        gomitm: Some(gomitm_ext(flow, opts)),
    }
}

fn har_request(flow: &Flow, opts: &HarOptions) -> HarRequest {
    let req = &flow.request;
    let url = match flow.kind {
        FlowKind::Tunnel => tunnel_url(&req.url),
        FlowKind::Http => req.url.clone(),
    };
    let url = if opts.redact { redact_url(&url) } else { url };
    HarRequest {
        method: req.method.clone(),
        query_string: query_params(&url),
        url,
        http_version: req.http_version.clone(),
        cookies: request_cookies(&req.headers, opts),
        headers: har_headers(&req.headers, opts),
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

fn har_response(resp: &Response, opts: &HarOptions) -> HarResponse {
    let headers = har_headers(&resp.headers, opts);
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
        cookies: response_cookies(&resp.headers, opts),
        headers,
        content: HarContent {
            size: size(body.total),
            mime_type: header_value(&resp.headers, "content-type")
                .unwrap_or("")
                .to_string(),
            text: (!body.data.is_empty()).then_some(text),
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

impl HarResponse {
    /// The placeholder for a flow that failed before any response: HAR requires the object.
    fn absent() -> HarResponse {
        HarResponse {
            status: 0,
            status_text: String::new(),
            http_version: String::new(),
            cookies: Vec::new(),
            headers: Vec::new(),
            content: HarContent::default(),
            redirect_url: String::new(),
            headers_size: -1,
            // The spec's "-1 if the info is not available".
            body_size: -1,
            comment: None,
            error: None,
        }
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
        blocked: -1.0,
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

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
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
fn format_started(us: i64) -> String {
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

fn gomitm_ext(flow: &Flow, opts: &HarOptions) -> GomitmExt {
    let c = &flow.connection;
    let url = |u: &str| {
        if opts.redact {
            redact_url(u)
        } else {
            u.to_string()
        }
    };
    GomitmExt {
        id: flow.id,
        kind: flow.kind,
        state: flow.state,
        started_at_us: flow.started_at_us,
        target: (flow.kind == FlowKind::Tunnel).then(|| url(&flow.request.url)),
        client_addr: flow.client_addr.clone(),
        timings: Some(GomitmTimings::from(&flow.timings)),
        server_addr: c.server_addr.clone(),
        reused: c.reused,
        tls_version: c.tls_version.clone(),
        alpn: c.alpn.clone(),
        client_tls_version: c.client_tls_version.clone(),
        client_alpn: c.client_alpn.clone(),
        client_sni: c.client_sni.clone(),
        insecure_upstream: c.insecure_upstream,
        // An upstream proxy URL may carry its own credentials.
        via_upstream_proxy: c.via_upstream_proxy.as_deref().map(url),
        request_body: BodyFlags::from(&flow.request.body),
        response_body: flow.response.as_ref().map(|r| BodyFlags::from(&r.body)),
    }
}

impl From<&Timings> for GomitmTimings {
    fn from(t: &Timings) -> Self {
        // Non-finite values would serialize as null; they carry no information anyway.
        let f = |v: Option<f64>| v.filter(|x| x.is_finite());
        GomitmTimings {
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

impl From<GomitmTimings> for Timings {
    fn from(t: GomitmTimings) -> Self {
        Timings {
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

impl From<&BodyCapture> for BodyFlags {
    fn from(b: &BodyCapture) -> Self {
        BodyFlags {
            truncated: b.truncated,
            complete: b.complete,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers, cookies, query strings, redaction
// ---------------------------------------------------------------------------------------------

/// Authorization, Proxy-Authorization, Cookie, Set-Cookie, or one of `extra`; any case.
pub fn is_secret_header(name: &str, extra: &[String]) -> bool {
    SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))
        || extra.iter().any(|s| name.eq_ignore_ascii_case(s.trim()))
}

/// `https://user:pass@host/x` → `https://REDACTED@host/x`; URLs without userinfo are unchanged.
pub fn redact_url(url: &str) -> String {
    let rest_at = match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => i + 3,
        _ if url.starts_with("//") => 2,
        // Authority-form (`user@host:port`, a CONNECT target) or a relative reference.
        _ => 0,
    };
    let rest = &url[rest_at..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{REDACTED}{}", &url[..rest_at], &rest[at..]),
        None => url.to_string(),
    }
}

/// Userinfo of every `scheme://user@host` inside prose: error messages quote proxy URLs.
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || "/?#\"'<>".contains(c))
            .unwrap_or(tail.len());
        rest = match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                &tail[at..]
            }
            None => tail,
        };
    }
    out.push_str(rest);
    out
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn har_headers(headers: &Headers, opts: &HarOptions) -> Vec<HarNameValue> {
    headers
        .iter()
        .map(|(name, value)| HarNameValue {
            name: name.clone(),
            value: header_for_har(name, value, opts),
        })
        .collect()
}

fn header_for_har(name: &str, value: &str, opts: &HarOptions) -> String {
    if !opts.redact {
        value.to_string()
    } else if is_secret_header(name, &opts.extra_redact_headers) {
        REDACTED.to_string()
    } else if name.eq_ignore_ascii_case("location") {
        redact_url(value)
    } else {
        value.to_string()
    }
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

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use serde_json::{json, Value};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn verbatim() -> HarOptions {
        HarOptions {
            redact: false,
            ..HarOptions::default()
        }
    }

    fn export(flows: &[Flow], opts: &HarOptions) -> Result<Value, Box<dyn std::error::Error>> {
        Ok(serde_json::from_str(&to_json(&to_har(flows, opts))?)?)
    }

    fn nulls(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Null => out.push(path.to_string()),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    nulls(item, &format!("{path}[{i}]"), out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    nulls(item, &format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }

    fn full_timings() -> Timings {
        Timings {
            dns_ms: Some(1.5),
            connect_ms: Some(10.25),
            tls_ms: Some(20.125),
            send_ms: Some(0.5),
            wait_ms: Some(30.0),
            receive_ms: Some(2.0),
            client_tls_ms: Some(3.0),
            total_ms: Some(70.0),
        }
    }

    fn success_flow() -> Flow {
        let mut f = FlowBuilder::get("https://proxy.golang.org/golang.org/x/mod/@v/list")
            .id(1)
            .req_header("User-Agent", "Go-http-client/2.0")
            .status(200, b"v0.1.0\nv0.2.0\n")
            .resp_header("Content-Type", "text/plain; charset=utf-8")
            .timings(full_timings())
            .build();
        f.client_addr = Some("127.0.0.1:50123".into());
        f.connection = ConnectionInfo {
            server_addr: Some("142.250.74.113:443".into()),
            upstream_conn_id: Some(7),
            reused: false,
            tls_version: Some("TLSv1.3".into()),
            alpn: Some("h2".into()),
            client_tls_version: Some("TLSv1.3".into()),
            client_alpn: Some("h2".into()),
            client_sni: Some("proxy.golang.org".into()),
            insecure_upstream: true,
            via_upstream_proxy: Some("http://corp-proxy.test:3128".into()),
        };
        if let Some(r) = f.response.as_mut() {
            r.reason = "OK".into();
        }
        f
    }

    fn failed_flow() -> Flow {
        FlowBuilder::get("https://nope.invalid/x/@v/list")
            .id(2)
            .error(ErrorClass::Dns, "lookup nope.invalid: no such host")
            .timings(Timings {
                dns_ms: Some(12.0),
                total_ms: Some(12.0),
                ..Timings::default()
            })
            .build()
    }

    fn tunnel_flow() -> Flow {
        FlowBuilder::get("git.test:443")
            .id(3)
            .tunnel(1200, 34000)
            .timings(Timings {
                dns_ms: Some(1.0),
                connect_ms: Some(2.0),
                total_ms: Some(5000.0),
                ..Timings::default()
            })
            .build()
    }

    #[test]
    fn required_fields_are_present_and_never_null() -> TestResult {
        for flow in [success_flow(), failed_flow(), tunnel_flow()] {
            let har = export(std::slice::from_ref(&flow), &HarOptions::default())?;
            let mut found = Vec::new();
            nulls(&har, "", &mut found);
            assert!(found.is_empty(), "flow {}: nulls at {found:?}", flow.id);
            assert_eq!(har["log"]["version"], "1.2");
            assert_eq!(har["log"]["creator"]["name"], "gomitm");
            assert!(har["log"]["creator"]["version"].is_string());
            let e = &har["log"]["entries"][0];
            for key in [
                "startedDateTime",
                "time",
                "request",
                "response",
                "cache",
                "timings",
            ] {
                assert!(
                    e.get(key).is_some(),
                    "flow {}: entry.{key} missing",
                    flow.id
                );
            }
            assert_eq!(e["startedDateTime"], "2023-11-14T22:13:20.000Z");
            assert_eq!(e["cache"], json!({}));
            let time = e["time"].as_f64().ok_or("time is not a number")?;
            assert!(time >= 0.0, "flow {}: time {time}", flow.id);
            for key in [
                "method",
                "url",
                "httpVersion",
                "cookies",
                "headers",
                "queryString",
                "headersSize",
                "bodySize",
            ] {
                assert!(e["request"].get(key).is_some(), "request.{key} missing");
            }
            for key in [
                "status",
                "statusText",
                "httpVersion",
                "cookies",
                "headers",
                "content",
                "redirectURL",
                "headersSize",
                "bodySize",
            ] {
                assert!(e["response"].get(key).is_some(), "response.{key} missing");
            }
            assert!(e["response"]["content"]["size"].is_i64());
            assert!(e["response"]["content"]["mimeType"].is_string());
            for key in ["send", "wait", "receive"] {
                let v = e["timings"][key].as_f64().ok_or("timing is not a number")?;
                assert!(v >= 0.0, "flow {}: timings.{key} = {v}", flow.id);
            }
            assert!(e["_gomitm"].is_object());
        }
        Ok(())
    }

    #[test]
    fn failed_flow_gets_the_placeholder_response_and_its_error() -> TestResult {
        let har = export(&[failed_flow()], &HarOptions::default())?;
        let e = &har["log"]["entries"][0];
        assert_eq!(
            e["response"],
            json!({
                "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                "headersSize": -1, "bodySize": -1,
                "_error": "lookup nope.invalid: no such host"
            })
        );
        assert_eq!(
            e["_error"],
            json!({"class": "dns", "message": "lookup nope.invalid: no such host"})
        );
        assert_eq!(
            e["timings"],
            json!({"blocked": -1.0, "dns": 12.0, "connect": -1.0, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": -1.0})
        );
        assert_eq!(e["time"], 12.0);
        assert!(e.get("serverIPAddress").is_none() && e.get("connection").is_none());
        assert!(e["request"].get("postData").is_none());
        assert_eq!(e["request"]["bodySize"], 0);
        Ok(())
    }

    #[test]
    fn tunnel_is_a_connect_entry_with_an_absolute_url_and_byte_counts() -> TestResult {
        let har = export(&[tunnel_flow()], &HarOptions::default())?;
        let e = &har["log"]["entries"][0];
        assert_eq!(e["request"]["method"], "CONNECT");
        assert_eq!(e["request"]["url"], "https://git.test:443/");
        assert_eq!(e["_tunnel"], json!({"bytesUp": 1200, "bytesDown": 34000}));
        assert_eq!(e["_gomitm"]["kind"], "tunnel");
        assert_eq!(e["_gomitm"]["target"], "git.test:443");
        assert_eq!(e["time"], 3.0);
        assert_eq!(tunnel_url("https://x.test:8443/"), "https://x.test:8443/");
        Ok(())
    }

    #[test]
    fn success_entry_carries_connection_and_gomitm_details() -> TestResult {
        let har = export(&[success_flow()], &verbatim())?;
        let e = &har["log"]["entries"][0];
        assert_eq!(e["serverIPAddress"], "142.250.74.113");
        assert_eq!(e["connection"], "7");
        assert_eq!(e["response"]["status"], 200);
        assert_eq!(e["response"]["statusText"], "OK");
        assert_eq!(e["response"]["content"]["text"], "v0.1.0\nv0.2.0\n");
        assert_eq!(
            e["response"]["content"]["mimeType"],
            "text/plain; charset=utf-8"
        );
        assert!(e["response"]["content"].get("encoding").is_none());
        let g = &e["_gomitm"];
        assert_eq!(g["id"], 1);
        assert_eq!(g["state"], "done");
        assert_eq!(g["clientAddr"], "127.0.0.1:50123");
        assert_eq!(g["timings"]["tlsMs"], 20.125);
        assert_eq!(g["timings"]["connectMs"], 10.25);
        assert_eq!(g["timings"]["clientTlsMs"], 3.0);
        assert_eq!(g["timings"]["totalMs"], 70.0);
        assert_eq!(g["tlsVersion"], "TLSv1.3");
        assert_eq!(g["clientSni"], "proxy.golang.org");
        assert_eq!(g["insecureUpstream"], true);
        assert_eq!(g["reused"], false);
        assert_eq!(
            g["responseBody"],
            json!({"truncated": false, "complete": true})
        );
        assert_eq!(server_ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(server_ip("10.0.0.1"), "10.0.0.1");
        Ok(())
    }

    #[test]
    fn time_is_the_sum_of_phases_and_connect_includes_ssl() -> TestResult {
        type Case = (Option<f64>, Option<f64>, Option<f64>, Option<f64>, [f64; 4]);
        // dns, connect, tls, wait → [har dns, har connect, har ssl, time]; send 1, receive 2.
        let cases: [Case; 6] = [
            (
                Some(1.5),
                Some(10.25),
                Some(20.125),
                Some(30.0),
                [1.5, 30.375, 20.125, 64.875],
            ),
            (None, None, Some(5.0), Some(4.0), [-1.0, 5.0, 5.0, 12.0]),
            (None, Some(7.0), None, Some(4.0), [-1.0, 7.0, -1.0, 14.0]),
            (None, None, None, Some(4.0), [-1.0, -1.0, -1.0, 7.0]),
            (
                Some(-3.0),
                Some(f64::NAN),
                None,
                None,
                [-1.0, -1.0, -1.0, 3.0],
            ),
            (
                Some(1.23456),
                Some(0.0004),
                Some(0.0004),
                Some(0.1),
                [1.235, 0.001, 0.0, 4.336],
            ),
        ];
        for (dns, connect, tls, wait, want) in cases {
            let flow = FlowBuilder::get("https://a.test/")
                .timings(Timings {
                    dns_ms: dns,
                    connect_ms: connect,
                    tls_ms: tls,
                    send_ms: Some(1.0),
                    wait_ms: wait,
                    receive_ms: Some(2.0),
                    ..Timings::default()
                })
                .build();
            let har = export(&[flow], &verbatim())?;
            let e = &har["log"]["entries"][0];
            let t = &e["timings"];
            let got = [&t["dns"], &t["connect"], &t["ssl"], &e["time"]].map(|v| v.as_f64());
            assert_eq!(
                got,
                want.map(Some),
                "case {dns:?} {connect:?} {tls:?} {wait:?}"
            );
            let phases = ["blocked", "dns", "connect", "send", "wait", "receive"];
            let sum: f64 = phases
                .iter()
                .filter_map(|k| t[*k].as_f64())
                .filter(|v| *v >= 0.0)
                .sum();
            assert!(
                (sum - want[3]).abs() < 1e-9,
                "sum {sum} vs time {}",
                want[3]
            );
            assert_eq!(t["blocked"], -1.0);
        }
        Ok(())
    }

    const SECRETS: [&str; 8] = [
        "Bearer tok-auth-1",
        "Basic cHJveHk6c2VjcmV0",
        "sess-cookie-2",
        "pref-cookie-3",
        "api-key-4",
        "set-cookie-5",
        "url-pass-6",
        "loc-pass-7",
    ];

    fn secret_flow() -> Flow {
        let mut f = FlowBuilder::get("https://alice:url-pass-6@corp.test/mod/@v/list?go-get=1")
            .req_header("Authorization", SECRETS[0])
            .req_header("proxy-authorization", SECRETS[1])
            .req_header("Cookie", "sess=sess-cookie-2; pref=pref-cookie-3")
            .req_header("X-Api-Key", SECRETS[4])
            .req_header("User-Agent", "Go-http-client/2.0")
            .status(302, b"")
            .resp_header("Set-Cookie", "sid=set-cookie-5; Path=/; HttpOnly")
            .resp_header("Location", "https://bob:loc-pass-7@mirror.test/x")
            .error(
                ErrorClass::UpstreamProxy,
                "proxy http://carol:url-pass-6@proxy.test:3128 refused CONNECT",
            )
            .build();
        f.connection.via_upstream_proxy = Some("http://carol:url-pass-6@proxy.test:3128".into());
        f
    }

    #[test]
    fn redaction_hides_every_secret_and_keeps_the_rest() -> TestResult {
        let opts = HarOptions {
            extra_redact_headers: vec!["x-api-KEY".into()],
            ..HarOptions::default()
        };
        let text = to_json(&to_har([&secret_flow()], &opts))?;
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        let har: Value = serde_json::from_str(&text)?;
        let e = &har["log"]["entries"][0];
        let req = &e["request"];
        assert_eq!(
            req["url"],
            "https://REDACTED@corp.test/mod/@v/list?go-get=1"
        );
        let values: Vec<&Value> = req["headers"]
            .as_array()
            .ok_or("headers")?
            .iter()
            .map(|h| &h["value"])
            .collect();
        assert_eq!(
            values,
            [REDACTED, REDACTED, REDACTED, REDACTED, "Go-http-client/2.0"]
        );
        assert_eq!(
            req["cookies"],
            json!([{"name": "sess", "value": REDACTED}, {"name": "pref", "value": REDACTED}])
        );
        assert_eq!(
            req["queryString"],
            json!([{"name": "go-get", "value": "1"}])
        );
        let resp = &e["response"];
        assert_eq!(resp["cookies"], json!([{"name": "sid", "value": REDACTED}]));
        assert_eq!(resp["headers"][0]["value"], REDACTED);
        assert_eq!(
            resp["headers"][1]["value"],
            "https://REDACTED@mirror.test/x"
        );
        assert_eq!(resp["redirectURL"], "https://REDACTED@mirror.test/x");
        assert_eq!(
            e["_gomitm"]["viaUpstreamProxy"],
            "http://REDACTED@proxy.test:3128"
        );
        let message = "proxy http://REDACTED@proxy.test:3128 refused CONNECT";
        assert_eq!(e["_error"]["message"], message);
        assert_eq!(resp["_error"], message);
        Ok(())
    }

    #[test]
    fn without_redaction_everything_is_verbatim() -> TestResult {
        let text = to_json(&to_har([&secret_flow()], &verbatim()))?;
        for secret in SECRETS {
            assert!(text.contains(secret), "{secret} missing");
        }
        assert!(!text.contains(REDACTED));
        let har: Value = serde_json::from_str(&text)?;
        let e = &har["log"]["entries"][0];
        assert_eq!(
            e["request"]["cookies"],
            json!([{"name": "sess", "value": "sess-cookie-2"},
                   {"name": "pref", "value": "pref-cookie-3"}])
        );
        assert_eq!(
            e["response"]["cookies"],
            json!([{"name": "sid", "value": "set-cookie-5"}])
        );
        assert_eq!(
            e["response"]["redirectURL"],
            "https://bob:loc-pass-7@mirror.test/x"
        );
        Ok(())
    }

    #[test]
    fn redact_url_replaces_only_userinfo() {
        for (url, want) in [
            (
                "https://user:pass@host.test/p?q=1",
                "https://REDACTED@host.test/p?q=1",
            ),
            ("https://token@host.test", "https://REDACTED@host.test"),
            ("http://u:p@[::1]:8080/", "http://REDACTED@[::1]:8080/"),
            ("https://host.test/a@b", "https://host.test/a@b"),
            ("https://host.test/?next=u@x", "https://host.test/?next=u@x"),
            ("https://host.test/p", "https://host.test/p"),
            ("//u:p@host.test/", "//REDACTED@host.test/"),
            ("u:p@git.test:443", "REDACTED@git.test:443"),
            ("/relative?a=http://u:p@x", "/relative?a=http://u:p@x"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn redact_text_finds_urls_inside_prose() {
        for (text, want) in [
            (
                "dial \"https://u:p@a.test:8443/x\" then http://t@b.test: refused",
                "dial \"https://REDACTED@a.test:8443/x\" then http://REDACTED@b.test: refused",
            ),
            (
                "mail bob@example.com at http://c.test/",
                "mail bob@example.com at http://c.test/",
            ),
            ("trailing ://", "trailing ://"),
            ("", ""),
        ] {
            assert_eq!(redact_text(text), want, "{text}");
        }
    }

    #[test]
    fn secret_headers_are_matched_case_insensitively() {
        let extra = vec!["X-Goog-Auth".to_string()];
        for name in [
            "Authorization",
            "PROXY-AUTHORIZATION",
            "cookie",
            "Set-Cookie",
            "x-goog-auth",
        ] {
            assert!(is_secret_header(name, &extra), "{name}");
        }
        for name in ["User-Agent", "Location", "X-Cookie-Hint", "Authorizations"] {
            assert!(!is_secret_header(name, &extra), "{name}");
        }
        assert!(!is_secret_header("x-goog-auth", &[]));
    }

    #[test]
    fn binary_bodies_are_base64_with_their_encoding() -> TestResult {
        let flow = FlowBuilder::get("https://a.test/upload")
            .method("POST")
            .req_header("Content-Type", "application/octet-stream")
            .req_body(&[0xff, 0x00, 0x10])
            .status(200, &[0, 159, 255, 1])
            .build();
        let text_flow = FlowBuilder::get("https://a.test/form")
            .method("POST")
            .req_body(b"a=1")
            .status(200, b"ok")
            .build();
        let har = export(&[flow, text_flow], &verbatim())?;
        let bin = &har["log"]["entries"][0];
        assert_eq!(
            bin["response"]["content"],
            json!({"size": 4, "mimeType": "", "text": "AJ//AQ==", "encoding": "base64"})
        );
        assert_eq!(
            bin["request"]["postData"],
            json!({"mimeType": "application/octet-stream", "text": "/wAQ", "_encoding": "base64"})
        );
        assert_eq!(bin["request"]["bodySize"], 3);
        let txt = &har["log"]["entries"][1];
        assert_eq!(
            txt["request"]["postData"],
            json!({"mimeType": "", "text": "a=1"})
        );
        assert_eq!(
            txt["response"]["content"],
            json!({"size": 2, "mimeType": "", "text": "ok"})
        );
        Ok(())
    }

    #[test]
    fn truncated_body_reports_the_true_size() -> TestResult {
        let mut flow = FlowBuilder::get("https://a.test/big.zip")
            .status(200, b"PK\x03\x04")
            .build();
        if let Some(r) = flow.response.as_mut() {
            r.body.total = 5_000_000;
            r.body.truncated = true;
        }
        let har = export(&[flow, success_flow()], &verbatim())?;
        let content = &har["log"]["entries"][0]["response"]["content"];
        assert_eq!(content["size"], 5_000_000);
        assert_eq!(content["_truncated"], true);
        assert_eq!(content["text"], "PK\u{3}\u{4}");
        assert_eq!(har["log"]["entries"][0]["response"]["bodySize"], 5_000_000);
        let whole = &har["log"]["entries"][1]["response"]["content"];
        assert!(whole.get("_truncated").is_none());
        Ok(())
    }

    #[test]
    fn query_string_is_percent_decoded() {
        let got = query_params(
            "https://h.test/p?go-get=1&q=a%20b&plus=a+b&bad=%zz&empty&utf=%C3%A9&bin=%FF&&x=%2#frag",
        );
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("go-get", "1"),
                ("q", "a b"),
                ("plus", "a+b"),
                ("bad", "%zz"),
                ("empty", ""),
                ("utf", "é"),
                ("bin", "%FF"),
                ("x", "%2"),
            ]
        );
        assert!(query_params("https://h.test/p#a?b=1").is_empty());
        assert!(query_params("https://h.test/p").is_empty());
    }

    fn detailed_flows() -> Vec<Flow> {
        let mut truncated = success_flow();
        truncated.id = 10;
        truncated.timings.wait_ms = Some(30.123_456_789);
        if let Some(r) = truncated.response.as_mut() {
            r.body.total = 1_000_000;
            r.body.truncated = true;
            r.headers.push(("Set-Cookie".into(), "a=b; Path=/".into()));
        }
        let mut upload = FlowBuilder::get("https://u:p@a.test/upload?x=%41")
            .id(11)
            .method("POST")
            .req_header("Authorization", "Bearer t")
            .req_body(&[0xff, 0xfe, 0x00])
            .status(502, &[0x80])
            .error(ErrorClass::UpstreamReset, "connection reset by peer")
            .build();
        upload.request.body.complete = false;
        if let Some(r) = upload.response.as_mut() {
            r.body.complete = false;
            r.http_version = "HTTP/1.1".into();
        }
        upload.connection.reused = true;
        upload.connection.upstream_conn_id = Some(3);
        upload.connection.server_addr = Some("[2001:db8::1]:443".into());
        vec![truncated, failed_flow(), upload, tunnel_flow()]
    }

    #[test]
    fn gomitm_har_round_trips_to_the_same_flows() -> TestResult {
        let flows = detailed_flows();
        let back = from_json(&to_json(&to_har(&flows, &verbatim()))?)?;
        assert_eq!(back.len(), flows.len());
        for (got, want) in back.iter().zip(&flows) {
            assert_eq!(got, want, "flow {}", want.id);
        }
        Ok(())
    }

    #[test]
    fn redacted_round_trip_differs_only_in_secrets() -> TestResult {
        let flows = detailed_flows();
        let back = from_json(&to_json(&to_har(&flows, &HarOptions::default()))?)?;
        let mut want = flows.clone();
        if let Some(r) = want[0].response.as_mut() {
            r.headers[1].1 = REDACTED.into();
        }
        want[2].request.url = "https://REDACTED@a.test/upload?x=%41".into();
        want[2].request.headers[0].1 = REDACTED.into();
        assert_eq!(back, want);
        Ok(())
    }

    #[test]
    fn in_flight_flows_import_as_done() -> TestResult {
        let mut flow = success_flow();
        flow.state = FlowState::InFlight;
        let har = export(std::slice::from_ref(&flow), &verbatim())?;
        assert_eq!(har["log"]["entries"][0]["_gomitm"]["state"], "in_flight");
        let back = from_json(&har.to_string())?;
        assert_eq!(back[0].state, FlowState::Done);
        Ok(())
    }

    /// Shaped like Chrome DevTools' "Save all as HAR with content".
    const CHROME_HAR: &str = r#"{
      "log": {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [{"startedDateTime": "2024-03-05T10:15:30.100Z", "id": "page_1",
                   "title": "https://pkg.go.dev/", "pageTimings": {"onContentLoad": 512.3, "onLoad": 901.7}}],
        "entries": [
          {
            "_initiator": {"type": "other"},
            "_priority": "VeryHigh",
            "_resourceType": "document",
            "cache": {},
            "connection": "241013",
            "pageref": "page_1",
            "request": {
              "method": "GET",
              "url": "https://pkg.go.dev/golang.org/x/mod?tab=versions",
              "httpVersion": "http/2.0",
              "headers": [{"name": ":authority", "value": "pkg.go.dev"},
                          {"name": "accept", "value": "text/html"}],
              "queryString": [{"name": "tab", "value": "versions"}],
              "cookies": [{"name": "x", "value": "y", "path": "/", "domain": ".go.dev",
                           "expires": "2025-01-01T00:00:00.000Z", "httpOnly": false, "secure": true}],
              "headersSize": -1,
              "bodySize": 0
            },
            "response": {
              "status": 200,
              "statusText": "",
              "httpVersion": "http/2.0",
              "headers": [{"name": "content-type", "value": "text/html; charset=utf-8"}],
              "cookies": [],
              "content": {"size": 6, "mimeType": "text/html", "compression": -12,
                          "text": "PGh0bWw+", "encoding": "base64"},
              "redirectURL": "",
              "headersSize": -1,
              "bodySize": 18,
              "_transferSize": 1234,
              "_error": null,
              "_fetchedViaServiceWorker": false
            },
            "serverIPAddress": "[2001:db8::1]",
            "startedDateTime": "2024-03-05T10:15:30.123Z",
            "time": 160.25,
            "timings": {"blocked": 2.5, "dns": 10, "ssl": 40, "connect": 60.5, "send": 0.25,
                        "wait": 80, "receive": 7, "_blocked_queueing": 1.2, "_workerStart": -1}
          },
          {
            "_resourceType": "fetch",
            "cache": {},
            "request": {"method": "GET", "url": "https://nope.invalid/", "httpVersion": "",
                        "headers": [], "queryString": [], "cookies": [], "headersSize": -1,
                        "bodySize": 0},
            "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [],
                         "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1,
                         "_transferSize": 0, "_error": "net::ERR_NAME_NOT_RESOLVED"},
            "serverIPAddress": "",
            "startedDateTime": "2024-03-05T10:15:31.000Z",
            "time": 3.1,
            "timings": {"blocked": 3.1, "dns": -1, "ssl": -1, "connect": -1, "send": 0,
                        "wait": 0, "receive": 0, "_blocked_queueing": -1}
          }
        ]
      }
    }"#;

    #[test]
    fn imports_a_chrome_devtools_har() -> TestResult {
        let flows = from_json(CHROME_HAR)?;
        assert_eq!(flows.len(), 2);
        let ok = &flows[0];
        assert_eq!(
            (ok.id, ok.kind, ok.state),
            (1, FlowKind::Http, FlowState::Done)
        );
        assert_eq!(ok.request.method, "GET");
        assert_eq!(
            ok.request.url,
            "https://pkg.go.dev/golang.org/x/mod?tab=versions"
        );
        assert_eq!(ok.request.headers[1], ("accept".into(), "text/html".into()));
        assert_eq!(ok.started_at_us, 1_709_633_730_123_000);
        let resp = ok.response.as_ref().ok_or("no response")?;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.data, b"<html>");
        assert_eq!((resp.body.total, resp.body.truncated), (6, false));
        let t = &ok.timings;
        assert_eq!(t.dns_ms, Some(10.0));
        assert_eq!(t.connect_ms, Some(20.5), "ssl is taken out of connect");
        assert_eq!(t.tls_ms, Some(40.0));
        assert_eq!(
            (t.send_ms, t.wait_ms, t.receive_ms),
            (Some(0.25), Some(80.0), Some(7.0))
        );
        assert_eq!(t.total_ms, Some(160.25));
        assert_eq!(ok.connection.server_addr.as_deref(), Some("2001:db8::1"));
        assert_eq!(ok.connection.upstream_conn_id, Some(241_013));
        assert_eq!(ok.error, None);

        let failed = &flows[1];
        assert_eq!(failed.id, 2);
        assert_eq!(failed.response, None);
        assert_eq!(failed.connection.server_addr, None);
        assert_eq!(
            (failed.timings.dns_ms, failed.timings.connect_ms),
            (None, None)
        );
        assert_eq!(failed.timings.send_ms, Some(0.0));
        let err = failed.error.as_ref().ok_or("no error")?;
        assert_eq!(err.class, ErrorClass::Dns);
        assert_eq!(err.message, "net::ERR_NAME_NOT_RESOLVED");
        Ok(())
    }

    /// Shaped like mitmproxy's `save.har` (addons/savehar.py): nulls, `content: {}`, ssl
    /// outside connect, isoformat dates.
    const MITMPROXY_HAR: &str = r#"{
      "log": {
        "version": "1.2",
        "creator": {"name": "mitmproxy exporthar", "version": "0.1",
                    "comment": "mitmproxy version 10.1.5"},
        "pages": [],
        "entries": [
          {
            "startedDateTime": "2024-03-05T10:15:30.250000+00:00",
            "time": 120.5,
            "request": {
              "method": "POST",
              "url": "https://sum.golang.org/lookup/golang.org/x/mod@v0.14.0",
              "httpVersion": "HTTP/1.1",
              "cookies": [],
              "headers": [{"name": "Host", "value": "sum.golang.org"},
                          {"name": "Content-Type", "value": "text/plain"}],
              "queryString": [],
              "headersSize": 52,
              "bodySize": 5,
              "postData": {"mimeType": "text/plain", "text": "hello", "params": []}
            },
            "response": {
              "status": 200,
              "statusText": "OK",
              "httpVersion": "HTTP/1.1",
              "cookies": [{"name": "s", "value": "1", "path": "/", "domain": "",
                           "httpOnly": true, "secure": false}],
              "headers": [{"name": "Content-Type", "value": "text/plain; charset=UTF-8"}],
              "content": {"size": 9, "compression": 0, "mimeType": "text/plain; charset=UTF-8",
                          "text": "go.sum ok"},
              "redirectURL": "",
              "headersSize": 80,
              "bodySize": 9
            },
            "cache": {},
            "timings": {"connect": 45.0, "ssl": 30.0, "send": 0.5, "receive": 15.0, "wait": 30.0},
            "serverIPAddress": "34.107.155.52"
          },
          {
            "startedDateTime": "2024-03-05T10:15:31+00:00",
            "time": 0,
            "request": {"method": "GET", "url": "https://proxy.golang.org/x/@v/list",
                        "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                        "queryString": [], "headersSize": 40, "bodySize": 0},
            "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [],
                         "cookies": [], "content": {}, "redirectURL": "", "headersSize": -1,
                         "bodySize": -1, "_transferSize": 0,
                         "_error": "Connection reset by peer"},
            "cache": {},
            "timings": {"connect": null, "ssl": null, "send": 0, "receive": 0, "wait": 0}
          }
        ]
      }
    }"#;

    #[test]
    fn imports_a_mitmproxy_har() -> TestResult {
        let flows = from_json(MITMPROXY_HAR)?;
        assert_eq!(flows.len(), 2);
        let ok = &flows[0];
        assert_eq!(ok.id, 1);
        assert_eq!(ok.request.method, "POST");
        assert_eq!(
            ok.request.url,
            "https://sum.golang.org/lookup/golang.org/x/mod@v0.14.0"
        );
        assert_eq!(ok.request.body.data, b"hello");
        assert_eq!(ok.request.body.total, 5);
        assert_eq!(ok.started_at_us, 1_709_633_730_250_000);
        let resp = ok.response.as_ref().ok_or("no response")?;
        assert_eq!((resp.status, resp.reason.as_str()), (200, "OK"));
        assert_eq!(resp.body.data, b"go.sum ok");
        let t = &ok.timings;
        assert_eq!(
            t.connect_ms,
            Some(45.0),
            "mitmproxy's connect has no ssl in it"
        );
        assert_eq!(t.tls_ms, Some(30.0));
        assert_eq!(t.dns_ms, None);
        assert_eq!(
            (t.send_ms, t.wait_ms, t.receive_ms),
            (Some(0.5), Some(30.0), Some(15.0))
        );
        assert_eq!(ok.connection.server_addr.as_deref(), Some("34.107.155.52"));

        let failed = &flows[1];
        assert_eq!(failed.id, 2);
        assert_eq!(failed.response, None);
        assert_eq!(failed.started_at_us, 1_709_633_731_000_000);
        assert_eq!(
            (failed.timings.connect_ms, failed.timings.tls_ms),
            (None, None)
        );
        let err = failed.error.as_ref().ok_or("no error")?;
        assert_eq!(err.class, ErrorClass::UpstreamReset);
        Ok(())
    }

    #[test]
    fn foreign_connect_without_ssl_inside_is_not_made_negative() {
        let t = HarTimings {
            connect: 5.0,
            ssl: 30.0,
            ..HarTimings::default()
        };
        let got = import_timings(&t, 35.0, SslConvention::InsideConnect);
        assert_eq!((got.connect_ms, got.tls_ms), (Some(5.0), Some(30.0)));
        assert_eq!(
            got.send_ms, None,
            "a missing required phase is unknown, not zero"
        );
    }

    #[test]
    fn started_date_time_parses_rfc3339_with_offsets() {
        for (s, us) in [
            ("2024-03-05T10:15:30.123Z", 1_709_633_730_123_000),
            ("2024-03-05T11:15:30.123+01:00", 1_709_633_730_123_000),
            ("2024-03-05T10:15:30.123456+00:00", 1_709_633_730_123_456),
            ("1970-01-01T00:00:00Z", 0),
            ("yesterday", 0),
            ("", 0),
        ] {
            assert_eq!(parse_started(s), us, "{s}");
        }
        assert_eq!(
            format_started(1_709_633_730_123_456),
            "2024-03-05T10:15:30.123Z"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bad_base64 = r#"{"log":{"entries":[{"request":{"method":"GET","url":"https://a.test/"},
            "response":{"status":200,"content":{"size":3,"text":"@@@","encoding":"base64"}}}]}}"#;
        for text in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"log": {}}"#,
            r#"{"log": {"entries": {}}}"#,
            r#"{"log": {"entries": [{}]}}"#,
            r#"{"log": {"entries": [42]}}"#,
            r#"{"log": {"entries": [{"request": {"url": "https://a.test/"}}]}}"#,
            bad_base64,
        ] {
            assert!(from_json(text).is_err(), "{text}");
        }
        let missing = from_json(r#"{"log": {"creator": {"name": "x"}}}"#);
        let chain = missing
            .err()
            .and_then(|e| std::error::Error::source(&e).map(|s| s.to_string()));
        assert!(chain.is_some_and(|s| s.contains("entries")));
        let b64 = from_json(bad_base64).err().map(|e| e.to_string());
        assert_eq!(
            b64.as_deref(),
            Some("har entry 1 (https://a.test/): response content is marked base64 but does not decode")
        );
    }

    #[test]
    fn a_minimal_entry_imports_with_defaults() -> TestResult {
        let flows = from_json(
            r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://a.test/"}}]}}"#,
        )?;
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!((f.id, f.state, f.started_at_us), (1, FlowState::Done, 0));
        assert_eq!(f.response, None);
        assert_eq!(f.timings, Timings::default());
        assert_eq!(f.error, None);
        Ok(())
    }

    #[test]
    fn default_options_redact() {
        let opts = HarOptions::default();
        assert!(opts.redact);
        assert!(opts.extra_redact_headers.is_empty());
        assert_eq!(opts.creator_version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn entries_keep_the_order_given() -> TestResult {
        let flows = [tunnel_flow(), success_flow(), failed_flow()];
        let har = to_har(&flows, &HarOptions::default());
        let ids: Vec<u64> = har
            .log
            .entries
            .iter()
            .filter_map(|e| e.gomitm.as_ref().map(|g| g.id))
            .collect();
        assert_eq!(ids, [3, 1, 2]);
        Ok(())
    }
}
