//! Redaction of secrets: the one rule every output applies (the `run` summary, `report`, the
//! headless log line, `--jsonl`, the HAR from `--har-out` and the TUI's export, and later the
//! OpenTelemetry attributes). It owns which header and query-parameter names are secret, URL
//! userinfo, URLs inside header values and error messages, and the redacted copy of a whole
//! flow ([`redact_flow`]), which is the entry point for anything that writes a flow.
//!
//! Pure apart from reading $HOME once (the home directory hidden in error messages), and a
//! leaf apart from `flow`. The rule is deliberately broad (GOAUTH, Go 1.24+, can
//! send any header a credential helper prints), with a short list of names that look secret
//! but are not and matter for debugging; `docs/HAR.md#redaction` documents it.

use std::borrow::Cow;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::flow::{Flow, Headers};
/// What a secret's value is replaced with.
pub const REDACTED: &str = "REDACTED";

/// Names that are credentials whatever the rule below says.
const SECRET_NAMES: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    // Artifactory's API-key header (a GOPROXY behind Artifactory).
    "x-jfrog-art-api",
];

/// Names that match the rule but carry no secret, and that people debugging need to see.
const NOT_SECRET_NAMES: [&str; 3] = [
    // A per-handshake nonce, public by design.
    "sec-websocket-key",
    // Public key hashes.
    "public-key-pins",
    "public-key-pins-report-only",
];

/// A word containing one of these is secret (`accesstoken`, `x-csrftoken`, `client_secret`).
const SECRET_PARTS: [&str; 12] = [
    "accesskey",
    "token",
    "secret",
    "passw",
    "credential",
    "session",
    "sessid",
    "cookie",
    "apikey",
    "signature",
    "csrf",
    "xsrf",
];

/// Words that are secret only on their own (`sig=` but not `signal`).
const SECRET_WORDS: [&str; 5] = ["key", "sig", "pwd", "pass", "jwt"];

/// Words starting with `auth` that are not credentials: the challenges a server sends
/// (`WWW-Authenticate`, `Proxy-Authenticate`) are what a 401/407 is debugged from.
const AUTH_WORDS_NOT_SECRET: [&str; 4] = ["authenticate", "authority", "author", "authors"];

/// True when a header or query-parameter name suggests its value is a credential.
///
/// The name is split into words at every character that is not a letter or digit, in any
/// case. A word is secret when it contains `token`, `secret`, `passw`, `credential`,
/// `session`, `sessid`, `cookie`, `apikey`, `accesskey`, `signature`, `csrf` or `xsrf`; is `key`, `sig`,
/// `pwd`, `pass` or `jwt`; ends with `key` (`apikey`, `accesskey`); or starts with `auth`
/// (`auth`, `authorization`, `authtoken`) other than `authenticate`, `authority` and `author`.
/// Exceptions: the CORS headers (`Access-Control-*`, whose values name headers, not secrets),
/// `Sec-WebSocket-Key` and `Public-Key-Pins`.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    if SECRET_NAMES.contains(&lower.as_str()) {
        return true;
    }
    if NOT_SECRET_NAMES.contains(&lower.as_str()) || lower.starts_with("access-control-") {
        return false;
    }
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(is_secret_word)
}

fn is_secret_word(word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    SECRET_PARTS.iter().any(|p| word.contains(p))
        || SECRET_WORDS.contains(&word)
        || word.ends_with("key")
        || (word.starts_with("auth") && !AUTH_WORDS_NOT_SECRET.contains(&word))
}

/// A secret header by the name rule, or one of `extra` (`--redact-header`), in any case.
pub fn is_secret_header(name: &str, extra: &[String]) -> bool {
    is_secret_name(name) || extra.iter().any(|s| name.eq_ignore_ascii_case(s.trim()))
}

