//! `gomitm run -- COMMAND`: a proxy on a free loopback port, the command run through it with
//! the right environment, warnings about settings that would bypass interception, and the
//! Go-aware summary when the command exits, whose verdict agrees with the command's exit
//! status and go's own error lines. Also `gomitm report FILE.har`.
//!
//! `child` runs the command between it and the terminal; `replay` prints its output again
//! after `run --tui`; `settings` reads what the command will see (go env, git config); the
//! judgement is all in `go::`.

mod artifacts;
mod child;
mod replay;
mod settings;

use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::{FailOn, ReportArgs, RunArgs};
use crate::flow::Flow;
use crate::go::analysis::{self, RunEvidence};
use crate::go::diagnose::{DiagnoseContext, Os};
use crate::go::goversion::GoVersion;
use crate::go::integrity_check::GoSum;
use crate::go::policy::{preflight_warnings, Settings};
use crate::go::private::PrivatePatterns;
use crate::go::verdict::CommandOutcome;
use crate::session::{shutdown_signal, Config, GoFacts, Mode, Session};

pub use settings::gather as gather_settings;

pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let program = args.command.first().map_or("", String::as_str);
    if let Err(e) = child::check_runnable(program, std::env::var_os("PATH").as_deref()) {
        return Ok(cannot_start(&e));
    }
    let wanted = artifacts::Wanted::for_run(&args);
    wanted.check()?;
    let settings = settings::gather(&args.command);
    let go_version = GoVersion::parse(settings.get("GOVERSION"));
    let go_sum = settings::read_go_sum(&settings);
    let private = private_patterns(args.proxy.private.as_ref(), &settings);
    let go = GoFacts {
        private: private.clone(),
        version: go_version,
    };
    let mut cfg = Config::new(&args.proxy, Mode::Run, go, args.tui)?;
    cfg.log_lines = args.log_flows;
    let tui = cfg.tui.then(|| {
        let bundle = cfg.ca.dir().join(crate::ca::BUNDLE_FILE);
        let pending = crate::tui::Source::Run {
            addr: String::new(),
            command: args.command.join(" "),
        };
        cfg.tui_config(pending, Some(bundle))
    });
    let session = Session::start(cfg).await?;
    // After the listening line, which scripts read first.
    let warnings = preflight_warnings(&settings);
    for warning in &warnings {
        eprintln!(
            "gomitm: warning: {}",
            crate::terminal_text::terminal_safe(warning)
        );
    }
    let ctx = RunCtx {
        settings,
        go_version,
        go_sum,
        private,
        extra_secret_headers: args.proxy.redact_header.clone(),
    };
    if let Some(tui_cfg) = tui {
        return run_in_tui(&args, tui_cfg, session, ctx, &warnings, &wanted).await;
    }
    let program = args.command.first().map_or("", String::as_str).to_string();
    let cmd = child_command(&args.command, &session)?;
    let ran = child::run_teed(cmd)
        .await
        .with_context(|| format!("cannot run {program}"));
    let bundle = session.bundle_path();
    let ending = session.finish().await;
    let flows = ending.flows;
    let (status, captured) = match ran {
        Err(e) => {
            let io = e.downcast_ref::<std::io::Error>();
            match io.and_then(|io| child::CannotStart::from_spawn_error(&program, io)) {
                Some(why) => return Ok(cannot_start(&why)),
                None => return Err(e),
            }
        }
        Ok(ran) => ran,
    };
    let outcome = ctx.outcome(&args.command, status, &captured.stderr, &captured.stdout);
    let flows = redacted(&flows, &ctx);
    let summary = summarize(&flows, &ctx, &bundle, Some(&outcome));
    eprint!("{}", summary.render());
    finish_otel(ending.otel, &args.command, status, &summary, &ctx).await;
    Ok(write_artifacts(
        &wanted,
        &flows,
        &ctx,
        &bundle,
        &summary,
        &outcome.command,
        exit_code(status),
    ))
}

