//! go's own messages, as go 1.19, 1.26 and 1.27 printed them (docs/GO-TROUBLESHOOTING.md),
//! parsed into [`GoError`]s.

use super::*;

#[test]
fn stderr_messages_of_each_kind() {
    use GoMessage as M;
    #[rustfmt::skip]
    let rows: &[(&str, GoMessage, Option<&str>, Option<&str>)] = &[
        ("go: mod.invalid/hello@v1.0.0: reading https://p.test/r404/mod.invalid/hello/@v/v1.0.0.info: 404 Not Found", M::Status(404), Some("mod.invalid/hello@v1.0.0"), Some("https://p.test/r404/mod.invalid/hello/@v/v1.0.0.info")),
        ("go: mod.invalid/hello@v1.0.0: reading https://p.test/x/@v/v1.0.0.info: 429 Too Many Requests", M::Status(429), Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: invalid response from proxy \"https://portal.test\": invalid character '<' looking for beginning of value", M::InvalidResponse, Some("mod.invalid/hello@v1.0.0"), Some("https://portal.test")),
        ("go: module mod.invalid/hello: invalid response from proxy \"https://p.test/listhtml\": invalid character '<' looking for beginning of value", M::InvalidResponse, None, Some("https://p.test/listhtml")),
        ("go: mod.invalid/hello@v1.0.0: proxy returned info for version v1.0.1 instead of requested version", M::InfoVersion, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: zip for mod.invalid/hello@v1.0.0 has unexpected file mod.invalid/other@v1.0.0/go.mod", M::ZipUnexpectedFile, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: zip: not a valid zip file", M::NotAZip, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: verifying go.mod: mod.invalid/hello@v1.0.0/go.mod: malformed record data", M::BadSumdbAnswer, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: verifying go.mod: mod.invalid/hello@v1.0.0/go.mod: downloaded inconsistent tile", M::BadSumdbAnswer, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: Get \"https://x.invalid/mod.invalid/hello/@v/v1.0.0.info\": dial tcp: lookup x.invalid on 10.255.255.53:53: no such host", M::Dns, Some("mod.invalid/hello@v1.0.0"), Some("https://x.invalid/mod.invalid/hello/@v/v1.0.0.info")),
        ("go: mod.invalid/hello@v1.0.0: Get \"https://p.test/ok/x.info\": tls: failed to verify certificate: x509: certificate signed by unknown authority", M::Tls, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: Get \"http://c.test/x.zip\": redirected from secure URL https://p.test/x.zip to insecure URL http://c.test/x.zip", M::InsecureRedirect, Some("mod.invalid/hello@v1.0.0"), Some("http://c.test/x.zip")),
        ("go: mod.invalid/hello@v1.0.0: Get \"/loop/mod.invalid/hello/@v/v1.0.0.info?n=10\": stopped after 10 redirects", M::TooManyRedirects, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: download go1.99.0 for linux/amd64: toolchain not available", M::ToolchainNotAvailable, None, None),
        ("go: invalid toolchain: go1.30 is a language version but not a toolchain version (go1.30.x)", M::LanguageNotToolchain, None, None),
        ("go: go.mod requires go >= 1.99 (running go 1.26.8; GOTOOLCHAIN=local)", M::GoTooOld, None, None),
        ("go: mod.invalid/hello@v1.0.0: module lookup disabled by GOPROXY=off", M::GoproxyOff, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: mod.invalid/hello@v1.0.0: GOPROXY list is not the empty string, but contains no entries", M::GoproxyNoEntries, Some("mod.invalid/hello@v1.0.0"), None),
        ("go: inconsistent vendoring in /tmp/work:", M::ModVendor, None, None),
        ("go: mod.invalid/hello.git@v1.0.0: GOVCS disallows using git for public mod.invalid/hello.git; see 'go help vcs'", M::GovcsDisallows, Some("mod.invalid/hello.git@v1.0.0"), None),
        ("go: download go1.99.0: golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64: verifying module: checksum database disabled by GOSUMDB=off", M::SumdbOff, Some("golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64"), None),
        ("go: -insecure flag is no longer supported; use GOINSECURE instead", M::InsecureFlag, None, None),
        ("go: 127.0.0.1/mod4@v1.0.0: unrecognized import path \"127.0.0.1/mod4\": parse https://127.0.0.1/mod4?go-get=1: no go-import meta tags ()", M::NoGoImport, Some("127.0.0.1/mod4@v1.0.0"), None),
        ("go: 127.0.0.1/bzr@v1.0.0: unrecognized import path \"127.0.0.1/bzr\": https://127.0.0.1/bzr?go-get=1: unknown vcs \"bzr\"", M::UnknownVcs, Some("127.0.0.1/bzr@v1.0.0"), None),
        ("go: mod.invalid/hello@latest: no matching versions for query \"latest\"", M::NoMatchingVersions, None, None),
        ("go: example.test/x@v1.0.0: Get \"https://p.test/x\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused", M::ProxyConnect, Some("example.test/x@v1.0.0"), None),
    ];
    for (line, kind, mv, url) in rows {
        let errs = parse(line, "");
        assert_eq!(errs.len(), 1, "{line}");
        let e = &errs[0];
        assert_eq!(e.kind, *kind, "{line}");
        let got = e
            .module
            .as_ref()
            .map(|m| format!("{m}@{}", e.version.as_deref().unwrap_or("")));
        assert_eq!(got.as_deref(), *mv, "{line}");
        if let Some(u) = url {
            assert_eq!(e.url.as_deref(), Some(*u), "{line}");
        }
    }
}

#[test]
fn progress_lines_are_not_errors_and_details_attach() {
    let text = "go: downloading mod.invalid/hello v1.0.0\n\
                verifying mod.invalid/hello@v1.0.0: checksum mismatch\n\
                \tdownloaded: h1:PrvTYc4f3vj5cnfCy0nA+VpFlw8k2GhTqJpmBWpnc4k=\n\
                \tgo.sum:     h1:sc471uvp/ROvgaxKThxgOxOwUs9V/F3xrcu2CacNJd4=\n\
                \n\
                SECURITY ERROR\n\
                This download does NOT match an earlier download recorded in go.sum.\n";
    let errs = parse(text, "");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].kind, GoMessage::MismatchGoSum);
    assert_eq!(errs[0].detail.len(), 2);
    assert_eq!(errs[0].module.as_deref(), Some("mod.invalid/hello"));
}

