//! The headless log observer: one line per finished flow on stderr, and/or one JSON object
//! per finished flow (`--jsonl`). An observer: it can never slow or break traffic.
//! Secrets: the stderr line always hides URL credentials and secret query values; the JSON
//! lines are redacted like the HAR unless `--no-redact` (the rules live in `har::redact`).
//! Sizes and durations in the line are spelled by `units`.

use std::collections::HashSet;
use std::io::Write;

use tokio::sync::{broadcast, oneshot};

use crate::flow::{Flow, FlowKind};
use crate::har::{redact_flow, redact_url_cow};
use crate::store::Event;
use crate::units::{push_bytes, push_ms};

pub struct LogOutputs {
    /// Human-readable lines on stderr.
    pub lines: bool,
    /// JSON lines sink (a file or stdout).
    pub jsonl: Option<Box<dyn Write + Send>>,
    /// Only flows matching this are written (`--filter`).
    pub filter: Option<crate::filter::Filter>,
    /// `Some(extra secret header names)`: the JSON lines carry redacted flows (the HAR rules);
    /// `None` (`--no-redact`): flows as recorded.
    pub redact: Option<Vec<String>>,
}

/// Past this many pending bytes of log lines, they are written even while events keep coming.
const LINES_FLUSH_AT: usize = 64 * 1024;
/// How long the log waits after writing before it looks at the events again. Lines are at
/// most this late; the event channel holds far more than arrive in this time.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

