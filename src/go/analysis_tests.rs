//! Tests for the run-level `analysis` (fallback chains, direct fetches, leaks, prefix probes,
//! totals) and its rendered text. A child module of `analysis` (`#[path]`), so it sees its
//! private helpers. Must not test single-flow diagnoses (`diagnose_tests`).

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::Timings;
use crate::go::diagnose::Os;

/// Flow `id`, started `id` ms into the run and lasting `id * 10` ms, classified.
fn f(id: u64, method: &str, url: &str, status: u16, body: &[u8]) -> Flow {
    let mut flow = FlowBuilder::get(url)
        .id(id)
        .method(method)
        .status(status, body)
        .timings(Timings {
            total_ms: Some(id as f64 * 10.0),
            ..Timings::default()
        })
        .build();
    flow.started_at_us += id as i64 * 1000;
    flow.go = crate::go::classify(&flow.request.method, &flow.request.url, &Default::default());
    flow
}

/// The first `len` bytes of a module zip: a local file header naming `name`, then zeros.
fn zip_start(name: &str, len: usize) -> Vec<u8> {
    let mut z = b"PK\x03\x04".to_vec();
    z.extend_from_slice(&[0; 22]);
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    z.extend_from_slice(name.as_bytes());
    z.resize(len.max(z.len()), 0);
    z
}

/// A GET answered with `status` and an empty body, but for a 2xx `.mod`, the go.mod of the
/// module asked for (an empty go.mod is itself a wrong answer).
fn get(id: u64, url: &str, status: u16) -> Flow {
    f(id, "GET", url, status, &sound_go_mod(url, status))
}

fn sound_go_mod(url: &str, status: u16) -> Vec<u8> {
    let go = crate::go::classify("GET", url, &Default::default());
    match go.as_deref() {
        Some(g) if g.kind == GoKind::Mod && status / 100 == 2 => {
            format!("module {}\n", g.module.as_deref().unwrap_or("m")).into_bytes()
        }
        _ => Vec::new(),
    }
}

fn sum(flows: &[Flow], private: &str) -> Summary {
    let private = PrivatePatterns::from_globs(private);
    summarize(
        flows,
        &DiagnoseContext {
            private: &private,
            os: Os::Linux,
            bundle: None,
            go: None,
            goproxy: None,
            goauth: None,
        },
        RunEvidence::default(),
    )
}

