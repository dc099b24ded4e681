//! Go-awareness: classify a request as module proxy, checksum database, `?go-get=1`
//! discovery or git smart HTTP, and decode module paths and versions.
//!
//! Pure functions of a request's method, URL and headers; no I/O, no knowledge of sockets.
//! Protocol facts: the GOPROXY protocol (`$base/$module/@v/…`, `!`-escaping sent as `%21`),
//! the checksum database (`/lookup`, `/tile`, `$GOPROXY/sumdb/$name/…`) and
//! gitprotocol-http(5).

use crate::flow::{find_str, header_value, rfind_str, ClientTool, GoKind, GoRequest, Headers};

pub mod analysis;
pub mod codes;
mod content;
pub mod diagnose;
pub mod diagnosis;
pub mod diff;
pub mod discovery;
pub mod doctor;
pub mod doctor_row;
pub mod doctor_settings;
pub mod evidence;
pub mod goversion;
pub mod integrity;
pub mod integrity_check;
pub mod integrity_zip;
mod module_report;
mod network;
pub mod policy;
pub mod private;
pub mod qualifiers;
pub mod summary_json;
mod summary_text;
pub mod timeline;
pub mod verdict;
pub use summary_text::ModuleParts;

/// Module path of Go toolchain downloads (`GOTOOLCHAIN=auto`).
pub const TOOLCHAIN_MODULE: &str = "golang.org/toolchain";

/// Classify a request; `None` when it is nothing the Go toolchain knows. Boxed, as it is
/// kept in the flow.
pub fn classify(method: &str, url: &str, headers: &Headers) -> Option<Box<GoRequest>> {
    classify_request(method, url, headers)
        .or_else(|| redirected_from(headers))
        .map(Box::new)
}

/// A request go's HTTP client sent after a redirect is still the Go request it started as:
/// a module proxy that sends `.zip` to a CDN, or `.info` to a login page, has that answer
/// judged as the `.zip` or `.info` go asked for. net/http names the URL it was redirected
/// from in `Referer` (unless that would leak an https URL to http), so the redirected
/// request is classified as its Referer, for the go command's own client only (a browser's
/// Referer says nothing of the kind). git's requests are not: curl sends no Referer.
fn redirected_from(headers: &Headers) -> Option<GoRequest> {
    if client_tool(headers) != Some(ClientTool::Go) {
        return None;
    }
    let referer = header_value(headers, "referer")?;
    classify_request("GET", referer, headers).filter(|r| !r.kind.is_git())
}

fn classify_request(method: &str, url: &str, headers: &Headers) -> Option<GoRequest> {
    let (origin, path, query) = split_url(url);
    let mut req = git(method, origin, path, query)
        .or_else(|| discovery(origin, path, query))
        .or_else(|| sumdb(origin, path))
        .or_else(|| module_proxy(origin, path))?;
    if req.kind.is_git() {
        req.git_protocol = header_value(headers, "git-protocol").map(str::to_string);
    }
    req.toolchain = req.module.as_deref() == Some(TOOLCHAIN_MODULE);
    Some(req)
}

/// `go` for the go command's HTTP client, `git` for git; from the User-Agent.
pub fn client_tool(headers: &Headers) -> Option<ClientTool> {
    let ua = header_value(headers, "user-agent")?;
    if ua.starts_with("Go-http-client/") || ua.starts_with("GoCommand/") {
        Some(ClientTool::Go)
    } else if ua.starts_with("git/") {
        Some(ClientTool::Git)
    } else {
        None
    }
}

/// `https://h:1/p/q?x` → (`https://h:1`, `/p/q`, `x`).
/// Searched byte by byte: `str::split_once` and `find` with a `char` go through a searcher
/// that costs more than the short URLs here take to scan (it ran for every request).
fn split_url(url: &str) -> (&str, &str, &str) {
    let at = |s: &str, b: u8| s.bytes().position(|c| c == b);
    let (before_query, query) = match at(url, b'?') {
        Some(i) => (&url[..i], &url[i + 1..]),
        None => (url, ""),
    };
    let query = at(query, b'#').map_or(query, |i| &query[..i]);
    let after_scheme = find_str(before_query, "://").map_or(0, |i| i + 3);
    let (origin, path) = match at(&before_query[after_scheme..], b'/') {
        Some(i) => before_query.split_at(after_scheme + i),
        None => (before_query, "/"),
    };
    (origin, path, query)
}

