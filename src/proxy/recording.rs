//! A HAR as a mock upstream (`gomitm serve`, `run --serve`): which recorded answer a request
//! gets. Requests are matched by method, host (and port), path and query; identical requests
//! are answered in the order they were recorded, and once the recording has no more of them
//! the last one is answered again (the go command repeats a failed request, and Go 1.24+
//! sends every 4xx twice: the teammate's server would have said the same again).
//!
//! Pure: flows in, the flow to answer with out. Turning it into bytes on the wire belongs to
//! `proxy::served`; reading the file to `session`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::flow::{ErrorClass, Flow, FlowKind};

/// What a request matches on: method, lower-case host and port (the scheme's default spelled
/// out) without userinfo, and the path with its query (no fragment). The scheme is left out: a recording
/// made through `HTTP_PROXY` and one made through a tunnel answer alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    method: String,
    authority: String,
    path_and_query: String,
}

impl Key {
    fn of(method: &str, url: &str) -> Option<Key> {
        let (scheme, rest) = url.split_once("://")?;
        let rest = rest.split('#').next().unwrap_or("");
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, h)| h)
            .to_ascii_lowercase();
        // Host and port, the port spelled out: `https://a.test` and `http://a.test:443`
        // reach the same server.
        let default = if scheme.eq_ignore_ascii_case("http") {
            "80"
        } else {
            "443"
        };
        let has_port = match authority.rfind(']') {
            Some(end) => authority[end..].contains(':'),
            None => authority.contains(':'),
        };
        let authority = if has_port {
            authority
        } else {
            format!("{authority}:{default}")
        };
        let authority = authority.replace(".:", ":");
        if authority.starts_with(':') {
            return None;
        }
        let path_and_query = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Some(Key {
            method: method.to_ascii_uppercase(),
            authority,
            path_and_query,
        })
    }
}

/// The answer the recording gives a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Served {
    /// The recorded flow to answer with: its `nth` (from 1) of `of` identical requests.
    Recorded {
        flow: Arc<Flow>,
        nth: usize,
        of: usize,
    },
    /// The recording has no request like it.
    Unknown,
}

/// A recording loaded for serving, with a cursor per distinct request.
#[derive(Debug)]
pub struct Recording {
    /// What the file is called, for the 404 text and the start-up line.
    name: String,
    answers: HashMap<Key, Vec<Arc<Flow>>>,
    cursors: Mutex<HashMap<Key, usize>>,
    /// Recorded flows already warned about (a truncated body is said once, not per request).
    warned: Mutex<HashSet<u64>>,
    /// Flows of the file that cannot be answered (tunnels, requests cut short before an
    /// answer, unreadable URLs).
    skipped: usize,
}

