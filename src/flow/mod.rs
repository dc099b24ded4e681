//! The flow: the one record of an exchange (or a tunnel) that every feature reads.
//!
//! Plain data with serde, no hyper or tokio types, so that the store, the log, HAR export and
//! (later) the Go diagnosis and the TUI can all be written and tested without sockets. Only the
//! proxy creates and completes flows.

use serde::{Deserialize, Serialize};

mod headers;
pub use headers::{Builder as HeadersBuilder, Headers};

/// A name from a small known set (a TLS version, an ALPN protocol, a key-exchange group):
/// borrowed from a static table when gomitm knows the name, so that copying it onto every
/// flow of a connection allocates nothing.
pub type Label = std::borrow::Cow<'static, str>;

/// A fact of a connection (an address, an SNI) that each of its flows carries: shared with
/// the connection, so that a flow costs a reference count rather than a copy.
pub type Shared = std::sync::Arc<str>;

/// One intercepted HTTP exchange or one blind tunnel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: u64,
    pub kind: FlowKind,
    pub state: FlowState,
    /// Wall-clock start, microseconds since the Unix epoch.
    pub started_at_us: i64,
    /// Address of the client that sent the request (the `go` command, git, curl…).
    pub client_addr: Option<Shared>,
    /// Shared between the store's first snapshot of the flow and the exchange that completes
    /// it: a request head is copied into the record once, not again at the first change.
    /// Write through [`Flow::request_mut`].
    pub request: std::sync::Arc<Request>,
    pub response: Option<Response>,
    pub timings: Timings,
    pub connection: ConnectionInfo,
    pub error: Option<FlowError>,
    /// Tunnel byte counts; `Some` only for [`FlowKind::Tunnel`].
    pub tunnel: Option<TunnelStats>,
    /// What the request is to the Go toolchain, decided when the flow is created. Boxed: most
    /// flows of a busy capture are not Go requests, and inline it weighs 176 B in every flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<Box<GoRequest>>,
    /// The client program, from its User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ClientTool>,
    /// Names of the rules that fired on this flow, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Where a `map_remote` rule actually sent the request (`request.url` keeps the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_to: Option<String>,
    /// The Host the client sent when it named another server than the request's target. The
    /// upstream got the target's (RFC 9112 §3.2.2); this says the two differed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_host: Option<String>,
    /// The id of the flow this request replays (TUI `r`/`E`, `gomitm replay`): the request
    /// carried gomitm's replay marker header, which the proxy removed before sending it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<u64>,
}

/// A Go-toolchain request: module proxy, checksum database, discovery or git smart HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoRequest {
    pub kind: GoKind,
    /// Module (or, for discovery, import) path, decoded (`!x` → `X`, `%21` → `!`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The GOPROXY base URL, the checksum database base URL, or the git repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Checksum database name in the proxied form `$GOPROXY/sumdb/<name>/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sumdb: Option<String>,
    /// Tile path for `/tile/…` requests, e.g. `8/1/x001/234.p/5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile: Option<String>,
    /// Module `golang.org/toolchain`: a Go toolchain download.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub toolchain: bool,
    /// `Git-Protocol` header of git smart HTTP requests (`version=2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_protocol: Option<String>,
    /// For discovery: the go-import tags the response carried (`Some(empty)`: none, e.g. a
    /// login page); `None` until the response is read, or when it could not be judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_import: Option<Vec<GoImport>>,
    /// For a 2xx `.zip` or `.mod` answer: go's `h1:` hash of the body as it streamed past
    /// (what go.sum and the checksum database hold), or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<BodyHash>,
}

/// The `h1:` hash gomitm computed over a module zip or go.mod body (see `go::integrity`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyHash {
    /// go's hash of the body (`h1:` + base64), when it could be computed exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h1: Option<String>,
    /// Why there is no hash: the body was cut short, is no zip go could read, hashing fell
    /// behind the download…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_verified: Option<String>,
    /// Zips: the first file name outside `module@version/` (a zip of another module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_prefix: Option<String>,
    /// Zips: how many files the zip held (`None` for go.mod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
}

