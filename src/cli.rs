//! Command-line types and value parsers. Parses and validates; opens no files or sockets.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::filter::Filter;
use crate::go::private::PrivatePatterns;
use crate::proxy::auth::ProxyAuth;
use crate::proxy::dial::{ResolveRule, UpstreamProxy};

#[derive(Debug, Parser)]
#[command(
    name = "gomitm",
    version,
    about = "A debugging MITM proxy that shows what the go command and git do on the network",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, gomitm runs the proxy.
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the intercepting proxy (the default).
    Proxy(Box<ProxyArgs>),
    /// Print the environment that points go and git at gomitm: eval "$(gomitm env)".
    Env(EnvArgs),
    /// Where the CA is, what it is, and a trust bundle for SSL_CERT_FILE.
    Ca(CaArgs),
    /// Run a command (go, git…) through gomitm; print a Go-aware summary when it exits.
    Run(Box<RunArgs>),
    /// Summarise a HAR file: modules and their sources, failures with fixes, private-path leaks.
    Report(ReportArgs),
    /// Browse a HAR file (gomitm's or another tool's) in the terminal UI, read-only.
    Open(OpenArgs),
    /// Rules files: `gomitm rules check FILE` validates one.
    Rules(RulesArgs),
    /// Print the filter expression reference.
    Filters,
}

#[derive(Debug, Clone, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: RulesAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum RulesAction {
    /// Load and validate a rules file; errors name the line and column.
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "Example: gomitm run -- go mod download\n\
    The proxy listens on a free loopback port of its own; the command gets \
    HTTPS_PROXY, HTTP_PROXY, SSL_CERT_FILE and GIT_SSL_CAINFO; gomitm exits with its exit code.")]
pub struct RunArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Also print a line per finished flow while the command runs.
    #[arg(long, conflicts_with = "tui")]
    pub log_flows: bool,
    /// Show the command's traffic live in the terminal UI (its output goes to a pane); the
    /// summary is shown there when it exits.
    #[arg(long, conflicts_with = "no_tui")]
    pub tui: bool,
    /// The command to run, after `--`.
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A HAR file from gomitm or another tool (Chrome DevTools, mitmproxy, Charles…).
    #[arg(value_name = "FILE.har")]
    pub har: PathBuf,
    /// Module path patterns that are private, like GOPRIVATE (comma-separated globs).
    #[arg(long, value_name = "GLOBS", value_parser = parse_private)]
    pub private: Option<PrivatePatterns>,
    /// Only summarise flows matching this filter expression (see docs/FILTERS.md).
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// Exit 3 when the capture has one of these (comma-separated or repeated), for CI: a
    /// private-path leak, a failure listed in the report, or either.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "leak,failure,any"
    )]
    pub fail_on: Vec<FailOn>,
    /// Print the report as one JSON document for scripts (same numbers as the text, redacted
    /// the same way; see docs/HAR.md#report-json).
    #[arg(long)]
    pub json: bool,
}

/// What `gomitm report --fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A private module path sent to a module proxy or checksum database.
    Leak,
    /// A failed request the report lists (under "Failures").
    Failure,
    /// A leak or a failure.
    Any,
}

#[derive(Debug, Clone, Args)]
pub struct OpenArgs {
    /// A HAR file from gomitm or another tool (Chrome DevTools, mitmproxy, Charles…).
    #[arg(value_name = "FILE.har")]
    pub har: PathBuf,
    /// Module path patterns that are private, like GOPRIVATE (for the diagnosis).
    #[arg(long, value_name = "GLOBS", value_parser = parse_private)]
    pub private: Option<PrivatePatterns>,
}

#[derive(Debug, Clone, Args)]
pub struct CaDirArg {
    /// Directory of the gomitm CA, created on first run
    /// [default: $XDG_CONFIG_HOME/gomitm, else ~/.config/gomitm].
    #[arg(long, env = "GOMITM_CA_DIR", value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
}

