//! What the TUI is started with ([`Config`]): where the flows come from ([`Source`], which
//! decides the header and what is allowed), the redaction of exported HARs, and what the Go
//! tab's diagnosis needs to know (private patterns, trust bundle, go release). Set once by
//! `app` or `run`; read by `state`, `detail`, `view` and `panes`.

use crate::filter::Filter;
use std::path::PathBuf;

use crate::go::goversion::GoVersion;
use crate::go::private::PrivatePatterns;
use crate::har::HarOptions;

/// Where the flows come from; decides the header and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `gomitm` / `gomitm proxy`.
    Live { addr: String },
    /// `gomitm run --tui -- CMD`.
    Run { addr: String, command: String },
    /// `gomitm open FILE.har`: read-only.
    File { path: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub source: Source,
    /// `--har-out`: the flows are written at exit anyway, so quitting does not ask.
    pub har_out: Option<PathBuf>,
    /// Redact secrets in exported HARs (off with `--no-redact`).
    pub redact: bool,
    /// `--redact-header`: more header names to redact.
    pub redact_headers: Vec<String>,
    pub private: PrivatePatterns,
    /// Trust bundle the CA-trust fix names.
    pub bundle: Option<PathBuf>,
    /// Local time offset for the time column, seconds east of UTC.
    pub utc_offset_s: i64,
    /// The view's filter at start (`--filter`, parsed with the command line).
    pub filter: Option<Filter>,
    /// The go release of `gomitm run`'s command, for fixes that depend on it.
    pub go_version: Option<GoVersion>,
}

impl Config {
    /// The same redaction as `--har-out`.
    pub fn har_options(&self) -> HarOptions {
        HarOptions {
            redact: self.redact,
            extra_redact_headers: self.redact_headers.clone(),
            ..HarOptions::default()
        }
    }

    pub fn read_only(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }
}
