//! The headless log observer: one line per finished flow on stderr, and/or one JSON object
//! per finished flow (`--jsonl`). An observer: it can never slow or break traffic.
//! Secrets: the stderr line always hides URL credentials, secret query values and secrets
//! quoted in the error message; the JSON lines are `redact::redact_flow`'s copies unless
//! `--no-redact`. Both use the one rule in `crate::redact`.
//! Sizes and durations in the line are spelled by `units`. The URL, method and error message
//! come from the network: each stderr line passes through the one terminal rule
//! (`terminal_text::terminal_safe`), so it is one line and nothing in it acts on the terminal.
//! The JSON lines are escaped by serde and left as they are.

use std::io::Write;

use crate::flow::{Flow, FlowKind};
use crate::redact::{redact_flow, redact_message, redact_url_cow};
use crate::store::{Event, EventKind, Observer, Store};
use crate::terminal_text::terminal_safe;
use crate::units::{push_bytes, push_ms, push_u64};

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
    /// `--redact-header`: the stderr line is redacted even with `--no-redact`, with these too.
    pub extra_secret_headers: Vec<String>,
}

/// Past this many pending bytes of log lines, they are written even while events keep coming.
const LINES_FLUSH_AT: usize = 64 * 1024;

/// The log as an observer: a finished flow becomes a line (and a JSON object). Lines are
/// gathered and written when no event is waiting: under load one write for many flows.
pub struct Log {
    out: LogOutputs,
    lines: String,
}

impl Log {
    pub fn new(out: LogOutputs) -> Log {
        Log {
            out,
            lines: String::new(),
        }
    }

    fn flush(&mut self) {
        if !self.lines.is_empty() {
            // One write for the whole batch; stderr going away is not worth stopping for.
            let _ = std::io::stderr().lock().write_all(self.lines.as_bytes());
            self.lines.clear();
        }
        if let Some(sink) = self.out.jsonl.as_mut() {
            if sink.flush().is_err() {
                self.out.jsonl = None;
                eprintln!("gomitm: cannot write the JSON lines output; stopped writing it");
            }
        }
    }
}

impl Observer for Log {
    fn on_event(&mut self, ev: &Event) {
        // A flow is logged when it finishes; the contract says that happens once.
        if ev.kind != EventKind::Finished {
            return;
        }
        let flow = &ev.flow;
        let out = &mut self.out;
        if out.filter.as_ref().is_some_and(|f| !f.matches(flow)) {
            return;
        }
        if out.lines {
            write_line(&mut self.lines, flow, &out.extra_secret_headers);
            self.lines.push('\n');
        }
        if let Some(sink) = out.jsonl.as_mut() {
            let json = json_line(flow, out.redact.as_deref());
            if let Ok(json) = json {
                if writeln!(sink, "{json}").is_err() {
                    out.jsonl = None;
                    eprintln!("gomitm: cannot write the JSON lines output; stopped writing it");
                }
            }
        }
        if self.lines.len() >= LINES_FLUSH_AT {
            self.flush();
        }
    }

    fn on_lagged(&mut self, missed: u64, _store: &Store) {
        self.lines.push_str(&format!(
            "gomitm: log fell behind; {missed} flow events were not logged\n"
        ));
    }

    fn on_idle(&mut self) {
        self.flush();
    }
}

/// One `--jsonl` object: `redact::redact_flow`'s copy with `Some(extra secret headers)`, the
/// flow as recorded with `None` (`--no-redact`).
pub fn json_line(flow: &Flow, redact: Option<&[String]>) -> serde_json::Result<String> {
    match redact {
        Some(extra) => serde_json::to_string(&redact_flow(flow, extra)),
        None => serde_json::to_string(flow),
    }
}

/// `#12 GET https://proxy.golang.org/…/v0.14.0.zip 200 3.1MiB 412ms`, plus the error class
/// and message on failure.
pub fn format_line(flow: &Flow, extra: &[String]) -> String {
    let mut line = String::new();
    write_line(&mut line, flow, extra);
    line
}

/// `format_line` appended to `out`: the log task writes each line straight into its batch,
/// without a string of its own or of its parts; a line that needs no replacing is not copied.
pub fn write_line(out: &mut String, flow: &Flow, extra: &[String]) {
    let start = out.len();
    write_raw_line(out, flow, extra);
    if let std::borrow::Cow::Owned(safe) = terminal_safe(&out[start..]) {
        out.truncate(start);
        out.push_str(&safe);
    }
}

