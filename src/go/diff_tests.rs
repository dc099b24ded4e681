//! Tests of `go::diff`: alignment, what counts as differing, and the text.
use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::ErrorClass;
use crate::go::diagnosis::Os;
use crate::go::private::PrivatePatterns;

fn classified(mut f: Flow, id: u64) -> Flow {
    f.id = id;
    f.started_at_us += id as i64;
    f.go = crate::go::classify(&f.request.method, &f.request.url, &f.request.headers);
    f
}

fn ctx(private: &PrivatePatterns) -> DiagnoseContext<'_> {
    DiagnoseContext {
        private,
        os: Os::current(),
        bundle: None,
        go: None,
        goproxy: None,
        goauth: None,
    }
}

#[test]
fn aligns_by_module_and_kind_and_shows_what_differs() {
    let wait = Timings {
        wait_ms: Some(900.0),
        ..Timings::default()
    };
    let healthy = vec![
        classified(
            FlowBuilder::get("https://goproxy.test/example.test/m/@v/v1.0.0.info")
                .status(200, b"{}")
                .build(),
            1,
        ),
        classified(
            FlowBuilder::get("https://goproxy.test/example.test/m/@v/v1.0.0.mod")
                .status(200, b"module example.test/m\n")
                .build(),
            2,
        ),
    ];
    let failing = vec![
        classified(
            FlowBuilder::get("https://a.test/example.test/m/@v/v1.0.0.info")
                .status(404, b"not found")
                .timings(wait)
                .build(),
            1,
        ),
        classified(
            FlowBuilder::get("https://a.test/example.test/other/@v/v1.0.0.info")
                .error(ErrorClass::Dns, "dns lookup of a.test failed")
                .build(),
            2,
        ),
    ];
    let private = PrivatePatterns::none();
    let d = diff(("ok.har", &healthy), ("bad.har", &failing), &ctx(&private));
    let info = d
        .requests
        .iter()
        .find(|r| r.module == "example.test/m" && r.kind == "info")
        .unwrap();
    assert!(info.differs);
    assert_eq!(info.a.as_ref().unwrap().sources, vec!["goproxy.test"]);
    assert_eq!(info.b.as_ref().unwrap().answers, vec!["404"]);
    assert_eq!(
        info.b.as_ref().unwrap().slowest.as_ref().unwrap().name,
        "wait"
    );
    let m = d.requests.iter().find(|r| r.kind == "mod").unwrap();
    assert!(m.b.is_none() && m.differs);
    let other = d
        .requests
        .iter()
        .find(|r| r.module == "example.test/other")
        .unwrap();
    assert_eq!(other.b.as_ref().unwrap().answers, vec!["dns"]);
    let m = d
        .modules
        .iter()
        .find(|r| r.module == "example.test/m")
        .unwrap();
    assert!(m.differs);
    assert_eq!(
        m.a.as_ref().unwrap().served_by.as_deref(),
        Some("https://goproxy.test")
    );
    assert_eq!(m.b.as_ref().unwrap().served_by, None);
    let text = d.lines(false).join("\n");
    for words in [
        "A = ok.har",
        "B = bad.har",
        "example.test/m@v1.0.0 info",
        "goproxy.test → 200",
        "a.test → 404",
        "not requested",
        "NOT SERVED",
        "wait 900ms",
    ] {
        assert!(text.contains(words), "{words}:\n{text}");
    }
    // The same capture twice: nothing differs.
    let same = diff(("a", &healthy), ("b", &healthy), &ctx(&private));
    assert!(same.requests.iter().all(|r| !r.differs));
    assert!(same.lines(false).join("\n").contains("No difference"));
    assert!(
        same.lines(true).join("\n").contains(" mod"),
        "--all lists them"
    );
}
