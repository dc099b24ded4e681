//! Sending a replay: gomitm acts as a client of a gomitm listener (its own session's, or a
//! running one's), exactly as the go command would: plain `http://` URLs as absolute-form
//! requests, `https://` ones through `CONNECT` and TLS that trusts that gomitm's CA. The
//! request carries the replay marker header, which the proxy takes off and records as the
//! flow's `replay_of`.
//!
//! Going through the listener rather than calling the upstream layer keeps one path for all
//! traffic: rules, `--resolve`, the upstream proxy, timings, Go classification and the record
//! are those of any request, and `gomitm replay --proxy` needs nothing a client lacks.
//! Speaks HTTP/1.1 to gomitm (gomitm picks the upstream protocol as for any HTTP/1.1 client).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::error::ReplayError;
use super::request::ReplayRequest;

/// A gomitm listener to send replays through.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub proxy: SocketAddr,
    /// gomitm's CA certificate(s), PEM: what its intercepted TLS is trusted with.
    pub ca_pem: String,
    /// `Proxy-Authorization` for a gomitm started with `--proxy-auth`.
    pub proxy_authorization: Option<String>,
    /// The whole exchange, connection to last body byte.
    pub timeout: Duration,
}

/// What the replay got back (the body is counted, not kept: the flow has its capture).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: u16,
    pub size: u64,
    pub elapsed_ms: f64,
}

/// Send `req` through `ep`, labelled as a replay of flow `replay_of`.
pub async fn send(
    ep: &Endpoint,
    req: &ReplayRequest,
    replay_of: Option<u64>,
) -> Result<Outcome, ReplayError> {
    let start = Instant::now();
    let sent = tokio::time::timeout(ep.timeout, exchange(ep, req, replay_of)).await;
    let (status, size) =
        sent.map_err(|_| ReplayError::Send(format!("no answer within {:?}", ep.timeout)))??;
    Ok(Outcome {
        status,
        size,
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
    })
}

async fn exchange(
    ep: &Endpoint,
    req: &ReplayRequest,
    replay_of: Option<u64>,
) -> Result<(u16, u64), ReplayError> {
    let uri: Uri = req
        .url
        .parse()
        .map_err(|e| ReplayError::Send(format!("bad URL: {e}")))?;
    let host = uri
        .host()
        .ok_or_else(|| ReplayError::Send("the URL has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(ReplayError::Send(
                "the URL is not http:// or https://".into(),
            ))
        }
    };
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect(ep.proxy)
        .await
        .map_err(|e| ReplayError::Send(format!("cannot reach gomitm at {}: {e}", ep.proxy)))?;
    let _ = tcp.set_nodelay(true);
    let authority = uri.authority().map_or_else(
        || host.clone(),
        |a| a.as_str().rsplit('@').next().unwrap_or("").to_string(),
    );
    if https {
        let tunnel = connect_tunnel(ep, tcp, &host, port).await?;
        let tls = tls_to(ep, tunnel, &host).await?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        send_on(tls, build(req, &path, &authority, replay_of, None)?).await
    } else {
        let auth = ep.proxy_authorization.as_deref();
        send_on(tcp, build(req, &req.url, &authority, replay_of, auth)?).await
    }
}

/// `CONNECT host:port` to gomitm; the upgraded connection once it answered 200.
async fn connect_tunnel(
    ep: &Endpoint,
    tcp: TcpStream,
    host: &str,
    port: u16,
) -> Result<TokioIo<hyper::upgrade::Upgraded>, ReplayError> {
    let (mut sender, conn) = http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| ReplayError::Send(format!("gomitm: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut connect = Request::builder()
        .method(Method::CONNECT)
        .uri(target.as_str())
        .header(http::header::HOST, target.as_str());
    if let Some(auth) = &ep.proxy_authorization {
        connect = connect.header(http::header::PROXY_AUTHORIZATION, auth.as_str());
    }
    let connect = connect
        .body(Empty::<Bytes>::new())
        .map_err(|e| ReplayError::Send(e.to_string()))?;
    let resp = sender
        .send_request(connect)
        .await
        .map_err(|e| ReplayError::Send(format!("CONNECT through gomitm: {e}")))?;
    if !resp.status().is_success() {
        return Err(ReplayError::Send(format!(
            "gomitm answered CONNECT {target} with {}",
            resp.status()
        )));
    }
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| ReplayError::Send(format!("CONNECT through gomitm: {e}")))?;
    Ok(TokioIo::new(upgraded))
}

/// TLS inside the tunnel, trusting gomitm's CA only: gomitm answers for every host.
async fn tls_to<IO>(
    ep: &Endpoint,
    io: IO,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<IO>, ReplayError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> =
        rustls::pki_types::pem::PemObject::pem_slice_iter(ep.ca_pem.as_bytes())
            .filter_map(Result::ok)
            .collect();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ReplayError::Send(
            "no CA certificate to trust gomitm's TLS with".into(),
        ));
    }
    let provider = crate::ca::tls_provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ReplayError::Send(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ReplayError::Send(format!("{host:?} is not a TLS server name")))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, io)
        .await
        .map_err(|e| ReplayError::Send(format!("TLS with gomitm for {host}: {e}")))
}

/// The request as it goes to gomitm: `target` is the absolute URL (plain http, to a proxy) or
/// the path (inside a tunnel).
fn build(
    req: &ReplayRequest,
    target: &str,
    authority: &str,
    replay_of: Option<u64>,
    proxy_auth: Option<&str>,
) -> Result<Request<Full<Bytes>>, ReplayError> {
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|_| ReplayError::Send(format!("{:?} is not an HTTP method", req.method)))?;
    let mut out = Request::builder()
        .method(method)
        .uri(target)
        .body(Full::new(Bytes::from(req.body.clone())))
        .map_err(|e| ReplayError::Send(format!("cannot build the request: {e}")))?;
    let headers = out.headers_mut();
    let value = |v: &str| {
        HeaderValue::from_str(v).map_err(|_| ReplayError::Send(format!("bad header value {v:?}")))
    };
    headers.insert(http::header::HOST, value(authority)?);
    for (name, v) in &req.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ReplayError::Send(format!("bad header name {name:?}")))?;
        headers.append(name, value(v)?);
    }
    if let Some(id) = replay_of {
        headers.insert(
            HeaderName::from_static(crate::proxy::REPLAY_HEADER),
            HeaderValue::from(id),
        );
    }
    if let Some(auth) = proxy_auth {
        headers.insert(http::header::PROXY_AUTHORIZATION, value(auth)?);
    }
    Ok(out)
}

/// One request on a fresh connection; the status and the body's size.
async fn send_on<IO>(io: IO, req: Request<Full<Bytes>>) -> Result<(u16, u64), ReplayError>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, conn) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ReplayError::Send(format!("gomitm: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| ReplayError::Send(format!("no answer: {e}")))?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReplayError::Send(format!("the body was cut: {e}")))?;
        if let Some(data) = frame.data_ref() {
            size += data.len() as u64;
        }
    }
    Ok((status, size))
}
