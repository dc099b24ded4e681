//! Opening upstream connections with each phase timed: dns, connect, upstream-proxy CONNECT,
//! TLS. Applies `--connect-to` and `--resolve` overrides, extra roots, `--insecure-upstream`, `--upstream-proxy`.
//!
//! Returns a raw byte stream plus what was measured; it knows nothing of HTTP above that, of
//! pooling, or of flows.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::error::{describe_tls_error, ProxyError};
use super::own_addr::{self, literal_addresses};
use super::record::{alpn_name, kx_group_name, ms_since, tls_version_name};
use super::route::ProxyRoute;
pub use super::target::{ConnectTo, ResolveRule, Target, UpstreamProxy};
use crate::flow::Label;

pub trait AsyncIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncIo for T {}
pub type BoxIo = Box<dyn AsyncIo>;

#[derive(Debug, Clone)]
pub struct DialConfig {
    pub resolve: Vec<ResolveRule>,
    /// Tried in order before `resolve`; the first match wins, as in curl.
    pub connect_to: Vec<ConnectTo>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub insecure: bool,
    /// Which connections go through an upstream proxy (none by default).
    pub proxy: ProxyRoute,
    pub connect_timeout: Duration,
}

/// What dialing measured. `None` phases did not happen (an override skips dns).
#[derive(Debug, Clone, Default)]
pub struct DialInfo {
    pub server_addr: Option<SocketAddr>,
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub tls_version: Option<Label>,
    pub alpn: Option<Label>,
    /// The key-exchange group negotiated (https only).
    pub tls_group: Option<Label>,
    pub via_proxy: Option<String>,
    /// The upstream's certificate chain, summarised (https only).
    pub server_cert: Option<Arc<crate::flow::CertSummary>>,
}

/// What to offer the upstream by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    /// `h2` and `http/1.1`: for h2 clients, as the go command is.
    H2OrHttp1,
    /// `http/1.1` alone: an HTTP/1.1 client's request goes upstream as HTTP/1.1, as the client
    /// would have sent it without gomitm. A server that speaks only h2 refuses that offer; the
    /// dial then retries once offering both.
    Http1,
}

pub struct Dialer {
    cfg: DialConfig,
    tls: Arc<ClientConfig>,
    tls_h1: Arc<ClientConfig>,
    /// gomitm's own listening address: no dial may reach it (a proxy loop).
    own: Option<SocketAddr>,
}

