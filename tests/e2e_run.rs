//! End to end through `gomitm run -- go …` (the real binary), with the real go command (every
//! version from `go_binaries()`) and git, against the TLS fixture on 127.0.0.1 reached
//! through made-up names that gomitm `--resolve`s. Each test checks what go printed, and that
//! gomitm's summary names the right cause and fix.
//!
//! Assertions look for the words that matter (a module and its source, a cause, a setting),
//! not for the exact layout of the summary; on failure they print everything gomitm and the
//! child wrote.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::run::{
    failure_entry, go_cmd, go_kind, gomitm_run, has, module_line, path_with, root_go_mod, url_of,
    Spec, EMPTY_GO_MOD, RUN_TIMEOUT,
};

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::fixture::{Fixture, MISSING_PROXY_HOST, PRIVATE_MODULE, SUMDB_HOST, VERSION};
use support::tools::{clean_go_env, git_binary, go_binaries, go_version, run_with_timeout};

// ---------------------------------------------------------------- the fixture's host routes

/// One HTTP/1.1 request to the fixture's plain listener with a chosen Host.
fn plain_get(addr: SocketAddr, host: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to fixture");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

#[test]
fn fixture_answers_by_host() {
    let fx = Fixture::start();
    let a = fx.http_addr;
    let plain = "text/plain; charset=utf-8";
    let secret_info = format!("/{PRIVATE_MODULE}/@v/{VERSION}.info");
    // a.test lacks everything.
    for (path, body) in [
        (
            "/example.test/mod01/@v/v1.0.0.info".to_string(),
            "not found: example.test/mod01@v1.0.0",
        ),
        (
            "/example.test/%21upper/@v/v1.0.0.zip".to_string(),
            "not found: example.test/Upper@v1.0.0",
        ),
        (secret_info.clone(), "not found: corp.test/secret@v1.0.0"),
    ] {
        let got = plain_get(a, MISSING_PROXY_HOST, &path);
        assert_eq!(got, (404, plain.to_string(), body.to_string()), "{path}");
    }
    // Other hosts serve the modules and the private one, which root does not need.
    for host in ["b.test", "goproxy.test", "b.test:443"] {
        let (status, _, body) = plain_get(a, host, "/example.test/mod01/@v/v1.0.0.info");
        assert_eq!(status, 200, "{host}");
        assert!(body.contains("\"Version\":\"v1.0.0\""), "{body}");
        let (status, _, body) = plain_get(a, host, &format!("/{PRIVATE_MODULE}/@v/{VERSION}.mod"));
        assert_eq!(
            (status, body.as_str()),
            (200, "module corp.test/secret\n\ngo 1.16\n")
        );
    }
    assert!(Fixture::modules().iter().all(|(m, _)| m != PRIVATE_MODULE));
    // sum.test is a checksum database that knows nothing.
    assert_eq!(
        plain_get(a, SUMDB_HOST, "/lookup/corp.test/secret@v1.0.0"),
        (
            410,
            plain.to_string(),
            "not found: corp.test/secret@v1.0.0".to_string()
        )
    );
    assert_eq!(plain_get(a, SUMDB_HOST, "/tile/8/0/000").0, 404);
    for host in ["goproxy.test", "a.test", "sum.test"] {
        assert_eq!(
            plain_get(a, host, "/sumdb/sum.golang.org/supported").0,
            404,
            "{host}"
        );
    }
    // The discovery page and the private repository are still there.
    let (status, _, body) = plain_get(a, "git.test", "/private?go-get=1");
    assert_eq!(status, 200);
    assert!(
        body.contains("content=\"git.test/private git https://git.test/private.git\""),
        "{body}"
    );
    assert_eq!(
        plain_get(
            a,
            "git.test",
            "/private.git/info/refs?service=git-upload-pack"
        )
        .0,
        401
    );
}

// ---------------------------------------------------------------- through gomitm run

/// Case 1: A healthy download: every module listed with the proxy that served it; a HAR on disk.
#[test]
fn healthy_download_lists_every_module_with_its_source() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test"],
                args: &[],
                env: &[("GOPROXY", "https://goproxy.test".into())],
                go_mod: &root_go_mod(),
                command: go_cmd(&go, &["mod", "download"]),
            },
        );
        assert_eq!(
            run.code(),
            Some(0),
            "{version}: go mod download failed\n{}",
            run.dump()
        );
        let summary = run.summary();
        for (module, ver) in Fixture::modules() {
            let line = module_line(&summary, &format!("{module}@{ver}")).unwrap_or_else(|| {
                panic!("{version}: the summary does not list {module}@{ver}\n{summary}")
            });
            assert!(
                line.contains("goproxy.test"),
                "{version}: {module} not attributed to goproxy.test: {line:?}\n{summary}"
            );
        }
        assert!(
            !summary
                .lines()
                .any(|l| has(l, "leak") && l.contains("example.test/")),
            "{version}: no private paths here\n{summary}"
        );
        let har: Value = serde_json::from_str(
            &std::fs::read_to_string(run.har_path())
                .unwrap_or_else(|e| panic!("{version}: no HAR at --har-out: {e}\n{}", run.dump())),
        )
        .expect("HAR is JSON");
        let entries = har["log"]["entries"].as_array().expect("log.entries");
        for (module, ver) in Fixture::modules() {
            let suffix = format!("/{}/@v/{ver}.zip", module.replace("Upper", "%21upper"));
            assert!(
                entries
                    .iter()
                    .any(|e| e["request"]["url"].as_str().is_some_and(|u| u
                        .starts_with("https://goproxy.test/")
                        && u.ends_with(&suffix))
                        && e["response"]["status"] == 200),
                "{version}: the HAR has no 200 entry for {suffix}"
            );
        }
    }
}

