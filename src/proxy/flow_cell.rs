//! `FlowCell`: the in-progress flow of one exchange, finished exactly once, whatever happens
//! (response body complete or cut, upstream failure, client gone). Records the response head,
//! wraps both bodies in `CapturingBody`, and computes send/wait/receive when the body ends.
//!
//! A module zip or go.mod answer is also hashed (`hashing`): the flow is finished only once
//! the hash is in it (waiting asynchronously, at most `WAIT_FOR_HASH`), so every observer sees
//! the hash on the finished flow.
//!
//! Owns the per-exchange flow state; it does not decide anything about routing or rules.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::body::{BodyEnd, BodyOutcome, CapturingBody, ProxyBody};
use super::error::ProxyError;
use super::hashing::{self, HashResult, HashTap};
use super::record::ms_since;
use super::record::response_of;
use super::upstream::ConnMeta;
use crate::flow::{BodyHash, ErrorClass, Flow, FlowError, FlowState, GoKind, RetryReason};
use crate::store::Store;

pub struct FlowCell {
    /// `None` for flows an `ignore` rule keeps out of the record.
    store: Option<Arc<Store>>,
    /// Shared with the store's snapshot once published: `edit` copies it only when a
    /// published flow changes again, so an exchange costs two copies of its flow, not one per
    /// event plus a working copy.
    flow: Mutex<Arc<Flow>>,
    pub started: Instant,
    marks: Mutex<Marks>,
    /// The integrity hash on its way, for a 2xx module zip or go.mod answer.
    hash: Mutex<Option<HashResult>>,
}

#[derive(Default)]
struct Marks {
    sent_at: Option<Instant>,
    head_at: Option<Instant>,
    request_end: Option<Instant>,
    /// The client's request body failed (malformed, or the client went away mid-body).
    request_fault: Option<ProxyError>,
}

/// How the connection of an upstream response was made (for the record).
pub struct HeadSource<'a> {
    pub meta: &'a ConnMeta,
    pub reused: bool,
    pub sent_at: Instant,
    pub head_at: Instant,
    pub retried: Option<RetryReason>,
}

