//! Issue 14, "one redaction for every output": one flow set carrying every kind of secret
//! (each a distinct `SECRET-…` marker), run through every output that writes flows — the
//! headless log line, the `--jsonl` object, the HAR of `--har-out`, the TUI's export, the
//! `run` summary and `report` — and no marker may appear in any of them, while the host, path
//! and the parameters that are not secret still do.
//!
//! A child of `run` so it reaches the summary and `report` the way `run` renders them.

use std::sync::Arc;

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, FlowKind, GoKind, GoRequest};
use crate::har::HarOptions;

/// `--redact-header` in every test of this file.
fn extra() -> Vec<String> {
    vec!["X-Tenant".to_string()]
}

/// Every secret kind, percent-encoded query names, URLs in headers, userinfo in every URL
/// field, secret headers both ways and secrets quoted by error messages and go's own lines.
fn flows() -> Vec<Flow> {
    let list = concat!(
        "https://alice:SECRET-userinfo-1@corp.test/mod/@v/list",
        "?go-get=1&token=SECRET-query-2&%74oken=SECRET-query-3&access%5Ftoken=SECRET-query-4",
        "&Access+Token=SECRET-query-5&a=1;session=SECRET-query-6&%2574oken=SECRET-query-7",
        "&token=SECRET-query-8&TOKEN=SECRET-query-9",
        "&next=https://n:SECRET-nested-10@n.test/&continue=%2Fx%3Ftoken%3DSECRET-nested-11",
        "#access_token=SECRET-fragment-12&state=kept"
    );
    let mut redirect = FlowBuilder::get(list)
        .id(1)
        .req_header("Authorization", "Bearer SECRET-header-13")
        .req_header("X-Tenant", "SECRET-extra-14")
        .req_header("Cookie", "sid=SECRET-cookie-15; pref=SECRET-cookie-16")
        .req_header(
            "Referer",
            "https://r:SECRET-referer-17@ref.test/?token=SECRET-referer-18",
        )
        .req_header("Origin", "https://o:SECRET-origin-19@o.test")
        .req_header("User-Agent", "Go-http-client/2.0")
        .status(302, b"")
        .resp_header("Location", "/next?sig=SECRET-location-20&page=2")
        .resp_header(
            "Content-Location",
            "https://c:SECRET-cl-21@corp.test/x?key=SECRET-cl-22",
        )
        .resp_header(
            "Refresh",
            "5; URL='https://u:SECRET-refresh-23@corp.test/?jwt=SECRET-refresh-24'",
        )
        .resp_header(
            "Link",
            "</p2?access_token=SECRET-link-25>; rel=next, <https://l:SECRET-link-26@corp.test/>; rel=last",
        )
        .resp_header("Set-Cookie", "s=SECRET-setcookie-27; Path=/")
        .resp_header("X-Upstream-Token", "SECRET-resp-28")
        .resp_header("X-Tenant", "SECRET-extra-29")
        .resp_header("X-Debug", "see https://d:SECRET-debug-30@corp.test/?pwd=SECRET-debug-31")
        .build();
    redirect.mapped_to =
        Some("https://m:SECRET-mapped-32@mirror.test/mod/@v/list?apikey=SECRET-mapped-33".into());
    redirect.connection.upstream_mut().via_upstream_proxy =
        Some("http://p:SECRET-proxy-34@proxy.test:3128".into());
    redirect.go = Some(Box::new(GoRequest {
        kind: GoKind::List,
        module: Some("corp.test/mod".into()),
        base: Some("https://b:SECRET-base-35@corp.test".into()),
        ..GoRequest::default()
    }));
    let mut tunnel = FlowBuilder::get("t:SECRET-connect-36@git.test:443")
        .id(2)
        .method("CONNECT")
        .req_header("Proxy-Authorization", "Basic SECRET-proxyauth-37")
        .error(
            ErrorClass::Connect,
            "connecting to t:SECRET-connect-36@git.test:443: connection refused",
        )
        .build();
    tunnel.kind = FlowKind::Tunnel;
    let failed = FlowBuilder::get(
        "https://e:SECRET-error-38@proxy.test/example.com/m/@v/v1.0.0.zip?token=SECRET-error-39",
    )
    .id(3)
    .req_header("Private-Token", "SECRET-echo-40")
    .error(
        ErrorClass::UpstreamReset,
        "https://e:SECRET-error-38@proxy.test/x?token=SECRET-error-39 reset; it said: bad token SECRET-echo-40",
    )
    .build();
    let refused = FlowBuilder::get(
        "https://proxy.test/example.com/m/@v/v1.0.0.info?signature=SECRET-goproxy-41&v=kept",
    )
    .id(4)
    .req_header("X-Tenant", "SECRET-extra-42")
    .status(401, b"no")
    .resp_header(
        "WWW-Authenticate",
        "Bearer realm=\"https://auth.test/token?client_secret=SECRET-challenge-43\"",
    )
    .build();
    let mut all = vec![redirect, tunnel, failed, refused];
    classify_imported(&mut all);
    for (i, f) in all.iter_mut().enumerate() {
        f.started_at_us = 1_700_000_000_000_000 + i64::try_from(i).unwrap_or(0) * 1000;
        f.timings.total_ms = Some(10.0 + i as f64);
    }
    all
}

/// What go printed, with secrets in it too (go quotes the URLs it fetched).
const GO_STDERR: &str = "go: example.com/m@v1.0.0: reading https://proxy.test/example.com/m/@v/v1.0.0.info?signature=SECRET-goproxy-41&v=kept: 401 Unauthorized\n";