fn git(method: &str, origin: &str, path: &str, query: &str) -> Option<GoRequest> {
    let (repo, kind) = if let Some(repo) = path.strip_suffix("/info/refs") {
        let service = query_param(query, "service")?;
        if service != "git-upload-pack" && service != "git-receive-pack" {
            return None;
        }
        (repo, GoKind::GitRefs)
    } else if let Some(repo) = path
        .strip_suffix("/git-upload-pack")
        .filter(|_| method == "POST")
    {
        (repo, GoKind::GitUploadPack)
    } else if let Some(repo) = path
        .strip_suffix("/git-receive-pack")
        .filter(|_| method == "POST")
    {
        (repo, GoKind::GitReceivePack)
    } else {
        return None;
    };
    Some(GoRequest {
        kind,
        base: Some(format!("{origin}{repo}")),
        ..GoRequest::default()
    })
}

fn discovery(origin: &str, path: &str, query: &str) -> Option<GoRequest> {
    if query_param(query, "go-get")? != "1" {
        return None;
    }
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    let import = format!("{host}{}", percent_decode(path).trim_end_matches('/'));
    Some(GoRequest {
        kind: GoKind::Discovery,
        module: Some(import),
        ..GoRequest::default()
    })
}

/// `$base/lookup/M@V`, `$base/tile/…`, `$base/latest`, and `$proxy/sumdb/$name/supported`.
fn sumdb(origin: &str, path: &str) -> Option<GoRequest> {
    let (base_path, name, rest) = match find_segment(path, "/sumdb/") {
        Some(i) => {
            let after = &path[i + "/sumdb/".len()..];
            let (name, rest) = after.split_once('/')?;
            (
                &path[..i + "/sumdb/".len() + name.len()],
                Some(name.to_string()),
                rest,
            )
        }
        None => {
            let i = find_segment(path, "/lookup/").or_else(|| find_segment(path, "/tile/"))?;
            (&path[..i], None, &path[i + 1..])
        }
    };
    let mut req = GoRequest {
        base: Some(format!("{origin}{base_path}")),
        sumdb: name,
        ..GoRequest::default()
    };
    if rest == "supported" && req.sumdb.is_some() {
        req.kind = GoKind::SumdbSupported;
    } else if rest == "latest" {
        req.kind = GoKind::SumdbLatest;
    } else if let Some(record) = rest.strip_prefix("lookup/") {
        let (module, version) = percent_decode(record)
            .rsplit_once('@')
            .map(|(m, v)| (m.to_string(), v.to_string()))?;
        req.kind = GoKind::SumdbLookup;
        req.module = Some(unescape_bang(&module));
        req.version = Some(unescape_bang(&version));
    } else if let Some(tile) = rest.strip_prefix("tile/").filter(|t| is_tile(t)) {
        req.kind = GoKind::SumdbTile;
        req.tile = Some(tile.to_string());
    } else {
        return None;
    }
    Some(req)
}

/// `8/1/x001/234`, `8/0/012.p/5`, `8/data/000` — height, level or `data`, then the index.
fn is_tile(t: &str) -> bool {
    let mut parts = t.split('/');
    let height = parts
        .next()
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()));
    let level = parts
        .next()
        .is_some_and(|l| l == "data" || (!l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())));
    height && level && parts.next().is_some()
}

