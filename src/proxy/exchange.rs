//! One request/response exchange: the only code that creates and completes HTTP flows.
//!
//! Records the request, forwards it upstream through the pool, streams the response back
//! through a `CapturingBody`, and makes sure every path — success, upstream failure, client
//! gone — ends as a finished flow. Does not parse CONNECT or accept sockets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Request, Response, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::body::{Appended, BodyEnd, BodyOutcome, CapturingBody, ProxyBody};
use super::dial::{ms_since, Target};
use super::error::{error_response, ProxyError};
use super::upstream::Sent;
use super::Ctx;
use crate::flow::header_value;
use crate::flow::{
    ErrorClass, Flow, FlowError, FlowKind, FlowState, Headers, Response as FlowResponse,
};
use crate::go::diagnose::{diagnose, diagnosis_lines, DiagnoseContext, Os};
use crate::store::Store;

/// What is known about the client side of the connection a request arrived on.
#[derive(Debug, Default)]
pub struct ClientSide {
    pub client_addr: Option<SocketAddr>,
    /// Set when the request came through an intercepted CONNECT tunnel.
    pub tunnel: Option<TunnelSide>,
}

#[derive(Debug)]
pub struct TunnelSide {
    pub host: String,
    pub port: u16,
    pub sni: Option<String>,
    pub tls_version: Option<String>,
    pub alpn: Option<String>,
    pub client_tls_ms: f64,
    /// The handshake time belongs to the first request of the tunnel only.
    pub tls_time_claimed: AtomicBool,
}

/// Handle one request from a client; always answers (errors become readable 502/504s).
pub async fn handle(
    ctx: Arc<Ctx>,
    side: Arc<ClientSide>,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let target = match target_of(&req, &side) {
        Ok(t) => t,
        Err(e) => return reject(&ctx.store, &side, &req, e),
    };
    let cell = FlowCell::start(ctx.store.clone(), new_flow(&req, &target, &side));
    let guard = AbortGuard(cell.clone());
    cell.lock().connection.insecure_upstream = ctx.upstream.dialer().config().insecure;
    if ctx.is_own_address(&target) {
        let e = ProxyError::Refused(format!(
            "{} is gomitm itself (a proxy loop)",
            target.authority()
        ));
        cell.fail(&e);
        return e.to_response();
    }
    let upstream_req = cell
        .clone()
        .upstream_request(req, ctx.opts.max_body_capture);
    let result = ctx.upstream.send(&target, upstream_req).await;
    let response = match result {
        Err(e) => {
            let flow = cell.fail(&e);
            error_reply(&e, &flow, &ctx)
        }
        Ok(sent) => cell.clone().respond(sent, &ctx),
    };
    drop(guard);
    response
}

fn target_of(req: &Request<Incoming>, side: &ClientSide) -> Result<Target, ProxyError> {
    if let Some(t) = &side.tunnel {
        return Ok(Target {
            https: true,
            host: t.host.clone(),
            port: t.port,
        });
    }
    let uri = req.uri();
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        Some(other) => {
            return Err(ProxyError::Protocol(format!(
                "unsupported scheme {other:?}"
            )))
        }
        None => {
            return Err(ProxyError::Protocol(
                "not a proxy request (no absolute URL)".into(),
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| ProxyError::Protocol("absolute URL without a host".into()))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Target { https, host, port })
}

/// A request gomitm cannot forward still becomes a flow.
fn reject(
    store: &Store,
    side: &ClientSide,
    req: &Request<Incoming>,
    e: ProxyError,
) -> Response<ProxyBody> {
    let mut flow = Flow {
        started_at_us: now_us(),
        client_addr: side.client_addr.map(|a| a.to_string()),
        ..Flow::default()
    };
    flow.request.method = req.method().to_string();
    flow.request.url = req.uri().to_string();
    flow.request.http_version = version_name(req.version());
    flow.request.headers = headers_of(req.headers());
    flow.error = Some(FlowError {
        class: e.class(),
        message: e.to_string(),
    });
    flow.state = FlowState::Done;
    store.add(flow);
    e.to_response()
}

fn new_flow(req: &Request<Incoming>, target: &Target, side: &ClientSide) -> Flow {
    let mut flow = Flow {
        kind: FlowKind::Http,
        started_at_us: now_us(),
        client_addr: side.client_addr.map(|a| a.to_string()),
        ..Flow::default()
    };
    flow.request.method = req.method().to_string();
    flow.request.url = url_of(req, target);
    flow.request.http_version = version_name(req.version());
    flow.request.headers = headers_of(req.headers());
    // Classified in-line, before the first event, so every observer sees it.
    flow.go = crate::go::classify(
        &flow.request.method,
        &flow.request.url,
        &flow.request.headers,
    );
    flow.tool = crate::go::client_tool(&flow.request.headers);
    if let Some(t) = &side.tunnel {
        let c = &mut flow.connection;
        c.client_sni = t.sni.clone();
        c.client_tls_version = t.tls_version.clone();
        c.client_alpn = t.alpn.clone();
        if !t.tls_time_claimed.swap(true, Ordering::Relaxed) {
            flow.timings.client_tls_ms = Some(t.client_tls_ms);
        }
    }
    flow
}

fn url_of(req: &Request<Incoming>, target: &Target) -> String {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let (scheme, default_port) = if target.https {
        ("https", 443)
    } else {
        ("http", 80)
    };
    let mut host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    // Userinfo in an absolute-form URL is what the client sent: keep it in the record (HAR
    // export and the log redact it).
    if let Some((userinfo, _)) = req
        .uri()
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
    {
        host = format!("{userinfo}@{host}");
    }
    if target.port == default_port {
        format!("{scheme}://{host}{path}")
    } else {
        format!("{scheme}://{host}:{}{path}", target.port)
    }
}

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub fn version_name(v: Version) -> String {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/?",
    }
    .to_string()
}

