//! The OTLP observer: each finished flow, redacted as the HAR is (`redact::redact_flow`,
//! unless `--otlp-no-redact`), diagnosed, mapped to spans and queued for export. It runs on
//! the observer seam's own task, so nothing here is on the request path; the queue never
//! blocks.

use std::collections::HashMap;
use std::path::PathBuf;

use opentelemetry_sdk::trace::RandomIdGenerator;

use super::export::SpanQueue;
use super::mapping::{flow_spans, FlowFacts, Parent};
use crate::flow::{Flow, FlowKind};
use crate::go::diagnose::{diagnose, DiagnoseContext, Os};
use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::store::{Event, EventKind, Observer, Store};

/// URLs remembered for `http.request.resend_count`; past this the memory starts afresh
/// (a long `gomitm proxy` session must not grow without bound).
const MAX_REMEMBERED_4XX: usize = 10_000;

/// What the diagnosis of a single flow needs (the same facts the run summary uses).
pub struct DiagnoseFacts {
    pub private: PrivatePatterns,
    pub bundle: Option<PathBuf>,
    pub go: Option<GoVersion>,
}

pub struct OtlpObserver {
    queue: SpanQueue,
    /// `Some`: under `gomitm run`, every flow is a child of the run's root span.
    parent: Option<Parent>,
    /// `None`: `--otlp-no-redact`; else the extra secret headers (`--redact-header`).
    redact: Option<Vec<String>>,
    facts: DiagnoseFacts,
    ids: RandomIdGenerator,
    /// Method + URL → how many times it was answered 4xx so far.
    seen_4xx: HashMap<String, u32>,
}

impl OtlpObserver {
    pub fn new(
        queue: SpanQueue,
        parent: Option<Parent>,
        redact: Option<Vec<String>>,
        facts: DiagnoseFacts,
    ) -> OtlpObserver {
        OtlpObserver {
            queue,
            parent,
            redact,
            facts,
            ids: RandomIdGenerator::default(),
            seen_4xx: HashMap::new(),
        }
    }

    fn export(&mut self, recorded: &Flow) {
        let flow = match &self.redact {
            Some(extra) => crate::redact::redact_flow(recorded, extra),
            None => recorded.clone(),
        };
        let ctx = DiagnoseContext {
            private: &self.facts.private,
            os: Os::current(),
            bundle: self.facts.bundle.as_deref(),
            go: self.facts.go,
            goproxy: None,
            goauth: None,
        };
        let diagnosis = diagnose(&flow, &ctx);
        let key = format!("{} {}", flow.request.method, flow.request.url);
        let resend_count = self.seen_4xx.get(&key).copied().unwrap_or(0);
        if flow.kind == FlowKind::Http
            && flow
                .response
                .as_ref()
                .is_some_and(|r| r.status >= 400 && r.status < 500)
        {
            if self.seen_4xx.len() >= MAX_REMEMBERED_4XX {
                self.seen_4xx.clear();
            }
            *self.seen_4xx.entry(key).or_default() += 1;
        }
        let facts = FlowFacts {
            diagnosis: diagnosis.as_ref(),
            resend_count,
        };
        for span in flow_spans(&flow, &facts, self.parent, &self.ids) {
            self.queue.push(span);
        }
    }
}

impl Observer for OtlpObserver {
    fn on_event(&mut self, event: &Event) {
        if event.kind == EventKind::Finished {
            self.export(&event.flow);
        }
    }

    /// Re-reading the store could not tell which of its finished flows were already sent;
    /// the lost events are counted with the dropped spans instead, so the exit line says
    /// the trace is incomplete.
    fn on_lagged(&mut self, missed: u64, _store: &Store) {
        self.queue.count_lost(missed);
    }
}
