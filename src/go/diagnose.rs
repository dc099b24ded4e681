//! Diagnosis of one flow: what failed, in a sentence, and the setting that fixes it.
//!
//! A pure function of a finished [`Flow`] (its Go classification, status, error class and
//! captured body) plus the private-path patterns, the OS and the trust bundle's path; no I/O.
//! The wording follows the go command's own failure modes (see docs/GO-TROUBLESHOOTING.md):
//! each diagnosis has a stable `code` that tests, filters and the summary rely on.
//!
//! This file owns the dispatch, the diagnoses of HTTP answers (module proxy, checksum
//! database, `?go-get=1`, git) and the two-line text for error bodies. The types are
//! `diagnosis`'s (re-exported here, as [`diagnose`] speaks them); failures below HTTP are in
//! `network`, go-import parsing in `discovery`. Run-level judgement (prefix
//! probing, fallback chains, leaks across a run) belongs to `analysis`, never here.

pub use super::codes::Code;
use super::diagnosis::{status_text, subject};
pub use super::diagnosis::{DiagnoseContext, Diagnosis, Os, Severity};
pub use super::discovery::{go_imports, GoImport};
pub use super::goversion::GoVersion;
use super::private::PrivatePatterns;
use crate::flow::{Flow, GoKind, GoRequest, Response};
use crate::redact::redact_text;

/// `None` for a healthy flow (and for flows that are nothing the Go toolchain sent).
pub fn diagnose(flow: &Flow, ctx: &DiagnoseContext) -> Option<Diagnosis> {
    // Go 1.24+ sends every 4xx twice and may cancel the first attempt once the head is read:
    // the status is the news, whether or not go read the body, so both runs read the same.
    let cancelled_4xx = flow.error.as_ref().is_some_and(|e| {
        e.class == crate::flow::ErrorClass::ClientAbort
            && flow.response.as_ref().is_some_and(|r| r.status >= 400)
    });
    if let Some(err) = flow.error.as_ref().filter(|_| !cancelled_4xx) {
        return Some(super::network::diagnose(flow, err, ctx));
    }
    let resp = flow.response.as_ref()?;
    let go = flow.go.as_ref()?;
    if let Some(d) = super::qualifiers::redirect(flow, go, resp)
        .or_else(|| super::qualifiers::rate_limit(flow, go, resp))
    {
        return Some(d);
    }
    by_status(flow, go, resp, ctx)
        .or_else(|| super::content::judge(flow, go, resp))
        .or_else(|| tls_inspection(flow))
}

/// A healthy answer whose certificate chain ends at a locally installed CA.
fn tls_inspection(flow: &Flow) -> Option<Diagnosis> {
    let cert = flow
        .connection
        .upstream
        .server_cert
        .as_deref()
        .filter(|c| c.is_local_ca())?;
    Some(Diagnosis::new(
        Code::TlsInspection,
        Severity::Info,
        format!("the certificate of {} ends at {}, a CA installed on this machine rather than a public root: a TLS-inspection proxy re-signs this traffic", flow.host(), cert.root),
        "nothing to fix for gomitm (it trusts what the system trusts, plus --extra-root); ask your network team if you did not expect inspection".into(),
    ))
}

