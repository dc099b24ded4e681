//! The proxy: accept loop, one task per client connection, graceful shutdown.
//!
//! A client connection speaks HTTP/1.1 to gomitm: absolute-form `http://` requests go to the
//! exchange, `CONNECT` to `connect`, anything else gets a short help page (and `/ca.pem`).
//! A failure in one connection never ends the accept loop.

pub mod auth;
pub mod body;
mod connect;
pub mod dial;
pub mod error;
mod exchange;
mod flow_cell;
mod hashing;
mod hooks;
pub mod limits;
pub mod live_rules;
mod prefixed;
pub mod route;
mod shaping;
pub mod upstream;
mod watched;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use crate::ca::CertAuthority;
use crate::flow::{ErrorClass, Flow, FlowError, FlowState};
use crate::store::Store;
use body::ProxyBody;
use dial::Target;
use error::ProxyError;
use limits::{Admission, ClientLimits, ConnCounter, Permit};
use upstream::Upstream;
use watched::Watched;

/// Limit on a client's request head (line + headers); beyond it hyper answers 431.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Limit on the number of header fields in a request head; beyond it hyper answers 431.
/// The go command and git send about ten.
pub(crate) const MAX_HEADERS: usize = 100;

/// A client connection's place in the per-address count. Shared by the connection and the
/// tunnel a CONNECT upgrades it to, so a tunnel keeps counting until it closes.
pub(crate) type ConnSlot = Arc<Permit>;

#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub max_body_capture: usize,
    pub no_intercept: Vec<HostGlob>,
    /// Bound on waiting for a response head and on silence mid-body.
    pub upstream_timeout: Option<Duration>,
    /// Module paths that must not reach public proxies or checksum databases.
    pub private: crate::go::private::PrivatePatterns,
    /// Append gomitm's diagnosis to upstream 4xx text/plain responses (`--annotate`).
    pub annotate: bool,
    /// Header read timeout and connections per client.
    pub limits: ClientLimits,
    /// The go release of `gomitm run`'s command, for fixes that depend on it.
    pub go_version: Option<crate::go::goversion::GoVersion>,
}

/// Everything a connection task needs, shared.
pub struct Ctx {
    pub store: Arc<Store>,
    /// The rules in force (file + quick forms), swapped on reload.
    pub rules: Arc<live_rules::LiveRules>,
    pub upstream: Arc<Upstream>,
    pub ca: Arc<CertAuthority>,
    pub opts: ProxyOptions,
    /// The address gomitm listens on, to refuse requests that would loop back to it.
    pub listen_addr: SocketAddr,
    /// The trust bundle (system roots + gomitm CA) in the CA directory, named by diagnoses.
    pub bundle: std::path::PathBuf,
    /// `--proxy-auth`: credentials every proxy request and CONNECT must carry.
    pub auth: Option<auth::ProxyAuth>,
}

impl Ctx {
    /// Whether sending to `target` would reach gomitm itself: by its address, by `localhost`,
    /// or by a `--resolve` rule that maps the name to it (the dialer follows the same rule).
    fn is_own_address(&self, target: &Target) -> bool {
        let cfg = self.upstream.dialer().config();
        // Through an upstream proxy the name is the proxy's business, not a dial of ours.
        if cfg.proxy.for_target(target, false).is_none() {
            let rule = cfg.resolve.iter().find(|r| {
                r.host.eq_ignore_ascii_case(&target.host) && r.port.is_none_or(|p| p == target.port)
            });
            if let Some(rule) = rule {
                return reaches(self.listen_addr, rule.addr.ip(), rule.addr.port());
            }
        }
        is_own_address(self.listen_addr, &target.host, target.port)
    }
}

/// Whether `host:port` names the socket gomitm listens on (`listen`), without DNS: an IP
/// literal (IPv4-mapped IPv6 included), `localhost` or a `*.localhost` name (RFC 6761).
pub fn is_own_address(listen: SocketAddr, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => reaches(listen, ip, port),
        Err(_) => {
            let lower = host.to_ascii_lowercase();
            (lower == "localhost" || lower.ends_with(".localhost"))
                && port == listen.port()
                && (listen.ip().is_loopback() || listen.ip().is_unspecified())
        }
    }
}

