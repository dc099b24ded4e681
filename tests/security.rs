//! Security defaults through the real gomitm binary: a non-loopback listen address needs
//! credentials, `--proxy-auth` guards every proxy request and CONNECT (with raw clients, real
//! go and real git), gomitm's credentials never reach a record or an upstream, requests to
//! gomitm's own address are refused however they name it, the CA key never appears in any
//! output, and HAR and JSON lines redact secret-looking headers.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::fixture::Fixture;
use support::gomitm::{
    command, error_class, fixture_args, go_through, gomitm_for, output_text, strings, summary,
    url_of, workspace, Gomitm,
};
use support::run::EMPTY_GO_MOD;
use support::tools::{
    block_on, clean_go_env, git_binary, go_binaries, go_version, run_with_timeout,
    tls_client_config,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const IO_TIMEOUT: Duration = Duration::from_secs(30);
const USER: &str = "alice";
/// A password with characters that must be percent-encoded in a proxy URL.
const PASS: &str = "open sesame:42@x";
const PASS_IN_URL: &str = "open%20sesame%3A42%40x";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn creds_header(user_pass: &str) -> String {
    format!("Proxy-Authorization: Basic {}\r\n", b64(user_pass))
}

/// What gomitm resolves to the fixture: its TLS port as `goproxy.test` and `git.test`, its
/// plain-HTTP port as `plain.test`.
const HOSTS: &[&str] = &["goproxy.test", "git.test", "plain.test:80"];

fn with_auth(fx: &Fixture) -> Gomitm {
    gomitm_for(
        fx,
        HOSTS,
        &strings(&["--proxy-auth", &format!("{USER}:{PASS}")]),
    )
}

// ---------------------------------------------------------------- raw clients

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn parse_reply(bytes: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// One request on a fresh connection with `Connection: close`; the whole answer.
fn raw(proxy: SocketAddr, request_line: &str, extra_headers: &str) -> Reply {
    let mut s = TcpStream::connect(proxy).expect("connect to gomitm");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let host = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        // Userinfo is not part of Host.
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_string();
    let req = format!(
        "{request_line} HTTP/1.1\r\nHost: {host}\r\n{extra_headers}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse_reply(&out)
}

/// CONNECT `host:443` with `extra_headers`; the connection and the answer's head.
async fn open_tunnel(
    proxy: SocketAddr,
    host: &str,
    extra_headers: &str,
) -> (tokio::net::TcpStream, Reply) {
    let mut tcp = tokio::net::TcpStream::connect(proxy)
        .await
        .expect("connect");
    let connect = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n{extra_headers}\r\n");
    tcp.write_all(connect.as_bytes()).await.expect("CONNECT");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(IO_TIMEOUT, tcp.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => break,
        }
    }
    let reply = parse_reply(&head);
    (tcp, reply)
}

/// CONNECT `host:443` with `extra_headers`, then (on 200) TLS trusting `ca` and one
/// `GET path` with `headers`. Returns the CONNECT answer and the inner answer, if any.
async fn https_via_connect(
    proxy: SocketAddr,
    host: &str,
    extra_headers: &str,
    ca: &Path,
    path: &str,
    headers: &[(&str, &str)],
) -> (Reply, Option<Reply>) {
    let (mut tcp, mut connect_reply) = open_tunnel(proxy, host, extra_headers).await;
    if connect_reply.status != 200 {
        // The error body follows the head (Content-Length framed).
        let len: usize = connect_reply
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        let _ = tokio::time::timeout(IO_TIMEOUT, tcp.read_exact(&mut body)).await;
        connect_reply.body = String::from_utf8_lossy(&body).into_owned();
        return (connect_reply, None);
    }
    let cfg = Arc::new(tls_client_config(ca, &[b"http/1.1"]));
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).expect("server name");
    let mut tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .expect("TLS through gomitm");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes()).await.expect("request");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(IO_TIMEOUT, tls.read_to_end(&mut out)).await;
    (connect_reply, Some(parse_reply(&out)))
}

/// Everything gomitm wrote: stderr, the JSON lines and the HAR file (after `stop`).
fn all_output(proxy: &Gomitm) -> String {
    let jsonl = std::fs::read_to_string(proxy.dir.path().join("flows.jsonl")).unwrap_or_default();
    let har = std::fs::read_to_string(proxy.har_path()).unwrap_or_default();
    format!("{}\n{jsonl}\n{har}", proxy.stderr().join("\n"))
}

