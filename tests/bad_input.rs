//! Client faults and bad input through the real gomitm binary: a client that aborts a
//! download, half-open and trickling connections, TLS sent to the plain proxy port, garbage
//! instead of a ClientHello, invalid CONNECT targets, heads over the limits (431), 10,000
//! headers, and a body longer than its Content-Length.
//!
//! Each test checks what the client got (a status and a readable `gomitm: …` first line, or
//! a clean close), what gomitm recorded, and that gomitm still serves a normal request.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::client::{self, Reply};
use support::fixture::{pattern_byte, Fixture};
use support::gomitm::{assert_still_serves, error_class, gomitm_for, strings, url_of, Gomitm};

/// What gomitm resolves to the fixture: its TLS port as `goproxy.test`, its plain port as
/// `plain.test` (the follow-up request of `assert_still_serves`).
const HOSTS: &[&str] = &["goproxy.test", "plain.test:80"];

fn message(f: &Value) -> &str {
    f["error"]["message"].as_str().unwrap_or("")
}

/// Waits until `n` finished flows satisfy `pred`; returns them.
fn wait_for_count(proxy: &Gomitm, n: usize, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<Value> = proxy.flows().into_iter().filter(|f| pred(f)).collect();
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} flows; all: {:#?}",
            found.len(),
            proxy.flows()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------- client abort

#[test]
fn client_abort_mid_download_is_recorded_and_leaks_no_upstream_connection() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    // One whole exchange first: the pool then holds one idle upstream connection.
    assert_eq!(
        client::get(proxy.addr, "http://plain.test/bytes/10").status,
        200
    );
    std::thread::sleep(Duration::from_millis(200));
    let baseline = proxy.open_fds();
    const ABORTS: usize = 5;
    for _ in 0..ABORTS {
        let mut c = client::open(proxy.addr);
        c.send(b"GET http://plain.test/bytes/536870912 HTTP/1.1\r\nHost: plain.test\r\n\r\n")
            .unwrap();
        let (status, _) = c.read_head().unwrap().expect("a response head");
        assert_eq!(status, 200);
        let got = c.read_bytes(1 << 20);
        assert_eq!(got.len(), 1 << 20);
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, b)| *b == pattern_byte(i as u64)));
    }
    let aborted = wait_for_count(&proxy, ABORTS, |f| {
        error_class(f) == "client_abort" && url_of(f) == "http://plain.test/bytes/536870912"
    });
    for f in &aborted {
        let total = f["response"]["body"]["total"].as_u64().unwrap();
        assert!((1 << 20..536_870_912).contains(&total), "{total}");
        assert_eq!(f["response"]["body"]["complete"], false);
        assert_eq!(f["state"], "done");
    }
    // Each aborted download's upstream connection is closed, not kept or pooled.
    let deadline = Instant::now() + Duration::from_secs(10);
    while proxy.open_fds() > baseline {
        assert!(
            Instant::now() < deadline,
            "gomitm holds {} descriptors, {baseline} before the aborts",
            proxy.open_fds()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- half-open, trickling

#[test]
fn half_open_and_trickling_clients_are_closed_by_the_header_read_timeout() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--header-read-timeout", "1"]));
    let started = Instant::now();
    let mut partial = client::open(proxy.addr);
    partial
        .send(b"GET http://plain.test/echo HTTP/1.1\r\nHost: pla")
        .unwrap();
    let mut idle = client::open(proxy.addr);
    let mut tls_half = client::open(proxy.addr);
    tls_half
        .send(b"CONNECT goproxy.test:443 HTTP/1.1\r\nHost: goproxy.test:443\r\n\r\n")
        .unwrap();
    assert_eq!(
        tls_half.read_head().unwrap().expect("CONNECT answered").0,
        200
    );
    // The first bytes of a ClientHello, then silence.
    tls_half.send(b"\x16\x03\x01").unwrap();

    // A client that keeps sending one header byte every 100 ms, for up to 5 s.
    let trickle = TcpStream::connect(proxy.addr).unwrap();
    let trickler = std::thread::spawn(move || {
        let mut trickle = trickle;
        let began = Instant::now();
        let head = b"GET http://plain.test/echo HTTP/1.1\r\nX-Slow: ";
        if trickle.write_all(head).is_err() {
            return began.elapsed();
        }
        while began.elapsed() < Duration::from_secs(5) {
            if trickle.write_all(b"a").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        began.elapsed()
    });

    // Meanwhile, others are served.
    let reply = client::get(proxy.addr, "http://plain.test/status/202");
    assert_eq!(reply.status, 202);

    for (name, conn) in [
        ("partial head", &mut partial),
        ("idle", &mut idle),
        ("half a ClientHello", &mut tls_half),
    ] {
        assert!(
            conn.closed_within(Duration::from_secs(10)),
            "{name}: still open"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
    let trickled = trickler.join().unwrap();
    assert!(
        trickled < Duration::from_secs(4),
        "a trickle of bytes must not keep the connection: it lasted {trickled:?}"
    );

    let stalled = wait_for_count(&proxy, 2, |f| {
        error_class(f) == "protocol" && message(f).contains("sent part of a request head")
    });
    assert!(stalled
        .iter()
        .all(|f| message(f).contains("--header-read-timeout")));
    let f = proxy.wait_for_flow("half a ClientHello", |f| {
        f["kind"] == "tunnel" && message(f).contains("ClientHello")
    });
    assert_eq!(error_class(&f), "protocol");
    assert_eq!(url_of(&f), "goproxy.test:443");
    // The idle connection is not a failure: only the two stalled heads were recorded.
    std::thread::sleep(Duration::from_millis(300));
    let heads = proxy
        .flows()
        .into_iter()
        .filter(|f| message(f).contains("sent part of a request head"))
        .count();
    assert_eq!(heads, 2);
    assert!(!fx.requests().iter().any(|r| r.path() == "/echo"));
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- TLS on the proxy port

#[test]
fn tls_sent_to_the_proxy_port_is_logged_with_the_proxy_url_to_use() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    // What go does with HTTPS_PROXY=https://127.0.0.1:PORT: a real ClientHello.
    let tcp = TcpStream::connect(proxy.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let config = support::tools::tls_client_config(&proxy.ca_pem(), &[b"http/1.1"]);
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    assert!(
        tls.write_all(b"GET / HTTP/1.1\r\n\r\n")
            .and_then(|_| tls.flush())
            .and_then(|_| std::io::Read::read(&mut tls, &mut [0u8; 16]))
            .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock),
        "the handshake must fail (gomitm hangs up)"
    );
    let advice = format!("HTTPS_PROXY=http://{}", proxy.addr);
    let line = proxy.wait_for_stderr(&advice);
    assert!(line.contains("not https://"), "{line}");
    let f = proxy.wait_for_flow("TLS on the proxy port", |f| error_class(f) == "protocol");
    assert!(message(&f).contains(&advice), "{}", message(&f));
    assert_eq!(f["request"]["method"], "-");
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- after CONNECT

#[test]
fn garbage_instead_of_a_client_hello_is_refused_or_tunnelled_as_designed() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let connect = b"CONNECT goproxy.test:443 HTTP/1.1\r\nHost: goproxy.test:443\r\n\r\n";

    // Starts like TLS (0x16) but is not a ClientHello: an error, and the tunnel is closed.
    let mut c = client::open(proxy.addr);
    c.send(connect).unwrap();
    assert_eq!(c.read_head().unwrap().unwrap().0, 200);
    c.send(b"\x16\x03\x01\x00\x08garbage!\x00\x00\x00\x00\x00\x00\x00\x00")
        .unwrap();
    assert!(c.closed_within(Duration::from_secs(10)));
    let f = proxy.wait_for_flow("bad ClientHello", |f| {
        f["kind"] == "tunnel" && error_class(f) == "protocol"
    });
    assert!(
        message(&f).contains("invalid TLS ClientHello"),
        "{}",
        message(&f)
    );
    assert_eq!(url_of(&f), "goproxy.test:443");

    // Not TLS at all: by design tunnelled unchanged (it may be another protocol); here the
    // upstream speaks TLS, rejects the bytes and hangs up, and so does the tunnel.
    let garbage = b"this is not TLS\r\n\r\n";
    let mut c = client::open(proxy.addr);
    c.send(connect).unwrap();
    assert_eq!(c.read_head().unwrap().unwrap().0, 200);
    c.send(garbage).unwrap();
    assert!(c.closed_within(Duration::from_secs(15)));
    // The tunnel ends (and its flow with it) when both sides have closed.
    drop(c);
    let f = proxy.wait_for_flow("plain tunnel", |f| {
        f["kind"] == "tunnel" && f["tunnel"]["bytes_up"] == garbage.len() as u64
    });
    assert_eq!(url_of(&f), "goproxy.test:443");
    assert_eq!(f["connection"]["server_addr"], fx.addr.to_string());
    assert_still_serves(&proxy);
}

#[test]
fn invalid_connect_targets_get_a_400_with_a_readable_body() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let targets = [
        "/foo",
        "goproxy.test",
        "goproxy.test:0",
        "goproxy.test:99999",
        "user@goproxy.test:443",
        "bad!host:443",
        "-x-.test:443",
        "a..b:443",
    ];
    for target in targets {
        let mut c = client::open(proxy.addr);
        let reply = c.request(&format!("CONNECT {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert_eq!(reply.status, 400, "CONNECT {target}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(
            reply
                .first_line()
                .starts_with("gomitm: CONNECT needs host:port"),
            "CONNECT {target}: {}",
            reply.text()
        );
        // The JSON lines are redacted: user info in a target reads `REDACTED@`.
        let recorded = match target.split_once('@') {
            Some((_, rest)) => format!("REDACTED@{rest}"),
            None => target.to_string(),
        };
        let f = proxy.wait_for_flow(target, |f| {
            f["request"]["method"] == "CONNECT" && url_of(f) == recorded
        });
        assert_eq!(error_class(&f), "protocol", "{f}");
    }
    // A request line hyper cannot parse at all: its own bare 400, still recorded.
    let mut c = client::open(proxy.addr);
    c.send(b"CONNECT bad host:443 HTTP/1.1\r\n\r\n").unwrap();
    if let Ok(Some(reply)) = c.read_reply() {
        assert_eq!(reply.status, 400);
    }
    proxy.wait_for_flow("unparseable CONNECT", |f| {
        error_class(f) == "protocol" && message(f).contains("malformed")
    });
    assert!(fx.requests().is_empty(), "{:?}", fx.requests());
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- limits

fn assert_431(reply: Option<Reply>, what: &str) {
    let reply = reply.unwrap_or_else(|| panic!("{what}: closed without an answer"));
    assert_eq!(reply.status, 431, "{what}: {}", reply.text());
}

#[test]
fn heads_over_the_limits_get_431_outside_and_inside_tunnels() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let long_uri = format!(
        "GET http://plain.test/echo?{} HTTP/1.1\r\nHost: plain.test\r\n\r\n",
        "q".repeat(70 * 1024)
    );
    let big_block = format!(
        "GET http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\n{}\r\n",
        (0..70)
            .map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(1024)))
            .collect::<String>()
    );
    let many = |target: &str| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: plain.test\r\n{}\r\n",
            "a: b\r\n".repeat(10_000)
        )
    };
    assert!(
        many("/").len() < 64 * 1024,
        "the count, not the size, is over"
    );
    // The field count's limit is 100 (hyper's default, which gomitm leaves unset): Host and
    // 99 more pass; Host and 100 more do not.
    let fields = |n: usize| {
        format!(
            "GET http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\n{}\r\n",
            (1..n).map(|i| format!("x-f{i}: v\r\n")).collect::<String>()
        )
    };
    let mut c = client::open(proxy.addr);
    c.send(fields(100).as_bytes()).expect("send 100 fields");
    let reply = c
        .read_reply()
        .ok()
        .flatten()
        .expect("an answer to 100 fields");
    assert_eq!(reply.status, 200, "100 fields: {}", reply.text());
    let cases = [
        ("70 KiB request line", long_uri),
        ("70 KiB of headers", big_block),
        ("101 headers", fields(101)),
        ("10,000 headers", many("http://plain.test/echo")),
    ];
    for (what, text) in &cases {
        let mut c = client::open(proxy.addr);
        // gomitm may answer before it has read everything.
        let _ = c.send(text.as_bytes());
        assert_431(c.read_reply().ok().flatten(), what);
    }
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let _ = tls.send(many("/echo").as_bytes());
    assert_431(
        tls.read_reply().ok().flatten(),
        "10,000 headers in a tunnel",
    );

    let flows = wait_for_count(&proxy, 5, |f| {
        error_class(f) == "protocol" && message(f).contains("malformed")
    });
    assert!(flows
        .iter()
        .all(|f| message(f).contains("too large") || message(f).contains("header")));
    assert_eq!(
        fx.requests().iter().filter(|r| r.path() == "/echo").count(),
        1,
        "only the head within the limits reaches the upstream"
    );
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- bodies

#[test]
fn bytes_after_a_content_length_body_are_not_smuggled_into_the_upstream_request() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let mut c = client::open(proxy.addr);
    // Five body bytes, then what a smuggler hopes the upstream reads as its own request.
    c.send(
        b"POST http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 5\r\n\r\n\
          helloGET /smuggled HTTP/1.1\r\nHost: plain.test\r\n\r\n",
    )
    .unwrap();
    let first = c.read_reply().unwrap().expect("the POST's answer");
    assert_eq!(first.status, 200, "{}", first.text());
    let echo: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body_len"], 5);
    // The extra bytes are the client's next request on this connection, to gomitm itself.
    let second = c
        .read_reply()
        .unwrap()
        .expect("an answer to the extra bytes");
    assert!(
        second.text().contains("This is gomitm"),
        "{}",
        second.text()
    );

    // The same with conflicting framing: Transfer-Encoding wins or the request is refused.
    let mut c = client::open(proxy.addr);
    c.send(
        b"POST http://plain.test/echo HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 40\r\n\
          Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /smuggled2 HTTP/1.1\r\n\
          Host: plain.test\r\n\r\n",
    )
    .unwrap();
    let reply = c.read_reply().unwrap().expect("an answer");
    match reply.status {
        200 => {
            let echo: Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(echo["body_len"], 5, "{echo}");
        }
        400 => {}
        other => panic!("unexpected {other}: {}", reply.text()),
    }

    let posts = wait_for_count(&proxy, 1, |f| {
        f["request"]["method"] == "POST" && url_of(f) == "http://plain.test/echo"
    });
    assert_eq!(posts[0]["request"]["body"]["total"], 5);
    let seen = fx.requests();
    assert!(
        !seen.iter().any(|r| r.path().starts_with("/smuggled")),
        "{seen:?}"
    );
    // Everything the upstream received is a recorded flow of its own.
    std::thread::sleep(Duration::from_millis(300));
    let recorded = proxy
        .flows()
        .iter()
        .filter(|f| url_of(f).starts_with("http://plain.test/"))
        .count();
    assert_eq!(recorded, seen.len(), "{seen:?}");
    assert_still_serves(&proxy);
}

// ---------------------------------------------------------------- request bodies that fail

/// A request body that fails on the client's side is the client's failure, not the
/// upstream's: malformed chunked framing (a bad size line, a chunk longer than announced, a
/// missing CRLF) is answered 400 and recorded as `protocol`; a client that goes away
/// mid-body (fewer bytes than its Content-Length, or mid-chunk) is `client_abort`. Neither is
/// blamed on the upstream (`upstream_reset`, 502), and gomitm keeps serving.
#[test]
fn a_request_body_that_fails_on_the_client_side_is_blamed_on_the_client() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &[]);
    let head = |framing: &str, path: &str| {
        format!("POST http://plain.test/echo?{path} HTTP/1.1\r\nHost: plain.test\r\n{framing}\r\n")
    };
    let chunked = "Transfer-Encoding: chunked\r\n";
    let malformed = [
        (
            "bad-size",
            format!("{}5\r\nhello\r\nZZ\r\nxx\r\n", head(chunked, "bad-size")),
        ),
        (
            "long-chunk",
            format!("{}3\r\nhello\r\n0\r\n\r\n", head(chunked, "long-chunk")),
        ),
        (
            "no-crlf",
            format!(
                "{}5\r\nhelloXX5\r\nhello\r\n0\r\n\r\n",
                head(chunked, "no-crlf")
            ),
        ),
    ];
    for (name, text) in &malformed {
        let mut c = client::open(proxy.addr);
        c.send(text.as_bytes()).unwrap();
        // The client is still there: it is told its request was bad, not that upstream failed.
        if let Ok(Some(reply)) = c.read_reply() {
            assert_eq!(reply.status, 400, "{name}: {}", reply.text());
            assert!(
                reply.text().starts_with("gomitm: "),
                "{name}: {}",
                reply.text()
            );
            assert!(
                !reply.text().contains("upstream plain.test"),
                "{name}: {}",
                reply.text()
            );
        }
        let f = proxy.wait_for_flow(name, |f| url_of(f).ends_with(&format!("?{name}")));
        assert_eq!(error_class(&f), "protocol", "{name}: {}", f["error"]);
        assert!(
            message(&f).contains("request body"),
            "{name}: {}",
            message(&f)
        );
    }
    let gone = [
        (
            "short",
            format!("{}hello", head("Content-Length: 100000\r\n", "short")),
        ),
        (
            "mid-chunk",
            format!("{}a\r\nhel", head(chunked, "mid-chunk")),
        ),
    ];
    for (name, text) in &gone {
        let mut c = client::open(proxy.addr);
        c.send(text.as_bytes()).unwrap();
        // Let the head and the first bytes reach the upstream before the client leaves.
        wait_until_the_fixture_saw(&fx, name);
        drop(c);
        let f = proxy.wait_for_flow(name, |f| url_of(f).ends_with(&format!("?{name}")));
        assert_eq!(error_class(&f), "client_abort", "{name}: {}", f["error"]);
        assert!(
            message(&f).contains("request body"),
            "{name}: {}",
            message(&f)
        );
    }
    assert_still_serves(&proxy);
}

