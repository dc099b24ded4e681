//! The plain-text rendering of a [`Summary`] for a terminal: header, leaks first, then
//! modules, failures and the slowest requests.
//!
//! Pure formatting of data `analysis` already computed; must not compute or filter anything.
//! Every line passes through the one terminal rule (`terminal_safe`) as it is joined: URLs,
//! module paths, hosts, go's lines and error messages come from the network or a HAR file, and
//! only the renderer's own newlines end a line. Callers summarise redacted flows
//! (`redact::redact_flow`); every line is also passed through `redact_text` as it is joined,
//! for what comes from elsewhere (go's output, settings).

use super::analysis::{ModuleReport, Summary};
use super::codes::Code;
use super::diagnosis::{Diagnosis, FailureReport, Severity};
use super::integrity_check::Check;
use super::verdict::{Cause, Verdict};
use crate::redact::{redact_text, redact_url};
use crate::terminal_text::terminal_safe;
use crate::units::{format_bytes, format_ms};

/// `1 request`, `2 requests`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A URL as the summary prints it: redacted like the HAR (made safe with its line).
fn url(u: &str) -> String {
    redact_url(u)
}

impl Summary {
    /// Plain text for a terminal (stderr): header, leaks first, then modules, failures and
    /// the slowest requests. No colours: it may be piped or pasted into an issue.
    pub fn render(&self) -> String {
        let mut lines = self.verdict.as_ref().map(verdict_lines).unwrap_or_default();
        let recovered = self.verdict.as_ref().is_some_and(|v| !v.failed());
        lines.push(format!("gomitm: {}", self.totals_line()));
        // Said once: a failed command's verdict may already explain itself with it.
        let said_by_verdict = self.verdict.as_ref().is_some_and(|v| {
            v.explanations.iter().any(
                |e| matches!(&e.cause, Cause::Unexplained { code, .. } if *code == Code::NoRequest),
            )
        });
        if let Some(reason) = self.no_request.as_ref().filter(|_| !said_by_verdict) {
            lines.push(format!("gomitm saw no request at all: {reason}"));
        }
        lines.push(format!("private module patterns: {}", self.private));
        if !self.leaks.is_empty() {
            lines.push(String::new());
            lines.extend(self.leak_lines());
        }
        if !self.inspected.is_empty() {
            let cas: Vec<&str> = self.inspected.iter().map(|(_, ca)| ca.as_str()).collect();
            let mut cas_unique: Vec<&str> = Vec::new();
            for ca in cas {
                if !cas_unique.contains(&ca) {
                    cas_unique.push(ca);
                }
            }
            lines.push(format!(
                "TLS inspection (info): {} reached through a locally installed CA ({}), not a public root",
                count(self.inspected.len(), "host", "hosts"),
                cas_unique.join(", ")
            ));
        }
        if !self.modules.is_empty() {
            lines.push(String::new());
            lines.push(format!("Modules ({}):", self.modules.len()));
            lines.extend(self.modules.iter().map(|m| module_line(m, recovered)));
        }
        if !self.failures.is_empty() {
            lines.push(String::new());
            lines.push(format!(
                "{} ({}):",
                self.failures_heading(),
                self.failures.len()
            ));
            lines.extend(self.failures.iter().flat_map(failure_lines));
        }
        if !self.slowest.is_empty() {
            lines.push(String::new());
            lines.push("Slowest requests:".into());
            lines.extend(
                self.slowest
                    .iter()
                    .map(|s| format!("  {:>7}  #{} {}", format_ms(s.ms), s.flow_id, url(&s.url))),
            );
        }
        let safe: Vec<_> = lines
            .iter()
            .map(|l| terminal_safe(&redact_text(l)).into_owned())
            .collect();
        safe.join("\n") + "\n"
    }

