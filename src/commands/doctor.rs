//! `gomitm doctor`: the I/O shell around `go::doctor`. It reads the settings (the real
//! `go env -json`, the proxy and CA variables, git's configuration, `.netrc` with its secrets
//! dropped at once, which CA files exist), starts a gomitm session on a free loopback port,
//! sends each probe through it as a client (`doctor_probe`), and prints the table (or JSON).
//!
//! Exit codes: 0 when no row fails, [`FAIL_EXIT`] when one does; a doctor that cannot run
//! at all is an error (1), like every subcommand.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::DoctorArgs;
use crate::flow::{Flow, FlowState};
use crate::go::diagnose::{DiagnoseContext, Os};
use crate::go::doctor::{self, JudgeCtx, Probe, Report, Row, Targets};
use crate::go::doctor_settings::{self, Facts, GitFacts, PathState};
use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::proxy::dial::Target;
use crate::proxy::route::ProxyRoute;
use crate::session::{Config, GoFacts, Mode, Session};

/// A row failed: the same code `report --fail-on` uses when it finds what it was told to.
pub const FAIL_EXIT: i32 = 3;

pub async fn run_doctor(mut args: DoctorArgs) -> anyhow::Result<i32> {
    for (given, flag) in [
        (args.proxy.listen.is_some(), "--listen"),
        (args.proxy.quiet, "--quiet"),
        (args.proxy.no_tui, "--no-tui"),
    ] {
        if given {
            anyhow::bail!("{flag} does nothing with gomitm doctor: it listens on a free loopback port for its own probes; leave it out");
        }
    }
    // The probes are doctor's own, on loopback: no client needs credentials.
    args.proxy.proxy_auth = None;
    let go = args.go.clone().unwrap_or_else(|| PathBuf::from("go"));
    let facts = gather(&go);
    if facts.go_env.is_empty() && args.go.is_some() {
        anyhow::bail!(
            "--go {}: `go env -json` did not run",
            crate::terminal_text::terminal_safe(&go.display().to_string())
        );
    }
    if facts.go_env.is_empty() {
        eprintln!(
            "gomitm: warning: `{} env -json` gave nothing: the settings below are go's defaults",
            crate::terminal_text::terminal_safe(&go.display().to_string())
        );
    }
    let targets = targets(&args);
    let private = PrivatePatterns::from_go_env(
        facts.go("GOPRIVATE"),
        facts.go("GONOPROXY"),
        facts.go("GONOSUMDB"),
    );
    let version = GoVersion::parse(facts.go("GOVERSION"));
    let cfg = Config::new(
        &args.proxy,
        Mode::Run,
        GoFacts {
            private: private.clone(),
            version,
        },
        false,
    )?;
    let route = cfg.dial.proxy.clone();
    let extra_root_names: Vec<String> = cfg
        .dial
        .extra_roots
        .iter()
        .filter_map(crate::certinfo::subject_name)
        .collect();
    let timeout = Duration::from_secs(args.proxy.connect_timeout.max(1) + 15);
    let session = Session::start(cfg).await?;
    let bundle = session.bundle_path();

    let (first, mut skipped) = doctor::first_probes(&facts, &targets);
    let mut sent = send_all(&session, &first, timeout).await;
    let first_flows: Vec<(Probe, Option<Arc<Flow>>)> = sent
        .iter()
        .map(|(p, _)| (p.clone(), flow_for(&session.store.snapshot(), &p.url)))
        .collect();
    let borrowed: Vec<(Probe, Option<&Flow>)> = first_flows
        .iter()
        .map(|(p, f)| (p.clone(), f.as_deref()))
        .collect();
    let (second, more_skipped) = doctor::second_probes(&facts, &targets, &borrowed);
    skipped.extend(more_skipped);
    sent.extend(send_all(&session, &second, timeout).await);

    let addr = session.addr;
    let ending = session.finish().await;
    let flows: Vec<Flow> = ending
        .flows
        .iter()
        .map(|f| crate::redact::redact_flow(f, &args.proxy.redact_header))
        .collect();
    let judge = |p: &Probe, err: Option<&str>| {
        let ctx = JudgeCtx {
            diagnose: DiagnoseContext {
                private: &private,
                os: Os::current(),
                bundle: Some(&bundle),
                go: version,
                goproxy: Some(facts.goproxy()),
                goauth: Some(facts.go("GOAUTH")),
            },
            extra_root_names: &extra_root_names,
            via: via(&route, &p.url),
        };
        let flow = flows.iter().rev().find(|f| f.request.url == p.url);
        doctor::judge(p, flow, err, &ctx)
    };
    let mut rows: Vec<Row> = sent
        .iter()
        .map(|(p, err)| judge(p, err.as_deref()))
        .collect();
    rows.extend(skipped);
    let hosts = hosts_in_use(&facts, &targets);
    rows.extend(doctor_settings::check(&facts, &hosts));
    let report = Report {
        go: go.display().to_string(),
        go_version: facts.go("GOVERSION").to_string(),
        proxy: addr.to_string(),
        rows,
    };
    if args.json {
        print!("{}", report.render_json());
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.failed() > 0 { FAIL_EXIT } else { 0 })
}

