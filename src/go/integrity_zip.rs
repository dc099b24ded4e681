//! The `h1:` hash of a module zip while it streams past ([`ZipHasher`], go's `HashZip`): local
//! headers, stored and deflated data (inflated through a fixed buffer, never kept), data
//! descriptors (with or without signature, zip64), then the central directory, checked
//! against what was hashed, because go reads names and checksums from there.
//!
//! Memory: the names and digests, plus fixed buffers. Whatever this cannot follow exactly is
//! "not verified" with a reason ([`ZipError`]) — never a guess. Owns the zip format and its
//! limits; the `h1:` lines are `integrity`'s. Pure.

use flate2::{Crc, Decompress, FlushDecompress, Status};
use ring::digest::{Context, SHA256};

use super::integrity::{digest32, h1};

/// More files than this: not verified (bounds memory; go's own module zips stay far below).
pub const MAX_FILES: usize = 100_000;
/// Longer names than this: not verified.
pub const MAX_NAME: usize = 4096;

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

/// Inflated bytes are hashed through a buffer of this size, never kept.
const OUT_BUF: usize = 32 * 1024;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_DESCRIPTOR: u32 = 0x0807_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_ZIP64_END: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
const SIG_END: u32 = 0x0605_4b50;
const FULL32: u64 = 0xFFFF_FFFF;

/// One hashed entry, in zip order.
pub(super) struct Entry {
    pub(super) name: Box<[u8]>,
    pub(super) digest: [u8; 32],
    pub(super) crc: u32,
    pub(super) size: u64,
}

/// The entry whose data is streaming.
struct Current {
    name: Box<[u8]>,
    deflate: bool,
    descriptor: bool,
    zip64: bool,
    crc_header: u32,
    csize: u64,
    usize: u64,
    sha: Context,
    crc: Crc,
    /// Compressed bytes consumed so far.
    read: u64,
    /// Uncompressed bytes hashed so far (`Crc::amount` is only 32 bits).
    written: u64,
}

enum State {
    /// Expecting a record signature (4 bytes).
    Signature,
    /// Local header: fixed part, then name and extra field.
    Local {
        want: usize,
    },
    Stored(Box<Current>),
    Deflated(Box<Current>),
    /// Data descriptor: its first 4 bytes (the optional signature, or the CRC), then the rest.
    Descriptor {
        cur: Box<Current>,
        want: usize,
    },
    Central {
        want: usize,
    },
    /// Zip64 end record: size field first, then skip.
    Zip64End,
    End,
    Skip(u64),
    Done,
}

/// Streaming `dirhash.HashZip`: feed the zip's bytes in any chunking, then [`finish`].
///
/// [`finish`]: ZipHasher::finish
pub struct ZipHasher {
    expected_prefix: Option<String>,
    state: State,
    buf: Vec<u8>,
    entries: Vec<Entry>,
    central_seen: usize,
    outside_prefix: Option<String>,
    failed: Option<ZipError>,
    inflater: Decompress,
    out: Box<[u8]>,
}

impl ZipHasher {
    /// `expected_prefix`: `module@version/`, to note entries of another module.
    pub fn new(expected_prefix: Option<String>) -> ZipHasher {
        ZipHasher {
            expected_prefix,
            state: State::Signature,
            buf: Vec::with_capacity(64),
            entries: Vec::new(),
            central_seen: 0,
            outside_prefix: None,
            failed: None,
            inflater: Decompress::new(false),
            out: vec![0u8; OUT_BUF].into_boxed_slice(),
        }
    }

    pub fn update(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() && self.failed.is_none() {
            match self.step(chunk) {
                Ok(used) => chunk = &chunk[used.min(chunk.len())..],
                Err(e) => self.failed = Some(e),
            }
        }
    }

    pub fn finish(self) -> ZipDigest {
        let files = self.entries.len() as u64;
        let outcome = match (self.failed, &self.state) {
            (Some(e), _) => Err(e),
            (None, State::Done) => Ok(sorted_h1(self.entries)),
            (None, _) => Err(ZipError::Truncated),
        };
        let (h1, not_verified) = match outcome {
            Ok(h) => (Some(h), None),
            Err(e) => (None, Some(e.to_string())),
        };
        ZipDigest {
            h1,
            not_verified,
            outside_prefix: self.outside_prefix,
            files,
        }
    }

