//! Table tests of loading rules files: each action form, every kind of invalid file (with the
//! error's line and column), path resolution, and the repository's `rules.example.toml`.

use std::path::{Path, PathBuf};

use super::*;

/// A temporary directory with `mock.mod` (a file) and `mods/` (a directory).
fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mock.mod"), "module example.com/m\n").unwrap();
    std::fs::create_dir(dir.path().join("mods")).unwrap();
    dir
}

fn parse_in(dir: &Path, text: &str) -> Result<RuleSet, RulesError> {
    RuleSet::parse(text, dir)
}

fn actions_debug(set: &RuleSet) -> String {
    format!(
        "{:?}",
        set.rules.iter().map(|r| &r.actions).collect::<Vec<_>>()
    )
}

fn target(scheme: &str, host: &str, port: u16, path: &str) -> RemoteTarget {
    RemoteTarget {
        scheme: scheme.into(),
        host: host.into(),
        port,
        path: path.into(),
        strip_prefix: String::new(),
    }
}

fn re(p: &str) -> regex::Regex {
    regex::Regex::new(p).unwrap()
}

#[test]
fn every_action_form_builds_the_expected_actions() {
    let dir = fixture_dir();
    let d = dir.path();
    let block_reason = |rule: &str, why: Option<&str>| model::block_reason(rule, why);
    let cases: Vec<(&str, Vec<Action>)> = vec![
        (
            r#"map_remote = "https://goproxy.corp.example/goproxy/""#,
            vec![Action::MapRemote { to: target("https", "goproxy.corp.example", 443, "/goproxy") }],
        ),
        (r#"map_local = "mock.mod""#, vec![Action::MapLocal { path: d.join("mock.mod") }]),
        (r#"map_local = "mods""#, vec![Action::MapLocal { path: d.join("mods") }]),
        (
            r#"respond = { status = 410, headers = { "Content-Type" = "text/plain", "X-A" = "1" }, body = "gone" }"#,
            vec![Action::Respond {
                status: 410,
                headers: vec![("Content-Type".into(), "text/plain".into()), ("X-A".into(), "1".into())],
                body: Body::Text("gone".into()),
            }],
        ),
        (
            r#"respond = { body_file = "mock.mod" }"#,
            vec![Action::Respond { status: 200, headers: vec![], body: Body::File(d.join("mock.mod")) }],
        ),
        ("block = true", vec![Action::Block { status: 403, reason: block_reason("r", None) }]),
        (
            r#"block = { status = 451, reason = "not here" }"#,
            vec![Action::Block { status: 451, reason: "gomitm: blocked by rule \"r\": not here".into() }],
        ),
        ("delay = { response_ms = 200 }", vec![Action::Delay { request_ms: 0, response_ms: 200 }]),
        (r#"throttle = "1MiB/s""#, vec![Action::Throttle { bytes_per_sec: 1 << 20 }]),
        ("throttle = 4096", vec![Action::Throttle { bytes_per_sec: 4096 }]),
        (r#"reset = "1KiB""#, vec![Action::Reset { after_bytes: 1024 }]),
        ("reset = 1000", vec![Action::Reset { after_bytes: 1000 }]),
        ("hang = true", vec![Action::Hang]),
        ("dns_fail = true", vec![Action::DnsFail]),
        ("refuse = true", vec![Action::Refuse]),
        ("no_intercept = true", vec![Action::NoIntercept]),
        ("ignore = true\nhang = false", vec![Action::Ignore]),
        (
            "request.set_header = { \"X-Debug\" = \"1\", \"X-B\" = \"2\" }\nrequest.add_header = { \"X-Trace\" = \"a\" }",
            vec![
                Action::SetHeader { phase: Phase::Request, name: "X-Debug".into(), value: "1".into() },
                Action::SetHeader { phase: Phase::Request, name: "X-B".into(), value: "2".into() },
                Action::AddHeader { phase: Phase::Request, name: "X-Trace".into(), value: "a".into() },
            ],
        ),
        (
            "[rule.response]\nremove_header = [\"Server\", \"Via\"]\nreplace_header = [{ name = \"Location\", pattern = \"^http:\", with = \"https:\" }]",
            vec![
                Action::RemoveHeader { phase: Phase::Response, name: "Server".into() },
                Action::RemoveHeader { phase: Phase::Response, name: "Via".into() },
                Action::ReplaceHeader { phase: Phase::Response, name: "Location".into(), pattern: re("^http:"), with: "https:".into() },
            ],
        ),
    ];
    for (body, want) in cases {
        let text = format!("[[rule]]\nname = \"r\"\nmatch = \"host:goproxy.test\"\n{body}\n");
        let set = parse_in(d, &text).unwrap_or_else(|e| panic!("{body}\n{e}"));
        assert_eq!(actions_debug(&set), format!("{:?}", vec![want]), "{body}");
        assert_eq!(set.rules[0].line, 1);
    }
}

#[test]
fn actions_come_in_a_fixed_order_whatever_the_file_order() {
    let text = r#"
[[rule]]
name = "all"
throttle = 100
block = true
response.set_header = { "X-R" = "1" }
map_remote = "http://m.test"
delay = { request_ms = 5 }
request.remove_header = ["Cookie"]
no_intercept = true
ignore = true
"#;
    let err = RuleSet::parse(text, Path::new("."))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("map_remote and block both decide"), "{err}");
    let text = text.replace("block = true\n", "");
    let set = RuleSet::parse(&text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<&str> = set.rules[0].actions.iter().map(Action::key).collect();
    assert_eq!(
        keys,
        [
            "ignore",
            "no_intercept",
            "request.remove_header",
            "delay",
            "map_remote",
            "response.set_header",
            "throttle"
        ]
    );
    assert_eq!(set.rules[0].line, 2);
}

#[test]
fn a_rule_without_match_matches_every_flow() {
    let set = RuleSet::parse("[[rule]]\nname = \"all\"\nhang = true\n", Path::new(".")).unwrap();
    let rule = &set.rules[0];
    assert!(!rule.matcher.needs_response());
    for url in [
        "https://proxy.golang.org/x/@v/list",
        "http://a.test",
        "https://[::1]:8443/",
    ] {
        assert!(
            rule.matcher
                .matches(&crate::flow::testing::FlowBuilder::get(url).build()),
            "{url}"
        );
    }
    assert!(rule.matcher.matches(&connect_stub("h.test", 443)));
}

#[test]
fn an_empty_file_has_no_rules() {
    for text in ["", "# nothing yet\n"] {
        assert!(RuleSet::parse(text, Path::new(".")).unwrap().is_empty());
    }
}

#[derive(Debug, PartialEq)]
enum Kind {
    Syntax,
    Invalid,
}

/// `(file text, kind, line, column, message part)`; `{q}` in a `match` stands for the column
/// of its opening quote, so filter positions are checked to fold into the column.
#[test]
fn invalid_files_point_at_line_and_column() {
    let cases: Vec<(&str, Kind, usize, usize, &str)> = vec![
        ("[[rule]]\nname = \"a\"\nbogus = 1\nhang = true", Kind::Syntax, 3, 1, "unknown field `bogus`"),
        ("[[rule]]\nname = \"a\"\nrequest.sethdr = { a = \"1\" }", Kind::Syntax, 3, 9, "unknown field `sethdr`"),
        ("[[rules]]\nname = \"a\"", Kind::Syntax, 1, 3, "unknown field `rules`"),
        ("[[rule]]\nhang = true", Kind::Syntax, 1, 1, "missing field `name`"),
        ("[[rule]]\nname = \"a\"\nhang = 3", Kind::Syntax, 3, 8, "expected a boolean"),
        ("[[rule]]\nname = \"a\"\nblock = \"yes\"", Kind::Syntax, 3, 9, "true or a table"),
        ("[[rule]]\nname = \"a\"\nblock = { status = 403, why = \"x\" }", Kind::Syntax, 3, 25, "unknown field `why`"),
        ("[[rule]]\nname = \"a\"\nname = \"b\"", Kind::Syntax, 3, 1, "duplicate key"),
        ("[[rule]\nname = \"a\"", Kind::Syntax, 1, 7, "invalid table header"),
        ("[[rule]]\nname = \"a\"\nmatch = \"hots:x\"\nhang = true", Kind::Invalid, 3, 10, "invalid match: unknown key"),
        ("[[rule]]\nname = \"a\"\nmatch   =   'host:a.test & (method:GET'\nhang = true", Kind::Invalid, 3, 28, "invalid match"),
        ("[[rule]]\nname = \"a\"\nmatch = \"host:\\u0061 &\"\nhang = true", Kind::Invalid, 3, 9, "invalid match"),
        ("[[rule]]\nname = \"a\"\nresponse.replace_header = [{ name = \"Server\", pattern = \"nginx(\" }]", Kind::Invalid, 3, 57, "invalid pattern: unclosed group"),
        ("[[rule]]\nname = \"a\"\nmap_local = \"nope/x.mod\"", Kind::Invalid, 3, 13, "map_local: no such file or directory"),
        ("[[rule]]\nname = \"a\"\nrespond = { body_file = \"mods\" }", Kind::Invalid, 3, 25, "body_file: no such file"),
        ("[[rule]]\nname = \"a\"\nrespond = { body = \"x\", body_file = \"mock.mod\" }", Kind::Invalid, 3, 37, "body or body_file, not both"),
        ("[[rule]]\nname = \"a\"\nhang = true\n\n[[rule]]\nname = \"a\"\nhang = true", Kind::Invalid, 6, 8, "duplicate rule name (first used by the rule on line 1)"),
        ("[[rule]]\nname = \"a\"\nmatch = \"host:x\"", Kind::Invalid, 2, 8, "no action"),
        ("[[rule]]\nname = \"a\"\nhang = false", Kind::Invalid, 2, 8, "no action"),
        ("[[rule]]\nname = \"  \"\nhang = true", Kind::Invalid, 2, 8, "name is empty"),
        ("[[rule]]\nname = \"a\"\nrespond = { status = 99 }", Kind::Invalid, 3, 22, "status 99 is not an HTTP status"),
        ("[[rule]]\nname = \"a\"\nblock = { status = 600 }", Kind::Invalid, 3, 20, "status 600"),
        ("[[rule]]\nname = \"a\"\nmap_remote = \"ftp://mirror.test/\"", Kind::Invalid, 3, 14, "only http:// and https://"),
        ("[[rule]]\nname = \"a\"\nmap_remote = \"mirror.test\"", Kind::Invalid, 3, 14, "not an absolute URL"),
        ("[[rule]]\nname = \"a\"\nhang = true\nrefuse = true", Kind::Invalid, 4, 10, "refuse and hang both decide"),
        ("[[rule]]\nname = \"a\"\nmatch = \"status:404\"\nblock = true", Kind::Invalid, 3, 9, "block acts before"),
        ("[[rule]]\nname = \"a\"\nmatch = \"status:404\"\ndelay = { request_ms = 1 }", Kind::Invalid, 3, 9, "delay acts before"),
        ("[[rule]]\nname = \"a\"\nthrottle = \"fast\"", Kind::Invalid, 3, 12, "throttle: \"fast\" is not a rate"),
        ("[[rule]]\nname = \"a\"\nthrottle = 0", Kind::Invalid, 3, 12, "never finish"),
        ("[[rule]]\nname = \"a\"\nreset = -1", Kind::Invalid, 3, 9, "reset: -1 is negative"),
        ("[[rule]]\nname = \"a\"\nreset = \"1XB\"", Kind::Invalid, 3, 9, "unknown size unit"),
        ("[[rule]]\nname = \"a\"\ndelay = {}", Kind::Invalid, 3, 9, "delay needs"),
        ("[[rule]]\nname = \"a\"\nrequest.set_header = { \"X Y\" = \"1\" }", Kind::Invalid, 3, 24, "not a valid header name"),
        ("[[rule]]\nname = \"a\"\nrequest.set_header = { \"X\" = \"a\\nb\" }", Kind::Invalid, 3, 30, "not a valid header value"),
    ];
    let dir = fixture_dir();
    let mut wrong = Vec::new();
    for (text, kind, line, column, part) in cases {
        let err = match parse_in(dir.path(), text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        };
        let got_kind = match &err {
            RulesError::Syntax { .. } => Kind::Syntax,
            RulesError::Invalid { rule, .. } => {
                assert!(rule == "a" || rule.trim().is_empty(), "{text}");
                Kind::Invalid
            }
            other => panic!("{other:?}"),
        };
        let ok = got_kind == kind
            && err.position() == Some((line, column))
            && err.to_string().contains(part);
        if !ok {
            wrong.push(format!(
                "{text}\n  want {kind:?} {line}:{column} {part:?}, got {got_kind:?}:\n{err}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn errors_render_with_file_position_rule_and_caret() {
    let text = "[[rule]]\nname = \"mirror\"\nmatch = \"host:a.test & hots:b\"\nhang = true\n";
    let err = RuleSet::parse(text, Path::new("."))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let mut lines = err.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("<rules>:3:24: rule \"mirror\": invalid match: "),
        "{err}"
    );
    assert_eq!(lines.next(), Some("  match = \"host:a.test & hots:b\""));
    assert_eq!(lines.next(), Some(&*format!("  {}^", " ".repeat(23))));
}

#[test]
fn load_reads_the_file_and_resolves_paths_against_its_directory() {
    let dir = fixture_dir();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, "[[rule]]\nname = \"m\"\nmap_local = \"mods\"\n").unwrap();
    let set = RuleSet::load(&path).unwrap();
    assert_eq!(
        format!("{:?}", set.rules[0].actions),
        format!(
            "{:?}",
            [Action::MapLocal {
                path: dir.path().join("mods")
            }]
        )
    );
    std::fs::write(&path, "[[rule]]\nname = \"m\"\nmap_local = \"gone\"\n").unwrap();
    let err = check(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with(&format!(
            "{}:3:13: rule \"m\": map_local: no such",
            path.display()
        )),
        "{err}"
    );
    let missing = dir.path().join("missing.toml");
    assert!(matches!(
        RuleSet::load(&missing),
        Err(RulesError::Io { .. })
    ));
}

#[test]
fn the_example_rules_file_loads() {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "rules.example.toml"]
        .iter()
        .collect();
    let set = RuleSet::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(set.rules.len() >= 5, "{set:?}");
}
