//! Tests for `import` on other tools' HAR files: hand-written files under `tests/data/har/` in
//! the shapes Chrome DevTools, mitmproxy's `savehar` and Charles write, damaged copies of them,
//! and the typed errors for files that cannot be read. Odd details any producer may write
//! (BOM, lone surrogates, wrapped base64, huge bodies) are in `tests_import_lenient.rs`.
//!
//! A child module of `import` (`#[path]`), so private helpers are reachable. The imported
//! bodies are also put through `inspect::body_view`, the way `gomitm open` shows them.

use super::*;
use crate::har::testdata::TestResult;
use crate::inspect::body_view;

const CHROME: &str = include_str!("../../tests/data/har/chrome.har");
const MITMPROXY: &str = include_str!("../../tests/data/har/mitmproxy.har");
const CHARLES: &str = include_str!("../../tests/data/har/charles.har");

/// 2024-05-14T09:12:03.417Z
const MAY_14_091203_417: i64 = 1_715_677_923_417_000;

fn response(flow: &Flow) -> Result<&Response, String> {
    flow.response
        .as_ref()
        .ok_or_else(|| format!("flow {} has no response", flow.id))
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    crate::flow::header_value(headers, name)
}

fn path_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/")
}

/// What `gomitm open` would show for the response body.
fn shown(flow: &Flow) -> Result<crate::inspect::BodyView, String> {
    let r = response(flow)?;
    Ok(body_view(&r.headers, &r.body, path_of(&flow.request.url)))
}

#[test]
fn chrome_devtools_har() -> TestResult {
    let flows = from_json(CHROME)?;
    assert_eq!(flows.len(), 7);
    assert!(flows.iter().enumerate().all(|(i, f)| f.id == i as u64 + 1));
    assert!(flows
        .iter()
        .all(|f| f.state == FlowState::Done && f.kind == FlowKind::Http));

    let page = &flows[0];
    assert_eq!(
        (page.request.method.as_ref(), page.request.url.as_str()),
        ("GET", "https://pkg.go.dev/golang.org/x/mod")
    );
    assert_eq!(page.request.http_version, "HTTP/2", "http/2.0 is HTTP/2");
    assert_eq!(
        page.request.headers.get(0),
        Some((":authority", "pkg.go.dev"))
    );
    assert_eq!(page.started_at_us, MAY_14_091203_417);
    let resp = response(page)?;
    assert_eq!((resp.status, resp.http_version.as_ref()), (200, "HTTP/2"));
    assert!(resp.body.data.starts_with(b"<!DOCTYPE html>\n"));
    assert_eq!((resp.body.total, resp.body.truncated), (100, false));
    assert_eq!(
        page.timings,
        Timings {
            blocked_ms: Some(3.212),
            dns_ms: Some(11.894),
            connect_ms: Some(12.846),
            tls_ms: Some(27.031),
            send_ms: Some(0.512),
            wait_ms: Some(84.27),
            receive_ms: Some(5.402),
            client_tls_ms: None,
            total_ms: Some(145.166_999_999_999_97),
        },
        "connect has ssl taken out"
    );
    assert_eq!(
        page.connection.upstream.server_addr.as_deref(),
        Some("[2600:1901:0:f535::]:443"),
        "brackets kept for the port Chrome puts in `connection`"
    );
    assert_eq!(
        page.connection.upstream_conn_id,
        Some(41268),
        "from _connectionId"
    );
    // Chrome stores bodies decoded but keeps `content-encoding: br`.
    let view = shown(page)?;
    assert_eq!(
        view.summary,
        "text, 100B; not br data (reads as plain text): shown as received"
    );
    assert_eq!(view.lines[0], "<!DOCTYPE html>");

    let list = &flows[1];
    assert_eq!(list.request.http_version, "HTTP/3", "h3 is HTTP/3");
    assert_eq!(
        response(list)?.body.data,
        b"v0.12.0\nv0.13.0\nv0.14.0\nv0.15.0\nv0.16.0\n"
    );
    assert_eq!(
        (
            list.timings.dns_ms,
            list.timings.connect_ms,
            list.timings.tls_ms
        ),
        (None, None, None),
        "-1: the connection was reused"
    );
    assert_eq!(
        list.connection.upstream.server_addr.as_deref(),
        Some("142.251.36.49:443")
    );
    assert_eq!(list.connection.upstream_conn_id, Some(41301));

    let zip = &flows[2];
    let body = &response(zip)?.body;
    assert!(
        body.data.starts_with(b"PK\x03\x04"),
        "base64 content decoded"
    );
    assert_eq!((body.data.len(), body.total), (631, 631));
    let view = shown(zip)?;
    assert_eq!(view.summary, "zip: 3 files, 631B");
    assert!(view
        .lines
        .iter()
        .any(|l| l == "golang.org/x/mod@v0.14.0/go.mod:"));
    assert!(view.lines.iter().any(|l| l == "module golang.org/x/mod"));

    let post = &flows[3];
    assert_eq!(post.request.method, "POST");
    assert_eq!(post.request.body.data, b"q=golang.org%2Fx%2Fmod&x=");
    assert_eq!(post.request.body.total, 25);
    let redirect = response(post)?;
    assert_eq!(redirect.status, 302);
    assert_eq!(
        header(&redirect.headers, "location"),
        Some("/golang.org/x/mod")
    );
    assert_eq!((redirect.body.data.len(), redirect.body.total), (0, 0));

    let cached_image = response(&flows[4])?;
    assert!(
        cached_image.body.data.is_empty(),
        "no `text`: nothing captured"
    );
    assert_eq!(
        (cached_image.body.total, cached_image.body.truncated),
        (1729, true)
    );
    assert_eq!(shown(&flows[4])?.summary, "1.7KiB, none captured");

    let failed = &flows[5];
    assert_eq!(failed.response, None);
    let err = failed.error.as_ref().ok_or("no error")?;
    assert_eq!(
        (err.class, err.message.as_str()),
        (ErrorClass::UpstreamReset, "net::ERR_CONNECTION_RESET")
    );
    assert_eq!(
        failed.connection,
        ConnectionInfo::default(),
        "empty serverIPAddress, no id"
    );
    assert_eq!(
        (
            failed.timings.blocked_ms,
            failed.timings.dns_ms,
            failed.timings.connect_ms
        ),
        (Some(14.07), Some(0.912), None)
    );
    assert_eq!(
        failed.request.http_version, "",
        "Chrome's empty version stays empty"
    );

    let ws = &flows[6];
    assert_eq!(ws.request.url, "wss://events.example.test/stream");
    assert_eq!(
        response(ws)?.status,
        101,
        "_webSocketMessages are skipped, the upgrade kept"
    );
    Ok(())
}

