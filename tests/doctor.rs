//! `gomitm doctor` end to end: the real binary, the real `go env -json`, and the fixture's TLS
//! servers on 127.0.0.1 behind made-up host names (`--resolve`), healthy and broken. Each
//! broken kind has its own test; the settings-only tests send no request at all
//! (GOSUMDB=off and no URL in GOPROXY). Only the fixture's VCS host is ever probed.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::fixture::{Fixture, GIT_HELLO_IMPORT, MISSING_PROXY_HOST, SUMDB_HOST, SUMDB_NAME};
use support::gomitm::{binary, fixture_args, resolve_args};
use support::tools::{clean_go_env, go_binaries, go_current, in_ci, run_with_timeout};

const MODULE: &str = "example.test/mod01";

fn go() -> Option<PathBuf> {
    let go = go_current().or_else(|| go_binaries().into_iter().next());
    if go.is_none() {
        assert!(!in_ci(), "CI=true and no go binary for the doctor tests");
        eprintln!("SKIPPED: no go binary");
    }
    go
}

struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

impl Run {
    fn rows(&self) -> &Vec<Value> {
        self.json["rows"].as_array().expect("rows")
    }

    /// The first row whose source starts with `source` and whose check is `check`.
    fn row(&self, source: &str, check: &str) -> &Value {
        self.rows()
            .iter()
            .find(|r| r["source"].as_str().unwrap().starts_with(source) && r["check"] == check)
            .unwrap_or_else(|| panic!("no row {source} {check} in\n{}", self.stdout))
    }

    fn settings(&self, check: &str) -> Vec<&Value> {
        self.rows()
            .iter()
            .filter(|r| r["source"] == "settings" && r["check"] == check)
            .collect()
    }
}

/// `gomitm doctor --json` (or the text form when `json` is false) with a clean go environment
/// plus `env`, and `args`.
fn doctor(go: &Path, tmp: &Path, env: &[(&str, &str)], args: &[String], json: bool) -> Run {
    let mut cmd = Command::new(binary());
    cmd.arg("doctor")
        .arg("--go")
        .arg(go)
        .arg("--ca-dir")
        .arg(tmp.join("ca"))
        .args(args);
    if json {
        cmd.arg("--json");
    }
    clean_go_env(&mut cmd, tmp);
    cmd.env("GOFLAGS", "")
        .env("GONOSUMCHECK", "")
        .env("GIT_CONFIG_GLOBAL", tmp.join("gitconfig"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_with_timeout(&mut cmd, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = if json {
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"))
    } else {
        Value::Null
    };
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stdout,
        stderr,
    }
}

fn module_args(fx: &Fixture, hosts: &[&str]) -> Vec<String> {
    let mut a = fixture_args(fx, hosts, &[]);
    a.extend(["--module".to_string(), format!("{MODULE}@v1.0.0")]);
    a
}

fn honest_sumdb() -> String {
    Fixture::sumdb_key()
}

#[test]
fn healthy_sources_pass_with_timings_issuer_and_flows() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut args = module_args(&fx, &["goproxy.test", SUMDB_NAME, "git.test"]);
    let har = tmp.path().join("doctor.har");
    args.extend(["--har-out".into(), har.display().to_string()]);
    if fx.has_git() {
        args.extend(["--vcs".into(), GIT_HELLO_IMPORT.into()]);
    } else {
        assert!(!in_ci(), "CI=true and the fixture has no git");
    }
    let key = honest_sumdb();
    let run = doctor(
        &go,
        tmp.path(),
        &[
            ("GOPROXY", "https://goproxy.test,direct"),
            ("GOSUMDB", &key),
        ],
        &args,
        true,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json["failed"], 0);
    let list = run.row("GOPROXY[1] https://goproxy.test", "@v/list");
    assert_eq!(list["status"], 200);
    assert_eq!(list["verdict"], "ok");
    assert_eq!(list["via"], "direct");
    assert_eq!(list["issuer_kind"], "extra_root", "{list}");
    assert!(list["timings"]["connect_ms"].as_f64().is_some(), "{list}");
    assert!(
        list["timings"]["first_byte_ms"].as_f64().is_some(),
        "{list}"
    );
    assert!(list["flow_id"].as_u64().is_some());
    let latest = run.row("GOSUMDB sumdb.test", "/latest");
    assert_eq!(
        (latest["status"].as_u64(), latest["verdict"].as_str()),
        (Some(200), Some("ok"))
    );
    let lookup = run.row("GOSUMDB sumdb.test", "/lookup");
    assert_eq!(lookup["status"], 200, "{lookup}");
    assert!(lookup["url"]
        .as_str()
        .unwrap()
        .ends_with("/lookup/example.test/mod01@v1.0.0"));
    if fx.has_git() {
        assert_eq!(run.row("VCS git.test", "?go-get=1")["verdict"], "ok");
        let refs = run.row("VCS git.test", "git info/refs");
        assert_eq!(
            (refs["status"].as_u64(), refs["verdict"].as_str()),
            (Some(200), Some("ok")),
            "{refs}"
        );
    }
    // Every probe really went through gomitm to the fixture, and is in the capture.
    let paths: Vec<String> = fx.requests().iter().map(|r| r.path().to_string()).collect();
    assert!(
        paths.iter().any(|p| p == "/example.test/mod01/@v/list"),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "/latest"), "{paths:?}");
    let har: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(entries.len() >= 3, "{} HAR entries", entries.len());
}

