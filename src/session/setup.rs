//! Turning the command line into the parts of a session: the CA, the proxy's context (dialer,
//! upstream route, limits), the rules and their watcher, the log observer, and the checks
//! that refuse a dangerous or circular set-up before a port is announced.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::ca::{self, CertAuthority};
use crate::cli::{CaDirArg, ProxyArgs, UpstreamChoice};
use crate::filter::Filter;
use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::log::{Log, LogOutputs};
use crate::proxy::dial::{DialConfig, Dialer};
use crate::proxy::live_rules::LiveRules;
use crate::proxy::route::{self, EnvProxies, ProxyRoute};
use crate::proxy::upstream::Upstream;
use crate::proxy::{self, Ctx, HostGlob, ProxyOptions};
use crate::rules::{QuickForms, RuleSet};
use crate::store::{Observer, Store};

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

pub(super) fn build_ctx(
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
pub(super) fn load_rules(args: &ProxyArgs) -> anyhow::Result<LiveRules> {
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
pub(super) async fn watch_rules(rules: Arc<LiveRules>) {
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

pub(super) fn parse_filter(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Filter>> {
    text.map(|t| Filter::parse(t).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
        .transpose()
}

/// The log observer for `--jsonl` and the stderr lines.
pub(super) fn log_observer(
    args: &ProxyArgs,
    lines: bool,
    filter: Option<Filter>,
) -> anyhow::Result<Box<dyn Observer>> {
    let jsonl: Option<Box<dyn Write + Send>> = match &args.jsonl {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("cannot create --jsonl file {}", p.display()))?;
            Some(Box::new(std::io::BufWriter::new(file)))
        }
    };
    Ok(Box::new(Log::new(LogOutputs {
        lines,
        jsonl,
        filter,
        redact: (!args.no_redact).then(|| args.redact_header.clone()),
    })))
}

/// A proxy reachable from other machines must ask for credentials, unless the user said
/// explicitly that it need not.
pub(super) fn check_exposure(args: &ProxyArgs) -> anyhow::Result<()> {
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
pub(super) fn upstream_route(args: &ProxyArgs) -> (ProxyRoute, Vec<String>) {
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
pub(super) fn check_upstream_is_not_self(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

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
}
