//! `gomitm run -- COMMAND`: a proxy on a free loopback port, the command run through it with
//! the right environment, warnings about settings that would bypass interception, and the
//! Go-aware summary when the command exits. Also `gomitm report FILE.har`.
//!
//! The checks (`preflight_warnings`) are pure; running the child and reading `go env` /
//! `git config` is the I/O shell around them. The inherited proxy variables are applied to
//! gomitm's own upstream connections (`proxy::route`) and removed from the child's.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;

use anyhow::Context;

use crate::app::{Banner, Session};
use crate::cli::{ReportArgs, RunArgs};
use crate::flow::Flow;
use crate::go::analysis;
use crate::go::diagnose::{DiagnoseContext, Os};
use crate::go::private::PrivatePatterns;

/// What the child will see, gathered before it starts.
#[derive(Debug, Default, Clone)]
pub struct Preflight {
    /// `go env` of the child: GOPROXY, GOFLAGS, GOPRIVATE, GONOPROXY, GONOSUMDB, GOSUMDB…
    pub go_env: HashMap<String, String>,
    /// `git config --get http.proxy`.
    pub git_http_proxy: Option<String>,
}

pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let mut proxy_args = args.proxy.clone();
    proxy_args.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    // The child's proxy variables are replaced by gomitm's: gomitm goes where it would have.
    if proxy_args.upstream_proxy.is_none() {
        proxy_args.upstream_proxy = Some(crate::cli::UpstreamChoice::Env);
    }
    let preflight = gather_preflight(&args.command);
    let private = private_patterns(args.proxy.private.as_deref(), &preflight.go_env);
    let tui = args.tui && crate::app::wants_tui(&args.proxy);
    let session = Session::start(
        &proxy_args,
        Banner::FirstLineOnly,
        args.log_flows,
        private.clone(),
    )
    .await?;
    // After the listening line, which scripts read first.
    let warnings = preflight_warnings(&preflight);
    for warning in &warnings {
        eprintln!("gomitm: warning: {warning}");
    }
    if tui {
        return run_in_tui(&args, &proxy_args, session, private, &warnings).await;
    }
    let status = run_child(&args.command, &session).await;
    let bundle = session.bundle_path();
    let flows = session.finish(&proxy_args).await?;
    let summary = summarize(&flows, &private, &bundle);
    eprint!("{}", summary.render());
    match status {
        Ok(status) => Ok(exit_code(status)),
        Err(e) => Err(e),
    }
}

/// `--private` wins; otherwise the child's own GOPRIVATE/GONOPROXY/GONOSUMDB.
fn private_patterns(flag: Option<&str>, go_env: &HashMap<String, String>) -> PrivatePatterns {
    if let Some(globs) = flag {
        return PrivatePatterns::from_globs(globs);
    }
    let get = |k: &str| go_env.get(k).map_or("", String::as_str);
    PrivatePatterns::from_go_env(get("GOPRIVATE"), get("GONOPROXY"), get("GONOSUMDB"))
}

