//! The end of a session: the signals that start it, and the grace in-flight flows get.

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

pub(super) async fn wait_for_in_flight(store: &Store) {
    let deadline = Instant::now() + DRAIN_GRACE;
    while store.in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