/// True when a query-parameter (or fragment or path-parameter) name is secret as a server
/// reads it: `%74oken`, `access%5Ftoken` and `access+token` are `token`s. Decoded until it
/// stops changing (a few rounds), so a name encoded twice is caught too.
pub fn is_secret_param(raw: &str) -> bool {
    let mut name = Cow::Borrowed(raw);
    for _ in 0..4 {
        if !name.contains('%') {
            break;
        }
        let decoded = percent_decode_str(&name).decode_utf8_lossy().into_owned();
        if decoded == *name {
            break;
        }
        name = Cow::Owned(decoded);
    }
    // `+` is a space in form encoding; both split words, as any non-alphanumeric does.
    is_secret_name(&name)
}

/// `https://user:pass@host/x?token=t&a=1` → `https://REDACTED@host/x?token=REDACTED&a=1`:
/// userinfo, and the values of parameters whose names are secret ([`is_secret_param`]) in the
/// query, the fragment (`#access_token=…`) and path parameters (`;jsessionid=…`), with `&` or
/// `;` between them; URLs nested in a parameter value or the path are redacted the same way.
/// Anything else is unchanged, byte for byte. Also takes authority-form (`user:pass@host:443`,
/// a CONNECT target) and relative references.
pub fn redact_url(url: &str) -> String {
    redact_url_cow(url).into_owned()
}

/// `redact_url`, borrowing the URL when there is nothing to redact.
pub fn redact_url_cow(url: &str) -> Cow<'_, str> {
    url_at(url, 0)
}

/// How deep URLs nested in URLs are followed; below that a value that may hold one is
/// replaced whole (a hostile `?a=/?a=/?a=…` must not exhaust the stack).
const MAX_DEPTH: u8 = 4;

fn url_at(url: &str, depth: u8) -> Cow<'_, str> {
    // Userinfo needs `@`, parameters need `?`, `#` or `;`: without them nothing is secret,
    // nested URLs included. A byte scan: `contains` with a set of chars decodes every char
    // and was a third of the log line's cost, paid for every flow.
    if !url.bytes().any(|b| matches!(b, b'@' | b'?' | b'#' | b';')) {
        return Cow::Borrowed(url);
    }
    let rest_at = match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => i + 3,
        _ if url.starts_with("//") => 2,
        // Authority-form (`user@host:port`, a CONNECT target) or a relative reference.
        _ => 0,
    };
    let rest = &url[rest_at..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_at]);
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            out.push_str(REDACTED);
            out.push_str(&rest[at..authority_end]);
        }
        None => out.push_str(&rest[..authority_end]),
    }
    redact_path_query(&rest[authority_end..], &mut out, depth);
    if out == url {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(out)
    }
}

/// Path, `?query` and `#fragment` with the secret parameter values replaced.
fn redact_path_query(path_query: &str, out: &mut String, depth: u8) {
    let (before_fragment, fragment) = match path_query.find('#') {
        Some(i) => (&path_query[..i], Some(&path_query[i + 1..])),
        None => (path_query, None),
    };
    let (path, query) = match before_fragment.find('?') {
        Some(i) => (&before_fragment[..i], Some(&before_fragment[i + 1..])),
        None => (before_fragment, None),
    };
    redact_path(path, out, depth);
    if let Some(query) = query {
        out.push('?');
        redact_params(query, out, depth);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        redact_params(fragment, out, depth);
    }
}

/// A path's `;name=value` parameters (`/x;jsessionid=…`), and any URL nested in it
/// (`/redirect/https://u:p@h/`).
fn redact_path(path: &str, out: &mut String, depth: u8) {
    if path.contains("://") {
        if depth >= MAX_DEPTH {
            out.push_str(REDACTED);
        } else {
            out.push_str(&text_at(path, depth + 1));
        }
        return;
    }
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        match segment.split_once(';') {
            Some((head, params)) => {
                out.push_str(head);
                out.push(';');
                redact_params(params, out, depth);
            }
            None => out.push_str(segment),
        }
    }
}

/// `a=1&token=t;b=2`: each value whose name is secret replaced, the separators kept; other
/// values are searched for nested URLs.
fn redact_params(params: &str, out: &mut String, depth: u8) {
    let mut rest = params;
    loop {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let param = &rest[..end];
        match param.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_param(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            Some((name, value)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(&redact_nested(value, depth));
            }
            None => out.push_str(param),
        }
        match rest[end..].chars().next() {
            Some(sep) => {
                out.push(sep);
                rest = &rest[end + sep.len_utf8()..];
            }
            None => break,
        }
    }
}