/// Case 2: `GOPROXY=a,b,direct` where a.test 404s: the chain shows a.test's 404, then b.test.
#[test]
fn fallback_chain_shows_the_404_before_the_proxy_that_served() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &[MISSING_PROXY_HOST, "b.test"],
                args: &[],
                env: &[(
                    "GOPROXY",
                    format!("https://{MISSING_PROXY_HOST},https://b.test,direct"),
                )],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", "example.test/mod01@v1.0.0"]),
            },
        );
        assert_eq!(
            run.code(),
            Some(0),
            "{version}: go mod download failed\n{}",
            run.dump()
        );
        let summary = run.summary();
        let line = module_line(&summary, "example.test/mod01@v1.0.0").unwrap_or_else(|| {
            panic!("{version}: the summary does not list example.test/mod01@v1.0.0\n{summary}")
        });
        let a = line
            .find(MISSING_PROXY_HOST)
            .unwrap_or_else(|| panic!("{version}: the chain does not name a.test: {line:?}"));
        let b = line
            .rfind("b.test")
            .unwrap_or_else(|| panic!("{version}: the chain does not name b.test: {line:?}"));
        assert!(
            a < b,
            "{version}: a.test should come before b.test: {line:?}"
        );
        assert!(
            line[a..b].contains("404"),
            "{version}: a.test's 404 is not in the chain: {line:?}"
        );
        assert!(
            has(line, "served by b.test"),
            "{version}: b.test served it: {line:?}\n{summary}"
        );
        // The 404s that b.test made good are not failures.
        let failures: Vec<&str> = summary
            .lines()
            .filter(|l| l.contains("a.test/example.test/mod01") && has(l, "error"))
            .collect();
        assert!(failures.is_empty(), "{version}: {failures:?}\n{summary}");
        // And the record agrees: a.test answered 404 before b.test answered 200.
        let flows = run.flows();
        let first = |host: &str, status: u64| {
            flows
                .iter()
                .filter(|f| {
                    url_of(f).starts_with(&format!("https://{host}/example.test/mod01/@v/"))
                        && f["response"]["status"] == status
                })
                .filter_map(|f| f["id"].as_u64())
                .min()
        };
        let (a404, b200) = (first(MISSING_PROXY_HOST, 404), first("b.test", 200));
        assert!(
            a404.is_some() && b200.is_some() && a404 < b200,
            "{version}: a.test 404 {a404:?}, b.test 200 {b200:?}\n{}",
            run.flow_list()
        );
    }
}

