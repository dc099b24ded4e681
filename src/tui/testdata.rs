//! Deterministic flows and states for the TUI's state and rendering tests.

use std::sync::Arc;

use super::config::{Config, Source};
use super::state::{Action, State};
use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, Flow, FlowState, Timings};
use crate::go::private::PrivatePatterns;

pub const T0: i64 = 1_700_000_000_000_000;

pub fn cfg(source: Source) -> Config {
    Config {
        source,
        har_out: None,
        redact: true,
        redact_headers: Vec::new(),
        private: PrivatePatterns::none(),
        bundle: None,
        utc_offset_s: 0,
        filter: None,
        go_version: None,
    }
}

pub fn live() -> Config {
    cfg(Source::Live {
        addr: "127.0.0.1:8080".into(),
    })
}

pub fn timings(total: f64) -> Timings {
    Timings {
        dns_ms: Some(total * 0.1),
        connect_ms: Some(total * 0.05),
        tls_ms: Some(total * 0.2),
        send_ms: Some(total * 0.05),
        wait_ms: Some(total * 0.4),
        receive_ms: Some(total * 0.2),
        client_tls_ms: Some(3.0),
        total_ms: Some(total),
        ..Timings::default()
    }
}

fn finish(mut b: FlowBuilder, id: u64, total: f64) -> Flow {
    b = b.id(id).req_header("User-Agent", "Go-http-client/1.1");
    let mut f = b.timings(timings(total)).build();
    f.started_at_us = T0 + id as i64 * 125_000;
    f.go = crate::go::classify(&f.request.method, &f.request.url, &f.request.headers);
    f.tool = crate::go::client_tool(&f.request.headers);
    f.client_addr = Some("127.0.0.1:50000".into());
    f.connection.upstream_mut().server_addr = Some("127.0.0.1:8443".into());
    f.connection.upstream_mut().tls_version = Some("TLSv1.3".into());
    f.connection.upstream_mut().alpn = Some("h2".into());
    f.connection.client_mut().client_tls_version = Some("TLSv1.3".into());
    f.connection.client_mut().client_alpn = Some("h2".into());
    f.connection.upstream_mut().tls_group = Some("X25519MLKEM768".into());
    f.connection.client_mut().client_tls_group = Some("x25519".into());
    f.connection.client_mut().client_sni = Some(f.host().into());
    f.connection.upstream_conn_id = Some(1);
    f.connection.reused = id > 1;
    f
}

const MOD: &str = "https://goproxy.test/example.test/hello/@v";

/// Go and non-Go flows, answered, failed and in flight, with fixed ids and times.
pub fn mixed() -> Vec<Flow> {
    let zip_body = vec![b'P'; 64];
    let mut in_flight = finish(
        FlowBuilder::get("https://goproxy.test/example.test/big/@v/v2.0.0.zip"),
        11,
        0.0,
    );
    in_flight.state = FlowState::InFlight;
    in_flight.timings = Timings {
        dns_ms: Some(1.0),
        connect_ms: Some(1.0),
        tls_ms: Some(4.0),
        ..Timings::default()
    };
    let mut tunnel = finish(
        FlowBuilder::get("https://blind.test:443").tunnel(1200, 5400),
        12,
        900.0,
    );
    tunnel.request_mut().url = "blind.test:443".into();
    tunnel.go = None;
    vec![
        finish(
            FlowBuilder::get(&format!("{MOD}/list")).status(200, b"v1.0.0\n"),
            1,
            42.0,
        ),
        finish(
            FlowBuilder::get(&format!("{MOD}/v1.0.0.info"))
                .status(
                    200,
                    br#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#,
                )
                .resp_header("Content-Type", "application/json"),
            2,
            12.5,
        ),
        finish(
            FlowBuilder::get(&format!("{MOD}/v1.0.0.mod"))
                .status(200, b"module example.test/hello\n"),
            3,
            8.0,
        ),
        finish(
            FlowBuilder::get(&format!("{MOD}/v1.0.0.zip"))
                .status(200, &zip_body)
                .resp_header("Content-Type", "application/zip"),
            4,
            250.0,
        ),
        finish(
            FlowBuilder::get("https://sum.test/lookup/example.test/hello@v1.0.0")
                .status(200, b"123\n"),
            5,
            30.0,
        ),
        finish(
            FlowBuilder::get("https://a.test/example.test/missing/@v/list")
                .status(404, b"not found: example.test/missing")
                .resp_header("Content-Type", "text/plain"),
            6,
            15.0,
        ),
        finish(
            FlowBuilder::get("https://git.test/hello?go-get=1").status(200, b"<html></html>"),
            7,
            20.0,
        ),
        finish(
            FlowBuilder::get("https://nowhere.test/x.test/y/@v/list")
                .error(ErrorClass::Dns, "lookup nowhere.test: no such host"),
            8,
            3.0,
        ),
        finish(
            FlowBuilder::get("https://tls.test/x.test/z/@v/v1.0.0.mod").error(
                ErrorClass::UpstreamTls,
                "invalid peer certificate: UnknownIssuer",
            ),
            9,
            6.0,
        ),
        finish(
            FlowBuilder::get("https://git.test/hello.git/git-upload-pack")
                .method("POST")
                .req_body(b"0032want 0123456789abcdef\n0000")
                .status(500, b"internal error"),
            10,
            70.0,
        ),
        in_flight,
        tunnel,
    ]
}

/// A live state of `w`×`h` holding `flows`, at a fixed clock.
pub fn state_with(cfg: Config, flows: Vec<Flow>, w: u16, h: u16) -> State {
    let mut s = State::new(cfg, (w, h));
    s.update(Action::Tick {
        now_us: T0 + 2_000_000,
        mono_ms: 1,
    });
    for f in flows {
        s.update(Action::Flow(Arc::new(f)));
    }
    s
}

/// `n` plain flows to `host-{i % hosts}.test`.
pub fn many(n: u64, hosts: u64) -> Vec<Flow> {
    (1..=n)
        .map(|i| {
            let mut f = FlowBuilder::get(&format!("https://host-{}.test/p/{i}", i % hosts))
                .id(i)
                .status(200, b"")
                .build();
            f.started_at_us = T0 + i as i64 * 1000;
            f
        })
        .collect()
}
