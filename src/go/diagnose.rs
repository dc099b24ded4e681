//! Diagnosis of one flow: what failed, in a sentence, and the setting that fixes it.
//!
//! A pure function of a finished [`Flow`] (its Go classification, status, error class and
//! captured body) plus the private-path patterns and the OS; no I/O. The wording follows the
//! go command's own failure modes (see docs/GO-TROUBLESHOOTING.md): each diagnosis has a stable
//! `code` that tests, filters and the summary rely on. Run-level judgement (prefix probing,
//! fallback chains, leaks across a run) belongs to `analysis`, not here.

use super::private::PrivatePatterns;
use crate::flow::{header_value, ErrorClass, Flow, FlowError, GoKind, GoRequest, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnosis {
    pub code: &'static str,
    pub severity: Severity,
    /// One plain sentence naming what failed (host, module@version where known).
    pub cause: String,
    /// The setting or action that fixes it.
    pub fix: String,
}

impl Diagnosis {
    fn new(code: &'static str, severity: Severity, cause: String, fix: String) -> Self {
        Diagnosis {
            code,
            severity,
            cause,
            fix,
        }
    }
}

/// The trust fix for the gomitm CA differs per OS (Go ignores SSL_CERT_FILE on macOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

pub struct DiagnoseContext<'a> {
    pub private: &'a PrivatePatterns,
    pub os: Os,
}

/// `None` for a healthy flow (and for flows that are nothing the Go toolchain sent).
pub fn diagnose(flow: &Flow, ctx: &DiagnoseContext) -> Option<Diagnosis> {
    if let Some(err) = &flow.error {
        return Some(network(flow, err, ctx));
    }
    let resp = flow.response.as_ref()?;
    let go = flow.go.as_ref()?;
    if go.kind.is_module_proxy() {
        module_proxy(flow, go, resp, ctx)
    } else if go.kind.is_sumdb() {
        sumdb(flow, go, resp, ctx)
    } else if go.kind == GoKind::Discovery {
        discovery(flow, go, resp)
    } else {
        git(flow, go, resp)
    }
}

/// GOPROXY protocol answers: `.info`, `.mod`, `.zip`, `@v/list`, `@latest`.
fn module_proxy(
    flow: &Flow,
    go: &GoRequest,
    resp: &Response,
    ctx: &DiagnoseContext,
) -> Option<Diagnosis> {
    let module = go.module.as_deref().unwrap_or("");
    let private = !go.toolchain && ctx.private.private_for_proxy(module);
    let (what, host, st) = (subject(flow, go), flow.host(), status_text(resp));
    let glob = suggest_glob(module, ctx.private);
    let d = match resp.status {
        0..=399 if private => Diagnosis::new(
            "private_leak",
            Severity::Warning,
            format!("the private module {what} was sent to the module proxy {host}, which answered {st}"),
            format!("GOPRIVATE={glob} (or GONOPROXY={glob}) so the go command fetches it directly and never sends the path to a proxy"),
        ),
        0..=399 => return None,
        404 | 410 if go.toolchain => Diagnosis::new(
            "toolchain_not_found",
            Severity::Warning,
            format!("{host} has no Go toolchain {} ({st})", go.version.as_deref().unwrap_or("")),
            "check the go and toolchain lines in go.mod, or use the installed Go with GOTOOLCHAIN=local".into(),
        ),
        404 | 410 if private => Diagnosis::new(
            "module_not_found",
            Severity::Warning,
            format!("the private module {what} was asked of the module proxy {host}, which answered {st}"),
            format!("GOPRIVATE={glob} (or GONOPROXY={glob}) so the go command fetches it directly from its repository"),
        ),
        404 | 410 => Diagnosis::new(
            "module_not_found",
            Severity::Warning,
            format!("the module proxy {host} answered {st} for {what}: the module or version is missing there"),
            format!("check the module path and version; with ',' in GOPROXY a 404/410 falls through to the next entry, so end the list with ',direct'; for a private module set GOPRIVATE={glob}"),
        ),
        401 | 403 => Diagnosis::new(
            "proxy_auth",
            Severity::Error,
            format!("the module proxy {host} refused {what} with {st}{}", credentials_note(flow)),
            format!("give credentials for {host}: a .netrc line 'machine {host} login … password …' (or GOAUTH on Go 1.24+); a 401/403 after ',' in GOPROXY does not fall back ('|' falls back on any error); GONOPROXY for paths this proxy must not serve"),
        ),
        _ => Diagnosis::new(
            if resp.status >= 500 { "proxy_server_error" } else { "proxy_http_error" },
            Severity::Error,
            format!("the module proxy {host} failed with {st} for {what}"),
            "retry or check the proxy; after ',' in GOPROXY only 404/410 fall through to the next entry, so this stops the go command; '|' instead of ',' falls back on any error".into(),
        ),
    };
    Some(d)
}

