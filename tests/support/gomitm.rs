//! Runs the real gomitm binary on 127.0.0.1:0 with a fresh CA, and reads what it recorded
//! (the JSON-lines stream of finished flows, and the HAR written on SIGTERM).
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::fixture::Fixture;

pub struct Gomitm {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Gomitm {
    /// Start `gomitm proxy` with `extra` arguments; CA, HAR and JSONL live in a temp dir.
    pub fn start(extra: &[String]) -> Gomitm {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, extra)
    }

    pub fn start_in(dir: tempfile::TempDir, extra: &[String]) -> Gomitm {
        Self::start_custom(dir, "127.0.0.1:0", extra, |_| {})
    }

    /// Like `start_in`, listening on `listen` (a fixed port, for tests that must name it).
    pub fn start_on(dir: tempfile::TempDir, listen: &str, extra: &[String]) -> Gomitm {
        Self::start_custom(dir, listen, extra, |_| {})
    }

    /// Like `start_on`, with extra environment variables for gomitm (e.g. `GOMITM_LOG`).
    pub fn start_on_with_env(
        dir: tempfile::TempDir,
        listen: &str,
        extra: &[String],
        env: &[(&str, &str)],
    ) -> Gomitm {
        Self::start_custom(dir, listen, extra, |cmd| {
            cmd.envs(env.iter().copied());
        })
    }

