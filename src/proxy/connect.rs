//! CONNECT: answer 200, sniff the first bytes, then either intercept TLS (a leaf certificate
//! for the SNI name, h2 or HTTP/1.1 by ALPN) or tunnel blind, recording a tunnel flow.
//!
//! Owns tunnel flows and client-side TLS failures; hands decrypted requests to `exchange`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::body::ProxyBody;
use super::context::{ConnSlot, Ctx};
use super::counted::ReadCounted;
use super::dial::{describe_tls_io_error, Target};
use super::error::error_response;
use super::exchange::{self, ClientSide, TunnelSide};
use super::interrupt::InterruptibleExecutor;
use super::prefixed::Prefixed;
use super::record::{self, headers_of, ms_since};
use super::watched::Watched;
use crate::flow::{
    ClientTls, ErrorClass, Flow, FlowError, FlowState, Headers, Shared, TunnelStats,
};

pub async fn handle(
    ctx: Arc<Ctx>,
    client_addr: std::net::SocketAddr,
    req: Request<Incoming>,
    slot: ConnSlot,
) -> Response<ProxyBody> {
    // The CONNECT's own headers (User-Agent tells go from git) travel with tunnel flows.
    let client = Origin {
        addr: client_addr,
        headers: headers_of(req.headers()),
    };
    let Some(target) = parse_authority(&req) else {
        let problem = format!("CONNECT needs host:port, got {:?}", req.uri().to_string());
        let text = format!("gomitm: {problem}\n");
        let mut flow = tunnel_flow(&client, &req.uri().to_string());
        finish(&mut flow, Some((ErrorClass::Protocol, problem)));
        ctx.store.add(flow);
        return error_response(StatusCode::BAD_REQUEST, text);
    };
    if let Some(e) = ctx.loop_refusal(&target) {
        let mut flow = tunnel_flow(&client, &target.authority());
        finish(&mut flow, Some((e.class(), e.to_string())));
        ctx.store.add(flow);
        return e.to_response();
    }
    let stub = crate::rules::connect_stub(&target.host, target.port);
    let rule = ctx
        .rules
        .current()
        .no_intercept(&stub)
        .map(|r| r.name.clone());
    if rule.is_some() {
        return blind(ctx, client, req, target, rule, slot).await;
    }
    let store = ctx.store.clone();
    super::interrupt::spawn(store, async move {
        // The tunnel still counts as this client's connection.
        let _slot = slot;
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => intercept(ctx, client, TokioIo::new(upgraded), target).await,
            Err(e) => tracing::debug!("CONNECT upgrade failed: {e}"),
        }
    });
    empty(StatusCode::OK)
}

