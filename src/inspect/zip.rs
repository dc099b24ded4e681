//! Zip archives (Go module zips first of all) listed from their own bytes: the central
//! directory when the capture has it, else a walk over the local file headers; and the
//! module's `go.mod` extracted and inflated.
//!
//! A small bounded parser, no zip crate: every offset is checked, counts are capped, and the
//! inflating done to find entry ends has a budget, so a hostile or truncated archive ends in a
//! note. How the listing is drawn is `mod.rs`'s concern; this file returns data.

use super::decode::{inflate, inflate_count, End};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
/// General-purpose flag bit 3: sizes are in a data descriptor after the data (Go's
/// archive/zip always writes them this way).
const FLAG_DESCRIPTOR: u16 = 0x0008;
const METHOD_STORE: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// Entries parsed at most: a hostile count cannot make the parser loop for long.
pub(super) const MAX_ENTRIES: usize = 100_000;
/// Bytes the local-header walk may inflate, in total, to find where entries end.
const WALK_INFLATE_BUDGET: usize = 64 << 20;
/// A go.mod larger than this is shown cut.
const MAX_GO_MOD: usize = 1 << 20;

/// One file in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// As stored; bytes that are not UTF-8 are replaced.
    pub name: String,
    /// Uncompressed size; `None` when the walk could not learn it.
    pub size: Option<u64>,
    pub compressed: u64,
    pub method: u16,
    /// Offset of the entry's local header.
    header: u64,
    /// The entry's data is not all in the capture.
    pub cut: bool,
}

/// The files of an archive and how trustworthy the list is.
#[derive(Debug, Default)]
pub(super) struct Listing {
    pub entries: Vec<Entry>,
    /// Read from the central directory; false: walked from local headers (may be incomplete).
    pub from_central: bool,
    /// Entries the archive declares (central directory), when known.
    pub declared: Option<u64>,
    pub notes: Vec<String>,
}

/// The module's go.mod, inflated.
#[derive(Debug)]
pub(super) struct GoMod {
    pub name: String,
    pub text: Vec<u8>,
    pub note: Option<String>,
}

/// The archive's files, or `None` when `data` has no zip structure at all.
pub(super) fn list(data: &[u8]) -> Option<Listing> {
    if let Some(listing) = from_central(data) {
        return Some(listing);
    }
    if u32_at(data, 0) != Some(LOCAL_SIG) {
        return None;
    }
    let mut listing = walk_local(data);
    listing.notes.insert(
        0,
        "central directory not captured: files listed from local headers, the list may be incomplete"
            .into(),
    );
    Some(listing)
}

/// `store`, `deflate`, or `method N`.
pub(super) fn method_name(method: u16) -> String {
    match method {
        METHOD_STORE => "store".into(),
        METHOD_DEFLATE => "deflate".into(),
        m => format!("method {m}"),
    }
}

/// The `<module>@<version>/go.mod` entry (not a nested module's), extracted.
pub(super) fn go_mod(data: &[u8], listing: &Listing) -> Option<GoMod> {
    let entry = listing.entries.iter().find(|e| is_module_go_mod(&e.name))?;
    let name = entry.name.clone();
    let with_note = |text: Vec<u8>, note: &str| GoMod {
        name: name.clone(),
        text,
        note: (!note.is_empty()).then(|| note.to_string()),
    };
    let Some(start) = data_start(data, entry.header) else {
        return Some(with_note(
            Vec::new(),
            "its local header is not in the capture",
        ));
    };
    let end = start.saturating_add(usize::try_from(entry.compressed).unwrap_or(usize::MAX));
    let cut = end > data.len();
    let raw = data.get(start..end.min(data.len())).unwrap_or(&[]);
    let cut_note = if cut { "cut by the capture" } else { "" };
    Some(match entry.method {
        METHOD_STORE => with_note(raw.to_vec(), cut_note),
        METHOD_DEFLATE => {
            let run = inflate(raw, false, MAX_GO_MOD);
            let note = match run.end {
                End::Complete => cut_note.to_string(),
                End::InputEnded => "cut by the capture".to_string(),
                End::Capped => format!("cut at {} bytes", MAX_GO_MOD),
                End::Corrupt(why) => format!("does not inflate: {why}"),
            };
            with_note(run.out, &note)
        }
        m => with_note(Vec::new(), &format!("stored with {}", method_name(m))),
    })
}

/// `golang.org/x/mod@v0.14.0/go.mod` yes; `example.com/m@v1.0.0/sub/go.mod` no.
fn is_module_go_mod(name: &str) -> bool {
    name.strip_suffix("/go.mod")
        .and_then(|prefix| prefix.rsplit('/').next())
        .is_some_and(|last| last.contains('@'))
}

fn u16_at(d: &[u8], pos: usize) -> Option<u16> {
    let b = d.get(pos..pos.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], pos: usize) -> Option<u32> {
    let b = d.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], pos: usize) -> Option<u64> {
    let lo = u64::from(u32_at(d, pos)?);
    let hi = u64::from(u32_at(d, pos.checked_add(4)?)?);
    Some(hi << 32 | lo)
}

