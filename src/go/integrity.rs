//! Integrity hashes: the `h1:` hashes the go command writes into go.sum, computed from the
//! bytes gomitm sees — a go.mod file, or a module zip while it streams past.
//!
//! Mirrors golang.org/x/mod/sumdb/dirhash (`Hash1`, `HashZip`): one line
//! `"{sha256 hex}  {name}\n"` per file, sorted by name, and `h1:` + base64 of their SHA-256.
//! Pure: no I/O, no clock, nothing about the proxy. The zip is parsed incrementally from its
//! local headers (memory: the names and digests, plus fixed buffers); the central directory is
//! then checked against what was hashed, because go reads names and checksums from there.
//! Whatever this cannot follow exactly is "not verified" with a reason — never a guess.

use base64::Engine;
use ring::digest::{Context, SHA256};

/// More files than this: not verified (bounds memory; go's own module zips stay far below).
pub const MAX_FILES: usize = 100_000;
/// Longer names than this: not verified.
pub const MAX_NAME: usize = 4096;

#[path = "integrity_zip.rs"]
mod zip;
pub use zip::ZipHasher;

/// Why a zip could not be hashed the way go hashes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("the zip ends before its end-of-central-directory record (truncated)")]
    Truncated,
    #[error("not a zip go could read: {0}")]
    Malformed(String),
    #[error("entry {0} is encrypted")]
    Encrypted(String),
    #[error("entry {name} uses compression method {method} (only stored and deflate are handled)")]
    Method { name: String, method: u16 },
    #[error("stored entry {0} gives its size only after its data")]
    UnknownSize(String),
    // go's own wording (dirhash.Hash1).
    #[error("dirhash: filenames with newlines are not supported")]
    Newline,
    #[error("more than {MAX_FILES} files")]
    TooManyFiles,
    #[error("a file name longer than {MAX_NAME} bytes")]
    NameTooLong,
    #[error("entry {name} does not inflate: {message}")]
    Inflate { name: String, message: String },
    #[error("entry {name}: its {what} does not match its data")]
    Mismatch { name: String, what: &'static str },
}

/// What [`ZipHasher`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZipDigest {
    /// go's `h1:` hash of the zip, when it could be computed exactly.
    pub h1: Option<String>,
    /// Why there is no hash.
    pub not_verified: Option<String>,
    /// The first entry name outside the expected `module@version/` prefix.
    pub outside_prefix: Option<String>,
    /// Files (entries) seen.
    pub files: u64,
}

/// `h1:` of a go.mod file: `dirhash.Hash1([]string{"go.mod"}, …)`.
pub fn mod_hash(data: &[u8]) -> String {
    let mut h = ModHasher::new();
    h.update(data);
    h.finish()
}

/// [`mod_hash`] over a stream.
pub struct ModHasher {
    ctx: Context,
}

impl Default for ModHasher {
    fn default() -> Self {
        ModHasher::new()
    }
}

impl ModHasher {
    pub fn new() -> ModHasher {
        ModHasher {
            ctx: Context::new(&SHA256),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.ctx.update(chunk);
    }

    pub fn finish(self) -> String {
        let digest = digest32(self.ctx);
        h1([(b"go.mod".as_slice(), &digest)])
    }
}

fn digest32(ctx: Context) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `h1:` + base64(sha256 of the lines `"{hex}  {name}\n"`), lines in the order given.
fn h1<'a>(files: impl IntoIterator<Item = (&'a [u8], &'a [u8; 32])>) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut summary = Context::new(&SHA256);
    for (name, digest) in files {
        let mut hex = [0u8; 64];
        for (i, b) in digest.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(b >> 4)];
            hex[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        summary.update(&hex);
        summary.update(b"  ");
        summary.update(name);
        summary.update(b"\n");
    }
    let sum = summary.finish();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(sum.as_ref())
    )
}

#[cfg(test)]
#[path = "integrity_tests.rs"]
mod tests;
