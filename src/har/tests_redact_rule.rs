//! Tests for `redact`: the secret-name rule (tables of names that must and must not match),
//! URL and prose redaction, and the redacted copy of a flow that `--jsonl` writes.

use super::*;
use crate::flow::testing::FlowBuilder;
use crate::flow::{ErrorClass, GoKind, GoRequest};

#[test]
fn names_that_suggest_secrets_are_secret() {
    for name in [
        "Authorization",
        "PROXY-AUTHORIZATION",
        "cookie",
        "Set-Cookie",
        // GOAUTH and credential helpers: whatever header the server wants.
        "Private-Token",
        "Job-Token",
        "Deploy-Token",
        "X-Auth-Token",
        "X-Api-Key",
        "Api-Key",
        "apikey",
        "X-Vault-Token",
        "X-Amz-Security-Token",
        "X-Goog-Iap-Jwt-Assertion",
        "X-JFrog-Art-Api",
        "X-Session-Id",
        "PHPSESSID",
        "X-CSRFToken",
        "X-XSRF-TOKEN",
        "X-Client-Secret",
        "X-Artifactory-Password",
        "X-Passwd",
        "X-Credentials",
        "Authentication-Info",
        "Proxy-Authentication-Info",
        "X-Registry-Auth",
        "Authorizations",
        "X-Hub-Signature-256",
        "Idempotency-Key",
        "access_token",
        "accessToken",
        "client_secret",
        "sig",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "pwd",
        "key",
        "AWSAccessKeyId",
    ] {
        assert!(is_secret_name(name), "{name} should be secret");
    }
}

#[test]
fn ordinary_and_debugging_headers_are_kept() {
    for name in [
        "User-Agent",
        "Accept",
        "Content-Type",
        "Location",
        "Keep-Alive",
        "Host",
        "Git-Protocol",
        "Cache-Control",
        "X-Content-Type-Options",
        "Strict-Transport-Security",
        "Content-Security-Policy",
        // The challenge is what a 401/407 is debugged from.
        "WWW-Authenticate",
        "Proxy-Authenticate",
        // CORS values name headers, they are not secrets.
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Headers",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Accept",
        "Public-Key-Pins",
        "Authority",
        "X-Author",
        "X-OAuth-Scopes",
        "X-Accepted-OAuth-Scopes",
        "X-GitHub-Api-Version",
        "X-Goog-Api-Client",
        "X-Request-Id",
        "Keywords",
        "go-get",
        "service",
        "",
        "-",
    ] {
        assert!(!is_secret_name(name), "{name} should be kept");
    }
}

#[test]
fn extra_names_are_matched_case_insensitively() {
    let extra = vec!["X-Tenant".to_string(), " x-debug-id ".to_string()];
    assert!(is_secret_header("x-tenant", &extra));
    assert!(is_secret_header("X-DEBUG-ID", &extra));
    assert!(!is_secret_header("x-tenant", &[]));
    assert!(is_secret_header("Private-Token", &[]));
}

#[test]
fn redact_url_replaces_userinfo_and_secret_query_values() {
    for (url, want) in [
        (
            "https://user:pass@host.test/p?q=1",
            "https://REDACTED@host.test/p?q=1",
        ),
        ("https://token@host.test", "https://REDACTED@host.test"),
        ("http://u:p@[::1]:8080/", "http://REDACTED@[::1]:8080/"),
        ("https://host.test/a@b", "https://host.test/a@b"),
        ("https://host.test/?next=u@x", "https://host.test/?next=u@x"),
        ("https://host.test/p", "https://host.test/p"),
        ("//u:p@host.test/", "//REDACTED@host.test/"),
        ("u:p@git.test:443", "REDACTED@git.test:443"),
        ("/relative?a=http://u:p@x", "/relative?a=http://u:p@x"),
        ("", ""),
        (
            "https://s3.test/b/k.zip?X-Amz-Credential=AKIA&X-Amz-Date=1&X-Amz-Signature=abc",
            "https://s3.test/b/k.zip?X-Amz-Credential=REDACTED&X-Amz-Date=1&X-Amz-Signature=REDACTED",
        ),
        (
            "https://h.test/x?access_token=t1&go-get=1#frag&token=x",
            "https://h.test/x?access_token=REDACTED&go-get=1#frag&token=x",
        ),
        (
            "https://h.test/info/refs?service=git-upload-pack",
            "https://h.test/info/refs?service=git-upload-pack",
        ),
        // No value, nothing to hide; repeated and empty parameters stay as they were.
        ("https://h.test/?token&&key=", "https://h.test/?token&&key="),
        ("/p?api_key=k", "/p?api_key=REDACTED"),
    ] {
        assert_eq!(redact_url(url), want, "{url}");
    }
}

#[test]
fn redact_text_finds_urls_inside_prose() {
    for (text, want) in [
        (
            "dial \"https://u:p@a.test:8443/x\" then http://t@b.test: refused",
            "dial \"https://REDACTED@a.test:8443/x\" then http://REDACTED@b.test: refused",
        ),
        (
            "mail bob@example.com at http://c.test/",
            "mail bob@example.com at http://c.test/",
        ),
        (
            "GET https://c.test/x?token=abc: 404",
            "GET https://c.test/x?token=REDACTED: 404",
        ),
        ("trailing ://", "trailing ://"),
        ("é http://u:p@h é", "é http://REDACTED@h é"),
        // Not a scheme: left alone, and multi-byte characters are no trouble.
        ("é://u:p@h", "é://u:p@h"),
        ("", ""),
    ] {
        assert_eq!(redact_text(text), want, "{text}");
    }
}

#[test]
fn redact_flow_hides_every_secret_and_keeps_names_and_bodies() {
    let mut flow = FlowBuilder::get("https://alice:pw1@corp.test/mod/@v/list?token=q2")
        .req_header("Private-Token", "pt3")
        .req_header("X-Tenant", "t4")
        .req_header("User-Agent", "Go-http-client/2.0")
        .status(302, b"body stays")
        .resp_header("Set-Cookie", "sid=sc5")
        .resp_header("Location", "https://bob:pw6@mirror.test/x")
        .error(
            ErrorClass::UpstreamProxy,
            "proxy http://c:pw7@p.test refused",
        )
        .build();
    flow.connection.via_upstream_proxy = Some("http://c:pw7@p.test".into());
    flow.go = Some(Box::new(GoRequest {
        kind: GoKind::List,
        base: Some("https://alice:pw1@corp.test".into()),
        ..GoRequest::default()
    }));
    flow.mapped_to = Some("https://m:pw8@mirror.test/mod/@v/list".into());
    let extra = vec!["x-tenant".to_string()];
    let red = redact_flow(&flow, &extra);
    let json = serde_json::to_string(&red).unwrap_or_default();
    for secret in ["pw1", "q2", "pt3", "t4", "sc5", "pw6", "pw7", "pw8"] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
    let names: Vec<&str> = red
        .request
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["Private-Token", "X-Tenant", "User-Agent"]);
    assert_eq!(red.request.headers[2].1, "Go-http-client/2.0");
    assert_eq!(
        red.request.url,
        "https://REDACTED@corp.test/mod/@v/list?token=REDACTED"
    );
    let resp = red
        .response
        .as_ref()
        .map(|r| (r.status, r.body.data.clone()));
    assert_eq!(resp, Some((302, b"body stays".to_vec())));
    // The original is untouched.
    assert!(serde_json::to_string(&flow)
        .unwrap_or_default()
        .contains("pw1"));
}