#[test]
fn fallback_chain_names_the_source_that_served() {
    let m = "example.org/hello/@v/v1.0.0";
    let flows = [
        get(1, &format!("https://a.test/{m}.info"), 404),
        get(2, &format!("https://b.test/{m}.info"), 200),
        get(3, &format!("https://a.test/{m}.mod"), 404),
        get(4, &format!("https://b.test/{m}.mod"), 200),
        f(
            5,
            "GET",
            &format!("https://b.test/{m}.zip"),
            200,
            &zip_start("example.org/hello@v1.0.0/go.mod", 2048),
        ),
    ];
    let s = sum(&flows, "");
    assert_eq!(s.modules.len(), 1);
    let r = &s.modules[0];
    assert_eq!(
        (r.module.as_str(), r.version.as_deref()),
        ("example.org/hello", Some("v1.0.0"))
    );
    assert_eq!(r.served_by.as_deref(), Some("https://b.test"));
    let chain: Vec<(&str, &str)> = r
        .attempts
        .iter()
        .map(|a| (a.source.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        chain,
        [
            ("https://a.test", "404 Not Found"),
            ("https://b.test", "200")
        ]
    );
    assert!(
        s.failures.is_empty(),
        "a 404 that fell back is not a failure"
    );
    assert_eq!(s.totals.failed, 0);
    let text = s.render();
    assert!(
        text.contains("example.org/hello@v1.0.0  served by b.test  [chain: a.test 404 Not Found → b.test 200]"),
        "{text}"
    );
    assert!(
        text.starts_with("gomitm: 5 requests, 1 module, 0 failed"),
        "{text}"
    );
}

#[test]
fn direct_fetch_links_discovery_and_git_to_the_module() {
    let meta = b"<head><meta name=\"go-import\" content=\"corp.example/lib git https://git.corp.example/team/lib.git\"></head>";
    let repo = "https://git.corp.example/team/lib.git";
    let flows = [
        get(
            1,
            "https://proxy.golang.org/corp.example/lib/@v/v1.0.0.info",
            404,
        ),
        f(2, "GET", "https://corp.example/lib/pkg?go-get=1", 200, meta),
        get(3, &format!("{repo}/info/refs?service=git-upload-pack"), 401),
        get(4, &format!("{repo}/info/refs?service=git-upload-pack"), 200),
        f(5, "POST", &format!("{repo}/git-upload-pack"), 200, b"pack"),
        get(
            6,
            "https://unrelated.test/other/info/refs?service=git-upload-pack",
            200,
        ),
    ];
    let s = sum(&flows, "");
    let r = &s.modules[0];
    assert_eq!(r.module, "corp.example/lib");
    assert_eq!(r.served_by.as_deref(), Some("direct"));
    let chain: Vec<String> = r
        .attempts
        .iter()
        .map(|a| format!("{} {}", a.source, a.outcome))
        .collect();
    assert_eq!(
        chain,
        [
            "https://proxy.golang.org 404 Not Found",
            "direct go-get 200",
            "direct git 200"
        ]
    );
    assert_eq!(r.attempts[2].flow_id, 5);
    // The unrelated repository is a module of its own, not part of corp.example/lib.
    assert_eq!(s.modules.len(), 2);
    assert_eq!(s.modules[1].module, "unrelated.test/other");
    // git's first 401 was answered on the retry with credentials: no failure.
    assert!(s.failures.is_empty(), "{:?}", s.failures);
}

#[test]
fn private_paths_sent_to_proxy_or_sumdb_are_leaks_even_when_they_succeed() {
    let m = "corp.example/secret";
    let flows = [
        get(
            1,
            &format!("https://proxy.golang.org/{m}/@v/v1.0.0.info"),
            200,
        ),
        get(
            2,
            &format!("https://proxy.golang.org/{m}/@v/v1.0.0.mod"),
            200,
        ),
        get(3, &format!("https://sum.golang.org/lookup/{m}@v1.0.0"), 410),
        get(
            4,
            "https://proxy.golang.org/example.org/pub/@v/v1.0.0.info",
            200,
        ),
    ];
    let s = sum(&flows, "corp.example");
    assert_eq!(s.leaks.len(), 2, "{:?}", s.leaks);
    let (proxy, sumdb) = (&s.leaks[0], &s.leaks[1]);
    assert_eq!(
        (proxy.flow_id, proxy.to_sumdb, proxy.succeeded),
        (1, false, true)
    );
    assert_eq!(proxy.host, "proxy.golang.org");
    assert!(proxy.fix.contains("GOPRIVATE=corp.example") && proxy.fix.contains("GONOPROXY"));
    assert_eq!((sumdb.to_sumdb, sumdb.succeeded), (true, false));
    assert!(sumdb.fix.contains("GONOSUMDB=corp.example"));
    assert!(sum(&flows, "").leaks.is_empty(), "no patterns, no leaks");

    let text = s.render();
    let leak = text
        .find("!! LEAK #1 corp.example/secret")
        .unwrap_or(usize::MAX);
    let modules = text.find("Modules (").unwrap_or(0);
    assert!(leak < modules, "leaks come first:\n{text}");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.contains("corp.example")),
        "{text}"
    );
}

#[test]
fn prefix_probe_404s_are_noise_but_a_real_404_is_a_failure() {
    let flows = [
        get(
            1,
            "https://proxy.golang.org/example.org/hello/@v/v1.0.0.info",
            200,
        ),
        get(
            2,
            "https://proxy.golang.org/example.org/@v/v1.0.0.info",
            404,
        ),
        get(
            3,
            "https://proxy.golang.org/example.org/hello/@v/v1.0.0.zip",
            200,
        ),
        get(
            4,
            "https://proxy.golang.org/missing.test/m/@v/v9.9.9.info",
            404,
        ),
        get(
            5,
            "https://proxy.golang.org/missing.test/m/@v/v9.9.9.info",
            404,
        ),
        get(
            6,
            "https://proxy.golang.org/missing.test/@v/v9.9.9.info",
            404,
        ),
        get(
            7,
            "https://proxy.golang.org/example.org/hello/sub/@v/v1.0.0.info",
            404,
        ),
    ];
    let s = sum(&flows, "");
    let names: Vec<&str> = s.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(names, ["example.org/hello", "missing.test/m"]);
    assert_eq!(s.failures.len(), 1, "{:?}", s.failures);
    let fail = &s.failures[0];
    assert_eq!((fail.flow_id, fail.repeats), (4, 1), "Go 1.24+ asks twice");
    assert_eq!(fail.diagnosis.code, "module_not_found");
    assert_eq!(s.totals.failed, 2);
    assert_eq!(s.totals.requests, 7);
    let text = s.render();
    assert!(text.contains("missing.test/m@v9.9.9  NOT SERVED"), "{text}");
    assert!(text.contains("#4 warning module_not_found"), "{text}");
    assert!(!text.contains("PRIVATE-PATH"), "{text}");
}

