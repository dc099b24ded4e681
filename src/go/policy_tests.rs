//! Pre-flight warnings and setting-based explanations, as tables.

use super::*;

fn pre(pairs: &[(&str, &str)]) -> Settings {
    Settings {
        go_env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Settings::default()
    }
}

#[test]
fn healthy_defaults_give_no_warning() {
    assert!(preflight_warnings(&pre(&[("GOPROXY", "https://proxy.golang.org,direct")])).is_empty());
    assert!(preflight_warnings(&Settings::default()).is_empty());
}

#[test]
fn each_bypass_or_stop_is_named() {
    let has = |p: &Settings, word: &str| preflight_warnings(p).iter().any(|w| w.contains(word));
    assert!(has(&pre(&[("GOPROXY", "off")]), "GOPROXY=off"));
    assert!(has(&pre(&[("GOPROXY", ",")]), "no entries"));
    assert!(has(&pre(&[("GOFLAGS", "-mod=vendor")]), "-mod=vendor"));
    assert!(has(&pre(&[("GOPROXY", "file:///tmp/x,direct")]), "file://"));
    assert!(has(&pre(&[("GOSUMDB", "off")]), "toolchain"));
    let w = preflight_warnings(&pre(&[(
        "GOPROXY",
        "http://127.0.0.1:3000,https://localhost:9/x",
    )]));
    assert_eq!(
        w.iter().filter(|w| w.contains("loopback")).count(),
        2,
        "{w:?}"
    );
    assert!(has(
        &pre(&[("GOFLAGS", "-mod=mod -insecure")]),
        "GOINSECURE"
    ));
    let mut p = pre(&[]);
    p.git_http_proxy = Some("http://127.0.0.1:1".into());
    assert!(has(&p, "http.proxy"));
    let mut p = pre(&[]);
    p.git_ssh_rewrites = vec!["url.git@github.com:.insteadOf https://github.com/".into()];
    assert!(has(&p, "ssh"));
}

#[test]
fn sumdb_host_from_gosumdb_forms() {
    assert_eq!(sumdb_host(""), "sum.golang.org");
    assert_eq!(sumdb_host("off"), "");
    assert_eq!(
        sumdb_host("sum.golang.org+033de0ae+Ac4z https://sum.test"),
        "sum.test"
    );
    assert_eq!(sumdb_host("sum.example+key"), "sum.example");
}

#[test]
fn go_messages_that_a_setting_explains_name_it() {
    let err = |line: &str| super::super::evidence::parse(line, "").remove(0);
    #[rustfmt::skip]
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], Code, &'a str);
    let rows: &[Row] = &[
        ("go: m.test/x@v1.0.0: module lookup disabled by GOPROXY=off", &[("GOPROXY", "off")], Code::GoproxyOff, "GOPROXY=off"),
        ("go: m.test/x@v1.0.0: GOPROXY list is not the empty string, but contains no entries", &[("GOPROXY", ",")], Code::GoproxyNoEntries, "GOPROXY"),
        ("go: inconsistent vendoring in /w:", &[("GOFLAGS", "-mod=vendor")], Code::ModVendor, "-mod=vendor"),
        ("go: m.test/x.git@v1.0.0: GOVCS disallows using git for public m.test/x.git; see 'go help vcs'", &[("GOVCS", "public:off")], Code::GovcsDisallowed, "GOVCS"),
        ("go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: verifying module: checksum database disabled by GOSUMDB=off", &[("GOSUMDB", "off")], Code::SumdbOffToolchain, "GOSUMDB=off"),
        ("go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)", &[("GOTOOLCHAIN", "local"), ("GOVERSION", "go1.26.8")], Code::GoVersionTooNew, "GOTOOLCHAIN=local"),
        ("go: m.test/x@v1.0.0: unrecognized import path \"m.test/x\": https fetch: Get \"https://m.test/x?go-get=1\": dial tcp: lookup m.test: no such host", &[("GOPRIVATE", "m.test"), ("GOPROXY", "https://p.test")], Code::PrivateGoesDirect, "GOPRIVATE"),
    ];
    for (line, env, code, word) in rows {
        let d = explain(&err(line), &pre(env)).unwrap_or_else(|| panic!("{line}: unexplained"));
        assert_eq!(d.code, *code, "{line}");
        assert!(
            d.cause.contains(word) || d.fix.contains(word),
            "{line}: {d:?}"
        );
    }
    assert!(explain(
        &err("go: m.test/x@v1.0.0: reading https://p.test/x: 404 Not Found"),
        &pre(&[])
    )
    .is_none());
}

/// Why a run saw no request: each setting that keeps go off the network or off the proxy is
/// named; otherwise a successful go had its cache, a failed one failed first, and another
/// program may not read the proxy variables.
#[test]
fn no_request_reasons_name_the_setting_first() {
    let mut vendored = pre(&[]);
    vendored.vendor_dir = true;
    let mut vendored_mod = pre(&[("GOFLAGS", "-mod=mod")]);
    vendored_mod.vendor_dir = true;
    let cases: Vec<(Settings, &str, i32, &str)> = vec![
        (
            pre(&[("GOPROXY", "off")]),
            "go mod download",
            1,
            "GOPROXY=off",
        ),
        (
            pre(&[("GOFLAGS", "-mod=vendor")]),
            "go build ./...",
            0,
            "-mod=vendor",
        ),
        (vendored, "go build ./...", 0, "vendor/modules.txt"),
        (
            vendored_mod,
            "go build ./...",
            0,
            "already in the module cache",
        ),
        (
            pre(&[("GOPROXY", "http://localhost:3000,direct")]),
            "go mod download",
            1,
            "GOPROXY names localhost",
        ),
        (
            pre(&[("GOPROXY", "https://[::1]:8443")]),
            "go get x",
            1,
            "GOPROXY names ::1",
        ),
        (
            pre(&[("GOMODCACHE", "/c/mod")]),
            "go mod download",
            0,
            "already in the module cache (/c/mod)",
        ),
        (
            pre(&[]),
            "go mod download",
            1,
            "go failed before any download",
        ),
        (
            pre(&[("GOPROXY", "off")]),
            "curl https://x",
            0,
            "curl made no HTTP(S) request",
        ),
    ];
    for (settings, command, code, want) in cases {
        let got = no_request_reason(&settings, command, code);
        assert!(
            got.contains(want),
            "{command} {code}: {got:?} lacks {want:?}"
        );
    }
}