fn at(offset: u64) -> Option<usize> {
    usize::try_from(offset).ok()
}

/// The End Of Central Directory record: the last one whose comment ends exactly at the end of
/// the data (a random `PK\5\6` inside compressed data almost never does).
fn find_eocd(data: &[u8]) -> Option<usize> {
    let last = data.len().checked_sub(22)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&p| {
        u32_at(data, p) == Some(EOCD_SIG)
            && u16_at(data, p + 20).is_some_and(|c| p + 22 + usize::from(c) == data.len())
    })
}

/// (entries, directory size, directory offset) from the Zip64 end record before `eocd`.
fn zip64_end(data: &[u8], eocd: usize) -> Option<(u64, u64, u64)> {
    let locator = eocd.checked_sub(20)?;
    if u32_at(data, locator)? != ZIP64_LOCATOR_SIG {
        return None;
    }
    let candidates = [at(u64_at(data, locator + 8)?), locator.checked_sub(56)];
    let record = candidates
        .into_iter()
        .flatten()
        .find(|&r| u32_at(data, r) == Some(ZIP64_EOCD_SIG))?;
    Some((
        u64_at(data, record + 32)?,
        u64_at(data, record + 40)?,
        u64_at(data, record + 48)?,
    ))
}

fn from_central(data: &[u8]) -> Option<Listing> {
    let eocd = find_eocd(data)?;
    let mut count = u64::from(u16_at(data, eocd + 10)?);
    let mut size = u64::from(u32_at(data, eocd + 12)?);
    let mut offset = u64::from(u32_at(data, eocd + 16)?);
    let mut notes = Vec::new();
    if count == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        match zip64_end(data, eocd) {
            Some((c, s, o)) => (count, size, offset) = (c, s, o),
            None => notes.push("zip64 end record missing: counts may be wrong".into()),
        }
    }
    // Data in front of the archive (a self-extractor) shifts every offset.
    let start = [at(offset), eocd.checked_sub(at(size)?)]
        .into_iter()
        .flatten()
        .find(|&s| u32_at(data, s) == Some(CENTRAL_SIG));
    let Some(start) = start else {
        return (count == 0).then(|| Listing {
            from_central: true,
            declared: Some(0),
            notes,
            ..Listing::default()
        });
    };
    let mut entries = Vec::new();
    let mut pos = start;
    while (entries.len() as u64) < count && entries.len() < MAX_ENTRIES {
        let Some((entry, next)) = central_entry(data, pos) else {
            notes.push(format!(
                "central directory ends after {} of {count} entries",
                entries.len()
            ));
            break;
        };
        entries.push(entry);
        pos = next;
    }
    for e in &mut entries {
        e.cut = data_start(data, e.header)
            .is_none_or(|s| (s as u64).saturating_add(e.compressed) > data.len() as u64);
    }
    Some(Listing {
        entries,
        from_central: true,
        declared: Some(count),
        notes,
    })
}

/// One central directory header at `pos` and the position of the next.
fn central_entry(data: &[u8], pos: usize) -> Option<(Entry, usize)> {
    if u32_at(data, pos)? != CENTRAL_SIG {
        return None;
    }
    let method = u16_at(data, pos + 10)?;
    let mut compressed = u64::from(u32_at(data, pos + 20)?);
    let mut size = u64::from(u32_at(data, pos + 24)?);
    let name_len = usize::from(u16_at(data, pos + 28)?);
    let extra_len = usize::from(u16_at(data, pos + 30)?);
    let comment_len = usize::from(u16_at(data, pos + 32)?);
    let mut header = u64::from(u32_at(data, pos + 42)?);
    let name_start = pos + 46;
    let name = data.get(name_start..name_start + name_len)?;
    let extra = data.get(name_start + name_len..name_start + name_len + extra_len)?;
    // Zip64 extra field: the 64-bit values, in this order, of the fields that are all ones.
    let mut wide = zip64_extra(extra).into_iter();
    for field in [&mut size, &mut compressed, &mut header] {
        if *field == 0xffff_ffff {
            *field = wide.next().unwrap_or(*field);
        }
    }
    let entry = Entry {
        name: String::from_utf8_lossy(name).into_owned(),
        size: Some(size),
        compressed,
        method,
        header,
        cut: false,
    };
    Some((entry, name_start + name_len + extra_len + comment_len))
}

/// The 64-bit values of the Zip64 extra field (header id 1), if there is one.
fn zip64_extra(extra: &[u8]) -> Vec<u64> {
    let mut pos = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, pos), u16_at(extra, pos + 2)) {
        let body = extra
            .get(pos + 4..pos + 4 + usize::from(len))
            .unwrap_or(&[]);
        if id == 1 {
            return body.chunks_exact(8).filter_map(|c| u64_at(c, 0)).collect();
        }
        pos += 4 + usize::from(len);
    }
    Vec::new()
}

