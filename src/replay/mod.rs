//! Sending recorded requests again: the TUI's `r` (as recorded) and `E` (edited in
//! `$EDITOR`), and `gomitm replay FILE.har`. `request` turns a flow into the request to send
//! and reads the edited text back (pure); `client` sends it through a gomitm listener so that
//! it is recorded like any other traffic, labelled `replay_of`; `compare` sets the replay's
//! answer beside the recording's (pure); `error` why a replay was not sent.

pub mod client;
pub mod compare;
pub mod error;
pub mod request;

pub use client::{send, Endpoint, Outcome};
pub use error::ReplayError;
pub use request::ReplayRequest;

/// How long the TUI's `r`/`E` wait for a replay's whole answer.
pub const TUI_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
