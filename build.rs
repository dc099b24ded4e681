//! Build script: names the commit gomitm is built from in `GOMITM_VERSION`, for `--version`
//! and `gomitm version` (`0.1.0 (e55c1d9ab 2026-12-03)`, as `rustc -V`). Without git, or
//! outside a git checkout of gomitm itself, the version is the package version alone.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/version.rs"]
mod version;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/version.rs");
    let package = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let (hash, date) = if own_checkout(&dir) {
        watch_head(&dir);
        (
            git(&dir, &["rev-parse", "--short=9", "HEAD"]).unwrap_or_default(),
            git(&dir, &["log", "-1", "--format=%cs"]).unwrap_or_default(),
        )
    } else {
        (String::new(), String::new())
    };
    println!(
        "cargo:rustc-env=GOMITM_VERSION={}",
        version::version_text(&package, &hash, &date)
    );
}

/// Output of `git ARGS` in `dir`, trimmed; `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// Whether `dir` is the top of a git work tree: a gomitm source unpacked inside someone
/// else's repository (vendored, a registry copy) must not be labelled with that repository's
/// commit.
fn own_checkout(dir: &Path) -> bool {
    let top = git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    match (top.and_then(|t| t.canonicalize().ok()), dir.canonicalize()) {
        (Some(top), Ok(dir)) => top == dir,
        _ => false,
    }
}

/// Rebuild when HEAD moves: HEAD itself (a checkout), the branch it points to (a commit) and
/// packed-refs (where a branch lives after `git pack-refs`). `--git-path` finds them in a
/// linked worktree too, where `.git` is a file.
fn watch_head(dir: &Path) {
    let mut paths = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        paths.push(branch);
    }
    for name in paths {
        let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) else {
            continue;
        };
        let path = dir.join(path);
        // A missing file would make cargo rerun this script on every build.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
