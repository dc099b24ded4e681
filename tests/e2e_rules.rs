//! End to end for the rules engine and filter expressions: the real gomitm binary between a
//! client (the real `go` command, or a small Rust HTTPS client speaking CONNECT + TLS) and the
//! TLS fixture on 127.0.0.1, reached through made-up `.test` names that gomitm `--resolve`s.
//!
//! Every check looks at both sides: what the client got (go's output, status and bytes) and
//! what gomitm did (the fixture's request log, the flows in `--jsonl`, the HAR on exit).
//! Failure messages carry gomitm's stderr and its flows.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::Value;
use support::fixture::{pattern_byte, Fixture};
use support::gomitm::{
    command, error_class, go_through, gomitm_for, output_text, path_arg, strings, summary, url_of,
    workspace, Gomitm,
};
use support::run::EMPTY_GO_MOD;
use support::tools::{go_binaries, go_version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bound on one whole request of the Rust client (connect, CONNECT, TLS, head and body).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- gomitm and what it recorded

/// A rules file in its own temp dir (kept alive by the returned guard).
fn rules_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("rules dir");
    let path = dir.path().join("rules.toml");
    write_atomically(&path, text);
    (dir, path)
}

/// Replace a file in one step (write aside, rename), as editors do: a watcher never reads a
/// half-written file.
fn write_atomically(path: &Path, text: &str) {
    let aside = path.with_extension("toml.new");
    std::fs::write(&aside, text).expect("write rules");
    std::fs::rename(&aside, path).expect("rename rules into place");
}

/// `#id METHOD url status error rules=[…] mapped_to=…` for every flow, then gomitm's stderr.
fn dump(proxy: &Gomitm) -> String {
    let flows: Vec<String> = proxy
        .flows()
        .iter()
        .map(|f| {
            format!(
                "{} kind={} rules={} mapped_to={} blocked_ms={}",
                summary(f),
                f["kind"],
                f["rules"],
                f["mapped_to"],
                f["timings"]["blocked_ms"]
            )
        })
        .collect();
    format!(
        "\n--- gomitm flows:\n{}\n--- gomitm stderr:\n{}",
        flows.join("\n"),
        proxy.stderr().join("\n")
    )
}

fn fired(flow: &Value, rule: &str) -> bool {
    flow["rules"]
        .as_array()
        .is_some_and(|r| r.iter().any(|n| n == rule))
}

fn har_entries(har: &Value) -> &Vec<Value> {
    har["log"]["entries"].as_array().expect("log.entries")
}

fn har_url(e: &Value) -> &str {
    e["request"]["url"].as_str().unwrap_or("")
}

fn har_summary(har: &Value) -> String {
    har_entries(har)
        .iter()
        .map(|e| {
            format!(
                "{} {} blocked={} _rules={}",
                har_url(e),
                e["response"]["status"],
                e["timings"]["blocked"],
                e["_rules"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn fixture_log(fx: &Fixture) -> String {
    fx.requests()
        .iter()
        .map(|r| format!("{} {}{}", r.method, r.authority, r.path_and_query))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `cond` every 50 ms until it holds or `within` passes.
fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------- the go command

/// go's environment for the cases that use the fixture as their module proxy.
const GOPROXY_TEST: &[(&str, &str)] = &[("GOPROXY", "https://goproxy.test")];

/// One `go mod download` through a fresh gomitm in front of the fixture, and what must come
/// of it. [`run_go_cases`] runs each case with every go, checks go's exit status, then calls
/// the case's `check` for the rest.
struct GoCase<'a> {
    /// Names the case in failure messages, after the go version.
    name: &'a str,
    /// Names gomitm resolves to the fixture (see `fixture_args`).
    hosts: &'a [&'a str],
    /// A rules file for gomitm (`--rules`), if any.
    rules: Option<&'a str>,
    /// More gomitm options, after `--rules`.
    args: &'a [&'a str],
    /// go's environment on top of the hermetic one (GOPROXY, GOSUMDB…).
    env: &'a [(&'a str, &'a str)],
    /// What follows `go mod download`.
    download: &'a [&'a str],
    /// go trusts only the fixture's CA, not gomitm's: for a host gomitm must not decrypt.
    go_trusts_fixture: bool,
    /// Whether go must succeed (or fail).
    go_succeeds: bool,
    /// The case's own checks, after go's exit status.
    check: &'a dyn Fn(&mut GoRun<'_>),
}

/// One case's run, as its `check` sees it.
struct GoRun<'a> {
    /// `go version …, case name`: the start of the failure messages.
    label: String,
    fx: &'a Fixture,
    proxy: Gomitm,
    out: Output,
    /// go's working directory and caches (go's `-json` output points into its module cache).
    _tmp: tempfile::TempDir,
}

impl GoRun<'_> {
    /// go's exit status and output.
    fn all(&self) -> String {
        output_text(&self.out)
    }

    /// gomitm's flows and stderr.
    fn dump(&self) -> String {
        dump(&self.proxy)
    }
}

/// Runs every case with every go (go outermost), each with a gomitm and a workspace of its
/// own, and clears the fixture's request log after each.
fn run_go_cases(fx: &Fixture, cases: &[GoCase]) {
    for go in go_binaries() {
        let version = go_version(&go);
        for case in cases {
            let label = format!("{version}, {}", case.name);
            let rules = case.rules.map(rules_file);
            let mut extra = Vec::new();
            if let Some((_, path)) = &rules {
                extra.extend(path_arg("--rules", path));
            }
            extra.extend(strings(case.args));
            let proxy = gomitm_for(fx, case.hosts, &extra);
            let ca = if case.go_trusts_fixture {
                fx.ca_pem.clone()
            } else {
                proxy.ca_pem()
            };
            let tmp = workspace(EMPTY_GO_MOD);
            let mut args = vec!["mod", "download"];
            args.extend(case.download);
            let out = go_through(&go, &proxy, &ca, tmp.path(), case.env, &args);
            assert_eq!(
                out.status.success(),
                case.go_succeeds,
                "{label}: go {} should have {}\n{}{}",
                args.join(" "),
                if case.go_succeeds {
                    "succeeded"
                } else {
                    "failed"
                },
                output_text(&out),
                dump(&proxy)
            );
            let mut run = GoRun {
                label,
                fx,
                proxy,
                out,
                _tmp: tmp,
            };
            (case.check)(&mut run);
            fx.clear_requests();
            eprintln!("{}: passed", run.label);
        }
    }
}

