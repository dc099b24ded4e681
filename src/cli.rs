//! Command-line types and value parsers. Parses and validates; opens no files or sockets.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::filter::Filter;
use crate::go::private::PrivatePatterns;
use crate::proxy::auth::ProxyAuth;
use crate::proxy::dial::{ConnectTo, ResolveRule, UpstreamProxy};
use crate::terminal_text;

/// `0.1.0 (e55c1d9ab 2026-12-03)`: the package version and the commit it was built from
/// (`build.rs`), for `--version` and `gomitm version`.
pub const VERSION: &str = env!("GOMITM_VERSION");

#[derive(Debug, Parser)]
#[command(
    name = "gomitm",
    version = VERSION,
    propagate_version = true,
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

/// Parse the command line as `Cli::try_parse_from` does, with one mistake explained in the
/// user's terms: `gomitm run go version` (the command must come after `--`) gets the line to
/// type instead of clap's "unexpected argument".
pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    Cli::try_parse_from(&args)
        .map_err(|e| explain_run_without_dashes(e, &args))
        .map_err(|e| explain_missing_run(e, &args))
}

/// `gomitm go mod download`: a command where a subcommand belongs, and no subcommand it could
/// be a typo of (clap suggests those itself): the user most likely meant `gomitm run -- …`.
fn explain_missing_run(e: clap::Error, args: &[std::ffi::OsString]) -> clap::Error {
    use clap::error::{ContextKind, ErrorKind};
    let bad = match e.get(ContextKind::InvalidSubcommand) {
        Some(clap::error::ContextValue::String(bad))
            if e.kind() == ErrorKind::InvalidSubcommand =>
        {
            bad.clone()
        }
        _ => return e,
    };
    if e.get(ContextKind::SuggestedSubcommand).is_some() {
        return e;
    }
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| shell_word(&a.to_string_lossy()))
        .collect();
    if words.first().map(String::as_str) != Some(shell_word(&bad).as_str()) {
        return e;
    }
    let shown = terminal_text::terminal_safe(&words.join(" ")).into_owned();
    let message = if bad.to_ascii_lowercase().ends_with(".har") {
        format!(
            "unrecognized subcommand {}; to browse a HAR file, or print its summary:\n\n    \
             gomitm open {shown}\n    gomitm report {shown}",
            quoted(&bad)
        )
    } else {
        format!(
            "unrecognized subcommand {}; to run a command through gomitm, put it after \
             run --:\n\n    gomitm run -- {shown}",
            quoted(&bad)
        )
    };
    Cli::command().error(ErrorKind::InvalidSubcommand, message)
}

/// A parse error's text, made safe, when what the user typed holds a control or invisible
/// format character: clap quotes an invalid value or argument as given and, on a terminal,
/// writes it unchanged (an ESC sequence pasted with a URL could clear or recolour the screen).
/// `None` when the arguments are clean, so clap prints the error itself, with its colours.
pub fn unsafe_error_text<T: AsRef<std::ffi::OsStr>>(e: &clap::Error, args: &[T]) -> Option<String> {
    let dirty = args.iter().any(|a| {
        let a = a.as_ref().to_string_lossy();
        matches!(terminal_text::terminal_safe(&a), std::borrow::Cow::Owned(_))
    });
    if !dirty {
        return None;
    }
    // The plain rendering (clap's styles, and any ESC sequence typed, stripped), then the one
    // terminal rule for whatever control is left.
    let text = e.render().to_string();
    let safe: Vec<_> = text.split('\n').map(terminal_text::terminal_safe).collect();
    Some(safe.join("\n"))
}

