//! Run-level analysis over all flows of a run: which sources were tried per module@version
//! and which one served it, private-path leaks, failures with their diagnosis (minus the
//! noise the go command makes on purpose), the slowest requests, totals; and the plain-text
//! summary printed at the end of `gomitm run` and by `gomitm report`.
//!
//! Pure: flows in, a [`Summary`] out. Per-flow judgement lives in `diagnose`; this file only
//! relates flows to each other (prefix probing, fallbacks, retries, discovery → git).

use super::diagnose::{
    diagnose, go_imports, status_text, suggest_glob, DiagnoseContext, Diagnosis, Severity,
};
use super::private::PrivatePatterns;
use crate::flow::{url_host, Flow, FlowKind, GoKind};
use crate::log::{format_bytes, format_ms};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub modules: Vec<ModuleReport>,
    pub failures: Vec<FailureReport>,
    pub leaks: Vec<Leak>,
    pub slowest: Vec<SlowRequest>,
    pub totals: Totals,
    /// The private patterns in force, described for the header.
    pub private: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleReport {
    pub module: String,
    pub version: Option<String>,
    /// Sources in the order they were tried; one entry per source (its last outcome).
    pub attempts: Vec<Attempt>,
    pub served_by: Option<String>,
    /// Body bytes of the successful responses that fetched it.
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// Proxy base URL, or `direct` (`?go-get=1` discovery and git).
    pub source: String,
    /// `200`, `404 Not Found`, `dns error`; direct attempts say `go-get …` or `git …`.
    pub outcome: String,
    pub flow_id: u64,
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureReport {
    pub flow_id: u64,
    pub url: String,
    pub diagnosis: Diagnosis,
    /// Further flows with the same URL and diagnosis (Go 1.24+ sends every 4xx twice).
    pub repeats: usize,
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

pub fn summarize(flows: &[Flow], ctx: &DiagnoseContext) -> Summary {
    let mut ordered: Vec<&Flow> = flows.iter().collect();
    ordered.sort_by_key(|f| (f.started_at_us, f.id));
    let groups = module_groups(&ordered);
    let all: Vec<&str> = groups.iter().map(|g| g.module.as_str()).collect();
    let reports: Vec<ModuleReport> = groups.iter().map(report).collect();
    let served: Vec<&str> = reports
        .iter()
        .filter(|r| r.served_by.is_some())
        .map(|r| r.module.as_str())
        .collect();
    let failures = failure_reports(&ordered, &all, &served, ctx);
    // Unserved paths that only probed around a real module are noise, not modules.
    let modules: Vec<ModuleReport> = reports
        .iter()
        .filter(|r| {
            r.served_by.is_some() || !(is_probe(&r.module, &all) || near(&r.module, &served))
        })
        .cloned()
        .collect();
    let failed = failures.iter().map(|f| 1 + f.repeats).sum();
    Summary {
        totals: totals(&ordered, modules.len(), failed),
        modules,
        failures,
        leaks: leaks(&ordered, ctx.private),
        slowest: slowest(&ordered, 5),
        private: ctx.private.describe(),
    }
}

/// The flows that concern one module (and version, when the request named one).
struct Group<'a> {
    module: String,
    version: Option<String>,
    proxy: Vec<&'a Flow>,
    direct: Vec<&'a Flow>,
}

fn kind(f: &Flow) -> Option<GoKind> {
    f.go.as_ref().map(|g| g.kind)
}

fn ok(f: &Flow) -> bool {
    f.error.is_none() && f.response.as_ref().is_some_and(|r| r.status / 100 == 2)
}

/// `a/b` is a path prefix of `a/b` and `a/b/c`, not of `a/bc`.
fn is_path_prefix(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `go get a.b/c/d` also asks for `a.b/c` and `a.b`: a strict prefix of another module.
fn is_probe(module: &str, all: &[&str]) -> bool {
    all.iter()
        .any(|m| m.len() > module.len() && is_path_prefix(module, m))
}

fn group_index(groups: &mut Vec<Group<'_>>, module: &str, version: Option<&str>) -> usize {
    if let Some(i) = groups
        .iter()
        .position(|g| g.module == module && g.version.as_deref() == version)
    {
        return i;
    }
    groups.push(Group {
        module: module.to_string(),
        version: version.map(str::to_string),
        proxy: Vec::new(),
        direct: Vec::new(),
    });
    groups.len() - 1
}

fn module_groups<'a>(flows: &[&'a Flow]) -> Vec<Group<'a>> {
    let mut groups = Vec::new();
    let mut unversioned = Vec::new();
    for &f in flows {
        let Some(go) = f.go.as_ref().filter(|g| g.kind.is_module_proxy()) else {
            continue;
        };
        let Some(module) = go.module.as_deref() else {
            continue;
        };
        match go.kind {
            GoKind::List | GoKind::Latest => unversioned.push((module, f)),
            _ => {
                let i = group_index(&mut groups, module, go.version.as_deref());
                groups[i].proxy.push(f);
            }
        }
    }
    // list and @latest belong to every version of their module that was fetched.
    for (module, f) in unversioned {
        let mut linked = false;
        for g in groups
            .iter_mut()
            .filter(|g| g.module == module && g.version.is_some())
        {
            g.proxy.push(f);
            linked = true;
        }
        if !linked {
            let i = group_index(&mut groups, module, None);
            groups[i].proxy.push(f);
        }
    }
    link_direct(&mut groups, flows);
    for g in &mut groups {
        g.proxy.sort_by_key(|f| (f.started_at_us, f.id));
        g.direct.sort_by_key(|f| (f.started_at_us, f.id));
    }
    groups
}

