//! `Headers`: a recorded header list in wire order, packed into two allocations.
//!
//! Every recorded flow holds two of these, and a store holds 50,000 flows by default: as a
//! `Vec<(String, String)>` a three-header head took seven allocations (the list and a string
//! per name and per value), most of them smaller than the allocator's smallest chunk. Packed,
//! it takes two whatever the count: the text of every name and value back to back, and where
//! each ends. Lists are written once (from a parsed head or an import) and read many times;
//! the rare edit (a replay's header, a redaction) rebuilds the list.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A header list in wire order; names keep the case they had on the wire (h2 is lower-case).
/// Iterating yields `(name, value)` pairs of `&str`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers {
    /// Every name and value, back to back.
    text: Box<str>,
    /// Header `i`'s name ends at `ends[2i]` and its value at `ends[2i + 1]` (byte offsets
    /// into `text`); each starts where the one before it ends.
    ends: Box<[u32]>,
}

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes the list holds off the flow: its text and its offsets.
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + std::mem::size_of_val(&*self.ends)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            headers: self,
            next: 0,
        }
    }

    /// The `i`th header, in wire order.
    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let name_end = *self.ends.get(2 * i)? as usize;
        let value_end = *self.ends.get(2 * i + 1)? as usize;
        let start = match i {
            0 => 0,
            _ => *self.ends.get(2 * i - 1)? as usize,
        };
        // The offsets were taken from `text` as it was built, so they always fall on
        // character boundaries; `get` keeps a broken invariant from ever panicking.
        let name = self.text.get(start..name_end)?;
        let value = self.text.get(name_end..value_end)?;
        Some((name, value))
    }

    /// The first value of `name`, compared case-insensitively.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Append a header (rebuilds the list: for edits, not for recording).
    pub fn push(&mut self, name: &str, value: &str) {
        let mut b =
            Builder::with_capacity(self.len() + 1, self.text.len() + name.len() + value.len());
        for (n, v) in self.iter() {
            b.push(n, v);
        }
        b.push(name, value);
        *self = b.finish();
    }

    /// Keep only the headers `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        if self.iter().all(|(n, v)| keep(n, v)) {
            return;
        }
        *self = self.iter().filter(|(n, v)| keep(n, v)).collect();
    }

    /// Replace the values `change` returns a new one for (a redaction); the list is rebuilt
    /// only when one changes.
    pub fn replace_values(&mut self, mut change: impl FnMut(&str, &str) -> Option<String>) {
        let changed: Vec<Option<String>> = self.iter().map(|(n, v)| change(n, v)).collect();
        if changed.iter().all(Option::is_none) {
            return;
        }
        *self = self
            .iter()
            .zip(changed)
            .map(|((n, v), new)| (n, new.unwrap_or_else(|| v.to_string())))
            .collect();
    }
}

/// Builds a [`Headers`] of a known size with exactly two allocations.
pub struct Builder {
    text: String,
    ends: Vec<u32>,
}

impl Builder {
    /// Room for `count` headers whose names and values add up to `bytes`.
    pub fn with_capacity(count: usize, bytes: usize) -> Builder {
        Builder {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(2 * count),
        }
    }

    /// Append one header. A list whose text would pass 4 GiB (no head gomitm reads comes
    /// near: they are capped far below) drops the headers that do not fit.
    pub fn push(&mut self, name: &str, value: &str) {
        let end_name = self.text.len() + name.len();
        let Ok(name_end) = u32::try_from(end_name) else {
            return;
        };
        let Ok(value_end) = u32::try_from(end_name + value.len()) else {
            return;
        };
        self.text.push_str(name);
        self.text.push_str(value);
        self.ends.push(name_end);
        self.ends.push(value_end);
    }

    pub fn finish(self) -> Headers {
        Headers {
            text: self.text.into_boxed_str(),
            ends: self.ends.into_boxed_slice(),
        }
    }
}

pub struct Iter<'a> {
    headers: &'a Headers,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let h = self.headers.get(self.next)?;
        self.next += 1;
        Some(h)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.headers.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        let pairs: Vec<(N, V)> = iter.into_iter().collect();
        let bytes = pairs
            .iter()
            .map(|(n, v)| n.as_ref().len() + v.as_ref().len())
            .sum();
        let mut b = Builder::with_capacity(pairs.len(), bytes);
        for (n, v) in &pairs {
            b.push(n.as_ref(), v.as_ref());
        }
        b.finish()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> From<Vec<(N, V)>> for Headers {
    fn from(pairs: Vec<(N, V)>) -> Headers {
        pairs.into_iter().collect()
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// As a list of `[name, value]` pairs: what the `Vec<(String, String)>` it replaced wrote,
/// so JSON lines and saved sessions read the same both ways.
impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Headers, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_case_and_empty_names_and_values() {
        let h: Headers = vec![("Host", "a.test"), ("", ""), ("X-É", "ü"), ("host", "b")].into();
        assert_eq!(h.len(), 4);
        let all: Vec<(&str, &str)> = h.iter().collect();
        assert_eq!(
            all,
            [("Host", "a.test"), ("", ""), ("X-É", "ü"), ("host", "b")]
        );
        assert_eq!(h.value("HOST"), Some("a.test"));
        assert_eq!(
            h.value("x-é"),
            None,
            "case folding is ASCII only, as HTTP's"
        );
        assert_eq!(h.get(4), None);
        assert!(Headers::new().is_empty());
        assert_eq!(Headers::new().iter().next(), None);
    }

    #[test]
    fn edits_rebuild_the_list() {
        let mut h: Headers = vec![("a", "1"), ("b", "2"), ("a", "3")].into();
        h.push("c", "4");
        h.retain(|n, _| n != "a");
        assert_eq!(h.iter().collect::<Vec<_>>(), [("b", "2"), ("c", "4")]);
        h.replace_values(|n, v| (n == "c").then(|| format!("{v}{v}")));
        assert_eq!(h.iter().collect::<Vec<_>>(), [("b", "2"), ("c", "44")]);
        let before = h.clone();
        h.replace_values(|_, _| None);
        assert_eq!(h, before);
    }

    #[test]
    fn serializes_as_the_list_of_pairs_it_replaced() {
        let h: Headers = vec![("Host", "a.test"), ("X", "\"q\"")].into();
        let json = serde_json::to_string(&h).expect("serialize");
        let old: Vec<(String, String)> = vec![
            ("Host".into(), "a.test".into()),
            ("X".into(), "\"q\"".into()),
        ];
        assert_eq!(json, serde_json::to_string(&old).expect("serialize"));
        let back: Headers = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, h);
        assert_eq!(format!("{h:?}"), r#"[("Host", "a.test"), ("X", "\"q\"")]"#);
    }
}
