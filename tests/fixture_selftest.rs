//! Checks the upstream fixture itself, with real go/git clients and a small
//! Rust client, without any proxy in between — except for the checksum-database
//! tests, where go reaches the fixture's made-up host names through gomitm's `--resolve`.
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
use rustls::pki_types::ServerName;
use support::fixture::{
    pattern_byte, Fixture, FixtureOptions, BROKEN_MODULE, LIAR_HOST, SUMDB_NAME, SUMPROXY_HOST,
};
use support::gomitm::{go_through, gomitm_for, workspace, Gomitm};
use support::sumdb::{h1_mod, hash1, node_hash, record_hash, Record, SumDb, Tile};
use support::tools::{
    block_on, clean_go_env, git_binary, go_binaries, go_version, run_with_timeout,
    tls_client_config,
};

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
        let tmp = workspace(&all_requires_go_mod());
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
            let tmp = workspace("module selftest\n\ngo 1.19\n");
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
        let tmp = workspace("module selftest\n\ngo 1.19\n");
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

/// Sends `GET path` over TLS; h2 if the server picks it from `alpn`.
async fn https_get(
    fx: &Fixture,
    alpn: &[&[u8]],
    path: &str,
) -> Result<Response<Incoming>, BoxError> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_client_config(&fx.ca_pem, alpn)));
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

// ---------------------------------------------------------------- checksum database

/// The go command resolves the fixture's made-up names only through gomitm's `--resolve`.
const SUMDB_HOSTS: &[&str] = &[GOPROXY_HOST, SUMDB_NAME, SUMPROXY_HOST, LIAR_HOST];
const GOPROXY_HOST: &str = "goproxy.test";
const SUMDB_TARGET: &str = "example.test/mod01@v1.0.0";

/// `go mod download -json <SUMDB_TARGET>` through gomitm with a fresh module cache.
fn sumdb_download(go: &Path, proxy: &Gomitm, env: &[(&str, &str)]) -> Output {
    let tmp = workspace("module selftest\n\ngo 1.19\n");
    let out = go_through(
        go,
        proxy,
        &proxy.ca_pem(),
        tmp.path(),
        env,
        &["mod", "download", "-json", SUMDB_TARGET],
    );
    show(&format!("{} {env:?}", go_version(go)), &out);
    out
}

/// Sum and GoModSum of `go mod download -json`.
fn download_sums(out: &Output) -> (String, String) {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("download JSON");
    (
        json["Sum"].as_str().expect("Sum").to_string(),
        json["GoModSum"].as_str().expect("GoModSum").to_string(),
    )
}

fn saw(fx: &Fixture, host: &str, pred: impl Fn(&str) -> bool) -> bool {
    fx.requests()
        .iter()
        .any(|r| strip_port(&r.authority) == host && pred(r.path()))
}

fn strip_port(authority: &str) -> &str {
    authority.split(':').next().unwrap_or(authority)
}

#[test]
fn go_verifies_modules_with_the_fixture_checksum_database() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, SUMDB_HOSTS, &[]);
    let key = Fixture::sumdb_key();
    let gosumdb = format!("{key} https://{SUMDB_NAME}");
    let want = Fixture::module_hashes("example.test/mod01").expect("mod01 hashes");
    for go in go_binaries() {
        let version = go_version(&go);
        fx.clear_requests();
        let out = sumdb_download(
            &go,
            &proxy,
            &[
                ("GOPROXY", "https://goproxy.test"),
                ("GOSUMDB", gosumdb.as_str()),
            ],
        );
        assert!(out.status.success(), "{version}: go mod download failed");
        assert_eq!(download_sums(&out), want, "{version}: go's h1 lines");
        assert!(
            saw(&fx, SUMDB_NAME, |p| p
                == "/lookup/example.test/mod01@v1.0.0"),
            "{version}: no lookup on {SUMDB_NAME}: {:#?}",
            fx.requests()
        );
        assert!(
            saw(&fx, SUMDB_NAME, |p| p.starts_with("/tile/8/0/")),
            "{version}: no tile request on {SUMDB_NAME}"
        );
    }
}