    /// Consume some of `input`; returns how many bytes were used.
    fn step(&mut self, input: &[u8]) -> Result<usize, ZipError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Signature => self.gather(input, 4, State::Signature, Self::signature),
            State::Local { want } => self.gather(input, want, State::Local { want }, Self::local),
            State::Stored(cur) => self.stored(input, cur),
            State::Deflated(cur) => self.deflated(input, cur),
            State::Descriptor { cur, want } => self.descriptor(input, cur, want),
            State::Central { want } => {
                self.gather(input, want, State::Central { want }, Self::central)
            }
            State::Zip64End => self.gather(input, 12, State::Zip64End, |s| {
                let size = le64(&s.buf[4..12]);
                s.buf.clear();
                Ok(State::Skip(size))
            }),
            State::End => self.gather(input, 22, State::End, Self::end),
            State::Skip(n) => {
                let take = n.min(input.len() as u64);
                self.state = match n - take {
                    0 => State::Signature,
                    left => State::Skip(left),
                };
                Ok(take as usize)
            }
            State::Done => Ok(input.len()),
        }
    }

    /// Collect `want` bytes of a record into `buf`, then parse it with `then`.
    fn gather(
        &mut self,
        input: &[u8],
        want: usize,
        waiting: State,
        then: fn(&mut Self) -> Result<State, ZipError>,
    ) -> Result<usize, ZipError> {
        let take = want.saturating_sub(self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        self.state = if self.buf.len() < want {
            waiting
        } else {
            then(self)?
        };
        Ok(take)
    }

    fn signature(&mut self) -> Result<State, ZipError> {
        let sig = le32(&self.buf[..4]);
        Ok(match sig {
            SIG_LOCAL if self.central_seen == 0 => State::Local { want: 30 },
            SIG_CENTRAL => State::Central { want: 46 },
            SIG_ZIP64_END => State::Zip64End,
            SIG_ZIP64_LOCATOR => {
                self.buf.clear();
                State::Skip(16)
            }
            SIG_END => State::End,
            _ => {
                return Err(malformed(format!(
                    "unexpected record signature {sig:#010x}"
                )))
            }
        })
    }

    fn local(&mut self) -> Result<State, ZipError> {
        let b = &self.buf;
        let (name_len, extra_len) = (le16(&b[26..28]) as usize, le16(&b[28..30]) as usize);
        if name_len > MAX_NAME {
            return Err(ZipError::NameTooLong);
        }
        if b.len() == 30 && name_len + extra_len > 0 {
            return Ok(State::Local {
                want: 30 + name_len + extra_len,
            });
        }
        let (flags, method) = (le16(&b[6..8]), le16(&b[8..10]));
        let name: Box<[u8]> = b[30..30 + name_len].into();
        let shown = String::from_utf8_lossy(&name).into_owned();
        let (mut csize, mut usize) = (u64::from(le32(&b[18..22])), u64::from(le32(&b[22..26])));
        let zip64 = zip64_sizes(&b[30 + name_len..], &mut usize, &mut csize);
        let cur = Box::new(Current {
            deflate: method == 8,
            descriptor: flags & 8 != 0,
            zip64,
            crc_header: le32(&b[14..18]),
            csize,
            usize,
            sha: Context::new(&SHA256),
            crc: Crc::new(),
            read: 0,
            written: 0,
            name,
        });
        self.buf.clear();
        if self.entries.len() >= MAX_FILES {
            return Err(ZipError::TooManyFiles);
        }
        if cur.name.contains(&b'\n') {
            return Err(ZipError::Newline);
        }
        if flags & 1 != 0 {
            return Err(ZipError::Encrypted(shown));
        }
        self.note_prefix(&shown);
        match (method, cur.descriptor) {
            (8, _) => {
                self.inflater.reset(false);
                Ok(State::Deflated(cur))
            }
            (0, true) => Err(ZipError::UnknownSize(shown)),
            (0, false) if cur.csize == 0 => {
                self.end_entry(cur)?;
                Ok(State::Signature)
            }
            (0, false) => Ok(State::Stored(cur)),
            _ => Err(ZipError::Method {
                name: shown,
                method,
            }),
        }
    }

    fn note_prefix(&mut self, name: &str) {
        if self.outside_prefix.is_some() {
            return;
        }
        if let Some(prefix) = &self.expected_prefix {
            if !name.starts_with(prefix.as_str()) {
                self.outside_prefix = Some(name.to_string());
            }
        }
    }

    fn stored(&mut self, input: &[u8], mut cur: Box<Current>) -> Result<usize, ZipError> {
        let take = (cur.csize - cur.read).min(input.len() as u64) as usize;
        cur.sha.update(&input[..take]);
        cur.crc.update(&input[..take]);
        cur.read += take as u64;
        cur.written += take as u64;
        if cur.read == cur.csize {
            self.end_entry(cur)?;
        } else {
            self.state = State::Stored(cur);
        }
        Ok(take)
    }

    fn deflated(&mut self, input: &[u8], mut cur: Box<Current>) -> Result<usize, ZipError> {
        let mut used = 0usize;
        loop {
            let (in0, out0) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress(&input[used..], &mut self.out, FlushDecompress::None)
                .map_err(|e| ZipError::Inflate {
                    name: String::from_utf8_lossy(&cur.name).into_owned(),
                    message: e.to_string(),
                })?;
            let consumed = (self.inflater.total_in() - in0) as usize;
            let produced = (self.inflater.total_out() - out0) as usize;
            used += consumed;
            cur.read += consumed as u64;
            cur.written += produced as u64;
            cur.sha.update(&self.out[..produced]);
            cur.crc.update(&self.out[..produced]);
            if status == Status::StreamEnd {
                self.after_data(cur)?;
                return Ok(used);
            }
            if !cur.descriptor && cur.read > cur.csize {
                return Err(mismatch(&cur, "compressed size"));
            }
            if consumed == 0 && produced == 0 && used < input.len() {
                return Err(ZipError::Inflate {
                    name: String::from_utf8_lossy(&cur.name).into_owned(),
                    message: "no progress".into(),
                });
            }
            // All input used and the output not full: more input is needed.
            if used == input.len() && produced < self.out.len() {
                self.state = State::Deflated(cur);
                return Ok(used);
            }
        }
    }

    fn after_data(&mut self, cur: Box<Current>) -> Result<(), ZipError> {
        if cur.descriptor {
            self.state = State::Descriptor { cur, want: 4 };
            Ok(())
        } else {
            self.end_entry(cur)
        }
    }

    fn descriptor(
        &mut self,
        input: &[u8],
        cur: Box<Current>,
        want: usize,
    ) -> Result<usize, ZipError> {
        let take = want.saturating_sub(self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        if self.buf.len() < want {
            self.state = State::Descriptor { cur, want };
            return Ok(take);
        }
        // go writes a zip64 descriptor only for sizes beyond 32 bits; other writers announce
        // it with a zip64 extra field in the local header.
        let wide = cur.zip64 || cur.read >= FULL32 || cur.written >= FULL32;
        let body = if wide { 20 } else { 12 };
        if want == 4 {
            let first = le32(&self.buf);
            // The signature is optional; a CRC equal to it means there was none.
            if first == SIG_DESCRIPTOR && cur.crc.sum() != SIG_DESCRIPTOR {
                self.buf.clear();
                self.state = State::Descriptor { cur, want: body };
            } else {
                self.state = State::Descriptor { cur, want: body };
            }
            return Ok(take);
        }
        let b = std::mem::take(&mut self.buf);
        let (csize, usize) = if wide {
            (le64(&b[4..12]), le64(&b[12..20]))
        } else {
            (u64::from(le32(&b[4..8])), u64::from(le32(&b[8..12])))
        };
        let mut cur = cur;
        if csize != cur.read {
            return Err(mismatch(&cur, "data descriptor's compressed size"));
        }
        cur.crc_header = le32(&b[..4]);
        cur.usize = usize;
        self.buf = b;
        self.buf.clear();
        self.end_entry(cur)?;
        Ok(take)
    }

    fn end_entry(&mut self, cur: Box<Current>) -> Result<(), ZipError> {
        let Current {
            name,
            sha,
            crc,
            crc_header,
            usize,
            csize,
            read,
            written,
            deflate,
            descriptor,
            ..
        } = *cur;
        let shown = || String::from_utf8_lossy(&name).into_owned();
        if !descriptor && deflate && read != csize {
            return Err(ZipError::Mismatch {
                name: shown(),
                what: "compressed size",
            });
        }
        if crc.sum() != crc_header {
            return Err(ZipError::Mismatch {
                name: shown(),
                what: "CRC-32",
            });
        }
        if written != usize {
            return Err(ZipError::Mismatch {
                name: shown(),
                what: "size",
            });
        }
        self.entries.push(Entry {
            digest: digest32(sha),
            crc: crc.sum(),
            size: usize,
            name,
        });
        self.state = State::Signature;
        Ok(())
    }

    /// A central directory header: go takes names and checksums from here, so each must
    /// agree with the local entry it describes (same order, as every zip writer emits).
    fn central(&mut self) -> Result<State, ZipError> {
        let b = &self.buf;
        let (n, m, k) = (
            le16(&b[28..30]) as usize,
            le16(&b[30..32]) as usize,
            le16(&b[32..34]) as usize,
        );
        if b.len() == 46 && n + m + k > 0 {
            return Ok(State::Central {
                want: 46 + n + m + k,
            });
        }
        let Some(entry) = self.entries.get(self.central_seen) else {
            return Err(malformed("the central directory lists more files".into()));
        };
        let name = &b[46..46 + n];
        let (crc, mut usize, mut csize) = (
            le32(&b[16..20]),
            u64::from(le32(&b[24..28])),
            u64::from(le32(&b[20..24])),
        );
        zip64_sizes(&b[46 + n..46 + n + m], &mut usize, &mut csize);
        if name != &*entry.name || crc != entry.crc || usize != entry.size {
            return Err(malformed(format!(
                "central directory entry {} disagrees with its local header",
                String::from_utf8_lossy(name)
            )));
        }
        self.central_seen += 1;
        self.buf.clear();
        Ok(State::Signature)
    }

    fn end(&mut self) -> Result<State, ZipError> {
        self.buf.clear();
        if self.central_seen != self.entries.len() {
            return Err(malformed(
                "the central directory leaves out some files".into(),
            ));
        }
        Ok(State::Done)
    }
}

/// Sort by name as go's `sort.Strings` does (bytewise). Duplicate names: go's `HashZip` maps
/// each name to its last entry, so every line of that name carries the last one's digest.
pub(super) fn sorted_h1(entries: Vec<Entry>) -> String {
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by(|a, b| a.name.cmp(&b.name));
    let mut lines: Vec<(&[u8], &[u8; 32])> = Vec::with_capacity(order.len());
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && order[j + 1].name == order[i].name {
            j += 1;
        }
        for e in &order[i..=j] {
            lines.push((&e.name, &order[j].digest));
        }
        i = j + 1;
    }
    h1(lines)
}

/// Replace 0xFFFFFFFF sizes from a zip64 extra field (id 1); true when the field is there.
fn zip64_sizes(mut extra: &[u8], usize: &mut u64, csize: &mut u64) -> bool {
    while extra.len() >= 4 {
        let (id, len) = (le16(&extra[..2]), le16(&extra[2..4]) as usize);
        let data = &extra[4..(4 + len).min(extra.len())];
        if id == 1 {
            let mut at = 0;
            for size in [usize, csize] {
                if *size == FULL32 && data.len() >= at + 8 {
                    *size = le64(&data[at..at + 8]);
                    at += 8;
                }
            }
            return true;
        }
        extra = &extra[(4 + len).min(extra.len())..];
    }
    false
}

fn malformed(message: String) -> ZipError {
    ZipError::Malformed(message)
}

fn mismatch(cur: &Current, what: &'static str) -> ZipError {
    ZipError::Mismatch {
        name: String::from_utf8_lossy(&cur.name).into_owned(),
        what,
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}
