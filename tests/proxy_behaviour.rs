//! Proxy behaviour through the real gomitm binary, against the fixture on 127.0.0.1: plain
//! `http://` forwarding, CONNECT interception over HTTP/1.1 and h2, blind tunnels, malformed
//! clients, proxy loops, an upstream proxy, upstream failures, HAR redaction and client aborts.
//! Every test checks both what the client got and what gomitm recorded (JSON lines or HAR).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use serde_json::Value;
use support::client::{self, Reply};
use support::connect_proxy::RecordingProxy;
use support::fixture::{pattern_byte, Fixture, FixtureOptions, RecordedRequest};
use support::gomitm::{assert_still_serves, error_class, gomitm_for, strings, url_of, Gomitm};
use support::tools::block_on;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bound on every blocking socket read or write in these tests.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const H1: &[&[u8]] = &[b"http/1.1"];
const H2: &[&[u8]] = &[b"h2", b"http/1.1"];

// ---------------------------------------------------------------- set-up

/// What gomitm resolves to the fixture: its TLS port as `goproxy.test`, its plain-HTTP port as
/// `plain.test`.
const HOSTS: &[&str] = &["goproxy.test", "plain.test:80"];

fn decoded(capture: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(capture["data"].as_str().expect("body data is base64 text"))
        .expect("body data decodes")
}

fn is_pattern(data: &[u8], offset: u64) -> bool {
    data.iter()
        .enumerate()
        .all(|(i, b)| *b == pattern_byte(offset + i as u64))
}

fn first_line(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------- raw HTTP/1.1 client

// The raw client is `support::client`: every byte on the wire is explicit.

/// A fresh connection, one request, `Connection: close`.
fn raw_get(proxy: SocketAddr, url: &str, host: &str) -> Reply {
    client::open(proxy).request(&format!(
        "GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    ))
}

// ---------------------------------------------------------------- TLS client through CONNECT

async fn read_head_async(tcp: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        match tcp.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

/// HTTPS through gomitm: CONNECT host:443, TLS trusting `ca_pem`, then h1 or h2 by ALPN.
struct HttpsClient {
    sender: Sender,
    host: String,
    /// The ALPN protocol the TLS server picked.
    alpn: Option<String>,
}

impl HttpsClient {
    async fn connect(proxy: SocketAddr, host: &str, ca_pem: &Path, alpn: &[&[u8]]) -> Self {
        let mut tcp = tokio::net::TcpStream::connect(proxy)
            .await
            .expect("connect to gomitm");
        let connect = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
        tcp.write_all(connect.as_bytes()).await.expect("CONNECT");
        let head = read_head_async(&mut tcp).await;
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "CONNECT answered {head:?}"
        );
        let connector = tokio_rustls::TlsConnector::from(Arc::new(
            support::tools::tls_client_config(ca_pem, alpn),
        ));
        let name = ServerName::try_from(host.to_string()).expect("server name");
        let tls = tokio::time::timeout(IO_TIMEOUT, connector.connect(name, tcp))
            .await
            .expect("TLS handshake in time")
            .expect("TLS handshake through the tunnel");
        let alpn = tls
            .get_ref()
            .1
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let io = TokioIo::new(tls);
        let sender = if alpn.as_deref() == Some("h2") {
            let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .expect("h2 handshake");
            tokio::spawn(conn);
            Sender::H2(sender)
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(io)
                .await
                .expect("h1 handshake");
            tokio::spawn(conn);
            Sender::H1(sender)
        };
        HttpsClient {
            sender,
            host: host.to_string(),
            alpn,
        }
    }

    async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Response<Incoming> {
        let fut = self.try_get(path, headers);
        tokio::time::timeout(IO_TIMEOUT, fut)
            .await
            .unwrap_or_else(|_| panic!("GET {path}: no response head in {IO_TIMEOUT:?}"))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn try_get(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>, hyper::Error> {
        let mut req = match &self.sender {
            Sender::H1(_) => Request::get(path).header("host", self.host.as_str()),
            Sender::H2(_) => Request::get(format!("https://{}{path}", self.host)),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Empty::new()).expect("request");
        match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await?;
                s.send_request(req).await
            }
            Sender::H2(s) => {
                s.ready().await?;
                s.send_request(req).await
            }
        }
    }
}

/// Reads a body: (bytes received, `/bytes` pattern intact, error if the body failed).
async fn drain(mut body: Incoming) -> (u64, bool, Option<String>) {
    let (mut n, mut ok) = (0u64, true);
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(data) = f.data_ref() {
                    ok &= is_pattern(data, n);
                    n += data.len() as u64;
                }
            }
            Err(e) => return (n, ok, Some(e.to_string())),
        }
    }
    (n, ok, None)
}

async fn body_bytes(resp: Response<Incoming>) -> Vec<u8> {
    resp.into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes()
        .to_vec()
}

// ---------------------------------------------------------------- 1. plain http