// ---------------------------------------------------------------- a Rust HTTPS client

/// What the client got for one GET.
#[derive(Debug)]
struct Fetched {
    status: u16,
    body: Vec<u8>,
    /// The body failed before its end (reset, cut short).
    body_error: Option<String>,
    /// From the response head to the end of the body.
    body_time: Duration,
}

impl Fetched {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET `https://{host}{path}` through gomitm (CONNECT, TLS trusting `ca_pem`, HTTP/1.1).
/// `Err` when no response head arrives (CONNECT refused, TLS or connection failure).
fn https_get(proxy: SocketAddr, host: &str, path: &str, ca_pem: &Path) -> Result<Fetched, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async {
        tokio::time::timeout(CLIENT_TIMEOUT, fetch(proxy, host, path, ca_pem))
            .await
            .unwrap_or_else(|_| Err(format!("GET https://{host}{path}: timed out")))
    })
}

async fn fetch(
    proxy: SocketAddr,
    host: &str,
    path: &str,
    ca_pem: &Path,
) -> Result<Fetched, String> {
    let mut tcp = tokio::net::TcpStream::connect(proxy)
        .await
        .map_err(|e| format!("connect to gomitm: {e}"))?;
    let connect = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
    tcp.write_all(connect.as_bytes())
        .await
        .map_err(|e| format!("CONNECT: {e}"))?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        match tcp.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("CONNECT {host}:443 answered {head:?}"));
    }
    let connector = tokio_rustls::TlsConnector::from(Arc::new(support::tools::tls_client_config(
        ca_pem,
        &[b"http/1.1"],
    )));
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("h1 handshake: {e}"))?;
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", host)
        .body(Empty::<Bytes>::new())
        .expect("request");
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("GET https://{host}{path}: {e}"))?;
    let status = resp.status().as_u16();
    let started = Instant::now();
    let mut body = resp.into_body();
    let (mut data, mut body_error) = (Vec::new(), None);
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    data.extend_from_slice(d);
                }
            }
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    Ok(Fetched {
        status,
        body: data,
        body_error,
        body_time: started.elapsed(),
    })
}

fn is_pattern(data: &[u8]) -> bool {
    data.iter()
        .enumerate()
        .all(|(i, b)| *b == pattern_byte(i as u64))
}

/// A GET that must produce a response head.
fn get_ok(proxy: &Gomitm, host: &str, path: &str) -> Fetched {
    https_get(proxy.addr, host, path, &proxy.ca_pem())
        .unwrap_or_else(|e| panic!("{e}{}", dump(proxy)))
}

// ---------------------------------------------------------------- 1. headers

/// A rule's `request.set_header`, `--set-header` and `--remove-header` change what reaches
/// the upstream, and every flow names the rules that fired.
#[test]
fn header_rules_and_quick_forms_change_what_the_upstream_receives() {
    let fx = Fixture::start();
    run_go_cases(
        &fx,
        &[GoCase {
            name: "set_header, --set-header, --remove-header",
            hosts: &["goproxy.test"],
            rules: Some(
                r#"
[[rule]]
name = "debug header"
match = "host:goproxy.test"
request.set_header = { "X-Debug" = "from-rule" }
"#,
            ),
            args: &[
                "--set-header",
                "X-Quick: 1",
                "--remove-header",
                "User-Agent",
            ],
            env: GOPROXY_TEST,
            download: &["example.test/mod01@v1.0.0"],
            go_trusts_fixture: false,
            go_succeeds: true,
            check: &headers_edited,
        }],
    );
}

fn headers_edited(run: &mut GoRun<'_>) {
    let version = run.label.clone();
    let seen: Vec<_> = run
        .fx
        .requests()
        .into_iter()
        .filter(|r| r.path().starts_with("/example.test/mod01/@v/"))
        .collect();
    assert!(
        seen.iter().any(|r| r.path().ends_with(".zip")),
        "{version}: the fixture never saw the zip\n{}",
        fixture_log(run.fx)
    );
    for r in &seen {
        assert_eq!(
            r.header("x-debug"),
            Some("from-rule"),
            "{version}: {} lacks the rule's header: {:?}{}",
            r.path(),
            r.headers,
            run.dump()
        );
        assert_eq!(
            r.header("x-quick"),
            Some("1"),
            "{version}: {} lacks --set-header's header: {:?}{}",
            r.path(),
            r.headers,
            run.dump()
        );
        assert_eq!(
            r.header("user-agent"),
            None,
            "{version}: --remove-header User-Agent left it in {}{}",
            r.path(),
            run.dump()
        );
    }
    let zip = run.proxy.wait_for_flow("the mod01 zip", |f| {
        url_of(f).ends_with("/example.test/mod01/@v/v1.0.0.zip")
    });
    // The record keeps what the client sent: go did send a User-Agent, so removing it
    // above was a real edit.
    let sent_ua = zip["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| {
            h[0].as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case("user-agent")
        });
    assert!(
        sent_ua,
        "{version}: go's request as recorded has no User-Agent: {}",
        zip["request"]["headers"]
    );
    for rule in [
        "debug header",
        "--set-header X-Quick: 1",
        "--remove-header User-Agent",
    ] {
        assert!(
            fired(&zip, rule),
            "{version}: flow lacks rule {rule:?}: {}{}",
            zip["rules"],
            run.dump()
        );
    }
    let har = run.proxy.stop();
    let entry = har_entries(&har)
        .iter()
        .find(|e| har_url(e).ends_with("/example.test/mod01/@v/v1.0.0.zip"))
        .unwrap_or_else(|| panic!("{version}: no HAR entry for the zip\n{}", har_summary(&har)));
    assert!(
        entry["_rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|n| n == "debug header")),
        "{version}: HAR _rules: {}",
        entry["_rules"]
    );
}

