//! The plain-text rendering of a [`Summary`] for a terminal: header, leaks first, then
//! modules, failures and the slowest requests.
//!
//! Pure formatting of data `analysis` already computed; must not compute or filter anything.

use super::analysis::{FailureReport, ModuleReport, Summary};
use super::diagnose::Severity;
use crate::log::{format_bytes, format_ms};

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
