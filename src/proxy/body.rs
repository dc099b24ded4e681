//! `CapturingBody`: forwards body frames untouched while keeping a capped prefix and a count.
//!
//! It reports exactly once how the body ended — complete, failed, timed out, or dropped (the
//! other side went away) — through a callback, so the exchange can finish its flow. It takes
//! no lock and does no formatting per frame: it sits on the hot path of every byte.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use super::hashing::HashTap;
use crate::flow::BodyCapture;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type gomitm passes between client and upstream, in both directions.
pub type ProxyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// How a body stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyEnd {
    Complete,
    /// The source failed (upstream reset, client reset…).
    Failed(String),
    /// The source broke its own framing (a chunk-size line that is no number, a chunk not
    /// followed by CRLF): a protocol error, which no retry of the same server fixes.
    Malformed(String),
    /// No frame arrived within the idle timeout.
    IdleTimeout(Duration),
    /// The consumer dropped the body before its end (the receiving peer went away).
    Dropped,
}

#[derive(Debug)]
pub struct BodyOutcome {
    pub capture: BodyCapture,
    pub end: BodyEnd,
    pub ended_at: Instant,
    /// When the first data frame passed (for request bodies: when sending started).
    pub first_frame_at: Option<Instant>,
}

#[derive(Debug, thiserror::Error)]
#[error("no data for {0:?} (upstream timeout)")]
pub struct IdleTimeoutError(pub Duration);

/// `F` is told the outcome once. A type parameter, not a boxed closure: the body is boxed
/// as a whole anyway, and a boxed callback was one more allocation per body, two per request.
pub struct CapturingBody<B, F: FnOnce(BodyOutcome)> {
    inner: B,
    cap: usize,
    data: Vec<u8>,
    total: u64,
    first_frame_at: Option<Instant>,
    idle: Option<Idle>,
    /// Copies of the data frames for the integrity hasher; dropped when the body ends, which
    /// tells the hasher the stream is over.
    tap: Option<HashTap>,
    on_done: Option<F>,
}

impl<B: Body, F: FnOnce(BodyOutcome)> CapturingBody<B, F> {
    pub fn new(inner: B, cap: usize, on_done: F) -> Self {
        let empty = inner.is_end_stream();
        let mut body = CapturingBody {
            inner,
            cap,
            data: Vec::new(),
            total: 0,
            first_frame_at: None,
            idle: None,
            tap: None,
            on_done: Some(on_done),
        };
        // An empty body (a GET, a 204) may never be polled: it is complete as it stands.
        if empty {
            body.finish(BodyEnd::Complete);
        }
        body
    }
}

impl<B, F: FnOnce(BodyOutcome)> CapturingBody<B, F> {
    /// Fail the body when no frame arrives for `timeout` (a stalled upstream).
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle = timeout.map(|limit| Idle {
            limit,
            since: tokio::time::Instant::now(),
            timer: None,
        });
        self
    }

    /// Hand every data frame to an integrity hasher as well (a body already at its end
    /// drops the tap at once: there is nothing more to feed).
    pub fn with_tap(mut self, tap: Option<HashTap>) -> Self {
        if self.on_done.is_some() {
            self.tap = tap;
        }
        self
    }

    fn finish(&mut self, end: BodyEnd) {
        self.tap = None;
        if let Some(done) = self.on_done.take() {
            let capture = BodyCapture {
                truncated: (self.data.len() as u64) < self.total,
                data: std::mem::take(&mut self.data),
                total: self.total,
                complete: end == BodyEnd::Complete,
            };
            done(BodyOutcome {
                capture,
                end,
                ended_at: Instant::now(),
                first_frame_at: self.first_frame_at,
            });
        }
    }

    fn record(&mut self, chunk: &Bytes) {
        if let Some(tap) = self.tap.as_mut() {
            tap.feed(chunk);
        }
        if self.first_frame_at.is_none() {
            self.first_frame_at = Some(Instant::now());
        }
        self.total += chunk.len() as u64;
        let room = self.cap.saturating_sub(self.data.len());
        if room > 0 {
            let take = room.min(chunk.len());
            self.data.extend_from_slice(&chunk[..take]);
        }
    }
}

