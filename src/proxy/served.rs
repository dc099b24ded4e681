//! The answer `gomitm serve` gives in the upstream's place: the recorded response (status,
//! headers, body), a recorded failure as gomitm answered it then, or a 404 saying the
//! request is not in the recording. Every one goes through the request's `FlowCell`, so a
//! served request is a flow like any other (log, TUI, HAR, summary).
//!
//! Recorded headers are cleaned for the wire: hop-by-hop headers go, `Content-Length` is
//! the body's own, and `Content-Encoding` stays only when the recorded bytes are still
//! encoded (gomitm records the bytes as sent; other tools' HARs hold decoded text). A body the
//! recording did not keep whole is sent as recorded with `X-Gomitm-Truncated` saying why.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};

use super::body::{BoxError, ProxyBody};
use super::context::Ctx;
use super::error::error_response;
use super::flow_cell::FlowCell;
use super::recording::{truncation, Recording, Served};
use crate::flow::{ErrorClass, Flow, FlowError};
use crate::go::diagnose::{diagnose, diagnosis_lines, DiagnoseContext};

/// The response header that flags an answer whose recorded body is not whole.
pub const TRUNCATED_HEADER: &str = "x-gomitm-truncated";

/// What `exchange` lends the answer: its diagnosis context and its hop-by-hop rule. Passed
/// in rather than imported, so that this file and `exchange` do not import each other.
pub(super) struct Wire<'a> {
    pub diagnose: DiagnoseContext<'a>,
    pub strip_hop_by_hop: fn(&mut HeaderMap),
}

/// Answer the request `cell` records from `recording`.
pub(super) fn answer(
    ctx: &Ctx,
    cell: &Arc<FlowCell>,
    recording: &Recording,
    wire: &Wire<'_>,
) -> Response<ProxyBody> {
    let (method, url) = cell.edit(|f| (f.request.method.clone(), f.request.url.clone()));
    match recording.answer(&method, &url) {
        Served::Unknown => {
            let text = recording.unknown_text(&method, &url);
            let response = error_response(StatusCode::NOT_FOUND, text);
            cell.add_rules(&[format!("serve: not in {}", recording.name())]);
            local(ctx, cell, response)
        }
        Served::Recorded { flow, nth, of } => {
            let mut label = format!("serve: #{} of {}", flow.id, recording.name());
            if of > 1 {
                label.push_str(&format!(" ({nth} of {of} identical requests)"));
            }
            cell.add_rules(&[label]);
            match &flow.response {
                Some(_) => recorded_response(ctx, cell, recording, &flow, wire),
                None => recorded_failure(cell, &flow, wire),
            }
        }
    }
}

/// Send a head gomitm made and record it; the body finishes the flow.
fn local(ctx: &Ctx, cell: &Arc<FlowCell>, response: Response<ProxyBody>) -> Response<ProxyBody> {
    let (parts, body) = response.into_parts();
    let flow = cell.record_local_head(&parts);
    let tap = cell.start_hash(&flow);
    let body = cell
        .clone()
        .wrap_response_body(body, ctx.opts.max_body_capture, None, tap);
    Response::from_parts(parts, body)
}

/// A failure the recording holds (dns, refused, TLS…): the client gets what gomitm sent
/// then, the cause and its diagnosis, and the flow fails the same way.
fn recorded_failure(cell: &Arc<FlowCell>, recorded: &Flow, wire: &Wire<'_>) -> Response<ProxyBody> {
    let error = recorded.error.clone().unwrap_or(FlowError {
        class: ErrorClass::Internal,
        message: "the recording has neither an answer nor an error for this request".into(),
    });
    let status = status_of(error.class);
    let flow = cell.fail_with(error.clone());
    let text = match diagnose(&flow, &wire.diagnose) {
        Some(d) => format!("gomitm: {}\n{}\n", error.message, diagnosis_lines(&d)),
        None => format!("gomitm: {}\n", error.message),
    };
    error_response(status, text)
}

/// The status gomitm answers a failure of `class` with (as `ProxyError::status`).
fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::ConnectTimeout | ErrorClass::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorClass::Protocol => StatusCode::BAD_REQUEST,
        ErrorClass::Refused => StatusCode::FORBIDDEN,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorClass::Dns
        | ErrorClass::Connect
        | ErrorClass::UpstreamTls
        | ErrorClass::UpstreamReset
        | ErrorClass::UpstreamProxy
        | ErrorClass::ClientTls
        | ErrorClass::ClientAbort
        | ErrorClass::Interrupted => StatusCode::BAD_GATEWAY,
    }
}

