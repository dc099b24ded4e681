//! Matching table tests: every key, alias and combinator against flows built with
//! `FlowBuilder` and classified by `go::classify`, as the proxy does.

use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, Flow, FlowState, Timings};
use crate::go::{classify, client_tool};

use super::keys::KEYS;
use super::Filter;

const GO_UA: &str = "Go-http-client/2.0";
const GIT_UA: &str = "git/2.43.0";

/// Classifies the flow the way the proxy does when it creates it.
fn go(builder: FlowBuilder) -> Flow {
    let mut flow = builder.build();
    flow.go = classify(
        &flow.request.method,
        &flow.request.url,
        &flow.request.headers,
    );
    flow.tool = client_tool(&flow.request.headers);
    flow
}

fn total(ms: f64) -> Timings {
    Timings {
        total_ms: Some(ms),
        ..Timings::default()
    }
}

/// The flows the table refers to by name.
fn flow(name: &str) -> Flow {
    match name {
        "zip404" => zip404(),
        "mod200" => mod200(),
        "sumdb" => go(
            FlowBuilder::get("https://sum.golang.org/lookup/github.com/corp/lib@v1.2.3")
                .req_header("User-Agent", GO_UA)
                .status(200, b"1234\n")
                .timings(total(2500.0)),
        ),
        "git" => git(),
        "toolchain" => go(FlowBuilder::get(
            "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64.zip",
        )
        .req_header("User-Agent", GO_UA)
        .status(200, b"PK")),
        "discovery" => go(FlowBuilder::get("https://corp.example/lib/sub?go-get=1")
            .req_header("User-Agent", GO_UA)
            .status(200, b"<meta name=\"go-import\">")),
        "tls" => go(FlowBuilder::get("https://goproxy.corp.example/m/@v/list")
            .req_header("User-Agent", GO_UA)
            .error(
                ErrorClass::UpstreamTls,
                "certificate signed by unknown authority",
            )
            .timings(total(35.0))),
        "dns" => go(FlowBuilder::get("https://nope.test/m/@latest")
            .req_header("User-Agent", GO_UA)
            .error(ErrorClass::Dns, "no such host nope.test")),
        "tunnel" => FlowBuilder::get("git.test:443")
            .tunnel(512, 2 << 20)
            .timings(total(60_000.0))
            .build(),
        "pending" => pending(),
        "post" => post(),
        other => panic!("no flow named {other}"),
    }
}

/// A private module's zip that the proxy does not have.
fn zip404() -> Flow {
    go(
        FlowBuilder::get("https://proxy.golang.org/github.com/corp/lib/@v/v1.2.3.zip")
            .req_header("User-Agent", GO_UA)
            .status(404, b"not found: github.com/corp/lib@v1.2.3")
            .resp_header("Content-Type", "text/plain; charset=UTF-8")
            .timings(total(750.0)),
    )
}

/// A large .mod answered by a corporate GOPROXY that lives under a path.
fn mod200() -> Flow {
    let mut flow = go(FlowBuilder::get(
        "https://goproxy.corp.example/goproxy/github.com/corp/!big/@v/v1.20.0.mod",
    )
    .req_header("user-agent", GO_UA)
    .req_header("Authorization", "Basic eDp5")
    .status(200, b"module github.com/corp/Big\n")
    .resp_header("content-type", "application/json")
    .timings(total(120.5)));
    if let Some(r) = flow.response.as_mut() {
        r.body.total = 3 << 20;
    }
    flow
}

fn git() -> Flow {
    go(
        FlowBuilder::get("https://git.corp.example/corp/lib.git/info/refs?service=git-upload-pack")
            .req_header("User-Agent", GIT_UA)
            .req_header("Git-Protocol", "version=2")
            .status(401, b"")
            .resp_header("WWW-Authenticate", "Basic realm=\"corp\""),
    )
}

fn pending() -> Flow {
    let mut flow =
        go(FlowBuilder::get("https://proxy.golang.org/m/@v/list").req_header("User-Agent", GO_UA));
    flow.state = FlowState::InFlight;
    flow
}

/// Not Go traffic; two rules fired on it.
fn post() -> Flow {
    let mut flow = FlowBuilder::get("http://api.test:8080/v1/items?x=1&y=2")
        .method("post")
        .req_body(b"{}")
        .status(503, b"busy")
        .timings(total(0.4))
        .build();
    flow.rules = vec!["mirror-corp".into(), "delay-api".into()];
    flow
}

