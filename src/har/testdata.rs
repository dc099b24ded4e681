//! Shared test fixtures for the HAR tests: flows with every field the export writes, and
//! hand-written HARs shaped like Chrome DevTools' and mitmproxy's.
//!
//! Test-only (`#[cfg(test)]`). Fixtures, not assertions: the tests that use them live next to
//! the code they test. Changing a fixture changes several tests' expectations at once.

use serde_json::Value;

use super::{to_har, to_json, HarOptions};
use crate::flow::testing::FlowBuilder;
use crate::flow::{ConnectionInfo, ErrorClass, Flow, Timings};

pub(super) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(super) fn verbatim() -> HarOptions {
    HarOptions {
        redact: false,
        ..HarOptions::default()
    }
}

pub(super) fn export(
    flows: &[Flow],
    opts: &HarOptions,
) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_str(&to_json(&to_har(flows, opts))?)?)
}

pub(super) fn full_timings() -> Timings {
    Timings {
        blocked_ms: None,
        dns_ms: Some(1.5),
        connect_ms: Some(10.25),
        tls_ms: Some(20.125),
        send_ms: Some(0.5),
        wait_ms: Some(30.0),
        receive_ms: Some(2.0),
        client_tls_ms: Some(3.0),
        total_ms: Some(70.0),
    }
}

pub(super) fn success_flow() -> Flow {
    let mut f = FlowBuilder::get("https://proxy.golang.org/golang.org/x/mod/@v/list")
        .id(1)
        .req_header("User-Agent", "Go-http-client/2.0")
        .status(200, b"v0.1.0\nv0.2.0\n")
        .resp_header("Content-Type", "text/plain; charset=utf-8")
        .timings(full_timings())
        .build();
    f.client_addr = Some("127.0.0.1:50123".into());
    f.connection = ConnectionInfo {
        upstream: std::sync::Arc::new(crate::flow::UpstreamConn {
            server_addr: Some("142.250.74.113:443".into()),
            tls_version: Some("TLSv1.3".into()),
            alpn: Some("h2".into()),
            tls_group: Some("X25519MLKEM768".into()),
            insecure_upstream: true,
            via_upstream_proxy: Some("http://corp-proxy.test:3128".into()),
            server_cert: Some(std::sync::Arc::new(crate::flow::CertSummary {
                subject: "proxy.golang.org".into(),
                issuer: "Corp Inspection CA".into(),
                issuer_org: Some("Corp".into()),
                not_after: "2027-01-01T00:00:00Z".into(),
                chain_len: 1,
                root: "Corp Inspection CA".into(),
                public_root: Some(false),
            })),
        }),
        upstream_conn_id: Some(7),
        reused: false,
        client: std::sync::Arc::new(crate::flow::ClientTls {
            client_tls_version: Some("TLSv1.3".into()),
            client_alpn: Some("h2".into()),
            client_tls_group: Some("x25519".into()),
            client_sni: Some("proxy.golang.org".into()),
        }),
        retried: Some(crate::flow::RetryReason::GoawayUnprocessed),
    };
    if let Some(r) = f.response.as_mut() {
        r.reason = "OK".into();
    }
    f
}

pub(super) fn failed_flow() -> Flow {
    FlowBuilder::get("https://nope.invalid/x/@v/list")
        .id(2)
        .error(ErrorClass::Dns, "lookup nope.invalid: no such host")
        .timings(Timings {
            dns_ms: Some(12.0),
            total_ms: Some(12.0),
            ..Timings::default()
        })
        .build()
}

pub(super) fn tunnel_flow() -> Flow {
    FlowBuilder::get("git.test:443")
        .id(3)
        .tunnel(1200, 34000)
        .timings(Timings {
            dns_ms: Some(1.0),
            connect_ms: Some(2.0),
            total_ms: Some(5000.0),
            ..Timings::default()
        })
        .build()
}