fn reaches(listen: SocketAddr, ip: std::net::IpAddr, port: u16) -> bool {
    let ip = ip.to_canonical();
    port == listen.port()
        && (ip == listen.ip().to_canonical()
            || (listen.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
}

/// A host pattern for `--no-intercept`: `*` matches any run of characters (`*.corp.example`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGlob(String);

impl HostGlob {
    pub fn new(pattern: &str) -> HostGlob {
        HostGlob(pattern.trim().to_ascii_lowercase())
    }

    pub fn matches(&self, host: &str) -> bool {
        glob_match(self.0.as_bytes(), host.to_ascii_lowercase().as_bytes())
    }
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

/// Accept clients until `shutdown` resolves. Each connection runs in its own task, so a
/// panic or error there cannot end the loop.
pub async fn serve(listener: TcpListener, ctx: Arc<Ctx>, shutdown: impl Future<Output = ()>) {
    match limits::raise_fd_limit() {
        Some(n) => tracing::debug!("open-file limit: {n}"),
        None => tracing::debug!("open-file limit unknown"),
    }
    let counter = ConnCounter::new(ctx.opts.limits.max_conns_per_client);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                match counter.admit(peer.ip()) {
                    Admission::Serve(p) => {
                        tokio::spawn(serve_client(ctx.clone(), stream, peer, Arc::new(p)));
                    }
                    Admission::Refuse(p) => {
                        tokio::spawn(refuse_client(ctx.clone(), stream, peer, p));
                    }
                    Admission::Close => {
                        tracing::debug!("{peer}: closed at once, far over the connection limit");
                    }
                }
            }
            Err(e) => {
                // Typically EMFILE: back off briefly instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The HTTP/1.1 server settings every client connection gets, outside and inside tunnels.
pub(crate) fn http1_server(limits: &ClientLimits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
}

async fn serve_client(ctx: Arc<Ctx>, stream: TcpStream, peer: SocketAddr, slot: ConnSlot) {
    let limits = ctx.opts.limits;
    let timeout = limits.header_read_timeout;
    match first_byte(&stream, timeout).await {
        FirstByte::Tls => return tls_on_proxy_port(&ctx, peer),
        FirstByte::Nothing => {
            tracing::debug!("{peer}: closed before sending anything");
            return;
        }
        FirstByte::Other => {}
    }
    let store = ctx.store.clone();
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        let slot = slot.clone();
        async move { Ok::<_, Infallible>(route(ctx, peer, req, slot).await) }
    });
    let (io, unanswered) = Watched::new(stream);
    let result = http1_server(&limits)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
    if let Err(e) = result {
        let partial = unanswered.load(Ordering::Relaxed);
        record_connection_error(&store, Some(peer), &e, partial, timeout);
    }
}

/// Over the per-address limit: read the request, answer a 503 that says why, close.
async fn refuse_client(ctx: Arc<Ctx>, stream: TcpStream, peer: SocketAddr, _slot: Permit) {
    let limit = ctx.opts.limits.max_conns_per_client;
    let store = ctx.store.clone();
    let service = service_fn(move |req| {
        let side = exchange::ClientSide::new(Some(peer), None);
        let e = ProxyError::TooManyConnections {
            client: peer.ip().to_string(),
            limit,
        };
        let resp = exchange::reject(&store, &side, &req, e);
        std::future::ready(Ok::<_, Infallible>(resp))
    });
    let result = http1_server(&ctx.opts.limits)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = result {
        tracing::debug!("{peer}: refused connection ended: {e}");
    }
}

enum FirstByte {
    Tls,
    Other,
    /// Closed, failed, or silent for the whole header read timeout.
    Nothing,
}

async fn first_byte(stream: &TcpStream, timeout: Option<Duration>) -> FirstByte {
    let mut first = [0u8; 1];
    let peeked = match timeout {
        Some(t) => tokio::time::timeout(t, stream.peek(&mut first))
            .await
            .unwrap_or(Ok(0)),
        None => stream.peek(&mut first).await,
    };
    match peeked {
        Ok(1) if first[0] == 0x16 => FirstByte::Tls,
        Ok(1) => FirstByte::Other,
        _ => FirstByte::Nothing,
    }
}

/// A TLS ClientHello on the plain-HTTP port: someone wrote `https://` in HTTPS_PROXY. Such a
/// client cannot read an HTTP answer, so the advice goes to the log and the record.
fn tls_on_proxy_port(ctx: &Ctx, peer: SocketAddr) {
    let mut addr = ctx.listen_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let msg = format!(
        "the client started TLS on gomitm's plain-HTTP proxy port: the proxy URL must be \
         http://, not https:// (HTTPS_PROXY=http://{addr})"
    );
    tracing::warn!("{peer}: {msg}");
    record_failure(&ctx.store, Some(peer), ErrorClass::Protocol, msg);
}

async fn route(
    ctx: Arc<Ctx>,
    peer: SocketAddr,
    mut req: Request<Incoming>,
    slot: ConnSlot,
) -> Response<ProxyBody> {
    let proxied = req.method() == Method::CONNECT || req.uri().scheme().is_some();
    if proxied {
        if let Some(refusal) = auth::admit(&ctx, peer, &mut req) {
            return refusal;
        }
    }
    if req.method() == Method::CONNECT {
        return connect::handle(ctx, peer, req, slot).await;
    }
    if req.uri().scheme().is_none() {
        return local_page(&ctx, &req);
    }
    let side = Arc::new(exchange::ClientSide::new(Some(peer), None));
    exchange::handle(ctx, side, req).await
}

/// Requests addressed to gomitm itself: the CA certificate, or a pointer to the docs.
fn local_page(ctx: &Ctx, req: &Request<Incoming>) -> Response<ProxyBody> {
    let (ctype, status, text) = if req.uri().path() == "/ca.pem" {
        (
            "application/x-pem-file",
            StatusCode::OK,
            ctx.ca.cert_pem().to_string(),
        )
    } else {
        let addr = ctx.listen_addr;
        let text = format!(
            "This is gomitm, a debugging proxy for the go command.\n\
             Use it as a proxy: HTTPS_PROXY=http://{addr} HTTP_PROXY=http://{addr}\n\
             The CA certificate is at http://{addr}/ca.pem\n"
        );
        ("text/plain; charset=utf-8", StatusCode::OK, text)
    };
    let mut resp = Response::new(
        Full::new(Bytes::from(text))
            .map_err(|n| match n {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ctype),
    );
    resp
}

/// Connection-level failures that hyper answered itself (malformed request, head too large)
/// and clients that stalled halfway through a request head still become flows; ordinary
/// disconnects and idle connections closed by the header read timeout are only debug-logged.
pub(crate) fn record_connection_error(
    store: &Store,
    peer: Option<SocketAddr>,
    e: &hyper::Error,
    partial_head: bool,
    timeout: Option<Duration>,
) {
    if e.is_parse() || e.is_parse_too_large() || e.is_parse_version_h2() {
        let msg = format!(
            "malformed request from the client: {}",
            body::error_chain(e)
        );
        record_failure(store, peer, ErrorClass::Protocol, msg);
    } else if e.is_timeout() && partial_head {
        let after = timeout.unwrap_or_default();
        let msg = format!(
            "the client sent part of a request head, then nothing more for {after:?}: gomitm \
             closed the connection (--header-read-timeout)"
        );
        record_failure(store, peer, ErrorClass::Protocol, msg);
    } else if e.is_timeout() {
        tracing::debug!("idle client connection closed: {e}");
    } else {
        tracing::debug!("client connection ended: {e}");
    }
}

fn record_failure(store: &Store, peer: Option<SocketAddr>, class: ErrorClass, message: String) {
    let mut flow = Flow {
        started_at_us: exchange::now_us(),
        client_addr: peer.map(|p| p.to_string()),
        state: FlowState::Done,
        error: Some(FlowError { class, message }),
        ..Flow::default()
    };
    flow.request.method = "-".into();
    store.add(flow);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_by_ip_localhost_and_mapped_forms() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for (host, port) in [
            ("127.0.0.1", 8080),
            ("localhost", 8080),
            ("LOCALHOST.", 8080),
            ("gomitm.localhost", 8080),
            ("::ffff:127.0.0.1", 8080),
            ("[::ffff:127.0.0.1]", 8080),
        ] {
            assert!(is_own_address(listen, host, port), "{host}:{port}");
        }
        for (host, port) in [
            ("127.0.0.1", 8081),
            ("127.0.0.2", 8080),
            ("localhost", 443),
            ("::1", 8080),
            ("example.test", 8080),
            ("localhost.example", 8080),
        ] {
            assert!(!is_own_address(listen, host, port), "{host}:{port}");
        }
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        for host in ["127.0.0.1", "127.9.9.9", "localhost", "0.0.0.0"] {
            assert!(is_own_address(any, host, 8080), "{host} on 0.0.0.0");
        }
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(is_own_address(v6, "::1", 8080));
        assert!(is_own_address(v6, "localhost", 8080));
    }

    #[test]
    fn host_globs_match_like_shell_patterns_case_insensitively() {
        let g = HostGlob::new("*.corp.example");
        assert!(g.matches("git.corp.example"));
        assert!(g.matches("A.B.Corp.Example"));
        assert!(!g.matches("corp.example"));
        assert!(HostGlob::new("proxy.golang.org").matches("PROXY.golang.org"));
        assert!(!HostGlob::new("proxy.golang.org").matches("proxy.golang.org.evil"));
        assert!(HostGlob::new("*").matches("anything"));
    }
}
