//! Text matchers used by filter values — substring, glob and regex — and the quoting that
//! lets a value be written back so it parses to the same thing.
//!
//! Pure string work; knows nothing about flows or keys. Case sensitivity is chosen by the
//! key that builds the matcher (hosts and headers ignore case, paths and modules do not).

use regex::{Regex, RegexBuilder};

/// How a value matches text: `text` (substring), a glob, or `~regex`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Text {
    Contains(String),
    Glob(Glob),
    Regex(Pattern),
}

impl Text {
    pub fn matches(&self, haystack: &str) -> bool {
        match self {
            Text::Contains(needle) => haystack.contains(needle.as_str()),
            Text::Glob(glob) => glob.matches(haystack),
            Text::Regex(pattern) => pattern.matches(haystack),
        }
    }

    /// The value as written in canonical form (`~` and quotes added where needed).
    pub fn render(&self, forbid: &[char]) -> String {
        match self {
            Text::Contains(s) => quote(s, forbid),
            Text::Glob(glob) => quote(&glob.source, forbid),
            Text::Regex(pattern) => format!("~{}", quote(&pattern.source, forbid)),
        }
    }
}

/// A compiled regex that compares equal by its source, so filters can derive `PartialEq`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub source: String,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.regex.as_str() == other.regex.as_str()
    }
}

impl Pattern {
    pub fn new(source: &str, ignore_case: bool) -> Result<Pattern, regex::Error> {
        let regex = RegexBuilder::new(source)
            .case_insensitive(ignore_case)
            .build()?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    pub fn matches(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }
}

/// A shell-style glob: `*` any run of chars (including `/`), `?` exactly one char, the
/// rest literal; it must match the whole text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glob {
    pub source: String,
    pattern: Pattern,
}

impl Glob {
    pub fn new(source: &str, ignore_case: bool) -> Result<Glob, regex::Error> {
        let mut re = String::from("(?s)^");
        for c in source.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                _ => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        re.push('$');
        Ok(Glob {
            source: source.to_string(),
            pattern: Pattern::new(&re, ignore_case)?,
        })
    }

    pub fn matches(&self, haystack: &str) -> bool {
        self.pattern.matches(haystack)
    }
}

/// Writes `value` bare when it would lex back as the same word, quoted otherwise. `forbid`
/// lists chars the key rejects unquoted (operators inside plain values).
pub(crate) fn quote(value: &str, forbid: &[char]) -> String {
    if is_bare_safe(value, forbid) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn is_bare_safe(value: &str, forbid: &[char]) -> bool {
    let special = |c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'') || forbid.contains(&c)
    };
    // Values always follow `key:` (or `=` in headers), so only a leading `~` is special.
    !value.is_empty() && !value.starts_with('~') && !value.chars().any(special) && balanced(value)
}

/// Parentheses inside a bare word must balance, or the lexer would end the word early.
fn balanced(value: &str) -> bool {
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return false,
            ')' => depth -= 1,
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_text() {
        for (glob, ignore_case, text, want) in [
            ("*.corp.example", true, "git.corp.example", true),
            ("*.corp.example", true, "GIT.Corp.Example", true),
            ("*.corp.example", true, "corp.example", false),
            ("*.corp.example", false, "GIT.corp.example", true),
            ("github.com/corp/*", false, "github.com/corp/a/b", true),
            ("github.com/corp/*", false, "github.com/Corp/a", false),
            ("v1.2.*", false, "v1.2.3", true),
            ("v1.2.*", false, "v1.20.0", false),
            ("v1.?.0", false, "v1.3.0", true),
            ("a+b(c)", false, "a+b(c)", true),
            ("proxy.golang.org", true, "xproxy.golang.org", false),
        ] {
            let got = Glob::new(glob, ignore_case).map(|g| g.matches(text));
            assert_eq!(got.ok(), Some(want), "{glob} vs {text}");
        }
    }

    #[test]
    fn text_matchers() {
        let re = Pattern::new("^https://[a-z]+\\.test/", false).map(Text::Regex);
        assert_eq!(re.map(|t| t.matches("https://a.test/x")).ok(), Some(true));
        assert!(Text::Contains("/@v/".into()).matches("https://p/m/@v/list"));
        assert!(!Text::Contains("/@V/".into()).matches("https://p/m/@v/list"));
        assert!(Pattern::new("(", false).is_err());
    }

    #[test]
    fn quote_only_when_the_word_would_not_survive_bare() {
        for (value, forbid, want) in [
            ("proxy.golang.org", &[][..], "proxy.golang.org"),
            ("a b", &[], "\"a b\""),
            ("", &[], "\"\""),
            ("~x", &[], "\"~x\""),
            ("!x", &[], "!x"),
            ("(a|b)", &[], "(a|b)"),
            ("a)b(", &[], "\"a)b(\""),
            ("(a", &[], "\"(a\""),
            ("a&b", &['&', '|'], "\"a&b\""),
            ("a&b", &[], "a&b"),
            ("say \"hi\" \\d", &[], "\"say \\\"hi\\\" \\\\d\""),
            ("it's", &[], "\"it's\""),
            ("a\\.b$", &[], "a\\.b$"),
        ] {
            assert_eq!(quote(value, forbid), want, "{value:?}");
        }
    }
}