#[test]
fn plain_http_absolute_form_is_forwarded_without_hop_by_hop_headers() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut conn = client::open(proxy.addr);
    let resp = conn.request(
        "GET http://plain.test/echo HTTP/1.1\r\n\
         Host: plain.test\r\n\
         Proxy-Authorization: Basic eDp5\r\n\
         Connection: keep-alive, X-Hop\r\n\
         X-Hop: 1\r\n\
         X-Keep: yes\r\n\r\n",
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let echo_len = resp.body.len() as u64;
    let echo: Value = serde_json::from_slice(&resp.body).expect("echo JSON");
    let names: Vec<String> = echo["headers"]
        .as_array()
        .expect("echo headers")
        .iter()
        .map(|h| h[0].as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(names.iter().any(|n| n == "x-keep"), "{names:?}");
    for gone in ["proxy-authorization", "x-hop", "connection"] {
        assert!(
            !names.iter().any(|n| n == gone),
            "{gone} forwarded: {names:?}"
        );
    }
    let seen = fx.requests();
    let upstream = seen
        .iter()
        .find(|r| r.path() == "/echo")
        .expect("fixture saw /echo");
    assert_eq!(upstream.header("x-keep"), Some("yes"));
    assert_eq!(upstream.header("proxy-authorization"), None);
    assert_eq!(upstream.authority, "plain.test");
    assert!(!upstream.tls);

    // The client connection stays usable (keep-alive) for a second proxied request.
    let resp =
        conn.request("GET http://plain.test/status/201 HTTP/1.1\r\nHost: plain.test\r\n\r\n");
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.text(), "status 201");

    let flow = proxy.wait_for_flow("for /echo", |f| url_of(f) == "http://plain.test/echo");
    assert_eq!(flow["kind"], "http");
    assert_eq!(flow["request"]["method"], "GET");
    assert_eq!(flow["request"]["http_version"], "HTTP/1.1");
    assert_eq!(flow["response"]["status"], 200);
    assert!(flow["error"].is_null(), "{}", flow["error"]);
    assert_eq!(flow["connection"]["server_addr"], fx.http_addr.to_string());
    assert_eq!(flow["response"]["body"]["total"], echo_len);
    assert_eq!(decoded(&flow["response"]["body"]).len() as u64, echo_len);
    let second = proxy.wait_for_flow("for /status/201", |f| {
        url_of(f) == "http://plain.test/status/201"
    });
    assert_eq!(second["response"]["status"], 201);
}

// ---------------------------------------------------------------- 2. CONNECT + TLS interception

#[test]
fn connect_intercepts_tls_over_h1_and_h2_and_records_the_client_side() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    for (alpn, expect) in [(H1, "http/1.1"), (H2, "h2")] {
        block_on(async {
            let mut c =
                HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), alpn).await;
            assert_eq!(c.alpn.as_deref(), Some(expect));
            let resp = c.get("/bytes/100000", &[]).await;
            assert_eq!(resp.status(), 200);
            assert_eq!(
                drain(resp.into_body()).await,
                (100_000, true, None),
                "{expect}"
            );
            // A second request on the same tunnel: no client TLS handshake of its own.
            let resp = c.get("/status/200", &[]).await;
            assert_eq!(resp.status(), 200);
            assert_eq!(body_bytes(resp).await, b"status 200");
        });
    }
    for (expect, version) in [("http/1.1", "HTTP/1.1"), ("h2", "HTTP/2")] {
        let f = proxy.wait_for_flow(&format!("for /bytes over {expect}"), |f| {
            url_of(f) == "https://goproxy.test/bytes/100000"
                && f["connection"]["client_alpn"] == expect
        });
        assert_eq!(f["kind"], "http");
        assert_eq!(f["request"]["http_version"], version);
        assert_eq!(f["connection"]["client_sni"], "goproxy.test");
        assert!(f["connection"]["client_tls_version"].is_string());
        assert_eq!(f["connection"]["insecure_upstream"], false);
        // The upstream offers both; gomitm speaks to it what the client spoke to gomitm.
        assert_eq!(
            f["connection"]["alpn"], expect,
            "the client's protocol upstream"
        );
        assert_eq!(f["response"]["http_version"], version);
        let tls_ms = f["timings"]["client_tls_ms"].as_f64();
        assert!(tls_ms.is_some_and(|ms| ms >= 0.0), "{}", f["timings"]);
        assert_eq!(f["response"]["status"], 200);
        let body = &f["response"]["body"];
        assert_eq!(body["total"], 100_000);
        assert_eq!(body["truncated"], false);
        assert_eq!(body["complete"], true);
        let data = decoded(body);
        assert_eq!(data.len(), 100_000, "default cap is 1 MiB");
        assert!(
            is_pattern(&data, 0),
            "captured bytes differ from what was sent"
        );
        assert!(f["error"].is_null(), "{}", f["error"]);

        let second = proxy.wait_for_flow(&format!("for /status/200 over {expect}"), |f| {
            url_of(f) == "https://goproxy.test/status/200"
                && f["connection"]["client_alpn"] == expect
        });
        assert!(
            second["timings"]["client_tls_ms"].is_null(),
            "only the first request of a tunnel carries the handshake: {}",
            second["timings"]
        );
        assert_eq!(second["connection"]["client_sni"], "goproxy.test");
    }
    // The fixture saw the decrypted requests from gomitm, not from the client.
    assert!(fx
        .requests()
        .iter()
        .any(|r| r.tls && r.path() == "/bytes/100000"));
}

#[test]
fn capture_cap_truncates_the_record_but_not_the_stream() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--max-body-capture", "1000"]));
    for alpn in [H1, H2] {
        block_on(async {
            let mut c =
                HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), alpn).await;
            let resp = c.get("/bytes/100000", &[]).await;
            assert_eq!(resp.status(), 200);
            assert_eq!(drain(resp.into_body()).await, (100_000, true, None));
        });
    }
    for expect in ["http/1.1", "h2"] {
        let f = proxy.wait_for_flow(&format!("for /bytes over {expect}"), |f| {
            url_of(f) == "https://goproxy.test/bytes/100000"
                && f["connection"]["client_alpn"] == expect
        });
        let body = &f["response"]["body"];
        assert_eq!(body["total"], 100_000);
        assert_eq!(body["truncated"], true);
        assert_eq!(body["complete"], true);
        let data = decoded(body);
        assert_eq!(data.len(), 1000);
        assert!(is_pattern(&data, 0));
    }
}

// ---------------------------------------------------------------- 3. blind tunnel

