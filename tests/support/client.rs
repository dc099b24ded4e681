//! Blocking, byte-explicit HTTP/1.1 clients for the fault and bad-input tests: a raw TCP
//! connection to gomitm (optionally from another loopback address), and the same over TLS
//! inside a CONNECT tunnel. Every read and write is bounded by [`IO_TIMEOUT`].
#![allow(dead_code)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body ended before its framing said it would.
    pub cut: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn first_line(&self) -> String {
        self.text().lines().next().unwrap_or("").to_string()
    }
}

pub struct Conn<S: Read + Write> {
    reader: BufReader<S>,
}

pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;
/// Status code and headers of a response.
pub type Head = (u16, Vec<(String, String)>);

fn with_timeouts(s: TcpStream) -> TcpStream {
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// A plain connection to `addr`.
pub fn open(addr: SocketAddr) -> Conn<TcpStream> {
    Conn::new(with_timeouts(
        TcpStream::connect(addr).expect("connect to gomitm"),
    ))
}

/// A plain connection from `local` (e.g. 127.0.0.2: all of 127/8 is loopback on Linux), so
/// that gomitm counts it as another client.
pub fn open_from(local: IpAddr, addr: SocketAddr) -> Conn<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(local, 0)).expect("bind local");
        socket.connect(addr).await.expect("connect from local")
    });
    let std = stream.into_std().unwrap();
    std.set_nonblocking(false).unwrap();
    Conn::new(with_timeouts(std))
}

/// CONNECT `host:443`, then TLS (trusting `ca_pem`, ALPN http/1.1) inside the tunnel.
pub fn tunnel(proxy: SocketAddr, host: &str, ca_pem: &Path) -> Conn<TlsStream> {
    let mut plain = open(proxy);
    plain
        .send(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .unwrap();
    let (status, _) = plain.read_head().unwrap().expect("CONNECT answered");
    assert_eq!(status, 200, "CONNECT {host}:443");
    let tcp = plain.reader.into_inner();
    let config = super::tools::tls_client_config(ca_pem, &[b"http/1.1"]);
    let name = ServerName::try_from(host.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    Conn::new(StreamOwned::new(conn, tcp))
}

impl<S: Read + Write> Conn<S> {
    pub fn new(stream: S) -> Self {
        Conn {
            reader: BufReader::new(stream),
        }
    }

    pub fn stream(&mut self) -> &mut S {
        self.reader.get_mut()
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let s = self.reader.get_mut();
        s.write_all(bytes)?;
        s.flush()
    }

    /// Status and headers; `None` when the connection closed before a whole head.
    pub fn read_head(&mut self) -> std::io::Result<Option<Head>> {
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(None);
            }
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if line.is_empty() {
                break;
            }
            lines.push(line);
        }
        let status = lines[0]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {:?}", lines[0]));
        let headers = lines[1..]
            .iter()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Ok(Some((status, headers)))
    }

    /// A whole response, its body framed by Content-Length, chunks, or the end of the stream.
    pub fn read_reply(&mut self) -> std::io::Result<Option<Reply>> {
        let Some((status, headers)) = self.read_head()? else {
            return Ok(None);
        };
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
            cut: false,
        };
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(Some(reply));
        }
        let chunked = reply
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            reply.cut = !self.read_chunked(&mut reply.body);
        } else if let Some(n) = reply.header("content-length") {
            let n: u64 = n.parse().expect("numeric Content-Length");
            let _ = (&mut self.reader).take(n).read_to_end(&mut reply.body);
            reply.cut = (reply.body.len() as u64) < n;
        } else if self.reader.read_to_end(&mut reply.body).is_err() {
            reply.cut = true;
        }
        Ok(Some(reply))
    }

    fn read_chunked(&mut self, out: &mut Vec<u8>) -> bool {
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return false;
            }
            let Ok(size) = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            else {
                return false;
            };
            if size == 0 {
                let mut trailer = String::new();
                while self.reader.read_line(&mut trailer).unwrap_or(0) > 2 {
                    trailer.clear();
                }
                return true;
            }
            let before = out.len();
            let _ = (&mut self.reader).take(size).read_to_end(out);
            let mut crlf = [0u8; 2];
            if (out.len() - before) as u64 != size || self.reader.read_exact(&mut crlf).is_err() {
                return false;
            }
        }
    }

    /// Send a request and read its answer; panics when gomitm closed without one.
    pub fn request(&mut self, text: &str) -> Reply {
        self.send(text.as_bytes()).expect("send request");
        self.read_reply()
            .expect("read answer")
            .unwrap_or_else(|| panic!("closed without an answer to {text:?}"))
    }
}

impl Conn<TcpStream> {
    /// Reads (and discards) until gomitm closes; true when that happened (EOF or reset)
    /// within `within`.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        let mut buf = [0u8; 4096];
        self.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        while std::time::Instant::now() < deadline {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }
}

/// GET `url` (absolute form) on a fresh connection with `Connection: close`.
pub fn get(proxy: SocketAddr, url: &str) -> Reply {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    open(proxy).request(&format!(
        "GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    ))
}
