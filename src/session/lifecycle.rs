//! A running proxy with its store and observers: what `gomitm proxy` and `gomitm run` share.
//! Starts in a fixed order (everything the user wrote is validated before a port is
//! announced), and finishes in one: stop accepting, let in-flight flows end, close the
//! observers, write the HAR.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::autosave;
use super::setup::{watch_rules, Banner, Config};
use super::shutdown::drain_in_flight;
use crate::ca::{self, CertAuthority};
use crate::filter::Filter;
use crate::flow::Flow;
use crate::har;
use crate::output_file;
use crate::proxy::{self, auth::ProxyAuth};
use crate::store::{Observer, Observers, Store};

/// A running proxy with its store and observers: what `gomitm proxy` and `gomitm run` share.
pub(crate) struct Session {
    pub addr: std::net::SocketAddr,
    pub store: Arc<Store>,
    pub ca: Arc<CertAuthority>,
    stop: tokio::sync::oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<()>,
    observers: Observers,
    har_out: Option<PathBuf>,
    har_filter: Option<Filter>,
    har: har::HarOptions,
    auth: Option<ProxyAuth>,
    otel: Option<crate::otel::Tracing>,
}

impl Session {
    /// Bind, announce, and serve `cfg` (validated before: nothing here can be the user's
    /// mistake except a port that is taken).
    pub(crate) async fn start(mut cfg: Config) -> anyhow::Result<Session> {
        let listener = match tokio::net::TcpListener::bind(cfg.listen).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
                "cannot listen on {}: the port is already in use (another gomitm?); pick \
                 another with --listen PORT, or --listen 127.0.0.1:0 for a free one (the \
                 first line then says which)",
                cfg.listen
            ),
            bound => bound.with_context(|| format!("cannot listen on {}", cfg.listen))?,
        };
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        cfg.check_upstream_is_not_self(addr)?;
        // Scripts read the port from this exact first line.
        eprintln!("gomitm: listening on http://{addr}");
        for line in &cfg.route_lines {
            // Upstream settings come from the environment (HTTPS_PROXY…): shown safe, and
            // redacted (the proxy URLs are masked already; this is the rule every output uses).
            let line = crate::redact::redact_text(line);
            eprintln!("{}", crate::terminal_text::terminal_safe(&line));
        }
        if !addr.ip().is_loopback() && cfg.auth.is_none() {
            eprintln!(
                "gomitm: warning: listening on {addr} without --proxy-auth \
                 (--allow-unauthenticated-remote): anyone who can reach this port can use \
                 gomitm as an open proxy and read the decrypted traffic of whoever uses it"
            );
        }
        let ca = cfg.ca.clone();
        if let Err(e) = ca::write_bundle(&ca, &ca.dir().join(ca::BUNDLE_FILE)) {
            let e = e.to_string();
            eprintln!(
                "gomitm: warning: {}",
                crate::terminal_text::terminal_safe(&e)
            );
        }
        if cfg.banner == Banner::Full {
            print_banner(&ca, addr, cfg.auth.as_ref());
        }
        let store = Arc::new(Store::new(cfg.store));
        let ctx = Arc::new(cfg.proxy_ctx(store.clone(), addr)?);
        tokio::spawn(watch_rules(ctx.rules.clone()));
        let mut observers = Observers::default();
        observers.attach(&store, cfg.log_observer());
        if let (Some(path), Some(every)) = (&cfg.har_out, cfg.har_autosave) {
            let target = autosave::Target {
                path: path.clone(),
                filter: cfg.har_filter.clone(),
                har: cfg.har.clone(),
            };
            let saver = autosave::Autosave::start(store.clone(), target, every);
            observers.attach(&store, Box::new(saver));
        }
        let otel = match cfg.otlp.take() {
            Some(settings) => {
                let facts = crate::otel::DiagnoseFacts {
                    private: cfg.go.private.clone(),
                    bundle: Some(ca.dir().join(ca::BUNDLE_FILE)),
                    go: cfg.go.version,
                };
                let extra = cfg.har.extra_redact_headers.clone();
                let (tracing, observer) = crate::otel::Tracing::start(settings, extra, facts)?;
                observers.attach(&store, Box::new(observer));
                Some(tracing)
            }
            None => None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve = tokio::spawn(proxy::serve(listener, ctx, async {
            let _ = stopped.await;
        }));
        Ok(Session {
            addr,
            store,
            ca,
            stop,
            serve,
            observers,
            har_out: cfg.har_out,
            har_filter: cfg.har_filter,
            har: cfg.har,
            auth: cfg.auth,
            otel,
        })
    }

    /// Attach one more observer (the TUI's); it follows flows from now on.
    pub(crate) fn observe(&mut self, observer: Box<dyn Observer>) {
        self.observers.attach(&self.store, observer);
    }

    pub(crate) fn bundle_path(&self) -> PathBuf {
        self.ca.dir().join(ca::BUNDLE_FILE)
    }

    /// The URL clients use: `http://ADDR`, with the `--proxy-auth` credentials when set.
    pub(crate) fn proxy_url(&self) -> String {
        let url = format!("http://{}", self.addr);
        match &self.auth {
            Some(auth) => auth.proxy_url(&url),
            None => url,
        }
    }

    /// How gomitm itself reaches this session as a client (the TUI's `r`/`E`, `gomitm
    /// replay`): its address (loopback for a wildcard listen), its CA, its credentials.
    pub(crate) fn replay_endpoint(&self, timeout: std::time::Duration) -> crate::replay::Endpoint {
        let mut proxy = self.addr;
        if proxy.ip().is_unspecified() {
            let loopback: std::net::IpAddr = if proxy.is_ipv6() {
                std::net::Ipv6Addr::LOCALHOST.into()
            } else {
                std::net::Ipv4Addr::LOCALHOST.into()
            };
            proxy.set_ip(loopback);
        }
        crate::replay::Endpoint {
            proxy,
            ca_pem: self.ca.cert_pem().to_string(),
            proxy_authorization: self.auth.as_ref().map(ProxyAuth::basic_authorization),
            timeout,
        }
    }

    /// Stop accepting, let in-flight flows finish briefly, flush observers, write the HAR.
    /// The flows come back even when the HAR could not be written where asked: that failure
    /// is printed (with where the capture went instead) and reported in `har_failed`.
    pub(crate) async fn finish(self) -> Ending {
        let _ = self.stop.send(());
        let _ = self.serve.await;
        drain_in_flight(&self.store).await;
        self.observers.close().await;
        let mut har_failed = false;
        if let Some(path) = &self.har_out {
            let flows = har_flows(&self.store, self.har_filter.as_ref());
            har_failed = !save_har(&flows, path, &self.har, self.ca.dir());
        }
        // `gomitm proxy` ends its export here; `gomitm run` owes its root span first.
        let otel = match self.otel {
            Some(t) if !t.wants_run() => {
                t.finish(None).await;
                None
            }
            other => other,
        };
        Ending {
            flows: self.store.snapshot(),
            har_failed,
            otel,
        }
    }
}

