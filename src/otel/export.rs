//! The OTLP export path: where spans go (`--otlp`, `OTEL_*` variables), the TLS to an
//! https:// collector, the resource that names this gomitm, and a bounded queue drained by one
//! task that sends batches with opentelemetry-otlp's HTTP/protobuf exporter.
//!
//! Never slows traffic: callers only `try_send` into the queue; when it is full (a collector
//! down, slow or stalled) the span is dropped and counted. Each batch has a deadline, and the
//! final flush another, so a stalled collector costs gomitm at most `SHUTDOWN_FLUSH` at exit.
//! The SDK's own `BatchSpanProcessor` is not used: it runs a thread of its own and does not
//! tell how many spans it dropped, which gomitm must print.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::resource::{EnvResourceDetector, Resource};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Spans waiting for the collector; beyond this they are dropped (about 8 flows' worth of
/// phase spans each: a thousand flows' lead over a slow collector).
pub const QUEUE_SPANS: usize = 8192;
/// Spans per OTLP request.
const BATCH_SPANS: usize = 512;
/// How long spans may wait for more to fill a batch.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// One OTLP request's deadline (OTLP's own default is 10 s).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long gomitm waits at exit for the last spans to reach the collector.
pub const SHUTDOWN_FLUSH: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("--otlp {0}: not an http:// or https:// URL")]
    BadUrl(String),
    #[error("--otlp: cannot build the OTLP exporter: {0}")]
    Build(String),
    #[error("{var}={path}: {reason}")]
    TlsFile {
        var: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "{0} is set without {1}: a client certificate for the collector needs both the \
         certificate and its key"
    )]
    ClientIdentityHalf(&'static str, &'static str),
    #[error("{0} and {1}: {2}")]
    ClientIdentity(&'static str, &'static str, String),
}

/// The variables of the OTLP exporter specification for TLS, each with its traces-only form
/// first (it wins, as in every SDK).
const CERTIFICATE_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
];
const CLIENT_CERTIFICATE_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
];
const CLIENT_KEY_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
];

/// TLS to an https:// collector: the roots it is checked against beyond the system's, and
/// the client certificate a collector that asks for one (mutual TLS) gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectorTls {
    /// `--extra-root`'s certificates and `OTEL_EXPORTER_OTLP_CERTIFICATE`'s.
    pub roots: Vec<CertificateDer<'static>>,
    pub client: Option<ClientIdentity>,
}

/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `OTEL_EXPORTER_OTLP_CLIENT_KEY`, read and
/// checked to belong together at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    /// Shared, not copied: rustls takes its own, and a key is not `Clone`.
    pub key: Arc<PrivateKeyDer<'static>>,
}

impl CollectorTls {
    /// From the OTLP exporter variables (`var` reads one), on top of `--extra-root`'s
    /// certificates. Every file is read, and the client key checked against its certificate,
    /// here at start-up, so that a bad setting stops gomitm before it listens.
    pub fn from_vars(
        extra_roots: Vec<CertificateDer<'static>>,
        var: impl Fn(&str) -> Option<OsString>,
    ) -> Result<CollectorTls, OtlpError> {
        let first = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                var(name)
                    .filter(|v| !v.is_empty())
                    .map(|v| (name, PathBuf::from(v)))
            })
        };
        let mut roots = extra_roots;
        if let Some((name, path)) = first(CERTIFICATE_VARS) {
            roots.extend(read_certs(name, &path)?);
        }
        let client = match (first(CLIENT_CERTIFICATE_VARS), first(CLIENT_KEY_VARS)) {
            (Some((cert_var, cert)), Some((key_var, key))) => {
                let chain = read_certs(cert_var, &cert)?;
                let key = PrivateKeyDer::from_pem_file(&key)
                    .map_err(|e| tls_file_error(key_var, &key, e))?;
                let identity = ClientIdentity {
                    chain,
                    key: Arc::new(key),
                };
                // rustls checks that the key is the certificate's; no roots are needed for it.
                client_config_builder(rustls::RootCertStore::empty())?
                    .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                    .map_err(|e| OtlpError::ClientIdentity(cert_var, key_var, e.to_string()))?;
                Some(identity)
            }
            (Some((cert, _)), None) => {
                return Err(OtlpError::ClientIdentityHalf(cert, CLIENT_KEY_VARS[1]))
            }
            (None, Some((key, _))) => {
                return Err(OtlpError::ClientIdentityHalf(
                    key,
                    CLIENT_CERTIFICATE_VARS[1],
                ))
            }
            (None, None) => None,
        };
        Ok(CollectorTls { roots, client })
    }
}

