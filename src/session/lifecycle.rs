//! A running proxy with its store and observers: what `gomitm proxy` and `gomitm run` share.
//! Starts in a fixed order (everything the user wrote is validated before a port is
//! announced), and finishes in one: stop accepting, let in-flight flows end, close the
//! observers, write the HAR.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::setup::{watch_rules, Banner, Config};
use super::shutdown::wait_for_in_flight;
use crate::ca::{self, CertAuthority};
use crate::filter::Filter;
use crate::flow::Flow;
use crate::har;
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
}

impl Session {
    /// Bind, announce, and serve `cfg` (validated before: nothing here can be the user's
    /// mistake except a port that is taken).
    pub(crate) async fn start(mut cfg: Config) -> anyhow::Result<Session> {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        cfg.check_upstream_is_not_self(addr)?;
        // Scripts read the port from this exact first line.
        eprintln!("gomitm: listening on http://{addr}");
        for line in &cfg.route_lines {
            // Upstream settings come from the environment (HTTPS_PROXY…): shown safe.
            eprintln!("{}", crate::terminal_text::terminal_safe(line));
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

    /// Stop accepting, let in-flight flows finish briefly, flush observers, write the HAR.
    pub(crate) async fn finish(self) -> anyhow::Result<Vec<Arc<Flow>>> {
        let _ = self.stop.send(());
        let _ = self.serve.await;
        wait_for_in_flight(&self.store).await;
        self.observers.close().await;
        if let Some(path) = &self.har_out {
            write_har(&self.store, path, &self.har, self.har_filter.as_ref())?;
        }
        Ok(self.store.snapshot())
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

fn write_har(
    store: &Store,
    path: &Path,
    opts: &har::HarOptions,
    filter: Option<&Filter>,
) -> anyhow::Result<()> {
    let mut flows = store.snapshot();
    if let Some(f) = filter {
        flows.retain(|flow| f.matches(flow));
    }
    let doc = har::to_har(flows.iter().map(|f| &**f), opts);
    let json = har::to_json(&doc).context("cannot serialise the HAR")?;
    std::fs::write(path, json)
        .with_context(|| format!("cannot write HAR file {}", path.display()))?;
    eprintln!("gomitm: wrote {} flows to {}", flows.len(), path.display());
    Ok(())
}