/// One `<meta name="go-import" content="prefix vcs repo">` tag of a discovery page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoImport {
    pub prefix: String,
    pub vcs: String,
    pub repo: String,
    /// The 4th field (Go 1.25+): the module's subdirectory in the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoKind {
    #[default]
    List,
    Info,
    Mod,
    Zip,
    Latest,
    SumdbSupported,
    SumdbLookup,
    SumdbTile,
    SumdbLatest,
    Discovery,
    GitRefs,
    GitUploadPack,
    GitReceivePack,
}

impl GoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GoKind::List => "list",
            GoKind::Info => "info",
            GoKind::Mod => "mod",
            GoKind::Zip => "zip",
            GoKind::Latest => "latest",
            GoKind::SumdbSupported => "sumdb_supported",
            GoKind::SumdbLookup => "sumdb_lookup",
            GoKind::SumdbTile => "sumdb_tile",
            GoKind::SumdbLatest => "sumdb_latest",
            GoKind::Discovery => "discovery",
            GoKind::GitRefs => "git_refs",
            GoKind::GitUploadPack => "git_upload_pack",
            GoKind::GitReceivePack => "git_receive_pack",
        }
    }

    pub fn is_module_proxy(self) -> bool {
        matches!(
            self,
            GoKind::List | GoKind::Info | GoKind::Mod | GoKind::Zip | GoKind::Latest
        )
    }

    pub fn is_sumdb(self) -> bool {
        matches!(
            self,
            GoKind::SumdbSupported | GoKind::SumdbLookup | GoKind::SumdbTile | GoKind::SumdbLatest
        )
    }

    pub fn is_git(self) -> bool {
        matches!(
            self,
            GoKind::GitRefs | GoKind::GitUploadPack | GoKind::GitReceivePack
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// A decrypted (or plain-http) request/response exchange.
    #[default]
    Http,
    /// A CONNECT tunnel gomitm did not decrypt: bytes and duration only.
    Tunnel,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    #[default]
    InFlight,
    Done,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: Label,
    /// Absolute URL as the client meant it: `https://host[:port]/path?query`.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2`… as spoken between the client and gomitm.
    pub http_version: Label,
    pub headers: Headers,
    pub body: BodyCapture,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub reason: Label,
    /// Version spoken between gomitm and the upstream server.
    pub http_version: Label,
    pub headers: Headers,
    pub body: BodyCapture,
}

/// The kept prefix of a body plus its true size. Bodies stream; only `data` is held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BodyCapture {
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
    /// Bytes that went through, captured or not.
    pub total: u64,
    /// True when `data` holds less than `total` (the capture cap was reached).
    pub truncated: bool,
    /// True when the body reached its end (false: cut short, or still streaming).
    pub complete: bool,
}

/// Phase durations in milliseconds. `None` means "did not happen" (for example dns, connect
/// and tls on a reused upstream connection) — never a fake zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Held back before sending (a rule's `delay`); HAR `blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_ms: Option<f64>,
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    /// Upstream TLS handshake.
    pub tls_ms: Option<f64>,
    pub send_ms: Option<f64>,
    /// Request sent → first byte of the response head.
    pub wait_ms: Option<f64>,
    pub receive_ms: Option<f64>,
    /// Client ↔ gomitm TLS handshake of the tunnel this request arrived on.
    pub client_tls_ms: Option<f64>,
    /// Start → end of the whole flow (for tunnels: open → close).
    pub total_ms: Option<f64>,
}

impl Timings {
    /// The phases of a request in the order they happen, by HAR's names (`blocked` is a
    /// rule's `delay`): what every waterfall (TUI, HTML timeline, trace, diff) is split into.
    pub const PHASES: [&'static str; 7] = [
        "blocked", "dns", "connect", "tls", "send", "wait", "receive",
    ];