// ---------------------------------------------------------------- 1. listen address

#[test]
fn a_non_loopback_listen_address_without_credentials_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&["proxy", "--listen", "0.0.0.0:0", "--ca-dir"]);
    cmd.arg(dir.path().join("ca"))
        .env_remove("GOMITM_PROXY_AUTH");
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("listening on"),
        "it must not bind: {stderr}"
    );
    for words in [
        "refusing to listen on 0.0.0.0:0",
        "open proxy",
        "read the decrypted traffic",
        "--proxy-auth USER:PASS",
        "--allow-unauthenticated-remote",
    ] {
        assert!(stderr.contains(words), "{words:?} missing from: {stderr}");
    }
    // Nothing was created for a proxy that never started.
    assert!(!dir.path().join("ca").exists());
}

// ---------------------------------------------------------------- 2. --proxy-auth, raw clients

#[test]
fn proxy_auth_guards_plain_requests_and_connects_and_never_records_the_credentials() {
    let fx = Fixture::start();
    let mut proxy = with_auth(&fx);
    let good = creds_header(&format!("{USER}:{PASS}"));
    let wrong = creds_header(&format!("{USER}:guessed-pw"));

    let r = raw(proxy.addr, "GET http://plain.test/status/200", "");
    assert_eq!(r.status, 407, "{r:?}");
    assert_eq!(
        r.header("proxy-authenticate"),
        Some("Basic realm=\"gomitm\"")
    );
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain"));
    assert!(
        r.body
            .starts_with("gomitm: proxy authentication required: the client sent no"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("HTTPS_PROXY=http://USER:PASS@"),
        "{}",
        r.body
    );
    let r = raw(proxy.addr, "GET http://plain.test/status/200", &wrong);
    assert_eq!(r.status, 407, "{r:?}");
    assert!(r.body.contains("wrong user name or password"), "{}", r.body);
    let r = raw(
        proxy.addr,
        "GET http://plain.test/status/200",
        "Proxy-Authorization: Bearer x\r\n",
    );
    assert_eq!(r.status, 407, "{r:?}");

    let ca = proxy.ca_pem();
    let (c, inner) = block_on(https_via_connect(
        proxy.addr,
        "goproxy.test",
        "",
        &ca,
        "/",
        &[],
    ));
    assert_eq!(c.status, 407, "{c:?}");
    assert!(inner.is_none());
    assert_eq!(
        c.header("proxy-authenticate"),
        Some("Basic realm=\"gomitm\"")
    );
    assert!(
        c.body.starts_with("gomitm: proxy authentication required"),
        "{c:?}"
    );
    let (c, _) = block_on(https_via_connect(
        proxy.addr,
        "goproxy.test",
        &wrong,
        &ca,
        "/",
        &[],
    ));
    assert_eq!(c.status, 407, "{c:?}");
    assert!(
        fx.requests().is_empty(),
        "a refused request reached the upstream"
    );

    // With the right credentials both kinds go through, and the upstream never sees them.
    let r = raw(proxy.addr, "GET http://plain.test/status/200", &good);
    assert_eq!((r.status, r.body.as_str()), (200, "status 200"), "{r:?}");
    let (c, inner) = block_on(https_via_connect(
        proxy.addr,
        "goproxy.test",
        &good,
        &ca,
        "/status/201",
        &[],
    ));
    assert_eq!(c.status, 200, "{c:?}");
    assert_eq!(inner.map(|r| r.status), Some(201));
    let seen = fx.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for req in &seen {
        assert_eq!(req.header("proxy-authorization"), None, "{req:?}");
    }

    let refused: Vec<Value> = {
        proxy.wait_for_flow("five refused attempts", |_| {
            proxy
                .flows()
                .iter()
                .filter(|f| error_class(f) == "refused")
                .count()
                >= 5
        });
        proxy
            .flows()
            .into_iter()
            .filter(|f| error_class(f) == "refused")
            .collect()
    };
    assert_eq!(
        refused.len(),
        5,
        "{:?}",
        refused.iter().map(summary).collect::<Vec<_>>()
    );
    let connects = refused
        .iter()
        .filter(|f| f["request"]["method"] == "CONNECT")
        .count();
    assert_eq!(connects, 2);
    assert!(refused.iter().all(|f| f["error"]["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("proxy authentication")));
    proxy.wait_for_flow("the admitted https request", |f| {
        url_of(f) == "https://goproxy.test/status/201"
    });
    let har = proxy.stop();
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 7);

    let everything = all_output(&proxy);
    for secret in [
        PASS,
        PASS_IN_URL,
        &b64(&format!("{USER}:{PASS}")),
        "guessed-pw",
        &b64(&format!("{USER}:guessed-pw")),
    ] {
        assert!(!everything.contains(secret), "{secret:?} was recorded");
    }
    // No record carries the header itself (the error messages may name it).
    let har_names = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["request"]["headers"].as_array().unwrap().clone())
        .map(|h| h["name"].as_str().unwrap_or("").to_ascii_lowercase());
    let jsonl_names = proxy.flows().into_iter().flat_map(|f| {
        f["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap_or("").to_ascii_lowercase())
            .collect::<Vec<_>>()
    });
    let names: Vec<String> = har_names.chain(jsonl_names).collect();
    assert!(names.iter().any(|n| n == "host"), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "proxy-authorization"),
        "{names:?}"
    );
    // The banner says how to export the credentials without printing the password.
    assert!(
        proxy
            .stderr()
            .iter()
            .any(|l| l.contains(&format!("--proxy-auth '{USER}:PASSWORD'"))),
        "{:#?}",
        proxy.stderr()
    );
}

// ---------------------------------------------------------------- 3. real go and git

#[test]
fn go_sends_the_credentials_in_https_proxy_and_fails_clearly_without_them() {
    let fx = Fixture::start();
    let (module, version) = Fixture::modules().into_iter().next().expect("a module");
    let target = format!("{module}@{version}");
    for go in go_binaries() {
        let v = go_version(&go);
        let mut proxy = with_auth(&fx);
        let with_creds = format!("http://{USER}:{PASS_IN_URL}@{}", proxy.addr);
        let tmp = workspace(EMPTY_GO_MOD);
        let env = [
            ("GOPROXY", "https://goproxy.test"),
            ("HTTPS_PROXY", with_creds.as_str()),
            ("HTTP_PROXY", with_creds.as_str()),
        ];
        let out = go_through(
            &go,
            &proxy,
            &proxy.ca_pem(),
            tmp.path(),
            &env,
            &["mod", "download", &target],
        );
        assert!(
            out.status.success(),
            "{v}: with credentials\n{}",
            output_text(&out)
        );
        let zip = proxy.wait_for_flow("the zip", |f| f["go"]["kind"] == "zip");
        assert_eq!(zip["response"]["status"], 200, "{v}");

        // The same download without credentials: go fails and says why.
        let tmp = workspace(EMPTY_GO_MOD);
        let env = [("GOPROXY", "https://goproxy.test")];
        let out = go_through(
            &go,
            &proxy,
            &proxy.ca_pem(),
            tmp.path(),
            &env,
            &["mod", "download", &target],
        );
        let text = output_text(&out);
        assert!(!out.status.success(), "{v}: without credentials\n{text}");
        assert!(
            text.contains("Proxy Authentication Required"),
            "{v}: {text}"
        );
        let refused = proxy.wait_for_flow("the refused CONNECT", |f| {
            error_class(f) == "refused" && f["request"]["method"] == "CONNECT"
        });
        assert_eq!(refused["tool"], "go", "{v}");
        let _ = proxy.stop();
        let everything = all_output(&proxy);
        assert!(
            !everything.contains(PASS_IN_URL) && !everything.contains(PASS),
            "{v}"
        );
    }
}

#[test]
fn git_sends_the_credentials_in_https_proxy_and_fails_clearly_without_them() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    assert!(
        fx.has_git(),
        "the fixture could not set up its git repository"
    );
    let mut proxy = with_auth(&fx);
    let clone = |proxy_url: &str, dest: &str| {
        let tmp = workspace(EMPTY_GO_MOD);
        let mut cmd = Command::new(&git);
        cmd.args(["clone", "https://git.test/hello.git", dest])
            .current_dir(tmp.path().join("work"));
        clean_go_env(&mut cmd, tmp.path());
        cmd.env("https_proxy", proxy_url)
            .env("HTTPS_PROXY", proxy_url)
            .env("GIT_SSL_CAINFO", proxy.ca_pem());
        (run_with_timeout(&mut cmd, Duration::from_secs(120)), tmp)
    };
    let with_creds = format!("http://{USER}:{PASS_IN_URL}@{}", proxy.addr);
    let (out, _tmp) = clone(&with_creds, "ok");
    assert!(
        out.status.success(),
        "git with credentials\n{}",
        output_text(&out)
    );
    proxy.wait_for_flow("git's upload-pack", |f| {
        url_of(f).ends_with("/hello.git/git-upload-pack") && f["response"]["status"] == 200
    });
    let (out, _tmp) = clone(&proxy.proxy_url(), "refused");
    let text = output_text(&out);
    assert!(!out.status.success(), "git without credentials\n{text}");
    // git (libcurl) first tries without credentials, so a refused CONNECT came from git.
    let refused = proxy.wait_for_flow("git's refused CONNECT", |f| error_class(f) == "refused");
    assert_eq!(refused["tool"], "git", "{}", summary(&refused));
    assert!(text.contains("407"), "{text}");
    let _ = proxy.stop();
    let everything = all_output(&proxy);
    assert!(!everything.contains(PASS_IN_URL) && !everything.contains(PASS));
}

// ---------------------------------------------------------------- 4. env and run

#[test]
fn env_and_run_put_the_credentials_in_the_proxy_url() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let env_out = |args: &[&str], var: Option<&str>| {
        let mut cmd = command(&["env", "--proxy", "http://127.0.0.1:9"]);
        cmd.args(args)
            .arg("--ca-dir")
            .arg(&ca_dir)
            .env_remove("GOMITM_PROXY_AUTH");
        if let Some(v) = var {
            cmd.env("GOMITM_PROXY_AUTH", v);
        }
        let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
        assert!(out.status.success(), "{}", output_text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let by_flag = env_out(&["--proxy-auth", "bob:p@ss word"], None);
    assert!(
        by_flag.contains("export HTTPS_PROXY='http://bob:p%40ss%20word@127.0.0.1:9'\n"),
        "{by_flag}"
    );
    assert!(by_flag.contains("export HTTP_PROXY='http://bob:p%40ss%20word@127.0.0.1:9'\n"));
    let by_env = env_out(&[], Some("bob:p@ss word"));
    assert_eq!(by_env, by_flag);
    let plain = env_out(&[], None);
    assert!(
        plain.contains("export HTTPS_PROXY='http://127.0.0.1:9'\n"),
        "{plain}"
    );

    let mut cmd = command(&["run", "--proxy-auth", "carol:s3 cret", "--ca-dir"]);
    cmd.arg(&ca_dir)
        .args([
            "--",
            "sh",
            "-c",
            "printf '%s|%s' \"$HTTPS_PROXY\" \"$http_proxy\"",
        ])
        .env_remove("GOMITM_PROXY_AUTH");
    let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
    assert!(out.status.success(), "{}", output_text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (https, http) = stdout.split_once('|').unwrap();
    assert!(
        https.starts_with("http://carol:s3%20cret@127.0.0.1:"),
        "{stdout}"
    );
    assert_eq!(https, http);
}

// ---------------------------------------------------------------- 5. loops

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn requests_and_connects_to_gomitm_itself_are_refused_however_they_name_it() {
    let port = free_port();
    let me = format!("127.0.0.1:{port}");
    let mut proxy = Gomitm::start_on(
        tempfile::tempdir().unwrap(),
        &me,
        &[
            "--resolve".into(),
            format!("loop.test:443={me}"),
            "--resolve".into(),
            format!("loop.test:80={me}"),
            "--resolve".into(),
            format!("anyport.test={me}"),
            "--map-remote".into(),
            format!("http://mirror.test/=http://localhost:{port}/"),
        ],
    );
    let started = Instant::now();
    let connects = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost.:{port}"),
        "loop.test:443".to_string(),
        "ANYPORT.test:8443".to_string(),
    ];
    for target in &connects {
        let mut s = TcpStream::connect(proxy.addr).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.write_all(
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let r = parse_reply(&out);
        assert_eq!(r.status, 403, "CONNECT {target}: {r:?}");
        assert!(r.body.contains("is gomitm itself (a proxy loop)"), "{r:?}");
    }
    let gets = [
        format!("http://127.0.0.1:{port}/x"),
        format!("http://localhost:{port}/x"),
        "http://loop.test/x".to_string(),
        "http://anyport.test:9/x".to_string(),
        // map_remote to gomitm's own address: the remapped target is checked too.
        "http://mirror.test/x".to_string(),
    ];
    for url in &gets {
        let r = raw(proxy.addr, &format!("GET {url}"), "");
        assert_eq!(r.status, 403, "GET {url}: {r:?}");
        assert!(r.body.starts_with("gomitm:"), "{r:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a loop would spin"
    );
    proxy.wait_for_flow("ten refused loops", |_| {
        proxy
            .flows()
            .iter()
            .filter(|f| error_class(f) == "refused")
            .count()
            >= 10
    });
    let har = proxy.stop();
    // Exactly these ten flows: nothing reached gomitm's port a second time.
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 10, "{entries:#?}");
    assert!(entries.iter().all(|e| e["_error"]["class"] == "refused"));
}

/// Every spelling of an address that reaches gomitm's own socket, at its own port: the
/// check is made on the resolved address, so forms only the system resolver reads (`127.1`,
/// decimal, hex, octal, zero-padded), the unspecified addresses, other loopback addresses
/// and names mapped there are all loops.
fn spellings_of_gomitm(port: u16) -> Vec<String> {
    [
        "0.0.0.0",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.000.000.001",
        "[::ffff:127.0.0.1]",
        "[::]",
        "[::1]",
        "127.0.0.2",
        "127.255.255.254",
        "localhost",
        "localhost.",
        "self.test",
    ]
    .iter()
    .map(|h| format!("{h}:{port}"))
    .collect()
}

#[test]
fn every_spelling_of_gomitms_own_address_is_refused_as_a_loop() {
    let fx = Fixture::start();
    let port = free_port();
    let me = format!("127.0.0.1:{port}");
    // Few connections per client: a loop that reached the socket would use them up.
    let extra = strings(&[
        "--resolve",
        &format!("self.test={me}"),
        "--max-conns-per-client",
        "8",
    ]);
    let args = fixture_args(&fx, &["plain.test:80"], &extra);
    let mut proxy = Gomitm::start_on(tempfile::tempdir().unwrap(), &me, &args);
    let started = Instant::now();
    let spellings = spellings_of_gomitm(port);
    for target in &spellings {
        let mut s = TcpStream::connect(proxy.addr).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.write_all(
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let r = parse_reply(&out);
        assert_eq!(r.status, 403, "CONNECT {target}: {r:?}");
        assert!(r.body.contains("is gomitm itself (a proxy loop)"), "{r:?}");
    }
    for target in &spellings {
        let url = format!("http://{target}/x");
        let r = raw(proxy.addr, &format!("GET {url}"), "");
        assert_eq!(r.status, 403, "GET {url}: {r:?}");
        assert!(r.body.contains("is gomitm itself (a proxy loop)"), "{r:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a loop would spin"
    );
    let want = 2 * spellings.len();
    proxy.wait_for_flow("every loop refused", |_| {
        proxy
            .flows()
            .iter()
            .filter(|f| error_class(f) == "refused")
            .count()
            >= want
    });
    support::gomitm::assert_still_serves(&proxy);
    let har = proxy.stop();
    // These flows and the follow-up: nothing reached gomitm's port a second time.
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), want + 1, "{entries:#?}");
    let refused = entries
        .iter()
        .filter(|e| e["_error"]["class"] == "refused")
        .count();
    assert_eq!(refused, want, "{entries:#?}");
}

#[test]
fn an_upstream_proxy_pointing_at_gomitm_itself_is_refused_at_start() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&["proxy", "--listen", &format!("127.0.0.1:{port}")]);
    cmd.args(["--upstream-proxy", &format!("http://localhost:{port}")])
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .stdin(Stdio::null());
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("would loop"), "{stderr}");
}