#[test]
fn mitmproxy_savehar() -> TestResult {
    let flows = from_json(MITMPROXY)?;
    assert_eq!(flows.len(), 6);

    let module = &flows[0];
    assert_eq!(
        module.request.url,
        "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.mod"
    );
    assert_eq!(
        header(&module.request.headers, "user-agent"),
        Some("Go-http-client/2.0")
    );
    assert_eq!(
        module.started_at_us,
        MAY_14_091203_417 + 512,
        "isoformat microseconds"
    );
    assert_eq!(module.request.http_version, "HTTP/2", "HTTP/2.0 is HTTP/2");
    assert_eq!(
        module.timings,
        Timings {
            blocked_ms: None,
            dns_ms: None,
            connect_ms: Some(23.512),
            tls_ms: Some(41.207),
            send_ms: Some(0.301),
            wait_ms: Some(88.14),
            receive_ms: Some(0.912),
            client_tls_ms: None,
            total_ms: Some(154.072),
        },
        "mitmproxy's connect is TCP only: ssl is not subtracted"
    );
    assert_eq!(
        module.connection.upstream.server_addr.as_deref(),
        Some("142.250.185.81")
    );
    assert_eq!(module.connection.upstream_conn_id, None);
    let go_mod = &response(module)?.body;
    assert!(go_mod.data.starts_with(b"module golang.org/x/text\n"));
    assert_eq!(go_mod.total, 84);

    let zip = &flows[1];
    assert_eq!(
        (zip.timings.connect_ms, zip.timings.tls_ms),
        (None, None),
        "-1.0: reused"
    );
    assert_eq!(response(zip)?.body.data.len(), 614);
    assert!(shown(zip)?
        .lines
        .iter()
        .any(|l| l == "module golang.org/x/text"));

    let lookup = &flows[2];
    assert_eq!(
        lookup.connection.upstream.server_addr.as_deref(),
        Some("2a00:1450:4001:82b::2011")
    );
    let body = &response(lookup)?.body;
    assert_eq!(
        (body.data.len(), body.total, body.truncated),
        (353, 353, false),
        "content.size is the compressed size; the text is decoded and longer"
    );
    let view = shown(lookup)?;
    assert_eq!(
        view.summary,
        "text, 353B; not gzip data (reads as plain text): shown as received"
    );
    assert!(view
        .lines
        .last()
        .is_some_and(|l| l.starts_with("— sum.golang.org Az3g")));

    let refused = &flows[3];
    assert_eq!(refused.response, None);
    let err = refused.error.as_ref().ok_or("no error")?;
    assert_eq!(
        (err.class, err.message.as_str()),
        (ErrorClass::Connect, "Connection refused")
    );
    assert_eq!(
        refused.started_at_us,
        MAY_14_091203_417 + 583_000,
        "isoformat without fraction"
    );
    assert_eq!(
        (refused.timings.connect_ms, refused.timings.tls_ms),
        (None, None),
        "null"
    );
    assert_eq!(refused.timings.send_ms, Some(0.0));
    assert_eq!(refused.connection.upstream.server_addr, None);

    let git = &flows[4];
    assert_eq!(git.request.method, "POST");
    assert!(git.request.body.data.starts_with(b"0032want 95dcfa36"));
    assert_eq!(git.request.body.total, 63);
    assert_eq!(
        (git.timings.connect_ms, git.timings.tls_ms),
        (Some(12.0), None),
        "plain http"
    );
    let view = shown(git)?;
    assert_eq!(view.summary, "git pkt-line: 4 packets, 69B");
    assert_eq!(
        view.lines[1],
        "0023 [band 2: progress] Enumerating objects: 3, done."
    );

    let ws = &flows[5];
    assert_eq!(response(ws)?.status, 101);
    assert!(response(ws)?.body.data.is_empty());
    Ok(())
}

