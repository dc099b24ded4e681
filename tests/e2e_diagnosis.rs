//! Failure scenarios that no status code explains, and healthy runs that must raise nothing:
//! the real go (every version from `go_binaries()`) through `gomitm run` against the fixture's
//! scenario hosts. Each asserts what go did (its exit status), that gomitm's verdict agrees,
//! and the cause and fix the summary gives.
//!
//! The property every scenario checks (`verdict_agrees`): when go exits non-zero the summary
//! opens by saying the command failed, with the count of failed requests (0 only with "no
//! request explains it"); when go exits 0 it says ok and no module is reported as failed.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::fixture::{scenario, Fixture, SUMDB_NAME, SUMPROXY_HOST, VERSION};
use support::run::{go_cmd, gomitm_run_with, has, Run, Spec, EMPTY_GO_MOD};
use support::tools::{go_binaries, go_version};

const MODULE: &str = "example.test/mod01";

/// One scenario: where GOPROXY points, what else is set, and what the summary must say.
struct Case {
    name: &'static str,
    goproxy: String,
    env: Vec<(&'static str, String)>,
    /// The go.sum the main module starts with.
    go_sum: Option<String>,
    /// The `.netrc` in the run's home directory.
    netrc: Option<String>,
    /// `Some(true)`: go must fail; `Some(false)`: go must succeed.
    fails: bool,
    /// Words the summary must hold (the code, the cause, the fix).
    words: Vec<&'static str>,
}

fn case(name: &'static str, host: &str, fails: bool, words: &[&'static str]) -> Case {
    Case {
        name,
        goproxy: format!("https://{host}"),
        env: vec![("GOSUMDB", "off".into())],
        go_sum: None,
        netrc: None,
        fails,
        words: words.to_vec(),
    }
}

fn hosts() -> Vec<&'static str> {
    let mut hosts = vec!["goproxy.test", SUMDB_NAME, SUMPROXY_HOST];
    hosts.extend(scenario::HOSTS);
    hosts
}

fn run_case(fx: &Fixture, go: &Path, c: &Case, args: &[&str]) -> Run {
    let mut env = vec![("GOPROXY", c.goproxy.clone())];
    env.extend(c.env.iter().cloned());
    let resolve: Vec<&str> = hosts();
    let (go_sum, netrc) = (c.go_sum.clone(), c.netrc.clone());
    gomitm_run_with(
        fx,
        Spec {
            hosts: &resolve,
            args: &[],
            env: &env,
            go_mod: EMPTY_GO_MOD,
            command: go_cmd(go, args),
        },
        move |work| {
            if let Some(sum) = go_sum {
                std::fs::write(work.join("go.sum"), sum).expect("go.sum");
            }
            if let Some(netrc) = netrc {
                let home = work.parent().expect("the run's home");
                std::fs::write(home.join(".netrc"), netrc).expect(".netrc");
            }
        },
    )
}

/// The summary's verdict agrees with go's exit status (the property every scenario checks).
fn verdict_agrees(run: &Run, version: &str, name: &str) {
    let summary = run.summary();
    let first = summary.lines().next().unwrap_or("");
    let code = run.code().unwrap_or(-1);
    if code != 0 {
        assert!(
            first.starts_with("gomitm: FAILED: ") && first.contains(&format!("status {code}")),
            "{version} {name}: go failed but the summary opens with {first:?}\n{summary}"
        );
        assert!(
            first.contains("failed request")
                || first.contains("no request explains it (0 failed requests)"),
            "{version} {name}: no count of failed requests: {first:?}"
        );
        assert!(
            summary.contains("go said: "),
            "{version} {name}: go's own line is not quoted\n{summary}"
        );
    } else {
        assert!(
            first.starts_with("gomitm: ok: "),
            "{version} {name}: go succeeded but the summary opens with {first:?}\n{summary}"
        );
        assert!(
            !summary.contains("NOT SERVED") && !summary.contains("FAILED"),
            "{version} {name}: go succeeded, yet a module is reported failed\n{summary}"
        );
    }
}

/// A failure caused by an answer gomitm saw: the verdict ties go's failure to it.
fn verdict_names_a_request(run: &Run, version: &str, name: &str) {
    let summary = run.summary();
    let first = summary.lines().next().unwrap_or("");
    assert!(
        !first.contains("no request explains it"),
        "{version} {name}: the verdict does not tie go's failure to the request that caused it\n{summary}"
    );
}

