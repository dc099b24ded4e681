//! Parser table tests: valid expressions and their canonical form, round trips, equivalent
//! spellings, quoting, `needs_response`, the help text and the examples in docs/FILTERS.md.
//! Invalid input is in `error_tests`.

use super::keys::KEYS;
use super::{help_text, quote, Filter};

fn canonical(input: &str) -> Result<String, String> {
    Filter::parse(input)
        .map(|f| f.to_string())
        .map_err(|e| e.to_string())
}

/// (input, canonical form).
const VALID: &[(&str, &str)] = &[
    ("host:proxy.golang.org", "host:proxy.golang.org"),
    ("host:*.corp.example", "host:*.corp.example"),
    ("HOST:*.Corp.example", "host:*.Corp.example"),
    ("host:~golang\\.org$", "host:~golang\\.org$"),
    ("status:404", "status:404"),
    ("status:=404", "status:404"),
    ("status:==404", "status:404"),
    ("status:>=400", "status:>=400"),
    ("status:<300", "status:<300"),
    ("status:>499", "status:>499"),
    ("status:<=299", "status:<=299"),
    ("status:5xx", "status:5xx"),
    ("status:4XX", "status:4xx"),
    ("method:post", "method:POST"),
    ("url:~^https://sum\\.", "url:~^https://sum\\."),
    ("url:/@v/list", "url:/@v/list"),
    ("url:a=1&b=2", "url:a=1&b=2"),
    ("url:~(a|b)", "url:~(a|b)"),
    ("(url:~(a|b))", "url:~(a|b)"),
    ("path:/@v/", "path:/@v/"),
    ("path:~\\.zip$", "path:~\\.zip$"),
    ("header:Authorization", "header:authorization"),
    ("header:content-type=~json", "header:content-type=~json"),
    ("header:x=exact", "header:x=exact"),
    ("header:x=\"a b\"", "header:x=\"a b\""),
    (
        "header:\"user-agent=Go http\"",
        "header:user-agent=\"Go http\"",
    ),
    ("header:x=\"~lit\"", "header:x=\"~lit\""),
    ("header:x=", "header:x=\"\""),
    ("header:~\"^user-agent: go\"", "header:~\"^user-agent: go\""),
    (
        "reqheader:git-protocol=version=2",
        "reqheader:git-protocol=version=2",
    ),
    ("resheader:content-type", "resheader:content-type"),
    ("error:", "error:"),
    ("error", "error:"),
    ("error:TLS", "error:tls"),
    ("error:dns", "error:dns"),
    ("error:upstream_reset", "error:upstream_reset"),
    ("size:>1MiB", "size:>1MiB"),
    ("size:>=1.5KiB", "size:>=1536"),
    ("size:<2k", "size:<2000"),
    ("size:1m", "size:1000000"),
    ("size:=0", "size:0"),
    ("size:>1gib", "size:>1GiB"),
    ("duration:>500ms", "duration:>500ms"),
    ("duration:>2s", "duration:>2s"),
    ("duration:<1.5s", "duration:<1500ms"),
    ("duration:>250", "duration:>250ms"),
    ("duration:>1m", "duration:>60s"),
    ("kind:zip", "kind:zip"),
    (
        "kind:zip|mod|info|list|latest",
        "kind:zip|mod|info|list|latest",
    ),
    (
        "kind:sumdb|discovery|git|toolchain",
        "kind:sumdb|discovery|git|toolchain",
    ),
    ("kind:ZIP|zip|proxy", "kind:zip|proxy"),
    ("kind:sumdb_lookup|git_refs", "kind:sumdb_lookup|git_refs"),
    ("module:github.com/corp/*", "module:github.com/corp/*"),
    ("module:\"github.com/a&b\"", "module:\"github.com/a&b\""),
    ("version:v1.2.*", "version:v1.2.*"),
    ("version:~^v0\\.0\\.0-", "version:~^v0\\.0\\.0-"),
    ("tool:git", "tool:git"),
    ("tool:Go", "tool:go"),
    ("rule:block-sumdb", "rule:block-sumdb"),
    ("rule:mirror-*", "rule:mirror-*"),
    ("tunnel", "tunnel"),
    ("tunnel:", "tunnel"),
    ("pending", "pending"),
    ("response", "response"),
    ("proxy.golang.org", "url:proxy.golang.org"),
    (
        "https://proxy.golang.org/x",
        "url:https://proxy.golang.org/x",
    ),
    ("localhost:8080", "url:localhost:8080"),
    ("localhost:8080/x", "url:localhost:8080/x"),
    ("\"two words\"", "url:\"two words\""),
    ("'and'", "url:and"),
    ("~d proxy.golang.org", "host:~proxy.golang.org"),
    ("~u \\.zip$", "url:~\\.zip$"),
    ("~m POST", "method:POST"),
    ("~c 404", "status:404"),
    ("~c >=500", "status:>=500"),
    (
        "~h \"content-type: .*json\"",
        "header:~\"content-type: .*json\"",
    ),
    ("~hq authorization", "reqheader:~authorization"),
    ("~hs x-cache", "resheader:~x-cache"),
    ("~q", "pending"),
    ("~s", "response"),
    ("~e", "error:"),
    (
        "~d proxy.golang.org & ~c 404",
        "host:~proxy.golang.org & status:404",
    ),
    ("a b", "url:a & url:b"),
    ("a & b", "url:a & url:b"),
    ("a && b", "url:a & url:b"),
    ("a and b", "url:a & url:b"),
    ("a AND b", "url:a & url:b"),
    ("a | b", "url:a | url:b"),
    ("a || b or c", "url:a | url:b | url:c"),
    ("!a", "!url:a"),
    ("not a", "!url:a"),
    ("!!a", "!!url:a"),
    ("! a", "!url:a"),
    ("a | b & c", "url:a | url:b & url:c"),
    ("a & b | c", "url:a & url:b | url:c"),
    ("(a | b) & c", "(url:a | url:b) & url:c"),
    ("!(a | b)", "!(url:a | url:b)"),
    ("!a & b", "!url:a & url:b"),
    ("!(a & b)", "!(url:a & url:b)"),
    ("(a & b) & c", "url:a & url:b & url:c"),
    ("a & (b & c)", "url:a & url:b & url:c"),
    ("(a | b) | c", "url:a | url:b | url:c"),
    ("((a))", "url:a"),
    ("not not a", "!!url:a"),
    ("kind:zip & status:>=400", "kind:zip & status:>=400"),
    (
        "module:github.com/corp/* & !tool:git",
        "module:github.com/corp/* & !tool:git",
    ),
    ("(host:a)|(host:b)", "host:a | host:b"),
    ("  host:a\t&\nstatus:5xx  ", "host:a & status:5xx"),
];

