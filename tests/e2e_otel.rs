//! `gomitm run --otlp` end to end (issue 16): a real collector (Jaeger all-in-one v1.75.0,
//! built by `.ci/run` into a cache folder, path in `GOMITM_JAEGER`) started on 127.0.0.1
//! free ports, the real go command downloading from the TLS fixture, and the trace read back
//! through Jaeger's HTTP query API. Then the collector down and stalled: go is not slowed,
//! drops are counted and printed, gomitm exits promptly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::fixture::{Fixture, MISSING_PROXY_HOST};
use support::run::{go_cmd, gomitm_run, root_go_mod, Run, Spec};
use support::tools::{go_current, in_ci};

/// Where `.ci/run` builds Jaeger when `GOMITM_JAEGER` does not say.
const JAEGER_DEFAULT: &str = "/opt/gomitm-ci/jaeger-v1.75.0/jaeger";
/// In GOPROXY's userinfo: must reach no span.
const SECRET: &str = "hunter2otlp";

fn jaeger_binary() -> Option<PathBuf> {
    let path = std::env::var_os("GOMITM_JAEGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(JAEGER_DEFAULT));
    if path.is_file() {
        return Some(path);
    }
    if in_ci() {
        panic!(
            "Jaeger is required in CI: {} is missing (.ci/run builds it)",
            path.display()
        );
    }
    eprintln!("note: no Jaeger at {}; skipping", path.display());
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Jaeger started by this test; killed (by its PID) when dropped.
struct Jaeger {
    child: Child,
    otlp_http: u16,
    query_http: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Jaeger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Jaeger {
    /// Every listener on 127.0.0.1 and a free port; the collector's own telemetry off.
    fn start(bin: &Path) -> Jaeger {
        Jaeger::start_with(bin, None)
    }

    /// With TLS on the OTLP/HTTP receiver when `tls` is given.
    fn start_with(bin: &Path, tls: Option<&ReceiverTls>) -> Jaeger {
        let dir = tempfile::tempdir().unwrap();
        let receiver_tls = tls.map_or(String::new(), |t| {
            format!(
                "\n        tls:\n          cert_file: {}\n          key_file: {}\n          \
                 client_ca_file: {}",
                t.cert.display(),
                t.key.display(),
                t.client_ca.display()
            )
        });
        let [otlp_http, otlp_grpc, query_http, query_grpc, health] = [(); 5].map(|_| free_port());
        let config = format!(
            r#"service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:{query_http}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 1000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
      http:
        endpoint: 127.0.0.1:{otlp_http}{receiver_tls}
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
"#
        );
        let path = dir.path().join("jaeger.yaml");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("jaeger.log")).unwrap();
        let child = Command::new(bin)
            .arg("--config")
            .arg(format!("file:{}", path.display()))
            .env("JAEGER_LISTEN_HOST", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start jaeger");
        let jaeger = Jaeger {
            child,
            otlp_http,
            query_http,
            _dir: dir,
        };
        let begun = Instant::now();
        while get(query_http, "/api/services").is_none() {
            if begun.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(jaeger._dir.path().join("jaeger.log"));
                panic!(
                    "jaeger did not start within 60s\n{}",
                    log.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        jaeger
    }

    /// Every socket Jaeger listens on, from `ss`.
    fn listeners(&self) -> Vec<String> {
        let out = Command::new("ss").arg("-ltnpH").output().expect("ss");
        let pid = format!("pid={},", self.child.id());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&pid))
            .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
            .collect()
    }

    /// The traces of service `gomitm` (JSON `data`), once `spans` spans have arrived.
    fn traces(&self, spans: usize) -> Vec<Value> {
        let begun = Instant::now();
        loop {
            let got = get(self.query_http, "/api/traces?service=gomitm&limit=20")
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["data"].as_array().cloned())
                .unwrap_or_default();
            let n: usize = got
                .iter()
                .map(|t| t["spans"].as_array().map_or(0, Vec::len))
                .sum();
            if n >= spans || begun.elapsed() > Duration::from_secs(30) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// A plain HTTP/1.1 GET on 127.0.0.1; the body of a 200.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Some(unchunk(body));
    }
    Some(body.to_string())
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn tag<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)
        .map(|t| &t["value"])
}

fn tag_str(span: &Value, key: &str) -> Option<String> {
    tag(span, key).and_then(|v| v.as_str()).map(str::to_string)
}

fn tag_i64(span: &Value, key: &str) -> Option<i64> {
    tag(span, key).and_then(Value::as_i64)
}

fn parent(span: &Value) -> Option<String> {
    span["references"]
        .as_array()?
        .iter()
        .find(|r| r["refType"] == "CHILD_OF")
        .and_then(|r| r["spanID"].as_str())
        .map(str::to_string)
}

/// GOPROXY with a proxy that is down (refused), one that 404s and a good one whose URL holds
/// credentials: connect errors, 4xx answers (sent twice by go 1.24+) and successes.
fn goproxy() -> String {
    format!("https://down.test|https://{MISSING_PROXY_HOST},https://ci:{SECRET}@goproxy.test")
}

/// The line gomitm prints at exit about the export.
fn export_line(run: &Run) -> String {
    let err = run.stderr();
    err.lines()
        .find(|l| l.starts_with("gomitm: OpenTelemetry: "))
        .unwrap_or_else(|| panic!("no export line\n{err}"))
        .to_string()
}

fn otlp_args(url: &str) -> Vec<String> {
    vec![
        "--otlp".into(),
        url.into(),
        "--resolve".into(),
        "down.test:443=127.0.0.1:1".into(),
    ]
}

#[test]
fn a_run_exports_one_trace_that_jaeger_shows_with_every_flow() {
    let Some(bin) = jaeger_binary() else { return };
    let Some(go) = go_current() else { return };
    let jaeger = Jaeger::start(&bin);
    let listening = jaeger.listeners();
    eprintln!("Jaeger listens on {listening:?}");
    assert!(!listening.is_empty(), "ss shows no Jaeger listener");
    for addr in &listening {
        assert!(
            addr.starts_with("127.0.0.1:"),
            "Jaeger listens beyond loopback on {addr}: {listening:?}"
        );
    }
    let fx = Fixture::start();
    let args = otlp_args(&format!("http://127.0.0.1:{}", jaeger.otlp_http));
    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &["goproxy.test", MISSING_PROXY_HOST],
            args: &args,
            env: &[
                ("GOPROXY", goproxy()),
                ("OTEL_RESOURCE_ATTRIBUTES", "ci.job=otel-e2e".into()),
            ],
            go_mod: &root_go_mod(),
            command: go_cmd(&go, &["mod", "download"]),
        },
    );
    assert_eq!(run.code(), Some(0), "{}", run.dump());
    let flows = run.flows();
    assert!(flows.len() >= 4, "{}", run.flow_list());
    let line = export_line(&run);
    assert!(line.ends_with(", 0 dropped"), "{line}");

    let har: Value =
        serde_json::from_str(&std::fs::read_to_string(run.har_path()).unwrap()).unwrap();
    let har_timings: HashMap<u64, Value> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["_gomitm"]["id"].as_u64().unwrap(), e["timings"].clone()))
        .collect();
    let phases: usize = har_timings
        .values()
        .map(|t| {
            ["blocked", "dns", "send", "wait", "receive"]
                .iter()
                .filter(|p| t[**p].as_f64().unwrap_or(-1.0) >= 0.0)
                .count()
                + usize::from(t["connect"].as_f64().unwrap_or(-1.0) >= 0.0)
                + usize::from(t["ssl"].as_f64().unwrap_or(-1.0) >= 0.0)
        })
        .sum();
    let traces = jaeger.traces(1 + flows.len() + phases);
    let dump = serde_json::to_string_pretty(&traces).unwrap();
    assert_eq!(traces.len(), 1, "one trace per run\n{dump}");
    let trace = &traces[0];
    if let Ok(out) = std::env::var("GOMITM_OTEL_TRACE_OUT") {
        std::fs::write(out, &dump).unwrap();
    }
    let spans = trace["spans"].as_array().unwrap();
    let process = |s: &Value| trace["processes"][s["processID"].as_str().unwrap()].clone();

    // The root span: the command, its exit code and the summary's totals.
    let roots: Vec<&Value> = spans.iter().filter(|s| parent(s).is_none()).collect();
    assert_eq!(roots.len(), 1, "{dump}");
    let root = roots[0];
    assert_eq!(root["operationName"], "gomitm run go", "{dump}");
    assert_eq!(tag_i64(root, "process.exit.code"), Some(0), "{dump}");
    assert_eq!(
        tag_i64(root, "gomitm.run.requests"),
        Some(flows.len() as i64),
        "{dump}"
    );
    assert_eq!(tag_i64(root, "gomitm.run.leaks"), Some(0), "{dump}");
    assert!(tag_str(root, "gomitm.go.release").is_some(), "{dump}");
    let p = process(root);
    assert_eq!(p["serviceName"], "gomitm");
    let ptags = serde_json::to_string(&p["tags"]).unwrap();
    assert!(
        ptags.contains("otel-e2e"),
        "OTEL_RESOURCE_ATTRIBUTES: {ptags}"
    );
    assert!(ptags.contains("host.name"), "{ptags}");
    let root_id = root["spanID"].as_str().unwrap().to_string();

    // One child of the root per recorded flow, with the right attributes.
    let flow_spans: HashMap<i64, &Value> = spans
        .iter()
        .filter(|s| parent(s).as_deref() == Some(root_id.as_str()))
        .map(|s| (tag_i64(s, "gomitm.flow.id").expect("flow id"), s))
        .collect();
    assert_eq!(flow_spans.len(), flows.len(), "{}\n{dump}", run.flow_list());
    let mut failed = 0;
    let mut resent = 0;
    for f in &flows {
        let id = f["id"].as_i64().unwrap();
        let s = flow_spans
            .get(&id)
            .unwrap_or_else(|| panic!("no span for flow {id}\n{dump}"));
        let ctx = format!("flow {id} {}", f["request"]["url"]);
        assert_eq!(tag_str(s, "span.kind").as_deref(), Some("client"), "{ctx}");
        assert_eq!(
            tag_str(s, "http.request.method").as_deref(),
            f["request"]["method"].as_str(),
            "{ctx}"
        );
        assert_eq!(
            tag_str(s, "url.full").as_deref(),
            f["request"]["url"].as_str(),
            "{ctx}"
        );
        assert!(tag_str(s, "server.address").is_some(), "{ctx}");
        if let Some(status) = f["response"]["status"].as_i64() {
            assert_eq!(
                tag_i64(s, "http.response.status_code"),
                Some(status),
                "{ctx}"
            );
        }
        if let Some(kind) = f["go"]["kind"].as_str() {
            assert_eq!(tag_str(s, "gomitm.go.kind").as_deref(), Some(kind), "{ctx}");
        }
        let is_error = tag(s, "error") == Some(&Value::Bool(true));
        if let Some(class) = f["error"]["class"].as_str() {
            failed += 1;
            assert!(is_error, "a failed flow is an error span: {ctx}");
            assert_eq!(tag_str(s, "error.type").as_deref(), Some(class), "{ctx}");
            assert_eq!(
                tag_str(s, "otel.status_code").as_deref(),
                Some("ERROR"),
                "{ctx}"
            );
        } else if f["response"]["status"].as_i64().unwrap_or(0) >= 400 {
            assert!(is_error, "{ctx}");
        } else {
            assert!(!is_error, "{ctx}");
        }
        if tag_i64(s, "http.request.resend_count").unwrap_or(0) > 0 {
            resent += 1;
        }
        // Phases: the same durations as the HAR's (µs in Jaeger, ms with 3 decimals there).
        let t = &har_timings[&(id as u64)];
        let children: HashMap<String, i64> = spans
            .iter()
            .filter(|c| parent(c).as_deref() == s["spanID"].as_str())
            .map(|c| {
                (
                    c["operationName"].as_str().unwrap().to_string(),
                    c["duration"].as_i64().unwrap(),
                )
            })
            .collect();
        let close = |ms: f64, us: i64| (ms * 1000.0 - us as f64).abs() <= 3.0;
        if f["error"].is_null() {
            for p in ["dns", "send", "wait", "receive"] {
                let har_ms = t[p].as_f64().unwrap();
                match children.get(p) {
                    Some(&us) => assert!(close(har_ms, us), "{ctx} {p}: {har_ms} ms vs {us} µs"),
                    None => assert_eq!(har_ms, -1.0, "{ctx}: no {p} span\n{children:?}"),
                }
            }
            // HAR's connect includes ssl.
            let connect = children.get("connect").copied().unwrap_or(0)
                + children.get("tls").copied().unwrap_or(0);
            let har_connect = t["connect"].as_f64().unwrap();
            if har_connect >= 0.0 {
                assert!(
                    close(har_connect, connect),
                    "{ctx}: connect {t} vs {children:?}"
                );
            } else {
                assert!(!children.contains_key("connect"), "{ctx}");
            }
        }
        // The flow's span lasts as long as the flow.
        let total_us = (f["timings"]["total_ms"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
        assert!(
            (s["duration"].as_i64().unwrap() - total_us).abs() <= 2,
            "{ctx}"
        );
    }
    assert!(
        failed > 0,
        "the run had no failed flow: {}",
        run.flow_list()
    );
    let go_release = support::tools::go_release(&go).unwrap_or((1, 0, 0));
    if go_release >= (1, 24, 0) {
        assert!(resent > 0, "go ≥ 1.24 resends a 4xx\n{}", run.flow_list());
    }
    // No secret anywhere: neither the password nor go's Basic credentials made of it.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ci:{SECRET}"));
    assert!(!dump.contains(SECRET), "the password reached Jaeger");
    assert!(!dump.contains(&basic), "the credentials reached Jaeger");
    // …and go did send them, so the check above had something to find.
    assert!(
        flows.iter().any(|f| f["request"]["headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|kv| kv[0]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("authorization"))))),
        "go sent no credentials to goproxy.test\n{}",
        run.flow_list()
    );
}

/// `go mod download` wrapped to print its own wall time, so gomitm's exit is measured apart.
fn timed_download(go: &Path) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "s=$(date +%s%N); \"$0\" mod download; c=$?; echo \"go-took-ms=$(( ($(date +%s%N) - s) / 1000000 ))\"; exit $c"
            .into(),
        go.display().to_string(),
    ]
}

fn go_ms(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("go-took-ms="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no timing in {stdout}"))
}

#[test]
fn a_collector_down_or_stalled_slows_nothing_and_the_drops_are_reported() {
    let Some(go) = go_current() else { return };
    let fx = Fixture::start();
    // Nothing listens here: the port was free a moment ago and is closed again.
    let down = format!("http://127.0.0.1:{}", free_port());
    // Accepts and never answers.
    let stall = TcpListener::bind("127.0.0.1:0").unwrap();
    let stalled = format!("http://{}", stall.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut keep = Vec::new();
        for c in stall.incoming() {
            match c {
                Ok(c) => keep.push(c),
                Err(_) => break,
            }
            if keep.len() > 64 {
                break;
            }
        }
    });
    let run = |url: Option<&str>| {
        let mut args = otlp_args(url.unwrap_or("http://unused.invalid"));
        if url.is_none() {
            args.drain(0..2);
        }
        let begun = Instant::now();
        let r = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test", MISSING_PROXY_HOST],
                args: &args,
                env: &[("GOPROXY", goproxy())],
                go_mod: &root_go_mod(),
                command: timed_download(&go),
            },
        );
        (r, begun.elapsed())
    };
    let (base, base_wall) = run(None);
    assert_eq!(base.code(), Some(0), "{}", base.dump());
    let base_go = go_ms(&base.stdout());
    assert!(!base.stderr().contains("OpenTelemetry"), "{}", base.dump());
    for (what, url) in [("down", down.as_str()), ("stalled", stalled.as_str())] {
        let (r, wall) = run(Some(url));
        assert_eq!(r.code(), Some(0), "{what}: {}", r.dump());
        let took = go_ms(&r.stdout());
        eprintln!(
            "collector {what}: go mod download {took} ms (without export {base_go} ms); \
             gomitm run {wall:?} (without export {base_wall:?})"
        );
        // Noise on a shared 2-core machine: twice the baseline plus a second.
        assert!(
            took <= base_go * 2 + 1000,
            "{what}: go took {took} ms with export, {base_go} ms without"
        );
        // gomitm waits at most its flush deadline (3 s) for the collector at exit.
        assert!(
            wall <= base_wall + Duration::from_secs(8),
            "{what}: gomitm took {wall:?}, {base_wall:?} without export"
        );
        let line = export_line(&r);
        let dropped: u64 = line
            .split(", ")
            .find_map(|p| p.split_once(" dropped").map(|(n, _)| n))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{what}: no drop count in {line:?}"));
        assert!(dropped > 0, "{what}: {line}");
        assert!(line.contains("0 spans exported"), "{what}: {line}");
        if what == "down" {
            // The transport's reason, not only the exporter's "network error".
            assert!(line.contains("Connection refused"), "{line}");
        }
    }
    drop(held);
}

