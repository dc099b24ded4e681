//! `gomitm doctor`'s checks of the settings themselves, before any request: GOPROXY syntax,
//! GOPRIVATE/GONOPROXY/GONOSUMDB coherence, what GOINSECURE does not cover, the GOSUMDB key,
//! GOAUTH and `.netrc` entries for the hosts in use, git's proxy and credential helpers, and
//! where go and git find their CA certificates.
//!
//! Pure: `commands::doctor` gathers the facts (go env, the variables, git config, which
//! files exist, the `.netrc` entries with their secrets already dropped); this file only
//! judges them into rows.

use std::collections::{BTreeMap, HashMap};

use super::codes::Code;
use super::diagnosis::Os;
use super::doctor_row::{Row, Verdict};
use super::goversion::GoVersion;

/// What a path holds, as the I/O shell found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    Missing,
    /// A file without one PEM certificate in it.
    NoCerts,
    /// A file with this many PEM certificates.
    Certs(usize),
    Dir,
}

/// One `.netrc` entry, its secrets already dropped: only whether they are there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `None` for the `default` entry.
    pub machine: Option<String>,
    pub login: bool,
    pub password: bool,
}

/// git's configuration that decides how go's git fetches travel and authenticate.
#[derive(Debug, Clone, Default)]
pub struct GitFacts {
    /// `git config --get-all http.proxy` (and `https.proxy`), in order.
    pub http_proxy: Vec<String>,
    /// `git config --get-all credential.helper`.
    pub credential_helpers: Vec<String>,
    pub ssl_ca_info: Option<String>,
    pub ssl_verify_off: bool,
}

/// Everything the settings checks read.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub go_env: HashMap<String, String>,
    /// The process environment variables that matter here (proxy, CA, netrc, old names).
    pub env: HashMap<String, String>,
    pub git: GitFacts,
    /// The `.netrc` go and git read (`$NETRC` or `~/.netrc`), if there is one.
    pub netrc_path: Option<String>,
    pub netrc: Vec<NetrcEntry>,
    /// The state of every path `paths_to_check` named.
    pub paths: BTreeMap<String, PathState>,
    pub os: Option<Os>,
}

impl Facts {
    pub fn go(&self, key: &str) -> &str {
        self.go_env.get(key).map_or("", |v| v.trim())
    }

    fn env(&self, key: &str) -> Option<&str> {
        self.env
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn goproxy(&self) -> &str {
        match self.go("GOPROXY") {
            "" => "https://proxy.golang.org,direct",
            v => v,
        }
    }

    pub fn gosumdb(&self) -> &str {
        match self.go("GOSUMDB") {
            "" => "sum.golang.org",
            v => v,
        }
    }

    fn version(&self) -> Option<GoVersion> {
        GoVersion::parse(self.go("GOVERSION"))
    }
}

/// The environment variables `Facts::env` should hold.
pub const ENV_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY",
    "NETRC",
    "GONOSUMCHECK",
    "GONOVERIFY",
];

/// Where Linux distributions keep the system bundle (go's own list, crypto/x509/root_linux.go).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The paths whose state the I/O shell must find out before `check` runs.
pub fn paths_to_check(f: &Facts) -> Vec<String> {
    let mut out: Vec<String> = SYSTEM_BUNDLES.iter().map(|s| s.to_string()).collect();
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO"] {
        if let Some(v) = f.env(var) {
            out.extend(v.split(':').filter(|p| !p.is_empty()).map(str::to_string));
        }
    }
    if let Some(p) = &f.git.ssl_ca_info {
        out.push(p.clone());
    }
    for entry in goauth_entries(f.go("GOAUTH")) {
        if let Some(dir) = entry.strip_prefix("git ") {
            out.push(dir.trim().to_string());
        }
    }
    out
}

/// Every settings row, in the order the table shows them.
pub fn check(f: &Facts, hosts: &[String]) -> Vec<Row> {
    let mut rows = goproxy_rows(f.goproxy());
    rows.extend(private_rows(f));
    rows.extend(goinsecure_rows(f));
    rows.extend(gosumdb_rows(f.gosumdb()));
    rows.extend(proxy_env_rows(f));
    rows.extend(goauth_rows(f));
    rows.extend(netrc_rows(f, hosts));
    rows.extend(git_rows(f));
    rows.extend(ca_rows(f));
    rows
}

fn setting(check: &str, verdict: Verdict, detail: String) -> Row {
    Row::setting(check, verdict, detail)
}

