//! Tests for `redact`: the secret-name rule (tables of names that must and must not match),
//! URL, header-value and prose redaction, and the redacted copy of a flow. That every output
//! uses it is tested in `run/redaction_tests.rs`.

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
        ("/relative?a=http://u:p@x", "/relative?a=http://REDACTED@x"),
        ("", ""),
        (
            "https://s3.test/b/k.zip?X-Amz-Credential=AKIA&X-Amz-Date=1&X-Amz-Signature=abc",
            "https://s3.test/b/k.zip?X-Amz-Credential=REDACTED&X-Amz-Date=1&X-Amz-Signature=REDACTED",
        ),
        (
            "https://h.test/x?access_token=t1&go-get=1#frag&token=x",
            "https://h.test/x?access_token=REDACTED&go-get=1#frag&token=REDACTED",
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
fn query_names_are_judged_as_a_server_decodes_them() {
    for (url, want) in [
        ("/p?%74oken=s", "/p?%74oken=REDACTED"),
        ("/p?%54OKEN=s", "/p?%54OKEN=REDACTED"),
        ("/p?access%5Ftoken=s", "/p?access%5Ftoken=REDACTED"),
        ("/p?access%5ftoken=s", "/p?access%5ftoken=REDACTED"),
        ("/p?Token=s", "/p?Token=REDACTED"),
        ("/p?access+token=s", "/p?access+token=REDACTED"),
        ("/p?access%20token=s", "/p?access%20token=REDACTED"),
        ("/p?%2574oken=s", "/p?%2574oken=REDACTED"),
        ("/p?%252574oken=s", "/p?%252574oken=REDACTED"),
        ("/p?user[password]=s", "/p?user[password]=REDACTED"),
        ("/p?a=1;session=s;b=2", "/p?a=1;session=REDACTED;b=2"),
        (
            "/p?token=s1&token=s2&token=",
            "/p?token=REDACTED&token=REDACTED&token=",
        ),
        (
            "/p?x=1#access_token=s&state=k",
            "/p?x=1#access_token=REDACTED&state=k",
        ),
        ("/p#/cb?id_token=s", "/p#/cb?id_token=REDACTED"),
        ("/x;jsessionid=s/y?q=1", "/x;jsessionid=REDACTED/y?q=1"),
        ("/p?%zz=1&key=s", "/p?%zz=1&key=REDACTED"),
        // Nested URLs in values and paths, plain or percent-encoded.
        (
            "/p?next=https://u:s@n.test/",
            "/p?next=https://REDACTED@n.test/",
        ),
        ("/p?next=/x?token=s", "/p?next=/x?token=REDACTED"),
        ("/p?next=%2Fx%3Ftoken%3Ds", "/p?next=/x?token%3DREDACTED"),
        (
            "/p?next=https%3A%2F%2Fu%3As%40n.test%2F",
            "/p?next=https://REDACTED@n.test/",
        ),
        (
            "https://h/r/https://u:s@i/",
            "https://h/r/https://REDACTED@i/",
        ),
        // Kept: what is not secret.
        (
            "/p?next=u@x&signal=1&monkey=2",
            "/p?next=u@x&signal=1&monkey=REDACTED",
        ),
        (
            "/p?go-get=1&service=git-upload-pack",
            "/p?go-get=1&service=git-upload-pack",
        ),
    ] {
        assert_eq!(redact_url(url), want, "{url}");
    }
}

#[test]
fn deeply_nested_urls_are_cut_not_followed() {
    let mut url = "/x?token=s".to_string();
    for _ in 0..5000 {
        url = format!("/p?next={url}");
    }
    let red = redact_url(&url);
    assert!(!red.contains("token=s"), "{}", &red[..200]);
    let mut url = "https://u:s@h/".to_string();
    for _ in 0..5000 {
        url = format!("https://h/{url}");
    }
    assert!(!redact_url(&url).contains("u:s"));
}

#[test]
fn urls_inside_header_values_are_redacted() {
    let extra = vec!["X-Tenant".to_string()];
    for (name, value, want) in [
        (
            "Location",
            "/next?token=s&page=2",
            "/next?token=REDACTED&page=2",
        ),
        ("location", "//u:s@h/", "//REDACTED@h/"),
        ("Content-Location", "https://u:s@h/", "https://REDACTED@h/"),
        (
            "Referer",
            "https://u:s@h/?sig=s",
            "https://REDACTED@h/?sig=REDACTED",
        ),
        ("Origin", "https://u:s@h", "https://REDACTED@h"),
        ("X-Original-URL", "/a?key=s", "/a?key=REDACTED"),
        (
            "Refresh",
            "5; url=https://u:s@h/?token=s",
            "5; url=https://REDACTED@h/?token=REDACTED",
        ),
        ("Refresh", "0;URL='/x?jwt=s'", "0;URL='/x?jwt=REDACTED'"),
        ("refresh", "0; /x?jwt=s", "0; /x?jwt=REDACTED"),
        // Not a character boundary three bytes in: no panic.
        ("Refresh", "0;éx", "0;éx"),
        (
            "Link",
            "</p?access_token=s>; rel=next, <https://u:s@h/>; rel=last",
            "</p?access_token=REDACTED>; rel=next, <https://REDACTED@h/>; rel=last",
        ),
        (
            "WWW-Authenticate",
            "Bearer realm=\"https://a/t?client_secret=s\"",
            "Bearer realm=\"https://a/t?client_secret=REDACTED\"",
        ),
        ("X-Debug", "see https://u:s@h/x", "see https://REDACTED@h/x"),
        ("Authorization", "Basic dTpz", "REDACTED"),
        ("x-tenant", "t", "REDACTED"),
        ("User-Agent", "Go-http-client/2.0", "Go-http-client/2.0"),
    ] {
        assert_eq!(
            redact_header_value(name, value, &extra),
            want,
            "{name}: {value}"
        );
    }
}

#[test]
fn error_messages_lose_every_secret_the_flow_carries() {
    let flow = FlowBuilder::get("u:s3cret-pass@git.test:443")
        .req_header("Private-Token", "tok-echo")
        .req_header("X-Tenant", "tenant-x")
        .build();
    let extra = vec!["x-tenant".to_string()];
    let msg = "dial u:s3cret-pass@git.test:443 as tok-echo for tenant-x via http://p:q@h: no";
    let red = redact_message(&flow, msg, &extra);
    for secret in ["s3cret-pass", "tok-echo", "tenant-x", "p:q"] {
        assert!(!red.contains(secret), "{secret} in {red}");
    }
    assert!(red.contains("git.test:443"), "{red}");
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
    flow.connection.upstream_mut().via_upstream_proxy = Some("http://c:pw7@p.test".into());
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
    let names: Vec<&str> = red.request.headers.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Private-Token", "X-Tenant", "User-Agent"]);
    assert_eq!(
        red.request.headers.get(2).map(|(_, v)| v),
        Some("Go-http-client/2.0")
    );
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

/// A local path under the home directory loses the part that names the user, wherever it
/// sits in a message; a longer sibling directory or a path that merely contains it is kept.
#[test]
fn the_home_directory_becomes_a_tilde_in_text() {
    let home = "/home/alice";
    let cases = [
        (
            "client TLS failed: SSL_CERT_FILE=/home/alice/.config/gomitm/gomitm-bundle.pem (…)",
            "client TLS failed: SSL_CERT_FILE=~/.config/gomitm/gomitm-bundle.pem (…)",
        ),
        ("cannot read /home/alice: denied", "cannot read ~: denied"),
        ("'/home/alice/x' and \"/home/alice\"", "'~/x' and \"~\""),
        ("/home/alicebob/x", "/home/alicebob/x"),
        ("/srv/home/alice/x", "/srv/home/alice/x"),
        ("no path here", "no path here"),
    ];
    for (text, want) in cases {
        assert_eq!(hide_home(text, home), want, "{text}");
    }
    // Through a flow's error message: URLs are redacted and the home directory goes too.
    if let Some(home) = home_dirs().first() {
        let text = format!("cannot read {home}/mods/x.zip via https://u:p@h/");
        let out = redact_message(&Flow::default(), &text, &[]);
        assert!(!out.contains(home.as_str()), "{out}");
        assert!(
            out.starts_with("cannot read ~/mods/x.zip via https://REDACTED@h/"),
            "{out}"
        );
    }
}