/// Case 3: A private path asked of the public proxy and checksum database: a leak, fixed by GOPRIVATE.
#[test]
fn private_path_sent_to_proxy_and_sumdb_is_reported_as_a_leak() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let target = format!("{PRIVATE_MODULE}@{VERSION}");
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test", SUMDB_HOST],
                args: &["--private".to_string(), "corp.test".to_string()],
                env: &[
                    ("GOPROXY", "https://goproxy.test".into()),
                    ("GOSUMDB", format!("sum.golang.org https://{SUMDB_HOST}")),
                ],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", &target]),
            },
        );
        let (stdout, stderr) = (run.stdout(), run.stderr());
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go should fail\n{}",
            run.dump()
        );
        // go's own words: the checksum database does not know the private path.
        let go_said = format!("{stdout}\n{stderr}");
        assert!(
            go_said.contains("verifying") && go_said.contains("410 Gone"),
            "{version}: go did not report the 410 from the checksum database\n{}",
            run.dump()
        );
        assert!(
            go_said.contains(&format!("https://{SUMDB_HOST}/lookup/{target}")),
            "{version}\n{}",
            run.dump()
        );
        let summary = run.summary();
        let leak_to = |host: &str| {
            summary
                .lines()
                .any(|l| has(l, "leak") && l.contains(PRIVATE_MODULE) && l.contains(host))
        };
        assert!(
            leak_to("goproxy.test"),
            "{version}: no leak of {PRIVATE_MODULE} to goproxy.test\n{summary}"
        );
        assert!(
            leak_to(SUMDB_HOST),
            "{version}: no leak of {PRIVATE_MODULE} to {SUMDB_HOST}\n{summary}"
        );
        assert!(
            summary
                .lines()
                .any(|l| has(l, "fix") && l.contains("GOPRIVATE")),
            "{version}: the fix should name GOPRIVATE\n{summary}"
        );
        // The leak section comes before the rest of the summary (after the verdict, which
        // always opens it): it is a security finding.
        let leak_at = summary.find("LEAK").or_else(|| summary.find("leak"));
        let modules_at = summary.find("Modules (");
        if let (Some(l), Some(m)) = (leak_at, modules_at) {
            assert!(l < m, "{version}: leaks should be shown first\n{summary}");
        }
        let flows = run.flows();
        assert!(
            flows.iter().any(|f| go_kind(f) == "sumdb_lookup"
                && url_of(f).starts_with(&format!("https://{SUMDB_HOST}/lookup/"))
                && f["go"]["module"] == PRIVATE_MODULE
                && f["response"]["status"] == 410),
            "{version}: no sumdb lookup flow\n{}",
            run.flow_list()
        );
    }
}

/// GOPRIVATE names the path, GONOPROXY=none lets the corporate proxy serve it, and a
/// GONOSUMDB set to another list sends it to the checksum database anyway: `run` reads the
/// settings as `doctor` does (private_incoherent) and reports that lookup as the leak, with a
/// fix that extends GONOSUMDB (GOPRIVATE alone would change nothing); the proxy is no leak.
#[test]
fn a_gonosumdb_that_leaves_out_goprivate_is_a_leak_to_the_checksum_database() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let target = format!("{PRIVATE_MODULE}@{VERSION}");
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test", SUMDB_HOST],
                args: &[],
                env: &[
                    ("GOPROXY", "https://goproxy.test".into()),
                    ("GOSUMDB", format!("sum.golang.org https://{SUMDB_HOST}")),
                    ("GOPRIVATE", "corp.test".into()),
                    ("GONOPROXY", "none".into()),
                    ("GONOSUMDB", "other.test".into()),
                ],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", &target]),
            },
        );
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go should fail\n{}",
            run.dump()
        );
        let summary = run.summary();
        let leaks: Vec<&str> = summary.lines().filter(|l| l.contains("LEAK #")).collect();
        assert!(
            leaks.len() == 1 && leaks[0].contains(SUMDB_HOST) && leaks[0].contains(PRIVATE_MODULE),
            "{version}: one leak, to the checksum database\n{summary}"
        );
        assert!(
            summary.contains("GONOSUMDB=other.test,corp.test"),
            "{version}: the fix should extend GONOSUMDB\n{summary}"
        );
    }
}

