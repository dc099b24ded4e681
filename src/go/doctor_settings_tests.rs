use super::*;

fn facts(go_env: &[(&str, &str)]) -> Facts {
    Facts {
        go_env: go_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        os: Some(Os::Linux),
        ..Facts::default()
    }
}

fn codes(rows: &[Row]) -> Vec<(Verdict, Option<Code>)> {
    rows.iter().map(|r| (r.verdict, r.code)).collect()
}

#[test]
fn goproxy_entries_keep_each_separator() {
    let e = goproxy_entries(" https://a.example | https://b.example,,direct ");
    let got: Vec<(&str, bool, bool)> = e
        .iter()
        .map(|e| (e.value.as_str(), e.any_error_falls_through, e.last))
        .collect();
    assert_eq!(
        got,
        [
            ("https://a.example", true, false),
            ("https://b.example", false, false),
            ("direct", false, true)
        ]
    );
    assert!(goproxy_entries(" , |").is_empty());
}

#[test]
fn goproxy_syntax_rows() {
    let rows = goproxy_rows("https://proxy.golang.org,direct");
    assert_eq!(codes(&rows), [(Verdict::Ok, None)]);
    let rows = goproxy_rows(",|");
    assert_eq!(
        codes(&rows),
        [(Verdict::Fail, Some(Code::GoproxyNoEntries))]
    );
    let rows = goproxy_rows("proxy.example,direct");
    assert!(codes(&rows).contains(&(Verdict::Fail, Some(Code::GoproxySyntax))));
    let rows = goproxy_rows("http://proxy.example");
    assert!(codes(&rows).contains(&(Verdict::Warn, Some(Code::GoproxySyntax))));
    let rows = goproxy_rows("off");
    assert!(codes(&rows).contains(&(Verdict::Warn, Some(Code::GoproxyOff))));
    let rows = goproxy_rows("ftp://x.example");
    assert!(codes(&rows).contains(&(Verdict::Fail, Some(Code::GoproxySyntax))));
}

#[test]
fn the_published_sum_golang_org_key_is_well_formed_and_a_changed_one_is_not() {
    // The key go has built in (cmd/go/internal/modfetch/key.go); its base64 holds '+'.
    let key = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
    assert_eq!(key_problem(key), None);
    let wrong = key.replace("033de0ae", "033de0af");
    assert!(key_problem(&wrong).unwrap().contains("does not match"));
    let renamed = key.replace("sum.golang.org", "sum.example.com");
    assert!(key_problem(&renamed).is_some(), "the hash covers the name");
    assert!(key_problem("a+b").is_some());
    assert!(key_problem("a+0000000g+AAAA").unwrap().contains("8 hex"));
    assert!(gosumdb_usable("sum.golang.org"));
    assert!(gosumdb_usable(&format!("{key} https://sum.example.com")));
    assert!(!gosumdb_usable("sum.example.com"));
    assert!(!gosumdb_usable(&format!("{key} ftp://x")));
    assert_eq!(codes(&gosumdb_rows("off")), [(Verdict::Warn, None)]);
}

#[test]
fn sumdb_location_reads_name_and_url() {
    assert_eq!(
        sumdb_location("sum.golang.org"),
        Some(("sum.golang.org".into(), "https://sum.golang.org".into()))
    );
    assert_eq!(
        sumdb_location("x.example+1+2 https://mirror.example/db/"),
        Some(("x.example".into(), "https://mirror.example/db".into()))
    );
    assert_eq!(sumdb_location("off"), None);
}

#[test]
fn a_private_pattern_gonosumdb_does_not_cover_fails() {
    let f = facts(&[
        ("GOPRIVATE", "corp.example,*.int.example"),
        ("GONOSUMDB", "corp.example"),
    ]);
    let rows = private_rows(&f);
    assert_eq!(
        codes(&rows),
        [(Verdict::Fail, Some(Code::PrivateIncoherent))]
    );
    assert!(rows[0].detail.contains("*.int.example"));
    // A broader GONOSUMDB covers a narrower GOPRIVATE pattern.
    let f = facts(&[
        ("GOPRIVATE", "corp.example/team"),
        ("GONOSUMDB", "corp.example"),
    ]);
    assert_eq!(codes(&private_rows(&f)), [(Verdict::Ok, None)]);
    // Unset GONOSUMDB follows GOPRIVATE: coherent.
    let f = facts(&[("GOPRIVATE", "corp.example")]);
    assert_eq!(codes(&private_rows(&f)), [(Verdict::Ok, None)]);
    let f = facts(&[("GOPRIVATE", "https://corp.example")]);
    assert_eq!(
        codes(&private_rows(&f))[0],
        (Verdict::Fail, Some(Code::PrivateIncoherent))
    );
    let f = facts(&[("GOPRIVATE", "corp.example"), ("GONOPROXY", "none")]);
    assert_eq!(codes(&private_rows(&f)), [(Verdict::Ok, None)]);
}