#[test]
fn go_verifies_through_a_module_proxy_that_proxies_the_checksum_database() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, SUMDB_HOSTS, &[]);
    let key = Fixture::sumdb_key();
    let want = Fixture::module_hashes("example.test/mod01").expect("mod01 hashes");
    for go in go_binaries() {
        let version = go_version(&go);
        fx.clear_requests();
        let out = sumdb_download(
            &go,
            &proxy,
            &[
                ("GOPROXY", "https://sumproxy.test"),
                ("GOSUMDB", key.as_str()),
            ],
        );
        assert!(out.status.success(), "{version}: go mod download failed");
        assert_eq!(download_sums(&out), want, "{version}: go's h1 lines");
        let prefix = format!("/sumdb/{SUMDB_NAME}/");
        assert!(
            saw(&fx, SUMPROXY_HOST, |p| p
                == format!("{prefix}lookup/example.test/mod01@v1.0.0")),
            "{version}: no proxied lookup: {:#?}",
            fx.requests()
        );
        assert!(saw(&fx, SUMPROXY_HOST, |p| p
            .starts_with(&format!("{prefix}tile/8/0/"))));
        assert!(
            !saw(&fx, SUMDB_NAME, |_| true),
            "{version}: go asked {SUMDB_NAME} directly"
        );
    }
}

#[test]
fn go_reports_a_lying_checksum_database_as_a_security_error() {
    let fx = Fixture::start();
    let proxy = gomitm_for(&fx, SUMDB_HOSTS, &[]);
    let gosumdb = format!("{} https://{LIAR_HOST}", Fixture::liar_key());
    for go in go_binaries() {
        let version = go_version(&go);
        fx.clear_requests();
        let out = sumdb_download(
            &go,
            &proxy,
            &[
                ("GOPROXY", "https://goproxy.test"),
                ("GOSUMDB", gosumdb.as_str()),
            ],
        );
        assert!(!out.status.success(), "{version}: the lie went unnoticed");
        // With -json the error is the "Error" field on stdout; plain go prints it on stderr.
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let error = json["Error"].as_str().unwrap_or_default();
        let (zip_h1, _) = Fixture::module_hashes("example.test/mod01").unwrap();
        for needle in [
            "checksum mismatch",
            "SECURITY ERROR",
            &format!("downloaded: {zip_h1}"),
        ] {
            assert!(
                error.contains(needle),
                "{version}: no {needle:?} in {error}"
            );
        }
        // And without -json, on stderr.
        let tmp = workspace("module selftest\n\ngo 1.19\n");
        let env = [
            ("GOPROXY", "https://goproxy.test"),
            ("GOSUMDB", gosumdb.as_str()),
        ];
        let args = ["mod", "download", SUMDB_TARGET];
        let out = go_through(&go, &proxy, &proxy.ca_pem(), tmp.path(), &env, &args);
        show(&format!("{version} liar, plain"), &out);
        assert!(!out.status.success(), "{version}: the lie went unnoticed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in ["checksum mismatch", "SECURITY ERROR"] {
            assert!(
                stderr.contains(needle),
                "{version}: no {needle:?} in {stderr}"
            );
        }
        assert!(saw(&fx, LIAR_HOST, |p| p.starts_with("/lookup/")));
    }
}

/// What the real go (1.19, 1.26 and 1.27 agree) computes for the fixture's
/// `example.test/mod01@v1.0.0`: `go mod download -json` Sum and GoModSum (also reported as
/// "downloaded:" when the liar's hash differs).
const MOD01_ZIP_H1: &str = "h1:FLetq+fNXBT2ny7Ub2ImiZ0diO54gR5/VS0rFx8/uBs=";
const MOD01_MOD_H1: &str = "h1:9yXda7lindJjlrc39B2MPvrjoVQAOwrU66nJU4kivRw=";

#[test]
fn h1_hashes_match_what_go_writes() {
    assert_eq!(
        h1_mod(b"module example.test/mod01\n\ngo 1.16\n"),
        MOD01_MOD_H1
    );
    assert_eq!(
        Fixture::module_hashes("example.test/mod01"),
        Some((MOD01_ZIP_H1.to_string(), MOD01_MOD_H1.to_string()))
    );
    // dirhash's own test: Hash1 sorts the names and hashes "<sha256 hex>  <name>\n" lines.
    let files = [
        ("xyz".to_string(), b"data for xyz".to_vec()),
        ("abc".to_string(), b"data for abc".to_vec()),
    ];
    let hex = |s: &str| -> String {
        ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let summary = format!(
        "{}  abc\n{}  xyz\n",
        hex("data for abc"),
        hex("data for xyz")
    );
    let top = ring::digest::digest(&ring::digest::SHA256, summary.as_bytes());
    use base64::Engine as _;
    let want = format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(top.as_ref())
    );
    assert_eq!(hash1(&files), want);
}