fn tls_file_error(var: &'static str, path: &Path, reason: impl ToString) -> OtlpError {
    OtlpError::TlsFile {
        var,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn read_certs(var: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, OtlpError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| tls_file_error(var, path, e))?;
    if certs.is_empty() {
        return Err(tls_file_error(var, path, "no CERTIFICATE block found"));
    }
    Ok(certs)
}

fn client_config_builder(
    roots: rustls::RootCertStore,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>, OtlpError>
{
    Ok(
        rustls::ClientConfig::builder_with_provider(crate::ca::tls_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| OtlpError::Build(e.to_string()))?
            .with_root_certificates(roots),
    )
}

/// The rustls client configuration for an https:// collector: the system's roots (which
/// honour `SSL_CERT_FILE` and `SSL_CERT_DIR`) and `tls.roots`. No ALPN here: hyper-rustls
/// sets it (HTTP/1.1, what the exporter's hyper client speaks) and panics if it is set.
fn collector_tls_config(tls: &CollectorTls) -> Result<rustls::ClientConfig, OtlpError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots.add_parsable_certificates(tls.roots.iter().cloned());
    let builder = client_config_builder(roots)?;
    match &tls.client {
        None => Ok(builder.with_no_client_auth()),
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| OtlpError::Build(e.to_string())),
    }
}

/// `--otlp` resolved: where to send, and whether the spans keep secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The traces URL, `/v1/traces` appended to a base URL.
    pub traces_url: String,
    /// `--otlp-no-redact`.
    pub keep_secrets: bool,
    /// Under `gomitm run`: one trace, with a root span for the command.
    pub run_trace: bool,
    /// For an https:// collector.
    pub tls: CollectorTls,
}

impl OtlpSettings {
    pub fn new(base: &str, keep_secrets: bool, run_trace: bool) -> Result<OtlpSettings, OtlpError> {
        Ok(OtlpSettings::for_traces_url(
            traces_url(base)?,
            keep_secrets,
            run_trace,
        ))
    }

    /// From a URL [`resolve_endpoint`] gave: already the traces endpoint.
    pub fn for_traces_url(traces_url: String, keep_secrets: bool, run_trace: bool) -> OtlpSettings {
        OtlpSettings {
            traces_url,
            keep_secrets,
            run_trace,
            tls: CollectorTls::default(),
        }
    }

    pub fn with_tls(self, tls: CollectorTls) -> OtlpSettings {
        OtlpSettings { tls, ..self }
    }

    /// Decided on the parsed URL: a scheme is case-insensitive (`HTTPS://` is https).
    pub fn is_https(&self) -> bool {
        self.traces_url
            .parse::<http::Uri>()
            .is_ok_and(|u| u.scheme() == Some(&http::uri::Scheme::HTTPS))
    }
}

/// The traces endpoint, by the OTLP exporter specification's precedence under gomitm's own
/// flag: `--otlp` (a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT`, which clap reads into the
/// same option), else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the signal's own variable wins
/// over the general one, and is used as given: no `/v1/traces` appended).
///
/// `flag_or_env` is `--otlp` as clap gives it; it came from the general variable when it
/// equals `general`, and then the traces variable wins. `None`: no export.
pub fn resolve_endpoint(
    flag_or_env: Option<&str>,
    general: Option<&str>,
    traces: Option<&str>,
) -> Result<Option<String>, OtlpError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let (flag_or_env, general, traces) = (given(flag_or_env), given(general), given(traces));
    let from_flag = flag_or_env.is_some() && flag_or_env != general;
    match (from_flag, flag_or_env, traces) {
        (true, Some(base), _) => traces_url(base).map(Some),
        (_, _, Some(full)) => {
            // Validated like a base URL, then used as given.
            traces_url(full)?;
            Ok(Some(full.to_string()))
        }
        (_, Some(base), None) => traces_url(base).map(Some),
        (_, None, None) => Ok(None),
    }
}

/// As `OTEL_EXPORTER_OTLP_ENDPOINT` is read: a base URL gets `/v1/traces`; a URL that already
/// names a path is used as given (so `…/v1/traces` is not doubled).
pub fn traces_url(base: &str) -> Result<String, OtlpError> {
    let base = base.trim();
    let uri: http::Uri = base
        .parse()
        .map_err(|_| OtlpError::BadUrl(crate::redact::redact_url(base)))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none() {
        return Err(OtlpError::BadUrl(crate::redact::redact_url(base)));
    }
    let path = uri.path();
    if path.is_empty() || path == "/" {
        Ok(format!("{}/v1/traces", base.trim_end_matches('/')))
    } else {
        Ok(base.to_string())
    }
}

