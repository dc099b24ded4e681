//! Predicates: the leaves of a filter — one test of one flow field — with how each matches a
//! [`Flow`], whether it needs the response to be decided, and its canonical text.
//!
//! Pure functions of a flow; never build or change one. Parsing values lives in `values`.

use std::fmt;

use crate::flow::{ErrorClass, Flow, FlowKind, GoKind, Headers};

use super::text::{quote, Pattern, Text};

/// Chars that must be quoted in plain values (they would otherwise read as operators).
pub(crate) const OPS: &[char] = &['&', '|'];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predicate {
    Host(Text),
    Url(Text),
    Path(Text),
    /// Upper-case method name.
    Method(String),
    Status(Status),
    Header(Side, HeaderTest),
    /// `None`: any failure; otherwise a class name or a word of one (`tls`).
    Error(Option<String>),
    /// Response body bytes (tunnels: bytes from the server).
    Size(Compare<u64>),
    /// Total duration in milliseconds.
    Duration(Compare<f64>),
    Kind(Vec<KindSel>),
    Module(Text),
    Version(Text),
    /// Lower-case tool name (`go`, `git`).
    Tool(String),
    Rule(Text),
    Tunnel,
    /// An HTTP flow with neither a response nor an error yet (mitmproxy `~q`).
    Pending,
    /// The flow has a response (mitmproxy `~s`).
    Response,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Either,
    Request,
    Response,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeaderTest {
    /// Lower-case header name.
    Present(String),
    Equals(String, String),
    Value(String, Pattern),
    /// Regex over each `name: value` line.
    Line(Pattern),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Compare<T> {
    pub op: Op,
    pub value: T,
}

impl<T: PartialOrd> Compare<T> {
    pub fn test(&self, actual: T) -> bool {
        match self.op {
            Op::Eq => actual == self.value,
            Op::Lt => actual < self.value,
            Op::Le => actual <= self.value,
            Op::Gt => actual > self.value,
            Op::Ge => actual >= self.value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Status {
    Compare(Compare<u16>),
    /// `4xx`: the hundreds digit.
    Class(u16),
}

/// One alternative of `kind:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KindSel {
    Exact(GoKind),
    /// Any module proxy request (list, info, mod, zip, latest).
    Proxy,
    Sumdb,
    Git,
    Toolchain,
}

impl KindSel {
    pub fn name(self) -> &'static str {
        match self {
            KindSel::Exact(kind) => kind.as_str(),
            KindSel::Proxy => "proxy",
            KindSel::Sumdb => "sumdb",
            KindSel::Git => "git",
            KindSel::Toolchain => "toolchain",
        }
    }

    fn matches(self, go: &crate::flow::GoRequest) -> bool {
        match self {
            KindSel::Exact(kind) => go.kind == kind,
            KindSel::Proxy => go.kind.is_module_proxy(),
            KindSel::Sumdb => go.kind.is_sumdb(),
            KindSel::Git => go.kind.is_git(),
            KindSel::Toolchain => go.toolchain,
        }
    }
}

impl Predicate {
    pub fn matches(&self, flow: &Flow) -> bool {
        let go = flow.go.as_ref();
        match self {
            Predicate::Host(text) => text.matches(flow.host()),
            Predicate::Url(text) => text.matches(&flow.request.url),
            Predicate::Path(text) => text.matches(url_path(&flow.request.url)),
            Predicate::Method(m) => flow.request.method.eq_ignore_ascii_case(m),
            Predicate::Status(s) => flow.response.as_ref().is_some_and(|r| s.test(r.status)),
            Predicate::Header(side, test) => header_sides(flow, *side).any(|h| test.matches(h)),
            Predicate::Error(word) => flow
                .error
                .as_ref()
                .is_some_and(|e| word.as_deref().is_none_or(|w| class_has(e.class, w))),
            Predicate::Size(cmp) => response_size(flow).is_some_and(|n| cmp.test(n)),
            Predicate::Duration(cmp) => flow.timings.total_ms.is_some_and(|ms| cmp.test(ms)),
            Predicate::Kind(sels) => go.is_some_and(|g| sels.iter().any(|s| s.matches(g))),
            Predicate::Module(text) => go
                .and_then(|g| g.module.as_deref())
                .is_some_and(|m| text.matches(m)),
            Predicate::Version(text) => go
                .and_then(|g| g.version.as_deref())
                .is_some_and(|v| text.matches(v)),
            Predicate::Tool(t) => flow
                .tool
                .is_some_and(|x| x.as_str().eq_ignore_ascii_case(t)),
            Predicate::Rule(text) => flow.rules.iter().any(|r| text.matches(r)),
            Predicate::Tunnel => flow.kind == FlowKind::Tunnel,
            Predicate::Pending => {
                flow.kind == FlowKind::Http && flow.response.is_none() && flow.error.is_none()
            }
            Predicate::Response => flow.response.is_some(),
        }
    }

    /// True when the answer can change once the response (or the failure) is known, so a
    /// request-side rule cannot decide it yet.
    pub fn needs_response(&self) -> bool {
        match self {
            Predicate::Host(_)
            | Predicate::Url(_)
            | Predicate::Path(_)
            | Predicate::Method(_)
            | Predicate::Header(Side::Request, _)
            | Predicate::Kind(_)
            | Predicate::Module(_)
            | Predicate::Version(_)
            | Predicate::Tool(_)
            | Predicate::Tunnel
            | Predicate::Pending => false,
            // Response-side rules may still fire, so `rule:` is only final at the end.
            Predicate::Status(_)
            | Predicate::Header(Side::Either | Side::Response, _)
            | Predicate::Error(_)
            | Predicate::Size(_)
            | Predicate::Duration(_)
            | Predicate::Rule(_)
            | Predicate::Response => true,
        }
    }
}

impl Status {
    fn test(&self, status: u16) -> bool {
        match self {
            Status::Compare(cmp) => cmp.test(status),
            Status::Class(hundreds) => status / 100 == *hundreds,
        }
    }
}

impl HeaderTest {
    fn matches(&self, headers: &Headers) -> bool {
        match self {
            HeaderTest::Present(name) => named(headers, name).next().is_some(),
            HeaderTest::Equals(name, want) => {
                named(headers, name).any(|v| v.eq_ignore_ascii_case(want))
            }
            HeaderTest::Value(name, re) => named(headers, name).any(|v| re.matches(v)),
            HeaderTest::Line(re) => headers
                .iter()
                .any(|(n, v)| re.matches(&format!("{n}: {v}"))),
        }
    }
}

/// Values of the headers called `name`, ignoring case.
fn named<'a>(headers: &'a Headers, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn header_sides(flow: &Flow, side: Side) -> impl Iterator<Item = &Headers> {
    let request = (side != Side::Response).then_some(&flow.request.headers);
    let response = match side {
        Side::Request => None,
        _ => flow.response.as_ref().map(|r| &r.headers),
    };
    request.into_iter().chain(response)
}

/// `error:tls` matches `upstream_tls` and `client_tls`; `error:dns` matches `dns`.
fn class_has(class: ErrorClass, word: &str) -> bool {
    let name = class.as_str();
    name == word || name.split('_').any(|part| part == word)
}

fn response_size(flow: &Flow) -> Option<u64> {
    match (&flow.response, &flow.tunnel) {
        (Some(r), _) => Some(r.body.total),
        (None, Some(t)) => Some(t.bytes_down),
        (None, None) => None,
    }
}

/// `https://h:1/p/q?x#f` → `/p/q`; `/` when the URL has no path.
pub(crate) fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let after_authority = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
    let path = after_authority.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Host(t) => write!(f, "host:{}", t.render(OPS)),
            Predicate::Url(t) => write!(f, "url:{}", t.render(&[])),
            Predicate::Path(t) => write!(f, "path:{}", t.render(&[])),
            Predicate::Method(m) => write!(f, "method:{}", quote(m, OPS)),
            Predicate::Status(s) => write!(f, "status:{s}"),
            Predicate::Header(side, test) => write!(f, "{}:{test}", side_key(*side)),
            Predicate::Error(None) => f.write_str("error:"),
            Predicate::Error(Some(w)) => write!(f, "error:{}", quote(w, OPS)),
            Predicate::Size(c) => write!(f, "size:{}{}", c.op.as_str(), render_size(c.value)),
            Predicate::Duration(c) => write!(f, "duration:{}{}", c.op.as_str(), render_ms(c.value)),
            Predicate::Kind(sels) => {
                let names: Vec<&str> = sels.iter().map(|s| s.name()).collect();
                write!(f, "kind:{}", names.join("|"))
            }
            Predicate::Module(t) => write!(f, "module:{}", t.render(OPS)),
            Predicate::Version(t) => write!(f, "version:{}", t.render(OPS)),
            Predicate::Tool(t) => write!(f, "tool:{}", quote(t, OPS)),
            Predicate::Rule(t) => write!(f, "rule:{}", t.render(OPS)),
            Predicate::Tunnel => f.write_str("tunnel"),
            Predicate::Pending => f.write_str("pending"),
            Predicate::Response => f.write_str("response"),
        }
    }
}

