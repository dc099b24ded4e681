//! Output files are durable: `--har-out` is checked at start-up, a HAR that cannot be written
//! at exit is saved elsewhere and said so (under `gomitm run` the summary and the command's
//! exit code still come), a rewritten HAR replaces the old file instead of truncating it, and
//! `--jsonl` appends.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::gomitm::command;
use support::tools::run_with_timeout;

/// A proxy started with `args`; returns the child and its port, with stderr drained into a
/// shared buffer after the first line.
struct Proxy {
    child: Child,
    port: u16,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn start(args: &[&str]) -> Proxy {
    let mut child = command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let port = first
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
        sink.lock().unwrap().push_str(&rest);
    });
    Proxy {
        child,
        port,
        stderr,
    }
}

impl Proxy {
    /// One absolute-form request to a name `--resolve` sends to a closed port: a flow that
    /// fails at once, without leaving the machine.
    fn one_flow(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(
            b"GET http://down.test/x HTTP/1.1\r\nHost: down.test\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 502"), "{reply}");
    }

    /// SIGTERM, then the exit code and everything gomitm wrote to stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        // SAFETY: kill(2) on the PID of the child this test spawned.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "gomitm did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        let err = self.stderr.lock().unwrap().clone();
        (status.code(), err)
    }
}

/// `gomitm proxy` on a free port with its CA in `ca`, the HAR at `har`, `down.test` sent to a
/// closed port, then `extra`.
fn proxy_args<'a>(ca: &'a Path, har: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--ca-dir",
        ca.to_str().unwrap(),
        "--har-out",
        har.to_str().unwrap(),
        "--resolve",
        "down.test=127.0.0.1:1",
        "-q",
    ];
    args.extend_from_slice(extra);
    args
}

fn har_entries(path: &Path) -> Vec<Value> {
    let har: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    har["log"]["entries"].as_array().unwrap().clone()
}

#[test]
fn a_har_out_that_cannot_be_written_stops_gomitm_before_it_listens() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let cases = [
        tmp.path().join("missing-dir").join("out.har"),
        tmp.path().to_path_buf(), // a directory
    ];
    for har in cases {
        let out = run_with_timeout(
            command(&[
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--ca-dir",
                ca.to_str().unwrap(),
                "--har-out",
                har.to_str().unwrap(),
            ])
            .stdout(Stdio::null()),
            Duration::from_secs(30),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(!err.contains("listening on"), "it listened first:\n{err}");
        assert!(
            err.contains(&format!("cannot write --har-out file {}", har.display())),
            "{err}"
        );
    }
}

#[test]
fn a_har_that_fails_at_exit_is_saved_elsewhere_and_the_exit_code_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let har = out_dir.join("capture.har");
    let proxy = start(&proxy_args(&ca, &har, &[]));
    proxy.one_flow();
    // The directory disappears under gomitm (a full disk, an unmounted share would do too).
    std::fs::remove_dir_all(&out_dir).unwrap();
    std::fs::write(&out_dir, "not a directory").unwrap();
    let (code, err) = proxy.stop();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot write HAR file {}", har.display())),
        "{err}"
    );
    let saved = err
        .lines()
        .find_map(|l| l.strip_prefix("gomitm: saved the 1 flows to "))
        .and_then(|l| l.strip_suffix(" instead"))
        .unwrap_or_else(|| panic!("no fallback named:\n{err}"));
    assert!(Path::new(saved).starts_with(&ca), "{saved}");
    let entries = har_entries(Path::new(saved));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["request"]["url"], "http://down.test/x");
}

#[test]
fn under_run_a_lost_har_still_prints_the_summary_and_keeps_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let har = out_dir.join("capture.har");
    let script = "rm -rf \"$1\" && echo x > \"$1\"; exit 3";
    let out = run_with_timeout(
        command(&[
            "run",
            "--ca-dir",
            ca.to_str().unwrap(),
            "--har-out",
            har.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
            "sh",
            out_dir.to_str().unwrap(),
        ])
        .stdout(Stdio::null()),
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot write HAR file"), "{err}");
    assert!(err.contains("gomitm: saved the 0 flows to "), "{err}");
    assert!(err.contains("gomitm: 0 requests"), "no summary:\n{err}");
}

#[test]
fn a_rewritten_har_replaces_the_old_file_and_jsonl_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let har = tmp.path().join("capture.har");
    let jsonl = tmp.path().join("flows.jsonl");
    std::fs::write(&har, "the older capture").unwrap();
    std::fs::write(&jsonl, "{\"earlier\":true}\n").unwrap();
    let held = std::fs::File::open(&har).unwrap();
    let proxy = start(&proxy_args(
        &ca,
        &har,
        &["--jsonl", jsonl.to_str().unwrap()],
    ));
    proxy.one_flow();
    let (code, err) = proxy.stop();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(har_entries(&har).len(), 1);
    // The old file was replaced, not truncated and rewritten in place.
    let mut old = String::new();
    (&held).read_to_string(&mut old).unwrap();
    assert_eq!(old, "the older capture");
    let lines: Vec<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "{\"earlier\":true}");
    let flow: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(flow["request"]["url"], "http://down.test/x");
}

/// The HAR and the `--jsonl` file hold traffic: gomitm creates them for their owner alone
/// (0600), whatever the umask lets through. The one flow (a refused connection) shows what
/// other HAR tools need of a failed entry: `content.text` present, its elapsed time in
/// `connect`, and `time` the sum of the phases.
#[test]
fn har_and_jsonl_are_created_0600_and_a_failed_entry_keeps_its_time() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let har = tmp.path().join("capture.har");
    let jsonl = tmp.path().join("flows.jsonl");
    let proxy = start(&proxy_args(
        &ca,
        &har,
        &["--jsonl", jsonl.to_str().unwrap()],
    ));
    proxy.one_flow();
    let (code, err) = proxy.stop();
    assert_eq!(code, Some(0), "{err}");
    for file in [&har, &jsonl] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", file.display());
    }
    let entries = har_entries(&har);
    let e = &entries[0];
    assert_eq!(e["_error"]["class"], "connect", "{e}");
    assert_eq!(e["response"]["content"]["text"], "", "{e}");
    let t = &e["timings"];
    let connect = t["connect"].as_f64().unwrap();
    assert!(
        connect >= 0.0,
        "the failed connect's time is in connect: {t}"
    );
    let sum: f64 = ["blocked", "dns", "connect", "send", "wait", "receive"]
        .iter()
        .map(|k| t[*k].as_f64().unwrap())
        .filter(|v| *v >= 0.0)
        .sum();
    let time = e["time"].as_f64().unwrap();
    assert!((time - sum).abs() < 0.01, "time {time} != sum {sum}: {t}");
    assert!(time > 0.0, "the elapsed time is kept: {e}");
}
