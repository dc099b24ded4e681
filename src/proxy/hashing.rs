//! Integrity hashing of module downloads, off the request path: a 2xx `.zip` or `.mod` body's
//! chunks go (as cheap `Bytes` clones) to a task on the blocking pool that computes go's `h1:`
//! hash (`go::integrity`); the flow collects the result when the body has ended.
//!
//! Never slows or blocks the download: the body poll only sends on an unbounded channel
//! guarded by a budget of bytes in flight; past the budget it stops feeding, and the hash is
//! "not verified" rather than the download waiting. Owns no flow: `flow_cell` stores the result.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::flow::{header_value, BodyHash, Flow, GoKind};
use crate::go::integrity::ModHasher;
use crate::go::integrity_zip::ZipHasher;

/// Bytes handed to the hashers and not yet hashed, at most, across all downloads at once: the
/// memory hashing may cost is bounded whatever the number of parallel downloads, and one large
/// zip arriving faster than it hashes (a fast mirror, a slow debug build) still gets its hash.
pub const MAX_IN_FLIGHT: usize = 32 << 20;

/// The bytes in flight to every hasher of the process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// How long a finished body's flow waits for its hash.
pub const WAIT_FOR_HASH: Duration = Duration::from_secs(5);

pub const FELL_BEHIND: &str = "hashing fell behind the download";
pub const CUT_SHORT: &str = "the body was cut short";

/// The feeding end, held by the response body.
pub struct HashTap {
    tx: Option<mpsc::Sender<Bytes>>,
    in_flight: &'static AtomicUsize,
    fell_behind: Arc<AtomicBool>,
}

impl HashTap {
    /// Pass a chunk to the hasher, or give up (for good) when it is too far behind.
    pub fn feed(&mut self, chunk: &Bytes) {
        let Some(tx) = &self.tx else {
            return;
        };
        let n = chunk.len();
        if self.in_flight.fetch_add(n, Ordering::AcqRel) + n > MAX_IN_FLIGHT {
            self.fell_behind.store(true, Ordering::Release);
            self.tx = None;
            return;
        }
        if tx.send(chunk.clone()).is_err() {
            self.tx = None;
        }
    }
}

/// The result end, kept by the flow until its body ends.
pub enum HashResult {
    /// Decided before any byte (an encoding the hasher cannot undo).
    Ready(BodyHash),
    Pending(oneshot::Receiver<BodyHash>),
}

/// The hash for a flow whose body did not (or could not) get one.
pub fn not_verified(reason: &str) -> BodyHash {
    BodyHash {
        not_verified: Some(reason.to_string()),
        ..BodyHash::default()
    }
}

/// Start hashing `flow`'s response body if it is a 2xx module zip or go.mod; must run inside
/// the tokio runtime (it spawns on the blocking pool).
pub fn start(flow: &Flow) -> Option<(Option<HashTap>, HashResult)> {
    start_with_budget(flow, &IN_FLIGHT)
}

fn start_with_budget(
    flow: &Flow,
    in_flight: &'static AtomicUsize,
) -> Option<(Option<HashTap>, HashResult)> {
    let go = flow.go.as_deref()?;
    let resp = flow.response.as_ref()?;
    // A HEAD has no body and a 206 only part of one: neither is the file go hashes.
    if !(200..300).contains(&resp.status) || resp.status == 206 || flow.request.method != "GET" {
        return None;
    }
    let sink = match go.kind {
        GoKind::Zip => {
            let prefix = match (&go.module, &go.version) {
                (Some(m), Some(v)) => Some(format!("{m}@{v}/")),
                _ => None,
            };
            Sink::Zip(ZipHasher::new(prefix))
        }
        GoKind::Mod => Sink::Mod(ModHasher::new()),
        _ => return None,
    };
    let gzip = match header_value(&resp.headers, "content-encoding").map(str::trim) {
        None | Some("") => false,
        Some(e) if e.eq_ignore_ascii_case("identity") => false,
        Some(e) if e.eq_ignore_ascii_case("gzip") => true,
        Some(e) => {
            let reason = format!("the body is {e}-encoded, which gomitm does not decode");
            return Some((None, HashResult::Ready(not_verified(&reason))));
        }
    };
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = oneshot::channel();
    let fell_behind = Arc::new(AtomicBool::new(false));
    let worker = Worker {
        rx,
        in_flight,
        fell_behind: fell_behind.clone(),
    };
    tokio::task::spawn_blocking(move || {
        // The flow may have gone (client gone, task cancelled): nobody to tell.
        let _ = done_tx.send(worker.run(sink, gzip));
    });
    let tap = HashTap {
        tx: Some(tx),
        in_flight,
        fell_behind,
    };
    Some((Some(tap), HashResult::Pending(done_rx)))
}

struct Worker {
    rx: mpsc::Receiver<Bytes>,
    in_flight: &'static AtomicUsize,
    fell_behind: Arc<AtomicBool>,
}