impl FlowCell {
    pub fn start(store: Arc<Store>, flow: Flow, recorded: bool) -> Arc<FlowCell> {
        let (store, flow) = if recorded {
            let stored = store.add(flow);
            (Some(store), stored)
        } else {
            (None, Arc::new(flow))
        };
        Arc::new(FlowCell {
            store,
            flow: Mutex::new(flow),
            started: Instant::now(),
            marks: Mutex::new(Marks::default()),
            hash: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Arc<Flow>> {
        self.flow.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change the flow (copying it first if the store holds it) without publishing.
    pub fn edit<R>(&self, change: impl FnOnce(&mut Flow) -> R) -> R {
        change(Arc::make_mut(&mut self.lock()))
    }

    /// The session is cutting in-flight flows short: a body or handler dropped now was
    /// dropped by gomitm, not by the client.
    fn interrupted(&self) -> bool {
        self.store.as_ref().is_some_and(|s| s.is_interrupted())
    }

    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Announce the flow as it stands.
    fn publish(&self, flow: &Arc<Flow>) {
        if let Some(store) = &self.store {
            store.update_shared(flow.clone());
        }
    }

    /// Announce an in-flight change, when some observer shows flows in flight. Unpublished,
    /// the cell's copy stays its own, so the next change needs no copy of the flow.
    fn publish_progress(&self, flow: &Arc<Flow>) {
        if self.store.as_ref().is_some_and(|s| s.progress_events()) {
            self.publish(flow);
        }
    }

    pub fn wrap_request_body(self: Arc<Self>, body: Incoming, cap: usize) -> ProxyBody {
        let cell = self.clone();
        // Noted as it happens: the upstream side then fails too, and must not take the blame.
        let body = body.map_err(move |e| {
            cell.marks().request_fault = Some(client_body_fault(&e));
            e
        });
        CapturingBody::new(body, cap, move |o| self.request_body_done(o)).boxed_unsync()
    }

    /// The client's request body failure, when the exchange failed because of it.
    pub fn request_fault(&self) -> Option<ProxyError> {
        self.marks().request_fault.clone()
    }

    fn request_body_done(&self, outcome: BodyOutcome) {
        self.marks().request_end = Some(outcome.ended_at);
        let mut flow = self.lock();
        // A bodiless request's capture is already right: no copy for it.
        if flow.request.body != outcome.capture {
            Arc::make_mut(&mut flow).request_mut().body = outcome.capture;
            if flow.is_done() {
                self.publish(&flow);
            }
        }
    }

    pub fn fail(&self, e: &ProxyError) -> Arc<Flow> {
        self.fail_with(FlowError {
            class: e.class(),
            message: e.to_string(),
        })
    }

    /// Fail the flow with an error as it stands (`serve` replays a recorded failure).
    pub fn fail_with(&self, error: FlowError) -> Arc<Flow> {
        let mut guard = self.lock();
        if guard.is_done() {
            return guard.clone();
        }
        let flow = Arc::make_mut(&mut guard);
        flow.error = Some(error);
        flow.state = FlowState::Done;
        flow.timings.total_ms = Some(ms_since(self.started));
        self.publish(&guard);
        guard.clone()
    }

    /// Record an upstream response head and the connection it came on; returns the flow as
    /// recorded (the published snapshot itself).
    pub fn record_upstream_head(
        &self,
        parts: &http::response::Parts,
        src: HeadSource<'_>,
    ) -> Arc<Flow> {
        {
            let mut marks = self.marks();
            marks.sent_at = Some(src.sent_at);
            marks.head_at = Some(src.head_at);
        }
        let mut guard = self.lock();
        let flow = Arc::make_mut(&mut guard);
        flow.response = Some(response_of(parts));
        let dial = &src.meta.dial;
        let c = &mut flow.connection;
        c.upstream = src.meta.record.clone();
        c.upstream_conn_id = Some(src.meta.id);
        c.reused = src.reused;
        c.retried = src.retried;
        if !src.reused {
            flow.timings.dns_ms = dial.dns_ms;
            flow.timings.connect_ms = dial.connect_ms;
            flow.timings.tls_ms = dial.tls_ms;
        }
        self.publish_progress(&guard);
        guard.clone()
    }

    /// Record a head gomitm produced itself (a rule's answer): nothing was sent upstream.
    pub fn record_local_head(&self, parts: &http::response::Parts) -> Arc<Flow> {
        let now = Instant::now();
        {
            let mut marks = self.marks();
            marks.sent_at = Some(now);
            marks.head_at = Some(now);
        }
        let mut guard = self.lock();
        let mut resp = response_of(parts);
        resp.http_version = "gomitm".into();
        Arc::make_mut(&mut guard).response = Some(resp);
        self.publish_progress(&guard);
        guard.clone()
    }

    pub fn add_rules(&self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut guard = self.lock();
        Arc::make_mut(&mut guard)
            .rules
            .extend(names.iter().cloned());
        self.publish_progress(&guard);
    }

    /// The request was sent a second time; its failure is about to be recorded.
    pub fn record_retry(&self, reason: RetryReason) {
        self.edit(|f| f.connection.retried = Some(reason));
    }

    pub fn set_blocked_ms(&self, ms: f64) {
        self.edit(|f| f.timings.blocked_ms = Some(ms));
    }

    /// Start hashing the response body if `flow` (as recorded, head included) is a 2xx module
    /// zip or go.mod; the tap goes to [`wrap_response_body`](Self::wrap_response_body).
    pub fn start_hash(&self, flow: &Flow) -> Option<HashTap> {
        let (tap, result) = hashing::start(flow)?;
        *self.hash.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        tap
    }

    /// Capture the response body on its way to the client; the flow finishes when it ends.
    pub fn wrap_response_body<B>(
        self: Arc<Self>,
        body: B,
        cap: usize,
        idle: Option<std::time::Duration>,
        tap: Option<HashTap>,
    ) -> ProxyBody
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + Unpin + 'static,
        B::Error: Into<super::body::BoxError>,
    {
        CapturingBody::new(body, cap, move |o| self.response_done(o))
            .with_idle_timeout(idle)
            .with_tap(tap)
            .boxed_unsync()
    }

    fn response_done(self: &Arc<Self>, outcome: BodyOutcome) {
        let complete = outcome.end == BodyEnd::Complete;
        let pending = self.hash.lock().unwrap_or_else(|p| p.into_inner()).take();
        let (sent_at, head_at, request_end) = {
            let m = self.marks();
            (m.sent_at, m.head_at, m.request_end)
        };
        let mut guard = self.lock();
        if guard.is_done() {
            return;
        }
        let flow = Arc::make_mut(&mut guard);
        if let (Some(sent), Some(head)) = (sent_at, head_at) {
            // The request is "sent" when its body has been handed over; a body still
            // streaming when the head arrived counts as sent when the request was handed over
            // (send 0): its upload overlaps the wait.
            let req_end = request_end.filter(|e| *e <= head).unwrap_or(sent).max(sent);
            flow.timings.send_ms = Some(ms_between(sent, req_end));
            flow.timings.wait_ms = Some(ms_between(req_end, head));
            flow.timings.receive_ms = Some(ms_between(head, outcome.ended_at));
        }
        flow.error = match outcome.end {
            BodyEnd::Dropped if self.interrupted() => Some(interrupted_error("response body")),
            // Complete needs no host for its message: settled before one is looked up.
            BodyEnd::Complete => None,
            ref end => body_error(end, flow.host()),
        };
        if let Some(resp) = flow.response.as_mut() {
            resp.body = outcome.capture;
        }
        record_go_import(flow);
        flow.timings.total_ms = Some(ms_since(self.started));
        let rx = match pending {
            None => None,
            Some(_) if !complete => {
                set_hash(flow, hashing::not_verified(hashing::CUT_SHORT));
                None
            }
            Some(HashResult::Ready(h)) => {
                set_hash(flow, h);
                None
            }
            Some(HashResult::Pending(rx)) => Some(rx),
        };
        let Some(rx) = rx else {
            flow.state = FlowState::Done;
            self.publish(&guard);
            return;
        };
        drop(guard);
        // Not on the body's poll: the hasher may still be working through its last chunks.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let cell = self.clone();
                rt.spawn(async move {
                    let hash = match tokio::time::timeout(hashing::WAIT_FOR_HASH, rx).await {
                        Ok(Ok(h)) => h,
                        Ok(Err(_)) => hashing::not_verified("the hasher stopped without a result"),
                        Err(_) => hashing::not_verified(
                            "hashing did not finish within 5 s of the body's end",
                        ),
                    };
                    cell.finish_with_hash(hash);
                });
            }
            Err(_) => self.finish_with_hash(hashing::not_verified(
                "the body ended outside gomitm's runtime",
            )),
        }
    }

    /// A switched connection (`upgrade`) closed: its byte counts each way, how long it was
    /// open, and why it ended when that was a failure.
    pub fn finish_upgraded(
        &self,
        bytes_up: u64,
        bytes_down: u64,
        error: Option<(ErrorClass, String)>,
    ) {
        let head_at = self.marks().head_at;
        let mut guard = self.lock();
        if guard.is_done() {
            return;
        }
        let flow = Arc::make_mut(&mut guard);
        flow.tunnel = Some(crate::flow::TunnelStats {
            bytes_up,
            bytes_down,
        });
        if let Some(head) = head_at {
            flow.timings.receive_ms = Some(ms_since(head));
        }
        flow.timings.total_ms = Some(ms_since(self.started));
        flow.error = error.map(|(class, message)| FlowError { class, message });
        flow.state = FlowState::Done;
        self.publish(&guard);
    }

    /// The body has ended and its hash is known: store it and finish the flow.
    fn finish_with_hash(&self, hash: BodyHash) {
        let mut guard = self.lock();
        if guard.is_done() {
            return;
        }
        let flow = Arc::make_mut(&mut guard);
        set_hash(flow, hash);
        flow.state = FlowState::Done;
        self.publish(&guard);
    }
}

fn set_hash(flow: &mut Flow, hash: BodyHash) {
    if let Some(go) = flow.go.as_mut() {
        go.hash = Some(hash);
    }
}

/// Discovery answers carry their go-import tags (or their absence) in the record itself.
fn record_go_import(flow: &mut Flow) {
    let tags = match (&flow.go, &flow.response) {
        (Some(go), Some(resp)) if go.kind == GoKind::Discovery => {
            crate::go::discovery::go_imports(resp)
        }
        _ => return,
    };
    if let Some(go) = flow.go.as_mut() {
        go.go_import = tags;
    }
}

pub fn body_error(end: &BodyEnd, host: &str) -> Option<FlowError> {
    let (class, message) = match end {
        BodyEnd::Complete => return None,
        BodyEnd::Failed(m) => (
            ErrorClass::UpstreamReset,
            format!("upstream {host} cut the response body short: {m}"),
        ),
        BodyEnd::Malformed(m) => (
            ErrorClass::Protocol,
            format!("upstream {host} broke the HTTP framing of the response body: {m}"),
        ),
        BodyEnd::IdleTimeout(d) => (
            ErrorClass::UpstreamTimeout,
            format!("upstream {host} stalled mid-body: no data for {d:?}"),
        ),
        BodyEnd::Dropped => (
            ErrorClass::ClientAbort,
            "the client went away before the response body ended".to_string(),
        ),
    };
    Some(FlowError { class, message })
}

/// A request body that failed on the client's side: malformed framing (hyper's parse errors,
/// chunked and length errors, an h2 protocol error), or the client gone (anything else: an
/// early end of file, a reset or cancelled stream).
fn client_body_fault(e: &hyper::Error) -> ProxyError {
    let reason = super::body::error_chain(e);
    let lower = reason.to_ascii_lowercase();
    let h2_malformed = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<h2::Error>())
        .and_then(h2::Error::reason)
        .is_some_and(|r| r != h2::Reason::CANCEL && r != h2::Reason::NO_ERROR);
    let malformed = e.is_parse()
        || e.is_parse_too_large()
        || h2_malformed
        || ["chunk", "invalid", "content-length", "too large"]
            .iter()
            .any(|w| lower.contains(w));
    ProxyError::ClientBody {
        malformed: malformed && !e.is_incomplete_message(),
        reason,
    }
}

/// gomitm itself stopped the exchange (shutdown): the flow keeps what it had reached.
fn interrupted_error(waiting_for: &str) -> FlowError {
    FlowError {
        class: ErrorClass::Interrupted,
        message: format!("gomitm was stopped while the {waiting_for} was in flight"),
    }
}

fn ms_between(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64() * 1000.0
}

/// If the handler is dropped (the client hung up) before a response head, the flow still
/// finishes — as a client abort — instead of staying in flight forever.
pub struct AbortGuard(pub Arc<FlowCell>);

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let mut guard = self.0.lock();
        if guard.is_done() || guard.response.is_some() {
            return;
        }
        let flow = Arc::make_mut(&mut guard);
        // Dropped while unwinding: the exchange panicked, the client did nothing wrong.
        flow.error = Some(if std::thread::panicking() {
            FlowError {
                class: ErrorClass::Internal,
                message: "gomitm failed while handling this request (a panic, which is a bug \
                          in gomitm: its stderr has the message) and closed the connection"
                    .into(),
            }
        } else if self.0.interrupted() {
            interrupted_error("response head")
        } else {
            FlowError {
                class: ErrorClass::ClientAbort,
                message: "the client went away before the response arrived".into(),
            }
        });
        flow.state = FlowState::Done;
        flow.timings.total_ms = Some(ms_since(self.0.started));
        self.0.publish(&guard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_map_to_classes() {
        assert_eq!(body_error(&BodyEnd::Complete, "h"), None);
        let cut = body_error(&BodyEnd::Failed("reset".into()), "goproxy.test").unwrap();
        assert_eq!(cut.class, ErrorClass::UpstreamReset);
        assert!(cut.message.contains("goproxy.test"));
        let gone = body_error(&BodyEnd::Dropped, "h").unwrap();
        assert_eq!(gone.class, ErrorClass::ClientAbort);
        let slow = body_error(
            &BodyEnd::IdleTimeout(std::time::Duration::from_secs(1)),
            "h",
        );
        assert_eq!(slow.unwrap().class, ErrorClass::UpstreamTimeout);
    }

    #[test]
    fn the_published_flow_is_shared_with_the_store_not_copied() {
        let store = Arc::new(Store::new(crate::store::StoreLimits::default()));
        let cell = FlowCell::start(store.clone(), Flow::default(), true);
        let stored = store.snapshot()[0].clone();
        assert!(Arc::ptr_eq(&stored, &cell.lock()), "added: no copy");
        cell.set_blocked_ms(1.0);
        assert!(!Arc::ptr_eq(&stored, &cell.lock()), "an edit copies");
        assert_eq!(
            stored.timings.blocked_ms, None,
            "the store's snapshot is untouched"
        );
        let failed = cell.fail(&ProxyError::Refused("x".into()));
        assert!(Arc::ptr_eq(&failed, &store.snapshot()[0]));
        assert_eq!(failed.timings.blocked_ms, Some(1.0));
    }

    const QUOTE_ZIP: &[u8] = include_bytes!("../go/testdata/rsc.io_quote@v1.5.2.zip");

    /// A recorded 200 answer to a module zip request, its body wrapped for hashing.
    fn hashed_zip(store: &Arc<Store>, body: ProxyBody) -> ProxyBody {
        let mut flow = Flow {
            go: crate::go::classify(
                "GET",
                "https://p.test/rsc.io/quote/@v/v1.5.2.zip",
                &Default::default(),
            ),
            ..Flow::default()
        };
        flow.request_mut().method = "GET".into();
        let cell = FlowCell::start(store.clone(), flow, true);
        let (parts, ()) = http::Response::new(()).into_parts();
        let recorded = cell.record_local_head(&parts);
        let tap = cell.start_hash(&recorded);
        assert!(tap.is_some(), "a 200 zip is hashed");
        cell.wrap_response_body(body, 16, None, tap)
    }

    /// The flow's `Finished` event: it must already carry the hash.
    async fn done_flow(store: &Store, rx: &mut crate::store::Subscription) -> Arc<Flow> {
        loop {
            let event =
                tokio::time::timeout(std::time::Duration::from_secs(10), store.next_event(rx))
                    .await;
            match event {
                Ok(crate::store::Event {
                    kind: crate::store::EventKind::Finished,
                    flow,
                    ..
                }) => return flow,
                Ok(_) => {}
                Err(_) => panic!("no Finished event within 10 s"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streamed_zip_finishes_its_flow_with_gos_hash() {
        let store = Arc::new(Store::new(crate::store::StoreLimits::default()));
        let mut rx = store.subscribe();
        let chunks: Vec<Item> = QUOTE_ZIP
            .chunks(333)
            .map(|c| Ok(http_body::Frame::data(bytes::Bytes::copy_from_slice(c))))
            .collect();
        let body = script(chunks);
        let out = hashed_zip(&store, body).collect().await.unwrap().to_bytes();
        assert_eq!(&out[..], QUOTE_ZIP);
        let flow = done_flow(&store, &mut rx).await;
        let hash = flow
            .go
            .as_ref()
            .and_then(|g| g.hash.clone())
            .unwrap_or_default();
        assert_eq!(
            hash.h1.as_deref(),
            Some("h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y="),
            "{hash:?}"
        );
        assert_eq!(hash.files, Some(6));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_zip_cut_short_is_not_verified() {
        let store = Arc::new(Store::new(crate::store::StoreLimits::default()));
        let mut rx = store.subscribe();
        let items: Vec<Item> = vec![
            Ok(http_body::Frame::data(bytes::Bytes::from_static(
                &QUOTE_ZIP[..1000],
            ))),
            Err("connection reset by peer".into()),
        ];
        let body = script(items);
        assert!(hashed_zip(&store, body).collect().await.is_err());
        let flow = done_flow(&store, &mut rx).await;
        let hash = flow
            .go
            .as_ref()
            .and_then(|g| g.hash.clone())
            .unwrap_or_default();
        assert_eq!(hash.not_verified.as_deref(), Some(hashing::CUT_SHORT));
        assert_eq!(hash.h1, None);
    }

    type Item = Result<http_body::Frame<bytes::Bytes>, super::super::body::BoxError>;

    /// A body that yields `items` one by one, then ends.
    struct Script(std::collections::VecDeque<Item>);

    impl http_body::Body for Script {
        type Data = bytes::Bytes;
        type Error = super::super::body::BoxError;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Item>> {
            std::task::Poll::Ready(self.0.pop_front())
        }
    }

    fn script(items: Vec<Item>) -> ProxyBody {
        Script(items.into()).boxed_unsync()
    }

    #[test]
    fn an_ignored_flow_never_reaches_the_store() {
        let store = Arc::new(Store::new(crate::store::StoreLimits::default()));
        let cell = FlowCell::start(store.clone(), Flow::default(), false);
        cell.fail(&ProxyError::Refused("x".into()));
        assert!(store.is_empty());
        let cell = FlowCell::start(store.clone(), Flow::default(), true);
        cell.fail(&ProxyError::Refused("x".into()));
        assert_eq!(store.len(), 1);
        assert!(store.snapshot()[0].is_done());
    }

    #[tokio::test]
    async fn through_the_cell_every_ending_is_finished_once() {
        use crate::store::testing::{check_contract, Recorder};
        use crate::store::{EventKind, Observers};
        let store = Arc::new(Store::new(crate::store::StoreLimits::default()));
        let (recorder, seen) = Recorder::new();
        let mut observers = Observers::default();
        observers.attach(&store, Box::new(recorder));
        let in_flight = || Flow {
            state: FlowState::InFlight,
            ..Flow::default()
        };
        // Aborted (the client went away), then a failure arrives too late.
        let aborted = FlowCell::start(store.clone(), in_flight(), true);
        drop(AbortGuard(aborted.clone()));
        aborted.fail(&ProxyError::Refused("late".into()));
        // Failed twice.
        let failed = FlowCell::start(store.clone(), in_flight(), true);
        failed.fail(&ProxyError::Refused("first".into()));
        failed.fail(&ProxyError::Refused("second".into()));
        // Answered, its body complete; then its request body ends late; then the client's
        // handler is dropped.
        let answered = FlowCell::start(store.clone(), in_flight(), true);
        let (parts, ()) = http::Response::new(()).into_parts();
        answered.record_local_head(&parts);
        let body = answered.clone().wrap_response_body(
            script(vec![Ok(http_body::Frame::data(bytes::Bytes::from_static(
                b"ok",
            )))]),
            16,
            None,
            None,
        );
        let _ = body.collect().await;
        answered.request_body_done(BodyOutcome {
            capture: crate::flow::BodyCapture {
                data: b"late".to_vec(),
                total: 4,
                truncated: false,
                complete: true,
            },
            end: BodyEnd::Complete,
            ended_at: Instant::now(),
            first_frame_at: None,
        });
        drop(AbortGuard(answered.clone()));
        observers.close().await;
        let r = seen.lock().unwrap_or_else(|p| p.into_inner());
        check_contract(&r).unwrap_or_else(|e| panic!("{e}\n{:?}", r.events));
        let kinds = |id: u64| -> Vec<EventKind> {
            r.events.iter().filter(|e| e.2 == id).map(|e| e.1).collect()
        };
        use EventKind::*;
        assert_eq!(kinds(1), [Added, Finished], "aborted");
        assert_eq!(kinds(2), [Added, Finished], "failed twice");
        assert_eq!(kinds(3), [Added, Updated, Finished, Amended], "answered");
        let aborted = store.get(1).and_then(|f| f.error.clone()).map(|e| e.class);
        assert_eq!(aborted, Some(ErrorClass::ClientAbort));
    }
}