/// `service.name=gomitm` unless `OTEL_SERVICE_NAME` says otherwise, `service.version`,
/// `host.name`, then `OTEL_RESOURCE_ATTRIBUTES` (CI tags its runner, job and repository).
pub fn resource() -> Resource {
    let mut builder = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "gomitm"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Some(host) = host_name() {
        builder = builder.with_attribute(KeyValue::new("host.name", host));
    }
    // The specification: OTEL_SERVICE_NAME wins over a service.name in the attributes.
    if let Some(name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
    {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

fn host_name() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname(2) writes at most `buf.len()` bytes into the buffer we own.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return Some(name);
            }
        }
        None
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok()
    }
}

/// What the export did, for the line printed at exit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub exported: u64,
    /// Spans lost: the queue was full, the collector failed or timed out, or the final
    /// flush ran out of time.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    /// The last export error, for the exit line.
    last_error: std::sync::Mutex<Option<String>>,
    /// What the HTTP client last failed with: the exporter's own error says only "network
    /// error".
    transport_error: Arc<std::sync::Mutex<Option<String>>>,
}

/// The exporter's hyper client, keeping the reason of its last failure (a certificate the
/// collector's CA did not sign, a client certificate the collector wanted) for the exit line.
#[derive(Debug)]
struct TellingClient<C> {
    inner: C,
    last_error: Arc<std::sync::Mutex<Option<String>>>,
    /// How gomitm reaches the collector, for the hint.
    link: Link,
}

/// How gomitm reaches the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Plain,
    Tls { client_cert: bool },
}

#[async_trait::async_trait]
impl<C: opentelemetry_http::HttpClient> opentelemetry_http::HttpClient for TellingClient<C> {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let result = self.inner.send_bytes(request).await;
        // Cleared by a success: the exporter retries, and a reason left from a failed first
        // try must not explain a later failure of another kind.
        let reason = result
            .as_ref()
            .err()
            .map(|e| transport_reason(crate::proxy::body::error_chain(e.as_ref()), self.link));
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = reason;
        result
    }
}

/// The error for the exit line: the transport's reason when the exporter's own error hides
/// it.
fn export_error(exporter_error: String, transport: Option<String>) -> String {
    match transport {
        Some(reason) => format!("{exporter_error}: {reason}"),
        None => exporter_error,
    }
}

/// A transport failure's reason (its error chain), with the setting that helps when rustls
/// or the collector named a certificate problem gomitm's settings can fix. A certificate
/// for another name or out of date is the collector's to fix, and gets no hint.
fn transport_reason(chain: String, link: Link) -> String {
    let has = |words: &[&str]| words.iter().any(|w| chain.contains(w));
    const CLIENT_CERT_SETTINGS: &str =
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=FILE and OTEL_EXPORTER_OTLP_CLIENT_KEY=FILE";
    let hint = match link {
        Link::Plain => String::new(),
        Link::Tls { .. } if has(&["UnknownIssuer"]) => "; trust the collector's CA with \
            OTEL_EXPORTER_OTLP_CERTIFICATE=FILE or --extra-root FILE"
            .into(),
        Link::Tls { client_cert: false } if has(&["CertificateRequired", "BadCertificate"]) => {
            format!("; the collector wants a client certificate: {CLIENT_CERT_SETTINGS}")
        }
        // A collector that requires a client certificate ends the handshake with an alert
        // after gomitm has begun sending; when the request is large, the write fails on the
        // closed connection before the alert is read.
        Link::Tls { client_cert: false } if has(&["Broken pipe", "onnection reset"]) => format!(
            "; the collector closed the connection during the request: if it requires a \
             client certificate, {CLIENT_CERT_SETTINGS}"
        ),
        Link::Tls { client_cert: true } if has(&["BadCertificate", "UnknownCA"]) => {
            "; the collector refused the client certificate \
             (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"
                .into()
        }
        Link::Tls { .. } => String::new(),
    };
    format!("{chain}{hint}")
}

/// The sending side, cloned into observers: never blocks.
#[derive(Clone)]
pub struct SpanQueue {
    tx: mpsc::Sender<SpanData>,
    counters: Arc<Counters>,
}

impl SpanQueue {
    /// Queue `span`, or count it dropped when the queue is full or closed.
    pub fn push(&self, span: SpanData) {
        match self.tx.try_send(span) {
            Ok(()) => self.counters.accepted.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.counters.refused.fetch_add(1, Ordering::Relaxed),
        };
    }

    /// Events the observer missed (it fell behind the store): their spans never existed.
    pub fn count_lost(&self, n: u64) {
        self.counters.refused.fetch_add(n, Ordering::Relaxed);
    }

    /// Spans lost so far (queue full, or the collector failed them).
    pub fn dropped_so_far(&self) -> u64 {
        self.counters.refused.load(Ordering::Relaxed) + self.counters.failed.load(Ordering::Relaxed)
    }
}

/// The running export: a queue and the task that empties it.
pub struct Export {
    queue: SpanQueue,
    task: JoinHandle<()>,
    pub settings: OtlpSettings,
}