#[test]
fn text_table_has_the_columns_and_says_nothing_failed() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    let run = doctor(
        &go,
        tmp.path(),
        &[("GOPROXY", "https://goproxy.test"), ("GOSUMDB", "off")],
        &module_args(&fx, &["goproxy.test"]),
        false,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let header = run
        .stdout
        .lines()
        .find(|l| l.starts_with("SOURCE"))
        .expect("header");
    for col in [
        "CHECK",
        "DNS",
        "CONNECT",
        "TLS",
        "1ST BYTE",
        "STATUS",
        "TLS ISSUER",
        "VIA",
        "VERDICT",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(
        run.stdout.contains("GOPROXY[1] https://goproxy.test"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(--extra-root)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("doctor: no check failed"),
        "{}",
        run.stdout
    );
}

/// A GOPROXY of one broken source; the row of its list fails with `code`, exit 3.
fn broken_proxy(goproxy: &str, args: Vec<String>, code: &str) -> Run {
    let go = go().expect("go");
    let tmp = tempfile::tempdir().unwrap();
    let run = doctor(
        &go,
        tmp.path(),
        &[("GOPROXY", goproxy), ("GOSUMDB", "off")],
        &args,
        true,
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let row = run.row("GOPROXY[1]", "@v/list");
    assert_eq!(row["verdict"], "fail", "{row}");
    assert_eq!(row["code"], code, "{row}");
    assert!(row["fix"].as_str().is_some_and(|f| !f.is_empty()), "{row}");
    assert!(run.stdout.contains("\"failed\": 1"), "{}", run.stdout);
    run
}

#[test]
fn proxy_404_on_list_fails_as_module_not_found() {
    if go().is_none() {
        return;
    }
    let fx = Fixture::start();
    let run = broken_proxy(
        "https://a.test",
        module_args(&fx, &[MISSING_PROXY_HOST]),
        "module_not_found",
    );
    assert_eq!(run.row("GOPROXY[1]", "@v/list")["status"], 404);
}

#[test]
fn proxy_5xx_fails_and_the_fix_names_the_comma() {
    if go().is_none() {
        return;
    }
    let fx = Fixture::start();
    let run = broken_proxy(
        "https://goproxy.test/status/500,direct",
        module_args(&fx, &["goproxy.test"]),
        "proxy_server_error",
    );
    let row = run.row("GOPROXY[1]", "@v/list");
    assert_eq!(row["status"], 500);
    assert!(
        row["fix"]
            .as_str()
            .unwrap()
            .contains("'|' would try the next entry"),
        "{row}"
    );
}

#[test]
fn untrusted_upstream_certificate_fails_as_upstream_untrusted() {
    if go().is_none() {
        return;
    }
    let fx = Fixture::start();
    // The fixture's CA is not handed to gomitm: its certificate is not trusted.
    let mut args = resolve_args(&["goproxy.test"], fx.addr);
    args.extend(["--module".into(), MODULE.into()]);
    let run = broken_proxy("https://goproxy.test", args, "upstream_untrusted");
    let row = run.row("GOPROXY[1]", "@v/list");
    assert!(
        row["status"].is_null(),
        "no answer from an untrusted server: {row}"
    );
    assert!(row["issuer"].is_null(), "{row}");
}

#[test]
fn a_name_that_does_not_resolve_fails_as_dns() {
    if go().is_none() {
        return;
    }
    let args = vec!["--module".to_string(), MODULE.to_string()];
    let run = broken_proxy("https://goproxy.doctor.invalid", args, "dns");
    assert_eq!(run.row("GOPROXY[1]", "@v/list")["error"], "dns");
}

#[test]
fn connection_refused_fails_as_connect_refused() {
    if go().is_none() {
        return;
    }
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args = vec![
        "--resolve".to_string(),
        format!("refused.test:443=127.0.0.1:{port}"),
        "--module".to_string(),
        MODULE.to_string(),
    ];
    broken_proxy("https://refused.test", args, "connect_refused");
}

#[test]
fn checksum_database_failure_fails_its_rows() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    // A well-formed key, but the URL is the fixture's database that knows nothing.
    let gosumdb = format!("{} https://{SUMDB_HOST}", honest_sumdb());
    let run = doctor(
        &go,
        tmp.path(),
        &[("GOPROXY", "https://goproxy.test"), ("GOSUMDB", &gosumdb)],
        &module_args(&fx, &["goproxy.test", SUMDB_HOST]),
        true,
    );
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert_eq!(run.row("GOPROXY[1]", "@v/list")["verdict"], "ok");
    let latest = run.row("GOSUMDB sumdb.test", "/latest");
    assert_eq!(
        (latest["status"].as_u64(), latest["verdict"].as_str()),
        (Some(404), Some("fail"))
    );
    assert_eq!(latest["code"], "sumdb_unavailable");
    let lookup = run.row("GOSUMDB sumdb.test", "/lookup");
    assert_eq!(
        (lookup["status"].as_u64(), lookup["verdict"].as_str()),
        (Some(410), Some("fail")),
        "{lookup}"
    );
    assert_eq!(
        run.settings("GOSUMDB")[0]["verdict"],
        "ok",
        "the key itself is fine"
    );
}

/// Settings only: GOSUMDB=off and no URL in GOPROXY, so nothing is sent anywhere.
fn settings_only(env: &[(&str, &str)]) -> Run {
    let go = go().expect("go");
    let tmp = tempfile::tempdir().unwrap();
    let mut all = vec![("GOSUMDB", "off")];
    all.extend_from_slice(env);
    let run = doctor(&go, tmp.path(), &all, &[], true);
    assert!(
        run.rows().iter().all(|r| r["flow_id"].is_null()),
        "a settings-only check sent a request: {}",
        run.stdout
    );
    run
}

#[test]
fn bad_goproxy_syntax_is_named_per_entry() {
    if go().is_none() {
        return;
    }
    let run = settings_only(&[("GOPROXY", "goproxy.test,,direct,off")]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let rows = run.settings("GOPROXY");
    let text: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {} {}", r["verdict"], r["code"], r["detail"]))
        .collect();
    let has = |verdict: &str, needle: &str| {
        rows.iter().any(|r| {
            r["verdict"] == verdict
                && r["code"] == "goproxy_syntax"
                && r["detail"].as_str().unwrap().contains(needle)
        })
    };
    assert!(has("fail", "has no scheme"), "{text:#?}");
    assert!(has("warn", "empty entry"), "{text:#?}");
    assert!(has("warn", "direct is entry 2 of 3"), "{text:#?}");
    let off = settings_only(&[("GOPROXY", "off")]);
    assert!(
        off.settings("GOPROXY")
            .iter()
            .any(|r| r["code"] == "goproxy_off"),
        "{}",
        off.stdout
    );
}

#[test]
fn incoherent_goprivate_and_gonosumdb_fail() {
    if go().is_none() {
        return;
    }
    let run = settings_only(&[
        ("GOPROXY", "direct"),
        ("GOPRIVATE", "corp.test,*.internal.test"),
        ("GONOSUMDB", "corp.test"),
        ("GOFLAGS", "-insecure"),
        ("GONOSUMCHECK", "1"),
    ]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let nosumdb = run.settings("GONOSUMDB");
    assert_eq!(
        nosumdb.len(),
        1,
        "only *.internal.test is uncovered: {nosumdb:?}"
    );
    assert_eq!(nosumdb[0]["code"], "private_incoherent");
    assert!(nosumdb[0]["detail"]
        .as_str()
        .unwrap()
        .contains("*.internal.test"));
    assert_eq!(run.settings("GOFLAGS")[0]["code"], "insecure_flag");
    assert_eq!(run.settings("GONOSUMCHECK")[0]["verdict"], "warn");
}

/// GOINSECURE read from the real `go env`: a URL as a pattern fails, `*` warns, a private
/// host passes.
#[test]
fn goinsecure_patterns_are_judged() {
    if go().is_none() {
        return;
    }
    let run = settings_only(&[
        ("GOPROXY", "direct"),
        ("GOINSECURE", "https://git.corp.test,*"),
    ]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let rows = run.settings("GOINSECURE");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["verdict"].as_str().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [("fail", "goinsecure_scope"), ("warn", "goinsecure_scope")],
        "{}",
        run.stdout
    );
    let fine = settings_only(&[
        ("GOPROXY", "direct"),
        ("GOPRIVATE", "*.corp.test"),
        ("GOINSECURE", "git.corp.test"),
    ]);
    let rows = fine.settings("GOINSECURE");
    assert_eq!(rows.len(), 1, "{}", fine.stdout);
    assert_eq!(rows[0]["verdict"], "ok");
}

#[test]
fn bad_gosumdb_keys_fail_and_good_ones_pass() {
    if go().is_none() {
        return;
    }
    let key = honest_sumdb();
    let (name, rest) = key.split_once('+').unwrap();
    let (_, b64) = rest.split_once('+').unwrap();
    let wrong_hash = format!("{name}+00000000+{b64}");
    for bad in [
        wrong_hash.as_str(),
        "sumdb.test+abc+AAAA",
        "my.sumdb.test",
        "sum.golang.org ftp://x",
    ] {
        let go = go().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        // A malformed GOSUMDB is not probed (go refuses it before any request).
        let run = doctor(
            &go,
            tmp.path(),
            &[("GOPROXY", "off"), ("GOSUMDB", bad)],
            &[],
            true,
        );
        assert!(
            run.rows().iter().all(|r| r["flow_id"].is_null()),
            "{}",
            run.stdout
        );
        let row = run.settings("GOSUMDB");
        assert_eq!(row[0]["verdict"], "fail", "{bad}: {row:?}");
        assert_eq!(row[0]["code"], "gosumdb_key", "{bad}");
        assert_eq!(run.code, 3);
    }
    let good = settings_only(&[("GOPROXY", "off")]);
    assert_eq!(
        good.settings("GOSUMDB")[0]["verdict"],
        "warn",
        "off is a warning"
    );
}

#[test]
fn netrc_entries_are_reported_present_and_their_secrets_never_printed() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(".netrc"),
        "machine goproxy.test\n  login alice-the-user\n  password s3cr3t-t0ken-value\nmachine other.test login bob password hunter2-secret\n",
    )
    .unwrap();
    for json in [true, false] {
        let run = doctor(
            &go,
            tmp.path(),
            &[("GOPROXY", "https://goproxy.test"), ("GOSUMDB", "off")],
            &module_args(&fx, &["goproxy.test"]),
            json,
        );
        for secret in ["s3cr3t-t0ken-value", "alice-the-user", "hunter2-secret"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} printed"
            );
        }
        assert!(
            run.stdout
                .contains("login and password present (not shown)"),
            "{}",
            run.stdout
        );
        if json {
            let row = run.row("credentials goproxy.test", ".netrc");
            assert_eq!(row["verdict"], "ok");
            assert!(run.settings(".netrc")[0]["detail"]
                .as_str()
                .unwrap()
                .ends_with("2 entries"));
        }
    }
}