/// Discovery by import path (and the go-import root it names); git by the repository the
/// go-import tag named, else by host and path.
fn link_direct<'a>(groups: &mut Vec<Group<'a>>, flows: &[&'a Flow]) {
    let mut repos: Vec<(String, String)> = Vec::new();
    for &f in flows.iter().filter(|f| kind(f) == Some(GoKind::Discovery)) {
        let Some(path) = f.go.as_ref().and_then(|g| g.module.as_deref()) else {
            continue;
        };
        let tags = f.response.as_ref().and_then(go_imports).unwrap_or_default();
        let tag = tags.iter().find(|t| is_path_prefix(&t.prefix, path));
        let root = tag.map_or(path, |t| t.prefix.as_str());
        attach(groups, root, f);
        if let Some(t) = tag {
            repos.push((normalize_repo(&t.repo), root.to_string()));
        }
    }
    for &f in flows.iter().filter(|f| kind(f).is_some_and(GoKind::is_git)) {
        let Some(base) = f.go.as_ref().and_then(|g| g.base.as_deref()) else {
            continue;
        };
        let repo = normalize_repo(base);
        let module = repos
            .iter()
            .find(|(r, _)| *r == repo)
            .map_or(repo.clone(), |(_, m)| m.clone());
        attach(groups, &module, f);
    }
}

/// To the groups of exactly this path; else of modules beneath it; else of the longest module
/// containing it; else a group of its own.
fn attach<'a>(groups: &mut Vec<Group<'a>>, path: &str, f: &'a Flow) {
    let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<usize> {
        (0..groups.len())
            .filter(|&i| pred(&groups[i].module))
            .collect()
    };
    let mut targets = pick(&|m| m == path);
    if targets.is_empty() {
        targets = pick(&|m| m != path && is_path_prefix(path, m));
    }
    if targets.is_empty() {
        let longest = groups
            .iter()
            .filter(|g| is_path_prefix(&g.module, path))
            .map(|g| g.module.len())
            .max();
        targets = pick(&|m| is_path_prefix(m, path) && Some(m.len()) == longest);
    }
    if targets.is_empty() {
        targets.push(group_index(groups, path, None));
    }
    for i in targets {
        groups[i].direct.push(f);
    }
}

/// `https://git.test/team/hello.git/` → `git.test/team/hello`.
fn normalize_repo(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if path.is_empty() {
        url_host(url).to_string()
    } else {
        format!("{}/{path}", url_host(url))
    }
}

