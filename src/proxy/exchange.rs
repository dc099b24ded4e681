//! One request/response exchange: the only code that creates and completes HTTP flows.
//!
//! Records the request, forwards it upstream through the pool, streams the response back
//! through a `CapturingBody`, and makes sure every path — success, upstream failure, client
//! gone — ends as a finished flow. Does not parse CONNECT or accept sockets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use bytes::Bytes;
use http_body_util::Full;

use super::body::{Appended, BoxError, ProxyBody};
use super::context::Ctx;
use super::dial::Target;
use super::error::{error_response, ProxyError};
use super::flow_cell::{AbortGuard, FlowCell, HeadSource};
use super::hooks::{self, Answer, LocalBody, RequestPlan};
use super::limits::MAX_UPSTREAM_CONNS_PER_CLIENT_CONN;
use super::local_file;
use super::record::{fail_now, request_flow};
use super::served;
use super::shaping::{Throttled, Truncated};
use super::upgrade;
use super::upstream::{Leased, SendError, Sent, UpstreamBudget};
use crate::flow::header_value;
use crate::flow::{ClientTls, Flow, Shared};
use crate::go::diagnose::{diagnose, diagnosis_lines, DiagnoseContext, Os};
use crate::rules::{RemoteTarget, RuleSet};
use crate::store::Store;

/// What is known about the client side of the connection a request arrived on.
pub struct ClientSide {
    pub client_addr: Option<SocketAddr>,
    /// `client_addr` as recorded, formatted once per connection rather than per flow.
    client_addr_text: Option<Shared>,
    /// Set when the request came through an intercepted CONNECT tunnel.
    pub tunnel: Option<TunnelSide>,
    /// The upstream HTTP/1.1 connections this client connection may hold at once.
    budget: UpstreamBudget,
}

impl ClientSide {
    pub fn new(client_addr: Option<SocketAddr>, tunnel: Option<TunnelSide>) -> ClientSide {
        ClientSide {
            client_addr,
            client_addr_text: client_addr.map(|a| a.to_string().into()),
            tunnel,
            budget: UpstreamBudget::new(MAX_UPSTREAM_CONNS_PER_CLIENT_CONN),
        }
    }
}

#[derive(Debug)]
pub struct TunnelSide {
    pub host: String,
    pub port: u16,
    /// The handshake's facts as every flow of the tunnel records them: one shared record.
    pub tls: Arc<ClientTls>,
    pub client_tls_ms: f64,
    /// The handshake time belongs to the first request of the tunnel only.
    pub tls_time_claimed: AtomicBool,
}

