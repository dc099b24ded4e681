//! Private module path patterns (GOPRIVATE, GONOPROXY, GONOSUMDB), matched exactly as the go
//! command matches them: `golang.org/x/mod/module.MatchPrefixPatterns` with `path.Match` globs.
//!
//! Pure: this file reads no environment and runs no `go env`; callers pass the values (from
//! `--private` or from the child's `go env`). It owns only the matching, not what a match means
//! (that is `diagnose` and `analysis`).

/// Which module paths must never reach a module proxy, and which never the checksum database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivatePatterns {
    noproxy: Vec<String>,
    nosumdb: Vec<String>,
}

impl PrivatePatterns {
    /// No private paths: leak detection is off.
    pub fn none() -> Self {
        Self::default()
    }

    /// `--private GLOBS`: the same list for the proxy and the checksum database, like GOPRIVATE.
    pub fn from_globs(globs: &str) -> Self {
        let list = split_globs(globs);
        PrivatePatterns {
            noproxy: list.clone(),
            nosumdb: list,
        }
    }

    /// The go command's rule: an empty GONOPROXY or GONOSUMDB means "use GOPRIVATE"
    /// (`cfg.GONOPROXY = envOr("GONOPROXY", cfg.GOPRIVATE)`), so `GONOPROXY=none` is the way
    /// to let a corporate proxy see private paths.
    pub fn from_go_env(goprivate: &str, gonoproxy: &str, gonosumdb: &str) -> Self {
        let or_private = |v: &str| split_globs(if v.is_empty() { goprivate } else { v });
        PrivatePatterns {
            noproxy: or_private(gonoproxy),
            nosumdb: or_private(gonosumdb),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.noproxy.is_empty() && self.nosumdb.is_empty()
    }

    /// The module must not be fetched from a proxy (GONOPROXY semantics).
    pub fn private_for_proxy(&self, module: &str) -> bool {
        self.proxy_glob(module).is_some()
    }

    /// The module must not be looked up in the checksum database (GONOSUMDB semantics).
    pub fn private_for_sumdb(&self, module: &str) -> bool {
        self.sumdb_glob(module).is_some()
    }

    /// The first proxy glob that matches `module`, to quote it back in a fix.
    pub fn proxy_glob(&self, module: &str) -> Option<&str> {
        first_match(&self.noproxy, module)
    }

    /// The first checksum-database glob that matches `module`.
    pub fn sumdb_glob(&self, module: &str) -> Option<&str> {
        first_match(&self.nosumdb, module)
    }

    /// One line for the summary header.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "none (leak check off; pass --private GLOBS)".into();
        }
        if self.noproxy == self.nosumdb {
            return format!(
                "{} (module proxy and checksum database)",
                self.noproxy.join(",")
            );
        }
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(",")
            }
        };
        format!(
            "module proxy: {}; checksum database: {}",
            list(&self.noproxy),
            list(&self.nosumdb)
        )
    }
}

/// Comma-separated, one trailing `/` trimmed, empty entries dropped — as MatchPrefixPatterns
/// does. No whitespace trimming: Go does none, and we must agree with what go will do.
fn split_globs(globs: &str) -> Vec<String> {
    globs
        .split(',')
        .map(|g| g.strip_suffix('/').unwrap_or(g))
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

fn first_match<'a>(globs: &'a [String], module: &str) -> Option<&'a str> {
    globs
        .iter()
        .find(|g| glob_matches_prefix(g, module))
        .map(String::as_str)
}

/// A glob of N path elements is matched against the first N elements of the target; a target
/// with fewer elements never matches.
fn glob_matches_prefix(glob: &str, target: &str) -> bool {
    let n = glob.matches('/').count();
    if target.matches('/').count() < n {
        return false;
    }
    let prefix = match target.match_indices('/').nth(n) {
        Some((i, _)) => &target[..i],
        None => target,
    };
    path_match(glob, prefix)
}

