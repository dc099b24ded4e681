//! The HTML report: one file any browser opens offline. The verdict, totals, leaks,
//! failures and modules are written as static HTML (readable without script, and in print);
//! the timeline is drawn by a small hand-written script (`assets/report.js`) from the
//! [`Timeline`](crate::go::timeline::Timeline) embedded as JSON. CSS and script are inline:
//! the page asks no other address for anything (no CDN, no web fonts).
//!
//! Escaping is hand-written: five characters for HTML text and attributes, and `<`, `>`, `&`
//! as `\u00XX` in the embedded JSON so that no network text can close the script element.
//! A crate would add a dependency for a dozen lines.

use std::fmt::Write as _;

use super::common::{because, clean, recovered, Report};
use crate::go::analysis::Summary;
use crate::go::diagnosis::Severity;
use crate::go::ModuleParts;

const CSS: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");

/// The whole page.
pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let s = report.summary;
    let mut out = String::with_capacity(64 * 1024 + report.timeline.rows.len() * 600);
    let title = format!("gomitm report: {}", clean(report.source));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = write!(
        out,
        "<header><h1>gomitm report</h1><p class=\"source\">{}</p></header>\n<main>\n",
        esc(&clean(report.source))
    );
    verdict(&mut out, s);
    leaks(&mut out, s);
    failures(&mut out, s);
    modules(&mut out, s);
    timeline_section(&mut out);
    let mut data = serde_json::to_value(report.timeline)?;
    crate::go::summary_json::redact_strings(&mut data);
    let _ = write!(
        out,
        "</main>\n<script type=\"application/json\" id=\"timeline-data\">{}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&serde_json::to_string(&data)?)
    );
    Ok(out)
}

/// HTML text and attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON inside `<script type="application/json">`: `</script>` or `<!--` in a string would
/// end or change the element, so `<`, `>` and `&` are written as JSON escapes (the parsed
/// value is the same).
pub(super) fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Network text as it is shown: redacted, made safe, escaped.
fn txt(text: &str) -> String {
    esc(&clean(text))
}