impl Export {
    /// Build the exporter and start its task. Must be called inside a tokio runtime.
    pub fn start(settings: OtlpSettings) -> Result<Export, OtlpError> {
        let why = Arc::new(std::sync::Mutex::new(None));
        let builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.traces_url.clone())
            .with_timeout(EXPORT_TIMEOUT)
            // OTEL_EXPORTER_OTLP_HEADERS is read by the exporter itself, as every SDK does.
            .with_headers(HashMap::new());
        // The same hyper client the exporter would build, with TLS for an https:// collector,
        // and wrapped so that a failure keeps its reason.
        let builder = if settings.is_https() {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(collector_tls_config(&settings.tls)?)
                .https_only()
                .enable_http1()
                .build();
            builder.with_http_client(TellingClient {
                inner: HyperClient::new(connector, EXPORT_TIMEOUT, None),
                last_error: why.clone(),
                link: Link::Tls {
                    client_cert: settings.tls.client.is_some(),
                },
            })
        } else {
            builder.with_http_client(TellingClient {
                inner: HyperClient::with_default_connector(EXPORT_TIMEOUT, None),
                last_error: why.clone(),
                link: Link::Plain,
            })
        };
        let exporter = builder
            .build()
            .map_err(|e| OtlpError::Build(e.to_string()))?;
        Ok(Export::assemble(settings, exporter, resource(), why))
    }

    /// The export over any exporter (tests use the SDK's in-memory one).
    pub fn with_exporter<E: SpanExporter + 'static>(
        settings: OtlpSettings,
        exporter: E,
        resource: Resource,
    ) -> Export {
        Export::assemble(settings, exporter, resource, Arc::default())
    }

    /// `transport_error`: where the HTTP client puts the reason of its last failure.
    fn assemble<E: SpanExporter + 'static>(
        settings: OtlpSettings,
        mut exporter: E,
        resource: Resource,
        transport_error: Arc<std::sync::Mutex<Option<String>>>,
    ) -> Export {
        exporter.set_resource(&resource);
        let (tx, rx) = mpsc::channel(QUEUE_SPANS);
        let counters = Arc::new(Counters {
            transport_error,
            ..Counters::default()
        });
        let task = tokio::spawn(drain(exporter, rx, counters.clone()));
        Export {
            queue: SpanQueue { tx, counters },
            task,
            settings,
        }
    }

    pub fn queue(&self) -> SpanQueue {
        self.queue.clone()
    }

    /// Close the queue, give the last spans `flush` to reach the collector, and say what
    /// happened. Spans still queued or in flight at the deadline count as dropped.
    pub async fn finish(self, flush: Duration) -> (ExportStats, Option<String>) {
        let Export {
            queue, mut task, ..
        } = self;
        let counters = queue.counters.clone();
        drop(queue);
        let timed_out = tokio::time::timeout(flush, &mut task).await.is_err();
        if timed_out {
            task.abort();
            let _ = task.await;
        }
        let accepted = counters.accepted.load(Ordering::Relaxed);
        let exported = counters.exported.load(Ordering::Relaxed);
        let refused = counters.refused.load(Ordering::Relaxed);
        let stats = ExportStats {
            exported,
            dropped: refused + accepted.saturating_sub(exported),
        };
        let error = counters
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .or_else(|| {
                (timed_out && stats.dropped > 0).then(|| {
                    format!(
                        "the collector did not answer within the {} ms allowed at exit",
                        flush.as_millis()
                    )
                })
            });
        (stats, error)
    }
}

async fn drain<E: SpanExporter>(
    exporter: E,
    mut rx: mpsc::Receiver<SpanData>,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(BATCH_SPANS);
    loop {
        let Some(first) = rx.recv().await else { break };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        let mut closed = false;
        while batch.len() < BATCH_SPANS {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(span)) => batch.push(span),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
        send(&exporter, &mut batch, &counters).await;
        if closed {
            break;
        }
    }
    let _ = exporter.shutdown();
}

async fn send<E: SpanExporter>(exporter: &E, batch: &mut Vec<SpanData>, counters: &Counters) {
    let n = batch.len() as u64;
    let spans = std::mem::take(batch);
    // Exports run one at a time (one task): the slot holds this export's reason only.
    let take_transport = || {
        counters
            .transport_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    };
    take_transport();
    let error = match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export(spans)).await {
        Ok(Ok(())) => {
            counters.exported.fetch_add(n, Ordering::Relaxed);
            return;
        }
        Ok(Err(e)) => export_error(e.to_string(), take_transport()),
        Err(_) => format!(
            "no answer from the collector within {}s",
            EXPORT_TIMEOUT.as_secs()
        ),
    };
    counters.failed.fetch_add(n, Ordering::Relaxed);
    *counters
        .last_error
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(error);
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
