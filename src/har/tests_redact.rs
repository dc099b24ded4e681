//! Tests for redaction in `export`: secret headers, cookies, URL userinfo (in URLs, `Location`,
//! proxy URLs and error messages), and the verbatim export when redaction is off. The name
//! rule and the URL functions themselves are tested in `tests_redact_rule`.
//!
//! A child module of `export` (`#[path]`), so it sees its private helpers. Must not test the
//! rest of the entry shape: that is `tests_export`.

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::ErrorClass;
use crate::har::testdata::{verbatim, TestResult};
use serde_json::{json, Value};

const SECRETS: [&str; 8] = [
    "Bearer tok-auth-1",
    "Basic cHJveHk6c2VjcmV0",
    "sess-cookie-2",
    "pref-cookie-3",
    "api-key-4",
    "set-cookie-5",
    "url-pass-6",
    "loc-pass-7",
];

fn secret_flow() -> Flow {
    let mut f = FlowBuilder::get("https://alice:url-pass-6@corp.test/mod/@v/list?go-get=1")
        .req_header("Authorization", SECRETS[0])
        .req_header("proxy-authorization", SECRETS[1])
        .req_header("Cookie", "sess=sess-cookie-2; pref=pref-cookie-3")
        .req_header("X-Api-Key", SECRETS[4])
        .req_header("User-Agent", "Go-http-client/2.0")
        .status(302, b"")
        .resp_header("Set-Cookie", "sid=set-cookie-5; Path=/; HttpOnly")
        .resp_header("Location", "https://bob:loc-pass-7@mirror.test/x")
        .error(
            ErrorClass::UpstreamProxy,
            "proxy http://carol:url-pass-6@proxy.test:3128 refused CONNECT",
        )
        .build();
    f.connection.upstream_mut().via_upstream_proxy =
        Some("http://carol:url-pass-6@proxy.test:3128".into());
    f
}

#[test]
fn redaction_hides_every_secret_and_keeps_the_rest() -> TestResult {
    let opts = HarOptions {
        extra_redact_headers: vec!["x-api-KEY".into()],
        ..HarOptions::default()
    };
    let text = to_json(&to_har([&secret_flow()], &opts))?;
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    let har: Value = serde_json::from_str(&text)?;
    let e = &har["log"]["entries"][0];
    let req = &e["request"];
    assert_eq!(
        req["url"],
        "https://REDACTED@corp.test/mod/@v/list?go-get=1"
    );
    let values: Vec<&Value> = req["headers"]
        .as_array()
        .ok_or("headers")?
        .iter()
        .map(|h| &h["value"])
        .collect();
    assert_eq!(
        values,
        [REDACTED, REDACTED, REDACTED, REDACTED, "Go-http-client/2.0"]
    );
    assert_eq!(
        req["cookies"],
        json!([{"name": "sess", "value": REDACTED}, {"name": "pref", "value": REDACTED}])
    );
    assert_eq!(
        req["queryString"],
        json!([{"name": "go-get", "value": "1"}])
    );
    let resp = &e["response"];
    assert_eq!(resp["cookies"], json!([{"name": "sid", "value": REDACTED}]));
    assert_eq!(resp["headers"][0]["value"], REDACTED);
    assert_eq!(
        resp["headers"][1]["value"],
        "https://REDACTED@mirror.test/x"
    );
    assert_eq!(resp["redirectURL"], "https://REDACTED@mirror.test/x");
    assert_eq!(
        e["_gomitm"]["viaUpstreamProxy"],
        "http://REDACTED@proxy.test:3128"
    );
    let message = "proxy http://REDACTED@proxy.test:3128 refused CONNECT";
    assert_eq!(e["_error"]["message"], message);
    assert_eq!(resp["_error"], message);
    Ok(())
}

#[test]
fn without_redaction_everything_is_verbatim() -> TestResult {
    let text = to_json(&to_har([&secret_flow()], &verbatim()))?;
    for secret in SECRETS {
        assert!(text.contains(secret), "{secret} missing");
    }
    assert!(!text.contains(REDACTED));
    let har: Value = serde_json::from_str(&text)?;
    let e = &har["log"]["entries"][0];
    assert_eq!(
        e["request"]["cookies"],
        json!([{"name": "sess", "value": "sess-cookie-2"},
               {"name": "pref", "value": "pref-cookie-3"}])
    );
    assert_eq!(
        e["response"]["cookies"],
        json!([{"name": "sid", "value": "set-cookie-5"}])
    );
    assert_eq!(
        e["response"]["redirectURL"],
        "https://bob:loc-pass-7@mirror.test/x"
    );
    Ok(())
}

#[test]
fn redaction_covers_secret_looking_names_queries_and_the_go_base() -> TestResult {
    let mut flow = FlowBuilder::get("https://u:pw1@corp.test/m/@v/list?access_token=q2&go-get=1")
        .req_header("Private-Token", "pt3")
        .req_header("X-Team", "team4")
        .req_header("WWW-Authenticate-Hint", "kept5")
        .status(401, b"")
        .resp_header("WWW-Authenticate", "Basic realm=\"corp\"")
        .build();
    flow.go = Some(Box::new(crate::flow::GoRequest {
        base: Some("https://u:pw1@corp.test".into()),
        ..crate::flow::GoRequest::default()
    }));
    flow.mapped_to = Some("https://u:pw6@mirror.test/m/@v/list".into());
    let opts = HarOptions {
        extra_redact_headers: vec!["x-team".into()],
        ..HarOptions::default()
    };
    let text = to_json(&to_har([&flow], &opts))?;
    for secret in ["pw1", "q2", "pt3", "team4", "pw6"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    let har: Value = serde_json::from_str(&text)?;
    let e = &har["log"]["entries"][0];
    assert_eq!(
        e["request"]["queryString"],
        json!([{"name": "access_token", "value": REDACTED}, {"name": "go-get", "value": "1"}])
    );
    assert_eq!(e["_go"]["base"], "https://REDACTED@corp.test");
    assert_eq!(e["_mappedTo"], "https://REDACTED@mirror.test/m/@v/list");
    assert_eq!(
        e["response"]["headers"][0]["value"], "Basic realm=\"corp\"",
        "the challenge is kept"
    );
    assert_eq!(e["request"]["headers"][2]["value"], "kept5");
    Ok(())
}