/// What the status says, per protocol (a private path's 2xx is a leak first of all).
fn by_status(
    flow: &Flow,
    go: &GoRequest,
    resp: &Response,
    ctx: &DiagnoseContext,
) -> Option<Diagnosis> {
    if go.kind.is_module_proxy() {
        module_proxy(flow, go, resp, ctx)
    } else if go.kind.is_sumdb() {
        sumdb(flow, go, resp, ctx)
    } else if go.kind == GoKind::Discovery {
        discovery(flow, go, resp, ctx)
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
            Code::PrivateLeak,
            Severity::Warning,
            format!("the private module {what} was sent to the module proxy {host}, which answered {st}"),
            format!("{} so the go command fetches it directly and never sends the path to a proxy", ctx.private.fix(&glob, false)),
        ),
        0..=399 => return None,
        404 | 410 if go.toolchain && toolchain_without_patch(go).is_some() => {
            let release = toolchain_without_patch(go).unwrap_or_default();
            Diagnosis::new(
                Code::ToolchainWithoutPatch,
                Severity::Error,
                format!("go asked {host} for the toolchain {release}, which does not exist ({st}): since Go 1.21 releases are named go1.N.P, and a go or toolchain line without the patch number names no release"),
                format!("write the full release in go.mod: 'go {}.0' (or 'toolchain {release}.0'); golang/go#66175", release.trim_start_matches("go")),
            )
        }
        404 | 410 if go.toolchain => Diagnosis::new(
            Code::ToolchainNotFound,
            Severity::Warning,
            format!("{host} has no Go toolchain {} ({st})", go.version.as_deref().unwrap_or("")),
            "check the go and toolchain lines in go.mod, or use the installed Go with GOTOOLCHAIN=local".into(),
        ),
        404 | 410 if private => Diagnosis::new(
            Code::ModuleNotFound,
            Severity::Warning,
            format!("the private module {what} was asked of the module proxy {host}, which answered {st}"),
            format!("{} so the go command fetches it directly from its repository", ctx.private.fix(&glob, false)),
        ),
        404 | 410 => Diagnosis::new(
            Code::ModuleNotFound,
            Severity::Warning,
            format!("the module proxy {host} answered {st} for {what}: the module or version is missing there"),
            format!("check the module path and version; {}; for a private module set GOPRIVATE={glob}", not_found_note(flow, ctx.goproxy)),
        ),
        401 | 403 => Diagnosis::new(
            Code::ProxyAuth,
            Severity::Error,
            format!("the module proxy {host} refused {what} with {st}{}{}", credentials_note(flow), super::qualifiers::challenge_note(resp)),
            format!("{}; {}; GONOPROXY for paths this proxy must not serve", super::qualifiers::credentials_fix(flow, resp, ctx), fallback_note(flow, ctx.goproxy, &st)),
        ),
        _ => Diagnosis::new(
            if resp.status >= 500 { Code::ProxyServerError } else { Code::ProxyHttpError },
            Severity::Error,
            format!("the module proxy {host} failed with {st} for {what}"),
            format!("retry or check the proxy; {}", fallback_note(flow, ctx.goproxy, &st)),
        ),
    };
    Some(d)
}

/// What GOPROXY does after an error other than 404/410 from `flow`'s entry: said for the
/// list the command used when it is known (the separator after the entry, or none after the
/// last), else what each separator would do.
fn fallback_note(flow: &Flow, goproxy: Option<&str>, status: &str) -> String {
    let entries = goproxy.map(super::doctor_settings::goproxy_entries);
    let at = entries
        .as_deref()
        .and_then(|es| es.iter().position(|e| serves(&e.value, &flow.request.url)));
    let entry = entries.as_deref().zip(at).map(|(es, i)| &es[i]);
    let next = entries
        .as_deref()
        .zip(at)
        .and_then(|(es, i)| es.get(i + 1))
        .map(|e| e.value.as_str());
    match entry {
        Some(e) if e.last => format!("it is the last entry in GOPROXY, so nothing takes over; another proxy after it with '|' would be tried after any error ({status} included)"),
        Some(e) if e.any_error_falls_through && next == Some("off") => "GOPROXY has '|' after this entry, but the next one is 'off', which stops the lookup: put another proxy (or 'direct') there".into(),
        Some(e) if e.any_error_falls_through => "GOPROXY has '|' after this entry, so go tried the next one".into(),
        Some(_) => format!("after ',' in GOPROXY only 404/410 fall through to the next entry, so {status} stops the go command; '|' instead of ',' after this entry falls back on any error"),
        None => format!("with ',' after this entry in GOPROXY only 404/410 fall through to the next one, so {status} stops the go command; with '|' any error does"),
    }
}