// ---------------------------------------------------------------- GOPROXY

/// One entry of a GOPROXY list and the separator after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyEntry {
    pub value: String,
    /// `|`: go tries the next entry after any error; `,`: only after 404 or 410.
    pub any_error_falls_through: bool,
    pub last: bool,
}

/// The non-empty entries of a GOPROXY list, as go reads it (cmd/go/internal/modfetch).
pub fn goproxy_entries(goproxy: &str) -> Vec<ProxyEntry> {
    let mut out = Vec::new();
    let mut rest = goproxy.trim();
    while !rest.is_empty() {
        let (value, sep, tail) = match rest.find([',', '|']) {
            Some(i) => (&rest[..i], rest[i..].chars().next(), &rest[i + 1..]),
            None => (rest, None, ""),
        };
        let value = value.trim();
        if !value.is_empty() {
            out.push(ProxyEntry {
                value: value.to_string(),
                any_error_falls_through: sep == Some('|'),
                last: false,
            });
        }
        rest = tail;
    }
    if let Some(last) = out.last_mut() {
        last.last = true;
    }
    out
}

fn goproxy_rows(goproxy: &str) -> Vec<Row> {
    let entries = goproxy_entries(goproxy);
    let mut rows = Vec::new();
    let bad = |detail: String, fix: &str| {
        setting("GOPROXY", Verdict::Fail, detail)
            .with_code(Code::GoproxySyntax)
            .with_fix(fix)
    };
    if entries.is_empty() {
        rows.push(
            setting(
                "GOPROXY",
                Verdict::Fail,
                format!("GOPROXY={goproxy:?} has no entries: go refuses every download"),
            )
            .with_code(Code::GoproxyNoEntries)
            .with_fix("GOPROXY=https://proxy.golang.org,direct (go env -w GOPROXY=…)"),
        );
        return rows;
    }
    let pieces = goproxy.split([',', '|']).count();
    if pieces != entries.len() {
        rows.push(
            setting(
                "GOPROXY",
                Verdict::Warn,
                format!("GOPROXY={goproxy:?} has an empty entry (two separators in a row, or one at an end); go skips it"),
            )
            .with_code(Code::GoproxySyntax)
            .with_fix("remove the extra ',' or '|'"),
        );
    }
    for (i, e) in entries.iter().enumerate() {
        let v = e.value.as_str();
        match v {
            "off" if i == 0 => rows.push(
                setting("GOPROXY", Verdict::Warn, "GOPROXY=off: go downloads no module at all (only the module cache is used)".into())
                    .with_code(Code::GoproxyOff)
                    .with_fix("unless that is meant (an offline build), GOPROXY=https://proxy.golang.org,direct"),
            ),
            "off" => rows.push(
                setting("GOPROXY", Verdict::Info, format!("entry {} is off: when every entry before it fails, go stops with 'disabled by GOPROXY=off'", i + 1)),
            ),
            "direct" if !e.last => rows.push(
                setting("GOPROXY", Verdict::Warn, format!("direct is entry {} of {}: the entries after it are only tried when the direct fetch ends in not found, and a direct fetch rarely does", i + 1, entries.len()))
                    .with_code(Code::GoproxySyntax)
                    .with_fix("put direct last: GOPROXY=<proxies>,direct"),
            ),
            "direct" | "noproxy" => {}
            _ if v.starts_with("https://") => {}
            _ if v.starts_with("file://") => rows.push(setting(
                "GOPROXY",
                Verdict::Info,
                format!("entry {} is a file:// proxy: go reads it from disk (not probed)", i + 1),
            )),
            _ if v.starts_with("http://") => rows.push(
                setting("GOPROXY", Verdict::Warn, format!("entry {} ({v}) is plain http: anyone on the path can read and change what it serves (the checksum database still checks modules it knows)", i + 1))
                    .with_code(Code::GoproxySyntax)
                    .with_fix("use the https:// URL of that proxy"),
            ),
            _ if !v.contains("://") => rows.push(bad(
                format!("entry {} ({v}) has no scheme: go fails with 'invalid proxy URL missing scheme'", i + 1),
                "write the whole URL: https://…",
            )),
            _ => rows.push(bad(
                format!("entry {} ({v}) is not an https://, http:// or file:// URL, nor direct or off", i + 1),
                "each entry is a proxy URL, direct or off, separated by ',' or '|'",
            )),
        }
    }
    let shape = entries
        .iter()
        .map(|e| {
            let sep = if e.last {
                ""
            } else if e.any_error_falls_through {
                " | "
            } else {
                " , "
            };
            format!("{}{sep}", e.value)
        })
        .collect::<String>();
    let commas = entries
        .iter()
        .any(|e| !e.last && !e.any_error_falls_through);
    let mut detail = format!(
        "{shape}: {} entr{}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
    if commas {
        detail.push_str(
            "; after ',' go tries the next entry only on 404 or 410 (after '|', on any error)",
        );
    }
    if rows.iter().all(|r| r.verdict == Verdict::Info) {
        rows.insert(0, setting("GOPROXY", Verdict::Ok, detail));
    } else {
        rows.insert(0, setting("GOPROXY", Verdict::Info, detail));
    }
    rows
}

// ---------------------------------------------------------------- GOPRIVATE & co

/// A comma-separated pattern list as go splits it (x/mod `MatchPrefixPatterns`): a trailing
/// `/` dropped, nothing trimmed, so a pattern with a space is seen, as go sees it, as one that
/// matches nothing.
fn globs(v: &str) -> Vec<String> {
    v.split(',')
        .map(|g| g.strip_suffix('/').unwrap_or(g))
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `list` (GONOSUMDB or GONOPROXY) covers the GOPRIVATE pattern `glob`: the same
/// pattern, or one that matches it read as a path (`corp.example` covers `corp.example/x`).
fn covers(list: &[String], glob: &str) -> bool {
    let as_patterns = super::private::PrivatePatterns::from_globs(&list.join(","));
    list.iter().any(|g| g == glob) || as_patterns.private_for_proxy(glob)
}

fn private_rows(f: &Facts) -> Vec<Row> {
    let mut rows = Vec::new();
    let private = globs(f.go("GOPRIVATE"));
    let noproxy_raw = f.go("GONOPROXY");
    let nosumdb_raw = f.go("GONOSUMDB");
    let noproxy = globs(noproxy_raw);
    let nosumdb = globs(nosumdb_raw);
    for g in private.iter().chain(&noproxy).chain(&nosumdb) {
        if g.contains("://") || g.contains(' ') {
            rows.push(
                setting("GOPRIVATE", Verdict::Fail, format!("pattern {g:?} is a URL or has a space: patterns are module path prefixes (globs), like corp.example.com/*"))
                    .with_code(Code::PrivateIncoherent)
                    .with_fix("write the module path prefix only: GOPRIVATE=corp.example.com"),
            );
        }
    }
    if !nosumdb_raw.is_empty() {
        for g in private.iter().filter(|g| !covers(&nosumdb, g)) {
            rows.push(
                setting("GONOSUMDB", Verdict::Fail, format!("GOPRIVATE has {g} but GONOSUMDB={nosumdb_raw} does not cover it: go asks the checksum database about those private paths (a leak, and a 404/410 'verifying module' failure)"))
                    .with_code(Code::PrivateIncoherent)
                    .with_fix(&format!("add it: GONOSUMDB={nosumdb_raw},{g} (or unset GONOSUMDB: it then follows GOPRIVATE)")),
            );
        }
    }
    if !noproxy_raw.is_empty() && noproxy_raw != "none" {
        for g in private.iter().filter(|g| !covers(&noproxy, g)) {
            rows.push(
                setting("GONOPROXY", Verdict::Warn, format!("GOPRIVATE has {g} but GONOPROXY={noproxy_raw} does not cover it: go asks GOPROXY for those private paths"))
                    .with_code(Code::PrivateIncoherent)
                    .with_fix(&format!("if your GOPROXY is not meant to serve them: GONOPROXY={noproxy_raw},{g}; if it is (a corporate proxy), GONOPROXY=none says so")),
            );
        }
    }
    if f.go("GOSUMDB") == "off" && private.is_empty() && nosumdb.is_empty() {
        rows.push(
            setting("GOSUMDB", Verdict::Warn, "GOSUMDB=off for every module: nothing checks that a download is the code everyone else gets".into())
                .with_fix("to keep private modules out of the checksum database, set GOPRIVATE (or GONOSUMDB) to their prefixes and unset GOSUMDB"),
        );
    }
    let goflags = f.go("GOFLAGS");
    if goflags
        .split_whitespace()
        .any(|w| w == "-insecure" || w.starts_with("-insecure="))
    {
        rows.push(
            setting("GOFLAGS", Verdict::Fail, format!("GOFLAGS={goflags:?} has -insecure, which go no longer supports (go get refuses it)"))
                .with_code(Code::InsecureFlag)
                .with_fix("drop -insecure; GOINSECURE=<pattern> for the hosts that need plain http or unchecked certificates"),
        );
    }
    for old in ["GONOSUMCHECK", "GONOVERIFY"] {
        if let Some(v) = f.env(old) {
            rows.push(
                setting(old, Verdict::Warn, format!("{old}={v} is set, but go reads no such variable: it changes nothing"))
                    .with_code(Code::PrivateIncoherent)
                    .with_fix("use GONOSUMDB=<patterns> (or GOPRIVATE) to skip the checksum database for private paths"),
            );
        }
    }
    if rows.is_empty() && !(private.is_empty() && noproxy.is_empty() && nosumdb.is_empty()) {
        let show = |v: &str| {
            if v.is_empty() {
                "(GOPRIVATE)".to_string()
            } else {
                v.to_string()
            }
        };
        rows.push(setting(
            "GOPRIVATE",
            Verdict::Ok,
            format!(
                "GOPRIVATE={} GONOPROXY={} GONOSUMDB={}",
                f.go("GOPRIVATE"),
                show(noproxy_raw),
                show(nosumdb_raw)
            ),
        ));
    }
    rows
}

// ---------------------------------------------------------------- GOINSECURE

/// GOINSECURE (cmd/go/internal/modfetch `lookupDirect`, internal/vcs, internal/web): for a
/// module path it matches, go's own lookup of a *direct* fetch (the `?go-get=1` page) may fall
/// back to plain http and skips certificate checks, and a repository may be fetched over http.
/// git still checks certificates, and GOPROXY and the checksum database are untouched, which
/// is what people expect of it.
fn goinsecure_rows(f: &Facts) -> Vec<Row> {
    let raw = f.go("GOINSECURE");
    let insecure = globs(raw);
    if insecure.is_empty() {
        return Vec::new();
    }
    // GONOPROXY and GONOSUMDB follow GOPRIVATE when unset, and `go env` then prints
    // GOPRIVATE's value for them: the name says which one decides.
    let decides = |var: &'static str| match f.go(var) {
        "" => ("GOPRIVATE", globs(f.go("GOPRIVATE"))),
        v if v == f.go("GOPRIVATE") => ("GOPRIVATE", globs(v)),
        v => (var, globs(v)),
    };
    let (proxy_var, noproxy) = decides("GONOPROXY");
    let (sumdb_var, nosumdb) = decides("GONOSUMDB");
    // GONOPROXY=none says a corporate proxy serves the private paths: asking it first is meant.
    let first_proxy = goproxy_entries(f.goproxy())
        .into_iter()
        .next()
        .map(|e| e.value)
        .filter(|v| v != "direct" && v != "off" && f.go("GONOPROXY") != "none");
    // A checksum database of one's own may know private modules; the public ones never do.
    let public_sumdb = sumdb_location(f.gosumdb())
        .map(|(name, _)| name)
        .filter(|name| KNOWN_SUMDBS.contains(&name.as_str()));
    let mut rows = Vec::new();
    for g in &insecure {
        if g.contains("://") || g.contains(' ') {
            rows.push(
                setting("GOINSECURE", Verdict::Fail, format!("pattern {g:?} is a URL or has a space: go matches GOINSECURE against module path prefixes, so it matches nothing"))
                    .with_code(Code::GoinsecureScope)
                    .with_fix("write the module path prefix only, without spaces: GOINSECURE=git.corp.example.com"),
            );
            continue;
        }
        if g == "*" {
            rows.push(
                setting("GOINSECURE", Verdict::Warn, "GOINSECURE=* covers every module: go's lookup for any direct fetch may fall back to plain http and accepts any certificate, so anything in the path can say where the code is".into())
                    .with_code(Code::GoinsecureScope)
                    .with_fix("name only the hosts that need it (GOINSECURE=git.corp.example.com); for go through gomitm, trust gomitm's CA instead (SSL_CERT_FILE, see the CA rows): git checks certificates whatever GOINSECURE says"),
            );
            continue;
        }
        let mut still = Vec::new();
        let mut vars: Vec<&str> = Vec::new();
        if let Some(p) = first_proxy.as_ref().filter(|_| !covers(&noproxy, g)) {
            still.push(format!("go asks GOPROXY ({p}) for it first"));
            vars.push(proxy_var);
        }
        if let Some(name) = public_sumdb.as_ref().filter(|_| !covers(&nosumdb, g)) {
            still.push(format!("go still checks it against the checksum database {name} (a private module then fails 'verifying module: … 404 Not Found' or '410 Gone', and its path is sent there)"));
            if !vars.contains(&sumdb_var) {
                vars.push(sumdb_var);
            }
        }
        if !still.is_empty() {
            rows.push(
                setting("GOINSECURE", Verdict::Warn, format!("GOINSECURE has {g}, which {}: GOINSECURE only changes direct fetches; {}", match vars.as_slice() {
                    [one] => format!("{one} does not cover"),
                    _ => format!("neither {} covers", vars.join(" nor ")),
                }, still.join("; ")))
                    .with_code(Code::GoinsecureScope)
                    .with_fix(&format!("if {g} is private, add it to {} (GOINSECURE turns off neither GOPROXY nor the checksum database)", vars.join(" and "))),
            );
        }
    }
    if rows.is_empty() {
        rows.push(setting(
            "GOINSECURE",
            Verdict::Ok,
            format!("GOINSECURE={raw}: go's lookups for these paths may fall back to plain http and skip certificate checks (git still checks them)"),
        ));
    }
    rows
}

// ---------------------------------------------------------------- GOSUMDB

/// The checksum databases go knows the key of by name alone (cmd/go/internal/modfetch).
const KNOWN_SUMDBS: &[&str] = &["sum.golang.org", "sum.golang.google.cn"];

/// Where the checksum database is: its name and the base URL go talks to; `None` for `off`.
pub fn sumdb_location(gosumdb: &str) -> Option<(String, String)> {
    let mut words = gosumdb.split_whitespace();
    let key = words.next()?;
    if key == "off" {
        return None;
    }
    let name = key.split('+').next().unwrap_or(key).to_string();
    let url = match words.next() {
        Some(u) => u.trim_end_matches('/').to_string(),
        None if name == "sum.golang.google.cn" => "https://sum.golang.google.cn".to_string(),
        None => format!("https://{name}"),
    };
    Some((name, url))
}

/// Why a GOSUMDB key is malformed, or `None` when it is a well-formed `name+hash+key`
/// (note.NewVerifier's rules: an Ed25519 key, and a hash that matches name and key).
pub fn key_problem(key: &str) -> Option<String> {
    // The base64 key may itself hold '+': only the first two separate fields.
    let parts: Vec<&str> = key.splitn(3, '+').collect();
    let [name, hash, b64] = parts.as_slice() else {
        return Some(format!(
            "{key:?} is not name+hash+key (three parts joined by '+')"
        ));
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Some("the name part is empty".into());
    }
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("the hash part {hash:?} is not 8 hex digits"));
    }
    use base64::Engine;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return Some("the key part is not base64".into());
    };
    if raw.len() != 33 || raw.first() != Some(&1) {
        return Some("the key part is not an Ed25519 public key (33 bytes starting with 1)".into());
    }
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&raw);
    let digest = ctx.finish();
    let want: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !hash.eq_ignore_ascii_case(&want) {
        return Some(format!(
            "the hash part {hash} does not match the name and key (it should be {want}): the key was copied wrong"
        ));
    }
    None
}