impl Dialer {
    pub fn new(cfg: DialConfig) -> Result<Dialer, ProxyError> {
        let tls = client_tls_config(&cfg)?;
        let mut tls_h1 = tls.clone();
        tls_h1.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Dialer {
            cfg,
            tls: Arc::new(tls),
            tls_h1: Arc::new(tls_h1),
            own: None,
        })
    }

    /// Refuse every dial whose resolved address reaches `listen`, gomitm's own socket: each
    /// lap of a loop would be a new connection to gomitm, until its limits run out.
    pub fn refusing_loops_to(mut self, listen: SocketAddr) -> Dialer {
        self.own = Some(listen);
        self
    }

    pub fn config(&self) -> &DialConfig {
        &self.cfg
    }

    /// The loop a dial to `target` would make, as far as it is known without DNS: the target
    /// as spelled (an IP literal in any form, a `localhost` name; checked through an upstream
    /// proxy too, which may run on this host), its `--resolve` rule when dialled directly,
    /// and the upstream proxy's own address. Lets a CONNECT be refused before its 200; the
    /// dial itself checks the resolved addresses again, DNS answers included.
    pub fn loop_without_dns(&self, target: &Target) -> Option<ProxyError> {
        let own = self.own?;
        let spelled = literal_addresses(&target.host, target.port).unwrap_or_default();
        if let Some(addr) = spelled.into_iter().find(|a| own_addr::reaches(own, *a)) {
            return Some(loop_error(target, None, addr, own));
        }
        let via = self.cfg.proxy.for_target(target, false);
        let dest = self.connect_target(target);
        let (host, port) = match via {
            Some(p) => (p.host.as_str(), p.port),
            None => (dest.host.as_str(), dest.port),
        };
        let known = match self.rule_for(host, port) {
            Some(rule) => vec![rule.addr],
            None => literal_addresses(host, port).unwrap_or_default(),
        };
        let addr = known.into_iter().find(|a| own_addr::reaches(own, *a))?;
        Some(loop_error(target, via, addr, own))
    }

    /// Where a connection for `target` goes: the first `--connect-to` rule that matches it,
    /// else the target itself. Host header and TLS server name keep using `target`.
    fn connect_target(&self, target: &Target) -> Target {
        self.cfg
            .connect_to
            .iter()
            .find_map(|rule| rule.apply(target))
            .unwrap_or_else(|| target.clone())
    }

    fn rule_for(&self, host: &str, port: u16) -> Option<&ResolveRule> {
        self.cfg
            .resolve
            .iter()
            .find(|r| r.host.eq_ignore_ascii_case(host) && r.port.is_none_or(|p| p == port))
    }

    /// Open a byte stream to `target`: through the upstream proxy when configured, with TLS
    /// when the target is https (unless `tls` is false: blind tunnels carry the client's TLS).
    pub async fn dial(&self, target: &Target, tls: bool) -> Result<(BoxIo, DialInfo), ProxyError> {
        self.dial_offering(target, tls, Alpn::H2OrHttp1, &mut false)
            .await
    }

    /// An HTTP connection to `target`, offering `alpn` when it is https.
    pub async fn dial_http(
        &self,
        target: &Target,
        alpn: Alpn,
    ) -> Result<(BoxIo, DialInfo), ProxyError> {
        let mut refused_alpn = false;
        match self
            .dial_offering(target, true, alpn, &mut refused_alpn)
            .await
        {
            Err(_) if refused_alpn && alpn == Alpn::Http1 => {
                self.dial_offering(target, true, Alpn::H2OrHttp1, &mut false)
                    .await
            }
            other => other,
        }
    }

    async fn dial_offering(
        &self,
        target: &Target,
        tls: bool,
        alpn: Alpn,
        refused_alpn: &mut bool,
    ) -> Result<(BoxIo, DialInfo), ProxyError> {
        let mut info = DialInfo::default();
        // NO_PROXY is matched against the name the client asked for; through an upstream
        // proxy, `--connect-to` changes the CONNECT's target (as curl does).
        let via = self.cfg.proxy.for_target(target, !tls);
        let dest = self.connect_target(target);
        let (tcp_host, tcp_port) = match via {
            Some(p) => (p.host.clone(), p.port),
            None => (dest.host.clone(), dest.port),
        };
        let addrs = self.resolve(&tcp_host, tcp_port, &mut info).await;
        // Decided on the resolved addresses, however the host was spelled: `127.1`,
        // `0x7f000001`, a name DNS or `--resolve` maps here all end as the same address.
        if let (Ok(addrs), Some(own)) = (&addrs, self.own) {
            if let Some(addr) = addrs.iter().find(|a| own_addr::reaches(own, **a)) {
                return Err(loop_error(target, via, *addr, own));
            }
        }
        let reached = match addrs {
            Ok(addrs) => self.connect(&addrs, &mut info).await,
            Err(e) => Err(e),
        };
        // A dead upstream proxy is the proxy's failure, not the target's.
        let mut tcp = match (reached, via) {
            (Ok(tcp), _) => tcp,
            (Err(e), Some(proxy)) => {
                return Err(ProxyError::UpstreamProxy {
                    proxy: proxy.display(),
                    target: target.authority(),
                    reason: format!("cannot reach the upstream proxy: {e}"),
                })
            }
            (Err(e), None) => return Err(e),
        };
        if let Some(proxy) = via {
            info.via_proxy = Some(proxy.display());
            // Plain http goes to the proxy in absolute form; everything else is tunnelled.
            if target.https || !tls {
                // The tunnel through the upstream proxy is part of connecting.
                let start = Instant::now();
                proxy_connect(&mut tcp, proxy, &dest, self.cfg.connect_timeout).await?;
                info.connect_ms = info.connect_ms.map(|c| c + ms_since(start));
            }
        }
        if !(tls && target.https) {
            return Ok((Box::new(tcp), info));
        }
        let stream = self
            .handshake(tcp, target, alpn, &mut info)
            .await
            .map_err(|(e, alpn)| {
                *refused_alpn = alpn;
                e
            })?;
        Ok((stream, info))
    }

    async fn resolve(
        &self,
        host: &str,
        port: u16,
        info: &mut DialInfo,
    ) -> Result<Vec<SocketAddr>, ProxyError> {
        if let Some(rule) = self.rule_for(host, port) {
            return Ok(vec![rule.addr]);
        }
        // Numeric hosts as the system resolver reads them (`127.1` too), without a lookup.
        if let Some(ip) = own_addr::parse_ip_loose(host) {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let start = Instant::now();
        let looked_up = tokio::time::timeout(
            self.cfg.connect_timeout,
            tokio::net::lookup_host((host, port)),
        )
        .await;
        info.dns_ms = Some(ms_since(start));
        let dns_err = |reason: String| ProxyError::Dns {
            host: host.to_string(),
            reason,
        };
        let addrs: Vec<SocketAddr> = match looked_up {
            Err(_) => return Err(dns_err("lookup timed out".into())),
            Ok(Err(e)) => return Err(dns_err(describe_dns_error(&e))),
            Ok(Ok(addrs)) => addrs.collect(),
        };
        if addrs.is_empty() {
            return Err(dns_err("no such host (no addresses)".into()));
        }
        Ok(addrs)
    }

    async fn connect(
        &self,
        addrs: &[SocketAddr],
        info: &mut DialInfo,
    ) -> Result<TcpStream, ProxyError> {
        let start = Instant::now();
        let mut last = None;
        for addr in addrs {
            let attempt = tokio::time::timeout(self.cfg.connect_timeout, TcpStream::connect(addr));
            match attempt.await {
                Ok(Ok(tcp)) => {
                    let _ = tcp.set_nodelay(true);
                    info.connect_ms = Some(ms_since(start));
                    info.server_addr = Some(*addr);
                    return Ok(tcp);
                }
                Ok(Err(e)) => {
                    last = Some(ProxyError::Connect {
                        addr: addr.to_string(),
                        reason: describe_io_error(&e),
                    })
                }
                Err(_) => {
                    last = Some(ProxyError::ConnectTimeout {
                        addr: addr.to_string(),
                        after: self.cfg.connect_timeout,
                    })
                }
            }
        }
        info.connect_ms = Some(ms_since(start));
        Err(last.unwrap_or_else(|| ProxyError::Connect {
            addr: String::new(),
            reason: "no address to connect to".into(),
        }))
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
        target: &Target,
        alpn: Alpn,
        info: &mut DialInfo,
    ) -> Result<BoxIo, (ProxyError, bool)> {
        let tls_err = |reason: String| {
            let e = ProxyError::UpstreamTls {
                host: target.host.clone(),
                reason,
            };
            (e, false)
        };
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| tls_err(format!("invalid server name: {e}")))?;
        let config = match alpn {
            Alpn::H2OrHttp1 => &self.tls,
            Alpn::Http1 => &self.tls_h1,
        };
        let connector = tokio_rustls::TlsConnector::from(config.clone());
        let start = Instant::now();
        let handshake =
            tokio::time::timeout(self.cfg.connect_timeout, connector.connect(name, tcp)).await;
        info.tls_ms = Some(ms_since(start));
        let stream = match handshake {
            Err(_) => return Err(tls_err("handshake timed out".into())),
            Ok(Err(e)) if refused_alpn(&e) => {
                return Err((tls_err(describe_tls_io_error(&e)).0, true));
            }
            Ok(Err(e)) => return Err(tls_err(describe_tls_io_error(&e))),
            Ok(Ok(s)) => s,
        };
        let (_, conn) = stream.get_ref();
        info.tls_version = conn.protocol_version().map(tls_version_name);
        info.alpn = conn.alpn_protocol().map(alpn_name);
        info.tls_group = conn
            .negotiated_key_exchange_group()
            .map(|g| kx_group_name(g.name()));
        info.server_cert = conn
            .peer_certificates()
            .and_then(crate::certinfo::summarize_chain)
            .map(Arc::new);
        Ok(Box::new(stream))
    }
}