impl<B, F> Body for CapturingBody<B, F>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
    F: FnOnce(BodyOutcome) + Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.on_done.is_none() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(chunk) = frame.data_ref() {
                    this.record(chunk);
                }
                if let Some(idle) = this.idle.as_mut() {
                    idle.since = tokio::time::Instant::now();
                }
                // Hyper stops polling once the body says it is at its end, so a body with a
                // known length may never yield `None`: its last frame completes it.
                if this.inner.is_end_stream() {
                    this.finish(BodyEnd::Complete);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                let e: BoxError = e.into();
                let message = error_chain(e.as_ref());
                this.finish(if breaks_framing(e.as_ref()) {
                    BodyEnd::Malformed(message)
                } else {
                    BodyEnd::Failed(message)
                });
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finish(BodyEnd::Complete);
                Poll::Ready(None)
            }
            Poll::Pending => this.poll_idle(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.on_done.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B, F: FnOnce(BodyOutcome)> CapturingBody<B, F> {
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(idle) = self.idle.as_mut() else {
            return Poll::Pending;
        };
        let d = idle.limit;
        let deadline = idle.since + d;
        let timer = match idle.timer.as_mut() {
            Some(timer) => {
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            None => idle
                .timer
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.finish(BodyEnd::IdleTimeout(d));
                Poll::Ready(Some(Err(Box::new(IdleTimeoutError(d)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The idle timeout of a body: armed only when the body has to wait for data. A body whose
/// frames are ready when asked (a small answer, already read with its head: most of them)
/// never registers a timer, which cost an allocation and two timer-wheel updates a request.
struct Idle {
    limit: Duration,
    /// The last frame, or the body's start: the timeout runs from here.
    since: tokio::time::Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B, F: FnOnce(BodyOutcome)> Drop for CapturingBody<B, F> {
    fn drop(&mut self) {
        self.finish(BodyEnd::Dropped);
    }
}

/// A body with extra bytes after its end: gomitm's diagnosis appended to an upstream error
/// text (`--annotate`). A newline is added first when the body did not end with one.
pub struct Appended<B> {
    inner: B,
    tail: Option<Bytes>,
    last_byte: Option<u8>,
    inner_done: bool,
}

impl<B> Appended<B> {
    pub fn new(inner: B, tail: Bytes) -> Self {
        Appended {
            inner,
            tail: Some(tail),
            last_byte: None,
            inner_done: false,
        }
    }
}

impl<B> Body for Appended<B>
where
    B: Body<Data = Bytes, Error = BoxError> + Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if !this.inner_done {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(last) = frame.data_ref().and_then(|d| d.last()) {
                        this.last_byte = Some(*last);
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(None) => this.inner_done = true,
                other => return other,
            }
        }
        let Some(tail) = this.tail.take() else {
            return Poll::Ready(None);
        };
        let data = match this.last_byte {
            Some(b) if b != b'\n' => [Bytes::from_static(b"\n"), tail].concat().into(),
            _ => tail,
        };
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner_done && self.tail.is_none()
    }
}

/// `a: b: c` from an error and its sources, skipping repeats (hyper nests the same text).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// hyper's HTTP/1.1 body decoder reports what breaks the framing (chunk sizes, the CRLF after
/// a chunk, trailers) as `InvalidInput`/`InvalidData`, and a connection that ended early as
/// `UnexpectedEof`: only the first is the sender's malformed message.
fn breaks_framing(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            );
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    type Slot = Arc<Mutex<Option<BodyOutcome>>>;

    fn collect_outcome() -> (Slot, impl FnOnce(BodyOutcome) + Send) {
        let slot = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        (slot, move |o| *s2.lock().unwrap() = Some(o))
    }

    /// A scripted body: yields each item, then `Pending` forever once the script runs out
    /// if `stall` is set, else ends.
    struct Script {
        items: VecDeque<Result<Frame<Bytes>, BoxError>>,
        stall: bool,
    }
    impl Body for Script {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            match self.items.pop_front() {
                Some(item) => Poll::Ready(Some(item)),
                None if self.stall => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }
    fn script(items: Vec<Result<Frame<Bytes>, BoxError>>, stall: bool) -> Script {
        Script {
            items: items.into(),
            stall,
        }
    }
    fn data(b: &'static [u8]) -> Result<Frame<Bytes>, BoxError> {
        Ok(Frame::data(Bytes::from_static(b)))
    }

    #[tokio::test]
    async fn forwards_everything_keeps_capped_prefix_and_counts_total() {
        let (slot, done) = collect_outcome();
        let body = CapturingBody::new(Full::new(Bytes::from(vec![9u8; 1000])), 100, done);
        let out = body.collect().await.unwrap().to_bytes();
        assert_eq!(out.len(), 1000);
        let o = slot.lock().unwrap().take().unwrap();
        assert_eq!(o.end, BodyEnd::Complete);
        assert_eq!(o.capture.data.len(), 100);
        assert_eq!(o.capture.total, 1000);
        assert!(o.capture.truncated && o.capture.complete);
    }

    #[tokio::test]
    async fn a_failing_source_is_reported_failed_with_its_message() {
        let (slot, done) = collect_outcome();
        let items = vec![data(b"abc"), Err("connection reset by peer".into())];
        let body = CapturingBody::new(script(items, false), 10, done);
        assert!(body.collect().await.is_err());
        let o = slot.lock().unwrap().take().unwrap();
        assert!(
            matches!(&o.end, BodyEnd::Failed(m) if m.contains("reset")),
            "{:?}",
            o.end
        );
        assert_eq!(o.capture.data, b"abc");
        assert!(!o.capture.complete);
    }

    #[tokio::test]
    async fn an_empty_body_is_complete_without_being_polled() {
        let (slot, done) = collect_outcome();
        let body = CapturingBody::new(http_body_util::Empty::<Bytes>::new(), 10, done);
        assert!(body.is_end_stream());
        drop(body);
        let o = slot.lock().unwrap().take().unwrap();
        assert_eq!(o.end, BodyEnd::Complete);
        assert!(o.capture.complete);
    }

    #[tokio::test]
    async fn dropping_before_the_end_reports_dropped_once() {
        let (slot, done) = collect_outcome();
        let mut body = CapturingBody::new(script(vec![data(b"x"), data(b"y")], false), 10, done);
        let _ = body.frame().await;
        drop(body);
        let o = slot.lock().unwrap().take().unwrap();
        assert_eq!(o.end, BodyEnd::Dropped);
        assert_eq!(o.capture.total, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_source_times_out() {
        let (slot, done) = collect_outcome();
        let body = CapturingBody::new(script(vec![data(b"x")], true), 10, done)
            .with_idle_timeout(Some(Duration::from_secs(5)));
        let err = body.collect().await.unwrap_err();
        assert!(err.to_string().contains("timeout"), "{err}");
        let o = slot.lock().unwrap().take().unwrap();
        assert_eq!(o.end, BodyEnd::IdleTimeout(Duration::from_secs(5)));
        assert_eq!(o.capture.total, 1);
    }

    /// A body fed by a channel: frames arrive when the test sends them.
    struct Channel(tokio::sync::mpsc::Receiver<Bytes>);

    impl Body for Channel {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_timeout_runs_from_the_last_frame() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (slot, done) = collect_outcome();
        let body = CapturingBody::new(Channel(rx), 10, done)
            .with_idle_timeout(Some(Duration::from_secs(5)));
        let start = tokio::time::Instant::now();
        // Frames at 0, 4 and 8 s, each within the limit of the one before; then a stall.
        let feeder = tokio::spawn(async move {
            for _ in 0..3 {
                tx.send(Bytes::from_static(b"ab")).await.ok();
                tokio::time::sleep(Duration::from_secs(4)).await;
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        let err = body.collect().await.unwrap_err();
        let waited = start.elapsed();
        assert!(err.to_string().contains("timeout"), "{err}");
        assert!(
            waited >= Duration::from_secs(13) && waited < Duration::from_secs(14),
            "timed out after {waited:?}, not 5 s after the last frame (8 s)"
        );
        let o = slot.lock().unwrap().take().unwrap();
        assert_eq!(o.end, BodyEnd::IdleTimeout(Duration::from_secs(5)));
        assert_eq!(o.capture.total, 6);
        feeder.abort();
    }

    #[tokio::test]
    async fn appended_adds_a_newline_then_the_tail() {
        let inner = Full::new(Bytes::from_static(b"not found: x"))
            .map_err(|never| match never {})
            .boxed_unsync();
        let body = Appended::new(inner, Bytes::from_static(b"gomitm fix: y\n"));
        let out = body.collect().await.unwrap().to_bytes();
        assert_eq!(&out[..], b"not found: x\ngomitm fix: y\n");
    }

    #[test]
    fn error_chain_joins_sources_without_repeats() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert_eq!(error_chain(&io), "reset by peer");
    }
}
