//! The TUI's list of flows: every flow it knows in id order, the ids the filter lets through
//! (kept up to date per event, never by re-filtering everything), the order they are shown in
//! ([`Sort`]), and running counts for the header.
//!
//! Pure data structure; it does not know about keys, selection or drawing (that is `state`).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::filter::Filter;
use crate::flow::Flow;

/// Counts shown in the header, over every flow the list holds (filtered or not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub flows: usize,
    /// Flows with an error class or a 5xx answer.
    pub errors: usize,
    pub in_flight: usize,
    /// Body bytes in both directions (tunnels: bytes each way).
    pub bytes: u64,
}

impl Stats {
    fn apply(&mut self, flow: &Flow, sign: i64) {
        let step = |n: usize| {
            if sign > 0 {
                n + 1
            } else {
                n.saturating_sub(1)
            }
        };
        self.flows = step(self.flows);
        if is_error(flow) {
            self.errors = step(self.errors);
        }
        if !flow.is_done() {
            self.in_flight = step(self.in_flight);
        }
        let bytes = flow_bytes(flow);
        self.bytes = if sign > 0 {
            self.bytes.saturating_add(bytes)
        } else {
            self.bytes.saturating_sub(bytes)
        };
    }
}

/// An error class, or an answer the server gave up on (5xx).
pub fn is_error(flow: &Flow) -> bool {
    flow.error.is_some() || flow.response.as_ref().is_some_and(|r| r.status >= 500)
}

/// Bytes that went through for this flow, both directions.
pub fn flow_bytes(flow: &Flow) -> u64 {
    if let Some(t) = &flow.tunnel {
        return t.bytes_up.saturating_add(t.bytes_down);
    }
    let resp = flow.response.as_ref().map_or(0, |r| r.body.total);
    flow.request.body.total.saturating_add(resp)
}

/// What an event did to the filtered view, so the caller can keep its selection steady.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing visible changed (or only a row's contents).
    InPlace,
    /// A row was added to the filtered view.
    Shown,
    /// A row left the filtered view (an update made it stop matching).
    Hidden,
    /// The flow was ignored (cleared or older than what the list keeps).
    Ignored,
}

