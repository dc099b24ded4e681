//! What a 2xx answer to a Go request contains, judged against what its protocol requires: the
//! module proxy protocol (`.info` JSON, a go.mod, a zip under `module@version/`, a version list),
//! the checksum database (a signed record, tiles of the right size) and git smart HTTP.
//!
//! Pure: a finished flow in, a diagnosis out. Works on the captured prefix only, and says
//! nothing when the prefix cannot tell (not captured, cut by the cap, an encoding gomitm cannot
//! read): never a guess. Statuses are `diagnose`'s; hashes are `integrity_check`'s.

use super::codes::Code;
use super::diagnosis::{subject, Diagnosis, Severity};
use crate::flow::{header_value, Flow, GoKind, GoRequest, Response};
use crate::terminal_text::terminal_safe;

/// `None` when the answer is what the protocol requires, or when the capture cannot tell.
pub(super) fn judge(flow: &Flow, go: &GoRequest, resp: &Response) -> Option<Diagnosis> {
    if resp.status / 100 != 2 {
        return None;
    }
    let body = Body::of(resp)?;
    // An empty answer says nothing about what a server meant to send; go's own message
    // ("unexpected end of JSON input") speaks for itself. A zip is the exception when the
    // proxy's hasher read the whole (empty) answer: go says only "zip: not a valid zip file",
    // which names no answer. So is a go.mod: `go mod download` caches an empty one without a
    // word, and only a later command says "missing module line".
    if body.data.is_empty() {
        return match go.kind {
            GoKind::Zip | GoKind::Mod => by_kind(flow, go, resp, &body),
            _ => None,
        };
    }
    if go.kind == GoKind::Discovery {
        return None;
    }
    if starts_like_html(&body.data) {
        return Some(html(flow, go, resp, &body.data));
    }
    // A label is not the bytes: a proxy that sends a sound go.mod as text/html served it (go
    // reads the bytes, never the Content-Type); one whose body fails the check is a page.
    if labelled_html(resp) {
        return match go.kind {
            GoKind::Info
            | GoKind::Latest
            | GoKind::Mod
            | GoKind::Zip
            | GoKind::List
            | GoKind::SumdbLookup
            | GoKind::SumdbTile => by_kind(flow, go, resp, &body).map(|d| match d.code {
                Code::ModPathMismatch | Code::InfoVersionMismatch | Code::ZipWrongModule => d,
                _ => html(flow, go, resp, &body.data),
            }),
            _ => Some(html(flow, go, resp, &body.data)),
        };
    }
    by_kind(flow, go, resp, &body)
}

/// What the body is for the request's kind.
fn by_kind(flow: &Flow, go: &GoRequest, resp: &Response, body: &Body) -> Option<Diagnosis> {
    match go.kind {
        GoKind::Info | GoKind::Latest => info(flow, go, body),
        GoKind::Mod => go_mod(flow, go, body),
        GoKind::Zip => zip(flow, go, body),
        GoKind::List => list(flow, go, body),
        GoKind::SumdbLookup => lookup(flow, go, body),
        GoKind::SumdbTile => tile(flow, go, body),
        GoKind::GitRefs | GoKind::GitUploadPack => git(flow, resp),
        _ => None,
    }
}

/// The captured body, decoded, and whether it is the whole body.
struct Body {
    data: Vec<u8>,
    whole: bool,
}

impl Body {
    fn of(resp: &Response) -> Option<Body> {
        if resp.body.data.is_empty() && resp.body.total > 0 {
            return None;
        }
        let encoding = header_value(&resp.headers, "content-encoding").unwrap_or("");
        let (data, cut) = super::discovery::decoded_body(encoding, &resp.body.data)?;
        let whole = !cut && !resp.body.truncated && resp.body.complete;
        Some(Body { data, whole })
    }
}

/// Labelled an HTML page.
fn labelled_html(resp: &Response) -> bool {
    header_value(&resp.headers, "content-type")
        .unwrap_or("")
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/html")
}

/// An HTML page by how it starts.
fn starts_like_html(body: &[u8]) -> bool {
    let start: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    [&b"<!doctype html"[..], b"<html", b"<head", b"<!--"]
        .iter()
        .any(|p| start.starts_with(p))
}

