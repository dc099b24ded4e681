//! gomitm on real traffic: `gomitm run` in front of the real go command and the machine's own
//! GOPROXY and GOSUMDB (a trailing `direct` becomes `off`, so no VCS host is ever contacted).
//!
//! 1. a real module graph (gin v1.9.1: 53 modules) downloaded into a fresh GOMODCACHE;
//! 2. a toolchain download (`GOTOOLCHAIN=go1.27.3 go version`) with gomitm's peak RSS bounded;
//! 3. a real failure: GOPROXY=direct for a name under `.invalid`, which fails in DNS.
//!
//! Once per test binary a probe (curl, 5 s) asks the module proxy for a small list. When it
//! cannot be reached, every test prints one loud line and passes: a network outage must
//! never fail or hang CI. Downloads are bounded: one fresh download per test and Go version.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::gomitm::command;
use support::tools::{clean_go_env, go_binaries, go_current, go_release, go_version, in_ci};

const GO_MOD: &str = include_str!("data/realworld/go.mod");
/// The toolchain test 2 switches to (76 MB from the module proxy).
const TOOLCHAIN: &str = "go1.27.3";
const RUN_TIMEOUT: Duration = Duration::from_secs(600);
const RSS_LIMIT_KIB: u64 = 64 * 1024;

/// The machine's module proxy set-up, as the tests use it.
struct Net {
    /// GOPROXY with a trailing `direct` replaced by `off`.
    goproxy: String,
    gosumdb: String,
    /// Host of GOPROXY's first URL: every module must be served from it.
    proxy_host: String,
}

/// The probe, once per test binary; `None` (after one loud line) when the proxy is unreachable.
fn network() -> Option<&'static Net> {
    static NET: OnceLock<Option<Net>> = OnceLock::new();
    NET.get_or_init(probe).as_ref()
}

fn probe() -> Option<Net> {
    let go = go_current().or_else(|| go_binaries().into_iter().next())?;
    let read = |var: &str| {
        let out = Command::new(&go)
            .args(["env", var])
            .env("GOTOOLCHAIN", "local")
            .output()
            .expect("go env");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let goproxy = without_trailing_direct(&read("GOPROXY"));
    let gosumdb = read("GOSUMDB");
    let Some(first) = goproxy
        .split([',', '|'])
        .map(str::trim)
        .find(|e| e.starts_with("https://") || e.starts_with("http://"))
    else {
        skip_loudly(&goproxy, "GOPROXY names no module proxy URL");
        return None;
    };
    let url = format!("{}/golang.org/x/mod/@v/list", first.trim_end_matches('/'));
    let curl = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-m",
            "5",
            "-w",
            "%{http_code}",
            &url,
        ])
        .output();
    let why = match curl {
        Err(e) if in_ci() => panic!("CI=true and curl cannot run for the network probe: {e}"),
        Err(e) => format!("curl cannot run: {e}"),
        Ok(o) if String::from_utf8_lossy(&o.stdout) == "200" => String::new(),
        Ok(o) => format!(
            "curl exit {:?}, HTTP status {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout)
        ),
    };
    if !why.is_empty() {
        skip_loudly(first, &why);
        return None;
    }
    let proxy_host = first
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':']).next())
        .unwrap_or_default()
        .to_string();
    Some(Net {
        goproxy,
        gosumdb,
        proxy_host,
    })
}

fn skip_loudly(url: &str, why: &str) {
    eprintln!("REAL-WORLD TESTS SKIPPED: the Go module proxy {url} is unreachable ({why})");
}

/// `https://proxy.golang.org,direct` → `https://proxy.golang.org,off`: tests reach no VCS host.
fn without_trailing_direct(goproxy: &str) -> String {
    let trimmed = goproxy.trim();
    match trimmed.strip_suffix("direct") {
        Some(rest) if rest.is_empty() || rest.ends_with([',', '|']) => format!("{rest}off"),
        _ => trimmed.to_string(),
    }
}

/// One `gomitm run` and what it left.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    flows: Vec<Value>,
    peak_rss_kib: u64,
    wall: Duration,
}

impl Run {
    fn dump(&self) -> String {
        format!(
            "exit {:?}\n--- stdout (first 2000 bytes):\n{}\n--- stderr:\n{}",
            self.code,
            &self.stdout[..self.stdout.len().min(2000)],
            self.stderr
        )
    }

    /// gomitm's summary: stderr from the totals line on.
    fn summary(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let start = lines
            .iter()
            .rposition(|l| l.starts_with("gomitm: ") && l.contains(" request"))
            .unwrap_or_else(|| panic!("no summary\n{}", self.dump()));
        lines[start..].join("\n")
    }
}

