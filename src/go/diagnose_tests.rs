//! Table tests for `diagnose` (HTTP answers, network failures, the CA-trust fix, the error-body
//! lines). A child module of `diagnose` (`#[path]`), so it sees its private helpers. Must not
//! test go-import parsing (`discovery`) or run-level analysis (`analysis_tests`).

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::ErrorClass;

const PROXY: &str = "https://proxy.golang.org";

/// (flow, private globs, code, severity, words the cause names, words the fix names)
type HttpRow = (Flow, &'static str, &'static str, Severity, Words, Words);
/// The same without private globs.
type NetRow = (Flow, &'static str, Severity, Words, Words);
type Words = &'static [&'static str];

fn check(d: Option<Diagnosis>, code: &str, severity: Severity, cause: Words, fix: Words) {
    let d = d.unwrap_or_else(|| panic!("{code}: no diagnosis"));
    assert_eq!((d.code.as_str(), &d.severity), (code, &severity), "{d:?}");
    for word in cause {
        assert!(
            d.cause.contains(word),
            "{code}: cause {:?} lacks {word:?}",
            d.cause
        );
    }
    for word in fix {
        assert!(
            d.fix.contains(word),
            "{code}: fix {:?} lacks {word:?}",
            d.fix
        );
    }
}

/// A finished flow as the proxy would record it: classified, with the client tool set.
fn flow(b: FlowBuilder, tool: &str) -> Flow {
    let mut f = b.build();
    f.go = crate::go::classify(&f.request.method, &f.request.url, &f.request.headers);
    f.tool = crate::flow::ClientTool::parse(tool);
    f
}

fn got(url: &str, status: u16, body: &[u8]) -> Flow {
    flow(FlowBuilder::get(url).status(status, body), "go")
}

fn failed(url: &str, class: ErrorClass, msg: &str) -> Flow {
    flow(FlowBuilder::get(url).error(class, msg), "go")
}

fn run(f: &Flow, private: &str, os: Os) -> Option<Diagnosis> {
    let private = PrivatePatterns::from_globs(private);
    diagnose(
        f,
        &DiagnoseContext {
            private: &private,
            os,
            bundle: None,
            go: None,
            goproxy: None,
            goauth: None,
        },
    )
}

const LOGIN: &[u8] =
    b"<html><head><title>Sign in</title></head><body><form>SSO</form></body></html>";
const META: &[u8] = b"<html><head><meta name=\"go-import\" content=\"corp.example/lib git https://git.corp.example/lib.git\"></head></html>";