fn side_key(side: Side) -> &'static str {
    match side {
        Side::Either => "header",
        Side::Request => "reqheader",
        Side::Response => "resheader",
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Compare(c) => write!(f, "{}{}", c.op.as_str(), c.value),
            Status::Class(h) => write!(f, "{h}xx"),
        }
    }
}

impl fmt::Display for HeaderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderTest::Present(name) => f.write_str(name),
            HeaderTest::Equals(name, v) => write!(f, "{name}={}", quote(v, &[])),
            HeaderTest::Value(name, re) => write!(f, "{name}=~{}", quote(&re.source, &[])),
            HeaderTest::Line(re) => write!(f, "~{}", quote(&re.source, &[])),
        }
    }
}

/// Bytes in the largest binary unit that divides them exactly.
fn render_size(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes != 0 && bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// Whole seconds as `Ns`, everything else in milliseconds; both parse back exactly.
fn render_ms(ms: f64) -> String {
    if ms != 0.0 && ms.fract() == 0.0 && ms % 1000.0 == 0.0 && ms < 1e15 {
        format!("{}s", ms / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_drops_origin_query_and_fragment() {
        for (url, path) in [
            ("https://proxy.golang.org/m/@v/list", "/m/@v/list"),
            ("https://h:8443/p?go-get=1", "/p"),
            ("https://h", "/"),
            ("https://h?x=/y", "/"),
            ("git.test:443", "/"),
            ("http://h/a#b", "/a"),
        ] {
            assert_eq!(url_path(url), path, "{url}");
        }
    }

    #[test]
    fn sizes_and_durations_render_in_exact_units() {
        for (bytes, want) in [
            (0, "0"),
            (1024, "1KiB"),
            (1536, "1536"),
            (3 << 20, "3MiB"),
            (1 << 30, "1GiB"),
        ] {
            assert_eq!(render_size(bytes), want);
        }
        for (ms, want) in [
            (0.0, "0ms"),
            (500.0, "500ms"),
            (2000.0, "2s"),
            (1.5, "1.5ms"),
            (1500.0, "1500ms"),
        ] {
            assert_eq!(render_ms(ms), want);
        }
    }
}
