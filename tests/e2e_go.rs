//! End to end with the real go command and git through the real gomitm binary, against the
//! TLS fixture on 127.0.0.1 (reached through made-up names that gomitm `--resolve`s).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::fixture::{Fixture, FixtureOptions, BROKEN_MODULE};
use support::gomitm::{
    error_class, go_through, gomitm_for, output_text, resolve_args, summary, url_of, workspace,
};
use support::run::root_go_mod;
use support::tools::{git_binary, go_binaries, go_version};

fn entries(har: &Value) -> &Vec<Value> {
    har["log"]["entries"].as_array().expect("log.entries")
}

#[test]
fn go_mod_download_through_gomitm_records_every_request_with_timings() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
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
            "{version}: go mod download failed\n{}",
            output_text(&out)
        );

        // Every request was classified in-line: module, version, endpoint, client tool. The
        // flows are read from the JSON lines, which the log writes in batches: wait for them
        // rather than race go's exit.
        for (module, ver) in Fixture::modules() {
            let zip = proxy.wait_for_flow(
                &format!("{version}: classified as the zip of {module}"),
                |f| f["go"]["kind"] == "zip" && f["go"]["module"] == module.as_str(),
            );
            assert_eq!(zip["go"]["version"], ver.as_str());
            assert_eq!(zip["go"]["base"], "https://goproxy.test");
            assert_eq!(zip["tool"], "go");
        }
        let har = proxy.stop();
        let entries = entries(&har);
        for (module, ver) in Fixture::modules() {
            let escaped = module.replace("Upper", "%21upper");
            for ext in ["mod", "zip"] {
                let suffix = format!("/{escaped}/@v/{ver}.{ext}");
                let e = entries
                    .iter()
                    .find(|e| {
                        e["request"]["url"]
                            .as_str()
                            .is_some_and(|u| u.ends_with(&suffix))
                    })
                    .unwrap_or_else(|| panic!("{version}: no HAR entry for {suffix}"));
                assert_eq!(e["response"]["status"], 200, "{version} {suffix}");
                assert!(
                    e["response"]["content"]["size"].as_u64().unwrap() > 0,
                    "{suffix}"
                );
                assert!(e["timings"]["wait"].as_f64().unwrap() >= 0.0);
                assert!(e["time"].as_f64().unwrap() >= 0.0);
                assert!(e["request"]["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://goproxy.test/"));
                assert_eq!(e["serverIPAddress"], "127.0.0.1");
            }
        }
        // The first request on a new upstream connection carries connect and TLS times;
        // reused connections leave them out (-1) instead of pretending zero.
        assert!(
            entries
                .iter()
                .any(|e| e["timings"]["connect"].as_f64() > Some(0.0)),
            "{version}: no connect timing"
        );
        assert!(
            entries
                .iter()
                .any(|e| e["timings"]["ssl"].as_f64() > Some(0.0)),
            "{version}: no ssl timing"
        );
        assert!(
            entries
                .iter()
                .any(|e| e["timings"]["connect"].as_f64() == Some(-1.0)),
            "{version}: no reused connection"
        );
        assert!(
            entries.iter().all(|e| e.get("_error").is_none()),
            "{version}: unexpected failure"
        );
        // Each side's key exchange is on the record, and is what go would have got direct:
        // go offers the post-quantum X25519MLKEM768 from 1.24 on (x25519 before), and gomitm's
        // TLS prefers it, towards go and towards the upstream (the fixture's TLS prefers it too).
        let pq = support::tools::go_release(&go).is_some_and(|(_, minor, _)| minor >= 24);
        let client_group = if pq { "X25519MLKEM768" } else { "x25519" };
        for e in entries {
            let g = &e["_gomitm"];
            assert_eq!(g["clientTlsGroup"], client_group, "{version}: {g}");
            assert_eq!(g["tlsGroup"], "X25519MLKEM768", "{version}: {g}");
        }
        // A burst of parallel requests shares one upstream h2 connection.
        let conns: std::collections::BTreeSet<String> = entries
            .iter()
            .map(|e| e["connection"].to_string())
            .collect();
        assert_eq!(conns.len(), 1, "{version}: upstream connections {conns:?}");
        // Go speaks h2 to gomitm when offered; gomitm speaks h2 to an h2 upstream.
        assert!(
            entries
                .iter()
                .all(|e| e["request"]["httpVersion"] == "HTTP/2"),
            "{version}"
        );
        assert!(
            entries
                .iter()
                .all(|e| e["response"]["httpVersion"] == "HTTP/2"),
            "{version}"
        );
        // gomitm adds nothing to the requests it forwards.
        for r in fx.requests() {
            for (name, _) in &r.headers {
                let n = name.to_ascii_lowercase();
                assert!(
                    !["via", "forwarded", "x-forwarded-for", "proxy-authorization"]
                        .contains(&n.as_str()),
                    "{n} added"
                );
            }
        }
        fx.clear_requests();
        eprintln!("{version}: {} HAR entries", entries.len());
    }
}