/// What a value must still escape when a nested URL in it is written back redacted.
const VALUE_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b';')
    .add(b'+')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'`');

/// A parameter value (or path) that is itself a URL (`next=https://u:p@h/`,
/// `next=%2Fx%3Ftoken%3D…`), redacted; any other value unchanged.
fn redact_nested(value: &str, depth: u8) -> Cow<'_, str> {
    // Percent-encoded (possibly more than once): judged decoded, written back encoded.
    let mut decoded = Cow::Borrowed(value);
    for _ in 0..4 {
        if !decoded.contains('%') {
            break;
        }
        let next = percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == *decoded {
            break;
        }
        decoded = Cow::Owned(next);
    }
    if !decoded.contains(['@', '?', '#', ';']) {
        // Nothing a nested URL could hide a secret in.
        return Cow::Borrowed(value);
    }
    let red = if depth >= MAX_DEPTH {
        if decoded.contains("://") || decoded.starts_with('/') {
            REDACTED.to_string()
        } else {
            return Cow::Borrowed(value);
        }
    } else if decoded.starts_with('/') {
        url_at(&decoded, depth + 1).into_owned()
    } else {
        text_at(&decoded, depth + 1)
    };
    if red == *decoded {
        Cow::Borrowed(value)
    } else if decoded == value {
        Cow::Owned(red)
    } else {
        Cow::Owned(utf8_percent_encode(&red, VALUE_ESCAPES).to_string())
    }
}

/// Every `scheme://…` inside prose, redacted as a URL: error messages quote proxy URLs and
/// request URLs.
pub fn redact_text(text: &str) -> String {
    text_at(text, 0)
}

/// `text` with the home directory replaced by `~` ([`hide_home`]). For what is written about
/// flows (their error messages, through [`redact_message`]), which is shared as files; gomitm's
/// own lines on the user's terminal keep full paths to copy.
pub fn hide_local_paths(text: String) -> String {
    home_dirs()
        .iter()
        .fold(text, |t, home| match hide_home(&t, home) {
            Cow::Borrowed(_) => t,
            Cow::Owned(hidden) => hidden,
        })
}

/// The home directory of the user gomitm runs as ($HOME, and where it leads when that is a
/// symlink), read once: error messages quote local paths (the CA bundle, a rules file, a
/// `map_local` file), and a path under it names the user. The one place redaction reads the
/// environment. Empty when HOME is unset, relative or `/`.
fn home_dirs() -> &'static [String] {
    static HOMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    HOMES.get_or_init(|| {
        let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
        let Some(home) = std::env::var_os(var).map(std::path::PathBuf::from) else {
            return Vec::new();
        };
        let real = std::fs::canonicalize(&home).ok();
        let mut homes: Vec<String> = [Some(home), real]
            .into_iter()
            .flatten()
            .filter_map(|p| {
                p.to_str()
                    .map(|s| s.trim_end_matches(['/', '\\']).to_string())
            })
            .filter(|p| std::path::Path::new(p).is_absolute() && p.len() > 1)
            .collect();
        // The longer first: a path under both is replaced whole.
        homes.sort_by_key(|h| std::cmp::Reverse(h.len()));
        homes.dedup();
        homes
    })
}

