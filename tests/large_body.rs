//! A 512 MiB response through gomitm's TLS interception: every byte arrives intact and
//! gomitm's peak RSS stays bounded (bodies stream; only a capped prefix is kept).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use support::fixture::{pattern_byte, Fixture};
use support::gomitm::{path_arg, resolve_args, Gomitm};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIZE: u64 = 512 * 1024 * 1024;
const RSS_LIMIT_KIB: u64 = 100 * 1024;

/// Open a CONNECT tunnel through `proxy` and do TLS inside it, trusting `ca`.
async fn tunnel(
    proxy: std::net::SocketAddr,
    host: &str,
    ca: &std::path::Path,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tcp = tokio::net::TcpStream::connect(proxy).await.unwrap();
    let req = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(
            tcp.read(&mut b).await.unwrap(),
            1,
            "proxy closed during CONNECT"
        );
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let name = ServerName::try_from(host.to_string()).unwrap();
    connector.connect(name, tcp).await.unwrap()
}

#[test]
fn half_a_gigabyte_streams_intact_with_bounded_memory() {
    let fx = Fixture::start();
    let mut args = resolve_args(&["goproxy.test"], fx.addr);
    args.extend(path_arg("--extra-root", &fx.ca_pem));
    let mut proxy = Gomitm::start(&args);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let received = rt.block_on(async {
        let tls = tunnel(proxy.addr, "goproxy.test", &proxy.ca_pem(), &[b"http/1.1"]).await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::get(format!("/bytes/{SIZE}"))
            .header("host", "goproxy.test")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut offset = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            if let Some(chunk) = frame.data_ref() {
                for (i, b) in chunk.iter().enumerate() {
                    if *b != pattern_byte(offset + i as u64) {
                        panic!("byte {} differs", offset + i as u64);
                    }
                }
                offset += chunk.len() as u64;
            }
        }
        offset
    });
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(received, SIZE);
    let flow = proxy.wait_for_flow("for /bytes", |f| {
        support::gomitm::url_of(f).ends_with(&format!("/bytes/{SIZE}"))
    });
    assert_eq!(flow["response"]["body"]["total"], SIZE);
    assert_eq!(flow["response"]["body"]["truncated"], true);
    assert_eq!(flow["response"]["body"]["complete"], true);
    let rss = proxy.peak_rss_kib();
    eprintln!(
        "512 MiB through gomitm: {:.1} s, {:.0} MB/s, gomitm peak RSS {:.1} MiB",
        secs,
        SIZE as f64 / secs / 1e6,
        rss as f64 / 1024.0
    );
    assert!(rss > 0, "could not read gomitm's VmHWM");
    assert!(
        rss < RSS_LIMIT_KIB,
        "gomitm peak RSS {rss} KiB exceeds {RSS_LIMIT_KIB} KiB"
    );
    proxy.stop();
}