/// Where `gomitm proxy` listens unless `--listen` says otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    8080,
));

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free port. A
    /// non-loopback address needs --proxy-auth or --allow-unauthenticated-remote. Not with
    /// `gomitm run`, which picks a free loopback port itself.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Require these credentials (Proxy-Authorization: Basic) on every proxy request and
    /// CONNECT; clients put them in the proxy URL: http://USER:PASS@host:port.
    #[arg(
        long,
        env = "GOMITM_PROXY_AUTH",
        hide_env_values = true,
        value_name = "USER:PASS",
        value_parser = parse_proxy_auth
    )]
    pub proxy_auth: Option<ProxyAuth>,
    /// Listen on a non-loopback --listen address without --proxy-auth: anyone who can reach
    /// the port can then use gomitm and read the decrypted traffic of whoever uses it.
    #[arg(long)]
    pub allow_unauthenticated_remote: bool,
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Connect to IP:PORT instead of resolving HOST (like curl's --connect-to); repeatable.
    #[arg(long = "resolve", value_name = "HOST[:PORT]=IP:PORT", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveRule>,
    /// Extra PEM trust roots for upstream TLS, on top of the system roots; repeatable.
    #[arg(long = "extra-root", value_name = "FILE.pem")]
    pub extra_roots: Vec<PathBuf>,
    /// Do not verify upstream certificates (every flow that used this is marked).
    #[arg(long)]
    pub insecure_upstream: bool,
    /// Chain through an HTTP proxy: http://[user:pass@]host:port; `env` for the proxy of
    /// the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY; the default of
    /// `gomitm run`); `none` to connect directly.
    #[arg(long, value_name = "URL|env|none", value_parser = parse_upstream_choice)]
    pub upstream_proxy: Option<UpstreamChoice>,
    /// Tunnel these hosts without decrypting (glob, e.g. '*.corp.example'); repeatable. The
    /// quick form of a rule with `no_intercept = true` and `match = "host:GLOB"`.
    #[arg(long = "no-intercept", value_name = "HOSTGLOB")]
    pub no_intercept: Vec<String>,
    /// Write a HAR file of all recorded flows on exit (Ctrl-C or SIGTERM).
    #[arg(long, value_name = "FILE")]
    pub har_out: Option<PathBuf>,
    /// Keep secrets (credential headers, cookies, URL credentials, secret query values) in the
    /// HAR file and the --jsonl output (see docs/HAR.md#redaction).
    #[arg(long, alias = "har-no-redact")]
    pub no_redact: bool,
    /// Also redact this header in the HAR file and the --jsonl output; repeatable.
    #[arg(long = "redact-header", value_name = "NAME")]
    pub redact_header: Vec<String>,
    /// Write one JSON object per finished flow to FILE ('-' for stdout).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Bytes of each request and response body kept in memory (the rest streams through).
    #[arg(long, default_value = "1MiB", value_name = "BYTES", value_parser = parse_size)]
    pub max_body_capture: u64,
    /// Flows kept in memory; the oldest are evicted first.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub max_flows: usize,
    /// Budget for captured body bytes across all flows; the oldest are evicted first.
    #[arg(long, default_value = "256MiB", value_name = "BYTES", value_parser = parse_size)]
    pub max_capture_total: u64,
    /// Seconds to wait for an upstream response head, or for the next body bytes (0 = forever).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub upstream_timeout: u64,
    /// Seconds allowed for each of dns, connect and TLS to an upstream.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Seconds a client may take to send a request head (in a tunnel: its TLS handshake);
    /// also how long an idle client connection is kept (0 = forever).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub header_read_timeout: u64,
    /// Connections one client address may hold open, tunnels included; past it, requests
    /// are answered 503 (0 = no limit).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_conns_per_client: usize,
    /// No log line per flow on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// The headless log even when stdout is a terminal (no terminal UI).
    #[arg(long)]
    pub no_tui: bool,
    /// Module path patterns that are private, like GOPRIVATE (comma-separated globs): a request
    /// for one of them to a module proxy or checksum database is reported as a leak.
    #[arg(long, value_name = "GLOBS", value_parser = parse_private)]
    pub private: Option<PrivatePatterns>,
    /// Append gomitm's diagnosis to upstream 4xx text/plain answers, so the go command prints
    /// it under `server response:` (changes the bytes the client receives).
    #[arg(long)]
    pub annotate: bool,
    /// Rules file (TOML, see docs/RULES.md); watched and reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Set a request header on every request: 'Name: value'; repeatable.
    #[arg(long = "set-header", value_name = "NAME: VALUE")]
    pub set_header: Vec<String>,
    /// Remove a request header from every request; repeatable.
    #[arg(long = "remove-header", value_name = "NAME")]
    pub remove_header: Vec<String>,
    /// Answer matching requests 403 with a reason naming the rule; repeatable.
    #[arg(long = "block", value_name = "FILTER")]
    pub block: Vec<String>,
    /// Send requests under one URL prefix to another: FROM=TO; repeatable.
    #[arg(long = "map-remote", value_name = "FROM=TO")]
    pub map_remote: Vec<String>,
    /// Hold matching requests before sending them: FILTER=MS (or MS for all); repeatable.
    #[arg(long = "delay", value_name = "FILTER=MS")]
    pub delay: Vec<String>,
    /// Only log (and write to --jsonl) flows matching this filter (see docs/FILTERS.md); the
    /// terminal UI starts with it as its view filter.
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// Only write flows matching this filter to the HAR file.
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    pub har_filter: Option<Filter>,
}

