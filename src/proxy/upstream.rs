//! The upstream connection pool: one pooled HTTP connection set per (scheme, host, port),
//! speaking the client's protocol where the server does (an h2 client's request goes out
//! over h2, an HTTP/1.1 client's over HTTP/1.1), and per-request timing (reuse,
//! dns/connect/tls, wait).
//!
//! Also the one retry of a request the upstream never processed (see [`Upstream::send`]).
//!
//! Written by hand rather than with a pooled client so that each flow can record how its
//! connection was made. Knows nothing of flows or the store beyond the retry reason it reports.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::OwnedSemaphorePermit;

use super::body::{error_chain, ProxyBody};
use super::counted::ReadCounted;
use super::dial::{Alpn, DialInfo, Dialer, Target};
use super::error::ProxyError;
use crate::flow::RetryReason;

/// Idle HTTP/1.1 connections kept per target, and for how long. HTTP/1.1 clients get an
/// HTTP/1.1 connection each, so this has to cover their concurrency: with 16, 64 keep-alive
/// clients kept redialling.
const MAX_IDLE_PER_TARGET: usize = 256;
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How often idle connections past `IDLE_TIMEOUT` are closed, so that a burst of parallel
/// HTTP/1.1 clients does not leave hundreds of sockets open once the traffic stops.
const IDLE_SWEEP: Duration = Duration::from_secs(15);

/// A client connection's share of upstream HTTP/1.1 connections: each request that needs
/// one holds a permit until its connection is back in the pool (or gone), so one client
/// connection never holds more than the budget's size. An h2 client multiplexes any number
/// of requests over one connection to gomitm; without this, an HTTP/1.1-only upstream would
/// get a connection per concurrent request. Requests past the budget wait for a connection
/// to come free, as a browser's requests do; an h2 upstream connection needs no permit.
#[derive(Clone)]
pub struct UpstreamBudget {
    permits: Arc<tokio::sync::Semaphore>,
    kept: Arc<Kept>,
}

impl UpstreamBudget {
    pub fn new(size: usize) -> UpstreamBudget {
        UpstreamBudget {
            permits: Arc::new(tokio::sync::Semaphore::new(size.max(1))),
            kept: Arc::default(),
        }
    }

    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed; `None` would only mean no bound.
        self.permits.clone().acquire_owned().await.ok()
    }
}

/// Connection affinity: the HTTP/1.1 upstream connection a client connection used last,
/// kept for that client's next request to the same target, as mitmproxy keeps one. Taking it
/// back needs neither the shared pool's lock nor a hash of the target; a keep-alive client
/// sending request after request to one host (the common case) never touches the pool.
/// When the client connection ends, the connection goes to the shared pool for others.
#[derive(Default)]
pub struct Kept(Mutex<Option<KeptConn>>);

struct KeptConn {
    upstream: Arc<Upstream>,
    target: Target,
    idle: IdleH1,
}

impl Kept {
    fn lock(&self) -> MutexGuard<'_, Option<KeptConn>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kept connection, if it is to `target` and still fit to send on.
    fn take(&self, target: &Target) -> Option<(http1::SendRequest<ProxyBody>, ConnMeta)> {
        let mut kept = self.lock();
        if kept.as_ref()?.target != *target {
            return None;
        }
        let k = kept.take()?;
        drop(kept);
        (k.idle.since.elapsed() < IDLE_TIMEOUT && k.idle.sender.is_ready())
            .then_some((k.idle.sender, k.idle.meta))
    }

    /// Keep `conn` unless one is kept already; then it is handed back.
    fn offer(&self, conn: KeptConn) -> Option<KeptConn> {
        let mut kept = self.lock();
        if kept.is_some() {
            return Some(conn);
        }
        *kept = Some(conn);
        None
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        let kept = self.0.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(k) = kept {
            k.upstream.pool_idle(k.target, k.idle);
        }
    }
}

/// How the connection a request went over was made.
#[derive(Debug, Clone, Default)]
pub struct ConnMeta {
    pub id: u64,
    /// Shared: every request on the connection carries its meta, and a certificate summary
    /// is not small.
    pub dial: Arc<DialInfo>,
    pub h2: bool,
    /// The connection as each of its flows records it, made once: a flow takes a reference
    /// rather than copying its nine fields.
    pub record: Arc<crate::flow::UpstreamConn>,
    /// Bytes an HTTP/1.1 connection has read from the server so far: a request that failed
    /// with this unchanged got not one byte of an answer.
    read: Arc<AtomicU64>,
}

