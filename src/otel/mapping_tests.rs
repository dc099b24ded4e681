use std::cell::Cell;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{IdGenerator, SpanData};

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, Flow, GoKind, GoRequest, Timings};
use crate::go::codes::Code;
use crate::go::diagnosis::{Diagnosis, Severity};

/// Ids 1, 2, 3… so the table can name them.
#[derive(Debug, Default)]
struct Counting(std::sync::Mutex<Cell<u64>>);

impl IdGenerator for Counting {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from(u128::from(self.next()))
    }
    fn new_span_id(&self) -> SpanId {
        SpanId::from(self.next())
    }
}

impl Counting {
    fn next(&self) -> u64 {
        let cell = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cell.set(cell.get() + 1);
        cell.get()
    }
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

fn int(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Value::I64(n)) => Some(*n),
        _ => None,
    }
}

fn timed(flow: Flow) -> Flow {
    let mut f = flow;
    f.timings = Timings {
        dns_ms: Some(1.5),
        connect_ms: Some(2.0),
        tls_ms: Some(3.0),
        send_ms: Some(0.5),
        wait_ms: Some(10.0),
        receive_ms: Some(4.0),
        total_ms: Some(21.0),
        ..Timings::default()
    };
    f.connection.upstream_mut().server_addr = Some("127.0.0.1:8443".into());
    f.connection.upstream_conn_id = Some(7);
    f
}

fn zip_flow() -> Flow {
    let mut f = timed(
        FlowBuilder::get("https://proxy.example/mod.example/a/@v/v1.0.0.zip")
            .id(3)
            .status(200, b"zipbytes")
            .build(),
    );
    f.go = Some(Box::new(GoRequest {
        kind: GoKind::Zip,
        module: Some("mod.example/a".into()),
        version: Some("v1.0.0".into()),
        base: Some("https://proxy.example".into()),
        ..GoRequest::default()
    }));
    f
}

fn spans(flow: &Flow) -> Vec<SpanData> {
    flow_spans(flow, &FlowFacts::default(), None, &Counting::default())
}