#[test]
fn charles_har() -> TestResult {
    let flows = from_json(CHARLES)?;
    assert_eq!(flows.len(), 5);

    let info = &flows[0];
    assert_eq!(info.started_at_us, MAY_14_091203_417, "+10:00 offset");
    assert_eq!(info.request.http_version, "HTTP/2");
    assert_eq!(
        header(&info.request.headers, "authorization"),
        Some("Basic Z29waGVyOnNlY3JldA=="),
        "import keeps what the file has; redaction is for export"
    );
    let resp = response(info)?;
    assert_eq!(
        (resp.status, resp.reason.as_ref()),
        (200, ""),
        "statusText null"
    );
    assert_eq!(header(&resp.headers, ":status"), Some("200"));
    assert_eq!(
        info.timings,
        Timings {
            blocked_ms: None,
            dns_ms: Some(12.0),
            connect_ms: Some(34.0),
            tls_ms: Some(61.0),
            send_ms: Some(0.0),
            wait_ms: Some(130.0),
            receive_ms: Some(1.0),
            client_tls_ms: None,
            total_ms: Some(238.0),
        },
        "Charles follows HAR 1.2: connect includes ssl"
    );
    assert_eq!(
        info.connection.upstream.server_addr.as_deref(),
        Some("10.20.30.40")
    );
    assert_eq!(info.error, None, "COMPLETE is no error");
    assert_eq!(shown(info)?.summary, "JSON, 50B");

    let list = &flows[1];
    let body = &response(list)?.body;
    assert_eq!(
        (body.data.as_slice(), body.total),
        (&b"v0.9.0\nv1.0.0\n"[..], 14),
        "size -1"
    );
    assert_eq!(
        (list.request.body.total, list.request.body.truncated),
        (0, false),
        "bodySize -1"
    );

    let login = &flows[2];
    assert!(
        login.request.body.data.is_empty(),
        "params without text: no bytes invented"
    );
    assert_eq!(
        (login.request.body.total, login.request.body.truncated),
        (28, true)
    );
    let see_other = response(login)?;
    assert_eq!(
        (see_other.status, see_other.reason.as_ref()),
        (303, "See Other")
    );
    assert_eq!(
        (login.timings.connect_ms, login.timings.tls_ms),
        (Some(9.0), None)
    );

    let zip = &flows[3];
    assert_eq!(response(zip)?.body.data.len(), 631);
    assert_eq!(shown(zip)?.summary, "zip: 3 files, 631B");

    let broken = &flows[4];
    let err = broken.error.as_ref().ok_or("EXCEPTION is an error")?;
    assert_eq!(
        (err.class, err.message.as_str()),
        (ErrorClass::Protocol, "Charles: EXCEPTION")
    );
    assert_eq!(
        response(broken)?.body.data,
        b"v0.1.0\n",
        "what did arrive is kept"
    );
    Ok(())
}

#[test]
fn malformed_files_are_typed_errors() {
    let cut = &CHROME[..CHROME.len() / 2];
    assert!(matches!(from_json(cut), Err(HarError::Parse(_))));

    let broken = CHARLES.replacen(
        "\"encoding\": \"base64\"",
        "\"encoding\": \"base64\", \"x\": 1",
        1,
    );
    assert!(from_json(&broken).is_ok(), "unknown fields are fine");
    let bad = MITMPROXY.replacen("\"text\": \"UEsDB", "\"text\": \"**not base64**UEsDB", 1);
    match from_json(&bad) {
        Err(HarError::Base64 {
            entry, url, part, ..
        }) => {
            assert_eq!((entry, part), (2, "response content"));
            assert_eq!(
                url,
                "https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip"
            );
        }
        other => panic!("expected a base64 error, got {other:?}"),
    }
    let no_method = CHARLES.replacen("\"method\": \"GET\",", "", 1);
    assert!(matches!(from_json(&no_method), Err(HarError::Parse(_))));
}

#[test]
fn damaged_files_never_panic() {
    let mut seed = 0xdead_beef_cafe_f00du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let files = [CHROME, MITMPROXY, CHARLES];
    let alphabet = b"{}[]\",:0-.e\\un \x01";
    for round in 0..300 {
        let mut bytes = files[round % 3].as_bytes().to_vec();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % bytes.len();
            bytes[i] = alphabet[(next() as usize) % alphabet.len()];
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = from_json(&text);
    }
}
