//! Sending recorded requests again: the TUI's `r` (as recorded) and `E` (edited in
//! `$EDITOR`), and `gomitm replay FILE.har`. `request` turns a flow into the request to send
//! and reads the edited text back (pure); `client` sends it through a gomitm listener so that
//! it is recorded like any other traffic, labelled `replay_of`; `compare` sets the replay's
//! answer beside the recording's (pure).

pub mod client;
pub mod compare;
pub mod request;

pub use client::{send, Endpoint, Outcome};

/// How long the TUI's `r`/`E` wait for a replay's whole answer.
pub const TUI_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
pub use request::ReplayRequest;

/// Why a replay was not sent, or got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot replay this flow: {0}")]
    NotReplayable(String),
    #[error("the edited request has a problem on line {line}: {what}")]
    BadEdit { line: usize, what: String },
    #[error("the edited request is empty: nothing sent")]
    Cancelled,
    #[error("{0}")]
    Send(String),
}