/// What GOPROXY does after a 404/410 from `flow`'s entry: either separator goes on to the
/// next entry; after the last one there is none.
fn not_found_note(flow: &Flow, goproxy: Option<&str>) -> &'static str {
    let entries = goproxy.map(super::doctor_settings::goproxy_entries);
    let entry = entries
        .as_deref()
        .and_then(|es| es.iter().find(|e| serves(&e.value, &flow.request.url)));
    match entry {
        Some(e) if e.last => "it is the last entry in GOPROXY, so go had nowhere else to look: add a source after it (',direct' fetches from the repository)",
        Some(_) => "go went on to the next entry in GOPROXY (a 404/410 falls through after ',' and '|' alike)",
        None => "with ',' or '|' in GOPROXY a 404/410 falls through to the next entry, so end the list with ',direct'",
    }
}

/// Whether the GOPROXY entry `entry` (userinfo and all) is the base of `url`.
fn serves(entry: &str, url: &str) -> bool {
    let Some((scheme, rest)) = entry.split_once("://") else {
        return false;
    };
    // Credentials in the entry never reach the recorded URL.
    let rest = match rest.split_once('/') {
        Some((authority, path)) => {
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{host}/{path}")
        }
        None => rest.rsplit_once('@').map_or(rest, |(_, h)| h).to_string(),
    };
    let base = format!("{scheme}://{}", rest.trim_end_matches('/'));
    url.strip_prefix(&base)
        .is_some_and(|tail| tail.starts_with('/'))
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
    // The database go uses (GOSUMDB's name), as the proxied URL or the direct host names it.
    let db = go.sumdb.as_deref().unwrap_or(host);
    let d = match go.kind {
        _ if private && (resp.status < 400 || not_found) => Diagnosis::new(
            if not_found { Code::SumdbPrivateLeak } else { Code::PrivateLeak },
            if not_found { Severity::Error } else { Severity::Warning },
            format!("the private module {what} was looked up in the checksum database at {host}, which answered {st}"),
            format!("{} so the go command skips the checksum database for it; GOSUMDB=off only as a last resort", ctx.private.fix(&glob, true)),
        ),
        _ if resp.status < 400 => return None,
        GoKind::SumdbLookup if not_found => Diagnosis::new(
            Code::SumdbNotFound,
            Severity::Error,
            format!("the checksum database at {host} does not know {what} ({st})"),
            format!("if the module is private, {}; if it is public, check that the version really exists upstream", ctx.private.fix(&glob, true)),
        ),
        GoKind::SumdbSupported if not_found => Diagnosis::new(
            Code::SumdbNotProxied,
            Severity::Info,
            format!("the module proxy {host} does not proxy the checksum database ({st}); the go command asks {db} directly"),
            format!("nothing, unless {db} is unreachable from here: then make the proxy serve /sumdb/{db}/ or set GONOSUMDB for private paths"),
        ),
        GoKind::SumdbSupported => Diagnosis::new(
            Code::SumdbUnavailable,
            Severity::Error,
            format!("the module proxy {host} refused to proxy the checksum database with {st}; after ',' in GOPROXY this stops the go command"),
            format!("make the proxy answer /sumdb/{db}/supported with 200 (or 404 to send go to {db} directly); GONOSUMDB/GOPRIVATE for private paths; GOSUMDB=off only as a last resort"),
        ),
        _ => Diagnosis::new(
            Code::SumdbUnavailable,
            Severity::Error,
            format!("the checksum database request to {host} failed with {st}"),
            match go.sumdb.as_deref() {
                Some(name) => format!("retry, and let the checksum database through ({name} or the proxy's /sumdb/{name}/); GONOSUMDB/GOPRIVATE for private paths; GOSUMDB=off only as a last resort"),
                // A direct lookup names the host, not the database (GOSUMDB may give a URL).
                None => format!("retry, and let the checksum database at {host} through (or a proxy's /sumdb/NAME/, NAME being GOSUMDB's first word); GONOSUMDB/GOPRIVATE for private paths; GOSUMDB=off only as a last resort"),
            },
        ),
    };
    Some(d)
}