const TABLE: &[(&str, &str, bool)] = &[
    // host: glob (case-insensitive, whole host, no port) and regex
    ("host:proxy.golang.org", "zip404", true),
    ("host:PROXY.golang.org", "zip404", true),
    ("host:golang.org", "zip404", false),
    ("host:*.corp.example", "mod200", true),
    ("host:*.corp.example", "discovery", false),
    ("host:api.test", "post", true),
    ("host:git.test", "tunnel", true),
    ("host:~golang", "zip404", true),
    ("~d GOLANG", "sumdb", true),
    ("~d corp", "zip404", false),
    // url: substring (case-sensitive) and regex
    ("url:/@v/v1.2.3.zip", "zip404", true),
    ("url:/@V/", "zip404", false),
    ("url:x=1&y=2", "post", true),
    ("url:~^https://sum\\.golang\\.org/lookup/", "sumdb", true),
    ("~u \\.zip$", "zip404", true),
    ("~u \\.zip$", "mod200", false),
    ("proxy.golang.org", "toolchain", true),
    ("\"go-get=1\"", "discovery", true),
    ("go-get", "zip404", false),
    // path: no query, no host
    ("path:/@v/", "mod200", true),
    ("path:/lib/sub", "discovery", true),
    ("path:go-get", "discovery", false),
    ("path:proxy", "zip404", false),
    ("path:~^/v1/items$", "post", true),
    // method
    ("method:POST", "post", true),
    ("method:get", "zip404", true),
    ("method:POST", "zip404", false),
    ("~m GET", "post", false),
    ("~m GET", "zip404", true),
    ("method:CONNECT", "tunnel", true),
    // status: exact, comparisons, class; no response never matches
    ("status:404", "zip404", true),
    ("status:404", "mod200", false),
    ("status:>=400", "git", true),
    ("status:>=400", "mod200", false),
    ("status:<300", "mod200", true),
    ("status:>404", "zip404", false),
    ("status:<=404", "zip404", true),
    ("status:4xx", "git", true),
    ("status:5xx", "post", true),
    ("status:5xx", "zip404", false),
    ("status:<600", "tls", false),
    ("~c 404", "zip404", true),
    ("~c >=500", "post", true),
    // header: request or response, names and values case-insensitive
    ("header:Authorization", "mod200", true),
    ("header:authorization", "zip404", false),
    ("header:www-authenticate", "git", true),
    ("header:content-type=~json", "mod200", true),
    ("header:content-type=~json", "zip404", false),
    ("header:git-protocol=version=2", "git", true),
    ("header:git-protocol=VERSION=2", "git", true),
    ("header:git-protocol=version", "git", false),
    ("header:~^user-agent: git/", "git", true),
    ("~h \"content-type: text/plain\"", "zip404", true),
    ("~h x-nothing", "zip404", false),
    ("reqheader:authorization", "mod200", true),
    ("reqheader:content-type", "mod200", false),
    ("resheader:content-type", "mod200", true),
    ("resheader:user-agent", "zip404", false),
    ("~hq ^git-protocol", "git", true),
    ("~hs ^www-authenticate", "git", true),
    ("~hq ^www-authenticate", "git", false),
    ("~hs ^git-protocol", "git", false),
    // error: any, by word, by exact class
    ("error:", "tls", true),
    ("error", "dns", true),
    ("error:", "zip404", false),
    ("error:tls", "tls", true),
    ("error:tls", "dns", false),
    ("error:upstream", "tls", true),
    ("error:upstream_tls", "tls", true),
    ("error:client_tls", "tls", false),
    ("error:dns", "dns", true),
    ("error:connect", "dns", false),
    ("~e", "tls", true),
    ("~e", "post", false),
    // size: response body total (tunnels: bytes down)
    ("size:>1MiB", "mod200", true),
    ("size:>=3MiB", "mod200", true),
    ("size:>3MiB", "mod200", false),
    ("size:<1k", "zip404", true),
    ("size:4", "post", true),
    ("size:>1MiB", "tunnel", true),
    ("size:>=0", "tls", false),
    // duration: total_ms
    ("duration:>500ms", "zip404", true),
    ("duration:>500ms", "mod200", false),
    ("duration:>=2.5s", "sumdb", true),
    ("duration:<1", "post", true),
    ("duration:>=1m", "tunnel", true),
    ("duration:>=0", "git", false),
    // kind: exact, groups, alternation; non-Go flows never match
    ("kind:zip", "zip404", true),
    ("kind:zip", "mod200", false),
    ("kind:zip|mod", "mod200", true),
    ("kind:info|list|latest", "dns", true),
    ("kind:list", "tls", true),
    ("kind:proxy", "mod200", true),
    ("kind:proxy", "sumdb", false),
    ("kind:sumdb", "sumdb", true),
    ("kind:sumdb_lookup", "sumdb", true),
    ("kind:sumdb_tile", "sumdb", false),
    ("kind:discovery", "discovery", true),
    ("kind:git", "git", true),
    ("kind:git_refs", "git", true),
    ("kind:git_upload_pack", "git", false),
    ("kind:toolchain", "toolchain", true),
    ("kind:toolchain", "zip404", false),
    ("kind:zip", "toolchain", true),
    (
        "kind:zip|mod|info|list|latest|sumdb|discovery|git|toolchain",
        "post",
        false,
    ),
    ("kind:git", "tunnel", false),
    // module / version: globs on decoded values, case-sensitive
    ("module:github.com/corp/*", "zip404", true),
    ("module:github.com/corp/*", "sumdb", true),
    ("module:github.com/corp/Big", "mod200", true),
    ("module:github.com/corp/big", "mod200", false),
    ("module:github.com/corp", "zip404", false),
    ("module:corp.example/lib/*", "discovery", true),
    ("module:~^golang\\.org/toolchain$", "toolchain", true),
    ("module:*", "post", false),
    ("version:v1.2.*", "zip404", true),
    ("version:v1.2.*", "mod200", false),
    ("version:v1.2?.0", "mod200", true),
    ("version:~^v1\\.2\\.3$", "sumdb", true),
    ("version:*", "git", false),
    // tool
    ("tool:git", "git", true),
    ("tool:git", "zip404", false),
    ("tool:go", "zip404", true),
    ("tool:go", "post", false),
    // rule: fired rules, glob
    ("rule:delay-api", "post", true),
    ("rule:mirror-*", "post", true),
    ("rule:block-*", "post", false),
    ("rule:*", "zip404", false),
    // flags
    ("tunnel", "tunnel", true),
    ("tunnel", "zip404", false),
    ("pending", "pending", true),
    ("pending", "zip404", false),
    ("~q", "pending", true),
    ("~q", "zip404", false),
    ("~q", "tls", false),
    ("~q", "tunnel", false),
    ("response", "zip404", true),
    ("response", "dns", false),
    ("~s", "pending", false),
    ("~s", "git", true),
    ("~s", "tls", false),
    // combinators and precedence
    ("kind:zip & status:>=400", "zip404", true),
    ("kind:zip & status:>=400", "toolchain", false),
    ("kind:zip status:404", "zip404", true),
    ("kind:zip and status:200", "zip404", false),
    ("kind:mod | kind:zip", "zip404", true),
    ("kind:mod or kind:info", "zip404", false),
    ("!kind:zip", "zip404", false),
    ("not kind:zip", "mod200", true),
    ("!!kind:zip", "zip404", true),
    ("module:github.com/corp/* & !tool:git", "zip404", true),
    ("module:github.com/corp/* & !tool:git", "git", false),
    // not > and > or
    ("kind:mod | kind:zip & status:200", "zip404", false),
    ("kind:mod | kind:zip & status:200", "mod200", true),
    ("(kind:mod | kind:zip) & status:404", "zip404", true),
    ("(kind:mod | kind:zip) & status:404", "mod200", false),
    ("!kind:mod & status:404", "zip404", true),
    ("!(kind:zip & status:404)", "zip404", false),
    ("!kind:zip | status:404", "zip404", true),
    ("~d proxy.golang.org & ~c 404", "zip404", true),
    ("~d proxy.golang.org & ~c 404", "toolchain", false),
    (
        "error:tls | (host:*.corp.example & duration:>2s)",
        "tls",
        true,
    ),
    (
        "error:tls | (host:*.corp.example & duration:>2s)",
        "mod200",
        false,
    ),
];

