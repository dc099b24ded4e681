//! The key table: every filter key with its aliases, argument form, description, example and
//! value parser. The parser looks keys up here and `help_text` is generated from it, so the
//! help can never drift from what parses.
//!
//! Adding a key = one row here + a value parser in `values` + a `Predicate` variant.

use super::error::Problem;
use super::predicate::{Predicate, OPS};
use super::values::{self, Value};

/// What a key takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A bare word (`tunnel`); `tunnel:` with an empty value is accepted too.
    Flag,
    /// `error` / `error:` alone, or `error:VALUE`.
    Optional,
    Required,
}

/// A mitmproxy-style alias (`~d`). Regex aliases treat their value as `~REGEX`; an alias of a
/// key that does not require a value takes none (`~e`, `~q`, `~s`).
#[derive(Debug)]
pub(crate) struct Alias {
    pub name: &'static str,
    pub regex: bool,
}

pub(crate) struct KeySpec {
    pub name: &'static str,
    pub aliases: &'static [Alias],
    pub arg: Arg,
    /// Argument form as shown in help, e.g. `GLOB|~REGEX`.
    pub form: &'static str,
    /// What a value should look like, for "missing value" errors.
    pub expected: &'static str,
    pub description: &'static str,
    pub example: &'static str,
    /// Whether a leading unquoted `~` (regex) is accepted.
    pub regex: bool,
    /// Chars that may not appear unquoted in the value (they read as operators).
    pub forbid: &'static [char],
    pub build: fn(&Value) -> Result<Predicate, Problem>,
}

const fn alias(name: &'static str, regex: bool) -> Alias {
    Alias { name, regex }
}