/// Checksum database answers, direct (`sum.golang.org/lookup/…`) or proxied
/// (`$GOPROXY/sumdb/sum.golang.org/…`).
fn sumdb(flow: &Flow, go: &GoRequest, resp: &Response, ctx: &DiagnoseContext) -> Option<Diagnosis> {
    let module = go.module.as_deref().unwrap_or("");
    let private =
        go.kind == GoKind::SumdbLookup && !go.toolchain && ctx.private.private_for_sumdb(module);
    let (what, host, st) = (subject(flow, go), flow.host(), status_text(resp));
    let glob = suggest_glob(module, ctx.private);
    let not_found = matches!(resp.status, 404 | 410);
    let d = match go.kind {
        _ if private && (resp.status < 400 || not_found) => Diagnosis::new(
            if not_found { "sumdb_private_leak" } else { "private_leak" },
            if not_found { Severity::Error } else { Severity::Warning },
            format!("the private module {what} was looked up in the checksum database at {host}, which answered {st}"),
            format!("GOPRIVATE={glob} (or GONOSUMDB={glob}) so the go command skips the checksum database for it; GOSUMDB=off only as a last resort"),
        ),
        _ if resp.status < 400 => return None,
        GoKind::SumdbLookup if not_found => Diagnosis::new(
            "sumdb_not_found",
            Severity::Error,
            format!("the checksum database at {host} does not know {what} ({st})"),
            format!("if the module is private, GOPRIVATE={glob} (or GONOSUMDB={glob}); if it is public, check that the version really exists upstream"),
        ),
        GoKind::SumdbSupported if not_found => Diagnosis::new(
            "sumdb_not_proxied",
            Severity::Info,
            format!("the module proxy {host} does not proxy the checksum database ({st}); the go command asks sum.golang.org directly"),
            "nothing, unless sum.golang.org is unreachable from here: then make the proxy serve /sumdb/sum.golang.org/ or set GONOSUMDB for private paths".into(),
        ),
        GoKind::SumdbSupported => Diagnosis::new(
            "sumdb_unavailable",
            Severity::Error,
            format!("the module proxy {host} refused to proxy the checksum database with {st}; after ',' in GOPROXY this stops the go command"),
            "make the proxy answer /sumdb/sum.golang.org/supported with 200 (or 404 to send go to sum.golang.org directly); GONOSUMDB/GOPRIVATE for private paths; GOSUMDB=off only as a last resort".into(),
        ),
        _ => Diagnosis::new(
            "sumdb_unavailable",
            Severity::Error,
            format!("the checksum database request to {host} failed with {st}"),
            "retry, and let the checksum database through (sum.golang.org or the proxy's /sumdb/); GONOSUMDB/GOPRIVATE for private paths; GOSUMDB=off only as a last resort".into(),
        ),
    };
    Some(d)
}