/// `home` replaced by `~` wherever it is a whole path prefix: `/home/al/x` and `/home/al`
/// become `~/x` and `~`, while `/home/alice` (another directory) and `/x/home/al` are left.
pub(crate) fn hide_home<'a>(text: &'a str, home: &str) -> Cow<'a, str> {
    if home.is_empty() || !text.contains(home) {
        return Cow::Borrowed(text);
    }
    let in_name = |c: char| c.is_alphanumeric() || "._-~/\\".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(home) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + home.len()..].chars().next();
        let whole = !before.is_some_and(in_name)
            && after.is_none_or(|c| c == '/' || c == '\\' || !in_name(c));
        out.push_str(&rest[..at]);
        out.push_str(if whole { "~" } else { home });
        rest = &rest[at + home.len()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn text_at(text: &str, depth: u8) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme is the run of scheme characters just before `://`.
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let end = rest[i + 3..]
            .find(|c: char| c.is_whitespace() || "\"'<>`".contains(c))
            .map_or(rest.len(), |j| i + 3 + j);
        // Punctuation right after a URL belongs to the sentence (`… http://h/x: refused`).
        let end = i
            + 3
            + rest[i + 3..end]
                .trim_end_matches([':', ',', '.', ';', ')'])
                .len();
        out.push_str(&rest[..scheme_start]);
        if scheme_start == i {
            // `://` with no scheme before it is not a URL.
            out.push_str(&rest[i..end]);
        } else {
            out.push_str(&url_at(&rest[scheme_start..end], depth));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Headers whose whole value is one URL reference, absolute or relative.
fn is_url_header(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "location" | "content-location" | "referer" | "referrer" | "origin"
    ) || lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "url" || w == "uri")
}

/// One header value as it may be shown: a secret header ([`is_secret_header`]) →
/// [`REDACTED`]; a URL header (`Location`, `Content-Location`, `Referer`, `Origin`, any
/// `*-URL`/`*-URI`) → [`redact_url`]; `Refresh`'s `url=`; and in every other header, each
/// `<…>` reference (`Link`) and each `scheme://…` URL redacted.
pub fn redact_header_value(name: &str, value: &str, extra: &[String]) -> String {
    if is_secret_header(name, extra) {
        return REDACTED.to_string();
    }
    if is_url_header(name) {
        return redact_url(value);
    }
    let value = if name.trim().eq_ignore_ascii_case("refresh") {
        Cow::Owned(redact_refresh(value))
    } else {
        Cow::Borrowed(value)
    };
    redact_text(&redact_bracketed(&value))
}

/// `5; url=https://…` (also `URL = '…'`, or a bare URL after the `;`).
fn redact_refresh(value: &str) -> String {
    let Some(semi) = value.find([';', ',']) else {
        return value.to_string();
    };
    let (head, tail) = value.split_at(semi + 1);
    let after_space = tail.trim_start();
    let mut target = after_space;
    if target
        .get(..3)
        .is_some_and(|w| w.eq_ignore_ascii_case("url"))
    {
        let after_url = target.get(3..).unwrap_or("").trim_start();
        if let Some(v) = after_url.strip_prefix('=') {
            target = v.trim_start();
        }
    }
    let prefix_len = tail.len() - target.len();
    let (quote, inner) = match target.chars().next() {
        Some(q @ ('\'' | '"')) => (Some(q), &target[1..]),
        _ => (None, target),
    };
    let (url, after) = match quote.and_then(|q| inner.find(q)) {
        Some(close) => inner.split_at(close),
        None => (inner, ""),
    };
    let mut out = String::with_capacity(value.len());
    out.push_str(head);
    out.push_str(&tail[..prefix_len]);
    if let Some(q) = quote {
        out.push(q);
    }
    out.push_str(&redact_url_cow(url));
    out.push_str(after);
    out
}

/// Every `<…>` reference (`Link: </x?token=…>; rel=next, <…>`) redacted as a URL.
fn redact_bracketed(value: &str) -> Cow<'_, str> {
    if !value.contains('<') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..=open]);
        out.push_str(&redact_url_cow(&rest[open + 1..close]));
        out.push('>');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn redact_headers(headers: &mut Headers, extra: &[String]) {
    headers.replace_values(|name, value| {
        let red = redact_header_value(name, value, extra);
        (red != value).then_some(red)
    });
}