#[test]
fn an_h2_go_request_is_a_client_span_with_the_http_conventions_and_its_phases() {
    let s = spans(&zip_flow());
    let main = &s[0];
    assert_eq!(main.span_kind, SpanKind::Client);
    assert_eq!(main.name, "GET zip");
    assert_eq!(main.parent_span_id, SpanId::INVALID, "a trace of its own");
    assert_eq!(text(main, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        text(main, "url.full").as_deref(),
        Some("https://proxy.example/mod.example/a/@v/v1.0.0.zip")
    );
    assert_eq!(
        text(main, "server.address").as_deref(),
        Some("proxy.example")
    );
    assert_eq!(int(main, "server.port"), Some(443));
    assert_eq!(
        text(main, "network.peer.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(int(main, "network.peer.port"), Some(8443));
    assert_eq!(text(main, "network.protocol.version").as_deref(), Some("2"));
    assert_eq!(int(main, "http.response.status_code"), Some(200));
    assert_eq!(int(main, "http.response.body.size"), Some(8));
    assert_eq!(text(main, "gomitm.go.kind").as_deref(), Some("zip"));
    assert_eq!(
        text(main, "gomitm.go.module").as_deref(),
        Some("mod.example/a")
    );
    assert_eq!(text(main, "gomitm.go.version").as_deref(), Some("v1.0.0"));
    assert_eq!(
        text(main, "gomitm.go.source").as_deref(),
        Some("https://proxy.example")
    );
    assert_eq!(attr(main, "error.type"), None);
    assert_eq!(main.status, Status::Unset);
    let start = SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_000);
    assert_eq!(main.start_time, start);
    assert_eq!(main.end_time, start + Duration::from_millis(21));
    let names: Vec<&str> = s[1..].iter().map(|p| p.name.as_ref()).collect();
    assert_eq!(names, ["dns", "connect", "tls", "send", "wait", "receive"]);
    // End to end from the flow's start, as the HAR lays them.
    let mut at = start;
    for (p, ms) in s[1..].iter().zip([1.5, 2.0, 3.0, 0.5, 10.0, 4.0]) {
        assert_eq!(p.parent_span_id, main.span_context.span_id());
        assert_eq!(p.span_context.trace_id(), main.span_context.trace_id());
        assert_eq!(p.start_time, at, "{}", p.name);
        assert_eq!(
            p.end_time.duration_since(p.start_time).ok(),
            Some(Duration::from_secs_f64(ms / 1000.0)),
            "{}",
            p.name
        );
        at = p.end_time;
    }
}

#[test]
fn an_h1_request_says_1_1() {
    let mut f = zip_flow();
    f.request_mut().http_version = "HTTP/1.1".into();
    if let Some(r) = f.response.as_mut() {
        r.http_version = "HTTP/1.1".into();
    }
    let s = spans(&f);
    assert_eq!(
        text(&s[0], "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(
        text(&s[0], "gomitm.upstream.protocol.version").as_deref(),
        Some("1.1")
    );
}

#[test]
fn a_reused_connection_has_no_dns_connect_or_tls_span() {
    let mut f = zip_flow();
    f.connection.reused = true;
    f.timings.dns_ms = None;
    f.timings.connect_ms = None;
    f.timings.tls_ms = None;
    let s = spans(&f);
    assert_eq!(
        attr(&s[0], "gomitm.connection.reused"),
        Some(&Value::Bool(true))
    );
    assert_eq!(int(&s[0], "gomitm.connection.id"), Some(7));
    let names: Vec<&str> = s[1..].iter().map(|p| p.name.as_ref()).collect();
    assert_eq!(names, ["send", "wait", "receive"]);
    assert_eq!(s[1].start_time, s[0].start_time, "send starts the flow");
}

#[test]
fn a_tunnel_is_a_connect_span_with_its_bytes() {
    let mut f = FlowBuilder::get("git.example:443")
        .tunnel(100, 2000)
        .build();
    f.timings.connect_ms = Some(1.0);
    f.timings.total_ms = Some(500.0);
    let s = spans(&f);
    assert_eq!(s[0].name, "CONNECT");
    assert_eq!(text(&s[0], "gomitm.flow.kind").as_deref(), Some("tunnel"));
    assert_eq!(
        text(&s[0], "server.address").as_deref(),
        Some("git.example")
    );
    assert_eq!(int(&s[0], "server.port"), Some(443));
    assert_eq!(int(&s[0], "gomitm.tunnel.bytes_up"), Some(100));
    assert_eq!(int(&s[0], "gomitm.tunnel.bytes_down"), Some(2000));
    assert_eq!(
        s[0].end_time.duration_since(s[0].start_time).ok(),
        Some(Duration::from_millis(500))
    );
    assert_eq!(attr(&s[0], "gomitm.connection.reused"), None);
}

#[test]
fn every_error_class_marks_the_span_an_error_with_its_class_and_message() {
    for class in ErrorClass::ALL {
        let f = FlowBuilder::get("https://sum.example/lookup/m@v1")
            .error(class, "it broke")
            .build();
        let s = spans(&f);
        assert_eq!(
            text(&s[0], "error.type").as_deref(),
            Some(class.as_str()),
            "{class}"
        );
        assert_eq!(s[0].status, Status::error("it broke"), "{class}");
        assert_eq!(
            text(&s[0], "gomitm.error.message").as_deref(),
            Some("it broke")
        );
    }
}

#[test]
fn a_4xx_answer_is_an_error_with_its_status_as_type_and_a_resend_count() {
    let f = FlowBuilder::get("https://proxy.example/x/@v/list")
        .status(404, b"not found")
        .build();
    let facts = FlowFacts {
        diagnosis: None,
        resend_count: 1,
    };
    let s = flow_spans(&f, &facts, None, &Counting::default());
    assert_eq!(text(&s[0], "error.type").as_deref(), Some("404"));
    assert_eq!(s[0].status, Status::error("404 Not Found"));
    assert_eq!(int(&s[0], "http.request.resend_count"), Some(1));
}

#[test]
fn a_diagnosis_goes_in_gomitm_attributes() {
    let d = Diagnosis {
        code: Code::ALL[0],
        severity: Severity::Error,
        cause: "the cause".into(),
        fix: "the fix".into(),
    };
    let facts = FlowFacts {
        diagnosis: Some(&d),
        resend_count: 0,
    };
    let s = flow_spans(&zip_flow(), &facts, None, &Counting::default());
    assert_eq!(
        text(&s[0], "gomitm.diagnosis.code").as_deref(),
        Some(Code::ALL[0].as_str())
    );
    assert_eq!(
        text(&s[0], "gomitm.diagnosis.severity").as_deref(),
        Some("error")
    );
    assert_eq!(
        text(&s[0], "gomitm.diagnosis.fix").as_deref(),
        Some("the fix")
    );
}

#[test]
fn under_a_run_every_flow_is_a_child_of_the_root_span() {
    let root = Parent {
        trace_id: TraceId::from(99u128),
        span_id: SpanId::from(98u64),
    };
    let s = flow_spans(
        &zip_flow(),
        &FlowFacts::default(),
        Some(root),
        &Counting::default(),
    );
    assert!(s.iter().all(|p| p.span_context.trace_id() == root.trace_id));
    assert_eq!(s[0].parent_span_id, root.span_id);
}

#[test]
fn the_run_span_carries_exit_code_argv_and_totals() {
    let root = Parent {
        trace_id: TraceId::from(5u128),
        span_id: SpanId::from(6u64),
    };
    let run = RunFacts {
        argv: vec![
            "/usr/local/go/bin/go".into(),
            "mod".into(),
            "download".into(),
        ],
        exit_code: 1,
        go_version: Some("go1.26".into()),
        started_at_us: 1_000_000,
        ended_at_us: 3_000_000,
        requests: 4,
        failed: 1,
        leaks: 2,
        ..RunFacts::default()
    };
    let s = run_span(&run, root);
    assert_eq!(s.name, "gomitm run go");
    assert_eq!(s.span_context.span_id(), root.span_id);
    assert_eq!(s.parent_span_id, SpanId::INVALID);
    assert_eq!(int(&s, "process.exit.code"), Some(1));
    assert_eq!(int(&s, "gomitm.run.requests"), Some(4));
    assert_eq!(int(&s, "gomitm.run.leaks"), Some(2));
    assert_eq!(text(&s, "gomitm.go.release").as_deref(), Some("go1.26"));
    assert_eq!(s.status, Status::error("exit code 1"));
    assert_eq!(
        s.end_time.duration_since(s.start_time).ok(),
        Some(Duration::from_secs(2))
    );
}