#[test]
fn no_intercept_host_is_tunnelled_blind_and_recorded_as_a_tunnel() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--no-intercept", "goproxy.test"]));
    block_on(async {
        // The client trusts only the fixture's CA: it works only if gomitm does not decrypt.
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &fx.ca_pem, H2).await;
        assert_eq!(
            c.alpn.as_deref(),
            Some("h2"),
            "negotiated with the fixture itself"
        );
        let resp = c.get("/bytes/5000", &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(drain(resp.into_body()).await, (5000, true, None));
    }); // the runtime drops the connection here, which ends the tunnel
    let f = proxy.wait_for_flow("tunnel to goproxy.test", |f| {
        f["kind"] == "tunnel" && url_of(f) == "goproxy.test:443"
    });
    assert_eq!(f["request"]["method"], "CONNECT");
    let up = f["tunnel"]["bytes_up"].as_u64().unwrap();
    let down = f["tunnel"]["bytes_down"].as_u64().unwrap();
    assert!(up > 0, "{}", f["tunnel"]);
    assert!(
        down > 5000,
        "the body alone was 5000 bytes: {}",
        f["tunnel"]
    );
    assert!(f["error"].is_null(), "{}", f["error"]);
    assert_eq!(f["connection"]["server_addr"], fx.addr.to_string());
    assert!(f["timings"]["total_ms"].as_f64().is_some());
    assert!(
        !proxy
            .flows()
            .iter()
            .any(|f| f["kind"] == "http" && url_of(f).starts_with("https://goproxy.test")),
        "gomitm decrypted a --no-intercept host"
    );
    let seen = fx.requests();
    let r = seen
        .iter()
        .find(|r| r.path() == "/bytes/5000")
        .expect("fixture saw it");
    assert_eq!(r.version, "HTTP/2.0", "the client's own h2, untouched");
}

// ---------------------------------------------------------------- 4. plain bytes after CONNECT

#[test]
fn non_tls_bytes_after_connect_are_tunnelled_and_counted() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut conn = client::open(proxy.addr);
    conn.send(b"CONNECT plain.test:80 HTTP/1.1\r\nHost: plain.test:80\r\n\r\n")
        .unwrap();
    let (status, _) = conn.read_head().unwrap().expect("CONNECT answered");
    assert_eq!(status, 200);
    let inner = "GET /echo?via=tunnel HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n";
    let resp = conn.request(inner);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let echo: Value = serde_json::from_slice(&resp.body).expect("echo JSON");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "via=tunnel");
    drop(conn);
    let f = proxy.wait_for_flow("tunnel to plain.test:80", |f| {
        f["kind"] == "tunnel" && url_of(f) == "plain.test:80"
    });
    assert_eq!(f["request"]["method"], "CONNECT");
    assert_eq!(
        f["tunnel"]["bytes_up"],
        inner.len() as u64,
        "every byte the client sent"
    );
    assert!(f["tunnel"]["bytes_down"].as_u64().unwrap() > resp.body.len() as u64);
    assert!(f["error"].is_null(), "{}", f["error"]);
    assert_eq!(f["connection"]["server_addr"], fx.http_addr.to_string());
    assert!(fx
        .requests()
        .iter()
        .any(|r| r.path_and_query == "/echo?via=tunnel" && !r.tls));
}

// ---------------------------------------------------------------- 5. malformed clients

#[test]
fn malformed_request_gets_400_and_a_protocol_flow() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut conn = client::open(proxy.addr);
    conn.send(b"GARBAGE\r\n\r\n").unwrap();
    // A 4xx answer or a closed connection are both acceptable to a client.
    if let Ok(Some(resp)) = conn.read_reply() {
        assert!((400..500).contains(&resp.status), "{resp:?}");
    }
    let f = proxy.wait_for_flow("protocol error", |f| error_class(f) == "protocol");
    assert!(
        f["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{}",
        f["error"]
    );
    assert_still_serves(&proxy);
}

/// A plain-HTTP upstream on 127.0.0.1 that reads one request head and answers `reply` as
/// raw bytes, then closes: answers no HTTP library would write.
fn raw_upstream(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind raw upstream");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).expect("read request");
            if n == 0 {
                return;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = s.write_all(reply);
    });
    (port, server)
}

/// Sends one GET for `bad.test:PORT` through a gomitm that resolves it to the raw upstream.
/// The fixture comes back too: the proxy's `plain.test` (for `assert_still_serves`) is on it.
fn get_from_raw(
    reply: &'static [u8],
) -> (Fixture, Gomitm, Option<Reply>, std::thread::JoinHandle<()>) {
    let (port, server) = raw_upstream(reply);
    let fx = Fixture::start();
    let resolve = format!("bad.test:{port}=127.0.0.1:{port}");
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--resolve", &resolve]));
    let mut conn = client::open(proxy.addr);
    let req = format!("GET http://bad.test:{port}/x HTTP/1.1\r\nHost: bad.test:{port}\r\n\r\n");
    conn.send(req.as_bytes()).expect("send");
    let resp = conn.read_reply().ok().flatten();
    (fx, proxy, resp, server)
}

/// A status line hyper refuses (here an escape sequence in the reason phrase, which go's own
/// client reads): a readable 502 that says what was refused, a protocol flow whose fix says
/// gomitm stood in the way, nothing raw in either, and the proxy serves on.
#[test]
fn an_invalid_upstream_status_line_is_a_502_that_says_so() {
    let (_fx, proxy, resp, server) =
        get_from_raw(b"HTTP/1.1 404 Not\x1b[0m Found\r\nContent-Length: 9\r\n\r\nnot found");
    let resp = resp.expect("an answer");
    assert_eq!(resp.status, 502);
    let body = String::from_utf8_lossy(&resp.body).to_string();
    assert!(body.contains("status line is not valid HTTP/1.1"), "{body}");
    assert!(
        body.contains("without gomitm"),
        "the fix says gomitm stood in the way: {body}"
    );
    assert!(!body.contains('\x1b'), "{body:?}");
    let f = proxy.wait_for_flow("protocol error", |f| error_class(f) == "protocol");
    let msg = f["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("status line is not valid") && !msg.contains('\x1b'),
        "{msg:?}"
    );
    let _ = server.join();
    assert_still_serves(&proxy);
}

