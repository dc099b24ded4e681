//! One row of `gomitm doctor`'s table, shared by the probe rows (`doctor`) and the settings
//! rows (`doctor_settings`): what was checked, its timings, status and TLS issuer, the proxy in
//! the path, and the verdict with its diagnosis code and fix. Data only.

use serde::Serialize;

use super::codes::Code;

/// How a row came out; only `Fail` changes the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Info,
    Skipped,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Info => "info",
            Verdict::Skipped => "skipped",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        }
    }
}

/// What kind of CA the upstream's chain ends at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    /// One of Mozilla's public roots: what the public module proxy and checksum database use.
    Public,
    /// A CA the user handed gomitm with `--extra-root` (a private proxy's own CA, the fixture).
    ExtraRoot,
    /// A CA this machine trusts that is not public and was not named: a TLS-inspection proxy.
    TlsInspection,
}

/// Upstream timings of a probe, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    /// From the request sent to the first byte of the answer.
    pub first_byte_ms: Option<f64>,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `GOPROXY[1] https://proxy.golang.org`, `GOSUMDB sum.golang.org`, `settings`…
    pub source: String,
    /// `@v/list`, `/latest`, `GOPROXY`, `.netrc`…
    pub check: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The error class (`dns`, `connect_refused`, `upstream_untrusted`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_kind: Option<IssuerKind>,
    /// The proxy the request went through (`direct` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Row {
    pub fn setting(check: &str, verdict: Verdict, detail: String) -> Row {
        Row {
            source: "settings".into(),
            check: check.into(),
            url: None,
            flow_id: None,
            timings: None,
            status: None,
            error: None,
            issuer: None,
            issuer_kind: None,
            via: None,
            verdict,
            code: None,
            detail,
            fix: None,
        }
    }

    pub fn with_code(mut self, code: Code) -> Row {
        self.code = Some(code);
        self
    }

    pub fn with_fix(mut self, fix: &str) -> Row {
        self.fix = Some(fix.to_string());
        self
    }
}