fn expected(kind: GoKind) -> &'static str {
    match kind {
        GoKind::Info | GoKind::Latest => "the JSON version info",
        GoKind::Mod => "a go.mod file",
        GoKind::Zip => "the module zip",
        GoKind::List => "the version list",
        GoKind::SumdbLookup => "a signed checksum record",
        GoKind::SumdbTile => "a checksum database tile",
        GoKind::SumdbSupported | GoKind::SumdbLatest => "a checksum database answer",
        GoKind::GitRefs | GoKind::GitUploadPack | GoKind::GitReceivePack => "a git protocol answer",
        GoKind::Discovery => "a go-import page",
    }
}

/// The `<title>` of a page, short and printable, for the cause.
fn title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let words = text[open_end..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let t: String = terminal_safe(&words).chars().take(80).collect();
    (!t.is_empty()).then_some(t)
}

fn html(flow: &Flow, go: &GoRequest, resp: &Response, body: &[u8]) -> Diagnosis {
    let host = flow.host();
    let what = subject(flow, go);
    let page = title(body).map_or_else(
        || "an HTML page".to_string(),
        |t| format!("an HTML page (\"{t}\")"),
    );
    let ctype = header_value(&resp.headers, "content-type").unwrap_or("no content type");
    if go.kind.is_git() {
        return Diagnosis::new(
            Code::GitNotGit,
            Severity::Error,
            format!("the git server {host} answered {what} with {page} ({ctype}) instead of {}: a login page or a web front end, not the repository", expected(go.kind)),
            format!("check the repository URL (the go-import tag's or the import path's); give git credentials for {host} (a credential helper or ~/.netrc); or use ssh with git config url.\"git@{host}:\".insteadOf https://{host}/"),
        );
    }
    let severity = if go.kind == GoKind::SumdbSupported {
        Severity::Warning
    } else {
        Severity::Error
    };
    let setting = if go.kind.is_sumdb() {
        "GOSUMDB (and GOPROXY's /sumdb/)"
    } else {
        "GOPROXY"
    };
    Diagnosis::new(
        Code::HtmlInsteadOfData,
        severity,
        format!("{host} answered {what} with 200 and {page} ({ctype}) instead of {}: a captive portal, an SSO or login gateway, or a misconfigured mirror answered in the module proxy's place", expected(go.kind)),
        format!("open {} in a browser to see who answers (log in to the network or the portal), then retry; make sure {setting} names the service itself, not a web page in front of it; never switch verification off to get past this", flow.request.url),
    )
}

fn info(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    if !body.whole {
        return None;
    }
    let host = flow.host();
    let what = subject(flow, go);
    let version = serde_json::from_slice::<serde_json::Value>(&body.data)
        .ok()
        .and_then(|v| {
            v.get("Version")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        });
    let Some(version) = version else {
        return Some(Diagnosis::new(
            Code::InvalidInfo,
            Severity::Error,
            format!("{host} answered {what} with 200 but not the JSON object with a \"Version\" that the module proxy protocol requires (body starts {})", preview(&body.data)),
            format!("check that GOPROXY names a module proxy ({host} does not speak the protocol at this URL); if a mirror sits in between, fix or bypass it"),
        ));
    };
    let asked = go.version.as_deref()?;
    if go.kind == GoKind::Info && is_canonical(asked) && version != asked {
        return Some(Diagnosis::new(
            Code::InfoVersionMismatch,
            Severity::Error,
            format!("{host} answered {what} with the info of {version}; go refuses it (\"proxy returned info for version {version} instead of requested version {asked}\")"),
            format!("the module proxy {host} is broken or serves a stale cache: report it to its owner, or put a healthy proxy first in GOPROXY"),
        ));
    }
    None
}

fn go_mod(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    let host = flow.host();
    let what = subject(flow, go);
    let text = std::str::from_utf8(&body.data).ok();
    let declared = text.and_then(module_line);
    let plausible = text.is_some_and(plausible_go_mod);
    if !plausible && body.whole {
        return Some(Diagnosis::new(
            Code::InvalidMod,
            Severity::Error,
            format!("{host} answered {what} with 200 but the body is not a go.mod file (it starts {})", preview(&body.data)),
            format!("check that GOPROXY names a module proxy; if a mirror or gateway sits in front of {host}, fix or bypass it"),
        ));
    }
    if declared.is_none() && body.whole {
        return Some(Diagnosis::new(
            Code::InvalidMod,
            Severity::Error,
            format!("{host} answered {what} with 200 but the go.mod has no module line ({}); go caches it, and the next command that reads it fails with \"parsing go.mod: missing module line\"", if body.data.is_empty() { "the body is empty".to_string() } else { format!("it starts {}", preview(&body.data)) }),
            format!("check that GOPROXY names a module proxy; if a mirror or gateway sits in front of {host}, fix or bypass it"),
        ));
    }
    let asked = go.module.as_deref()?;
    match declared {
        Some(path) if path != asked => Some(Diagnosis::new(
            Code::ModPathMismatch,
            Severity::Error,
            format!("{host} served a go.mod for {what} that declares \"module {path}\"; go refuses it (\"module declares its path as: {path} but was required as: {asked}\")"),
            format!("require the module by the path it declares ({path}), or fix the module; if {host} is a mirror, it may have mixed up two modules"),
        )),
        _ => None,
    }
}

