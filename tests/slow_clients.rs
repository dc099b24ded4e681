//! Many slow clients, the per-client connection limit, the open-file limit, and a panic in a
//! connection task, through the real gomitm binary.
//!
//! All local clients share 127.0.0.1, so "another client" here connects from 127.0.0.2
//! (all of 127.0.0.0/8 is loopback on Linux).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::client::{self, Conn};
use support::fixture::Fixture;
use support::gomitm::{error_class, path_arg, url_of, Gomitm};

const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn base_args(fx: &Fixture, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--resolve".to_string(),
        format!("goproxy.test:443={}", fx.addr),
        "--resolve".to_string(),
        format!("plain.test:80={}", fx.http_addr),
    ];
    args.extend(path_arg("--extra-root", &fx.ca_pem));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn get_from(local: IpAddr, proxy: &Gomitm, url: &str) -> client::Reply {
    client::open_from(local, proxy.addr).request(&format!(
        "GET {url} HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n"
    ))
}

fn message(f: &Value) -> &str {
    f["error"]["message"].as_str().unwrap_or("")
}

/// Raise this test process's own soft open-file limit; returns the hard limit.
fn raise_own_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_max
}

#[test]
fn a_thousand_idle_or_trickling_connections_do_not_stop_other_clients() {
    let hard = raise_own_fd_limit();
    // Each held connection costs this process one descriptor; leave room for the rest.
    let count: usize = if hard >= 4096 {
        1000
    } else {
        (hard / 2) as usize
    };
    if count < 1000 {
        eprintln!("open-file hard limit {hard}: holding {count} connections, not 1000");
    }
    let fx = Fixture::start();
    // gomitm starts with a soft limit of 256 open files: only the raise at start-up lets it
    // hold a thousand connections.
    let proxy = Gomitm::start_with_env(
        &base_args(&fx, &["--header-read-timeout", "20"]),
        &[],
        Some(256),
    );
    assert_eq!(
        get_from(OTHER_CLIENT, &proxy, "http://plain.test/status/200").status,
        200
    );
    // Raised before the first connection was accepted.
    let (soft, hard_seen) = proxy.nofile_limits();
    assert_eq!(
        soft, hard_seen,
        "gomitm raised its soft limit to the hard one"
    );
    let baseline = proxy.open_fds();

    let started = Instant::now();
    let mut held: Vec<TcpStream> = (0..count)
        .map(|_| {
            let s = TcpStream::connect(proxy.addr).expect("connect");
            s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        })
        .collect();
    let opened = started.elapsed();
    // Every other one trickles a request head, a byte at a time.
    let trickling: Vec<TcpStream> = held
        .iter()
        .step_by(2)
        .map(|s| s.try_clone().unwrap())
        .collect();
    let trickler = std::thread::spawn(move || {
        use std::io::Write;
        let mut trickling = trickling;
        for s in &mut trickling {
            let _ = s.write_all(b"GET http://plain.test/echo HTTP/1.1\r\nX-Slow: ");
        }
        let began = Instant::now();
        while began.elapsed() < Duration::from_secs(3) {
            for s in &mut trickling {
                let _ = s.write_all(b"a");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        trickling
    });

    // While they are all open, another client is served, promptly.
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let reply = get_from(OTHER_CLIENT, &proxy, "http://plain.test/status/202");
        assert_eq!(reply.status, 202, "{}", reply.text());
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a request took {slowest:?} next to {count} slow clients"
    );

    if count > 600 {
        // 127.0.0.1 holds 512 served connections; the next ones are told why they are refused
        // (an odd one: the even ones trickle).
        let mut refused = Conn::new(held.remove(521));
        let reply = refused
            .request("GET http://plain.test/status/200 HTTP/1.1\r\nHost: plain.test\r\n\r\n");
        assert_eq!(reply.status, 503, "{}", reply.text());
        assert_eq!(
            reply.first_line(),
            "gomitm: 127.0.0.1 already has 512 connections open to gomitm"
        );
        assert!(reply.text().contains("--max-conns-per-client"));
        let f = proxy.wait_for_flow("refused", |f| error_class(f) == "refused");
        assert_eq!(url_of(&f), "http://plain.test/status/200");
        // Far past the limit, connections are closed at once.
        let mut far = Conn::new(held.pop().unwrap());
        assert!(far.closed_within(Duration::from_secs(5)));
    }
    let trickling = trickler.join().unwrap();
    drop(trickling);
    drop(held);

    // Every descriptor comes back, and 127.0.0.1 is served again.
    let deadline = Instant::now() + Duration::from_secs(15);
    while proxy.open_fds() > baseline + 2 {
        assert!(
            Instant::now() < deadline,
            "gomitm holds {} descriptors, {baseline} before",
            proxy.open_fds()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let reply = client::get(proxy.addr, "http://plain.test/status/204");
    assert_eq!(reply.status, 204);
    let stalled = proxy
        .flows()
        .iter()
        .filter(|f| message(f).contains("sent part of a request head"))
        .count();
    assert_eq!(stalled, 0, "closed by the client, not by the timeout");
    eprintln!("opened {count} connections in {opened:?}; slowest other request {slowest:?}");
}

#[test]
fn a_panic_in_a_connection_task_is_contained() {
    if !cfg!(debug_assertions) {
        eprintln!("skipped: the panic hook exists in debug builds only");
        return;
    }
    let fx = Fixture::start();
    let mut proxy = Gomitm::start_with_env(
        &base_args(&fx, &["--max-conns-per-client", "3"]),
        &[("GOMITM_TEST_PANIC", "1")],
        None,
    );
    let panicking = "GET http://plain.test/status/200 HTTP/1.1\r\nHost: plain.test\r\n\
                     x-gomitm-test-panic: 1\r\n\r\n";
    // More panics than the connection limit: a panicking task must give its slot back.
    for _ in 0..5 {
        let mut c = client::open(proxy.addr);
        c.send(panicking.as_bytes()).unwrap();
        assert!(
            matches!(c.read_reply(), Ok(None) | Err(_)),
            "the connection closes without an answer"
        );
    }
    // The same inside an intercepted tunnel.
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let _ = tls
        .send(b"GET /status/200 HTTP/1.1\r\nHost: goproxy.test\r\nx-gomitm-test-panic: 1\r\n\r\n");
    assert!(matches!(tls.read_reply(), Ok(None) | Err(_)));
    drop(tls);

    proxy.wait_for_stderr("deliberate panic for the tests");
    let deadline = Instant::now() + Duration::from_secs(20);
    let panicked = loop {
        let found: Vec<Value> = proxy
            .flows()
            .into_iter()
            .filter(|f| message(f).contains("a panic"))
            .collect();
        if found.len() >= 6 {
            break found;
        }
        assert!(Instant::now() < deadline, "{:#?}", proxy.flows());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(panicked
        .iter()
        .all(|f| error_class(f) == "internal" && f["state"] == "done"));
    assert!(panicked
        .iter()
        .any(|f| url_of(f) == "https://goproxy.test/status/200"));

    assert!(proxy.is_running(), "gomitm survived");
    for _ in 0..4 {
        let reply = client::get(proxy.addr, "http://plain.test/status/202");
        assert_eq!(reply.status, 202, "{}", reply.text());
    }
    let mut tls = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let reply = tls.request("GET /status/200 HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
    assert_eq!(reply.status, 200);
    let har = proxy.stop();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(entries.len() >= 11, "{}", entries.len());
}
