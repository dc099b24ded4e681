//! Upstream faults through the real gomitm binary: DNS failure, connection refused,
//! accept-then-close, a server that does not speak TLS, a reset mid-body over a pooled
//! HTTP/1.1 TLS connection, stalls before the head and mid-body, and HTTP/2 GOAWAY and
//! RST_STREAM from an `h2` upstream.
//!
//! Each test checks what the client got (status and a `gomitm: …` text/plain first line, or a
//! body cut short), what gomitm recorded (the flow and its error class), and that gomitm still
//! serves a normal request afterwards.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::client::{self, Reply};
use support::fixture::{pattern_byte, Fixture, FixtureOptions};
use support::gomitm::{
    assert_still_serves, error_class, gomitm_for, path_arg, strings, url_of, Gomitm,
};
use support::h2_upstream::{H2Upstream, RST_ANNOUNCED, RST_SENT};

/// What gomitm resolves to the fixture: its TLS port as `goproxy.test`, its plain port as
/// `plain.test` (the follow-up request of `assert_still_serves`).
const HOSTS: &[&str] = &["goproxy.test", "plain.test:80"];

/// gomitm's own error answer: the status, text/plain, and a first line naming hop and cause.
fn assert_gomitm_error(reply: &Reply, status: u16, first_line_start: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        reply.first_line().starts_with(first_line_start),
        "first line {:?}, wanted {first_line_start:?}…",
        reply.first_line()
    );
    assert!(!reply.text().contains("\n\n"), "go stops at a blank line");
}

fn message(f: &Value) -> &str {
    f["error"]["message"].as_str().unwrap_or("")
}

fn is_pattern(data: &[u8]) -> bool {
    data.iter()
        .enumerate()
        .all(|(i, b)| *b == pattern_byte(i as u64))
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// Accepts connections and closes each at once, until dropped.
struct Closer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Closer {
    fn start() -> Closer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (n, s) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        n.fetch_add(1, Ordering::SeqCst);
                        drop(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Closer {
            addr,
            accepted,
            stop,
        }
    }
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------- below HTTP

#[test]
fn dns_failure_and_refused_connection_are_502s_with_their_classes() {
    let fx = Fixture::start();
    let refused = closed_port();
    let mut extra = strings(&["--connect-timeout", "5", "--resolve"]);
    extra.push(format!("refused.test:80={refused}"));
    let proxy = gomitm_for(&fx, HOSTS, &extra);

    let reply = client::get(proxy.addr, "http://nosuch.invalid/x");
    assert_gomitm_error(&reply, 502, "gomitm: dns lookup of nosuch.invalid failed");
    let f = proxy.wait_for_flow("dns failure", |f| error_class(f) == "dns");
    assert_eq!(url_of(&f), "http://nosuch.invalid/x");
    assert!(f["response"].is_null(), "no upstream answer: {f}");

    let reply = client::get(proxy.addr, "http://refused.test/x");
    assert_gomitm_error(
        &reply,
        502,
        &format!("gomitm: connecting to {refused} failed: connection refused"),
    );
    let f = proxy.wait_for_flow("refused", |f| error_class(f) == "connect");
    assert_eq!(url_of(&f), "http://refused.test/x");
    assert!(message(&f).contains("refused"), "{}", message(&f));
    assert_still_serves(&proxy);
}

#[test]
fn upstream_that_accepts_then_closes_is_a_reset_over_http_and_a_tls_failure_over_https() {
    let fx = Fixture::start();
    let closer = Closer::start();
    let mut extra = Vec::new();
    for host in ["closer.test:80", "closer.test:443"] {
        extra.push("--resolve".to_string());
        extra.push(format!("{host}={}", closer.addr));
    }
    let proxy = gomitm_for(&fx, HOSTS, &extra);

    let reply = client::get(proxy.addr, "http://closer.test/x");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: upstream closer.test closed or reset the connection",
    );
    let f = proxy.wait_for_flow("reset", |f| url_of(f) == "http://closer.test/x");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");

    let mut tls = client::tunnel(proxy.addr, "closer.test", &proxy.ca_pem());
    let reply = tls.request("GET /x HTTP/1.1\r\nHost: closer.test\r\n\r\n");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: TLS handshake with upstream closer.test failed",
    );
    let f = proxy.wait_for_flow("tls", |f| url_of(f) == "https://closer.test/x");
    assert_eq!(error_class(&f), "upstream_tls", "{f}");
    assert!(closer.accepted.load(Ordering::SeqCst) >= 2);
    assert_still_serves(&proxy);
}