fn recorded_response(
    ctx: &Ctx,
    cell: &Arc<FlowCell>,
    recording: &Recording,
    recorded: &Flow,
    wire: &Wire<'_>,
) -> Response<ProxyBody> {
    let Some(resp) = &recorded.response else {
        return recorded_failure(cell, recorded, wire);
    };
    let data = Bytes::from(resp.body.data.clone());
    let mut headers = wire_headers(&resp.headers, &data, wire.strip_hop_by_hop);
    let truncated = truncation(recorded);
    if let Some(why) = &truncated {
        if let Ok(v) = HeaderValue::from_str(&ascii(why)) {
            headers.insert(HeaderName::from_static(TRUNCATED_HEADER), v);
        }
        if recording.first_warning(recorded.id) {
            let line = format!(
                "gomitm: warning: serving {} {} from {} #{}: {why}",
                recorded.request.method,
                crate::redact::redact_url(&recorded.request.url),
                recording.name(),
                recorded.id
            );
            eprintln!("{}", crate::terminal_text::terminal_safe(&line));
        }
    }
    // Cut short when recorded (a reset mid-body): the client sees the same cut.
    let cut = !resp.body.complete && recorded.error.is_some();
    let body = if cut {
        let reason = recorded
            .error
            .as_ref()
            .map_or_else(String::new, |e| e.message.clone());
        CutBody {
            data: Some(data),
            reason: Some(format!("as recorded: {reason}")),
        }
        .boxed_unsync()
    } else {
        Full::new(data)
            .map_err(|never| match never {})
            .boxed_unsync()
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY);
    *response.headers_mut() = headers;
    local(ctx, cell, response)
}

/// A body that sends its bytes and then fails, as the recorded one did.
struct CutBody {
    data: Option<Bytes>,
    reason: Option<String>,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data))));
        }
        std::task::Poll::Ready(self.reason.take().map(|r| Err(r.into())))
    }
}

/// The recorded headers as they can go on the wire again.
fn wire_headers(
    recorded: &crate::flow::Headers,
    data: &[u8],
    strip_hop_by_hop: fn(&mut HeaderMap),
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in recorded {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    strip_hop_by_hop(&mut headers);
    headers.remove(http::header::CONTENT_LENGTH);
    let encoded = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|enc| still_encoded(enc, data));
    if !encoded {
        headers.remove(http::header::CONTENT_ENCODING);
    }
    headers
}

/// Whether `data` still looks encoded as `encoding` says: gzip by its magic bytes; other
/// codings (br, deflate, zstd) by not being UTF-8 text, which their output almost never is.
fn still_encoded(encoding: &str, data: &[u8]) -> bool {
    let enc = encoding.trim().to_ascii_lowercase();
    if data.is_empty() || enc == "identity" {
        return false;
    }
    if enc.contains("gzip") {
        return data.starts_with(&[0x1f, 0x8b]);
    }
    std::str::from_utf8(data).is_err()
}

/// Header values are visible ASCII: anything else becomes `?`.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_headers_lose_hop_by_hop_length_and_a_stale_encoding() {
        let recorded: crate::flow::Headers = vec![
            ("Content-Type", "application/zip"),
            ("Content-Length", "999"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
            ("Bad Name", "x"),
        ]
        .into();
        let strip = super::super::exchange::strip_hop_by_hop;
        let decoded = wire_headers(&recorded, b"plain text, decoded by the HAR's tool", strip);
        let names: Vec<&str> = decoded.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["content-type"]);
        let gz = wire_headers(&recorded, &[0x1f, 0x8b, 8, 0], strip);
        assert_eq!(gz.get("content-encoding").unwrap(), "gzip");
        assert!(still_encoded("br", &[0xff, 0xfe, 0x00]));
        assert!(!still_encoded("br", b"{\"Version\":\"v1.0.0\"}"));
        assert_eq!(ascii("cut — short\n"), "cut ? short?");
    }

    #[test]
    fn failures_keep_gomitms_status() {
        assert_eq!(status_of(ErrorClass::Dns), StatusCode::BAD_GATEWAY);
        assert_eq!(
            status_of(ErrorClass::UpstreamTimeout),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(status_of(ErrorClass::Refused), StatusCode::FORBIDDEN);
    }
}
