//! The detail view: which flow, tab and scroll ([`Detail`], [`Tab`]), and its content, one flow
//! turned into styled lines per tab (headers, body, timing waterfall, connection, Go
//! classification and diagnosis, rules and error).
//!
//! Pure: a flow (plus the width to wrap at) in, lines out. `view` draws the visible slice;
//! `state` uses the line counts to clamp scrolling and caches the body lines. Decoding bodies
//! belongs to `crate::inspect`, diagnosing to `crate::go::diagnose`; this file only lays out.

use std::sync::Arc;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::config::Config;
use crate::flow::{BodyCapture, Flow, GoKind, GoRequest, Headers, Timings};
use crate::go::diagnose::{diagnose, DiagnoseContext, Os, Severity};

/// Most rows the title (request line) and the result may each take above the tabs; the whole
/// URL and message are in the Headers and Rules & error tabs.
const HEAD_PART_ROWS: usize = 3;
/// Width of the label column in key/value tabs.
const LABEL: usize = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Headers,
    Body,
    Timing,
    Connection,
    Go,
    Rules,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Headers,
        Tab::Body,
        Tab::Timing,
        Tab::Connection,
        Tab::Go,
        Tab::Rules,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Headers => "Headers",
            Tab::Body => "Body",
            Tab::Timing => "Timing",
            Tab::Connection => "Connection",
            Tab::Go => "Go",
            Tab::Rules => "Rules & error",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

/// The detail view of one flow: which tab, how far it is scrolled, and the body tab's lines.
#[derive(Debug, Clone)]
pub struct Detail {
    pub id: u64,
    pub tab: Tab,
    pub scroll: usize,
    /// Body tab lines, built once per flow snapshot (decoding can be expensive).
    pub body: Option<(Arc<Flow>, Vec<Line<'static>>)>,
    /// `/` in the detail view: the text searched for (case-insensitive) in the tab shown.
    pub search: Option<String>,
    /// The content line of the current match (`n`/`N` move it), scrolled into view.
    pub hit: Option<usize>,
}

/// Content lines holding `needle`, case-insensitive.
pub fn matching_lines(lines: &[Line<'_>], needle: &str) -> Vec<usize> {
    let needle = needle.to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| line_text(l).to_lowercase().contains(&needle))
        .map(|(i, _)| i)
        .collect()
}

fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// `line` with every occurrence of `needle` (case-insensitive) drawn in `style`.
pub fn highlight(line: Line<'static>, needle: &str, style: Style) -> Line<'static> {
    let text = line_text(&line);
    let lower = text.to_lowercase();
    let needle = needle.to_lowercase();
    // Lower-casing can change byte lengths (rare scripts): then leave the line as it is.
    if needle.is_empty() || lower.len() != text.len() || !lower.contains(&needle) {
        return line;
    }
    let mut marked = vec![false; text.len()];
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        let at = from + i;
        marked[at..at + needle.len()]
            .iter_mut()
            .for_each(|m| *m = true);
        from = at + needle.len();
    }
    let mut spans = Vec::new();
    let mut at = 0;
    for span in line.spans {
        let content = span.content.as_ref();
        if content.is_empty() {
            continue;
        }
        let mut start = 0;
        for (i, _) in content.char_indices().skip(1).chain([(content.len(), ' ')]) {
            let here = marked[at + start];
            let edge = i == content.len() || marked[at + i] != here;
            if edge {
                let piece = content[start..i].to_string();
                let piece_style = if here {
                    span.style.patch(style)
                } else {
                    span.style
                };
                spans.push(Span::styled(piece, piece_style));
                start = i;
            }
        }
        at += content.len();
    }
    Line::from(spans).style(line.style)
}

/// The lines of `d`'s tab for `flow`, wrapped at `width`.
pub fn content(d: &Detail, flow: &Flow, cfg: &Config, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(20));
    match d.tab {
        Tab::Headers => headers_tab(flow, width),
        Tab::Body => match &d.body {
            Some((_, lines)) => lines.clone(),
            None => body_lines(flow),
        },
        Tab::Timing => waterfall(&flow.timings, width, cfg.read_only()),
        Tab::Connection => connection_tab(flow, cfg.read_only()),
        Tab::Go => go_tab(flow, cfg, width),
        Tab::Rules => rules_tab(flow, width),
    }
}

pub fn content_len(d: &Detail, flow: &Flow, cfg: &Config, width: u16) -> usize {
    match (&d.tab, &d.body) {
        (Tab::Body, Some((_, lines))) => lines.len(),
        _ => content(d, flow, cfg, width).len(),
    }
}

