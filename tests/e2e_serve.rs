//! `gomitm run --serve FILE.har`: a download recorded through the fixture, then the fixture
//! stopped and the same go command answered from the HAR alone. A failing download must fail
//! with go's very words; a healthy one must succeed offline; a request the recording lacks
//! gets a 404 that says so; a body the recording capped is sent as recorded and flagged.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::client;
use support::fixture::{Fixture, BROKEN_MODULE, MISSING_PROXY_HOST};
use support::run::{go_cmd, gomitm_run, root_go_mod, url_of, Run, Spec, EMPTY_GO_MOD, RUN_TIMEOUT};
use support::tools::{clean_go_env, go_binaries, go_version, run_with_timeout};

/// A recording kept after its run's directory is gone.
fn keep_har(run: &Run, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(run.har_path(), &to)
        .unwrap_or_else(|e| panic!("no HAR at --har-out: {e}\n{}", run.dump()));
    to
}

/// `gomitm run --serve HAR -- COMMAND`: no fixture, no `--resolve`, no extra root; only the
/// recording answers. The child's caches are fresh.
fn served_run(har: &Path, env: &[(&str, String)], go_mod: &str, command: Vec<String>) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix("gomitm-e2e-serve-")
        .tempdir()
        .unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("go.mod"), go_mod).unwrap();
    let mut cmd = support::gomitm::command(&["run"]);
    cmd.arg("--ca-dir")
        .arg(tmp.path().join("ca"))
        .arg("--serve")
        .arg(har)
        .arg("--har-out")
        .arg(tmp.path().join("out.har"))
        .arg("--jsonl")
        .arg(tmp.path().join("flows.jsonl"))
        .arg("--")
        .args(&command)
        .current_dir(&work);
    clean_go_env(&mut cmd, tmp.path());
    cmd.env_remove("GOMITM_CA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_with_timeout(&mut cmd, RUN_TIMEOUT);
    let run = Run { out, tmp };
    eprintln!("{}", run.dump());
    run
}

/// go's own lines about `needle` in a run's stderr, before gomitm's summary (which quotes
/// them again after `go said:`).
fn go_lines(run: &Run, needle: &str) -> Vec<String> {
    let err = run.stderr();
    let mut lines = Vec::new();
    for line in err.lines() {
        let verdict = ["gomitm: FAILED: ", "gomitm: ok: "]
            .iter()
            .any(|v| line.starts_with(v));
        let totals = line
            .strip_prefix("gomitm: ")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if verdict || totals {
            break;
        }
        if (line.starts_with("go: ") || line.starts_with('\t')) && line.contains(needle) {
            lines.push(line.to_string());
        }
    }
    lines
}

fn served_rules(f: &Value) -> String {
    f["rules"].to_string()
}

#[test]
fn a_failing_download_fails_offline_with_gos_exact_words() {
    let keep = tempfile::tempdir().unwrap();
    let module = "example.test/mod01@v1.0.0";
    let env = [("GOPROXY", format!("https://{MISSING_PROXY_HOST}"))];
    let gos = go_binaries();
    let fx = Fixture::start();
    let mut recorded = Vec::new();
    for (i, go) in gos.iter().enumerate() {
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &[MISSING_PROXY_HOST],
                args: &[],
                env: &env,
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(go, &["mod", "download", module]),
            },
        );
        assert_eq!(
            run.code(),
            Some(1),
            "{}: the recording must fail",
            go_version(go)
        );
        let lines = go_lines(&run, "example.test/mod01");
        assert!(
            lines.iter().any(|l| l.contains("404 Not Found")),
            "{lines:?}\n{}",
            run.dump()
        );
        recorded.push((keep_har(&run, keep.path(), &format!("fail{i}.har")), lines));
    }
    // From here on nothing answers but the recordings.
    drop(fx);
    for (go, (har, lines)) in gos.iter().zip(&recorded) {
        let version = go_version(go);
        let run = served_run(
            har,
            &env,
            EMPTY_GO_MOD,
            go_cmd(go, &["mod", "download", module]),
        );
        assert_eq!(run.code(), Some(1), "{version}\n{}", run.dump());
        assert_eq!(
            &go_lines(&run, "example.test/mod01"),
            lines,
            "{version}: go's error differs when served\n{}",
            run.dump()
        );
        let flows = run.flows();
        assert!(
            !flows.is_empty()
                && flows
                    .iter()
                    .filter(|f| f["kind"] == "http")
                    .all(|f| served_rules(f).contains("serve: #")),
            "{version}: every request is a flow answered from the recording\n{}",
            run.flow_list()
        );
        assert!(
            run.stderr().contains("serving ") && run.stderr().contains("recorded requests"),
            "{version}: the start-up line names the recording\n{}",
            run.dump()
        );
    }
}