/// The report files `run` was asked for. A file that cannot be written fails the run (exit
/// 1) when the command itself succeeded: CI would otherwise pass without its report.
fn write_artifacts(
    wanted: &artifacts::Wanted,
    flows: &[Flow],
    ctx: &RunCtx,
    bundle: &Path,
    summary: &analysis::Summary,
    source: &str,
    code: i32,
) -> i32 {
    let timeline = wanted
        .html()
        .then(|| crate::go::timeline::timeline(flows, &ctx.diagnose_ctx(bundle), summary));
    match wanted.write(summary, timeline.as_ref(), source) {
        Ok(()) => code,
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!(
                "gomitm: error: {}",
                crate::terminal_text::terminal_safe(&text)
            );
            if code == 0 {
                1
            } else {
                code
            }
        }
    }
}

/// `--otlp`: the run's root span (argv, exit code, go release, the summary's totals and
/// leaks), then the bounded flush and the line saying what was exported and dropped.
async fn finish_otel(
    otel: Option<crate::otel::Tracing>,
    command: &[String],
    status: ExitStatus,
    summary: &analysis::Summary,
    ctx: &RunCtx,
) {
    let Some(tracing) = otel else { return };
    let facts = crate::otel::RunFacts {
        argv: command.to_vec(),
        exit_code: exit_code(status),
        go_version: ctx.go_version.map(|v| v.to_string()),
        requests: summary.totals.requests,
        failed: summary.totals.failed,
        bytes: summary.totals.bytes,
        modules: summary.totals.modules,
        leaks: summary.leaks.len(),
        ..crate::otel::RunFacts::default()
    };
    tracing.finish(Some(facts)).await;
}

/// Says why the command did not start; the exit status a shell would give.
fn cannot_start(why: &child::CannotStart) -> i32 {
    eprintln!(
        "gomitm: {}",
        crate::terminal_text::terminal_safe(&why.to_string())
    );
    why.exit_code()
}

/// What `run` knows before the child starts, and needs again for the summary.
struct RunCtx {
    settings: Settings,
    go_version: Option<GoVersion>,
    go_sum: Option<GoSum>,
    private: PrivatePatterns,
    /// `--redact-header`: the summary is redacted with these too.
    extra_secret_headers: Vec<String>,
}

impl RunCtx {
    fn outcome(
        &self,
        command: &[String],
        status: ExitStatus,
        stderr: &str,
        stdout: &str,
    ) -> CommandOutcome {
        CommandOutcome {
            command: display_command(command),
            exit_code: exit_code(status),
            errors: crate::go::evidence::parse(stderr, stdout),
            settings: self.settings.clone(),
        }
    }
}

/// `go mod download` from `/usr/lib/go-1.19/bin/go mod download …`, short and printable.
fn display_command(command: &[String]) -> String {
    let mut words: Vec<String> = command.iter().take(6).cloned().collect();
    if let Some(first) = words.first_mut() {
        if let Some(name) = Path::new(first.as_str()).file_name() {
            *first = name.to_string_lossy().into_owned();
        }
    }
    let mut text = crate::redact::redact_text(&words.join(" "));
    if command.len() > 6 {
        text.push_str(" …");
    }
    crate::terminal_text::terminal_safe(&text).into_owned()
}

/// `--private` wins; otherwise the child's own GOPRIVATE/GONOPROXY/GONOSUMDB, read as
/// `gomitm doctor` reads them (GOPRIVATE's paths are private even where GONOSUMDB or GONOPROXY
/// leave them out).
fn private_patterns(flag: Option<&PrivatePatterns>, settings: &Settings) -> PrivatePatterns {
    if let Some(patterns) = flag {
        return patterns.clone();
    }
    PrivatePatterns::for_leak_check(
        settings.get("GOPRIVATE"),
        settings.get("GONOPROXY"),
        settings.get("GONOSUMDB"),
    )
}

/// The summary is computed from redacted copies (as the HAR is written): nothing it prints
/// can quote a secret.
fn redacted(flows: &[Arc<Flow>], ctx: &RunCtx) -> Vec<Flow> {
    flows
        .iter()
        .map(|f| crate::redact::redact_flow(f, &ctx.extra_secret_headers))
        .collect()
}