/// The colour of an HTTP status by class.
pub fn status_color(status: u16) -> Color {
    match status {
        200..=299 => Color::Green,
        300..=399 => Color::Cyan,
        400..=499 => Color::Yellow,
        _ => Color::Red,
    }
}

/// The lines above the tabs, wrapped at `width`: the request line (`#id METHOD URL`) and the
/// result (status, size, time; or the error class and message), each at most
/// [`HEAD_PART_ROWS`] rows, the last cut with `…` when there is more.
pub fn head(flow: &Flow, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(10));
    let title = format!("#{} {} {}", flow.id, flow.request.method, flow.request.url);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let (result, style) = match (&flow.error, &flow.response) {
        (Some(e), _) => (
            format!("{}: {}", e.class, e.message),
            Style::new().fg(Color::Red),
        ),
        (None, Some(r)) => (
            format!(
                "{} · {} · {}",
                crate::go::diagnosis::status_text(r),
                crate::units::format_bytes(r.body.total),
                flow.timings
                    .total_ms
                    .map_or_else(|| "in flight".into(), crate::units::format_ms)
            ),
            Style::new().fg(status_color(r.status)),
        ),
        (None, None) if flow.tunnel.is_some() => ("tunnel".into(), Style::new().fg(Color::Blue)),
        (None, None) if flow.is_done() => ("no response".into(), Style::new().fg(Color::DarkGray)),
        (None, None) => (
            "waiting for the response…".into(),
            Style::new().fg(Color::DarkGray),
        ),
    };
    let mut out = capped(&title, width, bold);
    out.extend(capped(&result, width, style));
    out
}

fn capped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    let mut parts = wrap(text, width);
    if parts.len() > HEAD_PART_ROWS {
        parts.truncate(HEAD_PART_ROWS);
        if let Some(last) = parts.last_mut() {
            *last = super::cells::fit_end(&format!("{last}…"), width);
        }
    }
    parts.into_iter().map(|p| Line::styled(p, style)).collect()
}

/// Rows above the content: the [`head`] lines and the tab bar.
pub fn head_rows(flow: &Flow, width: u16) -> u16 {
    head(flow, width).len() as u16 + 1
}

fn heading(text: &str) -> Line<'static> {
    Line::from(Span::styled(
        text.to_string(),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ))
}

fn dim(text: String) -> Line<'static> {
    Line::from(Span::styled(text, Style::new().fg(Color::DarkGray)))
}

/// `label  value`, the value wrapped under itself.
fn field(label: &str, value: &str, width: usize) -> Vec<Line<'static>> {
    let room = width.saturating_sub(LABEL).max(10);
    wrap(value, room)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let label = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{label:<LABEL$}"), Style::new().fg(Color::Cyan)),
                Span::raw(part),
            ])
        })
        .collect()
}

/// Wraps `text` at `width` display cells, preferring spaces. The text is first made safe by
/// the one terminal rule (headers and fields come from the network): a control or bidi
/// override is shown, not obeyed or silently dropped.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    super::cells::wrap(&crate::terminal_text::terminal_safe(text), width)
}

fn header_lines(headers: &Headers, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let name = crate::terminal_text::terminal_safe(name);
        let name_cells = super::cells::width(&name);
        let room = width.saturating_sub(name_cells + 2).max(10);
        for (i, part) in wrap(value, room).into_iter().enumerate() {
            let name = if i == 0 {
                format!("{name}: ")
            } else {
                " ".repeat(name_cells + 2)
            };
            out.push(Line::from(vec![
                Span::styled(name, Style::new().fg(Color::Cyan)),
                Span::raw(part),
            ]));
        }
    }
    out
}

fn headers_tab(flow: &Flow, width: usize) -> Vec<Line<'static>> {
    let req = &flow.request;
    let mut out = vec![heading("Request")];
    out.extend(
        wrap(
            &format!("{} {} {}", req.method, req.url, req.http_version),
            width,
        )
        .into_iter()
        .map(Line::from),
    );
    out.extend(header_lines(&req.headers, width));
    out.push(Line::default());
    out.push(heading("Response"));
    match &flow.response {
        Some(r) => {
            let line = format!("{} {} {}", r.http_version, r.status, r.reason);
            out.push(Line::from(
                crate::terminal_text::terminal_safe(&line).into_owned(),
            ));
            out.extend(header_lines(&r.headers, width));
        }
        None if flow.tunnel.is_some() => out.push(dim("a tunnel: not decrypted, no HTTP".into())),
        None if flow.is_done() => out.push(dim("no response".into())),
        None => out.push(dim("waiting for the response…".into())),
    }
    out
}

