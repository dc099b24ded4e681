//! The context every connection task shares (`Ctx`: store, rules, upstream, CA, options),
//! the limits on a client's request head, and gomitm's own address: what a loop back to it
//! looks like.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::auth::ProxyAuth;
use super::dial::Target;
use super::error::ProxyError;
use super::limits::{ClientLimits, Permit};
use super::live_rules::LiveRules;
use super::own_addr::{literal_addresses, reaches};
use super::upstream::Upstream;
use crate::ca::CertAuthority;
use crate::store::Store;

/// Limit on a client's request head (line + headers); beyond it hyper answers 431.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

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
    /// `gomitm serve` / `--serve`: a recording answers instead of any upstream.
    pub serve: Option<Arc<super::recording::Recording>>,
}

impl Ctx {
    /// The refusal for a request to `target` when it would reach gomitm itself, as far as
    /// that is known without DNS (see `Dialer::loop_without_dns`); the dial checks the
    /// resolved addresses again.
    pub(crate) fn loop_refusal(&self, target: &Target) -> Option<ProxyError> {
        self.upstream.dialer().loop_without_dns(target)
    }
}

/// Whether `host:port` names the socket gomitm listens on (`listen`), without DNS: an IP
/// literal in any form the system resolver reads (IPv4-mapped IPv6 and `127.1` included),
/// `localhost` or a `*.localhost` name (RFC 6761).
pub fn is_own_address(listen: SocketAddr, host: &str, port: u16) -> bool {
    literal_addresses(host, port)
        .unwrap_or_default()
        .into_iter()
        .any(|a| reaches(listen, a))
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
            // Erring on refusing: another loopback address at gomitm's port.
            ("127.0.0.2", 8080),
            ("::1", 8080),
            ("127.1", 8080),
            ("0x7f000001", 8080),
            ("0177.0.0.1", 8080),
            ("[::]", 8080),
        ] {
            assert!(is_own_address(listen, host, port), "{host}:{port}");
        }
        for (host, port) in [
            ("127.0.0.1", 8081),
            ("localhost", 443),
            ("192.0.2.1", 8080),
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
