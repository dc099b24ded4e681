//! Run-level analysis over all flows of a run: private-path leaks, failures with their
//! diagnosis (minus the noise the go command makes on purpose), the slowest requests, totals;
//! gathered into the [`Summary`] printed at the end of `gomitm run` and by `gomitm report`.
//!
//! Pure: flows in, a [`Summary`] out. Per-flow judgement lives in `diagnose`; this file only
//! relates flows to each other (prefix probing, fallbacks, retries). Which sources served each
//! module is `module_report`; the plain text is `summary_text`.

pub use super::module_report::{Attempt, ModuleReport};

use std::collections::{HashMap, HashSet};

use super::codes::Code;
use super::diagnose::{diagnose, suggest_glob};
use super::diagnosis::{DiagnoseContext, Diagnosis, FailureReport, Severity};
use super::evidence::GoMessage;
use super::integrity_check::GoSum;
use super::module_report::{discovery_probes, is_probe, module_reports, ok, Judged, PathIndex};
use super::private::PrivatePatterns;
use super::verdict::{verdict, CommandOutcome, Kept, Verdict};
use crate::flow::{Flow, FlowKind, GoKind};

/// What `gomitm run` adds to the flows: the command's outcome and the go.sum it started with.
/// Both `None` for a capture alone (`gomitm report`), which says only what the flows prove.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunEvidence<'a> {
    pub outcome: Option<&'a CommandOutcome>,
    pub go_sum: Option<&'a GoSum>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// The command's outcome, tied to the flows (only under `gomitm run`).
    pub verdict: Option<Verdict>,
    pub modules: Vec<ModuleReport>,
    pub failures: Vec<FailureReport>,
    pub leaks: Vec<Leak>,
    pub slowest: Vec<SlowRequest>,
    pub totals: Totals,
    /// The private patterns in force, described for the header.
    pub private: String,
    /// Hosts whose certificate chain ends at a locally installed CA, and that CA (one entry
    /// per pair): TLS inspection between gomitm and the servers.
    pub inspected: Vec<(String, String)>,
    /// Under `gomitm run`, when gomitm saw no request at all: the likely reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_request: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leak {
    pub flow_id: u64,
    pub module: String,
    pub host: String,
    pub to_sumdb: bool,
    pub succeeded: bool,
    pub fix: String,
}

