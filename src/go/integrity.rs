//! Integrity hashes: the `h1:` hashes the go command writes into go.sum, computed from the
//! bytes gomitm sees. This file owns the `h1:` line format and the hash of a go.mod file;
//! the hash of a module zip while it streams past is `integrity_zip`'s, built on `h1` here.
//!
//! Mirrors golang.org/x/mod/sumdb/dirhash (`Hash1`, `HashZip`): one line
//! `"{sha256 hex}  {name}\n"` per file, sorted by name, and `h1:` + base64 of their SHA-256.
//! Pure: no I/O, no clock, nothing about the proxy.

use base64::Engine;
use ring::digest::{Context, SHA256};

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

pub(super) fn digest32(ctx: Context) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `h1:` + base64(sha256 of the lines `"{hex}  {name}\n"`), lines in the order given.
pub(super) fn h1<'a>(files: impl IntoIterator<Item = (&'a [u8], &'a [u8; 32])>) -> String {
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