#[test]
fn totals_and_slowest() {
    let mut flows: Vec<Flow> = (1..=7)
        .map(|id| {
            get(
                id,
                &format!("https://p.test/x.test/m{id}/@v/v1.0.0.mod"),
                200,
            )
        })
        .collect();
    if let Some(r) = flows[0].response.as_mut() {
        r.body.total = 1000;
    }
    let rest: u64 = flows[1..]
        .iter()
        .filter_map(|f| f.response.as_ref())
        .map(|r| r.body.total)
        .sum();
    let s = sum(&flows, "");
    assert_eq!(s.totals.requests, 7);
    assert_eq!(s.totals.bytes, 1000 + rest);
    // Flow 1 starts at 1 ms; flow 7 starts at 7 ms and lasts 70 ms.
    assert!(
        (s.totals.wall_ms - 76.0).abs() < 1e-9,
        "{}",
        s.totals.wall_ms
    );
    let ids: Vec<u64> = s.slowest.iter().map(|r| r.flow_id).collect();
    assert_eq!(ids, [7, 6, 5, 4, 3]);
    assert!(s
        .render()
        .contains("Slowest requests:\n     70ms  #7 https://p.test/"));
}

/// `GOPROXY=direct go get git.test/private@v1.0.0`: go probes the bare host concurrently.
fn direct_fetch(probe_first: bool, git_status: u16) -> Vec<Flow> {
    let meta = b"<head><meta name=\"go-import\" content=\"git.test/private git https://git.test/private.git\"></head>";
    let (probe, own) = if probe_first { (1, 2) } else { (2, 1) };
    let refs = "https://git.test/private.git/info/refs?service=git-upload-pack";
    let mut flows = vec![
        get(probe, "https://git.test/?go-get=1", 404),
        f(own, "GET", "https://git.test/private?go-get=1", 200, meta),
        get(3, refs, git_status),
    ];
    if git_status == 200 {
        flows.push(f(
            4,
            "POST",
            "https://git.test/private.git/git-upload-pack",
            200,
            b"pack",
        ));
    }
    flows
}

fn chain(r: &ModuleReport) -> Vec<String> {
    r.attempts
        .iter()
        .map(|a| format!("{} {}", a.source, a.outcome))
        .collect()
}

#[test]
fn bare_host_discovery_probe_is_neither_the_module_nor_a_failure_in_either_order() {
    for probe_first in [true, false] {
        let flows = direct_fetch(probe_first, 401);
        let s = sum(&flows, "");
        let names: Vec<&str> = s.modules.iter().map(|m| m.module.as_str()).collect();
        assert_eq!(names, ["git.test/private"], "probe first: {probe_first}");
        let r = &s.modules[0];
        assert_eq!(r.served_by, None);
        assert_eq!(
            chain(r),
            ["direct go-get 200", "direct git 401 Unauthorized"]
        );
        let urls: Vec<&str> = s.failures.iter().map(|f| f.url.as_str()).collect();
        assert!(
            !urls.contains(&"https://git.test/?go-get=1"),
            "probe first: {probe_first}: {urls:?}"
        );
        assert!(s
            .render()
            .contains("git.test/private  NOT SERVED  [chain: direct go-get 200 → direct git 401"));

        let s = sum(&direct_fetch(probe_first, 200), "");
        let names: Vec<&str> = s.modules.iter().map(|m| m.module.as_str()).collect();
        assert_eq!(names, ["git.test/private"], "probe first: {probe_first}");
        assert_eq!(s.modules[0].served_by.as_deref(), Some("direct"));
        assert_eq!(
            chain(&s.modules[0]),
            ["direct go-get 200", "direct git 200"]
        );
        assert!(s.failures.is_empty(), "{:?}", s.failures);
    }
}