    /// Each of [`Timings::PHASES`] with its duration.
    pub fn phases(&self) -> [(&'static str, Option<f64>); 7] {
        let d = [
            self.blocked_ms,
            self.dns_ms,
            self.connect_ms,
            self.tls_ms,
            self.send_ms,
            self.wait_ms,
            self.receive_ms,
        ];
        std::array::from_fn(|i| (Self::PHASES[i], d[i]))
    }
}

/// How a flow was carried. The facts of its two connections are shared with them, and with
/// every other flow on them: each is a reference count per flow rather than nine fields of
/// copies (this record was a third of a flow's size). Serialized flat, as one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// The upstream connection (address, TLS, certificate). Write through
    /// [`ConnectionInfo::upstream_mut`].
    #[serde(flatten)]
    pub upstream: std::sync::Arc<UpstreamConn>,
    /// Identifies the upstream connection; equal ids mean the same pooled connection.
    pub upstream_conn_id: Option<u64>,
    pub reused: bool,
    /// The client's TLS tunnel to gomitm. Write through [`ConnectionInfo::client_mut`].
    #[serde(flatten)]
    pub client: std::sync::Arc<ClientTls>,
    /// The first attempt failed in a way that shows the upstream never processed the request,
    /// so it was sent once more on a fresh connection; the rest of the record is the retry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<RetryReason>,
}

impl Default for ConnectionInfo {
    /// No connection yet: both sides share one empty record rather than allocating their own
    /// for every flow.
    fn default() -> ConnectionInfo {
        static NO_UPSTREAM: std::sync::LazyLock<std::sync::Arc<UpstreamConn>> =
            std::sync::LazyLock::new(Default::default);
        static NO_CLIENT_TLS: std::sync::LazyLock<std::sync::Arc<ClientTls>> =
            std::sync::LazyLock::new(Default::default);
        ConnectionInfo {
            upstream: NO_UPSTREAM.clone(),
            upstream_conn_id: None,
            reused: false,
            client: NO_CLIENT_TLS.clone(),
            retried: None,
        }
    }
}

impl ConnectionInfo {
    /// The upstream facts of this flow alone (copied from the shared record on first write).
    pub fn upstream_mut(&mut self) -> &mut UpstreamConn {
        std::sync::Arc::make_mut(&mut self.upstream)
    }

    /// The client TLS facts of this flow alone (copied from the shared record on first write).
    pub fn client_mut(&mut self) -> &mut ClientTls {
        std::sync::Arc::make_mut(&mut self.client)
    }
}

/// What gomitm knows of an upstream connection, the same for every request it carried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpstreamConn {
    /// Upstream address actually dialled (after `--resolve`), `ip:port`.
    pub server_addr: Option<Shared>,
    pub tls_version: Option<Label>,
    pub alpn: Option<Label>,
    /// The key-exchange group the upstream handshake settled on (IANA name, `x25519`,
    /// `X25519MLKEM768`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_group: Option<Label>,
    /// Upstream certificate checks were skipped (`--insecure-upstream`).
    pub insecure_upstream: bool,
    /// Went through `--upstream-proxy`.
    pub via_upstream_proxy: Option<String>,
    /// The certificate chain the upstream presented, summarised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cert: Option<std::sync::Arc<CertSummary>>,
}

/// What the client's TLS handshake with gomitm settled, the same for every request of the
/// tunnel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientTls {
    pub client_tls_version: Option<Label>,
    pub client_alpn: Option<Label>,
    /// The key-exchange group the client's handshake with gomitm settled on: what a client
    /// that offers post-quantum groups (go 1.24+) got from gomitm, to set beside `tls_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_tls_group: Option<Label>,
    /// SNI the client sent (may differ from the CONNECT host).
    pub client_sni: Option<Shared>,
}

/// Why gomitm sent a request a second time (see `proxy::upstream`): each is a case where
/// the upstream most likely or provably never processed the first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// A pooled connection the server closed before sending any byte of the answer (the
    /// keep-alive race: the server timed the idle connection out as the request went out).
    ReusedConnectionClosed,
    /// An h2 stream above the last-stream-id of the server's GOAWAY (RFC 9113 §6.8).
    GoawayUnprocessed,
    /// An h2 stream the server reset with REFUSED_STREAM (RFC 9113 §8.7).
    RefusedStream,
}

impl RetryReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::ReusedConnectionClosed => "reused_connection_closed",
            RetryReason::GoawayUnprocessed => "goaway_unprocessed",
            RetryReason::RefusedStream => "refused_stream",
        }
    }

    /// For people: what happened to the first attempt.
    pub fn describe(self) -> &'static str {
        match self {
            RetryReason::ReusedConnectionClosed => {
                "the reused connection was closed before any byte of the answer"
            }
            RetryReason::GoawayUnprocessed => {
                "the h2 stream was above the server's GOAWAY last-stream-id"
            }
            RetryReason::RefusedStream => "the server refused the h2 stream (REFUSED_STREAM)",
        }
    }
}