impl Recording {
    /// Index `flows` (in the order of their ids: the order they were recorded in).
    pub fn new(name: impl Into<String>, mut flows: Vec<Flow>) -> Recording {
        flows.sort_by_key(|f| (f.started_at_us, f.id));
        let mut answers: HashMap<Key, Vec<Arc<Flow>>> = HashMap::new();
        let mut skipped = 0;
        for flow in flows {
            match Key::of(&flow.request.method, &flow.request.url).filter(|_| answerable(&flow)) {
                Some(key) => answers.entry(key).or_default().push(Arc::new(flow)),
                None => skipped += 1,
            }
        }
        for list in answers.values_mut() {
            complete_client_cut_bodies(list);
        }
        Recording {
            name: name.into(),
            answers,
            cursors: Mutex::default(),
            warned: Mutex::default(),
            skipped,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Requests it can answer, and flows it had to leave out.
    pub fn counts(&self) -> (usize, usize) {
        (self.answers.values().map(Vec::len).sum(), self.skipped)
    }

    /// The answer to `method url`, moving that request's cursor on.
    pub fn answer(&self, method: &str, url: &str) -> Served {
        let Some(key) = Key::of(method, url) else {
            return Served::Unknown;
        };
        let Some(list) = self.answers.get(&key) else {
            return Served::Unknown;
        };
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        let cursor = cursors.entry(key).or_insert(0);
        let index = (*cursor).min(list.len() - 1);
        *cursor += 1;
        Served::Recorded {
            flow: list[index].clone(),
            nth: index + 1,
            of: list.len(),
        }
    }

    /// True the first time it is asked about the recorded flow `id`.
    pub fn first_warning(&self, id: u64) -> bool {
        self.warned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id)
    }

    /// The text of the 404 for a request the recording does not have.
    pub fn unknown_text(&self, method: &str, url: &str) -> String {
        let (n, _) = self.counts();
        format!(
            "gomitm serve: {method} {url} is not in the recording {} ({n} recorded requests; \
             host, method, path and query must match)\n",
            self.name
        )
    }
}

/// A flow that told the client something: an answer (whole, cut short or capped), or a
/// failure gomitm answered itself. Tunnels carry no request to match, and a request whose
/// client left (or that gomitm stopped) before any answer has nothing to replay.
fn answerable(flow: &Flow) -> bool {
    if flow.kind != FlowKind::Http {
        return false;
    }
    match (&flow.response, &flow.error) {
        (Some(_), _) => true,
        (None, Some(e)) => !matches!(e.class, ErrorClass::ClientAbort | ErrorClass::Interrupted),
        (None, None) => false,
    }
}

/// An answer whose body the *client* stopped reading (Go 1.24+ cancels a 4xx once it has the
/// head, then asks again) was sent whole by the server: it takes the body of an identical
/// request's answer with the same status that was read to the end, so that serving it does
/// not turn the server's words into a cut-short stream the client never saw. Without such an
/// answer it stays as recorded (and is served flagged as cut short).
fn complete_client_cut_bodies(list: &mut [Arc<Flow>]) {
    let whole = |f: &Flow| {
        f.response
            .as_ref()
            .filter(|r| r.body.complete && !r.body.truncated)
            .map(|r| (r.status, r.body.clone()))
    };
    let answers: Vec<(u16, crate::flow::BodyCapture)> =
        list.iter().filter_map(|f| whole(f)).collect();
    for flow in list.iter_mut() {
        let cut_by_client = flow
            .error
            .as_ref()
            .is_some_and(|e| e.class == ErrorClass::ClientAbort)
            && flow.response.as_ref().is_some_and(|r| !r.body.complete);
        if !cut_by_client {
            continue;
        }
        let Some(status) = flow.response.as_ref().map(|r| r.status) else {
            continue;
        };
        if let Some((_, body)) = answers.iter().find(|(s, _)| *s == status) {
            let f = Arc::make_mut(flow);
            if let Some(r) = f.response.as_mut() {
                r.body = body.clone();
            }
            f.error = None;
        }
    }
}

/// Why a recorded answer is not whole, for the `X-Gomitm-Truncated` header: the capture cap
/// kept a prefix, or the body was cut short when it was recorded.
pub fn truncation(flow: &Flow) -> Option<String> {
    let body = &flow.response.as_ref()?.body;
    let kept = body.data.len();
    if body.truncated {
        return Some(format!(
            "the recording kept {kept} of {} bytes (the capture cap)",
            body.total
        ));
    }
    if !body.complete || body.total > kept as u64 {
        return Some(format!(
            "the body was cut short when recorded: {kept} bytes, then {}",
            flow.error
                .as_ref()
                .map_or("the end".to_string(), |e| e.message.clone())
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{BodyCapture, FlowError, Response};

    fn flow(id: u64, method: &str, url: &str, status: u16) -> Flow {
        let mut f = Flow {
            id,
            started_at_us: id as i64,
            ..Flow::default()
        };
        f.request_mut().method = method.to_string().into();
        f.request_mut().url = url.into();
        f.response = Some(Response {
            status,
            ..Response::default()
        });
        f
    }

    fn status(s: &Served) -> Option<(u16, usize, usize)> {
        match s {
            Served::Recorded { flow, nth, of } => {
                Some((flow.response.as_ref().unwrap().status, *nth, *of))
            }
            Served::Unknown => None,
        }
    }

    #[test]
    fn a_4xx_the_client_stopped_reading_is_served_with_the_words_of_its_repeat() {
        let url = "https://a.test/m/@v/v1.0.0.info";
        let words = b"not found: m@v1.0.0\n".to_vec();
        let mut cut = flow(1, "GET", url, 404);
        cut.error = Some(FlowError {
            class: ErrorClass::ClientAbort,
            message: "the client went away before the response body ended".into(),
        });
        let mut whole = flow(2, "GET", url, 404);
        if let Some(r) = whole.response.as_mut() {
            r.body = BodyCapture {
                data: words.clone(),
                total: words.len() as u64,
                truncated: false,
                complete: true,
            };
        }
        let rec = Recording::new("t.har", vec![cut.clone(), whole]);
        let Served::Recorded { flow: first, .. } = rec.answer("GET", url) else {
            panic!("recorded");
        };
        assert_eq!(first.id, 1, "still the first answer, in order");
        assert_eq!(first.response.as_ref().unwrap().body.data, words);
        assert_eq!(truncation(&first), None, "served whole, not flagged");

        // With no whole answer of the same status to borrow, it stays cut short (flagged).
        let rec = Recording::new("t.har", vec![cut]);
        let Served::Recorded { flow: only, .. } = rec.answer("GET", url) else {
            panic!("recorded");
        };
        assert!(truncation(&only).is_some());
    }

    #[test]
    fn matches_method_host_path_and_query() {
        let rec = Recording::new(
            "t.har",
            vec![
                flow(1, "GET", "https://a.test/m/@v/list", 200),
                flow(2, "GET", "https://a.test/m/@v/list?x=1", 201),
                flow(3, "POST", "https://a.test/m/@v/list", 202),
                flow(4, "GET", "https://b.test:8443/m/@v/list", 203),
            ],
        );
        let got = |m: &str, u: &str| status(&rec.answer(m, u)).map(|s| s.0);
        assert_eq!(got("GET", "https://a.test/m/@v/list"), Some(200));
        assert_eq!(got("get", "https://A.TEST:443/m/@v/list"), Some(200));
        assert_eq!(got("GET", "http://a.test:443/m/@v/list"), Some(200));
        assert_eq!(got("GET", "https://a.test/m/@v/list?x=1"), Some(201));
        assert_eq!(got("POST", "https://a.test/m/@v/list"), Some(202));
        assert_eq!(got("GET", "https://b.test:8443/m/@v/list"), Some(203));
        assert_eq!(got("GET", "https://b.test/m/@v/list"), None, "port differs");
        assert_eq!(got("GET", "https://a.test/m/@v/list?x=2"), None, "query");
        assert_eq!(got("GET", "https://a.test/M/@v/list"), None, "path case");
        assert_eq!(got("PUT", "https://a.test/m/@v/list"), None, "method");
        assert_eq!(got("GET", "not a url"), None);
    }

    #[test]
    fn identical_requests_come_back_in_recorded_order_then_the_last_repeats() {
        let url = "https://a.test/m/@v/v1.0.0.info";
        // Ids out of order in the file: the start times decide.
        let rec = Recording::new(
            "t.har",
            vec![
                flow(3, "GET", url, 200),
                flow(1, "GET", url, 404),
                flow(2, "GET", url, 503),
            ],
        );
        let seq: Vec<_> = (0..5).map(|_| status(&rec.answer("GET", url))).collect();
        assert_eq!(
            seq,
            vec![
                Some((404, 1, 3)),
                Some((503, 2, 3)),
                Some((200, 3, 3)),
                Some((200, 3, 3)),
                Some((200, 3, 3))
            ]
        );
    }

    #[test]
    fn unknown_requests_and_unanswerable_flows() {
        let mut tunnel = flow(1, "CONNECT", "https://a.test/", 200);
        tunnel.kind = FlowKind::Tunnel;
        let mut aborted = flow(2, "GET", "https://a.test/x", 0);
        aborted.response = None;
        aborted.error = Some(FlowError {
            class: ErrorClass::ClientAbort,
            message: "client left".into(),
        });
        let mut dns = flow(3, "GET", "https://a.test/y", 0);
        dns.response = None;
        dns.error = Some(FlowError {
            class: ErrorClass::Dns,
            message: "dns lookup of a.test failed".into(),
        });
        let rec = Recording::new("team.har", vec![tunnel, aborted, dns]);
        assert_eq!(rec.counts(), (1, 2));
        assert_eq!(rec.answer("GET", "https://a.test/x"), Served::Unknown);
        assert!(matches!(
            rec.answer("GET", "https://a.test/y"),
            Served::Recorded { .. }
        ));
        let text = rec.unknown_text("GET", "https://a.test/x");
        assert!(
            text.contains("not in the recording team.har") && text.contains("https://a.test/x"),
            "{text}"
        );
    }

    #[test]
    fn truncated_bodies_are_told_apart_from_whole_ones() {
        let mut whole = flow(1, "GET", "https://a.test/z", 200);
        whole.response.as_mut().unwrap().body = BodyCapture {
            data: vec![1; 10],
            total: 10,
            truncated: false,
            complete: true,
        };
        assert_eq!(truncation(&whole), None);
        let mut capped = whole.clone();
        capped.response.as_mut().unwrap().body = BodyCapture {
            data: vec![1; 10],
            total: 100,
            truncated: true,
            complete: true,
        };
        let why = truncation(&capped).unwrap();
        assert!(why.contains("10 of 100"), "{why}");
        let mut cut = whole.clone();
        cut.response.as_mut().unwrap().body.complete = false;
        cut.error = Some(FlowError {
            class: ErrorClass::UpstreamReset,
            message: "upstream a.test closed or reset the connection".into(),
        });
        let why = truncation(&cut).unwrap();
        assert!(why.contains("cut short") && why.contains("reset"), "{why}");
    }
}
