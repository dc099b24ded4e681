//! Per module@version: the flows that fetched it (module proxy requests, and direct
//! `?go-get=1` discovery and git linked through the go-import tag), the sources tried in order
//! and the one that served it; plus the path predicates `analysis` shares.
//!
//! Pure. Must not diagnose single flows (`diagnose`) or decide what counts as a failure or a
//! leak (`analysis`).

use std::collections::HashMap;

use super::diagnosis::status_text;
use super::discovery::{go_imports, GoImport};
use super::integrity_check::Check;
use crate::flow::{url_host, Flow, GoKind};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleReport {
    pub module: String,
    pub version: Option<String>,
    /// Sources in the order they were tried; one entry per source (its last outcome).
    pub attempts: Vec<Attempt>,
    pub served_by: Option<String>,
    /// Body bytes of the successful responses that fetched it.
    pub bytes: u64,
    /// How the `h1:` hash of its zip (else its go.mod) compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// Proxy base URL, or `direct` (`?go-get=1` discovery and git).
    pub source: String,
    /// `200`, `404 Not Found`, `dns error`; direct attempts say `go-get …` or `git …`.
    pub outcome: String,
    pub flow_id: u64,
}

/// One report per module (and version) the flows fetched or tried, with its source chain;
/// `probes` (from [`discovery_probes`]) are left out.
/// `judged` holds what gomitm found wrong with a flow's answer (a rejected body: HTML, the wrong
/// zip, a hash mismatch) and each hashed flow's check.
pub(super) fn module_reports(
    flows: &[&Flow],
    probes: &[u64],
    judged: &Judged,
) -> Vec<ModuleReport> {
    module_groups(flows, probes)
        .iter()
        .map(|g| report(g, judged))
        .collect()
}

/// Per flow: why its 2xx answer cannot have been accepted, and how its hash compared.
#[derive(Debug, Default)]
pub(super) struct Judged {
    pub rejected: HashMap<u64, String>,
    pub checks: HashMap<u64, Check>,
}

/// The ids of the `?go-get=1` flows that only probed a prefix (`go get a.b/c` also asks for
/// `a.b`, concurrently): a discovery path that is a strict prefix of another import or module
/// path of the run, unless it resolved itself (its answer has a go-import tag covering it;
/// the go command takes a tag whatever the status).
pub(super) fn discovery_probes(flows: &[&Flow]) -> Vec<u64> {
    let paths = PathIndex::new(
        flows
            .iter()
            .filter_map(|f| f.go.as_ref())
            .filter(|g| g.kind == GoKind::Discovery || g.kind.is_module_proxy())
            .filter_map(|g| g.module.as_deref()),
    );
    flows
        .iter()
        .filter(|f| kind(f) == Some(GoKind::Discovery))
        .filter(|f| {
            import_path(f)
                .is_some_and(|path| is_probe(path, &paths) && import_tag(f, path).is_none())
        })
        .map(|f| f.id)
        .collect()
}

fn import_path(f: &Flow) -> Option<&str> {
    f.go.as_ref().and_then(|g| g.module.as_deref())
}

