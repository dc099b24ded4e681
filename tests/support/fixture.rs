//! A self-contained upstream server for gomitm's integration tests.
//!
//! It speaks TLS (h2 + http/1.1 via ALPN) and plain HTTP on 127.0.0.1 and
//! serves: a Go module proxy, `go-get=1` discovery pages, a git smart-HTTP
//! repository (via `git http-backend` as CGI), and a few test utilities
//! (`/bytes/N`, `/reset/N`, `/stall`, `/status/CODE`, `/echo`).
//!
//! Most routes ignore the Host name; a few depend on it (the port is ignored):
//! - `a.test` ([`MISSING_PROXY_HOST`]) is a module proxy that lacks everything: every
//!   module-proxy request answers 404 `not found: <module>@<version>`.
//! - `sum.test` ([`SUMDB_HOST`]) is a checksum database that knows nothing:
//!   `/lookup/<module>@<version>` answers 410 Gone, `/tile/...` 404.
//! - Every other host serves the modules, including the private [`PRIVATE_MODULE`] (a public
//!   proxy that happily serves a private path: the leak scenario).
//!
//! - `sumdb.test` ([`SUMDB_NAME`]) is a real, signed checksum database (see `sumdb.rs`) at the
//!   root (`/lookup/...`, `/tile/...`, `/latest`) holding the true hashes of every module with a
//!   zip (the private one included); its key is [`Fixture::sumdb_key`].
//! - `sumproxy.test` ([`SUMPROXY_HOST`]) is a module proxy that also proxies that database:
//!   `/sumdb/sumdb.test/supported` answers 200 and `/sumdb/sumdb.test/<rest>` serves it.
//! - `liar.test` ([`LIAR_HOST`]) is a signed checksum database named `liar.test` whose records
//!   carry a wrong zip hash for every module (right go.mod hashes); key [`Fixture::liar_key`].
//!
//! On every other host `/sumdb/<name>/supported` answers 404, so the go command asks the
//! checksum database directly.
//!
//! It deliberately depends only on external crates, never on `gomitm`, so it
//! is an independent oracle for what the proxy should relay.
#![allow(dead_code)]
// The crate denies these clippy lints; a test fixture should fail loudly instead.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::ffi::OsString;
use std::future::Future as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::sumdb::{h1_mod, h1_zip, Record, SumDb};

/// Version served for every generated module.
pub const VERSION: &str = "v1.0.0";
/// `.info` timestamp of every module.
pub const MODULE_TIME: &str = "2024-01-01T00:00:00Z";
/// Module whose `.zip` is cut off mid-body.
pub const BROKEN_MODULE: &str = "example.test/broken";
/// `Content-Length` announced for the broken zip, and bytes actually sent.
pub const BROKEN_ZIP_ANNOUNCED: u64 = 100_000;
pub const BROKEN_ZIP_SENT: u64 = 1000;
/// Import path and repo URL served by the discovery pages.
pub const GIT_HELLO_IMPORT: &str = "git.test/hello";
pub const GIT_PRIVATE_IMPORT: &str = "git.test/private";
/// A private module path that every module proxy except [`MISSING_PROXY_HOST`] serves
/// (version [`VERSION`]); not part of [`Fixture::modules`].
pub const PRIVATE_MODULE: &str = "corp.test/secret";
/// Host whose module proxy answers 404 to every module-proxy request.
pub const MISSING_PROXY_HOST: &str = "a.test";
/// Host that acts as a checksum database answering 410 Gone to every lookup.
pub const SUMDB_HOST: &str = "sum.test";
/// Name and host of the real checksum database (the name in its GOSUMDB key).
pub const SUMDB_NAME: &str = "sumdb.test";
/// Module proxy host that proxies the [`SUMDB_NAME`] database under `/sumdb/sumdb.test/`.
pub const SUMPROXY_HOST: &str = "sumproxy.test";
/// Name and host of the checksum database that vouches for wrong zip hashes.
pub const LIAR_HOST: &str = "liar.test";

/// SANs on the TLS leaf certificate, with every [`scenario::HOSTS`] name.
const LEAF_SANS: &[&str] = &[
    "goproxy.test",
    "git.test",
    "a.test",
    "b.test",
    "sum.test",
    // webpki never matches `*.test` (a wildcard right under a TLD): name them.
    SUMDB_NAME,
    SUMPROXY_HOST,
    LIAR_HOST,
    "*.test",
    "localhost",
    "127.0.0.1",
];
const CHUNK: usize = 64 * 1024;
const PATTERN_PERIOD: u64 = 251;
/// Upper bound on any single piece of work (CGI run, body read, TLS handshake).
const OP_TIMEOUT: Duration = Duration::from_secs(30);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before a deliberate abort, so the bytes already sent get flushed.
const ABORT_PAUSE: Duration = Duration::from_millis(100);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Byte at offset `i` of every `/bytes/N` (and `/reset/N`) body.
pub fn pattern_byte(i: u64) -> u8 {
    (i % PATTERN_PERIOD) as u8
}

#[derive(Clone, Debug, Default)]
pub struct FixtureOptions {
    /// Offer only `http/1.1` by ALPN (and speak only HTTP/1.1 on the plain port).
    pub h1_only: bool,
    /// Sign the leaf with a second CA; `ca_pem` still holds the first CA, so
    /// clients trusting `ca_pem` must reject the upstream certificate.
    pub untrusted: bool,
}

