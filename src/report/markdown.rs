//! The Markdown summary for CI (GitHub's job summary, a pull-request comment): the verdict and
//! totals, then GitHub-flavoured tables of leaks, failures and modules; lists longer than
//! [`OPEN_ROWS`] rows fold into `<details>`. No terminal escapes: every cell is made safe by
//! the terminal rule first, then escaped for Markdown.

use std::fmt::Write as _;

use super::common::{because, clean, count, recovered};
use crate::go::analysis::Summary;
use crate::go::diagnosis::Severity;
use crate::go::ModuleParts;

/// Tables longer than this are collapsed.
pub const OPEN_ROWS: usize = 10;

/// The whole summary, ending in a newline. `source` is what was captured (a command or a
/// HAR's name).
pub fn render(summary: &Summary, source: &str) -> String {
    let s = summary;
    let (ok, headline) = s.headline();
    let kept = s.verdict.as_ref().is_some_and(|v| !v.kept.is_empty());
    let mark = match (ok, kept) {
        (false, _) => "❌",
        (true, true) => "⚠️",
        (true, false) => "✅",
    };
    let mut out = format!(
        "## {mark} gomitm: {}\n\n**{}** — `{}`\n\nprivate module patterns: {}\n",
        cell(&headline),
        cell(&s.totals_line()),
        code_span(source),
        cell(&s.private)
    );
    if let Some(v) = &s.verdict {
        for e in &v.explanations {
            let _ = write!(out, "\n- go said: `{}`", code_span(&e.error.line));
            let b = because(&e.cause);
            match b.fix {
                Some(fix) => {
                    let ids: Vec<String> = b.flow_ids.iter().map(|i| format!("#{i} ")).collect();
                    let _ = write!(
                        out,
                        "  \n  {} {}`{}`: {}  \n  fix: {}",
                        b.lead,
                        ids.concat(),
                        b.code,
                        cell(b.what),
                        cell(fix)
                    );
                }
                None => {
                    let _ = write!(out, "  \n  {} (`{}`): {}", b.lead, b.code, cell(b.what));
                }
            }
        }
        for k in &v.kept {
            let _ = write!(
                out,
                "\n- ⚠️ {} (`{}`)  \n  fix: {}",
                cell(&k.warning()),
                k.diagnosis.code,
                cell(&k.fix())
            );
        }
        if !v.explanations.is_empty() || !v.kept.is_empty() {
            out.push('\n');
        }
    }
    if let Some(reason) = &s.no_request {
        let _ = write!(out, "\ngomitm saw no request at all: {}\n", cell(reason));
    }
    leaks(&mut out, s);
    failures(&mut out, s);
    modules(&mut out, s);
    slowest(&mut out, s);
    out
}

/// Text for a table cell or a line: safe (no control character, redacted), then escaped so
/// that network text can neither end the cell (`|`, a newline) nor become markup (inline
/// HTML, links, emphasis).
pub(super) fn cell(text: &str) -> String {
    let safe = clean(text);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a code span: backticks cannot end it (they are replaced by a look-alike), and
/// a pipe cannot end the cell.
fn code_span(text: &str) -> String {
    clean(text).replace('`', "ˋ").replace('|', "¦")
}

/// A table, folded into `<details>` when it is long.
fn table(out: &mut String, heading: &str, header: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "\n### {heading}\n");
    let folded = rows.len() > OPEN_ROWS;
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>{} (click to expand)</summary>\n",
            count(rows.len(), "row", "rows")
        );
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header.iter().map(|_| " --- |").collect::<String>()
    );
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    if folded {
        out.push_str("\n</details>\n");
    }
}

fn leaks(out: &mut String, s: &Summary) {
    if s.leaks.is_empty() {
        return;
    }
    let rows = s
        .leaks
        .iter()
        .map(|l| {
            vec![
                format!("#{}", l.flow_id),
                cell(&l.module),
                format!("{} {}", l.sent_to(), cell(&l.host)),
                l.outcome().into(),
                cell(&l.fix),
            ]
        })
        .collect();
    table(
        out,
        &format!("‼️ Private-path leaks ({})", s.leaks.len()),
        &["flow", "module", "sent to", "result", "fix"],
        rows,
    );
}

fn failures(out: &mut String, s: &Summary) {
    if s.failures.is_empty() {
        return;
    }
    let rows = s
        .failures
        .iter()
        .map(|f| {
            let d = &f.diagnosis;
            let severity = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let repeats = if f.repeats > 0 {
                format!(" (×{})", f.repeats + 1)
            } else {
                String::new()
            };
            vec![
                format!("#{}", f.flow_id),
                severity.into(),
                format!("`{}`", d.code),
                format!("{}{repeats}", cell(&f.url)),
                cell(&d.cause),
                cell(&d.fix),
            ]
        })
        .collect();
    let heading = s.failures_heading();
    table(
        out,
        &format!("{heading} ({})", s.failures.len()),
        &["flow", "severity", "code", "URL", "cause", "fix"],
        rows,
    );
}

fn modules(out: &mut String, s: &Summary) {
    if s.modules.is_empty() {
        return;
    }
    let succeeded = recovered(s);
    let rows = s
        .modules
        .iter()
        .map(|m| {
            let p = ModuleParts::of(m, succeeded);
            let chain: Vec<String> = p.chain.iter().map(|c| cell(c)).collect();
            vec![
                cell(&p.name),
                cell(&p.served),
                chain.join(" → "),
                p.size,
                cell(&p.check),
            ]
        })
        .collect();
    table(
        out,
        &format!("Modules ({})", s.modules.len()),
        &["module", "served", "source chain", "size", "h1"],
        rows,
    );
}

fn slowest(out: &mut String, s: &Summary) {
    if s.slowest.is_empty() {
        return;
    }
    let rows = s
        .slowest
        .iter()
        .map(|r| {
            vec![
                format!("#{}", r.flow_id),
                crate::units::format_ms(r.ms),
                cell(&r.url),
            ]
        })
        .collect();
    table(out, "Slowest requests", &["flow", "time", "URL"], rows);
}