pub(crate) const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "host",
        aliases: &[alias("~d", true)],
        arg: Arg::Required,
        form: "GLOB|~REGEX",
        expected: "a host name or glob such as *.corp.example",
        description: "request host without the port; glob (* ?) or regex; case-insensitive",
        example: "host:*.corp.example",
        regex: true,
        forbid: OPS,
        build: values::host,
    },
    KeySpec {
        name: "url",
        aliases: &[alias("~u", true)],
        arg: Arg::Required,
        form: "TEXT|~REGEX",
        expected: "text the URL contains, or ~REGEX",
        description: "full request URL contains TEXT or matches REGEX; case-sensitive",
        example: r"url:~^https://proxy\.golang\.org/",
        regex: true,
        forbid: &[],
        build: values::url,
    },
    KeySpec {
        name: "path",
        aliases: &[],
        arg: Arg::Required,
        form: "TEXT|~REGEX",
        expected: "text the URL path contains, or ~REGEX",
        description: "URL path (no query) contains TEXT or matches REGEX; case-sensitive",
        example: "path:/@v/",
        regex: true,
        forbid: &[],
        build: values::path,
    },
    KeySpec {
        name: "method",
        aliases: &[alias("~m", false)],
        arg: Arg::Required,
        form: "NAME",
        expected: "an HTTP method such as GET or POST",
        description: "request method; case-insensitive",
        example: "method:POST",
        regex: false,
        forbid: OPS,
        build: values::method,
    },
    KeySpec {
        name: "status",
        aliases: &[alias("~c", false)],
        arg: Arg::Required,
        form: "CODE|OPCODE|Nxx",
        expected: "a status code (404), a comparison (>=400) or a class (5xx)",
        description: "response status: exact, compared with > >= < <= =, or a class",
        example: "status:>=400",
        regex: false,
        forbid: OPS,
        build: values::status,
    },
    KeySpec {
        name: "header",
        aliases: &[alias("~h", true)],
        arg: Arg::Required,
        form: "NAME|NAME=VALUE|NAME=~REGEX|~REGEX",
        expected: "a header name, NAME=VALUE, NAME=~REGEX or ~REGEX",
        description: "request or response header: present, equal to VALUE, value matching \
                      REGEX, or any 'name: value' line matching REGEX; case-insensitive",
        example: "header:content-type=~json",
        regex: true,
        forbid: &[],
        build: values::header,
    },
    KeySpec {
        name: "reqheader",
        aliases: &[alias("~hq", true)],
        arg: Arg::Required,
        form: "NAME|NAME=VALUE|NAME=~REGEX|~REGEX",
        expected: "a header name, NAME=VALUE, NAME=~REGEX or ~REGEX",
        description: "like header:, request headers only (decided before the response)",
        example: "reqheader:authorization",
        regex: true,
        forbid: &[],
        build: values::reqheader,
    },
    KeySpec {
        name: "resheader",
        aliases: &[alias("~hs", true)],
        arg: Arg::Required,
        form: "NAME|NAME=VALUE|NAME=~REGEX|~REGEX",
        expected: "a header name, NAME=VALUE, NAME=~REGEX or ~REGEX",
        description: "like header:, response headers only",
        example: "resheader:content-type=~text/html",
        regex: true,
        forbid: &[],
        build: values::resheader,
    },
    KeySpec {
        name: "error",
        aliases: &[alias("~e", false)],
        arg: Arg::Optional,
        form: "CLASS|WORD",
        expected: "an error class such as dns or a word of one such as tls",
        description: "the flow failed; optionally with that error class, or a class containing \
                      WORD (tls = upstream_tls or client_tls)",
        example: "error:tls",
        regex: false,
        forbid: OPS,
        build: values::error,
    },
    KeySpec {
        name: "size",
        aliases: &[],
        arg: Arg::Required,
        form: "[OP]N[UNIT]",
        expected: "a size such as >1MiB",
        description: "response body bytes (tunnels: bytes received); units B KiB MiB GiB k m g",
        example: "size:>1MiB",
        regex: false,
        forbid: OPS,
        build: values::size,
    },
    KeySpec {
        name: "duration",
        aliases: &[],
        arg: Arg::Required,
        form: "[OP]N[UNIT]",
        expected: "a duration such as >500ms",
        description: "total time of the flow; units ms (default), s, m",
        example: "duration:>500ms",
        regex: false,
        forbid: OPS,
        build: values::duration,
    },
    KeySpec {
        name: "kind",
        aliases: &[],
        arg: Arg::Required,
        form: "KIND[|KIND…]",
        expected: "a Go request kind such as zip or sumdb",
        description: "Go request kind: list info mod zip latest, proxy (any of those), sumdb, \
                      discovery, git, toolchain, or an exact kind (sumdb_lookup, git_refs…)",
        example: "kind:zip|mod",
        regex: false,
        forbid: &['&'],
        build: values::kind,
    },
    KeySpec {
        name: "module",
        aliases: &[],
        arg: Arg::Required,
        form: "GLOB|~REGEX",
        expected: "a module path or glob such as github.com/corp/*",
        description: "decoded Go module (or discovery import) path; case-sensitive",
        example: "module:github.com/corp/*",
        regex: true,
        forbid: OPS,
        build: values::module,
    },
    KeySpec {
        name: "version",
        aliases: &[],
        arg: Arg::Required,
        form: "GLOB|~REGEX",
        expected: "a version or glob such as v1.2.*",
        description: "module version of a .info/.mod/.zip or sumdb lookup request",
        example: "version:v1.2.*",
        regex: true,
        forbid: OPS,
        build: values::version,
    },
    KeySpec {
        name: "tool",
        aliases: &[],
        arg: Arg::Required,
        form: "go|git",
        expected: "go or git",
        description: "the client program, from its User-Agent",
        example: "tool:git",
        regex: false,
        forbid: OPS,
        build: values::tool,
    },
    KeySpec {
        name: "rule",
        aliases: &[],
        arg: Arg::Required,
        form: "NAME|GLOB|~REGEX",
        expected: "a rule name",
        description: "a rule with that name fired on the flow",
        example: "rule:mirror-*",
        regex: true,
        forbid: OPS,
        build: values::rule,
    },
    KeySpec {
        name: "tunnel",
        aliases: &[],
        arg: Arg::Flag,
        form: "",
        expected: "nothing",
        description: "a CONNECT tunnel gomitm passed through without decrypting",
        example: "tunnel & host:*.corp.example",
        regex: false,
        forbid: OPS,
        build: values::tunnel,
    },
    KeySpec {
        name: "pending",
        aliases: &[alias("~q", false)],
        arg: Arg::Flag,
        form: "",
        expected: "nothing",
        description: "an HTTP request with neither a response nor an error yet (in flight)",
        example: "pending & host:*.corp.example",
        regex: false,
        forbid: OPS,
        build: values::pending,
    },
    KeySpec {
        name: "response",
        aliases: &[alias("~s", false)],
        arg: Arg::Flag,
        form: "",
        expected: "nothing",
        description: "the flow has a response",
        example: "response & !status:2xx",
        regex: false,
        forbid: OPS,
        build: values::response,
    },
];