// ---------------------------------------------------------------- 6. the CA key

/// The base64 lines of the CA key's PEM: none of them may appear anywhere.
fn key_lines(ca_dir: &Path) -> Vec<String> {
    let pem = std::fs::read_to_string(ca_dir.join("gomitm-ca-key.pem")).expect("CA key");
    let lines: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "unexpected key format: {pem}");
    lines
}

fn assert_no_key(text: &str, lines: &[String], what: &str) {
    assert!(
        !text.contains("PRIVATE KEY"),
        "{what} mentions PRIVATE KEY:\n{text}"
    );
    for l in lines {
        assert!(
            !text.contains(l.as_str()),
            "{what} quotes the CA key:\n{text}"
        );
    }
}

#[test]
fn the_ca_key_never_appears_in_logs_har_jsonl_or_error_messages() {
    let fx = Fixture::start();
    // Debug logging on: the most gomitm will ever say.
    let mut proxy = Gomitm::start_on_with_env(
        tempfile::tempdir().unwrap(),
        "127.0.0.1:0",
        &fixture_args(&fx, HOSTS, &strings(&["--no-redact"])),
        &[("GOMITM_LOG", "debug")],
    );
    let ca_dir = proxy.dir.path().join("ca");
    let lines = key_lines(&ca_dir);
    // Failures of every kind: dns, a refused TLS client, a bad CONNECT, a loop, and successes.
    let r = raw(proxy.addr, "GET http://nosuch.invalid/", "");
    assert_eq!(r.status, 502);
    let r = raw(proxy.addr, "CONNECT nonsense", "");
    assert_eq!(r.status, 400);
    let r = raw(proxy.addr, &format!("GET http://{}/x", proxy.addr), "");
    assert_eq!(r.status, 403);
    let r = raw(proxy.addr, "GET /ca.pem", "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("BEGIN CERTIFICATE"));
    assert_no_key(&r.body, &lines, "/ca.pem");
    block_on(async {
        // A client that does not trust the gomitm CA: a client_tls failure.
        let (tcp, reply) = open_tunnel(proxy.addr, "goproxy.test", "").await;
        assert_eq!(reply.status, 200);
        let cfg = Arc::new(tls_client_config(&fx.ca_pem, &[b"http/1.1"]));
        let name = rustls::pki_types::ServerName::try_from("goproxy.test").unwrap();
        let tls = tokio_rustls::TlsConnector::from(cfg)
            .connect(name, tcp)
            .await;
        assert!(
            tls.is_err(),
            "a client trusting only the fixture CA must refuse gomitm's leaf"
        );
        let (c, inner) = https_via_connect(
            proxy.addr,
            "goproxy.test",
            "",
            &proxy.ca_pem(),
            "/status/404",
            &[],
        )
        .await;
        assert_eq!((c.status, inner.map(|r| r.status)), (200, Some(404)));
    });
    proxy.wait_for_flow("the client_tls failure", |f| error_class(f) == "client_tls");
    proxy.wait_for_flow("the 404", |f| f["response"]["status"] == 404);
    let _ = proxy.stop();
    assert_no_key(&all_output(&proxy), &lines, "gomitm's output");

    // gomitm ca show / path / bundle print the certificate, never the key.
    for args in [&["ca", "show"][..], &["ca", "path"], &["env"]] {
        let mut cmd = command(args);
        cmd.arg("--ca-dir").arg(&ca_dir);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
        assert!(out.status.success(), "{args:?}: {}", output_text(&out));
        assert_no_key(&output_text(&out), &lines, &format!("gomitm {args:?}"));
    }
    let bundle = std::fs::read_to_string(ca_dir.join("gomitm-bundle.pem")).unwrap();
    assert_no_key(&bundle, &lines, "the trust bundle");
}

#[test]
fn a_damaged_or_exposed_ca_key_is_refused_without_quoting_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let start = |ca_dir: &Path| {
        let mut cmd = command(&["ca", "show", "--ca-dir"]);
        cmd.arg(ca_dir);
        run_with_timeout(&mut cmd, Duration::from_secs(30))
    };
    assert!(start(&ca_dir).status.success());
    let key_path = ca_dir.join("gomitm-ca-key.pem");
    let lines = key_lines(&ca_dir);

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = start(&ca_dir);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("chmod 600"), "{text}");
    assert_no_key(&text, &lines, "the permission error");

    // A key whose base64 was damaged: refused, and the error quotes none of it.
    let pem = std::fs::read_to_string(&key_path).unwrap();
    let damaged = pem.replacen(&lines[0][..8], "!!!!!!!!", 1);
    std::fs::write(&key_path, damaged).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = start(&ca_dir);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("not a PEM private key"), "{text}");
    assert_no_key(&text, &lines, "the damaged-key error");
}

