//! The end of a session: the signals that start it, the grace in-flight flows get, and the
//! cut that records the rest as interrupted.

use std::time::{Duration, Instant};

use crate::store::Store;

/// How long in-flight flows get to finish after a shutdown signal before the HAR is written.
const DRAIN_GRACE: Duration = Duration::from_secs(3);

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the future is
/// first polled, so a signal that arrives while gomitm is still starting is not lost (the
/// default action would kill the process without writing the HAR).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {}
                _ = wait(interrupt) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How long the connection tasks get to record what they reached once they are told to stop.
const CUT_GRACE: Duration = Duration::from_secs(1);

/// Let in-flight flows finish for a moment; then cut the rest short. Each connection task
/// drops its exchanges, whose flows record the bytes and time they had reached as
/// `interrupted`; a flow whose task does not end in time is marked so by the store.
pub(super) async fn drain_in_flight(store: &Store) {
    wait_until_idle(store, DRAIN_GRACE).await;
    if store.in_flight() == 0 {
        return;
    }
    store.interrupt();
    wait_until_idle(store, CUT_GRACE).await;
    store.finish_in_flight_as_interrupted(now_us());
}

async fn wait_until_idle(store: &Store, grace: Duration) {
    let deadline = Instant::now() + grace;
    while store.in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