/// One request as the fixture saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    /// `:authority` for h2, the `Host` header for HTTP/1.x.
    pub authority: String,
    pub headers: Vec<(String, String)>,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: String,
    /// Whether it arrived on the TLS listener.
    pub tls: bool,
}

impl RecordedRequest {
    /// First value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Path without the query string.
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or("")
    }
}

pub struct Fixture {
    /// TLS listener (h2 + http/1.1 unless `h1_only`).
    pub addr: SocketAddr,
    /// Plain-HTTP listener with the same routes (h1, or h2 prior knowledge).
    pub http_addr: SocketAddr,
    /// The fixture's test CA certificate (PEM) — what clients should trust.
    pub ca_pem: PathBuf,
    /// The CA that actually signed the leaf: `ca_pem` unless `untrusted`.
    pub signer_ca_pem: PathBuf,
    /// Temp dir holding the CA files and git repositories.
    pub dir: PathBuf,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
    _tmp: tempfile::TempDir,
    /// The fixture's leaf (`*.test` and the named hosts, signed by `signer_ca_pem`) offering
    /// HTTP/1.1 only: for servers a test runs itself (WebSocket).
    pub tls_h1: Arc<rustls::ServerConfig>,
}

impl Fixture {
    pub fn start() -> Fixture {
        Fixture::start_with(FixtureOptions::default())
    }