#[test]
fn upstream_that_does_not_speak_tls_is_an_upstream_tls_failure() {
    let fx = Fixture::start();
    // The fixture's plain-HTTP port, named as an https host.
    let extra = vec![
        "--resolve".to_string(),
        format!("notls.test:443={}", fx.http_addr),
    ];
    let proxy = gomitm_for(&fx, HOSTS, &extra);
    let mut tls = client::tunnel(proxy.addr, "notls.test", &proxy.ca_pem());
    let reply = tls.request("GET /status/200 HTTP/1.1\r\nHost: notls.test\r\n\r\n");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: TLS handshake with upstream notls.test failed",
    );
    assert!(
        reply.text().contains("does the server speak TLS"),
        "the hint names the likely cause: {}",
        reply.text()
    );
    let f = proxy.wait_for_flow("tls", |f| error_class(f) == "upstream_tls");
    assert_eq!(url_of(&f), "https://notls.test/status/200");
    // The same tunnel still answers: the client side is unaffected by the upstream failure.
    let reply = tls.request("GET /again HTTP/1.1\r\nHost: notls.test\r\n\r\n");
    assert_eq!(reply.status, 502);
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- mid-body

#[test]
fn reset_mid_body_over_pooled_h1_tls_is_recorded_and_the_pool_recovers() {
    let fx = Fixture::start_with(FixtureOptions {
        h1_only: true,
        ..FixtureOptions::default()
    });
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    // A pooled connection first, so the reset hits a reused one.
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let reply = tls.request("GET /status/200 HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
    assert_eq!(reply.status, 200);
    let reply = tls.request("GET /reset/5000 HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("50000"));
    assert!(reply.cut, "the client sees the body end early");
    assert_eq!(reply.body.len(), 5000);
    assert!(is_pattern(&reply.body));
    let f = proxy.wait_for_flow("reset", |f| url_of(f) == "https://goproxy.test/reset/5000");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert_eq!(f["response"]["status"], 200);
    assert_eq!(f["response"]["body"]["total"], 5000);
    assert_eq!(f["response"]["body"]["complete"], false);
    assert_eq!(f["connection"]["reused"], true);

    // The broken connection is not handed out again.
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    for _ in 0..3 {
        let reply = tls.request("GET /bytes/1000 HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
        assert_eq!(reply.status, 200);
        assert!(!reply.cut && reply.body.len() == 1000 && is_pattern(&reply.body));
    }
    assert_still_serves(&proxy);
}

#[test]
fn stalls_before_the_head_and_mid_body_end_at_the_upstream_timeout() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--upstream-timeout", "1"]));

    let started = Instant::now();
    let reply = client::get(proxy.addr, "http://plain.test/stall");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_gomitm_error(
        &reply,
        504,
        "gomitm: upstream plain.test did not answer within",
    );
    let f = proxy.wait_for_flow("head stall", |f| url_of(f) == "http://plain.test/stall");
    assert_eq!(error_class(&f), "upstream_timeout");
    assert!(f["response"].is_null());

    let started = Instant::now();
    let reply = client::get(proxy.addr, "http://plain.test/stall-body/5000");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(reply.status, 200);
    assert!(reply.cut, "the body stops where the upstream stalled");
    assert_eq!(reply.body.len(), 5000);
    let f = proxy.wait_for_flow("body stall", |f| {
        url_of(f) == "http://plain.test/stall-body/5000"
    });
    assert_eq!(error_class(&f), "upstream_timeout", "{f}");
    assert!(message(&f).contains("stalled mid-body"), "{}", message(&f));
    assert_eq!(f["response"]["body"]["total"], 5000);
    assert_eq!(f["response"]["body"]["complete"], false);
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- HTTP/2 upstream

/// [`HOSTS`] and also `h2.test:443`, resolved to the `h2` upstream, whose CA is trusted too.
fn gomitm_for_h2(fx: &Fixture, h2: &H2Upstream) -> Gomitm {
    let mut extra = vec!["--resolve".to_string(), format!("h2.test:443={}", h2.addr)];
    extra.extend(path_arg("--extra-root", &h2.ca_pem));
    gomitm_for(fx, HOSTS, &extra)
}

fn h2_get(proxy: &Gomitm, path: &str) -> Reply {
    let mut tls = client::tunnel(proxy.addr, "h2.test", &proxy.ca_pem());
    tls.request(&format!(
        "GET {path} HTTP/1.1\r\nHost: h2.test\r\nConnection: close\r\n\r\n"
    ))
}

fn h2_flow(proxy: &Gomitm, path: &str) -> Value {
    flow_at(proxy, format!("https://h2.test{path}"))
}

/// The finished flow for exactly `url`.
fn flow_at(proxy: &Gomitm, url: String) -> Value {
    proxy.wait_for_flow(&url.clone(), move |f| url_of(f) == url)
}

#[test]
fn h2_goaway_mid_request_is_a_502_and_the_next_request_gets_a_new_connection() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    let proxy = gomitm_for_h2(&fx, &h2);
    assert_eq!(h2_get(&proxy, "/ok").status, 200);
    let f = h2_flow(&proxy, "/ok");
    assert_eq!(f["connection"]["alpn"], "h2", "{f}");

    let reply = h2_get(&proxy, "/goaway-now");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: upstream h2.test closed or reset the connection",
    );
    let f = h2_flow(&proxy, "/goaway-now");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert!(message(&f).to_lowercase().contains("goaway") || message(&f).contains("closed"));

    let reply = h2_get(&proxy, "/ok");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "ok from h2\n");
    assert_eq!(h2.connections(), 2, "{:?}", h2.seen());
    assert_still_serves(&proxy);
}