/// Shaped like Chrome DevTools' "Save all as HAR with content".
pub(super) const CHROME_HAR: &str = r#"{
  "log": {
    "version": "1.2",
    "creator": {"name": "WebInspector", "version": "537.36"},
    "pages": [{"startedDateTime": "2024-03-05T10:15:30.100Z", "id": "page_1",
               "title": "https://pkg.go.dev/", "pageTimings": {"onContentLoad": 512.3, "onLoad": 901.7}}],
    "entries": [
      {
        "_initiator": {"type": "other"},
        "_priority": "VeryHigh",
        "_resourceType": "document",
        "cache": {},
        "connection": "241013",
        "pageref": "page_1",
        "request": {
          "method": "GET",
          "url": "https://pkg.go.dev/golang.org/x/mod?tab=versions",
          "httpVersion": "http/2.0",
          "headers": [{"name": ":authority", "value": "pkg.go.dev"},
                      {"name": "accept", "value": "text/html"}],
          "queryString": [{"name": "tab", "value": "versions"}],
          "cookies": [{"name": "x", "value": "y", "path": "/", "domain": ".go.dev",
                       "expires": "2025-01-01T00:00:00.000Z", "httpOnly": false, "secure": true}],
          "headersSize": -1,
          "bodySize": 0
        },
        "response": {
          "status": 200,
          "statusText": "",
          "httpVersion": "http/2.0",
          "headers": [{"name": "content-type", "value": "text/html; charset=utf-8"}],
          "cookies": [],
          "content": {"size": 6, "mimeType": "text/html", "compression": -12,
                      "text": "PGh0bWw+", "encoding": "base64"},
          "redirectURL": "",
          "headersSize": -1,
          "bodySize": 18,
          "_transferSize": 1234,
          "_error": null,
          "_fetchedViaServiceWorker": false
        },
        "serverIPAddress": "[2001:db8::1]",
        "startedDateTime": "2024-03-05T10:15:30.123Z",
        "time": 160.25,
        "timings": {"blocked": 2.5, "dns": 10, "ssl": 40, "connect": 60.5, "send": 0.25,
                    "wait": 80, "receive": 7, "_blocked_queueing": 1.2, "_workerStart": -1}
      },
      {
        "_resourceType": "fetch",
        "cache": {},
        "request": {"method": "GET", "url": "https://nope.invalid/", "httpVersion": "",
                    "headers": [], "queryString": [], "cookies": [], "headersSize": -1,
                    "bodySize": 0},
        "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [],
                     "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"},
                     "redirectURL": "", "headersSize": -1, "bodySize": -1,
                     "_transferSize": 0, "_error": "net::ERR_NAME_NOT_RESOLVED"},
        "serverIPAddress": "",
        "startedDateTime": "2024-03-05T10:15:31.000Z",
        "time": 3.1,
        "timings": {"blocked": 3.1, "dns": -1, "ssl": -1, "connect": -1, "send": 0,
                    "wait": 0, "receive": 0, "_blocked_queueing": -1}
      }
    ]
  }
}"#;

/// Shaped like mitmproxy's `save.har` (addons/savehar.py): nulls, `content: {}`, ssl
/// outside connect, isoformat dates.
pub(super) const MITMPROXY_HAR: &str = r#"{
  "log": {
    "version": "1.2",
    "creator": {"name": "mitmproxy exporthar", "version": "0.1",
                "comment": "mitmproxy version 10.1.5"},
    "pages": [],
    "entries": [
      {
        "startedDateTime": "2024-03-05T10:15:30.250000+00:00",
        "time": 120.5,
        "request": {
          "method": "POST",
          "url": "https://sum.golang.org/lookup/golang.org/x/mod@v0.14.0",
          "httpVersion": "HTTP/1.1",
          "cookies": [],
          "headers": [{"name": "Host", "value": "sum.golang.org"},
                      {"name": "Content-Type", "value": "text/plain"}],
          "queryString": [],
          "headersSize": 52,
          "bodySize": 5,
          "postData": {"mimeType": "text/plain", "text": "hello", "params": []}
        },
        "response": {
          "status": 200,
          "statusText": "OK",
          "httpVersion": "HTTP/1.1",
          "cookies": [{"name": "s", "value": "1", "path": "/", "domain": "",
                       "httpOnly": true, "secure": false}],
          "headers": [{"name": "Content-Type", "value": "text/plain; charset=UTF-8"}],
          "content": {"size": 9, "compression": 0, "mimeType": "text/plain; charset=UTF-8",
                      "text": "go.sum ok"},
          "redirectURL": "",
          "headersSize": 80,
          "bodySize": 9
        },
        "cache": {},
        "timings": {"connect": 45.0, "ssl": 30.0, "send": 0.5, "receive": 15.0, "wait": 30.0},
        "serverIPAddress": "34.107.155.52"
      },
      {
        "startedDateTime": "2024-03-05T10:15:31+00:00",
        "time": 0,
        "request": {"method": "GET", "url": "https://proxy.golang.org/x/@v/list",
                    "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                    "queryString": [], "headersSize": 40, "bodySize": 0},
        "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [],
                     "cookies": [], "content": {}, "redirectURL": "", "headersSize": -1,
                     "bodySize": -1, "_transferSize": 0,
                     "_error": "Connection reset by peer"},
        "cache": {},
        "timings": {"connect": null, "ssl": null, "send": 0, "receive": 0, "wait": 0}
      }
    ]
  }
}"#;