    pub fn start_with(opts: FixtureOptions) -> Fixture {
        let tmp = tempfile::Builder::new()
            .prefix("gomitm-fixture-")
            .tempdir()
            .expect("create fixture temp dir");
        let dir = tmp.path().to_path_buf();
        let pki = Pki::generate(opts.untrusted);
        let (ca_pem, signer_ca_pem) = pki.write(&dir);
        let state = Arc::new(State {
            modules: build_modules(),
            log: Mutex::new(Vec::new()),
            git: setup_git(&dir),
            sums: sums(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fixture")
            .enable_all()
            .build()
            .expect("build fixture tokio runtime");
        let (tls_listener, http_listener) = runtime.block_on(async {
            let tls = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind TLS listener");
            let plain = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind HTTP listener");
            (tls, plain)
        });
        let addr = tls_listener.local_addr().expect("TLS listener addr");
        let http_addr = http_listener.local_addr().expect("HTTP listener addr");
        let acceptor = TlsAcceptor::from(Arc::new(pki.server_config(opts.h1_only)));
        let plain_proto = if opts.h1_only { Proto::H1 } else { Proto::Auto };
        runtime.spawn(accept_tls(tls_listener, acceptor, state.clone()));
        runtime.spawn(accept_plain(http_listener, plain_proto, state.clone()));
        Fixture {
            addr,
            http_addr,
            ca_pem,
            signer_ca_pem,
            dir,
            state,
            runtime: Some(runtime),
            _tmp: tmp,
            tls_h1: Arc::new(pki.server_config(true)),
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.lock().expect("request log poisoned").clone()
    }

    pub fn clear_requests(&self) {
        self.state.log.lock().expect("request log poisoned").clear();
    }

    /// `https://127.0.0.1:<port><path>`
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{}", self.addr, path)
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http_addr, path)
    }

    /// Whether `/hello.git` is being served (needs `git` at start-up).
    pub fn has_git(&self) -> bool {
        self.state.git.is_some()
    }

    /// (module path, version) of every downloadable module that `example.test/root` needs;
    /// excludes `BROKEN_MODULE` and `PRIVATE_MODULE`.
    pub fn modules() -> Vec<(String, String)> {
        good_module_paths()
            .into_iter()
            .map(|p| (p, VERSION.to_string()))
            .collect()
    }

    /// The GOSUMDB key (without URL) of the honest checksum database [`SUMDB_NAME`].
    pub fn sumdb_key() -> String {
        sums().honest.verifier_key()
    }

    /// The GOSUMDB key (without URL) of the lying checksum database on [`LIAR_HOST`].
    pub fn liar_key() -> String {
        sums().liar.verifier_key()
    }

    /// (zip `h1:`, go.mod `h1:`) of `module` at [`VERSION`], computed from the bytes the
    /// fixture serves: what the honest database records and go writes into go.sum.
    pub fn module_hashes(module: &str) -> Option<(String, String)> {
        let db = &sums().honest;
        let id = db.lookup(module, VERSION)?;
        let r = &db.records()[id as usize];
        Some((r.zip_h1.clone(), r.mod_h1.clone()))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Dropping the tasks also kills any running `git http-backend` (kill_on_drop).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

struct State {
    modules: HashMap<String, ModuleData>,
    log: Mutex<Vec<RecordedRequest>>,
    git: Option<GitBackend>,
    sums: &'static Sums,
}

impl State {
    fn record<B>(&self, req: &Request<B>, tls: bool) {
        let authority = req
            .uri()
            .authority()
            .map(|a| a.to_string())
            .or_else(|| header_str(req, "host"))
            .unwrap_or_default();
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let entry = RecordedRequest {
            method: req.method().to_string(),
            path_and_query: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            authority,
            headers,
            version: format!("{:?}", req.version()),
            tls,
        };
        self.log.lock().expect("request log poisoned").push(entry);
    }
}

fn header_str<B>(req: &Request<B>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

// ---------------------------------------------------------------- certificates

struct Pki {
    ca_pem: String,
    signer_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

impl Pki {
    fn generate(untrusted: bool) -> Pki {
        let (ca_pem, ca) = make_ca("gomitm fixture CA");
        let (signer_pem, signer) = if untrusted {
            make_ca("gomitm fixture UNTRUSTED CA")
        } else {
            (ca_pem.clone(), ca)
        };
        let key = new_key();
        let mut params = CertificateParams::new(
            LEAF_SANS
                .iter()
                .chain(scenario::HOSTS.iter())
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .expect("leaf SANs");
        params
            .distinguished_name
            .push(DnType::CommonName, "gomitm fixture upstream");
        params.use_authority_key_identifier_extension = true;
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        set_validity(&mut params);
        let leaf = params.signed_by(&key, &signer).expect("sign leaf");
        Pki {
            ca_pem,
            signer_pem,
            leaf_der: leaf.der().clone(),
            leaf_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// Writes both CA files; returns (trusted CA path, signer CA path).
    fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let ca = dir.join("fixture-ca.pem");
        let signer = dir.join("fixture-signer-ca.pem");
        std::fs::write(&ca, &self.ca_pem).expect("write CA PEM");
        std::fs::write(&signer, &self.signer_pem).expect("write signer CA PEM");
        (ca, signer)
    }

    fn server_config(&self, h1_only: bool) -> rustls::ServerConfig {
        let provider = gomitm::ca::tls_provider();
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.leaf_der.clone()], self.leaf_key.clone_key())
            .expect("leaf certificate and key match");
        cfg.alpn_protocols = if h1_only {
            vec![b"http/1.1".to_vec()]
        } else {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        };
        cfg
    }
}

fn new_key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate P-256 key")
}

fn make_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SANs");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params);
    let key = new_key();
    let cert = params.self_signed(&key).expect("self-sign CA");
    (cert.pem(), Issuer::new(params, key))
}

/// A short window around now: realistic, and tolerant of small clock skew.
fn set_validity(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
}

// ---------------------------------------------------------------- modules

struct ModuleData {
    path: String,
    go_mod: String,
    /// `None` means the zip is served truncated (the broken module).
    zip: Option<Bytes>,
}

fn good_module_paths() -> Vec<String> {
    let mut paths = leaf_module_paths();
    paths.push("example.test/root".to_string());
    paths
}

/// The modules `example.test/root` requires.
fn leaf_module_paths() -> Vec<String> {
    let mut paths: Vec<String> = (1..=20)
        .map(|i| format!("example.test/mod{i:02}"))
        .collect();
    paths.push("example.test/Upper".to_string());
    paths
}

fn build_modules() -> HashMap<String, ModuleData> {
    let mut mods = HashMap::new();
    for path in leaf_module_paths() {
        let pkg = last_elem(&path).to_lowercase();
        let go_mod = format!("module {path}\n\ngo 1.16\n");
        let src = format!(
            "package {pkg}\n\n// Name reports the module's name.\nfunc Name() string {{ return {path:?} }}\n"
        );
        insert_module(&mut mods, &path, go_mod, Some(&src));
    }
    let requires: String = leaf_module_paths()
        .iter()
        .map(|p| format!("\t{p} {VERSION}\n"))
        .collect();
    let root_mod = format!("module example.test/root\n\ngo 1.16\n\nrequire (\n{requires})\n");
    let root_src = "package root\n\n// Root is a marker.\nfunc Root() bool { return true }\n";
    insert_module(&mut mods, "example.test/root", root_mod, Some(root_src));
    let broken_mod = format!("module {BROKEN_MODULE}\n\ngo 1.16\n");
    insert_module(&mut mods, BROKEN_MODULE, broken_mod, None);
    let private_mod = format!("module {PRIVATE_MODULE}\n\ngo 1.16\n");
    let private_src = "package secret\n\n// Secret must never reach a public proxy.\nfunc Secret() string { return \"s3cr3t\" }\n";
    insert_module(&mut mods, PRIVATE_MODULE, private_mod, Some(private_src));
    mods
}

fn insert_module(
    mods: &mut HashMap<String, ModuleData>,
    path: &str,
    go_mod: String,
    src: Option<&str>,
) {
    let zip = src.map(|src| {
        let go_file = format!("{}.go", last_elem(path).to_lowercase());
        module_zip(path, &[("go.mod", &go_mod), (&go_file, src)])
    });
    let data = ModuleData {
        path: path.to_string(),
        go_mod,
        zip,
    };
    mods.insert(path.to_string(), data);
}

fn last_elem(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A Go module zip: every file under `<module>@<version>/`, original case.
fn module_zip(path: &str, files: &[(&str, &str)]) -> Bytes {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        w.start_file(format!("{path}@{VERSION}/{name}"), opts)
            .expect("zip entry");
        w.write_all(content.as_bytes()).expect("zip write");
    }
    Bytes::from(w.finish().expect("finish zip").into_inner())
}

enum ProxyReq {
    List(String),
    Latest(String),
    File {
        module: String,
        version: String,
        ext: String,
    },
}

/// Parses `/<escaped-module>/@v/<file>` or `/<escaped-module>/@latest`.
fn parse_goproxy(path: &str) -> Option<ProxyReq> {
    let path = percent_decode(path.strip_prefix('/')?)?;
    if let Some(m) = path.strip_suffix("/@latest") {
        return Some(ProxyReq::Latest(unescape_case(m)?));
    }
    let (m, file) = path.split_once("/@v/")?;
    let module = unescape_case(m)?;
    if file == "list" {
        return Some(ProxyReq::List(module));
    }
    let (version, ext) = file.rsplit_once('.')?;
    let version = unescape_case(version)?;
    Some(ProxyReq::File {
        module,
        version,
        ext: ext.to_string(),
    })
}

/// Go's case encoding: `!x` stands for `X`.
fn unescape_case(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '!' {
            let next = chars.next().filter(|n| n.is_ascii_lowercase())?;
            out.push(next.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes (Go sometimes sends `!` as `%21`).
use super::sumdb::percent_decode;

fn goproxy(path: &str, host: &str, state: &State) -> Response<Body> {
    let Some(req) = parse_goproxy(path) else {
        return text(StatusCode::NOT_FOUND, format!("not found: {path}"));
    };
    if host == MISSING_PROXY_HOST {
        return match req {
            ProxyReq::List(m) | ProxyReq::Latest(m) => not_found(&m, None),
            ProxyReq::File {
                module, version, ..
            } => not_found(&module, Some(&version)),
        };
    }
    match req {
        ProxyReq::List(m) if state.modules.contains_key(&m) => {
            text(StatusCode::OK, format!("{VERSION}\n"))
        }
        ProxyReq::Latest(m) if state.modules.contains_key(&m) => info_response(),
        ProxyReq::List(m) | ProxyReq::Latest(m) => not_found(&m, None),
        ProxyReq::File {
            module,
            version,
            ext,
        } => match state.modules.get(&module) {
            Some(data) if version == VERSION => module_file(data, &ext),
            _ => not_found(&module, Some(&version)),
        },
    }
}

fn module_file(data: &ModuleData, ext: &str) -> Response<Body> {
    match (ext, &data.zip) {
        ("info", _) => info_response(),
        ("mod", _) => text(StatusCode::OK, data.go_mod.clone()),
        ("zip", Some(zip)) => respond(StatusCode::OK, "application/zip", Full::new(zip.clone())),
        ("zip", None) => {
            aborting_response(BROKEN_ZIP_ANNOUNCED, BROKEN_ZIP_SENT, "application/zip")
        }
        _ => not_found(&data.path, Some(VERSION)),
    }
}

fn info_response() -> Response<Body> {
    let body = format!("{{\"Version\":\"{VERSION}\",\"Time\":\"{MODULE_TIME}\"}}");
    respond(
        StatusCode::OK,
        "application/json",
        Full::new(Bytes::from(body)),
    )
}

fn not_found(module: &str, version: Option<&str>) -> Response<Body> {
    let what = match version {
        Some(v) => format!("{module}@{v}"),
        None => module.to_string(),
    };
    text(StatusCode::NOT_FOUND, format!("not found: {what}"))
}

// ---------------------------------------------------------------- git

struct GitBackend {
    backend: PathBuf,
    project_root: PathBuf,
    home: PathBuf,
    path_env: OsString,
}

/// Creates `<dir>/git/hello.git`; `None` (with a note) when git is absent.
fn setup_git(dir: &Path) -> Option<GitBackend> {
    let exec_path = match std::process::Command::new("git")
        .arg("--exec-path")
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => {
            eprintln!("fixture: git not found; /hello.git will answer 503");
            return None;
        }
    };
    let work = dir.join("git-work").join("hello");
    let project_root = dir.join("git");
    std::fs::create_dir_all(&work).expect("create git work dir");
    std::fs::create_dir_all(&project_root).expect("create git project root");
    std::fs::write(work.join("go.mod"), "module git.test/hello\n\ngo 1.16\n")
        .expect("write go.mod");
    std::fs::write(
        work.join("hello.go"),
        "package hello\n\nfunc Hello() string { return \"hello\" }\n",
    )
    .expect("write hello.go");
    let bare = project_root.join("hello.git");
    let w = work.to_str().expect("utf-8 temp path");
    let b = bare.to_str().expect("utf-8 temp path");
    run_git(dir, &["-c", "init.defaultBranch=main", "init", "-q", w]);
    run_git(dir, &["-C", w, "add", "."]);
    run_git(dir, &["-C", w, "commit", "-q", "-m", "hello v1.0.0"]);
    run_git(dir, &["-C", w, "tag", "v1.0.0"]);
    run_git(dir, &["clone", "-q", "--bare", w, b]);
    run_git(dir, &["-C", b, "update-server-info"]);
    Some(GitBackend {
        backend: Path::new(&exec_path).join("git-http-backend"),
        project_root,
        home: dir.to_path_buf(),
        path_env: std::env::var_os("PATH").unwrap_or_default(),
    })
}

/// Runs git with a scrubbed, fixed identity so no user config is needed.
fn run_git(home: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.test")
        .env("GIT_AUTHOR_DATE", MODULE_TIME)
        .env("GIT_COMMITTER_NAME", "Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.test")
        .env("GIT_COMMITTER_DATE", MODULE_TIME)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "fixture: git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn git_cgi(req: Request<Incoming>, git: &GitBackend) -> Response<Body> {
    match tokio::time::timeout(OP_TIMEOUT, run_cgi(req, git)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("fixture CGI error: {e}"),
        ),
        Err(_) => text(
            StatusCode::GATEWAY_TIMEOUT,
            "fixture CGI timed out".to_string(),
        ),
    }
}

/// Runs `git http-backend`. The repo is tiny, so request and response are
/// buffered whole; stdin is written concurrently to avoid pipe deadlock.
async fn run_cgi(req: Request<Incoming>, git: &GitBackend) -> Result<Response<Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let input = body.collect().await?.to_bytes();
    let mut cmd = tokio::process::Command::new(&git.backend);
    cmd.env_clear()
        .env("PATH", &git.path_env)
        .env("HOME", &git.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", &git.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("SERVER_PROTOCOL", format!("{:?}", parts.version));
    let copy = [
        ("content-type", "CONTENT_TYPE"),
        ("git-protocol", "GIT_PROTOCOL"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
    ];
    for (header, var) in copy {
        if let Some(v) = parts.headers.get(header).and_then(|v| v.to_str().ok()) {
            cmd.env(var, v);
        }
    }
    if parts.method != Method::GET {
        cmd.env("CONTENT_LENGTH", input.len().to_string());
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    tokio::spawn(async move {
        // http-backend may exit without reading everything; that's its call.
        let _ = stdin.write_all(&input).await;
    });
    let out = child.wait_with_output().await?;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(format!("http-backend: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    parse_cgi(&out.stdout)
}

/// Splits CGI output into headers (`Status:` sets the code) and body.
fn parse_cgi(out: &[u8]) -> Result<Response<Body>, BoxError> {
    let (head, body) = split_cgi(out).ok_or("CGI output without header terminator")?;
    let mut resp = Response::new(
        Full::new(Bytes::copy_from_slice(body))
            .map_err(never)
            .boxed_unsync(),
    );
    for line in std::str::from_utf8(head)?.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.get(..3).ok_or("short Status")?;
            *resp.status_mut() = StatusCode::from_bytes(code.as_bytes())?;
        } else if !is_hop_by_hop(name) {
            let name = HeaderName::from_bytes(name.trim().as_bytes())?;
            resp.headers_mut()
                .append(name, HeaderValue::from_str(value)?);
        }
    }
    Ok(resp)
}

fn split_cgi(out: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let (i, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 < b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&out[..i], &out[i + len..]))
}

fn is_hop_by_hop(name: &str) -> bool {
    ["connection", "transfer-encoding", "keep-alive"]
        .iter()
        .any(|h| name.trim().eq_ignore_ascii_case(h))
}

fn unauthorized() -> Response<Body> {
    let mut resp = text(
        StatusCode::UNAUTHORIZED,
        "authentication required\n".to_string(),
    );
    resp.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Basic realm=\"fixture\""),
    );
    resp
}

/// `?go-get=1` pages for `/hello...` and `/private...`.
fn discovery(path: &str) -> Response<Body> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let import = match first {
        "hello" => GIT_HELLO_IMPORT,
        "private" => GIT_PRIVATE_IMPORT,
        _ => return text(StatusCode::NOT_FOUND, format!("no go-import for {path}")),
    };
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"go-import\" content=\"{import} git https://{import}.git\">\n</head>\n<body>go get {import}</body>\n</html>\n"
    );
    respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Full::new(Bytes::from(html)),
    )
}

fn is_go_get(query: &str) -> bool {
    query.split('&').any(|kv| kv == "go-get=1")
}

// ---------------------------------------------------------------- checksum database

/// The fixture's two signed checksum databases (deterministic keys, so built once).
struct Sums {
    honest: SumDb,
    liar: SumDb,
}

fn sums() -> &'static Sums {
    static SUMS: OnceLock<Sums> = OnceLock::new();
    SUMS.get_or_init(|| {
        let mods = build_modules();
        let mut paths: Vec<&String> = mods.keys().collect();
        paths.sort();
        let honest: Vec<Record> = paths
            .iter()
            .filter_map(|p| {
                let data = &mods[*p];
                let zip = data.zip.as_ref()?;
                let (zip_h1, mod_h1) = (h1_zip(zip), h1_mod(data.go_mod.as_bytes()));
                Some(Record::new(p, VERSION, &zip_h1, &mod_h1))
            })
            .collect();
        let liar = honest
            .iter()
            .map(|r| Record {
                zip_h1: h1_mod(format!("not the zip of {}", r.module).as_bytes()),
                ..r.clone()
            })
            .collect();
        Sums {
            honest: SumDb::new(SUMDB_NAME, honest),
            liar: SumDb::new(LIAR_HOST, liar),
        }
    })
}