fn print_banner(ca: &CertAuthority, addr: std::net::SocketAddr, auth: Option<&ProxyAuth>) {
    eprintln!(
        "gomitm: CA certificate {} (SHA-256 {})",
        ca.cert_path().display(),
        ca.fingerprint_sha256()
    );
    // The password is never printed: `gomitm env` reads it from GOMITM_PROXY_AUTH or the flag.
    let creds = match auth {
        Some(a) => format!(
            " --proxy-auth '{}:PASSWORD'",
            a.user().replace('\'', r"'\''")
        ),
        None => String::new(),
    };
    eprintln!(
        "gomitm: point go and git at it with: eval \"$(gomitm env --proxy http://{addr}{creds})\""
    );
}

/// How a session ended: every flow, and whether `--har-out` could not be written.
pub(crate) struct Ending {
    pub flows: Vec<Arc<Flow>>,
    pub har_failed: bool,
    /// `gomitm run --otlp`: the export, to be finished with the run's root span.
    pub otel: Option<crate::otel::Tracing>,
}

impl Ending {
    /// For commands whose exit status should tell a lost HAR (`gomitm proxy`).
    pub(crate) fn har_written(self) -> anyhow::Result<Vec<Arc<Flow>>> {
        if self.har_failed {
            anyhow::bail!("the HAR could not be written to its --har-out path (see above)");
        }
        Ok(self.flows)
    }
}

fn har_flows(store: &Store, filter: Option<&Filter>) -> Vec<Arc<Flow>> {
    let mut flows = store.snapshot();
    if let Some(f) = filter {
        flows.retain(|flow| f.matches(flow));
    }
    flows
}

/// Write the HAR to `path`, or else to a fallback in the CA directory or the temporary
/// directory, saying so: a capture is never lost without a word. True when `path` was written.
fn save_har(flows: &[Arc<Flow>], path: &Path, opts: &har::HarOptions, ca_dir: &Path) -> bool {
    let doc = har::to_har(flows.iter().map(|f| &**f), opts);
    let json = match har::to_json(&doc) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("gomitm: error: cannot serialise the HAR: {e}");
            return false;
        }
    };
    match output_file::replace(path, json.as_bytes(), Some(output_file::TRAFFIC_MODE)) {
        Ok(()) => {
            eprintln!("gomitm: wrote {} flows to {}", flows.len(), path.display());
            return true;
        }
        Err(e) => eprintln!(
            "gomitm: error: cannot write HAR file {}: {e}",
            path.display()
        ),
    }
    for fallback in output_file::fallback_path(&[ca_dir], "gomitm-unsaved", "har") {
        match output_file::write_new(&fallback, json.as_bytes(), Some(output_file::TRAFFIC_MODE)) {
            Ok(()) => {
                eprintln!(
                    "gomitm: saved the {} flows to {} instead",
                    flows.len(),
                    fallback.display()
                );
                return false;
            }
            Err(e) => eprintln!("gomitm: error: cannot write {}: {e}", fallback.display()),
        }
    }
    eprintln!("gomitm: error: the capture could not be saved anywhere");
    false
}
