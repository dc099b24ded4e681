//! Composition root: builds the CA, store, upstream and proxy from the parsed command line,
//! starts the observers, waits for Ctrl-C or SIGTERM, and writes the HAR file on exit.
//! The only place (with `main`) that reports errors with `anyhow` context.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::ca::{self, CertAuthority};
use crate::cli::{
    CaAction, CaDirArg, Cli, Command, EnvArgs, OpenArgs, ProxyArgs, RulesAction, RulesArgs, Shell,
    UpstreamChoice,
};
use crate::filter::Filter;
use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::har;
use crate::log::{self, LogOutputs};
use crate::proxy::auth::ProxyAuth;
use crate::proxy::dial::{DialConfig, Dialer};
use crate::proxy::live_rules::LiveRules;
use crate::proxy::route::{self, EnvProxies, ProxyRoute};
use crate::proxy::upstream::Upstream;
use crate::proxy::{self, Ctx, HostGlob, ProxyOptions};
use crate::rules::{QuickForms, RuleSet};
use crate::store::{Store, StoreLimits};

/// How long in-flight flows get to finish after a shutdown signal before the HAR is written.
const DRAIN_GRACE: Duration = Duration::from_secs(3);

/// Run the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command.unwrap_or(Command::Proxy(Box::new(cli.proxy))) {
        Command::Proxy(args) => {
            runtime()?.block_on(run_proxy(*args))?;
            Ok(0)
        }
        Command::Env(args) => print_env(&args).map(|_| 0),
        Command::Ca(args) => run_ca(args.action).map(|_| 0),
        Command::Run(args) => {
            init_tracing();
            runtime()?.block_on(crate::run::run(*args))
        }
        Command::Report(args) => crate::run::report(&args),
        Command::Open(args) => open_har(&args),
        Command::Rules(args) => check_rules(args),
        Command::Filters => {
            print!("{}", crate::filter::help_text());
            Ok(0)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `--ca-dir`, else `$GOMITM_CA_DIR` (via clap), else the user's config directory.
pub fn ca_dir(arg: &CaDirArg) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &arg.ca_dir {
        return Ok(dir.clone());
    }
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = env("XDG_CONFIG_HOME") {
        return Ok(xdg.join("gomitm"));
    }
    if let Some(home) = env("HOME") {
        return Ok(home.join(".config").join("gomitm"));
    }
    if let Some(appdata) = env("APPDATA") {
        return Ok(appdata.join("gomitm"));
    }
    anyhow::bail!("no home directory to keep the CA in; pass --ca-dir DIR")
}

fn load_ca(arg: &CaDirArg) -> anyhow::Result<CertAuthority> {
    let dir = ca_dir(arg)?;
    CertAuthority::load_or_create(&dir)
        .with_context(|| format!("cannot load the gomitm CA from {}", dir.display()))
}

async fn run_proxy(args: ProxyArgs) -> anyhow::Result<()> {
    init_tracing();
    let private = args
        .private
        .as_deref()
        .map_or_else(PrivatePatterns::none, PrivatePatterns::from_globs);
    let shutdown = shutdown_signal();
    let tui = wants_tui(&args);
    let session = Session::start(
        &args,
        Banner::Full,
        !args.quiet && !tui,
        GoFacts {
            private: private.clone(),
            version: None,
        },
    )
    .await?;
    if tui {
        let source = crate::tui::Source::Live {
            addr: session.addr.to_string(),
        };
        let cfg = tui_config(&args, source, private, Some(session.bundle_path()), None);
        let feeds = crate::tui::Feeds::new(Some(session.store.clone()), Vec::new(), shutdown);
        // A task of its own, so that even a panic in the TUI leaves the capture intact: the
        // HAR is written whatever happened to the terminal.
        let shown = tokio::spawn(crate::tui::run(cfg, feeds)).await;
        session.finish(&args).await?;
        shown
            .context("the terminal UI stopped")?
            .context("terminal UI")?;
        return Ok(());
    }
    shutdown.await;
    eprintln!("gomitm: shutting down");
    session.finish(&args).await?;
    Ok(())
}

