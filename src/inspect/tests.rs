//! Tests for `body_view` as the TUI sees it: one per kind of body and per way a capture can
//! be odd (empty, truncated, corrupt, a bomb, decoded by a HAR producer), plus the guarantee
//! that no line ever carries a control character.

use super::decode::tests::{brotli, gzip, raw_deflate, zlib};
use super::zip::tests::{deflated, module_zip, GO_MOD};
use super::*;

fn complete(data: &[u8]) -> BodyCapture {
    BodyCapture {
        data: data.to_vec(),
        total: data.len() as u64,
        truncated: false,
        complete: true,
    }
}

fn headers(pairs: &[(&str, &str)]) -> Headers {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn view(pairs: &[(&str, &str)], data: &[u8], path: &str) -> BodyView {
    body_view(&headers(pairs), &complete(data), path)
}

const INFO: &[u8] = br#"{"Version":"v0.14.0","Time":"2023-10-26T17:01:51Z","Origin":{"VCS":"git","URL":"https://go.googlesource.com/mod","Ref":"refs/tags/v0.14.0"}}"#;

fn assert_safe(v: &BodyView) {
    for line in std::iter::once(&v.summary).chain(&v.lines) {
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}

#[test]
fn empty_and_uncaptured_bodies() {
    assert_eq!(view(&[], b"", "/").summary, "empty");
    let none = BodyCapture {
        data: vec![],
        total: 5 << 20,
        truncated: true,
        complete: true,
    };
    let v = body_view(&Default::default(), &none, "/");
    assert_eq!(v.summary, "5.0MiB, none captured");
    assert!(v.lines.is_empty());
}

#[test]
fn gzip_json_is_decoded_and_pretty_printed_in_key_order() {
    let body = gzip(INFO);
    let v = view(
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &body,
        "/golang.org/x/mod/@v/v0.14.0.info",
    );
    assert_eq!(
        v.summary,
        format!("gzip → JSON, {}B ({}B decoded)", body.len(), INFO.len())
    );
    assert_eq!(
        v.lines,
        [
            "{",
            r#"  "Version": "v0.14.0","#,
            r#"  "Time": "2023-10-26T17:01:51Z","#,
            r#"  "Origin": {"#,
            r#"    "VCS": "git","#,
            r#"    "URL": "https://go.googlesource.com/mod","#,
            r#"    "Ref": "refs/tags/v0.14.0""#,
            "  }",
            "}",
        ]
    );
}

#[test]
fn every_encoding_reaches_the_same_view() {
    let want = view(&[], INFO, "/x/@v/v1.0.0.info").lines;
    for (enc, data) in [
        ("gzip", gzip(INFO)),
        ("deflate", zlib(INFO)),
        ("deflate", raw_deflate(INFO)),
        ("br", brotli(INFO)),
        ("deflate, br", brotli(&zlib(INFO))),
    ] {
        let v = view(&[("content-encoding", enc)], &data, "/x/@v/v1.0.0.info");
        assert_eq!(v.lines, want, "{enc}");
        assert!(v.summary.contains("→ JSON"), "{enc}: {}", v.summary);
    }
}

#[test]
fn json_is_sniffed_without_a_content_type_and_invalid_json_is_text() {
    assert!(view(&[], b"[1, 2]", "/api").summary.starts_with("JSON"));
    let v = view(&[("content-type", "application/json")], b"{oops", "/api");
    assert_eq!(v.summary, "text, 5B; not valid JSON: shown as text");
    assert_eq!(v.lines, ["{oops"]);
}

#[test]
fn text_bodies_of_the_go_endpoints() {
    let v = view(
        &[("content-type", "text/plain; charset=utf-8")],
        GO_MOD,
        "/example.com/m/@v/v1.0.0.mod",
    );
    assert_eq!(v.summary, format!("text, {}B", GO_MOD.len()));
    assert_eq!(v.lines[0], "module example.com/m");
    let v = view(&[], b"v0.1.0\nv0.2.0\n", "/example.com/m/@v/list");
    assert_eq!(v.lines, ["v0.1.0", "v0.2.0"]);
    let lookup = b"20\ngolang.org/x/mod v0.14.0 h1:abc=\ngolang.org/x/mod v0.14.0/go.mod h1:def=\n\ngo.sum database tree\n123\nhash=\n\n\xe2\x80\x94 sum.golang.org Az3g\n";
    let v = view(&[], lookup, "/lookup/golang.org/x/mod@v0.14.0");
    assert!(v.summary.starts_with("text,"), "{}", v.summary);
    assert_eq!(
        v.lines.last().map(String::as_str),
        Some("— sum.golang.org Az3g")
    );
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let evil = b"title\x1b]0;owned\x07\n\x1b[2J\x1b[Hred\x1b[31m\rgone\tTAB\x9b\n";
    let v = view(&[("content-type", "text/plain")], evil, "/");
    assert_eq!(
        v.lines,
        ["title␛]0;owned␇", "␛[2J␛[Hred␛[31m␍gone    TAB\u{fffd}"]
    );
    assert_safe(&v);
    let v = view(&[], "{\"k\":\"\\u001b[31m \u{202e}\"}".as_bytes(), "/");
    assert_eq!(v.lines[1], "  \"k\": \"\\u001b[31m <U+202E>\"");
    assert_safe(&v);
}

#[test]
fn binary_is_hex_dumped_and_bounded() {
    let v = view(
        &[("content-type", "application/octet-stream")],
        &[0, 1, 2, 0xff],
        "/x",
    );
    assert_eq!(v.summary, "binary, 4B (hex)");
    assert_eq!(
        v.lines,
        [
            "00000000  00 01 02 ff                                       |....|",
            "00000004"
        ]
    );
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let v = view(&[], &big, "/tile/8/0/x001/234");
    assert_eq!(v.summary, "binary, 97.7KiB (hex of the first 16.0KiB)");
    assert_eq!(v.lines.len(), 1024);
    assert!(v.lines[1023].starts_with("00003ff0  "));
}

#[test]
fn a_truncated_capture_says_how_much_was_kept() {
    let data = vec![b'x'; 1 << 20];
    let body = BodyCapture {
        data,
        total: 5 << 20,
        truncated: true,
        complete: true,
    };
    let v = body_view(&headers(&[("content-type", "text/plain")]), &body, "/");
    assert_eq!(v.summary, "text, 1.0MiB captured of 5.0MiB (truncated)");

    let numbers: String = (0..20_000).map(|i| format!("{i},")).collect();
    let json = format!("[{numbers}").into_bytes();
    let gz = gzip(&json);
    let cut = BodyCapture {
        data: gz[..gz.len() / 2].to_vec(),
        total: gz.len() as u64,
        truncated: true,
        complete: true,
    };
    let v = body_view(
        &headers(&[
            ("content-encoding", "gzip"),
            ("content-type", "application/json"),
        ]),
        &cut,
        "/",
    );
    assert!(
        v.summary.starts_with(&format!(
            "gzip → JSON, {} captured of {} (truncated) (",
            crate::units::format_bytes(gz.len() as u64 / 2),
            crate::units::format_bytes(gz.len() as u64)
        )),
        "{}",
        v.summary
    );
    assert!(
        v.summary.contains("decoded as far as the capture goes"),
        "{}",
        v.summary
    );
    assert!(v.summary.contains("JSON cut short"), "{}", v.summary);
    assert_eq!(v.lines[1], "  0,");
}

#[test]
fn corrupt_gzip_falls_back_to_the_bytes_as_captured() {
    let mut bad = gzip(b"hello hello hello hello");
    bad.truncate(10);
    bad.extend([0xff; 10]);
    let v = view(&[("content-encoding", "gzip")], &bad, "/");
    assert!(
        v.summary.starts_with("binary, 20B (hex); not gzip data"),
        "{}",
        v.summary
    );
    assert_safe(&v);
}

#[test]
fn har_bodies_stored_decoded_under_a_gzip_header_still_show() {
    let v = view(
        &[
            ("content-encoding", "gzip"),
            ("content-type", "application/json"),
        ],
        INFO,
        "/x/@v/v0.14.0.info",
    );
    assert_eq!(
        v.summary,
        format!(
            "JSON, {}B; not gzip data (reads as plain text): shown as received",
            INFO.len()
        )
    );
    assert_eq!(v.lines[1], r#"  "Version": "v0.14.0","#);
}

#[test]
fn a_decompression_bomb_is_cut_at_4_mib() {
    let bomb = gzip(&vec![b'a'; 40 << 20]);
    let v = view(&[("content-encoding", "gzip")], &bomb, "/");
    assert!(
        v.summary.starts_with(&format!(
            "gzip → text, {} (4.0MiB decoded); decoded output cut at 4.0MiB",
            crate::units::format_bytes(bomb.len() as u64)
        )),
        "{}",
        v.summary
    );
    assert_eq!(v.lines.len(), 1);
}

#[test]
fn a_module_zip_lists_its_files_and_shows_its_go_mod() {
    let zip = module_zip(deflated());
    let v = view(
        &[("content-type", "application/zip")],
        &zip,
        "/example.com/m/@v/v1.0.0.zip",
    );
    assert_eq!(
        v.summary,
        format!(
            "zip: 4 files, {}",
            crate::units::format_bytes(zip.len() as u64)
        )
    );
    assert_eq!(v.lines[0], "4 files, 177B uncompressed");
    assert_eq!(v.lines[1], "     size  method   name");
    assert_eq!(
        v.lines[3],
        "      64B  deflate  example.com/m@v1.0.0/go.mod"
    );
    let at = v
        .lines
        .iter()
        .position(|l| l == "example.com/m@v1.0.0/go.mod:")
        .unwrap();
    assert_eq!(
        v.lines[at + 1..],
        [
            "module example.com/m",
            "",
            "go 1.21",
            "",
            "require golang.org/x/mod v0.14.0"
        ]
    );
}

#[test]
fn a_truncated_module_zip_is_walked_and_says_so() {
    let zip = module_zip(deflated());
    let body = BodyCapture {
        data: zip[..zip.len() - 120].to_vec(),
        total: zip.len() as u64,
        truncated: true,
        complete: true,
    };
    let v = body_view(&Default::default(), &body, "/example.com/m/@v/v1.0.0.zip");
    assert!(v.summary.starts_with("zip: 4 files, "), "{}", v.summary);
    assert!(
        v.summary
            .contains("(truncated); central directory not captured"),
        "{}",
        v.summary
    );
    assert!(
        v.lines[0].starts_with("4 files in the captured part, "),
        "{}",
        v.lines[0]
    );
    assert!(v.lines.iter().any(|l| l == "module example.com/m"));
}

#[test]
fn an_error_page_on_a_zip_path_is_text() {
    let v = view(
        &[("content-type", "text/plain")],
        b"not found: example.com/m@v9.9.9: invalid version",
        "/example.com/m/@v/v9.9.9.zip",
    );
    assert_eq!(v.summary, "text, 48B; not a zip archive");
}

#[test]
fn git_smart_http_bodies_show_pkt_lines() {
    let body = b"001e# service=git-upload-pack\n0000003e95dcfa3633004da0049d3d0fa03f80589cbcaf31 HEAD\0agent=git/2\n0000";
    let v = view(
        &[(
            "content-type",
            "application/x-git-upload-pack-advertisement",
        )],
        body,
        "/repo.git/info/refs",
    );
    assert_eq!(
        v.summary,
        format!("git pkt-line: 4 packets, {}B", body.len())
    );
    assert_eq!(
        v.lines[2],
        "003e 95dcfa3633004da0049d3d0fa03f80589cbcaf31 HEAD␀agent=git/2"
    );
}

#[test]
fn an_incomplete_body_is_flagged() {
    let body = BodyCapture {
        data: b"partial".to_vec(),
        total: 7,
        truncated: false,
        complete: false,
    };
    let v = body_view(&Default::default(), &body, "/");
    assert_eq!(
        v.summary,
        "text, 7B; body incomplete (cut short or still arriving)"
    );
}

#[test]
fn random_bytes_under_any_headers_are_safe() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let types = [
        "application/json",
        "text/plain",
        "application/zip",
        "application/x-git-upload-pack-result",
        "",
    ];
    for round in 0..200 {
        let len = (next() % 3000) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let ct = types[round % types.len()];
        let enc = ["", "gzip", "br", "deflate"][round % 4];
        let v = view(
            &[("content-type", ct), ("content-encoding", enc)],
            &data,
            "/m/@v/v1.zip",
        );
        assert_safe(&v);
        assert!(v.lines.len() <= MAX_LINES + 10);
    }
}

/// Rough costs of one `body_view` call on the largest bodies it is built for. Run with
/// `cargo test --lib inspect::tests::perf_figures -- --ignored --nocapture`; the bounds are
/// loose (a shared CI machine) and only catch a change of complexity.
#[test]
#[ignore]
fn perf_figures() {
    use std::io::Write;
    use std::time::Instant;
    let time = |label: &str, f: &dyn Fn() -> BodyView| {
        let start = Instant::now();
        let v = f();
        let took = start.elapsed();
        println!("{label}: {took:?}, {} lines; {}", v.lines.len(), v.summary);
        assert!(took.as_secs() < 5, "{label}");
    };
    let items: String = (0..60_000)
        .map(|i| format!(r#"{{"Path":"example.com/m{i}","Version":"v1.{i}.0"}},"#))
        .collect();
    let json = format!("[{}{{}}]", items).into_bytes();
    let gz = gzip(&json);
    let enc = [
        ("content-encoding", "gzip"),
        ("content-type", "application/json"),
    ];
    time("gzip JSON 4 MiB", &|| view(&enc, &gz, "/"));
    let bomb = gzip(&vec![0u8; 64 << 20]);
    time("gzip bomb 64 MiB", &|| {
        view(&[("content-encoding", "gzip")], &bomb, "/")
    });
    let random: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    time("binary 1 MiB", &|| view(&[], &random, "/"));
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..2000 {
        w.start_file(format!("example.com/m@v1.0.0/pkg{i}/file.go"), deflated())
            .unwrap();
        w.write_all(format!("package pkg{i}\n").repeat(20).as_bytes())
            .unwrap();
    }
    let zip = w.finish().unwrap().into_inner();
    time("zip 2000 files", &|| view(&[], &zip, "/m/@v/v1.0.0.zip"));
    let cut = BodyCapture {
        data: zip[..zip.len() * 9 / 10].to_vec(),
        total: zip.len() as u64,
        truncated: true,
        complete: true,
    };
    time("zip 2000 files, truncated", &|| {
        body_view(&Default::default(), &cut, "/m/@v/v1.0.0.zip")
    });
}
