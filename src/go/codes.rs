//! The closed set of diagnosis codes: each with its stable name (tests, filters, HAR, the
//! summary), the evidence it rests on, and its anchor in docs/GO-TROUBLESHOOTING.md.
//!
//! Data only. Which code a flow or a run gets is decided in `diagnose`, `network`, `content`,
//! `integrity_check`, `policy` and `verdict`; the words of each cause and fix are written there,
//! where the facts (host, module, status) are at hand.

use serde::{Serialize, Serializer};

/// Declares the enum and its table in one place, so a new code cannot miss its name, its
/// evidence or its docs anchor.
macro_rules! codes {
    ($( $variant:ident => $name:literal, $anchor:literal, $evidence:literal; )*) => {
        /// A diagnosis code. `as_str` is the stable name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The section of docs/GO-TROUBLESHOOTING.md that explains it.
            pub fn anchor(self) -> &'static str {
                match self { $( Code::$variant => $anchor, )* }
            }

            /// What gomitm must have seen to give this code.
            pub fn evidence(self) -> &'static str {
                match self { $( Code::$variant => $evidence, )* }
            }
        }
    };
}

codes! {
    // ---- the module proxy answered with a status
    ModuleNotFound => "module_not_found", "module-or-version-missing",
        "a module proxy answered 404 or 410";
    ToolchainNotFound => "toolchain_not_found", "toolchain-downloads",
        "a module proxy answered 404 or 410 for golang.org/toolchain";
    ToolchainWithoutPatch => "toolchain_without_patch", "toolchain-downloads",
        "a toolchain download 404 for a release named without a patch version (go1.N, go1.N.rcK is fine)";
    ProxyAuth => "proxy_auth", "the-module-proxy-wants-credentials",
        "a module proxy answered 401 or 403 (WWW-Authenticate tells the scheme)";
    RateLimited => "rate_limited", "rate-limited",
        "429, or 503 with Retry-After, or a redirect to a rate-limit (\"sorry\") page";
    ProxyServerError => "proxy_server_error", "goproxy-lists--and-",
        "a module proxy answered 5xx";
    ProxyHttpError => "proxy_http_error", "goproxy-lists--and-",
        "a module proxy answered another 4xx";
    PrivateLeak => "private_leak", "a-private-module-sent-to-a-public-proxy-or-checksum-database",
        "a private path (GOPRIVATE/GONOPROXY/GONOSUMDB or --private) in a module proxy or checksum database request";
    // ---- what a 2xx answer contained
    HtmlInsteadOfData => "html_instead_of_data", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx answer whose body is an HTML page where the protocol needs JSON, a go.mod, a zip, a version list or a checksum record";
    InvalidInfo => "invalid_info", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .info answer that is not a JSON object with a Version";
    InfoVersionMismatch => "info_version_mismatch", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .info answer whose Version differs from the canonical version asked for";
    InvalidMod => "invalid_mod", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .mod answer that is not a go.mod file";
    ModPathMismatch => "mod_path_mismatch", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .mod answer whose module line names another path";
    InvalidZip => "invalid_zip", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .zip answer that is not a zip archive";
    ZipWrongModule => "zip_wrong_module", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx .zip answer with files outside module@version/";
    InvalidVersionList => "invalid_version_list", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx @v/list answer with lines that are not versions";
    InvalidSumdbAnswer => "invalid_sumdb_answer", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx checksum database answer that is not a signed record, or a tile of the wrong size";
    GitNotGit => "git_not_git", "an-answer-that-is-not-what-go-asked-for",
        "a 2xx git smart HTTP answer without the git content type";
    // ---- redirects
    InsecureRedirect => "insecure_redirect", "redirects",
        "a 3xx from an https URL to an http:// Location (go refuses it)";
    RedirectLoop => "redirect_loop", "redirects",
        "more than 10 redirects in a row for one request (go stops after 10)";
    // ---- integrity
    ChecksumMismatchSumdb => "checksum_mismatch_sumdb", "checksum-mismatch",
        "the h1: hash of a zip or go.mod gomitm saw differs from the checksum database record in the same capture";
    ChecksumMismatchGoSum => "checksum_mismatch_go_sum", "checksum-mismatch",
        "the h1: hash of a zip or go.mod gomitm saw differs from go.sum";
    // ---- the checksum database
    SumdbPrivateLeak => "sumdb_private_leak", "a-private-module-sent-to-a-public-proxy-or-checksum-database",
        "a private path looked up in a checksum database that answered 404 or 410";
    SumdbNotFound => "sumdb_not_found", "the-checksum-database-through-a-proxy",
        "a checksum database lookup answered 404 or 410";
    SumdbNotProxied => "sumdb_not_proxied", "the-checksum-database-through-a-proxy",
        "a module proxy answered 404 or 410 to /sumdb/NAME/supported";
    SumdbUnavailable => "sumdb_unavailable", "the-checksum-database-through-a-proxy",
        "a checksum database request failed with another status";
    // ---- ?go-get=1 discovery
    DiscoveryNoMeta => "discovery_no_meta", "import-path-lookup-fails",
        "a 2xx ?go-get=1 answer without a go-import tag";
    DiscoveryAuth => "discovery_auth", "import-path-lookup-fails",
        "a ?go-get=1 request answered 401 or 403 without a go-import tag";
    DiscoveryNotFound => "discovery_not_found", "import-path-lookup-fails",
        "a ?go-get=1 request answered 404 or 410 without a go-import tag";
    DiscoveryError => "discovery_error", "import-path-lookup-fails",
        "a ?go-get=1 request failed with another status and no go-import tag";
    GoImportSubdir => "go_import_subdir", "import-path-lookup-fails",
        "a go-import tag with a 4th (subdirectory) field, read by a go older than 1.25";
    VcsUnsupported => "vcs_unsupported", "import-path-lookup-fails",
        "a go-import tag naming a VCS the go in use does not support (bzr from Go 1.27, or an unknown one)";
    // ---- git smart HTTP
    GitAuth => "git_auth", "git-needs-credentials",
        "a git smart HTTP request answered 401 or 403";
    GitNotFound => "git_not_found", "git-needs-credentials",
        "a git smart HTTP request answered 404 or 410";
    GitServerError => "git_server_error", "git-needs-credentials",
        "a git smart HTTP request failed with another status";
    // ---- below HTTP
    Dns => "dns", "the-host-does-not-resolve", "the upstream name did not resolve";
    ConnectRefused => "connect_refused", "nothing-accepts-the-connection",
        "the upstream refused the TCP connection";
    ConnectTimeout => "connect_timeout", "nothing-accepts-the-connection",
        "the TCP connection to the upstream timed out";
    UpstreamUntrusted => "upstream_untrusted", "gomitm-does-not-trust-the-server",
        "gomitm could not verify the upstream certificate";
    UpstreamTls => "upstream_tls", "gomitm-does-not-trust-the-server",
        "the upstream TLS handshake failed for another reason";
    TlsInspection => "tls_inspection", "tls-inspection",
        "the upstream certificate chain ends at a locally installed CA, not a public root";
    ClientUntrustedCa => "client_untrusted_ca", "go-does-not-trust-the-gomitm-ca",
        "the client aborted the TLS handshake with gomitm's certificate";
    Truncated => "truncated", "the-server-cut-the-connection",
        "a 2xx answer whose body broke off";
    UpstreamReset => "upstream_reset", "the-server-cut-the-connection",
        "the upstream closed the connection before answering";
    UpstreamTimeout => "upstream_timeout", "the-server-stalls",
        "no answer (or no body data) within --upstream-timeout";
    UpstreamProxy => "upstream_proxy", "the-corporate-proxy-refused",
        "the upstream proxy refused or failed the CONNECT";
    ClientAbort => "client_abort", "the-client-went-away",
        "the client went away before the exchange finished";
    Protocol => "protocol", "protocol-errors", "a request or answer that broke HTTP";
    Refused => "refused", "gomitm-refused-the-request",
        "gomitm refused the request itself (loop, limit, credentials, rule)";
    Internal => "internal", "gomitm-failed-itself",
        "gomitm itself failed (a panic, a rule whose answer could not be built)";
    Interrupted => "interrupted", "gomitm-was-stopped",
        "gomitm was stopped while the flow was in flight";
    // ---- settings (under `gomitm run`, from go env and go's own message)
    GoproxyOff => "goproxy_off", "settings-that-stop-a-download",
        "GOPROXY=off, and go said 'module lookup disabled by GOPROXY=off'";
    GoproxyNoEntries => "goproxy_no_entries", "settings-that-stop-a-download",
        "a GOPROXY list without entries, and go said so";
    ModVendor => "mod_vendor", "settings-that-stop-a-download",
        "-mod=vendor (GOFLAGS or the vendor directory), and go said 'disabled by -mod=vendor' or that vendor is inconsistent";
    PrivateGoesDirect => "private_goes_direct", "settings-that-stop-a-download",
        "go's failure names a module that GOPRIVATE/GONOPROXY sends direct (discovery and VCS), whatever GOPROXY says";
    GoVersionTooNew => "go_version_too_new", "toolchain-downloads",
        "go.mod needs a newer go than the one running, with GOTOOLCHAIN=local or path";
    MissingGoSumEntry => "missing_go_sum_entry", "settings-that-stop-a-download",
        "go said 'missing go.sum entry' (-mod=readonly)";
    GovcsDisallowed => "govcs_disallowed", "settings-that-stop-a-download",
        "go said 'GOVCS disallows using …'";
    SumdbOffToolchain => "sumdb_off_toolchain", "toolchain-downloads",
        "GOSUMDB=off while go had to download a toolchain";
    InsecureFlag => "insecure_flag", "settings-that-stop-a-download",
        "GOFLAGS or the command line has -insecure, which go no longer supports";
    // ---- the run as a whole
    NoRequest => "no_request", "go-is-not-using-gomitm",
        "the command failed and gomitm saw no request at all";
    Unexplained => "unexplained", "when-no-request-explains-the-failure",
        "the command failed, and neither a request nor a setting explains go's message";
    // ---- gomitm doctor's settings checks (no request needed)
    GoproxySyntax => "goproxy_syntax", "gomitm-doctor",
        "a GOPROXY entry go cannot use or that hides the entries after it (no scheme, empty entry, direct not last, plain http)";
    PrivateIncoherent => "private_incoherent", "gomitm-doctor",
        "GOPRIVATE/GONOPROXY/GONOSUMDB that disagree (a private pattern GONOSUMDB does not cover), a URL as a pattern, or a variable go does not read (GONOSUMCHECK)";
    GoinsecureScope => "goinsecure_scope", "gomitm-doctor",
        "GOINSECURE naming every module, a URL or space in a pattern, or paths that GONOPROXY/GONOSUMDB (GOPRIVATE) do not cover: go applies it only to direct fetches, asks GOPROXY first and checks the checksum database";
    GosumdbKey => "gosumdb_key", "gomitm-doctor",
        "GOSUMDB that is not a known name, name+hash+key [URL] with a matching hash, or off";
    GitHttpProxy => "git_http_proxy", "gomitm-doctor",
        "git config http.proxy, which git uses instead of HTTPS_PROXY";
    CaTrust => "ca_trust", "gomitm-doctor",
        "SSL_CERT_FILE, SSL_CERT_DIR, GIT_SSL_CAINFO or http.sslCAInfo naming a missing file or one without certificates, or git's checks turned off";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Code {
    /// The code with this name.
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// `docs/GO-TROUBLESHOOTING.md#anchor`, for "see …" lines.
    pub fn doc_link(self) -> String {
        format!("docs/GO-TROUBLESHOOTING.md#{}", self.anchor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
            assert_eq!(Code::parse(c.as_str()), Some(c));
            assert!(!c.evidence().is_empty() && !c.anchor().is_empty(), "{c}");
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{c}\""));
        }
    }

    #[test]
    fn every_code_has_a_row_and_its_section_in_the_troubleshooting_guide() {
        let doc = include_str!("../../docs/GO-TROUBLESHOOTING.md");
        for &c in Code::ALL {
            assert!(
                doc.contains(&format!("`{}`", c.as_str())),
                "docs/GO-TROUBLESHOOTING.md has no row for {c}"
            );
            // GitHub's anchors: lower-case heading, spaces to '-', punctuation dropped.
            let has_heading = doc.lines().filter(|l| l.starts_with('#')).any(|l| {
                let slug: String = l
                    .trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter_map(|ch| match ch {
                        ' ' => Some('-'),
                        c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                        _ => None,
                    })
                    .collect();
                slug == c.anchor()
            });
            assert!(has_heading, "no section #{} for {c}", c.anchor());
        }
    }
}
