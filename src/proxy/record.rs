//! What hyper parsed and rustls negotiated, as the flow record: request and response heads,
//! HTTP versions and header lists, TLS names, and the clocks (wall time in µs, elapsed ms).
//! The one place a request head becomes a flow, whichever path (exchange, refusal, failure)
//! records it.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Request, Version};

use rustls::{NamedGroup, ProtocolVersion};

use crate::flow::{
    ErrorClass, Flow, FlowError, FlowKind, FlowState, Headers, Label, Response, TunnelStats,
};

/// The header a replay (TUI `r`/`E`, `gomitm replay`) carries to say which flow it repeats.
/// The proxy takes it off before the request goes anywhere; the flow keeps the id instead.
/// Any client of the proxy can send it: it only labels the flow it is on.
pub const REPLAY_HEADER: &str = "x-gomitm-replay-of";

/// Remove the replay marker from `headers`; the flow id it named, if it named one.
pub fn take_replay_of(headers: &mut HeaderMap) -> Option<u64> {
    // A walk over the head's few names before a hashed removal: nearly every request has none.
    if !headers.keys().any(|k| k == REPLAY_HEADER) {
        return None;
    }
    let value = headers.remove(REPLAY_HEADER)?;
    value
        .to_str()
        .ok()?
        .trim()
        .trim_start_matches('#')
        .parse()
        .ok()
}

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub fn version_name(v: Version) -> Label {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/?",
    }
    .into()
}

/// The method's name; the standard ones cost no allocation.
pub fn method_name(m: &Method) -> Label {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::PATCH,
        Method::TRACE,
    ];
    const NAMES: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE",
    ];
    match KNOWN.iter().position(|k| k == m) {
        Some(i) => NAMES[i].into(),
        None => m.as_str().to_string().into(),
    }
}

pub fn tls_version_name(v: ProtocolVersion) -> Label {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}").into(),
    }
}

/// An ALPN protocol id as text; the two gomitm speaks cost no allocation.
pub fn alpn_name(p: &[u8]) -> Label {
    match p {
        b"h2" => "h2".into(),
        b"http/1.1" => "http/1.1".into(),
        other => String::from_utf8_lossy(other).into_owned().into(),
    }
}

/// A key-exchange group by its name in the IANA TLS Supported Groups registry, as Wireshark
/// and OpenSSL print it (go's `tls.CurveID` says `X25519`/`CurveP256` for the same groups).
pub fn kx_group_name(g: NamedGroup) -> Label {
    match g {
        NamedGroup::X25519 => "x25519".into(),
        NamedGroup::secp256r1 => "secp256r1".into(),
        NamedGroup::secp384r1 => "secp384r1".into(),
        NamedGroup::secp521r1 => "secp521r1".into(),
        NamedGroup::X448 => "x448".into(),
        NamedGroup::X25519MLKEM768 => "X25519MLKEM768".into(),
        NamedGroup::secp256r1MLKEM768 => "SecP256r1MLKEM768".into(),
        NamedGroup::MLKEM768 => "MLKEM768".into(),
        other => format!("{:#06x}", u16::from(other)).into(),
    }
}

pub fn headers_of(map: &HeaderMap) -> Headers {
    // Sized first, so that the list is built in exactly its two allocations (a value that is
    // not UTF-8 grows by its replacement characters, and the text is then reallocated once).
    let bytes = map.iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    let mut b = crate::flow::HeadersBuilder::with_capacity(map.len(), bytes);
    for (n, v) in map {
        // The same text as the lossy conversion for any UTF-8, and std's check reads ASCII a
        // word at a time (`HeaderValue::to_str` reads a byte at a time).
        match std::str::from_utf8(v.as_bytes()) {
            Ok(text) => b.push(n.as_str(), text),
            Err(_) => b.push(n.as_str(), &String::from_utf8_lossy(v.as_bytes())),
        }
    }
    b.finish()
}

pub fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// A flow for a request head as the client sent it, with `url` as gomitm spells the target:
/// its kind (a CONNECT is a tunnel), start time, client, method, version, headers, the tool
/// that sent it and (for an HTTP request) its Go classification, made before the first
/// event so that every observer sees them.
pub fn request_flow<B>(
    req: &Request<B>,
    url: String,
    client_addr: Option<crate::flow::Shared>,
) -> Flow {
    let connect = req.method() == Method::CONNECT;
    let mut flow = Flow {
        kind: if connect {
            FlowKind::Tunnel
        } else {
            FlowKind::Http
        },
        started_at_us: now_us(),
        client_addr,
        ..Flow::default()
    };
    flow.request_mut().method = method_name(req.method());
    flow.request_mut().url = url;
    flow.request_mut().http_version = version_name(req.version());
    flow.request_mut().headers = headers_of(req.headers());
    flow.tool = crate::go::client_tool(&flow.request.headers);
    if !connect {
        flow.go = crate::go::classify(
            &flow.request.method,
            &flow.request.url,
            &flow.request.headers,
        );
    }
    flow
}