/// The real checksum databases: [`SUMDB_NAME`] and [`LIAR_HOST`] at their root, and
/// [`SUMDB_NAME`] proxied by [`SUMPROXY_HOST`]. `None` for anything else.
fn sumdb_route(host: &str, path: &str, sums: &Sums) -> Option<Response<Body>> {
    let (db, rest) = match host {
        SUMDB_NAME => (&sums.honest, path),
        LIAR_HOST => (&sums.liar, path),
        SUMPROXY_HOST => {
            let rest = path.strip_prefix("/sumdb/")?.strip_prefix(SUMDB_NAME)?;
            if rest == "/supported" {
                return Some(text(StatusCode::OK, String::new()));
            }
            (&sums.honest, rest)
        }
        _ => return None,
    };
    let (status, content_type, body) = db.respond(rest)?;
    let status = StatusCode::from_u16(status).expect("valid status");
    Some(respond(status, content_type, Full::new(Bytes::from(body))))
}

/// `/sumdb/<name>/supported`: the go command's probe for a proxied checksum database.
fn is_sumdb_supported(path: &str) -> bool {
    path.strip_prefix("/sumdb/")
        .and_then(|rest| rest.strip_suffix("/supported"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn is_sumdb_path(path: &str) -> bool {
    path.starts_with("/lookup/") || path.starts_with("/tile/") || path == "/latest"
}

/// The checksum database on [`SUMDB_HOST`]: it knows no module at all.
fn sumdb(path: &str) -> Response<Body> {
    match path.strip_prefix("/lookup/") {
        Some(what) => {
            // The go command sends `!x` literally to a checksum database; decode for the message.
            let decoded = percent_decode(what).unwrap_or_else(|| what.to_string());
            let shown = match decoded.rsplit_once('@') {
                Some((m, v)) => match (unescape_case(m), unescape_case(v)) {
                    (Some(m), Some(v)) => format!("{m}@{v}"),
                    _ => decoded.clone(),
                },
                None => decoded.clone(),
            };
            text(StatusCode::GONE, format!("not found: {shown}"))
        }
        None => text(StatusCode::NOT_FOUND, format!("not found: {path}")),
    }
}

/// The request's host name, lower-case, without the port: `:authority` (h2, absolute-form)
/// or the `Host` header.
fn request_host<B>(req: &Request<B>) -> String {
    let authority = req
        .uri()
        .authority()
        .map(|a| a.host().to_string())
        .or_else(|| header_str(req, "host"))
        .unwrap_or_default();
    strip_port(&authority).to_ascii_lowercase()
}

fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

// ---------------------------------------------------------------- serving

#[derive(Clone, Copy)]
enum Proto {
    Auto,
    H1,
    H2,
}

async fn accept_tls(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // e.g. EMFILE: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (acceptor, state) = (acceptor.clone(), state.clone());
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return; // failed handshakes are expected in untrusted-cert tests
            };
            let proto = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => Proto::H2,
                Some(b"http/1.1") => Proto::H1,
                _ => Proto::Auto,
            };
            serve_conn(TokioIo::new(tls), proto, state, true).await;
        });
    }
}