/// Handle one request from a client; always answers (errors become readable 502/504s).
pub async fn handle(
    ctx: Arc<Ctx>,
    side: Arc<ClientSide>,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    let replay_of = super::record::take_replay_of(req.headers_mut());
    let (target, client_host) = match target_of(&req, &side).and_then(|t| check_host(&req, t)) {
        Ok(checked) => checked,
        Err(e) => return reject(&ctx.store, &side, &req, e),
    };
    let mut flow = new_flow(&req, &target, &side);
    if flow.go.is_none() && flow.tool == Some(crate::flow::ClientTool::Go) {
        // A hop of a redirect chain that began at a Go request (the first hop go::classify
        // already found by its Referer; later hops name the hop before).
        if let Some(referer) = flow.request_header("referer") {
            flow.go = ctx.store.redirected_from(referer);
        }
    }
    flow.replay_of = replay_of;
    flow.client_host = client_host;
    // Until an upstream connection's record replaces it; only a flow with something to say
    // pays for its own copy of the shared empty one.
    if ctx.upstream.dialer().config().insecure {
        flow.connection.upstream_mut().insecure_upstream = true;
    }
    let (mut parts, body) = req.into_parts();
    // The record keeps the client's Host; the upstream gets one made from the target (RFC 9112
    // §3.2.2: a proxy replaces it), so a Host that names another server cannot reach a
    // virtual host the URL did not name. A rule that sets Host still can (the rules never see
    // the client's). A Host already spelled as the one built would be, the usual case, stays
    // where it is when no rule edits Host: no removal, no rebuilding.
    // One snapshot of the rules for the whole exchange, even if the file is reloaded meanwhile.
    let rules = ctx.rules.current();
    let spelled_as_built = parts
        .headers
        .get(http::header::HOST)
        .is_some_and(|h| target.is_host_header(h.as_bytes()));
    let own_host = if spelled_as_built && !rules.edits_request_header("host") {
        None
    } else {
        parts.headers.remove(http::header::HOST)
    };
    let plan = hooks::plan_request(&rules, &flow, &target, &mut parts.headers);
    flow.rules = plan.fired.clone();
    let target = match &plan.remote {
        Some(to) => remap_request(&mut parts, &mut flow, to),
        None => target,
    };
    // Removed for the rules, and none set one: the client's goes back when it is byte for byte
    // the one the upstream connection would build for the (final) target.
    if let Some(h) = own_host.filter(|h| target.is_host_header(h.as_bytes())) {
        if !parts.headers.contains_key(http::header::HOST) {
            parts.headers.insert(http::header::HOST, h);
        }
    }
    let cell = FlowCell::start(ctx.store.clone(), flow, !plan.ignore);
    let guard = AbortGuard(cell.clone());
    let req = Request::from_parts(parts, body);
    let response = exchange(&ctx, &cell, &rules, plan, target, req, &side).await;
    drop(guard);
    response
}

async fn exchange(
    ctx: &Ctx,
    cell: &Arc<FlowCell>,
    rules: &RuleSet,
    plan: RequestPlan,
    target: Target,
    mut req: Request<Incoming>,
    side: &ClientSide,
) -> Response<ProxyBody> {
    let budget = &side.budget;
    let client_upgrade = upgrade::requested(&mut req);
    let (mut parts, body) = req.into_parts();
    #[cfg(debug_assertions)]
    panic_if_asked(&parts.headers);
    // A tunnel's own target was checked when the tunnel was opened (`connect`); only a
    // request that goes elsewhere (absolute-form, a `map_remote` rule) is checked again.
    let checked = side
        .tunnel
        .as_ref()
        .is_some_and(|t| t.port == target.port && t.host == target.host);
    if !checked {
        if let Some(e) = ctx.loop_refusal(&target) {
            cell.fail(&e);
            return e.to_response();
        }
    }
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
        cell.set_blocked_ms(plan.delay.as_secs_f64() * 1000.0);
    }
    if let Some(answer) = plan.answer {
        return answer_locally(ctx, cell, answer).await;
    }
    if let Some(recording) = &ctx.serve {
        // `gomitm serve`: the recording stands in for every upstream.
        let wire = served::Wire {
            diagnose: diagnose_ctx(ctx),
            strip_hop_by_hop,
        };
        return served::answer(ctx, cell, recording, &wire);
    }
    strip_hop_by_hop(&mut parts.headers);
    if let Some(u) = &client_upgrade {
        u.restore_request_headers(&mut parts.headers);
    }
    let body = cell
        .clone()
        .wrap_request_body(body, ctx.opts.max_body_capture);
    match ctx
        .upstream
        .send(&target, Request::from_parts(parts, body), budget)
        .await
    {
        Err(SendError { error, retried }) => {
            if let Some(reason) = retried {
                cell.record_retry(reason);
            }
            let error = cell.request_fault().unwrap_or(error);
            let flow = cell.fail(&error);
            error_reply(&error, &flow, ctx)
        }
        Ok(sent) => {
            let (response, delay) = respond(cell, sent, ctx, rules, client_upgrade);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            response
        }
    }
}