/// Every output, by name, over the same flows.
fn outputs() -> Vec<(&'static str, String)> {
    let flows = flows();
    let extra = extra();
    let arcs: Vec<Arc<Flow>> = flows.iter().cloned().map(Arc::new).collect();
    let mut out = Vec::new();

    let lines: Vec<String> = flows
        .iter()
        .map(|f| crate::log::format_line(f, &extra))
        .collect();
    out.push(("log line", lines.join("\n")));

    let json: Vec<String> = flows
        .iter()
        .map(|f| crate::log::json_line(f, Some(&extra)).unwrap())
        .collect();
    out.push(("json line", json.join("\n")));

    let opts = HarOptions {
        extra_redact_headers: extra.clone(),
        ..HarOptions::default()
    };
    let har = crate::har::to_json(&crate::har::to_har(&flows, &opts)).unwrap();
    out.push(("har", har));

    let dir = tempfile::tempdir().unwrap();
    let tui = crate::tui::Config {
        source: crate::tui::Source::Live {
            addr: "127.0.0.1:0".into(),
        },
        har_out: None,
        redact: true,
        redact_headers: extra.clone(),
        private: PrivatePatterns::none(),
        bundle: None,
        utc_offset_s: 0,
        filter: None,
        go_version: None,
    };
    let exported = dir.path().join("export.har");
    crate::tui::write_har(&exported, &arcs, &tui.har_options()).unwrap();
    // It holds traffic: the owner's alone, as --har-out is.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&exported).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "TUI export mode {mode:o}");
    out.push(("tui export", std::fs::read_to_string(&exported).unwrap()));

    let ctx = RunCtx {
        settings: Settings::default(),
        go_version: None,
        go_sum: None,
        private: PrivatePatterns::none(),
        extra_secret_headers: extra.clone(),
    };
    let command: Vec<String> = [
        "go",
        "get",
        "https://x:SECRET-cmd-44@corp.test/mod?token=SECRET-cmd-45",
    ]
    .map(String::from)
    .to_vec();
    let status = <ExitStatus as std::os::unix::process::ExitStatusExt>::from_raw(256);
    let outcome = ctx.outcome(&command, status, GO_STDERR, "");
    let summary = summarize(
        &redacted(&arcs, &ctx),
        &ctx,
        Path::new("/ca/bundle.pem"),
        Some(&outcome),
    );
    out.push(("run summary", summary.render()));

    // `report` on a HAR written with `--no-redact` (or by another tool).
    let verbatim = HarOptions {
        redact: false,
        ..HarOptions::default()
    };
    let raw = dir.path().join("raw.har");
    std::fs::write(
        &raw,
        crate::har::to_json(&crate::har::to_har(&flows, &verbatim)).unwrap(),
    )
    .unwrap();
    let args = ReportArgs {
        har: raw,
        private: None,
        filter: None,
        fail_on: Vec::new(),
        json: false,
        html: None,
        markdown: None,
    };
    let report = report_summary(&args).unwrap();
    out.push(("report", report.render()));
    out.push(("report --json", report.render_json().unwrap()));
    let (summary, timeline) = report_analysis(&args, true).unwrap();
    let page = crate::report::html(&crate::report::Report {
        summary: &summary,
        timeline: timeline.as_ref().unwrap(),
        source: "raw.har",
    })
    .unwrap();
    out.push(("report --html", page));
    out.push((
        "report --markdown",
        crate::report::markdown(&summary, "raw.har"),
    ));
    out
}

#[test]
fn no_output_shows_a_secret_and_every_output_keeps_the_context() {
    let outputs = outputs();
    assert_eq!(outputs.len(), 9);
    // The verbatim HAR the report reads does carry them: the markers are real.
    let raw = crate::har::to_json(&crate::har::to_har(
        &flows(),
        &HarOptions {
            redact: false,
            ..HarOptions::default()
        },
    ))
    .unwrap();
    for n in 1..=43 {
        assert!(
            raw.contains(&format!("-{n}")),
            "marker {n} missing from the flow set"
        );
    }
    // Every output's leaks at once, so a failure names all of them.
    let mut leaks = Vec::new();
    for (name, text) in &outputs {
        assert!(!text.is_empty(), "{name} wrote nothing");
        for (i, _) in text.match_indices("SECRET-") {
            let marker: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            leaks.push(format!("{name}: {marker}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    for (name, text) in &outputs {
        for context in ["proxy.test", "REDACTED"] {
            assert!(text.contains(context), "{name} lost {context:?}:\n{text}");
        }
    }
    // Where whole flows are written, what is not secret is all still there.
    for (name, text) in outputs
        .iter()
        .filter(|(n, _)| !n.starts_with("run summary") && !n.starts_with("report"))
    {
        for context in [
            "corp.test/mod/@v/list?go-get=1&",
            "state=kept",
            "git.test:443",
            "v=kept",
        ] {
            assert!(text.contains(context), "{name} lost {context:?}:\n{text}");
        }
    }
    for (name, text) in outputs
        .iter()
        .filter(|(n, _)| !n.starts_with("report"))
        .filter(|(n, _)| n.contains("json") || n.contains("har") || n.contains("tui"))
    {
        for context in [
            "Go-http-client/2.0",
            "rel=next",
            "page=2",
            "n.test",
            "ref.test",
            "auth.test/token?client_secret=REDACTED",
        ] {
            assert!(text.contains(context), "{name} lost {context:?}:\n{text}");
        }
    }
}
