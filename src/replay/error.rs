//! Why a replay was not sent, or got no answer: one error for the TUI and `gomitm replay`.

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
