//! The headers and tags that qualify an answer, turned into causes and fixes: `Location`
//! (redirects go refuses, rate-limit pages), `Retry-After`, `WWW-Authenticate` (which kind of
//! credentials, and where go reads them for the Go release in use), and go-import tags that the
//! release in use cannot read.
//!
//! Pure, like `diagnose`, which calls in here; must not judge bodies (`content`).

use super::codes::Code;
use super::diagnosis::DiagnoseContext;
use super::diagnosis::{status_text, subject, Diagnosis, Severity};
use super::discovery::GoImport;
use super::goversion::GoVersion;
use crate::flow::{header_value, url_host, Flow, GoRequest, Response};
use crate::terminal_text::terminal_safe;

/// A 3xx go will refuse, or one that sends it to a rate-limit page.
pub(super) fn redirect(flow: &Flow, go: &GoRequest, resp: &Response) -> Option<Diagnosis> {
    if !(300..400).contains(&resp.status) {
        return None;
    }
    let location = header_value(&resp.headers, "location")?.trim();
    let target = resolve(&flow.request.url, location);
    let what = subject(flow, go);
    let host = flow.host();
    if is_rate_limit_page(&target) {
        return Some(Diagnosis::new(
            Code::RateLimited,
            Severity::Error,
            format!("{host} redirected {what} to a rate-limit page ({}): it is throttling this client, and go reads that page as if it were the answer", short(&target)),
            rate_limit_fix(host, None),
        ));
    }
    if flow.request.url.starts_with("https://") && target.starts_with("http://") {
        return Some(Diagnosis::new(
            Code::InsecureRedirect,
            Severity::Error,
            format!("{host} redirected {what} from https to {}; go refuses to follow (\"redirected from secure URL … to insecure URL …\")", short(&target)),
            format!("the server behind {host} must redirect to an https:// URL; report it to its owner (a mirror or CDN configured with http links), or put a healthy proxy first in GOPROXY"),
        ));
    }
    None
}

/// 429, or 503 with Retry-After.
pub(super) fn rate_limit(flow: &Flow, go: &GoRequest, resp: &Response) -> Option<Diagnosis> {
    let retry = header_value(&resp.headers, "retry-after").map(str::trim);
    if !(resp.status == 429 || (resp.status == 503 && retry.is_some())) {
        return None;
    }
    let after = retry.map_or(String::new(), |r| {
        format!(" (Retry-After: {})", clip(r, 40))
    });
    Some(Diagnosis::new(
        Code::RateLimited,
        Severity::Error,
        format!(
            "{} throttled {} with {}{after}",
            flow.host(),
            subject(flow, go),
            status_text(resp)
        ),
        rate_limit_fix(flow.host(), retry),
    ))
}

fn rate_limit_fix(host: &str, retry: Option<&str>) -> String {
    let wait = match retry {
        Some(r) => format!("wait {} before retrying", retry_words(r)),
        None => "wait a while before retrying".to_string(),
    };
    format!("{wait}; go asks for up to GOMAXPROCS files at once, so GOMAXPROCS=2 lowers the rate; a caching module proxy of your own (Athens, or your artifact manager) first in GOPROXY keeps {host} out of every build")
}

/// `Retry-After: 120` → `120 s`; a date is quoted as it is.
fn retry_words(r: &str) -> String {
    if r.bytes().all(|b| b.is_ascii_digit()) {
        format!("{r} s")
    } else {
        format!("until {}", clip(r, 40))
    }
}

/// Google's "sorry" page (proxy.golang.org's rate limit, golang/go#74847) and kin.
fn is_rate_limit_page(url: &str) -> bool {
    let host = url_host(url).to_ascii_lowercase();
    let path = url
        .split_once("://")
        .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
        .unwrap_or("")
        .to_ascii_lowercase();
    (host.contains("google.") || host.contains("sorry")) && path.starts_with("/sorry")
}