#[test]
fn go_get_direct_fetches_through_git_smart_http_and_records_it() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    assert!(
        fx.has_git(),
        "the fixture could not set up its git repository"
    );
    let path_env = format!(
        "{}:{}",
        git.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for go in go_binaries() {
        let version = go_version(&go);
        let mut proxy = gomitm_for(&fx, &["git.test"], &[]);
        let tmp = workspace("module e2e\n\ngo 1.19\n");
        let env = [("GOPROXY", "direct"), ("PATH", path_env.as_str())];
        let out = go_through(
            &go,
            &proxy,
            &proxy.ca_pem(),
            tmp.path(),
            &env,
            &["get", "git.test/hello@v1.0.0"],
        );
        assert!(
            out.status.success(),
            "{version}: go get via git failed\n{}",
            output_text(&out)
        );
        // The JSON lines are written in batches: wait for the last request of the fetch.
        proxy.wait_for_flow(&format!("{version}: git-upload-pack POST"), |f| {
            f["request"]["method"] == "POST" && url_of(f).ends_with("/hello.git/git-upload-pack")
        });
        let flows = proxy.flows();
        let discovery = flows.iter().find(|f| url_of(f).contains("/hello?go-get=1"));
        assert!(
            discovery.is_some_and(|f| f["response"]["status"] == 200),
            "{version}: no discovery flow"
        );
        let tag = &discovery.unwrap()["go"]["go_import"][0];
        assert_eq!(tag["prefix"], "git.test/hello", "{version}: {tag}");
        assert_eq!(
            tag["repo"], "https://git.test/hello.git",
            "{version}: {tag}"
        );
        let refs = flows
            .iter()
            .find(|f| url_of(f).contains("/hello.git/info/refs?service=git-upload-pack"))
            .unwrap_or_else(|| {
                panic!(
                    "{version}: no info/refs flow: {:?}",
                    flows.iter().map(summary).collect::<Vec<_>>()
                )
            });
        let ua = header(refs, "user-agent").unwrap_or_default();
        assert!(
            ua.starts_with("git/"),
            "{version}: git user agent, got {ua:?}"
        );
        assert!(
            flows.iter().any(|f| f["request"]["method"] == "POST"
                && url_of(f).ends_with("/hello.git/git-upload-pack")
                && f["response"]["status"] == 200),
            "{version}: no git-upload-pack POST"
        );
        let har = proxy.stop();
        assert!(entries(&har).iter().any(|e| e["request"]["url"]
            .as_str()
            .unwrap_or("")
            .contains("info/refs")));
    }
}

fn header(flow: &Value, name: &str) -> Option<String> {
    flow["request"]["headers"].as_array()?.iter().find_map(|h| {
        let pair = h.as_array()?;
        (pair[0].as_str()?.eq_ignore_ascii_case(name))
            .then(|| pair[1].as_str().unwrap_or("").to_string())
    })
}