#[test]
fn http_answers_table() {
    let info = |host: &str, m: &str| format!("https://{host}/{m}/@v/v1.0.0.info");
    let auth = FlowBuilder::get(&info("a.test", "example.org/hello"))
        .req_header("Authorization", "Basic eA==")
        .status(403, b"");
    let refs = "https://git.test/hello.git/info/refs?service=git-upload-pack";
    #[rustfmt::skip]
    let rows: Vec<HttpRow> = vec![
        (got(&info("a.test", "example.org/hello"), 404, b""), "", "module_not_found", Severity::Warning, &["a.test", "404 Not Found", "example.org/hello@v1.0.0"], &[",direct", "GOPRIVATE=example.org"]),
        (got(&info("proxy.golang.org", "corp.example/secret"), 410, b""), "corp.example", "module_not_found", Severity::Warning, &["private module corp.example/secret@v1.0.0", "410 Gone"], &["GOPRIVATE=corp.example", "GONOPROXY"]),
        (got(&info("proxy.golang.org", "github.com/corp/x"), 404, b""), "", "module_not_found", Severity::Warning, &["missing"], &["GOPRIVATE=github.com/corp"]),
        (got(&info("proxy.golang.org", "corp.example/secret"), 200, b"{}"), "*.example", "private_leak", Severity::Warning, &["private module", "proxy.golang.org"], &["GOPRIVATE=*.example"]),
        (got(&format!("{PROXY}/golang.org/toolchain/@v/v0.0.1-go9.9.9.linux-amd64.zip"), 404, b""), "", "toolchain_not_found", Severity::Warning, &["v0.0.1-go9.9.9.linux-amd64"], &["GOTOOLCHAIN=local"]),
        (flow(auth, "go"), "", "proxy_auth", Severity::Error, &["a.test", "403 Forbidden", "credentials were sent"], &[".netrc", "machine a.test", "GOAUTH", "'|'", "GONOPROXY", "accepted but give no access"]),
        (got(&info("a.test", "x.test/m"), 401, b""), "", "proxy_auth", Severity::Error, &["no credentials were sent"], &[".netrc"]),
        (got(&info("a.test", "x.test/m"), 502, b""), "", "proxy_server_error", Severity::Error, &["502 Bad Gateway", "x.test/m@v1.0.0"], &["'|'"]),
        (got(&info("a.test", "x.test/m"), 429, b""), "", "rate_limited", Severity::Error, &["429"], &["GOMAXPROCS"]),
        (got("https://sum.golang.org/lookup/corp.example/secret@v1.0.0", 410, b""), "corp.example", "sumdb_private_leak", Severity::Error, &["private module corp.example/secret@v1.0.0", "sum.golang.org"], &["GOPRIVATE=corp.example", "GONOSUMDB=corp.example", "GOSUMDB=off"]),
        (got("https://sum.golang.org/lookup/corp.example/secret@v1.0.0", 200, b""), "corp.example", "private_leak", Severity::Warning, &["checksum database"], &["GONOSUMDB"]),
        (got(&format!("{PROXY}/sumdb/sum.golang.org/lookup/example.org/m@v1.0.0"), 404, b""), "", "sumdb_not_found", Severity::Error, &["does not know example.org/m@v1.0.0"], &["GOPRIVATE=example.org", "GONOSUMDB"]),
        (got(&format!("{PROXY}/sumdb/sum.golang.org/supported"), 404, b""), "", "sumdb_not_proxied", Severity::Info, &["sum.golang.org directly"], &[]),
        (got(&format!("{PROXY}/sumdb/sum.golang.org/supported"), 403, b""), "", "sumdb_unavailable", Severity::Error, &["403 Forbidden", "stops the go command"], &["/supported", "GONOSUMDB"]),
        (got("https://a.test/sumdb/sum.test/supported", 403, b""), "", "sumdb_unavailable", Severity::Error, &["403 Forbidden"], &["/sumdb/sum.test/supported", "go to sum.test directly"]),
        (got("https://a.test/sumdb/sum.test/supported", 404, b""), "", "sumdb_not_proxied", Severity::Info, &["asks sum.test directly"], &["/sumdb/sum.test/"]),
        (got("https://sum.golang.org/tile/8/1/x001/234", 500, b""), "", "sumdb_unavailable", Severity::Error, &["500"], &["GOSUMDB=off"]),
        (got("https://corp.example/lib?go-get=1", 401, b"login required"), "", "discovery_auth", Severity::Error, &["corp.example", "401 Unauthorized"], &[".netrc", "machine corp.example", "GOAUTH"]),
        (got("https://corp.example/lib?go-get=1", 200, LOGIN), "", "discovery_no_meta", Severity::Error, &["go-import", "login page"], &["credentials", "meta tag", "corp.example/lib.git"]),
        (got("https://corp.example/lib?go-get=1", 404, b"nope"), "", "discovery_not_found", Severity::Error, &["corp.example/lib", "404"], &["go-import", ".git"]),
        (got("https://corp.example/lib?go-get=1", 503, b""), "", "discovery_error", Severity::Error, &["503"], &["go-import"]),
        (flow(FlowBuilder::get(refs).status(401, b""), "git"), "", "git_auth", Severity::Error, &["git.test", "https://git.test/hello.git", "401"], &["~/.netrc", "credential helper", "url.\"git@git.test:\".insteadOf", "GIT_TERMINAL_PROMPT=1"]),
        (flow(FlowBuilder::get(refs).status(404, b""), "git"), "", "git_not_found", Severity::Error, &["no repository https://git.test/hello.git"], &["import path"]),
        (flow(FlowBuilder::get("https://git.test/hello.git/git-upload-pack").method("POST").status(500, b""), "git"), "", "git_server_error", Severity::Error, &["500"], &["retry"]),
    ];
    for (f, private, code, severity, cause, fix) in rows {
        check(run(&f, private, Os::Linux), code, severity, cause, fix);
    }
}