/// `host:port` with a usable host (a name or an IP literal) and a non-zero port; no path,
/// no user info.
fn parse_authority(req: &Request<Incoming>) -> Option<Target> {
    let auth = req.uri().authority()?;
    let port = auth.port_u16().filter(|p| *p != 0)?;
    if auth.as_str().contains('@') || req.uri().path_and_query().is_some_and(|p| p != "/") {
        return None;
    }
    let host = auth.host().trim_start_matches('[').trim_end_matches(']');
    let is_name = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !host.starts_with(['.', '-'])
        && !host.contains("..");
    if host.is_empty() || !(is_name || host.parse::<std::net::IpAddr>().is_ok()) {
        return None;
    }
    Some(Target {
        https: true,
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// `fut` under an optional time limit; `None` when the limit passed.
async fn within<F: std::future::Future>(limit: Option<Duration>, fut: F) -> Option<F::Output> {
    match limit {
        Some(t) => tokio::time::timeout(t, fut).await.ok(),
        None => Some(fut.await),
    }
}

fn empty(status: StatusCode) -> Response<ProxyBody> {
    let mut resp = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *resp.status_mut() = status;
    resp
}

/// Who opened a tunnel: the client's address and its CONNECT request headers.
#[derive(Debug, Clone)]
struct Origin {
    addr: std::net::SocketAddr,
    headers: Headers,
}

fn tunnel_flow(client: &Origin, authority: &str) -> Flow {
    record::tunnel_flow(client.addr, authority, client.headers.clone())
}

fn finish(flow: &mut Flow, error: Option<(ErrorClass, String)>) {
    flow.error = error.map(|(class, message)| FlowError { class, message });
    flow.state = FlowState::Done;
}

/// After the 200: sniff; TLS is intercepted, anything else is tunnelled as it is.
async fn intercept<IO>(ctx: Arc<Ctx>, client: Origin, mut io: IO, target: Target)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut first = BytesMut::with_capacity(1024);
    let timeout = ctx.opts.limits.header_read_timeout;
    match within(timeout, io.read_buf(&mut first)).await {
        Some(Ok(n)) if n > 0 => {}
        // The client opened a tunnel and sent nothing: nothing to record but a debug line.
        _ => {
            tracing::debug!("tunnel to {} closed before any byte", target.authority());
            return;
        }
    }
    let io = Prefixed::new(first.freeze(), io);
    if io.prefix().first() == Some(&0x16) {
        serve_tls(ctx, client, io, target).await;
    } else {
        let prefix = io.prefix().clone();
        run_tunnel(ctx, client, io.into_inner(), target, prefix).await;
    }
}

async fn serve_tls<IO>(ctx: Arc<Ctx>, client: Origin, io: Prefixed<IO>, target: Target)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let timeout = ctx.opts.limits.header_read_timeout;
    let acceptor = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io);
    let start = match within(timeout, acceptor).await {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            let msg = format!("client sent an invalid TLS ClientHello: {e}");
            return record_client_tls(&ctx, &client, &target, ErrorClass::Protocol, msg);
        }
        None => {
            let msg = format!(
                "the client started a TLS ClientHello but did not finish it within {:?} \
                 (--header-read-timeout)",
                timeout.unwrap_or_default()
            );
            return record_client_tls(&ctx, &client, &target, ErrorClass::Protocol, msg);
        }
    };
    let sni = start.client_hello().server_name().map(str::to_string);
    let name = sni.clone().unwrap_or_else(|| target.host.clone());
    let config = match ctx.ca.server_config(&name) {
        Ok(c) => c,
        Err(e) => {
            return record_client_tls(&ctx, &client, &target, ErrorClass::ClientTls, e.to_string())
        }
    };
    let began = Instant::now();
    let tls = match within(timeout, start.into_stream(config)).await {
        Some(Ok(tls)) => tls,
        Some(Err(e)) => {
            let msg = client_tls_message(&describe_tls_io_error(&e), &ctx.bundle);
            return record_client_tls(&ctx, &client, &target, ErrorClass::ClientTls, msg);
        }
        None => {
            let msg = format!(
                "the client did not complete the TLS handshake within {:?} \
                 (--header-read-timeout)",
                timeout.unwrap_or_default()
            );
            return record_client_tls(&ctx, &client, &target, ErrorClass::ClientTls, msg);
        }
    };
    let client_tls_ms = ms_since(began);
    let (_, conn) = tls.get_ref();
    let alpn = conn.alpn_protocol().map(super::record::alpn_name);
    let side = Arc::new(ClientSide::new(
        Some(client.addr),
        Some(TunnelSide {
            host: target.host.clone(),
            port: target.port,
            tls: Arc::new(ClientTls {
                client_sni: sni.map(Shared::from),
                client_tls_version: conn.protocol_version().map(super::record::tls_version_name),
                client_tls_group: conn
                    .negotiated_key_exchange_group()
                    .map(|g| super::record::kx_group_name(g.name())),
                client_alpn: alpn.clone(),
            }),
            client_tls_ms,
            tls_time_claimed: AtomicBool::new(false),
        }),
    ));
    let began_serving = Instant::now();
    serve_http(
        ctx.clone(),
        side.clone(),
        tls,
        alpn.as_deref() == Some("h2"),
    )
    .await;
    let served_nothing = side.tunnel.as_ref().is_some_and(|t| {
        !t.tls_time_claimed
            .load(std::sync::atomic::Ordering::Relaxed)
    });
    // GnuTLS clients (Debian's git and curl) check the certificate only after the handshake,
    // then hang up without an alert: a tunnel that ends at once with no request is how a
    // non-Go client says it does not trust gomitm. The go command sends an alert instead,
    // and closes spare connections unused, so it is left out.
    let tool = crate::go::client_tool(&client.headers);
    if served_nothing
        && tool != Some(crate::flow::ClientTool::Go)
        && began_serving.elapsed() < Duration::from_secs(5)
    {
        let msg = client_tls_message(
            "it closed the connection right after the handshake without sending a request",
            &ctx.bundle,
        );
        record_client_tls(&ctx, &client, &target, ErrorClass::ClientTls, msg);
    }
}

/// Serve decrypted HTTP from a tunnel. Connection-level failures are debug-logged: the
/// requests themselves were recorded by the exchange.
async fn serve_http<IO>(ctx: Arc<Ctx>, side: Arc<ClientSide>, io: IO, h2: bool)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let store = ctx.store.clone();
    let client_addr = side.client_addr;
    let limits = ctx.opts.limits;
    let svc_side = side.clone();
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        let side = svc_side.clone();
        async move { Ok::<_, Infallible>(exchange::handle(ctx, side, req).await) }
    });
    let (io, unanswered) = Watched::new(io);
    let io = TokioIo::new(io);
    let result = if h2 {
        hyper::server::conn::http2::Builder::new(InterruptibleExecutor(store.clone()))
            .timer(TokioTimer::new())
            .max_header_list_size(super::context::MAX_HEAD_BYTES as u32)
            .serve_connection(io, service)
            .await
    } else {
        super::client_conn::http1_server(&limits)
            .serve_connection(io, service)
            .with_upgrades()
            .await
    };
    if let Err(e) = result {
        let partial = unanswered.load(std::sync::atomic::Ordering::Relaxed);
        let timeout = limits.header_read_timeout;
        super::client_conn::record_connection_error(&store, client_addr, &e, partial, timeout);
    }
}

