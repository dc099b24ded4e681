//! Tests for `export`: the entry shape (required fields, never null), timings, bodies,
//! connection details, query strings and entry order. Redaction is tested in `tests_redact`.
//!
//! A child module of `export` (`#[path]`), so it sees its private helpers; fixtures shared with
//! the import tests are in `testdata`. Must not test import or redaction.

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::har::testdata::{export, failed_flow, success_flow, tunnel_flow, verbatim, TestResult};
use serde_json::{json, Value};

fn nulls(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                nulls(item, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn required_fields_are_present_and_never_null() -> TestResult {
    for flow in [success_flow(), failed_flow(), tunnel_flow()] {
        let har = export(std::slice::from_ref(&flow), &HarOptions::default())?;
        let mut found = Vec::new();
        nulls(&har, "", &mut found);
        assert!(found.is_empty(), "flow {}: nulls at {found:?}", flow.id);
        assert_eq!(har["log"]["version"], "1.2");
        assert_eq!(har["log"]["creator"]["name"], "gomitm");
        assert!(har["log"]["creator"]["version"].is_string());
        let e = &har["log"]["entries"][0];
        for key in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(
                e.get(key).is_some(),
                "flow {}: entry.{key} missing",
                flow.id
            );
        }
        assert_eq!(e["startedDateTime"], "2023-11-14T22:13:20.000Z");
        assert_eq!(e["cache"], json!({}));
        let time = e["time"].as_f64().ok_or("time is not a number")?;
        assert!(time >= 0.0, "flow {}: time {time}", flow.id);
        for key in [
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "headersSize",
            "bodySize",
        ] {
            assert!(e["request"].get(key).is_some(), "request.{key} missing");
        }
        for key in [
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
        ] {
            assert!(e["response"].get(key).is_some(), "response.{key} missing");
        }
        assert!(e["response"]["content"]["size"].is_i64());
        assert!(e["response"]["content"]["mimeType"].is_string());
        // Optional in HAR 1.2, required by some HAR libraries: `""` when there is no body.
        assert!(
            e["response"]["content"]["text"].is_string(),
            "flow {}: content.text missing",
            flow.id
        );
        for key in ["send", "wait", "receive"] {
            let v = e["timings"][key].as_f64().ok_or("timing is not a number")?;
            assert!(v >= 0.0, "flow {}: timings.{key} = {v}", flow.id);
        }
        assert!(e["_gomitm"].is_object());
    }
    Ok(())
}

#[test]
fn failed_flow_gets_the_placeholder_response_and_its_error() -> TestResult {
    let har = export(&[failed_flow()], &HarOptions::default())?;
    let e = &har["log"]["entries"][0];
    assert_eq!(
        e["response"],
        json!({
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": "", "text": ""}, "redirectURL": "",
            "headersSize": -1, "bodySize": -1,
            "_error": "lookup nope.invalid: no such host"
        })
    );
    assert_eq!(
        e["_error"],
        json!({"class": "dns", "message": "lookup nope.invalid: no such host"})
    );
    assert_eq!(
        e["timings"],
        json!({"blocked": -1.0, "dns": 12.0, "connect": -1.0, "send": 0.0, "wait": 0.0,
               "receive": 0.0, "ssl": -1.0})
    );
    assert_eq!(e["time"], 12.0);
    assert!(e.get("serverIPAddress").is_none() && e.get("connection").is_none());
    assert!(e["request"].get("postData").is_none());
    assert_eq!(e["request"]["bodySize"], 0);
    Ok(())
}

/// What gomitm records for a failed dial: the elapsed time only (the dialer's own phase
/// timings go with the connection it did not make). The HAR puts that time in the phase that
/// failed, and `time` is the sum of the phases, as for any entry.
#[test]
fn a_failed_entry_keeps_its_elapsed_time_in_the_phase_that_failed() -> TestResult {
    let failed = |url: &str, class: ErrorClass, timings: Timings| {
        FlowBuilder::get(url)
            .error(class, "failed")
            .timings(timings)
            .build()
    };
    let total = |ms: f64| Timings {
        total_ms: Some(ms),
        ..Timings::default()
    };
    let cases = [
        (
            failed("https://nope.invalid/", ErrorClass::Dns, total(1.0)),
            json!({"blocked": -1.0, "dns": 1.0, "connect": -1.0, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": -1.0}),
        ),
        (
            failed(
                "https://down.test/",
                ErrorClass::Connect,
                Timings {
                    dns_ms: Some(2.0),
                    total_ms: Some(5.5),
                    ..Timings::default()
                },
            ),
            json!({"blocked": -1.0, "dns": 2.0, "connect": 3.5, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": -1.0}),
        ),
        (
            failed(
                "https://slow.test/",
                ErrorClass::ConnectTimeout,
                total(30000.0),
            ),
            json!({"blocked": -1.0, "dns": -1.0, "connect": 30000.0, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": -1.0}),
        ),
        (
            failed("https://badcert.test/", ErrorClass::UpstreamTls, total(7.0)),
            json!({"blocked": -1.0, "dns": -1.0, "connect": 7.0, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": 7.0}),
        ),
        (
            failed(
                "https://mute.test/",
                ErrorClass::UpstreamTimeout,
                total(60000.0),
            ),
            json!({"blocked": -1.0, "dns": -1.0, "connect": -1.0, "send": 0.0, "wait": 60000.0,
                   "receive": 0.0, "ssl": -1.0}),
        ),
        (
            failed("git.test:443", ErrorClass::Dns, total(4.0)),
            json!({"blocked": -1.0, "dns": 4.0, "connect": -1.0, "send": 0.0, "wait": 0.0,
                   "receive": 0.0, "ssl": -1.0}),
        ),
    ];
    for (mut flow, want) in cases {
        if !flow.request.url.contains("://") {
            flow.kind = FlowKind::Tunnel;
        }
        let har = export(std::slice::from_ref(&flow), &HarOptions::default())?;
        let e = &har["log"]["entries"][0];
        assert_eq!(e["timings"], want, "{}", flow.request.url);
        assert_eq!(
            e["time"].as_f64(),
            flow.timings.total_ms,
            "{}: time is the elapsed time",
            flow.request.url
        );
    }
    Ok(())
}

#[test]
fn tunnel_is_a_connect_entry_with_an_absolute_url_and_byte_counts() -> TestResult {
    let har = export(&[tunnel_flow()], &HarOptions::default())?;
    let e = &har["log"]["entries"][0];
    assert_eq!(e["request"]["method"], "CONNECT");
    assert_eq!(e["request"]["url"], "https://git.test:443/");
    assert_eq!(e["_tunnel"], json!({"bytesUp": 1200, "bytesDown": 34000}));
    assert_eq!(e["_gomitm"]["kind"], "tunnel");
    assert_eq!(e["_gomitm"]["target"], "git.test:443");
    // `time` is how long the tunnel was open; the time after dialing is its `receive`.
    assert_eq!(e["time"], 5000.0);
    assert_eq!(e["timings"]["receive"], 4997.0);
    assert_eq!(tunnel_url("https://x.test:8443/"), "https://x.test:8443/");
    Ok(())
}

#[test]
fn success_entry_carries_connection_and_gomitm_details() -> TestResult {
    let har = export(&[success_flow()], &verbatim())?;
    let e = &har["log"]["entries"][0];
    assert_eq!(e["serverIPAddress"], "142.250.74.113");
    assert_eq!(e["connection"], "7");
    assert_eq!(e["response"]["status"], 200);
    assert_eq!(e["response"]["statusText"], "OK");
    assert_eq!(e["response"]["content"]["text"], "v0.1.0\nv0.2.0\n");
    assert_eq!(
        e["response"]["content"]["mimeType"],
        "text/plain; charset=utf-8"
    );
    assert!(e["response"]["content"].get("encoding").is_none());
    let g = &e["_gomitm"];
    assert_eq!(g["id"], 1);
    assert_eq!(g["state"], "done");
    assert_eq!(g["clientAddr"], "127.0.0.1:50123");
    assert_eq!(g["timings"]["tlsMs"], 20.125);
    assert_eq!(g["timings"]["connectMs"], 10.25);
    assert_eq!(g["timings"]["clientTlsMs"], 3.0);
    assert_eq!(g["timings"]["totalMs"], 70.0);
    assert_eq!(g["tlsVersion"], "TLSv1.3");
    assert_eq!(g["clientSni"], "proxy.golang.org");
    assert_eq!(g["insecureUpstream"], true);
    assert_eq!(g["reused"], false);
    assert_eq!(g["retried"], "goaway_unprocessed");
    assert_eq!(
        g["responseBody"],
        json!({"truncated": false, "complete": true})
    );
    assert_eq!(server_ip("[2001:db8::1]:443"), "2001:db8::1");
    assert_eq!(server_ip("10.0.0.1"), "10.0.0.1");
    Ok(())
}

#[test]
fn time_is_the_sum_of_phases_and_connect_includes_ssl() -> TestResult {
    type Case = (Option<f64>, Option<f64>, Option<f64>, Option<f64>, [f64; 4]);
    // dns, connect, tls, wait → [har dns, har connect, har ssl, time]; send 1, receive 2.
    let cases: [Case; 6] = [
        (
            Some(1.5),
            Some(10.25),
            Some(20.125),
            Some(30.0),
            [1.5, 30.375, 20.125, 64.875],
        ),
        (None, None, Some(5.0), Some(4.0), [-1.0, 5.0, 5.0, 12.0]),
        (None, Some(7.0), None, Some(4.0), [-1.0, 7.0, -1.0, 14.0]),
        (None, None, None, Some(4.0), [-1.0, -1.0, -1.0, 7.0]),
        (
            Some(-3.0),
            Some(f64::NAN),
            None,
            None,
            [-1.0, -1.0, -1.0, 3.0],
        ),
        (
            Some(1.23456),
            Some(0.0004),
            Some(0.0004),
            Some(0.1),
            [1.235, 0.001, 0.0, 4.336],
        ),
    ];
    for (dns, connect, tls, wait, want) in cases {
        let flow = FlowBuilder::get("https://a.test/")
            .timings(Timings {
                dns_ms: dns,
                connect_ms: connect,
                tls_ms: tls,
                send_ms: Some(1.0),
                wait_ms: wait,
                receive_ms: Some(2.0),
                ..Timings::default()
            })
            .build();
        let har = export(&[flow], &verbatim())?;
        let e = &har["log"]["entries"][0];
        let t = &e["timings"];
        let got = [&t["dns"], &t["connect"], &t["ssl"], &e["time"]].map(|v| v.as_f64());
        assert_eq!(
            got,
            want.map(Some),
            "case {dns:?} {connect:?} {tls:?} {wait:?}"
        );
        let phases = ["blocked", "dns", "connect", "send", "wait", "receive"];
        let sum: f64 = phases
            .iter()
            .filter_map(|k| t[*k].as_f64())
            .filter(|v| *v >= 0.0)
            .sum();
        assert!(
            (sum - want[3]).abs() < 1e-9,
            "sum {sum} vs time {}",
            want[3]
        );
        assert_eq!(t["blocked"], -1.0);
    }
    Ok(())
}

#[test]
fn binary_bodies_are_base64_with_their_encoding() -> TestResult {
    let flow = FlowBuilder::get("https://a.test/upload")
        .method("POST")
        .req_header("Content-Type", "application/octet-stream")
        .req_body(&[0xff, 0x00, 0x10])
        .status(200, &[0, 159, 255, 1])
        .build();
    let text_flow = FlowBuilder::get("https://a.test/form")
        .method("POST")
        .req_body(b"a=1")
        .status(200, b"ok")
        .build();
    let har = export(&[flow, text_flow], &verbatim())?;
    let bin = &har["log"]["entries"][0];
    assert_eq!(
        bin["response"]["content"],
        json!({"size": 4, "mimeType": "", "text": "AJ//AQ==", "encoding": "base64"})
    );
    assert_eq!(
        bin["request"]["postData"],
        json!({"mimeType": "application/octet-stream", "text": "/wAQ", "_encoding": "base64"})
    );
    assert_eq!(bin["request"]["bodySize"], 3);
    let txt = &har["log"]["entries"][1];
    assert_eq!(
        txt["request"]["postData"],
        json!({"mimeType": "", "text": "a=1"})
    );
    assert_eq!(
        txt["response"]["content"],
        json!({"size": 2, "mimeType": "", "text": "ok"})
    );
    Ok(())
}

#[test]
fn truncated_body_reports_the_true_size() -> TestResult {
    let mut flow = FlowBuilder::get("https://a.test/big.zip")
        .status(200, b"PK\x03\x04")
        .build();
    if let Some(r) = flow.response.as_mut() {
        r.body.total = 5_000_000;
        r.body.truncated = true;
    }
    let har = export(&[flow, success_flow()], &verbatim())?;
    let content = &har["log"]["entries"][0]["response"]["content"];
    assert_eq!(content["size"], 5_000_000);
    assert_eq!(content["_truncated"], true);
    assert_eq!(content["text"], "PK\u{3}\u{4}");
    assert_eq!(har["log"]["entries"][0]["response"]["bodySize"], 5_000_000);
    let whole = &har["log"]["entries"][1]["response"]["content"];
    assert!(whole.get("_truncated").is_none());
    Ok(())
}

#[test]
fn query_string_is_percent_decoded() {
    let got = query_params(
        "https://h.test/p?go-get=1&q=a%20b&plus=a+b&bad=%zz&empty&utf=%C3%A9&bin=%FF&&x=%2#frag",
    );
    let got: Vec<(&str, &str)> = got
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("go-get", "1"),
            ("q", "a b"),
            ("plus", "a+b"),
            ("bad", "%zz"),
            ("empty", ""),
            ("utf", "é"),
            ("bin", "%FF"),
            ("x", "%2"),
        ]
    );
    assert!(query_params("https://h.test/p#a?b=1").is_empty());
    assert!(query_params("https://h.test/p").is_empty());
}

#[test]
fn entries_keep_the_order_given() -> TestResult {
    let flows = [tunnel_flow(), success_flow(), failed_flow()];
    let har = to_har(&flows, &HarOptions::default());
    let ids: Vec<u64> = har
        .log
        .entries
        .iter()
        .filter_map(|e| e.gomitm.as_ref().map(|g| g.id))
        .collect();
    assert_eq!(ids, [3, 1, 2]);
    Ok(())
}