#[test]
fn sumdb_note_key_and_signature_match_golang_org_x_mod() {
    // sumdb/note's test vectors: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV...
    use base64::Engine as _;
    let skey = base64::engine::general_purpose::STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    assert_eq!(skey[0], 1);
    let db = SumDb::new_with_records("PeterNeumann", skey[1..].try_into().unwrap(), Vec::new());
    assert_eq!(
        db.verifier_key(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    assert_eq!(
        db.sign_note(text),
        format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        )
    );
}

#[test]
fn sumdb_serves_lookups_and_only_the_tiles_the_tree_has() {
    let records: Vec<Record> = (0..300)
        .map(|i| {
            let m = format!("example.test/M{i}");
            Record::new(&m, "v1.0.0", &h1_mod(m.as_bytes()), &h1_mod(b"x"))
        })
        .collect();
    let db = SumDb::new("big.test", records.clone());
    let get = |p: &str| db.respond(p).map(|(s, _, b)| (s, b));

    // Lookup: "<id>\n<record>\n" then the signed tree head; case-escaped paths.
    let (status, body) = get("/lookup/example.test/!m7@v1.0.0").unwrap();
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    let latest = String::from_utf8(get("/latest").unwrap().1).unwrap();
    assert_eq!(body, format!("7\n{}\n{latest}", records[7].text()));
    assert!(
        latest.starts_with("go.sum database tree\n300\n"),
        "{latest}"
    );
    assert!(latest.contains("\n\n\u{2014} big.test "), "{latest}");
    assert_eq!(get("/lookup/example.test/%21m7@v1.0.0").unwrap().0, 200);
    assert_eq!(get("/lookup/example.test/M7@v1.0.0").unwrap().0, 400);
    assert_eq!(get("/lookup/example.test/!m7@v9.9.9").unwrap().0, 404);
    assert_eq!(db.respond("/example.test/m/@v/list"), None);

    // Level 0: one full tile and a partial one of 44; level 1: one hash so far.
    let t0 = get("/tile/8/0/000").unwrap();
    assert_eq!((t0.0, t0.1.len()), (200, 256 * 32));
    let leaf = record_hash(records[5].text().as_bytes());
    assert_eq!(&t0.1[5 * 32..6 * 32], &leaf[..]);
    assert_eq!(get("/tile/8/0/001.p/44").unwrap().1.len(), 44 * 32);
    assert_eq!(get("/tile/8/0/000.p/10").unwrap().1, t0.1[..320].to_vec());
    assert_eq!(get("/tile/8/0/001").unwrap().0, 404);
    assert_eq!(get("/tile/8/0/001.p/45").unwrap().0, 404);
    let l1 = get("/tile/8/1/000.p/1").unwrap().1;
    let mut level: Vec<[u8; 32]> = t0.1.chunks(32).map(|c| c.try_into().unwrap()).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
    }
    assert_eq!(l1, level[0].to_vec());
    assert_eq!(get("/tile/8/1/000").unwrap().0, 404);
    assert_eq!(get("/tile/8/0/1").unwrap().0, 400);
    assert_eq!(get("/tile/8/0/000.p/256").unwrap().0, 400);
    assert_eq!(get("/tile/8/0/+01.p/44").unwrap().0, 400);

    // Data tiles: records without their ID line.
    let data = get("/tile/8/data/001.p/2").unwrap().1;
    assert_eq!(
        String::from_utf8(data).unwrap(),
        format!("{}\n{}\n", records[256].text(), records[257].text())
    );

    // The tree hash: the 256-record subtree and the 44 after it, RFC 6962 style.
    let rest: Vec<[u8; 32]> = records[256..]
        .iter()
        .map(|r| record_hash(r.text().as_bytes()))
        .collect();
    let right = mth(&rest);
    assert_eq!(db.tree_hash(), node_hash(&level[0], &right));
    use base64::Engine as _;
    let root = base64::engine::general_purpose::STANDARD.encode(db.tree_hash());
    assert!(latest.starts_with(&format!("go.sum database tree\n300\n{root}\n\n")));

    assert_eq!(
        Tile::parse("tile/8/0/x001/x234/067.p/8"),
        Some(Tile {
            h: 8,
            l: 0,
            n: 1_234_067,
            w: 8
        })
    );
}

/// RFC 6962 Merkle tree hash, recursively.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let mut k = 1;
    while k * 2 < leaves.len() {
        k *= 2;
    }
    node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
}