#[test]
fn h2_graceful_goaway_after_a_response_does_not_fail_the_next_request() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    let proxy = gomitm_for_h2(&fx, &h2);
    // One client connection, requests back to back: each follows a GOAWAY at once.
    let mut tls = client::tunnel(proxy.addr, "h2.test", &proxy.ca_pem());
    for round in 0..5 {
        let reply = tls.request("GET /goaway-after HTTP/1.1\r\nHost: h2.test\r\n\r\n");
        assert_eq!(reply.status, 200, "round {round}: {}", reply.text());
        assert_eq!(reply.text(), "ok from h2\n");
    }
    let seen = h2.seen();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(h2.connections(), 5, "one connection per GOAWAY: {seen:?}");
    let ok = |f: &Value| {
        url_of(f) == "https://h2.test/goaway-after"
            && f["response"]["status"] == 200
            && f["error"].is_null()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while proxy.flows().iter().filter(|f| ok(f)).count() < 5 {
        assert!(Instant::now() < deadline, "{:#?}", proxy.flows());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_still_serves(&proxy);
}

#[test]
fn h2_stream_reset_before_the_head_is_a_502_and_the_connection_is_kept() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    let proxy = gomitm_for_h2(&fx, &h2);
    let first = h2_get(&proxy, "/ok");
    assert_eq!(first.status, 200, "{}", first.text());
    let reply = h2_get(&proxy, "/rst-before-head");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: upstream h2.test closed or reset the connection",
    );
    let f = h2_flow(&proxy, "/rst-before-head");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert!(message(&f).contains("stream error"), "{}", message(&f));
    assert_eq!(h2_get(&proxy, "/ok").status, 200);
    assert_eq!(
        h2.connections(),
        1,
        "a stream reset leaves the h2 connection usable: {:?}",
        h2.seen()
    );
    assert_still_serves(&proxy);
}

#[test]
fn h2_stream_reset_mid_body_cuts_the_client_body_and_is_recorded() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    let proxy = gomitm_for_h2(&fx, &h2);
    let reply = h2_get(&proxy, "/rst-mid-body");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-length"),
        Some(RST_ANNOUNCED.to_string().as_str())
    );
    assert!(reply.cut);
    assert_eq!(reply.body.len() as u64, RST_SENT);
    assert!(is_pattern(&reply.body));
    let f = h2_flow(&proxy, "/rst-mid-body");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert_eq!(f["response"]["body"]["total"], RST_SENT);
    assert_eq!(f["response"]["body"]["complete"], false);
    assert_eq!(h2_get(&proxy, "/ok").status, 200);
    assert_eq!(h2.connections(), 1, "{:?}", h2.seen());
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- one retry of an unprocessed request

/// A plain HTTP/1.1 keep-alive server (`ka.test`): each request is read whole, then answered
/// 200 `ok` — or, where `answers(connection, request)` says no (both counted from 0), the
/// connection is closed without a byte of answer.
struct KeepAlive {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    /// `(connection, request line)` of every request read.
    requests: Arc<std::sync::Mutex<Vec<(usize, String)>>>,
}