/// A chunked body whose size line is no number broke HTTP's framing: a protocol flow, not a
/// connection cut short (which a retry might fix); one that stops mid-chunk is the cut.
#[test]
fn broken_chunked_framing_is_a_protocol_error_and_a_cut_chunk_a_reset() {
    let (_fx, proxy, _resp, server) = get_from_raw(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n",
    );
    let f = proxy.wait_for_flow("bad chunk size", |f| !f["error"].is_null());
    assert_eq!(error_class(&f), "protocol", "{}", f["error"]);
    let msg = f["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("broke the HTTP framing"), "{msg}");
    let _ = server.join();
    assert_still_serves(&proxy);

    let (_fx, proxy, _resp, server) =
        get_from_raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhel");
    let f = proxy.wait_for_flow("cut chunk", |f| !f["error"].is_null());
    assert_eq!(error_class(&f), "upstream_reset", "{}", f["error"]);
    let _ = server.join();
}

#[test]
fn oversized_request_head_gets_431_and_gomitm_keeps_serving() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut conn = client::open(proxy.addr);
    let big = "a".repeat(100 * 1024);
    let req =
        format!("GET http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\nX-Big: {big}\r\n\r\n");
    // gomitm may stop reading before the whole head is sent; the answer still comes back.
    let _ = conn.send(req.as_bytes());
    let resp = conn.read_reply().expect("read answer").expect("an answer");
    assert_eq!(resp.status, 431);
    let f = proxy.wait_for_flow("protocol error", |f| error_class(f) == "protocol");
    assert!(f["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(
        !fx.requests().iter().any(|r| r.header("x-big").is_some()),
        "the oversized request must not be forwarded"
    );
    assert_still_serves(&proxy);
}

#[test]
fn tls_sent_straight_to_the_proxy_port_is_explained() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut s = TcpStream::connect(proxy.addr).unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.write_all(b"\x16\x03\x01\x00\x05hello").unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest); // gomitm hangs up
    assert!(
        !String::from_utf8_lossy(&rest).contains("200"),
        "a TLS client cannot read an HTTP answer: {rest:?}"
    );
    let f = proxy.wait_for_flow("protocol error for TLS on the proxy port", |f| {
        error_class(f) == "protocol"
    });
    let msg = f["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("http://") && msg.contains("HTTPS_PROXY"),
        "{msg}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !proxy
        .stderr()
        .iter()
        .any(|l| l.contains("HTTPS_PROXY") && l.contains("http://"))
    {
        assert!(
            Instant::now() < deadline,
            "no advice on stderr: {:#?}",
            proxy.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- 6. bad CONNECT targets, loops

#[test]
fn invalid_connect_authority_and_proxy_loops_are_refused() {
    let fx = Fixture::start();
    let mut proxy = gomitm_for(&fx, HOSTS, &[]);
    let port = proxy.addr.port();

    let mut conn = client::open(proxy.addr);
    conn.send(b"CONNECT nonsense HTTP/1.1\r\nHost: nonsense\r\n\r\n")
        .unwrap();
    let resp = conn.read_reply().unwrap().expect("an answer");
    assert_eq!(resp.status, 400, "{}", resp.text());
    proxy.wait_for_flow("protocol error for CONNECT nonsense", |f| {
        error_class(f) == "protocol"
    });

    let started = Instant::now();
    let mut conn = client::open(proxy.addr);
    let target = format!("127.0.0.1:{port}");
    conn.send(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .unwrap();
    let resp = conn.read_reply().unwrap().expect("an answer");
    assert_eq!(resp.status, 403, "{}", resp.text());
    assert!(
        first_line(&resp.body).starts_with("gomitm:"),
        "{}",
        resp.text()
    );
    let f = proxy.wait_for_flow("refused CONNECT loop", |f| {
        error_class(f) == "refused" && f["request"]["method"] == "CONNECT"
    });
    assert_eq!(url_of(&f), target);

    let resp = raw_get(proxy.addr, &format!("http://{target}/x"), &target);
    assert_eq!(resp.status, 403, "{}", resp.text());
    let f = proxy.wait_for_flow("refused GET loop", |f| {
        error_class(f) == "refused" && f["request"]["method"] == "GET"
    });
    assert_eq!(url_of(&f), format!("http://{target}/x"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a loop would spin"
    );

    // No loop: gomitm recorded exactly these three flows and nothing reached the fixture.
    let har = proxy.stop();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{entries:#?}");
    assert!(fx.requests().is_empty());
}

// ---------------------------------------------------------------- 7. upstream proxy

#[test]
fn upstream_proxy_gets_connect_with_credentials_and_is_recorded_without_them() {
    let fx = Fixture::start();
    let corp = RecordingProxy::start(fx.addr, false);
    let upstream = format!("http://user:p%40ss@127.0.0.1:{}", corp.addr.port());
    let proxy = gomitm_for(&fx, &[], &strings(&["--upstream-proxy", &upstream]));
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H2).await;
        let resp = c.get("/bytes/3000", &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(drain(resp.into_body()).await, (3000, true, None));
    });
    let heads = corp.heads();
    assert_eq!(heads.len(), 1, "{heads:#?}");
    let lines: Vec<&str> = heads[0].lines().collect();
    assert!(
        lines[0].starts_with("CONNECT goproxy.test:443 "),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .split_once(':')
            .is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization")
                && v.trim() == "Basic dXNlcjpwQHNz")),
        "{lines:?}"
    );
    let f = proxy.wait_for_flow("through the upstream proxy", |f| {
        url_of(f) == "https://goproxy.test/bytes/3000"
    });
    assert_eq!(f["response"]["status"], 200);
    let via = format!("http://127.0.0.1:{}", corp.addr.port());
    assert_eq!(f["connection"]["via_upstream_proxy"], via.as_str());
    let json = f.to_string();
    assert!(!json.contains("p@ss") && !json.contains("p%40ss"), "{json}");
    assert!(fx.requests().iter().any(|r| r.path() == "/bytes/3000"));
}

#[test]
fn upstream_proxy_refusal_is_a_502_with_class_upstream_proxy() {
    let fx = Fixture::start();
    let corp = RecordingProxy::start(fx.addr, true);
    let upstream = format!("http://user:p%40ss@127.0.0.1:{}", corp.addr.port());
    let proxy = gomitm_for(&fx, &[], &strings(&["--upstream-proxy", &upstream]));
    let body = block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H1).await;
        let resp = c.get("/status/200", &[]).await;
        assert_eq!(resp.status(), 502);
        body_bytes(resp).await
    });
    let line = first_line(&body);
    assert!(line.starts_with("gomitm:"), "{line}");
    assert!(line.contains("407"), "{line}");
    assert!(!String::from_utf8_lossy(&body).contains("p@ss"));
    let f = proxy.wait_for_flow("upstream proxy failure", |f| {
        error_class(f) == "upstream_proxy"
    });
    assert_eq!(url_of(&f), "https://goproxy.test/status/200");
    assert!(f["error"]["message"].as_str().unwrap().contains("407"));
    assert!(corp.heads()[0].starts_with("CONNECT goproxy.test:443 "));
    assert!(fx.requests().is_empty(), "nothing may reach the origin");
}

