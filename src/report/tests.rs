//! Tests for the HTML and Markdown renderings: the same numbers as the text (one analysis,
//! three renderers), network text that cannot break out of the page or a table cell, and the
//! one redaction.

use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, Flow, FlowError, Timings};
use crate::go::analysis::{summarize, RunEvidence, Summary};
use crate::go::diagnose::Os;
use crate::go::diagnosis::DiagnoseContext;
use crate::go::private::PrivatePatterns;
use crate::go::timeline::{timeline, Timeline};

use super::Report;

fn flow(id: u64, url: &str, status: u16) -> Flow {
    let body: &[u8] = if url.ends_with(".info") {
        br#"{"Version":"v1.0.0"}"#
    } else {
        b"module corp.test/secret\n"
    };
    let mut f = FlowBuilder::get(url)
        .id(id)
        .status(status, body)
        .timings(Timings {
            wait_ms: Some(5.0),
            total_ms: Some(12.0),
            ..Timings::default()
        })
        .build();
    f.started_at_us += id as i64 * 3000;
    f.go = crate::go::classify("GET", url, &Default::default());
    f
}

/// A capture with a served module, a fallback 404, a private leak, and a failure whose URL
/// and message carry markup, a pipe, a newline, an escape and a secret.
fn capture() -> Vec<Flow> {
    let hostile = "https://a.test/evil.test/x/@v/v1.0.0.info?token=s3cr3t&q=</script><script>alert(1)</script>|x";
    let mut broken = flow(4, hostile, 200);
    broken.response = None;
    broken.error = Some(FlowError {
        class: ErrorClass::Connect,
        message: "refused | <b>bold</b>\n\u{1b}[31mred".into(),
    });
    let flows = [
        flow(1, "https://a.test/example.test/m/@v/v1.0.0.info", 404),
        flow(2, "https://b.test/example.test/m/@v/v1.0.0.info", 200),
        flow(3, "https://b.test/corp.test/secret/@v/v1.0.0.mod", 200),
        broken,
    ];
    flows
        .iter()
        .map(|f| crate::redact::redact_flow(f, &[]))
        .collect()
}

fn analyse(flows: &[Flow]) -> (Summary, Timeline) {
    let private = PrivatePatterns::from_globs("corp.test");
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

fn both() -> (Summary, String, String) {
    let (s, t) = analyse(&capture());
    let report = Report {
        summary: &s,
        timeline: &t,
        source: "capture.har",
    };
    let html = super::html(&report).unwrap();
    let md = super::markdown(&s, "capture.har");
    (s, html, md)
}

#[test]
fn text_html_and_markdown_print_the_same_numbers() {
    let (s, html, md) = both();
    let text = s.render();
    let totals = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("gomitm: ")
                .filter(|l| l.contains(" requests"))
        })
        .unwrap()
        .to_string();
    assert_eq!(totals, s.totals_line());
    assert!(totals.starts_with("4 requests, "), "{totals}");
    assert!(html.contains(&format!(">{totals}</p>")), "{totals}\n{html}");
    assert!(md.contains(&format!("**{totals}**")), "{totals}\n{md}");
    let t = &s.totals;
    assert!(html.contains(&format!(
        "data-requests=\"{}\" data-modules=\"{}\" data-failed=\"{}\" data-bytes=\"{}\"",
        t.requests, t.modules, t.failed, t.bytes
    )));
    // The sections' counts agree too.
    for (name, n) in [("Modules", s.modules.len()), ("Failures", s.failures.len())] {
        assert!(n > 0, "{name}");
        assert!(text.contains(&format!("{name} ({n}):")), "{text}");
        assert!(html.contains(&format!("{name} ({n})</h2>")), "{html}");
        assert!(md.contains(&format!("### {name} ({n})")), "{md}");
    }
    assert!(md.contains(&format!("Private-path leaks ({})", s.leaks.len())));
    assert_eq!(s.leaks.len(), 1);
    // A capture alone: the verdict is what --fail-on any would find.
    assert!(
        html.contains("found: 1 private-path leak and 1 failure"),
        "{html}"
    );
    assert!(
        md.starts_with("## ❌ gomitm: found: 1 private-path leak and 1 failure"),
        "{md}"
    );
}

#[test]
fn network_text_cannot_break_out_of_the_page() {
    let (_, html, _) = both();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<b>bold"), "{html}");
    assert!(!html.contains('\u{1b}'));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the page's own two scripts"
    );
    assert_eq!(html.matches("<script").count(), 2);
    // The data still holds the text, escaped for JSON.
    assert!(html.contains("\\u003c/script\\u003e"), "{html}");
    assert!(!html.contains("s3cr3t"), "redacted like the HAR");
    // Nothing that would make the browser fetch anything.
    for needle in ["http://", "https://"] {
        for (i, _) in html.match_indices(needle) {
            let before = &html[i.saturating_sub(12)..i];
            assert!(
                !before.contains("src=") && !before.contains("href="),
                "an external reference: {}",
                &html[i.saturating_sub(12)..(i + 40).min(html.len())]
            );
        }
    }
}

#[test]
fn markdown_cells_hold_pipes_newlines_and_markup() {
    let (s, _, md) = both();
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(!md.contains("<b>"), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("s3cr3t"), "{md}");
    // Every table row has as many cells as its header.
    let mut header_cells = 0;
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let cells = line.matches(" | ").count() + 1;
        if line.starts_with("| ---") || line.starts_with("| flow") || line.starts_with("| module") {
            header_cells = cells;
        }
        assert_eq!(cells, header_cells, "{line}\n{md}");
        assert!(!line.replace("\\|", "").contains("||"), "{line}");
    }
    let failure_rows = md
        .lines()
        .filter(|l| l.starts_with("| #") && l.contains("error"))
        .count();
    assert_eq!(failure_rows, s.failures.len(), "{md}");
}

#[test]
fn long_tables_fold_into_details() {
    let flows: Vec<Flow> = (1..=12)
        .map(|i| {
            flow(
                i,
                &format!("https://b.test/example.test/m{i}/@v/v1.0.0.info"),
                200,
            )
        })
        .collect();
    let (s, _) = analyse(&flows);
    assert_eq!(s.modules.len(), 12);
    let md = super::markdown(&s, "x.har");
    assert!(md.contains("<details><summary>12 rows"), "{md}");
    assert!(md.contains("</details>"));
    assert!(md.starts_with("## ✅ gomitm: ok"), "{md}");
}

#[test]
fn html_escape_and_script_json() {
    assert_eq!(
        super::html::esc("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    let json = super::html::script_json(r#"{"u":"</script><!--&"}"#);
    assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back["u"], "</script><!--&");
}