/// A tunnel's flow, from the CONNECT head kept while the tunnel was set up: the tool comes
/// from its `User-Agent`; a tunnel has no Go classification (its requests do).
pub fn tunnel_flow(client: SocketAddr, authority: &str, connect_headers: Headers) -> Flow {
    let mut flow = Flow {
        kind: FlowKind::Tunnel,
        started_at_us: now_us(),
        client_addr: Some(client.to_string().into()),
        tunnel: Some(TunnelStats::default()),
        ..Flow::default()
    };
    flow.request_mut().method = "CONNECT".into();
    flow.request_mut().url = authority.to_string();
    flow.request_mut().http_version = "HTTP/1.1".into();
    flow.tool = crate::go::client_tool(&connect_headers);
    flow.request_mut().headers = connect_headers;
    flow
}

/// A flow finished at once with an error (a refusal, a rejected request).
pub fn fail_now(flow: &mut Flow, class: ErrorClass, message: String) {
    flow.error = Some(FlowError { class, message });
    flow.state = FlowState::Done;
}

/// A client connection that failed before any request could be read.
pub fn failure_flow(peer: Option<SocketAddr>, class: ErrorClass, message: String) -> Flow {
    let mut flow = Flow {
        started_at_us: now_us(),
        client_addr: peer.map(|p| p.to_string().into()),
        ..Flow::default()
    };
    flow.request_mut().method = "-".into();
    fail_now(&mut flow, class, message);
    flow
}

pub fn response_of(parts: &http::response::Parts) -> Response {
    Response {
        status: parts.status.as_u16(),
        reason: parts.status.canonical_reason().unwrap_or("").into(),
        http_version: version_name(parts.version),
        headers: headers_of(&parts.headers),
        body: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_marker_is_taken_off_and_read() {
        let mut h = HeaderMap::new();
        h.insert(REPLAY_HEADER, "#12".parse().unwrap());
        h.insert("accept", "*/*".parse().unwrap());
        assert_eq!(take_replay_of(&mut h), Some(12));
        assert!(!h.contains_key(REPLAY_HEADER));
        assert_eq!(h.len(), 1);
        h.insert(REPLAY_HEADER, "twelve".parse().unwrap());
        assert_eq!(take_replay_of(&mut h), None, "not a number: no label");
        assert!(!h.contains_key(REPLAY_HEADER), "removed all the same");
    }

    #[test]
    fn tls_names_are_the_registries_and_known_ones_do_not_allocate() {
        use std::borrow::Cow;
        assert!(matches!(
            kx_group_name(NamedGroup::X25519),
            Cow::Borrowed("x25519")
        ));
        assert_eq!(kx_group_name(NamedGroup::X25519MLKEM768), "X25519MLKEM768");
        assert_eq!(kx_group_name(NamedGroup::Unknown(0x1234)), "0x1234");
        assert!(matches!(alpn_name(b"h2"), Cow::Borrowed("h2")));
        assert_eq!(alpn_name(b"spdy/3"), "spdy/3");
        assert!(matches!(
            tls_version_name(ProtocolVersion::TLSv1_3),
            Cow::Borrowed("TLSv1.3")
        ));
    }

    #[test]
    fn header_values_keep_utf8_and_replace_what_is_not() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-plain",
            http::HeaderValue::from_static("text/plain; q=1\tx"),
        );
        h.insert(
            "x-utf8",
            http::HeaderValue::from_bytes("caf\u{e9} \u{1f600}".as_bytes()).unwrap(),
        );
        h.insert(
            "x-latin1",
            http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        let got: Vec<(String, String)> = headers_of(&h)
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let want = [
            ("x-plain", "text/plain; q=1\tx"),
            ("x-utf8", "caf\u{e9} \u{1f600}"),
            ("x-latin1", "caf\u{fffd}"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn version_names_match_har_conventions() {
        assert_eq!(version_name(Version::HTTP_11), "HTTP/1.1");
        assert_eq!(version_name(Version::HTTP_2), "HTTP/2");
    }

    #[test]
    fn every_path_records_a_request_head_the_same_way() {
        let req = Request::get("https://proxy.golang.org/golang.org/x/text/@v/list")
            .header("user-agent", "Go-http-client/1.1")
            .body(())
            .unwrap();
        let flow = request_flow(
            &req,
            "https://proxy.golang.org/golang.org/x/text/@v/list".into(),
            Some("127.0.0.1:1".into()),
        );
        assert_eq!(flow.kind, FlowKind::Http);
        assert_eq!(flow.request.method, "GET");
        assert_eq!(flow.request.http_version, "HTTP/1.1");
        assert!(flow.go.is_some(), "classified as Go traffic");
        assert!(flow.tool.is_some(), "the client tool is named");
        let connect = Request::connect("a.test:443").body(()).unwrap();
        let flow = request_flow(&connect, "a.test:443".into(), None);
        assert_eq!(flow.kind, FlowKind::Tunnel);
        assert!(flow.go.is_none());
    }
}