/// A response head from upstream, with how it was obtained.
pub struct Sent {
    pub response: Response<Incoming>,
    pub meta: ConnMeta,
    pub reused: bool,
    /// When the request was handed to the connection (after dialing).
    pub sent_at: Instant,
    /// When the response head arrived.
    pub head_at: Instant,
    /// Set when this is the answer to a second attempt, and why the first was not enough.
    pub retried: Option<RetryReason>,
    /// The HTTP/1.1 connection the answer came on, lent until its body ends
    /// ([`Lease::returned_at_end`]); `None` for h2, whose connection is shared.
    pub lease: Option<Lease>,
}

/// An HTTP/1.1 connection lent to one exchange, with the client's permit for it. It goes back
/// to its client's slot ([`Kept`]) or the pool when the response body has been read to its
/// end, from the exchange's own task.
/// (A task spawned per request to wait for the connection to be ready again woke a second
/// worker thread for every request: two tasks scheduled in one poll make tokio notify an idle
/// worker. See docs/PERFORMANCE.md, context switches.)
pub struct Lease {
    upstream: Arc<Upstream>,
    target: Target,
    sender: http1::SendRequest<ProxyBody>,
    meta: ConnMeta,
    permit: Option<OwnedSemaphorePermit>,
    /// The client connection's slot for it (see [`Kept`]); `None` for an h2 client, whose
    /// requests go by the shared pool and would never take a kept connection back.
    kept: Option<Arc<Kept>>,
}

impl Lease {
    /// `body`, which gives the connection back to the pool once it has ended. A body dropped
    /// before its end drops the connection: hyper closes one with an answer left unread.
    /// Not boxed: the capture around it boxes the whole chain once.
    pub fn returned_at_end<B: Body>(self, body: B) -> Leased<B> {
        if body.is_end_stream() {
            self.give_back();
            return Leased::unleased(body);
        }
        Leased {
            body,
            lease: Some(self),
        }
    }

    /// For a connection that is not coming back as it is (a `101 Switching Protocols` hands
    /// it to the upgrade): wait, off the exchange's path, for what hyper makes of it.
    pub fn release(self) {
        self.upstream.clone().return_when_ready(
            self.target,
            self.sender,
            self.meta,
            self.permit,
            self.kept,
        );
    }

    /// The connection's task has usually taken the body's end already and waits for the
    /// next request. When it has not (it is still sending a request body the server answered
    /// before reading, or it is closing), a task waits for it instead, as before: pooling a
    /// connection that is not ready would make the next request wait on it.
    fn give_back(self) {
        if !self.sender.is_ready() {
            self.release();
            return;
        }
        let Lease {
            upstream,
            target,
            sender,
            meta,
            permit,
            kept,
        } = self;
        let idle = IdleH1 {
            sender,
            meta,
            since: Instant::now(),
        };
        upstream.keep_or_pool(kept.as_deref(), target, idle);
        // After it is back, so that the client's next request finds it there.
        drop(permit);
    }
}

/// An answer's body that carries its connection's [`Lease`] until it ends (or none: an h2
/// answer, or a body already at its end).
pub struct Leased<B> {
    body: B,
    lease: Option<Lease>,
}

impl<B> Leased<B> {
    pub fn unleased(body: B) -> Leased<B> {
        Leased { body, lease: None }
    }
}