/// Whether go would accept GOSUMDB (a malformed one is not probed: go refuses it first).
pub fn gosumdb_usable(gosumdb: &str) -> bool {
    gosumdb_rows(gosumdb)
        .iter()
        .all(|r| r.verdict != Verdict::Fail)
}

fn gosumdb_rows(gosumdb: &str) -> Vec<Row> {
    let row = |verdict, detail: String| setting("GOSUMDB", verdict, detail);
    let mut words = gosumdb.split_whitespace();
    let key = words.next().unwrap_or("");
    let url = words.next();
    if key == "off" {
        return vec![row(
            Verdict::Warn,
            "GOSUMDB=off: downloads are not checked against a checksum database, and toolchain downloads fail".into(),
        )
        .with_fix("unset GOSUMDB; keep private paths out with GOPRIVATE or GONOSUMDB")];
    }
    let bad = |detail: String| {
        row(Verdict::Fail, detail)
            .with_code(Code::GosumdbKey)
            .with_fix("GOSUMDB is a known name (sum.golang.org), or name+hash+key [URL] exactly as its operator publishes it, or off")
    };
    if words.next().is_some() {
        return vec![bad(format!(
            "GOSUMDB={gosumdb:?} has more than a key and a URL"
        ))];
    }
    if let Some(u) = url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return vec![bad(format!(
                "the URL {u:?} after the key is not http(s)://"
            ))];
        }
    }
    if !key.contains('+') {
        if KNOWN_SUMDBS.contains(&key) {
            return vec![row(Verdict::Ok, format!("{key} (go knows its key)"))];
        }
        return vec![bad(format!(
            "GOSUMDB={key}: go knows the key of sum.golang.org only; another database needs name+hash+key"
        ))];
    }
    match key_problem(key) {
        Some(why) => vec![bad(format!("GOSUMDB key: {why}"))],
        None => vec![row(
            Verdict::Ok,
            format!(
                "{} with a well-formed key",
                key.split('+').next().unwrap_or("")
            ),
        )],
    }
}

