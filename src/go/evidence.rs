//! What the go command itself said: its error lines (stderr, and the `"Error"` fields of
//! `-json` output on stdout), each with the module, version and URL it names and the kind of
//! failure its words describe.
//!
//! Pure: text in, [`GoError`]s out. The wording is go's own, checked against go 1.19, 1.26 and
//! 1.27 (docs/GO-TROUBLESHOOTING.md). Must not look at flows: tying errors to requests is
//! `verdict`'s job.

/// One failure go reported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoError {
    /// The line as go printed it (control characters removed, at most 400 bytes).
    pub line: String,
    /// Indented lines that followed it (`\tserver response: …`, `\tgo.sum: …`).
    pub detail: Vec<String>,
    pub module: Option<String>,
    pub version: Option<String>,
    /// The URL the message names (`reading URL: …`, `Get "URL": …`, a GOPROXY entry).
    pub url: Option<String>,
    pub kind: GoMessage,
}

/// What go's words say happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoMessage {
    /// `reading URL: 404 Not Found` and other statuses.
    Status(u16),
    /// `invalid response from proxy "…"`: the answer was not what the protocol requires.
    InvalidResponse,
    /// `proxy returned info for version X instead of requested version`.
    InfoVersion,
    /// `module declares its path as: X but was required as: Y`.
    ModulePath,
    /// `zip: not a valid zip file`.
    NotAZip,
    /// `zip for M@V has unexpected file …`.
    ZipUnexpectedFile,
    /// `checksum mismatch` against go.sum.
    MismatchGoSum,
    /// `checksum mismatch` against a checksum database.
    MismatchSumdb,
    /// `malformed record data`, `downloaded inconsistent tile`, bad tile sizes.
    BadSumdbAnswer,
    Dns,
    ConnectionRefused,
    Timeout,
    /// `x509: …`, `tls: …`.
    Tls,
    /// `proxyconnect tcp: …`: the proxy itself could not be reached.
    ProxyConnect,
    /// `unexpected EOF`, `stream error`.
    CutShort,
    InsecureRedirect,
    TooManyRedirects,
    ToolchainNotAvailable,
    /// `go1.30 is a language version but not a toolchain version`.
    LanguageNotToolchain,
    /// `requires go >= …` with GOTOOLCHAIN=local.
    GoTooOld,
    GoproxyOff,
    GoproxyNoEntries,
    ModVendor,
    GovcsDisallows,
    /// `checksum database disabled by GOSUMDB=off` (toolchains always need it).
    SumdbOff,
    MissingGoSum,
    InsecureFlag,
    NoGoImport,
    UnknownVcs,
    /// git's own failure (`git ls-remote`, `fatal: …`).
    Git,
    NoMatchingVersions,
    Other,
}

/// Progress and advice lines go prints with the `go: ` prefix that are not failures.
const NOT_ERRORS: [&str; 13] = [
    "go: no module dependencies to download",
    "go: downloading ",
    "go: finding ",
    "go: found ",
    "go: added ",
    "go: upgraded ",
    "go: downgraded ",
    "go: removed ",
    "go: extracting ",
    "go: warning: ",
    "go: creating new go.mod",
    "go: to add ",
    "go: switching to ",
];

/// Go's error lines, in order, from its stderr and stdout (`-json`).
pub fn parse(stderr: &str, stdout: &str) -> Vec<GoError> {
    let mut out = parse_stderr(stderr);
    out.extend(parse_json(stdout));
    out
}

fn parse_stderr(text: &str) -> Vec<GoError> {
    let mut out: Vec<GoError> = Vec::new();
    let mut in_error = false;
    for raw in text.lines() {
        let line = clean(raw);
        if raw.starts_with('\t') || raw.starts_with("    ") {
            if in_error {
                if let Some(last) = out.last_mut() {
                    if last.detail.len() < 12 {
                        last.detail.push(line.trim().to_string());
                    }
                    refine_from_detail(last);
                }
            }
            continue;
        }
        let starts_error = (line.starts_with("go: ")
            && !NOT_ERRORS.iter().any(|p| line.starts_with(p)))
            || (line.starts_with("verifying ") && line.contains("checksum mismatch"))
            || is_file_position(&line);
        in_error = starts_error;
        if starts_error && !out.iter().any(|e| e.line == line) {
            out.push(classify(&line));
        }
    }
    out
}

/// `main.go:3:8: …` (go build, go 1.26+ with a position in front of the module error).
fn is_file_position(line: &str) -> bool {
    let Some((file, rest)) = line.split_once(".go:") else {
        return false;
    };
    !file.contains(' ')
        && rest
            .split(':')
            .next()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty())
        && (rest.contains("go: ") || rest.contains("module") || rest.contains("verifying"))
}

/// `go mod download -json` and `go list -m -json` put errors in `"Error"` fields on stdout.
fn parse_json(text: &str) -> Vec<GoError> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    for value in stream {
        let Ok(value) = value else {
            break;
        };
        let error = match value.get("Error") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Object(o)) => o
                .get("Err")
                .and_then(|e| e.as_str())
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        if error.is_empty() {
            continue;
        }
        let first = error.lines().next().unwrap_or("");
        let mut e = classify(&clean(first));
        e.detail = error
            .lines()
            .skip(1)
            .take(12)
            .map(|l| clean(l).trim().to_string())
            .collect();
        refine_from_detail(&mut e);
        if e.module.is_none() {
            e.module = value
                .get("Path")
                .and_then(|p| p.as_str())
                .map(str::to_string);
            e.version = value
                .get("Version")
                .and_then(|p| p.as_str())
                .map(str::to_string);
        }
        if !out.iter().any(|o: &GoError| o.line == e.line) {
            out.push(e);
        }
    }
    out
}

