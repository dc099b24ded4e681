//! Checks the upstream fixture itself, with real go/git clients and a small
//! Rust client, without any proxy in between.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use support::fixture::{pattern_byte, Fixture, FixtureOptions, BROKEN_MODULE};
use support::tools::{clean_go_env, git_binary, go_binaries, go_version, run_with_timeout};

const GO_TIMEOUT: Duration = Duration::from_secs(120);
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- go

fn go_cmd(go: &Path, fx: &Fixture, tmp: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(go);
    cmd.args(args).current_dir(tmp.join("work"));
    clean_go_env(&mut cmd, tmp);
    cmd.env("GOPROXY", fx.https_url(""))
        .env("SSL_CERT_FILE", &fx.ca_pem);
    run_with_timeout(&mut cmd, GO_TIMEOUT)
}

/// A temp dir with `work/go.mod` containing `go_mod`.
fn go_workspace(go_mod: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(tmp.path().join("work")).expect("work dir");
    std::fs::write(tmp.path().join("work/go.mod"), go_mod).expect("write go.mod");
    tmp
}

fn show(what: &str, out: &Output) {
    eprintln!(
        "--- {what}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn all_requires_go_mod() -> String {
    let requires: String = Fixture::modules()
        .iter()
        .map(|(path, version)| format!("\t{path} {version}\n"))
        .collect();
    format!("module selftest\n\ngo 1.19\n\nrequire (\n{requires})\n")
}

#[test]
fn go_downloads_every_module() {
    for go in go_binaries() {
        let fx = Fixture::start();
        let tmp = go_workspace(&all_requires_go_mod());
        let out = go_cmd(&go, &fx, tmp.path(), &["mod", "download"]);
        show(&go_version(&go), &out);
        assert!(out.status.success(), "go mod download failed");
        let dl = tmp.path().join("modcache/cache/download/example.test");
        for p in [
            "mod07/@v/v1.0.0.zip",
            "!upper/@v/v1.0.0.zip",
            "root/@v/v1.0.0.mod",
        ] {
            assert!(dl.join(p).is_file(), "missing {}", dl.join(p).display());
        }
        let extracted = tmp
            .path()
            .join("modcache/example.test/!upper@v1.0.0/upper.go");
        assert!(
            extracted.is_file(),
            "zip not extracted: {}",
            extracted.display()
        );
        let reqs = fx.requests();
        eprintln!("{} requests, versions: {:?}", reqs.len(), versions(&reqs));
        assert!(
            reqs.iter().all(|r| r.version == "HTTP/2.0"),
            "go should negotiate h2"
        );
        let upper: Vec<&str> = reqs
            .iter()
            .map(|r| r.path())
            .filter(|p| p.contains("upper/@v/"))
            .collect();
        eprintln!("Upper requests: {upper:?}");
        assert!(upper.iter().any(|p| p.ends_with("upper/@v/v1.0.0.zip")));
    }
}

fn versions(reqs: &[support::fixture::RecordedRequest]) -> Vec<String> {
    let mut v: Vec<String> = reqs.iter().map(|r| r.version.clone()).collect();
    v.dedup();
    v
}

#[test]
fn go_fails_on_truncated_zip() {
    for h1_only in [false, true] {
        for go in go_binaries() {
            let fx = Fixture::start_with(FixtureOptions {
                h1_only,
                ..Default::default()
            });
            let tmp = go_workspace("module selftest\n\ngo 1.19\n");
            let target = format!("{BROKEN_MODULE}@v1.0.0");
            let out = go_cmd(&go, &fx, tmp.path(), &["mod", "download", &target]);
            show(
                &format!("{} broken zip h1_only={h1_only}", go_version(&go)),
                &out,
            );
            assert!(!out.status.success(), "truncated zip must fail");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let hints = [
                "unexpected EOF",
                "stream error",
                "INTERNAL_ERROR",
                "reset",
                "EOF",
            ];
            assert!(
                hints.iter().any(|h| stderr.contains(h)),
                "unexpected error text: {stderr}"
            );
            let zip_gets = fx
                .requests()
                .iter()
                .filter(|r| r.path().ends_with(".zip"))
                .count();
            eprintln!("zip requests: {zip_gets}");
        }
    }
}

#[test]
fn go_reports_unknown_module() {
    for go in go_binaries() {
        let fx = Fixture::start();
        let tmp = go_workspace("module selftest\n\ngo 1.19\n");
        let out = go_cmd(
            &go,
            &fx,
            tmp.path(),
            &["mod", "download", "example.test/nope@v1.0.0"],
        );
        show(&format!("{} unknown module", go_version(&go)), &out);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
        let paths: Vec<String> = fx
            .requests()
            .iter()
            .map(|r| r.path_and_query.clone())
            .collect();
        eprintln!("requests: {paths:?}");
    }
}

// ---------------------------------------------------------------- git

fn git_cmd(git: &Path, fx: &Fixture, tmp: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(git);
    cmd.args(args).current_dir(tmp);
    clean_go_env(&mut cmd, tmp);
    cmd.env("GIT_SSL_CAINFO", &fx.ca_pem);
    run_with_timeout(&mut cmd, GIT_TIMEOUT)
}

#[test]
fn git_clones_over_smart_http() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    assert!(fx.has_git());
    for (proto, url) in [
        ("2", fx.https_url("/hello.git")),
        ("0", fx.http_url("/hello.git")),
    ] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let cfg = format!("protocol.version={proto}");
        let out = git_cmd(&git, &fx, tmp.path(), &["-c", &cfg, "clone", &url, "clone"]);
        show(&format!("git clone protocol v{proto} {url}"), &out);
        assert!(out.status.success(), "clone failed");
        let tags = git_cmd(&git, &fx, tmp.path(), &["-C", "clone", "tag"]);
        assert!(String::from_utf8_lossy(&tags.stdout)
            .lines()
            .any(|t| t == "v1.0.0"));
        let hello = std::fs::read_to_string(tmp.path().join("clone/hello.go")).expect("hello.go");
        assert!(hello.contains("return \"hello\""));
    }
    let v2 = fx
        .requests()
        .iter()
        .any(|r| r.header("git-protocol") == Some("version=2"));
    assert!(v2, "git should have sent Git-Protocol: version=2");
}