#[test]
fn network_failures_table() {
    let info = format!("{PROXY}/example.org/m/@v/v1.0.0.info");
    let cut = FlowBuilder::get(&format!("{PROXY}/example.org/m/@v/v1.0.0.zip"))
        .status(200, b"PK")
        .error(
            ErrorClass::UpstreamReset,
            "upstream cut the response body short",
        );
    #[rustfmt::skip]
    let rows: Vec<NetRow> = vec![
        (failed(&info, ErrorClass::UpstreamTls, "TLS handshake with upstream proxy.golang.org failed: certificate signed by unknown authority (unknown issuer)"), "upstream_untrusted", Severity::Error, &["proxy.golang.org", "TLS inspection"], &["--extra-root", "--insecure-upstream"]),
        (failed(&info, ErrorClass::UpstreamTls, "certificate is not valid for this name (NotValidForName)"), "upstream_untrusted", Severity::Error, &["not valid for that name"], &["GOPROXY", "--extra-root"]),
        (failed(&info, ErrorClass::UpstreamTls, "certificate has expired"), "upstream_untrusted", Severity::Error, &["expired"], &["clock"]),
        (failed(&info, ErrorClass::UpstreamTls, "received corrupt message of type InvalidContentType"), "upstream_tls", Severity::Error, &["corrupt message"], &["scheme and port"]),
        (failed(&info, ErrorClass::Dns, "dns lookup of proxy.golang.org failed: no such host"), "dns", Severity::Error, &["proxy.golang.org does not resolve", "no such host"], &["GOPROXY", "DNS or VPN", "--resolve proxy.golang.org=IP:PORT"]),
        (failed("https://git.test/x/info/refs?service=git-upload-pack", ErrorClass::Dns, "no such host"), "dns", Severity::Error, &["git.test"], &["import path"]),
        (failed(&info, ErrorClass::Connect, "connection refused"), "connect_refused", Severity::Error, &["proxy.golang.org", "connection refused"], &["--upstream-proxy", "'|'"]),
        (failed(&info, ErrorClass::ConnectTimeout, "timed out after 30s"), "connect_timeout", Severity::Error, &["timed out", "firewall"], &["--upstream-proxy"]),
        (failed(&info, ErrorClass::UpstreamProxy, "upstream proxy corp:3128 refused CONNECT proxy.golang.org:443: 403"), "upstream_proxy", Severity::Error, &["refused the tunnel to proxy.golang.org"], &["--upstream-proxy", "allows proxy.golang.org"]),
        (flow(cut, "go"), "truncated", Severity::Error, &["cut short", "example.org/m@v1.0.0", "2 bytes"], &["retry", "unexpected EOF"]),
        (failed(&info, ErrorClass::UpstreamReset, "connection reset"), "upstream_reset", Severity::Error, &["closed the connection before answering example.org/m@v1.0.0"], &["retry"]),
        (failed(&info, ErrorClass::UpstreamTimeout, "upstream proxy.golang.org did not answer within 60s"), "upstream_timeout", Severity::Error, &["stalled", "60s"], &["--upstream-timeout", "no timeout"]),
        (failed(&info, ErrorClass::ClientAbort, "the client went away"), "client_abort", Severity::Info, &["client went away"], &[]),
        (failed("", ErrorClass::Protocol, "the client started TLS on gomitm's plain-HTTP proxy port"), "protocol", Severity::Warning, &["started TLS"], &["http://"]),
        (failed(&info, ErrorClass::Refused, "request loops back to gomitm"), "refused", Severity::Warning, &["loops back"], &["GOPROXY"]),
        (failed(&info, ErrorClass::Refused, "proxy authentication required: the client sent no Proxy-Authorization header"), "refused", Severity::Warning, &["Proxy-Authorization"], &["--proxy-auth", "HTTPS_PROXY=http://USER:PASS@"]),
        (failed(&info, ErrorClass::Refused, "127.0.0.1 already has 512 connections open to gomitm"), "refused", Severity::Warning, &["512 connections"], &["--max-conns-per-client"]),
        (failed(&info, ErrorClass::Internal, "gomitm failed while handling this request (a panic, which is a bug in gomitm: its stderr has the message)"), "internal", Severity::Error, &["a panic"], &["bug in gomitm"]),
        (failed(&info, ErrorClass::Internal, "a rule produced an invalid response head"), "internal", Severity::Error, &["invalid response head"], &["gomitm rules check"]),
    ];
    for (f, code, severity, cause, fix) in rows {
        check(run(&f, "", Os::Linux), code, severity, cause, fix);
    }
}

