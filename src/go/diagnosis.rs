//! What a diagnosis is, shared by everything in `go` that diagnoses or reports: a
//! [`Diagnosis`] (stable code, severity, cause, fix), a failing flow's diagnosis in a run
//! ([`FailureReport`]), what diagnosing a flow needs to know ([`DiagnoseContext`], [`Os`]),
//! and how causes name what failed (`subject`, `status_text`).
//!
//! Types and wording only; which diagnosis a flow gets is decided in `diagnose` (HTTP
//! answers), `network` (failures below HTTP), `content` and `qualifiers`, and across a run in
//! `analysis`.

use super::codes::Code;
use super::goversion::GoVersion;
use super::private::PrivatePatterns;
use crate::flow::{Flow, GoRequest, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnosis {
    pub code: Code,
    pub severity: Severity,
    /// One plain sentence naming what failed (host, module@version where known).
    pub cause: String,
    /// The setting or action that fixes it.
    pub fix: String,
}

impl Diagnosis {
    pub(super) fn new(code: Code, severity: Severity, cause: String, fix: String) -> Self {
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
    /// The trust bundle (system roots + gomitm CA) the CA-trust fix names; `None` when
    /// unknown (a HAR read back by `gomitm report`).
    pub bundle: Option<&'a std::path::Path>,
    /// The go release in use (`gomitm run`); `None` when unknown, and the fix then names
    /// what differs between releases.
    pub go: Option<GoVersion>,
    /// The command's GOPROXY (`gomitm run`); `None` when unknown, and a fix then says what
    /// each separator would do instead of what this list did.
    pub goproxy: Option<&'a str>,
    /// The command's GOAUTH (empty: unset, go's default `netrc`); `None` when unknown. Go
    /// 1.23 and older ignore it.
    pub goauth: Option<&'a str>,
}

/// One failing flow's diagnosis in a run's summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureReport {
    pub flow_id: u64,
    pub url: String,
    pub diagnosis: Diagnosis,
    /// Further flows with the same URL and diagnosis (Go 1.24+ sends every 4xx twice).
    pub repeats: usize,
}

/// What a diagnosis names: `module@version`, the module, else the repository or the URL.
pub(super) fn subject(flow: &Flow, go: &GoRequest) -> String {
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