// ---------------------------------------------------------------- 7. redaction through the proxy

const SENT: [(&str, &str); 7] = [
    ("Private-Token", "pt-secret-1"),
    ("X-Api-Key", "ak-secret-2"),
    ("X-Auth-Token", "at-secret-3"),
    ("X-Tenant", "tn-secret-4"),
    ("Cookie", "sid=ck-secret-5"),
    ("User-Agent", "ua-kept-6"),
    ("X-Request-Id", "rid-kept-7"),
];
const SECRETS: [&str; 7] = [
    "pt-secret-1",
    "ak-secret-2",
    "at-secret-3",
    "tn-secret-4",
    "ck-secret-5",
    "qt-secret-8",
    "up-secret-9",
];

fn redaction_run(fx: &Fixture, extra: &[&str]) -> (Gomitm, Value) {
    let mut proxy = gomitm_for(fx, HOSTS, &strings(extra));
    let ca = proxy.ca_pem();
    let (c, inner) = block_on(https_via_connect(
        proxy.addr,
        "goproxy.test",
        "",
        &ca,
        "/status/200?access_token=qt-secret-8&go-get=0",
        &SENT,
    ));
    assert_eq!((c.status, inner.map(|r| r.status)), (200, Some(200)));
    let r = raw(
        proxy.addr,
        "GET http://bob:up-secret-9@plain.test/status/204",
        "",
    );
    assert_eq!(r.status, 204, "{r:?}");
    proxy.wait_for_flow("the https request", |f| url_of(f).contains("/status/200"));
    proxy.wait_for_flow("the plain request", |f| url_of(f).contains("/status/204"));
    let har = proxy.stop();
    (proxy, har)
}