/// The TUI on a terminal, unless `--no-tui`, or `--jsonl -` which needs stdout.
pub(crate) fn wants_tui(args: &ProxyArgs) -> bool {
    let jsonl_on_stdout = args.jsonl.as_deref().is_some_and(|p| p.as_os_str() == "-");
    !args.no_tui && !jsonl_on_stdout && std::io::stdout().is_terminal()
}

pub(crate) fn tui_config(
    args: &ProxyArgs,
    source: crate::tui::Source,
    private: PrivatePatterns,
    bundle: Option<PathBuf>,
    go_version: Option<GoVersion>,
) -> crate::tui::Config {
    crate::tui::Config {
        go_version,
        source,
        har_out: args.har_out.clone(),
        redact: !args.no_redact,
        redact_headers: args.redact_header.clone(),
        private,
        bundle,
        utc_offset_s: crate::tui::local_utc_offset(),
        filter: args.filter.clone(),
    }
}

/// `gomitm open FILE.har`: the TUI over a HAR file, read-only.
fn open_har(args: &OpenArgs) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "gomitm open needs a terminal; for a text summary use: gomitm report {}",
            args.har.display()
        );
    }
    let text = std::fs::read_to_string(&args.har)
        .with_context(|| format!("cannot read {}", args.har.display()))?;
    let mut flows = har::from_json(&text)
        .with_context(|| format!("{} is not a HAR file gomitm can read", args.har.display()))?;
    crate::run::classify_imported(&mut flows);
    let private = args
        .private
        .as_deref()
        .map_or_else(PrivatePatterns::none, PrivatePatterns::from_globs);
    let cfg = crate::tui::Config {
        source: crate::tui::Source::File {
            path: args.har.display().to_string(),
        },
        har_out: None,
        redact: true,
        redact_headers: Vec::new(),
        private,
        bundle: None,
        utc_offset_s: crate::tui::local_utc_offset(),
        filter: None,
        go_version: None,
    };
    let flows = flows.into_iter().map(Arc::new).collect();
    runtime()?.block_on(async {
        let feeds = crate::tui::Feeds::new(None, flows, shutdown_signal());
        crate::tui::run(cfg, feeds).await
    })?;
    Ok(0)
}

/// How much gomitm says on start: the first line always (scripts read the port from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Banner {
    Full,
    FirstLineOnly,
}

/// A running proxy with its store and observers: what `gomitm proxy` and `gomitm run` share.
pub(crate) struct Session {
    pub addr: std::net::SocketAddr,
    pub store: Arc<Store>,
    pub ca: Arc<CertAuthority>,
    stop: tokio::sync::oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<()>,
    log: LogHandle,
    har_filter: Option<Filter>,
    auth: Option<ProxyAuth>,
}

/// What the session knows of the Go world it serves: the private paths, and the go release
/// of `gomitm run`'s command (for fixes that depend on it).
#[derive(Debug, Clone, Default)]
pub(crate) struct GoFacts {
    pub private: PrivatePatterns,
    pub version: Option<GoVersion>,
}

