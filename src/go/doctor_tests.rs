use super::*;
use crate::flow::testing::FlowBuilder;

fn facts(go_env: &[(&str, &str)]) -> Facts {
    Facts {
        go_env: go_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Facts::default()
    }
}

fn targets(module: &str, vcs: Option<&str>) -> Targets {
    Targets {
        module: module.into(),
        version: None,
        vcs: vcs.map(str::to_string),
    }
}

#[test]
fn escape_path_is_go_s() {
    assert_eq!(
        escape_path("github.com/BurntSushi/toml"),
        "github.com/!burnt!sushi/toml"
    );
}

#[test]
fn first_probes_cover_each_url_entry_the_sumdb_and_the_named_vcs_host() {
    let f = facts(&[(
        "GOPROXY",
        "https://a.example/sub/|https://b.example,direct,off",
    )]);
    let (probes, rows) = first_probes(&f, &targets("golang.org/x/Text", Some("git.example/r")));
    let urls: Vec<&str> = probes.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://a.example/sub/golang.org/x/!text/@v/list",
            "https://b.example/golang.org/x/!text/@v/list",
            "https://sum.golang.org/latest",
            "https://git.example/r?go-get=1",
        ]
    );
    assert!(rows.is_empty(), "direct is probed through --vcs: {rows:?}");
    let (_, rows) = first_probes(&f, &targets("golang.org/x/text", None));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].verdict, Verdict::Skipped);
}

#[test]
fn a_private_module_is_never_sent_to_a_proxy_or_the_sumdb() {
    let f = facts(&[
        ("GOPROXY", "https://a.example"),
        ("GOPRIVATE", "corp.example"),
    ]);
    let t = targets("corp.example/secret", None);
    let (probes, rows) = first_probes(&f, &t);
    assert!(
        probes.iter().all(|p| !p.url.contains("corp.example")),
        "{probes:?}"
    );
    assert_eq!(rows[0].verdict, Verdict::Skipped);
    let (probes, rows) = second_probes(
        &f,
        &Targets {
            version: Some("v1.0.0".into()),
            ..t
        },
        &[],
    );
    assert!(probes.is_empty());
    assert!(rows[0].detail.contains("GONOSUMDB"));
}

#[test]
fn the_lookup_takes_the_newest_listed_version() {
    let f = facts(&[("GOPROXY", "https://a.example")]);
    let t = targets("example.com/m", None);
    let (probes, _) = first_probes(&f, &t);
    let list = FlowBuilder::get(&probes[0].url)
        .status(200, b"v1.2.0\nv1.10.0\nv1.9.9\nv2.0.0-rc.1\n")
        .build();
    let (second, _) = second_probes(&f, &t, &[(probes[0].clone(), Some(&list))]);
    assert_eq!(
        second[0].url,
        "https://sum.golang.org/lookup/example.com/m@v1.10.0"
    );
}

#[test]
fn issuer_kinds() {
    let cert = |public| CertSummary {
        subject: "s".into(),
        issuer: "Corp Inspect CA".into(),
        issuer_org: None,
        not_after: String::new(),
        chain_len: 1,
        root: "Corp Root".into(),
        public_root: Some(public),
    };
    assert_eq!(issuer_kind(&cert(true), &[]), IssuerKind::Public);
    assert_eq!(issuer_kind(&cert(false), &[]), IssuerKind::TlsInspection);
    assert_eq!(
        issuer_kind(&cert(false), &["Corp Root".into()]),
        IssuerKind::ExtraRoot
    );
}

#[test]
fn the_text_is_terminal_safe_and_redacted() {
    let mut row = Row::setting(
        "GOPROXY",
        Verdict::Fail,
        "bad\u{1b}[31m https://user:hunter2@x.example/?token=abc".into(),
    );
    row.fix = Some("do\nthis".into());
    let report = Report {
        go: "go".into(),
        go_version: "go1.26.8".into(),
        proxy: "127.0.0.1:1".into(),
        rows: vec![row],
    };
    let text = report.render_text();
    assert!(!text.contains('\u{1b}') && text.contains('␛'), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("do␊this"));
    assert!(text.contains("1 check failed (exit 3)"));
    let json = report.render_json();
    assert!(!json.contains("hunter2"), "{json}");
    assert_eq!(report.failed(), 1);
}