/// The refusal of a dial that would reach gomitm's own socket `own` at `addr`.
fn loop_error(
    target: &Target,
    via: Option<&UpstreamProxy>,
    addr: SocketAddr,
    own: SocketAddr,
) -> ProxyError {
    let what = match via {
        Some(p) => format!(
            "{} (the upstream proxy for {})",
            p.display(),
            target.authority()
        ),
        None => target.authority(),
    };
    ProxyError::Refused(format!(
        "{what} is gomitm itself (a proxy loop): {addr} reaches gomitm's {own}"
    ))
}

/// Ask the upstream proxy for a tunnel; anything but a 2xx is an `UpstreamProxy` error.
async fn proxy_connect(
    tcp: &mut TcpStream,
    proxy: &UpstreamProxy,
    target: &Target,
    timeout: Duration,
) -> Result<(), ProxyError> {
    let fail = |reason: String| ProxyError::UpstreamProxy {
        proxy: proxy.display(),
        target: target.authority(),
        reason,
    };
    let mut head = format!("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n", target.authority());
    if let Some(auth) = &proxy.authorization {
        head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    let exchange = async {
        tcp.write_all(head.as_bytes()).await?;
        read_connect_reply(tcp).await
    };
    let status_line = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(fail(format!("no answer within {timeout:?}"))),
        Ok(Err(e)) => return Err(fail(describe_io_error(&e))),
        Ok(Ok(line)) => line,
    };
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code.starts_with('2') {
        Ok(())
    } else {
        Err(fail(format!("answered {status_line:?}")))
    }
}

