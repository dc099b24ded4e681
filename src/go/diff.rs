//! Two captures of the same download side by side (`gomitm diff A.har B.har`): "works on my
//! machine" made concrete. Modules are aligned by module@version (the summary's own
//! `ModuleReport`s: which source served each, the chain tried), requests by module@version and
//! request kind (`.info`, `.mod`, `.zip`, list, checksum lookup, discovery, git…); for each
//! side, the sources asked, the answers, the bytes and the slowest phase. Where the time went
//! is summed per phase for each capture.
//!
//! Pure: flows in (already classified and redacted by the caller), a [`CaptureDiff`] out, and
//! its text lines (the caller makes them terminal-safe and fits them to the screen).

use std::collections::BTreeMap;

use serde::Serialize;

use super::analysis::{summarize, RunEvidence, Totals};
use super::diagnosis::DiagnoseContext;
use super::module_report::ModuleReport;
use crate::flow::{url_host, Flow, Timings};
use crate::units::{format_bytes, format_ms};

/// Rows of each section shown in text unless every row is asked for.
pub const ROWS_SHOWN: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct CaptureDiff {
    pub a: Capture,
    pub b: Capture,
    pub modules: Vec<ModuleRow>,
    pub requests: Vec<RequestRow>,
}

/// One capture's totals and where its time went.
#[derive(Debug, Clone, Serialize)]
pub struct Capture {
    pub name: String,
    pub totals: Totals,
    /// Milliseconds per phase over all its flows, largest first (phases that took no time are
    /// left out).
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub name: &'static str,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleRow {
    pub module: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub a: Option<ModuleSide>,
    pub b: Option<ModuleSide>,
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleSide {
    pub served_by: Option<String>,
    /// The sources in the order tried with their last answer: `a.test 404 → b.test 200`.
    pub chain: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    pub module: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub kind: &'static str,
    pub a: Option<RequestSide>,
    pub b: Option<RequestSide>,
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestSide {
    pub requests: usize,
    /// Hosts asked, in order, each once.
    pub sources: Vec<String>,
    /// Each request's answer in order: `200`, `404`, `dns`, `200 cut (upstream_reset)`.
    pub answers: Vec<String>,
    pub bytes: u64,
    /// The longest single phase of these requests.
    pub slowest: Option<Phase>,
}

impl RequestSide {
    /// What must be equal for two sides to be "the same": not the timings, which always differ.
    fn same_as(&self, other: &RequestSide) -> bool {
        self.sources == other.sources && self.answers == other.answers && self.bytes == other.bytes
    }
}

/// Compare capture `a` with capture `b`.
pub fn diff(a: (&str, &[Flow]), b: (&str, &[Flow]), ctx: &DiagnoseContext) -> CaptureDiff {
    let (sa, sb) = (
        summarize(a.1, ctx, RunEvidence::default()),
        summarize(b.1, ctx, RunEvidence::default()),
    );
    CaptureDiff {
        a: capture(a.0, sa.totals.clone(), a.1),
        b: capture(b.0, sb.totals.clone(), b.1),
        modules: module_rows(&sa.modules, &sb.modules),
        requests: request_rows(a.1, b.1),
    }
}

fn capture(name: &str, totals: Totals, flows: &[Flow]) -> Capture {
    let mut sums: BTreeMap<&'static str, f64> = BTreeMap::new();
    for f in flows {
        for p in phases(&f.timings) {
            *sums.entry(p.name).or_default() += p.ms;
        }
    }
    let mut phases: Vec<Phase> = sums
        .into_iter()
        .filter(|(_, ms)| *ms > 0.0)
        .map(|(name, ms)| Phase { name, ms })
        .collect();
    phases.sort_by(|x, y| y.ms.total_cmp(&x.ms));
    Capture {
        name: name.to_string(),
        totals,
        phases,
    }
}

fn phases(t: &Timings) -> Vec<Phase> {
    t.phases()
        .into_iter()
        .filter_map(|(name, ms)| ms.map(|ms| Phase { name, ms }))
        .collect()
}

type ModuleKey = (String, Option<String>);

fn module_rows(a: &[ModuleReport], b: &[ModuleReport]) -> Vec<ModuleRow> {
    let mut rows: BTreeMap<ModuleKey, (Option<ModuleSide>, Option<ModuleSide>)> = BTreeMap::new();
    for (report, is_a) in a
        .iter()
        .map(|r| (r, true))
        .chain(b.iter().map(|r| (r, false)))
    {
        let side = ModuleSide {
            served_by: report.served_by.clone(),
            chain: report
                .attempts
                .iter()
                .map(|t| format!("{} {}", t.source, t.outcome))
                .collect::<Vec<_>>()
                .join(" → "),
            bytes: report.bytes,
        };
        let row = rows
            .entry((report.module.clone(), report.version.clone()))
            .or_default();
        if is_a {
            row.0 = Some(side);
        } else {
            row.1 = Some(side);
        }
    }
    rows.into_iter()
        .map(|((module, version), (a, b))| ModuleRow {
            differs: a != b,
            module,
            version,
            a,
            b,
        })
        .collect()
}

type RequestKey = (String, Option<String>, &'static str);

fn request_rows(a: &[Flow], b: &[Flow]) -> Vec<RequestRow> {
    let (ga, gb) = (group(a), group(b));
    let mut keys: Vec<&RequestKey> = ga.keys().chain(gb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let sa = ga.get(key).map(|flows| side(flows));
            let sb = gb.get(key).map(|flows| side(flows));
            let differs = match (&sa, &sb) {
                (Some(x), Some(y)) => !x.same_as(y),
                _ => true,
            };
            RequestRow {
                module: key.0.clone(),
                version: key.1.clone(),
                kind: key.2,
                a: sa,
                b: sb,
                differs,
            }
        })
        .collect()
}

/// The Go requests of a capture by module@version and kind, each group in recorded order.
fn group(flows: &[Flow]) -> BTreeMap<RequestKey, Vec<&Flow>> {
    let mut ordered: Vec<&Flow> = flows.iter().collect();
    ordered.sort_by_key(|f| (f.started_at_us, f.id));
    let mut groups: BTreeMap<RequestKey, Vec<&Flow>> = BTreeMap::new();
    for f in ordered {
        let Some(go) = &f.go else { continue };
        let module = match (&go.module, &go.tile) {
            (Some(m), _) => m.clone(),
            // Tiles belong to no module: one row for all of them.
            (None, Some(_)) => "(checksum database tiles)".to_string(),
            (None, None) => continue,
        };
        groups
            .entry((module, go.version.clone(), go.kind.as_str()))
            .or_default()
            .push(f);
    }
    groups
}

fn side(flows: &[&Flow]) -> RequestSide {
    let mut sources: Vec<String> = Vec::new();
    for f in flows {
        let host = url_host(&f.request.url).to_string();
        if !sources.contains(&host) {
            sources.push(host);
        }
    }
    let slowest = flows
        .iter()
        .flat_map(|f| phases(&f.timings))
        .max_by(|x, y| x.ms.total_cmp(&y.ms));
    RequestSide {
        requests: flows.len(),
        sources,
        answers: flows.iter().map(|f| answer(f)).collect(),
        bytes: flows
            .iter()
            .filter_map(|f| f.response.as_ref())
            .map(|r| r.body.total)
            .sum(),
        slowest,
    }
}

fn answer(f: &Flow) -> String {
    match (&f.response, &f.error) {
        (Some(r), None) => r.status.to_string(),
        // The client leaving after the head is the client's doing, not the answer (Go 1.24+
        // cancels the first of its two 4xx requests once the head is read).
        (Some(r), Some(e)) if e.class == crate::flow::ErrorClass::ClientAbort => {
            r.status.to_string()
        }
        (Some(r), Some(e)) => format!("{} cut ({})", r.status, class_name(e.class)),
        (None, Some(e)) => class_name(e.class),
        (None, None) => "no answer".to_string(),
    }
}

fn class_name(class: crate::flow::ErrorClass) -> String {
    serde_json::to_value(class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{class:?}"))
}

impl CaptureDiff {
    /// The text, one line per element (not yet terminal-safe or fitted to a width). `all`
    /// lists every row, the same ones too; otherwise the differing rows, [`ROWS_SHOWN`] per
    /// section.
    pub fn lines(&self, all: bool) -> Vec<String> {
        let mut out = vec![
            format!("A = {}", totals_line(&self.a)),
            format!("B = {}", totals_line(&self.b)),
        ];
        let shown_modules: Vec<&ModuleRow> =
            self.modules.iter().filter(|r| all || r.differs).collect();
        let shown_requests: Vec<&RequestRow> =
            self.requests.iter().filter(|r| all || r.differs).collect();
        if shown_modules.is_empty() && shown_requests.is_empty() {
            out.push(String::new());
            out.push(
                "No difference: the same modules from the same sources, with the same answers \
                 and sizes (timings aside)."
                    .to_string(),
            );
        }
        let limit = if all { usize::MAX } else { ROWS_SHOWN };
        if !shown_modules.is_empty() {
            out.push(String::new());
            let differ = self.modules.iter().filter(|r| r.differs).count();
            out.push(format!(
                "Modules ({differ} of {} differ):",
                self.modules.len()
            ));
            for row in shown_modules.iter().take(limit) {
                out.push(format!("  {}", at(&row.module, row.version.as_deref())));
                out.push(format!("    A: {}", module_side(row.a.as_ref())));
                out.push(format!("    B: {}", module_side(row.b.as_ref())));
            }
            more(&mut out, shown_modules.len(), limit);
        }
        if !shown_requests.is_empty() {
            out.push(String::new());
            let differ = self.requests.iter().filter(|r| r.differs).count();
            out.push(format!(
                "Requests by module and kind ({differ} of {} differ):",
                self.requests.len()
            ));
            for row in shown_requests.iter().take(limit) {
                out.push(format!(
                    "  {} {}",
                    at(&row.module, row.version.as_deref()),
                    row.kind
                ));
                out.push(format!("    A: {}", request_side(row.a.as_ref())));
                out.push(format!("    B: {}", request_side(row.b.as_ref())));
            }
            more(&mut out, shown_requests.len(), limit);
        }
        out.push(String::new());
        out.push("Where the time went (summed over each capture's requests):".to_string());
        out.push(format!("  A: {}", phases_line(&self.a.phases)));
        out.push(format!("  B: {}", phases_line(&self.b.phases)));
        out
    }
}

fn more(out: &mut Vec<String>, shown: usize, limit: usize) {
    if shown > limit {
        out.push(format!(
            "  … and {} more (--all lists them, --json too)",
            shown - limit
        ));
    }
}

fn at(module: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{module}@{v}"),
        None => module.to_string(),
    }
}

fn totals_line(c: &Capture) -> String {
    let t = &c.totals;
    let n = |count: usize, one: &str| {
        if count == 1 {
            format!("1 {one}")
        } else {
            format!("{count} {one}s")
        }
    };
    format!(
        "{}: {}, {}, {} failed, {} in {}",
        c.name,
        n(t.requests, "request"),
        n(t.modules, "module"),
        t.failed,
        format_bytes(t.bytes),
        format_ms(t.wall_ms)
    )
}

fn module_side(side: Option<&ModuleSide>) -> String {
    match side {
        None => "not fetched".to_string(),
        Some(s) => {
            let served = match &s.served_by {
                Some(by) => format!("served by {by}, {}", format_bytes(s.bytes)),
                None => "NOT SERVED".to_string(),
            };
            format!("{served}  [{}]", s.chain)
        }
    }
}

fn request_side(side: Option<&RequestSide>) -> String {
    match side {
        None => "not requested".to_string(),
        Some(s) => {
            let mut text = format!("{} → {}", s.sources.join(", "), runs(&s.answers));
            text.push_str(&format!(", {}", format_bytes(s.bytes)));
            if let Some(p) = &s.slowest {
                text.push_str(&format!(", slowest {} {}", p.name, format_ms(p.ms)));
            }
            text
        }
    }
}

/// `404, 404, 200` as `404 ×2, 200`.
fn runs(answers: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < answers.len() {
        let n = answers[i..]
            .iter()
            .take_while(|a| **a == answers[i])
            .count();
        out.push(if n > 1 {
            format!("{} ×{n}", answers[i])
        } else {
            answers[i].clone()
        });
        i += n;
    }
    out.join(", ")
}

fn phases_line(phases: &[Phase]) -> String {
    if phases.is_empty() {
        return "no timings".to_string();
    }
    phases
        .iter()
        .take(4)
        .map(|p| format!("{} {}", p.name, format_ms(p.ms)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