/// The go-import tag of a discovery response that covers `path`.
fn import_tag(f: &Flow, path: &str) -> Option<GoImport> {
    let tags = f.response.as_ref().and_then(go_imports)?;
    tags.into_iter().find(|t| is_path_prefix(&t.prefix, path))
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

pub(super) fn ok(f: &Flow) -> bool {
    f.error.is_none() && f.response.as_ref().is_some_and(|r| r.status / 100 == 2)
}

/// `a/b` is a path prefix of `a/b` and `a/b/c`, not of `a/bc`.
pub(super) fn is_path_prefix(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `go get a.b/c/d` also asks for `a.b/c` and `a.b`: a strict prefix of another module.
pub(super) fn is_probe(module: &str, all: &PathIndex<'_>) -> bool {
    all.has_beneath(module)
}

/// Module and import paths, sorted, for path-prefix questions in O(log n): a capture of
/// 100,000 flows asks them once per module, which a scan of every path made quadratic.
pub(super) struct PathIndex<'a> {
    sorted: Vec<&'a str>,
}

impl<'a> PathIndex<'a> {
    pub(super) fn new(paths: impl IntoIterator<Item = &'a str>) -> PathIndex<'a> {
        let mut sorted: Vec<&str> = paths.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        PathIndex { sorted }
    }

    /// Some path lies strictly beneath `path` (`a/b/c` beneath `a/b`, not `a/bc`).
    pub(super) fn has_beneath(&self, path: &str) -> bool {
        let below = format!("{path}/");
        let at = self.sorted.partition_point(|m| *m < below.as_str());
        self.sorted.get(at).is_some_and(|m| m.starts_with(&below))
    }

    pub(super) fn contains(&self, path: &str) -> bool {
        self.sorted.binary_search(&path).is_ok()
    }

    /// Some path is `path`, an ancestor of it, or beneath it.
    pub(super) fn related(&self, path: &str) -> bool {
        if self.contains(path) || self.has_beneath(path) {
            return true;
        }
        path.match_indices('/')
            .any(|(i, _)| self.contains(&path[..i]))
    }
}

fn group_index(groups: &mut Vec<Group<'_>>, module: &str, version: Option<&str>) -> usize {
    if let Some(i) = groups
        .iter()
        .position(|g| g.module == module && g.version.as_deref() == version)
    {
        return i;
    }
    groups.push(Group::new(module, version));
    groups.len() - 1
}

impl Group<'_> {
    fn new(module: &str, version: Option<&str>) -> Self {
        Group {
            module: module.to_string(),
            version: version.map(str::to_string),
            proxy: Vec::new(),
            direct: Vec::new(),
        }
    }
}

fn module_groups<'a>(flows: &[&'a Flow], probes: &[u64]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    // Looked up per flow: by (module, version), and the versioned groups per module.
    let mut by_key: HashMap<(&'a str, Option<&'a str>), usize> = HashMap::new();
    let mut versions: HashMap<&'a str, Vec<usize>> = HashMap::new();
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
                let version = go.version.as_deref();
                let i = *by_key.entry((module, version)).or_insert_with(|| {
                    groups.push(Group::new(module, version));
                    if version.is_some() {
                        versions.entry(module).or_default().push(groups.len() - 1);
                    }
                    groups.len() - 1
                });
                groups[i].proxy.push(f);
            }
        }
    }
    // list and @latest belong to every version of their module that was fetched.
    for (module, f) in unversioned {
        match versions.get(module) {
            Some(linked) => {
                for &i in linked {
                    groups[i].proxy.push(f);
                }
            }
            None => {
                let i = *by_key.entry((module, None)).or_insert_with(|| {
                    groups.push(Group::new(module, None));
                    groups.len() - 1
                });
                groups[i].proxy.push(f);
            }
        }
    }
    link_direct(&mut groups, flows, probes);
    for g in &mut groups {
        g.proxy.sort_by_key(|f| (f.started_at_us, f.id));
        g.direct.sort_by_key(|f| (f.started_at_us, f.id));
    }
    groups
}