fn report(g: &Group) -> ModuleReport {
    let mut keyed: Vec<(String, Attempt)> = Vec::new();
    let mut upsert = |key: String, source: &str, outcome: String, flow_id: u64| {
        let attempt = Attempt {
            source: source.to_string(),
            outcome,
            flow_id,
        };
        match keyed.iter_mut().find(|(k, _)| *k == key) {
            Some((_, a)) => *a = attempt,
            None => keyed.push((key, attempt)),
        }
    };
    for f in &g.proxy {
        let base =
            f.go.as_ref()
                .and_then(|go| go.base.clone())
                .unwrap_or_default();
        upsert(base.clone(), &base, outcome(f), f.id);
    }
    for f in &g.direct {
        let via = if kind(f) == Some(GoKind::Discovery) {
            "go-get"
        } else {
            "git"
        };
        upsert(
            format!("direct {via}"),
            "direct",
            format!("{via} {}", outcome(f)),
            f.id,
        );
    }
    let bytes = g
        .proxy
        .iter()
        .chain(&g.direct)
        .filter(|f| ok(f))
        .map(|f| f.response.as_ref().map_or(0, |r| r.body.total))
        .sum();
    ModuleReport {
        module: g.module.clone(),
        version: g.version.clone(),
        attempts: keyed.into_iter().map(|(_, a)| a).collect(),
        served_by: served_by(g),
        bytes,
    }
}

fn outcome(f: &Flow) -> String {
    if let Some(e) = &f.error {
        return format!("{} error", e.class.as_str().replace('_', " "));
    }
    match &f.response {
        Some(r) if r.status < 400 => r.status.to_string(),
        Some(r) => status_text(r),
        None => "no answer".into(),
    }
}

/// Who delivered the module: the `.zip`, else the `.mod`, else a git fetch, else whatever
/// answered `.info` or the version list.
fn served_by(g: &Group) -> Option<String> {
    let by = |k: GoKind| {
        g.proxy
            .iter()
            .rev()
            .find(|f| ok(f) && kind(f) == Some(k))
            .and_then(|f| f.go.as_ref().and_then(|go| go.base.clone()))
    };
    let git = || {
        g.direct
            .iter()
            .any(|f| ok(f) && kind(f) == Some(GoKind::GitUploadPack))
            .then(|| "direct".to_string())
    };
    by(GoKind::Zip)
        .or_else(|| by(GoKind::Mod))
        .or_else(git)
        .or_else(|| by(GoKind::Info))
        .or_else(|| by(GoKind::List))
        .or_else(|| by(GoKind::Latest))
}

/// Error and warning diagnoses, minus prefix probes, not-founds that a later source made
/// good, and failures that a later identical request got past (credentials on the retry).
fn failure_reports(
    flows: &[&Flow],
    all: &[&str],
    served: &[&str],
    ctx: &DiagnoseContext,
) -> Vec<FailureReport> {
    let mut out: Vec<FailureReport> = Vec::new();
    for (i, &f) in flows.iter().enumerate() {
        let Some(d) = diagnose(f, ctx) else {
            continue;
        };
        if d.severity == Severity::Info
            || d.code == "private_leak"
            || expected_not_found(f, &d, all, served)
            || flows[i + 1..].iter().any(|g| same_request(f, g) && ok(g))
        {
            continue;
        }
        match out
            .iter_mut()
            .find(|r| r.url == f.request.url && r.diagnosis.code == d.code)
        {
            Some(r) => r.repeats += 1,
            None => out.push(FailureReport {
                flow_id: f.id,
                url: f.request.url.clone(),
                diagnosis: d,
                repeats: 0,
            }),
        }
    }
    out
}

fn same_request(a: &Flow, b: &Flow) -> bool {
    a.request.method == b.request.method && a.request.url == b.request.url
}

fn expected_not_found(f: &Flow, d: &Diagnosis, all: &[&str], served: &[&str]) -> bool {
    if !matches!(d.code, "module_not_found" | "discovery_not_found") {
        return false;
    }
    let Some(path) = f.go.as_ref().and_then(|g| g.module.as_deref()) else {
        return false;
    };
    is_probe(path, all) || near(path, served)
}