/// `?go-get=1`: the go command accepts any status when the body has a go-import tag.
fn discovery(flow: &Flow, go: &GoRequest, resp: &Response) -> Option<Diagnosis> {
    let tags = go_imports(resp);
    if tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return None;
    }
    let (host, st) = (flow.host(), status_text(resp));
    let path = go.module.as_deref().unwrap_or(host);
    let url = &flow.request.url;
    let d = match resp.status {
        200..=299 if tags.is_some() => Diagnosis::new(
            "discovery_no_meta",
            Severity::Error,
            format!("{url} answered {st} without a <meta name=\"go-import\"> tag, most likely an SSO or login page"),
            format!("give credentials for {host} (.netrc 'machine {host}' or GOAUTH), or serve the go-import meta tag, or import the path with a VCS suffix such as {path}.git"),
        ),
        0..=399 => return None,
        401 | 403 => Diagnosis::new(
            "discovery_auth",
            Severity::Error,
            format!("{host} refused the import path lookup {url} with {st}{}", credentials_note(flow)),
            format!("credentials for {host}: a .netrc line 'machine {host} login … password …' (or GOAUTH on Go 1.24+); the go command sends them with ?go-get=1 requests"),
        ),
        404 | 410 => Diagnosis::new(
            "discovery_not_found",
            Severity::Error,
            format!("{host} does not know the import path {path} ({st}, no go-import tag)"),
            format!("check the import path; the server must answer https://{path}?go-get=1 with a go-import meta tag (also on 404), or use a VCS suffix such as {path}.git"),
        ),
        _ => Diagnosis::new(
            "discovery_error",
            Severity::Error,
            format!("the import path lookup {url} failed with {st}"),
            format!("check the server for {host}; the go command needs a go-import meta tag from https://{path}?go-get=1"),
        ),
    };
    Some(d)
}

/// git smart HTTP: `info/refs` and `git-upload-pack`.
fn git(flow: &Flow, go: &GoRequest, resp: &Response) -> Option<Diagnosis> {
    if !go.kind.is_git() || resp.status < 400 {
        return None;
    }
    let (host, st) = (flow.host(), status_text(resp));
    let repo = go.base.as_deref().unwrap_or(&flow.request.url);
    let d = match resp.status {
        401 | 403 => Diagnosis::new(
            "git_auth",
            Severity::Error,
            format!("the git server {host} refused {repo} with {st}{}", credentials_note(flow)),
            format!("git credentials for {host}: a ~/.netrc 'machine {host}' entry, a git credential helper, or ssh with git config url.\"git@{host}:\".insteadOf https://{host}/; GIT_TERMINAL_PROMPT=1 to be asked interactively"),
        ),
        404 | 410 => Diagnosis::new(
            "git_not_found",
            Severity::Error,
            format!("the git server {host} has no repository {repo} ({st})"),
            "check the import path, and that your account can see the repository (some servers answer 404 instead of 403)".into(),
        ),
        _ => Diagnosis::new(
            "git_server_error",
            Severity::Error,
            format!("the git server {host} failed with {st} for {repo}"),
            "retry, or check the git server".into(),
        ),
    };
    Some(d)
}

/// Failures below HTTP (and cut bodies): the error class decides, the Go kind sharpens the fix.
fn network(flow: &Flow, err: &FlowError, ctx: &DiagnoseContext) -> Diagnosis {
    let host = flow.host();
    let msg = &err.message;
    match err.class {
        ErrorClass::ClientTls => client_untrusted(flow, ctx.os),
        ErrorClass::UpstreamTls => upstream_tls(host, msg),
        ErrorClass::Connect | ErrorClass::ConnectTimeout => connect(flow, err),
        ErrorClass::UpstreamReset | ErrorClass::UpstreamTimeout => broken_answer(flow, err),
        ErrorClass::Dns => Diagnosis::new(
            "dns",
            Severity::Error,
            format!("the host {host} does not resolve ({msg})"),
            format!("check {} and your DNS or VPN; gomitm --resolve {host}=IP:PORT tests against a chosen address", where_named(flow)),
        ),
        ErrorClass::UpstreamProxy => Diagnosis::new(
            "upstream_proxy",
            Severity::Error,
            format!("the upstream proxy refused the tunnel to {host}: {msg}"),
            format!("check --upstream-proxy (address, and credentials as http://user:pass@host:port) and that the proxy allows {host}"),
        ),
        ErrorClass::ClientAbort => Diagnosis::new(
            "client_abort",
            Severity::Info,
            format!("the client went away before {} finished (go interrupted, or it gave up)", what(flow)),
            "nothing to fix unless the client was not meant to stop".into(),
        ),
        ErrorClass::Protocol => Diagnosis::new("protocol", Severity::Warning, msg.clone(), protocol_fix(msg)),
        ErrorClass::Refused => Diagnosis::new(
            "refused",
            Severity::Warning,
            format!("gomitm refused the request itself: {msg}"),
            "check that GOPROXY, GOSUMDB or the import path do not point back at gomitm's own address".into(),
        ),
    }
}

