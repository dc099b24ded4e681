//! Tests for `import`: gomitm's own HARs round-trip to the same flows, Chrome's and
//! mitmproxy's HARs import with the right timings and errors, bad input is an error not a panic.
//!
//! A child module of `import` (`#[path]`), so it sees its private helpers; the foreign HARs and
//! shared flows are in `testdata`. Must not test export beyond what a round trip needs.

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::har::export::format_started;
use crate::har::testdata::{export, failed_flow, success_flow, tunnel_flow, verbatim, TestResult};
use crate::har::testdata::{CHROME_HAR, MITMPROXY_HAR};
use crate::har::{to_har, to_json, HarOptions};
use crate::redact::REDACTED;

fn detailed_flows() -> Vec<Flow> {
    let mut truncated = success_flow();
    truncated.id = 10;
    truncated.timings.wait_ms = Some(30.123_456_789);
    truncated.go = crate::go::classify(
        "GET",
        "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip",
        &Default::default(),
    );
    if let Some(go) = truncated.go.as_mut() {
        go.hash = Some(crate::flow::BodyHash {
            h1: None,
            not_verified: Some("the body was cut short".into()),
            outside_prefix: Some("golang.org/x/tools@v0.1.0/go.mod".into()),
            files: Some(2),
        });
    }
    truncated.tool = Some(crate::flow::ClientTool::Go);
    if let Some(r) = truncated.response.as_mut() {
        r.body.total = 1_000_000;
        r.body.truncated = true;
        r.headers.push("Set-Cookie", "a=b; Path=/");
    }
    let mut upload = FlowBuilder::get("https://u:p@a.test/upload?x=%41")
        .id(11)
        .method("POST")
        .req_header("Authorization", "Bearer t")
        .req_body(&[0xff, 0xfe, 0x00])
        .status(502, &[0x80])
        .error(ErrorClass::UpstreamReset, "connection reset by peer")
        .build();
    upload.request_mut().body.complete = false;
    if let Some(r) = upload.response.as_mut() {
        r.body.complete = false;
        r.http_version = "HTTP/1.1".into();
    }
    upload.connection.reused = true;
    upload.connection.upstream_conn_id = Some(3);
    upload.connection.upstream_mut().server_addr = Some("[2001:db8::1]:443".into());
    vec![truncated, failed_flow(), upload, tunnel_flow()]
}

#[test]
fn gomitm_har_round_trips_to_the_same_flows() -> TestResult {
    let flows = detailed_flows();
    let back = from_json(&to_json(&to_har(&flows, &verbatim()))?)?;
    assert_eq!(back.len(), flows.len());
    for (got, want) in back.iter().zip(&flows) {
        assert_eq!(got, want, "flow {}", want.id);
    }
    Ok(())
}

#[test]
fn redacted_round_trip_differs_only_in_secrets() -> TestResult {
    let flows = detailed_flows();
    let back = from_json(&to_json(&to_har(&flows, &HarOptions::default()))?)?;
    let mut want = flows.clone();
    if let Some(r) = want[0].response.as_mut() {
        let mut i = 0;
        r.headers.replace_values(|_, _| {
            i += 1;
            (i == 2).then(|| REDACTED.to_string())
        });
    }
    want[2].request_mut().url = "https://REDACTED@a.test/upload?x=%41".into();
    let mut i = 0;
    want[2].request_mut().headers.replace_values(|_, _| {
        i += 1;
        (i == 1).then(|| REDACTED.to_string())
    });
    assert_eq!(back, want);
    Ok(())
}

#[test]
fn in_flight_flows_import_as_done() -> TestResult {
    let mut flow = success_flow();
    flow.state = FlowState::InFlight;
    let har = export(std::slice::from_ref(&flow), &verbatim())?;
    assert_eq!(har["log"]["entries"][0]["_gomitm"]["state"], "in_flight");
    let back = from_json(&har.to_string())?;
    assert_eq!(back[0].state, FlowState::Done);
    Ok(())
}

#[test]
fn imports_a_chrome_devtools_har() -> TestResult {
    let flows = from_json(CHROME_HAR)?;
    assert_eq!(flows.len(), 2);
    let ok = &flows[0];
    assert_eq!(
        (ok.id, ok.kind, ok.state),
        (1, FlowKind::Http, FlowState::Done)
    );
    assert_eq!(ok.request.method, "GET");
    assert_eq!(
        ok.request.url,
        "https://pkg.go.dev/golang.org/x/mod?tab=versions"
    );
    assert_eq!(ok.request.headers.get(1), Some(("accept", "text/html")));
    assert_eq!(ok.started_at_us, 1_709_633_730_123_000);
    let resp = ok.response.as_ref().ok_or("no response")?;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body.data, b"<html>");
    assert_eq!((resp.body.total, resp.body.truncated), (6, false));
    let t = &ok.timings;
    assert_eq!(t.dns_ms, Some(10.0));
    assert_eq!(t.connect_ms, Some(20.5), "ssl is taken out of connect");
    assert_eq!(t.tls_ms, Some(40.0));
    assert_eq!(
        (t.send_ms, t.wait_ms, t.receive_ms),
        (Some(0.25), Some(80.0), Some(7.0))
    );
    assert_eq!(t.total_ms, Some(160.25));
    assert_eq!(
        ok.connection.upstream.server_addr.as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(ok.connection.upstream_conn_id, Some(241_013));
    assert_eq!(ok.error, None);

    let failed = &flows[1];
    assert_eq!(failed.id, 2);
    assert_eq!(failed.response, None);
    assert_eq!(failed.connection.upstream.server_addr, None);
    assert_eq!(
        (failed.timings.dns_ms, failed.timings.connect_ms),
        (None, None)
    );
    assert_eq!(failed.timings.send_ms, Some(0.0));
    let err = failed.error.as_ref().ok_or("no error")?;
    assert_eq!(err.class, ErrorClass::Dns);
    assert_eq!(err.message, "net::ERR_NAME_NOT_RESOLVED");
    Ok(())
}

