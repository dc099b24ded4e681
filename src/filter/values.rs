//! Value parsers: the text after `key:` (or after a `~x` alias) → a typed [`Predicate`],
//! with a [`Problem`] that points at the offending char when the value is malformed.
//!
//! One function per key, named after it and listed in the key table (`keys`). Pure; no flow
//! access and no knowledge of operators beyond the chars handed in.

use crate::flow::{ErrorClass, GoKind};

use super::error::Problem;
use super::lexer::{text, Sc};
use super::predicate::{Compare, HeaderTest, KindSel, Op, Predicate, Side, Status};
use super::text::{Glob, Pattern, Text};

/// The chars of a value. `regex` is set by a leading unquoted `~` (already stripped) or by a
/// regex alias such as `~u`; `at` is where the value starts (or would start, when empty).
pub(crate) struct Value<'a> {
    pub chars: &'a [Sc],
    pub regex: bool,
    pub at: usize,
}

impl Value<'_> {
    fn text(&self) -> String {
        text(self.chars)
    }

    /// Input offset of the value's `i`-th char, or just past the value.
    fn pos(&self, i: usize) -> usize {
        match self.chars.get(i) {
            Some(s) => s.pos,
            None => self.chars.last().map_or(self.at, |s| s.pos + 1),
        }
    }

    fn tail(&self, i: usize) -> Value<'_> {
        Value {
            chars: self.chars.get(i..).unwrap_or_default(),
            regex: false,
            at: self.pos(i),
        }
    }
}

const KINDS: [(&str, KindSel); 17] = [
    ("list", KindSel::Exact(GoKind::List)),
    ("info", KindSel::Exact(GoKind::Info)),
    ("mod", KindSel::Exact(GoKind::Mod)),
    ("zip", KindSel::Exact(GoKind::Zip)),
    ("latest", KindSel::Exact(GoKind::Latest)),
    ("proxy", KindSel::Proxy),
    ("sumdb", KindSel::Sumdb),
    ("sumdb_supported", KindSel::Exact(GoKind::SumdbSupported)),
    ("sumdb_lookup", KindSel::Exact(GoKind::SumdbLookup)),
    ("sumdb_tile", KindSel::Exact(GoKind::SumdbTile)),
    ("sumdb_latest", KindSel::Exact(GoKind::SumdbLatest)),
    ("discovery", KindSel::Exact(GoKind::Discovery)),
    ("git", KindSel::Git),
    ("git_refs", KindSel::Exact(GoKind::GitRefs)),
    ("git_upload_pack", KindSel::Exact(GoKind::GitUploadPack)),
    ("git_receive_pack", KindSel::Exact(GoKind::GitReceivePack)),
    ("toolchain", KindSel::Toolchain),
];

/// Kind names accepted by `kind:`, for messages and help.
pub(crate) fn kind_names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|(n, _)| *n)
}

pub(crate) fn host(v: &Value) -> Result<Predicate, Problem> {
    if v.regex {
        return Ok(Predicate::Host(Text::Regex(regex(v, true)?)));
    }
    let allowed = |c: char| c.is_alphanumeric() || "-._*?:[]".contains(c);
    if let Some(bad) = v.chars.iter().find(|s| !allowed(s.c)) {
        return Err(Problem::new(
            bad.pos,
            format!("'{}' cannot appear in a host", bad.c),
            "a host name or glob such as *.corp.example (no scheme, path or port)",
        ));
    }
    Ok(Predicate::Host(Text::Glob(glob(v, true)?)))
}

pub(crate) fn url(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Url(substring(v)?))
}

pub(crate) fn path(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Path(substring(v)?))
}

pub(crate) fn module(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Module(glob_or_regex(v)?))
}

pub(crate) fn version(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Version(glob_or_regex(v)?))
}

pub(crate) fn rule(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Rule(glob_or_regex(v)?))
}

pub(crate) fn method(v: &Value) -> Result<Predicate, Problem> {
    if let Some(bad) = v.chars.iter().find(|s| !s.c.is_ascii_alphabetic()) {
        return Err(Problem::new(
            bad.pos,
            format!("'{}' cannot appear in a method", bad.c),
            "an HTTP method such as GET or POST",
        ));
    }
    Ok(Predicate::Method(v.text().to_ascii_uppercase()))
}

pub(crate) fn tool(v: &Value) -> Result<Predicate, Problem> {
    let name = v.text().to_ascii_lowercase();
    if name != "go" && name != "git" {
        return Err(Problem::new(
            v.at,
            format!("unknown tool '{}'", v.text()),
            "go or git",
        ));
    }
    Ok(Predicate::Tool(name))
}