fn har_entry<'a>(har: &'a Value, part: &str) -> &'a Value {
    har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request"]["url"].as_str().unwrap_or("").contains(part))
        .unwrap_or_else(|| panic!("no entry for {part}: {har:#}"))
}

fn har_value<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry["request"]["headers"]
        .as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str())
}

#[test]
fn har_and_jsonl_redact_secret_looking_headers_and_redact_header_adds_names() {
    let fx = Fixture::start();
    let (proxy, har) = redaction_run(&fx, &["--redact-header", "x-tenant"]);
    // The traffic itself is untouched: the upstream got every value.
    let got = fx.requests();
    let upstream = got.iter().find(|r| r.path() == "/status/200").unwrap();
    for (name, value) in SENT {
        assert_eq!(upstream.header(name), Some(value), "{name}");
    }
    let har_text = std::fs::read_to_string(proxy.har_path()).unwrap();
    let jsonl = std::fs::read_to_string(proxy.dir.path().join("flows.jsonl")).unwrap();
    for (what, text) in [("HAR", &har_text), ("JSON lines", &jsonl)] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{what}: {secret} leaked");
        }
        for kept in ["ua-kept-6", "rid-kept-7", "go-get=0"] {
            assert!(text.contains(kept), "{what}: {kept} was redacted");
        }
    }
    let e = har_entry(&har, "/status/200");
    for (name, _) in &SENT[..5] {
        assert_eq!(har_value(e, name), Some("REDACTED"), "{name}");
    }
    assert_eq!(har_value(e, "user-agent"), Some("ua-kept-6"));
    assert_eq!(
        e["request"]["url"],
        "https://goproxy.test/status/200?access_token=REDACTED&go-get=0"
    );
    let plain = har_entry(&har, "/status/204");
    assert_eq!(
        plain["request"]["url"],
        "http://REDACTED@plain.test/status/204"
    );
    // The JSON lines keep the names too.
    let flow: Value = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|f| url_of(f).contains("/status/200"))
        .unwrap();
    let pairs = flow["request"]["headers"].as_array().unwrap();
    assert!(pairs.iter().any(|p| p[0]
        .as_str()
        .is_some_and(|n| n.eq_ignore_ascii_case("x-tenant"))
        && p[1] == "REDACTED"));

    // Without --redact-header, X-Tenant (a name that suggests nothing) is kept.
    let (_, har) = redaction_run(&fx, &[]);
    assert_eq!(
        har_value(har_entry(&har, "/status/200"), "x-tenant"),
        Some("tn-secret-4")
    );
    assert_eq!(
        har_value(har_entry(&har, "/status/200"), "x-api-key"),
        Some("REDACTED")
    );

    // --no-redact keeps every value in both outputs.
    let (proxy, _) = redaction_run(&fx, &["--no-redact"]);
    let har_text = std::fs::read_to_string(proxy.har_path()).unwrap();
    let jsonl = std::fs::read_to_string(proxy.dir.path().join("flows.jsonl")).unwrap();
    for secret in SECRETS {
        assert!(
            har_text.contains(secret),
            "HAR --no-redact: {secret} missing"
        );
        assert!(
            jsonl.contains(secret),
            "JSON lines --no-redact: {secret} missing"
        );
    }
}