/// Case 4: A private git repository answering 401: the failure's fix is about credentials.
#[test]
fn git_401_is_diagnosed_as_missing_credentials() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["git.test"],
                args: &[],
                env: &[
                    ("GOPROXY", "direct".into()),
                    ("GOSUMDB", "off".into()),
                    ("GIT_TERMINAL_PROMPT", "0".into()),
                    ("PATH", path_with(&git)),
                ],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["get", "git.test/private@v1.0.0"]),
            },
        );
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go get should fail\n{}",
            run.dump()
        );
        let stderr = run.stderr();
        assert!(
            [
                "could not read Username",
                "terminal prompts disabled",
                "401"
            ]
            .iter()
            .any(|s| stderr.contains(s)),
            "{version}: go/git did not report the 401\n{}",
            run.dump()
        );
        let summary = run.summary();
        let entry = failure_entry(&summary, "private.git/info/refs").unwrap_or_else(|| {
            panic!("{version}: no failure entry for private.git/info/refs\n{summary}")
        });
        assert!(
            entry.contains(".netrc") || has(&entry, "credential"),
            "{version}: the fix should be about credentials: {entry}\n{summary}"
        );
    }
}

/// The summary of a direct fetch is about the module that was asked for: go's discovery
/// probe of the bare host (`https://git.test/?go-get=1`, 404) is prefix-probing noise, not
/// the module and not a failure.
#[test]
fn git_direct_fetch_summary_names_the_module_not_the_probed_prefix() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["git.test"],
                args: &[],
                env: &[
                    ("GOPROXY", "direct".into()),
                    ("GOSUMDB", "off".into()),
                    ("GIT_TERMINAL_PROMPT", "0".into()),
                    ("PATH", path_with(&git)),
                ],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["get", "git.test/private@v1.0.0"]),
            },
        );
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go get should fail\n{}",
            run.dump()
        );
        let summary = run.summary();
        let line = summary
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .any(|w| w == "git.test/private" || w == "git.test/private@v1.0.0")
            })
            .unwrap_or_else(|| {
                panic!("{version}: the summary does not name git.test/private\n{summary}")
            });
        assert!(
            line.contains("401"),
            "{version}: the module's chain should end in git's 401: {line:?}\n{summary}"
        );
        // Its own discovery answered 200; the bare host's 404 is not part of its chain.
        assert!(
            !line.contains("404"),
            "{version}: the probe's 404 is not the module's go-get outcome: {line:?}\n{summary}"
        );
        assert!(
            failure_entry(&summary, "https://git.test/?go-get=1").is_none(),
            "{version}: the prefix probe's 404 is not a failure\n{summary}"
        );
    }
}

/// Case 5: The child trusts only another CA: go fails, and the fix names SSL_CERT_FILE (Linux).
#[test]
fn client_that_does_not_trust_gomitm_gets_the_ssl_cert_file_fix() {
    let Some(env_bin) = ["/usr/bin/env", "/bin/env"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
    else {
        eprintln!("note: no env binary; skipping");
        return;
    };
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let mut command = vec![
            env_bin.display().to_string(),
            format!("SSL_CERT_FILE={}", fx.ca_pem.display()),
        ];
        command.extend(go_cmd(
            &go,
            &["mod", "download", "example.test/mod01@v1.0.0"],
        ));
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test"],
                args: &[],
                env: &[("GOPROXY", "https://goproxy.test".into())],
                go_mod: EMPTY_GO_MOD,
                command,
            },
        );
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go should fail\n{}",
            run.dump()
        );
        assert!(
            run.stderr()
                .contains("certificate signed by unknown authority"),
            "{version}: go did not report the untrusted certificate\n{}",
            run.dump()
        );
        let summary = run.summary();
        if cfg!(target_os = "linux") {
            assert!(
                summary
                    .lines()
                    .any(|l| has(l, "fix") && l.contains("SSL_CERT_FILE")),
                "{version}: the fix should name SSL_CERT_FILE\n{summary}"
            );
        }
        assert!(
            summary.contains("goproxy.test") && has(&summary, "trust"),
            "{version}: the cause should name the host and the trust problem\n{summary}"
        );
    }
}

/// Case 6: An unknown host: gomitm's diagnosis reaches go's own output, and the summary says DNS.
#[test]
fn unknown_host_diagnosis_reaches_go_output_and_summary() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &[],
                args: &[],
                env: &[("GOPROXY", "https://nosuch.invalid".into())],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", "example.test/mod01@v1.0.0"]),
            },
        );
        assert_ne!(
            run.code(),
            Some(0),
            "{version}: go should fail\n{}",
            run.dump()
        );
        let stderr = run.stderr();
        let lines: Vec<&str> = stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("server response:"))
            .unwrap_or_else(|| panic!("{version}: go printed no server response\n{}", run.dump()));
        assert!(
            lines[at].contains("gomitm:")
                || lines.get(at + 1).is_some_and(|l| l.contains("gomitm:")),
            "{version}: gomitm's explanation is not under `server response:`\n{}",
            run.dump()
        );
        assert!(
            stderr.contains("nosuch.invalid"),
            "{version}\n{}",
            run.dump()
        );
        let summary = run.summary();
        assert!(
            summary
                .lines()
                .any(|l| l.contains("nosuch.invalid") && has(l, "dns")
                    || has(l, "does not resolve") && l.contains("nosuch.invalid")),
            "{version}: the summary should name DNS for nosuch.invalid\n{summary}"
        );
    }
}