#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// The proxy URL to export.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub proxy: String,
    /// Put these credentials in the exported proxy URL (for a gomitm run with --proxy-auth).
    #[arg(
        long,
        env = "GOMITM_PROXY_AUTH",
        hide_env_values = true,
        value_name = "USER:PASS",
        value_parser = parse_proxy_auth
    )]
    pub proxy_auth: Option<ProxyAuth>,
    /// The shell to print the lines for.
    #[arg(long, value_enum, default_value_t = Shell::Bash)]
    pub shell: Shell,
    /// Print the lines that undo it instead (unset, set -e, Remove-Item Env:): eval "$(gomitm env --unset)".
    #[arg(long)]
    pub unset: bool,
    #[command(flatten)]
    pub ca: CaDirArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Also sh, dash and ksh: the lines are POSIX.
    #[value(alias = "sh")]
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    #[command(subcommand)]
    pub action: CaAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CaAction {
    /// Print the path of the CA certificate.
    Path(CaDirArg),
    /// Fingerprint, expiry, and how to trust the CA on this OS.
    Show(CaDirArg),
    /// Write the system roots plus the gomitm CA to FILE (for SSL_CERT_FILE).
    Bundle {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        ca: CaDirArg,
    },
}

/// `HOST[:PORT]=IP:PORT`.
pub fn parse_resolve(s: &str) -> Result<ResolveRule, String> {
    let (left, right) = s
        .split_once('=')
        .ok_or_else(|| format!("expected HOST[:PORT]=IP:PORT, got {s:?}"))?;
    let addr: SocketAddr = right
        .parse()
        .map_err(|_| format!("{right:?} is not IP:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)"))?;
    let (host, port) = split_host_port(left)?;
    if host.is_empty() {
        return Err(format!("missing host before '=' in {s:?}"));
    }
    Ok(ResolveRule {
        host: host.to_ascii_lowercase(),
        port,
        addr,
    })
}

fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed '[' in {s:?}"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after ']' in {s:?}")),
        };
        return Ok((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_string(), Some(parse_port(port)?))),
        None => Ok((s.to_string(), None)),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .map_err(|_| format!("{p:?} is not a port number"))
}

/// What `--upstream-proxy` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamChoice {
    Url(UpstreamProxy),
    /// The inherited HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY.
    Env,
    /// Straight to the servers.
    Direct,
}

