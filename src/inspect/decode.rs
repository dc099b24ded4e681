//! Content-Encoding undone for display: gzip, deflate (zlib or raw), br, stacked in any order.
//!
//! Every decoder is driven by hand over a fixed output buffer, so that a truncated capture
//! yields everything decodable before the cut, a decompression bomb stops at a hard cap, and
//! corrupt data ends in a note instead of an error. Never panics, never decodes for traffic:
//! the bytes that went over the wire stay as they were. What to show belongs to `mod.rs`.

use std::borrow::Cow;

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::{Decompress, FlushDecompress, Status};

use super::text::looks_like_text;
use crate::units::format_bytes;

/// One step of output at a time; also the granularity of the cap check.
const CHUNK: usize = 32 * 1024;

/// How one decoder run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum End {
    /// The stream's own end marker was reached.
    Complete,
    /// The input ran out before the end marker.
    InputEnded,
    /// The output reached the cap; the rest was not decoded.
    Capped,
    /// The data is not valid for this encoding (the decoder's message).
    Corrupt(String),
}

/// Output of one decoder run. `out` holds what was decoded before `end`, at most the cap.
#[derive(Debug)]
pub(super) struct Inflated {
    pub out: Vec<u8>,
    /// Bytes decoded, kept or not.
    pub produced: u64,
    /// Input bytes consumed (for gzip: where the next member starts).
    pub consumed: usize,
    pub end: End,
}

/// The body after undoing its Content-Encoding, with what happened on the way.
#[derive(Debug)]
pub(super) struct Decoded<'a> {
    pub data: Cow<'a, [u8]>,
    /// Encodings undone, in the order they were undone (the header's order reversed).
    pub applied: Vec<String>,
    /// Human notes: cut at the cap, truncated, corrupt, unsupported.
    pub notes: Vec<String>,
    /// `data` is not the whole decoded body (cut at the cap, or the input ended early).
    pub partial: bool,
}

/// `Content-Encoding: deflate, gzip` → `["deflate", "gzip"]`: the order they were applied.
pub(super) fn content_encodings(header: Option<&str>) -> Vec<String> {
    header
        .unwrap_or("")
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity")
        .collect()
}

/// Undo `encodings` (as listed in the header) on `data`, keeping at most `cap` bytes per step.
/// `input_truncated`: the capture is a prefix, so running out of input is expected.
pub(super) fn decode<'a>(
    data: &'a [u8],
    encodings: &[String],
    cap: usize,
    input_truncated: bool,
) -> Decoded<'a> {
    let mut d = Decoded {
        data: Cow::Borrowed(data),
        applied: Vec::new(),
        notes: Vec::new(),
        partial: false,
    };
    for name in encodings.iter().rev() {
        let run = match name.as_str() {
            "gzip" | "x-gzip" => gunzip(&d.data, cap),
            "deflate" => inflate_deflate(&d.data, cap),
            "br" => unbrotli(&d.data, cap),
            other => {
                d.notes
                    .push(format!("{other} encoding not supported: shown as received"));
                break;
            }
        };
        let expected_end = input_truncated || d.partial;
        match judge(name, &run, &d.data, cap, expected_end) {
            Verdict::NotEncoded(note) => {
                d.notes.push(note);
                break;
            }
            Verdict::Decoded(note) => {
                d.partial |= note.is_some();
                d.notes.extend(note);
            }
        }
        d.applied.push(name.clone());
        d.data = Cow::Owned(run.out);
    }
    d.notes.dedup();
    d
}

/// What one decoder run means for the display.
enum Verdict {
    /// The input was not in this encoding: show it as it is, with this note.
    NotEncoded(String),
    /// Use the output; a note when it is not the whole body.
    Decoded(Option<String>),
}

/// `expected_end`: the input is itself a prefix, so running out of it is no surprise.
fn judge(name: &str, run: &Inflated, input: &[u8], cap: usize, expected_end: bool) -> Verdict {
    // Compressed data is practically never readable text, but the bodies in HARs from
    // browsers, mitmproxy and Charles are stored decoded under the original header. Brotli
    // has no magic number, so without this a decoder could turn such text into garbage.
    if run.end != End::Complete && looks_like_text(input) {
        return Verdict::NotEncoded(format!(
            "not {name} data (reads as plain text): shown as received"
        ));
    }
    Verdict::Decoded(match &run.end {
        End::Corrupt(why) if run.out.is_empty() => {
            return Verdict::NotEncoded(format!("not {name} data ({why}): shown as received"))
        }
        End::Corrupt(why) => Some(format!(
            "{name} data corrupt after {} decoded ({why}): decoded part shown",
            format_bytes(run.out.len() as u64)
        )),
        End::Capped => Some(format!(
            "decoded output cut at {}",
            format_bytes(cap as u64)
        )),
        End::InputEnded if expected_end => Some("decoded as far as the capture goes".into()),
        End::InputEnded => Some(format!("{name} stream ends early: decoded part shown")),
        End::Complete => None,
    })
}

/// Raw deflate (`zlib == false`) or zlib-wrapped deflate, keeping at most `cap` bytes.
pub(super) fn inflate(input: &[u8], zlib: bool, cap: usize) -> Inflated {
    run_inflate(input, zlib, cap, true)
}

/// Like [`inflate`] but keeps nothing: only `produced` and `consumed` are learned, and the run
/// stops (`Capped`) once `budget` bytes came out. The zip walk uses it to find an entry's end.
pub(super) fn inflate_count(input: &[u8], budget: usize) -> Inflated {
    run_inflate(input, false, budget, false)
}

