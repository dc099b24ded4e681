//! Reading a HAR without holding it: the file is read twice through a buffer, never whole.
//! The first pass (`outline`) keeps only the creator's name and which entries carry
//! `_gomitm` (their bodies are kept whole); the second hands each entry, as a JSON value whose
//! body texts are already cut to the bytes that will be kept, to `import`, which turns it into
//! a flow before the next entry is read. Peak memory is the flows kept plus one entry, plus
//! serde_json's buffer for the longest single string in the file.
//!
//! Owns the JSON walking, the per-entry body cap and the budget across entries; what an
//! entry means belongs to `import`, and readable wording for broken files to `error`.

use std::fmt;
use std::io::{BufRead, Seek, SeekFrom};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::{HarError, Unreadable};

/// Body bytes kept per message of another tool's HAR: the proxy's default
/// `--max-body-capture`, so an opened HAR weighs what a live capture would.
pub(super) const FOREIGN_BODY_CAP: usize = 1 << 20;

/// Body bytes kept across all entries: the proxy's default `--max-capture-total`. Past it,
/// entries keep their sizes but no body bytes (shown as truncated), so a huge HAR is still
/// summarised whole.
pub(super) const BODY_BUDGET: usize = 256 << 20;

/// What the first pass learns.
#[derive(Debug, Default)]
pub(super) struct Outline {
    /// `log.creator.name`, wherever it sits relative to `entries`.
    pub creator: String,
    /// Per entry: it has a `_gomitm` object (gomitm's own, bodies kept whole).
    pub own: Vec<bool>,
}

/// One entry as `import` receives it: its JSON (nulls still in) and, for the body texts,
/// the measurements of the whole text of which the value holds a prefix.
#[derive(Debug)]
pub(super) struct RawEntry {
    pub value: Value,
    pub request_text: Option<TextStats>,
    pub response_text: Option<TextStats>,
}

/// Of a whole body text: its length in bytes, and as base64, how many characters remain
/// without whitespace and without the trailing `=` padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct TextStats {
    pub bytes: usize,
    pub base64_chars: usize,
}

impl TextStats {
    pub fn of(text: &str) -> TextStats {
        let (mut clean, mut unpadded) = (0, 0);
        for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
            clean += 1;
            if b != b'=' {
                unpadded = clean;
            }
        }
        TextStats {
            bytes: text.len(),
            base64_chars: unpadded,
        }
    }
}

/// Every entry of a HAR read from `reader`, in order, through `each` (given the entry's
/// index, the body bytes it may keep per message, the creator's name and the entry); `each`
/// returns the body bytes it kept, which count against [`BODY_BUDGET`].
pub(super) fn for_each_entry<R, F>(mut reader: R, mut each: F) -> Result<(), HarError>
where
    R: BufRead + Seek,
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    skip_bom(&mut reader)?;
    // A file that is plainly something else is named for what it is, before serde sees it.
    if let Some(why) = Unreadable::sniff(reader.fill_buf().map_err(HarError::Read)?) {
        return Err(HarError::Parse(why));
    }
    let start = reader.stream_position().map_err(HarError::Read)?;
    let outline = outline(&mut reader)?;
    reader
        .seek(SeekFrom::Start(start))
        .map_err(HarError::Read)?;
    let mut failure = None;
    let mut walk = Walk {
        outline: &outline,
        each: &mut each,
        failure: &mut failure,
        index: 0,
        kept: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let result = de
        .deserialize_map(TopVisitor {
            walk: Some(&mut walk),
        })
        .and_then(|_| de.end());
    match (failure, result) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(parse_error(e)),
        (None, Ok(())) => Ok(()),
    }
}

fn skip_bom<R: BufRead>(reader: &mut R) -> Result<(), HarError> {
    // The HAR spec asks readers to accept a byte order mark.
    let buf = reader.fill_buf().map_err(HarError::Read)?;
    if buf.starts_with("\u{feff}".as_bytes()) {
        reader.consume(3);
    }
    Ok(())
}

/// The first pass's callback type: it has none, but the visitors are shared.
type NoEntries = fn(usize, usize, &str, RawEntry) -> Result<usize, HarError>;