/// Case 7: A loopback GOPROXY bypasses any proxy: gomitm warns before go starts; go's exit code
/// comes through.
#[test]
fn loopback_goproxy_gets_a_preflight_warning_and_gos_exit_code() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let goproxy = "https://127.0.0.1:9";
        // What go itself exits with, without gomitm.
        let direct = {
            let tmp = tempfile::tempdir().expect("temp dir");
            std::fs::create_dir(tmp.path().join("work")).unwrap();
            std::fs::write(tmp.path().join("work/go.mod"), EMPTY_GO_MOD).unwrap();
            let mut cmd = Command::new(&go);
            cmd.args(["mod", "download", "example.test/mod01@v1.0.0"])
                .current_dir(tmp.path().join("work"));
            clean_go_env(&mut cmd, tmp.path());
            cmd.env("GOPROXY", goproxy);
            run_with_timeout(&mut cmd, RUN_TIMEOUT).status.code()
        };
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &[],
                args: &[],
                env: &[("GOPROXY", goproxy.into())],
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", "example.test/mod01@v1.0.0"]),
            },
        );
        let stderr = run.stderr();
        let warning = stderr
            .lines()
            .find(|l| l.starts_with("gomitm: warning:") && has(l, "loopback"));
        assert!(
            warning.is_some_and(|w| w.contains("127.0.0.1")),
            "{version}: no loopback warning\n{}",
            run.dump()
        );
        assert!(
            stderr.contains("connection refused"),
            "{version}: go should have dialled 127.0.0.1:9 itself\n{}",
            run.dump()
        );
        assert_ne!(direct, Some(0), "{version}: go alone should fail too");
        assert_eq!(
            run.code(),
            direct,
            "{version}: gomitm should exit with go's code\n{}",
            run.dump()
        );
    }
}

/// The other settings that bypass interception, each named before go starts (one go).
#[test]
fn bypassing_settings_get_preflight_warnings() {
    let Some(go) = go_binaries().into_iter().next() else {
        return;
    };
    let fx = Fixture::start();
    struct Case {
        env: &'static [(&'static str, &'static str)],
        /// Words the warning must contain.
        words: &'static [&'static str],
        go_fails: bool,
    }
    let cases = [
        Case {
            env: &[("GOPROXY", "off")],
            words: &["GOPROXY=off"],
            go_fails: true,
        },
        Case {
            env: &[
                ("GOPROXY", "https://goproxy.test"),
                ("GOFLAGS", "-mod=mod -insecure"),
            ],
            words: &["-insecure", "GOINSECURE"],
            go_fails: false, // `go mod download` silently ignores GOFLAGS=-insecure
        },
    ];
    for Case {
        env,
        words,
        go_fails: fails,
    } in cases
    {
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test"],
                args: &[],
                env: &env,
                go_mod: EMPTY_GO_MOD,
                command: go_cmd(&go, &["mod", "download", "example.test/mod01@v1.0.0"]),
            },
        );
        let stderr = run.stderr();
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("gomitm: warning:") && words.iter().all(|w| l.contains(w))),
            "{env:?}: no warning naming {words:?}\n{}",
            run.dump()
        );
        assert_eq!(
            run.code() != Some(0),
            fails,
            "{env:?}: go should {}\n{}",
            if fails { "fail" } else { "succeed" },
            run.dump()
        );
    }
}