/// The line as the flow spells it, redacted, before it is made safe for the terminal.
fn write_raw_line(out: &mut String, flow: &Flow, extra: &[String]) {
    use std::fmt::Write as _;
    out.push('#');
    push_u64(out, flow.id);
    out.push(' ');
    match flow.kind {
        FlowKind::Tunnel => {
            let (up, down) = flow
                .tunnel
                .as_ref()
                .map_or((0, 0), |t| (t.bytes_up, t.bytes_down));
            // A CONNECT target may carry userinfo (`user:pass@host:443`).
            let _ = write!(
                out,
                "CONNECT {} tunnel up ",
                redact_url_cow(&flow.request.url)
            );
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
                    out.push(' ');
                    push_u64(out, u64::from(r.status));
                    out.push(' ');
                    push_bytes(out, r.body.total);
                }
                None => out.push_str(" --- -"),
            }
            // An upgraded connection (WebSocket): what went through after the 101.
            if let Some(t) = &flow.tunnel {
                out.push_str(" upgraded up ");
                push_bytes(out, t.bytes_up);
                out.push_str(" down ");
                push_bytes(out, t.bytes_down);
            }
        }
    }
    out.push(' ');
    match flow.timings.total_ms {
        Some(ms) => push_ms(out, ms),
        None => out.push('-'),
    }
    if let Some(e) = &flow.error {
        let _ = write!(
            out,
            " {}: {}",
            e.class,
            redact_message(flow, &e.message, extra)
        );
    }
    if let Some(n) = flow.replay_of {
        let _ = write!(out, " (replay of #{n})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::{ErrorClass, Timings};

    #[test]
    fn replays_and_upgrades_say_so() {
        let mut flow = FlowBuilder::get("http://ws.test/chat")
            .id(7)
            .status(101, &[])
            .build();
        flow.replay_of = Some(3);
        flow.tunnel = Some(crate::flow::TunnelStats {
            bytes_up: 2048,
            bytes_down: 10,
        });
        let line = format_line(&flow, &[]);
        assert!(
            line.starts_with("#7 GET http://ws.test/chat 101 0B upgraded up 2.0KiB down 10B"),
            "{line}"
        );
        assert!(line.ends_with(" (replay of #3)"), "{line}");
    }

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
            format_line(&flow, &[]),
            "#12 GET https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip 200 3.1MiB 412ms"
        );
    }

    #[test]
    fn failure_line_carries_class_and_message_and_hides_url_credentials() {
        let flow = FlowBuilder::get("https://u:secret@nosuch.test/x")
            .id(3)
            .error(ErrorClass::Dns, "dns lookup of nosuch.test failed")
            .build();
        let line = format_line(&flow, &[]);
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
        flow.request_mut().url = "git.test:443".into();
        assert_eq!(
            format_line(&flow, &[]),
            "#4 CONNECT git.test:443 tunnel up 1.5KiB down 10B -"
        );
    }

    #[test]
    fn network_text_cannot_act_on_the_terminal() {
        let evil = "\u{1b}[2J\r\u{9b}31m\u{7f}\u{7}\u{202e}\u{2066}\n";
        let mut flow = FlowBuilder::get(&format!("https://a.test/x{evil}y"))
            .id(7)
            .error(
                ErrorClass::UpstreamReset,
                &format!("reset by peer{evil}end"),
            )
            .build();
        flow.request_mut().method = format!("GE{evil}T").into();
        flow.response = None;
        let line = format_line(&flow, &[]);
        crate::terminal_text::assert_safe(&line);
        assert!(!line.contains('\n'), "{line:?}");
        assert!(
            line.contains("https://a.test/x␛[2J␍<U+009B>31m␡␇<U+202E><U+2066>␊y"),
            "{line}"
        );
        assert!(line.contains("reset by peer␛[2J"), "{line}");
        assert!(line.starts_with("#7 GE␛[2J"), "{line}");

        let mut tunnel = FlowBuilder::get("t.test:443").id(8).tunnel(1, 2).build();
        tunnel.request_mut().url = format!("t.test{evil}:443");
        let line = format_line(&tunnel, &[]);
        crate::terminal_text::assert_safe(&line);
        assert!(line.contains("t.test␛[2J"), "{line}");
    }

    /// Run a log observer over `feed`'s store changes and return what it wrote, and how many
    /// times it flushed.
    async fn logged(out: LogOutputs, buf: &SharedBuf, feed: impl FnOnce(&Store)) -> String {
        let store = std::sync::Arc::new(Store::new(crate::store::StoreLimits::default()));
        let mut observers = crate::store::Observers::default();
        observers.attach(&store, Box::new(Log::new(out)));
        feed(&store);
        observers.close().await;
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    fn jsonl_to(buf: &SharedBuf, redact: Option<Vec<String>>) -> LogOutputs {
        LogOutputs {
            lines: false,
            jsonl: Some(Box::new(buf.clone())),
            filter: None,
            redact,
            extra_secret_headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn each_finished_flow_is_logged_once_to_jsonl_and_drained_on_close() {
        let buf = SharedBuf::default();
        let text = logged(jsonl_to(&buf, None), &buf, |store| {
            let mut flow = FlowBuilder::get("https://a.test/").status(200, b"").build();
            flow.state = crate::flow::FlowState::InFlight;
            let added = store.add(flow);
            let mut done = (*added).clone();
            done.state = crate::flow::FlowState::Done;
            store.update(done.clone());
            // A late request body: amended, not logged again.
            store.update(done);
        })
        .await;
        assert_eq!(text.lines().count(), 1, "{text}");
        let back: Flow = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(back.id, 1);
    }

    #[tokio::test]
    async fn jsonl_is_redacted_unless_told_otherwise() {
        let flow = FlowBuilder::get("https://u:pw1@a.test/?token=q2")
            .req_header("X-Auth-Token", "h3")
            .req_header("X-Custom", "c4")
            .status(200, b"")
            .build();
        let buf = SharedBuf::default();
        let text = logged(jsonl_to(&buf, Some(vec!["x-custom".into()])), &buf, |s| {
            s.add(flow.clone());
        })
        .await;
        for secret in ["pw1", "q2", "h3", "c4"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(
            text.contains("X-Auth-Token") && text.contains("REDACTED"),
            "{text}"
        );
        let buf = SharedBuf::default();
        let text = logged(jsonl_to(&buf, None), &buf, |s| {
            s.add(flow.clone());
        })
        .await;
        for secret in ["pw1", "q2", "h3", "c4"] {
            assert!(text.contains(secret), "{secret} missing: {text}");
        }
    }

    #[tokio::test]
    async fn queued_flows_are_written_in_one_batch() {
        let buf = SharedBuf::default();
        let text = logged(jsonl_to(&buf, None), &buf, |store| {
            for _ in 1..=5 {
                store.add(FlowBuilder::get("https://a.test/").status(200, b"").build());
            }
        })
        .await;
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
