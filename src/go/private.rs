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
    /// GONOPROXY and GONOSUMDB as set, when set (not following GOPRIVATE): a fix must then
    /// extend them, as GOPRIVATE no longer reaches those lists.
    set_noproxy: Option<String>,
    set_nosumdb: Option<String>,
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
            ..Self::default()
        }
    }

    /// The go command's rule: an empty GONOPROXY or GONOSUMDB means "use GOPRIVATE"
    /// (`cfg.GONOPROXY = envOr("GONOPROXY", cfg.GOPRIVATE)`), so `GONOPROXY=none` is the way
    /// to let a corporate proxy see private paths.
    pub fn from_go_env(goprivate: &str, gonoproxy: &str, gonosumdb: &str) -> Self {
        let or_private = |v: &str| split_globs(if v.is_empty() { goprivate } else { v });
        let set = |v: &str| (!v.is_empty()).then(|| v.to_string());
        PrivatePatterns {
            noproxy: or_private(gonoproxy),
            nosumdb: or_private(gonosumdb),
            set_noproxy: set(gonoproxy),
            set_nosumdb: set(gonosumdb),
        }
    }

    /// The paths `gomitm run` reports as leaked: go's own lists ([`Self::from_go_env`]) plus
    /// GOPRIVATE itself where GONOPROXY or GONOSUMDB is set to a list that leaves some of it
    /// out. GOPRIVATE says which paths are private; a GONOSUMDB that does not cover them
    /// sends their names to the checksum database, which `gomitm doctor` fails as
    /// `private_incoherent`, so `run` calls the lookup a leak too. `GONOPROXY=none` is the
    /// documented way to let a corporate proxy serve private paths: no proxy leak then.
    pub fn for_leak_check(goprivate: &str, gonoproxy: &str, gonosumdb: &str) -> Self {
        let mut p = Self::from_go_env(goprivate, gonoproxy, gonosumdb);
        let private = split_globs(goprivate);
        let add = |list: &mut Vec<String>| {
            for g in &private {
                if !list.contains(g) {
                    list.push(g.clone());
                }
            }
        };
        if gonoproxy != "none" {
            add(&mut p.noproxy);
        }
        add(&mut p.nosumdb);
        p
    }

    /// The setting that keeps `glob`'s paths from the checksum database (`to_sumdb`) or
    /// from module proxies, in words: GOPRIVATE, unless GONOSUMDB (GONOPROXY) is set to a
    /// list of its own, which then has to take the pattern.
    pub fn fix(&self, glob: &str, to_sumdb: bool) -> String {
        let (var, set) = if to_sumdb {
            ("GONOSUMDB", &self.set_nosumdb)
        } else {
            ("GONOPROXY", &self.set_noproxy)
        };
        match set.as_deref() {
            Some("none") => format!("{var}={glob} instead of {var}=none (a {var} that is set replaces GOPRIVATE for it)"),
            Some(v) => format!("{var}={v},{glob} (a {var} that is set replaces GOPRIVATE for it, so GOPRIVATE alone does not help)"),
            None => format!("GOPRIVATE={glob} (or {var}={glob})"),
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
    fn the_leak_check_keeps_goprivate_where_gonosumdb_or_gonoproxy_leave_it_out() {
        let secret = "corp.example.test/secret";
        // GONOSUMDB names another path: go looks the private one up, which is a leak.
        let p = PrivatePatterns::for_leak_check("corp.example.test/*", "none", "other.test");
        assert!(p.private_for_sumdb(secret) && p.private_for_sumdb("other.test/x"));
        // GONOPROXY=none lets the proxy serve private paths on purpose.
        assert!(!p.private_for_proxy(secret));
        // go itself would skip the database only for other.test.
        let go = PrivatePatterns::from_go_env("corp.example.test/*", "none", "other.test");
        assert!(!go.private_for_sumdb(secret));
        // A GONOPROXY that names other paths leaves GOPRIVATE's to the proxy: a leak too.
        let p = PrivatePatterns::for_leak_check("corp.example.test", "other.test", "");
        assert!(p.private_for_proxy(secret) && p.private_for_proxy("other.test/x"));
        // Unset lists follow GOPRIVATE, as in go; nothing private, nothing to check.
        assert_eq!(
            PrivatePatterns::for_leak_check("corp.example.test", "", ""),
            PrivatePatterns::from_go_env("corp.example.test", "", "")
        );
        assert!(PrivatePatterns::for_leak_check("", "", "").is_empty());
    }

    #[test]
    fn the_fix_extends_a_list_that_is_set_and_names_goprivate_otherwise() {
        let p = PrivatePatterns::for_leak_check("corp.test", "none", "other.test");
        assert!(p
            .fix("corp.test", true)
            .starts_with("GONOSUMDB=other.test,corp.test "));
        assert!(p
            .fix("corp.test", false)
            .starts_with("GONOPROXY=corp.test instead of GONOPROXY=none"));
        let p = PrivatePatterns::for_leak_check("", "", "");
        assert!(p
            .fix("corp.test", true)
            .starts_with("GOPRIVATE=corp.test (or GONOSUMDB=corp.test)"));
        assert!(PrivatePatterns::from_globs("corp.test")
            .fix("corp.test", false)
            .starts_with("GOPRIVATE="));
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