fn outline<R: BufRead>(reader: &mut R) -> Result<Outline, HarError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let found = de
        .deserialize_map(TopVisitor::<NoEntries> { walk: None })
        .and_then(|found| de.end().map(|()| found))
        .map_err(parse_error)?;
    Ok(found.unwrap_or_default())
}

fn parse_error(e: serde_json::Error) -> HarError {
    if e.is_io() {
        return HarError::Read(e.into());
    }
    HarError::Parse(Unreadable::from_json(&e))
}

/// The second pass's state, shared by the visitors below.
struct Walk<'a, F> {
    outline: &'a Outline,
    each: &'a mut F,
    /// What `each` failed with: serde's error type cannot carry it.
    failure: &'a mut Option<HarError>,
    index: usize,
    kept: usize,
}

/// `{ "log": … }`. With a walk (second pass) it feeds the entries to it and yields `None`;
/// without (first pass) it yields the outline.
struct TopVisitor<'w, 'a, F> {
    walk: Option<&'w mut Walk<'a, F>>,
}

impl<'de, F> Visitor<'de> for TopVisitor<'_, '_, F>
where
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    type Value = Option<Outline>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with a `log` object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut seen_log = false;
        while let Some(key) = map.next_key::<String>()? {
            if key != "log" || seen_log {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            seen_log = true;
            found = map.next_value_seed(LogSeed {
                walk: self.walk.as_deref_mut(),
            })?;
        }
        if !seen_log {
            return Err(de::Error::custom("has no `log` object"));
        }
        Ok(found)
    }
}

struct LogSeed<'w, 'a, F> {
    walk: Option<&'w mut Walk<'a, F>>,
}

impl<'de, F> DeserializeSeed<'de> for LogSeed<'_, '_, F>
where
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    type Value = Option<Outline>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for LogSeed<'_, '_, F>
where
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    type Value = Option<Outline>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`log` to be an object with an `entries` list")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut outline = Outline::default();
        let mut seen_entries = false;
        while let Some(key) = map.next_key::<String>()? {
            match (key.as_str(), self.walk.as_deref_mut()) {
                ("entries", walk) if !seen_entries => {
                    seen_entries = true;
                    match walk {
                        Some(walk) => map.next_value_seed(EntriesSeed(walk))?,
                        None => outline.own = map.next_value_seed(OwnFlags)?,
                    }
                }
                ("creator", None) => {
                    // Small, and shaped differently by every producer: read whole.
                    let creator: Value = map.next_value()?;
                    if let Some(name) = creator.get("name").and_then(Value::as_str) {
                        outline.creator = name.to_string();
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_entries {
            return Err(de::Error::custom("has no `log.entries` list"));
        }
        Ok(self.walk.is_none().then_some(outline))
    }
}

/// First pass over `entries`: which carry `_gomitm`.
struct OwnFlags;

impl<'de> DeserializeSeed<'de> for OwnFlags {
    type Value = Vec<bool>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for OwnFlags {
    type Value = Vec<bool>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`log.entries` to be a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut own = Vec::new();
        while let Some(is_own) = seq.next_element_seed(IsOwn)? {
            own.push(is_own);
        }
        Ok(own)
    }
}

struct IsOwn;

impl<'de> DeserializeSeed<'de> for IsOwn {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IsOwn {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut own = false;
        while let Some(key) = map.next_key::<String>()? {
            // `null` means absent, as everywhere on import.
            let present = map.next_value::<Option<IgnoredAny>>()?.is_some();
            own |= key == "_gomitm" && present;
        }
        Ok(own)
    }

    // Not an object: the second pass says what is wrong with it.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Second pass over `entries`: each entry to `each`, one at a time.
struct EntriesSeed<'w, 'a, F>(&'w mut Walk<'a, F>);

impl<'de, F> DeserializeSeed<'de> for EntriesSeed<'_, '_, F>
where
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for EntriesSeed<'_, '_, F>
where
    F: FnMut(usize, usize, &str, RawEntry) -> Result<usize, HarError>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`log.entries` to be a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let walk = self.0;
        loop {
            let own = walk.outline.own.get(walk.index).copied().unwrap_or(false);
            let entry_cap = if own { usize::MAX } else { FOREIGN_BODY_CAP };
            let cap = entry_cap.min(BODY_BUDGET.saturating_sub(walk.kept));
            let mut texts = Texts::default();
            let seed = CappedValue {
                slot: Slot::Entry,
                cap,
                texts: &mut texts,
            };
            let Some(value) = seq.next_element_seed(seed)? else {
                return Ok(());
            };
            let entry = RawEntry {
                value,
                request_text: texts.request,
                response_text: texts.response,
            };
            match (walk.each)(walk.index, cap, &walk.outline.creator, entry) {
                Ok(kept) => walk.kept = walk.kept.saturating_add(kept),
                Err(e) => {
                    *walk.failure = Some(e);
                    return Err(de::Error::custom("entry refused"));
                }
            }
            walk.index += 1;
        }
    }
}

#[derive(Debug, Default)]
struct Texts {
    request: Option<TextStats>,
    response: Option<TextStats>,
}

/// Where in an entry a value sits, as far as body texts are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Entry,
    Request,
    Response,
    PostData,
    Content,
    RequestText,
    ResponseText,
    Other,
}