/// TLS on Jaeger's OTLP/HTTP receiver, with mutual TLS: the receiver's certificate (for
/// 127.0.0.1, from a CA of the test's own) and the CA its clients' certificates must chain to;
/// and a client certificate from that CA for gomitm.
struct ReceiverTls {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    client_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl ReceiverTls {
    fn new() -> ReceiverTls {
        use rcgen::{
            BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        };
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca = |name: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            let pem = params.self_signed(&key).unwrap().pem();
            (pem, Issuer::new(params, key))
        };
        let leaf = |issuer: &Issuer<'static, KeyPair>, sans: Vec<String>, eku| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(sans).unwrap();
            params.extended_key_usages.push(eku);
            (
                params.signed_by(&key, issuer).unwrap().pem(),
                key.serialize_pem(),
            )
        };
        let (server_ca_pem, server_ca) = ca("collector CA");
        let (client_ca_pem, client_ca) = ca("collector clients CA");
        let (cert, key) = leaf(
            &server_ca,
            vec!["127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            &client_ca,
            vec!["gomitm.test".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        ReceiverTls {
            ca: write("collector-ca.pem", server_ca_pem),
            cert: write("collector.pem", cert),
            key: write("collector-key.pem", key),
            client_ca: write("clients-ca.pem", client_ca_pem),
            client_cert: write("gomitm-client.pem", client_cert),
            client_key: write("gomitm-client-key.pem", client_key),
            _dir: dir,
        }
    }
}

#[test]
fn an_https_collector_gets_the_spans_over_mutual_tls_and_an_untrusted_one_is_reported() {
    let Some(bin) = jaeger_binary() else { return };
    let Some(go) = go_current() else { return };
    let tls = ReceiverTls::new();
    let jaeger = Jaeger::start_with(&bin, Some(&tls));
    let fx = Fixture::start();
    let url = format!("https://127.0.0.1:{}", jaeger.otlp_http);
    let path = |p: &Path| p.display().to_string();
    let run = |env: &[(&str, String)]| {
        let mut env = env.to_vec();
        env.push(("GOPROXY", goproxy()));
        gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test", MISSING_PROXY_HOST],
                args: &otlp_args(&url),
                env: &env,
                go_mod: &root_go_mod(),
                command: go_cmd(&go, &["mod", "download"]),
            },
        )
    };