impl<B> Body for Leased<B>
where
    B: Body<Data = bytes::Bytes, Error = super::body::BoxError> + Unpin,
{
    type Data = bytes::Bytes;
    type Error = super::body::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        use std::task::Poll;
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => {
                if let Some(lease) = self.lease.take() {
                    lease.give_back();
                }
            }
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => {
                if let Some(lease) = self.lease.take() {
                    lease.give_back();
                }
            }
            // A broken answer leaves the connection unusable.
            Poll::Ready(Some(Err(_))) => drop(self.lease.take()),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A request that got no answer, with the retry that came before the failure, if any.
#[derive(Debug)]
pub struct SendError {
    pub error: ProxyError,
    pub retried: Option<RetryReason>,
}

impl From<ProxyError> for SendError {
    fn from(error: ProxyError) -> SendError {
        SendError {
            error,
            retried: None,
        }
    }
}

enum Sender {
    H1(http1::SendRequest<ProxyBody>),
    H2(http2::SendRequest<ProxyBody>),
}

struct IdleH1 {
    sender: http1::SendRequest<ProxyBody>,
    meta: ConnMeta,
    since: Instant,
}

#[derive(Default)]
struct Slots {
    h2: Option<(http2::SendRequest<ProxyBody>, ConnMeta)>,
    h1: Vec<IdleH1>,
    /// What the target chose when last offered both h2 and HTTP/1.1 (`Some(true)`: h2).
    /// While this is not known to be HTTP/1.1, h2 connections are dialled one at a time, so
    /// that a burst of requests (the go command opens one tunnel per parallel download)
    /// shares a single h2 connection instead of opening one each.
    speaks_h2: Option<bool>,
    /// The target refused an offer of HTTP/1.1 alone: it speaks only h2, so HTTP/1.1 clients
    /// share its h2 connection too.
    h2_only: bool,
    dialing: Arc<tokio::sync::Mutex<()>>,
}

pub struct Upstream {
    dialer: Dialer,
    /// Limit on waiting for a response head (the go command itself has none).
    head_timeout: Option<Duration>,
    pool: Mutex<HashMap<Target, Slots>>,
    next_conn_id: AtomicU64,
}

impl Upstream {
    pub fn new(dialer: Dialer, head_timeout: Option<Duration>) -> Arc<Upstream> {
        let upstream = Arc::new(Upstream {
            dialer,
            head_timeout,
            pool: Mutex::new(HashMap::new()),
            next_conn_id: AtomicU64::new(1),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&upstream);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(IDLE_SWEEP);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(upstream) = weak.upgrade() else {
                        break;
                    };
                    upstream.close_expired();
                }
            });
        }
        upstream
    }

    /// Drop idle HTTP/1.1 connections past their time or closed by the server; dropping the
    /// last sender ends the connection and closes its socket.
    fn close_expired(&self) {
        let _expired: Vec<IdleH1> = {
            let mut pool = self.lock();
            let mut expired = Vec::new();
            for slots in pool.values_mut() {
                let (keep, gone) = std::mem::take(&mut slots.h1)
                    .into_iter()
                    .partition(|i| i.since.elapsed() < IDLE_TIMEOUT && !i.sender.is_closed());
                slots.h1 = keep;
                expired.extend(gone);
            }
            expired
        };
    }

    pub fn dialer(&self) -> &Dialer {
        &self.dialer
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Target, Slots>> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `req` (absolute URI) to `target`, reusing a pooled connection when one is free;
    /// an HTTP/1.1 connection is taken or dialled only within the client's `budget`.
    pub async fn send(
        self: &Arc<Self>,
        target: &Target,
        req: Request<ProxyBody>,
        budget: &UpstreamBudget,
    ) -> Result<Sent, SendError> {
        // Plain http has no ALPN and is always HTTP/1.1.
        let alpn = if req.version() == Version::HTTP_2 && target.https {
            Alpn::H2OrHttp1
        } else {
            Alpn::Http1
        };
        // A client speaking HTTP/1.1 to a target it used last: the connection it kept. (An h2
        // client's requests run in parallel and go by the shared pool; kept for it, a
        // connection would sit idle outside its budget.)
        let kept = (alpn == Alpn::Http1).then_some(&budget.kept);
        if let Some(kept) = kept {
            if let Some((sender, meta)) = kept.take(target) {
                let permit = budget.permit().await;
                return self
                    .send_on(
                        target,
                        alpn,
                        Sender::H1(sender),
                        meta,
                        true,
                        req,
                        permit,
                        Some(kept),
                    )
                    .await;
            }
        }
        if let Some((sender, meta)) = self.checkout_h2(target, alpn) {
            return self
                .send_on(target, alpn, sender, meta, true, req, None, kept)
                .await;
        }
        let permit = budget.permit().await;
        if let Some((sender, meta)) = self.checkout(target, alpn) {
            return self
                .send_on(target, alpn, sender, meta, true, req, permit, kept)
                .await;
        }
        let gate = {
            let mut pool = self.lock();
            let slots = pool.entry(target.clone()).or_default();
            let may_share_h2 = match alpn {
                Alpn::H2OrHttp1 => slots.speaks_h2 != Some(false),
                Alpn::Http1 => slots.h2_only,
            };
            may_share_h2.then(|| slots.dialing.clone())
        };
        let _turn = match &gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        if gate.is_some() {
            if let Some((sender, meta)) = self.checkout(target, alpn) {
                return self
                    .send_on(target, alpn, sender, meta, true, req, permit, kept)
                    .await;
            }
        }
        let connected = self.connect(target, alpn).await;
        drop(_turn);
        let (sender, meta) = connected.map_err(SendError::from)?;
        self.send_on(target, alpn, sender, meta, false, req, permit, kept)
            .await
    }

    /// What a dial learnt about the target. A failed dial offering h2 counts as HTTP/1.1,
    /// so that waiters dial in parallel instead of queueing behind one timeout after another.
    fn remember_protocol(&self, target: &Target, alpn: Alpn, h2: Option<bool>) {
        let mut pool = self.lock();
        let slots = pool.entry(target.clone()).or_default();
        match alpn {
            Alpn::H2OrHttp1 => slots.speaks_h2 = Some(h2.unwrap_or(false)),
            Alpn::Http1 if h2 == Some(true) => {
                slots.h2_only = true;
                slots.speaks_h2 = Some(true);
            }
            Alpn::Http1 => {}
        }
    }

    /// Send on `sender`, and once more on a fresh connection when the first attempt failed in
    /// a way that shows the upstream never processed the request and sending it again is
    /// safe (see [`retry_decision`]); the second attempt's failure is final.
    ///
    /// `permit` is the client's claim on an HTTP/1.1 connection: it goes back to the pool with
    /// the connection; an h2 connection returns it at once.
    #[allow(clippy::too_many_arguments)]
    async fn send_on(
        self: &Arc<Self>,
        target: &Target,
        alpn: Alpn,
        sender: Sender,
        meta: ConnMeta,
        reused: bool,
        req: Request<ProxyBody>,
        permit: Option<OwnedSemaphorePermit>,
        kept: Option<&Arc<Kept>>,
    ) -> Result<Sent, SendError> {
        let idempotent = is_idempotent(req.method(), req.headers());
        let replay = Replay::of(&req);
        let (failure, permit) = match self
            .attempt(target, sender, meta, reused, req, permit, kept)
            .await
        {
            Ok(sent) => return Ok(sent),
            Err(failed) => failed,
        };
        let (reason, req) = match failure {
            // A pooled connection the server closed meanwhile: the request was never written,
            // hyper gave it back whole, body included.
            SendFailure::NotSent(req) if reused => (RetryReason::ReusedConnectionClosed, *req),
            SendFailure::NotSent(_) => return Err(not_sent(target).into()),
            SendFailure::Failed { error, broke } => {
                match retry_decision(broke, reused, idempotent, replay.is_some()) {
                    Decision::Retry(reason) => match replay {
                        Some(replay) => (reason, replay.request()),
                        None => return Err(error.into()),
                    },
                    Decision::NotRetried(why) => {
                        return Err(with_note(error, &format!("not retried: {why}")).into())
                    }
                    Decision::Final => return Err(error.into()),
                }
            }
        };
        tracing::debug!(
            "retrying {} on a fresh connection: {}",
            target.host,
            reason.describe()
        );
        let retried = Some(reason);
        let note = |e: ProxyError| SendError {
            error: with_note(
                e,
                &format!(
                    "after a retry on a fresh connection ({})",
                    reason.describe()
                ),
            ),
            retried,
        };
        let (sender, meta) = self.connect(target, alpn).await.map_err(note)?;
        match self
            .attempt(target, sender, meta, false, req, permit, kept)
            .await
        {
            Ok(sent) => Ok(Sent { retried, ..sent }),
            Err((SendFailure::NotSent(_), _)) => Err(note(not_sent(target))),
            Err((SendFailure::Failed { error, .. }, _)) => Err(note(error)),
        }
    }

    /// One attempt on one connection. On failure the client's permit comes back with it, for
    /// a second attempt.
    // The connection, the request and the client's claims on both, as `send_on` has them.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        self: &Arc<Self>,
        target: &Target,
        sender: Sender,
        meta: ConnMeta,
        reused: bool,
        req: Request<ProxyBody>,
        mut permit: Option<OwnedSemaphorePermit>,
        kept: Option<&Arc<Kept>>,
    ) -> Result<Sent, (SendFailure, Option<OwnedSemaphorePermit>)> {
        let absolute_form = meta.dial.via_proxy.is_some() && !target.https;
        let mut req = shape_request(req, target, meta.h2, absolute_form);
        // Plain http through the upstream proxy is not tunnelled: each request carries the
        // proxy's credentials itself.
        if absolute_form {
            let auth = self
                .dialer
                .config()
                .proxy
                .for_target(target, false)
                .and_then(|p| p.authorization.as_deref());
            if let Some(v) = auth.and_then(|a| http::HeaderValue::from_str(a).ok()) {
                req.headers_mut()
                    .insert(http::header::PROXY_AUTHORIZATION, v);
            }
        }
        let read_before = meta.read.load(Ordering::Relaxed);
        let sent_at = Instant::now();
        let mut lease = None;
        let result = match sender {
            Sender::H2(mut s) => {
                drop(permit.take());
                self.timed(target, s.try_send_request(req)).await
            }
            Sender::H1(mut s) => {
                let fut = s.try_send_request(req);
                let result = self.timed(target, fut).await;
                if result.is_ok() {
                    lease = Some(Lease {
                        upstream: self.clone(),
                        target: target.clone(),
                        sender: s,
                        meta: meta.clone(),
                        permit: permit.take(),
                        kept: kept.cloned(),
                    });
                }
                result
            }
        };
        match result {
            Ok(response) => Ok(Sent {
                response,
                meta,
                reused,
                sent_at,
                head_at: Instant::now(),
                retried: None,
                lease,
            }),
            Err(SendFailure::NotSent(req)) => {
                self.forget_h2(target, meta.id);
                Err((SendFailure::NotSent(req), permit))
            }
            Err(SendFailure::Failed { error, mut broke }) => {
                if meta.h2 && !broke.connection_survives() {
                    self.forget_h2(target, meta.id);
                }
                // Some bytes of an answer came: the server had begun to process the request.
                // h2 says exactly which streams went unprocessed (GOAWAY, REFUSED_STREAM); one
                // cut by the connection's end (hyper reports it as a bare I/O error) may not be.
                if broke == Broke::ClosedBeforeAnswer
                    && (meta.h2 || meta.read.load(Ordering::Relaxed) != read_before)
                {
                    broke = Broke::Connection;
                }
                Err((SendFailure::Failed { error, broke }, permit))
            }
        }
    }

    async fn timed<F>(&self, target: &Target, fut: F) -> Result<Response<Incoming>, SendFailure>
    where
        F: std::future::Future<
            Output = Result<
                Response<Incoming>,
                hyper::client::conn::TrySendError<Request<ProxyBody>>,
            >,
        >,
    {
        let outcome = match self.head_timeout {
            Some(after) => match tokio::time::timeout(after, fut).await {
                Ok(r) => r,
                Err(_) => {
                    // Dropping the request resets only its own h2 stream.
                    let e = ProxyError::UpstreamTimeout {
                        host: target.host.clone(),
                        after,
                    };
                    return Err(SendFailure::Failed {
                        error: e,
                        broke: Broke::Stream,
                    });
                }
            },
            None => fut.await,
        };
        outcome.map_err(|mut e| match e.take_message() {
            Some(req) => SendFailure::NotSent(Box::new(req)),
            None => SendFailure::Failed {
                error: classify_hyper_error(target, e.error()),
                broke: what_broke(e.error()),
            },
        })
    }

    /// A pooled h2 connection for the client's protocol: shared, so it needs no permit.
    fn checkout_h2(&self, target: &Target, alpn: Alpn) -> Option<(Sender, ConnMeta)> {
        self.checkout_of(target, alpn, false)
    }

    /// A pooled connection of the client's protocol, or of the only one the target speaks.
    fn checkout(&self, target: &Target, alpn: Alpn) -> Option<(Sender, ConnMeta)> {
        self.checkout_of(target, alpn, true)
    }

    fn checkout_of(&self, target: &Target, alpn: Alpn, h1: bool) -> Option<(Sender, ConnMeta)> {
        let mut pool = self.lock();
        let slots = pool.get_mut(target)?;
        let (h2_ok, h1_ok) = match alpn {
            Alpn::H2OrHttp1 => (true, slots.speaks_h2 == Some(false)),
            Alpn::Http1 => (slots.h2_only, true),
        };
        let h1_ok = h1_ok && h1;
        if h2_ok {
            if let Some((sender, meta)) = &slots.h2 {
                if !sender.is_closed() && sender.is_ready() {
                    return Some((Sender::H2(sender.clone()), meta.clone()));
                }
                slots.h2 = None;
            }
        }
        if h1_ok {
            while let Some(idle) = slots.h1.pop() {
                if idle.since.elapsed() < IDLE_TIMEOUT && idle.sender.is_ready() {
                    return Some((Sender::H1(idle.sender), idle.meta));
                }
            }
        }
        None
    }

    fn forget_h2(&self, target: &Target, conn_id: u64) {
        let mut pool = self.lock();
        if let Some(slots) = pool.get_mut(target) {
            if slots.h2.as_ref().is_some_and(|(_, m)| m.id == conn_id) {
                slots.h2 = None;
            }
        }
    }

    /// An HTTP/1.1 connection is free again once the response body has been read to its end;
    /// the client's `permit` is released only after it is back in the pool, so that the
    /// client's next request finds it there instead of dialling another.
    fn return_when_ready(
        self: &Arc<Self>,
        target: Target,
        mut sender: http1::SendRequest<ProxyBody>,
        meta: ConnMeta,
        permit: Option<OwnedSemaphorePermit>,
        kept: Option<Arc<Kept>>,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if sender.ready().await.is_err() {
                return;
            }
            let since = Instant::now();
            let idle = IdleH1 {
                sender,
                meta,
                since,
            };
            this.keep_or_pool(kept.as_deref(), target, idle);
        });
    }

    /// An HTTP/1.1 connection free again: kept for the client connection that used it (see
    /// [`Kept`]), or pooled when that client already keeps one.
    fn keep_or_pool(self: &Arc<Self>, kept: Option<&Kept>, target: Target, idle: IdleH1) {
        let Some(kept) = kept else {
            return self.pool_idle(target, idle);
        };
        let conn = KeptConn {
            upstream: self.clone(),
            target,
            idle,
        };
        if let Some(k) = kept.offer(conn) {
            self.pool_idle(k.target, k.idle);
        }
    }

    fn pool_idle(&self, target: Target, idle: IdleH1) {
        let mut pool = self.lock();
        let slots = pool.entry(target).or_default();
        if slots.h1.len() < MAX_IDLE_PER_TARGET {
            slots.h1.push(idle);
        }
    }

    async fn connect(&self, target: &Target, alpn: Alpn) -> Result<(Sender, ConnMeta), ProxyError> {
        // Offering HTTP/1.1 alone to a server known to refuse it would only fail again.
        let h2_only = self.lock().get(target).is_some_and(|s| s.h2_only);
        let alpn = if h2_only { Alpn::H2OrHttp1 } else { alpn };
        let dialed = self.dialer.dial_http(target, alpn).await;
        let spoke_h2 = dialed
            .as_ref()
            .ok()
            .map(|(_, d)| d.alpn.as_deref() == Some("h2"));
        self.remember_protocol(target, alpn, spoke_h2);
        let (io, dial) = dialed?;
        let id = self.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let h2 = spoke_h2 == Some(true);
        let record = Arc::new(crate::flow::UpstreamConn {
            server_addr: dial.server_addr.map(|a| a.to_string().into()),
            tls_version: dial.tls_version.clone(),
            alpn: dial.alpn.clone(),
            tls_group: dial.tls_group.clone(),
            insecure_upstream: self.dialer.config().insecure,
            via_upstream_proxy: dial.via_proxy.clone(),
            server_cert: dial.server_cert.clone(),
        });
        let meta = ConnMeta {
            id,
            dial: Arc::new(dial),
            h2,
            record,
            read: Arc::default(),
        };
        let handshake_err =
            |e: hyper::Error| reset(target, format!("HTTP handshake: {}", error_chain(&e)));
        if h2 {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(TokioIo::new(io))
                .await
                .map_err(handshake_err)?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("upstream h2 connection ended: {e}");
                }
            });
            self.lock().entry(target.clone()).or_default().h2 =
                Some((sender.clone(), meta.clone()));
            Ok((Sender::H2(sender), meta))
        } else {
            let io = ReadCounted::new(io, meta.read.clone());
            let (sender, conn) = http1::Builder::new()
                .handshake(TokioIo::new(io))
                .await
                .map_err(handshake_err)?;
            tokio::spawn(async move {
                // With upgrades: a 101 hands the connection to `upgrade::relay`.
                if let Err(e) = conn.with_upgrades().await {
                    tracing::debug!("upstream http/1.1 connection ended: {e}");
                }
            });
            Ok((Sender::H1(sender), meta))
        }
    }
}