/// Request and response bodies, decoded by `inspect`.
pub fn body_lines(flow: &Flow) -> Vec<Line<'static>> {
    let path = url_path(&flow.request.url);
    let mut out = Vec::new();
    let req = &flow.request;
    if req.body.total > 0 || !req.body.data.is_empty() {
        out.push(heading("Request body"));
        out.extend(one_body(&req.headers, &req.body, path, flow.is_done()));
        out.push(Line::default());
    }
    out.push(heading("Response body"));
    match &flow.response {
        Some(r) => out.extend(one_body(&r.headers, &r.body, path, flow.is_done())),
        None => out.push(dim("no response".into())),
    }
    out
}

fn one_body(headers: &Headers, body: &BodyCapture, path: &str, done: bool) -> Vec<Line<'static>> {
    let view = crate::inspect::body_view(headers, body, path);
    let mut out = vec![dim(view.summary)];
    if body.truncated {
        out.push(dim(format!(
            "only the first {} of {} bytes were kept (--max-body-capture)",
            body.data.len(),
            body.total
        )));
    }
    if done && !body.complete {
        out.push(Line::from(Span::styled(
            "the body did not complete: it was cut short".to_string(),
            Style::new().fg(Color::Red),
        )));
    }
    out.extend(view.lines.into_iter().map(Line::from));
    out
}

/// Path of a URL without the query: what `inspect` needs to recognise a module `.zip`.
pub fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("")
}

/// A phase of a request, its colour, and its duration.
pub fn phases(t: &Timings) -> [(&'static str, Color, Option<f64>); 7] {
    const COLOURS: [Color; 7] = [
        Color::DarkGray,
        Color::Cyan,
        Color::Yellow,
        Color::Magenta,
        Color::Blue,
        Color::Green,
        Color::LightRed,
    ];
    let p = t.phases();
    std::array::from_fn(|i| (p[i].0, COLOURS[i], p[i].1))
}

fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

/// Each phase on its own line, placed and sized to one time scale, with its duration.
pub fn waterfall(t: &Timings, width: usize, file: bool) -> Vec<Line<'static>> {
    const NAME: usize = 9;
    const VALUE: usize = 12;
    let bar = width.saturating_sub(NAME + VALUE + 2).max(10);
    let sum: f64 = phases(t).iter().filter_map(|p| p.2).sum();
    let scale = t.total_ms.unwrap_or(0.0).max(sum);
    let mut out = vec![heading("Timing")];
    let mut at = 0.0;
    for (name, color, value) in phases(t) {
        let Some(v) = value else {
            let why = if matches!(name, "dns" | "connect" | "tls") {
                "-  (none: reused connection, or never reached)"
            } else {
                "-"
            };
            out.push(Line::from(vec![
                Span::raw(format!("{name:<NAME$}  ")),
                Span::styled(why.to_string(), Style::new().fg(Color::DarkGray)),
            ]));
            continue;
        };
        let (start, len) = cells(at, v, scale, bar);
        at += v;
        out.push(Line::from(vec![
            Span::raw(format!("{name:<NAME$}  ")),
            Span::raw(" ".repeat(start)),
            Span::styled("█".repeat(len), Style::new().fg(color)),
            Span::raw(" ".repeat(bar - start - len)),
            Span::raw(format!("{:>VALUE$}", ms(v))),
        ]));
    }
    let total = t.total_ms.map_or_else(|| "in flight".to_string(), ms);
    out.push(Line::from(format!(
        "{:<NAME$}  {}{total:>VALUE$}",
        "total",
        " ".repeat(bar)
    )));
    if let Some(c) = t.client_tls_ms {
        out.push(Line::default());
        let who = if file {
            "client's"
        } else {
            "client ↔ gomitm"
        };
        out.push(dim(format!(
            "{who} TLS handshake of this connection: {} (before the request, not in the total)",
            ms(c)
        )));
    }
    out
}

/// Where a phase starting at `at` ms and lasting `v` ms sits on a bar of `width` cells.
fn cells(at: f64, v: f64, scale: f64, width: usize) -> (usize, usize) {
    if scale <= 0.0 {
        return (0, 1.min(width));
    }
    let pos = |ms: f64| ((ms / scale) * width as f64).round() as usize;
    let start = pos(at).min(width.saturating_sub(1));
    let end = pos(at + v).clamp(start + 1, width);
    (start, end - start)
}