/// Debug builds only: with `GOMITM_TEST_PANIC` set in gomitm's environment, a request carrying
/// `x-gomitm-test-panic` panics here, mid-exchange, so the tests can check that a panic stays
/// inside its connection task and that its flow still finishes. Release builds lack this.
#[cfg(debug_assertions)]
fn panic_if_asked(headers: &HeaderMap) {
    if headers.contains_key("x-gomitm-test-panic")
        && std::env::var_os("GOMITM_TEST_PANIC").is_some()
    {
        panic!("deliberate panic for the tests (x-gomitm-test-panic, GOMITM_TEST_PANIC)");
    }
}

/// `map_remote`: point the request at the mirror; the flow keeps the original URL.
fn remap_request(parts: &mut http::request::Parts, flow: &mut Flow, to: &RemoteTarget) -> Target {
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (target, url) = hooks::remap(to, &path);
    if let Ok(uri) = url.parse::<http::Uri>() {
        parts.uri = uri;
    }
    // The client's Host names the original server; the upstream connection sets the new one.
    parts.headers.remove(http::header::HOST);
    flow.mapped_to = Some(url);
    target
}

/// A rule answers instead of the upstream: a local response, a simulated failure, or nothing.
async fn answer_locally(ctx: &Ctx, cell: &Arc<FlowCell>, answer: Answer) -> Response<ProxyBody> {
    let (status, headers, body) = match answer {
        Answer::Fail(e) => {
            let flow = cell.fail(&e);
            return error_reply(&e, &flow, ctx);
        }
        // Released when the client goes away: the handler is dropped and the guard records it.
        Answer::Hang => return std::future::pending().await,
        Answer::Local {
            status,
            headers,
            body,
        } => (status, headers, body),
    };
    let (status, text_default, bytes) = match body {
        LocalBody::Text(t) => (status, true, Bytes::from(t)),
        LocalBody::File {
            root,
            file: Some(path),
        } => match local_file::read(root, path).await {
            Ok(data) => (status, false, data),
            Err(e) => (e.status(), true, Bytes::from(format!("gomitm: {e}\n"))),
        },
        LocalBody::File { file: None, .. } => (
            404,
            true,
            Bytes::from_static(b"gomitm: map_local has no file for this URL\n"),
        ),
    };
    let mut builder = Response::builder().status(status);
    let has_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !has_type {
        let ctype = if text_default {
            "text/plain; charset=utf-8"
        } else {
            "application/octet-stream"
        };
        builder = builder.header(http::header::CONTENT_TYPE, ctype);
    }
    let full: ProxyBody = Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync();
    let Ok(response) = builder.body(full) else {
        let e = ProxyError::Internal("a rule produced an invalid response head".into());
        let flow = cell.fail(&e);
        return error_reply(&e, &flow, ctx);
    };
    let (parts, body) = response.into_parts();
    cell.record_local_head(&parts);
    let body = cell
        .clone()
        .wrap_response_body(body, ctx.opts.max_body_capture, None, None);
    Response::from_parts(parts, body)
}