// ---------------------------------------------------------------- HTTPS_PROXY

fn proxy_env_rows(f: &Facts) -> Vec<Row> {
    let first = |names: &[&'static str]| names.iter().find_map(|n| f.env(n).map(|v| (*n, v)));
    let https = first(&["HTTPS_PROXY", "https_proxy"]);
    let no_proxy = first(&["NO_PROXY", "no_proxy"]);
    let Some((name, value)) = https else {
        return vec![setting(
            "HTTPS_PROXY",
            Verdict::Ok,
            "not set: go and git connect directly".into(),
        )];
    };
    let mut detail = format!("{name}={value}: go and git send https through it");
    if let Some((n, v)) = no_proxy {
        detail.push_str(&format!(", except {n}={v}"));
    }
    let mut rows = vec![setting("HTTPS_PROXY", Verdict::Info, detail)];
    if value.starts_with("https://") {
        rows.push(
            setting("HTTPS_PROXY", Verdict::Warn, format!("{name} starts with https://: go then speaks TLS to the proxy itself, which most proxies do not (proxyconnect … connection reset)"))
                .with_fix("write the proxy as http://host:port"),
        );
    }
    rows
}

// ---------------------------------------------------------------- GOAUTH, .netrc

fn goauth_entries(goauth: &str) -> Vec<String> {
    goauth
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

fn goauth_rows(f: &Facts) -> Vec<Row> {
    let goauth = f.go("GOAUTH");
    if !f.go_env.contains_key("GOAUTH") {
        let before = f.version().is_some_and(|v| !v.has_goauth());
        return if before {
            vec![setting(
                "GOAUTH",
                Verdict::Info,
                format!(
                    "{} has no GOAUTH (Go 1.24+): it reads .netrc for every host",
                    f.go("GOVERSION")
                ),
            )]
        } else {
            Vec::new()
        };
    }
    let entries = goauth_entries(goauth);
    let mut rows = Vec::new();
    if entries.is_empty() {
        return vec![setting(
            "GOAUTH",
            Verdict::Info,
            "empty: go reads .netrc (GOAUTH=netrc is the default)".into(),
        )];
    }
    if entries.iter().any(|e| e == "off") && entries.len() > 1 {
        rows.push(
            setting(
                "GOAUTH",
                Verdict::Fail,
                format!(
                    "GOAUTH={goauth:?}: 'off' cannot be combined with other entries (go refuses)"
                ),
            )
            .with_fix("either GOAUTH=off or a ';'-separated list of netrc, git DIR, commands"),
        );
    }
    for e in &entries {
        let row = match e.as_str() {
            "off" => setting(
                "GOAUTH",
                Verdict::Info,
                "off: go sends no credentials at all (.netrc is not read)".into(),
            ),
            "netrc" => setting(
                "GOAUTH",
                Verdict::Ok,
                "netrc: go sends the credentials of .netrc".into(),
            ),
            "git" => setting(
                "GOAUTH",
                Verdict::Fail,
                "'git' needs a directory: GOAUTH='git DIR'".into(),
            )
            .with_fix("GOAUTH='git /path/to/a/checkout' (git credential fill runs there)"),
            e if e.starts_with("git ") => {
                let dir = e[4..].trim();
                match f.paths.get(dir) {
                    Some(PathState::Dir) => setting(
                        "GOAUTH",
                        Verdict::Ok,
                        format!("git {dir}: go asks git's credential helpers"),
                    ),
                    _ => setting(
                        "GOAUTH",
                        Verdict::Fail,
                        format!("git {dir}: that directory does not exist"),
                    )
                    .with_fix("point GOAUTH='git DIR' at an existing directory"),
                }
            }
            other => {
                let program = other.split_whitespace().next().unwrap_or("");
                setting(
                    "GOAUTH",
                    Verdict::Info,
                    format!("runs {program} for credentials (its output is not checked here)"),
                )
            }
        };
        rows.push(row);
    }
    rows
}

/// The hosts (as `host` or `host:port`) of a `.netrc` entry go would use for `authority`.
fn netrc_rows(f: &Facts, hosts: &[String]) -> Vec<Row> {
    let Some(path) = &f.netrc_path else {
        return Vec::new();
    };
    let goauth = f.go("GOAUTH");
    if goauth_entries(goauth).iter().any(|e| e == "off") {
        return vec![setting(
            ".netrc",
            Verdict::Info,
            format!("{path} exists, but GOAUTH=off: go does not read it (git still does)"),
        )];
    }
    let mut rows = vec![setting(
        ".netrc",
        Verdict::Ok,
        format!(
            "{path}: {} entr{}",
            f.netrc.len(),
            if f.netrc.len() == 1 { "y" } else { "ies" }
        ),
    )];
    let keys_on_port = f.version().is_none_or(GoVersion::has_goauth);
    for authority in hosts {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
            _ => (authority.as_str(), None),
        };
        let find = |m: &str| {
            f.netrc.iter().find(|e| {
                e.machine
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
        };
        let exact = find(authority);
        let by_host = find(host);
        // `default` applies to every machine not named, for go and curl alike.
        let entry = exact
            .or(by_host)
            .or_else(|| f.netrc.iter().find(|e| e.machine.is_none()));
        let Some(entry) = entry else { continue };
        let what = match (entry.login, entry.password) {
            (true, true) => "login and password present (not shown)",
            (true, false) => "a login but no password",
            (false, true) => "a password (not shown) but no login",
            (false, false) => "no login and no password",
        };
        let machine = entry.machine.as_deref().unwrap_or("default");
        let mut row = setting(
            ".netrc",
            if entry.password {
                Verdict::Ok
            } else {
                Verdict::Warn
            },
            format!("machine {machine}: {what}"),
        );
        row.source = format!("credentials {authority}");
        if let Some(port) = port {
            if keys_on_port && exact.is_none() {
                row.verdict = Verdict::Warn;
                row.detail.push_str(&format!("; go 1.24+ looks for machine {host}:{port} (the port is not 443), so go does not use this entry (git does)"));
                row.fix = Some(format!(
                    "add a line: machine {host}:{port} login … password …"
                ));
            } else if exact.is_some() && by_host.is_none() {
                row.detail
                    .push_str(&format!("; git looks for machine {host} without the port"));
            }
        }
        rows.push(row);
    }
    rows
}

/// `.netrc` as go and curl read it, keeping only which entries have a login and a password.
/// The secrets are never copied out of `text`.
pub fn parse_netrc(text: &str) -> Vec<NetrcEntry> {
    let mut out: Vec<NetrcEntry> = Vec::new();
    let mut tokens = text.split_whitespace();
    while let Some(t) = tokens.next() {
        match t {
            "machine" => out.push(NetrcEntry {
                machine: tokens.next().map(str::to_ascii_lowercase),
                login: false,
                password: false,
            }),
            "default" => out.push(NetrcEntry {
                machine: None,
                login: false,
                password: false,
            }),
            "login" | "password" | "account" => {
                let has = tokens.next().is_some();
                if let Some(e) = out.last_mut() {
                    match t {
                        "login" => e.login |= has,
                        "password" => e.password |= has,
                        _ => {}
                    }
                }
            }
            // A macro runs to the next blank line; token-wise, nothing after it is an entry
            // until the next `machine` word, which is good enough for "is there an entry".
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------- git

fn git_rows(f: &Facts) -> Vec<Row> {
    let mut rows = Vec::new();
    for p in &f.git.http_proxy {
        rows.push(
            setting("git http.proxy", Verdict::Warn, format!("git config http.proxy={p}: git uses it instead of HTTPS_PROXY, so go's git fetches take another path than go's own requests (and bypass gomitm run)"))
                .with_code(Code::GitHttpProxy)
                .with_fix("git config --global --unset http.proxy, unless that proxy is the one you mean"),
        );
    }
    if f.git.credential_helpers.is_empty() {
        rows.push(setting("git credentials", Verdict::Info, "no credential.helper: git asks nobody (go runs it without a terminal, so a private repository fails with 'terminal prompts disabled' unless .netrc has it)".into()));
    }
    for h in &f.git.credential_helpers {
        // A helper may be a shell snippet that holds a token: show the program name only.
        let shown = if h.trim_start().starts_with('!') {
            "a shell command (not shown)".to_string()
        } else {
            h.split_whitespace().next().unwrap_or("").to_string()
        };
        rows.push(setting(
            "git credentials",
            Verdict::Ok,
            format!("credential.helper {shown}"),
        ));
    }
    if f.git.ssl_verify_off || f.env("GIT_SSL_NO_VERIFY").is_some() {
        rows.push(
            setting(
                "git TLS",
                Verdict::Warn,
                "git does not check certificates (http.sslVerify=false or GIT_SSL_NO_VERIFY)"
                    .into(),
            )
            .with_code(Code::CaTrust)
            .with_fix(
                "git config --global --unset http.sslVerify; trust the CA instead (http.sslCAInfo)",
            ),
        );
    }
    rows
}

// ---------------------------------------------------------------- CA trust

fn describe_path(path: &str, state: Option<&PathState>) -> (Verdict, String) {
    match state {
        Some(PathState::Certs(n)) => (Verdict::Ok, format!("{path} ({n} certificates)")),
        Some(PathState::Dir) => (Verdict::Ok, format!("{path} (a directory)")),
        Some(PathState::NoCerts) => (Verdict::Fail, format!("{path} holds no PEM certificate")),
        Some(PathState::Missing) | None => (Verdict::Fail, format!("{path} does not exist")),
    }
}

fn ca_rows(f: &Facts) -> Vec<Row> {
    let mut rows = Vec::new();
    let os = f.os.unwrap_or(Os::Linux);
    let honours_file = os == Os::Linux || f.version().is_some_and(GoVersion::cert_file_everywhere);
    let fix = "point it at a PEM bundle that holds the system roots plus your own CAs (gomitm ca bundle writes one), or unset it";
    let mut go_row = None;
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        let Some(v) = f.env(var) else { continue };
        if !honours_file {
            rows.push(setting("go CA trust", Verdict::Warn, format!("{var}={v} is set, but go on this OS uses the system certificate store and ignores it (before Go 1.27)")).with_code(Code::CaTrust).with_fix("add the CA to the system keychain / certificate store instead"));
            continue;
        }
        for p in v.split(':').filter(|p| !p.is_empty()) {
            let (verdict, what) = describe_path(p, f.paths.get(p));
            let mut row = setting(
                "go CA trust",
                verdict,
                format!("{var}: {what}; go reads it instead of the system default"),
            );
            if verdict == Verdict::Fail {
                row = row.with_code(Code::CaTrust).with_fix(fix);
            }
            go_row = Some(());
            rows.push(row);
        }
    }
    if go_row.is_none() && os == Os::Linux {
        let found = SYSTEM_BUNDLES
            .iter()
            .find(|p| matches!(f.paths.get(**p), Some(PathState::Certs(_))));
        rows.push(match found {
            Some(p) => {
                let (_, what) = describe_path(p, f.paths.get(*p));
                setting("go CA trust", Verdict::Ok, format!("system bundle {what}"))
            }
            None => setting(
                "go CA trust",
                Verdict::Fail,
                "no system CA bundle in the usual places: go trusts no server".into(),
            )
            .with_code(Code::CaTrust)
            .with_fix("install the ca-certificates package, or set SSL_CERT_FILE"),
        });
    } else if go_row.is_none() {
        rows.push(setting(
            "go CA trust",
            Verdict::Ok,
            "the system certificate store".into(),
        ));
    }
    let git_file = f
        .env("GIT_SSL_CAINFO")
        .map(|v| ("GIT_SSL_CAINFO", v.to_string()))
        .or_else(|| f.git.ssl_ca_info.clone().map(|v| ("http.sslCAInfo", v)));
    rows.push(match git_file {
        Some((name, p)) => {
            let (verdict, what) = describe_path(&p, f.paths.get(&p));
            let row = setting("git CA trust", verdict, format!("{name}: {what}"));
            if verdict == Verdict::Fail {
                row.with_code(Code::CaTrust).with_fix(fix)
            } else {
                row
            }
        }
        None => setting(
            "git CA trust",
            Verdict::Ok,
            "git's default bundle (no GIT_SSL_CAINFO, no http.sslCAInfo)".into(),
        ),
    });
    rows
}

#[cfg(test)]
#[path = "doctor_settings_tests.rs"]
mod tests;