/// The words a user needs when a client rejects gomitm's certificate.
fn client_tls_message(reason: &str, bundle: &std::path::Path) -> String {
    let b = bundle.display();
    format!(
        "the client aborted the TLS handshake ({reason}): it most likely does not trust the \
         gomitm CA. Linux: SSL_CERT_FILE={b} (system roots + gomitm CA; eval \"$(gomitm env)\" \
         sets it); macOS: trust the CA in the Keychain (Go ignores SSL_CERT_FILE there); \
         Windows: import it into the Trusted Root store; git: GIT_SSL_CAINFO={b}"
    )
}

fn record_client_tls(ctx: &Ctx, client: &Origin, target: &Target, class: ErrorClass, msg: String) {
    tracing::debug!("client TLS with {} failed: {msg}", target.authority());
    let mut flow = tunnel_flow(client, &target.authority());
    finish(&mut flow, Some((class, msg)));
    ctx.store.add(flow);
}

/// `--no-intercept` hosts: dial first, so a failure can still be answered with a 502.
async fn blind(
    ctx: Arc<Ctx>,
    client: Origin,
    req: Request<Incoming>,
    target: Target,
    rule: Option<String>,
    slot: ConnSlot,
) -> Response<ProxyBody> {
    let started = Instant::now();
    let mut flow = tunnel_flow(&client, &target.authority());
    flow.rules = rule.into_iter().collect();
    let (upstream, info) = match ctx.upstream.dialer().dial(&target, false).await {
        Ok(ok) => ok,
        Err(e) => {
            flow.timings.total_ms = Some(ms_since(started));
            finish(&mut flow, Some((e.class(), e.to_string())));
            ctx.store.add(flow);
            return e.to_response();
        }
    };
    flow.timings.dns_ms = info.dns_ms;
    flow.timings.connect_ms = info.connect_ms;
    let up = flow.connection.upstream_mut();
    up.server_addr = info.server_addr.map(|a| a.to_string().into());
    up.via_upstream_proxy = info.via_proxy.clone();
    let stored = ctx.store.add(flow);
    let store = ctx.store.clone();
    super::interrupt::spawn(store, async move {
        let _slot = slot;
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let client = TokioIo::new(upgraded);
        copy_and_record(
            ctx,
            (*stored).clone(),
            client,
            upstream,
            Bytes::new(),
            started,
        )
        .await;
    });
    empty(StatusCode::OK)
}

/// Non-TLS bytes after CONNECT: tunnel them unchanged to the target.
async fn run_tunnel<IO>(ctx: Arc<Ctx>, origin: Origin, client: IO, target: Target, prefix: Bytes)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let started = Instant::now();
    let mut flow = tunnel_flow(&origin, &target.authority());
    match ctx.upstream.dialer().dial(&target, false).await {
        Ok((upstream, info)) => {
            flow.timings.dns_ms = info.dns_ms;
            flow.timings.connect_ms = info.connect_ms;
            let up = flow.connection.upstream_mut();
            up.server_addr = info.server_addr.map(|a| a.to_string().into());
            up.via_upstream_proxy = info.via_proxy.clone();
            let stored = ctx.store.add(flow);
            copy_and_record(ctx, (*stored).clone(), client, upstream, prefix, started).await;
        }
        Err(e) => {
            flow.timings.total_ms = Some(ms_since(started));
            finish(&mut flow, Some((e.class(), e.to_string())));
            ctx.store.add(flow);
        }
    }
}

async fn copy_and_record<C, U>(
    ctx: Arc<Ctx>,
    mut flow: Flow,
    client: C,
    upstream: U,
    prefix: Bytes,
    started: Instant,
) where
    C: AsyncRead + AsyncWrite + Send + Unpin,
    U: AsyncRead + AsyncWrite + Send + Unpin,
{
    // Counted as read, so that a tunnel cut short (an error, or gomitm stopping) still
    // records how far it got.
    let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut client = ReadCounted::new(client, up.clone());
    let mut upstream = ReadCounted::new(upstream, down.clone());
    let copied = async {
        upstream.write_all(&prefix).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await
    };
    let error = tokio::select! {
        result = copied => result.err().map(|e| {
            (ErrorClass::UpstreamReset, format!("tunnel ended with an error: {e}"))
        }),
        () = ctx.store.interrupted() => Some((
            ErrorClass::Interrupted,
            "gomitm was stopped while the tunnel was open".to_string(),
        )),
    };
    flow.tunnel = Some(TunnelStats {
        bytes_up: prefix.len() as u64 + up.load(Ordering::Relaxed),
        bytes_down: down.load(Ordering::Relaxed),
    });
    flow.timings.total_ms = Some(ms_since(started));
    finish(&mut flow, error);
    ctx.store.update(flow);
}