#[test]
fn untrusted_ca_fix_depends_on_os_and_tool() {
    let tls = |tool| {
        flow(
            FlowBuilder::get("proxy.golang.org:443").tunnel(0, 0).error(
                ErrorClass::ClientTls,
                "the client aborted the TLS handshake",
            ),
            tool,
        )
    };
    for (tool, os, want, not) in [
        ("go", Os::Linux, "SSL_CERT_FILE=", "Keychain"),
        (
            "go",
            Os::MacOs,
            "security add-trusted-cert",
            "GIT_SSL_CAINFO",
        ),
        ("go", Os::Windows, "certutil -addstore -f ROOT", "Keychain"),
        ("git", Os::MacOs, "GIT_SSL_CAINFO=", "Keychain"),
        ("git", Os::Linux, "GIT_SSL_CAINFO=", "eval"),
    ] {
        let d = run(&tls(tool), "", os).unwrap_or_else(|| panic!("{tool} {os:?}"));
        assert_eq!(d.code, "client_untrusted_ca");
        assert!(
            d.cause.contains("proxy.golang.org") && d.cause.contains(tool),
            "{}",
            d.cause
        );
        assert!(d.fix.contains(want), "{tool} {os:?}: {}", d.fix);
        assert!(!d.fix.contains(not), "{tool} {os:?}: {}", d.fix);
    }
}

#[test]
fn untrusted_ca_fix_follows_the_go_release_on_macos_and_windows() {
    let private = PrivatePatterns::none();
    let f = flow(
        FlowBuilder::get("proxy.golang.org:443").tunnel(0, 0).error(
            ErrorClass::ClientTls,
            "the client aborted the TLS handshake",
        ),
        "go",
    );
    for (os, go, want, not) in [
        (
            Os::MacOs,
            GoVersion::new(27, 0),
            "SSL_CERT_FILE=",
            "security add-trusted-cert",
        ),
        (
            Os::Windows,
            GoVersion::new(27, 3),
            "SSL_CERT_FILE=",
            "certutil",
        ),
        (
            Os::MacOs,
            GoVersion::new(26, 8),
            "security add-trusted-cert",
            "SSL_CERT_FILE=/",
        ),
        (
            Os::Windows,
            GoVersion::new(19, 8),
            "certutil",
            "SSL_CERT_FILE=/",
        ),
    ] {
        let ctx = DiagnoseContext {
            private: &private,
            os,
            bundle: Some(std::path::Path::new("/b.pem")),
            go: Some(go),
            goproxy: None,
            goauth: None,
        };
        let d = diagnose(&f, &ctx).unwrap_or_else(|| panic!("{os:?} {go}"));
        assert!(
            d.fix.contains(want) && !d.fix.contains(not),
            "{os:?} {go}: {}",
            d.fix
        );
    }
}

#[test]
fn untrusted_ca_fix_names_the_bundle_path() {
    const BUNDLE: &str = "/home/u/.config/gomitm/gomitm-bundle.pem";
    let private = PrivatePatterns::none();
    let with = |os| DiagnoseContext {
        private: &private,
        os,
        bundle: Some(std::path::Path::new(BUNDLE)),
        go: None,
        goproxy: None,
        goauth: None,
    };
    for (tool, os, var) in [
        ("go", Os::Linux, "SSL_CERT_FILE"),
        ("git", Os::Linux, "GIT_SSL_CAINFO"),
        ("git", Os::MacOs, "GIT_SSL_CAINFO"),
    ] {
        let f = flow(
            FlowBuilder::get("proxy.golang.org:443").tunnel(0, 0).error(
                ErrorClass::ClientTls,
                "the client aborted the TLS handshake",
            ),
            tool,
        );
        let d = diagnose(&f, &with(os)).unwrap_or_else(|| panic!("{tool} {os:?}"));
        assert_eq!(d.code, "client_untrusted_ca");
        assert!(
            d.fix.contains(&format!("{var}={BUNDLE}")),
            "{tool} {os:?}: {}",
            d.fix
        );
        assert!(!d.fix.contains("<bundle of"), "{tool} {os:?}: {}", d.fix);
        // Without a known path (gomitm report), the placeholder stays.
        let without = run(&f, "", os).unwrap_or_else(|| panic!("{tool} {os:?}"));
        let placeholder = format!("{var}=<bundle of system roots + gomitm CA>");
        assert!(
            without.fix.contains(&placeholder),
            "{tool} {os:?}: {}",
            without.fix
        );
    }
}