fn check(run: &Run, c: &Case, version: &str) {
    assert_eq!(
        run.code() != Some(0),
        c.fails,
        "{version} {}: go's exit status is not what the scenario expects\n{}",
        c.name,
        run.dump()
    );
    verdict_agrees(run, version, c.name);
    let summary = run.summary();
    for w in &c.words {
        assert!(
            has(&summary, w),
            "{version} {}: the summary lacks {w:?}\n{summary}",
            c.name
        );
    }
}

fn go_sum_line(module: &str) -> String {
    let (zip, gomod) = Fixture::module_hashes(module).expect("fixture hashes");
    format!("{module} {VERSION} {zip}\n{module} {VERSION}/go.mod {gomod}\n")
}

#[test]
fn content_failures_are_explained_and_the_verdict_agrees_with_go() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    let cases = vec![
        case(
            "captive portal",
            scenario::PORTAL,
            true,
            &[
                "html_instead_of_data",
                "captive portal",
                "Guest Wi-Fi",
                "fix:",
                "invalid response from proxy",
            ],
        ),
        case(
            "info for another version",
            scenario::BAD_INFO,
            true,
            &["info_version_mismatch", "v1.0.1", "fix:"],
        ),
        case(
            "zip of another module",
            scenario::WRONG_ZIP,
            true,
            &[
                "zip_wrong_module",
                "example.test/mod02@v1.0.0",
                "unexpected file",
            ],
        ),
        case(
            "https to http redirect",
            scenario::DOWNGRADE,
            true,
            &["insecure_redirect", "http://cdn.test", "fix:"],
        ),
        case(
            "rate-limit page",
            scenario::SORRY,
            true,
            &["rate_limited", "sorry", "GOMAXPROCS"],
        ),
        case(
            "redirect loop",
            scenario::LOOP,
            true,
            &["redirect_loop", "loop.test", "stopped after 10 redirects"],
        ),
        case(
            "429 with Retry-After",
            scenario::RATE_LIMIT,
            true,
            &["rate_limited", "30 s", "Retry-After: 30"],
        ),
        case(
            "healthy redirect to a CDN",
            scenario::REDIRECT,
            false,
            &["served by"],
        ),
        case(
            "redirect to a sign-in page",
            scenario::SSO,
            true,
            &[
                "html_instead_of_data",
                "portal.test answered example.test/mod01@v1.0.0",
                "Guest Wi-Fi",
                "invalid response from proxy",
            ],
        ),
        case(
            "two redirects to a sign-in page",
            scenario::SSO_CHAIN,
            true,
            &[
                "html_instead_of_data",
                "portal.test answered example.test/mod01@v1.0.0",
                "invalid response from proxy",
            ],
        ),
        case(
            "a sign-in page as the zip",
            scenario::HTML_ZIP,
            true,
            &[
                "html_instead_of_data",
                "Guest Wi-Fi",
                "zip: not a valid zip file",
            ],
        ),
    ];
    for go in go_binaries() {
        let version = go_version(&go);
        for c in &cases {
            let run = run_case(&fx, &go, c, &["mod", "download", &target]);
            check(&run, c, &version);
            verdict_names_a_request(&run, &version, c.name);
        }
    }
}

#[test]
fn a_malformed_version_list_is_named_when_go_finds_no_version() {
    let fx = Fixture::start();
    let c = case(
        "HTML version list",
        scenario::BAD_LIST,
        true,
        &["no matching versions", "badlist.test", "fix:"],
    );
    for go in go_binaries() {
        let version = go_version(&go);
        let run = run_case(
            &fx,
            &go,
            &c,
            &["mod", "download", &format!("{MODULE}@latest")],
        );
        check(&run, &c, &version);
        let summary = run.summary();
        assert!(
            has(&summary, "html_instead_of_data") || has(&summary, "invalid_version_list"),
            "{version}: the HTML list is not named\n{summary}"
        );
        // `go list -m -versions` takes the page as a list with no version and exits 0: the
        // verdict agrees, and warns that the list go read was a page.
        let listing = case("HTML version list, listed", scenario::BAD_LIST, false, &[]);
        let run = run_case(&fx, &go, &listing, &["list", "-m", "-versions", MODULE]);
        check(&run, &listing, &version);
        let summary = run.summary();
        assert!(
            summary.lines().nth(1).is_some_and(|l| l.contains(&format!(
                "{MODULE}'s version list: an HTML page; it found no version there"
            ))),
            "{version}: no warning that go read a page as the version list\n{summary}"
        );
    }
}

