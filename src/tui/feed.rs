//! The TUI's observer: store events, batched per idle moment, on a channel to the event loop.
//! Bounded: when the loop falls this far behind (a terminal that does not drain), the batches
//! stop and the loop is asked to re-read the store once it has caught up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::flow::Flow;
use crate::store::{Event, Observer, Store};

/// Flows queued for the event loop beyond which the feed stops queueing and asks for a
/// re-read instead.
const MAX_QUEUED: usize = 65_536;

/// What the event loop receives.
#[derive(Debug)]
pub enum FeedItem {
    /// Flows added or changed, in event order.
    Flows(Vec<Arc<Flow>>),
    /// Events were lost: re-read the store.
    Resync,
}

/// The observer half (attached to the store).
pub struct TuiFeed {
    tx: UnboundedSender<FeedItem>,
    batch: Vec<Arc<Flow>>,
    queued: Arc<AtomicUsize>,
    behind: bool,
}

/// The event loop's half.
pub struct FeedReceiver {
    rx: UnboundedReceiver<FeedItem>,
    queued: Arc<AtomicUsize>,
}

pub fn channel() -> (TuiFeed, FeedReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        TuiFeed {
            tx,
            batch: Vec::new(),
            queued: queued.clone(),
            behind: false,
        },
        FeedReceiver { rx, queued },
    )
}

impl FeedReceiver {
    /// The next item; `None` once the feed is gone.
    pub async fn recv(&mut self) -> Option<FeedItem> {
        let item = self.rx.recv().await;
        if let Some(FeedItem::Flows(flows)) = &item {
            self.queued.fetch_sub(flows.len(), Ordering::Relaxed);
        }
        item
    }
}

impl Observer for TuiFeed {
    fn on_event(&mut self, ev: &Event) {
        if !self.behind {
            self.batch.push(ev.flow.clone());
        }
    }

    fn wants_progress(&self) -> bool {
        true
    }

    fn on_lagged(&mut self, _missed: u64, _store: &Store) {
        self.batch.clear();
        let _ = self.tx.send(FeedItem::Resync);
    }

    fn on_idle(&mut self) {
        let queued = self.queued.load(Ordering::Relaxed);
        if self.behind {
            if queued == 0 {
                self.behind = false;
                let _ = self.tx.send(FeedItem::Resync);
            }
            return;
        }
        if self.batch.is_empty() {
            return;
        }
        if queued + self.batch.len() > MAX_QUEUED {
            self.behind = true;
            self.batch.clear();
            return;
        }
        self.queued.fetch_add(self.batch.len(), Ordering::Relaxed);
        let _ = self
            .tx
            .send(FeedItem::Flows(std::mem::take(&mut self.batch)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::store::{EventKind, StoreLimits};

    fn event(seq: u64) -> Event {
        let mut flow = FlowBuilder::get("https://a.test/").build();
        flow.id = seq;
        Event {
            seq,
            kind: EventKind::Finished,
            flow: Arc::new(flow),
        }
    }

    #[tokio::test]
    async fn events_arrive_batched_and_a_loop_too_far_behind_gets_one_resync() {
        let store = Store::new(StoreLimits::default());
        let (mut feed, mut rx) = channel();
        feed.on_event(&event(1));
        feed.on_event(&event(2));
        feed.on_idle();
        match rx.recv().await {
            Some(FeedItem::Flows(f)) => assert_eq!(f.len(), 2),
            other => panic!("{other:?}"),
        }
        // The loop stops reading: past MAX_QUEUED the feed gives up queueing.
        for round in 0..3 {
            for i in 0..MAX_QUEUED / 2 {
                feed.on_event(&event((round * MAX_QUEUED + i) as u64));
            }
            feed.on_idle();
        }
        assert!(feed.behind);
        assert!(feed.queued.load(Ordering::Relaxed) <= MAX_QUEUED);
        // It catches up: one re-read, then batches again.
        while rx.queued.load(Ordering::Relaxed) > 0 {
            assert!(matches!(rx.recv().await, Some(FeedItem::Flows(_))));
        }
        feed.on_idle();
        assert!(matches!(rx.recv().await, Some(FeedItem::Resync)));
        feed.on_lagged(5, &store);
        assert!(matches!(rx.recv().await, Some(FeedItem::Resync)));
    }
}
