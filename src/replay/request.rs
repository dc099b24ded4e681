//! The request a replay sends: taken from a recorded flow (which headers go again and which
//! cannot), changed by `--header` overrides, and written to / read back from the text the
//! user edits with `E` in the TUI. Pure: values in, values out.

use crate::flow::{Flow, FlowKind};
use crate::redact::REDACTED;

use super::error::ReplayError;

/// Headers a replay never copies from the recording: they describe the recorded connection
/// (hop-by-hop, RFC 9110 §7.6.1), are set again for the new one (Host, Content-Length), or
/// are gomitm's own (the replay marker, credentials for gomitm).
const NOT_COPIED: [&str; 12] = [
    "host",
    "content-length",
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    crate::proxy::REPLAY_HEADER,
];

/// One request to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    pub method: String,
    pub url: String,
    /// A plain list, not the flow's packed `Headers`: this one is edited a header at a time.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ReplayRequest {
    /// The request of `flow` as recorded. A tunnel, or a request whose body the recording does
    /// not hold whole, cannot be sent again as it was.
    pub fn from_flow(flow: &Flow) -> Result<ReplayRequest, ReplayError> {
        if flow.kind == FlowKind::Tunnel {
            return Err(ReplayError::NotReplayable(
                "a tunnel (CONNECT) carries no request gomitm saw".into(),
            ));
        }
        let req = &flow.request;
        if req.method.is_empty() || req.method == "-" || !req.url.contains("://") {
            return Err(ReplayError::NotReplayable(
                "the connection failed before a request was read".into(),
            ));
        }
        if req.body.truncated || (req.body.total > 0 && !req.body.complete) {
            return Err(ReplayError::NotReplayable(format!(
                "the recording keeps {} of the request body's {} bytes",
                req.body.data.len(),
                req.body.total
            )));
        }
        let headers = req
            .headers
            .iter()
            // h2 pseudo-headers are not headers.
            .filter(|(n, _)| !n.starts_with(':'))
            .filter(|(n, _)| !NOT_COPIED.iter().any(|c| n.eq_ignore_ascii_case(c)))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Ok(ReplayRequest {
            method: req.method.to_string(),
            url: req.url.clone(),
            headers,
            body: req.body.data.clone(),
        })
    }

    /// Names of headers whose recorded value was redacted (`REDACTED` in it), in order.
    pub fn redacted_headers(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, value) in &self.headers {
            if value.contains(REDACTED) && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
        names
    }

    /// Replace every header called `name` with one `value` (added when absent).
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The text the user edits: the request line, the headers, a blank line, the body.
    /// `None` when the body is not text (it could not be edited safely).
    pub fn to_text(&self) -> Option<String> {
        let body = std::str::from_utf8(&self.body).ok()?;
        let mut out = String::from(EDIT_HELP);
        out.push_str(&format!("{} {}\n", self.method, self.url));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out.push_str(body);
        if !body.is_empty() {
            // Editors end files with a newline; `parse` takes exactly one off again.
            out.push('\n');
        }
        Some(out)
    }

    /// Read back what [`to_text`](Self::to_text) wrote, as the user changed it. Lines starting
    /// with `#` before the request line are comments. An empty file (comments aside) is
    /// [`ReplayError::Cancelled`].
    pub fn parse(text: &str) -> Result<ReplayRequest, ReplayError> {
        let bad = |line: usize, what: String| ReplayError::BadEdit { line, what };
        let mut lines = text.split_inclusive('\n').enumerate().peekable();
        while let Some((_, l)) = lines.peek() {
            if l.starts_with('#') || l.trim().is_empty() {
                lines.next();
            } else {
                break;
            }
        }
        let Some((n, first)) = lines.next() else {
            return Err(ReplayError::Cancelled);
        };
        let mut parts = first.split_whitespace();
        let (Some(method), Some(url), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(n + 1, "the first line must be METHOD URL".into()));
        };
        if http::Method::from_bytes(method.as_bytes()).is_err() {
            return Err(bad(n + 1, format!("{method:?} is not an HTTP method")));
        }
        match url.parse::<http::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => {}
            _ => {
                return Err(bad(
                    n + 1,
                    format!("{url:?} is not an http:// or https:// URL"),
                ))
            }
        }
        let mut headers = Vec::new();
        let mut body_at = None;
        for (n, line) in lines.by_ref() {
            let line_text = line.trim_end_matches(['\n', '\r']);
            if line_text.is_empty() {
                body_at = Some(n + 1);
                break;
            }
            let Some((name, value)) = line_text.split_once(':') else {
                return Err(bad(n + 1, "a header line must be Name: value".into()));
            };
            let name = name.trim();
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(bad(n + 1, format!("{name:?} is not a header name")));
            }
            let value = value.trim();
            if http::HeaderValue::from_str(value).is_err() {
                return Err(bad(
                    n + 1,
                    format!("the value of {name} is not a header value"),
                ));
            }
            headers.push((name.to_string(), value.to_string()));
        }
        let mut body = String::new();
        if body_at.is_some() {
            for (_, line) in lines {
                body.push_str(line);
            }
        }
        if body.ends_with('\n') {
            body.pop();
        }
        Ok(ReplayRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers,
            body: body.into_bytes(),
        })
    }
}

