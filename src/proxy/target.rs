//! Where a request goes and through what: the target (scheme, host, port), a `--resolve`
//! rule, an upstream proxy. Plain values, shared by the dialer and the route.

use std::net::SocketAddr;

/// Where a request goes: scheme, host name (as the client named it) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Target {
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `--resolve HOST[:PORT]=IP:PORT`: connect there instead of resolving HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    pub host: String,
    pub port: Option<u16>,
    pub addr: SocketAddr,
}

/// `--connect-to HOST1:PORT1:HOST2:PORT2`, with curl's meaning: a connection for HOST1:PORT1
/// goes to HOST2:PORT2 (resolved as any host is, `--resolve` included), while the request's
/// Host and the TLS server name stay HOST1. `None` matches any host or port, or on the right
/// keeps the original one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub to_host: Option<String>,
    pub to_port: Option<u16>,
}

impl ConnectTo {
    /// Where a connection to `target` goes instead, if this rule matches it.
    pub fn apply(&self, target: &Target) -> Option<Target> {
        let host_matches = self
            .host
            .as_deref()
            .is_none_or(|h| h.eq_ignore_ascii_case(&target.host));
        if !host_matches || self.port.is_some_and(|p| p != target.port) {
            return None;
        }
        Some(Target {
            https: target.https,
            host: self.to_host.clone().unwrap_or_else(|| target.host.clone()),
            port: self.to_port.unwrap_or(target.port),
        })
    }
}

/// `--upstream-proxy http://[user:pass@]host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    pub host: String,
    pub port: u16,
    /// Ready-made `Proxy-Authorization` value.
    pub authorization: Option<String>,
    /// The user name of the credentials, for start-up lines (the password is never shown).
    pub user: Option<String>,
}

impl UpstreamProxy {
    /// The proxy as shown to users: never with its credentials.
    pub fn display(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// As `display`, saying that credentials are set the way every output redacts a URL's
    /// userinfo (`crate::redact`): `http://REDACTED@host:port`.
    pub fn display_masked(&self) -> String {
        if self.user.is_none() && self.authorization.is_none() {
            return self.display();
        }
        let userinfo = crate::redact::REDACTED;
        format!("http://{userinfo}@{}:{}", self.host, self.port)
    }
}
