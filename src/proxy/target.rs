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

    /// As `display`, naming the user with the password masked: `http://u:***@host:port`.
    pub fn display_masked(&self) -> String {
        match (&self.user, &self.authorization) {
            (Some(u), _) => format!("http://{u}:***@{}:{}", self.host, self.port),
            (None, Some(_)) => format!("http://***@{}:{}", self.host, self.port),
            (None, None) => self.display(),
        }
    }
}