#[test]
fn a_prefix_is_a_probe_only_when_a_longer_path_was_asked_for_and_it_did_not_resolve() {
    let meta = b"<head><meta name=\"go-import\" content=\"corp.example/lib git https://git.corp.example/lib.git\"></head>";
    let flows = [
        f(1, "GET", "https://corp.example/lib/pkg?go-get=1", 200, meta),
        f(2, "GET", "https://corp.example/lib?go-get=1", 200, meta),
        get(3, "https://corp.example/?go-get=1", 404),
        get(4, "https://lonely.example/?go-get=1", 404),
        get(5, "https://p.test/mod.example/a/b/@v/v1.0.0.info", 200),
        get(6, "https://mod.example/a?go-get=1", 404),
    ];
    let ordered: Vec<&Flow> = flows.iter().collect();
    // 2 resolved to a go-import root of its own; 4 is the only path on its host.
    assert_eq!(discovery_probes(&ordered), [3, 6]);
    let s = sum(&flows, "");
    let urls: Vec<&str> = s.failures.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(urls, ["https://lonely.example/?go-get=1"]);
}

#[test]
fn a_probe_never_replaces_the_go_get_result_of_a_module_a_proxy_was_asked_for() {
    // GOPROXY=https://p.test,direct: the proxy does not have it, discovery and git do.
    let meta = b"<head><meta name=\"go-import\" content=\"git.test/private git https://git.test/private.git\"></head>";
    let flows = [
        get(1, "https://p.test/git.test/private/@v/v1.0.0.info", 404),
        get(2, "https://p.test/git.test/@v/v1.0.0.info", 404),
        f(3, "GET", "https://git.test/private?go-get=1", 200, meta),
        get(4, "https://git.test/?go-get=1", 404),
        get(
            5,
            "https://git.test/private.git/info/refs?service=git-upload-pack",
            401,
        ),
    ];
    let s = sum(&flows, "");
    let names: Vec<&str> = s.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(names, ["git.test/private"]);
    assert_eq!(
        chain(&s.modules[0]),
        [
            "https://p.test 404 Not Found",
            "direct go-get 200",
            "direct git 401 Unauthorized"
        ]
    );
    let ids: Vec<u64> = s.failures.iter().map(|f| f.flow_id).collect();
    assert!(!ids.contains(&4), "{:?}", s.failures);
}

/// A 200 head whose body then broke off, as the proxy records it.
fn cut(mut flow: Flow) -> Flow {
    flow.error = Some(crate::flow::FlowError {
        class: crate::flow::ErrorClass::UpstreamReset,
        message: "stream error received: unexpected internal error encountered".into(),
    });
    if let Some(r) = flow.response.as_mut() {
        r.body.complete = false;
    }
    flow
}

#[test]
fn a_source_whose_zip_or_mod_was_cut_mid_body_did_not_serve_the_module() {
    let m = "example.test/broken/@v/v1.0.0";
    let zip = |id, host: &str| {
        f(
            id,
            "GET",
            &format!("https://{host}/{m}.zip"),
            200,
            &zip_start("example.test/broken@v1.0.0/go.mod", 100),
        )
    };
    let flows = [
        get(1, &format!("https://a.test/{m}.info"), 200),
        get(2, &format!("https://a.test/{m}.mod"), 200),
        cut(zip(3, "a.test")),
    ];
    let s = sum(&flows, "");
    let r = &s.modules[0];
    assert_eq!(r.served_by, None, "{r:?}");
    assert_eq!(chain(r), ["https://a.test upstream reset error"]);
    assert!(s
        .render()
        .contains("example.test/broken@v1.0.0  NOT SERVED"));

    // With '|' go falls back after the reset: the next source served it.
    let mut fell_back = flows.to_vec();
    fell_back.push(zip(4, "b.test"));
    let r = &sum(&fell_back, "").modules[0];
    assert_eq!(r.served_by.as_deref(), Some("https://b.test"));

    // A cut .mod (no .zip asked for) does not credit the .info that came before it.
    let flows = [
        get(1, &format!("https://a.test/{m}.info"), 200),
        cut(get(2, &format!("https://a.test/{m}.mod"), 200)),
    ];
    assert_eq!(sum(&flows, "").modules[0].served_by, None);

    // A cut pack is no git fetch either.
    let mut flows = direct_fetch(true, 200);
    let pack = flows.len() - 1;
    flows[pack] = cut(flows[pack].clone());
    assert_eq!(sum(&flows, "").modules[0].served_by, None);
}