/// The upstream was reached but its answer broke off or never came.
fn broken_answer(flow: &Flow, err: &FlowError) -> Diagnosis {
    let (host, what) = (flow.host(), what(flow));
    if err.class == ErrorClass::UpstreamTimeout {
        return Diagnosis::new(
            "upstream_timeout",
            Severity::Error,
            format!("{host} stalled on {what}: {}", err.message),
            "check the upstream server; gomitm's limit is --upstream-timeout SECS, and without gomitm the go command would hang: it has no timeout of its own".into(),
        );
    }
    match &flow.response {
        Some(r) => Diagnosis::new(
            "truncated",
            Severity::Error,
            format!("the response from {host} for {what} was cut short after {} bytes", r.body.total),
            "retry; if it repeats, check the upstream server (go prints 'unexpected EOF' or 'stream error … INTERNAL_ERROR')".into(),
        ),
        None => Diagnosis::new(
            "upstream_reset",
            Severity::Error,
            format!("{host} closed the connection before answering {what}"),
            "retry; check the server and anything in between (load balancer, corporate proxy)".into(),
        ),
    }
}

fn client_untrusted(flow: &Flow, os: Os) -> Diagnosis {
    let host = flow.connection.client_sni.as_deref().unwrap_or(flow.host());
    let tool = flow.tool.as_deref().unwrap_or("the client");
    let fix = match (flow.tool.as_deref(), os) {
        (Some("git"), _) => "GIT_SSL_CAINFO=<bundle of system roots + gomitm CA> (or git config http.sslCAInfo); git does not read SSL_CERT_FILE".to_string(),
        (_, Os::Linux) => "SSL_CERT_FILE=<bundle of system roots + gomitm CA>; eval \"$(gomitm env)\" sets it".to_string(),
        (_, Os::MacOs) => "trust the gomitm CA in the Keychain: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain \"$(gomitm ca path)\"; Go ignores SSL_CERT_FILE on macOS since 1.18".to_string(),
        (_, Os::Windows) => "import the gomitm CA (gomitm ca path) into the Trusted Root store: certutil -addstore -f ROOT gomitm-ca.pem".to_string(),
    };
    Diagnosis::new(
        "client_untrusted_ca",
        Severity::Error,
        format!("{tool} rejected gomitm's certificate for {host}: it does not trust the gomitm CA"),
        fix,
    )
}

fn upstream_tls(host: &str, msg: &str) -> Diagnosis {
    let m = msg.to_ascii_lowercase();
    let inspect = "if a corporate TLS inspection proxy sits in between, pass its CA with --extra-root FILE.pem (--insecure-upstream skips the check; debugging only)";
    let (code, cause, fix) = if m.contains("not valid for") || m.contains("name mismatch") {
        (
            "upstream_untrusted",
            format!("the certificate of {host} is not valid for that name"),
            format!("check the host name in GOPROXY or the import path; {inspect}"),
        )
    } else if m.contains("expired") || m.contains("not valid yet") {
        (
            "upstream_untrusted",
            format!("the certificate of {host} has expired or is not valid yet"),
            format!("check the server's certificate and this machine's clock; {inspect}"),
        )
    } else if m.contains("certificate") || m.contains("issuer") || m.contains("authority") {
        ("upstream_untrusted", format!("gomitm does not trust the certificate of {host} (typically a corporate TLS inspection proxy re-signing traffic)"), "pass that CA with --extra-root FILE.pem (--insecure-upstream skips the check; debugging only)".into())
    } else {
        ("upstream_tls", format!("the TLS handshake with {host} failed: {msg}"), format!("check that the URL's scheme and port are right (does the server speak TLS there?); {inspect}"))
    };
    Diagnosis::new(code, Severity::Error, cause, fix)
}

