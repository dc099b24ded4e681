//! The version text `--version` and `gomitm version` print, as `rustc -V` spells it: the
//! package version, then the commit hash and date it was built from when known. Pure; shared
//! with `build.rs` (included there by path), which knows the commit.

/// `0.1.0 (e55c1d9ab 2026-12-03)`, or `0.1.0` alone when the build had no git (a crate
/// tarball, a copy without `.git`, no git installed): a missing part is left out, never
/// shown as empty or `unknown`.
pub fn version_text(package: &str, hash: &str, date: &str) -> String {
    match (hash.trim(), date.trim()) {
        ("", _) => package.to_string(),
        (hash, "") => format!("{package} ({hash})"),
        (hash, date) => format!("{package} ({hash} {date})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_commit_like_rustc_and_falls_back_to_the_bare_version() {
        assert_eq!(
            version_text("0.1.0", "e55c1d9ab", "2026-12-03"),
            "0.1.0 (e55c1d9ab 2026-12-03)"
        );
        assert_eq!(version_text("0.1.0", "", ""), "0.1.0");
        assert_eq!(version_text("0.1.0", "", "2026-12-03"), "0.1.0");
        assert_eq!(
            version_text("0.1.0", "e55c1d9ab\n", ""),
            "0.1.0 (e55c1d9ab)"
        );
    }
}