/// `file`: a HAR opened read-only, maybe recorded by a browser or another proxy, so the sides
/// are not named after gomitm.
fn connection_tab(flow: &Flow, file: bool) -> Vec<Line<'static>> {
    let c = &flow.connection;
    fn or_dash<S: AsRef<str>>(v: &Option<S>) -> String {
        v.as_ref()
            .map_or_else(|| "-".into(), |s| s.as_ref().to_string())
    }
    let (client_side, server_side) = if file {
        ("Client side", "Server side")
    } else {
        ("Client ↔ gomitm", "gomitm ↔ server")
    };
    let mut out = vec![heading(client_side)];
    let rows: Vec<(&str, String)> = vec![
        ("client", or_dash(&flow.client_addr)),
        ("HTTP", flow.request.http_version.to_string()),
        ("TLS", or_dash(&c.client.client_tls_version)),
        ("ALPN", or_dash(&c.client.client_alpn)),
        ("key exchange", or_dash(&c.client.client_tls_group)),
        ("SNI", or_dash(&c.client.client_sni)),
        (
            "handshake",
            flow.timings.client_tls_ms.map_or_else(|| "-".into(), ms),
        ),
    ];
    out.extend(rows.iter().flat_map(|(k, v)| field(k, v, 200)));
    out.push(Line::default());
    out.push(heading(server_side));
    let server = match (&c.upstream.server_addr, c.upstream_conn_id) {
        (Some(a), Some(id)) => format!("{a}  (connection #{id})"),
        (Some(a), None) => a.to_string(),
        (None, _) => "-".into(),
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("peer", server),
        ("reused", if c.reused { "yes".into() } else { "no".into() }),
        (
            "HTTP",
            flow.response
                .as_ref()
                .map_or_else(|| "-".into(), |r| r.http_version.to_string()),
        ),
        ("TLS", or_dash(&c.upstream.tls_version)),
        ("ALPN", or_dash(&c.upstream.alpn)),
        ("key exchange", or_dash(&c.upstream.tls_group)),
    ];
    if let Some(p) = &c.upstream.via_upstream_proxy {
        rows.push(("via proxy", p.clone()));
    }
    if let Some(cert) = &c.upstream.server_cert {
        rows.push(("cert", cert.describe()));
    }
    if let Some(m) = &flow.mapped_to {
        rows.push(("mapped to", m.clone()));
    }
    if let Some(n) = flow.replay_of {
        rows.push(("replay of", format!("#{n}")));
    }
    if let Some(h) = &flow.client_host {
        rows.push((
            "client Host",
            format!("{h} (differs from the target; upstream got the target's)"),
        ));
    }
    if let Some(r) = c.retried {
        rows.push((
            "retried",
            format!("once, on a fresh connection: {}", r.describe()),
        ));
    }
    if c.upstream.insecure_upstream {
        rows.push((
            "insecure",
            "certificate checks skipped (--insecure-upstream)".into(),
        ));
    }
    if let Some(t) = &flow.tunnel {
        rows.push((
            "tunnel",
            format!("{} up, {} down", t.bytes_up, t.bytes_down),
        ));
    }
    out.extend(rows.iter().flat_map(|(k, v)| field(k, v, 200)));
    out
}

/// The short kind shown in the table: zip, mod, info, list, latest, sumdb, git, discovery,
/// toolchain; `tunnel` for tunnels; empty for other flows.
pub fn kind_label(flow: &Flow) -> &'static str {
    if flow.tunnel.is_some() {
        return "tunnel";
    }
    let Some(go) = &flow.go else {
        return "";
    };
    if go.toolchain {
        return "toolchain";
    }
    match go.kind {
        k if k.is_sumdb() => "sumdb",
        k if k.is_git() => "git",
        GoKind::Discovery => "discovery",
        k => k.as_str(),
    }
}

fn kind_description(kind: GoKind) -> &'static str {
    match kind {
        k if k.is_module_proxy() => "module proxy (GOPROXY protocol)",
        k if k.is_sumdb() => "checksum database (GOSUMDB)",
        k if k.is_git() => "git smart HTTP",
        _ => "import path discovery (?go-get=1)",
    }
}

