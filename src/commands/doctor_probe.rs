//! The client side of a `gomitm doctor` probe: one GET sent the way the go command sends it
//! through a proxy — CONNECT to gomitm, TLS trusting gomitm's own CA, HTTP/1.1 — so that
//! gomitm records it as a flow with its upstream timings. Plain `http://` URLs go to the
//! proxy in absolute form. What the upstream did is read from that flow, not from here.
//!
//! Hand-written over hyper's client connection rather than a client crate: it must speak to
//! one proxy with one CA and no pooling, redirects or retries of its own, which is a few
//! lines here and an extra dependency tree otherwise.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How much of an answer the client reads (a list, a page, a ref advertisement are small).
const MAX_BODY: usize = 256 * 1024;

/// Send `GET url` through the proxy at `proxy`, trusting `ca`, and read the answer; the
/// error is one line. The answer itself is read back from gomitm's flow.
pub async fn send(
    proxy: SocketAddr,
    ca: &CertificateDer<'static>,
    url: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(timeout, send_inner(proxy, ca, url, headers)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
    }
}

async fn send_inner(
    proxy: SocketAddr,
    ca: &CertificateDer<'static>,
    url: &str,
    headers: &[(String, String)],
) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
    let host = uri.host().ok_or("URL without a host")?.to_string();
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let mut tcp = TcpStream::connect(proxy)
        .await
        .map_err(|e| format!("cannot connect to gomitm at {proxy}: {e}"))?;
    let authority = if port == 443 || port == 80 && !https {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let target_path = if https {
        uri.path_and_query().map_or("/", |p| p.as_str()).to_string()
    } else {
        url.to_string()
    };
    if !https {
        return exchange(TokioIo::new(tcp), &authority, &target_path, headers).await;
    }
    let connect = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n");
    tcp.write_all(connect.as_bytes())
        .await
        .map_err(|e| format!("CONNECT: {e}"))?;
    let head = read_head(&mut tcp).await?;
    let status_line = head.lines().next().unwrap_or("");
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(format!("gomitm refused the CONNECT: {status_line}"));
    }
    let provider = crate::ca::tls_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.clone())
        .map_err(|e| format!("gomitm's CA: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name =
        ServerName::try_from(host.clone()).map_err(|e| format!("server name {host}: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with gomitm: {e}"))?;
    exchange(TokioIo::new(tls), &authority, &target_path, headers).await
}

/// The proxy's answer to CONNECT, up to the blank line (gomitm sends no body with a 200).
async fn read_head(tcp: &mut TcpStream) -> Result<String, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err("CONNECT answer head too long".into());
        }
        let n = tcp
            .read(&mut byte)
            .await
            .map_err(|e| format!("CONNECT: {e}"))?;
        if n == 0 {
            return Err("gomitm closed the connection after CONNECT".into());
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

async fn exchange<I>(
    io: I,
    authority: &str,
    target: &str,
    headers: &[(String, String)],
) -> Result<(), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = http::Request::get(target)
        .header(http::header::HOST, authority)
        .header(
            http::header::USER_AGENT,
            format!("gomitm-doctor/{}", env!("CARGO_PKG_VERSION")),
        );
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("request: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    // Read to the end so gomitm records the whole exchange; the flow holds the body.
    let mut read = 0usize;
    let mut incoming = resp.into_body();
    while let Some(frame) = incoming.frame().await {
        let Ok(frame) = frame else { break };
        read += frame.data_ref().map_or(0, Bytes::len);
        if read >= MAX_BODY {
            break;
        }
    }
    driver.abort();
    Ok(())
}