fn connect(flow: &Flow, err: &FlowError) -> Diagnosis {
    let addr = flow
        .connection
        .server_addr
        .clone()
        .unwrap_or_else(|| flow.host().to_string());
    let (code, cause) = if err.class == ErrorClass::Connect {
        (
            "connect_refused",
            format!(
                "nothing accepted the connection to {addr} ({})",
                err.message
            ),
        )
    } else {
        (
            "connect_timeout",
            format!(
                "connecting to {addr} timed out: the host is down or a firewall drops the traffic"
            ),
        )
    };
    let mut fix = format!(
        "check the host and port in {}; behind a corporate proxy start gomitm with --upstream-proxy URL",
        where_named(flow)
    );
    if flow.go.as_ref().is_some_and(|g| g.kind.is_module_proxy()) {
        fix.push_str("; after ',' in GOPROXY a network error does not fall back, '|' does");
    }
    Diagnosis::new(code, Severity::Error, cause, fix)
}

fn protocol_fix(msg: &str) -> String {
    if msg.contains("upstream") {
        "check that the URL's scheme and port are right".into()
    } else if msg.contains("TLS") || msg.contains("https://") {
        "use http:// (not https://) in HTTPS_PROXY, e.g. HTTPS_PROXY=http://127.0.0.1:8080".into()
    } else {
        "check the client's proxy settings; GODEBUG=http2client=0 makes go fall back to HTTP/1.1"
            .into()
    }
}

/// Which setting names the host, by what the request was.
fn where_named(flow: &Flow) -> &'static str {
    match flow.go.as_ref().map(|g| g.kind) {
        Some(k) if k.is_module_proxy() => "GOPROXY",
        Some(k) if k.is_sumdb() => "GOSUMDB (and GOPROXY)",
        Some(_) => "the import path",
        None => "the URL",
    }
}

fn what(flow: &Flow) -> String {
    match flow.go.as_ref() {
        Some(go) if go.module.is_some() => subject(flow, go),
        _ => flow.request.url.clone(),
    }
}

fn subject(flow: &Flow, go: &GoRequest) -> String {
    match (&go.module, &go.version) {
        (Some(m), Some(v)) => format!("{m}@{v}"),
        (Some(m), None) => m.clone(),
        _ => go.base.clone().unwrap_or_else(|| flow.request.url.clone()),
    }
}

/// `404 Not Found`; h2 carries no reason phrase, so fall back to the canonical one.
pub fn status_text(resp: &Response) -> String {
    let canonical = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let reason = if resp.reason.is_empty() {
        canonical
    } else {
        &resp.reason
    };
    format!("{} {reason}", resp.status).trim_end().to_string()
}

fn credentials_note(flow: &Flow) -> &'static str {
    if flow.request_header("authorization").is_some() {
        " although credentials were sent"
    } else {
        " (no credentials were sent)"
    }
}

/// The user's own matching pattern if there is one; else the host, or host/owner on shared
/// hosting, where the host itself is public.
pub fn suggest_glob(module: &str, private: &PrivatePatterns) -> String {
    const SHARED: [&str; 5] = [
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "dev.azure.com",
        "gitee.com",
    ];
    if let Some(g) = private.proxy_glob(module).or(private.sumdb_glob(module)) {
        return g.to_string();
    }
    let mut parts = module.split('/');
    let host = parts.next().unwrap_or(module);
    match parts.next() {
        Some(owner) if SHARED.contains(&host) => format!("{host}/{owner}"),
        _ => host.to_string(),
    }
}

