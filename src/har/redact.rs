//! Redaction of secrets in recorded flows: which header and query-parameter names are secret,
//! URL userinfo, URLs quoted inside error messages, and a redacted copy of a whole flow (what
//! `--jsonl` writes). HAR export uses the same rules (`export.rs`).
//!
//! Pure. The rule is deliberately broad (GOAUTH, Go 1.24+, can send any header a credential
//! helper prints), with a short list of names that look secret but are not and matter for
//! debugging; `docs/HAR.md` documents it.

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

/// `https://user:pass@host/x?token=t&a=1` → `https://REDACTED@host/x?token=REDACTED&a=1`:
/// userinfo, and the values of query parameters whose names are secret (`is_secret_name`).
/// Anything else is unchanged, byte for byte.
pub fn redact_url(url: &str) -> String {
    redact_url_cow(url).into_owned()
}

/// `redact_url`, borrowing the URL when there is nothing to redact.
pub fn redact_url_cow(url: &str) -> std::borrow::Cow<'_, str> {
    // Most URLs have neither userinfo nor a query: nothing to redact, nothing to copy.
    if !url.contains(['@', '?', '#']) {
        return std::borrow::Cow::Borrowed(url);
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
    out.push_str(&redact_query(&rest[authority_end..]));
    std::borrow::Cow::Owned(out)
}

/// Path, `?query` and `#fragment` with the secret query values replaced.
fn redact_query(path_query: &str) -> String {
    let (before_fragment, fragment) = match path_query.find('#') {
        Some(i) => path_query.split_at(i),
        None => (path_query, ""),
    };
    let Some((path, query)) = before_fragment.split_once('?') else {
        return path_query.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_name(name) => {
                format!("{name}={REDACTED}")
            }
            _ => p.to_string(),
        })
        .collect();
    format!("{path}?{}{fragment}", params.join("&"))
}

/// Every `scheme://…` inside prose, redacted as a URL: error messages quote proxy URLs and
/// request URLs.
pub fn redact_text(text: &str) -> String {
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
        out.push_str(&redact_url(&rest[scheme_start..end]));
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

/// One header value as it may be shown: secret → [`REDACTED`], `Location` → URL-redacted.
pub fn redact_header_value(name: &str, value: &str, extra: &[String]) -> String {
    if is_secret_header(name, extra) {
        REDACTED.to_string()
    } else if name.eq_ignore_ascii_case("location") || name.eq_ignore_ascii_case("content-location")
    {
        redact_url(value)
    } else {
        value.to_string()
    }
}

fn redact_headers(headers: &Headers, extra: &[String]) -> Headers {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), redact_header_value(n, v, extra)))
        .collect()
}

/// A copy of `flow` with every secret replaced: secret headers (both directions), URL
/// userinfo and secret query values (request URL, `Location`, `mapped_to`, the Go base URL,
/// the upstream proxy), URLs inside the error message. Bodies are kept as captured.
pub fn redact_flow(flow: &Flow, extra: &[String]) -> Flow {
    let mut out = flow.clone();
    out.request.url = redact_url(&flow.request.url);
    out.request.headers = redact_headers(&flow.request.headers, extra);
    if let Some(resp) = out.response.as_mut() {
        resp.headers = redact_headers(&resp.headers, extra);
    }
    if let Some(e) = out.error.as_mut() {
        e.message = redact_text(&e.message);
    }
    if let Some(via) = out.connection.via_upstream_proxy.as_mut() {
        *via = redact_url(via);
    }
    if let Some(base) = out.go.as_mut().and_then(|g| g.base.as_mut()) {
        *base = redact_url(base);
    }
    if let Some(to) = out.mapped_to.as_mut() {
        *to = redact_url(to);
    }
    out
}

#[cfg(test)]
#[path = "tests_redact_rule.rs"]
mod tests;