#[test]
fn healthy_and_unrelated_flows_have_no_diagnosis() {
    let gz = flow(
        FlowBuilder::get("https://corp.example/lib?go-get=1")
            .status(200, b"\x1f\x8b\x08")
            .resp_header("Content-Encoding", "gzip"),
        "go",
    );
    for f in [
        got(&format!("{PROXY}/example.org/m/@v/v1.0.0.zip"), 200, b"PK"),
        got("https://corp.example/lib?go-get=1", 200, META),
        got("https://corp.example/lib?go-get=1", 404, META),
        got("https://example.com/missing", 404, b""),
        got(
            "https://sum.golang.org/lookup/example.org/m@v1.0.0",
            200,
            b"",
        ),
        gz,
    ] {
        assert_eq!(run(&f, "", Os::Linux), None, "{}", f.request.url);
    }
}
#[test]
fn diagnosis_lines_are_two_short_lines() {
    let d = Diagnosis::new(
        Code::Dns,
        Severity::Error,
        "the host x\n\nis gone".into(),
        "set GOPROXY".into(),
    );
    assert_eq!(
        diagnosis_lines(&d),
        "gomitm diagnosis: the host x is gone\ngomitm fix: set GOPROXY"
    );
    let long = Diagnosis::new(Code::Dns, Severity::Error, "é".repeat(400), "ü".repeat(400));
    let text = diagnosis_lines(&long);
    assert!(text.len() <= 420, "{}", text.len());
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.ends_with('…') && !l.is_empty()));
}

#[test]
fn suggested_glob_prefers_the_users_pattern() {
    let none = PrivatePatterns::none();
    assert_eq!(
        suggest_glob("github.com/corp/x/v2", &none),
        "github.com/corp"
    );
    assert_eq!(suggest_glob("corp.example/a/b", &none), "corp.example");
    let p = PrivatePatterns::from_globs("*.corp.example");
    assert_eq!(suggest_glob("git.corp.example/a", &p), "*.corp.example");
}

#[test]
fn a_4xx_go_cancelled_reads_like_one_it_read() {
    let url = "https://p.test/m.test/x/@v/v1.0.0.info";
    let read = got(url, 404, b"not found: m.test/x@v1.0.0");
    let mut cancelled = read.clone();
    cancelled.error = Some(crate::flow::FlowError {
        class: ErrorClass::ClientAbort,
        message: "the client went away".into(),
    });
    let a = run(&read, "", Os::Linux).map(|d| d.code);
    let b = run(&cancelled, "", Os::Linux).map(|d| d.code);
    assert_eq!(a, Some(Code::ModuleNotFound));
    assert_eq!(a, b);
}

fn with_go(f: &Flow, go: Option<GoVersion>) -> Option<Diagnosis> {
    let private = PrivatePatterns::none();
    diagnose(
        f,
        &DiagnoseContext {
            private: &private,
            os: Os::Linux,
            bundle: None,
            go,
            goproxy: None,
            goauth: None,
        },
    )
}

#[test]
fn a_toolchain_named_without_its_patch_release_is_named_as_such() {
    let tc = |v: &str| {
        got(
            &format!("https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-{v}.linux-amd64.zip"),
            404,
            b"not found",
        )
    };
    let d = run(&tc("go1.30"), "", Os::Linux).map(|d| (d.code, d.fix));
    assert!(
        matches!(&d, Some((Code::ToolchainWithoutPatch, fix)) if fix.contains("1.30.0")),
        "{d:?}"
    );
    for v in ["go1.30.1", "go1.21rc2", "go1.20"] {
        let d = run(&tc(v), "", Os::Linux).map(|d| d.code);
        assert_eq!(d, Some(Code::ToolchainNotFound), "{v}");
    }
}