#[test]
fn a_ca_the_system_trusts_that_is_not_public_is_named_as_tls_inspection() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    // The fixture's CA as this machine's trust store, not as --extra-root: what a corporate
    // inspection CA installed by IT looks like to gomitm.
    let mut args = resolve_args(&["goproxy.test"], fx.addr);
    args.extend(["--module".into(), MODULE.into()]);
    let ca = fx.ca_pem.display().to_string();
    let run = doctor(
        &go,
        tmp.path(),
        &[
            ("GOPROXY", "https://goproxy.test"),
            ("GOSUMDB", "off"),
            ("SSL_CERT_FILE", &ca),
        ],
        &args,
        true,
    );
    let row = run.row("GOPROXY[1]", "@v/list");
    assert_eq!(row["status"], 200, "{row}");
    assert_eq!(row["issuer_kind"], "tls_inspection", "{row}");
    assert_eq!(
        (row["verdict"].as_str(), row["code"].as_str()),
        (Some("warn"), Some("tls_inspection"))
    );
    assert_eq!(run.code, 0, "a warning does not fail: {}", run.stdout);
}

#[test]
fn the_inherited_https_proxy_is_the_proxy_in_the_path_unless_no_proxy_says_otherwise() {
    let Some(go) = go() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens on the corporate proxy's port: the row fails, and says through what.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let corp = format!("http://127.0.0.1:{port}");
    let env = [
        ("GOPROXY", "https://goproxy.test,https://a.test"),
        ("GOSUMDB", "off"),
        ("HTTPS_PROXY", corp.as_str()),
        ("NO_PROXY", "a.test"),
    ];
    let run = doctor(
        &go,
        tmp.path(),
        &env,
        &module_args(&fx, &["goproxy.test", MISSING_PROXY_HOST]),
        true,
    );
    let through = run.row("GOPROXY[1]", "@v/list");
    assert_eq!(through["via"], corp.as_str(), "{through}");
    assert_eq!(through["verdict"], "fail", "{through}");
    let direct = run.row("GOPROXY[2]", "@v/list");
    assert_eq!(direct["via"], "direct", "{direct}");
    assert_eq!(
        direct["status"], 404,
        "NO_PROXY sent a.test direct: {direct}"
    );
    let env_row = run.settings("HTTPS_PROXY");
    assert!(
        env_row[0]["detail"]
            .as_str()
            .unwrap()
            .contains("except NO_PROXY=a.test"),
        "{env_row:?}"
    );
}