impl Worker {
    /// Hash until the tap is dropped (the body ended) or gives up.
    fn run(self, sink: Sink, gzip: bool) -> BodyHash {
        let mut input = if gzip {
            Input::Gzip(flate2::write::GzDecoder::new(sink))
        } else {
            Input::Plain(sink)
        };
        let mut broken = None;
        while let Ok(chunk) = self.rx.recv() {
            if broken.is_none() {
                if let Err(e) = input.write(&chunk) {
                    broken = Some(format!("the gzip encoding does not decode: {e}"));
                }
            }
            self.in_flight.fetch_sub(chunk.len(), Ordering::AcqRel);
        }
        if self.fell_behind.load(Ordering::Acquire) {
            return not_verified(FELL_BEHIND);
        }
        if let Some(reason) = broken {
            return not_verified(&reason);
        }
        match input.finish() {
            Ok(sink) => sink.finish(),
            Err(e) => not_verified(&format!("the gzip encoding does not decode: {e}")),
        }
    }
}

enum Input {
    Plain(Sink),
    Gzip(flate2::write::GzDecoder<Sink>),
}

impl Input {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Input::Plain(s) => s.write_all(chunk),
            Input::Gzip(g) => g.write_all(chunk),
        }
    }

    fn finish(self) -> std::io::Result<Sink> {
        match self {
            Input::Plain(s) => Ok(s),
            Input::Gzip(g) => g.finish(),
        }
    }
}

enum Sink {
    Zip(ZipHasher),
    Mod(ModHasher),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Zip(z) => z.update(buf),
            Sink::Mod(m) => m.update(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn finish(self) -> BodyHash {
        match self {
            Sink::Mod(m) => BodyHash {
                h1: Some(m.finish()),
                ..BodyHash::default()
            },
            Sink::Zip(z) => {
                let d = z.finish();
                BodyHash {
                    h1: d.h1,
                    not_verified: d.not_verified,
                    outside_prefix: d.outside_prefix,
                    files: Some(d.files),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::GoRequest;

    fn zip_flow(status: u16) -> Flow {
        let mut flow = FlowBuilder::get("https://p.test/rsc.io/quote/@v/v1.5.2.zip")
            .status(status, b"")
            .build();
        flow.go = Some(Box::new(GoRequest {
            kind: GoKind::Zip,
            module: Some("rsc.io/quote".into()),
            version: Some("v1.5.2".into()),
            ..GoRequest::default()
        }));
        flow
    }

    async fn result(r: HashResult) -> BodyHash {
        match r {
            HashResult::Ready(h) => h,
            HashResult::Pending(rx) => rx.await.unwrap_or_default(),
        }
    }

    const ZIP: &[u8] = include_bytes!("../go/testdata/rsc.io_quote@v1.5.2.zip");
    const SUM: &str = "h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=";

    #[tokio::test]
    async fn a_fed_zip_gets_gos_hash() {
        let Some((Some(mut tap), res)) = start(&zip_flow(200)) else {
            panic!("a 200 zip is hashed");
        };
        for chunk in ZIP.chunks(100) {
            tap.feed(&Bytes::copy_from_slice(chunk));
        }
        drop(tap);
        let h = result(res).await;
        assert_eq!(h.h1.as_deref(), Some(SUM), "{h:?}");
        assert_eq!(h.outside_prefix, None);
    }

    #[tokio::test]
    async fn a_gzipped_body_is_decoded_first() {
        let mut flow = zip_flow(200);
        if let Some(r) = flow.response.as_mut() {
            r.headers.push("Content-Encoding", "gzip");
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(ZIP).unwrap_or_default();
        let packed = gz.finish().unwrap_or_default();
        let Some((Some(mut tap), res)) = start(&flow) else {
            panic!("hashed");
        };
        tap.feed(&Bytes::from(packed));
        drop(tap);
        assert_eq!(result(res).await.h1.as_deref(), Some(SUM));
    }

    #[tokio::test]
    async fn errors_and_other_encodings_are_not_hashed() {
        assert!(start(&zip_flow(404)).is_none());
        assert!(
            start(&zip_flow(206)).is_none(),
            "a range is not the whole file"
        );
        let mut flow = zip_flow(200);
        if let Some(r) = flow.response.as_mut() {
            r.headers.push("content-encoding", "br");
        }
        let Some((None, HashResult::Ready(h))) = start(&flow) else {
            panic!("decided up front");
        };
        assert!(h.not_verified.unwrap_or_default().contains("br-encoded"));
    }

    #[tokio::test]
    async fn past_the_budget_the_tap_gives_up() {
        static BUDGET: AtomicUsize = AtomicUsize::new(0);
        let Some((Some(mut tap), res)) = start_with_budget(&zip_flow(200), &BUDGET) else {
            panic!("hashed");
        };
        // Pretend the hasher is behind by the whole budget.
        tap.in_flight.fetch_add(MAX_IN_FLIGHT, Ordering::AcqRel);
        tap.feed(&Bytes::from_static(b"PK"));
        assert!(tap.tx.is_none());
        tap.in_flight.fetch_sub(MAX_IN_FLIGHT, Ordering::AcqRel);
        drop(tap);
        assert_eq!(result(res).await.not_verified.as_deref(), Some(FELL_BEHIND));
    }
}