fn explain_run_without_dashes(e: clap::Error, args: &[std::ffi::OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let bad = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(bad)) if e.kind() == ErrorKind::UnknownArgument => bad.clone(),
        _ => return e,
    };
    let is_run = words.get(1).is_some_and(|w| w == "run");
    if !is_run || bad.starts_with('-') || words.iter().any(|w| w == "--") {
        return e;
    }
    let Some(at) = words.iter().skip(2).position(|w| *w == bad).map(|p| p + 2) else {
        return e;
    };
    let mut fixed: Vec<&str> = vec!["gomitm"];
    fixed.extend(words[1..at].iter().map(String::as_str));
    fixed.push("--");
    fixed.extend(words[at..].iter().map(String::as_str));
    let line: Vec<String> = fixed.iter().map(|w| shell_word(w)).collect();
    let message = format!(
        "unexpected argument {}: put the command to run after --, so that its options are \
         not read as gomitm's:\n\n    {}",
        quoted(&bad),
        terminal_text::terminal_safe(&line.join(" "))
    );
    let mut cmd = Cli::command();
    cmd.build();
    match cmd.find_subcommand_mut("run") {
        Some(run) => run.error(ErrorKind::UnknownArgument, message),
        None => e,
    }
}

/// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
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
    /// Print gomitm's version and the commit it was built from (as --version does).
    Version,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    #[command(after_help = "Install one, e.g.:\n  \
        gomitm completions bash > ~/.local/share/bash-completion/completions/gomitm\n  \
        gomitm completions zsh > ~/.zfunc/_gomitm   (with fpath+=(~/.zfunc) before compinit)\n  \
        gomitm completions fish > ~/.config/fish/completions/gomitm.fish")]
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per subcommand into --dir.
    #[command(after_help = "Read it with: man <(gomitm man)\n\
        Install: gomitm man --dir ~/.local/share/man/man1, then man gomitm-run")]
    Man {
        /// Write gomitm.1, gomitm-run.1… into this directory instead of printing gomitm.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Send the requests of a HAR file again and compare the answers with the recording.
    Replay(Box<ReplayArgs>),
    /// Check every source the go command would use (GOPROXY entries, the checksum database,
    /// a VCS host), through gomitm, and the settings themselves; a table with a verdict and
    /// a fix per row; exit 3 when a check fails.
    Doctor(Box<DoctorArgs>),
    /// Answer requests from a HAR file instead of the network: a teammate's download,
    /// reproduced offline (the proxy, with every upstream replaced by the recording).
    Serve(Box<ServeArgs>),
    /// Compare two captures of the same download module by module: sources, statuses,
    /// sizes and slowest phases.
    Diff(DiffArgs),
}

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example: gomitm serve teammate.har, then eval \"$(gomitm env)\" and \
    go mod download in another shell; or in one step: gomitm run --serve teammate.har -- go mod download"
)]
#[command(mut_arg("serve", |a| a.hide(true)))]
pub struct ServeArgs {
    /// The recording to answer from (a HAR from gomitm or another tool).
    #[arg(value_name = "FILE.har")]
    pub har: PathBuf,
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The capture that works (or the first one).
    #[arg(value_name = "A.har")]
    pub a: PathBuf,
    /// The capture that fails (or the second one).
    #[arg(value_name = "B.har")]
    pub b: PathBuf,
    /// One JSON document for scripts instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Every row, also those that are the same in both captures.
    #[arg(long)]
    pub all: bool,
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
// Accepted (and refused with a reason, `session::setup`) but not offered: under `run` they
// would do nothing.
#[command(
    mut_arg("listen", |a| a.hide(true)),
    mut_arg("quiet", |a| a.hide(true)),
    mut_arg("no_tui", |a| a.hide(true))
)]
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
    /// Also write the report as one self-contained HTML file with a timeline of every flow
    /// (redacted like the HAR; see docs/REPORTS.md).
    #[arg(long, value_name = "OUT.html")]
    pub report_html: Option<PathBuf>,
    /// Also write the report as GitHub-flavoured Markdown (see docs/REPORTS.md).
    #[arg(long, value_name = "OUT.md")]
    pub report_md: Option<PathBuf>,
    /// Do not append the Markdown report to $GITHUB_STEP_SUMMARY (done by default when it is
    /// set, as in a GitHub Actions job).
    #[arg(long)]
    pub no_step_summary: bool,
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
    /// Also write the report as one self-contained HTML file with a timeline of every flow
    /// (redacted like the HAR; see docs/REPORTS.md).
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// Also write the report as GitHub-flavoured Markdown (see docs/REPORTS.md).
    #[arg(long, value_name = "OUT.md")]
    pub markdown: Option<PathBuf>,
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
    #[arg(
        long,
        env = "GOMITM_CA_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub ca_dir: Option<PathBuf>,
}