/// Where the data of the entry whose local header is at `header` starts.
fn data_start(data: &[u8], header: u64) -> Option<usize> {
    let h = at(header)?;
    if u32_at(data, h)? != LOCAL_SIG {
        return None;
    }
    let name_len = usize::from(u16_at(data, h + 26)?);
    let extra_len = usize::from(u16_at(data, h + 28)?);
    Some(h + 30 + name_len + extra_len)
}

/// Entries from the local headers, front to back, for a capture without a central directory.
fn walk_local(data: &[u8]) -> Listing {
    let mut listing = Listing::default();
    let mut pos = 0;
    let mut budget = WALK_INFLATE_BUDGET;
    while listing.entries.len() < MAX_ENTRIES {
        match u32_at(data, pos) {
            Some(LOCAL_SIG) => {}
            Some(CENTRAL_SIG | EOCD_SIG) | None => break,
            Some(_) => {
                listing.notes.push(format!(
                    "no local header at offset {pos}: listing stops there"
                ));
                break;
            }
        }
        let Some(step) = local_entry(data, pos, &mut budget) else {
            break;
        };
        let stop = step.entry.cut || step.note.is_some();
        listing.entries.push(step.entry);
        listing.notes.extend(step.note);
        match step.next {
            Some(next) if !stop => pos = next,
            _ => break,
        }
    }
    listing
}

/// One walked entry: the entry, where the next header starts, and why the walk must stop.
struct Step {
    entry: Entry,
    next: Option<usize>,
    note: Option<String>,
}

fn local_entry(data: &[u8], pos: usize, budget: &mut usize) -> Option<Step> {
    let flags = u16_at(data, pos + 6)?;
    let method = u16_at(data, pos + 8)?;
    let mut compressed = u64::from(u32_at(data, pos + 18)?);
    let mut size = u64::from(u32_at(data, pos + 22)?);
    let name_len = usize::from(u16_at(data, pos + 26)?);
    let extra_len = usize::from(u16_at(data, pos + 28)?);
    let name = data.get(pos + 30..pos + 30 + name_len)?;
    let extra = data.get(pos + 30 + name_len..pos + 30 + name_len + extra_len)?;
    let start = pos + 30 + name_len + extra_len;
    if compressed == 0xffff_ffff || size == 0xffff_ffff {
        let wide = zip64_extra(extra);
        size = wide.first().copied().unwrap_or(size);
        compressed = wide.get(1).copied().unwrap_or(compressed);
    }
    let mut entry = Entry {
        name: String::from_utf8_lossy(name).into_owned(),
        size: Some(size),
        compressed,
        method,
        header: pos as u64,
        cut: false,
    };
    if flags & FLAG_DESCRIPTOR == 0 {
        let end = start.checked_add(at(compressed)?)?;
        entry.cut = end > data.len();
        return Some(Step {
            entry,
            next: Some(end),
            note: None,
        });
    }
    Some(described_entry(data, start, entry, budget))
}

/// An entry whose sizes follow its data: inflate it (without keeping the output) to find its
/// end, then step over the data descriptor.
fn described_entry(data: &[u8], start: usize, mut entry: Entry, budget: &mut usize) -> Step {
    entry.size = None;
    let stop = |entry: Entry, note: String| Step {
        entry,
        next: None,
        note: Some(note),
    };
    if entry.method != METHOD_DEFLATE {
        let note = format!("cannot find where {} ends: listing stops there", entry.name);
        return stop(entry, note);
    }
    let run = inflate_count(data.get(start..).unwrap_or(&[]), *budget);
    *budget = budget.saturating_sub(usize::try_from(run.produced).unwrap_or(usize::MAX));
    match run.end {
        End::Complete => {}
        End::InputEnded => {
            entry.cut = true;
            return Step {
                entry,
                next: None,
                note: None,
            };
        }
        End::Capped => return stop(entry, "listing stopped: too much data to inflate".into()),
        End::Corrupt(why) => {
            let note = format!(
                "{} does not inflate ({why}): listing stops there",
                entry.name
            );
            return stop(entry, note);
        }
    }
    entry.size = Some(run.produced);
    entry.compressed = run.consumed as u64;
    let after = start + run.consumed;
    let next = skip_descriptor(data, after);
    Step {
        entry,
        next,
        note: None,
    }
}

/// Position after the data descriptor at `pos`: 12 or 16 bytes (32-bit sizes, with or
/// without signature) or 20 or 24 (Zip64). The right one is followed by another header.
fn skip_descriptor(data: &[u8], pos: usize) -> Option<usize> {
    let sig = usize::from(u32_at(data, pos) == Some(DESCRIPTOR_SIG)) * 4;
    [12, 20]
        .into_iter()
        .map(|len| pos + sig + len)
        .find(|&next| matches!(u32_at(data, next), Some(LOCAL_SIG | CENTRAL_SIG | EOCD_SIG)))
}

#[cfg(test)]
#[path = "tests_zip.rs"]
pub(super) mod tests;
