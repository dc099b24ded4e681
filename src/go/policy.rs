//! Local policy: the settings (the command's whole `go env`, `NO_PROXY`, the git configuration
//! that affects go) that make a download fail or bypass gomitm, before or instead of a
//! request. Pre-flight warnings, and the explanation of a go message that a setting explains.
//!
//! Pure: `run` gathers the values; this file only reads them. Must not look at flows.

use std::collections::HashMap;

use super::codes::Code;
use super::diagnosis::{Diagnosis, Severity};
use super::evidence::{GoError, GoMessage};
use super::private::PrivatePatterns;

/// What the child will see, gathered before it starts.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    /// `go env -json` of the child: every variable go reports.
    pub go_env: HashMap<String, String>,
    /// `git config --get http.proxy`.
    pub git_http_proxy: Option<String>,
    /// `url.<base>.insteadOf` rules that turn an https URL into ssh (which bypasses gomitm).
    pub git_ssh_rewrites: Vec<String>,
    /// `http.sslVerify=false` in git's configuration.
    pub git_ssl_verify_off: bool,
    /// The main module has `vendor/modules.txt`: go 1.14+ builds from it unless `-mod=mod`.
    pub vendor_dir: bool,
}

impl Settings {
    pub fn get(&self, k: &str) -> &str {
        self.go_env.get(k).map_or("", String::as_str)
    }

    fn goproxy(&self) -> &str {
        let v = self.get("GOPROXY");
        if v.is_empty() {
            "https://proxy.golang.org,direct"
        } else {
            v
        }
    }

    fn goflags_has(&self, flag: &str) -> bool {
        self.get("GOFLAGS")
            .split_whitespace()
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    }

    fn private(&self) -> PrivatePatterns {
        PrivatePatterns::from_go_env(
            self.get("GOPRIVATE"),
            self.get("GONOPROXY"),
            self.get("GONOSUMDB"),
        )
    }
}

/// Settings that will make a download fail or bypass interception, in words a user can act on.
pub fn preflight_warnings(s: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    let goproxy = s.goproxy();
    if goproxy.trim() == "off" {
        out.push("GOPROXY=off: the go command will not download any module (module lookup disabled by GOPROXY=off)".to_string());
    } else if goproxy.split([',', '|']).all(|e| e.trim().is_empty()) {
        out.push(format!(
            "GOPROXY={goproxy:?} has no entries: go will refuse to download"
        ));
    }
    if s.goflags_has("-mod=vendor") {
        out.push("GOFLAGS has -mod=vendor: go reads modules from vendor/ and downloads nothing (module lookup disabled by -mod=vendor)".into());
    }
    for host in goproxy_hosts(goproxy) {
        if is_loopback_host(&host) {
            out.push(format!(
                "GOPROXY names {host}: the go command never sends localhost/loopback requests \
                 through a proxy, so gomitm will not see them; use a host name and gomitm --resolve"
            ));
        }
    }
    if goproxy
        .split([',', '|'])
        .any(|e| e.trim().starts_with("file:"))
    {
        out.push(
            "GOPROXY has a file:// entry: go reads it from disk, gomitm sees none of it".into(),
        );
    }
    if s.goflags_has("-insecure") {
        out.push(
            "GOFLAGS has -insecure, which go no longer supports (go mod download ignores it, go get refuses): use GOINSECURE=<pattern>"
                .to_string(),
        );
    }
    if s.get("GOSUMDB").trim() == "off" {
        out.push("GOSUMDB=off: downloads are not checked against the checksum database, and a Go toolchain download fails (toolchains always need it)".into());
    }
    if let Some(proxy) = &s.git_http_proxy {
        out.push(format!(
            "git config http.proxy={proxy} overrides HTTPS_PROXY for git, so git traffic will not \
             go through gomitm (git config --global --unset http.proxy)"
        ));
    }
    for rule in &s.git_ssh_rewrites {
        out.push(format!(
            "git config {rule} sends those https URLs over ssh: gomitm cannot see ssh, so direct fetches of matching modules bypass it"
        ));
    }
    if s.git_ssl_verify_off {
        out.push("git config http.sslVerify=false: git does not check certificates at all (gomitm's or the server's)".into());
    }
    out
}