// ---------------------------------------------------------------- 2. --block kind:sumdb

/// `--block kind:sumdb` answers go's checksum database requests 403, which is fatal for go,
/// and go prints gomitm's reason. Two ways go reaches the database, both `kind:sumdb`:
/// with a bare `GOSUMDB=sum.golang.org` go first asks the module proxy
/// (`$GOPROXY/sumdb/sum.golang.org/supported`); with `GOSUMDB="sum.golang.org https://sum.test"`
/// it asks `sum.test/lookup/…` directly.
#[test]
fn block_sumdb_makes_go_fail_and_print_the_block_reason() {
    let fx = Fixture::start();
    run_go_cases(
        &fx,
        &[
            GoCase {
                name: r#"GOSUMDB="sum.golang.org""#,
                hosts: &["goproxy.test", "sum.test"],
                rules: None,
                args: &["--block", "kind:sumdb"],
                env: &[
                    ("GOPROXY", "https://goproxy.test"),
                    ("GOSUMDB", "sum.golang.org"),
                ],
                download: &["example.test/mod01@v1.0.0"],
                go_trusts_fixture: false,
                go_succeeds: false,
                check: &|run: &mut GoRun<'_>| {
                    sumdb_blocked(run, "https://goproxy.test/sumdb/sum.golang.org/supported")
                },
            },
            GoCase {
                name: r#"GOSUMDB="sum.golang.org https://sum.test""#,
                hosts: &["goproxy.test", "sum.test"],
                rules: None,
                args: &["--block", "kind:sumdb"],
                env: &[
                    ("GOPROXY", "https://goproxy.test"),
                    ("GOSUMDB", "sum.golang.org https://sum.test"),
                ],
                download: &["example.test/mod01@v1.0.0"],
                go_trusts_fixture: false,
                go_succeeds: false,
                check: &|run: &mut GoRun<'_>| {
                    sumdb_blocked(run, "https://sum.test/lookup/example.test/mod01@v1.0.0")
                },
            },
        ],
    );
}

/// go's one checksum database request, `blocked_url`, was blocked and named the rule; the
/// module proxy requests went through.
fn sumdb_blocked(run: &mut GoRun<'_>, blocked_url: &str) {
    let (case, all, proxy) = (&run.label, run.all(), &run.proxy);
    assert!(
        all.contains("gomitm: blocked by rule \"--block kind:sumdb\""),
        "{case}: go's output lacks the block reason naming the rule\n{all}{}",
        dump(proxy)
    );
    assert_eq!(
        all.matches("blocked by").count(),
        1,
        "{case}: the block reason should name the rule once (docs/RULES.md)\n{all}"
    );
    let flow = proxy.wait_for_flow("blocked sumdb request", |f| {
        f["go"]["kind"].as_str().unwrap_or("").starts_with("sumdb")
    });
    assert_eq!(url_of(&flow), blocked_url, "{case}{}", dump(proxy));
    assert_eq!(flow["response"]["status"], 403, "{case}{}", dump(proxy));
    assert!(
        fired(&flow, "--block kind:sumdb"),
        "{case}: rules {}{}",
        flow["rules"],
        dump(proxy)
    );
    assert!(
        !run.fx
            .requests()
            .iter()
            .any(|r| r.path().contains("sumdb") || r.authority.starts_with("sum.test")),
        "{case}: a blocked request reached the upstream\n{}",
        fixture_log(run.fx)
    );
    // Module proxy requests are not sumdb requests: they went through untouched.
    assert!(
        proxy
            .flows()
            .iter()
            .any(|f| url_of(f).ends_with("/example.test/mod01/@v/v1.0.0.mod")
                && f["response"]["status"] == 200
                && !fired(f, "--block kind:sumdb")),
        "{case}: the .mod request should pass{}",
        dump(proxy)
    );
}

// ---------------------------------------------------------------- 3. map_remote

/// `--map-remote` sends goproxy.test traffic (unreachable here) to a second fixture, the
/// mirror (`b.test`: rustls does not accept the fixture's `*.test` wildcard, so the mirror
/// needs a name of its own on the certificate); go succeeds and the flows record both URLs.
#[test]
fn map_remote_sends_goproxy_traffic_to_a_mirror() {
    let mirror = Fixture::start();
    run_go_cases(
        &mirror,
        &[GoCase {
            name: "--map-remote https://goproxy.test=https://b.test",
            hosts: &["b.test"],
            rules: None,
            args: &[
                "--resolve",
                "goproxy.test:443=127.0.0.1:1",
                "--map-remote",
                "https://goproxy.test=https://b.test",
            ],
            env: GOPROXY_TEST,
            download: &["example.test/mod01@v1.0.0"],
            go_trusts_fixture: false,
            go_succeeds: true,
            check: &mapped_to_the_mirror,
        }],
    );
}

