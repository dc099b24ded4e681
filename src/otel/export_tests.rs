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
        ("https://otel.example", "https://otel.example/v1/traces"),
        (
            "https://otel.example:4318/v1/traces",
            "https://otel.example:4318/v1/traces",
        ),
    ] {
        assert_eq!(traces_url(given).unwrap(), want, "{given}");
    }
    for bad in [
        "127.0.0.1:4318",
        "ftp://x.example",
        "not a url",
        "http://",
        "https://",
        "grpc://otel.example:4317",
    ] {
        assert!(traces_url(bad).is_err(), "{bad}");
    }
}

/// A CA certificate as PEM, as a collector's operator would hand it out.
fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn the_collector_is_trusted_through_the_otlp_certificate_variables() {
    let dir = tempfile::tempdir().unwrap();
    let general = dir.path().join("general.pem");
    let traces = dir.path().join("traces.pem");
    std::fs::write(&general, ca_pem()).unwrap();
    std::fs::write(&traces, format!("{}{}", ca_pem(), ca_pem())).unwrap();
    let extra = crate::ca::read_pem_certs(&general).unwrap();

    // Nothing set: --extra-root's roots only, no client certificate.
    let tls = CollectorTls::from_vars(extra.clone(), vars(&[])).unwrap();
    assert_eq!(
        tls,
        CollectorTls {
            roots: extra.clone(),
            client: None
        }
    );

    // The traces-only variable wins over the general one; an empty one counts as unset.
    let g = general.to_str().unwrap();
    let t = traces.to_str().unwrap();
    let tls = CollectorTls::from_vars(
        vec![],
        vars(&[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", g),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", t),
        ]),
    )
    .unwrap();
    assert_eq!(tls.roots.len(), 2, "both certificates of the traces file");
    let tls = CollectorTls::from_vars(
        extra.clone(),
        vars(&[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", g),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", ""),
        ]),
    )
    .unwrap();
    assert_eq!(tls.roots.len(), 2, "--extra-root's and the general file's");
    collector_tls_config(&tls).unwrap();
}

