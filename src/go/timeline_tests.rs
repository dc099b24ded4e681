//! Tests for `timeline`: rows in start order on one axis, phases kept in HAR's order, failures
//! and retries marked, the Go kind and the summary's failures carried over.

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, RetryReason, Timings};
use crate::go::analysis::{summarize, RunEvidence};
use crate::go::diagnose::Os;
use crate::go::private::PrivatePatterns;

fn flow(id: u64, at_ms: i64, url: &str, status: u16) -> Flow {
    // A 2xx `.mod` carries a go.mod: an empty one is itself a wrong answer.
    let body: &[u8] = if url.ends_with(".mod") && status / 100 == 2 {
        b"module m.test/x\n"
    } else {
        b""
    };
    let mut f = FlowBuilder::get(url)
        .id(id)
        .status(status, body)
        .timings(Timings {
            dns_ms: Some(1.0),
            connect_ms: Some(2.0),
            tls_ms: Some(3.0),
            send_ms: Some(0.5),
            wait_ms: Some(10.0),
            receive_ms: Some(4.0),
            total_ms: Some(21.0),
            ..Timings::default()
        })
        .build();
    f.started_at_us = 1_000_000 + at_ms * 1000;
    f.go = crate::go::classify("GET", url, &Default::default());
    f
}

fn lay_out(flows: &[Flow]) -> (Summary, Timeline) {
    let private = PrivatePatterns::none();
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::Linux,
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    };
    let s = summarize(flows, &ctx, RunEvidence::default());
    let t = timeline(flows, &ctx, &s);
    (s, t)
}

#[test]
fn rows_share_one_axis_in_start_order() {
    let flows = [
        flow(2, 30, "https://b.test/m.test/x/@v/v1.0.0.zip", 200),
        flow(1, 0, "https://a.test/m.test/x/@v/list", 200),
    ];
    let (_, t) = lay_out(&flows);
    assert_eq!(t.start_us, 1_000_000);
    let ids: Vec<u64> = t.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!((t.rows[0].at_ms, t.rows[1].at_ms), (0.0, 30.0));
    assert_eq!(t.span_ms, 51.0);
    assert_eq!(
        t.rows[1].phases[PHASES.iter().position(|p| *p == "tls").unwrap()],
        Some(3.0)
    );
    assert_eq!(
        t.rows[0].phases[0], None,
        "no blocked phase: none, not zero"
    );
    assert_eq!((t.rows[0].go, t.rows[1].go), (Some("list"), Some("zip")));
    assert_eq!(t.rows[1].module.as_deref(), Some("m.test/x@v1.0.0"));
    assert!(t.rows.iter().all(|r| !r.failed));
}

#[test]
fn failed_and_retried_flows_are_marked() {
    let mut broken = flow(2, 5, "https://a.test/m.test/x/@v/v1.0.0.info", 200);
    broken.response = None;
    broken.error = Some(crate::flow::FlowError {
        class: ErrorClass::Dns,
        message: "no such host".into(),
    });
    let mut retried = flow(3, 6, "https://a.test/m.test/x/@v/v1.0.0.mod", 200);
    retried.connection.retried = Some(RetryReason::RefusedStream);
    let flows = [
        flow(1, 0, "https://a.test/m.test/x/@v/v1.0.0.zip", 500),
        broken,
        retried,
    ];
    let (s, t) = lay_out(&flows);
    assert!(t.rows[0].failed && t.rows[1].failed && !t.rows[2].failed);
    assert!(t.rows[1].error.as_deref().unwrap().starts_with("dns: "));
    assert!(t.rows[2].retried.is_some());
    for r in &t.rows {
        assert_eq!(r.listed, s.failures.iter().any(|f| f.flow_id == r.id));
    }
    assert!(t.rows[0].listed, "{:?}", s.failures);
    assert!(t.rows[0].diagnosis.is_some());
}