async fn accept_plain(listener: TcpListener, proto: Proto, state: Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(serve_conn(TokioIo::new(tcp), proto, state.clone(), false));
    }
}

async fn serve_conn<I>(io: I, proto: Proto, state: Arc<State>, tls: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder = match proto {
        Proto::Auto => builder,
        Proto::H1 => builder.http1_only(),
        Proto::H2 => builder.http2_only(),
    };
    let svc = hyper::service::service_fn(move |req| route(req, state.clone(), tls));
    // Connection errors (client hung up, deliberate aborts) are part of the tests.
    let _ = builder.serve_connection(io, svc).await;
}

async fn route(
    req: Request<Incoming>,
    state: Arc<State>,
    tls: bool,
) -> Result<Response<Body>, Infallible> {
    state.record(&req, tls);
    let host = request_host(&req);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let resp = if path == "/echo" {
        echo(req).await
    } else if path == "/stall" {
        // Never answer; the future is dropped when the client goes away.
        std::future::pending().await
    } else if let Some(n) = path.strip_prefix("/bytes/") {
        with_count(n, |n| {
            pattern_response(n, n, Tail::End, "application/octet-stream")
        })
    } else if let Some(n) = path.strip_prefix("/reset/") {
        with_count(n, |n| {
            aborting_response(n.saturating_mul(10), n, "application/octet-stream")
        })
    } else if let Some(n) = path.strip_prefix("/stall-body/") {
        with_count(n, |n| {
            pattern_response(
                n.saturating_mul(10),
                n,
                Tail::Hang,
                "application/octet-stream",
            )
        })
    } else if let Some(code) = path.strip_prefix("/status/") {
        status(code)
    } else if path.starts_with("/hello.git/") {
        match &state.git {
            Some(git) => git_cgi(req, git).await,
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "fixture has no git\n".to_string(),
            ),
        }
    } else if path.starts_with("/private.git/")
        || (host == scenario::AUTH
            && req
                .headers()
                .get("authorization")
                .is_none_or(|v| v.as_bytes() != scenario::AUTH_BASIC.as_bytes()))
    {
        unauthorized()
    } else if is_go_get(&query) {
        discovery(&path)
    } else if let Some(resp) = scenario::route(&host, &path, &query, &state) {
        resp
    } else if let Some(resp) = sumdb_route(&host, &path, state.sums) {
        resp
    } else if is_sumdb_supported(&path) {
        text(StatusCode::NOT_FOUND, format!("not found: {path}"))
    } else if host == SUMDB_HOST && is_sumdb_path(&path) {
        sumdb(&path)
    } else {
        goproxy(&path, &host, &state)
    };
    Ok(resp)
}

