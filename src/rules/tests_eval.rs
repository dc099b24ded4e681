//! Which rules apply to a flow (`for_request`, `for_response`, `no_intercept`) and the
//! command-line quick forms.

use std::path::Path;

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{GoKind, GoRequest};

fn rules(text: &str) -> RuleSet {
    RuleSet::parse(text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

fn names(list: &[&Rule]) -> Vec<String> {
    list.iter().map(|r| r.name.clone()).collect()
}

const CHAIN: &str = r#"
[[rule]]
name = "debug header"
match = "host:goproxy.test"
request.set_header = { "X-Debug" = "1" }

[[rule]]
name = "slow 404s"
match = "status:404"
delay = { response_ms = 100 }

[[rule]]
name = "no server header"
response.remove_header = ["Server"]

[[rule]]
name = "block zips"
match = "host:goproxy.test & path:.zip"
block = true
response.set_header = { "X-Blocked" = "1" }

[[rule]]
name = "trace everything"
request.add_header = { "X-Trace" = "on" }

[[rule]]
name = "tunnel bank"
match = "host:*.bank.test"
no_intercept = true
"#;

#[test]
fn for_request_keeps_file_order_and_stops_after_a_terminal_rule() {
    let set = rules(CHAIN);
    for (url, want) in [
        (
            "https://goproxy.test/m/@v/list",
            vec!["debug header", "trace everything"],
        ),
        (
            "https://goproxy.test/m/@v/v1.0.0.zip",
            vec!["debug header", "block zips"],
        ),
        ("https://other.test/", vec!["trace everything"]),
        ("https://www.bank.test/", vec!["trace everything"]),
    ] {
        let flow = FlowBuilder::get(url).build();
        assert_eq!(names(&set.for_request(&flow)), want, "{url}");
    }
}

#[test]
fn response_matches_wait_for_the_response() {
    let set = rules(CHAIN);
    // In the request phase a `status:` rule is never decided, even negated.
    let negated =
        rules("[[rule]]\nname = \"n\"\nmatch = \"!status:404\"\ndelay = { response_ms = 1 }\n");
    let pending = FlowBuilder::get("https://other.test/x").build();
    assert!(negated.for_request(&pending).is_empty());
    for (status, want) in [
        (404, vec!["slow 404s", "no server header"]),
        (200, vec!["no server header"]),
    ] {
        let flow = FlowBuilder::get("https://other.test/x")
            .status(status, b"")
            .build();
        assert_eq!(names(&set.for_response(&flow)), want, "{status}");
    }
    let zip = FlowBuilder::get("https://goproxy.test/m/@v/v1.0.0.zip")
        .status(403, b"")
        .build();
    assert_eq!(
        names(&set.for_response(&zip)),
        ["no server header", "block zips"]
    );
}

#[test]
fn actions_in_a_phase() {
    let set = rules(CHAIN);
    let block = &set.rules[3];
    assert!(block.is_terminal());
    let request: Vec<&str> = block.actions_in(Phase::Request).map(Action::key).collect();
    let response: Vec<&str> = block.actions_in(Phase::Response).map(Action::key).collect();
    assert_eq!(
        (request, response),
        (vec!["block"], vec!["response.set_header"])
    );
    let delay = Action::Delay {
        request_ms: 0,
        response_ms: 5,
    };
    assert!(!delay.acts_in(Phase::Request) && delay.acts_in(Phase::Response));
    assert!(
        !Action::NoIntercept.acts_in(Phase::Request)
            && !Action::NoIntercept.acts_in(Phase::Response)
    );
    for (action, terminal) in [
        (Action::Hang, true),
        (Action::DnsFail, true),
        (Action::Refuse, true),
        (Action::MapLocal { path: "x".into() }, true),
        (Action::Ignore, false),
        (Action::Reset { after_bytes: 1 }, false),
        (Action::Throttle { bytes_per_sec: 1 }, false),
    ] {
        assert_eq!(action.is_terminal(), terminal, "{action:?}");
    }
}

#[test]
fn no_intercept_follows_file_order() {
    let set = rules(CHAIN);
    let hit = set.no_intercept(&connect_stub("www.bank.test", 443));
    assert_eq!(hit.map(|r| r.name.as_str()), Some("tunnel bank"));
    assert!(set
        .no_intercept(&connect_stub("goproxy.test", 443))
        .is_none());
    let blocked_first = rules(
        "[[rule]]\nname = \"b\"\nmatch = \"host:a.test\"\nrefuse = true\n\n[[rule]]\nname = \"t\"\nmatch = \"host:*.test\"\nno_intercept = true\n",
    );
    assert!(blocked_first
        .no_intercept(&connect_stub("a.test", 443))
        .is_none());
    assert!(blocked_first
        .no_intercept(&connect_stub("b.test", 8443))
        .is_some());
    let stub = connect_stub("::1", 8443);
    assert_eq!(
        (stub.request.method.as_ref(), stub.request.url.as_str()),
        ("CONNECT", "https://[::1]:8443/")
    );
}

#[test]
fn extend_appends_after_existing_rules() {
    let mut set = rules("[[rule]]\nname = \"first\"\nhang = true\n");
    set.extend(rules("[[rule]]\nname = \"second\"\nhang = true\n"));
    let all: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(all, ["first", "second"]);
}

fn quick(q: QuickForms) -> RuleSet {
    RuleSet::from_quick_forms(&q).unwrap_or_else(|e| panic!("{e}"))
}

fn all_forms() -> RuleSet {
    quick(QuickForms {
        set_header: vec!["X-Debug: 1 2".into()],
        remove_header: vec!["Cookie".into()],
        block: vec!["kind:sumdb".into()],
        map_remote: vec!["https://proxy.golang.org=http://127.0.0.1:3000/goproxy".into()],
        delay: vec!["kind:zip=250ms".into(), "100".into()],
        no_intercept: Vec::new(),
    })
}

#[test]
fn quick_forms_become_named_rules_in_a_fixed_order() {
    let set = all_forms();
    let got: Vec<(String, String)> = set
        .rules
        .iter()
        .map(|r| (r.name.clone(), format!("{:?}", r.actions)))
        .collect();
    let to = RemoteTarget::parse("http://127.0.0.1:3000/goproxy").unwrap();
    let want: Vec<(&str, Action)> = vec![
        (
            "--set-header X-Debug: 1 2",
            Action::SetHeader {
                phase: Phase::Request,
                name: "X-Debug".into(),
                value: "1 2".into(),
            },
        ),
        (
            "--remove-header Cookie",
            Action::RemoveHeader {
                phase: Phase::Request,
                name: "Cookie".into(),
            },
        ),
        (
            "--map-remote https://proxy.golang.org=http://127.0.0.1:3000/goproxy",
            Action::MapRemote { to },
        ),
        (
            "--delay kind:zip=250ms",
            Action::Delay {
                request_ms: 250,
                response_ms: 0,
            },
        ),
        (
            "--delay 100",
            Action::Delay {
                request_ms: 100,
                response_ms: 0,
            },
        ),
        (
            "--block kind:sumdb",
            Action::Block {
                status: 403,
                reason: "gomitm: blocked by rule \"--block kind:sumdb\"".into(),
            },
        ),
    ];
    let want: Vec<(String, String)> = want
        .into_iter()
        .map(|(n, a)| (n.to_string(), format!("{:?}", vec![a])))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn quick_rules_apply_like_file_rules() {
    let set = all_forms();
    let mut sumdb = FlowBuilder::get("https://sum.golang.org/lookup/m@v1").build();
    sumdb.go = Some(Box::new(GoRequest {
        kind: GoKind::SumdbLookup,
        ..GoRequest::default()
    }));
    assert_eq!(
        names(&set.for_request(&sumdb)),
        [
            "--set-header X-Debug: 1 2",
            "--remove-header Cookie",
            "--delay 100",
            "--block kind:sumdb"
        ]
    );
}

#[test]
fn quick_map_remote_matches_only_under_the_prefix() {
    let set = quick(QuickForms {
        map_remote: vec!["https://Proxy.golang.org/sub/=https://mirror.test/goproxy".into()],
        ..QuickForms::default()
    });
    let rule = &set.rules[0];
    for (url, want) in [
        ("https://proxy.golang.org/sub/m/@v/list", true),
        ("https://PROXY.golang.org:443/sub", true),
        ("https://proxy.golang.org/sub?x=1", true),
        ("https://proxy.golang.org/subway/x", false),
        ("https://proxy.golang.org/other", false),
        ("http://proxy.golang.org/sub/x", false),
        ("https://proxy.golang.org.evil.test/sub/x", false),
        ("https://proxy.golang.org:8443/sub/x", false),
    ] {
        assert_eq!(
            rule.matcher.matches(&FlowBuilder::get(url).build()),
            want,
            "{url}"
        );
    }
    let Action::MapRemote { to } = &rule.actions[0] else {
        panic!("{rule:?}")
    };
    assert_eq!(
        to.map_url("https://proxy.golang.org/sub/m/@v/list?x"),
        "https://mirror.test/goproxy/m/@v/list?x"
    );
}

/// Quick forms with one `flag` given once.
fn one(flag: &str, value: &str) -> QuickForms {
    let mut q = QuickForms::default();
    let form = QuickForm::ORDER.into_iter().find(|f| f.flag() == flag);
    let list = match form {
        Some(QuickForm::SetHeader) => &mut q.set_header,
        Some(QuickForm::RemoveHeader) => &mut q.remove_header,
        Some(QuickForm::Block) => &mut q.block,
        Some(QuickForm::MapRemote) => &mut q.map_remote,
        Some(QuickForm::NoIntercept) => &mut q.no_intercept,
        Some(QuickForm::Delay) => &mut q.delay,
        None => panic!("no quick form {flag}"),
    };
    list.push(value.to_string());
    q
}

#[test]
fn quick_form_errors_point_into_the_value() {
    let cases: Vec<(&str, &str, usize, &str)> = vec![
        ("--block", "kind:sumdb & hots:x", 14, "invalid filter"),
        ("--block", "status:404", 1, "looks at the response"),
        ("--delay", "kind:zip=soon", 10, "not a duration"),
        ("--delay", "hots:x=5", 1, "invalid filter"),
        ("--set-header", "X-Debug 1", 1, "expected \"Name: value\""),
        ("--set-header", "X Y: 1", 1, "not a valid header name"),
        ("--remove-header", "", 1, "not a valid header name"),
        ("--map-remote", "proxy.golang.org", 1, "expected FROM=TO"),
        ("--map-remote", "ftp://a=https://b", 1, "FROM:"),
        ("--map-remote", "https://a=https://b:x", 11, "TO:"),
        ("--no-intercept", "*.corp example", 7, "host glob"),
        ("--no-intercept", "a|b", 2, "host glob"),
        ("--no-intercept", " ", 1, "expected a host glob"),
    ];
    for (flag, value, column, part) in cases {
        let err = match RuleSet::from_quick_forms(&one(flag, value)) {
            Ok(set) => panic!("accepted {flag} {value}: {set:?}"),
            Err(e) => e,
        };
        let RulesError::Arg {
            flag: got_flag,
            column: got_column,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (got_flag.as_str(), *got_column),
            (flag, column),
            "{value}\n{err}"
        );
        assert!(err.to_string().contains(part), "{value}\n{err}");
    }
}

/// `--no-intercept GLOB` is the `no_intercept` rule: the same matcher decides both spellings
/// (shell-like globs on the host, case-insensitive, the port never part of it).
#[test]
fn the_no_intercept_flag_is_a_no_intercept_rule() {
    let set = RuleSet::from_quick_forms(&one("--no-intercept", "*.corp.example"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.rules.len(), 1);
    assert!(matches!(set.rules[0].actions[..], [Action::NoIntercept]));
    let tunnelled = |host: &str, port: u16| set.no_intercept(&connect_stub(host, port)).is_some();
    assert!(tunnelled("git.corp.example", 443));
    assert!(tunnelled("A.B.Corp.Example", 8443));
    assert!(!tunnelled("corp.example", 443));
    assert!(!tunnelled("git.corp.example.evil", 443));
    let exact = RuleSet::from_quick_forms(&one("--no-intercept", "proxy.golang.org")).unwrap();
    assert!(exact
        .no_intercept(&connect_stub("PROXY.golang.org", 443))
        .is_some());
    assert!(exact
        .no_intercept(&connect_stub("proxy.golang.org.evil", 443))
        .is_none());
    let all = RuleSet::from_quick_forms(&one("--no-intercept", "*")).unwrap();
    assert!(all.no_intercept(&connect_stub("anything", 443)).is_some());
}

/// The quick forms follow the file: a file rule that answers a host's requests keeps that host
/// intercepted even when `--no-intercept` names it, and a file that says nothing about the host
/// leaves the flag in charge.
#[test]
fn no_intercept_flag_comes_after_the_files_terminal_rules() {
    let mut set = RuleSet::parse(
        "[[rule]]\nname = \"stop a\"\nmatch = \"host:a.test\"\nblock = true\n",
        Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    set.extend(RuleSet::from_quick_forms(&one("--no-intercept", "*.test")).unwrap());
    assert!(set.no_intercept(&connect_stub("a.test", 443)).is_none());
    let hit = set.no_intercept(&connect_stub("b.test", 443));
    assert_eq!(hit.map(|r| r.name.as_str()), Some("--no-intercept *.test"));
}

#[test]
fn edits_request_header_sees_every_request_edit_of_that_header_and_nothing_else() {
    let set = rules(
        "[[rule]]\nname = \"r\"\nrequest.replace_header = [{ name = \"HOST\", pattern = \"a\", with = \"b\" }]\nresponse.set_header = { \"X-A\" = \"1\" }\n",
    );
    assert!(set.edits_request_header("host"));
    assert!(
        !set.edits_request_header("x-a"),
        "a response edit is not a request edit"
    );
    assert!(!set.edits_request_header("user-agent"));
    for form in [
        "request.set_header = { Host = \"x\" }",
        "request.add_header = { host = \"x\" }",
        "request.remove_header = [\"Host\"]",
    ] {
        let set = rules(&format!("[[rule]]\nname = \"r\"\n{form}\n"));
        assert!(set.edits_request_header("host"), "{form}");
    }
    assert!(!RuleSet::default().edits_request_header("host"));
}