/// Forward an upstream response: record its head, apply response rules, wrap the body.
/// Returns the response and how long a rule wants it held.
fn respond(
    cell: &Arc<FlowCell>,
    sent: Sent,
    ctx: &Ctx,
    rules: &RuleSet,
    client_upgrade: Option<upgrade::ClientUpgrade>,
) -> (Response<ProxyBody>, Duration) {
    let Sent {
        mut response,
        meta,
        reused,
        sent_at,
        head_at,
        retried,
        lease,
    } = sent;
    let switching = match client_upgrade {
        Some(u) if response.status() == http::StatusCode::SWITCHING_PROTOCOLS => {
            upgrade::relay(u, &mut response, cell.clone(), ctx.store.clone());
            Some(upgrade::switch_headers(response.headers()))
        }
        _ => None,
    };
    let (mut parts, body) = response.into_parts();
    let source = HeadSource {
        meta: &meta,
        reused,
        sent_at,
        head_at,
        retried,
    };
    let flow = cell.record_upstream_head(&parts, source);
    let plan = hooks::plan_response(rules, &flow, &mut parts.headers);
    cell.add_rules(&plan.fired);
    strip_hop_by_hop(&mut parts.headers);
    if let Some(switch) = switching {
        // The flow ends when the switched connection closes (`upgrade::relay`), not with
        // this empty body.
        parts.headers.extend(switch);
        drop(body);
        if let Some(lease) = lease {
            lease.release();
        }
        let empty = http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        return (Response::from_parts(parts, empty), plan.delay);
    }
    let annotation = ctx
        .opts
        .annotate
        .then(|| annotation_for(&flow, ctx))
        .flatten();
    // Inside the capture and the rules' wrappers: the connection is free once the upstream's
    // answer is read, whatever the client side still does with it.
    let body = body.map_err(BoxError::from);
    let body = match lease {
        Some(lease) => lease.returned_at_end(body),
        None => Leased::unleased(body),
    };
    let tap = cell.start_hash(&flow);
    let (cap, idle) = (ctx.opts.max_body_capture, ctx.opts.upstream_timeout);
    // The usual chain (the answer, its lease, the capture) is boxed once.
    let mut body = match plan.reset {
        None => cell.clone().wrap_response_body(body, cap, idle, tap),
        Some((rule, after)) => {
            let cut = Truncated::new(body, rule, after);
            cell.clone().wrap_response_body(cut, cap, idle, tap)
        }
    };
    if let Some(rate) = plan.throttle {
        body = Throttled::new(body, rate).boxed_unsync();
    }
    if let Some(text) = annotation {
        // The length changes; the body is re-framed (chunked, or h2 data frames).
        parts.headers.remove(http::header::CONTENT_LENGTH);
        body = Appended::new(body, text.into()).boxed_unsync();
    }
    (Response::from_parts(parts, body), plan.delay)
}