fn with_count(n: &str, f: impl FnOnce(u64) -> Response<Body>) -> Response<Body> {
    match n.parse::<u64>() {
        Ok(n) => f(n),
        Err(_) => text(StatusCode::BAD_REQUEST, format!("bad count {n:?}")),
    }
}

fn status(code: &str) -> Response<Body> {
    // `/status/503/<anything>`: a module proxy base URL that fails every request.
    let code = code.split('/').next().unwrap_or(code);
    match code.parse::<u16>().ok().filter(|c| (200..=599).contains(c)) {
        Some(c) => {
            let status = StatusCode::from_u16(c).expect("range-checked status");
            text(status, format!("status {c}"))
        }
        None => text(StatusCode::BAD_REQUEST, format!("bad status {code:?}")),
    }
}

async fn echo(req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body_len = match tokio::time::timeout(OP_TIMEOUT, body.collect()).await {
        Ok(Ok(b)) => b.to_bytes().len(),
        _ => {
            return text(
                StatusCode::BAD_REQUEST,
                "could not read request body".to_string(),
            )
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let json = serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body_len": body_len,
    });
    respond(
        StatusCode::OK,
        "application/json",
        Full::new(Bytes::from(json.to_string())),
    )
}

fn never(e: Infallible) -> BoxError {
    match e {}
}