impl Leak {
    /// Where the private path went, in words.
    pub fn sent_to(&self) -> &'static str {
        if self.to_sumdb {
            "checksum database"
        } else {
            "module proxy"
        }
    }

    /// How the leaking request ended, in words.
    pub fn outcome(&self) -> &'static str {
        if self.succeeded {
            "it answered OK"
        } else {
            "it failed, but the path was sent"
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlowRequest {
    pub flow_id: u64,
    pub url: String,
    pub ms: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Totals {
    pub requests: usize,
    /// Flows with an error or warning diagnosis that stayed in `failures` (repeats included).
    pub failed: usize,
    pub bytes: u64,
    /// First start → last end.
    pub wall_ms: f64,
    pub modules: usize,
}

pub fn summarize(flows: &[Flow], ctx: &DiagnoseContext, run: RunEvidence) -> Summary {
    let mut ordered: Vec<&Flow> = flows.iter().collect();
    ordered.sort_by_key(|f| (f.started_at_us, f.id));
    let probes = discovery_probes(&ordered);
    let (checks, integrity) = super::integrity_check::check(&ordered, run.go_sum);
    let judged = judge(&ordered, ctx, checks, &integrity);
    let reports = module_reports(&ordered, &probes, &judged);
    let all = PathIndex::new(reports.iter().map(|r| r.module.as_str()));
    let served = PathIndex::new(
        reports
            .iter()
            .filter(|r| r.served_by.is_some())
            .map(|r| r.module.as_str()),
    );
    let mut failures = failure_reports(&ordered, &probes, &all, &served, ctx, &judged.rejected);
    for (id, d) in integrity {
        if let Some(f) = ordered.iter().find(|f| f.id == id) {
            failures.push(FailureReport {
                flow_id: id,
                url: f.request.url.clone(),
                diagnosis: d,
                repeats: 0,
            });
        }
    }
    let mut verdict = run.outcome.map(|o| verdict(o, &ordered, &failures));
    if let Some(v) = verdict.as_mut() {
        v.kept = kept(&ordered, &failures, &judged.rejected, v);
    }
    // A flow's own severity is what it means alone (a 404 go may fall back from, a cut answer
    // it may retry); one that explains go's failure failed the command: an error.
    if let Some(v) = &verdict {
        for f in failures
            .iter_mut()
            .filter(|f| v.failed_requests.contains(&f.flow_id))
        {
            f.diagnosis.severity = Severity::Error;
        }
    }
    // Unserved paths that only probed around a real module are noise, not modules.
    let mut modules: Vec<ModuleReport> = reports
        .iter()
        .filter(|r| {
            r.served_by.is_some() || !(is_probe(&r.module, &all) || near(&r.module, &served))
        })
        .cloned()
        .collect();
    if let Some(v) = &verdict {
        name_versions_go_named(&mut modules, v);
        mark_rejected_by_go(&mut modules, v);
        mark_kept(&mut modules, &ordered, v);
    }
    let failed = failures.iter().map(|f| 1 + f.repeats).sum();
    Summary {
        verdict,
        totals: totals(&ordered, modules.len(), failed),
        modules,
        failures,
        leaks: leaks(&ordered, ctx.private),
        slowest: slowest(&ordered, 5),
        private: ctx.private.describe(),
        inspected: inspected(&ordered),
        no_request: run
            .outcome
            .filter(|_| ordered.is_empty())
            .map(|o| super::policy::no_request_reason(&o.settings, &o.command, o.exit_code)),
    }
}

/// Error and warning diagnoses, minus prefix probes (`probes`: discovery flows, whatever
/// their outcome), not-founds that a later source made good, and failures that a later
/// identical request got past (credentials on the retry).
fn failure_reports(
    flows: &[&Flow],
    probes: &[u64],
    all: &PathIndex<'_>,
    served: &PathIndex<'_>,
    ctx: &DiagnoseContext,
    rejected: &HashMap<u64, String>,
) -> Vec<FailureReport> {
    let probes: HashSet<u64> = probes.iter().copied().collect();
    // The last successful position of each request: a failure retried to success is no failure.
    // A 2xx go could not use (a sign-in page) is no success, and a URL several Go requests
    // were redirected to (one sign-in page for every module) is a request per module.
    fn key(g: &Flow) -> (&str, &str, Option<&str>) {
        (
            g.request.method.as_ref(),
            g.request.url.as_str(),
            g.go.as_deref().and_then(|go| go.module.as_deref()),
        )
    }
    let mut last_ok: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
    for (i, &g) in flows.iter().enumerate() {
        if ok(g) && !rejected.contains_key(&g.id) {
            last_ok.insert(key(g), i);
        }
    }
    let mut out: Vec<FailureReport> = Vec::new();
    // Repeats are the same answer again (Go 1.24+ sends a 4xx twice): the same cause, not
    // only the same URL, which a sign-in page shared by several redirected modules, or a
    // retry that carried GOAUTH's credentials, also has.
    let mut seen: HashMap<(String, Code, String), usize> = HashMap::new();
    for (i, &f) in flows.iter().enumerate() {
        if probes.contains(&f.id) {
            continue;
        }
        let Some(d) = diagnose(f, ctx) else {
            continue;
        };
        if d.severity == Severity::Info
            || d.code == Code::PrivateLeak
            || expected_not_found(f, &d, all, served)
            || last_ok.get(&key(f)).is_some_and(|&j| j > i)
        {
            continue;
        }
        match seen.entry((f.request.url.clone(), d.code, d.cause.clone())) {
            std::collections::hash_map::Entry::Occupied(at) => out[*at.get()].repeats += 1,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(FailureReport {
                    flow_id: f.id,
                    url: f.request.url.clone(),
                    diagnosis: d,
                    repeats: 0,
                });
            }
        }
    }
    out
}

/// The wrong 2xx answers (`rejected`) go asked for no sound copy of afterwards: it took them as
/// they were. `go mod download` does not parse the go.mod it downloads, and with GOSUMDB=off
/// and no go.sum line nothing checks its hash, so a sign-in page lands in the module cache as
/// the go.mod and the command exits 0. go writes a go.mod to the cache before anything parses
/// it, so after a command that failed (for this module or another) a go.mod whose hash go did
/// not refuse is kept too; an info, zip or list that is wrong fails the command instead.
fn kept(
    flows: &[&Flow],
    failures: &[FailureReport],
    rejected: &HashMap<u64, String>,
    v: &Verdict,
) -> Vec<Kept> {
    let hash_refused: HashSet<u64> = failures
        .iter()
        .filter(|f| {
            matches!(
                f.diagnosis.code,
                Code::ChecksumMismatchGoSum | Code::ChecksumMismatchSumdb
            )
        })
        .map(|f| f.flow_id)
        .collect();
    // go's own word that it checked this module's bytes and refused them.
    let go_refused = |module: &str| {
        v.explanations.iter().any(|e| {
            e.error.module.as_deref() == Some(module)
                && (e.error.line.contains(": verifying ")
                    || matches!(
                        e.error.kind,
                        GoMessage::MismatchGoSum | GoMessage::MismatchSumdb
                    ))
        })
    };
    let mut seen: HashSet<u64> = HashSet::new();
    // A capture can hold 100,000 flows (a portal can answer every one): positions and the last
    // sound answer per file are looked up, not scanned for per failure.
    let at: HashMap<u64, usize> = flows.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
    let mut last_sound: HashMap<(GoKind, &str, Option<&str>), usize> = HashMap::new();
    for (i, f) in flows.iter().enumerate() {
        if let Some(go) =
            f.go.as_deref()
                .filter(|_| ok(f) && !rejected.contains_key(&f.id))
        {
            if let Some(m) = go.module.as_deref() {
                last_sound.insert((go.kind, m, go.version.as_deref()), i);
            }
        }
    }
    failures
        .iter()
        .filter_map(|r| {
            let found = rejected.get(&r.flow_id)?;
            if hash_refused.contains(&r.flow_id) || !seen.insert(r.flow_id) {
                return None;
            }
            let i = *at.get(&r.flow_id)?;
            let go = flows[i].go.as_deref()?;
            let module = go.module.as_deref()?;
            if v.failed() && (go.kind != GoKind::Mod || go_refused(module)) {
                return None;
            }
            let file = match go.kind {
                GoKind::Mod => "go.mod",
                GoKind::Info => "version info",
                GoKind::Zip => "zip",
                GoKind::List => "version list",
                _ => return None,
            };
            if last_sound
                .get(&(go.kind, module, go.version.as_deref()))
                .is_some_and(|&j| j > i)
            {
                return None;
            }
            let what = match &go.version {
                Some(v) => format!("{module}@{v}'s {file}"),
                None => format!("{module}'s {file}"),
            };
            let ext = match go.kind {
                GoKind::Mod => Some("mod"),
                GoKind::Info => Some("info"),
                GoKind::Zip => Some("zip"),
                _ => None,
            };
            let cached = ext.zip(go.version.as_deref()).map(|(ext, v)| {
                format!(
                    "cache/download/{}/@v/{}.{ext}",
                    super::doctor::escape_path(module),
                    super::doctor::escape_path(v)
                )
            });
            let sum_line = (go.kind == GoKind::Mod)
                .then_some(go.version.as_deref())
                .flatten()
                .map(|v| format!("{module} {v}/go.mod"));
            Some(Kept {
                flow_id: r.flow_id,
                what,
                found: found.clone(),
                cached,
                sum_line,
                diagnosis: r.diagnosis.clone(),
            })
        })
        .collect()
}

/// Flows whose 2xx answer go cannot have accepted (content or integrity), with a few words.
fn judge(
    flows: &[&Flow],
    ctx: &DiagnoseContext,
    checks: std::collections::HashMap<u64, super::integrity_check::Check>,
    integrity: &[(u64, Diagnosis)],
) -> Judged {
    let mut rejected = std::collections::HashMap::new();
    for f in flows {
        if !ok(f) {
            continue;
        }
        if let Some(d) = diagnose(f, ctx).filter(|d| d.severity == Severity::Error) {
            if let Some(words) = rejected_words(d.code) {
                rejected.insert(f.id, words.to_string());
            }
        }
    }
    // What the answer was (a page) says more than that its hash differs, which follows.
    for (id, d) in integrity {
        rejected
            .entry(*id)
            .or_insert_with(|| rejected_words(d.code).unwrap_or("rejected").to_string());
    }
    Judged { rejected, checks }
}

/// The few words a module's chain shows for a 2xx answer that delivered nothing usable.
fn rejected_words(code: Code) -> Option<&'static str> {
    Some(match code {
        Code::HtmlInsteadOfData => "an HTML page",
        Code::InvalidInfo => "not version info",
        Code::InfoVersionMismatch => "the info of another version",
        Code::InvalidMod => "not a go.mod",
        Code::ModPathMismatch => "the go.mod of another module",
        Code::InvalidZip => "not a zip",
        Code::ZipWrongModule => "the zip of another module",
        Code::InvalidVersionList => "not a version list",
        Code::ChecksumMismatchSumdb | Code::ChecksumMismatchGoSum => "a checksum mismatch",
        _ => return None,
    })
}

