//! The benchmark's HTTPS origin on 127.0.0.1, with a test CA of its own.
//!
//! Routes (any host name; the leaf covers `bench.test`, `*.bench.test`, `localhost`, 127.0.0.1):
//! - `/1k`: 1 KiB of text.
//! - `/bytes/N`: N bytes streamed in 64 KiB chunks, with Content-Length.
//! - `/status/N`: an empty answer with status N.
//! - `/reset/N`: announces 2×N bytes, sends N, then drops the connection (a mid-body reset).
//! - `/close`: drops the connection without answering (accept-then-close).
//! - a Go module proxy: `/<module>/@v/list|.info|.mod|.zip` and `/@latest` for
//!   `bench.test/modNN` (N from `--modules`), every one at `v1.0.0`; zips in the module zip
//!   format (`<module>@<version>/` prefix).
//!
//! Prints `upstream: listening on 127.0.0.1:PORT` once it accepts, and writes its CA to
//! `<dir>/upstream-ca.pem`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use clap::Parser;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body as HttpBody, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const VERSION: &str = "v1.0.0";
const CHUNK: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

#[derive(Parser)]
struct Args {
    /// Where to write upstream-ca.pem.
    #[arg(long)]
    dir: PathBuf,
    /// Number of generated modules bench.test/mod01… in the module proxy.
    #[arg(long, default_value_t = 64)]
    modules: usize,
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Offer only http/1.1 by ALPN (by default h2 is offered first, as public servers do).
    #[arg(long)]
    h1_only: bool,
}

struct Module {
    go_mod: Bytes,
    zip: Bytes,
}

struct State {
    modules: HashMap<String, Module>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (ca_pem, mut server_config) = pki()?;
    if args.h1_only {
        server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    }
    std::fs::create_dir_all(&args.dir)?;
    std::fs::write(args.dir.join("upstream-ca.pem"), ca_pem)?;
    let state = Arc::new(State {
        modules: build_modules(args.modules)?,
    });
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(args.listen).await?;
        println!("upstream: listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let acceptor = TlsAcceptor::from(Arc::new(server_config));
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, state) = (acceptor.clone(), state.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| route(req, state.clone()));
                // Clients hanging up and deliberate drops are part of the load.
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    })
}

/// A fresh CA (written out for clients) and the leaf's server config, both ECDSA P-256.
fn pki() -> Result<(String, rustls::ServerConfig)> {
    let now = time_now();
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "gomitm bench upstream CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now.0;
    ca_params.not_after = now.1;
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec![
        "bench.test".to_string(),
        "*.bench.test".to_string(),
        "localhost".to_string(),
    ])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "gomitm bench upstream");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now.0;
    params.not_after = now.1;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let leaf = params.signed_by(&key, &issuer)?;
    let cfg = gomitm_bench::server_config(&leaf, &key, &[b"h2", b"http/1.1"])?;
    Ok((ca_cert.pem(), cfg))
}

/// A validity window around now that tolerates small clock skew.
fn time_now() -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (
        now - time::Duration::days(1),
        now + time::Duration::days(30),
    )
}

fn module_path(i: usize) -> String {
    format!("bench.test/mod{i:02}")
}

/// `n` leaf modules. Each has a go.mod, a Go file, and an incompressible blob, so that the
/// zips weigh what real modules do: 16 KiB to 1 MiB, doubling with the module number (mod 7),
/// about 18 MiB in all for 64 modules.
fn build_modules(n: usize) -> Result<HashMap<String, Module>> {
    let mut mods = HashMap::new();
    for i in 1..=n {
        let path = module_path(i);
        let pkg = format!("mod{i:02}");
        let go_mod = format!("module {path}\n\ngo 1.16\n");
        let mut src =
            format!("// Package {pkg} is generated for gomitm's benchmark.\npackage {pkg}\n\n");
        for j in 0..(40 + 7 * (i % 13)) {
            src.push_str(&format!(
                "// Value{j} returns a constant so the file has some weight.\nfunc Value{j}() int {{ return {} }}\n\n",
                i * 1000 + j
            ));
        }
        let blob = noise(i as u64, (16 * 1024) << (i % 7));
        let zip = module_zip(
            &path,
            &[
                ("go.mod", go_mod.as_bytes()),
                (&format!("{pkg}.go"), src.as_bytes()),
            ],
            &blob,
        )?;
        mods.insert(
            path,
            Module {
                go_mod: Bytes::from(go_mod),
                zip,
            },
        );
    }
    Ok(mods)
}