impl RunCtx {
    fn diagnose_ctx<'a>(&'a self, bundle: &'a Path) -> DiagnoseContext<'a> {
        DiagnoseContext {
            private: &self.private,
            os: Os::current(),
            bundle: Some(bundle),
            go: self.go_version,
            goproxy: Some(self.settings.get("GOPROXY")),
            goauth: Some(self.settings.get("GOAUTH")),
        }
    }
}

/// `flows` redacted (`redacted`).
fn summarize(
    flows: &[Flow],
    ctx: &RunCtx,
    bundle: &Path,
    outcome: Option<&CommandOutcome>,
) -> analysis::Summary {
    let run = RunEvidence {
        outcome,
        go_sum: ctx.go_sum.as_ref(),
    };
    analysis::summarize(flows, &ctx.diagnose_ctx(bundle), run)
}

/// The command with the environment that sends it through `session`.
fn child_command(command: &[String], session: &Session) -> anyhow::Result<tokio::process::Command> {
    let (program, rest) = command
        .split_first()
        .context("gomitm run needs a command after --")?;
    let proxy = session.proxy_url();
    let bundle = session.bundle_path();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest);
    // Both spellings: Go reads the upper-case name first, curl (git) the lower-case one.
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        cmd.env(name, &proxy);
    }
    // gomitm honours the inherited NO_PROXY and ALL_PROXY for its own upstream connections
    // (`--upstream-proxy env`); in the child they would only let traffic bypass gomitm.
    for name in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env_remove(name);
    }
    cmd.env("SSL_CERT_FILE", &bundle)
        .env("GIT_SSL_CAINFO", &bundle);
    Ok(cmd)
}

/// `gomitm run --tui`: the TUI shows the traffic while the child runs, its output in a pane
/// (never painted over the screen), and the summary once it exits, until the user quits.
/// Quitting early stops the child. The summary is printed again after the terminal is back.
async fn run_in_tui(
    args: &RunArgs,
    mut tui_cfg: crate::tui::Config,
    mut session: Session,
    ctx: RunCtx,
    warnings: &[String],
    wanted: &artifacts::Wanted,
) -> anyhow::Result<i32> {
    use crate::tui::{Action, Feeds, Source};
    let mut feeds = Feeds::new(Some(session.store.clone()), Vec::new(), shutdown_signal());
    session.observe(feeds.observer());
    feeds.set_replay(session.replay_endpoint(crate::replay::TUI_TIMEOUT));
    let tx = feeds.sender();
    for w in warnings {
        let _ = tx.send(Action::Message(format!("gomitm: warning: {w}")));
    }
    let program = args.command.first().map_or("", String::as_str);
    let mut child = child_command(&args.command, &session)?
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let (out_tail, err_tail) = (child::SharedTail::default(), child::SharedTail::default());
    // Both streams in the order they came, to print again once the terminal is back.
    let both = child::SharedTail::default();
    forward_lines(
        child.stdout.take(),
        tx.clone(),
        [out_tail.clone(), both.clone()],
    );
    forward_lines(
        child.stderr.take(),
        tx.clone(),
        [err_tail.clone(), both.clone()],
    );
    tui_cfg.source = Source::Run {
        addr: session.addr.to_string(),
        command: args.command.join(" "),
    };
    let bundle = session.bundle_path();
    let mut ui = tokio::spawn(crate::tui::run(tui_cfg, feeds));
    let (status, ui_result) = tokio::select! {
        status = child.wait() => (status, None),
        shown = &mut ui => (stop_child(&mut child).await, Some(shown)),
    };
    let status = status.with_context(|| format!("waiting for {program}"))?;
    let ending = session.finish().await;
    let flows = ending.flows;
    let outcome = ctx.outcome(
        &args.command,
        status,
        &child::text_of(&err_tail),
        &child::text_of(&out_tail),
    );
    let flows = redacted(&flows, &ctx);
    let analysed = summarize(&flows, &ctx, &bundle, Some(&outcome));
    let summary = analysed.render();
    let shown = match ui_result {
        Some(shown) => shown,
        None => {
            let _ = tx.send(Action::ChildExited {
                code: exit_code(status),
                summary: summary.clone(),
            });
            ui.await
        }
    };
    // The TUI is gone: go's own output goes to the scrollback, then the summary.
    let output: Vec<String> = child::text_of(&both).lines().map(String::from).collect();
    replay::print(program, &output, crate::tui::terminal_rows());
    eprint!("{summary}");
    finish_otel(ending.otel, &args.command, status, &analysed, &ctx).await;
    shown
        .context("the terminal UI stopped")?
        .context("terminal UI")?;
    Ok(write_artifacts(
        wanted,
        &flows,
        &ctx,
        &bundle,
        &analysed,
        &outcome.command,
        exit_code(status),
    ))
}