/// Discovery by import path (and the go-import root it names), prefix probes left out; git by
/// the repository the go-import tag named, else by host and path.
fn link_direct<'a>(groups: &mut Vec<Group<'a>>, flows: &[&'a Flow], probes: &[u64]) {
    let mut repos: Vec<(String, String)> = Vec::new();
    for &f in flows
        .iter()
        .filter(|f| kind(f) == Some(GoKind::Discovery) && !probes.contains(&f.id))
    {
        let Some(path) = import_path(f) else {
            continue;
        };
        let tag = import_tag(f, path);
        let root = tag.as_ref().map_or(path, |t| t.prefix.as_str());
        attach(groups, root, f);
        if let Some(t) = &tag {
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

/// To the groups of exactly this path; else of modules beneath it, else of the longest module
/// containing it, that a module proxy was asked for; else a group of its own. (A group of
/// direct flows only is just another import path, and which of them came first is chance.)
fn attach<'a>(groups: &mut Vec<Group<'a>>, path: &str, f: &'a Flow) {
    let pick = |pred: &dyn Fn(&Group) -> bool| -> Vec<usize> {
        (0..groups.len()).filter(|&i| pred(&groups[i])).collect()
    };
    let mut targets = pick(&|g| g.module == path);
    if targets.is_empty() {
        targets = pick(&|g| !g.proxy.is_empty() && is_path_prefix(path, &g.module));
    }
    if targets.is_empty() {
        let longest = groups
            .iter()
            .filter(|g| !g.proxy.is_empty() && is_path_prefix(&g.module, path))
            .map(|g| g.module.len())
            .max();
        targets = pick(&|g| {
            !g.proxy.is_empty()
                && is_path_prefix(&g.module, path)
                && Some(g.module.len()) == longest
        });
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

fn report(g: &Group, judged: &Judged) -> ModuleReport {
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
        upsert(base.clone(), &base, outcome(f, judged), f.id);
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
            format!("{via} {}", outcome(f, judged)),
            f.id,
        );
    }
    let bytes = g
        .proxy
        .iter()
        .chain(&g.direct)
        .filter(|f| ok(f) && !judged.rejected.contains_key(&f.id))
        .map(|f| f.response.as_ref().map_or(0, |r| r.body.total))
        .sum();
    let check = [GoKind::Zip, GoKind::Mod].into_iter().find_map(|k| {
        g.proxy
            .iter()
            .rev()
            .find(|f| kind(f) == Some(k) && judged.checks.contains_key(&f.id))
            .and_then(|f| judged.checks.get(&f.id).cloned())
    });
    ModuleReport {
        module: g.module.clone(),
        version: g.version.clone(),
        attempts: keyed.into_iter().map(|(_, a)| a).collect(),
        served_by: served_by(g, judged),
        bytes,
        check,
    }
}

/// What a source answered; a hop a redirect led to another host (a CDN, a sign-in page) says
/// where, since the source's name is the proxy go asked.
fn outcome(f: &Flow, judged: &Judged) -> String {
    let answer = if let Some(e) = &f.error {
        format!("{} error", e.class.as_str().replace('_', " "))
    } else if let Some(why) = judged.rejected.get(&f.id) {
        format!("{} but {why}", f.response.as_ref().map_or(0, |r| r.status))
    } else {
        match &f.response {
            Some(r) if r.status < 400 => r.status.to_string(),
            Some(r) => status_text(r),
            None => "no answer".into(),
        }
    };
    let asked = f.go.as_ref().and_then(|g| g.base.as_deref()).map(url_host);
    match asked {
        Some(h) if !h.is_empty() && !h.eq_ignore_ascii_case(f.host()) => {
            format!("redirected to {}: {answer}", f.host())
        }
        _ => answer,
    }
}

/// Who delivered the module: the `.zip`, else the `.mod`, else a git fetch, else whatever
/// answered `.info` or the version list. A source whose last `.zip`, `.mod` or git pack was
/// cut mid-body (a 2xx head, then an error) or rejected (the wrong bytes) delivered nothing,
/// whatever else it answered.
fn served_by(g: &Group, judged: &Judged) -> Option<String> {
    let flows: Vec<&Flow> = g.proxy.iter().chain(&g.direct).copied().collect();
    let cut_off = |s: &str| {
        [GoKind::Zip, GoKind::Mod, GoKind::GitUploadPack]
            .into_iter()
            .any(|k| {
                flows
                    .iter()
                    .rev()
                    .find(|f| kind(f) == Some(k) && source(f).as_deref() == Some(s))
                    .is_some_and(|f| cut(f) || judged.rejected.contains_key(&f.id))
            })
    };
    let by = |k: GoKind| {
        flows
            .iter()
            .rev()
            .filter(|f| ok(f) && kind(f) == Some(k) && !judged.rejected.contains_key(&f.id))
            .filter_map(|f| source(f))
            .find(|s| !cut_off(s))
    };
    by(GoKind::Zip)
        .or_else(|| by(GoKind::Mod))
        .or_else(|| by(GoKind::GitUploadPack))
        .or_else(|| by(GoKind::Info))
        .or_else(|| by(GoKind::List))
        .or_else(|| by(GoKind::Latest))
}

/// The proxy base URL of a module proxy request; `direct` for discovery and git.
fn source(f: &Flow) -> Option<String> {
    let go = f.go.as_ref()?;
    if go.kind.is_module_proxy() {
        go.base.clone()
    } else {
        Some("direct".into())
    }
}

/// A 2xx head whose body then failed or never reached its end: the source started to
/// deliver and stopped.
fn cut(f: &Flow) -> bool {
    f.response
        .as_ref()
        .is_some_and(|r| r.status / 100 == 2 && (f.error.is_some() || !r.body.complete))
}

#[cfg(test)]
mod tests {
    use super::{is_path_prefix, PathIndex};

    /// The index answers exactly what a scan of every path answered.
    #[test]
    fn the_path_index_agrees_with_a_scan() {
        let paths = [
            "a.b",
            "a.b/c",
            "a.b/c/d",
            "a.bc",
            "a.b-c/x",
            "x.y/z",
            "x.y/z/v2",
            "g.test/m",
            "g.test/m/sub/deep",
            "h.test",
            "h.test",
        ];
        let index = PathIndex::new(paths);
        let probes = [
            "a",
            "a.b",
            "a.b/c",
            "a.b/c/d",
            "a.b/c/d/e",
            "a.bc",
            "a.b-c",
            "x.y",
            "x.y/z/v2/w",
            "g.test",
            "g.test/m/sub",
            "h.test/q",
            "z.test",
            "",
        ];
        for p in probes {
            let beneath = paths
                .iter()
                .any(|m| m.len() > p.len() && is_path_prefix(p, m));
            let related = paths
                .iter()
                .any(|m| is_path_prefix(m, p) || is_path_prefix(p, m));
            assert_eq!(index.has_beneath(p), beneath, "beneath {p:?}");
            assert_eq!(index.related(p), related, "related {p:?}");
        }
    }
}