// ---------------------------------------------------------------- 8. --insecure-upstream

#[test]
fn insecure_upstream_accepts_an_untrusted_certificate_and_marks_the_flow() {
    let fx = Fixture::start_with(FixtureOptions {
        untrusted: true,
        ..Default::default()
    });
    let resolve = vec![
        "--resolve".to_string(),
        format!("goproxy.test:443={}", fx.addr),
    ];
    let mut args = resolve.clone();
    args.push("--insecure-upstream".into());
    let proxy = Gomitm::start(&args);
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H2).await;
        let resp = c.get("/status/200", &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(body_bytes(resp).await, b"status 200");
    });
    let f = proxy.wait_for_flow("insecure upstream", |f| {
        url_of(f) == "https://goproxy.test/status/200"
    });
    assert_eq!(f["connection"]["insecure_upstream"], true);
    assert!(f["error"].is_null(), "{}", f["error"]);

    let strict = Gomitm::start(&resolve);
    let body = block_on(async {
        let mut c = HttpsClient::connect(strict.addr, "goproxy.test", &strict.ca_pem(), H2).await;
        let resp = c.get("/status/200", &[]).await;
        assert_eq!(resp.status(), 502);
        body_bytes(resp).await
    });
    let line = first_line(&body);
    assert!(
        line.starts_with("gomitm: TLS handshake with upstream goproxy.test failed"),
        "{line}"
    );
    let f = strict.wait_for_flow("upstream TLS failure", |f| error_class(f) == "upstream_tls");
    assert_eq!(url_of(&f), "https://goproxy.test/status/200");
    assert!(
        f["error"]["message"].as_str().unwrap().contains("unknown"),
        "{}",
        f["error"]
    );
}

// ---------------------------------------------------------------- 9. upstream stall and reset

#[test]
fn stalled_upstream_times_out_with_504() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--upstream-timeout", "1"]));
    let started = Instant::now();
    let resp = raw_get(proxy.addr, "http://plain.test/stall", "plain.test");
    let took = started.elapsed();
    assert_eq!(resp.status, 504, "{}", resp.text());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        took >= Duration::from_millis(900),
        "answered before the timeout: {took:?}"
    );
    assert!(
        first_line(&resp.body).starts_with("gomitm:"),
        "{}",
        resp.text()
    );
    let f = proxy.wait_for_flow("upstream timeout", |f| error_class(f) == "upstream_timeout");
    assert_eq!(url_of(&f), "http://plain.test/stall");
    assert!(fx.requests().iter().any(|r| r.path() == "/stall"));
}

#[test]
fn upstream_reset_mid_body_cuts_the_client_body_and_is_recorded() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let resp = raw_get(proxy.addr, "http://plain.test/reset/5000", "plain.test");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("50000"));
    assert!(resp.cut, "the client must see the body end early");
    assert_eq!(resp.body.len(), 5000);
    assert!(is_pattern(&resp.body, 0));
    let f = proxy.wait_for_flow("upstream reset", |f| error_class(f) == "upstream_reset");
    assert_eq!(url_of(&f), "http://plain.test/reset/5000");
    assert_eq!(f["response"]["status"], 200);
    assert_eq!(f["response"]["body"]["total"], 5000);
    assert_eq!(f["response"]["body"]["complete"], false);

    // The same over an intercepted h2 tunnel: the client sees a stream error.
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H2).await;
        let resp = c.get("/reset/5000", &[]).await;
        assert_eq!(resp.status(), 200);
        let (n, ok, err) = drain(resp.into_body()).await;
        assert!(ok && n == 5000 && err.is_some(), "{n} {ok} {err:?}");
    });
    let f = proxy.wait_for_flow("upstream reset over h2", |f| {
        error_class(f) == "upstream_reset" && url_of(f) == "https://goproxy.test/reset/5000"
    });
    assert_eq!(f["response"]["body"]["total"], 5000);
}