pub(crate) fn tunnel(_: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Tunnel)
}

pub(crate) fn pending(_: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Pending)
}

pub(crate) fn response(_: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Response)
}

pub(crate) fn error(v: &Value) -> Result<Predicate, Problem> {
    if v.chars.is_empty() {
        return Ok(Predicate::Error(None));
    }
    let word = v.text().to_ascii_lowercase();
    let known = ErrorClass::ALL
        .iter()
        .any(|c| c.as_str() == word || c.as_str().split('_').any(|w| w == word));
    if !known {
        let classes: Vec<&str> = ErrorClass::ALL.iter().map(|c| c.as_str()).collect();
        return Err(Problem::new(
            v.at,
            format!("unknown error class '{}'", v.text()),
            format!(
                "a class ({}) or a word of one (tls, timeout…)",
                classes.join(", ")
            ),
        ));
    }
    Ok(Predicate::Error(Some(word)))
}

pub(crate) fn kind(v: &Value) -> Result<Predicate, Problem> {
    let mut sels = Vec::new();
    let mut offset = 0;
    for part in v.chars.split(|s| s.c == '|') {
        let name = text(part).to_ascii_lowercase();
        let Some((_, sel)) = KINDS.iter().find(|(n, _)| *n == name) else {
            let what = match name.as_str() {
                "" => "empty kind".to_string(),
                _ => format!("unknown kind '{}'", text(part)),
            };
            let names: Vec<&str> = kind_names().collect();
            let expected = format!("one of {}", names.join(", "));
            return Err(Problem::new(v.pos(offset), what, expected));
        };
        if !sels.contains(sel) {
            sels.push(*sel);
        }
        offset += part.len() + 1;
    }
    Ok(Predicate::Kind(sels))
}

pub(crate) fn header(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Header(Side::Either, header_test(v)?))
}

pub(crate) fn reqheader(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Header(Side::Request, header_test(v)?))
}

pub(crate) fn resheader(v: &Value) -> Result<Predicate, Problem> {
    Ok(Predicate::Header(Side::Response, header_test(v)?))
}

/// `NAME`, `NAME=VALUE`, `NAME=~REGEX` or `~REGEX` (over `name: value` lines).
fn header_test(v: &Value) -> Result<HeaderTest, Problem> {
    if v.regex {
        return Ok(HeaderTest::Line(regex(v, true)?));
    }
    // Header names never hold '=', so the first one splits even when quoted:
    // `header:"user-agent=Go http"` is `header:user-agent="Go http"`.
    let eq = v.chars.iter().position(|s| s.c == '=');
    let name_chars = &v.chars[..eq.unwrap_or(v.chars.len())];
    let name_ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let bad = name_chars.iter().find(|s| !name_ok(s.c));
    if let Some(at) = bad.map(|s| s.pos).or(name_chars.is_empty().then_some(v.at)) {
        return Err(Problem::new(
            at,
            "bad header name",
            "a header name, NAME=VALUE, NAME=~REGEX or ~REGEX",
        ));
    }
    let name = text(name_chars).to_ascii_lowercase();
    let Some(eq) = eq else {
        return Ok(HeaderTest::Present(name));
    };
    let rest = v.tail(eq + 1);
    match rest.chars.first() {
        Some(s) if s.c == '~' && !s.quoted => {
            let mut re = rest.tail(1);
            re.regex = true;
            Ok(HeaderTest::Value(name, regex(&re, true)?))
        }
        _ => Ok(HeaderTest::Equals(name, rest.text())),
    }
}

pub(crate) fn status(v: &Value) -> Result<Predicate, Problem> {
    let written = v.text();
    let bytes = written.as_bytes();
    let class = bytes.len() == 3 && (b'1'..=b'9').contains(&bytes[0]);
    if class && bytes[1..].eq_ignore_ascii_case(b"xx") {
        return Ok(Predicate::Status(Status::Class(u16::from(bytes[0] - b'0'))));
    }
    let (op, start) = split_op(v);
    let digits = text(&v.chars[start..]);
    match digits.parse::<u16>() {
        Ok(code) if digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Predicate::Status(Status::Compare(Compare {
                op,
                value: code,
            })))
        }
        _ => Err(Problem::new(
            v.pos(start),
            format!("bad status '{written}'"),
            "a status code (404), a comparison (>=400) or a class (5xx)",
        )),
    }
}

