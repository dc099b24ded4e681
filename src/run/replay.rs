//! After `gomitm run --tui`: the command's own output, shown in the TUI's pane while it ran, is
//! printed again on the normal terminal, so go's error is in the scrollback once the TUI is
//! gone. All of it when it fits a screen; otherwise the last screenful, with a note naming the
//! file (mode 0600, in the temporary directory) that holds all that was kept.
//!
//! `text` is pure; `print` does the I/O.

use std::path::{Path, PathBuf};

/// What to print: `lines` (the output, in the order it came, stdout and stderr together),
/// showing at most `rows` of them; `saved` is where the whole of it was written, when it did
/// not fit (or why it could not be).
pub fn text(
    command: &str,
    lines: &[String],
    rows: usize,
    saved: Option<&Result<PathBuf, String>>,
) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let rows = rows.max(1);
    let mut out = if lines.len() <= rows {
        format!("gomitm: output of {command}:\n")
    } else {
        let whole = match saved {
            Some(Ok(path)) => format!("all of it in {}", path.display()),
            Some(Err(e)) => format!("the rest could not be saved: {e}"),
            None => "the rest is not kept".to_string(),
        };
        format!(
            "gomitm: output of {command}, the last {rows} of {} lines ({whole}):\n",
            lines.len()
        )
    };
    for line in &lines[lines.len().saturating_sub(rows)..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Print the output to stderr after the TUI restored the terminal. `rows`: the terminal's
/// height, of which a few lines are left for the summary that follows.
pub fn print(command: &str, lines: &[String], rows: usize) {
    let rows = rows.saturating_sub(4).max(10);
    let saved = (lines.len() > rows).then(|| save(lines));
    eprint!("{}", text(command, lines, rows, saved.as_ref()));
}

fn save(lines: &[String]) -> Result<PathBuf, String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = std::env::temp_dir().join(format!(
        "gomitm-run-output-{}-{stamp}.log",
        std::process::id()
    ));
    let mut data = lines.join("\n");
    data.push('\n');
    write(&path, data.as_bytes()).map(|()| path.clone())
}

fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    crate::output_file::write_new(path, data, Some(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("line {i}")).collect()
    }

    #[test]
    fn output_that_fits_is_printed_whole() {
        let t = text("go build", &lines(3), 10, None);
        assert_eq!(t, "gomitm: output of go build:\nline 1\nline 2\nline 3\n");
        assert_eq!(text("go build", &[], 10, None), "");
    }

    #[test]
    fn long_output_prints_the_last_screenful_and_says_where_the_rest_is() {
        let saved = Ok(PathBuf::from("/tmp/x.log"));
        let t = text("go build", &lines(100), 5, Some(&saved));
        assert!(
            t.starts_with(
                "gomitm: output of go build, the last 5 of 100 lines (all of it in /tmp/x.log):\n"
            ),
            "{t}"
        );
        assert!(
            t.ends_with("line 96\nline 97\nline 98\nline 99\nline 100\n"),
            "{t}"
        );
        assert!(!t.contains("line 95\n"), "{t}");
    }

    #[test]
    fn the_saved_file_holds_everything_and_is_private() {
        let all = lines(50);
        let path = save(&all).unwrap();
        let back = std::fs::read_to_string(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.lines().count(), 50);
        assert!(back.starts_with("line 1\n") && back.ends_with("line 50\n"));
    }
}