enum SendFailure {
    NotSent(Box<Request<ProxyBody>>),
    Failed { error: ProxyError, broke: Broke },
}

/// What a failed attempt's error shows: how much of the connection is gone, and whether the
/// upstream can have processed the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broke {
    /// The request's own stream only (an h2 RST_STREAM, or gomitm's timeout): an h2
    /// connection stays good for other requests. The server may have acted on the request.
    Stream,
    /// RST_STREAM(REFUSED_STREAM): the server did not process the stream (RFC 9113 §8.7).
    Refused,
    /// A stream above the last-stream-id of the server's GOAWAY, which it did not process
    /// and will not (RFC 9113 §6.8); the connection takes no new streams.
    GoAway,
    /// The connection closed or was reset while the request waited for its answer. Processed
    /// or not is unknown: the keep-alive race (the server timing out an idle connection as the
    /// request goes out) is the usual cause; a server that crashed on it is the other.
    ClosedBeforeAnswer,
    /// Anything else (a parse error, an answer cut short…): the connection is gone.
    Connection,
}

impl Broke {
    fn connection_survives(self) -> bool {
        matches!(self, Broke::Stream | Broke::Refused)
    }
}

/// Whether to send the request once more, on a fresh connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Retry(RetryReason),
    /// It would have been retried were it safe; the reason goes into the error.
    NotRetried(&'static str),
    Final,
}