/// The secret strings a flow carries (userinfo, secret parameter and header values), so that
/// an error message quoting one of them in any spelling we did not foresee (`dial u:p@h:443`,
/// a header echoed by an upstream proxy) is scrubbed too. Shorter ones are left: replacing a
/// two-letter password everywhere would garble the message and protect nothing.
fn known_secrets(flow: &Flow, extra: &[String]) -> Vec<String> {
    const MIN: usize = 4;
    let mut found: Vec<String> = Vec::new();
    let mut urls: Vec<&str> = vec![flow.request.url.as_str()];
    urls.extend(flow.connection.upstream.via_upstream_proxy.as_deref());
    urls.extend(flow.mapped_to.as_deref());
    urls.extend(flow.go.as_ref().and_then(|g| g.base.as_deref()));
    for url in urls {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            found.push(userinfo.to_string());
            found.extend(userinfo.split_once(':').map(|(_, p)| p.to_string()));
        }
        let params = rest.split_once(['?', '#', ';']).map_or("", |(_, p)| p);
        for param in params.split(['&', ';', '#', '?']) {
            if let Some((name, value)) = param.split_once('=') {
                if is_secret_param(name) {
                    found.push(value.to_string());
                }
            }
        }
    }
    let responses = flow.response.iter().flat_map(|r| r.headers.iter());
    for (name, value) in flow.request.headers.iter().chain(responses) {
        if is_secret_header(name, extra) {
            found.push(value.to_string());
            // `Basic dTpw`, `Bearer t`: the credential alone; `a=1; b=2`: each cookie value.
            found.extend(value.split_whitespace().nth(1).map(str::to_string));
            for pair in value.split(';') {
                found.extend(pair.split_once('=').map(|(_, v)| v.trim().to_string()));
            }
        }
    }
    let mut decoded: Vec<String> = found
        .iter()
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    found.append(&mut decoded);
    found.retain(|s| s.len() >= MIN && s != REDACTED);
    // Longest first, so a password inside a longer userinfo is not replaced half-way.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// An error message as it may be shown: URLs in it redacted ([`redact_text`]), the home
/// directory replaced by `~` ([`hide_local_paths`]), and any secret the flow carries elsewhere
/// replaced wherever it appears.
pub fn redact_message(flow: &Flow, message: &str, extra: &[String]) -> String {
    let mut out = hide_local_paths(redact_text(message));
    for secret in known_secrets(flow, extra) {
        if out.contains(&secret) {
            out = out.replace(&secret, REDACTED);
        }
    }
    out
}

/// [`redact_flow`] in place.
pub fn redact_flow_in_place(flow: &mut Flow, extra: &[String]) {
    // The message is scrubbed against the secrets as recorded, before they are replaced.
    let message = flow
        .error
        .as_ref()
        .map(|e| redact_message(flow, &e.message, extra));
    if let (Some(e), Some(m)) = (flow.error.as_mut(), message) {
        e.message = m;
    }
    let url = redact_url(&flow.request.url);
    flow.request_mut().url = url;
    redact_headers(&mut flow.request_mut().headers, extra);
    if let Some(resp) = flow.response.as_mut() {
        redact_headers(&mut resp.headers, extra);
    }
    // The upstream record is shared with the connection's other flows: copied only when
    // there is something to change in it.
    if let Some(via) = flow.connection.upstream.via_upstream_proxy.as_deref() {
        let red = redact_url(via);
        if red != via {
            flow.connection.upstream_mut().via_upstream_proxy = Some(red);
        }
    }
    if let Some(to) = flow.mapped_to.as_mut() {
        *to = redact_url(to);
    }
    if let Some(go) = flow.go.as_mut() {
        if let Some(base) = go.base.as_mut() {
            *base = redact_url(base);
        }
        for import in go.go_import.iter_mut().flatten() {
            import.repo = redact_url(&import.repo);
        }
    }
}

/// A copy of `flow` with every secret replaced: secret headers (both directions, `extra` =
/// `--redact-header`), URLs inside header values, URL userinfo and secret parameter values
/// (request URL or CONNECT target, `mapped_to`, the Go base and sumdb URLs, go-import repos,
/// the upstream proxy), and the error message ([`redact_message`]). Bodies are kept as
/// captured. The one entry point for anything that writes a flow out.
pub fn redact_flow(flow: &Flow, extra: &[String]) -> Flow {
    let mut out = flow.clone();
    redact_flow_in_place(&mut out, extra);
    out
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