#[test]
fn netrc_keeps_no_secret_and_knows_which_entries_have_one() {
    let text =
        "machine a.example login u1 password p1-secret\ndefault login anon\nmachine b.example\n";
    let entries = parse_netrc(text);
    let shown = format!("{entries:?}");
    assert!(!shown.contains("p1-secret") && !shown.contains("u1") && !shown.contains("anon"));
    assert_eq!(entries.len(), 3);
    assert!(entries[0].login && entries[0].password);
    assert_eq!(entries[1].machine, None);
    assert!(!entries[2].login && !entries[2].password);
}

#[test]
fn a_netrc_entry_without_the_port_is_not_go_s_for_another_port() {
    let mut f = facts(&[("GOVERSION", "go1.26.8")]);
    f.netrc_path = Some("/home/u/.netrc".into());
    f.netrc = parse_netrc("machine corp.example login u password p");
    let rows = netrc_rows(&f, &["corp.example:8443".to_string()]);
    let row = rows
        .iter()
        .find(|r| r.source.starts_with("credentials"))
        .unwrap();
    assert_eq!(row.verdict, Verdict::Warn, "{row:?}");
    assert!(row.detail.contains("corp.example:8443"));
    // Go 1.23 keys on the host name alone.
    f.go_env.insert("GOVERSION".into(), "go1.23.0".into());
    let rows = netrc_rows(&f, &["corp.example:8443".to_string()]);
    assert!(rows
        .iter()
        .any(|r| r.source.starts_with("credentials") && r.verdict == Verdict::Ok));
    // GOAUTH=off: go does not read it.
    f.go_env.insert("GOAUTH".into(), "off".into());
    assert_eq!(
        codes(&netrc_rows(&f, &["corp.example".into()])),
        [(Verdict::Info, None)]
    );
}

#[test]
fn goauth_entries_are_judged() {
    let f = facts(&[("GOAUTH", "off;netrc")]);
    assert!(goauth_rows(&f).iter().any(|r| r.verdict == Verdict::Fail));
    let f = facts(&[("GOAUTH", "git /nowhere")]);
    assert_eq!(goauth_rows(&f)[0].verdict, Verdict::Fail);
    let f = facts(&[("GOAUTH", "netrc")]);
    assert_eq!(goauth_rows(&f)[0].verdict, Verdict::Ok);
}

#[test]
fn git_rows_never_show_a_shell_helper_and_flag_http_proxy() {
    let mut f = facts(&[]);
    f.git.credential_helpers = vec![
        "!f() { echo password=tok3n; }; f".into(),
        "store --file /x".into(),
    ];
    f.git.http_proxy = vec!["http://proxy.example:3128".into()];
    let rows = git_rows(&f);
    let all = format!("{rows:?}");
    assert!(!all.contains("tok3n"));
    assert!(all.contains("a shell command (not shown)") && all.contains("credential.helper store"));
    assert!(codes(&rows).contains(&(Verdict::Warn, Some(Code::GitHttpProxy))));
}

#[test]
fn ca_files_that_are_missing_or_empty_fail() {
    let mut f = facts(&[]);
    f.env.insert("SSL_CERT_FILE".into(), "/gone.pem".into());
    f.env.insert("GIT_SSL_CAINFO".into(), "/empty.pem".into());
    f.paths.insert("/gone.pem".into(), PathState::Missing);
    f.paths.insert("/empty.pem".into(), PathState::NoCerts);
    let rows = ca_rows(&f);
    assert_eq!(
        codes(&rows),
        [
            (Verdict::Fail, Some(Code::CaTrust)),
            (Verdict::Fail, Some(Code::CaTrust))
        ]
    );
    // macOS before Go 1.27 ignores SSL_CERT_FILE.
    let mut f = facts(&[("GOVERSION", "go1.26.1")]);
    f.os = Some(Os::MacOs);
    f.env.insert("SSL_CERT_FILE".into(), "/x.pem".into());
    assert_eq!(ca_rows(&f)[0].verdict, Verdict::Warn);
    // No variable: the system bundle.
    let mut f = facts(&[]);
    f.paths
        .insert("/etc/ssl/cert.pem".into(), PathState::Certs(140));
    assert_eq!(ca_rows(&f)[0].verdict, Verdict::Ok);
}

#[test]
fn the_default_netrc_entry_answers_for_hosts_not_named() {
    let mut f = facts(&[("GOVERSION", "go1.26.8")]);
    f.netrc_path = Some("/home/u/.netrc".into());
    f.netrc = parse_netrc("machine a.example login u password p\ndefault login anon password x");
    let rows = netrc_rows(&f, &["other.example".to_string()]);
    let row = rows
        .iter()
        .find(|r| r.source == "credentials other.example")
        .unwrap();
    assert!(row.detail.starts_with("machine default:"), "{row:?}");
}

