//! WebSocket through gomitm: a real tokio-tungstenite server on 127.0.0.1 (plain, and with
//! TLS from the fixture's CA under a `--resolve`d made-up name) and a real tungstenite
//! client, messages echoed both ways through the proxy, and the flow gomitm records: the 101
//! handshake, the bytes each way, finished once the connection closed.
//!
//! Plain `ws://` through a proxy is an absolute-form request, which tungstenite's client
//! handshake does not write: that handshake is written here by hand, and tungstenite takes
//! over the connection for the messages. Inside a CONNECT tunnel tungstenite does it all.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use support::fixture::Fixture;
use support::gomitm::{path_arg, Gomitm};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An echo server: every text or binary message comes back as it was.
async fn echo_server(tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(cfg) => {
                        let stream = tokio_rustls::TlsAcceptor::from(cfg)
                            .accept(tcp)
                            .await
                            .unwrap();
                        echo(stream).await;
                    }
                    None => echo(tcp).await,
                }
            });
        }
    });
    addr
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await.unwrap();
        } else if msg.is_close() {
            break;
        }
    }
}

/// Text and a 64 KiB binary message each way; returns the payload bytes sent.
async fn talk<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> usize {
    let text = "hello through gomitm ✓".to_string();
    let binary: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    for msg in [Message::text(text.clone()), Message::binary(binary.clone())] {
        ws.send(msg.clone()).await.unwrap();
        let back = ws.next().await.expect("an echo").unwrap();
        assert_eq!(back, msg, "the message came back intact");
    }
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    text.len() + binary.len()
}

fn check_flow(proxy: &Gomitm, url: &str, payload: usize) -> Value {
    let flow = proxy.wait_for_flow(&format!("for {url}"), |f| {
        f["request"]["url"] == url && f["state"] == "done"
    });
    assert_eq!(flow["response"]["status"], 101, "{flow:#}");
    assert!(flow["error"].is_null(), "{flow:#}");
    let up = flow["tunnel"]["bytes_up"].as_u64().unwrap();
    let down = flow["tunnel"]["bytes_down"].as_u64().unwrap();
    // Framing and (client-to-server) masking add a little; nothing is lost.
    assert!(up >= payload as u64 && up < payload as u64 + 200, "up {up}");
    assert!(
        down >= payload as u64 && down < payload as u64 + 200,
        "down {down}"
    );
    assert!(flow["timings"]["total_ms"].as_f64().unwrap() > 0.0);
    flow
}

#[test]
fn websocket_through_the_plain_http_proxy_echoes_and_is_recorded() {
    let rt = runtime();
    let server = rt.block_on(echo_server(None));
    let proxy = Gomitm::start(&["--resolve".into(), format!("ws.test:80={server}")]);
    let payload = rt.block_on(async {
        let mut tcp = TcpStream::connect(proxy.addr).await.unwrap();
        tcp.write_all(
            b"GET http://ws.test/chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\n\
              Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455's own example key and its accept value: the server's answer came through.
        assert!(
            head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "Sec-WebSocket-Accept intact: {head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("upgrade: websocket"),
            "{head}"
        );
        assert!(reader.buffer().is_empty());
        let tcp = reader.into_inner();
        let mut ws = WebSocketStream::from_raw_socket(tcp, Role::Client, None).await;
        talk(&mut ws).await
    });
    check_flow(&proxy, "http://ws.test/chat", payload);
}

#[test]
fn websocket_inside_a_decrypted_tunnel_echoes_and_is_recorded() {
    let fx = Fixture::start();
    let rt = runtime();
    let server = rt.block_on(echo_server(Some(fx.tls_h1.clone())));
    let mut args = vec!["--resolve".to_string(), format!("b.test:443={server}")];
    args.extend(path_arg("--extra-root", &fx.ca_pem));
    let proxy = Gomitm::start(&args);
    let ca = std::fs::read(proxy.ca_pem()).unwrap();
    let payload = rt.block_on(async {
        let mut tcp = TcpStream::connect(proxy.addr).await.unwrap();
        tcp.write_all(b"CONNECT b.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n")
            .await
            .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        loop {
            let mut l = String::new();
            reader.read_line(&mut l).await.unwrap();
            if l == "\r\n" || l.is_empty() {
                break;
            }
        }
        let tcp = reader.into_inner();
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&ca) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = gomitm::ca::tls_provider();
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = rustls::pki_types::ServerName::try_from("b.test").unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .unwrap();
        let (mut ws, resp) = tokio_tungstenite::client_async("wss://b.test/chat", tls)
            .await
            .expect("the WebSocket handshake through gomitm");
        assert_eq!(resp.status(), 101);
        talk(&mut ws).await
    });
    let flow = check_flow(&proxy, "https://b.test/chat", payload);
    assert_eq!(flow["connection"]["client_sni"], "b.test");
}