/// `gomitm run -- go ARGS` in `tmp/work` with a hermetic go environment (fresh caches under
/// `tmp`), the machine's module proxy and checksum database, and `env` on top.
fn gomitm_run(go: &Path, net: &Net, tmp: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = command(&["run", "--ca-dir"]);
    cmd.arg(tmp.join("ca"))
        .arg("--jsonl")
        .arg(tmp.join("flows.jsonl"))
        .arg("--")
        .arg(go)
        .args(args)
        .current_dir(tmp.join("work"));
    clean_go_env(&mut cmd, tmp);
    cmd.env_remove("GOMITM_CA_DIR")
        .env("GOPROXY", &net.goproxy)
        .env("GOSUMDB", &net.gosumdb);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let (code, stdout, stderr, peak_rss_kib) =
        support::tools::run_watching_rss(&mut cmd, RUN_TIMEOUT);
    let wall = started.elapsed();
    let flows = std::fs::read_to_string(tmp.join("flows.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        code,
        stdout,
        stderr,
        flows,
        peak_rss_kib,
        wall,
    }
}

fn fresh_dir(go_mod: &str) -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix("gomitm-real-")
        .tempdir()
        .expect("temp dir");
    std::fs::create_dir(tmp.path().join("work")).unwrap();
    std::fs::write(tmp.path().join("work/go.mod"), go_mod).unwrap();
    tmp
}

/// The module cache is read-only; tempfile could not remove it.
fn remove_modcache(tmp: &Path) {
    let _ = Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(tmp.join("modcache"))
        .status();
}

fn url_of(f: &Value) -> &str {
    f["request"]["url"].as_str().unwrap_or("")
}

fn module_at(f: &Value) -> String {
    format!(
        "{}@{}",
        f["go"]["module"].as_str().unwrap_or(""),
        f["go"]["version"].as_str().unwrap_or("")
    )
}

/// `go mod download -json` prints a stream of objects.
fn json_stream(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

/// Where the machine's Mozilla roots are (Debian's ca-certificates), when known.
const MOZILLA_ROOTS: &str = "/usr/share/ca-certificates/mozilla";

/// The certificate summary is recorded; its verdict on the root agrees with the machine's
/// own list of Mozilla roots (a root installed by hand, such as a TLS-inspection CA, is not).
fn check_server_cert(version: &str, f: &Value) {
    let cert = &f["connection"]["server_cert"];
    assert!(
        cert["issuer"].as_str().is_some_and(|s| !s.is_empty()),
        "{version}: no certificate summary on {}: {f}",
        url_of(f)
    );
    let root = cert["root"].as_str().unwrap_or_default();
    if Path::new(MOZILLA_ROOTS).is_dir() {
        let file = format!("{}.crt", root.replace(' ', "_"));
        let public = Path::new(MOZILLA_ROOTS).join(file).exists();
        assert_eq!(
            cert["public_root"].as_bool(),
            Some(public),
            "{version}: {root} is {}a Mozilla root here: {cert}",
            if public { "" } else { "not " }
        );
    }
    if cert["public_root"] == false {
        // Once per run is enough.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "{version}: note: {} is re-signed by {root} (issuer {}), not a public root: \
                 TLS inspection on this machine",
                f["connection"]["client_sni"], cert["issuer"]
            )
        });
    }
}

fn assert_no_warnings(version: &str, run: &Run) {
    let summary = run.summary();
    let first = summary.lines().next().unwrap_or_default();
    assert!(
        first.contains(" 0 failed"),
        "{version}: {first}\n{}",
        run.dump()
    );
    for line in run.stderr.lines() {
        let l = line.trim_start().to_ascii_lowercase();
        assert!(
            !(l.starts_with("gomitm: warning")
                || l.starts_with("gomitm: error")
                || l.starts_with("warning")
                || l.starts_with("failures (")
                || l.starts_with("warnings (")),
            "{version}: {line:?}\n{}",
            run.dump()
        );
    }
}

// ---------------------------------------------------------------- 1. a real module graph

#[test]
fn a_real_module_graph_downloads_through_gomitm_and_is_fully_accounted_for() {
    let Some(net) = network() else { return };
    for go in go_binaries() {
        let version = go_version(&go);
        let tmp = fresh_dir(GO_MOD);
        let run = gomitm_run(&go, net, tmp.path(), &[], &["mod", "download", "-json"]);
        remove_modcache(tmp.path());
        assert_eq!(run.code, Some(0), "{version}: {}", run.dump());
        let downloaded = json_stream(&run.stdout);
        assert!(downloaded.len() >= 20, "{version}: {}", run.dump());
        for m in &downloaded {
            assert!(m["Error"].is_null(), "{version}: {m}");
            check_hashes(&version, &run, m);
        }
        assert!(
            run.stderr
                .contains("gomitm: ok: `go mod download -json` exited with status 0"),
            "{version}: the verdict does not say the command succeeded\n{}",
            run.dump()
        );
        check_flows(&version, net, &run);
        check_summary(&version, net, &run, &downloaded);
        eprintln!(
            "{version}: {} modules downloaded, {} requests, {} in {:.1?}",
            downloaded.len(),
            run.flows.len(),
            run.summary().lines().next().unwrap_or_default(),
            run.wall
        );
    }
}