    /// The failure list's heading, in every rendering: after a command that succeeded they are
    /// failures go recovered from, or wrong answers it kept (the verdict's warnings).
    pub fn failures_heading(&self) -> &'static str {
        let Some(v) = self.verdict.as_ref().filter(|v| !v.failed()) else {
            return "Failures";
        };
        match v.kept.len() {
            0 => "Failed requests go recovered from",
            n if n == self.failures.len() => "Wrong answers go kept",
            _ => "Failed requests go recovered from, or kept",
        }
    }

    /// `12 requests, 3 modules, 1 failed, 4.2KiB in 1.3s`: the totals every rendering (text,
    /// HTML, Markdown) prints in the same words, so they cannot disagree.
    pub fn totals_line(&self) -> String {
        let t = &self.totals;
        format!(
            "{}, {}, {} failed, {} in {}",
            count(t.requests, "request", "requests"),
            count(t.modules, "module", "modules"),
            t.failed,
            format_bytes(t.bytes),
            format_ms(t.wall_ms)
        )
    }

    /// The one-line verdict the HTML and Markdown reports open with, and whether it is good
    /// news. Under `gomitm run` it is the command's (its exit status, as the text's first
    /// line); for a capture alone (`gomitm report`), what `--fail-on any` would find.
    pub fn headline(&self) -> (bool, String) {
        if let Some(v) = &self.verdict {
            let first = verdict_lines(v).into_iter().next().unwrap_or_default();
            let mut text = first.strip_prefix("gomitm: ").unwrap_or(&first).to_string();
            if !v.kept.is_empty() {
                text.push_str(&format!(
                    ", {} go kept {}",
                    if v.failed() { "and" } else { "but" },
                    count(v.kept.len(), "wrong answer", "wrong answers")
                ));
            }
            return (!v.failed(), redact_text(&text));
        }
        let mut found = Vec::new();
        if !self.leaks.is_empty() {
            found.push(count(
                self.leaks.len(),
                "private-path leak",
                "private-path leaks",
            ));
        }
        if !self.failures.is_empty() {
            found.push(count(self.failures.len(), "failure", "failures"));
        }
        if found.is_empty() {
            (true, "ok: no private-path leak and no failure".into())
        } else {
            (false, format!("found: {}", found.join(" and ")))
        }
    }

    fn leak_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "!! PRIVATE-PATH LEAKS ({}): private module paths were sent to a module proxy or checksum database",
            self.leaks.len()
        )];
        for l in &self.leaks {
            let (to, result) = (l.sent_to(), l.outcome());
            lines.push(format!(
                "!! LEAK #{} {} → {to} {} ({result})",
                l.flow_id, l.module, l.host
            ));
            lines.push(format!("!!      fix: {}", l.fix));
        }
        lines
    }
}

/// `proxy.golang.org/…` from `https://proxy.golang.org/…`, redacted first: without its scheme
/// a URL's userinfo would no longer be found.
fn short_source(source: &str) -> String {
    let red = redact_url(source);
    red.split_once("://")
        .map_or(red.as_str(), |(_, r)| r)
        .to_string()
}

/// One module's line, in parts the HTML and Markdown tables reuse (the same words).
pub struct ModuleParts {
    /// `module@version`.
    pub name: String,
    /// `served by proxy.golang.org`, `NOT SERVED`…
    pub served: String,
    /// The sources tried in order with their outcome; empty when one source served it first.
    pub chain: Vec<String>,
    /// `3.1MiB`, or empty.
    pub size: String,
    /// `h1 ok (go.sum)`, `h1 MISMATCH (…)`…, or empty.
    pub check: String,
}

impl ModuleParts {
    /// `succeeded`: the command exited 0, so a module without an intact answer in the capture
    /// was not a failure (go had it, or did not need it).
    pub fn of(m: &ModuleReport, succeeded: bool) -> ModuleParts {
        let name = match &m.version {
            Some(v) => format!("{}@{v}", m.module),
            None => m.module.clone(),
        };
        let served = match &m.served_by {
            Some(s) => format!("served by {}", short_source(s)),
            None if m
                .attempts
                .iter()
                .any(|a| a.source == "go" && a.outcome.starts_with(super::analysis::KEPT)) =>
            {
                "go KEPT A WRONG ANSWER".into()
            }
            None if succeeded => "no intact answer seen (go did not need one to succeed)".into(),
            None => "NOT SERVED".into(),
        };
        let chain = if m.attempts.len() > 1 || m.served_by.is_none() {
            m.attempts
                .iter()
                .map(|a| format!("{} {}", short_source(&a.source), a.outcome))
                .collect()
        } else {
            Vec::new()
        };
        let size = if m.bytes > 0 {
            format_bytes(m.bytes)
        } else {
            String::new()
        };
        let check = match &m.check {
            Some(Check::Matches { against }) => format!("h1 ok ({against})"),
            Some(Check::Mismatch { against, .. }) => format!("h1 MISMATCH ({against})"),
            Some(Check::NotVerified(why)) => format!("h1 not verified: {why}"),
            Some(Check::Unchecked) | None => String::new(),
        };
        ModuleParts {
            name,
            served,
            chain,
            size,
            check,
        }
    }
}