fn run_inflate(input: &[u8], zlib: bool, cap: usize, store: bool) -> Inflated {
    let mut d = Decompress::new(zlib);
    let mut buf = vec![0u8; CHUNK];
    let mut out = Vec::new();
    let end = loop {
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let rest = input.get(to_usize(in_before)..).unwrap_or(&[]);
        let status = d.decompress(rest, &mut buf, FlushDecompress::None);
        let produced = to_usize(d.total_out() - out_before);
        if store && keep(&mut out, buf.get(..produced).unwrap_or(&[]), cap) {
            break End::Capped;
        }
        if !store && to_usize(d.total_out()) > cap {
            break End::Capped;
        }
        match status {
            Ok(Status::StreamEnd) => break End::Complete,
            Err(e) => break End::Corrupt(e.to_string()),
            Ok(Status::Ok | Status::BufError) => {
                if d.total_in() == in_before && produced == 0 {
                    break End::InputEnded;
                }
            }
        }
    };
    Inflated {
        out,
        produced: d.total_out(),
        consumed: to_usize(d.total_in()),
        end,
    }
}

/// Appends `chunk` up to `cap` bytes in total; true when the cap was hit.
fn keep(out: &mut Vec<u8>, chunk: &[u8], cap: usize) -> bool {
    let room = cap.saturating_sub(out.len());
    if chunk.len() > room {
        out.extend_from_slice(chunk.get(..room).unwrap_or(&[]));
        return true;
    }
    out.extend_from_slice(chunk);
    false
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `deflate` means zlib by the RFC, but servers also send raw deflate: sniff the zlib header.
fn inflate_deflate(input: &[u8], cap: usize) -> Inflated {
    let zlib = matches!(input, [cmf, flg, ..]
        if cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0);
    let first = inflate(input, zlib, cap);
    if zlib && first.out.is_empty() && matches!(first.end, End::Corrupt(_)) {
        return inflate(input, false, cap);
    }
    first
}

/// gzip, including several members one after the other (as `cat a.gz b.gz` makes).
fn gunzip(input: &[u8], cap: usize) -> Inflated {
    let mut out = Vec::new();
    let mut pos = 0;
    let end = loop {
        let rest = input.get(pos..).unwrap_or(&[]);
        let header = match gzip_header_len(rest) {
            Ok(n) => n,
            Err(end) => break end,
        };
        let body = rest.get(header..).unwrap_or(&[]);
        let member = inflate(body, false, cap.saturating_sub(out.len()));
        out.extend_from_slice(&member.out);
        pos += header + member.consumed;
        if member.end != End::Complete {
            break member.end;
        }
        // CRC32 and ISIZE follow; not checked: showing the body matters more than integrity.
        pos += 8;
        if pos > input.len() {
            break End::InputEnded;
        }
        if !input
            .get(pos..)
            .is_some_and(|r| r.starts_with(&[0x1f, 0x8b]))
        {
            break End::Complete;
        }
        if out.len() >= cap {
            break End::Capped;
        }
    };
    Inflated {
        produced: out.len() as u64,
        out,
        consumed: pos.min(input.len()),
        end,
    }
}

/// Length of the gzip member header at the start of `data` (RFC 1952 §2.3).
fn gzip_header_len(data: &[u8]) -> Result<usize, End> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    match data {
        [0x1f, 0x8b, 8, ..] => {}
        [0x1f] | [0x1f, 0x8b] | [] => return Err(End::InputEnded),
        [0x1f, 0x8b, m, ..] => return Err(End::Corrupt(format!("compression method {m}"))),
        _ => return Err(End::Corrupt("no gzip magic".into())),
    }
    let flags = *data.get(3).ok_or(End::InputEnded)?;
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let lo = *data.get(pos).ok_or(End::InputEnded)?;
        let hi = *data.get(pos + 1).ok_or(End::InputEnded)?;
        pos += 2 + usize::from(u16::from_le_bytes([lo, hi]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = data.get(pos..).ok_or(End::InputEnded)?;
            let nul = rest.iter().position(|&b| b == 0).ok_or(End::InputEnded)?;
            pos += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > data.len() {
        return Err(End::InputEnded);
    }
    Ok(pos)
}

fn unbrotli(input: &[u8], cap: usize) -> Inflated {
    // `new_strict` refuses large-window streams: their window could ask for a 1 GiB buffer.
    let mut state = BrotliState::new_strict(
        StandardAlloc::default(),
        StandardAlloc::default(),
        StandardAlloc::default(),
    );
    let mut buf = vec![0u8; CHUNK];
    let (mut avail_in, mut in_off, mut total_out) = (input.len(), 0usize, 0usize);
    let mut out = Vec::new();
    let end = loop {
        let (mut avail_out, mut out_off) = (buf.len(), 0usize);
        let result = BrotliDecompressStream(
            &mut avail_in,
            &mut in_off,
            input,
            &mut avail_out,
            &mut out_off,
            &mut buf,
            &mut total_out,
            &mut state,
        );
        if keep(&mut out, buf.get(..out_off).unwrap_or(&[]), cap) {
            break End::Capped;
        }
        match result {
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultSuccess => break End::Complete,
            BrotliResult::NeedsMoreInput => break End::InputEnded,
            BrotliResult::ResultFailure => break End::Corrupt("invalid brotli data".into()),
        }
    };
    Inflated {
        produced: total_out as u64,
        out,
        consumed: in_off,
        end,
    }
}

#[cfg(test)]
#[path = "tests_decode.rs"]
pub(super) mod tests;
