//! What a 2xx answer contains, as a table: each protocol's good answer raises nothing, each
//! wrong one gets its code; a capture that cannot tell raises nothing.

use super::*;
use crate::flow::testing::FlowBuilder;

fn judged(url: &str, ctype: &str, body: &[u8]) -> Option<Code> {
    let mut f = FlowBuilder::get(url)
        .status(200, body)
        .resp_header("Content-Type", ctype)
        .build();
    f.go = crate::go::classify("GET", url, &Default::default());
    let go = f.go.clone()?;
    let resp = f.response.clone()?;
    judge(&f, &go, &resp).map(|d| d.code)
}

const P: &str = "https://p.test/m.test/x/@v/";
const PORTAL: &[u8] =
    b"<!DOCTYPE html><html><head><title>Wi-Fi login</title></head><body>accept</body></html>";

fn zip_of(name: &str) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let Ok(()) = w.start_file(name, opts) else {
        return Vec::new();
    };
    let _ = w.write_all(b"module m.test/x\n");
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

#[test]
fn good_answers_raise_nothing() {
    let info = format!("{P}v1.0.0.info");
    assert_eq!(
        judged(
            &info,
            "application/json",
            br#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#
        ),
        None
    );
    assert_eq!(judged(&format!("{P}v1.0.0.mod"), "text/plain", b"module m.test/x\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.14.0 // indirect\n)\n"), None);
    assert_eq!(
        judged(
            &format!("{P}v1.0.0.mod"),
            "text/plain",
            b"module \"m.test/x\"\n"
        ),
        None
    );
    assert_eq!(
        judged(
            &format!("{P}v1.0.0.zip"),
            "application/zip",
            &zip_of("m.test/x@v1.0.0/go.mod")
        ),
        None
    );
    assert_eq!(
        judged(
            &format!("{P}list"),
            "text/plain",
            b"v1.0.0\nv1.1.0 2024-01-01T00:00:00Z\n"
        ),
        None
    );
    assert_eq!(judged(&format!("{P}list"), "text/plain", b""), None);
    let record = "5\nm.test/x v1.0.0 h1:AAA=\nm.test/x v1.0.0/go.mod h1:BBB=\n\ngo.sum database tree\n9\nabc=\n\n\u{2014} sum.test xyz=\n";
    assert_eq!(
        judged(
            "https://sum.test/lookup/m.test/x@v1.0.0",
            "text/plain",
            record.as_bytes()
        ),
        None
    );
    assert_eq!(
        judged(
            "https://sum.test/tile/8/0/000.p/2",
            "application/octet-stream",
            &[0u8; 64]
        ),
        None
    );
    assert_eq!(
        judged(
            "https://sum.test/tile/8/0/001",
            "application/octet-stream",
            &[0u8; 8192]
        ),
        None
    );
}

