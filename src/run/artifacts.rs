//! The report files `run` and `report` write beside the text summary: `--report-html` /
//! `--html` (self-contained page with a timeline), `--report-md` / `--markdown`, and under
//! `run` the Markdown appended to `$GITHUB_STEP_SUMMARY` (GitHub Actions' job summary) unless
//! `--no-step-summary`. The renderings are `report::`'s; this file only decides where they go.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::go::analysis::Summary;
use crate::go::timeline::Timeline;

/// The files asked for.
#[derive(Debug, Clone, Default)]
pub(super) struct Wanted {
    pub html: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// A file to append the Markdown to (`$GITHUB_STEP_SUMMARY`).
    pub step_summary: Option<PathBuf>,
}

impl Wanted {
    pub fn for_run(args: &crate::cli::RunArgs) -> Wanted {
        let step_summary = if args.no_step_summary {
            None
        } else {
            std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Wanted {
            html: args.report_html.clone(),
            markdown: args.report_md.clone(),
            step_summary,
        }
    }

    pub fn for_report(args: &crate::cli::ReportArgs) -> Wanted {
        Wanted {
            html: args.html.clone(),
            markdown: args.markdown.clone(),
            step_summary: None,
        }
    }

    pub fn html(&self) -> bool {
        self.html.is_some()
    }

    /// Before anything runs: a path that cannot be written is said now, not after a long
    /// download.
    pub fn check(&self) -> anyhow::Result<()> {
        for path in [&self.html, &self.markdown].into_iter().flatten() {
            crate::output_file::check_writable(path)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
        }
        Ok(())
    }

    /// Writes every file asked for; `timeline` is given when `html()`.
    pub fn write(
        &self,
        summary: &Summary,
        timeline: Option<&Timeline>,
        source: &str,
    ) -> anyhow::Result<()> {
        if let (Some(path), Some(timeline)) = (&self.html, timeline) {
            let page = crate::report::html(&crate::report::Report {
                summary,
                timeline,
                source,
            })
            .context("cannot render the HTML report")?;
            replace(path, page.as_bytes())?;
        }
        if self.markdown.is_none() && self.step_summary.is_none() {
            return Ok(());
        }
        let md = crate::report::markdown(summary, source);
        if let Some(path) = &self.markdown {
            replace(path, md.as_bytes())?;
        }
        if let Some(path) = &self.step_summary {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot append to {}", path.display()))?;
            file.write_all(format!("{md}\n").as_bytes())
                .with_context(|| format!("cannot append to {}", path.display()))?;
        }
        Ok(())
    }
}

fn replace(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    crate::output_file::replace(path, data, None)
        .with_context(|| format!("cannot write the report to {}", path.display()))
}