/// `go get a.b/c/d` asks for every prefix; when one of them is a module that was served, the
/// others were only probing.
fn near(path: &str, served: &[&str]) -> bool {
    served
        .iter()
        .any(|m| is_path_prefix(m, path) || is_path_prefix(path, m))
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
        let fix = if to_sumdb {
            format!("GOPRIVATE={glob} (or GONOSUMDB={glob}) so the go command never looks the path up in a checksum database")
        } else {
            format!("GOPRIVATE={glob} (or GONOPROXY={glob}) so the go command never sends the path to a module proxy")
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

impl Summary {
    /// Plain text for a terminal (stderr): header, leaks first, then modules, failures and
    /// the slowest requests. No colours: it may be piped or pasted into an issue.
    pub fn render(&self) -> String {
        let t = &self.totals;
        let mut lines = vec![
            format!(
                "gomitm: {} requests, {} modules, {} failed, {} in {}",
                t.requests,
                t.modules,
                t.failed,
                format_bytes(t.bytes),
                format_ms(t.wall_ms)
            ),
            format!("private module patterns: {}", self.private),
        ];
        if !self.leaks.is_empty() {
            lines.push(String::new());
            lines.extend(self.leak_lines());
        }
        if !self.modules.is_empty() {
            lines.push(String::new());
            lines.push(format!("Modules ({}):", self.modules.len()));
            lines.extend(self.modules.iter().map(module_line));
        }
        if !self.failures.is_empty() {
            lines.push(String::new());
            lines.push(format!("Failures ({}):", self.failures.len()));
            lines.extend(self.failures.iter().flat_map(failure_lines));
        }
        if !self.slowest.is_empty() {
            lines.push(String::new());
            lines.push("Slowest requests:".into());
            lines.extend(
                self.slowest
                    .iter()
                    .map(|s| format!("  {:>7}  #{} {}", format_ms(s.ms), s.flow_id, s.url)),
            );
        }
        lines.join("\n") + "\n"
    }

    fn leak_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "!! PRIVATE-PATH LEAKS ({}): private module paths were sent to a module proxy or checksum database",
            self.leaks.len()
        )];
        for l in &self.leaks {
            let to = if l.to_sumdb {
                "checksum database"
            } else {
                "module proxy"
            };
            let result = if l.succeeded {
                "it answered OK"
            } else {
                "it failed, but the path was sent"
            };
            lines.push(format!(
                "!! LEAK #{} {} → {to} {} ({result})",
                l.flow_id, l.module, l.host
            ));
            lines.push(format!("!!      fix: {}", l.fix));
        }
        lines
    }
}

fn short_source(source: &str) -> &str {
    source.split_once("://").map_or(source, |(_, r)| r)
}

fn module_line(m: &ModuleReport) -> String {
    let name = match &m.version {
        Some(v) => format!("{}@{v}", m.module),
        None => m.module.clone(),
    };
    let served = match &m.served_by {
        Some(s) => format!("served by {}", short_source(s)),
        None => "NOT SERVED".into(),
    };
    let mut line = format!("  {name}  {served}");
    if m.attempts.len() > 1 || m.served_by.is_none() {
        let chain: Vec<String> = m
            .attempts
            .iter()
            .map(|a| format!("{} {}", short_source(&a.source), a.outcome))
            .collect();
        line.push_str(&format!("  [chain: {}]", chain.join(" → ")));
    }
    if m.bytes > 0 {
        line.push_str(&format!("  {}", format_bytes(m.bytes)));
    }
    line
}