fn targets(args: &DoctorArgs) -> Targets {
    let module = args.module.as_deref().unwrap_or(doctor::DEFAULT_MODULE);
    let (module, version) = match module.split_once('@') {
        Some((m, v)) => (m.to_string(), Some(v.to_string())),
        None => (module.to_string(), None),
    };
    Targets {
        module,
        version,
        vcs: args.vcs.clone(),
    }
}

/// Each probe in turn (one at a time: the timings are the source's, not a race's); the
/// client's own error when the request did not get an answer through gomitm.
async fn send_all(
    session: &Session,
    probes: &[Probe],
    timeout: Duration,
) -> Vec<(Probe, Option<String>)> {
    let mut out = Vec::new();
    let ca = session.ca.cert_der().clone();
    for p in probes {
        let answer =
            super::doctor_probe::send(session.addr, &ca, &p.url, &p.headers, timeout).await;
        wait_finished(session, &p.url).await;
        out.push((p.clone(), answer.err()));
    }
    out
}

/// The flow of `url` is finished a moment after the client has its answer (the body's end
/// is reported by gomitm's side); the second probes read it, so wait for that briefly.
async fn wait_finished(session: &Session, url: &str) {
    for _ in 0..100 {
        let done =
            flow_for(&session.store.snapshot(), url).is_some_and(|f| f.state == FlowState::Done);
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn flow_for(flows: &[Arc<Flow>], url: &str) -> Option<Arc<Flow>> {
    flows.iter().rev().find(|f| f.request.url == url).cloned()
}

/// The proxy the route sends `url`'s host through (`--upstream-proxy`, or the inherited
/// HTTPS_PROXY with NO_PROXY applied), masked.
fn via(route: &ProxyRoute, url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let https = uri.scheme_str() == Some("https");
    let target = Target {
        https,
        host: uri.host()?.to_string(),
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
    };
    route.for_target(&target, true).map(|p| p.display_masked())
}

/// `host` or `host:port` of every source in use, for the `.netrc` rows.
fn hosts_in_use(f: &Facts, t: &Targets) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |url: &str| {
        if let Ok(uri) = url.parse::<http::Uri>() {
            if let Some(a) = uri.authority() {
                let a = a
                    .as_str()
                    .rsplit('@')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let a = a.strip_suffix(":443").map(str::to_string).unwrap_or(a);
                if !a.is_empty() && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    };
    for e in doctor_settings::goproxy_entries(f.goproxy()) {
        push(&e.value);
    }
    if let Some((_, base)) = doctor_settings::sumdb_location(f.gosumdb()) {
        push(&base);
    }
    if let Some(vcs) = &t.vcs {
        push(&format!("https://{vcs}"));
    }
    out
}

// ---------------------------------------------------------------- gathering

fn gather(go: &Path) -> Facts {
    let go_env: HashMap<String, String> = std::process::Command::new(go)
        // As `run` does: a GOTOOLCHAIN naming another release would download it first.
        .env("GOTOOLCHAIN", "local")
        .args(["env", "-json"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or_default();
    let env: HashMap<String, String> = doctor_settings::ENV_VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    let git_all = |key: &str| -> Vec<String> {
        std::process::Command::new("git")
            .args(["config", "--get-all", key])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut http_proxy = git_all("http.proxy");
    http_proxy.extend(git_all("https.proxy"));
    let git = GitFacts {
        http_proxy,
        credential_helpers: git_all("credential.helper"),
        ssl_ca_info: git_all("http.sslCAInfo").pop(),
        ssl_verify_off: git_all("http.sslVerify").last().is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0"
            )
        }),
    };
    let netrc_path = netrc_path(&env);
    let netrc = netrc_path
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| doctor_settings::parse_netrc(&text))
        .unwrap_or_default();
    let mut facts = Facts {
        go_env,
        env,
        git,
        netrc_path: netrc_path.map(|p| p.display().to_string()),
        netrc,
        paths: BTreeMap::new(),
        os: Some(Os::current()),
    };
    facts.paths = doctor_settings::paths_to_check(&facts)
        .into_iter()
        .map(|p| {
            let state = path_state(Path::new(&p));
            (p, state)
        })
        .collect();
    facts
}

/// `$NETRC`, else `~/.netrc` (`_netrc` on Windows), when the file exists.
fn netrc_path(env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(p) = env.get("NETRC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    let name = if cfg!(windows) { "_netrc" } else { ".netrc" };
    Some(PathBuf::from(home).join(name)).filter(|p| p.is_file())
}

fn path_state(p: &Path) -> PathState {
    if p.is_dir() {
        return PathState::Dir;
    }
    // Bundles are a few hundred KiB; a bigger file is read only up to that much.
    let Ok(text) =
        std::fs::read(p).map(|b| String::from_utf8_lossy(&b[..b.len().min(8 << 20)]).into_owned())
    else {
        return PathState::Missing;
    };
    match text.matches("-----BEGIN CERTIFICATE-----").count() {
        0 => PathState::NoCerts,
        n => PathState::Certs(n),
    }
}