#[test]
fn go_import_tags_this_go_cannot_read_are_named_with_the_release() {
    let page = |content: &str| {
        format!("<html><head><meta name=\"go-import\" content=\"{content}\"></head></html>")
    };
    let f = got(
        "https://vanity.test/lib?go-get=1",
        200,
        page("vanity.test/lib mod https://proxy.test sub").as_bytes(),
    );
    let d = with_go(&f, Some(GoVersion::new(19, 8))).map(|d| d.code);
    assert_eq!(d, Some(Code::GoImportSubdir));
    assert_eq!(with_go(&f, Some(GoVersion::new(25, 0))), None);
    let bzr = got(
        "https://vanity.test/lib?go-get=1",
        200,
        page("vanity.test/lib bzr https://bzr.test/lib").as_bytes(),
    );
    let d = with_go(&bzr, Some(GoVersion::new(27, 3))).map(|d| d.code);
    assert_eq!(d, Some(Code::VcsUnsupported));
    assert_eq!(with_go(&bzr, Some(GoVersion::new(26, 8))), None);
}

#[test]
fn a_healthy_answer_through_a_local_ca_is_tls_inspection_info() {
    let mut f = got(
        "https://proxy.golang.org/golang.org/x/text/@v/list",
        200,
        b"v0.14.0\n",
    );
    f.connection.upstream_mut().server_cert = Some(std::sync::Arc::new(crate::flow::CertSummary {
        subject: "proxy.golang.org".into(),
        issuer: "corp-inspection-ca".into(),
        root: "corp-inspection-ca".into(),
        public_root: Some(false),
        ..crate::flow::CertSummary::default()
    }));
    let d = run(&f, "", Os::Linux).unwrap_or_else(|| panic!("no diagnosis"));
    assert_eq!((d.code, d.severity), (Code::TlsInspection, Severity::Info));
    assert!(d.cause.contains("corp-inspection-ca"), "{}", d.cause);
    if let Some(c) = f.connection.upstream_mut().server_cert.as_mut() {
        std::sync::Arc::make_mut(c).public_root = Some(true);
    }
    assert_eq!(run(&f, "", Os::Linux), None);
}

#[test]
fn a_failed_proxy_fix_says_what_the_commands_goproxy_did_after_it() {
    let private = PrivatePatterns::none();
    let fix = |url: &str, status: u16, goproxy: Option<&str>| {
        let ctx = DiagnoseContext {
            private: &private,
            os: Os::Linux,
            bundle: None,
            go: None,
            goproxy,
            goauth: None,
        };
        diagnose(&got(url, status, b""), &ctx)
            .map(|d| d.fix)
            .unwrap_or_default()
    };
    let a = "https://a.test/m.test/x/@v/v1.0.0.info";
    for (goproxy, status, words) in [
        (
            Some("https://a.test|https://b.test"),
            500,
            "'|' after this entry, so go tried the next one",
        ),
        (
            Some("https://a.test,https://b.test"),
            500,
            "500 Internal Server Error stops the go command; '|' instead of ','",
        ),
        (
            Some("https://b.test|https://a.test"),
            500,
            "it is the last entry in GOPROXY",
        ),
        (
            Some("https://b.test,https://a.test/"),
            403,
            "it is the last entry in GOPROXY",
        ),
        (
            Some("https://u:p@a.test|https://b.test"),
            502,
            "'|' after this entry",
        ),
        (
            Some("https://a.test.evil|https://a.test"),
            500,
            "it is the last entry",
        ),
        (
            None,
            500,
            "with ',' after this entry in GOPROXY only 404/410 fall through",
        ),
        (Some("https://other.test"), 500, "with ',' after this entry"),
    ] {
        let got = fix(a, status, goproxy);
        assert!(got.contains(words), "{goproxy:?} {status}: {got:?}");
    }
    // '|' then off: go "tried" off, which stops.
    let got = fix(a, 500, Some("https://a.test|off"));
    assert!(got.contains("the next one is 'off'"), "{got:?}");
    // A 404: either separator goes on; after the last entry nothing does.
    let got = fix(a, 404, Some("https://a.test|https://b.test"));
    assert!(got.contains("go went on to the next entry"), "{got:?}");
    let got = fix(a, 404, Some("https://b.test,https://a.test"));
    assert!(got.contains("nowhere else to look"), "{got:?}");
    let got = fix(a, 404, None);
    assert!(got.contains("end the list with ',direct'"), "{got:?}");
    // A proxy with a path is matched on it.
    let under = "https://corp.test/go/m.test/x/@v/v1.0.0.info";
    assert!(
        fix(under, 500, Some("https://corp.test/go/|https://b.test"))
            .contains("go tried the next one")
    );
    assert!(fix(under, 500, Some("https://corp.test/other|https://b.test")).contains("with ','"));
}