/// One go run per failure, each checked in go's own output and in gomitm's record.
#[test]
fn failures_reach_go_output_and_the_store_with_the_right_class() {
    let fx = Fixture::start();
    let untrusted = Fixture::start_with(FixtureOptions {
        untrusted: true,
        ..FixtureOptions::default()
    });
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for go in go_binaries() {
        let version = go_version(&go);
        let mut extra = resolve_args(&["refused.test"], closed);
        extra.extend(resolve_args(&["badcert.test"], untrusted.addr));
        let mut proxy = gomitm_for(&fx, &["goproxy.test"], &extra);
        let ca = proxy.ca_pem();
        let cases: [(&str, &str, PathBuf, &str, &[&str]); 5] = [
            (
                "https://nosuch.invalid",
                "example.test/mod01@v1.0.0",
                ca.clone(),
                "dns",
                &["dns lookup of nosuch.invalid failed"],
            ),
            (
                "https://refused.test",
                "example.test/mod01@v1.0.0",
                ca.clone(),
                "connect",
                &["connection refused"],
            ),
            (
                "https://badcert.test",
                "example.test/mod01@v1.0.0",
                ca.clone(),
                "upstream_tls",
                &["unknown authority"],
            ),
            (
                "https://goproxy.test",
                BROKEN_MODULE,
                ca.clone(),
                "upstream_reset",
                &["unexpected EOF", "INTERNAL_ERROR"],
            ),
            // The client trusts only the fixture's CA, not gomitm's.
            (
                "https://goproxy.test",
                "example.test/mod02@v1.0.0",
                fx.ca_pem.clone(),
                "client_tls",
                &["certificate signed by unknown authority"],
            ),
        ];
        for (goproxy, module, trust, class, expect) in cases {
            let tmp = workspace("module e2e\n\ngo 1.19\n");
            let spec = if module == BROKEN_MODULE {
                format!("{module}@v1.0.0")
            } else {
                module.to_string()
            };
            let out = go_through(
                &go,
                &proxy,
                &trust,
                tmp.path(),
                &[("GOPROXY", goproxy)],
                &["mod", "download", &spec],
            );
            let all = output_text(&out);
            assert!(
                !out.status.success(),
                "{version} {class}: go should fail\n{all}"
            );
            assert!(
                expect.iter().any(|e| all.contains(e)),
                "{version} {class}: go output lacks {expect:?}\n{all}"
            );
            let host = goproxy.trim_start_matches("https://");
            let flow = proxy.wait_for_flow(&format!("with class {class}"), |f| {
                error_class(f) == class && url_of(f).contains(host)
            });
            assert!(!flow["error"]["message"].as_str().unwrap_or("").is_empty());
        }
        // The proxy kept serving through all of that.
        let tmp = workspace("module e2e\n\ngo 1.19\n");
        let ok = go_through(
            &go,
            &proxy,
            &ca,
            tmp.path(),
            &[("GOPROXY", "https://goproxy.test")],
            &["mod", "download", "example.test/mod03@v1.0.0"],
        );
        assert!(
            ok.status.success(),
            "{version}: proxy stopped serving\n{}",
            output_text(&ok)
        );
        // Failed flows are in the HAR too, each with its class.
        let har = proxy.stop();
        for class in [
            "dns",
            "connect",
            "upstream_tls",
            "upstream_reset",
            "client_tls",
        ] {
            assert!(
                entries(&har).iter().any(|e| e["_error"]["class"] == class),
                "{version}: HAR lacks a {class} entry"
            );
        }
    }
}

/// git checks the certificate after the handshake and hangs up without a request: gomitm
/// still records that as a client TLS failure, attributed to git.
#[test]
fn git_that_does_not_trust_gomitm_is_recorded_as_a_client_tls_failure() {
    let Some(git) = git_binary() else { return };
    let Some(go) = go_binaries().into_iter().next() else {
        return;
    };
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, &["git.test"], &[]);
    let path_env = format!(
        "{}:{}",
        git.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let fixture_ca = fx.ca_pem.display().to_string();
    let tmp = workspace("module e2e\n\ngo 1.19\n");
    let env = [
        ("GOPROXY", "direct"),
        ("PATH", path_env.as_str()),
        ("GIT_SSL_CAINFO", fixture_ca.as_str()),
    ];
    let out = go_through(
        &go,
        &proxy,
        &proxy.ca_pem(),
        tmp.path(),
        &env,
        &["get", "git.test/hello@v1.0.0"],
    );
    let all = output_text(&out);
    assert!(
        !out.status.success(),
        "git should have refused gomitm's certificate\n{all}"
    );
    assert!(
        [
            "certificate verification failed",
            "SSL certificate problem",
            "certificate"
        ]
        .iter()
        .any(|s| all.contains(s)),
        "{all}"
    );
    let flow = proxy.wait_for_flow("client_tls from git", |f| {
        error_class(f) == "client_tls" && f["tool"] == "git"
    });
    assert_eq!(flow["request"]["url"], "git.test:443");
    assert!(flow["error"]["message"]
        .as_str()
        .unwrap()
        .contains("GIT_SSL_CAINFO"));
}

/// `--annotate`: gomitm's diagnosis rides on the upstream's own 404 text, so the go command
/// prints it under `server response:`; without the flag the bytes are untouched.
#[test]
fn annotate_appends_the_diagnosis_to_upstream_404_text() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        for annotate in [true, false] {
            let extra: Vec<String> = if annotate {
                vec!["--annotate".into()]
            } else {
                vec![]
            };
            let proxy = gomitm_for(&fx, &["a.test"], &extra);
            let tmp = workspace("module e2e\n\ngo 1.19\n");
            let out = go_through(
                &go,
                &proxy,
                &proxy.ca_pem(),
                tmp.path(),
                &[("GOPROXY", "https://a.test")],
                &["mod", "download", "example.test/mod01@v1.0.0"],
            );
            let all = output_text(&out);
            assert!(
                !out.status.success(),
                "{version}: a.test has nothing\n{all}"
            );
            assert!(
                all.contains("not found: example.test/mod01@v1.0.0"),
                "{version}\n{all}"
            );
            assert_eq!(
                all.contains("gomitm diagnosis:"),
                annotate,
                "{version} annotate={annotate}\n{all}"
            );
            if annotate {
                assert!(all.contains("gomitm fix:"), "{version}\n{all}");
            }
        }
    }
}
