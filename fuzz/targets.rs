//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (`fuzz_targets/*.rs`) and the
//! main crate's replay test (`tests/fuzz_smoke.rs`, which includes this file by `#[path]`), so
//! CI runs exactly what libFuzzer runs. Each function takes arbitrary bytes and panics only
//! when gomitm breaks a promise: a panic inside the library, or a property below that fails.
//!
//! Properties checked beyond "no panic":
//! - filter: the `Display` form of a parsed filter parses back to an equal filter, and
//!   displaying that gives the same text; error messages render.
//! - rules: error messages render; a loaded rule set can be asked about a flow.
//! - classify: the same request classifies the same way twice, whatever the header order.
//! - har: a HAR that imports exports again and re-imports to as many flows, with the same ids,
//!   methods and statuses.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use gomitm::filter::Filter;
use gomitm::flow::{Flow, Response};
use gomitm::har::{from_json, to_har, to_json, HarOptions};
use gomitm::redact::{redact_flow, redact_text, redact_url};
use gomitm::rules::RuleSet;

/// Inputs beyond this are cut: the parsers are linear or close to it, and a fuzzer that spends
/// its time on megabyte inputs finds nothing more.
const MAX_INPUT: usize = 64 * 1024;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(&data[..data.len().min(MAX_INPUT)]).ok()
}

/// A flow with something in every field a filter or rule can look at.
pub fn sample_flow() -> Flow {
    let mut flow = Flow {
        id: 7,
        started_at_us: 1_700_000_000_000_000,
        client_addr: Some("127.0.0.1:50000".into()),
        tool: Some(gomitm::flow::ClientTool::Go),
        ..Flow::default()
    };
    flow.request_mut().method = "GET".into();
    flow.request_mut().url = "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip?x=1".into();
    flow.request_mut().http_version = "HTTP/2".into();
    flow.request_mut().headers = vec![
        ("User-Agent", "Go-http-client/2.0"),
        ("Authorization", "Bearer t"),
    ]
    .into();
    flow.request_mut().body.data = b"hello".to_vec();
    flow.request_mut().body.total = 5;
    let mut resp = Response {
        status: 404,
        reason: "Not Found".into(),
        http_version: "HTTP/2".into(),
        headers: vec![("Content-Type", "text/plain; charset=utf-8")].into(),
        ..Response::default()
    };
    resp.body.data = b"not found: golang.org/x/text@v0.14.0".to_vec();
    resp.body.total = resp.body.data.len() as u64;
    flow.response = Some(resp);
    flow.timings.total_ms = Some(12.5);
    flow.go = gomitm::go::classify(
        &flow.request.method,
        &flow.request.url,
        &flow.request.headers,
    );
    flow
}

/// `Filter::parse`, the `Display` round trip, and matching.
pub fn filter(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let parsed = match Filter::parse(text) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let shown = parsed.to_string();
    let again = Filter::parse(&shown)
        .unwrap_or_else(|e| panic!("{text:?} displays as {shown:?}, which does not parse: {e}"));
    assert_eq!(
        parsed, again,
        "{text:?} displays as {shown:?}, which parses differently"
    );
    assert_eq!(
        again.to_string(),
        shown,
        "display is not stable for {text:?}"
    );
    let flow = sample_flow();
    let _ = parsed.matches(&flow);
    let _ = parsed.matches(&Flow::default());
    let _ = parsed.needs_response();
}

/// `RuleSet::parse` (the rules file loader) and asking the result about a flow.
pub fn rules(data: &[u8]) {
    let Some(text) = text(data) else { return };
    // A base directory that does not exist: `map_local` paths are checked, never read.
    match RuleSet::parse(text, Path::new("/nonexistent/gomitm-fuzz")) {
        Ok(set) => {
            let flow = sample_flow();
            let _ = set.for_request(&flow);
            let _ = set.for_response(&flow);
            let _ = set.no_intercept(&gomitm::rules::connect_stub("proxy.golang.org", 443));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// `go::classify` and `go::client_tool` on a request made of the input: the first line is the
/// method, the second the URL, each further line a `name: value` header.
pub fn classify(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("");
    let url = lines.next().unwrap_or("");
    let headers: gomitm::flow::Headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap_or((l, ""));
            (n.to_string(), v.trim().to_string())
        })
        .collect();
    let first = gomitm::go::classify(method, url, &headers);
    let second = gomitm::go::classify(method, url, &headers);
    assert_eq!(first, second, "classify is not deterministic for {text:?}");
    let _ = gomitm::go::client_tool(&headers);
    // The redaction functions take the same kind of input (URLs and header names).
    let _ = redact_url(url);
    let _ = redact_text(text);
    let _ = gomitm::redact::is_secret_name(method);
}

/// `har::from_json`, then export and import again.
pub fn har(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(flows) = from_json(text) else { return };
    let verbatim = HarOptions {
        redact: false,
        ..HarOptions::default()
    };
    let json = to_json(&to_har(flows.iter(), &verbatim)).expect("an imported HAR exports");
    let back = from_json(&json)
        .unwrap_or_else(|e| panic!("gomitm's export of an imported HAR does not import: {e}"));
    assert_eq!(back.len(), flows.len());
    // docs/HAR.md: a gomitm HAR written without redaction reads back into the same flows.
    for (a, b) in flows.iter().zip(&back) {
        assert_eq!(a, b, "an imported flow changed on export and re-import");
    }
    // Redacted export and the JSON-lines redaction take any flow.
    let _ = to_json(&to_har(flows.iter(), &HarOptions::default()));
    for f in flows.iter().take(8) {
        let _ = redact_flow(f, &[]);
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test.
pub const TARGETS: [(&str, Target); 4] = [
    ("filter", filter),
    ("rules", rules),
    ("classify", classify),
    ("har", har),
];
