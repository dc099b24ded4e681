//! `gomitm run` inside a network that already has a proxy: gomitm replaces HTTPS_PROXY and
//! friends for its child, so it must itself go through the inherited proxy (with its
//! credentials) and honour the inherited NO_PROXY. The "corporate" proxy is a recording
//! CONNECT proxy on 127.0.0.1 that tunnels to the TLS fixture; go is every version from
//! `go_binaries()`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;

use support::connect_proxy::RecordingProxy;
use support::fixture::Fixture;
use support::run::{go_cmd, gomitm_run, Spec, EMPTY_GO_MOD};
use support::tools::{go_binaries, go_version};

/// `gomitm run --resolve goproxy.test:443=FIXTURE -- go mod download example.test/mod01@v1.0.0`
/// with `env` given to gomitm (the child inherits it, less what gomitm replaces).
fn run_download(
    fx: &Fixture,
    go: &Path,
    env: &[(&str, String)],
) -> (Output, Vec<serde_json::Value>) {
    let mut gomitm_env = vec![("GOPROXY", "https://goproxy.test".to_string())];
    gomitm_env.extend(env.iter().cloned());
    let run = gomitm_run(
        fx,
        Spec {
            hosts: &["goproxy.test"],
            args: &[],
            env: &gomitm_env,
            go_mod: EMPTY_GO_MOD,
            command: go_cmd(go, &["mod", "download", "example.test/mod01@v1.0.0"]),
        },
    );
    let flows = run.flows();
    (run.out, flows)
}

fn dump(out: &Output) -> String {
    format!(
        "exit {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_inherited_https_proxy_carries_gomitms_connections_with_its_credentials() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let corp = RecordingProxy::start(fx.addr, false);
        let url = format!("http://u:p@127.0.0.1:{}", corp.addr.port());
        let (out, flows) = run_download(&fx, &go, &[("HTTPS_PROXY", url)]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{version}\n{}", dump(&out));
        let said = format!(
            "gomitm: upstream proxy http://REDACTED@127.0.0.1:{} (from HTTPS_PROXY) for https",
            corp.addr.port()
        );
        assert!(
            stderr.lines().any(|l| l == said),
            "{version}: no {said:?}\n{stderr}"
        );
        assert!(
            !stderr.contains("u:p@"),
            "{version}: the password was printed\n{stderr}"
        );
        let heads = corp.heads();
        assert!(
            !heads.is_empty(),
            "{version}: nothing went through the proxy\n{stderr}"
        );
        for head in &heads {
            assert!(
                head.starts_with("CONNECT goproxy.test:443 "),
                "{version}: {head}"
            );
        }
        // "u:p" in base64.
        assert!(
            corp.authorizations().iter().all(|a| a == "Basic dTpw"),
            "{version}: {heads:#?}"
        );
        let via = format!("http://127.0.0.1:{}", corp.addr.port());
        let zip = flows
            .iter()
            .find(|f| {
                f["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/@v/v1.0.0.zip"))
            })
            .unwrap_or_else(|| panic!("{version}: no .zip flow\n{flows:#?}"));
        assert_eq!(
            zip["connection"]["via_upstream_proxy"],
            via.as_str(),
            "{version}"
        );
    }
}

#[test]
fn the_inherited_no_proxy_sends_gomitm_direct_and_is_not_left_to_the_child() {
    let fx = Fixture::start();
    for go in go_binaries() {
        let version = go_version(&go);
        let corp = RecordingProxy::start(fx.addr, false);
        let url = format!("http://127.0.0.1:{}", corp.addr.port());
        let env = [("https_proxy", url), ("no_proxy", ".test".to_string())];
        let (out, flows) = run_download(&fx, &go, &env);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // Had the child kept NO_PROXY, go would have dialled goproxy.test itself and failed.
        assert_eq!(out.status.code(), Some(0), "{version}\n{}", dump(&out));
        assert!(corp.heads().is_empty(), "{version}: {:#?}", corp.heads());
        assert!(
            stderr.contains("upstream proxy not used for NO_PROXY=.test"),
            "{version}\n{stderr}"
        );
        assert!(
            flows.iter().any(|f| f["request"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/@v/v1.0.0.zip"))
                && f["connection"]["via_upstream_proxy"].is_null()),
            "{version}: {flows:#?}"
        );
    }
}

#[test]
fn gomitm_proxy_chains_through_the_environments_proxy_only_when_told_to() {
    use support::gomitm::{fixture_args, go_through, workspace, Gomitm};
    let Some(go) = go_binaries().into_iter().next() else {
        return;
    };
    let fx = Fixture::start();
    for (flag, through) in [(Some("env"), true), (None, false)] {
        let corp = RecordingProxy::start(fx.addr, false);
        let url = format!("http://u:p@127.0.0.1:{}", corp.addr.port());
        let mut extra = Vec::new();
        if let Some(flag) = flag {
            extra.extend(["--upstream-proxy".into(), flag.into()]);
        }
        let args = fixture_args(&fx, &["goproxy.test"], &extra);
        let mut proxy = Gomitm::start_with_env(&args, &[("HTTPS_PROXY", url.as_str())], None);
        let tmp = workspace(EMPTY_GO_MOD);
        let out = go_through(
            &go,
            &proxy,
            &proxy.ca_pem(),
            tmp.path(),
            &[("GOPROXY", "https://goproxy.test")],
            &["mod", "download", "example.test/mod01@v1.0.0"],
        );
        assert!(out.status.success(), "{flag:?}: {}", dump(&out));
        let stderr = proxy.stderr().join("\n");
        proxy.stop();
        if through {
            assert!(!corp.heads().is_empty(), "{stderr}");
            assert!(stderr.contains("(from HTTPS_PROXY)"), "{stderr}");
        } else {
            assert!(corp.heads().is_empty(), "{:#?}", corp.heads());
            assert!(
                stderr.contains("HTTPS_PROXY is set but gomitm connects directly"),
                "{stderr}"
            );
        }
    }
}
