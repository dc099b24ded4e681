//! A measuring prototype, not a proxy to use: the floor of a MITM proxy that handles HTTP/1.1
//! heads itself instead of through hyper. Issue 18 asked which design change would take
//! gomitm's instructions per request below hudsucker's; the profile says hyper's head
//! handling (parse into a `HeaderMap`, the client's encode and parse, the server's encode).
//! This binary measures what is left without it: CONNECT, TLS on both sides with the bench's
//! CA, then per request `httparse` on the head, the head's bytes written upstream as they came,
//! the answer's head parsed the same way and its bytes written back, bodies framed by
//! Content-Length and copied. One upstream connection per client connection (affinity), no
//! pool, no recording, no rules, no chunked bodies, no upgrades: whatever the bench's load
//! client does not send is answered 501 and the connection closed.
//!
//! Same flags as `hudsucker-noop`; prints `h1relay: listening on 127.0.0.1:PORT`.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Parser;
use rcgen::{CertificateParams, Issuer, KeyPair};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const MAX_HEAD: usize = 64 * 1024;

struct Shared {
    issuer: Issuer<'static, KeyPair>,
    leaves: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
    upstream: TlsConnector,
    resolve_ip: IpAddr,
}

impl Shared {
    /// The client side's TLS config for `host`: a leaf signed by the CA, made once per host.
    fn server_config(&self, host: &str) -> Result<Arc<rustls::ServerConfig>> {
        let mut leaves = self
            .leaves
            .lock()
            .map_err(|_| anyhow!("leaf cache poisoned"))?;
        if let Some(cfg) = leaves.get(host) {
            return Ok(cfg.clone());
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let leaf = CertificateParams::new(vec![host.to_string()])?.signed_by(&key, &self.issuer)?;
        let cfg = Arc::new(gomitm_bench::server_config(&leaf, &key, &[b"http/1.1"])?);
        leaves.insert(host.to_string(), cfg.clone());
        Ok(cfg)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = gomitm_bench::MitmArgs::parse();
    let key = std::fs::read_to_string(&args.ca_key).context("read CA key")?;
    let cert = std::fs::read_to_string(&args.ca_cert).context("read CA certificate")?;
    let key = KeyPair::from_pem(&key).context("parse CA key")?;
    let issuer = Issuer::from_ca_cert_pem(&cert, key).context("parse CA certificate")?;
    let upstream = gomitm_bench::client_config(&args.upstream_ca, &[b"http/1.1"])?;
    let shared = Arc::new(Shared {
        issuer,
        leaves: Mutex::new(HashMap::new()),
        upstream: TlsConnector::from(Arc::new(upstream)),
        resolve_ip: args.resolve_ip,
    });
    let listener = TcpListener::bind(args.listen).await?;
    println!("h1relay: listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    loop {
        let (tcp, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = tunnel(tcp, &shared).await {
                eprintln!("h1relay: {e:#}");
            }
        });
    }
}

/// One CONNECT tunnel: the CONNECT head, TLS with the client, then requests until either side
/// closes.
async fn tunnel(mut tcp: TcpStream, shared: &Shared) -> Result<()> {
    tcp.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(8 * 1024);
    let head = read_head(&mut tcp, &mut buf).await?.context("no CONNECT")?;
    let authority = {
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut fields);
        req.parse(&buf[..head])?;
        if req.method != Some("CONNECT") {
            bail!("not a CONNECT");
        }
        req.path.context("no authority")?.to_string()
    };
    if buf.len() != head {
        bail!("bytes after the CONNECT head");
    }
    tcp.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    let (host, port) = authority
        .rsplit_once(':')
        .context("CONNECT authority without a port")?;
    let port: u16 = port.parse()?;
    let mut client = TlsAcceptor::from(shared.server_config(host)?)
        .accept(tcp)
        .await?;

    let up_tcp = TcpStream::connect((shared.resolve_ip, port)).await?;
    up_tcp.set_nodelay(true)?;
    let name = ServerName::try_from(host.to_string())?;
    let mut upstream = shared.upstream.connect(name, up_tcp).await?;

    let mut up_buf = Vec::with_capacity(8 * 1024);
    buf.clear();
    loop {
        // The request: head and whatever of its body came with it, in one write.
        let Some(head) = read_head(&mut client, &mut buf).await? else {
            return Ok(());
        };
        let body = match framing(&buf[..head], true)? {
            Some(n) => n,
            None => {
                client
                    .write_all(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            }
        };
        relay(&mut client, &mut upstream, &mut buf, head, body).await?;

        // The answer, the same way back.
        let head = read_head(&mut upstream, &mut up_buf)
            .await?
            .context("the upstream closed before answering")?;
        let body = framing(&up_buf[..head], false)?.context("an answer without Content-Length")?;
        relay(&mut upstream, &mut client, &mut up_buf, head, body).await?;
    }
}

/// Reads into `buf` (which may already hold bytes) until it holds a whole head; returns the
/// head's length, or `None` when the peer closed between messages.
async fn read_head<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Result<Option<usize>> {
    let mut scanned: usize = 0;
    loop {
        if let Some(i) = buf[scanned.saturating_sub(3)..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            return Ok(Some(scanned.saturating_sub(3) + i + 4));
        }
        scanned = buf.len();
        if buf.len() >= MAX_HEAD {
            bail!("head too large");
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(8 * 1024);
        }
        let n = r.read_buf(buf).await?;
        if n == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            bail!("closed inside a head");
        }
    }
}

/// The body length a head announces: `Some(0)` for none, `None` for what this prototype does
/// not relay (chunked, upgrades).
fn framing(head: &[u8], request: bool) -> Result<Option<u64>> {
    let mut fields = [httparse::EMPTY_HEADER; 100];
    let headers: &[httparse::Header] = if request {
        let mut req = httparse::Request::new(&mut fields);
        if !req.parse(head)?.is_complete() {
            bail!("incomplete request head");
        }
        req.headers
    } else {
        let mut resp = httparse::Response::new(&mut fields);
        if !resp.parse(head)?.is_complete() {
            bail!("incomplete answer head");
        }
        resp.headers
    };
    let mut length = Some(0);
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(std::str::from_utf8(h.value)?.trim().parse()?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
            || h.name.eq_ignore_ascii_case("upgrade")
        {
            return Ok(None);
        }
    }
    Ok(length)
}

/// Writes the head and the body bytes already in `buf`, copies the rest of the body, and
/// leaves in `buf` whatever came after it (a pipelined next message).
async fn relay<R, W>(
    from: &mut R,
    to: &mut W,
    buf: &mut Vec<u8>,
    head: usize,
    body: u64,
) -> Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let have = (buf.len() - head) as u64;
    let first = head + have.min(body) as usize;
    to.write_all(&buf[..first]).await?;
    let mut left = body - have.min(body);
    buf.drain(..first);
    while left > 0 {
        if buf.capacity() < 64 * 1024 {
            buf.reserve(64 * 1024);
        }
        let n = from.read_buf(buf).await?;
        if n == 0 {
            bail!("closed inside a body");
        }
        let take = (n as u64).min(left) as usize;
        to.write_all(&buf[..take]).await?;
        left -= take as u64;
        buf.drain(..take);
    }
    to.flush().await?;
    Ok(())
}