pub(crate) fn size(v: &Value) -> Result<Predicate, Problem> {
    let (op, start) = split_op(v);
    let (number, unit_at) = number(v, start)?;
    let unit = text(&v.chars[unit_at..]);
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(Problem::new(
                v.pos(unit_at),
                format!("unknown size unit '{unit}'"),
                "B, KiB, MiB, GiB, k, m or g",
            ))
        }
    };
    let bytes = (number * scale).round();
    if bytes >= u64::MAX as f64 {
        return Err(Problem::new(
            v.pos(start),
            "size too large",
            "a size below 16 EiB",
        ));
    }
    // In range and non-negative (the number has no sign), so the cast is exact.
    let value = bytes as u64;
    Ok(Predicate::Size(Compare { op, value }))
}

pub(crate) fn duration(v: &Value) -> Result<Predicate, Problem> {
    let (op, start) = split_op(v);
    let (number, unit_at) = number(v, start)?;
    let unit = text(&v.chars[unit_at..]);
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        _ => {
            return Err(Problem::new(
                v.pos(unit_at),
                format!("unknown duration unit '{unit}'"),
                "ms, s or m (minutes)",
            ))
        }
    };
    let value = number * scale;
    if !value.is_finite() {
        return Err(Problem::new(
            v.pos(start),
            "duration too large",
            "a shorter duration",
        ));
    }
    Ok(Predicate::Duration(Compare { op, value }))
}

/// `>=`, `<=`, `>`, `<`, `=`/`==` or nothing (equality); returns the op and where the
/// operand starts.
fn split_op(v: &Value) -> (Op, usize) {
    let c = |i: usize| v.chars.get(i).filter(|s| !s.quoted).map(|s| s.c);
    match (c(0), c(1)) {
        (Some('>'), Some('=')) => (Op::Ge, 2),
        (Some('<'), Some('=')) => (Op::Le, 2),
        (Some('='), Some('=')) => (Op::Eq, 2),
        (Some('>'), _) => (Op::Gt, 1),
        (Some('<'), _) => (Op::Lt, 1),
        (Some('='), _) => (Op::Eq, 1),
        _ => (Op::Eq, 0),
    }
}

/// A non-negative decimal number starting at `start`; returns it and where its unit starts.
fn number(v: &Value, start: usize) -> Result<(f64, usize), Problem> {
    let rest = v.chars.get(start..).unwrap_or_default();
    let len = rest
        .iter()
        .take_while(|s| s.c.is_ascii_digit() || s.c == '.')
        .count();
    let digits = text(&rest[..len]);
    match digits.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok((n, start + len)),
        _ => Err(Problem::new(
            v.pos(start),
            if digits.is_empty() {
                "missing number".to_string()
            } else {
                format!("bad number '{digits}'")
            },
            "a number such as 500 or 1.5 followed by an optional unit",
        )),
    }
}

fn substring(v: &Value) -> Result<Text, Problem> {
    if v.regex {
        return Ok(Text::Regex(regex(v, false)?));
    }
    Ok(Text::Contains(v.text()))
}

fn glob_or_regex(v: &Value) -> Result<Text, Problem> {
    if v.regex {
        return Ok(Text::Regex(regex(v, false)?));
    }
    Ok(Text::Glob(glob(v, false)?))
}

fn glob(v: &Value, ignore_case: bool) -> Result<Glob, Problem> {
    Glob::new(&v.text(), ignore_case)
        .map_err(|_| Problem::new(v.at, "glob too long", "a shorter glob"))
}

fn regex(v: &Value, ignore_case: bool) -> Result<Pattern, Problem> {
    if v.chars.is_empty() {
        return Err(Problem::new(
            v.at,
            "missing regex after '~'",
            "a regular expression",
        ));
    }
    let source = v.text();
    Pattern::new(&source, ignore_case).map_err(|err| match err {
        regex::Error::Syntax(msg) => {
            let (column, reason) = regex_message(&msg, &source);
            Problem::new(
                v.pos(column.unwrap_or(0)),
                format!("bad regex: {reason}"),
                "a valid regular expression (Rust regex syntax)",
            )
        }
        _ => Problem::new(v.at, "regex too big", "a smaller regular expression"),
    })
}

/// Pulls the reason and the char column out of a `regex` syntax error, whose text is the
/// pattern indented by four spaces, a caret line, then `error: <reason>`.
fn regex_message(msg: &str, source: &str) -> (Option<usize>, String) {
    let lines: Vec<&str> = msg.lines().collect();
    let reason = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("invalid syntax")
        .to_string();
    let echoed = lines.get(1).is_some_and(|l| *l == format!("    {source}"));
    let column = lines
        .get(2)
        .filter(|_| echoed)
        .and_then(|l| l.chars().position(|c| c == '^'))
        .and_then(|i| i.checked_sub(4));
    (column, reason)
}