/// The zip came from the mirror (`run.fx`), and flow and HAR record both URLs.
fn mapped_to_the_mirror(run: &mut GoRun<'_>) {
    let version = run.label.clone();
    let path = "/example.test/mod01/@v/v1.0.0.zip";
    let flow = run
        .proxy
        .wait_for_flow("the mapped zip", |f| url_of(f).ends_with(path));
    assert_eq!(
        url_of(&flow),
        format!("https://goproxy.test{path}"),
        "{}",
        run.dump()
    );
    assert_eq!(
        flow["mapped_to"],
        format!("https://b.test{path}").as_str(),
        "{version}{}",
        run.dump()
    );
    assert_eq!(flow["response"]["status"], 200);
    assert!(
        fired(&flow, "--map-remote https://goproxy.test=https://b.test"),
        "{version}: rules {}",
        flow["rules"]
    );
    let seen = run.fx.requests();
    let r = seen.iter().find(|r| r.path() == path).unwrap_or_else(|| {
        panic!(
            "{version}: the mirror never saw {path}\n{}",
            fixture_log(run.fx)
        )
    });
    assert!(
        r.authority.starts_with("b.test"),
        "{version}: the mirror was asked for host {:?}",
        r.authority
    );
    let har = run.proxy.stop();
    let entry = har_entries(&har)
        .iter()
        .find(|e| har_url(e).ends_with(path))
        .unwrap_or_else(|| panic!("{version}: no HAR entry\n{}", har_summary(&har)));
    assert_eq!(entry["_mappedTo"], format!("https://b.test{path}").as_str());
}

// ---------------------------------------------------------------- 4. map_local

/// What the `map_local` rule serves for example.test/mod01's `.mod`.
const PATCHED_MOD: &str =
    "module example.test/mod01\n\n// patched by a gomitm map_local rule\ngo 1.16\n";

/// A `map_local` rule serves a patched `.mod`: go stores the local content.
#[test]
fn map_local_serves_a_patched_mod_file() {
    let dir = tempfile::tempdir().expect("local dir");
    let local = dir.path().join("mod01.mod");
    std::fs::write(&local, PATCHED_MOD).expect("write local .mod");
    let rules = format!(
        r#"
[[rule]]
name = "patched mod"
match = "kind:mod & module:example.test/mod01"
map_local = '{}'
"#,
        local.display()
    );
    let fx = Fixture::start();
    run_go_cases(
        &fx,
        &[GoCase {
            name: "map_local",
            hosts: &["goproxy.test"],
            rules: Some(&rules),
            args: &[],
            env: GOPROXY_TEST,
            download: &["-json", "example.test/mod01@v1.0.0"],
            go_trusts_fixture: false,
            go_succeeds: true,
            check: &stored_the_local_mod,
        }],
    );
}

/// go stored [`PATCHED_MOD`], and the upstream was never asked for the `.mod`.
fn stored_the_local_mod(run: &mut GoRun<'_>) {
    let version = run.label.clone();
    let info: Value = serde_json::from_slice(&run.out.stdout)
        .unwrap_or_else(|e| panic!("{version}: go's -json output: {e}\n{}", run.all()));
    let go_mod = info["GoMod"].as_str().expect("GoMod in go's output");
    let stored = std::fs::read_to_string(go_mod).expect("read go's .mod");
    assert_eq!(
        stored,
        PATCHED_MOD,
        "{version}: go stored the upstream .mod, not the local one{}",
        run.dump()
    );
    let flow = run.proxy.wait_for_flow("the mapped .mod", |f| {
        url_of(f).ends_with("/example.test/mod01/@v/v1.0.0.mod")
    });
    assert_eq!(flow["response"]["status"], 200);
    assert!(
        fired(&flow, "patched mod"),
        "{version}: rules {}{}",
        flow["rules"],
        run.dump()
    );
    assert!(
        !run.fx
            .requests()
            .iter()
            .any(|r| r.path() == "/example.test/mod01/@v/v1.0.0.mod"),
        "{version}: the upstream was asked for the .mod\n{}",
        fixture_log(run.fx)
    );
}

// ---------------------------------------------------------------- 5. delay

/// `delay.request_ms` holds matching requests and shows up as `blocked` in flow and HAR.
#[test]
fn request_delay_shows_up_in_the_flow_and_har_timings() {
    let (_dir, rules) = rules_file(
        r#"
[[rule]]
name = "slow bytes"
match = "path:/bytes/"
delay = { request_ms = 300 }
"#,
    );
    let fx = Fixture::start();
    let mut proxy = gomitm_for(&fx, &["goproxy.test"], &path_arg("--rules", &rules));
    let slow = get_ok(&proxy, "goproxy.test", "/bytes/100");
    assert_eq!(slow.status, 200, "{}", dump(&proxy));
    assert!(slow.body.len() == 100 && is_pattern(&slow.body), "{slow:?}");
    let fast = get_ok(&proxy, "goproxy.test", "/status/200");
    assert_eq!(fast.status, 200, "{}", dump(&proxy));
    let f = proxy.wait_for_flow("the delayed request", |f| url_of(f).ends_with("/bytes/100"));
    let blocked = f["timings"]["blocked_ms"].as_f64().unwrap_or(-1.0);
    assert!(blocked >= 300.0, "blocked_ms {blocked}{}", dump(&proxy));
    assert!(fired(&f, "slow bytes"), "rules {}", f["rules"]);
    let other = proxy.wait_for_flow("the other request", |f| url_of(f).ends_with("/status/200"));
    assert!(
        other["timings"]["blocked_ms"].as_f64().unwrap_or(0.0) < 300.0,
        "a request the rule does not match was held{}",
        dump(&proxy)
    );
    assert!(!fired(&other, "slow bytes"));
    let har = proxy.stop();
    let entry = har_entries(&har)
        .iter()
        .find(|e| har_url(e).ends_with("/bytes/100"))
        .unwrap_or_else(|| panic!("no HAR entry\n{}", har_summary(&har)));
    let blocked = entry["timings"]["blocked"].as_f64().unwrap_or(-1.0);
    assert!(
        blocked >= 300.0,
        "HAR blocked {blocked}\n{}",
        har_summary(&har)
    );
    let total = entry["time"].as_f64().unwrap_or(0.0);
    assert!(total >= 300.0, "HAR time {total} leaves out the delay");
    let other = har_entries(&har)
        .iter()
        .find(|e| har_url(e).ends_with("/status/200"))
        .unwrap();
    assert!(other["timings"]["blocked"].as_f64().unwrap_or(-1.0) < 300.0);
}