/// Read the proxy's reply head byte-exactly (no read-ahead: the tunnel starts right after).
async fn read_connect_reply(tcp: &mut TcpStream) -> std::io::Result<String> {
    let mut reader = BufReader::with_capacity(1, tcp);
    let mut status = String::new();
    let mut line = String::new();
    let mut total = 0usize;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).await?;
        total += n;
        if n == 0 || total > 16 * 1024 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "malformed or oversized CONNECT reply",
            ));
        }
        if status.is_empty() {
            status = line.trim_end().to_string();
        } else if line == "\r\n" || line == "\n" {
            return Ok(status);
        }
    }
}

fn client_tls_config(cfg: &DialConfig) -> Result<ClientConfig, ProxyError> {
    let provider = crate::ca::tls_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::UpstreamTls {
            host: "(configuration)".into(),
            reason: e.to_string(),
        })?;
    let mut config = if cfg.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        roots.add_parsable_certificates(cfg.extra_roots.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// `--insecure-upstream`: accept any certificate, still checking handshake signatures.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn describe_dns_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("not known") || lower.contains("no address") || lower.contains("not found") {
        format!("no such host ({text})")
    } else {
        text
    }
}

pub fn describe_io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset by peer".into(),
        K::TimedOut => "timed out".into(),
        K::UnexpectedEof => "unexpected EOF".into(),
        _ => e.to_string(),
    }
}

/// TLS failures arrive as io errors wrapping a rustls error; unwrap it for a precise reason.
/// The server found nothing it speaks in our ALPN offer (`no_application_protocol`).
fn refused_alpn(e: &std::io::Error) -> bool {
    matches!(
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::NoApplicationProtocol
        ))
    )
}

