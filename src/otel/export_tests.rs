use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanExporter};

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::otel::mapping::{flow_spans, FlowFacts};

/// A collector in a test: keeps what it gets, refuses, or never answers.
#[derive(Debug, Clone)]
enum Collector {
    Keeps(Arc<Mutex<Vec<SpanData>>>),
    Refuses,
    Stalls,
}

impl SpanExporter for Collector {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        match self {
            Collector::Keeps(got) => {
                got.lock().unwrap().extend(batch);
                Ok(())
            }
            Collector::Refuses => Err(OTelSdkError::InternalFailure("connection refused".into())),
            Collector::Stalls => std::future::pending().await,
        }
    }
}

fn settings() -> OtlpSettings {
    OtlpSettings::new("http://127.0.0.1:4318", false, false).unwrap()
}

fn some_spans(n: usize) -> Vec<SpanData> {
    let ids = RandomIdGenerator::default();
    let f = FlowBuilder::get("https://proxy.example/x/@v/list")
        .status(200, b"v1.0.0\n")
        .build();
    let one = flow_spans(&f, &FlowFacts::default(), None, &ids);
    let _ = ids.new_span_id();
    one.into_iter().cycle().take(n).collect()
}

#[test]
fn a_base_url_gets_v1_traces_and_a_path_is_kept() {
    for (given, want) in [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
        ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
        ("http://otel.example", "http://otel.example/v1/traces"),
        (
            "http://127.0.0.1:4318/v1/traces",
            "http://127.0.0.1:4318/v1/traces",
        ),
        (
            "http://gw.example/otlp/v1/traces",
            "http://gw.example/otlp/v1/traces",
        ),
    ] {
        assert_eq!(traces_url(given).unwrap(), want, "{given}");
    }
    for bad in [
        "127.0.0.1:4318",
        "ftp://x.example",
        "not a url",
        "http://",
        "https://otel.example",
    ] {
        assert!(traces_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_bad_url_is_reported_without_its_password() {
    let e = traces_url("ftp://user:hunter22@x.example")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("hunter22"), "{e}");
}

#[test]
fn the_resource_names_gomitm_and_reads_the_environment() {
    // One test reads and sets these variables: tests run in threads of one process.
    std::env::set_var(
        "OTEL_RESOURCE_ATTRIBUTES",
        "ci.job=build-42,service.name=fromattrs",
    );
    std::env::remove_var("OTEL_SERVICE_NAME");
    let r = resource();
    let get = |k: &'static str| r.get(&opentelemetry::Key::new(k)).map(|v| v.to_string());
    assert_eq!(get("ci.job").as_deref(), Some("build-42"));
    assert_eq!(get("service.name").as_deref(), Some("fromattrs"));
    assert_eq!(
        get("service.version").as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(get("host.name").is_some_and(|h| !h.is_empty()));
    std::env::set_var("OTEL_SERVICE_NAME", "runner-7");
    let r = resource();
    let get = |k: &'static str| r.get(&opentelemetry::Key::new(k)).map(|v| v.to_string());
    assert_eq!(get("service.name").as_deref(), Some("runner-7"));
    std::env::remove_var("OTEL_RESOURCE_ATTRIBUTES");
    std::env::remove_var("OTEL_SERVICE_NAME");
    let r = resource();
    let get = |k: &'static str| r.get(&opentelemetry::Key::new(k)).map(|v| v.to_string());
    assert_eq!(get("service.name").as_deref(), Some("gomitm"));
}

#[tokio::test]
async fn every_queued_span_reaches_a_working_collector() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let export = Export::with_exporter(
        settings(),
        Collector::Keeps(got.clone()),
        Resource::builder_empty().build(),
    );
    let q = export.queue();
    for s in some_spans(1500) {
        q.push(s);
    }
    drop(q);
    let (stats, error) = export.finish(Duration::from_secs(5)).await;
    assert_eq!(
        stats,
        ExportStats {
            exported: 1500,
            dropped: 0
        }
    );
    assert_eq!(error, None);
    assert_eq!(got.lock().unwrap().len(), 1500);
}

#[tokio::test]
async fn a_refusing_collector_loses_spans_counted_with_its_error() {
    let export = Export::with_exporter(
        settings(),
        Collector::Refuses,
        Resource::builder_empty().build(),
    );
    let q = export.queue();
    for s in some_spans(10) {
        q.push(s);
    }
    drop(q);
    let (stats, error) = export.finish(Duration::from_secs(5)).await;
    assert_eq!(
        stats,
        ExportStats {
            exported: 0,
            dropped: 10
        }
    );
    assert!(error.unwrap_or_default().contains("connection refused"));
}

#[tokio::test]
async fn a_stalled_collector_never_blocks_the_queue_and_the_exit_is_bounded() {
    let export = Export::with_exporter(
        settings(),
        Collector::Stalls,
        Resource::builder_empty().build(),
    );
    let q = export.queue();
    let begun = std::time::Instant::now();
    // Far more than the queue holds: pushing must neither block nor wait.
    for s in some_spans(QUEUE_SPANS * 2) {
        q.push(s);
    }
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "{:?}",
        begun.elapsed()
    );
    assert!(q.dropped_so_far() >= QUEUE_SPANS as u64 - BATCH_SPANS as u64);
    drop(q);
    let begun = std::time::Instant::now();
    let (stats, error) = export.finish(Duration::from_millis(300)).await;
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "{:?}",
        begun.elapsed()
    );
    assert_eq!(stats.exported, 0);
    assert_eq!(stats.dropped, (QUEUE_SPANS * 2) as u64);
    assert!(error.unwrap_or_default().contains("did not answer"));
}