/// Why `command` (as the summary shows it: `go mod download …`) most likely sent no request
/// through gomitm, from the settings that make go skip the network or bypass the proxy, else
/// from how it exited. (`gomitm run` removes NO_PROXY and no_proxy from the command's
/// environment, so they are never the reason there.)
pub fn no_request_reason(s: &Settings, command: &str, exit_code: i32) -> String {
    let program = command.split_whitespace().next().unwrap_or("");
    if program != "go" {
        return format!(
            "{program} made no HTTP(S) request, or does not read HTTPS_PROXY/https_proxy \
             (gomitm sets both spellings and HTTP_PROXY/http_proxy)"
        );
    }
    let goproxy = s.goproxy();
    if goproxy.trim() == "off" {
        return "GOPROXY=off: go downloads nothing (it uses the module cache or fails)".into();
    }
    if s.goflags_has("-mod=vendor") {
        return "GOFLAGS has -mod=vendor: go reads modules from vendor/ and downloads nothing"
            .into();
    }
    if s.vendor_dir && !s.goflags_has("-mod=mod") {
        return "the main module has vendor/modules.txt: go builds from vendor/ and downloads \
             nothing (GOFLAGS=-mod=mod to use the module cache and the network)"
            .into();
    }
    let first = goproxy
        .split([',', '|'])
        .map(str::trim)
        .next()
        .unwrap_or("");
    if let Some(host) = goproxy_hosts(first).first().filter(|h| is_loopback_host(h)) {
        return format!(
            "GOPROXY names {host}: go never sends loopback requests through a proxy; use a \
             host name and gomitm --resolve"
        );
    }
    if first.starts_with("file:") {
        return "GOPROXY starts with a file:// entry: go reads it from disk".into();
    }
    if exit_code == 0 {
        let cache = s.get("GOMODCACHE");
        let cache = if cache.is_empty() {
            String::new()
        } else {
            format!(" ({cache})")
        };
        return format!(
            "everything it needed was already in the module cache{cache}, or it needed no \
             module; to watch the downloads, run it with an empty cache: \
             GOMODCACHE=$(mktemp -d) GOFLAGS=-modcacherw gomitm run -- {command}"
        );
    }
    "go failed before any download (its error is above)".into()
}

/// A go message that a setting explains, naming the setting.
pub fn explain(err: &GoError, s: &Settings) -> Option<Diagnosis> {
    use GoMessage as M;
    let module = err.module.as_deref().unwrap_or("the module");
    let d =
        |code, cause: String, fix: String| Some(Diagnosis::new(code, Severity::Error, cause, fix));
    match err.kind {
        M::GoproxyOff => d(
            Code::GoproxyOff,
            format!("GOPROXY={} forbids every module download, so go could not fetch {module}", s.goproxy()),
            "set GOPROXY to a module proxy (the default is https://proxy.golang.org,direct), or fill the module cache beforehand".into(),
        ),
        M::GoproxyNoEntries => d(
            Code::GoproxyNoEntries,
            format!("GOPROXY={:?} lists no proxy", s.get("GOPROXY")),
            "set GOPROXY to a comma-separated list of URLs, e.g. https://proxy.golang.org,direct".into(),
        ),
        M::ModVendor => d(
            Code::ModVendor,
            format!("go builds from the vendor directory (GOFLAGS={:?}, or vendor/modules.txt exists), which does not match go.mod", s.get("GOFLAGS")),
            "run go mod vendor to bring vendor/ up to date, or use -mod=mod (GOFLAGS=-mod=mod) to download instead".into(),
        ),
        M::GovcsDisallows => d(
            Code::GovcsDisallowed,
            format!("GOVCS={:?} does not allow the version control system go needs for {module}", s.get("GOVCS")),
            "allow it (GOVCS=public:git|hg,private:all is the default), or get the module through a module proxy (GOPROXY) instead of direct".into(),
        ),
        M::SumdbOff => d(
            Code::SumdbOffToolchain,
            "GOSUMDB=off, but a Go toolchain download is always checked against the checksum database".into(),
            "unset GOSUMDB (or set it to sum.golang.org), or use the installed Go with GOTOOLCHAIN=local".into(),
        ),
        M::MissingGoSum => d(
            Code::MissingGoSumEntry,
            format!("go.sum has no line for {module}, and go does not add lines on its own here (-mod=readonly, GOFLAGS={:?})", s.get("GOFLAGS")),
            "run go mod tidy (or go mod download and go get the module) to record its checksums".into(),
        ),
        M::InsecureFlag => d(
            Code::InsecureFlag,
            format!("the -insecure flag (GOFLAGS={:?} or the command line) was removed in Go 1.17", s.get("GOFLAGS")),
            "drop -insecure; GOINSECURE=<pattern> lets go fetch matching modules over plain http or with unchecked certificates".into(),
        ),
        M::GoTooOld => d(
            Code::GoVersionTooNew,
            format!("go.mod needs a newer go than {} and GOTOOLCHAIN={} forbids switching", s.get("GOVERSION"), s.get("GOTOOLCHAIN")),
            "install a newer Go, or let go download it: GOTOOLCHAIN=auto (the default)".into(),
        ),
        M::LanguageNotToolchain => d(
            Code::ToolchainWithoutPatch,
            "go.mod's toolchain line names a language version (go1.N) rather than a release (go1.N.P)".into(),
            "write the release in full, e.g. 'toolchain go1.22.0' (golang/go#66175)".into(),
        ),
        _ => private_direct(err, s),
    }
}