#[test]
fn valid_expressions_parse_to_their_canonical_form() {
    for (input, want) in VALID {
        assert_eq!(canonical(input), Ok(want.to_string()), "{input:?}");
        // The canonical form is a fixed point.
        assert_eq!(canonical(want), Ok(want.to_string()), "{want:?}");
    }
}

#[test]
fn canonical_form_round_trips() {
    for input in [
        "host:a & (status:404 | status:5xx) & !tool:git",
        "!(a | b) & (c | !d)",
        "header:x=\"say \\\"hi\\\"\" | url:\"a\\\\b\"",
        "url:~\"\\d+ \\w\" & path:'(' & module:\"(x\"",
        "size:>=1536 | size:<1KiB | duration:<=0.25ms | duration:>=3s",
        "kind:git|toolchain & version:~\"~x\" & rule:\"a|b\"",
        "url:\"~not a regex\" | url:~\"\\(\" ",
        "error: tunnel pending response ~e ~q ~s",
        "header:~\"^x: (a|b)\" & reqheader:a=~b & resheader:c=d",
        "\"é ü\" | host:ÿ.test",
    ] {
        let Ok(first) = Filter::parse(input) else {
            panic!("{input:?} did not parse: {:?}", Filter::parse(input));
        };
        let text = first.to_string();
        let again = Filter::parse(&text);
        assert_eq!(again.as_ref().ok(), Some(&first), "{input:?} → {text:?}");
        assert_eq!(
            again.map(|f| f.to_string()).ok(),
            Some(text.clone()),
            "{text:?}"
        );
        let parsed: Result<Filter, _> = text.parse();
        assert_eq!(parsed.ok(), Some(first));
    }
}

