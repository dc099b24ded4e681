//! The run's verdict, which never contradicts the command: its exit status and go's own error
//! lines, each tied to the flows that explain it (with their diagnosis), to a setting, or said
//! plainly to be unexplained by any request, with what go's words mean.
//!
//! Pure: evidence, failure reports and settings in, a [`Verdict`] out. Per-flow judgement is
//! `diagnose`'s; settings are `policy`'s.

use super::codes::Code;
use super::diagnosis::{Diagnosis, FailureReport, Severity};
use super::evidence::{GoError, GoMessage};
use super::policy::{self, Settings};
use crate::flow::Flow;

/// `a/b` is a path prefix of `a/b` and `a/b/c`, not of `a/bc`.
fn is_path_prefix(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What `gomitm run` knows about the command it watched.
#[derive(Debug, Clone, Default)]
pub struct CommandOutcome {
    /// The command line, redacted, for the first line of the summary.
    pub command: String,
    pub exit_code: i32,
    /// go's error lines (stderr and `-json` stdout).
    pub errors: Vec<GoError>,
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub command: String,
    pub exit_code: i32,
    /// go's failures, collapsed, each with what explains it; empty when the command succeeded.
    pub explanations: Vec<Explanation>,
    /// Flows (ids) tied to go's failures.
    pub failed_requests: Vec<u64>,
    /// When the command succeeded: wrong answers go took as they were (a sign-in page as a
    /// go.mod when nothing checks its hash). The command's status stands; these are the
    /// warnings beside it, because what go cached breaks a later command.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
}

/// A 2xx answer gomitm found wrong that go asked for no other copy of, after a command that
/// succeeded: go kept it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Kept {
    pub flow_id: u64,
    /// `example.test/mod01@v1.0.0's go.mod`.
    pub what: String,
    /// What gomitm found it to be: `an HTML page`.
    pub found: String,
    /// Where go keeps it, under `$GOMODCACHE` (`cache/download/<module>/@v/<version>.mod`);
    /// `None` for a version list, which go does not keep (the cache's `list` is rebuilt from
    /// the versions it downloaded).
    pub cached: Option<String>,
    /// For a go.mod: the go.sum line go writes for it when the main module needs it
    /// (`M V/go.mod`), which then holds the wrong answer's hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum_line: Option<String>,
    pub diagnosis: Diagnosis,
}

impl Verdict {
    pub fn failed(&self) -> bool {
        self.exit_code != 0
    }
}

impl Kept {
    /// The warning every rendering prints under the verdict (the same words).
    pub fn warning(&self) -> String {
        match &self.cached {
            Some(_) => format!(
                "go kept #{}'s answer as {}: {}; the module cache holds it now, and a later command that reads it fails",
                self.flow_id, self.what, self.found
            ),
            None => format!(
                "go took #{}'s answer as {}: {}; it found no version there",
                self.flow_id, self.what, self.found
            ),
        }
    }