/// `gomitm diagnosis: …` and `gomitm fix: …` for a text/plain error body, with no trailing
/// newline. The go command prints such a body under `server response:` but cuts it at the
/// first blank line, 8 lines or 648 bytes: two lines, no blank line, at most 420 bytes so a
/// caller's own first line still fits.
pub fn diagnosis_lines(d: &Diagnosis) -> String {
    const BUDGET: usize = 420;
    let cause = clip(&format!("gomitm diagnosis: {}", one_line(&d.cause)), 200);
    let fix = clip(
        &format!("gomitm fix: {}", one_line(&d.fix)),
        BUDGET - cause.len() - 1,
    );
    format!("{cause}\n{fix}")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` bytes, cut at a char boundary and marked with `…`.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// One `<meta name="go-import" content="prefix vcs repo">` tag of a discovery page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoImport {
    pub prefix: String,
    pub vcs: String,
    pub repo: String,
}

/// The go-import tags of a discovery response; `None` when the body cannot be judged: not
/// captured, compressed (the go command asks for gzip; gomitm does not decompress), or cut by
/// the capture cap before the end of `<head>`.
pub fn go_imports(resp: &Response) -> Option<Vec<GoImport>> {
    let encoding = header_value(&resp.headers, "content-encoding").unwrap_or("");
    if !(encoding.trim().is_empty() || encoding.trim().eq_ignore_ascii_case("identity")) {
        return None;
    }
    if resp.body.data.is_empty() && resp.body.total > 0 {
        return None;
    }
    let html = String::from_utf8_lossy(&resp.body.data);
    let (tags, saw_end_of_head) = parse_go_imports(&html);
    if tags.is_empty() && resp.body.truncated && !saw_end_of_head {
        return None;
    }
    Some(tags)
}

/// Like the go command: read `<meta>` tags up to `<body>` or `</head>`. Returns the tags and
/// whether the end of the head was seen.
fn parse_go_imports(html: &str) -> (Vec<GoImport>, bool) {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let end = ["<body", "</head"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min();
    let head = &lower[..end.unwrap_or(lower.len())];
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(i) = head[from..].find("<meta") {
        let start = from + i + "<meta".len();
        let close = head[start..].find('>').map_or(head.len(), |j| start + j);
        let attrs = parse_attrs(&html[start..close]);
        from = close;
        let attr = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if !attr("name").is_some_and(|n| n.eq_ignore_ascii_case("go-import")) {
            continue;
        }
        let fields: Vec<&str> = attr("content").unwrap_or("").split_whitespace().collect();
        if let [prefix, vcs, repo, ..] = fields[..] {
            tags.push(GoImport {
                prefix: prefix.into(),
                vcs: vcs.into(),
                repo: repo.into(),
            });
        }
    }
    (tags, end.is_some())
}

/// `name="v" name='v' name=v name` → pairs; `&amp;` is the one entity worth decoding in URLs.
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let skip = |c: char| c.is_whitespace() || c == '/';
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(skip);
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || skip(c))
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            (value, rest) = take_value(after.trim_start());
        }
        out.push((name.to_string(), value.replace("&amp;", "&")));
        rest = rest.trim_start_matches(skip);
    }
    out
}

fn take_value(s: &str) -> (&str, &str) {
    match s.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &s[1..];
            match body.find(q) {
                Some(j) => (&body[..j], &body[j + 1..]),
                None => (body, ""),
            }
        }
        _ => {
            let j = s.find(char::is_whitespace).unwrap_or(s.len());
            (&s[..j], &s[j..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;

    const PROXY: &str = "https://proxy.golang.org";

    /// (flow, private globs, code, severity, words the cause names, words the fix names)
    type HttpRow = (Flow, &'static str, &'static str, Severity, Words, Words);
    /// The same without private globs.
    type NetRow = (Flow, &'static str, Severity, Words, Words);
    type Words = &'static [&'static str];

    fn check(d: Option<Diagnosis>, code: &str, severity: Severity, cause: Words, fix: Words) {
        let d = d.unwrap_or_else(|| panic!("{code}: no diagnosis"));
        assert_eq!((d.code, &d.severity), (code, &severity), "{d:?}");
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
        f.tool = Some(tool.to_string());
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
            (flow(auth, "go"), "", "proxy_auth", Severity::Error, &["a.test", "403 Forbidden", "credentials were sent"], &[".netrc", "machine a.test", "GOAUTH", "'|'", "GONOPROXY"]),
            (got(&info("a.test", "x.test/m"), 401, b""), "", "proxy_auth", Severity::Error, &["no credentials were sent"], &[".netrc"]),
            (got(&info("a.test", "x.test/m"), 502, b""), "", "proxy_server_error", Severity::Error, &["502 Bad Gateway", "x.test/m@v1.0.0"], &["'|'"]),
            (got(&info("a.test", "x.test/m"), 429, b""), "", "proxy_http_error", Severity::Error, &["429"], &["404/410"]),
            (got("https://sum.golang.org/lookup/corp.example/secret@v1.0.0", 410, b""), "corp.example", "sumdb_private_leak", Severity::Error, &["private module corp.example/secret@v1.0.0", "sum.golang.org"], &["GOPRIVATE=corp.example", "GONOSUMDB=corp.example", "GOSUMDB=off"]),
            (got("https://sum.golang.org/lookup/corp.example/secret@v1.0.0", 200, b""), "corp.example", "private_leak", Severity::Warning, &["checksum database"], &["GONOSUMDB"]),
            (got(&format!("{PROXY}/sumdb/sum.golang.org/lookup/example.org/m@v1.0.0"), 404, b""), "", "sumdb_not_found", Severity::Error, &["does not know example.org/m@v1.0.0"], &["GOPRIVATE=example.org", "GONOSUMDB"]),
            (got(&format!("{PROXY}/sumdb/sum.golang.org/supported"), 404, b""), "", "sumdb_not_proxied", Severity::Info, &["sum.golang.org directly"], &[]),
            (got(&format!("{PROXY}/sumdb/sum.golang.org/supported"), 403, b""), "", "sumdb_unavailable", Severity::Error, &["403 Forbidden", "stops the go command"], &["/supported", "GONOSUMDB"]),
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
            (
                "go",
                Os::Windows,
                "certutil -addstore -f ROOT",
                "SSL_CERT_FILE",
            ),
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
    fn go_import_tags_are_parsed_like_the_go_command() {
        let resp = |body: &[u8]| Response {
            status: 200,
            body: crate::flow::BodyCapture {
                data: body.to_vec(),
                total: body.len() as u64 + 10,
                truncated: true,
                complete: false,
            },
            ..Response::default()
        };
        let tags = go_imports(&resp(
            b"<HEAD><META content='a.test/x git https://g.test/x?a=1&amp;b=2' NAME=go-import /><meta name=\"go-source\" content=\"a b c d\"></HEAD>",
        ));
        assert_eq!(
            tags,
            Some(vec![GoImport {
                prefix: "a.test/x".into(),
                vcs: "git".into(),
                repo: "https://g.test/x?a=1&b=2".into(),
            }])
        );
        let after_body = b"<head></head><body><meta name=go-import content=\"a git b\"></body>";
        assert_eq!(go_imports(&resp(after_body)), Some(vec![]));
        // Cut by the capture cap before the head ended: cannot tell.
        assert_eq!(go_imports(&resp(b"<html><head><title>x")), None);
    }

    #[test]
    fn diagnosis_lines_are_two_short_lines() {
        let d = Diagnosis::new(
            "dns",
            Severity::Error,
            "the host x\n\nis gone".into(),
            "set GOPROXY".into(),
        );
        assert_eq!(
            diagnosis_lines(&d),
            "gomitm diagnosis: the host x is gone\ngomitm fix: set GOPROXY"
        );
        let long = Diagnosis::new("dns", Severity::Error, "é".repeat(400), "ü".repeat(400));
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
}