// ---------------------------------------------------------------- 10. HAR on SIGTERM

/// Makes a secret-carrying TLS request, a request with URL credentials and a failing one;
/// returns the HAR gomitm wrote on SIGTERM, parsed and as text.
fn har_scenario(fx: &Fixture, extra: &[&str]) -> (Value, String) {
    let mut proxy = gomitm_for(fx, HOSTS, &strings(extra));
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H1).await;
        let headers = [("authorization", "Bearer s3cret"), ("cookie", "a=b")];
        let resp = c.get("/status/404", &headers).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(body_bytes(resp).await, b"status 404");
    });
    let resp = client::open(proxy.addr).request(
        "GET http://bob:pw@plain.test/echo HTTP/1.1\r\nHost: plain.test\r\n\
         Proxy-Authorization: Basic cHJveHk6c2VjcmV0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = raw_get(proxy.addr, "http://nosuch.invalid/", "nosuch.invalid");
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert!(
        first_line(&resp.body).starts_with("gomitm:"),
        "{}",
        resp.text()
    );
    for (what, class) in [
        ("/status/404", ""),
        ("/echo", ""),
        ("nosuch.invalid", "dns"),
    ] {
        proxy.wait_for_flow(what, |f| {
            url_of(f).contains(what) && error_class(f) == class
        });
    }
    let har = proxy.stop();
    let text = std::fs::read_to_string(proxy.har_path()).expect("HAR file");
    (har, text)
}

fn entry<'a>(har: &'a Value, url_part: &str) -> &'a Value {
    har["log"]["entries"]
        .as_array()
        .expect("log.entries")
        .iter()
        .find(|e| {
            e["request"]["url"]
                .as_str()
                .unwrap_or("")
                .contains(url_part)
        })
        .unwrap_or_else(|| panic!("no HAR entry for {url_part}: {har:#}"))
}

fn har_header<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    list.as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str())
}

#[test]
fn har_written_on_sigterm_redacts_secrets_and_keeps_failures() {
    let fx = Fixture::start();
    let (har, text) = har_scenario(&fx, &[]);
    assert!(!text.contains("s3cret"), "bearer token leaked into the HAR");
    assert!(!text.contains("pw@"), "URL credentials leaked into the HAR");
    assert!(
        !text.contains("cHJveHk6c2VjcmV0"),
        "Proxy-Authorization leaked"
    );
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{entries:#?}");
    for e in entries {
        let started = e["startedDateTime"].as_str().unwrap_or("");
        assert!(
            started.starts_with("20") && started.ends_with('Z'),
            "{started:?}"
        );
        assert!(
            e["time"].as_f64().is_some_and(|t| t >= 0.0),
            "{}",
            e["time"]
        );
        for phase in ["send", "wait", "receive"] {
            let v = e["timings"][phase].as_f64();
            assert!(v.is_some_and(|v| v >= 0.0), "{phase}: {}", e["timings"]);
        }
    }
    let secret = entry(&har, "/status/404");
    assert_eq!(secret["response"]["status"], 404);
    let headers = &secret["request"]["headers"];
    assert_eq!(har_header(headers, "authorization"), Some("REDACTED"));
    assert_eq!(har_header(headers, "cookie"), Some("REDACTED"));
    for c in secret["request"]["cookies"].as_array().unwrap() {
        assert_eq!(c["value"], "REDACTED", "{c}");
    }
    let creds = entry(&har, "plain.test/echo");
    assert_eq!(
        har_header(&creds["request"]["headers"], "proxy-authorization"),
        Some("REDACTED")
    );
    assert_eq!(creds["response"]["status"], 200);
    let failed = entry(&har, "nosuch.invalid");
    assert_eq!(failed["response"]["status"], 0);
    assert_eq!(failed["_error"]["class"], "dns", "{}", failed["_error"]);
    assert!(failed["_error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("nosuch.invalid")));
}

#[test]
fn har_no_redact_keeps_secrets() {
    let fx = Fixture::start();
    let (har, text) = har_scenario(&fx, &["--har-no-redact"]);
    assert!(text.contains("Bearer s3cret"));
    let secret = entry(&har, "/status/404");
    assert_eq!(
        har_header(&secret["request"]["headers"], "cookie"),
        Some("a=b")
    );
    let creds = entry(&har, "plain.test/echo");
    assert_eq!(
        har_header(&creds["request"]["headers"], "proxy-authorization"),
        Some("Basic cHJveHk6c2VjcmV0")
    );
}

#[test]
fn har_url_credentials_are_redacted_or_kept_per_flag() {
    let fx = Fixture::start();
    let (har, _) = har_scenario(&fx, &[]);
    let url = &entry(&har, "plain.test/echo")["request"]["url"];
    assert_eq!(url, "http://REDACTED@plain.test/echo");
    let (har, _) = har_scenario(&fx, &["--har-no-redact"]);
    let url = &entry(&har, "plain.test/echo")["request"]["url"];
    assert_eq!(url, "http://bob:pw@plain.test/echo");
}

// ---------------------------------------------------------------- 11. client abort

const HUGE: &str = "/bytes/536870912";

#[test]
fn client_abort_mid_download_is_recorded_and_gomitm_keeps_serving() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    // HTTP/1.1: the client drops the whole connection after ~1 MB.
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H1).await;
        let resp = c.get(HUGE, &[]).await;
        assert_eq!(resp.status(), 200);
        let got = read_some(resp.into_body(), 1 << 20).await;
        assert!(got >= 1 << 20);
    });
    let f = proxy.wait_for_flow("client abort over h1", |f| {
        error_class(f) == "client_abort" && f["connection"]["client_alpn"] == "http/1.1"
    });
    assert_eq!(url_of(&f), format!("https://goproxy.test{HUGE}"));
    let total = f["response"]["body"]["total"].as_u64().unwrap();
    assert!((1 << 20..536_870_912).contains(&total), "{total}");
    assert_eq!(f["response"]["body"]["complete"], false);

    // h2: the client drops only the stream, then uses the same connection again.
    block_on(async {
        let mut c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H2).await;
        let resp = c.get(HUGE, &[]).await;
        assert_eq!(resp.status(), 200);
        assert!(read_some(resp.into_body(), 1 << 20).await >= 1 << 20);
        let resp = c.get("/status/200", &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(body_bytes(resp).await, b"status 200");
    });
    let f = proxy.wait_for_flow("client abort over h2", |f| {
        error_class(f) == "client_abort" && f["connection"]["client_alpn"] == "h2"
    });
    assert_eq!(url_of(&f), format!("https://goproxy.test{HUGE}"));
    proxy.wait_for_flow("request after the abort", |f| {
        url_of(f) == "https://goproxy.test/status/200" && f["response"]["status"] == 200
    });
    assert_still_serves(&proxy);
}

