//! What the command will see, read before it starts: its whole `go env` (from the go it runs),
//! `NO_PROXY`, the git configuration that changes how go's git fetches travel, and the go.sum
//! it starts from.
//!
//! I/O only: runs `go env -json` and `git config`, reads go.sum. Missing tools leave fields
//! empty; what the values mean is `go::policy`'s.

use std::path::Path;

use crate::go::integrity_check::GoSum;
use crate::go::policy::Settings;

/// The child's settings. The go that runs `go env` is the command's own when the command is
/// a go binary, else `go` on PATH.
pub fn gather(command: &[String]) -> Settings {
    let go = command
        .first()
        .filter(|c| Path::new(c.as_str()).file_name().is_some_and(|n| n == "go"))
        .map_or("go", String::as_str);
    let go_env = std::process::Command::new(go)
        // Else a GOTOOLCHAIN naming another release makes this `go env` download that
        // toolchain itself, straight from the module proxy, before the child runs through
        // gomitm (seen on real traffic: `GOTOOLCHAIN=go1.27.3 go version` showed 0 requests).
        .env("GOTOOLCHAIN", "local")
        .args(["env", "-json"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or_default();
    let vendor_dir = main_module_dir(&go_env)
        .is_some_and(|dir| dir.join("vendor").join("modules.txt").is_file());
    Settings {
        vendor_dir,
        go_env,
        git_http_proxy: git(&["config", "--get", "http.proxy"]),
        git_ssh_rewrites: ssh_rewrites(),
        git_ssl_verify_off: git(&["config", "--bool", "--get", "http.sslVerify"])
            .is_some_and(|v| v == "false"),
    }
}

/// The directory of the main module's go.mod (`go env GOMOD`), when there is one.
fn main_module_dir(go_env: &std::collections::HashMap<String, String>) -> Option<&Path> {
    let gomod = go_env.get("GOMOD").map(String::as_str).unwrap_or("");
    if gomod.is_empty() || gomod == "/dev/null" || gomod == "NUL" {
        return None;
    }
    Path::new(gomod).parent()
}

fn git(args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `url.<base>.insteadOf <prefix>` rules whose base is ssh (`git@host:` or `ssh://`).
fn ssh_rewrites() -> Vec<String> {
    let Some(text) = git(&["config", "--get-regexp", r"^url\..*\.insteadof$"]) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(key, _)| {
            let base = key.trim_start_matches("url.");
            base.starts_with("git@") || base.starts_with("ssh://")
        })
        .map(|(key, value)| format!("{key} {value}"))
        .collect()
}

/// The go.sum beside the main module's go.mod (`go env GOMOD`), as the command starts.
pub fn read_go_sum(settings: &Settings) -> Option<GoSum> {
    let gomod = settings.get("GOMOD");
    if gomod.is_empty() || gomod == "/dev/null" || gomod == "NUL" {
        return None;
    }
    let path = Path::new(gomod).with_file_name("go.sum");
    std::fs::read_to_string(path).ok().map(|t| GoSum::parse(&t))
}