    /// Like `start`, with environment variables for gomitm and, when `nofile` is given, the
    /// soft limit on open files it starts with (the hard limit is left alone).
    pub fn start_with_env(extra: &[String], env: &[(&str, &str)], nofile: Option<u64>) -> Gomitm {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_custom(dir, "127.0.0.1:0", extra, |cmd| {
            for (k, v) in env {
                cmd.env(k, v);
            }
            if let Some(soft) = nofile {
                use std::os::unix::process::CommandExt;
                // SAFETY: getrlimit/setrlimit are async-signal-safe; nothing else runs here.
                unsafe {
                    cmd.pre_exec(move || {
                        let mut lim = libc::rlimit {
                            rlim_cur: 0,
                            rlim_max: 0,
                        };
                        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
                        lim.rlim_cur = soft.min(lim.rlim_max);
                        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
            }
        })
    }

    fn start_custom(
        dir: tempfile::TempDir,
        listen: &str,
        extra: &[String],
        adjust: impl FnOnce(&mut Command),
    ) -> Gomitm {
        let mut cmd = Command::new(binary());
        adjust(&mut cmd);
        cmd.args(proxy_args_on(dir.path(), listen, extra))
            .arg("--jsonl")
            .arg(dir.path().join("flows.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn gomitm");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            let mut first = true;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if first {
                    let _ = tx.send(line.clone());
                    first = false;
                }
                sink.lock().unwrap().push(line);
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("gomitm printed no first line within 30 s");
        let addr = first
            .strip_prefix("gomitm: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .parse()
            .expect("listening address");
        Gomitm {
            child: Some(child),
            addr,
            dir,
            stderr: lines,
        }
    }

    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("running")
    }

    /// The gomitm CA certificate (what a client must trust).
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca").join("gomitm-ca.pem")
    }

    pub fn har_path(&self) -> PathBuf {
        self.dir.path().join("out.har")
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Finished flows so far, as gomitm wrote them (`--jsonl`).
    pub fn flows(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("flows.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait until some finished flow satisfies `pred`; panics with what was seen on timeout.
    pub fn wait_for_flow(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(f) = self.flows().into_iter().find(|f| pred(f)) {
                return f;
            }
            if Instant::now() > deadline {
                panic!(
                    "no flow {what} within 20 s; flows: {:#?}\nstderr: {:#?}",
                    self.flows().iter().map(summary).collect::<Vec<_>>(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Open file descriptors of the gomitm process right now.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// The "Max open files" soft and hard limits of the gomitm process.
    pub fn nofile_limits(&self) -> (String, String) {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.pid())).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("Max open files line");
        let mut values = line["Max open files".len()..].split_whitespace();
        (
            values.next().unwrap().to_string(),
            values.next().unwrap().to_string(),
        )
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Wait until some stderr line contains `needle`; panics with the stderr on timeout.
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.stderr().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            if Instant::now() > deadline {
                panic!("no stderr line with {needle:?}: {:#?}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident set size of the gomitm process so far, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        super::tools::vm_hwm_kib(self.pid()).unwrap_or(0)
    }

    /// SIGTERM, wait for exit, and return the HAR it wrote.
    pub fn stop(&mut self) -> Value {
        let mut child = self.child.take().expect("running");
        // SAFETY: plain kill(2) on the PID of the child this harness spawned.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("gomitm did not exit within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "gomitm exited with {status}; stderr: {:#?}",
            self.stderr()
        );
        let text = std::fs::read_to_string(self.har_path()).expect("HAR written on exit");
        // For checking HARs with outside validators: GOMITM_KEEP_HAR=dir keeps a copy.
        if let Some(dir) = std::env::var_os("GOMITM_KEEP_HAR") {
            let name = format!("gomitm-{}-{}.har", std::process::id(), self.addr.port());
            let _ = std::fs::write(PathBuf::from(dir).join(name), &text);
        }
        serde_json::from_str(&text).expect("HAR is JSON")
    }
}

impl Drop for Gomitm {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The gomitm binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_gomitm")
}

/// A command for the gomitm binary with `args`, for a test that runs it once and reads what
/// it printed (with `tools::run_with_timeout`); the caller adds environment and more arguments.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(args);
    cmd
}

/// gomitm in front of the fixture: see [`fixture_args`].
pub fn gomitm_for(fx: &Fixture, hosts: &[&str], extra: &[String]) -> Gomitm {
    Gomitm::start(&fixture_args(fx, hosts, extra))
}

/// `proxy` options that put the fixture behind each of `hosts`: `NAME` (or `NAME:443`) is
/// `--resolve`d to the fixture's TLS port, `NAME:80` to its plain-HTTP port; the fixture's CA
/// is trusted upstream (`--extra-root`); then `extra`.
pub fn fixture_args(fx: &Fixture, hosts: &[&str], extra: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    for host in hosts {
        let resolve = match host.rsplit_once(':') {
            None => format!("{host}:443={}", fx.addr),
            Some((_, "443")) => format!("{host}={}", fx.addr),
            Some((_, "80")) => format!("{host}={}", fx.http_addr),
            Some(_) => panic!("{host}: the fixture listens for :443 (TLS) and :80 (plain) only"),
        };
        args.extend(["--resolve".to_string(), resolve]);
    }
    args.extend(path_arg("--extra-root", &fx.ca_pem));
    args.extend(extra.iter().cloned());
    args
}

/// `&str`s as the `String`s that [`Gomitm::start`] and [`gomitm_for`] take.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// gomitm still answers a normal request on a fresh connection, and records it: for a proxy
/// whose `plain.test:80` is the fixture (see [`fixture_args`]).
pub fn assert_still_serves(proxy: &Gomitm) {
    let reply = super::client::get(proxy.addr, "http://plain.test/status/202");
    assert_eq!(reply.status, 202, "{}", reply.text());
    proxy.wait_for_flow("for the follow-up request", |f| {
        url_of(f) == "http://plain.test/status/202" && f["response"]["status"] == 202
    });
}

/// `proxy` arguments with a free loopback port, the CA in `dir/ca` and the HAR written to
/// `dir/out.har` on exit, then `extra`: for starting gomitm some other way (in tmux).
pub fn proxy_args(dir: &Path, extra: &[String]) -> Vec<String> {
    proxy_args_on(dir, "127.0.0.1:0", extra)
}

/// Like `proxy_args`, listening on `listen`.
pub fn proxy_args_on(dir: &Path, listen: &str, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["proxy", "--listen", listen, "--ca-dir"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(dir.join("ca").display().to_string());
    args.push("--har-out".into());
    args.push(dir.join("out.har").display().to_string());
    args.extend(extra.iter().cloned());
    args
}

/// `#id METHOD url status error` for panic messages.
pub fn summary(f: &Value) -> String {
    format!(
        "#{} {} {} {} {}",
        f["id"],
        f["request"]["method"].as_str().unwrap_or(""),
        f["request"]["url"].as_str().unwrap_or(""),
        f["response"]["status"],
        f["error"]
    )
}

pub fn url_of(f: &Value) -> &str {
    f["request"]["url"].as_str().unwrap_or("")
}

pub fn error_class(f: &Value) -> &str {
    f["error"]["class"].as_str().unwrap_or("")
}

/// `--resolve HOST:443=ADDR` arguments for each host.
pub fn resolve_args(hosts: &[&str], addr: SocketAddr) -> Vec<String> {
    hosts
        .iter()
        .flat_map(|h| ["--resolve".to_string(), format!("{h}:443={addr}")])
        .collect()
}

pub fn path_arg(flag: &str, p: &Path) -> Vec<String> {
    vec![flag.to_string(), p.display().to_string()]
}

/// A temp dir for one go command: `work/` (the working directory [`go_through`] uses) holding
/// `go_mod` as its go.mod; caches go next to `work/`.
pub fn workspace(go_mod: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(tmp.path().join("work")).expect("work dir");
    std::fs::write(tmp.path().join("work/go.mod"), go_mod).expect("go.mod");
    tmp
}

/// Exit status, stdout and stderr of a finished command, for assertion messages.
pub fn output_text(out: &std::process::Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run go through `proxy`: HTTPS_PROXY/HTTP_PROXY set, trusting `ca` (SSL_CERT_FILE and
/// GIT_SSL_CAINFO), hermetic caches under `tmp`, working dir `tmp/work`; `env` last.
pub fn go_through(
    go: &Path,
    proxy: &Gomitm,
    ca: &Path,
    tmp: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    go_through_url(go, &proxy.proxy_url(), ca, tmp, env, args)
}

/// [`go_through`] for a gomitm this harness did not start (its proxy URL).
pub fn go_through_url(
    go: &Path,
    proxy_url: &str,
    ca: &Path,
    tmp: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(go);
    cmd.args(args).current_dir(tmp.join("work"));
    super::tools::clean_go_env(&mut cmd, tmp);
    cmd.env("HTTPS_PROXY", proxy_url)
        .env("HTTP_PROXY", proxy_url)
        .env("SSL_CERT_FILE", ca)
        .env("GIT_SSL_CAINFO", ca);
    for (k, v) in env {
        cmd.env(k, v);
    }
    super::tools::run_with_timeout(&mut cmd, Duration::from_secs(180))
}