/// The path of a go.mod's `module` directive, unquoted.
fn module_line(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let l = strip_comment(l).trim();
        let rest = l.strip_prefix("module")?;
        if !rest.starts_with([' ', '\t', '"']) {
            return None;
        }
        let p = rest.trim().trim_matches('"').trim_matches('`');
        (!p.is_empty()).then(|| p.to_string())
    })
}

fn strip_comment(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Every line of a go.mod is blank, a directive (with its arguments or opening a block), a
/// block's closing paren, or a line inside a block (`path version`, a retracted version, a
/// tool path, a `godebug` setting…): whatever stands inside a block is go's to parse, as long
/// as it is not markup.
fn plausible_go_mod(text: &str) -> bool {
    const DIRECTIVES: [&str; 10] = [
        "module",
        "go",
        "toolchain",
        "require",
        "exclude",
        "replace",
        "retract",
        "godebug",
        "tool",
        "ignore",
    ];
    let mut in_block = false;
    for line in text.lines() {
        let l = strip_comment(line).trim();
        if l.is_empty() {
            continue;
        }
        if l.contains('<') || l.chars().any(|c| c.is_control() && c != '\t') {
            return false;
        }
        if in_block {
            in_block = l != ")";
            continue;
        }
        let first = l
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("");
        if !DIRECTIVES.contains(&first) {
            return false;
        }
        in_block = l.ends_with('(');
    }
    true
}

fn zip(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    let host = flow.host();
    let what = subject(flow, go);
    let data = &body.data;
    let (module, version) = (go.module.as_deref()?, go.version.as_deref()?);
    let prefix = format!("{module}@{version}/");
    // The hash was computed over the whole stream: what it found outranks the captured prefix.
    let hashed = go.hash.as_ref();
    // An empty name is a broken header, not another module's file.
    let outside = hashed
        .and_then(|h| h.outside_prefix.clone())
        .or_else(|| first_entry_name(data).filter(|n| !n.starts_with(&prefix)))
        .filter(|n| !n.is_empty());
    if let Some(name) = outside {
        return Some(Diagnosis::new(
            Code::ZipWrongModule,
            Severity::Error,
            format!("{host} served a zip for {what} whose files are not under {prefix} (first: {}): it is the zip of another module or version, and go rejects it", clip(&name, 120)),
            format!("the module proxy {host} serves the wrong file: report it to its owner, or put a healthy proxy first in GOPROXY; do not edit go.sum or turn off verification to get past it"),
        ));
    }
    // The whole answer arrived, and the hasher, which read all of it, found no zip go can
    // read in it (it ends early, or its records are broken): go says "not a valid zip file".
    let unreadable = hashed
        .and_then(|h| h.not_verified.as_deref())
        .filter(|why| why.contains("(truncated)") || why.starts_with("not a zip go could read"));
    if let Some(why) =
        unreadable.filter(|_| flow.response.as_ref().is_some_and(|r| r.body.complete))
    {
        return Some(Diagnosis::new(
            Code::InvalidZip,
            Severity::Error,
            format!("{host} answered {what} with 200 and all the bytes it announced, but they are not a whole zip archive ({why})"),
            format!("the module proxy {host} serves a broken file: report it to its owner, or put a healthy proxy first in GOPROXY; do not edit go.sum or turn off verification to get past it"),
        ));
    }
    let read_as_zip = hashed.is_some_and(|h| h.h1.is_some());
    if !read_as_zip
        && data.len() >= 4
        && !data.starts_with(b"PK\x03\x04")
        && !data.starts_with(b"PK\x05\x06")
    {
        return Some(Diagnosis::new(
            Code::InvalidZip,
            Severity::Error,
            format!("{host} answered {what} with 200 but the body is not a zip archive (it starts {})", preview(data)),
            format!("check that GOPROXY names a module proxy; if a mirror or gateway sits in front of {host}, fix or bypass it"),
        ));
    }
    None
}

/// The file name of a zip's first local header (offset 30, length at 26).
fn first_entry_name(data: &[u8]) -> Option<String> {
    if !data.starts_with(b"PK\x03\x04") {
        return None;
    }
    let len = usize::from(u16::from_le_bytes([*data.get(26)?, *data.get(27)?]));
    let name = data.get(30..30 + len)?;
    Some(String::from_utf8_lossy(name).into_owned())
}

fn list(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    if !body.whole {
        return None;
    }
    let text = String::from_utf8_lossy(&body.data);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let bad: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.split_whitespace().next().is_some_and(is_semver))
        .collect();
    if bad.is_empty() {
        return None;
    }
    let none_good = bad.len() == lines.len();
    Some(Diagnosis::new(
        Code::InvalidVersionList,
        if none_good { Severity::Error } else { Severity::Warning },
        format!(
            "{} answered the version list of {} with {} line{} that {} not a version (first: {}); go skips such lines{}",
            flow.host(),
            subject(flow, go),
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            if bad.len() == 1 { "is" } else { "are" },
            clip(bad[0], 80),
            if none_good { ", so it sees no version at all" } else { "" }
        ),
        format!("the module proxy {} serves a malformed list: report it to its owner, or put a healthy proxy first in GOPROXY", flow.host()),
    ))
}