fn verdict(out: &mut String, s: &Summary) {
    let (ok, headline) = s.headline();
    let class = if ok { "ok" } else { "failed" };
    let _ = write!(
        out,
        "<section id=\"verdict\" class=\"{class}\"><h2>{}</h2>\n\
         <p id=\"totals\" data-requests=\"{}\" data-modules=\"{}\" data-failed=\"{}\" \
         data-bytes=\"{}\">{}</p>\n<p class=\"private\">private module patterns: {}</p>\n",
        txt(&headline),
        s.totals.requests,
        s.totals.modules,
        s.totals.failed,
        s.totals.bytes,
        txt(&s.totals_line()),
        txt(&s.private)
    );
    if let Some(v) = &s.verdict {
        if !v.explanations.is_empty() {
            out.push_str("<ul class=\"explanations\">\n");
            for e in &v.explanations {
                let _ = write!(
                    out,
                    "<li><b>go said:</b> <code>{}</code>",
                    txt(&e.error.line)
                );
                if e.count > 1 {
                    let _ = write!(out, " (×{})", e.count);
                }
                let b = because(&e.cause);
                match b.fix {
                    Some(fix) => {
                        let ids: Vec<String> =
                            b.flow_ids.iter().map(|i| flow_link(*i) + " ").collect();
                        let _ = write!(
                            out,
                            "<br><b>{}</b> {}<code>{}</code>: {}<br><b>fix:</b> {}",
                            b.lead,
                            ids.concat(),
                            b.code,
                            txt(b.what),
                            txt(fix)
                        );
                    }
                    None => {
                        let _ = write!(
                            out,
                            "<br>{} (<code>{}</code>): {}",
                            b.lead,
                            b.code,
                            txt(b.what)
                        );
                    }
                }
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        if !v.kept.is_empty() {
            out.push_str("<ul class=\"kept\">\n");
            for k in &v.kept {
                let _ = writeln!(
                    out,
                    "<li>{} <b>warning:</b> {} (<code>{}</code>)<br><b>fix:</b> {}</li>",
                    flow_link(k.flow_id),
                    txt(&k.warning()),
                    k.diagnosis.code,
                    txt(&k.fix())
                );
            }
            out.push_str("</ul>\n");
        }
    }
    if let Some(reason) = &s.no_request {
        let _ = writeln!(out, "<p>gomitm saw no request at all: {}</p>", txt(reason));
    }
    out.push_str("</section>\n");
}

/// A button that selects the flow on the timeline (plain text when printed).
fn flow_link(id: u64) -> String {
    format!("<button type=\"button\" class=\"flow-link\" data-flow=\"{id}\">#{id}</button>")
}

fn leaks(out: &mut String, s: &Summary) {
    if s.leaks.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section id=\"leaks\"><h2>Private-path leaks ({})</h2>\n\
         <p>Private module paths were sent to a module proxy or checksum database.</p>\n\
         <table><thead><tr><th>flow</th><th>module</th><th>sent to</th><th>result</th>\
         <th>fix</th></tr></thead><tbody>\n",
        s.leaks.len()
    );
    for l in &s.leaks {
        let (to, result) = (l.sent_to(), l.outcome());
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{to} {}</td><td>{result}</td><td>{}</td></tr>",
            flow_link(l.flow_id),
            txt(&l.module),
            txt(&l.host),
            txt(&l.fix)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn failures(out: &mut String, s: &Summary) {
    if s.failures.is_empty() {
        return;
    }
    let heading = s.failures_heading();
    let _ = writeln!(
        out,
        "<section id=\"failures\"><h2>{heading} ({})</h2>\n<ol class=\"failures\">",
        s.failures.len()
    );
    for f in &s.failures {
        let d = &f.diagnosis;
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let repeats = if f.repeats > 0 {
            format!(" <span class=\"repeats\">(×{})</span>", f.repeats + 1)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<li class=\"{severity}\">{} <span class=\"sev\">{severity}</span> <code>{}</code> \
             <span class=\"url\">{}</span>{repeats}<br><b>cause:</b> {}<br><b>fix:</b> {} \
             <small>(docs: {})</small></li>",
            flow_link(f.flow_id),
            d.code,
            txt(&f.url),
            txt(&d.cause),
            txt(&d.fix),
            esc(&d.code.doc_link())
        );
    }
    out.push_str("</ol></section>\n");
}

fn modules(out: &mut String, s: &Summary) {
    if s.modules.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section id=\"modules\"><h2>Modules ({})</h2>\n<table><thead><tr><th>module</th>\
         <th>served</th><th>source chain</th><th>size</th><th>h1</th></tr></thead><tbody>\n",
        s.modules.len()
    );
    let succeeded = recovered(s);
    for m in &s.modules {
        let p = ModuleParts::of(m, succeeded);
        let class = if m.served_by.is_some() {
            "served"
        } else {
            "unserved"
        };
        let chain: Vec<String> = p.chain.iter().map(|c| txt(c)).collect();
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            txt(&p.name),
            txt(&p.served),
            chain.join(" → "),
            esc(&p.size),
            txt(&p.check)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// The timeline's frame; the script fills it from the embedded data.
fn timeline_section(out: &mut String) {
    out.push_str(concat!(
        "<section id=\"timeline\"><h2>Timeline</h2>\n",
        "<div class=\"controls\" role=\"toolbar\" aria-label=\"timeline controls\">",
        "<label>Filter <input id=\"filter\" type=\"search\" placeholder=\"host, path, kind, status, code…\" autocomplete=\"off\"></label>",
        "<label>Group by <select id=\"group-by\"><option value=\"host\">host</option>",
        "<option value=\"connection\">connection</option></select></label>",
        "<button type=\"button\" id=\"zoom-in\" title=\"zoom in (+)\">+</button>",
        "<button type=\"button\" id=\"zoom-out\" title=\"zoom out (-)\">−</button>",
        "<button type=\"button\" id=\"zoom-reset\" title=\"whole run (0)\">whole run</button>",
        "<span id=\"shown\" aria-live=\"polite\"></span></div>\n",
        "<p class=\"help\">Click a bar (or focus it and press Enter) for its detail. Keys: ",
        "↑ ↓ move between flows, ← → pan, + − zoom, 0 whole run, / filter. Drag to pan, ",
        "Ctrl+wheel to zoom.</p>\n",
        "<div id=\"legend\" aria-label=\"legend\"></div>\n",
        "<div id=\"chart\" tabindex=\"0\" aria-label=\"timeline of every flow\"></div>\n",
        "<aside id=\"detail\" aria-live=\"polite\" hidden></aside>\n",
        "<noscript><p>The timeline needs JavaScript; the data is in the page source.</p></noscript>\n",
        "</section>\n"
    ));
}