/// Go's transport and browsers decide the same way: a request the upstream provably did not
/// process (refused, above the GOAWAY) can go again whatever its method; one whose reused
/// connection closed before any byte of the answer only if repeating it is harmless
/// (idempotent). A fresh connection that closes is no keep-alive race but the server
/// refusing the request, not retried. Either way the body must be sent again whole, and it
/// is streamed from the client, not held: only an empty body can be.
fn retry_decision(broke: Broke, reused: bool, idempotent: bool, replayable: bool) -> Decision {
    let reason = match broke {
        Broke::Refused => RetryReason::RefusedStream,
        Broke::GoAway => RetryReason::GoawayUnprocessed,
        Broke::ClosedBeforeAnswer if reused => {
            if !idempotent {
                return Decision::NotRetried("the method is not idempotent");
            }
            RetryReason::ReusedConnectionClosed
        }
        Broke::ClosedBeforeAnswer | Broke::Stream | Broke::Connection => return Decision::Final,
    };
    if !replayable {
        return Decision::NotRetried("its body was streamed and is not held");
    }
    Decision::Retry(reason)
}

/// RFC 9110 §9.2.2's idempotent methods; like Go, also a request carrying an
/// `Idempotency-Key` (or `X-Idempotency-Key`), which says the server dedupes it.
fn is_idempotent(method: &Method, headers: &HeaderMap) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    ) || headers.contains_key("idempotency-key")
        || headers.contains_key("x-idempotency-key")
}