pub fn headers_of(map: &HeaderMap) -> Headers {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus any the Connection header names; they describe
/// one connection and must not be forwarded. Proxy-Authorization is meant for gomitm.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for name in named {
        headers.remove(name.as_str());
    }
    for name in [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// The in-progress flow of one exchange, finished exactly once.
struct FlowCell {
    store: Arc<Store>,
    flow: Mutex<Flow>,
    started: Instant,
    marks: Mutex<Marks>,
}

#[derive(Default)]
struct Marks {
    sent_at: Option<Instant>,
    head_at: Option<Instant>,
    request_end: Option<Instant>,
}

impl FlowCell {
    fn start(store: Arc<Store>, flow: Flow) -> Arc<FlowCell> {
        let stored = store.add(flow);
        Arc::new(FlowCell {
            store,
            flow: Mutex::new((*stored).clone()),
            started: Instant::now(),
            marks: Mutex::new(Marks::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Flow> {
        self.flow.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, flow: &Flow) {
        self.store.update(flow.clone());
    }

    fn upstream_request(self: Arc<Self>, req: Request<Incoming>, cap: usize) -> Request<ProxyBody> {
        let (mut parts, body) = req.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let body = CapturingBody::new(body, cap, move |o| self.request_body_done(o));
        Request::from_parts(parts, body.boxed_unsync())
    }

    fn request_body_done(&self, outcome: BodyOutcome) {
        self.marks().request_end = Some(outcome.ended_at);
        let mut flow = self.lock();
        flow.request.body = outcome.capture;
        if flow.is_done() {
            self.publish(&flow);
        }
    }

    fn fail(&self, e: &ProxyError) -> Flow {
        let mut flow = self.lock();
        if flow.is_done() {
            return flow.clone();
        }
        flow.error = Some(FlowError {
            class: e.class(),
            message: e.to_string(),
        });
        flow.state = FlowState::Done;
        flow.timings.total_ms = Some(ms_since(self.started));
        self.publish(&flow);
        flow.clone()
    }

    fn respond(self: Arc<Self>, sent: Sent, ctx: &Ctx) -> Response<ProxyBody> {
        let Sent {
            response,
            meta,
            reused,
            sent_at,
            head_at,
        } = sent;
        {
            let mut marks = self.marks();
            marks.sent_at = Some(sent_at);
            marks.head_at = Some(head_at);
        }
        let (mut parts, body) = response.into_parts();
        {
            let mut flow = self.lock();
            flow.response = Some(FlowResponse {
                status: parts.status.as_u16(),
                reason: parts.status.canonical_reason().unwrap_or("").to_string(),
                http_version: version_name(parts.version),
                headers: headers_of(&parts.headers),
                body: Default::default(),
            });
            let c = &mut flow.connection;
            c.server_addr = meta.dial.server_addr.map(|a| a.to_string());
            c.upstream_conn_id = Some(meta.id);
            c.reused = reused;
            c.tls_version = meta.dial.tls_version.clone();
            c.alpn = meta.dial.alpn.clone();
            c.insecure_upstream = ctx.upstream.dialer().config().insecure;
            c.via_upstream_proxy = meta.dial.via_proxy.clone();
            if !reused {
                flow.timings.dns_ms = meta.dial.dns_ms;
                flow.timings.connect_ms = meta.dial.connect_ms;
                flow.timings.tls_ms = meta.dial.tls_ms;
            }
            self.publish(&flow);
        }
        strip_hop_by_hop(&mut parts.headers);
        let annotation = ctx
            .opts
            .annotate
            .then(|| annotation_for(&self.lock(), ctx))
            .flatten();
        let cell = self.clone();
        let body = CapturingBody::new(body, ctx.opts.max_body_capture, move |o| {
            cell.response_done(o)
        })
        .with_idle_timeout(ctx.opts.upstream_timeout)
        .boxed_unsync();
        match annotation {
            Some(text) => {
                // The length changes; the body is re-framed (chunked, or h2 data frames).
                parts.headers.remove(http::header::CONTENT_LENGTH);
                Response::from_parts(parts, Appended::new(body, text.into()).boxed_unsync())
            }
            None => Response::from_parts(parts, body),
        }
    }

    fn response_done(&self, outcome: BodyOutcome) {
        let (sent_at, head_at, request_end) = {
            let m = self.marks();
            (m.sent_at, m.head_at, m.request_end)
        };
        let mut flow = self.lock();
        if flow.is_done() {
            return;
        }
        if let (Some(sent), Some(head)) = (sent_at, head_at) {
            // The request is "sent" when its body has been handed over; a body still
            // streaming when the head arrived counts as sent when the request was handed over
            // (send 0): its upload overlaps the wait.
            let req_end = request_end.filter(|e| *e <= head).unwrap_or(sent).max(sent);
            flow.timings.send_ms = Some(ms_between(sent, req_end));
            flow.timings.wait_ms = Some(ms_between(req_end, head));
            flow.timings.receive_ms = Some(ms_between(head, outcome.ended_at));
        }
        flow.error = body_error(&outcome.end, flow.host());
        if let Some(resp) = flow.response.as_mut() {
            resp.body = outcome.capture;
        }
        flow.state = FlowState::Done;
        flow.timings.total_ms = Some(ms_since(self.started));
        self.publish(&flow);
    }
}

fn diagnose_ctx(ctx: &Ctx) -> DiagnoseContext<'_> {
    DiagnoseContext {
        private: &ctx.opts.private,
        os: Os::current(),
        bundle: Some(&ctx.bundle),
    }
}

/// gomitm's own error answer: the failing hop and cause, then the diagnosis and its fix when
/// there is one (the go command prints this under `server response:`).
fn error_reply(e: &ProxyError, flow: &Flow, ctx: &Ctx) -> Response<ProxyBody> {
    match diagnose(flow, &diagnose_ctx(ctx)) {
        Some(d) => error_response(
            e.status(),
            format!("gomitm: {e}\n{}\n", diagnosis_lines(&d)),
        ),
        None => e.to_response(),
    }
}

/// `--annotate`: the diagnosis to append to an upstream 4xx plain-text answer, if any.
fn annotation_for(flow: &Flow, ctx: &Ctx) -> Option<String> {
    let resp = flow.response.as_ref()?;
    let plain =
        header_value(&resp.headers, "content-type").is_some_and(|t| t.starts_with("text/plain"));
    let encoded = header_value(&resp.headers, "content-encoding").is_some();
    if !(400..500).contains(&resp.status) || !plain || encoded {
        return None;
    }
    diagnose(flow, &diagnose_ctx(ctx)).map(|d| format!("{}\n", diagnosis_lines(&d)))
}

fn body_error(end: &BodyEnd, host: &str) -> Option<FlowError> {
    let (class, message) = match end {
        BodyEnd::Complete => return None,
        BodyEnd::Failed(m) => (
            ErrorClass::UpstreamReset,
            format!("upstream {host} cut the response body short: {m}"),
        ),
        BodyEnd::IdleTimeout(d) => (
            ErrorClass::UpstreamTimeout,
            format!("upstream {host} stalled mid-body: no data for {d:?}"),
        ),
        BodyEnd::Dropped => (
            ErrorClass::ClientAbort,
            "the client went away before the response body ended".to_string(),
        ),
    };
    Some(FlowError { class, message })
}

fn ms_between(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64() * 1000.0
}

/// If the handler is dropped (the client hung up) before a response head, the flow still
/// finishes — as a client abort — instead of staying in flight forever.
struct AbortGuard(Arc<FlowCell>);

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let mut flow = self.0.lock();
        if flow.is_done() || flow.response.is_some() {
            return;
        }
        flow.error = Some(FlowError {
            class: ErrorClass::ClientAbort,
            message: "the client went away before the response arrived".into(),
        });
        flow.state = FlowState::Done;
        flow.timings.total_ms = Some(ms_since(self.0.started));
        self.0.publish(&flow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_stripped() {
        let mut h = HeaderMap::new();
        h.insert("connection", "keep-alive, X-Secret-Hop".parse().unwrap());
        h.insert("x-secret-hop", "1".parse().unwrap());
        h.insert("proxy-authorization", "Basic eDp5".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("authorization", "Bearer t".parse().unwrap());
        h.insert("user-agent", "Go-http-client/1.1".parse().unwrap());
        strip_hop_by_hop(&mut h);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["authorization", "user-agent"]);
    }

    #[test]
    fn body_errors_map_to_classes() {
        assert_eq!(body_error(&BodyEnd::Complete, "h"), None);
        let cut = body_error(&BodyEnd::Failed("reset".into()), "goproxy.test").unwrap();
        assert_eq!(cut.class, ErrorClass::UpstreamReset);
        assert!(cut.message.contains("goproxy.test"));
        let gone = body_error(&BodyEnd::Dropped, "h").unwrap();
        assert_eq!(gone.class, ErrorClass::ClientAbort);
        let slow = body_error(
            &BodyEnd::IdleTimeout(std::time::Duration::from_secs(1)),
            "h",
        );
        assert_eq!(slow.unwrap().class, ErrorClass::UpstreamTimeout);
    }

    #[test]
    fn version_names_match_har_conventions() {
        assert_eq!(version_name(Version::HTTP_11), "HTTP/1.1");
        assert_eq!(version_name(Version::HTTP_2), "HTTP/2");
    }
}