/// `$base/$module/@v/list|$v.info|$v.mod|$v.zip` and `$base/$module/@latest`.
fn module_proxy(origin: &str, path: &str) -> Option<GoRequest> {
    let (prefix, kind, version) = if let Some(prefix) = path.strip_suffix("/@latest") {
        (prefix, GoKind::Latest, None)
    } else {
        let i = rfind_str(path, "/@v/")?;
        let file = &path[i + "/@v/".len()..];
        let (kind, version) = if file == "list" {
            (GoKind::List, None)
        } else if let Some(v) = file.strip_suffix(".info") {
            (GoKind::Info, Some(v))
        } else if let Some(v) = file.strip_suffix(".mod") {
            (GoKind::Mod, Some(v))
        } else if let Some(v) = file.strip_suffix(".zip") {
            (GoKind::Zip, Some(v))
        } else {
            return None;
        };
        (&path[..i], kind, version)
    };
    let decoded = percent_decode(prefix.trim_start_matches('/'));
    let (base, module) = split_base(&decoded);
    if module.is_empty() {
        return None;
    }
    Some(GoRequest {
        kind,
        module: Some(unescape_bang(module)),
        version: version.map(|v| unescape_bang(&percent_decode(v))),
        base: Some(format!("{origin}{base}")),
        ..GoRequest::default()
    })
}

/// A GOPROXY may live under a path (`https://corp.example/goproxy/`). The module path starts
/// at the first element that looks like a domain (holds a dot); without one, at the root.
fn split_base(path: &str) -> (String, &str) {
    let mut offset = 0;
    for segment in path.split('/') {
        if segment.contains('.') {
            let base = path[..offset].trim_end_matches('/');
            let base = if base.is_empty() {
                String::new()
            } else {
                format!("/{base}")
            };
            return (base, &path[offset..]);
        }
        offset += segment.len() + 1;
    }
    (String::new(), path)
}

/// Index of `needle` (like `/lookup/`) in `path`, only at a segment boundary.
fn find_segment(path: &str, needle: &str) -> Option<usize> {
    find_str(path, needle)
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

/// Percent-decoding, leaving invalid escapes as they are.
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s)).into_owned()
}