    // The collector's CA through the OTLP variable, and a client certificate.
    let trusted = run(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&tls.ca)),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            path(&tls.client_cert),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&tls.client_key)),
    ]);
    assert_eq!(trusted.code(), Some(0), "{}", trusted.dump());
    let line = export_line(&trusted);
    assert!(line.ends_with(", 0 dropped"), "{line}");
    let flows = trusted.flows().len();
    let traces = jaeger.traces(flows);
    let spans: usize = traces
        .iter()
        .map(|t| t["spans"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(
        spans >= flows,
        "Jaeger holds {spans} spans for {flows} flows: {line}"
    );

    // The same collector with its CA given by --extra-root instead, and no client
    // certificate: the receiver refuses the handshake. Then no CA at all: gomitm refuses
    // the collector. go is unaffected either way; the drops and the reason are printed.
    let no_client = run(&[]);
    let extra_root_args = {
        let mut a = otlp_args(&url);
        a.extend(["--extra-root".to_string(), path(&tls.ca)]);
        a
    };
    let extra_root_only = gomitm_run(
        &fx,
        Spec {
            hosts: &["goproxy.test", MISSING_PROXY_HOST],
            args: &extra_root_args,
            env: &[("GOPROXY", goproxy())],
            go_mod: &root_go_mod(),
            command: go_cmd(&go, &["mod", "download"]),
        },
    );
    for (what, r) in [
        ("no CA", &no_client),
        ("no client certificate", &extra_root_only),
    ] {
        assert_eq!(r.code(), Some(0), "{what}: {}", r.dump());
        let line = export_line(r);
        assert!(line.contains("0 spans exported"), "{what}: {line}");
        assert!(!line.ends_with(", 0 dropped"), "{what}: {line}");
        eprintln!("{what}: {line}");
    }
    // The reason and the setting that fixes it, not only the exporter's "network error".
    let no_ca = export_line(&no_client);
    assert!(
        no_ca.contains("invalid peer certificate")
            && no_ca.contains("OTEL_EXPORTER_OTLP_CERTIFICATE=FILE"),
        "{no_ca}"
    );
    // TLS 1.3 sends the collector's refusal after the handshake: gomitm reads the alert
    // (CertificateRequired), or, when the request is large, its write fails first on the
    // closed connection (Broken pipe, reset). Either way the line names the settings.
    let no_cert = export_line(&extra_root_only);
    assert!(
        ["CertificateRequired", "Broken pipe", "onnection reset"]
            .iter()
            .any(|r| no_cert.contains(r))
            && no_cert.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=FILE"),
        "{no_cert}"
    );
}