impl KeepAlive {
    fn start(answers: fn(usize, usize) -> bool) -> KeepAlive {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (n, seen) = (accepted.clone(), requests.clone());
        std::thread::spawn(move || {
            for (conn, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                n.fetch_add(1, Ordering::SeqCst);
                let seen = seen.clone();
                std::thread::spawn(move || serve_keep_alive(stream, conn, answers, &seen));
            }
        });
        KeepAlive {
            addr,
            accepted,
            requests,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<(usize, String)> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_keep_alive(
    stream: std::net::TcpStream,
    conn: usize,
    answers: fn(usize, usize) -> bool,
    seen: &std::sync::Mutex<Vec<(usize, String)>>,
) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for request in 0.. {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        let request_line = line.trim_end().trim_end_matches(" HTTP/1.1").to_string();
        seen.lock().unwrap().push((conn, request_line));
        if !answers(conn, request) {
            return; // both halves dropped: FIN, not one byte of an answer
        }
        let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn gomitm_for_keep_alive(fx: &Fixture, ka: &KeepAlive) -> Gomitm {
    let extra = vec!["--resolve".to_string(), format!("ka.test:80={}", ka.addr)];
    gomitm_for(fx, HOSTS, &extra)
}

/// A first request, answered, whose upstream connection is then back in gomitm's pool.
fn warm_up(proxy: &Gomitm) {
    let reply = client::get(proxy.addr, "http://ka.test/first");
    assert_eq!(reply.status, 200, "{}", reply.text());
    proxy.wait_for_flow("first", |f| url_of(f) == "http://ka.test/first");
    // The connection returns to the pool once its response has been read to the end.
    std::thread::sleep(Duration::from_millis(300));
}

fn ka_flow(proxy: &Gomitm, path: &str) -> Value {
    flow_at(proxy, format!("http://ka.test{path}"))
}

/// What the keep-alive upstream saw when `/second` was sent on the warmed connection, found
/// closed, and sent once more on a fresh one: (connection, request line).
fn second_sent_twice() -> Vec<(usize, String)> {
    vec![
        (0, "GET /first".to_string()),
        (0, "GET /second".to_string()),
        (1, "GET /second".to_string()),
    ]
}

/// Connection affinity: a keep-alive client keeps the upstream connection it used, so two
/// clients open at once each get their own, and a client's connection goes to the shared
/// pool when the client leaves.
#[test]
fn each_keep_alive_client_keeps_its_upstream_connection_and_leaves_it_to_the_pool() {
    let fx = Fixture::start();
    let ka = KeepAlive::start(|_, _| true);
    let proxy = gomitm_for_keep_alive(&fx, &ka);
    let get = |c: &mut client::Conn<std::net::TcpStream>, path: &str| {
        let reply = c.request(&format!(
            "GET http://ka.test{path} HTTP/1.1\r\nHost: ka.test\r\n\r\n"
        ));
        assert_eq!(reply.status, 200, "{}", reply.text());
    };
    let mut a = client::open(proxy.addr);
    let mut b = client::open(proxy.addr);
    for i in 0..3 {
        get(&mut a, &format!("/a{i}"));
        get(&mut b, &format!("/b{i}"));
    }
    let conn_of = |path: &str| {
        let f = ka_flow(&proxy, path);
        f["connection"]["upstream_conn_id"]
            .as_u64()
            .expect("conn id")
    };
    let (ca, cb) = (conn_of("/a0"), conn_of("/b0"));
    assert_ne!(ca, cb, "two clients at once, two upstream connections");
    for i in 1..3 {
        assert_eq!(
            conn_of(&format!("/a{i}")),
            ca,
            "a's requests stay on a's connection"
        );
        assert_eq!(
            conn_of(&format!("/b{i}")),
            cb,
            "b's requests stay on b's connection"
        );
        assert_eq!(
            ka_flow(&proxy, &format!("/a{i}"))["connection"]["reused"],
            true
        );
    }
    assert_eq!(ka.accepted(), 2);
    // a leaves: its connection is pooled, and a newcomer is served on it.
    drop(a);
    std::thread::sleep(Duration::from_millis(300));
    let reply = client::get(proxy.addr, "http://ka.test/c0");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        conn_of("/c0"),
        ca,
        "the departed client's connection was reused"
    );
    assert_eq!(ka.accepted(), 2, "no third connection was dialled");
    drop(b);
}

#[test]
fn a_reused_h1_connection_closed_before_any_answer_is_retried_once_on_a_fresh_one() {
    let fx = Fixture::start();
    let ka = KeepAlive::start(|_, request| request == 0);
    let proxy = gomitm_for_keep_alive(&fx, &ka);
    warm_up(&proxy);

    let reply = client::get(proxy.addr, "http://ka.test/second");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "ok\n");
    let f = ka_flow(&proxy, "/second");
    assert_eq!(
        f["connection"]["retried"], "reused_connection_closed",
        "{f}"
    );
    assert_eq!(
        f["connection"]["reused"], false,
        "the retry's connection is fresh: {f}"
    );
    assert!(f["error"].is_null(), "{f}");
    assert_eq!(ka.accepted(), 2);
    assert_eq!(ka.requests(), second_sent_twice());
    let first = ka_flow(&proxy, "/first");
    assert!(first["connection"].get("retried").is_none(), "{first}");
}

#[test]
fn a_post_on_a_reused_h1_connection_closed_before_any_answer_is_not_retried() {
    let fx = Fixture::start();
    let ka = KeepAlive::start(|_, request| request == 0);
    let proxy = gomitm_for_keep_alive(&fx, &ka);
    warm_up(&proxy);

    let reply = client::open(proxy.addr).request(
        "POST http://ka.test/post HTTP/1.1\r\nHost: ka.test\r\nContent-Length: 5\r\n\
         Connection: close\r\n\r\nhello",
    );
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: upstream ka.test closed or reset the connection",
    );
    assert!(
        reply.first_line().contains("not retried"),
        "{}",
        reply.first_line()
    );
    let f = ka_flow(&proxy, "/post");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert!(message(&f).contains("not retried"), "{}", message(&f));
    assert!(f["connection"].get("retried").is_none(), "{f}");
    assert_eq!(ka.accepted(), 1, "no second connection");
    assert_eq!(ka.requests().len(), 2, "{:?}", ka.requests());
}

#[test]
fn a_request_is_retried_at_most_once() {
    let fx = Fixture::start();
    // Only the very first request is answered: the retry's fresh connection closes too.
    let ka = KeepAlive::start(|conn, request| conn == 0 && request == 0);
    let proxy = gomitm_for_keep_alive(&fx, &ka);
    warm_up(&proxy);

    let reply = client::get(proxy.addr, "http://ka.test/second");
    assert_gomitm_error(
        &reply,
        502,
        "gomitm: upstream ka.test closed or reset the connection",
    );
    let f = ka_flow(&proxy, "/second");
    assert_eq!(error_class(&f), "upstream_reset", "{f}");
    assert_eq!(
        f["connection"]["retried"], "reused_connection_closed",
        "{f}"
    );
    assert!(message(&f).contains("after a retry"), "{}", message(&f));
    // Give a (wrong) third attempt time to show up.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ka.accepted(), 2, "{:?}", ka.requests());
    assert_eq!(ka.requests(), second_sent_twice());
}

#[test]
fn an_h2_stream_refused_with_refused_stream_is_retried_on_a_fresh_connection() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    let proxy = gomitm_for_h2(&fx, &h2);
    let reply = h2_get(&proxy, "/refuse-once");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "ok from h2\n");
    let f = h2_flow(&proxy, "/refuse-once");
    assert_eq!(f["connection"]["retried"], "refused_stream", "{f}");
    assert!(f["error"].is_null(), "{f}");
    let conns: Vec<u64> = h2.seen().iter().map(|s| s.conn).collect();
    assert_eq!(conns, vec![1, 2], "{:?}", h2.seen());
    assert_still_serves(&proxy);
}

#[test]
fn an_h2_stream_above_the_goaway_last_stream_id_is_retried_on_a_fresh_connection() {
    let fx = Fixture::start();
    let h2 = H2Upstream::start();
    h2.goaway_on_first_connection();
    let proxy = gomitm_for_h2(&fx, &h2);
    let reply = h2_get(&proxy, "/ok");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "ok from h2\n");
    let f = h2_flow(&proxy, "/ok");
    assert_eq!(f["connection"]["retried"], "goaway_unprocessed", "{f}");
    assert_eq!(h2.connections(), 2);
    let conns: Vec<u64> = h2.seen().iter().map(|s| s.conn).collect();
    assert_eq!(conns, vec![2], "{:?}", h2.seen());
    assert_still_serves(&proxy);
}