#[test]
fn tampered_zips_are_security_errors_against_go_sum_and_the_checksum_database() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    let mut against_go_sum = case(
        "tampered zip vs go.sum",
        scenario::TAMPER,
        true,
        &["checksum mismatch", "go.sum"],
    );
    against_go_sum.go_sum = Some(go_sum_line(MODULE));
    let mut against_sumdb = case(
        "tampered zip vs checksum database",
        scenario::TAMPER,
        true,
        &["checksum mismatch", "SECURITY"],
    );
    against_sumdb.env = vec![(
        "GOSUMDB",
        format!("{} https://{SUMDB_NAME}", Fixture::sumdb_key()),
    )];
    for go in go_binaries() {
        let version = go_version(&go);
        for c in [&against_go_sum, &against_sumdb] {
            let run = run_case(&fx, &go, c, &["mod", "download", &target]);
            check(&run, c, &version);
            verdict_names_a_request(&run, &version, c.name);
            let summary = run.summary();
            assert!(
                !summary.contains("GOSUMDB=off to") && !summary.contains("set GONOSUMDB"),
                "{version} {}: a security error's fix must not switch verification off\n{summary}",
                c.name
            );
            let line = summary
                .lines()
                .find(|l| l.contains(&target) && !l.contains("go said"))
                .unwrap_or("");
            assert!(
                !line.contains("served by"),
                "{version} {}: the tampered module is reported served: {line:?}\n{summary}",
                c.name
            );
        }
    }
}

#[test]
fn healthy_checksum_database_runs_raise_nothing() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    let mut direct = case(
        "checksum database direct",
        "goproxy.test",
        false,
        &["served by goproxy.test"],
    );
    direct.env = vec![(
        "GOSUMDB",
        format!("{} https://{SUMDB_NAME}", Fixture::sumdb_key()),
    )];
    let mut proxied = case(
        "checksum database through the proxy",
        SUMPROXY_HOST,
        false,
        &["served by sumproxy.test"],
    );
    proxied.env = vec![("GOSUMDB", Fixture::sumdb_key())];
    for go in go_binaries() {
        let version = go_version(&go);
        for c in [&direct, &proxied] {
            let run = run_case(&fx, &go, c, &["mod", "download", &target]);
            check(&run, c, &version);
            let summary = run.summary();
            assert!(
                summary.contains(" 0 failed"),
                "{version} {}: a healthy run reports failures\n{summary}",
                c.name
            );
            assert!(
                !summary
                    .lines()
                    .any(|l| l.contains(" warning ") || l.contains(" error ")),
                "{version} {}: a healthy run raises warnings\n{summary}",
                c.name
            );
        }
    }
}

#[test]
fn failures_no_request_explains_say_so_and_settings_are_named() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    let mut off = case(
        "GOPROXY=off",
        "goproxy.test",
        true,
        &["because of a setting", "goproxy_off", "GOPROXY=off"],
    );
    off.goproxy = "off".into();
    for go in go_binaries() {
        let version = go_version(&go);
        let run = run_case(&fx, &go, &off, &["mod", "download", &target]);
        check(&run, &off, &version);
        // A go.mod go cannot parse: go fails before any request, and gomitm says no request
        // explains it.
        let broken = Case {
            name: "broken go.mod",
            goproxy: "https://goproxy.test".into(),
            env: vec![("GOSUMDB", "off".into())],
            go_sum: None,
            netrc: None,
            fails: true,
            words: vec![
                "no request explains it (0 failed requests)",
                "go said",
                "no_request",
            ],
        };
        let run = gomitm_run_with(
            &fx,
            Spec {
                hosts: &hosts(),
                args: &[],
                env: &[
                    ("GOPROXY", broken.goproxy.clone()),
                    ("GOSUMDB", "off".into()),
                ],
                go_mod: "module e2e\n\ngo 1.19\n\nrequire (\n",
                command: go_cmd(&go, &["mod", "download"]),
            },
            |_| {},
        );
        check(&run, &broken, &version);
    }
}