/// `curl` status of `url` within 5 s; `None` when it cannot be reached.
fn reachable(url: &str) -> Option<u16> {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-m",
            "5",
            "-w",
            "%{http_code}",
            url,
        ])
        .output();
    match out {
        Err(e) if in_ci() => panic!("CI=true and curl cannot run for the network probe: {e}"),
        Err(_) => None,
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .ok()
            .filter(|c| *c != 0),
    }
}

/// The one test that leaves the machine: the public module proxy and checksum database only
/// (never a VCS host), and only when a quick probe reaches them; otherwise one loud line.
#[test]
fn public_module_proxy_and_checksum_database() {
    let Some(go) = go() else { return };
    let list = "https://proxy.golang.org/golang.org/x/text/@v/list";
    if reachable(list) != Some(200) {
        eprintln!("SKIPPED (network): {list} is not reachable from this machine; the public doctor test did not run");
        return;
    }
    let sumdb = reachable("https://sum.golang.org/latest") == Some(200);
    let tmp = tempfile::tempdir().unwrap();
    let run = doctor(
        &go,
        tmp.path(),
        &[
            ("GOPROXY", "https://proxy.golang.org"),
            ("GOSUMDB", "sum.golang.org"),
        ],
        &[],
        true,
    );
    let row = run.row("GOPROXY[1] https://proxy.golang.org", "@v/list");
    assert_eq!(row["status"], 200, "{row}");
    assert!(
        matches!(row["verdict"].as_str(), Some("ok" | "warn")),
        "{row}"
    );
    assert!(
        matches!(
            row["issuer_kind"].as_str(),
            Some("public" | "tls_inspection")
        ),
        "{row}"
    );
    let latest = run.row("GOSUMDB sum.golang.org", "/latest");
    let lookup = run.row("GOSUMDB sum.golang.org", "/lookup");
    if sumdb {
        assert_eq!(latest["status"], 200, "{latest}");
        assert_eq!(lookup["status"], 200, "{lookup}");
        assert!(lookup["url"]
            .as_str()
            .unwrap()
            .contains("/lookup/golang.org/x/text@"));
    } else {
        eprintln!("SKIPPED (network): sum.golang.org is not reachable from this machine; only its failure is checked");
        assert_eq!(
            latest["verdict"], "fail",
            "curl could not reach it either: {latest}"
        );
    }
}

#[test]
fn a_go_that_does_not_run_is_an_error_not_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-go");
    let run = doctor(&missing, tmp.path(), &[], &[], false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("`go env -json` did not run"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}
