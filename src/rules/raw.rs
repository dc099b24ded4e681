//! The serde shape of a rules file, exactly as written: every value keeps its byte span so
//! that `build` can point errors at a line and column.
//!
//! Only shapes and types are checked here (unknown keys, wrong types, missing `name`); what the
//! values mean (filters, regexes, URLs, sizes, files) is checked in `build`.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub name: Spanned<String>,
    #[serde(rename = "match")]
    pub matcher: Option<Spanned<String>>,
    pub request: Option<RawHeaderOps>,
    pub response: Option<RawHeaderOps>,
    pub map_remote: Option<Spanned<String>>,
    pub map_local: Option<Spanned<String>>,
    pub respond: Option<Spanned<RawRespond>>,
    pub block: Option<Spanned<RawBlock>>,
    pub delay: Option<Spanned<RawDelay>>,
    pub throttle: Option<Spanned<Amount>>,
    pub reset: Option<Spanned<Amount>>,
    pub hang: Option<Spanned<bool>>,
    pub dns_fail: Option<Spanned<bool>>,
    pub refuse: Option<Spanned<bool>>,
    pub no_intercept: Option<Spanned<bool>>,
    pub ignore: Option<Spanned<bool>>,
}

/// `request.*` / `response.*` header operations.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeaderOps {
    pub set_header: Option<HeaderList>,
    pub add_header: Option<HeaderList>,
    pub remove_header: Option<Vec<Spanned<String>>>,
    pub replace_header: Option<Vec<RawReplace>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplace {
    pub name: Spanned<String>,
    pub pattern: Spanned<String>,
    #[serde(default)]
    pub with: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRespond {
    pub status: Option<Spanned<i64>>,
    pub headers: Option<HeaderList>,
    pub body: Option<String>,
    pub body_file: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBlockTable {
    pub status: Option<Spanned<i64>>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelay {
    pub request_ms: Option<u64>,
    pub response_ms: Option<u64>,
}

/// `block = true` or `block = { status = …, reason = … }`.
#[derive(Debug)]
pub(super) enum RawBlock {
    Flag(bool),
    Table(RawBlockTable),
}

impl<'de> Deserialize<'de> for RawBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBlock;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or a table { status = 403, reason = \"…\" }")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawBlock, E> {
                Ok(RawBlock::Flag(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawBlock, A::Error> {
                let table = RawBlockTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawBlock::Table(table))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number or a string with a unit: `1000`, `"1KiB"`, `"1MiB/s"`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Amount {
    Int(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string with a unit (\"1KiB\", \"1MiB/s\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount::Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A table of header names to values, in the order written: `{ "X-Debug" = "1" }`.
#[derive(Debug, Default)]
pub(super) struct HeaderList(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of header names to values, e.g. { \"X-Debug\" = \"1\" }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut list = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    list.push(entry);
                }
                Ok(HeaderList(list))
            }
        }
        d.deserialize_map(V)
    }
}