/// go takes a 200 answer for a go.mod as it is when nothing checks its hash (GOSUMDB=off, no
/// go.sum line): `go mod download` exits 0 and the module cache now holds a sign-in page as
/// the module's go.mod. The verdict agrees that the command succeeded, warns that what go
/// kept is not a go.mod, and says how to remove it; a later command that reads the cached
/// go.mod fails (checked with go itself, offline).
#[test]
fn a_sign_in_page_go_kept_as_a_go_mod_is_a_warning_on_a_successful_run() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    let c = case(
        "a sign-in page as the go.mod",
        scenario::HTML_MOD,
        false,
        &[
            "html_instead_of_data",
            "Guest Wi-Fi",
            "Wrong answers go kept (1):",
            "go KEPT A WRONG ANSWER",
        ],
    );
    let cached = format!("modcache/cache/download/{MODULE}/@v/{VERSION}.mod");
    for go in go_binaries() {
        let version = go_version(&go);
        let run = run_case(&fx, &go, &c, &["mod", "download", &target]);
        check(&run, &c, &version);
        let summary = run.summary();
        let warning = summary.lines().nth(1).unwrap_or("");
        assert!(
            warning.contains("but go kept #")
                && warning.contains(&format!("{target}'s go.mod: an HTML page"))
                && warning.contains("the module cache holds it"),
            "{version}: the verdict does not warn that go kept the page\n{summary}"
        );
        assert!(
            summary.contains(&format!(
                "fix: delete $(go env GOMODCACHE)/cache/download/{MODULE}/@v/{VERSION}.mod"
            )) && summary.contains("go clean -modcache"),
            "{version}: no way to remove the cached page\n{summary}"
        );
        let page = std::fs::read_to_string(run.tmp.path().join(&cached)).unwrap_or_default();
        assert!(
            page.contains("Guest Wi-Fi"),
            "{version}: go did not keep the page where the fix says ({cached}): {page:?}"
        );
        // What the warning claims: the next command that reads the go.mod fails.
        let work = run.tmp.path().join("work");
        std::fs::write(
            work.join("go.mod"),
            format!("module e2e\n\ngo 1.19\n\nrequire {MODULE} {VERSION}\n"),
        )
        .expect("go.mod");
        let mut list = std::process::Command::new(&go);
        list.args(["list", "-m", "all"]).current_dir(&work);
        support::tools::clean_go_env(&mut list, run.tmp.path());
        list.env("GOPROXY", "off");
        let out = list.output().expect("go list");
        assert!(
            !out.status.success(),
            "{version}: go read the cached page as a go.mod without complaint: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The minor release in `go version go1.26.8 linux/amd64`.
fn go_minor(version: &str) -> u32 {
    version
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.strip_prefix("go1."))
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A private proxy that wants Basic credentials, and a `.netrc` that has them. Unset GOAUTH
/// reads the `.netrc` and go succeeds; GOAUTH=off (Go 1.24+) sends nothing, go fails with the
/// 401, and the fix names the setting, not the `.netrc` line that is already there. Go 1.23
/// and older ignore GOAUTH and succeed either way: gomitm agrees.
#[test]
fn a_401_under_goauth_off_names_the_setting_and_not_the_netrc_line_already_there() {
    let fx = Fixture::start();
    let target = format!("{MODULE}@{VERSION}");
    for go in go_binaries() {
        let version = go_version(&go);
        let honours_goauth = go_minor(&version) >= 24;
        for goauth in ["", "off"] {
            let name = if goauth.is_empty() {
                "GOAUTH unset, .netrc"
            } else {
                "GOAUTH=off, .netrc"
            };
            let mut c = case(name, scenario::AUTH, goauth == "off" && honours_goauth, &[]);
            c.env.push(("GOAUTH", goauth.into()));
            c.netrc = Some(format!(
                "machine {} login bob password s3cret\n",
                scenario::AUTH
            ));
            let run = run_case(&fx, &go, &c, &["mod", "download", &target]);
            check(&run, &c, &version);
            let summary = run.summary();
            if c.fails {
                assert!(
                    summary.contains("proxy_auth")
                        && summary.contains("no credentials were sent")
                        && summary.contains("GOAUTH=off: go sends no credentials")
                        && summary.contains("unset GOAUTH"),
                    "{version} {name}: the fix does not name GOAUTH=off\n{summary}"
                );
            } else {
                assert!(
                    !summary.contains("GOAUTH=off"),
                    "{version} {name}: go sent the .netrc credentials, yet GOAUTH is blamed\n{summary}"
                );
            }
        }
    }
}
