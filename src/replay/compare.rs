//! The replay's answer beside the recording's, one line a request: status, size and time,
//! then `same`, `DIFFERENT STATUS` or why the replay failed. Pure; the URL is redacted and
//! every line made terminal-safe here, since both come from a file.

use crate::flow::Flow;
use crate::redact::redact_url;
use crate::terminal_text::terminal_safe;
use crate::units::{format_bytes, format_ms};

use super::client::Outcome;
use super::error::ReplayError;

/// Whether the replay answered as the recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Different,
    Failed,
}

/// One compared request.
pub fn line(recorded: &Flow, replayed: &Result<Outcome, ReplayError>) -> (String, Verdict) {
    let rec = recorded.response.as_ref();
    let rec_status = rec.map_or_else(|| "-".to_string(), |r| r.status.to_string());
    let rec_size = rec.map_or_else(|| "-".to_string(), |r| format_bytes(r.body.total));
    let rec_time = recorded
        .timings
        .total_ms
        .map_or_else(|| "-".to_string(), format_ms);
    let head = format!(
        "#{} {} {}",
        recorded.id,
        recorded.request.method,
        redact_url(&recorded.request.url)
    );
    let (text, verdict) = match replayed {
        Ok(o) => {
            let verdict = if rec.map(|r| r.status) == Some(o.status) {
                Verdict::Same
            } else {
                Verdict::Different
            };
            let word = match verdict {
                Verdict::Same => "same",
                _ => "DIFFERENT STATUS",
            };
            (
                format!(
                    "{head}\n    status {rec_status} → {}   size {rec_size} → {}   time {rec_time} → {}   {word}",
                    o.status,
                    format_bytes(o.size),
                    format_ms(o.elapsed_ms)
                ),
                verdict,
            )
        }
        Err(e) => (
            format!(
                "{head}\n    status {rec_status} → -   size {rec_size}   time {rec_time}   FAILED: {e}"
            ),
            Verdict::Failed,
        ),
    };
    let safe: Vec<String> = text
        .lines()
        .map(|l| terminal_safe(l).into_owned())
        .collect();
    (safe.join("\n"), verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Response;

    #[test]
    fn same_and_different_statuses_and_failures_are_told_apart() {
        let mut f = Flow {
            id: 4,
            ..Flow::default()
        };
        f.request_mut().method = "GET".into();
        f.request_mut().url = "https://a.test/x?token=secret\u{1b}[31m".into();
        f.response = Some(Response {
            status: 200,
            ..Response::default()
        });
        let ok = Ok(Outcome {
            status: 200,
            size: 2048,
            elapsed_ms: 12.0,
        });
        let (text, v) = line(&f, &ok);
        assert_eq!(v, Verdict::Same);
        assert!(text.contains("status 200 → 200"), "{text}");
        assert!(text.contains("2.0KiB"), "{text}");
        assert!(!text.contains("secret"), "redacted: {text}");
        assert!(!text.contains('\u{1b}'), "terminal-safe: {text}");
        let gone = Ok(Outcome {
            status: 404,
            size: 0,
            elapsed_ms: 1.0,
        });
        assert_eq!(line(&f, &gone).1, Verdict::Different);
        let failed = Err(ReplayError::Send("cannot reach gomitm".into()));
        let (text, v) = line(&f, &failed);
        assert_eq!(v, Verdict::Failed);
        assert!(text.contains("FAILED: cannot reach gomitm"), "{text}");
    }
}