impl Slot {
    fn child(self, key: &str) -> Slot {
        match (self, key) {
            (Slot::Entry, "request") => Slot::Request,
            (Slot::Entry, "response") => Slot::Response,
            (Slot::Request, "postData") => Slot::PostData,
            (Slot::Response, "content") => Slot::Content,
            (Slot::PostData, "text") => Slot::RequestText,
            (Slot::Content, "text") => Slot::ResponseText,
            _ => Slot::Other,
        }
    }
}

/// A JSON value, as `serde_json::Value` reads it, except that a body text keeps only the
/// prefix that can hold `cap` body bytes (as text or as base64) and records its measurements.
struct CappedValue<'t> {
    slot: Slot,
    cap: usize,
    texts: &'t mut Texts,
}

impl<'de> DeserializeSeed<'de> for CappedValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CappedValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        let stats = match self.slot {
            Slot::RequestText => &mut self.texts.request,
            Slot::ResponseText => &mut self.texts.response,
            _ => return Ok(Value::String(v.to_string())),
        };
        *stats = Some(TextStats::of(v));
        Ok(Value::String(text_prefix(v, self.cap).to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = CappedValue {
                slot: Slot::Other,
                cap: self.cap,
                texts: &mut *self.texts,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut values = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let seed = CappedValue {
                slot: self.slot.child(&key),
                cap: self.cap,
                texts: &mut *self.texts,
            };
            let value = map.next_value_seed(seed)?;
            values.insert(key, value);
        }
        Ok(Value::Object(values))
    }
}

/// The shortest prefix of `text` (on a character boundary) that holds `cap` bytes of body
/// both as plain text and as base64 (whitespace-wrapped or not), with room for padding so
/// that a text whose body fits is kept whole.
fn text_prefix(text: &str, cap: usize) -> &str {
    if cap == 0 {
        return "";
    }
    let base64_chars = cap.div_ceil(3).saturating_mul(4).saturating_add(8);
    let (mut clean, mut end) = (0usize, 0usize);
    for (i, b) in text.bytes().enumerate() {
        if end >= cap && clean >= base64_chars {
            break;
        }
        end = i + 1;
        if !b.is_ascii_whitespace() {
            clean += 1;
        }
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text.get(..end).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_keeps_what_the_cap_needs_and_whole_texts_that_fit() {
        assert_eq!(text_prefix("abcdef", 100), "abcdef");
        let long = "A".repeat(1000);
        assert_eq!(
            text_prefix(&long, 30).len(),
            48,
            "40 base64 chars + 8 spare"
        );
        let wrapped = "AAAA\n".repeat(100);
        let kept = text_prefix(&wrapped, 30);
        assert_eq!(
            kept.bytes().filter(|b| !b.is_ascii_whitespace()).count(),
            48
        );
        assert_eq!(text_prefix("é".repeat(10).as_str(), 0), "");
        assert_eq!(
            text_prefix("ééééé", 1).len(),
            10,
            "cut on a character boundary"
        );
    }

    #[test]
    fn stats_count_base64_without_whitespace_or_padding() {
        assert_eq!(
            TextStats::of("QUJD\nRA=="),
            TextStats {
                bytes: 9,
                base64_chars: 6
            }
        );
    }
}