/// A module go rejected for what its bytes were (a checksum mismatch, the wrong zip) was not
/// served, whatever answered 200: its chain ends in go's rejection.
fn mark_rejected_by_go(reports: &mut [ModuleReport], v: &Verdict) {
    for e in &v.explanations {
        let words = match e.error.kind {
            GoMessage::MismatchGoSum | GoMessage::MismatchSumdb => "checksum mismatch",
            GoMessage::ZipUnexpectedFile => "zip of another module",
            GoMessage::NotAZip => "not a zip",
            GoMessage::InvalidResponse => "invalid response",
            GoMessage::InfoVersion => "info of another version",
            GoMessage::ModulePath => "go.mod of another module",
            // `M@V: verifying go.mod: …` for any other reason (the checksum database refused,
            // unreachable, not proxied): go did not accept the bytes it had.
            _ if e.error.line.contains(": verifying ") => "could not verify it",
            _ => continue,
        };
        let Some(module) = e.error.module.as_deref() else {
            continue;
        };
        for r in reports.iter_mut().filter(|r| {
            r.module == module && (e.error.version.is_none() || r.version == e.error.version)
        }) {
            let already = r.attempts.iter().any(|a| a.outcome.contains(" but "));
            r.served_by = None;
            if already {
                continue;
            }
            r.attempts.push(Attempt {
                source: "go".into(),
                outcome: format!("rejected: {words}"),
                flow_id: 0,
            });
        }
    }
}