#[test]
fn goinsecure_is_checked_for_what_it_does_not_cover() {
    let rows = |env: &[(&str, &str)]| goinsecure_rows(&facts(env));
    let details = |rows: &[Row]| rows.iter().map(|r| r.detail.clone()).collect::<Vec<_>>();
    let warn = [(Verdict::Warn, Some(Code::GoinsecureScope))];
    // Unset: no row.
    assert!(rows(&[]).is_empty());
    // Covered by GOPRIVATE (so by GONOPROXY and GONOSUMDB too): fine.
    let ok = rows(&[
        ("GOINSECURE", "git.corp.test"),
        ("GOPRIVATE", "*.corp.test"),
    ]);
    assert_eq!(codes(&ok), [(Verdict::Ok, None)], "{:?}", details(&ok));
    assert!(
        ok[0].detail.contains("git still checks"),
        "{}",
        ok[0].detail
    );
    // Not private, with the default GOPROXY and GOSUMDB: both still see it, in one row.
    let public = rows(&[("GOINSECURE", "git.corp.test")]);
    assert_eq!(codes(&public), warn);
    let d = &public[0].detail;
    assert!(d.contains("which GOPRIVATE does not cover"), "{d}");
    assert!(d.contains("GOPROXY (https://proxy.golang.org)"), "{d}");
    assert!(d.contains("checksum database sum.golang.org"), "{d}");
    assert_eq!(
        public[0].fix.as_deref(),
        Some("if git.corp.test is private, add it to GOPRIVATE (GOINSECURE turns off neither GOPROXY nor the checksum database)")
    );
    // An explicit GONOSUMDB that covers it, GOPROXY direct: nothing left to say.
    let covered = rows(&[
        ("GOINSECURE", "git.corp.test/team"),
        ("GONOSUMDB", "git.corp.test"),
        ("GOPROXY", "direct"),
    ]);
    assert_eq!(
        codes(&covered),
        [(Verdict::Ok, None)],
        "{:?}",
        details(&covered)
    );
    // Only the checksum database, blamed on the variable that decides: GONOSUMDB when set.
    let sumdb_only = rows(&[
        ("GOINSECURE", "git.corp.test"),
        ("GOPROXY", "off"),
        ("GOPRIVATE", "git.corp.test"),
        ("GONOSUMDB", "other.test"),
    ]);
    assert_eq!(codes(&sumdb_only), warn);
    let d = &sumdb_only[0].detail;
    assert!(d.contains("which GONOSUMDB does not cover"), "{d}");
    assert!(!d.contains("GOPROXY ("), "{d}");
    assert!(sumdb_only[0]
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("add it to GONOSUMDB")));
    // `go env` prints GOPRIVATE's value for an unset GONOSUMDB: GOPRIVATE still decides.
    let inherited = rows(&[
        ("GOINSECURE", "git.corp.test"),
        ("GOPROXY", "off"),
        ("GOPRIVATE", "other.test"),
        ("GONOSUMDB", "other.test"),
    ]);
    assert!(
        inherited[0]
            .detail
            .contains("which GOPRIVATE does not cover"),
        "{}",
        inherited[0].detail
    );
    // Both, decided by two variables.
    let both = rows(&[
        ("GOINSECURE", "git.corp.test"),
        ("GONOPROXY", "a.test"),
        ("GONOSUMDB", "b.test"),
    ]);
    assert!(
        both[0]
            .detail
            .contains("which neither GONOPROXY nor GONOSUMDB covers"),
        "{}",
        both[0].detail
    );
    // The corporate-proxy setup: GONOPROXY=none sends private paths to the proxy on purpose,
    // and a checksum database of one's own may know them: no warning.
    for env in [
        &[
            ("GOINSECURE", "git.corp.test"),
            ("GOPRIVATE", "git.corp.test"),
            ("GONOPROXY", "none"),
            ("GOPROXY", "https://goproxy.corp.test,direct"),
            ("GOSUMDB", "off"),
        ][..],
        &[
            ("GOINSECURE", "git.corp.test"),
            ("GOPROXY", "direct"),
            (
                "GOSUMDB",
                "sumdb.corp.test+1234abcd+AAAA https://sumdb.corp.test",
            ),
        ][..],
    ] {
        let r = rows(env);
        assert_eq!(
            codes(&r),
            [(Verdict::Ok, None)],
            "{env:?}: {:?}",
            details(&r)
        );
    }
    // A URL or a space (go trims nothing) fails; * warns; each is one row and the rest are
    // still judged.
    let bad = rows(&[
        (
            "GOINSECURE",
            "http://git.corp.test,*,ok.corp.test, sp.corp.test",
        ),
        ("GOPRIVATE", "*.corp.test"),
    ]);
    assert_eq!(
        codes(&bad),
        [
            (Verdict::Fail, Some(Code::GoinsecureScope)),
            (Verdict::Warn, Some(Code::GoinsecureScope)),
            (Verdict::Fail, Some(Code::GoinsecureScope)),
        ],
        "{:?}",
        details(&bad)
    );
    assert!(bad[0].detail.contains("\"http://git.corp.test\""));
    assert!(bad[1].detail.contains("every module"));
    assert!(bad[2].detail.contains("\" sp.corp.test\""));
}
