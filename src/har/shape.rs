//! The HAR 1.2 shape: one serde definition for export and import, plus gomitm's `_gomitm`,
//! `_tunnel` and `_error` extensions. `default`s and lenient number parsing are for import:
//! other producers omit optional fields, write floats where the spec says integer, or `null`
//! (stripped before parsing). Everything exported is always written, never null.
//!
//! Data only: how flows map to these types belongs to `export` and `import`, not here. Field
//! names and serde attributes are the file format; changing one changes every HAR.

use serde::{Deserialize, Deserializer, Serialize};

use crate::flow::{FlowKind, FlowState, Label, Shared};

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
    /// What the request is to the Go toolchain (module, version, endpoint, proxy base).
    #[serde(rename = "_go", default, skip_serializing_if = "Option::is_none")]
    pub go: Option<crate::flow::GoRequest>,
    /// The client program (`go`, `git`), from its User-Agent.
    #[serde(rename = "_tool", default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Names of the rules that fired, in order.
    #[serde(rename = "_rules", default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Where a map_remote rule actually sent the request.
    #[serde(rename = "_mappedTo", default, skip_serializing_if = "Option::is_none")]
    pub mapped_to: Option<String>,
    /// The Host the client sent when it named another server than the target.
    #[serde(
        rename = "_clientHost",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_host: Option<String>,
    /// The id (`_gomitm.id`) of the flow this entry replays.
    #[serde(rename = "_replayOf", default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<u64>,
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
    pub method: Label,
    pub url: String,
    #[serde(default)]
    pub http_version: Label,
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
    pub status_text: Label,
    #[serde(default)]
    pub http_version: Label,
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

impl HarResponse {
    /// The placeholder for a flow that failed before any response: HAR requires the object.
    pub(super) fn absent() -> HarResponse {
        HarResponse {
            status: 0,
            status_text: Label::default(),
            http_version: Label::default(),
            cookies: Vec::new(),
            headers: Vec::new(),
            content: HarContent {
                // Some HAR libraries require `text`, even with no response.
                text: Some(String::new()),
                ..HarContent::default()
            },
            redirect_url: String::new(),
            headers_size: -1,
            // The spec's "-1 if the info is not available".
            body_size: -1,
            comment: None,
            error: None,
        }
    }
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
    pub client_addr: Option<Shared>,
    /// The raw phases, unrounded, `connect` without `tls`, absent ones left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<GomitmTimings>,
    /// `ip:port` as dialled (`serverIPAddress` has no port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_addr: Option<Shared>,
    pub reused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<Label>,
    /// The key-exchange group of the upstream handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_group: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_tls_version: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_alpn: Option<Label>,
    /// The key-exchange group of the client's handshake with gomitm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_tls_group: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_sni: Option<Shared>,
    pub insecure_upstream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_upstream_proxy: Option<String>,
    /// The upstream's certificate chain, summarised (issuer, expiry, public root or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cert: Option<crate::flow::CertSummary>,
    /// Why the request was sent a second time, on a fresh connection (`reused_connection_closed`,
    /// `goaway_unprocessed`, `refused_stream`); absent when it was sent once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<crate::flow::RetryReason>,
    pub request_body: BodyFlags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<BodyFlags>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GomitmTimings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_ms: Option<f64>,
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

/// HAR times are milliseconds; gomitm writes and reads them to the microsecond.
pub(super) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