/// The order of the table (`o` cycles it, as in mitmproxy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Start time: flow ids are handed out as requests arrive.
    #[default]
    Time,
    Duration,
    Size,
    Status,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Time => Sort::Duration,
            Sort::Duration => Sort::Size,
            Sort::Size => Sort::Status,
            Sort::Status => Sort::Time,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sort::Time => "time",
            Sort::Duration => "duration",
            Sort::Size => "size",
            Sort::Status => "status",
        }
    }

    /// Ascending, like time: the slowest, largest or worst at the bottom, where follow looks.
    /// Flows in flight count as slowest; failures (no status) sort after every status.
    fn key(self, flow: &Flow) -> (u64, u64) {
        let size = match (&flow.tunnel, &flow.response) {
            (Some(t), _) => t.bytes_up.saturating_add(t.bytes_down),
            (None, Some(r)) => r.body.total,
            (None, None) => 0,
        };
        let primary = match self {
            Sort::Time => 0,
            Sort::Duration => flow
                .timings
                .total_ms
                .map_or(u64::MAX, |ms| (ms.max(0.0) * 1000.0) as u64),
            Sort::Size => size,
            Sort::Status => match (&flow.error, &flow.response) {
                (Some(_), _) => 1000,
                (None, Some(r)) => u64::from(r.status),
                (None, None) => 999,
            },
        };
        (primary, flow.id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct FlowList {
    /// Ordered by id.
    flows: VecDeque<Arc<Flow>>,
    /// Ids of the flows the filter lets through, ascending.
    visible: Vec<u64>,
    filter: Option<Filter>,
    stats: Stats,
    /// Flows with a smaller id were cleared and are ignored when they change.
    floor: u64,
    /// Flows ever added (for requests per second); not reduced by clear or eviction.
    added_total: u64,
    /// The largest id ever seen, to tell new flows from known ones on a resync.
    max_seen: u64,
    sort: Sort,
    /// The visible ids in `sort` order when it is not by time; rebuilt by [`FlowList::resort`]
    /// (once per frame), new rows appended meanwhile.
    sorted: Vec<u64>,
    unsorted: bool,
}

impl FlowList {
    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn added_total(&self) -> u64 {
        self.added_total
    }

    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    pub fn last_id(&self) -> Option<u64> {
        self.flows.back().map(|f| f.id)
    }

    /// The id of the `index`-th row of the filtered view.
    pub fn visible_id(&self, index: usize) -> Option<u64> {
        match self.sort {
            Sort::Time => self.visible.get(index).copied(),
            _ => self.sorted.get(index).copied(),
        }
    }

    /// Where `id` is in the filtered view: `Ok(row)`, or `Err(row it would take)`.
    pub fn visible_position(&self, id: u64) -> Result<usize, usize> {
        match self.sort {
            Sort::Time => self.visible.binary_search(&id),
            // No order to guess a gap from: a flow that left the view goes to the top.
            _ => self.sorted.iter().position(|v| *v == id).ok_or(0),
        }
    }

    /// The newest flow in the view, whatever the order (what follow selects).
    pub fn newest_visible_id(&self) -> Option<u64> {
        self.visible.last().copied()
    }

    pub fn sort(&self) -> Sort {
        self.sort
    }

    pub fn set_sort(&mut self, sort: Sort) {
        self.sort = sort;
        self.unsorted = true;
        self.resort();
    }

    /// Put the sorted view in order again after flows arrived or changed: once per frame,
    /// not once per event. Nothing to do when sorted by time.
    pub fn resort(&mut self) {
        if self.sort == Sort::Time {
            self.sorted = Vec::new();
            self.unsorted = false;
            return;
        }
        if !self.unsorted {
            return;
        }
        let sort = self.sort;
        let mut keyed: Vec<((u64, u64), u64)> = self
            .visible
            .iter()
            .filter_map(|id| self.get(*id).map(|f| (sort.key(f), *id)))
            .collect();
        keyed.sort_unstable();
        self.sorted = keyed.into_iter().map(|(_, id)| id).collect();
        self.unsorted = false;
    }

    pub fn visible_flow(&self, index: usize) -> Option<&Arc<Flow>> {
        self.get(self.visible_id(index)?)
    }

    /// The filtered view in order of time (what `e` exports, whatever the table's order).
    pub fn visible_flows(&self) -> Vec<Arc<Flow>> {
        self.visible
            .iter()
            .filter_map(|id| self.get(*id).cloned())
            .collect()
    }

    /// Keep the sorted view's rows in step with `visible` (positions are fixed by `resort`).
    fn sorted_change(&mut self, id: u64, change: Change) {
        if self.sort == Sort::Time {
            return;
        }
        match change {
            Change::Shown => self.sorted.push(id),
            Change::Hidden => self.sorted.retain(|v| *v != id),
            Change::InPlace | Change::Ignored => {}
        }
        self.unsorted = true;
    }

    pub fn get(&self, id: u64) -> Option<&Arc<Flow>> {
        let pos = self.flows.binary_search_by_key(&id, |f| f.id).ok()?;
        self.flows.get(pos)
    }

    fn matches(&self, flow: &Flow) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(flow))
    }

    /// A new or changed flow. New ids usually arrive in order (push at the back); a flow
    /// seen again replaces its old snapshot and may enter or leave the filtered view.
    pub fn upsert(&mut self, flow: Arc<Flow>) -> Change {
        let id = flow.id;
        let change = self.upsert_unsorted(flow);
        self.sorted_change(id, change);
        change
    }

    fn upsert_unsorted(&mut self, flow: Arc<Flow>) -> Change {
        if flow.id < self.floor {
            return Change::Ignored;
        }
        let shown = self.matches(&flow);
        match self.flows.binary_search_by_key(&flow.id, |f| f.id) {
            Ok(pos) => {
                let old = std::mem::replace(&mut self.flows[pos], flow.clone());
                self.stats.apply(&old, -1);
                self.stats.apply(&flow, 1);
                self.reconsider(flow.id, shown)
            }
            Err(pos) => {
                self.stats.apply(&flow, 1);
                if flow.id > self.max_seen {
                    self.added_total += 1;
                    self.max_seen = flow.id;
                }
                let id = flow.id;
                self.flows.insert(pos, flow);
                if !shown {
                    return Change::InPlace;
                }
                match self.visible.binary_search(&id) {
                    Ok(_) => Change::InPlace,
                    Err(at) => {
                        self.visible.insert(at, id);
                        Change::Shown
                    }
                }
            }
        }
    }

    fn reconsider(&mut self, id: u64, shown: bool) -> Change {
        match (self.visible.binary_search(&id), shown) {
            (Ok(_), true) | (Err(_), false) => Change::InPlace,
            (Err(at), true) => {
                self.visible.insert(at, id);
                Change::Shown
            }
            (Ok(at), false) => {
                self.visible.remove(at);
                Change::Hidden
            }
        }
    }

    /// Replace the filter and rebuild the view: the one operation that looks at every flow.
    pub fn set_filter(&mut self, filter: Option<Filter>) {
        self.filter = filter;
        let filter = self.filter.as_ref();
        self.visible = self
            .flows
            .iter()
            .filter(|f| filter.is_none_or(|x| x.matches(f)))
            .map(|f| f.id)
            .collect();
        self.unsorted = true;
        self.resort();
    }

    /// Forget every flow; flows with these ids that change later stay forgotten.
    pub fn clear(&mut self) {
        self.floor = self.last_id().map_or(self.floor, |id| id + 1);
        self.flows.clear();
        self.visible.clear();
        self.sorted.clear();
        let added = self.added_total;
        self.stats = Stats::default();
        self.added_total = added;
    }

    /// Drop flows older than `id` (the store evicted them). Returns how many went.
    pub fn evict_below(&mut self, id: u64) -> usize {
        let gone = self.flows.partition_point(|f| f.id < id);
        for flow in self.flows.drain(..gone) {
            self.stats.apply(&flow, -1);
        }
        let hidden = self.visible.partition_point(|v| *v < id);
        self.visible.drain(..hidden);
        if hidden > 0 && self.sort != Sort::Time {
            self.sorted.retain(|v| *v >= id);
        }
        gone
    }

    /// The oldest id for which `kept(id)` holds, given that what is kept is a suffix (the
    /// store evicts oldest first). `None` when nothing is kept.
    pub fn oldest_kept(&self, kept: impl Fn(u64) -> bool) -> Option<u64> {
        let first_kept = self.flows.partition_point(|f| !kept(f.id));
        self.flows.get(first_kept).map(|f| f.id)
    }

    /// Replace everything with `flows` (after the event stream lagged, or a paused view
    /// overflowed), keeping the filter and what was cleared.
    pub fn resync(&mut self, flows: Vec<Arc<Flow>>) {
        let floor = self.floor;
        let mut fresh: Vec<Arc<Flow>> = flows.into_iter().filter(|f| f.id >= floor).collect();
        fresh.sort_by_key(|f| f.id);
        fresh.dedup_by_key(|f| f.id);
        let seen = self.max_seen;
        let new_ids = fresh.iter().filter(|f| f.id > seen).count() as u64;
        self.added_total += new_ids;
        self.max_seen = fresh.last().map_or(seen, |f| f.id.max(seen));
        self.stats = Stats::default();
        for f in &fresh {
            self.stats.apply(f, 1);
        }
        self.flows = fresh.into();
        let filter = self.filter.take();
        self.set_filter(filter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::{ErrorClass, FlowState};

    fn flow(id: u64, host: &str) -> Arc<Flow> {
        Arc::new(
            FlowBuilder::get(&format!("https://{host}/x"))
                .id(id)
                .status(200, b"abc")
                .build(),
        )
    }

    fn in_flight(id: u64, host: &str) -> Arc<Flow> {
        let mut f = FlowBuilder::get(&format!("https://{host}/x"))
            .id(id)
            .build();
        f.state = FlowState::InFlight;
        Arc::new(f)
    }

    fn list_with(filter: &str, flows: &[Arc<Flow>]) -> FlowList {
        let mut l = FlowList::default();
        l.set_filter(Filter::parse(filter).ok());
        for f in flows {
            l.upsert(f.clone());
        }
        l
    }

    #[test]
    fn upsert_appends_and_filters_incrementally() {
        let l = list_with(
            "host:a.test",
            &[flow(1, "a.test"), flow(2, "b.test"), flow(3, "a.test")],
        );
        assert_eq!(l.len(), 3);
        assert_eq!(l.visible_len(), 2);
        assert_eq!(l.visible_id(1), Some(3));
        assert_eq!(l.stats().flows, 3);
        assert_eq!(l.stats().bytes, 9);
    }

    #[test]
    fn an_update_can_bring_a_flow_into_or_out_of_the_view() {
        let mut l = list_with("status:200", &[in_flight(1, "a.test")]);
        assert_eq!(l.visible_len(), 0);
        assert_eq!(l.stats().in_flight, 1);
        assert_eq!(l.upsert(flow(1, "a.test")), Change::Shown);
        assert_eq!(l.visible_len(), 1);
        assert_eq!(l.stats().in_flight, 0);
        let failed = Arc::new(
            FlowBuilder::get("https://a.test/x")
                .id(1)
                .error(ErrorClass::Dns, "no such host")
                .build(),
        );
        assert_eq!(l.upsert(failed), Change::Hidden);
        assert_eq!(l.visible_len(), 0);
        assert_eq!(l.stats().errors, 1);
        assert_eq!(l.stats().flows, 1, "a replaced flow is counted once");
    }

    #[test]
    fn clear_forgets_and_ignores_late_updates_of_cleared_flows() {
        let mut l = list_with("", &[flow(1, "a.test"), flow(2, "a.test")]);
        l.clear();
        assert!(l.is_empty());
        assert_eq!(l.stats(), Stats::default());
        assert_eq!(l.upsert(flow(2, "a.test")), Change::Ignored);
        assert_eq!(l.upsert(flow(3, "a.test")), Change::Shown);
        assert_eq!(l.added_total(), 3);
    }

    #[test]
    fn eviction_drops_the_oldest_and_their_rows() {
        let mut l = list_with(
            "host:a.test",
            &[flow(1, "a.test"), flow(2, "b.test"), flow(3, "a.test")],
        );
        assert_eq!(l.oldest_kept(|id| id >= 3), Some(3));
        assert_eq!(l.evict_below(3), 2);
        assert_eq!(l.len(), 1);
        assert_eq!(l.visible_len(), 1);
        assert_eq!(l.stats().flows, 1);
        assert_eq!(l.oldest_kept(|_| false), None);
    }

    #[test]
    fn resync_replaces_everything_but_keeps_filter_and_clear() {
        let mut l = list_with("host:a.test", &[flow(1, "a.test")]);
        l.clear();
        l.resync(vec![
            flow(3, "a.test"),
            flow(1, "a.test"),
            flow(2, "b.test"),
        ]);
        assert_eq!(l.len(), 2, "cleared id 1 stays cleared");
        assert_eq!(l.visible_len(), 1);
        assert_eq!(l.visible_id(0), Some(3));
        assert_eq!(l.added_total(), 3, "ids 2 and 3 are new");
    }
}