/// Direct fetches (`?go-get=1`, git) carry no version: a module tried only that way takes the
/// version go's failure names for it (`go: corp.test/lib@v1.2.0: unrecognized import path …`).
fn name_versions_go_named(reports: &mut [ModuleReport], v: &Verdict) {
    for e in &v.explanations {
        let (Some(m), Some(ver)) = (e.error.module.as_deref(), e.error.version.as_deref()) else {
            continue;
        };
        // A query (`@latest`, `@master`) is not a version.
        if !(ver.starts_with('v') && ver[1..].starts_with(|c: char| c.is_ascii_digit())) {
            continue;
        }
        if reports.iter().any(|r| r.module == m && r.version.is_some()) {
            continue;
        }
        if let Some(r) = reports
            .iter_mut()
            .find(|r| r.module == m && r.version.is_none())
        {
            r.version = Some(ver.to_string());
        }
    }
}

/// A module whose wrong answer go kept ends its chain with that: it was not served well.
fn mark_kept(reports: &mut [ModuleReport], flows: &[&Flow], v: &Verdict) {
    if v.kept.is_empty() {
        return;
    }
    let by_id: HashMap<u64, &Flow> = flows.iter().map(|f| (f.id, *f)).collect();
    // A version list is not kept in the cache: the module was not left with it.
    for k in v.kept.iter().filter(|k| k.cached.is_some()) {
        let Some(go) = by_id.get(&k.flow_id).and_then(|f| f.go.as_deref()) else {
            continue;
        };
        for r in reports
            .iter_mut()
            .filter(|r| go.module.as_deref() == Some(&r.module) && r.version == go.version)
        {
            r.served_by = None;
            r.attempts.push(Attempt {
                source: "go".into(),
                outcome: format!("{KEPT} #{}: {}", k.flow_id, k.found),
                flow_id: k.flow_id,
            });
        }
    }
}