/// `env`, `none` (or `direct`), or a proxy URL.
pub fn parse_upstream_choice(s: &str) -> Result<UpstreamChoice, String> {
    match s.trim() {
        "env" => Ok(UpstreamChoice::Env),
        "none" | "direct" => Ok(UpstreamChoice::Direct),
        url => parse_upstream_proxy(url).map(UpstreamChoice::Url),
    }
}

/// `http://[user:pass@]host:port` → the proxy and a ready Proxy-Authorization value.
pub fn parse_upstream_proxy(s: &str) -> Result<UpstreamProxy, String> {
    let rest = match s.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "only http:// upstream proxies are supported, got {scheme}://"
            ))
        }
        None => s,
    };
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = split_host_port(hostport)?;
    if host.is_empty() {
        return Err(format!("missing host in {s:?}"));
    }
    let user = userinfo.map(|u| {
        let name = u.split_once(':').map_or(u, |(name, _)| name);
        crate::go::percent_decode(name)
    });
    let authorization = userinfo.map(|u| {
        let decoded = crate::go::percent_decode_bytes(u);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(decoded)
        )
    });
    Ok(UpstreamProxy {
        host,
        port: port.unwrap_or(8080),
        authorization,
        user,
    })
}

/// `USER:PASS` for `--proxy-auth` (the password may contain colons).
pub fn parse_proxy_auth(s: &str) -> Result<ProxyAuth, String> {
    ProxyAuth::parse(s)
}

/// `1048576`, `512KiB`, `1MiB`, `2GB`, `10k`… → bytes (the same units as rules files).
/// A filter expression, parsed when the command line is. The expression starts its own line
/// so that the caret lines up under the problem.
pub fn parse_filter(s: &str) -> Result<Filter, String> {
    Filter::parse(s).map_err(|e| format!("\n{e}"))
}