fn lookup(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    if !body.whole {
        return None;
    }
    let text = String::from_utf8_lossy(&body.data);
    let mut lines = text.lines();
    let id_ok = lines
        .next()
        .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    let has_hash = text.contains(" h1:");
    let signed = text.contains("\n\n") && text.contains("\n\u{2014} ");
    if id_ok && has_hash && signed {
        return None;
    }
    Some(Diagnosis::new(
        Code::InvalidSumdbAnswer,
        Severity::Error,
        format!("{} answered the checksum lookup of {} with 200 but not a signed checksum record (it starts {})", flow.host(), subject(flow, go), preview(&body.data)),
        sumdb_fix(flow),
    ))
}

fn tile(flow: &Flow, go: &GoRequest, body: &Body) -> Option<Diagnosis> {
    let path = go.tile.as_deref()?;
    if !body.whole || path.split('/').nth(1) == Some("data") {
        return None;
    }
    let height: u32 = path.split('/').next()?.parse().ok()?;
    let width: u64 = match path.rsplit_once(".p/") {
        Some((_, w)) => w.parse().ok()?,
        None => 1u64.checked_shl(height)?,
    };
    let want = width.checked_mul(32)?;
    let got = body.data.len() as u64;
    (got != want).then(|| {
        Diagnosis::new(
            Code::InvalidSumdbAnswer,
            Severity::Error,
            format!("{} answered the checksum database tile {path} with {got} bytes; a tile of {width} hashes has {want}", flow.host()),
            sumdb_fix(flow),
        )
    })
}

fn sumdb_fix(flow: &Flow) -> String {
    format!(
        "whatever answers for the checksum database at {} is not one: check GOSUMDB and the proxy's /sumdb/ path, or a gateway in between; keep verification on (never GOSUMDB=off or GONOSUMDB to get past it)",
        flow.host()
    )
}

fn git(flow: &Flow, resp: &Response) -> Option<Diagnosis> {
    let ctype = header_value(&resp.headers, "content-type").unwrap_or("");
    if ctype.starts_with("application/x-git-") || ctype.is_empty() {
        return None;
    }
    let go = flow.go.as_deref()?;
    Some(Diagnosis::new(
        Code::GitNotGit,
        Severity::Error,
        format!("the git server {} answered {} with 200 and {ctype}, not a git protocol answer: git stops with \"not valid: is this a git repository?\"", flow.host(), go.base.as_deref().unwrap_or(&flow.request.url)),
        "check the repository URL (the go-import tag's or the import path's) and that the server serves git smart HTTP there".into(),
    ))
}

/// Go's `semver.IsValid` in short: `v` then MAJOR[.MINOR[.PATCH]][-pre][+build].
pub(super) fn is_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    !parts.is_empty()
        && parts.len() <= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// `vX.Y.Z` with all three numbers (what go calls canonical, pre-release allowed).
fn is_canonical(v: &str) -> bool {
    is_semver(v)
        && v.split(['-', '+'])
            .next()
            .is_some_and(|c| c.matches('.').count() == 2)
        && !v.contains('+')
}

/// The first bytes of a body, printable, for a cause.
fn preview(data: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&data[..data.len().min(48)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{:?}", text.trim())
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
#[path = "content_tests.rs"]
mod tests;