/// `?go-get=1`: the go command accepts any status when the body has a go-import tag.
fn discovery(
    flow: &Flow,
    go: &GoRequest,
    resp: &Response,
    ctx: &DiagnoseContext,
) -> Option<Diagnosis> {
    let tags = go_imports(resp);
    if let Some(tags) = tags.as_ref().filter(|t| !t.is_empty()) {
        return super::qualifiers::go_import_support(flow, tags, ctx.go);
    }
    let (host, st) = (flow.host(), status_text(resp));
    let path = go.module.as_deref().unwrap_or(host);
    let url = &flow.request.url;
    let d = match resp.status {
        200..=299 if tags.is_some() => Diagnosis::new(
            Code::DiscoveryNoMeta,
            Severity::Error,
            format!("{url} answered {st} without a <meta name=\"go-import\"> tag, most likely an SSO or login page"),
            format!("give credentials for {host} (.netrc 'machine {host}' or GOAUTH), or serve the go-import meta tag, or import the path with a VCS suffix such as {path}.git"),
        ),
        0..=399 => return None,
        401 | 403 => Diagnosis::new(
            Code::DiscoveryAuth,
            Severity::Error,
            format!("{host} refused the import path lookup {url} with {st}{}{}", credentials_note(flow), super::qualifiers::challenge_note(resp)),
            format!("{}; the go command sends them with ?go-get=1 requests", super::qualifiers::credentials_fix(flow, resp, ctx)),
        ),
        404 | 410 => Diagnosis::new(
            Code::DiscoveryNotFound,
            Severity::Error,
            format!("{host} does not know the import path {path} ({st}, no go-import tag)"),
            format!("check the import path; the server must answer https://{path}?go-get=1 with a go-import meta tag (also on 404), or use a VCS suffix such as {path}.git"),
        ),
        _ => Diagnosis::new(
            Code::DiscoveryError,
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
            Code::GitAuth,
            Severity::Error,
            format!("the git server {host} refused {repo} with {st}{}", credentials_note(flow)),
            format!("git credentials for {host}: a ~/.netrc 'machine {host}' entry, a git credential helper, or ssh with git config url.\"git@{host}:\".insteadOf https://{host}/; GIT_TERMINAL_PROMPT=1 to be asked interactively"),
        ),
        404 | 410 => Diagnosis::new(
            Code::GitNotFound,
            Severity::Error,
            format!("the git server {host} has no repository {repo} ({st})"),
            "check the import path, and that your account can see the repository (some servers answer 404 instead of 403)".into(),
        ),
        _ => Diagnosis::new(
            Code::GitServerError,
            Severity::Error,
            format!("the git server {host} failed with {st} for {repo}"),
            "retry, or check the git server".into(),
        ),
    };
    Some(d)
}

/// `go1.22` from `v0.0.1-go1.22.linux-amd64`: a release from 1.21 on named without its patch
/// number (release candidates, `go1.21rc2`, are real).
fn toolchain_without_patch(go: &GoRequest) -> Option<String> {
    let v = go.version.as_deref()?;
    let release = v
        .strip_prefix("v0.0.1-")?
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let minor: u32 = release.strip_prefix("go1.")?.parse().ok()?;
    let after = v.strip_prefix("v0.0.1-")?.strip_prefix(&release)?;
    // `go1.22.linux-amd64`: the next element is the OS, not a number.
    let next = after.strip_prefix('.')?.split(['.', '-']).next()?;
    (minor >= 21 && !next.bytes().all(|b| b.is_ascii_digit())).then_some(release)
}

pub(super) fn credentials_note(flow: &Flow) -> &'static str {
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
    // go prints this body into terminals and CI logs: URLs in it redacted like every output.
    let cause = clip(
        &format!("gomitm diagnosis: {}", one_line(&redact_text(&d.cause))),
        200,
    );
    let fix = clip(
        &format!("gomitm fix: {}", one_line(&redact_text(&d.fix))),
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

#[cfg(test)]
#[path = "diagnose_tests.rs"]
mod tests;