#[test]
fn wrong_contents_get_their_code() {
    use Code as C;
    let info = format!("{P}v1.0.0.info");
    #[rustfmt::skip]
    let rows: Vec<(String, &str, Vec<u8>, Code)> = vec![
        (info.clone(), "text/html; charset=utf-8", PORTAL.to_vec(), C::HtmlInsteadOfData),
        (info.clone(), "text/plain", b"  <html><body>x</body></html>".to_vec(), C::HtmlInsteadOfData),
        (format!("{P}v1.0.0.zip"), "text/html", PORTAL.to_vec(), C::HtmlInsteadOfData),
        ("https://sum.test/lookup/m.test/x@v1.0.0".into(), "text/html", PORTAL.to_vec(), C::HtmlInsteadOfData),
        (info.clone(), "application/json", br#"{"Version":"v1.0.1"}"#.to_vec(), C::InfoVersionMismatch),
        (info.clone(), "application/json", br#"not json"#.to_vec(), C::InvalidInfo),
        (format!("{P}v1.0.0.mod"), "text/plain", b"module other.test/y\n".to_vec(), C::ModPathMismatch),
        (format!("{P}v1.0.0.mod"), "text/plain", b"\x00\x01binary junk here\n".to_vec(), C::InvalidMod),
        (format!("{P}v1.0.0.mod"), "text/plain", b"Service temporarily unavailable\nplease retry\n".to_vec(), C::InvalidMod),
        (format!("{P}v1.0.0.zip"), "application/zip", b"GIF89a.....".to_vec(), C::InvalidZip),
        (format!("{P}v1.0.0.zip"), "application/zip", zip_of("other.test/y@v1.0.0/go.mod"), C::ZipWrongModule),
        (format!("{P}v1.0.0.zip"), "application/zip", zip_of("m.test/x@v1.0.1/go.mod"), C::ZipWrongModule),
        (format!("{P}list"), "text/plain", b"latest\nmain\n".to_vec(), C::InvalidVersionList),
        ("https://sum.test/lookup/m.test/x@v1.0.0".into(), "text/plain", b"not found\n".to_vec(), C::InvalidSumdbAnswer),
        ("https://sum.test/tile/8/0/000.p/2".into(), "application/octet-stream", vec![0u8; 63], C::InvalidSumdbAnswer),
        ("https://git.test/r.git/info/refs?service=git-upload-pack".into(), "text/html", PORTAL.to_vec(), C::GitNotGit),
    ];
    for (url, ctype, body, code) in rows {
        assert_eq!(
            judged(&url, ctype, &body),
            Some(code),
            "{url} {ctype} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(30)])
        );
    }
}

#[test]
fn a_capture_that_cannot_tell_raises_nothing() {
    // The body was not captured (cap 0): nothing to judge.
    let mut f = FlowBuilder::get(&format!("{P}v1.0.0.info"))
        .status(200, b"")
        .build();
    f.go = crate::go::classify("GET", &f.request.url, &Default::default());
    if let Some(r) = f.response.as_mut() {
        r.body.total = 40;
    }
    let (go, resp) = (
        f.go.clone().unwrap_or_default(),
        f.response.clone().unwrap_or_default(),
    );
    assert_eq!(judge(&f, &go, &resp), None);
    // A non-2xx is the status's business, not the content's.
    let mut g = FlowBuilder::get(&format!("{P}v1.0.0.info"))
        .status(404, PORTAL)
        .build();
    g.go = crate::go::classify("GET", &g.request.url, &Default::default());
    let (go, resp) = (
        g.go.clone().unwrap_or_default(),
        g.response.clone().unwrap_or_default(),
    );
    assert_eq!(judge(&g, &go, &resp), None);
}

#[test]
fn the_html_cause_names_the_page_title_and_the_fix_keeps_verification() {
    let url = format!("{P}v1.0.0.info");
    let mut f = FlowBuilder::get(&url)
        .status(200, PORTAL)
        .resp_header("Content-Type", "text/html")
        .build();
    f.go = crate::go::classify("GET", &url, &Default::default());
    let (go, resp) = (
        f.go.clone().unwrap_or_default(),
        f.response.clone().unwrap_or_default(),
    );
    let d = judge(&f, &go, &resp).unwrap_or_else(|| panic!("no diagnosis"));
    assert!(
        d.cause.contains("Wi-Fi login") && d.cause.contains("captive portal"),
        "{}",
        d.cause
    );
    assert!(d.fix.contains("never switch verification off"), "{}", d.fix);
}

/// Issue 14: text quoted from a body into a cause goes through the one terminal rule.
#[test]
fn quoted_body_text_is_terminal_safe() {
    assert_eq!(clip("a\u{1b}[2J\u{202e}b", 80), "a␛[2J<U+202E>b");
    assert_eq!(clip("abcdef", 3), "abc…");
    let page = b"<html><title>Log\x1b[31min \xe2\x80\xae now</title></html>";
    assert_eq!(title(page).as_deref(), Some("Log␛[31min <U+202E> now"));
}

/// go says only "zip: not a valid zip file" for these: each is named as the cause.
#[test]
fn a_zip_answer_that_is_empty_or_not_whole_is_an_invalid_zip() {
    let url = format!("{P}v1.0.0.zip");
    // Without the hasher's word an empty answer says nothing (a record built by hand).
    assert_eq!(judged(&url, "application/zip", b""), None);
    // The whole answer arrived; the hasher found the zip ends early. The captured prefix
    // starts like a good zip of this module (or is empty), so only the hash can tell.
    let good = zip_of("m.test/x@v1.0.0/go.mod");
    for prefix in [&good[..40], &[][..]] {
        let d = judged_with_hash(&url, prefix, true).expect("judged");
        assert_eq!(d.code, Code::InvalidZip, "{d:?}");
        assert!(d.cause.contains("not a whole zip"), "{d:?}");
        // The same bytes cut short on the way are no verdict on the zip.
        let cut = judged_with_hash(&url, prefix, false).map(|d| d.code);
        assert!(
            cut != Some(Code::ZipWrongModule) && cut != Some(Code::InvalidZip),
            "{cut:?}"
        );
    }
}

/// A `.zip` answer of `body` whose hash says the zip ends early, the transfer `complete` or
/// not.
fn judged_with_hash(url: &str, body: &[u8], complete: bool) -> Option<Diagnosis> {
    let mut f = FlowBuilder::get(url)
        .status(200, body)
        .resp_header("Content-Type", "application/zip")
        .build();
    let mut go = crate::go::classify("GET", url, &Default::default())?;
    go.hash = Some(crate::flow::BodyHash {
        not_verified: Some(
            "the zip ends before its end-of-central-directory record (truncated)".into(),
        ),
        outside_prefix: Some(String::new()),
        ..Default::default()
    });
    f.go = Some(go.clone());
    if let Some(r) = f.response.as_mut() {
        r.body.complete = complete;
    }
    let resp = f.response.clone()?;
    judge(&f, &go, &resp)
}

/// go reads the bytes, never the Content-Type: sound answers labelled `text/html` raise
/// nothing, and a labelled page that is not markup at its start is still a page.
#[test]
fn a_label_is_not_the_bytes() {
    let html = "text/html; charset=utf-8";
    let info = br#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#;
    assert_eq!(judged(&format!("{P}v1.0.0.info"), html, info), None);
    assert_eq!(
        judged(&format!("{P}v1.0.0.mod"), html, b"module m.test/x\n"),
        None
    );
    assert_eq!(judged(&format!("{P}list"), html, b"v1.0.0\nv1.1.0\n"), None);
    assert_eq!(
        judged(
            &format!("{P}v1.0.0.zip"),
            html,
            &zip_of("m.test/x@v1.0.0/go.mod")
        ),
        None
    );
    assert_eq!(
        judged(
            &format!("{P}v1.0.0.mod"),
            html,
            b"Please sign in to continue.\n"
        ),
        Some(Code::HtmlInsteadOfData)
    );
    // What is wrong beyond the label keeps its own name.
    assert_eq!(
        judged(&format!("{P}v1.0.0.mod"), html, b"module other.test/y\n"),
        Some(Code::ModPathMismatch)
    );
}

/// `go mod download` caches a go.mod without parsing it: one with no module line (empty,
/// blank, comments, a lone go line) breaks the next command, so it is a wrong answer.
#[test]
fn a_go_mod_without_a_module_line_is_invalid() {
    for body in [&b""[..], b"\n  \n", b"// nothing here\n", b"go 1.21\n"] {
        assert_eq!(
            judged(&format!("{P}v1.0.0.mod"), "text/plain", body),
            Some(Code::InvalidMod),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}
