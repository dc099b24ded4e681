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