fn summarize(flows: &[Arc<Flow>], private: &PrivatePatterns, bundle: &Path) -> analysis::Summary {
    let flows: Vec<Flow> = flows.iter().map(|f| (**f).clone()).collect();
    let ctx = DiagnoseContext {
        private,
        os: Os::current(),
        bundle: Some(bundle),
    };
    analysis::summarize(&flows, &ctx)
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

async fn run_child(command: &[String], session: &Session) -> anyhow::Result<ExitStatus> {
    let program = command.first().map_or("", String::as_str);
    let mut child = child_command(command, session)?
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    // Ctrl-C reaches the child through the terminal; gomitm stays up to print the summary.
    let ignore_interrupts = tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    let status = child
        .wait()
        .await
        .with_context(|| format!("waiting for {program}"));
    ignore_interrupts.abort();
    status
}

/// `gomitm run --tui`: the TUI shows the traffic while the child runs, its output in a pane
/// (never painted over the screen), and the summary once it exits, until the user quits.
/// Quitting early stops the child. The summary is printed again after the terminal is back.
async fn run_in_tui(
    args: &RunArgs,
    proxy_args: &crate::cli::ProxyArgs,
    session: Session,
    private: PrivatePatterns,
    warnings: &[String],
) -> anyhow::Result<i32> {
    use crate::tui::{Action, Feeds, Source};
    let feeds = Feeds::new(
        Some(session.store.clone()),
        Vec::new(),
        crate::app::shutdown_signal(),
    );
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
    forward_lines(child.stdout.take(), tx.clone());
    forward_lines(child.stderr.take(), tx.clone());
    let source = Source::Run {
        addr: session.addr.to_string(),
        command: args.command.join(" "),
    };
    let bundle = session.bundle_path();
    let cfg = crate::app::tui_config(proxy_args, source, private.clone(), Some(bundle.clone()));
    let mut ui = tokio::spawn(crate::tui::run(cfg, feeds));
    let (status, ui_result) = tokio::select! {
        status = child.wait() => (status, None),
        shown = &mut ui => (stop_child(&mut child).await, Some(shown)),
    };
    let status = status.with_context(|| format!("waiting for {program}"))?;
    let flows = session.finish(proxy_args).await?;
    let summary = summarize(&flows, &private, &bundle).render();
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
    eprint!("{summary}");
    shown
        .context("the terminal UI stopped")?
        .context("terminal UI")?;
    Ok(exit_code(status))
}

/// Each line of a child's pipe becomes an output line in the TUI.
fn forward_lines(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    tx: tokio::sync::mpsc::UnboundedSender<crate::tui::Action>,
) {
    use tokio::io::AsyncBufReadExt;
    let Some(pipe) = pipe else {
        return;
    };
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(crate::tui::Action::ChildOutput(line)).is_err() {
                break;
            }
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

/// The child's `go env` (when the command is go, that go; else `go` on PATH) and git's
/// `http.proxy`. (NO_PROXY is not the child's: gomitm removes it and applies it upstream.) Missing tools just leave fields empty.
fn gather_preflight(command: &[String]) -> Preflight {
    let go = command
        .first()
        .filter(|c| Path::new(c.as_str()).file_name().is_some_and(|n| n == "go"))
        .map_or("go", String::as_str);
    let vars = [
        "GOPROXY",
        "GOFLAGS",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOSUMDB",
    ];
    let go_env = std::process::Command::new(go)
        // Else a GOTOOLCHAIN naming another release makes this `go env` download that
        // toolchain itself, straight from the module proxy, before the child runs through
        // gomitm (seen on real traffic: `GOTOOLCHAIN=go1.27.3 go version` showed 0 requests).
        .env("GOTOOLCHAIN", "local")
        .arg("env")
        .arg("-json")
        .args(vars)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or_default();
    let git_http_proxy = std::process::Command::new("git")
        .args(["config", "--get", "http.proxy"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty());
    Preflight {
        go_env,
        git_http_proxy,
    }
}

/// Settings that will bypass or break interception, in words a user can act on.
pub fn preflight_warnings(p: &Preflight) -> Vec<String> {
    let mut out = Vec::new();
    let goproxy = p
        .go_env
        .get("GOPROXY")
        .map_or("https://proxy.golang.org,direct", String::as_str);
    if goproxy.trim() == "off" {
        out.push("GOPROXY=off: the go command will not download any module".to_string());
    }
    for host in goproxy_hosts(goproxy) {
        if is_loopback_host(&host) {
            out.push(format!(
                "GOPROXY names {host}: the go command never sends localhost/loopback requests \
                 through a proxy, so gomitm will not see them; use a host name and gomitm --resolve"
            ));
        }
    }
    if p.go_env
        .get("GOFLAGS")
        .is_some_and(|f| f.split_whitespace().any(|w| w.starts_with("-insecure")))
    {
        out.push(
            "GOFLAGS has -insecure, which go no longer supports: use GOINSECURE=<pattern>"
                .to_string(),
        );
    }
    if let Some(proxy) = &p.git_http_proxy {
        out.push(format!(
            "git config http.proxy={proxy} overrides HTTPS_PROXY for git, so git traffic will not \
             go through gomitm (git config --global --unset http.proxy)"
        ));
    }
    out
}

/// Hosts of the URL entries of a GOPROXY list (`direct` and `off` name none).
fn goproxy_hosts(goproxy: &str) -> Vec<String> {
    goproxy
        .split([',', '|'])
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "direct" && *e != "off")
        .map(|e| crate::flow::url_host(e).to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `gomitm report FILE.har`: classify (gomitm's own HARs and other tools' alike, from their
/// URLs) and print the summary.
pub fn report(args: &ReportArgs) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(&args.har)
        .with_context(|| format!("cannot read {}", args.har.display()))?;
    let filter = args
        .filter
        .as_deref()
        .map(crate::filter::Filter::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--filter: {e}"))?;
    let mut flows = crate::har::from_json(&text)
        .with_context(|| format!("{} is not a HAR file gomitm can read", args.har.display()))?;
    classify_imported(&mut flows);
    if let Some(f) = &filter {
        flows.retain(|flow| f.matches(flow));
    }
    let private = args
        .private
        .as_deref()
        .map_or_else(PrivatePatterns::none, PrivatePatterns::from_globs);
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::current(),
        bundle: None,
    };
    print!("{}", analysis::summarize(&flows, &ctx).render());
    Ok(0)
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
mod tests {
    use super::*;

    fn pre(pairs: &[(&str, &str)]) -> Preflight {
        Preflight {
            go_env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Preflight::default()
        }
    }

    #[test]
    fn healthy_defaults_give_no_warning() {
        assert!(
            preflight_warnings(&pre(&[("GOPROXY", "https://proxy.golang.org,direct")])).is_empty()
        );
        assert!(preflight_warnings(&Preflight::default()).is_empty());
    }

    #[test]
    fn each_bypass_is_named() {
        let w = preflight_warnings(&pre(&[("GOPROXY", "off")]));
        assert!(w.iter().any(|w| w.contains("GOPROXY=off")), "{w:?}");
        let w = preflight_warnings(&pre(&[(
            "GOPROXY",
            "http://127.0.0.1:3000,https://localhost:9/x",
        )]));
        assert_eq!(
            w.iter().filter(|w| w.contains("loopback")).count(),
            2,
            "{w:?}"
        );
        let w = preflight_warnings(&pre(&[("GOFLAGS", "-mod=mod -insecure")]));
        assert!(w.iter().any(|w| w.contains("GOINSECURE")), "{w:?}");
        let mut p = pre(&[]);
        p.git_http_proxy = Some("http://127.0.0.1:1".into());
        assert!(preflight_warnings(&p)
            .iter()
            .any(|w| w.contains("http.proxy")));
    }

    #[test]
    fn imported_flows_are_classified_and_numbered_in_order() {
        use crate::flow::testing::FlowBuilder;
        let mut flows = vec![
            FlowBuilder::get("https://proxy.test/a.test/m/@v/list")
                .id(7)
                .build(),
            FlowBuilder::get("https://h.test/")
                .id(7)
                .req_header("User-Agent", "git/2.47")
                .build(),
        ];
        classify_imported(&mut flows);
        assert_eq!(
            flows[0].go.as_ref().map(|g| g.kind),
            Some(crate::flow::GoKind::List)
        );
        assert_eq!(flows[1].tool.as_deref(), Some("git"));
        assert_eq!(
            (flows[0].id, flows[1].id),
            (1, 2),
            "duplicate ids are renumbered"
        );
        let mut ordered = vec![
            FlowBuilder::get("https://h.test/").id(3).build(),
            FlowBuilder::get("https://h.test/").id(9).build(),
        ];
        classify_imported(&mut ordered);
        assert_eq!(
            (ordered[0].id, ordered[1].id),
            (3, 9),
            "gomitm's own ids are kept"
        );
    }

    #[test]
    fn private_flag_wins_over_go_env() {
        let env: HashMap<String, String> = [("GOPRIVATE".to_string(), "a.test".to_string())].into();
        assert!(private_patterns(Some("b.test"), &env).private_for_proxy("b.test/x"));
        assert!(!private_patterns(Some("b.test"), &env).private_for_proxy("a.test/x"));
        assert!(private_patterns(None, &env).private_for_proxy("a.test/x"));
    }
}
