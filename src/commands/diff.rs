//! `gomitm diff A.har B.har [--json] [--all]`: two captures read, classified and redacted as
//! `gomitm report` does, compared by `go::diff`, printed in one screen (each line
//! terminal-safe and fitted to the terminal's width) or as one JSON document.

use std::io::IsTerminal;

use anyhow::Context;

use crate::cli::DiffArgs;
use crate::go::diagnosis::{DiagnoseContext, Os};
use crate::go::private::PrivatePatterns;

pub(crate) fn run_diff(args: &DiffArgs) -> anyhow::Result<i32> {
    let read = |path: &std::path::Path| -> anyhow::Result<Vec<crate::flow::Flow>> {
        let mut flows = crate::run::read_har(path)?;
        crate::run::classify_imported(&mut flows);
        // Either file may have been written with `--no-redact` or by another tool.
        for flow in &mut flows {
            crate::redact::redact_flow_in_place(flow, &[]);
        }
        Ok(flows)
    };
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    let private = PrivatePatterns::none();
    let ctx = DiagnoseContext {
        private: &private,
        os: Os::current(),
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    };
    let (name_a, name_b) = (args.a.display().to_string(), args.b.display().to_string());
    let d = crate::go::diff::diff((&name_a, &a), (&name_b, &b), &ctx);
    if args.json {
        let json = serde_json::to_string_pretty(&d).context("cannot write the diff as JSON")?;
        println!("{json}");
        return Ok(0);
    }
    let width = screen_width();
    for line in d.lines(args.all) {
        let line = crate::redact::redact_text(&line);
        let line = crate::terminal_text::terminal_safe(&line);
        match width {
            Some(w) => println!("{}", crate::tui::cells::fit_end(&line, w)),
            None => println!("{line}"),
        }
    }
    Ok(0)
}

/// The terminal's width when stdout is one (else `COLUMNS` when set): lines longer than it
/// end in an ellipsis. Piped output without `COLUMNS` keeps whole lines.
fn screen_width() -> Option<usize> {
    if std::io::stdout().is_terminal() {
        if let Ok((cols, _)) = ratatui::crossterm::terminal::size() {
            return Some(usize::from(cols.max(20)));
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c >= 20)
}