/// Who the upstream's certificate says it is and who vouches for it: enough to see a
/// TLS-inspection CA (a corporate proxy re-signing traffic) at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertSummary {
    /// The leaf's subject common name (else its whole subject).
    pub subject: String,
    /// The leaf's issuer common name (else its whole issuer).
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_org: Option<String>,
    /// The leaf's expiry, RFC 3339.
    pub not_after: String,
    /// Certificates the server sent.
    pub chain_len: usize,
    /// The CA the sent chain ends at: the issuer of its last certificate.
    pub root: String,
    /// Whether that CA is one of Mozilla's public roots; `Some(false)` with a verified
    /// handshake means a locally installed CA, typically a TLS-inspection proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_root: Option<bool>,
}

impl CertSummary {
    /// The chain ends at a CA that is not public yet was trusted (or checks were skipped):
    /// someone between gomitm and the server re-signs TLS. Pure, for the diagnosis.
    pub fn is_local_ca(&self) -> bool {
        self.public_root == Some(false)
    }

    /// One line for people: `proxy.golang.org, issued by X (O) until 2027-01-01T00:00:00Z`.
    pub fn describe(&self) -> String {
        let org = self
            .issuer_org
            .as_deref()
            .filter(|o| *o != self.issuer)
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        let mut out = format!(
            "{}, issued by {}{org} until {}",
            self.subject, self.issuer, self.not_after
        );
        match self.public_root {
            Some(true) => {}
            Some(false) => out.push_str(&format!(
                "; chain ends at {}, which is not a public root CA: a locally installed CA, \
                 typically a TLS-inspection proxy",
                self.root
            )),
            None => {}
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TunnelStats {
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// Why a flow failed; the class is stable (filters, HAR `_error.class`), the message is prose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowError {
    pub class: ErrorClass,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Dns,
    Connect,
    ConnectTimeout,
    UpstreamTls,
    UpstreamReset,
    UpstreamTimeout,
    ClientTls,
    ClientAbort,
    Protocol,
    /// The configured upstream proxy refused or failed the CONNECT.
    UpstreamProxy,
    /// A request gomitm refused itself (for example a loop back to its own address).
    Refused,
    /// gomitm itself failed (a panic, a rule whose answer could not be built): a bug in
    /// gomitm or its rules, never the client's or the server's doing.
    Internal,
    /// gomitm was stopped (Ctrl-C, SIGTERM, the end of `gomitm run`) while the flow was in
    /// flight; the flow keeps the bytes and time it had reached.
    Interrupted,
}

/// The client program of a flow, from its User-Agent. A closed set: a tool gomitm gives
/// advice for gets a variant, so every place that words advice per tool must decide for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientTool {
    /// The go command (`Go-http-client/…`, `GoCommand/…`).
    Go,
    /// git's smart HTTP (`git/…`).
    Git,
}

impl ClientTool {
    pub const ALL: [ClientTool; 2] = [ClientTool::Go, ClientTool::Git];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientTool::Go => "go",
            ClientTool::Git => "git",
        }
    }