fn target_of(req: &Request<Incoming>, side: &ClientSide) -> Result<Target, ProxyError> {
    if let Some(t) = &side.tunnel {
        // A CONNECT outside a tunnel never comes here (`server::route`). Forwarded, it would
        // ask the origin server to be a proxy; gomitm does not chain tunnels either, so a
        // nested tunnel can hold no connection of gomitm's or the upstream's.
        if req.method() == http::Method::CONNECT {
            return Err(ProxyError::Protocol(format!(
                "CONNECT {} inside the tunnel to {}:{}: gomitm does not nest tunnels; send \
                 CONNECT to gomitm itself",
                req.uri(),
                t.host,
                t.port
            )));
        }
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

/// At most one Host field, and a valid authority (no userinfo) when there is one: anything
/// else is a request two parsers could read differently, answered 400. With the target, the
/// client's Host when it names another server (the flow's `client_host`).
fn check_host<B>(req: &Request<B>, target: Target) -> Result<(Target, Option<String>), ProxyError> {
    let mut hosts = req.headers().get_all(http::header::HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err(ProxyError::Protocol(
            "more than one Host header field".into(),
        ));
    }
    let Some(value) = first else {
        return Ok((target, None));
    };
    let Ok(value) = value.to_str() else {
        return Err(ProxyError::Protocol("invalid Host header field".into()));
    };
    // The usual Host, the target's own `name[:port]`, is valid as the target is: no parse.
    if names_target(value, &target) {
        return Ok((target, None));
    }
    let auth = Some(value)
        .filter(|v| !v.contains('@'))
        .and_then(|v| v.parse::<http::uri::Authority>().ok())
        .ok_or_else(|| ProxyError::Protocol("invalid Host header field".into()))?;
    let differs = differing_host(value, &auth, &target);
    Ok((target, differs))
}

/// Whether a Host value is spelled as the target's `name[:port]` (name in any letter case,
/// the port left out when it is the scheme's default): the usual case, settled without
/// parsing an authority.
fn names_target(value: &str, target: &Target) -> bool {
    let name = target.host.as_bytes();
    let value = value.as_bytes();
    if name.is_empty() || value.len() < name.len() {
        return false;
    }
    let (spelled, port) = value.split_at(name.len());
    // Byte-equal first: a client that lower-cases the name (go does) needs no case folding.
    if spelled != name && !spelled.eq_ignore_ascii_case(name) {
        return false;
    }
    let default_port = if target.https { 443 } else { 80 };
    match port {
        [] => target.port == default_port,
        [b':', digits @ ..] if !digits.is_empty() && digits.len() <= 5 => {
            let mut n = 0u32;
            for &d in digits {
                if !d.is_ascii_digit() {
                    return false;
                }
                n = n * 10 + u32::from(d - b'0');
            }
            n == u32::from(target.port)
        }
        _ => false,
    }
}

/// The client's Host, already parsed, when it names another server than `target` (letter
/// case, a trailing dot and the scheme's default port aside).
fn differing_host(value: &str, auth: &http::uri::Authority, target: &Target) -> Option<String> {
    let default_port = if target.https { 443 } else { 80 };
    let host = auth.host().trim_start_matches('[').trim_end_matches(']');
    let same_host = host
        .trim_end_matches('.')
        .eq_ignore_ascii_case(target.host.trim_end_matches('.'));
    let same = same_host && auth.port_u16().unwrap_or(default_port) == target.port;
    (!same).then(|| value.to_string())
}

/// A request gomitm cannot forward still becomes a flow.
pub(super) fn reject(
    store: &Store,
    side: &ClientSide,
    req: &Request<Incoming>,
    e: ProxyError,
) -> Response<ProxyBody> {
    let mut flow = request_flow(req, req.uri().to_string(), side.client_addr_text.clone());
    fail_now(&mut flow, e.class(), e.to_string());
    store.add(flow);
    e.to_response()
}

fn new_flow(req: &Request<Incoming>, target: &Target, side: &ClientSide) -> Flow {
    let mut flow = request_flow(req, url_of(req, target), side.client_addr_text.clone());
    // A bodiless request's capture is complete from the start, so that its end changes
    // nothing and costs no copy of the flow.
    flow.request_mut().body.complete = hyper::body::Body::is_end_stream(req.body());
    if let Some(t) = &side.tunnel {
        let c = &mut flow.connection;
        c.client = t.tls.clone();
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
    // Built by hand: this runs for every request, and `format!` costs several times more.
    let mut url = String::with_capacity(scheme.len() + target.host.len() + path.len() + 16);
    url.push_str(scheme);
    url.push_str("://");
    // Userinfo in an absolute-form URL is what the client sent: keep it in the record (HAR
    // export and the log redact it).
    if let Some((userinfo, _)) = req
        .uri()
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
    {
        url.push_str(userinfo);
        url.push('@');
    }
    if target.host.contains(':') {
        url.push('[');
        url.push_str(&target.host);
        url.push(']');
    } else {
        url.push_str(&target.host);
    }
    if target.port != default_port {
        url.push(':');
        url.push_str(&target.port.to_string());
    }
    url.push_str(path);
    url
}

/// Hop-by-hop headers (RFC 9110 §7.6.1); Proxy-Authorization is meant for gomitm. Names
/// made once: removing by a `&str` would parse and hash each name on every request.
static HOP_BY_HOP: [http::HeaderName; 9] = [
    http::header::CONNECTION,
    http::HeaderName::from_static("proxy-connection"),
    http::HeaderName::from_static("keep-alive"),
    http::header::PROXY_AUTHORIZATION,
    http::header::PROXY_AUTHENTICATE,
    http::header::TE,
    http::header::TRAILER,
    http::header::TRANSFER_ENCODING,
    http::header::UPGRADE,
];

/// One of [`HOP_BY_HOP`], told by its spelling: a `match` on the name's length and bytes is a
/// few compares, where comparing it with each of the nine was up to nine.
fn is_hop_by_hop(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "proxy-connection"
            | "keep-alive"
            | "proxy-authorization"
            | "proxy-authenticate"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Hop-by-hop headers plus any the Connection header names; they describe one connection
/// and must not be forwarded.
pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most heads carry none of them (HTTP/1.1 keep-alive needs no header): a walk over the
    // head's few names settles that for less than nine hashed removals, twice per request.
    // Connection is one of the nine, so a head without any names no others either.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
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
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

fn diagnose_ctx(ctx: &Ctx) -> DiagnoseContext<'_> {
    DiagnoseContext {
        private: &ctx.opts.private,
        os: Os::current(),
        bundle: Some(&ctx.bundle),
        go: ctx.opts.go_version,
        goproxy: None,
        goauth: None,
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_host_differs_only_when_it_names_another_server() {
        let target = |https, host: &str, port| super::Target {
            https,
            host: host.into(),
            port,
        };
        let differs = |host: &str, t: &super::Target| {
            let req = http::Request::builder()
                .header(http::header::HOST, host)
                .body(())
                .unwrap();
            super::check_host(&req, t.clone()).expect("a valid Host").1
        };
        let tls = target(true, "goproxy.test", 443);
        for same in [
            "goproxy.test",
            "GOPROXY.test",
            "goproxy.test:443",
            "goproxy.test.",
        ] {
            assert_eq!(differs(same, &tls), None, "{same}");
        }
        for other in [
            "evil.test",
            "goproxy.test:8443",
            "goproxy.test:80",
            "goproxy.tes",
        ] {
            assert_eq!(differs(other, &tls).as_deref(), Some(other), "{other}");
        }
        let alt = target(true, "goproxy.test", 8443);
        assert_eq!(differs("goproxy.test:8443", &alt), None);
        assert_eq!(differs("GoProxy.Test:08443", &alt), None);
        assert_eq!(
            differs("goproxy.test", &alt).as_deref(),
            Some("goproxy.test")
        );
        assert_eq!(
            differs("goproxy.test:443", &alt).as_deref(),
            Some("goproxy.test:443")
        );
        let plain = target(false, "plain.test", 80);
        assert_eq!(differs("plain.test", &plain), None);
        assert_eq!(
            differs("plain.test:443", &plain).as_deref(),
            Some("plain.test:443")
        );
        let v6 = target(true, "::1", 8443);
        assert_eq!(differs("[::1]:8443", &v6), None);
        assert_eq!(differs("[::1]", &v6).as_deref(), Some("[::1]"));
        let none = http::Request::builder().body(()).unwrap();
        assert_eq!(
            super::check_host(&none, tls.clone()).expect("no Host").1,
            None,
            "no Host at all"
        );
    }

    use super::*;

    #[test]
    fn check_host_takes_the_targets_own_spelling_and_still_refuses_bad_hosts() {
        let target = Target {
            https: true,
            host: "goproxy.test".into(),
            port: 8443,
        };
        let check = |hosts: &[&str]| {
            let mut b = http::Request::builder();
            for h in hosts {
                b = b.header(http::header::HOST, *h);
            }
            check_host(&b.body(()).expect("request"), target.clone()).is_ok()
        };
        for good in [
            "goproxy.test:8443",
            "GOPROXY.test:8443",
            "other.test",
            "[::1]:1",
        ] {
            assert!(check(&[good]), "{good}");
        }
        assert!(check(&[]), "no Host at all");
        for bad in ["u@goproxy.test:8443", "goproxy.test:8443/x", "a b"] {
            assert!(!check(&[bad]), "{bad}");
        }
        assert!(
            !check(&["goproxy.test:8443", "goproxy.test:8443"]),
            "two Hosts"
        );
        let unnamed = Target {
            host: String::new(),
            ..target.clone()
        };
        assert!(!names_target("", &unnamed));
    }

    #[test]
    fn the_hop_by_hop_test_names_exactly_the_nine() {
        for name in &HOP_BY_HOP {
            assert!(is_hop_by_hop(name), "{name}");
        }
        for name in [
            http::header::HOST,
            http::header::CONTENT_LENGTH,
            http::header::AUTHORIZATION,
            http::HeaderName::from_static("x-connection"),
            http::HeaderName::from_static("tes"),
        ] {
            assert!(!is_hop_by_hop(&name), "{name}");
        }
    }

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
}