/// Where `gomitm proxy` listens unless `--listen` says otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    8080,
));

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Address to listen on [default: 127.0.0.1:8080]: PORT, :PORT, localhost:PORT (all on
    /// 127.0.0.1), IP:PORT, [IPv6]:PORT; port 0 picks a free port. A non-loopback address
    /// needs --proxy-auth or --allow-unauthenticated-remote. Not with `gomitm run`, which
    /// picks a free loopback port itself.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
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
    /// Connect to IP:PORT instead of resolving HOST; repeatable. Also curl's own form
    /// HOST:PORT:ADDR (the first address of ADDR[,ADDR…]; IPv6 with or without brackets).
    #[arg(long = "resolve", value_name = "HOST[:PORT]=IP:PORT", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveRule>,
    /// As curl: requests for HOST1:PORT1 connect to HOST2:PORT2 instead (resolved as usual);
    /// the Host header and TLS server name stay HOST1. An empty HOST1 or PORT1 matches any,
    /// an empty HOST2 or PORT2 keeps the original; the first matching rule wins; repeatable.
    #[arg(
        long = "connect-to",
        value_name = "HOST1:PORT1:HOST2:PORT2",
        value_parser = parse_connect_to
    )]
    pub connect_to: Vec<ConnectTo>,
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
    /// Answer every request from this HAR file instead of the network: same method, host,
    /// path and query; repeats in recorded order; anything else 404 (see docs/REPRODUCE.md).
    #[arg(long, value_name = "FILE.har")]
    pub serve: Option<PathBuf>,
    /// Keep --har-out current while running: rewrite it at most every SECS seconds (and
    /// sooner after 100 new flows), so a crash loses at most that; 0 writes it on exit only.
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    pub har_autosave: u64,
    /// Send every flow as an OpenTelemetry span to this OTLP/HTTP collector: its base URL,
    /// http:// or https:// (`/v1/traces` is appended unless the URL has a path), as
    /// OTEL_EXPORTER_OTLP_ENDPOINT (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as given, wins
    /// over the variable, not over this flag); OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME,
    /// OTEL_RESOURCE_ATTRIBUTES and, for TLS, OTEL_EXPORTER_OTLP_CERTIFICATE,
    /// OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY are read too
    /// (see docs/OPENTELEMETRY.md).
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub otlp: Option<String>,
    /// Keep secrets in the exported spans (they are redacted as in the HAR otherwise).
    // Checked at start rather than with clap's `requires`: the collector may be given by
    // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone.
    #[arg(long)]
    pub otlp_no_redact: bool,
}

#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// The proxy URL to export: http://HOST:PORT, or what --listen takes (8081, :8081,
    /// localhost:8081…), which means http:// on that address.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080",
        value_name = "URL",
        value_parser = parse_env_proxy
    )]
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

/// `--listen`: what a user types for a local address. `8081`, `:8081` and `localhost:8081`
/// all mean 127.0.0.1:8081: the address `gomitm env` exports, and one socket that exists on
/// every host, where `::1` may be disabled (containers) and "both" would be two sockets. Any
/// other address is an IP literal (`[::1]:8081`, `0.0.0.0:8081`); a bare IP listens on 8080.
/// Names are not resolved: the address listened on is the one the user wrote.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let loopback = |port: &str| parse_port(port).map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(t);
    }
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = t
        .strip_prefix('[')
        .and_then(|v6| v6.strip_suffix(']'))
        .unwrap_or(t);
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, DEFAULT_LISTEN.port()));
    }
    if let Some(port) = t.strip_prefix(':') {
        return loopback(port);
    }
    if let Some((host, port)) = t.rsplit_once(':') {
        if host.eq_ignore_ascii_case("localhost") {
            return loopback(port);
        }
    }
    Err(format!(
        "{} is not an address to listen on: give PORT, :PORT, localhost:PORT, IP:PORT or \
         [IPv6]:PORT (0 as the port picks a free one), e.g. 8081 or 127.0.0.1:0",
        quoted(s)
    ))
}