/// Follow `events` until `stop` fires, then drain what is queued and return.
///
/// Lines are gathered and written (and the JSON lines sink flushed) once no event is waiting,
/// then the task rests for `BATCH_WINDOW`: under load that is one wake-up and one write for
/// many flows instead of three wake-ups and a write per flow.
pub async fn run(
    mut events: broadcast::Receiver<Event>,
    mut out: LogOutputs,
    mut stop: oneshot::Receiver<()>,
) {
    let mut seen = HashSet::new();
    let mut lines = String::new();
    loop {
        tokio::select! {
            biased;
            ev = events.recv() => match ev {
                Ok(ev) => write_event(&ev, &mut out, &mut seen, &mut lines),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    lines.push_str(&format!(
                        "gomitm: log fell behind; {n} flow events were not logged\n"
                    ));
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut stop => {
                while let Ok(ev) = events.try_recv() {
                    write_event(&ev, &mut out, &mut seen, &mut lines);
                }
                break;
            }
        }
        if events.is_empty() {
            flush(&mut out, &mut lines);
            // Events sent while this task sleeps queue up without waking it; waking it for
            // each of a flow's three events costs the proxying threads more than the log.
            tokio::time::sleep(BATCH_WINDOW).await;
        } else if lines.len() >= LINES_FLUSH_AT {
            flush(&mut out, &mut lines);
        }
    }
    flush(&mut out, &mut lines);
}

fn flush(out: &mut LogOutputs, lines: &mut String) {
    if !lines.is_empty() {
        // One write for the whole batch; stderr going away is not worth stopping for.
        let _ = std::io::stderr().lock().write_all(lines.as_bytes());
        lines.clear();
    }
    if let Some(sink) = out.jsonl.as_mut() {
        if sink.flush().is_err() {
            out.jsonl = None;
            eprintln!("gomitm: cannot write the JSON lines output; stopped writing it");
        }
    }
}

fn write_event(ev: &Event, out: &mut LogOutputs, seen: &mut HashSet<u64>, lines: &mut String) {
    let Event::Done(flow) = ev else {
        return;
    };
    // A flow can finish twice (its request body may end after its response): log it once.
    if seen.len() > 100_000 {
        seen.clear();
    }
    if out.filter.as_ref().is_some_and(|f| !f.matches(flow)) {
        return;
    }
    if !seen.insert(flow.id) {
        return;
    }
    if out.lines {
        write_line(lines, flow);
        lines.push('\n');
    }
    if let Some(sink) = out.jsonl.as_mut() {
        let json = match &out.redact {
            Some(extra) => serde_json::to_string(&redact_flow(flow, extra)),
            None => serde_json::to_string(&**flow),
        };
        if let Ok(json) = json {
            if writeln!(sink, "{json}").is_err() {
                out.jsonl = None;
                eprintln!("gomitm: cannot write the JSON lines output; stopped writing it");
            }
        }
    }
}

/// `#12 GET https://proxy.golang.org/…/v0.14.0.zip 200 3.1MiB 412ms`, plus the error class
/// and message on failure.
pub fn format_line(flow: &Flow) -> String {
    let mut line = String::new();
    write_line(&mut line, flow);
    line
}

/// `format_line` appended to `out`: the log task writes each line straight into its batch,
/// without a string of its own or of its parts.
pub fn write_line(out: &mut String, flow: &Flow) {
    use std::fmt::Write as _;
    let _ = write!(out, "#{} ", flow.id);
    match flow.kind {
        FlowKind::Tunnel => {
            let (up, down) = flow
                .tunnel
                .as_ref()
                .map_or((0, 0), |t| (t.bytes_up, t.bytes_down));
            let _ = write!(out, "CONNECT {} tunnel up ", flow.request.url);
            push_bytes(out, up);
            out.push_str(" down ");
            push_bytes(out, down);
        }
        FlowKind::Http => {
            out.push_str(&flow.request.method);
            out.push(' ');
            if flow.request.url.is_empty() {
                out.push('-');
            } else {
                out.push_str(&redact_url_cow(&flow.request.url));
            }
            match &flow.response {
                Some(r) => {
                    let _ = write!(out, " {} ", r.status);
                    push_bytes(out, r.body.total);
                }
                None => out.push_str(" --- -"),
            }
        }
    }
    out.push(' ');
    match flow.timings.total_ms {
        Some(ms) => push_ms(out, ms),
        None => out.push('-'),
    }
    if let Some(e) = &flow.error {
        let _ = write!(out, " {}: {}", e.class, e.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::{ErrorClass, Timings};

    #[test]
    fn success_line_matches_the_documented_shape() {
        let flow = FlowBuilder::get("https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip")
            .id(12)
            .status(200, &[])
            .timings(Timings {
                total_ms: Some(412.3),
                ..Timings::default()
            })
            .build();
        let mut flow = flow;
        if let Some(r) = flow.response.as_mut() {
            r.body.total = 3_250_000;
        }
        assert_eq!(
            format_line(&flow),
            "#12 GET https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip 200 3.1MiB 412ms"
        );
    }

    #[test]
    fn failure_line_carries_class_and_message_and_hides_url_credentials() {
        let flow = FlowBuilder::get("https://u:secret@nosuch.test/x")
            .id(3)
            .error(ErrorClass::Dns, "dns lookup of nosuch.test failed")
            .build();
        let line = format_line(&flow);
        assert!(
            line.starts_with("#3 GET https://REDACTED@nosuch.test/x --- -"),
            "{line}"
        );
        assert!(
            line.ends_with("dns: dns lookup of nosuch.test failed"),
            "{line}"
        );
        assert!(!line.contains("secret"));
    }

    #[test]
    fn tunnel_line_shows_bytes_both_ways() {
        let mut flow = FlowBuilder::get("git.test:443")
            .id(4)
            .tunnel(1536, 10)
            .build();
        flow.request.url = "git.test:443".into();
        assert_eq!(
            format_line(&flow),
            "#4 CONNECT git.test:443 tunnel up 1.5KiB down 10B -"
        );
    }

    #[tokio::test]
    async fn run_logs_each_done_flow_once_to_jsonl_and_drains_on_stop() {
        let (tx, rx) = broadcast::channel(16);
        let (stop_tx, stop_rx) = oneshot::channel();
        let buf = SharedBuf::default();
        let out = LogOutputs {
            lines: false,
            jsonl: Some(Box::new(buf.clone())),
            filter: None,
            redact: None,
        };
        let flow = std::sync::Arc::new(
            FlowBuilder::get("https://a.test/")
                .id(1)
                .status(200, b"")
                .build(),
        );
        tx.send(Event::Added(flow.clone())).unwrap();
        tx.send(Event::Done(flow.clone())).unwrap();
        tx.send(Event::Done(flow)).unwrap();
        stop_tx.send(()).unwrap();
        run(rx, out, stop_rx).await;
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let back: Flow = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(back.id, 1);
    }

    #[tokio::test]
    async fn jsonl_is_redacted_unless_told_otherwise() {
        let flow = std::sync::Arc::new(
            FlowBuilder::get("https://u:pw1@a.test/?token=q2")
                .id(7)
                .req_header("X-Auth-Token", "h3")
                .req_header("X-Custom", "c4")
                .status(200, b"")
                .build(),
        );
        let logged = |redact: Option<Vec<String>>| {
            let flow = flow.clone();
            async move {
                let (tx, rx) = broadcast::channel(4);
                let (stop_tx, stop_rx) = oneshot::channel();
                let buf = SharedBuf::default();
                let out = LogOutputs {
                    lines: false,
                    jsonl: Some(Box::new(buf.clone())),
                    filter: None,
                    redact,
                };
                tx.send(Event::Done(flow)).unwrap();
                stop_tx.send(()).unwrap();
                run(rx, out, stop_rx).await;
                let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
                text
            }
        };
        let text = logged(Some(vec!["x-custom".into()])).await;
        for secret in ["pw1", "q2", "h3", "c4"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(
            text.contains("X-Auth-Token") && text.contains("REDACTED"),
            "{text}"
        );
        let text = logged(None).await;
        for secret in ["pw1", "q2", "h3", "c4"] {
            assert!(text.contains(secret), "{secret} missing: {text}");
        }
    }

    #[tokio::test]
    async fn queued_flows_are_written_in_one_batch() {
        let (tx, rx) = broadcast::channel(16);
        let (stop_tx, stop_rx) = oneshot::channel();
        let buf = SharedBuf::default();
        let out = LogOutputs {
            lines: false,
            jsonl: Some(Box::new(buf.clone())),
            filter: None,
            redact: None,
        };
        for id in 1..=5 {
            let flow = FlowBuilder::get("https://a.test/")
                .id(id)
                .status(200, b"")
                .build();
            tx.send(Event::Done(std::sync::Arc::new(flow))).unwrap();
        }
        stop_tx.send(()).unwrap();
        run(rx, out, stop_rx).await;
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        let flushes = *buf.1.lock().unwrap();
        assert!(flushes <= 2, "{flushes} flushes for 5 queued flows");
    }

    /// Bytes written, and how many times the sink was flushed.
    #[derive(Clone, Default)]
    struct SharedBuf(
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        std::sync::Arc<std::sync::Mutex<usize>>,
    );
    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            *self.1.lock().unwrap() += 1;
            Ok(())
        }
    }
}