/// How a module's chain says go kept a wrong answer (`ModuleParts` looks for it).
pub const KEPT: &str = "kept";

fn inspected(flows: &[&Flow]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in flows {
        if let Some(c) = f
            .connection
            .upstream
            .server_cert
            .as_deref()
            .filter(|c| c.is_local_ca())
        {
            let pair = (f.host().to_string(), c.root.clone());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

fn expected_not_found(
    f: &Flow,
    d: &Diagnosis,
    all: &PathIndex<'_>,
    served: &PathIndex<'_>,
) -> bool {
    if !matches!(d.code, Code::ModuleNotFound | Code::DiscoveryNotFound) {
        return false;
    }
    let Some(path) = f.go.as_ref().and_then(|g| g.module.as_deref()) else {
        return false;
    };
    is_probe(path, all) || near(path, served)
}

/// `go get a.b/c/d` asks for every prefix; when one of them is a module that was served, the
/// others were only probing.
fn near(path: &str, served: &PathIndex<'_>) -> bool {
    served.related(path)
}

/// Every request that carried a private path to a module proxy or checksum database, one
/// entry per module, service host and kind — whether or not it succeeded.
fn leaks(flows: &[&Flow], private: &PrivatePatterns) -> Vec<Leak> {
    let mut out: Vec<Leak> = Vec::new();
    for &f in flows {
        let Some(go) = f.go.as_ref().filter(|g| !g.toolchain) else {
            continue;
        };
        let Some(module) = go.module.as_deref() else {
            continue;
        };
        let to_sumdb = match go.kind {
            k if k.is_module_proxy() && private.private_for_proxy(module) => false,
            GoKind::SumdbLookup if private.private_for_sumdb(module) => true,
            _ => continue,
        };
        let host = f.host().to_string();
        let succeeded = ok(f);
        if let Some(l) = out
            .iter_mut()
            .find(|l| l.module == module && l.host == host && l.to_sumdb == to_sumdb)
        {
            l.succeeded |= succeeded;
            continue;
        }
        let glob = suggest_glob(module, private);
        let setting = private.fix(&glob, to_sumdb);
        let fix = if to_sumdb {
            format!("{setting} so the go command never looks the path up in a checksum database")
        } else {
            format!("{setting} so the go command never sends the path to a module proxy")
        };
        out.push(Leak {
            flow_id: f.id,
            module: module.to_string(),
            host,
            to_sumdb,
            succeeded,
            fix,
        });
    }
    out
}

fn slowest(flows: &[&Flow], n: usize) -> Vec<SlowRequest> {
    let mut timed: Vec<SlowRequest> = flows
        .iter()
        .filter(|f| f.kind == FlowKind::Http)
        .filter_map(|f| {
            f.timings.total_ms.map(|ms| SlowRequest {
                flow_id: f.id,
                url: f.request.url.clone(),
                ms,
            })
        })
        .collect();
    timed.sort_by(|a, b| b.ms.total_cmp(&a.ms).then(a.flow_id.cmp(&b.flow_id)));
    timed.truncate(n);
    timed
}

fn totals(flows: &[&Flow], modules: usize, failed: usize) -> Totals {
    let bytes = flows
        .iter()
        .map(|f| {
            f.response.as_ref().map_or(0, |r| r.body.total)
                + f.tunnel.as_ref().map_or(0, |t| t.bytes_down)
        })
        .sum();
    let start = flows.iter().map(|f| f.started_at_us).min().unwrap_or(0);
    let end = flows
        .iter()
        .map(|f| f.started_at_us as f64 + f.timings.total_ms.unwrap_or(0.0) * 1000.0)
        .fold(start as f64, f64::max);
    Totals {
        requests: flows.len(),
        failed,
        bytes,
        wall_ms: (end - start as f64) / 1000.0,
        modules,
    }
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