pub(crate) fn find_key(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

pub(crate) fn find_alias(name: &str) -> Option<(&'static KeySpec, &'static Alias)> {
    KEYS.iter()
        .flat_map(|k| k.aliases.iter().map(move |a| (k, a)))
        .find(|(_, a)| a.name.eq_ignore_ascii_case(name))
}

pub(crate) fn key_list() -> String {
    let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    format!("one of {}", names.join(", "))
}

pub(crate) fn alias_list() -> String {
    let names: Vec<&str> = KEYS
        .iter()
        .flat_map(|k| k.aliases.iter().map(|a| a.name))
        .collect();
    format!("one of {}", names.join(", "))
}

/// The closest key name within two edits, for "did you mean" hints.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    KEYS.iter()
        .map(|k| (edit_distance(&name, k.name), k.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// How a key is written in help: `host:GLOB|~REGEX`, `error[:CLASS|WORD]`, `tunnel`.
pub(crate) fn usage(key: &KeySpec) -> String {
    match key.arg {
        Arg::Flag => key.name.to_string(),
        Arg::Optional => format!("{}[:{}]", key.name, key.form),
        Arg::Required => format!("{}:{}", key.name, key.form),
    }
}

/// How an alias is written in help: `~d REGEX`, `~c CODE|OPCODE|Nxx`, `~e`.
pub(crate) fn alias_usage(key: &KeySpec, alias: &Alias) -> String {
    match (key.arg, alias.regex) {
        (Arg::Required, true) => format!("{} REGEX", alias.name),
        (Arg::Required, false) => format!("{} {}", alias.name, key.form),
        _ => alias.name.to_string(),
    }
}

/// Help for the filter language, generated from [`KEYS`].
pub fn help_text() -> String {
    let mut out = String::from(
        "Filter expressions select flows (log --filter, rule match, HAR export, report, TUI).\n\
         \nTerms (KEY:VALUE, no space after the colon):\n",
    );
    for key in KEYS {
        out.push_str(&format!(
            "  {}\n{}",
            usage(key),
            wrap(key.description, 6, 92)
        ));
        let aliases: Vec<String> = key.aliases.iter().map(|a| alias_usage(key, a)).collect();
        let also = if aliases.is_empty() {
            String::new()
        } else {
            format!("   (mitmproxy: {})", aliases.join(", "))
        };
        out.push_str(&format!("      e.g. {}{also}\n", key.example));
    }
    out.push_str(COMBINATORS);
    out
}

/// Word-wraps `text` into lines of at most `width` chars, each indented by `indent`.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{pad}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&format!("{pad}{line}\n"));
    out
}

const COMBINATORS: &str = "
A bare word matches anywhere in the URL (same as url:WORD).
Quote values with spaces or operators: \"...\" or '...' (\\\" and \\\\ escape inside).
A leading ~ in a value makes it a regex: url:~REGEX; quote it for a literal: url:\"~x\".

Combine terms (tightest first):
  !TERM   not TERM         negation
  A & B   A and B   A B    both (juxtaposition means and)
  A | B   A or B           either
  ( ... )                  grouping
Operators need spaces (or parentheses) around them: kind:zip|mod is one value.

Examples:
  kind:zip & status:>=400
  module:github.com/corp/* & !tool:git
  error:tls | (host:*.corp.example & duration:>2s)
  ~d proxy.golang.org & ~c 404
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_lower_case() {
        let mut seen = std::collections::HashSet::new();
        for key in KEYS {
            assert!(seen.insert(key.name), "duplicate {}", key.name);
            assert_eq!(key.name, key.name.to_ascii_lowercase());
            for a in key.aliases {
                assert!(seen.insert(a.name), "duplicate {}", a.name);
                assert!(a.name.starts_with('~'), "{}", a.name);
            }
        }
    }

    #[test]
    fn suggestions_catch_typos_only() {
        for (typo, want) in [
            ("hots", Some("host")),
            ("stauts", Some("status")),
            ("METHD", Some("method")),
            ("modul", Some("module")),
            ("xyzzy", None),
        ] {
            assert_eq!(suggest(typo), want, "{typo}");
        }
    }

    #[test]
    fn wrap_keeps_lines_short_and_words_whole() {
        let text = "aaa bbb ccc ddd eee";
        assert_eq!(wrap(text, 2, 10), "  aaa bbb\n  ccc ddd\n  eee\n");
        assert_eq!(wrap("x", 4, 10), "    x\n");
        for line in help_text().lines() {
            assert!(line.chars().count() <= 92, "{line}");
        }
    }

    #[test]
    fn usage_forms() {
        let key = |n| find_key(n).map(usage).unwrap_or_default();
        assert_eq!(key("host"), "host:GLOB|~REGEX");
        assert_eq!(key("error"), "error[:CLASS|WORD]");
        assert_eq!(key("tunnel"), "tunnel");
        let alias = |n| {
            find_alias(n)
                .map(|(k, a)| alias_usage(k, a))
                .unwrap_or_default()
        };
        assert_eq!(alias("~d"), "~d REGEX");
        assert_eq!(alias("~C"), "~c CODE|OPCODE|Nxx");
        assert_eq!(alias("~e"), "~e");
    }
}