    /// The answer's fix, then how to remove what go cached (go never fetches it again while
    /// the cached copy is there).
    pub fn fix(&self) -> String {
        match &self.cached {
            Some(path) => {
                let sum = self.sum_line.as_deref().map_or(String::new(), |l| {
                    format!(", and the line '{l} h1:…' from go.sum if go wrote it there (it holds this answer's hash)")
                });
                format!(
                    "delete $(go env GOMODCACHE)/{path} (or run `go clean -modcache`, which empties the whole module cache){sum}: go does not fetch it again while it is there; then {}",
                    self.diagnosis.fix
                )
            }
            None => self.diagnosis.fix.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Explanation {
    pub error: GoError,
    /// How many times go printed the same failure.
    pub count: usize,
    pub cause: Cause,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Cause {
    /// These flows failed, and this is why.
    Flows {
        flow_ids: Vec<u64>,
        diagnosis: Diagnosis,
    },
    /// A setting explains it.
    Setting { diagnosis: Diagnosis },
    /// No request and no setting: what go's message means (`unexplained`, or `no_request`
    /// when gomitm saw no request at all).
    Unexplained { code: Code, meaning: String },
}

pub fn verdict(outcome: &CommandOutcome, flows: &[&Flow], failures: &[FailureReport]) -> Verdict {
    let mut explanations: Vec<Explanation> = Vec::new();
    if outcome.exit_code != 0 {
        for err in &outcome.errors {
            if let Some(e) = explanations
                .iter_mut()
                .find(|e| same_failure(&e.error, err))
            {
                e.count += 1;
                continue;
            }
            explanations.push(Explanation {
                error: err.clone(),
                count: 1,
                cause: explain(err, outcome, flows, failures),
            });
        }
    }
    let mut failed_requests: Vec<u64> = explanations
        .iter()
        .filter_map(|e| match &e.cause {
            Cause::Flows { flow_ids, .. } => Some(flow_ids.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    failed_requests.sort_unstable();
    failed_requests.dedup();
    Verdict {
        command: outcome.command.clone(),
        exit_code: outcome.exit_code,
        explanations,
        failed_requests,
        kept: Vec::new(),
    }
}

/// `go: M@V: parsing go.mod: …` with no request for that go.mod in this run: go read it from
/// its module cache, where an earlier command left a wrong answer (a sign-in page cached by
/// `go mod download`, which never parses it). No request explains it; the cached file does.
fn broken_cached_go_mod(err: &GoError, flows: &[&Flow]) -> Option<String> {
    if !err.line.contains(": parsing go.mod:") {
        return None;
    }
    let (module, version) = (err.module.as_deref()?, err.version.as_deref()?);
    let fetched = flows.iter().any(|f| {
        f.go.as_deref().is_some_and(|g| {
            g.kind == crate::flow::GoKind::Mod
                && g.module.as_deref() == Some(module)
                && g.version.as_deref() == Some(version)
        })
    });
    (!fetched).then(|| {
        format!(
            "go read {module}@{version}'s go.mod from its module cache (this run asked no server for it) and could not parse it: an earlier command cached a wrong answer there (`go mod download` caches a go.mod without parsing it); delete $(go env GOMODCACHE)/cache/download/{}/@v/{}.mod, and its line in go.sum if there is one, then run the command again",
            super::doctor::escape_path(module),
            super::doctor::escape_path(version)
        )
    })
}

/// Go prints the same failure once per package that needs the module: one entry, counted.
fn same_failure(a: &GoError, b: &GoError) -> bool {
    a.line == b.line
        || (a.kind == b.kind
            && a.kind != GoMessage::Other
            && a.module == b.module
            && a.version == b.version
            && a.url == b.url)
}

fn explain(
    err: &GoError,
    outcome: &CommandOutcome,
    flows: &[&Flow],
    failures: &[FailureReport],
) -> Cause {
    if let Some((ids, d)) =
        tied_failures(err, flows, failures).or_else(|| redirect_loop(err, flows))
    {
        return Cause::Flows {
            flow_ids: ids,
            diagnosis: d,
        };
    }
    if let Some(d) = policy::explain(err, &outcome.settings) {
        return Cause::Setting { diagnosis: d };
    }
    if let Some(meaning) = broken_cached_go_mod(err, flows) {
        return Cause::Unexplained {
            code: Code::Unexplained,
            meaning,
        };
    }
    if flows.is_empty() {
        return Cause::Unexplained {
            code: Code::NoRequest,
            meaning: format!(
                "gomitm saw no request at all: {}",
                policy::no_request_reason(&outcome.settings, &outcome.command, outcome.exit_code)
            ),
        };
    }
    let mut meaning = policy::meaning(err.kind).to_string();
    if meaning.is_empty() {
        meaning =
            "gomitm recorded no request that explains it; go's own message is all there is".into();
    }
    Cause::Unexplained {
        code: Code::Unexplained,
        meaning,
    }
}

/// `stopped after 10 redirects`: the 3xx answers of the loop (each flow is one hop).
fn redirect_loop(err: &GoError, flows: &[&Flow]) -> Option<(Vec<u64>, Diagnosis)> {
    if err.kind != GoMessage::TooManyRedirects {
        return None;
    }
    let hops: Vec<&&Flow> = flows
        .iter()
        .filter(|f| {
            f.response
                .as_ref()
                .is_some_and(|r| (300..400).contains(&r.status))
        })
        .collect();
    let host = hops.first()?.host().to_string();
    Some((
        hops.iter().map(|f| f.id).collect(),
        Diagnosis::new(
            Code::RedirectLoop,
            Severity::Error,
            format!("{host} kept redirecting ({} redirects seen; go stops after 10)", hops.len()),
            format!("the server behind {host} redirects in a circle: report it to its owner, or put a healthy proxy first in GOPROXY"),
        ),
    ))
}

/// The failure reports about the URL go names, else about its module@version (or the GOPROXY
/// entry go names for an invalid response). The latest one's diagnosis speaks for all.
fn tied_failures(
    err: &GoError,
    flows: &[&Flow],
    failures: &[FailureReport],
) -> Option<(Vec<u64>, Diagnosis)> {
    let by_url: Vec<&FailureReport> = err.url.as_deref().map_or_else(Vec::new, |u| {
        failures
            .iter()
            .filter(|f| {
                same_url(&f.url, u)
                    || (err.kind == GoMessage::InvalidResponse
                        && crate::redact::redact_url(&f.url)
                            .starts_with(crate::redact::redact_url(u).trim_end_matches('/')))
            })
            .collect()
    });
    // `invalid response from proxy "https://a.test"` names the proxy, not the file: of the
    // failures under it, those of the module go names speak when there are any.
    let of_named = |f: &&FailureReport| {
        err.module.as_deref().is_some_and(|m| {
            flows.iter().any(|fl| {
                fl.id == f.flow_id
                    && fl.go.as_deref().is_some_and(|g| {
                        g.module.as_deref() == Some(m)
                            && (err.version.is_none() || g.version == err.version)
                    })
            })
        })
    };
    let by_url = if by_url.iter().any(of_named) {
        by_url.into_iter().filter(of_named).collect()
    } else {
        by_url
    };
    let by_module: Vec<&FailureReport> = match (&err.module, by_url.is_empty()) {
        (Some(m), true) => {
            let of_module = |exact: bool| -> Vec<&FailureReport> {
                failures
                    .iter()
                    .filter(|f| {
                        flows.iter().any(|fl| {
                            fl.id == f.flow_id
                                && fl.go.as_deref().is_some_and(|g| {
                                    // go may name a package: it belongs to the module it is
                                    // under.
                                    g.module.as_deref().is_some_and(|gm| {
                                        if exact {
                                            gm == m
                                        } else {
                                            is_path_prefix(gm, m)
                                        }
                                    }) && (err.version.is_none()
                                        || g.version.is_none()
                                        || g.version == err.version)
                                })
                        })
                    })
                    .collect()
            };
            // `go get a/b` probes `a` too: the module go names, when it failed, speaks.
            let exact = of_module(true);
            if exact.is_empty() {
                of_module(false)
            } else {
                exact
            }
        }
        _ => Vec::new(),
    };
    let tied = if !by_url.is_empty() {
        by_url
    } else if !by_module.is_empty() {
        by_module
    } else if err.url.is_none() && err.module.is_none() {
        by_kind(err.kind, flows, failures)
    } else {
        Vec::new()
    };
    // The latest failure speaks for all: go reports its last attempt (Go 1.24+ sends a 4xx
    // again with GOAUTH's credentials, and it is the second answer go prints).
    let at = |id: u64| flows.iter().position(|f| f.id == id);
    // Of one flow's failures, what the answer was speaks before its hash: a sign-in page does
    // not match go.sum because it is a page, not because someone tampered with the module.
    let by_hash = |f: &FailureReport| {
        !matches!(
            f.diagnosis.code,
            Code::ChecksumMismatchGoSum | Code::ChecksumMismatchSumdb
        )
    };
    let speaks = tied.iter().max_by_key(|f| (at(f.flow_id), by_hash(f)))?;
    let mut ids: Vec<u64> = tied.iter().map(|f| f.flow_id).collect();
    ids.sort_unstable();
    // One flow can hold two failures (its answer's diagnosis and its hash's): named once.
    ids.dedup();
    Some((ids, speaks.diagnosis.clone()))
}

/// go names neither a URL nor a module in some lines (`go: zip: not a valid zip file` from
/// `go mod download M@V`): the failures whose diagnosis is a cause of that very message, on
/// the kind of request it is about. Nothing for a message no diagnosis produces.
fn by_kind<'a>(
    kind: GoMessage,
    flows: &[&Flow],
    failures: &'a [FailureReport],
) -> Vec<&'a FailureReport> {
    use crate::flow::GoKind as K;
    let causes = |code: Code, go: K| match kind {
        GoMessage::NotAZip => {
            go == K::Zip && matches!(code, Code::InvalidZip | Code::HtmlInsteadOfData)
        }
        GoMessage::ZipUnexpectedFile => code == Code::ZipWrongModule,
        GoMessage::InvalidResponse => {
            matches!(
                code,
                Code::InvalidInfo | Code::InvalidVersionList | Code::HtmlInsteadOfData
            ) && go.is_module_proxy()
        }
        GoMessage::InfoVersion => code == Code::InfoVersionMismatch,
        GoMessage::ModulePath => matches!(code, Code::ModPathMismatch | Code::InvalidMod),
        GoMessage::MismatchGoSum => code == Code::ChecksumMismatchGoSum,
        GoMessage::MismatchSumdb => code == Code::ChecksumMismatchSumdb,
        GoMessage::BadSumdbAnswer => {
            go.is_sumdb() && matches!(code, Code::InvalidSumdbAnswer | Code::HtmlInsteadOfData)
        }
        _ => false,
    };
    failures
        .iter()
        .filter(|f| f.diagnosis.severity == Severity::Error)
        .filter(|f| {
            flows.iter().any(|fl| {
                fl.id == f.flow_id
                    && fl
                        .go
                        .as_deref()
                        .is_some_and(|g| causes(f.diagnosis.code, g.kind))
            })
        })
        .collect()
}

/// URLs equal up to go 1.19's mangled `https:/host`, a trailing slash and redaction (the
/// flows are redacted copies; go's line is not).
fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        crate::redact::redact_url(s)
            .replacen("https:/", "https://", 1)
            .replacen("https:///", "https://", 1)
            .trim_end_matches('/')
            .to_string()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::FlowBuilder;

    fn outcome(stderr: &str) -> CommandOutcome {
        CommandOutcome {
            command: "go mod download".into(),
            exit_code: 1,
            errors: crate::go::evidence::parse(stderr, ""),
            settings: Settings::default(),
        }
    }

    #[test]
    fn a_failure_no_flow_or_setting_explains_is_said_to_be_unexplained() {
        let ok = FlowBuilder::get("https://p.test/other.test/y/@v/v1.0.0.info")
            .status(200, b"{}")
            .build();
        let o = outcome("go: m.test/x@v1.0.0: reading https://elsewhere.test/m.test/x/@v/v1.0.0.info: 404 Not Found\n");
        let v = verdict(&o, &[&ok], &[]);
        assert!(v.failed() && v.failed_requests.is_empty());
        assert!(
            matches!(&v.explanations[0].cause, Cause::Unexplained { code: Code::Unexplained, meaning } if meaning.contains("did not go through gomitm")),
            "{v:?}"
        );
        let v = verdict(&o, &[], &[]);
        assert!(matches!(
            &v.explanations[0].cause,
            Cause::Unexplained {
                code: Code::NoRequest,
                ..
            }
        ));
    }

    #[test]
    fn the_same_failure_printed_twice_is_one_entry_with_a_count() {
        let line =
            "go: m.test/x@v1.0.0: reading https://p.test/m.test/x/@v/v1.0.0.info: 404 Not Found\n";
        let o = outcome(&format!("{line}go: downloading a v1\n{line}"));
        // evidence already drops a line repeated word for word; a second package's copy differs
        let o2 = CommandOutcome {
            errors: [o.errors.clone(), o.errors.clone()].concat(),
            ..o
        };
        let v = verdict(&o2, &[], &[]);
        assert_eq!(v.explanations.len(), 1);
        assert_eq!(v.explanations[0].count, 2);
    }

    /// A flow with its Go classification, and the error failure report diagnosing it `code`.
    fn failed(id: u64, url: &str, code: Code) -> (Flow, FailureReport) {
        let mut flow = FlowBuilder::get(url)
            .id(id)
            .status(200, b"<html></html>")
            .build();
        flow.go = crate::go::classify("GET", url, &flow.request.headers);
        let report = FailureReport {
            flow_id: id,
            url: url.into(),
            diagnosis: Diagnosis::new(code, Severity::Error, "c".into(), "f".into()),
            repeats: 0,
        };
        (flow, report)
    }

    /// go names the proxy, not the file, in `invalid response from proxy`: the failure of the
    /// module it names speaks, not another module's under the same proxy.
    #[test]
    fn an_invalid_response_is_tied_to_the_module_go_names_under_that_proxy() {
        let (a, ra) = failed(
            1,
            "https://p.test/m.test/a/@v/v1.0.0.info",
            Code::HtmlInsteadOfData,
        );
        let (b, rb) = failed(
            2,
            "https://p.test/m.test/b/@v/v1.0.0.info",
            Code::HtmlInsteadOfData,
        );
        let v = verdict(
            &outcome("go: m.test/a@v1.0.0: invalid response from proxy \"https://p.test\": invalid character '<' looking for beginning of value\n"),
            &[&a, &b],
            &[ra, rb],
        );
        assert_eq!(v.failed_requests, vec![1], "{v:?}");
    }

    /// A sign-in page does not match go.sum because it is a page: the page speaks, not a
    /// security alarm.
    #[test]
    fn a_page_that_also_mismatches_go_sum_is_explained_as_the_page() {
        let url = "https://p.test/m.test/a/@v/v1.0.0.mod";
        let (f, page) = failed(1, url, Code::HtmlInsteadOfData);
        let (_, hash) = failed(1, url, Code::ChecksumMismatchGoSum);
        let v = verdict(
            &outcome("go: m.test/a@v1.0.0: verifying go.mod: checksum mismatch\n"),
            &[&f],
            &[page, hash],
        );
        assert!(
            matches!(&v.explanations[0].cause, Cause::Flows { diagnosis, .. } if diagnosis.code == Code::HtmlInsteadOfData),
            "{v:?}"
        );
    }

    /// A dependency's go.mod go could not parse, with no request for it in this run, is the
    /// module cache's: the meaning names the cached file to delete.
    #[test]
    fn a_cached_go_mod_go_cannot_parse_names_the_cached_file() {
        let o = outcome("go: example.test/Up@v1.0.0: parsing go.mod: missing module line\n");
        let v = verdict(&o, &[], &[]);
        assert!(
            matches!(&v.explanations[0].cause, Cause::Unexplained { code: Code::Unexplained, meaning }
                if meaning.contains("from its module cache")
                    && meaning.contains("cache/download/example.test/!up/@v/v1.0.0.mod")),
            "{v:?}"
        );
        // Fetched in this run: the request is the story, not the cache.
        let (f, r) = failed(
            1,
            "https://p.test/example.test/!up/@v/v1.0.0.mod",
            Code::InvalidMod,
        );
        let v = verdict(&o, &[&f], &[r]);
        assert_eq!(v.failed_requests, vec![1], "{v:?}");
    }

    /// A zip that is an HTML page is also a hash go cannot compute: two failures, one flow,
    /// named once in the verdict.
    #[test]
    fn a_flow_with_two_failures_is_named_once() {
        let zip = "https://p.test/m.test/x/@v/v1.0.0.zip";
        let (zf, html) = failed(3, zip, Code::HtmlInsteadOfData);
        let (_, mut bad) = failed(3, zip, Code::InvalidZip);
        bad.diagnosis.cause = "not a zip".into();
        let v = verdict(
            &outcome("go: m.test/x@v1.0.0: zip: not a valid zip file\n"),
            &[&zf],
            &[html, bad],
        );
        assert!(
            matches!(&v.explanations[0].cause, Cause::Flows { flow_ids, .. } if flow_ids == &[3]),
            "{v:?}"
        );
    }

    #[test]
    fn a_message_naming_no_module_is_tied_to_the_failures_that_cause_that_message() {
        let zip = "https://p.test/m.test/x/@v/v1.0.0.zip";
        let info = "https://p.test/m.test/y/@v/v1.0.0.info";
        let (zf, zr) = failed(3, zip, Code::HtmlInsteadOfData);
        let (inf, inr) = failed(4, info, Code::InvalidInfo);
        let flows = [&zf, &inf];
        let failures = [zr.clone(), inr.clone()];
        let v = verdict(
            &outcome("go: zip: not a valid zip file\n"),
            &flows,
            &failures,
        );
        assert_eq!(v.failed_requests, vec![3], "{v:?}");
        // An HTML page as .info is no cause of a zip message, nor a zip failure of go's
        // complaint about a module path.
        let v = verdict(&outcome("go: zip: not a valid zip file\n"), &[&inf], &[inr]);
        assert!(v.failed_requests.is_empty(), "{v:?}");
        let v = verdict(
            &outcome(
                "go: module declares its path as: a.test/b\n\tbut was required as: c.test/d\n",
            ),
            &[&zf],
            &[zr],
        );
        assert!(v.failed_requests.is_empty(), "{v:?}");
    }

    #[test]
    fn the_latest_attempt_speaks_and_the_module_go_names_before_its_prefixes() {
        let info = "https://p.test/m.test/x/@v/v1.0.0.info";
        // Go 1.24+: a 401 without credentials, then the GOAUTH retry refused with 403.
        let (a, mut ra) = failed(1, info, Code::ProxyAuth);
        let (b, mut rb) = failed(2, info, Code::ProxyAuth);
        ra.diagnosis.cause = "no credentials were sent".into();
        rb.diagnosis.cause = "although credentials were sent".into();
        let o = outcome(&format!(
            "go: m.test/x@v1.0.0: reading {info}: 403 Forbidden\n"
        ));
        let v = verdict(&o, &[&a, &b], &[ra, rb]);
        assert!(
            matches!(&v.explanations[0].cause, Cause::Flows { flow_ids, diagnosis } if flow_ids == &[1, 2] && diagnosis.cause.contains("although")),
            "{v:?}"
        );
        // `go get m.test/x` probed m.test too; go names m.test/x.
        let (p, rp) = failed(
            3,
            "https://p.test/m.test/@v/v1.0.0.info",
            Code::HtmlInsteadOfData,
        );
        let (x, rx) = failed(4, info, Code::HtmlInsteadOfData);
        let o = outcome("go: m.test/x@v1.0.0: invalid response from proxy \"https://other.test\": invalid character '<' looking for beginning of value\n");
        let v = verdict(&o, &[&x, &p], &[rx, rp]);
        assert_eq!(v.failed_requests, vec![4], "{v:?}");
    }

    #[test]
    fn a_succeeding_command_has_nothing_to_explain() {
        let mut o = outcome("go: m.test/x@v1.0.0: reading https://p.test/x: 404 Not Found\n");
        o.exit_code = 0;
        let v = verdict(&o, &[], &[]);
        assert!(!v.failed() && v.explanations.is_empty());
    }
}