#[test]
fn expressions_match_flows() {
    let mut failures = Vec::new();
    for (input, name, want) in TABLE {
        let filter = Filter::parse(input);
        let got = filter.as_ref().map(|f| f.matches(&flow(name)));
        if got.as_ref().ok() != Some(want) {
            failures.push(format!("{input:?} on {name}: want {want}, got {got:?}"));
        }
        // The canonical text must match exactly the same way.
        let again = filter
            .map(|f| f.to_string())
            .and_then(|t| Filter::parse(&t));
        if again.map(|f| f.matches(&flow(name))).ok() != Some(*want) {
            failures.push(format!("canonical form of {input:?} differs on {name}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_key_and_alias_is_exercised_both_ways() {
    let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    names.extend(KEYS.iter().flat_map(|k| k.aliases.iter().map(|a| a.name)));
    let uses = |name: &str, result: bool| {
        TABLE.iter().any(|(input, _, want)| {
            *want == result
                && input
                    .split(|c: char| c.is_whitespace() || "!(:".contains(c))
                    .any(|word| word.eq_ignore_ascii_case(name))
        })
    };
    let missing: Vec<&str> = names
        .into_iter()
        .filter(|n| !(uses(n, true) && uses(n, false)))
        .collect();
    assert!(
        missing.is_empty(),
        "need a matching and a non-matching row: {missing:?}"
    );
}

#[test]
fn flows_are_classified_as_the_table_assumes() {
    let kind = |name: &str| flow(name).go.map(|g| g.kind.as_str());
    assert_eq!(kind("zip404"), Some("zip"));
    assert_eq!(kind("mod200"), Some("mod"));
    assert_eq!(kind("sumdb"), Some("sumdb_lookup"));
    assert_eq!(kind("git"), Some("git_refs"));
    assert_eq!(kind("discovery"), Some("discovery"));
    assert_eq!(kind("post"), None);
    assert_eq!(flow("git").tool, Some(crate::flow::ClientTool::Git));
    assert_eq!(flow("toolchain").go.map(|g| g.toolchain), Some(true));
}
