//! How flows become a HAR: redaction on or off, extra secret headers, the creator version.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarOptions {
    /// Replace credentials (secret headers, cookies, URL userinfo) with [`REDACTED`].
    pub redact: bool,
    /// More header names to treat as secret, case-insensitive (for example `X-Api-Key`).
    pub extra_redact_headers: Vec<String>,
    pub creator_version: String,
}

impl Default for HarOptions {
    fn default() -> Self {
        HarOptions {
            redact: true,
            extra_redact_headers: Vec::new(),
            creator_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}