/// The h1: hashes gomitm computed as the bodies streamed agree with what go wrote (`Sum` and
/// `GoModSum` of `go mod download -json`, which are go.sum's lines), and the summary says the
/// module's hash matched the checksum database records it saw.
fn check_hashes(version: &str, run: &Run, m: &Value) {
    let at = format!(
        "{}@{}",
        m["Path"].as_str().unwrap_or(""),
        m["Version"].as_str().unwrap_or("")
    );
    for (kind, field) in [("zip", "Sum"), ("mod", "GoModSum")] {
        let Some(want) = m[field].as_str() else {
            continue;
        };
        let Some(f) = run
            .flows
            .iter()
            .find(|f| f["go"]["kind"] == kind && module_at(f) == at)
        else {
            continue; // go had it from the cache of an earlier step of the same run
        };
        assert_eq!(
            f["go"]["hash"]["h1"].as_str(),
            Some(want),
            "{version}: gomitm's h1 of {at} {kind} differs from go's {field}: {}",
            f["go"]["hash"]
        );
    }
    if m["Sum"].is_string() {
        let summary = run.summary();
        let line = summary
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == at))
            .unwrap_or_default();
        assert!(
            line.contains("h1 ok (checksum database"),
            "{version}: {at}: {line:?}"
        );
    }
}

/// Every request decrypted (a response), classified as module proxy or checksum database
/// traffic, answered 200, carrying the certificate summary.
fn check_flows(version: &str, net: &Net, run: &Run) {
    const KINDS: &[&str] = &[
        "list",
        "latest",
        "info",
        "mod",
        "zip",
        "sumdb_supported",
        "sumdb_lookup",
        "sumdb_tile",
    ];
    assert!(
        run.flows.len() >= 100,
        "{version}: {} flows",
        run.flows.len()
    );
    for f in &run.flows {
        let kind = f["go"]["kind"].as_str().unwrap_or("unclassified");
        assert!(KINDS.contains(&kind), "{version}: {kind}: {}", url_of(f));
        assert_eq!(f["response"]["status"], 200, "{version}: {f}");
        assert!(f["error"].is_null(), "{version}: {f}");
        assert!(
            url_of(f).starts_with(&format!("https://{}/", net.proxy_host)),
            "{version}: {}",
            url_of(f)
        );
        check_server_cert(version, f);
    }
    for kind in ["mod", "zip", "sumdb_lookup", "sumdb_tile"] {
        assert!(
            run.flows.iter().any(|f| f["go"]["kind"] == kind),
            "{version}: no {kind} request"
        );
    }
}

/// The summary names every module whose .mod or .zip go fetched (and every module go
/// reported), each served by the module proxy; ≥ 50 modules; no failure, no warning.
fn check_summary(version: &str, net: &Net, run: &Run, downloaded: &[Value]) {
    let summary = run.summary();
    assert_no_warnings(version, run);
    let fetched: BTreeSet<String> = run
        .flows
        .iter()
        .filter(|f| f["go"]["kind"] == "mod" || f["go"]["kind"] == "zip")
        .map(module_at)
        .chain(downloaded.iter().map(|m| {
            format!(
                "{}@{}",
                m["Path"].as_str().unwrap_or(""),
                m["Version"].as_str().unwrap_or("")
            )
        }))
        .filter(|m| !m.starts_with("example.test/realworld@"))
        .collect();
    assert!(
        fetched.len() >= 50,
        "{version}: only {} modules: {fetched:?}",
        fetched.len()
    );
    for m in &fetched {
        let line = summary
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == m))
            .unwrap_or_else(|| panic!("{version}: the summary does not name {m}\n{summary}"));
        assert!(
            line.contains("served by") && line.contains(&net.proxy_host),
            "{version}: {line:?}"
        );
    }
}

// ---------------------------------------------------------------- 2. a toolchain download