/// `gomitm env --proxy`: a URL as given, or the address gomitm was started with
/// (`--listen 8081` → `--proxy 8081`) made into one. gomitm's port speaks plain HTTP, so an
/// `https://` (or any other) scheme would only make go fail later with a reset: refused now.
pub fn parse_env_proxy(s: &str) -> Result<String, String> {
    match s.split_once("://") {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("http") => Ok(s.to_string()),
        Some((scheme, _)) => Err(format!(
            "{}: gomitm's port speaks plain HTTP, so the proxy URL starts with http://, not {}://",
            quoted(s),
            terminal_text::terminal_safe(scheme)
        )),
        None => Ok(match parse_listen(s) {
            Ok(addr) => format!("http://{addr}"),
            Err(_) => format!("http://{s}"),
        }),
    }
}

/// `HOST[:PORT]=IP:PORT`, or curl's `HOST:PORT:ADDR[,ADDR…]`.
pub fn parse_resolve(s: &str) -> Result<ResolveRule, String> {
    let Some((left, right)) = s.split_once('=') else {
        return parse_curl_resolve(s);
    };
    let addr: SocketAddr = right.parse().map_err(|_| {
        format!(
            "{} is not IP:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)",
            quoted(right)
        )
    })?;
    let (host, port) = split_host_port(left)?;
    if host.is_empty() {
        return Err(format!("missing host before '=' in {}", quoted(s)));
    }
    Ok(ResolveRule {
        host: host.to_ascii_lowercase(),
        port,
        addr,
    })
}

/// curl's `--resolve HOST:PORT:ADDR[,ADDR…]`: the port is required, an IPv6 address may come
/// with or without brackets, and only the first address is used (gomitm connects to one
/// address per rule). curl's `+` prefix (its cache timeout) is accepted and means nothing
/// here; its `-` (remove an entry) and `*` host are not supported and say so.
fn parse_curl_resolve(s: &str) -> Result<ResolveRule, String> {
    let usage = || {
        format!(
            "expected HOST[:PORT]=IP:PORT or curl's HOST:PORT:ADDR, got {}",
            quoted(s)
        )
    };
    let t = s.strip_prefix('+').unwrap_or(s);
    if t.starts_with('-') {
        return Err(format!(
            "{}: removing a --resolve entry (curl's -HOST:PORT) means nothing here",
            quoted(s)
        ));
    }
    let (host, rest) = split_field(t).ok_or_else(usage)?;
    let rest = rest.ok_or_else(usage)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(usage)?;
    if host.is_empty() {
        return Err(usage());
    }
    if host == "*" {
        return Err(format!(
            "{}: a wildcard host is not supported; name the host",
            quoted(s)
        ));
    }
    let port = parse_port(port)?;
    let first = addrs.split(',').next().unwrap_or_default().trim();
    let bare = first
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(first);
    let ip: std::net::IpAddr = bare.parse().map_err(|_| {
        format!(
            "{} is not an IP address (e.g. 127.0.0.1, ::1 or [::1])",
            quoted(first)
        )
    })?;
    Ok(ResolveRule {
        host: host.to_ascii_lowercase(),
        port: Some(port),
        addr: SocketAddr::new(ip, port),
    })
}