/// A failure for a module that GOPRIVATE/GONOPROXY sends direct: go never asked GOPROXY.
fn private_direct(err: &GoError, s: &Settings) -> Option<Diagnosis> {
    let module = err.module.as_deref()?;
    let private = s.private();
    let glob = private.proxy_glob(module)?.to_string();
    let which = if s.get("GONOPROXY").is_empty() {
        "GOPRIVATE"
    } else {
        "GONOPROXY"
    };
    Some(Diagnosis::new(
        Code::PrivateGoesDirect,
        Severity::Error,
        format!("{which} matches {module} ({glob}), so go fetched it directly from its version control host (?go-get=1, then git), not through GOPROXY={}, and that failed", s.goproxy()),
        format!("make the direct path work (DNS, credentials for the VCS host, GIT_SSL_CAINFO), or let a module proxy that has it serve it: GONOPROXY=none with GOPRIVATE={glob} keeps it out of the checksum database only"),
    ))
}

/// What go's words mean when no request and no setting explains them.
pub fn meaning(kind: GoMessage) -> &'static str {
    use GoMessage as M;
    match kind {
        M::Status(_) => "a server answered with an error status, but gomitm did not record that request: it did not go through gomitm (NO_PROXY, a loopback URL) or came before gomitm started",
        M::InvalidResponse | M::InfoVersion | M::NotAZip | M::ZipUnexpectedFile | M::ModulePath => "an answer was not what the module proxy protocol requires; gomitm saw no such answer, so it came from somewhere gomitm does not see (the module cache, a file:// GOPROXY, a request that bypassed gomitm)",
        M::MismatchGoSum => "the bytes go has (downloaded now or in its module cache) do not match go.sum: a security error; gomitm saw no download that explains it, so the module cache or go.sum itself differs (compare with a teammate's go.sum; never edit go.sum or turn off verification to silence it)",
        M::MismatchSumdb => "the bytes go has do not match the checksum database: a security error; find which source served them before anything else",
        M::BadSumdbAnswer => "the checksum database (or what answered in its place) sent something go could not verify",
        M::Dns | M::ConnectionRefused | M::Timeout | M::Tls | M::CutShort => "a network failure that gomitm did not see: the request did not go through gomitm (NO_PROXY, a loopback URL, git over ssh)",
        M::ProxyConnect => "go could not reach the proxy it was told to use (HTTPS_PROXY)",
        M::InsecureRedirect | M::TooManyRedirects => "a redirect go refuses; gomitm did not see it",
        M::ToolchainNotAvailable => "the Go toolchain go.mod asks for does not exist on the module proxy",
        M::LanguageNotToolchain | M::GoTooOld => "go.mod asks for a different Go than the one running",
        M::GoproxyOff | M::GoproxyNoEntries | M::ModVendor | M::GovcsDisallows | M::SumdbOff | M::MissingGoSum | M::InsecureFlag => "a setting stopped go before any request",
        M::NoGoImport | M::UnknownVcs => "the import path's ?go-get=1 page did not lead to a usable repository",
        M::Git => "git failed on its own (credentials, the repository, or traffic gomitm did not see such as ssh)",
        M::NoMatchingVersions => "no source listed a version that matches the query",
        M::Other => "",
    }
}

/// Hosts of the URL entries of a GOPROXY list (`direct` and `off` name none).
pub fn goproxy_hosts(goproxy: &str) -> Vec<String> {
    goproxy
        .split([',', '|'])
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "direct" && *e != "off" && !e.starts_with("file:"))
        .map(|e| crate::flow::url_host(e).to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// GOSUMDB is `name`, `name+key` or `name+key URL`; `off` means none.
pub fn sumdb_host(gosumdb: &str) -> String {
    let gosumdb = gosumdb.trim();
    if gosumdb == "off" {
        return String::new();
    }
    match gosumdb.split_whitespace().nth(1) {
        Some(url) => crate::flow::url_host(url).to_ascii_lowercase(),
        None if gosumdb.is_empty() => "sum.golang.org".to_string(),
        None => gosumdb.split('+').next().unwrap_or("").to_ascii_lowercase(),
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