#[test]
fn credentials_that_were_sent_are_not_asked_for_again() {
    let url = "https://a.test/x.test/m/@v/v1.0.0.info";
    let with_auth = |status: u16, challenge: Option<&str>| {
        let mut b = FlowBuilder::get(url)
            .req_header("authorization", "Basic Ym9iOnMzY3JldA==")
            .status(status, b"");
        if let Some(c) = challenge {
            b = b.resp_header("www-authenticate", c);
        }
        run(&flow(b, "go"), "", Os::Linux)
            .map(|d| d.fix)
            .unwrap_or_default()
    };
    let f = with_auth(401, Some("Basic realm=x"));
    assert!(
        f.contains("were rejected") && !f.contains("login … password …"),
        "{f}"
    );
    let f = with_auth(403, None);
    assert!(
        f.contains("give no access") && !f.contains("login … password …"),
        "{f}"
    );
    let f = with_auth(401, Some("Bearer realm=x"));
    assert!(
        f.contains("were not accepted") && f.contains("Bearer"),
        "{f}"
    );
    // Nothing sent: the credentials are what is missing.
    let f = run(&got(url, 401, b""), "", Os::Linux)
        .map(|d| d.fix)
        .unwrap_or_default();
    assert!(f.contains("login … password …"), "{f}");
}

/// Nothing sent because GOAUTH kept go from reading .netrc (Go 1.24+): the fix is the setting,
/// not a .netrc line the user may already have; Go 1.23 and older ignore GOAUTH.
#[test]
fn a_401_under_a_goauth_that_skips_netrc_names_the_setting() {
    let url = "https://a.test/x.test/m/@v/v1.0.0.info";
    let private = PrivatePatterns::none();
    let fix = |goauth: Option<&str>, go: Option<GoVersion>| {
        let ctx = DiagnoseContext {
            private: &private,
            os: Os::Linux,
            bundle: None,
            go,
            goproxy: None,
            goauth,
        };
        diagnose(&got(url, 401, b""), &ctx)
            .map(|d| d.fix)
            .unwrap_or_default()
    };
    let new = Some(GoVersion::new(26, 8));
    for go in [new, None] {
        let f = fix(Some("off"), go);
        assert!(
            f.contains("GOAUTH=off: go sends no credentials") && f.contains("unset GOAUTH"),
            "{go:?}: {f}"
        );
    }
    let f = fix(Some("git /src/checkout"), new);
    assert!(
        f.contains("without 'netrc' in it") && f.contains("'netrc;git /src/checkout'"),
        "{f}"
    );
    for goauth in [Some("netrc"), Some(""), Some("netrc;git /x"), None] {
        let f = fix(goauth, new);
        assert!(
            !f.contains("GOAUTH=") && f.contains("login … password …"),
            "{goauth:?}: {f}"
        );
    }
    let f = fix(Some("off"), Some(GoVersion::new(23, 0)));
    assert!(
        !f.contains("GOAUTH=off") && f.contains("login … password …"),
        "{f}"
    );
}

/// Credentials in the GOPROXY entry's URL are what go sent: the fix names them, not .netrc.
#[test]
fn rejected_credentials_from_goproxys_url_are_named_as_such() {
    let url = "https://a.test/x.test/m/@v/v1.0.0.info";
    let private = PrivatePatterns::none();
    let flow = flow(
        FlowBuilder::get(url)
            .req_header("authorization", "Basic dTp3cm9uZw==")
            .status(401, b""),
        "go",
    );
    let fix = |goproxy: &str| {
        let ctx = DiagnoseContext {
            private: &private,
            os: Os::Linux,
            bundle: None,
            go: None,
            goproxy: Some(goproxy),
            goauth: None,
        };
        diagnose(&flow, &ctx).map(|d| d.fix).unwrap_or_default()
    };
    let f = fix("https://u:wrong@a.test");
    assert!(
        f.contains("the user and password in GOPROXY's URL for a.test")
            && !f.contains("'machine a.test'"),
        "{f}"
    );
    let f = fix("https://u:pw@b.test,https://a.test");
    assert!(f.contains("'machine a.test' .netrc line"), "{f}");
}