    pub fn parse(s: &str) -> Option<ClientTool> {
        ClientTool::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for ClientTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 13] = [
        ErrorClass::Dns,
        ErrorClass::Connect,
        ErrorClass::ConnectTimeout,
        ErrorClass::UpstreamTls,
        ErrorClass::UpstreamReset,
        ErrorClass::UpstreamTimeout,
        ErrorClass::ClientTls,
        ErrorClass::ClientAbort,
        ErrorClass::Protocol,
        ErrorClass::UpstreamProxy,
        ErrorClass::Refused,
        ErrorClass::Internal,
        ErrorClass::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Connect => "connect",
            ErrorClass::ConnectTimeout => "connect_timeout",
            ErrorClass::UpstreamTls => "upstream_tls",
            ErrorClass::UpstreamReset => "upstream_reset",
            ErrorClass::UpstreamTimeout => "upstream_timeout",
            ErrorClass::ClientTls => "client_tls",
            ErrorClass::ClientAbort => "client_abort",
            ErrorClass::Protocol => "protocol",
            ErrorClass::UpstreamProxy => "upstream_proxy",
            ErrorClass::Refused => "refused",
            ErrorClass::Internal => "internal",
            ErrorClass::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Flow {
    /// The request, to change: copied first only if a snapshot still shares it.
    pub fn request_mut(&mut self) -> &mut Request {
        std::sync::Arc::make_mut(&mut self.request)
    }

    pub fn is_done(&self) -> bool {
        self.state == FlowState::Done
    }

    /// Host part of the request URL (without port), or "" when the URL has none.
    pub fn host(&self) -> &str {
        url_host(&self.request.url)
    }

    /// Bytes of captured body data this flow holds in memory.
    pub fn captured_bytes(&self) -> usize {
        self.request.body.data.len() + self.response.as_ref().map_or(0, |r| r.body.data.len())
    }

    /// Bytes this flow holds whose size a peer chooses: the captured bodies and the heads (URL,
    /// header names and values, reason, error message). Heads count as bodies do, because a
    /// client or upstream can send 50 KB of them per request as easily as a body.
    pub fn held_bytes(&self) -> usize {
        self.captured_bytes() + self.head_bytes()
    }

    fn head_bytes(&self) -> usize {
        let headers = Headers::heap_bytes;
        let req = &self.request;
        let response = self
            .response
            .as_ref()
            .map_or(0, |r| r.reason.len() + headers(&r.headers));
        let error = self.error.as_ref().map_or(0, |e| e.message.len());
        req.method.len() + req.url.len() + headers(&req.headers) + response + error
    }

    /// Look up a request header, case-insensitively.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header_value(&self.request.headers, name)
    }
}

pub fn header_value<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.value(name)
}

/// Where `needle` first occurs in `hay` (`str::find` for a `&str` needle).
///
/// For the short URLs and paths every request's record searches: `str::find` with a `&str`
/// pattern builds a two-way searcher per call, about 330 instructions, six times per request
/// in a callgrind profile (2 % of gomitm's cost); a scan for the needle's first byte settles
/// these in a few dozen.
pub fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let Some(&first) = needle.as_bytes().first() else {
        return Some(0);
    };
    let bytes = hay.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == first)
        .find(|&i| bytes[i..].starts_with(needle.as_bytes()))
}

/// Where `needle` last occurs in `hay` (`str::rfind` for a `&str` needle; see [`find_str`]).
pub fn rfind_str(hay: &str, needle: &str) -> Option<usize> {
    let Some(&first) = needle.as_bytes().first() else {
        return Some(hay.len());
    };
    let bytes = hay.as_bytes();
    (0..bytes.len())
        .rev()
        .filter(|&i| bytes[i] == first)
        .find(|&i| bytes[i..].starts_with(needle.as_bytes()))
}

/// `https://user@host:port/path` → `host`; `[::1]` keeps its brackets off.
pub fn url_host(url: &str) -> &str {
    let rest = find_str(url, "://").map_or(url, |i| &url[i + 3..]);
    // A byte scan: a `[char; 3]` pattern decodes and compares every char of the URL.
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = hostport.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    hostport.split(':').next().unwrap_or("")
}

/// Base64 for captured bytes: JSON lines and HAR stay compact and text-safe.
mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Builds flows for tests (here and in other modules).
#[cfg(test)]
pub mod testing {
    use super::*;

    #[derive(Default)]
    pub struct FlowBuilder {
        flow: Flow,
    }