fn respond<B>(status: StatusCode, content_type: &'static str, body: B) -> Response<Body>
where
    B: HttpBody<Data = Bytes, Error = Infallible> + Send + 'static,
{
    let mut resp = Response::new(body.map_err(never).boxed_unsync());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    respond(
        status,
        "text/plain; charset=utf-8",
        Full::new(Bytes::from(body)),
    )
}

// ---------------------------------------------------------------- pattern bodies

/// What a `PatternBody` does once it has sent its bytes.
#[derive(Clone, Copy, PartialEq)]
enum Tail {
    End,
    /// Pause briefly (so sent bytes get flushed), then fail: hyper then closes
    /// the HTTP/1.1 connection or resets the h2 stream.
    Abort,
    /// Never produce anything again.
    Hang,
}

fn pattern_response(
    announced: u64,
    sent: u64,
    tail: Tail,
    content_type: &'static str,
) -> Response<Body> {
    let body = PatternBody {
        pos: 0,
        announced,
        stop_at: sent.min(announced),
        tail,
        pause: None,
    };
    let mut resp = Response::new(body.boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(announced));
    resp
}

fn aborting_response(announced: u64, sent: u64, content_type: &'static str) -> Response<Body> {
    pattern_response(announced, sent, Tail::Abort, content_type)
}

/// Streams `pattern_byte(i)` for i in `0..stop_at`, generated on the fly.
struct PatternBody {
    pos: u64,
    announced: u64,
    stop_at: u64,
    tail: Tail,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// `CHUNK + period` bytes of pattern: any chunk is a zero-copy slice of it.
fn pattern_block() -> &'static Bytes {
    static BLOCK: OnceLock<Bytes> = OnceLock::new();
    BLOCK.get_or_init(|| {
        (0..CHUNK as u64 + PATTERN_PERIOD)
            .map(pattern_byte)
            .collect::<Vec<u8>>()
            .into()
    })
}

impl HttpBody for PatternBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.pos < self.stop_at {
            let n = (self.stop_at - self.pos).min(CHUNK as u64) as usize;
            let start = (self.pos % PATTERN_PERIOD) as usize;
            self.pos += n as u64;
            return Poll::Ready(Some(Ok(Frame::data(
                pattern_block().slice(start..start + n),
            ))));
        }
        match self.tail {
            _ if self.pos >= self.announced => Poll::Ready(None),
            Tail::End => Poll::Ready(None),
            Tail::Hang => Poll::Pending,
            Tail::Abort => {
                let pause = self
                    .pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(ABORT_PAUSE)));
                match pause.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err("fixture: deliberate abort".into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.announced
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.announced - self.pos)
    }
}

// ---------------------------------------------------------------- failure scenarios

/// Module proxies that answer 200 (or a redirect) with what go cannot use: the failures no
/// status code explains. Each host serves the fixture's modules otherwise.
pub mod scenario {
    use super::*;

    /// Every request: 200 and a Wi-Fi login page (a captive portal).
    pub const PORTAL: &str = "portal.test";
    /// `.info` names another version.
    pub const BAD_INFO: &str = "badinfo.test";
    /// `.zip` is the zip of `example.test/mod02` whatever was asked.
    pub const WRONG_ZIP: &str = "wrongzip.test";
    /// `.zip` has the right file names but other contents (a tampered module).
    pub const TAMPER: &str = "tamper.test";
    /// `.zip` answers 302 to the same path on [`CDN`] (healthy, as real proxies do).
    pub const REDIRECT: &str = "redirect.test";
    pub const CDN: &str = "cdn.test";
    /// `.zip` answers 302 to an `http://` URL (go refuses).
    pub const DOWNGRADE: &str = "downgrade.test";
    /// `.info` answers 302 to a rate-limit ("sorry") page on [`GOOGLE`] that answers 429.
    pub const SORRY: &str = "sorry.test";
    pub const GOOGLE: &str = "www.google.test";
    /// Everything: 429 with `Retry-After: 30`.
    pub const RATE_LIMIT: &str = "ratelimit.test";
    /// `@v/list` and `@latest`: a 200 HTML page and a 404.
    pub const BAD_LIST: &str = "badlist.test";
    /// `.info` answers 302 to itself with `?n=N+1`, forever (go stops after 10).
    pub const LOOP: &str = "loop.test";
    /// `.info` answers 302 to a sign-in page on [`PORTAL`] (an SSO gateway in front of the
    /// proxy): the page is the answer go reads, on another host than the one go asked.
    pub const SSO: &str = "sso.test";
    /// `.zip` answers 200 with the login page, labelled `application/zip`.
    pub const HTML_ZIP: &str = "htmlzip.test";
    /// `.info` answers 302 to its own `/sso/start`, which answers 302 to a sign-in page on
    /// [`PORTAL`]: two hops, the second one's Referer names the first hop, not the `.info`.
    pub const SSO_CHAIN: &str = "ssochain.test";
    /// `.mod` answers 200 with the login page, labelled `text/plain` (go caches it as the
    /// go.mod when nothing checks its hash, and exits 0).
    pub const HTML_MOD: &str = "htmlmod.test";
    /// A module proxy that answers 401 (Basic) unless the request carries [`AUTH_BASIC`]; with
    /// it, the fixture's module proxy.
    pub const AUTH: &str = "auth.test";
    /// `Authorization` [`AUTH`] accepts: `bob` / `s3cret`.
    pub const AUTH_BASIC: &str = "Basic Ym9iOnMzY3JldA==";