/// Each line of a child's pipe becomes an output line in the TUI, and is kept in `tails`.
/// Bytes that are not UTF-8 are shown as U+FFFD, and the pipe is read to its end whatever
/// comes (a reader that stopped would leave the child blocked on a full pipe).
fn forward_lines<const N: usize>(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    tx: tokio::sync::mpsc::UnboundedSender<crate::tui::Action>,
    tails: [child::SharedTail; N],
) {
    use tokio::io::AsyncBufReadExt;
    let Some(pipe) = pipe else {
        return;
    };
    tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            for tail in &tails {
                tail.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(format!("{line}\n").as_bytes());
            }
            // The TUI may be gone (quit early); the evidence is still kept.
            let _ = tx.send(crate::tui::Action::ChildOutput(line));
        }
    });
}

/// SIGTERM to the child (this process started it), then SIGKILL after a grace period.
async fn stop_child(child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
    #[cfg(unix)]
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) on the PID of the child spawned above, which has not been reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        if let Ok(status) =
            tokio::time::timeout(std::time::Duration::from_secs(3), child.wait()).await
        {
            return status;
        }
    }
    let _ = child.start_kill();
    child.wait().await
}

fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    status.code().unwrap_or(1)
}

/// `gomitm report FILE.har`: classify (gomitm's own HARs and other tools' alike, from their
/// URLs) and print the summary, as text or JSON; exit [`FAIL_ON_EXIT`] when `--fail-on` finds
/// what it names.
pub fn report(args: &ReportArgs) -> anyhow::Result<i32> {
    // Without private patterns no path is private: a leak gate would pass whatever was sent.
    if args.private.is_none() {
        if args.fail_on.contains(&FailOn::Leak) {
            anyhow::bail!(
                "--fail-on leak needs --private GLOBS (the module paths that are private, as in GOPRIVATE): without it no leak can be found"
            );
        }
        if args.fail_on.contains(&FailOn::Any) {
            eprintln!(
                "gomitm: warning: --fail-on any without --private checks failures only: no module path is private, so no leak can be found"
            );
        }
    }
    let wanted = artifacts::Wanted::for_report(args);
    wanted.check()?;
    let (summary, timeline) = report_analysis(args, wanted.html())?;
    // The files first: a closed stdout (`| head`) must not lose them.
    let source = args.har.file_name().map_or_else(
        || args.har.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    wanted.write(&summary, timeline.as_ref(), &source)?;
    if args.json {
        print!(
            "{}",
            summary
                .render_json()
                .context("cannot write the report as JSON")?
        );
    } else {
        print!("{}", summary.render());
    }
    match fail_on_reason(&summary, &args.fail_on) {
        Some(reason) => {
            eprintln!("gomitm: {reason}");
            Ok(FAIL_ON_EXIT)
        }
        None => Ok(0),
    }
}

/// `report --fail-on` found what it names: 3, as govulncheck exits when it finds
/// vulnerabilities; 1 stays an error (an unreadable file), 2 a usage error.
pub const FAIL_ON_EXIT: i32 = 3;

/// The line that says why `--fail-on` fails, or `None` when it passes.
fn fail_on_reason(summary: &analysis::Summary, fail_on: &[FailOn]) -> Option<String> {
    use crate::go::summary_json::Finding;
    let wanted = |f: Finding| {
        fail_on.iter().any(|w| {
            matches!(
                (w, f),
                (FailOn::Any, _)
                    | (FailOn::Leak, Finding::Leak)
                    | (FailOn::Failure, Finding::Failure)
            )
        })
    };
    let found: Vec<String> = summary
        .findings()
        .into_iter()
        .filter(|&f| wanted(f))
        .map(|f| match f {
            Finding::Leak => plural(
                summary.leaks.len(),
                "private-path leak",
                "private-path leaks",
            ),
            Finding::Failure => plural(summary.failures.len(), "failure", "failures"),
        })
        .collect();
    (!found.is_empty()).then(|| {
        let names: Vec<&str> = fail_on
            .iter()
            .map(|w| match w {
                FailOn::Leak => "leak",
                FailOn::Failure => "failure",
                FailOn::Any => "any",
            })
            .collect();
        format!(
            "--fail-on {}: the capture has {} (exit {FAIL_ON_EXIT})",
            names.join(","),
            found.join(" and ")
        )
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary `gomitm report` prints.
#[cfg(test)]
fn report_summary(args: &ReportArgs) -> anyhow::Result<analysis::Summary> {
    Ok(report_analysis(args, false)?.0)
}

/// The summary `gomitm report` prints, and the timeline when `timeline` (for `--html`).
fn report_analysis(
    args: &ReportArgs,
    timeline: bool,
) -> anyhow::Result<(analysis::Summary, Option<crate::go::timeline::Timeline>)> {
    let mut flows = read_har(&args.har)?;
    classify_imported(&mut flows);
    if let Some(f) = &args.filter {
        flows.retain(|flow| f.matches(flow));
    }
    // The HAR may have been written with `--no-redact` or by another tool.
    for flow in &mut flows {
        crate::redact::redact_flow_in_place(flow, &[]);
    }
    let private = args.private.clone().unwrap_or_else(PrivatePatterns::none);
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::current(),
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    };
    let summary = analysis::summarize(&flows, &ctx, RunEvidence::default());
    let timeline = timeline.then(|| crate::go::timeline::timeline(&flows, &ctx, &summary));
    Ok((summary, timeline))
}

/// The flows of a HAR file (`report`, `open`), read through a buffer: memory follows what the
/// flows keep (docs/HAR.md, "Large HARs"), not the file's size.
pub(crate) fn read_har(path: &std::path::Path) -> anyhow::Result<Vec<Flow>> {
    // Opening a directory succeeds on unix; reading it then fails with EISDIR's wording.
    if path.is_dir() {
        anyhow::bail!("{} is a directory, not a HAR file", path.display());
    }
    let file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{} does not exist", path.display())
        }
        opened => opened.with_context(|| format!("cannot read {}", path.display()))?,
    };
    crate::har::from_reader(std::io::BufReader::with_capacity(1 << 16, file))
        .with_context(|| format!("{} is not a HAR file", path.display()))
}

/// Flows read from a HAR: classify those another tool wrote (gomitm's own carry `_go` and
/// `_tool`), and give them distinct increasing ids when the file's ids are not.
pub(crate) fn classify_imported(flows: &mut [Flow]) {
    for flow in flows.iter_mut() {
        if flow.go.is_none() {
            flow.go = crate::go::classify(
                &flow.request.method,
                &flow.request.url,
                &flow.request.headers,
            );
        }
        if flow.tool.is_none() {
            flow.tool = crate::go::client_tool(&flow.request.headers);
        }
    }
    if !flows.windows(2).all(|w| w[0].id < w[1].id) {
        for (i, flow) in flows.iter_mut().enumerate() {
            flow.id = i as u64 + 1;
        }
    }
}

#[cfg(test)]
mod redaction_tests;