/// `Location` against the request URL (absolute, scheme-relative, absolute-path).
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(r) = location.strip_prefix("//") {
        return format!("{scheme}://{r}");
    }
    let authority = rest.split('/').next().unwrap_or("");
    if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let dir = base.rsplit_once('/').map_or(base, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

/// The redirect target of a 3xx flow, absolute.
pub fn redirect_target(flow: &Flow) -> Option<String> {
    let resp = flow.response.as_ref()?;
    if !(300..400).contains(&resp.status) {
        return None;
    }
    let location = header_value(&resp.headers, "location")?.trim();
    Some(resolve(&flow.request.url, location))
}

/// ` (the server asks for Basic credentials, realm "x")` from `WWW-Authenticate`.
pub(super) fn challenge_note(resp: &Response) -> String {
    match challenge(resp) {
        Some((scheme, Some(realm))) => {
            format!(
                "; the server asks for {scheme} credentials (realm \"{}\")",
                clip(&realm, 60)
            )
        }
        Some((scheme, None)) => format!("; the server asks for {scheme} credentials"),
        None => String::new(),
    }
}

fn challenge(resp: &Response) -> Option<(String, Option<String>)> {
    let value = header_value(&resp.headers, "www-authenticate")?.trim();
    let scheme: String = value
        .split_whitespace()
        .next()?
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    let realm = value
        .to_ascii_lowercase()
        .find("realm=")
        .map(|i| &value[i + "realm=".len()..])
        .map(|r| {
            r.trim_start_matches('"')
                .split(['"', ','])
                .next()
                .unwrap_or("")
                .to_string()
        });
    Some((scheme, realm))
}

/// Where this go reads credentials for the flow's host: `.netrc` (keyed on `host:port` from
/// Go 1.24 for a non-default port), GOAUTH for non-Basic schemes.
pub(super) fn credentials_fix(flow: &Flow, resp: &Response, ctx: &DiagnoseContext) -> String {
    let go = ctx.go;
    let host = flow.host();
    let machine = netrc_machine(&flow.request.url, go);
    let basic = challenge(resp).is_none_or(|(s, _)| s.eq_ignore_ascii_case("basic"));
    let sent = flow.request_header("authorization").is_some();
    if !sent {
        if let Some(fix) = goauth_fix(ctx.goauth, go, host, &machine) {
            return fix;
        }
    }
    if !basic {
        let scheme = challenge(resp).map(|(s, _)| s).unwrap_or_default();
        return match go {
            Some(v) if !v.has_goauth() => format!("the server wants {scheme}, which {v} cannot send for a module download (.netrc gives Basic only): use Go 1.24+ with a GOAUTH command that prints 'Authorization: {scheme} …' for https://{host}, or a proxy that accepts Basic"),
            _ if sent => format!("the credentials sent for {host} were not accepted and the server asks for {scheme}: check that the GOAUTH command prints a valid, unexpired 'Authorization: {scheme} …' for https://{host} (a .netrc line gives Basic only)"),
            _ => format!("a GOAUTH command (Go 1.24+) that prints the header 'Authorization: {scheme} …' for https://{host}; .netrc gives Basic only"),
        };
    }
    // Credentials in the GOPROXY entry's URL are the ones go sends (before .netrc or GOAUTH).
    let in_url = ctx.goproxy.is_some_and(|g| {
        g.split([',', '|'])
            .any(|e| e.contains('@') && url_host(e.trim()).eq_ignore_ascii_case(host))
    });
    if sent && in_url {
        let what = if resp.status == 403 {
            "were accepted but give no access to this: check that the account may read the module"
        } else {
            "were rejected: check them, and that they have not expired"
        };
        return format!("the user and password in GOPROXY's URL for {host} (https://USER:PASSWORD@{host}/…) {what}; go sends those before any .netrc line or GOAUTH");
    }
    // Credentials went out (the .netrc line or GOAUTH is in place): adding them again fixes
    // nothing; they are wrong, expired, or belong to an account without access.
    if sent && resp.status == 403 {
        return format!("the credentials sent for {host} were accepted but give no access to this: check that the account in the '{machine}' .netrc line (or GOAUTH's) may read the module, or use one that may");
    }
    if sent {
        return format!("the credentials sent for {host} were rejected: check the login and password (or token) in the '{machine}' .netrc line or what the GOAUTH command prints, and that they have not expired");
    }
    format!("credentials for {host}: a .netrc line '{machine} login … password …' (or a GOAUTH command on Go 1.24+)")
}

/// Nothing was sent because GOAUTH (Go 1.24+) keeps go from reading `.netrc`: `off` sends
/// nothing at all, and a list without `netrc` reads only its commands. A `.netrc` line the
/// user already has is then not the fix; the setting is.
fn goauth_fix(
    goauth: Option<&str>,
    go: Option<GoVersion>,
    host: &str,
    machine: &str,
) -> Option<String> {
    let goauth = goauth.filter(|_| go.is_none_or(|v| v.has_goauth()))?;
    let entries: Vec<&str> = goauth
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.contains(&"off") {
        return Some(format!("GOAUTH=off: go sends no credentials at all, not even a .netrc line for {host}: unset GOAUTH (netrc is the default) or set GOAUTH=netrc, with a .netrc line '{machine} login … password …'"));
    }
    if entries.is_empty() || entries.contains(&"netrc") {
        return None;
    }
    Some(format!("GOAUTH={goauth:?} gave go nothing for {host}, and without 'netrc' in it go does not read .netrc: make the command (or git's credential helper) answer for https://{host}, or put netrc first ('netrc;{goauth}') with a .netrc line '{machine} login … password …'"))
}

/// `machine HOST`, or `machine HOST:PORT` for a non-default port on Go 1.24+ (GOAUTH's netrc
/// keys on the port); both when the release is unknown.
pub(super) fn netrc_machine(url: &str, go: Option<GoVersion>) -> String {
    let host = url_host(url);
    let port = url
        .split_once("://")
        .map(|(_, r)| r.split(['/', '?']).next().unwrap_or(""))
        .and_then(|a| a.rsplit_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && *p != "443");
    match (port, go) {
        (None, _) => format!("machine {host}"),
        (Some(p), Some(v)) if v.has_goauth() => format!("machine {host}:{p}"),
        (Some(_), Some(_)) => format!("machine {host}"),
        (Some(p), None) => {
            format!("machine {host}:{p}' (Go 1.24+; 'machine {host}' for Go 1.23 and older)")
        }
    }
}

/// Tags this go cannot use: a 4th field before Go 1.25, bzr from Go 1.27, an unknown VCS.
pub(super) fn go_import_support(
    flow: &Flow,
    tags: &[GoImport],
    go: Option<GoVersion>,
) -> Option<Diagnosis> {
    let tag = tags.first()?;
    let host = flow.host();
    let too_old = go.is_some_and(|v| !v.reads_go_import_subdir());
    if tags.iter().all(|t| t.subdir.is_some()) && too_old {
        let v = go.map_or_else(String::new, |v| v.to_string());
        return Some(Diagnosis::new(
            Code::GoImportSubdir,
            Severity::Error,
            format!("{host} answers with a go-import tag that has a 4th field (subdirectory {}); {v} reads only 3-field tags, so it finds none (\"no go-import meta tags\")", tag.subdir.as_deref().unwrap_or("")),
            "use Go 1.25 or later (GOTOOLCHAIN=go1.25.0 or newer), or have the server add a 3-field tag for older clients".into(),
        ));
    }
    let bzr_gone = go.is_some_and(|v| v.cert_file_everywhere());
    let known = ["git", "hg", "svn", "fossil", "mod"];
    if (tag.vcs == "bzr" && bzr_gone) || (!known.contains(&tag.vcs.as_str()) && tag.vcs != "bzr") {
        return Some(Diagnosis::new(
            Code::VcsUnsupported,
            Severity::Error,
            format!("{host} names the version control system \"{}\" for {}, which {} does not support", clip(&tag.vcs, 20), tag.prefix, go.map_or_else(|| "this go".to_string(), |v| v.to_string())),
            "serve the module from a module proxy (GOPROXY), or from a git repository; bzr support ended in Go 1.27".into(),
        ));
    }
    None
}

fn short(url: &str) -> String {
    clip(url.split('?').next().unwrap_or(url), 100)
}

/// `s` in at most `max` characters, through the one terminal rule: a cause is printed by the
/// summary and the TUI, and go prints it from gomitm's 502 body.
fn clip(s: &str, max: usize) -> String {
    let safe = terminal_safe(s);
    let mut out: String = safe.chars().take(max).collect();
    if safe.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: header values quoted into a cause go through the one terminal rule.
    #[test]
    fn quoted_header_text_is_terminal_safe() {
        assert_eq!(clip("60\u{1b}]0;x\u{7}\u{2066}", 40), "60␛]0;x␇<U+2066>");
    }

    #[test]
    fn netrc_machine_follows_the_go_release() {
        let u = "https://corp.example:8443/goproxy/x/@v/list";
        assert_eq!(
            netrc_machine(u, Some(GoVersion::new(24, 0))),
            "machine corp.example:8443"
        );
        assert_eq!(
            netrc_machine(u, Some(GoVersion::new(19, 8))),
            "machine corp.example"
        );
        assert!(netrc_machine(u, None).contains("Go 1.24+"));
        assert_eq!(
            netrc_machine("https://corp.example/x", Some(GoVersion::new(26, 0))),
            "machine corp.example"
        );
        assert_eq!(
            netrc_machine("https://corp.example:443/x", None),
            "machine corp.example"
        );
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let base = "https://p.test/a/b/@v/v1.zip";
        assert_eq!(resolve(base, "https://cdn.test/z"), "https://cdn.test/z");
        assert_eq!(resolve(base, "//cdn.test/z"), "https://cdn.test/z");
        assert_eq!(resolve(base, "/z"), "https://p.test/z");
        assert_eq!(resolve(base, "z"), "https://p.test/a/b/@v/z");
        assert!(is_rate_limit_page(
            "https://www.google.com/sorry/index?continue=x"
        ));
        assert!(!is_rate_limit_page("https://storage.googleapis.com/x"));
    }
}