// ---------------------------------------------------------------- 6. throttle

/// `throttle = "1MiB/s"` holds a 4 MiB body to at least 3.5 s, bytes intact.
#[test]
fn throttle_holds_a_4mib_body_to_about_4_seconds() {
    let (_dir, rules) = rules_file(
        r#"
[[rule]]
name = "slow link"
match = "path:/bytes/4194304"
throttle = "1MiB/s"
"#,
    );
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, &["goproxy.test"], &path_arg("--rules", &rules));
    let got = get_ok(&proxy, "goproxy.test", "/bytes/4194304");
    assert_eq!(got.status, 200, "{}", dump(&proxy));
    assert_eq!(got.body_error, None, "{}", dump(&proxy));
    assert_eq!(got.body.len(), 4 << 20);
    assert!(is_pattern(&got.body), "the throttled body was altered");
    assert!(
        got.body_time >= Duration::from_millis(3500),
        "4 MiB at 1 MiB/s arrived in {:?}{}",
        got.body_time,
        dump(&proxy)
    );
    assert!(
        got.body_time < Duration::from_secs(15),
        "far slower than 1 MiB/s: {:?}",
        got.body_time
    );
    // Unthrottled, the same body is fast: the rule made the difference.
    let quick = get_ok(&proxy, "goproxy.test", "/bytes/4194303");
    assert!(quick.body.len() == 4194303 && quick.body_error.is_none());
    assert!(
        quick.body_time < Duration::from_millis(3500),
        "unthrottled took {:?}",
        quick.body_time
    );
    let f = proxy.wait_for_flow("the throttled flow", |f| {
        url_of(f).ends_with("/bytes/4194304")
    });
    assert!(
        fired(&f, "slow link"),
        "rules {}{}",
        f["rules"],
        dump(&proxy)
    );
    assert!(f["error"].is_null(), "{}", f["error"]);
}

// ---------------------------------------------------------------- 7. reset

/// `reset = 1000` cuts the response: go reports a broken download, the flow says which rule
/// cut it, and a Rust client sees exactly 1000 bytes.
#[test]
fn reset_rule_cuts_downloads_and_the_flow_names_the_rule() {
    let fx = Fixture::start();
    run_go_cases(
        &fx,
        &[GoCase {
            name: "reset = 1000",
            hosts: &["goproxy.test"],
            rules: Some(
                r#"
[[rule]]
name = "cut mod02 zip"
match = "kind:zip & module:example.test/mod02"
reset = 1000

[[rule]]
name = "cut bytes"
match = "path:/bytes/5000"
reset = 1000
"#,
            ),
            args: &[],
            env: GOPROXY_TEST,
            download: &["example.test/mod02@v1.0.0"],
            go_trusts_fixture: false,
            go_succeeds: false,
            check: &cut_by_the_reset_rules,
        }],
    );
}

/// go failed reading the zip body, the flow names the rule, and a Rust client through the
/// same gomitm gets the head and exactly 1000 bytes of `/bytes/5000`.
fn cut_by_the_reset_rules(run: &mut GoRun<'_>) {
    let (version, all, proxy) = (&run.label, run.all(), &run.proxy);
    assert!(
        ["unexpected EOF", "stream error", "INTERNAL_ERROR"]
            .iter()
            .any(|s| all.contains(s)),
        "{version}: go's output lacks a broken-download error\n{all}{}",
        dump(proxy)
    );
    // `read "URL": …` is go failing mid-body; `Get "URL": …` would mean the reset came
    // before the response head, i.e. go never got a response at all.
    assert!(
        all.contains("read \"") && !all.contains("Get \""),
        "{version}: go should fail while reading the zip body, not before the response\n{all}{}",
        dump(proxy)
    );
    let flow = proxy.wait_for_flow("the reset zip", |f| {
        url_of(f).ends_with("/example.test/mod02/@v/v1.0.0.zip") && !f["error"].is_null()
    });
    assert_eq!(error_class(&flow), "upstream_reset", "{}", dump(proxy));
    let message = flow["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("reset by rule") && message.contains("cut mod02 zip"),
        "{version}: error message {message:?} does not name the rule{}",
        dump(proxy)
    );
    assert!(fired(&flow, "cut mod02 zip"), "rules {}", flow["rules"]);

    // Byte-exact: a 5000-byte body is cut at 1000. The client must get the head and the
    // first 1000 bytes, then the cut ("the connection drops mid-body", docs/RULES.md).
    let got =
        https_get(proxy.addr, "goproxy.test", "/bytes/5000", &proxy.ca_pem()).unwrap_or_else(|e| {
            panic!(
                "{version}: reset = 1000 gave the client no response at all ({e}); it \
                 should get the 200 head and 1000 body bytes before the cut{}",
                dump(proxy)
            )
        });
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len(), 1000, "{got:?}{}", dump(proxy));
    assert!(is_pattern(&got.body));
    assert!(
        got.body_error.is_some(),
        "the client must see the body fail"
    );
    let f = proxy.wait_for_flow("the reset bytes", |f| {
        url_of(f).ends_with("/bytes/5000") && !f["error"].is_null()
    });
    assert_eq!(error_class(&f), "upstream_reset");
    assert_eq!(f["response"]["body"]["total"], 1000, "{}", dump(proxy));
}

// ---------------------------------------------------------------- 8. no_intercept and ignore