#[test]
fn secrets_in_urls_are_redacted_in_the_summary_and_module_at_versions_are_not_mangled() {
    let url = "https://cdn.test/m.test/x/@v/v1.0.0.zip?X-Amz-Signature=s3cr3t&token=t0k3n";
    let flows = [f(1, "GET", url, 500, b"")];
    let text = summarize_failed_run(
        &flows,
        "go mod download m.test/x@v1.0.0",
        &format!("go: m.test/x@v1.0.0: reading {url}: 500 Internal Server Error\n"),
    );
    assert!(
        !text.contains("s3cr3t") && !text.contains("t0k3n"),
        "{text}"
    );
    assert!(
        text.contains("go said: go: m.test/x@v1.0.0: reading https://cdn.test/"),
        "{text}"
    );
    assert!(text.starts_with("gomitm: FAILED: `go mod download m.test/x@v1.0.0` exited with status 1; 1 failed request explains it"), "{text}");
}

/// Issue 14: URLs, %-decoded module paths, leaks, status texts, error messages and go's own
/// lines are printed as visible stand-ins, never raw; only the renderer ends a line.
#[test]
fn the_summary_never_writes_control_or_bidi_characters_from_the_network() {
    use crate::go::evidence;
    use crate::go::verdict::CommandOutcome;
    let evil = "\u{1b}[2J\u{1b}]0;t\u{7}\r\u{7f}\u{9b}31m\u{202e}\u{2066}\n";
    let mut failed = get(
        1,
        "https://proxy.golang.org/evil.test/m%1b%5b2J%e2%80%ae%0d/@v/v1.0.0.zip",
        502,
    );
    if let Some(r) = failed.response.as_mut() {
        r.reason = format!("Bad{evil}Gateway").into();
    }
    let mut broken = get(2, &format!("https://evil.test/p{evil}x"), 0);
    broken.response = None;
    broken.error = Some(crate::flow::FlowError {
        class: crate::flow::ErrorClass::UpstreamReset,
        message: format!("reset{evil}by peer"),
    });
    let leaked = get(
        3,
        "https://proxy.golang.org/corp.example/s%1b%5b31m%e2%80%ae/@v/v1.0.0.info",
        200,
    );
    let slow = get(4, &format!("https://evil.test/slow{evil}"), 200);
    let outcome = CommandOutcome {
        command: "go mod download".into(),
        exit_code: 1,
        errors: evidence::parse(
            &format!("go: evil.test/m@v1.0.0: reading https://evil.test/{evil}: 502\n"),
            "",
        ),
        ..CommandOutcome::default()
    };
    let private = PrivatePatterns::from_globs("corp.example");
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::Linux,
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    };
    let text = summarize(
        &[failed, broken, leaked, slow],
        &ctx,
        RunEvidence {
            outcome: Some(&outcome),
            go_sum: None,
        },
    )
    .render();
    crate::terminal_text::assert_safe(&text);
    for shown in [
        "evil.test/m␛[2J<U+202E>",
        "!! LEAK #3 corp.example/s␛[31m<U+202E>",
        "https://evil.test/p␛[2J␛]0;t␇␍␡<U+009B>31m<U+202E><U+2066>␊x",
        "https://evil.test/slow␛[2J",
    ] {
        assert!(text.contains(shown), "{shown:?} not in:\n{text}");
    }
    assert!(!text.lines().any(|l| l.starts_with('x')), "{text}");
}