#[test]
fn a_healthy_download_succeeds_offline_and_unknown_requests_get_a_404_that_says_so() {
    let keep = tempfile::tempdir().unwrap();
    let env = [("GOPROXY", "https://goproxy.test".to_string())];
    let gos = go_binaries();
    let go = gos.first().expect("a go binary");
    let fx = Fixture::start();
    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &["goproxy.test"],
            args: &[],
            env: &env,
            go_mod: &root_go_mod(),
            command: go_cmd(go, &["mod", "download"]),
        },
    );
    assert_eq!(run.code(), Some(0), "{}", run.dump());
    let har = keep_har(&run, keep.path(), "healthy.har");
    drop(fx);

    let served = served_run(&har, &env, &root_go_mod(), go_cmd(go, &["mod", "download"]));
    assert_eq!(
        served.code(),
        Some(0),
        "offline from the HAR\n{}",
        served.dump()
    );
    let flows = served.flows();
    for (module, ver) in Fixture::modules() {
        let suffix = format!("/@v/{ver}.zip");
        let path = module.replace("Upper", "%21upper");
        assert!(
            flows.iter().any(|f| url_of(f).contains(&path)
                && url_of(f).ends_with(&suffix)
                && f["response"]["status"] == 200
                && served_rules(f).contains("serve: #")),
            "{module}: no served 200 zip\n{}",
            served.flow_list()
        );
    }
    assert!(
        served.summary().contains("goproxy.test"),
        "the summary attributes the modules as recorded\n{}",
        served.summary()
    );

    // A module the recording never fetched.
    let missing = "example.test/notrecorded@v1.0.0";
    let unknown = served_run(
        &har,
        &env,
        EMPTY_GO_MOD,
        go_cmd(go, &["mod", "download", missing]),
    );
    assert_eq!(unknown.code(), Some(1), "{}", unknown.dump());
    let lines = go_lines(&unknown, "").join("\n");
    assert!(
        lines.contains("404 Not Found") && lines.contains("is not in the recording"),
        "go prints the 404 and its reason:\n{lines}\n{}",
        unknown.dump()
    );
    assert!(
        unknown
            .flows()
            .iter()
            .any(|f| f["response"]["status"] == 404 && served_rules(f).contains("serve: not in")),
        "{}",
        unknown.flow_list()
    );
}

