//! The command line, validated once into a [`Config`]: every file read (CA, rules, extra
//! roots, the `--jsonl` sink), every expression already parsed by `cli`, every dangerous or
//! circular set-up refused, before a port is bound. What travels into the session is this,
//! never the raw clap struct. Also: the rules watcher and the proxy's context built from it.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::ca::{self, CertAuthority};
use crate::cli::{CaDirArg, ProxyArgs, UpstreamChoice, DEFAULT_LISTEN};
use crate::filter::Filter;
use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::har::HarOptions;
use crate::log::{Log, LogOutputs};
use crate::proxy::auth::ProxyAuth;
use crate::proxy::dial::{DialConfig, Dialer};
use crate::proxy::limits::ClientLimits;
use crate::proxy::live_rules::LiveRules;
use crate::proxy::recording::Recording;
use crate::proxy::route::{self, EnvProxies, ProxyRoute};
use crate::proxy::upstream::Upstream;
use crate::proxy::{self, Ctx, ProxyOptions};
use crate::rules::{QuickForms, RuleSet};
use crate::store::{Observer, Store, StoreLimits};

/// What the session knows of the Go world it serves: the private paths, and the go release
/// of `gomitm run`'s command (for fixes that depend on it).
#[derive(Debug, Clone, Default)]
pub(crate) struct GoFacts {
    pub private: PrivatePatterns,
    pub version: Option<GoVersion>,
}