fn failure_lines(f: &FailureReport) -> [String; 3] {
    let d = &f.diagnosis;
    let repeats = if f.repeats > 0 {
        format!(" (×{})", f.repeats + 1)
    } else {
        String::new()
    };
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    [
        format!("  #{} {severity} {}: {}{repeats}", f.flow_id, d.code, f.url),
        format!("      {}", d.cause),
        format!("      fix: {}", d.fix),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;
    use crate::flow::Timings;
    use crate::go::diagnose::Os;

    /// Flow `id`, started `id` ms into the run and lasting `id * 10` ms, classified.
    fn f(id: u64, method: &str, url: &str, status: u16, body: &[u8]) -> Flow {
        let mut flow = FlowBuilder::get(url)
            .id(id)
            .method(method)
            .status(status, body)
            .timings(Timings {
                total_ms: Some(id as f64 * 10.0),
                ..Timings::default()
            })
            .build();
        flow.started_at_us += id as i64 * 1000;
        flow.go = crate::go::classify(&flow.request.method, &flow.request.url, &vec![]);
        flow
    }

    fn get(id: u64, url: &str, status: u16) -> Flow {
        f(id, "GET", url, status, b"")
    }

    fn sum(flows: &[Flow], private: &str) -> Summary {
        let private = PrivatePatterns::from_globs(private);
        summarize(
            flows,
            &DiagnoseContext {
                private: &private,
                os: Os::Linux,
            },
        )
    }

    #[test]
    fn fallback_chain_names_the_source_that_served() {
        let m = "example.org/hello/@v/v1.0.0";
        let flows = [
            get(1, &format!("https://a.test/{m}.info"), 404),
            get(2, &format!("https://b.test/{m}.info"), 200),
            get(3, &format!("https://a.test/{m}.mod"), 404),
            get(4, &format!("https://b.test/{m}.mod"), 200),
            f(
                5,
                "GET",
                &format!("https://b.test/{m}.zip"),
                200,
                &[0; 2048],
            ),
        ];
        let s = sum(&flows, "");
        assert_eq!(s.modules.len(), 1);
        let r = &s.modules[0];
        assert_eq!(
            (r.module.as_str(), r.version.as_deref()),
            ("example.org/hello", Some("v1.0.0"))
        );
        assert_eq!(r.served_by.as_deref(), Some("https://b.test"));
        let chain: Vec<(&str, &str)> = r
            .attempts
            .iter()
            .map(|a| (a.source.as_str(), a.outcome.as_str()))
            .collect();
        assert_eq!(
            chain,
            [
                ("https://a.test", "404 Not Found"),
                ("https://b.test", "200")
            ]
        );
        assert!(
            s.failures.is_empty(),
            "a 404 that fell back is not a failure"
        );
        assert_eq!(s.totals.failed, 0);
        let text = s.render();
        assert!(
            text.contains("example.org/hello@v1.0.0  served by b.test  [chain: a.test 404 Not Found → b.test 200]"),
            "{text}"
        );
        assert!(
            text.starts_with("gomitm: 5 requests, 1 modules, 0 failed"),
            "{text}"
        );
    }

    #[test]
    fn direct_fetch_links_discovery_and_git_to_the_module() {
        let meta = b"<head><meta name=\"go-import\" content=\"corp.example/lib git https://git.corp.example/team/lib.git\"></head>";
        let repo = "https://git.corp.example/team/lib.git";
        let flows = [
            get(
                1,
                "https://proxy.golang.org/corp.example/lib/@v/v1.0.0.info",
                404,
            ),
            f(2, "GET", "https://corp.example/lib/pkg?go-get=1", 200, meta),
            get(3, &format!("{repo}/info/refs?service=git-upload-pack"), 401),
            get(4, &format!("{repo}/info/refs?service=git-upload-pack"), 200),
            f(5, "POST", &format!("{repo}/git-upload-pack"), 200, b"pack"),
            get(
                6,
                "https://unrelated.test/other/info/refs?service=git-upload-pack",
                200,
            ),
        ];
        let s = sum(&flows, "");
        let r = &s.modules[0];
        assert_eq!(r.module, "corp.example/lib");
        assert_eq!(r.served_by.as_deref(), Some("direct"));
        let chain: Vec<String> = r
            .attempts
            .iter()
            .map(|a| format!("{} {}", a.source, a.outcome))
            .collect();
        assert_eq!(
            chain,
            [
                "https://proxy.golang.org 404 Not Found",
                "direct go-get 200",
                "direct git 200"
            ]
        );
        assert_eq!(r.attempts[2].flow_id, 5);
        // The unrelated repository is a module of its own, not part of corp.example/lib.
        assert_eq!(s.modules.len(), 2);
        assert_eq!(s.modules[1].module, "unrelated.test/other");
        // git's first 401 was answered on the retry with credentials: no failure.
        assert!(s.failures.is_empty(), "{:?}", s.failures);
    }

    #[test]
    fn private_paths_sent_to_proxy_or_sumdb_are_leaks_even_when_they_succeed() {
        let m = "corp.example/secret";
        let flows = [
            get(
                1,
                &format!("https://proxy.golang.org/{m}/@v/v1.0.0.info"),
                200,
            ),
            get(
                2,
                &format!("https://proxy.golang.org/{m}/@v/v1.0.0.mod"),
                200,
            ),
            get(3, &format!("https://sum.golang.org/lookup/{m}@v1.0.0"), 410),
            get(
                4,
                "https://proxy.golang.org/example.org/pub/@v/v1.0.0.info",
                200,
            ),
        ];
        let s = sum(&flows, "corp.example");
        assert_eq!(s.leaks.len(), 2, "{:?}", s.leaks);
        let (proxy, sumdb) = (&s.leaks[0], &s.leaks[1]);
        assert_eq!(
            (proxy.flow_id, proxy.to_sumdb, proxy.succeeded),
            (1, false, true)
        );
        assert_eq!(proxy.host, "proxy.golang.org");
        assert!(proxy.fix.contains("GOPRIVATE=corp.example") && proxy.fix.contains("GONOPROXY"));
        assert_eq!((sumdb.to_sumdb, sumdb.succeeded), (true, false));
        assert!(sumdb.fix.contains("GONOSUMDB=corp.example"));
        assert!(sum(&flows, "").leaks.is_empty(), "no patterns, no leaks");

        let text = s.render();
        let leak = text
            .find("!! LEAK #1 corp.example/secret")
            .unwrap_or(usize::MAX);
        let modules = text.find("Modules (").unwrap_or(0);
        assert!(leak < modules, "leaks come first:\n{text}");
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains("corp.example")),
            "{text}"
        );
    }

    #[test]
    fn prefix_probe_404s_are_noise_but_a_real_404_is_a_failure() {
        let flows = [
            get(
                1,
                "https://proxy.golang.org/example.org/hello/@v/v1.0.0.info",
                200,
            ),
            get(
                2,
                "https://proxy.golang.org/example.org/@v/v1.0.0.info",
                404,
            ),
            get(
                3,
                "https://proxy.golang.org/example.org/hello/@v/v1.0.0.zip",
                200,
            ),
            get(
                4,
                "https://proxy.golang.org/missing.test/m/@v/v9.9.9.info",
                404,
            ),
            get(
                5,
                "https://proxy.golang.org/missing.test/m/@v/v9.9.9.info",
                404,
            ),
            get(
                6,
                "https://proxy.golang.org/missing.test/@v/v9.9.9.info",
                404,
            ),
            get(
                7,
                "https://proxy.golang.org/example.org/hello/sub/@v/v1.0.0.info",
                404,
            ),
        ];
        let s = sum(&flows, "");
        let names: Vec<&str> = s.modules.iter().map(|m| m.module.as_str()).collect();
        assert_eq!(names, ["example.org/hello", "missing.test/m"]);
        assert_eq!(s.failures.len(), 1, "{:?}", s.failures);
        let fail = &s.failures[0];
        assert_eq!((fail.flow_id, fail.repeats), (4, 1), "Go 1.24+ asks twice");
        assert_eq!(fail.diagnosis.code, "module_not_found");
        assert_eq!(s.totals.failed, 2);
        assert_eq!(s.totals.requests, 7);
        let text = s.render();
        assert!(text.contains("missing.test/m@v9.9.9  NOT SERVED"), "{text}");
        assert!(text.contains("#4 warning module_not_found"), "{text}");
        assert!(!text.contains("PRIVATE-PATH"), "{text}");
    }

    #[test]
    fn totals_and_slowest() {
        let mut flows: Vec<Flow> = (1..=7)
            .map(|id| {
                get(
                    id,
                    &format!("https://p.test/x.test/m{id}/@v/v1.0.0.mod"),
                    200,
                )
            })
            .collect();
        if let Some(r) = flows[0].response.as_mut() {
            r.body.total = 1000;
        }
        let s = sum(&flows, "");
        assert_eq!(s.totals.requests, 7);
        assert_eq!(s.totals.bytes, 1000);
        // Flow 1 starts at 1 ms; flow 7 starts at 7 ms and lasts 70 ms.
        assert!(
            (s.totals.wall_ms - 76.0).abs() < 1e-9,
            "{}",
            s.totals.wall_ms
        );
        let ids: Vec<u64> = s.slowest.iter().map(|r| r.flow_id).collect();
        assert_eq!(ids, [7, 6, 5, 4, 3]);
        assert!(s
            .render()
            .contains("Slowest requests:\n     70ms  #7 https://p.test/"));
    }
}