#[test]
fn a_body_the_recording_capped_or_cut_is_sent_as_recorded_and_flagged() {
    let keep = tempfile::tempdir().unwrap();
    let env = [("GOPROXY", "https://goproxy.test".to_string())];
    let gos = go_binaries();
    let go = gos.first().expect("a go binary");
    let fx = Fixture::start();
    // Capped: the recording keeps 300 bytes of each body.
    let capped = gomitm_run(
        &fx,
        Spec {
            hosts: &["goproxy.test"],
            args: &["--max-body-capture".into(), "300".into()],
            env: &env,
            go_mod: EMPTY_GO_MOD,
            command: go_cmd(go, &["mod", "download", "example.test/mod01@v1.0.0"]),
        },
    );
    assert_eq!(capped.code(), Some(0), "{}", capped.dump());
    let capped_har = keep_har(&capped, keep.path(), "capped.har");
    // Cut: the broken module's zip breaks off mid-body upstream.
    let broken = format!("{BROKEN_MODULE}@v1.0.0");
    let cut = gomitm_run(
        &fx,
        Spec {
            hosts: &["goproxy.test"],
            args: &[],
            env: &env,
            go_mod: EMPTY_GO_MOD,
            command: go_cmd(go, &["mod", "download", &broken]),
        },
    );
    assert_eq!(cut.code(), Some(1), "{}", cut.dump());
    let cut_har = keep_har(&cut, keep.path(), "cut.har");
    drop(fx);

    let served = served_run(
        &capped_har,
        &env,
        EMPTY_GO_MOD,
        go_cmd(go, &["mod", "download", "example.test/mod01@v1.0.0"]),
    );
    assert_ne!(
        served.code(),
        Some(0),
        "a capped zip cannot be a good zip\n{}",
        served.dump()
    );
    let zip = served
        .flows()
        .into_iter()
        .find(|f| url_of(f).ends_with("/@v/v1.0.0.zip"))
        .unwrap_or_else(|| panic!("no zip flow\n{}", served.flow_list()));
    let flagged = zip["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| {
            h[0].as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("x-gomitm-truncated"))
        })
        .unwrap_or_else(|| panic!("no X-Gomitm-Truncated on {zip}"));
    assert!(flagged[1].as_str().unwrap().contains("of "), "{flagged}");
    assert_eq!(zip["response"]["body"]["total"], 300, "as recorded: {zip}");
    assert!(
        served.stderr().contains(
            "gomitm: warning: serving GET https://goproxy.test/example.test/mod01/@v/v1.0.0.zip"
        ),
        "{}",
        served.dump()
    );

    let served = served_run(
        &cut_har,
        &env,
        EMPTY_GO_MOD,
        go_cmd(go, &["mod", "download", &broken]),
    );
    assert_eq!(served.code(), Some(1), "{}", served.dump());
    let zip = served
        .flows()
        .into_iter()
        .find(|f| url_of(f).ends_with("/@v/v1.0.0.zip"))
        .unwrap_or_else(|| panic!("no zip flow\n{}", served.flow_list()));
    assert_eq!(
        zip["error"]["class"], "upstream_reset",
        "cut as recorded: {zip}"
    );
    assert!(
        !go_lines(&served, BROKEN_MODULE).is_empty(),
        "go names the broken module\n{}",
        served.dump()
    );
}

#[test]
fn diff_of_a_healthy_and_a_failing_capture_names_sources_and_answers() {
    let keep = tempfile::tempdir().unwrap();
    let gos = go_binaries();
    let go = gos.first().expect("a go binary");
    let module = "example.test/mod01@v1.0.0";
    let fx = Fixture::start();
    let mut hars = Vec::new();
    for (name, proxy, code) in [
        ("healthy.har", "https://goproxy.test".to_string(), 0),
        ("failing.har", format!("https://{MISSING_PROXY_HOST}"), 1),
    ] {
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test", MISSING_PROXY_HOST],
                args: &[],
                env: &[("GOPROXY", proxy)],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(go, &["mod", "download", module]),
            },
        );
        assert_eq!(run.code(), Some(code), "{}", run.dump());
        hars.push(keep_har(&run, keep.path(), name));
    }
    drop(fx);
    let diff = |extra: &[&str], columns: &str| {
        let mut cmd = support::gomitm::command(&["diff"]);
        cmd.arg(&hars[0])
            .arg(&hars[1])
            .args(extra)
            .env("COLUMNS", columns);
        run_with_timeout(&mut cmd, RUN_TIMEOUT)
    };
    let out = diff(&[], "200");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("gomitm diff:\n{text}");
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for words in [
        "A = ",
        "healthy.har",
        "B = ",
        "failing.har",
        "example.test/mod01@v1.0.0",
        "served by https://goproxy.test",
        "NOT SERVED",
        "a.test → 404",
        "goproxy.test → 200",
        "Where the time went",
    ] {
        assert!(text.contains(words), "{words:?} missing:\n{text}");
    }
    assert!(text.lines().count() <= 40, "one screen:\n{text}");
    // Width-aware: nothing past the terminal's width.
    let narrow = diff(&[], "50");
    let narrow = String::from_utf8_lossy(&narrow.stdout).into_owned();
    assert!(
        narrow.lines().all(|l| l.chars().count() <= 50) && narrow.contains('…'),
        "{narrow}"
    );
    // JSON: the module row differs, with each side's source.
    let out = diff(&["--json"], "200");
    let json: Value = serde_json::from_slice(&out.stdout).expect("diff --json is JSON");
    let row = json["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "example.test/mod01")
        .unwrap_or_else(|| panic!("no module row: {json:#}"));
    assert_eq!(row["differs"], true);
    assert_eq!(row["a"]["served_by"], "https://goproxy.test");
    assert!(row["b"]["served_by"].is_null(), "{row:#}");
    let info = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == "example.test/mod01" && r["kind"] == "info")
        .unwrap_or_else(|| panic!("no info row: {json:#}"));
    assert_eq!(info["a"]["sources"][0], "goproxy.test");
    assert_eq!(info["b"]["sources"][0], MISSING_PROXY_HOST);
    assert_eq!(info["b"]["answers"][0], "404", "{info:#}");
}

