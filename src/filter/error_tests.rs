//! Error table tests: invalid expressions with the char position and message of the problem,
//! the caret rendering, the nesting limit, and a deterministic garbage run that must never
//! panic.

use super::Filter;

/// (input, char position of the problem, part of the message).
const INVALID: &[(&str, usize, &str)] = &[
    ("", 0, "empty filter"),
    ("   ", 0, "empty filter"),
    ("hots:x", 0, "unknown key 'hots' (did you mean 'host'?)"),
    (
        "stauts:500",
        0,
        "unknown key 'stauts' (did you mean 'status'?)",
    ),
    ("status:404 & sttaus:5xx", 13, "unknown key 'sttaus'"),
    ("foo:bar", 0, "unknown key 'foo'"),
    ("foo:8080x", 0, "unknown key 'foo'"),
    ("host:", 5, "missing value for 'host'"),
    ("host: proxy.golang.org", 5, "missing value for 'host'"),
    ("a & host:", 9, "missing value for 'host'"),
    ("status:abc", 7, "bad status 'abc'"),
    ("status:>=abc", 9, "bad status '>=abc'"),
    ("status:4040", 7, "bad status"),
    ("status:0xx", 7, "bad status"),
    ("status:~4", 7, "'status' does not take a regex"),
    ("size:>1XB", 7, "unknown size unit 'XB'"),
    ("size:>MiB", 6, "missing number"),
    ("size:>1.2.3MiB", 6, "bad number '1.2.3'"),
    ("size:99999999999GiB", 5, "size too large"),
    ("duration:>5h", 11, "unknown duration unit 'h'"),
    ("duration:fast", 9, "missing number"),
    ("url:~(", 5, "bad regex: unclosed group"),
    ("url:~ab(", 7, "bad regex: unclosed group"),
    ("path:~x{2,1}", 7, "bad regex"),
    ("header:ct=~[z-a]", 12, "bad regex"),
    ("~d a(", 4, "bad regex: unclosed group"),
    ("~d (", 3, "missing value after '~d'"), // "(" opens a group; quote it: ~d "("
    ("url:~", 5, "missing regex"),
    ("kind:zipp", 5, "unknown kind 'zipp'"),
    ("kind:zip|mdo", 9, "unknown kind 'mdo'"),
    ("kind:zip|", 9, "empty kind"),
    ("kind:zip&mod", 8, "'&' inside a value"),
    ("host:a&status:404", 6, "'&' inside a value"),
    ("host:a|host:b", 6, "'|' inside a value"),
    ("a|b", 1, "'|' inside a value"),
    ("host:https://x", 11, "'/' cannot appear in a host"),
    ("method:P0ST", 8, "'0' cannot appear in a method"),
    ("header:a!b", 8, "bad header name"),
    ("header:=x", 7, "bad header name"),
    ("header:a:b", 8, "bad header name"),
    ("error:tsl", 6, "unknown error class 'tsl'"),
    ("error:~x", 6, "'error' does not take a regex"),
    ("tool:curl", 5, "unknown tool 'curl'"),
    ("tunnel:yes", 7, "'tunnel' takes no value"),
    ("(host:a", 0, "unclosed '('"),
    ("a & (b | (c)", 4, "unclosed '('"),
    ("host:a)", 6, "unbalanced ')'"),
    ("a) & (b", 1, "unbalanced ')'"),
    ("()", 1, "empty parentheses"),
    ("host:a &", 8, "nothing after '&'"),
    ("host:a and ", 11, "nothing after 'and'"),
    ("a |", 3, "nothing after '|'"),
    ("!", 1, "nothing after '!'"),
    ("(", 1, "nothing after '('"),
    ("& host:a", 0, "unexpected '&'"),
    ("a | | b", 4, "unexpected '|'"),
    ("a & )", 4, "unexpected ')'"),
    ("~x foo", 0, "unknown filter '~x'"),
    ("~d", 2, "missing value after '~d'"),
    ("~d & a", 3, "missing value after '~d'"),
    ("url:\"abc", 4, "unterminated quoted string"),
    ("\"\"", 0, "empty quoted string"),
    ("é hots:x", 2, "unknown key 'hots'"),
];

#[test]
fn invalid_expressions_point_at_the_problem() {
    for &(input, position, message) in INVALID {
        let err = Filter::parse(input).err();
        let got = err.as_ref().map(|e| (e.position, e.message.as_str()));
        assert!(
            got.is_some_and(|(p, m)| p == position && m.contains(message)),
            "{input:?}: want {position} {message:?}, got {got:?}"
        );
        assert_eq!(err.map(|e| e.input).as_deref(), Some(input));
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    let err = Filter::parse(&deep).err().map(|e| e.message);
    assert_eq!(err.as_deref(), Some("filter nested too deeply"));
    let nots = format!("{}a", "!".repeat(5000));
    assert!(Filter::parse(&nots).is_err());
    let fine = format!("{}a{}", "(".repeat(50), ")".repeat(50));
    assert!(Filter::parse(&fine).is_ok());
}

#[test]
fn error_display_shows_the_caret_and_what_was_expected() {
    let err = Filter::parse("kind:zip & hots:x").err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("unknown key 'hots' (did you mean 'host'?)")
    );
    assert_eq!(lines.next(), Some("kind:zip & hots:x"));
    let caret = lines.next().unwrap_or_default();
    assert!(
        caret.starts_with("           ^ expected one of host, url, path,"),
        "{caret}"
    );
    assert_eq!(lines.next(), None);
}

/// A deterministic pseudo-random generator (Knuth's MMIX LCG) so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

const PIECES: &[&str] = &[
    "host:",
    "status:",
    "size:",
    "duration:",
    "kind:",
    "header:",
    "url:~",
    "error:",
    "~d ",
    "~c ",
    "~h",
    "tunnel",
    "!",
    "not ",
    "&",
    "|",
    "and",
    "or",
    "(",
    ")",
    " ",
    "\"",
    "'",
    "\\",
    "~",
    ":",
    "=",
    ">=",
    "<",
    "404",
    "5xx",
    "1.5",
    "MiB",
    "ms",
    "zip|",
    "*",
    "?",
    "[",
    "{",
    "é",
    "\t",
    "\u{0}",
    "a",
    "proxy.golang.org",
    "x=~",
    ".",
    "-",
    "0",
    "9999999999999999999",
];

#[test]
fn garbage_never_panics_and_accepted_input_round_trips() {
    let mut rng = Lcg(0x5eed);
    let mut accepted = 0;
    for _ in 0..600 {
        let len = rng.next() % 12;
        let input: String = (0..len)
            .map(|_| PIECES[rng.next() % PIECES.len()])
            .collect();
        match Filter::parse(&input) {
            Ok(filter) => {
                accepted += 1;
                let text = filter.to_string();
                assert_eq!(
                    Filter::parse(&text).ok(),
                    Some(filter),
                    "{input:?} → {text:?}"
                );
            }
            Err(err) => {
                assert!(err.position <= input.chars().count(), "{input:?}: {err:?}");
                assert!(!err.message.is_empty() && !err.expected.is_empty());
                assert!(err.to_string().contains('^'));
            }
        }
    }
    // The generator must exercise both paths, or this test proves little.
    assert!(accepted > 20, "only {accepted} accepted");
    for bytes in 0u8..=255 {
        let input = String::from_utf8_lossy(&[bytes, b':', bytes]).into_owned();
        let _ = Filter::parse(&input).map(|f| f.to_string());
    }
}
