//! `--har-out` kept current while the session runs, so that a crash or `kill -9` loses at most
//! the last interval: an observer counts the changes and wakes a task of its own, which
//! rewrites the whole HAR (new file + rename, mode 0600, as on exit) off the request path and
//! off the observer's task.
//!
//! When: a change is written once `--har-autosave` seconds (default 2) have passed since the
//! last write, or sooner once [`EVERY_FLOWS`] flows have changed. Bounded cost: after a write
//! that took T, the next waits at least 4 × T, so rewriting a large capture takes at most a
//! fifth of one core. The session's own write on exit comes after the observer is closed; a
//! write under way finishes first and none starts after (see [`Autosave::on_close`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::filter::Filter;
use crate::har::HarOptions;
use crate::output_file;
use crate::store::{Event, EventKind, Observer, Store};

/// Changed flows that bring a write forward before the interval is up.
pub const EVERY_FLOWS: usize = 100;
/// The next write waits at least this many times as long as the last one took.
const COST_FACTOR: u32 = 4;

/// What the observer and the writing task share.
struct Shared {
    /// Flow changes (finished, amended, or missed in a lag) since the last write began.
    pending: AtomicUsize,
    wake: tokio::sync::Notify,
    /// Set when the session closes its observers; held while a write is under way, so that
    /// closing waits for it and no write starts after.
    closed: Mutex<bool>,
    /// A failure was already reported (said once, not every interval).
    warned: AtomicBool,
}

/// What to write, and where.
#[derive(Clone)]
pub(super) struct Target {
    pub path: PathBuf,
    pub filter: Option<Filter>,
    pub har: HarOptions,
}

/// The observer; its task is started with it.
pub(super) struct Autosave {
    shared: Arc<Shared>,
}

impl Autosave {
    /// Start the writing task (on the current runtime) and return the observer that feeds it.
    pub(super) fn start(store: Arc<Store>, target: Target, every: Duration) -> Autosave {
        let shared = Arc::new(Shared {
            pending: AtomicUsize::new(0),
            wake: tokio::sync::Notify::new(),
            closed: Mutex::new(false),
            warned: AtomicBool::new(false),
        });
        tokio::spawn(keep_current(shared.clone(), store, target, every));
        Autosave { shared }
    }

    fn changed(&self, n: usize) {
        self.shared.pending.fetch_add(n, Ordering::Relaxed);
        self.shared.wake.notify_one();
    }
}

impl Observer for Autosave {
    fn on_event(&mut self, event: &Event) {
        // A flow is worth saving once it has an end; later facts about it too.
        if matches!(event.kind, EventKind::Finished | EventKind::Amended) {
            self.changed(1);
        }
    }

    fn on_lagged(&mut self, missed: u64, _store: &Store) {
        self.changed(usize::try_from(missed).unwrap_or(usize::MAX));
    }

    fn on_close(&mut self) {
        *self.shared.closed.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_one();
    }
}

fn is_closed(shared: &Shared) -> bool {
    *shared.closed.lock().unwrap_or_else(|p| p.into_inner())
}

async fn keep_current(shared: Arc<Shared>, store: Arc<Store>, target: Target, every: Duration) {
    // The earliest moment the next write may start (interval and cost bound).
    let mut not_before = Instant::now();
    let mut due = Instant::now() + every;
    loop {
        shared.wake.notified().await;
        if is_closed(&shared) {
            return;
        }
        if shared.pending.load(Ordering::Relaxed) == 0 {
            continue;
        }
        // Wait for the interval, or for enough flows to bring it forward.
        loop {
            let now = Instant::now();
            let enough = shared.pending.load(Ordering::Relaxed) >= EVERY_FLOWS;
            if now >= due || (enough && now >= not_before) {
                break;
            }
            let until = if enough { not_before } else { due };
            tokio::select! {
                () = tokio::time::sleep_until(until.into()) => {}
                () = shared.wake.notified() => {}
            }
            if is_closed(&shared) {
                return;
            }
        }
        shared.pending.store(0, Ordering::Relaxed);
        let started = Instant::now();
        let (s, st, t) = (shared.clone(), store.clone(), target.clone());
        if tokio::task::spawn_blocking(move || write(&s, &st, &t))
            .await
            .is_err()
        {
            return;
        }
        let took = started.elapsed();
        let now = Instant::now();
        not_before = now + took * COST_FACTOR;
        due = (now + every).max(not_before);
    }
}

/// One rewrite of the HAR, unless the session has closed (its own write comes next).
fn write(shared: &Shared, store: &Store, target: &Target) {
    let closed = shared.closed.lock().unwrap_or_else(|p| p.into_inner());
    if *closed {
        return;
    }
    let mut flows = store.snapshot();
    if let Some(f) = &target.filter {
        flows.retain(|flow| f.matches(flow));
    }
    let doc = crate::har::to_har(flows.iter().map(|f| &**f), &target.har);
    let result = crate::har::to_json(&doc)
        .map_err(|e| e.to_string())
        .and_then(|json| {
            output_file::replace(
                &target.path,
                json.as_bytes(),
                Some(output_file::TRAFFIC_MODE),
            )
            .map_err(|e| e.to_string())
        });
    drop(closed);
    if let Err(e) = result {
        if !shared.warned.swap(true, Ordering::Relaxed) {
            let line = format!(
                "gomitm: warning: cannot keep {} current ({e}); it is written again on exit",
                target.path.display()
            );
            eprintln!("{}", crate::terminal_text::terminal_safe(&line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::store::{Observers, StoreLimits};

    fn entries(path: &std::path::Path) -> usize {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        crate::har::from_json(&text).map_or(0, |f| f.len())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_har_follows_the_store_within_the_interval_and_not_after_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.har");
        let store = Arc::new(Store::new(StoreLimits::default()));
        let mut observers = Observers::default();
        let target = Target {
            path: path.clone(),
            filter: None,
            har: HarOptions::default(),
        };
        let every = Duration::from_millis(600);
        observers.attach(
            &store,
            Box::new(Autosave::start(store.clone(), target, every)),
        );
        let finished = |id: u64| {
            FlowBuilder::get(&format!("https://a.test/{id}"))
                .status(200, b"ok")
                .build()
        };
        store.add(finished(1));
        // Not at once: the interval has not passed since the start.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(entries(&path), 0, "written before the interval");
        // Written at 600 ms; the next write is due at 1,200 ms.
        tokio::time::sleep(Duration::from_millis(650)).await;
        assert_eq!(entries(&path), 1, "not written within the interval");
        for id in 2..=(EVERY_FLOWS as u64 + 1) {
            store.add(finished(id));
        }
        // A hundred flows bring the write forward (the cost bound is a few ms here), before
        // the interval would have: 300 ms leave room for the observer's 50 ms batch window and
        // a loaded machine, and end 150 ms before the interval's write.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            entries(&path),
            EVERY_FLOWS + 1,
            "not brought forward by {EVERY_FLOWS} flows"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        observers.close().await;
        store.add(finished(1000));
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(entries(&path), EVERY_FLOWS + 1, "written after close");
    }
}
