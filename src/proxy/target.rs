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

    fn default_port(&self) -> bool {
        self.port == if self.https { 443 } else { 80 }
    }

    /// The Host a request to this target carries: the name (an IPv6 literal in brackets),
    /// with `:port` unless the port is the scheme's default. Built without `format!`, which
    /// costs about 1 k instructions on every request.
    pub fn host_header(&self) -> String {
        let mut port = itoa::Buffer::new();
        let port = port.format(self.port);
        let mut out = String::with_capacity(self.host.len() + port.len() + 3);
        let v6 = self.host.contains(':');
        if v6 {
            out.push('[');
        }
        out.push_str(&self.host);
        if v6 {
            out.push(']');
        }
        if !self.default_port() {
            out.push(':');
            out.push_str(port);
        }
        out
    }

    /// Whether `value` is byte for byte the Host that `host_header` builds: then a request
    /// may keep its own.
    pub fn is_host_header(&self, value: &[u8]) -> bool {
        let name = self.host.as_bytes();
        let rest = if self.host.contains(':') {
            value
                .strip_prefix(b"[")
                .and_then(|v| v.strip_prefix(name))
                .and_then(|v| v.strip_prefix(b"]"))
        } else {
            value.strip_prefix(name)
        };
        match rest {
            Some([]) => self.default_port(),
            Some([b':', digits @ ..]) if !self.default_port() => {
                let mut port = itoa::Buffer::new();
                digits == port.format(self.port).as_bytes()
            }
            _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(https: bool, host: &str, port: u16) -> Target {
        Target {
            https,
            host: host.into(),
            port,
        }
    }

    #[test]
    fn the_host_header_leaves_out_the_default_port_and_brackets_ipv6() {
        assert_eq!(
            t(true, "proxy.golang.org", 443).host_header(),
            "proxy.golang.org"
        );
        assert_eq!(t(false, "example.test", 80).host_header(), "example.test");
        assert_eq!(t(true, "example.test", 80).host_header(), "example.test:80");
        assert_eq!(
            t(false, "example.test", 443).host_header(),
            "example.test:443"
        );
        assert_eq!(t(true, "::1", 8443).host_header(), "[::1]:8443");
        assert_eq!(t(true, "::1", 443).host_header(), "[::1]");
        assert_eq!(t(true, "h.test", 65535).host_header(), "h.test:65535");
    }

    #[test]
    fn only_the_exact_spelling_of_the_host_header_is_kept() {
        let cases = [
            t(true, "proxy.golang.org", 443),
            t(false, "example.test", 80),
            t(true, "example.test", 8443),
            t(true, "::1", 8443),
            t(true, "::1", 443),
            t(false, "127.0.0.1", 1),
        ];
        for target in &cases {
            let built = target.host_header();
            assert!(target.is_host_header(built.as_bytes()), "{built}");
            let near = [
                format!("{built}:"),
                format!("{built}0"),
                format!("{built}."),
                format!("x{built}"),
                built[..built.len() - 1].to_string(),
                built.to_uppercase(),
                format!("{}:{}", built, target.port),
                format!("{}:0{}", target.host, target.port),
                target.host.clone() + "@evil.test",
                String::new(),
            ];
            for value in near {
                if value != built {
                    assert!(
                        !target.is_host_header(value.as_bytes()),
                        "{target:?} {value:?}"
                    );
                }
            }
        }
        // The default port spelled out is a valid Host, but not the one gomitm builds.
        assert!(!t(true, "h.test", 443).is_host_header(b"h.test:443"));
        assert!(!t(true, "::1", 8443).is_host_header(b"::1:8443"));
    }
}