impl Session {
    pub(crate) async fn start(
        args: &ProxyArgs,
        banner: Banner,
        lines: bool,
        go: GoFacts,
    ) -> anyhow::Result<Session> {
        check_exposure(args)?;
        let ca = Arc::new(load_ca(&args.ca)?);
        // Everything the user wrote is validated before a port is announced.
        let har_filter = parse_filter("--har-filter", args.har_filter.as_deref())?;
        let log_filter = parse_filter("--filter", args.filter.as_deref())?;
        let rules = Arc::new(load_rules(args)?);
        let (route, route_lines) = upstream_route(args);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        check_upstream_is_not_self(args, &route, addr)?;
        // Scripts read the port from this exact first line.
        eprintln!("gomitm: listening on http://{addr}");
        for line in &route_lines {
            eprintln!("{line}");
        }
        if !addr.ip().is_loopback() && args.proxy_auth.is_none() {
            eprintln!(
                "gomitm: warning: listening on {addr} without --proxy-auth                  (--allow-unauthenticated-remote): anyone who can reach this port can use                  gomitm as an open proxy and read the decrypted traffic of whoever uses it"
            );
        }
        if let Err(e) = ca::write_bundle(&ca, &ca.dir().join(ca::BUNDLE_FILE)) {
            eprintln!("gomitm: warning: {e}");
        }
        if banner == Banner::Full {
            print_banner(&ca, addr, args.proxy_auth.as_ref());
        }
        let store = Arc::new(Store::new(StoreLimits {
            max_flows: args.max_flows.max(1),
            max_captured_bytes: usize::try_from(args.max_capture_total).unwrap_or(usize::MAX),
        }));
        let ctx = Arc::new(build_ctx(
            args,
            route,
            ca.clone(),
            store.clone(),
            addr,
            go,
            rules,
        )?);
        tokio::spawn(watch_rules(ctx.rules.clone()));
        let log = start_log(args, &store, lines, log_filter)?;
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
            log,
            har_filter,
            auth: args.proxy_auth.clone(),
        })
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
    pub(crate) async fn finish(
        self,
        args: &ProxyArgs,
    ) -> anyhow::Result<Vec<Arc<crate::flow::Flow>>> {
        let _ = self.stop.send(());
        let _ = self.serve.await;
        wait_for_in_flight(&self.store).await;
        let (stop_log, log_task) = self.log;
        let _ = stop_log.send(());
        let _ = log_task.await;
        if let Some(path) = &args.har_out {
            write_har(&self.store, path, args, self.har_filter.as_ref())?;
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

fn build_ctx(
    args: &ProxyArgs,
    route: ProxyRoute,
    ca: Arc<CertAuthority>,
    store: Arc<Store>,
    listen_addr: std::net::SocketAddr,
    go: GoFacts,
    rules: Arc<LiveRules>,
) -> anyhow::Result<Ctx> {
    let mut extra_roots = Vec::new();
    for path in &args.extra_roots {
        extra_roots.extend(
            ca::read_pem_certs(path).with_context(|| format!("--extra-root {}", path.display()))?,
        );
    }
    let connect_timeout = Duration::from_secs(args.connect_timeout.max(1));
    let dialer = Dialer::new(DialConfig {
        resolve: args.resolve.clone(),
        extra_roots,
        insecure: args.insecure_upstream,
        proxy: route,
        connect_timeout,
    })
    .context("cannot set up upstream TLS")?;
    let upstream_timeout =
        (args.upstream_timeout > 0).then(|| Duration::from_secs(args.upstream_timeout));
    let max_body_capture = usize::try_from(args.max_body_capture).unwrap_or(usize::MAX);
    Ok(Ctx {
        rules,
        store,
        upstream: Upstream::new(dialer, upstream_timeout),
        bundle: ca.dir().join(ca::BUNDLE_FILE),
        ca,
        opts: ProxyOptions {
            max_body_capture,
            no_intercept: args.no_intercept.iter().map(|g| HostGlob::new(g)).collect(),
            upstream_timeout,
            private: go.private,
            annotate: args.annotate,
            limits: proxy::limits::ClientLimits {
                header_read_timeout: (args.header_read_timeout > 0)
                    .then(|| Duration::from_secs(args.header_read_timeout)),
                max_conns_per_client: args.max_conns_per_client,
            },
            go_version: go.version,
        },
        listen_addr,
        auth: args.proxy_auth.clone(),
    })
}

/// The rules file and the quick forms, validated at start-up.
fn load_rules(args: &ProxyArgs) -> anyhow::Result<LiveRules> {
    let quick = QuickForms {
        set_header: args.set_header.clone(),
        remove_header: args.remove_header.clone(),
        block: args.block.clone(),
        map_remote: args.map_remote.clone(),
        delay: args.delay.clone(),
    };
    let quick = RuleSet::from_quick_forms(&quick).map_err(|e| anyhow::anyhow!("{e}"))?;
    LiveRules::load(args.rules.as_deref(), quick).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Poll the rules file; a valid edit is swapped in whole, an invalid one keeps the old rules.
async fn watch_rules(rules: Arc<LiveRules>) {
    let Some(file) = rules.file().map(|f| f.display().to_string()) else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tick.tick().await;
        if !rules.changed() {
            continue;
        }
        match rules.reload() {
            Ok(n) => eprintln!("gomitm: rules reloaded from {file}: {n} rules"),
            Err(e) => eprintln!("gomitm: keeping the previous rules; {file} has an error:\n{e}"),
        }
    }
}

fn check_rules(args: RulesArgs) -> anyhow::Result<i32> {
    let RulesAction::Check { file } = args.action;
    match crate::rules::check(&file) {
        Ok(set) => {
            println!("{}: ok, {} rules", file.display(), set.rules.len());
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

fn parse_filter(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Filter>> {
    text.map(|t| Filter::parse(t).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
        .transpose()
}

type LogHandle = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

fn start_log(
    args: &ProxyArgs,
    store: &Store,
    lines: bool,
    filter: Option<Filter>,
) -> anyhow::Result<LogHandle> {
    let jsonl: Option<Box<dyn Write + Send>> = match &args.jsonl {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("cannot create --jsonl file {}", p.display()))?;
            Some(Box::new(std::io::BufWriter::new(file)))
        }
    };
    let outputs = LogOutputs {
        lines,
        jsonl,
        filter,
        redact: (!args.no_redact).then(|| args.redact_header.clone()),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(log::run(store.subscribe(), outputs, stop_rx));
    Ok((stop_tx, task))
}

/// A proxy reachable from other machines must ask for credentials, unless the user said
/// explicitly that it need not.
fn check_exposure(args: &ProxyArgs) -> anyhow::Result<()> {
    let ip = args.listen.ip();
    if ip.is_loopback() || args.proxy_auth.is_some() || args.allow_unauthenticated_remote {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to listen on {} without credentials: it is not a loopback address, so anyone \
         who can reach the port could use gomitm as an open proxy and read the decrypted \
         traffic of whoever uses it. Require credentials with --proxy-auth USER:PASS (or \
         GOMITM_PROXY_AUTH), listen on 127.0.0.1, or accept the risk with \
         --allow-unauthenticated-remote",
        args.listen
    )
}

/// Where upstream connections go, from `--upstream-proxy` (`gomitm run` makes `env` the
/// default), and the start-up lines that say so.
fn upstream_route(args: &ProxyArgs) -> (ProxyRoute, Vec<String>) {
    let env = || EnvProxies::from_vars(|k| std::env::var(k).ok());
    match &args.upstream_proxy {
        Some(UpstreamChoice::Url(p)) => (
            ProxyRoute::all(p.clone()),
            vec![format!(
                "gomitm: upstream proxy {} (--upstream-proxy)",
                p.display_masked()
            )],
        ),
        Some(UpstreamChoice::Env) => {
            route::route_from_env(&env(), crate::cli::parse_upstream_proxy)
        }
        Some(UpstreamChoice::Direct) => (
            ProxyRoute::default(),
            vec!["gomitm: no upstream proxy (--upstream-proxy none)".to_string()],
        ),
        None => {
            let inherited = env();
            let note = inherited
                .https
                .as_ref()
                .or(inherited.http.as_ref())
                .map(|(name, _)| {
                    format!(
                        "gomitm: {name} is set but gomitm connects directly; \
                     --upstream-proxy env chains through it"
                    )
                });
            (ProxyRoute::default(), note.into_iter().collect())
        }
    }
}

/// An upstream proxy naming gomitm itself would send every request round in a circle, each
/// lap a new connection. Caught by IP literal, `localhost` or a `--resolve` rule (no DNS).
fn check_upstream_is_not_self(
    args: &ProxyArgs,
    route: &ProxyRoute,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    for up in route.proxies() {
        let rule = args
            .resolve
            .iter()
            .find(|r| r.host.eq_ignore_ascii_case(&up.host) && r.port.is_none_or(|p| p == up.port));
        let looped = match rule {
            Some(r) => proxy::is_own_address(addr, &r.addr.ip().to_string(), r.addr.port()),
            None => proxy::is_own_address(addr, &up.host, up.port),
        };
        if looped {
            anyhow::bail!(
                "the upstream proxy {} is gomitm's own address {addr}: every request would \
                 loop through gomitm forever",
                up.display()
            );
        }
    }
    Ok(())
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the future is
/// first polled, so a signal that arrives while gomitm is still starting is not lost (the
/// default action would kill the process without writing the HAR).
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
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

async fn wait_for_in_flight(store: &Store) {
    let deadline = Instant::now() + DRAIN_GRACE;
    while store.in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write_har(
    store: &Store,
    path: &Path,
    args: &ProxyArgs,
    filter: Option<&Filter>,
) -> anyhow::Result<()> {
    let mut flows = store.snapshot();
    if let Some(f) = filter {
        flows.retain(|flow| f.matches(flow));
    }
    let opts = har::HarOptions {
        redact: !args.no_redact,
        extra_redact_headers: args.redact_header.clone(),
        ..har::HarOptions::default()
    };
    let doc = har::to_har(flows.iter().map(|f| &**f), &opts);
    let json = har::to_json(&doc).context("cannot serialise the HAR")?;
    std::fs::write(path, json)
        .with_context(|| format!("cannot write HAR file {}", path.display()))?;
    eprintln!("gomitm: wrote {} flows to {}", flows.len(), path.display());
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOMITM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn print_env(args: &EnvArgs) -> anyhow::Result<()> {
    let ca = load_ca(&args.ca)?;
    let bundle = ca.dir().join(ca::BUNDLE_FILE);
    ca::write_bundle(&ca, &bundle)?;
    let proxy = match &args.proxy_auth {
        Some(auth) => auth.proxy_url(&args.proxy),
        None => args.proxy.clone(),
    };
    print!("{}", env_script(args.shell, &proxy, &bundle));
    Ok(())
}

/// The lines that point go (HTTPS_PROXY, SSL_CERT_FILE) and git (GIT_SSL_CAINFO) at gomitm.
pub fn env_script(shell: Shell, proxy: &str, bundle: &Path) -> String {
    let bundle = bundle.display().to_string();
    let vars = [
        ("HTTPS_PROXY", proxy),
        ("HTTP_PROXY", proxy),
        ("SSL_CERT_FILE", bundle.as_str()),
        ("GIT_SSL_CAINFO", bundle.as_str()),
    ];
    let mut out = String::from(
        "# gomitm: go and git through the proxy. Go never proxies localhost/127.0.0.1 URLs.\n\
         # SSL_CERT_FILE: Go reads it on Linux and the BSDs, and on macOS and Windows from Go 1.27;\n\
         # Go 1.18-1.26 on macOS use the Keychain, and Go before 1.27 on Windows the Root store.\n",
    );
    for (k, v) in vars {
        let line = match shell {
            Shell::Bash | Shell::Zsh => format!("export {k}='{}'\n", v.replace('\'', r"'\''")),
            Shell::Fish => format!("set -gx {k} '{}'\n", v.replace('\'', r"\'")),
            Shell::Powershell => format!("$env:{k} = '{}'\n", v.replace('\'', "''")),
        };
        out.push_str(&line);
    }
    out
}

fn run_ca(action: CaAction) -> anyhow::Result<()> {
    match action {
        CaAction::Path(dir) => {
            println!("{}", load_ca(&dir)?.cert_path().display());
        }
        CaAction::Show(dir) => {
            let ca = load_ca(&dir)?;
            print!("{}", describe_ca(&ca));
        }
        CaAction::Bundle { out, ca } => {
            let ca = load_ca(&ca)?;
            ca::write_bundle(&ca, &out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "gomitm: wrote system roots + gomitm CA to {}",
                out.display()
            );
        }
    }
    Ok(())
}

fn describe_ca(ca: &CertAuthority) -> String {
    let path = ca.cert_path();
    let p = path.display();
    let expiry = ca
        .not_after()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ca.not_after().to_string());
    let how = if cfg!(target_os = "macos") {
        format!(
            "macOS: Go 1.18-1.26 use the Keychain and ignore SSL_CERT_FILE (Go 1.27+ reads it):\n  \
             sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {p}\n"
        )
    } else if cfg!(windows) {
        format!(
            "Windows: Go before 1.27 uses the Trusted Root store only (Go 1.27+ also reads\n\
             SSL_CERT_FILE); import the CA:\n  certutil -addstore -f ROOT {p}\n"
        )
    } else {
        format!(
            "Linux: for one shell, SSL_CERT_FILE replaces Go's bundle, so use the bundle of system\n\
             roots + gomitm CA (written by `gomitm proxy` and `gomitm env`):\n  \
             export SSL_CERT_FILE={bundle}\n\
             or system-wide (Debian/Ubuntu):\n  \
             sudo cp {p} /usr/local/share/ca-certificates/gomitm.crt && sudo update-ca-certificates\n",
            bundle = ca.dir().join(ca::BUNDLE_FILE).display()
        )
    };
    format!(
        "certificate: {p}\nSHA-256 fingerprint: {}\nexpires: {expiry}\n\n{how}git: GIT_SSL_CAINFO={bundle} (git does not read SSL_CERT_FILE)\n",
        ca.fingerprint_sha256(),
        bundle = ca.dir().join(ca::BUNDLE_FILE).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_script_quotes_for_each_shell() {
        let b = Path::new("/tmp/it's/bundle.pem");
        let bash = env_script(Shell::Bash, "http://127.0.0.1:8080", b);
        assert!(bash.contains("export HTTPS_PROXY='http://127.0.0.1:8080'\n"));
        assert!(bash.contains("export SSL_CERT_FILE='/tmp/it'\\''s/bundle.pem'\n"));
        assert!(bash.contains("export GIT_SSL_CAINFO="));
        let fish = env_script(Shell::Fish, "http://p", b);
        assert!(fish.contains("set -gx HTTP_PROXY 'http://p'\n"));
        let ps = env_script(Shell::Powershell, "http://p", b);
        assert!(ps.contains("$env:SSL_CERT_FILE = '/tmp/it''s/bundle.pem'\n"));
    }

    fn proxy_args(args: &[&str]) -> ProxyArgs {
        let mut argv = vec!["gomitm"];
        argv.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(argv).unwrap().proxy
    }

    #[test]
    fn non_loopback_listen_needs_credentials_or_an_explicit_opt_in() {
        let err = check_exposure(&proxy_args(&["--listen", "0.0.0.0:8080"])).unwrap_err();
        let text = format!("{err:#}");
        for words in [
            "0.0.0.0:8080",
            "open proxy",
            "decrypted",
            "--proxy-auth",
            "--allow",
        ] {
            assert!(text.contains(words), "{words}: {text}");
        }
        for ok in [
            &["--listen", "127.0.0.1:0"][..],
            &["--listen", "[::1]:0"],
            &["--listen", "0.0.0.0:0", "--proxy-auth", "u:p"],
            &["--listen", "192.0.2.1:0", "--allow-unauthenticated-remote"],
        ] {
            assert!(check_exposure(&proxy_args(ok)).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn an_upstream_proxy_that_is_gomitm_itself_is_refused() {
        let addr: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for looped in [
            &["--upstream-proxy", "http://127.0.0.1:8080"][..],
            &["--upstream-proxy", "http://localhost:8080"],
            &[
                "--upstream-proxy",
                "http://corp:3128",
                "--resolve",
                "corp=127.0.0.1:8080",
            ],
        ] {
            let args = proxy_args(looped);
            let route = upstream_route(&args).0;
            let err = check_upstream_is_not_self(&args, &route, addr).unwrap_err();
            assert!(format!("{err:#}").contains("loop"), "{looped:?}");
        }
        for fine in [
            &["--upstream-proxy", "http://127.0.0.1:3128"][..],
            &["--upstream-proxy", "http://corp:8080"],
            &[],
        ] {
            let args = proxy_args(fine);
            let route = upstream_route(&args).0;
            assert!(check_upstream_is_not_self(&args, &route, addr).is_ok());
        }
    }

    #[test]
    fn ca_dir_prefers_the_flag() {
        let arg = CaDirArg {
            ca_dir: Some(PathBuf::from("/x/y")),
        };
        assert_eq!(ca_dir(&arg).unwrap(), PathBuf::from("/x/y"));
    }

    #[test]
    fn describe_ca_names_fingerprint_expiry_and_git() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertAuthority::load_or_create(dir.path()).unwrap();
        let text = describe_ca(&ca);
        assert!(text.contains(&ca.fingerprint_sha256()));
        assert!(text.contains("expires: 20"));
        assert!(text.contains("GIT_SSL_CAINFO"));
    }
}