/// A checksum mismatch says against what in its detail lines (`go.sum:` or `<db name>:`).
fn refine_from_detail(e: &mut GoError) {
    if !matches!(e.kind, GoMessage::MismatchGoSum | GoMessage::MismatchSumdb) {
        return;
    }
    let sumdb = e.detail.iter().any(|d| {
        let d = d.trim_start();
        !d.starts_with("downloaded:") && !d.starts_with("go.sum:") && d.contains(": h1:")
    });
    if sumdb {
        e.kind = GoMessage::MismatchSumdb;
    }
}

fn clean(line: &str) -> String {
    let mut s = crate::terminal_text::terminal_safe(line.trim_end()).into_owned();
    if s.len() > 400 {
        let mut end = 400;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn classify(line: &str) -> GoError {
    let (module, version) = module_version(line);
    GoError {
        line: line.to_string(),
        detail: Vec::new(),
        module,
        version,
        url: url(line),
        kind: kind(line),
    }
}

/// `go: M@V: …`, `verifying M@V: …`, `verifying M@V/go.mod: …`, `zip for M@V has …`.
fn module_version(line: &str) -> (Option<String>, Option<String>) {
    let words = line
        .split_whitespace()
        .map(|w| w.trim_end_matches(':').trim_matches('"'));
    for w in words {
        let w = w.strip_suffix("/go.mod").unwrap_or(w);
        if let Some((m, v)) = w.rsplit_once('@') {
            if m.contains('.') && !m.contains("://") && v.starts_with('v') && !v.contains('/') {
                return (Some(m.to_string()), Some(v.to_string()));
            }
        }
    }
    (None, None)
}

/// The first URL in the message: `reading URL`, `Get "URL"`, `proxy "URL"`.
fn url(line: &str) -> Option<String> {
    let start = [line.find("https://"), line.find("http://")]
        .into_iter()
        .flatten()
        .min()?;
    let rest = &line[start..];
    let end = rest.find(['"', ' ', '\'']).unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches(':').to_string())
}

fn kind(line: &str) -> GoMessage {
    use GoMessage as M;
    let l = line.to_ascii_lowercase();
    let has = |s: &str| l.contains(s);
    if let Some(status) = status_after_reading(line) {
        return M::Status(status);
    }
    let table: &[(&str, GoMessage)] = &[
        ("checksum mismatch", M::MismatchGoSum),
        ("invalid response from proxy", M::InvalidResponse),
        ("proxy returned info for version", M::InfoVersion),
        ("module declares its path as", M::ModulePath),
        ("zip: not a valid zip file", M::NotAZip),
        ("has unexpected file", M::ZipUnexpectedFile),
        ("malformed record data", M::BadSumdbAnswer),
        ("inconsistent tile", M::BadSumdbAnswer),
        ("tilereader returned bad result", M::BadSumdbAnswer),
        ("proxyconnect", M::ProxyConnect),
        ("no such host", M::Dns),
        ("server misbehaving", M::Dns),
        ("connection refused", M::ConnectionRefused),
        ("x509:", M::Tls),
        ("tls:", M::Tls),
        ("redirected from secure url", M::InsecureRedirect),
        ("stopped after 10 redirects", M::TooManyRedirects),
        ("toolchain not available", M::ToolchainNotAvailable),
        (
            "is a language version but not a toolchain version",
            M::LanguageNotToolchain,
        ),
        ("requires go >=", M::GoTooOld),
        ("disabled by goproxy=off", M::GoproxyOff),
        ("contains no entries", M::GoproxyNoEntries),
        ("-mod=vendor", M::ModVendor),
        ("vendor directory", M::ModVendor),
        ("inconsistent vendoring", M::ModVendor),
        ("govcs disallows", M::GovcsDisallows),
        ("disabled by gosumdb=off", M::SumdbOff),
        ("missing go.sum entry", M::MissingGoSum),
        ("-insecure flag is no longer supported", M::InsecureFlag),
        ("no go-import meta tag", M::NoGoImport),
        ("unknown vcs", M::UnknownVcs),
        ("no matching versions for query", M::NoMatchingVersions),
        ("unexpected eof", M::CutShort),
        ("stream error", M::CutShort),
        ("i/o timeout", M::Timeout),
        ("deadline exceeded", M::Timeout),
        ("handshake timeout", M::Timeout),
        ("git ls-remote", M::Git),
        ("git fetch", M::Git),
        ("fatal:", M::Git),
    ];
    table
        .iter()
        .find(|(needle, _)| has(needle))
        .map_or(M::Other, |(_, k)| *k)
}

/// `reading https://…: 404 Not Found` → 404.
fn status_after_reading(line: &str) -> Option<u16> {
    let i = line.find("reading http")?;
    let rest = &line[i..];
    let colon = rest.find(": ")?;
    let code = rest[colon + 2..].split_whitespace().next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