/// `--ca-dir`, else `$GOMITM_CA_DIR` (via clap), else the user's config directory.
pub(crate) fn ca_dir(arg: &CaDirArg) -> anyhow::Result<PathBuf> {
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

pub(crate) fn load_ca(arg: &CaDirArg) -> anyhow::Result<CertAuthority> {
    let dir = ca_dir(arg)?;
    CertAuthority::load_or_create(&dir)
        .with_context(|| format!("cannot load the gomitm CA from {}", dir.display()))
}

/// Poll the rules file; a valid edit is swapped in whole, an invalid one keeps the old rules.
pub(super) async fn watch_rules(rules: Arc<LiveRules>) {
    // The rules error makes what it quotes safe itself; the path is made safe here.
    let Some(file) = rules
        .file()
        .map(|f| crate::terminal_text::terminal_safe(&f.display().to_string()).into_owned())
    else {
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

/// How much gomitm says on start: the first line always (scripts read the port from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Banner {
    Full,
    FirstLineOnly,
}

/// Which command the session serves: `gomitm proxy`, or `gomitm run`, whose proxy listens on
/// a free loopback port and is quiet unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Proxy,
    Run,
}

/// A session's configuration, validated.
pub(crate) struct Config {
    pub listen: SocketAddr,
    pub banner: Banner,
    /// A line per finished flow on stderr.
    pub log_lines: bool,
    pub go: GoFacts,
    pub ca: Arc<CertAuthority>,
    pub rules: Arc<LiveRules>,
    /// Made into a `Dialer` once the port is announced (rustls logs while it loads roots,
    /// and the listening line must come first).
    pub dial: DialConfig,
    /// Start-up lines that say where upstream connections go.
    pub route_lines: Vec<String>,
    pub auth: Option<ProxyAuth>,
    pub store: StoreLimits,
    pub max_body_capture: usize,
    pub upstream_timeout: Option<Duration>,
    pub annotate: bool,
    pub limits: ClientLimits,
    /// `--filter`: the log, the JSON lines and the TUI's view at start.
    pub filter: Option<Filter>,
    pub jsonl: Option<Box<dyn Write + Send>>,
    pub har_out: Option<PathBuf>,
    pub har_filter: Option<Filter>,
    pub har: HarOptions,
    /// The terminal UI in front of the session (asked for, and stdout is a terminal).
    pub tui: bool,
    /// `--serve FILE.har`: the recording that answers instead of the network.
    pub serve: Option<Arc<Recording>>,
    /// `--har-autosave`: how often `--har-out` is rewritten while running (`None`: on exit only).
    pub har_autosave: Option<Duration>,
    /// `--otlp`: where spans go.
    pub otlp: Option<crate::otel::OtlpSettings>,
}

impl Config {
    /// Validate `args` for `mode`. `go` is what the session knows of the Go world (under
    /// `gomitm run`, from the command's `go env`); `tui` whether the TUI was asked for
    /// (`gomitm run --tui`; `gomitm proxy` unless `--no-tui`).
    pub(crate) fn new(
        args: &ProxyArgs,
        mode: Mode,
        go: GoFacts,
        tui: bool,
    ) -> anyhow::Result<Config> {
        refuse_options_that_do_nothing(args, mode)?;
        let listen = match mode {
            Mode::Proxy => args.listen.unwrap_or(DEFAULT_LISTEN),
            Mode::Run => SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        check_exposure(listen, args)?;
        let ca = Arc::new(load_ca(&args.ca)?);
        let rules = Arc::new(load_rules(args)?);
        // The child's proxy variables are replaced by gomitm's: under `run` gomitm goes
        // where the command would have gone.
        let choice = match (&args.upstream_proxy, mode) {
            (None, Mode::Run) => Some(UpstreamChoice::Env),
            (choice, _) => choice.clone(),
        };
        let (route, mut route_lines) = upstream_route(choice.as_ref());
        let serve = match &args.serve {
            Some(path) => {
                let recording = load_recording(path)?;
                let (n, skipped) = recording.counts();
                route_lines = vec![format!(
                    "gomitm: serving {n} recorded requests from {} instead of the network{}",
                    path.display(),
                    if skipped > 0 {
                        format!(" ({skipped} flows without an answer to give left out)")
                    } else {
                        String::new()
                    }
                )];
                Some(Arc::new(recording))
            }
            None => None,
        };
        let mut extra_roots = Vec::new();
        for path in &args.extra_roots {
            extra_roots.extend(
                ca::read_pem_certs(path)
                    .with_context(|| format!("--extra-root {}", path.display()))?,
            );
        }
        let var = |name: &str| std::env::var(name).ok();
        let endpoint = crate::otel::resolve_endpoint(
            args.otlp.as_deref(),
            var("OTEL_EXPORTER_OTLP_ENDPOINT").as_deref(),
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").as_deref(),
        )?;
        let otlp = match endpoint {
            Some(url) => {
                let settings = crate::otel::OtlpSettings::for_traces_url(
                    url,
                    args.otlp_no_redact,
                    mode == Mode::Run,
                );
                if settings.is_https() {
                    // `--extra-root` is trusted for an https:// collector too: a private CA
                    // that signs the module servers usually signs the collector. The TLS
                    // variables mean nothing to an http:// one and are not read for it.
                    let tls = crate::otel::CollectorTls::from_vars(extra_roots.clone(), |name| {
                        std::env::var_os(name)
                    })?;
                    Some(settings.with_tls(tls))
                } else {
                    Some(settings)
                }
            }
            None if args.otlp_no_redact => anyhow::bail!(
                "--otlp-no-redact does nothing without a collector: give --otlp URL (or \
                 OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"
            ),
            None => None,
        };
        let dial = DialConfig {
            resolve: args.resolve.clone(),
            connect_to: args.connect_to.clone(),
            extra_roots,
            insecure: args.insecure_upstream,
            proxy: route,
            connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        };
        let jsonl_on_stdout = args.jsonl.as_deref().is_some_and(|p| p.as_os_str() == "-");
        let jsonl: Option<Box<dyn Write + Send>> = match &args.jsonl {
            None => None,
            Some(_) if jsonl_on_stdout => Some(Box::new(std::io::stdout())),
            Some(p) => {
                // Appended to, never truncated: a second run must not wipe the first one's lines.
                let file = crate::output_file::open_append_private(p)
                    .with_context(|| format!("cannot open --jsonl file {}", p.display()))?;
                Some(Box::new(std::io::BufWriter::new(file)))
            }
        };
        if let Some(p) = &args.har_out {
            // Found out now, not after an hour of capture.
            crate::output_file::check_writable(p)
                .with_context(|| format!("cannot write --har-out file {}", p.display()))?;
        }
        let tui = tui && !jsonl_on_stdout && std::io::stdout().is_terminal();
        Ok(Config {
            listen,
            banner: match mode {
                Mode::Proxy => Banner::Full,
                Mode::Run => Banner::FirstLineOnly,
            },
            log_lines: mode == Mode::Proxy && !args.quiet && !tui,
            go,
            ca,
            rules,
            dial,
            route_lines,
            auth: args.proxy_auth.clone(),
            store: StoreLimits {
                max_flows: args.max_flows.max(1),
                max_held_bytes: usize::try_from(args.max_capture_total).unwrap_or(usize::MAX),
            },
            max_body_capture: usize::try_from(args.max_body_capture).unwrap_or(usize::MAX),
            upstream_timeout: (args.upstream_timeout > 0)
                .then(|| Duration::from_secs(args.upstream_timeout)),
            annotate: args.annotate,
            limits: ClientLimits {
                header_read_timeout: (args.header_read_timeout > 0)
                    .then(|| Duration::from_secs(args.header_read_timeout)),
                max_conns_per_client: args.max_conns_per_client,
            },
            filter: args.filter.clone(),
            jsonl,
            har_out: args.har_out.clone(),
            har_filter: args.har_filter.clone(),
            har: HarOptions {
                redact: !args.no_redact,
                extra_redact_headers: args.redact_header.clone(),
                ..HarOptions::default()
            },
            tui,
            serve,
            har_autosave: (args.har_autosave > 0).then(|| Duration::from_secs(args.har_autosave)),
            otlp,
        })
    }

    /// The TUI's configuration for this session.
    pub(crate) fn tui_config(
        &self,
        source: crate::tui::Source,
        bundle: Option<PathBuf>,
    ) -> crate::tui::Config {
        crate::tui::Config {
            go_version: self.go.version,
            source,
            har_out: self.har_out.clone(),
            redact: self.har.redact,
            redact_headers: self.har.extra_redact_headers.clone(),
            private: self.go.private.clone(),
            bundle,
            utc_offset_s: crate::tui::local_utc_offset(),
            filter: self.filter.clone(),
        }
    }

    /// The log observer for `--jsonl` and the stderr lines (it takes the sink).
    pub(super) fn log_observer(&mut self) -> Box<dyn Observer> {
        Box::new(Log::new(LogOutputs {
            lines: self.log_lines,
            jsonl: self.jsonl.take(),
            filter: self.filter.clone(),
            redact: self
                .har
                .redact
                .then(|| self.har.extra_redact_headers.clone()),
            extra_secret_headers: self.har.extra_redact_headers.clone(),
        }))
    }

    /// The context every connection task shares.
    pub(super) fn proxy_ctx(
        &self,
        store: Arc<Store>,
        listen_addr: SocketAddr,
    ) -> anyhow::Result<Ctx> {
        let dialer = Dialer::new(self.dial.clone())
            .context("cannot set up upstream TLS")?
            .refusing_loops_to(listen_addr);
        Ok(Ctx {
            rules: self.rules.clone(),
            store,
            upstream: Upstream::new(dialer, self.upstream_timeout),
            bundle: self.ca.dir().join(ca::BUNDLE_FILE),
            ca: self.ca.clone(),
            opts: ProxyOptions {
                max_body_capture: self.max_body_capture,
                upstream_timeout: self.upstream_timeout,
                private: self.go.private.clone(),
                annotate: self.annotate,
                limits: self.limits,
                go_version: self.go.version,
            },
            listen_addr,
            auth: self.auth.clone(),
            serve: self.serve.clone(),
        })
    }

    /// An upstream proxy naming gomitm itself would send every request round in a circle,
    /// each lap a new connection. Caught by IP literal, `localhost` or a `--resolve` rule
    /// (no DNS).
    pub(super) fn check_upstream_is_not_self(&self, addr: SocketAddr) -> anyhow::Result<()> {
        let cfg = &self.dial;
        for up in cfg.proxy.proxies() {
            let rule = cfg.resolve.iter().find(|r| {
                r.host.eq_ignore_ascii_case(&up.host) && r.port.is_none_or(|p| p == up.port)
            });
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
}

/// `gomitm run` picks its own port and prints no per-flow lines unless `--log-flows`; its TUI
/// is `--tui`. Options for those would be silently ignored: they are refused instead.
fn refuse_options_that_do_nothing(args: &ProxyArgs, mode: Mode) -> anyhow::Result<()> {
    if mode != Mode::Run {
        return Ok(());
    }
    let ignored = [
        (
            args.listen.is_some(),
            "--listen",
            "it listens on a free loopback port of its own and gives it to the command",
        ),
        (
            args.quiet,
            "--quiet",
            "it prints no line per flow unless --log-flows",
        ),
        (
            args.no_tui,
            "--no-tui",
            "it shows the terminal UI only with --tui",
        ),
    ];
    for (given, flag, why) in ignored {
        if given {
            anyhow::bail!("{flag} does nothing with gomitm run: {why}; leave it out");
        }
    }
    Ok(())
}

/// `--serve FILE.har`, read and indexed before a port is bound.
fn load_recording(path: &std::path::Path) -> anyhow::Result<Recording> {
    if path.is_dir() {
        anyhow::bail!("--serve {}: a directory, not a HAR file", path.display());
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("--serve: cannot read {}", path.display()))?;
    let flows = crate::har::from_reader(std::io::BufReader::with_capacity(1 << 16, file))
        .with_context(|| format!("--serve: {} is not a HAR file", path.display()))?;
    let name = path.display().to_string();
    Ok(Recording::new(name, flows))
}

/// The rules file and the quick forms, validated at start-up.
fn load_rules(args: &ProxyArgs) -> anyhow::Result<LiveRules> {
    let quick = QuickForms {
        set_header: args.set_header.clone(),
        remove_header: args.remove_header.clone(),
        block: args.block.clone(),
        map_remote: args.map_remote.clone(),
        delay: args.delay.clone(),
        no_intercept: args.no_intercept.clone(),
    };
    let quick = RuleSet::from_quick_forms(&quick).map_err(|e| anyhow::anyhow!("{e}"))?;
    LiveRules::load(args.rules.as_deref(), quick).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A proxy reachable from other machines must ask for credentials, unless the user said
/// explicitly that it need not.
fn check_exposure(listen: SocketAddr, args: &ProxyArgs) -> anyhow::Result<()> {
    let ip = listen.ip();
    if ip.is_loopback() || args.proxy_auth.is_some() || args.allow_unauthenticated_remote {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to listen on {listen} without credentials: it is not a loopback address, so \
         anyone who can reach the port could use gomitm as an open proxy and read the \
         decrypted traffic of whoever uses it. Require credentials with --proxy-auth USER:PASS \
         (or GOMITM_PROXY_AUTH), listen on 127.0.0.1, or accept the risk with \
         --allow-unauthenticated-remote"
    )
}

/// Where upstream connections go, from `--upstream-proxy` (`gomitm run` makes `env` the
/// default), and the start-up lines that say so.
fn upstream_route(choice: Option<&UpstreamChoice>) -> (ProxyRoute, Vec<String>) {
    let env = || EnvProxies::from_vars(|k| std::env::var(k).ok());
    match choice {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

    fn proxy_args(args: &[&str]) -> ProxyArgs {
        let mut argv = vec!["gomitm"];
        argv.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(argv).unwrap().proxy
    }

    fn config(args: &[&str]) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["--ca-dir", dir.path().to_str().unwrap()];
        argv.extend_from_slice(args);
        Config::new(&proxy_args(&argv), Mode::Proxy, GoFacts::default(), false).unwrap()
    }

    #[test]
    fn run_refuses_options_that_would_do_nothing() {
        for (flag, args) in [
            ("--listen", &["--listen", "127.0.0.1:9"][..]),
            ("--quiet", &["-q"]),
            ("--no-tui", &["--no-tui"]),
        ] {
            let err = refuse_options_that_do_nothing(&proxy_args(args), Mode::Run).unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains(flag) && text.contains("gomitm run"), "{text}");
            assert!(refuse_options_that_do_nothing(&proxy_args(args), Mode::Proxy).is_ok());
        }
        assert!(refuse_options_that_do_nothing(&proxy_args(&[]), Mode::Run).is_ok());
    }

    #[test]
    fn non_loopback_listen_needs_credentials_or_an_explicit_opt_in() {
        let exposure =
            |args: &ProxyArgs| check_exposure(args.listen.unwrap_or(DEFAULT_LISTEN), args);
        let err = exposure(&proxy_args(&["--listen", "0.0.0.0:8080"])).unwrap_err();
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
            assert!(exposure(&proxy_args(ok)).is_ok(), "{ok:?}");
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
            let cfg = config(looped);
            let err = cfg.check_upstream_is_not_self(addr).unwrap_err();
            assert!(format!("{err:#}").contains("loop"), "{looped:?}");
        }
        for fine in [
            &["--upstream-proxy", "http://127.0.0.1:3128"][..],
            &["--upstream-proxy", "http://corp:8080"],
            &[],
        ] {
            assert!(config(fine).check_upstream_is_not_self(addr).is_ok());
        }
    }

    #[test]
    fn ca_dir_prefers_the_flag() {
        let arg = CaDirArg {
            ca_dir: Some(PathBuf::from("/x/y")),
        };
        assert_eq!(ca_dir(&arg).unwrap(), PathBuf::from("/x/y"));
    }
}