/// Waits until the fixture has seen the request whose query is `name`.
fn wait_until_the_fixture_saw(fx: &Fixture, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let query = format!("?{name}");
    while !fx
        .requests()
        .iter()
        .any(|r| r.path_and_query.ends_with(&query))
    {
        assert!(
            Instant::now() < deadline,
            "{name} never reached the fixture"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- shutdown mid-transfer

/// SIGTERM while three downloads are mid-body — plain HTTP, decrypted HTTPS, and a blind
/// (`--no-intercept`) tunnel — records each in the HAR as `interrupted`, with the bytes it
/// had reached and the time it had run, not as a 0-byte in-flight stub.
#[test]
fn downloads_cut_by_shutdown_keep_their_bytes_and_time_and_say_interrupted() {
    let fx = Fixture::start();
    let hosts = &["goproxy.test", "plain.test:80", "a.test"];
    let mut proxy = gomitm_for(&fx, hosts, &strings(&["--no-intercept", "a.test"]));
    const BIG: &str = "/bytes/536870912";
    const READ: u64 = 4 << 20;
    let mut plain = client::open(proxy.addr);
    plain
        .send(format!("GET http://plain.test{BIG} HTTP/1.1\r\nHost: plain.test\r\n\r\n").as_bytes())
        .unwrap();
    let mut decrypted = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    decrypted
        .send(format!("GET {BIG} HTTP/1.1\r\nHost: goproxy.test\r\n\r\n").as_bytes())
        .unwrap();
    let mut blind = client::tunnel(proxy.addr, "a.test", &fx.ca_pem);
    blind
        .send(format!("GET {BIG} HTTP/1.1\r\nHost: a.test\r\n\r\n").as_bytes())
        .unwrap();
    for conn in [&mut plain as &mut dyn Download, &mut decrypted, &mut blind] {
        conn.read_some(READ);
    }
    // The clients stay connected and stop reading: the transfers stall mid-body.
    let stopped_at = Instant::now();
    let har = proxy.stop();
    let waited = stopped_at.elapsed();
    let entries = har["log"]["entries"].as_array().unwrap();
    let cut: Vec<&Value> = entries
        .iter()
        .filter(|e| e["_error"]["class"] == "interrupted")
        .collect();
    let urls: Vec<&str> = cut
        .iter()
        .map(|e| e["request"]["url"].as_str().unwrap())
        .collect();
    for url in [
        format!("http://plain.test{BIG}"),
        format!("https://goproxy.test{BIG}"),
        "https://a.test:443/".to_string(),
    ] {
        assert!(
            urls.contains(&url.as_str()),
            "{url} not interrupted; entries: {:#?}",
            entries
                .iter()
                .map(|e| (&e["request"]["url"], &e["_error"], &e["time"]))
                .collect::<Vec<_>>()
        );
    }
    for e in &cut {
        let url = e["request"]["url"].as_str().unwrap();
        let reached = if url == "https://a.test:443/" {
            e["_tunnel"]["bytesDown"].as_u64().unwrap()
        } else {
            assert_eq!(e["response"]["status"], 200, "{url}");
            e["response"]["bodySize"].as_u64().unwrap()
        };
        assert!(
            (READ..536_870_912).contains(&reached),
            "{url}: {reached} bytes recorded, the client read {READ}"
        );
        // It ran from before the signal until the cut, past the 3 s grace.
        let time = e["time"].as_f64().unwrap();
        assert!(
            time >= 3000.0 && time <= (waited.as_secs_f64() + 60.0) * 1000.0,
            "{url}: time {time} ms, stop took {waited:?}"
        );
    }
    // A stopped proxy does not hang on its stalled clients.
    assert!(waited < Duration::from_secs(10), "stop took {waited:?}");
}

/// Reading a response's first bytes, on a plain or a TLS connection.
trait Download {
    fn read_some(&mut self, n: u64);
}

impl<S: std::io::Read + std::io::Write> Download for client::Conn<S> {
    fn read_some(&mut self, n: u64) {
        let (status, _) = self.read_head().unwrap().expect("a response head");
        assert_eq!(status, 200);
        assert_eq!(self.read_bytes(n).len() as u64, n);
    }
}
