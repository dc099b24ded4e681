//! `gomitm report` on a HAR much larger than what gomitm keeps of it: peak RSS follows the
//! capped bodies it keeps, not the file's size (docs/HAR.md, "Large HARs"), and the report
//! is still complete. Also: a HAR cut off mid-way is refused in words, not in serde's.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Another tool's HAR (no `_gomitm`, so bodies are capped at 1 MiB): `big` entries with
/// bodies of `body` bytes (written as base64) and 100 small ones, of which entry 50 is a 404.
fn write_har(path: &Path, big: usize, body: usize) {
    use base64::Engine;
    let data: Vec<u8> = (0..body).map(|i| (i * 7 % 251) as u8).collect();
    let text = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut f = BufWriter::new(std::fs::File::create(path).unwrap());
    write!(
        f,
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "test"}}, "entries": ["#
    )
    .unwrap();
    for i in 0..big + 100 {
        let (module, status, content) = if i < big {
            (
                format!("example.com/big{i}/@v/v1.0.0.zip"),
                200,
                format!(r#"{{"size": {body}, "text": "{text}", "encoding": "base64"}}"#),
            )
        } else if i == big + 50 {
            (
                "example.com/gone/@v/v1.2.3.info".to_string(),
                404,
                r#"{"size": 9, "text": "not found"}"#.to_string(),
            )
        } else {
            (
                format!("example.com/small{i}/@v/v1.0.0.info"),
                200,
                r#"{"size": 2, "text": "{}"}"#.to_string(),
            )
        };
        let comma = if i == 0 { "" } else { "," };
        write!(
            f,
            r#"{comma}{{"startedDateTime": "2024-01-01T00:00:00Z", "time": 5,
            "request": {{"method": "GET", "url": "https://proxy.golang.org/{module}",
                "httpVersion": "HTTP/1.1", "headers": [{{"name": "User-Agent", "value": "Go-http-client/1.1"}}]}},
            "response": {{"status": {status}, "statusText": "", "httpVersion": "HTTP/1.1",
                "headers": [], "content": {content}}}}}"#
        )
        .unwrap();
    }
    write!(f, "]}}}}").unwrap();
    f.flush().unwrap();
}

/// Runs gomitm to completion, with its peak RSS (see `run_watching_rss`).
fn run_watching_rss(args: &[&str]) -> (Option<i32>, String, String, u64) {
    let mut cmd = Command::new(support::gomitm::binary());
    cmd.args(args).env(
        "GOMITM_CA_DIR",
        std::env::temp_dir().join("gomitm-large-har-unused"),
    );
    support::tools::run_watching_rss(&mut cmd, Duration::from_secs(300))
}

/// 12 bodies of 3 MiB (a 50 MB file): before streaming, the file, its JSON tree and the
/// decoded bodies were all held at once (about 110 MiB peak); now 12 MiB of bodies are kept.
#[test]
fn report_on_a_large_har_keeps_memory_to_what_it_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("large.har");
    write_har(&har, 12, 3 << 20);
    let size = std::fs::metadata(&har).unwrap().len();
    assert!(size > 48 << 20, "the HAR is {size} bytes");

    let (code, out, err, peak_kib) = run_watching_rss(&["report", har.to_str().unwrap()]);
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.starts_with("gomitm: 112 requests"), "{out}");
    assert!(
        out.contains("example.com/gone@v1.2.3") && out.contains("404"),
        "the failure is listed:\n{out}"
    );
    assert!(peak_kib > 0, "could not read gomitm's VmHWM");
    assert!(
        peak_kib < 48 * 1024,
        "peak RSS {peak_kib} KiB for a {size}-byte HAR"
    );
}

#[test]
fn a_cut_off_har_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("cut.har");
    write_har(&har, 0, 0);
    let text = std::fs::read(&har).unwrap();
    std::fs::write(&har, &text[..text.len() / 2]).unwrap();
    let (code, _, err, _) = run_watching_rss(&["report", har.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(err.contains("is not a HAR file"), "{err}");
    assert!(err.contains("the file ends before the HAR does"), "{err}");
    assert!(!err.contains("EOF while parsing"), "serde's wording: {err}");
}