/// A `no_intercept` host becomes one tunnel flow (go trusting only the fixture works), and an
/// `ignore`d request is proxied but never recorded.
#[test]
fn no_intercept_hosts_are_tunnelled_and_ignored_flows_are_not_recorded() {
    let rules = r#"
[[rule]]
name = "blind mirror"
match = "host:blind.test"
no_intercept = true

[[rule]]
name = "quiet info"
match = "kind:info"
ignore = true
"#;
    let fx = Fixture::start();
    run_go_cases(
        &fx,
        &[
            // Blind: go trusts only the fixture's CA, so it works only if gomitm does not
            // decrypt.
            GoCase {
                name: "no_intercept",
                hosts: &["goproxy.test", "blind.test"],
                rules: Some(rules),
                args: &[],
                env: &[("GOPROXY", "https://blind.test")],
                download: &["example.test/mod01@v1.0.0"],
                go_trusts_fixture: true,
                go_succeeds: true,
                check: &tunnelled_not_decrypted,
            },
            GoCase {
                name: "ignore",
                hosts: &["goproxy.test", "blind.test"],
                rules: Some(rules),
                args: &[],
                env: GOPROXY_TEST,
                download: &["example.test/mod02@v1.0.0"],
                go_trusts_fixture: false,
                go_succeeds: true,
                check: &info_proxied_not_recorded,
            },
        ],
    );
}

/// blind.test is one tunnel flow, never a decrypted one.
fn tunnelled_not_decrypted(run: &mut GoRun<'_>) {
    let (version, proxy) = (&run.label, &run.proxy);
    let tunnel = proxy.wait_for_flow("tunnel to blind.test", |f| {
        f["kind"] == "tunnel" && url_of(f) == "blind.test:443"
    });
    assert!(
        fired(&tunnel, "blind mirror"),
        "{version}: rules {}{}",
        tunnel["rules"],
        dump(proxy)
    );
    assert!(tunnel["error"].is_null(), "{}", tunnel["error"]);
    assert!(
        !proxy
            .flows()
            .iter()
            .any(|f| f["kind"] == "http" && url_of(f).contains("blind.test")),
        "{version}: gomitm decrypted a no_intercept host{}",
        dump(proxy)
    );
}

/// The `.info` request is proxied (the fixture sees it) but not recorded; the rest is.
fn info_proxied_not_recorded(run: &mut GoRun<'_>) {
    let version = run.label.clone();
    let info = "/example.test/mod02/@v/v1.0.0.info";
    assert!(
        run.fx.requests().iter().any(|r| r.path() == info),
        "{version}: go did not fetch {info} (the ignore check would prove nothing)\n{}",
        fixture_log(run.fx)
    );
    run.proxy.wait_for_flow("the mod02 zip", |f| {
        url_of(f).ends_with("/example.test/mod02/@v/v1.0.0.zip")
    });
    let har = run.proxy.stop();
    assert!(
        !run.proxy.flows().iter().any(|f| url_of(f).ends_with(info)),
        "{version}: an ignored flow was recorded{}",
        run.dump()
    );
    assert!(
        !har_entries(&har).iter().any(|e| har_url(e).ends_with(info)),
        "{version}: an ignored flow is in the HAR\n{}",
        har_summary(&har)
    );
    assert!(
        har_entries(&har)
            .iter()
            .any(|e| har_url(e).ends_with("/example.test/mod02/@v/v1.0.0.mod")),
        "{version}: other flows must still be recorded\n{}",
        har_summary(&har)
    );
}

// ---------------------------------------------------------------- 9. dns_fail and refuse

/// `dns_fail` and `refuse` fail the request without dialling: 502 naming the rule, and flows
/// with the class of the simulated failure.
#[test]
fn dns_fail_and_refuse_rules_simulate_failures_with_their_class() {
    let (_dir, rules) = rules_file(
        r#"
[[rule]]
name = "fake dns failure"
match = "host:nodns.test"
dns_fail = true

[[rule]]
name = "fake refusal"
match = "host:refused.test"
refuse = true
"#,
    );
    let fx = Fixture::start();
    // Both hosts really resolve to the fixture: only the rules make them fail.
    let proxy = gomitm_for(
        &fx,
        &["nodns.test", "refused.test"],
        &path_arg("--rules", &rules),
    );
    for (host, rule, class) in [
        ("nodns.test", "fake dns failure", "dns"),
        ("refused.test", "fake refusal", "connect"),
    ] {
        let got = get_ok(&proxy, host, "/status/200");
        assert_eq!(got.status, 502, "{host}: {}{}", got.text(), dump(&proxy));
        assert!(
            got.text().contains(rule),
            "{host}: the 502 body does not name the rule: {:?}{}",
            got.text(),
            dump(&proxy)
        );
        let f = proxy.wait_for_flow(&format!("{class} failure"), |f| {
            url_of(f) == format!("https://{host}/status/200")
        });
        assert_eq!(error_class(&f), class, "{host}{}", dump(&proxy));
        assert!(fired(&f, rule), "{host}: rules {}", f["rules"]);
        assert!(
            f["error"]["message"].as_str().unwrap_or("").contains(rule),
            "{host}: error message {}",
            f["error"]["message"]
        );
    }
    assert!(
        fx.requests().is_empty(),
        "simulated failures reached the upstream\n{}",
        fixture_log(&fx)
    );
}

// ---------------------------------------------------------------- 10. hot reload