fn module_line(m: &ModuleReport, succeeded: bool) -> String {
    let p = ModuleParts::of(m, succeeded);
    let mut line = format!("  {}  {}", p.name, p.served);
    if !p.chain.is_empty() {
        line.push_str(&format!("  [chain: {}]", p.chain.join(" → ")));
    }
    for extra in [&p.size, &p.check] {
        if !extra.is_empty() {
            line.push_str(&format!("  {extra}"));
        }
    }
    line
}

/// The verdict's warnings: wrong answers go kept (`lead`: "but" beside ok, "and" after a
/// failure's explanations).
fn kept_lines(v: &Verdict, lead: &str) -> Vec<String> {
    v.kept
        .iter()
        .flat_map(|k| {
            [
                format!("  {lead} {} ({})", prose(&k.warning()), k.diagnosis.code),
                format!("      fix: {}", prose(&k.fix())),
            ]
        })
        .collect()
}

/// The verdict first: did the command fail, what go said, and what explains it.
fn verdict_lines(v: &Verdict) -> Vec<String> {
    if !v.failed() {
        let mut lines = vec![format!("gomitm: ok: `{}` exited with status 0", v.command)];
        lines.extend(kept_lines(v, "but"));
        if !v.kept.is_empty() {
            lines.push(String::new());
        }
        return lines;
    }
    let n = v.failed_requests.len();
    let explained = if n == 0 {
        "no request explains it (0 failed requests)".to_string()
    } else {
        format!(
            "{} explain{} it",
            count(n, "failed request", "failed requests"),
            if n == 1 { "s" } else { "" }
        )
    };
    let mut lines = vec![format!(
        "gomitm: FAILED: `{}` exited with status {}; {explained}",
        v.command, v.exit_code
    )];
    if v.explanations.is_empty() {
        lines.push("  go printed no error line gomitm could read; look at its output above".into());
    }
    for e in &v.explanations {
        let times = if e.count > 1 {
            format!(" (×{})", e.count)
        } else {
            String::new()
        };
        lines.push(format!("  go said: {}{times}", prose(&e.error.line)));
        for d in e.error.detail.iter().take(3) {
            lines.push(format!("           {}", prose(d)));
        }
        match &e.cause {
            Cause::Flows {
                flow_ids,
                diagnosis,
            } => {
                let ids: Vec<String> = flow_ids.iter().take(8).map(|i| format!("#{i}")).collect();
                lines.push(format!(
                    "  because: {} {}",
                    ids.join(" "),
                    diagnosis_words(diagnosis)
                ));
                lines.push(format!("      fix: {}", prose(&diagnosis.fix)));
            }
            Cause::Setting { diagnosis } => {
                lines.push(format!(
                    "  because of a setting: {}",
                    diagnosis_words(diagnosis)
                ));
                lines.push(format!("      fix: {}", prose(&diagnosis.fix)));
            }
            Cause::Unexplained { code, meaning } => {
                lines.push(format!(
                    "  no request explains it ({code}; see {}).",
                    code.doc_link()
                ));
                lines.push(format!("  what go's message means: {}", prose(meaning)));
            }
        }
    }
    lines.extend(kept_lines(v, "and"));
    lines.push(String::new());
    lines
}

fn diagnosis_words(d: &Diagnosis) -> String {
    format!(
        "{}: {} (see {})",
        d.code,
        prose(&d.cause),
        d.code.doc_link()
    )
}

/// Text that may hold URLs (go's lines, causes, fixes): the URLs in it redacted like the
/// HAR's (made safe with its line).
fn prose(text: &str) -> String {
    redact_text(text)
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
        format!(
            "  #{} {severity} {}: {}{repeats}",
            f.flow_id,
            d.code,
            url(&f.url)
        ),
        format!("      {}", prose(&d.cause)),
        format!("      fix: {}", prose(&d.fix)),
    ]
}
