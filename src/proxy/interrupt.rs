//! The cut at shutdown: every task that serves a client (its connection, a tunnel, an h2
//! stream) ends when the session interrupts in-flight flows. Dropping the task drops its
//! exchange and bodies, and they finish their flows as interrupted with the bytes and time
//! they had reached (`flow_cell`), instead of the HAR keeping a stale in-flight snapshot.

use std::future::Future;
use std::sync::Arc;

use crate::store::Store;

/// `task`, until it ends or the store is interrupted.
pub(crate) async fn until_interrupted(store: Arc<Store>, task: impl Future<Output = ()>) {
    tokio::select! {
        // The task first: a tunnel watches the interrupt itself, to record its byte counts
        // before it ends.
        biased;
        () = task => {}
        () = store.interrupted() => {}
    }
}

/// Spawn a client-serving task that the session's interrupt ends.
pub(crate) fn spawn(store: Arc<Store>, task: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(until_interrupted(store, task));
}

/// hyper's executor for a client-side h2 connection: each stream's task is spawned with the
/// same cut, so a stream still waiting for its answer ends too.
#[derive(Clone)]
pub(crate) struct InterruptibleExecutor(pub Arc<Store>);

impl<F> hyper::rt::Executor<F> for InterruptibleExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        let store = self.0.clone();
        tokio::spawn(until_interrupted(store, async move {
            fut.await;
        }));
    }
}