#[test]
fn git_private_repo_is_unauthorized() {
    let Some(git) = git_binary() else { return };
    let fx = Fixture::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = git_cmd(
        &git,
        &fx,
        tmp.path(),
        &["ls-remote", &fx.https_url("/private.git")],
    );
    show("git ls-remote private", &out);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // With prompts off, git reports the 401 as being unable to ask for a username.
    let hints = ["401", "Authentication failed", "could not read Username"];
    assert!(hints.iter().any(|h| stderr.contains(h)), "{stderr}");
    assert!(fx
        .requests()
        .iter()
        .any(|r| r.path() == "/private.git/info/refs"));
}

// ---------------------------------------------------------------- rust client

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
        .block_on(f)
}

fn client_config(ca_pem: &Path, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca_pem).expect("read CA"))
        .expect("add CA");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    cfg
}

/// Sends `GET path` over TLS; h2 if the server picks it from `alpn`.
async fn https_get(
    fx: &Fixture,
    alpn: &[&[u8]],
    path: &str,
) -> Result<Response<Incoming>, BoxError> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(&fx.ca_pem, alpn)));
    let tcp = tokio::net::TcpStream::connect(fx.addr).await?;
    let name = ServerName::try_from("goproxy.test")?;
    let tls = connector.connect(name, tcp).await?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    send(
        TokioIo::new(tls),
        h2,
        &format!("https://goproxy.test{path}"),
    )
    .await
}

async fn http_get(fx: &Fixture, path: &str) -> Result<Response<Incoming>, BoxError> {
    let tcp = tokio::net::TcpStream::connect(fx.http_addr).await?;
    send(
        TokioIo::new(tcp),
        false,
        &format!("http://plain.test{path}"),
    )
    .await
}

async fn send<I>(io: I, h2: bool, url: &str) -> Result<Response<Incoming>, BoxError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let uri: hyper::Uri = url.parse()?;
    let host = uri.authority().ok_or("no authority")?.to_string();
    if h2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        let req = Request::get(uri).body(Empty::<Bytes>::new())?;
        Ok(sender.send_request(req).await?)
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        let path = uri.path_and_query().ok_or("no path")?.as_str().to_string();
        let req = Request::get(path)
            .header("host", host)
            .body(Empty::<Bytes>::new())?;
        Ok(sender.send_request(req).await?)
    }
}

/// Reads a body, counting bytes and checking the `/bytes` pattern.
/// Returns (bytes received, pattern intact, error if the body failed).
async fn drain(mut body: Incoming) -> (u64, bool, Option<String>) {
    let (mut n, mut ok) = (0u64, true);
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(data) = f.data_ref() {
                    ok &= data
                        .iter()
                        .enumerate()
                        .all(|(i, b)| *b == pattern_byte(n + i as u64));
                    n += data.len() as u64;
                }
            }
            Err(e) => return (n, ok, Some(e.to_string())),
        }
    }
    (n, ok, None)
}

const H2: &[&[u8]] = &[b"h2", b"http/1.1"];
const H1: &[&[u8]] = &[b"http/1.1"];

#[test]
fn bytes_stream_with_pattern_over_h1_h2_and_plain() {
    let fx = Fixture::start();
    block_on(async {
        for alpn in [H2, H1] {
            let resp = https_get(&fx, alpn, "/bytes/1048576")
                .await
                .expect("GET /bytes");
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-length"], "1048576");
            assert_eq!(drain(resp.into_body()).await, (1_048_576, true, None));
        }
        let resp = http_get(&fx, "/bytes/1000")
            .await
            .expect("plain GET /bytes");
        assert_eq!(drain(resp.into_body()).await, (1000, true, None));
    });
    let versions: Vec<String> = fx.requests().iter().map(|r| r.version.clone()).collect();
    assert_eq!(versions, ["HTTP/2.0", "HTTP/1.1", "HTTP/1.1"]);
    assert!(
        !fx.requests()[2].tls,
        "third request used the plain listener"
    );
}