/// Editing the rules file changes behaviour without a restart; an invalid edit keeps the
/// previous rules and is reported with line and column; a later valid edit applies again.
#[test]
fn rules_file_edits_apply_without_restart_and_invalid_edits_are_reported() {
    let block = r#"
[[rule]]
name = "block status"
match = "path:/status/200"
block = true
"#;
    let (_dir, rules) = rules_file(block);
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, &["goproxy.test"], &path_arg("--rules", &rules));
    let status = || get_ok(&proxy, "goproxy.test", "/status/200");
    let first = status();
    assert_eq!(first.status, 403, "{}{}", first.text(), dump(&proxy));
    assert_eq!(
        first.text().trim_end(),
        "gomitm: blocked by rule \"block status\"",
        "the block body (docs/RULES.md){}",
        dump(&proxy)
    );

    // A valid edit: no block any more.
    write_atomically(
        &rules,
        r#"
[[rule]]
name = "tag"
match = "path:/status/"
request.set_header = { "X-Tag" = "reloaded" }
"#,
    );
    let mut last = 0;
    assert!(
        eventually(Duration::from_secs(10), || {
            last = status().status;
            last == 200
        }),
        "still {last} 10 s after the edit{}",
        dump(&proxy)
    );
    assert!(
        fx.requests()
            .iter()
            .any(|r| r.header("x-tag") == Some("reloaded")),
        "the new rule's header never arrived\n{}",
        fixture_log(&fx)
    );
    assert!(
        proxy.stderr().iter().any(|l| l.contains("rules reloaded")),
        "{}",
        dump(&proxy)
    );

    // An invalid edit (unknown key on line 6) that would block again if it were taken.
    write_atomically(
        &rules,
        "\n[[rule]]\nname = \"block again\"\nmatch = \"path:/status/200\"\nblock = true\nblok_reason = \"typo\"\n",
    );
    let position = format!("{}:6:1", rules.display());
    assert!(
        eventually(Duration::from_secs(10), || proxy
            .stderr()
            .iter()
            .any(|l| l.contains(&position))),
        "no error naming {position} on stderr{}",
        dump(&proxy)
    );
    assert!(
        proxy
            .stderr()
            .iter()
            .any(|l| l.contains("keeping the previous rules")),
        "{}",
        dump(&proxy)
    );
    for _ in 0..3 {
        let got = status();
        assert_eq!(
            got.status,
            200,
            "the invalid edit changed behaviour: {}{}",
            got.text(),
            dump(&proxy)
        );
    }

    // Fixing the file applies it (written in place this time, as `cat > rules.toml` does).
    std::fs::write(&rules, block).expect("rewrite rules in place");
    assert!(
        eventually(Duration::from_secs(10), || {
            last = status().status;
            last == 403
        }),
        "still {last} after fixing the file{}",
        dump(&proxy)
    );
}

// ---------------------------------------------------------------- 11. checking rules and filters

/// Runs gomitm expecting it to exit by itself within 20 s; panics (with its output) if not.
fn run_to_exit(mut cmd: Command, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn gomitm");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "{what}: gomitm kept running instead of failing at start-up\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

/// Starts the proxy with `extra` and expects it to refuse to start.
fn proxy_start_failure(extra: &[&str], what: &str) -> String {
    let ca = tempfile::tempdir().expect("ca dir");
    let mut cmd = command(&["proxy", "--listen", "127.0.0.1:0", "--ca-dir"]);
    cmd.arg(ca.path()).args(extra);
    let out = run_to_exit(cmd, what);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{what}: gomitm exited successfully\n{stderr}"
    );
    stderr
}

#[test]
fn rules_check_accepts_the_example_and_pinpoints_errors() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.example.toml");
    let out = run_to_exit(
        {
            let mut c = command(&["rules", "check"]);
            c.arg(&example);
            c
        },
        "rules check example",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ok"),
        "rules.example.toml does not check\n{}",
        output_text(&out)
    );
    let text = std::fs::read_to_string(&example).unwrap();
    let count = text.lines().filter(|l| l.trim() == "[[rule]]").count();
    assert!(
        stdout.contains(&format!("{count} rules")),
        "the example has {count} rules: {stdout}"
    );
    // It also loads in a running proxy, and its rules act: "vanity host down" fails DNS for
    // go.corp.example and "gone" answers 410 for github.com/corp/legacy.
    let proxy = Gomitm::start(&path_arg("--rules", &example));
    let down = get_ok(&proxy, "go.corp.example", "/x?go-get=1");
    assert_eq!(down.status, 502, "{}{}", down.text(), dump(&proxy));
    assert!(down.text().contains("vanity host down"), "{}", down.text());
    let gone = get_ok(
        &proxy,
        "goproxy.test",
        "/github.com/corp/legacy/@v/v1.0.0.info",
    );
    assert_eq!(gone.status, 410, "{}{}", gone.text(), dump(&proxy));
    assert_eq!(gone.text(), "not found: removed\n");

    // A bad filter on line 4: the error names file:4:COL, under the offending character.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "# broken on purpose\n[[rule]]\nname = \"bad\"\nmatch = \"host:goproxy.test & stauts:4xx\"\nblock = true\n",
    )
    .unwrap();
    let out = run_to_exit(
        {
            let mut c = command(&["rules", "check"]);
            c.arg(&broken);
            c
        },
        "rules check broken",
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{}", output_text(&out));
    // `stauts` starts at column 30 of line 4.
    let at = format!("{}:4:30", broken.display());
    assert!(stderr.contains(&at), "expected {at} in:\n{stderr}");
    assert!(stderr.contains("bad"), "the rule is named: {stderr}");
    assert!(
        caret_under(&stderr, "stauts"),
        "no caret under the error:\n{stderr}"
    );

    // A TOML syntax error (unterminated string on line 3).
    std::fs::write(
        &broken,
        "[[rule]]\nname = \"x\"\nmatch = \"host:a\nblock = true\n",
    )
    .unwrap();
    let out = run_to_exit(
        {
            let mut c = command(&["rules", "check"]);
            c.arg(&broken);
            c
        },
        "rules check syntax",
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{}", output_text(&out));
    assert!(
        stderr.contains(&format!("{}:3:", broken.display())),
        "expected line 3 in:\n{stderr}"
    );

    // The same broken file refuses to start the proxy, with the position.
    std::fs::write(
        &broken,
        "# broken on purpose\n[[rule]]\nname = \"bad\"\nmatch = \"host:goproxy.test & stauts:4xx\"\nblock = true\n",
    )
    .unwrap();
    let broken_arg = broken.display().to_string();
    let stderr = proxy_start_failure(&["--rules", &broken_arg], "--rules broken.toml");
    assert!(stderr.contains(&at), "expected {at} in:\n{stderr}");
    assert!(caret_under(&stderr, "stauts"), "no caret:\n{stderr}");
}

/// True when some line of `text` has a `^` right under the first `word` of the line above.
fn caret_under(text: &str, word: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(2).any(|w| {
        let (Some(at), Some(caret)) = (w[0].find(word), w[1].find('^')) else {
            return false;
        };
        w[0][..at].chars().count() == w[1][..caret].chars().count()
            && w[1][..caret].trim().is_empty()
    })
}

#[test]
fn bad_filters_and_quick_forms_fail_at_start_up_with_a_caret() {
    for (flag, value, under) in [
        ("--filter", "status:404 & stauts:5xx", "stauts"),
        ("--har-filter", "host:goproxy.test | (kind:zip", ""),
        ("--block", "kind:zpi", "zpi"),
    ] {
        let stderr = proxy_start_failure(&[flag, value], flag);
        assert!(
            stderr.contains(flag),
            "{flag}: the error does not name the flag:\n{stderr}"
        );
        assert!(
            stderr.contains(value),
            "{flag}: the expression is not shown:\n{stderr}"
        );
        assert!(
            stderr.lines().any(|l| l.trim_start().starts_with('^')),
            "{flag}: no caret:\n{stderr}"
        );
        if !under.is_empty() {
            assert!(
                caret_under(&stderr, under),
                "{flag}: the caret is not under {under:?}:\n{stderr}"
            );
        }
    }
    let out = run_to_exit(command(&["filters"]), "gomitm filters");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", output_text(&out));
    for key in ["host", "status", "kind", "module", "version", "~d", "error"] {
        assert!(help.contains(key), "`gomitm filters` lacks {key}:\n{help}");
    }
}

/// A proxy that cannot start must not announce itself: scripts (and `Gomitm::start`) take the
/// first line, `gomitm: listening on http://…`, as "ready, here is the port".
#[test]
fn invalid_rules_or_filters_stop_gomitm_before_it_announces_a_port() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[[rule]]\nname = \"bad\"\nmatch = \"hots:x\"\nblock = true\n",
    )
    .unwrap();
    let broken = broken.display().to_string();
    for (args, what) in [
        (vec!["--rules", broken.as_str()], "--rules broken.toml"),
        (vec!["--filter", "stauts:5xx"], "--filter"),
        (vec!["--block", "kind:zpi"], "--block"),
    ] {
        let stderr = proxy_start_failure(&args, what);
        assert!(
            !stderr.contains("listening on"),
            "{what}: gomitm announced a listening port, then exited:\n{stderr}"
        );
    }
}