    impl FlowBuilder {
        pub fn get(url: &str) -> Self {
            let mut b = FlowBuilder::default();
            b.flow.request_mut().method = "GET".into();
            b.flow.request_mut().url = url.into();
            b.flow.request_mut().http_version = "HTTP/2".into();
            b.flow.started_at_us = 1_700_000_000_000_000;
            b.flow.state = FlowState::Done;
            b
        }
        pub fn id(mut self, id: u64) -> Self {
            self.flow.id = id;
            self
        }
        pub fn method(mut self, m: &str) -> Self {
            self.flow.request_mut().method = m.to_string().into();
            self
        }
        pub fn req_header(mut self, n: &str, v: &str) -> Self {
            self.flow.request_mut().headers.push(n, v);
            self
        }
        pub fn req_body(mut self, data: &[u8]) -> Self {
            self.flow.request_mut().body = BodyCapture {
                data: data.to_vec(),
                total: data.len() as u64,
                truncated: false,
                complete: true,
            };
            self
        }
        pub fn status(mut self, status: u16, body: &[u8]) -> Self {
            self.flow.response = Some(Response {
                status,
                reason: Label::default(),
                http_version: "HTTP/2".into(),
                headers: Headers::new(),
                body: BodyCapture {
                    data: body.to_vec(),
                    total: body.len() as u64,
                    truncated: false,
                    complete: true,
                },
            });
            self
        }
        pub fn resp_header(mut self, n: &str, v: &str) -> Self {
            if let Some(r) = self.flow.response.as_mut() {
                r.headers.push(n, v);
            }
            self
        }
        pub fn error(mut self, class: ErrorClass, msg: &str) -> Self {
            self.flow.error = Some(FlowError {
                class,
                message: msg.into(),
            });
            self
        }
        pub fn timings(mut self, t: Timings) -> Self {
            self.flow.timings = t;
            self
        }
        pub fn tunnel(mut self, up: u64, down: u64) -> Self {
            self.flow.kind = FlowKind::Tunnel;
            self.flow.request_mut().method = "CONNECT".into();
            self.flow.tunnel = Some(TunnelStats {
                bytes_up: up,
                bytes_down: down,
            });
            self
        }
        pub fn build(self) -> Flow {
            self.flow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::FlowBuilder;
    use super::*;

    /// Every recorded flow costs this much before its strings; docs/PERFORMANCE.md's budget
    /// is 2 KiB per flow beyond the captured bodies.
    #[test]
    fn a_flow_stays_small() {
        let size = std::mem::size_of::<Flow>();
        println!("size_of::<Flow>() = {size}");
        assert!(size <= 512, "Flow grew to {size} B");
    }

    #[test]
    fn find_str_agrees_with_str_find() {
        let hays = [
            "",
            "/",
            "https://h:1/p",
            "a:b://c://d",
            "/x/@v/v1/@v/list",
            "ü/sumdb/é/sumdb/",
            "//",
            "/tile/",
            "xx/lookup/",
            "::/",
        ];
        let needles = [
            "", "://", "/@v/", "/sumdb/", "/lookup/", "/tile/", "/", "é/", "zz",
        ];
        for hay in hays {
            for needle in needles {
                assert_eq!(
                    find_str(hay, needle),
                    hay.find(needle),
                    "{hay:?} {needle:?}"
                );
                assert_eq!(
                    rfind_str(hay, needle),
                    hay.rfind(needle),
                    "{hay:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn url_host_strips_scheme_userinfo_port_and_path() {
        for (url, host) in [
            ("https://proxy.golang.org/x/@v/list", "proxy.golang.org"),
            ("http://u:p@corp.example:8081/goproxy", "corp.example"),
            ("https://[::1]:443/", "::1"),
            ("git.test:443", "git.test"),
            ("https://h?go-get=1", "h"),
        ] {
            assert_eq!(url_host(url), host, "{url}");
        }
    }

    #[test]
    fn error_class_round_trips_through_its_name() {
        for c in ErrorClass::ALL {
            assert_eq!(ErrorClass::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(ErrorClass::parse("nope"), None);
    }

    #[test]
    fn flow_serde_round_trip_keeps_binary_body() {
        let flow = FlowBuilder::get("https://a.test/x")
            .status(200, &[0, 159, 255])
            .build();
        let json = serde_json::to_string(&flow).unwrap_or_default();
        let back: Flow = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, flow);
        assert!(json.contains("\"AJ//\""), "{json}");
    }

    #[test]
    fn request_header_lookup_ignores_case() {
        let flow = FlowBuilder::get("https://a.test/")
            .req_header("user-agent", "Go-http-client/2.0")
            .build();
        assert_eq!(
            flow.request_header("User-Agent"),
            Some("Go-http-client/2.0")
        );
        assert_eq!(flow.request_header("Accept"), None);
    }
}