const EDIT_HELP: &str = "\
# gomitm: edit the request, save and quit to send it; empty the file to send nothing.
# The first line is METHOD URL, then one Name: value header a line, a blank line, the body.
# Host and Content-Length are set when it is sent. Lines starting with # up here are ignored.
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Flow;

    fn flow() -> Flow {
        let mut f = Flow::default();
        f.request_mut().method = "POST".into();
        f.request_mut().url = "https://goproxy.test/upload?x=1".into();
        f.request_mut().headers = vec![
            ("Host", "goproxy.test"),
            ("User-Agent", "Go-http-client/1.1"),
            ("Authorization", "REDACTED"),
            ("Content-Length", "5"),
            ("Connection", "keep-alive"),
        ]
        .into();
        f.request_mut().body.data = b"hello".to_vec();
        f.request_mut().body.total = 5;
        f.request_mut().body.complete = true;
        f
    }

    #[test]
    fn a_flow_gives_its_request_without_connection_headers() {
        let r = ReplayRequest::from_flow(&flow()).unwrap();
        assert_eq!(r.method, "POST");
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["User-Agent", "Authorization"]);
        assert_eq!(r.body, b"hello");
        assert_eq!(r.redacted_headers(), ["Authorization"]);
    }

    #[test]
    fn a_truncated_body_or_a_tunnel_is_not_replayable() {
        let mut f = flow();
        f.request_mut().body.truncated = true;
        assert!(matches!(
            ReplayRequest::from_flow(&f),
            Err(ReplayError::NotReplayable(_))
        ));
        let mut t = flow();
        t.kind = FlowKind::Tunnel;
        assert!(ReplayRequest::from_flow(&t).is_err());
    }

    #[test]
    fn the_edit_text_round_trips_and_edits_are_read() {
        let r = ReplayRequest::from_flow(&flow()).unwrap();
        let text = r.to_text().unwrap();
        assert_eq!(ReplayRequest::parse(&text).unwrap(), r);
        let edited = text
            .replace(
                "POST https://goproxy.test/upload",
                "PUT https://other.test/up",
            )
            .replace("hello", "bye\nnow");
        let e = ReplayRequest::parse(&edited).unwrap();
        assert_eq!(e.method, "PUT");
        assert_eq!(e.url, "https://other.test/up?x=1");
        assert_eq!(e.body, b"bye\nnow");
        let mut overridden = r.clone();
        overridden.set_header("authorization", "Bearer t");
        assert!(overridden.redacted_headers().is_empty());
    }

    #[test]
    fn bad_edits_name_the_line() {
        let err = ReplayRequest::parse("GET\n").unwrap_err();
        assert!(matches!(err, ReplayError::BadEdit { line: 1, .. }), "{err}");
        let err = ReplayRequest::parse("# c\nGET https://a.test/\nno colon here\n").unwrap_err();
        assert!(matches!(err, ReplayError::BadEdit { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = ReplayRequest::parse("GET ftp://a.test/\n").unwrap_err();
        assert!(err.to_string().contains("not an http"), "{err}");
        assert!(matches!(
            ReplayRequest::parse("# only comments\n\n"),
            Err(ReplayError::Cancelled)
        ));
    }
}