#[test]
fn a_bad_collector_certificate_setting_fails_at_start_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    for (var, path) in [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &missing),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &not_pem),
    ] {
        let e = CollectorTls::from_vars(vec![], vars(&[(var, path.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("{var}={}: ", path.display())), "{e}");
    }
    // Half a client identity is refused; the key is read when the exporter is built.
    let e = CollectorTls::from_vars(
        vec![],
        vars(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("without OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{e}");
    let e = CollectorTls::from_vars(
        vec![],
        vars(&[("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/k.pem")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY is set without"),
        "{e}"
    );
    let e = CollectorTls::from_vars(
        vec![],
        vars(&[
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                not_pem.to_str().unwrap(),
            ),
            (
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                missing.to_str().unwrap(),
            ),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="),
        "the certificate file is read first, at start: {e}"
    );
}

#[test]
fn a_transport_failure_gives_its_reason_and_the_setting_that_helps() {
    let exporter = "Operation failed: HTTP export failed: network error".to_string();
    assert_eq!(export_error(exporter.clone(), None), exporter);
    assert_eq!(
        export_error(exporter.clone(), Some("tcp connect error: refused".into())),
        format!("{exporter}: tcp connect error: refused")
    );
    let tls = Link::Tls { client_cert: false };
    let mtls = Link::Tls { client_cert: true };
    let unknown = "client error (Connect): invalid peer certificate: UnknownIssuer";
    for link in [tls, mtls] {
        let r = transport_reason(unknown.into(), link);
        assert!(r.starts_with(unknown), "{r}");
        assert!(
            r.ends_with("OTEL_EXPORTER_OTLP_CERTIFICATE=FILE or --extra-root FILE"),
            "{r}"
        );
    }
    // A certificate for another name, or out of date, is not fixed by trusting a CA.
    for other in [
        "invalid peer certificate: NotValidForName",
        "invalid peer certificate: Expired",
    ] {
        assert_eq!(transport_reason(other.into(), tls), other);
    }
    let required = "received fatal alert: CertificateRequired";
    let r = transport_reason(required.into(), tls);
    assert!(r.ends_with("OTEL_EXPORTER_OTLP_CLIENT_KEY=FILE"), "{r}");
    assert_eq!(transport_reason(required.into(), mtls), required);
    // The same refusal seen as a write on the closed connection (a large request).
    let closed = "error writing a body to connection: Broken pipe (os error 32)";
    let r = transport_reason(closed.into(), tls);
    assert!(
        r.contains("if it requires a client certificate")
            && r.ends_with("OTEL_EXPORTER_OTLP_CLIENT_KEY=FILE"),
        "{r}"
    );
    assert_eq!(transport_reason(closed.into(), mtls), closed);
    assert_eq!(transport_reason(closed.into(), Link::Plain), closed);
    assert_eq!(transport_reason(unknown.into(), Link::Plain), unknown);
    let refused = "received fatal alert: BadCertificate";
    let r = transport_reason(refused.into(), mtls);
    assert!(
        r.ends_with("refused the client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"),
        "{r}"
    );
}

/// Fails its first request, then answers 200.
#[derive(Debug, Default)]
struct FailsOnce(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for FailsOnce {
    async fn send_bytes(
        &self,
        _: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        if self.0.fetch_add(1, Ordering::Relaxed) == 0 {
            let e = std::io::Error::other("invalid peer certificate: UnknownIssuer");
            return Err(Box::new(e));
        }
        Ok(http::Response::new(bytes::Bytes::new()))
    }
}

#[tokio::test]
async fn a_success_clears_the_reason_a_failed_try_left() {
    use opentelemetry_http::HttpClient as _;
    let slot = Arc::new(Mutex::new(None));
    let client = TellingClient {
        inner: FailsOnce::default(),
        last_error: slot.clone(),
        link: Link::Tls { client_cert: false },
    };
    let req = || http::Request::new(bytes::Bytes::new());
    assert!(client.send_bytes(req()).await.is_err());
    let reason = slot.lock().unwrap().clone().unwrap_or_default();
    assert!(
        reason.contains("UnknownIssuer") && reason.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{reason}"
    );
    assert!(client.send_bytes(req()).await.is_ok());
    assert_eq!(
        *slot.lock().unwrap(),
        None,
        "a retry that worked leaves no reason behind"
    );
}

#[test]
fn https_is_read_from_the_parsed_scheme() {
    for (url, https) in [
        ("https://otel.example", true),
        ("HTTPS://otel.example", true),
        ("http://otel.example", false),
        ("HTTP://otel.example", false),
    ] {
        let s = OtlpSettings::new(url, false, false).unwrap();
        assert_eq!(s.is_https(), https, "{url}");
    }
}

#[test]
fn a_client_key_that_is_not_the_certificates_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let key = rcgen::KeyPair::generate().unwrap();
    let other = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["gomitm.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem();
    let cert = write("client.pem", cert);
    let key = write("client-key.pem", key.serialize_pem());
    let other = write("other-key.pem", other.serialize_pem());
    let tls = CollectorTls::from_vars(
        vec![],
        vars(&[
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ]),
    )
    .unwrap();
    assert!(tls.client.is_some());
    collector_tls_config(&tls).unwrap();
    let e = CollectorTls::from_vars(
        vec![],
        vars(&[
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", &other),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: "
        ),
        "the variables as set: {e}"
    );
}

#[test]
fn the_endpoint_follows_the_flag_then_the_traces_variable_then_the_general_one() {
    let r = |flag_or_env, general, traces| resolve_endpoint(flag_or_env, general, traces);
    let base = "http://gen.example:4318";
    let traces = "https://tr.example/custom/path";
    // --otlp given on the command line (it differs from the general variable): it wins.
    assert_eq!(
        r(Some("http://flag.example"), Some(base), Some(traces)).unwrap(),
        Some("http://flag.example/v1/traces".into())
    );
    // The general variable (clap put it into --otlp): the traces variable wins, as given.
    assert_eq!(
        r(Some(base), Some(base), Some(traces)).unwrap(),
        Some(traces.into())
    );
    assert_eq!(r(None, None, Some(traces)).unwrap(), Some(traces.into()));
    assert_eq!(
        r(None, None, Some("http://tr.example:4318")).unwrap(),
        Some("http://tr.example:4318".into()),
        "the traces variable is used as given, nothing appended"
    );
    // The general variable alone, or an empty traces variable: a base URL.
    let want = Some("http://gen.example:4318/v1/traces".to_string());
    assert_eq!(r(Some(base), Some(base), None).unwrap(), want);
    assert_eq!(r(Some(base), Some(base), Some(" ")).unwrap(), want);
    assert_eq!(r(None, None, None).unwrap(), None);
    assert_eq!(r(Some(""), Some(""), Some("")).unwrap(), None);
    assert!(r(None, None, Some("tr.example:4318")).is_err());
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