fn go_tab(flow: &Flow, cfg: &Config, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![heading("Go classification")];
    let Some(go) = &flow.go else {
        out.push(dim("not a request of the Go toolchain's protocols".into()));
        if let Some(tool) = &flow.tool {
            out.extend(field("tool", tool.as_str(), width));
        }
        out.extend(diagnosis_lines(flow, cfg, width));
        return out;
    };
    let kind = format!("{} — {}", go.kind.as_str(), kind_description(go.kind));
    let mut rows: Vec<(&str, String)> = vec![("kind", kind)];
    let opt = [
        ("module", &go.module),
        ("version", &go.version),
        ("base", &go.base),
        ("sumdb", &go.sumdb),
        ("tile", &go.tile),
        ("git protocol", &go.git_protocol),
    ];
    rows.extend(
        opt.iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone()))),
    );
    if let Some(tool) = flow.tool {
        rows.push(("tool", tool.to_string()));
    }
    if go.toolchain {
        rows.push(("toolchain", "a Go toolchain download".into()));
    }
    for (k, v) in &rows {
        out.extend(field(k, v, width));
    }
    if let Some(tags) = &go.go_import {
        if tags.is_empty() {
            out.extend(field("go-import", "none on the page", width));
        }
        for t in tags {
            out.extend(field(
                "go-import",
                &format!("{} {} {}", t.prefix, t.vcs, t.repo),
                width,
            ));
        }
    }
    out.extend(hash_lines(go, width));
    out.extend(diagnosis_lines(flow, cfg, width));
    out
}

/// go's `h1:` hash of a module zip or go.mod as it streamed past, or why there is none.
fn hash_lines(go: &GoRequest, width: usize) -> Vec<Line<'static>> {
    let Some(hash) = &go.hash else {
        return Vec::new();
    };
    let mut out = match (&hash.h1, &hash.not_verified) {
        (Some(h1), _) => field("h1", h1, width),
        (None, Some(reason)) => field("h1", &format!("not verified: {reason}"), width),
        (None, None) => field("h1", "not verified", width),
    };
    if let Some(files) = hash.files {
        out.extend(field("files", &files.to_string(), width));
    }
    if let Some(name) = &hash.outside_prefix {
        let expected = match (&go.module, &go.version) {
            (Some(m), Some(v)) => format!("{m}@{v}/"),
            _ => "module@version/".into(),
        };
        out.extend(field(
            "outside",
            &format!("{name} (not under {expected}: a zip of another module)"),
            width,
        ));
    }
    out
}

fn diagnosis_lines(flow: &Flow, cfg: &Config, width: usize) -> Vec<Line<'static>> {
    let ctx = DiagnoseContext {
        private: &cfg.private,
        os: Os::current(),
        bundle: cfg.bundle.as_deref(),
        go: cfg.go_version,
        goproxy: None,
        goauth: None,
    };
    let mut out = vec![Line::default(), heading("Diagnosis")];
    if !flow.is_done() {
        out.push(dim("in flight".into()));
        return out;
    }
    let Some(d) = diagnose(flow, &ctx) else {
        out.push(dim("no problem found".into()));
        return out;
    };
    let color = match d.severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Info => Color::Blue,
    };
    let severity = format!("{:?}", d.severity).to_lowercase();
    out.push(Line::from(vec![
        Span::styled(format!("{:<LABEL$}", "code"), Style::new().fg(Color::Cyan)),
        Span::styled(format!("{} ({severity})", d.code), Style::new().fg(color)),
    ]));
    out.extend(field("cause", &d.cause, width));
    out.extend(field("fix", &d.fix, width));
    out
}

fn rules_tab(flow: &Flow, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![heading("Rules that fired")];
    if flow.rules.is_empty() {
        out.push(dim("none".into()));
    }
    for (i, r) in flow.rules.iter().enumerate() {
        let line = format!("{}. {r}", i + 1);
        out.push(Line::from(
            crate::terminal_text::terminal_safe(&line).into_owned(),
        ));
    }
    if let Some(m) = &flow.mapped_to {
        out.extend(field("mapped to", m, width));
    }
    if let Some(h) = &flow.client_host {
        out.extend(field("client Host", h, width));
    }
    out.push(Line::default());
    out.push(heading("Error"));
    match &flow.error {
        Some(e) => {
            out.push(Line::from(vec![
                Span::styled(format!("{:<LABEL$}", "class"), Style::new().fg(Color::Cyan)),
                Span::styled(e.class.as_str().to_string(), Style::new().fg(Color::Red)),
            ]));
            out.extend(field("message", &e.message, width));
        }
        None => out.push(dim("none".into())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_place_phases_on_one_scale() {
        assert_eq!(cells(0.0, 50.0, 100.0, 10), (0, 5));
        assert_eq!(cells(50.0, 50.0, 100.0, 10), (5, 5));
        assert_eq!(
            cells(99.0, 0.1, 100.0, 10),
            (9, 1),
            "tiny phases stay visible"
        );
        assert_eq!(cells(0.0, 0.0, 0.0, 10), (0, 1));
    }

    #[test]
    fn url_path_drops_scheme_host_and_query() {
        assert_eq!(url_path("https://h.test/a/@v/v1.zip?x=1"), "/a/@v/v1.zip");
        assert_eq!(url_path("https://h.test"), "");
    }
}
