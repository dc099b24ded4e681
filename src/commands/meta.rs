//! Commands about gomitm itself, all generated from the one command-line definition in
//! `cli`: `gomitm version`, `gomitm completions SHELL` (clap_complete) and `gomitm man`
//! (clap_mangen), so they can never disagree with `--help`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, VERSION};

/// `gomitm version`: the same line as `gomitm --version`.
pub fn print_version(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "gomitm {VERSION}").context("cannot write to stdout")
}

/// `gomitm completions SHELL`: the completion script on stdout.
pub fn print_completions(shell: clap_complete::Shell, out: &mut impl Write) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "gomitm", out);
    Ok(())
}

/// `gomitm man`: gomitm.1 on stdout, or with `dir` one page per command and subcommand
/// (gomitm.1, gomitm-run.1, gomitm-ca-show.1…) written there.
pub fn man(dir: Option<&Path>, out: &mut impl Write) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match dir {
        None => clap_mangen::Man::new(cmd)
            .render(out)
            .context("cannot write the man page"),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the man pages to {}", dir.display()))?;
            writeln!(out, "gomitm: man pages written to {}", dir.display())
                .context("cannot write to stdout")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>) -> anyhow::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn version_is_the_version_flag_line() {
        let line = text(print_version);
        assert_eq!(line, format!("gomitm {VERSION}\n"));
        assert_eq!(
            Cli::command().render_version(),
            line,
            "--version and `gomitm version` agree"
        );
        assert!(line.starts_with(&format!("gomitm {}", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn bash_completions_name_every_subcommand() {
        let script = text(|o| print_completions(clap_complete::Shell::Bash, o));
        for sub in [
            "proxy",
            "run",
            "env",
            "ca",
            "report",
            "open",
            "rules",
            "filters",
            "version",
            "completions",
            "man",
        ] {
            assert!(script.contains(sub), "{sub} missing from the bash script");
        }
        assert!(script.contains("--connect-to"), "options are completed too");
    }

    #[test]
    fn man_page_is_roff_and_covers_the_subcommands() {
        let page = text(|o| man(None, o));
        assert!(
            page.starts_with(".ie") || page.starts_with(".TH"),
            "{}",
            &page[..80]
        );
        assert!(page.contains(".TH gomitm 1"), "{}", &page[..200]);
        assert!(page.contains("completions"));
        let dir = tempfile::tempdir().unwrap();
        text(|o| man(Some(dir.path()), o));
        for page in ["gomitm.1", "gomitm-run.1", "gomitm-ca-show.1"] {
            assert!(dir.path().join(page).is_file(), "{page} not written");
        }
    }
}