// ---------------------------------------------------------------- nested tunnels

/// A CONNECT sent inside a decrypted tunnel is answered 400 and recorded, never forwarded to
/// the origin (which would be asked to be a proxy) and never a tunnel of its own: with a
/// per-client limit of 4, two tunnels carrying 200 nested CONNECTs between them leave the
/// client's other connections admitted, and the upstream never sees a CONNECT.
#[test]
fn connects_nested_in_a_tunnel_are_refused_and_take_no_connection() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, HOSTS, &strings(&["--max-conns-per-client", "4"]));
    let mut tunnels: Vec<_> = (0..2)
        .map(|_| support::client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem()))
        .collect();
    for (i, t) in tunnels.iter_mut().enumerate() {
        for n in 0..100 {
            let target = format!("nested{i}-{n}.test:443");
            let reply = t.request(&format!(
                "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
            ));
            assert_eq!(reply.status, 400, "{target}: {}", reply.text());
            assert!(
                reply.text().contains("does not nest tunnels"),
                "{target}: {}",
                reply.text()
            );
        }
        // The tunnel itself still works after its nested CONNECTs.
        let ok = t.request("GET /bytes/10 HTTP/1.1\r\nHost: goproxy.test\r\n\r\n");
        assert_eq!(ok.status, 200, "{}", ok.text());
    }
    // Two tunnels open, two more connections allowed: both are served.
    for _ in 0..2 {
        let reply = support::client::get(proxy.addr, "http://plain.test/bytes/10");
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let f = proxy.wait_for_flow("a nested CONNECT", |f| url_of(f) == "nested1-99.test:443");
    assert_eq!(error_class(&f), "protocol");
    assert!(
        !fx.requests().iter().any(|r| r.method == "CONNECT"),
        "a nested CONNECT reached the upstream"
    );
}

