//! `gomitm run` as the end-to-end tests drive it: the real binary, the fixture's names
//! `--resolve`d, a hermetic go environment, and what the run left behind (output, summary,
//! JSON lines, HAR).
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use super::fixture::Fixture;
use super::tools::{clean_go_env, run_with_timeout};

/// A whole `gomitm run` (proxy start, go, summary).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(240);
pub const EMPTY_GO_MOD: &str = "module e2e\n\ngo 1.19\n";

/// One `gomitm run` and everything it left behind.
pub struct Run {
    pub out: Output,
    /// Holds `work/` (the child's directory), caches, the CA, the HAR and the JSONL.
    pub tmp: tempfile::TempDir,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// Everything, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "gomitm run exited with {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// gomitm's summary: stderr from gomitm's totals line (`gomitm: N requests…`) on.
    pub fn summary(&self) -> String {
        let err = self.stderr();
        let lines: Vec<&str> = err.lines().collect();
        let totals = lines
            .iter()
            .rposition(|l| l.starts_with("gomitm: ") && l.contains(" request"))
            .unwrap_or_else(|| panic!("no summary in gomitm's stderr\n{}", self.dump()));
        // The verdict (`gomitm: ok: …` / `gomitm: FAILED: …`) opens the summary when there is one.
        let start = lines[..totals]
            .iter()
            .rposition(|l| l.starts_with("gomitm: ok: ") || l.starts_with("gomitm: FAILED: "))
            .unwrap_or(totals);
        lines[start..].join("\n")
    }

    pub fn har_path(&self) -> PathBuf {
        self.tmp.path().join("out.har")
    }

    /// Finished flows, as gomitm wrote them with `--jsonl`.
    pub fn flows(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.tmp.path().join("flows.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn flow_list(&self) -> String {
        self.flows()
            .iter()
            .map(|f| {
                format!(
                    "  #{} {} {} {} {} {}",
                    f["id"],
                    f["request"]["method"].as_str().unwrap_or(""),
                    f["request"]["url"].as_str().unwrap_or(""),
                    f["response"]["status"],
                    f["go"]["kind"],
                    f["error"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What a test runs.
pub struct Spec<'a> {
    /// Host names that gomitm sends to the fixture.
    pub hosts: &'a [&'a str],
    /// Extra gomitm options (before `--`).
    pub args: &'a [String],
    /// Environment for gomitm, inherited by the child (on top of `clean_go_env`).
    pub env: &'a [(&'a str, String)],
    pub go_mod: &'a str,
    /// The command after `--`.
    pub command: Vec<String>,
}

pub fn gomitm_run(fx: &Fixture, spec: Spec) -> Run {
    gomitm_run_with(fx, spec, |_| {})
}

/// `gomitm_run`, with `setup` called on the child's working directory first (a go.sum…).
pub fn gomitm_run_with(fx: &Fixture, spec: Spec, setup: impl FnOnce(&Path)) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix("gomitm-e2e-run-")
        .tempdir()
        .expect("temp dir");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work dir");
    std::fs::write(work.join("go.mod"), spec.go_mod).expect("go.mod");
    setup(&work);
    let mut cmd = super::gomitm::command(&["run"]);
    cmd.arg("--ca-dir")
        .arg(tmp.path().join("ca"))
        .arg("--extra-root")
        .arg(&fx.ca_pem)
        .arg("--har-out")
        .arg(tmp.path().join("out.har"))
        .arg("--jsonl")
        .arg(tmp.path().join("flows.jsonl"));
    for host in spec.hosts {
        cmd.arg("--resolve").arg(format!("{host}:443={}", fx.addr));
    }
    cmd.args(spec.args).arg("--").args(&spec.command);
    cmd.current_dir(&work);
    clean_go_env(&mut cmd, tmp.path());
    cmd.env_remove("GOMITM_CA_DIR");
    for (k, v) in spec.env {
        cmd.env(k, v);
    }
    eprintln!("running gomitm run … -- {}", spec.command.join(" "));
    let out = run_with_timeout(&mut cmd, RUN_TIMEOUT);
    let run = Run { out, tmp };
    eprintln!("{}", run.dump());
    run
}

pub fn go_cmd(go: &Path, args: &[&str]) -> Vec<String> {
    std::iter::once(go.display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect()
}

pub fn root_go_mod() -> String {
    let requires: String = Fixture::modules()
        .iter()
        .map(|(path, version)| format!("\t{path} {version}\n"))
        .collect();
    format!("module e2e\n\ngo 1.19\n\nrequire (\n{requires})\n")
}

/// PATH with git's directory first (go runs git from PATH).
pub fn path_with(tool: &Path) -> String {
    format!(
        "{}:{}",
        tool.parent().expect("tool dir").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The summary line about `module@version` (a whitespace-separated token of its own).
pub fn module_line<'a>(summary: &'a str, module_at_version: &str) -> Option<&'a str> {
    summary
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == module_at_version))
}

/// The failure entry naming `url_part`, with the lines after it (its cause and fix).
/// Other sections (the slowest requests) may name the same URL: the entry is the one
/// followed by a `fix`.
pub fn failure_entry(summary: &str, url_part: &str) -> Option<String> {
    let lines: Vec<&str> = summary.lines().collect();
    (0..lines.len())
        .filter(|&i| lines[i].contains(url_part))
        .map(|i| lines[i..(i + 3).min(lines.len())].join("\n"))
        .find(|entry| entry.to_ascii_lowercase().contains("fix"))
}

pub fn has(text: &str, needle: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

pub fn go_kind(f: &Value) -> &str {
    f["go"]["kind"].as_str().unwrap_or("")
}

pub fn url_of(f: &Value) -> &str {
    f["request"]["url"].as_str().unwrap_or("")
}