/// Percent-decoding to bytes (credentials need not be UTF-8), invalid escapes kept.
pub fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Module path case-escaping undone: `!b` → `B` (golang.org/x/mod/module.UnescapePath).
pub fn unescape_bang(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '!' => match chars.next() {
                Some(n) if n.is_ascii_lowercase() => out.push(n.to_ascii_uppercase()),
                Some(n) => {
                    out.push('!');
                    out.push(n);
                }
                None => out.push('!'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_url_agrees_with_the_str_methods() {
        let old = |url: &'static str| {
            let (before_query, query) = url.split_once('?').unwrap_or((url, ""));
            let query = query.split('#').next().unwrap_or("");
            let after_scheme = before_query.find("://").map_or(0, |i| i + 3);
            let (origin, path) = match before_query[after_scheme..].find('/') {
                Some(i) => before_query.split_at(after_scheme + i),
                None => (before_query, "/"),
            };
            (origin, path, query)
        };
        for url in [
            "https://proxy.golang.org/golang.org/x/mod/@v/list",
            "https://h.test:8443/a/b?go-get=1#frag",
            "https://h.test/p#frag?x=1",
            "https://h.test?x=/y",
            "https://h.test",
            "/relative/path?q",
            "",
            "?",
            "#",
            "https://h.test/p??a=1&b#c#d",
            "https://ü.test/π?σ=1",
        ] {
            assert_eq!(split_url(url), old(url), "{url}");
        }
    }

    fn go(url: &str) -> Option<GoRequest> {
        classify_request("GET", url, &Default::default())
    }

    #[test]
    fn module_proxy_endpoints_decode_module_version_and_base() {
        let cases = [
            ("https://proxy.golang.org/golang.org/x/text/@v/list", GoKind::List, "golang.org/x/text", None, "https://proxy.golang.org"),
            ("https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.info", GoKind::Info, "golang.org/x/text", Some("v0.14.0"), "https://proxy.golang.org"),
            ("https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.mod", GoKind::Mod, "golang.org/x/text", Some("v0.14.0"), "https://proxy.golang.org"),
            ("https://proxy.golang.org/golang.org/x/text/@v/v0.14.0.zip", GoKind::Zip, "golang.org/x/text", Some("v0.14.0"), "https://proxy.golang.org"),
            ("https://proxy.golang.org/golang.org/x/text/@latest", GoKind::Latest, "golang.org/x/text", None, "https://proxy.golang.org"),
            ("https://proxy.golang.org/github.com/%21burnt%21sushi/%21toml/@v/v1.0.0-%21r%21c1.info", GoKind::Info, "github.com/BurntSushi/Toml", Some("v1.0.0-RC1"), "https://proxy.golang.org"),
            ("https://proxy.golang.org/github.com/!burnt!sushi/toml/@v/list", GoKind::List, "github.com/BurntSushi/toml", None, "https://proxy.golang.org"),
            ("https://corp.example/goproxy/github.com/corp/lib/@v/v1.2.3.zip", GoKind::Zip, "github.com/corp/lib", Some("v1.2.3"), "https://corp.example/goproxy"),
            ("https://a.b:8443/artifactory/api/go/go-remote/example.com/m/@v/list", GoKind::List, "example.com/m", None, "https://a.b:8443/artifactory/api/go/go-remote"),
        ];
        for (url, kind, module, version, base) in cases {
            let r = go(url).unwrap_or_else(|| panic!("{url} not classified"));
            assert_eq!(r.kind, kind, "{url}");
            assert_eq!(r.module.as_deref(), Some(module), "{url}");
            assert_eq!(r.version.as_deref(), version, "{url}");
            assert_eq!(r.base.as_deref(), Some(base), "{url}");
            assert!(!r.toolchain);
        }
    }

    #[test]
    fn toolchain_downloads_are_flagged() {
        let r =
            go("https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.26.0.linux-amd64.zip")
                .unwrap();
        assert_eq!(r.kind, GoKind::Zip);
        assert!(r.toolchain);
        assert_eq!(r.version.as_deref(), Some("v0.0.1-go1.26.0.linux-amd64"));
    }

    #[test]
    fn checksum_database_direct_and_proxied() {
        let r = go("https://sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.3.2").unwrap();
        assert_eq!(r.kind, GoKind::SumdbLookup);
        assert_eq!(r.module.as_deref(), Some("github.com/BurntSushi/toml"));
        assert_eq!(r.version.as_deref(), Some("v1.3.2"));
        assert_eq!(r.base.as_deref(), Some("https://sum.golang.org"));
        assert_eq!(r.sumdb, None);

        let r = go("https://proxy.golang.org/sumdb/sum.golang.org/supported").unwrap();
        assert_eq!(r.kind, GoKind::SumdbSupported);
        assert_eq!(r.sumdb.as_deref(), Some("sum.golang.org"));
        assert_eq!(
            r.base.as_deref(),
            Some("https://proxy.golang.org/sumdb/sum.golang.org")
        );

        let r =
            go("https://proxy.golang.org/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.14.0")
                .unwrap();
        assert_eq!(
            (r.kind, r.module.as_deref()),
            (GoKind::SumdbLookup, Some("golang.org/x/text"))
        );

        for (url, tile) in [
            ("https://sum.golang.org/tile/8/1/x001/234", "8/1/x001/234"),
            (
                "https://sum.golang.org/tile/8/0/x123/456.p/12",
                "8/0/x123/456.p/12",
            ),
            (
                "https://goproxy.io/sumdb/sum.golang.org/tile/8/data/000",
                "8/data/000",
            ),
        ] {
            let r = go(url).unwrap();
            assert_eq!(r.kind, GoKind::SumdbTile, "{url}");
            assert_eq!(r.tile.as_deref(), Some(tile));
        }
        assert_eq!(
            go("https://sum.golang.org/latest"),
            None,
            "bare /latest without a sumdb path is not classified"
        );
        let r = go("https://p.example/sumdb/sum.golang.org/latest").unwrap();
        assert_eq!(r.kind, GoKind::SumdbLatest);
    }

    #[test]
    fn discovery_records_the_import_path() {
        let r = go("https://git.test/hello?go-get=1").unwrap();
        assert_eq!(r.kind, GoKind::Discovery);
        assert_eq!(r.module.as_deref(), Some("git.test/hello"));
        let r = go("https://corp.example:8443/team/lib/sub?go-get=1").unwrap();
        assert_eq!(r.module.as_deref(), Some("corp.example/team/lib/sub"));
        assert_eq!(go("https://git.test/hello?go-get=0"), None);
    }

    #[test]
    fn git_smart_http_with_protocol_header() {
        let h: Headers = vec![("Git-Protocol", "version=2")].into();
        let r = classify(
            "GET",
            "https://git.test/hello.git/info/refs?service=git-upload-pack",
            &h,
        )
        .unwrap();
        assert_eq!(r.kind, GoKind::GitRefs);
        assert_eq!(r.base.as_deref(), Some("https://git.test/hello.git"));
        assert_eq!(r.git_protocol.as_deref(), Some("version=2"));
        let r = classify("POST", "https://git.test/hello.git/git-upload-pack", &h).unwrap();
        assert_eq!(r.kind, GoKind::GitUploadPack);
        let r = classify(
            "POST",
            "https://git.test/hello.git/git-receive-pack",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(r.kind, GoKind::GitReceivePack);
        assert_eq!(
            classify(
                "GET",
                "https://git.test/hello.git/git-upload-pack",
                &Default::default()
            ),
            None
        );
        assert_eq!(go("https://git.test/x/info/refs?service=evil"), None);
    }

    #[test]
    fn everything_else_is_not_go() {
        for url in [
            "https://example.com/",
            "https://example.com/@v/",
            "https://example.com/x/@v/v1.0.0.tar",
            "git.test:443",
            "",
            "https://h/@v/list",
        ] {
            assert_eq!(go(url), None, "{url}");
        }
    }

    #[test]
    fn a_request_go_sent_after_a_redirect_is_the_go_request_it_started_as() {
        let h =
            |ua: &str, referer: &str| Headers::from(vec![("user-agent", ua), ("referer", referer)]);
        let info = "https://p.test/m.test/x/@v/v1.0.0.info";
        let got = classify(
            "GET",
            "https://login.test/signin?x=1",
            &h("Go-http-client/2.0", info),
        )
        .expect("classified by its Referer");
        assert_eq!(got.kind, GoKind::Info);
        assert_eq!(got.module.as_deref(), Some("m.test/x"));
        assert_eq!(got.version.as_deref(), Some("v1.0.0"));
        // Another client's Referer, a Referer that is no Go request, and git's are not.
        assert_eq!(
            classify("GET", "https://login.test/", &h("curl/8", info)),
            None
        );
        assert_eq!(
            classify(
                "GET",
                "https://login.test/",
                &h("Go-http-client/2.0", "https://p.test/")
            ),
            None
        );
        let refs = "https://git.test/r.git/info/refs?service=git-upload-pack";
        assert_eq!(
            classify("GET", "https://login.test/", &h("Go-http-client/2.0", refs)),
            None
        );
        // The request's own URL wins over its Referer.
        let zip = "https://cdn.test/m.test/x/@v/v1.0.0.zip";
        let got = classify("GET", zip, &h("Go-http-client/2.0", info)).expect("a zip");
        assert_eq!(got.kind, GoKind::Zip);
    }

    #[test]
    fn client_tool_from_user_agent() {
        let ua = |v: &str| Headers::from(vec![("user-agent", v)]);
        assert_eq!(client_tool(&ua("Go-http-client/2.0")), Some(ClientTool::Go));
        assert_eq!(client_tool(&ua("git/2.47.3")), Some(ClientTool::Git));
        assert_eq!(client_tool(&ua("curl/8")), None);
        assert_eq!(client_tool(&Default::default()), None);
    }

    #[test]
    fn unescaping() {
        assert_eq!(
            unescape_bang("github.com/!burnt!sushi"),
            "github.com/BurntSushi"
        );
        assert_eq!(unescape_bang("a!"), "a!");
        assert_eq!(unescape_bang("a!1"), "a!1");
        assert_eq!(percent_decode("%21x%2"), "!x%2");
    }
}