#[test]
fn gomitm_serve_refuses_a_file_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = support::gomitm::command(&["serve"]);
    cmd.arg(dir.path().join("missing.har"))
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .arg("--listen")
        .arg("127.0.0.1:0");
    let out = run_with_timeout(&mut cmd, RUN_TIMEOUT);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--serve: cannot read") && err.contains("missing.har"),
        "{err}"
    );
    assert!(
        !err.contains("listening on"),
        "refused before a port is bound: {err}"
    );
}

/// Another tool's HAR (decoded text, stale `Content-Encoding` and `Content-Length`), served
/// through an intercepted CONNECT to a host that does not exist.
#[test]
fn a_served_tunnel_to_any_host_answers_in_recorded_order_with_clean_headers() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("foreign.har");
    let entry = |body: &str, status: u16| {
        serde_json::json!({
            "startedDateTime": "2024-01-01T00:00:00.000Z",
            "time": 1,
            "request": {"method": "GET", "url": "https://mirror.invalid/m/@v/list",
                        "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                        "cookies": [], "headersSize": -1, "bodySize": 0},
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                         "headers": [
                             {"name": "Content-Type", "value": "text/plain"},
                             {"name": "Content-Encoding", "value": "gzip"},
                             {"name": "Content-Length", "value": "9999"},
                             {"name": "Connection", "value": "close"}],
                         "cookies": [],
                         "content": {"size": body.len(), "mimeType": "text/plain", "text": body},
                         "redirectURL": "", "headersSize": -1, "bodySize": body.len()},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}
        })
    };
    let doc = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
        "entries": [entry("v1.0.0\n", 200), entry("v1.0.0\nv1.1.0\n", 200)]}});
    std::fs::write(&har, doc.to_string()).unwrap();
    let proxy = support::gomitm::Gomitm::start(&["--serve".to_string(), har.display().to_string()]);
    let get = |path: &str| {
        let mut conn = client::tunnel(proxy.addr, "mirror.invalid", &proxy.ca_pem());
        conn.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: mirror.invalid\r\nConnection: close\r\n\r\n"
        ))
    };
    let first = get("/m/@v/list");
    assert_eq!((first.status, first.text().as_str()), (200, "v1.0.0\n"));
    assert_eq!(
        first.header("content-encoding"),
        None,
        "the HAR's text is decoded"
    );
    assert_eq!(
        first.header("content-length"),
        Some("7"),
        "the body's own length"
    );
    let second = get("/m/@v/list");
    assert_eq!(second.text(), "v1.0.0\nv1.1.0\n", "recorded order");
    let third = get("/m/@v/list");
    assert_eq!(third.text(), "v1.0.0\nv1.1.0\n", "the last answer again");
    let unknown = get("/m/@v/v9.9.9.info");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.text().contains("is not in the recording"),
        "{}",
        unknown.text()
    );
    let flow = proxy.wait_for_flow("the unknown request", |f| {
        url_of(f) == "https://mirror.invalid/m/@v/v9.9.9.info"
    });
    assert!(served_rules(&flow).contains("serve: not in"), "{flow}");
}