/// A bodiless request's head, kept to send it again: hyper consumes the request it sends.
struct Replay {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
}

impl Replay {
    /// `None` unless the body is known empty before anything is sent.
    fn of(req: &Request<ProxyBody>) -> Option<Replay> {
        req.body().is_end_stream().then(|| Replay {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
        })
    }

    fn request(self) -> Request<ProxyBody> {
        let body = Empty::new().map_err(|never| match never {}).boxed_unsync();
        let mut req = Request::new(body);
        *req.method_mut() = self.method;
        *req.uri_mut() = self.uri;
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers;
        req
    }
}

/// What a hyper error says about the request, from the h2 error inside it if there is one.
fn what_broke(e: &hyper::Error) -> Broke {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return match () {
                // Received from the server: h2 applies a GOAWAY to exactly the streams above
                // its last-stream-id (and to requests opened after it).
                _ if h2.is_remote() && h2.is_go_away() => Broke::GoAway,
                _ if h2.is_remote()
                    && h2.is_reset()
                    && h2.reason() == Some(h2::Reason::REFUSED_STREAM) =>
                {
                    Broke::Refused
                }
                _ if h2.is_reset() && !h2.is_go_away() => Broke::Stream,
                _ => Broke::Connection,
            };
        }
        cur = err.source();
    }
    if e.is_incomplete_message() || e.is_canceled() || closed_by_peer(e) {
        Broke::ClosedBeforeAnswer
    } else {
        Broke::Connection
    }
}