#[test]
fn bytes_512_mib_streams() {
    let fx = Fixture::start();
    let n: u64 = 536_870_912;
    let started = std::time::Instant::now();
    let got = block_on(async {
        let resp = https_get(&fx, H2, &format!("/bytes/{n}"))
            .await
            .expect("GET");
        let mut body = resp.into_body();
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.expect("frame");
            if let Some(d) = frame.data_ref() {
                assert_eq!(d[0], pattern_byte(total), "pattern at {total}");
                total += d.len() as u64;
            }
        }
        total
    });
    eprintln!("512 MiB over h2 in {:?}", started.elapsed());
    assert_eq!(got, n);
}

#[test]
fn reset_aborts_mid_body() {
    let fx = Fixture::start();
    block_on(async {
        for alpn in [H2, H1] {
            let resp = https_get(&fx, alpn, "/reset/5000")
                .await
                .expect("GET /reset");
            assert_eq!(resp.headers()["content-length"], "50000");
            let (n, ok, err) = drain(resp.into_body()).await;
            eprintln!(
                "reset via {}: got {n} bytes, error {err:?}",
                String::from_utf8_lossy(alpn[0])
            );
            assert!(ok && n == 5000 && err.is_some());
        }
    });
}

#[test]
fn small_routes() {
    let fx = Fixture::start();
    block_on(async {
        let resp = https_get(&fx, H2, "/status/418").await.expect("status");
        assert_eq!(resp.status(), 418);
        assert_eq!(body_text(resp).await, "status 418");

        let resp = https_get(&fx, H2, "/example.test/nope/@v/v1.0.0.info")
            .await
            .expect("404");
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(body_text(resp).await, "not found: example.test/nope@v1.0.0");

        let resp = https_get(&fx, H1, "/example.test/%21upper/@v/v1.0.0.mod")
            .await
            .expect("mod");
        assert_eq!(
            body_text(resp).await,
            "module example.test/Upper\n\ngo 1.16\n"
        );

        let resp = https_get(&fx, H2, "/example.test/mod01/@v/list")
            .await
            .expect("list");
        assert_eq!(body_text(resp).await, "v1.0.0\n");

        let resp = https_get(&fx, H2, "/example.test/root/@latest")
            .await
            .expect("latest");
        assert_eq!(
            body_text(resp).await,
            r#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#
        );

        let resp = https_get(&fx, H2, "/hello?go-get=1")
            .await
            .expect("discovery");
        let html = body_text(resp).await;
        let meta =
            r#"<meta name="go-import" content="git.test/hello git https://git.test/hello.git">"#;
        assert!(html.contains(meta), "{html}");

        let resp = https_get(&fx, H1, "/private.git/info/refs?service=git-upload-pack")
            .await
            .expect("401");
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Basic realm=\"fixture\""
        );

        let resp = https_get(&fx, H1, "/echo?x=1").await.expect("echo");
        let json: serde_json::Value = serde_json::from_str(&body_text(resp).await).expect("json");
        assert_eq!(json["method"], "GET");
        assert_eq!(json["query"], "x=1");
    });
    let last = fx.requests().pop().expect("recorded");
    assert_eq!(
        (last.authority.as_str(), last.path_and_query.as_str()),
        ("goproxy.test", "/echo?x=1")
    );
}

async fn body_text(resp: Response<Incoming>) -> String {
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}

#[test]
fn stall_never_answers() {
    let fx = Fixture::start();
    block_on(async {
        let res =
            tokio::time::timeout(Duration::from_millis(500), https_get(&fx, H2, "/stall")).await;
        assert!(res.is_err(), "/stall answered");
    });
    assert_eq!(fx.requests().len(), 1);
}

#[test]
fn h1_only_and_untrusted_options() {
    let fx = Fixture::start_with(FixtureOptions {
        h1_only: true,
        ..Default::default()
    });
    block_on(async {
        let resp = https_get(&fx, H2, "/status/200")
            .await
            .expect("h1-only GET");
        assert_eq!(resp.version(), hyper::Version::HTTP_11);
    });
    let fx = Fixture::start_with(FixtureOptions {
        untrusted: true,
        ..Default::default()
    });
    assert_ne!(
        std::fs::read(&fx.ca_pem).ok(),
        std::fs::read(&fx.signer_ca_pem).ok()
    );
    block_on(async {
        let err = https_get(&fx, H2, "/status/200")
            .await
            .expect_err("cert must be rejected");
        eprintln!("untrusted: {err}");
        assert!(err.to_string().contains("certificate"), "{err}");
    });
}