/// `len` pseudo-random bytes (xorshift), different per seed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A module zip: every file under `<module>@<version>/`; the blob is stored, not deflated.
fn module_zip(path: &str, files: &[(&str, &[u8])], blob: &[u8]) -> Result<Bytes> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        w.start_file(format!("{path}@{VERSION}/{name}"), deflated)
            .context("zip entry")?;
        w.write_all(content)?;
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file(format!("{path}@{VERSION}/testdata/blob.bin"), stored)
        .context("zip entry")?;
    w.write_all(blob)?;
    Ok(Bytes::from(w.finish()?.into_inner()))
}

async fn route(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, BoxError> {
    let path = req.uri().path();
    if path == "/1k" {
        return Ok(full(StatusCode::OK, "text/plain", one_k().clone()));
    }
    if path == "/close" {
        // An error from the service makes hyper drop the connection without an answer.
        return Err("deliberate close".into());
    }
    if let Some(n) = path.strip_prefix("/bytes/").and_then(|n| n.parse().ok()) {
        return Ok(pattern(n, n));
    }
    if let Some(n) = path
        .strip_prefix("/reset/")
        .and_then(|n| n.parse::<u64>().ok())
    {
        return Ok(pattern(n.saturating_mul(2), n));
    }
    if let Some(code) = path.strip_prefix("/status/").and_then(|n| n.parse().ok()) {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
        return Ok(full(status, "text/plain", Bytes::new()));
    }
    Ok(goproxy(path, &state))
}

fn goproxy(path: &str, state: &State) -> Response<Body> {
    let path = path.trim_start_matches('/');
    let not_found = || {
        full(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from(format!("not found: {path}")),
        )
    };
    if let Some(m) = path.strip_suffix("/@latest") {
        return match state.modules.contains_key(m) {
            true => info(),
            false => not_found(),
        };
    }
    let Some((m, file)) = path.split_once("/@v/") else {
        return not_found();
    };
    let Some(module) = state.modules.get(m) else {
        return not_found();
    };
    match file.strip_prefix(VERSION) {
        _ if file == "list" => full(
            StatusCode::OK,
            "text/plain",
            Bytes::from(format!("{VERSION}\n")),
        ),
        Some(".info") => info(),
        Some(".mod") => full(StatusCode::OK, "text/plain", module.go_mod.clone()),
        Some(".zip") => full(StatusCode::OK, "application/zip", module.zip.clone()),
        _ => not_found(),
    }
}

fn info() -> Response<Body> {
    let body = format!("{{\"Version\":\"{VERSION}\",\"Time\":\"2024-01-01T00:00:00Z\"}}");
    full(StatusCode::OK, "application/json", Bytes::from(body))
}

fn one_k() -> &'static Bytes {
    static ONE_K: OnceLock<Bytes> = OnceLock::new();
    ONE_K.get_or_init(|| {
        let line = b"gomitm bench: one kibibyte of response body, the same on every request.\n";
        line.iter()
            .cycle()
            .take(1024)
            .copied()
            .collect::<Vec<u8>>()
            .into()
    })
}

fn full(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body).map_err(|e: Infallible| match e {}).boxed());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        content_type
            .parse()
            .unwrap_or_else(|_| hyper::header::HeaderValue::from_static("text/plain")),
    );
    resp
}

/// `announced` bytes promised by Content-Length; after `send` of them the body fails, which
/// makes hyper drop the connection (a reset as far as the client can tell).
fn pattern(announced: u64, send: u64) -> Response<Body> {
    let body = if announced == 0 {
        Empty::new().map_err(|e: Infallible| match e {}).boxed()
    } else {
        BodyExt::boxed(Pattern {
            left: send,
            fail_at_end: send < announced,
            pause: None,
        })
    };
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(hyper::header::CONTENT_LENGTH, announced.into());
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    resp
}

struct Pattern {
    left: u64,
    fail_at_end: bool,
    /// A short wait before failing, so the bytes sent are flushed before the connection drops.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

fn block() -> &'static Bytes {
    static BLOCK: OnceLock<Bytes> = OnceLock::new();
    BLOCK.get_or_init(|| {
        (0..CHUNK)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into()
    })
}

impl HttpBody for Pattern {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.left > 0 {
            let n = self.left.min(CHUNK as u64) as usize;
            self.left -= n as u64;
            return Poll::Ready(Some(Ok(Frame::data(block().slice(..n)))));
        }
        if !self.fail_at_end {
            return Poll::Ready(None);
        }
        let pause = self.pause.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(20)))
        });
        if pause.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.fail_at_end = false;
        Poll::Ready(Some(Err("deliberate reset".into())))
    }
}
