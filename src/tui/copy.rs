//! What `y` and `Y` copy, and how: the flow's URL or its request as a curl command, redacted
//! as an export would be, wrapped in an OSC 52 escape (the terminal sets its clipboard from
//! it, which also works over ssh and inside tmux with `set-clipboard on`).
//!
//! Pure: text in, text out. The event loop writes the escape to the terminal.

use base64::Engine;

use crate::flow::Flow;

/// Request headers that curl writes itself (from the URL and body) or that only make sense
/// on the hop gomitm saw.
const SKIP: &[&str] = &[
    "content-length",
    "connection",
    "proxy-connection",
    "proxy-authorization",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
];

/// Largest request body put into the command; beyond it the command says it was left out.
const MAX_BODY: usize = 64 * 1024;

/// The flow as it may leave gomitm: redacted unless `--no-redact` (the export's setting).
pub fn shown(flow: &Flow, redact: bool, extra: &[String]) -> Flow {
    if redact {
        crate::redact::redact_flow(flow, extra)
    } else {
        flow.clone()
    }
}

/// `curl` with the method, the headers as the client sent them and the body when it is text
/// and was captured whole; `--http1.1`-neutral, since curl picks the version itself.
pub fn curl_command(flow: &Flow) -> String {
    let req = &flow.request;
    let mut parts = vec!["curl".to_string()];
    let has_body = req.body.total > 0;
    if req.method != "GET" || has_body {
        parts.push(format!("-X {}", sh_quote(&req.method)));
    }
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if SKIP.contains(&lower.as_str()) || lower.starts_with(':') || lower == "host" {
            continue;
        }
        parts.push(format!("-H {}", sh_quote(&format!("{name}: {value}"))));
    }
    let mut note = None;
    if has_body {
        let data = &req.body.data;
        let whole = !req.body.truncated && data.len() as u64 == req.body.total;
        match std::str::from_utf8(data) {
            Ok(text) if whole && data.len() <= MAX_BODY => {
                parts.push(format!("--data-binary {}", sh_quote(text)));
            }
            _ => {
                note = Some(format!(
                    "# request body of {} bytes left out (binary, too large or not captured whole)",
                    req.body.total
                ));
            }
        }
    }
    parts.push(sh_quote(&req.url));
    let mut out = parts.join(" ");
    if let Some(note) = note {
        out = format!("{note}\n{out}");
    }
    out
}

/// A POSIX shell word: single quotes, `'` as `'\''`.
pub fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The OSC 52 escape that puts `text` on the system clipboard (`c`).
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;

    #[test]
    fn curl_has_method_headers_body_and_quotes_what_the_shell_would_read() {
        let f = FlowBuilder::get("https://h.test/a?x=1&y=it's")
            .method("POST")
            .req_header("Content-Type", "application/json")
            .req_header("Content-Length", "9")
            .req_header("Host", "h.test")
            .req_body(b"{\"a\":'1'}")
            .build();
        let cmd = curl_command(&f);
        assert_eq!(
            cmd,
            "curl -X POST -H 'Content-Type: application/json' \
             --data-binary '{\"a\":'\\''1'\\''}' 'https://h.test/a?x=1&y=it'\\''s'"
        );
    }

    #[test]
    fn a_binary_body_is_left_out_with_a_note() {
        let f = FlowBuilder::get("https://h.test/up")
            .method("PUT")
            .req_body(&[0xff, 0x00, 0x01])
            .build();
        let cmd = curl_command(&f);
        assert!(
            cmd.starts_with("# request body of 3 bytes left out"),
            "{cmd}"
        );
        assert!(cmd.ends_with("curl -X PUT https://h.test/up"), "{cmd}");
    }

    #[test]
    fn redaction_follows_the_export_setting() {
        let f = FlowBuilder::get("https://u:pw@h.test/x")
            .req_header("Authorization", "Bearer s3cret")
            .build();
        let red = curl_command(&shown(&f, true, &[]));
        assert!(!red.contains("s3cret") && !red.contains(":pw@"), "{red}");
        let raw = curl_command(&shown(&f, false, &[]));
        assert!(raw.contains("Bearer s3cret"), "{raw}");
    }

    #[test]
    fn osc52_is_base64_in_the_clipboard_escape() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
