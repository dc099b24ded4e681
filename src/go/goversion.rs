//! The Go release in use (`go env GOVERSION`), so that a fix can be right for it: `.netrc`
//! keys, GOAUTH, `SSL_CERT_FILE` on macOS and Windows, go-import subdirectories, bzr.
//!
//! Pure parsing and comparison; `run` reads the value from the child's go.

/// A Go release, `go1.MINOR.PATCH`; `devel` builds count as the newest minor they name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    pub minor: u32,
    pub patch: u32,
}

impl GoVersion {
    pub const fn new(minor: u32, patch: u32) -> Self {
        GoVersion { minor, patch }
    }

    /// `go1.26.8`, `go1.21rc2`, `go1.22`, `devel go1.27-abcdef …`; `None` for anything else.
    pub fn parse(text: &str) -> Option<GoVersion> {
        let word = text
            .split_whitespace()
            .find(|w| w.starts_with("go1."))
            .unwrap_or(text.trim());
        let rest = word.strip_prefix("go1.")?;
        let digits = |s: &str| -> Option<u32> {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            s[..end].parse().ok()
        };
        let minor = digits(rest)?;
        let after = &rest[rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len())..];
        let patch = after.strip_prefix('.').and_then(digits).unwrap_or(0);
        Some(GoVersion { minor, patch })
    }

    /// Go 1.24 and later: GOAUTH, whose netrc lookup keys on `host:port` for other ports, and
    /// the resend of every 4xx.
    pub fn has_goauth(self) -> bool {
        self.minor >= 24
    }

    /// Go 1.25 and later read a 4th go-import field (a subdirectory).
    pub fn reads_go_import_subdir(self) -> bool {
        self.minor >= 25
    }

    /// Go 1.27 and later honour SSL_CERT_FILE/SSL_CERT_DIR on macOS and Windows too, and no
    /// longer support bzr.
    pub fn cert_file_everywhere(self) -> bool {
        self.minor >= 27
    }
}

impl std::fmt::Display for GoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "go1.{}.{}", self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_releases_candidates_and_devel() {
        for (text, want) in [
            ("go1.26.8", Some((26, 8))),
            ("go version go1.19.8 linux/amd64", Some((19, 8))),
            ("go1.21rc2", Some((21, 0))),
            ("go1.22", Some((22, 0))),
            ("devel go1.27-abcdef Tue", Some((27, 0))),
            ("", None),
            ("gccgo", None),
        ] {
            assert_eq!(
                GoVersion::parse(text).map(|v| (v.minor, v.patch)),
                want,
                "{text}"
            );
        }
        assert!(GoVersion::new(24, 0).has_goauth() && !GoVersion::new(23, 9).has_goauth());
        assert!(GoVersion::new(19, 8) < GoVersion::new(26, 8));
    }
}