/// Reads at least `want` bytes of a `/bytes` body, checking the pattern, then drops it.
async fn read_some(mut body: Incoming, want: u64) -> u64 {
    let mut n = 0u64;
    while n < want {
        let frame = body
            .frame()
            .await
            .expect("body ended early")
            .expect("frame");
        if let Some(d) = frame.data_ref() {
            assert!(is_pattern(d, n), "pattern at {n}");
            n += d.len() as u64;
        }
    }
    n
}

// ---------------------------------------------------------------- upstream connections per client

/// A TCP relay on 127.0.0.1 in front of `to` that counts the connections it accepts.
async fn counting_relay(to: SocketAddr) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, accepted)
}

#[test]
fn an_h2_client_gets_a_bounded_number_of_http1_upstream_connections() {
    const REQUESTS: usize = 100;
    /// gomitm's bound on upstream HTTP/1.1 connections per client connection.
    const BOUND: usize = 16;
    let fx = Fixture::start_with(FixtureOptions {
        h1_only: true,
        ..FixtureOptions::default()
    });
    block_on(async {
        let (relay, accepted) = counting_relay(fx.addr).await;
        let mut args = strings(&["--resolve", &format!("goproxy.test:443={relay}")]);
        args.extend(support::gomitm::path_arg("--extra-root", &fx.ca_pem));
        let proxy = Gomitm::start(&args);
        let c = HttpsClient::connect(proxy.addr, "goproxy.test", &proxy.ca_pem(), H2).await;
        assert_eq!(c.alpn.as_deref(), Some("h2"));
        let Sender::H2(sender) = &c.sender else {
            panic!("an h2 client")
        };
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..REQUESTS {
            let mut s = sender.clone();
            tasks.push(tokio::spawn(async move {
                let req = Request::get(format!("https://goproxy.test/bytes/{}", 20_000 + i))
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                s.ready().await.unwrap();
                let resp = s.send_request(req).await.unwrap();
                let status = resp.status();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                (status, body.len())
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let (status, len) = tokio::time::timeout(IO_TIMEOUT, t)
                .await
                .expect("every request answered in time")
                .unwrap();
            assert_eq!(status, 200, "request {i}");
            assert_eq!(len, 20_000 + i, "request {i}");
        }
        let n = accepted.load(std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "{REQUESTS} h2 requests over {n} upstream connections in {:?}",
            started.elapsed()
        );
        assert!(
            (1..=BOUND).contains(&n),
            "{n} upstream connections for one client"
        );
    });
}

// ---------------------------------------------------------------- Host is the target's

/// The upstream's Host comes from the target (the absolute URL, or the tunnel's authority),
/// never from a different Host the client sent; the flow keeps what the client sent. Two Host
/// fields, or one that is not an authority, are answered 400 and recorded.
#[test]
fn the_upstream_host_is_the_targets_and_ambiguous_hosts_are_refused() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);

    let mut conn = client::open(proxy.addr);
    let resp = conn.request("GET http://plain.test/echo?p HTTP/1.1\r\nHost: evil.test\r\n\r\n");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let resp = tls.request("GET /echo?t HTTP/1.1\r\nHost: evil.test:8443\r\n\r\n");
    assert_eq!(resp.status, 200, "{}", resp.text());
    for (query, tls) in [("p", false), ("t", true)] {
        let seen = fx.requests();
        let upstream = seen
            .iter()
            .find(|r| r.path() == "/echo" && r.tls == tls)
            .unwrap_or_else(|| panic!("fixture never saw /echo?{query}"));
        let want = if tls { "goproxy.test" } else { "plain.test" };
        assert_eq!(upstream.authority, want, "?{query}");
        assert_eq!(upstream.header("host"), Some(want), "?{query}");
    }
    let flow = proxy.wait_for_flow("the tunnelled /echo", |f| url_of(f).ends_with("/echo?t"));
    let sent: Vec<&str> = flow["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h[0].as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("host"))
        })
        .filter_map(|h| h[1].as_str())
        .collect();
    assert_eq!(
        sent,
        ["evil.test:8443"],
        "the record lost the client's Host"
    );
    // …and says that it differed from the target, for both kinds of request.
    assert_eq!(flow["client_host"], "evil.test:8443");
    let plain = proxy.wait_for_flow("the plain /echo", |f| url_of(f).ends_with("/echo?p"));
    assert_eq!(plain["client_host"], "evil.test");
    // A Host that names the target (any case, default port spelled out) is not flagged.
    let mut conn = client::open(proxy.addr);
    let resp =
        conn.request("GET http://plain.test/echo?same HTTP/1.1\r\nHost: PLAIN.test:80\r\n\r\n");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let same = proxy.wait_for_flow("the /echo?same", |f| url_of(f).ends_with("/echo?same"));
    assert!(same.get("client_host").is_none(), "{}", same["client_host"]);
    // Whatever the client's spelling, the upstream gets the one built from the target; a Host
    // already spelled that way is passed on as it is, once.
    let resp =
        conn.request("GET http://plain.test/echo?exact HTTP/1.1\r\nHost: plain.test\r\n\r\n");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let seen = fx.requests();
    for query in ["same", "exact"] {
        let path = format!("/echo?{query}");
        assert_eq!(upstream_hosts(&seen, &path), ["plain.test"], "{path}");
    }

    for (name, head) in [
        ("two hosts", "Host: plain.test\r\nHost: evil.test\r\n"),
        ("userinfo", "Host: user@plain.test\r\n"),
        ("not an authority", "Host: plain test\r\n"),
    ] {
        let mut c = client::open(proxy.addr);
        let resp = c.request(&format!(
            "GET http://plain.test/status/200?{} HTTP/1.1\r\n{head}\r\n",
            name.replace(' ', "-")
        ));
        assert_eq!(resp.status, 400, "{name}: {}", resp.text());
        let q = name.replace(' ', "-");
        let f = proxy.wait_for_flow(name, |f| url_of(f).ends_with(&q));
        assert_eq!(error_class(&f), "protocol", "{name}");
    }
    assert!(
        !fx.requests().iter().any(|r| r.path() == "/status/200"),
        "an ambiguous request reached the upstream"
    );
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- curl's --connect-to

/// Every Host field the upstream received with the request for `path_and_query`.
fn upstream_hosts(seen: &[RecordedRequest], path_and_query: &str) -> Vec<String> {
    let r = seen
        .iter()
        .find(|r| r.path_and_query == path_and_query)
        .unwrap_or_else(|| panic!("fixture never saw {path_and_query}"));
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// The rules never see the client's Host, whatever its spelling: a rule that adds one sends
/// exactly that one, a rule that rewrites Host has nothing to rewrite, and without a rule the
/// upstream gets the target's.
#[test]
fn rules_act_on_host_as_if_the_client_had_sent_none() {
    let fx = Fixture::start();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
name = "add"
match = "path:/echo & url:added"
request.add_header = { "Host" = "plain.test:80" }

[[rule]]
name = "rewrite"
match = "path:/echo & url:rewritten"
request.replace_header = [{ name = "Host", pattern = "plain", with = "evil" }]
"#,
    )
    .unwrap();
    let proxy = gomitm_for(&fx, HOSTS, &["--rules".into(), rules.display().to_string()]);
    let mut conn = client::open(proxy.addr);
    for query in ["added", "rewritten"] {
        for host in ["plain.test", "PLAIN.test"] {
            let resp = conn.request(&format!(
                "GET http://plain.test/echo?{query}-{host} HTTP/1.1\r\nHost: {host}\r\n\r\n"
            ));
            assert_eq!(resp.status, 200, "{query} {host}: {}", resp.text());
        }
    }
    let seen = fx.requests();
    for (query, want) in [("added", "plain.test:80"), ("rewritten", "plain.test")] {
        for host in ["plain.test", "PLAIN.test"] {
            let path = format!("/echo?{query}-{host}");
            assert_eq!(upstream_hosts(&seen, &path), [want], "{path}");
        }
    }
}
/// `--connect-to` sends the connection elsewhere while the request keeps its name: the
/// fixture sees Host `goproxy.test` and gomitm verifies its certificate for that name (SNI),
/// though the TCP connection went to `backend.test`, which curl's own `--resolve HOST:PORT:ADDR`
/// form maps to 127.0.0.1 (a `--resolve` applies after the connect-to, as in curl).
#[test]
fn connect_to_moves_the_connection_but_not_the_name() {
    let fx = Fixture::start();
    let port = fx.addr.port();
    let args = strings(&[
        "--connect-to",
        &format!("goproxy.test:443:backend.test:{port}"),
        "--resolve",
        &format!("backend.test:{port}:127.0.0.1"),
        "--extra-root",
        fx.ca_pem.to_str().unwrap(),
    ]);
    let proxy = Gomitm::start(&args);
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let resp = tls.request("GET /echo?ct HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let seen = fx.requests();
    let upstream = seen
        .iter()
        .find(|r| r.path() == "/echo" && r.tls)
        .expect("the fixture saw the request");
    assert_eq!(upstream.header("host"), Some("goproxy.test"));
    let flow = proxy.wait_for_flow("the /echo", |f| url_of(f).ends_with("/echo?ct"));
    assert_eq!(url_of(&flow), "https://goproxy.test/echo?ct");
    assert_eq!(flow["connection"]["server_addr"], fx.addr.to_string());
    assert!(
        flow["timings"]["dns"].is_null(),
        "--resolve spared the lookup"
    );
}

/// `--listen 0` is a free loopback port, and the first line names the port really used.
#[test]
fn listen_zero_picks_a_free_loopback_port_and_says_which() {
    let proxy = Gomitm::start_on(tempfile::tempdir().unwrap(), "0", &[]);
    assert_eq!(proxy.addr.ip().to_string(), "127.0.0.1");
    assert_ne!(proxy.addr.port(), 0);
    let reply = client::open(proxy.addr)
        .request("GET /ca.pem HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert_eq!(reply.status, 200);
    assert!(
        reply.text().contains("BEGIN CERTIFICATE"),
        "{}",
        reply.text()
    );
}