/// A client that rejects gomitm's certificate gets a flow whose error names the trust bundle,
/// which lives under the home directory. In the redacted HAR and `--jsonl` (and so in
/// `report`) the home directory is `~`: the files can be shared without the user's name.
#[test]
fn exported_error_messages_carry_no_home_directory() {
    let fx = Fixture::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap().to_string();
    let mut proxy = Gomitm::start_on_with_env(
        dir,
        "127.0.0.1:0",
        &fixture_args(&fx, HOSTS, &[]),
        &[("HOME", home.as_str())],
    );
    block_on(async {
        let (tcp, reply) = open_tunnel(proxy.addr, "goproxy.test", "").await;
        assert_eq!(reply.status, 200);
        let cfg = Arc::new(tls_client_config(&fx.ca_pem, &[b"http/1.1"]));
        let name = rustls::pki_types::ServerName::try_from("goproxy.test").unwrap();
        let tls = tokio_rustls::TlsConnector::from(cfg)
            .connect(name, tcp)
            .await;
        assert!(tls.is_err(), "the client must refuse gomitm's leaf");
    });
    let flow = proxy.wait_for_flow("the client_tls failure", |f| error_class(f) == "client_tls");
    let har = proxy.stop();
    let entry = &har["log"]["entries"][0];
    let texts = [
        flow["error"]["message"].as_str().unwrap().to_string(),
        entry["_error"]["message"].as_str().unwrap().to_string(),
        entry["response"]["_error"].as_str().unwrap().to_string(),
    ];
    for text in texts {
        assert!(
            text.contains("SSL_CERT_FILE=~/ca/gomitm-bundle.pem"),
            "{text}"
        );
        assert!(!text.contains(&home), "{text}");
    }
}
