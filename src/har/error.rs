//! What can go wrong reading or writing a HAR.

#[derive(Debug, thiserror::Error)]
pub enum HarError {
    #[error("not a valid har file")]
    Parse(#[source] serde_json::Error),
    #[error("cannot serialize har")]
    Serialize(#[source] serde_json::Error),
    #[error("har entry {entry} ({url}): {part} is marked base64 but does not decode")]
    Base64 {
        entry: usize,
        url: String,
        part: &'static str,
        #[source]
        source: base64::DecodeError,
    },
}
