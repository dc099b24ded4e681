//! Which upstream proxy (if any) each upstream connection goes through: `--upstream-proxy URL`
//! for every target, or the proxy environment gomitm inherited (`--upstream-proxy env`, the
//! default of `gomitm run`, which replaces HTTPS_PROXY/HTTP_PROXY for its child and so must
//! go where the child would have gone).
//!
//! The environment rules are Go's (`golang.org/x/net/http/httpproxy`): upper case first, the
//! first non-empty value wins, HTTPS_PROXY for https and HTTP_PROXY for http, NO_PROXY
//! exceptions, loopback never proxied. One addition: ALL_PROXY is the fallback for either
//! scheme, as curl (so git) reads it; go ignores it. Pure: the caller passes the variables.

use std::net::IpAddr;

use super::dial::{Target, UpstreamProxy};

/// The proxy variables gomitm found, before parsing: `(variable name, value)` per scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvProxies {
    pub https: Option<(&'static str, String)>,
    pub http: Option<(&'static str, String)>,
    pub no_proxy: Option<String>,
}

impl EnvProxies {
    /// Read them through `get` (`std::env::var` in the binary, a table in tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> EnvProxies {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*n, v))
            })
        };
        let all = first(&["ALL_PROXY", "all_proxy"]);
        EnvProxies {
            https: first(&["HTTPS_PROXY", "https_proxy"]).or_else(|| all.clone()),
            http: first(&["HTTP_PROXY", "http_proxy"]).or(all),
            no_proxy: first(&["NO_PROXY", "no_proxy"]).map(|(_, v)| v),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }
}

/// Where upstream connections go; the default is straight to the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyRoute {
    /// For https targets and blind tunnels (CONNECT through the proxy).
    pub https: Option<UpstreamProxy>,
    /// For plain http targets (absolute-form requests to the proxy).
    pub http: Option<UpstreamProxy>,
    /// Targets this NO_PROXY list matches go direct.
    pub no_proxy: Option<String>,
    /// localhost and loopback IPs go direct, as go's own client does (environment only:
    /// an explicit `--upstream-proxy` takes everything).
    pub direct_loopback: bool,
}

impl ProxyRoute {
    /// `--upstream-proxy URL`: every connection, no exceptions.
    pub fn all(proxy: UpstreamProxy) -> ProxyRoute {
        ProxyRoute {
            https: Some(proxy.clone()),
            http: Some(proxy),
            no_proxy: None,
            direct_loopback: false,
        }
    }