#[test]
fn quoted_values_read_back_literally() {
    for value in [
        "plain",
        "a b",
        "~x",
        "a&b|c",
        "say \"hi\"",
        "back\\slash",
        "(",
        "it's",
    ] {
        let contains = Filter::parse(&format!("url:{}", quote(value)));
        assert_eq!(
            contains,
            Filter::parse(&format!("url:{value:?}")),
            "{value:?}"
        );
        let expected = format!("url:{}", super::text::quote(value, &[]));
        assert_eq!(
            contains.map(|f| f.to_string()).ok(),
            Some(expected),
            "{value:?}"
        );
    }
    let regex = format!("url:~{}", quote(&regex::escape("https://h/a b")));
    assert_eq!(
        Filter::parse(&regex).map(|f| f.to_string()).ok().as_deref(),
        Some("url:~\"https://h/a b\"")
    );
}

#[test]
fn equivalent_spellings_parse_equal() {
    for (a, b) in [
        ("~d golang", "host:~golang"),
        ("~u x", "url:~x"),
        ("~m get", "method:GET"),
        ("~c 404", "status:404"),
        ("~h json", "header:~json"),
        ("~e", "error:"),
        ("~q", "pending"),
        ("~s", "response"),
        ("a b c", "a & b & c"),
        ("not a or b and c", "!a | (b & c)"),
        ("a and not b", "a & !b"),
        ("proxy", "url:proxy"),
        ("kind:zip|mod", "kind:zip|mod|zip"),
        ("size:>1MiB", "size:>1048576"),
        ("size:>1024", "size:>1KiB"),
        ("duration:>1s", "duration:>1000ms"),
        ("header:X-A", "header:x-a"),
        ("host:\"a.test\"", "host:a.test"),
    ] {
        let (fa, fb) = (Filter::parse(a), Filter::parse(b));
        assert!(fa.is_ok(), "{a:?}: {fa:?}");
        assert_eq!(fa, fb, "{a:?} vs {b:?}");
    }
}

#[test]
fn every_example_in_the_reference_parses() {
    let doc = include_str!("../../docs/FILTERS.md");
    let mut in_block = false;
    let mut count = 0;
    for line in doc.lines() {
        match line {
            "```filter" => in_block = true,
            "```" => in_block = false,
            _ if in_block => {
                count += 1;
                assert!(
                    Filter::parse(line).is_ok(),
                    "{line:?}: {:?}",
                    Filter::parse(line)
                );
            }
            _ => {}
        }
    }
    assert!(count >= 10, "only {count} examples found");
}

#[test]
fn needs_response_only_for_response_side_terms() {
    for (input, want) in [
        ("host:a", false),
        ("url:x | path:/@v/ | method:GET", false),
        ("kind:zip & module:x/* & version:v1.* & tool:go", false),
        ("reqheader:authorization", false),
        ("tunnel", false),
        ("~q", false),
        ("!host:a", false),
        ("status:404", true),
        ("~c 404", true),
        ("header:authorization", true),
        ("~h x", true),
        ("resheader:content-type", true),
        ("error:", true),
        ("error:tls", true),
        ("size:>1MiB", true),
        ("duration:>1s", true),
        ("rule:x", true),
        ("~s", true),
        ("host:a & status:404", true),
        ("host:a | !duration:>1s", true),
    ] {
        let got = Filter::parse(input).map(|f| f.needs_response());
        assert_eq!(got.ok(), Some(want), "{input:?}");
    }
}

#[test]
fn help_text_lists_every_key_alias_and_example() {
    let help = help_text();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for key in KEYS {
        assert!(
            help.contains(&format!("  {}", key.name)),
            "key {}",
            key.name
        );
        assert!(help.contains(key.example), "example {}", key.example);
        assert!(
            flat.contains(key.description),
            "description of {}",
            key.name
        );
        for alias in key.aliases {
            assert!(help.contains(alias.name), "alias {}", alias.name);
        }
        // Every example in the help must itself parse.
        assert!(Filter::parse(key.example).is_ok(), "{}", key.example);
    }
    for alias in ["~d", "~u", "~m", "~c", "~h", "~q", "~s", "~e"] {
        assert!(help.contains(alias), "{alias}");
    }
    for word in ["!", "not", "&", "and", "|", "or", "("] {
        assert!(help.contains(word), "{word}");
    }
}