#[test]
fn imports_a_mitmproxy_har() -> TestResult {
    let flows = from_json(MITMPROXY_HAR)?;
    assert_eq!(flows.len(), 2);
    let ok = &flows[0];
    assert_eq!(ok.id, 1);
    assert_eq!(ok.request.method, "POST");
    assert_eq!(
        ok.request.url,
        "https://sum.golang.org/lookup/golang.org/x/mod@v0.14.0"
    );
    assert_eq!(ok.request.body.data, b"hello");
    assert_eq!(ok.request.body.total, 5);
    assert_eq!(ok.started_at_us, 1_709_633_730_250_000);
    let resp = ok.response.as_ref().ok_or("no response")?;
    assert_eq!((resp.status, resp.reason.as_ref()), (200, "OK"));
    assert_eq!(resp.body.data, b"go.sum ok");
    let t = &ok.timings;
    assert_eq!(
        t.connect_ms,
        Some(45.0),
        "mitmproxy's connect has no ssl in it"
    );
    assert_eq!(t.tls_ms, Some(30.0));
    assert_eq!(t.dns_ms, None);
    assert_eq!(
        (t.send_ms, t.wait_ms, t.receive_ms),
        (Some(0.5), Some(30.0), Some(15.0))
    );
    assert_eq!(
        ok.connection.upstream.server_addr.as_deref(),
        Some("34.107.155.52")
    );

    let failed = &flows[1];
    assert_eq!(failed.id, 2);
    assert_eq!(failed.response, None);
    assert_eq!(failed.started_at_us, 1_709_633_731_000_000);
    assert_eq!(
        (failed.timings.connect_ms, failed.timings.tls_ms),
        (None, None)
    );
    let err = failed.error.as_ref().ok_or("no error")?;
    assert_eq!(err.class, ErrorClass::UpstreamReset);
    Ok(())
}

#[test]
fn foreign_connect_without_ssl_inside_is_not_made_negative() {
    let t = HarTimings {
        connect: 5.0,
        ssl: 30.0,
        ..HarTimings::default()
    };
    let got = import_timings(&t, 35.0, SslConvention::InsideConnect);
    assert_eq!((got.connect_ms, got.tls_ms), (Some(5.0), Some(30.0)));
    assert_eq!(
        got.send_ms, None,
        "a missing required phase is unknown, not zero"
    );
}

#[test]
fn started_date_time_parses_rfc3339_with_offsets() {
    for (s, us) in [
        ("2024-03-05T10:15:30.123Z", 1_709_633_730_123_000),
        ("2024-03-05T11:15:30.123+01:00", 1_709_633_730_123_000),
        ("2024-03-05T10:15:30.123456+00:00", 1_709_633_730_123_456),
        ("1970-01-01T00:00:00Z", 0),
        ("yesterday", 0),
        ("", 0),
    ] {
        assert_eq!(parse_started(s), us, "{s}");
    }
    assert_eq!(
        format_started(1_709_633_730_123_456),
        "2024-03-05T10:15:30.123Z"
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let bad_base64 = r#"{"log":{"entries":[{"request":{"method":"GET","url":"https://a.test/"},
        "response":{"status":200,"content":{"size":3,"text":"@@@","encoding":"base64"}}}]}}"#;
    for text in [
        "",
        "not json",
        "[]",
        "{}",
        r#"{"log": {}}"#,
        r#"{"log": {"entries": {}}}"#,
        r#"{"log": {"entries": [{}]}}"#,
        r#"{"log": {"entries": [42]}}"#,
        r#"{"log": {"entries": [{"request": {"url": "https://a.test/"}}]}}"#,
        bad_base64,
    ] {
        assert!(from_json(text).is_err(), "{text}");
    }
    let missing = from_json(r#"{"log": {"creator": {"name": "x"}}}"#);
    // Said in the error itself, in words about the HAR (not serde's "missing field").
    let said = missing.err().map(|e| e.to_string());
    assert!(said.is_some_and(|s| s.contains("has no `log.entries` list")));
    let b64 = from_json(bad_base64).err().map(|e| e.to_string());
    assert_eq!(
        b64.as_deref(),
        Some(
            "har entry 1 (https://a.test/): response content is marked base64 but does not decode"
        )
    );
}

#[test]
fn a_minimal_entry_imports_with_defaults() -> TestResult {
    let flows = from_json(
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://a.test/"}}]}}"#,
    )?;
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!((f.id, f.state, f.started_at_us), (1, FlowState::Done, 0));
    assert_eq!(f.response, None);
    assert_eq!(f.timings, Timings::default());
    assert_eq!(f.error, None);
    Ok(())
}
