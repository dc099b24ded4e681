//! The context every connection task shares (`Ctx`: store, rules, upstream, CA, options),
//! the limits on a client's request head, and gomitm's own address: what a loop back to it
//! looks like.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::auth::ProxyAuth;
use super::dial::Target;
use super::limits::{ClientLimits, Permit};
use super::live_rules::LiveRules;
use super::upstream::Upstream;
use crate::ca::CertAuthority;
use crate::store::Store;

/// Limit on a client's request head (line + headers); beyond it hyper answers 431.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Limit on the number of header fields in a request head; beyond it hyper answers 431.
/// The go command and git send about ten.
pub(crate) const MAX_HEADERS: usize = 100;

/// A client connection's place in the per-address count. Shared by the connection and the
/// tunnel a CONNECT upgrades it to, so a tunnel keeps counting until it closes.
pub(crate) type ConnSlot = Arc<Permit>;

#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub max_body_capture: usize,
    /// Bound on waiting for a response head and on silence mid-body.
    pub upstream_timeout: Option<Duration>,
    /// Module paths that must not reach public proxies or checksum databases.
    pub private: crate::go::private::PrivatePatterns,
    /// Append gomitm's diagnosis to upstream 4xx text/plain responses (`--annotate`).
    pub annotate: bool,
    /// Header read timeout and connections per client.
    pub limits: ClientLimits,
    /// The go release of `gomitm run`'s command, for fixes that depend on it.
    pub go_version: Option<crate::go::goversion::GoVersion>,
}

/// Everything a connection task needs, shared.
pub struct Ctx {
    pub store: Arc<Store>,
    /// The rules in force (file + quick forms), swapped on reload.
    pub rules: Arc<LiveRules>,
    pub upstream: Arc<Upstream>,
    pub ca: Arc<CertAuthority>,
    pub opts: ProxyOptions,
    /// The address gomitm listens on, to refuse requests that would loop back to it.
    pub listen_addr: SocketAddr,
    /// The trust bundle (system roots + gomitm CA) in the CA directory, named by diagnoses.
    pub bundle: std::path::PathBuf,
    /// `--proxy-auth`: credentials every proxy request and CONNECT must carry.
    pub auth: Option<ProxyAuth>,
}

impl Ctx {
    /// Whether sending to `target` would reach gomitm itself: by its address, by `localhost`,
    /// or by a `--resolve` rule that maps the name to it (the dialer follows the same rule).
    pub(crate) fn is_own_address(&self, target: &Target) -> bool {
        let cfg = self.upstream.dialer().config();
        // Through an upstream proxy the name is the proxy's business, not a dial of ours.
        if cfg.proxy.for_target(target, false).is_none() {
            let rule = cfg.resolve.iter().find(|r| {
                r.host.eq_ignore_ascii_case(&target.host) && r.port.is_none_or(|p| p == target.port)
            });
            if let Some(rule) = rule {
                return reaches(self.listen_addr, rule.addr.ip(), rule.addr.port());
            }
        }
        is_own_address(self.listen_addr, &target.host, target.port)
    }
}

/// Whether `host:port` names the socket gomitm listens on (`listen`), without DNS: an IP
/// literal (IPv4-mapped IPv6 included), `localhost` or a `*.localhost` name (RFC 6761).
pub fn is_own_address(listen: SocketAddr, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => reaches(listen, ip, port),
        Err(_) => {
            let lower = host.to_ascii_lowercase();
            (lower == "localhost" || lower.ends_with(".localhost"))
                && port == listen.port()
                && (listen.ip().is_loopback() || listen.ip().is_unspecified())
        }
    }
}

fn reaches(listen: SocketAddr, ip: std::net::IpAddr, port: u16) -> bool {
    let ip = ip.to_canonical();
    port == listen.port()
        && (ip == listen.ip().to_canonical()
            || (listen.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_by_ip_localhost_and_mapped_forms() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        for (host, port) in [
            ("127.0.0.1", 8080),
            ("localhost", 8080),
            ("LOCALHOST.", 8080),
            ("gomitm.localhost", 8080),
            ("::ffff:127.0.0.1", 8080),
            ("[::ffff:127.0.0.1]", 8080),
        ] {
            assert!(is_own_address(listen, host, port), "{host}:{port}");
        }
        for (host, port) in [
            ("127.0.0.1", 8081),
            ("127.0.0.2", 8080),
            ("localhost", 443),
            ("::1", 8080),
            ("example.test", 8080),
            ("localhost.example", 8080),
        ] {
            assert!(!is_own_address(listen, host, port), "{host}:{port}");
        }
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        for host in ["127.0.0.1", "127.9.9.9", "localhost", "0.0.0.0"] {
            assert!(is_own_address(any, host, 8080), "{host} on 0.0.0.0");
        }
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(is_own_address(v6, "::1", 8080));
        assert!(is_own_address(v6, "localhost", 8080));
    }
}