    /// Every scenario host (the leaf certificate names them, tests `--resolve` them).
    pub const HOSTS: [&str; 17] = [
        PORTAL, BAD_INFO, WRONG_ZIP, TAMPER, REDIRECT, CDN, DOWNGRADE, SORRY, GOOGLE, RATE_LIMIT,
        BAD_LIST, LOOP, SSO, HTML_ZIP, SSO_CHAIN, HTML_MOD, AUTH,
    ];

    const LOGIN: &str = "<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi: please sign in</title></head><body><form action=\"/accept\">Accept the terms</form></body></html>\n";

    pub(super) fn route(
        host: &str,
        path: &str,
        query: &str,
        state: &State,
    ) -> Option<Response<Body>> {
        let html = || {
            respond(
                StatusCode::OK,
                "text/html; charset=utf-8",
                Full::new(Bytes::from_static(LOGIN.as_bytes())),
            )
        };
        let req = parse_goproxy(path);
        let file = |want: &str| match &req {
            Some(ProxyReq::File { module, ext, .. }) if ext == want => Some(module.clone()),
            _ => None,
        };
        match host {
            PORTAL | GOOGLE if host == PORTAL || path.starts_with("/sorry") => {
                if host == GOOGLE {
                    let mut r = html();
                    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    return Some(r);
                }
                Some(html())
            }
            BAD_INFO => file("info").map(|_| {
                let body = format!("{{\"Version\":\"v1.0.1\",\"Time\":\"{MODULE_TIME}\"}}");
                respond(StatusCode::OK, "application/json", Full::new(Bytes::from(body)))
            }),
            WRONG_ZIP => file("zip").and_then(|_| {
                let other = state.modules.get("example.test/mod02")?.zip.clone()?;
                Some(respond(StatusCode::OK, "application/zip", Full::new(other)))
            }),
            TAMPER => file("zip").and_then(|m| {
                let data = state.modules.get(&m)?;
                let go_file = format!("{}.go", last_elem(&m).to_lowercase());
                let evil = "package x\n\n// Tampered: not the bytes the author published.\nfunc Evil() {}\n";
                let zip = module_zip(&m, &[("go.mod", &data.go_mod), (&go_file, evil)]);
                Some(respond(StatusCode::OK, "application/zip", Full::new(zip)))
            }),
            REDIRECT => file("zip").map(|_| redirect(&format!("https://{CDN}{path}"))),
            SSO => file("info").map(|_| {
                redirect(&format!("https://{PORTAL}/signin?return_to=https://{SSO}{path}"))
            }),
            SSO_CHAIN if path.starts_with("/sso/start") => {
                Some(redirect(&format!("https://{PORTAL}/signin?sso=1")))
            }
            SSO_CHAIN => file("info").map(|_| redirect(&format!("/sso/start?from={path}"))),
            HTML_ZIP => file("zip").map(|_| {
                respond(
                    StatusCode::OK,
                    "application/zip",
                    Full::new(Bytes::from_static(LOGIN.as_bytes())),
                )
            }),
            HTML_MOD => file("mod").map(|_| {
                respond(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    Full::new(Bytes::from_static(LOGIN.as_bytes())),
                )
            }),
            DOWNGRADE => file("zip").map(|_| redirect(&format!("http://{CDN}{path}"))),
            SORRY => file("info").map(|_| {
                redirect(&format!("https://{GOOGLE}/sorry/index?continue=https://{SORRY}{path}"))
            }),
            LOOP => file("info").map(|_| {
                let n: u32 = query
                    .strip_prefix("n=")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                redirect(&format!("https://{LOOP}{path}?n={}", n + 1))
            }),
            RATE_LIMIT => {
                let mut r = text(StatusCode::TOO_MANY_REQUESTS, "rate limited: slow down\n".to_string());
                r.headers_mut().insert("retry-after", HeaderValue::from_static("30"));
                Some(r)
            }
            BAD_LIST => match &req {
                Some(ProxyReq::List(_)) => Some(html()),
                Some(ProxyReq::Latest(m)) => Some(not_found(m, None)),
                _ => None,
            },
            _ => None,
        }
    }

    fn redirect(location: &str) -> Response<Body> {
        let mut r = text(StatusCode::FOUND, String::new());
        if let Ok(v) = HeaderValue::from_str(location) {
            r.headers_mut().insert("location", v);
        }
        r
    }
}