    pub fn is_direct(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The proxy a connection to `target` goes through; `tunnel` is a CONNECT of raw bytes,
    /// which needs a tunnel whatever the scheme.
    pub fn for_target(&self, target: &Target, tunnel: bool) -> Option<&UpstreamProxy> {
        let proxy = if target.https || tunnel {
            self.https.as_ref()
        } else {
            self.http.as_ref()
        }?;
        if self.direct_loopback && is_loopback(&target.host) {
            return None;
        }
        if let Some(list) = &self.no_proxy {
            if no_proxy_matches_port(list, &target.host, Some(target.port)) {
                return None;
            }
        }
        Some(proxy)
    }

    /// Every distinct proxy of the route.
    pub fn proxies(&self) -> Vec<&UpstreamProxy> {
        let mut out: Vec<&UpstreamProxy> = self.https.iter().collect();
        if let Some(h) = &self.http {
            if self.https.as_ref() != Some(h) {
                out.push(h);
            }
        }
        out
    }
}

/// The route for the inherited environment, and what to say about it at start-up (the
/// password never shown). Values that are not `http://` proxies cannot be chained through:
/// they are named in a warning and those connections go direct.
pub fn route_from_env(
    env: &EnvProxies,
    parse: impl Fn(&str) -> Result<UpstreamProxy, String>,
) -> (ProxyRoute, Vec<String>) {
    let mut lines = Vec::new();
    let mut pick = |chosen: &Option<(&'static str, String)>, scheme: &str| {
        let (name, value) = chosen.as_ref()?;
        match parse(value) {
            Ok(p) => {
                lines.push(format!(
                    "gomitm: upstream proxy {} (from {name}) for {scheme}",
                    p.display_masked()
                ));
                Some(p)
            }
            Err(e) => {
                lines.push(format!(
                    "gomitm: warning: {name} is not a proxy gomitm can chain through ({e}); \
                     {scheme} connections go direct"
                ));
                None
            }
        }
    };
    let https = pick(&env.https, "https");
    let http = pick(&env.http, "http");
    let route = ProxyRoute {
        https,
        http,
        no_proxy: env.no_proxy.clone(),
        direct_loopback: true,
    };
    if env.is_empty() {
        lines.push(
            "gomitm: no upstream proxy (none of HTTPS_PROXY, HTTP_PROXY, ALL_PROXY is set): \
             connecting directly"
                .to_string(),
        );
    } else if let (Some(list), false) = (&env.no_proxy, route.is_direct()) {
        lines.push(format!(
            "gomitm: upstream proxy not used for NO_PROXY={list}"
        ));
    }
    (route, lines)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Go's NO_PROXY rules (golang.org/x/net/http/httpproxy), whatever the port: `*` matches all;
/// `foo.com` matches it and its subdomains; `.foo.com` and `*.foo.com` subdomains only; IPs
/// match exactly, CIDR blocks (`10.0.0.0/8`) match the IPs inside.
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    no_proxy_matches_port(no_proxy, host, None)
}

/// As [`no_proxy_matches`]; an entry with a port (`foo.com:8443`) matches only that port
/// when `port` is known.
pub fn no_proxy_matches_port(no_proxy: &str, host: &str, port: Option<u16>) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .any(|entry| entry_matches(&entry, &host, port))
}

fn entry_matches(entry: &str, host: &str, port: Option<u16>) -> bool {
    if entry.is_empty() {
        return false;
    }
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return cidr_contains(net, bits, host);
    }
    let (name, entry_port) = split_entry_port(entry);
    if let (Some(want), Some(got)) = (entry_port, port) {
        if want != got {
            return false;
        }
    }
    if let Some(suffix) = name.strip_prefix("*.").or_else(|| name.strip_prefix('.')) {
        return host.ends_with(&format!(".{suffix}"));
    }
    host == name || host.ends_with(&format!(".{name}"))
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn split_entry_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, after)) => (ip, after.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    if entry.parse::<IpAddr>().is_ok() {
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()),
        None => (entry, None),
    }
}

