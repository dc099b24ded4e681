//! The server side: the accept loop, one task per client connection (HTTP/1.1 to gomitm,
//! with limits and graceful shutdown), and the dispatch of each request: absolute-form
//! `http://` to the exchange, `CONNECT` to `connect`, anything else a short help page (and
//! `/ca.pem`). A failure in one connection never ends the accept loop; it becomes a flow.

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
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::body::ProxyBody;
use super::client_conn::{http1_server, record_connection_error, record_failure};
use super::context::{ConnSlot, Ctx};
use super::error::ProxyError;
use super::limits::{self, Admission, ConnCounter, Permit};
use super::watched::Watched;
use super::{auth, connect, exchange, interrupt};
use crate::flow::ErrorClass;

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
                        let task = serve_client(ctx.clone(), stream, peer, Arc::new(p));
                        interrupt::spawn(ctx.store.clone(), task);
                    }
                    Admission::Refuse(p) => {
                        let task = refuse_client(ctx.clone(), stream, peer, p);
                        interrupt::spawn(ctx.store.clone(), task);
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
    // One per client connection, as inside a tunnel: its budget and the upstream connection
    // it keeps span the connection's requests.
    let side = Arc::new(exchange::ClientSide::new(Some(peer), None));
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        let slot = slot.clone();
        let side = side.clone();
        async move { Ok::<_, Infallible>(route(ctx, peer, req, slot, side).await) }
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
    side: Arc<exchange::ClientSide>,
) -> Response<ProxyBody> {
    let proxied = req.method() == Method::CONNECT || req.uri().scheme().is_some();
    if proxied {
        let gate = auth::Gate {
            auth: ctx.auth.as_ref(),
            store: &ctx.store,
            listen_addr: ctx.listen_addr,
        };
        if let Some(refusal) = auth::admit(gate, peer, &mut req) {
            return refusal;
        }
    }
    if req.method() == Method::CONNECT {
        return connect::handle(ctx, peer, req, slot).await;
    }
    if req.uri().scheme().is_none() {
        return local_page(&ctx, &req);
    }
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
