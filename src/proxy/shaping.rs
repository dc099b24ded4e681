//! Body shaping for rules: `Throttled` (bandwidth limit, like Charles' throttling) and
//! `Truncated` (cut the body after N bytes with an error, to reproduce a reset mid-download).
//!
//! Both wrap a body without copying it; they know nothing about rules or flows.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::body::BoxError;

/// Frames are re-cut to at most this many bytes so that a slow rate stays smooth.
const SLICE: usize = 16 * 1024;

/// Holds each frame back until `bytes_sent / rate` seconds have passed since the first one.
pub struct Throttled<B> {
    inner: B,
    bytes_per_sec: u64,
    started: Option<Instant>,
    sent: u64,
    pending: Option<Bytes>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> Throttled<B> {
    pub fn new(inner: B, bytes_per_sec: u64) -> Self {
        Throttled {
            inner,
            bytes_per_sec: bytes_per_sec.max(1),
            started: None,
            sent: 0,
            pending: None,
            sleep: None,
        }
    }

    /// When the next `n` bytes may go: after the ones already sent had their time.
    fn due(&self) -> Instant {
        let start = self.started.unwrap_or_else(Instant::now);
        start + Duration::from_secs_f64(self.sent as f64 / self.bytes_per_sec as f64)
    }
}

impl<B> Body for Throttled<B>
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
        loop {
            if let Some(sleep) = this.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            if let Some(mut data) = this.pending.take() {
                let due = this.due();
                if due > Instant::now() {
                    this.pending = Some(data);
                    this.sleep = Some(Box::pin(tokio::time::sleep_until(due)));
                    continue;
                }
                let chunk = data.split_to(data.len().min(SLICE));
                this.sent += chunk.len() as u64;
                if !data.is_empty() {
                    this.pending = Some(data);
                }
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        this.started.get_or_insert_with(Instant::now);
                        this.pending = Some(data);
                    }
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection reset by rule {rule:?} after {after} bytes")]
pub struct InjectedReset {
    pub rule: String,
    pub after: u64,
}

/// How long the bytes before the cut get to reach the client: hyper drops its unwritten
/// buffer when a body fails, so failing at once would cut the response head too.
const FLUSH_GRACE: Duration = Duration::from_millis(100);

/// Passes the first `after` bytes, then fails as a reset would.
pub struct Truncated<B> {
    inner: B,
    rule: String,
    after: u64,
    passed: u64,
    failed: bool,
    grace: Option<Pin<Box<Sleep>>>,
}

impl<B> Truncated<B> {
    pub fn new(inner: B, rule: String, after: u64) -> Self {
        Truncated {
            inner,
            rule,
            after,
            passed: 0,
            failed: false,
            grace: None,
        }
    }

    fn reset(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let grace = self
            .grace
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_GRACE)));
        if grace.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.failed = true;
        let err = InjectedReset {
            rule: self.rule.clone(),
            after: self.after,
        };
        Poll::Ready(Some(Err(Box::new(err))))
    }
}

impl<B> Body for Truncated<B>
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
        if this.failed {
            return Poll::Ready(None);
        }
        if this.passed >= this.after {
            return this.reset(cx);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    let room = (this.after - this.passed) as usize;
                    if data.len() > room {
                        data.truncate(room);
                    }
                    this.passed += data.len() as u64;
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            // The body ended before the cut: the client still sees a reset, as configured.
            Poll::Ready(None) => this.reset(cx),
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    fn body(n: usize) -> http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError> {
        Full::new(Bytes::from(vec![7u8; n]))
            .map_err(|never| match never {})
            .boxed_unsync()
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_holds_the_body_to_the_rate() {
        let start = Instant::now();
        let out = Throttled::new(body(64 * 1024), 16 * 1024)
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(out.len(), 64 * 1024);
        let took = start.elapsed();
        // The last 16 KiB slice may go at 3 s: the first three had their second each.
        assert!(took >= Duration::from_secs(3), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    }

    #[tokio::test]
    async fn truncated_passes_n_bytes_then_fails() {
        let mut b = Truncated::new(body(5000), "cut".into(), 1000);
        let mut got = 0;
        let err = loop {
            match b.frame().await {
                Some(Ok(f)) => got += f.into_data().map(|d| d.len()).unwrap_or(0),
                Some(Err(e)) => break e,
                None => panic!("ended without the reset"),
            }
        };
        assert_eq!(got, 1000);
        assert!(
            err.to_string()
                .contains("reset by rule \"cut\" after 1000 bytes"),
            "{err}"
        );
        assert!(b.frame().await.is_none());
    }

    #[tokio::test]
    async fn truncated_resets_even_a_shorter_body() {
        let b = Truncated::new(body(10), "r".into(), 1000);
        assert!(b.collect().await.is_err());
    }
}