/// curl's `--connect-to HOST1:PORT1:HOST2:PORT2`; a host may be `[IPv6]`, an empty field
/// means any (HOST1, PORT1) or unchanged (HOST2, PORT2).
pub fn parse_connect_to(s: &str) -> Result<ConnectTo, String> {
    let usage = || format!("expected HOST1:PORT1:HOST2:PORT2, got {}", quoted(s));
    let (host1, rest) = split_field(s).ok_or_else(usage)?;
    let (port1, rest) = rest.ok_or_else(usage)?.split_once(':').ok_or_else(usage)?;
    let (host2, port2) = split_field(rest).ok_or_else(usage)?;
    let port2 = port2.ok_or_else(usage)?;
    let port = |p: &str| {
        if p.is_empty() {
            Ok(None)
        } else {
            parse_port(p).map(Some)
        }
    };
    let host = |h: &str| (!h.is_empty()).then(|| h.to_ascii_lowercase());
    Ok(ConnectTo {
        host: host(host1),
        port: port(port1)?,
        to_host: host(host2),
        to_port: port(port2)?,
    })
}

/// The first `:`-separated field of `s`, which may be a bracketed IPv6 address (returned
/// without its brackets), and what follows its `:` (`None` at the end of `s`).
fn split_field(s: &str) -> Option<(&str, Option<&str>)> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    Some(match s.split_once(':') {
        Some((field, rest)) => (field, Some(rest)),
        None => (s, None),
    })
}

/// User input quoted for an error message: Debug quoting shows control characters escaped,
/// so nothing the user typed (or pasted) can drive the terminal.
fn quoted(s: &str) -> String {
    format!("{s:?}")
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

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example: gomitm doctor --module golang.org/x/text --vcs git.example.com/team/repo\n\
    Settings come from `go env -json` of the go on PATH (or --go). Every probe goes through \
    gomitm's own proxy, so each is a recorded flow (--har-out keeps them). Exit 3 when a row \
    fails, 0 otherwise."
)]
// Accepted by the shared proxy flags but meaningless here: refused with a reason.
#[command(
    mut_arg("listen", |a| a.hide(true)),
    mut_arg("quiet", |a| a.hide(true)),
    mut_arg("no_tui", |a| a.hide(true))
)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// The module whose @v/list each GOPROXY entry is asked for, and that is looked up in the
    /// checksum database: PATH or PATH@VERSION [default: golang.org/x/text].
    #[arg(long, value_name = "PATH[@VERSION]")]
    pub module: Option<String>,
    /// A VCS host to probe with ?go-get=1 and git info/refs: HOST or HOST/PATH (an import
    /// path). Only the host named is contacted.
    #[arg(long, value_name = "HOST[/PATH]")]
    pub vcs: Option<String>,
    /// The go whose `go env -json` is checked [default: go on PATH].
    #[arg(long, value_name = "PATH")]
    pub go: Option<PathBuf>,
    /// Print the report as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `gomitm replay FILE.har`: which recorded requests to send again, through which gomitm, and
/// what to send instead of redacted header values.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "A header the recording redacted (value REDACTED) is not sent as \
    such: give it with --header 'Name: value', or in the environment as GOMITM_REPLAY_<NAME> \
    (upper case, '-' as '_': GOMITM_REPLAY_AUTHORIZATION). Exit status 1 when a replay got \
    another status than the recording, or none.\n\
    Example: gomitm replay capture.har --filter '~s 400-599' --header 'Authorization: Bearer t'"
)]
pub struct ReplayArgs {
    /// The recording (gomitm's HAR, or another tool's).
    #[arg(value_name = "FILE.har")]
    pub har: PathBuf,
    /// Replay only the flow with this id (#N in the TUI and the log, `_gomitm.id` in the HAR).
    #[arg(long, value_name = "N", conflicts_with = "filter")]
    pub flow: Option<u64>,
    /// Replay only the requests this filter matches (see `gomitm filters`).
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    pub filter: Option<Filter>,
    /// Send through this running gomitm (http://[USER:PASS@]HOST:PORT) instead of one
    /// started for the replay; its flows then record the replays.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// The CA certificate of the gomitm given by --proxy [default: the one in --ca-dir].
    #[arg(long, value_name = "FILE.pem", requires = "proxy")]
    pub ca_cert: Option<PathBuf>,
    /// Set this header on every replayed request (repeatable); how a redacted one is given.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header_arg)]
    pub header: Vec<(String, String)>,
    #[command(flatten)]
    pub ca: CaDirArg,
    /// Send connections for HOST[:PORT] to IP:PORT (as `gomitm proxy --resolve`).
    #[arg(long = "resolve", value_name = "HOST[:PORT]=IP:PORT", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveRule>,
    /// Also trust this CA for upstream servers (as `gomitm proxy --extra-root`).
    #[arg(long = "extra-root", value_name = "FILE.pem")]
    pub extra_roots: Vec<PathBuf>,
    /// Do not verify upstream certificates (as `gomitm proxy --insecure-upstream`).
    #[arg(long)]
    pub insecure_upstream: bool,
    /// Write the replays, as gomitm recorded them, to this HAR file (entries carry _replayOf).
    #[arg(long, value_name = "FILE", conflicts_with = "proxy")]
    pub har_out: Option<PathBuf>,
    /// Give up on one request after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
}