#[derive(Debug)]
enum Token {
    Lit(char),
    One,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Lit(l) => *l == c,
            Token::One => c != '/',
            Token::Star => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Go's `path.Match`; a malformed pattern matches nothing (go ignores the ErrBadPattern).
fn path_match(pattern: &str, name: &str) -> bool {
    let Some(tokens) = parse_pattern(pattern) else {
        return false;
    };
    let chars: Vec<char> = name.chars().collect();
    match_tokens(&tokens, &chars)
}

fn match_tokens(tokens: &[Token], s: &[char]) -> bool {
    match tokens.split_first() {
        None => s.is_empty(),
        Some((Token::Star, rest)) => {
            // `*` spans any run of non-`/` characters: try every length.
            let mut i = 0;
            loop {
                if match_tokens(rest, &s[i..]) {
                    return true;
                }
                if i == s.len() || s[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        Some((tok, rest)) => {
            s.first().is_some_and(|&c| tok.matches(c)) && match_tokens(rest, &s[1..])
        }
    }
}

fn parse_pattern(pattern: &str) -> Option<Vec<Token>> {
    let mut chars = pattern.chars().peekable();
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '*' => Token::Star,
            '?' => Token::One,
            '\\' => Token::Lit(chars.next()?),
            '[' => parse_class(&mut chars)?,
            c => Token::Lit(c),
        });
    }
    Some(tokens)
}

/// After `[`: `[^]` negation, ranges `a-z`, `\` escapes; `]` closes only a non-empty class.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Token> {
    let negated = chars.next_if_eq(&'^').is_some();
    let mut ranges = Vec::new();
    loop {
        if !ranges.is_empty() && chars.next_if_eq(&']').is_some() {
            return Some(Token::Class { negated, ranges });
        }
        let lo = class_char(chars)?;
        let hi = if chars.next_if_eq(&'-').is_some() {
            class_char(chars)?
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
}

/// Go's `getEsc`: a bare `-` or `]`, or the end of the pattern, is malformed.
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    match chars.next()? {
        '-' | ']' => None,
        '\\' => chars.next(),
        c => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_prefix_patterns_like_go() {
        // (globs, module, matches) — cases from x/mod's TestMatchPrefixPatterns and the go docs.
        let cases = [
            ("corp.example", "corp.example", true),
            ("corp.example", "corp.example/x/y", true),
            ("corp.example", "corp.example.evil/x", false),
            ("corp.example", "other.example/corp.example", false),
            ("*.corp.example", "git.corp.example/a", true),
            ("*.corp.example", "corp.example/a", false),
            ("corp.example/*", "corp.example/a", true),
            ("corp.example/*", "corp.example/a/b", true),
            ("corp.example/*", "corp.example", false),
            ("corp.example/", "corp.example/a", true),
            ("github.com/corp", "github.com/corp/x/v2", true),
            ("github.com/corp", "github.com/corporate/x", false),
            ("github.com/c?rp", "github.com/corp/x", true),
            ("github.com/[a-c]orp", "github.com/corp/x", true),
            ("github.com/[^a-c]orp", "github.com/corp/x", false),
            ("a,,b.example", "b.example/m", true),
            (",", "b.example/m", false),
            ("", "b.example/m", false),
            ("x.example,*.corp.example", "svc.corp.example/m", true),
            (" corp.example", "corp.example/m", false),
            ("corp.ex[", "corp.ex[/m", false),
            ("none", "corp.example/m", false),
            ("rsc.io/*/quote", "rsc.io/x/quote/v3", true),
            ("rsc.io/*/quote", "rsc.io/x/other", false),
        ];
        for (globs, module, want) in cases {
            let p = PrivatePatterns::from_globs(globs);
            assert_eq!(p.private_for_proxy(module), want, "{globs:?} vs {module}");
            assert_eq!(p.private_for_sumdb(module), want, "{globs:?} vs {module}");
        }
    }

    #[test]
    fn path_match_syntax() {
        for (pat, name, want) in [
            ("a*c", "abbc", true),
            ("a*c", "ab/c", false),
            ("a?c", "a/c", false),
            ("a\\*c", "a*c", true),
            ("a\\*c", "abc", false),
            ("[]a]", "a", false),
            ("[\\]a]", "]", true),
            ("[a-", "a", false),
            ("x\\", "x", false),
            ("*", "", true),
        ] {
            assert_eq!(path_match(pat, name), want, "{pat} vs {name}");
        }
    }

    #[test]
    fn go_env_defaults_noproxy_and_nosumdb_to_goprivate() {
        let p = PrivatePatterns::from_go_env("corp.example", "", "");
        assert!(p.private_for_proxy("corp.example/a"));
        assert!(p.private_for_sumdb("corp.example/a"));

        // A corporate proxy that serves private modules: GONOPROXY=none overrides GOPRIVATE.
        let p = PrivatePatterns::from_go_env("corp.example", "none", "");
        assert!(!p.private_for_proxy("corp.example/a"));
        assert!(p.private_for_sumdb("corp.example/a"));

        let p = PrivatePatterns::from_go_env("", "", "sumonly.example");
        assert!(!p.private_for_proxy("sumonly.example/a"));
        assert!(p.private_for_sumdb("sumonly.example/a"));
        assert!(!p.is_empty());
        assert!(PrivatePatterns::from_go_env("", "", "").is_empty());
        assert!(PrivatePatterns::none().is_empty());
    }

    #[test]
    fn glob_and_describe_quote_the_patterns() {
        let p = PrivatePatterns::from_globs("x.example,*.corp.example");
        assert_eq!(p.proxy_glob("a.corp.example/m"), Some("*.corp.example"));
        assert_eq!(p.sumdb_glob("public.example/m"), None);
        assert_eq!(
            p.describe(),
            "x.example,*.corp.example (module proxy and checksum database)"
        );
        let split = PrivatePatterns::from_go_env("corp.example", "none", "");
        assert_eq!(
            split.describe(),
            "module proxy: none; checksum database: corp.example"
        );
        assert!(PrivatePatterns::none().describe().starts_with("none"));
    }
}