#[test]
fn a_toolchain_download_arrives_intact_with_gomitms_memory_bounded() {
    let Some(net) = network() else { return };
    for go in go_binaries() {
        let version = go_version(&go);
        // GOTOOLCHAIN switching exists from go1.21; a go at or past the target never switches.
        let fits = go_release(&go).is_some_and(|r| ((1, 21, 0)..(1, 27, 3)).contains(&r));
        if !fits {
            eprintln!(
                "{version}: skipped: the toolchain test needs a go from 1.21 up that is older \
                 than {TOOLCHAIN} (the preinstalled one)"
            );
            continue;
        }
        let tmp = fresh_dir("module example.test/toolchain\n\ngo 1.19\n");
        let run = gomitm_run(
            &go,
            net,
            tmp.path(),
            &[("GOTOOLCHAIN", TOOLCHAIN)],
            &["version"],
        );
        remove_modcache(tmp.path());
        assert_eq!(run.code, Some(0), "{version}: {}", run.dump());
        assert!(
            run.stdout.contains(&format!("go version {TOOLCHAIN} ")),
            "{}",
            run.dump()
        );
        let zip = run
            .flows
            .iter()
            .find(|f| f["go"]["kind"] == "zip" && f["go"]["toolchain"] == true)
            .unwrap_or_else(|| panic!("{version}: no toolchain zip flow\n{}", run.dump()));
        assert!(
            url_of(zip).contains(&format!("/golang.org/toolchain/@v/v0.0.1-{TOOLCHAIN}.")),
            "{}",
            url_of(zip)
        );
        assert_eq!(zip["response"]["status"], 200);
        let body = &zip["response"]["body"];
        let length: u64 = zip["response"]["headers"]
            .as_array()
            .and_then(|h| {
                h.iter().find(|kv| {
                    kv[0]
                        .as_str()
                        .is_some_and(|k| k.eq_ignore_ascii_case("content-length"))
                })
            })
            .and_then(|kv| kv[1].as_str()?.parse().ok())
            .unwrap_or(0);
        let total = body["total"].as_u64().unwrap_or(0);
        assert!(
            total > 10 << 20,
            "{version}: the toolchain is {total} bytes"
        );
        assert!(
            body["complete"] == true && (length == 0 || length == total),
            "{body} vs {length}"
        );
        assert_no_warnings(&version, &run);
        assert!(
            run.peak_rss_kib > 0 && run.peak_rss_kib < RSS_LIMIT_KIB,
            "{version}: gomitm's peak RSS was {} KiB",
            run.peak_rss_kib
        );
        eprintln!(
            "{version}: toolchain {} bytes through gomitm in {:.1?}, gomitm peak RSS {} KiB",
            total, run.wall, run.peak_rss_kib
        );
    }
}

// ---------------------------------------------------------------- 3. a real failure

#[test]
fn a_name_that_does_not_resolve_is_recorded_as_a_dns_failure_with_its_fix() {
    let Some(net) = network() else { return };
    let module = "gomitm-realworld.invalid/mod";
    for go in go_binaries() {
        let version = go_version(&go);
        let tmp = fresh_dir("module example.test/failure\n\ngo 1.19\n");
        let direct = Net {
            goproxy: "direct".into(),
            gosumdb: net.gosumdb.clone(),
            proxy_host: String::new(),
        };
        let arg = format!("{module}@v1.0.0");
        let run = gomitm_run(&go, &direct, tmp.path(), &[], &["mod", "download", &arg]);
        remove_modcache(tmp.path());
        assert_ne!(run.code, Some(0), "{version}: {}", run.dump());
        assert!(
            !run.flows.is_empty(),
            "{version}: nothing recorded\n{}",
            run.dump()
        );
        for f in &run.flows {
            assert!(url_of(f).contains(".invalid/"), "{version}: {}", url_of(f));
            assert_eq!(f["error"]["class"], "dns", "{version}: {f}");
            assert!(
                f["connection"]["server_addr"].is_null(),
                "{version}: a connection left the machine: {f}"
            );
        }
        let summary = run.summary();
        let lower = summary.to_ascii_lowercase();
        assert!(
            lower.contains("gomitm-realworld.invalid") && lower.contains("does not resolve"),
            "{version}: the cause is not named\n{summary}"
        );
        assert!(lower.contains("fix:"), "{version}: no fix\n{summary}");
        if !summary.contains("GOPROXY") {
            eprintln!("{version}: note: the fix does not suggest a GOPROXY that can reach it");
        }
    }
}

#[test]
fn a_trailing_direct_becomes_off() {
    assert_eq!(
        without_trailing_direct("https://proxy.golang.org,direct"),
        "https://proxy.golang.org,off"
    );
    assert_eq!(without_trailing_direct("https://a|direct"), "https://a|off");
    assert_eq!(without_trailing_direct("direct"), "off");
    assert_eq!(
        without_trailing_direct("https://a.test/direct"),
        "https://a.test/direct"
    );
    assert_eq!(without_trailing_direct("https://a,off"), "https://a,off");
}
