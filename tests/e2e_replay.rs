//! `gomitm replay FILE.har` end to end: a real `go mod download` (and one request carrying an
//! Authorization header) recorded through gomitm against the TLS fixture, the redacted HAR
//! replayed by the real binary, the comparison read back; and the same HAR replayed through a
//! running gomitm (`--proxy`), whose flows say which recorded flow they repeat.
//!
//! With CI=true a missing go fails the test instead of skipping it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::client;
use support::fixture::Fixture;
use support::gomitm::{command, go_through, gomitm_for, output_text, path_arg, workspace};
use support::run::root_go_mod;
use support::tools::go_current;

fn entries(har: &Value) -> Vec<Value> {
    har["log"]["entries"]
        .as_array()
        .expect("log.entries")
        .clone()
}

/// `#id` of the entry whose URL ends with `suffix`.
fn id_of(har: &Value, suffix: &str) -> u64 {
    entries(har)
        .iter()
        .find(|e| e["request"]["url"].as_str().unwrap_or("").ends_with(suffix))
        .and_then(|e| e["_gomitm"]["id"].as_u64())
        .unwrap_or_else(|| panic!("no entry for {suffix}"))
}

#[test]
fn a_recorded_har_replays_with_the_same_statuses_and_redacted_headers_come_from_the_flag() {
    let Some(go) = go_current() else { return };
    let fx = Fixture::start();
    let mut proxy = gomitm_for(&fx, &["goproxy.test"], &[]);
    let tmp = workspace(&root_go_mod());
    let out = go_through(
        &go,
        &proxy,
        &proxy.ca_pem(),
        tmp.path(),
        &[("GOPROXY", "https://goproxy.test")],
        &["mod", "download"],
    );
    assert!(
        out.status.success(),
        "go mod download: {}",
        output_text(&out)
    );
    let mut conn = client::tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem());
    let reply = conn.request(
        "GET /status/418 HTTP/1.1\r\nHost: goproxy.test\r\nAuthorization: Bearer recorded-secret\r\n\
         Connection: close\r\n\r\n",
    );
    assert_eq!(reply.status, 418);
    let har = proxy.stop();
    let har_path = proxy.har_path();
    let recorded: Vec<Value> = entries(&har)
        .into_iter()
        .filter(|e| e["_tunnel"].is_null())
        .collect();
    assert!(
        recorded.len() >= 5,
        "go's requests and ours: {}",
        recorded.len()
    );
    let teapot = id_of(&har, "/status/418");
    fx.clear_requests();

    // Replayed by a gomitm of its own, the redacted Authorization given again.
    let replay_har = tmp.path().join("replay.har");
    let mut args: Vec<String> = vec!["replay".into(), har_path.display().to_string()];
    args.extend(["--resolve".into(), format!("goproxy.test:443={}", fx.addr)]);
    args.extend(path_arg("--extra-root", &fx.ca_pem));
    args.extend(path_arg("--ca-dir", &tmp.path().join("replay-ca")));
    args.extend(path_arg("--har-out", &replay_har));
    args.extend(["--header".into(), "Authorization: Bearer from-flag".into()]);
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = command(&arg_refs).output().expect("run gomitm replay");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", output_text(&out));
    let same = stdout.lines().filter(|l| l.ends_with("   same")).count();
    assert_eq!(
        same,
        recorded.len(),
        "every request answered as recorded:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{} same status, 0 different, 0 failed",
            recorded.len()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("status 418 → 418"), "{stdout}");
    assert!(
        stdout
            .to_ascii_lowercase()
            .contains("authorization: redacted in the recording; sent from --header"),
        "{stdout}"
    );
    let seen = fx.requests();
    let auth = seen
        .iter()
        .find(|r| r.path() == "/status/418")
        .and_then(|r| r.header("authorization"));
    assert_eq!(
        auth,
        Some("Bearer from-flag"),
        "the flag's value reached the server"
    );
    assert!(
        !seen
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v.contains("REDACTED"))),
        "no REDACTED placeholder was sent"
    );
    // The replays were recorded as gomitm records any flow, each naming what it repeats.
    let text = std::fs::read_to_string(&replay_har).expect("replay HAR");
    let replayed: Value = serde_json::from_str(&text).unwrap();
    let http: Vec<Value> = entries(&replayed)
        .into_iter()
        .filter(|e| e["_tunnel"].is_null())
        .collect();
    assert_eq!(http.len(), recorded.len());
    let teapot_replay = http
        .iter()
        .find(|e| {
            e["request"]["url"]
                .as_str()
                .unwrap_or("")
                .ends_with("/status/418")
        })
        .expect("the 418 replayed");
    assert_eq!(teapot_replay["_replayOf"], teapot);
    assert!(http.iter().all(|e| e["_replayOf"].is_u64()), "all labelled");
    assert!(
        http.iter().any(|e| e["_go"]["kind"] == "zip"),
        "classified as Go traffic like live flows"
    );

    // One flow, through a running gomitm, nothing given for the redacted header.
    fx.clear_requests();
    let live = gomitm_for(&fx, &["goproxy.test"], &[]);
    let mut args: Vec<String> = vec!["replay".into(), har_path.display().to_string()];
    args.extend(["--flow".into(), teapot.to_string()]);
    args.extend(["--proxy".into(), live.proxy_url()]);
    args.extend(path_arg("--ca-cert", &live.ca_pem()));
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = command(&arg_refs)
        .env_remove("GOMITM_REPLAY_AUTHORIZATION")
        .output()
        .expect("run gomitm replay --proxy");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        stdout.contains("1 same status, 0 different, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout
            .to_ascii_lowercase()
            .contains("authorization: redacted in the recording, not sent"),
        "{stdout}"
    );
    let flow = live.wait_for_flow("the replay in the running gomitm", |f| {
        f["replay_of"] == teapot
    });
    assert_eq!(flow["response"]["status"], 418);
    let seen = fx.requests();
    assert_eq!(seen.len(), 1, "only --flow {teapot}");
    assert_eq!(seen[0].header("authorization"), None);
}

#[test]
fn replay_says_when_nothing_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let har = tmp.path().join("empty.har");
    std::fs::write(
        &har,
        r#"{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[]}}"#,
    )
    .unwrap();
    let out = command(&["replay", har.to_str().unwrap(), "--flow", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no request in") && err.contains("with id 3"),
        "{err}"
    );
}