#[test]
fn json_errors_on_stdout_count_and_say_which_database() {
    let out = r#"{
	"Path": "mod.invalid/hello",
	"Version": "v1.0.0",
	"Error": "mod.invalid/hello@v1.0.0: verifying module: checksum mismatch\n\tdownloaded: h1:sc471uvp/ROvgaxKThxgOxOwUs9V/F3xrcu2CacNJd4=\n\tsumdb-bad.example: h1:PrvTYc4f3vj5cnfCy0nA+VpFlw8k2GhTqJpmBWpnc4k=\n\nSECURITY ERROR\n"
}
{
	"Path": "mod.invalid/other",
	"Version": "v1.0.0",
	"Error": "zip: not a valid zip file"
}
{"Path": "ok.test/fine", "Version": "v1.0.0"}
"#;
    let errs = parse("", out);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].kind, GoMessage::MismatchSumdb);
    assert_eq!(errs[1].kind, GoMessage::NotAZip);
    assert_eq!(
        errs[1].module.as_deref(),
        Some("mod.invalid/other"),
        "Path fills in"
    );
}

#[test]
fn terminal_escapes_in_messages_are_neutralised() {
    let errs = parse(
        "go: evil.test/x@v1.0.0: reading https://e.test/\u{1b}[2J: 404 Not Found\n",
        "",
    );
    assert!(!errs[0].line.contains('\u{1b}'), "{:?}", errs[0].line);
}