/// `Name: value` for `gomitm replay --header`.
pub fn parse_header_arg(s: &str) -> Result<(String, String), String> {
    let Some((name, value)) = s.split_once(':') else {
        return Err(format!("{} is not Name: value", quoted(s)));
    };
    let name = name.trim();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("{} is not a header name", quoted(name)));
    }
    let value = value.trim();
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!("the value of {name} is not a valid header value"));
    }
    Ok((name.to_string(), value.to_string()))
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
    fn env_proxy_takes_a_listen_address_and_refuses_https() {
        let proxy = |s: &str| {
            let cli = Cli::try_parse_from(["gomitm", "env", "--proxy", s]).unwrap();
            match cli.command {
                Some(Command::Env(e)) => e.proxy,
                _ => panic!("expected env"),
            }
        };
        assert_eq!(proxy("8081"), "http://127.0.0.1:8081");
        assert_eq!(proxy("localhost:8081"), "http://127.0.0.1:8081");
        assert_eq!(proxy("[::1]:8081"), "http://[::1]:8081");
        assert_eq!(proxy("proxy.lan:8080"), "http://proxy.lan:8080");
        assert_eq!(proxy("http://u:p@127.0.0.1:1"), "http://u:p@127.0.0.1:1");
        let err = Cli::try_parse_from(["gomitm", "env", "--proxy", "https://127.0.0.1:8080"])
            .unwrap_err();
        assert!(err.to_string().contains("plain HTTP"), "{err}");
    }

    #[test]
    fn listen_accepts_what_a_user_types() {
        let listen = |s: &str| {
            let cli = Cli::try_parse_from(["gomitm", "--listen", s]).unwrap();
            cli.proxy.listen.unwrap().to_string()
        };
        assert_eq!(listen("8081"), "127.0.0.1:8081");
        assert_eq!(listen(":8081"), "127.0.0.1:8081");
        assert_eq!(listen("localhost:8081"), "127.0.0.1:8081");
        assert_eq!(listen("LOCALHOST:8081"), "127.0.0.1:8081");
        assert_eq!(listen("[::1]:8081"), "[::1]:8081");
        assert_eq!(listen("127.0.0.1:8081"), "127.0.0.1:8081");
        assert_eq!(listen("0"), "127.0.0.1:0");
        assert_eq!(listen("0.0.0.0:8081"), "0.0.0.0:8081");
        assert_eq!(listen("127.0.0.2"), "127.0.0.2:8080");
        assert_eq!(listen("::1"), "[::1]:8080");
        for bad in ["", "99999", "example.com:80", ":x", "localhost:", "[::1"] {
            let err = Cli::try_parse_from(["gomitm", "--listen", bad]).unwrap_err();
            assert!(err.to_string().contains("--listen"), "{bad}: {err}");
        }
        let err = parse_listen("host.example:80").unwrap_err();
        assert!(
            err.contains("127.0.0.1:0") && err.contains("localhost:PORT"),
            "{err}"
        );
    }

    #[test]
    fn resolve_accepts_curls_own_form() {
        let r = parse_resolve("GoProxy.test:443:127.0.0.1").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("goproxy.test", Some(443)));
        assert_eq!(r.addr.to_string(), "127.0.0.1:443");
        for v6 in [
            "h.test:8443:[::1]",
            "h.test:8443:::1",
            "+h.test:8443:[::1],127.0.0.1",
        ] {
            let r = parse_resolve(v6).unwrap_or_else(|e| panic!("{v6}: {e}"));
            assert_eq!(r.addr.to_string(), "[::1]:8443", "{v6}");
            assert_eq!(r.host, "h.test");
        }
        let r = parse_resolve("h.test:443:10.0.0.1,10.0.0.2").unwrap();
        assert_eq!(r.addr.to_string(), "10.0.0.1:443", "the first address");
        for (bad, says) in [
            ("h.test:443", "HOST:PORT:ADDR"),
            ("h.test:x:127.0.0.1", "port"),
            ("h.test:443:nothost", "not an IP"),
            ("-h.test:443", "removing"),
            ("*:443:127.0.0.1", "wildcard"),
            (":443:127.0.0.1", "HOST:PORT:ADDR"),
        ] {
            let err = parse_resolve(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let cli = Cli::try_parse_from(["gomitm", "--resolve", "a.test:443:127.0.0.1"]).unwrap();
        assert_eq!(cli.proxy.resolve[0].addr.port(), 443);
    }

    #[test]
    fn connect_to_parses_curls_four_fields() {
        let c = parse_connect_to("goproxy.test:443:127.0.0.1:8443").unwrap();
        assert_eq!(c.host.as_deref(), Some("goproxy.test"));
        assert_eq!(c.port, Some(443));
        assert_eq!(c.to_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.to_port, Some(8443));
        let any = parse_connect_to("::backend.test:").unwrap();
        assert_eq!((any.host, any.port), (None, None));
        assert_eq!(
            (any.to_host.as_deref(), any.to_port),
            (Some("backend.test"), None)
        );
        let v6 = parse_connect_to("[::1]:443:[fe80::1]:80").unwrap();
        assert_eq!(v6.host.as_deref(), Some("::1"));
        assert_eq!(v6.to_host.as_deref(), Some("fe80::1"));
        for bad in ["a:443:b", "a:443", "a:x:b:1", "a:1:b:99999", "[::1:443:b:1"] {
            assert!(parse_connect_to(bad).is_err(), "{bad}");
        }
        let cli =
            Cli::try_parse_from(["gomitm", "--connect-to", "a.test:443:b.test:8443"]).unwrap();
        assert_eq!(cli.proxy.connect_to.len(), 1);
        let err = Cli::try_parse_from(["gomitm", "--connect-to", "a.test"]).unwrap_err();
        assert!(err.to_string().contains("HOST1:PORT1:HOST2:PORT2"), "{err}");
    }

    #[test]
    fn run_without_dashes_says_where_the_command_goes() {
        let err =
            try_parse_args(["gomitm", "run", "--har-out", "x.har", "go", "version"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("gomitm run --har-out x.har -- go version"),
            "{text}"
        );
        assert!(text.contains("Usage: gomitm run"), "{text}");
        assert_eq!(err.exit_code(), 2);
        let err = try_parse_args(["gomitm", "run", "sh", "-c", "echo hi"]).unwrap_err();
        assert!(
            err.to_string().contains("gomitm run -- sh -c 'echo hi'"),
            "{err}"
        );
        // Other mistakes keep clap's own message; the right form still parses.
        let err = try_parse_args(["gomitm", "run", "--nosuch", "--", "go"]).unwrap_err();
        assert!(!err.to_string().contains("put the command"), "{err}");
        assert!(try_parse_args(["gomitm", "run", "--", "go", "version"]).is_ok());
    }

    #[test]
    fn errors_never_echo_control_characters_raw() {
        for args in [
            &["gomitm", "--resolve", "\u{1b}[2Jx"][..],
            &["gomitm", "r\u{1b}[2Jun"],
            &["gomitm", "run", "g\u{202e}o", "x"],
            &["gomitm", "--listen", "\u{9b}31m"],
        ] {
            let err = try_parse_args(args).unwrap_err();
            let text = unsafe_error_text(&err, args).expect("control characters were typed");
            assert!(
                !text.contains(['\u{1b}', '\u{202e}', '\u{9b}']),
                "{args:?}: {text:?}"
            );
            assert!(text.contains("error:"), "{text}");
        }
        let args = ["gomitm", "--listen", "nope"];
        let clean = try_parse_args(args).unwrap_err();
        assert_eq!(
            unsafe_error_text(&clean, &args),
            None,
            "clean errors keep clap's colours"
        );
    }

    #[test]
    fn help_names_environment_variables_without_showing_their_values() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("[env: GOMITM_CA_DIR]"), "{help}");
        assert!(help.contains("[env: GOMITM_PROXY_AUTH]"), "{help}");
        assert!(!help.contains("GOMITM_CA_DIR="), "{help}");
        // Every env-backed option, in every subcommand, hides its value.
        fn check(cmd: &clap::Command) {
            for arg in cmd.get_arguments() {
                if arg.get_env().is_some() {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "{} shows its env value",
                        arg.get_id()
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                check(sub);
            }
        }
        check(&Cli::command());
    }

    #[test]
    fn a_command_without_run_is_pointed_at_run() {
        let err = try_parse_args(["gomitm", "go", "mod", "download"]).unwrap_err();
        assert!(
            err.to_string().contains("gomitm run -- go mod download"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
        let err = try_parse_args(["gomitm", "deps.har"]).unwrap_err();
        assert!(err.to_string().contains("gomitm open deps.har"), "{err}");
        // A typo of a subcommand keeps clap's suggestion instead.
        let err = try_parse_args(["gomitm", "reprot", "x.har"]).unwrap_err();
        assert!(err.to_string().contains("'report'"), "{err}");
        assert!(!err.to_string().contains("gomitm run --"), "{err}");
    }

    #[test]
    fn run_help_leaves_out_the_options_it_refuses() {
        let mut cmd = Cli::command();
        cmd.build();
        let run = cmd.find_subcommand_mut("run").unwrap();
        let help = run.render_long_help().to_string();
        for hidden in ["--listen <ADDR>", "--quiet", "--no-tui"] {
            assert!(!help.contains(hidden), "{hidden} offered by run --help");
        }
        assert!(help.contains("--log-flows") && help.contains("--har-out"));
        // Still parsed, so that `session::setup` can say why it is refused.
        assert!(Cli::try_parse_from(["gomitm", "run", "--listen", "1", "--", "go"]).is_ok());
        let top = Cli::command().render_long_help().to_string();
        assert!(top.contains("--listen <ADDR>") && top.contains("--no-tui"));
    }

    #[test]
    fn version_completions_and_man_parse() {
        let cli = Cli::try_parse_from(["gomitm", "version"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Version)));
        let cli = Cli::try_parse_from(["gomitm", "completions", "fish"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Completions {
                shell: clap_complete::Shell::Fish
            })
        ));
        assert!(Cli::try_parse_from(["gomitm", "completions", "tcsh"]).is_err());
        let cli = Cli::try_parse_from(["gomitm", "man", "--dir", "/tmp/m"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Man { dir: Some(_) })));
        let err = Cli::try_parse_from(["gomitm", "--version"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(err.to_string(), format!("gomitm {VERSION}\n"));
        // Where a user types it: after a subcommand too (the command after -- keeps its own).
        for args in [&["gomitm", "run", "--version"][..], &["gomitm", "ca", "-V"]] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::DisplayVersion,
                "{args:?}"
            );
        }
        let cli = Cli::try_parse_from(["gomitm", "run", "--", "go", "--version"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Run(r)) if r.command == ["go", "--version"]));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("1.5KiB").unwrap(), 1536);
        assert_eq!(parse_size("2mb").unwrap(), 2_000_000);
    }
}