// ---------------------------------------------------------------- 12. --filter and --har-filter

/// `--filter` limits the JSON lines, `--har-filter` the HAR, independently.
#[test]
fn filter_limits_the_jsonl_and_har_filter_limits_the_har() {
    let fx = Fixture::start();
    let extra = strings(&[
        "--filter",
        "status:404",
        "--har-filter",
        "host:goproxy.test",
    ]);
    let mut proxy = gomitm_for(&fx, &["goproxy.test", "b.test"], &extra);
    for host in ["goproxy.test", "b.test"] {
        for code in [404, 200] {
            let got = get_ok(&proxy, host, &format!("/status/{code}"));
            assert_eq!(got.status, code, "{host}{}", dump(&proxy));
        }
    }
    proxy.wait_for_flow("the second 404", |f| {
        url_of(f) == "https://b.test/status/404"
    });
    let har = proxy.stop();
    let flows = proxy.flows();
    let mut urls: Vec<&str> = flows.iter().map(url_of).collect();
    urls.sort();
    assert_eq!(
        urls,
        vec![
            "https://b.test/status/404",
            "https://goproxy.test/status/404"
        ],
        "--filter status:404{}",
        dump(&proxy)
    );
    assert!(flows.iter().all(|f| f["response"]["status"] == 404));
    let mut har_urls: Vec<&str> = har_entries(&har).iter().map(har_url).collect();
    har_urls.sort();
    assert_eq!(
        har_urls,
        vec![
            "https://goproxy.test/status/200",
            "https://goproxy.test/status/404"
        ],
        "--har-filter host:goproxy.test\n{}",
        har_summary(&har)
    );
}

/// `hang` never answers; when the client gives up, the flow ends as a client abort that names
/// the rule, and the proxy goes on serving.
#[test]
fn hang_holds_the_request_until_the_client_leaves() {
    use std::io::{Read, Write};
    let fx = Fixture::start();
    let (_dir, file) =
        rules_file("[[rule]]\nname = \"stall it\"\nmatch = \"path:/status/201\"\nhang = true\n");
    let args = strings(&["--rules", file.to_str().unwrap()]);
    let proxy = gomitm_for(&fx, &["goproxy.test", "plain.test:80"], &args);
    let mut tcp = std::net::TcpStream::connect(proxy.addr).unwrap();
    tcp.write_all(b"GET http://plain.test/status/201 HTTP/1.1\r\nHost: plain.test\r\n\r\n")
        .unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    let mut buf = [0u8; 64];
    let got = tcp.read(&mut buf);
    assert!(
        got.is_err(),
        "a hung request must get no answer, got {got:?}"
    );
    assert!(
        fx.requests()
            .iter()
            .all(|r| !r.path().starts_with("/status/201")),
        "nothing sent upstream"
    );
    drop(tcp);
    let flow = proxy.wait_for_flow("client_abort of the hung request", |f| {
        support::gomitm::error_class(f) == "client_abort" && fired(f, "stall it")
    });
    assert_eq!(flow["request"]["url"], "http://plain.test/status/201");
    let ok = get_ok(&proxy, "goproxy.test", "/status/200");
    assert_eq!(ok.status, 200, "{}", dump(&proxy));
}