/// go printed `verifying go.mod` for the module (the checksum database refused, here through
/// the proxy): whatever answered 200, the module was not served.
#[test]
fn a_module_go_could_not_verify_is_not_served() {
    let flows = [
        f(
            1,
            "GET",
            "https://a.test/m.test/x/@v/v1.0.0.info",
            200,
            b"{\"Version\":\"v1.0.0\"}",
        ),
        f(
            2,
            "GET",
            "https://a.test/m.test/x/@v/v1.0.0.mod",
            200,
            b"module m.test/x\n",
        ),
        f(
            3,
            "GET",
            "https://a.test/sumdb/sum.test/supported",
            403,
            b"",
        ),
    ];
    let line = "go: m.test/x@v1.0.0: verifying go.mod: m.test/x@v1.0.0/go.mod: reading https://a.test/sumdb/sum.test/supported: 403 Forbidden\n";
    let text = summarize_failed_run(&flows, "go mod download m.test/x@v1.0.0", line);
    assert!(!text.contains("served by a.test"), "{text}");
    assert!(
        text.contains("NOT SERVED") && text.contains("could not verify it"),
        "{text}"
    );
    assert!(
        text.contains("/sumdb/sum.test/supported with 200"),
        "{text}"
    );
}

/// The rendered summary of `command`, which exited 1 after printing `stderr`.
fn summarize_failed_run(flows: &[Flow], command: &str, stderr: &str) -> String {
    summarize_run(flows, command, 1, stderr)
}

/// The rendered summary of `command`, which exited with `exit_code` after printing `stderr`.
fn summarize_run(flows: &[Flow], command: &str, exit_code: i32, stderr: &str) -> String {
    use crate::go::evidence;
    use crate::go::verdict::CommandOutcome;
    let outcome = CommandOutcome {
        command: command.into(),
        exit_code,
        errors: evidence::parse(stderr, ""),
        ..CommandOutcome::default()
    };
    let private = PrivatePatterns::none();
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::Linux,
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    };
    summarize(
        flows,
        &ctx,
        RunEvidence {
            outcome: Some(&outcome),
            go_sum: None,
        },
    )
    .render()
}

/// `go get m.test/x` probes `m.test` too, and both are sent to one sign-in page: the page
/// answered twice, once per module, and go's line about m.test/x is the one explained.
#[test]
fn one_sign_in_page_for_two_modules_is_two_failures_and_the_named_one_explains() {
    let html = b"<html><head><title>Sign in</title></head></html>";
    let login = "https://login.test/signin";
    let page = |id: u64, of: &Flow| {
        let mut p = f(id, "GET", login, 200, html);
        p.go = of.go.clone();
        p
    };
    let x = f(1, "GET", "https://a.test/m.test/x/@v/v1.0.0.info", 302, b"");
    let m = f(2, "GET", "https://a.test/m.test/@v/v1.0.0.info", 302, b"");
    let flows = [page(3, &x), page(4, &m), x, m];
    let line = "go: m.test/x@v1.0.0: invalid response from proxy \"https://a.test\": invalid character '<' looking for beginning of value\n";
    let text = summarize_failed_run(&flows, "go get m.test/x@v1.0.0", line);
    assert!(
        text.contains("because: #3 html_instead_of_data: login.test answered m.test/x@v1.0.0"),
        "{text}"
    );
}