pub fn describe_tls_io_error(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => describe_tls_error(tls),
        None => describe_io_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialer(resolve: Vec<ResolveRule>) -> Dialer {
        Dialer::new(DialConfig {
            resolve,
            connect_to: vec![],
            extra_roots: vec![],
            insecure: false,
            proxy: Default::default(),
            connect_timeout: Duration::from_secs(2),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn resolve_override_skips_dns_and_matches_port_when_given() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let d = dialer(vec![ResolveRule {
            host: "goproxy.test".into(),
            port: Some(443),
            addr,
        }]);
        let mut info = DialInfo::default();
        assert_eq!(
            d.resolve("GOPROXY.test", 443, &mut info).await.unwrap(),
            vec![addr]
        );
        assert_eq!(info.dns_ms, None, "an override is not a dns lookup");
        let other = d.resolve("goproxy.test", 80, &mut info).await;
        assert!(other.is_err() || other.unwrap() != vec![addr]);
    }

    #[tokio::test]
    async fn connect_to_dials_the_other_address_and_then_applies_resolve() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let there = listener.local_addr().unwrap();
        let mut d = dialer(vec![ResolveRule {
            host: "backend.test".into(),
            port: None,
            addr: there,
        }]);
        d.cfg.connect_to = vec![
            ConnectTo {
                host: Some("other.test".into()),
                port: None,
                to_host: Some("nosuch.invalid".into()),
                to_port: None,
            },
            ConnectTo {
                host: Some("front.test".into()),
                port: Some(80),
                to_host: Some("backend.test".into()),
                to_port: Some(there.port()),
            },
        ];
        let target = Target {
            https: false,
            host: "FRONT.test".into(),
            port: 80,
        };
        let (_, info) = d.dial(&target, false).await.unwrap();
        assert_eq!(info.server_addr, Some(there));
        // Another port of the same host is not matched: it goes where it would have gone.
        let other_port = Target { port: 81, ..target };
        assert_eq!(d.connect_target(&other_port), other_port);
    }

    #[test]
    fn connect_to_empty_fields_mean_any_and_unchanged() {
        let rule = ConnectTo {
            host: None,
            port: Some(443),
            to_host: None,
            to_port: Some(8443),
        };
        let t = Target {
            https: true,
            host: "a.test".into(),
            port: 443,
        };
        let moved = rule.apply(&t).unwrap();
        assert_eq!((moved.host.as_str(), moved.port), ("a.test", 8443));
        assert!(rule.apply(&Target { port: 80, ..t }).is_none());
    }

    #[tokio::test]
    async fn refused_port_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let d = dialer(vec![]);
        let target = Target {
            https: false,
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        let err = d.dial(&target, false).await.err().unwrap();
        assert!(
            matches!(&err, ProxyError::Connect { reason, .. } if reason == "connection refused"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unknown_host_is_a_dns_error() {
        let d = dialer(vec![]);
        let target = Target {
            https: true,
            host: "nosuch.invalid".into(),
            port: 443,
        };
        let err = d.dial(&target, true).await.err().unwrap();
        assert!(matches!(err, ProxyError::Dns { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_dial_resolving_to_gomitm_itself_is_refused_before_connecting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let own = listener.local_addr().unwrap();
        let d = dialer(vec![ResolveRule {
            host: "loop.test".into(),
            port: None,
            addr: own,
        }])
        .refusing_loops_to(own);
        // `localhost` and `loop.test` go through the resolver (/etc/hosts, --resolve); the
        // numeric forms are read as the system resolver reads them.
        for host in [
            "localhost",
            "loop.test",
            "2130706433",
            "0x7f.1",
            "127.000.000.001",
        ] {
            let target = Target {
                https: false,
                host: host.into(),
                port: own.port(),
            };
            let err = d.dial(&target, false).await.err().unwrap();
            assert!(matches!(err, ProxyError::Refused(_)), "{host}: {err}");
            assert!(err.to_string().contains("a proxy loop"), "{err}");
        }
        assert!(listener.accept().is_err(), "nothing may reach the socket");
        let other = Target {
            https: false,
            host: "127.0.0.1".into(),
            port: own.port().wrapping_add(1).max(1),
        };
        assert!(d.loop_without_dns(&other).is_none());
        let numeric = Target {
            https: true,
            host: "0177.0.0.1".into(),
            port: own.port(),
        };
        assert!(d.loop_without_dns(&numeric).is_some());
        let by_rule = Target {
            https: true,
            host: "LOOP.test".into(),
            port: own.port() ^ 1,
        };
        assert!(
            d.loop_without_dns(&by_rule).is_some(),
            "the rule maps any port"
        );
    }

    #[test]
    fn target_authority_brackets_ipv6() {
        let t = Target {
            https: true,
            host: "::1".into(),
            port: 8443,
        };
        assert_eq!(t.authority(), "[::1]:8443");
    }
}