/// An I/O error that means the server closed or reset the connection.
fn closed_by_peer(e: &hyper::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            );
        }
        cur = err.source();
    }
    false
}

fn not_sent(target: &Target) -> ProxyError {
    reset(target, "connection closed before sending".into())
}

/// Add `note` to an upstream error's reason (other errors have none to add to).
fn with_note(e: ProxyError, note: &str) -> ProxyError {
    match e {
        ProxyError::UpstreamReset { host, reason } => ProxyError::UpstreamReset {
            host,
            reason: format!("{reason}; {note}"),
        },
        ProxyError::UpstreamProtocol { host, reason } => ProxyError::UpstreamProtocol {
            host,
            reason: format!("{reason}; {note}"),
        },
        other => other,
    }
}

fn reset(target: &Target, reason: String) -> ProxyError {
    ProxyError::UpstreamReset {
        host: target.host.clone(),
        reason,
    }
}

fn classify_hyper_error(target: &Target, e: &hyper::Error) -> ProxyError {
    let mut reason = error_chain(e);
    if e.is_parse_status() {
        // httparse also says "status-code" when the reason phrase holds a control character,
        // which go's own client reads: say what gomitm refused, not only what hyper says.
        reason = format!("its status line is not valid HTTP/1.1 ({reason}: a malformed code, or a control character in the reason phrase)");
    }
    if e.is_parse() || e.is_parse_status() {
        return ProxyError::UpstreamProtocol {
            host: target.host.clone(),
            reason,
        };
    }
    reset(target, reason)
}