/// After a command that succeeded, a sign-in page as a go.mod that go asked for no other copy
/// of is a wrong answer go kept (with where it is cached); one a later source answered soundly
/// is a failure go recovered from, and no warning.
#[test]
fn a_wrong_answer_go_asked_no_other_copy_of_is_kept_and_one_it_replaced_is_recovered() {
    let html = b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>";
    let m = "example.test/Up/@v/v1.0.0";
    let command = "go mod download example.test/Up@v1.0.0";
    let kept = [
        get(1, &format!("https://a.test/{m}.info"), 200),
        f(2, "GET", &format!("https://a.test/{m}.mod"), 200, html),
    ];
    let text = summarize_run(&kept, command, 0, "");
    let second = text.lines().nth(1).unwrap_or("");
    assert!(
        text.starts_with("gomitm: ok: ")
            && second.contains(
                "but go kept #2's answer as example.test/Up@v1.0.0's go.mod: an HTML page"
            ),
        "{text}"
    );
    assert!(
        text.contains(
            "fix: delete $(go env GOMODCACHE)/cache/download/example.test/!up/@v/v1.0.0.mod"
        ),
        "the cached path is go's escaped one\n{text}"
    );
    assert!(
        text.contains("go KEPT A WRONG ANSWER") && text.contains("Wrong answers go kept (1):"),
        "{text}"
    );
    let replaced = [
        get(1, &format!("https://a.test/{m}.info"), 200),
        f(2, "GET", &format!("https://a.test/{m}.mod"), 200, html),
        f(
            3,
            "GET",
            &format!("https://b.test/{m}.mod"),
            200,
            b"module example.test/Up\n",
        ),
    ];
    let text = summarize_run(&replaced, command, 0, "");
    assert!(
        !text.contains("kept") && text.contains("Failed requests go recovered from (1):"),
        "{text}"
    );
    // A version list go read no version from is not cached: nothing to delete.
    let list = [f(
        1,
        "GET",
        "https://a.test/example.test/!up/@v/list",
        200,
        html,
    )];
    let text = summarize_run(&list, "go list -m -versions example.test/Up", 0, "");
    assert!(
        text.contains("but go took #1's answer as example.test/Up's version list: an HTML page; it found no version there")
            && !text.contains("GOMODCACHE"),
        "{text}"
    );
    // go caches a go.mod before anything parses it: after a failure it is kept too, with the
    // go.sum line go may have written for it; one whose hash go refused is not.
    let text = summarize_run(
        &kept,
        command,
        1,
        "go: example.test/Up@v1.0.0: parsing go.mod: unexpected input\n",
    );
    assert!(
        text.contains("  and go kept #2's answer as example.test/Up@v1.0.0's go.mod")
            && text.contains("the line 'example.test/Up v1.0.0/go.mod h1:…' from go.sum"),
        "{text}"
    );
    let text = summarize_run(
        &kept,
        command,
        1,
        "go: example.test/Up@v1.0.0: verifying go.mod: checksum mismatch\n",
    );
    assert!(!text.contains("go kept"), "{text}");
}

/// A 404 alone is a warning (go may fall back from it); the 404 go's failure names failed the
/// command and is listed as an error.
#[test]
fn a_failure_the_verdict_ties_to_go_is_an_error_whatever_it_is_alone() {
    let url = "https://a.test/m.test/x/@v/v1.0.0.info";
    let flows = [get(1, url, 404)];
    let line = format!("go: m.test/x@v1.0.0: reading {url}: 404 Not Found\n");
    let text = summarize_failed_run(&flows, "go mod download m.test/x@v1.0.0", &line);
    assert!(text.contains("#1 error module_not_found"), "{text}");
    let text = sum(&flows, "").render();
    assert!(text.contains("#1 warning module_not_found"), "{text}");
}

/// The chain names the proxy go asked; a hop a redirect led elsewhere says where it went, so
/// a sign-in page is not read as the proxy's own answer.
#[test]
fn a_redirected_hop_in_a_chain_says_where_it_went() {
    let info = f(1, "GET", "https://a.test/m.test/x/@v/v1.0.0.info", 302, b"");
    let mut page = f(
        2,
        "GET",
        "https://login.test/signin",
        200,
        b"<html><head><title>Sign in</title></head></html>",
    );
    page.go = info.go.clone();
    let text = sum(&[info, page], "").render();
    assert!(
        text.contains("a.test redirected to login.test: 200 but an HTML page"),
        "{text}"
    );
}

/// A private module tried only directly (its `?go-get=1` lookup failed) takes the version go
/// named; a query such as `@latest` is no version.
#[test]
fn a_module_tried_only_directly_takes_the_version_go_named() {
    let flows = [get(1, "https://corp.test/lib?go-get=1", 404)];
    let line = |v: &str| {
        format!("go: corp.test/lib@{v}: unrecognized import path \"corp.test/lib\": reading https://corp.test/lib?go-get=1: 404 Not Found\n")
    };
    let text = summarize_failed_run(&flows, "go mod download", &line("v1.2.0"));
    assert!(
        text.contains("\n  corp.test/lib@v1.2.0  NOT SERVED"),
        "{text}"
    );
    let text = summarize_failed_run(&flows, "go get corp.test/lib@latest", &line("latest"));
    assert!(text.contains("\n  corp.test/lib  NOT SERVED"), "{text}");
}
