//! Tests for `import` on odd input any producer may write: a byte order mark, lone UTF-16
//! surrogate escapes, wrapped or unpadded or URL-safe base64, bodies larger than the capture
//! cap, nulls and negative numbers everywhere, versions and addresses in other spellings.
//!
//! A child module of `import` (`#[path]`), so private helpers are reachable. Whole files from
//! Chrome, mitmproxy and Charles are tested in `tests_import_foreign.rs`.

use super::*;
use crate::har::testdata::TestResult;

/// 2024-05-14T09:12:03.417Z
const MAY_14_091203_417: i64 = 1_715_677_923_417_000;

fn response(flow: &Flow) -> Result<&Response, String> {
    flow.response
        .as_ref()
        .ok_or_else(|| format!("flow {} has no response", flow.id))
}

#[test]
fn byte_order_mark_and_lone_surrogates_are_accepted() -> TestResult {
    let charles = include_str!("../../tests/data/har/charles.har");
    assert_eq!(from_json(&format!("\u{feff}{charles}"))?.len(), 5);

    let har = r#"{"log":{"entries":[{"request":{"method":"GET","url":"https://a.test/"},
        "response":{"status":200,"content":{"text":"a\ud83d b\ud83d\ude00 c\udc00 \\ud800 \"q\""}}}]}}"#;
    let flows = from_json(har)?;
    let body = String::from_utf8(response(&flows[0])?.body.data.clone())?;
    assert_eq!(body, "a\u{fffd} b\u{1f600} c\u{fffd} \\ud800 \"q\"");
    assert_eq!(
        replace_lone_surrogates(r#"{"a":"\ud83d\ude00"}"#),
        None,
        "pairs untouched"
    );
    Ok(())
}

#[test]
fn base64_bodies_may_be_wrapped_unpadded_or_url_safe() -> TestResult {
    for text in [
        "UEsDBBQAAAAI\nAAAAIQA=",
        "UEsDBBQAAAAIAAAAIQA",
        "UEsDBBQAAAAI\r\nAAAAIQA=",
    ] {
        let (data, full) = decode_body(text, None, Some("base64"), usize::MAX)?;
        assert_eq!(
            data, b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00",
            "{text:?}"
        );
        assert_eq!(full, 14);
    }
    assert_eq!(
        decode_body("_-8", None, Some("BASE64"), usize::MAX)?.0,
        [0xff, 0xef]
    );
    assert!(decode_body("@@@", None, Some("base64"), usize::MAX).is_err());
    assert_eq!(
        decode_body("plain", None, Some("utf-8"), usize::MAX)?.0,
        b"plain"
    );
    Ok(())
}

#[test]
fn huge_foreign_bodies_are_capped_like_the_proxy_caps_them() -> TestResult {
    let big = "x".repeat(3 * FOREIGN_BODY_CAP);
    let b64 = base64::engine::general_purpose::STANDARD.encode(big.as_bytes());
    for (text, encoding) in [
        (big.as_str(), ""),
        (b64.as_str(), ",\"encoding\":\"base64\""),
    ] {
        let har = format!(
            r#"{{"log":{{"entries":[{{"request":{{"method":"POST","url":"https://a.test/",
            "postData":{{"mimeType":"text/plain","text":"{text}"{encoding}}}}},
            "response":{{"status":200,"content":{{"size":-1,"text":"{text}"{encoding}}}}}}}]}}}}"#
        );
        let flows = from_json(&har)?;
        for body in [&flows[0].request.body, &response(&flows[0])?.body] {
            assert_eq!(body.data.len(), FOREIGN_BODY_CAP);
            assert_eq!(body.total, 3 * FOREIGN_BODY_CAP as u64);
            assert!(body.truncated && body.complete);
        }
    }
    Ok(())
}

#[test]
fn gomitm_own_bodies_are_not_capped_on_import() -> TestResult {
    let big = vec![b'g'; 2 * FOREIGN_BODY_CAP];
    let flow = crate::flow::testing::FlowBuilder::get("https://proxy.golang.org/x/@v/v1.0.0.zip")
        .id(1)
        .status(200, &big)
        .build();
    let text = crate::har::to_json(&crate::har::to_har(
        std::slice::from_ref(&flow),
        &crate::har::testdata::verbatim(),
    ))?;
    assert_eq!(from_json(&text)?[0], flow);
    Ok(())
}

#[test]
fn minimal_entries_with_nulls_negative_numbers_and_unknown_fields() -> TestResult {
    let har = r#"{"log":{"version":null,"creator":null,"_custom":{"x":[1,2]},"entries":[
        {"_anything":{"deep":[null]},"startedDateTime":"2024-05-14T09:12:03.417","time":-1,
         "request":{"method":"GET","url":"https://a.test/x","headers":[{"name":"A","value":null}],
                    "headersSize":-1,"bodySize":-1,"postData":null},
         "response":{"status":204.0,"statusText":null,"headers":null,"content":{"size":-1,"mimeType":null},
                     "bodySize":-1,"_error":null},
         "timings":{"blocked":-1,"dns":-1,"connect":-1,"ssl":-1,"send":-1,"wait":12.5,"receive":null},
         "serverIPAddress":null,"connection":null}]}}"#;
    let flows = from_json(har)?;
    let f = &flows[0];
    assert_eq!(f.started_at_us, MAY_14_091203_417, "no offset: read as UTC");
    assert_eq!(f.request.headers, vec![("A", "")].into());
    let r = response(f)?;
    assert_eq!((r.status, r.body.total, r.body.truncated), (204, 0, false));
    assert_eq!(
        f.timings,
        Timings {
            wait_ms: Some(12.5),
            ..Timings::default()
        },
        "every -1, null and negative is None"
    );
    assert_eq!(
        (f.error.as_ref(), f.connection.upstream.server_addr.as_ref()),
        (None, None)
    );
    Ok(())
}

#[test]
fn versions_and_server_addresses_are_normalised() {
    for (from, to) in [
        ("http/2.0", "HTTP/2"),
        ("HTTP/2.0", "HTTP/2"),
        ("h2", "HTTP/2"),
        ("h3", "HTTP/3"),
        ("h3-29", "HTTP/3"),
        ("http/1.1", "HTTP/1.1"),
        ("HTTP/1.0", "HTTP/1.0"),
        ("", ""),
        ("SPDY/3", "SPDY/3"),
    ] {
        assert_eq!(version_name(from), to, "{from}");
    }
    for (ip, port, want) in [
        ("[2001:db8::1]", None, Some("2001:db8::1")),
        ("[2001:db8::1]", Some(443), Some("[2001:db8::1]:443")),
        ("2001:db8::1", Some(8443), Some("[2001:db8::1]:8443")),
        ("192.0.2.1", Some(80), Some("192.0.2.1:80")),
        ("[2001:db8::1]:443", None, Some("[2001:db8::1]:443")),
        ("113.31.103.132:80", None, Some("113.31.103.132:80")),
        ("  ", Some(1), None),
    ] {
        assert_eq!(server_addr(ip, port).as_deref(), want, "{ip} {port:?}");
    }
}
