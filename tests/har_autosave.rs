//! `--har-out` is kept current while gomitm runs: after `kill -9` (no chance to write on exit)
//! the file is a whole HAR with the flows of every interval that passed.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::client;
use support::fixture::Fixture;
use support::gomitm::{gomitm_for, url_of};

#[test]
fn sigkill_loses_at_most_the_last_interval() {
    let fx = Fixture::start();
    let mut proxy = gomitm_for(
        &fx,
        &["plain.test:80"],
        &["--har-autosave".into(), "1".into()],
    );
    let urls: Vec<String> = (200..210)
        .map(|code| format!("http://plain.test/status/{code}"))
        .collect();
    for url in &urls {
        let reply = client::get(proxy.addr, url);
        assert!(reply.status >= 200, "{url}: {}", reply.text());
    }
    let last = urls.last().unwrap().clone();
    proxy.wait_for_flow("the last request", |f| url_of(f) == last);
    // Past the interval (1 s) with room for a loaded machine: the file must have caught up.
    let har_path = proxy.har_path();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut waited_past_interval = false;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let entries = std::fs::read_to_string(&har_path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["log"]["entries"].as_array().map(Vec::len))
            .unwrap_or(0);
        if entries >= urls.len() && waited_past_interval {
            break;
        }
        waited_past_interval = true;
        assert!(
            Instant::now() < deadline,
            "the HAR never caught up: {entries} entries"
        );
    }
    // SIGKILL by PID: gomitm gets no chance to write anything more.
    let pid = proxy.pid();
    // SAFETY: kill(2) on the PID of the child this test started.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill -9 {pid}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!proxy.is_running(), "gomitm survived kill -9");

    let text = std::fs::read_to_string(&har_path).expect("the HAR is on disk");
    let har: serde_json::Value = serde_json::from_str(&text).expect("the HAR parses after kill -9");
    let entries = har["log"]["entries"].as_array().expect("log.entries");
    for url in &urls {
        let code: u64 = url.rsplit('/').next().unwrap().parse().unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e["request"]["url"] == url.as_str() && e["response"]["status"] == code),
            "{url} is missing from the autosaved HAR"
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(har_path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.har."))
        .collect();
    // A write cut by the kill could leave one; the wait above ends after a finished write.
    assert!(
        leftovers.is_empty(),
        "temporary files beside it: {leftovers:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&har_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "traffic files are private");
    }
}

#[test]
fn no_autosave_with_zero_writes_on_exit_only() {
    let fx = Fixture::start();
    let mut proxy = gomitm_for(
        &fx,
        &["plain.test:80"],
        &["--har-autosave".into(), "0".into()],
    );
    let url = "http://plain.test/status/204";
    client::get(proxy.addr, url);
    proxy.wait_for_flow("the request", |f| url_of(f) == url);
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !proxy.har_path().exists(),
        "written while running with --har-autosave 0"
    );
    let har = proxy.stop();
    assert!(har["log"]["entries"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
}