/// Case 8: gomitm exits with the child's exit code; the child gets the proxy and the trust bundle.
#[test]
fn exit_code_is_passed_through() {
    let fx = Fixture::start();
    let script =
        "echo \"$HTTPS_PROXY|$https_proxy|$HTTP_PROXY|$SSL_CERT_FILE|$GIT_SSL_CAINFO\"; exit 7";
    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &[],
            args: &[],
            env: &[],
            go_mod: EMPTY_GO_MOD,
            command: vec!["sh".into(), "-c".into(), script.into()],
        },
    );
    assert_eq!(run.code(), Some(7), "{}", run.dump());
    // With nothing to warn about, the first line is the listening address.
    assert!(
        run.stderr()
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("gomitm: listening on http://127.0.0.1:")),
        "{}",
        run.dump()
    );
    // The child's stdout is streamed untouched: exactly the one line it printed.
    let stdout = run.stdout();
    let vars: Vec<&str> = stdout.trim_end_matches('\n').split('|').collect();
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1 && vars.len() == 5,
        "{}",
        run.dump()
    );
    let listening = run
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("gomitm: listening on "))
        .map(str::to_string)
        .unwrap_or_default();
    for proxy in &vars[..3] {
        assert_eq!(*proxy, listening, "{}", run.dump());
    }
    assert_eq!(vars[3], vars[4], "one bundle for go and git");
    let bundle = std::fs::read_to_string(vars[3])
        .unwrap_or_else(|e| panic!("bundle {}: {e}\n{}", vars[3], run.dump()));
    let gomitm_ca = std::fs::read_to_string(run.tmp.path().join("ca/gomitm-ca.pem"))
        .expect("gomitm CA in --ca-dir");
    assert!(
        bundle.contains(gomitm_ca.trim()),
        "the bundle lacks the gomitm CA"
    );
}

/// When gomitm saw no request at all, the summary says so and names the likely reason, read
/// from the command's own settings: GOPROXY=off, a loopback GOPROXY (go never proxies
/// loopback), or a module cache that already had everything (a second download of the same
/// module into the same cache).
#[test]
fn no_request_at_all_names_the_likely_reason() {
    let Some(go) = go_binaries().into_iter().next() else {
        return;
    };
    let fx = Fixture::start();
    let cache = tempfile::tempdir().unwrap();
    let cache_env = cache.path().join("modcache").display().to_string();
    let download = || go_cmd(&go, &["mod", "download", "example.test/mod01@v1.0.0"]);
    let says = |run: &support::run::Run, words: &[&str]| {
        let summary = run.summary();
        // Its own line, or the verdict's explanation of go's failure: once either way.
        let said: Vec<&str> = summary
            .lines()
            .filter(|l| l.contains("gomitm saw no request at all: "))
            .collect();
        assert_eq!(said.len(), 1, "{}", run.dump());
        let line = said[0];
        for w in words {
            assert!(
                line.contains(w),
                "{line:?} does not say {w:?}\n{}",
                run.dump()
            );
        }
        assert!(summary.contains("gomitm: 0 requests,"), "{summary}");
    };

    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &[],
            args: &[],
            env: &[("GOPROXY", "off".into())],
            go_mod: EMPTY_GO_MOD,
            command: download(),
        },
    );
    assert_ne!(run.code(), Some(0), "{}", run.dump());
    says(&run, &["GOPROXY=off"]);

    let run = gomitm_run(
        &fx,
        Spec {
            hosts: &[],
            args: &[],
            env: &[("GOPROXY", "https://127.0.0.1:9".into())],
            go_mod: EMPTY_GO_MOD,
            command: download(),
        },
    );
    says(&run, &["GOPROXY names 127.0.0.1", "loopback"]);

    // Warm the cache through gomitm, then download the same module again.
    let warm = |expect_requests: bool| {
        let run = gomitm_run(
            &fx,
            Spec {
                hosts: &["goproxy.test"],
                args: &[],
                env: &[
                    ("GOPROXY", "https://goproxy.test".into()),
                    ("GOMODCACHE", cache_env.clone()),
                    // The cache's files stay removable by the temp dir's cleanup.
                    ("GOFLAGS", "-mod=mod -modcacherw".into()),
                ],
                go_mod: EMPTY_GO_MOD,
                command: download(),
            },
        );
        assert_eq!(run.code(), Some(0), "{}", run.dump());
        assert_eq!(
            run.summary().contains("gomitm saw no request at all"),
            !expect_requests,
            "{}",
            run.dump()
        );
        run
    };
    warm(true);
    let run = warm(false);
    says(
        &run,
        &[
            "already in the module cache",
            &cache_env,
            "GOMODCACHE=$(mktemp -d)",
        ],
    );
}