/// Fit the request to the connection: h2 wants an absolute URI and no Host header; HTTP/1.1
/// wants origin-form and a Host header, except towards an upstream proxy for plain http.
/// The Host is the target's (the client's was removed by `exchange`), unless a rule set one.
fn shape_request(
    mut req: Request<ProxyBody>,
    target: &Target,
    h2: bool,
    absolute_form: bool,
) -> Request<ProxyBody> {
    let scheme = if target.https { "https" } else { "http" };
    let origin_form_already = req.uri().scheme().is_none() && req.uri().authority().is_none();
    // The usual case, a request from inside a tunnel going out over HTTP/1.1, keeps its URI.
    if h2 || absolute_form || !origin_form_already {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let uri_text = if h2 || absolute_form {
            format!("{scheme}://{}{path}", target.host_header())
        } else {
            path
        };
        if let Ok(uri) = uri_text.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    if h2 {
        *req.version_mut() = Version::HTTP_2;
        req.headers_mut().remove(http::header::HOST);
    } else {
        *req.version_mut() = Version::HTTP_11;
        // Usually the client's own Host, kept by the exchange because it was already spelled
        // this way; otherwise one built from the target.
        if !req.headers().contains_key(http::header::HOST) {
            if let Ok(v) = http::HeaderValue::try_from(target.host_header()) {
                req.headers_mut().insert(http::header::HOST, v);
            }
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str) -> Request<ProxyBody> {
        let body = Empty::new().map_err(|never| match never {}).boxed_unsync();
        Request::builder().uri(uri).body(body).unwrap()
    }

    fn target(https: bool, port: u16) -> Target {
        Target {
            https,
            host: "goproxy.test".into(),
            port,
        }
    }

    #[test]
    fn provably_unprocessed_requests_are_retried_whatever_the_method() {
        for (broke, reason) in [
            (Broke::Refused, RetryReason::RefusedStream),
            (Broke::GoAway, RetryReason::GoawayUnprocessed),
        ] {
            for reused in [false, true] {
                let d = retry_decision(broke, reused, false, true);
                assert_eq!(d, Decision::Retry(reason), "{broke:?} reused={reused}");
            }
            assert!(matches!(
                retry_decision(broke, true, true, false),
                Decision::NotRetried(_)
            ));
        }
    }

    #[test]
    fn a_closed_connection_is_retried_only_when_reused_idempotent_and_bodiless() {
        let closed = Broke::ClosedBeforeAnswer;
        assert_eq!(
            retry_decision(closed, true, true, true),
            Decision::Retry(RetryReason::ReusedConnectionClosed)
        );
        assert_eq!(retry_decision(closed, false, true, true), Decision::Final);
        assert!(matches!(
            retry_decision(closed, true, false, true),
            Decision::NotRetried(why) if why.contains("idempotent")
        ));
        assert!(matches!(
            retry_decision(closed, true, true, false),
            Decision::NotRetried(why) if why.contains("body")
        ));
        for broke in [Broke::Stream, Broke::Connection] {
            assert_eq!(retry_decision(broke, true, true, true), Decision::Final);
        }
    }

    #[test]
    fn idempotent_methods_are_rfc_9110s_and_idempotency_keys() {
        let none = HeaderMap::new();
        for m in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert!(is_idempotent(&m.parse().unwrap(), &none), "{m}");
        }
        for m in ["POST", "PATCH", "CONNECT"] {
            assert!(!is_idempotent(&m.parse().unwrap(), &none), "{m}");
        }
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "k1".parse().unwrap());
        assert!(is_idempotent(&Method::POST, &keyed));
    }

    #[test]
    fn only_a_bodiless_request_is_kept_for_a_replay() {
        let replay = Replay::of(&req("http://goproxy.test/x")).expect("empty body");
        let again = replay.request();
        assert_eq!(again.uri().to_string(), "http://goproxy.test/x");
        assert!(again.body().is_end_stream());
        let full = http_body_util::Full::new(bytes::Bytes::from_static(b"hello"))
            .map_err(|never| match never {})
            .boxed_unsync();
        let with_body = Request::builder()
            .method("POST")
            .uri("/p")
            .body(full)
            .unwrap();
        assert!(Replay::of(&with_body).is_none());
    }

    #[test]
    fn h1_gets_origin_form_and_a_host_header() {
        let r = shape_request(req("/x/@v/list?a=1"), &target(true, 443), false, false);
        assert_eq!(r.uri().to_string(), "/x/@v/list?a=1");
        assert_eq!(r.headers()[http::header::HOST], "goproxy.test");
        assert_eq!(r.version(), Version::HTTP_11);
    }

    #[test]
    fn h2_gets_an_absolute_uri_and_no_host_header() {
        let mut r = req("/x");
        r.headers_mut().insert(
            http::header::HOST,
            http::HeaderValue::from_static("goproxy.test"),
        );
        let r = shape_request(r, &target(true, 8443), true, false);
        assert_eq!(r.uri().to_string(), "https://goproxy.test:8443/x");
        assert!(r.headers().get(http::header::HOST).is_none());
    }

    #[test]
    fn plain_http_through_an_upstream_proxy_keeps_absolute_form() {
        let r = shape_request(
            req("http://goproxy.test/x"),
            &target(false, 80),
            false,
            true,
        );
        assert_eq!(r.uri().to_string(), "http://goproxy.test/x");
        assert_eq!(r.headers()[http::header::HOST], "goproxy.test");
    }
}