/// Comma-separated module path globs, as GOPRIVATE spells them.
pub fn parse_private(s: &str) -> Result<PrivatePatterns, String> {
    Ok(PrivatePatterns::from_globs(s))
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::rules::parse_size(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_proxy_with_secure_defaults() {
        let cli = Cli::try_parse_from(["gomitm"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.proxy.listen, None, "the default is applied by the mode");
        assert_eq!(DEFAULT_LISTEN.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.proxy.max_body_capture, 1 << 20);
        assert!(!cli.proxy.no_redact && !cli.proxy.insecure_upstream);
    }

    #[test]
    fn proxy_flags_parse() {
        let cli = Cli::try_parse_from([
            "gomitm",
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--resolve",
            "goproxy.test:443=127.0.0.1:9443",
            "--resolve",
            "git.test=127.0.0.1:9444",
            "--no-intercept",
            "*.corp",
            "--max-body-capture",
            "64KiB",
            "--upstream-proxy",
            "http://u:p%40ss@corp:3128",
        ])
        .unwrap();
        let Some(Command::Proxy(p)) = cli.command else {
            panic!("expected proxy")
        };
        assert_eq!(p.resolve.len(), 2);
        assert_eq!(p.resolve[0].port, Some(443));
        assert_eq!(p.resolve[1].port, None);
        assert_eq!(p.max_body_capture, 65536);
        let Some(UpstreamChoice::Url(up)) = p.upstream_proxy else {
            panic!("expected a proxy URL")
        };
        assert_eq!(up.display_masked(), "http://REDACTED@corp:3128");
        assert_eq!((up.host.as_str(), up.port), ("corp", 3128));
        // "u:p@ss" in base64
        assert_eq!(up.authorization.as_deref(), Some("Basic dTpwQHNz"));
        assert_eq!(up.display(), "http://corp:3128");
    }

    #[test]
    fn bad_values_are_rejected_with_a_reason() {
        for bad in ["nohost", "h=1.2.3.4", "h:x=127.0.0.1:1", "=127.0.0.1:1"] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_upstream_choice("env"), Ok(UpstreamChoice::Env));
        assert_eq!(parse_upstream_choice("none"), Ok(UpstreamChoice::Direct));
        assert!(parse_upstream_proxy("socks5://h:1")
            .unwrap_err()
            .contains("http://"));
        assert!(parse_size("12 parsecs").is_err());
        let err = Cli::try_parse_from(["gomitm", "--listen", "nope"]).unwrap_err();
        assert!(err.to_string().contains("--listen"));
    }

    #[test]
    fn resolve_accepts_ipv6_both_sides() {
        let r = parse_resolve("[::1]:443=[::1]:8443").unwrap();
        assert_eq!(r.host, "::1");
        assert_eq!(r.port, Some(443));
        assert_eq!(r.addr.port(), 8443);
    }

    #[test]
    fn env_and_ca_subcommands_parse() {
        let cli = Cli::try_parse_from([
            "gomitm",
            "env",
            "--shell",
            "fish",
            "--proxy",
            "http://127.0.0.1:9",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Env(EnvArgs {
                shell: Shell::Fish,
                ..
            }))
        ));
        let cli = Cli::try_parse_from(["gomitm", "ca", "bundle", "--out", "/tmp/b.pem"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Ca(CaArgs {
                action: CaAction::Bundle { .. }
            }))
        ));
    }

    #[test]
    fn run_takes_proxy_flags_then_the_command_after_dashes() {
        let cli = Cli::try_parse_from([
            "gomitm",
            "run",
            "--private",
            "corp.example/*",
            "--har-out",
            "x.har",
            "--",
            "go",
            "mod",
            "download",
            "-x",
        ])
        .unwrap();
        let Some(Command::Run(r)) = cli.command else {
            panic!("expected run")
        };
        assert_eq!(r.command, vec!["go", "mod", "download", "-x"]);
        assert_eq!(
            r.proxy.private,
            Some(PrivatePatterns::from_globs("corp.example/*"))
        );
        assert!(
            Cli::try_parse_from(["gomitm", "run"]).is_err(),
            "a command is required"
        );
        let cli =
            Cli::try_parse_from(["gomitm", "report", "f.har", "--private", "x.test"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Report(_))));
    }

    #[test]
    fn tui_flags_and_open_parse() {
        let cli = Cli::try_parse_from(["gomitm", "--no-tui"]).unwrap();
        assert!(cli.command.is_none() && cli.proxy.no_tui);
        let cli = Cli::try_parse_from(["gomitm", "proxy", "--no-tui"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Proxy(p)) if p.no_tui));
        let cli = Cli::try_parse_from(["gomitm", "run", "--tui", "--", "go", "version"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Run(r)) if r.tui && !r.proxy.no_tui));
        assert!(Cli::try_parse_from(["gomitm", "run", "--tui", "--no-tui", "--", "go"]).is_err());
        assert!(
            Cli::try_parse_from(["gomitm", "run", "--tui", "--log-flows", "--", "go"]).is_err()
        );
        let cli = Cli::try_parse_from(["gomitm", "open", "x.har"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Open(o)) if o.har == std::path::Path::new("x.har"))
        );
        assert!(
            Cli::try_parse_from(["gomitm", "open"]).is_err(),
            "a file is required"
        );
    }

    #[test]
    fn proxy_auth_parses_and_never_shows_the_password() {
        let cli = Cli::try_parse_from(["gomitm", "--proxy-auth", "u:p:w"]).unwrap();
        let auth = cli.proxy.proxy_auth.clone().unwrap();
        assert_eq!(auth.user(), "u");
        assert!(!format!("{:?}", cli.proxy).contains("p:w"));
        assert!(!cli.proxy.allow_unauthenticated_remote);
        let err = Cli::try_parse_from(["gomitm", "--proxy-auth", "nocolon"]).unwrap_err();
        assert!(err.to_string().contains("USER:PASS"), "{err}");
        let cli = Cli::try_parse_from(["gomitm", "env", "--proxy-auth", "a:b"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Env(EnvArgs {
                proxy_auth: Some(_),
                ..
            }))
        ));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("1.5KiB").unwrap(), 1536);
        assert_eq!(parse_size("2mb").unwrap(), 2_000_000);
    }
}