fn cidr_contains(net: &str, bits: &str, host: &str) -> bool {
    let (Ok(net), Ok(bits), Ok(ip)) = (
        net.parse::<IpAddr>(),
        bits.parse::<u32>(),
        host.parse::<IpAddr>(),
    ) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> EnvProxies {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxies::from_vars(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    fn proxy(host: &str) -> UpstreamProxy {
        UpstreamProxy {
            host: host.into(),
            port: 3128,
            authorization: None,
            user: None,
        }
    }

    fn target(https: bool, host: &str, port: u16) -> Target {
        Target {
            https,
            host: host.into(),
            port,
        }
    }

    #[test]
    fn upper_case_first_and_the_first_non_empty_value_wins() {
        let e = vars(&[("HTTPS_PROXY", "http://a:1"), ("https_proxy", "http://b:1")]);
        assert_eq!(e.https, Some(("HTTPS_PROXY", "http://a:1".into())));
        let e = vars(&[("HTTPS_PROXY", ""), ("https_proxy", "http://b:1")]);
        assert_eq!(e.https, Some(("https_proxy", "http://b:1".into())));
        let e = vars(&[("no_proxy", ".corp"), ("NO_PROXY", " ")]);
        assert_eq!(e.no_proxy.as_deref(), Some(".corp"));
    }

    #[test]
    fn each_scheme_has_its_own_variable_and_all_proxy_is_the_fallback() {
        let e = vars(&[("HTTP_PROXY", "http://h:1")]);
        assert_eq!(e.https, None, "https never falls back to HTTP_PROXY");
        assert_eq!(e.http, Some(("HTTP_PROXY", "http://h:1".into())));
        let e = vars(&[("all_proxy", "http://all:1"), ("HTTPS_PROXY", "http://s:1")]);
        assert_eq!(e.https, Some(("HTTPS_PROXY", "http://s:1".into())));
        assert_eq!(e.http, Some(("all_proxy", "http://all:1".into())));
        assert!(vars(&[("NO_PROXY", "*")]).is_empty());
    }

    #[test]
    fn the_route_follows_scheme_no_proxy_and_loopback() {
        let route = ProxyRoute {
            https: Some(proxy("s")),
            http: Some(proxy("h")),
            no_proxy: Some("internal.test, 10.0.0.0/8, git.test:8443".into()),
            direct_loopback: true,
        };
        let via = |t: &Target, tunnel| route.for_target(t, tunnel).map(|p| p.host.clone());
        assert_eq!(
            via(&target(true, "proxy.golang.org", 443), false).as_deref(),
            Some("s")
        );
        assert_eq!(
            via(&target(false, "example.test", 80), false).as_deref(),
            Some("h")
        );
        assert_eq!(
            via(&target(false, "example.test", 443), true).as_deref(),
            Some("s")
        );
        assert_eq!(via(&target(true, "a.internal.test", 443), false), None);
        assert_eq!(via(&target(true, "10.1.2.3", 443), false), None);
        assert_eq!(via(&target(true, "git.test", 8443), false), None);
        assert_eq!(
            via(&target(true, "git.test", 443), false).as_deref(),
            Some("s")
        );
        assert_eq!(via(&target(true, "localhost", 443), false), None);
        assert_eq!(via(&target(true, "127.0.0.1", 443), false), None);
        let explicit = ProxyRoute::all(proxy("p"));
        assert!(explicit
            .for_target(&target(true, "127.0.0.1", 1), false)
            .is_some());
        assert_eq!(explicit.proxies().len(), 1);
    }

    #[test]
    fn the_start_up_lines_name_the_proxy_and_its_variable_but_never_the_password() {
        let parse = |s: &str| -> Result<UpstreamProxy, String> {
            match s {
                "http://u:secret@corp:3128" => Ok(UpstreamProxy {
                    host: "corp".into(),
                    port: 3128,
                    authorization: Some("Basic x".into()),
                    user: Some("u".into()),
                }),
                _ => Err("only http:// upstream proxies are supported".into()),
            }
        };
        let env = vars(&[
            ("https_proxy", "http://u:secret@corp:3128"),
            ("ALL_PROXY", "socks5://s:1"),
            ("NO_PROXY", ".internal"),
        ]);
        let (route, lines) = route_from_env(&env, parse);
        let text = lines.join("\n");
        assert!(
            text.contains("upstream proxy http://REDACTED@corp:3128 (from https_proxy) for https"),
            "{text}"
        );
        assert!(
            text.contains("ALL_PROXY is not a proxy gomitm can chain"),
            "{text}"
        );
        assert!(text.contains("NO_PROXY=.internal"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(route.https.as_ref().map(|p| p.port), Some(3128));
        assert!(route.http.is_none());
        let (route, lines) = route_from_env(&vars(&[]), parse);
        assert!(route.is_direct());
        assert!(lines[0].contains("no upstream proxy"), "{lines:?}");
    }

    #[test]
    fn no_proxy_follows_gos_rules() {
        for (list, host, hit) in [
            ("*", "proxy.golang.org", true),
            ("golang.org", "proxy.golang.org", true),
            ("golang.org", "golang.org", true),
            (".golang.org", "golang.org", false),
            (".golang.org", "proxy.golang.org", true),
            ("*.golang.org", "proxy.golang.org", true),
            ("corp.example, golang.org:443", "proxy.golang.org", true),
            ("notgolang.org", "proxy.golang.org", false),
            ("olang.org", "proxy.golang.org", false),
            ("", "proxy.golang.org", false),
            ("192.168.0.0/16", "192.168.7.1", true),
            ("192.168.0.0/16", "192.169.7.1", false),
            ("::1", "::1", true),
            ("[::1]:443", "[::1]", true),
        ] {
            assert_eq!(no_proxy_matches(list, host), hit, "{list} vs {host}");
        }
    }
}
